/*
 * test_store.c: the SQLite store on ":memory:": version replacement by the
 * one order, tombstones, full-text search with diacritics, filters,
 * lookups, paging and order-independent digests; every search filter,
 * distance order, sorts and facets.
 */
#include "codes.h"
#include "selftest.h"
#include "store.h"
#include "store_bench.h"
#include "util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Facet values and counts as "v=n,v=n". */
static int
s_facet(void *arg, const char *value, int64_t count)
{
    char *out = arg;
    size_t len = strlen(out);
    snprintf(out + len, 512 - len, "%s%s=%lld", len ? "," : "", value, (long long)count);
    return 0;
}

static const char *
s_facets(store_t *st, store_query_t *q, int by, int depth)
{
    static char out[512];
    int64_t total;
    out[0] = '\0';
    q->count_by = by;
    q->depth = depth;
    CHECK(store_facets(st, q, s_facet, out, &total) == 0);
    return out;
}

/* The schema a database file records, -1 if none. */
static int
s_schema_of(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *q = NULL;
    int v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = 'schema'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/* A database of an older schema opens as schema 3 with every entry
 * kept, findable by words (folded by the new tokenizer: "kokken" finds
 * Køkken, which unicode61 did not fold) and by filters. The old schema is
 * made here from a new file: schema 2 lacks nkey and the city attribute
 * and tokenized with unicode61; schema 1 also kept the envelope in the
 * entries row and had no filter tokens. */
static void
s_upgrade_test(const struct key *a, const struct key *b, int from)
{
    char path[] = "/tmp/socdir-store-XXXXXX", err[256], v[16] = "";
    int fd = mkstemp(path);
    store_query_t q;
    int64_t total;
    sqlite3 *db;

    CHECK(fd >= 0);
    close(fd);
    store_t *st = store_open(path, err, sizeof(err));
    CHECK(st != NULL);
    s_fill(st, a, b);
    store_close(&st);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_sql_functions(db) == 0);    /* to drop an fts of tokenizer socdir */
    CHECK(sqlite3_exec(db,
                       "DROP TABLE fts; ALTER TABLE entries DROP COLUMN nkey;"
                       "DELETE FROM attrs WHERE field = 10;"
                       "CREATE VIRTUAL TABLE fts USING fts5(name, summary, description, tags, f,"
                       " content='', tokenize='unicode61 remove_diacritics 2');"
                       "INSERT INTO fts(rowid, name) SELECT rowid, name FROM entries;"
                       "UPDATE meta SET v = '2' WHERE k = 'schema';", NULL, NULL, NULL) == SQLITE_OK);
    if (from == 1)
        CHECK(sqlite3_exec(db,
                           "ALTER TABLE entries ADD COLUMN env BLOB;"
                           "UPDATE entries SET env = (SELECT env FROM envs WHERE envs.rowid = entries.rowid);"
                           "DROP TABLE envs; DROP TABLE fts;"
                           "CREATE VIRTUAL TABLE fts USING fts5(name, summary, description, tags,"
                           " content='', tokenize='unicode61 remove_diacritics 2');"
                           "UPDATE meta SET v = '1' WHERE k = 'schema';", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    /* No room for the backup and the upgrade: refused, nothing changed. */
    char bak[64], want[32];
    snprintf(bak, sizeof(bak), "%s.schema%d.bak", path, from);
    snprintf(want, sizeof(want), "from schema %d to 3 needs ", from);
    store_fake_free(1000);
    st = store_open(path, err, sizeof(err));
    store_fake_free(-1);
    CHECK(st == NULL && strstr(err, want) != NULL && strstr(err, "bytes free in /tmp") != NULL &&
          strstr(err, "only 1000 are") != NULL);
    CHECK(access(bak, F_OK) != 0);
    CHECK(s_schema_of(path) == from);

    st = store_open(path, err, sizeof(err));
    CHECK(st != NULL);
    /* The copy made first opens as the old schema, whole, marked restoring. */
    CHECK(s_schema_of(bak) == from);
    CHECK(sqlite3_open_v2(bak, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *rows = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM entries),"
                             " (SELECT v FROM meta WHERE k = 'restoring')", -1, &rows, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(rows) == SQLITE_ROW && sqlite3_column_int(rows, 0) == 4 &&
          strcmp((const char *)sqlite3_column_text(rows, 1), "1") == 0);
    sqlite3_finalize(rows);
    sqlite3_close(db);
    unlink(bak);
    if (st != NULL) {
        CHECK(store_meta_get(st, "schema", v, sizeof(v)) == 0 && strcmp(v, "3") == 0);
        q = (store_query_t){ .words = "zivnost" };
        CHECK(strcmp(s_find(st, &q, &total), "zivnost") == 0 && total == 1);
        q = (store_query_t){ .words = "kokken" };
        CHECK(strcmp(s_find(st, &q, &total), "kueche") == 0 && total == 1);
        q = (store_query_t){ .regions = AT1 };
        CHECK(strcmp(s_find(st, &q, &total), "glanz,kueche") == 0 && total == 2);
        q = (store_query_t){ .near = true, .lat = 48.2, .lon = 15.6, .km = 1 };
        CHECK(strcmp(s_find(st, &q, &total), "kueche") == 0 && total == 1);   /* geo rebuilt once */
        q = (store_query_t){ 0 };    /* by name: Cleaning, Køkken, Partnerstvo, Soziale */
        CHECK(strcmp(s_find(st, &q, &total), "glanz,kueche,zivnost,kueche") == 0 && total == 4);
        store_close(&st);
    }

    /* A library update that changes the folding (the recorded tables
     * differ): opening rebuilds every index from the envelopes, so a word
     * the old folding left in the index is gone, and records the tables. */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(store_sql_functions(db) == 0);
    CHECK(sqlite3_exec(db, "INSERT INTO fts(rowid, name) SELECT rowid, 'stalewort' FROM entries LIMIT 1;"
                       "UPDATE meta SET v = 'utf8proc 0 (Unicode 1.0), SQLite 0' WHERE k = 'fold';",
                       NULL, NULL, NULL) == SQLITE_OK && sqlite3_changes(db) == 1);
    sqlite3_close(db);
    st = store_open(path, err, sizeof(err));
    CHECK(st != NULL);
    if (st != NULL) {
        char fold[160] = "";
        CHECK(store_meta_get(st, "fold", fold, sizeof(fold)) == 0 && strncmp(fold, "utf8proc 0", 10) != 0 &&
              strstr(fold, "Unicode") != NULL);
        q = (store_query_t){ .words = "stalewort" };
        CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
        q = (store_query_t){ .words = "kokken" };
        CHECK(strcmp(s_find(st, &q, &total), "kueche") == 0 && total == 1);
        q = (store_query_t){ .near = true, .lat = 48.2, .lon = 15.6, .km = 1 };
        CHECK(strcmp(s_find(st, &q, &total), "kueche") == 0 && total == 1);
        store_close(&st);
    }
    unlink(path);
    char side[64];
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

/* Words fold in every script, on both sides: each query finds its entry
 * in the federation's languages, and the address's words and city are
 * searched. Names sort by their folded form. */
static void
s_fold_test(const struct key *a)
{
    static const struct {
        const char *id, *body;
    } e[] = {
        { "el", "{\"name\":{\"el\":\"Κοινωνική Συνεταιριστική Επιχείρηση\"},\"country\":\"GR\"}" },
        { "da", "{\"name\":{\"da\":\"Økologiske Grøntsager Ærø\"},\"country\":\"DK\","
                "\"address\":{\"street\":\"Vestergade 5\",\"postcode\":\"5970\",\"city\":\"Ærøskøbing\"}}" },
        { "de", "{\"name\":{\"de\":\"Werkstätte an der Straße\"},\"country\":\"AT\","
                "\"address\":{\"street\":\"Wiener Straße 12\",\"city\":\"St. Pölten\"}}" },
        { "cs", "{\"name\":{\"cs\":\"Sociální družstvo Šťastný\"},\"country\":\"CZ\","
                "\"address\":{\"city\":\"Nové Město na Moravě\"}}" },
        { "hu", "{\"name\":{\"hu\":\"Őrségi Szövetkezet\"},\"country\":\"HU\"}" },
        { "sl", "{\"name\":{\"sl\":\"Zadruga Čebelica\"},\"country\":\"SI\","
                "\"address\":{\"street\":\"Trg osvoboditve 7\",\"city\":\"Lenart v Slovenskih goricah\"}}" },
        { "bg", "{\"name\":{\"bg\":\"Социално предприятие Ёлха\"},\"country\":\"BG\","
                "\"address\":{\"city\":\"София\"}}" },
        { "pl", "{\"name\":{\"pl\":\"Spółdzielnia Łódź\"},\"country\":\"PL\"}" },
        { "hr", "{\"name\":{\"hr\":\"Zadruga Đakovo\"},\"country\":\"HR\"}" },
        { "is", "{\"name\":{\"is\":\"Þjónusta\"},\"country\":\"IS\"}" },
    };
    static const struct {
        const char *words, *found;
    } cases[] = {
        { "κοινωνικη", "el" }, { "ΚΟΙΝΩΝΙΚΉ", "el" }, { "κοινωνική", "el" }, { "επιχειρηση", "el" },
        { "okologiske", "da" }, { "aero", "da" }, { "AERO", "da" }, { "grontsager", "da" },
        { "strasse", "de" }, { "STRASSE", "de" }, { "Straße", "de" }, { "werkstatte", "de" },
        { "wiener strasse 12", "de" }, { "polten", "de" },
        { "socialni druzstvo", "cs" }, { "stastny", "cs" }, { "mesto", "cs" },
        { "orsegi", "hu" }, { "szovetkezet", "hu" }, { "cebelica", "sl" }, { "lenart", "sl" },
        { "5970", "da" }, { "aeroskobing", "da" },
        { "елха", "bg" }, { "ёлха", "bg" }, { "софия", "bg" }, { "СОФИЯ", "bg" },
        { "lodz", "pl" }, { "spoldzielnia", "pl" }, { "dakovo", "hr" }, { "thjonusta", "is" },
    };
    char err[256];
    int64_t total;
    store_query_t q;
    store_t *st = store_open(":memory:", err, sizeof(err));
    CHECK(st != NULL);
    if (st == NULL)
        return;
    for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
        CHECK(s_put(st, a, e[i].id, KIND_ORGANISATION, i + 1, false, e[i].body) == STORE_NEW);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        q = (store_query_t){ .words = cases[i].words };
        const char *got = s_find(st, &q, &total);
        if (strcmp(got, cases[i].found) != 0)
            fprintf(stderr, "search '%s': found '%s', want '%s'\n", cases[i].words, got, cases[i].found);
        CHECK(strcmp(got, cases[i].found) == 0 && total == 1);
    }

    static const char *const lenart[] = { "lenart v slovenskih goricah", NULL };
    static const char *const two[] = { "nove mesto na morave", "софия", NULL };
    static const char *const part[] = { "lenart", NULL };
    q = (store_query_t){ .cities = lenart };
    CHECK(strcmp(s_find(st, &q, &total), "sl") == 0 && total == 1);
    q = (store_query_t){ .cities = two };
    CHECK(strcmp(s_find(st, &q, &total), "cs,bg") == 0 && total == 2);
    q = (store_query_t){ .cities = part };           /* the whole name, not a word of it */
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    q = (store_query_t){ .cities = two, .words = "druzstvo" };
    CHECK(strcmp(s_find(st, &q, &total), "cs") == 0 && total == 1);
    q = (store_query_t){ .cities = lenart, .near = true, .lat = 46.5, .lon = 15.8 };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);   /* no point: not near */

    /* By name, folded: Økologiske and Őrségi with the o's, Þjónusta with
     * the t's, Zadruga Čebelica before Zadruga Đakovo; Greek, then
     * Cyrillic, after Latin, as in Unicode's default collation. */
    q = (store_query_t){ .sort = STORE_SORT_NAME, .limit = 16 };
    CHECK(strcmp(s_find(st, &q, &total), "da,hu,cs,pl,is,de,sl,hr,el,bg") == 0 && total == 10);
    store_close(&st);
}

/* The search filters alone and combined, distance order, sorts and
 * facets, on entries shaped like the demo's. */
static void
s_filters_test(const struct key *a, const struct key *b)
{
    char err[256];
    store_query_t q;
    int64_t total;
    store_t *st = store_open(":memory:", err, sizeof(err));
    CHECK(st != NULL);
    if (st == NULL)
        return;
    /* St. Poelten, Wiener Neustadt (~60 km), Maribor (~190 km), Aarhus. */
    CHECK(s_put(st, a, "glanz", KIND_ORGANISATION, 1, false,
                "{\"name\":{\"de\":\"Glanzwerk\"},\"country\":\"AT\",\"region\":\"AT123\","
                "\"geo\":{\"lat\":48.1968,\"lon\":15.6402},\"labels\":[\"AT-SOEB\",\"EU-ART20\"],"
                "\"disadvantaged_share\":48,\"nace\":[\"81.21\",\"81.22\"],"
                "\"cpv\":[\"90910000-9\",\"90911200-8\"],\"target_groups\":[\"ltu\"],"
                "\"partnership_types\":[\"reserved_contract\"],\"org_types\":[\"wise\"]}") == STORE_NEW);
    CHECK(s_put(st, a, "kueche", KIND_ORGANISATION, 2, false,
                "{\"name\":{\"de\":\"Soziale Kueche\"},\"country\":\"AT\",\"region\":\"AT122\","
                "\"geo\":{\"lat\":47.8079,\"lon\":16.2391},\"labels\":[\"AT-SOEB\"],"
                "\"disadvantaged_share\":25,\"nace\":[\"56.29\"],\"cpv\":[\"55520000\"],"
                "\"target_groups\":[\"youth_neet\"],\"org_types\":[\"wise\",\"social_business\"]}") == STORE_NEW);
    CHECK(s_put(st, a, "fair", KIND_EVENT, 3, false,
                "{\"name\":{\"de\":\"Messe\"},\"country\":\"AT\",\"region\":\"AT12\","
                "\"start\":\"2026-12-03T09:00:00+01:00\"}") == STORE_NEW);
    CHECK(s_put(st, b, "maribor", KIND_ORGANISATION, 1, false,
                "{\"name\":{\"sl\":\"Cistilni servis\"},\"country\":\"SI\",\"region\":\"SI032\","
                "\"geo\":{\"lat\":46.5547,\"lon\":15.6459},\"labels\":[\"SI-SOCP\",\"EU-ART20\"],"
                "\"disadvantaged_share\":60,\"nace\":[\"81.2\"],\"cpv\":[\"90919200\"],"
                "\"partnership_types\":[\"subcontracting\"],\"org_types\":[\"social_cooperative\"]}") == STORE_NEW);

    CHECK(s_put(st, b, "aarhus", KIND_EVENT, 2, false,
                "{\"name\":{\"da\":\"Matchmaking Aarhus\"},\"country\":\"DK\",\"region\":\"DK042\","
                "\"geo\":{\"lat\":56.1629,\"lon\":10.2039},\"start\":\"2027-03-10\"}") == STORE_NEW);
    store_origin(st, b->pk, "Podravje");

    /* Each filter alone. */
    q = (store_query_t){ .nace = (const char *[]){ "81", NULL } };
    CHECK(strcmp(s_find(st, &q, &total), "maribor,glanz") == 0 && total == 2);
    q = (store_query_t){ .nace = (const char *[]){ "81.21", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz") == 0);
    q = (store_query_t){ .cpv = (const char *[]){ "9091", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,glanz") == 0);
    q = (store_query_t){ .cpv = (const char *[]){ "90911200", "555", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz,kueche") == 0);
    q = (store_query_t){ .labels = (const char *[]){ "EU-ART20", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,glanz") == 0);
    q = (store_query_t){ .target_groups = (const char *[]){ "youth_neet", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .partnerships = (const char *[]){ "subcontracting", "reserved_contract", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,glanz") == 0);
    q = (store_query_t){ .org_types = (const char *[]){ "social_business", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .origins = (const char *[]){ "Podravje", NULL } };
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,aarhus") == 0);
    char id[NODEID_LEN + 1];
    key_to_id(a->pk, id);
    q = (store_query_t){ .origins = (const char *[]){ id, NULL } };
    CHECK(s_find(st, &q, &total) != NULL && total == 3);
    q = (store_query_t){ .has_min_share = true, .min_share = 48 };
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,glanz") == 0);
    q = (store_query_t){ .since_ms = 1800000000002LL };
    CHECK(strcmp(s_find(st, &q, NULL), "aarhus,fair,kueche") == 0);   /* ts = 1800000000000 + seq */
    int64_t from = 0, before = 0;
    CHECK(entry_parse_time("2026-12-03", &from) == 0 && entry_parse_time("2027-03-10", &before) == 0);
    q = (store_query_t){ .has_from = true, .from_ms = from, .has_before = true, .before_ms = before };
    CHECK(strcmp(s_find(st, &q, NULL), "fair") == 0);           /* 09:00+01:00 is 08:00Z */
    q.before_ms = before + 1;
    CHECK(strcmp(s_find(st, &q, NULL), "aarhus,fair") == 0);

    /* Near: within the radius only, nearest first, distance reported. */
    q = (store_query_t){ .near = true, .lat = 48.2, .lon = 15.63, .km = 80 };
    CHECK(strcmp(s_find(st, &q, &total), "glanz,kueche") == 0 && total == 2);
    q.km = 250;
    CHECK(strcmp(s_find(st, &q, NULL), "glanz,kueche,maribor") == 0);
    q.sort = STORE_SORT_NAME;
    CHECK(strcmp(s_find(st, &q, NULL), "maribor,glanz,kueche") == 0);
    q = (store_query_t){ .near = true, .lat = 0, .lon = 0 };    /* no radius: all with a point */
    CHECK(s_find(st, &q, &total) != NULL && total == 4);

    /* Combined, and with words (FTS drives, filters apply). */
    q = (store_query_t){ .cpv = (const char *[]){ "9091", NULL }, .labels = (const char *[]){ "EU-ART20", NULL },
                         .countries = AT, .has_min_share = true, .min_share = 30 };
    CHECK(strcmp(s_find(st, &q, NULL), "glanz") == 0);
    q = (store_query_t){ .words = "glanzwerk", .nace = (const char *[]){ "81", NULL },
                         .near = true, .lat = 48.2, .lon = 15.63, .km = 10 };
    CHECK(strcmp(s_find(st, &q, &total), "glanz") == 0 && total == 1);
    q = (store_query_t){ .words = "matchmaking", .countries = AT };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    q = (store_query_t){ .sort = STORE_SORT_UPDATED, .kinds = (const int[]){ KIND_ORGANISATION, 0 } };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche,glanz,maribor") == 0);
    /* A NACE section letter, alone and as a filter of words. */
    store_t *sec = store_open(":memory:", err, sizeof(err));
    CHECK(sec != NULL && s_put(sec, b, "section", KIND_ORGANISATION, 1, false,
                               "{\"name\":{\"sl\":\"Oskrba\"},\"country\":\"SI\","
                               "\"nace\":[\"Q\"]}") == STORE_NEW);
    CHECK(s_put(sec, b, "digits", KIND_ORGANISATION, 2, false,
                "{\"name\":{\"sl\":\"Oskrba doma\"},\"nace\":[\"88.10\"]}") == STORE_NEW);
    q = (store_query_t){ .nace = (const char *[]){ "Q", NULL } };
    CHECK(strcmp(s_find(sec, &q, &total), "section") == 0 && total == 1);
    q = (store_query_t){ .words = "oskrba", .nace = (const char *[]){ "Q", NULL } };
    CHECK(strcmp(s_find(sec, &q, &total), "section") == 0 && total == 1);
    q = (store_query_t){ .words = "oskrba", .nace = (const char *[]){ "88", NULL } };
    CHECK(strcmp(s_find(sec, &q, &total), "digits") == 0 && total == 1);
    store_close(&sec);
    /* Words ordered by name or date (the rank cannot share a window). */
    q = (store_query_t){ .words = "servis OR", .sort = STORE_SORT_NAME };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    q = (store_query_t){ .words = "servis", .sort = STORE_SORT_NAME };
    CHECK(strcmp(s_find(st, &q, &total), "maribor") == 0 && total == 1);
    q = (store_query_t){ .words = "servis", .sort = STORE_SORT_UPDATED, .offset = 5 };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 1);
    /* More values than a search may bind: an error, nothing freed twice. */
    const char *many[200];
    for (int i = 0; i < 199; i++)
        many[i] = "Podravje";
    many[199] = NULL;
    q = (store_query_t){ .words = "servis", .origins = many };
    struct hits none = { 0 };
    CHECK(store_search(st, &q, s_hit, &none, &total) == -1 && none.n == 0);

    /* Facets over every match, most first; depth cuts codes. */
    q = (store_query_t){ 0 };
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_COUNTRY, 0), "AT=3,DK=1,SI=1") == 0);
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_REGION, 1), "AT1=3,DK0=1,SI0=1") == 0);
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_KIND, 0), "organisation=3,event=2") == 0);
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_LABEL, 0), "AT-SOEB=2,EU-ART20=2,SI-SOCP=1") == 0);
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_CPV, 4), "9091=2,5552=1") == 0);   /* one per entry */
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_NACE, 3), "81.2=2,56.2=1") == 0);
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_NACE, 0), "56.29=1,81.2=1,81.21=1,81.22=1") == 0);
    q = (store_query_t){ .labels = (const char *[]){ "EU-ART20", NULL } };
    CHECK(strcmp(s_facets(st, &q, STORE_FACET_REGION, 2), "AT12=1,SI03=1") == 0);
    store_close(&st);

    /* The R*Tree box must not lose points across the antimeridian or
     * near a pole. */
    st = store_open(":memory:", err, sizeof(err));
    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(s_put(st, a, "fiji", KIND_ORGANISATION, 1, false,
                "{\"name\":{\"en\":\"Fiji\"},\"geo\":{\"lat\":-17.0,\"lon\":-179.95}}") == STORE_NEW);
    CHECK(s_put(st, a, "pole", KIND_ORGANISATION, 2, false,
                "{\"name\":{\"en\":\"Pole\"},\"geo\":{\"lat\":89.95,\"lon\":100}}") == STORE_NEW);
    q = (store_query_t){ .near = true, .lat = -17.0, .lon = 179.95, .km = 20 };
    CHECK(strcmp(s_find(st, &q, NULL), "fiji") == 0);
    q = (store_query_t){ .near = true, .lat = 89.95, .lon = -80, .km = 20 };
    CHECK(strcmp(s_find(st, &q, NULL), "pole") == 0);
    q.km = 5;
    CHECK(strcmp(s_find(st, &q, NULL), "") == 0);
    store_close(&st);
}

int
store_test(bool verbose)
{
    char err[256], d1[65], d2[65], d3[65];
    struct key a, b;
    store_query_t q;
    int64_t total;
    (void)verbose;

    /* The node maps a request's sort and count_by to these by position. */
    CHECK(strcmp(code_sorts[STORE_SORT_RELEVANCE - 1], "relevance") == 0 &&
          strcmp(code_sorts[STORE_SORT_DISTANCE - 1], "distance") == 0 &&
          code_sorts[STORE_SORT_DISTANCE] == NULL);
    CHECK(strcmp(code_facets[STORE_FACET_REGION - 1], "region") == 0 &&
          strcmp(code_facets[STORE_FACET_NACE - 1], "nace") == 0 &&
          strcmp(code_facets[STORE_FACET_KIND - 1], "kind") == 0 && code_facets[STORE_FACET_KIND] == NULL);

    s_key(&a, 1);
    s_key(&b, 2);
    store_t *st = store_open(":memory:", err, sizeof(err));
    CHECK(st != NULL);
    if (st == NULL)
        return 1;
    s_fill(st, &a, &b);
    s_upgrade_test(&a, &b, 1);
    s_upgrade_test(&a, &b, 2);
    s_fold_test(&a);

    /* Full text ignores diacritics both ways. */
    q = (store_query_t){ .words = "zivnost" };
    CHECK(strcmp(s_find(st, &q, &total), "zivnost") == 0 && total == 1);
    q = (store_query_t){ .words = "Kuche" };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .words = "k\u00fcche soziale" };
    CHECK(strcmp(s_find(st, &q, NULL), "kueche") == 0);
    q = (store_query_t){ .words = "\"unbalanced AND (" };     /* no FTS syntax leaks through */
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    /* Words never match the filter tokens (country AT is "cat", kind 1 "k1"). */
    q = (store_query_t){ .words = "cat" };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    q = (store_query_t){ .words = "k1" };
    CHECK(strcmp(s_find(st, &q, &total), "") == 0 && total == 0);
    /* Words and token filters in one MATCH, and a condition on entries. */
    q = (store_query_t){ .words = "reinigung", .countries = AT };
    CHECK(strcmp(s_find(st, &q, &total), "glanz") == 0 && total == 1);
    q = (store_query_t){ .words = "reinigung", .countries = AT, .since_ms = 1800000000002LL };
    CHECK(strcmp(s_find(st, &q, &total), "glanz") == 0 && total == 1);
    q = (store_query_t){ .words = "reinigung", .countries = AT, .since_ms = 1800000000003LL };
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
    s_filters_test(&a, &b);
    return 0;
}
