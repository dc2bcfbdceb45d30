/*
 * render.h: how the CLI prints what a node returns: aligned text tables
 * measured in display columns, CSV rows, JSON documents, the human-readable
 * block of one entry, and the choice of which language's name to show.
 * Nothing here talks to a node.
 */
#ifndef SOCDIR_RENDER_H
#define SOCDIR_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* ---- text ---- */

/* Columns a UTF-8 string takes as printed here: display width per code
 * point (utf8proc_charwidth: 2 for wide CJK, 0 for combining marks), an
 * escaped character counting as its escape. */
size_t render_width(const char *s);

/* A new copy of s, escaped as render_escape does, cut between grapheme
 * clusters to at most width columns and ending in "…" when cut. Caller
 * frees. */
char *render_fit(const char *s, size_t width);

/* The len bytes at s (which may hold NUL bytes) with every code point the
 * validator refuses in text (entry_char_refused: C0 controls, DEL, C1
 * controls, bidirectional overrides and isolates) and every byte that is
 * not UTF-8 written visibly: "\x1b" below U+0080 and for stray bytes,
 * "\u202e" above. Caller frees. */
char *render_escape(const char *s, size_t len);

/* Prints s escaped as render_escape does. */
void render_text(FILE *f, const char *s);

/* Prints the text fmt makes escaped as render_escape does, then a
 * newline (for messages that quote what a file or a node holds). */
void render_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The language the user reads, from $LC_ALL, $LC_MESSAGES or $LANG
 * ("de_AT.UTF-8" gives "de"); NULL if none names one. */
const char *render_env_lang(void);

/* An entry's name to show: in lang if given and present, else in the
 * environment's language, else "en", else the first in code order
 * (code_text); "" if the entry has no name (a tombstone). The string is
 * lent by e. */
const char *render_name(const json_t *e, const char *lang);

/* ---- tables ---- */

typedef struct table table_t;

/* A table with ncols columns and these headers (copied). */
table_t *table_new(int ncols, const char *const *headers);
void table_destroy(table_t **self_p);

/* Caps column col at width columns (longer cells are cut with "…"). */
void table_set_max(table_t *self, int col, size_t width);

/* Lets column col shrink (down to min) so that rows fit in total columns;
 * total 0 means no limit. */
void table_set_flex(table_t *self, int col, size_t min, size_t total);

/* Adds a row of ncols cells (copied; NULL prints as empty). */
void table_add(table_t *self, const char *const *cells);

/* Prints the header and rows, two spaces between columns. */
void table_print(table_t *self, FILE *f);

/* Columns of the terminal on stdout, or 0 if stdout is not a terminal. */
size_t render_term_cols(void);

/* ---- CSV and JSON ---- */

/* The CSV columns of an entry: id,origin,kind,name,country,region,website,
 * email,updated. lang chooses the name as render_name does. */
void render_csv_header(FILE *f);
/* One CSV field and then ',' (or '\n' if last): escaped as render_escape
 * does but for newlines and tabs, then quoted (RFC 4180, quotes doubled)
 * when it holds a comma, a quote or a line break. */
void render_csv_field(FILE *f, const char *s, int last);
void render_csv_entry(FILE *f, const json_t *e, const char *lang);

/* Prints v as JSON and a newline: indented by 2 if pretty, else compact. */
void render_json(FILE *f, const json_t *v, int pretty);

/* Prints v pretty, every line but the first indented by indent spaces, no
 * newline at the end (for items of a streamed array). */
void render_json_nested(FILE *f, const json_t *v, int indent);

/* ---- lists of entries ---- */

/* How commands that list entries print them. */
typedef enum {
    RENDER_TABLE = 0,   /* aligned columns for people (the caller builds it) */
    RENDER_JSON,        /* one document */
    RENDER_NDJSON,      /* one compact object per line */
    RENDER_CSV          /* header row (render_csv_header), then a row each */
} render_fmt_t;

/* Prints entry number n (from 0) of a stream in fmt: an NDJSON line, a CSV
 * row, or an item of a JSON array that the caller opens with "[" and
 * closes with "\n]\n" (just "]\n" when n stayed 0). */
void render_emit(FILE *f, int fmt, const json_t *e, const char *lang, size_t n);

/* ---- one entry for people ---- */

/* Prints "field: value" lines for the entry's body, then its provenance
 * (origin, verified, seq, version, updated, received, via). via_name, if
 * not NULL, is the name of the peer the entry came from, shown with the
 * entry's "via" node id as "NAME (ID)". */
void render_entry_text(FILE *f, const json_t *e, const char *via_name);

#endif
