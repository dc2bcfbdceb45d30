/*
 * store.c: the SQLite store.
 *
 * Schema (version 1):
 *
 *   origins(ix, key, name, count, live, max_seq, max_ts, vsum)
 *       One row per origin key. ix is the small integer the other tables
 *       use instead of the 32-byte key. count/live/max_seq/vsum are kept
 *       up to date by store_put, so status and digests never scan entries.
 *       vsum is the sum (mod 2^256) of the version ids held.
 *   entries(rowid, origin, id, seq, ts, kind, deleted, vid, env, received,
 *           via, name, country, region, start, share)
 *       The newest version of each (origin, id): env is the exact signed
 *       envelope; the other columns are derived from it for queries.
 *       UNIQUE(id, origin) serves both lookups by (origin, id) and by id.
 *       Indexes: (origin, seq) for replication, (country, region) for
 *       filters, and (kind, start) over the rows that have a start (events,
 *       programmes, partnerships) for date windows ("events in the next 90
 *       days" reads only the window). Added later without a schema version
 *       change: CREATE INDEX IF NOT EXISTS builds it on the first open.
 *   attrs(field, value, entry)  WITHOUT ROWID
 *       Multi-valued attributes (languages, NACE, CPV, labels...) for
 *       filters; primary key (field, value, entry) so a filter is a range.
 *   fts   FTS5, contentless, unicode61 remove_diacritics 2, over name,
 *         summary, description, tags in every language. rowid = entries.
 *   geo   R*Tree of entries with a point (minlat = maxlat, minlon = maxlon).
 *         Searches near a point use it as a box prefilter and then the
 *         SQL function sd_km (great-circle km), registered in store_open.
 *   forks(origin, seq, kept, other, seen)
 *       Evidence: two different envelopes of one origin with one seq. An
 *       honest origin never writes them; both are kept and reported.
 *   meta(k, v)  settings such as the schema version.
 *
 * Watermarks: origins.complete is the highest seq up to which this node
 * holds, for every entry of the origin, a version at least as new as any
 * the origin wrote with a seq that low (PROTOCOL.md 4.2). It only grows.
 *
 * Invariants: an entries row exists only with its origin's counters
 * including it; the fts, attrs and geo rows of an entry are exactly those
 * derived from its current envelope, and none for a tombstone. Because fts
 * is contentless, replacing a version rebuilds the old version's index from
 * the old envelope to delete exactly what was inserted.
 *
 * Durability: WAL with synchronous=FULL, so a committed write survives a
 * crash of the process or the machine.
 */
#include "storeInt.h"
#include "log.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_VERSION "2"

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS origins("
    "  ix INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, name TEXT,"
    "  count INTEGER NOT NULL DEFAULT 0, live INTEGER NOT NULL DEFAULT 0,"
    "  max_seq INTEGER NOT NULL DEFAULT 0, max_ts INTEGER NOT NULL DEFAULT 0,"
    "  vsum BLOB NOT NULL DEFAULT (zeroblob(32)), complete INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS entries("
    "  rowid INTEGER PRIMARY KEY, origin INTEGER NOT NULL, id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, ts INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL, vid BLOB NOT NULL,"
    "  received INTEGER NOT NULL, via INTEGER, name TEXT, country TEXT,"
    "  region TEXT, start INTEGER, share REAL, UNIQUE(id, origin));"
    "CREATE TABLE IF NOT EXISTS envs(rowid INTEGER PRIMARY KEY, env BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_origin_seq ON entries(origin, seq);"
    "CREATE INDEX IF NOT EXISTS entries_region ON entries(country, region);"
    "CREATE INDEX IF NOT EXISTS entries_kind_start ON entries(kind, start) WHERE start IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS attrs(field INTEGER NOT NULL, value TEXT NOT NULL,"
    "  entry INTEGER NOT NULL, PRIMARY KEY(field, value, entry)) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(name, summary, description, tags, f,"
    "  content='', tokenize='unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE IF NOT EXISTS geo USING rtree(id, minlat, maxlat, minlon, maxlon);"
    "CREATE TABLE IF NOT EXISTS forks(origin INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  kept BLOB NOT NULL, other BLOB NOT NULL, seen INTEGER NOT NULL,"
    "  PRIMARY KEY(origin, seq, other));"
    /* One record per (origin, seq). Earlier builds could write two for one
     * fork; the first is kept. A no-op once the index exists. */
    "DELETE FROM forks WHERE rowid NOT IN (SELECT min(rowid) FROM forks GROUP BY origin, seq);"
    "CREATE UNIQUE INDEX IF NOT EXISTS forks_one ON forks(origin, seq);";

static void s_sql_km(sqlite3_context *ctx, int argc, sqlite3_value **argv);

static const char *const s_sql[Q_COUNT] = {
    [Q_ORIGIN_GET] = "SELECT ix FROM origins WHERE key = ?1",
    [Q_ORIGIN_ADD] = "INSERT INTO origins(key, name) VALUES(?1, ?2)",
    [Q_ORIGIN_NAME] = "UPDATE origins SET name = ?2 WHERE ix = ?1 AND name IS NOT ?2",
    [Q_ORIGIN_MAX] = "SELECT max_seq, max_ts FROM origins WHERE key = ?1",
    [Q_ORIGIN_UPDATE] = "UPDATE origins SET count = count + ?2, live = live + ?3,"
        " max_seq = max(max_seq, ?4), max_ts = max(max_ts, ?5), vsum = ?6 WHERE ix = ?1",
    [Q_ORIGIN_SUM] = "SELECT vsum FROM origins WHERE ix = ?1",
    [Q_CUR] = "SELECT e.rowid, e.seq, e.ts, e.deleted, e.vid, x.env FROM entries e"
        " JOIN envs x ON x.rowid = e.rowid WHERE e.id = ?2 AND e.origin = ?1",
    [Q_INSERT] = "INSERT INTO entries(origin, id, seq, ts, kind, deleted, vid, received,"
        " via, name, country, region, start, share)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [Q_UPDATE] = "UPDATE entries SET seq = ?3, ts = ?4, kind = ?5, deleted = ?6, vid = ?7,"
        " received = ?9, via = ?10, name = ?11, country = ?12, region = ?13,"
        " start = ?14, share = ?15 WHERE rowid = ?1",
    [Q_ENV_PUT] = "INSERT OR REPLACE INTO envs(rowid, env) VALUES(?1, ?2)",
    [Q_ATTR_ADD] = "INSERT OR IGNORE INTO attrs(field, value, entry) VALUES(?1, ?2, ?3)",
    [Q_ATTR_DEL] = "DELETE FROM attrs WHERE field = ?1 AND value = ?2 AND entry = ?3",
    [Q_FTS_ADD] = "INSERT INTO fts(rowid, name, summary, description, tags, f)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_FTS_DEL] = "INSERT INTO fts(fts, rowid, name, summary, description, tags, f)"
        " VALUES('delete', ?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_GEO_ADD] = "INSERT INTO geo(id, minlat, maxlat, minlon, maxlon) VALUES(?1, ?2, ?2, ?3, ?3)",
    [Q_GEO_DEL] = "DELETE FROM geo WHERE id = ?1",
    [Q_GET_ORIGIN] = "SELECT e.rowid, x.env, e.received, v.key, o.name FROM entries e"
        " JOIN envs x ON x.rowid = e.rowid"
        " JOIN origins o ON o.ix = e.origin LEFT JOIN origins v ON v.ix = e.via"
        " WHERE e.id = ?2 AND e.origin = (SELECT ix FROM origins WHERE key = ?1)",
    [Q_GET_ANY] = "SELECT e.rowid, x.env, e.received, v.key, o.name FROM entries e"
        " JOIN envs x ON x.rowid = e.rowid"
        " JOIN origins o ON o.ix = e.origin LEFT JOIN origins v ON v.ix = e.via"
        " WHERE e.id = ?1 ORDER BY o.key",
    [Q_SCAN] = "SELECT e.rowid, x.env, e.received, v.key, o.name FROM entries e"
        " JOIN envs x ON x.rowid = e.rowid"
        " JOIN origins o ON o.ix = e.origin LEFT JOIN origins v ON v.ix = e.via"
        " WHERE e.rowid > ?1 ORDER BY e.rowid LIMIT ?2",
    [Q_SUMMARY] = "SELECT key, name, count, live, max_seq, vsum FROM origins"
        " WHERE count > 0 ORDER BY key",
    [Q_META_GET] = "SELECT v FROM meta WHERE k = ?1",
    [Q_META_SET] = "INSERT OR REPLACE INTO meta(k, v) VALUES(?1, ?2)",
    [Q_SINCE] = "SELECT e.rowid, x.env, e.received, v.key, o.name, e.seq FROM entries e"
        " JOIN envs x ON x.rowid = e.rowid"
        " JOIN origins o ON o.ix = e.origin LEFT JOIN origins v ON v.ix = e.via"
        " WHERE e.origin = (SELECT ix FROM origins WHERE key = ?1) AND e.seq > ?2 AND e.seq < ?3"
        " ORDER BY e.seq LIMIT ?4",
    [Q_MARKS] = "SELECT key, complete, max_seq, count, vsum FROM origins WHERE count > 0 OR complete > 0"
        " ORDER BY key",
    [Q_COMPLETE] = "UPDATE origins SET complete = max(complete, ?2) WHERE key = ?1",
    [Q_HAS_SEQ] = "SELECT count(*) FROM entries WHERE origin = (SELECT ix FROM origins WHERE key = ?1)"
        " AND seq = ?2",
    [Q_SEQ_OTHER] = "SELECT x.env FROM entries e JOIN envs x ON x.rowid = e.rowid"
        " WHERE e.origin = ?1 AND e.seq = ?2 AND e.vid != ?3 AND e.id != ?4",
    [Q_ORIGIN_KEY] = "SELECT key FROM origins WHERE ix = ?1",
    [Q_FORK_GET] = "SELECT kept, other FROM forks WHERE origin = ?1 AND seq = ?2",
    [Q_FORK_ADD] = "INSERT INTO forks(origin, seq, kept, other, seen) VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_FORK_SET] = "UPDATE forks SET kept = ?3, other = ?4, seen = ?5 WHERE origin = ?1 AND seq = ?2",
    [Q_FORKS] = "SELECT o.key, f.seq, f.kept, f.other, f.seen FROM forks f JOIN origins o ON o.ix = f.origin"
        " ORDER BY f.seen",
    [Q_GET_COMPLETE] = "SELECT complete FROM origins WHERE key = ?1",
    [Q_VIDS] = "SELECT seq, vid FROM entries WHERE origin = (SELECT ix FROM origins WHERE key = ?1)"
        " ORDER BY seq",
    [Q_SAVEPOINT] = "SAVEPOINT item",
    [Q_RELEASE] = "RELEASE item",
    [Q_ROLLBACK_TO] = "ROLLBACK TO item",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
};

int
store_fail(store_t *self, const char *what)
{
    snprintf(self->errmsg, sizeof(self->errmsg), "%s: %s", what, sqlite3_errmsg(self->db));
    return -1;
}

/* Resets and clears a statement so it is ready for the next use. */
sqlite3_stmt *
store_stmt(store_t *self, int q)
{
    sqlite3_stmt *st = self->q[q];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Runs a statement that returns no rows. */
int
store_exec(store_t *self, sqlite3_stmt *st, const char *what)
{
    if (self->fault_what != NULL && strcmp(self->fault_what, what) == 0 && self->fault_skip-- == 0) {
        self->fault_what = NULL;
        sqlite3_reset(st);
        snprintf(self->errmsg, sizeof(self->errmsg), "%s: injected fault", what);
        return -1;
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(self, what);
}

void
store_fault(store_t *self, const char *what, int skip)
{
    self->fault_what = what;
    self->fault_skip = skip;
}

/* Schema 1 kept the envelope in the entries row, so every filter that
 * read entries dragged the envelopes through the page cache, and had no
 * filter tokens in fts. The upgrade moves envelopes to envs and rebuilds
 * fts (s_reindex_fts), in one transaction: a crash leaves schema 1. */
#define SCHEMA_1_TO_2 \
    "CREATE TABLE envs(rowid INTEGER PRIMARY KEY, env BLOB NOT NULL);" \
    "INSERT INTO envs(rowid, env) SELECT rowid, env FROM entries;" \
    "ALTER TABLE entries DROP COLUMN env;" \
    "DROP TABLE fts;"

/* The schema version recorded in meta, "" for a new database. */
static void
s_schema_version(sqlite3 *db, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = 'schema'", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

/* Indexes every live entry's fts row again from its envelope. */
static int
s_reindex_fts(store_t *self)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    log_info("store: upgrading the database to schema %s (once; a minute per million entries)",
             SCHEMA_VERSION);
    if (sqlite3_prepare_v2(self->db, "SELECT e.rowid, x.env FROM entries e JOIN envs x"
                           " ON x.rowid = e.rowid WHERE e.deleted = 0", -1, &st, NULL) != SQLITE_OK)
        return store_fail(self, "reindex");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = store_index_stored(self, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                            (size_t)sqlite3_column_bytes(st, 1), true, true);
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_fail(self, "reindex");
    sqlite3_finalize(st);
    return rc;
}

store_t *
store_open(const char *path, char *err, size_t errlen)
{
    store_t *self = xcalloc(1, sizeof(*self));
    char *msg = NULL;

    /* Before SQLite initialises (a no-op after): no global memory
     * statistics, which take a mutex on every allocation. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", path, self->db ? sqlite3_errmsg(self->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(self->db, 5000);
    if (store_sql_functions(self->db) != 0) {
        seterr(err, errlen, -1, "%s: cannot register the SQL functions: %s", path,
               sqlite3_errmsg(self->db));
        goto fail;
    }
    char version[16];
    s_schema_version(self->db, version, sizeof(version));
    if (version[0] != '\0' && strcmp(version, "1") != 0 && strcmp(version, SCHEMA_VERSION) != 0) {
        seterr(err, errlen, -1, "%s: schema version %s, this program knows %s", path, version,
               SCHEMA_VERSION);
        goto fail;
    }
    bool upgrade = strcmp(version, "1") == 0;
    if (sqlite3_exec(self->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        (upgrade && sqlite3_exec(self->db, "BEGIN IMMEDIATE;" SCHEMA_1_TO_2, NULL, NULL, &msg) != SQLITE_OK) ||
        sqlite3_exec(self->db, s_schema, NULL, NULL, &msg) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", path, msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(self->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &self->q[i], NULL) != SQLITE_OK) {
            seterr(err, errlen, -1, "%s: preparing statement %d: %s", path, i,
                   sqlite3_errmsg(self->db));
            goto fail;
        }
    }
    if (upgrade && (s_reindex_fts(self) != 0 || store_meta_set(self, "schema", SCHEMA_VERSION) != 0 ||
                    store_commit(self) != 0)) {
        seterr(err, errlen, -1, "%s: upgrading to schema %s: %s", path, SCHEMA_VERSION, self->errmsg);
        goto fail;
    }
    /* The upgrade left the shrunk entries rows spread over their old
     * pages: rewrite the file once so that rows are dense again, with
     * the copy in a temporary file, not in memory. */
    if (upgrade && sqlite3_exec(self->db, "PRAGMA temp_store=FILE; VACUUM; PRAGMA temp_store=MEMORY;",
                                NULL, NULL, &msg) != SQLITE_OK) {
        log_warnx("store: %s: VACUUM after the upgrade: %s (the database works, but is larger"
                  " and slower than it needs to be)", path, msg ? msg : sqlite3_errmsg(self->db));
        sqlite3_free(msg);
        msg = NULL;
    }
    if (version[0] == '\0' && store_meta_set(self, "schema", SCHEMA_VERSION) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, self->errmsg);
        goto fail;
    }
    return self;
fail:
    store_close(&self);
    return NULL;
}

void
store_close(store_t **self_p)
{
    if (*self_p) {
        store_t *self = *self_p;
        for (int i = 0; i < Q_COUNT; i++)
            sqlite3_finalize(self->q[i]);
        sqlite3_close(self->db);
        free(self);
        *self_p = NULL;
    }
}

const char *
store_errmsg(store_t *self)
{
    return self->errmsg;
}

int
store_begin(store_t *self)
{
    return store_exec(self, store_stmt(self, Q_BEGIN), "begin");
}

int
store_commit(store_t *self)
{
    return store_exec(self, store_stmt(self, Q_COMMIT), "commit");
}

void
store_rollback(store_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        store_exec(self, store_stmt(self, Q_ROLLBACK), "rollback");
}

int
store_item_begin(store_t *self)
{
    return store_exec(self, store_stmt(self, Q_SAVEPOINT), "savepoint");
}

int
store_item_end(store_t *self, bool keep)
{
    if (!keep && store_exec(self, store_stmt(self, Q_ROLLBACK_TO), "rollback to savepoint") != 0)
        return -1;
    return store_exec(self, store_stmt(self, Q_RELEASE), "release savepoint");
}

int64_t
store_origin(store_t *self, const uint8_t key[ENV_PKBYTES], const char *name)
{
    sqlite3_stmt *st = store_stmt(self, Q_ORIGIN_GET);
    int64_t ix = -1;

    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ix = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (name != NULL) {
            st = store_stmt(self, Q_ORIGIN_NAME);
            sqlite3_bind_int64(st, 1, ix);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (store_exec(self, st, "origin name") != 0)
                return -1;
        }
        return ix;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(self, "origin lookup");
    st = store_stmt(self, Q_ORIGIN_ADD);
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (store_exec(self, st, "origin insert") != 0)
        return -1;
    return sqlite3_last_insert_rowid(self->db);
}

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

/* Steps st and hands each row (columns: rowid, env, received, via key,
 * origin name[, score or seq]) to fn. Returns the number of rows or -1. */
enum { EXTRA_NONE, EXTRA_SCORE, EXTRA_SEQ };

static int
s_rows(store_t *self, sqlite3_stmt *st, int extra, store_row_fn fn, void *arg, int64_t *window)
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
    return s_rows(self, st, EXTRA_NONE, fn, arg, NULL);
}

int
store_scan(store_t *self, int64_t after, int64_t limit, store_row_fn fn, void *arg)
{
    sqlite3_stmt *st = store_stmt(self, Q_SCAN);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, limit);
    return s_rows(self, st, EXTRA_NONE, fn, arg, NULL);
}

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

/* Mean Earth radius (IUGG), km. */
#define EARTH_KM 6371.0088
#define DEG (3.14159265358979323846 / 180.0)

double
store_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double dlat = (lat2 - lat1) * DEG, dlon = (lon2 - lon1) * DEG;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * DEG) * cos(lat2 * DEG) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_KM * asin(sqrt(a < 1 ? a : 1));
}

/* sd_km(lat1, lon1, lat2, lon2): store_distance_km for SQL. */
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
    sqlite3_result_double(ctx, store_distance_km(v[0], v[1], v[2], v[3]));
}

/* sd_rank(fts): the rank of a full-text match, lower is better like
 * bm25(): minus the sum over the query's phrases and the text columns of
 * weight(column) * tf * (k1 + 1) / (tf + k1), k1 = 1.2, with the weights
 * of name, summary, description, tags, f = 10, 4, 1, 2, 0. It is BM25
 * without length normalisation (b = 0) and without idf: bm25() reads each
 * match's column sizes (a lookup per row) and, once per query, counts the
 * rows of every phrase, the filter tokens' too (a scan of up to every
 * row); with every word required, neither changes much which entries
 * come first, and at a million entries they cost most of a query. */
#define RANK_PHRASES 64
#define RANK_COLUMNS 5

static void
s_sql_rank(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int argc,
           sqlite3_value **argv)
{
    static const double weight[RANK_COLUMNS] = { 10.0, 4.0, 1.0, 2.0, 0.0 };
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
    return fts5->xCreateFunction(fts5, "sd_rank", NULL, s_sql_rank, NULL) == SQLITE_OK ? 0 : -1;
}

/* The near filter: the R*Tree box around the circle, then the exact
 * distance (km 0: no radius, only entries with a point). *dist gets the SQL expression of the distance. The box is
 * widened to every longitude near a pole or across the antimeridian, so
 * it never leaves out a point within the radius. */
static int
s_where_near(sqlite3_str *w, struct binds *b, const store_query_t *q, char **dist, int *km_bind)
{
    double dlat = q->km / (EARTH_KM * DEG) * 1.001, dlon = 180;
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
        s_where_attr(w, b, ATTR_ORG_TYPE, q->org_types, false) != 0)
        return -1;
    return 0;
}

/* True if q has a filter that s_match can put in the MATCH. */
static bool
s_token_filters(const store_query_t *q)
{
    return (q->kinds != NULL && q->kinds[0] != 0) || s_has(q->countries) || s_has(q->regions) ||
           q->lang != NULL || s_has(q->nace) || s_has(q->cpv) || s_has(q->target_groups) ||
           s_has(q->partnerships) || s_has(q->labels) || s_has(q->org_types);
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
 * tokens"). "" when there is nothing to match. */
static char *
s_match(const store_query_t *q, const char *words, bool tokens)
{
    sqlite3_str *m = sqlite3_str_new(NULL);
    if (words != NULL && words[0] != '\0')
        sqlite3_str_appendf(m, "{name summary description tags} : (%s)", words);
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

/* A search's SQL parts. Free with s_plan_free.
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

static void
s_plan_free(struct plan *p)
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
static int
s_plan(store_t *self, const store_query_t *q, bool need_e, struct plan *p)
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
    if (s_plan(self, q, false, &p) != 0)
        goto out;
    words = p.words;
    sort = s_sort(q, words);
    if ((sort == STORE_SORT_NAME || sort == STORE_SORT_UPDATED) && !p.e) {
        s_plan_free(&p);
        if (s_plan(self, q, true, &p) != 0)
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
                              " (SELECT e.rowid AS r, %s AS s, %s AS d, e.name AS n, e.ts AS ts,"
                              " %s AS c"
                              " FROM %s %s ORDER BY %s, e.rowid LIMIT %lld OFFSET %lld) t%s"
                              " ORDER BY %s, t.r", score, dist, counted ? "0" : "count(*) OVER ()",
                              p.from, p.where_d,
                              sort == STORE_SORT_UPDATED ? "e.ts DESC" : "e.name COLLATE NOCASE",
                              limit, offset, tail,
                              sort == STORE_SORT_UPDATED ? "t.ts DESC" : "t.n COLLATE NOCASE");
    }
    if (s_prepare_bound(self, q, sql, &p.b, &st) != 0)
        goto out;
    int64_t window = -1;
    int n = s_rows(self, st, EXTRA_SCORE, fn, arg, counted ? NULL : &window);
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
    s_plan_free(&p);
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
    if (s_plan(self, q, false, &p) != 0 || s_count(self, q, &p, total) != 0)
        goto out;
    if (attr == 0 && !p.e) {
        s_plan_free(&p);
        if (s_plan(self, q, true, &p) != 0)
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
    s_plan_free(&p);
    return rc;
}

int
store_summary(store_t *self, store_origin_fn fn, void *arg, char digest_hex[65])
{
    crypto_generichash_state h;
    uint8_t digest[32];
    int rc;

    crypto_generichash_init(&h, NULL, 0, sizeof(digest));
    sqlite3_stmt *st = store_stmt(self, Q_SUMMARY);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_origin_t o = { .name = (const char *)sqlite3_column_text(st, 1) };
        if (sqlite3_column_bytes(st, 0) != ENV_PKBYTES || sqlite3_column_bytes(st, 5) != ENV_VIDBYTES)
            continue;
        memcpy(o.key, sqlite3_column_blob(st, 0), ENV_PKBYTES);
        o.count = (uint64_t)sqlite3_column_int64(st, 2);
        o.live = (uint64_t)sqlite3_column_int64(st, 3);
        o.max_seq = (uint64_t)sqlite3_column_int64(st, 4);
        /* digest input per origin: key, count (u64 BE), vsum */
        uint8_t count_be[8];
        for (int i = 0; i < 8; i++)
            count_be[i] = (uint8_t)(o.count >> (56 - 8 * i));
        crypto_generichash_update(&h, o.key, ENV_PKBYTES);
        crypto_generichash_update(&h, count_be, sizeof(count_be));
        crypto_generichash_update(&h, sqlite3_column_blob(st, 5), ENV_VIDBYTES);
        if (fn != NULL && fn(arg, &o) != 0)
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(self, "summary");
    crypto_generichash_final(&h, digest, sizeof(digest));
    to_hex(digest, sizeof(digest), digest_hex);
    return 0;
}

int
store_meta_get(store_t *self, const char *k, char *v, size_t vlen)
{
    sqlite3_stmt *st = store_stmt(self, Q_META_GET);
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(v, vlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
store_meta_set(store_t *self, const char *k, const char *v)
{
    sqlite3_stmt *st = store_stmt(self, Q_META_SET);
    sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
    return store_exec(self, st, "meta");
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
    return s_rows(self, st, EXTRA_SEQ, fn, arg, NULL);
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
