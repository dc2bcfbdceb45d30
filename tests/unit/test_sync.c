/*
 * test_sync.c: the replication state machine with no sockets. Two (or
 * three) nodes with ":memory:" stores are wired together through queues;
 * the tests check convergence of digests, cost that follows the
 * difference, push, repair of a lying watermark, and refusal of forged,
 * foreign and malformed input.
 */
#include "mpjson.h"
#include "selftest.h"
#include "store_bench.h"
#include "sync.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define QMAX 4096

struct frame {
    void *buf;
    size_t len;
};

struct side {
    const char *name;
    store_t *st;
    uint8_t pk[ENV_PKBYTES], sk[ENV_SKBYTES];
    sync_node_t *node;
    sync_peer_t *peer;          /* this side's view of the link */
    struct side *other;
    struct frame q[QMAX];       /* frames on their way to this side */
    size_t qn;
    uint64_t seq;               /* this side's own sequence */
    int forwarded;              /* stored hook calls */
    bool greeted;               /* a HELLO came on this side's connection */
};

static uint8_t s_members[4][ENV_PKBYTES];
static int s_nmembers;
static uint64_t s_now = 1800000000000ULL;

static int
h_send(void *arg, sync_peer_t *peer, const void *buf, size_t len)
{
    struct side *s = arg;
    struct side *to = s->other;
    (void)peer;
    CHECK(to->qn < QMAX);
    to->q[to->qn].buf = xmalloc(len);
    memcpy(to->q[to->qn].buf, buf, len);
    to->q[to->qn++].len = len;
    return 0;
}

static bool
h_accepts(void *arg, const uint8_t key[ENV_PKBYTES])
{
    (void)arg;
    for (int i = 0; i < s_nmembers; i++)
        if (memcmp(s_members[i], key, ENV_PKBYTES) == 0)
            return true;
    return false;
}

static void
h_stored(void *arg, sync_peer_t *from, const uint8_t *env, size_t len)
{
    struct side *s = arg;
    (void)from;
    (void)env;
    (void)len;
    s->forwarded++;
}

static void
s_side(struct side *s, const char *name, uint8_t seedbyte)
{
    char err[256];
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(s, 0, sizeof(*s));
    s->name = name;
    memset(seed, seedbyte, sizeof(seed));
    crypto_sign_seed_keypair(s->pk, s->sk, seed);
    s->st = store_open(":memory:", err, sizeof(err));
    sync_hooks_t hooks = { .arg = s, .send = h_send, .accepts = h_accepts, .stored = h_stored };
    s->node = sync_node_new(s->st, s->pk, name, &hooks, 10000);
    memcpy(s_members[s_nmembers++], s->pk, ENV_PKBYTES);
}

static void
s_link(struct side *a, struct side *b)
{
    a->other = b;
    b->other = a;
    a->peer = sync_peer_new(a->node, b->pk, b->name);
    b->peer = sync_peer_new(b->node, a->pk, a->name);
}

static void
s_free(struct side *s)
{
    for (size_t i = 0; i < s->qn; i++)
        free(s->q[i].buf);
    sync_peer_destroy(&s->peer);
    sync_node_destroy(&s->node);
    store_close(&s->st);
}

/* Delivers frames both ways until both queues are empty. Returns the
 * number of round trips (delivery rounds) it took. */
static int
s_pump(struct side *a, struct side *b)
{
    int rounds = 0;
    while (a->qn > 0 || b->qn > 0) {
        rounds++;
        struct side *sides[2] = { a, b };
        for (int k = 0; k < 2; k++) {
            struct side *s = sides[k];
            size_t n = s->qn;
            struct frame batch[QMAX];
            memcpy(batch, s->q, n * sizeof(batch[0]));
            s->qn = 0;
            for (size_t i = 0; i < n; i++) {
                int rc = sync_peer_recv(s->peer, batch[i].buf, batch[i].len, s->greeted, s_now);
                CHECK(rc >= 0);
                if (rc == 1)
                    s->greeted = true;
                free(batch[i].buf);
            }
        }
        CHECK(rounds < 10000);
        if (rounds >= 10000)
            break;
    }
    return rounds;
}

/* Writes a version of (s, id) into s's own store, as a local publish does;
 * pushes it if the link is up. */
static void
s_publish(struct side *s, const char *id, bool deleted, const char *text)
{
    entry_hdr_t h = { .kind = KIND_ORGANISATION, .seq = ++s->seq, .ts = s_now, .deleted = deleted };
    msgpack_sbuffer buf;
    envelope_t env;
    uint8_t vid[ENV_VIDBYTES];
    char err[256];

    memcpy(h.origin, s->pk, ENV_PKBYTES);
    snprintf(h.id, sizeof(h.id), "%s", id);
    json_t *body = deleted ? json_object()
                           : json_pack("{s:{s:s}, s:s}", "name", "en", text, "country", "AT");
    CHECK(envelope_seal(&h, body, s->sk, &buf, vid, err, sizeof(err)) == 0);
    CHECK(envelope_open((const uint8_t *)buf.data, buf.size, &env, err, sizeof(err)) == 0);
    CHECK(store_put(s->st, (const uint8_t *)buf.data, buf.size, &env, 0) > 0);
    store_set_complete(s->st, s->pk, h.seq);
    if (s->peer != NULL && sync_peer_up(s->peer)) {
        sync_peer_push(s->peer, (const uint8_t *)buf.data, buf.size);
        sync_peer_flush(s->peer);
    }
    envelope_clear(&env);
    msgpack_sbuffer_destroy(&buf);
    json_decref(body);
}

/* n entries PREFIX-0 ... PREFIX-(n-1) of s, all named text. */
static void
s_publish_n(struct side *s, const char *prefix, int n, const char *text)
{
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        s_publish(s, id, false, text);
    }
}

static void
s_digest(struct side *s, char out[65])
{
    CHECK(store_summary(s->st, NULL, NULL, out) == 0);
}

static bool
s_same(struct side *a, struct side *b)
{
    char da[65], db[65];
    s_digest(a, da);
    s_digest(b, db);
    return strcmp(da, db) == 0;
}

/* A new connection: each side greets it first, as peer.c does. */
static void
s_connect(struct side *a, struct side *b)
{
    struct side *sides[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        msgpack_sbuffer hello;
        sync_peer_hello(sides[k]->peer, &hello);
        h_send(sides[k], sides[k]->peer, hello.data, hello.size);
        msgpack_sbuffer_destroy(&hello);
        sides[k]->greeted = false;
    }
    sync_peer_connected(a->peer, s_now);
    sync_peer_connected(b->peer, s_now);
}

static void
s_disconnect(struct side *a, struct side *b)
{
    sync_peer_disconnected(a->peer);
    sync_peer_disconnected(b->peer);
    for (size_t i = 0; i < a->qn; i++)
        free(a->q[i].buf);
    for (size_t i = 0; i < b->qn; i++)
        free(b->q[i].buf);
    a->qn = b->qn = 0;
}

static void
s_test_converge(void)
{
    struct side a, b;
    char id[32];
    s_nmembers = 0;
    s_side(&a, "a", 1);
    s_side(&b, "b", 2);
    s_link(&a, &b);

    /* First sync: 1500 entries on a, 300 on b, in several credit rounds. */
    s_publish_n(&a, "a", 1500, "Glanzwerk");
    s_publish_n(&b, "b", 300, "Sociolab");
    s_connect(&a, &b);
    s_pump(&a, &b);
    CHECK(s_same(&a, &b));
    CHECK(sync_peer_stats(b.peer)->stored == 1500 && sync_peer_stats(a.peer)->stored == 300);
    CHECK(sync_peer_synced_since(a.peer, s_now) && sync_peer_synced_since(b.peer, s_now));
    CHECK(store_complete(b.st, a.pk) == 1500);

    /* Offline: a changes 10 entries (8 updates, 2 deletes); the next pull
     * moves exactly those 10 envelopes, in one round trip. */
    s_disconnect(&a, &b);
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof(id), "a-%d", i * 100);
        s_publish(&a, id, false, "Glanzwerk neu");
    }
    s_publish(&a, "a-5", true, NULL);
    s_publish(&a, "a-6", true, NULL);
    CHECK(!s_same(&a, &b));
    uint64_t before = sync_peer_stats(b.peer)->received;
    s_connect(&a, &b);
    int rounds = s_pump(&a, &b);
    CHECK(s_same(&a, &b));
    CHECK(sync_peer_stats(b.peer)->received - before == 10);
    CHECK(rounds <= 3);

    /* Online: a push reaches b without a pull, and b does not push it back. */
    before = sync_peer_stats(b.peer)->stored;
    int fwd = b.forwarded;
    s_publish(&a, "a-new", false, "Frisch");
    s_pump(&a, &b);
    CHECK(sync_peer_stats(b.peer)->stored == before + 1);
    CHECK(b.forwarded == fwd + 1);          /* b's node would forward to others */
    CHECK(s_same(&a, &b));
    CHECK(store_complete(b.st, a.pk) == a.seq);   /* push raised the watermark */

    /* A deleted entry offered again at its older version is refused. */
    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
}

struct copy {
    store_t *to;
    uint64_t last;
    uint64_t skip1, skip2;
};

/* store_since callback: copies each version into another store. */
static int
s_copy_row(void *arg, const store_row_t *row)
{
    struct copy *c = arg;
    envelope_t env;
    char err[256];
    c->last = row->seq;
    if (row->seq == c->skip1 || row->seq == c->skip2)
        return 0;
    CHECK(envelope_open(row->env, row->env_len, &env, err, sizeof(err)) == 0);
    CHECK(store_put(c->to, row->env, row->env_len, &env, 0) == STORE_NEW);
    envelope_clear(&env);
    return 0;
}

static void
s_test_repair(void)
{
    struct side a, c;
    char id[32];
    s_nmembers = 0;
    s_side(&a, "a", 3);
    s_side(&c, "c", 4);
    s_link(&a, &c);
    for (int i = 0; i < 3000; i++) {
        snprintf(id, sizeof(id), "a-%d", i);
        s_publish(&a, id, false, "Eintrag");
    }
    /* c holds a's versions but two, yet claims to be complete (a lying
     * watermark, as after a bad restore): the pull sends nothing, the
     * marks show the difference, and the repair by buckets brings back
     * exactly what is missing. */
    struct copy cp = { .to = c.st, .skip1 = 17, .skip2 = 2500 };
    do {
        uint64_t after = cp.last;
        if (store_since(a.st, a.pk, after, UINT64_MAX, 1000, s_copy_row, &cp) <= 0)
            break;
    } while (cp.last < 3000);
    store_set_complete(c.st, a.pk, 3000);
    CHECK(!s_same(&a, &c));
    s_connect(&a, &c);
    s_pump(&a, &c);
    CHECK(s_same(&a, &c));
    CHECK(sync_peer_stats(c.peer)->repairs == 1);
    CHECK(sync_peer_stats(c.peer)->stored == 2);
    /* Only the differing buckets travelled, not the whole origin. */
    CHECK(sync_peer_stats(c.peer)->received < 100);
    s_disconnect(&a, &c);
    s_free(&a);
    s_free(&c);
}

/* A PUSH frame holding one envelope. */
static void
s_push_frame(msgpack_sbuffer *out, const void *env, size_t len)
{
    msgpack_packer pk;
    wire_batch_begin(out, &pk, WIRE_PUSH, 0, 1);
    wire_batch_add(&pk, env, len);
}

static void
s_test_refusals(void)
{
    struct side a, b, x;
    msgpack_sbuffer env, frame;
    uint8_t vid[ENV_VIDBYTES];
    char err[256];
    s_nmembers = 0;
    s_side(&a, "a", 5);
    s_side(&b, "b", 6);
    s_side(&x, "x", 7);
    s_nmembers = 2;                 /* x is not a member */
    s_link(&a, &b);
    s_connect(&a, &b);
    s_pump(&a, &b);

    /* An entry by a non-member, relayed by member a: refused, counted. */
    entry_hdr_t h = { .kind = KIND_ORGANISATION, .seq = 1, .ts = s_now };
    memcpy(h.origin, x.pk, ENV_PKBYTES);
    strcpy(h.id, "foreign");
    json_t *body = json_pack("{s:{s:s}, s:s}", "name", "en", "Foreign", "country", "AT");
    CHECK(envelope_seal(&h, body, x.sk, &env, vid, err, sizeof(err)) == 0);
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_origin == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* An entry claiming a's origin but signed by x: bad signature. */
    memcpy(h.origin, a.pk, ENV_PKBYTES);
    CHECK(envelope_seal(&h, body, x.sk, &env, vid, err, sizeof(err)) == 0);
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_signature == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* a's genuine entry with one flipped byte in its body. */
    CHECK(envelope_seal(&h, body, a.sk, &env, vid, err, sizeof(err)) == 0);
    char *flipped = xmalloc(env.size);
    memcpy(flipped, env.data, env.size);
    flipped[env.size - 80] ^= 0x01;
    s_push_frame(&frame, flipped, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_signature + sync_peer_stats(b.peer)->refused_invalid == 2);
    msgpack_sbuffer_destroy(&frame);
    free(flipped);

    /* The genuine one is stored; offered again, it is older. */
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->stored == 1);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->older == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* Two different payloads for one (origin, seq): evidence is kept. */
    json_t *other = json_pack("{s:{s:s}, s:s}", "name", "en", "Fork", "country", "AT");
    strcpy(h.id, "forked");
    CHECK(envelope_seal(&h, other, a.sk, &env, vid, err, sizeof(err)) == 0);
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0);
    CHECK(store_forks(b.st, NULL, NULL) == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);
    json_decref(other);

    /* Malformed frames: -1 (the node drops the peer), counted. */
    const char junk[] = { (char)0x93, (char)0xa4, 'P', 'U', 'S', 'H' };
    CHECK(sync_peer_recv(b.peer, junk, sizeof(junk), true, s_now) == -1);
    const char unknown[] = { (char)0x91, (char)0xa3, 'B', 'A', 'D' };
    CHECK(sync_peer_recv(b.peer, unknown, sizeof(unknown), true, s_now) == -1);
    CHECK(sync_peer_stats(b.peer)->malformed == 2);
    /* A HELLO of a protocol version this node does not speak. */
    msgpack_sbuffer hello;
    msgpack_packer pk;
    msgpack_sbuffer_init(&hello);
    msgpack_packer_init(&pk, &hello, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str(&pk, 5);
    msgpack_pack_str_body(&pk, "HELLO", 5);
    msgpack_pack_uint64(&pk, 7);
    msgpack_pack_uint64(&pk, 9);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "z", 1);
    CHECK(sync_peer_recv(b.peer, hello.data, hello.size, true, s_now) == -1);
    msgpack_sbuffer_destroy(&hello);

    json_decref(body);
    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
    sync_node_destroy(&x.node);
    store_close(&x.st);
}

/* ---- the holes PROTOCOL.md now closes, one check each ---- */

/* A body {"country":"AT","name":{"en":NAME}} packed. */
static void
s_body(msgpack_sbuffer *out, const char *name)
{
    json_t *b = json_pack("{s:s, s:{s:s}}", "country", "AT", "name", "en", name);
    char err[256];
    CHECK(mpjson_encode(b, out, err, sizeof(err)) == 0);
    json_decref(b);
}

/* Envelope of a's entry id at seq with the given name (or a tombstone). */
static void
s_env(msgpack_sbuffer *out, struct side *a, const char *id, uint64_t seq, bool deleted,
      const char *name)
{
    msgpack_sbuffer body;
    if (deleted && name == NULL) {
        msgpack_sbuffer_init(&body);
        msgpack_sbuffer_write(&body, "\x80", 1);
    } else {
        s_body(&body, name);
    }
    selftest_raw_envelope(out, a->pk, a->sk, id, seq, s_now, deleted, body.data, body.size);
    msgpack_sbuffer_destroy(&body);
}

/* Hands b a PUSH of n envelopes on a greeted connection; returns what
 * sync_peer_recv returned. */
static int
s_push(struct side *b, msgpack_sbuffer *envs, size_t n)
{
    msgpack_sbuffer frame;
    msgpack_packer pk;
    wire_batch_begin(&frame, &pk, WIRE_PUSH, 0, n);
    for (size_t i = 0; i < n; i++)
        wire_batch_add(&pk, (const uint8_t *)envs[i].data, envs[i].size);
    int rc = sync_peer_recv(b->peer, frame.data, frame.size, true, s_now);
    msgpack_sbuffer_destroy(&frame);
    return rc;
}

static entry_version_t
s_version_of(const msgpack_sbuffer *env)
{
    envelope_t e;
    entry_version_t v;
    char err[256];
    CHECK(envelope_open((const uint8_t *)env->data, env->size, &e, err, sizeof(err)) == 0);
    envelope_version(&e, &v);
    envelope_clear(&e);
    return v;
}

struct fork_seen {
    uint64_t seq;
    const msgpack_sbuffer *kept, *other;
    int found;
};

static int
s_fork_match(void *arg, const store_fork_t *f)
{
    struct fork_seen *w = arg;
    if (f->seq != w->seq)
        return 0;
    w->found++;
    CHECK(f->kept_len == w->kept->size && memcmp(f->kept, w->kept->data, f->kept_len) == 0);
    CHECK(f->other_len == w->other->size && memcmp(f->other, w->other->data, f->other_len) == 0);
    return 0;
}

/* One fork record per (origin, seq), kept = the newer by 2.1, whatever
 * the order of arrival and however the two are batched. */
static void
s_test_forks(struct side *a, struct side *b)
{
    for (int order = 0; order < 4; order++) {
        uint64_t seq = 50 + (uint64_t)order;
        char id[16];
        snprintf(id, sizeof(id), "f%d", order);
        msgpack_sbuffer x[2];
        s_env(&x[0], a, id, seq, false, "one");
        s_env(&x[1], a, id, seq, false, "two");
        entry_version_t v0 = s_version_of(&x[0]), v1 = s_version_of(&x[1]);
        int w = entry_version_cmp(&v0, &v1) > 0 ? 0 : 1;    /* the winner */
        msgpack_sbuffer first[2] = { x[w ^ 1], x[w] };       /* loser, winner */
        if (order & 1) {                                      /* winner first */
            first[0] = x[w];
            first[1] = x[w ^ 1];
        }
        if (order < 2) {
            CHECK(s_push(b, &first[0], 1) == 0);
            CHECK(s_push(b, &first[1], 1) == 0);
        } else {
            CHECK(s_push(b, first, 2) == 0);
        }
        struct fork_seen seen = { seq, &x[w], &x[w ^ 1], 0 };
        store_forks(b->st, s_fork_match, &seen);
        CHECK(seen.found == 1);
        entry_version_t held;
        CHECK(store_version(b->st, a->pk, id, &held) == 1);
        entry_version_t vw = w ? v1 : v0;
        CHECK(memcmp(held.vid, vw.vid, ENV_VIDBYTES) == 0);
        /* The same pair again adds nothing. */
        CHECK(s_push(b, x, 2) == 0);
        seen.found = 0;
        store_forks(b->st, s_fork_match, &seen);
        CHECK(seen.found == 1);
        msgpack_sbuffer_destroy(&x[0]);
        msgpack_sbuffer_destroy(&x[1]);
    }
    /* Two entries of one origin with one seq: one record too. */
    msgpack_sbuffer g[2];
    s_env(&g[0], a, "g1", 60, false, "g1");
    s_env(&g[1], a, "g2", 60, false, "g2");
    CHECK(s_push(b, &g[0], 1) == 0 && s_push(b, &g[1], 1) == 0);
    entry_version_t v0 = s_version_of(&g[0]), v1 = s_version_of(&g[1]);
    int w = entry_version_cmp(&v0, &v1) > 0 ? 0 : 1;
    struct fork_seen seen = { 60, &g[w], &g[w ^ 1], 0 };
    store_forks(b->st, s_fork_match, &seen);
    CHECK(seen.found == 1);
    CHECK(store_forks(b->st, NULL, NULL) == 5);
    msgpack_sbuffer_destroy(&g[0]);
    msgpack_sbuffer_destroy(&g[1]);
}

static void
s_test_holes(void)
{
    struct side a, b;
    msgpack_sbuffer env, frame;
    s_nmembers = 0;
    s_side(&a, "a", 8);
    s_side(&b, "b", 9);
    s_link(&a, &b);
    s_connect(&a, &b);
    s_pump(&a, &b);
    const sync_stats_t *st = sync_peer_stats(b.peer);

    /* seq 2^53 - 1 is stored and served; 2^53 and up are malformed. */
    s_env(&env, &a, "top", ENV_SEQ_MAX, false, "top");
    CHECK(s_push(&b, &env, 1) == 0 && st->stored == 1);
    msgpack_sbuffer_destroy(&env);
    wire_mark_t *marks;
    size_t n;
    CHECK(store_marks(b.st, &marks, &n) == 0 && n == 1 && marks[0].max_seq == ENV_SEQ_MAX);
    free(marks);
    uint64_t seqs[] = { ENV_SEQ_MAX + 1, (UINT64_C(1) << 63) - 1, UINT64_MAX };
    for (size_t i = 0; i < 3; i++) {
        s_env(&env, &a, "big", seqs[i], false, "big");
        uint64_t before = st->malformed;
        CHECK(s_push(&b, &env, 1) == 0 && st->malformed == before + 1);
        msgpack_sbuffer_destroy(&env);
    }
    CHECK(st->stored == 1 && st->refused_invalid == 0);

    /* A tombstone with a body is invalid; with an empty one it is stored. */
    s_env(&env, &a, "top", ENV_SEQ_MAX - 1, true, "still here");
    CHECK(s_push(&b, &env, 1) == 0);
    msgpack_sbuffer_destroy(&env);
    s_env(&env, &a, "gone", 10, true, "still here");
    CHECK(s_push(&b, &env, 1) == 0 && st->refused_invalid == 1 && st->stored == 1);
    msgpack_sbuffer_destroy(&env);
    s_env(&env, &a, "gone", 10, true, NULL);
    CHECK(s_push(&b, &env, 1) == 0 && st->stored == 2);
    msgpack_sbuffer_destroy(&env);

    /* A non-canonical envelope is malformed, not invalid, and costs only
     * itself: the good one beside it is stored, the peer is not dropped. */
    msgpack_sbuffer two[2];
    s_env(&two[0], &a, "canon", 11, false, "canon");
    s_env(&two[1], &a, "fine", 12, false, "fine");
    msgpack_sbuffer_init(&env);
    msgpack_sbuffer_write(&env, "\x92\xc5", 2);          /* bin16 where bin8 would do */
    msgpack_sbuffer_write(&env, "\x00", 1);
    msgpack_sbuffer_write(&env, two[0].data + 2, two[0].size - 2);
    msgpack_sbuffer_destroy(&two[0]);
    two[0] = env;
    uint64_t mal = st->malformed, inv = st->refused_invalid;
    CHECK(s_push(&b, two, 2) == 0);
    CHECK(st->malformed == mal + 1 && st->refused_invalid == inv && st->stored == 3);
    msgpack_sbuffer_destroy(&two[0]);
    msgpack_sbuffer_destroy(&two[1]);

    s_test_forks(&a, &b);

    /* REPAIR buckets out of order: the frame is malformed (-1: dropped). */
    wire_fp_t fps[2] = { { .bucket = 2, .count = 1 }, { .bucket = 1, .count = 1 } };
    wire_repair(&frame, 77, 8, a.pk, 4, fps, 2);
    mal = st->malformed;
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == -1 && st->malformed == mal + 1);
    msgpack_sbuffer_destroy(&frame);
    fps[1].bucket = 3;
    wire_repair(&frame, 77, 8, a.pk, 4, fps, 2);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) >= 0);
    msgpack_sbuffer_destroy(&frame);
    /* A mark over 2^53 - 1: malformed too. */
    wire_mark_t big = { .complete = ENV_SEQ_MAX + 1 };
    memcpy(big.origin, a.pk, ENV_PKBYTES);
    wire_sync(&frame, 78, 8, &big, 1);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == -1);
    msgpack_sbuffer_destroy(&frame);

    /* HELLO first: on a connection that has not greeted, a PUSH is a
     * protocol violation and nothing of it is stored. */
    uint64_t stored = st->stored;
    s_env(&env, &a, "early", 70, false, "early");
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, false, s_now) == -1);
    CHECK(st->stored == stored);
    entry_version_t none;
    CHECK(store_version(b.st, a.pk, "early", &none) == 0);
    msgpack_sbuffer hello;
    sync_peer_hello(a.peer, &hello);
    CHECK(sync_peer_recv(b.peer, hello.data, hello.size, false, s_now) == 1);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, true, s_now) == 0 && st->stored == stored + 1);
    msgpack_sbuffer_destroy(&hello);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
}

/* A store error in the middle of a batch undoes the batch: nothing of it
 * is stored or counted, no watermark rises, and the pull is asked for
 * again later (PROTOCOL.md 4.4), when it brings everything. */
static void
s_test_store_errors(void)
{
    struct side a, b;
    s_nmembers = 0;
    s_side(&a, "a", 10);
    s_side(&b, "b", 11);
    s_link(&a, &b);
    s_publish_n(&a, "a", 20, "Eintrag");
    store_fault(b.st, "entry write", 5);
    s_connect(&a, &b);
    s_pump(&a, &b);
    const sync_stats_t *st = sync_peer_stats(b.peer);
    CHECK(st->stored == 0 && st->pulls == 0 && !sync_peer_synced_since(b.peer, s_now));
    CHECK(store_complete(b.st, a.pk) == 0);
    wire_mark_t *marks;
    size_t n;
    CHECK(store_marks(b.st, &marks, &n) == 0);
    for (size_t i = 0; i < n; i++)
        CHECK(memcmp(marks[i].origin, a.pk, ENV_PKBYTES) != 0 || marks[i].count == 0);
    free(marks);
    /* The next pull, when it is due, brings everything. */
    s_now += 10001;
    sync_peer_tick(b.peer, s_now);
    s_pump(&a, &b);
    CHECK(s_same(&a, &b) && st->stored == 20 && store_complete(b.st, a.pk) == 20);

    /* A push whose batch fails is not stored, not counted, not forwarded. */
    int fwd = b.forwarded;
    store_fault(b.st, "origin counters", 0);
    s_publish(&a, "pushed", false, "Neu");
    s_pump(&a, &b);
    CHECK(st->stored == 20 && b.forwarded == fwd && store_complete(b.st, a.pk) == 20);
    CHECK(!s_same(&a, &b));
    s_now += 10001;
    sync_peer_tick(b.peer, s_now);
    s_pump(&a, &b);
    CHECK(s_same(&a, &b) && st->stored == 21);
    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
}

/* A request that gets no answer is dropped after SYNC_EXPIRE_MS, and the
 * tick that drops it says so, once: the caller then reconnects (a member
 * that lost the greeting of our connection answers nothing on it). */
static void
s_test_stall(void)
{
    struct side a, b;
    s_nmembers = 0;
    s_side(&a, "a", 12);
    s_side(&b, "b", 13);
    s_link(&a, &b);
    s_publish_n(&a, "a", 3, "Eintrag");
    s_connect(&a, &b);
    s_pump(&a, &b);
    CHECK(s_same(&a, &b));
    /* b's next pull goes out and is lost on the way. */
    s_now += 10001;
    CHECK(!sync_peer_tick(b.peer, s_now));
    CHECK(a.qn > 0);
    for (size_t i = 0; i < a.qn; i++)
        free(a.q[i].buf);
    a.qn = 0;
    s_now += SYNC_EXPIRE_MS / 2;
    CHECK(!sync_peer_tick(b.peer, s_now));
    s_now += SYNC_EXPIRE_MS / 2 + 1;
    CHECK(sync_peer_tick(b.peer, s_now));
    /* A pull that is answered is no stall. */
    s_publish(&a, "late", false, "Neu");
    s_pump(&a, &b);
    s_now += 10001;
    CHECK(!sync_peer_tick(b.peer, s_now));
    s_pump(&a, &b);
    CHECK(s_same(&a, &b));
    s_now += SYNC_EXPIRE_MS + 1;
    CHECK(!sync_peer_tick(b.peer, s_now));
    s_pump(&a, &b);
    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
}

int
sync_test(bool verbose)
{
    (void)verbose;
    s_test_converge();
    s_test_repair();
    s_test_refusals();
    s_test_holes();
    s_test_store_errors();
    s_test_stall();
    return 0;
}
