/*
 * write.h: the local write requests (write.c).
 */
#ifndef SOCDIR_WRITE_H
#define SOCDIR_WRITE_H

#include "origin.h"

/* publish {entries: [...]}: signs and stores each entry as a new version
 * of this node's origin, in one transaction. */
json_t *write_publish(origin_t *o, const json_t *req);
/* delete {ids: [...]}: a tombstone for each of this node's entries. */
json_t *write_delete(origin_t *o, const json_t *req);

#endif
