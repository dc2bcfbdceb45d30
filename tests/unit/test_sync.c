/*
 * test_sync.c: the replication state machine with no sockets. Two (or
 * three) nodes with ":memory:" stores are wired together through queues;
 * the tests check convergence of digests, cost that follows the
 * difference, push, repair of a lying watermark, and refusal of forged,
 * foreign and malformed input.
 */
#include "selftest.h"
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
                sync_peer_recv(s->peer, batch[i].buf, batch[i].len, s_now);
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

static void
s_connect(struct side *a, struct side *b)
{
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
    for (int i = 0; i < 1500; i++) {
        snprintf(id, sizeof(id), "a-%d", i);
        s_publish(&a, id, false, "Glanzwerk");
    }
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof(id), "b-%d", i);
        s_publish(&b, id, false, "Sociolab");
    }
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
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_origin == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* An entry claiming a's origin but signed by x: bad signature. */
    memcpy(h.origin, a.pk, ENV_PKBYTES);
    CHECK(envelope_seal(&h, body, x.sk, &env, vid, err, sizeof(err)) == 0);
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_signature == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* a's genuine entry with one flipped byte in its body. */
    CHECK(envelope_seal(&h, body, a.sk, &env, vid, err, sizeof(err)) == 0);
    char *flipped = xmalloc(env.size);
    memcpy(flipped, env.data, env.size);
    flipped[env.size - 80] ^= 0x01;
    s_push_frame(&frame, flipped, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->refused_signature + sync_peer_stats(b.peer)->refused_invalid == 2);
    msgpack_sbuffer_destroy(&frame);
    free(flipped);

    /* The genuine one is stored; offered again, it is older. */
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->stored == 1);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(sync_peer_stats(b.peer)->older == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);

    /* Two different payloads for one (origin, seq): evidence is kept. */
    json_t *other = json_pack("{s:{s:s}, s:s}", "name", "en", "Fork", "country", "AT");
    strcpy(h.id, "forked");
    CHECK(envelope_seal(&h, other, a.sk, &env, vid, err, sizeof(err)) == 0);
    s_push_frame(&frame, env.data, env.size);
    CHECK(sync_peer_recv(b.peer, frame.data, frame.size, s_now) == 0);
    CHECK(store_forks(b.st, NULL, NULL) == 1);
    msgpack_sbuffer_destroy(&frame);
    msgpack_sbuffer_destroy(&env);
    json_decref(other);

    /* Malformed frames: -1 (the node drops the peer), counted. */
    const char junk[] = { (char)0x93, (char)0xa4, 'P', 'U', 'S', 'H' };
    CHECK(sync_peer_recv(b.peer, junk, sizeof(junk), s_now) == -1);
    const char unknown[] = { (char)0x91, (char)0xa3, 'B', 'A', 'D' };
    CHECK(sync_peer_recv(b.peer, unknown, sizeof(unknown), s_now) == -1);
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
    CHECK(sync_peer_recv(b.peer, hello.data, hello.size, s_now) == -1);
    msgpack_sbuffer_destroy(&hello);

    json_decref(body);
    s_disconnect(&a, &b);
    s_free(&a);
    s_free(&b);
    sync_node_destroy(&x.node);
    store_close(&x.st);
}

int
sync_test(bool verbose)
{
    (void)verbose;
    s_test_converge();
    s_test_repair();
    s_test_refusals();
    return 0;
}
