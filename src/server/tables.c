/* GET /v1/tables — the catalog over HTTP, for the console and curl.
 *
 *   GET /v1/tables                  every table: files, rows, bytes, partitions,
 *                                   last commit (what `sluice tables --format json` prints)
 *   GET /v1/tables/{table}          columns, schema history, partitions, the first
 *                                   1000 files (none with ?files=0), producer (lineage),
 *                                   "ddl" per dialect
 *   GET /v1/tables/{table}/sample   ?limit=N (default 100, at most 1000): the first
 *                                   rows, as POST /v1/query answers (JSON array)
 *   GET /v1/schema-changes          ?limit=N (default 20, at most 1000): the latest
 *                                   schema changes of all tables, newest first
 *
 * The query API's tokens: a read token may read all of it.  The catalog is
 * opened read-only per request (WAL: it never waits for the sinks). */
#include "log/log.h"
#include "server/sv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES_LISTED 1000
#define MAX_SAMPLE 1000
#define MAX_CHANGES 1000

static const char *const dialects[] = {"trino", "athena", "spark", "duckdb"};

/* The catalog if it exists: 1 (*c set), 0 (none yet), -1 (error in err). */
static int open_catalog(sv_server *s, ct_catalog **c, char *err, size_t errlen)
{
    *c = NULL;
    if (access(s->catalog_path, F_OK)) return 0;
    *c = ct_open(s->catalog_path, err, errlen);
    return *c ? 1 : -1;
}

/* ,"ddl":[{"dialect":"trino","sql":"..."} or {"dialect":"athena","error":"..."}] */
static void ddl_json(ct_catalog *c, const ct_table *t, ut_buf *b)
{
    char err[512];
    struct ct_table_stats st;
    int have = ct_table_stats(c, t->id, &st, err, sizeof err) == 0;
    ut_buf_puts(b, ",\"ddl\":[");
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
        ut_buf_printf(b, "%s{\"dialect\":\"%s\",", i ? "," : "", dialects[i]);
        char *sql = ct_ddl(t, have ? &st : NULL, dialects[i], NULL, NULL, err, sizeof err);
        ut_buf_puts(b, sql ? "\"sql\":" : "\"error\":");
        ut_json_str(b, sql ? sql : err, strlen(sql ? sql : err));
        ut_buf_putc(b, '}');
        free(sql);
    }
    ut_buf_putc(b, ']');
}

/* GET /v1/tables/{name}: 200 with the description, else an error status. */
static int describe(sv_server *s, const char *name, int max_files, ut_buf *out, char *err,
                    size_t errlen)
{
    ct_catalog *c;
    int rc = open_catalog(s, &c, err, errlen);
    if (rc < 0) return 500;
    ct_description d;
    int found = ct_describe(c, name, &d, err, errlen);
    int code = found > 0 ? 200 : found == 0 ? 404 : 500;
    if (found == 0) snprintf(err, errlen, "unknown table '%.128s'", name);
    if (found > 0) {
        ct_description_json(&d, max_files, out);
        ut_buf_truncate(out, out->len - 2); /* "}\n": add the DDL */
        ddl_json(c, &d.t, out);
        ut_buf_puts(out, "}\n");
    }
    ct_description_free(&d);
    ct_close(c);
    return code;
}

/* The table's first rows through the query API (same auth, engine, limits). */
static enum MHD_Result sample(sv_server *s, struct MHD_Connection *c, const char *name)
{
    char err[512];
    ct_catalog *cat;
    ct_table t;
    memset(&t, 0, sizeof t);
    int found = open_catalog(s, &cat, err, sizeof err) > 0 &&
                ct_table_get(cat, name, &t, err, sizeof err) == 1;
    ct_close(cat);
    if (!found) {
        ct_table_free(&t);
        snprintf(err, sizeof err, "unknown table '%.128s'", name);
        return sv__reply_error(s, c, 404, err);
    }
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    long n = lim ? strtol(lim, NULL, 10) : 100;
    if (n <= 0 || n > MAX_SAMPLE) n = n <= 0 ? 100 : MAX_SAMPLE;
    ut_buf sql = {0}, body = {0};
    ut_buf_puts(&sql, "SELECT * FROM \"");
    for (const char *p = t.name; *p; p++) {
        if (*p == '"') ut_buf_putc(&sql, '"');
        ut_buf_putc(&sql, *p);
    }
    ut_buf_printf(&sql, "\" LIMIT %ld", n);
    ct_table_free(&t);
    ut_buf_puts(&body, "{\"format\":\"json\",\"sql\":");
    ut_json_str(&body, (const char *)sql.p, sql.len);
    ut_buf_putc(&body, '}');
    enum MHD_Result r = sv__query(s, c, (const char *)body.p, body.len);
    ut_buf_free(&sql);
    ut_buf_free(&body);
    return r;
}

/* GET /v1/schema-changes: {"changes":[{"table","version","created_ms","change","columns"}]} */
static int schema_changes(sv_server *s, struct MHD_Connection *c, ut_buf *out, char *err,
                          size_t errlen)
{
    const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    long n = lim ? strtol(lim, NULL, 10) : 20;
    if (n <= 0 || n > MAX_CHANGES) n = n <= 0 ? 20 : MAX_CHANGES;
    ct_catalog *cat;
    int rc = open_catalog(s, &cat, err, errlen);
    if (rc < 0) return 500;
    ct_schema_change *v = NULL;
    int got = rc ? ct_schema_recent(cat, (int)n, &v, err, errlen) : 0;
    ct_close(cat);
    if (got < 0) return 500;
    ut_buf_puts(out, "{\"changes\":[");
    for (int i = 0; i < got; i++) {
        ut_buf_puts(out, i ? ",{\"table\":" : "{\"table\":");
        ut_json_str(out, v[i].table, strlen(v[i].table));
        ut_buf_printf(out, ",\"version\":%d,\"created_ms\":%lld,\"change\":", v[i].v.version,
                      (long long)v[i].v.created_ms);
        ut_json_str(out, v[i].v.change, strlen(v[i].v.change));
        ut_buf_printf(out, ",\"columns\":%d}", v[i].v.ncols);
    }
    ut_buf_puts(out, "]}\n");
    free(v);
    return 200;
}

enum MHD_Result sv__tables(sv_server *s, struct MHD_Connection *c, const char *url)
{
    int writer;
    const char *why;
    if (sv__query_auth(s, c, &writer, &why)) return sv__reply_error(s, c, 401, why);
    char err[1024] = "", name[256];
    ut_buf out = {0};
    int code;
    const char *rest = url + strlen("/v1/tables");
    if (!strcmp(url, "/v1/schema-changes")) {
        code = schema_changes(s, c, &out, err, sizeof err);
    } else if (!*rest || !strcmp(rest, "/")) {
        ct_catalog *cat;
        code = open_catalog(s, &cat, err, sizeof err) < 0 ? 500 : 200;
        if (code == 200 && ct_tables_json(cat, &out, err, sizeof err)) code = 500;
        ct_close(cat);
    } else {
        rest++;
        size_t n = strcspn(rest, "/");
        if (*rest == '/' || n == 0 || n >= sizeof name)
            return sv__reply_error(s, c, 404, "no such endpoint");
        memcpy(name, rest, n);
        name[n] = 0;
        if (!strcmp(rest + n, "/sample")) return sample(s, c, name);
        if (rest[n]) return sv__reply_error(s, c, 404, "no such endpoint");
        const char *f = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "files");
        code = describe(s, name, f && !strcmp(f, "0") ? 0 : MAX_FILES_LISTED, &out, err, sizeof err);
    }
    enum MHD_Result r;
    if (code == 200) {
        r = sv__reply(s, c, 200, "application/json", out.p ? (const void *)out.p : "", out.len, NULL);
    } else {
        if (code == 500) lg_warn("http", "GET %s: %s", url, err);
        r = sv__reply_error(s, c, code, err);
    }
    ut_buf_free(&out);
    return r;
}
