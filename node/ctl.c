/*
 * ctl.c: what the node does for each control/query request (msg.def).
 * One handler per op, found through s_handlers. Each takes the decoded
 * request and returns the reply; none of them can take the process down:
 * bad fields give an {"ok": false, "error": ...} reply.
 *
 * Local writes (publish, delete) run in one transaction per request and
 * are acknowledged only after it commits, so an acknowledged write is on
 * disk (synchronous=FULL).
 */
#include "log.h"
#include "msg.h"
#include "node.h"
#include "peer.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef json_t *(*handler_fn)(node_t *node, const json_t *req);

/* ---- rendering a stored row as the entry JSON users see (PROTOCOL.md 3.1) ---- */

struct rows {
    json_t *list;           /* array being filled */
    int64_t last_rowid;     /* for paging */
    bool with_score;        /* add the rank (sd_rank) */
    bool verify;            /* check each signature again */
};

/* verify: check the signature now (get); otherwise report the store's
 * invariant that only verified envelopes are stored (search, export), so
 * that exporting a million entries does not cost a million verifies. */
static json_t *
s_entry_json(const store_row_t *row, bool with_score, bool verify)
{
    envelope_t env;
    char err[ENTRY_ERR_MAX], id[NODEID_LEN + 1], when[32], vid[2 * ENV_VIDBYTES + 1];

    if (envelope_open_stored(row->env, row->env_len, &env, err, sizeof(err)) != 0) {
        log_warnx("stored row %lld does not open: %s", (long long)row->rowid, err);
        return NULL;
    }
    json_t *e = env.body;   /* taken over: envelope_clear leaves it */
    env.body = NULL;
    json_object_set_new(e, "id", json_string(env.hdr.id));
    json_object_set_new(e, "kind", json_string(entry_kind_name(env.hdr.kind)));
    key_to_id(env.hdr.origin, id);
    json_object_set_new(e, "origin", json_string(id));
    if (row->origin_name != NULL)
        json_object_set_new(e, "origin_name", json_string(row->origin_name));
    json_object_set_new(e, "seq", json_integer((json_int_t)env.hdr.seq));
    format_time(env.hdr.ts, when);
    json_object_set_new(e, "updated", json_string(when));
    json_object_set_new(e, "deleted", json_boolean(env.hdr.deleted));
    json_object_set_new(e, "verified", json_boolean(!verify || envelope_verify(&env) == 0));
    to_hex(env.vid, ENV_VIDBYTES, vid);
    json_object_set_new(e, "version", json_string(vid));
    format_time(row->received, when);
    json_object_set_new(e, "received", json_string(when));
    if (row->via != NULL) {
        key_to_id(row->via, id);
        json_object_set_new(e, "via", json_string(id));
    } else {
        json_object_set_new(e, "via", json_string("local"));
    }
    if (with_score)
        json_object_set_new(e, "score", json_real(row->score));
    if (row->distance >= 0)
        json_object_set_new(e, "distance", json_real(round(row->distance * 1000) / 1000));
    envelope_clear(&env);
    return e;
}

static int
s_collect(void *arg, const store_row_t *row)
{
    struct rows *r = arg;
    json_t *e = s_entry_json(row, r->with_score, r->verify);
    if (e != NULL)
        json_array_append_new(r->list, e);
    r->last_rowid = row->rowid;
    return 0;
}

/* ---- publish / delete ---- */

/* Signs and stores one version for this node. Returns 0 or -1 (err). The
 * envelope just sealed is not decoded again: its header, body and version
 * id are the ones sealed. */
static int
s_write(node_t *node, entry_hdr_t *h, const json_t *body, char *err, size_t errlen)
{
    msgpack_sbuffer buf;
    envelope_t env = { .body = (json_t *)body };

    if (node_next_version(node, h) != 0)
        return seterr(err, errlen, -1, "this node has used every sequence number (2^53 - 1)");
    if (ident_seal(node_ident(node), h, body, &buf, env.vid, err, errlen) != 0)
        return -1;
    env.hdr = *h;
    int rc = store_put(node_store(node), (const uint8_t *)buf.data, buf.size, &env, 0);
    if (rc < 0)
        seterr(err, errlen, -1, "store: %s", store_errmsg(node_store(node)));
    else
        node_wrote(node, h, (const uint8_t *)buf.data, buf.size);
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
s_current(node_t *node, const char *id, struct current *c)
{
    memset(c, 0, sizeof(*c));
    return store_get(node_store(node), ident_pk(node_ident(node)), id, s_take_current, c);
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
s_publish_one(node_t *node, const json_t *e, size_t index)
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
    if (s_current(node, id, &cur) < 0) {
        r = s_result(id, index, NULL, 0, store_errmsg(node_store(node)));
    } else if (cur.found && !cur.env.hdr.deleted && cur.env.hdr.kind == h.kind &&
               json_equal(cur.env.body, body)) {
        r = s_result(id, index, "unchanged", cur.env.hdr.seq, NULL);
    } else if (s_write(node, &h, body, err, sizeof(err)) != 0) {
        r = s_result(id, index, NULL, 0, err);
    } else {
        r = s_result(id, index, cur.found && !cur.env.hdr.deleted ? "updated" : "new", h.seq, NULL);
    }
    s_current_clear(&cur);
    json_decref(body);
    return r;
}

static json_t *
s_delete_one(node_t *node, const json_t *idv, size_t index)
{
    char err[ENTRY_ERR_MAX];
    const char *id = json_string_value(idv);
    struct current cur;
    json_t *r;

    if (id == NULL || !entry_id_valid(id))
        return s_result(id, index, NULL, 0, "not a valid id");
    if (s_current(node, id, &cur) < 0) {
        r = s_result(id, index, NULL, 0, store_errmsg(node_store(node)));
    } else if (!cur.found || cur.env.hdr.deleted) {
        r = s_result(id, index, NULL, 0, cur.found ? "already deleted" : "no entry of this node has this id");
    } else {
        entry_hdr_t h = { .kind = cur.env.hdr.kind, .deleted = true };
        json_t *empty = json_object();
        snprintf(h.id, sizeof(h.id), "%s", id);
        if (s_write(node, &h, empty, err, sizeof(err)) != 0)
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
s_batch_abort(node_t *node, json_t *results)
{
    char msg[600];
    snprintf(msg, sizeof(msg), "store: %s; nothing was stored", store_errmsg(node_store(node)));
    store_rollback(node_store(node));
    node_write_done(node, false);
    json_decref(results);
    return msg_error("%s", msg);
}

/* publish {entries: [...]} and delete {ids: [...]}: one transaction. An
 * item that fails is undone alone (a savepoint each); a failure of the
 * savepoints themselves, of the watermark or of the commit undoes the
 * whole batch and says so. The versions written reach the peers only
 * after the commit (node_write_done). */
static json_t *
s_batch(node_t *node, const json_t *list, json_t *(*one)(node_t *, const json_t *, size_t))
{
    if (!json_is_array(list))
        return msg_error("expected a list");
    if (node_restoring(node))
        return msg_error("this node lost its database and is restoring its own entries from"
                         " its members; writes resume once it has pulled from every member");
    if (json_array_size(list) > MSG_BATCH_MAX)
        return msg_error("%zu items in one request, more than %d", json_array_size(list), MSG_BATCH_MAX);
    if (store_begin(node_store(node)) != 0)
        return msg_error("store: %s", store_errmsg(node_store(node)));
    node_write_begin(node);
    json_t *results = json_array();
    size_t bad = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (store_item_begin(node_store(node)) != 0)
            return s_batch_abort(node, results);
        json_t *r = one(node, json_array_get(list, i), i);
        bool failed = json_object_get(r, "error") != NULL;
        json_array_append_new(results, r);
        if (store_item_end(node_store(node), !failed) != 0)
            return s_batch_abort(node, results);
        bad += failed;
    }
    if (node_write_end(node) != 0 || store_commit(node_store(node)) != 0)
        return s_batch_abort(node, results);
    node_write_done(node, true);
    return json_pack("{s:b, s:o, s:I, s:I}", "ok", 1, "results", results,
                     "stored", (json_int_t)(json_array_size(list) - bad), "rejected", (json_int_t)bad);
}

static json_t *
h_publish(node_t *node, const json_t *req)
{
    return s_batch(node, json_object_get(req, "entries"), s_publish_one);
}

static json_t *
h_delete(node_t *node, const json_t *req)
{
    return s_batch(node, json_object_get(req, "ids"), s_delete_one);
}

/* ---- reads ---- */

static json_t *
h_get(node_t *node, const json_t *req)
{
    const char *ref = json_string_value(json_object_get(req, "ref"));
    uint8_t origin[ENV_PKBYTES];
    const char *id = ref, *slash;
    struct rows rows = { .list = json_array(), .verify = true };

    if (ref == NULL)
        return json_decref(rows.list), msg_error("get needs 'ref'");
    if ((slash = strchr(ref, '/')) != NULL) {
        char oid[NODEID_LEN + 1];
        snprintf(oid, sizeof(oid), "%.*s", (int)(slash - ref), ref);
        if (slash - ref != NODEID_LEN || key_from_id(oid, origin) != 0) {
            json_decref(rows.list);
            return msg_error("'%.80s': the part before / is not a node id", ref);
        }
        id = slash + 1;
    }
    if (!entry_id_valid(id)) {
        json_decref(rows.list);
        return msg_error("'%.80s' is not a valid id", id);
    }
    int n;
    if (slash != NULL) {
        n = store_get(node_store(node), origin, id, s_collect, &rows);
    } else {
        /* ID alone: this node's own entry, else the only one with that id. */
        n = store_get(node_store(node), ident_pk(node_ident(node)), id, s_collect, &rows);
        if (n == 0)
            n = store_get(node_store(node), NULL, id, s_collect, &rows);
    }
    if (n < 0) {
        json_decref(rows.list);
        return msg_error("store: %s", store_errmsg(node_store(node)));
    }
    if (json_array_size(rows.list) == 0) {
        json_decref(rows.list);
        return msg_error("no entry '%s'", ref);
    }
    if (json_array_size(rows.list) > 1) {
        json_t *origins = json_array();
        for (size_t i = 0; i < json_array_size(rows.list); i++)
            json_array_append(origins, json_object_get(json_array_get(rows.list, i), "origin"));
        json_decref(rows.list);
        char *list = json_dumps(origins, JSON_COMPACT);
        json_t *r = msg_error("'%s' is held by %zu origins, name one as ORIGIN/%s: %s", id,
                              json_array_size(origins), id, list);
        free(list);
        json_decref(origins);
        return r;
    }
    json_t *e = json_incref(json_array_get(rows.list, 0));
    json_decref(rows.list);
    return json_pack("{s:b, s:o}", "ok", 1, "entry", e);
}

/* A NULL-terminated array of the strings in a JSON string or list. */
static const char **
s_strings(const json_t *v)
{
    size_t n = json_is_array(v) ? json_array_size(v) : (json_is_string(v) ? 1 : 0);
    const char **out = xcalloc(n + 1, sizeof(*out));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_is_array(v) ? json_array_get(v, i) : v);
        if (s != NULL)
            out[k++] = s;
    }
    return out;
}

/* The request's list fields, as store_query_t wants them. */
static const char *const s_list_fields[] = {
    "country", "region", "kind", "nace", "cpv", "target_group", "partnership", "label",
    "org_type", "origin", NULL
};
enum { L_COUNTRY, L_REGION, L_KIND, L_NACE, L_CPV, L_TARGET, L_PARTNERSHIP, L_LABEL,
       L_ORG_TYPE, L_ORIGIN, L_COUNT };

/* Values in one list filter of a search, at most. */
#define SEARCH_LIST_MAX 32

/* CPV prefixes from the request: digits, a "-D" check digit dropped
 * ("90910000-9" matches as 90910000). A new list (caller decrefs), or
 * NULL after setting *reply. */
static json_t *
s_cpv_prefixes(const json_t *v, json_t **reply)
{
    const char **in = s_strings(v);
    json_t *out = json_array();
    for (int i = 0; in[i] && *reply == NULL; i++) {
        size_t n = strspn(in[i], "0123456789");
        bool check = n == 8 && in[i][8] == '-' && isdigit((unsigned char)in[i][9]) && in[i][10] == '\0';
        if (n < 2 || n > 8 || (in[i][n] != '\0' && !check))
            *reply = msg_error("cpv '%.40s' is not a CPV code or prefix (2 to 8 digits, e.g. 9091)", in[i]);
        else
            json_array_append_new(out, json_stringn(in[i], n));
    }
    free(in);
    if (*reply != NULL)
        json_decref(out), out = NULL;
    return out;
}

/* True if s is min to max characters, each an upper-case letter, a digit
 * or in extra. */
static bool
s_code_shape(const char *s, size_t min, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
            return false;
    return true;
}

/* Countries, NUTS prefixes and NACE prefixes become filter tokens in the
 * full-text query (store.c), so their shape is checked here, whoever sent
 * them: an error reply naming the value, or NULL. */
static json_t *
s_search_codes(const char **lists[L_COUNT])
{
    for (int i = 0; i < L_COUNT; i++) {
        size_t n = 0;
        while (lists[i][n])
            n++;
        if (n > SEARCH_LIST_MAX)
            return msg_error("%s: %zu values, more than %d", s_list_fields[i], n, SEARCH_LIST_MAX);
    }
    for (int i = 0; lists[L_COUNTRY][i]; i++)
        if (!s_code_shape(lists[L_COUNTRY][i], 2, 2, ""))
            return msg_error("country '%.40s' is not an ISO 3166-1 alpha-2 code (e.g. AT)",
                             lists[L_COUNTRY][i]);
    for (int i = 0; lists[L_REGION][i]; i++)
        if (!s_code_shape(lists[L_REGION][i], 2, 5, ""))
            return msg_error("region '%.40s' is not a NUTS code or prefix (e.g. AT12)", lists[L_REGION][i]);
    for (int i = 0; lists[L_NACE][i]; i++) {
        const char *v = lists[L_NACE][i];
        bool section = strlen(v) == 1 && isupper((unsigned char)v[0]);
        if (!section && (!isdigit((unsigned char)v[0]) || !s_code_shape(v, 2, 5, ".")))
            return msg_error("nace '%.40s' is not a NACE section, code or prefix (e.g. N, 81.21)", v);
    }
    return NULL;
}

/* since, from, to: RFC 3339 dates or date-times. "to" is inclusive: of
 * its whole day for a date, of its millisecond for a date-time. Returns
 * 0, or -1 after setting *reply. */
static int
s_search_times(const json_t *req, store_query_t *q, json_t **reply)
{
    static const char *const names[] = { "since", "from", "to" };
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_object_get(req, names[i]);
        const char *s = json_string_value(v);
        int64_t ms;
        if (v == NULL || json_is_null(v))
            continue;
        if (s == NULL || entry_parse_time(s, &ms) != 0) {
            *reply = msg_error("%s: '%.40s' is not an RFC 3339 date or date-time", names[i],
                               s ? s : "(not a string)");
            return -1;
        }
        if (i == 0) {
            q->since_ms = ms > 0 ? ms : 1;
        } else if (i == 1) {
            q->has_from = true;
            q->from_ms = ms;
        } else {
            q->has_before = true;
            q->before_ms = ms + (strlen(s) == 10 ? 86400000 : 1);
        }
    }
    if (q->has_from && q->has_before && q->before_ms <= q->from_ms) {
        *reply = msg_error("'to' is before 'from'");
        return -1;
    }
    return 0;
}

/* min_disadvantaged, near {lat, lon} and km. Returns 0, or -1 after
 * setting *reply. */
static int
s_search_numbers(const json_t *req, store_query_t *q, json_t **reply)
{
    const json_t *share = json_object_get(req, "min_disadvantaged");
    const json_t *near = json_object_get(req, "near"), *km = json_object_get(req, "km");

    if (share != NULL && !json_is_null(share)) {
        if (!json_is_number(share) || json_number_value(share) < 0 || json_number_value(share) > 100)
            return *reply = msg_error("min_disadvantaged is not a number from 0 to 100"), -1;
        q->has_min_share = true;
        q->min_share = json_number_value(share);
    }
    if (near != NULL && !json_is_null(near)) {
        const json_t *lat = json_object_get(near, "lat"), *lon = json_object_get(near, "lon");
        if (!json_is_number(lat) || !json_is_number(lon) || fabs(json_number_value(lat)) > 90 ||
            fabs(json_number_value(lon)) > 180)
            return *reply = msg_error("near is not {lat: -90..90, lon: -180..180}"), -1;
        q->near = true;
        q->lat = json_number_value(lat);
        q->lon = json_number_value(lon);
    }
    if (km != NULL && !json_is_null(km)) {
        if (!q->near)
            return *reply = msg_error("km needs near"), -1;
        if (!json_is_number(km) || !(json_number_value(km) > 0) || json_number_value(km) > 20040)
            return *reply = msg_error("km is not a number above 0 (and at most 20040)"), -1;
        q->km = json_number_value(km);
    }
    return 0;
}

/* sort, count_by and depth. Returns 0, or -1 after setting *reply. */
static int
s_search_order(const json_t *req, store_query_t *q, json_t **reply)
{
    static const char *const sorts[] = { "", "relevance", "name", "updated", "distance", NULL };
    static const char *const facets[] = { "", "region", "country", "cpv", "nace", "label", "kind", NULL };
    /* depth range per facet: NUTS level, CPV digits, NACE digits */
    static const int dmin[] = { 0, 0, 0, 2, 2, 0, 0 }, dmax[] = { 0, 3, 0, 8, 4, 0, 0 };
    const char *sort = json_string_value(json_object_get(req, "sort"));
    const char *by = json_string_value(json_object_get(req, "count_by"));
    const json_t *depth = json_object_get(req, "depth");

    for (int i = 1; sort != NULL && sorts[i] && q->sort == 0; i++)
        if (strcmp(sort, sorts[i]) == 0)
            q->sort = i;
    if (sort != NULL && q->sort == 0)
        return *reply = msg_error("sort '%.32s' is not relevance, name, updated or distance", sort), -1;
    if (q->sort == STORE_SORT_DISTANCE && !q->near)
        return *reply = msg_error("sort by distance needs near"), -1;
    if (q->sort == STORE_SORT_RELEVANCE && q->words == NULL)
        return *reply = msg_error("sort by relevance needs words"), -1;
    for (int i = 1; by != NULL && facets[i] && q->count_by == 0; i++)
        if (strcmp(by, facets[i]) == 0)
            q->count_by = i;
    if (by != NULL && q->count_by == 0)
        return *reply = msg_error("count_by '%.32s' is not region, country, cpv, nace, label or kind", by), -1;
    if (depth != NULL && !json_is_null(depth)) {
        json_int_t d = json_integer_value(depth);
        if (q->count_by == 0 || dmax[q->count_by] == 0)
            return *reply = msg_error("depth needs count_by region, cpv or nace"), -1;
        if (!json_is_integer(depth) || d < dmin[q->count_by] || d > dmax[q->count_by])
            return *reply = msg_error("depth for %s is from %d to %d", by, dmin[q->count_by],
                                      dmax[q->count_by]), -1;
        q->depth = (int)d;
    }
    return 0;
}

static int
s_facet_json(void *arg, const char *value, int64_t count)
{
    json_array_append_new(arg, json_pack("{s:s, s:I}", "value", value, "count", (json_int_t)count));
    return 0;
}

/* The search's answer once q is complete: a page of entries, or with
 * count_by the facets over every match. */
static json_t *
s_search_run(node_t *node, const store_query_t *q)
{
    int64_t total = 0;
    if (q->count_by != STORE_FACET_NONE) {
        json_t *facets = json_array();
        if (store_facets(node_store(node), q, s_facet_json, facets, &total) != 0) {
            json_decref(facets);
            return msg_error("search: %s", store_errmsg(node_store(node)));
        }
        return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)total, "facets", facets);
    }
    struct rows rows = { .list = json_array(), .with_score = true };
    if (store_search(node_store(node), q, s_collect, &rows, &total) != 0) {
        json_decref(rows.list);
        return msg_error("search: %s", store_errmsg(node_store(node)));
    }
    return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)total, "entries", rows.list);
}

static void
s_explain_json(void *arg, const char *sql, const char *plan)
{
    json_array_append_new(arg, json_pack("{s:s, s:s}", "sql", sql, "plan", plan));
}

/* search (PROTOCOL.md 3): checks every field, then runs the query. The
 * reply says how long the node took (took_ms) and, when asked (explain),
 * the SQL it ran with SQLite's plan for each statement. */
static json_t *
h_search(node_t *node, const json_t *req)
{
    uint64_t t0 = mono_us();
    store_query_t q = { 0 };
    json_t *explain = NULL;
    int kinds[16] = { 0 };
    const char **lists[L_COUNT] = { 0 };
    json_t *reply = NULL, *cpv = s_cpv_prefixes(json_object_get(req, "cpv"), &reply);

    for (int i = 0; i < L_COUNT; i++)
        lists[i] = s_strings(i == L_CPV ? cpv : json_object_get(req, s_list_fields[i]));
    if (reply != NULL)
        goto out;
    if ((reply = s_search_codes(lists)) != NULL)
        goto out;
    for (int i = 0; lists[L_KIND][i]; i++) {
        if (i >= 15) {
            reply = msg_error("too many kinds");
            goto out;
        }
        if ((kinds[i] = entry_kind_from_name(lists[L_KIND][i])) == KIND_NONE) {
            reply = msg_error("unknown kind '%.32s'", lists[L_KIND][i]);
            goto out;
        }
    }
    q.words = json_string_value(json_object_get(req, "words"));
    if (q.words != NULL && strspn(q.words, " \t\n") == strlen(q.words))
        q.words = NULL;
    q.kinds = kinds;
    q.countries = lists[L_COUNTRY];
    q.regions = lists[L_REGION];
    q.nace = lists[L_NACE];
    q.cpv = lists[L_CPV];
    q.target_groups = lists[L_TARGET];
    q.partnerships = lists[L_PARTNERSHIP];
    q.labels = lists[L_LABEL];
    q.org_types = lists[L_ORG_TYPE];
    q.origins = lists[L_ORIGIN];
    q.lang = json_string_value(json_object_get(req, "lang"));
    q.include_deleted = json_is_true(json_object_get(req, "include_deleted"));
    q.limit = json_integer_value(json_object_get(req, "limit"));
    q.offset = json_integer_value(json_object_get(req, "offset"));
    if (q.limit <= 0)
        q.limit = 20;
    if (q.limit > MSG_PAGE_MAX)
        q.limit = MSG_PAGE_MAX;
    if (s_search_times(req, &q, &reply) != 0 || s_search_numbers(req, &q, &reply) != 0 ||
        s_search_order(req, &q, &reply) != 0)
        goto out;
    if (json_is_true(json_object_get(req, "explain"))) {
        explain = json_array();
        q.explain = s_explain_json;
        q.explain_arg = explain;
    }
    reply = s_search_run(node, &q);
    if (json_is_true(json_object_get(reply, "ok"))) {
        json_object_set_new(reply, "took_ms", json_real((double)(mono_us() - t0) / 1000.0));
        if (explain != NULL)
            json_object_set(reply, "explain", explain);
    }
    json_decref(explain);
out:
    for (int i = 0; i < L_COUNT; i++)
        free(lists[i]);
    json_decref(cpv);
    return reply;
}

static json_t *
h_export(node_t *node, const json_t *req)
{
    struct rows rows = { .list = json_array() };
    json_int_t after = json_integer_value(json_object_get(req, "after"));
    json_int_t limit = json_integer_value(json_object_get(req, "limit"));

    if (limit <= 0 || limit > MSG_PAGE_MAX)
        limit = MSG_PAGE_MAX;
    int n = store_scan(node_store(node), after, limit, s_collect, &rows);
    if (n < 0) {
        json_decref(rows.list);
        return msg_error("export: %s", store_errmsg(node_store(node)));
    }
    json_t *next = n == limit ? json_integer(rows.last_rowid) : json_null();
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "entries", rows.list, "next", next);
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
    [MSG_PUBLISH] = h_publish,
    [MSG_DELETE] = h_delete,
    [MSG_GET] = h_get,
    [MSG_SEARCH] = h_search,
    [MSG_EXPORT] = h_export,
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
