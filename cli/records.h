/*
 * records.h: the readers of CSV, JSON, NDJSON and GeoJSON for import, and
 * of JSON or NDJSON entries for publish (records.c).
 */
#ifndef SOCDIR_RECORDS_H
#define SOCDIR_RECORDS_H

#include "publish.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { RECORDS_NONE, RECORDS_CSV, RECORDS_JSON, RECORDS_NDJSON, RECORDS_GEOJSON };

/* Where a reader hands what it reads, and what it needs to know. */
typedef struct {
    const char *file;       /* the input's name, in labels and messages */
    bool mapped;            /* a mapping file is used: a GeoJSON feature's own
                             * "id" does not become the record's "id" */
    double size;            /* bytes in the file, 0 if not a regular file */
    publish_t *pub;         /* counts and reports unreadable records; once it
                             * has stopped, nothing more is read */
    /* A record: row (borrowed), read at label; lat/lon a GeoJSON Point, else NAN. */
    void (*record)(void *arg, const json_t *row, const char *label, double lat, double lon);
    /* CSV: the header (array of column names, borrowed) was read; returns
     * 0 to go on, or -1 to stop after saying why. NULL for other formats. */
    int (*header)(void *arg, const json_t *header);
    /* GeoJSON: the property names of the first feature (array, borrowed),
     * before any feature is read; returns 0 to go on, or -1 to stop after
     * saying why. NULL: not asked. */
    int (*properties)(void *arg, const json_t *names);
    /* done is the fraction read (0..1), rows the records so far; or NULL. */
    void (*progress)(void *arg, double done, size_t rows);
    void *arg;              /* for the four above */
} records_sink_t;

/* Each reads the len bytes of UTF-8 at buf (input.c made them so) to
 * their end, or until to->pub stopped, and returns 0, or -1 when the input
 * could not be read in that format at all (said why). A JSON object with
 * a key twice is an error that names the key, line and column. */

/* CSV with separator sep, or with sep 0 the one of ';' ',' TAB that the
 * header line uses most outside quotes. A stray quote costs its own row
 * (reported at the line where it opened), not the rows after it. */
int records_csv(const records_sink_t *to, const char *buf, size_t len, char sep);

/* A JSON document: an array of objects, one object, or a GeoJSON Feature
 * or FeatureCollection. */
int records_json(const records_sink_t *to, const char *buf, size_t len);

/* NDJSON: one object per line, blank lines ignored. */
int records_ndjson(const records_sink_t *to, const char *buf, size_t len);

/* publish's input: one JSON object, an array of objects, or NDJSON (one
 * object per line, blank lines ignored). Input starting with '[' is an
 * array; else if the first non-blank line is a JSON value by itself the
 * input is NDJSON and is streamed; else it is read whole as one
 * (pretty-printed) object. When that fails too, NDJSON whose first line
 * is broken is told apart by a later line that parses alone; failing
 * that, the document's error is reported with its line and column. An
 * array's items are labelled "FILE: entry #N", and to->pub is told so
 * (publish_set_numbered). Returns 0. */
int records_entries(const records_sink_t *to, FILE *f);

/* The format named by s (csv, json, ndjson, geojson), or with by_name the
 * one of the file name s by its extension (also tsv, txt, jsonl); RECORDS_NONE
 * when there is none. */
int records_format(const char *s, bool by_name);

#endif
