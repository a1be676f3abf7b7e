/* Result output for sq_query (used by `sluice sql`, reusable by the query
 * API): an sq_sink that writes rows as they come. */
#ifndef SLUICE_SQL_OUTPUT_H
#define SLUICE_SQL_OUTPUT_H

#include "sql/sql.h"

#include <stdio.h>

typedef enum sq_format {
    SQ_FMT_TABLE, /* aligned columns; widths from the first 1000 rows */
    SQ_FMT_CSV,   /* RFC 4180, header line, CRLF */
    SQ_FMT_TSV,   /* header line, \t \n \\ escaped */
    SQ_FMT_NDJSON,
    SQ_FMT_JSON,  /* one array */
    SQ_FMT_PARQUET
} sq_format;

typedef struct sq_out sq_out;

/* "table" | "csv" | "tsv" | "ndjson" | "json" | "parquet": 0 or -1. */
int sq_format_parse(const char *s, sq_format *out);
/* An output to f (text formats) or to parquet_path (SQ_FMT_PARQUET: written
 * to "<path>.tmp", renamed by sq_out_finish).  SQ_FMT_PARQUET without a
 * path streams the file to f (row groups of at most 65,536 rows or 16 MiB,
 * so memory stays bounded; complete after sq_out_finish).  Never NULL. */
sq_out *sq_out_create(FILE *f, sq_format fmt, const char *parquet_path);
/* Fill *s so sq_query writes to o. */
void sq_out_sink(sq_out *o, sq_sink *s);
/* Flush what is buffered, close the Parquet file.  0 or -1 (sq_out_error). */
int sq_out_finish(sq_out *o);
/* The message of a failure (row callback or finish). */
const char *sq_out_error(const sq_out *o);
/* Free (removes an unfinished Parquet temp file).  Accepts NULL. */
void sq_out_destroy(sq_out *o);

#endif
