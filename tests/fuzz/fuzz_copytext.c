/* libFuzzer target: one COPY text row (sn_copy_split), then every field
 * converted as each class (sn_convert).  Contracts: a field never grows
 * past its row, NULL fields have length 0, conversions return -1/0/1. */
#include "snap/snap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    char *v[64], err[200];
    size_t n[64];
    int nf = sn_copy_split(line, size, v, n, 64, err, sizeof err);
    ut_buf b = {0};
    for (int i = 0; i < nf; i++) {
        if (!v[i]) {
            if (n[i]) __builtin_trap();
            continue;
        }
        if (v[i] < line || v[i] + n[i] > line + size) __builtin_trap();
        for (int c = SN_BOOL; c <= SN_TIMESTAMP_NTZ; c++) {
            sn_value val = {.bytes = &b};
            int rc = sn_convert((sn_class)c, v[i], n[i], &val, err, sizeof err);
            if (rc < -1 || rc > 1) __builtin_trap();
        }
    }
    ut_buf_free(&b);
    free(line);
    return 0;
}
