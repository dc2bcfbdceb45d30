/*
 * util.h: small helpers shared by every socdir program: allocation that
 * aborts on exhaustion, bounded string formatting, printable keys.
 * Nothing here touches sockets or the database.
 */
#ifndef SOCDIR_UTIL_H
#define SOCDIR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* NEVER(X): X is a condition our own code should never produce, but one
 * the caller survives (it takes the branch and goes on). Debug builds
 * (the test suite's) stop there, so a test that reaches it fails; other
 * builds take the branch. In the manner of SQLite's NEVER(). */
#ifdef SOCDIR_DEBUG
#include <assert.h>
#define NEVER(X) ((X) ? (assert(!(#X)), 1) : 0)
#else
#define NEVER(X) (X)
#endif

/* Running out of memory aborts: callers never check for NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Formats into err (if not NULL) and returns rc, so that error paths read
 * `return seterr(err, errlen, -1, "field %s: ...", name);`. */
int seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Node ids: a 32-byte Ed25519 public key as unpadded URL-safe base64
 * (43 characters). key_to_id writes NODEID_LEN + 1 bytes. */
#define NODEID_LEN 43
void key_to_id(const uint8_t key[32], char out[NODEID_LEN + 1]);
/* Returns 0 and fills key if s is a well-formed node id, else -1. */
int key_from_id(const char *s, uint8_t key[32]);

/* 3 if the len bytes at s begin with a UTF-8 byte-order mark, else 0:
 * the number of bytes to skip. */
size_t bom_len(const char *s, size_t len);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void to_hex(const uint8_t *in, size_t n, char *out);

/* Milliseconds since the Unix epoch, wall clock. */
uint64_t now_ms(void);

/* Microseconds of a monotonic clock, for measuring durations. */
uint64_t mono_us(void);

/* RFC 3339 UTC time with milliseconds, "2026-11-23T08:58:31.123Z" (25 bytes). */
void format_time(uint64_t ms, char out[32]);

/* Drops, in place, every byte of s that is not part of a whole UTF-8
 * character: what is left of a value a message quoted with "%.40s" when
 * the cut fell inside a character, or of bytes that never were UTF-8.
 * Messages go into JSON, which must be UTF-8. Returns s. */
char *utf8_mend(char *s);
/* Rewrites s in place, character by character: each byte that is not
 * part of a whole UTF-8 character, and each character refuse (may be
 * NULL) is true for, becomes repl, or goes when repl is '\0'. Returns the
 * new length. utf8_mend, and the node log's escaping, in one loop. */
size_t utf8_filter(char *s, bool (*refuse)(int32_t cp), char repl);

/* The version of this build: "0.1.0 (git 0123456789ab)", from
 * CMakeLists.txt and the checkout it was built from. */
extern const char socdir_version[];

#endif
