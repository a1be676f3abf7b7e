/* The original text of timestamp columns: a file's TIMESTAMP column holds
 * instants (INT64 µs, UTC); its footer key "sluice.ts_text.<column>" holds
 * how each row's text looked besides the instant (its layout: separator,
 * fraction digits, leap second, zone and offset), so a column that widens to
 * string later reads back every record's text byte for byte.
 *
 *   value := "1;" layouts ";" runs
 *   layouts := token ("," token)*      token: sep digits ["L"] zone, or "?"
 *       sep 'T' 't' '_' (a space); digits 0-9; L: the seconds were 60;
 *       zone 'Z' 'z' 'N' (none) "+HH:MM" "+HHMM" (or '-'); "?": the form
 *       files without this key read as (ut_ts_format_fixed)
 *   runs := run ("," run)*              run: index ["*" count]
 *       consecutive rows of one layout; the counts add up to the file's
 *       rows; a null row belongs to the run it falls in (the first run
 *       starts at row 0)
 *
 * e.g. "1;T0+05:30,t3z;0*120,1,0*5000".  A value is at most LK_TSTEXT_MAX
 * bytes: writers check lk_tstext_room before every row and start a new file
 * when it says no, so the text is never dropped. */
#include "lake/lk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEGACY 0xffffffffu
#define ROW_COST 48 /* the most one note adds to the encoded length (bound) */
#define LAST_RESERVE 21 /* "*" and 20 digits: the last run's count, not known yet */

struct lk_tstext {
    uint32_t *lay;       /* layouts, packed (pack) */
    int nlay, cap_lay;
    int64_t *start;      /* runs: first row */
    uint32_t *idx;       /* runs: layout index */
    int nrun, cap_run;
    uint32_t *hkey;      /* packed layout -> index + 1 (0 = empty slot) */
    int *hval;
    int hcap;
    int64_t begin;       /* the row that began the last run */
    size_t size;         /* bound of the encoded length */
    int hint;            /* run of the last lookup */
};

/* ---- layouts ------------------------------------------------------------------ */

static uint32_t pack(const ut_ts_layout *l)
{
    if (!l) return LEGACY;
    uint32_t sep = l->sep == 't' ? 1 : l->sep == ' ' ? 2 : 0;
    return sep | (uint32_t)(l->digits & 15) << 2 | (uint32_t)(l->leap & 1) << 6 |
           (uint32_t)(l->zone & 7) << 7 | (uint32_t)(l->neg & 1) << 10 |
           (uint32_t)(l->off_min & 2047) << 11;
}

static void unpack(uint32_t k, ut_ts_layout *l)
{
    memset(l, 0, sizeof *l);
    l->sep = (k & 3) == 1 ? 't' : (k & 3) == 2 ? ' ' : 'T';
    l->digits = (uint8_t)(k >> 2 & 15);
    l->leap = (uint8_t)(k >> 6 & 1);
    l->zone = (uint8_t)(k >> 7 & 7);
    l->neg = (uint8_t)(k >> 10 & 1);
    l->off_min = (uint16_t)(k >> 11 & 2047);
}

/* The token of layout k into out[16]; returns its length. */
static int token(uint32_t k, char *out)
{
    if (k == LEGACY) return snprintf(out, 16, "?");
    ut_ts_layout l;
    unpack(k, &l);
    int n = snprintf(out, 16, "%c%u%s", l.sep == ' ' ? '_' : l.sep, l.digits, l.leap ? "L" : "");
    char sign = l.neg ? '-' : '+';
    int oh = l.off_min / 60 % 100, om = l.off_min % 60;
    switch (l.zone) {
    case UT_TZ_Z: out[n++] = 'Z'; break;
    case UT_TZ_LOWER_Z: out[n++] = 'z'; break;
    case UT_TZ_COLON: n += snprintf(out + n, (size_t)(16 - n), "%c%02d:%02d", sign, oh, om); break;
    case UT_TZ_PLAIN: n += snprintf(out + n, (size_t)(16 - n), "%c%02d%02d", sign, oh, om); break;
    default: out[n++] = 'N'; break;
    }
    out[n] = 0;
    return n;
}

static int two(const char *p, int *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 0;
}

/* Parse token p[0..n) into *k.  0 or -1. */
static int parse_token(const char *p, size_t n, uint32_t *k)
{
    if (n == 1 && p[0] == '?') return *k = LEGACY, 0;
    ut_ts_layout l = {0};
    if (n < 3 || (p[0] != 'T' && p[0] != 't' && p[0] != '_') || p[1] < '0' || p[1] > '9') return -1;
    l.sep = p[0] == '_' ? ' ' : p[0];
    l.digits = (uint8_t)(p[1] - '0');
    size_t i = 2;
    if (p[i] == 'L') l.leap = 1, i++;
    size_t z = n - i;
    int oh, om;
    if (z == 1 && (p[i] == 'Z' || p[i] == 'z' || p[i] == 'N')) {
        l.zone = p[i] == 'Z' ? UT_TZ_Z : p[i] == 'z' ? UT_TZ_LOWER_Z : UT_TZ_NONE;
    } else if ((z == 6 || z == 5) && (p[i] == '+' || p[i] == '-') && !two(p + i + 1, &oh) &&
               (z == 5 || p[i + 3] == ':') && !two(p + i + (z == 6 ? 4 : 3), &om) && oh <= 23 &&
               om <= 59) {
        l.zone = z == 6 ? UT_TZ_COLON : UT_TZ_PLAIN;
        l.neg = p[i] == '-';
        l.off_min = (uint16_t)(oh * 60 + om);
    } else {
        return -1;
    }
    *k = pack(&l);
    return 0;
}

/* ---- the accumulator -------------------------------------------------------------- */

lk_tstext *lk_tstext_create(void)
{
    lk_tstext *t = ut_calloc(1, sizeof *t);
    t->size = 2; /* "1;" */
    return t;
}

void lk_tstext_destroy(lk_tstext *t)
{
    if (!t) return;
    free(t->lay);
    free(t->start);
    free(t->idx);
    free(t->hkey);
    free(t->hval);
    free(t);
}

static size_t ndig(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) v /= 10, n++;
    return n;
}

/* Encoded length of run i (a finished run: its count is known), with its comma. */
static size_t run_len(uint32_t idx, int64_t count)
{
    return ndig(idx) + (count > 1 ? 1 + ndig((uint64_t)count) : 0) + 1;
}

static size_t last_reserve(uint32_t idx) { return ndig(idx) + LAST_RESERVE + 1; }

static void hash_put(lk_tstext *t, uint32_t k, int v);

static void hash_grow(lk_tstext *t)
{
    int old = t->hcap;
    uint32_t *ok = t->hkey;
    int *ov = t->hval;
    t->hcap = old ? old * 2 : 64;
    t->hkey = ut_calloc((size_t)t->hcap, sizeof *t->hkey);
    t->hval = ut_calloc((size_t)t->hcap, sizeof *t->hval);
    for (int i = 0; i < old; i++)
        if (ov[i]) hash_put(t, ok[i], ov[i]);
    free(ok);
    free(ov);
}

static void hash_put(lk_tstext *t, uint32_t k, int v)
{
    uint32_t h = (k * 2654435761u) & (uint32_t)(t->hcap - 1);
    while (t->hval[h]) h = (h + 1) & (uint32_t)(t->hcap - 1);
    t->hkey[h] = k;
    t->hval[h] = v;
}

/* Index of layout k, added when new. */
static uint32_t layout_index(lk_tstext *t, uint32_t k)
{
    if (t->nlay && t->lay[t->nlay - 1] == k) return (uint32_t)t->nlay - 1;
    if (t->nlay * 2 >= t->hcap) hash_grow(t);
    uint32_t h = (k * 2654435761u) & (uint32_t)(t->hcap - 1);
    for (; t->hval[h]; h = (h + 1) & (uint32_t)(t->hcap - 1))
        if (t->hkey[h] == k) return (uint32_t)t->hval[h] - 1;
    if (t->nlay == t->cap_lay) {
        t->cap_lay = t->cap_lay ? t->cap_lay * 2 : 8;
        t->lay = ut_realloc(t->lay, (size_t)t->cap_lay * sizeof *t->lay);
    }
    t->lay[t->nlay++] = k;
    hash_put(t, k, t->nlay);
    char tok[16];
    t->size += (size_t)token(k, tok) + 1;
    return (uint32_t)t->nlay - 1;
}

int lk_tstext_room(const lk_tstext *t)
{
    return t->size + ROW_COST <= LK_TSTEXT_MAX;
}

void lk_tstext_note(lk_tstext *t, int64_t row, const ut_ts_layout *lay)
{
    assert(lk_tstext_room(t));
    assert(row >= t->begin);
    uint32_t li = layout_index(t, pack(lay));
    int last = t->nrun - 1;
    if (last >= 0 && row == t->begin) { /* the last run's first row again (a cancelled row) */
        if (t->idx[last] == li) return;
        t->size -= last_reserve(t->idx[last]); /* drop that run */
        t->nrun--;
        if (--last >= 0) { /* the run before is the last one again */
            t->size -= run_len(t->idx[last], t->start[last + 1] - t->start[last]);
            t->size += last_reserve(t->idx[last]);
            t->begin = t->start[last];
        }
    }
    if (last >= 0 && t->idx[last] == li) return; /* the run goes on */
    if (last >= 0) { /* the last run ends before row */
        t->size -= last_reserve(t->idx[last]);
        t->size += run_len(t->idx[last], row - t->start[last]);
    }
    if (t->nrun == t->cap_run) {
        t->cap_run = t->cap_run ? t->cap_run * 2 : 16;
        t->start = ut_realloc(t->start, (size_t)t->cap_run * sizeof *t->start);
        t->idx = ut_realloc(t->idx, (size_t)t->cap_run * sizeof *t->idx);
    }
    t->start[t->nrun] = t->nrun ? row : 0; /* nulls before the first value belong to it */
    t->idx[t->nrun++] = li;
    t->begin = row;
    t->size += last_reserve(li);
}

int lk_tstext_encode(const lk_tstext *t, int64_t rows, ut_buf *b)
{
    int nrun = t->nrun;
    while (nrun > 0 && t->start[nrun - 1] >= rows) nrun--; /* rows noted, then cancelled */
    if (!nrun) return -1;
    size_t at = b->len;
    char tok[16];
    ut_buf_puts(b, "1;");
    for (int i = 0; i < t->nlay; i++) {
        if (i) ut_buf_putc(b, ',');
        ut_buf_put(b, tok, (size_t)token(t->lay[i], tok));
    }
    ut_buf_putc(b, ';');
    for (int i = 0; i < nrun; i++) {
        int64_t end = i + 1 < nrun ? t->start[i + 1] : rows;
        ut_buf_printf(b, i ? ",%u" : "%u", t->idx[i]);
        if (end - t->start[i] > 1) ut_buf_printf(b, "*%lld", (long long)(end - t->start[i]));
    }
    assert(b->len - at <= t->size && b->len - at <= LK_TSTEXT_MAX);
    ut_buf_putc(b, 0);
    b->len--;
    return 0;
}

/* ---- decoding and lookup ------------------------------------------------------------ */

/* The runs of text p (after the layouts) into t; 0 or -1 with a message. */
static int parse_runs(lk_tstext *t, const char *p, int64_t rows, char *err, size_t errlen)
{
    int64_t row = 0;
    while (*p) {
        char *end;
        unsigned long long i = strtoull(p, &end, 10), count = 1;
        if (end == p || *p < '0' || *p > '9' || i >= (unsigned long long)t->nlay)
            return ut_err(err, errlen, "bad run at '%.20s'", p);
        p = end;
        if (*p == '*') {
            count = strtoull(++p, &end, 10);
            if (end == p || *p < '0' || *p > '9' || count < 2 || count > (unsigned long long)rows)
                return ut_err(err, errlen, "bad run count at '%.20s'", p);
            p = end;
        }
        if (*p && (*p++ != ',' || !*p)) return ut_err(err, errlen, "bad run separator");
        if (row + (int64_t)count > rows)
            return ut_err(err, errlen, "runs cover more than the file's %lld rows", (long long)rows);
        if (t->nrun == t->cap_run) {
            t->cap_run = t->cap_run ? t->cap_run * 2 : 16;
            t->start = ut_realloc(t->start, (size_t)t->cap_run * sizeof *t->start);
            t->idx = ut_realloc(t->idx, (size_t)t->cap_run * sizeof *t->idx);
        }
        t->start[t->nrun] = row;
        t->idx[t->nrun++] = (uint32_t)i;
        row += (int64_t)count;
    }
    if (row != rows)
        return ut_err(err, errlen, "runs cover %lld of the file's %lld rows", (long long)row,
                      (long long)rows);
    return 0;
}

lk_tstext *lk_tstext_decode(const char *text, int64_t rows, char *err, size_t errlen)
{
    size_t n = strlen(text);
    if (n > LK_TSTEXT_MAX) return ut_err(err, errlen, "over %d bytes", LK_TSTEXT_MAX), NULL;
    if (strncmp(text, "1;", 2)) return ut_err(err, errlen, "unknown version"), NULL;
    lk_tstext *t = lk_tstext_create();
    const char *p = text + 2;
    for (;;) {
        size_t k = strcspn(p, ",;");
        uint32_t key;
        if (!p[k] || parse_token(p, k, &key)) {
            ut_err(err, errlen, "bad layout '%.*s'", (int)(k < 20 ? k : 20), p);
            goto fail;
        }
        if (t->nlay == t->cap_lay) {
            t->cap_lay = t->cap_lay ? t->cap_lay * 2 : 8;
            t->lay = ut_realloc(t->lay, (size_t)t->cap_lay * sizeof *t->lay);
        }
        t->lay[t->nlay++] = key;
        p += k + 1;
        if (p[-1] == ';') break;
    }
    if (parse_runs(t, p, rows, err, errlen)) goto fail;
    return t;
fail:
    lk_tstext_destroy(t);
    return NULL;
}

/* The layout index of row `row` (runs sorted by start; sequential reads hit
 * the hint). */
static uint32_t lookup(lk_tstext *t, int64_t row)
{
    int h = t->hint;
    if (h < t->nrun && t->start[h] <= row && (h + 1 == t->nrun || row < t->start[h + 1]))
        return t->idx[h];
    int lo = 0, hi = t->nrun - 1; /* the last run starting at or before row */
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        if (t->start[mid] <= row) lo = mid;
        else hi = mid - 1;
    }
    t->hint = lo;
    return t->idx[lo];
}

int lk_tstext_layout(lk_tstext *t, int64_t row, ut_ts_layout *lay)
{
    if (!t->nrun) return 1;
    uint32_t k = t->lay[lookup(t, row)];
    if (k == LEGACY) return 1;
    unpack(k, lay);
    return 0;
}

int lk_tstext_render(lk_tstext *t, int64_t row, int64_t us, char *out)
{
    ut_ts_layout lay;
    if (!t || lk_tstext_layout(t, row, &lay)) return ut_ts_format_fixed(out, us);
    return ut_ts_render(out, us, &lay);
}

/* ---- in files ------------------------------------------------------------------------ */

int lk_tstext_of(const pq_reader *r, const char *column, lk_tstext **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    size_t pl = strlen(LK_TSTEXT_KEY);
    for (int i = 0; i < pq_reader_num_kv(r); i++) {
        const char *k, *v;
        pq_reader_kv(r, i, &k, &v);
        if (!k || strncmp(k, LK_TSTEXT_KEY, pl) || strcmp(k + pl, column)) continue;
        char e2[200];
        *out = v ? lk_tstext_decode(v, pq_reader_num_rows(r), e2, sizeof e2) : NULL;
        if (!*out) return ut_err(err, errlen, "key %s: %s", k, v ? e2 : "no value");
        return 0;
    }
    return 1;
}

void lk_tstext_set(pq_writer *w, const char *column, const lk_tstext *t)
{
    ut_buf v = {0}, k = {0};
    if (lk_tstext_encode(t, pq_writer_rows(w), &v) == 0) {
        ut_buf_printf(&k, "%s%s", LK_TSTEXT_KEY, column);
        ut_buf_putc(&k, 0);
        pq_writer_set_kv(w, (const char *)k.p, (const char *)v.p);
    }
    ut_buf_free(&v);
    ut_buf_free(&k);
}
