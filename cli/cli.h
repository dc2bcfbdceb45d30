/*
 * cli.h: what the socdir commands share. main.c owns the command table,
 * the global options and the way errors and usage are printed; each
 * cmd_*.c file implements commands as `int cmd_x(int argc, char **argv)`
 * (argv[0] is the command name), returning the exit status.
 */
#ifndef SOCDIR_CLI_H
#define SOCDIR_CLI_H

#include "client.h"

#include <jansson.h>
#include <stdio.h>

/* The commands, one per table row in main.c. */
int cmd_publish(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_peers(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/* Prints "socdir: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "socdir CMD: <message>" and CMD's usage on stderr; returns 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints CMD's usage and help to stdout; returns 0 (for --help). */
int cli_help(const char *cmd);

/* For getopt_long's '?' and ':' results (optstring starts with ':'):
 * names the bad option, prints usage on stderr, returns 1. */
int cli_bad_option(const char *cmd, int ch, char **argv);

/* Connects to the node given by --node or $SOCDIR_NODE. Returns NULL
 * after printing the reason. */
client_t *cli_connect(void);

/* client_call that prints "socdir: <error>" when it returns NULL. */
json_t *cli_call(client_t *c, const json_t *req);

/* One item of a publish or delete reply's "results" list, for a request
 * of n items. Returns 0 and sets *index, and either *error (the node's
 * reason) or *status and *seq (*error NULL); -1 if the item is malformed
 * or its index is not below n. Strings are lent by r. */
int cli_result(const json_t *r, size_t n, size_t *index, const char **status,
               long long *seq, const char **error);

#endif
