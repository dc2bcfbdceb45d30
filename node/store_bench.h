/*
 * store_bench.h: the store's calls that only the benchmark (tests/bench)
 * and the self tests make, kept out of store.h, the interface the node
 * uses. In node/ only the store's own files include it (through
 * storeInt.h), to define these.
 */
#ifndef SOCDIR_STORE_BENCH_H
#define SOCDIR_STORE_BENCH_H

#include "store.h"

/* The raw cost of the schema, for the benchmark's bound (tests/bench):
 * inserts a new entries row for env (origin: a store_origin index) and the
 * index rows ix derived from it, with none of store_put's version checks
 * or counters. The node never calls it. Returns 0 or -1. */
int store_insert_raw(store_t *self, int64_t origin, const uint8_t *buf, size_t len,
                     const envelope_t *env, const entry_index_t *ix);

/* Registers the SQL functions the store's statements use on a SQLite
 * connection (sd_km, and sd_rank for FTS5), so that other programs can
 * run them (tests/bench). Returns 0 or -1. */
struct sqlite3;
int store_sql_functions(struct sqlite3 *db);

/* For tests: the write labelled what (the label store_errmsg names, e.g.
 * "commit", "release savepoint", "watermark", "meta", "entry write") fails
 * once, after skip of them succeeded, as a full disk would make it. */
void store_fault(store_t *self, const char *what, int skip);

/* Room a schema upgrade of a database of dbbytes (file and WAL) needs
 * free on its file system; store_open refuses to upgrade with less. */
uint64_t store_upgrade_need(uint64_t dbbytes);

/* For tests: the free bytes store_open's room check sees (-1: the file
 * system's own figure). */
void store_fake_free(int64_t bytes);

#endif
