/*
 * node.c: the node's sockets and its one loop.
 *
 * Sockets:
 *   ctl    ROUTER on ipc://DATA/control.sock (file mode 0600): the CLI's
 *          reads and writes. Only the node's operator can reach it.
 *   query  ROUTER on the config's `query` endpoint, if set: reads only,
 *          open to any client.
 * Every request is one frame after the routing frames; the reply goes back
 * with the same routing frames. Requests are handled to completion in
 * order: each is a bounded amount of SQLite work (pages of at most
 * MSG_PAGE_MAX rows), so one loop with no threads serves them all.
 *
 * The loop uses zmq_poll: the zmq_poller API is still a draft in the
 * libzmq that Debian ships.
 */
#include "node.h"
#include "log.h"
#include "msg.h"

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

#define ROUTE_MAX 8     /* routing frames kept per request */

struct node {
    conf_t *conf;           /* owned */
    ident_t *ident;         /* owned: this node's key pair */
    store_t *store;         /* owned: the merged view */
    void *zctx;             /* ZeroMQ context */
    void *ctl;              /* ROUTER, control socket */
    void *query;            /* ROUTER, open query endpoint, or NULL */
    char *ctl_path;         /* filesystem path of the control socket */
    int lock_fd;            /* flock on DATA/lock: one node per data dir */
    uint64_t max_seq;       /* highest sequence this node has used */
    uint64_t last_ts;       /* highest timestamp this node has used */
};

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static int
s_bind(void *sock, const char *endpoint, char *err, size_t errlen)
{
    int maxmsg = MSG_MAX, linger = 0;
    int64_t maxmsg64 = maxmsg;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg64, sizeof(maxmsg64));
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(sock, endpoint) != 0)
        return seterr(err, errlen, -1, "bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return 0;
}

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
    if (store_origin(self->store, ident_pk(self->ident), c->name) < 0 ||
        store_origin_max(self->store, ident_pk(self->ident), &self->max_seq, &self->last_ts) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(self->store));
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
    }
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
        if (self->ctl)
            zmq_close(self->ctl);
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

void
node_next_version(node_t *self, entry_hdr_t *h)
{
    memcpy(h->origin, ident_pk(self->ident), ENV_PKBYTES);
    h->seq = self->max_seq + 1;
    h->ts = hlc_next(self->last_ts, now_ms());
}

void
node_wrote(node_t *self, const entry_hdr_t *h)
{
    if (h->seq > self->max_seq)
        self->max_seq = h->seq;
    if (h->ts > self->last_ts)
        self->last_ts = h->ts;
}

/* Receives one request (routing frames + body), answers it. */
static void
s_serve(node_t *self, void *sock, bool local)
{
    zmq_msg_t route[ROUTE_MAX], body;
    int nroute = 0, more = 1;
    size_t moresz = sizeof(more);

    zmq_msg_init(&body);
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            goto out;
        }
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &moresz);
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
    json_t *reply;
    json_t *req = msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), &op, err, sizeof(err));
    if (req == NULL) {
        log_warnx("%s request refused: %s", local ? "control" : "query", err);
        reply = msg_error("bad request: %s", err);
    } else if (!local && msg_op_access(op) != MSG_READ) {
        reply = msg_error("%s is taken on the node's control socket only", msg_op_name(op));
    } else {
        reply = ctl_handle(self, op, req, local);
    }
    json_decref(req);

    msgpack_sbuffer out;
    if (msg_encode(reply, &out, err, sizeof(err)) != 0) {
        json_decref(reply);
        reply = msg_error("reply too large: %s", err);
        if (msg_encode(reply, &out, err, sizeof(err)) != 0)
            abort();
    }
    json_decref(reply);
    for (int i = 0; i < nroute; i++)
        zmq_msg_send(&route[i], sock, ZMQ_SNDMORE);
    zmq_send(sock, out.data, out.size, 0);
    msgpack_sbuffer_destroy(&out);
out:
    for (int i = 0; i < nroute; i++)
        zmq_msg_close(&route[i]);
    zmq_msg_close(&body);
}

int
node_run(node_t *self)
{
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    zmq_pollitem_t items[] = {
        { self->ctl, 0, ZMQ_POLLIN, 0 },
        { self->query, 0, ZMQ_POLLIN, 0 },
    };
    int nitems = self->query ? 2 : 1;

    log_info("node %s (%s) ready: control ipc://%s%s%s", ident_id(self->ident),
             self->conf->name, self->ctl_path, self->query ? ", query " : "",
             self->query ? self->conf->query : "");
    while (!s_stop) {
        int rc = zmq_poll(items, nitems, 1000);
        if (rc < 0) {
            if (zmq_errno() == EINTR)
                continue;
            log_warnx("poll: %s", zmq_strerror(zmq_errno()));
            return -1;
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_serve(self, self->ctl, true);
        if (nitems > 1 && (items[1].revents & ZMQ_POLLIN))
            s_serve(self, self->query, false);
    }
    log_info("stopping");
    return 0;
}
