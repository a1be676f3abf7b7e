/* libFuzzer target: the JSON record scanner (object walk, validate, array
 * split) on arbitrary bytes.  Must never crash, leak or read out of bounds;
 * the object walk and js_validate must agree on what is a valid object. */
#include "json/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static js_parser *p;
    if (!p) p = js_parser_create(1 << 20, 32);
    char err[256];
    /* exact-size heap copy so ASan catches any overread */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    int rc, n = 0;
    js_field f;
    int walk_ok = 0;
    if (js_obj_begin(p, buf, size, err, sizeof err) == 0) {
        size_t total = 0;
        while ((rc = js_obj_next(p, &f, err, sizeof err)) == 1) {
            total += f.key_len + f.v.n;
            n++;
        }
        walk_ok = rc == 0;
        (void)total;
    }
    js_kind k;
    int val_ok = js_validate(p, buf, size, &k, err, sizeof err) == 0;
    if (walk_ok && !(val_ok && k == JS_OBJECT)) abort();
    if (val_ok && k == JS_OBJECT && !walk_ok) abort();
    const char *e;
    size_t en, off;
    if (js_array_begin(p, buf, size, err, sizeof err) == 0) {
        while (js_array_next(p, &e, &en, &off, err, sizeof err) == 1) {
            if (e < buf || e + en > buf + size) abort();
            js_obj_check(p, e, en, NULL, err, sizeof err);
        }
    }
    free(buf);
    return 0;
}
