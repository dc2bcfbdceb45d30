/*
 * test_render.c: the CLI's printers (cli/render.c): display widths,
 * cutting between grapheme clusters, table alignment across scripts, and
 * the escaping of control characters in tables, CSV, JSON and the text
 * view of an entry.
 */
#include "render.h"
#include "selftest.h"

#include <stdlib.h>
#include <string.h>

/* What fn printed into a new string (caller frees). */
#define CAPTURE(buf, call)                                      \
    do {                                                        \
        size_t cap_len_;                                        \
        FILE *f = open_memstream(&(buf), &cap_len_);            \
        call;                                                   \
        fclose(f);                                              \
    } while (0)

static bool
s_fit_is(const char *s, size_t width, const char *want)
{
    char *got = render_fit(s, width);
    bool ok = strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "  render_fit('%s', %zu) gave '%s', wanted '%s'\n", s, width, got, want);
    free(got);
    return ok;
}

/* True when no byte of s is a C0 control but newline and tab, DEL or the start
 * of a C1 control or bidirectional override or isolate. */
static bool
s_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
            return false;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return false;
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
            return false;
        if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
            return false;
    }
    return true;
}

static void
s_test_widths(void)
{
    CHECK(render_width("Pölten") == 6);
    CHECK(render_width("Brněnská") == 8);
    CHECK(render_width("Θεσσαλονίκη") == 11);
    CHECK(render_width("東京都") == 6);
    CHECK(render_width("e\xcc\x81") == 1);                  /* e + combining acute */
    CHECK(render_width("a\x1b[31m") == 1 + 4 + 4);          /* ESC shows as \x1b */
    CHECK(render_width("\xe2\x80\xae") == 6);               /* U+202E as \u202e */

    CHECK(s_fit_is("Pölten", 6, "Pölten"));
    CHECK(s_fit_is("Pölten", 5, "Pölt…"));
    CHECK(s_fit_is("東京都庁", 5, "東京…"));                 /* 2 + 2 + 1 */
    CHECK(s_fit_is("東京都庁", 4, "東…"));                   /* 京 would need 2 of the 1 left */
    CHECK(s_fit_is("e\xcc\x81" "e\xcc\x81" "e\xcc\x81", 2, "e\xcc\x81…"));  /* accent kept */
    CHECK(s_fit_is("a\x1b[31mb", 20, "a\\x1b[31mb"));
    CHECK(s_fit_is("a\x1b[31mb", 4, "a…"));                 /* an escape is never cut */
    CHECK(s_fit_is("x\ny", 10, "x\\x0ay"));
    CHECK(s_fit_is("\xc2\x9b" "1m", 10, "\\u009b1m"));
    CHECK(s_fit_is("a\xffz", 10, "a\\xffz"));               /* a byte that is not UTF-8 */
    char *e = render_escape("a\0b\xe2\x81\xa6", 6);
    CHECK(strcmp(e, "a\\x00b\\u2066") == 0);
    free(e);
}

/* Every row's second column starts at the same display column, whatever
 * the script of the first. */
static void
s_test_table(void)
{
    static const char *const head[] = { "name", "country" };
    static const char *const rows[][2] = {
        { "Glanzwerk", "AT" }, { "Brněnská sociální firma", "CZ" }, { "Θεσσαλονίκη Κοινωνική", "GR" },
        { "東京社会企業", "JP" }, { "Cafe\xcc\x81 Solidaire", "FR" }, { "Red\x1b[31m", "DK" },
        { "東京社会企業東京社会企業東京社会企業東京社会企業", "JP" },
    };
    table_t *t = table_new(2, head);
    table_set_max(t, 0, 20);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        table_add(t, rows[i]);
    char *out = NULL;
    CAPTURE(out, table_print(t, f));
    table_destroy(&t);

    CHECK(s_clean(out));
    CHECK(strstr(out, "Red\\x1b[31m") != NULL);
    CHECK(strstr(out, "Cafe\xcc\x81 Solidaire") != NULL);
    size_t lines = 0, col = 0;
    bool aligned = true;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        /* The second column is the last two letters (AT, CZ...) or "country". */
        size_t n = strlen(line), at = strstr(line, "country") ? n - 7 : n - 2;
        char save = line[at];
        line[at] = '\0';
        size_t w = render_width(line);
        line[at] = save;
        if (lines == 0)
            col = w;
        if (w != col) {
            fprintf(stderr, "  row %zu: second column at %zu, header's at %zu: %s\n", lines, w, col, line);
            aligned = false;
        }
    }
    CHECK(lines == 8 && col == 22);     /* cap 20 + two spaces */
    CHECK(aligned);
    free(out);
}

static void
s_test_escaping(void)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:s, s:s, s:{s:s}}",
                          "id", "legacy", "kind", "organisation", "origin", "ORIGIN",
                          "name", "en", "Red\x1b[31m Co", "de", "Rot\xc2\x9b" "1m",
                          "description", "en", "line 1\n\tline 2 \xe2\x80\xae", "country", "AT",
                          "x_\x1b]0;title\x07", "v", "address", "city", "Wien\r");
    char *text = NULL, *csv = NULL, *js = NULL;

    CAPTURE(text, render_entry_text(f, e, "peer\x1b[2J"));
    CHECK(s_clean(text));
    CHECK(strstr(text, "Red\\x1b[31m Co") != NULL && strstr(text, "Rot\\u009b1m") != NULL);
    CHECK(strstr(text, "line 1\n") != NULL && strstr(text, "\tline 2 \\u202e") != NULL);
    CHECK(strstr(text, "x_\\x1b]0;title\\x07:") != NULL);
    CHECK(strstr(text, "Wien\\x0d") != NULL);

    json_object_set_new(e, "website", json_string("https://x.example/\n\x1b"));
    CAPTURE(csv, render_csv_entry(f, e, "en"));
    CHECK(s_clean(csv));
    CHECK(strstr(csv, ",Red\\x1b[31m Co,") != NULL);
    CHECK(strstr(csv, ",\"https://x.example/\n\\x1b\",") != NULL);   /* a line break: quoted */

    CAPTURE(js, render_json(f, e, 0));
    CHECK(s_clean(js) && strstr(js, "\\u009b") != NULL && strstr(js, "\\u202e") != NULL);
    json_t *back = json_loads(js, 0, NULL);
    CHECK(back != NULL && json_equal(back, e));     /* the same document */
    json_decref(back);
    free(text);
    free(csv);
    free(js);
    json_decref(e);
}

int
render_test(bool verbose)
{
    (void)verbose;
    s_test_widths();
    s_test_table();
    s_test_escaping();
    return 0;
}
