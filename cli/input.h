/*
 * input.h: reading import's input whole and making it UTF-8 (input.c).
 */
#ifndef SOCDIR_INPUT_H
#define SOCDIR_INPUT_H

#include <stddef.h>
#include <stdio.h>

/* Reads the rest of f into a new NUL-terminated buffer, its length in
 * *len. Returns the buffer (caller frees); a read error shows in
 * ferror(f). */
char *input_slurp(FILE *f, size_t *len);

/* The len bytes at buf as UTF-8: a new NUL-terminated buffer (caller
 * frees), its length in *outlen, without a byte order mark. With
 * encoding NULL the input must be UTF-8 (a UTF-8 BOM is skipped) or start
 * with a UTF-16 or UTF-32 BOM (converted); else it is converted from
 * encoding with iconv(3). Returns NULL with err set ("line L, byte offset
 * O: ...") when a byte is not valid: for input that is not UTF-8, err says
 * which encoding it looks like and to use --encoding, or that it is UTF-8
 * with N invalid bytes. With encoding, input that is mostly UTF-8 as
 * input_guess counts is refused (unless encoding is UTF-... or UCS-...),
 * and so is a NUL character in the converted text. */
char *input_utf8(const char *buf, size_t len, const char *encoding, size_t *outlen, char *err,
                 size_t errlen);

/* What the len bytes at buf, which are not UTF-8, look like: the name to
 * give --encoding ("CP1252", "ISO-8859-2", "UTF-16LE"), with *why set to
 * the evidence, lent ("bytes 0x80-0x9F"); "UTF-8" when more of its bytes
 * form valid UTF-8 characters than not (a few stray bytes in UTF-8). */
const char *input_guess(const char *buf, size_t len, const char **why);

#endif
