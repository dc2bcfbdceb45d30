/*
 * peer.c: sockets to one member.
 *
 * Dialing: a DEALER with CURVE client keys (ours) and the member's X25519
 * key as server key, so the member is authenticated by the handshake. A
 * monitor socket reports the handshake and disconnection; on a completed
 * handshake the sync machine greets and pulls. Heartbeats (ZMQ_HEARTBEAT_*)
 * find dead links; libzmq reconnects by itself.
 *
 * Being dialed: frames come through the node's ROUTER, already
 * authenticated by the node's ZAP handler, which names the member in each
 * frame's User-Id. The routing id of the latest frame is kept to answer.
 *
 * Greetings are per connection (PROTOCOL.md 4.3): the first frame each
 * side sends on a connection is HELLO, and a connection whose first frame
 * is not a HELLO is a protocol violation. For the DEALER, a connection is
 * one handshake; on the ROUTER, one routing id (a member's DEALER that
 * reconnects gets a new one). The last RIDS_MAX routing ids seen are
 * remembered, so frames still queued from an old connection are not taken
 * for a new one.
 *
 * A member that breaks the protocol is banned for PEER_BAN_MS: its frames
 * are ignored and our DEALER to it is closed, then dialed again.
 */
#include "peer.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define RID_MAX 256
#define RIDS_MAX 4

/* One connection of the member's to our ROUTER. */
struct rid {
    uint8_t id[RID_MAX];            /* routing id */
    size_t len;                     /* 0: slot unused */
    bool got_hello, sent_hello;     /* greetings on this connection */
    uint64_t last;                  /* ms: last frame, for eviction */
};

struct peer {
    void *zctx;                     /* for re-dialing */
    char *name;                     /* member name in the config */
    uint8_t key[ENV_PKBYTES];       /* member's Ed25519 key */
    uint8_t curve_key[32];          /* the same, as X25519 */
    char *endpoint;                 /* to dial, or NULL */
    peer_curve_t curve;             /* our CURVE keys */
    int index;                      /* for unique monitor endpoints */
    sync_peer_t *sync;              /* replication state, owned */
    void *dealer;                   /* DEALER when dialing */
    void *monitor;                  /* PAIR receiving the dealer's events */
    bool dealer_up;                 /* handshake done, not disconnected */
    bool dealer_got_hello;          /* greetings on the DEALER's connection */
    bool dealer_sent_hello;
    struct rid rids[RIDS_MAX];      /* its connections to our ROUTER */
    struct rid *rid;                /* the one of the latest frame: replies go there */
    bool router_up;                 /* the member dialed us */
    uint64_t router_last;           /* ms: last frame via the ROUTER */
    uint64_t banned_until;          /* ms */
    uint64_t errors;                /* protocol errors seen */
    bool handshake_warned;          /* a failed handshake was logged */
};

static void
s_setopt_int(void *sock, int opt, int v)
{
    zmq_setsockopt(sock, opt, &v, sizeof(v));
}

/* Options of every peer socket, both ends. */
void
peer_socket_options(void *sock)
{
    int64_t maxmsg = WIRE_MAX;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    s_setopt_int(sock, ZMQ_LINGER, 0);
    s_setopt_int(sock, ZMQ_HEARTBEAT_IVL, 2000);
    s_setopt_int(sock, ZMQ_HEARTBEAT_TIMEOUT, 6000);
    s_setopt_int(sock, ZMQ_HEARTBEAT_TTL, 10000);
    s_setopt_int(sock, ZMQ_SNDHWM, 10000);
    s_setopt_int(sock, ZMQ_RCVHWM, 10000);
}

/* The monitor is stopped before its reading end is closed: libzmq sends
 * each event to that PAIR with a blocking send, holding the monitor's
 * lock, and a PAIR with no peer blocks for ever; an event raised between
 * the two (a disconnect while the node stops) hung the node for good. */
static void
s_close_dealer(peer_t *self)
{
    if (self->dealer)
        zmq_socket_monitor(self->dealer, NULL, 0);
    if (self->monitor) {
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
    if (self->dealer) {
        zmq_close(self->dealer);
        self->dealer = NULL;
    }
    self->dealer_up = false;
    self->dealer_got_hello = self->dealer_sent_hello = false;
}

static void
s_dial(peer_t *self)
{
    char mon[128];
    if (self->endpoint == NULL)
        return;
    self->dealer = zmq_socket(self->zctx, ZMQ_DEALER);
    if (self->dealer == NULL) {
        /* links_fit keeps this from happening; if it does, say why. */
        log_warnx("member %s: cannot open a socket to dial %s: %s", self->name, self->endpoint,
                  zmq_strerror(zmq_errno()));
        return;
    }
    peer_socket_options(self->dealer);
    s_setopt_int(self->dealer, ZMQ_RECONNECT_IVL, 200);
    s_setopt_int(self->dealer, ZMQ_RECONNECT_IVL_MAX, 5000);
    s_setopt_int(self->dealer, ZMQ_IMMEDIATE, 1);
    zmq_setsockopt(self->dealer, ZMQ_CURVE_SERVERKEY, self->curve_key, 32);
    zmq_setsockopt(self->dealer, ZMQ_CURVE_PUBLICKEY, self->curve.pk, 32);
    zmq_setsockopt(self->dealer, ZMQ_CURVE_SECRETKEY, self->curve.sk, 32);
    /* Unique in the process: an old link's monitor may still be bound. */
    static unsigned s_monitors;
    snprintf(mon, sizeof(mon), "inproc://socdir-monitor-%d-%u", self->index, ++s_monitors);
    int mrc = zmq_socket_monitor(self->dealer, mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    if (mrc != 0)
        log_warnx("member %s: cannot monitor its link: %s", self->name, zmq_strerror(zmq_errno()));
    self->monitor = zmq_socket(self->zctx, ZMQ_PAIR);
    if (self->monitor == NULL || zmq_connect(self->monitor, mon) != 0)
        log_warnx("member %s: cannot watch its link: %s", self->name, zmq_strerror(zmq_errno()));
    if (strncmp(self->endpoint, "tcp://[", 7) == 0) /* libzmq takes IPv6 only when told */
        s_setopt_int(self->dealer, ZMQ_IPV6, 1);
    if (zmq_connect(self->dealer, self->endpoint) != 0)
        log_warnx("member %s: cannot dial %s: %s", self->name, self->endpoint,
                  zmq_strerror(zmq_errno()));
}

peer_t *
peer_new(void *zctx, const conf_member_t *m, const peer_curve_t *curve, sync_peer_t *sync, int index)
{
    peer_t *self = xcalloc(1, sizeof(*self));
    self->zctx = zctx;
    self->name = xstrdup(m->name);
    memcpy(self->key, m->key, ENV_PKBYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(self->curve_key, m->key) != 0)
        memset(self->curve_key, 0, sizeof(self->curve_key));   /* never matches a client */
    self->endpoint = m->endpoint ? xstrdup(m->endpoint) : NULL;
    self->curve = *curve;
    self->index = index;
    self->sync = sync;
    s_dial(self);
    return self;
}

void
peer_destroy(peer_t **self_p)
{
    if (*self_p) {
        peer_t *self = *self_p;
        s_close_dealer(self);
        sync_peer_destroy(&self->sync);
        sodium_memzero(&self->curve, sizeof(self->curve));
        free(self->name);
        free(self->endpoint);
        free(self);
        *self_p = NULL;
    }
}

const char *
peer_name(const peer_t *self)
{
    return self->name;
}

const uint8_t *
peer_key(const peer_t *self)
{
    return self->key;
}

const char *
peer_endpoint(const peer_t *self)
{
    return self->endpoint;
}

sync_peer_t *
peer_sync(peer_t *self)
{
    return self->sync;
}

const uint8_t *
peer_curve_key(const peer_t *self)
{
    return self->curve_key;
}

void *
peer_dealer(peer_t *self)
{
    return self->dealer;
}

void *
peer_monitor(peer_t *self)
{
    return self->monitor;
}

bool
peer_connected(const peer_t *self)
{
    return self->dealer_up || self->router_up;
}

uint64_t
peer_errors(const peer_t *self)
{
    return self->errors;
}

static void
s_link_changed(peer_t *self, bool was_up, uint64_t now)
{
    bool up = peer_connected(self);
    if (up && !was_up) {
        log_info("member %s connected", self->name);
        sync_peer_connected(self->sync, now);
    } else if (!up && was_up) {
        log_info("member %s disconnected", self->name);
        sync_peer_disconnected(self->sync);
    }
}

/* Closes our DEALER and dials the endpoint again (if there is one now):
 * a new connection, greeted anew. */
static void
s_redial(peer_t *self, uint64_t now)
{
    bool was_up = peer_connected(self);
    s_close_dealer(self);
    s_link_changed(self, was_up, now);
    if (now >= self->banned_until)
        s_dial(self);
}

static void
s_ban(peer_t *self, uint64_t now)
{
    bool was_up = peer_connected(self);
    self->errors++;
    self->banned_until = now + PEER_BAN_MS;
    log_warnx("member %s broke the protocol: dropped for %d s", self->name, PEER_BAN_MS / 1000);
    s_close_dealer(self);
    self->router_up = false;
    s_link_changed(self, was_up, now);
}

void
peer_on_monitor(peer_t *self, uint64_t now)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) < 0)
        goto out;
    if (zmq_msg_more(&ev))
        zmq_msg_recv(&addr, self->monitor, 0);
    if (zmq_msg_size(&ev) < 6)
        goto out;
    uint16_t event;
    memcpy(&event, zmq_msg_data(&ev), sizeof(event));
    bool was_up = peer_connected(self);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        self->dealer_up = true;
        /* A new connection: greet it. Its frames may be read before this
         * event (the monitor is another socket), so the receiving side's
         * greeting is reset only when the DEALER is closed. */
        self->dealer_sent_hello = false;
        self->handshake_warned = false;
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
        self->dealer_up = false;
    } else if (!self->handshake_warned) {
        /* libzmq retries on its own; say it once until it works. */
        log_warnx("member %s at %s: CURVE handshake failed (is its key in our config right,"
                  " and ours in its config?)", self->name, self->endpoint);
        self->handshake_warned = true;
    }
    s_link_changed(self, was_up, now);
out:
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

/* Hands a frame to the sync machine; *got_hello is the greeting state of
 * the frame's connection, set once a HELLO came on it. */
static void
s_recv_frame(peer_t *self, const void *buf, size_t len, bool *got_hello, uint64_t now)
{
    if (now < self->banned_until)
        return;
    int rc = sync_peer_recv(self->sync, buf, len, *got_hello, now);
    if (rc < 0)
        s_ban(self, now);
    else if (rc == 1)
        *got_hello = true;
}

void
peer_on_dealer(peer_t *self, uint64_t now)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_more(&msg)) {
            /* Peer frames are single-part: drain and count as malformed. */
            while (zmq_msg_more(&msg) && zmq_msg_recv(&msg, self->dealer, 0) >= 0)
                ;
            s_ban(self, now);
        } else {
            s_recv_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg), &self->dealer_got_hello, now);
        }
    }
    zmq_msg_close(&msg);
}

/* The slot of routing id rid: found, or a new one (evicting the least
 * recently used), whose connection has not greeted yet. */
static struct rid *
s_rid(peer_t *self, const void *rid, size_t len)
{
    struct rid *lru = &self->rids[0];
    for (int i = 0; i < RIDS_MAX; i++) {
        struct rid *r = &self->rids[i];
        if (r->len == len && memcmp(r->id, rid, len) == 0)
            return r;
        if (r->last < lru->last)
            lru = r;
    }
    memset(lru, 0, sizeof(*lru));
    memcpy(lru->id, rid, len);
    lru->len = len;
    return lru;
}

void
peer_on_router(peer_t *self, void *router, const void *rid, size_t rid_len, const void *buf,
               size_t len, uint64_t now)
{
    (void)router;
    if (now < self->banned_until || rid_len == 0 || rid_len > RID_MAX)
        return;
    bool was_up = peer_connected(self);
    self->rid = s_rid(self, rid, rid_len);
    self->rid->last = now;
    self->router_up = true;
    self->router_last = now;
    s_link_changed(self, was_up, now);
    s_recv_frame(self, buf, len, &self->rid->got_hello, now);
}

/* Sends buf on one connection, after the HELLO it owes (*sent_hello). */
static bool
s_send_greeted(peer_t *self, void *sock, const struct rid *to, bool *sent_hello, const void *buf,
               size_t len)
{
    if (!*sent_hello) {
        msgpack_sbuffer hello;
        sync_peer_hello(self->sync, &hello);
        bool ok = (to == NULL ||
                   zmq_send(sock, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)to->len) &&
                  zmq_send(sock, hello.data, hello.size, ZMQ_DONTWAIT) == (int)hello.size;
        msgpack_sbuffer_destroy(&hello);
        if (!ok)
            return false;
        *sent_hello = true;
    }
    return (to == NULL || zmq_send(sock, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)to->len) &&
           zmq_send(sock, buf, len, ZMQ_DONTWAIT) == (int)len;
}

int
peer_send(peer_t *self, void *router, const void *buf, size_t len)
{
    if (self->dealer_up && s_send_greeted(self, self->dealer, NULL, &self->dealer_sent_hello, buf, len))
        return 0;
    if (self->router_up && self->rid != NULL) {
        if (s_send_greeted(self, router, self->rid, &self->rid->sent_hello, buf, len))
            return 0;
        if (zmq_errno() == EHOSTUNREACH) {
            bool was_up = peer_connected(self);
            self->router_up = false;
            s_link_changed(self, was_up, now_ms());
        }
    }
    return -1;
}

void
peer_tick(peer_t *self, uint64_t now)
{
    /* A member that dialed us pulls at least every sync interval; silence
     * for much longer means its link is gone. */
    if (self->router_up && now - self->router_last > 45000) {
        bool was_up = peer_connected(self);
        self->router_up = false;
        s_link_changed(self, was_up, now);
    }
    if (self->banned_until && now >= self->banned_until) {
        self->banned_until = 0;
        if (self->dealer == NULL)
            s_dial(self);
    }
    if (sync_peer_tick(self->sync, now) && self->dealer != NULL) {
        /* The member answered nothing for a minute on a link the transport
         * calls up: perhaps it dropped us, or lost the greeting of our
         * connection. A new connection starts with a new HELLO. */
        s_redial(self, now);
    }
}

void
peer_set_member(peer_t *self, const conf_member_t *m, uint64_t now)
{
    if (strcmp(self->name, m->name) != 0) {
        free(self->name);
        self->name = xstrdup(m->name);
        sync_peer_rename(self->sync, m->name);
    }
    const char *ep = m->endpoint;
    if ((ep == NULL) != (self->endpoint == NULL) || (ep && strcmp(ep, self->endpoint) != 0)) {
        free(self->endpoint);
        self->endpoint = ep ? xstrdup(ep) : NULL;
        s_redial(self, now);
    }
}
