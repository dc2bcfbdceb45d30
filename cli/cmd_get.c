/*
 * cmd_get.c: get [--json] [ORIGIN/]ID, one entry and its provenance.
 * The reply's entry is printed as it came: --json for scripts, else the
 * text view of render_entry_text with its provenance. An entry from a
 * peer names it by node id ("via"); the text view adds the member's name
 * from the node's peers list when the node still has that member. What
 * the node answers is checked for type before use, so a malformed reply
 * gives a message, not a crash.
 */
#include "cli.h"
#include "entry.h"
#include "render.h"
#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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
