/*
 * ctl.h: the requests of the control socket and the query endpoint
 * (proto/msg.def): who may ask what, how often, and which handler
 * answers.
 */
#ifndef SOCDIR_CTL_H
#define SOCDIR_CTL_H

#include "conf.h"
#include "ident.h"
#include "links.h"
#include "origin.h"
#include "store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ctl ctl_t;

/* Request handling over the node's parts, all borrowed. ctl_sock is the
 * control socket, where `sync --wait` replies go when the pulls finish. */
ctl_t *ctl_new(const conf_t *conf, store_t *store, const ident_t *ident, origin_t *origin,
               links_t *links, void *ctl_sock);
void ctl_destroy(ctl_t **self_p);

/* Receives one request (routing frames + body) on sock and answers it.
 * local: the control socket (every op); otherwise the open query endpoint
 * (reads only, rate-limited per address, smaller pages). */
void ctl_serve(ctl_t *self, void *sock, bool local);
/* Builds the reply to req, an op checked by msg_decode. */
json_t *ctl_handle(ctl_t *self, int op, const json_t *req, bool local);
/* Answers the `sync --wait` requests whose pulls finished or timed out. */
void ctl_tick(ctl_t *self, uint64_t now);

#endif
