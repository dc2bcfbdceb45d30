/*
 * import_map.c: how import turns a source record into an entry. A record
 * is a flat JSON object of columns or properties; the mapping file (see
 * conf/import/README.md) says which column, template or constant feeds
 * each field, how it is converted (string, number, integer, list split
 * on separators, a map of source values) and the default kind, country
 * and region. Without a mapping the column names are the field names
 * ("name:de", "geo.lat", "cpv"). The entry gets an id from the mapped
 * column or template, else a slug of its first name and city, so a
 * second import of the same file makes the same ids. It checks values
 * only as far as converting them needs: entry_validate (publish.c) judges
 * the entry. It reads no records (records.c) and sends nothing.
 */
#include "import_map.h"
#include "cli.h"
#include "codes.h"
#include "entry.h"
#include "render.h"
#include "text.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_STRING, T_NUMBER, T_INTEGER, T_LIST };

/* One mapped field: where its value comes from and how it is converted. */
struct spec {
    const char *target;     /* "name:de", "geo.lat", "cpv" (lent by the mapping doc) */
    const char *column;     /* source column or property, or NULL */
    const char *tmpl;       /* "{Street} {No}", or NULL */
    const json_t *value;    /* a constant, or NULL */
    const char *split;      /* list separators (T_LIST) */
    const json_t *values;   /* value map {source: value}, or NULL */
    json_t *folded;         /* the same keyed by text_norm of the source, owned */
    int type;
};

struct import_map {
    json_t *map;            /* the mapping document, or NULL: column names are field names */
    struct spec *specs;     /* its fields */
    size_t nspecs;
    struct spec id;         /* its id source (column or template), if any */
    const char *id_prefix;  /* "" if none */
    const char *path;       /* the mapping file, lent; NULL without one */
    const char *lang;       /* --lang: the language of plain name, description ... or NULL */
    json_t *problems;       /* what import_map_check will refuse, strings */
    json_t *targets;        /* targets made here ("name:de" for "name" with --lang) */
    import_map_warn_fn warn;    /* --lenient: reports a value dropped, or NULL */
    void *warn_arg;
};

/* The language-map fields, which a column must name with ":LL". */
static bool
s_lang_field(const char *target)
{
    const char *const *subs;
    bool langmap = false;
    for (size_t i = 0; entry_field_info(i, &subs, &langmap) != NULL; i++)
        if (strcmp(entry_field_info(i, &subs, &langmap), target) == 0)
            return langmap;
    return false;
}

/* Notes a problem of the mapping for import_map_check. */
static void
s_problem(struct import_map *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
s_problem(struct import_map *m, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    json_array_append_new(m->problems, json_string(buf));
}

/* Optimal string alignment distance of a and b (edits, a swap of two
 * neighbours counting one), for "did you mean". */
static size_t
s_distance(const char *a, const char *b)
{
    size_t n = strlen(a), k = strlen(b);
    if (n > 40 || k > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= k; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= k; j++) {
            size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][k];
}

/* Checks a target against the fields the validator knows ("name:de",
 * "geo.lat", "website"); notes what is wrong, with the closest known name
 * for a misspelt one. Returns the target to set: target, or with --lang
 * "name" made "name:LL". */
static const char *
s_check_target(struct import_map *m, const char *target)
{
    const char *sep = strpbrk(target, ":."), *const *subs, *name, *best = NULL;
    size_t n = sep ? (size_t)(sep - target) : strlen(target), dist = 99;
    char *base = text_strndup(target, n);
    bool langmap = false, found = false;
    for (size_t i = 0; !found && (name = entry_field_info(i, &subs, &langmap)) != NULL; i++) {
        found = strcmp(name, base) == 0;
        size_t d = s_distance(base, name);
        if (d < dist)
            dist = d, best = name;
    }
    if (!found && (strcmp(base, "id") == 0 || strcmp(base, "kind") == 0))
        found = true, subs = NULL, langmap = false;
    if (!found && best != NULL && dist <= 2 && dist < n)
        s_problem(m, "field '%s': unknown field (did you mean '%s%s'?)", target, best, sep ? sep : "");
    else if (!found)
        s_problem(m, "field '%s': unknown field (see proto/PROTOCOL.md for the fields)", target);
    else if (langmap && sep == NULL && m->lang == NULL)
        s_problem(m, "field '%s': say which language, e.g. '%s:de' (or give --lang)", target, target);
    else if (langmap && sep == NULL) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s:%s", target, m->lang);
        json_array_append_new(m->targets, json_string(buf));
        target = json_string_value(json_array_get(m->targets, json_array_size(m->targets) - 1));
    } else if (langmap && !code_lang_listed(sep + 1))
        s_problem(m, "field '%s': '%s' is not an ISO 639-1 language code (e.g. de)", target, sep + 1);
    else if (!langmap && subs != NULL && sep != NULL) {
        bool ok = false;
        for (const char *const *p = subs; *p; p++)
            ok |= strcmp(*p, sep + 1) == 0;
        if (!ok)
            s_problem(m, "field '%s': %s has %s%s%s%s%s", target, base, subs[0], subs[1] ? ", " : "",
                      subs[1] ? subs[1] : "", subs[1] && subs[2] ? ", " : "", subs[1] && subs[2] ? subs[2] : "");
    } else if (!langmap && sep != NULL)
        s_problem(m, "field '%s': %s has no parts or languages", target, base);
    free(base);
    return target;
}

/* ---- the mapping ---- */

/* The type of a field by its name when the mapping does not say. */
static int
s_default_type(const char *target)
{
    static const char *lists[] = { "languages", "org_types", "labels", "nace", "cpv", "target_groups",
                                   "partnership_types", "customer_types", "tags", NULL };
    for (int i = 0; lists[i]; i++)
        if (strcmp(target, lists[i]) == 0)
            return T_LIST;
    if (strcmp(target, "disadvantaged_share") == 0 || strcmp(target, "geo.lat") == 0 ||
        strcmp(target, "geo.lon") == 0)
        return T_NUMBER;
    if (strcmp(target, "lead_time_days") == 0)
        return T_INTEGER;
    return T_STRING;
}

/* Fills sp from a mapping value: "Column" or {"column" | "template" |
 * "value", "split", "type", "values"}. Returns 0 or -1 with err set. */
static int
s_spec(struct spec *sp, const char *target, const json_t *v, char *err, size_t len)
{
    memset(sp, 0, sizeof(*sp));
    sp->target = target;
    sp->type = s_default_type(target);
    sp->split = ",;";
    if (json_is_string(v)) {
        sp->column = json_string_value(v);
        return 0;
    }
    if (!json_is_object(v)) {
        snprintf(err, len, "field '%s': expected a column name or an object", target);
        return -1;
    }
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item) {
        static const char *known[] = { "column", "template", "value", "split", "type", "values", "prefix", NULL };
        int k = 0;
        while (known[k] != NULL && strcmp(known[k], key) != 0)
            k++;
        if (known[k] == NULL || (strcmp(key, "prefix") == 0 && strcmp(target, "id") != 0)) {
            snprintf(err, len, "field '%s': unknown key '%s'", target, key);
            return -1;
        }
    }
    const char *type = json_string_value(json_object_get(v, "type"));
    sp->column = json_string_value(json_object_get(v, "column"));
    sp->tmpl = json_string_value(json_object_get(v, "template"));
    sp->value = json_object_get(v, "value");
    sp->values = json_object_get(v, "values");
    if (json_is_string(json_object_get(v, "split"))) {
        sp->split = json_string_value(json_object_get(v, "split"));
        sp->type = T_LIST;
    }
    if (type != NULL) {
        static const char *names[] = { "string", "number", "integer", "list" };
        sp->type = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(type, names[i]) == 0)
                sp->type = i;
        if (sp->type < 0) {
            snprintf(err, len, "field '%s': type must be string, number, integer or list", target);
            return -1;
        }
    }
    if ((sp->column != NULL) + (sp->tmpl != NULL) + (sp->value != NULL) != 1) {
        snprintf(err, len, "field '%s': give one of \"column\", \"template\", \"value\"", target);
        return -1;
    }
    if (sp->values != NULL && !json_is_object(sp->values)) {
        snprintf(err, len, "field '%s': \"values\" must be an object", target);
        return -1;
    }
    if (sp->values != NULL) {       /* folded once, not once a row */
        const char *k;
        json_t *x;
        sp->folded = json_object();
        json_object_foreach((json_t *)sp->values, k, x) {
            char *f = text_norm(k);
            if (json_object_get(sp->folded, f) == NULL)     /* the first of keys alike */
                json_object_set(sp->folded, f, x);
            free(f);
        }
    }
    return 0;
}

/* Loads the mapping file into m. Returns 0, or -1 after saying why. */
static int
s_load(struct import_map *m, const char *path)
{
    json_error_t jerr;
    char err[300];
    const char *key;
    json_t *v;

    m->id_prefix = "";
    m->map = json_load_file(path, 0, &jerr);
    if (m->map == NULL || !json_is_object(m->map)) {
        cli_warn("%s:%d: %s", path, jerr.line, m->map ? "expected a JSON object" : jerr.text);
        return -1;
    }
    static const char *known[] = { "kind", "country", "region", "id", "fields", NULL };
    json_object_foreach(m->map, key, v) {
        int i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (known[i] == NULL || (i < 3 && !json_is_string(v))) {
            cli_warn("%s: %s '%s'", path, known[i] ? "expected a string for" : "unknown key", key);
            return -1;
        }
    }
    json_t *id = json_object_get(m->map, "id");
    if (json_is_object(id) && json_object_get(id, "prefix") != NULL) {
        if (!json_is_string(json_object_get(id, "prefix"))) {
            cli_warn("%s: id: \"prefix\" must be a string", path);
            return -1;
        }
        m->id_prefix = json_string_value(json_object_get(id, "prefix"));
    }
    bool prefix_only = json_is_object(id) && json_object_size(id) == 1 && *m->id_prefix;
    if (id != NULL && !prefix_only) {
        if (s_spec(&m->id, "id", id, err, sizeof(err)) != 0 || m->id.value != NULL) {
            cli_warn("%s: id: give \"column\" or \"template\" (and optionally \"prefix\")", path);
            return -1;
        }
        m->id.type = T_STRING;
    }
    json_t *fields = json_object_get(m->map, "fields");
    if (fields != NULL && !json_is_object(fields)) {
        cli_warn("%s: \"fields\" must be an object", path);
        return -1;
    }
    m->specs = xcalloc(json_object_size(fields) + 1, sizeof(*m->specs));
    json_object_foreach(fields, key, v) {
        if (s_spec(&m->specs[m->nspecs++], key, v, err, sizeof(err)) != 0) {
            cli_warn("%s: %s", path, err);
            return -1;
        }
        m->specs[m->nspecs - 1].target = s_check_target(m, key);
    }
    const char *kind = json_string_value(json_object_get(m->map, "kind"));
    const char *country = json_string_value(json_object_get(m->map, "country"));
    const char *region = json_string_value(json_object_get(m->map, "region"));
    if (kind != NULL && entry_kind_from_name(kind) == KIND_NONE)
        s_problem(m, "kind '%s': not a kind (organisation, offer, partnership, event, programme)", kind);
    /* the entry's own rules, so that a default is never refused row by row */
    char why[256];
    if (country != NULL && entry_check_country(country, why, sizeof(why)) != 0)
        s_problem(m, "country: %s", why);
    if (region != NULL && !code_nuts(region))
        s_problem(m, "region '%s': not a NUTS code (e.g. AT12)", region);
    else if (region != NULL && country != NULL && entry_check_country(country, why, sizeof(why)) == 0 &&
             entry_check_region(country, region, why, sizeof(why)) != 0)
        s_problem(m, "region: %s", why);
    return 0;
}

import_map_t *
import_map_load(const char *path, const char *lang)
{
    import_map_t *m = xcalloc(1, sizeof(*m));
    m->id_prefix = "";
    m->path = path;
    m->lang = lang;
    m->problems = json_array();
    m->targets = json_array();
    if (path != NULL && s_load(m, path) != 0)
        import_map_destroy(&m);
    return m;
}

bool
import_map_given(const import_map_t *m)
{
    return m->map != NULL;
}

void
import_map_destroy(import_map_t **self_p)
{
    if (*self_p) {
        import_map_t *m = *self_p;
        for (size_t i = 0; i < m->nspecs; i++)
            json_decref(m->specs[i].folded);
        json_decref(m->id.folded);
        free(m->specs);
        json_decref(m->map);
        json_decref(m->problems);
        json_decref(m->targets);
        free(m);
        *self_p = NULL;
    }
}

/* ---- turning a record into an entry ---- */

/* The text of a source value: strings as they are, numbers printed, else
 * NULL. Writes into buf when it has to. */
static const char *
s_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%.10g", json_real_value(v));
    else
        return NULL;
    return buf;
}

/* The value map's value for text (exact, else folded and trimmed: the
 * keys were folded at load), or NULL when it has none. */
static const json_t *
s_lookup(const struct spec *sp, const char *text)
{
    json_t *v;
    if (sp->values == NULL)
        return NULL;
    if ((v = json_object_get(sp->values, text)) != NULL)
        return v;
    char *want = text_norm(text);
    v = json_object_get(sp->folded, want);
    free(want);
    return v;
}

/* A new JSON value of type for text (trimmed, non-empty). Numbers take a
 * decimal comma and a trailing '%'. Returns NULL with err set. */
static json_t *
s_convert_one(const struct spec *sp, int type, const char *text, char *err, size_t len)
{
    const json_t *mapped = s_lookup(sp, text);
    if (mapped != NULL)
        return json_deep_copy(mapped);
    if (type == T_STRING || type == T_LIST)
        return json_string(text);
    char *s = xstrdup(text), *end;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '%' || s[n - 1] == ' '))
        s[--n] = '\0';
    if (strchr(s, '.') == NULL && strchr(s, ',') != NULL && strchr(s, ',') == strrchr(s, ','))
        *strchr(s, ',') = '.';
    errno = 0;
    json_t *out = NULL;
    if (type == T_INTEGER) {
        long long i = strtoll(s, &end, 10);
        if (n > 0 && *end == '\0' && errno == 0)
            out = json_integer(i);
    } else {
        double d = strtod(s, &end);
        if (n > 0 && *end == '\0' && isfinite(d))
            out = json_real(d);
    }
    if (out == NULL)
        snprintf(err, len, "field '%s': '%.60s' is not %s", sp->target, text,
                 type == T_INTEGER ? "a whole number" : "a number");
    free(s);
    return out;
}

/* Expands "{Column}" placeholders with the record's values; a new string,
 * empty when every placeholder was empty. */
static char *
s_expand(const char *tmpl, const json_t *row)
{
    size_t cap = strlen(tmpl) + 64, n = 0;
    char *out = xmalloc(cap), buf[64];
    bool any = false;
    for (const char *p = tmpl; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        const char *piece = p;
        size_t len = 1;
        if (close != NULL) {
            char *col = text_strndup(p + 1, (size_t)(close - p - 1));
            piece = s_text(json_object_get(row, col), buf, sizeof(buf));
            free(col);
            piece = piece ? piece : "";
            len = strlen(piece);
            any |= strspn(piece, " \t") != len;
            p = close + 1;
        } else {
            p++;
        }
        if (n + len + 1 > cap)
            out = xrealloc(out, cap = 2 * (n + len + 1));
        memcpy(out + n, piece, len);
        n += len;
    }
    out[any ? n : 0] = '\0';
    return out;
}

/* Sets target ("a", "a:LL", "a.b") of entry e to v (stolen). */
static void
s_set(json_t *e, const char *target, json_t *v)
{
    const char *sep = strpbrk(target, ":.");
    if (sep == NULL) {
        json_object_set_new(e, target, v);
        return;
    }
    char *outer = text_strndup(target, (size_t)(sep - target));
    json_t *o = json_object_get(e, outer);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(e, outer, o);
    }
    json_object_set_new(o, sep + 1, v);
    free(outer);
}

/* The value of one field spec for record row: a new JSON value, or NULL
 * when the source is empty (*err empty) or cannot be converted (*err set). */
static json_t *
s_field(const struct spec *sp, const json_t *row, char *err, size_t len)
{
    char buf[64];
    const json_t *src;
    char *text = NULL;
    json_t *out = NULL;

    *err = '\0';
    if (sp->value != NULL)
        return json_deep_copy(sp->value);
    if (sp->tmpl != NULL) {
        text = s_expand(sp->tmpl, row);
    } else {
        src = json_object_get(row, sp->column);
        if (json_is_array(src) || json_is_object(src) || json_is_boolean(src)) {
            if (sp->type == T_LIST && json_is_array(src) && sp->values != NULL) {
                json_t *item, *list = json_array();
                size_t i;
                json_array_foreach(src, i, item) {
                    const json_t *m = json_is_string(item) ? s_lookup(sp, json_string_value(item)) : NULL;
                    json_array_append_new(list, m ? json_deep_copy(m) : json_incref(item));
                }
                return list;
            }
            return json_deep_copy(src);
        }
        if (json_is_number(src) && sp->type != T_LIST && sp->values == NULL) {
            if (sp->type == T_STRING)
                return json_string(s_text(src, buf, sizeof(buf)));
            return json_deep_copy(src);
        }
        const char *t = s_text(src, buf, sizeof(buf));
        text = text_trim(t ? t : "", t ? strlen(t) : 0);
    }
    if (*text == '\0') {
        free(text);
        return NULL;
    }
    if (sp->type != T_LIST) {
        out = s_convert_one(sp, sp->type, text, err, len);
    } else {
        out = json_array();
        for (char *p = text; *p;) {
            size_t n = strcspn(p, sp->split);
            char *item = text_trim(p, n);
            if (*item != '\0')
                json_array_append_new(out, s_convert_one(sp, T_LIST, item, err, len));
            free(item);
            p += n + (p[n] != '\0');
        }
        if (json_array_size(out) == 0)
            json_decref(out), out = NULL;
    }
    free(text);
    return out;
}

void
import_map_set_lenient(import_map_t *m, import_map_warn_fn warn, void *arg)
{
    m->warn = warn;
    m->warn_arg = arg;
}

/* A value of a field that cannot be converted (err): with --lenient it is
 * reported and left out (returns true), else the record is refused. */
static bool
s_drop(const import_map_t *m, const char *err)
{
    if (m->warn == NULL)
        return false;
    char why[ENTRY_ERR_MAX + 40];
    snprintf(why, sizeof(why), "%s (value dropped, row kept)", err);
    m->warn(m->warn_arg, why);
    return true;
}

/* A new entry from record row through the mapping, or without one from
 * the column names. Returns NULL with err set for a value that cannot be
 * converted. */
json_t *
import_map_entry(const import_map_t *m, const json_t *row, char *err, size_t len)
{
    json_t *e = json_object();
    if (m->map == NULL) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)row, key, v) {
            struct spec sp = { .target = key, .column = key, .type = s_default_type(key), .split = ",;" };
            char target[64];
            if (strcmp(key, "id") == 0 || strcmp(key, "kind") == 0)
                sp.type = T_STRING;
            /* text, or a language map {"de": ...} as entries have it */
            if (!json_is_string(v) && !json_is_null(v) && !json_is_object(v) && s_lang_field(key)) {
                snprintf(err, len, "field '%s': must be text (got %s)", key,
                         json_is_number(v) ? "a number" : json_is_array(v) ? "a list" : "true or false");
                goto bad;
            }
            if (json_is_string(v) && s_lang_field(key)) {
                if (m->lang == NULL) {
                    snprintf(err, len, "field '%s': say which language: give --lang LL or name it '%s:LL'", key, key);
                    goto bad;
                }
                snprintf(target, sizeof(target), "%s:%s", key, m->lang);
                sp.target = target;
            }
            json_t *out = s_field(&sp, row, err, len);
            if (out == NULL && *err && !s_drop(m, err))
                goto bad;
            if (out != NULL)
                s_set(e, sp.target, out);
        }
        return e;
    }
    for (size_t i = 0; i < m->nspecs; i++) {
        json_t *out = s_field(&m->specs[i], row, err, len);
        if (out == NULL && *err && !s_drop(m, err))
            goto bad;
        if (out != NULL)
            s_set(e, m->specs[i].target, out);
    }
    static const char *defaults[] = { "kind", "country", "region" };
    for (int i = 0; i < 3; i++) {
        json_t *d = json_object_get(m->map, defaults[i]);
        if (d != NULL && json_object_get(e, defaults[i]) == NULL)
            json_object_set(e, defaults[i], d);
    }
    return e;
bad:
    json_decref(e);
    return NULL;
}

/* Gives entry e its id when it has none: the mapping's id column or
 * template, else a slug of its first name and its city. Returns 0, or -1
 * with err set when there is nothing to make one from. */
int
import_map_give_id(const import_map_t *m, json_t *e, const json_t *row, char *err, size_t len)
{
    char *raw = NULL;
    bool lower = false;
    if (m->id.column != NULL || m->id.tmpl != NULL) {
        json_t *v = s_field(&m->id, row, err, len);
        const char *s = json_string_value(v);
        raw = s != NULL ? xstrdup(s) : NULL;
        json_decref(v);
        if (raw == NULL) {
            snprintf(err, len, "field 'id': the id column is empty");
            return -1;
        }
    } else if (m->map == NULL && json_object_get(e, "id") != NULL) {
        return 0;
    } else {
        const char *key;
        json_t *v, *name = json_object_get(e, "name");
        const char *first = NULL;
        json_object_foreach(name, key, v) {
            if ((first = json_string_value(v)) != NULL)
                break;
        }
        if (first == NULL) {
            snprintf(err, len, "field 'name': required (the id is made from it)");
            return -1;
        }
        const char *city = json_string_value(json_object_get(json_object_get(e, "address"), "city"));
        size_t n = strlen(first) + (city ? strlen(city) : 0) + 2;
        raw = xmalloc(n);
        snprintf(raw, n, "%s%s%s", first, city ? "-" : "", city ? city : "");
        lower = true;
    }
    char *id = text_make_id(m->id_prefix, raw, lower);
    json_object_set_new(e, "id", json_string(id));
    free(id);
    free(raw);
    return 0;
}

/* Without a mapping, the columns (or GeoJSON properties: what) named in
 * names that the validator takes as language maps: each must say its
 * language ("name:de", or "name" with --lang), one of ISO 639-1. */
static void
s_lang_columns(import_map_t *m, const json_t *names, const char *what)
{
    for (size_t j = 0; m->map == NULL && j < json_array_size(names); j++) {
        const char *h = json_string_value(json_array_get(names, j)), *colon = strchr(h, ':');
        char *base = colon ? text_strndup(h, (size_t)(colon - h)) : NULL;
        if (colon == NULL && m->lang == NULL && s_lang_field(h))
            s_problem(m, "%s '%s': say which language, e.g. '%s:de' (or give --lang, or use --map)", what, h, h);
        else if (colon != NULL && s_lang_field(base) && !code_lang_listed(colon + 1))
            s_problem(m, "%s '%s': '%s' is not an ISO 639-1 language code (e.g. de)", what, h, colon + 1);
        free(base);
    }
}

static int s_problems(import_map_t *m, const char *file);

/* True if the CSV header has a column named name (n bytes). */
static bool
s_has_column(const json_t *header, const char *name, size_t n)
{
    for (size_t j = 0; j < json_array_size(header); j++) {
        const char *h = json_string_value(json_array_get(header, j));
        if (strlen(h) == n && memcmp(h, name, n) == 0)
            return true;
    }
    return false;
}

/* Checks the mapping (noted at load) and, for CSV, the header: that
 * every column the mapping names (as "column" or in a template) is in it,
 * and without a mapping that language maps say their language. Returns 0,
 * or -1 after saying, once, every problem found. */
int
import_map_check(import_map_t *m, const json_t *header, const char *file)
{
    for (size_t i = 0; header != NULL && i <= m->nspecs; i++) {
        const struct spec *sp = i < m->nspecs ? &m->specs[i] : &m->id;
        const char *name = sp->column, *p = sp->tmpl, *close = NULL;
        size_t n = name ? strlen(name) : 0;
        while (name != NULL || (p != NULL && (p = strchr(p, '{')) != NULL && (close = strchr(p, '}')) != NULL)) {
            if (name == NULL) {
                name = p + 1;
                n = (size_t)(close - name);
                p = close;
            }
            if (!s_has_column(header, name, n))
                s_problem(m, "%s%s%s: column '%.*s' is not in the header of %s", sp == &m->id ? "id" : "field '",
                          sp == &m->id ? "" : sp->target, sp == &m->id ? "" : "'", (int)n, name, file);
            if (sp->column != NULL)
                break;
            name = NULL;
        }
    }
    /* a column twice: the row would keep the last one silently */
    json_t *seen = json_object();
    for (size_t j = 0; j < json_array_size(header); j++) {
        const char *h = json_string_value(json_array_get(header, j));
        json_t *at = json_object_get(seen, h);
        if (*h != '\0' && at != NULL)
            s_problem(m, "column '%s': in the header twice, as columns %lld and %zu", h,
                      (long long)json_integer_value(at), j + 1);
        else if (*h != '\0')
            json_object_set_new(seen, h, json_integer((json_int_t)j + 1));
    }
    json_decref(seen);
    s_lang_columns(m, header, "column");
    return s_problems(m, file);
}

int
import_map_check_properties(import_map_t *m, const json_t *names, const char *file)
{
    s_lang_columns(m, names, "property");
    return s_problems(m, file);
}

/* Says every problem noted, at once: 0 if there are none, else -1. */
static int
s_problems(import_map_t *m, const char *file)
{
    size_t n = json_array_size(m->problems);
    if (n == 0)
        return 0;
    if (n == 1) {
        cli_warn("%s: %s (nothing was imported)", m->path ? m->path : file,
                 json_string_value(json_array_get(m->problems, 0)));
        return -1;
    }
    fflush(stdout);
    render_line(stderr, "socdir: %s: %zu problems, nothing was imported:", m->path ? m->path : file, n);
    for (size_t i = 0; i < n; i++)
        render_line(stderr, "  %s", json_string_value(json_array_get(m->problems, i)));
    return -1;
}
