/*
 * wire.c: encoding and decoding of peer messages with msgpack-c. The
 * decoder checks declared lengths before msgpack-c allocates
 * (mpjson_check_bounds), then the array shape and every field's type and
 * limit, so the sync code only ever sees well-formed messages.
 */
#include "wire.h"
#include "mpjson.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_names[WIRE_COUNT] = {
    [WIRE_NONE] = NULL,
#define X(e, n) [e] = n,
#include "wire.def"
#undef X
};

const char *
wire_name(int type)
{
    return (type > WIRE_NONE && type < WIRE_COUNT) ? s_names[type] : NULL;
}

/* ---- encoding ---- */

static void
s_begin(msgpack_sbuffer *out, msgpack_packer *pk, int type, size_t fields)
{
    const char *name = s_names[type];
    msgpack_sbuffer_init(out);
    msgpack_packer_init(pk, out, msgpack_sbuffer_write);
    msgpack_pack_array(pk, fields);
    msgpack_pack_str(pk, strlen(name));
    msgpack_pack_str_body(pk, name, strlen(name));
}

static void
s_bin(msgpack_packer *pk, const void *p, size_t n)
{
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, p, n);
}

void
wire_hello(msgpack_sbuffer *out, const char *name)
{
    msgpack_packer pk;
    size_t n = strnlen(name, WIRE_NAME_MAX - 1);
    s_begin(out, &pk, WIRE_HELLO, 4);
    msgpack_pack_uint64(&pk, WIRE_VERSION);
    msgpack_pack_uint64(&pk, WIRE_VERSION);
    msgpack_pack_str(&pk, n);
    msgpack_pack_str_body(&pk, name, n);
}

void
wire_sync(msgpack_sbuffer *out, uint64_t req, uint64_t credit, const wire_mark_t *marks, size_t n)
{
    msgpack_packer pk;
    s_begin(out, &pk, WIRE_SYNC, 4);
    msgpack_pack_uint64(&pk, req);
    msgpack_pack_uint64(&pk, credit);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(&pk, 2);
        s_bin(&pk, marks[i].origin, ENV_PKBYTES);
        msgpack_pack_uint64(&pk, marks[i].complete);
    }
}

void
wire_credit(msgpack_sbuffer *out, uint64_t req, uint64_t credit)
{
    msgpack_packer pk;
    s_begin(out, &pk, WIRE_CREDIT, 3);
    msgpack_pack_uint64(&pk, req);
    msgpack_pack_uint64(&pk, credit);
}

void
wire_sync_end(msgpack_sbuffer *out, uint64_t req, const wire_mark_t *marks, size_t n)
{
    msgpack_packer pk;
    s_begin(out, &pk, WIRE_SYNC_END, 3);
    msgpack_pack_uint64(&pk, req);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(&pk, 5);
        s_bin(&pk, marks[i].origin, ENV_PKBYTES);
        msgpack_pack_uint64(&pk, marks[i].complete);
        msgpack_pack_uint64(&pk, marks[i].max_seq);
        msgpack_pack_uint64(&pk, marks[i].count);
        s_bin(&pk, marks[i].vsum, ENV_VIDBYTES);
    }
}

void
wire_repair(msgpack_sbuffer *out, uint64_t req, uint64_t credit, const uint8_t origin[ENV_PKBYTES],
            uint64_t shift, const wire_fp_t *fps, size_t n)
{
    msgpack_packer pk;
    s_begin(out, &pk, WIRE_REPAIR, 6);
    msgpack_pack_uint64(&pk, req);
    msgpack_pack_uint64(&pk, credit);
    s_bin(&pk, origin, ENV_PKBYTES);
    msgpack_pack_uint64(&pk, shift);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint64(&pk, fps[i].bucket);
        msgpack_pack_uint64(&pk, fps[i].count);
        s_bin(&pk, fps[i].vsum, ENV_VIDBYTES);
    }
}

void
wire_batch_begin(msgpack_sbuffer *out, msgpack_packer *pk, int type, uint64_t req, size_t n)
{
    s_begin(out, pk, type, type == WIRE_PUSH ? 2 : 3);
    if (type != WIRE_PUSH)
        msgpack_pack_uint64(pk, req);
    msgpack_pack_array(pk, n);
}

void
wire_batch_add(msgpack_packer *pk, const uint8_t *env, size_t len)
{
    s_bin(pk, env, len);
}

/* ---- decoding ---- */

static bool
s_uint(const msgpack_object *o, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *v = o->via.u64;
    return true;
}

/* A seq, or a count of versions: below 2^53 (PROTOCOL.md 2). */
static bool
s_seq(const msgpack_object *o, uint64_t *v)
{
    return s_uint(o, v) && *v <= ENV_SEQ_MAX;
}

static bool
s_bin32(const msgpack_object *o, uint8_t out[32])
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != 32)
        return false;
    memcpy(out, o->via.bin.ptr, 32);
    return true;
}

static bool
s_array(const msgpack_object *o, size_t max)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size <= max;
}

/* [[origin, complete(, max_seq, count, vsum)], ...] */
static int
s_marks(const msgpack_object *o, bool full, wire_mark_t **out, size_t *n)
{
    if (!s_array(o, WIRE_MARKS_MAX))
        return -1;
    *n = o->via.array.size;
    *out = xcalloc(*n, sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        const msgpack_object *m = &o->via.array.ptr[i];
        wire_mark_t *w = &(*out)[i];
        if (m->type != MSGPACK_OBJECT_ARRAY || m->via.array.size != (full ? 5u : 2u) ||
            !s_bin32(&m->via.array.ptr[0], w->origin) || !s_seq(&m->via.array.ptr[1], &w->complete))
            return -1;
        if (full && (!s_seq(&m->via.array.ptr[2], &w->max_seq) ||
                     !s_seq(&m->via.array.ptr[3], &w->count) ||
                     !s_bin32(&m->via.array.ptr[4], w->vsum)))
            return -1;
    }
    return 0;
}

static int
s_envs(const msgpack_object *o, wire_msg_t *m)
{
    if (!s_array(o, WIRE_BATCH_MAX))
        return -1;
    m->nenvs = o->via.array.size;
    m->envs = xcalloc(m->nenvs, sizeof(*m->envs));
    for (size_t i = 0; i < m->nenvs; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_BIN || e->via.bin.size == 0 || e->via.bin.size > ENV_MAX)
            return -1;
        m->envs[i].ptr = (const uint8_t *)e->via.bin.ptr;
        m->envs[i].len = e->via.bin.size;
    }
    return 0;
}

/* Fingerprints in strictly ascending bucket order, each bucket one that
 * a seq below 2^53 can fall in (m->shift is decoded first). */
static int
s_fps(const msgpack_object *o, wire_msg_t *m)
{
    if (!s_array(o, WIRE_FPS_MAX))
        return -1;
    m->nfps = o->via.array.size;
    m->fps = xcalloc(m->nfps, sizeof(*m->fps));
    for (size_t i = 0; i < m->nfps; i++) {
        const msgpack_object *f = &o->via.array.ptr[i];
        if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 3 ||
            !s_uint(&f->via.array.ptr[0], &m->fps[i].bucket) ||
            !s_seq(&f->via.array.ptr[1], &m->fps[i].count) ||
            !s_bin32(&f->via.array.ptr[2], m->fps[i].vsum))
            return -1;
        if (m->fps[i].bucket > (ENV_SEQ_MAX >> m->shift) ||
            (i > 0 && m->fps[i].bucket <= m->fps[i - 1].bucket))
            return -1;
    }
    return 0;
}

/* Fields after the name, per message: count and checks. */
static int
s_fields(wire_msg_t *m, const msgpack_object *a, uint32_t n)
{
    switch (m->type) {
    case WIRE_HELLO:
        if (n != 4 || !s_uint(&a[1], &m->vmin) || !s_uint(&a[2], &m->vmax) ||
            a[3].type != MSGPACK_OBJECT_STR || a[3].via.str.size >= WIRE_NAME_MAX || m->vmin > m->vmax)
            return -1;
        if (a[3].via.str.size > 0)
            memcpy(m->name, a[3].via.str.ptr, a[3].via.str.size);
        m->name[a[3].via.str.size] = '\0';
        return strlen(m->name) == a[3].via.str.size ? 0 : -1;
    case WIRE_SYNC:
        return (n == 4 && s_uint(&a[1], &m->req) && s_uint(&a[2], &m->credit) &&
                s_marks(&a[3], false, &m->marks, &m->nmarks) == 0) ? 0 : -1;
    case WIRE_ENTRIES:
        return (n == 3 && s_uint(&a[1], &m->req) && s_envs(&a[2], m) == 0) ? 0 : -1;
    case WIRE_CREDIT:
        return (n == 3 && s_uint(&a[1], &m->req) && s_uint(&a[2], &m->credit)) ? 0 : -1;
    case WIRE_SYNC_END:
        return (n == 3 && s_uint(&a[1], &m->req) &&
                s_marks(&a[2], true, &m->marks, &m->nmarks) == 0) ? 0 : -1;
    case WIRE_PUSH:
        return (n == 2 && s_envs(&a[1], m) == 0) ? 0 : -1;
    case WIRE_REPAIR:
        return (n == 6 && s_uint(&a[1], &m->req) && s_uint(&a[2], &m->credit) &&
                s_bin32(&a[3], m->origin) && s_uint(&a[4], &m->shift) && m->shift < 64 &&
                s_fps(&a[5], m) == 0) ? 0 : -1;
    }
    return -1;
}

int
wire_decode(const void *buf, size_t len, wire_msg_t *m, char *err, size_t errlen)
{
    size_t off = 0;

    memset(m, 0, sizeof(*m));
    msgpack_unpacked_init(&m->u);
    if (len > WIRE_MAX)
        return seterr(err, errlen, -2, "message of %zu bytes, more than %d", len, WIRE_MAX);
    if (mpjson_check_bounds(buf, len) != 0 ||
        msgpack_unpack_next(&m->u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        return seterr(err, errlen, -2, "malformed msgpack");
    const msgpack_object *o = &m->u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_STR)
        return seterr(err, errlen, -2, "not an array starting with a message name");
    const msgpack_object *a = o->via.array.ptr;
    for (int t = WIRE_NONE + 1; t < WIRE_COUNT; t++) {
        if (a[0].via.str.size == strlen(s_names[t]) &&
            memcmp(a[0].via.str.ptr, s_names[t], a[0].via.str.size) == 0)
            m->type = t;
    }
    if (m->type == WIRE_NONE)
        return seterr(err, errlen, -2, "unknown message '%.*s'",
                      (int)(a[0].via.str.size < 32 ? a[0].via.str.size : 32),
                      a[0].via.str.size ? a[0].via.str.ptr : "");
    if (s_fields(m, a, o->via.array.size) != 0)
        return seterr(err, errlen, -2, "%s: bad fields", s_names[m->type]);
    return 0;
}

void
wire_clear(wire_msg_t *m)
{
    free(m->marks);
    free(m->envs);
    free(m->fps);
    msgpack_unpacked_destroy(&m->u);
    m->marks = NULL;
    m->envs = NULL;
    m->fps = NULL;
}
