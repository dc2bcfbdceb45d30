/*
 * ident.h: the node's identity, one Ed25519 key pair kept in DATA/node.key
 * (mode 0600, never overwritten). This is the only module that holds the
 * secret key; it signs envelopes for the node and will hand the X25519
 * form to CurveZMQ.
 */
#ifndef SOCDIR_IDENT_H
#define SOCDIR_IDENT_H

#include "envelope.h"
#include "util.h"

#define IDENT_FILE "node.key"

typedef struct ident ident_t;

/* Creates DIR (mode 0700 if new) and a new key in DIR/node.key. Refuses if
 * the key file exists. Returns NULL with err set. */
ident_t *ident_create(const char *dir, char *err, size_t errlen);

/* Loads DIR/node.key; refuses a file readable by group or others. */
ident_t *ident_load(const char *dir, char *err, size_t errlen);

/* The public key of DIR/node.key into pk, without the checks of
 * ident_load (its mode): for `check`, which only compares ids. Returns 0,
 * or -1 when there is no readable key file of the right size. */
int ident_peek(const char *dir, uint8_t pk[ENV_PKBYTES]);

/* Wipes the secret key and frees. */
void ident_destroy(ident_t **self_p);

const uint8_t *ident_pk(const ident_t *self);
/* The printable node id. */
const char *ident_id(const ident_t *self);

/* The key pair converted to X25519, for CurveZMQ. Returns 0 or -1. */
int ident_curve(const ident_t *self, uint8_t pk[32], uint8_t sk[32]);

/* Seals an entry version (see envelope_seal) with this node's key. */
int ident_seal(const ident_t *self, const entry_hdr_t *h, const json_t *body,
               msgpack_sbuffer *out, uint8_t vid[ENV_VIDBYTES], char *err, size_t errlen);

#endif
