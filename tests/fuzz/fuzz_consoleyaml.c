/* libFuzzer target: the YAML of `sluice console import` (cli_yaml_parse,
 * cli_yaml_to_json) — whatever parses becomes valid JSON — and the export's
 * writer: a spec whose "sql" is the input (when it is valid UTF-8) reads
 * back as the same JSON, whether it was written as a block or quoted. */
#include "cli/cli.h"
#include "json/json.h"
#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void roundtrip(const uint8_t *data, size_t size)
{
    ut_buf spec = {0}, y = {0}, back = {0};
    char err[256];
    js_parser *p = js_parser_create(0, 8);
    ut_buf_puts(&spec, "{\"sql\":");
    ut_json_str(&spec, data, size);
    ut_buf_putc(&spec, '}');
    if (js_validate(p, (const char *)spec.p, spec.len, NULL, err, sizeof err) == 0 &&
        !memchr(data, 0, size)) {
        if (cli_yaml_spec(&y, (const char *)spec.p, spec.len, "", err, sizeof err)) __builtin_trap();
        cli_yaml_node *n = cli_yaml_parse((const char *)y.p, y.len, err, sizeof err);
        if (n) {  /* libyaml refuses some characters (e.g. U+FEFF, C1 controls) even quoted */
            /* the same text as JSON writes it from UTF-8 (an invalid input byte
             * became \u00XX in spec, and comes back as its UTF-8) */
            ut_buf want = {0};
            js_field f;
            if (js_obj_begin(p, (const char *)spec.p, spec.len, err, sizeof err) ||
                js_obj_next(p, &f, err, sizeof err) != 1)
                __builtin_trap();
            ut_buf_puts(&want, "{\"sql\":");
            ut_json_str(&want, f.v.s, f.v.n);
            ut_buf_putc(&want, '}');
            cli_yaml_to_json(n, &back);
            if (back.len != want.len || memcmp(back.p, want.p, want.len)) __builtin_trap();
            ut_buf_free(&want);
            cli_yaml_node_free(n);
        }
    }
    js_parser_destroy(p);
    ut_buf_free(&spec);
    ut_buf_free(&y);
    ut_buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    cli_yaml_node *n = cli_yaml_parse((const char *)data, size, err, sizeof err);
    if (n) {
        ut_buf b = {0};
        cli_yaml_to_json(n, &b);
        js_parser *p = js_parser_create(0, 64);
        if (js_validate(p, (const char *)b.p, b.len, NULL, err, sizeof err)) __builtin_trap();
        js_parser_destroy(p);
        ut_buf_free(&b);
        cli_yaml_node_free(n);
    }
    roundtrip(data, size);
    return 0;
}
