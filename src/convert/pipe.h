/* convert: the write pipeline (internal).
 *
 *   main thread:  read + split the input into chunks of whole records
 *                 (cv__chunk_fill: one row group's worth each), hand them
 *                 out, and commit finished chunks in input order
 *   N workers:    parse + shred a chunk's records into the chunk's own memory
 *                 writer (pq_writer_create_mem), which encodes and compresses
 *                 its row group
 *   commit:       report the chunk's rejected records, check the speculative
 *                 schema still holds, pq_writer_append the row group to the
 *                 output file
 *
 * A chunk is a row group, and its boundaries depend only on the input and
 * the row-group size, so the file is the same for any number of workers; one
 * worker is the single-threaded convert. */
#ifndef SLUICE_CV_PIPE_H
#define SLUICE_CV_PIPE_H

#include "convert/source.h"

#define CV_CHUNK_BYTES ((size_t)64 << 20) /* record bytes per chunk (soft: + one record) */
#define CV_MAX_THREADS 256

/* One field of a CSV/TSV record in a chunk. */
typedef struct cv__fld {
    size_t off, len;
    int quoted;
} cv__fld;

/* One record of a chunk: NDJSON text (or, bad = 1, why it was rejected by the
 * source) at bytes[off..off+len); CSV: fields f[field..field+nhead). */
typedef struct cv__rec {
    int64_t line;
    size_t off, len, field;
    int bad;
} cv__rec;

typedef struct cv__chunk {
    int64_t first; /* record number (1-based) of r[0] */
    cv__rec *r;
    int n, cap;
    cv__fld *f;
    size_t nf, capf;
    ut_buf bytes;
} cv__chunk;

/* Refill c with the next records of src: at most max_recs records, and
 * stopping after the record that brings the text to max_bytes.  first is the
 * record number of the first one.  Returns 0 (more may follow), 1 (the input
 * ended; c may still hold records), or -1 with a message (read error). */
int cv__chunk_fill(cv__chunk *c, cv__src *src, int64_t first, int max_recs, size_t max_bytes,
                   char *err, size_t errlen);
void cv__chunk_free(cv__chunk *c);

/* What the shredder needs, shared read-only by all workers. */
typedef struct cv__plan {
    const cv_opts *o;
    const cv_schema *s;  /* columns; its kinds are the speculation's start */
    const int *map;      /* CSV: header field -> column, -1 = ignored */
    int nhead;           /* CSV header fields; 0 = NDJSON */
    int tracking;        /* speculative schema: stop at a record that widens it */
    int64_t quiet_until; /* rejects up to this record were already shown */
} cv__plan;

/* A chunk's outcome. */
typedef struct cv__result {
    int64_t rejected;  /* records rejected in the chunk */
    int nshown;        /* of which the first ones (recno > quiet_until, at most
                          max_report) are in shown: int64 recno, int64 line,
                          uint32 len, why bytes */
    ut_buf shown;
    int64_t diverged;  /* record number that widened the schema, 0 = none */
    unsigned *kinds;   /* tracking: kinds seen per column, from the start's */
    int failed;        /* a writer error: err */
    char err[512];
} cv__result;

typedef struct cv__shred cv__shred;
cv__shred *cv__shred_create(const cv__plan *pl);
void cv__shred_destroy(cv__shred *sh);
/* Shred chunk c into w; fills res (res->kinds must have room for ncols). */
void cv__shred_chunk(cv__shred *sh, pq_writer *w, const cv__chunk *c, cv__result *res);

/* The pipeline's callbacks into the driver, in input order, on the main
 * thread. */
typedef struct cv__sink {
    void (*reject)(void *arg, int64_t recno, int64_t line, const char *why);
    void (*progress)(void *arg, int64_t records);
    void *arg;
} cv__sink;

/* Workers for opts.threads n: n itself, or (0) one per online CPU; at most
 * CV_MAX_THREADS. */
int cv__threads(int n);

enum { CV_PIPE_DONE = 0, CV_PIPE_DIVERGED = 1, CV_PIPE_ERR = -1 };

/* Run the write pass over src (positioned at the first record) into out with
 * `threads` workers (>= 1).  Returns CV_PIPE_DONE, CV_PIPE_DIVERGED (the
 * speculative schema does not hold: *diverged = the record; kinds folded
 * into s) or CV_PIPE_ERR with a message.  *rejected counts rejects. */
int cv__pipe_run(cv__src *src, const cv__plan *pl, cv_schema *s, const pq_column_spec *spec,
                 pq_writer *out, int threads, const cv__sink *sk, int64_t *rejected,
                 int64_t *diverged, char *err, size_t errlen);

#endif
