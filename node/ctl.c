/*
 * ctl.c: what the node does for each control/query request (msg.def).
 * One handler per op, found through s_handlers. Each takes the decoded
 * request and returns the reply; none of them can take the process down:
 * bad fields give an {"ok": false, "error": ...} reply.
 * Writes are in write.c, reads in query.c; status and peers are here.
 */
#include "log.h"
#include "msg.h"
#include "node.h"
#include "peer.h"
#include "query.h"
#include "write.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef json_t *(*handler_fn)(node_t *node, const json_t *req);

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
s_forks_json(node_t *node)
{
    json_t *list = json_array();
    store_forks(node_store(node), s_fork_json, list);
    return list;
}

static json_t *
h_peers(node_t *node, const json_t *req)
{
    peer_t **peers;
    size_t n = node_peers(node, &peers);
    json_t *list = json_array();
    (void)req;
    for (size_t i = 0; i < n; i++) {
        const sync_stats_t *st = sync_peer_stats(peer_sync(peers[i]));
        char id[NODEID_LEN + 1], when[32];
        key_to_id(peer_key(peers[i]), id);
        json_t *p = json_pack("{s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                              " s:I, s:I, s:I, s:I, s:I, s:f, s:I}",
                              "name", peer_name(peers[i]), "id", id,
                              "connected", peer_connected(peers[i]),
                              "state", sync_peer_state(peer_sync(peers[i])),
                              "received", (json_int_t)st->received, "stored", (json_int_t)st->stored,
                              "older", (json_int_t)st->older,
                              "refused_origin", (json_int_t)st->refused_origin,
                              "refused_signature", (json_int_t)st->refused_signature,
                              "refused_invalid", (json_int_t)st->refused_invalid,
                              "malformed", (json_int_t)st->malformed,
                              "rate_limited", (json_int_t)st->rate_limited,
                              "errors", (json_int_t)peer_errors(peers[i]),
                              "pulls", (json_int_t)st->pulls, "repairs", (json_int_t)st->repairs,
                              "bytes_in", (json_int_t)st->bytes_in, "bytes_out", (json_int_t)st->bytes_out,
                              "last_pull_ms", (double)st->last_pull_us / 1000.0,
                              "last_pull_round_trips", (json_int_t)st->last_pull_rounds);
        if (peer_endpoint(peers[i]) != NULL)     /* absent: this node does not dial it */
            json_object_set_new(p, "endpoint", json_string(peer_endpoint(peers[i])));
        if (st->last_sync > 0) {
            format_time(st->last_sync, when);
            json_object_set_new(p, "last_sync", json_string(when));
        }
        json_array_append_new(list, p);
    }
    return json_pack("{s:b, s:o}", "ok", 1, "peers", list);
}

static json_t *
h_status(node_t *node, const json_t *req)
{
    const conf_t *c = node_conf(node);
    json_t *origins = json_array();
    char digest[65];
    (void)req;

    if (store_summary(node_store(node), s_origin_json, origins, digest) != 0) {
        json_decref(origins);
        return msg_error("status: %s", store_errmsg(node_store(node)));
    }
    json_int_t entries = 0, versions = 0;
    for (size_t i = 0; i < json_array_size(origins); i++) {
        entries += json_integer_value(json_object_get(json_array_get(origins, i), "count"));
        versions += json_integer_value(json_object_get(json_array_get(origins, i), "versions"));
    }
    peer_t **peers;
    size_t npeers = node_peers(node, &peers);
    json_int_t up = 0;
    uint64_t last = 0;
    for (size_t i = 0; i < npeers; i++) {
        up += peer_connected(peers[i]);
        uint64_t t = sync_peer_stats(peer_sync(peers[i]))->last_sync;
        last = t > last ? t : last;
    }
    int forks = store_forks(node_store(node), NULL, NULL);
    json_t *r = json_pack("{s:b, s:s, s:s, s:s?, s:s?, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:b}",
                          "ok", 1, "id", ident_id(node_ident(node)), "name", c->name,
                          "country", c->country, "region", c->region, "entries", entries,
                          "versions", versions, "digest", digest, "origins", origins,
                          "members", (json_int_t)npeers, "peers_up", up,
                          "forks", (json_int_t)(forks < 0 ? 0 : forks),
                          "restoring", node_restoring(node));
    if (last > 0) {
        char when[32];
        format_time(last, when);
        json_object_set_new(r, "last_sync", json_string(when));
    }
    if (forks > 0)
        json_object_set_new(r, "fork_evidence", s_forks_json(node));
    if (node_restoring(node))
        json_object_set_new(r, "restore_pending", node_restore_pending(node));
    return r;
}

static const handler_fn s_handlers[MSG_COUNT] = {
    [MSG_PUBLISH] = write_publish,
    [MSG_DELETE] = write_delete,
    [MSG_GET] = query_get,
    [MSG_SEARCH] = query_search,
    [MSG_EXPORT] = query_export,
    [MSG_STATUS] = h_status,
    [MSG_PEERS] = h_peers,
};

json_t *
ctl_handle(node_t *node, int op, const json_t *req, bool local)
{
    if (op <= MSG_NONE || op >= MSG_COUNT || s_handlers[op] == NULL)
        return msg_error("unknown request");
    if (log_verbose())
        log_debug("%s request: %s", local ? "control" : "query", msg_op_name(op));
    return s_handlers[op](node, req);
}
