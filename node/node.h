/*
 * node.h: the running node: configuration, identity, store and the ZeroMQ
 * sockets, driven by one zmq_poller loop. No threads.
 */
#ifndef SOCDIR_NODE_H
#define SOCDIR_NODE_H

#include "conf.h"
#include "ident.h"
#include "store.h"

#include <stdbool.h>

typedef struct node node_t;

/* Opens the store and identity named by conf and binds the sockets.
 * Takes ownership of *conf_p. Returns NULL with err set. */
node_t *node_new(conf_t **conf_p, char *err, size_t errlen);
void node_destroy(node_t **self_p);

/* Runs until SIGTERM or SIGINT. Returns 0 on a clean stop. */
int node_run(node_t *self);

store_t *node_store(node_t *self);
const ident_t *node_ident(node_t *self);
const conf_t *node_conf(node_t *self);

/* Local writes come in batches, inside one store transaction:
 * node_write_begin catches up with versions of this node's own origin
 * that came back from peers; node_next_version gives the header for the
 * next version (the next sequence number and a clock reading that never
 * goes backwards), or -1 when the sequence space is used up;
 * node_write_end records the node complete up to its highest sequence, in
 * the transaction (0 or -1). After the transaction, node_write_done: if it
 * committed, the versions written go to every connected peer; if not,
 * they are dropped. Nothing leaves the node before it is on its disk. */
void node_write_begin(node_t *self);
int node_next_version(node_t *self, entry_hdr_t *h);
int node_write_end(node_t *self);
void node_write_done(node_t *self, bool committed);

/* Called by ctl after storing a local version (env/len): advances the
 * node's sequence and clock and keeps the version for node_write_done. */
void node_wrote(node_t *self, const entry_hdr_t *h, const uint8_t *env, size_t len);

/* True while the node restores its own entries after losing its
 * database: local writes are refused until then (PROTOCOL.md 4.6). */
bool node_restoring(node_t *self);
/* While restoring: the members whose pull the node still waits for, as a
 * new JSON array of names. */
json_t *node_restore_pending(node_t *self);

/* The member links (peer.h); returns how many. */
typedef struct peer peer_t;
size_t node_peers(node_t *self, peer_t ***peers);

/* Control/query request handling (ctl.c): builds the reply to req, an op
 * checked by msg_decode. local is true on the control socket. */
json_t *ctl_handle(node_t *node, int op, const json_t *req, bool local);

#endif
