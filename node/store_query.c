/*
 * store_query.c: the readers behind get, search and export. store_get
 * and store_scan read stored rows by id and by rowid; store_search and
 * store_facets run the SQL that store_plan.c builds, for a page of
 * matches or their counts by value, and tell a query's explain callback
 * what ran. Replication's readers are store_sync.c's.
 */
#include "storeInt.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
store_rows(store_t *self, sqlite3_stmt *st, int extra, store_row_fn fn, void *arg, int64_t *window)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (window != NULL && n == 0)
            *window = sqlite3_column_int64(st, 7);
        store_row_t row = {
            .rowid = sqlite3_column_int64(st, 0),
            .env = sqlite3_column_blob(st, 1),
            .env_len = (size_t)sqlite3_column_bytes(st, 1),
            .received = (uint64_t)sqlite3_column_int64(st, 2),
            .via = sqlite3_column_bytes(st, 3) == ENV_PKBYTES ? sqlite3_column_blob(st, 3) : NULL,
            .origin_name = (const char *)sqlite3_column_text(st, 4),
            .score = extra == EXTRA_SCORE ? sqlite3_column_double(st, 5) : 0,
            .distance = extra == EXTRA_SCORE && sqlite3_column_type(st, 6) != SQLITE_NULL
                        ? sqlite3_column_double(st, 6) : -1,
            .seq = extra == EXTRA_SEQ ? (uint64_t)sqlite3_column_int64(st, 5) : 0,
        };
        n++;
        if (fn(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        n = store_fail(self, "query");
    sqlite3_reset(st);
    return n;
}

int
store_get(store_t *self, const uint8_t *origin, const char *id, store_row_fn fn, void *arg)
{
    sqlite3_stmt *st;
    if (origin != NULL) {
        st = store_stmt(self, Q_GET_ORIGIN);
        sqlite3_bind_blob(st, 1, origin, ENV_PKBYTES, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    } else {
        st = store_stmt(self, Q_GET_ANY);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    }
    return store_rows(self, st, EXTRA_NONE, fn, arg, NULL);
}

int
store_scan(store_t *self, int64_t after, int64_t limit, store_row_fn fn, void *arg)
{
    sqlite3_stmt *st = store_stmt(self, Q_SCAN);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    return store_rows(self, st, EXTRA_NONE, fn, arg, NULL);
}

/* Tells q->explain the statement st with its values and its query plan. */
static void
s_explain(store_t *self, const store_query_t *q, sqlite3_stmt *st)
{
    char *sql = sqlite3_expanded_sql(st);
    char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql ? sql : "");
    sqlite3_str *plan = sqlite3_str_new(self->db);
    sqlite3_stmt *ep = NULL;
    /* Rows are (id, parent, notused, detail); depth follows the parents. */
    int ids[64], depths[64], n = 0;

    if (sql != NULL && sqlite3_prepare_v2(self->db, eqp, -1, &ep, NULL) == SQLITE_OK) {
        while (sqlite3_step(ep) == SQLITE_ROW) {
            int id = sqlite3_column_int(ep, 0), parent = sqlite3_column_int(ep, 1), depth = 0;
            for (int i = 0; i < n; i++)
                if (ids[i] == parent)
                    depth = depths[i] + 1;
            if (n < 64) {
                ids[n] = id;
                depths[n++] = depth;
            }
            sqlite3_str_appendf(plan, "%*s%s\n", 2 * depth, "",
                                (const char *)sqlite3_column_text(ep, 3));
        }
    }
    sqlite3_finalize(ep);
    char *text = sqlite3_str_finish(plan);
    q->explain(q->explain_arg, sql ? sql : "", text ? text : "");
    sqlite3_free(text);
    sqlite3_free(eqp);
    sqlite3_free(sql);
}

static int
s_prepare_bound(store_t *self, const store_query_t *q, const char *sql, const struct binds *b,
                sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(self->db, sql, -1, st, NULL) != SQLITE_OK)
        return store_fail(self, "search");
    for (int i = 0; i < b->n; i++) {
        switch (b->v[i].type) {
        case B_INT:
            sqlite3_bind_int64(*st, i + 1, b->v[i].i);
            break;
        case B_REAL:
            sqlite3_bind_double(*st, i + 1, b->v[i].d);
            break;
        case B_BLOB:
            sqlite3_bind_blob(*st, i + 1, b->v[i].s, (int)b->v[i].len, SQLITE_STATIC);
            break;
        default:
            sqlite3_bind_text(*st, i + 1, b->v[i].s, -1, SQLITE_STATIC);
        }
    }
    if (q->explain != NULL)
        s_explain(self, q, *st);
    return 0;
}

/* Sets *total to the number of matches of plan p. */
static int
s_count(store_t *self, const store_query_t *q, const struct plan *p, int64_t *total)
{
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM %s %s", p->from, p->where);
    int rc = s_prepare_bound(self, q, sql, &p->b, &st);
    if (rc == 0 && sqlite3_step(st) != SQLITE_ROW)
        rc = store_fail(self, "search count");
    if (rc == 0)
        *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return rc;
}

static int
s_sort(const store_query_t *q, bool words)
{
    int sort = q->sort;
    if (sort == STORE_SORT_DEFAULT)
        sort = words ? STORE_SORT_RELEVANCE : q->near ? STORE_SORT_DISTANCE : STORE_SORT_NAME;
    if ((sort == STORE_SORT_RELEVANCE && !words) || (sort == STORE_SORT_DISTANCE && !q->near))
        sort = STORE_SORT_NAME;
    return sort;
}

#define RANK "sd_rank(fts)"

int
store_search(store_t *self, const store_query_t *q, store_row_fn fn, void *arg, int64_t *total)
{
    struct plan p;
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    int rc = -1;
    bool words = q->words != NULL;
    int sort = STORE_SORT_NAME;
    long long limit = q->limit > 0 ? q->limit : 20, offset = q->offset > 0 ? q->offset : 0;

    /* Which order needs entries columns is known once words are parsed. */
    if (store_plan(self, q, false, &p) != 0)
        goto out;
    words = p.words;
    sort = s_sort(q, words);
    if ((sort == STORE_SORT_NAME || sort == STORE_SORT_UPDATED) && !p.e) {
        store_plan_free(&p);
        if (store_plan(self, q, true, &p) != 0)
            goto out;
    }
    /* Ordered by relevance or distance, the page is chosen from the
     * driver's rows and the count is a statement of its own, the cheaper
     * way; ordered by name or date the matches' rows are read anyway and
     * the page's first row carries the count (a window). */
    bool counted = sort == STORE_SORT_RELEVANCE || sort == STORE_SORT_DISTANCE || words;
    if (counted && s_count(self, q, &p, total) != 0)
        goto out;
    const char *score = words ? RANK : "0", *dist = p.dist ? p.dist : "NULL";
    const char *tail = " JOIN entries e ON e.rowid = t.r JOIN envs x ON x.rowid = t.r"
                       " JOIN origins o ON o.ix = e.origin LEFT JOIN origins v ON v.ix = e.via";
    if (sort == STORE_SORT_RELEVANCE || sort == STORE_SORT_DISTANCE) {
        /* The page is chosen from the driver's rows alone; only its rows
         * are then read from entries and envs. Ties break on rowid. */
        const char *key = sort == STORE_SORT_RELEVANCE ? "s" : "d";
        sql = sqlite3_mprintf("SELECT t.r, x.env, e.received, v.key, o.name, t.s, t.d FROM"
                              " (SELECT %s AS r, %s AS s, %s AS d FROM %s %s ORDER BY %s, r"
                              " LIMIT %lld OFFSET %lld) t%s ORDER BY t.%s, t.r",
                              p.rowid, score, dist, p.from, p.where_d, key, limit, offset, tail, key);
    } else {
        /* sd_rank, an FTS5 function, cannot sit beside a window. */
        sql = sqlite3_mprintf("SELECT t.r, x.env, e.received, v.key, o.name, t.s, t.d, t.c FROM"
                              " (SELECT e.rowid AS r, %s AS s, %s AS d, e.nkey AS n, e.ts AS ts,"
                              " %s AS c"
                              " FROM %s %s ORDER BY %s, e.rowid LIMIT %lld OFFSET %lld) t%s"
                              " ORDER BY %s, t.r", score, dist, counted ? "0" : "count(*) OVER ()",
                              p.from, p.where_d,
                              sort == STORE_SORT_UPDATED ? "e.ts DESC" : "e.nkey",
                              limit, offset, tail,
                              sort == STORE_SORT_UPDATED ? "t.ts DESC" : "t.n");
    }
    if (s_prepare_bound(self, q, sql, &p.b, &st) != 0)
        goto out;
    int64_t window = -1;
    int n = store_rows(self, st, EXTRA_SCORE, fn, arg, counted ? NULL : &window);
    rc = n < 0 ? -1 : 0;
    if (rc == 0 && !counted) {
        /* No row (no match, or an offset past the end): count apart. */
        if (window >= 0)
            *total = window;
        else
            rc = s_count(self, q, &p, total);
    }
out:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    store_plan_free(&p);
    return rc;
}

/* The facet value's SQL expression over entries (e) or attrs (a), cut to
 * the query's depth; *attr gets the attrs field, 0 for an entries column. */
static char *
s_facet_expr(const store_query_t *q, int *attr)
{
    int d = q->depth;
    *attr = 0;
    switch (q->count_by) {
    case STORE_FACET_REGION:
        return d > 0 ? sqlite3_mprintf("substr(e.region, 1, %d)", d + 2) : sqlite3_mprintf("e.region");
    case STORE_FACET_COUNTRY:
        return sqlite3_mprintf("e.country");
    case STORE_FACET_KIND:
        return sqlite3_mprintf("e.kind");
    case STORE_FACET_CPV:
        *attr = ATTR_CPV;
        return d > 0 ? sqlite3_mprintf("substr(a.value, 1, %d)", d) : sqlite3_mprintf("a.value");
    case STORE_FACET_NACE:
        /* NACE digits 2, 3, 4 are "81", "81.2", "81.21". */
        *attr = ATTR_NACE;
        return d > 0 ? sqlite3_mprintf("substr(a.value, 1, %d)", d <= 2 ? d : d + 1)
                     : sqlite3_mprintf("a.value");
    case STORE_FACET_LABEL:
        *attr = ATTR_LABEL;
        return sqlite3_mprintf("a.value");
    }
    return NULL;
}

int
store_facets(store_t *self, const store_query_t *q, store_facet_fn fn, void *arg, int64_t *total)
{
    struct plan p;
    sqlite3_stmt *st = NULL;
    char *sql = NULL, *expr = NULL;
    int rc = -1, attr = 0, step;

    if ((expr = s_facet_expr(q, &attr)) == NULL) {
        snprintf(self->errmsg, sizeof(self->errmsg), "facets: nothing to count by");
        sqlite3_free(expr);
        return -1;
    }
    /* The count needs no entries columns even when the values do. */
    if (store_plan(self, q, false, &p) != 0 || s_count(self, q, &p, total) != 0)
        goto out;
    if (attr == 0 && !p.e) {
        store_plan_free(&p);
        if (store_plan(self, q, true, &p) != 0)
            goto out;
    }
    /* Attribute facets scan the field's range of attrs once and look each
     * entry up in the (materialised) set of matches: attrs has no index
     * by entry, and one entry counts once per value however many of its
     * codes share the value's prefix. */
    if (attr != 0)
        sql = sqlite3_mprintf("SELECT %s AS value, count(DISTINCT a.entry) AS n FROM attrs a"
                              " WHERE a.field = %d AND a.entry IN (SELECT %s FROM %s %s)"
                              " GROUP BY 1 ORDER BY 2 DESC, 1", expr, attr, p.rowid, p.from, p.where);
    else
        sql = sqlite3_mprintf("SELECT %s AS value, count(*) AS n FROM %s %s AND %s IS NOT NULL"
                              " GROUP BY 1 ORDER BY 2 DESC, 1", expr, p.from, p.where, expr);
    if (s_prepare_bound(self, q, sql, &p.b, &st) != 0)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *value = (const char *)sqlite3_column_text(st, 0);
        if (q->count_by == STORE_FACET_KIND)
            value = entry_kind_name(sqlite3_column_int(st, 0));
        if (value != NULL && fn(arg, value, sqlite3_column_int64(st, 1)) != 0)
            break;
    }
    rc = (step == SQLITE_ROW || step == SQLITE_DONE) ? 0 : store_fail(self, "facets");
out:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_free(expr);
    store_plan_free(&p);
    return rc;
}
