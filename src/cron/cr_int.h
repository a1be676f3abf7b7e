/* cron internals shared by parse.c (schedule text), match.c (wall-clock
 * search), next.c (cr_next / cr_prev), tzif.c (zone files), posix.c (TZ
 * rules), zone.c (offsets, local -> UTC) and window.c (windows). */
#ifndef SLUICE_CR_INT_H
#define SLUICE_CR_INT_H

#include "cron/cron.h"
#include "util/util.h"

#include <stdint.h>

#define CR__US ((int64_t)1000000)
#define CR__MIN_US (60 * CR__US)
#define CR__HOUR_US (3600 * CR__US)
#define CR__DAY_US (86400 * CR__US)

/* Bounds of unbounded spans: far outside CR_MIN_US..CR_MAX_US, yet adding
 * an offset or a few days never overflows. */
#define CR__FAR_PAST (-((int64_t)1 << 60))
#define CR__FAR_FUTURE ((int64_t)1 << 60)

/* Floor division and modulo (b > 0). */
static inline int64_t cr__fdiv(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}
static inline int64_t cr__fmod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* ---- schedules ------------------------------------------------------------ */

struct cr_schedule {
    int64_t every_us;  /* > 0: an interval; the fields below are unused */
    uint64_t minutes;  /* bit m, 0..59 */
    uint32_t hours;    /* bit h, 0..23 */
    uint32_t mdays;    /* bit d, 1..31 */
    uint16_t months;   /* bit m, 1..12 */
    uint8_t wdays;     /* bit d, 0..6, Sunday = 0 */
    uint8_t dom_star;  /* the day-of-month field starts with '*' (Vixie) */
    uint8_t dow_star;  /* the day-of-week field starts with '*' */
};

/* Days in month m (1..12) of year y. */
int cr__mdays(int64_t y, unsigned m);
/* Day of the week of a day number (days since 1970-01-01), Sunday = 0. */
int cr__wday(int64_t days);
/* Does the schedule's day rule (dom / dow, Vixie OR when both are
 * restricted) accept this date? */
int cr__day_ok(const cr_schedule *s, int64_t days, unsigned mday);

/* Smallest wall time L (local µs, a whole minute) the cron fields match with
 * lo <= L < hi, or CR_NO_NEXT.  Searches at most 401 years past lo. */
int64_t cr__next_wall(const cr_schedule *s, int64_t lo, int64_t hi);
/* Largest matching L with lo <= L < hi, or CR_NO_PREV. */
int64_t cr__prev_wall(const cr_schedule *s, int64_t lo, int64_t hi);

/* ---- zones ---------------------------------------------------------------- */

#define CR__MAX_TRANS 4096
#define CR__MAX_TYPES 256
#define CR__MAX_CHARS 1024
#define CR__MAX_FOOTER 256
#define CR__MAX_TZNAME 32  /* an abbreviation in a POSIX TZ string */

typedef struct cr__ttype {
    int32_t off;  /* seconds east of UTC */
    uint8_t isdst;
} cr__ttype;

/* One end of a POSIX TZ daylight-saving rule. */
typedef enum cr__rkind { CR__R_JULIAN = 1, CR__R_ZERO, CR__R_MWD } cr__rkind;
typedef struct cr__rdate {
    cr__rkind kind;  /* Jn (1..365, no Feb 29), n (0..365), Mm.w.d */
    int day;         /* Jn / n */
    int mon, week, wday;
    int32_t time;    /* seconds after local midnight, -167h .. 167h */
} cr__rdate;

typedef struct cr__posix {
    int32_t std_off;  /* seconds east */
    int32_t dst_off;
    int has_dst;
    cr__rdate start, end;  /* start: in standard time; end: in DST */
} cr__posix;

struct cr_zone {
    char name[UT_NAME_MAX + 1];
    int32_t ntrans;
    int64_t *trans;      /* transition instants, seconds, ascending */
    uint8_t *trans_type; /* type index from each transition on */
    int32_t ntypes;
    cr__ttype types[CR__MAX_TYPES];
    int init_type;       /* type before the first transition */
    int has_rule;        /* rule governs from the last transition on */
    cr__posix rule;
};

/* A stretch of time with one offset: [start, end) in µs (CR__FAR_PAST /
 * CR__FAR_FUTURE when unbounded), the offset in it and the offset just
 * before start (equal to off when nothing changes there). */
typedef struct cr__span {
    int64_t start, end;
    int32_t off, prev;
} cr__span;

/* The span of z (NULL = UTC) containing instant t. */
void cr__zone_span(const cr_zone *z, int64_t t, cr__span *sp);
/* A wall time to an instant: the first occurrence of a repeated wall time,
 * the first instant after the gap for a skipped one. */
int64_t cr__wall_to_utc(const cr_zone *z, int64_t wall);

/* Parse a POSIX TZ string s[0..n).  0, or -1 with a message. */
int cr__posix_parse(const char *s, size_t n, cr__posix *p, char *err, size_t errlen);
/* The span of rule p containing t (seconds).  Unbounded sides are
 * approximated by bounds a year or more away with prev == off. */
void cr__posix_span(const cr__posix *p, int64_t t, int64_t *start, int64_t *end, int32_t *off,
                    int32_t *prev);

/* A zone with no transitions and offset 0 named name. */
cr_zone *cr__zone_utc(const char *name);

#endif
