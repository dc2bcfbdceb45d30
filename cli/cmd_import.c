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
#include "codes.h"
#include "entry.h"
#include "import_map.h"
#include "import_report.h"
#include "input.h"
#include "render.h"
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
    import_report_t *report;    /* rejected rows and warnings, grouped */
    bool lenient;           /* drop bad optional values, keep the row */
    bool all_errors;        /* --errors all: every row, as it comes */
    bool dups_json;         /* --duplicates json */
    const char *label;      /* where the record being read was read */
    size_t optional_only;   /* rows rejected that --lenient would keep */
    /* progress */
    bool tty;               /* stderr is a terminal: draw the bar */
    double start, last_draw;    /* monotonic seconds */
    double after;           /* seconds before the bar shows (1) */
    double size;            /* bytes of input */
    bool drawn;             /* the bar is on screen now */
    bool shown;             /* the bar was shown: end it at 100 % */
};

/* ---- reporting and progress ---- */

/* Share of the bar each phase ends at: reading (parsing, checking and
 * sending in batches), the last batch, the node's duplicate lookups. */
#define BAR_READ 0.80
#define BAR_SEND 0.85

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

/* Draws the bar at done (0..1) with what is going on, on a terminal,
 * once the import has run im->after seconds, at most ten times a second
 * (always when force). */
static void
s_bar(struct import *im, double done, const char *what, bool force)
{
    double now = s_now();
    if (!im->tty || now - im->start < im->after || (!force && now - im->last_draw < 0.1))
        return;
    int width = 30, full = (int)(done * width + 0.5);
    full = full < 0 ? 0 : full > width ? width : full;
    fprintf(stderr, "\r\033[K[%.*s%*s] %3d%% %s", full, "##############################",
            width - full, "", (int)(done * 100 + 0.5), what);
    fflush(stderr);
    im->drawn = im->shown = true;
    im->last_draw = now;
}

/* Reading: done is the share of the input read. */
static void
s_progress(void *arg, double done, size_t rows)
{
    struct import *im = arg;
    char what[64];
    snprintf(what, sizeof(what), "reading, %zu rows", rows);
    s_bar(im, done * BAR_READ, what, false);
}

/* The node's duplicate lookups: done of total records. */
static void
s_progress_dups(void *arg, size_t done, size_t total)
{
    struct import *im = arg;
    char what[64];
    snprintf(what, sizeof(what), "duplicates on the node, %zu/%zu", done, total);
    s_bar(im, BAR_SEND + (1 - BAR_SEND) * (total ? (double)done / (double)total : 1), what, false);
}

static void
s_report(void *arg, const char *label, const char *id, const char *why)
{
    struct import *im = arg;
    if (im->all_errors)
        s_unbar(im);
    import_report_add(im->report, label, id, why, false);
}

/* --lenient: a value the mapping could not convert was dropped. */
static void
s_map_warn(void *arg, const char *why)
{
    struct import *im = arg;
    if (im->all_errors)
        s_unbar(im);
    import_report_add(im->report, im->label, NULL, why, true);
}

/* ---- one record ---- */

/* Drops from entry e, one at a time, each field entry_validate finds bad
 * that the entry can do without (dropping it does not make it "required"),
 * adding to whys (when not NULL) what was wrong with each. Returns true if
 * e is then valid. The validator judges; this only asks it again. */
static bool
s_drop_bad(json_t *e, json_t *whys)
{
    char err[ENTRY_ERR_MAX], again[ENTRY_ERR_MAX], field[64], required[128];
    for (int i = 0; i < 64; i++) {
        if (entry_validate(e, err, sizeof(err)) == 0)
            return true;
        if (sscanf(err, "field '%63[^']'", field) != 1 || strcmp(field, "id") == 0 || strcmp(field, "kind") == 0)
            return false;
        if (json_object_get(e, field) == NULL)
            return false;
        json_object_del(e, field);
        snprintf(required, sizeof(required), "field '%s': required", field);
        if (entry_validate(e, again, sizeof(again)) != 0 && strncmp(again, required, strlen(required)) == 0)
            return false;
        if (whys != NULL)
            json_array_append_new(whys, json_sprintf("%s (value dropped, row kept)", err));
    }
    return false;
}

/* Entry e (reference stolen) without the optional values the validator
 * refuses, or, when that does not make it valid, e as it was, to be
 * rejected for its first problem. With lenient the dropped values are
 * reported as warnings; without, a row --lenient would keep is counted
 * for the hint. */
static json_t *
s_lenient(struct import *im, json_t *e, const char *label)
{
    char err[ENTRY_ERR_MAX];
    if (entry_validate(e, err, sizeof(err)) == 0)
        return e;
    json_t *copy = json_deep_copy(e), *whys = json_array(), *why;
    size_t i;
    if (!s_drop_bad(copy, whys)) {
        json_decref(copy);
        json_decref(whys);
        return e;
    }
    if (!im->lenient) {
        im->optional_only++;
        json_decref(copy);
        json_decref(whys);
        return e;
    }
    const char *id = json_string_value(json_object_get(e, "id"));
    if (im->all_errors)
        s_unbar(im);
    json_array_foreach(whys, i, why)
        import_report_add(im->report, label, id, json_string_value(why), true);
    json_decref(whys);
    json_decref(e);
    return copy;
}

static void
s_quiet(void *arg, const char *why)
{
    (void)arg, (void)why;
}

/* True if --lenient would keep record row, which the mapping could not
 * convert: for the hint. */
static bool
s_would_keep(struct import *im, const json_t *row)
{
    char err[ENTRY_ERR_MAX];
    import_map_set_lenient(im->map, s_quiet, NULL);
    json_t *e = import_map_entry(im->map, row, err, sizeof(err));
    import_map_set_lenient(im->map, NULL, NULL);
    bool keep = e != NULL && import_map_give_id(im->map, e, row, err, sizeof(err)) == 0 && s_drop_bad(e, NULL);
    json_decref(e);
    return keep;
}

/* Turns record row (borrowed), read at label, into an entry and hands it
 * to the sender. geo_lat/geo_lon: a GeoJSON point, else NAN. */
static void
s_record(void *arg, const json_t *row, const char *label, double geo_lat, double geo_lon)
{
    struct import *im = arg;
    char err[ENTRY_ERR_MAX];
    im->label = label;
    json_t *e = import_map_entry(im->map, row, err, sizeof(err));
    if (e == NULL) {
        publish_reject(im->pub, label, NULL, err);
        if (!im->lenient)
            im->optional_only += s_would_keep(im, row);
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
    e = s_lenient(im, e, label);
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
    return import_map_check(im->map, header, im->file);
}

/* The first GeoJSON feature's property names: checks them as a header. */
static int
s_properties(void *arg, const json_t *names)
{
    struct import *im = arg;
    return import_map_check_properties(im->map, names, im->file);
}

/* ---- the command ---- */

static void
s_free(struct import *im)
{
    import_map_destroy(&im->map);
}

/* The possible duplicates: looked up on the node nc (when not NULL),
 * then printed, as JSON on stdout with --duplicates json. */
static void
s_duplicates(struct import *im, client_t *nc)
{
    if (nc != NULL && !publish_stopped(im->pub))
        dedup_node(im->seen, nc, s_progress_dups, im);
    json_t *doc = dedup_groups(im->seen, im->file);
    s_bar(im, 1, "done", true);
    if (im->shown) {
        fputc('\n', stderr);
        im->drawn = false;
    }
    if (im->dups_json) {
        render_json(stdout, doc, 1);     /* escapes C1 and bidi controls */
    } else {
        dedup_print(doc, stderr);
    }
    json_decref(doc);
}

/* Reads the len bytes at buf in format fmt, sends to c (NULL: dry run),
 * lists duplicates (also against the node nc when not NULL) and prints
 * the summary. Returns the exit status. */
static int
s_run(struct import *im, client_t *c, client_t *nc, const char *buf, size_t len, int fmt, char sep)
{
    im->pub = publish_new(c, im->file, s_report, im);
    im->seen = dedup_new();
    im->report = import_report_new(im->file, stderr, im->all_errors);
    records_sink_t to = { .file = im->file, .mapped = import_map_given(im->map), .size = im->size,
                          .pub = im->pub, .record = s_record, .header = s_header,
                          .properties = s_properties, .progress = s_progress,
                          .arg = im };
    int read_rc = fmt != RECORDS_CSV && import_map_check(im->map, NULL, im->file) != 0 ? -1
                  : fmt == RECORDS_CSV ? records_csv(&to, buf, len, sep)
                  : fmt == RECORDS_NDJSON ? records_ndjson(&to, buf, len) : records_json(&to, buf, len);
    s_bar(im, BAR_READ, "sending the last batch", true);
    publish_flush(im->pub);
    s_bar(im, BAR_SEND, "sent", true);
    publish_counts_t pc;
    publish_counts(im->pub, &pc);
    if (read_rc == 0 || pc.total > 0)
        s_duplicates(im, nc);
    s_unbar(im);
    import_report_print(im->report);

    publish_counts(im->pub, &pc);
    size_t warnings = import_report_warnings(im->report);
    FILE *out = stderr;     /* a summary, as publish's: stdout is for data */
    if (im->optional_only > 0)
        fprintf(stderr, "socdir import: %zu of the rejected rows are bad only in optional fields: "
                "--lenient imports them without those values\n", im->optional_only);
    if (read_rc != 0 && pc.total == 0)
        ;   /* said why; nothing was read */
    else if (c == NULL)
        fprintf(out, "would import %zu rows: %zu good, %zu rejected, %zu warnings (dry run: nothing sent)\n",
                pc.total, pc.checked, pc.rejected, warnings);
    else
        fprintf(out, "imported %zu rows: %zu new, %zu updated, %zu unchanged, %zu rejected, %zu warnings\n",
                pc.total, pc.n_new, pc.n_updated, pc.n_unchanged, pc.rejected, warnings);
    if (pc.total == 0 && read_rc == 0)
        cli_warn("%s: no rows", im->file);
    int rc = read_rc == 0 && pc.rejected == 0 && pc.total > 0 && !publish_stopped(im->pub) ? 0 : 1;
    publish_destroy(&im->pub);
    dedup_destroy(&im->seen);
    import_report_destroy(&im->report);
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
        { "lenient", no_argument, NULL, 'L' },
        { "errors", required_argument, NULL, 'E' },
        { "duplicates", required_argument, NULL, 'U' },
        { "lang", required_argument, NULL, 'l' },
        { "dry-run", no_argument, NULL, 'n' },
        { "no-node-duplicates", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct import im = { 0 };
    char err[512];
    const char *mapfile = NULL, *format = NULL, *encoding = NULL, *lang = NULL;
    bool dry = false, node_dups = true;
    char sep = 0;
    int ch, rc = 1;

    while ((ch = getopt_long(argc, argv, ":f:m:s:nh", opts, NULL)) != -1) {
        switch (ch) {
        case 'f': format = optarg; break;
        case 'm': mapfile = optarg; break;
        case 'e': encoding = optarg; break;
        case 'L': im.lenient = true; break;
        case 'l':
            if (!code_lang_listed(optarg))
                return cli_usage_error("import", "--lang takes an ISO 639-1 code, e.g. de");
            lang = optarg;
            break;
        case 'E':
            if (strcmp(optarg, "all") != 0 && strcmp(optarg, "grouped") != 0)
                return cli_usage_error("import", "--errors takes 'grouped' or 'all'");
            im.all_errors = strcmp(optarg, "all") == 0;
            break;
        case 'U':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return cli_usage_error("import", "--duplicates takes 'text' or 'json'");
            im.dups_json = strcmp(optarg, "json") == 0;
            break;
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
    if ((im.map = import_map_load(mapfile, lang)) == NULL) {
        s_free(&im);
        return 1;
    }
    if (im.lenient)
        import_map_set_lenient(im.map, s_map_warn, &im);
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
    const char *after = getenv("SOCDIR_PROGRESS_AFTER");
    im.after = after != NULL ? atof(after) : 1.0;
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
