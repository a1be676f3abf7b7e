/* catalog: load history — which lake files (file ids) each successful load
 * of a (job, window) sent to the warehouse.  Written after the warehouse's
 * COMMIT: a crash between the two only means the next run loads again
 * (replace_window makes that harmless).  The last LOAD_KEEP loads of a
 * window are kept. */
#include "catalog/ct_int.h"

#include <stdlib.h>
#include <string.h>

#define LOAD_KEEP 10

static int exec_bound(ct_catalog *c, const char *sql, const char *job, int64_t ws, int64_t run,
                      const char *files, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
        return ct_sqlerr(c, what, err, errlen);
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, ws);
    sqlite3_bind_int64(s, 3, run);
    if (files) sqlite3_bind_text(s, 4, files, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ct_now_ms());
    sqlite3_bind_int(s, 6, LOAD_KEEP);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, what, err, errlen);
}

int ct_load_record(ct_catalog *c, const char *job, int64_t window_start, int64_t run_id,
                   const char *files, char *err, size_t errlen)
{
    if (strlen(files) > CT_LOAD_FILES_MAX)
        return ut_err(err, errlen, "catalog %s: job %s: a load history entry of %zu bytes (at "
                      "most %d)", c->path, job, strlen(files), CT_LOAD_FILES_MAX);
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int rc = exec_bound(c, "INSERT INTO load_history(job, window_start, run_id, files, loaded_ms) "
                        "VALUES(?1, ?2, ?3, ?4, ?5)", job, window_start, run_id, files,
                        "record a load", err, errlen);
    if (!rc)
        rc = exec_bound(c, "DELETE FROM load_history WHERE job = ?1 AND window_start = ?2 AND "
                        "id NOT IN (SELECT id FROM load_history WHERE job = ?1 AND "
                        "window_start = ?2 ORDER BY id DESC LIMIT ?6)", job, window_start, 0,
                        NULL, "prune the load history", err, errlen);
    if (rc) {
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen);
}

int ct_load_last(ct_catalog *c, const char *job, int64_t window_start, char **files,
                 int64_t *run_id, char *err, size_t errlen)
{
    *files = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, "SELECT files, run_id FROM load_history WHERE job = ?1 AND "
                           "window_start = ?2 ORDER BY id DESC LIMIT 1", -1, &s, NULL) != SQLITE_OK)
        return ct_sqlerr(c, "read the load history", err, errlen);
    sqlite3_bind_text(s, 1, job, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, window_start);
    int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
    if (found) {
        *files = ut_strdup((const char *)sqlite3_column_text(s, 0));
        if (run_id) *run_id = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return ct_sqlerr(c, "read the load history", err, errlen);
    return found;
}
