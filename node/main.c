/*
 * main.c: socdir-node, the daemon. Subcommands:
 *   init DIR [--name NAME] [--country CC] [--region NUTS] [--listen EP] [--query EP]
 *   id DIR
 *   check --config FILE
 *   run --config FILE [--verbose]
 *   backup --config FILE OUT
 *   restore --config FILE [--force] BACKUP
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
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
                   "missing or unreadable node key, more members to dial than the open-file\n"
                   "limit allows. A ';' after a blank in a value (inih cuts the value there) is\n"
                   "a warning, with the value as it is read. Exit status 0 when there is no\n"
                   "problem.\n");
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
    if (conf->warnings != NULL)
        fprintf(stderr, "%s\n", conf->warnings);
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
    for (char *w = conf->warnings ? strtok(conf->warnings, "\n") : NULL; w; w = strtok(NULL, "\n"))
        log_warnx("%s", w);
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
