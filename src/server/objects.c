/* The console's objects over HTTP: saved queries and dashboards.
 *
 *   GET    /v1/saved-queries             every one: [{"id","version","created_ms",
 *                                        "updated_ms","spec":{...}}]
 *   POST   /v1/saved-queries             {"spec":{...}} -> 201 the object (version 1)
 *   GET    /v1/saved-queries/{id}        the object; 404
 *   PUT    /v1/saved-queries/{id}        {"version":V,"spec":{...}} -> 200 the object
 *                                        (V + 1); 409 when it is not at V any more
 *   DELETE /v1/saved-queries/{id}?version=V   204; 409 as PUT
 *   (the same under /v1/dashboards)
 *
 * A saved query's spec: {"name","sql","description","params":[definitions,
 * params.c],"chart":{"type":"line|bar|stacked|area|pie|scatter|table|counter","x":..,"y":..,
 * "compare":.. (counter: the previous period's column)}};
 * every {{name}} of the SQL must be defined.  A dashboard's: {"name",
 * "params":[definitions shared by its widgets],"refresh_s":N (0, or 5 to
 * 86400),"widgets":[{"query":ID | "text":"..","title":..,"width":1..4}]}.  Reading needs a
 * query token (either kind); writing a write token (or none configured:
 * the server listens on loopback, as for the jobs API). */
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WIDGETS 50

typedef struct spec_fields {
    char name[CT_OBJ_NAME_MAX + 1];
    char *sql, *params, *chart, *widgets; /* copies (NULL = absent) */
    int64_t refresh_s;
} spec_fields;

static void spec_free(spec_fields *s)
{
    free(s->sql);
    free(s->params);
    free(s->chart);
    free(s->widgets);
}

#define MAX_WIDGET_TEXT 4096 /* a text widget's text */
#define KEY(f, k) ((f).key_len == sizeof k - 1 && !memcmp((f).key, k, sizeof k - 1))

static int check_chart(const char *j, size_t n, char *err, size_t errlen)
{
    static const char *const types[] = {"line", "bar", "stacked", "area", "pie", "scatter",
                                        "table", "counter"};
    const int ntypes = (int)(sizeof types / sizeof types[0]);
    js_parser *p = js_parser_create(0, 3);
    js_field f;
    int rc = js_obj_begin(p, j, n, err, errlen) ? -1 : 1, ok = 0;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        if (KEY(f, "type") && f.v.kind == JS_STRING)
            for (int i = 0; i < ntypes; i++) ok |= f.v.n == strlen(types[i]) && !memcmp(f.v.s, types[i], f.v.n);
        else if ((KEY(f, "x") || KEY(f, "compare")) && f.v.kind != JS_STRING)
            rc = ut_err(err, errlen, "chart: \"%.*s\" is a column name", (int)f.key_len, f.key);
    }
    js_parser_destroy(p);
    if (rc < 0) return -1;
    return ok ? 0 : ut_err(err, errlen, "chart: \"type\" is one of line, bar, stacked, area, pie, "
                                        "scatter, table, counter");
}

static int check_widgets(const char *j, size_t n, char *err, size_t errlen)
{
    js_parser *a = js_parser_create(0, 4), *p = js_parser_create(0, 3);
    const char *el;
    size_t en, off;
    int count = 0, rc = js_array_begin(a, j, n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_array_next(a, &el, &en, &off, err, errlen)) == 1) {
        js_field f;
        int64_t q = 0, w = 1;
        int text = 0;
        if (++count > MAX_WIDGETS) rc = ut_err(err, errlen, "more than %d widgets", MAX_WIDGETS);
        int r2 = rc < 0 || js_obj_begin(p, el, en, err, errlen) ? -1 : 1;
        while (r2 == 1 && (r2 = js_obj_next(p, &f, err, errlen)) == 1) {
            if (KEY(f, "query") && f.v.kind == JS_INT) q = f.v.i;
            else if (KEY(f, "width") && f.v.kind == JS_INT) w = f.v.i;
            else if (KEY(f, "text") && f.v.kind == JS_STRING && f.v.n <= MAX_WIDGET_TEXT) text = 1;
            else if (!(KEY(f, "title") && f.v.kind == JS_STRING))
                r2 = ut_err(err, errlen, "widget %d: field '%.*s' is not valid", count,
                            (int)(f.key_len > 40 ? 40 : f.key_len), f.key);
        }
        if (r2 == 0 && ((q <= 0) == !text || w < 1 || w > 4))
            r2 = ut_err(err, errlen, "widget %d: needs \"query\" (a saved query's id) or \"text\" "
                        "(at most %d bytes), and a \"width\" of 1 to 4", count, MAX_WIDGET_TEXT);
        if (r2 < 0) rc = -1;
    }
    js_parser_destroy(a);
    js_parser_destroy(p);
    return rc < 0 ? -1 : 0;
}

/* The fields of spec (copies: spec_free): 0 or -1 with a message. */
static int read_spec(ct_obj_kind k, const char *spec, size_t n, spec_fields *s, char *err,
                     size_t errlen)
{
    memset(s, 0, sizeof *s);
    js_parser *p = js_parser_create(CT_OBJ_SPEC_MAX, 8);
    js_field f;
    int rc = js_obj_begin(p, spec, n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        int q = k == CT_OBJ_SAVED_QUERY;
        char **dst = NULL;
        if (KEY(f, "name") && f.v.kind == JS_STRING && f.v.n && f.v.n <= CT_OBJ_NAME_MAX)
            memcpy(s->name, f.v.s, f.v.n), s->name[f.v.n] = 0;
        else if (KEY(f, "description") && f.v.kind == JS_STRING) continue;
        else if (KEY(f, "params") && f.v.kind == JS_ARRAY) dst = &s->params;
        else if (q && KEY(f, "sql") && f.v.kind == JS_STRING) dst = &s->sql;
        else if (q && KEY(f, "chart") && f.v.kind == JS_OBJECT) dst = &s->chart;
        else if (!q && KEY(f, "widgets") && f.v.kind == JS_ARRAY) dst = &s->widgets;
        else if (!q && KEY(f, "refresh_s") && f.v.kind == JS_INT) s->refresh_s = f.v.i;
        else
            rc = ut_err(err, errlen, "%s: field '%.*s' is not valid", ct_obj_kind_name(k),
                        (int)(f.key_len > 40 ? 40 : f.key_len), f.key);
        if (dst && !*dst) *dst = ut_strndup(f.v.s, f.v.n);
    }
    js_parser_destroy(p);
    if (rc < 0) spec_free(s);
    return rc < 0 ? -1 : 0;
}

/* Validate a spec: 0, or -1 with a message. */
static int check_spec(ct_obj_kind k, const spec_fields *s, char *err, size_t errlen)
{
    if (!s->name[0]) return ut_err(err, errlen, "%s: needs a \"name\" (1 to %d bytes)",
                                   ct_obj_kind_name(k), CT_OBJ_NAME_MAX);
    sv_param_def *d = NULL;
    int nd = s->params ? sv_param_defs_parse(s->params, strlen(s->params), &d, err, errlen) : 0;
    if (nd < 0) return -1;
    int rc = 0;
    if (k == CT_OBJ_SAVED_QUERY) {
        if (!s->sql || !*s->sql) rc = ut_err(err, errlen, "saved query %s: needs \"sql\"", s->name);
        else rc = sv_sql_check_template(s->sql, d, nd, err, errlen);
        if (!rc && s->chart) rc = check_chart(s->chart, strlen(s->chart), err, errlen);
    } else {
        if (s->refresh_s && (s->refresh_s < 5 || s->refresh_s > 86400))
            rc = ut_err(err, errlen, "dashboard %s: refresh_s is 0 (off) or 5 to 86400", s->name);
        if (!rc && s->widgets) rc = check_widgets(s->widgets, strlen(s->widgets), err, errlen);
    }
    sv_param_defs_free(d, nd);
    return rc;
}

int sv__saved_sql(sv_server *s, int64_t id, char **sql, char **defs, char *err, size_t errlen)
{
    *defs = NULL;
    ct_catalog *c = access(s->catalog_path, F_OK) ? NULL : ct_open(s->catalog_path, err, errlen);
    if (!c && !access(s->catalog_path, F_OK)) return 500;
    ct_obj *o = NULL;
    int n = c ? ct_objs(c, CT_OBJ_SAVED_QUERY, id, &o, err, errlen) : 0;
    ct_close(c);
    if (n < 0) return 500;
    if (n == 0) return ut_err(err, errlen, "no saved query with id %lld", (long long)id), 404;
    spec_fields f;
    int rc = read_spec(CT_OBJ_SAVED_QUERY, o->spec, strlen(o->spec), &f, err, errlen);
    ct_objs_free(o, n);
    if (rc) return 500;
    *sql = f.sql ? f.sql : ut_strdup("");
    *defs = f.params;
    f.sql = f.params = NULL;
    spec_free(&f);
    return 0;
}

static void obj_json(ut_buf *b, const ct_obj *o)
{
    ut_buf_printf(b, "{\"id\":%lld,\"version\":%lld,\"created_ms\":%lld,\"updated_ms\":%lld,\"spec\":%s}",
                  (long long)o->id, (long long)o->version, (long long)o->created_ms,
                  (long long)o->updated_ms, o->spec);
}

/* The request's {"spec":{...},"version":V}: the spec text (malloc'ed). */
static int read_body(const char *body, size_t n, char **spec, int64_t *version, char *err,
                     size_t errlen)
{
    *spec = NULL;
    *version = 0;
    js_parser *p = js_parser_create(CT_OBJ_SPEC_MAX + 1024, 10);
    js_field f;
    int rc = js_obj_begin(p, body, n, err, errlen) ? -1 : 1;
    while (rc == 1 && (rc = js_obj_next(p, &f, err, errlen)) == 1) {
        if (KEY(f, "spec") && f.v.kind == JS_OBJECT && !*spec) *spec = ut_strndup(f.v.s, f.v.n);
        else if (KEY(f, "version") && f.v.kind == JS_INT) *version = f.v.i;
        else if (!KEY(f, "id")) rc = ut_err(err, errlen, "field '%.*s' is not valid here",
                                           (int)(f.key_len > 40 ? 40 : f.key_len), f.key);
    }
    js_parser_destroy(p);
    if (rc == 0 && !*spec) rc = ut_err(err, errlen, "the body needs a \"spec\" object");
    if (rc < 0) {
        free(*spec);
        *spec = NULL;
        return -1;
    }
    return 0;
}

/* Write: create (id 0), update or delete; the status, out the reply. */
static int write_obj(ct_catalog *c, ct_obj_kind k, const char *method, int64_t id, int64_t ver,
                     const char *body, size_t n, ut_buf *out, char *err, size_t errlen)
{
    char *spec = NULL;
    int64_t cur = 0;
    int rc = 0, del = !strcmp(method, "DELETE");
    if (!del && read_body(body, n, &spec, &ver, err, errlen)) return 400;
    spec_fields f = {{0}};
    if (!del && (read_spec(k, spec, strlen(spec), &f, err, errlen) || check_spec(k, &f, err, errlen))) {
        spec_free(&f);
        free(spec);
        return 400;
    }
    if (id == 0) {
        id = ct_obj_create(c, k, f.name, spec, err, errlen);
        rc = id < 0 ? -1 : 0;
    } else if (del) {
        rc = ct_obj_delete(c, k, id, ver, &cur, err, errlen);
    } else {
        rc = ver <= 0 ? (ut_err(err, errlen, "an update names the \"version\" it read"), -4)
                      : ct_obj_update(c, k, id, ver, f.name, spec, &cur, err, errlen);
    }
    spec_free(&f);
    free(spec);
    if (rc == CT_OBJ_NOTFOUND) return 404;
    if (rc == CT_OBJ_STALE) return 409;
    if (rc == -4) return 400;
    if (rc < 0) return 500;
    if (del) return 204;
    ct_obj *o = NULL;
    int m = ct_objs(c, k, id, &o, err, errlen);
    if (m == 1) obj_json(out, o);
    ct_objs_free(o, m);
    return m == 1 ? (ut_buf_putc(out, '\n'), !strcmp(method, "POST") ? 201 : 200) : 500;
}

static int read_objs(ct_catalog *c, ct_obj_kind k, int64_t id, ut_buf *out, char *err, size_t errlen)
{
    ct_obj *o = NULL;
    int n = c ? ct_objs(c, k, id, &o, err, errlen) : 0;
    if (n < 0) return 500;
    if (id && n == 0) {
        ut_err(err, errlen, "no %s with id %lld", ct_obj_kind_name(k), (long long)id);
        return 404;
    }
    if (!id) ut_buf_putc(out, '[');
    for (int i = 0; i < n; i++) {
        if (i) ut_buf_puts(out, ",\n");
        obj_json(out, &o[i]);
    }
    ut_buf_puts(out, id ? "\n" : "]\n");
    ct_objs_free(o, n);
    return 200;
}

int sv__is_objects(const char *url)
{
    return (!strncmp(url, "/v1/saved-queries", 17) && (!url[17] || url[17] == '/')) ||
           (!strncmp(url, "/v1/dashboards", 14) && (!url[14] || url[14] == '/'));
}

/* url -> kind and id (0 = the collection); -1 when it names neither. */
static int parse_url(const char *url, ct_obj_kind *k, int64_t *id)
{
    *k = url[4] == 's' ? CT_OBJ_SAVED_QUERY : CT_OBJ_DASHBOARD;
    const char *rest = url + (*k == CT_OBJ_SAVED_QUERY ? 17 : 14);
    *id = 0;
    if (!*rest) return 0;
    char *end;
    long long v = strtoll(rest + 1, &end, 10);
    if (rest[1] < '1' || rest[1] > '9' || *end || v <= 0) return -1;
    *id = v;
    return 0;
}

enum MHD_Result sv__objects(sv_server *s, struct MHD_Connection *c, const char *url,
                            const char *method, const char *body, size_t n)
{
    char err[1024] = "";
    ct_obj_kind k;
    int64_t id;
    if (parse_url(url, &k, &id)) return sv__reply_error(s, c, 404, "no such endpoint");
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    int ok = id ? get || !strcmp(method, "PUT") || !strcmp(method, "DELETE")
                : get || !strcmp(method, "POST");
    if (!ok) return sv__reply_error(s, c, 405, id ? "use GET, PUT or DELETE" : "use GET or POST");
    int writer;
    const char *why;
    if (sv__query_auth(s, c, &writer, &why)) return sv__reply_error(s, c, 401, why);
    const cf_config *cf = s->o.cf;
    if (!get && !writer && cf && (cf->query.tokens.n || cf->query.write_tokens.n))
        return sv__reply_error(s, c, 403, "a read token cannot change the console's objects");
    if (!get && sv__csrf_check(s, c, err, sizeof err)) return sv__reply_error(s, c, 403, err);
    int exists = !access(s->catalog_path, F_OK);
    ct_catalog *cat = exists || !get ? ct_open(s->catalog_path, err, sizeof err) : NULL;
    if (!cat && (exists || !get)) return sv__reply_error(s, c, 500, err);
    ut_buf out = {0};
    int code;
    if (get) {
        code = read_objs(cat, k, id, &out, err, sizeof err);
    } else {
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
        code = write_obj(cat, k, method, id, v ? strtoll(v, NULL, 10) : 0, body, n, &out, err,
                         sizeof err);
    }
    ct_close(cat);
    enum MHD_Result r = code < 300 ? sv__reply(s, c, code, "application/json", out.p ? (void *)out.p : "",
                                              out.len, NULL)
                                   : sv__reply_error(s, c, code, err);
    ut_buf_free(&out);
    return r;
}
