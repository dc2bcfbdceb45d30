/*
 * query.h: the read requests (query.c).
 */
#ifndef SOCDIR_QUERY_H
#define SOCDIR_QUERY_H

#include "store.h"

#include <jansson.h>

/* get {ref}: one entry, ORIGIN/ID or ID (own: this node's key, whose
 * entry an ID alone names first), its signature checked again. */
json_t *query_get(store_t *st, const uint8_t own[ENV_PKBYTES], const json_t *req);
/* search {...}: filters, words, facets, order, a page (PROTOCOL.md 3). */
json_t *query_search(store_t *st, const json_t *req);
/* export {after, limit}: a page of every stored row in rowid order. */
json_t *query_export(store_t *st, const json_t *req);

#endif
