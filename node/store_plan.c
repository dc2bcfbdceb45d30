/*
 * store_plan.c: the search planner. It turns a store_query_t into the SQL
 * of one search: the FTS5 MATCH of words and filter tokens, the bound
 * values, the conditions, and which table drives (struct plan in
 * storeInt.h). It also holds the SQL functions those statements call,
 * sd_km and sd_rank. Running the statements is store_query.c's.
 */
#include "codes.h"
#include "storeInt.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- search ----
 *
 * A search is one SQL text built per request, with every value bound
 * (never pasted in). Its shape: with words, "fts CROSS JOIN entries": the
 * FTS5 MATCH drives and each hit's row is fetched by rowid; CROSS JOIN
 * stops the planner from walking a filter index and probing FTS per row,
 * which costs seconds on a million rows. Without words, the
 * planner picks the driving index (country/region, an attrs range, the
 * R*Tree box). Multi-valued filters are "e.rowid IN (SELECT entry FROM
 * attrs WHERE field = ? AND value range)", one range scan each; prefixes
 * are the range [p, p || 0x7f). A near query joins the R*Tree with the
 * bounding box of the circle, then keeps the rows whose exact great-circle
 * distance (sd_km, registered in store_open) is within the radius.
 */

/* The next free value of type, cleared; NULL when the search has too
 * many values. */
static struct bind *
s_slot(struct binds *b, int type)
{
    if (b->n == BIND_MAX)
        return NULL;
    memset(&b->v[b->n], 0, sizeof(b->v[0]));
    b->v[b->n].type = type;
    return &b->v[b->n++];
}

/* Each s_bind_* returns the new value's parameter number, or -1 when the
 * search has too many values. */
static int
s_bind_s(struct binds *b, const char *s, char *owned)
{
    struct bind *v = s_slot(b, B_TEXT);
    if (v == NULL) {
        sqlite3_free(owned);
        return -1;
    }
    v->s = owned ? owned : s;
    v->owned = owned;
    return b->n;
}

static int
s_bind_i(struct binds *b, int64_t i)
{
    struct bind *v = s_slot(b, B_INT);
    if (v == NULL)
        return -1;
    v->i = i;
    return b->n;
}

static int
s_bind_d(struct binds *b, double d)
{
    struct bind *v = s_slot(b, B_REAL);
    if (v == NULL)
        return -1;
    v->d = d;
    return b->n;
}

/* Binds a copy of len bytes. */
static int
s_bind_blob(struct binds *b, const void *p, size_t len)
{
    char *copy = sqlite3_malloc64(len ? len : 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, p, len);
    int n = s_bind_s(b, NULL, copy);
    if (n > 0) {
        b->v[n - 1].type = B_BLOB;
        b->v[n - 1].len = len;
    }
    return n;
}

/* An FTS5 query from user words: each word quoted as a phrase (so no
 * word is read as FTS5 syntax), all of them required. */
static char *
s_fts_query(const char *words)
{
    sqlite3_str *q = sqlite3_str_new(NULL);
    const char *p = words;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        sqlite3_str_appendf(q, "%s\"", sqlite3_str_length(q) ? " " : "");
        for (const char *c = start; c < p; c++) {
            if (*c == '"')
                sqlite3_str_appendchar(q, 1, '"');
            sqlite3_str_appendchar(q, 1, *c);
        }
        sqlite3_str_appendchar(q, 1, '"');
    }
    return sqlite3_str_finish(q);
}

static bool
s_has(const char *const *list)
{
    return list != NULL && list[0] != NULL;
}

/* Appends "AND col IN (?,?..)" for a NULL-terminated list of strings. */
static int
s_where_in(sqlite3_str *w, struct binds *b, const char *col, const char *const *list)
{
    if (!s_has(list))
        return 0;
    sqlite3_str_appendf(w, " AND %s IN (", col);
    for (int i = 0; list[i]; i++) {
        int n = s_bind_s(b, list[i], NULL);
        if (n < 0)
            return -1;
        sqlite3_str_appendf(w, "%s?%d", i ? "," : "", n);
    }
    sqlite3_str_appendchar(w, 1, ')');
    return 0;
}

/* Appends "(col >= ?p AND col < ?p\x7f) OR ..." for prefixes: a range
 * per prefix, which an index on col serves. */
static int
s_prefix_ranges(sqlite3_str *w, struct binds *b, const char *col, const char *const *list)
{
    sqlite3_str_appendchar(w, 1, '(');
    for (int i = 0; list[i]; i++) {
        int lo = s_bind_s(b, list[i], NULL);
        int hi = s_bind_s(b, NULL, sqlite3_mprintf("%s\x7f", list[i]));
        if (lo < 0 || hi < 0)
            return -1;
        sqlite3_str_appendf(w, "%s(%s >= ?%d AND %s < ?%d)", i ? " OR " : "", col, lo, col, hi);
    }
    sqlite3_str_appendchar(w, 1, ')');
    return 0;
}

/* Appends an attrs filter: entries with any of the values (prefix: any
 * value starting with one of them) in field. */
static int
s_where_attr(sqlite3_str *w, struct binds *b, int field, const char *const *list, bool prefix)
{
    if (!s_has(list))
        return 0;
    int f = s_bind_i(b, field);
    if (f < 0)
        return -1;
    sqlite3_str_appendf(w, " AND e.rowid IN (SELECT entry FROM attrs WHERE field = ?%d AND ", f);
    if (prefix) {
        if (s_prefix_ranges(w, b, "value", list) != 0)
            return -1;
    } else {
        sqlite3_str_appendall(w, "value IN (");
        for (int i = 0; list[i]; i++) {
            int n = s_bind_s(b, list[i], NULL);
            if (n < 0)
                return -1;
            sqlite3_str_appendf(w, "%s?%d", i ? "," : "", n);
        }
        sqlite3_str_appendchar(w, 1, ')');
    }
    sqlite3_str_appendchar(w, 1, ')');
    return 0;
}

/* Appends the origin filter: each item is a node id (matched by key) or
 * else an origin name. */
static int
s_where_origin(sqlite3_str *w, struct binds *b, const char *const *list)
{
    if (!s_has(list))
        return 0;
    sqlite3_str_appendall(w, " AND e.origin IN (SELECT ix FROM origins WHERE");
    for (int i = 0; list[i]; i++) {
        uint8_t key[ENV_PKBYTES];
        bool is_key = strlen(list[i]) == NODEID_LEN && key_from_id(list[i], key) == 0;
        int n = is_key ? s_bind_blob(b, key, sizeof(key)) : s_bind_s(b, list[i], NULL);
        if (n < 0)
            return -1;
        sqlite3_str_appendf(w, "%s%s = ?%d", i ? " OR " : " ", is_key ? "key" : "name", n);
    }
    sqlite3_str_appendchar(w, 1, ')');
    return 0;
}

/* Appends a comparison of col with an integer or real value. */
static int
s_where_cmp(sqlite3_str *w, struct binds *b, const char *expr, bool real, int64_t i, double d)
{
    int n = real ? s_bind_d(b, d) : s_bind_i(b, i);
    if (n < 0)
        return -1;
    sqlite3_str_appendf(w, " AND %s ?%d", expr, n);
    return 0;
}

#define DEG (3.14159265358979323846 / 180.0)

/* sd_km(lat1, lon1, lat2, lon2): code_distance_km for SQL. */
static void
s_sql_km(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    double v[4];
    for (int i = 0; i < argc && i < 4; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL) {
            sqlite3_result_null(ctx);
            return;
        }
        v[i] = sqlite3_value_double(argv[i]);
    }
    sqlite3_result_double(ctx, code_distance_km(v[0], v[1], v[2], v[3]));
}

/* sd_rank(fts): the rank of a full-text match, lower is better like
 * bm25(): minus the sum over the query's phrases and the text columns of
 * weight(column) * tf * (k1 + 1) / (tf + k1), k1 = 1.2, with the weights
 * of name, summary, description, tags, place, f = 10, 4, 1, 2, 2, 0. It is BM25
 * without length normalisation (b = 0) and without idf: bm25() reads each
 * match's column sizes (a lookup per row) and, once per query, counts the
 * rows of every phrase, the filter tokens' too (a scan of up to every
 * row); with every word required, neither changes much which entries
 * come first, and at a million entries they cost most of a query. */
#define RANK_PHRASES 64
#define RANK_COLUMNS 6

static void
s_sql_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int argc,
           sqlite3_value **argv)
{
    static const double weight[RANK_COLUMNS] = { 10.0, 4.0, 1.0, 2.0, 2.0, 0.0 };
    unsigned short tf[RANK_PHRASES][RANK_COLUMNS];
    int n = 0;
    double score = 0;
    (void)argc;
    (void)argv;

    memset(tf, 0, sizeof(tf));
    if (api->xInstCount(fts, &n) != SQLITE_OK) {
        sqlite3_result_error(ctx, "sd_rank: no instance list", -1);
        return;
    }
    for (int i = 0; i < n; i++) {
        int phrase, col, off;
        if (api->xInst(fts, i, &phrase, &col, &off) == SQLITE_OK && phrase >= 0 &&
            phrase < RANK_PHRASES && col >= 0 && col < RANK_COLUMNS && tf[phrase][col] < 60000)
            tf[phrase][col]++;
    }
    for (int p = 0; p < RANK_PHRASES; p++)
        for (int c = 0; c < RANK_COLUMNS; c++)
            if (tf[p][c] > 0)
                score += weight[c] * tf[p][c] * 2.2 / (tf[p][c] + 1.2);
    sqlite3_result_double(ctx, -score);
}

int
store_sql_functions(sqlite3 *db)
{
    fts5_api *fts5 = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_create_function(db, "sd_km", 4, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                NULL, s_sql_km, NULL, NULL) != SQLITE_OK)
        return -1;
    /* FTS5 hands out its API through a pointer-passing query. */
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_pointer(st, 1, (void *)&fts5, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (fts5 == NULL || fts5->iVersion < 2)
        return -1;
    if (fts5->xCreateFunction(fts5, "sd_rank", NULL, s_sql_rank, NULL) != SQLITE_OK)
        return -1;
    return store_fold_register(db, fts5);
}

/* The near filter: the R*Tree box around the circle, then the exact
 * distance (km 0: no radius, only entries with a point). *dist gets the SQL expression of the distance. The box is
 * widened to every longitude near a pole or across the antimeridian, so
 * it never leaves out a point within the radius. */
static int
s_where_near(sqlite3_str *w, struct binds *b, const store_query_t *q, char **dist, int *km_bind)
{
    double dlat = q->km / (CODE_EARTH_KM * DEG) * 1.001, dlon = 180;
    double lat_lo = q->lat - dlat, lat_hi = q->lat + dlat, lon_lo = -180, lon_hi = 180;
    if (lat_lo > -90 && lat_hi < 90) {
        double c = cos((fabs(q->lat) + dlat) * DEG);
        if (c > 0)
            dlon = dlat / c;
        if (dlon < 180 && q->lon - dlon >= -180 && q->lon + dlon <= 180) {
            lon_lo = q->lon - dlon;
            lon_hi = q->lon + dlon;
        }
    }
    int la = s_bind_d(b, q->lat), lo = s_bind_d(b, q->lon);
    if (la < 0 || lo < 0)
        return -1;
    *dist = sqlite3_mprintf("sd_km(?%d, ?%d, g.minlat, g.minlon)", la, lo);
    if (!(q->km > 0))
        return 0;       /* no radius: every entry with a point, by distance */
    int km = s_bind_d(b, q->km);
    int a1 = s_bind_d(b, lat_lo), a2 = s_bind_d(b, lat_hi);
    int o1 = s_bind_d(b, lon_lo), o2 = s_bind_d(b, lon_hi);
    if (km < 0 || a1 < 0 || a2 < 0 || o1 < 0 || o2 < 0)
        return -1;
    sqlite3_str_appendf(w, " AND g.minlat >= ?%d AND g.maxlat <= ?%d AND g.minlon >= ?%d"
                        " AND g.maxlon <= ?%d", a1, a2, o1, o2);
    *km_bind = km;
    return 0;
}

/* The SQL conditions of a search ("AND ..."). With tokens, the filters
 * that are in the MATCH (s_match) are left out; with live (fts or geo
 * drives), so is the check for tombstones, which have no fts or geo rows. */
static int
s_where(sqlite3_str *w, struct binds *b, const store_query_t *q, bool tokens, bool live,
        char **dist, int *km_bind)
{
    if (q->near && s_where_near(w, b, q, dist, km_bind) != 0)
        return -1;
    if (s_where_origin(w, b, q->origins) != 0)
        return -1;
    if ((q->since_ms > 0 && s_where_cmp(w, b, "e.ts >=", false, q->since_ms, 0) != 0) ||
        (q->has_from && s_where_cmp(w, b, "e.start >=", false, q->from_ms, 0) != 0) ||
        (q->has_before && s_where_cmp(w, b, "e.start <", false, q->before_ms, 0) != 0) ||
        (q->has_min_share && s_where_cmp(w, b, "e.share >=", true, 0, q->min_share) != 0))
        return -1;
    if (!live && !q->include_deleted)
        sqlite3_str_appendall(w, " AND e.deleted = 0");
    if (tokens)
        return 0;
    if (q->kinds != NULL && q->kinds[0] != 0) {
        sqlite3_str_appendall(w, " AND e.kind IN (");
        for (int i = 0; q->kinds[i]; i++) {
            int n = s_bind_i(b, q->kinds[i]);
            if (n < 0)
                return -1;
            sqlite3_str_appendf(w, "%s?%d", i ? "," : "", n);
        }
        sqlite3_str_appendchar(w, 1, ')');
    }
    if (s_where_in(w, b, "e.country", q->countries) != 0)
        return -1;
    if (s_has(q->regions)) {
        sqlite3_str_appendall(w, " AND ");
        if (s_prefix_ranges(w, b, "e.region", q->regions) != 0)
            return -1;
    }
    const char *const lang[] = { q->lang, NULL };
    if (s_where_attr(w, b, ATTR_LANG, lang, false) != 0 ||
        s_where_attr(w, b, ATTR_NACE, q->nace, true) != 0 ||
        s_where_attr(w, b, ATTR_CPV, q->cpv, true) != 0 ||
        s_where_attr(w, b, ATTR_TARGET_GROUP, q->target_groups, false) != 0 ||
        s_where_attr(w, b, ATTR_PARTNERSHIP, q->partnerships, false) != 0 ||
        s_where_attr(w, b, ATTR_LABEL, q->labels, false) != 0 ||
        s_where_attr(w, b, ATTR_ORG_TYPE, q->org_types, false) != 0 ||
        s_where_attr(w, b, ATTR_CITY, q->cities, false) != 0)
        return -1;
    return 0;
}

/* True if q has a filter that s_match can put in the MATCH. */
static bool
s_token_filters(const store_query_t *q)
{
    return (q->kinds != NULL && q->kinds[0] != 0) || s_has(q->countries) || s_has(q->regions) ||
           q->lang != NULL || s_has(q->nace) || s_has(q->cpv) || s_has(q->target_groups) ||
           s_has(q->partnerships) || s_has(q->labels) || s_has(q->org_types) || s_has(q->cities);
}

/* Appends " AND f : (t1 OR t2 ...)" for one filter list: tag and lower-cased
 * value, or store_tok_attr's token when field is not 0. */
static void
s_match_list(sqlite3_str *m, char tag, int field, const char *const *list)
{
    if (!s_has(list))
        return;
    sqlite3_str *t = sqlite3_str_new(NULL);
    for (int i = 0; list[i]; i++) {
        if (field != 0)
            store_tok_attr(t, field, list[i]);
        else
            store_tok_lower(t, tag, list[i], strlen(list[i]));
    }
    char *toks = sqlite3_str_finish(t);
    sqlite3_str_appendf(m, "%sf : (", sqlite3_str_length(m) ? " AND " : "");
    for (char *c = toks; c && *c; c++) {
        if (*c == ' ')
            sqlite3_str_appendall(m, " OR ");
        else
            sqlite3_str_appendchar(m, 1, *c);
    }
    sqlite3_str_appendchar(m, 1, ')');
    sqlite3_free(toks);
}

/* The FTS5 expression of a search: the user's words, each quoted, in the
 * text columns, and with tokens the filters as f tokens (see "filter
 * tokens" in store_put.c). "" when there is nothing to match. */
static char *
s_match(const store_query_t *q, const char *words, bool tokens)
{
    sqlite3_str *m = sqlite3_str_new(NULL);
    if (words != NULL && words[0] != '\0')
        sqlite3_str_appendf(m, "{name summary description tags place} : (%s)", words);
    if (tokens) {
        if (q->kinds != NULL && q->kinds[0] != 0) {
            sqlite3_str_appendf(m, "%sf : (", sqlite3_str_length(m) ? " AND " : "");
            for (int i = 0; q->kinds[i]; i++)
                sqlite3_str_appendf(m, "%sk%d", i ? " OR " : "", q->kinds[i]);
            sqlite3_str_appendchar(m, 1, ')');
        }
        const char *const lang[] = { q->lang, NULL };
        s_match_list(m, 'c', 0, q->countries);
        s_match_list(m, 'r', 0, q->regions);
        s_match_list(m, 0, ATTR_LANG, lang);
        s_match_list(m, 0, ATTR_NACE, q->nace);
        s_match_list(m, 0, ATTR_CPV, q->cpv);
        s_match_list(m, 0, ATTR_TARGET_GROUP, q->target_groups);
        s_match_list(m, 0, ATTR_PARTNERSHIP, q->partnerships);
        s_match_list(m, 0, ATTR_LABEL, q->labels);
        s_match_list(m, 0, ATTR_ORG_TYPE, q->org_types);
        s_match_list(m, 0, ATTR_CITY, q->cities);
    }
    char *out = sqlite3_str_finish(m);
    return out ? out : sqlite3_mprintf("");
}

static void
s_binds_free(struct binds *b)
{
    for (int i = 0; i < b->n; i++)
        sqlite3_free(b->v[i].owned);
    b->n = 0;
}

void
store_plan_free(struct plan *p)
{
    sqlite3_free(p->from);
    sqlite3_free(p->where);
    sqlite3_free(p->where_d);
    sqlite3_free(p->dist);
    sqlite3_free(p->match);
    s_binds_free(&p->b);
}

/* True if q's conditions other than the MATCH read entries columns. */
static bool
s_reads_entries(const store_query_t *q, bool tokens, bool live)
{
    return !live || (!tokens && s_token_filters(q)) || s_has(q->origins) || q->since_ms > 0 ||
           q->has_from || q->has_before || q->has_min_share;
}

/* Plans q; need_e: the caller reads entries columns (order, facet). */
int
store_plan(store_t *self, const store_query_t *q, bool need_e, struct plan *p)
{
    memset(p, 0, sizeof(*p));
    char *words = q->words != NULL ? s_fts_query(q->words) : NULL;
    p->words = words != NULL && words[0] != '\0';
    bool tokens = !q->include_deleted && (p->words || (!q->near && s_token_filters(q)));
    bool fts = p->words || tokens;
    if (fts) {
        p->match = s_match(q, words, tokens);
        if (s_bind_s(&p->b, p->match, NULL) < 0)
            goto toomany;
    }
    sqlite3_free(words);
    words = NULL;
    bool live = fts || q->near;
    p->e = need_e || s_reads_entries(q, tokens, live);

    sqlite3_str *w = sqlite3_str_new(self->db);
    int km = 0;
    if (s_where(w, &p->b, q, tokens, live, &p->dist, &km) != 0) {
        sqlite3_free(sqlite3_str_finish(w));
        goto toomany;
    }
    char *conds = sqlite3_str_finish(w);
    if (fts) {
        p->rowid = "fts.rowid";
        p->from = sqlite3_mprintf("fts%s%s", q->near ? " CROSS JOIN geo g ON g.id = fts.rowid" : "",
                                  p->e ? " CROSS JOIN entries e ON e.rowid = fts.rowid" : "");
    } else if (q->near) {
        p->rowid = "g.id";
        p->from = sqlite3_mprintf("geo g%s", p->e ? " CROSS JOIN entries e ON e.rowid = g.id" : "");
    } else {
        p->rowid = "e.rowid";
        p->e = true;
        p->from = sqlite3_mprintf("entries e");
    }
    const char *m = fts ? "fts MATCH ?1" : "1";
    if (km > 0) {
        p->where = sqlite3_mprintf("WHERE %s%s AND %s <= ?%d", m, conds ? conds : "", p->dist, km);
        p->where_d = sqlite3_mprintf("WHERE %s%s AND d <= ?%d", m, conds ? conds : "", km);
    } else {
        p->where = sqlite3_mprintf("WHERE %s%s", m, conds ? conds : "");
        p->where_d = sqlite3_mprintf("%s", p->where);
    }
    sqlite3_free(conds);
    return 0;
toomany:
    sqlite3_free(words);
    snprintf(self->errmsg, sizeof(self->errmsg), "search: more than %d values", BIND_MAX);
    return -1;
}
