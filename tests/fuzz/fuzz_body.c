/* libFuzzer target: HTTP ingest request bodies (sv_body_parse).
 * The first input byte picks the Content-Encoding and small limits, the rest
 * is the body. */
#include "server/server.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *enc[] = {NULL, "identity", "gzip", "zstd", "br"};
    const char *e = enc[data[0] % 5];
    sv_limits lim = {.max_body = 1 << 16,
                     .max_record = (size_t)64 << (data[0] >> 6),
                     .max_depth = 1 + (data[0] >> 3 & 7) * 4,
                     .max_records = 1000};
    js_parser *p = js_parser_create(lim.max_record + 64, lim.max_depth);
    sv_batch b;
    memset(&b, 0, sizeof b);
    char err[256];
    int st = sv_body_parse(p, data + 1, size - 1, e, &lim, &b, err, sizeof err);
    if (st == 0) {
        /* every record is filed once, and accepted ones are objects */
        if (b.nok + b.nbad != b.nrecords) __builtin_trap();
        for (int i = 0; i < b.nok; i++)
            if (js_obj_check(p, b.ok[i].p, b.ok[i].n, NULL, err, sizeof err)) __builtin_trap();
    }
    sv_batch_free(&b);
    js_parser_destroy(p);
    return 0;
}
