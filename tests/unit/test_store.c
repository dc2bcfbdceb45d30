/*
 * test_store.c: the SQLite store on ":memory:": version replacement by the
 * one order, tombstones, full-text search with diacritics, filters,
 * lookups, paging and order-independent digests.
 */
#include "selftest.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct key {
    uint8_t pk[ENV_PKBYTES], sk[ENV_SKBYTES];
};

static void
s_key(struct key *k, uint8_t first)
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, first, sizeof(seed));
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
}

/* Seals body (JSON text) as (k, id) at seq and stores it; returns store_put's result. */
static int
s_put(store_t *st, const struct key *k, const char *id, int kind, uint64_t seq, bool deleted,
      const char *body_json)
{
    entry_hdr_t h = { .kind = kind, .seq = seq, .ts = 1800000000000ULL + seq, .deleted = deleted };
    msgpack_sbuffer buf;
    envelope_t env;
    uint8_t vid[ENV_VIDBYTES];
    char err[256];

    memcpy(h.origin, k->pk, ENV_PKBYTES);
    snprintf(h.id, sizeof(h.id), "%s", id);
    json_t *body = json_loads(body_json, 0, NULL);
    CHECK(body != NULL);
    CHECK(envelope_seal(&h, body, k->sk, &buf, vid, err, sizeof(err)) == 0);
    CHECK(envelope_open((const uint8_t *)buf.data, buf.size, &env, err, sizeof(err)) == 0);
    int rc = store_put(st, (const uint8_t *)buf.data, buf.size, &env, 0);
    envelope_clear(&env);
    msgpack_sbuffer_destroy(&buf);
    json_decref(body);
    return rc;
}

struct hits {
    int n;
    char ids[16][ENTRY_ID_MAX + 1];
};

static int
s_hit(void *arg, const store_row_t *row)
{
    struct hits *h = arg;
    envelope_t env;
    char err[256];
    if (envelope_open(row->env, row->env_len, &env, err, sizeof(err)) == 0) {
        if (h->n < 16)
            snprintf(h->ids[h->n], sizeof(h->ids[0]), "%s", env.hdr.id);
        envelope_clear(&env);
    }
    h->n++;
    return 0;
}

/* Runs a search and returns the ids found, comma-separated, in order. */
static const char *
s_find(store_t *st, const store_query_t *q, int64_t *total)
{
    static char out[512];
    struct hits h = { 0 };
    int64_t t = -1;
    CHECK(store_search(st, q, s_hit, &h, &t) == 0);
    out[0] = '\0';
    for (int i = 0; i < h.n && i < 16; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", h.ids[i]);
    if (total)
        *total = t;
    return out;
}

static const char *const AT[] = { "AT", NULL };
static const char *const AT1[] = { "AT1", NULL };
static const char *const SI_DK[] = { "SI032", "DK", NULL };

static void
s_fill(store_t *st, const struct key *a, const struct key *b)
{
    CHECK(s_put(st, a, "kueche", KIND_ORGANISATION, 1, false,
                "{\"name\":{\"de\":\"Soziale K\u00fcche\"},\"country\":\"AT\",\"region\":\"AT123\","
                "\"geo\":{\"lat\":48.2,\"lon\":15.6},\"languages\":[\"de\"]}") == STORE_NEW);
    CHECK(s_put(st, a, "glanz", KIND_OFFER, 2, false,
                "{\"name\":{\"de\":\"Reinigung\",\"en\":\"Cleaning\"},\"country\":\"AT\",\"region\":\"AT122\"}")
          == STORE_NEW);
    CHECK(s_put(st, b, "zivnost", KIND_PARTNERSHIP, 1, false,
                "{\"name\":{\"sl\":\"Partnerstvo\"},\"summary\":{\"cs\":\"Drobn\u00e1 \u017eivnost v Ostrav\u011b\"},"
                "\"country\":\"SI\",\"region\":\"SI032\"}") == STORE_NEW);
    CHECK(s_put(st, b, "kueche", KIND_ORGANISATION, 2, false,
                "{\"name\":{\"da\":\"K\u00f8kken\"},\"country\":\"DK\",\"region\":\"DK042\"}") == STORE_NEW);
}

int
store_test(bool verbose)
{
    char err[256], d1[65], d2[65], d3[65];
    struct key a, b;
    store_query_t q;
    int64_t total;
    (void)verbose;

    s_key(&a, 1);
    s_key(&b, 2);
    store_t *st = store_open(":memory:", err, sizeof(err));
    CHECK(st != NULL);
    if (st == NULL)
        return 1;
    s_fill(st, &a, &b);

    /* Full text ignores diacritics both ways. */
    q = (store_query_t){ .words = "zivnost" };
    CHECK(strcmp(s_find(st, &q, &total), "zivnost") == 0 && total == 1);
    q = (store_query_t){ .words = "Kuche" };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .words = "k\u00fcche soziale" };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .words = "\"unbalanced AND (" };     /* no FTS syntax leaks through */
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);

    /* Filters: NUTS prefix, country lists, kinds, language. */
    q = (store_query_t){ .regions = AT1 };
    CHECK(strcmp(s_find(st, &q, &total), "glanz,kueche") == 0 && total == 2);
    q = (store_query_t){ .regions = SI_DK };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche,zivnost") == 0);
    q = (store_query_t){ .countries = AT, .kinds = (const int[]){ KIND_OFFER, 0 } };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz") == 0);
    q = (store_query_t){ .lang = "cs" };
    CHECK(strcmp(s_find(st, &q, NULL), "zivnost") == 0);
    q = (store_query_t){ .limit = 1, .offset = 1 };
    CHECK(strcmp(s_find(st, &q, &total), "kueche") == 0 && total == 4);

    /* Newer versions replace, older and equal ones are refused. */
    CHECK(s_put(st, &a, "glanz", KIND_OFFER, 2, false,
                "{\"name\":{\"de\":\"Reinigung\",\"en\":\"Cleaning\"},\"country\":\"AT\",\"region\":\"AT122\"}")
          == STORE_OLDER);
    CHECK(s_put(st, &a, "glanz", KIND_OFFER, 5, false,
                "{\"name\":{\"en\":\"Window cleaning\"},\"country\":\"AT\",\"region\":\"AT122\"}") == STORE_REPLACED);
    q = (store_query_t){ .words = "Reinigung" };
    CHECK(strcmp(s_find(st, &q, NULL), "") == 0);         /* old text left the index */
    q = (store_query_t){ .words = "window" };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz") == 0);
    CHECK(s_put(st, &a, "glanz", KIND_OFFER, 3, false, "{\"name\":{\"en\":\"x\"}}") == STORE_OLDER);

    /* A tombstone wins, hides the entry, and the old version cannot return. */
    CHECK(s_put(st, &a, "glanz", KIND_OFFER, 6, true, "{}") == STORE_REPLACED);
    q = (store_query_t){ .words = "window" };
    CHECK(strcmp(s_find(st, &q, NULL), "") == 0);
    q = (store_query_t){ .kinds = (const int[]){ KIND_OFFER, 0 }, .include_deleted = true };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz") == 0);      /* a tombstone carries no fields */
    CHECK(s_put(st, &a, "glanz", KIND_OFFER, 5, false,
                "{\"name\":{\"en\":\"Window cleaning\"},\"country\":\"AT\",\"region\":\"AT122\"}") == STORE_OLDER);
    entry_version_t v;
    CHECK(store_version(st, a.pk, "glanz", &v) == 1 && v.seq == 6 && v.deleted);
    CHECK(store_version(st, a.pk, "nothing", &v) == 0);
    uint64_t max_seq, max_ts;
    CHECK(store_origin_max(st, a.pk, &max_seq, &max_ts) == 0 && max_seq == 6);

    /* Lookups by id: one origin, or every origin holding it. */
    struct hits h = { 0 };
    CHECK(store_get(st, NULL, "kueche", s_hit, &h) == 2);
    h.n = 0;
    CHECK(store_get(st, b.pk, "kueche", s_hit, &h) == 1);
    h.n = 0;
    CHECK(store_scan(st, 0, 3, s_hit, &h) == 3 && store_scan(st, 3, 10, s_hit, &h) == 1);

    /* Digests: same versions in another order give the same digest;
     * one version more or less gives another. */
    CHECK(store_summary(st, NULL, NULL, d1) == 0);
    store_t *other = store_open(":memory:", err, sizeof(err));
    CHECK(s_put(other, &a, "glanz", KIND_OFFER, 6, true, "{}") == STORE_NEW);
    CHECK(s_put(other, &b, "kueche", KIND_ORGANISATION, 2, false,
                "{\"name\":{\"da\":\"K\u00f8kken\"},\"country\":\"DK\",\"region\":\"DK042\"}") == STORE_NEW);
    CHECK(s_put(other, &b, "zivnost", KIND_PARTNERSHIP, 1, false,
                "{\"name\":{\"sl\":\"Partnerstvo\"},\"summary\":{\"cs\":\"Drobn\u00e1 \u017eivnost v Ostrav\u011b\"},"
                "\"country\":\"SI\",\"region\":\"SI032\"}") == STORE_NEW);
    CHECK(store_summary(other, NULL, NULL, d2) == 0);
    CHECK(strcmp(d1, d2) != 0);
    CHECK(s_put(other, &a, "kueche", KIND_ORGANISATION, 1, false,
                "{\"name\":{\"de\":\"Soziale K\u00fcche\"},\"country\":\"AT\",\"region\":\"AT123\","
                "\"geo\":{\"lat\":48.2,\"lon\":15.6},\"languages\":[\"de\"]}") == STORE_NEW);
    CHECK(store_summary(other, NULL, NULL, d3) == 0);
    CHECK(strcmp(d1, d3) == 0);
    store_close(&other);
    store_close(&st);
    CHECK(st == NULL);
    store_close(&st);       /* safe to repeat */
    return 0;
}
