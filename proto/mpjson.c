/*
 * mpjson.c: JSON <-> msgpack conversion with depth limits. msgpack-c does
 * all byte-level work; this file only walks values. Object keys are packed
 * sorted bytewise (strcmp) so equal JSON packs to equal bytes, which lets
 * the node tell an unchanged re-publish from a real update.
 */
#include "mpjson.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int
s_keycmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const mpjson_rules_t mpjson_msg_rules = { MPJSON_MAX_DEPTH, 0, false };

/* level: the container level v would have (1 for the outermost). */
static int
s_pack(msgpack_packer *pk, const json_t *v, int level, int max, char *err, size_t errlen)
{
    if ((json_is_object(v) || json_is_array(v)) && level > max)
        return seterr(err, errlen, -1, "value nests deeper than %d levels", max);

    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys = xcalloc(n, sizeof(*keys));
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
            keys[i++] = key;
        qsort(keys, n, sizeof(*keys), s_keycmp);
        msgpack_pack_map(pk, n);
        int rc = 0;
        for (i = 0; i < n && rc == 0; i++) {
            size_t klen = strlen(keys[i]);
            msgpack_pack_str(pk, klen);
            msgpack_pack_str_body(pk, keys[i], klen);
            rc = s_pack(pk, json_object_get(v, keys[i]), level + 1, max, err, errlen);
        }
        free(keys);
        return rc;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        msgpack_pack_array(pk, n);
        for (size_t i = 0; i < n; i++)
            if (s_pack(pk, json_array_get(v, i), level + 1, max, err, errlen) != 0)
                return -1;
        return 0;
    }
    case JSON_STRING: {
        size_t len = json_string_length(v);
        msgpack_pack_str(pk, len);
        msgpack_pack_str_body(pk, json_string_value(v), len);
        return 0;
    }
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(v));
        return 0;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        return 0;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        return 0;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        return 0;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        return 0;
    }
    return seterr(err, errlen, -1, "unknown JSON type");
}

int
mpjson_pack(msgpack_packer *pk, const json_t *v, int max_depth, char *err, size_t errlen)
{
    return s_pack(pk, v, 1, max_depth, err, errlen);
}

int
mpjson_encode(const json_t *v, msgpack_sbuffer *out, char *err, size_t errlen)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    if (mpjson_pack(&pk, v, MPJSON_MAX_DEPTH, err, errlen) != 0) {
        msgpack_sbuffer_destroy(out);
        msgpack_sbuffer_init(out);
        return -1;
    }
    return 0;
}

/* One msgpack value as JSON, checked against r. It is long because it
 * is one switch over the msgpack types, each case a few lines of its
 * rule (integers, floats, strings, maps); split, the rules would be
 * harder to read against PROTOCOL.md 2.1. */
static json_t *
s_from(const msgpack_object *o, int level, const mpjson_rules_t *r, char *err, size_t errlen)
{
    if ((o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP) && level > r->max_depth) {
        seterr(err, errlen, -1, "value nests deeper than %d levels", r->max_depth);
        return NULL;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            seterr(err, errlen, -1, "integer %llu is too large", (unsigned long long)o->via.u64);
            return NULL;
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: {
        if (o->type == MSGPACK_OBJECT_FLOAT32 && r->float64_only) {
            seterr(err, errlen, -1, "float32 value (floats are written as float64)");
            return NULL;
        }
        json_t *d = json_real(o->via.f64);     /* NULL for NaN and infinities */
        if (d == NULL)
            seterr(err, errlen, -1, "number is not finite");
        return d;
    }
    case MSGPACK_OBJECT_STR: {
        /* json_stringn checks UTF-8 and returns NULL on bad bytes. */
        json_t *s = o->via.str.size ? json_stringn(o->via.str.ptr, o->via.str.size) : json_string("");
        if (s == NULL)
            seterr(err, errlen, -1, "string is not valid UTF-8");
        return s;
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            json_t *item = s_from(&o->via.array.ptr[i], level + 1, r, err, errlen);
            if (item == NULL) {
                json_decref(a);
                return NULL;
            }
            json_array_append_new(a, item);
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                seterr(err, errlen, -1, "map key is not a string");
                goto badmap;
            }
            size_t klen = kv->key.via.str.size;     /* ptr may be NULL when 0 */
            const char *key = klen > 0 ? kv->key.via.str.ptr : "";
            if (r->max_key > 0 && klen > r->max_key) {
                seterr(err, errlen, -1, "map key of %zu bytes, more than %zu", klen, r->max_key);
                goto badmap;
            }
            if (memchr(key, '\0', klen) != NULL) {
                seterr(err, errlen, -1, "map key holds a NUL byte");
                goto badmap;
            }
            if (json_object_getn(m, key, klen) != NULL) {
                seterr(err, errlen, -1, "duplicate key '%.*s'", (int)(klen < 64 ? klen : 64), key);
                goto badmap;
            }
            json_t *val = s_from(&kv->val, level + 1, r, err, errlen);
            if (val == NULL)
                goto badmap;
            if (json_object_setn_new(m, key, klen, val) != 0) {
                seterr(err, errlen, -1, "map key is not valid UTF-8");
                goto badmap;
            }
        }
        return m;
    badmap:
        json_decref(m);
        return NULL;
    }
    case MSGPACK_OBJECT_BIN:
        seterr(err, errlen, -1, "binary value where text was expected");
        return NULL;
    case MSGPACK_OBJECT_EXT:
        seterr(err, errlen, -1, "extension value is not supported here");
        return NULL;
    }
    seterr(err, errlen, -1, "unknown msgpack type");
    return NULL;
}

json_t *
mpjson_from_object(const msgpack_object *o, const mpjson_rules_t *rules, char *err, size_t errlen)
{
    return s_from(o, 1, rules, err, errlen);
}

/* Big-endian unsigned integer of n bytes at p. */
static uint64_t
s_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int
mpjson_check_bounds(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t pos = 0, pending = 1;    /* values still to read */

    while (pending > 0) {
        if (pos >= len)
            return -1;
        uint8_t b = p[pos++];
        uint64_t skip = 0, items = 0;
        int lenbytes = 0;

        pending--;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            continue;                                   /* fixint, nil, bool */
        if (b >= 0x80 && b <= 0x8f)
            items = 2u * (b & 0x0f);                    /* fixmap */
        else if (b >= 0x90 && b <= 0x9f)
            items = b & 0x0f;                           /* fixarray */
        else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;                            /* fixstr */
        else switch (b) {
        case 0xc4: case 0xd9: lenbytes = 1; break;      /* bin8, str8 */
        case 0xc5: case 0xda: lenbytes = 2; break;
        case 0xc6: case 0xdb: lenbytes = 4; break;
        case 0xc7: lenbytes = 1; skip = 1; break;       /* ext8 + type */
        case 0xc8: lenbytes = 2; skip = 1; break;
        case 0xc9: lenbytes = 4; skip = 1; break;
        case 0xca: skip = 4; break;                     /* float32 */
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd4: skip = 2; break;                     /* fixext 1 + type */
        case 0xd5: skip = 3; break;
        case 0xd6: skip = 5; break;
        case 0xd7: skip = 9; break;
        case 0xd8: skip = 17; break;
        case 0xdc: case 0xdd: case 0xde: case 0xdf: {   /* array16/32, map16/32 */
            int n = (b == 0xdc || b == 0xde) ? 2 : 4;
            if (len - pos < (size_t)n)
                return -1;
            items = s_be(p + pos, n) * (b >= 0xde ? 2 : 1);
            pos += (size_t)n;
            break;
        }
        default:
            return -1;                                  /* 0xc1: never used */
        }
        if (lenbytes > 0) {
            if (len - pos < (size_t)lenbytes)
                return -1;
            skip += s_be(p + pos, lenbytes);
            pos += (size_t)lenbytes;
        }
        if (skip > len - pos)
            return -1;
        pos += skip;
        /* every item takes at least one byte */
        if (items > len - pos || pending + items > len - pos)
            return -1;
        pending += items;
    }
    return 0;
}

json_t *
mpjson_decode(const char *buf, size_t len, char *err, size_t errlen)
{
    msgpack_unpacked u;
    size_t off = 0;
    json_t *v = NULL;

    if (mpjson_check_bounds(buf, len) != 0) {
        seterr(err, errlen, -1, "malformed msgpack");
        return NULL;
    }
    msgpack_unpacked_init(&u);
    msgpack_unpack_return rc = msgpack_unpack_next(&u, buf, len, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS)
        seterr(err, errlen, -1, "malformed msgpack");
    else if (off != len)
        seterr(err, errlen, -1, "%zu trailing bytes after the value", len - off);
    else
        v = mpjson_from_object(&u.data, &mpjson_msg_rules, err, errlen);
    msgpack_unpacked_destroy(&u);
    return v;
}
