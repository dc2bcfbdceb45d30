/*
 * cmd_publish.c: publish FILE|-, entries from JSON to the node.
 *
 * The input is one JSON object, an array of objects, or NDJSON (one object
 * per line, blank lines ignored). How to tell: input starting with '[' is
 * an array; else if the first non-blank line is a JSON value by itself the
 * input is NDJSON and is streamed line by line, so a file of a million
 * entries needs memory for one batch only; else the input is read whole
 * as one (pretty-printed) object. When that fails too, NDJSON whose first
 * line is broken is told apart by a later line that parses alone; failing
 * that, the document's error is reported with its line and column.
 *
 * Each entry read goes to the batch sender (publish.c), which checks it,
 * sends it and prints "ID<TAB>STATUS<TAB>seq N"; a bad one is reported with
 * where it came from ("FILE:LINE:", "FILE: entry #N:") and not sent.
 */
#include "cli.h"
#include "publish.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ----
 * Every entry read reaches publish_take exactly once, and everything unreadable
 * is counted in total and rejected, so the summary adds up.
 */

/* One NDJSON line (lineno from 1): an entry, a blank, or an error. */
static void
s_ndjson_line(publish_t *p, const char *line, size_t len, long lineno)
{
    json_error_t jerr;
    char label[512];

    if (strspn(line, " \t\r\n") == len)
        return;
    snprintf(label, sizeof(label), "%s:%ld", publish_file(p), lineno);
    json_t *e = json_loadb(line, len, 0, &jerr);
    if (e == NULL) {
        char why[256];
        snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
        publish_reject(p, label, NULL, why);
    } else if (!json_is_object(e)) {
        publish_reject(p, label, NULL, "not a JSON object");
        json_decref(e);
    } else {
        publish_take(p, e, label);
    }
}

/* NDJSON from f, the lines before lineno already read. */
static void
s_ndjson(publish_t *p, FILE *f, long lineno)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!publish_stopped(p) && (len = getline(&line, &cap, f)) >= 0)
        s_ndjson_line(p, line, (size_t)len, ++lineno);
    free(line);
}

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

/* An array of entries, parsed whole. */
static void
s_array(publish_t *p, json_t *doc)
{
    char label[512];
    json_t *e;
    size_t i;
    publish_set_numbered(p, true);
    json_array_foreach(doc, i, e) {
        snprintf(label, sizeof(label), "%s: entry #%zu", publish_file(p), i + 1);
        if (json_is_object(e)) {
            publish_take(p, json_incref(e), label);
        } else {
            publish_reject(p, label, NULL, "not a JSON object");
        }
        if (publish_stopped(p))
            break;
    }
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
s_document(publish_t *p, char *buf, size_t len, long skipped)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);

    if (json_is_array(doc)) {
        s_array(p, doc);
    } else if (json_is_object(doc)) {
        publish_take(p, json_incref(doc), publish_file(p));
    } else if (doc != NULL) {
        publish_reject(p, publish_file(p), NULL, "expected a JSON object, an array of objects, or NDJSON");
    } else if (s_looks_ndjson(buf)) {
        FILE *f = fmemopen(buf, len, "r");
        if (f == NULL)
            abort();
        s_ndjson(p, f, skipped);
        fclose(f);
    } else {
        publish_add_counts(p, 1, 1);
        cli_warn("%s:%d:%d: invalid JSON: %s", publish_file(p), jerr.line + (int)skipped, jerr.column, jerr.text);
    }
    json_decref(doc);
}

/* Reads f and hands every entry to publish_take. A UTF-8 byte order mark at the
 * start (spreadsheet exports write one) is skipped. */
static void
s_read(publish_t *p, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;

    /* The first line with something on it decides the format. */
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            memmove(line, line + 3, (size_t)(len -= 3) + 1);
        if (strspn(line, " \t\r\n") != (size_t)len)
            break;
    }
    if (len < 0) {
        free(line);
        return;
    }
    json_t *first = line[strspn(line, " \t\r")] == '[' ? NULL : json_loadb(line, (size_t)len, 0, NULL);
    if (first != NULL) {
        json_decref(first);
        s_ndjson_line(p, line, (size_t)len, lineno);
        free(line);
        s_ndjson(p, f, lineno);
        return;
    }
    size_t n = (size_t)len;
    line = s_slurp(f, line, &n);
    s_document(p, line, n, lineno - 1);
    free(line);
}

/* Exit status 0 only when every entry read was stored (new, updated or
 * unchanged); good entries are stored even when others are not. */
int
cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    publish_t *pp;
    int ch;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1)
        return ch == 'h' ? cli_help("publish") : cli_bad_option("publish", ch, argv);
    if (argc - optind != 1)
        return cli_usage_error("publish", "expected one FILE, or - for standard input");

    const char *path = argv[optind];
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    if (f == NULL) {
        cli_warn("%s: %s", path, strerror(errno));
        return 1;
    }
    client_t *c = cli_connect();
    if (c == NULL) {
        if (!is_stdin)
            fclose(f);
        return 1;
    }
    pp = publish_new(c, is_stdin ? "stdin" : path, NULL, NULL);
    publish_set_quiet(pp, false);
    s_read(pp, f);
    if (ferror(f)) {
        cli_warn("%s: read error: %s", publish_file(pp), strerror(errno));
        publish_add_counts(pp, 0, 1);
    }
    publish_flush(pp);
    publish_counts_t n;
    publish_counts(pp, &n);
    if (n.total == 0 && !ferror(f))
        cli_warn("%s: no entries", publish_file(pp));
    if (n.total > 1)
        fprintf(stderr, "published %zu: %zu new, %zu updated, %zu unchanged, %zu rejected\n",
                n.total, n.n_new, n.n_updated, n.n_unchanged, n.rejected);
    int rc = (n.rejected > 0 || n.total == 0 || publish_stopped(pp)) ? 1 : 0;
    if (!is_stdin)
        fclose(f);
    publish_destroy(&pp);
    client_close(&c);
    return rc;
}
