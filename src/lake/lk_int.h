/* Lake sink internals (lk__ prefix). */
#ifndef SLUICE_LAKE_INT_H
#define SLUICE_LAKE_INT_H

#include "catalog/catalog.h"
#include "json/json.h"
#include "lake/lake.h"
#include "log/log.h"
#include "util/util.h"

#include <assert.h>
#include <pthread.h>

/* Wall-clock milliseconds (sink.c). */
int64_t lk__now_ms(void);

/* ---- schema (schema.c) -------------------------------------------------------
 * Column types widen along:   null → bool | int64 | timestamp | double | string
 *   int64 → double → string;  bool, timestamp → string when mixed with others;
 *   objects and arrays are strings holding their JSON text.
 * A column seen only with nulls has type 0 until a value arrives (string if
 * none does by the time a file is written). */
typedef struct lk__col {
    char *name;
    size_t nlen;
    ct_type type;        /* 0 = only nulls so far */
    ct_type recorded;    /* type in the catalog's current version (0 = new) */
    int precision, scale; /* the catalog's, while type is CT_DECIMAL (records never
                             make one: a value in it widens it to string) */
    int legacy;          /* name clashes (catalog from before the naming rule):
                            kept, never written, no key lands in it */
} lk__col;

typedef struct lk__schema {
    lk__col *cols;
    int n, cap;
    lk_names *names;     /* the naming rule's view: reserved names + columns */
    int case_insensitive;
    int max_columns;
    int version;         /* catalog version of the recorded columns */
    int dirty;           /* differs from what the catalog has */
} lk__schema;

void lk__schema_init(lk__schema *s, int case_insensitive, int max_columns);
void lk__schema_free(lk__schema *s);
/* Reserve a name no key may land in (partition columns; _ingest_ts always). */
void lk__schema_reserve(lk__schema *s, const char *name);
/* Load the catalog's columns (as recorded). */
void lk__schema_load(lk__schema *s, const ct_table *t);
/* Column index of key (the naming rule), or -1. */
int lk__schema_find(const lk__schema *s, const char *key, size_t n);
/* Same, trying *hint first (the column this field position matched in the
 * previous record: records usually repeat their key order); updates *hint. */
int lk__schema_find_hint(const lk__schema *s, const char *key, size_t n, int *hint);
/* Widen existing column i for a value of kind k (see lk__schema_observe). */
void lk__schema_note(lk__schema *s, int i, js_kind k, int is_ts);
/* Note a value of JSON kind k (for strings: is_ts says it parses as RFC 3339)
 * for key; adds or widens the column.  Returns the column index, -1 when
 * the table is at its column cap, -2 when the naming rule finds no name (the
 * record goes to the errors table). */
int lk__schema_observe(lk__schema *s, const char *key, size_t n, js_kind k, int is_ts);
/* The schema's size, to undo the columns a rejected record added. */
typedef struct lk__schema_mark {
    int n, names, dirty;
} lk__schema_mark;
lk__schema_mark lk__schema_save(const lk__schema *s);
void lk__schema_rollback(lk__schema *s, lk__schema_mark m);
/* Would a value of kind k (is_ts) change column i's type? */
int lk__schema_widens(const lk__schema *s, int i, js_kind k, int is_ts);
/* The typed columns as the catalog stores them (columns seen only with nulls
 * are left out until a value gives them a type), and a text of
 * what changed since the recorded version ("added x string; widened y int64
 * -> double").  *cols malloc'ed.  Returns the count. */
int lk__schema_snapshot(const lk__schema *s, ct_column **cols, char *change, size_t n);
/* After a successful ct_schema_set. */
void lk__schema_recorded(lk__schema *s, int version);

/* ---- event time and partitions (part.c) ----------------------------------------- */

/* Event time of a value in µs, per format; 0 on success, -1 if unusable. */
int lk__event_time(const js_value *v, lk_time_format f, int64_t *us);
/* Partition key (hour or day index; 0 for none) of a time. */
int64_t lk__part_key(int64_t us, lk_partitioning p);
/* "dt=2024-05-01/hr=03" ("" for none). out: 64 bytes. */
void lk__part_path(int64_t key, lk_partitioning p, char *out, size_t n);
/* The date "YYYY-MM-DD" of a partition key (for retention). */
void lk__part_date(int64_t key, lk_partitioning p, char *out, size_t n);

#endif
