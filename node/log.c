/*
 * log.c: log lines on stderr, one write per line so lines from several
 * processes sharing a terminal do not interleave. Control and bidi
 * characters in a message, and bytes that are not UTF-8, print as '?'.
 *
 * Two shapes. On a terminal or in a file a line is "[pid] time level
 * message". When stderr is the journal (systemd sets JOURNAL_STREAM to
 * the device and inode of the stream it connected, systemd.exec(5)), a
 * line is "<N>message": journald reads the syslog priority N from the
 * prefix (sd-daemon(3)) and adds the time and pid itself, so that
 * `journalctl -p warning` finds warnings. The variable alone is not
 * enough: a child whose stderr was redirected inherits it, so the stream
 * must be the one it names.
 */
#include "log.h"
#include "entry.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

static bool s_verbose;
static bool s_journal;      /* stderr is the journal: priority prefixes */

/* True when JOURNAL_STREAM names the stream that stderr is. */
static bool
s_stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char end;
    if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(bool verbose)
{
    s_verbose = verbose;
    s_journal = s_stderr_is_journal();
}

bool
log_verbose(void)
{
    return s_verbose;
}

/* prio: SD_ERR, SD_WARNING, SD_INFO or SD_DEBUG, as a string ("<3>"). */
static void
s_log(const char *prio, const char *level, const char *fmt, va_list ap, const char *suffix)
{
    char line[1024], when[32];
    int n;
    if (s_journal) {
        n = snprintf(line, sizeof(line), "%s", prio);
    } else {
        format_time(now_ms(), when);
        n = snprintf(line, sizeof(line), "[%d] %s %s ", (int)getpid(), when, level);
    }
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = m < 0 ? (size_t)n : strnlen(line, sizeof(line) - 1);
    if (suffix != NULL)
        len += (size_t)snprintf(line + len, sizeof(line) - len, ": %s", suffix);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len] = '\0';
    /* A message may quote what a peer or a client sent: every character
     * an entry may not hold (C0, DEL, C1, bidi overrides) and every byte
     * that is not UTF-8 prints as '?', so nothing acts on the terminal, a
     * line stays one line and a file of them is UTF-8. */
    len = utf8_filter(line, entry_char_refused, '?');
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
}

#define LOG_BODY(prio, level, suffix)        \
    do {                                     \
        va_list ap;                          \
        va_start(ap, fmt);                   \
        s_log(prio, level, fmt, ap, suffix); \
        va_end(ap);                          \
    } while (0)

void
log_info(const char *fmt, ...)
{
    LOG_BODY(SD_INFO, "info", NULL);
}

void
log_debug(const char *fmt, ...)
{
    if (s_verbose)
        LOG_BODY(SD_DEBUG, "debug", NULL);
}

void
log_warn(const char *fmt, ...)
{
    const char *e = strerror(errno);
    LOG_BODY(SD_WARNING, "warn", e);
}

void
log_warnx(const char *fmt, ...)
{
    LOG_BODY(SD_WARNING, "warn", NULL);
}

void
fatal(const char *fmt, ...)
{
    const char *e = strerror(errno);
    LOG_BODY(SD_ERR, "fatal", e);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    LOG_BODY(SD_ERR, "fatal", NULL);
    exit(1);
}
