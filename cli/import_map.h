/*
 * import_map.h: the mapping from source records to entries (import_map.c).
 */
#ifndef SOCDIR_IMPORT_MAP_H
#define SOCDIR_IMPORT_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct import_map import_map_t;

/* Loads the mapping file at path, or with path NULL the mapping that takes
 * column names for field names; lang (or NULL) is the language of
 * language-map fields that do not say theirs ("name" is "name:LL").
 * Returns it (caller destroys it), or NULL after saying on stderr what is
 * wrong with the file's form. Problems of its content (unknown fields,
 * a bad default kind) are kept for import_map_check. */
import_map_t *import_map_load(const char *path, const char *lang);

/* --lenient: a value that cannot be converted is given to warn(arg, why)
 * and left out, rather than refusing the record. */
typedef void (*import_map_warn_fn)(void *arg, const char *why);
void import_map_set_lenient(import_map_t *m, import_map_warn_fn warn, void *arg);

/* True if a mapping file was loaded (not column names as field names). */
bool import_map_given(const import_map_t *m);

/* A new entry from record row (borrowed) through the mapping, its defaults
 * filled in. Returns NULL with err set for a value that cannot be
 * converted. */
json_t *import_map_entry(const import_map_t *m, const json_t *row, char *err, size_t len);

/* Gives entry e its id when it has none: the mapping's id column or
 * template, else a slug of its first name and its city. Returns 0, or -1
 * with err set when there is nothing to make one from. */
int import_map_give_id(const import_map_t *m, json_t *e, const json_t *row, char *err, size_t len);

/* Before the first record: checks the mapping's fields (known to the
 * validator, "did you mean" for a misspelt one) and defaults and, for CSV
 * with header (array of column names, else NULL), that every column the
 * mapping names is in it, that no column is in it twice and, without a
 * mapping, that language-map columns say their language ("name:de", a
 * language of ISO 639-1). Returns 0, or -1 after listing every problem on
 * stderr in one message. */
int import_map_check(import_map_t *m, const json_t *header, const char *file);

/* Before the first GeoJSON feature: without a mapping, that the
 * language-map properties among names (the first feature's property
 * names) say their language, as import_map_check does for columns.
 * Returns 0, or -1 after listing every problem on stderr. */
int import_map_check_properties(import_map_t *m, const json_t *names, const char *file);

void import_map_destroy(import_map_t **self_p);

#endif
