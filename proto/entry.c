/*
 * entry.c: validation and indexing of entries.
 *
 * Validation is a table: one row per known field, naming the kinds that may
 * carry it, the kinds that must, and the check that applies. The shapes of
 * classification codes (NUTS, NACE, CPV), the ISO 3166-1 and ISO 639-1
 * lists (generated at build time, isocodes.h), the NUTS prefixes of GR
 * and GB, and the closed vocabularies (org types, target groups,
 * partnership types...) are in codes.c, shared with the node's search and
 * the CLI.
 * Unknown fields are allowed: they ride along signed and untouched, so a
 * newer node can add fields without breaking older ones.
 *
 * Text in known fields is checked code point by code point (utf8proc
 * decodes): no C0 or C1 control character, no DEL, no bidirectional
 * override or isolate, so that nothing a node stores can move a
 * terminal's cursor, change its colours or reorder what is shown around
 * it. Newline and tab are allowed in the long free texts only
 * (description, outcome, eligibility). Printers escape control characters
 * anyway (cli/render.c): versions stored under older rules may hold them.
 */
#include "entry.h"
#include "codes.h"
#include "fold.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

static const char *const s_kinds[KIND_COUNT] = {
    NULL, "organisation", "offer", "partnership", "event", "programme"
};

const char *
entry_kind_name(int kind)
{
    return (kind > KIND_NONE && kind < KIND_COUNT) ? s_kinds[kind] : NULL;
}

int
entry_kind_from_name(const char *name)
{
    for (int k = 1; k < KIND_COUNT; k++)
        if (strcmp(s_kinds[k], name) == 0)
            return k;
    return KIND_NONE;
}

bool
entry_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > ENTRY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
            return false;
    return true;
}

int
entry_month_days(int year, int month)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12)
        return 0;
    return mdays[month - 1] + (month == 2 && leap);
}

int
entry_parse_time(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    int off_min = 0;
    long frac_ms = 0;
    const char *p;

    char date[11];
    snprintf(date, sizeof(date), "%s", s);
    if (!code_pattern(date, "9999-99-99") || (s[10] != '\0' && strlen(s) < 20))
        return -1;      /* sscanf alone would take "2027-+1-05" */
    if (sscanf(s, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return -1;
    p = s + 10;
    if (*p != '\0') {
        if ((*p != 'T' && *p != 't') || strlen(p) < 10 ||
            !isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
            !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]) || p[6] != ':' ||
            !isdigit((unsigned char)p[7]) || !isdigit((unsigned char)p[8]))
            return -1;
        tm.tm_hour = (p[1] - '0') * 10 + (p[2] - '0');
        tm.tm_min = (p[4] - '0') * 10 + (p[5] - '0');
        tm.tm_sec = (p[7] - '0') * 10 + (p[8] - '0');
        p += 9;
        if (*p == '.') {
            int digits = 0;
            for (p++; isdigit((unsigned char)*p); p++, digits++)
                if (digits < 3)
                    frac_ms = frac_ms * 10 + (*p - '0');
            if (digits == 0)
                return -1;
            for (; digits < 3; digits++)
                frac_ms *= 10;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if ((*p == '+' || *p == '-') && code_pattern(p + 1, "99:99")) {
            int h = (p[1] - '0') * 10 + (p[2] - '0');
            int m = (p[4] - '0') * 10 + (p[5] - '0');
            if (h > 23 || m > 59)
                return -1;
            off_min = (*p == '+' ? 1 : -1) * (h * 60 + m);
            p += 6;
        } else {
            return -1;
        }
        if (*p != '\0' || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
            return -1;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_year < 1900 || tm.tm_year > 9999)
        return -1;
    if (tm.tm_mday > entry_month_days(tm.tm_year, tm.tm_mon))
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)off_min * 60) * 1000 + frac_ms;
    return 0;
}

/* ---- field checks: return 0 or -1 with err set ("field" is prefixed by
 * the caller) ---- */

typedef int (*check_fn)(const json_t *v, const void *arg, char *err, size_t errlen);

/* The arg of the checks of text that may run over several lines. */
static const bool s_multiline = true;

bool
entry_char_refused(int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||       /* C0, DEL, C1 */
           (cp >= 0x202a && cp <= 0x202e) ||                 /* LRE RLE PDF LRO RLO */
           (cp >= 0x2066 && cp <= 0x2069);                   /* LRI RLI FSI PDI */
}

int
entry_check_text(const char *s, size_t len, bool multiline, char *err, size_t errlen)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t cp;

    for (size_t i = 0; i < len;) {
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0)
            return seterr(err, errlen, -1, "is not valid UTF-8 at byte %zu", i);
        if (!entry_char_refused(cp) || (multiline && (cp == '\n' || cp == '\t'))) {
            /* allowed */
        } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            return seterr(err, errlen, -1, "holds the control character U+%04X at byte %zu%s",
                          (unsigned)cp, i,
                          cp == '\n' || cp == '\t' ? " (newline and tab only in description, "
                                                     "outcome and eligibility)" : "");
        } else {
            return seterr(err, errlen, -1, "holds the bidirectional control U+%04X at byte %zu",
                          (unsigned)cp, i);
        }
        i += (size_t)n;
    }
    return 0;
}

/* A str of 1 to ENTRY_TEXT_MAX bytes passing entry_check_text; arg is
 * &s_multiline for text that may hold newlines and tabs. */
static int
c_string(const json_t *v, const void *arg, char *err, size_t errlen)
{
    if (!json_is_string(v))
        return seterr(err, errlen, -1, "must be a string");
    if (json_string_length(v) == 0)
        return seterr(err, errlen, -1, "must not be empty");
    if (json_string_length(v) > ENTRY_TEXT_MAX)
        return seterr(err, errlen, -1, "is longer than %d bytes", ENTRY_TEXT_MAX);
    return entry_check_text(json_string_value(v), json_string_length(v), arg == &s_multiline,
                            err, errlen);
}

int
entry_check_country(const char *s, char *err, size_t errlen)
{
    const char *iso = code_iso_for_nuts(s);
    if (iso != NULL)
        return seterr(err, errlen, -1, "'%s' is the NUTS prefix, not the ISO 3166-1 code: use %s",
                      s, iso);
    if (!code_country_listed(s))
        return seterr(err, errlen, -1, "'%.40s' is not an ISO 3166-1 alpha-2 code (e.g. AT)", s);
    return 0;
}

int
entry_check_region(const char *country, const char *region, char *err, size_t errlen)
{
    const char *prefix = code_nuts_prefix(country);     /* EL for GR, UK for GB */
    if (strncmp(prefix, region, 2) != 0)
        return seterr(err, errlen, -1, "'%s' is not in country %s (its NUTS codes start with %s)",
                      region, country, prefix);
    return 0;
}

static int
c_country(const json_t *v, const void *arg, char *err, size_t errlen)
{
    (void)arg;
    const char *s = json_string_value(v);
    if (s == NULL)
        return seterr(err, errlen, -1, "must be a string, an ISO 3166-1 alpha-2 code (e.g. AT)");
    return entry_check_country(s, err, errlen);
}

static int
c_lang(const json_t *v, const void *arg, char *err, size_t errlen)
{
    (void)arg;
    const char *s = json_string_value(v);
    if (s == NULL)
        return seterr(err, errlen, -1, "must be a string, an ISO 639-1 code (e.g. de)");
    if (!code_lang_listed(s))
        return seterr(err, errlen, -1, "'%.40s' is not an ISO 639-1 code (e.g. de)", s);
    return 0;
}

static int
c_shape(const json_t *v, const void *arg, char *err, size_t errlen)
{
    bool (*ok)(const char *) = (bool (*)(const char *))arg;
    const char *what = ok == code_nuts    ? "a NUTS code (e.g. AT123)" :
                       ok == code_nace    ? "a NACE code (e.g. 81.21)" :
                       ok == code_cpv     ? "a CPV code (e.g. 90910000-9)" : "valid";
    if (!json_is_string(v))
        return seterr(err, errlen, -1, "must be a string, %s", what);
    if (!ok(json_string_value(v)))
        return seterr(err, errlen, -1, "'%.40s' is not %s", json_string_value(v), what);
    return 0;
}

static int
c_vocab(const json_t *v, const void *arg, char *err, size_t errlen)
{
    const char *const *vocab = arg;
    if (!json_is_string(v))
        return seterr(err, errlen, -1, "must be a string");
    if (!code_in(vocab, json_string_value(v))) {
        char list[160];
        code_join(vocab, list, sizeof(list));
        return seterr(err, errlen, -1, "'%.40s' is not one of: %s", json_string_value(v), list);
    }
    return 0;
}

static int
c_time(const json_t *v, const void *arg, char *err, size_t errlen)
{
    int64_t ms;
    (void)arg;
    if (!json_is_string(v) || entry_parse_time(json_string_value(v), &ms) != 0)
        return seterr(err, errlen, -1,
                      "must be an RFC 3339 date-time with offset (2027-01-21T09:00:00+01:00) or a date (2027-01-21) "
                      "of a day that exists");
    return 0;
}

/* arg: passed on to c_string for each text. */
static int
c_langmap(const json_t *v, const void *arg, char *err, size_t errlen)
{
    const char *lang;
    json_t *text;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return seterr(err, errlen, -1, "must be an object of language code to text, e.g. {\"en\": \"...\"}");
    json_object_foreach((json_t *)v, lang, text) {
        if (!code_lang_listed(lang))
            return seterr(err, errlen, -1, "key '%.20s' is not an ISO 639-1 code (e.g. de)", lang);
        if (c_string(text, arg, err, errlen) != 0) {
            char inner[128];
            snprintf(inner, sizeof(inner), "%s", err);
            return seterr(err, errlen, -1, "text for '%s' %s", lang, inner);
        }
    }
    return 0;
}

/* An array of items, each checked by the check named in arg. */
struct list_arg {
    check_fn check;
    const void *arg;
};

static int
c_list(const json_t *v, const void *arg, char *err, size_t errlen)
{
    const struct list_arg *la = arg;
    if (!json_is_array(v))
        return seterr(err, errlen, -1, "must be an array");
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (la->check(json_array_get(v, i), la->arg, err, errlen) != 0) {
            char inner[192];
            snprintf(inner, sizeof(inner), "%s", err);
            return seterr(err, errlen, -1, "item %zu: %s", i, inner);
        }
    }
    return 0;
}

static int
c_number_range(const json_t *v, double lo, double hi, char *err, size_t errlen)
{
    if (!json_is_number(v))
        return seterr(err, errlen, -1, "must be a number");
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return seterr(err, errlen, -1, "%g is outside %g..%g", d, lo, hi);
    return 0;
}

static int
c_share(const json_t *v, const void *arg, char *err, size_t errlen)
{
    (void)arg;
    return c_number_range(v, 0, 100, err, errlen);
}

static int
c_count(const json_t *v, const void *arg, char *err, size_t errlen)
{
    (void)arg;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return seterr(err, errlen, -1, "must be a whole number >= 0");
    return 0;
}

static int
c_geo(const json_t *v, const void *arg, char *err, size_t errlen)
{
    char inner[128];
    (void)arg;
    if (!json_is_object(v) || !json_object_get(v, "lat") || !json_object_get(v, "lon"))
        return seterr(err, errlen, -1, "must be {\"lat\": number, \"lon\": number}");
    if (c_number_range(json_object_get(v, "lat"), -90, 90, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "lat %s", inner);
    if (c_number_range(json_object_get(v, "lon"), -180, 180, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "lon %s", inner);
    return 0;
}

static int
c_address(const json_t *v, const void *arg, char *err, size_t errlen)
{
    static const char *const parts[] = { "street", "postcode", "city", NULL };
    (void)arg;
    if (!json_is_object(v))
        return seterr(err, errlen, -1, "must be {\"street\", \"postcode\", \"city\"}");
    for (const char *const *p = parts; *p; p++) {
        json_t *s = json_object_get(v, *p);
        char inner[128];
        if (s != NULL && !json_is_string(s))
            return seterr(err, errlen, -1, "'%s' must be a string", *p);
        if (s != NULL && entry_check_text(json_string_value(s), json_string_length(s), false,
                                          inner, sizeof(inner)) != 0)
            return seterr(err, errlen, -1, "'%s' %s", *p, inner);
    }
    return 0;
}

static int
c_email(const json_t *v, const void *arg, char *err, size_t errlen)
{
    if (c_string(v, arg, err, errlen) != 0)
        return -1;
    const char *s = json_string_value(v), *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(s, ' ') != NULL)
        return seterr(err, errlen, -1, "'%.40s' is not an e-mail address", s);
    return 0;
}

static int
c_ref(const json_t *v, const void *arg, char *err, size_t errlen)
{
    (void)arg;
    if (!json_is_string(v))
        return seterr(err, errlen, -1, "must be a string, ORIGIN/ID or ID");
    const char *s = json_string_value(v), *slash = strchr(s, '/');
    uint8_t key[32];
    if (slash == NULL ? !entry_id_valid(s)
                      : (slash - s != NODEID_LEN || !entry_id_valid(slash + 1))) {
        return seterr(err, errlen, -1, "'%.80s' is not ORIGIN/ID or ID", s);
    }
    if (slash != NULL) {
        char origin[NODEID_LEN + 1];
        memcpy(origin, s, NODEID_LEN);
        origin[NODEID_LEN] = '\0';
        if (key_from_id(origin, key) != 0)
            return seterr(err, errlen, -1, "'%.80s': origin is not a node id", s);
    }
    return 0;
}

static int
c_partner(const json_t *v, const void *arg, char *err, size_t errlen)
{
    char inner[160];
    (void)arg;
    if (!json_is_object(v))
        return seterr(err, errlen, -1, "must be {\"ref\" or \"name\", \"country\", \"role\"}");
    json_t *ref = json_object_get(v, "ref"), *name = json_object_get(v, "name");
    json_t *country = json_object_get(v, "country"), *role = json_object_get(v, "role");
    if (ref == NULL && name == NULL)
        return seterr(err, errlen, -1, "needs \"ref\" or \"name\"");
    if (ref != NULL && c_ref(ref, NULL, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "ref %s", inner);
    if (name != NULL && c_string(name, NULL, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "name %s", inner);
    if (country != NULL && c_country(country, NULL, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "country %s", inner);
    if (role != NULL && c_vocab(role, code_roles, inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "role %s", inner);
    return 0;
}

/* ---- the field table ---- */

#define K(k)  (1u << (k))
#define ALL   (K(KIND_ORGANISATION) | K(KIND_OFFER) | K(KIND_PARTNERSHIP) | K(KIND_EVENT) | K(KIND_PROGRAMME))
#define ORG   K(KIND_ORGANISATION)
#define OFFER K(KIND_OFFER)
#define PART  K(KIND_PARTNERSHIP)
#define EVENT K(KIND_EVENT)
#define PROG  K(KIND_PROGRAMME)

static const struct list_arg l_lang = { c_lang, NULL };
static const struct list_arg l_nace = { c_shape, (const void *)code_nace };
static const struct list_arg l_cpv = { c_shape, (const void *)code_cpv };
static const struct list_arg l_string = { c_string, NULL };
static const struct list_arg l_org_types = { c_vocab, code_org_types };
static const struct list_arg l_target_groups = { c_vocab, code_target_groups };
static const struct list_arg l_partnership_types = { c_vocab, code_partnership_types };
static const struct list_arg l_customer_types = { c_vocab, code_customer_types };
static const struct list_arg l_partners = { c_partner, NULL };

static const struct field {
    const char *name;
    unsigned kinds;       /* kinds that may carry it */
    unsigned required;    /* kinds that must */
    check_fn check;
    const void *arg;
    bool nonempty;        /* a required list must have an item */
} s_fields[] = {
    { "name",              ALL,          ALL,   c_langmap, NULL, false },
    { "summary",           ALL,          0,     c_langmap, NULL, false },
    { "description",       ALL,          0,     c_langmap, &s_multiline, false },
    { "country",           ALL,          ORG,   c_country, NULL, false },
    { "region",            ALL,          0,     c_shape, (const void *)code_nuts, false },
    { "address",           ALL,          0,     c_address, NULL, false },
    { "geo",               ALL,          0,     c_geo, NULL, false },
    { "website",           ALL,          0,     c_string, NULL, false },
    { "email",             ALL,          0,     c_email, NULL, false },
    { "phone",             ALL,          0,     c_string, NULL, false },
    { "languages",         ALL,          0,     c_list, &l_lang, false },
    { "tags",              ALL,          0,     c_list, &l_string, false },
    { "org_types",         ORG,          0,     c_list, &l_org_types, false },
    { "legal_form",        ORG,          0,     c_string, NULL, false },
    { "labels",            ORG,          0,     c_list, &l_string, false },
    { "disadvantaged_share", ORG,        0,     c_share, NULL, false },
    { "nace",              ORG | OFFER | PART, 0, c_list, &l_nace, false },
    { "cpv",               ORG | OFFER | PART, 0, c_list, &l_cpv, false },
    { "target_groups",     ORG | OFFER | PROG, 0, c_list, &l_target_groups, false },
    { "partnership_types", ORG | PART,   PART,  c_list, &l_partnership_types, true },
    { "organisation",      OFFER,        OFFER, c_ref, NULL, false },
    { "offer_type",        OFFER,        OFFER, c_vocab, code_offer_types, false },
    { "capacity",          OFFER,        0,     c_string, NULL, false },
    { "lead_time_days",    OFFER,        0,     c_count, NULL, false },
    { "customer_types",    OFFER,        0,     c_list, &l_customer_types, false },
    { "partners",          PART,         PART,  c_list, &l_partners, true },
    { "outcome",           PART,         0,     c_langmap, &s_multiline, false },
    { "event_type",        EVENT,        EVENT, c_vocab, code_event_types, false },
    { "start",             EVENT | PART | PROG, EVENT, c_time, NULL, false },
    { "end",               EVENT | PART | PROG, 0, c_time, NULL, false },
    { "online_url",        EVENT,        0,     c_string, NULL, false },
    { "registration_url",  EVENT | PROG, 0,     c_string, NULL, false },
    { "programme_type",    PROG,         PROG,  c_vocab, code_programme_types, false },
    { "deadline",          PROG,         0,     c_time, NULL, false },
    { "eligibility",       PROG,         0,     c_langmap, &s_multiline, false },
    { NULL, 0, 0, NULL, NULL, false }
};

const char *
entry_field_info(size_t i, const char *const **subs, bool *langmap)
{
    static const char *const address[] = { "street", "postcode", "city", NULL };
    static const char *const geo[] = { "lat", "lon", NULL };
    if (i >= sizeof(s_fields) / sizeof(s_fields[0]) - 1)
        return NULL;
    const struct field *f = &s_fields[i];
    *subs = f->check == c_address ? address : f->check == c_geo ? geo : NULL;
    *langmap = f->check == c_langmap;
    return f->name;
}

/* Fields that printing adds; ignored on input so that exported entries can
 * be published again. */
static const char *const s_readonly[] = { "id", "kind", "origin", "origin_name",
    "seq", "updated", "deleted", "verified", "version", "received", "via",
    "distance", "score", NULL };

/* end is not before start, when both are valid times: two date-times
 * compare as instants; when either is a date alone, the calendar dates
 * (the first 10 characters, each in its own offset) compare. */
static int
s_check_span(const json_t *body, char *err, size_t errlen)
{
    const char *start = json_string_value(json_object_get(body, "start"));
    const char *end = json_string_value(json_object_get(body, "end"));
    int64_t s_ms, e_ms;

    if (start == NULL || end == NULL || entry_parse_time(start, &s_ms) != 0 ||
        entry_parse_time(end, &e_ms) != 0)
        return 0;
    bool before = strlen(start) > 10 && strlen(end) > 10 ? e_ms < s_ms : strncmp(end, start, 10) < 0;
    if (before)
        return seterr(err, errlen, -1, "field 'end': %.40s is before start %.40s", end, start);
    return 0;
}

int
entry_validate_body(int kind, const json_t *body, char *err, size_t errlen)
{
    char inner[ENTRY_ERR_MAX];
    const char *kname = entry_kind_name(kind);

    if (kname == NULL)
        return seterr(err, errlen, -1, "unknown kind");
    if (!json_is_object(body))
        return seterr(err, errlen, -1, "entry is not a JSON object");
    for (const struct field *f = s_fields; f->name; f++) {
        json_t *v = json_object_get(body, f->name);
        if (v == NULL || json_is_null(v)) {
            if (f->required & K(kind))
                return seterr(err, errlen, -1, "field '%s': required for kind %s", f->name, kname);
            continue;
        }
        if (!(f->kinds & K(kind)))
            return seterr(err, errlen, -1, "field '%s': not allowed for kind %s", f->name, kname);
        if (f->check(v, f->arg, inner, sizeof(inner)) != 0)
            return seterr(err, errlen, -1, "field '%s': %s", f->name, inner);
        if (f->nonempty && (f->required & K(kind)) && json_array_size(v) == 0)
            return seterr(err, errlen, -1, "field '%s': needs at least one item", f->name);
    }
    json_t *country = json_object_get(body, "country"), *region = json_object_get(body, "region");
    if (json_is_string(country) && json_is_string(region) &&
        entry_check_region(json_string_value(country), json_string_value(region), inner, sizeof(inner)) != 0)
        return seterr(err, errlen, -1, "field 'region': %s", inner);
    return s_check_span(body, err, errlen);
}

/* level: the container level of v (1 for the entry itself). */
static int
s_shape(const json_t *v, int level, char *err, size_t errlen)
{
    const char *key;
    json_t *item;
    size_t i;

    if (!json_is_object(v) && !json_is_array(v))
        return 0;
    if (level > ENTRY_DEPTH_MAX)
        return seterr(err, errlen, -1, "nests deeper than %d levels", ENTRY_DEPTH_MAX);
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if (s_shape(item, level + 1, err, errlen) != 0)
                return -1;
        return 0;
    }
    json_object_foreach((json_t *)v, key, item) {
        if (strlen(key) > ENTRY_KEY_MAX)
            return seterr(err, errlen, -1, "field name '%.40s...' is %zu bytes long, more than %d",
                          key, strlen(key), ENTRY_KEY_MAX);
        if (s_shape(item, level + 1, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int
entry_check_shape(const json_t *e, char *err, size_t errlen)
{
    return s_shape(e, 1, err, errlen);
}

int
entry_validate(const json_t *e, char *err, size_t errlen)
{
    if (!json_is_object(e))
        return seterr(err, errlen, -1, "entry is not a JSON object");
    if (entry_check_shape(e, err, errlen) != 0)
        return -1;
    json_t *id = json_object_get(e, "id"), *kind = json_object_get(e, "kind");
    if (id == NULL)
        return seterr(err, errlen, -1, "field 'id': required");
    if (!json_is_string(id) || !entry_id_valid(json_string_value(id)))
        return seterr(err, errlen, -1,
                      "field 'id': must be 1-%d characters of A-Z a-z 0-9 . _ -", ENTRY_ID_MAX);
    if (kind == NULL)
        return seterr(err, errlen, -1, "field 'kind': required");
    if (!json_is_string(kind) || entry_kind_from_name(json_string_value(kind)) == KIND_NONE)
        return seterr(err, errlen, -1,
                      "field 'kind': must be one of organisation, offer, partnership, event, programme");
    return entry_validate_body(entry_kind_from_name(json_string_value(kind)), e, err, errlen);
}

json_t *
entry_body(const json_t *e)
{
    json_t *body = json_deep_copy(e);
    for (const char *const *k = s_readonly; *k; k++)
        json_object_del(body, *k);
    return body;
}

/* ---- index extraction ---- */

static void
s_attr_add(entry_index_t *ix, int field, const char *value)
{
    for (size_t i = 0; i < ix->nattrs; i++)
        if (ix->attrs[i].field == field && strcmp(ix->attrs[i].value, value) == 0)
            return;
    ix->attrs = xrealloc(ix->attrs, (ix->nattrs + 1) * sizeof(*ix->attrs));
    ix->attrs[ix->nattrs].field = field;
    ix->attrs[ix->nattrs].value = xstrdup(value);
    ix->nattrs++;
}

static void
s_attr_list(entry_index_t *ix, int field, const json_t *list)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *s = json_string_value(json_array_get(list, i));
        if (s == NULL)
            continue;
        if (field == ATTR_CPV && strlen(s) > 8) {
            char code[9];
            memcpy(code, s, 8);
            code[8] = '\0';
            s_attr_add(ix, field, code);
        } else {
            s_attr_add(ix, field, s);
        }
    }
}

/* Joins every language's text of a lang map (or every string of a list),
 * newline-separated; records each language seen. */
static char *
s_join(entry_index_t *ix, const json_t *v)
{
    size_t len = 0;
    char *out = NULL;
    const char *lang;
    json_t *text;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, lang, text) {
            if (!json_is_string(text))
                continue;
            size_t n = json_string_length(text);
            out = xrealloc(out, len + n + 2);
            memcpy(out + len, json_string_value(text), n);
            len += n;
            out[len++] = '\n';
            s_attr_add(ix, ATTR_LANG, lang);
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            const char *s = json_string_value(json_array_get(v, i));
            if (s == NULL)
                continue;
            size_t n = strlen(s);
            out = xrealloc(out, len + n + 2);
            memcpy(out + len, s, n);
            len += n;
            out[len++] = '\n';
        }
    }
    if (out == NULL)
        return xstrdup("");
    out[len ? len - 1 : 0] = '\0';
    return out;
}

/* The address's words for the index (street, postcode and city, one per
 * line) and its city, folded, as the city attribute. */
static void
s_place(entry_index_t *ix, const json_t *addr)
{
    static const char *const parts[] = { "street", "postcode", "city" };
    size_t len = 0;
    char *out = xmalloc(1);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        json_t *v = json_object_get(addr, parts[i]);
        if (!json_is_string(v))
            continue;
        size_t n = json_string_length(v);
        out = xrealloc(out, len + n + 2);
        memcpy(out + len, json_string_value(v), n);
        len += n;
        out[len++] = '\n';
    }
    out[len ? len - 1 : 0] = '\0';
    ix->text_place = out;
    json_t *city = json_object_get(addr, "city");
    char *folded = json_is_string(city) ? fold_key(json_string_value(city)) : NULL;
    if (folded != NULL && folded[0] != '\0')
        s_attr_add(ix, ATTR_CITY, folded);
    free(folded);
}

static char *
s_dup_field(const json_t *body, const char *name)
{
    const char *s = json_string_value(json_object_get(body, name));
    return s ? xstrdup(s) : NULL;
}

void
entry_index_build(const json_t *body, entry_index_t *ix)
{
    memset(ix, 0, sizeof(*ix));
    ix->disadvantaged_share = -1;

    /* The display name: English, else the first language in code order,
     * whatever order the body's keys came in (a signed payload's are
     * sorted; a local request's need not be), so that every node derives
     * the same sort key. */
    json_t *name = json_object_get(body, "name");
    const char *display = code_text(name, NULL, NULL);
    ix->name = xstrdup(display ? display : "");
    ix->country = s_dup_field(body, "country");
    ix->region = s_dup_field(body, "region");

    json_t *geo = json_object_get(body, "geo");
    json_t *lat = json_object_get(geo, "lat"), *lon = json_object_get(geo, "lon");
    if (json_is_number(lat) && json_is_number(lon)) {
        ix->has_geo = true;
        ix->lat = json_number_value(lat);
        ix->lon = json_number_value(lon);
    }
    ix->text_name = s_join(ix, name);
    ix->text_summary = s_join(ix, json_object_get(body, "summary"));
    ix->text_description = s_join(ix, json_object_get(body, "description"));
    ix->text_tags = s_join(ix, json_object_get(body, "tags"));
    s_place(ix, json_object_get(body, "address"));

    const char *when = json_string_value(json_object_get(body, "start"));
    if (when == NULL)
        when = json_string_value(json_object_get(body, "deadline"));
    if (when == NULL || entry_parse_time(when, &ix->start_ms) != 0)
        ix->start_ms = 0;
    json_t *share = json_object_get(body, "disadvantaged_share");
    if (json_is_number(share))
        ix->disadvantaged_share = json_number_value(share);

    s_attr_list(ix, ATTR_LANG, json_object_get(body, "languages"));
    s_attr_list(ix, ATTR_NACE, json_object_get(body, "nace"));
    s_attr_list(ix, ATTR_CPV, json_object_get(body, "cpv"));
    s_attr_list(ix, ATTR_LABEL, json_object_get(body, "labels"));
    s_attr_list(ix, ATTR_TARGET_GROUP, json_object_get(body, "target_groups"));
    s_attr_list(ix, ATTR_PARTNERSHIP, json_object_get(body, "partnership_types"));
    s_attr_list(ix, ATTR_ORG_TYPE, json_object_get(body, "org_types"));
    s_attr_list(ix, ATTR_CUSTOMER_TYPE, json_object_get(body, "customer_types"));
    const char *org = json_string_value(json_object_get(body, "organisation"));
    if (org != NULL)
        s_attr_add(ix, ATTR_REF, org);
    json_t *partners = json_object_get(body, "partners");
    for (size_t i = 0; i < json_array_size(partners); i++) {
        const char *ref = json_string_value(json_object_get(json_array_get(partners, i), "ref"));
        if (ref != NULL)
            s_attr_add(ix, ATTR_REF, ref);
    }
}

void
entry_index_free(entry_index_t *ix)
{
    free(ix->name);
    free(ix->country);
    free(ix->region);
    free(ix->text_name);
    free(ix->text_summary);
    free(ix->text_description);
    free(ix->text_tags);
    free(ix->text_place);
    for (size_t i = 0; i < ix->nattrs; i++)
        free(ix->attrs[i].value);
    free(ix->attrs);
    memset(ix, 0, sizeof(*ix));
}
