/*
 * test_vectors.c: runs this implementation's decoders over the vectors
 * that tests/vectors/gen.py (an independent Python implementation of the
 * byte rules) writes for other implementers. Every envelope case must get
 * its verdict from envelope_check at the vectors' "now", every frame case
 * its result from wire_decode. Format: tests/vectors/README.md.
 */
#include "selftest.h"

#include "envelope.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define VECTORS_NOW 1800000000000ULL

/* Hex to bytes into a new buffer. Returns the length, or -1. */
static long
s_unhex(const char *hex, uint8_t **out)
{
    size_t n = strlen(hex);
    *out = NULL;
    if (n % 2 != 0)
        return -1;
    uint8_t *b = malloc(n / 2 + 1);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) {
                free(b);
                return -1;
            }
            v = v * 16 + d;
        }
        b[i] = (uint8_t)v;
    }
    *out = b;
    return (long)(n / 2);
}

/* The verdict of one case, as the vector files name it. */
static const char *
s_envelope_verdict(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    envelope_t env;
    env_verdict_t v = envelope_check(buf, len, VECTORS_NOW, &env, err, errlen);
    if (v == ENV_ACCEPT)
        envelope_clear(&env);
    return envelope_verdict_name(v);
}

static const char *
s_frame_verdict(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    wire_msg_t m;
    int rc = wire_decode(buf, len, &m, err, errlen);
    wire_clear(&m);
    return rc == 0 ? "accept" : rc == -2 ? "malformed" : "?";
}

/* Checks every case line of one file; returns the number of cases. */
static int
s_run(const char *file, bool envelopes, bool verbose)
{
    char path[512], *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int cases = 0, lineno = 0;

    snprintf(path, sizeof(path), "%s/%s", SOCDIR_VECTORS, file);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) {
        fprintf(stderr, "vectors: cannot open %s\n", path);
        return 0;
    }
    while ((got = getline(&line, &cap, f)) != -1) {
        lineno++;
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0 || line[0] == '#')
            continue;
        char *verdict = line, *name = strchr(line, '\t'), *hex = NULL;
        if (name != NULL) {
            *name++ = '\0';
            hex = strchr(name, '\t');
            if (hex != NULL)
                *hex++ = '\0';
        }
        uint8_t *buf = NULL;
        long len = hex != NULL ? s_unhex(hex, &buf) : -1;
        bool known = envelopes ? (strcmp(verdict, "accept") == 0 || strcmp(verdict, "malformed") == 0 ||
                                  strcmp(verdict, "signature") == 0 || strcmp(verdict, "invalid") == 0)
                               : (strcmp(verdict, "accept") == 0 || strcmp(verdict, "malformed") == 0);
        CHECK(len >= 0 && known);
        if (len < 0 || !known) {
            fprintf(stderr, "vectors: %s:%d: not VERDICT<TAB>NAME<TAB>HEX\n", file, lineno);
            free(buf);
            continue;
        }
        char err[512] = "";
        const char *v = envelopes ? s_envelope_verdict(buf, (size_t)len, err, sizeof(err))
                                  : s_frame_verdict(buf, (size_t)len, err, sizeof(err));
        CHECK(strcmp(v, verdict) == 0);
        if (strcmp(v, verdict) != 0)
            fprintf(stderr, "vectors: %s: case %s: expected %s, got %s (%s)\n", file, name,
                    verdict, v, err[0] ? err : "no error");
        else if (verbose)
            fprintf(stderr, "vectors: %s: %s: %s%s%s\n", file, name, v, err[0] ? ": " : "", err);
        free(buf);
        cases++;
    }
    free(line);
    fclose(f);
    return cases;
}

int
vectors_test(bool verbose)
{
    int n = s_run("envelopes.txt", true, verbose);
    CHECK(n >= 60);
    int m = s_run("frames.txt", false, verbose);
    CHECK(m >= 25);
    if (verbose)
        fprintf(stderr, "vectors: %d envelope cases, %d frame cases\n", n, m);
    return 0;
}
