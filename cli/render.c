/*
 * render.c: tables, CSV, JSON and the text view of an entry.
 *
 * Widths are display columns (utf8proc_charwidth per code point), so
 * "Pölten" is six columns, "東京" four and a combining accent none. Cells
 * are cut with "…" at their column's cap, between grapheme clusters
 * (utf8proc_grapheme_break_stateful), never inside a UTF-8 sequence or
 * between a letter and its accent.
 *
 * Nothing reaches the terminal raw that could act on it: the code points
 * the validator refuses in text (entry_char_refused: C0, DEL, C1,
 * bidirectional overrides and isolates) print as \xHH (below U+0080) or
 * \uHHHH, in tables, CSV and the text view alike, because versions stored
 * under older rules may hold them. Only the text view keeps newlines (as
 * indented lines) and tabs. JSON output writes them as \u escapes, so a
 * document reads back equal.
 *
 * JSON reals are printed with the fewest digits (15 to 17) that read back
 * as the same double for every real in the document: 48.2047 prints as
 * 48.2047, not 48.204700000000003, and export -> publish stays unchanged.
 */
#include "codes.h"
#include "entry.h"
#include "render.h"
#include "util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <utf8proc.h>

/* ---- text ---- */

/* One code point of s (len bytes left) into *cp; returns its length. A
 * byte that starts no valid sequence comes back alone as -1 - byte, so
 * that it is escaped rather than printed. */
static size_t
s_next(const char *s, size_t len, utf8proc_int32_t *cp)
{
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, cp);
    if (n <= 0) {
        *cp = -1 - (unsigned char)s[0];
        return 1;
    }
    return (size_t)n;
}

/* The visible form of cp into buf when cp must not reach a terminal
 * raw ("\x1b", "\u202e", "\xff" for a stray byte); returns its length,
 * 0 for a code point that prints as itself. */
static size_t
s_escape(utf8proc_int32_t cp, char buf[8])
{
    if (cp < 0)
        return (size_t)snprintf(buf, 8, "\\x%02x", (unsigned)(-1 - cp));
    if (!entry_char_refused(cp))
        return 0;
    return (size_t)(cp < 0x80 ? snprintf(buf, 8, "\\x%02x", (unsigned)cp)
                              : snprintf(buf, 8, "\\u%04x", (unsigned)cp));
}

/* Columns cp takes as printed: its escape's length, else its display
 * width (0 for combining marks and other zero-width characters). */
static size_t
s_cp_width(utf8proc_int32_t cp)
{
    char buf[8];
    size_t n = s_escape(cp, buf);
    if (n > 0)
        return n;
    int w = utf8proc_charwidth(cp);
    return w > 0 ? (size_t)w : 0;
}

size_t
render_width(const char *s)
{
    size_t w = 0, len = strlen(s);
    utf8proc_int32_t cp;
    for (size_t i = 0; i < len;) {
        i += s_next(s + i, len - i, &cp);
        w += s_cp_width(cp);
    }
    return w;
}

/* Appends cp (the n bytes at src) to out at *o, escaped if it must be. */
static void
s_put(char *out, size_t *o, utf8proc_int32_t cp, const char *src, size_t n)
{
    char buf[8];
    size_t e = s_escape(cp, buf);
    memcpy(out + *o, e ? buf : src, e ? e : n);
    *o += e ? e : n;
}

/* The length of the grapheme cluster at s (len bytes left) and its
 * width into *w. An escaped code point is a cluster of its own. */
static size_t
s_cluster(const char *s, size_t len, size_t *w)
{
    utf8proc_int32_t first, cp;
    utf8proc_int32_t state = 0;
    char buf[8];
    size_t i = s_next(s, len, &first);

    *w = s_cp_width(first);
    if (s_escape(first, buf))
        return i;
    while (i < len) {
        size_t n = s_next(s + i, len - i, &cp);
        if (s_escape(cp, buf) || utf8proc_grapheme_break_stateful(first, cp, &state))
            break;
        *w += s_cp_width(cp);
        first = cp;
        i += n;
    }
    return i;
}

/* Keeps whole clusters of at most width - 1 columns and adds the
 * ellipsis when s is too wide, so the result is never wider than width. */
char *
render_fit(const char *s, size_t width)
{
    bool cut = render_width(s) > width;
    size_t room = cut ? (width > 0 ? width - 1 : 0) : (size_t)-1, used = 0, o = 0;
    size_t len = strlen(s);
    /* An escape is at most 6 bytes for a code point of at least 1. */
    char *out = xmalloc(6 * len + sizeof("…"));

    for (size_t i = 0; i < len;) {
        size_t w, n = s_cluster(s + i, len - i, &w);
        if (used + w > room)
            break;
        for (size_t j = i; j < i + n;) {
            utf8proc_int32_t cp;
            size_t k = s_next(s + j, i + n - j, &cp);
            s_put(out, &o, cp, s + j, k);
            j += k;
        }
        used += w;
        i += n;
    }
    if (cut && width > 0) {
        memcpy(out + o, "…", strlen("…"));
        o += strlen("…");
    }
    out[o] = '\0';
    return out;
}

/* s escaped into a new string; newlines and tabs kept when lines is set. */
static char *
s_escaped(const char *s, size_t len, bool lines)
{
    char *out = xmalloc(6 * len + 1);
    size_t o = 0;
    utf8proc_int32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = s_next(s + i, len - i, &cp);
        if (lines && (cp == '\n' || cp == '\t'))
            out[o++] = (char)cp;
        else
            s_put(out, &o, cp, s + i, n);
        i += n;
    }
    out[o] = '\0';
    return out;
}

char *
render_escape(const char *s, size_t len)
{
    return s_escaped(s, len, false);
}

void
render_text(FILE *f, const char *s)
{
    char *e = s_escaped(s, strlen(s), false);
    fputs(e, f);
    free(e);
}

void
render_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n >= 0)
        render_text(f, msg);
    fputc('\n', f);
    free(msg);
}

const char *
render_env_lang(void)
{
    static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG", NULL };
    static char lang[3];

    /* The first variable that is set decides, as in POSIX locale lookup. */
    for (const char *const *v = vars; *v; v++) {
        const char *s = getenv(*v);
        if (s == NULL || *s == '\0')
            continue;
        if (!islower((unsigned char)s[0]) || !islower((unsigned char)s[1]) ||
            (s[2] != '\0' && s[2] != '_' && s[2] != '.' && s[2] != '@'))
            return NULL;
        memcpy(lang, s, 2);
        lang[2] = '\0';
        return lang;
    }
    return NULL;
}

/* The name in lang, else in the locale's language, else as code_text
 * chooses: the same entry always shows the same name. */
const char *
render_name(const json_t *e, const char *lang)
{
    const char *s = code_text(json_object_get(e, "name"), lang, render_env_lang());
    return s ? s : "";
}

/* ---- tables ----
 * Cells are copied in as they come and measured only when printed, so a
 * column is as wide as its widest cell, whatever order rows arrive in.
 */

struct table {
    int ncols;
    char **cells;           /* row-major, row 0 the header; owned */
    size_t nrows, cap;      /* rows held (header included), rows allocated */
    size_t *max;            /* per column cap in code points, 0 = none */
    int flex;               /* column that shrinks to fit, -1 = none */
    size_t flex_min, total; /* its least width; the width to fit in */
};

table_t *
table_new(int ncols, const char *const *headers)
{
    table_t *self = xcalloc(1, sizeof(*self));
    self->ncols = ncols;
    self->max = xcalloc((size_t)ncols, sizeof(*self->max));
    self->flex = -1;
    table_add(self, headers);
    return self;
}

void
table_destroy(table_t **self_p)
{
    if (*self_p) {
        table_t *self = *self_p;
        for (size_t i = 0; i < self->nrows * (size_t)self->ncols; i++)
            free(self->cells[i]);
        free(self->cells);
        free(self->max);
        free(self);
        *self_p = NULL;
    }
}

void
table_set_max(table_t *self, int col, size_t width)
{
    self->max[col] = width;
}

void
table_set_flex(table_t *self, int col, size_t min, size_t total)
{
    self->flex = col;
    self->flex_min = min;
    self->total = total;
}

void
table_add(table_t *self, const char *const *cells)
{
    if (self->nrows == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 16;
        self->cells = xrealloc(self->cells, self->cap * (size_t)self->ncols * sizeof(char *));
    }
    char **row = self->cells + self->nrows++ * (size_t)self->ncols;
    for (int c = 0; c < self->ncols; c++)
        row[c] = xstrdup(cells[c] ? cells[c] : "");
}

/* Fills width[] with each column's printed width: its widest cell, held
 * to the column's cap; then, if the rows are wider than the terminal, the
 * flex column gives up what it can (down to its minimum). Other columns
 * never shrink: an id cut short could not be passed to get. */
static void
s_widths(const table_t *self, size_t *width)
{
    size_t sum = 0;
    for (int c = 0; c < self->ncols; c++) {
        width[c] = 0;
        for (size_t r = 0; r < self->nrows; r++) {
            size_t w = render_width(self->cells[r * (size_t)self->ncols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
        if (self->max[c] && width[c] > self->max[c])
            width[c] = self->max[c];
        sum += width[c] + (c ? 2 : 0);
    }
    if (self->flex >= 0 && self->total > 0 && sum > self->total) {
        size_t over = sum - self->total, *w = &width[self->flex];
        *w = *w > self->flex_min + over ? *w - over : (*w < self->flex_min ? *w : self->flex_min);
    }
}

void
table_print(table_t *self, FILE *f)
{
    size_t *width = xcalloc((size_t)self->ncols, sizeof(*width));
    s_widths(self, width);
    for (size_t r = 0; r < self->nrows; r++) {
        char **row = self->cells + r * (size_t)self->ncols;
        /* Stop after the last cell with text, so lines have no trailing blanks. */
        int last = self->ncols - 1;
        while (last > 0 && row[last][0] == '\0')
            last--;
        for (int c = 0; c <= last; c++) {
            char *cell = render_fit(row[c], width[c]);
            fputs(cell, f);
            if (c < last)
                fprintf(f, "%*s", (int)(width[c] - render_width(cell) + 2), "");
            free(cell);
        }
        fputc('\n', f);
    }
    free(width);
}

size_t
render_term_cols(void)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0)
        return 0;
    return ws.ws_col;
}

/* ---- CSV ---- */

/* The CSV columns are a contract like the JSON field names: scripts read
 * them by position. Add new ones at the end only. */
static const char *const s_csv_cols[] = { "id", "origin", "kind", "name", "country",
    "region", "website", "email", "updated", NULL };

void
render_csv_field(FILE *f, const char *raw, int last)
{
    char *esc = s_escaped(raw, strlen(raw), true);
    const char *s = esc;
    if (strpbrk(s, ",\"\n") != NULL) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
    free(esc);
}

void
render_csv_header(FILE *f)
{
    for (int i = 0; s_csv_cols[i]; i++)
        render_csv_field(f, s_csv_cols[i], s_csv_cols[i + 1] == NULL);
}

void
render_csv_entry(FILE *f, const json_t *e, const char *lang)
{
    for (int i = 0; s_csv_cols[i]; i++) {
        const char *v = strcmp(s_csv_cols[i], "name") == 0
                      ? render_name(e, lang)
                      : json_string_value(json_object_get(e, s_csv_cols[i]));
        render_csv_field(f, v ? v : "", s_csv_cols[i + 1] == NULL);
    }
}

/* ---- JSON ---- */

/* The digits (15..17) that print every real in v so it reads back equal. */
static int
s_precision(const json_t *v)
{
    int p = 15, q;
    size_t i;
    const char *key;
    json_t *item;
    char buf[40];

    if (json_is_real(v)) {
        double d = json_real_value(v);
        for (p = 15; p < 17; p++) {
            snprintf(buf, sizeof(buf), "%.*g", p, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item)
            if ((q = s_precision(item)) > p)
                p = q;
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, item)
            if ((q = s_precision(item)) > p)
                p = q;
    }
    return p;
}

/* Writes jansson's output s, each line after the first indented by
 * indent. jansson escapes C0 controls as \\u00XX but writes DEL, C1
 * controls and bidirectional controls raw; those become \\uXXXX here,
 * which reads back as the same string. */
static void
s_json_out(FILE *f, const char *s, int indent)
{
    size_t len = strlen(s);
    utf8proc_int32_t cp;
    for (size_t i = 0; i < len;) {
        size_t n = s_next(s + i, len - i, &cp);
        if (cp >= 0x20 && entry_char_refused(cp))
            fprintf(f, "\\u%04x", (unsigned)cp);
        else
            fwrite(s + i, 1, n, f);
        if (cp == '\n')
            fprintf(f, "%*s", indent, "");
        i += n;
    }
}

/* JSON_ENCODE_ANY lets a malformed reply's odd value print rather than
 * vanish; output is UTF-8 as it came but for the escapes of s_json_out. */
void
render_json(FILE *f, const json_t *v, int pretty)
{
    size_t flags = JSON_REAL_PRECISION(s_precision(v)) | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    char *s = json_dumps(v, flags | JSON_ENCODE_ANY);
    if (s != NULL)
        s_json_out(f, s, 0);
    free(s);
    fputc('\n', f);
}

void
render_json_nested(FILE *f, const json_t *v, int indent)
{
    char *s = json_dumps(v, JSON_REAL_PRECISION(s_precision(v)) | JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s == NULL)
        return;
    s_json_out(f, s, indent);
    free(s);
}

/* ---- lists of entries ---- */

void
render_emit(FILE *f, int fmt, const json_t *e, const char *lang, size_t n)
{
    switch (fmt) {
    case RENDER_NDJSON:
        render_json(f, e, 0);
        break;
    case RENDER_CSV:
        render_csv_entry(f, e, lang);
        break;
    case RENDER_JSON:
        /* Items go two spaces in, as json_dumps would indent them. */
        fputs(n ? ",\n  " : "\n  ", f);
        render_json_nested(f, e, 2);
        break;
    }
}

/* ---- one entry as text ---- */

/* Body fields shown first, in this order; the rest follow by name. */
static const char *const s_first[] = { "name", "summary", "description", "country",
    "region", "address", "geo", "website", "email", "phone", "languages", NULL };
/* Fields the node adds; shown in the provenance part or not at all. */
static const char *const s_readonly[] = { "id", "kind", "origin", "origin_name", "seq",
    "updated", "deleted", "verified", "version", "received", "via", "score", "distance", NULL };

static bool
s_listed(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

/* Writes the len bytes of text at s escaped (render_escape) but for
 * newlines, which continue at column indent, and tabs. */
static void
s_text(FILE *f, const char *s, size_t len, int indent)
{
    char *e = s_escaped(s, len, true);
    for (const char *p = e; *p; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fprintf(f, "%*s", indent, "");
    }
    free(e);
}

/* A number, boolean or string for people: 48.2047, yes, text. */
static void
s_scalar(FILE *f, const json_t *v, int indent)
{
    if (json_is_string(v))
        s_text(f, json_string_value(v), json_string_length(v), indent);
    else if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%.15g", json_real_value(v));
    else if (json_is_boolean(v))
        fputs(json_is_true(v) ? "yes" : "no", f);
    else
        fputs("-", f);
}

/* An object of language code to text: {"de": "...", "en": "..."}. */
static bool
s_is_langmap(const json_t *v)
{
    const char *key;
    json_t *text;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return false;
    json_object_foreach((json_t *)v, key, text) {
        if (strlen(key) != 2 || !islower((unsigned char)key[0]) ||
            !islower((unsigned char)key[1]) || !json_is_string(text))
            return false;
    }
    return true;
}

/* An address as people write it, "Street 1, 3100 Town". Returns false,
 * printing nothing, when v is not an object of those string parts. */
static bool
s_address(FILE *f, const json_t *v)
{
    json_t *st = json_object_get(v, "street"), *pc = json_object_get(v, "postcode");
    json_t *city = json_object_get(v, "city");
    size_t parts = (st != NULL) + (pc != NULL) + (city != NULL);

    if (parts == 0 || parts != json_object_size(v) || (st && !json_is_string(st)) ||
        (pc && !json_is_string(pc)) || (city && !json_is_string(city)))
        return false;
    if (st != NULL) {
        s_text(f, json_string_value(st), json_string_length(st), 0);
        fputs(pc || city ? ", " : "", f);
    }
    if (pc != NULL) {
        s_text(f, json_string_value(pc), json_string_length(pc), 0);
        fputs(city ? " " : "", f);
    }
    if (city != NULL)
        s_text(f, json_string_value(city), json_string_length(city), 0);
    return true;
}

/* A value on one line: "a, b" for a list, "k: v, k: v" for an object. */
static void
s_inline(FILE *f, const json_t *v, int indent)
{
    const char *key, *sep = "";
    json_t *item;
    size_t i;

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            fputs(i ? ", " : "", f);
            s_inline(f, item, indent);
        }
    } else if (json_is_object(v)) {
        json_t *lat = json_object_get(v, "lat"), *lon = json_object_get(v, "lon");
        if (s_address(f, v)) {
            /* printed */
        } else if (json_is_number(lat) && json_is_number(lon) && json_object_size(v) == 2) {
            fprintf(f, "%.15g, %.15g", json_number_value(lat), json_number_value(lon));
        } else {
            json_object_foreach((json_t *)v, key, item) {
                fputs(sep, f);
                render_text(f, key);
                fputs(": ", f);
                s_inline(f, item, indent);
                sep = ", ";
            }
        }
    } else {
        s_scalar(f, v, indent);
    }
}

/* A field's value after its label; later lines start at column indent. */
static void
s_value(FILE *f, const json_t *v, int indent)
{
    const char *lang;
    json_t *item;
    size_t i;
    bool first = true;

    if (s_is_langmap(v)) {
        json_object_foreach((json_t *)v, lang, item) {
            fprintf(f, "%*s[", first ? 0 : indent, "");
            render_text(f, lang);
            fputs("] ", f);
            s_text(f, json_string_value(item), json_string_length(item), indent + 5);
            fputc('\n', f);
            first = false;
        }
        return;
    }
    if (json_is_array(v)) {
        /* A list holding objects (partners) gets a line per item. */
        bool compound = false;
        json_array_foreach(v, i, item)
            compound = compound || json_is_object(item) || json_is_array(item);
        if (compound) {
            json_array_foreach(v, i, item) {
                fprintf(f, "%*s", i ? indent : 0, "");
                s_inline(f, item, indent);
                fputc('\n', f);
            }
            return;
        }
    }
    s_inline(f, v, indent);
    fputc('\n', f);
}

/* "label:" padded to width, then the value; nothing if v is absent. A
 * label longer than the column gets one space. */
static void
s_field(FILE *f, const char *label, const json_t *v, int width)
{
    int len = (int)render_width(label);
    if (v == NULL)
        return;
    render_text(f, label);
    fprintf(f, ":%*s", len < width ? width - len : 1, "");
    s_value(f, v, len < width ? width + 1 : len + 2);
}

/* "label:" padded to width, then "NAME (ID)", both escaped. */
static void
s_named(FILE *f, const char *label, int width, const char *name, const char *id)
{
    int len = (int)strlen(label);
    fprintf(f, "%s:%*s", label, len < width ? width - len : 1, "");
    render_text(f, name);
    fputs(" (", f);
    render_text(f, id);
    fputs(")\n", f);
}

/* The label column's width: the longest label shown, plus its colon, but
 * no wider than LABEL_MAX, so that one odd unknown field name does not
 * push every value to the right. */
#define LABEL_MAX 24

static int
s_label_width(const json_t *e)
{
    size_t w = strlen("received");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v) {
        if (!s_listed(s_readonly, key) && render_width(key) > w && render_width(key) < LABEL_MAX)
            w = render_width(key);
    }
    return (int)(w + 1);
}

/* The body first (id and kind, the fields people look for, then the rest
 * by name), a blank line, then the provenance. "verified: NO" is in
 * capitals on purpose: an entry whose signature does not hold should
 * stand out. */
void
render_entry_text(FILE *f, const json_t *e, const char *via_name)
{
    int w = s_label_width(e);
    const char *key, *oname = json_string_value(json_object_get(e, "origin_name"));
    const char *origin = json_string_value(json_object_get(e, "origin"));
    json_t *v;

    s_field(f, "id", json_object_get(e, "id"), w);
    s_field(f, "kind", json_object_get(e, "kind"), w);
    for (const char *const *k = s_first; *k; k++)
        s_field(f, *k, json_object_get(e, *k), w);
    json_object_foreach((json_t *)e, key, v) {
        if (!s_listed(s_first, key) && !s_listed(s_readonly, key))
            s_field(f, key, v, w);
    }

    /* Provenance: who signed it, whether the signature holds, how it came. */
    fputc('\n', f);
    if (origin != NULL && oname != NULL)
        s_named(f, "origin", w, oname, origin);
    else
        s_field(f, "origin", json_object_get(e, "origin"), w);
    v = json_object_get(e, "verified");
    if (json_is_boolean(v))
        fprintf(f, "verified:%*s%s\n", w - 8, "", json_is_true(v) ? "yes" : "NO");
    if (json_is_true(json_object_get(e, "deleted")))
        fprintf(f, "deleted:%*syes\n", w - 7, "");
    static const char *const prov[] = { "seq", "version", "updated", "received", NULL };
    for (const char *const *k = prov; *k; k++)
        s_field(f, *k, json_object_get(e, *k), w);
    /* "local", or the node id of the peer it came from, named if known. */
    const char *via = json_string_value(json_object_get(e, "via"));
    if (via != NULL && via_name != NULL)
        s_named(f, "via", w, via_name, via);
    else
        s_field(f, "via", json_object_get(e, "via"), w);
}
