#include "t.h"
#include "server/server.h"
#include "server/sv_int.h"

static char err[256];

/* Parse body with small limits; returns the status (0 = parsed). */
static int parse(const char *body, sv_batch *b)
{
    sv_limits lim = {4096, 1024, 4, 100};
    js_parser *p = js_parser_create(2048, 4);
    memset(b, 0, sizeof *b);
    int rc = sv_body_parse(p, body, strlen(body), NULL, &lim, b, err, sizeof err);
    js_parser_destroy(p);
    return rc;
}

TEST(body_array_malformed_element_keeps_the_rest)
{
    sv_batch b;
    CHECK_MSG(parse("[{\"id\":-3},{bad},{\"id\":-4}]", &b) == 0, "%s", err);
    CHECK(b.nrecords == 3 && b.nok == 2 && b.nbad == 1);
    CHECK(b.bad[0].index == 1 && b.bad[0].why == SV_REJ_INVALID_JSON);
    CHECK(b.ok[1].n == 9 && !memcmp(b.ok[1].p, "{\"id\":-4}", 9));
    sv_batch_free(&b);
}

TEST(body_array_every_element_accounted)
{
    sv_batch b;
    /* a string holding brackets and commas, a stray '}', an empty element, a scalar,
     * too deep, then data after ']' */
    CHECK(parse("[{\"s\":\"],{\\\"\"} , {\"a\":1}} ,, 7, [[[[[1]]]]], {\"z\":2} ] x", &b) == 0);
    CHECK_MSG(b.nrecords == 7 && b.nok == 2 && b.nbad == 5, "%d %d %d", b.nrecords, b.nok, b.nbad);
    CHECK(b.bad[0].index == 1 && b.bad[1].index == 2 && b.bad[2].index == 3);
    CHECK(b.bad[2].why == SV_REJ_NOT_OBJECT && b.bad[3].why == SV_REJ_TOO_DEEP);
    CHECK(b.bad[4].index == 6 && strstr(b.bad[4].msg, "after the array"));
    sv_batch_free(&b);
}

TEST(body_array_truncated_or_unterminated)
{
    sv_batch b;
    CHECK(parse("[{\"a\":1},{\"b\":2}", &b) == 0);
    CHECK(b.nok == 1 && b.nbad == 1 && strstr(b.bad[0].msg, "without ']'"));
    sv_batch_free(&b);
    CHECK(parse("[{\"a\":1},{\"b\":\"unterminated", &b) == 0);
    CHECK(b.nok == 1 && b.nbad == 1 && b.bad[0].index == 1);
    sv_batch_free(&b);
    CHECK(parse("[]", &b) == 400);
    sv_batch_free(&b);
    CHECK(parse(" [ ] ", &b) == 400);
    sv_batch_free(&b);
}

TEST(body_ndjson_depth_is_a_kind)
{
    sv_batch b;
    CHECK(parse("{\"a\":[[[[1]]]]}\n{\"deep\":\"depth in a string is fine\"}\n", &b) == 0);
    CHECK(b.nok == 1 && b.nbad == 1 && b.bad[0].why == SV_REJ_TOO_DEEP);
    sv_batch_free(&b);
}

TEST(body_array_mismatched_bracket_keeps_the_next_elements)
{
    sv_batch b;
    CHECK(parse("[{\"a\":[1}, {\"b\":2}]", &b) == 0);
    CHECK_MSG(b.nrecords == 2 && b.nok == 1 && b.nbad == 1, "%d %d %d", b.nrecords, b.nok, b.nbad);
    CHECK(b.bad[0].index == 0 && b.ok[0].n == 7 && !memcmp(b.ok[0].p, "{\"b\":2}", 7));
    sv_batch_free(&b);
    CHECK(parse("[{\"a\":1], {\"b\":2}, {\"c\":3}]", &b) == 0);
    CHECK(b.nrecords == 3 && b.nok == 2 && b.nbad == 1 && b.bad[0].index == 0);
    sv_batch_free(&b);
}

TEST(body_error_kinds_map_to_statuses)
{
    CHECK(sv__status_of(UT_EIO) == 503);
    CHECK(sv__status_of(UT_ELIMIT) == 429);
    CHECK(sv__status_of(UT_EEXISTS) == 409);
    CHECK(sv__status_of(UT_EINVAL) == 400);
    CHECK(sv__status_of(UT_ENOTFOUND) == 404);
}
