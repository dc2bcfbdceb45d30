/*
 * main.c: socdir, the command-line client of a socdir node. main reads
 * the global options (--node), finds the command in s_cmds and calls it
 * with the remaining arguments, git style; the command parses its own
 * options. This file also owns how errors and usage look, so that every
 * command prints them the same way: one line on stderr starting
 * "socdir: " or "socdir CMD: ", usage on stderr and status 2 for a bad
 * command line, usage on stdout and status 0 for --help. The exit
 * statuses (cli.h): 0 success, 1 the request failed or some items were
 * rejected, 2 usage error, 3 node unreachable. Data goes to stdout;
 * summaries, progress and errors go to stderr.
 */
#include "cli.h"
#include "render.h"
#include "util.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef int (*cmd_fn)(int argc, char **argv);

/* The commands. A new one is a row here and a cmd_x function in a
 * cmd_*.c file; --help, "socdir help X" and usage errors come from the
 * row's texts, so they cannot disagree with each other. */
static const struct cmd {
    const char *name;
    cmd_fn fn;
    const char *usage;      /* synopsis, after "socdir " */
    const char *summary;    /* one line for the list of commands */
    const char *help;       /* what it does and its options */
} s_cmds[] = {
    { "publish", cmd_publish, "publish FILE|-", "publish entries from JSON or NDJSON",
      "Publish entries, signed by the node: one JSON object, an array of objects,\n"
      "or NDJSON (one object per line). Each entry is checked before it is sent;\n"
      "bad ones are reported with their line and not sent, good ones are stored.\n"
      "Prints ID, status (new, updated, unchanged) and sequence per stored entry\n"
      "on stdout, and the counts on stderr when more than one was read or any was\n"
      "rejected. Exit 1 if any was rejected.\n" },
    { "import", cmd_import, "import [OPTIONS] FILE", "load CSV, JSON, NDJSON or GeoJSON through a mapping",
      "Import records from a partner's file: each CSV row, JSON object or GeoJSON\n"
      "feature becomes one entry, checked like publish and sent in batches. The\n"
      "input must be UTF-8 (a BOM is skipped, UTF-16 with a BOM is converted);\n"
      "other input is refused before the first row with the encoding it looks\n"
      "like. The mapping is checked first, every problem in one message. Bad\n"
      "records are reported with their line (feature N for GeoJSON) and skipped,\n"
      "alike ones grouped; a stray CSV quote costs only its own row. Good ones are\n"
      "stored. Ends with the possible duplicates as groups (same website, or same\n"
      "name within 100 m, in the file or on the node) and a summary (new, updated,\n"
      "unchanged, rejected, warnings), both on stderr like every summary. Ids come\n"
      "from the mapping, an id column, or name and city, so a second import of the\n"
      "same file changes nothing. Exit 1 if any was rejected.\n"
      "  --format F        csv, json, ndjson or geojson (default: from the name)\n"
      "  --map MAPPING     JSON file saying which column feeds which field; without\n"
      "                    it, columns are field names (name:de, geo.lat, cpv)\n"
      "  --separator C     CSV separator (default: ';' ',' or tab, from the header)\n"
      "  --encoding NAME   the input's encoding, converted with iconv: CP1252\n"
      "                    (Windows-1252), ISO-8859-2, ISO-8859-15, UTF-16LE ...\n"
      "  --lang LL         language of plain name/description columns or GeoJSON\n"
      "                    properties (ISO 639-1)\n"
      "  --lenient         drop a bad optional value with a warning, keep the row;\n"
      "                    a bad required field still rejects it\n"
      "  --errors grouped|all  group alike errors (default) or list every row\n"
      "  --duplicates text|json  the duplicate groups for people (default, on\n"
      "                    stderr) or as one JSON document on stdout\n"
      "  --dry-run         check and report only; store nothing (a node is used, if\n"
      "                    reachable, only to look for duplicates)\n"
      "  --no-node-duplicates  do not look for duplicates among the node's entries\n"
      "The mapping format and examples: conf/import/README.md in the source.\n" },
    { "get", cmd_get, "get [--json] [ORIGIN/]ID", "show one entry and its provenance",
      "Show one entry and its provenance. ID alone means this node's own entry,\n"
      "else the only entry with that id. An ORIGIN or ID starting with '-' is\n"
      "taken as one; '--' ends the options (get -- --json gets the id --json).\n"
      "  --json    print the entry as JSON\n" },
    { "delete", cmd_delete, "delete ID...", "delete entries of this node",
      "Delete entries of this node (a signed tombstone replaces each). An ID\n"
      "starting with '-' is taken as one; '--' ends the options.\n" },
    { "search", cmd_search, "search [OPTIONS] [WORDS...]", "search the merged view",
      "Full-text search with filters. Words are folded in every script: case,\n"
      "accents and marks are ignored and æ ø œ ß đ ł þ match ae o oe ss d l th, so\n"
      "aero finds Ærø and strasse finds Straße. Names, summaries, descriptions,\n"
      "tags and address words (street, postcode, city) are searched. List options\n"
      "take comma-separated values and may be repeated.\n"
      "  --kind K            organisation, offer, partnership, event, programme\n"
      "  --country CC        ISO 3166-1 alpha-2 code, e.g. AT\n"
      "  --region NUTS       NUTS code or prefix: AT12 matches AT123\n"
      "  --lang LL           entries in this language (ISO 639-1); names shown in it\n"
      "  --nace CODE         NACE code or prefix: 81 matches 81.21\n"
      "  --cpv CODE          CPV code or digit prefix (check digit optional): 9091\n"
      "  --target-group G    pwd, ltu, youth_neet, migrant_refugee...\n"
      "  --partnership TYPE  open to / of this partnership type, e.g. reserved_contract\n"
      "  --label L           a status or label, e.g. EU-ART20, SI-SOCP\n"
      "  --org-type T        wise, social_cooperative, sheltered_workshop...\n"
      "  --origin NODE       entries of this node (its id or name)\n"
      "  --city NAME         the address's city, folded alike: lenart finds Lenart\n"
      "  --since DATE        updated at or after DATE (RFC 3339 date or date-time)\n"
      "  --from DATE, --to DATE   event start or programme deadline in this window\n"
      "                      (both ends included; a date means its whole day, UTC)\n"
      "  --min-disadvantaged PCT  disadvantaged_share at least PCT\n"
      "  --near LAT,LON      nearest first, DIST shown in km; with --km N: within N km\n"
      "  --sort S            relevance (default with words), distance (default with\n"
      "                      --near), name (default otherwise; folded, so Ærø sorts\n"
      "                      with the a's), updated (newest first)\n"
      "  --count-by F        count the matches per region, country, cpv, nace, label\n"
      "                      or kind instead of listing them\n"
      "  --depth N           with --count-by: NUTS level 0-3, CPV digits 2-8, NACE\n"
      "                      digits 2-4 (default: the full code)\n"
      "  --limit N           at most N results, 1-1000 (the node's default: 20)\n"
      "  --offset N          skip the first N results\n"
      "  --include-deleted   list deleted entries too\n"
      "  --explain           also print the node's time for the query, the SQL it\n"
      "                      ran and SQLite's plan for it (on stderr; in --json)\n"
      "  --json | --ndjson | --csv   output for scripts instead of the table\n" },
    { "export", cmd_export, "export [--ndjson|--json|--csv|--jsonld|--hsds]", "print every entry",
      "Print every entry of the node's merged view (default: NDJSON).\n"
      "  --ndjson    one entry per line, as stored (input for publish and import)\n"
      "  --json      one JSON array of the entries\n"
      "  --csv       id,origin,kind,name,country,region,website,email,updated\n"
      "  --jsonld    one schema.org JSON-LD document: Organization, Offer, Event,\n"
      "              Service (programme), Project (partnership), each with\n"
      "              \"@id\": \"socdir:ORIGIN/ID\"\n"
      "  --hsds      one Open Referral HSDS document: organizations, services\n"
      "              (offers), locations (entries with geo or address)\n"
      "--jsonld and --hsds skip deleted entries and use English text if present,\n"
      "else the entry's first language (README, \"Export\").\n" },
    { "status", cmd_status, "status [--json]", "show the node, its view's digest and peers",
      "Show the node: id, name, the version it runs and its database schema,\n"
      "entries per origin and the digest of its view;\n"
      "members up, the last sync, forks seen, and whether own entries are being\n"
      "restored from peers.\n"
      "  --json    print the status as JSON\n" },
    { "peers", cmd_peers, "peers [--json]", "show the members and their sync",
      "Show each member: whether a link is up, its sync state, the last sync,\n"
      "entries received and stored, entries refused (origin not a member, bad\n"
      "signature, invalid), errors, and the endpoint dialed (\"-\": it dials us).\n"
      "  --json    print the members as JSON\n" },
    { "sync", cmd_sync, "sync [--wait]", "pull from every reachable member now",
      "Ask the node to pull from every reachable member now (control socket only).\n"
      "  --wait    return when those pulls have finished (at most about 60 s);\n"
      "            fails when there are members but none is reachable\n" },
};

#define NCMDS (sizeof(s_cmds) / sizeof(s_cmds[0]))

/* The table row of command name, or NULL. */
static const struct cmd *
s_find(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(s_cmds[i].name, name) == 0)
            return &s_cmds[i];
    return NULL;
}

/* The top-level usage: every command's synopsis. */
static void
s_usage(FILE *f)
{
    fputs("usage: socdir [--node ENDPOINT|DIR] COMMAND [ARGS]\n\n"
          "The node is a ZeroMQ endpoint (tcp://HOST:PORT, ipc://PATH) or a node's\n"
          "data directory (its control socket); default: $SOCDIR_NODE.\n"
          "$SOCDIR_TIMEOUT: seconds to wait for an answer (default 30).\n\n"
          "Commands:\n", f);
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %-32s %s\n", s_cmds[i].usage, s_cmds[i].summary);
    fputs("\nsocdir COMMAND --help shows a command's options; socdir --version the version.\n\n"
          "Data goes to stdout; summaries, progress and errors to stderr. Exit status:\n"
          "0 success, 1 the request failed or some items were rejected, 2 usage error,\n"
          "3 node unreachable (refused, no control socket, or no answer in time; a\n"
          "refused tcp:// connection is reported at once, not after the timeout).\n", f);
}

/* Errors and usage. Every message is one line on stderr, so that scripts
 * can log it and people can read it; the exit status says it failed. */

void
cli_warn(const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    /* A message may quote what a file or a node holds: escaped, so it
     * cannot act on the terminal (render_text). */
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    fputs("socdir: ", stderr);
    if (n >= 0)
        render_text(stderr, msg);
    fputc('\n', stderr);
    free(msg);
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
    const struct cmd *c = s_find(cmd);
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);      /* it quotes the bad argument: escaped */
    va_end(ap);
    fprintf(stderr, "socdir %s: ", cmd);
    if (n >= 0)
        render_text(stderr, msg);
    fputc('\n', stderr);
    free(msg);
    if (c != NULL)
        fprintf(stderr, "usage: socdir %s\n", c->usage);
    return CLI_USAGE;
}

/* --help is asked for, not an error: stdout and status 0. */
int
cli_help(const char *cmd)
{
    const struct cmd *c = s_find(cmd);
    if (c != NULL)
        printf("usage: socdir [--node ENDPOINT|DIR] %s\n\n%s", c->usage, c->help);
    return 0;
}

/* The option getopt_long just refused, as the user wrote it. GNU getopt
 * sets optopt to 0 for an unknown long option and to the option's value
 * when one misses its argument, which is always the last word then. */
static void
s_bad_word(int ch, char **argv, char *out, size_t len)
{
    const char *last = argv[optind - 1];
    if ((ch == '?' && optopt == 0) || (ch == ':' && strncmp(last, "--", 2) == 0))
        snprintf(out, len, "%.*s", (int)strcspn(last, "="), last);
    else
        snprintf(out, len, "-%c", optopt);
}

int
cli_bad_option(const char *cmd, int ch, char **argv)
{
    char word[64];
    s_bad_word(ch, argv, word, sizeof(word));
    if (ch == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

/* Not getopt: GNU getopt permutes and would take an operand such as
 * "-uXy.../org-1" for options. */
int
cli_id_args(const char *cmd, int argc, char **argv, const struct cli_flag *flags,
            bool (*is_operand)(const char *word), int *n)
{
    bool options = true;
    int w = 1;

    for (int i = 1; i < argc; i++) {
        const char *word = argv[i];
        const struct cli_flag *f = flags;
        if (options && strcmp(word, "--") == 0) {
            options = false;
            continue;
        }
        if (options && (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0))
            return cli_help(cmd);
        while (options && f->word != NULL && strcmp(f->word, word) != 0)
            f++;
        if (options && f->word != NULL) {
            *f->set = true;
            continue;
        }
        if (options && word[0] == '-' && !is_operand(word))
            return cli_usage_error(cmd, "unknown option '%.64s', and not a valid id either", word);
        argv[w++] = argv[i];    /* w <= i: nothing unread is overwritten */
    }
    *n = w - 1;
    return -1;
}

/* Global options; returns the index of the command word, or -1 after
 * setting *rc (usage error or --help). */
static int
s_global_options(int argc, char **argv, int *rc)
{
    static const struct option opts[] = {
        { "node", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *node = getenv("SOCDIR_NODE");   /* --node wins */
    int ch;

    /* '+': stop at the command word, whose options are its own. */
    while ((ch = getopt_long(argc, argv, "+:n:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            node = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return *rc = 0, -1;
        case 'V':
            printf("socdir %s\n", socdir_version);
            return *rc = 0, -1;
        default: {
            char word[64];
            s_bad_word(ch, argv, word, sizeof(word));
            if (ch == ':')
                cli_warn("option '%s' needs a value", word);
            else
                cli_warn("unknown option '%s'", word);
            fputs("socdir --help lists the options and commands\n", stderr);
            return *rc = CLI_USAGE, -1;
        }
        }
    }
    cli_set_node(node != NULL && *node == '\0' ? NULL : node);
    if (optind >= argc) {
        s_usage(stderr);
        return *rc = CLI_USAGE, -1;
    }
    return optind;
}

/* Edit distance of a and b (short words), for "did you mean". */
static size_t
s_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[34];
    if (la > 32 || lb > 32)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            /* A swap of two neighbours costs one, as a typo does. */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && diag < best)
                best = diag;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* One line for an unknown command, with the nearest command if one is
 * near (at most two typos, or what it starts with). */
static int
s_unknown(const char *name)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < NCMDS; i++) {
        size_t d = s_distance(name, s_cmds[i].name);
        if (strlen(name) >= 2 && strncmp(s_cmds[i].name, name, strlen(name)) == 0)
            d = 1;
        if (d < bestd) {
            bestd = d;
            best = s_cmds[i].name;
        }
    }
    if (best != NULL)
        fprintf(stderr, "socdir: unknown command '%.64s' (did you mean '%s'?); socdir --help lists them\n",
                name, best);
    else
        fprintf(stderr, "socdir: unknown command '%.64s'; socdir --help lists them\n", name);
    return CLI_USAGE;
}

/* Exit status: the command's (made CLI_UNREACHABLE when no node
 * answered, cli_exit_status), or 1 when the output could not be written
 * (a full disk must not pass for a complete export). */
int
main(int argc, char **argv)
{
    int rc = 1;
    opterr = 0;     /* commands print their own option errors */
    int at = s_global_options(argc, argv, &rc);
    if (at < 0)
        return rc;

    const char *name = argv[at];
    if (strcmp(name, "help") == 0) {
        /* "socdir help [CMD]" is --help in git's words. */
        if (at + 1 < argc && s_find(argv[at + 1]) != NULL)
            return cli_help(argv[at + 1]);
        s_usage(stdout);
        return 0;
    }
    const struct cmd *c = s_find(name);
    if (c == NULL)
        return s_unknown(name);
    optind = 0;     /* GNU getopt: start afresh on the command's argv */
    rc = cli_exit_status(c->fn(argc - at, argv + at));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_warn("writing the output failed");
        rc = 1;
    }
    return rc;
}
