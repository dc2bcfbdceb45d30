/*
 * client.h: one connection from the socdir CLI to a node. A node is named
 * by a ZeroMQ endpoint (anything with "://") or by its data directory,
 * which means the control socket ipc://DIR/control.sock. A call sends one
 * request frame and waits, with a time limit, for the one reply frame.
 * This module knows the framing (proto/msg.h) but nothing of what the
 * requests mean; it never prints.
 */
#ifndef SOCDIR_CLIENT_H
#define SOCDIR_CLIENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct client client_t;

/* Seconds a call waits for its reply unless $SOCDIR_TIMEOUT says otherwise. */
#define CLIENT_TIMEOUT_DEFAULT 30

/* Why a client could not be opened or a call failed. */
enum client_fault {
    CLIENT_FAILED = 1,      /* the node said no, or its reply was malformed */
    CLIENT_BAD_ARGS = 2,    /* the endpoint or $SOCDIR_TIMEOUT is malformed */
    CLIENT_UNREACHABLE = 3, /* nothing answers: refused, no socket, timeout */
};

/* Connects to node (endpoint or data directory). Returns a new client
 * (caller destroys it with client_close), or NULL with err set, e.g.
 * "/srv/x: no control socket (is the node running?)", and *fault (if
 * not NULL) saying which kind of failure it was. */
client_t *client_open(const char *node, int *fault, char *err, size_t errlen);

/* The kind of the last failure of a call (enum client_fault), or 0. A
 * refused connection is seen by a socket monitor and ends the wait at
 * once with "cannot reach NODE: connection refused". */
int client_fault(const client_t *self);

/* Sends req (borrowed) and waits for the reply. Returns the reply object
 * (caller owns) when it says "ok": true. Returns NULL with err set when the
 * node answers "ok": false (err is the node's one-line error), when no
 * answer comes in time, or when the reply is malformed. After a timeout the
 * client cannot be used again. */
json_t *client_call(client_t *self, const json_t *req, char *err, size_t errlen);

/* client_call in two halves, so that a request can be in flight while the
 * caller prepares the next: client_send queues req (0, or -1 with err);
 * client_recv waits for the reply to the oldest request not yet answered,
 * with client_call's checks and results. The node answers in order. */
int client_send(client_t *self, const json_t *req, char *err, size_t errlen);
json_t *client_recv(client_t *self, char *err, size_t errlen);

/* The seconds each call may wait, and a new value for the calls to come
 * (a request the node answers late, like sync --wait, raises it). */
double client_timeout(const client_t *self);
void client_set_timeout(client_t *self, double seconds);

/* Closes the socket and frees the client; sets *self_p to NULL. */
void client_close(client_t **self_p);

#endif
