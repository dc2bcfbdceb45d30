/*
 * envelope.h: the signed envelope, the unit that is stored and replicated.
 *
 *   envelope = [payload: bin, signature: bin(64)]
 *   payload  = [format: 1, origin: bin(32), id: str, kind: str, seq: uint,
 *               ts: uint, deleted: bool, body: map]
 *
 * The signature is Ed25519 by the origin over "socdir/entry/v1\0" followed
 * by the version id, BLAKE2b-256 of the payload bytes. Nodes store and
 * forward the exact envelope bytes and never re-encode a payload. See
 * proto/PROTOCOL.md for the byte-level rules.
 */
#ifndef SOCDIR_ENVELOPE_H
#define SOCDIR_ENVELOPE_H

#include "entry.h"

#include <jansson.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#define ENV_FORMAT      1
#define ENV_PKBYTES     crypto_sign_PUBLICKEYBYTES
#define ENV_SKBYTES     crypto_sign_SECRETKEYBYTES
#define ENV_SIGBYTES    crypto_sign_BYTES
#define ENV_VIDBYTES    crypto_generichash_BYTES    /* 32: BLAKE2b-256 */
#define ENV_MAX         (ENTRY_BODY_MAX + 1024)     /* bytes in an envelope */
#define ENV_PAYLOAD_MAX ENTRY_BODY_MAX              /* bytes in its payload */
#define ENV_SIG_DOMAIN  "socdir/entry/v1"           /* + NUL: 16 bytes */
/* seq and ts stay below 2^53, so every JSON client holds them exactly and
 * SQLite's signed 64-bit integers hold them with room to spare. */
#define ENV_SEQ_MAX     ((UINT64_C(1) << 53) - 1)
#define ENV_TS_MAX      ((UINT64_C(1) << 53) - 1)
#define ENV_FUTURE_MS   600000                      /* ts at most this far ahead */

/* The header fields of a payload. */
typedef struct {
    uint8_t origin[ENV_PKBYTES];
    char id[ENTRY_ID_MAX + 1];
    int kind;           /* entry_kind_t */
    uint64_t seq;       /* per-origin sequence, starts at 1 */
    uint64_t ts;        /* hybrid logical clock, ms since the epoch */
    bool deleted;       /* a tombstone */
} entry_hdr_t;

/* What orders two versions of one entry. */
typedef struct {
    uint64_t seq;
    uint64_t ts;
    bool deleted;
    uint8_t vid[ENV_VIDBYTES];
} entry_version_t;

/* A decoded envelope. payload and sig point into the caller's buffer, which
 * must outlive the envelope; body is owned and freed by envelope_clear. */
typedef struct {
    entry_hdr_t hdr;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *sig;
    uint8_t vid[ENV_VIDBYTES];
    json_t *body;
} envelope_t;

/* The size of a payload with this id (valid: entry_id_valid) and kind
 * and a packed body of body_size bytes, at its largest (any seq and ts):
 * what a client checks against ENV_PAYLOAD_MAX before sending. */
size_t envelope_payload_bound(const char *id, const char *kind, size_t body_size);

/* Encodes h and body into a payload, signs it with sk and packs the
 * envelope into out (initialised here; caller destroys). vid receives the
 * version id. Returns 0, or -1 with err set (body too large or too deep). */
int envelope_seal(const entry_hdr_t *h, const json_t *body,
                  const uint8_t sk[ENV_SKBYTES], msgpack_sbuffer *out,
                  uint8_t vid[ENV_VIDBYTES], char *err, size_t errlen);

/* Decodes and checks the shape of an envelope (PROTOCOL.md 2): exact
 * msgpack structure, canonical encoding (re-encoding gives the same bytes),
 * sizes, field types and ranges, id and kind valid, the body's encoding
 * (ENTRY_DEPTH_MAX levels, keys of at most ENTRY_KEY_MAX bytes, floats as
 * float64). Does not verify the signature nor validate the body's fields.
 * Returns 0, or -2 with err set when malformed. */
int envelope_open(const uint8_t *buf, size_t len, envelope_t *env,
                  char *err, size_t errlen);

/* envelope_open for bytes that passed it before and were kept unchanged
 * (the store's): the same decoding and checks, without re-encoding to
 * check the canonical form. Never for bytes from outside. */
int envelope_open_stored(const uint8_t *buf, size_t len, envelope_t *env, char *err, size_t errlen);

/* Validates an opened envelope's content (PROTOCOL.md 2.2): a tombstone's
 * body is an empty map, a live body passes entry_validate_body, and ts is
 * at most ENV_FUTURE_MS ahead of now (ms since the epoch). The one
 * validator for versions from peers. Returns 0, or -1 with err set. */
int envelope_validate(const envelope_t *env, uint64_t now, char *err, size_t errlen);

/* The verdict on an envelope from outside, checked the way a node checks
 * one before storing it, less what depends on the node's state (members,
 * versions held): PROTOCOL.md 2.5. */
typedef enum {
    ENV_ACCEPT = 0,
    ENV_MALFORMED,          /* envelope_open refused it: counter malformed */
    ENV_BAD_SIGNATURE,      /* the origin did not sign it: refused_signature */
    ENV_INVALID             /* envelope_validate refused it: refused_invalid */
} env_verdict_t;

/* Opens, verifies and validates buf, in the node's order. On ENV_ACCEPT,
 * env holds the opened envelope (clear it); otherwise it is cleared and err
 * says why. */
env_verdict_t envelope_check(const uint8_t *buf, size_t len, uint64_t now, envelope_t *env,
                             char *err, size_t errlen);

/* The verdict's name: "accept", "malformed", "signature", "invalid". */
const char *envelope_verdict_name(env_verdict_t v);

/* Verifies the signatures of n opened envelopes, on every core (helper
 * threads start on first use): ok[i] is true if envs[i] verifies. Safe to
 * call from one thread at a time. */
void envelope_verify_all(const envelope_t *const *envs, size_t n, bool *ok);

/* Verifies the signature against env->hdr.origin. Returns 0 or -1. */
int envelope_verify(const envelope_t *env);

/* Frees the body; safe to repeat. */
void envelope_clear(envelope_t *env);

/* The version of an opened envelope. */
void envelope_version(const envelope_t *env, entry_version_t *v);

/* The one order of versions: higher seq wins, then higher ts, then a
 * tombstone over a live version, then the greater version id. Returns <0,
 * 0 or >0 as a is older than, the same as, or newer than b. */
int entry_version_cmp(const entry_version_t *a, const entry_version_t *b);

/* Next hybrid-logical-clock reading: max(last, now), never backwards and
 * never ahead of the wall clock unless an earlier reading was. */
uint64_t hlc_next(uint64_t last, uint64_t now);

/* Version-id sums for digests: acc += vid, acc -= vid (mod 2^256, little
 * endian), so a set's sum does not depend on the order of insertion. */
void vid_sum_add(uint8_t acc[ENV_VIDBYTES], const uint8_t vid[ENV_VIDBYTES]);
void vid_sum_sub(uint8_t acc[ENV_VIDBYTES], const uint8_t vid[ENV_VIDBYTES]);

#endif
