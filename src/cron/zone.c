/* Offsets of a loaded zone: the span (one offset) around an instant, the
 * offset at an instant, and local wall time -> UTC with gaps and overlaps.
 *
 * Spans come from the TZif transitions (binary search), before the first one
 * from the initial type, and from the last one on from the POSIX rule of the
 * footer when there is one (else the last type holds forever).  A wall time
 * w is searched among the spans of the instants w - 27 h .. w + 27 h (every
 * offset is within 26 hours): each span [a, b) with offset o holds w when
 * a <= w - o < b; two such spans are an overlap, none a gap, whose end is the
 * first span starting at a wall time after w. */
#include "cron/cr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEAR 64 /* spans looked at around one wall time */

static int32_t type_off(const cr_zone *z, int i)
{
    return z->types[i].off;
}

/* Offset before transition i (i = 0: the initial type). */
static int32_t before(const cr_zone *z, int32_t i)
{
    return type_off(z, i > 0 ? z->trans_type[i - 1] : z->init_type);
}

static void unbounded(cr__span *sp, int32_t off)
{
    sp->start = CR__FAR_PAST, sp->end = CR__FAR_FUTURE, sp->off = sp->prev = off;
}

/* From the last transition on (or always, with none), under the rule. */
static void rule_span(const cr_zone *z, int64_t t, cr__span *sp)
{
    cr__posix_span(&z->rule, t, &sp->start, &sp->end, &sp->off, &sp->prev);
    if (z->ntrans == 0) return;
    int64_t last = z->trans[z->ntrans - 1] * CR__US;
    if (sp->start < last) {
        sp->start = last;
        sp->prev = before(z, z->ntrans - 1);
    }
}

void cr__zone_span(const cr_zone *z, int64_t t, cr__span *sp)
{
    if (!z) {
        unbounded(sp, 0);
        return;
    }
    int32_t n = z->ntrans;
    int64_t ts = cr__fdiv(t, CR__US);
    if (z->has_rule && (n == 0 || ts >= z->trans[n - 1])) {
        rule_span(z, t, sp);
        return;
    }
    if (n == 0) {
        unbounded(sp, type_off(z, z->init_type));
        return;
    }
    if (ts < z->trans[0]) {
        sp->start = CR__FAR_PAST, sp->end = z->trans[0] * CR__US;
        sp->off = sp->prev = type_off(z, z->init_type);
        return;
    }
    int32_t lo = 0, hi = n; /* trans[lo] <= ts < trans[hi] (hi == n: none) */
    while (hi - lo > 1) {
        int32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= ts) lo = mid;
        else hi = mid;
    }
    sp->start = z->trans[lo] * CR__US;
    sp->end = hi < n ? z->trans[hi] * CR__US : CR__FAR_FUTURE;
    sp->off = type_off(z, z->trans_type[lo]);
    sp->prev = before(z, lo);
}

int cr_zone_offset(const cr_zone *z, int64_t utc_us)
{
    cr__span sp;
    if (utc_us < CR_MIN_US) utc_us = CR_MIN_US;
    if (utc_us > CR_MAX_US) utc_us = CR_MAX_US;
    cr__zone_span(z, utc_us, &sp);
    return sp.off;
}

int cr_zone_to_utc(const cr_zone *z, int64_t local, cr_local *out)
{
    const int64_t reach = 27 * CR__HOUR_US;
    if (local < CR_MIN_US - CR__DAY_US * 2 || local > CR_MAX_US + CR__DAY_US * 2) return -1;
    int64_t hit[2] = {0, 0}, gap = CR__FAR_FUTURE;
    int nhit = 0;
    cr__span sp;
    cr__zone_span(z, local - reach, &sp);
    for (int i = 0; i < MAX_NEAR; i++) {
        int64_t t = local - sp.off * CR__US;
        if (t >= sp.start && t < sp.end) hit[nhit ? 1 : 0] = t, nhit++;
        else if (gap == CR__FAR_FUTURE && sp.start + sp.off * CR__US > local) gap = sp.start;
        if (sp.end > local + reach || sp.end >= CR__FAR_FUTURE) break;
        cr__zone_span(z, sp.end, &sp);
    }
    if (nhit == 0) {
        out->kind = CR_LOCAL_GAP;
        out->first_us = out->second_us = gap != CR__FAR_FUTURE ? gap : local - sp.off * CR__US;
    } else {
        out->kind = nhit > 1 ? CR_LOCAL_OVERLAP : CR_LOCAL_OK;
        out->first_us = hit[0];
        out->second_us = nhit > 1 ? hit[1] : hit[0];
    }
    return 0;
}

int64_t cr__wall_to_utc(const cr_zone *z, int64_t wall)
{
    cr_local l;
    if (cr_zone_to_utc(z, wall, &l)) return wall;
    return l.first_us;
}

cr_zone *cr__zone_utc(const char *name)
{
    cr_zone *z = ut_calloc(1, sizeof *z);
    snprintf(z->name, sizeof z->name, "%s", name);
    z->ntypes = 1;
    return z;
}

const char *cr_zone_name(const cr_zone *z)
{
    return z ? z->name : "UTC";
}

void cr_zone_destroy(cr_zone *z)
{
    if (!z) return;
    free(z->trans);
    free(z->trans_type);
    free(z);
}
