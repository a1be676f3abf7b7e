/* collect: the engine's pure parts -- the streaming JSON scanner and the
 * CSV / TSV splitter fed at every chunk boundary, gzip bodies, NDJSON, the
 * Link and Retry-After headers, URL encoding, {{page.*}} templates and
 * secret redaction.  The HTTP side is tested against the mock ad-media
 * server by tests/integration/collect_engine.mjs. */
#include "t.h"
#include "collect/cl_int.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static char err[512];

/* Records gathered as lines. */
typedef struct sink {
    ut_buf out;
    int stop_after; /* 0: never */
    int n;
} sink;

static int collect_rec(void *ctx, const char *rec, size_t n)
{
    sink *k = ctx;
    ut_buf_put(&k->out, rec, n);
    ut_buf_putc(&k->out, '\n');
    k->n++;
    return k->stop_after && k->n >= k->stop_after ? -1 : 0;
}

/* Feed text to a scanner in pieces cut at a and b (a <= b <= len). */
static int jscan_feed3(cl__jscan *s, const char *t, size_t len, size_t a, size_t b)
{
    size_t cut[4] = {0, a, b, len};
    for (int i = 0; i < 3; i++) {
        int rc = cl__jscan_feed(s, t + cut[i], cut[i + 1] - cut[i], err, sizeof err);
        if (rc) return rc;
    }
    return cl__jscan_end(s, err, sizeof err);
}

static const char FB[] =
    "\xef\xbb\xbf{\"data\": [\n"
    "  {\"date_start\":\"2022-09-10\",\"campaign_name\":\"UA \\\"x\\\", \\u00e9\",\n"
    "   \"nested\":{\"a\":[1,2,{\"b\":null}]},\"spend\":\"1.5\",\"n\":-12.5e3},\n"
    "  {\"k\":true,\"data\":{\"paging\":{\"next\":\"inner\"}}}\n"
    "], \"other\": [[],{}], \"pa\\u0067ing\": {\"cursors\":{\"after\":\"QVFI\\/x\"},\n"
    "  \"next\": \"http://127.0.0.1:1/fb?a=1\\u0026after=QVFI\"}, \"last\": 0}\n";

static const char FB_RECS[] =
    "{\"date_start\":\"2022-09-10\",\"campaign_name\":\"UA \\\"x\\\", \\u00e9\",    "
    "\"nested\":{\"a\":[1,2,{\"b\":null}]},\"spend\":\"1.5\",\"n\":-12.5e3}\n"
    "{\"k\":true,\"data\":{\"paging\":{\"next\":\"inner\"}}}\n";

TEST(collect_jscan_every_split)
{
    const char *keep[] = {"paging.next", "paging.cursors.after", "last", "missing"};
    size_t len = sizeof FB - 1;
    cl__jscan *s = cl__jscan_create("data", keep, 4, 1 << 20, err, sizeof err);
    CHECK(s);
    sink k = {{0}, 0, 0};
    for (size_t a = 0; a <= len; a++)
        for (size_t b = a; b <= len; b += (a % 7 == 0 ? 1 : 13)) {
            ut_buf_reset(&k.out);
            cl__jscan_reset(s);
            cl__jscan_on_record(s, collect_rec, &k);
            int rc = jscan_feed3(s, FB, len, a, b);
            CHECK_MSG(rc == 0, "cut %zu/%zu: %s", a, b, err);
            CHECK_MSG(!strcmp(ut_buf_cstr(&k.out), FB_RECS), "cut %zu/%zu: records\n%s", a, b,
                      ut_buf_cstr(&k.out));
            size_t n;
            const char *v = cl__jscan_value(s, 0, &n);
            CHECK(v && !strcmp(v, "http://127.0.0.1:1/fb?a=1&after=QVFI"));
            v = cl__jscan_value(s, 1, &n);
            CHECK(v && !strcmp(v, "QVFI/x"));
            v = cl__jscan_value(s, 2, &n);
            CHECK(v && !strcmp(v, "0"));
            CHECK(cl__jscan_value(s, 3, &n) == NULL);
            CHECK_EQ_INT(cl__jscan_records(s), 2);
        }
    /* byte by byte */
    cl__jscan_reset(s);
    ut_buf_reset(&k.out);
    for (size_t i = 0; i < len; i++) CHECK(cl__jscan_feed(s, FB + i, 1, err, sizeof err) == 0);
    CHECK(cl__jscan_end(s, err, sizeof err) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&k.out), FB_RECS);
    ut_buf_free(&k.out);
    cl__jscan_destroy(s);
}

/* One body through a fresh scanner: 0 / CL__BAD / CL__STOP, records in out. */
static int jscan1(const char *records, const char *keep, const char *body, ut_buf *out,
                  size_t max_record)
{
    const char *kp[1] = {keep};
    cl__jscan *s = cl__jscan_create(records, kp, keep ? 1 : 0, max_record, err, sizeof err);
    if (!s) return 99;
    sink k = {{0}, 0, 0};
    cl__jscan_on_record(s, collect_rec, &k);
    int rc = cl__jscan_feed(s, body, strlen(body), err, sizeof err);
    if (!rc) rc = cl__jscan_end(s, err, sizeof err);
    if (out) {
        ut_buf_reset(out);
        ut_buf_puts(out, ut_buf_cstr(&k.out));
        if (keep) {
            size_t n;
            const char *v = cl__jscan_value(s, 0, &n);
            ut_buf_printf(out, "keep=%s", v ? v : "(none)");
        }
    }
    ut_buf_free(&k.out);
    cl__jscan_destroy(s);
    return rc;
}

TEST(collect_jscan_shapes)
{
    ut_buf o = {0};
    CHECK(jscan1("", NULL, " [ {\"a\":1} , {\"b\":[]} ] ", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1}\n{\"b\":[]}\n");
    CHECK(jscan1("", NULL, "[]", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "");
    /* records null or absent: none; the kept value at the root */
    CHECK(jscan1("data", "id", "{\"data\":null,\"id\":123}", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "keep=123");
    CHECK(jscan1("data", "a.b", "{\"a\":{\"b\":{\"c\":[1, 2]}}}", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "keep={\"c\":[1, 2]}");
    CHECK(jscan1("data", "id", "{\"id\":null}", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "keep=(none)");
    /* the last of repeated keys wins; a path through an array matches nothing */
    CHECK(jscan1(NULL, "s", "{\"s\":\"one\",\"s\":\"two\",\"x\":[{\"s\":\"no\"}]}", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "keep=two");
    /* a whole scalar body */
    CHECK(jscan1(NULL, "", "  42 ", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "keep=42");
    /* a deep records path */
    CHECK(jscan1("a.b.c", NULL, "{\"a\":{\"x\":[],\"b\":{\"c\":[{\"r\":1}]}}}", &o, 1 << 20) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"r\":1}\n");
    ut_buf_free(&o);
}

TEST(collect_jscan_errors)
{
    const char *bad[] = {
        "", "{", "{\"data\":[{\"a\":1}]", "{\"data\":[{\"a\":1}]}x", "{\"data\":[1]}",
        "{\"data\":{}}", "{\"data\":\"x\"}", "{\"data\":[{\"a\":01}]}", "{\"a\":tru}",
        "{\"a\" 1}", "{\"a\":1,}", "[1,]", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12g4\"}", "{\"data\":[{\"a\":\"\xff\"}]}", "<html>", "{]", "[}",
        "{\"data\":[{\"a\":1}}]}", "\xef\xbb{}", "-", "1.", "1e",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = jscan1("data", NULL, bad[i], NULL, 1 << 20);
        CHECK_MSG(rc == CL__BAD, "'%s' gave %d", bad[i], rc);
    }
    CHECK(jscan1("data", NULL, "{\"data\":[1]}", NULL, 1 << 20) == CL__BAD);
    CHECK(strstr(err, "not a JSON object"));
    /* the record cap */
    CHECK(jscan1("data", NULL, "{\"data\":[{\"a\":\"0123456789\"}]}", NULL, 10) == CL__BAD);
    CHECK(strstr(err, "record cap"));
    /* nesting */
    ut_buf deep = {0};
    for (int i = 0; i < CL__MAX_DEPTH + 1; i++) ut_buf_putc(&deep, '[');
    CHECK(jscan1(NULL, NULL, ut_buf_cstr(&deep), NULL, 1 << 20) == CL__BAD);
    CHECK(strstr(err, "too deep"));
    ut_buf_free(&deep);
    /* a kept path that holds the records is refused */
    const char *kp[1] = {"data"};
    CHECK(cl__jscan_create("data.x", kp, 1, 100, err, sizeof err) == NULL);
    kp[0] = "a..b";
    CHECK(cl__jscan_create(NULL, kp, 1, 100, err, sizeof err) == NULL);
}

TEST(collect_jscan_stop)
{
    cl__jscan *s = cl__jscan_create("", NULL, 0, 1 << 20, err, sizeof err);
    sink k = {{0}, 2, 0};
    cl__jscan_on_record(s, collect_rec, &k);
    const char *b = "[{\"a\":1},{\"a\":2},{\"a\":3}]";
    CHECK(cl__jscan_feed(s, b, strlen(b), err, sizeof err) == CL__STOP);
    CHECK_EQ_INT(k.n, 2);
    ut_buf_free(&k.out);
    cl__jscan_destroy(s);
}

/* ---- CSV / TSV -------------------------------------------------------------- */

static int csv_run(char delim, const char *t, size_t len, size_t a, size_t b, ut_buf *out,
                   size_t max_record)
{
    sink k = {{0}, 0, 0};
    cl__csv *c = cl__csv_create(delim, max_record, collect_rec, &k);
    size_t cut[4] = {0, a, b, len};
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) rc = cl__csv_feed(c, t + cut[i], cut[i + 1] - cut[i], err, sizeof err);
    if (!rc) rc = cl__csv_end(c, err, sizeof err);
    ut_buf_reset(out);
    ut_buf_puts(out, ut_buf_cstr(&k.out));
    ut_buf_free(&k.out);
    cl__csv_destroy(c);
    return rc;
}

static const char CSV[] =
    "\xef\xbb\xbf" "date,name,,name,cost\r\n"
    "2022-09-10,\"UA, \"\"big\"\"\r\nline2\",x,,\"\"\r\n"
    "\r\n"
    "2022-09-11,caf\xc3\xa9 \"q\",,3,\"4\"\n"
    "2022-09-12,a\rb,c,d,e";

static const char CSV_RECS[] =
    "{\"date\":\"2022-09-10\",\"name\":\"UA, \\\"big\\\"\\r\\nline2\",\"column_3\":\"x\","
    "\"name_2\":null,\"cost\":\"\"}\n"
    "{\"date\":\"2022-09-11\",\"name\":\"caf\xc3\xa9 \\\"q\\\"\",\"column_3\":null,"
    "\"name_2\":3,\"cost\":\"4\"}\n"
    "{\"date\":\"2022-09-12\",\"name\":\"a\\rb\",\"column_3\":\"c\",\"name_2\":\"d\",\"cost\":\"e\"}\n";

TEST(collect_csv_every_split)
{
    ut_buf o = {0};
    size_t len = sizeof CSV - 1;
    for (size_t a = 0; a <= len; a++)
        for (size_t b = a; b <= len; b++) {
            int rc = csv_run(',', CSV, len, a, b, &o, 1 << 20);
            CHECK_MSG(rc == 0, "cut %zu/%zu: %s", a, b, err);
            CHECK_MSG(!strcmp(ut_buf_cstr(&o), CSV_RECS), "cut %zu/%zu:\n%s", a, b, ut_buf_cstr(&o));
        }
    ut_buf_free(&o);
}

#define CSV1(d, s, o) csv_run(d, s, strlen(s), 0, 0, o, 1 << 20)

/* Unquoted fields that are JSON numbers the lake keeps exactly become
 * numbers (the lake types them int64 / double); everything else stays text
 * (a CSV report's columns were all strings before). */
TEST(collect_csv_numbers)
{
    static const struct { const char *field, *json; } cases[] = {
        {"0", "0"}, {"-7", "-7"}, {"123456789012345678", "123456789012345678"},
        {"1234567890123456789", "\"1234567890123456789\""}, /* 19 digits: maybe not int64 */
        {"12.5", "12.5"}, {"-0.25", "-0.25"}, {"0.5", "0.5"},
        {"123456789.012345", "123456789.012345"},             /* 15 digits */
        {"1234567890.123456", "\"1234567890.123456\""},      /* 16: not exact as double */
        {"007", "\"007\""}, {"-", "\"-\""}, {"1.", "\"1.\""}, {".5", "\".5\""},
        {"1e5", "\"1e5\""}, {"+1", "\"+1\""}, {"1,5", NULL}, {" 1", "\" 1\""},
        {"1 ", "\"1 \""}, {"0x10", "\"0x10\""}, {"NaN", "\"NaN\""}, {"1.2.3", "\"1.2.3\""},
        {"--1", "\"--1\""}, {"\"42\"", "\"42\""},                /* quoted: text */
    };
    ut_buf o = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!cases[i].json) continue;
        char in[128], want[160];
        snprintf(in, sizeof in, "v\n%s\n", cases[i].field);
        snprintf(want, sizeof want, "{\"v\":%s}\n", cases[i].json);
        CHECK(CSV1(',', in, &o) == 0);
        CHECK_MSG(!strcmp(ut_buf_cstr(&o), want), "%s -> %s", cases[i].field, ut_buf_cstr(&o));
    }
    ut_buf_free(&o);
}

TEST(collect_csv_rules)
{
    ut_buf o = {0};
    CHECK(CSV1(',', "", &o) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "");
    CHECK(CSV1(',', "a,b\n", &o) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "");
    CHECK(CSV1(',', "a,b\n1,\n", &o) == 0); /* trailing delimiter: one more, empty */
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1,\"b\":null}\n");
    CHECK(CSV1(',', "a,b\n1,", &o) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1,\"b\":null}\n");
    CHECK(CSV1(',', "a,a,a_2\n1,2,3\n", &o) == 0); /* a rename never takes a name */
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1,\"a_2\":2,\"a_2_2\":3}\n");
    CHECK(CSV1(',', "\"a\"\"b\"\n\"\"\"\"\n", &o) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\\\"b\":\"\\\"\"}\n");
    /* rows of empty fields: null is longer than "" (fuzz_collect: the row
     * buffer was reserved for "" and overran it at some widths) */
    for (int w = 1; w <= 150; w++) {
        ut_buf t = {0};
        for (int i = 0; i < w; i++) /* key lengths that differ between widths */
            ut_buf_printf(&t, "%sc%d%.*s", i ? "," : "", i, (w * 7 + i) % 13, "xxxxxxxxxxxxx");
        ut_buf_putc(&t, '\n');
        for (int r = 0; r < 3; r++) {
            for (int i = 1; i < w; i++) ut_buf_putc(&t, ',');
            ut_buf_puts(&t, w == 1 ? "x\n" : "\n");
        }
        CHECK(CSV1(',', ut_buf_cstr(&t), &o) == 0);
        CHECK(w == 1 || strstr(ut_buf_cstr(&o), "\":null,\"c1"));
        ut_buf_free(&t);
    }
    /* TSV: quotes are data */
    CHECK(CSV1('\t', "d\tv\r\n\"x\"\t\n", &o) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"d\":\"\\\"x\\\"\",\"v\":null}\n");
    /* failures name the line */
    CHECK(CSV1(',', "a,b\n1,2\n\n1,2,3\n", &o) == CL__BAD);
    CHECK_EQ_STR(err, "line 4: 3 fields, the header has 2");
    CHECK(CSV1(',', "a,b\n\"x\ny\",2\n1\n", &o) == CL__BAD);
    CHECK_EQ_STR(err, "line 4: 1 fields, the header has 2");
    CHECK(CSV1(',', "a,b\n\"1,2\n", &o) == CL__BAD);
    CHECK(strstr(err, "not closed"));
    CHECK(CSV1(',', "a,b\n\"1\"x,2\n", &o) == CL__BAD);
    CHECK(strstr(err, "after a closing quote"));
    CHECK(CSV1(',', "a,b\n\"1\"\rx\n", &o) == CL__BAD);
    CHECK(csv_run(',', "abcde,fghij\n1,2\n", 16, 0, 0, &o, 8) == CL__BAD); /* the header's sum */
    CHECK(strstr(err, "header line is over"));
    CHECK(csv_run(',', "a\n0123456789\n", 13, 0, 0, &o, 8) == CL__BAD);
    CHECK(strstr(err, "cap"));
    ut_buf_free(&o);
}

/* ---- bodies: gzip, NDJSON ---------------------------------------------------- */

static void gz(ut_buf *out, const char *t, size_t n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    ut_buf_reserve(out, n + 128);
    z.next_in = (unsigned char *)t;
    z.avail_in = (uInt)n;
    z.next_out = out->p + out->len;
    z.avail_out = (uInt)(out->cap - out->len);
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    ut_buf_setlen(out, out->len + z.total_out);
    deflateEnd(&z);
}

static int body_run(cl_format f, const void *t, size_t len, size_t a, ut_buf *out, int *gzip)
{
    sink k = {{0}, 0, 0};
    cl__jscan *js = f == CL_FMT_JSON ? cl__jscan_create("", NULL, 0, 1 << 20, err, sizeof err) : NULL;
    cl__body *b = cl__body_create(f, js, 1 << 20, collect_rec, &k);
    int rc = cl__body_feed(b, t, a, err, sizeof err);
    if (!rc) rc = cl__body_feed(b, (const char *)t + a, len - a, err, sizeof err);
    if (!rc) rc = cl__body_end(b, err, sizeof err);
    if (gzip) *gzip = cl__body_gzip(b);
    ut_buf_reset(out);
    ut_buf_puts(out, ut_buf_cstr(&k.out));
    ut_buf_free(&k.out);
    cl__body_destroy(b);
    cl__jscan_destroy(js);
    return rc;
}

TEST(collect_body_gzip_ndjson)
{
    static const char nd[] = "{\"a\":1}\r\n\n  \n{\"b\":\"x\"}";
    ut_buf z = {0}, o = {0};
    gz(&z, nd, 10);
    gz(&z, nd + 10, sizeof nd - 11); /* two members */
    for (size_t a = 0; a <= z.len; a++) {
        int g = 0;
        CHECK_MSG(body_run(CL_FMT_NDJSON, z.p, z.len, a, &o, &g) == 0, "cut %zu: %s", a, err);
        CHECK(g == 1);
        CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1}\n{\"b\":\"x\"}\n");
    }
    for (size_t a = 0; a <= sizeof nd - 1; a++) {
        int g = 1;
        CHECK(body_run(CL_FMT_NDJSON, nd, sizeof nd - 1, a, &o, &g) == 0);
        CHECK(g == 0);
        CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1}\n{\"b\":\"x\"}\n");
    }
    /* truncated gzip, corrupt gzip, a bad NDJSON line */
    CHECK(body_run(CL_FMT_NDJSON, z.p, z.len - 3, 0, &o, NULL) == CL__BAD);
    CHECK(strstr(err, "ends early"));
    z.p[12] ^= 0x55;
    CHECK(body_run(CL_FMT_NDJSON, z.p, z.len, 0, &o, NULL) == CL__BAD);
    CHECK(body_run(CL_FMT_NDJSON, "{\"a\":1}\n[1]\n", 12, 0, &o, NULL) == CL__BAD);
    CHECK(strstr(err, "line 2"));
    /* a one-byte body */
    CHECK(body_run(CL_FMT_JSON, "[", 1, 1, &o, NULL) == CL__BAD);
    CHECK(body_run(CL_FMT_JSON, "\x1f", 1, 0, &o, NULL) == CL__BAD);
    /* a bad gzip trailer: what inflated before it is handed over, the same
     * in one piece as in two (fuzz_collect found the difference) */
    ut_buf_reset(&z);
    gz(&z, nd, sizeof nd - 1);
    z.p[z.len - 5] ^= 1; /* the length in the trailer */
    for (size_t a = 0; a <= z.len; a += z.len) {
        CHECK(body_run(CL_FMT_NDJSON, z.p, z.len, a, &o, NULL) == CL__BAD);
        CHECK_EQ_STR(ut_buf_cstr(&o), "{\"a\":1}\n");
    }
    /* gzip JSON */
    ut_buf_reset(&z);
    gz(&z, "[{\"k\":1}]", 9);
    CHECK(body_run(CL_FMT_JSON, z.p, z.len, 1, &o, NULL) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&o), "{\"k\":1}\n");
    ut_buf_free(&z);
    ut_buf_free(&o);
}

/* ---- headers, URLs, templates, secrets -------------------------------------- */

static const char *next_link(const char *v)
{
    static ut_buf o;
    ut_buf_reset(&o);
    int rc = cl__link_next(v, strlen(v), &o);
    return rc == 1 ? ut_buf_cstr(&o) : rc == 0 ? "(none)" : "(bad)";
}

TEST(collect_link_header)
{
    CHECK_EQ_STR(next_link("<https://a/x?page=2>; rel=\"next\", <https://a/x?page=5>; rel=\"last\""),
                 "https://a/x?page=2");
    CHECK_EQ_STR(next_link("<https://a/x?p=1>; rel=\"prev\", <https://a/x?p=3,4;5>; title=\"a, b; c\"; REL=NEXT"),
                 "https://a/x?p=3,4;5");
    CHECK_EQ_STR(next_link("</items?page=3>; rel=\"prev next\""), "/items?page=3");
    CHECK_EQ_STR(next_link("<a>; rel=\"nextpage\", <b>; rel=last"), "(none)");
    CHECK_EQ_STR(next_link(""), "(none)");
    CHECK_EQ_STR(next_link(" , <c>;rel=next"), "c");
    CHECK_EQ_STR(next_link("https://a/x; rel=next"), "(bad)");
    CHECK_EQ_STR(next_link("<https://a/x; rel=next"), "(bad)");
    CHECK_EQ_STR(next_link("<a>; rel=\"next"), "(bad)");
    CHECK_EQ_STR(next_link("<a> x"), "(bad)");
}

TEST(collect_retry_after)
{
    int64_t ms = -1;
    CHECK(cl__retry_after("120", 0, &ms) == 0 && ms == 120000);
    CHECK(cl__retry_after(" 2 \r\n", 0, &ms) == 0 && ms == 2000);
    CHECK(cl__retry_after("0", 0, &ms) == 0 && ms == 0);
    CHECK(cl__retry_after("99999999999999999999999", 0, &ms) == 0 && ms == CL__RETRY_AFTER_MAX_MS);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    CHECK(cl__retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, &ms) == 0 && ms == 10000);
    CHECK(cl__retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412477, &ms) == 0 && ms == 3000);
    CHECK(cl__retry_after("Wed Oct 21 07:28:00 2015", 1445412479, &ms) == 0 && ms == 1000);
    CHECK(cl__retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, &ms) == 0 && ms == 0);
    CHECK(cl__retry_after("Wed, 21 Oct 2035 07:28:00 GMT", 1445412490, &ms) == 0 &&
          ms == CL__RETRY_AFTER_MAX_MS);
    CHECK(cl__retry_after("", 0, &ms) == -1);
    CHECK(cl__retry_after("1.5", 0, &ms) == -1);
    CHECK(cl__retry_after("-3", 0, &ms) == -1);
    CHECK(cl__retry_after("soon", 0, &ms) == -1);
    CHECK(cl__retry_after("not a date at all", 0, &ms) == -1);
}

TEST(collect_url_encoding)
{
    ut_buf b = {0};
    cl__url_encode(&b, "a b&c=d/é~._-", strlen("a b&c=d/é~._-"));
    CHECK_EQ_STR(ut_buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9~._-");
    ut_buf_reset(&b);
    ut_buf_puts(&b, "http://h/p");
    cl__url_add_param(&b, "since", "2022-09-10");
    cl__url_add_param(&b, "q", "a&b");
    CHECK_EQ_STR(ut_buf_cstr(&b), "http://h/p?since=2022-09-10&q=a%26b");
    ut_buf_reset(&b);
    ut_buf_puts(&b, "http://h/p?x=1&#frag");
    cl__url_add_param(&b, "k", "v");
    CHECK_EQ_STR(ut_buf_cstr(&b), "http://h/p?x=1&k=v");
    CHECK(cl__url_has_param("http://h/p?access_token=x&a=1", "access_token"));
    CHECK(cl__url_has_param("http://h/p?a=1&key", "key"));
    CHECK(!cl__url_has_param("http://h/p?a=1&keys=2", "key"));
    CHECK(!cl__url_has_param("http://h/key=1", "key"));
    CHECK(cl__same_origin("http://127.0.0.1:80/a", "HTTP://127.0.0.1:80?x"));
    CHECK(!cl__same_origin("http://127.0.0.1:80/a", "http://127.0.0.1:81/a"));
    CHECK(!cl__same_origin("http://a.example/a", "https://a.example/a"));
    CHECK(!cl__same_origin("http://u@a/a", "http://u@a/a"));
    CHECK(cl__url_resolve("http://h:1/a/b?x=1", "../c?y=2", &b) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "http://h:1/c?y=2");
    CHECK(cl__url_resolve("http://h:1/a/b", "https://o/z", &b) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "https://o/z");
    CHECK(cl__url_resolve("http://h:1/a/b", "ftp://o/z", &b) == -1);
    ut_buf_free(&b);
}

TEST(collect_templates)
{
    cl__vars v = {.cursor = "a b/&\"", .report_id = "r1", .token = "T", .number = 3,
                  .offset = 200, .size = 100};
    ut_buf b = {0};
    CHECK(cl__subst(&b, "{{page.cursor}}|{{ page.number }}|{{page.offset}}|{{page.size}}|"
                        "{{report.id}}|{{auth.token}}|{{other}}|{{", &v, CL__ESC_NONE) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "a b/&\"|3|200|100|r1|T|{{other}}|{{");
    ut_buf_reset(&b);
    CHECK(cl__subst(&b, "http://h/r/{{report.id}}?c={{page.cursor}}", &v, CL__ESC_URL) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "http://h/r/r1?c=a%20b%2F%26%22");
    ut_buf_reset(&b);
    CHECK(cl__subst(&b, "{\"c\":\"{{page.cursor}}\"}", &v, CL__ESC_JSON) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "{\"c\":\"a b/&\\\"\"}");
    cl__vars empty = {0};
    ut_buf_reset(&b);
    CHECK(cl__subst(&b, "x{{page.cursor}}y", &empty, CL__ESC_URL) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&b), "xy");
    ut_buf_free(&b);
    ut_buf capped = {.max = 8};
    CHECK(cl__subst(&capped, "0123456789", &v, CL__ESC_NONE) == -1);
    ut_buf_free(&capped);
}

TEST(collect_redact)
{
    cl__secrets s = {0};
    cl__secrets_add(&s, "sk-live-1/2+3");
    cl__secrets_add_copy(&s, "ya29.TOKEN");
    cl__secrets_add(&s, "ab"); /* too short to cut */
    char m[200];
    snprintf(m, sizeof m, "GET http://h/?key=sk-live-1%%2F2%%2B3&t=ya29.TOKEN: 401 ya29.TOKEN ab");
    cl__redact(&s, m, sizeof m);
    CHECK_EQ_STR(m, "GET http://h/?key=[redacted]&t=[redacted]: 401 [redacted] ab");
    snprintf(m, sizeof m, "body excerpt ... ya29.TO");
    cl__redact(&s, m, sizeof m);
    CHECK_EQ_STR(m, "body excerpt ... [redacted]");
    /* no room: blanked */
    char small[16] = "x ya29.TOKEN y";
    cl__redact(&s, small, sizeof small);
    CHECK(!strstr(small, "ya29.TOKEN"));
    cl__secrets_free(&s);
}

/* ---- messages and specs ---------------------------------------------------- */

TEST(collect_fail_message_has_no_secret)
{
    cl_spec s = {.name = "fb_insights", .account = "acc01"};
    cl_hooks h = {0};
    cl_result res;
    memset(&res, 0, sizeof res);
    ut_error e = {0};
    cl__cx cx;
    memset(&cx, 0, sizeof cx);
    cx.s = &s, cx.h = &h, cx.res = &res, cx.e = &e;
    cl__secrets_add(&cx.sec, "EAAB/secret+token");
    cl__secrets_add_copy(&cx.sec, "ya29.a0Af-obtained");
    const char *url = "GET http://h/x?access_token=EAAB%2Fsecret%2Btoken&b=ya29.a0Af-obtained";
    CHECK(cl__fail(&cx, CL_SERVER, url + 4, "%s: HTTP 500: {\"echo\":\"EAAB/secret+token\"} ya29.a0A",
                   url) == -1);
    CHECK(res.kind == CL_SERVER && e.kind == UT_EIO);
    CHECK_MSG(!strstr(e.msg, "secret") && !strstr(e.msg, "ya29.a0A") && !strstr(res.url, "secret") &&
                  !strstr(res.url, "obtained"), "%s | %s", e.msg, res.url);
    CHECK_EQ_STR(e.msg, "collect fb_insights: account acc01: GET http://h/x?access_token=[redacted]&"
                        "b=[redacted]: HTTP 500: {\"echo\":\"[redacted]\"} [redacted]");
    CHECK_EQ_STR(res.url, "http://h/x?access_token=[redacted]&b=[redacted]");
    cl__secrets_free(&cx.sec);
}

/* cl_fetch on a spec it cannot use: CL_INVALID, UT_EINVAL, no request made
 * (the URL's port 1 would refuse anyway). */
static const char *invalid(const cl_spec *s)
{
    static ut_error e;
    cl_result r;
    memset(&e, 0, sizeof e);
    int rc = cl_fetch(s, NULL, NULL, &r, &e);
    if (rc != -1 || r.kind != CL_INVALID || e.kind != UT_EINVAL || r.calls != 0) return "(not refused)";
    return e.msg;
}

TEST(collect_fetch_refuses_bad_specs)
{
    cl_spec base = {.name = "j", .account = "a", .request = {.url = "http://127.0.0.1:1/x"},
                    .format = CL_FMT_JSON, .records = "data"};
    cl_spec s = base;
    s.request.url = NULL;
    CHECK(strstr(invalid(&s), "no URL"));
    s = base, s.request.url = "ftp://h/x";
    CHECK(strstr(invalid(&s), "not http"));
    s = base, s.request.method = "DELETE";
    CHECK(strstr(invalid(&s), "not GET or POST"));
    s = base, s.records = "a..b";
    CHECK(strstr(invalid(&s), "empty key"));
    s = base, s.page.type = CL_PAGE_CURSOR, s.page.path = "next";
    CHECK(strstr(invalid(&s), "no `param`"));
    s = base, s.page.type = CL_PAGE_NEXT_URL, s.page.path = "next", s.format = CL_FMT_CSV;
    CHECK(strstr(invalid(&s), "JSON bodies"));
    s = base, s.page.type = CL_PAGE_NEXT_URL, s.page.path = "data.next";
    CHECK(strstr(invalid(&s), "inside the records"));
    s = base, s.records = "a.b", s.page.type = CL_PAGE_CURSOR, s.page.path = "a", s.page.param = "c";
    CHECK(strstr(invalid(&s), "holds the records"));
    s = base, s.page.max_pages = CL_MAX_PAGES_CAP + 1;
    CHECK(strstr(invalid(&s), "max_pages"));
    s = base, s.max_record_bytes = (uint64_t)1 << 40;
    CHECK(strstr(invalid(&s), "64 MiB"));
    s = base, s.auth.type = CL_AUTH_OAUTH2, s.auth.refresh_token = "r";
    CHECK(strstr(invalid(&s), "token_url"));
    s = base, s.auth.type = CL_AUTH_HEADER, s.auth.token = "k";
    CHECK(strstr(invalid(&s), "no name"));
    s = base, s.auth.type = CL_AUTH_BEARER, s.auth.token = "tok\r\nX-Evil: 1";
    CHECK(strstr(invalid(&s), "line break"));
    s = base, s.request.headers[0] = (cl_kv){"X-A", "v\r\nX-Evil: 1"}, s.request.nheaders = 1;
    CHECK(strstr(invalid(&s), "line break"));
    s = base, s.request.headers[0] = (cl_kv){"X A", "v"}, s.request.nheaders = 1;
    CHECK(strstr(invalid(&s), "not a token"));
    s = base, s.is_async = 1, s.async.create.url = "http://127.0.0.1:1/c";
    s.async.status.url = "http://127.0.0.1:1/s";
    CHECK(strstr(invalid(&s), "id_path"));
    s = base, s.format = (cl_format)9;
    CHECK(strstr(invalid(&s), "unknown format"));
}

/* Rotated refresh tokens on disk (rotate.c): saved durably and found again
 * under the same (cache_key, configured token) only; a file that holds no
 * token counts as none. */
TEST(collect_rotated_refresh_tokens)
{
    char dir[] = "/tmp/sluice-rt-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    cl__rt rt;
    CHECK(cl__rt_begin(&rt, dir, "job/acc01", "1//first", err, sizeof err) == 0);
    CHECK_EQ_STR(rt.tok, "");
    CHECK(cl__rt_save(&rt, "1//second", 9, err, sizeof err) == 0);
    CHECK(cl__rt_save(&rt, "bad token", 9, err, sizeof err) == -1);
    CHECK(strstr(err, "not a token") != NULL);
    char path[sizeof rt.path];
    snprintf(path, sizeof path, "%s", rt.path);
    CHECK(strstr(path, "first") == NULL && strstr(path, "second") == NULL);
    cl__rt_end(&rt);
    CHECK(cl__rt_begin(&rt, dir, "job/acc01", "1//first", err, sizeof err) == 0);
    CHECK_EQ_STR(rt.tok, "1//second");
    cl__rt_end(&rt);
    CHECK(cl__rt_begin(&rt, dir, "job/acc02", "1//first", err, sizeof err) == 0);
    CHECK_EQ_STR(rt.tok, "");
    cl__rt_end(&rt);
    CHECK(cl__rt_begin(&rt, dir, "job/acc01", "1//again", err, sizeof err) == 0);
    CHECK_EQ_STR(rt.tok, "");
    cl__rt_end(&rt);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("not a token\n", f);
    fclose(f);
    CHECK(cl__rt_begin(&rt, dir, "job/acc01", "1//first", err, sizeof err) == 0);
    CHECK_EQ_STR(rt.tok, "");
    cl__rt_end(&rt);
    CHECK(cl__rt_begin(&rt, "/proc/nope", "k", "t", err, sizeof err) == -1);
    CHECK(strstr(err, "/proc/nope") != NULL);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}
