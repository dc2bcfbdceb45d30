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

#define MPJSON_MAX_DEPTH 32

/* Packs v into pk. Returns 0, or -1 (with err set) when v nests deeper
 * than MPJSON_MAX_DEPTH. */
int mpjson_pack(msgpack_packer *pk, const json_t *v, char *err, size_t errlen);

/* Converts a decoded msgpack object into a new JSON value (caller owns).
 * Returns NULL with err set for what JSON cannot hold: non-string map keys,
 * binary or extension values, integers above INT64_MAX, duplicate keys,
 * nesting deeper than MPJSON_MAX_DEPTH. */
json_t *mpjson_from_object(const msgpack_object *o, char *err, size_t errlen);

/* Decodes one msgpack value that must fill buf exactly, into JSON.
 * Returns NULL with err set on malformed input or trailing bytes. */
json_t *mpjson_decode(const char *buf, size_t len, char *err, size_t errlen);

/* Checks, before msgpack-c sees buf, that every declared array, map, string
 * and binary length fits in the bytes that remain. msgpack-c's C API
 * reserves memory for a container's declared size before reading its
 * items, so a 5-byte header could otherwise ask for gigabytes. Returns 0
 * when buf holds one value whose lengths are all plausible, else -1. */
int mpjson_check_bounds(const void *buf, size_t len);

/* Packs v into a new sbuffer (caller destroys it with msgpack_sbuffer_destroy). */
int mpjson_encode(const json_t *v, msgpack_sbuffer *out, char *err, size_t errlen);

#endif
