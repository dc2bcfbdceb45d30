/*
 * conf.h: the node's INI configuration (README, "Configuration"), read with inih. Every
 * key is looked up in a table of known keys; an unknown key, a bad value,
 * a key or section given twice, a missing required key, a member listed
 * twice or the node itself as a member is an error reported as
 * "file:line: message". Every problem of a file is reported, not only the
 * first, so that `check` lists all that `run` would refuse.
 */
#ifndef SOCDIR_CONF_H
#define SOCDIR_CONF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *name;             /* section name after "member " */
    uint8_t key[32];        /* its node id, decoded */
    char *endpoint;         /* to dial, or NULL */
    int line;               /* of its [member NAME] header */
    int key_line;           /* of its key, or 0 */
} conf_member_t;

typedef struct {
    char *path;             /* the file read */
    char *name;             /* shown to users and peers */
    char *country;          /* ISO 3166-1 alpha-2, or NULL */
    char *region;           /* NUTS, or NULL */
    char *data;             /* data directory, absolute or relative to the file */
    char *listen;           /* peer endpoint, or NULL */
    char *query;            /* open query endpoint, or NULL */
    char *query_rate;       /* requests a second per client address, or NULL */
    char *restore_wait;     /* seconds before a restore may end without every member, or NULL */
    conf_member_t *members;
    size_t nmembers;
    char *warnings;         /* "FILE:LINE: why" lines for what is read but probably
                             * not meant (a value cut at ' ;'), or NULL */
} conf_t;

#define CONF_QUERY_RATE_DEFAULT 20
#define CONF_RESTORE_WAIT_DEFAULT 60

/* The query endpoint's rate limit: requests a second per client address
 * (bursts of twice that). */
int conf_query_rate(const conf_t *c);

/* Seconds after which a restoring node may end its restore with the
 * members it reached (PROTOCOL.md 4.6); 0: only with every member. */
int conf_restore_wait(const conf_t *c);

/* Reads and checks path, and, when DATA/node.key exists, that the node is
 * not its own member. Returns NULL with err set to every problem found,
 * one a line ("file:line: ...", lines joined by '\n', the last without
 * one); a list that does not fit in err ends "... and N more". */
conf_t *conf_load(const char *path, char *err, size_t errlen);

/* Checks value as the config file's [node] key would be checked (the key's
 * own rule, and that inih reads the line back as written: no control
 * characters, no blanks around it, no ';' after a blank). For
 * arguments that end up in a config, e.g. init's. Returns 0, or -1 with
 * why set ("--country: ..." is for the caller to prefix). */
int conf_check_value(const char *key, const char *value, char *why, size_t len);

/* Checks a ZeroMQ endpoint the way libzmq will read it: tcp://HOST:PORT
 * (HOST a name, an IPv4 address or [IPv6]; PORT 1-65535) or ipc://PATH.
 * bind: an endpoint to bind, where the host and port may be '*' (and the
 * port 0: any). Returns 0, or -1 with why set. */
int conf_check_endpoint(const char *ep, int bind, char *why, size_t len);
void conf_free(conf_t **self_p);

/* Writes a commented starter config to path (which must not exist).
 * Returns 0 or -1 with err set. */
int conf_write_starter(const char *path, const char *name, const char *country,
                       const char *region, const char *data, const char *listen,
                       const char *query, char *err, size_t errlen);

#endif
