/* config value parsers and formatters: booleans, integers, sizes, durations,
 * fsync specs, host:port, enums, names; edit distance for suggestions. */
#include "config/cf_int.h"
#include "util/util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Text equal to lit, ignoring ASCII case. */
static int eq_ci(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Leading decimal digits of s[0..n) into *v (no sign).  Returns the number of
 * digits consumed, 0 if none, -1 on overflow past max. */
static int digits(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0;
    if (n > CF_MAX_STRING) return -1;
    while (i < n && is_digit(s[i])) {
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10) return -1;
        x = x * 10 + d;
        i++;
    }
    *v = x;
    return (int)i;
}

int cf__parse_bool(const char *s, size_t n, bool *out)
{
    static const char *yes[] = {"true", "yes", "on"}, *no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (eq_ci(s, n, yes[i])) {
            *out = true;
            return 0;
        }
        if (eq_ci(s, n, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int cf__parse_int(const char *s, size_t n, int64_t *out)
{
    int neg = 0;
    uint64_t v;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    int d = digits(s, n, (uint64_t)INT64_MAX, &v);
    if (d <= 0 || (size_t)d != n) return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int cf__parse_size(const char *s, size_t n, uint64_t *out)
{
    static const struct {
        const char *u;
        uint64_t mul;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"kb", 1000ull},
                 {"mb", 1000000ull},
                 {"gb", 1000000000ull},
                 {"tb", 1000000000000ull},
                 {"kib", 1ull << 10},
                 {"mib", 1ull << 20},
                 {"gib", 1ull << 30},
                 {"tib", 1ull << 40}};
    uint64_t v;
    int d = digits(s, n, UINT64_MAX, &v);
    if (d <= 0) return -1;
    size_t i = (size_t)d;
    if (i < n && s[i] == ' ') i++;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (!eq_ci(s + i, n - i, units[u].u)) continue;
        if (!units[u].u[0] && i != (size_t)d) return -1; /* "10 " */
        if (v > UINT64_MAX / units[u].mul) return -1;
        *out = v * units[u].mul;
        return 0;
    }
    return -1;
}

int cf__parse_duration(const char *s, size_t n, int64_t *ms)
{
    static const struct {
        const char *u;
        int64_t mul;
    } units[] = {{"", 1000},           {"ms", 1},           {"s", 1000},
                 {"m", 60 * 1000},     {"h", 3600 * 1000},  {"d", 86400 * 1000}};
    uint64_t v;
    int d = digits(s, n, (uint64_t)INT64_MAX, &v);
    if (d <= 0) return -1;
    size_t i = (size_t)d;
    if (i < n && s[i] == ' ') i++;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (!eq_ci(s + i, n - i, units[u].u)) continue;
        if (!units[u].u[0] && i != (size_t)d) return -1;
        if (v > (uint64_t)(INT64_MAX / units[u].mul)) return -1;
        *ms = (int64_t)v * units[u].mul;
        return 0;
    }
    return -1;
}

int cf__parse_rate(const char *s, size_t n, double *per_second)
{
    static const struct {
        char u;
        double secs;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    uint64_t whole, frac = 0;
    int d = digits(s, n, 1000000000, &whole), fd = 0;
    if (d <= 0) return -1;
    size_t i = (size_t)d;
    if (i < n && s[i] == '.') {
        fd = digits(s + i + 1, n - i - 1, 1000000, &frac);
        if (fd <= 0 || fd > 6) return -1;
        i += 1 + (size_t)fd;
    }
    if (i + 2 != n || s[i] != '/') return -1;
    double v = (double)whole, scale = 1;
    for (int k = 0; k < fd; k++) scale *= 10;
    v += (double)frac / scale;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if ((s[i + 1] | 0x20) == units[u].u) {
            *per_second = v / units[u].secs;
            return 0;
        }
    return -1;
}

int cf__parse_fsync(const char *s, size_t n, cf_fsync *out)
{
    static const char batch[] = "batch-ms";
    const size_t bl = sizeof batch - 1;
    out->batch_ms = 5;
    if (eq_ci(s, n, "always")) {
        out->mode = JR_FSYNC_ALWAYS;
        return 0;
    }
    if (eq_ci(s, n, "never")) {
        out->mode = JR_FSYNC_NEVER;
        return 0;
    }
    if (n <= bl + 1 || strncasecmp(s, batch, bl) != 0 || s[bl] != ' ') return -1;
    size_t i = bl;
    while (i < n && s[i] == ' ') i++;
    uint64_t v;
    int d = digits(s + i, n - i, 1000000, &v);
    if (d <= 0 || i + (size_t)d != n || v < 1 || v > 10000) return -1;
    out->mode = JR_FSYNC_BATCH;
    out->batch_ms = (int)v;
    return 0;
}

int cf__parse_hostport(const char *s, size_t n, cf_hostport *out)
{
    const char *host, *colon;
    size_t hl;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb || rb + 1 >= s + n || rb[1] != ':') return -1;
        host = s + 1;
        hl = (size_t)(rb - host);
        colon = rb + 1;
        for (size_t i = 0; i < hl; i++) {
            char c = host[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.'))
                return -1;
        }
    } else {
        colon = memchr(s, ':', n);
        if (!colon) return -1;
        host = s;
        hl = (size_t)(colon - s);
        for (size_t i = 0; i < hl; i++) {
            char c = host[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                  c == '-' || c == '_'))
                return -1;
        }
    }
    if (hl == 0 || hl >= sizeof out->host) return -1;
    const char *p = colon + 1;
    size_t pn = (size_t)(s + n - p);
    uint64_t port;
    int d = digits(p, pn, 1000000, &port);
    if (d <= 0 || (size_t)d != pn || d > 5 || port > 65535) return -1;
    memcpy(out->host, host, hl);
    out->host[hl] = 0;
    out->port = (int)port;
    return 0;
}

int cf__parse_enum(const char *s, size_t n, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], s, n)) {
            *out = i;
            return 0;
        }
    return -1;
}

char *cf__fmt_size(char *out, uint64_t v)
{
    static const char *bin[] = {"KiB", "MiB", "GiB", "TiB"}, *dec[] = {"KB", "MB", "GB", "TB"};
    uint64_t best = v;
    const char *unit = "B";
    if (v == 0) {
        snprintf(out, 32, "0");
        return out;
    }
    uint64_t b = 1, d = 1;
    for (int k = 0; k < 4; k++) {
        b <<= 10;
        d *= 1000;
        if (v % b == 0 && v / b < best) {
            best = v / b;
            unit = bin[k];
        }
        if (v % d == 0 && v / d < best) {
            best = v / d;
            unit = dec[k];
        }
    }
    snprintf(out, 32, "%llu%s", (unsigned long long)best, unit);
    return out;
}

char *cf__fmt_duration(char *out, int64_t ms)
{
    static const struct {
        const char *u;
        int64_t mul;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    if (ms == 0) {
        snprintf(out, 32, "0");
        return out;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].mul == 0) {
            snprintf(out, 32, "%lld%s", (long long)(ms / units[i].mul), units[i].u);
            return out;
        }
    snprintf(out, 32, "%lldms", (long long)ms);
    return out;
}

int cf__edit_distance(const char *a, const char *b)
{
    enum { MAXL = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXL || lb > MAXL) return 1 << 20;
    int rows[3][MAXL + 1];
    int *pp = rows[0], *p = rows[1], *c = rows[2];
    for (size_t j = 0; j <= lb; j++) p[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = p[j] + 1;
            if (c[j - 1] + 1 < v) v = c[j - 1] + 1;
            if (p[j - 1] + cost < v) v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        int *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}
