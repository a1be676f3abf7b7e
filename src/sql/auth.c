/* Safety: the authorizer (no ATTACH, no load_extension or fts3_tokenizer, no
 * writes outside the temp schema and none at all when read_only, read-only
 * pragmas only) and the time limit. */
#include "sql/sq_int.h"

#include <string.h>

static const char *const read_pragmas[] = {
    "table_info", "table_xinfo", "table_list", "database_list", "function_list",
    "module_list", "pragma_list", "collation_list", "index_list", "index_info",
    "index_xinfo", "foreign_key_list", NULL};

static int temp_db(const char *db) { return db && !strcmp(db, "temp"); }

static int decide(sq_engine *e, int action, const char *a1, const char *a2, const char *db);

/* SQLite reports some refusals as plain errors: remember them for the kind. */
static int authorize(void *ctx, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    sq_engine *e = ctx;
    (void)trigger;
    if (!e->in_user) return SQLITE_OK;
    int rc = decide(e, action, a1, a2, db);
    if (rc == SQLITE_DENY) e->denied = 1;
    return rc;
}

static int decide(sq_engine *e, int action, const char *a1, const char *a2, const char *db)
{
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return SQLITE_OK;
    case SQLITE_FUNCTION: /* fts3_tokenizer('simple') returns a pointer */
        return a2 && (!sqlite3_stricmp(a2, "load_extension") ||
                      !sqlite3_stricmp(a2, "fts3_tokenizer"))
                   ? SQLITE_DENY
                   : SQLITE_OK;
    case SQLITE_PRAGMA:
        if (a2) return SQLITE_DENY; /* setting a pragma */
        for (int i = 0; read_pragmas[i]; i++)
            if (a1 && !sqlite3_stricmp(a1, read_pragmas[i])) return SQLITE_OK;
        return SQLITE_DENY;
    case SQLITE_UPDATE:
        /* SQLite (3.40) asks this while declaring an eponymous virtual table
         * (json_each); the schema table itself can never be written */
        if (a1 && (!strcmp(a1, "sqlite_master") || !strcmp(a1, "sqlite_temp_master")))
            return SQLITE_OK;
        return !e->o.read_only && temp_db(db) ? SQLITE_OK : SQLITE_DENY;
    case SQLITE_DROP_TEMP_VIEW: /* the catalog's views are sluice's, not the query's */
        return e->o.read_only || sq__is_view(e, a1) ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TRIGGER:
        return e->o.read_only ? SQLITE_DENY : SQLITE_OK; /* a read-only engine writes nothing */
    case SQLITE_INSERT:
    case SQLITE_DELETE:
        return !e->o.read_only && temp_db(db) ? SQLITE_OK : SQLITE_DENY;
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
    e->denied = 0;
    e->deadline_ns = e->o.timeout_ms > 0 ? (int64_t)ut_now_ns() + e->o.timeout_ms * 1000000 : 0;
}
