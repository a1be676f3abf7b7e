/* libFuzzer target for the Parquet reader: open the input with
 * pq_reader_open_mem, then for every row group and column ask for the chunk
 * facts, a row-group-skipping decision, and the decoded values (DECIMAL
 * columns also exactly, pq_reader_read_decimal).  Any input
 * must produce either values or an error message — never a crash, a hang or
 * an unbounded allocation.  The decode caps are lowered so that inputs that
 * legitimately describe huge outputs (a short RLE run of 2^31 nulls) stay
 * within the fuzzer's memory limit. */
#include "parquet/parquet.h"
#include "parquet/read_int.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char err[512];
    pq__read_max_values = 1 << 22;
    pq__read_max_bytes = (uint64_t)256 << 20;
    pq_reader *r = pq_reader_open_mem(d, n, "fuzz.parquet", err, sizeof err);
    if (!r) return 0;
    for (int g = 0; g < pq_reader_num_row_groups(r); g++) {
        for (int c = 0; c < pq_reader_num_columns(r); c++) {
            pq_chunk_info ch;
            pq_column_info ci;
            pq_col col;
            pq_value v = {.kind = PQ_K_I64, .u.i = 7};
            pq_reader_column(r, c, &ci);
            pq_reader_chunk(r, g, c, &ch);
            pq_reader_may_match(r, g, c, "=", &v);
            if (ch.stats.has_min_max) {
                pq_reader_may_match(r, g, c, "<", &ch.stats.min);
                pq_reader_may_match(r, g, c, ">=", &ch.stats.max);
            }
            if (pq_reader_read(r, g, c, &col, err, sizeof err) == 0) {
                /* touch the output so ASan checks its bounds */
                volatile uint64_t sum = 0;
                if (col.kind == PQ_K_BYTES && col.off[col.n] > 0) sum += col.data[col.off[col.n] - 1];
                if (col.nulls && col.n > 0) sum += col.nulls[col.n - 1];
                (void)sum;
                pq_col_free(&col);
            }
            /* DECIMAL columns also exactly: unscaled values and their text */
            if (ci.type == PQ_DECIMAL && pq_reader_read_decimal(r, g, c, &col, err, sizeof err) == 0) {
                char text[96];
                if (col.n > 0) {
                    const pq_dec128 *dv = col.values;
                    pq_decimal_format(dv[col.n - 1].hi, dv[col.n - 1].lo, ci.scale, text, sizeof text);
                }
                pq_col_free(&col);
            }
        }
    }
    pq_reader_destroy(r);
    return 0;
}
