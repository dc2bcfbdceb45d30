/*
 * codes.c: code shapes, vocabularies, search orders and facets, the
 * language to show and the distance between two points (codes.h).
 */
#include "codes.h"
#include "isocodes.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- code shapes ---- */

bool
code_pattern(const char *s, const char *pat)
{
    for (; *pat; pat++, s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\0')
            return false;
        switch (*pat) {
        case 'A': if (!isupper(c)) return false; break;
        case 'a': if (!islower(c)) return false; break;
        case '9': if (!isdigit(c)) return false; break;
        case 'X': if (!isupper(c) && !isdigit(c)) return false; break;
        default:  if (c != (unsigned char)*pat) return false;
        }
    }
    return *s == '\0';
}

bool
code_lang(const char *s)
{
    return code_pattern(s, "aa");
}

bool
code_country(const char *s)
{
    return code_pattern(s, "AA");
}

bool
code_nuts(const char *s)
{
    return code_pattern(s, "AA") || code_pattern(s, "AAX") || code_pattern(s, "AAXX") ||
           code_pattern(s, "AAXXX");
}

bool
code_nace(const char *s)
{
    return code_pattern(s, "A") || code_pattern(s, "99") || code_pattern(s, "99.9") ||
           code_pattern(s, "99.99");
}

bool
code_cpv(const char *s)
{
    return code_pattern(s, "99999999") || code_pattern(s, "99999999-9");
}

size_t
code_cpv_prefix(const char *s)
{
    size_t n = strspn(s, "0123456789");
    if (n == 8 && code_pattern(s + 8, "-9"))
        return n;
    return (n >= 2 && n <= 8 && s[n] == '\0') ? n : 0;
}

/* ---- code lists ---- */

static int
s_strcmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool
s_listed(const char (*list)[3], size_t n, const char *s)
{
    return strlen(s) == 2 && bsearch(s, list, n, sizeof(list[0]), s_strcmp) != NULL;
}

/* XK, Kosovo: a user-assigned code outside ISO 3166-1 that the European
 * Commission, Eurostat and EU programmes use for it, and so do partners. */
bool
code_country_listed(const char *s)
{
    return s_listed(code_iso3166, code_iso3166_count, s) || strcmp(s, "XK") == 0;
}

bool
code_lang_listed(const char *s)
{
    return s_listed(code_iso639_1, code_iso639_1_count, s);
}

/* Where NUTS and ISO 3166-1 write a country differently. */
static const struct { const char *iso, *nuts; } s_nuts_names[] = {
    { "GR", "EL" },         /* Greece */
    { "GB", "UK" },         /* the United Kingdom (NUTS 2016) */
};

const char *
code_nuts_prefix(const char *country)
{
    for (size_t i = 0; i < sizeof(s_nuts_names) / sizeof(s_nuts_names[0]); i++)
        if (strcmp(s_nuts_names[i].iso, country) == 0)
            return s_nuts_names[i].nuts;
    return country;
}

const char *
code_iso_for_nuts(const char *s)
{
    for (size_t i = 0; i < sizeof(s_nuts_names) / sizeof(s_nuts_names[0]); i++)
        if (strcmp(s_nuts_names[i].nuts, s) == 0)
            return s_nuts_names[i].iso;
    return NULL;
}

/* ---- vocabularies ---- */

const char *const code_org_types[] = { "wise", "social_cooperative",
    "sheltered_workshop", "social_business", "support_org", "network",
    "public_body", "company", NULL };
const char *const code_target_groups[] = { "pwd", "pwd_mental", "ltu",
    "youth_neet", "older_50plus", "low_skilled", "migrant_refugee", "roma",
    "ex_offender", "homeless", "addiction_recovery", "other", NULL };
const char *const code_partnership_types[] = { "b2b_supply", "outsourcing",
    "insourcing", "subcontracting", "reserved_contract", "joint_bid",
    "internship_host", "mentoring", "municipal_programme", NULL };
const char *const code_offer_types[] = { "product", "service", "staffing",
    "internship", "space", NULL };
const char *const code_customer_types[] = { "public_buyer", "business",
    "consumer", NULL };
const char *const code_roles[] = { "buyer", "supplier", "subcontractor",
    "host", "mentor", "funder", NULL };
const char *const code_event_types[] = { "matchmaking_day", "fair",
    "seminar", "workshop", "study_visit", "conference", NULL };
const char *const code_programme_types[] = { "accelerator", "mentoring",
    "funding_call", "training", "internship_exchange", "info_point", NULL };

bool
code_in(const char *const *vocab, const char *s)
{
    for (; *vocab; vocab++)
        if (strcmp(*vocab, s) == 0)
            return true;
    return false;
}

void
code_join(const char *const *vocab, char *buf, size_t len)
{
    size_t n = 0;
    if (len > 0)
        buf[0] = '\0';
    for (; *vocab && n < len; vocab++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", *vocab);
}

/* ---- a search request ---- */

const char *const code_sorts[] = { "relevance", "name", "updated", "distance", NULL };
const char *const code_facets[] = { "region", "country", "cpv", "nace", "label", "kind", NULL };

bool
code_facet_depth(const char *facet, int *min, int *max)
{
    static const struct { const char *facet; int min, max; } depths[] = {
        { "region", 0, 3 },     /* NUTS level */
        { "cpv", 2, 8 },        /* digits */
        { "nace", 2, 4 },       /* digits */
    };
    for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++)
        if (strcmp(depths[i].facet, facet) == 0) {
            *min = depths[i].min;
            *max = depths[i].max;
            return true;
        }
    return false;
}

/* ---- text and place ---- */

const char *
code_text(const json_t *map, const char *want, const char *also)
{
    const char *s, *key, *first = NULL;
    json_t *v;

    if (!json_is_object(map))
        return NULL;
    if (want != NULL && (s = json_string_value(json_object_get(map, want))) != NULL)
        return s;
    if (also != NULL && (s = json_string_value(json_object_get(map, also))) != NULL)
        return s;
    if ((s = json_string_value(json_object_get(map, "en"))) != NULL)
        return s;
    json_object_foreach((json_t *)map, key, v)
        if (json_is_string(v) && (first == NULL || strcmp(key, first) < 0))
            first = key;
    return first ? json_string_value(json_object_get(map, first)) : NULL;
}

double
code_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double deg = 3.14159265358979323846 / 180.0;
    double dlat = (lat2 - lat1) * deg, dlon = (lon2 - lon1) * deg;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * deg) * cos(lat2 * deg) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * CODE_EARTH_KM * asin(sqrt(a < 1 ? a : 1));
}
