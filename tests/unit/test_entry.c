/*
 * test_entry.c: JSON <-> msgpack conversion, entry validation and
 * indexing, control message framing.
 */
#include "entry.h"
#include "mpjson.h"
#include "msg.h"
#include "selftest.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static json_t *
s_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (v == NULL)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return v;
}

int
mpjson_test(bool verbose)
{
    char err[256];
    msgpack_sbuffer a, b;
    (void)verbose;

    /* Round trip, and key order does not change the bytes. */
    json_t *x = s_json("{\"b\": [1, -2, 3.5, true, null, \"\u017eivnost\"], \"a\": {\"z\": 1, \"y\": \"K\u00fcche\"}}");
    json_t *y = s_json("{\"a\": {\"y\": \"K\u00fcche\", \"z\": 1}, \"b\": [1, -2, 3.5, true, null, \"\u017eivnost\"]}");
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
    CHECK(mpjson_decode(dup, sizeof(dup), err, sizeof(err)) == NULL && strstr(err, "duplicate"));
    return 0;
}

/* Checks that the entry text is refused and the error mentions want. */
static void
s_refused(const char *text, const char *want)
{
    char err[ENTRY_ERR_MAX] = "";
    json_t *e = s_json(text);
    int rc = entry_validate(e, err, sizeof(err));
    CHECK(rc == -1);
    if (rc != -1 || strstr(err, want) == NULL)
        fprintf(stderr, "  entry %s\n  gave '%s', wanted '%s'\n", text, err, want);
    CHECK(strstr(err, want) != NULL);
    json_decref(e);
}

static void
s_accepted(const char *text)
{
    char err[ENTRY_ERR_MAX] = "";
    json_t *e = s_json(text);
    int rc = entry_validate(e, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "  entry %s\n  refused: %s\n", text, err);
    CHECK(rc == 0);
    json_decref(e);
}

#define ORG "\"id\":\"org-1\",\"kind\":\"organisation\",\"name\":{\"de\":\"Glanzwerk\"},\"country\":\"AT\""

int
entry_test(bool verbose)
{
    (void)verbose;
    s_accepted("{" ORG "}");
    s_accepted("{" ORG ",\"region\":\"AT123\",\"nace\":[\"81.21\",\"81\"],\"cpv\":[\"90910000-9\",\"90910000\"],"
               "\"geo\":{\"lat\":48.2,\"lon\":15.6},\"labels\":[\"EU-ART20\"],\"disadvantaged_share\":48,"
               "\"org_types\":[\"wise\"],\"target_groups\":[\"ltu\",\"pwd\"],\"languages\":[\"de\",\"en\"],"
               "\"future_field\":{\"anything\":[1,2]}}");
    s_accepted("{\"id\":\"ev.1\",\"kind\":\"event\",\"name\":{\"sl\":\"Dan\"},\"event_type\":\"matchmaking_day\","
               "\"start\":\"2027-01-21T09:00:00+01:00\",\"end\":\"2027-01-21T16:30:00.5Z\"}");
    s_accepted("{\"id\":\"o1\",\"kind\":\"offer\",\"name\":{\"da\":\"Rengøring\"},\"organisation\":\"org-1\","
               "\"offer_type\":\"service\",\"lead_time_days\":5,\"customer_types\":[\"public_buyer\"]}");
    s_accepted("{\"id\":\"p1\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"insourcing\"],"
               "\"partners\":[{\"name\":\"Firma\",\"country\":\"SE\",\"role\":\"buyer\"},{\"ref\":\"org-1\"}]}");
    s_accepted("{\"id\":\"g1\",\"kind\":\"programme\",\"name\":{\"en\":\"x\"},\"programme_type\":\"funding_call\","
               "\"deadline\":\"2027-03-01\"}");
    s_accepted("{" ORG ",\"seq\":4,\"origin\":\"x\",\"verified\":true}");   /* read-only fields ignored */

    s_refused("[1]", "not a JSON object");
    s_refused("{\"kind\":\"organisation\"}", "field 'id': required");
    s_refused("{\"id\":\"a b\",\"kind\":\"organisation\"}", "field 'id'");
    s_refused("{\"id\":\"x\",\"kind\":\"shop\",\"name\":{\"en\":\"x\"}}", "field 'kind'");
    s_refused("{\"id\":\"x\",\"kind\":\"organisation\",\"country\":\"AT\"}", "field 'name': required");
    s_refused("{\"id\":\"x\",\"kind\":\"organisation\",\"name\":{\"en\":\"x\"}}", "field 'country': required");
    s_refused("{" ORG ",\"name\":{\"deu\":\"x\"}}", "ISO 639-1");
    s_refused("{" ORG ",\"name\":{}}", "field 'name'");
    s_refused("{\"id\":\"x\",\"kind\":\"organisation\",\"name\":{\"en\":\"x\"},\"country\":\"Austria\"}",
              "field 'country': 'Austria' is not an ISO 3166-1");
    s_refused("{" ORG ",\"region\":\"SI032\"}", "not in country AT");
    s_refused("{" ORG ",\"region\":\"at12\"}", "NUTS");
    s_refused("{" ORG ",\"nace\":[\"8121\"]}", "field 'nace': item 0");
    s_refused("{" ORG ",\"cpv\":[\"9091000\"]}", "CPV");
    s_refused("{" ORG ",\"geo\":{\"lat\":91,\"lon\":0}}", "lat");
    s_refused("{" ORG ",\"disadvantaged_share\":130}", "disadvantaged_share");
    s_refused("{" ORG ",\"org_types\":[\"charity\"]}", "'charity' is not one of");
    s_refused("{" ORG ",\"target_groups\":[\"students\"]}", "target_groups");
    s_refused("{" ORG ",\"email\":\"nobody\"}", "e-mail");
    s_refused("{" ORG ",\"event_type\":\"fair\"}", "not allowed for kind organisation");
    s_refused("{\"id\":\"e\",\"kind\":\"event\",\"name\":{\"en\":\"x\"},\"event_type\":\"fair\","
              "\"start\":\"21.01.2027\"}", "RFC 3339");
    s_refused("{\"id\":\"e\",\"kind\":\"event\",\"name\":{\"en\":\"x\"},\"event_type\":\"fair\","
              "\"start\":\"2027-02-30\"}", "field 'start'");
    /* A sign where a month's digits belong (sscanf would read it). */
    s_refused("{\"id\":\"e\",\"kind\":\"event\",\"name\":{\"en\":\"x\"},\"event_type\":\"fair\","
              "\"start\":\"2027-+1-05T10:00:00Z\"}", "field 'start'");
    s_refused("{\"id\":\"e\",\"kind\":\"event\",\"name\":{\"en\":\"x\"},\"event_type\":\"party\","
              "\"start\":\"2027-02-03\"}", "event_type");
    s_refused("{\"id\":\"o\",\"kind\":\"offer\",\"name\":{\"en\":\"x\"},\"offer_type\":\"service\"}",
              "field 'organisation': required");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[],"
              "\"partners\":[{\"name\":\"x\"}]}", "at least one");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
              "\"partners\":[{\"country\":\"AT\"}]}", "needs \"ref\" or \"name\"");

    /* Times parse to the right instant. */
    int64_t ms;
    CHECK(entry_parse_time("2027-01-21T09:00:00+01:00", &ms) == 0 && ms == 1800518400000LL);
    CHECK(entry_parse_time("2027-01-21T08:00:00Z", &ms) == 0 && ms == 1800518400000LL);
    CHECK(entry_parse_time("2027-01-21", &ms) == 0 && ms == 1800489600000LL);
    CHECK(entry_parse_time("2027-01-21T08:00:00", &ms) == -1);

    /* The body drops header and read-only fields; the index sees every language. */
    json_t *e = s_json("{" ORG ",\"seq\":3,\"name\":{\"de\":\"Soziale K\u00fcche\",\"en\":\"Social kitchen\"},"
                       "\"cpv\":[\"55520000-1\"],\"tags\":[\"mittag\"],\"languages\":[\"hu\"],"
                       "\"geo\":{\"lat\":47.8,\"lon\":16.2}}");
    json_t *body = entry_body(e);
    CHECK(json_object_get(body, "id") == NULL && json_object_get(body, "kind") == NULL &&
          json_object_get(body, "seq") == NULL && json_object_get(body, "name") != NULL);
    entry_index_t ix;
    entry_index_build(body, &ix);
    CHECK(strcmp(ix.name, "Social kitchen") == 0);
    CHECK(strstr(ix.text_name, "K\u00fcche") != NULL && strstr(ix.text_name, "Social") != NULL);
    CHECK(strcmp(ix.country, "AT") == 0 && ix.region == NULL && ix.has_geo && ix.lat == 47.8);
    int langs = 0, cpv8 = 0;
    for (size_t i = 0; i < ix.nattrs; i++) {
        langs += ix.attrs[i].field == ATTR_LANG;
        cpv8 += ix.attrs[i].field == ATTR_CPV && strcmp(ix.attrs[i].value, "55520000") == 0;
    }
    CHECK(langs == 3);      /* de, en from the name; hu from languages */
    CHECK(cpv8 == 1);       /* check digit stripped */
    entry_index_free(&ix);
    json_decref(body);
    json_decref(e);
    return 0;
}

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
