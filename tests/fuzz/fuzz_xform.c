/* libFuzzer target: transform predicates and records (xf_compile, xf_apply).
 * The input up to the first newline is a drop_where predicate, the rest one
 * record.  The program also lower-cases, renames, drops and sets, so every
 * step runs.  Contracts: a CHANGED record is a valid JSON object within the
 * cap; KEEP, DROP and FAIL hand out nothing. */
#include "json/json.h"
#include "xform/xform.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t pl = nl ? (size_t)(nl - data) : size;
    if (pl > XF_MAX_EXPR + 1) return 0;
    char pred[XF_MAX_EXPR + 2];
    memcpy(pred, data, pl);
    pred[pl] = 0;
    const char *dw[] = {pred}, *from[] = {"a", "B"}, *to[] = {"b_", "c"}, *drop[] = {"d"};
    const char *sk[] = {"s", "t"}, *sv[] = {"web", "2"};
    xf_spec s = {.lowercase_keys = size % 2, .rename_from = from, .rename_to = to, .nrename = 2,
                 .drop_where = dw, .ndrop_where = 1, .drop = drop, .ndrop = 1,
                 .set_key = sk, .set_value = sv, .nset = 2};
    ut_error e = {0};
    xf_program *x = xf_compile(&s, &e);
    if (!x) return 0;
    const char *rec = nl ? (const char *)nl + 1 : "{}";
    size_t n = nl ? size - pl - 1 : 2;
    js_parser *p = js_parser_create(1 << 16, 0);
    char msg[200];
    if (js_obj_check(p, rec, n, NULL, msg, sizeof msg) == 0) { /* xf_apply takes valid objects */
        xf_run *r = xf_run_create(x, 1 << 16, 0);
        const char *out = NULL;
        size_t outn = 0;
        xf_result k = xf_apply(r, rec, n, &out, &outn, msg, sizeof msg);
        if (k == XF_CHANGED && (outn > (1 << 16) || js_obj_check(p, out, outn, NULL, msg, sizeof msg)))
            __builtin_trap();
        if (k != XF_CHANGED && out) __builtin_trap();
        xf_run_destroy(r);
    }
    js_parser_destroy(p);
    xf_destroy(x);
    return 0;
}
