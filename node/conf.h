/*
 * conf.h: the node's INI configuration (README, "Configuration"), read with inih. Every
 * key is looked up in a table of known keys; an unknown key, a bad value or
 * a missing required key is an error reported as "file:line: message".
 */
#ifndef SOCDIR_CONF_H
#define SOCDIR_CONF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *name;             /* section name after "member " */
    uint8_t key[32];        /* its node id, decoded */
    char *endpoint;         /* to dial, or NULL */
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
} conf_t;

#define CONF_QUERY_RATE_DEFAULT 20
#define CONF_RESTORE_WAIT_DEFAULT 60

/* The query endpoint's rate limit: requests a second per client address
 * (bursts of twice that). */
int conf_query_rate(const conf_t *c);

/* Seconds after which a restoring node may end its restore with the
 * members it reached (PROTOCOL.md 4.6); 0: only with every member. */
int conf_restore_wait(const conf_t *c);

/* Reads and checks path. Returns NULL with err set ("file:line: ..."). */
conf_t *conf_load(const char *path, char *err, size_t errlen);
void conf_free(conf_t **self_p);

/* Writes a commented starter config to path (which must not exist).
 * Returns 0 or -1 with err set. */
int conf_write_starter(const char *path, const char *name, const char *country,
                       const char *region, const char *data, const char *listen,
                       const char *query, char *err, size_t errlen);

#endif
