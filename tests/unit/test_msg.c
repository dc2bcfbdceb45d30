/*
 * test_msg.c: control message framing (proto/msg.c): every op round-trips,
 * every truncated prefix is refused, unknown and malformed requests.
 */
#include "msg.h"
#include "selftest.h"

#include <string.h>

int
msg_test(bool verbose)
{
    char err[256];
    int op;
    msgpack_sbuffer buf;
    (void)verbose;

    for (int o = MSG_NONE + 1; o < MSG_COUNT; o++) {
        json_t *req = json_pack("{s:s, s:[s]}", "op", msg_op_name(o), "ids", "a");
        CHECK(msg_encode(req, &buf, err, sizeof(err)) == 0);
        json_t *back = msg_decode(buf.data, buf.size, &op, err, sizeof(err));
        CHECK(back != NULL && op == o && json_equal(back, req));
        for (size_t n = 0; n < buf.size; n++)
            CHECK(msg_decode(buf.data, n, &op, err, sizeof(err)) == NULL);
        json_decref(back);
        json_decref(req);
        msgpack_sbuffer_destroy(&buf);
    }
    CHECK(msg_op_access(MSG_PUBLISH) == MSG_WRITE && msg_op_access(MSG_SEARCH) == MSG_READ);
    json_t *bad = json_pack("{s:s}", "op", "format_disk");
    CHECK(msg_encode(bad, &buf, err, sizeof(err)) == 0);
    CHECK(msg_decode(buf.data, buf.size, &op, err, sizeof(err)) == NULL && strstr(err, "unknown request"));
    msgpack_sbuffer_destroy(&buf);
    json_decref(bad);
    const char arr[] = { (char)0x91, 0x01 };
    CHECK(msg_decode(arr, sizeof(arr), &op, err, sizeof(err)) == NULL && strstr(err, "not a map"));
    /* {"op": "peers\0"}: an op holding a NUL is no op (found by fuzz_msg). */
    const char nul[] = { (char)0x81, (char)0xa2, 'o', 'p', (char)0xa6, 'p', 'e', 'e', 'r', 's', 0 };
    json_t *v = msg_decode(nul, sizeof(nul), &op, err, sizeof(err));
    CHECK(v == NULL && strstr(err, "unknown request"));
    json_decref(v);
    json_t *e = msg_error("no entry '%s'", "x");
    CHECK(json_is_false(json_object_get(e, "ok")) &&
          strcmp(json_string_value(json_object_get(e, "error")), "no entry 'x'") == 0);
    json_decref(e);
    return 0;
}
