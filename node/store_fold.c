/*
 * store_fold.c: the full-text index's tokenizer, "socdir". SQLite's
 * unicode61 splits text into words (letters, digits, private-use and
 * combining marks are word characters, so decomposed input stays one
 * word) and lowercases them; each word that is not plain ASCII is then
 * folded with proto/fold.c, which strips diacritics in every script and
 * spells æ, ø, ß... the way people type them. Queries are tokenized by
 * the same code, so "Straße", "strasse" and "STRASSE" are one word, and
 * so are "κοινωνική" and "κοινωνικη".
 *
 * The words keep their offsets in the original text, so highlight() and
 * snippet() still point at what the entry says.
 */
#include "storeInt.h"
#include "fold.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The longest word folded; a longer one is indexed as unicode61 gives it,
 * on both sides, so it still matches itself. */
#define FOLD_WORD_MAX 256

struct tok {
    fts5_tokenizer inner;   /* unicode61's methods */
    Fts5Tokenizer *state;   /* its instance */
};

struct tok_call {
    void *ctx;
    int (*emit)(void *, int, const char *, int, int, int);
};

static const char *const s_inner_args[] = { "remove_diacritics", "0", "categories", "L* N* Co M*" };

static int
s_create(void *api_p, const char **argv, int argc, Fts5Tokenizer **out)
{
    fts5_api *api = api_p;
    void *inner_ctx = NULL;
    struct tok *t = xcalloc(1, sizeof(*t));
    (void)argv;
    if (argc != 0) {
        free(t);
        return SQLITE_ERROR;    /* no options: every node must fold alike */
    }
    int rc = api->xFindTokenizer(api, "unicode61", &inner_ctx, &t->inner);
    if (rc == SQLITE_OK)
        rc = t->inner.xCreate(inner_ctx, (const char **)s_inner_args,
                              (int)(sizeof(s_inner_args) / sizeof(s_inner_args[0])), &t->state);
    if (rc != SQLITE_OK) {
        free(t);
        return rc;
    }
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void
s_delete(Fts5Tokenizer *p)
{
    struct tok *t = (struct tok *)p;
    t->inner.xDelete(t->state);
    free(t);
}

/* One word from unicode61: passed on as it is when ASCII, else folded;
 * a word that folds to nothing (a lone mark) is dropped. */
static int
s_word(void *arg, int flags, const char *word, int n, int start, int end)
{
    struct tok_call *c = arg;
    char folded[4 * FOLD_WORD_MAX + 1];
    bool ascii = true;
    for (int i = 0; i < n && ascii; i++)
        ascii = (unsigned char)word[i] < 0x80;
    if (ascii || n > FOLD_WORD_MAX)
        return c->emit(c->ctx, flags, word, n, start, end);
    size_t len = fold_into(word, (size_t)n, folded, sizeof(folded));
    if (len == FOLD_FAIL)
        return c->emit(c->ctx, flags, word, n, start, end);
    return len == 0 ? SQLITE_OK : c->emit(c->ctx, flags, folded, (int)len, start, end);
}

static int
s_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int n,
           int (*emit)(void *, int, const char *, int, int, int))
{
    struct tok *t = (struct tok *)p;
    struct tok_call c = { ctx, emit };
    return t->inner.xTokenize(t->state, &c, flags, text, n, s_word);
}

/* sd_fold(text): the text folded (fold_new), the key names sort by, so
 * that Ærø sorts with the a's and Őrség with the o's; NULL stays NULL. */
static void
s_sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    if (s == NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    char *f = fold_new(s, (size_t)sqlite3_value_bytes(argv[0]));
    if (f == NULL)
        sqlite3_result_value(ctx, argv[0]);     /* not UTF-8: itself */
    else
        sqlite3_result_text(ctx, f, -1, free);
}

int
store_fold_register(sqlite3 *db, fts5_api *api)
{
    fts5_tokenizer tok = { s_create, s_delete, s_tokenize };
    if (sqlite3_create_function(db, "sd_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                NULL, s_sql_fold, NULL, NULL) != SQLITE_OK)
        return -1;
    return api->xCreateTokenizer(api, "socdir", api, &tok, NULL) == SQLITE_OK ? 0 : -1;
}
