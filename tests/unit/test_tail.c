/* tail: record parsers and line assembly. */
#include "t.h"
#include "tail/tail.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

static const char *parse(tl_format f, const char *pat, const char *line, int *ok)
{
    static ut_buf b;
    static ut_error e;
    tl_parser *p = tl_parser_create(f, pat, &e);
    if (!p) return e.msg;
    ut_buf_reset(&b);
    ut_buf_putc(&b, '{');
    *ok = tl_parse(p, line, strlen(line), &b);
    ut_buf_putc(&b, '}');
    tl_parser_destroy(p);
    return ut_buf_cstr(&b);
}

TEST(tail_parse_combined)
{
    int ok;
    const char *r = parse(TL_NGINX, NULL,
                          "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif?x=\\\"1 HTTP/1.0\" "
                          "200 2326 \"http://ex/\" \"Mozilla/4.08\"", &ok);
    CHECK(ok);
    CHECK_EQ_STR(r, "{\"remote_addr\":\"127.0.0.1\",\"remote_user\":\"frank\",\"time_local\":"
                    "\"10/Oct/2000:13:55:36 -0700\",\"event_time\":\"2000-10-10T20:55:36Z\","
                    "\"request\":\"GET /a.gif?x=\\\\\\\"1 HTTP/1.0\",\"method\":\"GET\",\"path\":"
                    "\"/a.gif?x=\\\\\\\"1\",\"protocol\":\"HTTP/1.0\",\"status\":200,"
                    "\"body_bytes_sent\":2326,\"http_referer\":\"http://ex/\",\"http_user_agent\":"
                    "\"Mozilla/4.08\"}");
    /* common log format (no referer / agent), '-' bytes */
    r = parse(TL_COMBINED, NULL, "::1 - - [01/Jan/2026:00:00:00 +0000] \"-\" 400 - ", &ok);
    CHECK(ok);
    CHECK(strstr(r, "\"status\":400,\"body_bytes_sent\":0") != NULL);
    CHECK(strstr(r, "remote_user") == NULL);
    r = parse(TL_COMBINED, NULL, "not a log line", &ok);
    CHECK(!ok);
    CHECK_EQ_STR(r, "{\"message\":\"not a log line\"}");
    r = parse(TL_COMBINED, NULL, "1.2.3.4 - - [bad] \"GET / HTTP/1.1\" 2x0 1", &ok);
    CHECK(!ok);
}

TEST(tail_parse_json_plain)
{
    int ok;
    CHECK_EQ_STR(parse(TL_JSON, NULL, " {\"a\": 1, \"b\":[2]} ", &ok), "{\"a\": 1, \"b\":[2]}");
    CHECK(ok);
    CHECK_EQ_STR(parse(TL_JSON, NULL, "{}", &ok), "{}");
    CHECK(ok);
    CHECK_EQ_STR(parse(TL_JSON, NULL, "[1]", &ok), "{\"message\":\"[1]\"}");
    CHECK(!ok);
    CHECK_EQ_STR(parse(TL_JSON, NULL, "{\"a\":", &ok), "{\"message\":\"{\\\"a\\\":\"}");
    CHECK_EQ_STR(parse(TL_PLAIN, NULL, "tab\there", &ok), "{\"message\":\"tab\\there\"}");
}

TEST(tail_parse_regex)
{
    int ok;
    const char *pat = "^(?P<level>[A-Z]+) \\[(?<mod>[^]]*)\\] (?:id=([0-9]+) )?(?P<msg>.*)$";
    CHECK_EQ_STR(parse(TL_REGEX, pat, "WARN [db] id=7 slow query", &ok),
                 "{\"level\":\"WARN\",\"mod\":\"db\",\"msg\":\"slow query\"}");
    CHECK(ok);
    CHECK_EQ_STR(parse(TL_REGEX, pat, "lower case", &ok), "{\"message\":\"lower case\"}");
    CHECK(!ok);
    ut_error e;
    CHECK(tl_parser_create(TL_REGEX, "(a", &e) == NULL);
    CHECK(tl_parser_create(TL_REGEX, "(a)", &e) == NULL && strstr(e.msg, "named"));
    CHECK(tl_parser_create(TL_REGEX, "(?=x)", &e) == NULL);
    CHECK(tl_parser_create(TL_REGEX, "[abc", &e) == NULL);
}

typedef struct got {
    char text[8][256];
    uint64_t start[8], end[8];
    int cut[8], n;
} got;

static void take(void *arg, const char *t, size_t n, uint64_t s, uint64_t e, int cut)
{
    got *g = arg;
    if (g->n >= 8) return;
    snprintf(g->text[g->n], 256, "%.*s", (int)n, t);
    g->start[g->n] = s, g->end[g->n] = e, g->cut[g->n] = cut;
    g->n++;
}

TEST(tail_lines_partial_and_cut)
{
    got g = {0};
    tl_lines *l = tl_lines_create(8, NULL, 100);
    tl_lines_feed(l, "ab\r\ncd", 6, take, &g);
    CHECK_EQ_INT(g.n, 1);
    CHECK_EQ_STR(g.text[0], "ab");
    CHECK_EQ_INT(g.start[0], 100);
    CHECK_EQ_INT(g.end[0], 104);
    CHECK(tl_lines_pending(l));
    tl_lines_feed(l, "e\n0123456789abc", 15, take, &g); /* the partial line completes */
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_STR(g.text[1], "cde");
    tl_lines_feed(l, "def\nz", 5, take, &g);
    CHECK_EQ_INT(g.n, 3);
    CHECK_EQ_STR(g.text[2], "01234567");
    CHECK(g.cut[2]);
    CHECK_EQ_INT(g.end[2], 100 + 4 + 4 + 17);
    CHECK_EQ_INT(tl_lines_cut(l), 1);
    tl_lines_flush(l, 0, take, &g);
    CHECK_EQ_INT(g.n, 3); /* a partial line is not flushed ... */
    tl_lines_flush(l, 1, take, &g);
    CHECK_EQ_INT(g.n, 4); /* ... unless the file is finished */
    CHECK_EQ_STR(g.text[3], "z");
    tl_lines_destroy(l);
}

TEST(tail_lines_multiline)
{
    regex_t re;
    CHECK(regcomp(&re, "^[0-9]", REG_EXTENDED | REG_NOSUB) == 0);
    got g = {0};
    tl_lines *l = tl_lines_create(12, &re, 0);
    const char *in = "1 boom\n at a\n at b\n2 ok\n3 x\n";
    tl_lines_feed(l, in, strlen(in), take, &g);
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_STR(g.text[0], "1 boom\n at a");
    CHECK(g.cut[0]); /* over 12 bytes */
    CHECK_EQ_INT(g.end[0], 19);
    CHECK_EQ_STR(g.text[1], "2 ok");
    CHECK_EQ_INT(g.start[1], 19);
    tl_lines_flush(l, 0, take, &g); /* the timeout: the held record goes */
    CHECK_EQ_INT(g.n, 3);
    CHECK_EQ_STR(g.text[2], "3 x");
    tl_lines_destroy(l);
    regfree(&re);
}
