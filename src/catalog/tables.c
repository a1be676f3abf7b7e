/* catalog: tables, their columns and schema versions, per-table summaries. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof ((ct_table *)0)->name > UT_NAME_MAX, "a valid table name fits ct_table");

/* "dt,hr": comma-separated identifiers [A-Za-z_][A-Za-z0-9_]*, or "". */
static int valid_partition_spec(const char *s)
{
    if (!*s) return 1;
    int at_start = 1;
    for (; *s; s++) {
        char ch = *s;
        int alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
        if (ch == ',') {
            if (at_start) return 0;
            at_start = 1;
        } else if (alpha || (!at_start && ch >= '0' && ch <= '9')) {
            at_start = 0;
        } else {
            return 0;
        }
    }
    return !at_start;
}

/* Fill t from a S_TABLE_BY_* row (not the columns). */
static void table_from_row(sqlite3_stmt *s, ct_table *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(s, 0);
    ct_col_text(s, 1, t->name, sizeof t->name);
    ct_col_text(s, 2, t->location, sizeof t->location);
    ct_col_text(s, 3, t->partition, sizeof t->partition);
    ct_col_text(s, 4, t->stream, sizeof t->stream);
    t->created_ms = sqlite3_column_int64(s, 5);
    t->version = sqlite3_column_int(s, 6);
}

/* Current columns of table_id (and, if added is non-NULL, the version that
 * added each; malloc'ed).  Count or -1. */
static int load_columns(ct_catalog *c, int64_t table_id, ct_column **cols, int **added, char *err,
                        size_t errlen)
{
    int n = 0, cap = 0;
    ct_column *v = NULL;
    int *a = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_COLS_OF, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = ut_realloc(v, (size_t)cap * sizeof *v);
            a = ut_realloc(a, (size_t)cap * sizeof *a);
        }
        memset(&v[n], 0, sizeof v[n]);
        ct_col_text(s, 0, v[n].name, sizeof v[n].name);
        char type[CT_TYPE_TEXT_MAX + 8];
        ct_col_text(s, 1, type, sizeof type);
        if (ct_column_type_parse(type, &v[n].type, &v[n].precision, &v[n].scale) < 0) {
            ut_err(err, errlen, "catalog %s: column '%s' has unknown type '%s'", c->path,
                   v[n].name, type);
            goto fail;
        }
        a[n] = v[n].added_version = sqlite3_column_int(s, 2);
        n++;
    }
    if (rc != SQLITE_DONE) {
        ct_sqlerr(c, "read columns", err, errlen);
        goto fail;
    }
    ct_done(s);
    *cols = v;
    if (added) *added = a;
    else free(a);
    return n;
fail:
    ct_done(s);
    free(v);
    free(a);
    return -1;
}

int ct_table_get_tx(ct_catalog *c, const char *name, ct_table *out, char *err, size_t errlen)
{
    ct_table t;
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_BY_NAME, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        ct_done(s);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        ct_sqlerr(c, "look up table", err, errlen);
        ct_done(s);
        return -1;
    }
    table_from_row(s, &t);
    ct_done(s);
    int n = load_columns(c, t.id, &t.cols, NULL, err, errlen);
    if (n < 0) return -1;
    t.ncols = n;
    if (out) *out = t;
    else free(t.cols);
    return 1;
}

int ct_table_get(ct_catalog *c, const char *name, ct_table *out, char *err, size_t errlen)
{
    if (out) memset(out, 0, sizeof *out);
    if (!name || !*name) return 0;
    if (ct_begin(c, 0, err, errlen) < 0) return -1; /* one snapshot for table + columns */
    int rc = ct_table_get_tx(c, name, out, err, errlen);
    if (rc < 0) {
        ct_rollback(c);
        return -1;
    }
    if (ct_commit_tx(c, err, errlen) < 0) {
        if (out) ct_table_free(out);
        return -1;
    }
    return rc;
}

/* Table names are SQL identifiers, compared without ASCII case: a new table
 * may not differ from an existing one only in case (SQL could not tell them
 * apart).  0, or -1 with a message. */
static int case_twin(ct_catalog *c, const char *name, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_NAME_NOCASE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        char other[128];
        ct_col_text(s, 0, other, sizeof other);
        ct_done(s);
        return ut_err(err, errlen,
                      "catalog %s: table '%s' differs only in case from the existing table '%s' "
                      "(table names are compared without case; pick another name)",
                      c->path, name, other);
    }
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, "look up table names", err, errlen);
    char view[128];
    int v = ct__view_twin(c, name, view, err, errlen);
    if (v > 0)
        return ut_err(err, errlen, "catalog %s: table '%s': a view named '%s' exists (table and "
                      "view names are compared without case; pick another name)", c->path, name,
                      view);
    return v;
}

int ct_table_insert_tx(ct_catalog *c, const char *name, const char *location,
                       const char *partition, const char *stream, ct_table *out, char *err,
                       size_t errlen)
{
    if (out) memset(out, 0, sizeof *out);
    if (!partition) partition = "";
    if (!stream) stream = "";
    char nerr[300];
    if (ut_name_check(UT_NAME_TABLE, name, name ? strlen(name) : 0, nerr, sizeof nerr))
        return ut_err(err, errlen, "catalog %s: %s", c->path, nerr); /* a directory, an SQL name */
    if (!location || !*location || strlen(location) >= sizeof out->location)
        return ut_err(err, errlen, "catalog %s: table '%s': location missing or over %zu bytes",
                      c->path, name, sizeof out->location - 1);
    if (strlen(partition) >= sizeof out->partition || !valid_partition_spec(partition))
        return ut_err(err, errlen,
                      "catalog %s: table '%s': bad partition columns '%s' (want e.g. \"dt,hr\")",
                      c->path, name, partition);
    if (strlen(stream) >= sizeof out->stream)
        return ut_err(err, errlen, "catalog %s: table '%s': stream name over %zu bytes", c->path,
                      name, sizeof out->stream - 1);
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_INSERT, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, location, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, stream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, ct_now_ms());
    if (sqlite3_step(s) != SQLITE_DONE) {
        char what[192];
        snprintf(what, sizeof what, "create table '%s'", name);
        ct_sqlerr(c, what, err, errlen);
        goto fail;
    }
    ct_done(s);
    s = NULL;
    int created = sqlite3_changes(c->db) > 0;
    if (created && case_twin(c, name, err, errlen)) goto fail; /* rolled back */
    ct_table t, *got = out ? out : &t;
    if (ct_table_get_tx(c, name, got, err, errlen) != 1) {
        if (err && !*err) ut_err(err, errlen, "catalog %s: table '%s' vanished", c->path, name);
        goto fail;
    }
    if (!created && strcmp(got->stream, stream)) { /* one writer per table */
        ut_err(err, errlen,
               "catalog %s: table '%s' already exists for %s%s%s, not for %s%s%s", c->path, name,
               got->stream[0] ? "stream '" : "CREATE TABLE AS", got->stream,
               got->stream[0] ? "'" : "", stream[0] ? "stream '" : "CREATE TABLE AS", stream,
               stream[0] ? "'" : "");
        ct_table_free(got);
        return -1;
    }
    if (!out) ct_table_free(&t);
    return created;
fail:
    ct_done(s);
    if (out) ct_table_free(out);
    return -1;
}

int ct_table_ensure(ct_catalog *c, const char *name, const char *location, const char *partition,
                    const char *stream, ct_table *out, char *err, size_t errlen)
{
    if (out) memset(out, 0, sizeof *out);
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int created = ct_table_insert_tx(c, name, location, partition, stream, out, err, errlen);
    if (created < 0) {
        ct_rollback(c);
        return -1;
    }
    if (ct_commit_tx(c, err, errlen) < 0) {
        if (out) ct_table_free(out);
        return -1;
    }
    return created;
}

/* "(a int64, b string) partitioned by dt" into b (at most ~cap bytes). */
static void schema_text(ut_buf *b, const ct_column *cols, int ncols, const char *partition,
                        const char *stream, size_t cap)
{
    ut_buf_putc(b, '(');
    char ty[CT_TYPE_TEXT_MAX];
    for (int i = 0; i < ncols && b->len < cap; i++)
        ut_buf_printf(b, "%s%s %s", i ? ", " : "", cols[i].name,
                      ct_column_type_text(&cols[i], ty, sizeof ty));
    ut_buf_puts(b, b->len < cap || !ncols ? ")" : ", ...)");
    if (partition && *partition) ut_buf_printf(b, " partitioned by %s", partition);
    if (stream && *stream) ut_buf_printf(b, " landed by stream '%s'", stream);
}

int ct_table_same(ct_catalog *c, const ct_table *t, const ct_new_table *nt, char *err,
                  size_t errlen)
{
    const char *part = nt->partition ? nt->partition : "";
    int same = !t->stream[0] && !strcmp(t->partition, part) && t->version == 1 &&
               t->ncols == nt->ncols;
    for (int i = 0; same && i < nt->ncols; i++)
        same = !strcmp(t->cols[i].name, nt->cols[i].name) &&
               ct_column_same_type(&t->cols[i], &nt->cols[i]);
    if (same) return 1;
    ut_buf have = {0}, want = {0};
    schema_text(&have, t->cols, t->ncols, t->partition, t->stream, 300);
    if (t->version != 1) ut_buf_printf(&have, " at schema version %d", t->version);
    schema_text(&want, nt->cols, nt->ncols, part, NULL, 300);
    ut_err(err, errlen, "catalog %s: table '%s' was created meanwhile by another writer as %s; "
           "this write has %s", c->path, t->name, ut_buf_cstr(&have), ut_buf_cstr(&want));
    ut_buf_free(&have);
    ut_buf_free(&want);
    return 0;
}

void ct_table_free(ct_table *t)
{
    if (!t) return;
    free(t->cols);
    t->cols = NULL;
    t->ncols = 0;
}

int ct_tables(ct_catalog *c, char ***names, char *err, size_t errlen)
{
    int n = 0, cap = 0;
    char **v = NULL;
    *names = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_NAMES, err, errlen);
    if (!s) return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = ut_realloc(v, (size_t)cap * sizeof *v);
        }
        const unsigned char *t = sqlite3_column_text(s, 0);
        v[n++] = ut_strdup(t ? (const char *)t : "");
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        ct_names_free(v, n);
        return ct_sqlerr(c, "list tables", err, errlen);
    }
    *names = v;
    return n;
}

/* May a column of type `from` hold values now typed `to`?  Widening only
 * (catalog.h lists it); decimals by type alone. */
int ct_type_widens(ct_type from, ct_type to)
{
    if (from == to || to == CT_STRING) return 1;
    if (from == CT_INT32) return to == CT_INT64 || to == CT_DOUBLE;
    if (from == CT_INT64 || from == CT_FLOAT || from == CT_DECIMAL) return to == CT_DOUBLE;
    if (from == CT_DATE) return to == CT_TIMESTAMP || to == CT_TIMESTAMP_NTZ;
    return 0;
}

int ct_column_same_type(const ct_column *a, const ct_column *b)
{
    return a->type == b->type &&
           (a->type != CT_DECIMAL || (a->precision == b->precision && a->scale == b->scale));
}

/* Integer digits an integer type needs in a decimal: int32 up to
 * 2,147,483,647 (10), int64 up to 9,223,372,036,854,775,807 (19). */
static int int_digits(ct_type t)
{
    return t == CT_INT32 ? 10 : t == CT_INT64 ? 19 : -1;
}

int ct_column_widens(const ct_column *from, const ct_column *to)
{
    if (to->type == CT_DECIMAL) {
        int room = to->precision - to->scale;
        if (from->type == CT_DECIMAL)
            return room >= from->precision - from->scale && to->scale >= from->scale;
        return int_digits(from->type) > 0 && room >= int_digits(from->type);
    }
    return ct_type_widens(from->type, to->type);
}

int ct_column_widen(const ct_column *old, const ct_column *want, ct_column *out)
{
    *out = *old;
    if (ct_column_widens(old, want)) {
        out->type = want->type;
        out->precision = want->type == CT_DECIMAL ? want->precision : 0;
        out->scale = want->type == CT_DECIMAL ? want->scale : 0;
        return 1;
    }
    if (ct_column_widens(want, old)) return 1; /* old holds want already */
    if (old->type != CT_DECIMAL || want->type != CT_DECIMAL) return 0;
    int d1 = old->precision - old->scale, d2 = want->precision - want->scale;
    int digits = d1 > d2 ? d1 : d2;
    int scale = old->scale > want->scale ? old->scale : want->scale;
    if (digits + scale <= CT_DECIMAL_MAX_PRECISION) {
        out->precision = digits + scale;
        out->scale = scale;
    } else { /* no decimal holds both: their exact text does */
        out->type = CT_STRING;
        out->precision = out->scale = 0;
    }
    return 1;
}

/* Check the proposed columns against the current ones; describe the
 * difference in *change (empty if none).  0 or -1. */
static int diff_schema(ct_catalog *c, const char *tname, const ct_column *old, int nold,
                       const ct_column *cols, int ncols, ut_buf *change, char *err, size_t errlen)
{
    ut_buf added = {0}, widened = {0};
    int same = nold == ncols;
    for (int i = 0; i < ncols; i++) {
        size_t len = strnlen(cols[i].name, sizeof cols[i].name);
        if (len == 0 || len >= sizeof cols[i].name) {
            ut_err(err, errlen, "catalog %s: table '%s': column %d has an empty or unterminated name",
                   c->path, tname, i + 1);
            goto fail;
        }
        char ty[CT_TYPE_TEXT_MAX], oty[CT_TYPE_TEXT_MAX];
        if (!strcmp(ct_column_type_text(&cols[i], ty, sizeof ty), "?")) {
            ut_err(err, errlen, "catalog %s: table '%s': column '%s' has unknown type %d "
                   "(precision %d, scale %d)", c->path, tname, cols[i].name, (int)cols[i].type,
                   cols[i].precision, cols[i].scale);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(cols[j].name, cols[i].name)) {
                ut_err(err, errlen, "catalog %s: table '%s': column '%s' appears twice", c->path,
                       tname, cols[i].name);
                goto fail;
            }
        if (same && (strcmp(old[i].name, cols[i].name) || !ct_column_same_type(&old[i], &cols[i])))
            same = 0;
        int found = -1;
        for (int j = 0; j < nold && found < 0; j++)
            if (!strcmp(old[j].name, cols[i].name)) found = j;
        if (found < 0) {
            ut_buf_printf(&added, "%s%s %s", added.len ? ", " : "", cols[i].name, ty);
        } else if (!ct_column_same_type(&old[found], &cols[i])) {
            ct_column_type_text(&old[found], oty, sizeof oty);
            if (!ct_column_widens(&old[found], &cols[i])) {
                ut_err(err, errlen,
                       "catalog %s: table '%s': column '%s' cannot change from %s to %s (only "
                       "widening)",
                       c->path, tname, cols[i].name, oty, ty);
                goto fail;
            }
            ut_buf_printf(&widened, "%s%s %s -> %s", widened.len ? ", " : "", cols[i].name, oty,
                          ty);
        }
    }
    for (int j = 0; j < nold; j++) {
        int found = 0;
        for (int i = 0; i < ncols && !found; i++) found = !strcmp(old[j].name, cols[i].name);
        if (!found) {
            ut_err(err, errlen,
                   "catalog %s: table '%s': new schema lacks column '%s' (columns are never "
                   "dropped)",
                   c->path, tname, old[j].name);
            goto fail;
        }
    }
    ut_buf_reset(change);
    if (!same) {
        if (added.len) ut_buf_printf(change, "added %.*s", (int)added.len, (const char *)added.p);
        if (widened.len)
            ut_buf_printf(change, "%swidened %.*s", change->len ? "; " : "", (int)widened.len,
                          (const char *)widened.p);
        if (!change->len) ut_buf_puts(change, "reordered columns");
    }
    ut_buf_free(&added);
    ut_buf_free(&widened);
    return 0;
fail:
    ut_buf_free(&added);
    ut_buf_free(&widened);
    return -1;
}

/* Message for a failed write of schema version v; returns -1. */
static int version_err(ct_catalog *c, const char *tname, int v, char *err, size_t errlen)
{
    char what[192];
    snprintf(what, sizeof what, "table '%s': record schema v%d", tname, v);
    return ct_sqlerr(c, what, err, errlen);
}

int ct_schema_set_tx(ct_catalog *c, int64_t table_id, const ct_column *cols, int ncols,
                     const char *change, int *version, char *err, size_t errlen)
{
    ct_column *old = NULL;
    int *added = NULL, nold = 0;
    ut_buf auto_change = {0}, json = {0};
    sqlite3_stmt *s = NULL;
    char tname[128];
    ct_table t;
    if (ncols < 0 || ncols > CT_MAX_COLUMNS || (ncols > 0 && !cols))
        return ut_err(err, errlen, "catalog %s: %d columns (the limit is %d)", c->path, ncols,
                      CT_MAX_COLUMNS);
    s = ct_stmt(c, S_TABLE_BY_ID, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            ut_err(err, errlen, "catalog %s: no table with id %lld", c->path, (long long)table_id);
        else ct_sqlerr(c, "look up table", err, errlen);
        goto fail;
    }
    table_from_row(s, &t);
    ct_done(s);
    s = NULL;
    snprintf(tname, sizeof tname, "%s", t.name);
    nold = load_columns(c, table_id, &old, &added, err, errlen);
    if (nold < 0) goto fail;
    if (diff_schema(c, tname, old, nold, cols, ncols, &auto_change, err, errlen) < 0) goto fail;
    if (!auto_change.len) { /* unchanged: no new version */
        if (version) *version = t.version;
        free(old);
        free(added);
        return 0;
    }
    int v = t.version + 1;
    char ty[CT_TYPE_TEXT_MAX];
    ut_buf_putc(&json, '[');
    for (int i = 0; i < ncols; i++) {
        ut_buf_puts(&json, i ? ",{\"name\":" : "{\"name\":");
        ut_json_str(&json, cols[i].name, strlen(cols[i].name));
        ut_buf_printf(&json, ",\"type\":\"%s\"}", ct_column_type_text(&cols[i], ty, sizeof ty));
    }
    ut_buf_putc(&json, ']');
    const char *text = change && *change ? change : (const char *)auto_change.p;
    int textlen = change && *change ? (int)strnlen(change, 511) : (int)auto_change.len;
    if (textlen > 511) textlen = 511;
    s = ct_stmt(c, S_VERSION_INSERT, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    sqlite3_bind_int(s, 2, v);
    sqlite3_bind_int64(s, 3, ct_now_ms());
    sqlite3_bind_text(s, 4, text, textlen, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, ncols);
    sqlite3_bind_text(s, 6, (const char *)json.p, (int)json.len, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        version_err(c, tname, v, err, errlen);
        goto fail;
    }
    ct_done(s);
    s = ct_stmt(c, S_COLS_DELETE, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        version_err(c, tname, v, err, errlen);
        goto fail;
    }
    ct_done(s);
    for (int i = 0; i < ncols; i++) {
        int av = v;
        for (int j = 0; j < nold; j++)
            if (!strcmp(old[j].name, cols[i].name)) av = added[j];
        s = ct_stmt(c, S_COL_INSERT, err, errlen);
        if (!s) goto fail;
        sqlite3_bind_int64(s, 1, table_id);
        sqlite3_bind_int(s, 2, i);
        sqlite3_bind_text(s, 3, cols[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, ct_column_type_text(&cols[i], ty, sizeof ty), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 5, av);
        if (sqlite3_step(s) != SQLITE_DONE) {
            version_err(c, tname, v, err, errlen);
            goto fail;
        }
        ct_done(s);
    }
    s = ct_stmt(c, S_TABLE_SET_VERSION, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    sqlite3_bind_int(s, 2, v);
    if (sqlite3_step(s) != SQLITE_DONE) {
        version_err(c, tname, v, err, errlen);
        goto fail;
    }
    ct_done(s);
    s = NULL;
    if (version) *version = v;
    free(old);
    free(added);
    ut_buf_free(&auto_change);
    ut_buf_free(&json);
    return 0;
fail:
    ct_done(s);
    free(old);
    free(added);
    ut_buf_free(&auto_change);
    ut_buf_free(&json);
    return -1;
}

int ct_schema_set(ct_catalog *c, int64_t table_id, const ct_column *cols, int ncols,
                  const char *change, int *version, char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    if (ct_schema_set_tx(c, table_id, cols, ncols, change, version, err, errlen) < 0) {
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen);
}

/* cur's columns with want's merged in (ASCII case ignored): new ones
 * appended, types widened where want's is wider.  Count; *changed set. */
static int merge_columns(const ct_table *cur, const ct_column *want, int nwant, ct_column *out,
                         int *changed)
{
    int n = cur->ncols;
    memcpy(out, cur->cols, (size_t)n * sizeof *out);
    *changed = 0;
    for (int i = 0; i < nwant; i++) {
        int k = -1;
        for (int j = 0; j < n && k < 0; j++)
            if (!strcasecmp(out[j].name, want[i].name)) k = j;
        if (k < 0 && n < CT_MAX_COLUMNS) {
            out[n++] = want[i];
            *changed = 1;
        } else if (k >= 0) {
            ct_column w;
            if (ct_column_widen(&out[k], &want[i], &w) && !ct_column_same_type(&w, &out[k])) {
                out[k] = w;
                *changed = 1;
            }
        }
    }
    return n;
}

int ct_schema_extend_tx(ct_catalog *c, const char *table, const ct_column *cols, int ncols,
                        ct_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (ncols < 0 || ncols > CT_MAX_COLUMNS)
        return ut_err(err, errlen, "catalog %s: table '%s': %d columns (the limit is %d)", c->path,
                      table, ncols, CT_MAX_COLUMNS);
    ct_column *merged = NULL;
    int rc = ct_table_get_tx(c, table, out, err, errlen), changed = 0;
    if (rc == 0) ut_err(err, errlen, "catalog %s: no table '%s'", c->path, table);
    if (rc == 1) {
        merged = ut_calloc((size_t)out->ncols + (size_t)ncols + 1, sizeof *merged);
        int n = merge_columns(out, cols, ncols, merged, &changed);
        if (changed) {
            int64_t id = out->id;
            ct_table_free(out);
            rc = ct_schema_set_tx(c, id, merged, n, NULL, NULL, err, errlen) < 0 ? -1
                 : ct_table_get_tx(c, table, out, err, errlen);
        }
    }
    free(merged);
    if (rc != 1) {
        ct_table_free(out);
        return -1;
    }
    return changed;
}

int ct_schema_extend(ct_catalog *c, const char *table, const ct_column *cols, int ncols,
                     ct_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int changed = ct_schema_extend_tx(c, table, cols, ncols, out, err, errlen);
    if (changed < 0) {
        ct_rollback(c);
        return -1;
    }
    if (ct_commit_tx(c, err, errlen) < 0) {
        ct_table_free(out);
        return -1;
    }
    return changed;
}

int ct_schema_history(ct_catalog *c, int64_t table_id, ct_schema_version **out, char *err,
                      size_t errlen)
{
    int n = 0, cap = 0;
    ct_schema_version *v = NULL;
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_VERSIONS_OF, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = ut_realloc(v, (size_t)cap * sizeof *v);
        }
        memset(&v[n], 0, sizeof v[n]);
        v[n].version = sqlite3_column_int(s, 0);
        v[n].created_ms = sqlite3_column_int64(s, 1);
        ct_col_text(s, 2, v[n].change, sizeof v[n].change);
        v[n].ncols = sqlite3_column_int(s, 3);
        n++;
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "read schema history", err, errlen);
    }
    *out = v;
    return n;
}

int ct_schema_recent(ct_catalog *c, int limit, ct_schema_change **out, char *err, size_t errlen)
{
    assert(limit > 0 && limit <= 1000);
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_VERSIONS_RECENT, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int(s, 1, limit);
    ct_schema_change *v = ut_calloc((size_t)limit, sizeof *v);
    int n = 0, rc;
    while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        ct_col_text(s, 0, v[n].table, sizeof v[n].table);
        v[n].v.version = sqlite3_column_int(s, 1);
        v[n].v.created_ms = sqlite3_column_int64(s, 2);
        ct_col_text(s, 3, v[n].v.change, sizeof v[n].v.change);
        v[n].v.ncols = sqlite3_column_int(s, 4);
        n++;
    }
    if (n == limit) rc = SQLITE_DONE;
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "read recent schema changes", err, errlen);
    }
    *out = v;
    return n;
}

int ct_table_stats(ct_catalog *c, int64_t table_id, struct ct_table_stats *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_STATS, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    if (sqlite3_step(s) != SQLITE_ROW) {
        ct_done(s);
        return ct_sqlerr(c, "table stats", err, errlen);
    }
    out->files = sqlite3_column_int64(s, 0);
    out->rows = sqlite3_column_int64(s, 1);
    out->bytes = sqlite3_column_int64(s, 2);
    out->partitions = sqlite3_column_int64(s, 3);
    ct_col_text(s, 4, out->min_partition, sizeof out->min_partition);
    ct_col_text(s, 5, out->max_partition, sizeof out->max_partition);
    out->last_commit_ms = sqlite3_column_int64(s, 6);
    ct_done(s);
    return 0;
}

/* Versions v whose columns are not those of v + 1 with columns appended:
 * before them a column changed type (or a null-only column got one).  Only
 * those versions' columns are read: the common history, columns added, is a
 * byte-prefix comparison of the stored JSON.  *out malloc'ed; count or -1. */
static int changed_before(ct_catalog *c, int64_t table_id, int **out, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_VERSIONS_JSON, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    ut_buf prev = {0};
    int prev_v = 0, n = 0, cap = 0, rc;
    int *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const void *j = sqlite3_column_blob(s, 1);
        size_t jn = (size_t)sqlite3_column_bytes(s, 1);
        if (prev_v && !(jn > prev.len && prev.len > 0 && !memcmp(j, prev.p, prev.len - 1))) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                v = ut_realloc(v, (size_t)cap * sizeof *v);
            }
            v[n++] = prev_v;
        }
        ut_buf_reset(&prev);
        ut_buf_put(&prev, j, jn);
        prev_v = sqlite3_column_int(s, 0);
    }
    ct_done(s);
    ut_buf_free(&prev);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "read schema versions", err, errlen);
    }
    *out = v;
    return n;
}

int ct_column_types(ct_catalog *c, int64_t table_id, ct_coltype_fn fn, void *arg, char *err,
                    size_t errlen)
{
    if (ct_begin(c, 0, err, errlen) < 0) return -1; /* one snapshot */
    int *vers = NULL;
    int nv = changed_before(c, table_id, &vers, err, errlen), rc = SQLITE_DONE;
    for (int i = 0; i < nv && rc == SQLITE_DONE; i++) {
        sqlite3_stmt *s = ct_stmt(c, S_VERSION_COLUMNS, err, errlen);
        if (!s) {
            nv = -1;
            break;
        }
        sqlite3_bind_int64(s, 1, table_id);
        sqlite3_bind_int(s, 2, vers[i]);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(s, 0);
            const char *type = (const char *)sqlite3_column_text(s, 1);
            ct_type t;
            int p, sc;
            if (name && type && ct_column_type_parse(type, &t, &p, &sc) == 0)
                fn(arg, name, t, vers[i]);
        }
        ct_done(s);
    }
    free(vers);
    if (nv >= 0 && rc != SQLITE_DONE) nv = ct_sqlerr(c, "read column types", err, errlen);
    if (nv < 0) {
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen) < 0 ? -1 : 0;
}
