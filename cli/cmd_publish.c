/*
 * cmd_publish.c: publish FILE|-, entries from JSON to the node.
 *
 * The input is one JSON object, an array of objects, or NDJSON, told
 * apart and read by records_entries (records.c); NDJSON is streamed, so a
 * file of a million entries needs memory for one batch only.
 *
 * Each entry read goes to the batch sender (publish.c), which checks it,
 * sends it and prints "ID<TAB>STATUS<TAB>seq N"; a bad one is reported with
 * where it came from ("FILE:LINE:", "FILE: entry #N:") and not sent.
 */
#include "cli.h"
#include "publish.h"
#include "records.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

/* An entry read at label, for the sender (which takes its own reference:
 * the reader keeps and frees e). */
static void
s_entry(void *arg, const json_t *e, const char *label, double lat, double lon)
{
    (void)lat, (void)lon;
    publish_take(arg, json_incref((json_t *)e), label);
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
    records_sink_t to = { .file = publish_file(pp), .pub = pp, .record = s_entry, .arg = pp };
    records_entries(&to, f);
    if (ferror(f)) {
        cli_warn("%s: read error: %s", publish_file(pp), strerror(errno));
        publish_add_counts(pp, 0, 1);
    }
    publish_flush(pp);
    publish_counts_t n;
    publish_counts(pp, &n);
    if (n.total == 0 && !ferror(f))
        cli_warn("%s: no entries", publish_file(pp));
    if (n.total > 1 || n.rejected > 0)
        fprintf(stderr, "published %zu: %zu new, %zu updated, %zu unchanged, %zu rejected\n",
                n.total, n.n_new, n.n_updated, n.n_unchanged, n.rejected);
    int rc = (n.rejected > 0 || n.total == 0 || publish_stopped(pp)) ? 1 : 0;
    if (!is_stdin)
        fclose(f);
    publish_destroy(&pp);
    client_close(&c);
    return rc;
}
