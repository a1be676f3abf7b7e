/* libFuzzer target: a Kinesis / Firehose request body (kn_parse, the
 * operation chosen by the first byte) and the same bytes as an Authorization
 * header (kn_sig_parse).  Contracts: every record's payload lies inside the
 * decoded data, a refusal has a type and a message, a parsed signature has
 * the shapes the header promised. */
#include "kinesis/kinesis.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) return 0;
    kn_op op = (kn_op)(1 + data[0] % KN_FH_LIST);
    kn_req q;
    kn_err e;
    char msg[512];
    int rc = kn_parse(op, (const char *)data + 1, size - 1, &q, &e, msg, sizeof msg);
    if (rc < 0 && (e == KN_OK || !msg[0])) __builtin_trap();
    if (rc == 0) {
        if (q.nrecs < 0 || q.nrecs > KN_MAX_RECORDS) __builtin_trap();
        for (int i = 0; i < q.nrecs; i++)
            if (q.recs[i].off + q.recs[i].n > q.data.len) __builtin_trap();
    }
    kn_req_free(&q);
    char *h = malloc(size + 1);
    memcpy(h, data, size);
    h[size] = 0;
    kn_sig s;
    if (kn_sig_parse(h, &s, &e, msg, sizeof msg) == 0 &&
        (strlen(s.signature) != 64 || strlen(s.date) != 8 || !s.key_id[0]))
        __builtin_trap();
    free(h);
    return 0;
}
