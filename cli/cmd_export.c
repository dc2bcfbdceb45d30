/*
 * cmd_export.c: export, every entry of the node's merged view.
 *
 * The node hands out its view in pages ("after" cursor); every format
 * walks those pages. NDJSON, JSON and CSV stream each page out as it
 * comes, so memory stays one page however large the view is. --jsonld
 * streams too (one schema.org node per entry in "@graph"). --hsds needs
 * three lists (organizations, services, locations) in one document, so it
 * gathers the mapped records first and prints them at the end.
 *
 * The schema.org and HSDS mappings are documented in README.md ("Export").
 * Deleted entries (tombstones) are skipped in both; NDJSON, JSON and CSV
 * print them, as they are part of the view.
 */
#include "cli.h"
#include "codes.h"
#include "msg.h"
#include "render.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Formats beyond render_fmt_t's. */
enum { FMT_JSONLD = 100, FMT_HSDS };

/* What one export run keeps between pages. */
struct export {
    int fmt;
    size_t n;                           /* entries printed so far */
    json_t *orgs, *services, *locations; /* --hsds: gathered records */
};

/* ---- shared by the mappings ---- */

/* A text field (a map of language to text) in English if present, else
 * in its first language in code order; NULL if none. */
static const char *
s_text(const json_t *e, const char *field)
{
    return code_text(json_object_get(e, field), NULL, NULL);
}

/* The longer text of an entry: its description in English, else its
 * summary in English, else the description, else the summary in their
 * first language. */
static const char *
s_desc(const json_t *e)
{
    const char *s = json_string_value(json_object_get(json_object_get(e, "description"), "en"));
    if (s == NULL)
        s = json_string_value(json_object_get(json_object_get(e, "summary"), "en"));
    if (s == NULL)
        s = s_text(e, "description");
    return s ? s : s_text(e, "summary");
}

static const char *
s_str(const json_t *e, const char *field)
{
    return json_string_value(json_object_get(e, field));
}

/* Sets key to a copy of string s when s is not NULL. */
static void
s_set_str(json_t *o, const char *key, const char *s)
{
    if (s != NULL)
        json_object_set_new(o, key, json_string(s));
}

/* Sets key to a copy of e's field when it is present. */
static void
s_copy(json_t *o, const char *key, const json_t *e, const char *field)
{
    json_t *v = json_object_get(e, field);
    if (v != NULL)
        json_object_set(o, key, v);
}

/* "ORIGIN/ID" of e; a new string, or NULL when e lacks either. */
static json_t *
s_ref(const json_t *e)
{
    const char *origin = s_str(e, "origin"), *id = s_str(e, "id");
    return origin && id ? json_sprintf("%s/%s", origin, id) : NULL;
}

/* "ORIGIN/ID" for a reference written in e: kept when it names its origin
 * ("ORIGIN/ID"), else read as an entry of e's own origin. */
static json_t *
s_ref_to(const json_t *e, const char *ref)
{
    const char *origin = s_str(e, "origin");
    if (ref == NULL)
        return NULL;
    if (strchr(ref, '/') != NULL)
        return json_string(ref);
    return origin ? json_sprintf("%s/%s", origin, ref) : NULL;
}

/* ---- schema.org JSON-LD ---- */

/* {"@id": "socdir:REF"} for a reference, or NULL. ref is stolen. */
static json_t *
s_ld_id(json_t *ref)
{
    json_t *o = ref ? json_pack("{s:o}", "@id", json_sprintf("socdir:%s", json_string_value(ref))) : NULL;
    json_decref(ref);
    return o;
}

static json_t *
s_ld_address(const json_t *e)
{
    json_t *a = json_object_get(e, "address");
    if (!json_is_object(a))
        return NULL;
    json_t *pa = json_pack("{s:s}", "@type", "PostalAddress");
    s_copy(pa, "streetAddress", a, "street");
    s_copy(pa, "postalCode", a, "postcode");
    s_copy(pa, "addressLocality", a, "city");
    s_copy(pa, "addressCountry", e, "country");
    return pa;
}

static json_t *
s_ld_geo(const json_t *e)
{
    json_t *g = json_object_get(e, "geo");
    json_t *lat = json_object_get(g, "lat"), *lon = json_object_get(g, "lon");
    if (!json_is_number(lat) || !json_is_number(lon))
        return NULL;
    return json_pack("{s:s, s:O, s:O}", "@type", "GeoCoordinates", "latitude", lat, "longitude", lon);
}

/* Appends a PropertyValue {propertyID, value} to o's additionalProperty
 * for v, or for each item when v is a list. */
static void
s_ld_prop(json_t *o, const char *pid, const json_t *v)
{
    json_t *list = json_object_get(o, "additionalProperty"), *item;
    size_t i;

    if (v == NULL)
        return;
    if (list == NULL) {
        list = json_array();
        json_object_set_new(o, "additionalProperty", list);
    }
    if (!json_is_array(v)) {
        json_array_append_new(list, json_pack("{s:s, s:s, s:O}", "@type", "PropertyValue",
                                              "propertyID", pid, "value", v));
        return;
    }
    json_array_foreach(v, i, item)
        s_ld_prop(o, pid, item);
}

/* areaServed: the entry's NUTS region, else its country. */
static void
s_ld_area(json_t *o, const json_t *e)
{
    json_t *v = json_object_get(e, "region");
    if (v == NULL)
        v = json_object_get(e, "country");
    if (json_is_string(v))
        json_object_set_new(o, "areaServed",
                            json_pack("{s:s, s:O}", "@type", "AdministrativeArea", "identifier", v));
}

/* The fields every node gets: @id, @type, identifier, name, description. */
static json_t *
s_ld_node(const json_t *e, const char *type)
{
    json_t *ref = s_ref(e);
    json_t *o = json_pack("{s:o, s:s}", "@id", json_sprintf("socdir:%s", json_string_value(ref)),
                          "@type", type);
    json_object_set_new(o, "identifier", ref);
    s_set_str(o, "name", s_text(e, "name"));
    s_set_str(o, "description", s_desc(e));
    return o;
}

/* Place (address, geo) and VirtualLocation (online_url) of an event. */
static json_t *
s_ld_location(const json_t *e, bool *physical, bool *online)
{
    json_t *loc = json_array(), *addr = s_ld_address(e), *geo = s_ld_geo(e);
    const char *url = s_str(e, "online_url");

    *physical = addr != NULL || geo != NULL;
    *online = url != NULL;
    if (*physical) {
        json_t *place = json_pack("{s:s}", "@type", "Place");
        if (addr)
            json_object_set_new(place, "address", addr);
        if (geo)
            json_object_set_new(place, "geo", geo);
        json_array_append_new(loc, place);
    }
    if (*online)
        json_array_append_new(loc, json_pack("{s:s, s:s}", "@type", "VirtualLocation", "url", url));
    return loc;
}

/* The schema.org node of a live entry; NULL for an unknown kind. One
 * case per kind, each a short list of property mappings: long, but read
 * best as one table beside the schema.org types. */
static json_t *
s_jsonld(const json_t *e)
{
    const char *kind = s_str(e, "kind");
    json_t *o, *v;

    if (kind == NULL || s_str(e, "id") == NULL || s_str(e, "origin") == NULL)
        return NULL;
    if (strcmp(kind, "organisation") == 0) {
        o = s_ld_node(e, "Organization");
        if ((v = s_ld_address(e)) != NULL)
            json_object_set_new(o, "address", v);
        if ((v = s_ld_geo(e)) != NULL)
            json_object_set_new(o, "geo", v);
        s_copy(o, "url", e, "website");
        s_copy(o, "email", e, "email");
        s_copy(o, "telephone", e, "phone");
        s_copy(o, "knowsLanguage", e, "languages");
        s_copy(o, "keywords", e, "tags");
        s_ld_area(o, e);
        s_ld_prop(o, "NUTS", json_object_get(e, "region"));
        s_ld_prop(o, "NACE", json_object_get(e, "nace"));
        s_ld_prop(o, "CPV", json_object_get(e, "cpv"));
        s_ld_prop(o, "label", json_object_get(e, "labels"));
        s_ld_prop(o, "legal_form", json_object_get(e, "legal_form"));
        s_ld_prop(o, "disadvantaged_share", json_object_get(e, "disadvantaged_share"));
    } else if (strcmp(kind, "offer") == 0) {
        o = s_ld_node(e, "Offer");
        if ((v = s_ld_id(s_ref_to(e, s_str(e, "organisation")))) != NULL)
            json_object_set_new(o, "offeredBy", v);
        s_copy(o, "category", e, "cpv");
        s_copy(o, "businessFunction", e, "offer_type");
        s_ld_area(o, e);
        s_copy(o, "keywords", e, "tags");
    } else if (strcmp(kind, "event") == 0) {
        bool physical, online;
        o = s_ld_node(e, "Event");
        s_copy(o, "startDate", e, "start");
        s_copy(o, "endDate", e, "end");
        json_object_set_new(o, "location", s_ld_location(e, &physical, &online));
        json_object_set_new(o, "eventAttendanceMode",
                            json_string(physical && online ? "https://schema.org/MixedEventAttendanceMode"
                                        : online ? "https://schema.org/OnlineEventAttendanceMode"
                                                 : "https://schema.org/OfflineEventAttendanceMode"));
        s_copy(o, "url", e, "registration_url");
        s_copy(o, "inLanguage", e, "languages");
        s_copy(o, "keywords", e, "tags");
    } else if (strcmp(kind, "programme") == 0) {
        o = s_ld_node(e, "Service");
        s_copy(o, "serviceType", e, "programme_type");
        s_copy(o, "url", e, "website");
        s_set_str(o, "termsOfService", s_text(e, "eligibility"));
        s_ld_area(o, e);
        s_copy(o, "keywords", e, "tags");
        s_ld_prop(o, "deadline", json_object_get(e, "deadline"));
    } else if (strcmp(kind, "partnership") == 0) {
        json_t *members = json_array(), *p;
        size_t i;
        o = s_ld_node(e, "Project");
        s_copy(o, "foundingDate", e, "start");
        s_copy(o, "dissolutionDate", e, "end");
        json_array_foreach(json_object_get(e, "partners"), i, p) {
            json_t *who = s_ld_id(s_ref_to(e, s_str(p, "ref")));
            /* A partner outside the directory: its name and country. */
            if (who == NULL) {
                who = json_pack("{s:s}", "@type", "Organization");
                s_copy(who, "name", p, "name");
                if (json_object_get(p, "country") != NULL)
                    json_object_set_new(who, "address",
                                        json_pack("{s:s, s:O}", "@type", "PostalAddress", "addressCountry",
                                                  json_object_get(p, "country")));
            }
            json_t *role = json_pack("{s:s, s:o}", "@type", "Role", "member", who);
            s_copy(role, "roleName", p, "role");
            json_array_append_new(members, role);
        }
        json_object_set_new(o, "member", members);
        s_copy(o, "keywords", e, "tags");
        s_ld_prop(o, "partnership_type", json_object_get(e, "partnership_types"));
    } else {
        return NULL;
    }
    return o;
}

/* ---- Open Referral HSDS ---- */

/* The location of an entry with geo or address, for organization org_id
 * (NULL: none known). */
static void
s_hsds_location(struct export *x, const json_t *e, json_t *ref, json_t *org_id)
{
    json_t *g = json_object_get(e, "geo"), *a = json_object_get(e, "address");
    json_t *lat = json_object_get(g, "lat"), *lon = json_object_get(g, "lon");
    bool has_geo = json_is_number(lat) && json_is_number(lon);

    if (!has_geo && !json_is_object(a))
        return;
    json_t *loc = json_pack("{s:O, s:s}", "id", ref, "location_type", "physical");
    if (org_id != NULL)
        json_object_set(loc, "organization_id", org_id);
    s_set_str(loc, "name", s_text(e, "name"));
    if (has_geo) {
        json_object_set_new(loc, "latitude", json_real(json_number_value(lat)));
        json_object_set_new(loc, "longitude", json_real(json_number_value(lon)));
    }
    if (json_is_object(a)) {
        json_t *addr = json_pack("{s:O, s:O, s:s}", "id", ref, "location_id", ref, "address_type", "physical");
        s_copy(addr, "address_1", a, "street");
        s_copy(addr, "city", a, "city");
        s_copy(addr, "postal_code", a, "postcode");
        s_copy(addr, "region", e, "region");
        s_copy(addr, "country", e, "country");
        json_object_set_new(loc, "addresses", json_pack("[o]", addr));
    }
    json_array_append_new(x->locations, loc);
}

static void
s_hsds(struct export *x, const json_t *e)
{
    const char *kind = s_str(e, "kind");
    json_t *ref = s_ref(e), *o, *org_id = NULL;

    if (kind == NULL || ref == NULL) {
        json_decref(ref);
        return;
    }
    if (strcmp(kind, "organisation") == 0) {
        o = json_pack("{s:O}", "id", ref);
        s_set_str(o, "name", s_text(e, "name"));
        s_set_str(o, "description", s_desc(e));
        s_copy(o, "email", e, "email");
        s_copy(o, "website", e, "website");
        s_copy(o, "legal_status", e, "legal_form");
        json_array_append_new(x->orgs, o);
        org_id = json_incref(ref);
    } else if (strcmp(kind, "offer") == 0) {
        o = json_pack("{s:O}", "id", ref);
        org_id = s_ref_to(e, s_str(e, "organisation"));
        if (org_id != NULL)
            json_object_set(o, "organization_id", org_id);
        s_set_str(o, "name", s_text(e, "name"));
        s_set_str(o, "description", s_desc(e));
        json_object_set_new(o, "status", json_string("active"));
        json_array_append_new(x->services, o);
    }
    s_hsds_location(x, e, ref, org_id);
    json_decref(org_id);
    json_decref(ref);
}

/* Drops each organization_id in list that names no organization of the
 * document (an offer of a deleted or unknown organisation), so every one
 * left can be followed. */
static void
s_hsds_links(json_t *list, const json_t *known)
{
    json_t *o;
    size_t i;
    json_array_foreach(list, i, o) {
        const char *id = json_string_value(json_object_get(o, "organization_id"));
        if (id != NULL && json_object_get(known, id) == NULL)
            json_object_del(o, "organization_id");
    }
}

static json_t *
s_hsds_doc(struct export *x)
{
    json_t *known = json_object(), *o;
    size_t i;
    json_array_foreach(x->orgs, i, o)
        json_object_set_new(known, json_string_value(json_object_get(o, "id")), json_true());
    s_hsds_links(x->services, known);
    s_hsds_links(x->locations, known);
    json_decref(known);
    return json_pack("{s:O, s:O, s:O}", "organizations", x->orgs, "services", x->services,
                     "locations", x->locations);
}

/* ---- paging ---- */

static void
s_take(struct export *x, const json_t *e)
{
    json_t *o;

    if (x->fmt < FMT_JSONLD) {
        render_emit(stdout, x->fmt, e, NULL, x->n++);
        return;
    }
    if (json_is_true(json_object_get(e, "deleted")))
        return;
    if (x->fmt == FMT_HSDS) {
        s_hsds(x, e);
    } else if ((o = s_jsonld(e)) != NULL) {
        /* Items of "@graph", four spaces in. */
        fputs(x->n++ ? ",\n    " : "\n    ", stdout);
        render_json_nested(stdout, o, 4);
        json_decref(o);
    }
}

/* Prints or gathers one page; returns 0 and sets *after to the next
 * cursor (-1 at the end), or 1 after printing what is wrong. */
static int
s_export_page(client_t *c, struct export *x, long long *after)
{
    json_t *req = json_pack("{s:s, s:I, s:i}", "op", "export", "after", (json_int_t)*after,
                            "limit", MSG_PAGE_MAX);
    json_t *reply = cli_call(c, req), *e;
    json_t *entries = json_object_get(reply, "entries"), *next = json_object_get(reply, "next");
    size_t i;
    int rc = 1;

    if (reply == NULL)
        goto out;
    if (!json_is_array(entries) || !(json_is_null(next) || json_is_integer(next))) {
        cli_warn("malformed reply: no entries or next");
        goto out;
    }
    /* A cursor that does not move on would page forever. */
    if (json_is_integer(next) && json_integer_value(next) <= *after) {
        cli_warn("malformed reply: the export cursor did not move on from %lld (next %lld)", *after,
                 (long long)json_integer_value(next));
        goto out;
    }
    json_array_foreach(entries, i, e) {
        if (json_is_object(e))
            s_take(x, e);
    }
    *after = json_is_null(next) ? -1 : (long long)json_integer_value(next);
    rc = 0;
out:
    json_decref(reply);
    json_decref(req);
    return rc;
}

int
cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, RENDER_JSON }, { "ndjson", no_argument, NULL, RENDER_NDJSON },
        { "csv", no_argument, NULL, RENDER_CSV }, { "jsonld", no_argument, NULL, FMT_JSONLD },
        { "hsds", no_argument, NULL, FMT_HSDS }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct export x = { .fmt = RENDER_TABLE };
    int ch, rc = 0;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (ch == 'h')
            return cli_help("export");
        if (ch == '?' || ch == ':')
            return cli_bad_option("export", ch, argv);
        if (x.fmt != RENDER_TABLE && x.fmt != ch)
            return cli_usage_error("export", "--ndjson, --json, --csv, --jsonld and --hsds exclude each other");
        x.fmt = ch;
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    if (x.fmt == RENDER_TABLE)
        x.fmt = RENDER_NDJSON;

    client_t *c = cli_connect();
    if (c == NULL)
        return 1;
    long long after = 0;
    if (x.fmt == RENDER_CSV)
        render_csv_header(stdout);
    if (x.fmt == RENDER_JSON)
        fputc('[', stdout);
    if (x.fmt == FMT_JSONLD)
        fputs("{\n  \"@context\": \"https://schema.org\",\n  \"@graph\": [", stdout);
    if (x.fmt == FMT_HSDS) {
        x.orgs = json_array();
        x.services = json_array();
        x.locations = json_array();
    }
    while (after >= 0 && rc == 0)
        rc = s_export_page(c, &x, &after);
    /* On failure a JSON document stays open: partial output must not parse. */
    if (rc == 0 && x.fmt == RENDER_JSON)
        fputs(x.n ? "\n]\n" : "]\n", stdout);
    if (rc == 0 && x.fmt == FMT_JSONLD)
        fputs(x.n ? "\n  ]\n}\n" : "]\n}\n", stdout);
    if (rc == 0 && x.fmt == FMT_HSDS) {
        json_t *doc = s_hsds_doc(&x);
        render_json(stdout, doc, 1);
        json_decref(doc);
    }
    json_decref(x.orgs);
    json_decref(x.services);
    json_decref(x.locations);
    client_close(&c);
    return rc;
}
