/*
 * sync.c: the replication state machine of one link (PROTOCOL.md 4).
 *
 * Each side of a link is both a requester (it pulls) and a server (it
 * answers the other side's pulls). The requester's states:
 *
 *            connected / timer / sync now
 *   IDLE  ------------------------------->  PULLING   (sent SYNC)
 *   PULLING  --ENTRIES-->  PULLING                     (store, send CREDIT)
 *   PULLING  --SYNC_END, nothing to repair-->  IDLE    (raise watermarks)
 *   PULLING  --SYNC_END, an origin differs-->  REPAIRING (sent REPAIR)
 *   REPAIRING --ENTRIES--> REPAIRING
 *   REPAIRING --SYNC_END--> REPAIRING (next origin) or IDLE
 *   any      --no progress for SYNC_EXPIRE_MS or link down-->  IDLE
 *
 * The server (sync_serve.c) keeps one job per peer: the ranges of
 * (origin, seq) to send, a cursor, and the credit the requester granted.
 * It sends ENTRIES while it has credit and SYNC_END when the ranges are
 * exhausted. A new SYNC or REPAIR replaces the job. Nothing here is needed for correctness across
 * restarts: a lost exchange is simply asked for again.
 *
 * The transitions are in s_table; s_dispatch looks up (state, message) and
 * calls the handler, which returns the next state.
 */
#include "syncInt.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_state_names[] = { "idle", "pulling", "repairing" };

/* ---- small helpers ---- */

int
sync_send(sync_peer_t *p, msgpack_sbuffer *buf)
{
    p->stats.bytes_out += buf->size;
    int rc = p->node->hooks.send(p->node->hooks.arg, p, buf->data, buf->size);
    msgpack_sbuffer_destroy(buf);
    return rc;
}

bool
sync_accepts(sync_peer_t *p, const uint8_t key[ENV_PKBYTES])
{
    return memcmp(key, p->node->self, ENV_PKBYTES) == 0 ||
           p->node->hooks.accepts(p->node->hooks.arg, key);
}

const wire_mark_t *
sync_find_mark(const wire_mark_t *marks, size_t n, const uint8_t key[ENV_PKBYTES])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(marks[i].origin, key, ENV_PKBYTES) == 0)
            return &marks[i];
    return NULL;
}

/* ---- taking in versions ---- */

/* One envelope of a batch on its way in. */
struct incoming {
    envelope_t env;
    bool opened;        /* env holds a decoded envelope to clear */
    bool candidate;     /* passed the cheap checks: verify, then store */
};

/* The checks before the signature, in the order of PROTOCOL.md 4.1: the
 * envelope decodes, its origin is a member, and the store does not
 * already hold that version or a newer one (a cheap refusal that saves
 * verifying what would not be stored). A version that loses to the one
 * held but has the same seq is a fork (4.7): it goes on, so that its
 * signature is checked and the store keeps it as evidence. Returns true
 * for a candidate; false means refused and counted, or a store error
 * (*failed set). */
static bool
s_precheck(sync_peer_t *p, const uint8_t *buf, size_t len, struct incoming *in, bool *failed)
{
    entry_version_t held, got;
    char err[ENTRY_ERR_MAX];

    p->stats.received++;
    if (envelope_open(buf, len, &in->env, err, sizeof(err)) != 0) {
        p->stats.malformed++;
        log_debug("peer %s: malformed envelope refused: %s", p->name, err);
        return false;
    }
    in->opened = true;
    if (!sync_accepts(p, in->env.hdr.origin)) {
        p->stats.refused_origin++;
        return false;
    }
    envelope_version(&in->env, &got);
    int have = store_version(p->node->store, in->env.hdr.origin, in->env.hdr.id, &held);
    if (have < 0) {
        log_warnx("store: %s", store_errmsg(p->node->store));
        *failed = true;
        return false;
    }
    if (have == 1 && entry_version_cmp(&got, &held) <= 0 &&
        (got.seq != held.seq || memcmp(got.vid, held.vid, ENV_VIDBYTES) == 0)) {
        p->stats.older++;
        return false;
    }
    return true;
}

/* Stores one candidate whose signature was checked (sig_ok). Returns the
 * store result (STORE_NEW...), or -1 when refused (counted), -2 on a store
 * error (the caller rolls the batch back). */
static int
s_store(sync_peer_t *p, const uint8_t *buf, size_t len, const envelope_t *env, bool sig_ok,
        int64_t via, bool fresh, uint64_t now)
{
    sync_node_t *n = p->node;
    char err[ENTRY_ERR_MAX], id[NODEID_LEN + 1];

    if (!sig_ok) {
        p->stats.refused_signature++;
        key_to_id(env->hdr.origin, id);
        log_warnx("peer %s: bad signature on %s/%s seq %llu, refused", p->name, id, env->hdr.id,
                  (unsigned long long)env->hdr.seq);
        return -1;
    }
    if (envelope_validate(env, now, err, sizeof(err)) != 0) {
        p->stats.refused_invalid++;
        key_to_id(env->hdr.origin, id);
        log_debug("peer %s: %s/%s seq %llu refused: %s", p->name, id, env->hdr.id,
                  (unsigned long long)env->hdr.seq, err);
        return -1;
    }
    int rc = store_put(n->store, buf, len, env, via);
    if (rc < 0) {
        log_warnx("store: %s", store_errmsg(n->store));
        return -2;
    }
    if (rc == STORE_OLDER) {
        p->stats.older++;
    } else if (fresh && store_advance(n->store, env->hdr.origin) != 0) {
        log_warnx("store: %s", store_errmsg(n->store));
        return -2;
    }
    return rc;
}

/* Stores a batch in one transaction, in three steps: the cheap checks,
 * the signatures of the candidates on every core (envelope_verify_all),
 * then validation and storing in order. A store error rolls the whole
 * batch back. Only once the batch has committed does anything leave: a
 * push (fresh) is forwarded to the other peers, and the stored counter
 * moves. Versions from a pull are not forwarded: the other peers pull
 * them in turn, so a first sync does not flood the federation. A push also
 * raises watermarks over versions that follow them directly. Returns 0, or
 * -1 when nothing of the batch was kept. */
static int
s_ingest_batch(sync_peer_t *p, const wire_msg_t *m, bool fresh, uint64_t now)
{
    sync_node_t *n = p->node;
    int64_t via = store_origin(n->store, p->key, p->name);
    if (via < 0 || store_begin(n->store) != 0) {
        log_warnx("store: %s", store_errmsg(n->store));
        return -1;
    }
    struct incoming *in = xcalloc(m->nenvs, sizeof(*in));
    const envelope_t **check = xcalloc(m->nenvs, sizeof(*check));
    bool *ok = xcalloc(m->nenvs, sizeof(*ok));
    bool *kept = xcalloc(m->nenvs, sizeof(*kept));
    size_t ncheck = 0, nkept = 0;
    bool failed = false;

    for (size_t i = 0; i < m->nenvs && !failed; i++)
        if ((in[i].candidate = s_precheck(p, m->envs[i].ptr, m->envs[i].len, &in[i], &failed)))
            check[ncheck++] = &in[i].env;
    if (!failed)
        envelope_verify_all(check, ncheck, ok);
    for (size_t i = 0, k = 0; i < m->nenvs && !failed; i++) {
        if (!in[i].candidate)
            continue;
        int rc = s_store(p, m->envs[i].ptr, m->envs[i].len, &in[i].env, ok[k++], via, fresh, now);
        failed = rc == -2;
        kept[i] = rc == STORE_NEW || rc == STORE_REPLACED;
    }
    for (size_t i = 0; i < m->nenvs; i++)
        if (in[i].opened)
            envelope_clear(&in[i].env);
    if (!failed && store_commit(n->store) != 0) {
        log_warnx("store: %s", store_errmsg(n->store));
        failed = true;
    }
    if (failed) {
        store_rollback(n->store);
    } else {
        for (size_t i = 0; i < m->nenvs; i++) {
            if (!kept[i])
                continue;
            nkept++;
            if (fresh && n->hooks.stored)
                n->hooks.stored(n->hooks.arg, p, m->envs[i].ptr, m->envs[i].len);
        }
        p->stats.stored += nkept;
    }
    free(in);
    free(check);
    free(ok);
    free(kept);
    return failed ? -1 : 0;
}

/* ---- requester ---- */

static state_t
s_start_pull(sync_peer_t *p, uint64_t now)
{
    wire_mark_t *marks;
    size_t n;
    msgpack_sbuffer buf;

    if (store_marks(p->node->store, &marks, &n) != 0)
        return S_IDLE;
    p->req++;
    p->pull_t0 = mono_us();
    p->pull_rounds = 1;
    wire_sync(&buf, p->req, SYNC_CREDIT, marks, n);
    free(marks);
    p->last_progress = now;
    sync_send(p, &buf);
    return S_PULLING;
}

static state_t
s_start_repair(sync_peer_t *p, uint64_t now)
{
    wire_mark_t *marks;
    size_t n;
    wire_fp_t *fps;
    size_t nfps;
    msgpack_sbuffer buf;
    const uint8_t *origin = p->repair[p->nrepair - 1];

    /* About 1024 buckets whatever the origin's size. */
    unsigned shift = 0;
    if (store_marks(p->node->store, &marks, &n) != 0)
        return S_IDLE;
    const wire_mark_t *mine = sync_find_mark(marks, n, origin);
    uint64_t max_seq = mine ? mine->max_seq : 0;
    free(marks);
    while (shift < 40 && (max_seq >> shift) > 1024)
        shift++;
    if (store_buckets(p->node->store, origin, shift, &fps, &nfps) != 0)
        return S_IDLE;
    if (NEVER(nfps > WIRE_FPS_MAX))
        nfps = WIRE_FPS_MAX;    /* ~1024 buckets by the shift above */
    p->req++;
    wire_repair(&buf, p->req, SYNC_CREDIT, origin, shift, fps, nfps);
    free(fps);
    p->nrepair--;
    p->pull_rounds++;
    p->last_progress = now;
    sync_send(p, &buf);
    return S_REPAIRING;
}

/* Ends the exchange in flight without raising any watermark: what was
 * asked for is asked again by the next pull. */
static state_t
s_abandon(sync_peer_t *p, uint64_t now, const char *why)
{
    log_warnx("peer %s: pull abandoned, watermarks unchanged: %s", p->name, why);
    p->nrepair = 0;
    p->next_pull = now + p->node->interval;
    return S_IDLE;
}

static state_t
h_entries(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    msgpack_sbuffer buf;
    if (m->req != p->req)
        return p->state;            /* a late answer to an abandoned pull */
    if (s_ingest_batch(p, m, false, now) != 0)
        return s_abandon(p, now, "a batch could not be stored");
    p->last_progress = now;
    wire_credit(&buf, p->req, 1);
    sync_send(p, &buf);
    return p->state;
}

/* Origins whose watermarks and highest seq agree with the peer's but
 * whose version sets differ: watermarks cannot tell, so repair them. */
static void
s_plan_repairs(sync_peer_t *p, const wire_mark_t *theirs, size_t ntheirs)
{
    wire_mark_t *mine;
    size_t nmine;
    if (store_marks(p->node->store, &mine, &nmine) != 0)
        return;
    for (size_t i = 0; i < ntheirs; i++) {
        const wire_mark_t *t = &theirs[i], *m = sync_find_mark(mine, nmine, t->origin);
        if (m == NULL || !sync_accepts(p, t->origin))
            continue;
        if (m->max_seq == t->max_seq && m->complete == t->complete &&
            (m->count != t->count || memcmp(m->vsum, t->vsum, ENV_VIDBYTES) != 0)) {
            p->repair = xrealloc(p->repair, (p->nrepair + 1) * sizeof(*p->repair));
            memcpy(p->repair[p->nrepair++], t->origin, ENV_PKBYTES);
        }
    }
    free(mine);
}

static state_t
h_sync_end(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    sync_node_t *n = p->node;
    if (m->req != p->req)
        return p->state;
    /* Every batch of the exchange committed (h_entries abandons it
     * otherwise), so the watermarks may rise: all of them, or none. */
    int rc = store_begin(n->store);
    for (size_t i = 0; i < m->nmarks && rc == 0; i++)
        if (sync_accepts(p, m->marks[i].origin))
            rc = store_set_complete(n->store, m->marks[i].origin, m->marks[i].complete);
    if (rc == 0)
        rc = store_commit(n->store);
    if (rc != 0) {
        char why[600];
        snprintf(why, sizeof(why), "store: %s", store_errmsg(n->store));
        store_rollback(n->store);
        return s_abandon(p, now, why);
    }
    if (p->state == S_PULLING) {
        p->stats.pulls++;
        s_plan_repairs(p, m->marks, m->nmarks);
    } else {
        p->stats.repairs++;
    }
    if (p->nrepair > 0)
        return s_start_repair(p, now);
    /* The exchange, repairs included, is over. */
    p->stats.last_sync = now;
    p->stats.last_pull_us = mono_us() - p->pull_t0;
    p->stats.last_pull_rounds = p->pull_rounds;
    p->next_pull = now + n->interval;
    if (n->hooks.pulled)
        n->hooks.pulled(n->hooks.arg, p, m->marks, m->nmarks);
    return S_IDLE;
}

static state_t
h_push(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    /* A push that could not be stored is made up by the next pull. */
    if (s_ingest_batch(p, m, true, now) != 0)
        log_warnx("peer %s: a pushed batch could not be stored", p->name);
    return p->state;
}

static state_t
h_hello(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    (void)m;
    (void)now;
    return p->state;
}

/* ---- the table ---- */

typedef state_t (*handler_fn)(sync_peer_t *p, const wire_msg_t *m, uint64_t now);

static const struct transition {
    state_t state;
    int msg;
    handler_fn fn;
} s_table[] = {
    { S_PULLING,   WIRE_ENTRIES,  h_entries },
    { S_REPAIRING, WIRE_ENTRIES,  h_entries },
    { S_PULLING,   WIRE_SYNC_END, h_sync_end },
    { S_REPAIRING, WIRE_SYNC_END, h_sync_end },
    { S_ANY,       WIRE_SYNC,     serve_sync },
    { S_ANY,       WIRE_REPAIR,   serve_repair },
    { S_ANY,       WIRE_CREDIT,   serve_credit },
    { S_ANY,       WIRE_PUSH,     h_push },
    { S_ANY,       WIRE_HELLO,    h_hello },
};

static void
s_dispatch(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    for (size_t i = 0; i < sizeof(s_table) / sizeof(s_table[0]); i++) {
        const struct transition *t = &s_table[i];
        if (t->msg == m->type && (t->state == S_ANY || t->state == p->state)) {
            p->state = t->fn(p, m, now);
            return;
        }
    }
    /* No transition: e.g. ENTRIES while idle (late, after expiry). Ignored. */
}

/* ---- public ---- */

sync_node_t *
sync_node_new(store_t *store, const uint8_t self[ENV_PKBYTES], const char *name,
              const sync_hooks_t *hooks, uint64_t interval_ms)
{
    sync_node_t *n = xcalloc(1, sizeof(*n));
    n->name = xstrdup(name);
    n->store = store;
    memcpy(n->self, self, ENV_PKBYTES);
    n->hooks = *hooks;
    n->interval = interval_ms;
    return n;
}

void
sync_node_rename(sync_node_t *self, const char *name)
{
    free(self->name);
    self->name = xstrdup(name);
}

void
sync_node_destroy(sync_node_t **self_p)
{
    if (*self_p) {
        free((*self_p)->name);
        free(*self_p);
        *self_p = NULL;
    }
}

sync_peer_t *
sync_peer_new(sync_node_t *node, const uint8_t key[ENV_PKBYTES], const char *name)
{
    sync_peer_t *p = xcalloc(1, sizeof(*p));
    p->node = node;
    memcpy(p->key, key, ENV_PKBYTES);
    p->name = xstrdup(name);
    return p;
}

void
sync_peer_destroy(sync_peer_t **self_p)
{
    if (*self_p) {
        sync_peer_t *p = *self_p;
        serve_clear(p);
        free(p->repair);
        if (p->pushq)
            msgpack_sbuffer_free(p->pushq);
        free(p->name);
        free(p);
        *self_p = NULL;
    }
}

const uint8_t *
sync_peer_key(const sync_peer_t *self)
{
    return self->key;
}

void
sync_peer_rename(sync_peer_t *self, const char *name)
{
    free(self->name);
    self->name = xstrdup(name);
}

const char *
sync_peer_name(const sync_peer_t *self)
{
    return self->name;
}

const sync_stats_t *
sync_peer_stats(const sync_peer_t *self)
{
    return &self->stats;
}

bool
sync_peer_up(const sync_peer_t *self)
{
    return self->up;
}

const char *
sync_peer_state(const sync_peer_t *self)
{
    return s_state_names[self->state];
}

bool
sync_peer_synced_since(const sync_peer_t *self, uint64_t t)
{
    return self->stats.last_sync >= t && self->stats.last_sync != 0;
}

void
sync_peer_connected(sync_peer_t *self, uint64_t now)
{
    self->up = true;
    self->state = S_IDLE;
    self->state = s_start_pull(self, now);
}

void
sync_peer_hello(sync_peer_t *self, msgpack_sbuffer *out)
{
    wire_hello(out, self->node->name);
    self->stats.bytes_out += out->size;
}

void
sync_peer_disconnected(sync_peer_t *self)
{
    self->up = false;
    self->state = S_IDLE;
    self->nrepair = 0;
    serve_clear(self);
}

int
sync_peer_recv(sync_peer_t *self, const void *buf, size_t len, bool greeted, uint64_t now)
{
    wire_msg_t m;
    char err[256];

    if (now / 1000 != self->rate_second) {
        self->rate_second = now / 1000;
        self->rate_count = 0;
    }
    if (++self->rate_count > SYNC_RATE_MAX) {
        self->stats.rate_limited++;
        return 0;
    }
    self->stats.frames++;
    self->stats.bytes_in += len;
    if (wire_decode(buf, len, &m, err, sizeof(err)) != 0) {
        wire_clear(&m);
        self->stats.malformed++;
        log_warnx("peer %s: malformed message: %s", self->name, err);
        return -1;
    }
    if (!greeted && m.type != WIRE_HELLO) {
        log_warnx("peer %s: %s before HELLO on a new connection", self->name, wire_name(m.type));
        wire_clear(&m);
        return -1;
    }
    if (m.type == WIRE_HELLO && (m.vmin > WIRE_VERSION || m.vmax < WIRE_VERSION)) {
        log_warnx("peer %s speaks protocol versions %llu..%llu, this node %d", self->name,
                  (unsigned long long)m.vmin, (unsigned long long)m.vmax, WIRE_VERSION);
        wire_clear(&m);
        return -1;
    }
    if (log_verbose())
        log_debug("peer %s: %s (%zu bytes)", self->name, wire_name(m.type), len);
    int type = m.type;
    s_dispatch(self, &m, now);
    wire_clear(&m);
    return type == WIRE_HELLO ? 1 : 0;
}

void
sync_peer_pull(sync_peer_t *self, uint64_t now)
{
    if (self->up && self->state == S_IDLE)
        self->state = s_start_pull(self, now);
}

bool
sync_peer_tick(sync_peer_t *self, uint64_t now)
{
    bool stalled = false;
    if (!self->up)
        return false;
    if (self->state != S_IDLE && now - self->last_progress > SYNC_EXPIRE_MS) {
        log_warnx("peer %s: %s stalled, dropped", self->name, s_state_names[self->state]);
        self->state = S_IDLE;
        self->nrepair = 0;
        stalled = true;
    }
    if (self->state == S_IDLE && now >= self->next_pull)
        self->state = s_start_pull(self, now);
    return stalled;
}

void
sync_peer_push(sync_peer_t *self, const uint8_t *env, size_t len)
{
    msgpack_packer pk;
    if (!self->up)
        return;
    if (self->pushq == NULL)
        self->pushq = msgpack_sbuffer_new();
    msgpack_packer_init(&pk, self->pushq, msgpack_sbuffer_write);
    wire_batch_add(&pk, env, len);
    if (++self->npush >= WIRE_BATCH_MAX || self->pushq->size >= SYNC_BATCH_BYTES)
        sync_peer_flush(self);
}

void
sync_peer_flush(sync_peer_t *self)
{
    if (self->npush == 0)
        return;
    msgpack_sbuffer out;
    msgpack_packer pk;
    wire_batch_begin(&out, &pk, WIRE_PUSH, 0, self->npush);
    msgpack_sbuffer_write(&out, self->pushq->data, self->pushq->size);
    msgpack_sbuffer_clear(self->pushq);
    self->npush = 0;
    sync_send(self, &out);
}
