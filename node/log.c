/*
 * log.c: timestamped log lines on stderr, one write per line so lines from
 * several processes sharing a terminal do not interleave. Control bytes in
 * a message print as '?'.
 */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool s_verbose;

void
log_init(bool verbose)
{
    s_verbose = verbose;
}

bool
log_verbose(void)
{
    return s_verbose;
}

static void
s_log(const char *level, const char *fmt, va_list ap, const char *suffix)
{
    char line[1024], when[32];
    format_time(now_ms(), when);
    int n = snprintf(line, sizeof(line), "[%d] %s %s ", (int)getpid(), when, level);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    size_t len = m < 0 ? (size_t)n : strnlen(line, sizeof(line) - 1);
    if (suffix != NULL)
        len += (size_t)snprintf(line + len, sizeof(line) - len, ": %s", suffix);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* A message may quote what a peer or a client sent: no control byte
     * reaches the terminal or the file, and a line stays one line. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
    fflush(stderr);
}

#define LOG_BODY(level, suffix)        \
    do {                               \
        va_list ap;                    \
        va_start(ap, fmt);             \
        s_log(level, fmt, ap, suffix); \
        va_end(ap);                    \
    } while (0)

void
log_info(const char *fmt, ...)
{
    LOG_BODY("info", NULL);
}

void
log_debug(const char *fmt, ...)
{
    if (s_verbose)
        LOG_BODY("debug", NULL);
}

void
log_warn(const char *fmt, ...)
{
    const char *e = strerror(errno);
    LOG_BODY("warn", e);
}

void
log_warnx(const char *fmt, ...)
{
    LOG_BODY("warn", NULL);
}

void
fatal(const char *fmt, ...)
{
    const char *e = strerror(errno);
    LOG_BODY("fatal", e);
    exit(1);
}

void
fatalx(const char *fmt, ...)
{
    LOG_BODY("fatal", NULL);
    exit(1);
}
