/*
 * import_report.h: import's rejected rows and warnings, grouped
 * (import_report.c).
 */
#ifndef SOCDIR_IMPORT_REPORT_H
#define SOCDIR_IMPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct import_report import_report_t;

/* A new report of input file (lent: it must outlive the report), written
 * to out. With all, each row is printed when added; else rows are grouped
 * by field and reason and printed by import_report_print. */
import_report_t *import_report_new(const char *file, FILE *out, bool all);

/* A row read at label (FILE:LINE, FILE: feature N ...) was rejected, or
 * with warning a value of it was dropped and the row kept; id is NULL
 * when it has none, why the reason ("field 'email': 'x' is not ..."). */
void import_report_add(import_report_t *r, const char *label, const char *id, const char *why,
                       bool warning);

/* Prints what is not printed yet: a group of at most REPORT_SHOWN rows
 * row by row, a larger one as one line ("field 'email': 64 rows, e.g.
 * lines 18, 40, 97: not an e-mail address"). */
void import_report_print(import_report_t *r);

/* Warnings added so far. */
size_t import_report_warnings(const import_report_t *r);

/* The key rows are grouped by: why with its field kept and every quoted
 * value and number taken out. A new string; for tests. */
char *import_report_key(const char *why);

void import_report_destroy(import_report_t **self_p);

#endif
