/* Query parameters: `{{ name }}` placeholders in a saved query's SQL, typed
 * text / number / date / enum / daterange, validated here and bound by the engine as
 * SQL parameters (:name), never pasted into the text.
 *
 *   definitions: [{"name":"day","type":"date","default":"today-7"},
 *                 {"name":"kind","type":"enum","options":["a","b"],"value":"a"}, ...]
 *   values:      {"day":"2024-05-01", ...}  (override each definition's
 *                "value", then its "default")
 *
 * date: YYYY-MM-DD, or today / today-N / today+N (UTC days), bound as the
 * YYYY-MM-DD text.  number: a JSON number or a numeric string (INTEGER or
 * REAL).  enum: one of the definition's options.  text: at most
 * SV_PARAM_VALUE_MAX bytes.  A placeholder inside a quoted string or a
 * comment is refused (quoting a bound value is the mistake it would be). */
#include "server/server.h"
#include "sql/sql.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const type_names[] = {"text", "number", "date", "enum", "daterange"};
#define NTYPES ((int)(sizeof type_names / sizeof type_names[0]))

static int copy_str(char *dst, size_t cap, const js_value *v)
{
    if (v->kind != JS_STRING || v->n >= cap) return -1;
    memcpy(dst, v->s, v->n);
    dst[v->n] = 0;
    return 0;
}

static int valid_name(const char *s, size_t n)
{
    if (!n || n > SV_PARAM_NAME_MAX || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

/* A value's text: a string as is, a number as its JSON text; null = none. */
static int value_text(const js_value *v, char **out)
{
    if (v->kind == JS_NULL) return 0;
    if (v->kind != JS_STRING && v->kind != JS_INT && v->kind != JS_DOUBLE) return -1;
    if (v->n > SV_PARAM_VALUE_MAX) return -1;
    free(*out);
    *out = ut_strndup(v->s, v->n);
    return 0;
}

static int parse_options(sv_param_def *d, const js_value *v, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(0, 2);
    const char *el;
    size_t en, off;
    int rc = js_array_begin(p, v->s, v->n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_array_next(p, &el, &en, &off, err, errlen)) == 1) {
        if (d->noptions >= SV_PARAM_OPTIONS_MAX || en < 2 || el[0] != '"' ||
            memchr(el, '\\', en) || en - 2 > SV_PARAM_VALUE_MAX) {
            rc = ut_err(err, errlen, "parameter %s: options are at most %d plain strings",
                        d->name, SV_PARAM_OPTIONS_MAX);
            break;
        }
        d->options = ut_realloc(d->options, (size_t)(d->noptions + 1) * sizeof *d->options);
        d->options[d->noptions++] = ut_strndup(el + 1, en - 2);
    }
    js_parser_destroy(p);
    return rc < 0 ? -1 : 0;
}

static int parse_def(const char *el, size_t en, sv_param_def *d, char *err, size_t errlen)
{
    js_parser *p = js_parser_create(0, 3);
    js_field f;
    char type[16] = "text";
    int rc = js_obj_begin(p, el, en, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        int bad = 0;
        if (f.key_len == 4 && !memcmp(f.key, "name", 4))
            bad = !valid_name(f.v.s, f.v.n) || f.v.kind != JS_STRING || copy_str(d->name, sizeof d->name, &f.v);
        else if (f.key_len == 4 && !memcmp(f.key, "type", 4)) bad = copy_str(type, sizeof type, &f.v);
        else if (f.key_len == 7 && !memcmp(f.key, "default", 7)) bad = value_text(&f.v, &d->deflt);
        else if (f.key_len == 5 && !memcmp(f.key, "value", 5)) bad = value_text(&f.v, &d->value);
        else if (f.key_len == 5 && !memcmp(f.key, "label", 5)) bad = f.v.kind != JS_STRING;
        else if (f.key_len == 7 && !memcmp(f.key, "options", 7))
            bad = f.v.kind != JS_ARRAY || parse_options(d, &f.v, err, errlen);
        else if (f.key_len == 13 && !memcmp(f.key, "options_query", 13))
            bad = f.v.kind != JS_INT || (d->options_query = f.v.i) <= 0;
        else bad = 1;
        if (bad) {
            rc = ut_err(err, errlen, "parameter %s: field '%.*s' is not valid", d->name[0] ? d->name : "?",
                        (int)(f.key_len > 40 ? 40 : f.key_len), f.key);
        }
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    if (!d->name[0]) return ut_err(err, errlen, "a parameter has no valid \"name\" (letters, digits, _)");
    d->type = -1;
    for (int i = 0; i < NTYPES; i++)
        if (!strcmp(type, type_names[i])) d->type = (sv_param_type)i;
    if ((int)d->type < 0) return ut_err(err, errlen, "parameter %s: type '%s' is not one of text, "
                                        "number, date, enum, daterange", d->name, type);
    if (d->type == SV_PARAM_ENUM && !d->noptions == !d->options_query)
        return ut_err(err, errlen, "parameter %s: an enum needs \"options\" or \"options_query\" "
                      "(a saved query's id), not both", d->name);
    if (d->type != SV_PARAM_ENUM && (d->noptions || d->options_query))
        return ut_err(err, errlen, "parameter %s: only an enum has options", d->name);
    return 0;
}

void sv_param_defs_free(sv_param_def *d, int n)
{
    for (int i = 0; d && i < n; i++) {
        free(d[i].deflt);
        free(d[i].value);
        for (int k = 0; k < d[i].noptions; k++) free(d[i].options[k]);
        free(d[i].options);
    }
    free(d);
}

int sv_param_defs_parse(const char *json, size_t n, sv_param_def **out, char *err, size_t errlen)
{
    *out = NULL;
    js_parser *p = js_parser_create(0, 4);
    const char *el;
    size_t en, off;
    int nd = 0, rc = js_array_begin(p, json, n, err, errlen) ? -1 : 1;
    sv_param_def *d = NULL;
    while (rc == 1 && (rc = js_array_next(p, &el, &en, &off, err, errlen)) == 1) {
        if (nd >= SV_PARAMS_MAX) {
            rc = ut_err(err, errlen, "more than %d parameters", SV_PARAMS_MAX);
            break;
        }
        d = ut_realloc(d, (size_t)(nd + 1) * sizeof *d);
        memset(&d[nd], 0, sizeof d[nd]);
        if (parse_def(el, en, &d[nd++], err, errlen)) rc = -1;
        for (int i = 0; rc == 1 && i < nd - 1; i++)
            if (!strcmp(d[i].name, d[nd - 1].name))
                rc = ut_err(err, errlen, "parameter %s is defined twice", d[i].name);
    }
    js_parser_destroy(p);
    if (rc < 0) {
        sv_param_defs_free(d, nd);
        return -1;
    }
    *out = d;
    return nd;
}

/* "today", "today-7", "today+1" -> YYYY-MM-DD (UTC); 0, or -1. */
static int relative_day(const char *s, char out[11])
{
    if (strncmp(s, "today", 5)) return -1;
    long days = 0;
    if (s[5]) {
        if ((s[5] != '-' && s[5] != '+') || !isdigit((unsigned char)s[6])) return -1;
        char *end;
        errno = 0;
        days = strtol(s + 6, &end, 10);
        if (*end || errno || days > 100000) return -1;
        if (s[5] == '-') days = -days;
    }
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    return strftime(out, 11, "%Y-%m-%d", &tm) == 10 ? 0 : -1;
}

static int valid_date(const char *s)
{
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 || y % 400 == 0));
}

/* One end of a daterange: a date or today-N into out. */
static int range_day(const char *s, size_t n, char out[11])
{
    char t[32];
    if (!n || n >= sizeof t) return -1;
    memcpy(t, s, n);
    t[n] = 0;
    if (!relative_day(t, out)) return 0;
    if (!valid_date(t)) return -1;
    memcpy(out, t, 11);
    return 0;
}

/* A daterange's value: "A..B" or "last_N_days" into start and end. */
static int parse_range(const sv_param_def *d, const char *v, char start[11], char end[11], char *err,
                       size_t errlen)
{
    const char *dots = strstr(v, "..");
    int ok;
    if (!strncmp(v, "last_", 5) && strstr(v, "_days") && !dots) {
        char *e;
        errno = 0;
        long n = strtol(v + 5, &e, 10);
        char from[32];
        ok = !errno && n >= 1 && n <= 100000 && !strcmp(e, "_days");
        snprintf(from, sizeof from, "today-%ld", ok ? n - 1 : 0);
        ok = ok && !relative_day(from, start) && !relative_day("today", end);
    } else {
        ok = dots && !range_day(v, (size_t)(dots - v), start) && !range_day(dots + 2, strlen(dots + 2), end);
    }
    if (!ok)
        return ut_err(err, errlen, "parameter %s: '%.64s' is not a date range (YYYY-MM-DD..YYYY-MM-DD, "
                      "today-7..today, last_7_days)", d->name, v);
    if (strcmp(start, end) > 0)
        return ut_err(err, errlen, "parameter %s: the range %s..%s ends before it starts", d->name,
                      start, end);
    return 0;
}

/* Check value v for d and fill *p (its text in *held, owned by the caller). */
static int check_value(const sv_param_def *d, const char *v, sq_param *p, char **held, char *err,
                       size_t errlen)
{
    p->name = d->name;
    p->type = SQ_PARAM_TEXT;
    if (d->type == SV_PARAM_NUMBER) {
        char *end;
        errno = 0;
        long long i = strtoll(v, &end, 10);
        if (*v && !*end && !errno) {
            p->type = SQ_PARAM_INT, p->i = i;
            return 0;
        }
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x) || isspace((unsigned char)*v))
            return ut_err(err, errlen, "parameter %s: '%.64s' is not a number", d->name, v);
        p->type = SQ_PARAM_REAL, p->d = x;
        return 0;
    }
    if (d->type == SV_PARAM_DATE) {
        char day[11];
        if (!relative_day(v, day)) v = day;
        else if (!valid_date(v))
            return ut_err(err, errlen, "parameter %s: '%.64s' is not a date (YYYY-MM-DD, today, "
                          "today-N)", d->name, v);
        *held = ut_strdup(v);
        p->text = *held;
        return 0;
    }
    if (d->type == SV_PARAM_ENUM) {
        int ok = 0;
        for (int k = 0; k < d->noptions && !ok; k++) ok = !strcmp(d->options[k], v);
        if (!ok) return ut_err(err, errlen, "parameter %s: '%.64s' is not one of its options", d->name, v);
    }
    *held = ut_strdup(v);
    p->text = *held;
    return 0;
}

/* The value of name in the values object (JSON), into *out (malloc'ed). */
static int lookup_value(const char *values, size_t nv, const char *name, char **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    if (!values || !nv) return 0;
    js_parser *p = js_parser_create(0, 2);
    js_field f;
    int rc = js_obj_begin(p, values, nv, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1)
        if (f.key_len == strlen(name) && !memcmp(f.key, name, f.key_len) && value_text(&f.v, out))
            rc = ut_err(err, errlen, "parameter %s: a value is a string or a number", name);
    js_parser_destroy(p);
    if (rc < 0) {
        free(*out); /* found before the object turned out malformed */
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Skip a quoted run or a comment at sql[i]; the index after it (i if none). */
static size_t skip_quoted(const char *sql, size_t i)
{
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
        char end = c == '[' ? ']' : c;
        for (i++; sql[i]; i++)
            if (sql[i] == end) {
                if (end != ']' && sql[i + 1] == end) i++; /* doubled quote */
                else return i + 1;
            }
        return i;
    }
    if (c == '-' && sql[i + 1] == '-') {
        while (sql[i] && sql[i] != '\n') i++;
        return i;
    }
    if (c == '/' && sql[i + 1] == '*') {
        const char *e = strstr(sql + i + 2, "*/");
        return e ? (size_t)(e - sql) + 2 : strlen(sql);
    }
    return i;
}

/* sql with each {{ name }} made :name (every name must be defined). */
static char *template_sql(const char *sql, const sv_param_def *d, int nd, char *err, size_t errlen)
{
    ut_buf b = {0};
    size_t i = 0;
    while (sql[i]) {
        size_t j = skip_quoted(sql, i);
        if (j != i) {
            const char *o = strstr(sql + i, "{{");
            if (o && (size_t)(o - sql) < j) {
                ut_err(err, errlen, "a {{parameter}} inside a quoted string or a comment (at offset "
                       "%zu): write it unquoted, its value is bound, not pasted", (size_t)(o - sql));
                goto fail;
            }
            ut_buf_put(&b, sql + i, j - i);
            i = j;
            continue;
        }
        if (sql[i] != '{' || sql[i + 1] != '{') {
            ut_buf_putc(&b, sql[i++]);
            continue;
        }
        size_t s = i + 2;
        while (sql[s] == ' ') s++;
        size_t e = s;
        while (isalnum((unsigned char)sql[e]) || sql[e] == '_') e++;
        size_t part = e, pe = e; /* ".start" / ".end" of a daterange */
        if (sql[e] == '.')
            for (pe = e + 1; isalpha((unsigned char)sql[pe]); pe++) {}
        size_t close = pe;
        while (sql[close] == ' ') close++;
        if (sql[close] != '}' || sql[close + 1] != '}' || !valid_name(sql + s, e - s)) {
            ut_err(err, errlen, "a malformed {{parameter}} at offset %zu", i);
            goto fail;
        }
        const sv_param_def *def = NULL;
        for (int k = 0; k < nd && !def; k++)
            if (strlen(d[k].name) == e - s && !memcmp(d[k].name, sql + s, e - s)) def = &d[k];
        if (!def) {
            ut_err(err, errlen, "parameter {{%.*s}} is not defined", (int)(e - s), sql + s);
            goto fail;
        }
        int range = def->type == SV_PARAM_DATERANGE;
        int is_start = pe - part == 6 && !memcmp(sql + part, ".start", 6);
        int is_end = pe - part == 4 && !memcmp(sql + part, ".end", 4);
        if (range != (is_start || is_end) || (pe != part && !is_start && !is_end)) {
            ut_err(err, errlen, range ? "parameter %s is a date range: write {{%s.start}} and {{%s.end}}"
                                      : "parameter %s has no .start or .end (only a daterange has)",
                   def->name, def->name, def->name);
            goto fail;
        }
        ut_buf_putc(&b, ':');
        ut_buf_put(&b, sql + s, e - s);
        if (range) ut_buf_puts(&b, is_start ? "__start" : "__end");
        ut_buf_putc(&b, ' ');
        i = close + 2;
    }
    char *r = ut_strdup(ut_buf_cstr(&b));
    ut_buf_free(&b);
    return r;
fail:
    ut_buf_free(&b);
    return NULL;
}

int sv_sql_check_template(const char *sql, const sv_param_def *d, int nd, char *err, size_t errlen)
{
    char *t = template_sql(sql, d, nd, err, errlen);
    free(t);
    return t ? 0 : -1;
}

/* A daterange's two parameters, :name__start and :name__end (texts and
 * names kept in out->held). */
static int bind_range(sv_bound *out, const sv_param_def *d, const char *v, char *err, size_t errlen)
{
    char start[11], end[11];
    if (parse_range(d, v, start, end, err, errlen)) return -1;
    for (int k = 0; k < 2; k++) {
        char name[SV_PARAM_NAME_MAX + 16];
        snprintf(name, sizeof name, "%s%s", d->name, k ? "__end" : "__start");
        sq_param *p = &out->p[out->n];
        out->held[2 * out->n] = ut_strdup(k ? end : start);
        out->held[2 * out->n + 1] = ut_strdup(name);
        p->type = SQ_PARAM_TEXT;
        p->text = out->held[2 * out->n];
        p->name = out->held[2 * out->n + 1];
        out->n++;
    }
    return 0;
}

int sv_params_bind(const char *sql, const char *defs, size_t ndefs, const char *values, size_t nv,
                   sv_bound *out, char *err, size_t errlen)
{
    return sv_params_bind_opts(sql, defs, ndefs, values, nv, NULL, NULL, out, err, errlen);
}

/* An enum's options from its options_query (fn), when it has one. */
static int query_options(sv_param_def *d, sv_options_fn fn, void *ctx, char *err, size_t errlen)
{
    if (!d->options_query || d->noptions) return 0;
    if (!fn) return ut_err(err, errlen, "parameter %s: options from a query need the server", d->name);
    char e2[400];
    if (fn(ctx, d->options_query, &d->options, &d->noptions, e2, sizeof e2))
        return ut_err(err, errlen, "parameter %s: its options query %lld: %s", d->name,
                      (long long)d->options_query, e2);
    return 0;
}

int sv_params_bind_opts(const char *sql, const char *defs, size_t ndefs, const char *values,
                        size_t nv, sv_options_fn fn, void *ctx, sv_bound *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    int nd = defs && ndefs ? sv_param_defs_parse(defs, ndefs, &out->defs, err, errlen) : 0;
    if (nd < 0) return -1;
    out->ndefs = nd;
    if (!(out->sql = template_sql(sql, out->defs, nd, err, errlen))) goto fail;
    /* at most two parameters per definition; held: each one's text and name */
    out->p = ut_calloc(2 * (size_t)nd + 1, sizeof *out->p);
    out->held = ut_calloc(4 * (size_t)nd + 1, sizeof *out->held);
    for (int i = 0; i < nd; i++) {
        const sv_param_def *d = &out->defs[i];
        char *v = NULL;
        if (lookup_value(values, nv, d->name, &v, err, errlen)) goto fail;
        const char *use = v ? v : d->value ? d->value : d->deflt;
        if (!use) {
            free(v);
            ut_err(err, errlen, "parameter %s has no value (and no default)", d->name);
            goto fail;
        }
        if (query_options(&out->defs[i], fn, ctx, err, errlen)) {
            free(v);
            goto fail;
        }
        int rc = d->type == SV_PARAM_DATERANGE ? bind_range(out, d, use, err, errlen)
                 : check_value(d, use, &out->p[out->n], &out->held[2 * out->n], err, errlen);
        free(v);
        if (rc) goto fail;
        if (d->type != SV_PARAM_DATERANGE) out->n++;
    }
    return 0;
fail:
    sv_bound_free(out);
    return -1;
}

void sv_bound_free(sv_bound *b)
{
    if (!b) return;
    for (int i = 0; b->held && i < 4 * b->ndefs; i++) free(b->held[i]);
    free(b->held);
    free(b->p);
    free(b->sql);
    sv_param_defs_free(b->defs, b->ndefs);
    memset(b, 0, sizeof *b);
}
