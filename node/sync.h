/*
 * sync.h: replication with one peer, as a state machine with no sockets.
 * The node feeds it frames (sync_peer_recv), link events (up/down) and
 * clock ticks; it answers through the hooks: frames to send, versions
 * stored (to forward), pulls finished. tests/unit/test_sync.c wires two of
 * them together in memory. PROTOCOL.md section 4 is the specification.
 */
#ifndef SOCDIR_SYNC_H
#define SOCDIR_SYNC_H

#include "store.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

#define SYNC_CREDIT        8        /* ENTRIES batches in flight per pull */
#define SYNC_BATCH_BYTES   (1024 * 1024)
#define SYNC_EXPIRE_MS     60000    /* a pull with no progress this long is dropped */
#define SYNC_RATE_MAX      5000     /* frames per second accepted from one peer */

typedef struct sync_node sync_node_t;
typedef struct sync_peer sync_peer_t;

typedef struct {
    void *arg;
    /* Sends one frame to peer. Returns 0, or -1 if it could not be queued. */
    int (*send)(void *arg, sync_peer_t *peer, const void *buf, size_t len);
    /* Whether entries of origin key are accepted (members and this node). */
    bool (*accepts)(void *arg, const uint8_t key[ENV_PKBYTES]);
    /* A new version arrived in a PUSH from peer and was stored: forward
     * it to the other peers. May be NULL. */
    void (*stored)(void *arg, sync_peer_t *from, const uint8_t *env, size_t len);
    /* A pull from peer finished (its repairs too, every batch stored)
     * with the peer's marks at its end; may be NULL. */
    void (*pulled)(void *arg, sync_peer_t *peer, const wire_mark_t *marks, size_t n);
} sync_hooks_t;

/* Counters shown by `socdir peers`. */
typedef struct {
    uint64_t frames;            /* frames received */
    uint64_t received;          /* envelopes received */
    uint64_t stored;            /* of which stored as new versions */
    uint64_t older;             /* refused: this node holds that or newer */
    uint64_t refused_origin;    /* refused: origin is not a member */
    uint64_t refused_signature; /* refused: signature does not verify */
    uint64_t refused_invalid;   /* refused: malformed envelope or invalid body */
    uint64_t malformed;         /* frames that did not decode */
    uint64_t rate_limited;      /* frames dropped over the rate limit */
    uint64_t pulls;             /* pulls completed */
    uint64_t repairs;           /* repair rounds completed */
    uint64_t last_sync;         /* ms: when the last pull completed, 0 never */
    uint64_t last_pull_us;      /* how long the last pull took, repairs included */
    uint64_t last_pull_rounds;  /* its request/answer round trips (SYNC, REPAIR) */
    uint64_t bytes_in, bytes_out;
} sync_stats_t;

/* name is sent to peers in HELLO; interval_ms is the time between
 * periodic pulls of each peer. */
sync_node_t *sync_node_new(store_t *store, const uint8_t self[ENV_PKBYTES], const char *name,
                           const sync_hooks_t *hooks, uint64_t interval_ms);
void sync_node_destroy(sync_node_t **self_p);
/* The name sent in the HELLOs from now on (a reload renamed the node). */
void sync_node_rename(sync_node_t *self, const char *name);

/* A link to the member with this key and name. */
sync_peer_t *sync_peer_new(sync_node_t *node, const uint8_t key[ENV_PKBYTES], const char *name);
void sync_peer_destroy(sync_peer_t **self_p);

const uint8_t *sync_peer_key(const sync_peer_t *self);
/* The member's name in the config changed. */
void sync_peer_rename(sync_peer_t *self, const char *name);
const char *sync_peer_name(const sync_peer_t *self);
const sync_stats_t *sync_peer_stats(const sync_peer_t *self);
bool sync_peer_up(const sync_peer_t *self);
/* "idle", "pulling", "repairing" */
const char *sync_peer_state(const sync_peer_t *self);
/* Whether the peer's last pull finished at or after t. */
bool sync_peer_synced_since(const sync_peer_t *self, uint64_t t);

/* The link is up: pull. Down: forget any exchange in flight. */
void sync_peer_connected(sync_peer_t *self, uint64_t now);
void sync_peer_disconnected(sync_peer_t *self);

/* The HELLO that starts each connection the node sends on (PROTOCOL.md
 * 4.3): the transport sends it before the first frame of every new
 * connection. out is initialised here; the caller destroys it. */
void sync_peer_hello(sync_peer_t *self, msgpack_sbuffer *out);

/* Handles one frame from the peer. greeted: a HELLO already came on the
 * frame's connection; if not, the frame must be one. Returns 1 for a
 * HELLO accepted, 0 for another frame, or -1 when the peer broke the
 * protocol (malformed frame, no HELLO first, no common version): the
 * caller drops it. */
int sync_peer_recv(sync_peer_t *self, const void *buf, size_t len, bool greeted, uint64_t now);

/* Starts a pull now if none is running. */
void sync_peer_pull(sync_peer_t *self, uint64_t now);

/* Timers: periodic pulls, expiry of stalled ones. Returns true when a
 * request stalled and was dropped: the link it went on may be broken in a
 * way the transport does not see (PROTOCOL.md 4.3), so the caller
 * reconnects what it can. */
bool sync_peer_tick(sync_peer_t *self, uint64_t now);

/* Queues a version for the next PUSH; sync_peer_flush sends the queue. */
void sync_peer_push(sync_peer_t *self, const uint8_t *env, size_t len);
void sync_peer_flush(sync_peer_t *self);

#endif
