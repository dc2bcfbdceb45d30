/*
 * dedup.h: the good records of an import, for repeated ids and possible
 * duplicates (dedup.c).
 */
#ifndef SOCDIR_DEDUP_H
#define SOCDIR_DEDUP_H

#include "client.h"

#include <jansson.h>

typedef struct dedup dedup_t;

/* A new, empty set of records; the caller destroys it. */
dedup_t *dedup_new(void);

/* The label (where it was read) of the record with id, lent, or NULL
 * when there is none. */
const char *dedup_find(dedup_t *d, const char *id);

/* Remembers good entry e (borrowed) read at label: its id, normalised
 * names, website, city and position. */
void dedup_add(dedup_t *d, const json_t *e, const char *label);

/* Lists possible duplicates among the records on stderr. */
void dedup_list(dedup_t *d);

/* Lists possible duplicates between the records with a position and the
 * entries on the node c: same name within DUP_METRES. A failed search is
 * said once and ends the list. */
void dedup_list_node(dedup_t *d, client_t *c);

void dedup_destroy(dedup_t **self_p);

#endif
