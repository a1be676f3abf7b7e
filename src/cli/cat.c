/* sluice cat — print the rows of a Parquet file as NDJSON or CSV.
 *
 * Streams one row group at a time: the selected columns of a row group are
 * decoded (pq_reader_read), its rows are formatted into a buffer that is
 * written with fwrite in large chunks.  Value texts: see cli/pqfmt.h. */
#include "cli/cli.h"
#include "cli/pqfmt.h"
#include "parquet/parquet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT (1u << 20)

typedef struct cat_col {
    int idx;
    pq_type type;
    ut_buf key; /* NDJSON: `{"name":` or `,"name":` */
} cat_col;

static int flush(ut_buf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len) return -1;
    b->len = 0;
    return 0;
}

/* Resolve --columns (or all supported columns) into cols; returns the count,
 * or -1 after printing an error (exit code in *rc). */
static int select_columns(pq_reader *r, const char *list, cat_col **out, int *rc)
{
    int n = pq_reader_num_columns(r), k = 0;
    cat_col *cols = ut_calloc((size_t)(n ? n : 1) * 4 + 4, sizeof *cols);
    int cap = n * 4 + 4;
    pq_column_info ci;
    if (list) {
        const char *p = list;
        while (1) {
            const char *e = strchr(p, ',');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char *name = ut_strndup(p, len);
            int idx = pq_reader_find_column(r, name);
            if (idx < 0) {
                cli_errorf("cat", "unknown column '%s'", name);
            } else {
                pq_reader_column(r, idx, &ci);
                if (ci.type == PQ_UNSUPPORTED)
                    cli_errorf("cat", "column '%s' is %s", name, ci.logical);
            }
            if (idx < 0 || ci.type == PQ_UNSUPPORTED || k >= cap) {
                if (k >= cap) cli_errorf("cat", "too many columns in --columns");
                free(name);
                free(cols);
                *rc = 2;
                return -1;
            }
            free(name);
            cols[k].idx = idx;
            cols[k++].type = ci.type;
            if (!e) break;
            p = e + 1;
        }
    } else {
        ut_buf skipped = {0};
        for (int i = 0; i < n; i++) {
            pq_reader_column(r, i, &ci);
            if (ci.type == PQ_UNSUPPORTED) {
                ut_buf_printf(&skipped, "%s%s", skipped.len ? ", " : "", ci.name);
                continue;
            }
            cols[k].idx = i;
            cols[k++].type = ci.type;
        }
        if (skipped.len)
            fprintf(stderr, "sluice cat: skipping nested columns (not supported yet): %.*s\n",
                    (int)skipped.len, (const char *)skipped.p);
        ut_buf_free(&skipped);
    }
    for (int i = 0; i < k; i++) {
        pq_reader_column(r, cols[i].idx, &ci);
        ut_buf_putc(&cols[i].key, i ? ',' : '{');
        cli_pf_json_str(&cols[i].key, (const uint8_t *)ci.name, strlen(ci.name));
        ut_buf_putc(&cols[i].key, ':');
    }
    *out = cols;
    return k;
}

static void csv_header(pq_reader *r, const cat_col *cols, int k, ut_buf *b)
{
    pq_column_info ci;
    for (int i = 0; i < k; i++) {
        pq_reader_column(r, cols[i].idx, &ci);
        if (i) ut_buf_putc(b, ',');
        cli_pf_csv_str(b, (const uint8_t *)ci.name, strlen(ci.name));
    }
    ut_buf_putc(b, '\n');
}

int cli_cat(int argc, char **argv)
{
    static const char *format = "ndjson", *columns = NULL;
    static long limit = -1;
    static const cli_flag flags[] = {
        {"format", 'f', CLI_STR, &format, "ndjson|csv", "output format"},
        {"columns", 'c', CLI_STR, &columns, "a,b,c", "only these columns, in this order"},
        {"limit", 'n', CLI_INT, &limit, "N", "stop after N rows"},
        {0}};
    static const cli_cmd cmd = {"cat", "FILE.parquet", "print the rows of a Parquet file", flags,
                                1, 1, NULL};
    char *pos[1], err[512];
    int npos, rc = 1, k = 0;
    cat_col *cols = NULL;
    pq_col *vals = NULL;
    ut_buf out = {0};
    int prc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (prc >= 0) return prc;
    int csv = !strcmp(format, "csv");
    if (!csv && strcmp(format, "ndjson")) {
        cli_errorf("cat", "--format must be ndjson or csv, got '%s'", format);
        return 2;
    }
    pq_reader *r = pq_reader_open(pos[0], err, sizeof err);
    if (!r) {
        cli_errorf("cat", "%s", err);
        return 1;
    }
    k = select_columns(r, columns, &cols, &rc);
    if (k < 0) goto fail;
    rc = 1;
    vals = ut_calloc((size_t)(k ? k : 1), sizeof *vals);
    if (csv) csv_header(r, cols, k, &out);
    int64_t left = limit < 0 ? INT64_MAX : limit;
    for (int g = 0; g < pq_reader_num_row_groups(r) && left > 0; g++) {
        int64_t n = pq_reader_row_group_rows(r, g);
        for (int i = 0; i < k; i++) {
            if (pq_reader_read(r, g, cols[i].idx, &vals[i], err, sizeof err)) {
                cli_errorf("cat", "%s", err);
                goto fail;
            }
        }
        if (n > left) n = left;
        for (int64_t row = 0; row < n; row++) {
            for (int i = 0; i < k; i++) {
                if (csv) {
                    if (i) ut_buf_putc(&out, ',');
                    cli_pf_csv_value(&out, cols[i].type, &vals[i], row);
                } else {
                    ut_buf_put(&out, cols[i].key.p, cols[i].key.len);
                    cli_pf_json_value(&out, cols[i].type, &vals[i], row);
                }
            }
            if (!csv) ut_buf_putc(&out, k ? '}' : '{');
            if (!csv && !k) ut_buf_putc(&out, '}');
            ut_buf_putc(&out, '\n');
            if (out.len >= FLUSH_AT && flush(&out)) {
                cli_errorf("cat", "write error on standard output");
                goto fail;
            }
        }
        left -= n;
        for (int i = 0; i < k; i++) pq_col_free(&vals[i]);
    }
    if (flush(&out) || fflush(stdout)) {
        cli_errorf("cat", "write error on standard output");
        goto fail;
    }
    rc = 0;
fail:
    for (int i = 0; vals && i < k; i++) pq_col_free(&vals[i]);
    for (int i = 0; cols && i < k; i++) ut_buf_free(&cols[i].key);
    free(vals);
    free(cols);
    ut_buf_free(&out);
    pq_reader_destroy(r);
    return rc;
}
