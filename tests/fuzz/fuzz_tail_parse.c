/* libFuzzer target: the tail shipper's record parsers (combined log, JSON
 * lines, a named-group regex, plain) behind the line assembler with a
 * multiline start pattern and a small cap, on arbitrary bytes fed in
 * arbitrary pieces.  Must never crash, hang, leak or overread; every record
 * must come out as one valid JSON object. */
#include "json/json.h"
#include "tail/tail.h"

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
    tl_parser *p[4];
    js_parser *js;
    ut_buf b;
    uint64_t last_end;
} ctx;

static void on_record(void *arg, const char *t, size_t n, uint64_t start, uint64_t end, int cut)
{
    ctx *c = arg;
    (void)cut;
    if (start > end || end < c->last_end) abort();
    c->last_end = end;
    for (int i = 0; i < 4; i++) {
        ut_buf_reset(&c->b);
        ut_buf_putc(&c->b, '{');
        tl_parse(c->p[i], t, n, &c->b);
        ut_buf_putc(&c->b, '}');
        char err[128];
        js_kind k;
        if (js_validate(c->js, (const char *)c->b.p, c->b.len, &k, err, sizeof err) || k != JS_OBJECT)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ctx c;
    static regex_t start;
    static int init;
    if (!init) {
        ut_error e;
        c.p[0] = tl_parser_create(TL_COMBINED, NULL, &e);
        c.p[1] = tl_parser_create(TL_JSON, NULL, &e);
        c.p[2] = tl_parser_create(TL_REGEX, "^(?P<level>[A-Z]+) (?<msg>.*)$", &e);
        c.p[3] = tl_parser_create(TL_PLAIN, NULL, &e);
        c.js = js_parser_create(1 << 20, 0);
        if (regcomp(&start, "^[0-9]", REG_EXTENDED | REG_NOSUB)) abort();
        init = 1;
    }
    for (int ml = 0; ml < 2; ml++) {
        c.last_end = 0;
        tl_lines *l = tl_lines_create(300, ml ? &start : NULL, 0);
        size_t i = 0, piece = size ? 1 + data[0] % 97 : 1;
        while (i < size) {
            size_t k = size - i < piece ? size - i : piece;
            tl_lines_feed(l, (const char *)data + i, k, on_record, &c);
            i += k;
        }
        tl_lines_flush(l, 1, on_record, &c);
        tl_lines_destroy(l);
    }
    return 0;
}
