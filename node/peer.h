/*
 * peer.h: the transport to one federation member. A member is reached by
 * our DEALER (if its config section names an endpoint we dial) and/or via
 * our ROUTER (when it dials us). Both are CURVE with the nodes' own keys
 * converted to X25519. The replication logic is in sync.c; this module
 * only moves frames and tracks whether the member is reachable.
 */
#ifndef SOCDIR_PEER_H
#define SOCDIR_PEER_H

#include "conf.h"
#include "sync.h"

#include <stdbool.h>
#include <stdint.h>

#define PEER_BAN_MS 60000   /* a member that broke the protocol is ignored this long */

typedef struct peer peer_t;

/* Our CURVE keys, derived from the node's Ed25519 key pair. */
typedef struct {
    uint8_t pk[32];
    uint8_t sk[32];
} peer_curve_t;

/* Options of every peer socket: message size limit, heartbeats, linger. */
void peer_socket_options(void *sock);

/* A link to member m (copied). sync is the member's replication state;
 * the peer owns it. Dials m->endpoint if set. */
peer_t *peer_new(void *zctx, const conf_member_t *m, const peer_curve_t *curve, sync_peer_t *sync,
                 int index);
void peer_destroy(peer_t **self_p);
/* The member's config section changed (same key): takes its new name and
 * endpoint, redialing if the endpoint changed. The ROUTER connections and
 * the replication state stay: they belong to the member, not to the
 * section (a member that dials us keeps its connection across our
 * reloads, and the greeting it sent on it). */
void peer_set_member(peer_t *self, const conf_member_t *m, uint64_t now);

const char *peer_name(const peer_t *self);
const uint8_t *peer_key(const peer_t *self);
const char *peer_endpoint(const peer_t *self);
sync_peer_t *peer_sync(peer_t *self);
/* X25519 public key of the member, to check CURVE clients against. */
const uint8_t *peer_curve_key(const peer_t *self);

/* Sockets to poll: the DEALER and its monitor (NULL when not dialing). */
void *peer_dealer(peer_t *self);
void *peer_monitor(peer_t *self);

/* Handles a monitor event (connected, disconnected...). */
void peer_on_monitor(peer_t *self, uint64_t now);
/* Handles a frame on the DEALER. */
void peer_on_dealer(peer_t *self, uint64_t now);
/* A frame from the member arrived on our ROUTER with routing id rid. */
void peer_on_router(peer_t *self, void *router, const void *rid, size_t rid_len,
                    const void *buf, size_t len, uint64_t now);

/* Sends one frame by the best path. Returns 0 or -1. */
int peer_send(peer_t *self, void *router, const void *buf, size_t len);

/* Timers: router idleness, end of a ban (re-dial). */
void peer_tick(peer_t *self, uint64_t now);

/* Whether a frame path to the member is up; protocol errors seen. */
bool peer_connected(const peer_t *self);
uint64_t peer_errors(const peer_t *self);

#endif
