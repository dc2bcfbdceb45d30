/*
 * publish.h: the batch sender of publish and import (publish.c). A
 * publish_t checks each entry it is given (entry_validate, nesting, size)
 * and sends the good ones to the node in batches within the request size
 * limits, counting what the node made of them.
 */
#ifndef SOCDIR_PUBLISH_H
#define SOCDIR_PUBLISH_H

#include "client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct publish publish_t;

/* Reports an entry that was not stored: label says where it was read,
 * id is NULL when it has none, why is the reason. */
typedef void (*publish_reject_fn)(void *arg, const char *label, const char *id,
                                  const char *why);

typedef struct {
    size_t total;       /* entries taken or rejected */
    size_t checked;     /* passed the local checks (queued or, dry run, not sent) */
    size_t n_new, n_updated, n_unchanged, rejected;
} publish_counts_t;

/* A new sender to client c (borrowed), or with c NULL a dry run that only
 * checks. file names the input in messages. Rejected entries go to
 * on_reject(arg, ...), or with on_reject NULL to stderr as publish prints
 * them. Nothing is printed on stdout. Caller destroys it. */
publish_t *publish_new(client_t *c, const char *file, publish_reject_fn on_reject, void *arg);

/* Takes entry e (reference stolen) read at label: checks it and queues it,
 * sending the batch when full. Returns 0 if it passed the local checks, -1
 * if it was rejected (reported). After the node failed, every entry is
 * counted as rejected without a report (see publish_stopped). */
int publish_take(publish_t *p, json_t *e, const char *label);

/* Counts and reports an entry rejected before publish_take (unreadable). */
void publish_reject(publish_t *p, const char *label, const char *id, const char *why);

/* Sends what is queued and waits for the node's answer. */
void publish_flush(publish_t *p);

/* True once a call to the node failed as a whole (it said why on stderr). */
bool publish_stopped(const publish_t *p);

void publish_counts(const publish_t *p, publish_counts_t *out);

/* The input's name given to publish_new, lent. */
const char *publish_file(const publish_t *p);

/* With quiet false, prints "ID<TAB>STATUS<TAB>seq N" on stdout for each
 * stored entry (publish); publish_new makes it quiet (import). */
void publish_set_quiet(publish_t *p, bool quiet);

/* With numbered true, labels say "FILE: entry #N" and rejects on stderr
 * are "LABEL 'ID': why" rather than "LABEL: entry 'ID': why". */
void publish_set_numbered(publish_t *p, bool numbered);

/* Adds to the counts what the caller rejected and reported itself: total
 * entries read, and rejected (which may count a failed read, no entry). */
void publish_add_counts(publish_t *p, size_t total, size_t rejected);

/* Frees the sender (unsent entries are dropped: flush first). */
void publish_destroy(publish_t **self_p);

#endif
