/*
 * test_node.c: a node in the process, no network: its write path and its
 * restore, with a store that fails on demand (store_fault), so that each
 * error is seen to propagate. A failed savepoint, watermark or commit
 * undoes the whole publish and says so; a restore whose store writes fail
 * stays restoring. (That nothing written in a failed request reaches a
 * peer is shown on real nodes by tests/integration/t140-no-fork.sh.)
 */
#include "msg.h"
#include "node.h"
#include "origin.h"
#include "peer.h"
#include "selftest.h"
#include "store_bench.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A node in a new temporary folder whose config lists one member (a
 * fresh key, never reachable). Writes the folder's path into dir. */
static node_t *
s_node(char dir[64], bool lose_db, uint8_t member_pk[ENV_PKBYTES])
{
    char err[512], path[128], id[NODEID_LEN + 1];
    uint8_t sk[ENV_SKBYTES];
    snprintf(dir, 64, "/tmp/socdir-node-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/data", dir);
    ident_t *ident = ident_create(path, err, sizeof(err));
    CHECK(ident != NULL);
    ident_destroy(&ident);
    snprintf(path, sizeof(path), "%s/data/socdir.db", dir);
    store_t *st = store_open(path, err, sizeof(err));     /* as init makes it */
    CHECK(st != NULL);
    store_close(&st);
    crypto_sign_keypair(member_pk, sk);
    key_to_id(member_pk, id);
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "[node]\nname = t\ndata = data\n[member b]\nkey = %s\n", id);
    fclose(f);
    conf_t *c = conf_load(path, err, sizeof(err));
    CHECK(c != NULL);
    node_t *n = node_new(&c, err, sizeof(err));
    CHECK(n != NULL);
    if (n != NULL && lose_db) {
        /* Lose the database: the next node_new finds it missing. */
        node_destroy(&n);
        snprintf(path, sizeof(path), "%s/data/socdir.db", dir);
        unlink(path);
        snprintf(path, sizeof(path), "%s/node.conf", dir);
        c = conf_load(path, err, sizeof(err));
        n = node_new(&c, err, sizeof(err));
        CHECK(n != NULL);
    }
    return n;
}

static void
s_rmdir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Publishes n organisations named PREFIX-i; returns the reply. */
static json_t *
s_publish(node_t *n, const char *prefix, int count)
{
    json_t *list = json_array();
    for (int i = 0; i < count; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        json_array_append_new(list, json_pack("{s:s, s:s, s:{s:s}, s:s}", "id", id, "kind",
                                              "organisation", "name", "en", id, "country", "AT"));
    }
    json_t *req = json_pack("{s:s, s:o}", "op", "publish", "entries", list);
    json_t *reply = node_handle(n, MSG_PUBLISH, req);
    json_decref(req);
    return reply;
}

static int64_t
s_entries(node_t *n)
{
    json_t *req = json_pack("{s:s}", "op", "status");
    json_t *st = node_handle(n, MSG_STATUS, req);
    int64_t e = json_integer_value(json_object_get(st, "versions"));
    json_decref(st);
    json_decref(req);
    return e;
}

static bool
s_failed_whole(json_t *reply)
{
    const char *e = json_string_value(json_object_get(reply, "error"));
    bool ok = !json_is_true(json_object_get(reply, "ok")) && e != NULL &&
              strstr(e, "injected fault") != NULL && strstr(e, "nothing was stored") != NULL;
    json_decref(reply);
    return ok;
}

static void
s_test_write_faults(void)
{
    char dir[64];
    uint8_t member[ENV_PKBYTES];
    node_t *n = s_node(dir, false, member);
    if (n == NULL)
        return;
    store_t *st = node_store(n);

    /* Each of these failing undoes the whole batch. */
    static const struct { const char *what; int skip; } faults[] = {
        { "savepoint", 2 }, { "release savepoint", 2 }, { "watermark", 0 }, { "commit", 0 } };
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        store_fault(st, faults[i].what, faults[i].skip);
        CHECK(s_failed_whole(s_publish(n, "f", 5)));
        CHECK(s_entries(n) == 0);
    }
    /* An item that fails alone is undone alone... */
    json_t *reply = s_publish(n, "ok", 3);
    CHECK(json_integer_value(json_object_get(reply, "stored")) == 3);
    json_decref(reply);
    /* ...and so is one whose own write fails, the rest of the batch stored. */
    store_fault(st, "entry write", 1);
    reply = s_publish(n, "half", 3);
    CHECK(json_is_true(json_object_get(reply, "ok")));
    CHECK(json_integer_value(json_object_get(reply, "stored")) == 2 &&
          json_integer_value(json_object_get(reply, "rejected")) == 1);
    json_decref(reply);
    CHECK(s_entries(n) == 5);
    /* The sequence numbers of failed requests are not used again. */
    uint64_t max_seq = 0, max_ts;
    CHECK(store_origin_max(st, ident_pk(node_ident(n)), &max_seq, &max_ts) == 0);
    CHECK(max_seq > 5);
    node_destroy(&n);
    s_rmdir(dir);
}

/* A SYNC_END answering the pull in flight on the member's link, reporting
 * that the member holds this node's own seqs up to max_seq. */
static void
s_finish_pull(node_t *n, uint64_t req, uint64_t max_seq)
{
    CHECK(links_count(node_links(n)) == 1);
    sync_peer_t *sp = peer_sync(links_peer(node_links(n), 0));
    wire_mark_t m = { .complete = max_seq, .max_seq = max_seq, .count = max_seq };
    memcpy(m.origin, ident_pk(node_ident(n)), ENV_PKBYTES);
    msgpack_sbuffer f;
    wire_sync_end(&f, req, &m, 1);
    CHECK(sync_peer_recv(sp, f.data, f.size, true, now_ms()) == 0);
    msgpack_sbuffer_destroy(&f);
}

static void
s_test_restore_faults(void)
{
    char dir[64];
    uint8_t member[ENV_PKBYTES];
    node_t *n = s_node(dir, true, member);
    if (n == NULL)
        return;
    CHECK(node_restoring(n));
    json_t *reply = s_publish(n, "early", 1);
    CHECK(strstr(json_string_value(json_object_get(reply, "error")), "restoring") != NULL);
    json_decref(reply);

    /* The member is reached and its pull ends, but the store cannot record
     * that the restore is over: the node stays restoring. */
    sync_peer_t *sp = peer_sync(links_peer(node_links(n), 0));
    sync_peer_connected(sp, now_ms());          /* sends SYNC req 1 (nowhere) */
    store_fault(node_store(n), "meta", 0);
    s_finish_pull(n, 1, 20);
    CHECK(node_restoring(n));
    /* The same with the watermark. */
    sync_peer_disconnected(sp);
    sync_peer_connected(sp, now_ms());          /* req 2 */
    store_fault(node_store(n), "watermark", 1);
    s_finish_pull(n, 2, 20);
    CHECK(node_restoring(n));
    /* A pull that goes through ends it, above what the member reported. */
    sync_peer_disconnected(sp);
    sync_peer_connected(sp, now_ms());          /* req 3 */
    s_finish_pull(n, 3, 20);
    CHECK(!node_restoring(n));
    reply = s_publish(n, "after", 1);
    json_t *r0 = json_array_get(json_object_get(reply, "results"), 0);
    CHECK(json_integer_value(json_object_get(r0, "seq")) == 21);
    json_decref(reply);
    node_destroy(&n);
    s_rmdir(dir);
}

/* When a start may write at once (PROTOCOL.md 4.6). */
static void
s_test_judge(void)
{
    /* lost, marked, tracked, file, file_seq, db_seq */
    CHECK(origin_judge(false, false, true, 1, 7, 7) == ORIGIN_CURRENT);
    CHECK(origin_judge(false, false, true, 1, 7, 9) == ORIGIN_CURRENT);    /* crash: file lags */
    CHECK(origin_judge(false, false, true, 1, 8, 7) == ORIGIN_BEHIND);     /* an old copy */
    CHECK(origin_judge(false, false, true, 0, 0, 7) == ORIGIN_NO_FILE);
    CHECK(origin_judge(false, false, false, -1, 0, 7) == ORIGIN_NO_FILE);  /* malformed file */
    CHECK(origin_judge(false, false, false, 0, 0, 7) == ORIGIN_FIRST);     /* an older build's */
    CHECK(origin_judge(false, true, true, 1, 7, 7) == ORIGIN_MARKED);      /* a backup copy */
    CHECK(origin_judge(true, false, false, 1, 7, 0) == ORIGIN_LOST);
}

/* Reopens the node of dir (its config and data) as a restart would. */
static node_t *
s_reopen(const char *dir)
{
    char path[128], err[512];
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    conf_t *c = conf_load(path, err, sizeof(err));
    node_t *n = c ? node_new(&c, err, sizeof(err)) : NULL;
    CHECK(n != NULL);
    return n;
}

static uint64_t
s_seq_file(const char *dir)
{
    char path[128];
    unsigned long long v = 0;
    snprintf(path, sizeof(path), "%s/data/highest-seq", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL && fscanf(f, "%llu", &v) == 1);
    if (f)
        fclose(f);
    return v;
}

/* An older copy of the database put back: DATA/highest-seq shows it
 * behind, the node restores and continues above the file's seq; a clean
 * restart is current. */
static void
s_test_old_copy(void)
{
    char dir[64], db[128], old[128], cmd[320];
    uint8_t member[ENV_PKBYTES];
    node_t *n = s_node(dir, false, member);
    if (n == NULL)
        return;
    json_decref(s_publish(n, "one", 3));
    node_destroy(&n);
    CHECK(s_seq_file(dir) == 3);
    snprintf(db, sizeof(db), "%s/data/socdir.db", dir);
    snprintf(old, sizeof(old), "%s/old.db", dir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", db, old);
    CHECK(system(cmd) == 0);
    n = s_reopen(dir);
    CHECK(n != NULL && !node_restoring(n));
    if (n == NULL)
        return;
    json_decref(s_publish(n, "two", 2));
    node_destroy(&n);
    CHECK(s_seq_file(dir) == 5);
    CHECK(rename(old, db) == 0);
    n = s_reopen(dir);
    CHECK(n != NULL && node_restoring(n));
    if (n == NULL)
        return;
    /* The member holds nothing of it: the file alone keeps seqs 4, 5 used. */
    sync_peer_t *sp = peer_sync(links_peer(node_links(n), 0));
    sync_peer_connected(sp, now_ms());
    s_finish_pull(n, 1, 0);
    CHECK(!node_restoring(n));
    json_t *reply = s_publish(n, "three", 1);
    json_t *r0 = json_array_get(json_object_get(reply, "results"), 0);
    CHECK(json_integer_value(json_object_get(r0, "seq")) == 6);
    json_decref(reply);
    node_destroy(&n);
    n = s_reopen(dir);
    CHECK(n != NULL && !node_restoring(n));
    node_destroy(&n);
    s_rmdir(dir);
}

/* Points the descriptor the node holds on DATA/highest-seq at that file
 * opened with mode (O_RDONLY: every write to it fails), found through
 * /proc/self/fd. True if found. */
static bool
s_seq_fd_mode(const char *dir, int mode)
{
    char want[128], link[PATH_MAX], path[64];
    snprintf(want, sizeof(want), "%s/data/highest-seq", dir);
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strcmp(link, want) != 0)
            continue;
        int other = open(want, mode | O_CLOEXEC);
        bool ok = other >= 0 && dup2(other, fd) == fd;
        if (other >= 0)
            close(other);
        return ok;
    }
    return false;
}

/* DATA/highest-seq cannot be written: the write fails whole, saying
 * why, so no version is committed (or pushed) above what the file
 * records; once it can be written again, writes go on above it. */
static void
s_test_seq_file_fault(void)
{
    char dir[64];
    uint8_t member[ENV_PKBYTES];
    node_t *n = s_node(dir, false, member);
    if (n == NULL)
        return;
    json_decref(s_publish(n, "a", 2));
    CHECK(s_seq_file(dir) == 2);
    CHECK(s_seq_fd_mode(dir, O_RDONLY));
    json_t *reply = s_publish(n, "b", 3);
    const char *e = json_string_value(json_object_get(reply, "error"));
    CHECK(e != NULL && strstr(e, "cannot record sequence 5 in highest-seq") != NULL &&
          strstr(e, "nothing was stored") != NULL);
    json_decref(reply);
    CHECK(s_entries(n) == 2 && s_seq_file(dir) == 2);
    CHECK(s_seq_fd_mode(dir, O_RDWR));
    reply = s_publish(n, "c", 1);
    json_t *r0 = json_array_get(json_object_get(reply, "results"), 0);
    CHECK(json_integer_value(json_object_get(r0, "seq")) == 6);   /* 3-5 never used */
    json_decref(reply);
    CHECK(s_entries(n) == 3 && s_seq_file(dir) == 6);
    node_destroy(&n);
    s_rmdir(dir);
}

int
node_test(bool verbose)
{
    (void)verbose;
    s_test_write_faults();
    s_test_restore_faults();
    s_test_judge();
    s_test_old_copy();
    s_test_seq_file_fault();
    return 0;
}
