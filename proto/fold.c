/*
 * fold.c: text folding on utf8proc (see fold.h). utf8proc decomposes
 * into code points in a caller's buffer, so folding a short token costs
 * no allocation; the letters without a decomposition are mapped while
 * encoding back to UTF-8.
 */
#include "fold.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define FOLD_OPTIONS \
    (UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_STRIPMARK)

/* The ASCII a folded letter without a decomposition is typed as, or NULL
 * to keep it. Only lower case arrives here: case folding ran first. */
static const char *
s_plain(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x00E6: return "ae"; /* æ */
    case 0x00F0: return "d";  /* ð */
    case 0x00F8: return "o";  /* ø */
    case 0x00FE: return "th"; /* þ */
    case 0x0111: return "d";  /* đ */
    case 0x0127: return "h";  /* ħ */
    case 0x0131: return "i";  /* ı */
    case 0x0142: return "l";  /* ł */
    case 0x0153: return "oe"; /* œ */
    case 0x0167: return "t";  /* ŧ */
    default: return NULL;
    }
}

/* Encodes the n folded code points at cps into out; the length, or
 * FOLD_FAIL if it does not fit with its NUL. */
static size_t
s_encode(const utf8proc_int32_t *cps, size_t n, char *out, size_t outlen)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        utf8proc_uint8_t buf[4];
        const char *plain = s_plain(cps[i]);
        size_t k = plain ? strlen(plain) : (size_t)utf8proc_encode_char(cps[i], buf);
        if (len + k >= outlen)
            return FOLD_FAIL;
        memcpy(out + len, plain ? (const void *)plain : (const void *)buf, k);
        len += k;
    }
    out[len] = '\0';
    return len;
}

/* The largest number of UTF-8 bytes n folded code points can take:
 * four each, or two ASCII letters for a one-letter s_plain. */
#define FOLD_BYTES(n) (4 * (n) + 1)

size_t
fold_into(const char *s, size_t n, char *out, size_t outlen)
{
    utf8proc_int32_t cps[256];
    if (outlen == 0)
        return FOLD_FAIL;
    out[0] = '\0';
    utf8proc_ssize_t k = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, cps,
                                            (utf8proc_ssize_t)(sizeof(cps) / sizeof(cps[0])),
                                            (utf8proc_option_t)FOLD_OPTIONS);
    if (k < 0 || (size_t)k > sizeof(cps) / sizeof(cps[0]))
        return FOLD_FAIL;
    size_t len = s_encode(cps, (size_t)k, out, outlen);
    if (len == FOLD_FAIL)
        out[0] = '\0';
    return len;
}

char *
fold_new(const char *s, size_t n)
{
    utf8proc_ssize_t k = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, NULL, 0,
                                            (utf8proc_option_t)FOLD_OPTIONS);
    if (k < 0)
        return NULL;
    utf8proc_int32_t *cps = xmalloc(((size_t)k + 1) * sizeof(*cps));
    k = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, cps, k + 1,
                           (utf8proc_option_t)FOLD_OPTIONS);
    char *out = xmalloc(FOLD_BYTES((size_t)k));
    size_t len = s_encode(cps, (size_t)k, out, FOLD_BYTES((size_t)k));
    free(cps);
    if (NEVER(len == FOLD_FAIL))
        out[0] = '\0';
    return out;
}

char *
fold_key(const char *s)
{
    char *out = fold_new(s, strlen(s));
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (const char *p = out; *p; p++) {
        bool space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        if (!space)
            out[n++] = *p;
        else if (n > 0 && out[n - 1] != ' ')
            out[n++] = ' ';
    }
    if (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out;
}
