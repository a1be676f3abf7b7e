/* The engine: an in-memory SQLite database, lake tables in the attached
 * schema "lake", statements run under the authorizer and limits, rows
 * streamed to a sink. */
#include "sql/agg_int.h"
#include "log/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <errno.h>
#include <xxhash.h>

/* Warnings about the catalog (a table skipped, a column left out) repeat for
 * every engine the server opens (one per query): each is logged once per
 * process, as long as it is among the last SEEN distinct ones. */
#define SEEN 256
void sq__warn_once(const char *fmt, ...)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t seen[SEEN];
    static unsigned next;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint64_t h = XXH3_64bits(msg, strlen(msg)) | 1;
    int fresh = 1;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SEEN && fresh; i++) fresh = seen[i] != h;
    if (fresh) seen[next++ % SEEN] = h;
    pthread_mutex_unlock(&mu);
    if (fresh) lg_warn("sql", "%s", msg);
}

static int exec(sq_engine *e, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(e->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ut_err(err, errlen, "%s", msg ? msg : sqlite3_errmsg(e->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Temp tables in memory, at most SQ_TEMP_MAX_BYTES (half the memory limit if
 * less): a query cannot fill the disk with CREATE TEMP TABLE … randomblob. */
static int temp_cap(sq_engine *e, char *err, size_t errlen)
{
    int64_t cap = SQ_TEMP_MAX_BYTES;
    if (e->o.memory_limit > 0 && e->o.memory_limit / 2 < cap) cap = e->o.memory_limit / 2;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA temp_store = MEMORY; PRAGMA temp.max_page_count = %lld",
             (long long)(cap / 4096 > 1 ? cap / 4096 : 1)); /* temp pages are 4 KiB */
    return exec(e, sql, err, errlen);
}

sq_engine *sq_open(const sq_opts *o, char *err, size_t errlen)
{
    sq_engine *e = ut_calloc(1, sizeof *e);
    e->o = *o;
    snprintf(e->data_dir, sizeof e->data_dir, "%s", o->data_dir ? o->data_dir : "");
    if (o->catalog_path) snprintf(e->catalog_path, sizeof e->catalog_path, "%s", o->catalog_path);
    else snprintf(e->catalog_path, sizeof e->catalog_path, "%s/catalog.db",
                  o->data_dir ? o->data_dir : "./sluice-data");
    if (o->tmp_dir) snprintf(e->tmp_dir, sizeof e->tmp_dir, "%s", o->tmp_dir);
    else snprintf(e->tmp_dir, sizeof e->tmp_dir, "%s/lake-tmp",
                  o->data_dir ? o->data_dir : "./sluice-data");
    if (!o->data_dir) e->o.no_tail = 1;
    if (o->ntails > 0) {
        e->tails = ut_calloc((size_t)o->ntails, sizeof *e->tails);
        for (int i = 0; i < o->ntails; i++) {
            e->tails[i].stream = ut_strdup(o->tails[i].stream);
            e->tails[i].event_time_field =
                ut_strdup(o->tails[i].event_time_field ? o->tails[i].event_time_field : "");
            e->tails[i].time_format = o->tails[i].time_format;
            e->tails[i].case_insensitive = o->tails[i].case_insensitive;
        }
        e->ntails = o->ntails;
    }
    e->o.tails = NULL;
    e->cat = ct_open(e->catalog_path, err, errlen);
    if (!e->cat) goto fail;
    /* NOMUTEX: one thread at a time uses an engine (sqlite3_interrupt from
     * another takes no mutex); serialized mode locked the connection's
     * mutex around every sqlite3_column_* and sqlite3_result_* call */
    if (sqlite3_open_v2(":memory:", &e->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) !=
        SQLITE_OK) {
        ut_err(err, errlen, "sqlite: cannot open an in-memory database");
        goto fail;
    }
    sqlite3_db_config(e->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(e->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(e->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_extended_result_codes(e->db, 1);
    sqlite3_db_config(e->db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, NULL);
    if (o->memory_limit > 0) sqlite3_hard_heap_limit64(o->memory_limit);
    if (exec(e, "ATTACH DATABASE ':memory:' AS lake", err, errlen) || temp_cap(e, err, errlen))
        goto fail;
    if (sq__lake_register(e) || sq__files_register(e) || sq__sum_register(e->db)) {
        ut_err(err, errlen, "sqlite: cannot register modules: %s", sqlite3_errmsg(e->db));
        goto fail;
    }
    sq__auth_install(e);
    if (sq_refresh(e, err, errlen)) goto fail;
    return e;
fail:
    sq_close(e);
    return NULL;
}

void sq_close(sq_engine *e)
{
    if (!e) return;
    if (e->db) sqlite3_close_v2(e->db);
    ct_close(e->cat);
    for (int i = 0; i < e->nstreams; i++) jr_stream_close(e->streams[i].s);
    for (int i = 0; i < e->ntails; i++) {
        free((char *)e->tails[i].stream);
        free((char *)e->tails[i].event_time_field);
    }
    free(e->tails);
    free(e->known);
    free(e->views);
    free(e);
}

sqlite3 *sq_db(sq_engine *e) { return e->db; }

ut_errkind sq_error_kind(const sq_engine *e) { return e->err_kind; }

void sq_get_stats(const sq_engine *e, sq_stats *out) { *out = e->stats; }

void sq_set_params(sq_engine *e, const sq_param *p, int n)
{
    e->params = n > 0 ? p : NULL;
    e->nparams = n > 0 ? n : 0;
}

/* Bind the values of sq_set_params to st's parameters: 0 or -1 with a
 * message naming the parameter. */
static int bind_params(sq_engine *e, sqlite3_stmt *st, char *err, size_t errlen)
{
    int n = e->nparams ? sqlite3_bind_parameter_count(st) : 0;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (!name || name[0] != ':')
            return ut_err(err, errlen, "parameter %d: only named parameters (:name) may be used "
                          "with parameter values", i);
        const sq_param *p = NULL;
        for (int k = 0; k < e->nparams && !p; k++)
            if (!strcmp(e->params[k].name, name + 1)) p = &e->params[k];
        if (!p) return ut_err(err, errlen, "parameter %s has no value", name);
        int rc = p->type == SQ_PARAM_INT    ? sqlite3_bind_int64(st, i, p->i)
               : p->type == SQ_PARAM_REAL   ? sqlite3_bind_double(st, i, p->d)
                                            : sqlite3_bind_text(st, i, p->text, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK) return ut_err(err, errlen, "parameter %s: cannot bind it", name);
    }
    return 0;
}

int sq_refresh(sq_engine *e, char *err, size_t errlen)
{
    char **names = NULL;
    int n = ct_tables(e->cat, &names, err, errlen), rc = -1;
    if (n < 0) return -1;
    if (n > SQ_MAX_TABLES) {
        ut_err(err, errlen, "catalog %s: %d tables (the limit is %d)", ct_path(e->cat), n,
               SQ_MAX_TABLES);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        ct_table t = {0};
        if (ct_table_get(e->cat, names[i], &t, err, errlen) <= 0) goto fail;
        int version = t.version;
        ct_table_free(&t); /* no columns yet: still a table (_ingest_ts, partitions) */
        int k = 0;
        while (k < e->nknown && strcmp(e->known[k].name, names[i])) k++;
        if (k < e->nknown && e->known[k].version == version) continue;
        ut_buf b = {0};
        if (k < e->nknown) {
            ut_buf_puts(&b, "DROP TABLE IF EXISTS lake.");
            sq__ident(&b, names[i]);
            ut_buf_putc(&b, 0);
            int x = exec(e, (char *)b.p, err, errlen);
            ut_buf_free(&b);
            if (x) goto fail;
        }
        ut_buf_puts(&b, "CREATE VIRTUAL TABLE lake.");
        sq__ident(&b, names[i]);
        ut_buf_puts(&b, " USING sluice_lake(");
        sq__ident(&b, names[i]);
        ut_buf_puts(&b, ")");
        ut_buf_putc(&b, 0);
        char why[512];
        if (exec(e, (char *)b.p, why, sizeof why)) /* one bad table never fails the others */
            sq__warn_once("table %s is skipped (cannot be declared): %s", names[i], why);
        ut_buf_free(&b);
        if (k == e->nknown) {
            e->known = ut_realloc(e->known, (size_t)(e->nknown + 1) * sizeof *e->known);
            snprintf(e->known[k].name, sizeof e->known[k].name, "%s", names[i]);
            e->nknown++;
        }
        e->known[k].version = version;
    }
    rc = sq__views_refresh(e, err, errlen);
fail:
    ct_names_free(names, n);
    return rc;
}

/* The message for a failed statement; returns -1. */
static int stmt_err(sq_engine *e, int rc, const char *sql, char *err, size_t errlen)
{
    e->err_kind = UT_EINVAL;
    if (e->timed_out) {
        e->err_kind = UT_ETIMEOUT;
        return ut_err(err, errlen, "query timed out after %lld ms (limit %lld ms)",
                      (long long)e->o.timeout_ms, (long long)e->o.timeout_ms);
    }
    if ((rc & 0xff) == SQLITE_NOMEM && e->o.memory_limit > 0) {
        e->err_kind = UT_ETOOBIG;
        return ut_err(err, errlen, "query exceeded the memory limit of %lld bytes",
                      (long long)e->o.memory_limit);
    }
    if ((rc & 0xff) == SQLITE_FULL) {
        e->err_kind = UT_ETOOBIG;
        return ut_err(err, errlen, "query's temporary tables exceeded their cap (%s)",
                      sqlite3_errmsg(e->db));
    }
    int off = sqlite3_error_offset(e->db);
    const char *msg = sqlite3_errmsg(e->db);
    if ((rc & 0xff) == SQLITE_AUTH || (rc & 0xff) == SQLITE_READONLY || e->denied)
        e->err_kind = UT_EDENIED;
    if ((rc & 0xff) == SQLITE_AUTH)
        msg = e->o.read_only
                  ? "not authorized: this connection may only read (no writes, not even to "
                    "temp tables)"
                  : "not authorized: queries may read, and write only temp tables (no ATTACH, "
                    "load_extension, fts3_tokenizer, pragma changes, or writes to lake tables "
                    "except CREATE TABLE AS)";
    if (off >= 0 && (size_t)off <= strlen(sql)) {
        int line = 1, col = 1;
        for (int i = 0; i < off; i++) {
            if (sql[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return ut_err(err, errlen, "%s (at offset %d, line %d column %d)", msg, off, line, col);
    }
    return ut_err(err, errlen, "%s", msg);
}

int sq_path_parse(const char *s, int *out)
{
    static const char *const names[] = {"auto", "fast", "sqlite"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

const char *sq_path_note(const sq_engine *e) { return e->path_note; }

/* The aggregate fast path (agg_int.h): *text replaced by the statement over
 * its partial result when it ran.  0 (ran or declined: path_note says) or -1. */
static int fast_path(sq_engine *e, char **text, char *err, size_t errlen)
{
    char why[400] = "";
    sqa_plan p;
    if (!sq__agg_plan(*text, &p, why, sizeof why)) {
        if (!strncasecmp(*text + strspn(*text, " \t\r\n"), "select", 6))
            snprintf(e->path_note, sizeof e->path_note, "sqlite: fast path refused: %s", why);
        return 0;
    }
    if (e->o.agg_path == SQ_PATH_SQLITE) {
        snprintf(e->path_note, sizeof e->path_note, "sqlite: the fast path is off (path sqlite)");
        sq__agg_plan_free(&p);
        return 0;
    }
    char *outer = NULL;
    int64_t t0 = (int64_t)ut_now_ns();
    int rc = sq__agg_run(e, &p, &outer, why, sizeof why, err, errlen);
    sq__agg_plan_free(&p);
    if (rc < 0) return -1;
    if (rc == 0) {
        snprintf(e->path_note, sizeof e->path_note, "sqlite: fast path refused: %s", why);
        return 0;
    }
    snprintf(e->path_note, sizeof e->path_note,
             "fast: aggregate pushdown (partial result in %.1f ms on %d threads, then SQLite "
             "runs: %.300s)",
             (double)((int64_t)ut_now_ns() - t0) / 1e6, e->agg_threads, outer);
    free(*text);
    *text = outer;
    return 0;
}

int64_t sq_query(sq_engine *e, const char *sql, const sq_sink *out, char *err, size_t errlen)
{
    memset(&e->stats, 0, sizeof e->stats);
    e->err_kind = UT_EINVAL;
    if (sq_refresh(e, err, errlen)) return -1;
    int64_t rows = 0;
    e->timed_out = 0;
    int done = sq__ctas(e, sql, &rows, err, errlen);
    if (done < 0 && e->timed_out) e->err_kind = UT_ETIMEOUT;
    if (done < 0 && e->o.read_only) e->err_kind = UT_EDENIED; /* (or a bad CTAS: read-only wins) */
    if (done) return done < 0 ? -1 : rows;
    char *text = sq__rewrite(e, sql, err, errlen);
    if (!text) return -1;
    e->path_note[0] = 0;
    if (!e->nfile_tabs && fast_path(e, &text, err, errlen)) {
        free(text);
        sqlite3_exec(e->db, "DROP TABLE IF EXISTS temp._sq_agg", NULL, NULL, NULL);
        return -1;
    }
    const char *p = text;
    int64_t rc = 0;
    sqlite3_stmt *st = NULL;
    while (*p) {
        const char *tail = NULL;
        e->in_user = 1;
        sq__limits_start(e);
        int prc = sqlite3_prepare_v2(e->db, p, -1, &st, &tail);
        if (prc != SQLITE_OK) {
            rc = stmt_err(e, prc, text, err, errlen);
            goto out;
        }
        p = tail;
        if (!st) continue; /* whitespace or a comment */
        if (bind_params(e, st, err, errlen)) {
            rc = -1;
            goto out;
        }
        int ncol = sqlite3_column_count(st), header = 0, src;
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            if (!header && out && out->header && out->header(out->ctx, st)) {
                rc = ut_err(err, errlen, "stopped by the output");
                goto out;
            }
            header = 1;
            rows++;
            if (out && out->row && out->row(out->ctx, st)) {
                rc = ut_err(err, errlen, "stopped by the output");
                goto out;
            }
        }
        if (src != SQLITE_DONE) {
            rc = stmt_err(e, src, text, err, errlen);
            goto out;
        }
        if (!header && ncol > 0 && out && out->header && out->header(out->ctx, st)) {
            rc = ut_err(err, errlen, "stopped by the output");
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
out:
    sqlite3_finalize(st);
    e->in_user = 0;
    e->deadline_ns = 0;
    /* drop the temp tables the table functions made */
    for (int i = 0; i < e->nfile_tabs; i++) {
        char drop[96];
        snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS temp._sq_file_%d", i);
        sqlite3_exec(e->db, drop, NULL, NULL, NULL);
    }
    e->nfile_tabs = 0;
    sqlite3_exec(e->db, "DROP TABLE IF EXISTS temp._sq_agg", NULL, NULL, NULL);
    free(text);
    return rc < 0 ? -1 : rows;
}

int sq_attach_sqlite(sq_engine *e, const char *name, const char *path, char *err, size_t errlen)
{
    if (ut_name_check(UT_NAME_CONNECTION, name, strlen(name), err, errlen)) return -1;
    if (access(path, R_OK))
        return ut_err(err, errlen, "sqlite.%s: cannot read %s: %s", name, path, strerror(errno));
    char *sql = sqlite3_mprintf("ATTACH DATABASE %Q AS \"%w\"", path, name);
    char *msg = NULL;
    int rc = sqlite3_exec(e->db, sql, NULL, NULL, &msg); /* not a user statement: no authorizer */
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        ut_err(err, errlen, "sqlite.%s: cannot attach %s: %s", name, path, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}
