/* catalog: notes in a table's schema history that change no column (what
 * a snapshot's source did to columns the lake keeps). */
#include "catalog/ct_int.h"

#include <string.h>

/* Run the cached statement id on table_id (and change); changed rows or -1. */
static int step(ct_catalog *c, int id, int64_t table_id, const char *change, char *err,
                size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, id, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    if (change) {
        sqlite3_bind_text(s, 2, change, (int)strnlen(change, 511), SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, ct_now_ms());
    }
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, "note a schema change", err, errlen);
    return sqlite3_changes(c->db);
}

int ct_schema_note(ct_catalog *c, int64_t table_id, const char *change, int *version, char *err,
                   size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int n = step(c, S_VERSION_NOTE, table_id, change, err, errlen);
    if (n == 0)
        ut_err(err, errlen, "catalog %s: no table with id %lld (or it has no schema version)",
               c->path, (long long)table_id);
    if (n <= 0 || step(c, S_TABLE_VERSION_BUMP, table_id, NULL, err, errlen) != 1) {
        ct_rollback(c);
        return -1;
    }
    if (ct_commit_tx(c, err, errlen) < 0) return -1;
    if (version) {
        sqlite3_stmt *s = ct_stmt(c, S_TABLE_BY_ID, err, errlen);
        if (!s) return -1;
        sqlite3_bind_int64(s, 1, table_id);
        *version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 6) : 0;
        ct_done(s);
    }
    return 0;
}
