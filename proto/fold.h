/*
 * fold.h: the one form in which text is compared. Search words, the
 * full-text index, the name sort key, the city filter and import's
 * duplicate check all fold both sides with these, so "Straße",
 * "STRASSE" and "strasse" are one word, and so are "Ærø" and "aero",
 * "κοινωνική" and "κοινωνικη", "Ёлка" and "елка".
 *
 * Folding is utf8proc's compatibility decomposition with full case
 * folding, default-ignorable characters dropped and every combining mark
 * stripped, in every script; then the few letters that have no Unicode
 * decomposition but that people type without their stroke or ligature:
 * æ→ae, ø→o, œ→oe, ß→ss (by case folding), đ→d, ð→d, ł→l, þ→th, ħ→h,
 * ŧ→t, ı→i.
 */
#ifndef SOCDIR_FOLD_H
#define SOCDIR_FOLD_H

#include <stddef.h>

/* Folds the n bytes at s into out (outlen bytes, NUL-terminated) and
 * returns the folded length, which is 0 for text that folds to nothing (a
 * lone combining mark). Returns FOLD_FAIL, leaving out empty, when s is
 * not valid UTF-8 or the result does not fit. For short strings on hot
 * paths (index words); it allocates nothing. */
#define FOLD_FAIL ((size_t)-1)
size_t fold_into(const char *s, size_t n, char *out, size_t outlen);

/* A new string: the n bytes at s folded, or NULL if they are not valid
 * UTF-8. The caller frees it. */
char *fold_new(const char *s, size_t n);

/* A new string: s folded, runs of white space made one space, none at
 * either end: the form in which a city is kept and asked for ("  Nové
 * Město " and "nove mesto" are one key). NULL if s is not valid UTF-8. */
char *fold_key(const char *s);

#endif
