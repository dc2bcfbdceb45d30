/*
 * main.c: socdir-node, the daemon. Subcommands:
 *   init DIR [--name NAME] [--country CC] [--region NUTS] [--listen EP] [--query EP]
 *   id DIR
 *   check --config FILE
 *   run --config FILE [--verbose]
 * and --version, --help.
 */
#include "conf.h"
#include "ident.h"
#include "links.h"
#include "log.h"
#include "node.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
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
    "  check --config FILE   validate a configuration and exit\n"
    "  run --config FILE [--verbose]\n"
    "                        run the node in the foreground; stop with SIGTERM or SIGINT\n"
    "\n"
    "Every command takes --help. socdir-node --version prints the version.\n";

static int
s_usage_exit(int rc)
{
    fputs(s_usage, rc ? stderr : stdout);
    return rc;
}

static int
cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' }, { "country", required_argument, NULL, 'c' },
        { "region", required_argument, NULL, 'r' }, { "listen", required_argument, NULL, 'l' },
        { "query", required_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *name = NULL, *country = NULL, *region = NULL, *listen = NULL, *query = NULL;
    char err[512], path[4096];
    int ch;

    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': name = optarg; break;
        case 'c': country = optarg; break;
        case 'r': region = optarg; break;
        case 'l': listen = optarg; break;
        case 'q': query = optarg; break;
        case 'h':
            printf("usage: socdir-node init DIR [--name NAME] [--country CC] [--region NUTS]"
                   " [--listen EP] [--query EP]\n\n"
                   "Creates DIR with a new Ed25519 node key (DIR/node.key, mode 0600), an empty\n"
                   "database and a commented starter config DIR/node.conf, and prints the node id.\n"
                   "Refuses to overwrite an existing key.\n");
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
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "socdir-node init: %s exists already; refusing to overwrite it\n", path);
        return 1;
    }
    ident_t *ident = ident_create(dir, err, sizeof(err));
    if (ident == NULL) {
        fprintf(stderr, "socdir-node init: %s\n", err);
        return 1;
    }
    if (conf_write_starter(path, name ? name : "socdir node", country, region, ".", listen,
                           query, err, sizeof(err)) != 0) {
        fprintf(stderr, "socdir-node init: %s\n", err);
        ident_destroy(&ident);
        return 1;
    }
    /* Check what was written, as the node will read it. */
    conf_t *conf = conf_load(path, err, sizeof(err));
    if (conf == NULL) {
        fprintf(stderr, "socdir-node init: %s\n", err);
        ident_destroy(&ident);
        return 1;
    }
    conf_free(&conf);
    snprintf(path, sizeof(path), "%s/socdir.db", dir);
    store_t *store = store_open(path, err, sizeof(err));
    if (store == NULL || store_meta_set(store, "node_id", ident_id(ident)) != 0) {
        fprintf(stderr, "socdir-node init: %s\n", store ? store_errmsg(store) : err);
        store_close(&store);
        ident_destroy(&ident);
        return 1;
    }
    store_close(&store);
    printf("%s\n", ident_id(ident));
    ident_destroy(&ident);
    return 0;
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

/* Parses --config FILE [--verbose]; returns the config or NULL. */
static conf_t *
s_config_args(const char *cmd, int argc, char **argv, bool *verbose, int *rc)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    const char *path = NULL;
    char err[1024];
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
    if (conf == NULL)
        fprintf(stderr, "socdir-node %s: %s\n", cmd, err);
    return conf;
}

static int
cmd_check(int argc, char **argv)
{
    int rc;
    conf_t *conf = s_config_args("check", argc, argv, NULL, &rc);
    if (conf == NULL)
        return rc;
    /* The limits of this process, as run would have them under the same
     * ulimit (a unit's LimitNOFILE= may differ). */
    char err[512];
    long files, sockets;
    void *zctx = zmq_ctx_new();
    links_limits(zctx, &files, &sockets);
    zmq_ctx_term(zctx);
    if (links_fit(conf, files, sockets, err, sizeof(err)) != 0) {
        fprintf(stderr, "socdir-node check: %s: %s\n", conf->path, err);
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
