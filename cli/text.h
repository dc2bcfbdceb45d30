/*
 * text.h: normalising and id slugs for import (text.c). Every
 * char * returned is new and the caller frees it.
 */
#ifndef SOCDIR_TEXT_H
#define SOCDIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A new string of the first n bytes of s. */
char *text_strndup(const char *s, size_t n);

/* A new string: the n bytes at s without surrounding white space. */
char *text_trim(const char *s, size_t n);

/* A new string: s folded as search folds (proto/fold.h), every run of
 * characters that are not letters or digits one space, trimmed.
 * "Čistilni  servis, d.o.o." -> "cistilni servis d o o". */
char *text_norm(const char *s);

/* A new normalised website: lowercase, no scheme, no "www.", no
 * trailing '/'; NULL for an empty one. */
char *text_norm_site(const char *url);

/* A new id from prefix and raw text: Latin-1 and Latin Extended-A letters
 * folded to ASCII (not proto/fold.h: ids never change), every run of
 * characters outside [A-Za-z0-9._-] one '-', lowercased when lower.
 * Longer than ENTRY_ID_MAX: cut, with an FNV-1a hash of the whole to keep
 * it unique. Empty text (a name in another script): "x" and a hash of
 * it. The same text gives the same id in every release. */
char *text_make_id(const char *prefix, const char *raw, bool lower);

#endif
