/* jobs: the texts a split snapshot's coordinator and its range readers
 * exchange through the store (snap_range.c): the plan and the ranges'
 * manifests.  Lines of space-separated fields; names, keys and values in
 * hex ("-": empty), so any byte but NUL round-trips and no line breaks.
 *
 *   plan      snapshot <hex id> | split <hex column> | range <lo> <hi> <n> |
 *             where <hex condition> | sel <hex source column> (one per column
 *             read, in order) | col <hex lake name> <type> <precision> <scale>
 *             <sel> <class> <masked> (one per lake column)
 *   manifest  rows <n> | by <hex reader> | nulled <n per lake column> |
 *             file <hex key> <rows> <bytes> <nstats>, each followed by its
 *             stat <hex column> <nulls> <has min/max> <hex min> <hex max>
 *
 * Lines of other names are skipped (added later); anything malformed fails
 * the parse, with caps on columns, files and statistics. */
#include "jobs/jb_snap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text fields: hex ------------------------------------------------------------ */

static void hex_put(ut_buf *b, const char *s)
{
    static const char h[] = "0123456789abcdef";
    if (!*s) ut_buf_putc(b, '-');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        ut_buf_putc(b, (uint8_t)h[*p >> 4]);
        ut_buf_putc(b, (uint8_t)h[*p & 15]);
    }
}

static int nib(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode hex s into out[cap] ("-": empty).  0 / -1. */
static int hex_get(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), o = 0;
    if (!strcmp(s, "-")) n = 0;
    if (n % 2 || n / 2 >= cap) return -1;
    for (size_t i = 0; i < n; i += 2) {
        int a = nib(s[i]), b = nib(s[i + 1]);
        if (a < 0 || b < 0 || (a == 0 && b == 0)) return -1;
        out[o++] = (char)(a << 4 | b);
    }
    out[o] = 0;
    return 0;
}

static int hex_buf(const char *s, ut_buf *b)
{
    size_t n = strlen(s);
    char *t = ut_calloc(n / 2 + 2, 1);
    int rc = hex_get(s, t, n / 2 + 2);
    if (rc == 0) ut_buf_puts(b, t);
    free(t);
    return rc;
}

/* ---- the plan -------------------------------------------------------------------- */

void jb__snap_plan_text(const jb_snap_run *k, const char *id, int n, int64_t lo, int64_t hi,
                      ut_buf *b)
{
    ut_buf_puts(b, "snapshot ");
    hex_put(b, id);
    ut_buf_puts(b, "\nsplit ");
    hex_put(b, k->cfg->split_by);
    ut_buf_printf(b, "\nrange %" PRId64 " %" PRId64 " %d\nwhere ", lo, hi, n);
    hex_put(b, sn_scan_where(k->scan));
    ut_buf_putc(b, '\n');
    for (int s = 0; s < k->nsel; s++) {
        ut_buf_puts(b, "sel ");
        hex_put(b, sn_scan_columns(k->scan)[k->sel[s]].name);
        ut_buf_putc(b, '\n');
    }
    for (int i = 0; i < k->ncols; i++) {
        const ct_column *c = &k->cols[i];
        const jb_snap_col *sc = &k->sc[i];
        ut_buf_puts(b, "col ");
        hex_put(b, c->name);
        ut_buf_printf(b, " %d %d %d %d %d %d\n", (int)c->type, c->precision, c->scale, sc->sel,
                      (int)sc->cls, sc->mask != NULL);
    }
}

void jb__snap_plan_free(jb_snap_plan *p)
{
    ut_buf_free(&p->where);
    free(p->sel);
    memset(p, 0, sizeof *p);
}

/* A "col" line into column i of k (its mask made from the job's config). */
static int plan_col(jb_snap_run *k, const jb_snap_plan *p, const char *rest, ut_error *e)
{
    char name[600];
    int type, prec, scale, sel, cls, masked;
    if (sscanf(rest, "%599s %d %d %d %d %d %d", name, &type, &prec, &scale, &sel, &cls,
               &masked) != 7 || sel < -1 || sel >= p->nsel || type < CT_BOOL ||
        type >= CT_TYPE_END || cls < SN_BOOL || cls > SN_BINARY || (masked != 0 && masked != 1) ||
        (masked && sel < 0) ||
        (type == CT_DECIMAL ? !ct_decimal_valid(prec, scale) : prec != 0 || scale != 0))
        return -1;
    k->cols = ut_realloc(k->cols, sizeof *k->cols * (size_t)(k->ncols + 1));
    k->sc = ut_realloc(k->sc, sizeof *k->sc * (size_t)(k->ncols + 1));
    ct_column *c = &k->cols[k->ncols];
    jb_snap_col *sc = &k->sc[k->ncols];
    memset(c, 0, sizeof *c);
    *sc = (jb_snap_col){.sel = sel, .cls = (sn_class)cls, .type = (ct_type)type};
    k->ncols++;
    if (hex_get(name, c->name, sizeof c->name)) return -1;
    c->type = (ct_type)type, c->precision = prec, c->scale = scale;
    const char *spec = masked && k->cfg ? cf_strmap_get(&k->cfg->mask, p->sel[sel]) : NULL;
    if (masked && !spec)
        return jb__snap_fail(k, e, UT_EINVAL, "the config has no mask for column %s now",
                             p->sel[sel]);
    if (!spec) return 0;
    ut_error me = {0};
    if (jb__snap_mask_key(k, e)) return -2;
    sc->mask = mk_create(spec, k->key, k->keylen, &me);
    return sc->mask ? 0 : jb__snap_fail(k, e, UT_EINVAL, "mask of column %s: %s", p->sel[sel],
                                        me.msg);
}

/* One line of the plan.  0, -1 malformed, -2 failed with e. */
static int plan_line(jb_snap_run *k, jb_snap_plan *p, char *line, ut_error *e)
{
    char *sp = strchr(line, ' ');
    if (!sp) return -1;
    *sp = 0;
    const char *rest = sp + 1;
    if (!strcmp(line, "snapshot")) return hex_get(rest, p->snapshot, sizeof p->snapshot);
    if (!strcmp(line, "split")) return hex_get(rest, p->split, sizeof p->split);
    if (!strcmp(line, "where")) return hex_buf(rest, &p->where);
    if (!strcmp(line, "range"))
        return sscanf(rest, "%" SCNd64 " %" SCNd64 " %d", &p->lo, &p->hi, &p->n) == 3 &&
                       p->n > 1 && p->n <= SNAP_MAX_PARALLEL && p->lo <= p->hi ? 0 : -1;
    if (!strcmp(line, "sel")) {
        if (p->nsel == SN_MAX_COLUMNS) return -1;
        p->sel = ut_realloc(p->sel, sizeof *p->sel * (size_t)(p->nsel + 1));
        return hex_get(rest, p->sel[p->nsel++], sizeof p->sel[0]);
    }
    if (!strcmp(line, "col")) {
        if (k->ncols == SN_MAX_COLUMNS) return -1;
        int rc = plan_col(k, p, rest, e);
        return rc == -1 ? -1 : rc ? -2 : 0;
    }
    return 0; /* a line added later */
}

/* The plan's text (NUL-terminated, cut up) into p and k's columns; what
 * names it in messages.  0 / -1 with e. */
int jb__snap_plan_parse(jb_snap_run *k, char *text, jb_snap_plan *p, const char *what,
                        ut_error *e)
{
    char *save = NULL;
    int rc = 0, line = 0;
    for (char *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
        line++;
        rc = plan_line(k, p, l, e);
    }
    if (rc == -1 || (rc == 0 && (!p->n || !p->snapshot[0] || !p->nsel || !k->ncols)))
        return jb__snap_fail(k, e, UT_EINVAL, "%s: malformed at line %d", what, line);
    return rc ? -1 : 0;
}

void jb__snap_manifest_head(ut_buf *b, int64_t rows, const char *by, const int64_t *nulled,
                            int ncols)
{
    ut_buf_printf(b, "rows %" PRId64 "\nby ", rows);
    hex_put(b, by);
    ut_buf_puts(b, "\nnulled");
    for (int c = 0; c < ncols; c++) ut_buf_printf(b, " %" PRId64, nulled[c]);
    ut_buf_putc(b, '\n');
}

void jb__snap_manifest_file(ut_buf *b, const char *key, const ct_file *f)
{
    ut_buf_puts(b, "file ");
    hex_put(b, key);
    ut_buf_printf(b, " %" PRId64 " %" PRId64 " %d\n", f->rows, f->bytes, f->nstats);
    for (int s = 0; s < f->nstats; s++) {
        const ct_colstat *c = &f->stats[s];
        ut_buf_puts(b, "stat ");
        hex_put(b, c->name);
        ut_buf_printf(b, " %" PRId64 " %d ", c->nulls, c->has_minmax);
        hex_put(b, c->has_minmax ? c->min : "");
        ut_buf_putc(b, ' ');
        hex_put(b, c->has_minmax ? c->max : "");
        ut_buf_putc(b, '\n');
    }
}

/* "by" of a manifest counted into the run's log ("w1 x3, w2 x5"). */
static void count_by(jb_snap_run *k, const char *by)
{
    int i = 0;
    while (i < k->nby && strcmp(k->by[i].name, by)) i++;
    if (i == k->nby) {
        if (k->nby == SNAP_MAX_PARALLEL) return;
        snprintf(k->by[k->nby++].name, sizeof k->by[0].name, "%.95s", by);
    }
    k->by[i].n++;
}

/* A "stat" line into f's next statistic.  0 / -1. */
static int manifest_stat(ct_file *f, int cap, const char *rest)
{
    char name[600], mn[600], mx[600];
    long long nulls;
    int mm;
    if (f->nstats == cap ||
        sscanf(rest, "%599s %lld %d %599s %599s", name, &nulls, &mm, mn, mx) != 5 ||
        nulls < 0 || (mm != 0 && mm != 1))
        return -1;
    ct_colstat *s = &f->stats[f->nstats++];
    memset(s, 0, sizeof *s);
    s->nulls = nulls, s->has_minmax = mm;
    return hex_get(name, s->name, sizeof s->name) || hex_get(mn, s->min, sizeof s->min) ||
                   hex_get(mx, s->max, sizeof s->max) ? -1 : 0;
}

/* A count: decimal digits only, 0..INT64_MAX.  0 / -1. */
static int count_of(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!*s) return -1;
    for (; *s; s++)
        if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, *s - '0', &v))
            return -1;
    *out = v;
    return 0;
}

/* One line of range manifest.  0 / -1. */
static int manifest_line(jb_snap_run *k, char *l, int *cap)
{
    char *sp = strchr(l, ' ');
    if (!sp) return -1;
    *sp = 0;
    char *rest = sp + 1, *save = NULL;
    if (!strcmp(l, "rows")) {
        int64_t n;
        if (count_of(rest, &n) || __builtin_add_overflow(k->rows, n, &k->rows)) return -1;
    } else if (!strcmp(l, "by")) {
        char by[200];
        if (hex_get(rest, by, sizeof by)) return -1;
        count_by(k, by);
    } else if (!strcmp(l, "nulled")) {
        int c = 0;
        for (char *t = strtok_r(rest, " ", &save); t; t = strtok_r(NULL, " ", &save), c++) {
            int64_t n;
            if (c >= k->ncols || count_of(t, &n) ||
                __builtin_add_overflow(k->nulled[c], n, &k->nulled[c]))
                return -1;
        }
        if (c != k->ncols) return -1;
    } else if (!strcmp(l, "file")) {
        char key[1400];
        long long rows, bytes;
        if (k->nstaged == SNAP_MAX_STAGED ||
            sscanf(rest, "%1399s %lld %lld %d", key, &rows, &bytes, cap) != 4 || *cap < 0 ||
            *cap > SN_MAX_COLUMNS || rows < 0 || bytes < 0)
            return -1;
        k->staged = ut_realloc(k->staged, sizeof *k->staged * (size_t)(k->nstaged + 1));
        jb_snap_staged *s = &k->staged[k->nstaged++];
        memset(s, 0, sizeof *s);
        s->f.rows = rows, s->f.bytes = bytes;
        s->f.stats = ut_calloc((size_t)*cap + 1, sizeof *s->f.stats);
        return hex_get(key, s->key, sizeof s->key);
    } else if (!strcmp(l, "stat")) {
        return k->nstaged ? manifest_stat(&k->staged[k->nstaged - 1].f, *cap, rest) : -1;
    }
    return 0;
}

/* A manifest's text (NUL-terminated, cut up) into k.  0 / -1 with e. */
int jb__snap_manifest_parse(jb_snap_run *k, char *text, const char *what, ut_error *e)
{
    char *save = NULL;
    int rc = 0, cap = 0;
    for (char *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save))
        rc = manifest_line(k, l, &cap);
    return rc ? jb__snap_fail(k, e, UT_EINVAL, "%s: malformed", what) : 0;
}

int jb__snap_range_parse(jb_snap_run *k, const char *text, size_t n, int manifest, ut_error *e)
{
    char *t = ut_calloc(n + 1, 1);
    if (n) memcpy(t, text, n);
    jb_snap_plan p = {0};
    int rc = manifest ? jb__snap_manifest_parse(k, t, "manifest", e)
                      : jb__snap_plan_parse(k, t, &p, "plan", e);
    jb__snap_plan_free(&p);
    free(t);
    return rc;
}

