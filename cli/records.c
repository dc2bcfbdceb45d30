/*
 * records.c: the readers of import's source files. Each turns its input
 * into records, flat JSON objects of columns or properties, and hands
 * them one at a time, with a label that says where each was read, to a
 * records_sink_t: CSV through libcsv (the header line names the columns;
 * separator given or sniffed; a record may span lines, and its label is
 * the line it starts on), a JSON array of objects or one object ("FILE:
 * object N"), NDJSON ("FILE:LINE", streamed), and GeoJSON features
 * ("FILE: feature N", properties plus a Point as lat/lon); and for
 * publish, entries as one object, an array ("FILE: entry #N") or NDJSON,
 * told apart by their first line. A UTF-8 byte order mark at the start is
 * skipped. What cannot be a record (broken
 * line, not an object, not UTF-8) is rejected through the sink's
 * publish_t, so the counts add up; the readers stop once it has stopped.
 * They know nothing of mappings, nor what makes a good entry.
 */
#include "records.h"
#include "cli.h"
#include "text.h"
#include "util.h"

#include <csv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- CSV ---- */

/* The reading of one CSV file: libcsv calls back per field and record. */
struct csv_reader {
    const records_sink_t *to;
    char **fields;          /* fields of the record being read, owned */
    size_t nfields, capfields;
    json_t *header;         /* array of column names */
    long lineno, rec_line;  /* line being fed, line the record started */
    bool between;           /* no record begun yet on lineno */
    bool ended;             /* a record ended while feeding lineno */
};

static void
s_csv_field(void *s, size_t len, void *data)
{
    struct csv_reader *r = data;
    if (r->nfields == r->capfields)
        r->fields = xrealloc(r->fields, (r->capfields = r->capfields ? 2 * r->capfields : 32) * sizeof(char *));
    r->fields[r->nfields++] = text_strndup(s ? s : "", s ? len : 0);
}

/* End of a CSV record: the first is the header, the others rows. */
static void
s_csv_record(int c, void *data)
{
    struct csv_reader *r = data;
    char label[512];
    (void)c;
    r->ended = r->between = true;
    snprintf(label, sizeof(label), "%s:%ld", r->to->file, r->rec_line);
    if (r->header == NULL) {
        r->header = json_array();
        for (size_t i = 0; i < r->nfields; i++) {
            char *h = text_trim(r->fields[i], strlen(r->fields[i]));
            json_t *name = json_string(h);   /* NULL: not UTF-8 */
            json_array_append_new(r->header, name ? name : json_string(""));
            free(h);
        }
    } else {
        json_t *row = json_object();
        const char *why = NULL;
        for (size_t i = 0; i < r->nfields && why == NULL; i++) {
            const char *col = json_string_value(json_array_get(r->header, i));
            if (*r->fields[i] == '\0')
                continue;
            json_t *v = json_string(r->fields[i]);
            if (v == NULL)
                why = "is not valid UTF-8 (save the file as UTF-8)";
            else if (col == NULL)
                why = "has more fields than the header";
            else if (*col != '\0')
                json_object_set(row, col, v);
            json_decref(v);
        }
        if (why != NULL)
            publish_reject(r->to->pub, label, NULL, why);
        else
            r->to->record(r->to->arg, row, label, NAN, NAN);
        json_decref(row);
    }
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i]);
    r->nfields = 0;
}

/* The separator of a header line: whichever of ';' ',' TAB occurs most
 * outside quotes (',' when none does). */
static char
s_sniff(const char *line)
{
    size_t semi = 0, comma = 0, tab = 0;
    bool quoted = false;
    for (const char *p = line; *p && (quoted || *p != '\n'); p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted)
            semi += *p == ';', comma += *p == ',', tab += *p == '\t';
    }
    return semi > comma && semi >= tab ? ';' : tab > comma ? '\t' : ',';
}

/* Reads CSV from f, line by line, feeding libcsv; a record starts on the
 * first line fed after the previous one ended. Returns -1 when the file
 * cannot be read as CSV at all. */
int
records_csv(const records_sink_t *to, FILE *f, char sep)
{
    struct csv_reader reader = { .to = to }, *r = &reader;
    struct csv_parser csv;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    if (csv_init(&csv, CSV_APPEND_NULL) != 0)
        abort();
    r->between = true;
    while (rc == 0 && !publish_stopped(to->pub) && (len = getline(&line, &cap, f)) >= 0) {
        char *p = line;
        if (++r->lineno == 1) {
            size_t skip = bom_len(p, (size_t)len);
            p += skip, len -= (ssize_t)skip;
        }
        if (sep == 0)
            sep = s_sniff(p);
        csv_set_delim(&csv, (unsigned char)sep);
        if (r->between)
            r->rec_line = r->lineno;
        r->ended = false;
        bool had_header = r->header != NULL;
        if (csv_parse(&csv, p, (size_t)len, s_csv_field, s_csv_record, r) != (size_t)len) {
            cli_warn("%s:%ld: %s", to->file, r->lineno, csv_strerror(csv_error(&csv)));
            rc = -1;
        }
        if (!r->ended && strspn(p, " \t\r\n") != (size_t)len)
            r->between = false;
        if (!had_header && r->header != NULL && to->header(to->arg, r->header) != 0)
            rc = -1;
        if (to->size > 0) {
            publish_counts_t pc;
            publish_counts(to->pub, &pc);
            to->progress(to->arg, (double)ftell(f) / to->size, pc.total);
        }
    }
    if (rc == 0)
        csv_fini(&csv, s_csv_field, s_csv_record, r);
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i]);
    r->nfields = 0;
    free(r->fields);
    csv_free(&csv);
    free(line);
    if (rc == 0 && r->header == NULL)
        cli_warn("%s: no header line", to->file);
    rc = rc == 0 && r->header != NULL ? 0 : -1;
    json_decref(r->header);
    return rc;
}

/* ---- JSON, NDJSON, GeoJSON ---- */

/* One JSON value as a record (labels say where it was). */
static void
s_json_record(const records_sink_t *to, const json_t *v, const char *label)
{
    if (!json_is_object(v))
        publish_reject(to->pub, label, NULL, "not a JSON object");
    else
        to->record(to->arg, v, label, NAN, NAN);
}

/* The progress of reading: done (0..1) and the records so far. */
static void
s_progress(const records_sink_t *to, double done, size_t rows)
{
    if (to->progress != NULL)
        to->progress(to->arg, done, rows);
}

/* One NDJSON line, not blank (lineno from 1): a record or a reject. */
static void
s_ndjson_line(const records_sink_t *to, const char *line, size_t len, long lineno)
{
    json_error_t jerr;
    char label[512];

    snprintf(label, sizeof(label), "%s:%ld", to->file, lineno);
    json_t *v = json_loadb(line, len, 0, &jerr);
    if (v == NULL) {
        char why[300];
        snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
        publish_reject(to->pub, label, NULL, why);
    } else {
        s_json_record(to, v, label);
    }
    json_decref(v);
}

/* NDJSON from f, the lines before lineno already read; blank lines are
 * skipped and, with bom, a UTF-8 byte order mark on line 1. */
static void
s_ndjson(const records_sink_t *to, FILE *f, long lineno, bool bom)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    while (!publish_stopped(to->pub) && (len = getline(&line, &cap, f)) >= 0) {
        char *p = line;
        if (++lineno == 1 && bom) {
            size_t skip = bom_len(p, (size_t)len);
            p += skip, len -= (ssize_t)skip;
        }
        if (strspn(p, " \t\r\n") == (size_t)len)
            continue;
        s_ndjson_line(to, p, (size_t)len, lineno);
        if (to->size > 0) {
            publish_counts_t pc;
            publish_counts(to->pub, &pc);
            s_progress(to, (double)ftell(f) / to->size, pc.total);
        }
    }
    free(line);
}

/* The items of a JSON array, each a record labelled "FILE: object N", or
 * with entries (publish's input) "FILE: entry #N". */
static void
s_array(const records_sink_t *to, const json_t *doc, bool entries)
{
    char label[512];
    const json_t *v;
    size_t i, n = json_array_size(doc);

    json_array_foreach(doc, i, v) {
        snprintf(label, sizeof(label), entries ? "%s: entry #%zu" : "%s: object %zu", to->file, i + 1);
        s_json_record(to, v, label);
        s_progress(to, (double)(i + 1) / n, i + 1);
        if (publish_stopped(to->pub))
            break;
    }
}

/* One GeoJSON feature: its properties, its Point as geo and, without a
 * mapping, its "id" member when the properties have none. */
static void
s_feature(const records_sink_t *to, const json_t *ft, const char *label)
{
    json_t *props = json_object_get(ft, "properties"), *geom = json_object_get(ft, "geometry");
    json_t *coords = json_object_get(geom, "coordinates");
    double lat = NAN, lon = NAN;

    if (!json_is_object(ft) || (props != NULL && !json_is_object(props) && !json_is_null(props))) {
        publish_reject(to->pub, label, NULL, "not a GeoJSON feature with properties");
        return;
    }
    json_t *row = json_is_object(props) ? json_copy(props) : json_object();
    if (!to->mapped && json_object_get(row, "id") == NULL &&
        (json_is_string(json_object_get(ft, "id")) || json_is_integer(json_object_get(ft, "id"))))
        json_object_set(row, "id", json_object_get(ft, "id"));
    if (!to->mapped && json_is_integer(json_object_get(row, "id"))) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(json_object_get(row, "id")));
        json_object_set_new(row, "id", json_string(buf));
    }
    if (json_is_string(json_object_get(geom, "type")) &&
        strcmp(json_string_value(json_object_get(geom, "type")), "Point") == 0 &&
        json_is_number(json_array_get(coords, 0)) && json_is_number(json_array_get(coords, 1))) {
        lon = json_number_value(json_array_get(coords, 0));     /* GeoJSON: [lon, lat] */
        lat = json_number_value(json_array_get(coords, 1));
    }
    to->record(to->arg, row, label, lat, lon);
    json_decref(row);
}

/* A JSON document: an array of objects, one object, or a GeoJSON
 * FeatureCollection. */
int
records_json(const records_sink_t *to, FILE *f)
{
    json_error_t jerr;
    char label[512];
    json_t *doc = json_loadf(f, 0, &jerr), *v;
    size_t i, n;

    if (doc == NULL) {
        cli_warn("%s:%d:%d: invalid JSON: %s", to->file, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *features = json_object_get(doc, "features");
    if (type != NULL && strcmp(type, "FeatureCollection") == 0 && json_is_array(features)) {
        n = json_array_size(features);
        json_array_foreach(features, i, v) {
            snprintf(label, sizeof(label), "%s: feature %zu", to->file, i + 1);
            s_feature(to, v, label);
            s_progress(to, (double)(i + 1) / n, i + 1);
            if (publish_stopped(to->pub))
                break;
        }
    } else if (type != NULL && strcmp(type, "Feature") == 0) {
        snprintf(label, sizeof(label), "%s: feature 1", to->file);
        s_feature(to, doc, label);
    } else if (json_is_array(doc)) {
        s_array(to, doc, false);
    } else {
        s_json_record(to, doc, to->file);
    }
    json_decref(doc);
    return 0;
}

int
records_ndjson(const records_sink_t *to, FILE *f)
{
    s_ndjson(to, f, 0, true);
    return 0;
}

/* ---- publish's input: entries as one object, an array or NDJSON ----
 * Every entry read reaches the sink exactly once, and everything
 * unreadable is counted in total and rejected, so the summary adds up.
 */

/* Appends the rest of f to buf (len bytes held); returns the buffer, grown
 * and NUL-terminated, with *len updated. Read errors show in ferror(f). */
static char *
s_slurp(FILE *f, char *buf, size_t *len)
{
    size_t cap = *len + 65536;
    buf = xrealloc(buf, cap);
    size_t got;
    while ((got = fread(buf + *len, 1, cap - *len - 1, f)) > 0) {
        *len += got;
        if (cap - *len < 4096)
            buf = xrealloc(buf, cap *= 2);
    }
    buf[*len] = '\0';
    return buf;
}

/* True if some line after the first parses alone as a JSON object. The
 * lines of a pretty-printed document almost never do ("{", "\"id\": ..."),
 * so this tells NDJSON with a broken first line from a broken document. */
static bool
s_looks_ndjson(const char *buf)
{
    const char *nl = strchr(buf, '\n');
    while (nl != NULL) {
        const char *line = nl + 1;
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        json_t *v = json_loadb(line, len, 0, NULL);
        bool obj = json_is_object(v);
        json_decref(v);
        if (obj)
            return true;
    }
    return false;
}

/* The whole input in buf: an array, one object, or NDJSON after all.
 * skipped is the number of blank lines before buf, for line numbers. */
static void
s_document(const records_sink_t *to, char *buf, size_t len, long skipped)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);

    if (json_is_array(doc)) {
        publish_set_numbered(to->pub, true);    /* the labels say "entry #N" */
        s_array(to, doc, true);
    } else if (json_is_object(doc)) {
        to->record(to->arg, doc, to->file, NAN, NAN);
    } else if (doc != NULL) {
        publish_reject(to->pub, to->file, NULL, "expected a JSON object, an array of objects, or NDJSON");
    } else if (s_looks_ndjson(buf)) {
        FILE *f = fmemopen(buf, len, "r");
        if (f == NULL)
            abort();
        s_ndjson(to, f, skipped, false);
        fclose(f);
    } else {
        publish_add_counts(to->pub, 1, 1);
        cli_warn("%s:%d:%d: invalid JSON: %s", to->file, jerr.line + (int)skipped, jerr.column, jerr.text);
    }
    json_decref(doc);
}

/* The first line with something on it decides the format. */
int
records_entries(const records_sink_t *to, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;

    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t skip = lineno == 1 ? bom_len(line, (size_t)len) : 0;
        if (skip > 0)
            memmove(line, line + skip, (size_t)(len -= (ssize_t)skip) + 1);
        if (strspn(line, " \t\r\n") != (size_t)len)
            break;
    }
    if (len < 0) {
        free(line);
        return 0;
    }
    json_t *first = line[strspn(line, " \t\r")] == '[' ? NULL : json_loadb(line, (size_t)len, 0, NULL);
    if (first != NULL) {
        json_decref(first);
        s_ndjson_line(to, line, (size_t)len, lineno);
        free(line);
        s_ndjson(to, f, lineno, false);
        return 0;
    }
    size_t n = (size_t)len;
    line = s_slurp(f, line, &n);
    s_document(to, line, n, lineno - 1);
    free(line);
    return 0;
}

/* ---- formats ---- */

/* The format named by s, or by the file's extension. */
int
records_format(const char *s, bool by_name)
{
    static const struct { const char *name; int format; bool ext_only; } names[] = {
        { "csv", RECORDS_CSV, false }, { "tsv", RECORDS_CSV, true }, { "txt", RECORDS_CSV, true }, { "json", RECORDS_JSON, false },
        { "ndjson", RECORDS_NDJSON, false }, { "jsonl", RECORDS_NDJSON, true }, { "geojson", RECORDS_GEOJSON, false },
    };
    if (by_name) {
        s = strrchr(s, '.');
        if (s == NULL || strchr(s, '/') != NULL)
            return RECORDS_NONE;
        s++;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0 && (by_name || !names[i].ext_only))
            return names[i].format;
    return RECORDS_NONE;
}
