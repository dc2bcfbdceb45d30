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

/* ---- CSV ----
 * The input is fed to libcsv a line at a time, so that each record knows
 * the line it starts on. A quoted field may hold line breaks, so a stray
 * quote (`r4;organisation;"Four;AT`) would make the rest of the file, or
 * everything up to the next quote, one field. A record that spans lines
 * is therefore taken for a stray quote when what it parsed into is not a
 * row: its number of fields is not the header's, or a quote inside a
 * quoted field is neither doubled nor followed by a separator or the end
 * of the line (`;"Six";` read from inside a stray quote), or its quote is
 * still open past the last quote of the input (it can never close). It is
 * reported at the line where it starts and skipped, with reading going on
 * at the line after that one. So a stray quote costs its own row only and
 * never becomes an id, while a quoted description of any length, or one
 * with separators in it, is one field.
 */

/* The reading of one CSV input: libcsv calls back per field and record. */
struct csv_reader {
    const records_sink_t *to;
    const char *buf;        /* the input, len bytes, lent */
    size_t len;
    char sep;
    char **fields;          /* fields of the record being read, owned */
    size_t nfields, capfields;
    json_t *header;         /* array of column names */
    long lineno, rec_line;  /* line being fed, line the record started */
    size_t line_off, rec_off;   /* their offsets in buf */
    bool between;           /* no record begun yet on lineno */
    bool ended;             /* a record ended while feeding lineno */
    bool swallowed;         /* the record that ended spans rows: skip it */
    size_t after_quotes;    /* the offset after the input's last quote */
};

/* A field: its text, with the CR of each CRLF inside a quoted field
 * dropped (spreadsheets on Windows write CRLF there too). */
static void
s_csv_field(void *s, size_t len, void *data)
{
    struct csv_reader *r = data;
    if (r->nfields == r->capfields)
        r->fields = xrealloc(r->fields, (r->capfields = r->capfields ? 2 * r->capfields : 32) * sizeof(char *));
    char *f = text_strndup(s ? s : "", s ? len : 0), *o = f;
    for (const char *p = f; *p; p++)
        if (!(p[0] == '\r' && p[1] == '\n'))
            *o++ = *p;
    *o = '\0';
    r->fields[r->nfields++] = f;
}

/* True if the bytes from p to end, starting inside a quoted field when
 * quoted, have a quote that is not CSV: inside a quoted field, one that
 * is neither doubled nor, after blanks, followed by a separator or the
 * line's end. */
static bool
s_csv_bad_quote(const struct csv_reader *r, const char *p, const char *end, bool quoted)
{
    while (p < end) {
        if (!quoted) {
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            quoted = p < end && *p == '"';
            p += quoted;
        }
        if (quoted) {
            for (; p < end; p++) {
                if (*p != '"')
                    continue;
                if (p + 1 < end && p[1] == '"') {
                    p++;
                    continue;
                }
                break;
            }
            if (p >= end)
                return false;       /* still open */
            for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
                ;
            if (p < end && *p != r->sep && *p != '\r' && *p != '\n')
                return true;
            quoted = false;
        }
        while (p < end && *p != r->sep && *p != '\n')
            p++;
        p++;
    }
    return false;
}

/* The end of the line that starts at offset off (after its '\n'). */
static const char *
s_line_end(const struct csv_reader *r, size_t off)
{
    const char *nl = memchr(r->buf + off, '\n', r->len - off);
    return nl != NULL ? nl + 1 : r->buf + r->len;
}

/* True if the record that ends on r->lineno spans lines and is no row: a
 * stray quote swallowed what follows it. */
static bool
s_csv_swallowed(const struct csv_reader *r)
{
    if (r->header == NULL || r->lineno <= r->rec_line)
        return false;
    return r->nfields != json_array_size(r->header) ||
           s_csv_bad_quote(r, r->buf + r->rec_off, s_line_end(r, r->line_off), false);
}

static void
s_csv_clear(struct csv_reader *r)
{
    for (size_t i = 0; i < r->nfields; i++)
        free(r->fields[i]);
    r->nfields = 0;
}

/* End of a CSV record: the first is the header, the others rows. */
static void
s_csv_record(int c, void *data)
{
    struct csv_reader *r = data;
    char label[512];
    (void)c;
    r->ended = r->between = true;
    if (s_csv_swallowed(r)) {
        r->swallowed = true;
        s_csv_clear(r);
        return;
    }
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
                why = "is not valid UTF-8";
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
    s_csv_clear(r);
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

/* The record begun on r->rec_line has a stray quote (why): reports it,
 * starts the parser afresh and goes back to the line after. */
static void
s_csv_skip(struct csv_reader *r, struct csv_parser *csv, const char *why)
{
    char label[512], msg[256];
    snprintf(label, sizeof(label), "%s:%ld", r->to->file, r->rec_line);
    snprintf(msg, sizeof(msg), "a quote opened on this line %s; the line is skipped and reading goes on "
             "at line %ld", why, r->rec_line + 1);
    publish_reject(r->to->pub, label, NULL, msg);
    s_csv_clear(r);
    csv_free(csv);
    if (csv_init(csv, CSV_APPEND_NULL) != 0)
        abort();
    csv_set_delim(csv, (unsigned char)r->sep);
    const char *nl = memchr(r->buf + r->rec_off, '\n', r->len - r->rec_off);
    r->line_off = nl ? (size_t)(nl + 1 - r->buf) : r->len;
    r->lineno = r->rec_line;
    r->between = true;
    r->swallowed = false;
}

/* Feeds the line at r->line_off to libcsv; returns its length. */
static size_t
s_csv_line(struct csv_reader *r, struct csv_parser *csv)
{
    const char *p = r->buf + r->line_off;
    const char *nl = memchr(p, '\n', r->len - r->line_off);
    size_t n = nl ? (size_t)(nl + 1 - p) : r->len - r->line_off;
    r->lineno++;
    if (r->between)
        r->rec_line = r->lineno, r->rec_off = r->line_off;
    r->ended = false;
    /* Without CSV_STRICT, libcsv takes every byte. */
    (void)csv_parse(csv, p, n, s_csv_field, s_csv_record, r);
    if (!r->ended && strspn(p, " \t\r\n") < n)
        r->between = false;
    return n;
}

/* Reads CSV from the len bytes at buf, a line at a time. Returns -1 when
 * the input cannot be read as CSV at all (no header). */
int
records_csv(const records_sink_t *to, const char *buf, size_t len, char sep)
{
    struct csv_reader reader = { .to = to, .buf = buf, .len = len, .between = true }, *r = &reader;
    struct csv_parser csv;
    int rc = 0;

    if (csv_init(&csv, CSV_APPEND_NULL) != 0)
        abort();
    r->sep = sep ? sep : s_sniff(buf);
    for (size_t i = len; i > 0 && r->after_quotes == 0; i--)
        if (buf[i - 1] == '"')
            r->after_quotes = i;
    csv_set_delim(&csv, (unsigned char)r->sep);
    while (rc == 0 && !publish_stopped(to->pub)) {
        if (r->line_off < len) {
            bool had_header = r->header != NULL;
            size_t start = r->line_off;
            r->line_off += s_csv_line(r, &csv);
            /* open after a line break, and no quote left to close it */
            bool never = !r->between && r->line_off >= r->after_quotes && buf[r->line_off - 1] == '\n';
            if (r->swallowed)
                s_csv_skip(r, &csv, "closes only on a later line, and what it holds is not a row");
            else if (never && r->header == NULL)
                rc = -1, cli_warn("%s:%ld: the header has a quote that is not closed", to->file, r->rec_line);
            else if (never)
                s_csv_skip(r, &csv, "is not closed before the end of the file");
            else if (!r->between && r->header != NULL &&
                     s_csv_bad_quote(r, buf + start, buf + r->line_off, r->lineno > r->rec_line)) {
                char why[96];     /* a later quote no field can end with: it stays open */
                snprintf(why, sizeof(why), "is not closed (the quote on line %ld cannot end a field)", r->lineno);
                s_csv_skip(r, &csv, why);
            }
            if (!had_header && r->header != NULL && to->header(to->arg, r->header) != 0)
                rc = -1;
            if (to->progress != NULL) {
                publish_counts_t pc;
                publish_counts(to->pub, &pc);
                to->progress(to->arg, len ? (double)r->line_off / (double)len : 1, pc.total);
            }
            continue;
        }
        /* A record still open after a line break is inside a quote. */
        bool open = !r->between && (r->lineno > r->rec_line || (len > 0 && buf[len - 1] == '\n'));
        if (open && r->header == NULL) {
            cli_warn("%s:%ld: the header has a quote that is not closed", to->file, r->rec_line);
            rc = -1;
        } else if (open) {
            s_csv_skip(r, &csv, "is not closed before the end of the file");
        } else {
            csv_fini(&csv, s_csv_field, s_csv_record, r);
            if (!r->swallowed)
                break;
            s_csv_skip(r, &csv, "closes only on a later line, and what it holds is not a row");
        }
    }
    s_csv_clear(r);
    free(r->fields);
    csv_free(&csv);
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
    json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
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
records_json(const records_sink_t *to, const char *buf, size_t len)
{
    json_error_t jerr;
    char label[512];
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *v;
    size_t i, n;

    if (doc == NULL) {
        cli_warn("%s:%d:%d: invalid JSON: %s", to->file, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *features = json_object_get(doc, "features");
    bool collection = type != NULL && strcmp(type, "FeatureCollection") == 0 && json_is_array(features);
    if (to->properties != NULL && (collection || (type != NULL && strcmp(type, "Feature") == 0))) {
        json_t *first = collection ? json_array_get(features, 0) : doc, *names = json_array(), *x;
        const char *key;
        json_object_foreach(json_object_get(first, "properties"), key, x)
            json_array_append_new(names, json_string(key));
        int rc = to->properties(to->arg, names);
        json_decref(names);
        if (rc != 0) {
            json_decref(doc);
            return -1;
        }
    }
    if (collection) {
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
records_ndjson(const records_sink_t *to, const char *buf, size_t len)
{
    FILE *f = fmemopen((void *)buf, len, "r");
    if (f == NULL)
        abort();
    s_ndjson(to, f, 0, true);
    fclose(f);
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
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

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
