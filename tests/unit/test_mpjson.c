/*
 * test_mpjson.c: JSON <-> msgpack conversion (proto/mpjson.c): canonical
 * order, bounds, depth, UTF-8.
 */
#include "mpjson.h"
#include "selftest.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int
mpjson_test(bool verbose)
{
    char err[256];
    msgpack_sbuffer a, b;
    (void)verbose;

    /* Round trip, and key order does not change the bytes. */
    json_t *x = selftest_json("{\"b\": [1, -2, 3.5, true, null, \"\u017eivnost\"], \"a\": {\"z\": 1, \"y\": \"K\u00fcche\"}}");
    json_t *y = selftest_json("{\"a\": {\"y\": \"K\u00fcche\", \"z\": 1}, \"b\": [1, -2, 3.5, true, null, \"\u017eivnost\"]}");
    CHECK(mpjson_encode(x, &a, err, sizeof(err)) == 0);
    CHECK(mpjson_encode(y, &b, err, sizeof(err)) == 0);
    CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);
    json_t *back = mpjson_decode(a.data, a.size, err, sizeof(err));
    CHECK(back != NULL && json_equal(back, x));
    json_decref(back);

    /* Trailing bytes and truncation are refused. */
    char *longer = xmalloc(a.size + 1);
    memcpy(longer, a.data, a.size);
    longer[a.size] = 0;
    CHECK(mpjson_decode(longer, a.size + 1, err, sizeof(err)) == NULL && strstr(err, "trailing"));
    for (size_t n = 0; n < a.size; n++)
        CHECK(mpjson_decode(a.data, n, err, sizeof(err)) == NULL);
    free(longer);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    json_decref(x);
    json_decref(y);

    /* Too deep nesting is refused both ways. */
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < MPJSON_MAX_DEPTH + 2; i++) {
        json_t *inner = json_array();
        json_array_append_new(cur, inner);
        cur = inner;
    }
    CHECK(mpjson_encode(deep, &a, err, sizeof(err)) == -1 && strstr(err, "deeper"));
    json_decref(deep);

    /* Non-string keys, invalid UTF-8 and duplicate keys are refused. */
    const char intkey[] = { (char)0x81, 0x01, 0x02 };
    CHECK(mpjson_decode(intkey, sizeof(intkey), err, sizeof(err)) == NULL);
    const char badutf[] = { (char)0xa2, (char)0xc3, 0x28 };
    CHECK(mpjson_decode(badutf, sizeof(badutf), err, sizeof(err)) == NULL && strstr(err, "UTF-8"));
    /* A container that declares more items than there are bytes is refused
     * before msgpack-c reserves memory for it. */
    const char huge[] = { (char)0xdd, 0x7f, (char)0xff, (char)0xff, (char)0xff, 0x01 };
    CHECK(mpjson_check_bounds(huge, sizeof(huge)) == -1);
    CHECK(mpjson_decode(huge, sizeof(huge), err, sizeof(err)) == NULL);
    const char hugestr[] = { (char)0xdb, 0x7f, (char)0xff, (char)0xff, (char)0xff, 'a' };
    CHECK(mpjson_check_bounds(hugestr, sizeof(hugestr)) == -1);
    const char fine[] = { (char)0x92, (char)0xc0, (char)0xa1, 'a' };
    CHECK(mpjson_check_bounds(fine, sizeof(fine)) == 0);
    CHECK(mpjson_check_bounds(fine, 3) == -1);
    const char dup[] = { (char)0x82, (char)0xa1, 'a', 0x01, (char)0xa1, 'a', 0x02 };
    CHECK(mpjson_decode(dup, sizeof(dup), err, sizeof(err)) == NULL && strstr(err, "duplicate key 'a'"));
    /* ...at any depth, named: {"e": [{"name": 1, "name": 2}]}. */
    const char dupdeep[] = { (char)0x81, (char)0xa1, 'e', (char)0x91, (char)0x82, (char)0xa4, 'n', 'a', 'm', 'e',
                             0x01, (char)0xa4, 'n', 'a', 'm', 'e', 0x02 };
    CHECK(mpjson_decode(dupdeep, sizeof(dupdeep), err, sizeof(err)) == NULL &&
          strstr(err, "duplicate key 'name'"));
    /* Keys that differ only after a NUL-free prefix are two keys. */
    const char twokeys[] = { (char)0x82, (char)0xa1, 'a', 0x01, (char)0xa2, 'a', 'b', 0x02 };
    json_t *two = mpjson_decode(twokeys, sizeof(twokeys), err, sizeof(err));
    CHECK(two != NULL && json_object_size(two) == 2);
    json_decref(two);
    return 0;
}

/* Checks that the entry text is refused and the error mentions want. */
