/* jobs: kind snapshot's run, shared by kind_snapshot.c (plan, land,
 * alerts), snap_read.c (reading rows into Parquet) and snap_range.c (a
 * split table's ranges as tasks of any worker). */
#ifndef SLUICE_JB_SNAP_H
#define SLUICE_JB_SNAP_H

#include "jobs/jb_rt.h"
#include "lake/lake.h"
#include "mask/mask.h"
#include "snap/snap.h"

#include <stdatomic.h>

#define SNAP_FILE_BYTES (512u << 20) /* a new Parquet file after this much written */
#define SNAP_MAX_FILES 1000          /* per reader */
#define SNAP_ZSTD_LEVEL 1 /* zstd's fastest: level 3 took a third of a run's CPU, for files
                             20% smaller (bench/snapshot.sh) */
#define SNAP_MAX_PARALLEL 64
#define SNAP_ROW_GROUP_BYTES (128u << 20)    /* shared by a process's range readers */
#define SNAP_MIN_ROW_GROUP_BYTES (16u << 20) /* per reader */
#define SNAP_MIN_PAGE_BYTES (128u << 10)     /* per reader and column: pages, dictionaries */

/* One column of the lake table as this run writes it. */
typedef struct jb_snap_col {
    int sel;          /* its field in the scan's rows; -1: the source has it no more (NULL) */
    sn_class cls;     /* how its text converts (SN_STRING once masked) */
    ct_type type;     /* the lake column's type */
    mk_mask *mask;    /* NULL: none (masks are applied from every reader at once) */
} jb_snap_col;

typedef struct jb_snap_file {
    pq_writer *w;
    char tmp[4400];
} jb_snap_file;

struct jb_snap_run;

/* One connection reading (a range of) the table into its own files. */
typedef struct jb_snap_reader {
    struct jb_snap_run *k;
    sn_source *src;   /* the serial reader: the run's own (k->src, k->scan) */
    sn_scan *scan;
    jb_snap_file *files;
    int nfiles, cap;
    int64_t rows;
    int64_t *nulled;  /* per lake column: values with no lake form, stored NULL */
    ut_buf bytes, masked;
    ut_error err;
    int rc;
} jb_snap_reader;

typedef struct jb_snap_run {
    jb_task_ctx *c;
    const cf_snap_table *cfg; /* NULL: every column, as it is */
    char table[LK_TABLE_NAME_MAX + 1]; /* the lake table */
    sn_source *src;
    sn_scan *scan;
    int *sel;         /* source column of each selected field */
    int nsel;
    ct_column *cols;  /* the lake table's columns, as written */
    jb_snap_col *sc;
    int ncols;
    ct_table t;       /* the lake table, when it exists (t.id > 0) */
    jb_snap_reader *readers; /* serial: the one reader */
    int nreaders;
    struct jb_snap_staged *staged; /* split: the ranges' files, staged in the store */
    int nstaged;
    char stage[600];     /* split: the staging prefix of this delivery ("" none) */
    int nranges;
    int share;           /* range readers of this process that may run at once (its worker
                            threads, at most the ranges): they share the writer's buffers */
    struct { char name[96]; int n; } by[SNAP_MAX_PARALLEL]; /* split: who read how many */
    int nby;
    char ranges_by[800]; /* ... for the log: "w1 x3, w2 x5" */
    void (*tick)(jb_snap_reader *r); /* called every 4096 rows read (NULL: none) */
    void *tick_arg;
    atomic_int abort; /* the runtime stops: the reader ends */
    int64_t rows;
    int nfiles;
    int64_t *nulled;  /* per lake column: values stored NULL, every reader's */
    char key[MK_MAX_KEY + 1];
    size_t keylen;
    int incremental;  /* tables.<t>.cursor */
    int bounded;      /* incremental: rows above the last cursor exist; cursor_new is set */
    int unbounded_first; /* a first incremental read whose cursor column is NULL everywhere */
    char cursor_new[CT_CURSOR_MAX];
    ct_part_state state; /* what the last runs of this table kept */
    ut_buf schema;       /* the source's columns now (jb__snap_schema_text) */
    jb_schema_changes changes; /* since the last run */
    char *alerts[JB_MAX_SCHEMA_CHANGES]; /* the _alerts records, one per change */
} jb_snap_run;

/* "job J: table T: <fmt>" into e.  Returns -1. */
__attribute__((format(printf, 4, 5))) int jb__snap_fail(jb_snap_run *k, ut_error *e,
                                                        ut_errkind kind, const char *fmt, ...);
/* Read the rows (the scan begun, columns planned) into Parquet files: one
 * reader, or tables.<t>.parallel ranges of split_by sharing the scan's
 * snapshot (jb__snap_ranges).  Sets k->rows, k->nfiles, k->nulled.  0 / -1
 * with e. */
int jb__snap_read(jb_snap_run *k, ut_error *e);
/* The run's merge view (snap_view.c), its columns as this run's lake
 * columns (the scan open, the lake table's columns planned), into
 * k->c->done->view (malloc'ed; NULL when the table has none) so that the
 * run's commit puts it.  0, or -1 with e (no key, a key column not read or
 * masked to one value). */
int jb__snap_view(jb_snap_run *k, ut_error *e);
/* Free c->done->view and set it NULL. */
void jb__snap_view_free(jb_task_ctx *c);
/* Free the readers (their files unlinked unless landed: tmp[0] == 0). */
void jb__snap_readers_free(jb_snap_run *k);
/* A reader of k over scan (of source src); free with jb__snap_reader_free
 * (own_scan: ends the scan and closes the source too). */
void jb__snap_reader_init(jb_snap_reader *r, jb_snap_run *k, sn_source *src, sn_scan *scan);
void jb__snap_reader_free(jb_snap_reader *r, int own_scan);
/* Stream r's scan into its files.  0 / -1 (r->err). */
int jb__snap_read_rows(jb_snap_reader *r);
/* The key of hash masks (k->key), from the secret mask_key, once.  0 / -1. */
int jb__snap_mask_key(jb_snap_run *k, ut_error *e);

/* ---- a split table's ranges as tasks (snap_range.c) -------------------------------- */
#define SNAP_STAGE_DIR ".stage" /* store prefix of staged files (no table starts with '.') */
#define SNAP_POLL_MS 100        /* the coordinator's look at its ranges (a local store) */
#define SNAP_POLL_S3_MS 1000    /* ... on S3 (each look is a LIST) */
#define SNAP_MAX_STAGED (SNAP_MAX_PARALLEL * SNAP_MAX_FILES)
/* A range's file, stored under the run's staging prefix. */
typedef struct jb_snap_staged {
    char key[600];
    ct_file f;        /* path: its name; rows, bytes, stats */
} jb_snap_staged;
/* The coordinator: the scan's snapshot exported, n ranges of [lo, hi] of
 * split_by as sub-tasks of the run for any worker, the ones nobody took
 * read here, until all are staged: k->staged, k->rows.  0 / -1 with e. */
int jb__snap_ranges(jb_snap_run *k, int n, int64_t lo, int64_t hi, ut_error *e);
/* Free k->staged; delete the run's staging prefix (what did not land). */
void jb__snap_ranges_free(jb_snap_run *k);
/* The plan of a split read (snap_stage.c): what a range reader needs of
 * the coordinator's. */
typedef struct jb_snap_plan {
    char snapshot[128];
    char split[256];
    int64_t lo, hi;
    int n;
    ut_buf where;
    char (*sel)[256]; /* the source columns read, in order */
    int nsel;
} jb_snap_plan;
/* The plan of k's read (snapshot id, n ranges of [lo, hi]) as text into b. */
void jb__snap_plan_text(const jb_snap_run *k, const char *id, int n, int64_t lo, int64_t hi,
                        ut_buf *b);
/* A plan's text (NUL-terminated, cut up) into p and k's columns (k->cols,
 * k->sc with masks made from the job's config, k->ncols); what names it in
 * messages.  0 / -1 with e. */
int jb__snap_plan_parse(jb_snap_run *k, char *text, jb_snap_plan *p, const char *what,
                        ut_error *e);
void jb__snap_plan_free(jb_snap_plan *p);
/* A range manifest's first lines (rows, reader, NULL counts) into b. */
void jb__snap_manifest_head(ut_buf *b, int64_t rows, const char *by, const int64_t *nulled,
                            int ncols);
/* ... and one staged file's lines (key, rows, bytes, statistics). */
void jb__snap_manifest_file(ut_buf *b, const char *key, const ct_file *f);
/* A manifest's text (NUL-terminated, cut up) into k: its files appended to
 * k->staged, rows and NULL counts added, its reader counted.  0 / -1 with e. */
int jb__snap_manifest_parse(jb_snap_run *k, char *text, const char *what, ut_error *e);
/* Parse text[0..n) as a range's manifest (manifest 1: its files into
 * k->staged, rows, NULL counts) or as a plan (0: its columns into k->cols,
 * k->sc, k->ncols; the rest dropped), as the coordinator and the range
 * tasks read them from the store.  0 / -1 with e (tests/fuzz). */
int jb__snap_range_parse(jb_snap_run *k, const char *text, size_t n, int manifest, ut_error *e);

#endif
