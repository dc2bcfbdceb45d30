/*
 * msg.h: the control/query messages between the CLI and a node. Each is one
 * ZeroMQ frame holding a msgpack map: a request carries "op" (a name from
 * msg.def) and its fields; a reply carries "ok" (bool) and either the
 * result fields or "error" (a one-line message). Both sides handle the maps
 * as jansson values through mpjson.
 */
#ifndef SOCDIR_MSG_H
#define SOCDIR_MSG_H

#include <jansson.h>
#include <msgpack.h>

#define MSG_MAX        (16 * 1024 * 1024)  /* bytes in one request or reply */
#define MSG_BATCH_MAX  1000                /* entries in one publish/delete */
#define MSG_PAGE_MAX   1000                /* rows in one search/export page */

enum { MSG_READ = 1, MSG_WRITE = 2, MSG_ADMIN = 3 };

typedef enum {
    MSG_NONE = 0,
#define X(e, name, access) e,
#include "msg.def"
#undef X
    MSG_COUNT
} msg_op_t;

/* The op's wire name, or NULL. */
const char *msg_op_name(int op);
/* MSG_READ, MSG_WRITE or MSG_ADMIN; 0 for an unknown op. */
int msg_op_access(int op);
/* MSG_NONE when name is not an op. */
int msg_op_from_name(const char *name);

/* Decodes a request or reply frame into a JSON object (caller owns).
 * Returns NULL with err set if the frame is too large, malformed, not a map,
 * or (for requests, want_op) has no known "op"; *op receives the op. */
json_t *msg_decode(const void *buf, size_t len, int *op, char *err, size_t errlen);

/* Packs a message into out (initialised here; caller destroys). */
int msg_encode(const json_t *msg, msgpack_sbuffer *out, char *err, size_t errlen);

/* A new reply {"ok": false, "error": text}. */
json_t *msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
