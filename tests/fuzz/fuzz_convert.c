/* libFuzzer target: sluice convert on arbitrary bytes (NDJSON, then CSV),
 * with 1 worker and with 3: must never crash, hang or leak, and both runs must
 * agree (fail or succeed together, same rows and rejects, identical files).
 * Row groups of 3 rows so even small inputs span many chunks. */
#include "convert/convert.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(const char *in, int64_t line, const char *why, void *arg)
{
    (void)in, (void)line, (void)why, (void)arg;
}

static long slurp(const char *path, uint8_t **out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    if (fread(*out, 1, (size_t)n, f) != (size_t)n) n = -1;
    fclose(f);
    return n;
}

static void one_format(const char *in, cv_format fmt)
{
    char out[2][64], err[512];
    cv_stats st[2];
    int rc[2];
    uint8_t *bytes[2] = {NULL, NULL};
    long n[2] = {-1, -1};
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "/tmp/fuzz-convert-%d-%d.parquet", (int)getpid(), k);
        cv_opts o;
        cv_opts_init(&o);
        o.format = fmt;
        o.threads = k ? 3 : 1;
        o.wopts.row_group_rows = 3;
        o.max_record = 1 << 16;
        o.on_reject = quiet;
        rc[k] = cv_convert(in, out[k], &o, &st[k], err, sizeof err);
        if (rc[k] == 0) n[k] = slurp(out[k], &bytes[k]);
        unlink(out[k]);
    }
    if (rc[0] != rc[1]) abort();
    if (rc[0] == 0 && (st[0].rows != st[1].rows || st[0].rejected != st[1].rejected ||
                       n[0] != n[1] || (n[0] > 0 && memcmp(bytes[0], bytes[1], (size_t)n[0]))))
        abort();
    free(bytes[0]);
    free(bytes[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    char in[64];
    snprintf(in, sizeof in, "/tmp/fuzz-convert-%d.in", (int)getpid());
    FILE *f = fopen(in, "wb");
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    one_format(in, CV_NDJSON);
    one_format(in, CV_CSV);
    unlink(in);
    return 0;
}
