/*
 * text.c: the text helpers of import: folding accented Latin letters to
 * ASCII, the normal form names, cities and websites are compared in, and
 * slugs for entry ids. Only Latin-1 and Latin Extended-A (U+00C0..U+017F)
 * fold; other scripts pass through as bytes, so a name in one of them
 * normalises to itself and its slug is a hash. Every result is a new
 * string the caller frees. Nothing here knows entries or the mapping.
 */
#include "text.h"
#include "entry.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new string of the first n bytes of s. */
char *
text_strndup(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* ASCII for U+00C0..U+017F ('?': see s_fold_special, '_': not a letter). */
static const char s_fold_tab[] =
    "AAAAAA?CEEEEIIII" "DNOOOOO_OUUUUY??" "aaaaaa?ceeeeiiii" "dnooooo_ouuuuy?y"
    "aaaaaaccccccccdd" "ddeeeeeeeeeegggg" "gggghhhhiiiiiiii" "ii??jjkkklllllll"
    "lllnnnnnnnnnoooo" "oo??rrrrrrssssss" "ssttttttuuuuuuuu" "uuuuwwyyyzzzzzzs";

static const char *
s_fold_special(unsigned cp)
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

/* A new string: s with Latin-1 and Latin Extended-A letters folded to
 * ASCII and, unless keep_case, ASCII lowercased. Other bytes are kept. */
char *
text_fold(const char *s, bool keep_case)
{
    size_t n = strlen(s);
    char *out = xmalloc(2 * n + 1), *o = out;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (p[0] >= 0xC3 && p[0] <= 0xC5 && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            if (cp >= 0xC0) {
                char c = s_fold_tab[cp - 0xC0];
                const char *sp = c == '?' ? s_fold_special(cp) : NULL;
                if (sp != NULL)
                    while (*sp)
                        *o++ = *sp++;
                else if (c == '_')
                    *o++ = ' ';
                else
                    *o++ = keep_case ? c : (char)(c | 0x20);
                p += 2;
                continue;
            }
        }
        *o++ = keep_case || *p >= 0x80 ? (char)*p : (char)(*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
        p++;
    }
    *o = '\0';
    return out;
}

static bool
s_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* A new string: s folded, lowercased, every run of other characters one
 * space, trimmed. "Čistilni  servis, d.o.o." -> "cistilni servis d o o". */
char *
text_norm(const char *s)
{
    char *f = text_fold(s, false), *o = f;
    bool space = false;
    for (const char *p = f; *p; p++) {
        if (s_alnum((unsigned char)*p)) {
            if (space && o > f)
                *o++ = ' ';
            *o++ = *p;
            space = false;
        } else {
            space = true;
        }
    }
    *o = '\0';
    return f;
}

/* FNV-1a, for id suffixes and the id set. */
uint32_t
text_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* A new id from prefix and raw text: folded, every run of characters
 * outside [A-Za-z0-9._-] one '-', lowercased when lower. Longer than
 * ENTRY_ID_MAX: cut, with a hash of the whole to keep it unique. Empty
 * text (a name in a script that does not fold): a hash of it. */
char *
text_make_id(const char *prefix, const char *raw, bool lower)
{
    char *f = text_fold(raw, !lower);
    size_t n = strlen(prefix), cap = n + strlen(f) + 16;
    char *id = xmalloc(cap), *o = id + n;
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
    if (o == id + n)
        o += sprintf(o, "x%08x", (unsigned)text_hash(raw));
    if (strlen(id) > ENTRY_ID_MAX)
        sprintf(id + ENTRY_ID_MAX - 9, "-%08x", (unsigned)text_hash(f));
    free(f);
    return id;
}

/* A new normalised website: lowercase, no scheme, no "www.", no
 * trailing '/'; NULL for an empty one. */
char *
text_norm_site(const char *url)
{
    char *s = text_fold(url, false), *p = s;
    char *scheme = strstr(p, "://");
    if (scheme != NULL)
        p = scheme + 3;
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
