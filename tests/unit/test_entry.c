/*
 * test_entry.c: entry validation and indexing (proto/entry.c).
 */
#include "entry.h"
#include "selftest.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void
s_refused(const char *text, const char *want)
{
    char err[ENTRY_ERR_MAX] = "";
    json_t *e = selftest_json(text);
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
    json_t *e = selftest_json(text);
    int rc = entry_validate(e, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "  entry %s\n  refused: %s\n", text, err);
    CHECK(rc == 0);
    json_decref(e);
}

#define ORG "\"id\":\"org-1\",\"kind\":\"organisation\",\"name\":{\"de\":\"Glanzwerk\"},\"country\":\"AT\""
#define ORGNOC "\"id\":\"org-1\",\"kind\":\"organisation\",\"name\":{\"de\":\"Glanzwerk\"}"
#define EVENT "\"id\":\"e\",\"kind\":\"event\",\"name\":{\"en\":\"x\"},\"event_type\":\"fair\""

/* Countries and languages are looked up in the ISO lists; NUTS prefixes
 * follow the country, EL for GR and UK for GB. */
static void
s_test_lists(void)
{
    s_accepted("{" ORGNOC ",\"country\":\"GR\",\"region\":\"EL30\"}");
    s_accepted("{" ORGNOC ",\"country\":\"GB\",\"region\":\"UKI3\"}");
    s_accepted("{" ORGNOC ",\"country\":\"SR\"}");        /* Suriname: a real code */
    s_accepted("{" ORGNOC ",\"country\":\"GR\"}");
    s_accepted("{" ORG ",\"languages\":[\"sl\",\"cs\",\"el\",\"zh\"],\"name\":{\"cs\":\"x\",\"el\":\"y\"}}");
    s_refused("{" ORGNOC ",\"country\":\"GR\",\"region\":\"GR30\"}",
              "'GR30' is not in country GR (its NUTS codes start with EL)");
    s_refused("{" ORGNOC ",\"country\":\"GB\",\"region\":\"GBI3\"}", "start with UK");
    s_refused("{" ORGNOC ",\"country\":\"AT\",\"region\":\"EL30\"}", "not in country AT");
    s_refused("{" ORGNOC ",\"country\":\"EL\"}", "field 'country': 'EL' is the NUTS prefix");
    s_refused("{" ORGNOC ",\"country\":\"EL\",\"region\":\"EL30\"}", "use GR");
    s_refused("{" ORGNOC ",\"country\":\"UK\"}", "use GB");
    s_accepted("{" ORGNOC ",\"country\":\"XK\"}");        /* Kosovo, as the EU writes it */
    s_refused("{" ORGNOC ",\"country\":\"QQ\"}", "'QQ' is not an ISO 3166-1 alpha-2 code");
    s_refused("{" ORGNOC ",\"country\":\"ZZ\"}", "'ZZ' is not an ISO 3166-1");
    s_refused("{" ORGNOC ",\"country\":\"at\"}", "'at' is not an ISO 3166-1");
    s_refused("{" ORG ",\"languages\":[\"de\",\"xx\"]}", "field 'languages': item 1: 'xx' is not an ISO 639-1");
    s_refused("{" ORG ",\"name\":{\"qq\":\"x\"}}", "key 'qq' is not an ISO 639-1");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
              "\"partners\":[{\"name\":\"x\",\"country\":\"UK\"}]}", "country 'UK' is the NUTS prefix");
}

/* Dates exist in the calendar; an end is not before its start. */
static void
s_test_dates(void)
{
    int64_t ms;
    CHECK(entry_month_days(2027, 2) == 28 && entry_month_days(2028, 2) == 29);
    CHECK(entry_month_days(1900, 2) == 28 && entry_month_days(2000, 2) == 29);
    CHECK(entry_month_days(2027, 4) == 30 && entry_month_days(2027, 12) == 31);
    CHECK(entry_month_days(2027, 0) == 0 && entry_month_days(2027, 13) == 0);
    CHECK(entry_parse_time("2028-02-29", &ms) == 0);
    CHECK(entry_parse_time("2027-02-29", &ms) == -1);
    CHECK(entry_parse_time("2100-02-29T10:00:00Z", &ms) == -1);
    CHECK(entry_parse_time("2000-02-29T10:00:00Z", &ms) == 0);
    CHECK(entry_parse_time("2027-04-31", &ms) == -1 && entry_parse_time("2027-04-30", &ms) == 0);
    CHECK(entry_parse_time("2027-00-10", &ms) == -1 && entry_parse_time("2027-12-00", &ms) == -1);

    s_accepted("{" EVENT ",\"start\":\"2028-02-29\"}");
    s_refused("{" EVENT ",\"start\":\"2027-02-29\"}", "field 'start': must be an RFC 3339");
    s_refused("{" EVENT ",\"start\":\"2027-02-29\"}", "of a day that exists");
    s_refused("{" EVENT ",\"start\":\"2027-01-10\",\"end\":\"2027-02-29\"}", "field 'end'");
    s_refused("{\"id\":\"g\",\"kind\":\"programme\",\"name\":{\"en\":\"x\"},\"programme_type\":\"training\","
              "\"deadline\":\"2027-02-29\"}", "field 'deadline'");
    s_accepted("{" EVENT ",\"start\":\"2027-03-10\",\"end\":\"2027-03-10\"}");
    s_accepted("{" EVENT ",\"start\":\"2027-03-10T09:00:00+01:00\",\"end\":\"2027-03-10\"}");
    s_accepted("{" EVENT ",\"start\":\"2027-03-10T09:00:00+01:00\",\"end\":\"2027-03-10T08:00:00Z\"}");
    s_refused("{" EVENT ",\"start\":\"2027-03-10\",\"end\":\"2027-03-09\"}",
              "field 'end': 2027-03-09 is before start 2027-03-10");
    s_refused("{" EVENT ",\"start\":\"2027-03-10T09:00:00+01:00\",\"end\":\"2027-03-10T07:59:59Z\"}",
              "is before start");
    s_refused("{" EVENT ",\"start\":\"2027-03-10T09:00:00Z\",\"end\":\"2027-03-09T23:00:00Z\"}",
              "is before start");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
              "\"partners\":[{\"name\":\"x\"}],\"start\":\"2027-05-01\",\"end\":\"2026-05-01\"}", "field 'end'");
}

/* Control characters and bidirectional controls in text. */
static void
s_test_text(void)
{
    char err[ENTRY_ERR_MAX];
    /* Each class, at its edges. */
    static const char *const bad[] = { "\x01", "\x1b", "\x1f", "\r", "\x7f", "\xc2\x80", "\xc2\x9b",
        "\xc2\x9f", "\xe2\x80\xaa", "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x81\xa9", NULL };
    static const char *const good[] = { " ", "~", "\xc2\xa0", "\xe2\x80\x8f", "\xe2\x80\xa9", "\xe2\x80\xaf",
        "\xe2\x81\xa5", "\xe2\x81\xaa", "\xc3\xb6", NULL };
    for (const char *const *b = bad; *b; b++) {
        char s[16];
        snprintf(s, sizeof(s), "ab%scd", *b);
        CHECK(entry_check_text(s, strlen(s), true, err, sizeof(err)) == -1 && strstr(err, "at byte 2"));
        CHECK(entry_check_text(s, strlen(s), false, err, sizeof(err)) == -1);
    }
    for (const char *const *g = good; *g; g++) {
        char s[16];
        snprintf(s, sizeof(s), "ab%scd", *g);
        CHECK(entry_check_text(s, strlen(s), false, err, sizeof(err)) == 0);
    }
    CHECK(entry_check_text("a\0b", 3, true, err, sizeof(err)) == -1 && strstr(err, "U+0000"));
    CHECK(entry_check_text("a\nb\tc", 5, true, err, sizeof(err)) == 0);
    CHECK(entry_check_text("a\nb", 3, false, err, sizeof(err)) == -1 && strstr(err, "U+000A"));
    CHECK(entry_check_text("a\tb", 3, false, err, sizeof(err)) == -1 && strstr(err, "U+0009"));
    CHECK(entry_check_text("\xe2\x80\xae", 3, false, err, sizeof(err)) == -1 &&
          strstr(err, "bidirectional control U+202E"));
    CHECK(entry_check_text("\xc2\x9b", 2, false, err, sizeof(err)) == -1 && strstr(err, "U+009B"));

    /* Through the validator: every text field, newline and tab in the long texts only. */
    s_refused("{" ORG ",\"name\":{\"en\":\"\\u001b[31mRed\"}}", "field 'name': text for 'en' holds the control character U+001B");
    s_refused("{" ORG ",\"summary\":{\"en\":\"a\\nb\"}}", "field 'summary'");
    s_refused("{" ORG ",\"name\":{\"en\":\"a\\tb\"}}", "newline and tab only in description");
    s_refused("{" ORG ",\"description\":{\"en\":\"a\\rb\"}}", "U+000D");
    s_refused("{" ORG ",\"description\":{\"en\":\"a\\u202eb\"}}", "U+202E");
    json_t *e = selftest_json("{" ORG "}");
    json_object_set_new(e, "description", json_pack("{s:o}", "en", json_stringn("a\0b", 3)));
    CHECK(entry_validate(e, err, sizeof(err)) == -1 && strstr(err, "U+0000 at byte 1"));
    json_decref(e);
    s_refused("{" ORG ",\"legal_form\":\"GmbH\\u0085\"}", "field 'legal_form'");
    s_refused("{" ORG ",\"tags\":[\"ok\",\"b\\u2066ad\"]}", "field 'tags': item 1");
    s_refused("{" ORG ",\"labels\":[\"\\u007f\"]}", "field 'labels'");
    s_refused("{" ORG ",\"website\":\"https://x.example/\\u001b]8;;\"}", "field 'website'");
    s_refused("{" ORG ",\"phone\":\"+43\\n1\"}", "field 'phone'");
    s_refused("{" ORG ",\"address\":{\"city\":\"Wien\\u001b\"}}", "field 'address': 'city' holds");
    s_refused("{" ORG ",\"address\":{\"street\":\"a\\nb\"}}", "'street' holds");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
              "\"partners\":[{\"name\":\"x\\u009b\"}]}", "name holds");
    s_refused("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
              "\"partners\":[{\"name\":\"x\"}],\"outcome\":{\"en\":\"\\u202a\"}}", "field 'outcome'");
    s_accepted("{" ORG ",\"description\":{\"en\":\"line 1\\n\\tline 2\\n\"}}");
    s_accepted("{\"id\":\"p\",\"kind\":\"partnership\",\"name\":{\"en\":\"x\"},\"partnership_types\":[\"mentoring\"],"
               "\"partners\":[{\"name\":\"x\"}],\"outcome\":{\"en\":\"a\\n\\tb\"}}");
    s_accepted("{\"id\":\"g\",\"kind\":\"programme\",\"name\":{\"en\":\"x\"},\"programme_type\":\"training\","
               "\"eligibility\":{\"en\":\"- a\\n- b\"}}");
    /* Unknown fields are not checked: a newer node may define them. */
    s_accepted("{" ORG ",\"x_note\":\"\\u001b[0m\"}");
}

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

    s_test_lists();
    s_test_dates();
    s_test_text();

    /* Times parse to the right instant. */
    int64_t ms;
    CHECK(entry_parse_time("2027-01-21T09:00:00+01:00", &ms) == 0 && ms == 1800518400000LL);
    CHECK(entry_parse_time("2027-01-21T08:00:00Z", &ms) == 0 && ms == 1800518400000LL);
    CHECK(entry_parse_time("2027-01-21", &ms) == 0 && ms == 1800489600000LL);
    CHECK(entry_parse_time("2027-01-21T08:00:00", &ms) == -1);

    /* The body drops header and read-only fields; the index sees every language. */
    json_t *e = selftest_json("{" ORG ",\"seq\":3,\"name\":{\"de\":\"Soziale K\u00fcche\",\"en\":\"Social kitchen\"},"
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
