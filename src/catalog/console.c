/* catalog: the console's objects — saved queries and dashboards (schema v10).
 * Each is a name and a JSON spec (validated by the server, stored as text)
 * with a version that every write increments: an update or delete names the
 * version it read and is refused when another write came in between
 * (optimistic locking, no lock held while a person edits).  Every change is
 * one transaction. */
#include "catalog/ct_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *table_of(ct_obj_kind k)
{
    assert(k == CT_OBJ_SAVED_QUERY || k == CT_OBJ_DASHBOARD);
    return k == CT_OBJ_SAVED_QUERY ? "saved_queries" : "dashboards";
}

const char *ct_obj_kind_name(ct_obj_kind k)
{
    return k == CT_OBJ_SAVED_QUERY ? "saved query" : "dashboard";
}

static sqlite3_stmt *prep(ct_catalog *c, ct_obj_kind k, const char *fmt, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql, fmt, table_of(k));
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
        ct_sqlerr(c, table_of(k), err, errlen);
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

static int check_sizes(ct_catalog *c, ct_obj_kind k, const char *name, const char *spec,
                       char *err, size_t errlen)
{
    if (strlen(name) > CT_OBJ_NAME_MAX || strlen(spec) > CT_OBJ_SPEC_MAX)
        return ut_err(err, errlen, "catalog %s: a %s's name is at most %d bytes and its spec "
                      "at most %d", c->path, ct_obj_kind_name(k), CT_OBJ_NAME_MAX, CT_OBJ_SPEC_MAX);
    return 0;
}

int64_t ct_obj_create(ct_catalog *c, ct_obj_kind k, const char *name, const char *spec, char *err,
                      size_t errlen)
{
    if (check_sizes(c, k, name, spec, err, errlen)) return -1;
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    sqlite3_stmt *s = prep(c, k, "INSERT INTO %s(name, spec, version, created_ms, updated_ms) "
                           "VALUES(?1, ?2, 1, ?3, ?3)", err, errlen);
    int rc = -1;
    if (s) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, spec, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, ct_now_ms());
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ct_sqlerr(c, "create a console object", err, errlen);
        sqlite3_finalize(s);
    }
    int64_t id = sqlite3_last_insert_rowid(c->db);
    if (rc) {
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen) ? -1 : id;
}

/* The version of object id in the open transaction: >0, 0 (none), -1. */
static int64_t version_of(ct_catalog *c, ct_obj_kind k, int64_t id, char *err, size_t errlen)
{
    sqlite3_stmt *s = prep(c, k, "SELECT version FROM %s WHERE id = ?1", err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ct_sqlerr(c, "read a console object", err, errlen);
    return v;
}

/* Shared by update and delete: the version check inside the transaction. */
static int check_version(ct_catalog *c, ct_obj_kind k, int64_t id, int64_t expect, int64_t *cur,
                         char *err, size_t errlen)
{
    int64_t v = version_of(c, k, id, err, errlen);
    if (cur) *cur = v > 0 ? v : 0;
    if (v < 0) return -1;
    if (v == 0) {
        ut_err(err, errlen, "no %s with id %lld", ct_obj_kind_name(k), (long long)id);
        return CT_OBJ_NOTFOUND;
    }
    if (v != expect) {
        ut_err(err, errlen, "%s %lld is at version %lld, not %lld: it was changed meanwhile "
               "(reload it and apply the change again)", ct_obj_kind_name(k), (long long)id,
               (long long)v, (long long)expect);
        return CT_OBJ_STALE;
    }
    return 0;
}

int ct_obj_update(ct_catalog *c, ct_obj_kind k, int64_t id, int64_t expect, const char *name,
                  const char *spec, int64_t *cur, char *err, size_t errlen)
{
    if (check_sizes(c, k, name, spec, err, errlen)) return -1;
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int rc = check_version(c, k, id, expect, cur, err, errlen);
    sqlite3_stmt *s = rc ? NULL : prep(c, k, "UPDATE %s SET name = ?2, spec = ?3, version = "
                                       "version + 1, updated_ms = ?4 WHERE id = ?1", err, errlen);
    if (!rc && !s) rc = -1;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, spec, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, ct_now_ms());
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ct_sqlerr(c, "update a console object", err, errlen);
        sqlite3_finalize(s);
    }
    if (rc) {
        ct_rollback(c);
        return rc;
    }
    if (ct_commit_tx(c, err, errlen)) return -1;
    if (cur) *cur = expect + 1;
    return 0;
}

int ct_obj_delete(ct_catalog *c, ct_obj_kind k, int64_t id, int64_t expect, int64_t *cur,
                  char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int rc = check_version(c, k, id, expect, cur, err, errlen);
    sqlite3_stmt *s = rc ? NULL : prep(c, k, "DELETE FROM %s WHERE id = ?1", err, errlen);
    if (!rc && !s) rc = -1;
    if (s) {
        sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : ct_sqlerr(c, "delete a console object", err, errlen);
        sqlite3_finalize(s);
    }
    if (rc) {
        ct_rollback(c);
        return rc;
    }
    return ct_commit_tx(c, err, errlen);
}

static void fill(sqlite3_stmt *s, ct_obj *o)
{
    o->id = sqlite3_column_int64(s, 0);
    o->name = ut_strdup((const char *)sqlite3_column_text(s, 1));
    o->spec = ut_strdup((const char *)sqlite3_column_text(s, 2));
    o->version = sqlite3_column_int64(s, 3);
    o->created_ms = sqlite3_column_int64(s, 4);
    o->updated_ms = sqlite3_column_int64(s, 5);
}

int ct_objs(ct_catalog *c, ct_obj_kind k, int64_t id, ct_obj **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *s = prep(c, k, "SELECT id, name, spec, version, created_ms, updated_ms FROM %s "
                           "WHERE ?1 = 0 OR id = ?1 ORDER BY name COLLATE NOCASE, id LIMIT ?2",
                           err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, CT_OBJS_MAX);
    int n = 0, rc;
    ct_obj *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        v = ut_realloc(v, (size_t)(n + 1) * sizeof *v);
        fill(s, &v[n++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ct_objs_free(v, n);
        return ct_sqlerr(c, "list console objects", err, errlen);
    }
    *out = v;
    return n;
}

void ct_objs_free(ct_obj *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].spec);
    }
    free(v);
}
