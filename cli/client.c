/*
 * client.c: the CLI's side of the control/query protocol (proto/msg.h).
 * A ZMQ_DEALER socket with linger 0 and the protocol's message size
 * limit, framing like REQ (an empty delimiter, then one frame); each call
 * is one request frame out, one reply frame in, both msgpack maps, and a
 * caller may send the next request before reading a reply. Every wait is bounded by the call's time limit, so a node that is
 * gone, hung or behind a dead link costs the user that many seconds and a
 * clear message, never a hang. A control socket that a killed node left
 * behind is found before connecting (nothing accepts on it), so that case
 * fails at once rather than after the timeout. A socket monitor watches
 * the connection: when libzmq retries a connect that failed (nothing
 * listens at a tcp:// port) or loses the connection while a reply is
 * awaited, the wait ends at once rather than after the timeout. Replies are checked for
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
    void *monitor;          /* ZMQ_PAIR: the socket's connection events, or NULL */
    bool connected;         /* the monitor saw the connection up */
    bool ever_connected;    /* ... at least once */
    bool retried;           /* the last connect attempt failed */
    int fault;              /* enum client_fault of the last failure, or 0 */
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
s_endpoint(const char *node, int *fault, char *err, size_t errlen)
{
    *fault = CLIENT_UNREACHABLE;
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

/* Watches the socket's connection (client.monitor). Without a monitor
 * (it could not be made), a node that is down shows as a timeout. */
static void
s_monitor(client_t *self)
{
    static unsigned s_count;
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://socdir-client-%u", ++s_count);
    if (zmq_socket_monitor(self->sock, ep, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
                           ZMQ_EVENT_DISCONNECTED) != 0)
        return;
    self->monitor = zmq_socket(self->zctx, ZMQ_PAIR);
    if (self->monitor != NULL && zmq_connect(self->monitor, ep) != 0) {
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
}

/* Reads the monitor's queued events into the connection state. */
static void
s_monitor_drain(client_t *self)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= sizeof(event))
            memcpy(&event, zmq_msg_data(&ev), sizeof(event));
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        if (more) {     /* the endpoint frame */
            zmq_msg_init(&addr);
            zmq_msg_recv(&addr, self->monitor, ZMQ_DONTWAIT);
            zmq_msg_close(&addr);
        }
        if (event == ZMQ_EVENT_CONNECTED) {
            self->connected = self->ever_connected = true;
            self->retried = false;
        } else if (event == ZMQ_EVENT_CONNECT_RETRIED) {
            self->retried = true;
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            self->connected = false;
        }
    }
}

/* Nothing is sent here: zmq_connect only starts connecting, so a node
 * that is down shows up in the first call (the monitor's refused
 * connection, else its timeout). What can be checked
 * before that (the time limit, the data directory, the endpoint's syntax)
 * fails here with its own message. */
client_t *
client_open(const char *node, int *fault_p, char *err, size_t errlen)
{
    client_t *self = xcalloc(1, sizeof(*self));
    int linger = 0, one = 1, dummy;
    int64_t maxmsg = MSG_MAX;
    char *ep = NULL;
    int *fault = fault_p ? fault_p : &dummy;

    self->node = xstrdup(node);
    *fault = CLIENT_BAD_ARGS;
    if (s_timeout(&self->timeout, err, errlen) != 0)
        goto fail;
    if ((ep = s_endpoint(node, fault, err, errlen)) == NULL)
        goto fail;
    *fault = CLIENT_FAILED;
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
    if (strncmp(ep, "tcp://[", 7) == 0)     /* libzmq takes IPv6 only when told */
        zmq_setsockopt(self->sock, ZMQ_IPV6, &one, sizeof(one));
    s_monitor(self);
    if (zmq_connect(self->sock, ep) != 0) {
        *fault = CLIENT_BAD_ARGS;
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
        if (self->monitor)
            zmq_close(self->monitor);
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
    zmq_pollitem_t items[2] = { { self->sock, 0, events, 0 }, { self->monitor, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        /* What is already there first: a reply that arrived before the
         * node went away is the answer, not a lost connection. */
        zmq_pollitem_t now = { self->sock, 0, events, 0 };
        if (zmq_poll(&now, 1, 0) > 0 && (now.revents & events))
            return 0;
        if (self->monitor != NULL) {
            s_monitor_drain(self);
            if (self->retried && !self->connected) {
                self->broken = true;
                self->fault = CLIENT_UNREACHABLE;
                return seterr(err, errlen, -1, self->ever_connected
                              ? "lost the connection to %s, and it refuses a new one"
                              : "cannot reach %s: connection refused (or the host does not resolve)", self->node);
            }
            if (self->ever_connected && !self->connected && (events & ZMQ_POLLIN)) {
                self->broken = true;
                self->fault = CLIENT_UNREACHABLE;
                return seterr(err, errlen, -1, "lost the connection to %s before its answer (a"
                              " write may or may not have been stored)", self->node);
            }
        }
        double left = deadline - s_now();
        if (left <= 0)
            break;
        int rc = zmq_poll(items, self->monitor ? 2 : 1, (long)(left * 1000) + 1);   /* round up */
        if (rc > 0 && (items[0].revents & events))
            return 0;
        if (rc < 0 && zmq_errno() != EINTR) {
            self->fault = CLIENT_FAILED;
            return seterr(err, errlen, -1, "%s: %s", self->node, zmq_strerror(zmq_errno()));
        }
    }
    self->broken = true;
    self->fault = CLIENT_UNREACHABLE;
    return seterr(err, errlen, -1, "no answer from %s within %g s", self->node, self->timeout);
}

int
client_fault(const client_t *self)
{
    return self->fault;
}

/* Checks that a decoded reply says "ok": true; returns it, or NULL (freeing
 * it) with err holding the node's own error text when it gave one. */
static json_t *
s_check_reply(client_t *self, json_t *reply, char *err, size_t errlen)
{
    json_t *ok = json_object_get(reply, "ok");
    const char *text = json_string_value(json_object_get(reply, "error"));

    if (json_is_true(ok))
        return reply;
    self->fault = CLIENT_FAILED;
    if (json_is_false(ok) && text != NULL)
        seterr(err, errlen, -1, "%s", text);
    else
        seterr(err, errlen, -1, "%s: malformed reply (no \"ok\" and \"error\")", self->node);
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
    self->fault = CLIENT_FAILED;    /* what goes wrong from here on */
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
