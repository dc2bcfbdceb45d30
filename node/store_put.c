/*
 * store_put.c: writing versions. store_put keeps the newest version of
 * each (origin, id): its entries and envs rows, its index rows (fts with
 * the filter tokens of the f column, attrs, geo) and its origin's
 * counters, and it records fork evidence when two payloads of an origin
 * share one seq. Opening the database is store.c's; reading it for
 * queries and for replication, store_query.c's and store_sync.c's.
 */
#include "storeInt.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- filter tokens ----
 *
 * The fts column f holds one token per filterable value of an entry, so
 * that filters and words are one FTS5 MATCH and a count or a page of a
 * filtered search never reads the entries table (a filter index
 * walked with an FTS probe per row costs seconds). Tokens are letters and
 * digits only, so unicode61 keeps each whole, and f is only ever searched
 * with a column filter, so a token never meets a user's word:
 *   k<kind>            kind number
 *   c<cc>              country, lower case
 *   r<nuts prefix>     every prefix of the NUTS code, 2 characters up
 *   p<digits>          every CPV digit prefix, 2 to 8 digits
 *   n<digits>          every NACE digit prefix, 2 to 4 digits ("81.21": n81 n812 n8121);
 *                      a NACE section letter alone: n<letter> ("N": nn)
 *   a<field>x<hex>     any other filterable attribute: field number, value in hex
 *                      (the city: its folded form, fold_key)
 */

void
store_tok_lower(sqlite3_str *t, char tag, const char *v, size_t n)
{
    sqlite3_str_appendf(t, "%s%c", sqlite3_str_length(t) ? " " : "", tag);
    for (size_t i = 0; i < n && v[i]; i++)
        sqlite3_str_appendchar(t, 1, (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]));
}

/* The digits of a code ("81.21" -> "8121", "90910000-9" -> "90910000"). */
static size_t
s_code_digits(const char *v, char *out, size_t max)
{
    size_t n = 0;
    for (; *v && *v != '-' && n < max; v++)
        if (*v >= '0' && *v <= '9')
            out[n++] = *v;
    out[n] = '\0';
    return n;
}

static bool
s_tok_field(int field)
{
    return field == ATTR_LANG || field == ATTR_TARGET_GROUP || field == ATTR_PARTNERSHIP ||
           field == ATTR_LABEL || field == ATTR_ORG_TYPE || field == ATTR_CITY;
}

/* Appends the token of value in field (one of s_tok_field's), or for CPV
 * and NACE of the digit prefix value. */
void
store_tok_attr(sqlite3_str *t, int field, const char *value)
{
    char digits[16];
    if (field == ATTR_NACE && isalpha((unsigned char)value[0])) {
        store_tok_lower(t, 'n', value, 1);      /* a section: "N" is nn */
        return;
    }
    if (field == ATTR_CPV || field == ATTR_NACE) {
        size_t n = s_code_digits(value, digits, 8);
        store_tok_lower(t, field == ATTR_CPV ? 'p' : 'n', digits, n);
        return;
    }
    sqlite3_str_appendf(t, "%sa%dx", sqlite3_str_length(t) ? " " : "", field);
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        sqlite3_str_appendf(t, "%02x", *c);
}

/* Every token of one entry, for the f column. */
static char *
s_tokens(int kind, const entry_index_t *ix)
{
    sqlite3_str *t = sqlite3_str_new(NULL);
    char digits[16];
    sqlite3_str_appendf(t, "k%d", kind);
    if (ix->country != NULL)
        store_tok_lower(t, 'c', ix->country, 2);
    for (size_t n = 2; ix->region != NULL && n <= strlen(ix->region) && n <= 5; n++)
        store_tok_lower(t, 'r', ix->region, n);
    for (size_t i = 0; i < ix->nattrs; i++) {
        const entry_attr_t *a = &ix->attrs[i];
        if (a->field == ATTR_NACE && isalpha((unsigned char)a->value[0])) {
            store_tok_attr(t, a->field, a->value);
        } else if (a->field == ATTR_CPV || a->field == ATTR_NACE) {
            size_t n = s_code_digits(a->value, digits, 8);
            for (size_t k = 2; k <= n; k++)
                store_tok_lower(t, a->field == ATTR_CPV ? 'p' : 'n', digits, k);
        } else if (s_tok_field(a->field)) {
            store_tok_attr(t, a->field, a->value);
        }
    }
    return sqlite3_str_finish(t);
}

/* Adds (add=true) or removes the fts row of one version. */
static int
s_index_fts(store_t *self, int64_t rowid, int kind, const entry_index_t *ix, bool add)
{
    sqlite3_stmt *st = store_stmt(self, add ? Q_FTS_ADD : Q_FTS_DEL);
    char *tokens = s_tokens(kind, ix);
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_text(st, 2, ix->text_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ix->text_summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ix->text_description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, ix->text_tags, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ix->text_place, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, tokens, -1, SQLITE_STATIC);
    int rc = store_exec(self, st, "full-text index");
    sqlite3_free(tokens);
    return rc;
}

/* Adds (add=true) or removes the fts, attrs and geo rows of one version. */
static int
s_index(store_t *self, int64_t rowid, int kind, const entry_index_t *ix, bool add)
{
    sqlite3_stmt *st;
    if (s_index_fts(self, rowid, kind, ix, add) != 0)
        return -1;
    for (size_t i = 0; i < ix->nattrs; i++) {
        st = store_stmt(self, add ? Q_ATTR_ADD : Q_ATTR_DEL);
        sqlite3_bind_int(st, 1, ix->attrs[i].field);
        sqlite3_bind_text(st, 2, ix->attrs[i].value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, rowid);
        if (store_exec(self, st, "attribute index") != 0)
            return -1;
    }
    if (ix->has_geo) {
        st = store_stmt(self, add ? Q_GEO_ADD : Q_GEO_DEL);
        sqlite3_bind_int64(st, 1, rowid);
        if (add) {
            sqlite3_bind_double(st, 2, ix->lat);
            sqlite3_bind_double(st, 3, ix->lon);
        }
        if (store_exec(self, st, "geo index") != 0)
            return -1;
    }
    return 0;
}

/* Adds (add) or removes the index rows of a stored envelope (bytes
 * buf/len, row rowid): every index, or with fts_only the fts row alone.
 * A tombstone has none. */
int
store_index_stored(store_t *self, int64_t rowid, const void *buf, size_t len, bool add, bool fts_only)
{
    envelope_t env;
    entry_index_t ix;
    char err[ENTRY_ERR_MAX];

    if (envelope_open_stored(buf, len, &env, err, sizeof(err)) != 0) {
        snprintf(self->errmsg, sizeof(self->errmsg), "stored envelope %lld: %s",
                 (long long)rowid, err);
        return -1;
    }
    int rc = 0;
    if (!env.hdr.deleted) {
        entry_index_build(env.body, &ix);
        rc = fts_only ? s_index_fts(self, rowid, env.hdr.kind, &ix, add)
                      : s_index(self, rowid, env.hdr.kind, &ix, add);
        entry_index_free(&ix);
    }
    envelope_clear(&env);
    return rc;
}

/* An envelope and its version, for fork evidence. */
struct version {
    const void *env;
    size_t len;
    entry_version_t v;
};

/* The version of stored envelope bytes; -1 if they do not open. */
static int
s_stored_version(store_t *self, const void *env, size_t len, struct version *out)
{
    envelope_t e;
    char err[ENTRY_ERR_MAX];
    if (envelope_open_stored(env, len, &e, err, sizeof(err)) != 0) {
        snprintf(self->errmsg, sizeof(self->errmsg), "fork evidence does not open: %s", err);
        return -1;
    }
    envelope_version(&e, &out->v);
    envelope_clear(&e);
    out->env = env;
    out->len = len;
    return 0;
}

/* Orders versions newest first, for qsort. */
static int
s_version_desc(const void *a, const void *b)
{
    return entry_version_cmp(&((const struct version *)b)->v, &((const struct version *)a)->v);
}

/* Says, at warning level, which fork the store now holds as evidence. */
static void
s_fork_log(store_t *self, int64_t origin, uint64_t seq, const struct version *kept,
           const struct version *other)
{
    char id[NODEID_LEN + 1] = "?", kv[2 * ENV_VIDBYTES + 1], ov[2 * ENV_VIDBYTES + 1];
    sqlite3_stmt *st = store_stmt(self, Q_ORIGIN_KEY);
    sqlite3_bind_int64(st, 1, origin);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == ENV_PKBYTES)
        key_to_id(sqlite3_column_blob(st, 0), id);
    sqlite3_reset(st);
    to_hex(kept->v.vid, ENV_VIDBYTES, kv);
    to_hex(other->v.vid, ENV_VIDBYTES, ov);
    log_warnx("fork: origin %s wrote two payloads with seq %llu; evidence kept"
              " (versions %.16s... kept, %.16s... other)", id, (unsigned long long)seq, kv, ov);
}

/* Records that a and b, two different payloads of origin, share seq
 * (PROTOCOL.md 4.7). One record per (origin, seq), whatever the order of
 * arrival: kept is the version 2.1 ranks first, other the next (of every
 * payload seen for that seq, the two newest). Logged when it changes. */
static int
s_fork(store_t *self, int64_t origin, uint64_t seq, const struct version *a,
       const struct version *b)
{
    struct version all[4] = { *a, *b };
    uint8_t held_vid[2][ENV_VIDBYTES];
    uint8_t *held[2] = { NULL, NULL };
    size_t n = 2;
    int rc = -1;

    sqlite3_stmt *st = store_stmt(self, Q_FORK_GET);
    sqlite3_bind_int64(st, 1, origin);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    int step = sqlite3_step(st);
    bool exists = step == SQLITE_ROW;
    for (int i = 0; exists && i < 2; i++) {
        size_t len = (size_t)sqlite3_column_bytes(st, i);
        held[i] = xmalloc(len ? len : 1);
        memcpy(held[i], sqlite3_column_blob(st, i), len);
        if (s_stored_version(self, held[i], len, &all[n]) != 0) {
            sqlite3_reset(st);
            goto out;
        }
        memcpy(held_vid[i], all[n].v.vid, ENV_VIDBYTES);
        n++;
    }
    sqlite3_reset(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        store_fail(self, "fork lookup");
        goto out;
    }
    qsort(all, n, sizeof(all[0]), s_version_desc);
    size_t second = 1;          /* the newest version after the first */
    while (second < n && memcmp(all[second].v.vid, all[0].v.vid, ENV_VIDBYTES) == 0)
        second++;
    if (NEVER(second == n) ||   /* the callers pass two different payloads */
        (exists && memcmp(all[0].v.vid, held_vid[0], ENV_VIDBYTES) == 0 &&
         memcmp(all[second].v.vid, held_vid[1], ENV_VIDBYTES) == 0)) {
        rc = 0;                 /* nothing new: the record stands */
        goto out;
    }
    st = store_stmt(self, exists ? Q_FORK_SET : Q_FORK_ADD);
    sqlite3_bind_int64(st, 1, origin);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    sqlite3_bind_blob(st, 3, all[0].env, (int)all[0].len, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 4, all[second].env, (int)all[second].len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (int64_t)now_ms());
    rc = store_exec(self, st, "fork evidence");
    if (rc == 0)
        s_fork_log(self, origin, seq, &all[0], &all[second]);
out:
    free(held[0]);
    free(held[1]);
    return rc;
}

/* Another entry of origin holding seq with a different payload: evidence. */
static int
s_fork_other_entry(store_t *self, int64_t origin, const struct version *nv, const char *id)
{
    sqlite3_stmt *st = store_stmt(self, Q_SEQ_OTHER);
    sqlite3_bind_int64(st, 1, origin);
    sqlite3_bind_int64(st, 2, (int64_t)nv->v.seq);
    sqlite3_bind_blob(st, 3, nv->v.vid, ENV_VIDBYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), out = 0;
    if (rc == SQLITE_ROW) {
        size_t otherlen = (size_t)sqlite3_column_bytes(st, 0);
        uint8_t *other = xmalloc(otherlen ? otherlen : 1);
        struct version ov;
        memcpy(other, sqlite3_column_blob(st, 0), otherlen);
        sqlite3_reset(st);
        out = s_stored_version(self, other, otherlen, &ov) != 0 ? -1 : s_fork(self, origin, nv->v.seq, nv, &ov);
        free(other);
        return out;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(self, "fork check");
}

static int
s_origin_sum(store_t *self, int64_t origin, uint8_t vsum[ENV_VIDBYTES])
{
    sqlite3_stmt *st = store_stmt(self, Q_ORIGIN_SUM);
    sqlite3_bind_int64(st, 1, origin);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == ENV_VIDBYTES)
        memcpy(vsum, sqlite3_column_blob(st, 0), ENV_VIDBYTES);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : store_fail(self, "origin sum");
}

static void
s_bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Writes the entries row (inserted when *rowid is 0, which then receives
 * the new rowid; else updated) and, for a live version, its index rows. */
static int
s_write_row(store_t *self, int64_t origin, int64_t *rowid, const uint8_t *buf, size_t len,
            const envelope_t *env, const uint8_t vid[ENV_VIDBYTES], int64_t via,
            const entry_index_t *ix)
{
    bool insert = *rowid == 0;
    sqlite3_stmt *st = store_stmt(self, insert ? Q_INSERT : Q_UPDATE);
    if (insert) {
        sqlite3_bind_int64(st, 1, origin);
        sqlite3_bind_text(st, 2, env->hdr.id, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(st, 1, *rowid);
    }
    sqlite3_bind_int64(st, 3, (int64_t)env->hdr.seq);
    sqlite3_bind_int64(st, 4, (int64_t)env->hdr.ts);
    sqlite3_bind_int(st, 5, env->hdr.kind);
    sqlite3_bind_int(st, 6, env->hdr.deleted);
    sqlite3_bind_blob(st, 7, vid, ENV_VIDBYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, (int64_t)now_ms());
    if (via > 0)
        sqlite3_bind_int64(st, 10, via);
    sqlite3_bind_text(st, 11, ix->name, -1, SQLITE_STATIC);
    s_bind_text_or_null(st, 12, ix->country);
    s_bind_text_or_null(st, 13, ix->region);
    if (ix->start_ms != 0)
        sqlite3_bind_int64(st, 14, ix->start_ms);
    if (ix->disadvantaged_share >= 0)
        sqlite3_bind_double(st, 15, ix->disadvantaged_share);
    if (store_exec(self, st, "entry write") != 0)
        return -1;
    if (insert)
        *rowid = sqlite3_last_insert_rowid(self->db);
    st = store_stmt(self, Q_ENV_PUT);
    sqlite3_bind_int64(st, 1, *rowid);
    sqlite3_bind_blob(st, 2, buf, (int)len, SQLITE_STATIC);
    if (store_exec(self, st, "envelope write") != 0)
        return -1;
    return env->hdr.deleted ? 0 : s_index(self, *rowid, env->hdr.kind, ix, true);
}

int
store_insert_raw(store_t *self, int64_t origin, const uint8_t *buf, size_t len,
                 const envelope_t *env, const entry_index_t *ix)
{
    int64_t rowid = 0;
    return s_write_row(self, origin, &rowid, buf, len, env, env->vid, 0, ix);
}

/* One function, about 80 lines, on purpose: the current version's row is
 * read in place (its envelope, column 5, is fork evidence and the source
 * of the index terms to remove) while Q_CUR stays stepped, so splitting
 * the lookup from its uses would mean copying every envelope replaced. */
int
store_put(store_t *self, const uint8_t *buf, size_t len, const envelope_t *env, int64_t via)
{
    entry_version_t nv, cur;
    entry_index_t ix;
    uint8_t vsum[ENV_VIDBYTES] = { 0 };
    int64_t rowid = 0;
    int result = STORE_NEW, was_live = 0;

    int64_t origin = store_origin(self, env->hdr.origin, NULL);
    if (origin < 0)
        return -1;
    envelope_version(env, &nv);

    sqlite3_stmt *st = store_stmt(self, Q_CUR);
    sqlite3_bind_int64(st, 1, origin);
    sqlite3_bind_text(st, 2, env->hdr.id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rowid = sqlite3_column_int64(st, 0);
        cur.seq = (uint64_t)sqlite3_column_int64(st, 1);
        cur.ts = (uint64_t)sqlite3_column_int64(st, 2);
        cur.deleted = sqlite3_column_int(st, 3) != 0;
        was_live = !cur.deleted;
        if (sqlite3_column_bytes(st, 4) != ENV_VIDBYTES) {
            sqlite3_reset(st);
            snprintf(self->errmsg, sizeof(self->errmsg), "corrupt version row %lld", (long long)rowid);
            return -1;
        }
        memcpy(cur.vid, sqlite3_column_blob(st, 4), ENV_VIDBYTES);
        int cmp = entry_version_cmp(&nv, &cur);
        if (cmp != 0 && cur.seq == nv.seq) {
            /* Two payloads for one (origin, seq): keep both as evidence. */
            struct version a = { buf, len, nv }, b = { sqlite3_column_blob(st, 5),
                                                       (size_t)sqlite3_column_bytes(st, 5), cur };
            if (s_fork(self, origin, nv.seq, &a, &b) != 0) {
                sqlite3_reset(st);
                return -1;
            }
        }
        if (cmp <= 0) {
            sqlite3_reset(st);
            return STORE_OLDER;
        }
        rc = store_index_stored(self, rowid, sqlite3_column_blob(st, 5),
                            (size_t)sqlite3_column_bytes(st, 5), false, false);
        sqlite3_reset(st);
        if (rc != 0)
            return -1;
        result = STORE_REPLACED;
    } else {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return store_fail(self, "version lookup");
    }
    if (s_origin_sum(self, origin, vsum) != 0)
        return -1;
    if (result == STORE_REPLACED)
        vid_sum_sub(vsum, cur.vid);
    vid_sum_add(vsum, nv.vid);
    struct version mine = { buf, len, nv };
    if (s_fork_other_entry(self, origin, &mine, env->hdr.id) != 0)
        return -1;

    entry_index_build(env->body, &ix);
    rc = s_write_row(self, origin, &rowid, buf, len, env, nv.vid, via, &ix);
    entry_index_free(&ix);
    if (rc != 0)
        return -1;

    st = store_stmt(self, Q_ORIGIN_UPDATE);
    sqlite3_bind_int64(st, 1, origin);
    sqlite3_bind_int(st, 2, result == STORE_NEW ? 1 : 0);
    sqlite3_bind_int(st, 3, (env->hdr.deleted ? 0 : 1) - was_live);
    sqlite3_bind_int64(st, 4, (int64_t)env->hdr.seq);
    sqlite3_bind_int64(st, 5, (int64_t)env->hdr.ts);
    sqlite3_bind_blob(st, 6, vsum, ENV_VIDBYTES, SQLITE_STATIC);
    if (store_exec(self, st, "origin counters") != 0)
        return -1;
    return result;
}
