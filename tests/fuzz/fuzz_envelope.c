/*
 * fuzz_envelope.c: libFuzzer target for everything a node decodes from
 * outside: signed envelopes (open, verify, index) and control messages.
 * Any crash, leak or sanitizer report is a bug; a refusal is fine.
 */
#include "entry.h"
#include "envelope.h"
#include "msg.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    envelope_t env;
    char err[256];
    int op;

    if (!ready) {
        if (sodium_init() < 0)
            return 0;
        ready = 1;
    }
    if (envelope_open(data, size, &env, err, sizeof(err)) == 0) {
        entry_index_t ix;
        (void)envelope_verify(&env);
        (void)entry_validate_body(env.hdr.kind, env.body, err, sizeof(err));
        entry_index_build(env.body, &ix);
        entry_index_free(&ix);
        envelope_clear(&env);
    }
    json_t *m = msg_decode(data, size, &op, err, sizeof(err));
    if (m != NULL) {
        (void)entry_validate(json_object_get(m, "entries"), err, sizeof(err));
        json_decref(m);
    }
    return 0;
}
