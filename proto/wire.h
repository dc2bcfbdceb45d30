/*
 * wire.h: the peer protocol's messages (node <-> node, over CURVE). Each
 * message is one ZeroMQ frame holding a msgpack array whose first element
 * is the message name (wire.def). Decoding checks every type and limit
 * and never copies envelopes: they point into the frame, which must
 * outlive the decoded message. PROTOCOL.md section 4 is the reference.
 */
#ifndef SOCDIR_WIRE_H
#define SOCDIR_WIRE_H

#include "envelope.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION      1                   /* protocol version spoken */
#define WIRE_MAX          (4 * 1024 * 1024)   /* bytes in one frame */
#define WIRE_BATCH_MAX    512                 /* envelopes in ENTRIES/PUSH */
#define WIRE_MARKS_MAX    4096                /* origins in SYNC/SYNC_END */
#define WIRE_FPS_MAX      65536               /* fingerprints in REPAIR */
#define WIRE_NAME_MAX     128

typedef enum {
    WIRE_NONE = 0,
#define X(e, name) e,
#include "wire.def"
#undef X
    WIRE_COUNT
} wire_type_t;

/* Per-origin marks. In SYNC only origin and complete are set. */
typedef struct {
    uint8_t origin[ENV_PKBYTES];
    uint64_t complete;      /* the sender holds everything up to this seq */
    uint64_t max_seq;       /* highest seq it holds */
    uint64_t count;         /* versions it holds */
    uint8_t vsum[ENV_VIDBYTES];
} wire_mark_t;

/* One bucket's fingerprint in REPAIR: versions with seq >> shift == bucket. */
typedef struct {
    uint64_t bucket;
    uint64_t count;
    uint8_t vsum[ENV_VIDBYTES];
} wire_fp_t;

typedef struct {
    const uint8_t *ptr;     /* into the frame */
    size_t len;
} wire_env_t;

typedef struct {
    int type;                       /* wire_type_t */
    uint64_t req;                   /* SYNC ENTRIES CREDIT SYNC_END REPAIR */
    uint64_t credit;                /* SYNC CREDIT REPAIR */
    uint64_t vmin, vmax;            /* HELLO: protocol versions spoken */
    char name[WIRE_NAME_MAX];       /* HELLO: the sender's display name */
    wire_mark_t *marks;             /* SYNC SYNC_END */
    size_t nmarks;
    wire_env_t *envs;               /* ENTRIES PUSH */
    size_t nenvs;
    uint8_t origin[ENV_PKBYTES];    /* REPAIR */
    uint64_t shift;                 /* REPAIR: bucket = seq >> shift */
    wire_fp_t *fps;                 /* REPAIR */
    size_t nfps;
    msgpack_unpacked u;             /* keeps the decoded tree */
} wire_msg_t;

/* The message's name, or NULL. */
const char *wire_name(int type);

/* Decodes one frame. Returns 0, or -2 with err set if malformed or over a
 * limit. Call wire_clear afterwards in both cases. */
int wire_decode(const void *buf, size_t len, wire_msg_t *m, char *err, size_t errlen);
void wire_clear(wire_msg_t *m);

/* Encoders: each initialises out (caller destroys). */
void wire_hello(msgpack_sbuffer *out, const char *name);
void wire_sync(msgpack_sbuffer *out, uint64_t req, uint64_t credit,
               const wire_mark_t *marks, size_t n);
void wire_credit(msgpack_sbuffer *out, uint64_t req, uint64_t credit);
void wire_sync_end(msgpack_sbuffer *out, uint64_t req, const wire_mark_t *marks, size_t n);
void wire_repair(msgpack_sbuffer *out, uint64_t req, uint64_t credit,
                 const uint8_t origin[ENV_PKBYTES], uint64_t shift,
                 const wire_fp_t *fps, size_t n);

/* ENTRIES and PUSH are built incrementally: begin with the count, then
 * add exactly that many envelopes. req is ignored for PUSH. */
void wire_batch_begin(msgpack_sbuffer *out, msgpack_packer *pk, int type, uint64_t req,
                      size_t n);
void wire_batch_add(msgpack_packer *pk, const uint8_t *env, size_t len);

#endif
