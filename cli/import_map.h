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
 * column names for field names. Returns it (caller destroys it), or NULL
 * after saying on stderr what is wrong with the file. */
import_map_t *import_map_load(const char *path);

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

/* For CSV, once the header (array of column names) is read: checks that
 * every column the mapping names is in it and, without a mapping, that
 * language-map columns say their language ("name:de"). Returns 0, or -1
 * after saying on stderr, "FILE: ...", what is wrong. */
int import_map_check_header(const import_map_t *m, const json_t *header, const char *file);

void import_map_destroy(import_map_t **self_p);

#endif
