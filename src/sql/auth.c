/* Safety: the authorizer (no ATTACH, no load_extension, no writes outside the
 * temp schema, read-only pragmas only) and the time limit. */
#include "sql/sq_int.h"

#include <string.h>

static const char *const read_pragmas[] = {
    "table_info", "table_xinfo", "table_list", "database_list", "function_list",
    "module_list", "pragma_list", "collation_list", "index_list", "index_info",
    "index_xinfo", "foreign_key_list", NULL};

static int temp_db(const char *db) { return db && !strcmp(db, "temp"); }

static int authorize(void *ctx, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    sq_engine *e = ctx;
    (void)trigger;
    if (!e->in_user) return SQLITE_OK;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        return a2 && !sqlite3_stricmp(a2, "load_extension") ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_PRAGMA:
        if (a2) return SQLITE_DENY; /* setting a pragma */
        for (int i = 0; read_pragmas[i]; i++)
            if (a1 && !sqlite3_stricmp(a1, read_pragmas[i])) return SQLITE_OK;
        return SQLITE_DENY;
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TEMP_TRIGGER:
        return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        return temp_db(db) ? SQLITE_OK : SQLITE_DENY;
    default: /* ATTACH, DETACH, CREATE/DROP outside temp, ALTER, CREATE VTABLE, ANALYZE ... */
        return SQLITE_DENY;
    }
}

static int progress(void *ctx)
{
    sq_engine *e = ctx;
    if (e->deadline_ns && ut_now_ns() > (uint64_t)e->deadline_ns) {
        e->timed_out = 1;
        return 1;
    }
    return 0;
}

void sq__auth_install(sq_engine *e)
{
    sqlite3_set_authorizer(e->db, authorize, e);
    sqlite3_progress_handler(e->db, 1000, progress, e);
}

void sq__limits_start(sq_engine *e)
{
    e->timed_out = 0;
    e->deadline_ns = e->o.timeout_ms > 0 ? (int64_t)ut_now_ns() + e->o.timeout_ms * 1000000 : 0;
}
