/*
 * cli.h: what the socdir commands share. main.c owns the command table,
 * the global options and the way errors and usage are printed; cli.c the
 * node to talk to, the connection and the reading of per-item results;
 * each cmd_*.c file implements commands as `int cmd_x(int argc, char **argv)`
 * (argv[0] is the command name), returning the exit status.
 */
#ifndef SOCDIR_CLI_H
#define SOCDIR_CLI_H

#include "client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit status of every command (README, "The CLI"): */
enum {
    CLI_OK = 0,             /* success */
    CLI_FAILED = 1,         /* the request failed, or some items were rejected */
    CLI_USAGE = 2,          /* bad option, unknown command, bad arguments */
    CLI_UNREACHABLE = 3,    /* no node answers: cannot connect, no socket, no answer */
};

/* The commands, one per table row in main.c. */
int cmd_publish(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_peers(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/* Prints "socdir: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "socdir CMD: <message>" and CMD's usage on stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints CMD's usage and help to stdout; returns 0 (for --help). */
int cli_help(const char *cmd);

/* For getopt_long's '?' and ':' results (optstring starts with ':'):
 * names the bad option, prints usage on stderr, returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int ch, char **argv);

/* A flag (an option without a value) of a command parsed by cli_id_args. */
struct cli_flag {
    const char *word;       /* as written: "--json" */
    bool *set;              /* set true when given */
};

/* The command line of a command whose operands are ids or ORIGIN/ID refs,
 * which may start with '-' (node ids are base64url; entry ids are 1-64 of
 * A-Z a-z 0-9 . _ -): getopt would take them for options. Only --help, -h
 * and the words of flags (ended by a NULL word) are options, anywhere
 * before "--", which ends them; every other word is an operand, even one
 * starting with '-', as long as is_operand accepts it (else it is a usage
 * error). Moves the operands, in order, to argv[1..*n]. Returns -1 to go
 * on, else the exit status (0 after --help, CLI_USAGE after a usage error). */
int cli_id_args(const char *cmd, int argc, char **argv, const struct cli_flag *flags,
                bool (*is_operand)(const char *word), int *n);

/* ---- the node (cli.c) ---- */

/* The node cli_connect opens (endpoint or data directory), lent, or NULL
 * for none. main sets it from --node or $SOCDIR_NODE before any command. */
void cli_set_node(const char *node);

/* Connects to the node given by --node or $SOCDIR_NODE. Returns a new
 * client (caller closes it), or NULL with err set to the reason (no node
 * given, or client_open's); prints nothing, for callers to whom a node
 * is optional. */
client_t *cli_open(char *err, size_t len);

/* cli_open that prints "socdir: <reason>" when it returns NULL. */
client_t *cli_connect(void);

/* client_call that prints "socdir: <error>" when it returns NULL. */
json_t *cli_call(client_t *c, const json_t *req);

/* Notes a failed call of c made without cli_call (client_send,
 * client_recv), so that the exit status tells an unreachable node. */
void cli_note(const client_t *c);

/* The exit status for a command that returned rc: CLI_UNREACHABLE when it
 * failed because no node answered (cli_connect, cli_call, cli_note),
 * CLI_USAGE when no node was given, else rc. */
int cli_exit_status(int rc);

/* Walks a publish or delete reply's "results" for a request of n items.
 * Each result is {"index", "status", "seq"} or {"index", "error"}; for each
 * well-formed one whose index is below n and not yet in seen[], marks it
 * in seen[] and calls fn with either error (the node's reason) or status
 * and seq (error NULL). Malformed results are reported and skipped.
 * Strings are lent by reply. */
typedef void (*cli_result_fn)(void *arg, size_t index, const char *status, long long seq,
                              const char *error);
void cli_results(const json_t *reply, size_t n, bool *seen, cli_result_fn fn, void *arg);

#endif
