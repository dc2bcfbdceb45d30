/*
 * conf.c: configuration loading. inih calls s_handler once per key; the
 * handler finds the key in s_keys and applies its check. inih reports the
 * line of the first key a handler refused, so the first error message is
 * kept and printed with that line.
 *
 * inih reads lines into a fixed buffer (200 bytes in Debian's build) and
 * parses the rest of a longer line as a line of its own, so the tail of a
 * long comment could set a key. inih therefore gets its lines from
 * s_read_line, which reads whole lines itself: a comment line of any
 * length reaches inih as an empty line, and any other line that does not
 * fit stops the parse with an error naming its line.
 */
#include "codes.h"
#include "conf.h"
#include "entry.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct parse {
    conf_t *conf;
    char msg[256];          /* first error, without its line */
    bool failed;
};

/* The stream s_read_line hands to inih, one whole line per call. */
struct lines {
    FILE *f;
    char *buf;              /* getline's buffer, freed by the caller */
    size_t cap;             /* its size */
    int lineno;             /* lines read so far: inih counts the same */
    int bad_line;           /* the line that stopped the parse, or 0 */
    char msg[128];          /* why it stopped, without file and line */
    int read_errno;         /* errno of a failed read, or 0 */
};

typedef int (*set_fn)(struct parse *p, char **dst, const char *value);

static int
s_endpoint(struct parse *p, char **dst, const char *v)
{
    if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) {
        snprintf(p->msg, sizeof(p->msg), "'%s' is not a tcp:// or ipc:// endpoint", v);
        return -1;
    }
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

static int
s_text(struct parse *p, char **dst, const char *v)
{
    if (*v == '\0') {
        snprintf(p->msg, sizeof(p->msg), "value is empty");
        return -1;
    }
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

/* A code of the shape ok, described by what. */
static int
s_code(struct parse *p, char **dst, const char *v, bool (*ok)(const char *), const char *what)
{
    if (*v != '\0' && !ok(v)) {
        snprintf(p->msg, sizeof(p->msg), "'%.40s' is not %s", v, what);
        return -1;
    }
    return s_text(p, dst, v);
}

static int
s_country(struct parse *p, char **dst, const char *v)
{
    if (*v != '\0' && entry_check_country(v, p->msg, sizeof(p->msg)) != 0)
        return -1;
    return s_text(p, dst, v);
}

static int
s_region(struct parse *p, char **dst, const char *v)
{
    return s_code(p, dst, v, code_nuts, "a NUTS code (e.g. AT123)");
}

/* A whole number from lo to hi, of what unit says. */
static int
s_whole(struct parse *p, char **dst, const char *v, long lo, long hi, const char *unit)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        snprintf(p->msg, sizeof(p->msg), "'%s' is not a whole number of %s (%ld-%ld)", v, unit, lo, hi);
        return -1;
    }
    return s_text(p, dst, v);
}

static int
s_rate(struct parse *p, char **dst, const char *v)
{
    return s_whole(p, dst, v, 1, 100000, "requests a second");
}

static int
s_wait(struct parse *p, char **dst, const char *v)
{
    return s_whole(p, dst, v, 0, 86400, "seconds");
}

int
conf_query_rate(const conf_t *c)
{
    return c->query_rate ? atoi(c->query_rate) : CONF_QUERY_RATE_DEFAULT;
}

int
conf_restore_wait(const conf_t *c)
{
    return c->restore_wait ? atoi(c->restore_wait) : CONF_RESTORE_WAIT_DEFAULT;
}

/* The [node] keys. */
static const struct key {
    const char *name;
    size_t offset;
    set_fn set;
} s_keys[] = {
    { "name",    offsetof(conf_t, name),    s_text },
    { "country", offsetof(conf_t, country), s_country },
    { "region",  offsetof(conf_t, region),  s_region },
    { "data",    offsetof(conf_t, data),    s_text },
    { "listen",  offsetof(conf_t, listen),  s_endpoint },
    { "query",   offsetof(conf_t, query),   s_endpoint },
    { "query_rate", offsetof(conf_t, query_rate), s_rate },
    { "restore_wait", offsetof(conf_t, restore_wait), s_wait },
    { NULL, 0, NULL }
};

static int
s_member(struct parse *p, const char *mname, const char *name, const char *value)
{
    conf_t *c = p->conf;
    conf_member_t *m = NULL;

    if (*mname == '\0') {
        snprintf(p->msg, sizeof(p->msg), "[member] needs a name: [member NAME]");
        return -1;
    }
    for (size_t i = 0; i < c->nmembers; i++)
        if (strcmp(c->members[i].name, mname) == 0)
            m = &c->members[i];
    if (m == NULL) {
        c->members = xrealloc(c->members, (c->nmembers + 1) * sizeof(*c->members));
        m = &c->members[c->nmembers++];
        memset(m, 0, sizeof(*m));
        m->name = xstrdup(mname);
    }
    if (strcmp(name, "key") == 0) {
        if (key_from_id(value, m->key) != 0) {
            snprintf(p->msg, sizeof(p->msg), "member %s: '%.60s' is not a node id "
                     "(43 characters, as printed by socdir-node id)", mname, value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "endpoint") == 0)
        return s_endpoint(p, &m->endpoint, value);
    snprintf(p->msg, sizeof(p->msg), "unknown key '%s' in [member %s] (known: key, endpoint)",
             name, mname);
    return -1;
}

/* inih handler: 1 to accept the line, 0 to report it. */
static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    int rc = -1;
    char saved[sizeof(p->msg)];

    memcpy(saved, p->msg, sizeof(saved));
    if (strcmp(section, "node") == 0) {
        const struct key *k = s_keys;
        while (k->name && strcmp(k->name, name) != 0)
            k++;
        if (k->name)
            rc = k->set(p, (char **)((char *)p->conf + k->offset), value);
        else
            snprintf(p->msg, sizeof(p->msg),
                     "unknown key '%s' in [node] (known: name, country, region, data, listen, query,"
                     " query_rate, restore_wait)",
                     name);
    } else if (strncmp(section, "member", 6) == 0 &&
               (section[6] == ' ' || section[6] == '\0')) {
        const char *mname = section + 6;
        while (*mname == ' ')
            mname++;
        rc = s_member(p, mname, name, value);
    } else {
        snprintf(p->msg, sizeof(p->msg), "unknown section [%s] (known: [node], [member NAME])",
                 section);
    }
    if (rc == 0)
        return 1;
    if (p->failed)      /* keep the first error: inih reports its line */
        memcpy(p->msg, saved, sizeof(saved));
    p->failed = true;
    return 0;
}

/* True when line (len bytes, line end included) is blank or a comment:
 * its first non-blank byte is ';' or '#', inih's start-of-line comment
 * prefixes. inih skips a UTF-8 BOM on the first line, so this does too. */
static bool
s_comment_only(const char *line, size_t len, bool first)
{
    size_t i = first ? bom_len(line, len) : 0;

    while (i < len && isspace((unsigned char)line[i]))
        i++;
    return i == len || line[i] == ';' || line[i] == '#';
}

/* inih's reader (fgets-like): puts the next line of the struct lines
 * stream into str (num bytes). A line that fits, line end included, in
 * num - 1 bytes goes as it is; a comment line goes as an empty line, since
 * inih would only skip it; any other line is refused: bad_line and msg
 * say why and NULL ends the parse. NULL also at the end of the file and
 * after a read error (read_errno). */
static char *
s_read_line(char *str, int num, void *stream)
{
    struct lines *r = stream;
    ssize_t len = getline(&r->buf, &r->cap, r->f);

    if (len < 0) {
        if (!feof(r->f))
            r->read_errno = errno ? errno : EIO;
        return NULL;
    }
    r->lineno++;
    if (num >= 2 && s_comment_only(r->buf, (size_t)len, r->lineno == 1)) {
        memcpy(str, "\n", 2);
        return str;
    }
    if (num >= 2 && (size_t)len <= (size_t)num - 1) {
        memcpy(str, r->buf, (size_t)len + 1);
        return str;
    }
    /* Counted without its newline, as an editor counts: with one, a
     * line fits when it has at most num - 2 bytes besides. */
    if (len > 0 && r->buf[len - 1] == '\n')
        len--;
    r->bad_line = r->lineno;
    snprintf(r->msg, sizeof(r->msg), "line is %zd bytes long, more than the %d a config "
             "line may have (only comment lines may be longer)", len, num - 2);
    return NULL;
}

/* Reads path into p->conf. Returns 0, or -1 with err set to the first
 * problem: "FILE: cannot open/read: why" or "FILE:LINE: why". */
static int
s_parse(const char *path, struct parse *p, char *err, size_t errlen)
{
    struct lines r = { .f = fopen(path, "r") };
    int line, rc = -1;

    if (r.f == NULL)
        return seterr(err, errlen, -1, "%s: cannot open: %s", path, strerror(errno));
    line = ini_parse_stream(s_read_line, &r, s_handler, p);
    /* An error inih found is on a line before the one the reader
     * stopped at, so it is the first error and goes first. */
    if (line == -2)
        seterr(err, errlen, -1, "%s: out of memory", path);
    else if (line > 0)
        seterr(err, errlen, -1, "%s:%d: %s", path, line,
               p->failed ? p->msg : "syntax error (expected [section] or key = value)");
    else if (r.bad_line > 0)
        seterr(err, errlen, -1, "%s:%d: %s", path, r.bad_line, r.msg);
    else if (r.read_errno != 0)
        seterr(err, errlen, -1, "%s: cannot read: %s", path, strerror(r.read_errno));
    else
        rc = 0;
    fclose(r.f);
    free(r.buf);
    return rc;
}

conf_t *
conf_load(const char *path, char *err, size_t errlen)
{
    conf_t *c = xcalloc(1, sizeof(*c));
    struct parse p = { .conf = c };

    c->path = xstrdup(path);
    if (s_parse(path, &p, err, errlen) != 0)
        goto fail;
    if (c->name == NULL || c->data == NULL) {
        seterr(err, errlen, -1, "%s: [node] needs '%s'", path, c->name ? "data" : "name");
        goto fail;
    }
    char why[160];
    if (c->country && c->region && entry_check_region(c->country, c->region, why, sizeof(why)) != 0) {
        seterr(err, errlen, -1, "%s: region %s", path, why);
        goto fail;
    }
    for (size_t i = 0; i < c->nmembers; i++) {
        static const uint8_t zero[32];
        if (memcmp(c->members[i].key, zero, 32) == 0) {
            seterr(err, errlen, -1, "%s: [member %s] needs 'key'", path, c->members[i].name);
            goto fail;
        }
    }
    if (c->data[0] != '/') {
        /* Relative to the config file, so a config can travel with its data. */
        char *copy = xstrdup(path), *dir = dirname(copy), *abs = NULL;
        if (asprintf(&abs, "%s%s%s", dir, strcmp(c->data, ".") ? "/" : "",
                     strcmp(c->data, ".") ? c->data : "") < 0)
            abort();
        free(copy);
        free(c->data);
        c->data = abs;
    }
    return c;
fail:
    conf_free(&c);
    return NULL;
}

void
conf_free(conf_t **self_p)
{
    if (*self_p) {
        conf_t *c = *self_p;
        for (size_t i = 0; i < c->nmembers; i++) {
            free(c->members[i].name);
            free(c->members[i].endpoint);
        }
        free(c->members);
        free(c->path);
        free(c->name);
        free(c->country);
        free(c->region);
        free(c->data);
        free(c->listen);
        free(c->query);
        free(c->query_rate);
        free(c->restore_wait);
        free(c);
        *self_p = NULL;
    }
}

int
conf_write_starter(const char *path, const char *name, const char *country,
                   const char *region, const char *data, const char *listen,
                   const char *query, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return seterr(err, errlen, -1, "%s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return seterr(err, errlen, -1, "%s: %s", path, strerror(errno));
    }
    fprintf(f,
            "; socdir node configuration.\n"
            "; Check it with: socdir-node check --config %s\n"
            "\n"
            "[node]\n"
            "; Shown to users and peers.\n"
            "name = %s\n"
            "; ISO 3166-1 alpha-2 country and NUTS region of this partner.\n"
            "%scountry = %s\n"
            "%sregion = %s\n"
            "; Key, database and control socket (control.sock); relative paths\n"
            "; are taken from this file's folder.\n"
            "data = %s\n"
            "; Peer endpoint (CURVE, members only) and open read-only query endpoint.\n"
            "%slisten = %s\n"
            "%squery = %s\n"
            "\n"
            "; One section per federation member:\n"
            "; [member sociolab]\n"
            "; key = <its node id, from: socdir-node id DIR>\n"
            "; endpoint = tcp://sociolab.example.org:7700   ; optional: dial it\n",
            path, name,
            country ? "" : ";", country ? country : "AT",
            region ? "" : ";", region ? region : "AT12",
            data,
            listen ? "" : ";", listen ? listen : "tcp://*:7700",
            query ? "" : ";", query ? query : "tcp://*:7701");
    if (fclose(f) != 0)
        return seterr(err, errlen, -1, "%s: %s", path, strerror(errno));
    return 0;
}
