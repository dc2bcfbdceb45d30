/*
 * text.c: the text helpers of import: the normal form names, cities and
 * websites are compared in, and slugs for entry ids. Names are compared
 * in the project's one folding (proto/fold.h, on utf8proc), so import
 * compares names exactly as search matches them: "Straße" and "STRASSE"
 * are one name, and so are "Ærø" and "aero". Ids are another matter: a
 * re-import must give every row the id it was given before, in any
 * release, or it would store the row a second time. So slugs keep their
 * own folding, fixed for good: Latin-1 and Latin Extended-A letters
 * (U+00C0..U+017F) to ASCII by a table, every other character outside
 * ASCII an id separator, and a hash suffix of FNV-1a 32-bit. A name
 * wholly in another script (Greek, Cyrillic) gets a hashed id. Every
 * result is a new string the caller frees. Nothing here knows entries or
 * the mapping.
 */
#include "text.h"
#include "entry.h"
#include "fold.h"
#include "util.h"

#include <stdint.h>
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

/* The id folding: ASCII for U+00C0..U+017F ('?': see s_id_special,
 * '_': not a letter, a separator). Fixed: changing an entry changes ids. */
static const char s_id_tab[] =
    "AAAAAA?CEEEEIIII" "DNOOOOO_OUUUUY??" "aaaaaa?ceeeeiiii" "dnooooo_ouuuuy?y"
    "aaaaaaccccccccdd" "ddeeeeeeeeeegggg" "gggghhhhiiiiiiii" "ii??jjkkklllllll"
    "lllnnnnnnnnnoooo" "oo??rrrrrrssssss" "ssttttttuuuuuuuu" "uuuuwwyyyzzzzzzs";

static const char *
s_id_special(unsigned cp)
{
    switch (cp) {
    case 0xC6: case 0xE6: return "ae";
    case 0xDE: case 0xFE: return "th";
    case 0xDF: return "ss";
    case 0x132: case 0x133: return "ij";
    case 0x152: case 0x153: return "oe";
    default: return "";
    }
}

/* Appends to o the id folding of s: Latin-1 and Latin Extended-A letters
 * by s_id_tab (as the table has them, upper case only in Latin-1, or all
 * lower with lower), ASCII as it is (lowercased with lower), and every
 * other byte as it is with raw, else as '-'. Returns the end of what was
 * written: at most 2 bytes per byte of s. */
static char *
s_id_fold(char *o, const char *s, bool lower, bool raw)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (p[0] >= 0xC3 && p[0] <= 0xC5 && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            if (cp >= 0xC0) {
                char c = s_id_tab[cp - 0xC0];
                const char *sp = c == '?' ? s_id_special(cp) : NULL;
                if (sp != NULL)
                    while (*sp)
                        *o++ = *sp++;
                else if (c == '_')
                    *o++ = ' ';
                else
                    *o++ = lower ? (char)(c | 0x20) : c;
                p += 2;
                continue;
            }
        }
        if (*p >= 0x80)
            *o++ = raw ? (char)*p : '-';
        else
            *o++ = lower && *p >= 'A' && *p <= 'Z' ? (char)(*p | 0x20) : (char)*p;
        p++;
    }
    return o;
}

/* Eight hex digits of the FNV-1a 32-bit hash of s, into out (9 bytes).
 * An id suffix needs no cryptographic hash, only one that never changes:
 * this is the one ids have always had. */
static void
s_hash_hex(const char *s, char out[9])
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    snprintf(out, 9, "%08x", (unsigned)h);
}

/* s_hash_hex of raw in the id folding with its other bytes kept: the
 * suffix of an id cut to ENTRY_ID_MAX. */
static void
s_hash_fold(const char *raw, bool lower, char out[9])
{
    char *f = xmalloc(2 * strlen(raw) + 1);
    *s_id_fold(f, raw, lower, true) = '\0';
    s_hash_hex(f, out);
    free(f);
}

/* The most s_ascii writes for one character (2 bytes: "ss" for one of
 * 2, a byte for a byte otherwise); kept as the room text_make_id gives. */
#define ASCII_PER_CHAR 31

/* Appends to o the ASCII of s in the id folding (s_id_fold), lowercase
 * when lower; characters it does not fold are written as '-'. Returns the
 * end of what was written; o has room for ASCII_PER_CHAR bytes per byte
 * of s. */
static char *
s_ascii(char *o, const char *s, bool lower)
{
    return s_id_fold(o, s, lower, false);
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
        s_hash_fold(raw, lower, hex);
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
