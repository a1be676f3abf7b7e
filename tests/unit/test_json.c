#include "t.h"
#include "json/json.h"

#include <math.h>

static char err[256];

/* Walk rec; return the number of fields, or -1 (err set). */
static int walk(js_parser *p, const char *rec, js_field *out, int max)
{
    int n = 0, rc;
    js_field f;
    if (js_obj_begin(p, rec, strlen(rec), err, sizeof err)) return -1;
    while ((rc = js_obj_next(p, &f, err, sizeof err)) == 1)
        if (n < max) out[n++] = f;
    return rc < 0 ? -1 : n;
}

TEST(json_fields_and_kinds)
{
    js_parser *p = js_parser_create(0, 0);
    js_field f[16];
    const char *rec = " {\"a\":1, \"b\" : -2.5e3,\"c\":\"x\\ty\",\"d\":true,\"e\":null,"
                      "\"f\":{\"g\":[1,2,{\"h\":null}]},\"i\":[],\"j\":false,\"k\":\"\"} ";
    int n = walk(p, rec, f, 16);
    CHECK_MSG(n == 9, "n=%d err=%s", n, err);
    CHECK(f[0].key_len == 1 && f[0].key[0] == 'a' && f[0].v.kind == JS_INT && f[0].v.i == 1);
    CHECK(f[1].v.kind == JS_DOUBLE && f[1].v.d == -2500.0);
    CHECK(f[1].v.n == 6 && !memcmp(f[1].v.s, "-2.5e3", 6));
    CHECK(f[2].v.kind == JS_STRING && f[2].v.escaped && f[2].v.n == 3 && !memcmp(f[2].v.s, "x\ty", 3));
    CHECK(f[3].v.kind == JS_BOOL && f[3].v.b == 1);
    CHECK(f[4].v.kind == JS_NULL);
    CHECK(f[5].v.kind == JS_OBJECT && f[5].v.n == 22 && !memcmp(f[5].v.s, "{\"g\":[1,2,{\"h\":null}]}", 22));
    CHECK(f[6].v.kind == JS_ARRAY && f[6].v.n == 2);
    CHECK(f[7].v.kind == JS_BOOL && f[7].v.b == 0);
    CHECK(f[8].v.kind == JS_STRING && f[8].v.n == 0);
    CHECK_EQ_INT(walk(p, "{}", f, 16), 0);
    js_parser_destroy(p);
}

TEST(json_numbers)
{
    js_parser *p = js_parser_create(0, 0);
    js_field f[8];
    CHECK_EQ_INT(walk(p, "{\"a\":9223372036854775807,\"b\":-9223372036854775808,"
                         "\"c\":9223372036854775808,\"d\":0.1,\"e\":1e400,\"f\":-0,"
                         "\"g\":123456789012345678901234567890}", f, 8), 7);
    CHECK(f[0].v.kind == JS_INT && f[0].v.i == INT64_MAX);
    CHECK(f[1].v.kind == JS_INT && f[1].v.i == INT64_MIN);
    CHECK(f[2].v.kind == JS_DOUBLE && f[2].v.d == 9223372036854775808.0);
    CHECK(f[3].v.kind == JS_DOUBLE && f[3].v.d == 0.1);
    CHECK(f[4].v.kind == JS_DOUBLE && isinf(f[4].v.d));
    CHECK(f[5].v.kind == JS_INT && f[5].v.i == 0);
    CHECK(f[6].v.kind == JS_DOUBLE && f[6].v.d == 1.2345678901234568e29);
    CHECK(walk(p, "{\"a\":01}", f, 8) == -1);
    CHECK(walk(p, "{\"a\":1.}", f, 8) == -1);
    CHECK(walk(p, "{\"a\":-}", f, 8) == -1);
    CHECK(walk(p, "{\"a\":1e}", f, 8) == -1);
    CHECK(walk(p, "{\"a\":.5}", f, 8) == -1);
    CHECK(walk(p, "{\"a\":+1}", f, 8) == -1);
    js_parser_destroy(p);
}

TEST(json_strings_unicode)
{
    js_parser *p = js_parser_create(0, 0);
    js_field f[4];
    CHECK_EQ_INT(walk(p, "{\"k\\u00e9y\":\"\\ud83d\\ude00 caf\xc3\xa9 \\\"q\\\" \\/\"}", f, 4), 1);
    CHECK(f[0].key_len == 4 && !memcmp(f[0].key, "k\xc3\xa9y", 4));
    CHECK(f[0].v.n == 16 && !memcmp(f[0].v.s, "\xf0\x9f\x98\x80 caf\xc3\xa9 \"q\" /", 16));
    CHECK(walk(p, "{\"a\":\"\\ud83d\"}", f, 4) == -1);   /* lone high surrogate */
    CHECK(walk(p, "{\"a\":\"\\ude00\"}", f, 4) == -1);   /* lone low surrogate */
    CHECK(walk(p, "{\"a\":\"\\x\"}", f, 4) == -1);
    CHECK(walk(p, "{\"a\":\"\xc0\xaf\"}", f, 4) == -1);  /* overlong */
    CHECK(walk(p, "{\"a\":\"\xed\xa0\x80\"}", f, 4) == -1); /* UTF-8 surrogate */
    CHECK(walk(p, "{\"a\":\"\xf4\x90\x80\x80\"}", f, 4) == -1); /* > U+10FFFF */
    CHECK(walk(p, "{\"a\":\"tab\there\"}", f, 4) == -1);
    CHECK(strstr(err, "control character") != NULL);
    CHECK(walk(p, "{\"a\":\"unterminated}", f, 4) == -1);
    js_parser_destroy(p);
}

TEST(json_errors_with_positions)
{
    js_parser *p = js_parser_create(0, 0);
    js_field f[4];
    CHECK(walk(p, "{\"a\" 1}", f, 4) == -1);
    CHECK_EQ_STR(err, "expected ':' after key at byte 6");
    CHECK(walk(p, "{\"a\":1 \"b\":2}", f, 4) == -1);
    CHECK_EQ_STR(err, "expected ',' or '}' after value at byte 8");
    CHECK(walk(p, "{\"a\":1,}", f, 4) == -1);
    CHECK_EQ_STR(err, "expected '\"' to start a key at byte 8");
    CHECK(walk(p, "{\"a\":1} x", f, 4) == -1);
    CHECK_EQ_STR(err, "unexpected data after the object at byte 9");
    CHECK(walk(p, "[1,2]", f, 4) == -1);
    CHECK_EQ_STR(err, "record is an array, expected an object");
    CHECK(walk(p, "\"s\"", f, 4) == -1);
    CHECK_EQ_STR(err, "record is a string, expected an object");
    CHECK(walk(p, "   ", f, 4) == -1);
    CHECK(walk(p, "{\"a\":tru}", f, 4) == -1);
    CHECK(walk(p, "{\"a\":[1,]}", f, 4) == -1);
    CHECK(walk(p, "{\"a\":{\"b\" 1}}", f, 4) == -1);
    CHECK(walk(p, "{\"a\":1", f, 4) == -1);
    CHECK(strstr(err, "unexpected end") != NULL);
    js_parser_destroy(p);
}

TEST(json_limits)
{
    js_parser *p = js_parser_create(100, 4);
    js_field f[4];
    CHECK_EQ_INT(walk(p, "{\"a\":[[[1]]]}", f, 4), 1);      /* depth 4 */
    CHECK(walk(p, "{\"a\":[[[[1]]]]}", f, 4) == -1);        /* depth 5 */
    CHECK(strstr(err, "nesting too deep") != NULL);
    char big[200];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[198] = '}';
    big[199] = 0;
    CHECK(walk(p, big, f, 4) == -1);
    CHECK(strstr(err, "cap") != NULL);
    js_parser_destroy(p);
    /* deep nesting does not recurse */
    p = js_parser_create(0, 4096);
    static char deep[20000];
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"a\":");
    for (int i = 0; i < 4000; i++) deep[n++] = '[';
    for (int i = 0; i < 4000; i++) deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    CHECK_EQ_INT(walk(p, deep, f, 4), 1);
    js_parser_destroy(p);
}

TEST(json_array_split)
{
    js_parser *p = js_parser_create(0, 0);
    const char *body = " [ {\"a\":1}, {\"b\":\"]\"} ,\n[1], 5 ] ";
    const char *e;
    size_t n, off;
    int count = 0, objs = 0;
    CHECK(js_array_begin(p, body, strlen(body), err, sizeof err) == 0);
    int rc;
    while ((rc = js_array_next(p, &e, &n, &off, err, sizeof err)) == 1) {
        count++;
        int nf;
        if (js_obj_check(p, e, n, &nf, err, sizeof err) == 0) objs++;
    }
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_EQ_INT(count, 4);
    CHECK_EQ_INT(objs, 2);
    CHECK(js_array_begin(p, "[{},", 4, err, sizeof err) == 0);
    CHECK(js_array_next(p, &e, &n, &off, err, sizeof err) == 1);
    CHECK(js_array_next(p, &e, &n, &off, err, sizeof err) == -1);
    CHECK(js_array_begin(p, "[]", 2, err, sizeof err) == 0);
    CHECK(js_array_next(p, &e, &n, &off, err, sizeof err) == 0);
    CHECK(js_array_begin(p, "{}", 2, err, sizeof err) == -1);
    js_kind k;
    const char *v = " [1, {\"a\": [true, null]}] ";
    CHECK(js_validate(p, v, strlen(v), &k, err, sizeof err) == 0 && k == JS_ARRAY);
    CHECK(js_validate(p, "1 2", 3, &k, err, sizeof err) == -1);
    js_parser_destroy(p);
}

/* One pass over nested containers: a field's array of objects walked in
 * place, the walk going on after it; the same grammar as js_obj_next. */
TEST(json_walk_in_place)
{
    js_parser *p = js_parser_create(0, 0), *q = js_parser_create(0, 3);
    const char *doc = "{\"n\":1, \"recs\" : [ {\"a\":\"x\\/y\"} , {\"b\":[1,{\"c\":2}]},{}],"
                      "\"z\":\"end\"} ";
    const char *key, *s, *el;
    size_t kn, sn, en;
    js_value v;
    js_field f;
    int elems = 0, fields = 0, rc;
    CHECK(js_obj_begin(p, doc, strlen(doc), err, sizeof err) == 0);
    CHECK(js_obj_key(p, &key, &kn, err, sizeof err) == 1 && kn == 1 && *key == 'n');
    CHECK(js_obj_value(p, &v, err, sizeof err) == 0 && v.kind == JS_INT && v.i == 1);
    CHECK(js_obj_key(p, &key, &kn, err, sizeof err) == 1 && kn == 4);
    CHECK(js_obj_value_at(p, &s, &sn, err, sizeof err) == 0 && *s == '[');
    CHECK(js_array_begin_at(p, s, sn, err, sizeof err) == 0);
    while ((rc = js_array_elem_at(p, &el, &en, err, sizeof err)) == 1) {
        CHECK_MSG(js_obj_begin_at(q, el, en, err, sizeof err) == 0, "%s", err);
        while ((rc = js_obj_next(q, &f, err, sizeof err)) == 1) fields++;
        CHECK_MSG(rc == 0, "%s", err);
        if (elems++ == 0) CHECK(js_obj_end(q) == 12);
        js_array_resume(p, js_obj_end(q));
    }
    CHECK_MSG(rc == 0 && elems == 3 && fields == 2, "rc %d elems %d %s", rc, elems, err);
    CHECK(js_array_end(p) == strlen("[ {\"a\":\"x\\/y\"} , {\"b\":[1,{\"c\":2}]},{}]"));
    js_obj_resume(p, js_array_end(p));
    CHECK(js_obj_next(p, &f, err, sizeof err) == 1 && f.v.kind == JS_STRING && f.v.n == 3);
    CHECK(js_obj_next(p, &f, err, sizeof err) == 0);
    /* the element's parser has the depth left: [1,{...}] inside is its 3rd level */
    js_parser *shallow = js_parser_create(0, 2);
    CHECK(js_obj_begin_at(shallow, "{\"b\":[1,{\"c\":2}]}]}", 19, err, sizeof err) == 0);
    CHECK(js_obj_next(shallow, &f, err, sizeof err) == -1 && strstr(err, "too deep"));
    /* errors: not an object / array, a bad separator, trailing data is not checked */
    CHECK(js_obj_begin_at(q, "[]", 2, err, sizeof err) == -1);
    CHECK(js_array_begin_at(p, "{}", 2, err, sizeof err) == -1);
    CHECK(js_array_begin_at(p, "[1 2]", 5, err, sizeof err) == 0);
    CHECK(js_array_elem_at(p, &el, &en, err, sizeof err) == 1 && *el == '1');
    js_array_resume(p, 1);
    CHECK(js_array_elem_at(p, &el, &en, err, sizeof err) == -1 && strstr(err, "expected ','"));
    CHECK(js_obj_begin_at(q, "{}xyz", 5, err, sizeof err) == 0);
    CHECK(js_obj_next(q, &f, err, sizeof err) == 0 && js_obj_end(q) == 2);
    /* js_obj_next is key then value: the same messages */
    CHECK(js_obj_begin(p, "{\"a\" 1}", 7, err, sizeof err) == 0);
    CHECK(js_obj_next(p, &f, err, sizeof err) == -1 && !strcmp(err, "expected ':' after key at byte 6"));
    js_parser_destroy(shallow);
    js_parser_destroy(q);
    js_parser_destroy(p);
}
