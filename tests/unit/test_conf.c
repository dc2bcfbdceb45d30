/*
 * test_conf.c: configuration files, good and bad, with the line of every
 * error in the message; endpoints and init's argument checks.
 */
#include "conf.h"
#include "selftest.h"
#include "util.h"

#include <sodium.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static conf_t *
s_load(const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/socdir-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    conf_t *c = conf_load(path, err, errlen);
    unlink(path);
    return c;
}

static void
s_bad(const char *text, const char *want)
{
    char err[512] = "";
    conf_t *c = s_load(text, err, sizeof(err));
    CHECK(c == NULL);
    if (strstr(err, want) == NULL)
        fprintf(stderr, "  config error '%s', wanted '%s'\n", err, want);
    CHECK(strstr(err, want) != NULL);
    conf_free(&c);
}

/* Text of the form head + fill + tail, padded with fill to len bytes. */
static char *
s_padded(const char *head, char fill, size_t len, const char *tail)
{
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(len + 1);
    CHECK(s != NULL && h + t <= len);
    memcpy(s, head, h);
    memset(s + h, fill, len - h - t);
    memcpy(s + len - t, tail, t + 1);
    return s;
}

/* Lines longer than inih's buffer (200 bytes in Debian's libinih): inih
 * alone would parse the rest of such a line as a line of its own. */
static void
s_long_lines(void)
{
    char err[512], text[2048];
    char *comment = s_padded("; ", 'c', 600, "");
    char *trap = s_padded("; ", ' ', 300, "query = tcp://127.0.0.1:9");
    char *hash = s_padded("   # ", '#', 400, "listen = tcp://127.0.0.1:9");
    char *value = s_padded("name = ", 'n', 300, "");

    /* Comments of any length are fine, and nothing in them is read. */
    snprintf(text, sizeof(text), "%s\n[node]\n%s\nname = x\n%s\ndata = /d\n%s",
             comment, trap, hash, trap);
    conf_t *c = s_load(text, err, sizeof(err));
    CHECK(c != NULL);
    if (c == NULL)
        fprintf(stderr, "  long comments: %s\n", err);
    CHECK(c != NULL && c->query == NULL && c->listen == NULL && strcmp(c->name, "x") == 0);
    conf_free(&c);

    /* A line that fits is read as before: 198 bytes and its newline. */
    char *fits = s_padded("name = ", 'f', 198, "");
    snprintf(text, sizeof(text), "[node]\n%s\ndata = /d\n", fits);
    c = s_load(text, err, sizeof(err));
    CHECK(c != NULL && strlen(c->name) == 198 - strlen("name = "));
    conf_free(&c);

    /* A long value line is refused with its line and the limit. */
    snprintf(text, sizeof(text), "[node]\n%s\ndata = /d\n", value);
    s_bad(text, ":2: line is 300 bytes long, more than the 198");
    snprintf(text, sizeof(text), "[node]\n%s9\ndata = /d\n", fits);
    s_bad(text, ":2: line is 199 bytes long");
    snprintf(text, sizeof(text), "; one\n[node]\nname = x\n\n%s\n# six\n%s\n", comment, value);
    s_bad(text, ":7: line is 300 bytes long");
    /* The first error goes first, as for any other error. */
    snprintf(text, sizeof(text), "[node]\ncolour = blue\n%s\n", value);
    s_bad(text, ":2: unknown key 'colour'");
    free(fits);
    free(value);
    free(hash);
    free(trap);
    free(comment);
}

/* Endpoints as libzmq reads them; bind allows '*' and port 0. */
static void
s_endpoints(void)
{
    char why[256];
    static const char *const good_bind[] = { "tcp://*:7700", "tcp://127.0.0.1:*", "tcp://127.0.0.1:0",
        "tcp://[::1]:7700", "tcp://[::]:*", "tcp://eth0:7700", "ipc:///run/socdir/q.sock", "ipc://@abstract",
        "tcp://h.example.org:65535", NULL };
    static const char *const good_dial[] = { "tcp://127.0.0.1:1", "tcp://[::1]:7700",
        "tcp://[fe80::1%eth0]:7700", "tcp://sociolab.example.org:7700", "ipc:///tmp/x.sock", NULL };
    static const struct { const char *ep; int bind; const char *want; } bad[] = {
        { "tcp://127.0.0.1", 1, "has no port" },
        { "tcp://127.0.0.1:99999", 1, "port '99999'" },
        { "tcp://127.0.0.1:0", 0, "port '0' is not 1-65535" },
        { "tcp://127.0.0.1:*", 0, "port '*'" },
        { "tcp://*:7700", 0, "'*' (every address) is for endpoints to bind" },
        { "tcp://127.0.0.1:77x", 1, "port '77x'" },
        { "tcp://:7700", 1, "is not a host name" },
        { "tcp://::1:7700", 0, "IPv6 address goes in brackets" },
        { "tcp://[::1:7700", 0, "IPv6 address goes in brackets" },
        { "tcp://[zz::1]:7700", 0, "'zz::1' is not an IPv6 address" },
        { "tcp://[::1]", 0, "has no port" },
        { "tcp://ho st:1", 0, "is not a host name" },
        { "udp://127.0.0.1:7700", 0, "scheme 'udp' is not supported" },
        { "inproc://x", 1, "scheme 'inproc' is not supported" },
        { "ipc://", 1, "has no path" },
        { "7700", 1, "is not a tcp:// or ipc:// endpoint" },
        { NULL, 0, NULL } };
    for (int i = 0; good_bind[i]; i++) {
        int rc = conf_check_endpoint(good_bind[i], 1, why, sizeof(why));
        if (rc != 0)
            fprintf(stderr, "  %s refused: %s\n", good_bind[i], why);
        CHECK(rc == 0);
    }
    for (int i = 0; good_dial[i]; i++)
        CHECK(conf_check_endpoint(good_dial[i], 0, why, sizeof(why)) == 0);
    for (int i = 0; bad[i].ep; i++) {
        why[0] = '\0';
        CHECK(conf_check_endpoint(bad[i].ep, bad[i].bind, why, sizeof(why)) != 0);
        if (strstr(why, bad[i].want) == NULL)
            fprintf(stderr, "  %s: '%s', wanted '%s'\n", bad[i].ep, why, bad[i].want);
        CHECK(strstr(why, bad[i].want) != NULL);
    }
    char path[300];
    memset(path, 'p', sizeof(path));
    memcpy(path, "ipc:///", 7);
    path[sizeof(path) - 1] = '\0';
    CHECK(conf_check_endpoint(path, 1, why, sizeof(why)) != 0 && strstr(why, "at most") != NULL);
}

/* Every problem of a file, each with its line. */
static void
s_all_problems(void)
{
    static const char k1[] = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
    static const char k2[] = "IB8eHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE";
    char text[2048], err[4096];

    /* In the config of the examples in README, each alone. */
    s_bad("[node]\nname = x\ndata = /d\nlisten = tcp://127.0.0.1\n", ":4: 'tcp://127.0.0.1' has no port");
    s_bad("[node]\nname = x\ndata = /d\nquery = tcp://127.0.0.1:99999\n", ":4: 'tcp://127.0.0.1:99999': port");
    s_bad("[node]\nname = x\ndata = /d\nquery = pgm://eth0;239.1.1.1:5555\n", ":4: 'pgm://eth0;239.1.1.1:5555': scheme 'pgm'");
    snprintf(text, sizeof(text), "[node]\nname = x\ndata = /d\n[member a]\nkey = %s\nendpoint = tcp://*:7700\n", k1);
    s_bad(text, ":6: 'tcp://*:7700': '*' (every address)");
    snprintf(text, sizeof(text), "[node]\nname = x\ndata = /d\n[member a]\nkey = %s\nendpoint = tcp://h\n", k1);
    s_bad(text, ":6: 'tcp://h' has no port");
    s_bad("[node]\nname = x\ndata = /d\n[node]\nquery_rate = 5\n", ":4: [node] appears twice (first on line 1)");
    snprintf(text, sizeof(text), "[node]\nname = x\ndata = /d\n[member a]\nkey = %s\n\n[member  a ]\nendpoint = tcp://h:1\n", k1);
    s_bad(text, ":7: [member a] appears twice (first on line 4): merge them");
    s_bad("[node]\nname = x\ndata = /d\nname = y\n", ":4: 'name' is set twice in [node] (first on line 2)");
    snprintf(text, sizeof(text), "[node]\nname = x\ndata = /d\n[member a]\nkey = %s\nkey = %s\n", k1, k2);
    s_bad(text, ":6: 'key' is set twice in [member a] (first on line 5)");
    snprintf(text, sizeof(text), "[node]\nname = x\ndata = /d\n[member a]\nkey = %s\n[member b]\nkey = %s\n", k1, k1);
    s_bad(text, ":7: [member b] has the key of [member a] (line 5): a node is listed once");
    conf_t *w0;
    s_bad("[node]\nname = x\ndata = /d\nlisten = tcp://127.0.0.1:17700\nquery = tcp://127.0.0.1:17700\n",
          ":5: 'tcp://127.0.0.1:17700' takes the port of listen (line 4)");
    s_bad("[node]\nname = x\ndata = /d\nlisten = tcp://*:17700\nquery = tcp://10.0.0.1:17700\n",
          ":5: 'tcp://10.0.0.1:17700' takes the port of listen");
    w0 = s_load("[node]\nname = x\ndata = /d\nlisten = tcp://*:*\nquery = tcp://*:*\n", err, sizeof(err));
    CHECK(w0 != NULL);
    conf_free(&w0);
    w0 = s_load("[node]\nname = x\ndata = /d\nlisten = tcp://10.0.0.1:7700\nquery = tcp://10.0.0.2:7700\n", err, sizeof(err));
    CHECK(w0 != NULL);
    conf_free(&w0);
    /* A ';' after a blank starts inih's comment: read so, with a warning
     * that shows the value read (configs of earlier releases put their
     * comments there; refusing them would stop an upgraded node). */
    conf_t *w = s_load("[node]\nname = Sozial ; Wirtschaft\ndata = /d\nquery = tcp://*:7701   ; open endpoint\n",
                       err, sizeof(err));
    CHECK(w != NULL && strcmp(w->name, "Sozial") == 0 && strcmp(w->query, "tcp://*:7701") == 0);
    CHECK(w != NULL && w->warnings != NULL && strstr(w->warnings, ":2: the value is read as 'Sozial': inih reads ' ;'") &&
          strstr(w->warnings, "\n") && strstr(w->warnings, ":4: the value is read as 'tcp://*:7701'"));
    conf_free(&w);
    w = s_load("[node]\nname = x\ndata = /d\n", err, sizeof(err));
    CHECK(w != NULL && w->warnings == NULL);
    conf_free(&w);
    s_bad("[node]\nname = x\ndata = /d\n[member]\nkey = x\n", ":4: [member] needs a name");
    s_bad("name = x\n[node]\nname = x\ndata = /d\n", ":1: 'name' is outside any section");
    s_bad("[node]\nname = x\ndata = /d\n[member a\n", ":4: section header without ']'");
    s_bad("[node]\nname = x\tand\x01\ndata = /d\n", ":2: a name may not hold control characters");
    s_bad("[node]\nname = x\ndata = /d\n[member a]\n", ":4: [member a] needs 'key'");
    s_bad("[node]\nname = x\n[member a]\n", ":1: [node] needs 'data'");
    s_bad("[member a]\n", "no [node] section");

    /* ';' without a blank before it, and '#' inside a value, are read whole;
     * indented lines are lines, not continuations. */
    conf_t *c = s_load("[node]\n  name = Sozial; Wirtschaft #1\n\tdata = /d\n   # indented comment\n",
                       err, sizeof(err));
    CHECK(c != NULL && strcmp(c->name, "Sozial; Wirtschaft #1") == 0 && strcmp(c->data, "/d") == 0);
    conf_free(&c);

    /* All of them at once, in the order of their lines. */
    snprintf(text, sizeof(text), "[node]\nname = A\x01B\ndata = /d\nlisten = tcp://127.0.0.1\n"
             "query = tcp://h:99999\nname = C\n[member a]\nkey = %s\n[member a]\n[member b]\nkey = %s\n"
             "junk\n", k1, k1);
    c = s_load(text, err, sizeof(err));
    CHECK(c == NULL);
    const char *want[] = { ":2: a name may not hold control characters", ":4: 'tcp://127.0.0.1' has no port", ":5: ",
                           ":6: 'name' is set twice", ":9: [member a] appears twice",
                           ":11: [member b] has the key of [member a]", ":12: expected [section]", NULL };
    const char *at = err;
    for (int i = 0; want[i]; i++) {
        const char *hit = strstr(at, want[i]);
        if (hit == NULL)
            fprintf(stderr, "  all problems: no '%s' after '%s'\n", want[i], at);
        CHECK(hit != NULL);
        at = hit ? hit : at;
    }
    CHECK(strstr(err, "needs 'name'") == NULL);
    /* One problem a line. */
    int lines = 1;
    for (const char *q = err; *q; q++)
        lines += *q == '\n';
    CHECK(lines == 7);
    /* A list too long for err is cut with a count. */
    char small[200];
    c = s_load(text, small, sizeof(small));
    CHECK(c == NULL && strstr(small, "more") != NULL && strlen(small) < sizeof(small));
}

/* The node's own key (DATA/node.key) as a member. */
static void
s_self_member(void)
{
    char dir[] = "/tmp/socdir-conf-self-XXXXXX", path[512], text[1024], err[1024], id[NODEID_LEN + 1];
    uint8_t pk[32], sk[64];
    CHECK(mkdtemp(dir) != NULL);
    crypto_sign_keypair(pk, sk);
    key_to_id(pk, id);
    snprintf(path, sizeof(path), "%s/node.key", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fwrite(sk, 1, 64, f) == 64);
    fclose(f);
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fprintf(f, "[node]\nname = x\ndata = .\n\n[member me]\nkey = %s\n", id);
    fclose(f);
    conf_t *c = conf_load(path, err, sizeof(err));
    CHECK(c == NULL && strstr(err, "node.conf:6: [member me] is this node itself") != NULL);
    conf_free(&c);
    snprintf(text, sizeof(text), "%s/node.key", dir);
    unlink(text);
    c = conf_load(path, err, sizeof(err));      /* no key file: nothing to compare */
    CHECK(c != NULL);
    conf_free(&c);
    unlink(path);
    rmdir(dir);
}

/* init's arguments, checked as the file would check them. */
static void
s_values(void)
{
    char why[256];
    CHECK(conf_check_value("name", "Komunitas OG", why, sizeof(why)) == 0);
    CHECK(conf_check_value("name", "Sozial; Wirtschaft", why, sizeof(why)) == 0);
    CHECK(conf_check_value("name", "Sozial ; Wirtschaft", why, sizeof(why)) != 0 && strstr(why, "' ;'"));
    CHECK(conf_check_value("name", "a\nlisten = tcp://*:1", why, sizeof(why)) != 0 && strstr(why, "control"));
    CHECK(conf_check_value("name", " x", why, sizeof(why)) != 0 && strstr(why, "blank"));
    CHECK(conf_check_value("name", "", why, sizeof(why)) != 0);
    CHECK(conf_check_value("country", "Austria", why, sizeof(why)) != 0 && strstr(why, "ISO 3166-1"));
    CHECK(conf_check_value("country", "AT", why, sizeof(why)) == 0);
    CHECK(conf_check_value("region", "at1", why, sizeof(why)) != 0);
    CHECK(conf_check_value("listen", "tcp://127.0.0.1", why, sizeof(why)) != 0 && strstr(why, "no port"));
    CHECK(conf_check_value("query", "tcp://127.0.0.1:*", why, sizeof(why)) == 0);
    CHECK(conf_check_value("colour", "blue", why, sizeof(why)) != 0);
}

int
conf_test(bool verbose)
{
    char err[512];
    (void)verbose;

    conf_t *c = s_load("; a comment\n[node]\nname = Komunitas OG\ncountry = AT\n"
                       "region = AT12\ndata = /var/lib/socdir\nlisten = tcp://*:7700\nquery = tcp://*:7701\n"
                       "\n[member sociolab]\nkey = AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
                       "endpoint = tcp://127.0.0.1:7800\n", err, sizeof(err));
    CHECK(c != NULL);
    if (c != NULL) {
        CHECK(strcmp(c->name, "Komunitas OG") == 0 && strcmp(c->region, "AT12") == 0);
        CHECK(strcmp(c->data, "/var/lib/socdir") == 0 && strcmp(c->query, "tcp://*:7701") == 0);
        CHECK(c->nmembers == 1 && strcmp(c->members[0].name, "sociolab") == 0);
        CHECK(c->members[0].key[0] == 1 && c->members[0].key[31] == 32);
        CHECK(strcmp(c->members[0].endpoint, "tcp://127.0.0.1:7800") == 0);
    }
    conf_free(&c);
    CHECK(c == NULL);

    c = s_load("[node]\nname = x\ndata = rel/dir\n", err, sizeof(err));
    CHECK(c != NULL && c->data[0] == '/' && strstr(c->data, "/tmp/rel/dir") != NULL);
    conf_free(&c);

    s_bad("[node]\nname = x\ndata = /d\ncolour = blue\n", ":4: unknown key 'colour'");
    s_bad("[node]\nname = x\ncountry = Austria\ndata = /d\n", ":3: 'Austria' is not an ISO 3166-1");
    s_bad("[node]\nname = x\nregion = at1\ndata = /d\n", ":3:");
    s_bad("[node]\nname = x\ndata = /d\nlisten = 7700\n", ":4: '7700' is not a tcp://");
    s_bad("[node]\nname = x\ndata = /d\nrestore_wait = -1\n", ":4: '-1' is not a whole number of seconds");
    s_bad("[node]\nname = x\ndata = /d\nrestore_wait = 1h\n", ":4: '1h' is not a whole number");
    c = s_load("[node]\nname = x\ndata = /d\n", err, sizeof(err));
    CHECK(c != NULL && conf_restore_wait(c) == CONF_RESTORE_WAIT_DEFAULT);
    conf_free(&c);
    c = s_load("[node]\nname = x\ndata = /d\nrestore_wait = 0\n", err, sizeof(err));
    CHECK(c != NULL && conf_restore_wait(c) == 0);
    conf_free(&c);
    s_bad("[node]\nname = x\n", "needs 'data'");
    s_bad("[node]\ndata = /d\n", "needs 'name'");
    s_bad("[node]\nname = x\ndata = /d\n[peers]\na = b\n", ":4: unknown section [peers]");
    s_bad("[node]\nname = x\ndata = /d\n[member a]\nkey = nope\n", ":5: member a: 'nope' is not a node id");
    s_bad("[node]\nname = x\ndata = /d\n[member a]\nendpoint = tcp://h:1\n", "[member a] needs 'key'");
    s_bad("[node]\nname = x\nthis line is junk\ndata = /d\n", ":3:");
    s_bad("[node]\nname = x\ncountry = AT\nregion = SI032\ndata = /d\n", "not in country AT");
    /* The country against the ISO list, the region by its NUTS prefix. */
    s_bad("[node]\nname = x\ncountry = EL\ndata = /d\n", ":3: 'EL' is the NUTS prefix, not the ISO 3166-1 code: use GR");
    s_bad("[node]\nname = x\ncountry = UK\ndata = /d\n", ":3: 'UK' is the NUTS prefix, not the ISO 3166-1 code: use GB");
    s_bad("[node]\nname = x\ncountry = QQ\ndata = /d\n", ":3: 'QQ' is not an ISO 3166-1");
    s_bad("[node]\nname = x\ncountry = GR\nregion = GR30\ndata = /d\n", "its NUTS codes start with EL");
    c = s_load("[node]\nname = x\ncountry = GR\nregion = EL30\ndata = /d\n", err, sizeof(err));
    CHECK(c != NULL && strcmp(c->country, "GR") == 0 && strcmp(c->region, "EL30") == 0);
    conf_free(&c);
    c = s_load("[node]\nname = x\ncountry = GB\nregion = UKI3\ndata = /d\n", err, sizeof(err));
    CHECK(c != NULL);
    conf_free(&c);
    CHECK(conf_load("/nonexistent/node.conf", err, sizeof(err)) == NULL && strstr(err, "cannot open"));
    s_long_lines();
    s_endpoints();
    s_all_problems();
    s_self_member();
    s_values();
    return 0;
}
