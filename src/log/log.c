/* Levelled log lines: format into a capped stack buffer, one write(2). */
#include "log/log.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const names[] = {"debug", "info", "warn", "error", "off"};

static _Atomic int cur_level = -1; /* -1: not read from the environment yet */
static pthread_mutex_t sink_mu = PTHREAD_MUTEX_INITIALIZER; /* sink_fn + sink_arg */
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

void lg_set_default_level(lg_level level)
{
    lg_level env;
    const char *e = getenv("SLUICE_LOG_LEVEL");
    if (!e || lg_level_parse(e, &env)) lg_set_level(level);
}
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
    pthread_mutex_lock(&sink_mu);
    sink_fn = fn;
    sink_arg = arg;
    pthread_mutex_unlock(&sink_mu);
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

/* Length of s[0..n) without a UTF-8 sequence cut short at its end. */
static size_t whole_chars(const char *s, size_t n)
{
    size_t k = n, cont = 0;
    while (k > 0 && cont < 3 && ((unsigned char)s[k - 1] & 0xC0) == 0x80) k--, cont++;
    if (k == 0) return n;
    unsigned char lead = (unsigned char)s[k - 1];
    if (lead < 0xC0) return n; /* ASCII or stray continuation bytes: nothing to cut */
    size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    return cont >= need ? n : k - 1;
}

/* Format into out[LG_LINE_MAX]: one line, control characters (a newline
 * from an error text, an escape sequence from outside input) written as
 * \n, \r, \t or \xNN, cut at a character boundary and ended with "…" when
 * longer than the cap.  Trailing newlines are dropped. */
static void format_msg(char *out, const char *fmt, va_list ap)
{
    char raw[LG_LINE_MAX];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    size_t rn = n < 0 ? 0 : (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    int cut = n >= (int)sizeof raw;
    while (!cut && rn > 0 && raw[rn - 1] == '\n') rn--;
    size_t o = 0, room = LG_LINE_MAX - 4; /* "…" and the NUL */
    for (size_t i = 0; i < rn; i++) {
        unsigned char c = (unsigned char)raw[i];
        char esc[8];
        size_t en = 0;
        if (c >= 0x20 && c != 0x7f) esc[en++] = (char)c;
        else if (c == '\n') en = (size_t)snprintf(esc, sizeof esc, "\\n");
        else if (c == '\r') en = (size_t)snprintf(esc, sizeof esc, "\\r");
        else if (c == '\t') en = (size_t)snprintf(esc, sizeof esc, "\\t");
        else en = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        if (o + en > room) {
            cut = 1;
            break;
        }
        memcpy(out + o, esc, en);
        o += en;
    }
    if (cut) {
        o = whole_chars(out, o);
        memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
        o += 3;
    }
    assert(o < LG_LINE_MAX);
    out[o] = 0;
}

/* The calling thread's extra sink (lg_set_thread_sink). */
static _Thread_local lg_sink_fn thread_fn;
static _Thread_local void *thread_arg;

void lg_set_thread_sink(lg_sink_fn fn, void *arg)
{
    thread_fn = fn;
    thread_arg = fn ? arg : NULL;
}

void lg_vwrite(lg_level level, const char *component, const char *fmt, va_list ap)
{
    if (level < LG_DEBUG || level >= LG_OFF || (int)level < level_now()) return;
    atomic_fetch_add(&counts[level], 1);
    char msg[LG_LINE_MAX];
    format_msg(msg, fmt, ap);
    if (!component || !component[0]) component = "sluice";
    pthread_mutex_lock(&sink_mu);
    lg_sink_fn fn = sink_fn;
    void *arg = sink_arg;
    pthread_mutex_unlock(&sink_mu);
    if (fn)
        fn(level, component, msg, arg);
    else
        to_stderr(level, component, msg);
    if (thread_fn) thread_fn(level, component, msg, thread_arg);
}

void lg_write(lg_level level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lg_vwrite(level, component, fmt, ap);
    va_end(ap);
}
