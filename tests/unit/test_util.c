#include "t.h"
#include "util/util.h"

#include <math.h>

TEST(util_ts_roundtrip)
{
    int64_t us;
    char out[40];
    CHECK(ut_ts_parse("2024-05-01T12:34:56Z", 20, &us) == 0);
    CHECK_EQ_INT(us, 1714566896000000LL);
    ut_ts_format(out, us);
    CHECK_EQ_STR(out, "2024-05-01T12:34:56Z");
    CHECK(ut_ts_parse("2024-05-01 12:34:56.5+02:00", 27, &us) == 0);
    ut_ts_format(out, us);
    CHECK_EQ_STR(out, "2024-05-01T10:34:56.500000Z");
    CHECK(ut_ts_parse("1969-12-31T23:59:59.999999Z", 27, &us) == 0);
    CHECK_EQ_INT(us, -1);
    ut_ts_format(out, us);
    CHECK_EQ_STR(out, "1969-12-31T23:59:59.999999Z");
    ut_ts_format_fixed(out, 1714566896000000LL);
    CHECK_EQ_STR(out, "2024-05-01T12:34:56.000000Z");
    ut_ts_format_fixed(out, -1);
    CHECK_EQ_STR(out, "1969-12-31T23:59:59.999999Z");
    CHECK(ut_ts_parse("2024-02-30T00:00:00Z", 20, &us) == -1);
    CHECK(ut_ts_parse("2024-05-01T12:34:56X", 20, &us) == -1);
    CHECK(ut_ts_parse("hello", 5, &us) == -1);
}

TEST(util_date)
{
    int32_t d;
    char out[24];
    CHECK(ut_date_parse("1970-01-02", 10, &d) == 0);
    CHECK_EQ_INT(d, 1);
    CHECK(ut_date_parse("2000-02-29", 10, &d) == 0);
    ut_date_format(out, d);
    CHECK_EQ_STR(out, "2000-02-29");
    CHECK(ut_date_parse("1900-02-29", 10, &d) == -1);
}

TEST(util_fmt_double_shortest)
{
    char out[32];
    ut_fmt_double(out, 1.1);
    CHECK_EQ_STR(out, "1.1");
    ut_fmt_double(out, 0.1 + 0.2);
    CHECK_EQ_STR(out, "0.30000000000000004");
    ut_fmt_double(out, NAN);
    CHECK_EQ_STR(out, "nan");
    ut_fmt_double(out, -INFINITY);
    CHECK_EQ_STR(out, "-inf");
    ut_fmt_float(out, 1.1f);
    CHECK_EQ_STR(out, "1.1");
    ut_fmt_double(out, 5e-324); /* subnormal: shortest, not 15 digits */
    CHECK_EQ_STR(out, "5e-324");
    ut_fmt_float(out, 1e-45f);
    CHECK_EQ_STR(out, "1e-45");
}

TEST(util_buf_varint)
{
    ut_buf b = {0};
    ut_buf_put_uvarint(&b, 300);
    CHECK_EQ_INT(b.len, 2);
    CHECK_EQ_INT(b.p[0], 0xAC);
    CHECK_EQ_INT(b.p[1], 0x02);
    ut_buf_printf(&b, "%s-%d", "x", 5);
    CHECK_EQ_INT(b.len, 5);
    ut_buf_free(&b);
}
