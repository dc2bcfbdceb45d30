/*
 * test_import.c: the pure parts of import: encoding detection and
 * conversion (input.c), grouping keys of errors (import_report.c), folding
 * and id slugs (text.c) and duplicate groups (dedup.c, without a node).
 */
#include "dedup.h"
#include "entry.h"
#include "import_report.h"
#include "input.h"
#include "selftest.h"
#include "text.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* True when the n bytes at in, read as UTF-8 or converted from enc, give
 * want. */
static bool
s_decodes(const char *in, size_t n, const char *enc, const char *want)
{
    char err[512];
    size_t len;
    char *out = input_utf8(in, n, enc, &len, err, sizeof(err));
    bool ok = out != NULL && len == strlen(want) && strcmp(out, want) == 0;
    if (!ok)
        fprintf(stderr, "decode: got '%s' (%s)\n", out ? out : "(null)", out ? "" : err);
    free(out);
    return ok;
}

/* True when the n bytes at in are refused with an error containing want. */
static bool
s_refused(const char *in, size_t n, const char *enc, const char *want)
{
    char err[512] = "";
    size_t len;
    char *out = input_utf8(in, n, enc, &len, err, sizeof(err));
    bool ok = out == NULL && strstr(err, want) != NULL;
    if (!ok)
        fprintf(stderr, "refusal: got '%s', want '%s'\n", out ? out : err, want);
    free(out);
    return ok;
}

/* A string literal and its length, NULs included. */
#define B(lit) lit, sizeof(lit) - 1

int
input_test(bool verbose)
{
    (void)verbose;
    CHECK(s_decodes(B("\xEF\xBB\xBFid;Stra\xC3\x9F" "e"), NULL, "id;Straße"));
    CHECK(s_decodes(B("\xFF\xFEi\0d\0"), NULL, "id"));
    CHECK(s_decodes(B("\xFE\xFF\0i\0d"), NULL, "id"));
    CHECK(s_decodes(B("Stra\xDF" "e \x8C" "uvre Caf\xE9"), "CP1252", "Straße Œuvre Café"));
    CHECK(s_decodes(B("\xC8" "esk\xE1 \xBE" "idle \xF8\xF9"), "ISO-8859-2", "Česká židle řů"));
    /* Windows-1252 by its 0x80-0x9F bytes, ISO-8859-2 by š ž within words */
    CHECK(s_refused(B("id\nStra\xDF" "e \x8C" "uvre\n"), NULL, "line 2, byte offset 7: byte 0xDF is not UTF-8"));
    CHECK(s_refused(B("id\nStra\xDF" "e \x8C" "uvre\n"), NULL, "--encoding CP1252"));
    CHECK(s_refused(B("\xC8" "esk\xE1 \xBE" "idle"), NULL, "--encoding ISO-8859-2"));
    CHECK(s_refused(B("Caf\xE9 cr\xE8me"), NULL, "Western European"));
    CHECK(s_refused(B("i\0d\0;\0x\0"), NULL, "--encoding UTF-16LE"));
    CHECK(s_refused(B("\xEF\xBB\xBFok \xE9"), NULL, "though the file starts with a UTF-8 byte order mark"));
    /* a byte that has no character in the encoding: its line and offset */
    CHECK(s_refused(B("a\nb\nc\x81"), "CP1252", "line 3, byte offset 5: byte 0x81 is not valid CP1252"));
    CHECK(s_refused(B("x"), "NO-SUCH-ENCODING", "unknown encoding"));
    const char *why;
    CHECK(strcmp(input_guess("\x9C", 1, &why), "CP1252") == 0);
    /* UTF-8 with one stray Latin-1 byte: said to be UTF-8, no legacy
     * encoding suggested; with --encoding CP1252 refused, as is input
     * that is UTF-8 already */
    static const char mixed[] = "id;name:de\nr1;M\xC3\xBCller Stra\xC3\x9F" "e\nr2;Caf\xE9\n";
    CHECK(strcmp(input_guess(mixed, sizeof(mixed) - 1, &why), "UTF-8") == 0);
    CHECK(s_refused(B(mixed), NULL, "the file is UTF-8 with 1 invalid byte, the first at line 3, byte offset 36"));
    char err[512] = "";
    size_t olen;
    CHECK(input_utf8(mixed, sizeof(mixed) - 1, NULL, &olen, err, sizeof(err)) == NULL && strstr(err, "CP1252") == NULL);
    CHECK(s_refused(B(mixed), "CP1252", "the input is mostly UTF-8 already"));
    CHECK(s_refused(B("id\nM\xC3\xBCller\n"), "ISO-8859-1", "the input is UTF-8 already (1 character outside ASCII, "
                                                          "the first at line 2, byte offset 4)"));
    CHECK(s_decodes(B("id\nM\xC3\xBCller\n"), "UTF-8", "id\nMüller\n"));
    CHECK(s_decodes(B("Caf\xE9"), "CP1252", "Café"));
    /* a NUL from the converter is refused as in UTF-8 input */
    CHECK(s_refused(B("a\nb\0c"), "CP1252", "line 2: a NUL character (U+0000) from CP1252"));
    CHECK(s_refused(B("a\0\0\0"), "UTF-16LE", "a NUL character"));
    return selftest_failures;
}

int
report_test(bool verbose)
{
    (void)verbose;
    char *a = import_report_key("field 'email': 'x@' is not an e-mail address");
    char *b = import_report_key("field 'email': 'nobody' is not an e-mail address");
    char *c = import_report_key("field 'website': 'x@' is not an e-mail address");
    char *d = import_report_key("a quote opened on this line is not closed; reading goes on at line 5");
    char *e = import_report_key("a quote opened on this line is not closed; reading goes on at line 17");
    CHECK(strcmp(a, b) == 0 && strcmp(a, c) != 0 && strcmp(d, e) == 0);
    free(a), free(b), free(c), free(d), free(e);
    /* apostrophes in values ("L'Arche", "O'Brien", "x' is y") leave no
     * part of the value in the key */
    a = import_report_key("field 'country': 'L'Arche' is not an ISO 3166-1 alpha-2 code (e.g. AT)");
    b = import_report_key("field 'country': 'O'Brien' is not an ISO 3166-1 alpha-2 code (e.g. AT)");
    c = import_report_key("field 'country': 'x' is y' is not an ISO 3166-1 alpha-2 code (e.g. AT)");
    d = import_report_key("field 'country': 'AT' is not an ISO 3166-1 alpha-2 code (e.g. AT)");
    CHECK(strcmp(a, b) == 0 && strcmp(a, c) == 0 && strcmp(a, d) == 0);
    CHECK(strcmp(a, "field 'country': _ is not an ISO #-# alpha-# code (e.g. AT)") == 0);
    free(a), free(b), free(c), free(d);
    a = import_report_key("field 'email': 'd'Alembert@' is not an e-mail address");
    b = import_report_key("field 'email': 'x@y' is not an e-mail address");
    c = import_report_key("field 'ref': 'l'x/y': origin is not a node id");
    d = import_report_key("field 'ref': 'ab/y': origin is not a node id");
    CHECK(strcmp(a, b) == 0 && strcmp(c, d) == 0);
    free(a), free(b), free(c), free(d);

    /* four rows alike are one line; two are listed row by row */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    import_report_t *r = import_report_new("p.csv", out, false);
    import_report_add(r, "p.csv:18", "a", "field 'email': 'x' is not an e-mail address", false);
    import_report_add(r, "p.csv:40", "b", "field 'email': 'y' is not an e-mail address", false);
    import_report_add(r, "p.csv:3", "c", "field 'country': 'Austria' is not ...", false);
    import_report_add(r, "p.csv:97", "d", "field 'email': 'z' is not an e-mail address", false);
    import_report_add(r, "p.csv:99", "e", "field 'email': 'w' is not an e-mail address", false);
    import_report_add(r, "p.csv:5", "f", "field 'email': 'w' is not an e-mail address (value dropped, row kept)", true);
    CHECK(import_report_warnings(r) == 1);
    import_report_print(r);
    import_report_destroy(&r);
    fclose(out);
    CHECK(strstr(buf, "socdir import: p.csv: field 'email': 4 rows, e.g. lines 18, 40, 97: not an e-mail address") != NULL);
    CHECK(strstr(buf, "socdir import: p.csv:3: entry 'c': field 'country'") != NULL);
    CHECK(strstr(buf, "p.csv:5: entry 'f': warning: field 'email'") != NULL);
    CHECK(strstr(buf, "p.csv:99") == NULL);
    free(buf);

    /* 2,000 rows, each an apostrophe in its value: one group, whose
     * reason keeps no part of the first value */
    out = open_memstream(&buf, &len);
    r = import_report_new("q.csv", out, false);
    for (int i = 0; i < 2000; i++) {
        char lbl[32], why[128];
        snprintf(lbl, sizeof(lbl), "q.csv:%d", i + 2);
        snprintf(why, sizeof(why), "field 'country': 'X'%c%c' is not an ISO 3166-1 alpha-2 code (e.g. AT)",
                 'a' + i % 26, 'a' + i / 26 % 26);
        import_report_add(r, lbl, NULL, why, false);
    }
    import_report_print(r);
    import_report_destroy(&r);
    fclose(out);
    CHECK(strcmp(buf, "socdir import: q.csv: field 'country': 2000 rows, e.g. lines 2, 3, 4: not an ISO 3166-1 "
                      "alpha-2 code (e.g. AT) (--errors all lists every row)\n") == 0);
    free(buf);
    return selftest_failures;
}

int
text_test(bool verbose)
{
    (void)verbose;
    char *n = text_norm("Čistilni  servis, d.o.o.");
    CHECK(strcmp(n, "cistilni servis d o o") == 0);
    free(n);
    n = text_norm("STRASSE – Ærø");     /* the dash is not a letter */
    CHECK(strcmp(n, "strasse aero") == 0);
    free(n);
    n = text_norm("Κοινωνική Συνεταιριστική");
    CHECK(strcmp(n, "κοινωνικη συνεταιριστικη") == 0);
    free(n);
    char *id = text_make_id("si-", "AT-FN-123456a", false);
    CHECK(strcmp(id, "si-AT-FN-123456a") == 0);
    free(id);
    id = text_make_id("", "Nähstube Krems-Krems an der Donau", true);
    CHECK(strcmp(id, "nahstube-krems-krems-an-der-donau") == 0);
    free(id);
    /* the id folding is the one ids have always had: Latin Extended-A
     * and æ œ þ ĳ come out lower case even when case is kept */
    id = text_make_id("", "Łódź Œuvre Straße", false);
    CHECK(strcmp(id, "lodz-oeuvre-Strasse") == 0);
    free(id);
    /* Ids as the previous releases made them (name-city, lowercased, as
     * import makes them without an id column; and an id column with a
     * prefix): a re-import after an upgrade must find the same ids. */
    static const struct { const char *prefix, *raw; bool lower; const char *id; } stable[] = {
        { "", "Sozialökonomischer Betrieb für Arbeitsintegration und Qualifizierung Niederösterreich-Sankt Pölten",
          true, "sozialokonomischer-betrieb-fur-arbeitsintegration-und-q-03935521" },
        { "", "Κοινωνική Συνεταιριστική Επιχείρηση-Αθήνα", true, "xe0087d7c" },
        { "", "Straße der Arbeit-Wien", true, "strasse-der-arbeit-wien" },
        { "", "Ærø", true, "aero" },
        { "", "Werkstatt 5\xe3\x8c\x96 Lauf-Graz", true, "werkstatt-5-lauf-graz" },
        { "", "\xe3\x8c\x96", true, "x72474504" },
        { "p-", "Ärger Ōsaka Ĳssel Þór", false, "p-Arger-osaka-ijssel-thor" },
        { "", "Tiếng Việt \xef\xac\x81n ①", true, "ti-ng-vi-t-n" },
    };
    for (size_t i = 0; i < sizeof(stable) / sizeof(stable[0]); i++) {
        id = text_make_id(stable[i].prefix, stable[i].raw, stable[i].lower);
        if (strcmp(id, stable[i].id) != 0)
            fprintf(stderr, "id of '%s': %s, was %s\n", stable[i].raw, id, stable[i].id);
        CHECK(strcmp(id, stable[i].id) == 0);
        free(id);
    }
    id = text_make_id("", "София", true);     /* no ASCII: a hash, the same every time */
    char *again = text_make_id("", "София", true);
    CHECK(id[0] == 'x' && strlen(id) == 9 && strcmp(id, again) == 0);
    free(id), free(again);
    /* Characters whose compatibility decomposition is many times their
     * size (U+3316 is 3 bytes and folds to 18, U+FDFB to 33), 3,000 of
     * them: the id is a hash, and nothing is written past a buffer. */
    size_t big = 3000 * 3 + 1;
    char *wide = xmalloc(2 * big + 8), *w = wide;
    w += sprintf(w, "A");
    for (int i = 0; i < 3000; i++)
        w += sprintf(w, i % 2 ? "\xe3\x8c\x96" : "\xef\xb7\xbb");
    sprintf(w, "B");
    id = text_make_id("", wide, true);
    CHECK(strcmp(id, "a-b") == 0);
    free(id);
    id = text_make_id("", wide + 1, true);
    CHECK(id[0] != '\0' && strlen(id) <= ENTRY_ID_MAX);
    free(id), free(wide);
    char *site = text_norm_site("https://www.Example.org/");
    CHECK(strcmp(site, "example.org") == 0);
    free(site);
    return selftest_failures;
}

/* A good record for dedup: id, name, website (or NULL), position. */
static json_t *
s_rec(const char *id, const char *name, const char *site, double lat, double lon)
{
    json_t *e = json_pack("{s:s, s:{s:s}, s:{s:f, s:f}}", "id", id, "name", "de", name, "geo", "lat", lat, "lon", lon);
    if (site != NULL)
        json_object_set_new(e, "website", json_string(site));
    return e;
}

int
dedup_test(bool verbose)
{
    (void)verbose;
    dedup_t *d = dedup_new();
    json_t *recs[] = {
        s_rec("a", "Alpha", "https://one.example/", 46.0, 15.0),
        s_rec("b", "Beta", "www.one.example", 47.0, 15.0),
        s_rec("c", "Gamma", "http://one.example", 48.0, 15.0),
        s_rec("d", "Delta Werk", NULL, 46.5000, 15.6000),
        s_rec("e", "DELTA  werk", NULL, 46.5005, 15.6000),      /* 56 m from d */
        s_rec("f", "delta werk", NULL, 46.5010, 15.6000),       /* 56 m from e, 111 m from d */
        s_rec("g", "Lonely", "two.example", 40.0, 10.0),
    };
    char label[32];
    for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
        snprintf(label, sizeof(label), "f.csv:%zu", i + 2);
        dedup_add(d, recs[i], label);
        json_decref(recs[i]);
    }
    CHECK(dedup_find(d, "c") != NULL && strcmp(dedup_find(d, "c"), "f.csv:4") == 0);
    CHECK(dedup_find(d, "zz") == NULL);
    json_t *doc = dedup_groups(d, "f.csv");
    json_t *groups = json_object_get(doc, "groups");
    CHECK(json_array_size(groups) == 2);
    CHECK(json_integer_value(json_object_get(json_object_get(doc, "summary"), "rows")) == 6);
    json_t *g0 = json_array_get(groups, 0), *g1 = json_array_get(groups, 1);
    CHECK(json_array_size(json_object_get(g0, "rows")) == 3);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(g0, "reasons"), 0)), "same website one.example") == 0);
    CHECK(json_integer_value(json_object_get(json_array_get(json_object_get(g0, "rows"), 2), "line")) == 4);
    /* d-e and e-f are near: one group of three, though d-f are 111 m apart */
    CHECK(json_array_size(json_object_get(g1, "rows")) == 3);
    CHECK(strncmp(json_string_value(json_array_get(json_object_get(g1, "reasons"), 0)), "same name within 5", 18) == 0);
    json_decref(doc);
    dedup_destroy(&d);
    CHECK(d == NULL);

    /* names as a node may hold them (stored under older rules): printed
     * escaped */
    d = dedup_new();
    json_t *h1 = s_rec("h1", "\x1b[31mCaritas", "x.example", 48.0, 16.0),
           *h2 = s_rec("h2", "\xe2\x80\xae" "Caritas", "x.example", 48.0, 16.0);
    dedup_add(d, h1, "h.csv:2");
    dedup_add(d, h2, "h.csv:3");
    json_decref(h1), json_decref(h2);
    json_t *hdoc = dedup_groups(d, "h.csv");
    char *hbuf = NULL;
    size_t hlen = 0;
    FILE *hout = open_memstream(&hbuf, &hlen);
    dedup_print(hdoc, hout);
    fclose(hout);
    CHECK(strchr(hbuf, 0x1b) == NULL && strstr(hbuf, "\xe2\x80\xae") == NULL);
    CHECK(strstr(hbuf, "\\x1b[31mCaritas") != NULL && strstr(hbuf, "\\u202eCaritas") != NULL);
    free(hbuf);
    json_decref(hdoc);
    dedup_destroy(&d);

    /* One name in one city, 5,000 times (a chain of shops), and the same
     * name with positions: the records of the city join one group, a
     * record with a position there joins it too (the others have none),
     * and positions elsewhere group by distance alone. */
    d = dedup_new();
    for (int i = 0; i < 5000; i++) {
        char id[32];
        snprintf(id, sizeof(id), "s-%d", i);
        json_t *e = json_pack("{s:s, s:{s:s}, s:{s:s}}", "id", id, "name", "de", "Sozialmarkt", "address", "city", "Wien");
        if (i == 4999)
            json_object_set_new(e, "geo", json_pack("{s:f, s:f}", "lat", 48.2, "lon", 16.37));
        snprintf(label, sizeof(label), "m.csv:%d", i + 2);
        dedup_add(d, e, label);
        json_decref(e);
    }
    for (int i = 0; i < 3000; i++) {     /* Graz: 3,000 at two points 50 m apart, one far off */
        char id[32];
        snprintf(id, sizeof(id), "g-%d", i);
        json_t *e = s_rec(id, "Sozialmarkt", NULL, i == 2999 ? 47.2 : 47.07 + (i % 2) * 0.00045, 15.44);
        snprintf(label, sizeof(label), "m.csv:%d", 5002 + i);
        dedup_add(d, e, label);
        json_decref(e);
    }
    doc = dedup_groups(d, "m.csv");
    groups = json_object_get(doc, "groups");
    CHECK(json_array_size(groups) == 2);
    g0 = json_array_get(groups, 0), g1 = json_array_get(groups, 1);
    CHECK(json_array_size(json_object_get(g0, "rows")) == 5000);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(g0, "reasons"), 0)), "same name and city") == 0);
    CHECK(json_array_size(json_object_get(g0, "reasons")) == 1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(g0, "rows"), 4999), "id")), "s-4999") == 0);
    CHECK(json_array_size(json_object_get(g1, "rows")) == 2999);
    CHECK(strncmp(json_string_value(json_array_get(json_object_get(g1, "reasons"), 0)), "same name within 5", 18) == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(g1, "rows"), 0), "id")), "g-0") == 0);
    json_decref(doc);
    dedup_destroy(&d);
    return selftest_failures;
}
