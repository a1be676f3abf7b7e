/* libFuzzer target: Accept-Encoding header values (sv_accepts_gzip), and
 * the answer for known values. */
#include "server/server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    int r = sv_accepts_gzip(s);
    if (r != 0 && r != 1) __builtin_trap();
    free(s);
    if (!sv_accepts_gzip("gzip, deflate, br") || sv_accepts_gzip("gzip;q=0") ||
        sv_accepts_gzip("identity") || !sv_accepts_gzip("br;q=1.0, *;q=0.5") ||
        sv_accepts_gzip("deflate, gzip; q=0.000") || sv_accepts_gzip(NULL))
        __builtin_trap();
    return 0;
}
