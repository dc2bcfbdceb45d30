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
    s_bad("[node]\nname = x\n", "needs 'data'");
    s_bad("[node]\ndata = /d\n", "needs 'name'");
    s_bad("[node]\nname = x\ndata = /d\n[peers]\na = b\n", ":5: unknown section [peers]");
    s_bad("[node]\nname = x\ndata = /d\n[member a]\nkey = nope\n", ":5: member a: 'nope' is not a node id");
    s_bad("[node]\nname = x\ndata = /d\n[member a]\nendpoint = tcp://h:1\n", "[member a] needs 'key'");
    s_bad("[node]\nname = x\nthis line is junk\ndata = /d\n", ":3:");
    s_bad("[node]\nname = x\ncountry = AT\nregion = SI032\ndata = /d\n", "not in country AT");
    CHECK(conf_load("/nonexistent/node.conf", err, sizeof(err)) == NULL && strstr(err, "cannot open"));
    return 0;
}
