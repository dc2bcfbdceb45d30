/*
 * store_sync.c: what replication reads from the store, and the watermarks
 * it keeps there (PROTOCOL.md section 4): an origin's highest seq, the
 * version held of one entry, an origin's versions in a seq range, every
 * origin's marks, the complete watermark and how it advances over the
 * seqs held, fingerprints of seq buckets to find the range to repair,
 * and the fork evidence store_put.c records. Writing versions is
 * store_put.c's; answering requests, store_query.c's.
 */
#include "storeInt.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int
store_origin_max(store_t *self, const uint8_t key[ENV_PKBYTES], uint64_t *max_seq,
                 uint64_t *max_ts)
{
    sqlite3_stmt *st = store_stmt(self, Q_ORIGIN_MAX);
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *max_seq = *max_ts = 0;
    if (rc == SQLITE_ROW) {
        *max_seq = (uint64_t)sqlite3_column_int64(st, 0);
        *max_ts = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : store_fail(self, "origin max");
}

int
store_version(store_t *self, const uint8_t origin[ENV_PKBYTES], const char *id,
              entry_version_t *v)
{
    sqlite3_stmt *st = store_stmt(self, Q_ORIGIN_GET);
    sqlite3_bind_blob(st, 1, origin, ENV_PKBYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t ix = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : store_fail(self, "origin lookup");

    st = store_stmt(self, Q_CUR);
    sqlite3_bind_int64(st, 1, ix);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 4) == ENV_VIDBYTES) {
        v->seq = (uint64_t)sqlite3_column_int64(st, 1);
        v->ts = (uint64_t)sqlite3_column_int64(st, 2);
        v->deleted = sqlite3_column_int(st, 3) != 0;
        memcpy(v->vid, sqlite3_column_blob(st, 4), ENV_VIDBYTES);
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(self, "version lookup");
}

/* ---- replication ---- */

int
store_since(store_t *self, const uint8_t key[ENV_PKBYTES], uint64_t after, uint64_t before,
            int64_t limit, store_row_fn fn, void *arg)
{
    sqlite3_stmt *st = store_stmt(self, Q_SINCE);
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)(after > INT64_MAX ? INT64_MAX : after));
    sqlite3_bind_int64(st, 3, (int64_t)(before > INT64_MAX ? INT64_MAX : before));
    sqlite3_bind_int64(st, 4, limit);
    return store_rows(self, st, EXTRA_SEQ, fn, arg, NULL);
}

int
store_marks(store_t *self, wire_mark_t **out, size_t *n)
{
    sqlite3_stmt *st = store_stmt(self, Q_MARKS);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != ENV_PKBYTES || sqlite3_column_bytes(st, 4) != ENV_VIDBYTES)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = xrealloc(*out, cap * sizeof(**out));
        }
        wire_mark_t *m = &(*out)[(*n)++];
        memcpy(m->origin, sqlite3_column_blob(st, 0), ENV_PKBYTES);
        m->complete = (uint64_t)sqlite3_column_int64(st, 1);
        m->max_seq = (uint64_t)sqlite3_column_int64(st, 2);
        m->count = (uint64_t)sqlite3_column_int64(st, 3);
        memcpy(m->vsum, sqlite3_column_blob(st, 4), ENV_VIDBYTES);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store_fail(self, "marks");
    }
    return 0;
}

int
store_set_complete(store_t *self, const uint8_t key[ENV_PKBYTES], uint64_t complete)
{
    if (store_origin(self, key, NULL) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(self, Q_COMPLETE);
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)complete);
    return store_exec(self, st, "watermark");
}

uint64_t
store_complete(store_t *self, const uint8_t key[ENV_PKBYTES])
{
    sqlite3_stmt *st = store_stmt(self, Q_GET_COMPLETE);
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    uint64_t c = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return c;
}

int
store_advance(store_t *self, const uint8_t key[ENV_PKBYTES])
{
    uint64_t c = store_complete(self, key), start = c;
    for (;;) {
        sqlite3_stmt *st = store_stmt(self, Q_HAS_SEQ);
        sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)(c + 1));
        int rc = sqlite3_step(st);
        bool has = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            return store_fail(self, "advance");
        if (!has)
            break;
        c++;
    }
    return c > start ? store_set_complete(self, key, c) : 0;
}

int
store_buckets(store_t *self, const uint8_t key[ENV_PKBYTES], unsigned shift, wire_fp_t **out,
              size_t *n)
{
    sqlite3_stmt *st = store_stmt(self, Q_VIDS);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t bucket = (uint64_t)sqlite3_column_int64(st, 0) >> shift;
        if (sqlite3_column_bytes(st, 1) != ENV_VIDBYTES)
            continue;
        if (*n == 0 || (*out)[*n - 1].bucket != bucket) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 64;
                *out = xrealloc(*out, cap * sizeof(**out));
            }
            memset(&(*out)[*n], 0, sizeof(**out));
            (*out)[(*n)++].bucket = bucket;
        }
        (*out)[*n - 1].count++;
        vid_sum_add((*out)[*n - 1].vsum, sqlite3_column_blob(st, 1));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store_fail(self, "buckets");
    }
    return 0;
}

int
store_forks(store_t *self, store_fork_fn fn, void *arg)
{
    sqlite3_stmt *st = store_stmt(self, Q_FORKS);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_fork_t f = {
            .origin = sqlite3_column_blob(st, 0),
            .seq = (uint64_t)sqlite3_column_int64(st, 1),
            .kept = sqlite3_column_blob(st, 2),
            .kept_len = (size_t)sqlite3_column_bytes(st, 2),
            .other = sqlite3_column_blob(st, 3),
            .other_len = (size_t)sqlite3_column_bytes(st, 3),
            .seen = (uint64_t)sqlite3_column_int64(st, 4),
        };
        n++;
        if (fn != NULL && fn(arg, &f) != 0)
            break;
    }
    sqlite3_reset(st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? n : store_fail(self, "forks");
}
