/*
 * publish.c: the batch sender that publish and import share. A publish_t
 * takes entries one at a time, checks each with entry_validate and its
 * encoded size, and sends the good ones in batches of at most
 * MSG_BATCH_MAX entries and BATCH_BYTES bytes, so a request stays within
 * MSG_MAX even when entries are near ENTRY_BODY_MAX. Only the body fields
 * with id and kind are sent: read-only fields of an exported entry
 * (origin, seq, ...) would be dropped by the node anyway. One batch is in
 * flight while the next is filled. It counts what the node made of each
 * entry; publish has it print a line per stored entry and rejects on
 * stderr, import has it print nothing per entry and report rejects
 * through a callback, and with no client it only checks (--dry-run). It
 * reads no files (records.c does).
 */
#include "publish.h"
#include "cli.h"
#include "entry.h"
#include "envelope.h"
#include "mpjson.h"
#include "msg.h"
#include "util.h"

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
        cli_note(p->c);
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
    if (!sent) {
        cli_warn("%s", err);
        cli_note(p->c);
    }
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

/* The encoded size of an entry's payload as the node will sign it, at
 * most (envelope_payload_bound). */
static size_t
s_encoded_size(const json_t *body, const char *id, const char *kind)
{
    msgpack_sbuffer sb;
    char err[ENTRY_ERR_MAX];
    if (mpjson_encode(body, &sb, err, sizeof(err)) != 0)
        return (size_t)-1;  /* only for nesting, which s_take checked */
    size_t n = envelope_payload_bound(id, kind, sb.size);
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

/* ---- the batch sender, for publish and import (publish.h) ---- */

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

const char *
publish_file(const publish_t *p)
{
    return p->file;
}

void
publish_set_quiet(publish_t *p, bool quiet)
{
    p->quiet = quiet;
}

void
publish_set_numbered(publish_t *p, bool numbered)
{
    p->array = numbered;
}

void
publish_add_counts(publish_t *p, size_t total, size_t rejected)
{
    p->total += total;
    p->rejected += rejected;
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
