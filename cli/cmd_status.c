/*
 * cmd_status.c: status [--json], what the node says about itself.
 * Text for people: who the node is, the version it runs and its
 * database schema, how much it holds, the digest to
 * compare with other nodes, how it stands with its peers, then one row
 * per origin. --json prints the reply as it came, less its "ok". A string
 * field the reply lacks (or holds as another type) prints as "?" or "-".
 */
#include "cli.h"
#include "render.h"

#include <getopt.h>
#include <stdbool.h>

/* Options of status: --json and --help. Returns -1 to go on with optind
 * at the first operand, else the exit status (0 after --help, 1 after a
 * bad option). get and delete take ids, which may start with '-', and
 * parse theirs with cli_id_args instead. */
static int
s_json_option(const char *cmd, int argc, char **argv, bool *json)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            *json = true;
            break;
        case 'h':
            return cli_help(cmd);
        default:
            return cli_bad_option(cmd, ch, argv);
        }
    }
    return -1;  /* go on */
}

/* A string field of a reply, or fallback when absent or not a string. */
static const char *
s_str(const json_t *obj, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : fallback;
}

/* The federation lines: members up, the newest pull from any of them,
 * forks seen (one line each: the origin that signed two versions under
 * one seq) and the restore of a node that lost its own entries. A node
 * from before replication sends none of these fields, and no line shows. */
static void
s_status_peers(const json_t *st)
{
    json_t *members = json_object_get(st, "members"), *up = json_object_get(st, "peers_up");
    json_t *forks = json_object_get(st, "forks"), *evidence = json_object_get(st, "fork_evidence");
    json_t *f;
    size_t i;

    if (json_is_integer(members) && json_is_integer(up)) {
        printf("peers: %lld of %lld up\n", (long long)json_integer_value(up),
               (long long)json_integer_value(members));
        printf("last sync: %s\n", s_str(st, "last_sync", "never"));
    } else if (json_is_integer(members)) {
        printf("members: %lld\n", (long long)json_integer_value(members));
    }
    if (json_integer_value(forks) > 0) {
        printf("forks: %lld\n", (long long)json_integer_value(forks));
        json_array_foreach(evidence, i, f)
            printf("  %s seq %lld\n", s_str(f, "origin", "?"),
                   (long long)json_integer_value(json_object_get(f, "seq")));
    }
    if (json_is_true(json_object_get(st, "restoring")))
        printf("restoring: yes (own entries are being restored from peers; writes are refused)\n");
}

static void
s_status_text(const json_t *st)
{
    json_t *origins = json_object_get(st, "origins"), *o;
    const char *country = s_str(st, "country", NULL), *region = s_str(st, "region", NULL);
    size_t i;
    char count[32], maxseq[32];

    printf("node %s (%s)\n", s_str(st, "name", "(no name)"), s_str(st, "id", "?"));
    if (json_is_string(json_object_get(st, "version")))   /* an older node sends neither */
        printf("version: %s, database schema: %s\n", s_str(st, "version", "?"), s_str(st, "schema", "?"));
    if (country != NULL || region != NULL)
        printf("country: %s, region: %s\n", country ? country : "-", region ? region : "-");
    printf("entries: %lld (versions: %lld)\n",
           (long long)json_integer_value(json_object_get(st, "entries")),
           (long long)json_integer_value(json_object_get(st, "versions")));
    printf("digest: %s\n", s_str(st, "digest", "?"));
    s_status_peers(st);
    if (json_array_size(origins) == 0)
        return;     /* a new node holds nothing yet */

    static const char *const head[] = { "NAME", "ID", "ENTRIES", "MAX_SEQ" };
    table_t *t = table_new(4, head);
    table_set_max(t, 0, 40);
    json_array_foreach(origins, i, o) {
        snprintf(count, sizeof(count), "%lld", (long long)json_integer_value(json_object_get(o, "count")));
        snprintf(maxseq, sizeof(maxseq), "%lld", (long long)json_integer_value(json_object_get(o, "max_seq")));
        const char *row[] = { s_str(o, "name", "-"), s_str(o, "id", "?"), count, maxseq };
        table_add(t, row);
    }
    putchar('\n');
    table_print(t, stdout);
    table_destroy(&t);
}

int
cmd_status(int argc, char **argv)
{
    bool json = false;
    int rc = s_json_option("status", argc, argv, &json);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);

    client_t *c = cli_connect();
    if (c == NULL)
        return 1;
    json_t *req = json_pack("{s:s}", "op", "status");
    json_t *reply = cli_call(c, req);
    rc = reply != NULL ? 0 : 1;
    if (reply != NULL) {
        json_object_del(reply, "ok");
        if (json)
            render_json(stdout, reply, 1);
        else
            s_status_text(reply);
    }
    json_decref(reply);
    json_decref(req);
    client_close(&c);
    return rc;
}
