/*
 * selftest.h: the unit-test harness. Each module's test is a function
 * returning the number of failed checks; CHECK records a failure with its
 * file and line and goes on, so one run shows every broken check.
 */
#ifndef SOCDIR_SELFTEST_H
#define SOCDIR_SELFTEST_H

#include <stdbool.h>
#include <stdio.h>

extern int selftest_failures;
extern int selftest_checks;

#define CHECK(cond)                                                         \
    do {                                                                    \
        selftest_checks++;                                                  \
        if (!(cond)) {                                                      \
            selftest_failures++;                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                 \
        }                                                                   \
    } while (0)

/* text parsed as JSON, or NULL after printing why (a broken test). */
#include <jansson.h>
json_t *selftest_json(const char *text);

/* A signed envelope of raw payload fields (kind organisation; body is
 * packed msgpack bytes), into out (initialised here). Checks nothing, so
 * that tests can make what a broken origin would. */
#include <msgpack.h>
#include <stdint.h>
void selftest_raw_envelope(msgpack_sbuffer *out, const uint8_t pk[32], const uint8_t sk[64],
                           const char *id, uint64_t seq, uint64_t ts, bool deleted,
                           const void *body, size_t bodylen);

int mpjson_test(bool verbose);
int codes_test(bool verbose);
int fold_test(bool verbose);
int entry_test(bool verbose);
int envelope_test(bool verbose);
int order_test(bool verbose);
int store_test(bool verbose);
int conf_test(bool verbose);
int msg_test(bool verbose);
int sync_test(bool verbose);
int node_test(bool verbose);
int vectors_test(bool verbose);
int wire_test(bool verbose);
int render_test(bool verbose);
int input_test(bool verbose);
int report_test(bool verbose);
int text_test(bool verbose);
int dedup_test(bool verbose);

#endif
