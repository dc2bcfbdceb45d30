/*
 * origin.h: this node as an origin: the sequence and clock of its own
 * versions, the restore after a lost database, and the versions of the
 * write in progress, which leave the node only after they committed.
 */
#ifndef SOCDIR_ORIGIN_H
#define SOCDIR_ORIGIN_H

#include "conf.h"
#include "ident.h"
#include "links.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct origin origin_t;

/* This node's origin in store (which must belong to ident: the node id
 * the database records; a new database records it). lost: the database
 * file was missing, so with members in conf to restore from, the node
 * restores first (restore_wait, PROTOCOL.md 4.6). store, ident and links
 * are borrowed. Returns NULL with err set, naming path. */
origin_t *origin_open(store_t *store, const ident_t *ident, links_t *links, const conf_t *conf,
                      const char *path, bool lost, char *err, size_t errlen);
void origin_destroy(origin_t **self_p);

store_t *origin_store(origin_t *self);
const ident_t *origin_ident(const origin_t *self);

/* Local writes come in batches, inside one store transaction:
 * origin_write_begin catches up with versions of this node's own origin
 * that came back from peers; origin_next_version gives the header for the
 * next version (the next sequence number and a clock reading that never
 * goes backwards), or -1 when the sequence space is used up; origin_wrote
 * advances the sequence and clock past a version stored and keeps the
 * version; origin_write_end records the node complete up to its highest
 * sequence, in the transaction (0 or -1). After the transaction,
 * origin_write_done: if it committed, the versions written go to every
 * connected member; if not, they are dropped. Nothing leaves the node
 * before it is on its disk. */
void origin_write_begin(origin_t *self);
int origin_next_version(origin_t *self, entry_hdr_t *h);
void origin_wrote(origin_t *self, const entry_hdr_t *h, const uint8_t *env, size_t len);
int origin_write_end(origin_t *self);
void origin_write_done(origin_t *self, bool committed);

/* True while the node restores its own entries after losing its
 * database: local writes are refused until then (PROTOCOL.md 4.6). */
bool origin_restoring(const origin_t *self);
/* While restoring: the members whose pull the node still waits for, as a
 * new JSON array of names. */
json_t *origin_restore_pending(origin_t *self);
/* A pull from a member finished with these SYNC_END marks. */
void origin_pulled(origin_t *self, const sync_peer_t *from, const wire_mark_t *marks, size_t n);
/* While restoring: ends the restore if its rule allows now (after a
 * timer, a reload). Returns 0 (done or not yet), -1 on a store error
 * (still restoring, tried again later). */
int origin_restore_check(origin_t *self, uint64_t now);

#endif
