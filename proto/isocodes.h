/*
 * isocodes.h: the code lists country and language codes are looked up in,
 * generated at build time (proto/gen/isocodes_gen.c) from Debian's
 * iso-codes JSON into the build directory's isocodes.c. Each list holds
 * two-letter codes sorted bytewise, each a NUL-terminated string, for
 * bsearch with strcmp. Use code_country_listed and code_lang_listed
 * (codes.h) rather than these arrays.
 */
#ifndef SOCDIR_ISOCODES_H
#define SOCDIR_ISOCODES_H

#include <stddef.h>

/* "iso-codes VERSION: N countries, M languages" */
extern const char code_iso_source[];
extern const char code_iso3166[][3];        /* ISO 3166-1 alpha-2: "AT" */
extern const size_t code_iso3166_count;
extern const char code_iso639_1[][3];       /* ISO 639-1: "de" */
extern const size_t code_iso639_1_count;

#endif
