/* Line assembly: bytes of a file -> records, with a cap and multiline joins.
 *
 * State: `cur` holds the line being read (at most max bytes kept; past that
 * the line is `cut` and its rest skipped up to the newline).  With a start
 * pattern, complete lines gather in `rec` until a line matching it starts
 * the next record.  Offsets: `pos` is the file offset of the next byte fed,
 * `line_start` where `cur` began, `rec_start`/`rec_end` the held record. */
#include "tail/tail.h"

#include <assert.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct tl_lines {
    size_t max;
    const regex_t *start;
    uint64_t pos, line_start, rec_start, rec_end;
    ut_buf cur, rec;
    int cur_cut, rec_cut, have_rec;
    uint64_t cut;
};

tl_lines *tl_lines_create(size_t max_bytes, const void *start_re, uint64_t pos)
{
    assert(max_bytes > 0);
    tl_lines *l = ut_calloc(1, sizeof *l);
    l->max = max_bytes;
    l->start = start_re;
    l->pos = l->line_start = l->rec_start = l->rec_end = pos;
    return l;
}

void tl_lines_destroy(tl_lines *l)
{
    if (!l) return;
    ut_buf_free(&l->cur);
    ut_buf_free(&l->rec);
    free(l);
}

static int starts_record(const tl_lines *l, const char *p, size_t n)
{
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    return regexec(l->start, p, 1, m, REG_STARTEND) == 0;
}

static void emit_rec(tl_lines *l, tl_emit_fn fn, void *arg)
{
    if (!l->have_rec) return;
    if (l->rec_cut) l->cut++;
    fn(arg, (const char *)l->rec.p, l->rec.len, l->rec_start, l->rec_end, l->rec_cut);
    ut_buf_reset(&l->rec);
    l->have_rec = l->rec_cut = 0;
}

/* A complete line cur (ending before the newline at `end`-1). */
static void line_done(tl_lines *l, uint64_t end, tl_emit_fn fn, void *arg)
{
    const char *p = (const char *)l->cur.p;
    size_t n = l->cur.len;
    if (n && p[n - 1] == '\r' && !l->cur_cut) n--;
    if (!l->start) {
        if (l->cur_cut) l->cut++;
        fn(arg, p ? p : "", n, l->line_start, end, l->cur_cut);
    } else {
        if (!l->have_rec || starts_record(l, p ? p : "", n)) {
            emit_rec(l, fn, arg);
            l->have_rec = 1;
            l->rec_start = l->line_start;
        } else if (l->rec.len < l->max) {
            ut_buf_putc(&l->rec, '\n');
        } else {
            l->rec_cut = 1;
        }
        size_t room = l->rec.len < l->max ? l->max - l->rec.len : 0;
        if (n > room) l->rec_cut = 1;
        ut_buf_put(&l->rec, p ? p : "", n < room ? n : room);
        l->rec_cut |= l->cur_cut;
        l->rec_end = end;
    }
    ut_buf_reset(&l->cur);
    l->cur_cut = 0;
    l->line_start = end;
}

void tl_lines_feed(tl_lines *l, const char *p, size_t n, tl_emit_fn fn, void *arg)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        size_t room = l->cur.len < l->max ? l->max - l->cur.len : 0;
        if (k > room) l->cur_cut = 1;
        ut_buf_put(&l->cur, p, k < room ? k : room);
        l->pos += k;
        if (!nl) return;
        l->pos++;
        line_done(l, l->pos, fn, arg);
        p += k + 1;
        n -= k + 1;
    }
}

void tl_lines_flush(tl_lines *l, int partial, tl_emit_fn fn, void *arg)
{
    if (partial && (l->cur.len || l->cur_cut)) line_done(l, l->pos, fn, arg);
    emit_rec(l, fn, arg);
}

int tl_lines_pending(const tl_lines *l)
{
    return l->have_rec || l->cur.len || l->cur_cut;
}

uint64_t tl_lines_cut(const tl_lines *l)
{
    return l->cut;
}
