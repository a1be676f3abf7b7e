/* util — small shared pieces: growable byte buffers, error messages,
 * allocation that never returns NULL, number and time formatting.
 *
 * Prefix: ut_.  Everything here is allocation-checked: on out-of-memory the
 * process prints a message and aborts (as Redis's zmalloc does); callers
 * enforce their own hard caps so that allocation sizes are always bounded. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* ---- allocation ---------------------------------------------------------- */

/* malloc/calloc/realloc/strdup that abort with a message on failure. */
void *ut_malloc(size_t n);
void *ut_calloc(size_t n, size_t size);
void *ut_realloc(void *p, size_t n);
char *ut_strdup(const char *s);
char *ut_strndup(const char *s, size_t n);

/* ---- errors -------------------------------------------------------------- */

/* Write a printf-style message into err[errlen] (if err is non-NULL).
 * Always returns -1 so callers can `return ut_err(err, errlen, ...)`. */
int ut_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Typed errors: a kind the caller may decide behaviour on (an HTTP status, a
 * retry) plus a message for people naming the file, stream, table, job or
 * line.  Never decide behaviour by matching message text: add a kind.
 * Zero-initialise ({0}) for "no error". */
typedef enum ut_errkind {
    UT_EOK = 0,
    UT_EINVAL,    /* bad input from the caller (400) */
    UT_ENOTFOUND, /* no such stream, table, file, job (404) */
    UT_EEXISTS,   /* already exists / name collides (409) */
    UT_ETOOBIG,   /* over a size cap: body, record, result (413) */
    UT_ETOODEEP,  /* nesting deeper than the cap (400) */
    UT_ELIMIT,    /* a concurrency or rate limit: retry later (429) */
    UT_ENOSPACE,  /* disk full or disk budget reached (507) */
    UT_EDENIED,   /* not allowed for this caller (403) */
    UT_ETIMEOUT,  /* a time limit ran out (408) */
    UT_ECORRUPT,  /* damaged data found on disk */
    UT_EIO,       /* an I/O or peer failure (500/503) */
    UT_EINTERNAL, /* a bug or an unexpected state (500) */
    UT_ECANCELED, /* the caller cancelled the wait, or the component is shutting down */
    UT_EKIND_COUNT
} ut_errkind;

#define UT_ERRMSG_MAX 512
typedef struct ut_error {
    ut_errkind kind;
    char msg[UT_ERRMSG_MAX];
} ut_error;

/* Set e (if non-NULL) to kind and a printf-style message.  Returns -1. */
int ut_fail(ut_error *e, ut_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Short lower-case name of a kind ("invalid", "not found", "no space", …). */
const char *ut_errkind_name(ut_errkind kind);

/* ---- growable byte buffer ------------------------------------------------ */

/* A plain value type (like Redis's sds, but with an explicit struct): the
 * fields are public so hot loops can write into p directly after
 * ut_buf_reserve.  Zero-initialise ({0}) for an empty buffer with the default
 * cap; ut_buf_free releases it.
 *
 * Always a C string: after every ut_buf_* call that leaves p non-NULL,
 * p[len] == 0 (the terminator is not counted in len; the allocation is
 * cap + 1 bytes, so a direct writer may fill p[len .. cap) and p[cap] still
 * exists).  Code that writes p directly and moves len itself must write the
 * terminator or call ut_buf_setlen.  ut_buf_cstr gives "" for an empty one.
 *
 * Size cap: len never exceeds max (0 = UT_BUF_MAX_DEFAULT).  Past an
 * explicit max a write is refused: nothing is written, `over` is set (sticky
 * until ut_buf_reset/ut_buf_free) and ut_buf_reserve returns -1, so a caller
 * that sizes a buffer from outside input sets max, writes, then checks
 * ut_buf_over once.  Past the default cap the process aborts with a message:
 * that is a caller that forgot its own cap (a bug), not bad input. */
#define UT_BUF_MAX_DEFAULT ((size_t)4 << 30) /* 4 GiB */

typedef struct ut_buf {
    uint8_t *p;
    size_t len;
    size_t cap;  /* bytes writable at p (the allocation has one more) */
    size_t max;  /* hard cap on len; 0 = UT_BUF_MAX_DEFAULT */
    int over;    /* a write was refused because of max */
} ut_buf;

/* Make room for at least n more bytes (p + len .. p + len + n writable).
 * 0, or -1 (and over set) when len + n would pass an explicit max. */
int ut_buf_reserve(ut_buf *b, size_t n);
void ut_buf_put(ut_buf *b, const void *data, size_t n);
void ut_buf_putc(ut_buf *b, uint8_t c);
void ut_buf_puts(ut_buf *b, const char *s);
/* A printf whose text would pass max writes nothing (over set). */
void ut_buf_printf(ut_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ut_buf_put_le32(ut_buf *b, uint32_t v);
void ut_buf_put_le64(ut_buf *b, uint64_t v);
/* Append v as an unsigned LEB128 varint (as Thrift compact and Parquet's
 * RLE/delta encodings use). */
void ut_buf_put_uvarint(ut_buf *b, uint64_t v);
/* Set len (at most cap) after writing into p directly; writes p[len] = 0. */
void ut_buf_setlen(ut_buf *b, size_t len);
/* Cut to len bytes if longer. */
void ut_buf_truncate(ut_buf *b, size_t len);
/* p as a C string, "" when nothing was ever written. */
const char *ut_buf_cstr(const ut_buf *b);
/* 1 when a write was refused because of max (since the last reset). */
int ut_buf_over(const ut_buf *b);
void ut_buf_reset(ut_buf *b);             /* len = 0, over = 0, keeps memory and max */
void ut_buf_free(ut_buf *b);              /* releases memory: empty, max kept */

/* ---- names --------------------------------------------------------------- */

/* One validator for every name that comes from outside and becomes a file,
 * a directory or an SQL identifier (src/util/name.c holds the rules, one row
 * per kind):
 *
 *   kind        max  characters                           also refused
 *   stream       64  A-Z a-z 0-9 _ . -, first not . or -  ends in .errors / .dlq
 *   journal      71  (a stream's directory: the stream or its .errors / .dlq)
 *   table       127  same                                 -
 *   group        64  same                                 -
 *   consumer     64  same                                 -
 *   cursor       64  same                                 ends in .tmp (its temp file)
 *   connection   64  A-Z a-z 0-9 _, first a letter or _   main, temp, lake (any case)
 *   job          64  same as stream                       -
 *   time zone   127  components of A-Z a-z 0-9 _ . - +    -
 *                    split by '/', none empty or
 *                    starting with '.' or '-' (no ..)
 *
 * Bytes outside ASCII, NUL and control characters are never part of a name.
 * Upper and lower case are both allowed (SQL compares table and connection
 * names without case; collisions are the owner's check). */
typedef enum ut_namekind {
    UT_NAME_STREAM,
    UT_NAME_JOURNAL,
    UT_NAME_TABLE,
    UT_NAME_GROUP,
    UT_NAME_CONSUMER,
    UT_NAME_CURSOR,
    UT_NAME_CONNECTION,
    UT_NAME_JOB,
    UT_NAME_ZONE, /* an IANA time zone name, a path under the zoneinfo directory */
    UT_NAME_POOL,
    UT_NAME_SOURCE_TABLE, /* a source database's table, "schema.table" (snapshots) */
    UT_NAME_LOG_SOURCE,   /* a log-file source of sluice tail (sources.<name>) */
    UT_NAME_KIND_COUNT
} ut_namekind;

#define UT_NAME_MAX 127 /* the longest of any kind */

/* Check name[0..len).  0, or -1 with a message naming the kind, the name
 * (shown escaped and cut) and the rule broken ("stream name 'a$b': '$' at
 * byte 2 is not allowed; use A-Z a-z 0-9 _ . -"). */
int ut_name_check(ut_namekind kind, const char *name, size_t len, char *err, size_t errlen);
/* The same for a C string (NULL is not valid), without a message: 1 / 0. */
int ut_name_ok(ut_namekind kind, const char *name);
/* Longest valid name of a kind, and its word ("stream", "table", ...). */
size_t ut_name_max(ut_namekind kind);
const char *ut_name_kind(ut_namekind kind);

/* ---- numbers -------------------------------------------------------------- */

/* Shortest decimal text that reads back to exactly v ("1.1", "1e+300",
 * "nan", "inf", "-inf").  out must hold 32 bytes.  Returns the length. */
int ut_fmt_double(char *out, double v);
/* Same for a float: shortest text that reads back to the same float. */
int ut_fmt_float(char *out, float v);

/* ---- JSON output ----------------------------------------------------------- */

/* Append str[0..n) as a quoted JSON string: `"` `\` and control characters
 * escaped (\n \t \r \b \f, others \u00XX), valid UTF-8 passed through, each
 * byte of an invalid UTF-8 sequence written as \u00XX (read as Latin-1), so
 * the output is always valid JSON. */
/* Length of the valid UTF-8 sequence at s[0..n) (1 for ASCII), or 0 if
 * invalid (overlong, surrogate, past U+10FFFF, cut short). */
size_t ut_utf8_len(const uint8_t *s, size_t n);

/* Replace every occurrence of secret in the NUL-terminated s (cap bytes) by
 * repl, and the pieces of 4 bytes or more a cut text starts or ends with;
 * where repl does not fit, the bytes are blanked with '*'. */
void ut_redact(char *s, size_t cap, const char *secret, const char *repl);

/* Secrets cut from a byte stream (scrub.c): every occurrence of a needle is
 * replaced by repl on the way to out, also across feeds.  Needles shorter
 * than UT_SCRUB_MIN or longer than UT_SCRUB_MAX_LEN bytes are ignored (0);
 * at most UT_SCRUB_MAX (-1 past it), all added before the first feed.
 * Memory: 64 KiB and the needles.  out returns 0, or -1 to stop (returned). */
#define UT_SCRUB_MIN 6
#define UT_SCRUB_MAX 64
#define UT_SCRUB_MAX_LEN 8192
typedef struct ut_scrub ut_scrub;
typedef int (*ut_scrub_out)(void *ctx, const void *p, size_t n);
ut_scrub *ut_scrub_create(const char *repl);
int ut_scrub_add(ut_scrub *s, const void *needle, size_t n);
int ut_scrub_count(const ut_scrub *s);   /* needles kept */
uint64_t ut_scrub_cuts(const ut_scrub *s); /* occurrences replaced so far */
int ut_scrub_feed(ut_scrub *s, const void *p, size_t n, ut_scrub_out out, void *ctx);
int ut_scrub_end(ut_scrub *s, ut_scrub_out out, void *ctx); /* the held tail */
void ut_scrub_destroy(ut_scrub *s); /* accepts NULL; wipes */

void ut_json_str(ut_buf *b, const void *str, size_t n);

/* ---- time ---------------------------------------------------------------- */

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t ut_days_from_civil(int64_t y, unsigned m, unsigned d);
void ut_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Parse an RFC 3339 / ISO 8601 timestamp ("2024-05-01T12:00:00Z",
 * "2024-05-01 12:00:00.123456+02:00", "2024-05-01T12:00:00" = UTC) into
 * microseconds since the epoch, UTC.  Fractions beyond microseconds are
 * truncated.  Returns 0 on success, -1 if s[0..n) is not such a timestamp. */
int ut_ts_parse(const char *s, size_t n, int64_t *us);
/* What an RFC 3339 text holds besides its instant: with it, ut_ts_render
 * writes the text again byte for byte from the instant. */
enum { UT_TZ_NONE, UT_TZ_Z, UT_TZ_LOWER_Z, UT_TZ_COLON, UT_TZ_PLAIN };
typedef struct ut_ts_layout {
    char sep;         /* 'T', 't' or ' ' between the date and the time */
    uint8_t digits;   /* fraction digits: 0 (no fraction) .. 9 */
    uint8_t leap;     /* the seconds were written as 60 */
    uint8_t zone;     /* UT_TZ_NONE (none: UTC), 'Z', 'z', "+HH:MM", "+HHMM" */
    uint8_t neg;      /* the offset was written with '-' (also "-00:00") */
    uint16_t off_min; /* the offset's size in minutes, 0 .. 1439 */
} ut_ts_layout;
#define UT_TS_TEXT_MAX 48 /* bytes ut_ts_render may write, with the NUL */
/* ut_ts_parse, and the layout of s: 0 when ut_ts_render gives s back
 * exactly; 1 when s is a timestamp ut_ts_parse takes but its text is not
 * kept (over 9 fraction digits, or digits beyond microseconds that are not
 * 0: the instant has no room for them); -1 when it is not a timestamp. */
int ut_ts_parse_layout(const char *s, size_t n, int64_t *us, ut_ts_layout *lay);
/* The text of instant us in layout lay (its offset, separator, digits) into
 * out[UT_TS_TEXT_MAX].  Returns the length. */
int ut_ts_render(char *out, int64_t us, const ut_ts_layout *lay);
/* Parse "YYYY-MM-DD" into days since the epoch.  0 on success, -1 otherwise. */
int ut_date_parse(const char *s, size_t n, int32_t *days);
/* Format microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
 * (fraction only when non-zero).  out must hold 40 bytes.  Returns length. */
int ut_ts_format(char *out, int64_t us);
/* The same with the fraction always written (6 digits): fixed width, so the
 * texts sort like the times.  out: 40 bytes.  Returns the length. */
int ut_ts_format_fixed(char *out, int64_t us);
/* A wall-clock time without zone (µs since 1970-01-01 00:00) as
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]": ut_ts_format without the Z.  out: 40
 * bytes.  Returns the length. */
int ut_ts_format_ntz(char *out, int64_t us);
#define UT_TIME_MAX_US 86400000000LL /* 24:00:00, the end of a day */
/* A time of day (µs since midnight, 0 .. UT_TIME_MAX_US) as
 * "HH:MM:SS[.ffffff]" (fraction only when non-zero; texts of times in range
 * sort like the times).  A value out of range is written as its decimal
 * integer.  out: 32 bytes.  Returns the length. */
int ut_time_format(char *out, int64_t us);
/* Parse "HH:MM:SS[.f...]" (up to 6 fraction digits; 00..23 hours, or
 * 24:00:00) into µs since midnight.  0, or -1 if s[0..n) is not one. */
int ut_time_parse(const char *s, size_t n, int64_t *us);
/* Format days since the epoch as "YYYY-MM-DD".  out: 24 bytes. Returns length. */
int ut_date_format(char *out, int32_t days);

/* Is tok[0..len) one of list[0..n)?  Compares every entry in full, in time
 * that does not depend on where they differ (for Bearer tokens). */
int ut_token_in(const char *const *list, int n, const char *tok, size_t len);

/* mkdir -p: create path and its missing parents.  0 or -1 with a message; an
 * existing path that is not a directory (or a link to one) is an error. */
int ut_mkdir_p(const char *path, char *err, size_t errlen);

/* Replace the file at path with data[0..n) (file mode `mode` if created):
 * written to <path>.tmp, fsync'ed, renamed over path, the directory
 * fsync'ed, so a crash leaves the old contents or the new.  0 or -1 with a
 * message naming the file. */
int ut_file_replace(const char *path, const void *data, size_t n, int mode, char *err,
                    size_t errlen);
/* Append the file at path (at most cap bytes) to out.  0, 1 when there is
 * no such file, -1 with a message (unreadable, over cap). */
int ut_file_read(const char *path, size_t cap, ut_buf *out, char *err, size_t errlen);

/* Temp files that say whose they are (tmpfile.c).  ut_tmp_create makes
 * "<dir>/<prefix><pid>-<seq>-<tag><suffix>" (tag: '/', '.' and controls
 * become '_') and path into out[n], and returns its fd (write-only,
 * close-on-exec) holding an flock on it: keep the fd open as long as the
 * file matters and close it after the file was moved or unlinked.  -1 with
 * a message.  ut_tmp_gc deletes the "<prefix><pid>-..." files of dir whose
 * lock nobody holds and whose pid is no process here or that were not
 * written for stale_ms (a writer killed -9); a file a living writer holds
 * is kept, whatever machine or pid namespace it runs in.  Returns how many
 * it deleted. */
int ut_tmp_create(const char *dir, const char *prefix, const char *tag, const char *suffix,
                  char *out, size_t n, char *err, size_t errlen);
int ut_tmp_gc(const char *dir, const char *prefix, int64_t stale_ms);

/* Monotonic clock in nanoseconds. */
uint64_t ut_now_ns(void);

#endif
