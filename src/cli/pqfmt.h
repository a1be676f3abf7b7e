/* pqfmt — text forms of Parquet values shared by `sluice cat` and
 * `sluice schema` (prefix cli_pf_).
 *
 * JSON: BOOL true/false; integers in full (UINT64 unsigned); FLOAT/DOUBLE/
 * DECIMAL shortest round-trip numbers, except NaN/Infinity/-Infinity which are
 * JSON strings; STRING a JSON string; BYTES a base64 (RFC 4648, padded) JSON
 * string; TIMESTAMP "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"; DATE "YYYY-MM-DD"; null.
 * Strings: `"` `\` and control characters are escaped (\n \t \r \b \f, other
 * controls \u00XX); valid UTF-8 passes through; each byte of an invalid UTF-8
 * sequence is written as \u00XX (i.e. read as Latin-1), so output is always
 * valid JSON and ASCII-safe bytes are never lost.
 * CSV: the same texts unquoted (strings raw, bytes base64, NaN/Infinity bare),
 * null as an empty field, RFC 4180 quoting when a field holds , " CR or LF. */
#ifndef SLUICE_CLI_PQFMT_H
#define SLUICE_CLI_PQFMT_H

#include "parquet/parquet.h"
#include "util/util.h"

/* Append s[0..n) as a quoted JSON string. */
void cli_pf_json_str(ut_buf *b, const uint8_t *s, size_t n);
/* Append s[0..n) as one CSV field (quoted when needed). */
void cli_pf_csv_str(ut_buf *b, const uint8_t *s, size_t n);
/* Append base64 of s[0..n) (no quotes). */
void cli_pf_base64(ut_buf *b, const uint8_t *s, size_t n);
/* Append value i of column c (type t) as JSON / as a CSV field. */
void cli_pf_json_value(ut_buf *b, pq_type t, const pq_col *c, int64_t i);
void cli_pf_csv_value(ut_buf *b, pq_type t, const pq_col *c, int64_t i);
/* Append a statistics value as JSON. */
void cli_pf_json_stat(ut_buf *b, pq_type t, const pq_value *v);
/* Append a statistics value as text: as JSON, but timestamps, dates and
 * NaN/Infinity unquoted (strings stay quoted and escaped). */
void cli_pf_text_stat(ut_buf *b, pq_type t, const pq_value *v);

#endif
