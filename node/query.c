/*
 * query.c: the read requests, get, search and export, and how a stored
 * row is printed as the entry JSON users see (PROTOCOL.md 3.1).
 */
#include "codes.h"
#include "entry.h"
#include "fold.h"
#include "log.h"
#include "msg.h"
#include "query.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- reads ---- */

json_t *
query_get(store_t *st, const uint8_t own[ENV_PKBYTES], const json_t *req)
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
        n = store_get(st, origin, id, s_collect, &rows);
    } else {
        /* ID alone: this node's own entry, else the only one with that id. */
        n = store_get(st, own, id, s_collect, &rows);
        if (n == 0)
            n = store_get(st, NULL, id, s_collect, &rows);
    }
    if (n < 0) {
        json_decref(rows.list);
        return msg_error("store: %s", store_errmsg(st));
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
    "org_type", "origin", "city", NULL
};
enum { L_COUNTRY, L_REGION, L_KIND, L_NACE, L_CPV, L_TARGET, L_PARTNERSHIP, L_LABEL,
       L_ORG_TYPE, L_ORIGIN, L_CITY, L_COUNT };

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
        size_t n = code_cpv_prefix(in[i]);
        if (n == 0)
            *reply = msg_error("cpv '%.40s' is not a CPV code or prefix (2 to 8 digits, e.g. 9091)", in[i]);
        else
            json_array_append_new(out, json_stringn(in[i], n));
    }
    free(in);
    if (*reply != NULL)
        json_decref(out), out = NULL;
    return out;
}

/* Cities from the request, folded as entries' cities are (fold_key):
 * "Nové Město" finds "nove mesto". A new list (caller decrefs), or NULL
 * after setting *reply. */
static json_t *
s_city_keys(const json_t *v, json_t **reply)
{
    const char **in = s_strings(v);
    json_t *out = json_array();
    for (int i = 0; in[i] && *reply == NULL; i++) {
        char *key = fold_key(in[i]);
        if (key == NULL || key[0] == '\0')
            *reply = msg_error("city '%.40s' has no letters to match", in[i]);
        else
            json_array_append_new(out, json_string(key));
        free(key);
    }
    free(in);
    if (*reply != NULL)
        json_decref(out), out = NULL;
    return out;
}

/* Countries, NUTS prefixes and NACE prefixes become filter tokens in the
 * full-text query (store_plan.c), so their shape is checked here, whoever
 * sent them: an error reply naming the value, or NULL. */
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
    char why[128];
    for (int i = 0; lists[L_COUNTRY][i]; i++)
        if (entry_check_country(lists[L_COUNTRY][i], why, sizeof(why)) != 0)
            return msg_error("country: %s", why);
    for (int i = 0; lists[L_REGION][i]; i++)
        if (!code_nuts(lists[L_REGION][i]))
            return msg_error("region '%.40s' is not a NUTS code or prefix (e.g. AT12)", lists[L_REGION][i]);
    for (int i = 0; lists[L_NACE][i]; i++)
        if (!code_nace(lists[L_NACE][i]))
            return msg_error("nace '%.40s' is not a NACE section, code or prefix (e.g. N, 81.21)",
                             lists[L_NACE][i]);
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
    const char *sort = json_string_value(json_object_get(req, "sort"));
    const char *by = json_string_value(json_object_get(req, "count_by"));
    const json_t *depth = json_object_get(req, "depth");

    for (int i = 0; sort != NULL && code_sorts[i] && q->sort == 0; i++)
        if (strcmp(sort, code_sorts[i]) == 0)
            q->sort = i + 1;
    if (sort != NULL && q->sort == 0)
        return *reply = msg_error("sort '%.32s' is not relevance, name, updated or distance", sort), -1;
    if (q->sort == STORE_SORT_DISTANCE && !q->near)
        return *reply = msg_error("sort by distance needs near"), -1;
    if (q->sort == STORE_SORT_RELEVANCE && q->words == NULL)
        return *reply = msg_error("sort by relevance needs words"), -1;
    for (int i = 0; by != NULL && code_facets[i] && q->count_by == 0; i++)
        if (strcmp(by, code_facets[i]) == 0)
            q->count_by = i + 1;
    if (by != NULL && q->count_by == 0)
        return *reply = msg_error("count_by '%.32s' is not region, country, cpv, nace, label or kind", by), -1;
    if (depth != NULL && !json_is_null(depth)) {
        json_int_t d = json_integer_value(depth);
        int dmin, dmax;
        if (q->count_by == 0 || !code_facet_depth(by, &dmin, &dmax))
            return *reply = msg_error("depth needs count_by region, cpv or nace"), -1;
        if (!json_is_integer(depth) || d < dmin || d > dmax)
            return *reply = msg_error("depth for %s is from %d to %d", by, dmin, dmax), -1;
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
s_search_run(store_t *st, const store_query_t *q)
{
    int64_t total = 0;
    if (q->count_by != STORE_FACET_NONE) {
        json_t *facets = json_array();
        if (store_facets(st, q, s_facet_json, facets, &total) != 0) {
            json_decref(facets);
            return msg_error("search: %s", store_errmsg(st));
        }
        return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)total, "facets", facets);
    }
    struct rows rows = { .list = json_array(), .with_score = true };
    if (store_search(st, q, s_collect, &rows, &total) != 0) {
        json_decref(rows.list);
        return msg_error("search: %s", store_errmsg(st));
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
json_t *
query_search(store_t *st, const json_t *req)
{
    uint64_t t0 = mono_us();
    store_query_t q = { 0 };
    json_t *explain = NULL;
    int kinds[16] = { 0 };
    const char **lists[L_COUNT] = { 0 };
    json_t *reply = NULL, *cpv = s_cpv_prefixes(json_object_get(req, "cpv"), &reply);
    json_t *cities = reply ? NULL : s_city_keys(json_object_get(req, "city"), &reply);

    for (int i = 0; i < L_COUNT; i++)
        lists[i] = s_strings(i == L_CPV ? cpv : i == L_CITY ? cities : json_object_get(req, s_list_fields[i]));
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
    q.cities = lists[L_CITY];
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
    reply = s_search_run(st, &q);
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
    json_decref(cities);
    return reply;
}

json_t *
query_export(store_t *st, const json_t *req)
{
    struct rows rows = { .list = json_array() };
    json_int_t after = json_integer_value(json_object_get(req, "after"));
    json_int_t limit = json_integer_value(json_object_get(req, "limit"));

    if (limit <= 0 || limit > MSG_PAGE_MAX)
        limit = MSG_PAGE_MAX;
    int n = store_scan(st, after, limit, s_collect, &rows);
    if (n < 0) {
        json_decref(rows.list);
        return msg_error("export: %s", store_errmsg(st));
    }
    json_t *next = n == limit ? json_integer(rows.last_rowid) : json_null();
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "entries", rows.list, "next", next);
}
