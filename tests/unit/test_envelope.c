/*
 * test_envelope.c: the signed envelope (known-answer vector, truncation,
 * bit flips, forgery, canonical form) and the property test of the one
 * version order.
 */
#include "envelope.h"
#include "mpjson.h"
#include "selftest.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void s_test_limits(void);

static void
s_fixed_keys(uint8_t pk[ENV_PKBYTES], uint8_t sk[ENV_SKBYTES], uint8_t first)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(first + i);
    crypto_sign_seed_keypair(pk, sk, seed);
}

static void
s_sample(entry_hdr_t *h, json_t **body, const uint8_t pk[ENV_PKBYTES])
{
    memset(h, 0, sizeof(*h));
    memcpy(h->origin, pk, ENV_PKBYTES);
    strcpy(h->id, "org-glanzwerk");
    h->kind = KIND_ORGANISATION;
    h->seq = 7;
    h->ts = 1800000000000ULL;
    *body = json_pack("{s:{s:s, s:s}, s:s, s:s, s:[s]}", "name", "de", "Glanzwerk St. P\xc3\xb6lten",
                      "en", "Glanzwerk", "country", "AT", "region", "AT123", "cpv", "90910000-9");
}

/* Compares the envelope's hex with the vector file. */
static void
s_vector(const msgpack_sbuffer *env)
{
    char path[512], *hex = xmalloc(2 * env->size + 2), line[4096] = "";
    to_hex((const uint8_t *)env->data, env->size, hex);
    snprintf(path, sizeof(path), "%s/entry.exp", SOCDIR_VECTORS);
    FILE *f = fopen(path, "r");
    if (f == NULL && getenv("SOCDIR_WRITE_VECTORS")) {
        f = fopen(path, "w");
        fprintf(f, "%s\n", hex);
        fclose(f);
        f = fopen(path, "r");
    }
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fgets(line, sizeof(line), f) != NULL);
        line[strcspn(line, "\n")] = '\0';
        CHECK(strcmp(line, hex) == 0);
        fclose(f);
    }
    free(hex);
}

/* envelope_verify_all on a batch big enough for the helper threads, with
 * forged signatures at scattered places (the version id of one sample
 * signed by another key): ok[] must match envelope_verify one by one, in
 * every round (the helpers are reused). */
static void
s_verify_all(const uint8_t sk[ENV_SKBYTES], const uint8_t sk2[ENV_SKBYTES],
             const uint8_t pk[ENV_PKBYTES])
{
    enum { N = 300 };
    msgpack_sbuffer bufs[N];
    envelope_t envs[N];
    const envelope_t *ptrs[N];
    bool ok[N];
    char err[256];
    entry_hdr_t h;
    json_t *body;
    uint8_t vid[ENV_VIDBYTES];

    for (int i = 0; i < N; i++) {
        s_sample(&h, &body, pk);
        h.seq = (uint64_t)i + 1;
        /* Every 7th and the last are signed with the wrong key. */
        bool forged = i % 7 == 3 || i == N - 1;
        CHECK(envelope_seal(&h, body, forged ? sk2 : sk, &bufs[i], vid, err, sizeof(err)) == 0);
        CHECK(envelope_open((const uint8_t *)bufs[i].data, bufs[i].size, &envs[i], err, sizeof(err)) == 0);
        ptrs[i] = &envs[i];
        json_decref(body);
    }
    for (int round = 0; round < 3; round++) {
        size_t n = round == 2 ? 5 : N;     /* the inline path too */
        memset(ok, round == 1, sizeof(ok));
        envelope_verify_all(ptrs, n, ok);
        int wrong = 0;
        for (size_t i = 0; i < n; i++)
            wrong += ok[i] != (envelope_verify(&envs[i]) == 0);
        CHECK(wrong == 0);
        CHECK(!ok[3] && ok[4]);
        CHECK(n < N || !ok[N - 1]);
    }
    for (int i = 0; i < N; i++) {
        envelope_clear(&envs[i]);
        msgpack_sbuffer_destroy(&bufs[i]);
    }
}

int
envelope_test(bool verbose)
{
    uint8_t pk[ENV_PKBYTES], sk[ENV_SKBYTES], pk2[ENV_PKBYTES], sk2[ENV_SKBYTES], vid[ENV_VIDBYTES];
    char err[256];
    entry_hdr_t h;
    json_t *body;
    msgpack_sbuffer env;
    envelope_t e;

    s_fixed_keys(pk, sk, 1);
    s_fixed_keys(pk2, sk2, 101);
    s_sample(&h, &body, pk);
    CHECK(envelope_seal(&h, body, sk, &env, vid, err, sizeof(err)) == 0);
    s_vector(&env);

    /* Open gives back every field, the same version id, a valid signature. */
    CHECK(envelope_open((const uint8_t *)env.data, env.size, &e, err, sizeof(err)) == 0);
    CHECK(memcmp(e.hdr.origin, pk, ENV_PKBYTES) == 0 && strcmp(e.hdr.id, h.id) == 0);
    CHECK(e.hdr.kind == KIND_ORGANISATION && e.hdr.seq == 7 && e.hdr.ts == h.ts && !e.hdr.deleted);
    CHECK(memcmp(e.vid, vid, ENV_VIDBYTES) == 0);
    CHECK(json_equal(e.body, body));
    CHECK(envelope_verify(&e) == 0);
    /* The bound a client checks is never below the payload, at most a
     * few bytes above (seq and ts packed at their largest). */
    msgpack_sbuffer packed;
    CHECK(mpjson_encode(body, &packed, err, sizeof(err)) == 0);
    size_t bound = envelope_payload_bound(h.id, "organisation", packed.size);
    CHECK(bound >= e.payload_len && bound <= e.payload_len + 16);
    msgpack_sbuffer_destroy(&packed);
    envelope_clear(&e);
    s_verify_all(sk, sk2, pk);

    /* Every truncated prefix is malformed. */
    for (size_t n = 0; n < env.size; n++)
        CHECK(envelope_open((const uint8_t *)env.data, n, &e, err, sizeof(err)) == -2);

    /* Every single flipped bit is refused: malformed, or a bad signature. */
    uint8_t *copy = xmalloc(env.size);
    int flips = 0, refused = 0;
    for (size_t i = 0; i < env.size; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, env.data, env.size);
            copy[i] ^= (uint8_t)(1u << bit);
            flips++;
            int rc = envelope_open(copy, env.size, &e, err, sizeof(err));
            if (rc == -2 || (rc == 0 && envelope_verify(&e) != 0))
                refused++;
            else if (verbose)
                fprintf(stderr, "flip at %zu bit %d accepted\n", i, bit);
            envelope_clear(&e);
        }
    }
    CHECK(refused == flips);
    free(copy);

    /* Signed by another key but claiming this origin: refused. */
    msgpack_sbuffer forged;
    CHECK(envelope_seal(&h, body, sk2, &forged, vid, err, sizeof(err)) == 0);
    CHECK(envelope_open((const uint8_t *)forged.data, forged.size, &e, err, sizeof(err)) == 0);
    CHECK(envelope_verify(&e) == -1);
    envelope_clear(&e);
    msgpack_sbuffer_destroy(&forged);

    /* A payload with a non-minimal integer is not canonical: refused. */
    msgpack_sbuffer p, outer;
    msgpack_packer pk_;
    msgpack_sbuffer_init(&p);
    msgpack_packer_init(&pk_, &p, msgpack_sbuffer_write);
    msgpack_pack_array(&pk_, 8);
    msgpack_pack_uint64(&pk_, 1);
    msgpack_pack_bin(&pk_, 32);
    msgpack_pack_bin_body(&pk_, pk, 32);
    msgpack_pack_str(&pk_, 1);
    msgpack_pack_str_body(&pk_, "x", 1);
    msgpack_pack_str(&pk_, 5);
    msgpack_pack_str_body(&pk_, "offer", 5);
    msgpack_pack_fix_uint64(&pk_, 3);           /* 9 bytes where 1 would do */
    msgpack_pack_uint64(&pk_, 1);
    msgpack_pack_false(&pk_);
    msgpack_pack_map(&pk_, 0);
    msgpack_sbuffer_init(&outer);
    msgpack_packer_init(&pk_, &outer, msgpack_sbuffer_write);
    msgpack_pack_array(&pk_, 2);
    msgpack_pack_bin(&pk_, p.size);
    msgpack_pack_bin_body(&pk_, p.data, p.size);
    msgpack_pack_bin(&pk_, 64);
    msgpack_pack_bin_body(&pk_, sk, 64);        /* any 64 bytes: never looked at */
    CHECK(envelope_open((const uint8_t *)outer.data, outer.size, &e, err, sizeof(err)) == -2);
    CHECK(strstr(err, "canonical") != NULL);
    msgpack_sbuffer_destroy(&p);
    msgpack_sbuffer_destroy(&outer);

    /* An oversized body is refused when sealing. */
    char *big = xmalloc(ENTRY_BODY_MAX + 10);
    memset(big, 'a', ENTRY_BODY_MAX + 9);
    big[ENTRY_BODY_MAX + 9] = '\0';
    json_t *huge = json_pack("{s:{s:s}}", "description", "en", big);
    msgpack_sbuffer none;
    CHECK(envelope_seal(&h, huge, sk, &none, vid, err, sizeof(err)) == -1 && strstr(err, "limit"));
    json_decref(huge);
    free(big);

    msgpack_sbuffer_destroy(&env);
    json_decref(body);
    s_test_limits();
    return 0;
}

/* ---- the limits of PROTOCOL.md 2, at their edges ---- */

/* envelope_check's verdict on a raw envelope whose body is JSON text
 * packed as msgpack (keys sorted), or body bytes when json is NULL. */
static env_verdict_t
s_verdict(const uint8_t *pk, const uint8_t *sk, uint64_t seq, bool deleted, const char *json,
          const void *bytes, size_t nbytes)
{
    msgpack_sbuffer body, env;
    envelope_t e;
    char err[ENTRY_ERR_MAX];
    uint64_t now = 1800000000000ULL;
    if (json != NULL) {
        json_t *v = json_loads(json, 0, NULL);
        CHECK(v != NULL && mpjson_encode(v, &body, err, sizeof(err)) == 0);
        json_decref(v);
    } else {
        msgpack_sbuffer_init(&body);
        msgpack_sbuffer_write(&body, bytes, nbytes);
    }
    selftest_raw_envelope(&env, pk, sk, "org", seq, now, deleted, body.data, body.size);
    env_verdict_t v = envelope_check((const uint8_t *)env.data, env.size, now, &e, err, sizeof(err));
    if (v == ENV_ACCEPT)
        envelope_clear(&e);
    msgpack_sbuffer_destroy(&body);
    msgpack_sbuffer_destroy(&env);
    return v;
}

/* {"country":"AT","name":{"en":"x"}, KEY: nested} with the given depth of
 * the whole body (the body map is level 1). */
static char *
s_nested(int depth, size_t keylen)
{
    char *s = xmalloc(64 + keylen + 4 * (size_t)depth);
    char *key = xmalloc(keylen + 1);
    memset(key, 'k', keylen);
    key[keylen] = '\0';
    int n = sprintf(s, "{\"country\":\"AT\",\"name\":{\"en\":\"x\"},\"%s\":", key);
    for (int i = 1; i < depth; i++)
        n += sprintf(s + n, "[");
    n += sprintf(s + n, "1");
    for (int i = 1; i < depth; i++)
        n += sprintf(s + n, "]");
    sprintf(s + n, "}");
    free(key);
    return s;
}

static void
s_test_limits(void)
{
    uint8_t pk[ENV_PKBYTES], sk[ENV_SKBYTES];
    const char *ok = "{\"country\":\"AT\",\"name\":{\"en\":\"x\"}}";
    s_fixed_keys(pk, sk, 40);

    /* seq: 1 .. 2^53 - 1 */
    CHECK(s_verdict(pk, sk, 1, false, ok, NULL, 0) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, ENV_SEQ_MAX, false, ok, NULL, 0) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, 0, false, ok, NULL, 0) == ENV_MALFORMED);
    CHECK(s_verdict(pk, sk, ENV_SEQ_MAX + 1, false, ok, NULL, 0) == ENV_MALFORMED);
    CHECK(s_verdict(pk, sk, (UINT64_C(1) << 63) - 1, false, ok, NULL, 0) == ENV_MALFORMED);
    CHECK(s_verdict(pk, sk, UINT64_MAX, false, ok, NULL, 0) == ENV_MALFORMED);

    /* Nesting: a body of ENTRY_DEPTH_MAX levels is fine, one more is not;
     * entry_validate (what the CLI and a local publish check) agrees. */
    char *deep = s_nested(ENTRY_DEPTH_MAX, 1), *deeper = s_nested(ENTRY_DEPTH_MAX + 1, 1);
    char err[ENTRY_ERR_MAX];
    CHECK(s_verdict(pk, sk, 2, false, deep, NULL, 0) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, 2, false, deeper, NULL, 0) == ENV_MALFORMED);
    json_t *e = json_loads(deep, 0, NULL);
    json_object_set_new(e, "id", json_string("x"));
    json_object_set_new(e, "kind", json_string("organisation"));
    CHECK(entry_validate(e, err, sizeof(err)) == 0);
    json_decref(e);
    e = json_loads(deeper, 0, NULL);
    json_object_set_new(e, "id", json_string("x"));
    json_object_set_new(e, "kind", json_string("organisation"));
    CHECK(entry_validate(e, err, sizeof(err)) == -1 && strstr(err, "deeper than 30"));
    /* ... and whatever nests ENTRY_DEPTH_MAX levels fits in a reply. */
    json_t *reply = json_pack("{s:b, s:[o]}", "ok", 1, "entries", e);
    msgpack_sbuffer out;
    CHECK(mpjson_encode(reply, &out, err, sizeof(err)) == -1);   /* 31 levels + 2: too deep */
    json_decref(reply);
    e = json_loads(deep, 0, NULL);
    reply = json_pack("{s:b, s:[o]}", "ok", 1, "entries", e);
    CHECK(mpjson_encode(reply, &out, err, sizeof(err)) == 0);
    json_t *back = mpjson_decode(out.data, out.size, err, sizeof(err));
    CHECK(back != NULL && json_equal(back, reply));
    json_decref(back);
    json_decref(reply);
    msgpack_sbuffer_destroy(&out);
    free(deep);
    free(deeper);

    /* Map keys: up to ENTRY_KEY_MAX bytes. */
    char *k255 = s_nested(1, ENTRY_KEY_MAX), *k256 = s_nested(1, ENTRY_KEY_MAX + 1);
    CHECK(s_verdict(pk, sk, 3, false, k255, NULL, 0) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, 3, false, k256, NULL, 0) == ENV_MALFORMED);
    e = json_loads(k256, 0, NULL);
    json_object_set_new(e, "id", json_string("x"));
    json_object_set_new(e, "kind", json_string("organisation"));
    CHECK(entry_validate(e, err, sizeof(err)) == -1 && strstr(err, "256 bytes"));
    json_decref(e);
    free(k255);
    free(k256);

    /* Floats: float64 only, finite. */
    static const uint8_t f64[] = { 0x83, 0xa1, 'x', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,
        0xa7, 'c', 'o', 'u', 'n', 't', 'r', 'y', 0xa2, 'A', 'T',
        0xa4, 'n', 'a', 'm', 'e', 0x81, 0xa2, 'e', 'n', 0xa1, 'x' };
    uint8_t f32[sizeof(f64) - 4], nan[sizeof(f64)];
    memcpy(f32, f64, 3);
    f32[3] = 0xca;
    memcpy(f32 + 4, (const uint8_t[]){ 0x3f, 0xc0, 0, 0 }, 4);
    memcpy(f32 + 8, f64 + 12, sizeof(f64) - 12);
    memcpy(nan, f64, sizeof(f64));
    nan[4] = 0x7f;
    CHECK(s_verdict(pk, sk, 4, false, NULL, f64, sizeof(f64)) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, 4, false, NULL, f32, sizeof(f32)) == ENV_MALFORMED);
    CHECK(s_verdict(pk, sk, 4, false, NULL, nan, sizeof(nan)) == ENV_MALFORMED);

    /* A tombstone's body is an empty map. */
    CHECK(s_verdict(pk, sk, 5, true, "{}", NULL, 0) == ENV_ACCEPT);
    CHECK(s_verdict(pk, sk, 5, true, ok, NULL, 0) == ENV_INVALID);
    /* A live body is validated; a bad signature is found before that. */
    CHECK(s_verdict(pk, sk, 6, false, "{\"name\":{\"en\":\"x\"}}", NULL, 0) == ENV_INVALID);

    /* Payload: at most ENV_PAYLOAD_MAX bytes, checked on opening. The
     * payload's fields before the body take 64 bytes (seq 7, a 9-byte ts,
     * id "org"); an unknown field "pad" fills the body to the limit, or
     * one byte over. */
    for (int extra = 0; extra < 2; extra++) {
        msgpack_sbuffer body, env;
        envelope_t en;
        json_t *b = json_pack("{s:s, s:{s:s}, s:s}", "country", "AT", "name", "en", "x", "pad", "");
        CHECK(mpjson_encode(b, &body, err, sizeof(err)) == 0);
        size_t fixed = 64 + body.size + 2;  /* a pad of 256 bytes and more has a 3-byte header */
        msgpack_sbuffer_destroy(&body);
        size_t pad = ENV_PAYLOAD_MAX - fixed + (size_t)extra;
        char *text = xmalloc(pad + 1);
        memset(text, 'p', pad);
        text[pad] = '\0';
        json_object_set_new(b, "pad", json_string(text));
        free(text);
        CHECK(mpjson_encode(b, &body, err, sizeof(err)) == 0);
        json_decref(b);
        selftest_raw_envelope(&env, pk, sk, "org", 7, 1800000000000ULL, false, body.data, body.size);
        int rc = envelope_open((const uint8_t *)env.data, env.size, &en, err, sizeof(err));
        CHECK(extra == 0 ? rc == 0 : rc == -2);
        CHECK(extra == 0 ? en.payload_len == ENV_PAYLOAD_MAX : strstr(err, "more than 49152") != NULL);
        if (rc == 0)
            envelope_clear(&en);
        msgpack_sbuffer_destroy(&body);
        msgpack_sbuffer_destroy(&env);
    }
}

/* ---- the order of versions ---- */

static int
s_sign(int x)
{
    return (x > 0) - (x < 0);
}

static void
s_random_version(entry_version_t *v)
{
    v->seq = 1 + randombytes_uniform(4);
    v->ts = 1 + randombytes_uniform(3);
    v->deleted = randombytes_uniform(2);
    memset(v->vid, 0, ENV_VIDBYTES);
    v->vid[0] = (uint8_t)randombytes_uniform(3);     /* many ties on purpose */
    v->vid[31] = (uint8_t)randombytes_uniform(2);
}

static const entry_version_t *
s_newest(const entry_version_t *v, const int *order, int n)
{
    const entry_version_t *best = &v[order[0]];
    for (int i = 1; i < n; i++)
        if (entry_version_cmp(&v[order[i]], best) > 0)
            best = &v[order[i]];
    return best;
}

int
order_test(bool verbose)
{
    enum { N = 24, ROUNDS = 300 };
    entry_version_t v[N];
    int order[N];
    (void)verbose;

    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < N; i++)
            s_random_version(&v[i]);
        for (int i = 0; i < N; i++) {
            CHECK(entry_version_cmp(&v[i], &v[i]) == 0);
            for (int j = 0; j < N; j++) {
                int ij = entry_version_cmp(&v[i], &v[j]);
                /* antisymmetric, and equal only when identical */
                CHECK(s_sign(ij) == -s_sign(entry_version_cmp(&v[j], &v[i])));
                CHECK((ij == 0) == (v[i].seq == v[j].seq && v[i].ts == v[j].ts &&
                                    v[i].deleted == v[j].deleted &&
                                    memcmp(v[i].vid, v[j].vid, ENV_VIDBYTES) == 0));
                /* higher seq always wins */
                if (v[i].seq > v[j].seq)
                    CHECK(ij > 0);
                /* at equal seq and ts a tombstone wins */
                if (v[i].seq == v[j].seq && v[i].ts == v[j].ts && v[i].deleted && !v[j].deleted)
                    CHECK(ij > 0);
                for (int k = 0; k < N; k += 5)      /* transitive */
                    if (ij > 0 && entry_version_cmp(&v[j], &v[k]) > 0)
                        CHECK(entry_version_cmp(&v[i], &v[k]) > 0);
            }
        }
        /* The winner does not depend on arrival order. */
        for (int i = 0; i < N; i++)
            order[i] = i;
        const entry_version_t *first = s_newest(v, order, N);
        for (int shuffle = 0; shuffle < 10; shuffle++) {
            for (int i = N - 1; i > 0; i--) {
                int j = (int)randombytes_uniform((uint32_t)i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            CHECK(entry_version_cmp(s_newest(v, order, N), first) == 0);
        }
    }
    CHECK(hlc_next(100, 50) == 100 && hlc_next(100, 500) == 500);

    /* Version sums do not depend on order and undo exactly. */
    uint8_t a[ENV_VIDBYTES] = { 0 }, b[ENV_VIDBYTES] = { 0 }, zero[ENV_VIDBYTES] = { 0 };
    uint8_t x[ENV_VIDBYTES], y[ENV_VIDBYTES];
    randombytes_buf(x, sizeof(x));
    randombytes_buf(y, sizeof(y));
    vid_sum_add(a, x);
    vid_sum_add(a, y);
    vid_sum_add(b, y);
    vid_sum_add(b, x);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    vid_sum_sub(a, x);
    vid_sum_sub(a, y);
    CHECK(memcmp(a, zero, sizeof(a)) == 0);
    return 0;
}
