/* Names of streams, tables, groups, consumers, cursors, connections and
 * jobs: one table of rules, one checker (see util.h for the rules). */
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct rule {
    const char *what;              /* "stream" */
    size_t max;                    /* bytes */
    int ident;                     /* SQL identifier: [A-Za-z_][A-Za-z0-9_]* */
    const char *const *suffixes;   /* reserved endings, NULL-terminated */
    const char *const *words;      /* reserved whole names (any case) */
    const char *why;               /* why the reserved ones are */
    int path;                      /* components split by '/', '+' allowed too */
} rule;

static const char *const stream_suffixes[] = {".errors", ".dlq", NULL};
static const char *const cursor_suffixes[] = {".tmp", NULL};
static const char *const sql_schemas[] = {"main", "temp", "lake", NULL};

static const rule rules[UT_NAME_KIND_COUNT] = {
    [UT_NAME_STREAM] = {"stream", 64, 0, stream_suffixes, NULL,
                        "reserved for a stream's rejected records and dead letters", 0},
    [UT_NAME_JOURNAL] = {"stream", 64 + 7, 0, NULL, NULL, NULL, 0},
    [UT_NAME_TABLE] = {"table", 127, 0, NULL, NULL, NULL, 0},
    [UT_NAME_GROUP] = {"group", 64, 0, NULL, NULL, NULL, 0},
    [UT_NAME_CONSUMER] = {"consumer", 64, 0, NULL, NULL, NULL, 0},
    [UT_NAME_CURSOR] = {"consumer", 64, 0, cursor_suffixes, NULL,
                        "reserved for the cursor's temporary file", 0},
    [UT_NAME_CONNECTION] = {"connection", 64, 1, NULL, sql_schemas,
                            "a schema SQL already has (main, temp, lake)", 0},
    [UT_NAME_JOB] = {"job", 64, 0, NULL, NULL, NULL, 0},
    [UT_NAME_ZONE] = {"time zone", 127, 0, NULL, NULL, NULL, 1},
    [UT_NAME_POOL] = {"pool", 64, 0, NULL, NULL, NULL, 0},
    [UT_NAME_SOURCE_TABLE] = {"source table", 64, 0, NULL, NULL, NULL, 0},
    [UT_NAME_LOG_SOURCE] = {"source", 64, 0, NULL, NULL, NULL, 0},
};

static int is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int allowed(const rule *r, unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || (!r->ident && (c == '.' || c == '-')) ||
           (r->path && (c == '/' || c == '+'));
}

/* Path names: every '/'-separated component is non-empty and starts with
 * neither '.' nor '-' (so no "..", no hidden files, no absolute paths). */
static const char *bad_component(const char *name, size_t len)
{
    for (size_t i = 0; i <= len; i++) {
        int start = i == 0 || name[i - 1] == '/';
        if (!start) continue;
        if (i == len || name[i] == '/')
            return "it has an empty component (a leading, trailing or double '/')";
        if (name[i] == '.' || name[i] == '-')
            return "no component may start with '.' or '-'";
    }
    return NULL;
}

/* name[0..len) for a message: printable ASCII as is, other bytes \xNN, cut
 * after about 80 bytes ("…"). */
static const char *shown(char out[128], const char *s, size_t n)
{
    size_t o = 0, i = 0;
    for (; i < n && o < 80; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, 8, "\\x%02x", c);
    }
    if (i < n) {
        memcpy(out + o, "\xe2\x80\xa6", 3);
        o += 3;
    }
    out[o] = 0;
    return out;
}

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n > k && !memcmp(s + n - k, suf, k);
}

static int bad(const rule *r, const char *name, size_t len, char *err, size_t errlen,
               const char *reason)
{
    char s[128];
    return ut_err(err, errlen, "%s name '%s' is not valid: %s", r->what, shown(s, name, len),
                  reason);
}

int ut_name_check(ut_namekind kind, const char *name, size_t len, char *err, size_t errlen)
{
    assert(kind >= 0 && kind < UT_NAME_KIND_COUNT);
    const rule *r = &rules[kind];
    char why[200];
    if (!name || !len) return ut_err(err, errlen, "%s name is empty", r->what);
    if (len > r->max) {
        snprintf(why, sizeof why, "longer than %zu bytes", r->max);
        return bad(r, name, len, err, errlen, why);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (allowed(r, c)) continue;
        const char *chars = r->ident  ? "A-Z a-z 0-9 _"
                            : r->path ? "A-Z a-z 0-9 _ . - + /"
                                      : "A-Z a-z 0-9 _ . -";
        if (c >= 0x20 && c < 0x7f)
            snprintf(why, sizeof why, "'%c' at byte %zu is not allowed; use %s", c, i + 1, chars);
        else
            snprintf(why, sizeof why, "byte %zu (\\x%02x) is not allowed; use %s", i + 1, c, chars);
        return bad(r, name, len, err, errlen, why);
    }
    unsigned char c0 = (unsigned char)name[0];
    const char *comp = r->path ? bad_component(name, len) : NULL;
    if (comp) return bad(r, name, len, err, errlen, comp);
    if (r->ident && is_digit(c0))
        return bad(r, name, len, err, errlen, "it must start with a letter or '_'");
    if (!r->ident && (c0 == '.' || c0 == '-'))
        return bad(r, name, len, err, errlen, "it must not start with '.' or '-'");
    for (const char *const *sfx = r->suffixes; sfx && *sfx; sfx++)
        if (ends_with(name, len, *sfx)) {
            snprintf(why, sizeof why, "names ending in %s are %s", *sfx, r->why);
            return bad(r, name, len, err, errlen, why);
        }
    for (const char *const *w = r->words; w && *w; w++)
        if (strlen(*w) == len && !strncasecmp(name, *w, len)) {
            snprintf(why, sizeof why, "'%s' is %s", *w, r->why);
            return bad(r, name, len, err, errlen, why);
        }
    return 0;
}

int ut_name_ok(ut_namekind kind, const char *name)
{
    return name && ut_name_check(kind, name, strlen(name), NULL, 0) == 0;
}

size_t ut_name_max(ut_namekind kind)
{
    assert(kind >= 0 && kind < UT_NAME_KIND_COUNT);
    return rules[kind].max;
}

const char *ut_name_kind(ut_namekind kind)
{
    assert(kind >= 0 && kind < UT_NAME_KIND_COUNT);
    return rules[kind].what;
}
