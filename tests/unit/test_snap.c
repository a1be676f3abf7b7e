/* snap: the COPY text row parser (fields, NULL, every escape, malformed
 * rows refused) and sn_convert (each class's text form, values with no
 * lake form reported as 1, text that is not of the class as -1). */
#include "snap/snap.h"
#include "t.h"

#include <stdio.h>
#include <string.h>

/* Split s; the fields joined by '|' ("<N>" for NULL), or "<ERR>: msg". */
static const char *split(const char *s)
{
    static char out[1024];
    char line[512], *v[8], err[200];
    size_t n[8], len = strlen(s), o = 0;
    memcpy(line, s, len + 1);
    int nf = sn_copy_split(line, len, v, n, 8, err, sizeof err);
    if (nf < 0) {
        snprintf(out, sizeof out, "<ERR>: %s", err);
        return out;
    }
    out[0] = 0;
    for (int i = 0; i < nf; i++) {
        if (i) out[o++] = '|';
        if (!v[i]) o += (size_t)snprintf(out + o, sizeof out - o, "<N>");
        else for (size_t k = 0; k < n[i]; k++) {
            unsigned char c = (unsigned char)v[i][k];
            o += (size_t)(c < 0x20 || c == 0x7f ? snprintf(out + o, sizeof out - o, "{%02x}", c)
                                                : snprintf(out + o, sizeof out - o, "%c", c));
        }
    }
    out[o] = 0;
    return out;
}

TEST(snap_copy_split)
{
    static const struct { const char *in, *want; } cases[] = {
        {"a\tb\tc\n", "a|b|c"},
        {"a\t\\N\t\n", "a|<N>|"},            /* NULL, then an empty field */
        {"\\\\N\n", "\\N"},                   /* an escaped backslash + N is text */
        {"x\\N\n", "xN"},                     /* \N inside a field is N */
        {"b\\tc\\nd\\re\\\\f\n", "b{09}c{0a}d{0d}e\\f"},
        {"\\b\\f\\v\n", "{08}{0c}{0b}"},
        {"\\101\\60\\0x\n", "A0{00}x"},       /* octal, 1-3 digits */
        {"\\x41\\x4\\xg\n", "A{04}xg"},       /* hex, 1-2 digits; \x without one is x */
        {"\\\\x0a1b\n", "\\x0a1b"},           /* bytea's hex form */
        {"\\q\n", "q"},                       /* any other \c is c */
        {"\n", ""},
        {"no newline", "no newline"},
        {"\t\n", "|"},
        {"Zo\xc3\xab\n", "Zo\xc3\xab"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_MSG(!strcmp(split(cases[i].in), cases[i].want), "'%s': got '%s', want '%s'",
                  cases[i].in, split(cases[i].in), cases[i].want);
    CHECK(strstr(split("a\\"), "lone backslash") != NULL);
    CHECK(strstr(split("1\t2\t3\t4\t5\t6\t7\t8\t9\n"), "more than 8 fields") != NULL);
}

static int conv(sn_class c, const char *s, sn_value *v)
{
    char err[200];
    ut_buf *b = v->bytes;
    memset(v, 0, sizeof *v);
    v->bytes = b;
    return sn_convert(c, s, strlen(s), v, err, sizeof err);
}

TEST(snap_convert)
{
    sn_value v = {0};
    ut_buf b = {0};
    v.bytes = &b;
    CHECK(conv(SN_BOOL, "t", &v) == 0 && v.i == 1);
    CHECK(conv(SN_BOOL, "f", &v) == 0 && v.i == 0);
    CHECK(conv(SN_BOOL, "yes", &v) < 0);
    CHECK(conv(SN_INT32, "-2147483648", &v) == 0 && v.i == INT32_MIN);
    CHECK(conv(SN_INT32, "2147483648", &v) < 0);
    CHECK(conv(SN_INT64, "-9223372036854775808", &v) == 0 && v.i == INT64_MIN);
    CHECK(conv(SN_INT64, "9223372036854775808", &v) < 0);
    CHECK(conv(SN_INT64, "12x", &v) < 0);
    CHECK(conv(SN_INT64, "", &v) < 0);
    CHECK(conv(SN_DOUBLE, "-1.7976931348623157e+308", &v) == 0 && v.d == -1.7976931348623157e308);
    CHECK(conv(SN_DOUBLE, "Infinity", &v) == 0 && v.d > 1e308);
    CHECK(conv(SN_DOUBLE, "NaN", &v) == 0 && v.d != v.d);
    CHECK(conv(SN_DECIMAL, "-123.45", &v) == 0 && v.n == 7);
    CHECK(conv(SN_DECIMAL, "NaN", &v) == 1);
    CHECK(conv(SN_DECIMAL, "-Infinity", &v) == 1);
    CHECK(conv(SN_DECIMAL, "1.2.3", &v) < 0);
    CHECK(conv(SN_DECIMAL, "12345", &v) == 0); /* not a 5-digit year */
    CHECK(conv(SN_DATE, "2024-02-29", &v) == 0 && v.i == 19782);
    CHECK(conv(SN_DATE, "0001-01-01", &v) == 0 && v.i == -719162);
    CHECK(conv(SN_DATE, "infinity", &v) == 1);
    CHECK(conv(SN_DATE, "-infinity", &v) == 1);
    CHECK(conv(SN_DATE, "0044-03-15 BC", &v) == 1);
    CHECK(conv(SN_DATE, "10000-01-01", &v) == 1);
    CHECK(conv(SN_DATE, "0000-00-00", &v) == 1);
    CHECK(conv(SN_DATE, "2024-13-01", &v) < 0);
    CHECK(conv(SN_TIME, "00:00:00", &v) == 0 && v.i == 0);
    CHECK(conv(SN_TIME, "23:59:59.999999", &v) == 0 && v.i == 86399999999LL);
    CHECK(conv(SN_TIME, "24:00:00", &v) == 0 && v.i == 86400000000LL);
    CHECK(conv(SN_TIME, "24:00:01", &v) == 1); /* MySQL's TIME: a duration */
    CHECK(conv(SN_TIME, "24:60:00", &v) < 0);
    CHECK(conv(SN_TIME, "12:00:00.5", &v) == 0 && v.i == 43200500000LL);
    CHECK(conv(SN_TIMESTAMP, "2024-05-01 12:00:00.5+00", &v) == 0 && v.i == 1714564800500000LL);
    CHECK(conv(SN_TIMESTAMP, "infinity", &v) == 1);
    CHECK(conv(SN_TIMESTAMP, "0001-01-01 00:00:00+00", &v) == 0);
    CHECK(conv(SN_TIMESTAMP, "2000-01-01 00:00:00+00 BC", &v) == 1);
    CHECK(conv(SN_TIMESTAMP_NTZ, "2023-01-01 01:00:00", &v) == 0 && v.i == 1672534800000000LL);
    CHECK(conv(SN_BYTES, "\\x00ff10", &v) == 0 && v.n == 3 && (unsigned char)v.p[1] == 0xff);
    CHECK(conv(SN_BYTES, "\\x", &v) == 0 && v.n == 0);
    CHECK(conv(SN_BYTES, "\\x0", &v) < 0);
    CHECK(conv(SN_BYTES, "\\xzz", &v) < 0);
    CHECK(conv(SN_STRING, "anything", &v) == 0 && v.n == 8);
    ut_buf_free(&b);
}

/* What MySQL / MariaDB send (src/snap/mysql.c). */
TEST(snap_convert_mysql)
{
    sn_value v = {0};
    ut_buf b = {0};
    v.bytes = &b;
    CHECK(conv(SN_BOOL, "1", &v) == 0 && v.i == 1);
    CHECK(conv(SN_BOOL, "0", &v) == 0 && v.i == 0);
    CHECK(conv(SN_TIME, "838:59:59", &v) == 1);
    CHECK(conv(SN_TIME, "-838:59:59.000000", &v) == 1);
    CHECK(conv(SN_TIME, "-00:00:01", &v) == 1);
    CHECK(conv(SN_TIME, "-12:30:00.5", &v) == 1);
    CHECK(conv(SN_TIME, "100:00:00", &v) == 1);
    CHECK(conv(SN_TIME, "23:59:59.500000", &v) == 0 && v.i == 86399500000LL);
    CHECK(conv(SN_TIME, "-1:00:00", &v) < 0);    /* MySQL prints two hour digits at least */
    CHECK(conv(SN_TIME, "100:61:00", &v) < 0);
    CHECK(conv(SN_TIME, "100:00:00.", &v) < 0);
    CHECK(conv(SN_TIME, "100:00:00.1234567", &v) < 0);
    CHECK(conv(SN_TIME, "12345:00:00", &v) < 0);
    CHECK(conv(SN_TIME, "-", &v) < 0);
    CHECK(conv(SN_DATE, "0000-00-00", &v) == 1);
    CHECK(conv(SN_DATE, "2024-05-00", &v) == 1);
    CHECK(conv(SN_DATE, "2024-00-01", &v) == 1);
    CHECK(conv(SN_DATE, "0000-01-01", &v) == 1);
    CHECK(conv(SN_DATE, "1000-01-01", &v) == 0 && v.i == -354285);
    CHECK(conv(SN_TIMESTAMP_NTZ, "0000-00-00 00:00:00", &v) == 1);
    CHECK(conv(SN_TIMESTAMP_NTZ, "0000-00-00 00:00:00.000000", &v) == 1);
    CHECK(conv(SN_TIMESTAMP_NTZ, "2024-02-00 10:00:00", &v) == 1);
    CHECK(conv(SN_TIMESTAMP, "0000-00-00 00:00:00", &v) == 1);
    CHECK(conv(SN_TIMESTAMP, "2038-01-19 03:14:07.999999", &v) == 0 &&
          v.i == 2147483647999999LL);
    CHECK(conv(SN_TIMESTAMP_NTZ, "9999-12-31 23:59:59.999999", &v) == 0);
    CHECK(conv(SN_DECIMAL, "18446744073709551615", &v) == 0 && v.n == 20);
    CHECK(conv(SN_INT32, "2155", &v) == 0 && v.i == 2155); /* YEAR */
    static const char raw[] = {0, 'a', (char)0xff, 0};
    char err[100];
    CHECK(sn_convert(SN_BINARY, raw, 4, &v, err, sizeof err) == 0 && v.p == raw && v.n == 4);
    CHECK(sn_convert(SN_BINARY, raw, 0, &v, err, sizeof err) == 0 && v.n == 0);
    CHECK(!strcmp(sn_class_name(SN_BINARY), "binary"));
    ut_buf_free(&b);
}

TEST(snap_match)
{
    CHECK(sn_match("shop.*", "shop.orders"));
    CHECK(!sn_match("shop.*", "shopx.orders"));
    CHECK(sn_match("*.orders", "a.orders"));
    CHECK(!sn_match("shop.orders", "shop.Orders")); /* no case folding */
    CHECK(sn_match("shop.ord?rs", "shop.orders"));
}

/* The cursor's condition after a `where` that ends in a comment is not in
 * the comment; names and values are quoted (a quote in either doubled). */
TEST(snap_where_after_a_comment)
{
    ut_buf b = {0};
    sn_where_after(&b, "deleted_at IS NULL -- soft deletes", "up\"d", "it's");
    const char *w = ut_buf_cstr(&b), *c = strstr(w, "--");
    CHECK(c != NULL);
    const char *nl = c ? strchr(c, '\n') : NULL;
    CHECK_MSG(nl && strstr(nl, ") AND \"up\"\"d\" > 'it''s'"), "where: %s", w);
    ut_buf_reset(&b);
    sn_where_after(&b, "", "c", "1");
    CHECK_MSG(!strcmp(ut_buf_cstr(&b), "\"c\" > '1'"), "where: %s", ut_buf_cstr(&b));
    ut_buf_free(&b);
}
