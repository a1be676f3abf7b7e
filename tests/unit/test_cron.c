/* src/cron: schedule text, next/previous fires in zones with DST, TZif and
 * POSIX TZ rules, windows.  Zone files come from /usr/share/zoneinfo (tzdata,
 * a build dependency); synthesized TZif bytes test the parser's edges. */
#include "t.h"
#include "cron/cr_int.h"
#include "cron/cron.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* ---- helpers --------------------------------------------------------------- */

static int64_t T(const char *s)
{
    int64_t t = 0;
    if (ut_ts_parse(s, strlen(s), &t)) abort();
    return t;
}

/* RFC 3339 UTC text of t, "none" for the sentinels (a ring of buffers). */
static const char *S(int64_t t)
{
    static char ring[8][40];
    static int k;
    char *b = ring[k++ % 8];
    if (t == CR_NO_NEXT || t == CR_NO_PREV) return strcpy(b, "none");
    ut_ts_format(b, t);
    return b;
}

static cr_zone *Z(const char *name)
{
    char err[512];
    cr_zone *z = cr_zone_load(name, err, sizeof err);
    if (!z) {
        printf("  cannot load %s: %s\n", name, err);
        abort();
    }
    return z;
}

static cr_schedule *P(const char *text)
{
    char err[512];
    cr_schedule *s = cr_parse(text, err, sizeof err);
    if (!s) {
        printf("  cannot parse %s: %s\n", text, err);
        abort();
    }
    return s;
}

/* The message cr_parse gives for text ("" when it parses). */
static const char *parse_err(const char *text)
{
    static char err[512];
    cr_schedule *s = cr_parse(text, err, sizeof err);
    if (s) {
        cr_schedule_destroy(s);
        return "";
    }
    return err;
}

static const char *every_err(const char *text)
{
    static char err[512];
    cr_schedule *s = cr_parse_every(text, err, sizeof err);
    if (s) {
        cr_schedule_destroy(s);
        return "";
    }
    return err;
}

/* n successive cr_next from t, as "a b c". */
static const char *nexts(const char *sched, const char *zone, const char *from, int n)
{
    static char out[1024];
    cr_schedule *s = P(sched);
    cr_zone *z = zone ? Z(zone) : NULL;
    int64_t t = T(from);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        t = cr_next(s, z, t);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", S(t));
    }
    cr_zone_destroy(z);
    cr_schedule_destroy(s);
    return out;
}

static const char *prevs(const char *sched, const char *zone, const char *from, int n)
{
    static char out[1024];
    cr_schedule *s = P(sched);
    cr_zone *z = zone ? Z(zone) : NULL;
    int64_t t = T(from);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        t = cr_prev(s, z, t);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", S(t));
    }
    cr_zone_destroy(z);
    cr_schedule_destroy(s);
    return out;
}

/* ---- schedule text ------------------------------------------------------------ */

TEST(cron_parse_field_forms)
{
    cr_schedule *s = P("* * * * *");
    CHECK(s->minutes == ((uint64_t)1 << 60) - 1);
    CHECK_EQ_INT(s->hours, (1u << 24) - 1);
    CHECK_EQ_INT(s->mdays, 0xfffffffeu);
    CHECK_EQ_INT(s->months, 0x1ffe);
    CHECK_EQ_INT(s->wdays, 0x7f);
    CHECK(s->dom_star && s->dow_star);
    cr_schedule_destroy(s);
    s = P("5 1,2,13 1-5 */4 0-6/2");
    CHECK(s->minutes == (uint64_t)1 << 5);
    CHECK_EQ_INT(s->hours, 1u << 1 | 1u << 2 | 1u << 13);
    CHECK_EQ_INT(s->mdays, 0x3e);
    CHECK_EQ_INT(s->months, 1 << 1 | 1 << 5 | 1 << 9);
    CHECK_EQ_INT(s->wdays, 1 << 0 | 1 << 2 | 1 << 4 | 1 << 6);
    CHECK(!s->dom_star && !s->dow_star);
    cr_schedule_destroy(s);
    s = P("  */15\t10-20/5  */2 jan-MAR,Jul,dec  Mon-fri ");
    CHECK(s->minutes == ((uint64_t)1 | (uint64_t)1 << 15 | (uint64_t)1 << 30 | (uint64_t)1 << 45));
    CHECK_EQ_INT(s->hours, 1u << 10 | 1u << 15 | 1u << 20);
    CHECK_EQ_INT(s->mdays, 0xaaaaaaaau); /* odd days 1..31 */
    CHECK_EQ_INT(s->months, 1 << 1 | 1 << 2 | 1 << 3 | 1 << 7 | 1 << 12);
    CHECK_EQ_INT(s->wdays, 0x3e);
    CHECK(s->dom_star && !s->dow_star);
    cr_schedule_destroy(s);
    /* 7 is Sunday, SUN at the end of a range too; ranges over 7 fold */
    s = P("0 0 * * 7");
    CHECK_EQ_INT(s->wdays, 1);
    cr_schedule_destroy(s);
    s = P("0 0 * * 5-7");
    CHECK_EQ_INT(s->wdays, 1 << 5 | 1 << 6 | 1);
    cr_schedule_destroy(s);
    s = P("0 0 * * MON-SUN");
    CHECK_EQ_INT(s->wdays, 0x7f);
    cr_schedule_destroy(s);
    s = P("0 0 * * sun,SAT");
    CHECK_EQ_INT(s->wdays, 1 | 1 << 6);
    cr_schedule_destroy(s);
    s = P("0-59/59 23 31 12 *");
    CHECK(s->minutes == ((uint64_t)1 | (uint64_t)1 << 59));
    cr_schedule_destroy(s);
    s = P("0 0 * * *");
    CHECK_EQ_INT(cr_schedule_every_us(s), 0);
    cr_schedule_destroy(s);
}

TEST(cron_parse_errors_name_field_and_token)
{
    CHECK_EQ_STR(parse_err("x * * * *"), "cron 'x * * * *': minute: 'x' is not a number 0-59");
    CHECK_EQ_STR(parse_err("60 * * * *"), "cron '60 * * * *': minute: '60' is out of range 0-59");
    CHECK_EQ_STR(parse_err("0 24 * * *"), "cron '0 24 * * *': hour: '24' is out of range 0-23");
    CHECK_EQ_STR(parse_err("0 0 0 * *"),
                 "cron '0 0 0 * *': day-of-month: '0' is out of range 1-31");
    CHECK_EQ_STR(parse_err("0 0 32 * *"),
                 "cron '0 0 32 * *': day-of-month: '32' is out of range 1-31");
    CHECK_EQ_STR(parse_err("0 0 * 13 *"), "cron '0 0 * 13 *': month: '13' is out of range 1-12");
    CHECK_EQ_STR(parse_err("0 0 * FOO *"),
                 "cron '0 0 * FOO *': month: 'FOO' is not a month 1-12 or JAN-DEC");
    CHECK_EQ_STR(parse_err("0 0 * MON *"),
                 "cron '0 0 * MON *': month: 'MON' is not a month 1-12 or JAN-DEC");
    CHECK_EQ_STR(parse_err("0 0 * * 8"), "cron '0 0 * * 8': day-of-week: '8' is out of range 0-7");
    CHECK_EQ_STR(parse_err("0 0 * * JAN"), "cron '0 0 * * JAN': day-of-week: 'JAN' is not a day "
                                           "0-7 or SUN-SAT (0 and 7 are Sunday)");
    CHECK_EQ_STR(parse_err("0 0 * * MON-"), "cron '0 0 * * MON-': day-of-week: 'MON-' is not a "
                                            "day 0-7 or SUN-SAT (0 and 7 are Sunday)");
    CHECK_EQ_STR(parse_err("0 0 1 * MONDAY"), "cron '0 0 1 * MONDAY': day-of-week: 'MONDAY' is "
                                              "not a day 0-7 or SUN-SAT (0 and 7 are Sunday)");
    CHECK_EQ_STR(parse_err("5-1 * * * *"),
                 "cron '5-1 * * * *': minute: '5-1' runs backwards (the start is after the end)");
    CHECK_EQ_STR(parse_err("0 0 * * FRI-MON"), "cron '0 0 * * FRI-MON': day-of-week: 'FRI-MON' "
                                               "runs backwards (the start is after the end)");
    CHECK_EQ_STR(parse_err("*/0 * * * *"),
                 "cron '*/0 * * * *': minute: '*/0' has a step that is not a number 1-59");
    CHECK_EQ_STR(parse_err("*/60 * * * *"),
                 "cron '*/60 * * * *': minute: '*/60' has a step that is not a number 1-59");
    CHECK_EQ_STR(parse_err("*/ * * * *"),
                 "cron '*/ * * * *': minute: '*/' has a step that is not a number 1-59");
    CHECK_EQ_STR(parse_err("0 */x * * *"),
                 "cron '0 */x * * *': hour: '*/x' has a step that is not a number 1-23");
    CHECK_EQ_STR(parse_err("5/10 * * * *"), "cron '5/10 * * * *': minute: '5/10' has a step but "
                                            "no range: write 5-59/10 or */10");
    CHECK_EQ_STR(parse_err("1,,2 * * * *"),
                 "cron '1,,2 * * * *': minute: '1,,2' has an empty list item");
    CHECK_EQ_STR(parse_err("1, * * * *"),
                 "cron '1, * * * *': minute: '1,' has an empty list item");
    CHECK_EQ_STR(parse_err("? * * * *"), "cron '? * * * *': minute: '?' is not a number 0-59");
    CHECK_EQ_STR(parse_err("*-5 * * * *"), "cron '*-5 * * * *': minute: '*' is not a number 0-59");
    CHECK_EQ_STR(parse_err("* * * *"), "cron '* * * *': expected 5 fields (minute hour "
                                       "day-of-month month day-of-week), got 4");
    CHECK_EQ_STR(parse_err("0 0 * * * 2026"),
                 "cron '0 0 * * * 2026': expected 5 fields (minute hour day-of-month month "
                 "day-of-week), got more than 5 (seconds and years are not supported)");
    CHECK_EQ_STR(parse_err("   "), "cron '': is empty");
    CHECK_EQ_STR(parse_err("@reboot"), "cron '@reboot': is not a known macro (@hourly, @daily, "
                                       "@midnight, @weekly, @monthly, @yearly, @annually)");
    CHECK_EQ_STR(parse_err("\x01 * * * *"),
                 "cron '\\x01 * * * *': minute: '\\x01' is not a number 0-59");
    char err[512];
    CHECK(cr_parse(NULL, err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "cron: no schedule given");
    char big[CR_MAX_TEXT + 2];
    memset(big, ' ', sizeof big - 1), big[sizeof big - 1] = 0;
    memcpy(big, "* * * * *", 9);
    CHECK_EQ_STR(parse_err(big), "cron: longer than 256 bytes");
    big[CR_MAX_TEXT] = 0; /* exactly the cap: trailing spaces are trimmed */
    CHECK_EQ_STR(parse_err(big), "");
    CHECK(cr_parse("x", NULL, 0) == NULL); /* no message buffer */
}

TEST(cron_parse_refuses_dates_that_never_occur)
{
    CHECK_EQ_STR(parse_err("0 0 30 2 *"),
                 "cron '0 0 30 2 *': day-of-month: '30' never occurs in the months given ('2')");
    CHECK_EQ_STR(parse_err("0 0 31 4,6,9,11 *"), "cron '0 0 31 4,6,9,11 *': day-of-month: '31' "
                                                 "never occurs in the months given ('4,6,9,11')");
    CHECK_EQ_STR(parse_err("0 0 30,31 FEB */2"),
                 "cron '0 0 30,31 FEB */2': day-of-month: '30,31' never occurs in the months "
                 "given ('FEB')");
    /* Feb 29 occurs; with a restricted day-of-week the OR rule fires anyway */
    CHECK_EQ_STR(parse_err("0 0 29 2 *"), "");
    CHECK_EQ_STR(parse_err("0 0 31 4 MON"), "");
}

TEST(cron_macros_are_their_fields)
{
    static const char *const pairs[][2] = {
        {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
        {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
        {"@annually", "0 0 1 1 *"}, {"@DAILY", "0 0 * * *"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        cr_schedule *a = P(pairs[i][0]), *b = P(pairs[i][1]);
        CHECK_MSG(!memcmp(a, b, sizeof *a), "%s", pairs[i][0]);
        cr_schedule_destroy(a);
        cr_schedule_destroy(b);
    }
    CHECK_EQ_STR(nexts("@weekly", NULL, "2026-01-01T00:00:00Z", 2),
                 "2026-01-04T00:00:00Z 2026-01-11T00:00:00Z");
    CHECK_EQ_STR(nexts("@monthly", "Asia/Kolkata", "2026-01-15T00:00:00Z", 1),
                 "2026-01-31T18:30:00Z");
}

TEST(cron_every_syntax)
{
    static const struct {
        const char *text;
        int64_t s;
    } good[] = {{"15m", 900}, {"90s", 90}, {"90 s", 90}, {"1H", 3600}, {"2d", 172800},
                {"10", 10},   {" 1s ", 1}, {"366d", 366 * 86400}, {"527040m", 366 * 86400}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char err[256];
        cr_schedule *s = cr_parse_every(good[i].text, err, sizeof err);
        CHECK_MSG(s, "%s: %s", good[i].text, err);
        CHECK_EQ_INT(cr_schedule_every_us(s), good[i].s * 1000000);
        cr_schedule_destroy(s);
    }
    CHECK_EQ_STR(every_err("0s"), "every '0s': '0s' is under the minimum of 1s");
    CHECK_EQ_STR(every_err("367d"), "every '367d': '367d' is over the maximum of 366d");
    CHECK_EQ_STR(every_err("99999999999999999999d"),
                 "every '99999999999999999999d': '99999999999999999999d' is over the maximum of "
                 "366d");
    CHECK_EQ_STR(every_err("500ms"),
                 "every '500ms': '500ms' is not whole seconds: intervals are at least 1s");
    CHECK_EQ_STR(every_err("1.5h"), "every '1.5h': '1.5h' is not a whole-number duration like "
                                    "15m, 90s, 1h or 2d");
    CHECK_EQ_STR(every_err("m"), "every 'm': 'm' is not a whole-number duration like 15m, 90s, "
                                 "1h or 2d");
    CHECK_EQ_STR(every_err("15x"), "every '15x': '15x' has an unknown unit: use s, m, h or d "
                                   "(15m, 90s, 1h, 2d)");
    CHECK_EQ_STR(every_err("15 "), "");   /* trimmed */
    CHECK_EQ_STR(every_err("1 5m"), "every '1 5m': '1 5m' has an unknown unit: use s, m, h or d "
                                    "(15m, 90s, 1h, 2d)");
    CHECK_EQ_STR(every_err(""), "every '': is empty");
    /* in cron text */
    cr_schedule *s = P("every 15m");
    CHECK_EQ_INT(cr_schedule_every_us(s), 900 * 1000000LL);
    cr_schedule_destroy(s);
    s = P("EVERY   2h");
    CHECK_EQ_INT(cr_schedule_every_us(s), 7200 * 1000000LL);
    cr_schedule_destroy(s);
    CHECK_EQ_STR(parse_err("every 0s"), "cron 'every 0s': '0s' is under the minimum of 1s");
    CHECK_EQ_STR(parse_err("every: 15m"),
                 "cron 'every: 15m': has a ':': write 'every 15m' (or use the job's every: key)");
    CHECK_EQ_STR(parse_err("every:2h"),
                 "cron 'every:2h': has a ':': write 'every 2h' (or use the job's every: key)");
}

TEST(cron_every_is_aligned_to_the_epoch_in_utc)
{
    cr_zone *z = Z("Asia/Kathmandu"); /* the zone is ignored */
    char err[128];
    cr_schedule *s = cr_parse_every("15m", err, sizeof err);
    CHECK_EQ_STR(S(cr_next(s, z, T("2026-03-29T00:59:59Z"))), "2026-03-29T01:00:00Z");
    CHECK_EQ_STR(S(cr_next(s, z, T("2026-03-29T01:00:00Z"))), "2026-03-29T01:15:00Z");
    CHECK_EQ_STR(S(cr_prev(s, z, T("2026-03-29T01:00:00Z"))), "2026-03-29T00:45:00Z");
    CHECK_EQ_STR(S(cr_prev(s, z, T("2026-03-29T01:00:00.000001Z"))), "2026-03-29T01:00:00Z");
    CHECK_EQ_STR(S(cr_next(s, z, T("1969-12-31T23:50:00Z"))), "1970-01-01T00:00:00Z");
    CHECK_EQ_STR(S(cr_prev(s, z, T("1969-12-31T23:50:00Z"))), "1969-12-31T23:45:00Z");
    cr_schedule_destroy(s);
    s = cr_parse_every("7s", err, sizeof err);
    CHECK_EQ_STR(S(cr_next(s, NULL, 0)), "1970-01-01T00:00:07Z");
    CHECK_EQ_STR(S(cr_next(s, NULL, CR_MAX_US - 1)), "none");
    CHECK_EQ_STR(S(cr_prev(s, NULL, CR_MIN_US + 1)), "none");
    cr_schedule_destroy(s);
    s = cr_parse_every("1d", err, sizeof err);
    CHECK_EQ_STR(S(cr_next(s, z, T("2026-06-01T12:00:00Z"))), "2026-06-02T00:00:00Z");
    cr_schedule_destroy(s);
    cr_zone_destroy(z);
}

/* ---- next / prev in UTC ---------------------------------------------------------- */

TEST(cron_next_utc_basics)
{
    CHECK_EQ_STR(nexts("* * * * *", NULL, "2026-01-01T00:00:00Z", 2),
                 "2026-01-01T00:01:00Z 2026-01-01T00:02:00Z");
    CHECK_EQ_STR(nexts("* * * * *", NULL, "2026-01-01T00:00:30.5Z", 1), "2026-01-01T00:01:00Z");
    CHECK_EQ_STR(nexts("59 23 31 12 *", NULL, "2026-06-01T00:00:00Z", 2),
                 "2026-12-31T23:59:00Z 2027-12-31T23:59:00Z");
    CHECK_EQ_STR(nexts("0 9 * * MON-FRI", NULL, "2026-01-02T09:00:00Z", 3), /* a Friday */
                 "2026-01-05T09:00:00Z 2026-01-06T09:00:00Z 2026-01-07T09:00:00Z");
    CHECK_EQ_STR(nexts("0 12 * JAN,JUL SUN", "UTC", "2026-01-25T12:00:00Z", 2),
                 "2026-07-05T12:00:00Z 2026-07-12T12:00:00Z");
    CHECK_EQ_STR(prevs("0 9 * * MON-FRI", NULL, "2026-01-05T09:00:00Z", 2),
                 "2026-01-02T09:00:00Z 2026-01-01T09:00:00Z");
    CHECK_EQ_STR(prevs("* * * * *", NULL, "2026-01-01T00:00:30Z", 2),
                 "2026-01-01T00:00:00Z 2025-12-31T23:59:00Z");
}

TEST(cron_vixie_day_or_rule)
{
    /* both restricted: the 13th OR a Friday */
    CHECK_EQ_STR(nexts("0 0 13 * 5", NULL, "2026-01-01T00:00:00Z", 6),
                 "2026-01-02T00:00:00Z 2026-01-09T00:00:00Z 2026-01-13T00:00:00Z "
                 "2026-01-16T00:00:00Z 2026-01-23T00:00:00Z 2026-01-30T00:00:00Z");
    /* a field starting with '*' is unrestricted (as in Vixie cron): AND */
    CHECK_EQ_STR(nexts("0 0 */2 * 1", NULL, "2026-01-01T00:00:00Z", 4),
                 "2026-01-05T00:00:00Z 2026-01-19T00:00:00Z 2026-02-09T00:00:00Z "
                 "2026-02-23T00:00:00Z");
    CHECK_EQ_STR(nexts("0 0 13 * *", NULL, "2026-01-01T00:00:00Z", 2),
                 "2026-01-13T00:00:00Z 2026-02-13T00:00:00Z");
    CHECK_EQ_STR(nexts("0 0 * * 5", NULL, "2026-01-01T00:00:00Z", 2),
                 "2026-01-02T00:00:00Z 2026-01-09T00:00:00Z");
    /* 1-31 is restricted, so with a day-of-week it means every day */
    CHECK_EQ_STR(nexts("0 0 1-31 * 1", NULL, "2026-01-01T00:00:00Z", 3),
                 "2026-01-02T00:00:00Z 2026-01-03T00:00:00Z 2026-01-04T00:00:00Z");
    CHECK_EQ_STR(prevs("0 0 13 * 5", NULL, "2026-01-13T00:00:00Z", 2),
                 "2026-01-09T00:00:00Z 2026-01-02T00:00:00Z");
}

TEST(cron_feb29_and_short_months)
{
    CHECK_EQ_STR(nexts("0 0 29 2 *", NULL, "2025-01-01T00:00:00Z", 2),
                 "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z");
    CHECK_EQ_STR(nexts("0 0 29 2 *", NULL, "2096-03-01T00:00:00Z", 1), /* 2100 is no leap year */
                 "2104-02-29T00:00:00Z");
    CHECK_EQ_STR(prevs("0 0 29 2 *", NULL, "2028-02-29T00:00:00Z", 2),
                 "2024-02-29T00:00:00Z 2020-02-29T00:00:00Z");
    CHECK_EQ_STR(nexts("0 0 31 * *", NULL, "2026-01-31T00:00:00Z", 6),
                 "2026-03-31T00:00:00Z 2026-05-31T00:00:00Z 2026-07-31T00:00:00Z "
                 "2026-08-31T00:00:00Z 2026-10-31T00:00:00Z 2026-12-31T00:00:00Z");
    CHECK_EQ_STR(prevs("0 0 31 * *", NULL, "2026-03-31T00:00:00Z", 1), "2026-01-31T00:00:00Z");
    /* Feb 29 on a Sunday (AND: day-of-week starts with '*'): 2004, 2032, 2060, 2088, 2128 */
    CHECK_EQ_STR(nexts("0 0 29 2 */7", NULL, "2088-03-01T00:00:00Z", 1), "2128-02-29T00:00:00Z");
    CHECK_EQ_STR(prevs("0 0 29 2 */7", NULL, "2128-02-29T00:00:00Z", 1), "2088-02-29T00:00:00Z");
}

TEST(cron_range_ends)
{
    cr_schedule *s = P("0 0 1 1 *");
    CHECK_EQ_STR(S(cr_next(s, NULL, T("9999-06-01T00:00:00Z"))), "none");
    CHECK_EQ_STR(S(cr_next(s, NULL, T("9998-06-01T00:00:00Z"))), "9999-01-01T00:00:00Z");
    CHECK_EQ_STR(S(cr_next(s, NULL, CR_MAX_US)), "none");
    CHECK_EQ_STR(S(cr_next(s, NULL, INT64_MIN)), "none");
    CHECK_EQ_STR(S(cr_prev(s, NULL, T("0001-06-01T00:00:00Z"))), "0001-01-01T00:00:00Z");
    CHECK_EQ_STR(S(cr_prev(s, NULL, CR_MIN_US)), "none");
    CHECK_EQ_STR(S(cr_prev(s, NULL, INT64_MAX)), "none");
    cr_schedule_destroy(s);
    cr_zone *z = Z("America/New_York");
    s = P("0 0 1 1 *");
    CHECK_EQ_STR(S(cr_next(s, z, T("9999-06-01T00:00:00Z"))), "none");
    CHECK_EQ_STR(S(cr_prev(s, z, T("0001-06-01T00:00:00Z"))), "0001-01-01T04:56:02Z"); /* LMT */
    cr_schedule_destroy(s);
    cr_zone_destroy(z);
}

/* ---- DST ----------------------------------------------------------------------- */

TEST(cron_dst_berlin_2026)
{
    /* 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET */
    const char *z = "Europe/Berlin";
    CHECK_EQ_STR(nexts("30 2 * * *", z, "2026-03-28T12:00:00Z", 3),
                 "2026-03-29T01:00:00Z 2026-03-30T00:30:00Z 2026-03-31T00:30:00Z");
    CHECK_EQ_STR(nexts("30 2 * * *", z, "2026-10-24T12:00:00Z", 2),
                 "2026-10-25T00:30:00Z 2026-10-26T01:30:00Z");
    /* every wall time in the gap collapses into the first instant after it */
    CHECK_EQ_STR(nexts("*/30 * * * *", z, "2026-03-29T00:00:00Z", 4),
                 "2026-03-29T00:30:00Z 2026-03-29T01:00:00Z 2026-03-29T01:30:00Z "
                 "2026-03-29T02:00:00Z");
    /* the repeated hour fires once, on its first pass */
    CHECK_EQ_STR(nexts("*/30 * * * *", z, "2026-10-24T23:50:00Z", 5),
                 "2026-10-25T00:00:00Z 2026-10-25T00:30:00Z 2026-10-25T02:00:00Z "
                 "2026-10-25T02:30:00Z 2026-10-25T03:00:00Z");
    /* from inside the second pass */
    CHECK_EQ_STR(nexts("*/30 * * * *", z, "2026-10-25T01:10:00Z", 1), "2026-10-25T02:00:00Z");
    CHECK_EQ_STR(nexts("0 2 * * *", z, "2026-10-25T00:00:00Z", 1), "2026-10-26T01:00:00Z");
    CHECK_EQ_STR(prevs("*/30 * * * *", z, "2026-10-25T02:30:00Z", 4),
                 "2026-10-25T02:00:00Z 2026-10-25T00:30:00Z 2026-10-25T00:00:00Z "
                 "2026-10-24T23:30:00Z");
    CHECK_EQ_STR(prevs("*/30 * * * *", z, "2026-03-29T01:30:00Z", 3),
                 "2026-03-29T01:00:00Z 2026-03-29T00:30:00Z 2026-03-29T00:00:00Z");
    CHECK_EQ_STR(prevs("30 2 * * *", z, "2026-03-30T00:00:00Z", 1), "2026-03-29T01:00:00Z");
    CHECK_EQ_STR(prevs("30 2 * * *", z, "2026-10-26T00:00:00Z", 1), "2026-10-25T00:30:00Z");
    /* outside the gap and overlap nothing moves */
    CHECK_EQ_STR(nexts("0 12 * * *", z, "2026-03-28T12:00:00Z", 2),
                 "2026-03-29T10:00:00Z 2026-03-30T10:00:00Z");
}

TEST(cron_dst_new_york_2026)
{
    /* 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z) */
    const char *z = "America/New_York";
    CHECK_EQ_STR(nexts("30 2 * * *", z, "2026-03-07T12:00:00Z", 2),
                 "2026-03-08T07:00:00Z 2026-03-09T06:30:00Z");
    CHECK_EQ_STR(nexts("30 1 * * *", z, "2026-10-31T12:00:00Z", 2),
                 "2026-11-01T05:30:00Z 2026-11-02T06:30:00Z");
    CHECK_EQ_STR(nexts("0 * * * *", z, "2026-11-01T04:30:00Z", 3),
                 "2026-11-01T05:00:00Z 2026-11-01T07:00:00Z 2026-11-01T08:00:00Z");
    CHECK_EQ_STR(nexts("0 * * * *", z, "2026-03-08T06:30:00Z", 2),
                 "2026-03-08T07:00:00Z 2026-03-08T08:00:00Z");
    CHECK_EQ_STR(prevs("0 * * * *", z, "2026-11-01T07:00:00Z", 2),
                 "2026-11-01T05:00:00Z 2026-11-01T04:00:00Z");
    CHECK_EQ_STR(nexts("0 0 * * *", z, "2026-11-01T00:00:00Z", 2),
                 "2026-11-01T04:00:00Z 2026-11-02T05:00:00Z");
}

TEST(cron_half_and_quarter_hour_offsets)
{
    CHECK_EQ_STR(nexts("0 9 * * *", "Asia/Kolkata", "2026-05-01T00:00:00Z", 2),
                 "2026-05-01T03:30:00Z 2026-05-02T03:30:00Z");
    CHECK_EQ_STR(nexts("0 9 * * *", "Asia/Kathmandu", "2026-05-01T00:00:00Z", 1),
                 "2026-05-01T03:15:00Z");
    CHECK_EQ_STR(nexts("0 * * * *", "Asia/Kathmandu", "2026-05-01T00:00:00Z", 2),
                 "2026-05-01T00:15:00Z 2026-05-01T01:15:00Z");
    CHECK_EQ_STR(prevs("0 0 1 * *", "Asia/Kolkata", "2026-05-01T00:00:00Z", 1),
                 "2026-04-30T18:30:00Z");
    cr_zone *k = Z("Asia/Kolkata"), *n = Z("Asia/Kathmandu");
    CHECK_EQ_INT(cr_zone_offset(k, T("2026-01-01T00:00:00Z")), 19800);
    CHECK_EQ_INT(cr_zone_offset(n, T("2026-01-01T00:00:00Z")), 20700);
    CHECK_EQ_INT(cr_zone_offset(k, T("2100-01-01T00:00:00Z")), 19800);
    CHECK_EQ_INT(cr_zone_offset(n, T("1980-01-01T00:00:00Z")), 19800); /* +05:30 before 1986 */
    cr_zone_destroy(k);
    cr_zone_destroy(n);
}

TEST(cron_far_future_uses_the_footer_rule)
{
    CHECK_EQ_STR(nexts("0 3 * * *", "Europe/Berlin", "2100-03-27T00:00:00Z", 3),
                 "2100-03-27T02:00:00Z 2100-03-28T01:00:00Z 2100-03-29T01:00:00Z");
    CHECK_EQ_STR(nexts("30 2 * * *", "America/New_York", "2100-03-13T12:00:00Z", 2),
                 "2100-03-14T07:00:00Z 2100-03-15T06:30:00Z");
    cr_zone *z = Z("America/New_York");
    CHECK_EQ_INT(cr_zone_offset(z, T("2100-07-01T00:00:00Z")), -14400);
    CHECK_EQ_INT(cr_zone_offset(z, T("2100-01-01T00:00:00Z")), -18000);
    CHECK_EQ_INT(cr_zone_offset(z, T("9999-07-01T00:00:00Z")), -14400);
    CHECK_EQ_INT(cr_zone_offset(z, T("9999-12-31T23:59:59Z")), -18000);
    cr_zone_destroy(z);
}

TEST(cron_utc_needs_no_files)
{
    char err[256];
    cr_zone *a = cr_zone_load_dir("/nonexistent", "UTC", err, sizeof err);
    cr_zone *b = cr_zone_load_dir("/nonexistent", "Etc/UTC", err, sizeof err);
    CHECK(a && b);
    CHECK_EQ_STR(cr_zone_name(a), "UTC");
    CHECK_EQ_STR(cr_zone_name(b), "Etc/UTC");
    CHECK_EQ_STR(cr_zone_name(NULL), "UTC");
    CHECK_EQ_INT(cr_zone_offset(a, T("2026-07-01T00:00:00Z")), 0);
    cr_schedule *s = P("30 2 * * *");
    int64_t t0 = T("2026-03-29T00:00:00Z");
    CHECK_EQ_INT(cr_next(s, a, t0), cr_next(s, NULL, t0));
    CHECK_EQ_STR(S(cr_next(s, b, T("2026-03-29T00:00:00Z"))), "2026-03-29T02:30:00Z");
    cr_schedule_destroy(s);
    CHECK(cr_zone_load_dir("/nonexistent", "Europe/Berlin", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "time zone 'Europe/Berlin': no such zone in /nonexistent (is tzdata "
                      "installed?)");
    cr_zone_destroy(a);
    cr_zone_destroy(b);
    cr_zone_destroy(NULL);
}

/* For many instants: prev(next(t)) <= t < next(t) and next(prev(next(t))) == next(t). */
TEST(cron_next_and_prev_agree)
{
    static const char *const zones[] = {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                                        "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu",
                                        "Pacific/Apia", NULL};
    static const char *const scheds[] = {"*/7 * * * *", "30 2 * * *", "0 0 * * *", "15 1 * * SUN",
                                         "0 0 29 2 *", "0 */3 * * *", "59 23 * * *"};
    uint64_t seed = 42;
    for (int zi = 0; zi < 8; zi++) {
        cr_zone *z = zones[zi] ? Z(zones[zi]) : NULL;
        for (size_t si = 0; si < sizeof scheds / sizeof scheds[0]; si++) {
            cr_schedule *s = P(scheds[si]);
            for (int k = 0; k < 60; k++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                /* 2011 .. 2045, at whole minutes or not */
                int64_t t = T("2011-01-01T00:00:00Z") +
                            (int64_t)(seed >> 20) % (35LL * 365 * 86400 * 1000000);
                if (k % 3 == 0) t -= t % 60000000;
                int64_t n = cr_next(s, z, t), p = cr_prev(s, z, n);
                CHECK_MSG(n > t && p <= t && cr_next(s, z, p) == n,
                          "%s in %s at %s: next %s prev %s", scheds[si], cr_zone_name(z), S(t),
                          S(n), S(p));
                /* the fire before t is followed by t itself (t fires) or by next(t) */
                int64_t q = cr_prev(s, z, t), qn = cr_next(s, z, q);
                CHECK_MSG(q < t && (qn == n || qn == t), "%s in %s at %s: prev %s", scheds[si],
                          cr_zone_name(z), S(t), S(q));
                CHECK(qn != t || cr_prev(s, z, t + 1) == t);
            }
            cr_schedule_destroy(s);
        }
        cr_zone_destroy(z);
    }
}

/* ---- zones ----------------------------------------------------------------------- */

TEST(cron_zone_names_are_checked)
{
    static const char *const bad[] = {"../etc/passwd", "/etc/passwd", "Europe/../../etc",
                                      "Europe//Berlin", "Europe/", ".hidden", "Europe/.x",
                                      "Europe/Berlin\n", "Europe/Ber lin", "-x", ""};
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(cr_zone_load(bad[i], err, sizeof err) == NULL, "%s loaded", bad[i]);
        CHECK_MSG(strstr(err, "time zone name"), "%s: %s", bad[i], err);
    }
    CHECK(cr_zone_load(NULL, err, sizeof err) == NULL);
    char longname[200];
    memset(longname, 'a', sizeof longname - 1), longname[sizeof longname - 1] = 0;
    CHECK(cr_zone_load(longname, err, sizeof err) == NULL);
    CHECK(strstr(err, "longer than 127 bytes"));
    CHECK(ut_name_ok(UT_NAME_ZONE, "Etc/GMT+5"));
    CHECK(ut_name_ok(UT_NAME_ZONE, "America/Argentina/Buenos_Aires"));
    CHECK(ut_name_ok(UT_NAME_ZONE, "America/Port-au-Prince"));
    CHECK(!ut_name_ok(UT_NAME_STREAM, "Europe/Berlin")); /* '/' only in zone names */
    CHECK(cr_zone_load("Europe/Berln", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "time zone 'Europe/Berln': no such zone in /usr/share/zoneinfo (is tzdata "
                      "installed?)");
    CHECK(cr_zone_load("Europe", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "time zone 'Europe': /usr/share/zoneinfo/Europe is not a zone file");
    CHECK(cr_zone_load("Europe/Berlin/x", err, sizeof err) == NULL);
    CHECK(strstr(err, "no such zone"));
    CHECK(cr_zone_load("zone.tab", err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "time zone 'zone.tab': not a TZif file");
}

TEST(cron_zone_to_utc_reports_gaps_and_overlaps)
{
    cr_zone *z = Z("Europe/Berlin");
    cr_local l;
    CHECK(cr_zone_to_utc(z, T("2026-03-29T02:30:00Z"), &l) == 0);
    CHECK_EQ_INT(l.kind, CR_LOCAL_GAP);
    CHECK_EQ_STR(S(l.first_us), "2026-03-29T01:00:00Z");
    CHECK_EQ_INT(l.second_us, l.first_us);
    CHECK(cr_zone_to_utc(z, T("2026-03-29T02:00:00Z"), &l) == 0 && l.kind == CR_LOCAL_GAP);
    CHECK(cr_zone_to_utc(z, T("2026-03-29T03:00:00Z"), &l) == 0 && l.kind == CR_LOCAL_OK);
    CHECK_EQ_STR(S(l.first_us), "2026-03-29T01:00:00Z");
    CHECK(cr_zone_to_utc(z, T("2026-03-29T01:59:59Z"), &l) == 0 && l.kind == CR_LOCAL_OK);
    CHECK_EQ_STR(S(l.first_us), "2026-03-29T00:59:59Z");
    CHECK(cr_zone_to_utc(z, T("2026-10-25T02:30:00Z"), &l) == 0);
    CHECK_EQ_INT(l.kind, CR_LOCAL_OVERLAP);
    CHECK_EQ_STR(S(l.first_us), "2026-10-25T00:30:00Z");
    CHECK_EQ_STR(S(l.second_us), "2026-10-25T01:30:00Z");
    CHECK(cr_zone_to_utc(z, T("2026-10-25T03:00:00Z"), &l) == 0 && l.kind == CR_LOCAL_OK);
    CHECK_EQ_STR(S(l.first_us), "2026-10-25T02:00:00Z");
    CHECK(cr_zone_to_utc(z, T("2026-07-01T12:00:00Z"), &l) == 0 && l.kind == CR_LOCAL_OK);
    CHECK_EQ_STR(S(l.first_us), "2026-07-01T10:00:00Z");
    CHECK(cr_zone_to_utc(z, INT64_MAX, &l) == -1);
    cr_zone_destroy(z);
    z = Z("America/New_York");
    CHECK(cr_zone_to_utc(z, T("2026-11-01T01:30:00Z"), &l) == 0 && l.kind == CR_LOCAL_OVERLAP);
    CHECK_EQ_STR(S(l.first_us), "2026-11-01T05:30:00Z");
    CHECK_EQ_STR(S(l.second_us), "2026-11-01T06:30:00Z");
    CHECK(cr_zone_to_utc(z, T("2026-03-08T02:30:00Z"), &l) == 0 && l.kind == CR_LOCAL_GAP);
    CHECK_EQ_STR(S(l.first_us), "2026-03-08T07:00:00Z");
    cr_zone_destroy(z);
    CHECK(cr_zone_to_utc(NULL, T("2026-03-08T02:30:00Z"), &l) == 0 && l.kind == CR_LOCAL_OK);
    CHECK_EQ_STR(S(l.first_us), "2026-03-08T02:30:00Z");
}

TEST(cron_zone_offsets_berlin)
{
    cr_zone *z = Z("Europe/Berlin");
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-03-29T00:59:59Z")), 3600);
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-03-29T01:00:00Z")), 7200);
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-10-25T00:59:59Z")), 7200);
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-10-25T01:00:00Z")), 3600);
    CHECK_EQ_INT(cr_zone_offset(z, T("1890-06-01T00:00:00Z")), 3208); /* local mean time */
    CHECK_EQ_INT(cr_zone_offset(z, T("1945-06-01T00:00:00Z")), 10800); /* double summer time */
    CHECK_EQ_INT(cr_zone_offset(z, INT64_MIN), 3208);
    CHECK_EQ_INT(cr_zone_offset(z, INT64_MAX), 3600);
    CHECK_EQ_STR(cr_zone_name(z), "Europe/Berlin");
    cr_zone_destroy(z);
}

/* ---- POSIX TZ rules ----------------------------------------------------------------- */

static int posix_off(const char *tz, const char *when)
{
    char err[256];
    cr_zone *z = cr_zone_from_posix(tz, err, sizeof err);
    if (!z) {
        printf("  %s: %s\n", tz, err);
        return -999999;
    }
    int off = cr_zone_offset(z, T(when));
    cr_zone_destroy(z);
    return off;
}

static const char *posix_err(const char *tz)
{
    static char err[512];
    cr_zone *z = cr_zone_from_posix(tz, err, sizeof err);
    if (z) {
        cr_zone_destroy(z);
        return "";
    }
    return err;
}

TEST(cron_posix_rules)
{
    const char *cet = "CET-1CEST,M3.5.0,M10.5.0/3";
    CHECK_EQ_INT(posix_off(cet, "2026-03-29T00:59:59Z"), 3600);
    CHECK_EQ_INT(posix_off(cet, "2026-03-29T01:00:00Z"), 7200);
    CHECK_EQ_INT(posix_off(cet, "2026-10-25T00:59:59Z"), 7200);
    CHECK_EQ_INT(posix_off(cet, "2026-10-25T01:00:00Z"), 3600);
    CHECK_EQ_INT(posix_off(cet, "2100-03-28T01:00:00Z"), 7200);
    CHECK_EQ_INT(posix_off("<+0530>-5:30", "2026-07-01T00:00:00Z"), 19800);
    CHECK_EQ_INT(posix_off("<+0545>-05:45", "2026-07-01T00:00:00Z"), 20700);
    CHECK_EQ_INT(posix_off("<-03>3", "2026-07-01T00:00:00Z"), -10800);
    CHECK_EQ_INT(posix_off("EST+5EDT,M3.2.0/2,M11.1.0/2", "2026-07-01T00:00:00Z"), -14400);
    CHECK_EQ_INT(posix_off("EST5EDT4,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z"), -14400);
    CHECK_EQ_INT(posix_off("EST5EDT4,M3.2.0,M11.1.0", "2026-03-08T06:59:59Z"), -18000);
    /* Jn never counts Feb 29, n does: J60 is March 1, 59 is Feb 29 in leap years */
    CHECK_EQ_INT(posix_off("AAA0BBB,J60/0,J300/0", "2028-02-29T12:00:00Z"), 0);
    CHECK_EQ_INT(posix_off("AAA0BBB,J60/0,J300/0", "2028-03-01T00:00:00Z"), 3600);
    CHECK_EQ_INT(posix_off("AAA0BBB,59/0,299/0", "2028-02-29T00:00:00Z"), 3600);
    CHECK_EQ_INT(posix_off("AAA0BBB,59/0,299/0", "2028-02-28T23:59:59Z"), 0);
    CHECK_EQ_INT(posix_off("AAA0BBB,59/0,299/0", "2027-03-01T00:00:00Z"), 3600);
    /* J300 is 27 October */
    CHECK_EQ_INT(posix_off("AAA0BBB,J60/0,J300/0", "2027-10-26T22:59:59Z"), 3600);
    CHECK_EQ_INT(posix_off("AAA0BBB,J60/0,J300/0", "2027-10-26T23:00:00Z"), 0);
    /* southern hemisphere: DST across the new year */
    const char *syd = "AEST-10AEDT,M10.1.0,M4.1.0/3";
    CHECK_EQ_INT(posix_off(syd, "2026-01-15T00:00:00Z"), 39600);
    CHECK_EQ_INT(posix_off(syd, "2026-07-15T00:00:00Z"), 36000);
    CHECK_EQ_INT(posix_off(syd, "2026-12-31T23:00:00Z"), 39600);
    /* version 3: negative and over-24h rule times, DST all year */
    const char *nuuk = "<-02>2<-01>,M3.5.0/-1,M10.5.0/0";
    CHECK_EQ_INT(posix_off(nuuk, "2026-03-29T00:59:59Z"), -7200);
    CHECK_EQ_INT(posix_off(nuuk, "2026-03-29T01:00:00Z"), -3600);
    CHECK_EQ_INT(posix_off("EST5EDT,0/0,J365/25", "2026-01-01T03:00:00Z"), -14400);
    CHECK_EQ_INT(posix_off("EST5EDT,0/0,J365/25", "2026-12-31T23:00:00Z"), -14400);
    CHECK_EQ_INT(posix_off("EST5EDT,0/0,J365/25", "2028-06-30T23:00:00Z"), -14400);
    CHECK(strstr(posix_err("XXX3YYY,M1.1.0/170,M2.1.0"), "out of range at byte 16"));
}

TEST(cron_posix_rule_errors)
{
    CHECK_EQ_STR(posix_err("CET"), "TZ rule 'CET': expected a number at byte 4");
    CHECK_EQ_STR(posix_err("CET-1CEST"),
                 "TZ rule 'CET-1CEST': daylight saving time needs start and end dates at byte 10");
    CHECK_EQ_STR(posix_err("CET-25"), "TZ rule 'CET-25': number out of range at byte 5");
    CHECK_EQ_STR(posix_err("C-1"), "TZ rule 'C-1': a name must have 3 to 32 characters at byte 2");
    CHECK_EQ_STR(posix_err("<CET-1"), "TZ rule '<CET-1': a quoted name must end in '>' at byte 7");
    CHECK_EQ_STR(posix_err("CET-1CEST,M13.1.0,M10.5.0"),
                 "TZ rule 'CET-1CEST,M13.1.0,M10.5.0': number out of range at byte 12");
    CHECK_EQ_STR(posix_err("CET-1CEST,M3.5.7,M10.5.0"),
                 "TZ rule 'CET-1CEST,M3.5.7,M10.5.0': number out of range at byte 16");
    CHECK_EQ_STR(posix_err("CET-1CEST,M3.0.0,M10.5.0"),
                 "TZ rule 'CET-1CEST,M3.0.0,M10.5.0': weeks are 1-5 at byte 14");
    CHECK_EQ_STR(posix_err("CET-1CEST,J0,J365"),
                 "TZ rule 'CET-1CEST,J0,J365': Jn counts days from 1 at byte 12");
    CHECK_EQ_STR(posix_err("CET-1CEST,366,0"),
                 "TZ rule 'CET-1CEST,366,0': number out of range at byte 11");
    CHECK_EQ_STR(posix_err("CET-1CEST,M3.5.0"),
                 "TZ rule 'CET-1CEST,M3.5.0': expected ',' before the end date at byte 17");
    CHECK_EQ_STR(posix_err("CET-1CEST,M3.5.0,M10.5.0/3x"),
                 "TZ rule 'CET-1CEST,M3.5.0,M10.5.0/3x': unexpected text after the rule at byte "
                 "27");
    CHECK_EQ_STR(posix_err("CET-1:60"), "TZ rule 'CET-1:60': number out of range at byte 7");
    CHECK_EQ_STR(posix_err("CET-1CEST;M3"), "TZ rule 'CET-1CEST;M3': expected a number at byte 10");
    CHECK_EQ_STR(posix_err(""), "TZ rule '': a name must have 3 to 32 characters at byte 1");
    CHECK_EQ_STR(posix_err("CET\x01-1"),
                 "TZ rule 'CET?-1': expected a number at byte 4");
    char err[64];
    CHECK(cr_zone_from_posix(NULL, err, sizeof err) == NULL);
}

/* ---- TZif bytes ------------------------------------------------------------------- */

typedef struct tzspec {
    int version;            /* 1..4 (5: a bad version byte) */
    int ntrans;
    int64_t trans[8];
    uint8_t idx[8];
    int ntypes;
    int32_t off[4];
    uint8_t isdst[4];
    const char *footer;     /* NULL: none written (v2+: a broken file) */
    uint32_t leap;          /* leap count written in the headers */
} tzspec;

static size_t put32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (24 - 8 * k));
    return 4;
}

static size_t tz_header(uint8_t *p, const tzspec *s, uint32_t ntrans, uint32_t ntypes)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = s->version == 1 ? 0 : (uint8_t)('0' + s->version);
    uint32_t c[6] = {0, 0, s->leap, ntrans, ntypes, 4};
    for (int k = 0; k < 6; k++) put32(p + 20 + 4 * k, c[k]);
    return 44;
}

static size_t tz_block(uint8_t *p, const tzspec *s, int wide)
{
    size_t n = 0;
    for (int k = 0; k < s->ntrans; k++) {
        if (wide) n += put32(p + n, (uint32_t)((uint64_t)s->trans[k] >> 32));
        n += put32(p + n, (uint32_t)s->trans[k]);
    }
    for (int k = 0; k < s->ntrans; k++) p[n++] = s->idx[k];
    for (int k = 0; k < s->ntypes; k++) {
        n += put32(p + n, (uint32_t)s->off[k]);
        p[n++] = s->isdst[k];
        p[n++] = 0;
    }
    memcpy(p + n, "ABC", 4), n += 4;
    for (uint32_t k = 0; k < s->leap; k++, n += wide ? 12 : 8) memset(p + n, 0, wide ? 12 : 8);
    return n;
}

/* The TZif file for s into p (at least 1024 bytes); its size. */
static size_t tz_build(uint8_t *p, const tzspec *s)
{
    size_t n = 0;
    if (s->version == 1) {
        n += tz_header(p, s, (uint32_t)s->ntrans, (uint32_t)s->ntypes);
        return n + tz_block(p + n, s, 0);
    }
    tzspec v1 = *s;
    v1.ntrans = 0, v1.ntypes = 1, v1.off[0] = 0, v1.isdst[0] = 0;
    n += tz_header(p, &v1, 0, 1);
    n += tz_block(p + n, &v1, 0);
    n += tz_header(p + n, s, (uint32_t)s->ntrans, (uint32_t)s->ntypes);
    n += tz_block(p + n, s, 1);
    if (s->footer) n += (size_t)sprintf((char *)p + n, "\n%s\n", s->footer);
    return n;
}

static cr_zone *tz_zone(const tzspec *s, char *err, size_t errlen)
{
    uint8_t buf[1024];
    size_t n = tz_build(buf, s);
    return cr_zone_from_tzif("Test/Zone", buf, n, err, errlen);
}

static const tzspec base = {
    .version = 2, .ntrans = 2, .trans = {1000000000, 1100000000}, .idx = {1, 0},
    .ntypes = 2, .off = {3600, 7200}, .isdst = {0, 1}, .footer = "",
};

TEST(cron_tzif_synthesized_versions)
{
    char err[256];
    /* 2001-09-09T01:46:40Z +2h, 2004-11-09T11:33:20Z back to +1h, then no rule */
    for (int v = 1; v <= 4; v++) {
        tzspec s = base;
        s.version = v;
        cr_zone *z = tz_zone(&s, err, sizeof err);
        CHECK_MSG(z, "version %d: %s", v, err);
        CHECK_EQ_INT(cr_zone_offset(z, T("1990-01-01T00:00:00Z")), 3600); /* type 0 before */
        CHECK_EQ_INT(cr_zone_offset(z, 999999999 * 1000000LL), 3600);
        CHECK_EQ_INT(cr_zone_offset(z, 1000000000 * 1000000LL), 7200);
        CHECK_EQ_INT(cr_zone_offset(z, 1100000000 * 1000000LL), 3600);
        CHECK_EQ_INT(cr_zone_offset(z, T("2100-07-01T00:00:00Z")), 3600);
        cr_zone_destroy(z);
    }
    /* a footer rule takes over after the last transition */
    tzspec s = base;
    s.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
    cr_zone *z = tz_zone(&s, err, sizeof err);
    CHECK_MSG(z, "%s", err);
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-07-01T00:00:00Z")), 7200);
    CHECK_EQ_INT(cr_zone_offset(z, T("2004-07-01T00:00:00Z")), 7200); /* before: the table */
    CHECK_EQ_STR(nexts("30 2 * * *", NULL, "2026-03-28T12:00:00Z", 1), "2026-03-29T02:30:00Z");
    cr_schedule *sc = P("30 2 * * *");
    CHECK_EQ_STR(S(cr_next(sc, z, T("2026-03-28T12:00:00Z"))), "2026-03-29T01:00:00Z");
    cr_schedule_destroy(sc);
    cr_zone_destroy(z);
    /* no transitions: the footer (or type 0) for all time */
    s = base;
    s.ntrans = 0, s.footer = "<+0545>-5:45";
    z = tz_zone(&s, err, sizeof err);
    CHECK(z && cr_zone_offset(z, T("1900-01-01T00:00:00Z")) == 20700);
    cr_zone_destroy(z);
    s.footer = "";
    z = tz_zone(&s, err, sizeof err);
    CHECK(z && cr_zone_offset(z, T("1900-01-01T00:00:00Z")) == 3600);
    cr_zone_destroy(z);
    /* a "big bang" transition at -2^59 (zic writes one) is dropped, its type kept */
    s = base;
    s.ntrans = 3, s.trans[0] = -((int64_t)1 << 59), s.trans[1] = 1000000000,
    s.trans[2] = 1100000000, s.idx[0] = 1, s.idx[1] = 0, s.idx[2] = 1;
    z = tz_zone(&s, err, sizeof err);
    CHECK_MSG(z, "%s", err);
    CHECK_EQ_INT(cr_zone_offset(z, T("1990-01-01T00:00:00Z")), 7200);
    CHECK_EQ_INT(cr_zone_offset(z, T("2002-01-01T00:00:00Z")), 3600);
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-01-01T00:00:00Z")), 7200);
    cr_zone_destroy(z);
    /* and one past year 9999: the rule after it is never reached */
    s.trans[2] = (int64_t)1 << 40, s.footer = "<+03>-3";
    z = tz_zone(&s, err, sizeof err);
    CHECK_MSG(z, "%s", err);
    CHECK_EQ_INT(cr_zone_offset(z, T("9999-01-01T00:00:00Z")), 3600);
    cr_zone_destroy(z);
}

/* A fall back followed, inside the repeated hour, by a change of type that
 * keeps the offset (as TZif files have for abbreviation changes): the walls
 * of the repeated hour stay used up across that boundary. */
TEST(cron_overlap_spans_a_same_offset_transition)
{
    char err[256];
    tzspec s = base;
    s.ntrans = 2, s.trans[0] = 1792890000, s.trans[1] = 1792891800; /* 01:00Z, 01:30Z */
    s.idx[0] = 1, s.idx[1] = 2, s.ntypes = 3;
    s.off[0] = 7200, s.off[1] = 3600, s.off[2] = 3600;
    s.isdst[0] = 1, s.isdst[1] = 0, s.isdst[2] = 0;
    cr_zone *z = tz_zone(&s, err, sizeof err);
    CHECK_MSG(z, "%s", err);
    cr_schedule *q = P("*/15 * * * *");
    CHECK_EQ_STR(S(cr_next(q, z, T("2026-10-25T00:50:00Z"))), "2026-10-25T02:00:00Z");
    CHECK_EQ_STR(S(cr_next(q, z, T("2026-10-25T01:40:00Z"))), "2026-10-25T02:00:00Z");
    CHECK_EQ_STR(S(cr_prev(q, z, T("2026-10-25T02:00:00Z"))), "2026-10-25T00:45:00Z");
    cr_schedule_destroy(q);
    cr_zone_destroy(z);
}

static const char *tz_err(const tzspec *s)
{
    static char err[512];
    cr_zone *z = tz_zone(s, err, sizeof err);
    if (z) {
        cr_zone_destroy(z);
        return "";
    }
    return err;
}

TEST(cron_tzif_refuses_bad_files)
{
    tzspec s = base;
    s.version = 5;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif version byte 0x35 is not supported (1 "
                             "to 4)");
    s = base, s.leap = 1;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': has leap seconds (a right/ zone); use the "
                             "zone without right/");
    s = base, s.trans[1] = s.trans[0];
    CHECK_EQ_STR(tz_err(&s),
                 "time zone 'Test/Zone': TZif transition 1 is not after the one before");
    s = base, s.idx[1] = 2;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif transition 1 has type 2 of 2");
    s = base, s.off[1] = 100000;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif type 1 has offset 100000 s, outside "
                             "-89999 to 93599");
    s = base, s.isdst[0] = 2;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif type 0 has a DST flag of 2");
    s = base, s.footer = NULL;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif footer missing");
    s = base, s.footer = "CET-1CEST";
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': footer: TZ rule 'CET-1CEST': daylight saving "
                             "time needs start and end dates at byte 10");
    s = base, s.ntypes = 0, s.ntrans = 0;
    CHECK_EQ_STR(tz_err(&s), "time zone 'Test/Zone': TZif type count 0 is not 1 to 256");
    /* every truncation of a good file is refused, none read past the end */
    uint8_t buf[1024];
    s = base, s.footer = "CET-1CEST,M3.5.0,M10.5.0/3";
    size_t n = tz_build(buf, &s);
    char err[512];
    for (size_t k = 0; k < n; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, buf, k);
        cr_zone *z = cr_zone_from_tzif("Test/Zone", cut, k, err, sizeof err);
        free(cut);
        CHECK_MSG(!z, "accepted %zu of %zu bytes", k, n);
        CHECK_MSG(!strncmp(err, "time zone 'Test/Zone': ", 23), "%s", err);
    }
    /* bad magic, too big */
    buf[0] = 'X';
    CHECK(cr_zone_from_tzif("Test/Zone", buf, n, err, sizeof err) == NULL);
    CHECK_EQ_STR(err, "time zone 'Test/Zone': not a TZif file");
    uint8_t *big = calloc(1, CR_MAX_TZIF_BYTES + 1);
    CHECK(cr_zone_from_tzif("Test/Zone", big, CR_MAX_TZIF_BYTES + 1, err, sizeof err) == NULL);
    free(big);
    CHECK_EQ_STR(err, "time zone 'Test/Zone': TZif file of 65537 bytes is over the cap of 65536");
}

/* A v1 file with n transitions one second apart from 2026-01-01, alternating
 * +0 and +1h (the most spans a file may have, all in one hour). */
static uint8_t *tz_many(uint32_t n, size_t *len)
{
    uint8_t *p = malloc(44 + n * 5 + 12 + 4), *q = p;
    tzspec s = base;
    s.version = 1;
    q += tz_header(q, &s, n, 2);
    for (uint32_t k = 0; k < n; k++) q += put32(q, 1767225600u + k);
    for (uint32_t k = 0; k < n; k++) *q++ = (uint8_t)(k & 1);
    q += put32(q, 0), *q++ = 0, *q++ = 0;
    q += put32(q, 3600), *q++ = 1, *q++ = 0;
    memcpy(q, "ABC", 4), q += 4;
    *len = (size_t)(q - p);
    return p;
}

TEST(cron_tzif_transition_cap)
{
    char err[512];
    size_t n;
    uint8_t *p = tz_many(CR__MAX_TRANS + 1, &n);
    CHECK(cr_zone_from_tzif("Test/Zone", p, n, err, sizeof err) == NULL);
    free(p);
    CHECK_EQ_STR(err, "time zone 'Test/Zone': TZif has 4097 transitions, over the cap of 4096");
    /* at the cap every function still answers, within bounds */
    p = tz_many(CR__MAX_TRANS, &n);
    cr_zone *z = cr_zone_from_tzif("Test/Zone", p, n, err, sizeof err);
    free(p);
    CHECK_MSG(z, "%s", err);
    int64_t t = T("2026-01-01T00:00:00Z"), after = T("2026-01-01T02:00:00Z");
    cr_schedule *s = P("0 12 * * *");
    CHECK_EQ_STR(S(cr_next(s, z, t)), "2026-01-01T11:00:00Z"); /* the last type is +1h */
    CHECK_EQ_STR(S(cr_prev(s, z, after)), "2025-12-31T12:00:00Z");
    cr_schedule_destroy(s);
    s = P("* * * * *");
    int64_t x = cr_next(s, z, t + 1000000);
    CHECK(x > t + 1000000 && x <= t + 3600000000LL);
    CHECK(cr_prev(s, z, after) < after);
    cr_schedule_destroy(s);
    CHECK(cr_window_floor(CR_HOUR, z, t + 30000000) <= t + 30000000);
    CHECK(cr_window_add(CR_DAY, z, t + 30000000, 1) > t + 30000000);
    cr_zone_destroy(z);
}

TEST(cron_zone_load_dir_reads_files)
{
    char dir[512], path[600], err[512];
    snprintf(dir, sizeof dir, "%s/zoneinfo", t_tmpdir());
    snprintf(path, sizeof path, "%s/Test", dir);
    CHECK(ut_mkdir_p(path, err, sizeof err) == 0);
    uint8_t buf[1024];
    tzspec s = base;
    s.footer = "<+0545>-5:45";
    size_t n = tz_build(buf, &s);
    snprintf(path, sizeof path, "%s/Test/Zone", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(buf, 1, n, f) == n);
    fclose(f);
    cr_zone *z = cr_zone_load_dir(dir, "Test/Zone", err, sizeof err);
    CHECK_MSG(z, "%s", err);
    CHECK_EQ_STR(cr_zone_name(z), "Test/Zone");
    CHECK_EQ_INT(cr_zone_offset(z, T("2026-01-01T00:00:00Z")), 20700);
    cr_zone_destroy(z);
    CHECK(cr_zone_load_dir(dir, "Test", err, sizeof err) == NULL);
    CHECK(strstr(err, "is not a zone file"));
    /* a file over the cap is refused before it is read */
    snprintf(path, sizeof path, "%s/Test/Big", dir);
    f = fopen(path, "wb");
    CHECK(f && fseek(f, CR_MAX_TZIF_BYTES, SEEK_SET) == 0 && fputc(0, f) == 0);
    fclose(f);
    CHECK(cr_zone_load_dir(dir, "Test/Big", err, sizeof err) == NULL);
    CHECK(strstr(err, "is over the cap of 65536 bytes"));
}

/* ---- windows ------------------------------------------------------------------------ */

static int64_t hours_of(cr_unit u, const char *zone, const char *t)
{
    cr_zone *z = zone ? Z(zone) : NULL;
    cr_window w;
    int64_t h = cr_window_info(u, z, T(t), &w) ? -1 : (w.end_us - w.start_us) / 3600000000LL;
    cr_zone_destroy(z);
    return h;
}

static const char *win(cr_unit u, const char *zone, const char *t)
{
    static char out[128];
    cr_zone *z = zone ? Z(zone) : NULL;
    cr_window w;
    if (cr_window_info(u, z, T(t), &w)) strcpy(out, "none");
    else snprintf(out, sizeof out, "%s %s %s %s %s", w.start, w.end, w.ds, w.ds_nodash, w.hr);
    cr_zone_destroy(z);
    return out;
}

TEST(cron_window_days_across_dst)
{
    CHECK_EQ_INT(hours_of(CR_DAY, "Europe/Berlin", "2026-03-29T12:00:00Z"), 23);
    CHECK_EQ_INT(hours_of(CR_DAY, "Europe/Berlin", "2026-10-25T12:00:00Z"), 25);
    CHECK_EQ_INT(hours_of(CR_DAY, "Europe/Berlin", "2026-10-26T12:00:00Z"), 24);
    CHECK_EQ_INT(hours_of(CR_DAY, "America/New_York", "2026-03-08T12:00:00Z"), 23);
    CHECK_EQ_INT(hours_of(CR_DAY, "America/New_York", "2026-11-01T12:00:00Z"), 25);
    CHECK_EQ_STR(win(CR_DAY, "Europe/Berlin", "2026-03-29T12:00:00Z"),
                 "2026-03-29T00:00:00+01:00 2026-03-30T00:00:00+02:00 2026-03-29 20260329 00");
    CHECK_EQ_STR(win(CR_DAY, "Europe/Berlin", "2026-10-24T22:30:00Z"), /* 00:30 CEST on the 25th */
                 "2026-10-25T00:00:00+02:00 2026-10-26T00:00:00+01:00 2026-10-25 20261025 00");
    CHECK_EQ_STR(win(CR_DAY, "America/New_York", "2026-11-02T04:59:59Z"),
                 "2026-11-01T00:00:00-04:00 2026-11-02T00:00:00-05:00 2026-11-01 20261101 00");
    CHECK_EQ_STR(win(CR_DAY, NULL, "2026-11-02T04:59:59Z"),
                 "2026-11-02T00:00:00+00:00 2026-11-03T00:00:00+00:00 2026-11-02 20261102 00");
    cr_zone *z = Z("Europe/Berlin");
    int64_t d = T("2026-03-29T12:00:00Z");
    CHECK_EQ_STR(S(cr_window_floor(CR_DAY, z, d)), "2026-03-28T23:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d, 1)), "2026-03-29T22:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d, -1)), "2026-03-27T23:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d, 0)), "2026-03-28T23:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d, 210)), "2026-10-24T22:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d, 211)), "2026-10-25T23:00:00Z");
    cr_zone_destroy(z);
}

TEST(cron_window_hours_across_dst)
{
    const char *b = "Europe/Berlin";
    /* spring: 01:00 CET is followed by 03:00 CEST; fall: the 02:00 window is two hours */
    CHECK_EQ_STR(win(CR_HOUR, b, "2026-03-29T00:30:00Z"),
                 "2026-03-29T01:00:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29 20260329 01");
    CHECK_EQ_STR(win(CR_HOUR, b, "2026-03-29T01:00:00Z"),
                 "2026-03-29T03:00:00+02:00 2026-03-29T04:00:00+02:00 2026-03-29 20260329 03");
    CHECK_EQ_STR(win(CR_HOUR, b, "2026-10-25T01:30:00Z"),
                 "2026-10-25T02:00:00+02:00 2026-10-25T03:00:00+01:00 2026-10-25 20261025 02");
    CHECK_EQ_INT(hours_of(CR_HOUR, b, "2026-10-25T00:10:00Z"), 2);
    CHECK_EQ_INT(hours_of(CR_HOUR, "Australia/Lord_Howe", "2026-10-03T15:40:00Z"), 0); /* 30 min */
    cr_zone *z = Z(b);
    int64_t t = T("2026-03-29T00:00:00Z"); /* 01:00 CET */
    CHECK_EQ_STR(S(cr_window_add(CR_HOUR, z, t, 1)), "2026-03-29T01:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_HOUR, z, t, 2)), "2026-03-29T02:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_HOUR, z, t + 3600000000LL, -1)), "2026-03-29T00:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_HOUR, z, t + 7200000000LL, -2)), "2026-03-29T00:00:00Z");
    /* a day of windows is 23 hour windows on the spring day, 25 on the fall day */
    int64_t d0 = cr_window_floor(CR_DAY, z, T("2026-03-29T12:00:00Z"));
    CHECK_EQ_INT(cr_window_add(CR_HOUR, z, d0, 23), cr_window_add(CR_DAY, z, d0, 1));
    d0 = cr_window_floor(CR_DAY, z, T("2026-10-25T12:00:00Z"));
    CHECK_EQ_INT(cr_window_add(CR_HOUR, z, d0, 24), cr_window_add(CR_DAY, z, d0, 1));
    /* a whole year of hour windows: 8760 minus the skipped one (the repeated is one window) */
    int64_t y0 = cr_window_floor(CR_MONTH, z, T("2026-01-15T00:00:00Z"));
    int64_t y1 = cr_window_add(CR_MONTH, z, y0, 12);
    CHECK_EQ_INT(cr_window_add(CR_HOUR, z, y0, 8760 - 1), y1);
    CHECK_EQ_INT(cr_window_add(CR_HOUR, z, y1, -(8760 - 1)), y0);
    /* stepping one at a time agrees with one jump */
    int64_t w = y0;
    for (int i = 0; i < 2000; i++) w = cr_window_add(CR_HOUR, z, w, 1);
    CHECK_EQ_INT(w, cr_window_add(CR_HOUR, z, y0, 2000));
    cr_zone_destroy(z);
    CHECK_EQ_STR(win(CR_HOUR, "Asia/Kolkata", "2026-01-01T00:00:00Z"),
                 "2026-01-01T05:00:00+05:30 2026-01-01T06:00:00+05:30 2026-01-01 20260101 05");
    CHECK_EQ_STR(win(CR_HOUR, "Asia/Kathmandu", "2026-01-01T00:00:00Z"),
                 "2026-01-01T05:00:00+05:45 2026-01-01T06:00:00+05:45 2026-01-01 20260101 05");
}

TEST(cron_window_months)
{
    CHECK_EQ_STR(win(CR_MONTH, NULL, "2028-02-15T00:00:00Z"),
                 "2028-02-01T00:00:00+00:00 2028-03-01T00:00:00+00:00 2028-02-01 20280201 00");
    CHECK_EQ_INT(hours_of(CR_MONTH, NULL, "2028-02-29T23:59:59Z"), 29 * 24);
    CHECK_EQ_INT(hours_of(CR_MONTH, NULL, "2026-02-01T00:00:00Z"), 28 * 24);
    CHECK_EQ_INT(hours_of(CR_MONTH, NULL, "2100-02-10T00:00:00Z"), 28 * 24);
    CHECK_EQ_INT(hours_of(CR_MONTH, "Europe/Berlin", "2026-03-31T21:59:59Z"), 31 * 24 - 1);
    CHECK_EQ_INT(hours_of(CR_MONTH, "Europe/Berlin", "2026-10-31T22:59:59Z"), 31 * 24 + 1);
    CHECK_EQ_STR(win(CR_MONTH, "Europe/Berlin", "2026-03-31T22:00:00Z"),
                 "2026-04-01T00:00:00+02:00 2026-05-01T00:00:00+02:00 2026-04-01 20260401 00");
    cr_zone *z = Z("America/New_York");
    int64_t jan31 = T("2026-01-31T12:00:00Z");
    CHECK_EQ_STR(S(cr_window_floor(CR_MONTH, z, jan31)), "2026-01-01T05:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_MONTH, z, jan31, 1)), "2026-02-01T05:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_MONTH, z, jan31, 13)), "2027-02-01T05:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_MONTH, z, jan31, -1)), "2025-12-01T05:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_MONTH, z, jan31, -13)), "2024-12-01T05:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_MONTH, z, jan31, 5)), "2026-06-01T04:00:00Z");
    cr_zone_destroy(z);
}

TEST(cron_window_skipped_day_and_old_offsets)
{
    /* Samoa skipped 2011-12-30: the 29th is followed by the 31st */
    CHECK_EQ_STR(win(CR_DAY, "Pacific/Apia", "2011-12-30T09:59:59Z"),
                 "2011-12-29T00:00:00-10:00 2011-12-31T00:00:00+14:00 2011-12-29 20111229 00");
    CHECK_EQ_STR(win(CR_DAY, "Pacific/Apia", "2011-12-30T10:00:00Z"),
                 "2011-12-31T00:00:00+14:00 2012-01-01T00:00:00+14:00 2011-12-31 20111231 00");
    cr_zone *z = Z("Pacific/Apia");
    int64_t d28 = T("2011-12-28T12:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, d28, 2)), "2011-12-30T10:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, T("2011-12-30T10:00:00Z"), -1)),
                 "2011-12-29T10:00:00Z");
    CHECK_EQ_STR(S(cr_window_add(CR_DAY, z, T("2011-12-30T10:00:00Z"), -2)),
                 "2011-12-28T10:00:00Z");
    cr_zone_destroy(z);
    /* Berlin's local mean time (+00:53:28) cannot be written in RFC 3339: UTC */
    CHECK_EQ_STR(win(CR_DAY, "Europe/Berlin", "1890-06-01T12:00:00Z"),
                 "1890-05-31T23:06:32+00:00 1890-06-01T23:06:32+00:00 1890-06-01 18900601 00");
}

TEST(cron_window_range_and_units)
{
    cr_window w;
    CHECK(cr_window_info(CR_DAY, NULL, CR_MAX_US, &w) == -1); /* ends in year 10000 */
    CHECK(cr_window_info(CR_DAY, NULL, CR_MAX_US + 1, &w) == -1);
    CHECK(cr_window_info(CR_DAY, NULL, T("9999-12-30T12:00:00Z"), &w) == 0);
    CHECK_EQ_STR(w.ds, "9999-12-30");
    CHECK_EQ_INT(cr_window_floor(CR_DAY, NULL, INT64_MIN), CR_NO_PREV);
    CHECK_EQ_INT(cr_window_add(CR_MONTH, NULL, T("9999-12-15T00:00:00Z"), 1), CR_NO_NEXT);
    CHECK_EQ_INT(cr_window_add(CR_MONTH, NULL, T("0001-01-15T00:00:00Z"), -1), CR_NO_PREV);
    CHECK_EQ_INT(cr_window_add(CR_HOUR, NULL, 0, INT64_MAX), CR_NO_NEXT);
    CHECK_EQ_INT(cr_window_add(CR_HOUR, NULL, 0, INT64_MIN), CR_NO_PREV);
    CHECK_EQ_STR(S(cr_window_add(CR_HOUR, NULL, 0, 24LL * 365 * 100)), "2069-12-07T00:00:00Z");
    cr_unit u;
    CHECK(cr_unit_parse("Day", &u) == 0 && u == CR_DAY);
    CHECK(cr_unit_parse("hour", &u) == 0 && u == CR_HOUR);
    CHECK(cr_unit_parse("month", &u) == 0 && u == CR_MONTH);
    CHECK(cr_unit_parse("week", &u) == -1);
    CHECK(cr_unit_parse(NULL, &u) == -1);
    CHECK_EQ_STR(cr_unit_name(CR_MONTH), "month");
}

/* ---- random rules ------------------------------------------------------------------- */

static uint64_t rnd_state = 7;
static uint64_t rnd(uint64_t n)
{
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rnd_state >> 17) % n;
}

static int rnd_hms(char *out, size_t cap, int maxh, int sign)
{
    int h = (int)rnd((uint64_t)maxh + 1);
    int m = rnd(3) ? 0 : (int)rnd(60), s = rnd(4) ? 0 : (int)rnd(60);
    const char *sg = sign && rnd(2) ? "-" : "";
    return snprintf(out, cap, "%s%d:%02d:%02d", sg, h, m, s);
}

static void rnd_date(char *out, size_t cap)
{
    char t[32];
    rnd_hms(t, sizeof t, rnd(4) ? 5 : 167, 1);
    switch (rnd(3)) {
    case 0: snprintf(out, cap, "J%d/%s", 1 + (int)rnd(365), t); break;
    case 1: snprintf(out, cap, "%d/%s", (int)rnd(366), t); break;
    default: snprintf(out, cap, "M%d.%d.%d/%s", 1 + (int)rnd(12), 1 + (int)rnd(5), (int)rnd(7), t);
    }
}

/* Do the zone's real offset changes in [lo, hi] lie at least 3 days apart
 * (more than any jump)?  Then wall times map to instants monotonically and
 * the documented rules are exact there. */
static int tame(const cr_zone *z, int64_t lo, int64_t hi)
{
    const int64_t gap = 3 * 86400 * 1000000LL;
    cr__span sp;
    cr__zone_span(z, lo - gap, &sp);
    int64_t last = CR__FAR_PAST;
    for (int k = 0; k < 4096; k++) {
        if (sp.prev != sp.off) {
            if (sp.start - last < gap) return 0;
            last = sp.start;
        }
        if (sp.end > hi + gap || sp.end >= CR__FAR_FUTURE) return 1;
        cr__zone_span(z, sp.end, &sp);
    }
    return 0;
}

/* Rules of every shape (offsets up to 25 h apart either way, DST of minutes
 * or all year, dates in any order): answers stay on the right side of their
 * instant; where the zone is tame (see above) next/prev agree, windows tile
 * and wall times map back. */
TEST(cron_random_posix_rules_are_consistent)
{
    static const char *const scheds[] = {"*/20 * * * *", "30 2 * * *", "0 0 * * *", "0 0 1 * *"};
    int exact = 0, cases = 0;
    for (int r = 0; r < 400; r++) {
        char rule[200], a[32], b[32], d1[48], d2[48], err[256];
        rnd_hms(a, sizeof a, 24, 1);
        rnd_hms(b, sizeof b, 24, 1);
        rnd_date(d1, sizeof d1);
        rnd_date(d2, sizeof d2);
        if (rnd(2)) snprintf(rule, sizeof rule, "AAA%sBBB,%s,%s", a, d1, d2);
        else snprintf(rule, sizeof rule, "AAA%sBBB%s,%s,%s", a, b, d1, d2);
        cr_zone *z = cr_zone_from_posix(rule, err, sizeof err);
        CHECK_MSG(z, "%s: %s", rule, err);
        for (int k = 0; k < 12; k++, cases++) {
            int64_t t = T("1990-01-01T00:00:00Z") + (int64_t)rnd(60ULL * 366 * 86400) * 1000000 +
                        (rnd(2) ? 0 : (int64_t)rnd(1000000));
            const int64_t day = 86400 * 1000000LL;
            int ok = tame(z, t - 40 * day, t + 70 * day);
            exact += ok;
            cr_local l;
            CHECK(cr_zone_to_utc(z, t, &l) == 0);
            CHECK_MSG(!ok || l.kind != CR_LOCAL_OK ||
                          l.first_us + cr_zone_offset(z, l.first_us) * 1000000LL == t,
                      "%s: local %s -> %s", rule, S(t), S(l.first_us));
            for (int u = CR_HOUR; u <= CR_MONTH; u++) {
                int64_t f = cr_window_floor((cr_unit)u, z, t);
                int64_t e = cr_window_add((cr_unit)u, z, t, 1);
                CHECK(e > t);
                CHECK_MSG(!ok || (f <= t && cr_window_floor((cr_unit)u, z, e) == e &&
                                  cr_window_add((cr_unit)u, z, e, -1) == f),
                          "%s %s at %s: floor %s add %s", rule, cr_unit_name((cr_unit)u), S(t),
                          S(f), S(e));
            }
            for (size_t i = 0; i < sizeof scheds / sizeof scheds[0]; i++) {
                cr_schedule *s = P(scheds[i]);
                int64_t n = cr_next(s, z, t), p = cr_prev(s, z, n), q = cr_prev(s, z, t);
                int64_t qn = cr_next(s, z, q);
                CHECK(n > t && q < t && p < n);
                CHECK_MSG(!ok || (p <= t && cr_next(s, z, p) == n && (qn == n || qn == t)),
                          "%s '%s' at %s: next %s prev(next) %s prev %s", rule, scheds[i], S(t),
                          S(n), S(p), S(q));
                cr_schedule_destroy(s);
            }
        }
        cr_zone_destroy(z);
    }
    CHECK_MSG(exact * 2 > cases, "only %d of %d cases were tame", exact, cases);
}
