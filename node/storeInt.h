/*
 * storeInt.h: what the store's own files share, included by them alone
 * (store.c and the store_*.c files); the rest of the node sees only
 * store.h. It holds the connection and its prepared statements, and the
 * helpers more than one of those files calls. It is where the store files
 * get sqlite3.h.
 */
#ifndef SOCDIR_STOREINT_H
#define SOCDIR_STOREINT_H

#include "store.h"
#include "store_bench.h"

#include <sqlite3.h>

/* Prepared once in store_open, finalized in store_close. */
enum {
    Q_ORIGIN_GET, Q_ORIGIN_ADD, Q_ORIGIN_NAME, Q_ORIGIN_MAX, Q_ORIGIN_UPDATE, Q_ORIGIN_SUM,
    Q_CUR, Q_INSERT, Q_UPDATE, Q_ENV_PUT, Q_ATTR_ADD, Q_ATTR_DEL, Q_FTS_ADD, Q_FTS_DEL,
    Q_GEO_ADD, Q_GEO_DEL, Q_GET_ORIGIN, Q_GET_ANY, Q_SCAN, Q_SUMMARY,
    Q_META_GET, Q_META_SET, Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_SINCE, Q_MARKS, Q_COMPLETE, Q_HAS_SEQ, Q_SEQ_OTHER, Q_ORIGIN_KEY, Q_FORK_GET, Q_FORK_ADD,
    Q_FORK_SET,
    Q_FORKS,
    Q_GET_COMPLETE, Q_VIDS, Q_SAVEPOINT, Q_RELEASE, Q_ROLLBACK_TO, Q_COUNT
};

struct store {
    sqlite3 *db;                    /* the connection, for the store's life */
    sqlite3_stmt *q[Q_COUNT];       /* prepared statements, see s_sql in store.c */
    char errmsg[512];               /* last error, for store_errmsg */
    const char *fault_what;         /* store_fault: the write to fail, or NULL */
    int fault_skip;                 /* how many of them still succeed first */
};

/* ---- store.c ---- */

/* Sets the error message to what and SQLite's message; returns -1. */
int store_fail(store_t *self, const char *what);

/* Statement q, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(store_t *self, int q);

/* Steps st, a statement that returns no rows, and resets it; 0, or -1 with
 * the error message naming what (and failing there if store_fault says). */
int store_exec(store_t *self, sqlite3_stmt *st, const char *what);

/* ---- store_put.c ---- */

/* Appends to t the filter token tag followed by the first n characters of
 * v, lower-cased. */
void store_tok_lower(sqlite3_str *t, char tag, const char *v, size_t n);

/* Appends the filter token of value in field (see "filter tokens" in
 * store_put.c); for CPV and NACE, that of the digit prefix value. */
void store_tok_attr(sqlite3_str *t, int field, const char *value);

/* Registers the full-text tokenizer "socdir" (store_fold.c) and the SQL
 * function sd_fold(text), the sort key of a name, on db. Returns 0 or -1. */
int store_fold_register(sqlite3 *db, fts5_api *api);

/* Adds (add) or removes the index rows of the stored envelope buf/len of
 * row rowid: every index, or with fts_only the fts row alone. 0 or -1. */
int store_index_stored(store_t *self, int64_t rowid, const void *buf, size_t len, bool add,
                       bool fts_only);

/* ---- store_plan.c ---- */

/* Up to this many bound values in one search. */
#define BIND_MAX 128

enum { B_INT, B_TEXT, B_REAL, B_BLOB };

struct bind {
    int type;
    int64_t i;
    double d;
    const char *s;
    size_t len;             /* blob length */
    char *owned;            /* sqlite3_malloc'ed text or blob to free */
};

struct binds {
    int n;
    struct bind v[BIND_MAX];
};

/* A search's SQL parts. Free with store_plan_free.
 *
 * What drives (FROM):
 *   fts     when there are words, or filters and no near point: one MATCH
 *           of words and filter tokens gives exactly the live matches;
 *   geo g   with a near point and no words: the box of the circle;
 *   entries e otherwise (no filters, or --include-deleted: tombstones
 *           have no fts or geo rows).
 * entries e is joined (CROSS JOIN: the driver stays first) only when a
 * condition or the order reads its columns, so counting the matches of
 * words and filters reads the FTS index and nothing else. */
struct plan {
    struct binds b;
    char *from;
    char *where;            /* "WHERE ..." */
    char *where_d;          /* the same with the radius on the column d */
    char *dist;             /* the distance expression, NULL without near */
    const char *rowid;      /* the match's rowid: fts.rowid, g.id or e.rowid */
    char *match;            /* the FTS5 expression (bound as ?1) or NULL */
    bool words;             /* the match has words: sd_rank ranks */
    bool e;                 /* entries e is in from */
};

/* Plans q; need_e: the caller reads entries columns (order, facet). 0, or
 * -1 when q has too many values. */
int store_plan(store_t *self, const store_query_t *q, bool need_e, struct plan *p);
void store_plan_free(struct plan *p);

/* ---- store_query.c ---- */

/* Steps st and hands each row (columns: rowid, env, received, via key,
 * origin name[, score or seq]) to fn. Returns the number of rows or -1. */
enum { EXTRA_NONE, EXTRA_SCORE, EXTRA_SEQ };
int store_rows(store_t *self, sqlite3_stmt *st, int extra, store_row_fn fn, void *arg,
               int64_t *window);

#endif
