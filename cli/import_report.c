/*
 * import_report.c: what import says about bad rows. A partner's file with
 * 64 bad e-mail addresses should give one line, not 64, so rows are
 * grouped by what is wrong: the field and the reason with its values
 * taken out ("field 'email': '...' is not an e-mail address"). A group of
 * up to REPORT_SHOWN rows is printed row by row as before; a larger one as
 * one line with the count and the first lines as examples. --errors all
 * prints every row as it comes. Rejected rows and warnings (values
 * --lenient dropped from kept rows) are grouped apart. Everything goes to
 * the stream given (stderr), after the progress bar is gone.
 */
#include "import_report.h"
#include "render.h"
#include "text.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_SHOWN 3      /* rows of a group printed one by one */

/* Rows alike: one field, one reason. */
struct group {
    char *key;              /* import_report_key of the reason, owned */
    bool warning;
    size_t count;
    char *lines[REPORT_SHOWN];  /* the first rows' messages, owned */
    char *where[REPORT_SHOWN];  /* and where they were read ("line 18"), owned */
    char *why;              /* the first row's reason, owned */
};

struct import_report {
    const char *file;       /* the input's name, lent */
    FILE *out;
    bool all;               /* print every row at once */
    struct group *groups;   /* in the order first seen */
    size_t ngroups, capgroups;
    json_t *index;          /* {"e" or "w", then the key: index into groups} */
    size_t warnings;
};

import_report_t *
import_report_new(const char *file, FILE *out, bool all)
{
    import_report_t *r = xcalloc(1, sizeof(*r));
    r->file = file;
    r->out = out;
    r->all = all;
    r->index = json_object();
    return r;
}

/* The quote that closes the value quoted at open ('\''). Values are
 * quoted whole but cut to at most QUOTED_MAX bytes, and they may hold
 * apostrophes ("L'Arche"), so the closing quote is the last one within
 * reach that the message goes on after as the validator writes it ("'x'
 * is not ...", "'x' must ...", "'x': ..."); failing that, the next quote.
 * NULL if there is none. */
#define QUOTED_MAX 80
static const char *
s_quote_end(const char *open)
{
    static const char *const after[] = { "' is ", "' must ", "': ", NULL };
    const char *end = NULL;
    for (const char *p = open + 1; *p && p <= open + 1 + QUOTED_MAX; p++)
        for (const char *const *a = after; *p == '\'' && *a; a++)
            if (strncmp(p, *a, strlen(*a)) == 0)
                end = p;
    return end != NULL ? end : strchr(open + 1, '\'');
}

char *
import_report_key(const char *why)
{
    char *key = xmalloc(strlen(why) + 1), *o = key;
    const char *p = why;
    if (strncmp(p, "field '", 7) == 0 && strchr(p + 7, '\'') != NULL) {
        size_t n = (size_t)(strchr(p + 7, '\'') + 1 - p);
        memcpy(o, p, n);
        o += n, p += n;
    }
    while (*p) {
        const char *end = *p == '\'' ? s_quote_end(p) : NULL;
        if (end != NULL) {
            p = end + 1;
            *o++ = '_';
        } else if (isdigit((unsigned char)*p)) {
            while (isdigit((unsigned char)*p))
                p++;
            *o++ = '#';
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return key;
}

/* Where label is in the file: "line 18", "feature 3", or the label. */
static char *
s_where(const import_report_t *r, const char *label)
{
    size_t n = strlen(r->file);
    if (strncmp(label, r->file, n) != 0)
        return xstrdup(label);
    const char *p = label + n;
    char buf[64];
    if (p[0] == ':' && isdigit((unsigned char)p[1])) {
        snprintf(buf, sizeof(buf), "line %s", p + 1);
        return xstrdup(buf);
    }
    return xstrdup(p[0] == ':' && p[1] == ' ' ? p + 2 : label);
}

/* The message of one row. */
static char *
s_line(const char *label, const char *id, const char *why, bool warning)
{
    size_t n = strlen(label) + (id ? strlen(id) : 0) + strlen(why) + 64;
    char *s = xmalloc(n);
    if (id != NULL)
        snprintf(s, n, "%s: entry '%.80s': %s%s", label, id, warning ? "warning: " : "", why);
    else
        snprintf(s, n, "%s: %s%s", label, warning ? "warning: " : "", why);
    return s;
}

void
import_report_add(import_report_t *r, const char *label, const char *id, const char *why, bool warning)
{
    r->warnings += warning;
    if (r->all) {
        char *s = s_line(label, id, why, warning);
        render_line(r->out, "socdir import: %s", s);
        free(s);
        return;
    }
    char *key = import_report_key(why);
    size_t klen = strlen(key);
    char *hkey = xmalloc(klen + 2);
    hkey[0] = warning ? 'w' : 'e';
    memcpy(hkey + 1, key, klen + 1);
    /* _nocheck: a value cut inside a character leaves no UTF-8 to check */
    json_t *ix = json_object_get(r->index, hkey);
    struct group *g = ix != NULL ? &r->groups[json_integer_value(ix)] : NULL;
    if (g == NULL) {
        json_object_set_new_nocheck(r->index, hkey, json_integer((json_int_t)r->ngroups));
        if (r->ngroups == r->capgroups)
            r->groups = xrealloc(r->groups, (r->capgroups = r->capgroups ? 2 * r->capgroups : 16) * sizeof(*g));
        g = &r->groups[r->ngroups++];
        memset(g, 0, sizeof(*g));
        g->key = key;
        g->warning = warning;
        g->why = xstrdup(why);
    } else {
        free(key);
    }
    free(hkey);
    if (g->count < REPORT_SHOWN) {
        g->lines[g->count] = s_line(label, id, why, warning);
        g->where[g->count] = s_where(r, label);
    }
    g->count++;
}

/* The reason of a group without the first row's value: "'x' is not an
 * e-mail address" -> "not an e-mail address". */
static const char *
s_reason(const char *why, char *field, size_t len)
{
    *field = '\0';
    if (strncmp(why, "field '", 7) == 0 && strstr(why, "': ") != NULL) {
        const char *end = strstr(why, "': ");
        snprintf(field, len, "%.*s: ", (int)(end + 1 - why), why);
        why = end + 3;
    }
    if (why[0] == '\'' && s_quote_end(why) != NULL) {
        const char *rest = s_quote_end(why) + 1;
        rest += strspn(rest, " ");
        if (strncmp(rest, "is ", 3) == 0)
            rest += 3;
        if (*rest)
            return rest;
    }
    return why;
}

static void
s_group_free(struct group *g)
{
    for (size_t j = 0; j < g->count && j < REPORT_SHOWN; j++) {
        free(g->lines[j]);
        free(g->where[j]);
    }
    free(g->key);
    free(g->why);
}

void
import_report_print(import_report_t *r)
{
    for (size_t i = 0; i < r->ngroups; i++) {
        struct group *g = &r->groups[i];
        if (g->count <= REPORT_SHOWN) {
            for (size_t j = 0; j < g->count; j++)
                render_line(r->out, "socdir import: %s", g->lines[j]);
        } else {
            /* Built whole, then printed escaped: it quotes the file. */
            char field[128], *line = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&line, &len);
            const char *reason = s_reason(g->why, field, sizeof(field));
            char *w0 = g->where[0], *sp = strchr(w0, ' ');
            fprintf(m, "socdir import: %s: %s%s%zu rows, e.g. %.*s%s %s", r->file,
                    g->warning ? "warning: " : "", field, g->count,
                    sp ? (int)(sp - w0) : 0, w0, sp ? "s" : "", sp ? sp + 1 : w0);
            for (size_t j = 1; j < REPORT_SHOWN; j++) {
                const char *sj = strchr(g->where[j], ' ');
                fprintf(m, ", %s", sj ? sj + 1 : g->where[j]);
            }
            fprintf(m, ": %s (--errors all lists every row)", reason);
            fclose(m);
            render_line(r->out, "%s", line);
            free(line);
        }
        s_group_free(g);
    }
    r->ngroups = 0;
    json_object_clear(r->index);
    fflush(r->out);
}

size_t
import_report_warnings(const import_report_t *r)
{
    return r->warnings;
}

void
import_report_destroy(import_report_t **self_p)
{
    if (*self_p) {
        import_report_t *r = *self_p;
        for (size_t i = 0; i < r->ngroups; i++)
            s_group_free(&r->groups[i]);
        free(r->groups);
        json_decref(r->index);
        free(r);
        *self_p = NULL;
    }
}
