/* catalog: the lake sink's position in each stream, per table.  It only
 * changes inside ct_commit's transaction, together with the files it
 * covers. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int ct_position_set_tx(ct_catalog *c, const char *stream, int64_t table_id, const char *tname,
                       uint64_t next_offset, char *err, size_t errlen)
{
    char what[256];
    size_t n = strlen(stream);
    if (n == 0 || n >= sizeof ((ct_table *)0)->stream)
        return ut_err(err, errlen, "catalog %s: table '%s': stream name empty or over %zu bytes",
                      c->path, tname, sizeof ((ct_table *)0)->stream - 1);
    if (next_offset > (uint64_t)INT64_MAX)
        return ut_err(err, errlen, "catalog %s: table '%s': stream '%s' offset %llu is too large",
                      c->path, tname, stream, (unsigned long long)next_offset);
    sqlite3_stmt *s = ct_stmt(c, S_POS_SET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, table_id);
    sqlite3_bind_int64(s, 3, (int64_t)next_offset);
    sqlite3_bind_int64(s, 4, ct_now_ms());
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) {
        snprintf(what, sizeof what, "table '%s': set position of stream '%s'", tname, stream);
        return ct_sqlerr(c, what, err, errlen);
    }
    return 0;
}

int ct_position(ct_catalog *c, const char *stream, int64_t table_id, uint64_t *next_offset,
                char *err, size_t errlen)
{
    *next_offset = 0;
    sqlite3_stmt *s = ct_stmt(c, S_POS_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, stream ? stream : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, table_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *next_offset = (uint64_t)sqlite3_column_int64(s, 0);
    ct_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        char what[160];
        snprintf(what, sizeof what, "read position of stream '%s'", stream ? stream : "");
        return ct_sqlerr(c, what, err, errlen);
    }
    return 0;
}
