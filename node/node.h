/*
 * node.h: the running node: configuration, identity, store, its own
 * origin, its member links and the ZeroMQ sockets, driven by one zmq_poll
 * loop. No threads.
 */
#ifndef SOCDIR_NODE_H
#define SOCDIR_NODE_H

#include "conf.h"
#include "ident.h"
#include "links.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct node node_t;

/* Opens the store and identity named by conf and binds the sockets.
 * Takes ownership of *conf_p. Returns NULL with err set. */
node_t *node_new(conf_t **conf_p, char *err, size_t errlen);
void node_destroy(node_t **self_p);

/* Runs until SIGTERM or SIGINT; SIGHUP reloads the membership. Returns 0
 * on a clean stop. */
int node_run(node_t *self);

/* The parts, for the self tests. */
store_t *node_store(node_t *self);
const ident_t *node_ident(node_t *self);
links_t *node_links(node_t *self);
/* True while the node restores its own entries (origin.h). */
bool node_restoring(node_t *self);
/* Answers a request as the control socket would (ctl.h). */
json_t *node_handle(node_t *self, int op, const json_t *req);

#endif
