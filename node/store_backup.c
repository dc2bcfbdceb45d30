/*
 * store_backup.c: consistent copies of the database, for `socdir-node
 * backup` (beside a running node), `socdir-node restore` (the node
 * stopped) and the copy store_open makes before a schema upgrade.
 *
 * A copy is made with SQLite's online backup API in one step, from a
 * read transaction: in WAL mode that is one consistent snapshot, and the
 * node goes on writing meanwhile. Copying socdir.db with cp is not a
 * backup: the newest commits live in socdir.db-wal until a checkpoint.
 *
 * Every copy is written to NAME.tmp, closed, fsynced and only then renamed
 * into place (and the folder fsynced), so a crash never leaves half a
 * copy under the final name. A copy is a single file (journal_mode
 * DELETE) and is marked: meta `restoring` = 1 and `backup` = the time it
 * was made. A node that starts on it is restoring (PROTOCOL.md 4.6), since
 * its members may hold later versions of its own origin than the copy.
 */
#include "storeInt.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsyncs path (a file or a folder). 0 or -1 with errno set. */
static int
s_fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* fsyncs the folder that holds path. */
static int
s_fsync_dir_of(const char *path)
{
    char *copy = xstrdup(path);
    int rc = s_fsync_path(dirname(copy), true);
    free(copy);
    return rc;
}

/* What the copy holds: live entries, rows, and the highest seq of the
 * origin its meta node_id names. */
static int
s_info(sqlite3 *db, store_copy_info_t *info)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    char id[64] = "";
    uint8_t key[ENV_PKBYTES];

    memset(info, 0, sizeof(*info));
    if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = 'node_id'", -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(id, sizeof(id), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(deleted = 0), 0) FROM entries",
                           -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto out;
    info->versions = (uint64_t)sqlite3_column_int64(st, 0);
    info->entries = (uint64_t)sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    st = NULL;
    rc = 0;
    if (key_from_id(id, key) != 0)
        goto out;               /* no node id yet: no own entries either */
    if (sqlite3_prepare_v2(db, "SELECT max(max_seq, complete) FROM origins WHERE key = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = -1;
        goto out;
    }
    sqlite3_bind_blob(st, 1, key, ENV_PKBYTES, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        info->own_max = (uint64_t)sqlite3_column_int64(st, 0);
out:
    sqlite3_finalize(st);
    return rc;
}

/* Marks an open copy: a single file, restoring, made now (a copy of a
 * copy keeps the first one's time: when its contents were taken). */
static int
s_mark(sqlite3 *db)
{
    char when[32], sql[256];
    format_time(now_ms(), when);
    snprintf(sql, sizeof(sql), "PRAGMA journal_mode=DELETE;"
             "INSERT OR REPLACE INTO meta(k, v) VALUES('restoring', '1');"
             "INSERT OR IGNORE INTO meta(k, v) VALUES('backup', '%s');", when);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Copies the database of connection from into the new file tmp (removed
 * first if an interrupted copy left it), marks it, closes and fsyncs it,
 * and fills info. 0, or -1 with err set (tmp removed). */
static int
s_copy(sqlite3 *from, const char *tmp, store_copy_info_t *info, char *err, size_t errlen)
{
    sqlite3 *to = NULL;
    int rc = -1;

    unlink(tmp);
    if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", tmp, to ? sqlite3_errmsg(to) : "cannot create");
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (b == NULL) {
        seterr(err, errlen, -1, "%s: %s", tmp, sqlite3_errmsg(to));
        goto out;
    }
    /* One step: every page from one read transaction, one snapshot. */
    int step = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE) {
        seterr(err, errlen, -1, "copying into %s: %s", tmp, sqlite3_errstr(step));
        goto out;
    }
    if (s_mark(to) != 0 || s_info(to, info) != 0) {
        seterr(err, errlen, -1, "%s: %s", tmp, sqlite3_errmsg(to));
        goto out;
    }
    if (sqlite3_close(to) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", tmp, sqlite3_errmsg(to));
        goto out;
    }
    to = NULL;
    /* A copy of the directory is the node's, not the world's. */
    if (chmod(tmp, 0600) != 0) {
        seterr(err, errlen, -1, "chmod %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (s_fsync_path(tmp, false) != 0) {
        seterr(err, errlen, -1, "fsync %s: %s", tmp, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (to != NULL)
        sqlite3_close(to);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* Renames tmp to out and makes the rename durable; fills info->bytes. */
static int
s_publish(const char *tmp, const char *out, store_copy_info_t *info, char *err, size_t errlen)
{
    struct stat sb;
    if (rename(tmp, out) != 0) {
        seterr(err, errlen, -1, "rename %s to %s: %s", tmp, out, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (s_fsync_dir_of(out) != 0)
        return seterr(err, errlen, -1, "fsync the folder of %s: %s", out, strerror(errno));
    info->bytes = stat(out, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

/* Copies connection from into out, which must not exist. */
static int
s_backup_db(sqlite3 *from, const char *out, store_copy_info_t *info, char *err, size_t errlen)
{
    char tmp[4096];
    if (access(out, F_OK) == 0)
        return seterr(err, errlen, -1, "%s exists already; refusing to overwrite it", out);
    snprintf(tmp, sizeof(tmp), "%s.tmp", out);
    if (s_copy(from, tmp, info, err, errlen) != 0)
        return -1;
    return s_publish(tmp, out, info, err, errlen);
}

/* Opens path read-only, as a reader beside the node that writes it. */
static sqlite3 *
s_open_ro(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

int
store_backup(const char *src, const char *out, store_copy_info_t *info, char *err, size_t errlen)
{
    if (access(src, F_OK) != 0)
        return seterr(err, errlen, -1, "%s: %s", src, strerror(errno));
    sqlite3 *db = s_open_ro(src, err, errlen);
    if (db == NULL)
        return -1;
    int rc = s_backup_db(db, out, info, err, errlen);
    sqlite3_close(db);
    return rc;
}

int
store_backup_open(store_t *self, const char *out, store_copy_info_t *info, char *err,
                  size_t errlen)
{
    return s_backup_db(self->db, out, info, err, errlen);
}

/* The node id a database records, "" if none; -1 if it is no database
 * of this program. */
static int
s_node_id(sqlite3 *db, char *id, size_t idlen)
{
    sqlite3_stmt *st = NULL;
    id[0] = '\0';
    if (sqlite3_prepare_v2(db, "SELECT (SELECT v FROM meta WHERE k = 'node_id'),"
                           " (SELECT v FROM meta WHERE k = 'schema')", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || sqlite3_column_type(st, 1) == SQLITE_NULL) {
        sqlite3_finalize(st);
        return -1;
    }
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return 0;
}

/* Folds the WAL of the database at db into the file itself and closes
 * it, so that db alone is the whole database and no -wal is left beside
 * it to be replayed onto another file. */
static int
s_checkpoint(const char *db, char *err, size_t errlen)
{
    sqlite3 *h = NULL;
    char side[4096];
    int rc = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", NULL, NULL,
                     NULL) != SQLITE_OK) {
        seterr(err, errlen, -1, "%s: %s", db, h ? sqlite3_errmsg(h) : "cannot open");
        goto out;
    }
    rc = 0;
out:
    sqlite3_close(h);
    snprintf(side, sizeof(side), "%s-wal", db);
    if (rc == 0 && access(side, F_OK) == 0)
        rc = seterr(err, errlen, -1, "%s is still there after a checkpoint", side);
    snprintf(side, sizeof(side), "%s-shm", db);
    unlink(side);
    return rc;
}

/* Makes the restored copy tmp the node's: mode 0600, and, when root
 * restores (as an operator beside a unit that runs as its own user),
 * the owner of the data directory, so the node can write it. */
static int
s_own(const char *tmp, const char *db, char *err, size_t errlen)
{
    char dir[4096];
    struct stat st;
    snprintf(dir, sizeof(dir), "%s", db);
    if (stat(dirname(dir), &st) != 0)
        return seterr(err, errlen, -1, "%s: %s", dir, strerror(errno));
    if (geteuid() == 0 && chown(tmp, st.st_uid, st.st_gid) != 0)
        return seterr(err, errlen, -1, "chown %s: %s", tmp, strerror(errno));
    if (chmod(tmp, 0600) != 0)
        return seterr(err, errlen, -1, "chmod %s: %s", tmp, strerror(errno));
    return 0;
}

/* Moves the side file SUFFIX of db (its WAL) beside keep, when a database
 * that cannot be opened (damaged: a reason to restore) is kept as it is. */
static void
s_keep_side(const char *db, const char *keep, const char *suffix)
{
    char from[4096], to[4096];
    snprintf(from, sizeof(from), "%s%s", db, suffix);
    snprintf(to, sizeof(to), "%s%s", keep, suffix);
    if (access(from, F_OK) == 0 && rename(from, to) != 0)
        log_warn("restore: cannot move %s to %s", from, to);
}

int
store_restore(const char *backup, const char *db, const char *keep, const char *node_id,
              bool force, store_copy_info_t *info, char *err, size_t errlen)
{
    char tmp[4096], id[64];
    int rc = -1;
    bool have = access(db, F_OK) == 0;

    if (have && !force && access(keep, F_OK) == 0)
        return seterr(err, errlen, -1, "%s exists already (an earlier restore?); move it away, or"
                      " --force to replace it with the current database", keep);
    sqlite3 *from = s_open_ro(backup, err, errlen);
    if (from == NULL)
        return -1;
    if (s_node_id(from, id, sizeof(id)) != 0) {
        seterr(err, errlen, -1, "%s is not a socdir database", backup);
        goto out;
    }
    if (id[0] != '\0' && strcmp(id, node_id) != 0) {
        seterr(err, errlen, -1, "%s belongs to node %s, not to this node %s", backup, id, node_id);
        goto out;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", db);
    if (s_copy(from, tmp, info, err, errlen) != 0)
        goto out;
    if (s_own(tmp, db, err, errlen) != 0) {
        unlink(tmp);
        goto out;
    }
    /* The database replaced is kept with its WAL folded in; one that
     * cannot be opened (the usual reason to restore) is kept as it is,
     * its WAL beside it. */
    char why[512];
    if (have && s_checkpoint(db, why, sizeof(why)) != 0) {
        log_warnx("restore: %s cannot be checkpointed (%s): kept as it is, with its WAL", db, why);
        s_keep_side(db, keep, "-wal");
    }
    if (have && rename(db, keep) != 0) {
        seterr(err, errlen, -1, "rename %s to %s: %s", db, keep, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = s_publish(tmp, db, info, err, errlen);
out:
    sqlite3_close(from);
    return rc;
}
