/*
 * store.c: the SQLite database itself: opening it, the schema and its
 * upgrade, pragmas, transactions, origins, the summary and meta. Writing
 * versions is store_put.c's, searching store_plan.c's and store_query.c's,
 * replication's reads store_sync.c's; storeInt.h holds what they share.
 *
 * Schema (version 2):
 *
 *   origins(ix, key, name, count, live, max_seq, max_ts, vsum, complete)
 *       One row per origin key. ix is the small integer the other tables
 *       use instead of the 32-byte key. count/live/max_seq/max_ts/vsum are
 *       kept up to date by store_put, so status and digests never scan
 *       entries. vsum is the sum (mod 2^256) of the version ids held;
 *       complete is the watermark (below).
 *   entries(rowid, origin, id, seq, ts, kind, deleted, vid, received,
 *           via, name, country, region, start, share, nkey)
 *       The newest version of each (origin, id), as columns derived from
 *       its envelope for queries; via is the origin ix of the peer it came
 *       from, NULL for a local write; nkey the folded name that sorts by
 *       name use (sd_fold, store_fold.c). UNIQUE(id, origin) serves both
 *       lookups by (origin, id) and by id. Indexes: (origin, seq) for
 *       replication, (country, region) for filters, and (kind, start) over
 *       the rows that have a start (events, programmes, partnerships) for
 *       date windows; CREATE INDEX IF NOT EXISTS adds any an older
 *       database lacks on its first open.
 *   envs(rowid, env)
 *       The exact signed envelope of each entries row, under its rowid.
 *       Apart so that filters reading entries leave envelopes out of the
 *       page cache.
 *   attrs(field, value, entry)  WITHOUT ROWID
 *       Multi-valued attributes (languages, NACE, CPV, labels...) for
 *       filters; primary key (field, value, entry) so a filter is a range.
 *   fts   FTS5(name, summary, description, tags, place, f), contentless,
 *         tokenizer "socdir" (store_fold.c: unicode61's words, folded in
 *         every script), rowid = entries rowid. The text columns hold
 *         every language; place the address (street, postcode, city); f
 *         the entry's filter tokens (store_put.c), so that words and
 *         filters are one MATCH.
 *   geo   R*Tree of entries with a point (minlat = maxlat, minlon = maxlon).
 *         Searches near a point use it as a box prefilter and then the
 *         SQL function sd_km (great-circle km), registered in store_open.
 *   forks(origin, seq, kept, other, seen)
 *       Evidence that an origin signed two payloads with one seq: one row
 *       per (origin, seq), kept the envelope ranked first, other the next
 *       (PROTOCOL.md 4.7), seen when it last changed. An honest origin
 *       never causes one.
 *   meta(k, v)  settings such as the schema version.
 *
 * Schema 1 kept env in entries and had no f; schema 2 tokenized with
 * unicode61 and had no place, nkey or city attribute. store_open upgrades
 * either once, after copying the old database beside it
 * (socdir.db.schemaN.bak, store_backup.c) or refusing to start when the
 * disk has no room for that copy and the upgrade.
 *
 * Watermarks: origins.complete is the highest seq up to which this node
 * holds, for every entry of the origin, a version at least as new as any
 * the origin wrote with a seq that low (PROTOCOL.md 4.2). It only grows.
 *
 * Invariants: an entries row exists only with its envs row and with its
 * origin's counters including it; the fts, attrs and geo rows of an entry
 * are exactly those derived from its current envelope, and none for a
 * tombstone. Because fts is contentless, replacing a version rebuilds the
 * old version's index from the old envelope to delete exactly what was
 * inserted.
 *
 * Durability: WAL with synchronous=FULL, so a committed write survives a
 * crash of the process or the machine.
 */
#include "storeInt.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <utf8proc.h>

#define SCHEMA_VERSION "3"

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
    "  region TEXT, start INTEGER, share REAL, nkey TEXT, UNIQUE(id, origin));"
    "CREATE TABLE IF NOT EXISTS envs(rowid INTEGER PRIMARY KEY, env BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_origin_seq ON entries(origin, seq);"
    "CREATE INDEX IF NOT EXISTS entries_region ON entries(country, region);"
    "CREATE INDEX IF NOT EXISTS entries_kind_start ON entries(kind, start) WHERE start IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS attrs(field INTEGER NOT NULL, value TEXT NOT NULL,"
    "  entry INTEGER NOT NULL, PRIMARY KEY(field, value, entry)) WITHOUT ROWID;"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(name, summary, description, tags, place, f,"
    "  content='', tokenize='socdir');"
    "CREATE VIRTUAL TABLE IF NOT EXISTS geo USING rtree(id, minlat, maxlat, minlon, maxlon);"
    "CREATE TABLE IF NOT EXISTS forks(origin INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  kept BLOB NOT NULL, other BLOB NOT NULL, seen INTEGER NOT NULL,"
    "  PRIMARY KEY(origin, seq, other));"
    /* One record per (origin, seq). Earlier builds could write two for one
     * fork; the first is kept. A no-op once the index exists. */
    "DELETE FROM forks WHERE rowid NOT IN (SELECT min(rowid) FROM forks GROUP BY origin, seq);"
    "CREATE UNIQUE INDEX IF NOT EXISTS forks_one ON forks(origin, seq);";

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
        " via, name, country, region, start, share, nkey)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?10, ?11, ?12, ?13, ?14, ?15, sd_fold(?11))",
    [Q_UPDATE] = "UPDATE entries SET seq = ?3, ts = ?4, kind = ?5, deleted = ?6, vid = ?7,"
        " received = ?9, via = ?10, name = ?11, country = ?12, region = ?13,"
        " start = ?14, share = ?15, nkey = sd_fold(?11) WHERE rowid = ?1",
    [Q_ENV_PUT] = "INSERT OR REPLACE INTO envs(rowid, env) VALUES(?1, ?2)",
    [Q_ATTR_ADD] = "INSERT OR IGNORE INTO attrs(field, value, entry) VALUES(?1, ?2, ?3)",
    [Q_ATTR_DEL] = "DELETE FROM attrs WHERE field = ?1 AND value = ?2 AND entry = ?3",
    [Q_FTS_ADD] = "INSERT INTO fts(rowid, name, summary, description, tags, place, f)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_FTS_DEL] = "INSERT INTO fts(fts, rowid, name, summary, description, tags, place, f)"
        " VALUES('delete', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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

void
store_set_errmsg(store_t *self, const char *msg)
{
    snprintf(self->errmsg, sizeof(self->errmsg), "%s", msg);
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
 * filter tokens in fts. The upgrade moves envelopes to envs. */
#define SCHEMA_1_TO_2 \
    "CREATE TABLE envs(rowid INTEGER PRIMARY KEY, env BLOB NOT NULL);" \
    "INSERT INTO envs(rowid, env) SELECT rowid, env FROM entries;" \
    "ALTER TABLE entries DROP COLUMN env;"
/* Schema 2 indexed words with unicode61, which folds diacritics in Latin
 * script only, had no address words and no city attribute, and sorted
 * names by code point. The upgrade adds the sort key and empties every
 * index derived from the envelopes; s_reindex rebuilds them from each
 * live envelope, with the new tokenizer. Both upgrades run in one
 * transaction with the rebuild: a crash leaves the old schema. */
#define SCHEMA_2_TO_3 \
    "ALTER TABLE entries ADD COLUMN nkey TEXT;" \
    "UPDATE entries SET nkey = sd_fold(name);" \
    "DROP TABLE fts; DELETE FROM attrs; DELETE FROM geo;"

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

/* Room an upgrade needs on the database's file system: the copy made
 * first, and as much again for the upgrade itself (the rebuilt indexes
 * and the VACUUM's rewrite), plus a margin. */
#define UPGRADE_MARGIN (UINT64_C(16) << 20)

static int64_t s_fake_free = -1;    /* store_fake_free: for tests */

void
store_fake_free(int64_t bytes)
{
    s_fake_free = bytes;
}

uint64_t
store_upgrade_need(uint64_t dbbytes)
{
    return 2 * dbbytes + UPGRADE_MARGIN;
}

/* Bytes of the database file and its WAL. */
static uint64_t
s_db_bytes(const char *path)
{
    char wal[4096];
    struct stat sb;
    uint64_t n = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    snprintf(wal, sizeof(wal), "%s-wal", path);
    return n + (stat(wal, &sb) == 0 ? (uint64_t)sb.st_size : 0);
}

/* Before an upgrade from schema `from`: refuses when the file system
 * lacks the room (saying how much and where), else copies the database
 * to PATH.schemaFROM.bak (PATH.schemaFROM.N.bak if that is taken: an
 * earlier attempt's copy stays) with the backup code, so that the old
 * build can be put back with it. 0, or -1 with err set. */
static int
s_upgrade_backup(store_t *self, const char *path, const char *from, char *err, size_t errlen)
{
    char out[4096], *copy = xstrdup(path);
    const char *dir = dirname(copy);
    struct statvfs vfs;
    store_copy_info_t info;
    uint64_t need = store_upgrade_need(s_db_bytes(path)), avail;

    if (statvfs(dir, &vfs) != 0) {
        seterr(err, errlen, -1, "%s: statvfs: %s", dir, strerror(errno));
        free(copy);
        return -1;
    }
    avail = s_fake_free >= 0 ? (uint64_t)s_fake_free : (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (avail < need) {
        seterr(err, errlen, -1, "%s: the upgrade from schema %s to %s needs %llu bytes free in %s"
               " (a backup copy and the upgrade itself), only %llu are; nothing was changed",
               path, from, SCHEMA_VERSION, (unsigned long long)need, dir, (unsigned long long)avail);
        free(copy);
        return -1;
    }
    free(copy);
    snprintf(out, sizeof(out), "%s.schema%s.bak", path, from);
    for (int n = 1; access(out, F_OK) == 0 && n < 100; n++)
        snprintf(out, sizeof(out), "%s.schema%s.%d.bak", path, from, n);
    if (store_backup_open(self, out, &info, err, errlen) != 0)
        return -1;
    log_info("store: before upgrading to schema %s, copied the schema %s database to %s"
             " (%llu entries, %llu bytes); to go back: stop the node, socdir-node restore that"
             " file, start the old build", SCHEMA_VERSION, from, out,
             (unsigned long long)info.entries, (unsigned long long)info.bytes);
    return 0;
}

/* Indexes every live entry again (fts, attrs, geo) from its envelope. */
static int
s_reindex(store_t *self)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(self->db, "SELECT e.rowid, x.env FROM entries e JOIN envs x"
                           " ON x.rowid = e.rowid WHERE e.deleted = 0", -1, &st, NULL) != SQLITE_OK)
        return store_fail(self, "reindex");
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = store_index_stored(self, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                            (size_t)sqlite3_column_bytes(st, 1), true, false);
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_fail(self, "reindex");
    sqlite3_finalize(st);
    return rc;
}

/* What the words, the cities and the name key were folded with: the
 * Unicode tables of utf8proc (proto/fold.c) and SQLite's unicode61. */
static void
s_fold_tables(char *out, size_t outlen)
{
    snprintf(out, outlen, "utf8proc %s (Unicode %s), SQLite %s", utf8proc_version(),
             utf8proc_unicode_version(), sqlite3_libversion());
}

/* The index is contentless: a replaced version's words are deleted by
 * folding its envelope again, which finds them only if the folding has
 * not changed. So when the tables it was built with differ from this
 * process's (a library upgrade with a new Unicode version), every index
 * is rebuilt from the envelopes, once, in one transaction. */
static int
s_refold(store_t *self, bool fresh)
{
    char now[160], was[160] = "";
    s_fold_tables(now, sizeof(now));
    if (store_meta_get(self, "fold", was, sizeof(was)) == 0 && strcmp(was, now) == 0)
        return 0;
    if (!fresh) {
        log_info("store: the text folding changed (%s, was %s): indexing every entry again"
                 " (a minute per million entries)", now, was[0] ? was : "not recorded");
        if (store_begin(self) != 0)
            return -1;
        char *msg = NULL;
        if (sqlite3_exec(self->db, "INSERT INTO fts(fts) VALUES('delete-all'); DELETE FROM attrs;"
                         " DELETE FROM geo; UPDATE entries SET nkey = sd_fold(name);",
                         NULL, NULL, &msg) != SQLITE_OK) {
            snprintf(self->errmsg, sizeof(self->errmsg), "%s", msg ? msg : sqlite3_errmsg(self->db));
            sqlite3_free(msg);
            store_rollback(self);
            return -1;
        }
        if (s_reindex(self) != 0 || store_meta_set(self, "fold", now) != 0) {
            store_rollback(self);
            return -1;
        }
        return store_commit(self);
    }
    return store_meta_set(self, "fold", now);
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
    if (version[0] != '\0' && strcmp(version, "1") != 0 && strcmp(version, "2") != 0 &&
        strcmp(version, SCHEMA_VERSION) != 0) {
        seterr(err, errlen, -1, "%s: schema version %s, this program knows %s", path, version,
               SCHEMA_VERSION);
        goto fail;
    }
    bool from1 = strcmp(version, "1") == 0, upgrade = from1 || strcmp(version, "2") == 0;
    if (upgrade && s_upgrade_backup(self, path, version, err, errlen) != 0)
        goto fail;
    if (sqlite3_exec(self->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        (upgrade && sqlite3_exec(self->db, "BEGIN IMMEDIATE;", NULL, NULL, &msg) != SQLITE_OK) ||
        (from1 && sqlite3_exec(self->db, SCHEMA_1_TO_2, NULL, NULL, &msg) != SQLITE_OK) ||
        (upgrade && sqlite3_exec(self->db, SCHEMA_2_TO_3, NULL, NULL, &msg) != SQLITE_OK) ||
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
    if (upgrade)
        log_info("store: upgrading the database to schema %s (once; a minute per million entries)",
                 SCHEMA_VERSION);
    if (upgrade && (s_reindex(self) != 0 || store_meta_set(self, "schema", SCHEMA_VERSION) != 0 ||
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
    if (s_refold(self, version[0] == '\0' || upgrade) != 0) {
        seterr(err, errlen, -1, "%s: indexing with the new text folding: %s", path, self->errmsg);
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
