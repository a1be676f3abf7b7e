/* jobs: kind load, max_errors — rows a target column refuses (a value that
 * is not of its type) are set aside instead of failing the whole COPY: up
 * to max_errors of them go to the lake table _load_errors with the reason,
 * landed in the catalog transaction that finishes the run (after the
 * warehouse's COMMIT); past max_errors the load rolls back and the run
 * fails saying how many rows failed and why. */
#include "jobs/jb_load.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERR_VALUE_MAX 200 /* bytes of a refused value kept in the errors table */

void jb__load_bad(jb_load *L, int col, const char *v, size_t n, const char *why)
{
    L->nbad++;
    if (L->nbad == 1)
        snprintf(L->first_bad, sizeof L->first_bad, "row %lld column %s: %s",
                 (long long)(L->rows + L->nbad), L->names[col], why);
    if (L->nbad > L->j->max_errors) return;
    ut_buf *b = &L->bad;
    ut_buf_puts(b, "{\"job\":");
    ut_json_str(b, L->j->name, strlen(L->j->name));
    ut_buf_printf(b, ",\"run_id\":%lld,\"target\":", (long long)L->c->run->id);
    ut_json_str(b, L->j->target.table, strlen(L->j->target.table));
    ut_buf_printf(b, ",\"window_start\":\"%s\",\"row\":%lld,\"column\":", L->lo,
                  (long long)(L->rows + L->nbad));
    ut_json_str(b, L->names[col], strlen(L->names[col]));
    ut_buf_puts(b, ",\"value\":");
    if (v) ut_json_str(b, v, n < ERR_VALUE_MAX ? n : ERR_VALUE_MAX);
    else ut_buf_puts(b, "null");
    ut_buf_puts(b, ",\"reason\":");
    ut_json_str(b, why, strlen(why));
    ut_buf_puts(b, "}\n");
}

int jb__load_bad_check(jb_load *L)
{
    if (L->nbad <= L->j->max_errors) return 0;
    return jb__load_fail(L, UT_EINVAL, "%lld rows failed conversion (max_errors %lld), nothing "
                         "loaded; the first: %s", (long long)L->nbad,
                         (long long)L->j->max_errors, L->first_bad);
}

/* Land the set-aside rows in _load_errors, finishing the run in the same
 * catalog transaction.  0 / -1. */
int jb__load_errors_land(jb_load *L)
{
    jb_task_ctx *c = L->c;
    char path[4400], err[900], tag[32];
    ut_error e = {0};
    snprintf(tag, sizeof tag, "run%lld", (long long)c->run->id);
    int fd = jb__tmp_create(c->rt, tag, ".ndjson", path, sizeof path, &e);
    if (fd < 0) return jb__load_fail(L, e.kind, "errors table: %s", e.msg);
    int rc = write(fd, L->bad.p, L->bad.len) == (ssize_t)L->bad.len ? 0 : -1;
    if (rc) jb__load_fail(L, UT_EIO, "errors table: writing %s failed", path);
    const jb_opts *o = &c->rt->o;
    sq_engine *eng = rc || !o->sql_open_files ? NULL : o->sql_open_files(o->sql_ctx,
                                                                        L->j->timeout_ms, err,
                                                                        sizeof err);
    if (!rc && !eng) rc = jb__load_fail(L, UT_EIO, "errors table: %s", err);
    if (!rc) {
        ut_buf sel = {0};
        ut_buf_printf(&sel, "SELECT * FROM read_ndjson('%s')", path);
        int64_t kept = L->nbad < L->j->max_errors ? L->nbad : L->j->max_errors;
        c->done->rows = L->rows - kept; /* sq_write adds the rows it writes */
        sq_write_spec w = {.table = JB_LOAD_ERRORS_TABLE, .select = ut_buf_cstr(&sel),
                           .mode = SQ_WRITE_APPEND, .partition_by = "", .run = c->done};
        if (sq_write(eng, &w, err, sizeof err) < 0)
            rc = jb__load_fail(L, sq_error_kind(eng), "errors table %s: %s",
                               JB_LOAD_ERRORS_TABLE, err);
        c->done->rows = L->rows;
        ut_buf_free(&sel);
    }
    sq_close(eng);
    unlink(path);
    close(fd);
    return rc;
}
