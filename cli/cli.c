/*
 * cli.c: what every command that talks to the node shares: which node
 * that is (set once by main from --node or $SOCDIR_NODE), opening the
 * connection, a call that says why it failed, and walking the per-item
 * results of a publish or delete reply. It does not parse command lines
 * or print usage (main.c) and knows no command's request (cmd_*.c).
 */
#include "cli.h"

#include <stdio.h>

static const char *s_node;      /* --node, else $SOCDIR_NODE; NULL: none */
static int s_fault;             /* enum client_fault that ended the command, or 0 */

void
cli_set_node(const char *node)
{
    s_node = node;
}

client_t *
cli_open(char *err, size_t len)
{
    if (s_node == NULL) {
        snprintf(err, len, "no node given: use --node ENDPOINT|DIR or set SOCDIR_NODE");
        return NULL;
    }
    return client_open(s_node, NULL, err, len);
}

/* Opened by each command only after its arguments were found good, so
 * that a usage error never waits on a node. */
client_t *
cli_connect(void)
{
    char err[512];
    int fault = CLIENT_BAD_ARGS;
    client_t *c = s_node ? client_open(s_node, &fault, err, sizeof(err)) : NULL;
    if (s_node == NULL)
        snprintf(err, sizeof(err), "no node given: use --node ENDPOINT|DIR or set SOCDIR_NODE");
    if (c == NULL) {
        cli_warn("%s", err);
        s_fault = fault;
    }
    return c;
}

void
cli_note(const client_t *c)
{
    if (c != NULL && client_fault(c) == CLIENT_UNREACHABLE)
        s_fault = CLIENT_UNREACHABLE;
}

int
cli_exit_status(int rc)
{
    if (rc == CLI_OK || rc == CLI_USAGE)
        return rc;
    if (s_fault == CLIENT_UNREACHABLE)
        return CLI_UNREACHABLE;
    if (s_fault == CLIENT_BAD_ARGS)
        return CLI_USAGE;
    return rc;
}

json_t *
cli_call(client_t *c, const json_t *req)
{
    char err[1024];
    json_t *reply = client_call(c, req, err, sizeof(err));
    if (reply == NULL) {
        cli_warn("%s", err);
        cli_note(c);
    }
    return reply;
}

/* A result is {"index", "status", "seq"} or {"index", "error"}, and "id"
 * when the item had one; the index is what ties it to what was sent. */
static int
s_result(const json_t *r, size_t n, size_t *index, const char **status, long long *seq,
         const char **error)
{
    json_t *ix = json_object_get(r, "index");
    json_t *st = json_object_get(r, "status"), *sq = json_object_get(r, "seq");

    if (!json_is_integer(ix) || json_integer_value(ix) < 0 || (size_t)json_integer_value(ix) >= n)
        return -1;
    *index = (size_t)json_integer_value(ix);
    *error = json_string_value(json_object_get(r, "error"));
    if (*error != NULL)
        return 0;
    if (!json_is_string(st) || !json_is_integer(sq))
        return -1;
    *status = json_string_value(st);
    *seq = json_integer_value(sq);
    return 0;
}

void
cli_results(const json_t *reply, size_t n, bool *seen, cli_result_fn fn, void *arg)
{
    json_t *results = json_object_get(reply, "results"), *r;
    size_t i;

    if (!json_is_array(results))
        cli_warn("malformed reply: no results");
    json_array_foreach(results, i, r) {
        size_t ix;
        const char *status = NULL, *error = NULL;
        long long seq = 0;
        if (s_result(r, n, &ix, &status, &seq, &error) != 0 || seen[ix]) {
            cli_warn("malformed reply: bad result #%zu", i);
            continue;
        }
        seen[ix] = true;
        fn(arg, ix, status, seq, error);
    }
}
