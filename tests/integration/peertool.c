/*
 * peertool.c: test tool. Dials a node's peer endpoint as a federation
 * member would (CURVE with the member's own key, so the node's ZAP handler
 * admits it), greets it with HELLO and then sends what a misbehaving or
 * compromised member could send, so tests can check the node refuses it,
 * counts it and goes on.
 *
 * usage: peertool KEYDIR ENDPOINT SERVER_NODE_ID CMD [ARG]
 *   KEYDIR            a node data directory holding the member's node.key
 *   ENDPOINT          the server's listen endpoint (DATA/listen.endpoint)
 *   SERVER_NODE_ID    the server's node id: its CURVE key is derived from it
 *   CMD:
 *     hello               the greeting only
 *     forge-foreign       PUSH an entry whose origin is a fresh key, no member
 *     forge-sig ORIGIN_ID PUSH an entry claiming ORIGIN_ID, signed by a fresh key
 *     garbage             a frame that is not msgpack
 *     oversize            a frame of WIRE_MAX + 1 bytes
 *     push-no-hello       a PUSH of an entry of the member's own, valid, as the
 *                         first frame on the connection (no HELLO, no SYNC)
 *     push-seq SEQ        a PUSH of the member's own entry "seq-SEQ" with seq SEQ
 *                         (signed as it is, even out of range)
 *     push-deep LEVELS    a PUSH of the member's own entry "deep-LEVELS" whose body
 *                         nests LEVELS levels (the body map is level 1)
 *     push-json FILE      one PUSH of the member's own entries, one per line of the
 *                         NDJSON FILE ({"id", "kind" (default organisation), body
 *                         fields}), signed as they are, valid or not, seqs rising
 *     store-legacy FILE   no network: writes the entries of FILE (as for push-json),
 *                         unchecked, into the database ENDPOINT names (the node
 *                         stopped), as a node of older rules would have stored them
 * Prints ORIGIN_ID/ID of a forged entry on stdout. Sends HELLO and SYNC
 * first and waits for the node's answer (at most 10 s; a banned member gets
 * none, which is only noted on stderr), then sends CMD's frame, reads
 * replies for about a second and exits 0. Exit 2 on a bad command line or
 * key; this is a tool, the tests assert on what the node reports.
 */
#include "ident.h"
#include "mpjson.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define GREETING_WAIT_MS 10000
#define AFTER_WAIT_MS 1000

/* Receives and drops frames from the node until timeout_ms passes, or
 * until the first one if first is set. Returns the number received. */
static int
s_drain(void *sock, int timeout_ms, int first)
{
    int got = 0;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        zmq_pollitem_t item = { sock, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, (long)(deadline - now)) <= 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) >= 0)
            got++;
        zmq_msg_close(&msg);
        if (first && got > 0)
            break;
    }
    return got;
}

/* Seals an organisation entry claiming origin, signed with sk, and wraps
 * it in a PUSH frame. Prints ORIGIN_ID/ID. */
static int
s_forge_push(msgpack_sbuffer *out, const uint8_t origin[ENV_PKBYTES],
             const uint8_t sk[ENV_SKBYTES], const char *id)
{
    entry_hdr_t h = { .kind = KIND_ORGANISATION, .seq = 1, .ts = now_ms(), .deleted = false };
    msgpack_sbuffer env;
    msgpack_packer pk;
    uint8_t vid[ENV_VIDBYTES];
    char err[256], oid[NODEID_LEN + 1];

    memcpy(h.origin, origin, ENV_PKBYTES);
    snprintf(h.id, sizeof(h.id), "%s", id);
    json_t *body = json_pack("{s:{s:s}, s:s}", "name", "en", "Forged by peertool", "country", "AT");
    int rc = envelope_seal(&h, body, sk, &env, vid, err, sizeof(err));
    json_decref(body);
    if (rc != 0) {
        fprintf(stderr, "peertool: seal: %s\n", err);
        return -1;
    }
    wire_batch_begin(out, &pk, WIRE_PUSH, 0, 1);
    wire_batch_add(&pk, (const uint8_t *)env.data, env.size);
    msgpack_sbuffer_destroy(&env);
    key_to_id(origin, oid);
    printf("%s/%s\n", oid, id);
    return 0;
}

/* An envelope of an entry of the member itself (origin and key from
 * ident), kind, seq and body as given, signed over exactly those bytes
 * (not through envelope_seal, which refuses what this tool must be able
 * to send), into env (initialised here). */
static void
s_own_envelope(msgpack_sbuffer *env, const ident_t *ident, const uint8_t sk[ENV_SKBYTES],
               const char *id, const char *kind, uint64_t seq, const json_t *body)
{
    msgpack_sbuffer p;
    msgpack_packer pk;
    uint8_t vid[ENV_VIDBYTES], msg[sizeof(ENV_SIG_DOMAIN) + ENV_VIDBYTES], sig[ENV_SIGBYTES];
    char err[256];

    msgpack_sbuffer_init(&p);
    msgpack_packer_init(&pk, &p, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 8);
    msgpack_pack_uint64(&pk, ENV_FORMAT);
    msgpack_pack_bin(&pk, ENV_PKBYTES);
    msgpack_pack_bin_body(&pk, ident_pk(ident), ENV_PKBYTES);
    msgpack_pack_str(&pk, strlen(id));
    msgpack_pack_str_body(&pk, id, strlen(id));
    msgpack_pack_str(&pk, strlen(kind));
    msgpack_pack_str_body(&pk, kind, strlen(kind));
    msgpack_pack_uint64(&pk, seq);
    msgpack_pack_uint64(&pk, now_ms());
    msgpack_pack_false(&pk);
    if (mpjson_pack(&pk, body, MPJSON_MAX_DEPTH, err, sizeof(err)) != 0)
        fprintf(stderr, "peertool: body: %s\n", err);
    crypto_generichash(vid, sizeof(vid), (const uint8_t *)p.data, p.size, NULL, 0);
    memcpy(msg, ENV_SIG_DOMAIN, sizeof(ENV_SIG_DOMAIN));
    memcpy(msg + sizeof(ENV_SIG_DOMAIN), vid, sizeof(vid));
    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
    msgpack_sbuffer_init(env);
    msgpack_packer_init(&pk, env, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_bin(&pk, p.size);
    msgpack_pack_bin_body(&pk, p.data, p.size);
    msgpack_pack_bin(&pk, sizeof(sig));
    msgpack_pack_bin_body(&pk, sig, sizeof(sig));
    msgpack_sbuffer_destroy(&p);
}

/* A PUSH of one entry of the member itself (s_own_envelope). */
static void
s_own_push(msgpack_sbuffer *out, const ident_t *ident, const uint8_t sk[ENV_SKBYTES],
           const char *id, uint64_t seq, const json_t *body)
{
    msgpack_sbuffer env;
    msgpack_packer pk;
    s_own_envelope(&env, ident, sk, id, "organisation", seq, body);
    wire_batch_begin(out, &pk, WIRE_PUSH, 0, 1);
    wire_batch_add(&pk, (const uint8_t *)env.data, env.size);
    msgpack_sbuffer_destroy(&env);
}

/* The member's own envelopes of the NDJSON file path, one a line, seqs
 * rising from seq, into envs (n set). Returns 0, or -1 after a message. */
static int
s_own_file(const char *path, const ident_t *ident, const uint8_t sk[ENV_SKBYTES], uint64_t seq,
           msgpack_sbuffer *envs, size_t max, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[60000];
    *n = 0;
    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL && *n < max) {
        json_error_t jerr;
        json_t *e = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        const char *id = json_string_value(json_object_get(e, "id"));
        if (id == NULL) {
            fprintf(stderr, "peertool: %s: no id in '%s'\n", path, line);
            json_decref(e);
            fclose(f);
            return -1;
        }
        const char *kind = json_string_value(json_object_get(e, "kind"));
        char idbuf[ENTRY_ID_MAX + 1], kindbuf[32];
        snprintf(idbuf, sizeof(idbuf), "%s", id);
        snprintf(kindbuf, sizeof(kindbuf), "%s", kind ? kind : "organisation");
        json_object_del(e, "id");
        json_object_del(e, "kind");
        s_own_envelope(&envs[*n], ident, sk, idbuf, kindbuf, seq + *n, e);
        (*n)++;
        json_decref(e);
    }
    fclose(f);
    return 0;
}

/* The envelopes of path, as push-json makes them, stored unchecked in the
 * database at db under the member's origin, arrived from the member. */
static int
s_store_legacy(const char *db, const char *path, const ident_t *ident, const uint8_t sk[ENV_SKBYTES])
{
    msgpack_sbuffer envs[64];
    size_t n;
    char err[256];
    int rc = -1;
    store_t *st = NULL;

    if (s_own_file(path, ident, sk, now_ms() % 1000000 + 1, envs, 64, &n) != 0)
        goto out;
    if ((st = store_open(db, err, sizeof(err))) == NULL) {
        fprintf(stderr, "peertool: %s: %s\n", db, err);
        goto out;
    }
    int64_t via = store_origin(st, ident_pk(ident), "legacy");
    if (via < 0 || store_begin(st) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        envelope_t env;
        if (envelope_open_stored((const uint8_t *)envs[i].data, envs[i].size, &env, err, sizeof(err)) != 0) {
            fprintf(stderr, "peertool: entry %zu does not open: %s\n", i + 1, err);
            store_rollback(st);
            goto out;
        }
        int put = store_put(st, (const uint8_t *)envs[i].data, envs[i].size, &env, via);
        envelope_clear(&env);
        if (put < 0) {
            fprintf(stderr, "peertool: store: %s\n", store_errmsg(st));
            store_rollback(st);
            goto out;
        }
    }
    rc = store_commit(st);
out:
    if (rc != 0 && st != NULL)
        fprintf(stderr, "peertool: store: %s\n", store_errmsg(st));
    store_close(&st);
    for (size_t i = 0; i < n; i++)
        msgpack_sbuffer_destroy(&envs[i]);
    return rc;
}

/* The member's secret key, read from KEYDIR/node.key (the 64-byte
 * libsodium secret key ident.c keeps there): this tool signs raw payloads
 * that envelope_seal would refuse. Returns 0 or -1. */
static int
s_read_key(const char *dir, uint8_t sk[ENV_SKBYTES])
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, IDENT_FILE);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(sk, 1, ENV_SKBYTES, f) : 0;
    if (f)
        fclose(f);
    if (n != ENV_SKBYTES)
        fprintf(stderr, "peertool: cannot read the key in %s\n", path);
    return n == ENV_SKBYTES ? 0 : -1;
}

/* {"country": "AT", "name": {"en": ...}, "nest": [[...]]} of levels levels. */
static json_t *
s_deep_body(int levels)
{
    json_t *body = json_pack("{s:s, s:{s:s}}", "country", "AT", "name", "en", "Deep by peertool");
    if (levels >= 2) {
        json_t *inner = json_array(), *top = inner;
        for (int i = 2; i < levels; i++) {
            json_t *next = json_array();
            json_array_append_new(inner, next);
            inner = next;
        }
        json_array_append_new(inner, json_integer(1));
        json_object_set_new(body, "nest", top);
    }
    return body;
}

static int
s_usage(void)
{
    fprintf(stderr, "usage: peertool KEYDIR ENDPOINT SERVER_NODE_ID"
                    " hello|forge-foreign|forge-sig ORIGIN_ID|garbage|oversize|push-no-hello"
                    "|push-seq SEQ|push-deep LEVELS|push-json FILE|store-legacy FILE\n");
    return 2;
}

int
main(int argc, char **argv)
{
    char err[1024];
    uint8_t server_ed[ENV_PKBYTES], server_curve[32], pk[32], sk[32];
    uint8_t fresh_pk[ENV_PKBYTES], fresh_sk[ENV_SKBYTES];

    if (argc < 5 || argc > 6)
        return s_usage();
    const char *cmd = argv[4], *arg = argc == 6 ? argv[5] : NULL;
    bool takes_arg = strcmp(cmd, "forge-sig") == 0 || strcmp(cmd, "push-seq") == 0 ||
                     strcmp(cmd, "push-deep") == 0 || strcmp(cmd, "push-json") == 0 ||
                     strcmp(cmd, "store-legacy") == 0;
    if (takes_arg != (arg != NULL))
        return s_usage();
    if (sodium_init() < 0) {
        fprintf(stderr, "peertool: libsodium does not initialise\n");
        return 2;
    }
    ident_t *ident = ident_load(argv[1], err, sizeof(err));
    if (ident == NULL) {
        fprintf(stderr, "peertool: %s\n", err);
        return 2;
    }
    if (ident_curve(ident, pk, sk) != 0 || key_from_id(argv[3], server_ed) != 0 ||
        crypto_sign_ed25519_pk_to_curve25519(server_curve, server_ed) != 0) {
        fprintf(stderr, "peertool: bad key or server node id '%s'\n", argv[3]);
        ident_destroy(&ident);
        return 2;
    }

    /* store-legacy writes a database and needs no network. */
    if (strcmp(cmd, "store-legacy") == 0) {
        uint8_t own_sk[ENV_SKBYTES];
        int lrc = s_read_key(argv[1], own_sk) == 0 ? s_store_legacy(argv[2], arg, ident, own_sk) : -1;
        sodium_memzero(own_sk, sizeof(own_sk));
        ident_destroy(&ident);
        return lrc == 0 ? 0 : 2;
    }
    /* The frame to send, built before connecting. */
    msgpack_sbuffer frame;
    msgpack_sbuffer_init(&frame);
    int rc = 0;
    crypto_sign_keypair(fresh_pk, fresh_sk);
    if (strcmp(cmd, "hello") == 0) {
        ;
    } else if (strcmp(cmd, "forge-foreign") == 0) {
        rc = s_forge_push(&frame, fresh_pk, fresh_sk, "forged-foreign");
    } else if (strcmp(cmd, "forge-sig") == 0) {
        uint8_t origin[ENV_PKBYTES];
        if (key_from_id(arg, origin) != 0) {
            fprintf(stderr, "peertool: '%s' is not a node id\n", arg);
            rc = -1;
        } else {
            rc = s_forge_push(&frame, origin, fresh_sk, "forged-sig");
        }
    } else if (strcmp(cmd, "push-no-hello") == 0 || strcmp(cmd, "push-seq") == 0 ||
               strcmp(cmd, "push-deep") == 0) {
        char id[64];
        uint64_t seq = strcmp(cmd, "push-seq") == 0 ? strtoull(arg, NULL, 10) : now_ms() % 1000000 + 1;
        int levels = strcmp(cmd, "push-deep") == 0 ? atoi(arg) : 1;
        snprintf(id, sizeof(id), "%s", strcmp(cmd, "push-no-hello") == 0 ? "no-hello" : "x");
        if (strcmp(cmd, "push-seq") == 0)
            snprintf(id, sizeof(id), "seq-%s", arg);
        else if (strcmp(cmd, "push-deep") == 0)
            snprintf(id, sizeof(id), "deep-%d", levels);
        json_t *body = s_deep_body(levels);
        uint8_t own_sk[ENV_SKBYTES];
        if (s_read_key(argv[1], own_sk) != 0) {
            json_decref(body);
            rc = -1;
        } else {
            s_own_push(&frame, ident, own_sk, id, seq, body);
            sodium_memzero(own_sk, sizeof(own_sk));
        }
        if (rc == 0) {
            json_decref(body);
            key_to_id(ident_pk(ident), id);
            printf("%s\n", id);
        }
    } else if (strcmp(cmd, "push-json") == 0) {
        msgpack_sbuffer envs[64];
        msgpack_packer pk;
        uint8_t own_sk[ENV_SKBYTES];
        size_t n = 0;
        rc = s_read_key(argv[1], own_sk) == 0 &&
             s_own_file(arg, ident, own_sk, now_ms() % 1000000 + 1, envs, 64, &n) == 0 ? 0 : -1;
        sodium_memzero(own_sk, sizeof(own_sk));
        if (rc == 0) {
            wire_batch_begin(&frame, &pk, WIRE_PUSH, 0, n);
            for (size_t i = 0; i < n; i++)
                wire_batch_add(&pk, (const uint8_t *)envs[i].data, envs[i].size);
        }
        for (size_t i = 0; i < n; i++)
            msgpack_sbuffer_destroy(&envs[i]);
    } else if (strcmp(cmd, "garbage") == 0) {
        /* 0xc1 is the one byte msgpack never uses. */
        static const char junk[] = "\xc1\xc1 this is not msgpack \xff\x00\x01";
        msgpack_sbuffer_write(&frame, junk, sizeof(junk) - 1);
    } else if (strcmp(cmd, "oversize") == 0) {
        size_t n = (size_t)WIRE_MAX + 1;
        char *big = xmalloc(n);
        memset(big, 0x90, n);           /* msgpack empty arrays */
        msgpack_sbuffer_write(&frame, big, n);
        free(big);
    } else {
        msgpack_sbuffer_destroy(&frame);
        ident_destroy(&ident);
        return s_usage();
    }
    sodium_memzero(fresh_sk, sizeof(fresh_sk));
    if (rc != 0) {
        msgpack_sbuffer_destroy(&frame);
        ident_destroy(&ident);
        return 2;
    }

    void *ctx = zmq_ctx_new(), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 3000;
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_curve, 32);
    zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, pk, 32);
    zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, sk, 32);
    sodium_memzero(sk, sizeof(sk));
    if (zmq_connect(dealer, argv[2]) != 0) {
        fprintf(stderr, "peertool: connect %s: %s\n", argv[2], zmq_strerror(zmq_errno()));
        rc = 2;
        goto out;
    }
    /* Greet and pull, as a member does on connecting. The node answers
     * the SYNC at once (ENTRIES, SYNC_END): then it has taken our frames
     * and the link is up. A banned member gets no answer. push-no-hello
     * skips this. */
    if (strcmp(cmd, "push-no-hello") != 0) {
        msgpack_sbuffer greet;
        wire_hello(&greet, "peertool");
        zmq_send(dealer, greet.data, greet.size, 0);
        msgpack_sbuffer_destroy(&greet);
        wire_sync(&greet, 1, 1, NULL, 0);
        zmq_send(dealer, greet.data, greet.size, 0);
        msgpack_sbuffer_destroy(&greet);
        if (s_drain(dealer, GREETING_WAIT_MS, 1) == 0)
            fprintf(stderr, "peertool: no answer to HELLO and SYNC (banned, or not a member?)\n");
    }
    if (frame.size > 0 && zmq_send(dealer, frame.data, frame.size, 0) != (int)frame.size)
        fprintf(stderr, "peertool: send: %s\n", zmq_strerror(zmq_errno()));
    s_drain(dealer, AFTER_WAIT_MS, 0);
out:
    zmq_close(dealer);
    zmq_ctx_term(ctx);
    msgpack_sbuffer_destroy(&frame);
    ident_destroy(&ident);
    return rc;
}
