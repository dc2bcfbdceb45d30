/*
 * input.c: import's input, read whole and made UTF-8 before the first
 * record is looked at, so that an encoding problem is one message rather
 * than one per row, and a row's text is never half decoded. UTF-8 is
 * taken as it is (a byte order mark skipped); a UTF-16 or UTF-32 byte
 * order mark has the input converted; any other input that is not UTF-8
 * is refused with a guess at what it is: bytes 0x80-0x9F are Windows-1252
 * (the ISO-8859 sets have control codes there), letters that ISO-8859-2
 * has where ISO-8859-1 has symbols (š ž ł ą at 0xB9 0xBE 0xB3 0xB1,
 * beside other letters) are Central European, the rest Western European.
 * Bytes that form valid UTF-8 characters are no evidence for any of
 * these: input that is mostly UTF-8 (more valid multi-byte characters
 * than stray bytes, a hand-edit in another editor) is said to be UTF-8
 * with N invalid bytes, and no legacy encoding is suggested, as
 * converting it would garble its good characters. --encoding names the
 * input's encoding for iconv(3); input that is already (mostly) UTF-8,
 * by the same count, is refused with it (a second conversion would store
 * mojibake), unless the name is a Unicode one (UTF-..., UCS-...), and so
 * is a NUL character in what it gives. Known limit: the whole
 * input is held in memory, twice while it is converted.
 */
#include "input.h"
#include "text.h"
#include "util.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

char *
input_slurp(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0, got;
    char *buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 4096)
            buf = xrealloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Line (from 1) of byte offset off in buf. */
static long
s_line(const char *buf, size_t off)
{
    long line = 1;
    for (size_t i = 0; i < off; i++)
        line += buf[i] == '\n';
    return line;
}

/* The offset of the first byte of buf that does not start a valid UTF-8
 * character, or len when there is none. */
static size_t
s_bad_utf8(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)buf[i] < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)buf + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            return i;
        i += (size_t)n;
    }
    return len;
}

/* The length of the valid UTF-8 character of two or more bytes at buf
 * (len bytes left), or 0. */
static size_t
s_utf8_multi(const char *buf, size_t len)
{
    if ((unsigned char)buf[0] < 0x80)
        return 0;
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)buf, (utf8proc_ssize_t)len, &cp);
    return n > 1 ? (size_t)n : 0;
}

/* Counts the valid UTF-8 characters of two or more bytes in the len bytes
 * at buf (*multi) and the bytes that start none (*stray). */
static void
s_utf8_census(const char *buf, size_t len, size_t *multi, size_t *stray)
{
    *multi = *stray = 0;
    for (size_t i = 0; i < len;) {
        size_t n = s_utf8_multi(buf + i, len - i);
        if (n > 0)
            (*multi)++, i += n;
        else
            *stray += (unsigned char)buf[i++] >= 0x80;
    }
}

static bool
s_ascii_letter(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

const char *
input_guess(const char *buf, size_t len, const char **why)
{
    /* ISO-8859-2 letters where ISO-8859-1 has symbols: Ą Ł Ľ Ś Š Ť Ź Ž Ż
     * ą ł ľ ś š ť ź ž ż. */
    static const unsigned char central[] = { 0xA1, 0xA3, 0xA5, 0xA6, 0xA9, 0xAB, 0xAC, 0xAE, 0xAF,
                                             0xB1, 0xB3, 0xB5, 0xB6, 0xB9, 0xBB, 0xBC, 0xBE, 0xBF };
    size_t c1 = 0, cent = 0, zero_even = 0, zero_odd = 0, multi, stray;
    s_utf8_census(buf, len, &multi, &stray);
    if (multi > stray) {
        *why = "characters, most of them valid UTF-8";
        return "UTF-8";
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        size_t n = s_utf8_multi(buf + i, len - i);
        if (n > 0) {
            i += n - 1;     /* a valid character is evidence for none */
            continue;
        }
        if (c == 0)
            *(i % 2 ? &zero_odd : &zero_even) += 1;
        else if (c >= 0x80 && c <= 0x9F)
            c1++;
        else if (c >= 0xA0 && memchr(central, c, sizeof(central)) != NULL &&
                 ((i > 0 && (s_ascii_letter((unsigned char)buf[i - 1]) || (unsigned char)buf[i - 1] >= 0xC0)) ||
                  (i + 1 < len && s_ascii_letter((unsigned char)buf[i + 1]))))
            cent++;
    }
    if (zero_odd > len / 4 && zero_odd > 2 * zero_even) {
        *why = "NUL bytes after every other byte, as UTF-16 little-endian without a byte order mark";
        return "UTF-16LE";
    }
    if (zero_even > len / 4 && zero_even > 2 * zero_odd) {
        *why = "NUL bytes before every other byte, as UTF-16 big-endian without a byte order mark";
        return "UTF-16BE";
    }
    if (c1 > 0) {
        *why = "bytes 0x80-0x9F (Windows-1252 letters and quotes such as \xc5\x93 \xe2\x82\xac \xe2\x80\x9e; "
               "ISO-8859 has control codes there)";
        return "CP1252";
    }
    if (cent > 0) {
        *why = "ISO-8859-2 letters (\xc5\xa1 \xc5\xbe \xc5\x82 \xc4\x85 ...) within words";
        return "ISO-8859-2";
    }
    *why = "Western European letters (ISO-8859-1, ISO-8859-15 or Windows-1252)";
    return "CP1252";
}

/* A new UTF-8 buffer of the len bytes at buf in encoding, or NULL with err
 * set naming the line and byte offset of the first byte that is not
 * valid; base is the offset of buf in the file, for that message. */
static char *
s_iconv(const char *buf, size_t len, size_t base, const char *encoding, size_t *outlen, char *err,
        size_t errlen)
{
    iconv_t cd = iconv_open("UTF-8", encoding);
    if (cd == (iconv_t)-1) {
        snprintf(err, errlen, "unknown encoding '%.40s' (e.g. CP1252, ISO-8859-2, ISO-8859-15, UTF-16; "
                 "`iconv -l` lists them)", encoding);
        return NULL;
    }
    size_t cap = 2 * len + 16, left_in = len, left_out = cap - 1;
    char *out = xmalloc(cap), *in = (char *)buf, *o = out;
    while (left_in > 0) {
        if (iconv(cd, &in, &left_in, &o, &left_out) != (size_t)-1)
            continue;
        if (errno == E2BIG) {
            size_t done = (size_t)(o - out);
            out = xrealloc(out, cap *= 2);
            o = out + done;
            left_out = cap - done - 1;
            continue;
        }
        size_t off = base + (size_t)(in - buf);
        snprintf(err, errlen, "line %ld, byte offset %zu: byte 0x%02X is not valid %s%s",
                 s_line(buf - base, off), off, (unsigned char)*in, encoding,
                 errno == EINVAL ? " (the input ends inside a character)" : "");
        iconv_close(cd);
        free(out);
        return NULL;
    }
    iconv_close(cd);
    *o = '\0';
    *outlen = (size_t)(o - out);
    if (*outlen >= 3 && memcmp(out, "\xEF\xBB\xBF", 3) == 0) {     /* a BOM the converter kept */
        memmove(out, out + 3, *outlen - 2);
        *outlen -= 3;
    }
    return out;
}

char *
input_utf8(const char *buf, size_t len, const char *encoding, size_t *outlen, char *err, size_t errlen)
{
    static const struct { const char *bom; size_t n; const char *name; } boms[] = {
        { "\xFF\xFE\0\0", 4, "UTF-32LE" }, { "\0\0\xFE\xFF", 4, "UTF-32BE" },
        { "\xFF\xFE", 2, "UTF-16LE" }, { "\xFE\xFF", 2, "UTF-16BE" },
    };
    if (encoding != NULL) {
        size_t multi, stray;
        s_utf8_census(buf, len, &multi, &stray);
        if (multi > stray && strncasecmp(encoding, "UTF", 3) != 0 && strncasecmp(encoding, "UCS", 3) != 0) {
            size_t first = 0;
            while (s_utf8_multi(buf + first, len - first) == 0)
                first++;
            snprintf(err, errlen, "the input is %sUTF-8 already (%zu character%s outside ASCII, the first at line %ld, "
                     "byte offset %zu%s): converting it from %.40s would store them garbled; import it without "
                     "--encoding", stray ? "mostly " : "", multi, multi == 1 ? "" : "s", s_line(buf, first), first,
                     stray ? ", and a few bytes that are not UTF-8" : "", encoding);
            return NULL;
        }
        char *out = s_iconv(buf, len, 0, encoding, outlen, err, errlen);
        const char *nul = out != NULL ? memchr(out, '\0', *outlen) : NULL;
        if (nul != NULL) {
            snprintf(err, errlen, "line %ld: a NUL character (U+0000) from %.40s: text cannot hold it",
                     s_line(out, (size_t)(nul - out)), encoding);
            free(out);
            return NULL;
        }
        return out;
    }
    for (size_t i = 0; i < sizeof(boms) / sizeof(boms[0]); i++)
        if (len >= boms[i].n && memcmp(buf, boms[i].bom, boms[i].n) == 0)
            return s_iconv(buf + boms[i].n, len - boms[i].n, boms[i].n, boms[i].name, outlen, err, errlen);
    size_t skip = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    size_t bad = s_bad_utf8(buf + skip, len - skip) + skip;
    const char *nul = memchr(buf, '\0', len);
    if (bad == len && nul == NULL) {
        *outlen = len - skip;
        return text_strndup(buf + skip, len - skip);
    }
    const char *why, *guess = input_guess(buf, len, &why);
    if (nul != NULL && (size_t)(nul - buf) < bad)
        bad = (size_t)(nul - buf);
    if (strcmp(guess, "UTF-8") == 0) {
        size_t multi, stray;
        s_utf8_census(buf + skip, len - skip, &multi, &stray);
        snprintf(err, errlen, "line %ld, byte offset %zu: byte 0x%02X is not UTF-8; the file is UTF-8 with %zu "
                 "invalid byte%s, the first at line %ld, byte offset %zu (and %zu valid characters outside ASCII): "
                 "correct %s and import it again (another --encoding would garble the valid ones)",
                 s_line(buf, bad), bad, (unsigned char)buf[bad], stray, stray == 1 ? "" : "s", s_line(buf, bad), bad,
                 multi, stray == 1 ? "it" : "them");
        return NULL;
    }
    const char *shown = strcmp(guess, "CP1252") == 0 ? "Windows-1252" : guess;
    snprintf(err, errlen, "line %ld, byte offset %zu: byte 0x%02X is not UTF-8%s; the file looks like %s "
             "from its %s: import it with --encoding %s (or save it as UTF-8)",
             s_line(buf, bad), bad, (unsigned char)buf[bad],
             skip ? " though the file starts with a UTF-8 byte order mark" : "", shown, why, guess);
    return NULL;
}
