/*
 * fuzz_msg.c: libFuzzer target for the control/query message decoder
 * (msg_decode), as a reply (no op wanted) and as a request (op wanted).
 * A request it accepts must also be accepted as a reply, with an equal
 * value. Every value it accepts is packed again with msg_encode; that
 * frame must decode to an equal value (and the same op), and packing that
 * must give the same bytes: one JSON value, one encoding. A crash, leak,
 * sanitizer report or broken round trip is a bug; a refusal is fine.
 * Seeds: tests/fuzz/corpus-msg/.
 */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_require(int cond, const char *what, const char *err)
{
    if (!cond) {
        fprintf(stderr, "fuzz_msg: %s%s%s\n", what, err ? ": " : "", err ? err : "");
        abort();
    }
}

/* Packs v, decodes it again (wanting an op when op is not MSG_NONE) and
 * packs that. msg_encode may refuse only a value over MSG_MAX; the
 * re-encoding grows a frame at most 9/5-fold (float32 to float64). */
static void
s_roundtrip(const json_t *v, size_t inlen, int op)
{
    msgpack_sbuffer once, twice;
    char err[256];
    int op2 = MSG_NONE;

    if (msg_encode(v, &once, err, sizeof(err)) != 0) {
        s_require(inlen > MSG_MAX / 2, "msg_encode refused a decoded value", err);
        msgpack_sbuffer_destroy(&once);
        return;
    }
    json_t *back = msg_decode(once.data, once.size, op != MSG_NONE ? &op2 : NULL, err, sizeof(err));
    s_require(back != NULL, "re-encoded message refused", err);
    s_require(json_equal(v, back), "re-encoded message decodes to another value", NULL);
    s_require(op2 == op, "re-encoded request has another op", NULL);
    s_require(msg_encode(back, &twice, err, sizeof(err)) == 0, "second msg_encode failed", err);
    s_require(once.size == twice.size && memcmp(once.data, twice.data, once.size) == 0,
              "second packing differs from the first", NULL);
    msgpack_sbuffer_destroy(&twice);
    msgpack_sbuffer_destroy(&once);
    json_decref(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    int op = MSG_NONE;

    json_t *reply = msg_decode(data, size, NULL, err, sizeof(err));
    json_t *req = msg_decode(data, size, &op, err, sizeof(err));
    if (req != NULL) {
        s_require(reply != NULL && json_equal(req, reply), "a request but not a message", NULL);
        const json_t *name = json_object_get(req, "op");
        s_require(msg_op_name(op) != NULL && json_string_length(name) == strlen(msg_op_name(op)) &&
                  memcmp(json_string_value(name), msg_op_name(op), json_string_length(name)) == 0,
                  "op is not the message's \"op\"", NULL);
        s_roundtrip(req, size, op);
    }
    if (reply != NULL)
        s_roundtrip(reply, size, MSG_NONE);
    json_decref(req);
    json_decref(reply);
    return 0;
}
