/*
 * fuzz_wire.c: libFuzzer target for the peer protocol's decoder
 * (wire_decode). Every frame it accepts is packed again with the encoder
 * of its type, and that frame must decode to the same fields; packing the
 * second decode must give the same bytes as the first packing. A crash,
 * leak, sanitizer report or broken round trip is a bug; a refusal is fine.
 * HELLO's encoder always speaks WIRE_VERSION, so only its name is compared.
 * Seeds: tests/fuzz/corpus-wire/.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run on a broken round trip: libFuzzer saves the input. */
static void
s_require(int cond, const char *what, const wire_msg_t *m)
{
    if (!cond) {
        fprintf(stderr, "fuzz_wire: %s: %s\n", wire_name(m->type), what);
        abort();
    }
}

/* Packs m with the encoder for its type into out (initialised here). */
static void
s_encode(const wire_msg_t *m, msgpack_sbuffer *out)
{
    msgpack_packer pk;

    switch (m->type) {
    case WIRE_HELLO:
        wire_hello(out, m->name);
        return;
    case WIRE_SYNC:
        wire_sync(out, m->req, m->credit, m->marks, m->nmarks);
        return;
    case WIRE_CREDIT:
        wire_credit(out, m->req, m->credit);
        return;
    case WIRE_SYNC_END:
        wire_sync_end(out, m->req, m->marks, m->nmarks);
        return;
    case WIRE_REPAIR:
        wire_repair(out, m->req, m->credit, m->origin, m->shift, m->fps, m->nfps);
        return;
    case WIRE_ENTRIES:
    case WIRE_PUSH:
        wire_batch_begin(out, &pk, m->type, m->req, m->nenvs);
        for (size_t i = 0; i < m->nenvs; i++)
            wire_batch_add(&pk, m->envs[i].ptr, m->envs[i].len);
        return;
    }
    s_require(0, "decoded to a type without an encoder", m);
}

/* SYNC carries origin and complete only; the decoder leaves the rest 0. */
static int
s_same_marks(const wire_msg_t *a, const wire_msg_t *b)
{
    if (a->nmarks != b->nmarks)
        return 0;
    for (size_t i = 0; i < a->nmarks; i++) {
        const wire_mark_t *x = &a->marks[i], *y = &b->marks[i];
        if (memcmp(x->origin, y->origin, ENV_PKBYTES) != 0 || x->complete != y->complete ||
            x->max_seq != y->max_seq || x->count != y->count ||
            memcmp(x->vsum, y->vsum, ENV_VIDBYTES) != 0)
            return 0;
    }
    return 1;
}

static int
s_same_envs(const wire_msg_t *a, const wire_msg_t *b)
{
    if (a->nenvs != b->nenvs)
        return 0;
    for (size_t i = 0; i < a->nenvs; i++)
        if (a->envs[i].len != b->envs[i].len ||
            memcmp(a->envs[i].ptr, b->envs[i].ptr, a->envs[i].len) != 0)
            return 0;
    return 1;
}

static int
s_same_fps(const wire_msg_t *a, const wire_msg_t *b)
{
    if (a->nfps != b->nfps)
        return 0;
    for (size_t i = 0; i < a->nfps; i++)
        if (a->fps[i].bucket != b->fps[i].bucket || a->fps[i].count != b->fps[i].count ||
            memcmp(a->fps[i].vsum, b->fps[i].vsum, ENV_VIDBYTES) != 0)
            return 0;
    return 1;
}

/* Every field the encoder of a's type writes, equal in b. */
static void
s_compare(const wire_msg_t *a, const wire_msg_t *b)
{
    s_require(a->type == b->type, "type changed", a);
    switch (a->type) {
    case WIRE_HELLO:
        s_require(strcmp(a->name, b->name) == 0, "name changed", a);
        s_require(b->vmin == WIRE_VERSION && b->vmax == WIRE_VERSION, "versions", a);
        break;
    case WIRE_SYNC:
        s_require(a->req == b->req && a->credit == b->credit, "req or credit changed", a);
        s_require(s_same_marks(a, b), "marks changed", a);
        break;
    case WIRE_ENTRIES:
        s_require(a->req == b->req, "req changed", a);
        s_require(s_same_envs(a, b), "envelopes changed", a);
        break;
    case WIRE_CREDIT:
        s_require(a->req == b->req && a->credit == b->credit, "req or credit changed", a);
        break;
    case WIRE_SYNC_END:
        s_require(a->req == b->req, "req changed", a);
        s_require(s_same_marks(a, b), "marks changed", a);
        break;
    case WIRE_PUSH:
        s_require(s_same_envs(a, b), "envelopes changed", a);
        break;
    case WIRE_REPAIR:
        s_require(a->req == b->req && a->credit == b->credit, "req or credit changed", a);
        s_require(memcmp(a->origin, b->origin, ENV_PKBYTES) == 0, "origin changed", a);
        s_require(a->shift == b->shift, "shift changed", a);
        s_require(s_same_fps(a, b), "fingerprints changed", a);
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_msg_t m, back;
    msgpack_sbuffer once, twice;
    char err[256];

    if (wire_decode(data, size, &m, err, sizeof(err)) == 0) {
        s_encode(&m, &once);
        int rc = wire_decode(once.data, once.size, &back, err, sizeof(err));
        if (rc != 0)
            fprintf(stderr, "fuzz_wire: re-encoded frame refused: %s\n", err);
        s_require(rc == 0, "re-encoded frame refused", &m);
        s_compare(&m, &back);
        s_encode(&back, &twice);
        s_require(once.size == twice.size && memcmp(once.data, twice.data, once.size) == 0,
                  "second packing differs from the first", &m);
        msgpack_sbuffer_destroy(&twice);
        wire_clear(&back);
        msgpack_sbuffer_destroy(&once);
    }
    wire_clear(&m);
    return 0;
}
