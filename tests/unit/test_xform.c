/* xform: every step's outcome, the step order, the predicate language
 * (grammar, types, missing keys, errors with their position), the caps, and
 * that unchanged records keep their exact bytes. */
#include "t.h"
#include "xform/xform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct spec_text {
    int lower;
    const char *rename[8]; /* "from=to" */
    const char *require[4], *drop_where[4], *keep_where[4], *drop[4];
    const char *set[4];    /* "key=value" */
} spec_text;

static int count(const char *const *v, int cap)
{
    int n = 0;
    while (n < cap && v[n]) n++;
    return n;
}

/* Split "a=b" entries into two arrays (static storage per call site use). */
static int split(const char *const *in, int cap, const char **a, const char **b, char store[][128])
{
    int n = count(in, cap);
    for (int i = 0; i < n; i++) {
        snprintf(store[i], 128, "%s", in[i]);
        char *eq = strchr(store[i], '=');
        *eq = 0;
        a[i] = store[i], b[i] = eq + 1;
    }
    return n;
}

static xf_program *compile(const spec_text *t, ut_error *e)
{
    static char rs[8][128], ss[4][128];
    static const char *rf[8], *rt[8], *sk[4], *sv[4];
    xf_spec s = {.lowercase_keys = t->lower};
    s.nrename = split(t->rename, 8, rf, rt, rs);
    s.rename_from = rf, s.rename_to = rt;
    s.nset = split(t->set, 4, sk, sv, ss);
    s.set_key = sk, s.set_value = sv;
    s.require = t->require, s.nrequire = count(t->require, 4);
    s.drop_where = t->drop_where, s.ndrop_where = count(t->drop_where, 4);
    s.keep_where = t->keep_where, s.nkeep_where = count(t->keep_where, 4);
    s.drop = t->drop, s.ndrop = count(t->drop, 4);
    return xf_compile(&s, e);
}

/* "KEEP", "DROP", "FAIL: msg", or the rewritten record. */
static const char *run(const spec_text *t, const char *rec)
{
    static char res[4096];
    ut_error e = {0};
    xf_program *x = compile(t, &e);
    if (!x) {
        snprintf(res, sizeof res, "BAD: %s", e.msg);
        return res;
    }
    xf_run *r = xf_run_create(x, 300, 0);
    const char *out = NULL;
    size_t n = 0;
    char msg[300] = "";
    xf_result k = xf_apply(r, rec, strlen(rec), &out, &n, msg, sizeof msg);
    if (k == XF_KEEP) snprintf(res, sizeof res, "KEEP");
    else if (k == XF_DROP) snprintf(res, sizeof res, "DROP");
    else if (k == XF_FAIL) snprintf(res, sizeof res, "FAIL: %s", msg);
    else snprintf(res, sizeof res, "%.*s", (int)n, out);
    xf_run_destroy(r);
    xf_destroy(x);
    return res;
}

#define EXPECT(t, rec, want)                                                                 \
    do {                                                                                     \
        const char *got_ = run(&(t), rec);                                                   \
        CHECK_MSG(!strcmp(got_, want), "%s: got %s, want %s", rec, got_, want);              \
    } while (0)

TEST(xform_steps)
{
    spec_text ren = {.rename = {"userId=user_id", "ts_ms=ts"}};
    EXPECT(ren, "{\"userId\":7,\"x\":\"a\\\"b\"}", "{\"user_id\":7,\"x\":\"a\\\"b\"}");
    EXPECT(ren, "{\"x\":1}", "KEEP"); /* nothing to rename: the same bytes */
    EXPECT(ren, "{\"userId\":1,\"user_id\":2}",
           "FAIL: rename 'userId' → 'user_id': the record has both keys");
    spec_text low = {.lower = 1};
    EXPECT(low, "{\"Cost\":1.5,\"MEDIA\":\"g\"}", "{\"cost\":1.5,\"media\":\"g\"}");
    EXPECT(low, "{\"cost\":1}", "KEEP");
    EXPECT(low, "{\"Cost\":1,\"cost\":2}", "FAIL: two keys are 'cost' ignoring case");
    spec_text drop = {.drop = {"debug", "_internal"}};
    EXPECT(drop, "{\"a\":1,\"debug\":{\"x\":[1,2]},\"b\":null}", "{\"a\":1,\"b\":null}");
    EXPECT(drop, "{\"debug\":1}", "{}");
    spec_text set = {.set = {"source=web", "version=2", "code=\"2\"", "flag=true"}};
    EXPECT(set, "{\"version\":1,\"a\":[1]}",
           "{\"version\":2,\"a\":[1],\"source\":\"web\",\"code\":\"2\",\"flag\":true}");
    spec_text req = {.require = {"user_id"}};
    EXPECT(req, "{\"user_id\":1}", "KEEP");
    EXPECT(req, "{\"x\":1}", "FAIL: required key 'user_id' is missing");
    EXPECT(req, "{\"user_id\":null}", "FAIL: required key 'user_id' is null");
    /* the order: lowercase, rename, require/filters, drop, set */
    spec_text all = {.lower = 1, .rename = {"uid=user_id"}, .require = {"user_id"},
                     .drop_where = {"is_test = true"}, .drop = {"is_test"},
                     .set = {"is_test=0"}};
    EXPECT(all, "{\"UID\":5,\"Is_Test\":false}", "{\"user_id\":5,\"is_test\":0}");
    EXPECT(all, "{\"UID\":5,\"IS_TEST\":true}", "DROP");
    EXPECT(all, "{\"is_test\":false}", "FAIL: required key 'user_id' is missing");
}

TEST(xform_predicates)
{
    static const struct { const char *pred, *rec, *want; } cases[] = {
        {"cost > 5", "{\"cost\":6}", "DROP"},
        {"cost > 5", "{\"cost\":5}", "KEEP"},
        {"cost > 5", "{\"cost\":5.5}", "DROP"},
        {"cost >= 5.5", "{\"cost\":5.5}", "DROP"},
        {"n = 9007199254740993", "{\"n\":9007199254740993}", "DROP"}, /* exact int64 */
        {"n = 9007199254740993", "{\"n\":9007199254740992}", "KEEP"},
        {"cost > 5", "{}", "KEEP"},                     /* missing: false */
        {"cost > 5", "{\"cost\":null}", "KEEP"},        /* null: false */
        {"cost != 5", "{}", "KEEP"},
        {"cost > 5", "{\"cost\":\"6\"}", "FAIL: key 'cost' is a string, compared with a number"},
        {"ev = 'debug'", "{\"ev\":\"debug\"}", "DROP"},
        {"ev = 'it''s'", "{\"ev\":\"it's\"}", "DROP"},
        {"ev < 'b'", "{\"ev\":\"a\\u00e9\"}", "DROP"},
        {"ev = 'debug'", "{\"ev\":\"debugx\"}", "KEEP"},
        {"ev in ('a', 'b', 3)", "{\"ev\":\"b\"}", "DROP"},
        {"ev in ('a', 'b')", "{\"ev\":\"c\"}", "KEEP"},
        {"ev IN (1, 2)", "{\"ev\":2}", "DROP"},
        {"t = true", "{\"t\":true}", "DROP"},
        {"t != true", "{\"t\":false}", "DROP"},
        {"t = true", "{\"t\":1}", "FAIL: key 't' is an int, compared with a boolean"},
        {"o = 1", "{\"o\":{\"a\":1}}", "FAIL: key 'o' is an object, compared with a number"},
        {"x exists", "{\"x\":null}", "DROP"},
        {"x missing", "{\"x\":null}", "KEEP"},
        {"x is null", "{\"x\":null}", "DROP"},
        {"x IS NOT NULL", "{\"x\":0}", "DROP"},
        {"x is null", "{}", "KEEP"},
        {"a = 1 and b = 2", "{\"a\":1,\"b\":2}", "DROP"},
        {"a = 1 and b = 2", "{\"a\":1,\"b\":3}", "KEEP"},
        {"a = 1 or b = 2 and c = 3", "{\"a\":1}", "DROP"}, /* and binds tighter */
        {"(a = 1 or b = 2) and c = 3", "{\"a\":1}", "KEEP"},
        {"not a = 1", "{\"a\":2}", "DROP"},
        {"a = 1 or s > 1", "{\"a\":1,\"s\":\"x\"}", "DROP"}, /* short-circuit */
        {"\"odd key\" = 1", "{\"odd key\":1}", "DROP"},
        {"\"say \"\"hi\"\"\" = 1", "{\"say \\\"hi\\\"\":1}", "DROP"},
        {"user.id = -3", "{\"user.id\":-3}", "DROP"},
        {"e = 1e3", "{\"e\":1000}", "DROP"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        spec_text t = {.drop_where = {cases[i].pred}};
        const char *got = run(&t, cases[i].rec);
        CHECK_MSG(!strcmp(got, cases[i].want), "%s on %s: got %s, want %s", cases[i].pred,
                  cases[i].rec, got, cases[i].want);
    }
    /* keep_where drops what does not hold; entries all hold (and) */
    spec_text keep = {.keep_where = {"env = 'prod'", "user_id exists"}};
    EXPECT(keep, "{\"env\":\"prod\",\"user_id\":1}", "KEEP");
    EXPECT(keep, "{\"env\":\"prod\"}", "DROP");
    EXPECT(keep, "{\"env\":\"dev\",\"user_id\":1}", "DROP");
    /* drop_where entries: any one drops (or) */
    spec_text any = {.drop_where = {"a = 1", "b = 1"}};
    EXPECT(any, "{\"b\":1}", "DROP");
    EXPECT(any, "{\"b\":2}", "KEEP");
}

TEST(xform_bad_specs)
{
    static const struct { const char *pred, *want; } cases[] = {
        {"", "empty condition"},
        {"cost", "expected an operator, in, exists, missing or is at character 5"},
        {"cost >", "expected a number, a 'string', true or false at character 7"},
        {"cost > 5 5", "expected and, or or the end at character 10"},
        {"cost = null", "compare with null by 'is null' / 'is not null' at character 8"},
        {"ev = 'open", "unterminated string at character 6"},
        {"t > true", "true and false compare with = and != only at character 9"},
        {"(a = 1", "expected ')' at character 7"},
        {"a = 1 and", "expected a key at character 10"},
        {"a in 1", "expected '(' after in at character 6"},
        {"a ~ 1", "unexpected character at character 3"},
        {"x is 1", "expected null after is at character 6"},
        {"n = 1e999", "number out of range at character 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char msg[300] = "";
        CHECK_MSG(xf_check_predicate(cases[i].pred, msg, sizeof msg) == -1, "%s accepted",
                  cases[i].pred);
        CHECK_MSG(!strcmp(msg, cases[i].want), "%s: got '%s'", cases[i].pred, msg);
    }
    /* caps: 64 nodes, 1024 characters */
    char big[4096] = "a = 1";
    for (int i = 0; i < 40; i++) strcat(big, " or a = 1");
    char msg[300];
    CHECK(xf_check_predicate(big, msg, sizeof msg) == -1 && strstr(msg, "more than 64 terms"));
    memset(big, 'a', 1100);
    big[1100] = 0;
    CHECK(xf_check_predicate(big, msg, sizeof msg) == -1 && strstr(msg, "longer than 1024"));
    spec_text none = {0};
    CHECK(!strcmp(run(&none, "{}"), "BAD: a transform needs at least one step"));
    spec_text dup = {.rename = {"a=x", "b=x"}};
    CHECK_MSG(strstr(run(&dup, "{}"), "BAD: rename: 'a' → 'x' and 'b' → 'x' collide") != NULL,
              "%s", run(&dup, "{}"));
    spec_text badp = {.keep_where = {"ok", "a ="}};
    CHECK_MSG(!strcmp(run(&badp, "{}"), "BAD: keep_where[0] 'ok': expected an operator, in, "
                                        "exists, missing or is at character 3"),
              "%s", run(&badp, "{}"));
}

TEST(xform_limits)
{
    /* a rewrite over max_record (300 in run()) fails the record */
    spec_text set = {.set = {"pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}};
    char rec[400];
    snprintf(rec, sizeof rec, "{\"a\":\"%0250d\"}", 0);
    const char *got = run(&set, rec);
    CHECK_MSG(strstr(got, "FAIL: the transformed record is") && strstr(got, "300-byte limit"),
              "%s", got);
    /* more keys than XF_MAX_FIELDS */
    ut_buf b = {0};
    ut_buf_putc(&b, '{');
    for (int i = 0; i <= XF_MAX_FIELDS; i++) ut_buf_printf(&b, "%s\"k%d\":1", i ? "," : "", i);
    ut_buf_putc(&b, '}');
    ut_error e = {0};
    const char *dw[] = {"k1 = 2"};
    xf_spec s = {.drop_where = dw, .ndrop_where = 1};
    xf_program *x = xf_compile(&s, &e);
    CHECK(x);
    xf_run *r = xf_run_create(x, 1 << 20, 0);
    const char *out;
    size_t n;
    char msg[300];
    CHECK(xf_apply(r, (const char *)b.p, b.len, &out, &n, msg, sizeof msg) == XF_FAIL);
    CHECK_MSG(strstr(msg, "more than 4096 keys"), "%s", msg);
    /* the run is reused: the next record is fine */
    CHECK(xf_apply(r, "{\"k1\":2}", 8, &out, &n, msg, sizeof msg) == XF_DROP);
    xf_run_destroy(r);
    xf_destroy(x);
    ut_buf_free(&b);
}
