/* sluice console export|import — the console's saved queries and dashboards
 * as YAML, through a running server's API (GET/POST /v1/saved-queries and
 * /v1/dashboards), so the server checks every spec as it does for the page.
 * Import creates new objects (saved queries first) and points each imported
 * dashboard's widgets at the new ids of the saved queries they named. */
#include "cli/cli.h"
#include "json/json.h"
#include "util/util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    ut_buf *b = u;
    if (b->len + sz * n > (64u << 20)) return 0; /* a reply over 64 MiB: cut */
    ut_buf_put(b, p, sz * n);
    return sz * n;
}

/* One request: the HTTP status (0 with err when it could not be made). */
static long call(const char *base, const char *token, const char *method, const char *path,
                 const char *body, ut_buf *out, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    char url[2048], auth[1100];
    snprintf(url, sizeof url, "%s%s", base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (token && *token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %.1000s", token);
        h = curl_slist_append(h, auth);
    }
    ut_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    else ut_err(err, errlen, "%s: %s", url, curl_easy_strerror(cc));
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (code && code >= 300) ut_err(err, errlen, "%s %s: %ld %.*s", method, url, code,
                                    (int)(out->len > 400 ? 400 : out->len), ut_buf_cstr(out));
    return code;
}

/* The objects of one collection as YAML items. */
static int export_list(ut_buf *y, const char *key, const char *list, size_t n, char *err, size_t errlen)
{
    js_parser *a = js_parser_create(0, 64), *o = js_parser_create(0, 64);
    const char *el;
    size_t en, off;
    int count = 0, rc = js_array_begin(a, list, n, err, errlen) ? -1 : 1;
    ut_buf_printf(y, "%s:", key);
    while (rc == 1 && (rc = js_array_next(a, &el, &en, &off, err, errlen)) == 1) {
        js_field f;
        int64_t id = 0;
        char *spec = NULL;
        int r2 = js_obj_begin(o, el, en, err, errlen) ? -1 : 1;
        while (r2 == 1 && (r2 = js_obj_next(o, &f, err, errlen)) == 1) {
            if (f.key_len == 2 && !memcmp(f.key, "id", 2) && f.v.kind == JS_INT) id = f.v.i;
            if (f.key_len == 4 && !memcmp(f.key, "spec", 4) && f.v.kind == JS_OBJECT) spec = ut_strndup(f.v.s, f.v.n);
        }
        if (r2 == 0 && spec) {
            ut_buf_printf(y, "%s  - id: %lld\n    spec:\n", count ? "" : "\n", (long long)id);
            r2 = cli_yaml_spec(y, spec, strlen(spec), "      ", err, errlen);
            count++;
        }
        free(spec);
        if (r2 < 0) rc = -1;
    }
    if (!count) ut_buf_puts(y, " []\n");
    js_parser_destroy(a);
    js_parser_destroy(o);
    return rc < 0 ? -1 : 0;
}

static int do_export(const char *url, const char *token, const char *file)
{
    char err[1024];
    ut_buf y = {0}, r = {0};
    ut_buf_puts(&y, "# sluice console export: saved queries and dashboards (sluice console import FILE)\n");
    int rc = 0;
    const char *keys[] = {"saved_queries", "dashboards"}, *paths[] = {"/v1/saved-queries", "/v1/dashboards"};
    for (int i = 0; i < 2 && !rc; i++) {
        if (call(url, token, "GET", paths[i], NULL, &r, err, sizeof err) != 200) rc = -1;
        else rc = export_list(&y, keys[i], (const char *)r.p, r.len, err, sizeof err);
    }
    FILE *f = rc ? NULL : file ? fopen(file, "w") : stdout;
    if (!rc && !f) snprintf(err, sizeof err, "%s: cannot write", file);
    if (f && (fwrite(y.p, 1, y.len, f) != y.len || (f != stdout ? fclose(f) : fflush(f)))) {
        snprintf(err, sizeof err, "%s: write failed", file ? file : "stdout");
        rc = -1;
    }
    if (rc || !f) fprintf(stderr, "sluice console export: %s\n", err);
    ut_buf_free(&y);
    ut_buf_free(&r);
    return rc || !f ? 1 : 0;
}

/* Create one object from its YAML item: the new id, or -1. */
static int64_t import_one(const char *url, const char *token, const char *path, const cli_yaml_node *spec,
                          char *err, size_t errlen)
{
    ut_buf body = {0}, r = {0};
    ut_buf_puts(&body, "{\"spec\":");
    cli_yaml_to_json(spec, &body);
    ut_buf_putc(&body, '}');
    int64_t id = -1;
    if (call(url, token, "POST", path, ut_buf_cstr(&body), &r, err, errlen) == 201) {
        const char *p = strstr(ut_buf_cstr(&r), "\"id\":");
        id = p ? strtoll(p + 5, NULL, 10) : -1;
    }
    ut_buf_free(&body);
    ut_buf_free(&r);
    return id;
}

/* Point the widgets of a dashboard spec at the new saved-query ids. */
static int remap(cli_yaml_node *spec, const int64_t *old_ids, const int64_t *new_ids, int n, char *err,
                 size_t errlen)
{
    cli_yaml_node *w = (cli_yaml_node *)cli_yaml_get(spec, "widgets");
    for (int i = 0; w && w->kind == CLI_YAML_SEQ && i < w->n; i++) {
        cli_yaml_node *q = (cli_yaml_node *)cli_yaml_get(w->kids[i], "query");
        if (!q || q->kind != CLI_YAML_SCALAR) continue;
        int64_t old = strtoll(q->text, NULL, 10), to = 0;
        for (int k = 0; k < n && !to; k++)
            if (old_ids[k] == old) to = new_ids[k];
        if (!to) return ut_err(err, errlen, "a dashboard widget names saved query %lld, which the file does "
                               "not have", (long long)old);
        free(q->text);
        char t[32];
        q->len = (size_t)snprintf(t, sizeof t, "%lld", (long long)to);
        q->text = ut_strdup(t);
        q->quoted = 0;
    }
    return 0;
}

static int do_import(const char *url, const char *token, const char *file)
{
    char err[1024] = "";
    size_t n = 0;
    char *buf = cli_read_file(file, CLI_YAML_MAX_BYTES, &n, err, sizeof err);
    cli_yaml_node *root = buf ? cli_yaml_parse(buf, n, err, sizeof err) : NULL;
    free(buf);
    const cli_yaml_node *qs = cli_yaml_get(root, "saved_queries"), *ds = cli_yaml_get(root, "dashboards");
    int rc = root ? 0 : -1, nq = qs && qs->kind == CLI_YAML_SEQ ? qs->n : 0, made = 0;
    int64_t *old_ids = ut_calloc((size_t)nq + 1, sizeof *old_ids), *new_ids = ut_calloc((size_t)nq + 1, sizeof *new_ids);
    for (int i = 0; !rc && i < nq; i++) {
        const cli_yaml_node *id = cli_yaml_get(qs->kids[i], "id"), *spec = cli_yaml_get(qs->kids[i], "spec");
        old_ids[i] = id && id->kind == CLI_YAML_SCALAR ? strtoll(id->text, NULL, 10) : 0;
        if (!spec) rc = ut_err(err, sizeof err, "%s: saved query %d has no spec", file, i + 1);
        else if ((new_ids[i] = import_one(url, token, "/v1/saved-queries", spec, err, sizeof err)) < 0) rc = -1;
        else made++;
    }
    for (int i = 0; !rc && ds && ds->kind == CLI_YAML_SEQ && i < ds->n; i++) {
        cli_yaml_node *spec = (cli_yaml_node *)cli_yaml_get(ds->kids[i], "spec");
        if (!spec) rc = ut_err(err, sizeof err, "%s: dashboard %d has no spec", file, i + 1);
        else if (remap(spec, old_ids, new_ids, nq, err, sizeof err) ||
                 import_one(url, token, "/v1/dashboards", spec, err, sizeof err) < 0) rc = -1;
        else made++;
    }
    if (rc) fprintf(stderr, "sluice console import: %s (%d objects created before)\n", err, made);
    else printf("imported %d objects\n", made);
    free(old_ids);
    free(new_ids);
    cli_yaml_node_free(root);
    return rc ? 1 : 0;
}

int cli_console(int argc, char **argv)
{
    const char *url = "http://127.0.0.1:8080", *token = getenv("SLUICE_TOKEN");
    cli_flag flags[] = {{"url", 'u', CLI_STR, &url, "URL", "the server"},
                        {"token", 't', CLI_STR, &token, "TOKEN", "a query token (import: a write token); "
                         "default $SLUICE_TOKEN"},
                        {0}};
    cli_cmd cmd = {"console", "export [FILE] | import FILE",
                   "export the console's saved queries and dashboards as YAML, or import them", flags, 1, 2};
    char *pos[4];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!strcmp(pos[0], "export")) rc = do_export(url, token, npos > 1 ? pos[1] : NULL);
    else if (!strcmp(pos[0], "import") && npos == 2) rc = do_import(url, token, pos[1]);
    else {
        fprintf(stderr, "usage: sluice console export [FILE] | import FILE\n");
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
