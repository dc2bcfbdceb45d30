/*
 * util.c: allocation, error formatting, node-id and time helpers.
 * Key encoding uses libsodium's base64 so that no encoder is written here.
 */
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        abort();
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

char *
xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

int
seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        utf8_mend(err);
    }
    return rc;
}

size_t
utf8_filter(char *s, bool (*refuse)(int32_t cp), char repl)
{
    char *o = s;
    for (const char *p = s; *p;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp);
        if (n <= 0 || (refuse != NULL && refuse(cp))) {
            if (repl != '\0')
                *o++ = repl;
            p += n > 0 ? n : 1;
            continue;
        }
        memmove(o, p, (size_t)n);
        o += n, p += n;
    }
    *o = '\0';
    return (size_t)(o - s);
}

char *
utf8_mend(char *s)
{
    utf8_filter(s, NULL, '\0');
    return s;
}

void
key_to_id(const uint8_t key[32], char out[NODEID_LEN + 1])
{
    sodium_bin2base64(out, NODEID_LEN + 1, key, 32,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
key_from_id(const char *s, uint8_t key[32])
{
    size_t len = 0;
    const char *end = NULL;

    if (strlen(s) != NODEID_LEN)
        return -1;
    if (sodium_base642bin(key, 32, s, NODEID_LEN, NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    return (len == 32 && *end == '\0') ? 0 : -1;
}

void
to_hex(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
format_time(uint64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

uint64_t
mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

size_t
bom_len(const char *s, size_t len)
{
    return (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
}
