/* The lake sink's state, shared by sink.c, flush.c and gc.c. */
#ifndef SLUICE_LAKE_SINK_INT_H
#define SLUICE_LAKE_SINK_INT_H

#include "lake/lk_int.h"

/* One open partition: its rows go straight into a Parquet writer (one parse
 * per record).  The error records use the raw fields instead. */
typedef struct lk__buf {
    int64_t key;          /* partition key */
    pq_writer *w;         /* partitions: the file being written */
    char *tmp;            /* its temp path */
    int *wcol;            /* schema column -> writer column, -1 = not in the file */
    int wn;               /* schema columns when the writer was opened */
    lk_tstext **tst;      /* schema column -> the texts' layouts of a TIMESTAMP
                             column (footer key, tstext.c), else NULL */
    int64_t min_off, max_off;
    /* error records: raw */
    ut_buf data;          /* record bytes, concatenated */
    uint32_t *len;        /* per record */
    int64_t *ts;          /* ingest time, µs */
    uint64_t *off;        /* stream offset */
    uint32_t *why;        /* errors only: offset of the reason in `reasons` */
    ut_buf reasons;
    size_t n, cap;
} lk__buf;

struct lk_sink {
    lk_sink_opts o;
    char *own_stream_name, *own_table, *own_catalog, *own_tmp, *own_etf;
    ct_catalog *cat;
    ct_table table, etable;     /* the landing table and <table>_errors */
    lk__schema schema;
    js_parser *js;
    jr_reader *reader;
    jr_record *recs;
    uint64_t position;          /* committed */
    uint64_t position_hint;     /* unused marker for retention gaps */
    uint64_t read_offset;       /* next to read */
    lk__buf *parts;
    int nparts, cap_parts, last_part;
    struct lk__fv {             /* fields of the record being shredded */
        int ci;
        int is_ts;
        js_field f;
    } *fv;
    int cap_fv;
    uint64_t *seen;             /* per column: the record (shred_seq) that set it */
    int *seen_field;            /* ... and the field that did */
    int cap_seen;
    uint64_t shred_seq;
    int rereads;                /* buffers read again since the last flush */
    lk__buf errors;
    uint64_t buffered_records, buffered_bytes;
    int64_t oldest_buffered_ms; /* wall time the oldest buffered record was read */
    int64_t oldest_ingest_us;   /* ingest time of the oldest buffered record */
    uint64_t flush_seq;
    int64_t last_maint_ms;      /* wall time of the last maintenance pass */
    int hints[64];              /* column matched by field position k last time */
    pthread_t thread;
    int running, stop;
    pthread_mutex_t wake_mu;    /* with `wake`: a retry's wait ends at a stop */
    pthread_cond_t wake;
    uint64_t rng;               /* retry jitter (xorshift) */
    pthread_mutex_t mu;         /* guards stats; never held across I/O or a wait */
    lk_sink_stats stats;
};

void lk__buf_free(lk__buf *b);
/* Drop every open partition (writers, temp files) and the error records. */
void lk__parts_discard(lk_sink *s);
/* Open the Parquet writer of partition b with the current schema.  0 or -1. */
int lk__part_open(lk_sink *s, lk__buf *b, char *err, size_t errlen);
/* Put JSON value v into writer column col of type t (a TIMESTAMP's text
 * layout noted in tst). */
void lk__put_value(pq_writer *w, int col, ct_type t, const js_value *v, lk_tstext *tst);
/* Is there room in b's timestamp texts for the record's fields fv[0..nf)?
 * (Otherwise the buffers are landed first, so no text is dropped.) */
int lk__ts_room(const lk__buf *b, const struct lk__fv *fv, int nf);
/* Set the footer keys of b's timestamp columns on its writer. */
void lk__ts_set(lk_sink *s, lk__buf *b);
/* Record a changed schema in the catalog now.  0 or -1. */
int lk__schema_commit(lk_sink *s, char *err, size_t errlen);
/* Times the buffers may be read again (after a widening) between flushes. */
#define LK__MAX_REREADS 8
/* Drop every buffer and go back to the committed position (the journal
 * still has every record). */
void lk__rewind(lk_sink *s);
/* Write every buffer as Parquet, store the files, commit files + position. */
int lk__flush(lk_sink *s, char *err, size_t errlen);
/* Retention, compaction and trash (compact.c).  0 or -1. */
int lk__maintain(lk_sink *s, char *err, size_t errlen);
int lk__empty_trash(lk_sink *s, char *err, size_t errlen);
/* Delete stored files of the sink's tables that the catalog does not list. */
int lk__gc(lk_sink *s, char *err, size_t errlen);

#endif
