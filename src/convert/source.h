/* convert: record sources (internal). */
#ifndef SLUICE_CV_SOURCE_H
#define SLUICE_CV_SOURCE_H

#include "convert/cv_int.h"
#include "csv/csv.h"
#include "io/io.h"

#define CV_MAX_WINDOW ((size_t)1 << 30) /* also the JSON-array input cap */

enum { CV_REC_EOF = 0, CV_REC_OK = 1, CV_REC_BAD = 2, CV_REC_ERR = -1 };

typedef struct cv__src {
    cv_format fmt;
    io_reader *in;
    size_t max_record;
    /* NDJSON / JSON array */
    int array_mode;
    js_parser *ap; /* array splitter */
    const char *arr;
    size_t arr_off;
    /* CSV / TSV */
    csv_reader *csv;
    int nhead;
    const char **head;
    size_t *headlen;
    ut_buf headbuf;
    /* current record (NDJSON): text and 1-based line */
    const char *rec;
    size_t len;
    int64_t line;
} cv__src;

/* Open path with format fmt (CV_AUTO: sniff), reading a CSV header. */
int cv__src_open(cv__src *s, const char *path, cv_format fmt, int rewindable, size_t max_record,
                 char *err, size_t errlen);
int cv__src_start(cv__src *s, char *err, size_t errlen);
int cv__src_rewind(cv__src *s, char *err, size_t errlen);
/* Next record: CV_REC_OK (s->rec/len/line or the csv reader's fields),
 * CV_REC_EOF, CV_REC_BAD (err says why; s->line says where), CV_REC_ERR. */
int cv__src_next(cv__src *s, char *err, size_t errlen);
void cv__src_close(cv__src *s);

#endif
