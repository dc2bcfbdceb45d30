/*
 * text.h: folding, normalising and id slugs for import (text.c). Every
 * char * returned is new and the caller frees it.
 */
#ifndef SOCDIR_TEXT_H
#define SOCDIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A new string of the first n bytes of s. */
char *text_strndup(const char *s, size_t n);

/* A new string: the n bytes at s without surrounding white space. */
char *text_trim(const char *s, size_t n);

/* A new string: s with Latin-1 and Latin Extended-A letters folded to
 * ASCII and, unless keep_case, ASCII lowercased. Other bytes are kept. */
char *text_fold(const char *s, bool keep_case);

/* A new string: s folded, lowercased, every run of other characters one
 * space, trimmed. "Čistilni  servis, d.o.o." -> "cistilni servis d o o". */
char *text_norm(const char *s);

/* A new normalised website: lowercase, no scheme, no "www.", no
 * trailing '/'; NULL for an empty one. */
char *text_norm_site(const char *url);

/* FNV-1a, for id suffixes and the id set. */
uint32_t text_hash(const char *s);

/* A new id from prefix and raw text: folded, every run of characters
 * outside [A-Za-z0-9._-] one '-', lowercased when lower. Longer than
 * ENTRY_ID_MAX: cut, with a hash of the whole to keep it unique. Empty
 * text (a name in a script that does not fold): a hash of it. */
char *text_make_id(const char *prefix, const char *raw, bool lower);

#endif
