/*
 * rawsend.c: test tool. Sends the bytes of FILE as one request frame to a
 * node's ENDPOINT and prints the reply as JSON, so tests can feed a node
 * malformed frames the real CLI never sends.
 * usage: rawsend [--json] ENDPOINT FILE
 *   --json: FILE holds a JSON request, packed with mpjson as it is (no
 *   checks of the CLI's in between), so tests can send what another
 *   client could.
 */
#include "mpjson.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int
main(int argc, char **argv)
{
    static char buf[1 << 20], reply[1 << 20];
    char err[256];
    bool json = argc == 4 && strcmp(argv[1], "--json") == 0;
    if (argc != 3 && !json) {
        fprintf(stderr, "usage: rawsend [--json] ENDPOINT FILE\n");
        return 2;
    }
    argv += json;
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        perror(argv[2]);
        return 2;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (json) {
        json_error_t jerr;
        msgpack_sbuffer packed;
        json_t *v = json_loadb(buf, n, 0, &jerr);
        if (v == NULL || mpjson_encode(v, &packed, err, sizeof(err)) != 0 || packed.size > sizeof(buf)) {
            fprintf(stderr, "rawsend: %s: %s\n", argv[2], v ? err : jerr.text);
            json_decref(v);
            return 2;
        }
        memcpy(buf, packed.data, packed.size);
        n = packed.size;
        msgpack_sbuffer_destroy(&packed);
        json_decref(v);
    }

    void *ctx = zmq_ctx_new(), *req = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0, timeout = 30000;
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    int rc = 2;
    if (zmq_connect(req, argv[1]) == 0 && zmq_send(req, buf, n, 0) == (int)n) {
        int got = zmq_recv(req, reply, sizeof(reply), 0);
        if (got >= 0 && (size_t)got <= sizeof(reply)) {
            json_t *v = mpjson_decode(reply, (size_t)got, err, sizeof(err));
            if (v != NULL) {
                json_dumpf(v, stdout, JSON_COMPACT);
                putchar('\n');
                json_decref(v);
                rc = 0;
            } else {
                fprintf(stderr, "rawsend: reply: %s\n", err);
            }
        } else {
            fprintf(stderr, "rawsend: no reply\n");
        }
    }
    zmq_close(req);
    zmq_ctx_term(ctx);
    return rc;
}
