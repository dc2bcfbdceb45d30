/*
 * rawsend.c: test tool. Sends the bytes of FILE as one request frame to a
 * node's ENDPOINT and prints the reply as JSON, so tests can feed a node
 * malformed frames the real CLI never sends.
 * usage: rawsend ENDPOINT FILE
 */
#include "mpjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

int
main(int argc, char **argv)
{
    char buf[65536], err[256], reply[65536];
    if (argc != 3) {
        fprintf(stderr, "usage: rawsend ENDPOINT FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        perror(argv[2]);
        return 2;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);

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
