/*
 * store.h: the node's SQLite database, the merged view of the federation.
 * The store files (store.c, store_*.c, storeInt.h) are the only ones that
 * include sqlite3.h. The store keeps the exact envelope bytes of the newest
 * version of every (origin, id) and the columns and indexes that queries
 * need; it decides which version is newer through entry_version_cmp and
 * nothing else.
 */
#ifndef SOCDIR_STORE_H
#define SOCDIR_STORE_H

#include "envelope.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* Opens (creating if needed) the database at path (":memory:" for tests).
 * Returns NULL with err set on failure. */
store_t *store_open(const char *path, char *err, size_t errlen);
void store_close(store_t **self_p);

/* The last error's text, SQLite style. */
const char *store_errmsg(store_t *self);
/* Sets what store_errmsg says, for a failure outside SQLite that undoes
 * a transaction (a file written beside it). */
void store_set_errmsg(store_t *self, const char *msg);

/* Transactions. Writes outside one run in their own. */
int store_begin(store_t *self);
int store_commit(store_t *self);
void store_rollback(store_t *self);

/* One item of a batch inside a transaction: store_item_end keeps its
 * writes, or undoes them (keep false) and leaves the rest of the batch. */
int store_item_begin(store_t *self);
int store_item_end(store_t *self, bool keep);

/* The small integer that stands for an origin key in the tables, created
 * if new. name (may be NULL) updates the origin's display name. -1 on error. */
int64_t store_origin(store_t *self, const uint8_t key[ENV_PKBYTES], const char *name);

/* Highest sequence seen from origin and its newest timestamp (0 if none). */
int store_origin_max(store_t *self, const uint8_t key[ENV_PKBYTES],
                     uint64_t *max_seq, uint64_t *max_ts);

typedef enum {
    STORE_OLDER = 0,    /* not stored: the store holds this or a newer version */
    STORE_NEW = 1,      /* first version of this (origin, id) */
    STORE_REPLACED = 2  /* replaced an older version */
} store_put_result_t;

/* Stores an opened, verified envelope whose bytes are buf/len. via is the
 * origin index of the peer it came from, 0 for a local write. Returns a
 * store_put_result_t, or -1 on a database error. */
int store_put(store_t *self, const uint8_t *buf, size_t len, const envelope_t *env,
              int64_t via);

/* The current version of (origin, id): 1 and fills v, 0 if none, -1 on error. */
int store_version(store_t *self, const uint8_t origin[ENV_PKBYTES], const char *id,
                  entry_version_t *v);

/* One row handed to a store_row_fn. Pointers are valid during the call. */
typedef struct {
    int64_t rowid;
    const uint8_t *env;     /* envelope bytes */
    size_t env_len;
    uint64_t received;      /* ms since the epoch */
    const uint8_t *via;     /* key of the peer it came from; NULL if local */
    const char *origin_name;
    double score;           /* bm25 rank when the query had words, else 0 */
    double distance;        /* km from the query's near point; -1 without one */
    uint64_t seq;           /* set by store_since */
} store_row_t;

/* Return non-zero from the callback to stop. */
typedef int (*store_row_fn)(void *arg, const store_row_t *row);

/* Rows named by id: of origin if origin is not NULL, else every origin's
 * entry with that id. Returns the number of rows, -1 on error. */
int store_get(store_t *self, const uint8_t *origin, const char *id,
              store_row_fn fn, void *arg);

/* How search results are ordered. STORE_SORT_DEFAULT: relevance with
 * words, else distance with a near point, else name. */
typedef enum {
    STORE_SORT_DEFAULT = 0, STORE_SORT_RELEVANCE, STORE_SORT_NAME, STORE_SORT_UPDATED,
    STORE_SORT_DISTANCE
} store_sort_t;

/* What store_facets counts matches by. */
typedef enum {
    STORE_FACET_NONE = 0, STORE_FACET_REGION, STORE_FACET_COUNTRY, STORE_FACET_CPV,
    STORE_FACET_NACE, STORE_FACET_LABEL, STORE_FACET_KIND
} store_facet_t;

/* Called with each SQL statement a search runs, its bound values
 * written in (sqlite3_expanded_sql), and SQLite's query plan for it, one
 * line per step, indented by depth. */
typedef void (*store_explain_fn)(void *arg, const char *sql, const char *plan);

/* A search. Lists are NULL-terminated arrays (may be NULL or empty: no
 * filter); within a list any value matches, and every filter given must
 * hold. Values are checked by the caller (query.c); the store binds them. */
typedef struct {
    const char *words;          /* user words, or NULL */
    const int *kinds;           /* 0-terminated */
    const char *const *countries;
    const char *const *regions; /* NUTS prefixes */
    const char *lang;
    const char *const *nace;    /* NACE prefixes: "81" matches "81.21" */
    const char *const *cpv;     /* CPV digit prefixes, no check digit: "9091" */
    const char *const *target_groups;
    const char *const *partnerships;    /* partnership types */
    const char *const *labels;
    const char *const *org_types;
    const char *const *cities;      /* folded (fold_key) */
    const char *const *origins; /* node ids (NODEID_LEN) or origin names */
    int64_t since_ms;           /* updated (ts) at or after; 0: any */
    bool has_from, has_before;
    int64_t from_ms;            /* start (event start, deadline) >= from_ms */
    int64_t before_ms;          /* start < before_ms */
    bool has_min_share;
    double min_share;           /* disadvantaged_share >= min_share */
    bool near;                  /* within km of (lat, lon), great circle */
    double lat, lon, km;
    int sort;                   /* store_sort_t */
    bool include_deleted;
    int64_t limit;
    int64_t offset;
    int count_by;               /* store_facet_t, for store_facets */
    int depth;                  /* facet depth: NUTS level 0-3, CPV digits
                                 * 2-8, NACE digits 2-4; 0: the full value */
    store_explain_fn explain;   /* NULL, or told every statement run */
    void *explain_arg;
} store_query_t;

/* Calls fn for each matching row of the page in q->sort order, and sets
 * *total to the number of matches. Returns 0 or -1. */
int store_search(store_t *self, const store_query_t *q, store_row_fn fn, void *arg,
                 int64_t *total);

/* One facet value and how many matches carry it. value is lent. */
typedef int (*store_facet_fn)(void *arg, const char *value, int64_t count);

/* Counts every match of q (not only a page) by q->count_by, calling fn per
 * value in count order (most first, then value), and sets *total to the
 * number of matches. Returns 0 or -1. */
int store_facets(store_t *self, const store_query_t *q, store_facet_fn fn, void *arg,
                 int64_t *total);

/* Every row with rowid > after, in rowid order, at most limit. Returns the
 * number of rows or -1. */
int store_scan(store_t *self, int64_t after, int64_t limit, store_row_fn fn, void *arg);

/* Per-origin summary, for status and digests. */
typedef struct {
    uint8_t key[ENV_PKBYTES];
    const char *name;
    uint64_t count;         /* versions held (tombstones included) */
    uint64_t live;          /* of which not deleted */
    uint64_t max_seq;
} store_origin_t;

typedef int (*store_origin_fn)(void *arg, const store_origin_t *o);

/* Calls fn per origin holding entries, in key order, and writes the hex
 * digest of the whole view into digest_hex (65 bytes). Two stores have
 * equal digests exactly when they hold the same versions. */
int store_summary(store_t *self, store_origin_fn fn, void *arg, char digest_hex[65]);

/* ---- replication (PROTOCOL.md section 4) ---- */

/* Versions of origin key with after < seq < before, in seq order, at most
 * limit. Returns the number of rows or -1. */
int store_since(store_t *self, const uint8_t key[ENV_PKBYTES], uint64_t after, uint64_t before,
                int64_t limit, store_row_fn fn, void *arg);

/* Every origin's marks (complete, max_seq, count, vsum), in key order, in a
 * new array (caller frees). Returns 0 or -1. */
int store_marks(store_t *self, wire_mark_t **out, size_t *n);

/* Raises the origin's complete watermark to at least complete. */
int store_set_complete(store_t *self, const uint8_t key[ENV_PKBYTES], uint64_t complete);
uint64_t store_complete(store_t *self, const uint8_t key[ENV_PKBYTES]);

/* Raises the watermark over every seq right after it that the store holds. */
int store_advance(store_t *self, const uint8_t key[ENV_PKBYTES]);

/* Fingerprints of the origin's versions by bucket (seq >> shift), in
 * bucket order, in a new array (caller frees). Returns 0 or -1. */
int store_buckets(store_t *self, const uint8_t key[ENV_PKBYTES], unsigned shift, wire_fp_t **out,
                  size_t *n);

/* Evidence of forks: two payloads of one origin with one seq. */
typedef struct {
    const uint8_t *origin;
    uint64_t seq;
    const uint8_t *kept, *other;    /* envelopes: the one in the view, the other */
    size_t kept_len, other_len;
    uint64_t seen;
} store_fork_t;
typedef int (*store_fork_fn)(void *arg, const store_fork_t *f);
/* Calls fn per piece of evidence; returns how many there are, or -1. */
int store_forks(store_t *self, store_fork_fn fn, void *arg);

/* ---- copies (store_backup.c) ---- */

/* What a copy holds: live entries, entries rows (tombstones too), the
 * highest seq of the node's own origin (its meta node_id), file bytes. */
typedef struct {
    uint64_t entries, versions, own_max, bytes;
} store_copy_info_t;

/* Copies the database at src (a running node's: opened read-only, one
 * consistent snapshot) into out, which must not exist: written to
 * out.tmp, fsynced, renamed. The copy is one file, marked as a backup
 * (meta restoring = 1, backup = when), so that a node started on it
 * restores first (PROTOCOL.md 4.6). 0, or -1 with err set. */
int store_backup(const char *src, const char *out, store_copy_info_t *info, char *err,
                 size_t errlen);
/* The same, of an open store (before a schema upgrade). */
int store_backup_open(store_t *self, const char *out, store_copy_info_t *info, char *err,
                      size_t errlen);
/* Puts a marked copy of backup (a database of node_id) in place of the
 * database at db, whose node must be stopped: the current one (its WAL
 * folded in) moves to keep first, refused if keep exists unless force.
 * 0, or -1 with err set and db as it was. */
int store_restore(const char *backup, const char *db, const char *keep, const char *node_id,
                  bool force, store_copy_info_t *info, char *err, size_t errlen);

/* Small persistent settings. */
int store_meta_get(store_t *self, const char *k, char *v, size_t vlen);
int store_meta_set(store_t *self, const char *k, const char *v);

#endif
