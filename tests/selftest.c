/*
 * selftest.c: runs the unit tests, all or one (-t NAME), as CTest does:
 * `selftest -t store`. Exit status 0 when every check passed.
 */
#include "selftest.h"

#include <sodium.h>
#include <string.h>

int selftest_failures;
int selftest_checks;

json_t *
selftest_json(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (v == NULL)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return v;
}

void
selftest_raw_envelope(msgpack_sbuffer *out, const uint8_t pk[32], const uint8_t sk[64],
                      const char *id, uint64_t seq, uint64_t ts, bool deleted, const void *body,
                      size_t bodylen)
{
    msgpack_sbuffer p;
    msgpack_packer k;
    uint8_t vid[32], msg[16 + 32], sig[64];
    msgpack_sbuffer_init(&p);
    msgpack_packer_init(&k, &p, msgpack_sbuffer_write);
    msgpack_pack_array(&k, 8);
    msgpack_pack_uint64(&k, 1);
    msgpack_pack_bin(&k, 32);
    msgpack_pack_bin_body(&k, pk, 32);
    msgpack_pack_str(&k, strlen(id));
    msgpack_pack_str_body(&k, id, strlen(id));
    msgpack_pack_str(&k, 12);
    msgpack_pack_str_body(&k, "organisation", 12);
    msgpack_pack_uint64(&k, seq);
    msgpack_pack_uint64(&k, ts);
    if (deleted)
        msgpack_pack_true(&k);
    else
        msgpack_pack_false(&k);
    msgpack_sbuffer_write(&p, body, bodylen);
    crypto_generichash(vid, sizeof(vid), (const uint8_t *)p.data, p.size, NULL, 0);
    memcpy(msg, "socdir/entry/v1", 16);     /* with its NUL */
    memcpy(msg + 16, vid, sizeof(vid));
    crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
    msgpack_sbuffer_init(out);
    msgpack_packer_init(&k, out, msgpack_sbuffer_write);
    msgpack_pack_array(&k, 2);
    msgpack_pack_bin(&k, p.size);
    msgpack_pack_bin_body(&k, p.data, p.size);
    msgpack_pack_bin(&k, sizeof(sig));
    msgpack_pack_bin_body(&k, sig, sizeof(sig));
    msgpack_sbuffer_destroy(&p);
}

static const struct {
    const char *name;
    int (*fn)(bool verbose);
} s_tests[] = {
    { "mpjson", mpjson_test },
    { "codes", codes_test },
    { "fold", fold_test },
    { "entry", entry_test },
    { "envelope", envelope_test },
    { "order", order_test },
    { "store", store_test },
    { "conf", conf_test },
    { "msg", msg_test },
    { "sync", sync_test },
    { "node", node_test },
    { "vectors", vectors_test },
    { "wire", wire_test },
    { "render", render_test },
    { "input", input_test },
    { "report", report_test },
    { "text", text_test },
    { "dedup", dedup_test },
};

int
main(int argc, char **argv)
{
    const char *only = NULL;
    bool verbose = false;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else {
            fprintf(stderr, "usage: selftest [-v] [-t NAME]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 1;
    int ran = 0;
    for (size_t i = 0; i < sizeof(s_tests) / sizeof(s_tests[0]); i++) {
        if (only && strcmp(only, s_tests[i].name) != 0)
            continue;
        int before = selftest_failures, checks = selftest_checks;
        s_tests[i].fn(verbose);
        printf("%-10s %s (%d checks)\n", s_tests[i].name,
               selftest_failures == before ? "ok" : "FAILED", selftest_checks - checks);
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "selftest: no test named '%s'\n", only);
        return 2;
    }
    return selftest_failures ? 1 : 0;
}
