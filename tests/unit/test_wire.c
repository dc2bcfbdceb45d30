/*
 * test_wire.c: the peer protocol's codec (proto/wire.c) on its own. Every
 * message type is encoded with non-trivial fields and decoded again, field
 * by field; every truncated prefix of each frame must be malformed (-2);
 * and each type has frames with a wrong field count, a wrong field type or
 * a value just over a limit (PROTOCOL.md section 4). test_sync.c drives
 * these messages through nodes; tests/vectors/frames.txt holds the cases
 * other implementations share.
 */
#include "selftest.h"
#include "util.h"
#include "wire.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define T_REQ    UINT64_C(0xfedcba9876543210)   /* needs the full uint64 */
#define T_CREDIT 4096
#define T_SHIFT  12

static const char s_name[] = "Sozialwirtschaft N\xc3\x96";  /* "...NÖ" */
static const size_t s_envlen[3] = { 1, 40, 300 };           /* bin8 and bin16 */
static uint8_t s_envs[3][300];
static uint8_t s_origin[ENV_PKBYTES];
static wire_mark_t s_marks[3];
static wire_fp_t s_fps[3];

/* The fields every round trip sends: edges (0, 2^53 - 1, the last bucket)
 * and distinct bytes in every key and sum. */
static void
s_setup(void)
{
    static const uint64_t complete[3] = { 0, 12345, ENV_SEQ_MAX };
    static const uint64_t max_seq[3] = { 7, 99999, ENV_SEQ_MAX };
    static const uint64_t count[3] = { 1, 50000, ENV_SEQ_MAX };
    static const uint64_t bucket[3] = { 0, 5, ENV_SEQ_MAX >> T_SHIFT };

    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 32; j++) {
            s_marks[i].origin[j] = (uint8_t)(0x10 * i + j);
            s_marks[i].vsum[j] = (uint8_t)(0xf0 - 3 * j - i);
            s_fps[i].vsum[j] = (uint8_t)(0x80 + 5 * j + i);
        }
        s_marks[i].complete = complete[i];
        s_marks[i].max_seq = max_seq[i];
        s_marks[i].count = count[i];
        s_fps[i].bucket = bucket[i];
        s_fps[i].count = count[i];
        for (size_t j = 0; j < s_envlen[i]; j++)
            s_envs[i][j] = (uint8_t)(j * 7 + i);
    }
    for (int j = 0; j < 32; j++)
        s_origin[j] = (uint8_t)(0xa5 ^ j);
}

/* The test message of the given type, into out (initialised here). */
static void
s_encode(int type, msgpack_sbuffer *out)
{
    msgpack_packer pk;

    switch (type) {
    case WIRE_HELLO:
        wire_hello(out, s_name);
        break;
    case WIRE_SYNC:
        wire_sync(out, T_REQ, T_CREDIT, s_marks, 3);
        break;
    case WIRE_CREDIT:
        wire_credit(out, T_REQ, T_CREDIT);
        break;
    case WIRE_SYNC_END:
        wire_sync_end(out, T_REQ, s_marks, 3);
        break;
    case WIRE_REPAIR:
        wire_repair(out, T_REQ, T_CREDIT, s_origin, T_SHIFT, s_fps, 3);
        break;
    default:                                    /* ENTRIES, PUSH */
        wire_batch_begin(out, &pk, type, T_REQ, 3);
        for (int i = 0; i < 3; i++)
            wire_batch_add(&pk, s_envs[i], s_envlen[i]);
    }
}

/* Marks as SYNC (origin and complete; the rest stays 0) or SYNC_END sends them. */
static void
s_check_marks(const wire_msg_t *m, bool full)
{
    static const uint8_t zero[ENV_VIDBYTES];

    CHECK(m->nmarks == 3 && m->marks != NULL);
    for (size_t i = 0; i < 3 && i < m->nmarks; i++) {
        const wire_mark_t *w = &m->marks[i], *x = &s_marks[i];
        CHECK(memcmp(w->origin, x->origin, ENV_PKBYTES) == 0 && w->complete == x->complete);
        CHECK(w->max_seq == (full ? x->max_seq : 0) && w->count == (full ? x->count : 0));
        CHECK(memcmp(w->vsum, full ? x->vsum : zero, ENV_VIDBYTES) == 0);
    }
}

/* Envelopes point into the frame, never into a copy. */
static void
s_check_envs(const wire_msg_t *m, const msgpack_sbuffer *frame)
{
    const uint8_t *lo = (const uint8_t *)frame->data, *hi = lo + frame->size;

    CHECK(m->nenvs == 3 && m->envs != NULL);
    for (size_t i = 0; i < 3 && i < m->nenvs; i++) {
        CHECK(m->envs[i].len == s_envlen[i] && memcmp(m->envs[i].ptr, s_envs[i], s_envlen[i]) == 0);
        CHECK(m->envs[i].ptr > lo && m->envs[i].ptr + m->envs[i].len <= hi);
    }
}

/* Every field the type carries, as s_encode wrote it. */
static void
s_check(int type, const wire_msg_t *m, const msgpack_sbuffer *frame)
{
    CHECK(m->type == type);
    switch (type) {
    case WIRE_HELLO:
        CHECK(m->vmin == WIRE_VERSION && m->vmax == WIRE_VERSION && strcmp(m->name, s_name) == 0);
        CHECK(m->nmarks == 0 && m->nenvs == 0 && m->nfps == 0);
        break;
    case WIRE_SYNC:
        CHECK(m->req == T_REQ && m->credit == T_CREDIT);
        s_check_marks(m, false);
        break;
    case WIRE_CREDIT:
        CHECK(m->req == T_REQ && m->credit == T_CREDIT);
        break;
    case WIRE_SYNC_END:
        CHECK(m->req == T_REQ && m->credit == 0);
        s_check_marks(m, true);
        break;
    case WIRE_REPAIR:
        CHECK(m->req == T_REQ && m->credit == T_CREDIT && m->shift == T_SHIFT);
        CHECK(memcmp(m->origin, s_origin, ENV_PKBYTES) == 0 && m->nfps == 3 && m->fps != NULL);
        for (size_t i = 0; i < 3 && i < m->nfps; i++)
            CHECK(m->fps[i].bucket == s_fps[i].bucket && m->fps[i].count == s_fps[i].count &&
                  memcmp(m->fps[i].vsum, s_fps[i].vsum, ENV_VIDBYTES) == 0);
        break;
    default:                                    /* ENTRIES, PUSH: PUSH has no req */
        CHECK(m->req == (type == WIRE_PUSH ? 0 : T_REQ));
        s_check_envs(m, frame);
    }
}

/* Round trip of every type; every truncated prefix and one trailing byte
 * are malformed. */
static void
s_roundtrip(bool verbose)
{
    wire_msg_t m;
    msgpack_sbuffer b;
    char err[256];

    for (int t = WIRE_NONE + 1; t < WIRE_COUNT; t++) {
        s_encode(t, &b);
        if (verbose)
            printf("  %s: %zu bytes\n", wire_name(t), b.size);
        CHECK(wire_decode(b.data, b.size, &m, err, sizeof(err)) == 0);
        s_check(t, &m, &b);
        wire_clear(&m);
        for (size_t n = 0; n < b.size; n++) {
            CHECK(wire_decode(b.data, n, &m, err, sizeof(err)) == -2);
            wire_clear(&m);
        }
        msgpack_sbuffer_write(&b, "", 1);
        CHECK(wire_decode(b.data, b.size, &m, err, sizeof(err)) == -2);
        wire_clear(&m);
        msgpack_sbuffer_destroy(&b);
    }
}

/* Packs a frame from fmt, one letter per value: a (int n) array of n,
 * m (int n) map of n pairs, u (int) small uint, U (uint64_t), i (int) int,
 * f (double) float64, n nil, s (const char *) str, b (int len, int fill)
 * bin of len bytes. */
static void
s_vframe(msgpack_sbuffer *out, const char *fmt, va_list ap)
{
    msgpack_packer pk;

    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    for (const char *f = fmt; *f; f++) {
        switch (*f) {
        case 'a': msgpack_pack_array(&pk, (size_t)va_arg(ap, int)); break;
        case 'm': msgpack_pack_map(&pk, (size_t)va_arg(ap, int)); break;
        case 'u': msgpack_pack_uint64(&pk, (uint64_t)va_arg(ap, int)); break;
        case 'U': msgpack_pack_uint64(&pk, va_arg(ap, uint64_t)); break;
        case 'i': msgpack_pack_int64(&pk, va_arg(ap, int)); break;
        case 'f': msgpack_pack_double(&pk, va_arg(ap, double)); break;
        case 'n': msgpack_pack_nil(&pk); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            msgpack_pack_str(&pk, strlen(s));
            msgpack_pack_str_body(&pk, s, strlen(s));
            break;
        }
        case 'b': {
            int len = va_arg(ap, int), fill = va_arg(ap, int);
            uint8_t *p = xmalloc(len > 0 ? (size_t)len : 1);
            memset(p, fill, (size_t)len);
            msgpack_pack_bin(&pk, (size_t)len);
            msgpack_pack_bin_body(&pk, p, (size_t)len);
            free(p);
            break;
        }
        }
    }
}

static char s_err[256];   /* the last s_decode's error */

/* wire_decode's result for the frame fmt describes (see s_vframe). */
static int
s_decode(const char *fmt, ...)
{
    msgpack_sbuffer b;
    wire_msg_t m;
    char *err = s_err;
    va_list ap;

    s_err[0] = '\0';
    va_start(ap, fmt);
    s_vframe(&b, fmt, ap);
    va_end(ap);
    int rc = wire_decode(b.data, b.size, &m, err, sizeof(s_err));
    CHECK(rc == 0 || err[0] != '\0');
    wire_clear(&m);
    msgpack_sbuffer_destroy(&b);
    return rc;
}

/* A frame that is one well-formed msgpack array naming a known message
 * and refused for its fields, not for a slip in the test's format. */
#define CHECK_BAD(...) CHECK(s_decode(__VA_ARGS__) == -2 && strstr(s_err, "bad fields") != NULL)

/* The frame as a whole: its shape, its name, its size. */
static void
s_bad_frames(void)
{
    wire_msg_t m;
    char err[256];

    CHECK(s_decode("as", 1, "HELO") == -2);
    CHECK(s_decode("asuu", 3, "credit", 1, 2) == -2);   /* names are case-sensitive */
    CHECK(s_decode("a", 0) == -2);
    CHECK(s_decode("auuu", 3, 1, 1, 2) == -2);          /* no name first */
    CHECK(s_decode("msu", 1, "CREDIT", 1) == -2);       /* a map */
    CHECK(s_decode("s", "CREDIT") == -2);
    CHECK(s_decode("asuuasuu", 3, "CREDIT", 1, 2, 3, "CREDIT", 1, 2) == -2);  /* two frames */
    uint8_t *big = xcalloc(WIRE_MAX + 1, 1);
    CHECK(wire_decode(big, WIRE_MAX + 1, &m, err, sizeof(err)) == -2 && strstr(err, "more than"));
    wire_clear(&m);
    free(big);
    CHECK(wire_name(WIRE_NONE) == NULL && wire_name(WIRE_COUNT) == NULL);
    CHECK(strcmp(wire_name(WIRE_SYNC_END), "SYNC_END") == 0);
}

static void
s_bad_hello(void)
{
    char name[WIRE_NAME_MAX + 1];

    CHECK(s_decode("asuus", 4, "HELLO", 1, 1, "n") == 0);
    CHECK_BAD("asuu", 3, "HELLO", 1, 1);
    CHECK_BAD("asuusn", 5, "HELLO", 1, 1, "n");
    CHECK_BAD("assus", 4, "HELLO", "1", 1, "n");
    CHECK_BAD("asius", 4, "HELLO", -1, 1, "n");
    CHECK_BAD("asuub", 4, "HELLO", 1, 1, 4, 'n');    /* name as bin */
    CHECK_BAD("asuus", 4, "HELLO", 2, 1, "n");       /* vmin > vmax */
    CHECK(s_decode("asuus", 4, "HELLO", 1, 3, "") == 0);
    memset(name, 'x', WIRE_NAME_MAX);
    name[WIRE_NAME_MAX - 1] = '\0';
    CHECK(s_decode("asuus", 4, "HELLO", 1, 1, name) == 0);      /* 127 bytes */
    name[WIRE_NAME_MAX - 1] = 'x';
    name[WIRE_NAME_MAX] = '\0';
    CHECK_BAD("asuus", 4, "HELLO", 1, 1, name);     /* 128 */

    /* A NUL inside the name: the str's length is what counts. */
    msgpack_sbuffer b;
    msgpack_packer pk;
    wire_msg_t m;
    char err[256];
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "HELLO", 5);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "a\0b", 3);
    CHECK(wire_decode(b.data, b.size, &m, err, sizeof(err)) == -2 && strstr(err, "bad fields"));
    wire_clear(&m);
    msgpack_sbuffer_destroy(&b);
}

static void
s_bad_sync(void)
{
    CHECK(s_decode("asuuaabU", 4, "SYNC", 1, 2, 1, 2, 32, 1, ENV_SEQ_MAX) == 0);
    CHECK_BAD("asuu", 3, "SYNC", 1, 2);                  /* no marks */
    CHECK_BAD("asuuan", 5, "SYNC", 1, 2, 0);
    CHECK_BAD("asuum", 4, "SYNC", 1, 2, 0);              /* marks as a map */
    CHECK_BAD("asiua", 4, "SYNC", -1, 2, 0);
    CHECK_BAD("asufa", 4, "SYNC", 1, 2.0, 0);
    CHECK_BAD("asuuaabu", 4, "SYNC", 1, 2, 1, 2, 31, 1, 5);
    CHECK_BAD("asuuaabU", 4, "SYNC", 1, 2, 1, 2, 32, 1, ENV_SEQ_MAX + 1);
    CHECK_BAD("asuuaabuu", 4, "SYNC", 1, 2, 1, 3, 32, 1, 5, 6);
    CHECK_BAD("asuuaasu", 4, "SYNC", 1, 2, 1, 2, "origin", 5);

    /* One mark over WIRE_MARKS_MAX. */
    wire_mark_t *many = xcalloc(WIRE_MARKS_MAX + 1, sizeof(*many));
    msgpack_sbuffer b;
    wire_msg_t m;
    char err[256];
    wire_sync(&b, 1, 1, many, WIRE_MARKS_MAX);
    CHECK(wire_decode(b.data, b.size, &m, err, sizeof(err)) == 0 && m.nmarks == WIRE_MARKS_MAX);
    wire_clear(&m);
    msgpack_sbuffer_destroy(&b);
    wire_sync(&b, 1, 1, many, WIRE_MARKS_MAX + 1);
    CHECK(wire_decode(b.data, b.size, &m, err, sizeof(err)) == -2 && strstr(err, "bad fields"));
    wire_clear(&m);
    msgpack_sbuffer_destroy(&b);
    free(many);
}

static void
s_bad_batches(void)
{
    CHECK(s_decode("asuab", 3, "ENTRIES", 1, 1, 1, 'e') == 0);
    CHECK_BAD("asab", 2, "ENTRIES", 1, 1, 'e');          /* no req */
    CHECK_BAD("asuabn", 4, "ENTRIES", 1, 1, 1, 'e');
    CHECK_BAD("asuas", 3, "ENTRIES", 1, 1, "env");       /* envelope as str */
    CHECK_BAD("asuab", 3, "ENTRIES", 1, 1, 0, 0);        /* empty envelope */
    CHECK_BAD("asub", 3, "ENTRIES", 1, 4, 'e');          /* no array */
    CHECK(s_decode("asuab", 3, "ENTRIES", 1, 1, ENV_MAX, 'e') == 0);
    CHECK_BAD("asuab", 3, "ENTRIES", 1, 1, ENV_MAX + 1, 'e');
    CHECK(s_decode("asab", 2, "PUSH", 1, 1, 'e') == 0);
    CHECK_BAD("asuab", 3, "PUSH", 1, 1, 1, 'e');         /* PUSH has no req */
    CHECK_BAD("as", 1, "PUSH");
    CHECK_BAD("asaab", 2, "PUSH", 1, 1, 1, 'e');         /* nested array */

    /* One envelope over WIRE_BATCH_MAX. */
    msgpack_sbuffer b;
    msgpack_packer pk;
    wire_msg_t m;
    char err[256];
    for (size_t n = WIRE_BATCH_MAX; n <= WIRE_BATCH_MAX + 1; n++) {
        wire_batch_begin(&b, &pk, WIRE_PUSH, 0, n);
        for (size_t i = 0; i < n; i++)
            wire_batch_add(&pk, (const uint8_t *)"e", 1);
        int rc = wire_decode(b.data, b.size, &m, err, sizeof(err));
        CHECK(n == WIRE_BATCH_MAX ? rc == 0 : (rc == -2 && strstr(err, "bad fields") != NULL));
        wire_clear(&m);
        msgpack_sbuffer_destroy(&b);
    }
}

static void
s_bad_credit_sync_end(void)
{
    CHECK(s_decode("asUU", 3, "CREDIT", UINT64_MAX, UINT64_MAX) == 0);
    CHECK_BAD("asu", 2, "CREDIT", 1);
    CHECK_BAD("asuuu", 4, "CREDIT", 1, 2, 3);
    CHECK_BAD("asuf", 3, "CREDIT", 1, 2.0);
    CHECK_BAD("asnu", 3, "CREDIT", 2);
    CHECK_BAD("asub", 3, "CREDIT", 1, 8, 1);

    CHECK(s_decode("asuaabuuub", 3, "SYNC_END", 1, 1, 5, 32, 1, 1, 2, 3, 32, 2) == 0);
    CHECK_BAD("asuuaabuuub", 4, "SYNC_END", 1, 2, 1, 5, 32, 1, 1, 2, 3, 32, 2);
    CHECK_BAD("asa", 2, "SYNC_END", 0);                  /* no req */
    CHECK_BAD("asuaabu", 3, "SYNC_END", 1, 1, 2, 32, 1, 5);   /* a SYNC mark */
    CHECK_BAD("asuaabuuUb", 3, "SYNC_END", 1, 1, 5, 32, 1, 1, 2, ENV_SEQ_MAX + 1, 32, 2);
    CHECK_BAD("asuaabUuub", 3, "SYNC_END", 1, 1, 5, 32, 1, ENV_SEQ_MAX + 1, 2, 3, 32, 2);
    CHECK_BAD("asuaabuuub", 3, "SYNC_END", 1, 1, 5, 32, 1, 1, 2, 3, 33, 2);
    CHECK_BAD("asuaabuuus", 3, "SYNC_END", 1, 1, 5, 32, 1, 1, 2, 3, "vsum");
}

static void
s_bad_repair(void)
{
    /* [REPAIR, req, credit, origin, shift, [[bucket, count, vsum], ...]] */
    CHECK(s_decode("asuubuaaUub", 6, "REPAIR", 1, 2, 32, 7, 10, 1, 3,
                   ENV_SEQ_MAX >> 10, 1, 32, 0) == 0);
    CHECK_BAD("asuubuaaUub", 6, "REPAIR", 1, 2, 32, 7, 10, 1, 3,
              (ENV_SEQ_MAX >> 10) + 1, 1, 32, 0);  /* no seq falls in it */
    CHECK_BAD("asuuba", 5, "REPAIR", 1, 2, 32, 7, 0);     /* no shift */
    CHECK_BAD("asuubuan", 7, "REPAIR", 1, 2, 32, 7, 10, 0);
    CHECK(s_decode("asuubua", 6, "REPAIR", 1, 2, 32, 7, 63, 0) == 0);
    CHECK_BAD("asuubua", 6, "REPAIR", 1, 2, 32, 7, 64, 0);
    CHECK_BAD("asuusua", 6, "REPAIR", 1, 2, "origin", 10, 0);
    CHECK_BAD("asuubua", 6, "REPAIR", 1, 2, 16, 7, 10, 0);
    CHECK_BAD("asuubuaaub", 6, "REPAIR", 1, 2, 32, 7, 10, 1, 2, 4, 32, 0);
    CHECK_BAD("asuubuaauib", 6, "REPAIR", 1, 2, 32, 7, 10, 1, 3, 4, -1, 32, 0);
    CHECK_BAD("asuubuaauubauub", 6, "REPAIR", 1, 2, 32, 7, 10, 2,
              3, 4, 1, 32, 0, 3, 4, 1, 32, 0);  /* bucket 4 twice */
    CHECK_BAD("asuubuaauubauub", 6, "REPAIR", 1, 2, 32, 7, 10, 2,
              3, 5, 1, 32, 0, 3, 4, 1, 32, 0);  /* 5 before 4 */
    CHECK(s_decode("asuubuaauubauub", 6, "REPAIR", 1, 2, 32, 7, 10, 2,
                   3, 4, 1, 32, 0, 3, 5, 1, 32, 0) == 0);
}

int
wire_test(bool verbose)
{
    s_setup();
    s_roundtrip(verbose);
    s_bad_frames();
    s_bad_hello();
    s_bad_sync();
    s_bad_batches();
    s_bad_credit_sync_end();
    s_bad_repair();
    return 0;
}
