/*
 * msg.c: control/query message framing. The op table is built from
 * msg.def so that the enum, the names and the access rules cannot drift.
 */
#include "msg.h"
#include "mpjson.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int access;
} s_ops[MSG_COUNT] = {
    [MSG_NONE] = { NULL, 0 },
#define X(e, n, a) [e] = { n, a },
#include "msg.def"
#undef X
};

const char *
msg_op_name(int op)
{
    return (op > MSG_NONE && op < MSG_COUNT) ? s_ops[op].name : NULL;
}

int
msg_op_access(int op)
{
    return (op > MSG_NONE && op < MSG_COUNT) ? s_ops[op].access : 0;
}

int
msg_op_from_name(const char *name)
{
    for (int op = MSG_NONE + 1; op < MSG_COUNT; op++)
        if (strcmp(s_ops[op].name, name) == 0)
            return op;
    return MSG_NONE;
}

json_t *
msg_decode(const void *buf, size_t len, int *op, char *err, size_t errlen)
{
    if (len > MSG_MAX) {
        seterr(err, errlen, -1, "message of %zu bytes exceeds the limit of %d", len, MSG_MAX);
        return NULL;
    }
    json_t *m = mpjson_decode(buf, len, err, errlen);
    if (m == NULL)
        return NULL;
    if (!json_is_object(m)) {
        seterr(err, errlen, -1, "message is not a map");
        json_decref(m);
        return NULL;
    }
    if (op != NULL) {
        /* The whole str must be the name: "peers\0x" is no op. */
        const json_t *v = json_object_get(m, "op");
        const char *name = json_string_value(v);
        *op = name && strlen(name) == json_string_length(v) ? msg_op_from_name(name) : MSG_NONE;
        if (*op == MSG_NONE) {
            seterr(err, errlen, -1, "unknown request '%.32s'", name ? name : "(none)");
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

int
msg_encode(const json_t *msg, msgpack_sbuffer *out, char *err, size_t errlen)
{
    if (mpjson_encode(msg, out, err, errlen) != 0)
        return -1;
    if (out->size > MSG_MAX) {
        msgpack_sbuffer_destroy(out);
        msgpack_sbuffer_init(out);
        return seterr(err, errlen, -1, "message exceeds the limit of %d bytes", MSG_MAX);
    }
    return 0;
}

json_t *
msg_error(const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return json_pack("{s:b, s:s}", "ok", 0, "error", utf8_mend(text));
}
