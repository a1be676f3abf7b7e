/* jobs: kind snapshot's run, shared by kind_snapshot.c (plan, land,
 * alerts) and snap_read.c (reading rows into Parquet, one or several
 * readers). */
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
#define SNAP_ROW_GROUP_BYTES (128u << 20)    /* shared by the readers of one run */
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
    sn_source *src;   /* reader 0: the run's own (k->src, k->scan) */
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
    jb_snap_reader *readers;
    int nreaders;
    atomic_int abort; /* a reader failed, or the runtime stops: every reader ends */
    int failed;       /* the reader that failed first (-1: none, or a stop) */
    int64_t rows;
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
 * reader, or tables.<t>.parallel readers over ranges of split_by sharing
 * the scan's snapshot.  Sets k->rows.  0 / -1 with e. */
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

#endif
