/* libFuzzer target: wh_fits, the check of a lake value against the type of
 * an existing warehouse column (kind load, max_errors).  The first byte
 * picks the class, the rest is the value; also the COPY text escaping of
 * the value must round-trip (unescape == value). */
#include "wh/wh.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    wh_class c = (wh_class)(data[0] % 6);
    const char *v = (const char *)data + 1;
    size_t n = size - 1;
    char why[200];
    why[0] = 0;
    int ok = wh_fits(c, v, n, why, sizeof why);
    if (!ok && !why[0]) __builtin_trap();
    if (ok && memchr(v, 0, n)) __builtin_trap();
    ut_buf b = {0};
    wh_copy_text(&b, v, n);
    size_t k = 0; /* unescape and compare */
    for (size_t i = 0; i < b.len; i++, k++) {
        char ch = (char)b.p[i];
        if (ch == '\t' || ch == '\n' || ch == '\r') __builtin_trap();
        if (ch == '\\') {
            char e = (char)b.p[++i];
            ch = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
        }
        if (k >= n || v[k] != ch) __builtin_trap();
    }
    if (k != n) __builtin_trap();
    ut_buf_free(&b);
    return 0;
}
