/* Levelled log lines: format into a capped stack buffer, one write(2). */
#include "log/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const names[] = {"debug", "info", "warn", "error", "off"};

static _Atomic int cur_level = -1; /* -1: not read from the environment yet */
static lg_sink_fn sink_fn;
static void *sink_arg;
static _Atomic unsigned long long counts[LG_OFF];

static int level_now(void)
{
    int l = atomic_load(&cur_level);
    if (l >= 0) return l;
    lg_level parsed = LG_INFO;
    const char *env = getenv("SLUICE_LOG_LEVEL");
    if (env) lg_level_parse(env, &parsed);
    int expect = -1;
    atomic_compare_exchange_strong(&cur_level, &expect, (int)parsed);
    return atomic_load(&cur_level);
}

void lg_set_level(lg_level level) { atomic_store(&cur_level, (int)level); }
lg_level lg_get_level(void) { return (lg_level)level_now(); }

int lg_level_parse(const char *name, lg_level *out)
{
    for (int i = 0; i <= LG_OFF; i++)
        if (!strcmp(name, names[i])) {
            *out = (lg_level)i;
            return 0;
        }
    return -1;
}

const char *lg_level_name(lg_level level)
{
    return level >= LG_DEBUG && level <= LG_OFF ? names[level] : "?";
}

void lg_set_sink(lg_sink_fn fn, void *arg)
{
    sink_fn = fn;
    sink_arg = arg;
}

unsigned long long lg_count(lg_level level)
{
    return level >= LG_DEBUG && level < LG_OFF ? atomic_load(&counts[level]) : 0;
}

/* "2026-12-01T20:15:03.123Z" into out[32]. */
static int stamp(char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    return snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    (int)((ts.tv_nsec / 1000000) % 1000));
}

static void to_stderr(lg_level level, const char *component, const char *msg)
{
    char line[LG_LINE_MAX + 128];
    char ts[96];
    stamp(ts, sizeof ts);
    int n = snprintf(line, sizeof line, "%s %-5s %s: %s\n", ts, names[level], component, msg);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) {
        n = (int)sizeof line - 1;
        line[n - 1] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

void lg_vwrite(lg_level level, const char *component, const char *fmt, va_list ap)
{
    if (level < LG_DEBUG || level >= LG_OFF || (int)level < level_now()) return;
    atomic_fetch_add(&counts[level], 1);
    char msg[LG_LINE_MAX];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n >= (int)sizeof msg) memcpy(msg + sizeof msg - 4, "\xe2\x80\xa6", 4); /* … */
    while (n > 0 && n < (int)sizeof msg && msg[n - 1] == '\n') msg[--n] = 0;
    if (sink_fn)
        sink_fn(level, component ? component : "sluice", msg, sink_arg);
    else
        to_stderr(level, component ? component : "sluice", msg);
}

void lg_write(lg_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lg_vwrite(level, component, fmt, ap);
    va_end(ap);
}
