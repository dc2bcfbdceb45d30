/*
 * test_conf.c: configuration files, good and bad, with the line of the
 * first error in the message.
 */
#include "conf.h"
#include "selftest.h"

#include <stdlib.h>
#include <string.h>
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

int
conf_test(bool verbose)
{
    char err[512];
    (void)verbose;

    conf_t *c = s_load("; a comment\n[node]\nname = Komunitas OG   ; inline comment\ncountry = AT\n"
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
    s_bad("[node]\nname = x\ndata = /d\n[peers]\na = b\n", ":5: unknown section [peers]");
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
    return 0;
}
