/* libFuzzer target: the aggregate fast path's shape parser (sq__agg_plan) on
 * arbitrary statement text.  Must never crash, leak or overread; a refusal
 * always has a reason; a plan stays within its caps and its outer statement
 * reads only temp._sq_agg. */
#include "sql/agg_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * SQA_MAX_SQL) return 0;
    char *sql = malloc(size + 1); /* exact size with its NUL: ASan sees an overread */
    memcpy(sql, data, size);
    sql[size] = 0;
    char why[256];
    why[0] = 0;
    sqa_plan p;
    if (sq__agg_plan(sql, &p, why, sizeof why)) {
        if (p.ngroups > SQA_MAX_GROUPS || p.naggs < 1 || p.naggs > SQA_MAX_AGGS ||
            p.npreds > SQA_MAX_PREDS || p.nlits > SQA_MAX_LITS || !p.outer || !p.lits)
            abort();
        if (!strstr(p.outer, " FROM temp._sq_agg")) abort();
        for (int i = 0; i < p.npreds; i++)
            if (p.preds[i].lit < 0 || p.preds[i].lit + p.preds[i].nlit > p.nlits) abort();
        sq__agg_plan_free(&p);
    } else if (!why[0] && strlen(sql) > 0) {
        abort();
    }
    free(sql);
    return 0;
}
