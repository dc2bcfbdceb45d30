/*
 * envelope.c: sealing, opening and ordering signed entry versions.
 *
 * Canonical form. A payload is accepted only if msgpack-c packs the decoded
 * value back into exactly the same bytes: every integer and length in its
 * smallest form, no trailing bytes. This rules out two encodings of one
 * value (and so two version ids for one logical payload) without a parser
 * of our own: the check is one msgpack_pack_object and one memcmp.
 *
 * Signing hashes first: the signed message is the 16-byte domain prefix and
 * the 32-byte version id, so a signature can never be replayed as a
 * signature over anything but a socdir payload of format 1.
 */
#include "envelope.h"
#include "mpjson.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define SIG_MSG_BYTES (sizeof(ENV_SIG_DOMAIN) + ENV_VIDBYTES)

static void
s_sig_msg(const uint8_t vid[ENV_VIDBYTES], uint8_t msg[SIG_MSG_BYTES])
{
    memcpy(msg, ENV_SIG_DOMAIN, sizeof(ENV_SIG_DOMAIN));   /* with its NUL */
    memcpy(msg + sizeof(ENV_SIG_DOMAIN), vid, ENV_VIDBYTES);
}

static void
s_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* The payload's array header and its seven fields before the body. */
static void
s_pack_header(msgpack_packer *pk, const entry_hdr_t *h, const char *kind)
{
    msgpack_pack_array(pk, 8);
    msgpack_pack_uint64(pk, ENV_FORMAT);
    msgpack_pack_bin(pk, ENV_PKBYTES);
    msgpack_pack_bin_body(pk, h->origin, ENV_PKBYTES);
    s_pack_str(pk, h->id);
    s_pack_str(pk, kind);
    msgpack_pack_uint64(pk, h->seq);
    msgpack_pack_uint64(pk, h->ts);
    if (h->deleted)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

size_t
envelope_payload_bound(const char *id, const char *kind, size_t body_size)
{
    entry_hdr_t h = { .seq = ENV_SEQ_MAX, .ts = ENV_TS_MAX };
    snprintf(h.id, sizeof(h.id), "%s", id);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_header(&pk, &h, kind);
    size_t n = sb.size + body_size;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

int
envelope_seal(const entry_hdr_t *h, const json_t *body,
              const uint8_t sk[ENV_SKBYTES], msgpack_sbuffer *out,
              uint8_t vid[ENV_VIDBYTES], char *err, size_t errlen)
{
    msgpack_sbuffer payload;
    msgpack_packer pk;
    uint8_t msg[SIG_MSG_BYTES], sig[ENV_SIGBYTES];
    int rc = -1;

    if (h->seq == 0 || h->seq > ENV_SEQ_MAX || h->ts > ENV_TS_MAX)
        return seterr(err, errlen, -1, "seq %llu or ts %llu is out of range",
                      (unsigned long long)h->seq, (unsigned long long)h->ts);
    msgpack_sbuffer_init(&payload);
    msgpack_packer_init(&pk, &payload, msgpack_sbuffer_write);
    s_pack_header(&pk, h, entry_kind_name(h->kind));
    if (mpjson_pack(&pk, body, ENTRY_DEPTH_MAX, err, errlen) != 0)
        goto out;
    if (payload.size > ENTRY_BODY_MAX) {
        seterr(err, errlen, -1, "entry is %zu bytes encoded, more than the limit of %d",
               payload.size, ENTRY_BODY_MAX);
        goto out;
    }
    crypto_generichash(vid, ENV_VIDBYTES, (const uint8_t *)payload.data, payload.size, NULL, 0);
    s_sig_msg(vid, msg);
    if (crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk) != 0) {
        seterr(err, errlen, -1, "signing failed");
        goto out;
    }
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_bin(&pk, payload.size);
    msgpack_pack_bin_body(&pk, payload.data, payload.size);
    msgpack_pack_bin(&pk, ENV_SIGBYTES);
    msgpack_pack_bin_body(&pk, sig, ENV_SIGBYTES);
    rc = 0;
out:
    msgpack_sbuffer_destroy(&payload);
    return rc;
}

/* Unpacks exactly one msgpack value filling buf, and unless trusted
 * checks that it is in canonical form (re-encoding gives the same bytes). */
static int
s_unpack_canonical(const uint8_t *buf, size_t len, msgpack_unpacked *u, bool trusted,
                   char *err, size_t errlen, const char *what)
{
    size_t off = 0;
    msgpack_sbuffer again;
    msgpack_packer pk;

    if (mpjson_check_bounds(buf, len) != 0 ||
        msgpack_unpack_next(u, (const char *)buf, len, &off) != MSGPACK_UNPACK_SUCCESS)
        return seterr(err, errlen, -2, "%s: malformed msgpack", what);
    if (off != len)
        return seterr(err, errlen, -2, "%s: %zu trailing bytes", what, len - off);
    if (trusted)
        return 0;
    msgpack_sbuffer_init(&again);
    msgpack_packer_init(&pk, &again, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, u->data);
    int same = again.size == len && memcmp(again.data, buf, len) == 0;
    msgpack_sbuffer_destroy(&again);
    if (!same)
        return seterr(err, errlen, -2, "%s: not in canonical msgpack form", what);
    return 0;
}

static int
s_str(const msgpack_object *o, char *dst, size_t dstlen)
{
    /* An empty string is never a valid id or kind; its ptr may be NULL. */
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 || o->via.str.size >= dstlen ||
        memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
        return -1;
    memcpy(dst, o->via.str.ptr, o->via.str.size);
    dst[o->via.str.size] = '\0';
    return 0;
}

/* What a body may hold (PROTOCOL.md 2.1). */
static const mpjson_rules_t s_body_rules = { ENTRY_DEPTH_MAX, ENTRY_KEY_MAX, true };

static int
s_open_payload(envelope_t *env, bool trusted, char *err, size_t errlen)
{
    msgpack_unpacked u;
    char kind[16];
    int rc;

    msgpack_unpacked_init(&u);
    rc = s_unpack_canonical(env->payload, env->payload_len, &u, trusted, err, errlen, "payload");
    if (rc != 0)
        goto out;
    rc = -2;
    const msgpack_object *a = u.data.via.array.ptr;
    if (u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 8) {
        seterr(err, errlen, -2, "payload: not an array of 8 fields");
        goto out;
    }
    if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[0].via.u64 != ENV_FORMAT) {
        seterr(err, errlen, -2, "payload: unsupported format");
        goto out;
    }
    if (a[1].type != MSGPACK_OBJECT_BIN || a[1].via.bin.size != ENV_PKBYTES) {
        seterr(err, errlen, -2, "payload: origin is not a 32-byte key");
        goto out;
    }
    memcpy(env->hdr.origin, a[1].via.bin.ptr, ENV_PKBYTES);
    if (s_str(&a[2], env->hdr.id, sizeof(env->hdr.id)) != 0 || !entry_id_valid(env->hdr.id)) {
        seterr(err, errlen, -2, "payload: bad id");
        goto out;
    }
    if (s_str(&a[3], kind, sizeof(kind)) != 0 ||
        (env->hdr.kind = entry_kind_from_name(kind)) == KIND_NONE) {
        seterr(err, errlen, -2, "payload: unknown kind");
        goto out;
    }
    if (a[4].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[4].via.u64 == 0 ||
        a[4].via.u64 > ENV_SEQ_MAX) {
        seterr(err, errlen, -2, "payload: seq is not an integer from 1 to 2^53-1");
        goto out;
    }
    if (a[5].type != MSGPACK_OBJECT_POSITIVE_INTEGER || a[5].via.u64 > ENV_TS_MAX) {
        seterr(err, errlen, -2, "payload: ts is not an integer from 0 to 2^53-1");
        goto out;
    }
    if (a[6].type != MSGPACK_OBJECT_BOOLEAN) {
        seterr(err, errlen, -2, "payload: deleted is not a boolean");
        goto out;
    }
    env->hdr.seq = a[4].via.u64;
    env->hdr.ts = a[5].via.u64;
    env->hdr.deleted = a[6].via.boolean;
    if (a[7].type != MSGPACK_OBJECT_MAP) {
        seterr(err, errlen, -2, "payload: body is not a map");
        goto out;
    }
    char inner[ENTRY_ERR_MAX];
    env->body = mpjson_from_object(&a[7], &s_body_rules, inner, sizeof(inner));
    if (env->body == NULL) {
        seterr(err, errlen, -2, "payload: body: %s", inner);
        goto out;
    }
    rc = 0;
out:
    msgpack_unpacked_destroy(&u);
    return rc;
}

static int
s_open(const uint8_t *buf, size_t len, envelope_t *env, bool trusted, char *err, size_t errlen)
{
    msgpack_unpacked u;
    int rc;

    memset(env, 0, sizeof(*env));
    if (len > ENV_MAX)
        return seterr(err, errlen, -2, "envelope: %zu bytes, more than %d", len, ENV_MAX);
    msgpack_unpacked_init(&u);
    rc = s_unpack_canonical(buf, len, &u, trusted, err, errlen, "envelope");
    if (rc != 0)
        goto out;
    const msgpack_object *a = u.data.via.array.ptr;
    if (u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size != 2 ||
        a[0].type != MSGPACK_OBJECT_BIN || a[1].type != MSGPACK_OBJECT_BIN ||
        a[1].via.bin.size != ENV_SIGBYTES) {
        rc = seterr(err, errlen, -2, "envelope: not [payload, 64-byte signature]");
        goto out;
    }
    if (a[0].via.bin.size > ENV_PAYLOAD_MAX) {
        rc = seterr(err, errlen, -2, "payload: %u bytes, more than %d", a[0].via.bin.size,
                    ENV_PAYLOAD_MAX);
        goto out;
    }
    /* The unpacked object points into buf: keep those pointers. */
    env->payload = (const uint8_t *)a[0].via.bin.ptr;
    env->payload_len = a[0].via.bin.size;
    env->sig = (const uint8_t *)a[1].via.bin.ptr;
    crypto_generichash(env->vid, ENV_VIDBYTES, env->payload, env->payload_len, NULL, 0);
    rc = s_open_payload(env, trusted, err, errlen);
out:
    msgpack_unpacked_destroy(&u);
    if (rc != 0)
        envelope_clear(env);
    return rc;
}

int
envelope_open(const uint8_t *buf, size_t len, envelope_t *env, char *err, size_t errlen)
{
    return s_open(buf, len, env, false, err, errlen);
}

int
envelope_open_stored(const uint8_t *buf, size_t len, envelope_t *env, char *err, size_t errlen)
{
    return s_open(buf, len, env, true, err, errlen);
}

int
envelope_verify(const envelope_t *env)
{
    uint8_t msg[SIG_MSG_BYTES];
    s_sig_msg(env->vid, msg);
    return crypto_sign_verify_detached(env->sig, msg, sizeof(msg), env->hdr.origin) == 0 ? 0 : -1;
}

int
envelope_validate(const envelope_t *env, uint64_t now, char *err, size_t errlen)
{
    if (env->hdr.ts > now + ENV_FUTURE_MS)
        return seterr(err, errlen, -1, "dated %llu ms ahead of this node's clock, more than %d",
                      (unsigned long long)(env->hdr.ts - now), ENV_FUTURE_MS);
    if (env->hdr.deleted)
        return json_object_size(env->body) == 0 ? 0
               : seterr(err, errlen, -1, "a tombstone with a body of %zu fields (it must be empty)",
                        json_object_size(env->body));
    return entry_validate_body(env->hdr.kind, env->body, err, errlen);
}

env_verdict_t
envelope_check(const uint8_t *buf, size_t len, uint64_t now, envelope_t *env, char *err,
               size_t errlen)
{
    if (envelope_open(buf, len, env, err, errlen) != 0)
        return ENV_MALFORMED;
    if (envelope_verify(env) != 0) {
        envelope_clear(env);
        seterr(err, errlen, -1, "the signature does not verify against the origin key");
        return ENV_BAD_SIGNATURE;
    }
    if (envelope_validate(env, now, err, errlen) != 0) {
        envelope_clear(env);
        return ENV_INVALID;
    }
    return ENV_ACCEPT;
}

const char *
envelope_verdict_name(env_verdict_t v)
{
    static const char *const names[] = { "accept", "malformed", "signature", "invalid" };
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

void
envelope_clear(envelope_t *env)
{
    json_decref(env->body);
    env->body = NULL;
}

void
envelope_version(const envelope_t *env, entry_version_t *v)
{
    v->seq = env->hdr.seq;
    v->ts = env->hdr.ts;
    v->deleted = env->hdr.deleted;
    memcpy(v->vid, env->vid, ENV_VIDBYTES);
}

int
entry_version_cmp(const entry_version_t *a, const entry_version_t *b)
{
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    if (a->deleted != b->deleted)
        return a->deleted ? 1 : -1;
    int c = memcmp(a->vid, b->vid, ENV_VIDBYTES);
    return c < 0 ? -1 : c > 0;
}

uint64_t
hlc_next(uint64_t last, uint64_t now)
{
    /* Equal readings are fine: seq orders one origin's versions, and a
     * clock that ticked +1 per write would run ahead of the wall clock
     * during bulk publishing (1M entries: 17 minutes). */
    return now > last ? now : last;
}

void
vid_sum_add(uint8_t acc[ENV_VIDBYTES], const uint8_t vid[ENV_VIDBYTES])
{
    sodium_add(acc, vid, ENV_VIDBYTES);
}

void
vid_sum_sub(uint8_t acc[ENV_VIDBYTES], const uint8_t vid[ENV_VIDBYTES])
{
    sodium_sub(acc, vid, ENV_VIDBYTES);
}
