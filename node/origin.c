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
 * Local writes leave the node only after they committed: versions written
 * in a request are kept in `pending` and pushed once the transaction is on
 * disk (origin_write_done), or dropped if it failed.
 */
#include "origin.h"
#include "log.h"
#include "util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    struct pending {            /* local versions of the write in progress */
        uint8_t *env;
        size_t len;
    } *pending;
    size_t npending, cap_pending;
};

origin_t *
origin_open(store_t *store, const ident_t *ident, links_t *links, const conf_t *conf,
            const char *path, bool lost, char *err, size_t errlen)
{
    origin_t *self = xcalloc(1, sizeof(*self));
    char stored[64];
    self->store = store;
    self->ident = ident;
    self->links = links;
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
    size_t nmembers = conf->nmembers;
    if (lost && nmembers > 0) {
        if (store_meta_set(store, "restoring", "1") != 0) {
            seterr(err, errlen, -1, "%s: %s", path, store_errmsg(store));
            goto fail;
        }
        log_warnx("%s was missing: restoring this node's own entries from peers before"
                  " taking local writes (from each of its %zu member%s)", path, nmembers,
                  nmembers == 1 ? "" : "s");
    }
    self->restoring = store_meta_get(store, "restoring", stored, sizeof(stored)) == 0 &&
                      strcmp(stored, "1") == 0;
    self->restore_since = now_ms();
    if (store_origin(store, ident_pk(ident), conf->name) < 0 ||
        store_origin_max(store, ident_pk(ident), &self->max_seq, &self->last_ts) != 0) {
        seterr(err, errlen, -1, "%s: %s", path, store_errmsg(store));
        goto fail;
    }
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

int
origin_write_end(origin_t *self)
{
    /* Nobody else writes our origin: we are complete up to our own max. */
    return store_set_complete(self->store, ident_pk(self->ident), self->max_seq);
}

void
origin_write_done(origin_t *self, bool committed)
{
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
    bool all = pulled == npeers;
    if (!all && (wait == 0 || now - self->restore_since < wait || pulled == 0 ||
                 connected_pulled < connected))
        return 0;
    if (store_begin(self->store) != 0)
        goto fail;
    if (store_origin_max(self->store, ident_pk(self->ident), &max_seq, &max_ts) != 0)
        goto fail;
    max_seq = max_seq > self->max_seq ? max_seq : self->max_seq;
    if (!all)
        max_seq += RESTORE_JUMP;
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
    if (all)
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
