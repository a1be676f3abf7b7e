/* log — levelled log lines, one mechanism for the whole program.
 *
 * Prefix: lg_.
 *
 * Library code never writes to stderr itself: it calls lg_error/lg_warn/
 * lg_info/lg_debug with the name of its component ("journal", "sink",
 * "server", …) and the line goes to the log's sink, by default stderr as
 *
 *   2026-12-01T20:15:03.123Z warn  journal: stream events: dropped 12 bytes …
 *
 * Lines below the level set with lg_set_level are dropped before they are
 * formatted.  One call is one line: control characters in the message (a
 * newline inside an error text, an escape sequence from outside input) are
 * written as \n, \r, \t, \xNN, trailing newlines dropped.  A message is
 * capped at LG_LINE_MAX bytes with its NUL (longer ones are cut at a UTF-8
 * character boundary and end in "…").  A NULL or empty component is
 * "sluice".  Tests may install their own sink with lg_set_sink to capture
 * lines.
 *
 * Thread safety: every function may be called from any thread (the sink is
 * swapped under a lock; it is called outside it, so it must be thread-safe
 * itself); one line is written with one write() so lines from several
 * threads never interleave.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdarg.h>

typedef enum lg_level { LG_DEBUG = 0, LG_INFO, LG_WARN, LG_ERROR, LG_OFF } lg_level;

#define LG_LINE_MAX 4096

/* Least severe level written (default LG_INFO; SLUICE_LOG_LEVEL in the
 * environment sets the starting value: debug|info|warn|error|off). */
void lg_set_level(lg_level level);
lg_level lg_get_level(void);
/* The configured level (log_level): set unless SLUICE_LOG_LEVEL chose one,
 * so the environment wins for a single run. */
void lg_set_default_level(lg_level level);
/* "debug" → LG_DEBUG …; 0, or -1 for an unknown name. */
int lg_level_parse(const char *name, lg_level *out);
const char *lg_level_name(lg_level level);

/* Where lines go: fn(level, component, message, arg).  NULL restores stderr.
 * The message has no trailing newline. */
typedef void (*lg_sink_fn)(lg_level level, const char *component, const char *msg, void *arg);
void lg_set_sink(lg_sink_fn fn, void *arg);

/* A second sink for the calling thread only (NULL ends it): its lines go
 * there too, after the main sink (the jobs runtime keeps a task's lines as
 * the run's log).  Only lines at or above the level reach it. */
void lg_set_thread_sink(lg_sink_fn fn, void *arg);

/* Counters of lines written per level since start (for /metrics). */
unsigned long long lg_count(lg_level level);

void lg_write(lg_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lg_vwrite(lg_level level, const char *component, const char *fmt, va_list ap);

#define lg_error(comp, ...) lg_write(LG_ERROR, (comp), __VA_ARGS__)
#define lg_warn(comp, ...) lg_write(LG_WARN, (comp), __VA_ARGS__)
#define lg_info(comp, ...) lg_write(LG_INFO, (comp), __VA_ARGS__)
#define lg_debug(comp, ...) lg_write(LG_DEBUG, (comp), __VA_ARGS__)

#endif
