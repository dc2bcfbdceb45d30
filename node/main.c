/*
 * main.c: socdir-node, the daemon. Subcommands:
 *   init DIR [--name NAME] [--country CC] [--region NUTS] [--listen EP] [--query EP]
 *   id DIR
 *   check --config FILE
 *   run --config FILE [--verbose]
 *   backup --config FILE OUT
 *   restore --config FILE [--force] BACKUP
 */
#include "conf.h"
#include "ident.h"
#include "links.h"
#include "log.h"
#include "node.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
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
    "Every command takes --help.\n";

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
    node_destroy(&node);
    return rc;
}

static const char s_backup_help[] =
    "usage: socdir-node backup --config FILE OUT\n"
    "\n"
    "Copies the database of the node FILE configures into OUT, also while the node runs\n"
    "(SQLite's online backup: one consistent snapshot; the node goes on writing). Refuses\n"
    "to overwrite OUT; writes OUT.tmp, fsyncs it, renames it. The copy is marked: a node\n"
    "started on it restores its own entries from its members before it takes local\n"
    "writes. Copying socdir.db with cp is not a backup: recent commits are in socdir.db-wal.\n";

static const char s_restore_help[] =
    "usage: socdir-node restore --config FILE [--force] BACKUP\n"
    "\n"
    "Puts a copy of BACKUP (a database of this node, e.g. made by socdir-node backup)\n"
    "in place of DATA/socdir.db. The node must be stopped. The database it replaces is\n"
    "kept as DATA/socdir.db.before-restore; if that file exists, restore refuses unless\n"
    "--force, which replaces it. At its next start the node restores its own entries\n"
    "from its members before it takes local writes, and continues above every sequence\n"
    "number they hold, so the federation does not fork.\n";

/* Parses --config FILE [--force] ARG for backup and restore. Returns the
 * config and sets *arg, or NULL with *rc the exit status. */
static conf_t *
s_copy_args(const char *cmd, const char *help, int argc, char **argv, const char **arg,
            bool *force, int *rc)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' }, { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    const char *path = NULL;
    char err[1024];
    int ch;

    *rc = 1;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'f':
            if (force == NULL)
                goto usage;
            *force = true;
            break;
        case 'h': fputs(help, stdout); *rc = 0; return NULL;
        default: goto usage;
        }
    }
    if (path == NULL || optind + 1 != argc)
        goto usage;
    *arg = argv[optind];
    conf_t *conf = conf_load(path, err, sizeof(err));
    if (conf == NULL)
        fprintf(stderr, "socdir-node %s: %s\n", cmd, err);
    return conf;
usage:
    fprintf(stderr, "%.*s", (int)strcspn(help, "\n") + 1, help);
    return NULL;
}

static void
s_print_copy(const char *what, const char *file, const store_copy_info_t *info, uint64_t us)
{
    printf("%s %s: %llu entries (%llu with deletions), this node's own seq up to %llu,"
           " %llu bytes, %.0f ms\n", what, file, (unsigned long long)info->entries,
           (unsigned long long)info->versions, (unsigned long long)info->own_max,
           (unsigned long long)info->bytes, (double)us / 1e3);
}

static int
cmd_backup(int argc, char **argv)
{
    const char *out;
    char db[4096], err[1024];
    store_copy_info_t info;
    int rc;
    conf_t *conf = s_copy_args("backup", s_backup_help, argc, argv, &out, NULL, &rc);
    if (conf == NULL)
        return rc;
    snprintf(db, sizeof(db), "%s/socdir.db", conf->data);
    uint64_t t0 = mono_us();
    rc = store_backup(db, out, &info, err, sizeof(err));
    if (rc == 0)
        s_print_copy("backup", out, &info, mono_us() - t0);
    else
        fprintf(stderr, "socdir-node backup: %s\n", err);
    conf_free(&conf);
    return rc == 0 ? 0 : 1;
}

/* Takes DATA/lock as the node does: -1 (said) if a node runs there. */
static int
s_lock_data(const char *data)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/lock", data);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "socdir-node restore: %s: %s\n", path, errno == EWOULDBLOCK
                ? "a socdir-node runs on this data directory; stop it first" : strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int
cmd_restore(int argc, char **argv)
{
    const char *backup;
    char db[4096], keep[4096], err[1024];
    bool force = false;
    store_copy_info_t info;
    int rc, lock = -1;
    ident_t *ident = NULL;
    conf_t *conf = s_copy_args("restore", s_restore_help, argc, argv, &backup, &force, &rc);
    if (conf == NULL)
        return rc;
    rc = 1;
    if ((ident = ident_load(conf->data, err, sizeof(err))) == NULL) {
        fprintf(stderr, "socdir-node restore: %s\n", err);
        goto out;
    }
    if ((lock = s_lock_data(conf->data)) < 0)
        goto out;
    snprintf(db, sizeof(db), "%s/socdir.db", conf->data);
    snprintf(keep, sizeof(keep), "%s/socdir.db.before-restore", conf->data);
    uint64_t t0 = mono_us();
    if (store_restore(backup, db, keep, ident_id(ident), force, &info, err, sizeof(err)) != 0) {
        fprintf(stderr, "socdir-node restore: %s\n", err);
        goto out;
    }
    s_print_copy("restored", db, &info, mono_us() - t0);
    if (access(keep, F_OK) == 0)
        printf("the database it replaced is %s\n", keep);
    printf("at its next start the node restores its own entries from its members before it"
           " takes local writes\n");
    rc = 0;
out:
    if (lock >= 0)
        close(lock);
    ident_destroy(&ident);
    conf_free(&conf);
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
    { "backup", cmd_backup },
    { "restore", cmd_restore },
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
    for (const struct cmd *c = s_cmds; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0)
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "socdir-node: unknown command '%s'\n", argv[1]);
    return s_usage_exit(1);
}
