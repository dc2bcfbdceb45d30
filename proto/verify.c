/*
 * verify.c: signature verification of a batch on every core.
 *
 * Ed25519 verification is the one CPU-bound step of taking in a peer's
 * batch (about 45 us each on this project's reference machine), and the
 * envelopes of a batch are independent. Helper threads, one per core
 * beyond the first, start on first use and live as long as the process;
 * the calling thread works too, so a one-core machine verifies inline.
 * Work is handed out in chunks from a shared counter; the call returns
 * when every envelope has been verified.
 */
#include "envelope.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define HELPERS_MAX 7
#define CHUNK 16
#define INLINE_BELOW 32     /* smaller batches are not worth a wake-up */

static struct {
    pthread_once_t once;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    int helpers;
    /* the current batch, under lock except the counters */
    const envelope_t *const *envs;
    bool *ok;
    size_t n;
    atomic_size_t next;
    unsigned long generation;   /* one per batch: wakes the helpers */
    int busy;                   /* helpers still on the current batch */
} s_pool = { .once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER,
             .work = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static void
s_drain(const envelope_t *const *envs, bool *ok, size_t n)
{
    size_t i;
    while ((i = atomic_fetch_add(&s_pool.next, CHUNK)) < n) {
        size_t end = i + CHUNK < n ? i + CHUNK : n;
        for (; i < end; i++)
            ok[i] = envelope_verify(envs[i]) == 0;
    }
}

static void *
s_helper(void *arg)
{
    unsigned long seen = 0;
    (void)arg;
    pthread_mutex_lock(&s_pool.lock);
    for (;;) {
        while (s_pool.generation == seen)
            pthread_cond_wait(&s_pool.work, &s_pool.lock);
        seen = s_pool.generation;
        const envelope_t *const *envs = s_pool.envs;
        bool *ok = s_pool.ok;
        size_t n = s_pool.n;
        pthread_mutex_unlock(&s_pool.lock);
        s_drain(envs, ok, n);
        pthread_mutex_lock(&s_pool.lock);
        if (--s_pool.busy == 0)
            pthread_cond_signal(&s_pool.done);
    }
    return NULL;
}

static void
s_start(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cores > 1 ? (int)(cores - 1 < HELPERS_MAX ? cores - 1 : HELPERS_MAX) : 0;
    for (int i = 0; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, s_helper, NULL) != 0)
            break;
        pthread_detach(t);
        s_pool.helpers++;
    }
}

void
envelope_verify_all(const envelope_t *const *envs, size_t n, bool *ok)
{
    pthread_once(&s_pool.once, s_start);
    if (n < INLINE_BELOW || s_pool.helpers == 0) {
        for (size_t i = 0; i < n; i++)
            ok[i] = envelope_verify(envs[i]) == 0;
        return;
    }
    pthread_mutex_lock(&s_pool.lock);
    s_pool.envs = envs;
    s_pool.ok = ok;
    s_pool.n = n;
    atomic_store(&s_pool.next, 0);
    s_pool.busy = s_pool.helpers;
    s_pool.generation++;
    pthread_cond_broadcast(&s_pool.work);
    pthread_mutex_unlock(&s_pool.lock);

    s_drain(envs, ok, n);

    pthread_mutex_lock(&s_pool.lock);
    while (s_pool.busy > 0)
        pthread_cond_wait(&s_pool.done, &s_pool.lock);
    pthread_mutex_unlock(&s_pool.lock);
}
