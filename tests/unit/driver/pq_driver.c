/* pq_driver: writes a Parquet file with pq_writer from a text description,
 * for tests/integration/parquet_decimal.mjs (types `sluice convert` cannot
 * produce: DECIMAL, TIME, TIMESTAMP_NTZ, BYTES).
 *
 *   build/san/pq_driver OUT.parquet [row_group_rows] < ROWS.tsv
 *
 * Line 1: the columns, tab-separated: name:type[!] with type one of
 * decimal(P,S) | time | timestamp_ntz | timestamp | bytes | int64 | string;
 * "!" = REQUIRED.  Every further line is one row of tab-separated values:
 * \N = null; decimal: the text given to pq_writer_put_decimal, or u<int>
 * for pq_writer_put_decimal_unscaled; time / timestamp*: int64 µs; bytes:
 * hex digits.  A refused value prints "row N: <message>" on stderr and the
 * row is cancelled (exit 2 at the end); other failures exit 1. */
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_LINE (1 << 20)

static int parse_col(char *s, pq_column_spec *c)
{
    memset(c, 0, sizeof *c);
    char *colon = strrchr(s, ':');
    if (!colon) return -1;
    *colon = 0;
    char *t = colon + 1;
    size_t tn = strlen(t);
    c->name = s;
    c->optional = !(tn && t[tn - 1] == '!');
    if (!c->optional) t[--tn] = 0;
    if (sscanf(t, "decimal(%d,%d)", &c->precision, &c->scale) == 2) c->type = PQ_DECIMAL;
    else if (!strcmp(t, "time")) c->type = PQ_TIME;
    else if (!strcmp(t, "timestamp_ntz")) c->type = PQ_TIMESTAMP_NTZ;
    else if (!strcmp(t, "timestamp")) c->type = PQ_TIMESTAMP;
    else if (!strcmp(t, "bytes")) c->type = PQ_BYTES;
    else if (!strcmp(t, "int64")) c->type = PQ_INT64;
    else if (!strcmp(t, "string")) c->type = PQ_STRING;
    else return -1;
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int put(pq_writer *w, int col, pq_type t, const char *v, uint8_t *tmp)
{
    if (!strcmp(v, "\\N")) return pq_writer_put_null(w, col);
    switch (t) {
    case PQ_DECIMAL:
        if (v[0] == 'u') return pq_writer_put_decimal_unscaled(w, col, strtoll(v + 1, NULL, 10));
        return pq_writer_put_decimal(w, col, v, strlen(v));
    case PQ_BYTES: {
        size_t n = strlen(v) / 2;
        for (size_t i = 0; i < n; i++) {
            int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
            if (hi < 0 || lo < 0) return pq_writer_put_bytes(w, col, v, strlen(v)); /* as is */
            tmp[i] = (uint8_t)(hi << 4 | lo);
        }
        return pq_writer_put_bytes(w, col, tmp, n);
    }
    case PQ_STRING: return pq_writer_put_bytes(w, col, v, strlen(v));
    default: return pq_writer_put_i64(w, col, strtoll(v, NULL, 10));
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pq_driver OUT.parquet [row_group_rows] < rows.tsv\n");
        return 1;
    }
    static char line[MAX_LINE], head[MAX_LINE];
    static uint8_t tmp[MAX_LINE];
    pq_column_spec cols[MAX_COLS];
    int ncols = 0, refused = 0;
    if (!fgets(head, sizeof head, stdin)) return fprintf(stderr, "no header line\n"), 1;
    head[strcspn(head, "\n")] = 0;
    for (char *save, *s = strtok_r(head, "\t", &save); s; s = strtok_r(NULL, "\t", &save)) {
        if (ncols == MAX_COLS || parse_col(s, &cols[ncols]))
            return fprintf(stderr, "bad column '%s'\n", s), 1;
        ncols++;
    }
    pq_writer_opts o;
    pq_writer_opts_init(&o);
    if (argc > 2) o.row_group_rows = atoll(argv[2]);
    char err[512];
    pq_writer *w = pq_writer_create(argv[1], cols, ncols, &o, err, sizeof err);
    if (!w) return fprintf(stderr, "%s\n", err), 1;
    for (long row = 1; fgets(line, sizeof line, stdin); row++) {
        line[strcspn(line, "\n")] = 0;
        char *p = line;
        int bad = 0;
        for (int c = 0; c < ncols && !bad; c++) {
            char *tab = strchr(p, '\t');
            if (tab) *tab = 0;
            if (put(w, c, cols[c].type, p, tmp)) bad = 1;
            p = tab ? tab + 1 : p + strlen(p);
        }
        if (!bad && pq_writer_end_row(w)) bad = 1;
        if (bad) {
            fprintf(stderr, "row %ld: %s\n", row, pq_writer_error(w));
            pq_writer_cancel_row(w);
            refused++;
        }
    }
    int rc = pq_writer_close(w, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    pq_writer_destroy(w);
    return rc ? 1 : refused ? 2 : 0;
}
