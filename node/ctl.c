/*
 * ctl.c: the node's requests (proto/msg.def), from the control socket
 * (every op; only the node's operator can reach it) and the open query
 * endpoint (reads only, a token bucket per client address, pages of at
 * most QUERY_PAGE_MAX rows, so one client cannot hold the loop for long).
 *
 * One handler per op, found through s_handlers. Each takes the decoded
 * request and returns the reply; none of them can take the process down:
 * bad fields give an {"ok": false, "error": ...} reply. Writes are in
 * write.c, reads in query.c; status, peers and sync are here. A `sync
 * --wait` keeps its routing frames as a waiter and is answered by
 * ctl_tick when its pulls finished.
 */
#include "ctl.h"
#include "log.h"
#include "msg.h"
#include "peer.h"
#include "query.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ROUTE_MAX 8             /* routing frames kept per request */
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

struct ctl {
    const conf_t *conf;         /* the node's parts, borrowed */
    store_t *store;
    const ident_t *ident;
    origin_t *origin;
    links_t *links;
    void *sock;                 /* control socket, for the waiters' replies */
    struct waiter waiters[WAITERS_MAX];
    int nwaiters;
    struct client clients[CLIENTS_MAX]; /* query rate limit, by address */
};

typedef json_t *(*handler_fn)(ctl_t *self, const json_t *req);

ctl_t *
ctl_new(const conf_t *conf, store_t *store, const ident_t *ident, origin_t *origin,
        links_t *links, void *ctl_sock)
{
    ctl_t *self = xcalloc(1, sizeof(*self));
    self->conf = conf;
    self->store = store;
    self->ident = ident;
    self->origin = origin;
    self->links = links;
    self->sock = ctl_sock;
    return self;
}

void
ctl_destroy(ctl_t **self_p)
{
    if (*self_p) {
        ctl_t *self = *self_p;
        for (int i = 0; i < self->nwaiters; i++)
            for (int j = 0; j < self->waiters[i].nroute; j++)
                zmq_msg_close(&self->waiters[i].route[j]);
        free(self);
        *self_p = NULL;
    }
}

/* ---- the handlers ---- */

static json_t *
h_publish(ctl_t *self, const json_t *req)
{
    return write_publish(self->origin, req);
}

static json_t *
h_delete(ctl_t *self, const json_t *req)
{
    return write_delete(self->origin, req);
}

static json_t *
h_get(ctl_t *self, const json_t *req)
{
    return query_get(self->store, ident_pk(self->ident), req);
}

static json_t *
h_search(ctl_t *self, const json_t *req)
{
    return query_search(self->store, req);
}

static json_t *
h_export(ctl_t *self, const json_t *req)
{
    return query_export(self->store, req);
}

static int
s_origin_json(void *arg, const store_origin_t *o)
{
    char id[NODEID_LEN + 1];
    key_to_id(o->key, id);
    json_array_append_new(arg, json_pack("{s:s, s:s?, s:I, s:I, s:I}", "id", id, "name", o->name,
                                         "count", (json_int_t)o->live, "versions", (json_int_t)o->count,
                                         "max_seq", (json_int_t)o->max_seq));
    return 0;
}

static int
s_fork_json(void *arg, const store_fork_t *f)
{
    char id[NODEID_LEN + 1], when[32];
    uint8_t vid[ENV_VIDBYTES];
    char kept[2 * ENV_VIDBYTES + 1], other[2 * ENV_VIDBYTES + 1];
    key_to_id(f->origin, id);
    format_time(f->seen, when);
    crypto_generichash(vid, sizeof(vid), f->kept, f->kept_len, NULL, 0);
    to_hex(vid, sizeof(vid), kept);
    crypto_generichash(vid, sizeof(vid), f->other, f->other_len, NULL, 0);
    to_hex(vid, sizeof(vid), other);
    json_array_append_new(arg, json_pack("{s:s, s:I, s:s, s:s, s:s}", "origin", id,
                                         "seq", (json_int_t)f->seq, "kept_envelope_hash", kept,
                                         "other_envelope_hash", other, "seen", when));
    return 0;
}

/* Evidence of forks: one entry per (origin, seq) with two payloads. */
static json_t *
s_forks_json(ctl_t *self)
{
    json_t *list = json_array();
    store_forks(self->store, s_fork_json, list);
    return list;
}

static json_t *
h_peers(ctl_t *self, const json_t *req)
{
    size_t n = links_count(self->links);
    json_t *list = json_array();
    (void)req;
    for (size_t i = 0; i < n; i++) {
        peer_t *peer = links_peer(self->links, i);
        const sync_stats_t *st = sync_peer_stats(peer_sync(peer));
        char id[NODEID_LEN + 1], when[32];
        key_to_id(peer_key(peer), id);
        json_t *p = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                              " s:I, s:I, s:I, s:I, s:I, s:f, s:I}",
                              "name", peer_name(peer), "id", id,
                              "connected", peer_connected(peer),
                              "state", sync_peer_state(peer_sync(peer)),
                              "received", (json_int_t)st->received, "stored", (json_int_t)st->stored,
                              "older", (json_int_t)st->older,
                              "refused_origin", (json_int_t)st->refused_origin,
                              "refused_signature", (json_int_t)st->refused_signature,
                              "refused_invalid", (json_int_t)st->refused_invalid,
                              "malformed", (json_int_t)st->malformed,
                              "rate_limited", (json_int_t)st->rate_limited,
                              "errors", (json_int_t)peer_errors(peer),
                              "pulls", (json_int_t)st->pulls, "repairs", (json_int_t)st->repairs,
                              "bytes_in", (json_int_t)st->bytes_in, "bytes_out", (json_int_t)st->bytes_out,
                              "last_pull_ms", (double)st->last_pull_us / 1000.0,
                              "last_pull_round_trips", (json_int_t)st->last_pull_rounds);
        if (peer_endpoint(peer) != NULL)     /* absent: this node does not dial it */
            json_object_set_new(p, "endpoint", json_string(peer_endpoint(peer)));
        if (st->last_sync > 0) {
            format_time(st->last_sync, when);
            json_object_set_new(p, "last_sync", json_string(when));
        }
        json_array_append_new(list, p);
    }
    return json_pack("{s:b, s:o}", "ok", 1, "peers", list);
}

static json_t *
h_status(ctl_t *self, const json_t *req)
{
    const conf_t *c = self->conf;
    json_t *origins = json_array();
    char digest[65];
    (void)req;

    if (store_summary(self->store, s_origin_json, origins, digest) != 0) {
        json_decref(origins);
        return msg_error("status: %s", store_errmsg(self->store));
    }
    json_int_t entries = 0, versions = 0;
    for (size_t i = 0; i < json_array_size(origins); i++) {
        entries += json_integer_value(json_object_get(json_array_get(origins, i), "count"));
        versions += json_integer_value(json_object_get(json_array_get(origins, i), "versions"));
    }
    size_t npeers = links_count(self->links);
    json_int_t up = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < npeers; i++) {
        peer_t *peer = links_peer(self->links, i);
        up += peer_connected(peer);
        uint64_t t = sync_peer_stats(peer_sync(peer))->last_sync;
        last = t > last ? t : last;
    }
    int forks = store_forks(self->store, NULL, NULL);
    char schema[32];
    if (store_meta_get(self->store, "schema", schema, sizeof(schema)) != 0)
        snprintf(schema, sizeof(schema), "?");
    json_t *r = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:b}",
                          "ok", 1, "id", ident_id(self->ident), "name", c->name,
                          "version", socdir_version, "schema", schema,
                          "country", c->country, "region", c->region, "entries", entries,
                          "versions", versions, "digest", digest, "origins", origins,
                          "members", (json_int_t)npeers, "peers_up", up,
                          "forks", (json_int_t)(forks < 0 ? 0 : forks),
                          "restoring", origin_restoring(self->origin));
    if (last > 0) {
        char when[32];
        format_time(last, when);
        json_object_set_new(r, "last_sync", json_string(when));
    }
    if (forks > 0)
        json_object_set_new(r, "fork_evidence", s_forks_json(self));
    if (origin_restoring(self->origin))
        json_object_set_new(r, "restore_pending", origin_restore_pending(self->origin));
    return r;
}

static const handler_fn s_handlers[MSG_COUNT] = {
    [MSG_PUBLISH] = h_publish,
    [MSG_DELETE] = h_delete,
    [MSG_GET] = h_get,
    [MSG_SEARCH] = h_search,
    [MSG_EXPORT] = h_export,
    [MSG_STATUS] = h_status,
    [MSG_PEERS] = h_peers,
};

json_t *
ctl_handle(ctl_t *self, int op, const json_t *req, bool local)
{
    if (op <= MSG_NONE || op >= MSG_COUNT || s_handlers[op] == NULL)
        return msg_error("unknown request");
    if (log_verbose())
        log_debug("%s request: %s", local ? "control" : "query", msg_op_name(op));
    return s_handlers[op](self, req);
}

/* ---- requests off the sockets ---- */

static void
s_reply(void *sock, zmq_msg_t *route, int nroute, json_t *reply)
{
    msgpack_sbuffer out;
    char err[256];
    json_t *none = NULL;
    if (reply == NULL)                  /* a reply jansson could not build */
        reply = none = msg_error("internal error: the reply could not be built");
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
    json_decref(none);
}

static json_t *
s_sync_reply(ctl_t *self, uint64_t since)
{
    size_t synced, up = links_connected(self->links, since, &synced);
    return json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "members", (json_int_t)links_count(self->links),
                     "reachable", (json_int_t)up, "synced", (json_int_t)synced);
}

/* sync {wait}: pull from every connected peer now; with wait, the reply
 * is sent when those pulls finish (or after SYNC_WAIT_MS). Returns true
 * if the routing frames were kept for a later reply. */
static bool
s_sync_request(ctl_t *self, const json_t *req, zmq_msg_t *route, int nroute, json_t **reply)
{
    uint64_t now = now_ms();
    links_pull(self->links, now);
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

void
ctl_tick(ctl_t *self, uint64_t now)
{
    for (int i = 0; i < self->nwaiters;) {
        struct waiter *w = &self->waiters[i];
        bool done = now >= w->deadline;
        if (!done) {
            size_t synced, up = links_connected(self->links, w->since, &synced);
            done = synced == up;
        }
        if (!done) {
            i++;
            continue;
        }
        json_t *reply = s_sync_reply(self, w->since);
        s_reply(self->sock, w->route, w->nroute, reply);
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
s_rate_ok(ctl_t *self, const char *addr, uint64_t now)
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

void
ctl_serve(ctl_t *self, void *sock, bool local)
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
