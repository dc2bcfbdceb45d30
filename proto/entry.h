/*
 * entry.h: the entry model. An entry as the user writes it is a JSON object
 * (PROTOCOL.md 2.2); this module validates it, splits off the header fields (id,
 * kind) from the body that gets signed, and extracts from a body what the
 * node indexes. Pure: no I/O, no keys (those live in envelope.h).
 */
#ifndef SOCDIR_ENTRY_H
#define SOCDIR_ENTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENTRY_ID_MAX     64          /* bytes in an id */
#define ENTRY_BODY_MAX   (48 * 1024) /* bytes in a payload (PROTOCOL.md 2) */
#define ENTRY_TEXT_MAX   8192        /* bytes in one text value */
#define ENTRY_ERR_MAX    256
/* Container levels of a body, the body map being level 1 (mpjson.h). An
 * entry is two levels below the top of a request or a reply ({"entries":
 * [entry]}), which msgpack-c reads to MPJSON_MAX_DEPTH levels, so whatever
 * a node stores it can also print. */
#define ENTRY_DEPTH_MAX  30
#define ENTRY_KEY_MAX    255         /* bytes in a map key anywhere in a body */

typedef enum {
    KIND_NONE = 0,
    KIND_ORGANISATION,
    KIND_OFFER,
    KIND_PARTNERSHIP,
    KIND_EVENT,
    KIND_PROGRAMME,
    KIND_COUNT
} entry_kind_t;

/* "organisation", ... or NULL for an unknown kind. */
const char *entry_kind_name(int kind);
/* KIND_NONE when name is not a kind. */
int entry_kind_from_name(const char *name);

/* True if id is 1..ENTRY_ID_MAX bytes of [A-Za-z0-9._-]. */
bool entry_id_valid(const char *id);

/* Checks the shape every body must have whatever its kind: at most
 * ENTRY_DEPTH_MAX levels, map keys of at most ENTRY_KEY_MAX bytes.
 * Returns 0, or -1 with err set. (A payload's body gets the same checks
 * when it is decoded, envelope.c.) */
int entry_check_shape(const json_t *e, char *err, size_t errlen);

/* Validates an entry as users write it (with "id" and "kind"). Returns 0,
 * or -1 with err naming the field and the problem, e.g.
 * "field 'country': 'Austria' is not an ISO 3166-1 alpha-2 code".
 * Read-only fields (origin, seq, updated, ...) are ignored, unknown fields
 * are allowed and kept. */
int entry_validate(const json_t *e, char *err, size_t errlen);

/* Validates a body (the signed map, without id and kind) for kind. */
int entry_validate_body(int kind, const json_t *body, char *err, size_t errlen);

/* The name of the i-th body field the validator knows (i from 0), or NULL
 * past the last, for tools that check names before there are entries
 * (import's mapping check). *subs is set to the keys of its object
 * ("street", "postcode", "city" for address; "lat", "lon" for geo),
 * NULL-terminated, else NULL; *langmap to whether it is a language map. */
const char *entry_field_info(size_t i, const char *const **subs, bool *langmap);

/* A new body object: e without "id", "kind" and the read-only fields that
 * printing adds. Call after entry_validate. */
json_t *entry_body(const json_t *e);

/* Multi-valued attributes the node indexes for filters. */
typedef enum {
    ATTR_LANG = 1,      /* languages spoken or written in */
    ATTR_NACE,
    ATTR_CPV,           /* 8 digits, check digit stripped */
    ATTR_LABEL,
    ATTR_TARGET_GROUP,
    ATTR_PARTNERSHIP,
    ATTR_ORG_TYPE,
    ATTR_CUSTOMER_TYPE,
    ATTR_REF,           /* organisation / partner references */
    ATTR_CITY           /* the address's city, folded (fold.h) */
} entry_attr_field_t;

typedef struct {
    int field;          /* entry_attr_field_t */
    char *value;        /* owned */
} entry_attr_t;

/* What the node stores beside the signed bytes to answer queries. All
 * strings are owned by the index and freed by entry_index_free. */
typedef struct {
    char *name;         /* display/sort name: "en", else the first language code */
    char *country;      /* NULL if absent */
    char *region;
    bool has_geo;
    double lat, lon;
    char *text_name;    /* every language's text, newline-separated, */
    char *text_summary; /* for the full-text index */
    char *text_description;
    char *text_tags;
    char *text_place;   /* the address: street, postcode, city */
    int64_t start_ms;   /* event start, programme deadline; 0 if none */
    double disadvantaged_share; /* -1 if absent */
    entry_attr_t *attrs;
    size_t nattrs;
} entry_index_t;

/* Fills ix from a body (validated or not: missing fields stay empty). */
void entry_index_build(const json_t *body, entry_index_t *ix);
void entry_index_free(entry_index_t *ix);

/* Parses "YYYY-MM-DD" or an RFC 3339 date-time with offset into ms since
 * the epoch; the date must exist (2028-02-29 does, 2027-02-29 does not).
 * Returns 0 or -1. */
int entry_parse_time(const char *s, int64_t *ms);

/* Days in month (1-12) of year in the Gregorian calendar; 0 for a month
 * out of range. */
int entry_month_days(int year, int month);

/* Checks that s is a country of ISO 3166-1 (the build's iso-codes list):
 * 0, or -1 with err saying why, "use GR" for the NUTS prefix EL. The rule
 * of an entry's country, of a node's and of a search filter. */
int entry_check_country(const char *s, char *err, size_t errlen);
/* Checks that the NUTS code region lies in country (EL30 in GR): 0, or
 * -1 with err. The rule of an entry and of a node's config. */
int entry_check_region(const char *country, const char *region, char *err, size_t errlen);

/* True for the code points text must not hold (but for newline and tab
 * in the long free texts): C0 controls U+0000-001F, DEL and C1 controls
 * U+007F-009F, bidirectional overrides and isolates U+202A-202E and
 * U+2066-2069. Printers escape the same set. */
bool entry_char_refused(int32_t cp);

/* Checks the len bytes of UTF-8 text at s (which may hold NUL bytes):
 * no C0 control (U+0000-001F) but, when multiline, newline and tab; no
 * DEL or C1 control (U+007F-009F); no bidirectional override or isolate
 * (U+202A-202E, U+2066-2069). Returns 0, or -1 with err naming the code
 * point and its byte offset. */
int entry_check_text(const char *s, size_t len, bool multiline, char *err, size_t errlen);

#endif
