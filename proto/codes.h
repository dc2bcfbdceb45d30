/*
 * codes.h: one home for the rules that more than one program applies to
 * the same values: the shapes of classification codes, the closed
 * vocabularies of PROTOCOL.md 2.2, a search request's orders and facets,
 * which language of a text to show, and the distance between two points.
 * The validator (entry.c), the node's search and the CLI all call these.
 *
 * Country and language codes are looked up in the ISO lists compiled in
 * at build time (isocodes.h); NUTS, NACE and CPV codes are checked for
 * shape only, since their lists change between editions.
 */
#ifndef SOCDIR_CODES_H
#define SOCDIR_CODES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- code shapes: true when s has the shape ---- */

/* s matches pat, where 'A' is an upper-case letter, 'a' a lower-case one,
 * '9' a digit, 'X' an upper-case letter or a digit and anything else
 * itself; the lengths match. */
bool code_pattern(const char *s, const char *pat);
bool code_lang(const char *s);      /* ISO 639-1: "de" */
bool code_country(const char *s);   /* ISO 3166-1 alpha-2: "AT" */
/* NUTS level 0 to 3, so also every prefix of a code: "AT", "AT1",
 * "AT12", "AT123". */
bool code_nuts(const char *s);
/* NACE section, division, group or class, so also every prefix of a
 * class: "N", "81", "81.2", "81.21". */
bool code_nace(const char *s);
bool code_cpv(const char *s);       /* "90910000" or "90910000-9" */

/* ---- code lists (isocodes.h) ---- */

/* True when s is in ISO 3166-1 alpha-2 ("AT"; not "EL", not "UK"). */
bool code_country_listed(const char *s);
/* True when s is an ISO 639-1 code ("de"). */
bool code_lang_listed(const char *s);
/* The NUTS country prefix of an ISO 3166-1 code: the code itself, except
 * "EL" for GR (Greece) and "UK" for GB (the United Kingdom, NUTS 2016).
 * The string is static. */
const char *code_nuts_prefix(const char *country);
/* For a NUTS prefix that is not an ISO 3166-1 code, the ISO code to use
 * instead ("GR" for "EL", "GB" for "UK"), else NULL. */
const char *code_iso_for_nuts(const char *s);
/* A CPV code or prefix as a search takes it: 2 to 8 digits, or all 8
 * with a "-D" check digit. Returns the number of digits, 0 if s is
 * neither. */
size_t code_cpv_prefix(const char *s);

/* ---- vocabularies (PROTOCOL.md 2.2), NULL-terminated ---- */

extern const char *const code_org_types[];
extern const char *const code_target_groups[];
extern const char *const code_partnership_types[];
extern const char *const code_offer_types[];
extern const char *const code_customer_types[];
extern const char *const code_roles[];
extern const char *const code_event_types[];
extern const char *const code_programme_types[];

bool code_in(const char *const *vocab, const char *s);
/* The words of vocab joined by ", " into buf (cut to fit). */
void code_join(const char *const *vocab, char *buf, size_t len);

/* ---- a search request (PROTOCOL.md 3, search) ---- */

/* Orders and facets by name, NULL-terminated, in the order of the node's
 * store_sort_t and store_facet_t counted from 1. */
extern const char *const code_sorts[];
extern const char *const code_facets[];
/* Sets the depths that count_by facet takes (NUTS level, CPV or NACE
 * digits) and returns true, or returns false if it takes none. */
bool code_facet_depth(const char *facet, int *min, int *max);

/* ---- text and place ---- */

/* The text of a language map ({"de": "...", "en": "..."}) to show: in
 * want, else in also (either may be NULL), else in English, else in the
 * language first in code order, whatever order the keys came in; NULL if
 * the map holds no text. */
const char *code_text(const json_t *map, const char *want, const char *also);

/* Great-circle distance in km (haversine, mean Earth radius). */
#define CODE_EARTH_KM 6371.0088
double code_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
