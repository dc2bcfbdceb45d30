/*
 * dedup.h: the good records of an import, for repeated ids and possible
 * duplicates (dedup.c).
 */
#ifndef SOCDIR_DEDUP_H
#define SOCDIR_DEDUP_H

#include "client.h"

#include <jansson.h>
#include <stdio.h>

typedef struct dedup dedup_t;

/* A new, empty set of records; the caller destroys it. */
dedup_t *dedup_new(void);

/* The label (where it was read) of the record with id, lent, or NULL
 * when there is none. */
const char *dedup_find(dedup_t *d, const char *id);

/* Remembers good entry e (borrowed) read at label: its id, normalised
 * names, website, city and position. */
void dedup_add(dedup_t *d, const json_t *e, const char *label);

/* Looks up the records with a position among the entries on the node c
 * (one search each): an entry with the same name within DUP_METRES joins
 * the record's group. A failed search is said once and ends the lookups.
 * progress (or NULL) is told how many records were looked at. */
void dedup_node(dedup_t *d, client_t *c, void (*progress)(void *arg, size_t done, size_t total), void *arg);

/* The groups of possible duplicates, as a new JSON document: records (and
 * node entries) that share a normalised website, or a folded name within
 * DUP_METRES (without positions: in the same city), are one group, by
 * union-find, so three rows with one website are one group of three.
 * {"file": file, "groups": [{"reasons": ["same website example.org"],
 * "rows": [{"line": 12, "label": "FILE:12", "id": "a-1", "name": "..."},
 * {"node": true, "id": "ORIGIN/ID", "name": "..."}]}], "summary":
 * {"groups": G, "rows": R}}. */
json_t *dedup_groups(dedup_t *d, const char *file);

/* Prints the groups of doc (dedup_groups) for people, on out; nothing
 * when there are none. */
void dedup_print(const json_t *doc, FILE *out);

void dedup_destroy(dedup_t **self_p);

#endif
