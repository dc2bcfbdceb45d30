/*
 * cmd_import.c: import FILE, bulk load from partners' data (CSV, JSON,
 * NDJSON, GeoJSON) through a mapping file.
 *
 * Every source record (CSV row, JSON object, GeoJSON feature) is first made
 * a flat JSON object of its columns or properties, then turned into an
 * entry by the mapping (or, without one, by reading the column names as
 * field names: "name:de", "geo.lat", "cpv"). The entry gets an id (mapped
 * column, template, or a slug of name and city) and the mapping's default
 * kind, country and region, and is handed to the batch sender of
 * publish.c, which validates and sends it. Bad records are reported
 * as "FILE:LINE:" (the line where the CSV record or NDJSON line starts),
 * "FILE: object N:" (JSON array) or "FILE: feature N:" (GeoJSON), N from 1.
 *
 * Memory: CSV and NDJSON are streamed (one batch held); JSON and GeoJSON
 * documents are parsed whole. For every good record dedup.c keeps what it
 * takes to refuse a second record with the same id and to list possible
 * duplicates at the end, within the file and against the node's entries.
 */
#include "cli.h"
#include "dedup.h"
#include "entry.h"
#include "import_map.h"
#include "publish.h"
#include "text.h"
#include "util.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { F_NONE, F_CSV, F_JSON, F_NDJSON, F_GEOJSON };

struct import {
    const char *file;       /* for messages */
    import_map_t *map;      /* the mapping, or column names as field names */
    publish_t *pub;
    dedup_t *seen;          /* the good records */
    /* CSV */
    char **fields;          /* fields of the record being read, owned */
    size_t nfields, capfields;
    json_t *header;         /* array of column names */
    long lineno, rec_line;  /* line being fed, line the record started */
    bool between;           /* no record begun yet on lineno */
    bool ended;             /* a record ended while feeding lineno */
    /* progress */
    bool tty;               /* stderr is a terminal: draw the bar */
    double start, last_draw;    /* monotonic seconds */
    double size;            /* bytes in the file, 0 if not a regular file */
    bool drawn;             /* the bar is on screen now */
};

/* ---- reporting and progress ---- */

static double
s_now(void)
{
    return (double)mono_us() / 1e6;
}

/* Removes the progress bar, if shown, so that a message can be printed. */
static void
s_unbar(struct import *im)
{
    if (im->drawn) {
        fputs("\r\033[K", stderr);
        im->drawn = false;
    }
}

/* Draws the bar for fraction done (0..1), on a terminal, after the first
 * second, at most ten times a second. */
static void
s_progress(struct import *im, double done, size_t rows)
{
    double now = s_now();
    if (!im->tty || now - im->start < 1.0 || now - im->last_draw < 0.1)
        return;
    int width = 30, full = (int)(done * width + 0.5);
    full = full < 0 ? 0 : full > width ? width : full;
    fprintf(stderr, "\r\033[K[%.*s%*s] %3d%% %zu rows", full, "##############################",
            width - full, "", (int)(done * 100), rows);
    fflush(stderr);
    im->drawn = true;
    im->last_draw = now;
}

static void
s_report(void *arg, const char *label, const char *id, const char *why)
{
    struct import *im = arg;
    s_unbar(im);
    if (id != NULL)
        fprintf(stderr, "socdir import: %s: entry '%.80s': %s\n", label, id, why);
    else
        fprintf(stderr, "socdir import: %s: %s\n", label, why);
}

/* ---- one record ---- */

/* Turns record row (borrowed), read at label, into an entry and hands it
 * to the sender. geo_lat/geo_lon: a GeoJSON point, else NAN. */
static void
s_record(struct import *im, const json_t *row, const char *label, double geo_lat, double geo_lon)
{
    char err[ENTRY_ERR_MAX];
    json_t *e = import_map_entry(im->map, row, err, sizeof(err));
    if (e == NULL) {
        publish_reject(im->pub, label, NULL, err);
        return;
    }
    if (!isnan(geo_lat) && json_object_get(e, "geo") == NULL)
        json_object_set_new(e, "geo", json_pack("{s:f, s:f}", "lat", geo_lat, "lon", geo_lon));
    if (import_map_give_id(im->map, e, row, err, sizeof(err)) != 0) {
        publish_reject(im->pub, label, NULL, err);
        json_decref(e);
        return;
    }
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *twin = id != NULL ? dedup_find(im->seen, id) : NULL;
    if (twin != NULL) {
        snprintf(err, sizeof(err), "has the same id as %s (give each row its own id)", twin);
        publish_reject(im->pub, label, id, err);
        json_decref(e);
        return;
    }
    json_incref(e);
    if (publish_take(im->pub, e, label) == 0)
        dedup_add(im->seen, e, label);
    json_decref(e);
}

/* ---- CSV ---- */

static void
s_csv_field(void *s, size_t len, void *data)
{
    struct import *im = data;
    if (im->nfields == im->capfields)
        im->fields = xrealloc(im->fields, (im->capfields = im->capfields ? 2 * im->capfields : 32) * sizeof(char *));
    im->fields[im->nfields++] = text_strndup(s ? s : "", s ? len : 0);
}

/* End of a CSV record: the first is the header, the others rows. */
static void
s_csv_record(int c, void *data)
{
    struct import *im = data;
    char label[512];
    (void)c;
    im->ended = im->between = true;
    snprintf(label, sizeof(label), "%s:%ld", im->file, im->rec_line);
    if (im->header == NULL) {
        im->header = json_array();
        for (size_t i = 0; i < im->nfields; i++) {
            char *h = text_trim(im->fields[i], strlen(im->fields[i]));
            json_t *name = json_string(h);   /* NULL: not UTF-8 */
            json_array_append_new(im->header, name ? name : json_string(""));
            free(h);
        }
    } else {
        json_t *row = json_object();
        const char *why = NULL;
        for (size_t i = 0; i < im->nfields && why == NULL; i++) {
            const char *col = json_string_value(json_array_get(im->header, i));
            if (*im->fields[i] == '\0')
                continue;
            json_t *v = json_string(im->fields[i]);
            if (v == NULL)
                why = "is not valid UTF-8 (save the file as UTF-8)";
            else if (col == NULL)
                why = "has more fields than the header";
            else if (*col != '\0')
                json_object_set(row, col, v);
            json_decref(v);
        }
        if (why != NULL)
            publish_reject(im->pub, label, NULL, why);
        else
            s_record(im, row, label, NAN, NAN);
        json_decref(row);
    }
    for (size_t i = 0; i < im->nfields; i++)
        free(im->fields[i]);
    im->nfields = 0;
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
static int
s_csv(struct import *im, FILE *f, char sep)
{
    struct csv_parser csv;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    if (csv_init(&csv, CSV_APPEND_NULL) != 0)
        abort();
    im->between = true;
    while (rc == 0 && !publish_stopped(im->pub) && (len = getline(&line, &cap, f)) >= 0) {
        char *p = line;
        if (++im->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3, len -= 3;
        if (sep == 0)
            sep = s_sniff(p);
        csv_set_delim(&csv, (unsigned char)sep);
        if (im->between)
            im->rec_line = im->lineno;
        im->ended = false;
        bool had_header = im->header != NULL;
        if (csv_parse(&csv, p, (size_t)len, s_csv_field, s_csv_record, im) != (size_t)len) {
            cli_warn("%s:%ld: %s", im->file, im->lineno, csv_strerror(csv_error(&csv)));
            rc = -1;
        }
        if (!im->ended && strspn(p, " \t\r\n") != (size_t)len)
            im->between = false;
        if (!had_header && im->header != NULL && import_map_check_header(im->map, im->header, im->file) != 0)
            rc = -1;
        if (im->size > 0) {
            publish_counts_t pc;
            publish_counts(im->pub, &pc);
            s_progress(im, (double)ftell(f) / im->size, pc.total);
        }
    }
    if (rc == 0)
        csv_fini(&csv, s_csv_field, s_csv_record, im);
    for (size_t i = 0; i < im->nfields; i++)
        free(im->fields[i]);
    im->nfields = 0;
    csv_free(&csv);
    free(line);
    if (rc == 0 && im->header == NULL)
        cli_warn("%s: no header line", im->file);
    return rc == 0 && im->header != NULL ? 0 : -1;
}

/* ---- JSON, NDJSON, GeoJSON ---- */

/* One JSON value as a record (labels say where it was). */
static void
s_json_record(struct import *im, const json_t *v, const char *label)
{
    if (!json_is_object(v))
        publish_reject(im->pub, label, NULL, "not a JSON object");
    else
        s_record(im, v, label, NAN, NAN);
}

/* One GeoJSON feature: its properties, its Point as geo and, without a
 * mapping, its "id" member when the properties have none. */
static void
s_feature(struct import *im, const json_t *ft, const char *label)
{
    json_t *props = json_object_get(ft, "properties"), *geom = json_object_get(ft, "geometry");
    json_t *coords = json_object_get(geom, "coordinates");
    double lat = NAN, lon = NAN;

    if (!json_is_object(ft) || (props != NULL && !json_is_object(props) && !json_is_null(props))) {
        publish_reject(im->pub, label, NULL, "not a GeoJSON feature with properties");
        return;
    }
    json_t *row = json_is_object(props) ? json_copy(props) : json_object();
    if (!import_map_given(im->map) && json_object_get(row, "id") == NULL &&
        (json_is_string(json_object_get(ft, "id")) || json_is_integer(json_object_get(ft, "id"))))
        json_object_set(row, "id", json_object_get(ft, "id"));
    if (!import_map_given(im->map) && json_is_integer(json_object_get(row, "id"))) {
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
    s_record(im, row, label, lat, lon);
    json_decref(row);
}

/* A JSON document: an array of objects, one object, or a GeoJSON
 * FeatureCollection. */
static int
s_json(struct import *im, FILE *f)
{
    json_error_t jerr;
    char label[512];
    json_t *doc = json_loadf(f, 0, &jerr), *v;
    size_t i, n;

    if (doc == NULL) {
        cli_warn("%s:%d:%d: invalid JSON: %s", im->file, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *features = json_object_get(doc, "features");
    if (type != NULL && strcmp(type, "FeatureCollection") == 0 && json_is_array(features)) {
        n = json_array_size(features);
        json_array_foreach(features, i, v) {
            snprintf(label, sizeof(label), "%s: feature %zu", im->file, i + 1);
            s_feature(im, v, label);
            s_progress(im, (double)(i + 1) / n, i + 1);
            if (publish_stopped(im->pub))
                break;
        }
    } else if (type != NULL && strcmp(type, "Feature") == 0) {
        snprintf(label, sizeof(label), "%s: feature 1", im->file);
        s_feature(im, doc, label);
    } else if (json_is_array(doc)) {
        n = json_array_size(doc);
        json_array_foreach(doc, i, v) {
            snprintf(label, sizeof(label), "%s: object %zu", im->file, i + 1);
            s_json_record(im, v, label);
            s_progress(im, (double)(i + 1) / n, i + 1);
            if (publish_stopped(im->pub))
                break;
        }
    } else {
        s_json_record(im, doc, im->file);
    }
    json_decref(doc);
    return 0;
}

/* NDJSON: one object per line, blank lines ignored. */
static int
s_ndjson(struct import *im, FILE *f)
{
    char *line = NULL, label[512];
    size_t cap = 0;
    ssize_t len;
    json_error_t jerr;
    long lineno = 0;

    while (!publish_stopped(im->pub) && (len = getline(&line, &cap, f)) >= 0) {
        char *p = line;
        if (++lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3, len -= 3;
        if (strspn(p, " \t\r\n") == (size_t)len)
            continue;
        snprintf(label, sizeof(label), "%s:%ld", im->file, lineno);
        json_t *v = json_loadb(p, (size_t)len, 0, &jerr);
        if (v == NULL) {
            char why[300];
            snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
            publish_reject(im->pub, label, NULL, why);
        } else {
            s_json_record(im, v, label);
        }
        json_decref(v);
        if (im->size > 0) {
            publish_counts_t pc;
            publish_counts(im->pub, &pc);
            s_progress(im, (double)ftell(f) / im->size, pc.total);
        }
    }
    free(line);
    return 0;
}

/* ---- the command ---- */

/* The format named by s, or by the file's extension. */
static int
s_format(const char *s, bool by_name)
{
    static const struct { const char *name; int format; bool ext_only; } names[] = {
        { "csv", F_CSV, false }, { "tsv", F_CSV, true }, { "txt", F_CSV, true }, { "json", F_JSON, false },
        { "ndjson", F_NDJSON, false }, { "jsonl", F_NDJSON, true }, { "geojson", F_GEOJSON, false },
    };
    if (by_name) {
        s = strrchr(s, '.');
        if (s == NULL || strchr(s, '/') != NULL)
            return F_NONE;
        s++;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0 && (by_name || !names[i].ext_only))
            return names[i].format;
    return F_NONE;
}

static void
s_free(struct import *im)
{
    free(im->fields);
    json_decref(im->header);
    import_map_destroy(&im->map);
}

/* Reads f in format fmt, sends to c (NULL: dry run), lists duplicates
 * (also against the node nc when not NULL) and prints the summary.
 * Returns the exit status. */
static int
s_run(struct import *im, client_t *c, client_t *nc, FILE *f, int fmt, char sep)
{
    im->pub = publish_new(c, im->file, s_report, im);
    im->seen = dedup_new();
    int read_rc = fmt == F_CSV ? s_csv(im, f, sep) : fmt == F_NDJSON ? s_ndjson(im, f) : s_json(im, f);
    if (ferror(f)) {
        cli_warn("%s: read error: %s", im->file, strerror(errno));
        read_rc = -1;
    }
    publish_flush(im->pub);
    s_unbar(im);
    dedup_list(im->seen);
    if (nc != NULL && !publish_stopped(im->pub))
        dedup_list_node(im->seen, nc);

    publish_counts_t pc;
    publish_counts(im->pub, &pc);
    if (read_rc != 0 && pc.total == 0)
        ;   /* said why; nothing was read */
    else if (c == NULL)
        printf("would import %zu rows: %zu good, %zu rejected (dry run: nothing sent)\n", pc.total,
               pc.checked, pc.rejected);
    else
        printf("imported %zu rows: %zu new, %zu updated, %zu unchanged, %zu rejected\n", pc.total,
               pc.n_new, pc.n_updated, pc.n_unchanged, pc.rejected);
    if (pc.total == 0 && read_rc == 0)
        cli_warn("%s: no rows", im->file);
    int rc = read_rc == 0 && pc.rejected == 0 && pc.total > 0 && !publish_stopped(im->pub) ? 0 : 1;
    publish_destroy(&im->pub);
    dedup_destroy(&im->seen);
    return rc;
}

/* cli_connect without its complaint: a dry run needs no node, and checks
 * for duplicates on one only when it is reachable. */
static client_t *
s_connect_quietly(void)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && null >= 0)
        dup2(null, STDERR_FILENO);
    client_t *c = cli_connect();
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (null >= 0)
        close(null);
    return c;
}

/* Exit status 0 when every record was stored (or, dry run, passed). */
int
cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "map", required_argument, NULL, 'm' },
        { "separator", required_argument, NULL, 's' },
        { "dry-run", no_argument, NULL, 'n' },
        { "no-node-duplicates", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct import im = { 0 };
    const char *mapfile = NULL, *format = NULL;
    bool dry = false, node_dups = true;
    char sep = 0;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, ":f:m:s:nh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'm': mapfile = optarg; break;
        case 'n': dry = true; break;
        case 'D': node_dups = false; break;
        case 's':
            if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\\t") == 0)
                sep = '\t';
            else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n')
                sep = optarg[0];
            else
                return cli_usage_error("import", "--separator takes one character (or 'tab')");
            break;
        case 'h': return cli_help("import");
        default: return cli_bad_option("import", ch, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("import", "expected one FILE");
    const char *path = argv[optind];
    int fmt = format ? s_format(format, false) : s_format(path, true);
    if (fmt == F_NONE)
        return format ? cli_usage_error("import", "unknown format '%s': csv, json, ndjson or geojson", format)
                      : cli_usage_error("import", "cannot tell the format of '%s': use --format", path);
    im.file = strcmp(path, "-") == 0 ? "stdin" : path;
    if ((im.map = import_map_load(mapfile)) == NULL) {
        s_free(&im);
        return 1;
    }
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    if (f == NULL) {
        cli_warn("%s: %s", path, strerror(errno));
        s_free(&im);
        return 1;
    }
    struct stat st;
    im.size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (double)st.st_size : 0;
    im.tty = isatty(STDERR_FILENO);
    im.start = s_now();
    client_t *c = dry ? NULL : cli_connect();
    client_t *nc = dry && node_dups ? s_connect_quietly() : NULL;
    if (dry || c != NULL)
        rc = s_run(&im, c, dry ? nc : node_dups ? c : NULL, f, fmt, sep);
    client_close(&c);
    client_close(&nc);
    if (!is_stdin)
        fclose(f);
    s_free(&im);
    return rc;
}
