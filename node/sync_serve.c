/*
 * sync_serve.c: the server side of a link (PROTOCOL.md 4.3, 4.5). One job
 * per peer: the ranges of (origin, seq) to send, a cursor, and the credit
 * the requester granted; ENTRIES while there is credit, SYNC_END when the
 * ranges are exhausted. A new SYNC or REPAIR replaces the job.
 */
#include "syncInt.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void
serve_clear(sync_peer_t *p)
{
    free(p->ranges);
    free(p->job_marks);
    p->ranges = NULL;
    p->job_marks = NULL;
    p->nranges = p->cur = p->njob_marks = 0;
    p->serving = false;
}

static void
s_job_add(sync_peer_t *p, const uint8_t origin[ENV_PKBYTES], uint64_t after, uint64_t before)
{
    p->ranges = xrealloc(p->ranges, (p->nranges + 1) * sizeof(*p->ranges));
    struct range *r = &p->ranges[p->nranges++];
    memcpy(r->origin, origin, ENV_PKBYTES);
    r->after = after;
    r->before = before;
}

struct batch {
    msgpack_sbuffer buf;            /* envelopes packed as bin, no header */
    msgpack_packer pk;
    size_t n;
    uint64_t last_seq;
};

static int
s_batch_row(void *arg, const store_row_t *row)
{
    struct batch *b = arg;
    wire_batch_add(&b->pk, row->env, row->env_len);
    b->n++;
    b->last_seq = row->seq;
    return (b->n >= WIRE_BATCH_MAX || b->buf.size >= SYNC_BATCH_BYTES) ? 1 : 0;
}

/* Sends SYNC_END for the job and ends it: the marks of the job's start
 * (complete) and of now (the rest). */
static void
s_job_end(sync_peer_t *p)
{
    wire_mark_t *now_marks;
    size_t nnow;
    msgpack_sbuffer out;
    if (store_marks(p->node->store, &now_marks, &nnow) == 0) {
        for (size_t i = 0; i < nnow; i++) {
            const wire_mark_t *start = sync_find_mark(p->job_marks, p->njob_marks, now_marks[i].origin);
            now_marks[i].complete = start ? start->complete : 0;
        }
        wire_sync_end(&out, p->job_req, now_marks, nnow);
        sync_send(p, &out);
        free(now_marks);
    } else {
        log_warnx("store: %s", store_errmsg(p->node->store));
    }
    serve_clear(p);
}

/* Fills one batch from the job's ranges. Returns its size; advances past
 * each range it exhausts. */
static size_t
s_fill(sync_peer_t *p, struct batch *b)
{
    while (p->cur < p->nranges && b->n < WIRE_BATCH_MAX && b->buf.size < SYNC_BATCH_BYTES) {
        struct range *r = &p->ranges[p->cur];
        size_t before = b->n;
        int limit = WIRE_BATCH_MAX - (int)b->n;
        int got = store_since(p->node->store, r->origin, r->after, r->before, limit, s_batch_row, b);
        if (got < 0) {
            log_warnx("store: %s", store_errmsg(p->node->store));
            p->cur = p->nranges;
            break;
        }
        if (b->n > before)
            r->after = b->last_seq;
        if (b->n - before < (size_t)limit && b->buf.size < SYNC_BATCH_BYTES)
            p->cur++;           /* range exhausted */
    }
    return b->n;
}

/* Sends ENTRIES while the job has credit; SYNC_END, which needs no
 * credit, as soon as the ranges are exhausted. */
static void
s_serve(sync_peer_t *p)
{
    while (p->serving) {
        if (p->cur < p->nranges && p->job_credit == 0)
            return;             /* wait for CREDIT */
        struct batch b = { .n = 0 };
        msgpack_sbuffer_init(&b.buf);
        msgpack_packer_init(&b.pk, &b.buf, msgpack_sbuffer_write);
        if (s_fill(p, &b) > 0) {
            msgpack_sbuffer out;
            msgpack_packer pk;
            wire_batch_begin(&out, &pk, WIRE_ENTRIES, p->job_req, b.n);
            msgpack_sbuffer_write(&out, b.buf.data, b.buf.size);
            sync_send(p, &out);
            p->job_credit--;
        }
        msgpack_sbuffer_destroy(&b.buf);
        if (p->cur >= p->nranges)
            s_job_end(p);
    }
}

static int
s_job_start(sync_peer_t *p, uint64_t req, uint64_t credit)
{
    serve_clear(p);
    if (store_marks(p->node->store, &p->job_marks, &p->njob_marks) != 0)
        return -1;
    p->serving = true;
    p->job_req = req;
    p->job_credit = credit;
    return 0;
}

state_t
serve_sync(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    (void)now;
    if (s_job_start(p, m->req, m->credit) != 0)
        return p->state;
    for (size_t i = 0; i < p->njob_marks; i++) {
        const wire_mark_t *mine = &p->job_marks[i];
        const wire_mark_t *theirs = sync_find_mark(m->marks, m->nmarks, mine->origin);
        uint64_t after = theirs ? theirs->complete : 0;
        if (mine->count > 0 && mine->max_seq > after && sync_accepts(p, mine->origin))
            s_job_add(p, mine->origin, after, UINT64_MAX);
    }
    s_serve(p);
    return p->state;
}

state_t
serve_repair(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    wire_fp_t *mine;
    size_t nmine;
    (void)now;
    if (s_job_start(p, m->req, m->credit) != 0)
        return p->state;
    if (sync_accepts(p, m->origin) &&
        store_buckets(p->node->store, m->origin, (unsigned)m->shift, &mine, &nmine) == 0) {
        size_t j = 0;
        for (size_t i = 0; i < nmine; i++) {
            while (j < m->nfps && m->fps[j].bucket < mine[i].bucket)
                j++;
            bool same = j < m->nfps && m->fps[j].bucket == mine[i].bucket &&
                        m->fps[j].count == mine[i].count &&
                        memcmp(m->fps[j].vsum, mine[i].vsum, ENV_VIDBYTES) == 0;
            if (!same) {
                /* seqs < 2^53, so no bucket boundary overflows */
                uint64_t lo = mine[i].bucket << m->shift, hi = (mine[i].bucket + 1) << m->shift;
                s_job_add(p, m->origin, lo > 0 ? lo - 1 : 0, hi);
            }
        }
        free(mine);
    }
    s_serve(p);
    return p->state;
}

state_t
serve_credit(sync_peer_t *p, const wire_msg_t *m, uint64_t now)
{
    (void)now;
    if (p->serving && m->req == p->job_req) {
        p->job_credit += m->credit;
        if (p->job_credit > 4 * SYNC_CREDIT)
            p->job_credit = 4 * SYNC_CREDIT;
        s_serve(p);
    }
    return p->state;
}
