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
