/* JSON numbers: grammar check, int64 fast path, exact double fast path
 * (Clinger: mantissa < 2^53 and |exp10| <= 22), strtod otherwise. */
#include "json/json_int.h"

#include <stdlib.h>
#include <string.h>

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

int js__number(js__cur *c, js_value *v, char *err, size_t errlen)
{
    const char *s = c->s;
    size_t len = c->len, i = c->pos, start = i;
    int neg = 0, big = 0, is_int = 1;
    uint64_t m = 0;
    int64_t e10 = 0;
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= len || !is_digit(s[i])) {
        c->pos = i;
        return js__err_at(c, err, errlen, "expected a digit");
    }
    if (s[i] == '0') {
        i++;
        if (i < len && is_digit(s[i])) {
            c->pos = i;
            return js__err_at(c, err, errlen, "leading zero in number");
        }
    } else {
        while (i < len && is_digit(s[i])) {
            unsigned dg = (unsigned)(s[i] - '0');
            if (m <= (UINT64_MAX - 9) / 10) m = m * 10 + dg;
            else { big = 1; e10++; }
            i++;
        }
    }
    if (i < len && s[i] == '.') {
        is_int = 0;
        i++;
        if (i >= len || !is_digit(s[i])) {
            c->pos = i;
            return js__err_at(c, err, errlen, "expected a digit after '.'");
        }
        while (i < len && is_digit(s[i])) {
            if (m <= (UINT64_MAX - 9) / 10) {
                m = m * 10 + (unsigned)(s[i] - '0');
                e10--;
            } else {
                big = 1;
            }
            i++;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        is_int = 0;
        i++;
        int eneg = 0;
        int64_t ev = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        if (i >= len || !is_digit(s[i])) {
            c->pos = i;
            return js__err_at(c, err, errlen, "expected a digit in exponent");
        }
        while (i < len && is_digit(s[i])) {
            if (ev < 1000000) ev = ev * 10 + (s[i] - '0');
            i++;
        }
        e10 += eneg ? -ev : ev;
    }
    if (i - start > JS_MAX_NUMBER_LEN) {
        c->pos = start;
        return js__err_at(c, err, errlen, "number literal too long");
    }
    c->pos = i;
    if (!v) return 0;
    v->s = s + start;
    v->n = i - start;
    v->escaped = 0;
    if (is_int && !big) {
        if (!neg && m <= (uint64_t)INT64_MAX) {
            v->kind = JS_INT;
            v->i = (int64_t)m;
            return 0;
        }
        if (neg && m <= (uint64_t)INT64_MAX + 1) {
            v->kind = JS_INT;
            v->i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            return 0;
        }
    }
    v->kind = JS_DOUBLE;
    if (!big && m < ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        double d = (double)m;
        d = e10 < 0 ? d / pow10_tab[-e10] : d * pow10_tab[e10];
        v->d = neg ? -d : d;
        return 0;
    }
    char tmp[JS_MAX_NUMBER_LEN + 1];
    memcpy(tmp, s + start, i - start);
    tmp[i - start] = 0;
    v->d = strtod(tmp, NULL);
    return 0;
}
