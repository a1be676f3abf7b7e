/* libFuzzer target: mask text forms and values (mk_create, mk_apply).
 * The input up to the first newline is the mask's text form, the rest the
 * value; the key is fixed. */
#include "mask/mask.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t sl = nl ? (size_t)(nl - data) : size;
    if (sl > MK_MAX_SPEC + 1) return 0;
    char spec[MK_MAX_SPEC + 2];
    memcpy(spec, data, sl);
    spec[sl] = 0;
    ut_error e = {0};
    mk_mask *m = mk_create(spec, "fuzz-key", 8, &e);
    if (!m) return 0;
    const char *v = nl ? (const char *)nl + 1 : "";
    size_t n = nl ? size - sl - 1 : 0;
    ut_buf out = {0};
    int null = 0;
    int rc = mk_apply(m, v, n, &out, &null, &e);
    /* contracts: NULL and a failure leave nothing; hash is 64 hex digits */
    if ((null || rc) && out.len) __builtin_trap();
    if (!rc && !null && mk_kind_of(m) == MK_HASH && out.len != 64) __builtin_trap();
    if (!rc && mk_kind_of(m) == MK_TRUNCATE && out.len > n) __builtin_trap();
    ut_buf_free(&out);
    mk_destroy(m);
    return 0;
}
