/* mask: each kind's output, the text forms refused with their reason, the
 * caps, and hash's promise (same value + same key = same text; another key
 * or value = another text; known HMAC-SHA256 vectors). */
#include "mask/mask.h"
#include "t.h"

#include <stdlib.h>
#include <string.h>

/* Apply spec (key "k") to v; the result in a static buffer, "<NULL>" or
 * "<ERR>: message". */
static const char *apply(const char *spec, const char *v)
{
    static char res[4096];
    ut_error e = {0};
    mk_mask *m = mk_create(spec, "k", 1, &e);
    if (!m) {
        snprintf(res, sizeof res, "<BAD>: %s", e.msg);
        return res;
    }
    ut_buf out = {0};
    int null = 0;
    if (mk_apply(m, v, v ? strlen(v) : 0, &out, &null, &e))
        snprintf(res, sizeof res, "<ERR>: %s", e.msg);
    else if (null) snprintf(res, sizeof res, "<NULL>");
    else snprintf(res, sizeof res, "%.*s", (int)out.len, out.len ? (const char *)out.p : "");
    ut_buf_free(&out);
    mk_destroy(m);
    return res;
}

TEST(mask_kinds)
{
    static const struct { const char *spec, *in, *want; } cases[] = {
        {"null", "ann@x.org", "<NULL>"},
        {"redact", "ann@x.org", "***"},
        {"redact:[gone]", "ann@x.org", "[gone]"},
        {"redact:", "ann", ""},
        {"truncate:3", "abcdef", "abc"},
        {"truncate:3", "ab", "ab"},
        {"truncate:0", "ab", ""},
        {"truncate:2", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t"}, /* characters, not bytes */
        {"truncate:2", "\xff\xfe\xfd", "\xff\xfe"}, /* a broken byte is one */
        {"email_domain", "ann@x.org", "x.org"},
        {"email_domain", "\"a@b\"@mail.x.org", "mail.x.org"},
        {"email_domain", "no-at-sign", "<NULL>"},
        {"email_domain", "trailing@", "<NULL>"},
        {"email_domain", "", "<NULL>"},
        {"regex:[0-9]=>#", "card 4111-1111", "card ####-####"},
        {"regex:([0-9]{4})-([0-9]{4})=>\\2/\\1", "4111-2222 x", "2222/4111 x"},
        {"regex:^a=>b", "aaa", "baa"}, /* ^ only at the start */
        {"regex:x*=>-", "abc", "-a-b-c-"}, /* empty matches */
        {"regex:@.*=>@\\\\0", "ann@x.org", "ann@\\0"}, /* \\ is a backslash */
        {"regex:a=>b=>c", "a", "b=>c"}, /* the first => splits */
        {"regex:zzz=>y", "abc", "abc"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(!strcmp(apply(cases[i].spec, cases[i].in), cases[i].want), "%s on %s: %s",
                  cases[i].spec, cases[i].in, apply(cases[i].spec, cases[i].in));
    /* NULL stays NULL whatever the mask */
    const char *all[] = {"hash", "redact", "truncate:1", "email_domain", "regex:a=>b"};
    for (int i = 0; i < 5; i++) CHECK_EQ_STR(apply(all[i], NULL), "<NULL>");
}

TEST(mask_hash_is_keyed_and_stable)
{
    /* RFC 4231 test case 2: key "Jefe", "what do ya want for nothing?" */
    ut_error e = {0};
    mk_mask *m = mk_create("hash", "Jefe", 4, &e);
    CHECK(m);
    ut_buf out = {0};
    int null = 1;
    const char *d = "what do ya want for nothing?";
    CHECK(mk_apply(m, d, strlen(d), &out, &null, &e) == 0 && !null);
    CHECK_EQ_STR(ut_buf_cstr(&out), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    mk_mask *m2 = mk_create("hash", "Jefe", 4, &e); /* another mask, same key: same text */
    ut_buf out2 = {0};
    CHECK(mk_apply(m2, d, strlen(d), &out2, &null, &e) == 0);
    CHECK_EQ_STR(ut_buf_cstr(&out2), ut_buf_cstr(&out));
    CHECK(strcmp(apply("hash", d), ut_buf_cstr(&out)) != 0); /* another key: another text */
    CHECK(mk_apply(m, "", 0, &out2, &null, &e) == 0 && !null && out2.len == 64); /* "" is a value */
    CHECK(mk_kind_of(m) == MK_HASH && !strcmp(mk_text(m), "hash"));
    ut_buf_free(&out);
    ut_buf_free(&out2);
    mk_destroy(m);
    mk_destroy(m2);
    mk_destroy(NULL);
}

TEST(mask_bad_forms)
{
    ut_error e = {0};
    CHECK(!mk_create("hash", NULL, 0, &e) && e.kind == UT_EINVAL && strstr(e.msg, "needs a key"));
    CHECK(strstr(apply("", "x"), "empty"));
    CHECK(strstr(apply("sha1", "x"), "unknown"));
    CHECK(strstr(apply("HASH", "x"), "unknown")); /* names are exact */
    CHECK(strstr(apply("null:1", "x"), "takes no argument"));
    CHECK(strstr(apply("truncate", "x"), "needs an argument"));
    CHECK(strstr(apply("truncate:", "x"), "whole number"));
    CHECK(strstr(apply("truncate:-1", "x"), "whole number"));
    CHECK(strstr(apply("truncate:+1", "x"), "whole number"));
    CHECK(strstr(apply("truncate:1x", "x"), "whole number"));
    CHECK(strstr(apply("truncate:99999999999999999999", "x"), "whole number"));
    CHECK(strstr(apply("regex:abc", "x"), "PATTERN=>REPLACEMENT"));
    CHECK(strstr(apply("regex:(=>x", "x"), "does not compile"));
    CHECK(strstr(apply("regex:(a)=>\\2", "x"), "1 group(s)"));
    /* repetitions glibc's regcomp would expand into gigabytes (fuzz_mask's
     * out-of-memory input) are refused; ordinary ones are not */
    CHECK(strstr(apply("regex:})+++++++++++++++++++++++++++++++=>x", "x"), "repeats too much"));
    CHECK(strstr(apply("regex:((a{100}){100})=>x", "x"), "repeats too much"));
    CHECK(strstr(apply("regex:a{100000}=>x", "x"), "repeats too much"));
    CHECK(strstr(apply("regex:a{9223372036854775807,}=>x", "x"), "repeats too much")); /* ubsan */
    CHECK_EQ_STR(apply("regex:[0-9]{12}([0-9]{4})=>************\\1", "4111111111111234"),
                 "************1234");
    CHECK_EQ_STR(apply("regex:a{2,}b+=>_", "xaaabbx"), "x_x");
    CHECK_EQ_STR(apply("regex:[]{]{5}=>_", "{{{{{"), "_");
    /* a search after a match sees the byte before it: ^, \< and \B
     * (each regexec once started at the match's end, as if a new string) */
    CHECK_EQ_STR(apply("regex:^a=>x", "aaa"), "xaa");
    CHECK_EQ_STR(apply("regex:\\<a=>x", "aa a"), "xa x");
    CHECK_EQ_STR(apply("regex:\\Ba=>x", "aaa"), "axx");
    CHECK_EQ_STR(apply("regex:\\ba=>x", "a,aa"), "x,xa");
    char big[MK_MAX_SPEC + 10];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "redact:", 7);
    CHECK(strstr(apply(big, "x"), "over 4096 bytes"));
    char key[MK_MAX_KEY + 1] = {0};
    CHECK(!mk_create("hash", key, sizeof key, &e) && strstr(e.msg, "key is over"));
}

TEST(mask_caps)
{
    ut_error e = {0};
    ut_buf out = {0};
    int null = 0;
    /* more than MK_MAX_MATCHES matches in one value */
    mk_mask *m = mk_create("regex:a=>b", NULL, 0, &e);
    CHECK(m);
    size_t n = MK_MAX_MATCHES + 1;
    char *v = malloc(n);
    memset(v, 'a', n);
    CHECK(mk_apply(m, v, n - 1, &out, &null, &e) == 0 && out.len == n - 1 && out.p[0] == 'b');
    CHECK(mk_apply(m, v, n, &out, &null, &e) == -1 && e.kind == UT_ETOOBIG);
    CHECK(strstr(e.msg, "more than 100000 matches"));
    CHECK(out.len == 0);
    mk_destroy(m);
    /* a result over MK_MAX_VALUE, from few matches of a long replacement */
    char spec[MK_MAX_SPEC];
    int l = snprintf(spec, sizeof spec, "regex:a=>");
    memset(spec + l, 'r', sizeof spec - (size_t)l - 1);
    spec[sizeof spec - 1] = 0;
    m = mk_create(spec, NULL, 0, &e);
    CHECK_MSG(m, "%s", e.msg);
    size_t rlen = strlen(spec) - (size_t)l, fit = MK_MAX_VALUE / rlen;
    CHECK(mk_apply(m, v, fit, &out, &null, &e) == 0 && out.len == fit * rlen);
    CHECK(mk_apply(m, v, fit + 1, &out, &null, &e) == -1 && e.kind == UT_ETOOBIG);
    CHECK_MSG(strstr(e.msg, "the result is over"), "%s", e.msg);
    CHECK(out.len == 0);
    mk_destroy(m);
    m = mk_create("redact", NULL, 0, &e);
    char *huge = malloc(MK_MAX_VALUE + 1);
    memset(huge, 'b', MK_MAX_VALUE + 1);
    CHECK(mk_apply(m, huge, MK_MAX_VALUE + 1, &out, &null, &e) == -1 && strstr(e.msg, "cap"));
    mk_destroy(m);
    /* a NUL inside a value: the search stops there, the rest is kept */
    m = mk_create("regex:b=>c", NULL, 0, &e);
    CHECK(mk_apply(m, "ab\0b", 4, &out, &null, &e) == 0 && out.len == 4 && !memcmp(out.p, "ac\0b", 4));
    mk_destroy(m);
    free(v);
    free(huge);
    ut_buf_free(&out);
}
