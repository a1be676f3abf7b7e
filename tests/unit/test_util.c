#include "t.h"
#include "journal/journal.h"
#include "util/util.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Every text the parser takes exactly comes back byte for byte from its
 * instant and layout; the instant is the one ut_ts_parse gives. */
TEST(util_ts_layout_round_trip)
{
    static const struct { const char *text; long long us; } ok[] = {
        {"2024-05-01T05:30:00+05:30", 1714521600000000LL},
        {"2024-05-01T00:00:00Z", 1714521600000000LL},
        {"2024-05-01T00:00:00-00:00", 1714521600000000LL},
        {"2024-05-01T00:00:00+00:00", 1714521600000000LL},
        {"2024-05-01T00:00:00.5Z", 1714521600500000LL},
        {"2024-05-01T00:00:00.123Z", 1714521600123000LL},
        {"2024-05-01T00:00:00.000Z", 1714521600000000LL},
        {"2024-05-01T00:00:00.000001Z", 1714521600000001LL},
        {"2024-05-01T00:00:00.123456Z", 1714521600123456LL},
        {"2024-05-01T00:00:00.123456000Z", 1714521600123456LL},
        {"2024-05-01T00:00:00.000000000+01:00", 1714518000000000LL},
        {"2024-05-01t00:00:00z", 1714521600000000LL},
        {"2024-05-01 00:00:00", 1714521600000000LL},
        {"2024-05-01 07:00:00.25+0700", 1714521600250000LL},
        {"2024-02-29T12:00:00Z", 1709208000000000LL},                  /* leap year */
        {"2024-03-01T01:00:00+02:00", 1709247600000000LL},             /* UTC: Feb 29 */
        {"2023-12-31T23:30:00-05:00", 1704083400000000LL},             /* UTC: next year */
        {"2024-01-01T00:15:00+05:30", 1704048300000000LL},             /* UTC: last year */
        {"2024-02-28T22:00:00-23:59", 1709243940000000LL},             /* UTC: Feb 29 */
        {"2016-12-31T23:59:60Z", 1483228800000000LL},                  /* leap second */
        {"2016-12-31T23:59:60.5+01:00", 1483225200500000LL},
        {"1969-12-31T23:59:59.999999Z", -1LL},
        {"0000-01-01T00:00:00+01:00", -62167222800000000LL},
        {"9999-12-31T23:59:59.999-01:00", 253402304399999000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *t = ok[i].text;
        int64_t us, us2;
        ut_ts_layout lay;
        int rc = ut_ts_parse_layout(t, strlen(t), &us, &lay);
        CHECK_MSG(rc == 0, "%s: %d", t, rc);
        CHECK(ut_ts_parse(t, strlen(t), &us2) == 0);
        CHECK_EQ_INT(us, us2);
        CHECK_MSG(us == ok[i].us, "%s: %lld", t, (long long)us);
        char out[UT_TS_TEXT_MAX];
        int n = ut_ts_render(out, us, &lay);
        CHECK_EQ_STR(out, t);
        CHECK_EQ_INT(n, strlen(t));
    }
    /* taken by ut_ts_parse, but the text is not kept: not exact (1) */
    static const char *inexact[] = {"2024-05-01T00:00:00.1234567Z", "2024-05-01T00:00:00.123456789+01:00",
                                    "2024-05-01T00:00:00.0000000000Z" /* 10 digits */};
    for (size_t i = 0; i < sizeof inexact / sizeof inexact[0]; i++) {
        int64_t us;
        ut_ts_layout lay;
        CHECK_MSG(ut_ts_parse_layout(inexact[i], strlen(inexact[i]), &us, &lay) == 1, "%s", inexact[i]);
        CHECK(ut_ts_parse(inexact[i], strlen(inexact[i]), &us) == 0);
    }
    static const char *bad[] = {"2024-05-01T00:00:00+05", "2024-05-01T00:00:00.Z", "2024-05-01",
                                "2024-05-01T24:00:00Z", "2024-05-01T00:00:00+24:00", "2023-02-29T00:00:00Z",
                                "2024-05-01T00:00:00 Z", "2024-05-01T00:00:00,5Z", "not a time"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us;
        ut_ts_layout lay;
        CHECK_MSG(ut_ts_parse_layout(bad[i], strlen(bad[i]), &us, &lay) == -1, "%s", bad[i]);
    }
    /* a layout renders any instant in its offset: crossing the day and year */
    int64_t us;
    ut_ts_layout lay;
    CHECK(ut_ts_parse_layout("2024-01-01T00:00:00.000-08:00", 29, &us, &lay) == 0);
    char out[UT_TS_TEXT_MAX];
    ut_ts_render(out, 1704067200000000LL, &lay); /* 2024-01-01T00:00:00Z */
    CHECK_EQ_STR(out, "2023-12-31T16:00:00.000-08:00");
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

/* The printf search ut_fmt_double had before its fast path: the reference. */
static int fmt_double_printf(char *out, double v)
{
    int from = v != 0 && fabs(v) < DBL_MIN ? 1 : 15;
    for (int prec = from; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v) return n;
    }
    return 0;
}

/* The fast path (m / 10^s) prints exactly what printf's search prints, for
 * decimals of every scale, random bit patterns and the range edges. */
TEST(util_fmt_double_fast_path_equals_printf)
{
    uint64_t x = 88172645463325252ull;
    char a[32], b[32];
    int bad = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        if (i % 3 == 0) { /* a random bit pattern */
            memcpy(&v, &x, sizeof v);
            if (isnan(v) || isinf(v)) continue;
        } else { /* a decimal: up to 17 digits, 0..17 places */
            static const double p10[18] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
                                           1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
            v = (double)(int64_t)(x % 100000000000000000ull) / p10[(x >> 57) % 18];
            if (x & 1) v = -v;
        }
        int na = ut_fmt_double(a, v), nb = fmt_double_printf(b, v);
        if (na != nb || strcmp(a, b)) {
            bad++;
            CHECK_MSG(0, "%.17g: fast %s, printf %s", v, a, b);
        }
    }
    static const double edges[] = {1e-4, 0.00010000000000000002, 9.999999999999999e-05, 1e15,
                                   999999999999999.0, 999999999999999.9, 1e14, 0.1, 0.5, 1,
                                   -1, 0, -0.0, 123456789012345.6, 12345678901234.56, 0.3,
                                   4.35, 2.675, 1.005, 9007199254740993.0, 0.001, 1e-5};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        ut_fmt_double(a, edges[i]);
        fmt_double_printf(b, edges[i]);
        CHECK_MSG(!strcmp(a, b), "%.17g: fast %s, printf %s", edges[i], a, b);
    }
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

/* p[len] == 0 after every operation, so p is always a C string. */
TEST(util_buf_always_terminated)
{
    ut_buf b = {0};
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    ut_buf_put(&b, "abc", 3);
    CHECK_EQ_INT(b.len, 3);
    CHECK_EQ_STR((char *)b.p, "abc");
    ut_buf_putc(&b, 'd');
    CHECK_EQ_STR((char *)b.p, "abcd");
    ut_buf_puts(&b, "ef");
    CHECK_EQ_STR((char *)b.p, "abcdef");
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ut_buf_printf(&b, "%s", big); /* the long path: formatted in place */
    CHECK_EQ_INT(b.len, 6 + 599);
    CHECK_EQ_INT(b.p[b.len], 0);
    ut_buf_put_le32(&b, 0x01020304);
    CHECK_EQ_INT(b.p[b.len], 0);
    ut_buf_put_le64(&b, 0x0102030405060708ull);
    CHECK_EQ_INT(b.len, 605 + 12);
    CHECK_EQ_INT(b.p[605 + 4], 8);
    CHECK_EQ_INT(b.p[b.len], 0);
    ut_buf_put_uvarint(&b, UINT64_MAX);
    CHECK_EQ_INT(b.len, 617 + 10);
    CHECK_EQ_INT(b.p[b.len], 0);
    ut_buf_truncate(&b, 2);
    CHECK_EQ_STR((char *)b.p, "ab");
    ut_buf_truncate(&b, 10); /* longer: no change */
    CHECK_EQ_INT(b.len, 2);
    ut_buf_reset(&b);
    CHECK_EQ_STR(ut_buf_cstr(&b), "");
    /* a direct writer may fill up to cap and still terminate */
    CHECK(ut_buf_reserve(&b, 100) == 0);
    CHECK(b.cap >= 100);
    memset(b.p, 'y', b.cap);
    ut_buf_setlen(&b, b.cap);
    CHECK_EQ_INT(b.p[b.cap], 0);
    CHECK_EQ_INT(strlen((char *)b.p), b.cap);
    /* growing keeps the terminator too */
    for (int i = 0; i < 5000; i++) ut_buf_putc(&b, 'z');
    CHECK_EQ_INT(strlen((char *)b.p), b.len);
    ut_buf_put(&b, "", 0);
    CHECK_EQ_INT(b.p[b.len], 0);
    ut_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
    ut_buf_put(&b, "", 0); /* an empty write still makes p a string */
    CHECK(b.p != NULL);
    CHECK_EQ_STR((char *)b.p, "");
    ut_buf_free(&b);
}

/* An explicit max refuses writes past it (nothing written, over set,
 * reserve says -1); reset clears over and keeps max. */
TEST(util_buf_max)
{
    ut_buf b = {0};
    b.max = 10;
    ut_buf_put(&b, "0123456789", 10);
    CHECK_EQ_INT(b.len, 10);
    CHECK(!ut_buf_over(&b));
    ut_buf_putc(&b, 'x');
    CHECK_EQ_INT(b.len, 10);
    CHECK(ut_buf_over(&b));
    CHECK_EQ_STR((char *)b.p, "0123456789");
    ut_buf_reset(&b);
    CHECK(!ut_buf_over(&b));
    CHECK_EQ_INT(b.max, 10);
    ut_buf_put(&b, "abc", 3);
    ut_buf_put(&b, "0123456789", 10); /* all or nothing */
    CHECK_EQ_INT(b.len, 3);
    CHECK(ut_buf_over(&b));
    CHECK_EQ_STR((char *)b.p, "abc");
    ut_buf_reset(&b);
    ut_buf_printf(&b, "%d-%d", 1234, 56789); /* 10: fits */
    CHECK(!ut_buf_over(&b));
    CHECK_EQ_STR((char *)b.p, "1234-56789");
    ut_buf_reset(&b);
    ut_buf_printf(&b, "%s", "this is far more than ten bytes");
    CHECK(ut_buf_over(&b));
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_INT(b.p[0], 0);
    CHECK(ut_buf_reserve(&b, 11) == -1);
    CHECK(ut_buf_reserve(&b, 10) == 0);
    CHECK(b.cap <= 10); /* never allocates past the cap */
    CHECK(ut_buf_reserve(&b, SIZE_MAX) == -1); /* no overflow in len + n */
    ut_buf_put_uvarint(&b, UINT64_MAX);        /* 10 bytes: fits exactly */
    CHECK_EQ_INT(b.len, 10);
    ut_buf_put_uvarint(&b, 1);
    CHECK_EQ_INT(b.len, 10);
    ut_buf_free(&b);
    CHECK_EQ_INT(b.max, 10);
    CHECK(!ut_buf_over(&b));
}

/* Past the default cap (max 0) is a caller's bug: the process aborts with
 * a message instead of overflowing len + n. */
TEST(util_buf_default_cap_aborts)
{
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        ut_buf b = {0};
        ut_buf_put(&b, "x", 1);
        ut_buf_reserve(&b, SIZE_MAX);
        _exit(0);
    }
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

/* One validator for every kind of name: lengths at the edge, reserved
 * suffixes and words, case, dots, unicode, NUL and control bytes. */
TEST(util_name_rules)
{
    char n64[65], n65[66], n127[128];
    memset(n64, 'a', 64), n64[64] = 0;
    memset(n65, 'a', 65), n65[65] = 0;
    memset(n127, 't', 127), n127[127] = 0;
    char err[256];
    /* empty */
    for (int k = 0; k < UT_NAME_KIND_COUNT; k++) {
        CHECK(!ut_name_ok((ut_namekind)k, ""));
        CHECK(!ut_name_ok((ut_namekind)k, NULL));
        CHECK(ut_name_check((ut_namekind)k, "x", 0, err, sizeof err) < 0);
        CHECK(strstr(err, "empty"));
        CHECK(ut_name_ok((ut_namekind)k, "a"));
        CHECK(ut_name_ok((ut_namekind)k, "Events_2024")); /* case: both allowed */
        CHECK(ut_name_max((ut_namekind)k) <= UT_NAME_MAX);
    }
    /* 64 / 65 */
    CHECK(ut_name_ok(UT_NAME_STREAM, n64));
    CHECK(!ut_name_ok(UT_NAME_STREAM, n65));
    CHECK(ut_name_check(UT_NAME_STREAM, n65, 65, err, sizeof err) < 0);
    CHECK(strstr(err, "stream name") && strstr(err, "longer than 64"));
    CHECK(ut_name_ok(UT_NAME_GROUP, n64) && !ut_name_ok(UT_NAME_GROUP, n65));
    CHECK(ut_name_ok(UT_NAME_CONSUMER, n64) && !ut_name_ok(UT_NAME_CONSUMER, n65));
    CHECK(ut_name_ok(UT_NAME_CONNECTION, n64) && !ut_name_ok(UT_NAME_CONNECTION, n65));
    CHECK(ut_name_ok(UT_NAME_TABLE, n65) && ut_name_ok(UT_NAME_TABLE, n127));
    char n128[129];
    memset(n128, 't', 128), n128[128] = 0;
    CHECK(ut_name_check(UT_NAME_TABLE, n128, 128, err, sizeof err) < 0);
    CHECK(strstr(err, "\xe2\x80\xa6")); /* a long name is shown cut */
    CHECK(strlen(err) < 200);
    /* reserved suffixes: a stream's companions are journal names, not streams */
    CHECK(!ut_name_ok(UT_NAME_STREAM, "ev.errors"));
    CHECK(ut_name_check(UT_NAME_STREAM, "ev.dlq", 6, err, sizeof err) < 0);
    CHECK(strstr(err, ".dlq") && strstr(err, "reserved"));
    CHECK(ut_name_ok(UT_NAME_STREAM, "ev.errors2"));
    CHECK(ut_name_ok(UT_NAME_STREAM, "errors"));
    CHECK(ut_name_ok(UT_NAME_JOURNAL, "ev.errors"));
    char companion[80];
    snprintf(companion, sizeof companion, "%s.errors", n64); /* the longest stream's */
    CHECK(ut_name_ok(UT_NAME_JOURNAL, companion));
    CHECK(!ut_name_ok(UT_NAME_CURSOR, "sink.tmp"));
    CHECK(ut_name_ok(UT_NAME_CONSUMER, "sink.tmp"));
    /* reserved words, any case */
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "main"));
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "TEMP"));
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "Lake")); /* the lake tables' schema */
    CHECK(ut_name_ok(UT_NAME_CONNECTION, "maintenance"));
    CHECK(ut_name_ok(UT_NAME_TABLE, "main"));
    /* dots and dashes */
    CHECK(ut_name_ok(UT_NAME_STREAM, "a.b-c"));
    CHECK(ut_name_ok(UT_NAME_STREAM, "a..b"));
    CHECK(!ut_name_ok(UT_NAME_STREAM, "."));
    CHECK(!ut_name_ok(UT_NAME_STREAM, ".."));
    CHECK(!ut_name_ok(UT_NAME_STREAM, ".hidden"));
    CHECK(!ut_name_ok(UT_NAME_TABLE, "-rf"));
    CHECK(!ut_name_ok(UT_NAME_GROUP, "-g"));
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "pg.prod"));
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "pg-prod"));
    CHECK(!ut_name_ok(UT_NAME_CONNECTION, "1pg"));
    CHECK(ut_name_ok(UT_NAME_CONNECTION, "_pg1"));
    CHECK(ut_name_ok(UT_NAME_STREAM, "1st"));
    /* paths, spaces, quotes */
    CHECK(!ut_name_ok(UT_NAME_STREAM, "a/b"));
    CHECK(!ut_name_ok(UT_NAME_TABLE, "../etc"));
    CHECK(!ut_name_ok(UT_NAME_TABLE, "a b"));
    CHECK(!ut_name_ok(UT_NAME_TABLE, "a\"b"));
    CHECK(ut_name_check(UT_NAME_GROUP, "g$x", 3, err, sizeof err) < 0);
    CHECK_EQ_STR(err, "group name 'g$x' is not valid: '$' at byte 2 is not allowed; use A-Z a-z "
                      "0-9 _ . -");
    /* unicode, NUL, control bytes: never part of a name, shown escaped */
    CHECK(!ut_name_ok(UT_NAME_STREAM, "caf\xc3\xa9"));
    CHECK(ut_name_check(UT_NAME_STREAM, "a\0b", 3, err, sizeof err) < 0);
    CHECK(strstr(err, "'a\\x00b'") && strstr(err, "byte 2"));
    CHECK(ut_name_check(UT_NAME_JOB, "j\nk", 3, err, sizeof err) < 0);
    CHECK(strstr(err, "job name 'j\\x0ak'"));
    CHECK(!strchr(err, '\n'));
    CHECK_EQ_STR(ut_name_kind(UT_NAME_CURSOR), "consumer");
    CHECK_EQ_INT(ut_name_max(UT_NAME_JOURNAL), 71);
}

/* The modules use the one validator: the journal opens the longest
 * stream's .errors companion (71 bytes; it refused names over 64, so a
 * 64-byte stream could not keep its rejected records), cursors refuse a
 * name that is another cursor's temp file, the catalog names its rule. */
TEST(util_name_call_sites)
{
    char dir[600], err[512], n64[65], companion[80];
    snprintf(dir, sizeof dir, "%s/names", t_tmpdir());
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    memset(n64, 's', 64), n64[64] = 0;
    snprintf(companion, sizeof companion, "%s.errors", n64);
    jr_stream *s = jr_stream_open(dir, companion, NULL, err, sizeof err);
    CHECK_MSG(s, "%s", err);
    uint64_t off = 0;
    CHECK(jr_cursor_commit(s, "sink", 0, err, sizeof err) == 0);
    CHECK(jr_cursor_commit(s, "sink.tmp", 0, err, sizeof err) < 0);
    CHECK(jr_cursor_get(s, "sink.tmp", &off, err, sizeof err) < 0);
    jr_stream_close(s);
    CHECK(jr_stream_open(dir, "-x", NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "stream name '-x' is not valid"));
    CHECK(jr_stream_open(dir, "caf\xc3\xa9", NULL, err, sizeof err) == NULL);
}

/* Issue: mkdir's EEXIST was taken for success even when the path was a plain
 * file, so a lake sink whose temp dir was a file started ("running") and
 * failed every landing; now that is an error naming the path. */
TEST(util_mkdir_p_refuses_a_file)
{
    char dir[600], file[700], below[800], err[512];
    snprintf(dir, sizeof dir, "%s/mkd/a/b", t_tmpdir());
    CHECK_MSG(ut_mkdir_p(dir, err, sizeof err) == 0, "%s", err);
    CHECK_MSG(ut_mkdir_p(dir, err, sizeof err) == 0, "%s", err); /* exists: fine */
    snprintf(file, sizeof file, "%s/f", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fclose(f);
    err[0] = 0;
    CHECK_EQ_INT(ut_mkdir_p(file, err, sizeof err), -1);
    CHECK_MSG(strstr(err, file) && strstr(err, "not a directory"), "%s", err);
    snprintf(below, sizeof below, "%s/c", file); /* a file in the middle of the path */
    CHECK_EQ_INT(ut_mkdir_p(below, err, sizeof err), -1);
    CHECK_MSG(strstr(err, file), "%s", err);
}

/* ut_tmp_create / ut_tmp_gc: a file a living writer holds is kept, even
 * under a name whose pid is gone (a writer in another pid namespace or on
 * another machine); a writer killed -9 loses its lock and its file is
 * collected; an unlocked file of a living pid only once stale. */
TEST(util_tmp_files_of_gone_writers_are_collected)
{
    char dir[600], err[256], path[4400], moved[4400];
    snprintf(dir, sizeof dir, "%s/util_tmp", t_tmpdir());
    CHECK(ut_mkdir_p(dir, err, sizeof err) == 0);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t child = fork();
    if (child == 0) { /* a worker writing its staging file until killed */
        char p[4400], e2[256];
        int fd = ut_tmp_create(dir, "sl-", "run7", ".ndjson", p, sizeof p, e2, sizeof e2);
        if (fd < 0 || write(fd, "{}\n", 3) != 3 || write(pfd[1], p, sizeof p) != sizeof p)
            _exit(1);
        pause();
        _exit(0);
    }
    CHECK(read(pfd[0], path, sizeof path) == (ssize_t)sizeof path);
    CHECK(strstr(path, "/sl-") && strstr(path, "-run7.ndjson"));
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 0); /* its writer lives */
    CHECK(access(path, F_OK) == 0);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 1);
    CHECK(access(path, F_OK) != 0);
    /* ours, held, renamed to the dead child's pid: the lock keeps it */
    int fd = ut_tmp_create(dir, "sl-", "x", ".ndjson", path, sizeof path, err, sizeof err);
    CHECK_MSG(fd >= 0, "%s", err);
    snprintf(moved, sizeof moved, "%s/sl-%ld-99-x.ndjson", dir, (long)child);
    CHECK(rename(path, moved) == 0);
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 0);
    CHECK(access(moved, F_OK) == 0);
    close(fd); /* the writer is done without unlinking: now it is garbage */
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 1);
    /* unlocked, of a living pid (ours): kept until not written for stale_ms */
    snprintf(moved, sizeof moved, "%s/sl-%ld-98-y.ndjson", dir, (long)getpid());
    FILE *f = fopen(moved, "w");
    CHECK(f);
    if (f) fclose(f);
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 0);
    struct timespec old[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
    CHECK(utimensat(AT_FDCWD, moved, old, 0) == 0);
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 3600 * 1000), 1);
    /* other names are not ours to collect */
    snprintf(moved, sizeof moved, "%s/run-1-%ld.ndjson", dir, (long)child);
    f = fopen(moved, "w");
    if (f) fclose(f);
    CHECK_EQ_INT(ut_tmp_gc(dir, "sl-", 0), 0);
    close(pfd[0]);
    close(pfd[1]);
}

/* ut_json_str into a capped buffer that cannot take the string: nothing
 * written past the cap, `over` set (it used to write the opening quote after
 * a refused reserve: past the allocation, or through NULL). */
TEST(util_json_str_capped_buffer)
{
    ut_buf b = {.max = 4};
    ut_json_str(&b, "abcdefgh", 8);
    CHECK(ut_buf_over(&b));
    CHECK(b.len <= 4);
    ut_buf_free(&b);
    ut_buf c = {.max = 8};
    ut_buf_puts(&c, "12345678");
    ut_json_str(&c, "x", 1);
    CHECK(ut_buf_over(&c));
    CHECK_EQ_INT(c.len, 8);
    CHECK_EQ_STR(ut_buf_cstr(&c), "12345678");
    ut_buf_free(&c);
}

TEST(util_time_of_day_and_wall_clock_texts)
{
    char out[40];
    struct {
        int64_t us;
        const char *text;
    } t[] = {{0, "00:00:00"},
             {1, "00:00:00.000001"},
             {43200500000LL, "12:00:00.500000"},
             {86399999999LL, "23:59:59.999999"},
             {UT_TIME_MAX_US, "24:00:00"}};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int n = ut_time_format(out, t[i].us);
        CHECK_EQ_STR(out, t[i].text);
        CHECK_EQ_INT(n, (int)strlen(t[i].text));
        int64_t us = -7;
        CHECK_EQ_INT(ut_time_parse(t[i].text, strlen(t[i].text), &us), 0);
        CHECK_EQ_INT(us, t[i].us);
    }
    ut_time_format(out, -1); /* out of range: the integer, never a time's text */
    CHECK_EQ_STR(out, "-1");
    ut_time_format(out, UT_TIME_MAX_US + 1);
    CHECK_EQ_STR(out, "86400000001");
    int64_t us;
    CHECK_EQ_INT(ut_time_parse("12:30", 5, &us), -1);
    CHECK_EQ_INT(ut_time_parse("12:30:00.5", 10, &us), 0);
    CHECK_EQ_INT(us, 45000500000LL);
    const char *bad[] = {"24:00:00.000001", "25:00:00", "12:60:00", "12:00:60", "12:00:00.",
                         "12:00:00.1234567", "12:00:00Z", "1:00:00", "12-00-00", "12:00:0a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(ut_time_parse(bad[i], strlen(bad[i]), &us) == -1, "'%s' parsed", bad[i]);
    CHECK_EQ_INT(ut_ts_format_ntz(out, 1714566600123456LL), 26);
    CHECK_EQ_STR(out, "2024-05-01T12:30:00.123456");
    ut_ts_format_ntz(out, -1000000);
    CHECK_EQ_STR(out, "1969-12-31T23:59:59");
}

/* ---- ut_scrub: secrets cut from a stream, at every split of the input ---- */

static int scrub_collect(void *ctx, const void *p, size_t n)
{
    ut_buf_put(ctx, p, n);
    return 0;
}

/* in through a fresh scrubber of needles, fed in two pieces split at k. */
static char *scrub_split(const char *const *needles, const char *in, size_t k, uint64_t *cuts)
{
    ut_scrub *s = ut_scrub_create("[x]");
    for (int i = 0; needles[i]; i++) ut_scrub_add(s, needles[i], strlen(needles[i]));
    ut_buf out = {0};
    size_t n = strlen(in);
    ut_scrub_feed(s, in, k, scrub_collect, &out);
    ut_scrub_feed(s, in + k, n - k, scrub_collect, &out);
    ut_scrub_end(s, scrub_collect, &out);
    *cuts = ut_scrub_cuts(s);
    ut_scrub_destroy(s);
    char *r = ut_strdup(ut_buf_cstr(&out));
    ut_buf_free(&out);
    return r;
}

TEST(util_scrub_every_split)
{
    const char *needles[] = {"EAABsecret", "EAABsecretLONGER", "tok%2Fen", "short", NULL};
    const struct { const char *in, *want; uint64_t cuts; } cases[] = {
        {"", "", 0},
        {"no secrets here", "no secrets here", 0},
        {"EAABsecret", "[x]", 1},
        {"a=EAABsecret&b=EAABsecretLONGER.", "a=[x]&b=[x].", 2}, /* the longest wins */
        {"EAABsecreEAABsecret", "EAABsecre[x]", 1},               /* a false start first */
        {"x?t=tok%2Fen", "x?t=[x]", 1},
        {"shorts stay (under 6 bytes)", "shorts stay (under 6 bytes)", 0},
        {"EAABsecretEAABsecret", "[x][x]", 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = strlen(cases[c].in);
        for (size_t k = 0; k <= n; k++) {
            uint64_t cuts = 0;
            char *got = scrub_split(needles, cases[c].in, k, &cuts);
            if (strcmp(got, cases[c].want) || cuts != cases[c].cuts)
                fprintf(stderr, "case %zu split %zu: got '%s' (%llu cuts)\n", c, k, got,
                        (unsigned long long)cuts);
            CHECK_EQ_STR(got, cases[c].want);
            CHECK(cuts == cases[c].cuts);
            free(got);
        }
    }
}

TEST(util_scrub_big_stream)
{
    /* 3 MiB of text with a secret every 100 kB, fed in odd pieces; no needle
     * passes the stream unchanged (no copy, no carry) */
    ut_scrub *s = ut_scrub_create("R");
    CHECK(ut_scrub_add(s, "SECRET-VALUE", 12) == 0);
    CHECK(ut_scrub_add(s, "tiny", 4) == 0 && ut_scrub_count(s) == 1); /* ignored */
    ut_buf in = {0}, out = {0};
    for (int i = 0; i < 30; i++) {
        for (int j = 0; j < 100000 / 10; j++) ut_buf_puts(&in, "abcdefghi\n");
        ut_buf_puts(&in, "SECRET-VALUE");
    }
    for (size_t off = 0; off < in.len;) {
        size_t k = 1 + (off * 7919) % 70000;
        if (k > in.len - off) k = in.len - off;
        CHECK(ut_scrub_feed(s, in.p + off, k, scrub_collect, &out) == 0);
        off += k;
    }
    CHECK(ut_scrub_end(s, scrub_collect, &out) == 0);
    CHECK(ut_scrub_cuts(s) == 30);
    CHECK(out.len == in.len - 30 * 11);
    CHECK(memmem(out.p, out.len, "SECRET", 6) == NULL);
    ut_scrub_destroy(s);
    ut_scrub *none = ut_scrub_create("R");
    ut_buf same = {0};
    CHECK(ut_scrub_feed(none, in.p, in.len, scrub_collect, &same) == 0);
    CHECK(same.len == in.len && !memcmp(same.p, in.p, in.len));
    ut_scrub_destroy(none);
    ut_buf_free(&in), ut_buf_free(&out), ut_buf_free(&same);
}
