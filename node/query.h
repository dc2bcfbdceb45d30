/*
 * query.h: the read requests (query.c).
 */
#ifndef SOCDIR_QUERY_H
#define SOCDIR_QUERY_H

#include "node.h"

/* get {ref}: one entry, ORIGIN/ID or ID, its signature checked again. */
json_t *query_get(node_t *node, const json_t *req);
/* search {...}: filters, words, facets, order, a page (PROTOCOL.md 3). */
json_t *query_search(node_t *node, const json_t *req);
/* export {after, limit}: a page of every stored row in rowid order. */
json_t *query_export(node_t *node, const json_t *req);

#endif
