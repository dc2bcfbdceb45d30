/*
 * log.h: the daemon's log. Lines look like "[pid] 2026-11-23T08:58:31.123Z
 * level message" on stderr, or "<6>message" when stderr is the journal
 * (log.c). fatal/fatalx are for start-up only: once the
 * loop runs, a bad peer or request costs that request, never the process.
 */
#ifndef SOCDIR_LOG_H
#define SOCDIR_LOG_H

#include <stdbool.h>

void log_init(bool verbose);
bool log_verbose(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* warn appends strerror(errno); warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
