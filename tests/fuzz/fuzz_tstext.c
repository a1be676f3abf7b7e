/* libFuzzer target for the footer key of timestamp texts (lk_tstext_decode,
 * src/lake/tstext.c): the first 2 bytes are the file's row count, the rest the
 * key's value.  Any input must decode or be refused with a message; a decoded
 * one must render every row (in order and backwards) within its buffer, and
 * encode again to a value that decodes to the same layouts. */
#include "lake/lake.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    if (n < 2 || n > LK_TSTEXT_MAX + 64) return 0;
    int64_t rows = (int64_t)(d[0] | d[1] << 8);
    char *text = malloc(n - 1);
    memcpy(text, d + 2, n - 2);
    text[n - 2] = 0;
    char err[256], out[UT_TS_TEXT_MAX];
    lk_tstext *t = lk_tstext_decode(text, rows, err, sizeof err);
    free(text);
    if (!t) return 0;
    lk_tstext *again = lk_tstext_create();
    for (int64_t r = 0; r < rows; r++) {
        ut_ts_layout lay;
        int legacy = lk_tstext_layout(t, r, &lay);
        if (lk_tstext_render(t, r, (int64_t)r * 86399999999LL - 1000000000000000LL, out) >= UT_TS_TEXT_MAX)
            abort();
        if (lk_tstext_room(again)) lk_tstext_note(again, r, legacy ? NULL : &lay);
    }
    for (int64_t r = rows; r-- > 0;) lk_tstext_render(t, r, r, out);
    ut_buf b = {0};
    if (lk_tstext_encode(again, rows, &b) == 0) {
        lk_tstext *back = lk_tstext_decode((const char *)b.p, rows, err, sizeof err);
        if (!back) abort(); /* what the encoder writes always decodes */
        lk_tstext_destroy(back);
    }
    ut_buf_free(&b);
    lk_tstext_destroy(again);
    lk_tstext_destroy(t);
    return 0;
}
