/*
 * links.h: this node's links to its members, as a set: one peer (peer.h)
 * per member of the config, the peer endpoint (ROUTER, CURVE server) and
 * the ZAP handler that admits members to it.
 */
#ifndef SOCDIR_LINKS_H
#define SOCDIR_LINKS_H

#include "conf.h"
#include "peer.h"
#include "store.h"
#include "sync.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct links links_t;

/* An empty set of links. zctx, curve (copied), sync and store are
 * borrowed; store learns the members' names. */
links_t *links_new(void *zctx, const peer_curve_t *curve, sync_node_t *sync, store_t *store);
void links_destroy(links_t **self_p);

/* Binds the ZAP handler and the peer endpoint (ROUTER, CURVE server).
 * Returns 0 or -1 (err). */
int links_listen(links_t *self, const char *endpoint, char *err, size_t errlen);
/* The peer endpoint and the ZAP socket, to poll; NULL when not listening. */
void *links_router(links_t *self);
void *links_zap(links_t *self);

/* A link per member of conf, keeping the links (their connections and
 * sync state) of members whose key did not change: a new name or endpoint
 * is applied to the kept link. */
void links_apply(links_t *self, const conf_t *conf);

/* The process's limits on links: raises the soft open-file limit to the
 * hard one and sets zctx's (a context with no socket yet; NULL: only the
 * files) socket limit to match. Stores the file limit in *files and the
 * socket limit in *sockets. */
void links_limits(void *zctx, long *files, long *sockets);
/* Whether conf's members fit those limits: 0, or -1 with err saying how
 * many members it can dial and which limit to raise. */
int links_fit(const conf_t *conf, long files, long sockets, char *err, size_t errlen);

size_t links_count(const links_t *self);
peer_t *links_peer(links_t *self, size_t i);
/* Whether key is a member's. */
bool links_member(const links_t *self, const uint8_t key[ENV_PKBYTES]);

/* Sends a frame to the member whose replication state is sp. */
int links_send(links_t *self, sync_peer_t *sp, const void *buf, size_t len);
/* Queues a version for PUSH to every connected member but from (NULL:
 * every one). */
void links_push(links_t *self, const sync_peer_t *from, const uint8_t *env, size_t len);
/* Starts a pull from every connected member. */
void links_pull(links_t *self, uint64_t now);
/* Connected members, and how many of them finished a pull after since. */
size_t links_connected(const links_t *self, uint64_t since, size_t *synced);

/* Readable events: a ZAP request; a frame on the peer endpoint. */
void links_on_zap(links_t *self);
void links_on_router(links_t *self, uint64_t now);
/* Timers of every link, then the queued pushes go out. */
void links_tick(links_t *self, uint64_t now);

#endif
