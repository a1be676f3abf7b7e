/* JSON strings: fast in-place scan (8 bytes at a time), UTF-8 and escape
 * validation, unescaping into the parser's scratch buffer. */
#include "json/json_int.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Non-zero when any of the 8 bytes is '"', '\\', < 0x20 or >= 0x80. */
static inline uint64_t special8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    uint64_t hq = (q - ONES) & ~q, hb = (b - ONES) & ~b, hc = (v - ONES * 0x20) & ~v;
    return (hq | hb | hc | v) & HIGHS;
}

/* Length of the valid UTF-8 sequence at s[0..n) starting with a byte >=
 * 0x80, or 0 (overlong, surrogate, out of range, truncated). */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[2] & 0xC0) != 0x80) return 0;
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char h = s[i];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape at s[i] == '\\'.  Writes to d (if non-NULL), sets *adv (input
 * bytes) and returns output bytes, or -1 with a message. */
static int escape(js__cur *c, size_t i, char *d, size_t *adv, char *err, size_t errlen)
{
    const char *s = c->s;
    if (i + 1 >= c->len) {
        c->pos = i;
        return js__err_at(c, err, errlen, "unterminated escape");
    }
    char e = s[i + 1], ch;
    switch (e) {
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case '/': ch = '/'; break;
    case 'b': ch = '\b'; break;
    case 'f': ch = '\f'; break;
    case 'n': ch = '\n'; break;
    case 'r': ch = '\r'; break;
    case 't': ch = '\t'; break;
    case 'u': {
        unsigned cp, lo;
        if (i + 6 > c->len || hex4(s + i + 2, &cp)) {
            c->pos = i;
            return js__err_at(c, err, errlen, "invalid \\u escape");
        }
        *adv = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            c->pos = i;
            return js__err_at(c, err, errlen, "lone low surrogate in \\u escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 12 > c->len || s[i + 6] != '\\' || s[i + 7] != 'u' || hex4(s + i + 8, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF) {
                c->pos = i;
                return js__err_at(c, err, errlen, "high surrogate not followed by a low one");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            *adv = 12;
        }
        char tmp[4];
        size_t k = put_utf8(d ? d : tmp, cp);
        return (int)k;
    }
    default:
        c->pos = i;
        return js__err_at(c, err, errlen, "invalid escape");
    }
    *adv = 2;
    if (d) *d = ch;
    return 1;
}

int js__string(js_parser *p, js__cur *c, int decode, const char **out, size_t *n, int *escaped,
               char *err, size_t errlen)
{
    const char *s = c->s;
    size_t len = c->len, start = c->pos + 1, i = start;
    for (;;) {
#ifdef __SSE2__
        {
            const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'),
                          vc = _mm_set1_epi8(0x1f);
            while (i + 16 <= len) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vb));
                m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, vc), v));
                unsigned mask = (unsigned)(_mm_movemask_epi8(m) | _mm_movemask_epi8(v));
                if (mask) {
                    i += (size_t)__builtin_ctz(mask);
                    break;
                }
                i += 16;
            }
        }
#endif
        while (i + 8 <= len && !special8(s + i)) i += 8;
        if (i >= len) {
            c->pos = len;
            return js__err_at(c, err, errlen, "unterminated string");
        }
        uint8_t ch = (uint8_t)s[i];
        if (ch == '"') {
            if (decode) {
                *out = s + start;
                *n = i - start;
                *escaped = 0;
            }
            c->pos = i + 1;
            return 0;
        }
        if (ch == '\\') break;
        if (ch < 0x20) {
            c->pos = i;
            return js__err_at(c, err, errlen, "control character in string");
        }
        if (ch >= 0x80) {
            size_t k = utf8_len((const uint8_t *)s + i, len - i);
            if (!k) {
                c->pos = i;
                return js__err_at(c, err, errlen, "invalid UTF-8 in string");
            }
            i += k;
        } else {
            i++;
        }
    }
    /* slow path: escapes; copy into scratch when decoding */
    char *d = NULL, *d0 = NULL;
    if (decode) {
        d0 = d = p->scratch + p->scratch_len;
        memcpy(d, s + start, i - start);
        d += i - start;
    }
    while (i < len) {
        uint8_t ch = (uint8_t)s[i];
        if (ch == '"') {
            if (decode) {
                *out = d0;
                *n = (size_t)(d - d0);
                *escaped = 1;
                p->scratch_len += *n;
            }
            c->pos = i + 1;
            return 0;
        }
        if (ch == '\\') {
            size_t adv = 0;
            int k = escape(c, i, d, &adv, err, errlen);
            if (k < 0) return -1;
            if (d) d += k;
            i += adv;
        } else if (ch < 0x20) {
            c->pos = i;
            return js__err_at(c, err, errlen, "control character in string");
        } else if (ch >= 0x80) {
            size_t k = utf8_len((const uint8_t *)s + i, len - i);
            if (!k) {
                c->pos = i;
                return js__err_at(c, err, errlen, "invalid UTF-8 in string");
            }
            if (d) {
                memcpy(d, s + i, k);
                d += k;
            }
            i += k;
        } else {
            if (d) *d++ = (char)ch;
            i++;
        }
    }
    c->pos = len;
    return js__err_at(c, err, errlen, "unterminated string");
}
