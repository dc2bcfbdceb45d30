/*
 * links.c: the set of member links.
 *
 * One peer per member of the config, kept across reloads by the member's
 * key (a reload that changes a member's name or endpoint keeps its
 * connections, their greetings and its replication state: PROTOCOL.md
 * 4.4). The peer endpoint is a ROUTER, CURVE server with the node's key;
 * libzmq asks the ZAP handler (RFC 27, a REP on inproc://zeromq.zap.01)
 * about every CURVE client, and it answers 200 with the member's node id
 * as User-Id for member keys, 400 otherwise. Every frame on the ROUTER
 * names its member in User-Id, and goes to that member's peer.
 */
#include "links.h"
#include "log.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

struct links {
    void *zctx;                 /* ZeroMQ context, borrowed */
    peer_curve_t curve;         /* our CURVE keys */
    sync_node_t *sync;          /* replication, borrowed */
    store_t *store;             /* borrowed: learns member names */
    void *router;               /* ROUTER, peer endpoint, or NULL */
    void *zap;                  /* REP, ZAP handler, or NULL */
    peer_t **peers;             /* one per member */
    size_t npeers;
    uint8_t refused_key[32];    /* last key the ZAP handler refused */
    uint64_t refused_at;        /* and when it was logged */
};

links_t *
links_new(void *zctx, const peer_curve_t *curve, sync_node_t *sync, store_t *store)
{
    links_t *self = xcalloc(1, sizeof(*self));
    self->zctx = zctx;
    self->curve = *curve;
    self->sync = sync;
    self->store = store;
    return self;
}

void
links_destroy(links_t **self_p)
{
    if (*self_p) {
        links_t *self = *self_p;
        for (size_t i = 0; i < self->npeers; i++)
            peer_destroy(&self->peers[i]);
        free(self->peers);
        if (self->router)
            zmq_close(self->router);
        if (self->zap)
            zmq_close(self->zap);
        sodium_memzero(&self->curve, sizeof(self->curve));
        free(self);
        *self_p = NULL;
    }
}

int
links_listen(links_t *self, const char *endpoint, char *err, size_t errlen)
{
    /* The ZAP handler must be bound before any CURVE server socket. */
    self->zap = zmq_socket(self->zctx, ZMQ_REP);
    if (zmq_bind(self->zap, "inproc://zeromq.zap.01") != 0)
        return seterr(err, errlen, -1, "ZAP handler: %s", zmq_strerror(zmq_errno()));
    self->router = zmq_socket(self->zctx, ZMQ_ROUTER);
    peer_socket_options(self->router);
    int one = 1;
    zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &one, sizeof(one));
    zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, self->curve.sk, 32);
    zmq_setsockopt(self->router, ZMQ_ZAP_DOMAIN, "socdir", 6);
    zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    if (strncmp(endpoint, "tcp://[", 7) == 0)      /* libzmq takes IPv6 only when told */
        zmq_setsockopt(self->router, ZMQ_IPV6, &one, sizeof(one));
    if (zmq_bind(self->router, endpoint) != 0)
        return seterr(err, errlen, -1, "bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return 0;
}

void *
links_router(links_t *self)
{
    return self->router;
}

void *
links_zap(links_t *self)
{
    return self->zap;
}

void
links_apply(links_t *self, const conf_t *conf)
{
    peer_t **old = self->peers;
    size_t nold = self->npeers;
    uint64_t now = now_ms();
    self->peers = xcalloc(conf->nmembers + 1, sizeof(*self->peers));
    self->npeers = 0;
    for (size_t i = 0; i < conf->nmembers; i++) {
        const conf_member_t *m = &conf->members[i];
        peer_t *keep = NULL;
        for (size_t j = 0; j < nold && keep == NULL; j++) {
            if (old[j] != NULL && memcmp(peer_key(old[j]), m->key, ENV_PKBYTES) == 0) {
                keep = old[j];
                old[j] = NULL;          /* kept for this member */
                peer_set_member(keep, m, now);
            }
        }
        if (keep == NULL) {
            sync_peer_t *sp = sync_peer_new(self->sync, m->key, m->name);
            keep = peer_new(self->zctx, m, &self->curve, sp, (int)i);
        }
        store_origin(self->store, m->key, m->name);
        self->peers[self->npeers++] = keep;
    }
    for (size_t j = 0; j < nold; j++)
        peer_destroy(&old[j]);
    free(old);
}

/* What a link costs the process. A member it dials: the DEALER and the
 * two PAIR ends of the DEALER's monitor, three ZeroMQ sockets that each
 * hold a file descriptor (their mailbox), and the TCP connection. A
 * member that only dials in: its connection on the ROUTER. The node
 * itself: its control, query, peer and ZAP sockets and the context's
 * reaper; SQLite's files, the logs, listening sockets and room to spare. */
#define LINK_SOCKETS 3
#define LINK_FILES 4
#define NODE_SOCKETS 16
#define NODE_FILES 64
#define FILES_MAX (1L << 20)    /* the kernel's usual nr_open */

void
links_limits(void *zctx, long *files, long *sockets)
{
    struct rlimit rl;
    *files = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > FILES_MAX ? FILES_MAX : rl.rlim_max;
        if (rl.rlim_cur < want) {
            rl.rlim_cur = want;
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                getrlimit(RLIMIT_NOFILE, &rl);
        }
        *files = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > FILES_MAX ? FILES_MAX : (long)rl.rlim_cur;
    }
    *sockets = *files;
    if (zctx != NULL) {
        int most = zmq_ctx_get(zctx, ZMQ_SOCKET_LIMIT);
        if (most > 0 && most < *sockets)
            *sockets = most;
        if (zmq_ctx_set(zctx, ZMQ_MAX_SOCKETS, (int)*sockets) != 0)
            *sockets = zmq_ctx_get(zctx, ZMQ_MAX_SOCKETS);
    }
}

int
links_fit(const conf_t *conf, long files, long sockets, char *err, size_t errlen)
{
    long dial = 0;
    for (size_t i = 0; i < conf->nmembers; i++)
        dial += conf->members[i].endpoint != NULL;
    long in = (long)conf->nmembers - dial;
    long by_sockets = (sockets - NODE_SOCKETS) / LINK_SOCKETS;
    long by_files = (files - NODE_FILES - in) / LINK_FILES;
    long most = by_sockets < by_files ? by_sockets : by_files;
    if (most < 0)
        most = 0;
    if (dial <= most)
        return 0;
    seterr(err, errlen, -1, "%ld members with an endpoint to dial, more than the %ld this process can"
           " (open-file limit %ld, ZeroMQ socket limit %ld; each dialled member needs %d files):"
           " raise LimitNOFILE= in the unit or ulimit -n", dial, most, files, sockets, LINK_FILES);
    return -1;
}

size_t
links_count(const links_t *self)
{
    return self->npeers;
}

peer_t *
links_peer(links_t *self, size_t i)
{
    return i < self->npeers ? self->peers[i] : NULL;
}

bool
links_member(const links_t *self, const uint8_t key[ENV_PKBYTES])
{
    for (size_t i = 0; i < self->npeers; i++)
        if (memcmp(peer_key(self->peers[i]), key, ENV_PKBYTES) == 0)
            return true;
    return false;
}

int
links_send(links_t *self, sync_peer_t *sp, const void *buf, size_t len)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (peer_sync(self->peers[i]) == sp)
            return peer_send(self->peers[i], self->router, buf, len);
    return -1;
}

void
links_push(links_t *self, const sync_peer_t *from, const uint8_t *env, size_t len)
{
    for (size_t i = 0; i < self->npeers; i++) {
        sync_peer_t *sp = peer_sync(self->peers[i]);
        if (sp != from && peer_connected(self->peers[i]))
            sync_peer_push(sp, env, len);
    }
}

void
links_pull(links_t *self, uint64_t now)
{
    for (size_t i = 0; i < self->npeers; i++)
        if (peer_connected(self->peers[i]))
            sync_peer_pull(peer_sync(self->peers[i]), now);
}

size_t
links_connected(const links_t *self, uint64_t since, size_t *synced)
{
    size_t up = 0;
    *synced = 0;
    for (size_t i = 0; i < self->npeers; i++) {
        if (!peer_connected(self->peers[i]))
            continue;
        up++;
        *synced += sync_peer_synced_since(peer_sync(self->peers[i]), since);
    }
    return up;
}

/* ---- ZAP: which CURVE clients may connect ---- */

static void
s_zap_reply(void *zap, zmq_msg_t *version, zmq_msg_t *reqid, const char *code, const char *text,
            const char *user)
{
    zmq_msg_send(version, zap, ZMQ_SNDMORE);
    zmq_msg_send(reqid, zap, ZMQ_SNDMORE);
    zmq_send(zap, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

void
links_on_zap(links_t *self)
{
    zmq_msg_t part[7];
    int n = 0, more = 1;
    for (int i = 0; i < 7; i++)
        zmq_msg_init(&part[i]);
    while (more && n < 7) {
        if (zmq_msg_recv(&part[n], self->zap, ZMQ_DONTWAIT) < 0)
            goto out;
        more = zmq_msg_more(&part[n]);
        n++;
    }
    while (more) {              /* more frames than ZAP has: drain */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, self->zap, 0);
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    if (n < 6)
        goto out;
    char address[64];
    snprintf(address, sizeof(address), "%.*s", (int)(zmq_msg_size(&part[3]) < 63 ? zmq_msg_size(&part[3]) : 63),
             (const char *)zmq_msg_data(&part[3]));
    if (n == 7 && zmq_msg_size(&part[5]) == 5 && memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0 &&
        zmq_msg_size(&part[6]) == 32) {
        for (size_t i = 0; i < self->npeers; i++) {
            if (sodium_memcmp(peer_curve_key(self->peers[i]), zmq_msg_data(&part[6]), 32) == 0) {
                char id[NODEID_LEN + 1];
                key_to_id(peer_key(self->peers[i]), id);
                s_zap_reply(self->zap, &part[0], &part[1], "200", "OK", id);
                goto out;
            }
        }
        /* A refused client retries every few seconds: log each key once a minute. */
        uint64_t now = now_ms();
        if (memcmp(self->refused_key, zmq_msg_data(&part[6]), 32) != 0 ||
            now - self->refused_at > 60000) {
            char hex[65];
            to_hex(zmq_msg_data(&part[6]), 32, hex);
            log_warnx("refused peer from %s: its key (X25519 %s) is not a member's", address, hex);
            memcpy(self->refused_key, zmq_msg_data(&part[6]), 32);
            self->refused_at = now;
        }
    } else {
        log_warnx("refused peer from %s: not a CURVE client", address);
    }
    s_zap_reply(self->zap, &part[0], &part[1], "400", "not a member", "");
out:
    for (int i = 0; i < 7; i++)
        zmq_msg_close(&part[i]);
}

/* A frame on the peer ROUTER: [routing id][frame], User-Id names the member. */
void
links_on_router(links_t *self, uint64_t now)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, self->router, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&rid) ||
        zmq_msg_recv(&body, self->router, ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_msg_more(&body)) {          /* peer frames are single-part */
        int more = 1;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, self->router, 0);
            more = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
        goto out;
    }
    const char *user = zmq_msg_gets(&body, "User-Id");
    uint8_t key[ENV_PKBYTES];
    if (user == NULL || key_from_id(user, key) != 0)
        goto out;
    for (size_t i = 0; i < self->npeers; i++) {
        if (memcmp(peer_key(self->peers[i]), key, ENV_PKBYTES) == 0) {
            peer_on_router(self->peers[i], self->router, zmq_msg_data(&rid), zmq_msg_size(&rid),
                           zmq_msg_data(&body), zmq_msg_size(&body), now);
            break;
        }
    }
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
}

void
links_tick(links_t *self, uint64_t now)
{
    for (size_t i = 0; i < self->npeers; i++) {
        peer_tick(self->peers[i], now);
        sync_peer_flush(peer_sync(self->peers[i]));
    }
}
