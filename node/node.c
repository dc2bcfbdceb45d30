/*
 * node.c: the node's sockets and its one loop.
 *
 * Sockets:
 *   ctl     ROUTER on ipc://DATA/control.sock (file mode 0600): the CLI's
 *           reads and writes. Only the node's operator can reach it.
 *   query   ROUTER on the config's `query` endpoint, if set: reads only,
 *           open to any client.
 *   listen  ROUTER on the config's `listen` endpoint, if set: peers, CURVE
 *           server with the node's key; the ZAP handler admits members.
 *   zap     REP on inproc://zeromq.zap.01: libzmq asks it about every
 *           CURVE client; it answers 200 for member keys, 400 otherwise.
 *   per member: a DEALER (when the config gives an endpoint) and its
 *           monitor (peer.c).
 * One zmq_poll over all of them; requests are handled to completion in
 * order, each a bounded amount of work (pages of at most MSG_PAGE_MAX
 * rows, batches of at most WIRE_BATCH_MAX envelopes), so no threads.
 * zmq_poll rather than zmq_poller: the latter is a draft in the libzmq
 * Debian ships.
 *
 * Lost database: a node whose database file is missing at start (but whose
 * key is there) restores its own entries from its members before it takes
 * a local write: restoring ends when a pull from every configured member
 * has finished since the start, and the node continues above the highest
 * sequence of its own that any of them reported, so it never reuses a
 * sequence number a member holds; or, when not every member is reachable,
 * after restore_wait seconds with every member it is connected to, 2^20
 * above what they reported (PROTOCOL.md 4.6).
 *
 * Local writes leave the node only after they committed: versions written
 * in a request are kept in `pending` and pushed once the transaction is on
 * disk (node_write_done), or dropped if it failed.
 */
#include "node.h"
#include "log.h"
#include "msg.h"
#include "peer.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define ROUTE_MAX 8             /* routing frames kept per request */
#define SYNC_INTERVAL_MS 10000  /* periodic pull of each peer */
#define SYNC_WAIT_MS 60000      /* longest `socdir sync --wait` */
#define WAITERS_MAX 16
#define CLIENTS_MAX 256         /* client addresses the query rate limit tracks */
#define QUERY_PAGE_MAX 200      /* rows in one search/export page on the query endpoint */

/* Token bucket of one client address on the query endpoint. */
struct client {
    char addr[64];
    double tokens;
    uint64_t last;              /* ms: last refill */
};

/* A `sync --wait` request waiting for pulls to finish. */
struct waiter {
    zmq_msg_t route[ROUTE_MAX];
    int nroute;
    uint64_t since;             /* pulls must finish after this */
    uint64_t deadline;
};

struct node {
    conf_t *conf;               /* owned */
    ident_t *ident;             /* owned: this node's key pair */
    store_t *store;             /* owned: the merged view */
    void *zctx;                 /* ZeroMQ context */
    void *ctl;                  /* ROUTER, control socket */
    void *query;                /* ROUTER, open query endpoint, or NULL */
    void *listen;               /* ROUTER, peer endpoint, or NULL */
    void *zap;                  /* REP, ZAP handler */
    char *ctl_path;             /* filesystem path of the control socket */
    int lock_fd;                /* flock on DATA/lock: one node per data dir */
    uint64_t max_seq;           /* highest sequence this node has used */
    uint64_t last_ts;           /* highest timestamp this node has used */
    bool restoring;             /* database was lost: no local writes yet */
    uint64_t restore_since;     /* ms: pulls finished after this count for the restore */
    uint64_t restore_retry;     /* ms: after a store error, not before this */
    struct pending {            /* local versions of the write in progress */
        uint8_t *env;
        size_t len;
    } *pending;
    size_t npending, cap_pending;
    peer_curve_t curve;         /* our CURVE keys */
    sync_node_t *sync;          /* replication, shared by the peers */
    peer_t **peers;             /* one per member */
    size_t npeers;
    struct waiter waiters[WAITERS_MAX];
    int nwaiters;
    struct client clients[CLIENTS_MAX]; /* query rate limit, by address */
    uint8_t refused_key[32];    /* last key the ZAP handler refused */
    uint64_t refused_at;        /* and when it was logged */
};

static volatile sig_atomic_t s_stop, s_reload;

static void
s_on_signal(int sig)
{
    if (sig == SIGHUP)
        s_reload = 1;
    else
        s_stop = 1;
}

static int
s_bind(void *sock, const char *endpoint, char *err, size_t errlen)
{
    int64_t maxmsg = MSG_MAX;
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(sock, endpoint) != 0)
        return seterr(err, errlen, -1, "bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return 0;
}

/* Writes the endpoint a socket really bound (a port chosen by the system
 * for tcp://host:*) to DATA/NAME.endpoint, for scripts and tests. */
static void
s_write_endpoint(node_t *self, void *sock, const char *name)
{
    char ep[256], path[4096];
    size_t len = sizeof(ep);
    if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
        return;
    snprintf(path, sizeof(path), "%s/%s.endpoint", self->conf->data, name);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%s\n", ep);
        fclose(f);
    }
}

/* ---- replication hooks ---- */

static int
h_send(void *arg, sync_peer_t *sp, const void *buf, size_t len)
{
    node_t *self = arg;
    for (size_t i = 0; i < self->npeers; i++)
        if (peer_sync(self->peers[i]) == sp)
            return peer_send(self->peers[i], self->listen, buf, len);
    return -1;
}

static bool
h_accepts(void *arg, const uint8_t key[ENV_PKBYTES])
{
    node_t *self = arg;
    for (size_t i = 0; i < self->npeers; i++)
        if (memcmp(peer_key(self->peers[i]), key, ENV_PKBYTES) == 0)
            return true;
    return false;
}

/* A pushed version was stored: forward it to every other connected peer. */
static void
h_stored(void *arg, sync_peer_t *from, const uint8_t *env, size_t len)
{
    node_t *self = arg;
    for (size_t i = 0; i < self->npeers; i++) {
        sync_peer_t *sp = peer_sync(self->peers[i]);
        if (sp != from && peer_connected(self->peers[i]))
            sync_peer_push(sp, env, len);
    }
}

/* Restoring ends (PROTOCOL.md 4.6) when every configured member finished
 * a pull since the node started restoring: then it knows the highest
 * sequence of its own any member holds, and continues right above it.
 * In a federation whose members are not all reachable, it ends too once
 * restore_wait seconds have passed, at least one pull finished and every
 * member it is connected to has finished one: then it continues
 * RESTORE_JUMP above what they reported, clear of what an unreachable
 * member may hold. Returns 0 (done or not yet), -1 on a store error (still
 * restoring, tried again later). */
#define RESTORE_JUMP (UINT64_C(1) << 20)

static int
s_restore_check(node_t *self, uint64_t now)
{
    uint64_t max_seq, max_ts, wait = (uint64_t)conf_restore_wait(self->conf) * 1000;
    size_t pulled = 0, connected = 0, connected_pulled = 0;
    if (now < self->restore_retry)
        return 0;
    for (size_t i = 0; i < self->npeers; i++) {
        bool done = sync_peer_synced_since(peer_sync(self->peers[i]), self->restore_since);
        bool up = peer_connected(self->peers[i]);
        pulled += done;
        connected += up;
        connected_pulled += up && done;
    }
    bool all = pulled == self->npeers;
    if (!all && (wait == 0 || now - self->restore_since < wait || pulled == 0 ||
                 connected_pulled < connected))
        return 0;
    if (store_begin(self->store) != 0)
        goto fail;
    if (store_origin_max(self->store, ident_pk(self->ident), &max_seq, &max_ts) != 0)
        goto fail;
    max_seq = max_seq > self->max_seq ? max_seq : self->max_seq;
    if (!all)
        max_seq += RESTORE_JUMP;
    if (store_set_complete(self->store, ident_pk(self->ident), max_seq) != 0 ||
        store_meta_set(self->store, "restoring", "0") != 0 || store_commit(self->store) != 0)
        goto fail;
    self->max_seq = max_seq;
    self->last_ts = max_ts > self->last_ts ? max_ts : self->last_ts;
    self->restoring = false;
    char names[512] = "";
    for (size_t i = 0, n = 0; i < self->npeers && n < sizeof(names); i++)
        if (sync_peer_synced_since(peer_sync(self->peers[i]), self->restore_since))
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
                                  peer_name(self->peers[i]));
    if (all)
        log_info("restored own entries from %s: next sequence %llu", names,
                 (unsigned long long)self->max_seq + 1);
    else
        log_warnx("restored own entries from %s, %zu of %zu members (the others unreachable for"
                  " %d s): next sequence %llu, %llu above what they hold", names, pulled,
                  self->npeers, conf_restore_wait(self->conf), (unsigned long long)self->max_seq + 1,
                  (unsigned long long)RESTORE_JUMP);
    return 0;
fail:
    log_warnx("restore: store: %s; still restoring, trying again in 10 s", store_errmsg(self->store));
    store_rollback(self->store);
    self->restore_retry = now + 10000;
    return -1;
}

/* A pull finished. Any node keeps its next sequence above every seq of
 * its own origin a peer reports (a restore from a peer that was behind
 * must not make it reuse one later); a restoring node checks whether it
 * has heard from every member now. */
static void
h_pulled(void *arg, sync_peer_t *from, const wire_mark_t *marks, size_t n)
{
    node_t *self = arg;
    for (size_t i = 0; i < n; i++)
        if (memcmp(marks[i].origin, ident_pk(self->ident), ENV_PKBYTES) == 0 &&
            marks[i].max_seq > self->max_seq)
            self->max_seq = marks[i].max_seq;
    if (self->restoring) {
        log_info("restore: pulled from %s", sync_peer_name(from));
        self->restore_retry = 0;    /* news: try at once, whatever failed before */
        s_restore_check(self, now_ms());
    }
}

json_t *
node_restore_pending(node_t *self)
{
    json_t *names = json_array();
    for (size_t i = 0; self->restoring && i < self->npeers; i++)
        if (!sync_peer_synced_since(peer_sync(self->peers[i]), self->restore_since))
            json_array_append_new(names, json_string(peer_name(self->peers[i])));
    return names;
}

/* ---- membership ---- */

static void
s_peers_free(node_t *self)
{
    for (size_t i = 0; i < self->npeers; i++)
        peer_destroy(&self->peers[i]);
    free(self->peers);
    self->peers = NULL;
    self->npeers = 0;
}

/* Builds a link per member of conf, keeping the links (their connections
 * and sync state) of members whose key did not change: a new name or
 * endpoint is applied to the kept link. */
static void
s_peers_apply(node_t *self, const conf_t *conf)
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

static void
s_reload_members(node_t *self)
{
    char err[1024];
    conf_t *fresh = conf_load(self->conf->path, err, sizeof(err));
    if (fresh == NULL) {
        log_warnx("reload refused, membership unchanged: %s", err);
        return;
    }
    s_peers_apply(self, fresh);
    /* Only membership reloads; the rest of [node] needs a restart. */
    conf_member_t *members = self->conf->members;
    size_t n = self->conf->nmembers;
    self->conf->members = fresh->members;
    self->conf->nmembers = fresh->nmembers;
    fresh->members = members;
    fresh->nmembers = n;
    conf_free(&fresh);
    log_info("membership reloaded: %zu member%s", self->npeers, self->npeers == 1 ? "" : "s");
    if (self->restoring)
        s_restore_check(self, now_ms());    /* a member it waited for may be gone */
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

static void
s_on_zap(node_t *self)
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
static void
s_on_listen(node_t *self, uint64_t now)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&rid, self->listen, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&rid) ||
        zmq_msg_recv(&body, self->listen, ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_msg_more(&body)) {          /* peer frames are single-part */
        int more = 1;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, self->listen, 0);
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
            peer_on_router(self->peers[i], self->listen, zmq_msg_data(&rid), zmq_msg_size(&rid),
                           zmq_msg_data(&body), zmq_msg_size(&body), now);
            break;
        }
    }
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
}

/* ---- life cycle ---- */

node_t *
node_new(conf_t **conf_p, char *err, size_t errlen)
{
    node_t *self = xcalloc(1, sizeof(*self));
    char path[4096], stored[64];

    self->conf = *conf_p;
    *conf_p = NULL;
    self->lock_fd = -1;
    const conf_t *c = self->conf;

    self->ident = ident_load(c->data, err, errlen);
    if (self->ident == NULL)
        goto fail;
    snprintf(path, sizeof(path), "%s/lock", c->data);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0 || flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, errno == EWOULDBLOCK
               ? "another socdir-node runs on this data directory" : strerror(errno));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/socdir.db", c->data);
    bool lost = access(path, F_OK) != 0;
    self->store = store_open(path, err, errlen);
    if (self->store == NULL)
        goto fail;
    if (store_meta_get(self->store, "node_id", stored, sizeof(stored)) == 0) {
        if (strcmp(stored, ident_id(self->ident)) != 0) {
            seterr(err, errlen, -1, "%s belongs to node %s, not to this key %s", path, stored,
                   ident_id(self->ident));
            goto fail;
        }
    } else if (store_meta_set(self->store, "node_id", ident_id(self->ident)) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(self->store));
        goto fail;
    }
    if (lost && c->nmembers > 0) {
        if (store_meta_set(self->store, "restoring", "1") != 0) {
            seterr(err, errlen, -1, "%s: %s", path, store_errmsg(self->store));
            goto fail;
        }
        log_warnx("%s was missing: restoring this node's own entries from peers before"
                  " taking local writes (from each of its %zu member%s)", path, c->nmembers,
                  c->nmembers == 1 ? "" : "s");
    }
    self->restoring = store_meta_get(self->store, "restoring", stored, sizeof(stored)) == 0 &&
                      strcmp(stored, "1") == 0;
    self->restore_since = now_ms();
    if (store_origin(self->store, ident_pk(self->ident), c->name) < 0 ||
        store_origin_max(self->store, ident_pk(self->ident), &self->max_seq, &self->last_ts) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(self->store));
        goto fail;
    }
    if (ident_curve(self->ident, self->curve.pk, self->curve.sk) != 0) {
        seterr(err, errlen, -1, "cannot convert the node key to X25519");
        goto fail;
    }

    self->zctx = zmq_ctx_new();
    self->ctl = zmq_socket(self->zctx, ZMQ_ROUTER);
    if (asprintf(&self->ctl_path, "%s/control.sock", c->data) < 0)
        abort();
    snprintf(path, sizeof(path), "ipc://%s", self->ctl_path);
    if (s_bind(self->ctl, path, err, errlen) != 0)
        goto fail;
    if (chmod(self->ctl_path, 0600) != 0) {
        seterr(err, errlen, -1, "chmod %s: %s", self->ctl_path, strerror(errno));
        goto fail;
    }
    if (c->query != NULL) {
        self->query = zmq_socket(self->zctx, ZMQ_ROUTER);
        if (s_bind(self->query, c->query, err, errlen) != 0)
            goto fail;
        s_write_endpoint(self, self->query, "query");
    }
    sync_hooks_t hooks = { .arg = self, .send = h_send, .accepts = h_accepts,
                           .stored = h_stored, .pulled = h_pulled };
    self->sync = sync_node_new(self->store, ident_pk(self->ident), c->name, &hooks,
                               SYNC_INTERVAL_MS);
    if (c->listen != NULL) {
        /* The ZAP handler must be bound before any CURVE server socket. */
        self->zap = zmq_socket(self->zctx, ZMQ_REP);
        if (zmq_bind(self->zap, "inproc://zeromq.zap.01") != 0) {
            seterr(err, errlen, -1, "ZAP handler: %s", zmq_strerror(zmq_errno()));
            goto fail;
        }
        self->listen = zmq_socket(self->zctx, ZMQ_ROUTER);
        peer_socket_options(self->listen);
        int one = 1;
        zmq_setsockopt(self->listen, ZMQ_CURVE_SERVER, &one, sizeof(one));
        zmq_setsockopt(self->listen, ZMQ_CURVE_SECRETKEY, self->curve.sk, 32);
        zmq_setsockopt(self->listen, ZMQ_ZAP_DOMAIN, "socdir", 6);
        zmq_setsockopt(self->listen, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
        if (zmq_bind(self->listen, c->listen) != 0) {
            seterr(err, errlen, -1, "bind %s: %s", c->listen, zmq_strerror(zmq_errno()));
            goto fail;
        }
        s_write_endpoint(self, self->listen, "listen");
    }
    s_peers_apply(self, self->conf);
    return self;
fail:
    node_destroy(&self);
    return NULL;
}

void
node_destroy(node_t **self_p)
{
    if (*self_p) {
        node_t *self = *self_p;
        for (int i = 0; i < self->nwaiters; i++)
            for (int j = 0; j < self->waiters[i].nroute; j++)
                zmq_msg_close(&self->waiters[i].route[j]);
        node_write_done(self, false);
        free(self->pending);
        s_peers_free(self);
        sync_node_destroy(&self->sync);
        if (self->ctl)
            zmq_close(self->ctl);
        if (self->query)
            zmq_close(self->query);
        if (self->listen)
            zmq_close(self->listen);
        if (self->zap)
            zmq_close(self->zap);
        if (self->zctx)
            zmq_ctx_term(self->zctx);
        if (self->ctl_path)
            unlink(self->ctl_path);
        free(self->ctl_path);
        store_close(&self->store);
        ident_destroy(&self->ident);
        conf_free(&self->conf);
        if (self->lock_fd >= 0)
            close(self->lock_fd);
        sodium_memzero(&self->curve, sizeof(self->curve));
        free(self);
        *self_p = NULL;
    }
}

store_t *
node_store(node_t *self)
{
    return self->store;
}

const ident_t *
node_ident(node_t *self)
{
    return self->ident;
}

const conf_t *
node_conf(node_t *self)
{
    return self->conf;
}

bool
node_restoring(node_t *self)
{
    return self->restoring;
}

void
node_write_begin(node_t *self)
{
    uint64_t stored_seq, stored_ts;
    /* Versions of our own origin may have come back from peers (pushes,
     * pulls after a restore): never go below what the store holds. */
    if (store_origin_max(self->store, ident_pk(self->ident), &stored_seq, &stored_ts) == 0) {
        self->max_seq = stored_seq > self->max_seq ? stored_seq : self->max_seq;
        self->last_ts = stored_ts > self->last_ts ? stored_ts : self->last_ts;
    }
    assert(self->npending == 0);
}

int
node_next_version(node_t *self, entry_hdr_t *h)
{
    if (self->max_seq >= ENV_SEQ_MAX)
        return -1;
    memcpy(h->origin, ident_pk(self->ident), ENV_PKBYTES);
    h->seq = self->max_seq + 1;
    h->ts = hlc_next(self->last_ts, now_ms());
    return 0;
}

int
node_write_end(node_t *self)
{
    /* Nobody else writes our origin: we are complete up to our own max. */
    return store_set_complete(self->store, ident_pk(self->ident), self->max_seq);
}

void
node_wrote(node_t *self, const entry_hdr_t *h, const uint8_t *env, size_t len)
{
    /* The sequence stays used even if the transaction fails: it never
     * left the node, and not reusing it costs nothing. */
    if (h->seq > self->max_seq)
        self->max_seq = h->seq;
    if (h->ts > self->last_ts)
        self->last_ts = h->ts;
    if (self->npending == self->cap_pending) {
        self->cap_pending = self->cap_pending ? 2 * self->cap_pending : 64;
        self->pending = xrealloc(self->pending, self->cap_pending * sizeof(*self->pending));
    }
    struct pending *p = &self->pending[self->npending++];
    p->env = xmalloc(len);
    memcpy(p->env, env, len);
    p->len = len;
}

void
node_write_done(node_t *self, bool committed)
{
    for (size_t k = 0; k < self->npending; k++) {
        for (size_t i = 0; committed && i < self->npeers; i++)
            if (peer_connected(self->peers[i]))
                sync_peer_push(peer_sync(self->peers[i]), self->pending[k].env, self->pending[k].len);
        free(self->pending[k].env);
    }
    self->npending = 0;
}

size_t
node_peers(node_t *self, peer_t ***peers)
{
    *peers = self->peers;
    return self->npeers;
}

/* ---- control requests ---- */

static void
s_reply(void *sock, zmq_msg_t *route, int nroute, json_t *reply)
{
    msgpack_sbuffer out;
    char err[256];
    if (msg_encode(reply, &out, err, sizeof(err)) != 0) {
        json_t *e = msg_error("reply too large: %s", err);
        if (msg_encode(e, &out, err, sizeof(err)) != 0)
            abort();
        json_decref(e);
    }
    for (int i = 0; i < nroute; i++)
        zmq_msg_send(&route[i], sock, ZMQ_SNDMORE);
    zmq_send(sock, out.data, out.size, 0);
    msgpack_sbuffer_destroy(&out);
}

static json_t *
s_sync_reply(node_t *self, uint64_t since)
{
    json_int_t up = 0, synced = 0;
    for (size_t i = 0; i < self->npeers; i++) {
        if (!peer_connected(self->peers[i]))
            continue;
        up++;
        synced += sync_peer_synced_since(peer_sync(self->peers[i]), since);
    }
    return json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "members", (json_int_t)self->npeers,
                     "reachable", up, "synced", synced);
}

/* sync {wait}: pull from every connected peer now; with wait, the reply
 * is sent when those pulls finish (or after SYNC_WAIT_MS). Returns true
 * if the routing frames were kept for a later reply. */
static bool
s_sync_request(node_t *self, const json_t *req, zmq_msg_t *route, int nroute, json_t **reply)
{
    uint64_t now = now_ms();
    for (size_t i = 0; i < self->npeers; i++)
        if (peer_connected(self->peers[i]))
            sync_peer_pull(peer_sync(self->peers[i]), now);
    if (!json_is_true(json_object_get(req, "wait"))) {
        *reply = s_sync_reply(self, now);
        return false;
    }
    if (self->nwaiters == WAITERS_MAX) {
        *reply = msg_error("too many sync requests waiting");
        return false;
    }
    struct waiter *w = &self->waiters[self->nwaiters++];
    for (int i = 0; i < nroute; i++) {
        zmq_msg_init(&w->route[i]);
        zmq_msg_move(&w->route[i], &route[i]);
    }
    w->nroute = nroute;
    w->since = now;
    w->deadline = now + SYNC_WAIT_MS;
    return true;
}

static void
s_check_waiters(node_t *self, uint64_t now)
{
    for (int i = 0; i < self->nwaiters;) {
        struct waiter *w = &self->waiters[i];
        bool done = now >= w->deadline;
        if (!done) {
            done = true;
            for (size_t j = 0; j < self->npeers; j++)
                if (peer_connected(self->peers[j]) &&
                    !sync_peer_synced_since(peer_sync(self->peers[j]), w->since))
                    done = false;
        }
        if (!done) {
            i++;
            continue;
        }
        json_t *reply = s_sync_reply(self, w->since);
        s_reply(self->ctl, w->route, w->nroute, reply);
        json_decref(reply);
        for (int j = 0; j < w->nroute; j++)
            zmq_msg_close(&w->route[j]);
        self->waiters[i] = self->waiters[--self->nwaiters];
    }
}

/* Takes one token from the client's bucket (rate per second, bursts of
 * twice that). Returns false when the client is over its rate. The table
 * is small and fixed: a full table evicts the longest-idle address. */
static bool
s_rate_ok(node_t *self, const char *addr, uint64_t now)
{
    double rate = conf_query_rate(self->conf), burst = 2 * rate;
    struct client *c = NULL, *idle = &self->clients[0];
    for (int i = 0; i < CLIENTS_MAX; i++) {
        if (strcmp(self->clients[i].addr, addr) == 0) {
            c = &self->clients[i];
            break;
        }
        if (self->clients[i].last < idle->last)
            idle = &self->clients[i];
    }
    if (c == NULL) {
        c = idle;
        snprintf(c->addr, sizeof(c->addr), "%s", addr);
        c->tokens = burst;
        c->last = now;
    }
    c->tokens += (double)(now - c->last) * rate / 1000.0;
    if (c->tokens > burst)
        c->tokens = burst;
    c->last = now;
    if (c->tokens < 1)
        return false;
    c->tokens -= 1;
    return true;
}

/* Receives one request (routing frames + body), answers it. */
static void
s_serve(node_t *self, void *sock, bool local)
{
    zmq_msg_t route[ROUTE_MAX], body;
    int nroute = 0, more = 1;

    zmq_msg_init(&body);
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            goto out;
        }
        more = zmq_msg_more(&part);
        if (!more) {
            zmq_msg_move(&body, &part);
        } else if (nroute < ROUTE_MAX) {
            zmq_msg_init(&route[nroute]);
            zmq_msg_move(&route[nroute++], &part);
        }
        zmq_msg_close(&part);
    }

    char err[256];
    int op = MSG_NONE;
    json_t *reply = NULL;
    json_t *req = msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &op, err, sizeof(err));
    if (req == NULL) {
        log_warnx("%s request refused: %s", local ? "control" : "query", err);
        reply = msg_error("bad request: %s", err);
    } else if (!local && msg_op_access(op) != MSG_READ) {
        reply = msg_error("%s is taken on the node's control socket only", msg_op_name(op));
    } else if (!local && !s_rate_ok(self, zmq_msg_gets(&body, "Peer-Address") ?
                                    zmq_msg_gets(&body, "Peer-Address") : "?", now_ms())) {
        reply = msg_error("rate limit: more than %d requests a second from this address;"
                          " try again shortly", conf_query_rate(self->conf));
    } else if (op == MSG_SYNC) {
        if (s_sync_request(self, req, route, nroute, &reply)) {
            nroute = 0;         /* the waiter owns the routing frames now */
            json_decref(req);
            goto out;
        }
    } else {
        if (!local) {
            /* Open endpoint: smaller pages, so one client cannot hold the
             * loop for long. */
            json_int_t limit = json_integer_value(json_object_get(req, "limit"));
            if (limit <= 0 || limit > QUERY_PAGE_MAX)
                json_object_set_new(req, "limit", json_integer(limit <= 0 && op == MSG_SEARCH ? 20 : QUERY_PAGE_MAX));
        }
        reply = ctl_handle(self, op, req, local);
    }
    json_decref(req);
    s_reply(sock, route, nroute, reply);
    json_decref(reply);
out:
    for (int i = 0; i < nroute; i++)
        zmq_msg_close(&route[i]);
    zmq_msg_close(&body);
}

/* ---- the loop ---- */

#define ITEMS_FIXED 4

int
node_run(node_t *self)
{
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("node %s (%s) ready: control ipc://%s%s%s%s%s, %zu member%s%s",
             ident_id(self->ident), self->conf->name, self->ctl_path,
             self->query ? ", query " : "", self->query ? self->conf->query : "",
             self->listen ? ", peers " : "", self->listen ? self->conf->listen : "",
             self->npeers, self->npeers == 1 ? "" : "s",
             self->restoring ? ", restoring own entries" : "");
    zmq_pollitem_t *items = NULL, *live = NULL;
    size_t *map = NULL;
    while (!s_stop) {
        if (s_reload) {
            s_reload = 0;
            s_reload_members(self);
        }
        size_t n = 0, size = ITEMS_FIXED + 2 * self->npeers;
        items = xrealloc(items, size * sizeof(*items));
        live = xrealloc(live, size * sizeof(*live));
        map = xrealloc(map, size * sizeof(*map));
        void *fixed[ITEMS_FIXED] = { self->ctl, self->query, self->listen, self->zap };
        for (int i = 0; i < ITEMS_FIXED; i++)
            items[n++] = (zmq_pollitem_t){ fixed[i], 0, fixed[i] ? ZMQ_POLLIN : 0, 0 };
        for (size_t i = 0; i < self->npeers; i++) {
            void *d = peer_dealer(self->peers[i]), *m = peer_monitor(self->peers[i]);
            items[n++] = (zmq_pollitem_t){ d, 0, d ? ZMQ_POLLIN : 0, 0 };
            items[n++] = (zmq_pollitem_t){ m, 0, m ? ZMQ_POLLIN : 0, 0 };
        }
        /* Sockets that are NULL are polled with no events: skip them. The
         * arrays are sized from npeers each turn, so every member's DEALER
         * and monitor is polled, however many members there are. */
        size_t nlive = 0;
        for (size_t i = 0; i < n; i++) {
            if (items[i].socket != NULL) {
                map[nlive] = i;
                live[nlive++] = items[i];
            }
        }
        int rc = zmq_poll(live, (int)nlive, 200);
        if (rc < 0 && zmq_errno() != EINTR) {
            log_warnx("poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        uint64_t now = now_ms();
        for (size_t k = 0; rc > 0 && k < nlive; k++) {
            if (!(live[k].revents & ZMQ_POLLIN))
                continue;
            size_t i = map[k];
            if (i == 0)
                s_serve(self, self->ctl, true);
            else if (i == 1)
                s_serve(self, self->query, false);
            else if (i == 2)
                s_on_listen(self, now);
            else if (i == 3)
                s_on_zap(self);
            else if ((i - ITEMS_FIXED) % 2 == 0)
                peer_on_dealer(self->peers[(i - ITEMS_FIXED) / 2], now);
            else
                peer_on_monitor(self->peers[(i - ITEMS_FIXED) / 2], now);
        }
        for (size_t i = 0; i < self->npeers; i++) {
            peer_tick(self->peers[i], now);
            sync_peer_flush(peer_sync(self->peers[i]));
        }
        s_check_waiters(self, now);
        if (self->restoring)
            s_restore_check(self, now);     /* restore_wait may have passed */
    }
    free(items);
    free(live);
    free(map);
    log_info("stopping");
    return 0;
}
