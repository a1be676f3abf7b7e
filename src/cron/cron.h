/* cron — schedules, time zones and windows for the jobs scheduler.
 *
 * Prefix: cr_.  Cross-file internals: cr__ (cr_int.h).  Pure functions: no
 * threads, no global state, no I/O except reading zone files in
 * cr_zone_load / cr_zone_load_dir.  docs/cron.md is the user's reference.
 *
 * Time is int64_t microseconds since 1970-01-01T00:00:00Z ("instants"), or
 * for local wall-clock times the same count on the zone's wall clock ("local
 * µs": 2026-03-29T02:30 local is days_from_civil * 86400e6 + 9000e6 whatever
 * the offset).  Instants outside CR_MIN_US .. CR_MAX_US (years 1 .. 9999) are
 * not evaluated: the functions below answer CR_NO_NEXT / CR_NO_PREV.
 *
 * Schedules are a set of fire instants:
 *   - cron text (5 fields, macros): the local wall times the fields match,
 *     each mapped to an instant in the zone — a wall time repeated by a
 *     fall-back overlap maps to its first occurrence, one skipped by a
 *     spring-forward gap to the first instant after the gap (the transition);
 *     several wall times mapping to one instant fire once;
 *   - intervals (every 15m): the multiples of the period since the epoch, in
 *     UTC (the zone is ignored).
 *
 * Windows are the local calendar hours, days and months of a zone: a window
 * starts at the instant its first wall time maps to (the same mapping) and
 * ends where the next one starts; a label whose wall times were all skipped
 * has no window.  So a Berlin day is 23 or 25 hours across DST, a Berlin hour
 * 02:00 on the fall-back day is two hours, and on the spring-forward day the
 * 01:00 window is followed by the 03:00 one. */
#ifndef SLUICE_CRON_H
#define SLUICE_CRON_H

#include <stddef.h>
#include <stdint.h>

#define CR_MIN_US (-62135596800000000LL) /* 0001-01-01T00:00:00Z */
#define CR_MAX_US (253402300799999999LL) /* 9999-12-31T23:59:59.999999Z */
#define CR_NO_NEXT INT64_MAX             /* no fire / window after (within the range) */
#define CR_NO_PREV INT64_MIN             /* no fire / window before */

#define CR_MAX_TEXT 256      /* longest schedule text, bytes */
#define CR_MAX_EVERY_S (366LL * 86400) /* longest interval */

/* ---- schedules ------------------------------------------------------------ */

typedef struct cr_schedule cr_schedule;

/* "m h dom mon dow" (see docs/cron.md), "@hourly" .. "@annually", or
 * "every 15m".  NULL with a message naming the field and the bad token
 * ("cron 'x * * * *': minute: 'x' is not a number 0-59") into err. */
cr_schedule *cr_parse(const char *text, char *err, size_t errlen);
/* The value of a job's `every:` key: a duration "15m", "90s", "1h", "2d"
 * (units s m h d, any case, an optional space; a plain number is seconds),
 * 1 s to CR_MAX_EVERY_S. */
cr_schedule *cr_parse_every(const char *text, char *err, size_t errlen);
void cr_schedule_destroy(cr_schedule *s);
/* The interval in µs of an `every` schedule, 0 for a cron one. */
int64_t cr_schedule_every_us(const cr_schedule *s);

typedef struct cr_zone cr_zone;

/* First fire instant strictly after after_us, evaluated in zone z (NULL =
 * UTC); CR_NO_NEXT when none is left before CR_MAX_US. */
int64_t cr_next(const cr_schedule *s, const cr_zone *z, int64_t after_us);
/* Latest fire instant strictly before before_us; CR_NO_PREV when none. */
int64_t cr_prev(const cr_schedule *s, const cr_zone *z, int64_t before_us);

/* ---- time zones ----------------------------------------------------------- */

#define CR_ZONEINFO_DIR "/usr/share/zoneinfo"
#define CR_MAX_TZIF_BYTES (64 * 1024) /* largest zone file read */

/* An IANA zone ("Europe/Berlin") from CR_ZONEINFO_DIR.  "UTC" and "Etc/UTC"
 * are built in (no file needed).  NULL with a message into err: bad name,
 * no such zone, not a valid TZif file. */
cr_zone *cr_zone_load(const char *name, char *err, size_t errlen);
/* The same from another zoneinfo directory (tests, non-Debian layouts). */
cr_zone *cr_zone_load_dir(const char *dir, const char *name, char *err, size_t errlen);
/* A zone from TZif bytes (RFC 8536 versions 1-4); name is for messages. */
cr_zone *cr_zone_from_tzif(const char *name, const uint8_t *data, size_t n, char *err,
                           size_t errlen);
/* A zone from a POSIX TZ rule alone ("CET-1CEST,M3.5.0,M10.5.0/3"), as in a
 * TZif footer. */
cr_zone *cr_zone_from_posix(const char *tz, char *err, size_t errlen);
void cr_zone_destroy(cr_zone *z);
/* The name it was loaded with ("UTC" for NULL). */
const char *cr_zone_name(const cr_zone *z);

/* Offset from UTC in seconds east (Berlin in winter: 3600) at an instant. */
int cr_zone_offset(const cr_zone *z, int64_t utc_us);

typedef enum cr_local_kind {
    CR_LOCAL_OK,      /* exactly one instant has this wall time       */
    CR_LOCAL_GAP,     /* skipped by a forward jump (spring forward)    */
    CR_LOCAL_OVERLAP  /* repeated by a backward jump (fall back)       */
} cr_local_kind;

typedef struct cr_local {
    cr_local_kind kind;
    int64_t first_us;  /* OK: the instant; OVERLAP: the earlier one;
                          GAP: the first instant after the gap         */
    int64_t second_us; /* OVERLAP: the later one; else first_us        */
} cr_local;

/* Local wall time (local µs, see top) to UTC.  0, or -1 when local_us is
 * outside the supported range. */
int cr_zone_to_utc(const cr_zone *z, int64_t local_us, cr_local *out);

/* ---- windows -------------------------------------------------------------- */

typedef enum cr_unit { CR_HOUR, CR_DAY, CR_MONTH } cr_unit;

/* Start of the window of unit u in zone z (NULL = UTC) containing t. */
int64_t cr_window_floor(cr_unit u, const cr_zone *z, int64_t t_us);
/* Start of the window n windows after (n < 0: before) the one containing t;
 * windows that do not exist (a skipped hour) are not counted.  CR_NO_NEXT /
 * CR_NO_PREV past the supported range. */
int64_t cr_window_add(cr_unit u, const cr_zone *z, int64_t t_us, int64_t n);

/* Template values of the window containing t. */
typedef struct cr_window {
    int64_t start_us, end_us;
    char ds[11];        /* local date of the window's label, YYYY-MM-DD    */
    char ds_nodash[9];  /* YYYYMMDD                                        */
    char hr[3];         /* its local hour HH ("00" for day and month)     */
    char start[26];     /* RFC 3339 with the offset: 2026-03-29T00:00:00+01:00
                           ("+00:00" in UTC; an offset with seconds, as in
                           old local mean times, is written as UTC) */
    char end[26];
} cr_window;

/* 0, or -1 when t (or the window's end) is outside the supported range. */
int cr_window_info(cr_unit u, const cr_zone *z, int64_t t_us, cr_window *w);
/* "hour", "day", "month" <-> cr_unit (case-insensitive); -1 if unknown. */
int cr_unit_parse(const char *s, cr_unit *u);
const char *cr_unit_name(cr_unit u);

#endif
