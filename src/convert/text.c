/* Text -> value parsing shared by inference and the write pass. */
#include "convert/cv_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cv__parse_int(const char *s, size_t n, int64_t *v)
{
    size_t i = 0;
    int neg = 0;
    if (n && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i++;
    }
    if (i >= n || n - i > 19) {
        if (n - i > 19) { /* leading zeros may still fit */
            while (i < n - 1 && s[i] == '0') i++;
            if (n - i > 19) return -1;
        } else {
            return -1;
        }
    }
    uint64_t m = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        m = m * 10 + (uint64_t)(s[i] - '0'); /* <= 19 digits: no wrap */
    }
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1) return -1;
        *v = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX) return -1;
        *v = (int64_t)m;
    }
    return 0;
}

int cv__parse_double(const char *s, size_t n, double *v)
{
    char tmp[256];
    if (n == 0 || n >= sizeof tmp) return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == 'x' || c == 'X' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || !c)
            return -1;
    }
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    *v = strtod(tmp, &end);
    return end == tmp + n ? 0 : -1;
}

int cv__parse_bool(const char *s, size_t n, int *v)
{
    if (n == 4 && !strncasecmp(s, "true", 4)) {
        *v = 1;
        return 0;
    }
    if (n == 5 && !strncasecmp(s, "false", 5)) {
        *v = 0;
        return 0;
    }
    return -1;
}

int cv__is_ts(const char *s, size_t n)
{
    int64_t us;
    if (n < 19 || n > 40 || s[4] != '-' || s[7] != '-' || s[13] != ':') return 0;
    return ut_ts_parse(s, n, &us) == 0;
}

static inline int dig(char c) { return c >= '0' && c <= '9'; }

/* Strict number text (JSON grammar): 1 = integer, 2 = decimal/exponent,
 * 0 = not a number. */
static int number_kind(const char *s, size_t n)
{
    size_t i = 0;
    int kind = 1;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !dig(s[i])) return 0;
    if (s[i] == '0' && i + 1 < n && dig(s[i + 1])) return 0; /* leading zero: keep as text */
    while (i < n && dig(s[i])) i++;
    if (i < n && s[i] == '.') {
        kind = 2;
        i++;
        if (i >= n || !dig(s[i])) return 0;
        while (i < n && dig(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        kind = 2;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !dig(s[i])) return 0;
        while (i < n && dig(s[i])) i++;
    }
    return i == n ? kind : 0;
}

pq_type cv_classify_text(const char *s, size_t n, int quoted)
{
    if (n == 0) return quoted ? PQ_STRING : 0;
    int b;
    if (cv__parse_bool(s, n, &b) == 0) return PQ_BOOL;
    int k = number_kind(s, n);
    if (k == 1) {
        int64_t v;
        return cv__parse_int(s, n, &v) == 0 ? PQ_INT64 : PQ_DOUBLE;
    }
    if (k == 2) return PQ_DOUBLE;
    if (cv__is_ts(s, n)) return PQ_TIMESTAMP;
    return PQ_STRING;
}
