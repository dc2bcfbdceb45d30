/*
 * client.c: the CLI's side of the control/query protocol (proto/msg.h).
 * A ZMQ_DEALER socket with linger 0 and the protocol's message size
 * limit, framing like REQ (an empty delimiter, then one frame); each call
 * is one request frame out, one reply frame in, both msgpack maps, and a
 * caller may send the next request before reading a reply. Every wait is bounded by the call's time limit, so a node that is
 * gone, hung or behind a dead link costs the user that many seconds and a
 * clear message, never a hang. A control socket that a killed node left
 * behind is found before connecting (nothing accepts on it), so that case
 * fails at once rather than after the timeout. Replies are checked for
 * shape here ("ok" must be a boolean, "error" a string); the fields of an
 * ok reply are for the commands to check.
 */
#include "client.h"
#include "msg.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

struct client {
    void *zctx;             /* ZeroMQ context, owned */
    void *sock;             /* ZMQ_DEALER socket, owned */
    char *node;             /* the node as the user named it, for messages */
    double timeout;         /* seconds each call may wait */
    bool broken;            /* a call timed out: replies could mismatch */
    size_t pending;         /* requests sent whose replies are not read */
};

/* The time limit: $SOCDIR_TIMEOUT if it is a positive number, else the
 * default. A malformed value is an error rather than silently ignored. */
static int
s_timeout(double *out, char *err, size_t errlen)
{
    const char *env = getenv("SOCDIR_TIMEOUT");
    char *end;

    *out = CLIENT_TIMEOUT_DEFAULT;
    if (env == NULL || *env == '\0')
        return 0;
    errno = 0;
    double t = strtod(env, &end);
    if (errno != 0 || end == env || *end != '\0' || !isfinite(t) || t <= 0 || t > 86400)
        return seterr(err, errlen, -1, "SOCDIR_TIMEOUT '%.40s' is not a number of seconds", env);
    *out = t;
    return 0;
}

/* True if nothing listens on the Unix socket at path: the file a node
 * killed without cleanup leaves behind. Knowing it now saves the user the
 * whole timeout; a path that cannot be tried counts as alive. */
static bool
s_stale(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path))
        return false;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool refused = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}

/* The endpoint for node: itself if it has "://", else the control socket
 * in that data directory. Returns a new string or NULL with err set. */
static char *
s_endpoint(const char *node, char *err, size_t errlen)
{
    char dir[PATH_MAX], *ep;
    struct stat st;

    if (strncmp(node, "ipc://", 6) == 0 && node[6] != '@' &&
        (stat(node + 6, &st) != 0 || s_stale(node + 6))) {
        /* An ipc path nobody listens on would only show as a timeout. */
        seterr(err, errlen, -1, "%s: nothing listens there (is the node running?)", node);
        return NULL;
    }
    if (strstr(node, "://") != NULL)
        return xstrdup(node);
    if (realpath(node, dir) == NULL) {
        seterr(err, errlen, -1, "%s: %s", node, strerror(errno));
        return NULL;
    }
    if (asprintf(&ep, "ipc://%s/control.sock", dir) < 0)
        abort();
    if (stat(ep + strlen("ipc://"), &st) != 0 || s_stale(ep + strlen("ipc://"))) {
        seterr(err, errlen, -1, "%s: no control socket (is the node running?)", node);
        free(ep);
        return NULL;
    }
    return ep;
}

/* Nothing is sent here: zmq_connect only starts connecting, so a node
 * that is down shows up as the first call's timeout. What can be checked
 * before that (the time limit, the data directory, the endpoint's syntax)
 * fails here with its own message. */
client_t *
client_open(const char *node, char *err, size_t errlen)
{
    client_t *self = xcalloc(1, sizeof(*self));
    int linger = 0;
    int64_t maxmsg = MSG_MAX;
    char *ep = NULL;

    self->node = xstrdup(node);
    if (s_timeout(&self->timeout, err, errlen) != 0)
        goto fail;
    if ((ep = s_endpoint(node, err, errlen)) == NULL)
        goto fail;
    self->zctx = zmq_ctx_new();
    self->sock = self->zctx ? zmq_socket(self->zctx, ZMQ_DEALER) : NULL;
    if (self->sock == NULL) {
        seterr(err, errlen, -1, "zmq: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    /* Linger 0: closing never waits on a request nobody will take.
     * MAXMSGSIZE: a peer cannot make us buffer more than any reply may be. */
    zmq_setsockopt(self->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (zmq_connect(self->sock, ep) != 0) {
        seterr(err, errlen, -1, "cannot connect to %s: %s", ep, zmq_strerror(zmq_errno()));
        goto fail;
    }
    free(ep);
    return self;
fail:
    free(ep);
    client_close(&self);
    return NULL;
}

/* Safe to call twice and on a half-opened client (client_open's failure
 * path uses it). zmq_ctx_term returns at once since linger is 0. */
void
client_close(client_t **self_p)
{
    if (*self_p) {
        client_t *self = *self_p;
        if (self->sock)
            zmq_close(self->sock);
        if (self->zctx)
            zmq_ctx_term(self->zctx);
        free(self->node);
        free(self);
        *self_p = NULL;
    }
}

double
client_timeout(const client_t *self)
{
    return self->timeout;
}

void
client_set_timeout(client_t *self, double seconds)
{
    self->timeout = seconds;
}

/* Seconds on a monotonic clock. */
static double
s_now(void)
{
    return (double)mono_us() / 1e6;
}

/* Waits until the socket is ready for events or the deadline passes,
 * going on after signals (EINTR) with what is left of the time. Returns 0
 * when ready, -1 with err set otherwise; a timeout marks the client broken,
 * since a late reply would be taken for the next request's. */
static int
s_wait(client_t *self, short events, double deadline, char *err, size_t errlen)
{
    zmq_pollitem_t item = { self->sock, 0, events, 0 };
    for (;;) {
        double left = deadline - s_now();
        if (left <= 0)
            break;
        int rc = zmq_poll(&item, 1, (long)(left * 1000) + 1);   /* round up */
        if (rc > 0)
            return 0;
        if (rc < 0 && zmq_errno() != EINTR)
            return seterr(err, errlen, -1, "%s: %s", self->node, zmq_strerror(zmq_errno()));
    }
    self->broken = true;
    return seterr(err, errlen, -1, "no answer from %s within %g s", self->node, self->timeout);
}

/* Checks that a decoded reply says "ok": true; returns it, or NULL (freeing
 * it) with err holding the node's own error text when it gave one. */
static json_t *
s_check_reply(client_t *self, json_t *reply, char *err, size_t errlen)
{
    json_t *ok = json_object_get(reply, "ok");
    const char *text = json_string_value(json_object_get(reply, "error"));

    if (json_is_true(ok)) {
        return reply;
    } else if (json_is_false(ok) && text != NULL) {
        seterr(err, errlen, -1, "%s", text);
    } else {
        seterr(err, errlen, -1, "%s: malformed reply (no \"ok\" and \"error\")", self->node);
    }
    json_decref(reply);
    return NULL;
}

/* Requests go out as [empty delimiter, msgpack map] on a DEALER socket,
 * which is what a REQ socket sends, so that a caller may have a request
 * in flight while it prepares the next; the node answers in order. */
int
client_send(client_t *self, const json_t *req, char *err, size_t errlen)
{
    msgpack_sbuffer out;

    if (self->broken)
        return seterr(err, errlen, -1, "%s: connection lost after an earlier timeout", self->node);
    if (msg_encode(req, &out, err, errlen) != 0)
        return -1;
    int rc = s_wait(self, ZMQ_POLLOUT, s_now() + self->timeout, err, errlen);
    if (rc == 0 && (zmq_send(self->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                    zmq_send(self->sock, out.data, out.size, ZMQ_DONTWAIT) < 0))
        rc = seterr(err, errlen, -1, "%s: send: %s", self->node, zmq_strerror(zmq_errno()));
    msgpack_sbuffer_destroy(&out);
    if (rc == 0)
        self->pending++;
    return rc;
}

/* Receives one frame; *more tells whether another follows. */
static int
s_frame(client_t *self, zmq_msg_t *m, bool *more, char *err, size_t errlen)
{
    zmq_msg_init(m);
    if (zmq_msg_recv(m, self->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(m);
        return seterr(err, errlen, -1, "%s: receive: %s", self->node, zmq_strerror(zmq_errno()));
    }
    *more = zmq_msg_more(m);
    return 0;
}

json_t *
client_recv(client_t *self, char *err, size_t errlen)
{
    zmq_msg_t delim, in;
    json_t *reply = NULL;
    bool more = false;
    char derr[256];

    if (self->broken || self->pending == 0) {
        seterr(err, errlen, -1, "%s: %s", self->node,
               self->broken ? "connection lost after an earlier timeout" : "no request waits for a reply");
        return NULL;
    }
    if (s_wait(self, ZMQ_POLLIN, s_now() + self->timeout, err, errlen) != 0 ||
        s_frame(self, &delim, &more, err, errlen) != 0)
        return NULL;
    self->pending--;
    bool framed = zmq_msg_size(&delim) == 0 && more;
    zmq_msg_close(&delim);
    /* ZeroMQ delivers a message's frames together: the rest is here. */
    if (!framed || s_frame(self, &in, &more, err, errlen) != 0) {
        self->broken = true;
        if (!framed)
            seterr(err, errlen, -1, "%s: malformed reply (no delimiter frame)", self->node);
        return NULL;
    }
    if (more) {
        self->broken = true;
        seterr(err, errlen, -1, "%s: malformed reply (more than one frame)", self->node);
    } else if ((reply = msg_decode(zmq_msg_data(&in), zmq_msg_size(&in), NULL,
                                   derr, sizeof(derr))) == NULL) {
        seterr(err, errlen, -1, "%s: malformed reply: %s", self->node, derr);
    } else {
        reply = s_check_reply(self, reply, err, errlen);
    }
    zmq_msg_close(&in);
    return reply;
}

json_t *
client_call(client_t *self, const json_t *req, char *err, size_t errlen)
{
    if (self->pending > 0) {
        seterr(err, errlen, -1, "%s: an earlier request still waits for its reply", self->node);
        return NULL;
    }
    if (client_send(self, req, err, errlen) != 0)
        return NULL;
    return client_recv(self, err, errlen);
}
