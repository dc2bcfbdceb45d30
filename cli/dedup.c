/*
 * dedup.c: what import remembers of the good records it read, and the
 * possible duplicates it finds among them. For every record the id,
 * normalised names, website, city and position are kept: the id in a JSON
 * object to refuse a second record with the same id (it would overwrite the
 * first, and a re-import would then not be a no-op), the rest to list
 * possible duplicates at the end: within the file (same website, or same
 * name within DUP_METRES or, without positions, in the same city), then
 * against the node's entries (same name within DUP_METRES: one search
 * round trip per record with a position; the file's own rows stored on
 * this node do not count). Websites are compared within the file only:
 * the node has no website filter. Lists go to stderr as "socdir import:
 * possible duplicate: ..."; nothing here refuses a record for being
 * alike, only for a repeated id.
 */
#include "codes.h"
#include "dedup.h"
#include "text.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUP_METRES 100.0
#define DUP_NODE_LIMIT 50   /* node entries looked at around one record */

/* What one good record leaves behind, for duplicate ids and duplicates. */
struct seen {
    char *id, *label;       /* owned */
    char *website, *city;   /* normalised, owned, NULL if none */
    char **names;           /* normalised names, owned, NULL-terminated */
    bool has_geo;
    double lat, lon;
};

struct dedup {
    struct seen *seen;      /* the good records, in the order read */
    size_t nseen, capseen;
    json_t *ids;            /* {id: index into seen} */
};

/* The seen record with id, or NULL. */
static struct seen *
s_by_id(struct dedup *d, const char *id)
{
    json_t *ix = json_object_get(d->ids, id);
    return ix != NULL ? &d->seen[json_integer_value(ix)] : NULL;
}

dedup_t *
dedup_new(void)
{
    dedup_t *d = xcalloc(1, sizeof(dedup_t));
    d->ids = json_object();
    return d;
}

const char *
dedup_find(dedup_t *d, const char *id)
{
    struct seen *s = s_by_id(d, id);
    return s != NULL ? s->label : NULL;
}

/* Remembers good entry e read at label. */
void
dedup_add(dedup_t *d, const json_t *e, const char *label)
{
    if (d->nseen == d->capseen)
        d->seen = xrealloc(d->seen, (d->capseen = d->capseen ? 2 * d->capseen : 256) * sizeof(*d->seen));
    struct seen *s = &d->seen[d->nseen];
    memset(s, 0, sizeof(*s));
    s->id = xstrdup(json_string_value(json_object_get(e, "id")));
    s->label = xstrdup(label);
    const char *site = json_string_value(json_object_get(e, "website"));
    s->website = site ? text_norm_site(site) : NULL;
    const char *city = json_string_value(json_object_get(json_object_get(e, "address"), "city"));
    s->city = city ? text_norm(city) : NULL;
    json_t *name = json_object_get(e, "name"), *v, *geo = json_object_get(e, "geo");
    const char *key;
    size_t n = 0;
    s->names = xcalloc(json_object_size(name) + 1, sizeof(char *));
    json_object_foreach(name, key, v)
        if (json_is_string(v))
            s->names[n++] = text_norm(json_string_value(v));
    if (json_is_number(json_object_get(geo, "lat")) && json_is_number(json_object_get(geo, "lon"))) {
        s->has_geo = true;
        s->lat = json_number_value(json_object_get(geo, "lat"));
        s->lon = json_number_value(json_object_get(geo, "lon"));
    }
    json_object_set_new(d->ids, s->id, json_integer((json_int_t)d->nseen));
    d->nseen++;
}

/* Metres between two points. */
static double
s_metres(double lat1, double lon1, double lat2, double lon2)
{
    return code_distance_km(lat1, lon1, lat2, lon2) * 1000;
}

struct key {
    const char *text;   /* a normalised name or website */
    size_t ix;          /* the record */
};

static int
s_key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->ix > y->ix) - (x->ix < y->ix);
}

struct pair {
    size_t a, b;        /* records, a < b */
    int why;            /* 1: same website, 2: same name nearby, 4: same name and city */
    double metres;
};

static int
s_pair_cmp(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

/* Adds the pairs of records sharing a key (sorted keys, one run each). A
 * name counts when both records are within DUP_METRES, or, when either
 * has no position, in the same city. */
static void
s_pairs(struct dedup *d, struct key *keys, size_t n, bool site, struct pair **pairs, size_t *np,
        size_t *cap)
{
    qsort(keys, n, sizeof(*keys), s_key_cmp);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n && strcmp(keys[i].text, keys[j].text) == 0; j++) {
            struct seen *a = &d->seen[keys[i].ix], *b = &d->seen[keys[j].ix];
            struct pair p = { keys[i].ix, keys[j].ix, 1, 0 };
            if (p.a == p.b)
                continue;
            if (!site && a->has_geo && b->has_geo) {
                p.metres = s_metres(a->lat, a->lon, b->lat, b->lon);
                if (p.metres > DUP_METRES)
                    continue;
                p.why = 2;
            } else if (!site) {
                if (a->city == NULL || b->city == NULL || strcmp(a->city, b->city) != 0)
                    continue;
                p.why = 4;
            }
            if (*np == *cap)
                *pairs = xrealloc(*pairs, (*cap = *cap ? 2 * *cap : 64) * sizeof(**pairs));
            (*pairs)[(*np)++] = p;
        }
}

/* Lists possible duplicates among the good records on stderr. */
void
dedup_list(dedup_t *d)
{
    size_t nkeys = 0, np = 0, cap = 0;
    struct pair *pairs = NULL;
    struct key *keys = xcalloc(d->nseen + 1, sizeof(*keys));

    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[i].website != NULL)
            keys[nkeys++] = (struct key){ d->seen[i].website, i };
    s_pairs(d, keys, nkeys, true, &pairs, &np, &cap);
    nkeys = 0;
    for (size_t i = 0; i < d->nseen; i++)
        for (char **n = d->seen[i].names; *n; n++) {
            if (nkeys % 256 == 0)
                keys = xrealloc(keys, (nkeys + 256) * sizeof(*keys));
            if (**n)
                keys[nkeys++] = (struct key){ *n, i };
        }
    s_pairs(d, keys, nkeys, false, &pairs, &np, &cap);
    if (np > 0)
        qsort(pairs, np, sizeof(*pairs), s_pair_cmp);
    for (size_t i = 0; i < np;) {
        struct pair p = pairs[i];
        for (i++; i < np && pairs[i].a == p.a && pairs[i].b == p.b; i++) {
            p.why |= pairs[i].why;
            if (pairs[i].why == 2)
                p.metres = pairs[i].metres;
        }
        char why[128] = "";
        if (p.why & 2)
            snprintf(why, sizeof(why), "same name within %.0f m", p.metres);
        else if (p.why & 4)
            snprintf(why, sizeof(why), "same name and city");
        if (p.why & 1)
            snprintf(why + strlen(why), sizeof(why) - strlen(why), "%ssame website", *why ? ", " : "");
        fprintf(stderr, "socdir import: possible duplicate: %s and %s (%s)\n", d->seen[p.a].id,
                d->seen[p.b].id, why);
    }
    free(pairs);
    free(keys);
}

/* True if node entry e has a name that, normalised, is one of names. */
static bool
s_same_name(const json_t *e, char **names)
{
    const char *key;
    json_t *v;
    bool same = false;
    json_object_foreach((json_t *)json_object_get(e, "name"), key, v) {
        if (!json_is_string(v))
            continue;
        char *n = text_norm(json_string_value(v));
        for (char **m = names; *n && *m && !same; m++)
            same = strcmp(n, *m) == 0;
        free(n);
        if (same)
            break;
    }
    return same;
}

/* Lists possible duplicates between the good records with a position and
 * the entries on the node c: same name within DUP_METRES. This node's own
 * entries ("via": "local") with an id of the file are the file's rows
 * (sent just now, or by an earlier import of it) and do not count. */
void
dedup_list_node(dedup_t *d, client_t *c)
{
    char err[1024];
    for (size_t i = 0; i < d->nseen; i++) {
        struct seen *s = &d->seen[i];
        if (!s->has_geo || s->names[0] == NULL)
            continue;
        /* A little more than DUP_METRES: the node measures with the same
         * formula (code_distance_km) but from its R*Tree, whose float32
         * corners can put a point 99.9 m away at 100.02 m; s_metres, on
         * the exact coordinates, decides. */
        json_t *req = json_pack("{s:s, s:{s:f, s:f}, s:f, s:i}", "op", "search", "near", "lat", s->lat,
                                "lon", s->lon, "km", DUP_METRES / 1000 * 1.01, "limit", DUP_NODE_LIMIT);
        json_t *reply = client_call(c, req, err, sizeof(err));
        json_decref(req);
        if (reply == NULL) {
            fprintf(stderr, "socdir import: possible duplicates on the node not checked: %s\n", err);
            return;
        }
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(reply, "entries"), j, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            const char *via = json_string_value(json_object_get(e, "via"));
            const char *origin = json_string_value(json_object_get(e, "origin_name"));
            json_t *geo = json_object_get(e, "geo");
            json_t *lat = json_object_get(geo, "lat"), *lon = json_object_get(geo, "lon");
            if (origin == NULL)
                origin = json_string_value(json_object_get(e, "origin"));
            if (id == NULL || origin == NULL || !json_is_number(lat) || !json_is_number(lon))
                continue;
            if (via != NULL && strcmp(via, "local") == 0 && s_by_id(d, id) != NULL)
                continue;
            double m = s_metres(s->lat, s->lon, json_number_value(lat), json_number_value(lon));
            if (m > DUP_METRES || !s_same_name(e, s->names))
                continue;
            fprintf(stderr, "socdir import: possible duplicate: %s and %s/%s on the node "
                    "(same name within %.0f m)\n",
                    s->id, origin, id, m);
        }
        json_decref(reply);
    }
}

void
dedup_destroy(dedup_t **self_p)
{
    if (*self_p) {
        dedup_t *d = *self_p;
        for (size_t i = 0; i < d->nseen; i++) {
            struct seen *s = &d->seen[i];
            for (char **n = s->names; *n; n++)
                free(*n);
            free(s->names);
            free(s->id), free(s->label), free(s->website), free(s->city);
        }
        free(d->seen);
        json_decref(d->ids);
        free(d);
        *self_p = NULL;
    }
}
