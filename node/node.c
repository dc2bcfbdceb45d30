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
 * The parts: origin.c (this node's own versions and its restore),
 * links.c (the members, the peer endpoint and ZAP), ctl.c (the request
 * table; write.c and query.c carry the requests out), sync.c and
 * sync_serve.c (replication), store.c (the database). This file owns them,
 * wires the replication hooks between them and drives the loop.
 */
#include "node.h"
#include "ctl.h"
#include "links.h"
#include "log.h"
#include "msg.h"
#include "origin.h"
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

#define SYNC_INTERVAL_MS 10000  /* periodic pull of each peer */

struct node {
    conf_t *conf;               /* owned */
    ident_t *ident;             /* owned: this node's key pair */
    store_t *store;             /* owned: the merged view */
    origin_t *origin;           /* owned: this node's own versions, the restore */
    links_t *links;             /* owned: the members */
    ctl_t *ctl;                 /* owned: requests */
    sync_node_t *sync;          /* owned: replication, shared by the links */
    void *zctx;                 /* ZeroMQ context */
    void *ctl_sock;             /* ROUTER, control socket */
    void *query;                /* ROUTER, open query endpoint, or NULL */
    char *ctl_path;             /* filesystem path of the control socket */
    int lock_fd;                /* flock on DATA/lock: one node per data dir */
    peer_curve_t curve;         /* our CURVE keys */
    long files, sockets;        /* the process's limits on links (links_limits) */
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
    if (strncmp(endpoint, "tcp://[", 7) == 0) {     /* libzmq takes IPv6 only when told */
        int one = 1;
        zmq_setsockopt(sock, ZMQ_IPV6, &one, sizeof(one));
    }
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
    return links_send(self->links, sp, buf, len);
}

static bool
h_accepts(void *arg, const uint8_t key[ENV_PKBYTES])
{
    node_t *self = arg;
    return links_member(self->links, key);
}

/* A pushed version was stored: forward it to every other connected peer. */
static void
h_stored(void *arg, sync_peer_t *from, const uint8_t *env, size_t len)
{
    node_t *self = arg;
    links_push(self->links, from, env, len);
}

static void
h_pulled(void *arg, sync_peer_t *from, const wire_mark_t *marks, size_t n)
{
    node_t *self = arg;
    origin_pulled(self->origin, from, marks, n);
}

/* ---- reload (SIGHUP) ---- */

/* The [node] settings a reload applies: each is read where it is used
 * (status, the query rate limit, the HELLO), so swapping the string in
 * self->conf is enough. The rest are fixed when the node starts: the
 * data directory and database, the bound sockets, the restore wait
 * (origin_open copied it). */
static const struct {
    const char *key;
    size_t offset;
    bool live;
} s_settings[] = {
    { "name", offsetof(conf_t, name), true },
    { "country", offsetof(conf_t, country), true },
    { "region", offsetof(conf_t, region), true },
    { "query_rate", offsetof(conf_t, query_rate), true },
    { "data", offsetof(conf_t, data), false },
    { "listen", offsetof(conf_t, listen), false },
    { "query", offsetof(conf_t, query), false },
    { "restore_wait", offsetof(conf_t, restore_wait), false },
};

static bool
s_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Applies the live settings of fresh to self->conf and warns about each
 * changed one that needs a restart (which keeps its running value). */
static void
s_reload_settings(node_t *self, conf_t *fresh)
{
    for (size_t i = 0; i < sizeof(s_settings) / sizeof(s_settings[0]); i++) {
        char **now = (char **)((char *)self->conf + s_settings[i].offset);
        char **want = (char **)((char *)fresh + s_settings[i].offset);
        if (s_same(*now, *want))
            continue;
        if (!s_settings[i].live) {
            log_warnx("reload: '%s' changed; it takes effect at the next restart", s_settings[i].key);
            continue;
        }
        log_info("reload: %s is now %s", s_settings[i].key, *want ? *want : "(default)");
        char *t = *now;
        *now = *want;
        *want = t;
    }
    sync_node_rename(self->sync, self->conf->name);
    if (store_origin(self->store, ident_pk(self->ident), self->conf->name) < 0)
        log_warnx("reload: cannot rename this node's origin: %s", store_errmsg(self->store));
}

/* Reads the config again: refused as a whole when it has a problem
 * (conf_load, links_fit), else the live settings and the membership
 * change. */
static void
s_reload_conf(node_t *self)
{
    char err[4096];
    conf_t *fresh = conf_load(self->conf->path, err, sizeof(err));
    if (fresh == NULL) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
            log_warnx("reload refused, nothing changed: %s", line);
        return;
    }
    for (char *w = fresh->warnings ? strtok(fresh->warnings, "\n") : NULL; w; w = strtok(NULL, "\n"))
        log_warnx("reload: %s", w);
    if (links_fit(fresh, self->files, self->sockets, err, sizeof(err)) != 0) {
        log_warnx("reload refused, nothing changed: %s: %s", fresh->path, err);
        conf_free(&fresh);
        return;
    }
    s_reload_settings(self, fresh);
    links_apply(self->links, fresh);
    conf_member_t *members = self->conf->members;
    size_t n = self->conf->nmembers;
    self->conf->members = fresh->members;
    self->conf->nmembers = fresh->nmembers;
    fresh->members = members;
    fresh->nmembers = n;
    conf_free(&fresh);
    n = links_count(self->links);
    log_info("membership reloaded: %zu member%s", n, n == 1 ? "" : "s");
    origin_restore_check(self->origin, now_ms());   /* a member it waited for may be gone */
}

/* ---- life cycle ---- */

/* Opening the database may upgrade its schema or rebuild its indexes
 * (a minute per million entries, about a minute per GiB): under systemd
 * the start timeout is extended to cover that generously (three minutes
 * a GiB, at least the unit's default 90 s), so a long upgrade is not
 * killed and started again. Without NOTIFY_SOCKET it does nothing. */
static void
s_extend_start(const char *db)
{
    struct stat st;
    uint64_t usec = 90ULL * 1000000;
    if (stat(db, &st) == 0)
        usec += (uint64_t)st.st_size / (1 << 30) * 180ULL * 1000000;
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=opening the database", (unsigned long long)usec);
}

node_t *
node_new(conf_t **conf_p, char *err, size_t errlen)
{
    node_t *self = xcalloc(1, sizeof(*self));
    char path[4096];

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
    s_extend_start(path);
    self->store = store_open(path, err, errlen);
    if (self->store == NULL)
        goto fail;
    if (ident_curve(self->ident, self->curve.pk, self->curve.sk) != 0) {
        seterr(err, errlen, -1, "cannot convert the node key to X25519");
        goto fail;
    }
    self->zctx = zmq_ctx_new();
    links_limits(self->zctx, &self->files, &self->sockets);
    if (links_fit(c, self->files, self->sockets, err, errlen) != 0)
        goto fail;
    sync_hooks_t hooks = { .arg = self, .send = h_send, .accepts = h_accepts,
                           .stored = h_stored, .pulled = h_pulled };
    self->sync = sync_node_new(self->store, ident_pk(self->ident), c->name, &hooks,
                               SYNC_INTERVAL_MS);
    self->links = links_new(self->zctx, &self->curve, self->sync, self->store);
    self->origin = origin_open(self->store, self->ident, self->links, c, path, lost, err, errlen);
    if (self->origin == NULL)
        goto fail;

    self->ctl_sock = zmq_socket(self->zctx, ZMQ_ROUTER);
    if (asprintf(&self->ctl_path, "%s/control.sock", c->data) < 0)
        abort();
    snprintf(path, sizeof(path), "ipc://%s", self->ctl_path);
    if (s_bind(self->ctl_sock, path, err, errlen) != 0)
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
    if (c->listen != NULL) {
        if (links_listen(self->links, c->listen, err, errlen) != 0)
            goto fail;
        s_write_endpoint(self, links_router(self->links), "listen");
    }
    self->ctl = ctl_new(self->conf, self->store, self->ident, self->origin, self->links,
                        self->ctl_sock);
    links_apply(self->links, self->conf);
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
        ctl_destroy(&self->ctl);
        origin_destroy(&self->origin);
        links_destroy(&self->links);
        sync_node_destroy(&self->sync);
        if (self->ctl_sock)
            zmq_close(self->ctl_sock);
        if (self->query)
            zmq_close(self->query);
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

bool
node_restoring(node_t *self)
{
    return origin_restoring(self->origin);
}

links_t *
node_links(node_t *self)
{
    return self->links;
}

json_t *
node_handle(node_t *self, int op, const json_t *req)
{
    return ctl_handle(self->ctl, op, req, true);
}

/* ---- the loop ---- */

/* What a polled socket is, so that the loop dispatches by name. */
enum watch_what { W_CTL, W_QUERY, W_ROUTER, W_ZAP, W_DEALER, W_MONITOR };

/* The sockets to poll this turn and what each is. The arrays only grow;
 * they are refilled each turn because a member's DEALER and monitor come
 * and go as its link drops and is dialed again. A member's index holds
 * for the turn because members change only at its top (a reload). */
struct watch {
    zmq_pollitem_t *items;
    enum watch_what *what;
    size_t *peer;               /* for W_DEALER, W_MONITOR: the member's index */
    size_t n, cap;
};

static void
s_watch_add(struct watch *w, void *sock, enum watch_what what, size_t peer)
{
    if (sock == NULL)
        return;                 /* not open now: nothing to poll */
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 16;
        w->items = xrealloc(w->items, w->cap * sizeof(*w->items));
        w->what = xrealloc(w->what, w->cap * sizeof(*w->what));
        w->peer = xrealloc(w->peer, w->cap * sizeof(*w->peer));
    }
    w->items[w->n] = (zmq_pollitem_t){ sock, 0, ZMQ_POLLIN, 0 };
    w->what[w->n] = what;
    w->peer[w->n++] = peer;
}

/* Every open socket: the fixed four, then each member's, however many
 * members there are. */
static void
s_watch_fill(node_t *self, struct watch *w)
{
    w->n = 0;
    s_watch_add(w, self->ctl_sock, W_CTL, 0);
    s_watch_add(w, self->query, W_QUERY, 0);
    s_watch_add(w, links_router(self->links), W_ROUTER, 0);
    s_watch_add(w, links_zap(self->links), W_ZAP, 0);
    for (size_t i = 0; i < links_count(self->links); i++) {
        peer_t *p = links_peer(self->links, i);
        s_watch_add(w, peer_dealer(p), W_DEALER, i);
        s_watch_add(w, peer_monitor(p), W_MONITOR, i);
    }
}

static void
s_watch_serve(node_t *self, const struct watch *w, size_t k, uint64_t now)
{
    switch (w->what[k]) {
    case W_CTL:     ctl_serve(self->ctl, self->ctl_sock, true); break;
    case W_QUERY:   ctl_serve(self->ctl, self->query, false); break;
    case W_ROUTER:  links_on_router(self->links, now); break;
    case W_ZAP:     links_on_zap(self->links); break;
    case W_DEALER:  peer_on_dealer(links_peer(self->links, w->peer[k]), now); break;
    case W_MONITOR: peer_on_monitor(links_peer(self->links, w->peer[k]), now); break;
    }
}

int
node_run(node_t *self)
{
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    size_t nmembers = links_count(self->links);
    log_info("node %s (%s) ready: control ipc://%s%s%s%s%s, %zu member%s%s",
             ident_id(self->ident), self->conf->name, self->ctl_path,
             self->query ? ", query " : "", self->query ? self->conf->query : "",
             self->conf->listen ? ", peers " : "", self->conf->listen ? self->conf->listen : "",
             nmembers, nmembers == 1 ? "" : "s",
             origin_restoring(self->origin) ? ", restoring own entries" : "");
    /* Type=notify: the database is open and every socket bound. Without
     * NOTIFY_SOCKET (not under systemd) this does nothing. */
    sd_notifyf(0, "READY=1\nSTATUS=%zu member%s%s", nmembers, nmembers == 1 ? "" : "s",
               origin_restoring(self->origin) ? ", restoring own entries" : "");
    struct watch w = { 0 };
    while (!s_stop) {
        if (s_reload) {
            s_reload = 0;
            s_reload_conf(self);
        }
        s_watch_fill(self, &w);
        int rc = zmq_poll(w.items, (int)w.n, 200);
        if (rc < 0 && zmq_errno() != EINTR) {
            log_warnx("poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        uint64_t now = now_ms();
        for (size_t k = 0; rc > 0 && k < w.n; k++)
            if (w.items[k].revents & ZMQ_POLLIN)
                s_watch_serve(self, &w, k, now);
        links_tick(self->links, now);
        ctl_tick(self->ctl, now);
        origin_restore_check(self->origin, now);    /* restore_wait may have passed */
    }
    free(w.items);
    free(w.what);
    free(w.peer);
    log_info("stopping");
    return 0;
}
