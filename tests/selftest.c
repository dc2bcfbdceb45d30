/*
 * selftest.c: runs the unit tests, all or one (-t NAME), as CTest does:
 * `selftest -t store`. Exit status 0 when every check passed.
 */
#include "selftest.h"

#include <sodium.h>
#include <string.h>

int selftest_failures;
int selftest_checks;

static const struct {
    const char *name;
    int (*fn)(bool verbose);
} s_tests[] = {
    { "mpjson", mpjson_test },
    { "entry", entry_test },
    { "envelope", envelope_test },
    { "order", order_test },
    { "store", store_test },
    { "conf", conf_test },
    { "msg", msg_test },
    { "sync", sync_test },
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
