/*
 * cmd_peers.c: the federation commands, peers and sync. peers shows each
 * member as the node sees it (link, sync state, what it sent and what
 * became of it); sync asks the node to pull from every reachable member
 * now and, with --wait, to answer only when those pulls are done. Neither
 * changes the node's data; both check the reply's shape before printing.
 * The counters of one member are the node's since it started.
 */
#include "cli.h"
#include "render.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Seconds sync --wait waits at least: the node answers when every pull
 * started after the request finished, or after its own 60 s limit. */
#define SYNC_TIMEOUT_MIN 90

/* The one boolean option of a command (--json, --wait) and --help.
 * Returns -1 to go on with optind at the first operand, else the exit
 * status (0 after --help, 1 after a bad option). */
static int
s_flag_option(const char *cmd, const char *flag, int argc, char **argv, bool *on)
{
    const struct option opts[] = {
        { flag, no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            *on = true;
            break;
        case 'h':
            return cli_help(cmd);
        default:
            return cli_bad_option(cmd, ch, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;  /* go on */
}

/* A string field of obj, or fallback when absent or not a string. */
static const char *
s_str(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

/* A counter of obj; 0 when absent (json_integer_value of NULL). */
static long long
s_count(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

/* ---- peers ----
 * One row per member. REFUSED adds up the entries the member sent that
 * failed a check (origin not a member, bad signature, invalid); ERRORS
 * adds malformed frames and other protocol errors. ENDPOINT "-" means
 * the member dials us. --json prints the reply, less its "ok".
 */

/* Adds the row of member p; returns -1 (adding nothing) if p is not an
 * object with a name and an id. */
static int
s_peer_row(table_t *t, const json_t *p)
{
    char received[24], stored[24], refused[24], errors[24];

    if (!json_is_string(json_object_get(p, "name")) || !json_is_string(json_object_get(p, "id")))
        return -1;
    snprintf(received, sizeof(received), "%lld", s_count(p, "received"));
    snprintf(stored, sizeof(stored), "%lld", s_count(p, "stored"));
    snprintf(refused, sizeof(refused), "%lld", s_count(p, "refused_origin") +
             s_count(p, "refused_signature") + s_count(p, "refused_invalid"));
    snprintf(errors, sizeof(errors), "%lld", s_count(p, "malformed") + s_count(p, "errors"));
    const char *row[] = {
        s_str(p, "name", "?"), json_is_true(json_object_get(p, "connected")) ? "yes" : "no",
        s_str(p, "state", "?"), s_str(p, "last_sync", "never"), received, stored, refused,
        errors, s_str(p, "endpoint", "-")
    };
    table_add(t, row);
    return 0;
}

/* Prints the table; returns the exit status (1 if a row was malformed,
 * after printing the good ones). */
static int
s_peers_table(const json_t *peers)
{
    static const char *const head[] = { "NAME", "CONNECTED", "STATE", "LAST SYNC",
        "RECEIVED", "STORED", "REFUSED", "ERRORS", "ENDPOINT" };
    json_t *p;
    size_t i;
    int rc = 0;

    if (json_array_size(peers) == 0) {
        printf("no members configured\n");
        return 0;
    }
    table_t *t = table_new(9, head);
    table_set_max(t, 0, 40);
    json_array_foreach(peers, i, p) {
        if (s_peer_row(t, p) != 0) {
            cli_warn("malformed reply: bad peer #%zu", i);
            rc = 1;
        }
    }
    table_print(t, stdout);
    table_destroy(&t);
    return rc;
}

int
cmd_peers(int argc, char **argv)
{
    bool json = false;
    int rc = s_flag_option("peers", "json", argc, argv, &json);
    if (rc >= 0)
        return rc;

    client_t *c = cli_connect();
    if (c == NULL)
        return 1;
    json_t *req = json_pack("{s:s}", "op", "peers");
    json_t *reply = cli_call(c, req);
    json_t *peers = json_object_get(reply, "peers");
    rc = 1;
    if (reply != NULL && !json_is_array(peers)) {
        cli_warn("malformed reply: no peers");
    } else if (reply != NULL && json) {
        json_object_del(reply, "ok");
        render_json(stdout, reply, 1);
        rc = 0;
    } else if (reply != NULL) {
        rc = s_peers_table(peers);
    }
    json_decref(reply);
    json_decref(req);
    client_close(&c);
    return rc;
}

/* ---- sync ----
 * Without --wait the node starts the pulls and answers at once; with it,
 * the reply comes when they are done, so the call may take up to the
 * node's 60 s limit and waits at least SYNC_TIMEOUT_MIN. Members the node
 * has no link to are not asked; if there are members but none is
 * reachable, sync --wait has achieved nothing and says so (status 1).
 */

/* Prints the outcome of reply; returns the exit status. */
static int
s_sync_result(const json_t *reply, bool wait)
{
    json_t *members = json_object_get(reply, "members");
    json_t *reachable = json_object_get(reply, "reachable");
    json_t *synced = json_object_get(reply, "synced");

    if (!json_is_integer(members) || !json_is_integer(reachable) ||
        (wait && !json_is_integer(synced))) {
        cli_warn("malformed reply: no members, reachable and synced counts");
        return 1;
    }
    long long n = json_integer_value(members), r = json_integer_value(reachable);
    if (wait)
        printf("synced with %lld of %lld reachable members (%lld configured)\n",
               (long long)json_integer_value(synced), r, n);
    else
        printf("sync started with %lld reachable members (%lld configured)\n", r, n);
    if (wait && r == 0 && n > 0) {
        fflush(stdout);     /* the result first, then why it failed */
        cli_warn("no member reachable");
        return 1;
    }
    return 0;
}

int
cmd_sync(int argc, char **argv)
{
    bool wait = false;
    int rc = s_flag_option("sync", "wait", argc, argv, &wait);
    if (rc >= 0)
        return rc;

    client_t *c = cli_connect();
    if (c == NULL)
        return 1;
    if (wait && client_timeout(c) < SYNC_TIMEOUT_MIN)
        client_set_timeout(c, SYNC_TIMEOUT_MIN);
    json_t *req = json_pack("{s:s, s:b}", "op", "sync", "wait", wait);
    json_t *reply = cli_call(c, req);
    rc = reply != NULL ? s_sync_result(reply, wait) : 1;
    json_decref(reply);
    json_decref(req);
    client_close(&c);
    return rc;
}
