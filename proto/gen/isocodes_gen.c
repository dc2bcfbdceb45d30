/*
 * isocodes_gen.c: build-time generator of the code lists the validator
 * looks codes up in (isocodes.h). It reads Debian's iso-codes JSON for
 * ISO 3166-1 (every "alpha_2") and ISO 639-2 (the entries that carry an
 * "alpha_2", which is ISO 639-1), and writes a C file holding both lists
 * sorted bytewise, for bsearch, with their provenance in a comment.
 *
 * It runs on the build machine only (CMake calls it); nothing in proto
 * reads these files at run time, so a node's verdicts depend on the
 * table it was built with, never on what is installed where it runs.
 *
 * usage: isocodes_gen ISO_3166-1.JSON ISO_639-2.JSON VERSION OUT.c
 * VERSION names the iso-codes release ("4.15.0-1", or "unknown").
 * Exit 0, or 1 with a message on stderr (the build then stops).
 */
#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODES 1024

struct list {
    const char *file;       /* the JSON it came from */
    const char *top;        /* its top-level key: "3166-1", "639-2" */
    char codes[MAX_CODES][3];
    size_t n;
};

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Fills l from its file: every alpha_2 of two ASCII letters, upper-case
 * when upper is set, else lower-case. Returns 0, or -1 after a message. */
static int
s_read(struct list *l, int upper)
{
    json_error_t jerr;
    json_t *doc = json_load_file(l->file, JSON_REJECT_DUPLICATES, &jerr), *items, *item;
    size_t i;
    int rc = -1;

    if (doc == NULL) {
        fprintf(stderr, "isocodes_gen: %s:%d: %s\n", l->file, jerr.line, jerr.text);
        return -1;
    }
    items = json_object_get(doc, l->top);
    if (!json_is_array(items) || json_array_size(items) == 0) {
        fprintf(stderr, "isocodes_gen: %s: no \"%s\" array\n", l->file, l->top);
        goto out;
    }
    json_array_foreach(items, i, item) {
        const char *a2 = json_string_value(json_object_get(item, "alpha_2"));
        if (a2 == NULL)
            continue;       /* ISO 639-2 codes without a 639-1 code */
        if (strlen(a2) != 2 || !(upper ? isupper((unsigned char)a2[0]) && isupper((unsigned char)a2[1])
                                       : islower((unsigned char)a2[0]) && islower((unsigned char)a2[1]))) {
            fprintf(stderr, "isocodes_gen: %s: odd alpha_2 \"%s\"\n", l->file, a2);
            goto out;
        }
        if (l->n == MAX_CODES) {
            fprintf(stderr, "isocodes_gen: %s: more than %d codes\n", l->file, MAX_CODES);
            goto out;
        }
        memcpy(l->codes[l->n++], a2, 3);
    }
    qsort(l->codes, l->n, sizeof(l->codes[0]), s_cmp);
    for (i = 1; i < l->n; i++)
        if (strcmp(l->codes[i - 1], l->codes[i]) == 0) {
            fprintf(stderr, "isocodes_gen: %s: \"%s\" twice\n", l->file, l->codes[i]);
            goto out;
        }
    rc = l->n > 0 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "isocodes_gen: %s: no alpha_2 codes\n", l->file);
out:
    json_decref(doc);
    return rc;
}

static void
s_write(FILE *f, const char *name, const struct list *l)
{
    fprintf(f, "\nconst char %s[][3] = {", name);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s\"%s\",", i % 12 == 0 ? "\n    " : " ", l->codes[i]);
    fprintf(f, "\n};\nconst size_t %s_count = %zu;\n", name, l->n);
}

int
main(int argc, char **argv)
{
    static struct list countries = { .top = "3166-1" }, langs = { .top = "639-2" };

    if (argc != 5) {
        fprintf(stderr, "usage: isocodes_gen ISO_3166-1.JSON ISO_639-2.JSON VERSION OUT.c\n");
        return 1;
    }
    countries.file = argv[1];
    langs.file = argv[2];
    if (s_read(&countries, 1) != 0 || s_read(&langs, 0) != 0)
        return 1;
    FILE *f = fopen(argv[4], "w");
    if (f == NULL) {
        perror(argv[4]);
        return 1;
    }
    fprintf(f, "/*\n * Generated at build time by proto/gen/isocodes_gen.c; do not edit.\n"
               " * Source: Debian iso-codes %s\n"
               " *   %s: %zu ISO 3166-1 alpha-2 codes\n"
               " *   %s: %zu ISO 639-1 codes (alpha_2)\n"
               " * Sorted bytewise for bsearch (isocodes.h).\n */\n"
               "#include \"isocodes.h\"\n\n"
               "const char code_iso_source[] = \"iso-codes %s: %zu countries, %zu languages\";\n",
            argv[3], countries.file, countries.n, langs.file, langs.n, argv[3], countries.n, langs.n);
    s_write(f, "code_iso3166", &countries);
    s_write(f, "code_iso639_1", &langs);
    if (fclose(f) != 0) {
        perror(argv[4]);
        return 1;
    }
    return 0;
}
