/*
 * main.c: socdir-node, the daemon. Subcommands:
 *   init DIR [--name NAME] [--country CC] [--region NUTS] [--listen EP] [--query EP]
 *   id DIR
 *   check --config FILE
 *   run --config FILE [--verbose]
 * and --version, --help.
 */
#include "conf.h"
#include "entry.h"
#include "ident.h"
#include "links.h"
#include "log.h"
#include "node.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zmq.h>

static const char s_usage[] =
    "usage: socdir-node COMMAND [options]\n"
    "\n"
    "  init DIR [--name NAME] [--country CC] [--region NUTS] [--listen EP] [--query EP]\n"
    "                        new node key, empty database and DIR/node.conf; prints the node id\n"
    "  id DIR                print the node id of the node in DIR\n"
    "  check --config FILE   report every problem of a configuration and exit\n"
    "  run --config FILE [--verbose]\n"
    "                        run the node in the foreground; stop with SIGTERM or SIGINT;\n"
    "                        SIGHUP reloads name, country, region, query_rate and the\n"
    "                        members (data, listen, query, restore_wait need a restart)\n"
    "\n"
    "Every command takes --help. socdir-node --version prints the version.\n";

static int
s_usage_exit(int rc)
{
    fputs(s_usage, rc ? stderr : stdout);
    return rc;
}

/* What init made, so that a failure removes it all again. */
struct made {
    const char *dir;
    bool dir_made;          /* DIR did not exist before */
    bool key, conf, db;     /* files written */
};

/* Removes what init made (a failed init leaves DIR as it found it). */
static void
s_unmake(const struct made *m)
{
    static const char *const db_files[] = { "socdir.db", "socdir.db-wal", "socdir.db-shm",
                                            "socdir.db-journal", NULL };
    char path[4096];
    if (m->key) {
        snprintf(path, sizeof(path), "%s/" IDENT_FILE, m->dir);
        unlink(path);
    }
    if (m->conf) {
        snprintf(path, sizeof(path), "%s/node.conf", m->dir);
        unlink(path);
    }
    for (int i = 0; m->db && db_files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", m->dir, db_files[i]);
        unlink(path);
    }
    if (m->dir_made)
        rmdir(m->dir);
}

/* Checks every init argument as the config will check it; prints each
 * problem. Returns the number of problems. */
static int
s_init_check(const char *dir, const char *const *keys, const char *const *values, size_t n)
{
    char why[512], path[4096];
    const char *country = NULL, *region = NULL;
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        if (values[i] == NULL)
            continue;
        if (conf_check_value(keys[i], values[i], why, sizeof(why)) != 0) {
            fprintf(stderr, "socdir-node init: --%s: %s\n", keys[i], why);
            bad++;
        } else if (strcmp(keys[i], "country") == 0) {
            country = values[i];
        } else if (strcmp(keys[i], "region") == 0) {
            region = values[i];
        }
    }
    if (country && region && entry_check_region(country, region, why, sizeof(why)) != 0) {
        fprintf(stderr, "socdir-node init: --region: %s\n", why);
        bad++;
    }
    static const char *const files[] = { IDENT_FILE, "node.conf", "socdir.db", NULL };
    for (int i = 0; files[i]; i++) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (lstat(path, &st) == 0) {
            fprintf(stderr, "socdir-node init: %s exists already; refusing to overwrite it\n", path);
            bad++;
        }
    }
    return bad;
}

/* init checks every argument first and writes nothing when one is wrong;
 * a write that fails midway removes what init made before it. */
static int
cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' }, { "country", required_argument, NULL, 'c' },
        { "region", required_argument, NULL, 'r' }, { "listen", required_argument, NULL, 'l' },
        { "query", required_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    static const char *const keys[] = { "name", "country", "region", "listen", "query" };
    const char *values[5] = { NULL };
    char err[512], path[4096];
    int ch;

    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': values[0] = optarg; break;
        case 'c': values[1] = optarg; break;
        case 'r': values[2] = optarg; break;
        case 'l': values[3] = optarg; break;
        case 'q': values[4] = optarg; break;
        case 'h':
            printf("usage: socdir-node init DIR [--name NAME] [--country CC] [--region NUTS]"
                   " [--listen EP] [--query EP]\n\n"
                   "Creates DIR with a new Ed25519 node key (DIR/node.key, mode 0600), an empty\n"
                   "database and a commented starter config DIR/node.conf, and prints the node id.\n"
                   "Every argument is checked first, as the config file would be (country and\n"
                   "region codes, endpoints to bind, a name without control characters or a\n"
                   "';' after a blank); when one is wrong, or a write fails, nothing is left\n"
                   "behind. Refuses to overwrite an existing key, config or database.\n");
            return 0;
        default:
            return s_usage_exit(1);
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "socdir-node init: expected one DIR\n");
        return 1;
    }
    const char *dir = argv[optind];
    if (values[0] == NULL)
        values[0] = "socdir node";
    if (s_init_check(dir, keys, values, 5) > 0) {
        fprintf(stderr, "socdir-node init: nothing was created\n");
        return 1;
    }
    struct made made = { .dir = dir, .dir_made = access(dir, F_OK) != 0 };
    ident_t *ident = ident_create(dir, err, sizeof(err));
    store_t *store = NULL;
    conf_t *conf = NULL;
    if (ident == NULL)
        goto fail;
    made.key = true;
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    if (conf_write_starter(path, values[0], values[1], values[2], ".", values[3], values[4], err,
                           sizeof(err)) != 0)
        goto fail;
    made.conf = true;
    /* Check what was written, as the node will read it. */
    if ((conf = conf_load(path, err, sizeof(err))) == NULL)
        goto fail;
    conf_free(&conf);
    snprintf(path, sizeof(path), "%s/socdir.db", dir);
    made.db = true;
    store = store_open(path, err, sizeof(err));
    if (store == NULL)
        goto fail;
    if (store_meta_set(store, "node_id", ident_id(ident)) != 0) {
        snprintf(err, sizeof(err), "%s", store_errmsg(store));
        goto fail;
    }
    store_close(&store);
    printf("%s\n", ident_id(ident));
    ident_destroy(&ident);
    return 0;
fail:
    fprintf(stderr, "socdir-node init: %s\n", err);
    store_close(&store);
    ident_destroy(&ident);
    s_unmake(&made);
    fprintf(stderr, "socdir-node init: nothing was left in %s\n", dir);
    return 1;
}

static int
cmd_id(int argc, char **argv)
{
    char err[512];
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        printf("usage: socdir-node id DIR\n\nPrints the node id (public key) of the node in DIR.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: socdir-node id DIR\n");
        return 1;
    }
    ident_t *ident = ident_load(argv[1], err, sizeof(err));
    if (ident == NULL) {
        fprintf(stderr, "socdir-node id: %s\n", err);
        return 1;
    }
    printf("%s\n", ident_id(ident));
    ident_destroy(&ident);
    return 0;
}

/* Prints a conf_load error, one problem a line. Returns how many. */
static int
s_print_problems(const char *err)
{
    int n = 0;
    for (const char *line = err; *line; n++) {
        size_t len = strcspn(line, "\n");
        fprintf(stderr, "%.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
    return n;
}

/* Parses --config FILE [--verbose]; returns the config or NULL. */
static conf_t *
s_config_args(const char *cmd, int argc, char **argv, bool *verbose, int *rc)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    const char *path = NULL;
    char err[8192];
    int ch;

    *rc = 1;
    while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'v': if (verbose) *verbose = true; break;
        case 'h':
            printf("usage: socdir-node %s --config FILE%s\n", cmd, verbose ? " [--verbose]" : "");
            *rc = 0;
            return NULL;
        default:
            return NULL;
        }
    }
    if (path == NULL || optind != argc) {
        fprintf(stderr, "usage: socdir-node %s --config FILE\n", cmd);
        return NULL;
    }
    conf_t *conf = conf_load(path, err, sizeof(err));
    if (conf == NULL) {
        int n = s_print_problems(err);
        fprintf(stderr, "socdir-node %s: %s: %d problem%s in the configuration\n", cmd, path, n,
                n == 1 ? "" : "s");
    }
    return conf;
}

/* check: every problem run would meet in the config (conf_load), then
 * what run checks beyond it: the node key in DATA and the process's
 * limits for the members to dial. */
static int
cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = NULL;
    char err[8192];
    int ch;

    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'h':
            printf("usage: socdir-node check --config FILE\n\n"
                   "Reports every problem run would meet, each as FILE:LINE: message: unknown\n"
                   "keys and sections, bad values, endpoints libzmq would refuse, a section or\n"
                   "key given twice, a member listed twice or the node itself as a member, a\n"
                   "';' after a blank (inih would cut the value there), a missing or unreadable\n"
                   "node key, more members to dial than the open-file limit allows.\n"
                   "Exit status 0 when there is none.\n");
            return 0;
        default:
            return 1;
        }
    }
    if (path == NULL || optind != argc) {
        fprintf(stderr, "usage: socdir-node check --config FILE\n");
        return 1;
    }
    int problems = 0;
    conf_t *conf = conf_load(path, err, sizeof(err));
    if (conf == NULL) {
        problems = s_print_problems(err);
        fprintf(stderr, "socdir-node check: %s: %d problem%s; the node would not start\n", path,
                problems, problems == 1 ? "" : "s");
        return 1;
    }
    ident_t *ident = ident_load(conf->data, err, sizeof(err));
    if (ident == NULL) {
        fprintf(stderr, "%s: %s\n", conf->path, err);
        problems++;
    }
    ident_destroy(&ident);
    /* The limits of this process, as run would have them under the same
     * ulimit (a unit's LimitNOFILE= may differ). */
    long files, sockets;
    void *zctx = zmq_ctx_new();
    links_limits(zctx, &files, &sockets);
    zmq_ctx_term(zctx);
    if (links_fit(conf, files, sockets, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", conf->path, err);
        problems++;
    }
    if (problems > 0) {
        fprintf(stderr, "socdir-node check: %s: %d problem%s; the node would not start\n",
                conf->path, problems, problems == 1 ? "" : "s");
        conf_free(&conf);
        return 1;
    }
    printf("%s: configuration OK (node \"%s\", %zu member%s, data %s)\n", conf->path, conf->name,
           conf->nmembers, conf->nmembers == 1 ? "" : "s", conf->data);
    conf_free(&conf);
    return 0;
}

static int
cmd_run(int argc, char **argv)
{
    bool verbose = false;
    int rc;
    char err[1024];
    conf_t *conf = s_config_args("run", argc, argv, &verbose, &rc);
    if (conf == NULL)
        return rc;
    log_init(verbose);
    node_t *node = node_new(&conf, err, sizeof(err));
    if (node == NULL) {
        conf_free(&conf);
        fatalx("%s", err);
    }
    rc = node_run(node) == 0 ? 0 : 1;
    sd_notify(0, "STOPPING=1");     /* the loop is done: closing sockets and database */
    node_destroy(&node);
    return rc;
}

static const struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
} s_cmds[] = {
    { "init", cmd_init },
    { "id", cmd_id },
    { "check", cmd_check },
    { "run", cmd_run },
    { NULL, NULL }
};

int
main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "socdir-node: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2)
        return s_usage_exit(1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
        return s_usage_exit(0);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("socdir-node %s\n", socdir_version);
        return 0;
    }
    for (const struct cmd *c = s_cmds; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "socdir-node: unknown command '%s'\n", argv[1]);
    return s_usage_exit(1);
}
