/*
 * text.c: the text helpers of import: the normal form names, cities and
 * websites are compared in, and slugs for entry ids. Folding is the
 * project's one folding (proto/fold.h, on utf8proc), so import compares
 * names exactly as search matches them: "Straße" and "STRASSE" are one
 * name, and so are "Ærø" and "aero". Letters that fold to something
 * outside ASCII (Greek, Cyrillic) stay letters in names; in an id they
 * are not allowed, so a name wholly in such a script gets a hashed id.
 * Every result is a new string the caller frees. Nothing here knows
 * entries or the mapping.
 */
#include "text.h"
#include "entry.h"
#include "fold.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* A new string of the first n bytes of s. */
char *
text_strndup(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* True for a letter, mark or digit of any script. */
static bool
s_wordchar(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* A new string: s folded (fold.h), every run of characters that are not
 * letters or digits one space, trimmed. "Čistilni  servis, d.o.o." ->
 * "cistilni servis d o o". Text that is not UTF-8 normalises to "". */
char *
text_norm(const char *s)
{
    char *f = fold_new(s, strlen(s));
    if (f == NULL)
        return xstrdup("");
    char *o = f;
    bool space = false;
    for (const char *p = f; *p;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp);
        if (n <= 0)
            break;      /* fold_new made it, so it is UTF-8 */
        if (s_wordchar(cp)) {
            if (space && o > f)
                *o++ = ' ';
            memmove(o, p, (size_t)n);
            o += n;
            space = false;
        } else {
            space = true;
        }
        p += n;
    }
    *o = '\0';
    return f;
}

/* Eight hex digits of the BLAKE2b hash of s, into out (9 bytes). */
static void
s_hash_hex(const char *s, char out[9])
{
    unsigned char h[crypto_generichash_BYTES_MIN];
    if (sodium_init() < 0)
        abort();
    crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s), NULL, 0);
    sodium_bin2hex(out, 9, h, 4);
}

/* The most s_ascii writes for one character: what fold_into may give
 * in its buffer (a compatibility decomposition can be many times longer
 * than the character: U+3316 is 3 bytes and folds to 18). */
#define ASCII_PER_CHAR 31

/* Appends to o the ASCII of s folded (fold.h) one character at a time;
 * unless lower, a character that was upper case stays upper case ("Č" ->
 * "C"). Characters that fold outside ASCII are written as '-'. Returns the
 * end of what was written; o has room for ASCII_PER_CHAR bytes per byte
 * of s (each character is at least one byte). */
static char *
s_ascii(char *o, const char *s, bool lower)
{
    for (const char *p = s; *p;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp);
        if (n <= 0) {
            *o++ = '-', p++;        /* not UTF-8: not an id character */
            continue;
        }
        char buf[ASCII_PER_CHAR + 1];
        size_t m = cp < 0x80 ? 1 : fold_into(p, (size_t)n, buf, sizeof(buf));
        const char *src = cp < 0x80 ? p : buf;
        bool upper = !lower && utf8proc_tolower(cp) != cp;
        for (size_t i = 0; m != FOLD_FAIL && i < m; i++) {
            char c = src[i];
            if ((unsigned char)c >= 0x80)
                c = '-';
            else if (upper && c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            else if (lower && c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            *o++ = c;
        }
        p += n;
    }
    return o;
}

/* A new id from prefix and raw text: folded to ASCII, every run of
 * characters outside [A-Za-z0-9._-] one '-', lowercased when lower. Longer
 * than ENTRY_ID_MAX: cut, with a hash of the whole to keep it unique.
 * Empty text (a name in a script that does not fold to ASCII): a hash of
 * it. */
char *
text_make_id(const char *prefix, const char *raw, bool lower)
{
    size_t n = strlen(prefix), most = ASCII_PER_CHAR * strlen(raw), cap = n + most + 16;
    char *f = xmalloc(most + 1);
    *s_ascii(f, raw, lower) = '\0';
    char *id = xmalloc(cap), *o = id + n, hex[9];
    memcpy(id, prefix, n);
    for (const char *p = f; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            c = '-';
        if (c == '-' && (o == id + n || o[-1] == '-'))
            continue;
        *o++ = c;
    }
    while (o > id + n && o[-1] == '-')
        o--;
    *o = '\0';
    if (o == id + n) {
        s_hash_hex(raw, hex);
        snprintf(o, cap - n, "x%s", hex);
    }
    if (strlen(id) > ENTRY_ID_MAX) {
        s_hash_hex(f, hex);
        snprintf(id + ENTRY_ID_MAX - 9, 10, "-%s", hex);
    }
    free(f);
    return id;
}

/* A new normalised website: folded (so lowercase), no scheme, no "www.",
 * no trailing '/'; NULL for an empty one. */
char *
text_norm_site(const char *url)
{
    char *s = fold_new(url, strlen(url)), *p = s;
    if (s == NULL)
        return NULL;
    char *scheme = strstr(p, "://");
    if (scheme != NULL)
        p = scheme + 3;
    p += strspn(p, " ");
    if (strncmp(p, "www.", 4) == 0)
        p += 4;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == '/' || p[n - 1] == ' '))
        n--;
    char *out = n ? text_strndup(p, n) : NULL;
    free(s);
    return out;
}

/* A new string: text without surrounding white space. */
char *
text_trim(const char *s, size_t n)
{
    while (n > 0 && strchr(" \t\r\n", *s))
        s++, n--;
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        n--;
    return text_strndup(s, n);
}
