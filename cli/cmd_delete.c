/*
 * cmd_delete.c: delete ID..., tombstones for entries of this node.
 * Ids are checked here (a malformed one cannot name an entry) and the
 * good ones sent in batches of MSG_BATCH_MAX. Each id gets its own line:
 * "ID<TAB>deleted<TAB>seq N" on stdout, or "socdir: delete 'ID': why" on
 * stderr. An id the node is silent about counts as failed.
 */
#include "cli.h"
#include "entry.h"
#include "msg.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>

struct deleted {
    char **ids;             /* the ids of the batch */
    size_t failed;          /* how many the node refused */
};

/* What became of one id: "ID<TAB>deleted<TAB>seq N", or the node's reason. */
static void
s_deleted(void *arg, size_t ix, const char *status, long long seq, const char *error)
{
    struct deleted *d = arg;
    if (error != NULL) {
        cli_warn("delete '%s': %s", d->ids[ix], error);
        d->failed++;
    } else {
        printf("%s\t%s\tseq %lld\n", d->ids[ix], status, seq);
    }
}

/* Sends one batch of ids and prints what became of each. Returns the
 * number of ids that were not deleted. */
static size_t
s_delete_batch(client_t *c, char **ids, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)  /* ids are ASCII: json_string cannot fail */
        json_array_append_new(list, json_string(ids[i]));
    json_t *req = json_pack("{s:s, s:o}", "op", "delete", "ids", list);
    json_t *reply = cli_call(c, req);
    bool *seen = xcalloc(n, sizeof(*seen));
    struct deleted d = { .ids = ids, .failed = 0 };
    size_t i;

    if (reply != NULL)
        cli_results(reply, n, seen, s_deleted, &d);
    size_t failed = d.failed;
    /* Ids the node said nothing about count as failed. */
    bool answered = reply != NULL && json_is_array(json_object_get(reply, "results"));
    for (i = 0; i < n; i++) {
        if (!seen[i] && answered)
            cli_warn("delete '%s': the node did not answer for it", ids[i]);
        failed += !seen[i];
    }
    free(seen);
    json_decref(reply);
    json_decref(req);
    return failed;
}

int
cmd_delete(int argc, char **argv)
{
    static const struct cli_flag flags[] = { { NULL, NULL } };
    int n, rc = cli_id_args("delete", argc, argv, flags, entry_id_valid, &n);
    if (rc >= 0)
        return rc;
    if (n == 0)
        return cli_usage_error("delete", "expected at least one ID");

    client_t *c = cli_connect();
    if (c == NULL)
        return 1;
    /* Ids that cannot be valid are reported here and not sent. */
    char **ids = xcalloc((size_t)n, sizeof(*ids));
    size_t nids = 0, failed = 0;
    for (int i = 1; i <= n; i++) {
        if (entry_id_valid(argv[i])) {
            ids[nids++] = argv[i];
        } else {
            cli_warn("delete '%s': not a valid id (1-%d of A-Z a-z 0-9 . _ -)", argv[i],
                     ENTRY_ID_MAX);
            failed++;
        }
    }
    for (size_t at = 0; at < nids; at += MSG_BATCH_MAX)
        failed += s_delete_batch(c, ids + at, nids - at < MSG_BATCH_MAX ? nids - at : MSG_BATCH_MAX);
    free(ids);
    client_close(&c);
    return failed ? 1 : 0;
}
