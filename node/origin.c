/*
 * origin.c: this node as an origin.
 *
 * Sequence and clock: every local version takes the next sequence number
 * and a timestamp that never goes backwards (hlc_next), both above
 * whatever of this node's own origin the store holds (versions can come
 * back from members after a restore) and above every seq of its own a
 * member reported in a pull.
 *
 * Lost database: a node whose database file is missing at start (but whose
 * key is there) restores its own entries from its members before it takes
 * a local write: restoring ends when a pull from every configured member
 * has finished since the start, and the node continues above the highest
 * sequence of its own that any of them reported, so it never reuses a
 * sequence number a member holds; or, when not every member is reachable,
 * after restore_wait seconds with every member it is connected to, 2^20
 * above what they reported (PROTOCOL.md 4.6).
 *
 * A database older than what the members hold: a restored backup, a
 * copied file, a disk snapshot. The node must not reuse a seq then either,
 * so it keeps DATA/highest-seq: the highest sequence number it has let
 * leave, fixed width, rewritten in place and fdatasynced after each local
 * write committed and before its versions are pushed (a pull serves only
 * what is committed, and the file is written in the same turn of the
 * loop, so no version leaves above it). At start (origin_judge) the
 * database is current when it holds that seq (its own max_seq or
 * complete watermark); otherwise, or when the file is missing though the
 * database ran with one (meta highest_seq_file), or when the database is
 * marked restoring (every backup copy is), the node restores as after a
 * loss, and in any case continues above the file's seq. A crash restart
 * is current: the database holds every commit, and the file lags it at
 * most. Limit: a snapshot of the whole data directory carries a file
 * that matches it; delete DATA/highest-seq after restoring one.
 *
 * Local writes leave the node only after they committed: versions written
 * in a request are kept in `pending` and pushed once the transaction is on
 * disk (origin_write_done), or dropped if it failed.
 */
#include "origin.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEQ_FILE "highest-seq"
#define SEQ_DIGITS 20           /* the file: 20 decimal digits and a newline */
#define RESTORE_JUMP (UINT64_C(1) << 20)
#define RESTORE_RETRY_MS 10000  /* after a store error in the restore */

struct origin {
    store_t *store;             /* borrowed */
    const ident_t *ident;       /* borrowed: this node's key pair */
    links_t *links;             /* borrowed: the members, for pushes and the restore */
    int restore_wait;           /* seconds; 0: wait for every member */
    uint64_t max_seq;           /* highest sequence this node has used */
    uint64_t last_ts;           /* highest timestamp this node has used */
    bool restoring;             /* database was lost: no local writes yet */
    uint64_t restore_since;     /* ms: pulls finished after this count for the restore */
    uint64_t restore_retry;     /* ms: after a store error, not before this */
    int seq_fd;                 /* DATA/highest-seq, open for the node's life */
    uint64_t seq_saved;         /* the seq that file holds */
    uint64_t seq_before;        /* what it held before this write raised it */
    struct pending {            /* local versions of the write in progress */
        uint8_t *env;
        size_t len;
    } *pending;
    size_t npending, cap_pending;
};

origin_state_t
origin_judge(bool lost, bool marked, bool tracked, int file, uint64_t file_seq, uint64_t db_seq)
{
    if (lost)
        return ORIGIN_LOST;
    if (marked)
        return ORIGIN_MARKED;
    if (file == 1)
        return db_seq >= file_seq ? ORIGIN_CURRENT : ORIGIN_BEHIND;
    return tracked || file < 0 ? ORIGIN_NO_FILE : ORIGIN_FIRST;
}

/* Reads DATA/highest-seq: 1 and *seq, 0 if it does not exist, -1 if it
 * cannot be read or is not 20 digits and a newline. */
static int
s_seq_read(int fd, uint64_t *seq)
{
    char buf[SEQ_DIGITS + 2];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    *seq = 0;
    if (n == 0)
        return 0;
    if (n != SEQ_DIGITS + 1 || buf[SEQ_DIGITS] != '\n')
        return -1;
    for (int i = 0; i < SEQ_DIGITS; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        *seq = *seq * 10 + (uint64_t)(buf[i] - '0');
    }
    return 1;
}

/* Records seq in DATA/highest-seq, durably, before anything above the
 * old value leaves the node. 0 or -1 (logged). */
static int
s_seq_save(origin_t *self, uint64_t seq)
{
    char buf[SEQ_DIGITS + 2];
    snprintf(buf, sizeof(buf), "%0*" PRIu64 "\n", SEQ_DIGITS, seq);
    if (pwrite(self->seq_fd, buf, SEQ_DIGITS + 1, 0) != SEQ_DIGITS + 1 ||
        fdatasync(self->seq_fd) != 0) {
        int e = errno;
        log_warn("%s: cannot record sequence %" PRIu64, SEQ_FILE, seq);
        errno = e;
        return -1;
    }
    self->seq_saved = seq;
    return 0;
}

/* Why the node restores, in the log. */
static void
s_log_state(store_t *store, origin_state_t state, const char *path, const char *seqpath,
            uint64_t file_seq, uint64_t db_seq, size_t nmembers)
{
    char made[64] = "";
    const char *then = nmembers ? "restoring this node's own entries from peers before taking"
                                  " local writes" : "no members to restore from";
    if (state == ORIGIN_LOST && nmembers > 0)
        log_warnx("%s was missing: restoring this node's own entries from peers before"
                  " taking local writes (from each of its %zu member%s)", path, nmembers,
                  nmembers == 1 ? "" : "s");
    else if (state == ORIGIN_MARKED && store_meta_get(store, "backup", made, sizeof(made)) == 0)
        log_warnx("%s is a backup copy made %s: %s", path, made, then);
    else if (state == ORIGIN_MARKED)
        log_info("%s: still restoring, as when the node stopped", path);
    else if (state == ORIGIN_BEHIND)
        log_warnx("%s holds this node's own entries up to seq %" PRIu64 ", but %s records seq %"
                  PRIu64 " sent (a restored or copied database?): %s; next seq above %" PRIu64,
                  path, db_seq, seqpath, file_seq, then, file_seq);
    else if (state == ORIGIN_NO_FILE)
        log_warnx("%s is missing or unreadable, so %s cannot be proved current: %s", seqpath,
                  path, then);
}

/* Opens DATA/highest-seq, judges the database and records the state
 * (meta restoring, meta highest_seq_file, the file). 0 or -1 with err. */
static int
s_judge(origin_t *self, const conf_t *conf, const char *path, bool lost, char *err, size_t errlen)
{
    char seqpath[4096], v[64];
    uint64_t file_seq, db_seq = self->max_seq;
    uint64_t complete = store_complete(self->store, ident_pk(self->ident));
    db_seq = complete > db_seq ? complete : db_seq;

    snprintf(seqpath, sizeof(seqpath), "%s/%s", conf->data, SEQ_FILE);
    bool existed = access(seqpath, F_OK) == 0;
    self->seq_fd = open(seqpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->seq_fd < 0)
        return seterr(err, errlen, -1, "%s: %s", seqpath, strerror(errno));
    int file = s_seq_read(self->seq_fd, &file_seq);
    bool marked = store_meta_get(self->store, "restoring", v, sizeof(v)) == 0 && strcmp(v, "1") == 0;
    bool tracked = store_meta_get(self->store, "highest_seq_file", v, sizeof(v)) == 0;
    origin_state_t state = origin_judge(lost, marked, tracked, file, file_seq, db_seq);
    bool restore = state != ORIGIN_CURRENT && state != ORIGIN_FIRST && conf->nmembers > 0;

    if (state != ORIGIN_CURRENT && state != ORIGIN_FIRST)
        s_log_state(self->store, state, path, seqpath, file_seq, db_seq, conf->nmembers);
    if ((restore && store_meta_set(self->store, "restoring", "1") != 0) ||
        (!tracked && store_meta_set(self->store, "highest_seq_file", "1") != 0))
        return seterr(err, errlen, -1, "%s: %s", path, store_errmsg(self->store));
    self->restoring = restore || marked;
    /* Never below what was sent: the file's seq is a floor either way. */
    self->max_seq = db_seq > self->max_seq ? db_seq : self->max_seq;
    if (file == 1 && file_seq > self->max_seq)
        self->max_seq = file_seq;
    self->seq_saved = file == 1 ? file_seq : 0;
    if ((file != 1 || self->max_seq > file_seq) && s_seq_save(self, self->max_seq) != 0)
        return seterr(err, errlen, -1, "%s: cannot write: %s", seqpath, strerror(errno));
    if (!existed) {
        int dfd = open(conf->data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);         /* the new file's name is durable too */
            close(dfd);
        }
    }
    return 0;
}

origin_t *
origin_open(store_t *store, const ident_t *ident, links_t *links, const conf_t *conf,
            const char *path, bool lost, char *err, size_t errlen)
{
    origin_t *self = xcalloc(1, sizeof(*self));
    char stored[64];
    self->store = store;
    self->ident = ident;
    self->links = links;
    self->seq_fd = -1;
    self->restore_wait = conf_restore_wait(conf);
    if (store_meta_get(store, "node_id", stored, sizeof(stored)) == 0) {
        if (strcmp(stored, ident_id(ident)) != 0) {
            seterr(err, errlen, -1, "%s belongs to node %s, not to this key %s", path, stored,
                   ident_id(ident));
            goto fail;
        }
    } else if (store_meta_set(store, "node_id", ident_id(ident)) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(store));
        goto fail;
    }
    self->restore_since = now_ms();
    if (store_origin(store, ident_pk(ident), conf->name) < 0 ||
        store_origin_max(store, ident_pk(ident), &self->max_seq, &self->last_ts) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(store));
        goto fail;
    }
    if (s_judge(self, conf, path, lost, err, errlen) != 0)
        goto fail;
    return self;
fail:
    origin_destroy(&self);
    return NULL;
}

void
origin_destroy(origin_t **self_p)
{
    if (*self_p) {
        origin_t *self = *self_p;
        for (size_t k = 0; k < self->npending; k++)
            free(self->pending[k].env);
        free(self->pending);
        if (self->seq_fd >= 0)
            close(self->seq_fd);
        free(self);
        *self_p = NULL;
    }
}

store_t *
origin_store(origin_t *self)
{
    return self->store;
}

const ident_t *
origin_ident(const origin_t *self)
{
    return self->ident;
}

/* ---- local writes ---- */

void
origin_write_begin(origin_t *self)
{
    uint64_t stored_seq, stored_ts;
    /* Versions of our own origin may have come back from peers (pushes,
     * pulls after a restore): never go below what the store holds. */
    if (store_origin_max(self->store, ident_pk(self->ident), &stored_seq, &stored_ts) == 0) {
        self->max_seq = stored_seq > self->max_seq ? stored_seq : self->max_seq;
        self->last_ts = stored_ts > self->last_ts ? stored_ts : self->last_ts;
    }
    assert(self->npending == 0);
    self->seq_before = self->seq_saved;
}

int
origin_next_version(origin_t *self, entry_hdr_t *h)
{
    if (self->max_seq >= ENV_SEQ_MAX)
        return -1;
    memcpy(h->origin, ident_pk(self->ident), ENV_PKBYTES);
    h->seq = self->max_seq + 1;
    h->ts = hlc_next(self->last_ts, now_ms());
    return 0;
}

void
origin_wrote(origin_t *self, const entry_hdr_t *h, const uint8_t *env, size_t len)
{
    /* The sequence stays used even if the transaction fails: it never
     * left the node, and not reusing it costs nothing. */
    if (h->seq > self->max_seq)
        self->max_seq = h->seq;
    if (h->ts > self->last_ts)
        self->last_ts = h->ts;
    if (self->npending == self->cap_pending) {
        self->cap_pending = self->cap_pending ? 2 * self->cap_pending : 64;
        self->pending = xrealloc(self->pending, self->cap_pending * sizeof(*self->pending));
    }
    struct pending *p = &self->pending[self->npending++];
    p->env = xmalloc(len);
    memcpy(p->env, env, len);
    p->len = len;
}

/* Before the commit: the file records the write's highest seq first, so
 * that no version is ever committed (and so served by a pull, or pushed)
 * above what the file holds; if the file cannot be written, the write
 * fails and nothing is stored. A crash between the two leaves the file
 * ahead of the database: the node then restores first (PROTOCOL.md
 * 4.6), which is safe. */
int
origin_write_end(origin_t *self)
{
    if (self->npending > 0 && self->max_seq > self->seq_saved && s_seq_save(self, self->max_seq) != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot record sequence %" PRIu64 " in %s: %s", self->max_seq,
                 SEQ_FILE, strerror(errno));
        store_set_errmsg(self->store, msg);
        return -1;
    }
    /* Nobody else writes our origin: we are complete up to our own max. */
    return store_set_complete(self->store, ident_pk(self->ident), self->max_seq);
}

void
origin_write_done(origin_t *self, bool committed)
{
    /* A write that did not commit sent nothing: the file may go back to
     * what it held, so that a restart need not restore (if that fails,
     * the file stays ahead, which is only cautious). */
    if (!committed && self->seq_saved > self->seq_before)
        s_seq_save(self, self->seq_before);
    for (size_t k = 0; k < self->npending; k++) {
        if (committed)
            links_push(self->links, NULL, self->pending[k].env, self->pending[k].len);
        free(self->pending[k].env);
    }
    self->npending = 0;
}

/* ---- restore ---- */

bool
origin_restoring(const origin_t *self)
{
    return self->restoring;
}

json_t *
origin_restore_pending(origin_t *self)
{
    json_t *names = json_array();
    for (size_t i = 0; self->restoring && i < links_count(self->links); i++) {
        peer_t *p = links_peer(self->links, i);
        if (!sync_peer_synced_since(peer_sync(p), self->restore_since))
            json_array_append_new(names, json_string(peer_name(p)));
    }
    return names;
}

/* Restoring ends (PROTOCOL.md 4.6) when every configured member finished
 * a pull since the node started restoring: then it knows the highest
 * sequence of its own any member holds, and continues right above it.
 * In a federation whose members are not all reachable, it ends too once
 * restore_wait seconds have passed, at least one pull finished and every
 * member it is connected to has finished one: then it continues
 * RESTORE_JUMP above what they reported, clear of what an unreachable
 * member may hold. */
int
origin_restore_check(origin_t *self, uint64_t now)
{
    uint64_t max_seq, max_ts, wait = (uint64_t)self->restore_wait * 1000;
    size_t pulled = 0, connected = 0, connected_pulled = 0, npeers = links_count(self->links);
    if (!self->restoring || now < self->restore_retry)
        return 0;
    for (size_t i = 0; i < npeers; i++) {
        peer_t *p = links_peer(self->links, i);
        bool done = sync_peer_synced_since(peer_sync(p), self->restore_since);
        bool up = peer_connected(p);
        pulled += done;
        connected += up;
        connected_pulled += up && done;
    }
    /* No member at all: nobody to ask, but a node restoring had members
     * (a backup, a copied file), who may hold seqs above the database's:
     * continue RESTORE_JUMP above, as when some are unreachable. */
    bool none = npeers == 0, all = !none && pulled == npeers;
    if (!none && !all && (wait == 0 || now - self->restore_since < wait || pulled == 0 ||
                          connected_pulled < connected))
        return 0;
    if (store_begin(self->store) != 0)
        goto fail;
    if (store_origin_max(self->store, ident_pk(self->ident), &max_seq, &max_ts) != 0)
        goto fail;
    max_seq = max_seq > self->max_seq ? max_seq : self->max_seq;
    if (!all)
        max_seq += RESTORE_JUMP;
    /* The file first, as for a write: a restart continues above it. */
    if (max_seq > self->seq_saved && s_seq_save(self, max_seq) != 0) {
        store_rollback(self->store);
        self->restore_retry = now + RESTORE_RETRY_MS;
        return 0;
    }
    if (store_set_complete(self->store, ident_pk(self->ident), max_seq) != 0 ||
        store_meta_set(self->store, "restoring", "0") != 0 || store_commit(self->store) != 0)
        goto fail;
    self->max_seq = max_seq;
    self->last_ts = max_ts > self->last_ts ? max_ts : self->last_ts;
    self->restoring = false;
    char names[512] = "";
    for (size_t i = 0, n = 0; i < npeers && n < sizeof(names); i++) {
        peer_t *p = links_peer(self->links, i);
        if (sync_peer_synced_since(peer_sync(p), self->restore_since))
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
                                  peer_name(p));
    }
    if (npeers == 0)
        log_warnx("restoring ended: no members to restore from; next sequence %llu, %llu above"
                  " the database's own entries, clear of what former members may hold",
                  (unsigned long long)self->max_seq + 1, (unsigned long long)RESTORE_JUMP);
    else if (all)
        log_info("restored own entries from %s: next sequence %llu", names,
                 (unsigned long long)self->max_seq + 1);
    else
        log_warnx("restored own entries from %s, %zu of %zu members (the others unreachable for"
                  " %d s): next sequence %llu, %llu above what they hold", names, pulled,
                  npeers, self->restore_wait, (unsigned long long)self->max_seq + 1,
                  (unsigned long long)RESTORE_JUMP);
    return 0;
fail:
    log_warnx("restore: store: %s; still restoring, trying again in 10 s", store_errmsg(self->store));
    store_rollback(self->store);
    self->restore_retry = now + RESTORE_RETRY_MS;
    return -1;
}

/* A pull finished. Any node keeps its next sequence above every seq of
 * its own origin a peer reports (a restore from a peer that was behind
 * must not make it reuse one later); a restoring node checks whether it
 * has heard from every member now. */
void
origin_pulled(origin_t *self, const sync_peer_t *from, const wire_mark_t *marks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(marks[i].origin, ident_pk(self->ident), ENV_PKBYTES) == 0 &&
            marks[i].max_seq > self->max_seq)
            self->max_seq = marks[i].max_seq;
    if (self->restoring) {
        log_info("restore: pulled from %s", sync_peer_name(from));
        self->restore_retry = 0;    /* news: try at once, whatever failed before */
        origin_restore_check(self, now_ms());
    }
}
