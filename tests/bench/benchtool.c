/*
 * benchtool.c: the parts of the benchmark harness (tests/bench/run) that
 * must be C: seeding a node's database with signed entries of many
 * origins, and measuring this machine's limits in the same run.
 *
 *   socdir-bench seed --db FILE --key-dir DIR --origins K --envs FILE
 *                     [--members FILE] < entries.ndjson
 *       Signs entry i as origin i mod K (origin 0 is the node whose key is
 *       in DIR, the others have keys derived from their number), stores
 *       the envelopes in FILE with store_put, and writes them to --envs
 *       (4-byte little-endian length, then the bytes) and the [member]
 *       sections of origins 1..K-1 to --members. Prints a JSON summary.
 *   socdir-bench limits --envs FILE --db FILE [--batch B] [--seconds S]
 *       libsodium's sign and verify rates (one core; verify on every core
 *       too), and SQLite's raw insert rate of the same rows: the store's
 *       schema and INSERT statements (store_insert_raw), index rows derived
 *       beforehand, B rows per transaction. Prints JSON.
 *   socdir-bench sql --db FILE [--runs R]
 *       Runs each SQL statement read from stdin (one per line) R times
 *       straight on SQLite, reading every column of every row, and prints
 *       the p50 and p99 per statement as JSON.
 */
#include "ident.h"
#include "store.h"
#include "store_bench.h"
#include "util.h"

#include <getopt.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ORIGINS 64

static void
die(const char *fmt, const char *arg)
{
    fprintf(stderr, "socdir-bench: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static double
secs(uint64_t us)
{
    return (double)us / 1e6;
}

/* ---- envelope files ---- */

struct envs {
    uint8_t *data;
    size_t size;
    const uint8_t **ptr;
    size_t *len;
    size_t n;
};

static void
envs_load(struct envs *e, const char *path)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0)
        die("cannot read %s", path);
    memset(e, 0, sizeof(*e));
    e->size = (size_t)st.st_size;
    e->data = xmalloc(e->size + 1);
    if (fread(e->data, 1, e->size, f) != e->size)
        die("short read of %s", path);
    fclose(f);
    size_t cap = 1024;
    e->ptr = xmalloc(cap * sizeof(*e->ptr));
    e->len = xmalloc(cap * sizeof(*e->len));
    for (size_t off = 0; off + 4 <= e->size;) {
        uint32_t len = (uint32_t)e->data[off] | (uint32_t)e->data[off + 1] << 8 |
                       (uint32_t)e->data[off + 2] << 16 | (uint32_t)e->data[off + 3] << 24;
        if (off + 4 + len > e->size)
            die("%s: truncated envelope", path);
        if (e->n == cap) {
            cap *= 2;
            e->ptr = xrealloc(e->ptr, cap * sizeof(*e->ptr));
            e->len = xrealloc(e->len, cap * sizeof(*e->len));
        }
        e->ptr[e->n] = e->data + off + 4;
        e->len[e->n++] = len;
        off += 4 + len;
    }
}

static void
envs_free(struct envs *e)
{
    free(e->data);
    free(e->ptr);
    free(e->len);
}

static void
envs_write(FILE *f, const void *buf, size_t len)
{
    uint8_t hdr[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24) };
    if (fwrite(hdr, 1, 4, f) != 4 || fwrite(buf, 1, len, f) != len)
        die("%s", "cannot write the envelope file");
}

/* ---- seed ---- */

/* The secret key of bench origin i (1..): derived, so runs repeat. */
static void
origin_key(int i, uint8_t pk[ENV_PKBYTES], uint8_t sk[ENV_SKBYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    char label[64];
    snprintf(label, sizeof(label), "socdir bench origin %d", i);
    crypto_generichash(seed, sizeof(seed), (const uint8_t *)label, strlen(label), NULL, 0);
    crypto_sign_seed_keypair(pk, sk, seed);
}

static int
cmd_seed(int argc, char **argv)
{
    const char *db = NULL, *keydir = NULL, *envpath = NULL, *members = NULL;
    int norigins = 20, ch;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' }, { "key-dir", required_argument, NULL, 'k' },
        { "origins", required_argument, NULL, 'o' }, { "envs", required_argument, NULL, 'e' },
        { "members", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 }
    };
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'k': keydir = optarg; break;
        case 'o': norigins = atoi(optarg); break;
        case 'e': envpath = optarg; break;
        case 'm': members = optarg; break;
        default: return 2;
        }
    }
    if (db == NULL || keydir == NULL || envpath == NULL || norigins < 1 || norigins > MAX_ORIGINS)
        die("%s", "seed needs --db, --key-dir, --envs and --origins 1-64");

    char err[256];
    ident_t *me = ident_load(keydir, err, sizeof(err));
    if (me == NULL)
        die("%s", err);
    store_t *store = store_open(db, err, sizeof(err));
    if (store == NULL)
        die("%s", err);
    uint8_t pk[MAX_ORIGINS][ENV_PKBYTES], sk[MAX_ORIGINS][ENV_SKBYTES];
    uint64_t seq[MAX_ORIGINS] = { 0 };
    memcpy(pk[0], ident_pk(me), ENV_PKBYTES);
    FILE *mf = members ? fopen(members, "w") : NULL;
    for (int i = 1; i < norigins; i++) {
        char id[NODEID_LEN + 1];
        origin_key(i, pk[i], sk[i]);
        key_to_id(pk[i], id);
        if (mf)
            fprintf(mf, "\n[member bench-%02d]\nkey = %s\n", i, id);
    }
    if (mf)
        fclose(mf);
    FILE *ef = fopen(envpath, "wb");
    if (ef == NULL)
        die("cannot write %s", envpath);

    char *line = NULL;
    size_t cap = 0, n = 0, payload = 0, envbytes = 0;
    ssize_t got;
    uint64_t ts = now_ms() - 86400000, t0 = mono_us();
    if (store_begin(store) != 0)
        die("%s", store_errmsg(store));
    while ((got = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *e = json_loadb(line, (size_t)got, 0, &jerr);
        if (e == NULL)
            die("entry does not parse: %s", jerr.text);
        int o = (int)(n % (size_t)norigins);
        entry_hdr_t h = { .seq = ++seq[o], .ts = ts + n };
        memcpy(h.origin, pk[o], ENV_PKBYTES);
        snprintf(h.id, sizeof(h.id), "%s", json_string_value(json_object_get(e, "id")));
        h.kind = entry_kind_from_name(json_string_value(json_object_get(e, "kind")));
        json_object_del(e, "id");
        json_object_del(e, "kind");
        msgpack_sbuffer buf;
        uint8_t vid[ENV_VIDBYTES];
        int rc = o == 0 ? ident_seal(me, &h, e, &buf, vid, err, sizeof(err))
                        : envelope_seal(&h, e, sk[o], &buf, vid, err, sizeof(err));
        json_decref(e);
        if (rc != 0)
            die("%s", err);
        envelope_t env;
        if (envelope_open((const uint8_t *)buf.data, buf.size, &env, err, sizeof(err)) != 0)
            die("%s", err);
        if (store_put(store, (const uint8_t *)buf.data, buf.size, &env, 0) < 0)
            die("%s", store_errmsg(store));
        payload += env.payload_len;
        envbytes += buf.size;
        envelope_clear(&env);
        envs_write(ef, buf.data, buf.size);
        msgpack_sbuffer_destroy(&buf);
        if (++n % 10000 == 0 && (store_commit(store) != 0 || store_begin(store) != 0))
            die("%s", store_errmsg(store));
    }
    /* Node a holds every version of every origin: as after a pull from
     * each, its watermarks are the origins' highest seqs. */
    for (int i = 0; i < norigins; i++)
        if (seq[i] > 0 && store_set_complete(store, pk[i], seq[i]) != 0)
            die("%s", store_errmsg(store));
    if (store_commit(store) != 0)
        die("%s", store_errmsg(store));
    free(line);
    fclose(ef);
    store_close(&store);
    ident_destroy(&me);
    printf("{\"n\": %zu, \"origins\": %d, \"payload_bytes\": %zu, \"envelope_bytes\": %zu,"
           " \"seed_s\": %.3f}\n", n, norigins, payload, envbytes, secs(mono_us() - t0));
    return 0;
}

/* ---- limits ---- */

struct verify_job {
    const envelope_t *envs;
    size_t from, to;
    double seconds;
    size_t done;
    int bad;
};

static void *
verify_run(void *arg)
{
    struct verify_job *j = arg;
    uint64_t t0 = mono_us(), end = t0 + (uint64_t)(j->seconds * 1e6);
    do {
        for (size_t i = j->from; i < j->to; i++)
            j->bad |= envelope_verify(&j->envs[i]) != 0;
        j->done += j->to - j->from;
    } while (mono_us() < end);
    return NULL;
}

/* Verifications per second with nthreads threads over the sample. */
static double
verify_rate(const envelope_t *sample, size_t n, int nthreads, double seconds)
{
    struct verify_job jobs[8];
    pthread_t th[8];
    uint64_t t0 = mono_us();
    size_t total = 0;
    for (int t = 0; t < nthreads; t++) {
        jobs[t] = (struct verify_job){ sample, n * (size_t)t / (size_t)nthreads,
                                       n * (size_t)(t + 1) / (size_t)nthreads, seconds, 0, 0 };
        pthread_create(&th[t], NULL, verify_run, &jobs[t]);
    }
    for (int t = 0; t < nthreads; t++) {
        pthread_join(th[t], NULL);
        total += jobs[t].done;
        if (jobs[t].bad)
            die("%s", "a sample envelope does not verify");
    }
    return (double)total / secs(mono_us() - t0);
}

/* Signatures per second on one core, over the sample's version ids: the
 * message socdir signs is the domain string and the version id. */
static double
sign_rate(const envelope_t *sample, size_t n, double seconds)
{
    uint8_t pk[ENV_PKBYTES], sk[ENV_SKBYTES], sig[crypto_sign_BYTES];
    uint8_t msg[sizeof(ENV_SIG_DOMAIN) + ENV_VIDBYTES];
    size_t done = 0;
    crypto_sign_keypair(pk, sk);
    memcpy(msg, ENV_SIG_DOMAIN, sizeof(ENV_SIG_DOMAIN));
    uint64_t t0 = mono_us(), end = t0 + (uint64_t)(seconds * 1e6);
    do {
        for (size_t i = 0; i < n; i++) {
            memcpy(msg + sizeof(ENV_SIG_DOMAIN), sample[i].vid, ENV_VIDBYTES);
            crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
        }
        done += n;
    } while (mono_us() < end);
    return (double)done / secs(mono_us() - t0);
}

static int
cmd_limits(int argc, char **argv)
{
    const char *envpath = NULL, *db = NULL;
    size_t batch = 512;
    double seconds = 2;
    int ch;
    static const struct option opts[] = {
        { "envs", required_argument, NULL, 'e' }, { "db", required_argument, NULL, 'd' },
        { "batch", required_argument, NULL, 'b' }, { "seconds", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'e': envpath = optarg; break;
        case 'd': db = optarg; break;
        case 'b': batch = (size_t)atol(optarg); break;
        case 's': seconds = atof(optarg); break;
        default: return 2;
        }
    }
    if (envpath == NULL || db == NULL || batch == 0)
        die("%s", "limits needs --envs and --db");
    struct envs e;
    envs_load(&e, envpath);
    if (e.n == 0)
        die("no envelopes in %s", envpath);

    /* The crypto rates over a sample that stays in cache, as in a batch. */
    char err[256];
    size_t ns = e.n < 4096 ? e.n : 4096;
    envelope_t *sample = xcalloc(ns, sizeof(*sample));
    for (size_t i = 0; i < ns; i++)
        if (envelope_open(e.ptr[i], e.len[i], &sample[i], err, sizeof(err)) != 0)
            die("%s", err);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1 || cores > 8)
        cores = cores < 1 ? 1 : 8;
    double sign = sign_rate(sample, ns, seconds);
    double verify1 = verify_rate(sample, ns, 1, seconds);
    double verifyn = verify_rate(sample, ns, cores, seconds);
    for (size_t i = 0; i < ns; i++)
        envelope_clear(&sample[i]);
    free(sample);

    /* SQLite: every row, the store's schema and statements, rows derived
     * before the clock runs, one transaction per batch. */
    unlink(db);
    store_t *store = store_open(db, err, sizeof(err));
    if (store == NULL)
        die("%s", err);
    envelope_t *envs = xcalloc(batch, sizeof(*envs));
    entry_index_t *ix = xcalloc(batch, sizeof(*ix));
    int64_t *origin = xcalloc(batch, sizeof(*origin));
    uint64_t timed = 0;
    for (size_t at = 0; at < e.n; at += batch) {
        size_t m = e.n - at < batch ? e.n - at : batch;
        for (size_t i = 0; i < m; i++) {
            if (envelope_open(e.ptr[at + i], e.len[at + i], &envs[i], err, sizeof(err)) != 0)
                die("%s", err);
            entry_index_build(envs[i].body, &ix[i]);
            if ((origin[i] = store_origin(store, envs[i].hdr.origin, NULL)) < 0)
                die("%s", store_errmsg(store));
        }
        uint64_t t0 = mono_us();
        if (store_begin(store) != 0)
            die("%s", store_errmsg(store));
        for (size_t i = 0; i < m; i++)
            if (store_insert_raw(store, origin[i], e.ptr[at + i], e.len[at + i], &envs[i], &ix[i]) != 0)
                die("%s", store_errmsg(store));
        if (store_commit(store) != 0)
            die("%s", store_errmsg(store));
        timed += mono_us() - t0;
        for (size_t i = 0; i < m; i++) {
            entry_index_free(&ix[i]);
            envelope_clear(&envs[i]);
        }
    }
    store_close(&store);
    free(envs);
    free(ix);
    free(origin);
    printf("{\"n\": %zu, \"cores\": %d, \"sign_per_s\": %.0f, \"verify_per_s\": %.0f,"
           " \"verify_all_cores_per_s\": %.0f, \"sqlite_insert_per_s\": %.0f,"
           " \"sqlite_insert_s\": %.3f, \"insert_batch\": %zu}\n",
           e.n, cores, sign, verify1, verifyn, (double)e.n / secs(timed), secs(timed), batch);
    envs_free(&e);
    return 0;
}

/* ---- sql ---- */

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
cmd_sql(int argc, char **argv)
{
    const char *db = NULL;
    int runs = 50, ch;
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' }, { "runs", required_argument, NULL, 'r' },
        { NULL, 0, NULL, 0 }
    };
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': db = optarg; break;
        case 'r': runs = atoi(optarg); break;
        default: return 2;
        }
    }
    sqlite3 *h = NULL;
    if (db == NULL || runs < 1)
        die("%s", "sql needs --db");
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        die("cannot open %s", db);
    /* The store's settings for a reader: the same page cache. */
    sqlite3_exec(h, "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;", NULL, NULL, NULL);
    if (store_sql_functions(h) != 0)
        die("%s", "cannot register socdir's SQL functions");
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    uint64_t *t = xcalloc((size_t)runs, sizeof(*t));
    printf("[");
    for (int k = 0; (got = getline(&line, &cap, stdin)) > 0; k++) {
        long rows = 0;
        for (int r = 0; r < runs; r++) {
            sqlite3_stmt *st = NULL;
            uint64_t t0 = mono_us();
            if (sqlite3_prepare_v2(h, line, (int)got, &st, NULL) != SQLITE_OK)
                die("%s", sqlite3_errmsg(h));
            rows = 0;
            while (sqlite3_step(st) == SQLITE_ROW) {
                for (int c = 0; c < sqlite3_column_count(st); c++)
                    (void)sqlite3_column_blob(st, c), (void)sqlite3_column_bytes(st, c);
                rows++;
            }
            sqlite3_finalize(st);
            t[r] = mono_us() - t0;
        }
        qsort(t, (size_t)runs, sizeof(*t), cmp_u64);
        printf("%s{\"rows\": %ld, \"p50_ms\": %.3f, \"p99_ms\": %.3f}", k ? ", " : "", rows,
               (double)t[runs / 2] / 1000.0, (double)t[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1] / 1000.0);
    }
    printf("]\n");
    free(t);
    free(line);
    sqlite3_close(h);
    return 0;
}

int
main(int argc, char **argv)
{
    if (sodium_init() < 0)
        die("%s", "libsodium does not initialise");
    if (argc >= 2 && strcmp(argv[1], "seed") == 0)
        return cmd_seed(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "limits") == 0)
        return cmd_limits(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "sql") == 0)
        return cmd_sql(argc - 1, argv + 1);
    fprintf(stderr, "usage: socdir-bench seed|limits|sql ... (see tests/bench/benchtool.c)\n");
    return 2;
}
