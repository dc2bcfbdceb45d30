/*
 * conf.c: configuration loading. inih calls s_handler once per key; the
 * handler finds the key in s_keys and applies its check. Every problem is
 * collected with its line (struct parse), so that one `check` lists all
 * of them; the handler always lets inih go on.
 *
 * inih reads lines into a fixed buffer (200 bytes in Debian's build) and
 * parses the rest of a longer line as a line of its own, so the tail of a
 * long comment could set a key. inih therefore gets its lines from
 * s_read_line, which reads whole lines itself and looks at each before
 * inih does:
 *   - a comment line of any length reaches inih as an empty line; any
 *     other line that does not fit is a problem (and reaches inih empty);
 *   - leading blanks are dropped: inih would take an indented line for
 *     the continuation of the previous key's value;
 *   - a key line with a ';' after a blank is a problem: inih cuts the
 *     value there (its inline comment), so "name = A ; B" would silently
 *     become "A". inih has no quoting; comments go on their own lines and
 *     a ';' in a value must follow a non-blank ("A; B" is read whole).
 *     '#' starts a comment only at the start of a line;
 *   - a line that is neither [section] nor key = value is a problem;
 *   - a section header seen before is a problem naming both lines.
 * Keys given twice in one section are found by the handler, a member key
 * listed twice and the node's own id as a member after the parse.
 */
#include "codes.h"
#include "conf.h"
#include "entry.h"
#include "ident.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* A key seen, for duplicates and for the line of a later problem. */
struct seen {
    char *section;          /* normalised: "node", "member NAME" */
    char *key;
    int line;
};

struct parse {
    conf_t *conf;
    const char *path;
    int line;               /* the line inih is at (s_read_line counts) */
    char *section;          /* the current section, normalised; NULL before one */
    char msg[256];          /* a setter's message */
    char **problems;        /* "FILE:LINE: why", in the order found */
    int *problem_lines;     /* their lines (0: the whole file) */
    size_t nproblems;
    char *warnings;         /* joined, for conf_t's warnings */
    struct seen *keys;      /* every key line */
    size_t nkeys;
    struct seen *sections;  /* every section header (key unused) */
    size_t nsections;
};

/* The stream s_read_line hands to inih, one whole line per call. */
struct lines {
    FILE *f;
    char *buf;              /* getline's buffer, freed by the caller */
    size_t cap;             /* its size */
    struct parse *p;        /* where problems go; p->line counts lines */
    int read_errno;         /* errno of a failed read, or 0 */
};

typedef int (*set_fn)(struct parse *p, char **dst, const char *value);

/* A new "FILE:LINE: why" (line 0: "FILE: why"), why from fmt and ap. */
static char * __attribute__((format(printf, 3, 0)))
s_line_msg(const struct parse *p, int line, const char *fmt, va_list ap)
{
    char why[512], *out;
    vsnprintf(why, sizeof(why), fmt, ap);
    int n = line > 0 ? asprintf(&out, "%s:%d: %s", p->path, line, why)
                     : asprintf(&out, "%s: %s", p->path, why);
    if (n < 0)
        abort();
    return out;
}

/* Adds "FILE:LINE: why" to the problems. */
static void __attribute__((format(printf, 3, 4)))
s_problem(struct parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = s_line_msg(p, line, fmt, ap);
    va_end(ap);
    p->problems = xrealloc(p->problems, (p->nproblems + 1) * sizeof(*p->problems));
    p->problem_lines = xrealloc(p->problem_lines, (p->nproblems + 1) * sizeof(int));
    p->problem_lines[p->nproblems] = line;
    p->problems[p->nproblems++] = out;
}

/* Adds "FILE:LINE: why" to the warnings: read, but probably not meant. */
static void __attribute__((format(printf, 3, 4)))
s_warning(struct parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = s_line_msg(p, line, fmt, ap), *out;
    va_end(ap);
    if (asprintf(&out, "%s%s%s", p->warnings ? p->warnings : "", p->warnings ? "\n" : "", msg) < 0)
        abort();
    free(msg);
    free(p->warnings);
    p->warnings = out;
}

/* ---- values ---- */

/* A port: 1-65535, or with bind also '*' and 0 (any). */
static bool
s_port_ok(const char *s, bool bind)
{
    char *end;
    if (bind && strcmp(s, "*") == 0)
        return true;
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    long n = strtol(s, &end, 10);
    return errno == 0 && *end == '\0' && n >= (bind ? 0 : 1) && n <= 65535;
}

/* A host name, IPv4 address or (to bind) interface name: letters, digits,
 * '-', '.', '_'. */
static bool
s_host_ok(const char *h, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.' && h[i] != '_')
            return false;
    return true;
}

static int
s_tcp(const char *ep, const char *rest, bool bind, char *why, size_t len)
{
    const char *colon;
    char host[256];

    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        size_t n = close ? (size_t)(close - rest - 1) : 0;
        struct in6_addr a;
        if (close == NULL || n == 0 || n >= sizeof(host))
            return seterr(why, len, -1, "'%.80s': an IPv6 address goes in brackets: tcp://[::1]:7700", ep);
        memcpy(host, rest + 1, n);
        host[n] = '\0';
        host[strcspn(host, "%")] = '\0';    /* a scope: fe80::1%eth0 */
        if (inet_pton(AF_INET6, host, &a) != 1)
            return seterr(why, len, -1, "'%.80s': '%s' is not an IPv6 address", ep, host);
        colon = close + 1;
        if (*colon != ':')
            return seterr(why, len, -1, "'%.80s' has no port: tcp://[HOST]:PORT", ep);
    } else {
        colon = strrchr(rest, ':');
        if (colon == NULL)
            return seterr(why, len, -1, "'%.80s' has no port: write tcp://HOST:PORT, e.g. tcp://%.60s:7700",
                          ep, rest);
        if (memchr(rest, ':', (size_t)(colon - rest)) != NULL)
            return seterr(why, len, -1, "'%.80s': an IPv6 address goes in brackets: tcp://[::1]:7700", ep);
        bool any = colon - rest == 1 && *rest == '*';
        if (any && !bind)
            return seterr(why, len, -1, "'%.80s': '*' (every address) is for endpoints to bind;"
                          " a member's endpoint names its host", ep);
        if (!any && !s_host_ok(rest, (size_t)(colon - rest)))
            return seterr(why, len, -1, "'%.80s': '%.*s' is not a host name or address", ep,
                          (int)(colon - rest > 60 ? 60 : colon - rest), rest);
    }
    if (!s_port_ok(colon + 1, bind))
        return seterr(why, len, -1, "'%.80s': port '%.20s' is not %s", ep, colon + 1,
                      bind ? "1-65535, or * or 0 for any free port" : "1-65535");
    return 0;
}

int
conf_check_endpoint(const char *ep, int bind, char *why, size_t len)
{
    if (strncmp(ep, "tcp://", 6) == 0)
        return s_tcp(ep, ep + 6, bind, why, len);
    if (strncmp(ep, "ipc://", 6) == 0) {
        const char *path = ep + 6;
        if (*path == '\0')
            return seterr(why, len, -1, "'%.80s' has no path: ipc:///run/socdir/peers.sock", ep);
        if (strlen(path) > SUN_PATH_MAX)
            return seterr(why, len, -1, "'%.60s...': an ipc path may have at most %zu bytes", ep,
                          SUN_PATH_MAX);
        return 0;
    }
    const char *sep = strstr(ep, "://");
    if (sep != NULL)
        return seterr(why, len, -1, "'%.80s': scheme '%.*s' is not supported (tcp:// or ipc://)", ep,
                      (int)(sep - ep > 20 ? 20 : sep - ep), ep);
    return seterr(why, len, -1, "'%.80s' is not a tcp:// or ipc:// endpoint", ep);
}

static int
s_set(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

static int
s_bind_endpoint(struct parse *p, char **dst, const char *v)
{
    if (conf_check_endpoint(v, 1, p->msg, sizeof(p->msg)) != 0)
        return -1;
    return s_set(dst, v);
}

static int
s_text(struct parse *p, char **dst, const char *v)
{
    if (*v == '\0') {
        snprintf(p->msg, sizeof(p->msg), "value is empty");
        return -1;
    }
    return s_set(dst, v);
}

/* A name shown to people and peers: any text but control characters. */
static int
s_name(struct parse *p, char **dst, const char *v)
{
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c == 0x7f) {
            snprintf(p->msg, sizeof(p->msg), "a name may not hold control characters");
            return -1;
        }
    return s_text(p, dst, v);
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
    { "name",    offsetof(conf_t, name),    s_name },
    { "country", offsetof(conf_t, country), s_country },
    { "region",  offsetof(conf_t, region),  s_region },
    { "data",    offsetof(conf_t, data),    s_text },
    { "listen",  offsetof(conf_t, listen),  s_bind_endpoint },
    { "query",   offsetof(conf_t, query),   s_bind_endpoint },
    { "query_rate", offsetof(conf_t, query_rate), s_rate },
    { "restore_wait", offsetof(conf_t, restore_wait), s_wait },
    { NULL, 0, NULL }
};

static const struct key *
s_key(const char *name)
{
    const struct key *k = s_keys;
    while (k->name && strcmp(k->name, name) != 0)
        k++;
    return k->name ? k : NULL;
}

/* Where inih would cut a value: a ';' after a blank (its inline
 * comment), or NULL. */
static const char *
s_inline_comment(const char *v)
{
    for (const char *c = v; *c; c++)
        if (*c == ';' && c > v && isspace((unsigned char)c[-1]))
            return c;
    return NULL;
}

static const char s_semicolon_rule[] =
    "inih reads ' ;' as the start of a comment: put comments on a line of their own,"
    " and write a ';' in a value without a blank before it";

int
conf_check_value(const char *key, const char *value, char *why, size_t len)
{
    const struct key *k = s_key(key);
    struct parse p = { 0 };
    conf_t scratch = { 0 };
    size_t n = strlen(value);

    if (k == NULL)
        return seterr(why, len, -1, "'%s' is not a [node] key", key);
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return seterr(why, len, -1, "control characters (such as a line break) cannot be in a"
                          " config value");
    if (n > 0 && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[n - 1])))
        return seterr(why, len, -1, "'%.60s' starts or ends with a blank, which the config"
                      " would drop", value);
    if (s_inline_comment(value) != NULL)
        return seterr(why, len, -1, "'%.60s': %s", value, s_semicolon_rule);
    if (n > 150)
        return seterr(why, len, -1, "longer than the 150 bytes a config value may have here");
    int rc = k->set(&p, (char **)((char *)&scratch + k->offset), value);
    free(*(char **)((char *)&scratch + k->offset));
    if (rc != 0)
        seterr(why, len, -1, "%s", p.msg);
    return rc;
}

/* ---- the parse ---- */

/* The line of key in section, or 0. */
static int
s_key_line(const struct parse *p, const char *section, const char *key)
{
    for (size_t i = 0; i < p->nkeys; i++)
        if (strcmp(p->keys[i].section, section) == 0 && strcmp(p->keys[i].key, key) == 0)
            return p->keys[i].line;
    return 0;
}

/* The line of the header of section, or 0. */
static int
s_section_line(const struct parse *p, const char *section)
{
    for (size_t i = 0; i < p->nsections; i++)
        if (strcmp(p->sections[i].section, section) == 0)
            return p->sections[i].line;
    return 0;
}

static void
s_seen_add(struct seen **list, size_t *n, const char *section, const char *key, int line)
{
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[*n] = (struct seen){ xstrdup(section), key ? xstrdup(key) : NULL, line };
    (*n)++;
}

/* The member of that name, made when new. */
static conf_member_t *
s_member_get(conf_t *c, const char *mname, int line)
{
    for (size_t i = 0; i < c->nmembers; i++)
        if (strcmp(c->members[i].name, mname) == 0)
            return &c->members[i];
    c->members = xrealloc(c->members, (c->nmembers + 1) * sizeof(*c->members));
    conf_member_t *m = &c->members[c->nmembers++];
    memset(m, 0, sizeof(*m));
    m->name = xstrdup(mname);
    m->line = line;
    return m;
}

static int
s_member(struct parse *p, const char *mname, const char *name, const char *value)
{
    conf_member_t *m = s_member_get(p->conf, mname, p->line);

    if (strcmp(name, "key") == 0) {
        m->key_line = p->line;
        if (key_from_id(value, m->key) != 0) {
            snprintf(p->msg, sizeof(p->msg), "member %s: '%.60s' is not a node id "
                     "(43 characters, as printed by socdir-node id)", mname, value);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "endpoint") == 0) {
        if (conf_check_endpoint(value, 0, p->msg, sizeof(p->msg)) != 0)
            return -1;
        return s_set(&m->endpoint, value);
    }
    snprintf(p->msg, sizeof(p->msg), "unknown key '%s' in [member %s] (known: key, endpoint)",
             name, mname);
    return -1;
}

/* inih handler: records a problem with the line, and always lets inih go
 * on (1), so that every problem is found. */
static int
s_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    const char *sec = p->section ? p->section : section;
    int rc = -1;
    int first = s_key_line(p, sec, name);

    if (p->section == NULL) {
        s_problem(p, p->line, "'%s' is outside any section: put it under [node]", name);
        return 1;
    }
    if (first > 0) {
        s_problem(p, p->line, "'%s' is set twice in [%s] (first on line %d): keep one",
                  name, sec, first);
        return 1;
    }
    s_seen_add(&p->keys, &p->nkeys, sec, name, p->line);
    if (strcmp(sec, "node") == 0) {
        const struct key *k = s_key(name);
        if (k)
            rc = k->set(p, (char **)((char *)p->conf + k->offset), value);
        else
            snprintf(p->msg, sizeof(p->msg),
                     "unknown key '%s' in [node] (known: name, country, region, data, listen, query,"
                     " query_rate, restore_wait)",
                     name);
    } else if (strncmp(sec, "member", 6) == 0 && (sec[6] == ' ' || sec[6] == '\0')) {
        if (sec[6] == '\0') {
            /* reported at its header */
            return 1;
        }
        rc = s_member(p, sec + 7, name, value);
    } else {
        /* reported at its header */
        return 1;
    }
    if (rc != 0)
        s_problem(p, p->line, "%s", p->msg);
    return 1;
}

/* A section header's name as the handler sees it, with a member's name
 * trimmed: "[member  a ]" is "member a". Returns a new string. */
static char *
s_section_name(const char *start, size_t n)
{
    char *s = xmalloc(n + 8);
    memcpy(s, start, n);
    s[n] = '\0';
    if (strncmp(s, "member", 6) == 0 && (s[6] == '\0' || isspace((unsigned char)s[6]))) {
        char *name = s + 6, *end;
        while (isspace((unsigned char)*name))
            name++;
        end = name + strlen(name);
        while (end > name && isspace((unsigned char)end[-1]))
            *--end = '\0';
        char *out;
        if (asprintf(&out, "member%s%s", *name ? " " : "", name) < 0)
            abort();
        free(s);
        return out;
    }
    return s;
}

/* A [section] line: checks it and makes it the current section.
 * Returns false when inih should not see it (no ']'). */
static bool
s_header(struct parse *p, const char *line)
{
    const char *close = strchr(line, ']');
    if (close == NULL) {
        s_problem(p, p->line, "section header without ']'");
        return false;
    }
    char *name = s_section_name(line + 1, (size_t)(close - line - 1));
    int first = s_section_line(p, name);
    if (first > 0)
        s_problem(p, p->line, "[%s] appears twice (first on line %d): merge them into one", name, first);
    else if (strcmp(name, "member") == 0)
        s_problem(p, p->line, "[member] needs a name: [member NAME]");
    else if (strcmp(name, "node") != 0 && strncmp(name, "member ", 7) != 0)
        s_problem(p, p->line, "unknown section [%s] (known: [node], [member NAME])", name);
    else if (strncmp(name, "member ", 7) == 0)
        s_member_get(p->conf, name + 7, p->line);
    s_seen_add(&p->sections, &p->nsections, name, NULL, p->line);
    free(p->section);
    p->section = name;
    return true;
}

/* True when line (len bytes, line end included) is blank or a comment:
 * its first byte is ';' or '#', inih's start-of-line comment prefixes. */
static bool
s_comment_only(const char *line, size_t len)
{
    return len == 0 || line[0] == ';' || line[0] == '#' || line[0] == '\n' ||
           (line[0] == '\r' && (len == 1 || line[1] == '\n'));
}

/* Looks at a key line before inih does: it needs a '=' (or ':') before
 * any comment; a ';' after a blank in its value starts inih's comment,
 * which is said (a warning). Returns false when it is refused (a problem
 * recorded). */
static bool
s_key_line_ok(struct parse *p, const char *line)
{
    const char *cut = s_inline_comment(line);
    size_t sep = strcspn(line, "=:");
    if (line[sep] == '\0' || (cut != NULL && cut < line + sep)) {
        s_problem(p, p->line, "expected [section] or key = value");
        return false;
    }
    if (cut != NULL) {
        const char *v = line + sep + 1, *end = cut;
        while (isspace((unsigned char)*v))
            v++;
        while (end > v && isspace((unsigned char)end[-1]))
            end--;
        /* A comment after a value, as earlier configs were written, is
         * what the writer meant most of the time: read as inih reads it,
         * and said. */
        s_warning(p, p->line, "the value is read as '%.*s': %s", (int)(end - v > 60 ? 60 : end - v),
                  v, s_semicolon_rule);
    }
    return true;
}

/* inih's reader (fgets-like): puts the next line of the struct lines
 * stream into str (num bytes), without its leading blanks (and the BOM
 * of the first). A comment line, and a line refused here (a problem
 * recorded), goes as an empty line; a section header is noted. NULL at
 * the end of the file and after a read error (read_errno). */
static char *
s_read_line(char *str, int num, void *stream)
{
    struct lines *r = stream;
    struct parse *p = r->p;
    ssize_t len = getline(&r->buf, &r->cap, r->f);

    if (len < 0) {
        if (!feof(r->f))
            r->read_errno = errno ? errno : EIO;
        return NULL;
    }
    p->line++;
    char *line = r->buf;
    size_t skip = p->line == 1 ? bom_len(line, (size_t)len) : 0;
    while (skip < (size_t)len && (line[skip] == ' ' || line[skip] == '\t'))
        skip++;
    line += skip;
    len -= (ssize_t)skip;
    if (num < 2)
        return NULL;
    memcpy(str, "\n", 2);
    if (s_comment_only(line, (size_t)len))
        return str;
    if ((size_t)len > (size_t)num - 1) {
        /* Counted without its newline, as an editor counts: with one, a
         * line fits when it has at most num - 2 bytes besides. */
        if (len > 0 && line[len - 1] == '\n')
            len--;
        s_problem(p, p->line, "line is %zd bytes long, more than the %d a config "
                  "line may have (only comment lines may be longer)", len, num - 2);
        return str;
    }
    if (line[0] == '[') {
        if (s_header(p, line))
            memcpy(str, line, (size_t)len + 1);
        return str;
    }
    if (s_key_line_ok(p, line))
        memcpy(str, line, (size_t)len + 1);
    return str;
}

/* Reads path into p->conf, every problem into p->problems. Returns 0 when
 * the file could be read (problems or not), -1 when it could not (the
 * problem recorded). */
static int
s_parse(const char *path, struct parse *p)
{
    struct lines r = { .f = fopen(path, "r"), .p = p };

    if (r.f == NULL) {
        s_problem(p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    int line = ini_parse_stream(s_read_line, &r, s_handler, p);
    if (line == -2)
        s_problem(p, 0, "out of memory");
    else if (line > 0)      /* a syntax s_read_line let through */
        s_problem(p, line, "syntax error (expected [section] or key = value)");
    if (r.read_errno != 0)
        s_problem(p, 0, "cannot read: %s", strerror(r.read_errno));
    fclose(r.f);
    free(r.buf);
    return 0;
}

/* The checks across keys and sections, after the parse. */
/* True when two tcp:// endpoints would bind one port: the same fixed
 * port, on the same host or with either on every address ('*'). */
static bool
s_same_port(const char *a, const char *b)
{
    if (a == NULL || b == NULL || strncmp(a, "tcp://", 6) != 0 || strncmp(b, "tcp://", 6) != 0)
        return false;
    const char *pa = strrchr(a, ':'), *pb = strrchr(b, ':');
    if (pa == NULL || pb == NULL || strcmp(pa, pb) != 0 || strcmp(pa, ":*") == 0 || strcmp(pa, ":0") == 0)
        return false;
    size_t ha = (size_t)(pa - a) - 6, hb = (size_t)(pb - b) - 6;
    bool any = (ha == 1 && a[6] == '*') || (hb == 1 && b[6] == '*');
    return any || (ha == hb && strncmp(a + 6, b + 6, ha) == 0);
}

static void
s_check_whole(struct parse *p)
{
    conf_t *c = p->conf;
    static const uint8_t zero[32];
    int node_line = s_section_line(p, "node");
    char why[160];

    if (node_line == 0) {
        s_problem(p, 0, "no [node] section (it needs name and data)");
    } else {
        if (c->name == NULL && s_key_line(p, "node", "name") == 0)
            s_problem(p, node_line, "[node] needs 'name'");
        if (c->data == NULL && s_key_line(p, "node", "data") == 0)
            s_problem(p, node_line, "[node] needs 'data'");
    }
    if (c->country && c->region && entry_check_region(c->country, c->region, why, sizeof(why)) != 0)
        s_problem(p, s_key_line(p, "node", "region"), "region %s", why);
    if (s_same_port(c->listen, c->query))
        s_problem(p, s_key_line(p, "node", "query"), "'%s' takes the port of listen (line %d):"
                  " the node could not bind both", c->query, s_key_line(p, "node", "listen"));
    for (size_t i = 0; i < c->nmembers; i++) {
        conf_member_t *m = &c->members[i];
        if (m->key_line == 0) {
            s_problem(p, m->line, "[member %s] needs 'key'", m->name);
            continue;
        }
        if (memcmp(m->key, zero, 32) == 0)
            continue;       /* not a node id: reported at its line */
        for (size_t j = 0; j < i; j++)
            if (c->members[j].key_line > 0 && memcmp(c->members[j].key, m->key, 32) == 0)
                s_problem(p, m->key_line, "[member %s] has the key of [member %s] (line %d):"
                          " a node is listed once", m->name, c->members[j].name, c->members[j].key_line);
    }
}

/* The node's own id (DATA/node.key) listed as a member: a node does not
 * sync with itself, and its own entries would look like a member's. */
static void
s_check_self(struct parse *p)
{
    conf_t *c = p->conf;
    uint8_t pk[32];

    if (c->data == NULL || c->nmembers == 0 || ident_peek(c->data, pk) != 0)
        return;
    for (size_t i = 0; i < c->nmembers; i++)
        if (c->members[i].key_line > 0 && memcmp(c->members[i].key, pk, 32) == 0)
            s_problem(p, c->members[i].key_line, "[member %s] is this node itself (the key of"
                      " %s/" IDENT_FILE "): a node is not its own member", c->members[i].name, c->data);
}

/* Joins the problems into err in the order of their lines, one a line;
 * what does not fit is counted. */
static void
s_report(struct parse *p, char *err, size_t errlen)
{
    size_t used = 0;
    /* Insertion sort, stable: problems found after the parse go to
     * their lines; a file has few. */
    for (size_t i = 1; i < p->nproblems; i++)
        for (size_t j = i; j > 0 && p->problem_lines[j - 1] > p->problem_lines[j]; j--) {
            int l = p->problem_lines[j];
            char *t = p->problems[j];
            p->problem_lines[j] = p->problem_lines[j - 1];
            p->problems[j] = p->problems[j - 1];
            p->problem_lines[j - 1] = l;
            p->problems[j - 1] = t;
        }
    if (errlen == 0)
        return;
    err[0] = '\0';
    for (size_t i = 0; i < p->nproblems; i++) {
        size_t n = strlen(p->problems[i]) + (i > 0);
        if (used + n + 32 >= errlen && i + 1 < p->nproblems) {
            snprintf(err + used, errlen - used, "\n... and %zu more", p->nproblems - i);
            return;
        }
        snprintf(err + used, errlen - used, "%s%s", i > 0 ? "\n" : "", p->problems[i]);
        used = strlen(err);
    }
}

static void
s_parse_free(struct parse *p)
{
    for (size_t i = 0; i < p->nproblems; i++)
        free(p->problems[i]);
    for (size_t i = 0; i < p->nkeys; i++) {
        free(p->keys[i].section);
        free(p->keys[i].key);
    }
    for (size_t i = 0; i < p->nsections; i++)
        free(p->sections[i].section);
    free(p->problems);
    free(p->problem_lines);
    free(p->warnings);
    free(p->keys);
    free(p->sections);
    free(p->section);
}

conf_t *
conf_load(const char *path, char *err, size_t errlen)
{
    conf_t *c = xcalloc(1, sizeof(*c));
    struct parse p = { .conf = c, .path = path };

    c->path = xstrdup(path);
    if (s_parse(path, &p) == 0 && c->data != NULL && c->data[0] != '/') {
        /* Relative to the config file, so a config can travel with its data. */
        char *copy = xstrdup(path), *dir = dirname(copy), *abs = NULL;
        if (asprintf(&abs, "%s%s%s", dir, strcmp(c->data, ".") ? "/" : "",
                     strcmp(c->data, ".") ? c->data : "") < 0)
            abort();
        free(copy);
        free(c->data);
        c->data = abs;
    }
    s_check_whole(&p);
    s_check_self(&p);
    if (p.nproblems > 0) {
        s_report(&p, err, errlen);
        conf_free(&c);
    } else {
        c->warnings = p.warnings;
        p.warnings = NULL;
    }
    s_parse_free(&p);
    return c;
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
        free(c->warnings);
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
            "; optional: dial it\n"
            "; endpoint = tcp://sociolab.example.org:7700\n",
            path, name,
            country ? "" : ";", country ? country : "AT",
            region ? "" : ";", region ? region : "AT12",
            data,
            listen ? "" : ";", listen ? listen : "tcp://*:7700",
            query ? "" : ";", query ? query : "tcp://*:7701");
    /* A file that could not be written whole is not left behind. */
    bool ok = fflush(f) == 0 && fsync(fd) == 0;
    int e = errno;
    if (fclose(f) != 0 && ok)
        ok = false, e = errno;
    if (!ok) {
        unlink(path);
        return seterr(err, errlen, -1, "%s: %s", path, strerror(e));
    }
    return 0;
}
