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
 * the node has no website filter. Alike is transitive: records (and node
 * entries) are joined by union-find, so the report is groups, each with
 * its reasons, not pairs: five rows with one website are one group of
 * five, not ten pairs. Nothing here refuses a record for being alike, only
 * for a repeated id.
 */
#include "codes.h"
#include "dedup.h"
#include "render.h"
#include "text.h"
#include "util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUP_METRES 100.0
#define DUP_NODE_LIMIT 50   /* node entries looked at around one record */

/* What one good record leaves behind, for duplicate ids and duplicates. */
struct seen {
    char *id, *label;       /* owned */
    char *name;             /* the first name as written, owned */
    char *website, *city;   /* normalised, owned, NULL if none */
    char **names;           /* normalised names, owned, NULL-terminated */
    bool has_geo;
    double lat, lon;
};

/* An entry on the node found like a record of the file. */
struct node_entry {
    char *key;              /* "ORIGIN/ID", owned */
    char *name;             /* its first name, owned */
};

enum { DUP_SITE = 1, DUP_NEAR, DUP_CITY, DUP_NODE };

/* Two members found alike, and why. */
struct edge {
    size_t a, b;            /* members */
    int why;                /* DUP_* */
    const char *site;       /* DUP_SITE: the website, lent by a record */
    double metres;          /* DUP_NEAR, DUP_NODE: how far apart */
};

struct dedup {
    struct seen *seen;      /* the good records, in the order read */
    size_t nseen, capseen;
    json_t *ids;            /* {id: index into seen} */
    struct node_entry *node;    /* the node's entries found alike */
    size_t nnode, capnode;
    json_t *node_ids;       /* {"ORIGIN/ID": index into node} */
    size_t *parent;         /* union-find over seen, then node */
    size_t nmembers;
    struct edge *edges;     /* every link made, for the reasons */
    size_t nedges, capedges;
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
    d->node_ids = json_object();
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
        if (json_is_string(v)) {
            if (s->name == NULL)
                s->name = xstrdup(json_string_value(v));
            s->names[n++] = text_norm(json_string_value(v));
        }
    if (s->name == NULL)
        s->name = xstrdup("");
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

/* Union-find over the members: the file's records, then the node's
 * entries found alike (index nseen + j). */
static size_t
s_root(struct dedup *d, size_t i)
{
    while (d->parent[i] != i)
        i = d->parent[i] = d->parent[d->parent[i]];
    return i;
}

/* Joins members a and b, alike for why (DUP_SITE: the website site, lent
 * by a record; DUP_NEAR, DUP_CITY, DUP_NODE: the name, metres apart). */
static void
s_link(struct dedup *d, size_t a, size_t b, int why, const char *site, double metres)
{
    if (d->nedges == d->capedges)
        d->edges = xrealloc(d->edges, (d->capedges = d->capedges ? 2 * d->capedges : 64) * sizeof(*d->edges));
    d->edges[d->nedges++] = (struct edge){ a, b, why, site, metres };
    size_t ra = s_root(d, a), rb = s_root(d, b);
    if (ra != rb)
        d->parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;   /* the first read is the root */
}

/* Grows the union-find to n members, each alone. */
static void
s_members(struct dedup *d, size_t n)
{
    if (n <= d->nmembers)
        return;
    d->parent = xrealloc(d->parent, n * sizeof(*d->parent));
    for (size_t i = d->nmembers; i < n; i++)
        d->parent[i] = i;
    d->nmembers = n;
}

struct key {
    const char *text;   /* a normalised name or website */
    const char *city;   /* the record's normalised city, or NULL */
    size_t ix;          /* the record */
};

/* By text, then city (none last), then record. */
static int
s_key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    if (c == 0 && x->city != y->city)
        c = x->city == NULL ? 1 : y->city == NULL ? -1 : strcmp(x->city, y->city);
    return c ? c : (x->ix > y->ix) - (x->ix < y->ix);
}

static bool
s_same_city(const struct key *a, const struct key *b)
{
    return a->city != NULL && b->city != NULL && strcmp(a->city, b->city) == 0;
}

/* Records of one name with a position, by latitude. */
struct spot {
    double lat, lon;
    size_t ix;
};

static int
s_spot_cmp(const void *a, const void *b)
{
    const struct spot *x = a, *y = b;
    if (x->lat != y->lat)
        return x->lat < y->lat ? -1 : 1;
    if (x->lon != y->lon)
        return x->lon < y->lon ? -1 : 1;
    return (x->ix > y->ix) - (x->ix < y->ix);
}

/* Links the records of one name (keys[0..n), sorted by city) that have a
 * position and lie within DUP_METRES: a sweep by latitude that measures
 * only pairs not yet in one group, and takes records at the very same
 * point as one. */
static void
s_link_near(struct dedup *d, const struct key *keys, size_t n, struct spot *spots)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct seen *s = &d->seen[keys[i].ix];
        if (s->has_geo)
            spots[m++] = (struct spot){ s->lat, s->lon, keys[i].ix };
    }
    qsort(spots, m, sizeof(*spots), s_spot_cmp);
    /* A degree of latitude is at least 110.5 km; a little more room. */
    double window = DUP_METRES / 110000.0;
    size_t same = 0;    /* the first of the run at spots[j]'s point */
    for (size_t j = 1; j < m; j++) {
        if (spots[j].lat == spots[same].lat && spots[j].lon == spots[same].lon) {
            if (spots[j].ix != spots[same].ix)
                s_link(d, spots[same].ix, spots[j].ix, DUP_NEAR, NULL, 0);
            continue;
        }
        same = j;
        for (size_t k = j; k-- > 0 && spots[j].lat - spots[k].lat <= window;) {
            if (spots[k].ix == spots[j].ix || s_root(d, spots[k].ix) == s_root(d, spots[j].ix))
                continue;
            double metres = s_metres(spots[k].lat, spots[k].lon, spots[j].lat, spots[j].lon);
            if (metres <= DUP_METRES)
                s_link(d, spots[k].ix, spots[j].ix, DUP_NEAR, NULL, metres);
        }
    }
}

/* Links the records sharing a key (sorted keys, one run each): every
 * record of a website's run joins its first. A name links two records
 * within DUP_METRES or, when either has no position, in the same city:
 * so within a run of one name and one city where some record has no
 * position, every record joins that one. One link per record, however
 * many share the name. */
static void
s_link_runs(struct dedup *d, struct key *keys, size_t n, bool site)
{
    struct spot *spots = site ? NULL : xcalloc(n + 1, sizeof(*spots));
    qsort(keys, n, sizeof(*keys), s_key_cmp);
    for (size_t i = 0; i < n;) {
        size_t end = i + 1;
        while (end < n && strcmp(keys[i].text, keys[end].text) == 0)
            end++;
        if (site) {
            for (size_t j = i + 1; j < end; j++)
                if (keys[i].ix != keys[j].ix)
                    s_link(d, keys[i].ix, keys[j].ix, DUP_SITE, d->seen[keys[i].ix].website, 0);
            i = end;
            continue;
        }
        for (size_t c = i; c < end;) {      /* runs of one city */
            size_t cend = c + 1, plain = SIZE_MAX;
            while (cend < end && s_same_city(&keys[c], &keys[cend]))
                cend++;
            for (size_t j = c; j < cend && plain == SIZE_MAX && keys[c].city != NULL; j++)
                if (!d->seen[keys[j].ix].has_geo)
                    plain = keys[j].ix;
            for (size_t j = c; j < cend && plain != SIZE_MAX; j++)
                if (keys[j].ix != plain)
                    s_link(d, plain, keys[j].ix, DUP_CITY, NULL, 0);
            c = cend;
        }
        s_link_near(d, keys + i, end - i, spots);
        i = end;
    }
    free(spots);
}

/* Links the records alike within the file. */
static void
s_link_file(dedup_t *d)
{
    size_t nkeys = 0;
    struct key *keys = xcalloc(d->nseen + 1, sizeof(*keys));

    s_members(d, d->nseen);
    for (size_t i = 0; i < d->nseen; i++)
        if (d->seen[i].website != NULL)
            keys[nkeys++] = (struct key){ d->seen[i].website, NULL, i };
    s_link_runs(d, keys, nkeys, true);
    nkeys = 0;
    for (size_t i = 0; i < d->nseen; i++)
        for (char **n = d->seen[i].names; *n; n++) {
            if (nkeys % 256 == 0)
                keys = xrealloc(keys, (nkeys + 256) * sizeof(*keys));
            if (**n)
                keys[nkeys++] = (struct key){ *n, d->seen[i].city, i };
        }
    s_link_runs(d, keys, nkeys, false);
    free(keys);
}

/* True if node entry e has a name that, normalised, is one of names;
 * *first is set to its first name, lent. */
static bool
s_same_name(const json_t *e, char **names, const char **first)
{
    const char *key;
    json_t *v;
    bool same = false;
    *first = NULL;
    json_object_foreach((json_t *)json_object_get(e, "name"), key, v) {
        if (!json_is_string(v))
            continue;
        if (*first == NULL)
            *first = json_string_value(v);
        char *n = text_norm(json_string_value(v));
        for (char **m = names; *n && *m && !same; m++)
            same = strcmp(n, *m) == 0;
        free(n);
        if (same)
            break;
    }
    return same;
}

/* The member index of node entry ORIGIN/ID (name its first name), added
 * when new. */
static size_t
s_node_member(dedup_t *d, const char *origin, const char *id, const char *name)
{
    char key[512];
    snprintf(key, sizeof(key), "%s/%s", origin, id);
    json_t *ix = json_object_get(d->node_ids, key);
    if (ix != NULL)
        return d->nseen + (size_t)json_integer_value(ix);
    if (d->nnode == d->capnode)
        d->node = xrealloc(d->node, (d->capnode = d->capnode ? 2 * d->capnode : 16) * sizeof(*d->node));
    d->node[d->nnode] = (struct node_entry){ xstrdup(key), xstrdup(name ? name : "") };
    json_object_set_new(d->node_ids, key, json_integer((json_int_t)d->nnode));
    s_members(d, d->nseen + d->nnode + 1);
    return d->nseen + d->nnode++;
}

/* Looks up the good records with a position among the entries on the node
 * c: same name within DUP_METRES. This node's own entries ("via":
 * "local") with an id of the file are the file's rows (sent just now, or
 * by an earlier import of it) and do not count. */
void
dedup_node(dedup_t *d, client_t *c, void (*progress)(void *arg, size_t done, size_t total), void *arg)
{
    char err[1024];
    s_members(d, d->nseen);
    for (size_t i = 0; i < d->nseen; i++) {
        struct seen *s = &d->seen[i];
        if (progress != NULL)
            progress(arg, i, d->nseen);
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
            render_line(stderr, "socdir import: possible duplicates on the node not checked: %s", err);
            return;
        }
        size_t j;
        json_t *e;
        json_array_foreach(json_object_get(reply, "entries"), j, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            const char *via = json_string_value(json_object_get(e, "via"));
            const char *origin = json_string_value(json_object_get(e, "origin_name")), *name;
            json_t *geo = json_object_get(e, "geo");
            json_t *lat = json_object_get(geo, "lat"), *lon = json_object_get(geo, "lon");
            if (origin == NULL)
                origin = json_string_value(json_object_get(e, "origin"));
            if (id == NULL || origin == NULL || !json_is_number(lat) || !json_is_number(lon))
                continue;
            if (via != NULL && strcmp(via, "local") == 0 && s_by_id(d, id) != NULL)
                continue;
            double m = s_metres(s->lat, s->lon, json_number_value(lat), json_number_value(lon));
            if (m > DUP_METRES || !s_same_name(e, s->names, &name))
                continue;
            s_link(d, i, s_node_member(d, origin, id, name), DUP_NODE, NULL, m);
        }
        json_decref(reply);
    }
    if (progress != NULL)
        progress(arg, d->nseen, d->nseen);
}

/* The reasons of a group from its links (edges[0..n), lent), as strings
 * in a new array: "same website example.org", "same name within 14 m"
 * (the farthest pair linked), "same name and city", "same name within
 * 14 m of an entry on the node". */
static json_t *
s_reasons(struct edge *const *edges, size_t n)
{
    json_t *sites = json_object(), *out = json_array();
    double near = -1, node = -1;
    bool city = false;
    char buf[300];
    for (size_t i = 0; i < n; i++) {
        const struct edge *e = edges[i];
        if (e->why == DUP_SITE && json_object_get(sites, e->site) == NULL) {
            json_object_set_new(sites, e->site, json_true());
            snprintf(buf, sizeof(buf), "same website %s", e->site);
            json_array_append_new(out, json_string(buf));
        }
        near = e->why == DUP_NEAR && e->metres > near ? e->metres : near;
        node = e->why == DUP_NODE && e->metres > node ? e->metres : node;
        city |= e->why == DUP_CITY;
    }
    if (near >= 0) {
        snprintf(buf, sizeof(buf), "same name within %.0f m", near);
        json_array_append_new(out, json_string(buf));
    }
    if (city)
        json_array_append_new(out, json_string("same name and city"));
    if (node >= 0) {
        snprintf(buf, sizeof(buf), "same name within %.0f m of an entry on the node", node);
        json_array_append_new(out, json_string(buf));
    }
    json_decref(sites);
    return out;
}

/* The line number of label "FILE:LINE" of file, or 0. */
static long
s_line_of(const char *label, const char *file)
{
    size_t n = strlen(file);
    if (strncmp(label, file, n) != 0 || label[n] != ':' || label[n + 1] < '0' || label[n + 1] > '9')
        return 0;
    return strtol(label + n + 1, NULL, 10);
}

json_t *
dedup_groups(dedup_t *d, const char *file)
{
    s_link_file(d);
    size_t n = d->nmembers, rows = 0;
    /* Members and links bucketed by root, in one pass each: start[r] is
     * where root r's members begin in order, estart[r] its links. */
    size_t *root = xcalloc(n + 1, sizeof(*root)), *start = xcalloc(n + 2, sizeof(*start));
    size_t *order = xcalloc(n + 1, sizeof(*order)), *estart = xcalloc(n + 2, sizeof(*estart));
    struct edge **eorder = xcalloc(d->nedges + 1, sizeof(*eorder));
    for (size_t i = 0; i < n; i++)
        start[(root[i] = s_root(d, i)) + 1]++;
    for (size_t i = 0; i < d->nedges; i++)
        estart[root[d->edges[i].a] + 1]++;
    for (size_t r = 0; r < n; r++)
        start[r + 1] += start[r], estart[r + 1] += estart[r];
    size_t *fill = xcalloc(n + 1, sizeof(*fill));
    for (size_t i = 0; i < n; i++)
        order[start[root[i]] + fill[root[i]]++] = i;
    memset(fill, 0, (n + 1) * sizeof(*fill));
    for (size_t i = 0; i < d->nedges; i++)
        eorder[estart[root[d->edges[i].a]] + fill[root[d->edges[i].a]]++] = &d->edges[i];
    json_t *groups = json_array();
    for (size_t r = 0; r < n; r++) {
        size_t size = start[r + 1] - start[r];
        if (size < 2)
            continue;
        json_t *members = json_array();
        for (size_t k = start[r]; k < start[r + 1]; k++) {
            size_t i = order[k];
            json_t *m;
            if (i < d->nseen) {
                struct seen *s = &d->seen[i];
                m = json_pack("{s:s, s:s, s:s}", "label", s->label, "id", s->id, "name", s->name);
                long line = s_line_of(s->label, file);
                if (line > 0)
                    json_object_set_new(m, "line", json_integer(line));
            } else {
                struct node_entry *ne = &d->node[i - d->nseen];
                m = json_pack("{s:s, s:s, s:b}", "id", ne->key, "name", ne->name, "node", 1);
            }
            json_array_append_new(members, m);
        }
        rows += size;
        json_t *reasons = s_reasons(eorder + estart[r], estart[r + 1] - estart[r]);
        json_array_append_new(groups, json_pack("{s:o, s:o}", "reasons", reasons, "rows", members));
    }
    free(root), free(start), free(order), free(estart), free(eorder), free(fill);
    return json_pack("{s:s, s:o, s:{s:I, s:I}}", "file", file, "groups", groups, "summary", "groups",
                     (json_int_t)json_array_size(groups), "rows", (json_int_t)rows);
}

/* Every line quotes what the file or the node holds, so each is printed
 * escaped (render_line). */
void
dedup_print(const json_t *doc, FILE *out)
{
    json_t *groups = json_object_get(doc, "groups"), *g, *m;
    size_t i, j;
    if (json_array_size(groups) == 0)
        return;
    const char *file = json_string_value(json_object_get(doc, "file"));
    size_t nfile = strlen(file);
    json_int_t rows = json_integer_value(json_object_get(json_object_get(doc, "summary"), "rows"));
    render_line(out, "socdir import: possible duplicates, not merged: %zu group%s, %lld rows", json_array_size(groups),
                json_array_size(groups) == 1 ? "" : "s", (long long)rows);
    json_array_foreach(groups, i, g) {
        json_t *reasons = json_object_get(g, "reasons"), *r;
        size_t k, len = 0;
        char *line = NULL;
        FILE *ls = open_memstream(&line, &len);
        fprintf(ls, "  group %zu, %zu rows:", i + 1, json_array_size(json_object_get(g, "rows")));
        json_array_foreach(reasons, k, r)
            fprintf(ls, "%s %s", k ? ";" : "", json_string_value(r));
        fclose(ls);
        render_line(out, "%s", line);
        free(line);
        json_array_foreach(json_object_get(g, "rows"), j, m) {
            const char *label = json_string_value(json_object_get(m, "label"));
            char where[64];
            if (json_is_true(json_object_get(m, "node")))
                snprintf(where, sizeof(where), "on the node");
            else if (json_object_get(m, "line") != NULL)
                snprintf(where, sizeof(where), "line %lld", (long long)json_integer_value(json_object_get(m, "line")));
            else
                snprintf(where, sizeof(where), "%s", strncmp(label, file, nfile) == 0 && label[nfile] == ':' &&
                         label[nfile + 1] == ' ' ? label + nfile + 2 : label);
            render_line(out, "    %-12s %-24s %s", where, json_string_value(json_object_get(m, "id")),
                        json_string_value(json_object_get(m, "name")));
        }
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
            free(s->id), free(s->label), free(s->website), free(s->city), free(s->name);
        }
        for (size_t i = 0; i < d->nnode; i++)
            free(d->node[i].key), free(d->node[i].name);
        free(d->seen);
        free(d->node);
        free(d->parent);
        free(d->edges);
        json_decref(d->ids);
        json_decref(d->node_ids);
        free(d);
        *self_p = NULL;
    }
}
