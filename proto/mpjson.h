/*
 * mpjson.h: the one bridge between JSON values (jansson) and msgpack
 * (msgpack-c). Entry bodies are JSON on the user's side and msgpack on the
 * wire and on disk; control messages are msgpack maps handled as json_t.
 * Maps are packed with their keys in byte order, so one JSON value always
 * packs to the same bytes.
 */
#ifndef SOCDIR_MPJSON_H
#define SOCDIR_MPJSON_H

#include <jansson.h>
#include <msgpack.h>

#include <stdbool.h>
#include <stddef.h>

/* Nesting is counted in container levels: a map or array is level 1, a
 * container inside a level-n container is level n + 1; scalars add none.
 * msgpack-c's unpacker holds at most 32 open containers (its
 * MSGPACK_EMBED_STACK_SIZE), so no msgpack value this project reads or
 * writes nests deeper than that. */
#define MPJSON_MAX_DEPTH 32

/* What a decoded value may hold beyond what JSON can (PROTOCOL.md 2). */
typedef struct {
    int max_depth;          /* container levels, at most MPJSON_MAX_DEPTH */
    size_t max_key;         /* bytes in a map key; 0: no limit of its own */
    bool float64_only;      /* refuse float32: payloads write floats as float64 */
} mpjson_rules_t;

/* Control messages: MPJSON_MAX_DEPTH levels, keys of any length, floats
 * of either width. */
extern const mpjson_rules_t mpjson_msg_rules;

/* Packs v into pk. Returns 0, or -1 (with err set) when v nests deeper
 * than max_depth levels. */
int mpjson_pack(msgpack_packer *pk, const json_t *v, int max_depth, char *err, size_t errlen);

/* Converts a decoded msgpack object into a new JSON value (caller owns).
 * Returns NULL with err set for what JSON cannot hold (non-string map
 * keys, keys holding NUL, strings that are not UTF-8, binary or extension
 * values, integers above INT64_MAX, floats that are not finite, duplicate
 * keys) and for what the rules refuse (nesting, key length, float32). */
json_t *mpjson_from_object(const msgpack_object *o, const mpjson_rules_t *rules, char *err,
                           size_t errlen);

/* Decodes one msgpack value that must fill buf exactly, into JSON, under
 * mpjson_msg_rules. Returns NULL with err set on malformed input or
 * trailing bytes. */
json_t *mpjson_decode(const char *buf, size_t len, char *err, size_t errlen);

/* Checks, before msgpack-c sees buf, that every declared array, map, string
 * and binary length fits in the bytes that remain. msgpack-c's C API
 * reserves memory for a container's declared size before reading its
 * items, so a 5-byte header could otherwise ask for gigabytes. Returns 0
 * when buf holds one value whose lengths are all plausible, else -1. */
int mpjson_check_bounds(const void *buf, size_t len);

/* Packs v (at most MPJSON_MAX_DEPTH levels) into a new sbuffer (caller
 * destroys it with msgpack_sbuffer_destroy). */
int mpjson_encode(const json_t *v, msgpack_sbuffer *out, char *err, size_t errlen);

#endif
