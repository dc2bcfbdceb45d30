/*
 * syncInt.h: what sync.c (the requester, the table) and sync_serve.c (the
 * server side of a link) share. Not for use outside those two files.
 */
#ifndef SOCDIR_SYNCINT_H
#define SOCDIR_SYNCINT_H

#include "sync.h"

typedef enum { S_IDLE, S_PULLING, S_REPAIRING, S_ANY } state_t;

struct sync_node {
    store_t *store;                 /* the merged view */
    uint8_t self[ENV_PKBYTES];      /* this node's key */
    sync_hooks_t hooks;             /* how to reach the outside */
    char *name;                     /* this node's name, sent in HELLO */
    uint64_t interval;              /* ms between periodic pulls */
};

/* One range of versions to send: origin's seqs in (after, before). */
struct range {
    uint8_t origin[ENV_PKBYTES];
    uint64_t after, before;
};

struct sync_peer {
    sync_node_t *node;
    uint8_t key[ENV_PKBYTES];       /* the peer's node key */
    char *name;                     /* its member name */
    bool up;                        /* link established */
    /* requester */
    state_t state;
    uint64_t req;                   /* id of the exchange in flight */
    uint64_t pull_t0;               /* mono_us when the current pull began */
    uint64_t pull_rounds;           /* its round trips so far */
    uint64_t last_progress;         /* ms: last frame of that exchange */
    uint64_t next_pull;             /* ms: when the periodic pull is due */
    uint8_t (*repair)[ENV_PKBYTES]; /* origins still to repair */
    size_t nrepair;
    /* server */
    bool serving;                   /* a job is active */
    uint64_t job_req;               /* its request id */
    uint64_t job_credit;            /* batches the requester still accepts */
    struct range *ranges;           /* what to send, in order */
    size_t nranges, cur;            /* ranges and the one being sent */
    wire_mark_t *job_marks;         /* marks when the job started */
    size_t njob_marks;
    /* push queue */
    msgpack_sbuffer *pushq;         /* envelopes to push, packed as bin */
    size_t npush;
    uint64_t rate_second, rate_count;
    sync_stats_t stats;
};

/* sync.c */
int sync_send(sync_peer_t *p, msgpack_sbuffer *buf);
bool sync_accepts(sync_peer_t *p, const uint8_t key[ENV_PKBYTES]);
const wire_mark_t *sync_find_mark(const wire_mark_t *marks, size_t n,
                                  const uint8_t key[ENV_PKBYTES]);

/* sync_serve.c: answering the peer's SYNC, REPAIR and CREDIT. */
void serve_clear(sync_peer_t *p);
state_t serve_sync(sync_peer_t *p, const wire_msg_t *m, uint64_t now);
state_t serve_repair(sync_peer_t *p, const wire_msg_t *m, uint64_t now);
state_t serve_credit(sync_peer_t *p, const wire_msg_t *m, uint64_t now);

#endif
