/*
 * cmd_search.c: search, the command that lists entries (export is in
 * cmd_export.c).
 *
 * search checks its filters here (kind names, country and NUTS shapes,
 * limits) so that a typo gets a precise message before any request is
 * sent, then asks for one page and prints it as a table (the default) or
 * as JSON, NDJSON or CSV for scripts.
 */
#include "cli.h"
#include "codes.h"
#include "entry.h"
#include "msg.h"
#include "render.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ARG_MAX_LEN 64      /* longest list item worth checking */

/* ---- output ---- */

/* Rank scores need no 17 digits; rounded, they keep JSON output short. */
static void
s_round_score(json_t *e)
{
    json_t *score = json_object_get(e, "score");
    char buf[32];
    if (json_is_real(score)) {
        snprintf(buf, sizeof(buf), "%.6g", json_real_value(score));
        json_real_set(score, strtod(buf, NULL));
    }
}

/* Sets *fmt from a format option, refusing a second, different one. */
static int
s_set_format(const char *cmd, int *fmt, int want)
{
    if (*fmt != RENDER_TABLE && *fmt != want)
        return cli_usage_error(cmd, "--json, --ndjson and --csv exclude each other");
    *fmt = want;
    return 0;
}

/* ---- search: checking the filters ---- */

/* Each check normalises item in place and returns true if it is valid. */
typedef bool (*item_check_fn)(char *item);

static bool
s_check_kind(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return entry_kind_from_name(s) != KIND_NONE;
}

static bool
s_check_country(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return code_country_listed(s);
}

static bool
s_check_region(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return code_nuts(s);
}

static bool
s_check_lang(char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return code_lang_listed(s);
}

/* A section letter in either case, or "81", "81.2", "81.21". */
static bool
s_check_nace(char *s)
{
    if (strlen(s) == 1)
        *s = (char)toupper((unsigned char)*s);
    return code_nace(s);
}

/* A CPV code or prefix of 2 to 8 digits; a "-D" check digit after all 8
 * is dropped, since the node matches on digits. */
static bool
s_check_cpv(char *s)
{
    size_t n = code_cpv_prefix(s);
    if (n == 0)
        return false;
    s[n] = '\0';
    return true;
}

/* A word of vocab, in either case. */
static bool
s_in_vocab(const char *const *vocab, char *s)
{
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return code_in(vocab, s);
}

static bool
s_check_target_group(char *s)
{
    return s_in_vocab(code_target_groups, s);
}

static bool
s_check_partnership(char *s)
{
    return s_in_vocab(code_partnership_types, s);
}

static bool
s_check_org_type(char *s)
{
    return s_in_vocab(code_org_types, s);
}

/* A label such as EU-ART20: letters, digits, '-', '_' and '.'. */
static bool
s_check_label(char *s)
{
    for (char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return *s != '\0';
}

/* An origin (a node id or a node's name) or a city: text as an entry
 * may hold it in a one-line field (UTF-8, no control or bidi character). */
static bool
s_check_printable(char *s)
{
    char err[128];
    return *s != '\0' && entry_check_text(s, strlen(s), false, err, sizeof(err)) == 0;
}

static const struct list_opt {
    int ch;                 /* getopt value */
    const char *name;       /* option name */
    const char *field;      /* request field */
    item_check_fn check;
    const char *what;       /* "is not ...", or NULL: one of vocab */
    const char *const *vocab;
} s_lists[] = {
    { 'k', "kind", "kind", s_check_kind,
      "one of organisation, offer, partnership, event, programme", NULL },
    { 'c', "country", "country", s_check_country, "an ISO 3166-1 alpha-2 code (Greece is GR, the United Kingdom GB)", NULL },
    { 'r', "region", "region", s_check_region, "a NUTS code or prefix (e.g. AT12)", NULL },
    { 'A', "nace", "nace", s_check_nace, "a NACE code or prefix (e.g. 81 or 81.21)", NULL },
    { 'P', "cpv", "cpv", s_check_cpv, "a CPV code or prefix of 2-8 digits (e.g. 9091 or 90910000-9)", NULL },
    { 'T', "target-group", "target_group", s_check_target_group, NULL, code_target_groups },
    { 'S', "partnership", "partnership", s_check_partnership, NULL, code_partnership_types },
    { 'L', "label", "label", s_check_label, "a label such as EU-ART20", NULL },
    { 'O', "org-type", "org_type", s_check_org_type, NULL, code_org_types },
    { 'G', "origin", "origin", s_check_printable, "a node id or name", NULL },
    { 'Y', "city", "city", s_check_printable, "a city name", NULL },
    { 0, NULL, NULL, NULL, NULL, NULL }
};

/* Splits a comma list into arr (no duplicates, empty items skipped).
 * Returns 0, or 1 after printing which item is wrong. */
static int
s_add_list(const struct list_opt *lo, const char *arg, json_t *arr)
{
    char item[ARG_MAX_LEN + 1], words[256];
    while (*arg) {
        size_t n = strcspn(arg, ",");
        snprintf(item, sizeof(item), "%.*s", (int)(n < ARG_MAX_LEN ? n : ARG_MAX_LEN), arg);
        if (n > 0 && (n > ARG_MAX_LEN || !lo->check(item))) {
            if (lo->vocab != NULL)
                code_join(lo->vocab, words, sizeof(words));
            return cli_usage_error("search", "--%s '%.*s' is not %s%s", lo->name,
                                   (int)(n < 80 ? n : 80), arg, lo->what ? lo->what : "one of ",
                                   lo->what ? "" : words);
        }
        bool dup = false;
        for (size_t i = 0; i < json_array_size(arr); i++)
            dup = dup || strcmp(json_string_value(json_array_get(arr, i)), item) == 0;
        if (n > 0 && !dup)
            json_array_append_new(arr, json_string(item));
        arg += n + (arg[n] == ',');
    }
    return 0;
}

/* A whole number from lo to hi, or -1. */
static long long
s_number(const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    return v;
}

/* A real number from lo to hi (the whole string), into *v. 0 or -1. */
static int
s_real(const char *s, double lo, double hi, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return (errno != 0 || end == s || *end != '\0' || !(*v >= lo && *v <= hi)) ? -1 : 0;
}

/* What the search options say, gathered while parsing. */
struct search {
    json_t *req;            /* the request being built */
    char lang[ARG_MAX_LEN + 1]; /* --lang, "" if none */
    int fmt;
    bool near;              /* --near given: show the DIST column */
    bool km;                /* --km given */
    bool facets;            /* --count-by given: print counts, not entries */
    bool explain;           /* --explain: print took_ms, SQL and plans */
};

/* --since, --from, --to: a date or an RFC 3339 date-time. */
static int
s_time_option(struct search *s, const char *opt, const char *field, const char *arg)
{
    int64_t ms;
    if (entry_parse_time(arg, &ms) != 0)
        return cli_usage_error("search", "--%s '%.80s' is not a date (2026-11-23) or an RFC 3339"
                               " date-time (2026-11-23T09:00:00+01:00)", opt, arg);
    json_object_set_new(s->req, field, json_string(arg));
    return 0;
}

/* --near LAT,LON. */
static int
s_near_option(struct search *s, const char *arg)
{
    char lat[ARG_MAX_LEN + 1];
    const char *comma = strchr(arg, ',');
    double la, lo;
    if (comma == NULL || comma - arg > ARG_MAX_LEN)
        return cli_usage_error("search", "--near '%.80s' is not LAT,LON (e.g. 48.2,15.63)", arg);
    snprintf(lat, sizeof(lat), "%.*s", (int)(comma - arg), arg);
    if (s_real(lat, -90, 90, &la) != 0)
        return cli_usage_error("search", "--near: latitude '%s' is not a number from -90 to 90", lat);
    if (s_real(comma + 1, -180, 180, &lo) != 0)
        return cli_usage_error("search", "--near: longitude '%.40s' is not a number from -180 to 180",
                               comma + 1);
    json_object_set_new(s->req, "near", json_pack("{s:f, s:f}", "lat", la, "lon", lo));
    s->near = true;
    return 0;
}

/* The options that take one value, other than the list options.
 * Returns 0, 1 after a usage error, or -1 if ch is not one of them. */
static int
s_value_option(struct search *s, int ch, const char *arg)
{
    double v;
    long long d;

    switch (ch) {
    case 's':
        return s_time_option(s, "since", "since", arg);
    case 'f':
        return s_time_option(s, "from", "from", arg);
    case 't':
        return s_time_option(s, "to", "to", arg);
    case 'm':
        if (s_real(arg, 0, 100, &v) != 0)
            return cli_usage_error("search", "--min-disadvantaged '%.80s' is not a percentage from 0 to 100", arg);
        json_object_set_new(s->req, "min_disadvantaged", json_real(v));
        return 0;
    case 'x':
        return s_near_option(s, arg);
    case 'K':
        if (s_real(arg, 0, 20040, &v) != 0 || v <= 0)
            return cli_usage_error("search", "--km '%.80s' is not a distance in km above 0", arg);
        json_object_set_new(s->req, "km", json_real(v));
        s->km = true;
        return 0;
    case 'z':
    case 'b':
        for (const char *const *w = ch == 'z' ? code_sorts : code_facets; *w; w++) {
            if (strcmp(*w, arg) == 0) {
                json_object_set_new(s->req, ch == 'z' ? "sort" : "count_by", json_string(arg));
                s->facets = s->facets || ch == 'b';
                return 0;
            }
        }
        return cli_usage_error("search", ch == 'z'
                               ? "--sort '%.80s' is not relevance, name, updated or distance"
                               : "--count-by '%.80s' is not region, country, cpv, nace, label or kind", arg);
    case 'd':
        if ((d = s_number(arg, 0, 8)) < 0)
            return cli_usage_error("search", "--depth '%.80s' is not a number from 0 to 8", arg);
        json_object_set_new(s->req, "depth", json_integer(d));
        return 0;
    }
    return -1;
}

/* Checks that the options fit together. Returns 0, or 1 after a usage
 * error. */
static int
s_search_combination(const struct search *s)
{
    const char *sort = json_string_value(json_object_get(s->req, "sort"));
    const char *by = json_string_value(json_object_get(s->req, "count_by"));
    const json_t *depth = json_object_get(s->req, "depth");

    if (s->km && !s->near)
        return cli_usage_error("search", "--km needs --near LAT,LON");
    if (sort != NULL && strcmp(sort, "distance") == 0 && !s->near)
        return cli_usage_error("search", "--sort distance needs --near LAT,LON");
    if (sort != NULL && strcmp(sort, "relevance") == 0 && !json_object_get(s->req, "words"))
        return cli_usage_error("search", "--sort relevance needs words to rank by");
    if (depth != NULL) {
        json_int_t d = json_integer_value(depth);
        int dmin = 0, dmax = -1;
        if (by == NULL)
            return cli_usage_error("search", "--depth needs --count-by region, cpv or nace");
        if (!code_facet_depth(by, &dmin, &dmax) || d < dmin || d > dmax)
            return cli_usage_error("search", "--depth %lld does not fit --count-by %s (region: NUTS"
                                   " level 0-3, cpv: 2-8 digits, nace: 2-4 digits)", (long long)d, by);
    }
    return 0;
}

/* One option (not a list). Returns 0, or 1 after a usage error. */
static int
s_search_option(struct search *s, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case 'l':
        snprintf(s->lang, sizeof(s->lang), "%s", arg);
        if (!s_check_lang(s->lang))
            return cli_usage_error("search", "--lang '%.80s' is not an ISO 639-1 code (e.g. de)", arg);
        json_object_set_new(s->req, "lang", json_string(s->lang));
        return 0;
    case 'n':
        if ((v = s_number(arg, 1, MSG_PAGE_MAX)) < 0)
            return cli_usage_error("search", "--limit '%.80s' is not a number from 1 to %d", arg, MSG_PAGE_MAX);
        json_object_set_new(s->req, "limit", json_integer(v));
        return 0;
    case 'o':
        if ((v = s_number(arg, 0, (long long)1 << 53)) < 0)
            return cli_usage_error("search", "--offset '%.80s' is not a number >= 0", arg);
        json_object_set_new(s->req, "offset", json_integer(v));
        return 0;
    case 'D':
        json_object_set_new(s->req, "include_deleted", json_true());
        return 0;
    case 'E':
        s->explain = true;
        json_object_set_new(s->req, "explain", json_true());
        return 0;
    case 'J':
        return s_set_format("search", &s->fmt, RENDER_JSON);
    case 'N':
        return s_set_format("search", &s->fmt, RENDER_NDJSON);
    case 'C':
        return s_set_format("search", &s->fmt, RENDER_CSV);
    }
    int rc = s_value_option(s, ch, arg);
    if (rc >= 0)
        return rc;
    for (const struct list_opt *lo = s_lists; lo->name; lo++) {
        if (lo->ch == ch) {
            json_t *arr = json_object_get(s->req, lo->field);
            if (arr == NULL)
                json_object_set_new(s->req, lo->field, arr = json_array());
            return s_add_list(lo, arg, arr);
        }
    }
    return 1;   /* not reached: every option is handled above */
}

/* Parses argv into s. Returns -1 to go on, else the exit status. */
static int
s_search_args(struct search *s, int argc, char **argv)
{
    static const struct option opts[] = {
        { "kind", required_argument, NULL, 'k' }, { "country", required_argument, NULL, 'c' },
        { "region", required_argument, NULL, 'r' }, { "lang", required_argument, NULL, 'l' },
        { "limit", required_argument, NULL, 'n' }, { "offset", required_argument, NULL, 'o' },
        { "include-deleted", no_argument, NULL, 'D' }, { "json", no_argument, NULL, 'J' },
        { "ndjson", no_argument, NULL, 'N' }, { "csv", no_argument, NULL, 'C' },
        { "nace", required_argument, NULL, 'A' }, { "cpv", required_argument, NULL, 'P' },
        { "target-group", required_argument, NULL, 'T' },
        { "partnership", required_argument, NULL, 'S' }, { "label", required_argument, NULL, 'L' },
        { "org-type", required_argument, NULL, 'O' }, { "origin", required_argument, NULL, 'G' },
        { "city", required_argument, NULL, 'Y' },
        { "since", required_argument, NULL, 's' }, { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "min-disadvantaged", required_argument, NULL, 'm' },
        { "near", required_argument, NULL, 'x' }, { "km", required_argument, NULL, 'K' },
        { "sort", required_argument, NULL, 'z' }, { "count-by", required_argument, NULL, 'b' },
        { "depth", required_argument, NULL, 'd' }, { "explain", no_argument, NULL, 'E' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    int ch;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (ch == 'h')
            return cli_help("search");
        if (ch == '?' || ch == ':')
            return cli_bad_option("search", ch, argv);
        if (s_search_option(s, ch, optarg) != 0)
            return CLI_USAGE;
    }
    /* The words: every argument left, joined by spaces. The node quotes
     * each word, so FTS5 syntax typed here is searched for, not obeyed. */
    size_t len = 0;
    for (int i = optind; i < argc; i++)
        len += strlen(argv[i]) + 1;
    if (len > 0) {
        char *words = xmalloc(len), *p = words;
        for (int i = optind; i < argc; i++)
            p += sprintf(p, "%s%s", i > optind ? " " : "", argv[i]);
        json_t *w = json_string(words);
        free(words);
        if (w == NULL)
            return cli_usage_error("search", "the words are not valid UTF-8");
        json_object_set_new(s->req, "words", w);
    }
    return s_search_combination(s) != 0 ? 1 : -1;
}

/* ---- search: output ---- */

/* The table: NAME is capped at 40 code points and gives way on a narrow
 * terminal; the footer says how many of how many matches are shown, so
 * a user sees when --limit or --offset hid some. Tombstones (with
 * --include-deleted) have no name left and show as "(deleted)". With
 * --near, DIST is the distance in km, one decimal. */
static void
s_search_table(const json_t *entries, const char *lang, long long total, bool near)
{
    static const char *const head[] = { "KIND", "NAME", "COUNTRY", "REGION", "ID", "DIST" };
    table_t *t = table_new(near ? 6 : 5, head);
    json_t *e;
    size_t i;

    table_set_max(t, 1, 40);
    table_set_flex(t, 1, 12, render_term_cols());
    json_array_foreach(entries, i, e) {
        bool deleted = json_is_true(json_object_get(e, "deleted"));
        const char *name = render_name(e, lang);
        json_t *dist = json_object_get(e, "distance");
        char km[32] = "";
        if (json_is_number(dist))
            snprintf(km, sizeof(km), "%.1f", json_number_value(dist));
        const char *row[] = {
            json_string_value(json_object_get(e, "kind")),
            deleted && *name == '\0' ? "(deleted)" : name,
            json_string_value(json_object_get(e, "country")),
            json_string_value(json_object_get(e, "region")),
            json_string_value(json_object_get(e, "id")),
            km,
        };
        table_add(t, row);
    }
    if (json_array_size(entries) > 0)
        table_print(t, stdout);
    table_destroy(&t);
    printf("%zu of %lld %s\n", json_array_size(entries), total, total == 1 ? "match" : "matches");
}

/* --explain: the node's time and each statement with its plan, on
 * stderr so that the results on stdout stay what a script expects. With
 * --json they are in the document instead (took_ms, explain). */
static void
s_explain_print(const struct search *s, const json_t *reply)
{
    const json_t *stmt;
    size_t i;

    if (!s->explain || s->fmt == RENDER_JSON)
        return;
    fprintf(stderr, "node time: %.3f ms\n", json_number_value(json_object_get(reply, "took_ms")));
    json_array_foreach(json_object_get(reply, "explain"), i, stmt) {
        fprintf(stderr, "statement %zu: %s\n", i + 1, json_string_value(json_object_get(stmt, "sql")));
        fprintf(stderr, "%s", json_string_value(json_object_get(stmt, "plan")));
    }
}

/* --json documents carry the node's time (took_ms) and, with --explain,
 * the statements and plans (explain). */
static void
s_explain_copy(const struct search *s, const json_t *reply, json_t *doc)
{
    json_t *took = json_object_get(reply, "took_ms");
    if (json_is_number(took))
        json_object_set(doc, "took_ms", took);
    if (s->explain)
        json_object_set(doc, "explain", json_object_get(reply, "explain"));
}

/* Prints the page in the chosen format. --json is one document with the
 * total, so that a script can page; --ndjson and --csv carry entries
 * only. */
static void
s_search_print(const struct search *s, const json_t *reply, json_t *entries, long long total)
{
    const char *lang = s->lang[0] ? s->lang : NULL;
    json_t *e;
    size_t i;

    json_array_foreach(entries, i, e)
        s_round_score(e);
    if (s->fmt == RENDER_TABLE) {
        s_search_table(entries, lang, total, s->near);
    } else if (s->fmt == RENDER_JSON) {
        json_t *doc = json_pack("{s:I, s:O}", "total", (json_int_t)total, "entries", entries);
        s_explain_copy(s, reply, doc);
        render_json(stdout, doc, 1);
        json_decref(doc);
    } else {
        if (s->fmt == RENDER_CSV)
            render_csv_header(stdout);
        json_array_foreach(entries, i, e)
            render_emit(stdout, s->fmt, e, lang, i);
    }
}

/* Prints --count-by counts: a VALUE COUNT table and the number of
 * matches, {"total", "facets"} with --json, one {"value", "count"} per
 * line with --ndjson, "value,count" rows with --csv. Returns 0, or 1 on
 * a malformed reply. */
static int
s_facets_print(const struct search *s, const json_t *reply, long long total)
{
    json_t *facets = json_object_get(reply, "facets"), *f;
    size_t i;

    if (!json_is_array(facets))
        return cli_warn("malformed reply: no facets"), 1;
    if (s->fmt == RENDER_JSON) {
        json_t *doc = json_pack("{s:I, s:O}", "total", (json_int_t)total, "facets", facets);
        s_explain_copy(s, reply, doc);
        render_json(stdout, doc, 1);
        json_decref(doc);
        return 0;
    }
    static const char *const head[] = { "VALUE", "COUNT" };
    table_t *t = table_new(2, head);
    if (s->fmt == RENDER_CSV)
        printf("value,count\n");
    json_array_foreach(facets, i, f) {
        const char *value = json_string_value(json_object_get(f, "value"));
        json_t *count = json_object_get(f, "count");
        char n[32];
        if (value == NULL || !json_is_integer(count))
            continue;
        snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(count));
        if (s->fmt == RENDER_NDJSON) {
            render_json(stdout, f, 0);
        } else if (s->fmt == RENDER_CSV) {
            render_csv_field(stdout, value, 0);
            render_csv_field(stdout, n, 1);
        } else {
            const char *row[] = { value, n };
            table_add(t, row);
        }
    }
    if (s->fmt == RENDER_TABLE) {
        if (json_array_size(facets) > 0)
            table_print(t, stdout);
        printf("%lld %s\n", total, total == 1 ? "match" : "matches");
    }
    table_destroy(&t);
    return 0;
}

int
cmd_search(int argc, char **argv)
{
    struct search s = { .req = json_pack("{s:s}", "op", "search"), .fmt = RENDER_TABLE };
    client_t *c = NULL;
    json_t *reply = NULL;
    int rc = s_search_args(&s, argc, argv);

    if (rc >= 0)
        goto out;
    rc = 1;
    if ((c = cli_connect()) == NULL || (reply = cli_call(c, s.req)) == NULL)
        goto out;
    json_t *total = json_object_get(reply, "total"), *entries = json_object_get(reply, "entries");
    if (s.facets) {
        if (!json_is_integer(total))
            cli_warn("malformed reply: no total");
        else
            rc = s_facets_print(&s, reply, (long long)json_integer_value(total));
        s_explain_print(&s, reply);
        goto out;
    }
    if (!json_is_integer(total) || !json_is_array(entries)) {
        cli_warn("malformed reply: no total or entries");
        goto out;
    }
    /* Anything but objects in the list would print as nonsense. */
    for (size_t i = 0; i < json_array_size(entries); ) {
        if (json_is_object(json_array_get(entries, i)))
            i++;
        else
            json_array_remove(entries, i);
    }
    s_search_print(&s, reply, entries, (long long)json_integer_value(total));
    s_explain_print(&s, reply);
    rc = 0;
out:
    json_decref(reply);
    json_decref(s.req);
    client_close(&c);
    return rc;
}
