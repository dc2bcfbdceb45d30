/*
 * test_codes.c: code shapes, vocabularies, facet depths, the language to
 * show and the distance between two points.
 */
#include "codes.h"
#include "isocodes.h"
#include "selftest.h"

#include <math.h>
#include <string.h>

int
codes_test(bool verbose)
{
    (void)verbose;
    CHECK(code_country("AT") && !code_country("at") && !code_country("A") && !code_country("AUT"));
    CHECK(code_lang("de") && !code_lang("DE") && !code_lang("deu"));
    /* The lists (generated from iso-codes): real codes only. */
    CHECK(code_country_listed("AT") && code_country_listed("GR") && code_country_listed("GB"));
    CHECK(code_country_listed("SR") && code_country_listed("AD") && code_country_listed("ZW"));
    CHECK(!code_country_listed("EL") && !code_country_listed("UK") && !code_country_listed("QQ"));
    CHECK(code_country_listed("XK"));       /* Kosovo, as the EU writes it */
    CHECK(!code_country_listed("at") && !code_country_listed("AUT") && !code_country_listed(""));
    CHECK(code_lang_listed("de") && code_lang_listed("sl") && code_lang_listed("cs") && code_lang_listed("aa"));
    CHECK(code_lang_listed("zu") && !code_lang_listed("xx") && !code_lang_listed("DE") && !code_lang_listed("deu"));
    CHECK(strcmp(code_nuts_prefix("GR"), "EL") == 0 && strcmp(code_nuts_prefix("GB"), "UK") == 0);
    CHECK(strcmp(code_nuts_prefix("AT"), "AT") == 0);
    CHECK(strcmp(code_iso_for_nuts("EL"), "GR") == 0 && strcmp(code_iso_for_nuts("UK"), "GB") == 0);
    CHECK(code_iso_for_nuts("AT") == NULL && code_iso_for_nuts("GR") == NULL);
    CHECK(code_iso3166_count >= 249 && code_iso639_1_count >= 180);
    for (size_t i = 1; i < code_iso3166_count; i++)
        CHECK(strcmp(code_iso3166[i - 1], code_iso3166[i]) < 0);        /* sorted for bsearch */
    for (size_t i = 1; i < code_iso639_1_count; i++)
        CHECK(strcmp(code_iso639_1[i - 1], code_iso639_1[i]) < 0);
    CHECK(strncmp(code_iso_source, "iso-codes ", 10) == 0);

    CHECK(code_nuts("AT") && code_nuts("AT1") && code_nuts("AT12") && code_nuts("AT123"));
    CHECK(!code_nuts("12") && !code_nuts("AT1234") && !code_nuts("at12") && !code_nuts("A"));
    CHECK(code_nace("N") && code_nace("81") && code_nace("81.2") && code_nace("81.21"));
    CHECK(!code_nace("8") && !code_nace("812") && !code_nace("81.211") && !code_nace("8A") && !code_nace("n"));
    CHECK(code_cpv("90910000") && code_cpv("90910000-9"));
    CHECK(!code_cpv("9091") && !code_cpv("90910000-") && !code_cpv("90910000-99"));

    CHECK(code_cpv_prefix("90") == 2 && code_cpv_prefix("9091") == 4);
    CHECK(code_cpv_prefix("90910000") == 8 && code_cpv_prefix("90910000-9") == 8);
    CHECK(code_cpv_prefix("9") == 0 && code_cpv_prefix("909100001") == 0);
    CHECK(code_cpv_prefix("9091-1") == 0 && code_cpv_prefix("90910000-") == 0 && code_cpv_prefix("") == 0);

    CHECK(code_in(code_target_groups, "roma") && !code_in(code_target_groups, "Roma"));
    CHECK(code_in(code_org_types, "wise") && !code_in(code_org_types, ""));
    char buf[24];
    code_join(code_customer_types, buf, sizeof(buf));
    CHECK(strcmp(buf, "public_buyer, business,") == 0);     /* cut to fit */
    char all[128];
    code_join(code_customer_types, all, sizeof(all));
    CHECK(strcmp(all, "public_buyer, business, consumer") == 0);

    int lo = -1, hi = -1;
    CHECK(code_facet_depth("region", &lo, &hi) && lo == 0 && hi == 3);
    CHECK(code_facet_depth("cpv", &lo, &hi) && lo == 2 && hi == 8);
    CHECK(code_facet_depth("nace", &lo, &hi) && lo == 2 && hi == 4);
    CHECK(!code_facet_depth("country", &lo, &hi) && !code_facet_depth("kind", &lo, &hi));

    json_t *m = json_pack("{s:s, s:s, s:s}", "sl", "Zadruga", "de", "Genossenschaft", "hu", "Szövetkezet");
    CHECK(strcmp(code_text(m, NULL, NULL), "Genossenschaft") == 0);    /* first in code order */
    CHECK(strcmp(code_text(m, "hu", NULL), "Szövetkezet") == 0);
    CHECK(strcmp(code_text(m, "fr", "sl"), "Zadruga") == 0);
    json_object_set_new(m, "en", json_string("Cooperative"));
    CHECK(strcmp(code_text(m, "fr", NULL), "Cooperative") == 0);    /* English before the first */
    json_decref(m);
    m = json_pack("{s:i}", "de", 1);
    CHECK(code_text(m, NULL, NULL) == NULL && code_text(NULL, "de", NULL) == NULL);
    json_decref(m);

    /* St. Pölten to Maribor, about 183 km; across the antimeridian. */
    double km = code_distance_km(48.2, 15.63, 46.5547, 15.6459);
    CHECK(km > 182.5 && km < 183.5);
    CHECK(code_distance_km(0, 179.9, 0, -179.9) < 23);
    CHECK(fabs(code_distance_km(10, 20, 10, 20)) < 1e-9);
    return 0;
}
