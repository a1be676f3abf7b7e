/* libFuzzer target: CSV and TSV readers (over a possibly compressed memory
 * input) on arbitrary bytes.  Must never crash, hang, leak or overread. */
#include "csv/csv.h"
#include "io/io.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    for (int mode = 0; mode < 2; mode++) {
        io_reader *in = io_open_mem(data, size, "fuzz", 1 << 16);
        csv_opts o;
        csv_opts_init(&o, mode ? '\t' : ',');
        o.max_field = 1000;
        o.max_record = 4000;
        o.max_fields = 50;
        csv_reader *r = csv_create(in, &o);
        int rc, first = 1, guard = 0;
        while ((rc = csv_next(r, err, sizeof err)) != CSV_EOF && rc != CSV_ERR) {
            if (++guard > 1000000) abort();
            if (rc != CSV_OK) continue;
            if (first) csv_set_nfields(r, csv_nfields(r));
            first = 0;
            size_t total = 0;
            for (int i = 0; i < csv_nfields(r); i++) {
                size_t n;
                const char *f = csv_field(r, i, &n, NULL);
                if (n) total += (unsigned char)f[0] + (unsigned char)f[n - 1];
            }
            (void)total;
        }
        csv_destroy(r);
        io_close(in);
    }
    return 0;
}
