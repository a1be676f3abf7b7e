/* cr_parse / cr_parse_every: schedule text -> cr_schedule.
 *
 * Pipeline: cap the text at CR_MAX_TEXT and trim it; "every D" goes to the
 * interval parser, a macro (@daily) is replaced by its five fields; the rest
 * is split into exactly five whitespace-separated fields, each a comma list
 * of items (*, N, A-B, * /S, A-B/S; names in month and day-of-week), which
 * set bits; day-of-week 7 folds into 0 (Sunday); last, a day-of-month and
 * month combination that no year has (30 February) is refused, so cr_next
 * always finds a fire within 400 years.
 *
 * Every message reads "cron '<text>': <field>: '<token>' <problem>", the
 * text and token shown with non-printable bytes escaped. */
#include "cron/cr_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names for lo.. (month) or 0.. (dow) */
    const char *expect;       /* what a token must be, for messages */
} field;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, NFIELDS };

static const field fields[NFIELDS] = {
    {"minute", 0, 59, NULL, "a number 0-59"},
    {"hour", 0, 23, NULL, "a number 0-23"},
    {"day-of-month", 1, 31, NULL, "a number 1-31"},
    {"month", 1, 12, month_names, "a month 1-12 or JAN-DEC"},
    {"day-of-week", 0, 7, day_names, "a day 0-7 or SUN-SAT (0 and 7 are Sunday)"},
};

static const struct {
    const char *name, *fields;
} macros[] = {
    {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

typedef struct px {
    char shown[CR_MAX_TEXT * 4 + 8]; /* the whole text, escaped */
    const char *what;                /* "cron" or "every" */
    char *err;
    size_t errlen;
} px;

/* s[0..n) for a message: printable ASCII as is, other bytes \xNN. */
static const char *escape(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = 0;
    return out;
}

/* "cron '<text>': <field>: '<tok>' <problem>" (field or tok may be NULL). */
__attribute__((format(printf, 5, 6))) static int fail(const px *p, const char *fname,
                                                      const char *tok, size_t n,
                                                      const char *fmt, ...)
{
    char t[CR_MAX_TEXT * 4 + 8], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ut_err(p->err, p->errlen, "%s '%s': %s%s%s%s%s%s", p->what, p->shown,
                  fname ? fname : "", fname ? ": " : "", tok ? "'" : "",
                  tok ? escape(t, sizeof t, tok, n) : "", tok ? "' " : "", msg);
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* ---- one field -------------------------------------------------------------- */

/* A number or (for month / day-of-week) a 3-letter name: s[0..n), a part of
 * the item it[0..itn) (shown instead when the part is empty: "-5"). */
static int value(const px *p, const field *f, const char *s, size_t n, const char *it,
                 size_t itn, int *v)
{
    if (n == 0) return fail(p, f->name, it, itn, "is not %s", f->expect);
    if (f->names && n == 3 && isalpha((unsigned char)s[0])) {
        for (int i = 0; f->names[i]; i++)
            if (!strncasecmp(s, f->names[i], 3)) {
                *v = i + (f->names == month_names ? 1 : 0);
                return 0;
            }
    }
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return fail(p, f->name, s, n, "is not %s", f->expect);
        if (x < 1000) x = x * 10 + (s[i] - '0');
    }
    if (x < f->lo || x > f->hi)
        return fail(p, f->name, s, n, "is out of range %d-%d", f->lo, f->hi);
    *v = x;
    return 0;
}

/* One list item: *, N, A-B, * /S or A-B/S, into *bits. */
static int item(const px *p, const field *f, const char *s, size_t n, uint64_t *bits)
{
    const char *slash = memchr(s, '/', n);
    size_t bn = slash ? (size_t)(slash - s) : n;
    int a, b, step = 1;
    if (bn == 1 && s[0] == '*') {
        a = f->lo, b = f->hi;
    } else {
        const char *dash = memchr(s, '-', bn);
        size_t an = dash ? (size_t)(dash - s) : bn;
        if (value(p, f, s, an, s, n, &a)) return -1;
        b = a;
        if (dash && value(p, f, dash + 1, bn - an - 1, s, n, &b)) return -1;
        if (!dash && slash)
            return fail(p, f->name, s, n, "has a step but no range: write %d-%d/%.*s or */%.*s",
                        a, f->hi, (int)(n - bn - 1), slash + 1, (int)(n - bn - 1), slash + 1);
        /* MON-SUN: Sunday at the end of a day-of-week range is 7 */
        if (dash && f->names == day_names && b == 0 && a > 0) b = 7;
        if (a > b) return fail(p, f->name, s, bn, "runs backwards (the start is after the end)");
    }
    if (slash) {
        const char *t = slash + 1;
        size_t tn = n - bn - 1, i = 0;
        for (step = 0; i < tn && isdigit((unsigned char)t[i]) && step <= f->hi; i++)
            step = step * 10 + (t[i] - '0');
        if (tn == 0 || i < tn || step < 1 || step > f->hi)
            return fail(p, f->name, s, n, "has a step that is not a number 1-%d", f->hi);
    }
    for (int v = a; v <= b; v += step) *bits |= (uint64_t)1 << v;
    return 0;
}

/* A comma-separated list of items. */
static int list(const px *p, const field *f, const char *s, size_t n, uint64_t *bits)
{
    size_t i = 0;
    *bits = 0;
    for (;;) {
        const char *c = memchr(s + i, ',', n - i);
        size_t e = c ? (size_t)(c - s) : n;
        if (e == i) return fail(p, f->name, s, n, "has an empty list item");
        if (item(p, f, s + i, e - i, bits)) return -1;
        if (!c) return 0;
        i = e + 1;
    }
}

/* ---- the five fields -------------------------------------------------------- */

/* Does any listed month have any listed day in some year (Feb 29 counts)? */
static int days_exist(const cr_schedule *s)
{
    for (unsigned m = 1; m <= 12; m++) {
        if (!(s->months >> m & 1)) continue;
        int most = m == 2 ? 29 : cr__mdays(1, m);
        for (int d = 1; d <= most; d++)
            if (s->mdays >> d & 1) return 1;
    }
    return 0;
}

static int five(const px *p, const char *s, size_t n, cr_schedule *out)
{
    const char *tok[NFIELDS + 1];
    size_t len[NFIELDS + 1];
    int nf = 0;
    for (size_t i = 0; i < n && nf <= NFIELDS;) {
        if (is_space(s[i])) { i++; continue; }
        size_t j = i;
        while (j < n && !is_space(s[j])) j++;
        tok[nf] = s + i, len[nf] = j - i, nf++;
        i = j;
    }
    if (nf != NFIELDS)
        return fail(p, NULL, NULL, 0,
                    "expected 5 fields (minute hour day-of-month month day-of-week), got %s%d%s",
                    nf > NFIELDS ? "more than " : "", nf > NFIELDS ? NFIELDS : nf,
                    nf > NFIELDS ? " (seconds and years are not supported)" : "");
    uint64_t bits[NFIELDS];
    for (int k = 0; k < NFIELDS; k++)
        if (list(p, &fields[k], tok[k], len[k], &bits[k])) return -1;
    out->minutes = bits[F_MIN];
    out->hours = (uint32_t)bits[F_HOUR];
    out->mdays = (uint32_t)bits[F_DOM];
    out->months = (uint16_t)bits[F_MON];
    out->wdays = (uint8_t)((bits[F_DOW] | bits[F_DOW] >> 7) & 0x7f);
    out->dom_star = tok[F_DOM][0] == '*';
    out->dow_star = tok[F_DOW][0] == '*';
    if ((out->dom_star || out->dow_star) && !days_exist(out))
        return fail(p, fields[F_DOM].name, tok[F_DOM], len[F_DOM],
                    "never occurs in the months given ('%.*s')", (int)len[F_MON], tok[F_MON]);
    return 0;
}

/* ---- intervals ---------------------------------------------------------------- */

/* "15m", "90 s", "2D": digits, an optional space, a unit (none = seconds). */
static int every(const px *p, const char *s, size_t n, int64_t *us)
{
    static const struct {
        const char *u;
        int64_t mul;
    } units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    size_t i = 0;
    int64_t v = 0;
    while (i < n && isdigit((unsigned char)s[i])) {
        if (v <= CR_MAX_EVERY_S) v = v * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0 || (i < n && s[i] == '.'))
        return fail(p, NULL, s, n, "is not a whole-number duration like 15m, 90s, 1h or 2d");
    size_t d = i;
    if (i < n && s[i] == ' ') i++;
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (strlen(units[k].u) != n - i || strncasecmp(s + i, units[k].u, n - i)) continue;
        if (!units[k].u[0] && i != d) break;
        if (v * units[k].mul > CR_MAX_EVERY_S)
            return fail(p, NULL, s, n, "is over the maximum of 366d");
        if (v == 0) return fail(p, NULL, s, n, "is under the minimum of 1s");
        *us = v * units[k].mul * CR__US;
        return 0;
    }
    if (n - i == 2 && !strncasecmp(s + i, "ms", 2))
        return fail(p, NULL, s, n, "is not whole seconds: intervals are at least 1s");
    return fail(p, NULL, s, n, "has an unknown unit: use s, m, h or d (15m, 90s, 1h, 2d)");
}

/* ---- entry points --------------------------------------------------------------- */

/* Trimmed text[0..*n) (*n = 0: empty), or NULL when over the cap. */
static const char *trim(const char *text, size_t *n)
{
    size_t len = strnlen(text, CR_MAX_TEXT + 1);
    if (len > CR_MAX_TEXT) return NULL;
    while (len && is_space(text[len - 1])) len--;
    while (len && is_space(*text)) text++, len--;
    *n = len;
    return text;
}

static cr_schedule *parse(const char *text, const char *what, int only_every, char *err,
                          size_t errlen)
{
    px p = {.what = what, .err = err, .errlen = errlen};
    size_t n;
    const char *s = text ? trim(text, &n) : NULL;
    if (!text) return ut_err(err, errlen, "%s: no schedule given", what), NULL;
    if (!s) return ut_err(err, errlen, "%s: longer than %d bytes", what, CR_MAX_TEXT), NULL;
    escape(p.shown, sizeof p.shown, s, n);
    if (!n) return fail(&p, NULL, NULL, 0, "is empty"), NULL;
    cr_schedule sc = {0};
    if (!only_every && n >= 6 && !strncasecmp(s, "every:", 6)) {
        size_t k = 6;
        char rest[CR_MAX_TEXT * 4 + 8];
        while (k < n && is_space(s[k])) k++;
        return fail(&p, NULL, NULL, 0, "has a ':': write 'every %s' (or use the job's every: key)",
                    escape(rest, sizeof rest, s + k, n - k)), NULL;
    }
    if (only_every || (n > 6 && !strncasecmp(s, "every", 5) && is_space(s[5]))) {
        size_t k = only_every ? 0 : 6;
        while (k < n && is_space(s[k])) k++;
        if (every(&p, s + k, n - k, &sc.every_us)) return NULL;
    } else if (s[0] == '@') {
        size_t k = 0, nm = sizeof macros / sizeof macros[0];
        while (k < nm && (strlen(macros[k].name) != n || strncasecmp(s, macros[k].name, n))) k++;
        if (k == nm)
            return fail(&p, NULL, NULL, 0, "is not a known macro (@hourly, @daily, @midnight, "
                                           "@weekly, @monthly, @yearly, @annually)"), NULL;
        if (five(&p, macros[k].fields, strlen(macros[k].fields), &sc)) return NULL;
    } else if (five(&p, s, n, &sc)) {
        return NULL;
    }
    cr_schedule *out = ut_malloc(sizeof *out);
    *out = sc;
    return out;
}

cr_schedule *cr_parse(const char *text, char *err, size_t errlen)
{
    return parse(text, "cron", 0, err, errlen);
}

cr_schedule *cr_parse_every(const char *text, char *err, size_t errlen)
{
    return parse(text, "every", 1, err, errlen);
}

void cr_schedule_destroy(cr_schedule *s)
{
    free(s);
}

int64_t cr_schedule_every_us(const cr_schedule *s)
{
    return s->every_us;
}
