/* mask — parse a mask's text form and apply it to values (see mask.h).
 *
 *   "truncate:20" ──► mk_create: kind + argument checked, regex compiled,
 *                     HMAC keyed once ──► mk_apply(value) ──► out / NULL
 *
 * HMAC-SHA256 comes from libcrypto: the keyed context is built once and
 * copied per value (half the cost of EVP_Q_mac, which fetches the
 * algorithm and sets the key every call), regular expressions from
 * libc's POSIX regex (regexec is safe to call from many threads on one
 * compiled pattern). */
#include "mask/mask.h"

#include <assert.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRUNCATE 1000000
#define REDACT_DEFAULT "***"
#define MAX_REGEX_COST 10000 /* see regex_cost */

struct mk_mask {
    mk_kind kind;
    char *text;           /* the text form */
    char *arg;            /* redact: the text; regex: the replacement */
    size_t arg_len;
    long n;               /* truncate */
    EVP_MAC_CTX *hmac;    /* hash: keyed, never updated (copied per value) */
    regex_t re;           /* regex */
    int re_ok;
};

static const struct {
    const char *name;
    mk_kind kind;
    int arg; /* 0 none, 1 optional, 2 required */
} KINDS[] = {
    {"hash", MK_HASH, 0},         {"null", MK_NULL, 0},       {"redact", MK_REDACT, 1},
    {"truncate", MK_TRUNCATE, 2}, {"email_domain", MK_EMAIL_DOMAIN, 0}, {"regex", MK_REGEX, 2},
};

/* Past the bracket expression starting at p[0] == '[' (a ']' first, or
 * after '^', is a member). */
static const char *skip_bracket(const char *p, const char *end)
{
    p++;
    if (p < end && *p == '^') p++;
    if (p < end && *p == ']') p++;
    while (p < end && *p != ']') p++;
    return p < end ? p + 1 : end;
}

/* An upper estimate of what glibc's regcomp builds from pat[0..n): it
 * copies a repeated atom once per repetition (a+ as aa*, a{3} as aaa), so
 * nested or stacked repetitions multiply ("(a{100}){100}", "a+++++...")
 * and a short pattern can take gigabytes (fuzz_mask found one).  Atoms
 * count 1, a group the sum of its atoms, a repetition multiplies the atom
 * before it by its bound (2 for * + ?).  Saturates at MAX_REGEX_COST + 1. */
static long regex_cost(const char *pat, size_t n)
{
    long stack[64], sum = 0, last = 0;
    int depth = 0;
    for (const char *p = pat, *end = pat + n; p < end;) {
        char c = *p;
        if (c == '(' && depth < 64) {
            stack[depth++] = sum, sum = 0, last = 0, p++;
            continue;
        }
        if (c == ')' && depth > 0) {
            last = sum ? sum : 1, sum = stack[--depth] + last, p++;
            continue;
        }
        long mul = 0;
        if (c == '*' || c == '+' || c == '?') mul = 2, p++;
        else if (c == '{') {
            char *e2;
            long lo = strtol(p + 1, &e2, 10), hi;
            lo = lo < 0 ? 0 : lo > MAX_REGEX_COST ? MAX_REGEX_COST : lo; /* (no overflow below) */
            hi = *e2 != ',' ? lo : e2[1] == '}' ? lo + 1 : strtol(e2 + 1, &e2, 10);
            hi = hi < 0 ? 0 : hi > MAX_REGEX_COST ? MAX_REGEX_COST : hi;
            mul = (hi > lo ? hi : lo) + 1;
            const char *close = memchr(p, '}', (size_t)(end - p));
            p = close ? close + 1 : end;
        }
        if (mul) {
            if (mul > MAX_REGEX_COST) mul = MAX_REGEX_COST + 1;
            sum += last * (mul - 1), last *= mul;
        } else {
            p = c == '[' ? skip_bracket(p, end) : p + (c == '\\' && p + 1 < end ? 2 : 1);
            last = 1, sum += 1;
        }
        if (sum > MAX_REGEX_COST || last > MAX_REGEX_COST) return MAX_REGEX_COST + 1;
    }
    while (depth > 0) sum += stack[--depth];
    return sum;
}

static int set_regex(mk_mask *m, const char *a, ut_error *e)
{
    const char *sep = strstr(a, "=>");
    if (!sep) return ut_fail(e, UT_EINVAL, "mask '%.60s': regex:PATTERN=>REPLACEMENT expected", m->text);
    size_t pl = (size_t)(sep - a);
    if (regex_cost(a, pl) > MAX_REGEX_COST)
        return ut_fail(e, UT_EINVAL, "mask '%.60s': the pattern repeats too much (nested or stacked "
                       "repetitions would build over %d states)", m->text, MAX_REGEX_COST);
    char *pat = ut_malloc(pl + 1);
    memcpy(pat, a, pl);
    pat[pl] = 0;
    int rc = regcomp(&m->re, pat, REG_EXTENDED);
    free(pat);
    if (rc) {
        char why[256];
        regerror(rc, &m->re, why, sizeof why);
        return ut_fail(e, UT_EINVAL, "mask '%.60s': the pattern does not compile: %s", m->text, why);
    }
    m->re_ok = 1;
    m->arg = ut_strdup(sep + 2);
    m->arg_len = strlen(m->arg);
    for (size_t i = 0; i < m->arg_len; i++) /* \N must name a group the pattern has */
        if (m->arg[i] == '\\' && i + 1 < m->arg_len && m->arg[++i] >= '0' && m->arg[i] <= '9' &&
            (size_t)(m->arg[i] - '0') > m->re.re_nsub)
            return ut_fail(e, UT_EINVAL, "mask '%.60s': \\%c but the pattern has %zu group(s)",
                           m->text, m->arg[i], m->re.re_nsub);
    return 0;
}

static int hmac_init(mk_mask *m, const void *key, size_t keylen, ut_error *e)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                      OSSL_PARAM_construct_end()};
    m->hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* (the context keeps its own reference) */
    if (!m->hmac || !EVP_MAC_init(m->hmac, key, keylen, p))
        return ut_fail(e, UT_EIO, "mask 'hash': HMAC-SHA256 unavailable in libcrypto");
    return 0;
}

/* The kind's argument a (NULL: none given).  0 / -1. */
static int set_arg(mk_mask *m, const char *a, const void *key, size_t keylen, ut_error *e)
{
    switch (m->kind) {
    case MK_HASH:
        if (!key || !keylen)
            return ut_fail(e, UT_EINVAL, "mask 'hash' needs a key (mask_key: a secret)");
        if (keylen > MK_MAX_KEY)
            return ut_fail(e, UT_EINVAL, "mask 'hash': the key is over %d bytes", MK_MAX_KEY);
        return hmac_init(m, key, keylen, e);
    case MK_REDACT:
        m->arg = ut_strdup(a ? a : REDACT_DEFAULT);
        m->arg_len = strlen(m->arg);
        return 0;
    case MK_TRUNCATE: {
        char *end;
        m->n = strtol(a, &end, 10);
        if (!*a || *end || *a == '-' || *a == '+' || m->n > MAX_TRUNCATE)
            return ut_fail(e, UT_EINVAL, "mask '%.60s': N must be a whole number 0..%d", m->text,
                           MAX_TRUNCATE);
        return 0;
    }
    case MK_REGEX: return set_regex(m, a, e);
    default: return 0;
    }
}

mk_mask *mk_create(const char *s, const void *key, size_t keylen, ut_error *e)
{
    if (!s || !*s) return ut_fail(e, UT_EINVAL, "mask: empty"), NULL;
    size_t len = strlen(s);
    if (len > MK_MAX_SPEC)
        return ut_fail(e, UT_EINVAL, "mask '%.40s...': over %d bytes", s, MK_MAX_SPEC), NULL;
    const char *colon = strchr(s, ':');
    size_t nl = colon ? (size_t)(colon - s) : len;
    int k = -1;
    for (int i = 0; i < (int)(sizeof KINDS / sizeof *KINDS); i++)
        if (strlen(KINDS[i].name) == nl && !strncmp(KINDS[i].name, s, nl)) k = i;
    if (k < 0)
        return ut_fail(e, UT_EINVAL, "mask '%.60s': unknown (hash, null, redact[:TEXT], truncate:N, "
                       "email_domain, regex:PATTERN=>REPLACEMENT)", s), NULL;
    if ((colon && !KINDS[k].arg) || (!colon && KINDS[k].arg == 2))
        return ut_fail(e, UT_EINVAL, "mask '%.60s': %s %s", s, KINDS[k].name,
                       colon ? "takes no argument" : "needs an argument (NAME:ARG)"), NULL;
    mk_mask *m = ut_calloc(1, sizeof *m);
    m->kind = KINDS[k].kind;
    m->text = ut_strdup(s);
    if (set_arg(m, colon ? colon + 1 : NULL, key, keylen, e)) {
        mk_destroy(m);
        return NULL;
    }
    return m;
}

void mk_destroy(mk_mask *m)
{
    if (!m) return;
    if (m->re_ok) regfree(&m->re);
    EVP_MAC_CTX_free(m->hmac); /* (cleanses the key) */
    free(m->arg);
    free(m->text);
    free(m);
}

mk_kind mk_kind_of(const mk_mask *m) { return m->kind; }
const char *mk_text(const mk_mask *m) { return m->text; }

static int hash(const mk_mask *m, const char *v, size_t n, ut_buf *out, ut_error *e)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    size_t got = 0;
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->hmac);
    int ok = c && EVP_MAC_update(c, (const unsigned char *)v, n) &&
             EVP_MAC_final(c, md, &got, sizeof md) && got == 32;
    EVP_MAC_CTX_free(c);
    if (!ok) return ut_fail(e, UT_EIO, "mask 'hash': HMAC-SHA256 failed in libcrypto");
    ut_buf_reserve(out, 64);
    for (int i = 0; i < 32; i++) {
        ut_buf_putc(out, hex[md[i] >> 4]);
        ut_buf_putc(out, hex[md[i] & 15]);
    }
    return 0;
}

/* The first m->n characters. */
static void truncate_chars(const mk_mask *m, const char *v, size_t n, ut_buf *out)
{
    size_t i = 0;
    for (long c = 0; c < m->n && i < n; c++) {
        size_t l = ut_utf8_len((const uint8_t *)v + i, n - i);
        i += l ? l : 1;
    }
    ut_buf_put(out, v, i);
}

/* Append the replacement template for one match (g: the groups). */
static void put_template(const mk_mask *m, const char *v, const regmatch_t *g, ut_buf *out)
{
    for (size_t i = 0; i < m->arg_len; i++) {
        char c = m->arg[i];
        if (c != '\\' || i + 1 == m->arg_len) {
            ut_buf_putc(out, c);
            continue;
        }
        c = m->arg[++i];
        if (c >= '0' && c <= '9') {
            const regmatch_t *r = &g[c - '0'];
            if (r->rm_so >= 0) ut_buf_put(out, v + r->rm_so, (size_t)(r->rm_eo - r->rm_so));
        } else {
            ut_buf_putc(out, c); /* \\ and any other escaped byte: itself */
        }
    }
}

/* One regexec over s[pos, end), s NUL-terminated at end.  REG_STARTEND
 * bounds the call: without it glibc strlens the rest of the value on every
 * call, and a 2 MB value with 100000 matches took 2.3 s (now 10 ms).  The
 * byte before pos is kept in view as the context of ^, \< and \b (a
 * sanitizer's regexec still strlens from the pointer it is given, so the
 * pointer starts there and not at s).  Offsets in g are made s-relative. */
static int regex_at(const mk_mask *m, const char *s, size_t pos, size_t end, regmatch_t *g)
{
    size_t base = pos ? pos - 1 : 0;
    g[0].rm_so = (regoff_t)(pos - base);
    g[0].rm_eo = (regoff_t)(end - base);
    if (regexec(&m->re, s + base, 10, g, REG_STARTEND)) return -1;
    for (int i = 0; i < 10; i++)
        if (g[i].rm_so >= 0) g[i].rm_so += (regoff_t)base, g[i].rm_eo += (regoff_t)base;
    assert((size_t)g[0].rm_so >= pos && (size_t)g[0].rm_eo <= end);
    return 0;
}

/* Every match of the pattern in v[0..n) replaced.  A NUL inside a value
 * ends the search (the rest is kept as it is); regexec's callers must pass
 * a string, so v is copied with a NUL after it. */
static int regex_replace(const mk_mask *m, const char *v, size_t n, ut_buf *out, ut_error *e)
{
    size_t end = strnlen(v, n), pos = 0;
    char *s = ut_malloc(end + 1);
    memcpy(s, v, end);
    s[end] = 0;
    int matches = 0, rc = 0;
    regmatch_t g[10];
    while (pos <= end && !regex_at(m, s, pos, end, g)) {
        if (++matches > MK_MAX_MATCHES) {
            rc = ut_fail(e, UT_ETOOBIG, "mask '%.60s': more than %d matches in one value", m->text,
                         MK_MAX_MATCHES);
            break;
        }
        ut_buf_put(out, s + pos, (size_t)g[0].rm_so - pos);
        put_template(m, s, g, out);
        if (out->len > MK_MAX_VALUE) break;
        size_t next = (size_t)g[0].rm_eo;
        if (g[0].rm_eo == g[0].rm_so) { /* an empty match: keep one byte, move on */
            if (next < end) ut_buf_putc(out, s[next]);
            next++;
        }
        pos = next;
    }
    if (pos > end) pos = end; /* (an empty match at the end stepped past it) */
    if (!rc && pos < n) ut_buf_put(out, v + pos, n - pos);
    free(s);
    return rc;
}

int mk_apply(const mk_mask *m, const char *v, size_t n, ut_buf *out, int *is_null, ut_error *e)
{
    ut_buf_reset(out);
    *is_null = 0;
    if (!v || m->kind == MK_NULL) return *is_null = 1, 0;
    if (n > MK_MAX_VALUE)
        return ut_fail(e, UT_ETOOBIG, "mask '%.60s': a value of %zu bytes (cap %u)", m->text, n,
                       MK_MAX_VALUE);
    int rc = 0;
    switch (m->kind) {
    case MK_HASH: rc = hash(m, v, n, out, e); break;
    case MK_REDACT: ut_buf_put(out, m->arg, m->arg_len); break;
    case MK_TRUNCATE: truncate_chars(m, v, n, out); break;
    case MK_EMAIL_DOMAIN: {
        const char *at = n ? memrchr(v, '@', n) : NULL;
        if (!at || at + 1 == v + n) return *is_null = 1, 0;
        ut_buf_put(out, at + 1, (size_t)(v + n - at - 1));
        break;
    }
    case MK_REGEX: rc = regex_replace(m, v, n, out, e); break;
    default: assert(!"mask kind"); break;
    }
    if (!rc && out->len > MK_MAX_VALUE)
        rc = ut_fail(e, UT_ETOOBIG, "mask '%.60s': the result is over %u bytes", m->text, MK_MAX_VALUE);
    if (rc) ut_buf_reset(out);
    return rc;
}
