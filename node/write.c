/*
 * write.c: local writes, the publish and delete requests. One transaction
 * per request, acknowledged only after it commits, so an acknowledged
 * write is on disk (synchronous=FULL); an item that fails is undone alone.
 */
#include "log.h"
#include "msg.h"
#include "util.h"
#include "write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- publish / delete ---- */

/* Signs and stores one version for this node. Returns 0 or -1 (err). The
 * envelope just sealed is not decoded again: its header, body and version
 * id are the ones sealed. */
static int
s_write(origin_t *o, entry_hdr_t *h, const json_t *body, char *err, size_t errlen)
{
    msgpack_sbuffer buf;
    envelope_t env = { .body = (json_t *)body };

    if (origin_next_version(o, h) != 0)
        return seterr(err, errlen, -1, "this node has used every sequence number (2^53 - 1)");
    if (ident_seal(origin_ident(o), h, body, &buf, env.vid, err, errlen) != 0)
        return -1;
    env.hdr = *h;
    int rc = store_put(origin_store(o), (const uint8_t *)buf.data, buf.size, &env, 0);
    if (rc < 0)
        seterr(err, errlen, -1, "store: %s", store_errmsg(origin_store(o)));
    else
        origin_wrote(o, h, (const uint8_t *)buf.data, buf.size);
    msgpack_sbuffer_destroy(&buf);
    return rc < 0 ? -1 : 0;
}

/* The current envelope of this node's entry id, opened; 1 if found. */
struct current {
    envelope_t env;
    uint8_t *bytes;
    bool found;
};

static int
s_take_current(void *arg, const store_row_t *row)
{
    struct current *c = arg;
    char err[ENTRY_ERR_MAX];
    c->bytes = xmalloc(row->env_len);
    memcpy(c->bytes, row->env, row->env_len);
    c->found = envelope_open_stored(c->bytes, row->env_len, &c->env, err, sizeof(err)) == 0;
    return 1;
}

static int
s_current(origin_t *o, const char *id, struct current *c)
{
    memset(c, 0, sizeof(*c));
    return store_get(origin_store(o), ident_pk(origin_ident(o)), id, s_take_current, c);
}

static void
s_current_clear(struct current *c)
{
    if (c->found)
        envelope_clear(&c->env);
    free(c->bytes);
    memset(c, 0, sizeof(*c));
}

static json_t *
s_result(const char *id, size_t index, const char *status, uint64_t seq, const char *error)
{
    json_t *r = json_pack("{s:s?, s:I}", "id", id, "index", (json_int_t)index);
    if (error != NULL) {
        json_object_set_new(r, "error", json_string(error));
    } else {
        json_object_set_new(r, "status", json_string(status));
        json_object_set_new(r, "seq", json_integer((json_int_t)seq));
    }
    return r;
}

static json_t *
s_publish_one(origin_t *o, const json_t *e, size_t index)
{
    char err[ENTRY_ERR_MAX];
    const char *id = json_string_value(json_object_get(e, "id"));
    struct current cur;

    if (entry_validate(e, err, sizeof(err)) != 0)
        return s_result(id, index, NULL, 0, err);
    json_t *body = entry_body(e);
    entry_hdr_t h = { .kind = entry_kind_from_name(json_string_value(json_object_get(e, "kind"))) };
    snprintf(h.id, sizeof(h.id), "%s", id);

    json_t *r;
    if (s_current(o, id, &cur) < 0) {
        r = s_result(id, index, NULL, 0, store_errmsg(origin_store(o)));
    } else if (cur.found && !cur.env.hdr.deleted && cur.env.hdr.kind == h.kind &&
               json_equal(cur.env.body, body)) {
        r = s_result(id, index, "unchanged", cur.env.hdr.seq, NULL);
    } else if (s_write(o, &h, body, err, sizeof(err)) != 0) {
        r = s_result(id, index, NULL, 0, err);
    } else {
        r = s_result(id, index, cur.found && !cur.env.hdr.deleted ? "updated" : "new", h.seq, NULL);
    }
    s_current_clear(&cur);
    json_decref(body);
    return r;
}

static json_t *
s_delete_one(origin_t *o, const json_t *idv, size_t index)
{
    char err[ENTRY_ERR_MAX];
    const char *id = json_string_value(idv);
    struct current cur;
    json_t *r;

    if (id == NULL || !entry_id_valid(id))
        return s_result(id, index, NULL, 0, "not a valid id");
    if (s_current(o, id, &cur) < 0) {
        r = s_result(id, index, NULL, 0, store_errmsg(origin_store(o)));
    } else if (!cur.found || cur.env.hdr.deleted) {
        r = s_result(id, index, NULL, 0, cur.found ? "already deleted" : "no entry of this node has this id");
    } else {
        entry_hdr_t h = { .kind = cur.env.hdr.kind, .deleted = true };
        json_t *empty = json_object();
        snprintf(h.id, sizeof(h.id), "%s", id);
        if (s_write(o, &h, empty, err, sizeof(err)) != 0)
            r = s_result(id, index, NULL, 0, err);
        else
            r = s_result(id, index, "deleted", h.seq, NULL);
        json_decref(empty);
    }
    s_current_clear(&cur);
    return r;
}

/* Undoes a batch whose transaction cannot be trusted any more. */
static json_t *
s_batch_abort(origin_t *o, json_t *results)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "store: %s; nothing was stored", store_errmsg(origin_store(o)));
    store_rollback(origin_store(o));
    origin_write_done(o, false);
    json_decref(results);
    return msg_error("%s", msg);
}

/* publish {entries: [...]} and delete {ids: [...]}: one transaction. An
 * item that fails is undone alone (a savepoint each); a failure of the
 * savepoints themselves, of the watermark or of the commit undoes the
 * whole batch and says so. The versions written reach the peers only
 * after the commit (origin_write_done). */
static json_t *
s_batch(origin_t *o, const json_t *list, json_t *(*one)(origin_t *, const json_t *, size_t))
{
    if (!json_is_array(list))
        return msg_error("expected a list");
    if (origin_restoring(o))
        return msg_error("this node is restoring its own entries from its members (its"
                         " database was lost, or may be older than what they hold); writes"
                         " resume once it has pulled from every member");
    if (json_array_size(list) > MSG_BATCH_MAX)
        return msg_error("%zu items in one request, more than %d", json_array_size(list), MSG_BATCH_MAX);
    if (store_begin(origin_store(o)) != 0)
        return msg_error("store: %s", store_errmsg(origin_store(o)));
    origin_write_begin(o);
    json_t *results = json_array();
    size_t bad = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (store_item_begin(origin_store(o)) != 0)
            return s_batch_abort(o, results);
        json_t *r = one(o, json_array_get(list, i), i);
        bool failed = json_object_get(r, "error") != NULL;
        json_array_append_new(results, r);
        if (store_item_end(origin_store(o), !failed) != 0)
            return s_batch_abort(o, results);
        bad += failed;
    }
    if (origin_write_end(o) != 0 || store_commit(origin_store(o)) != 0)
        return s_batch_abort(o, results);
    origin_write_done(o, true);
    return json_pack("{s:b, s:o, s:I, s:I}", "ok", 1, "results", results,
                     "stored", (json_int_t)(json_array_size(list) - bad), "rejected", (json_int_t)bad);
}

json_t *
write_publish(origin_t *o, const json_t *req)
{
    return s_batch(o, json_object_get(req, "entries"), s_publish_one);
}

json_t *
write_delete(origin_t *o, const json_t *req)
{
    return s_batch(o, json_object_get(req, "ids"), s_delete_one);
}
