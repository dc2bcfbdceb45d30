/*
 * cmd_import.c: import FILE, bulk load from partners' data (CSV, JSON,
 * NDJSON, GeoJSON) through a mapping file.
 *
 * Every source record (CSV row, JSON object, GeoJSON feature) is first made
 * a flat JSON object of its columns or properties (records.c), then turned
 * into an entry by the mapping (import_map.c; without one, by reading the
 * column names as field names: "name:de", "geo.lat", "cpv"). The entry
 * gets an id (mapped column, template, or a slug of name and city) and the
 * mapping's default kind, country and region, and is handed to the batch
 * sender of publish.c, which validates and sends it. Bad records are
 * reported as "FILE:LINE:" (the line where the CSV record or NDJSON line
 * starts), "FILE: object N:" (JSON array) or "FILE: feature N:" (GeoJSON),
 * N from 1. This file ties those together, draws the progress bar and
 * prints the summary.
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
#include "input.h"
#include "publish.h"
#include "records.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct import {
    const char *file;       /* for messages */
    import_map_t *map;      /* the mapping, or column names as field names */
    publish_t *pub;
    dedup_t *seen;          /* the good records */
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
s_progress(void *arg, double done, size_t rows)
{
    struct import *im = arg;
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
s_record(void *arg, const json_t *row, const char *label, double geo_lat, double geo_lon)
{
    struct import *im = arg;
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

/* The CSV header is read: checks it against the mapping. */
static int
s_header(void *arg, const json_t *header)
{
    struct import *im = arg;
    return import_map_check_header(im->map, header, im->file);
}

/* ---- the command ---- */

static void
s_free(struct import *im)
{
    import_map_destroy(&im->map);
}

/* Reads f in format fmt, sends to c (NULL: dry run), lists duplicates
 * (also against the node nc when not NULL) and prints the summary.
 * Returns the exit status. */
static int
s_run(struct import *im, client_t *c, client_t *nc, const char *buf, size_t len, int fmt, char sep)
{
    im->pub = publish_new(c, im->file, s_report, im);
    im->seen = dedup_new();
    records_sink_t to = { .file = im->file, .mapped = import_map_given(im->map), .size = im->size,
                          .pub = im->pub, .record = s_record, .header = s_header, .progress = s_progress,
                          .arg = im };
    int read_rc = fmt == RECORDS_CSV ? records_csv(&to, buf, len, sep)
                  : fmt == RECORDS_NDJSON ? records_ndjson(&to, buf, len) : records_json(&to, buf, len);
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

/* Exit status 0 when every record was stored (or, dry run, passed). */
int
cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "map", required_argument, NULL, 'm' },
        { "separator", required_argument, NULL, 's' },
        { "encoding", required_argument, NULL, 'e' },
        { "dry-run", no_argument, NULL, 'n' },
        { "no-node-duplicates", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct import im = { 0 };
    char err[512];
    const char *mapfile = NULL, *format = NULL, *encoding = NULL;
    bool dry = false, node_dups = true;
    char sep = 0;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, ":f:m:s:nh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'm': mapfile = optarg; break;
        case 'e': encoding = optarg; break;
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
    int fmt = format ? records_format(format, false) : records_format(path, true);
    if (fmt == RECORDS_NONE)
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
    size_t raw_len, len;
    char *raw = input_slurp(f, &raw_len), *buf = NULL;
    if (ferror(f))
        cli_warn("%s: read error: %s", im.file, strerror(errno));
    else if ((buf = input_utf8(raw, raw_len, encoding, &len, err, sizeof(err))) == NULL)
        cli_warn("%s: %s", im.file, err);
    free(raw);
    if (!is_stdin)
        fclose(f);
    if (buf == NULL) {
        s_free(&im);
        return 1;
    }
    im.size = (double)len;
    im.tty = isatty(STDERR_FILENO);
    im.start = s_now();
    client_t *c = dry ? NULL : cli_connect();
    /* A dry run needs no node, and checks for duplicates on one only when
     * it is reachable: no complaint when it is not. */
    client_t *nc = dry && node_dups ? cli_open(err, sizeof(err)) : NULL;
    if (dry || c != NULL)
        rc = s_run(&im, c, dry ? nc : node_dups ? c : NULL, buf, len, fmt, sep);
    client_close(&c);
    client_close(&nc);
    free(buf);
    s_free(&im);
    return rc;
}
