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
 * Every entry is checked with entry_validate and its encoded size before
 * it is sent, and a bad one is reported with where it came from
 * ("FILE:LINE:", "FILE: entry #N:") and not sent; good ones go in batches
 * of at most MSG_BATCH_MAX entries and BATCH_BYTES bytes, so a request
 * stays within MSG_MAX even when entries are near ENTRY_BODY_MAX. Only the
 * body fields with id and kind are sent: read-only fields of an exported
 * entry (origin, seq, ...) would be dropped by the node anyway.
 *
 * The checking and batch sending (struct publish, s_take, s_flush) is also
 * import's (cmd_import.c), through publish_new/publish_take in cli.h: there
 * it prints nothing per entry, reports rejects through a callback, and with
 * no client only checks (--dry-run).
 */
#include "cli.h"
#include "entry.h"
#include "mpjson.h"
#include "msg.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_BYTES (MSG_MAX / 2)   /* encoded entries per request, at most */

struct publish {
    client_t *c;            /* the node; NULL for a dry run */
    const char *file;       /* input name for messages ("stdin" for -) */
    json_t *batch;          /* entries waiting to be sent */
    char **labels;          /* where each came from, owned */
    json_t *sent;           /* the batch in flight: sent, reply not read */
    char **sent_labels;     /* its labels, owned */
    bool in_flight;
    size_t bytes;           /* their encoded size */
    size_t total, n_new, n_updated, n_unchanged, rejected, checked;
    bool stop;              /* the node failed: read no further */
    bool array;             /* labels are "FILE: entry #N", not "FILE:LINE" */
    bool quiet;             /* no per-entry lines on stdout */
    publish_reject_fn on_reject;    /* reports a rejected entry, or NULL */
    void *arg;              /* for on_reject */
};

/* ---- sending ---- */

/* Reports one entry that was not stored and counts it: "socdir: LABEL:
 * entry 'ID': why", or "socdir: LABEL 'ID': why" when the label already
 * says "entry #N", or without the id when it has none. */
static void
s_reject(struct publish *p, const char *label, const char *id, const char *why)
{
    if (p->on_reject != NULL)
        p->on_reject(p->arg, label, id, why);
    else if (id != NULL && p->array)
        cli_warn("%s '%.80s': %s", label, id, why);
    else if (id != NULL)
        cli_warn("%s: entry '%.80s': %s", label, id, why);
    else
        cli_warn("%s: %s", label, why);
    p->rejected++;
}

/* What became of one entry of the batch just sent: stored entries print
 * "ID<TAB>STATUS<TAB>seq N" on stdout; refused ones go through s_reject
 * with the label of where they were read. */
static void
s_result(void *arg, size_t ix, const char *status, long long seq, const char *error)
{
    struct publish *p = arg;
    const char *id = json_string_value(json_object_get(json_array_get(p->sent, ix), "id"));
    if (error != NULL) {
        s_reject(p, p->sent_labels[ix], id, error);
        return;
    }
    if (!p->quiet)
        printf("%s\t%s\tseq %lld\n", id, status, seq);
    p->n_new += strcmp(status, "new") == 0;
    p->n_updated += strcmp(status, "updated") == 0;
    p->n_unchanged += strcmp(status, "unchanged") == 0;
}

/* Reads the reply to the batch in flight and settles each of its
 * entries. When no reply comes (no answer in time, not the control
 * socket) its entries count as rejected and reading stops. */
static void
s_settle(struct publish *p)
{
    if (!p->in_flight)
        return;
    size_t n = json_array_size(p->sent);
    char err[1024];
    json_t *reply = client_recv(p->c, err, sizeof(err));
    bool *seen = xcalloc(n, sizeof(*seen));

    if (reply != NULL) {
        cli_results(reply, n, seen, s_result, p);
    } else {
        cli_warn("%s", err);
        p->stop = true;     /* the rest would fail alike */
    }
    for (size_t i = 0; i < n; i++) {
        if (!seen[i] && reply != NULL)
            s_reject(p, p->sent_labels[i], json_string_value(json_object_get(json_array_get(p->sent, i), "id")),
                     "the node did not answer for this entry");
        else if (!seen[i])
            p->rejected++;
        free(p->sent_labels[i]);
    }
    free(seen);
    json_decref(reply);
    json_array_clear(p->sent);
    p->in_flight = false;
}

/* Sends the waiting entries, if any, then settles the batch sent before:
 * the node stores one batch while the next is read and checked here, and
 * has the next queued when it is done. */
static void
s_flush(struct publish *p)
{
    size_t n = json_array_size(p->batch);
    if (n == 0)
        return;
    json_t *req = json_pack("{s:s, s:O}", "op", "publish", "entries", p->batch);
    char err[1024];
    bool sent = client_send(p->c, req, err, sizeof(err)) == 0;
    json_decref(req);
    if (!sent)
        cli_warn("%s", err);
    s_settle(p);
    if (!sent) {
        p->stop = true;
        for (size_t i = 0; i < n; i++) {
            p->rejected++;
            free(p->labels[i]);
        }
        json_array_clear(p->batch);
    } else {
        json_t *t = p->sent;
        char **tl = p->sent_labels;
        p->sent = p->batch;
        p->sent_labels = p->labels;
        p->batch = t;
        p->labels = tl;
        p->in_flight = true;
    }
    p->bytes = 0;
}

/* The encoded size of an entry's payload as the node will sign it: the
 * packed body (borrowed) plus an upper bound of the envelope header
 * (format, origin key, id, kind, sequence, time, deleted flag). The bound
 * is at most a few bytes above the real size. */
static size_t
s_encoded_size(const json_t *body, const char *id, const char *kind)
{
    msgpack_sbuffer sb;
    char err[ENTRY_ERR_MAX];
    if (mpjson_encode(body, &sb, err, sizeof(err)) != 0)
        return (size_t)-1;  /* only for nesting, which s_take checked */
    size_t n = sb.size + 1 + 9 + 2 + 32 + 2 + strlen(id) + 1 + strlen(kind) + 9 + 9 + 1;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

/* Takes entry e (reference stolen) read at label: checks it, then queues
 * it, sending the batch when it is full. Returns 0 if it passed the checks
 * (queued, or counted as checked in a dry run), -1 if it was rejected. */
static int
s_take(struct publish *p, json_t *e, const char *label)
{
    char err[ENTRY_ERR_MAX];
    const char *id = json_string_value(json_object_get(e, "id"));
    int rc = -1;

    p->total++;
    if (p->stop) {
        p->rejected++;
    } else if (json_is_true(json_object_get(e, "deleted"))) {
        /* An exported tombstone: publishing it would bring it back to life. */
        s_reject(p, label, id, "is a deleted entry (\"deleted\": true) and is not published");
    } else if (entry_validate(e, err, sizeof(err)) != 0) {
        s_reject(p, label, id, err);
    } else {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *body = entry_body(e);
        size_t size = s_encoded_size(body, id, kind);
        if (size > ENTRY_BODY_MAX) {
            snprintf(err, sizeof(err), "is %zu bytes, more than the limit of %d", size, ENTRY_BODY_MAX);
            s_reject(p, label, id, err);
            json_decref(body);
        } else if (p->c == NULL) {
            p->checked++;       /* dry run: checked, not sent */
            json_decref(body);
            rc = 0;
        } else {
            if (json_array_size(p->batch) == MSG_BATCH_MAX || p->bytes + size > BATCH_BYTES)
                s_flush(p);
            if (p->stop) {
                p->rejected++;
                json_decref(body);
                json_decref(e);
                return -1;
            }
            json_object_set(body, "id", json_object_get(e, "id"));
            json_object_set(body, "kind", json_object_get(e, "kind"));
            p->labels[json_array_size(p->batch)] = xstrdup(label);
            json_array_append_new(p->batch, body);
            p->bytes += size;
            p->checked++;
            rc = 0;
        }
    }
    json_decref(e);
    return rc;
}

/* ---- the batch sender, shared with import (cli.h) ---- */

publish_t *
publish_new(client_t *c, const char *file, publish_reject_fn on_reject, void *arg)
{
    publish_t *p = xcalloc(1, sizeof(*p));
    p->c = c;
    p->file = file;
    p->batch = json_array();
    p->labels = xcalloc(MSG_BATCH_MAX, sizeof(*p->labels));
    p->sent = json_array();
    p->sent_labels = xcalloc(MSG_BATCH_MAX, sizeof(*p->sent_labels));
    p->quiet = true;
    p->on_reject = on_reject;
    p->arg = arg;
    return p;
}

int
publish_take(publish_t *p, json_t *e, const char *label)
{
    return s_take(p, e, label);
}

void
publish_reject(publish_t *p, const char *label, const char *id, const char *why)
{
    p->total++;
    s_reject(p, label, id, why);
}

void
publish_flush(publish_t *p)
{
    s_flush(p);
    s_settle(p);
}

bool
publish_stopped(const publish_t *p)
{
    return p->stop;
}

void
publish_counts(const publish_t *p, publish_counts_t *out)
{
    out->total = p->total;
    out->checked = p->checked;
    out->n_new = p->n_new;
    out->n_updated = p->n_updated;
    out->n_unchanged = p->n_unchanged;
    out->rejected = p->rejected;
}

void
publish_destroy(publish_t **self_p)
{
    if (*self_p) {
        publish_t *p = *self_p;
        for (size_t i = 0; i < json_array_size(p->batch); i++)
            free(p->labels[i]);
        for (size_t i = 0; p->in_flight && i < json_array_size(p->sent); i++)
            free(p->sent_labels[i]);
        json_decref(p->batch);
        json_decref(p->sent);
        free(p->labels);
        free(p->sent_labels);
        free(p);
        *self_p = NULL;
    }
}

/* ---- reading ----
 * Every entry read reaches s_take exactly once, and everything unreadable
 * is counted in total and rejected, so the summary adds up.
 */

/* One NDJSON line (lineno from 1): an entry, a blank, or an error. */
static void
s_ndjson_line(struct publish *p, const char *line, size_t len, long lineno)
{
    json_error_t jerr;
    char label[512];

    if (strspn(line, " \t\r\n") == len)
        return;
    snprintf(label, sizeof(label), "%s:%ld", p->file, lineno);
    json_t *e = json_loadb(line, len, 0, &jerr);
    if (e == NULL) {
        char why[256];
        snprintf(why, sizeof(why), "invalid JSON: %s", jerr.text);
        p->total++;
        s_reject(p, label, NULL, why);
    } else if (!json_is_object(e)) {
        p->total++;
        s_reject(p, label, NULL, "not a JSON object");
        json_decref(e);
    } else {
        s_take(p, e, label);
    }
}

/* NDJSON from f, the lines before lineno already read. */
static void
s_ndjson(struct publish *p, FILE *f, long lineno)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!p->stop && (len = getline(&line, &cap, f)) >= 0)
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
s_array(struct publish *p, json_t *doc)
{
    char label[512];
    json_t *e;
    size_t i;
    p->array = true;
    json_array_foreach(doc, i, e) {
        snprintf(label, sizeof(label), "%s: entry #%zu", p->file, i + 1);
        if (json_is_object(e)) {
            s_take(p, json_incref(e), label);
        } else {
            p->total++;
            s_reject(p, label, NULL, "not a JSON object");
        }
        if (p->stop)
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
s_document(struct publish *p, char *buf, size_t len, long skipped)
{
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, 0, &jerr);

    if (json_is_array(doc)) {
        s_array(p, doc);
    } else if (json_is_object(doc)) {
        s_take(p, json_incref(doc), p->file);
    } else if (doc != NULL) {
        p->total++;
        s_reject(p, p->file, NULL, "expected a JSON object, an array of objects, or NDJSON");
    } else if (s_looks_ndjson(buf)) {
        FILE *f = fmemopen(buf, len, "r");
        if (f == NULL)
            abort();
        s_ndjson(p, f, skipped);
        fclose(f);
    } else {
        p->total++;
        p->rejected++;
        cli_warn("%s:%d:%d: invalid JSON: %s", p->file, jerr.line + (int)skipped, jerr.column, jerr.text);
    }
    json_decref(doc);
}

/* Reads f and hands every entry to s_take. A UTF-8 byte order mark at the
 * start (spreadsheet exports write one) is skipped. */
static void
s_read(struct publish *p, FILE *f)
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
    pp->quiet = false;
    s_read(pp, f);
    if (ferror(f)) {
        cli_warn("%s: read error: %s", pp->file, strerror(errno));
        pp->rejected++;
    }
    publish_flush(pp);
    if (pp->total == 0 && !ferror(f))
        cli_warn("%s: no entries", pp->file);
    if (pp->total > 1)
        fprintf(stderr, "published %zu: %zu new, %zu updated, %zu unchanged, %zu rejected\n",
                pp->total, pp->n_new, pp->n_updated, pp->n_unchanged, pp->rejected);
    int rc = (pp->rejected > 0 || pp->total == 0 || pp->stop) ? 1 : 0;
    if (!is_stdin)
        fclose(f);
    publish_destroy(&pp);
    client_close(&c);
    return rc;
}
