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

/* What the node knows at start about whether its database holds every
 * sequence number it ever let leave (origin_judge). */
typedef enum {
    ORIGIN_CURRENT,     /* DATA/highest-seq's seq is in the database: current */
    ORIGIN_FIRST,       /* the database never ran with DATA/highest-seq (new, or
                         * from an older build): taken as current, as before */
    ORIGIN_LOST,        /* the database file was missing */
    ORIGIN_MARKED,      /* meta restoring = 1: a backup copy, a restore, or a
                         * restart while restoring */
    ORIGIN_NO_FILE,     /* DATA/highest-seq missing or unreadable, though the
                         * database ran with one */
    ORIGIN_BEHIND       /* DATA/highest-seq names a seq the database lacks */
} origin_state_t;

/* The state of a start: lost, the database file was missing; marked, its
 * meta restoring is 1; tracked, it ran with DATA/highest-seq before;
 * file 1 if that file was read (its seq file_seq), 0 if missing, -1 if
 * malformed; db_seq the highest own seq the database holds or has
 * recorded complete. Only ORIGIN_CURRENT and ORIGIN_FIRST may write at
 * once (PROTOCOL.md 4.6). */
origin_state_t origin_judge(bool lost, bool marked, bool tracked, int file, uint64_t file_seq,
                            uint64_t db_seq);

/* This node's origin in store (which must belong to ident: the node id
 * the database records; a new database records it). lost: the database
 * file was missing. The node restores first (restore_wait, PROTOCOL.md
 * 4.6) when it has members in conf to restore from and cannot prove its
 * database current (origin_judge over the database and the file
 * conf->data/highest-seq, which it keeps at the highest seq it let
 * leave: written and fsynced after each local write committed and
 * before it is pushed). store, ident and links
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
 * database or starting on one it cannot prove current: local writes are
 * refused until then (PROTOCOL.md 4.6). */
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
