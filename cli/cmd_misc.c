/*
 * cmd_misc.c: the small commands, get, delete and status. Each parses its
 * options, sends one request (delete: one per MSG_BATCH_MAX ids; get's
 * text view a second one to name the peer an entry came from) and prints
 * the reply; what a node answers is checked for type before use, so a
 * malformed reply gives a message, not a crash.
 */
#include "cli.h"
#include "entry.h"
#include "msg.h"
#include "render.h"
#include "util.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- get ----
 * The reply's entry is printed as it came: --json for scripts, else the
 * text view of render_entry_text with its provenance. An entry from a
 * peer names it by node id ("via"); the text view adds the member's name
 * from the node's peers list when the node still has that member.
 */

/* Seconds the text view waits for the peers list: a name is a nicety,
 * not worth the whole timeout of a node that is slow to answer. */
#define VIA_TIMEOUT 5

/* The name of the member whose node id is the entry's "via", or NULL
 * when it came from no peer ("local"), the member is gone or the node
 * does not say; the caller frees it. Failures print nothing. */
static char *
s_via_name(client_t *c, const json_t *entry)
{
    const char *via = json_string_value(json_object_get(entry, "via"));
    char err[256], *name = NULL;
    json_t *p;
    size_t i;

    if (via == NULL || strcmp(via, "local") == 0)
        return NULL;
    if (client_timeout(c) > VIA_TIMEOUT)
        client_set_timeout(c, VIA_TIMEOUT);
    json_t *req = json_pack("{s:s}", "op", "peers");
    json_t *reply = client_call(c, req, err, sizeof(err));
    json_t *peers = json_object_get(reply, "peers");
    json_array_foreach(peers, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *pname = json_string_value(json_object_get(p, "name"));
        if (name == NULL && id != NULL && pname != NULL && strcmp(id, via) == 0)
            name = xstrdup(pname);
    }
    json_decref(reply);
    json_decref(req);
    return name;
}

/* True if word has the shape of [ORIGIN/]ID: an id, after a node id and
 * '/' or alone. The node checks it again and says what is wrong. */
static bool
s_ref_valid(const char *word)
{
    const char *slash = strchr(word, '/');
    char oid[NODEID_LEN + 1];
    uint8_t key[32];

    if (slash == NULL)
        return entry_id_valid(word);
    if (slash - word != NODEID_LEN)
        return false;
    memcpy(oid, word, NODEID_LEN);
    oid[NODEID_LEN] = '\0';
    return key_from_id(oid, key) == 0 && entry_id_valid(slash + 1);
}

int
cmd_get(int argc, char **argv)
{
    bool json = false;
    const struct cli_flag flags[] = { { "--json", &json }, { NULL, NULL } };
    int n, rc = cli_id_args("get", argc, argv, flags, s_ref_valid, &n);
    if (rc >= 0)
        return rc;
    if (n != 1) {
        /* A mistyped option was taken for an id: name it. */
        for (int i = 1; i <= n; i++)
            if (argv[i][0] == '-')
                return cli_usage_error("get", "expected one [ORIGIN/]ID, got %d "
                                       "('%.64s' is not an option of get)", n, argv[i]);
        return cli_usage_error("get", "expected one [ORIGIN/]ID");
    }

    /* The node checks the reference and names what is wrong with it. */
    json_t *ref = json_string(argv[1]);
    if (ref == NULL)
        return cli_usage_error("get", "the id is not valid UTF-8");
    client_t *c = cli_connect();
    if (c == NULL)
        return json_decref(ref), 1;
    json_t *req = json_pack("{s:s, s:o}", "op", "get", "ref", ref);
    json_t *reply = cli_call(c, req);
    json_t *entry = json_object_get(reply, "entry");
    rc = 1;
    if (reply != NULL && !json_is_object(entry)) {
        cli_warn("malformed reply: no entry");
    } else if (reply != NULL) {
        if (json) {
            render_json(stdout, entry, 1);
        } else {
            char *via_name = s_via_name(c, entry);
            render_entry_text(stdout, entry, via_name);
            free(via_name);
        }
        rc = 0;
    }
    json_decref(reply);
    json_decref(req);
    client_close(&c);
    return rc;
}

/* ---- delete ----
 * Ids are checked here (a malformed one cannot name an entry) and the
 * good ones sent in batches. Each id gets its own line: "ID<TAB>deleted
 * <TAB>seq N" on stdout, or "socdir: delete 'ID': why" on stderr. An id
 * the node is silent about counts as failed.
 */

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

/* ---- status ----
 * Text for people: who the node is, how much it holds, the digest to
 * compare with other nodes, how it stands with its peers, then one row
 * per origin. --json prints the reply as it came, less its "ok".
 */

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
