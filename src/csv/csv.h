/* csv — RFC 4180 CSV and tab-separated values over an io_reader.
 *
 * Prefix: csv_.  Records are parsed in place in the reader's window: a field
 * without escapes points straight into it, a quoted field with "" escapes is
 * unescaped into a per-reader scratch buffer.  Supported: quoted fields,
 * "" escapes, newlines inside quotes, CRLF or LF line ends, a UTF-8 BOM at
 * the start, blank lines (skipped).  TSV (opts.quote = 0) follows the IANA
 * text/tab-separated-values definition: no quoting, so fields cannot hold
 * tabs or newlines.  The caller decides what the first record means (a
 * header, normally) and can then fix the field count with csv_set_nfields.
 *
 * Caps: bytes per field, bytes per record, fields per record.  A record that
 * breaks a cap or has the wrong field count is reported (CSV_BAD) and
 * skipped; reading continues with the next record. */
#ifndef SLUICE_CSV_H
#define SLUICE_CSV_H

#include "io/io.h"

#include <stddef.h>
#include <stdint.h>

typedef struct csv_reader csv_reader;

typedef struct csv_opts {
    char delim;        /* ',' (CSV) or '\t' (TSV) */
    char quote;        /* '"', or 0 for no quoting (TSV) */
    size_t max_field;  /* bytes per field; default 16 MiB */
    size_t max_record; /* bytes per record; default 64 MiB */
    int max_fields;    /* fields per record; default 10000 */
} csv_opts;

/* Defaults for delim ',' (quote '"') or '\t' (no quoting). */
void csv_opts_init(csv_opts *o, char delim);

/* A reader over `in` (not owned: close it after csv_destroy).  opts may be
 * NULL for CSV defaults.  The io window cap must exceed max_record. */
csv_reader *csv_create(io_reader *in, const csv_opts *opts);
/* Free.  Accepts NULL. */
void csv_destroy(csv_reader *r);

/* Expect exactly n fields per record from now on (0 = any). */
void csv_set_nfields(csv_reader *r, int n);

enum { CSV_EOF = 0, CSV_OK = 1, CSV_BAD = 2, CSV_ERR = -1 };

/* Read the next record.  CSV_OK: fields available via csv_field until the
 * next call.  CSV_EOF: no more records.  CSV_BAD: the record (starting at
 * csv_line) is malformed, over a cap, or has the wrong field count; err says
 * why; it was skipped and the caller may continue.  CSV_ERR: input error
 * (read / decompression), err names the file; stop. */
int csv_next(csv_reader *r, char *err, size_t errlen);

/* Number of fields of the current record. */
int csv_nfields(const csv_reader *r);
/* Field i (0-based) of the current record: bytes and length; *quoted = 1
 * when the field was quoted (so "" is an empty string, not a missing value).
 * quoted may be NULL. */
const char *csv_field(const csv_reader *r, int i, size_t *n, int *quoted);
/* 1-based line number where the current (or just rejected) record starts. */
int64_t csv_line(const csv_reader *r);

#endif
