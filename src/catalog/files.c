/* catalog: the files of each table — commit (with the sink position),
 * replace (compaction, partition overwrite), retention, trash.
 *
 * A file row is 'live' (visible to queries) or 'trash' (removed from the
 * table by ct_replace / ct_drop_before; its storage object still exists
 * until the caller deletes it and calls ct_forget).  Every change is one
 * BEGIN IMMEDIATE transaction; on any error it is rolled back, so a failed
 * call changes nothing. */
#include "catalog/ct_int.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A key relative to the table location: no leading '/', no "." or ".."
 * component, no empty component, no control characters. */
static int valid_rel_path(const char *p)
{
    if (!*p || *p == '/') return 0;
    for (const char *seg = p; *seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f) return 0;
        if (!end) break;
        seg = end + 1;
        if (!*seg) return 0; /* trailing '/' */
    }
    return 1;
}

/* Check one file before inserting it.  0 or -1 with a message. */
static int check_file(ct_catalog *c, const char *tname, const ct_file *f, char *err, size_t errlen)
{
    size_t plen = strnlen(f->path, sizeof f->path), qlen = strnlen(f->partition, sizeof f->partition);
    if (plen >= sizeof f->path || !valid_rel_path(f->path))
        return ut_err(err, errlen,
                      "catalog %s: table '%s': bad file path '%.*s' (a relative key without "
                      ". or .. components, under %zu bytes)",
                      c->path, tname, (int)(plen > 200 ? 200 : plen), f->path, sizeof f->path);
    if (qlen >= sizeof f->partition)
        return ut_err(err, errlen, "catalog %s: table '%s': file '%s': partition over %zu bytes",
                      c->path, tname, f->path, sizeof f->partition - 1);
    if (qlen && (strncmp(f->path, f->partition, qlen) || f->path[qlen] != '/'))
        return ut_err(err, errlen,
                      "catalog %s: table '%s': file '%s' is not inside its partition '%s'",
                      c->path, tname, f->path, f->partition);
    if (f->rows < 0 || f->bytes < 0)
        return ut_err(err, errlen, "catalog %s: table '%s': file '%s': negative rows or bytes",
                      c->path, tname, f->path);
    if (f->nstats < 0 || f->nstats > CT_MAX_COLUMNS || (f->nstats && !f->stats))
        return ut_err(err, errlen,
                      "catalog %s: table '%s': file '%s': %d column stats (the limit is %d)",
                      c->path, tname, f->path, f->nstats, CT_MAX_COLUMNS);
    for (int i = 0; i < f->nstats; i++) {
        const ct_colstat *st = &f->stats[i];
        size_t n = strnlen(st->name, sizeof st->name);
        if (!n || n >= sizeof st->name || strnlen(st->min, sizeof st->min) >= sizeof st->min ||
            strnlen(st->max, sizeof st->max) >= sizeof st->max || st->nulls < 0)
            return ut_err(err, errlen,
                          "catalog %s: table '%s': file '%s': stats of column %d are malformed "
                          "(empty or unterminated name/min/max, or negative nulls)",
                          c->path, tname, f->path, i + 1);
    }
    return 0;
}

/* The message for a failed SQL step while adding file `path`; returns -1. */
static int file_err(ct_catalog *c, const char *tname, const char *path, char *err, size_t errlen)
{
    char what[1200];
    snprintf(what, sizeof what, "table '%s': add file '%.1000s'", tname, path);
    return ct_sqlerr(c, what, err, errlen);
}

int ct_files_insert(ct_catalog *c, int64_t table_id, const char *tname, const ct_file *files,
                    int n, char *err, size_t errlen)
{
    int64_t now = ct_now_ms();
    sqlite3_stmt *s = NULL;
    for (int i = 0; i < n; i++) {
        const ct_file *f = &files[i];
        if (check_file(c, tname, f, err, errlen) < 0) goto fail;
        /* A path already known to the table (live, or trashed and about to
         * be deleted from storage) is refused: no silent duplicates. */
        s = ct_stmt(c, S_FILE_FIND_PATH, err, errlen);
        if (!s) goto fail;
        sqlite3_bind_int64(s, 1, table_id);
        sqlite3_bind_text(s, 2, f->path, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            char state[16];
            ct_col_text(s, 1, state, sizeof state);
            ut_err(err, errlen, "catalog %s: table '%s': file '%s' is already %s", c->path, tname,
                   f->path,
                   !strcmp(state, "trash") ? "in the trash (awaiting deletion; use a new name)"
                                           : "live (committed before)");
            goto fail;
        }
        if (rc != SQLITE_DONE) {
            file_err(c, tname, f->path, err, errlen);
            goto fail;
        }
        ct_done(s);
        s = ct_stmt(c, S_FILE_INSERT, err, errlen);
        if (!s) goto fail;
        sqlite3_bind_int64(s, 1, table_id);
        sqlite3_bind_text(s, 2, f->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, f->partition, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, f->rows);
        sqlite3_bind_int64(s, 5, f->bytes);
        sqlite3_bind_int(s, 6, f->schema_version);
        sqlite3_bind_int64(s, 7, f->created_ms > 0 ? f->created_ms : now);
        sqlite3_bind_int64(s, 8, f->min_offset);
        sqlite3_bind_int64(s, 9, f->max_offset);
        if (sqlite3_step(s) != SQLITE_DONE) {
            file_err(c, tname, f->path, err, errlen);
            goto fail;
        }
        ct_done(s);
        int64_t fid = sqlite3_last_insert_rowid(c->db);
        for (int j = 0; j < f->nstats; j++) {
            const ct_colstat *st = &f->stats[j];
            s = ct_stmt(c, S_STAT_INSERT, err, errlen);
            if (!s) goto fail;
            sqlite3_bind_int64(s, 1, fid);
            sqlite3_bind_int(s, 2, j);
            sqlite3_bind_text(s, 3, st->name, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 4, st->has_minmax != 0);
            if (st->has_minmax) {
                sqlite3_bind_text(s, 5, st->min, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 6, st->max, -1, SQLITE_STATIC);
            }
            sqlite3_bind_int64(s, 7, st->nulls);
            if (sqlite3_step(s) != SQLITE_DONE) {
                file_err(c, tname, f->path, err, errlen);
                goto fail;
            }
            ct_done(s);
        }
        s = NULL;
    }
    return 0;
fail:
    ct_done(s);
    return -1;
}

/* Inside a transaction: look up the table's name (for messages) and, if
 * partition is non-NULL, its partition columns (64 bytes).  0, or -1 if the
 * table does not exist. */
static int table_tx(ct_catalog *c, int64_t table_id, const char *op, char *tname,
                    char *partition, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_TABLE_BY_ID, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        ct_col_text(s, 1, tname, 128);
        if (partition) ct_col_text(s, 3, partition, sizeof ((ct_table *)0)->partition);
        ct_done(s);
        return 0;
    }
    ct_done(s);
    if (rc == SQLITE_DONE)
        return ut_err(err, errlen, "catalog %s: %s: no table with id %lld", c->path, op,
                      (long long)table_id);
    return ct_sqlerr(c, op, err, errlen);
}

/* BEGIN IMMEDIATE and table_tx.  On failure no transaction is left open. */
static int begin_on_table(ct_catalog *c, int64_t table_id, const char *op, char *tname,
                          char *partition, char *err, size_t errlen)
{
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    if (table_tx(c, table_id, op, tname, partition, err, errlen) == 0) return 0;
    ct_rollback(c);
    return -1;
}

int ct_commit(ct_catalog *c, int64_t table_id, const ct_file *files, int n, const char *stream,
              uint64_t next_offset, char *err, size_t errlen)
{
    ct_table_change t = {.table_id = table_id, .add = files, .nadd = n};
    ct_change ch = {.tables = &t, .ntables = 1, .stream = stream, .next_offset = next_offset};
    return ct_apply(c, &ch, err, errlen);
}

/* Move live file old_id of the table to the trash (inside a transaction).
 * -1 with a message saying why if it is not a live file of this table. */
static int trash_file(ct_catalog *c, int64_t table_id, const char *tname, int64_t old_id,
                      int64_t now, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_FILE_TRASH, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, old_id);
    sqlite3_bind_int64(s, 2, table_id);
    sqlite3_bind_int64(s, 3, now);
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) {
        char what[192];
        snprintf(what, sizeof what, "table '%s': remove file id %lld", tname, (long long)old_id);
        return ct_sqlerr(c, what, err, errlen);
    }
    if (sqlite3_changes(c->db) == 1) return 0;
    char state[16] = "", other[128] = "";
    int64_t owner = table_id;
    s = ct_stmt(c, S_FILE_STATE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, old_id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        ct_col_text(s, 0, state, sizeof state);
        owner = sqlite3_column_int64(s, 1);
    }
    ct_done(s);
    if (!*state)
        return ut_err(err, errlen, "catalog %s: table '%s': file id %lld does not exist", c->path,
                      tname, (long long)old_id);
    if (owner != table_id) {
        ct_table_name(c, owner, other);
        return ut_err(err, errlen, "catalog %s: table '%s': file id %lld belongs to table '%s'",
                      c->path, tname, (long long)old_id, other);
    }
    return ut_err(err, errlen,
                  "catalog %s: table '%s': file id %lld is no longer live (already replaced or "
                  "dropped)",
                  c->path, tname, (long long)old_id);
}

int ct_replace(ct_catalog *c, int64_t table_id, const int64_t *old_ids, int nold,
               const ct_file *new_files, int nnew, char *err, size_t errlen)
{
    ct_table_change t = {.table_id = table_id, .add = new_files, .nadd = nnew,
                         .remove = old_ids, .nremove = nold};
    ct_change ch = {.tables = &t, .ntables = 1};
    return ct_apply(c, &ch, err, errlen);
}

/* Create the table of t->create inside the transaction with its columns as
 * version 1, or (exists_ok) take the same table a concurrent writer created;
 * sets t->table_id.  A name that exists otherwise: UT_EEXISTS in ch. */
static int create_tx(ct_catalog *c, ct_change *ch, ct_table_change *t, char *tname, char *err,
                     size_t errlen)
{
    const ct_new_table *nt = t->create;
    ct_table made;
    int have = ct_table_get_tx(c, nt->name, &made, err, errlen);
    if (have < 0) return -1;
    if (have) {
        int same = nt->exists_ok && ct_table_same(c, &made, nt, err, errlen);
        if (!nt->exists_ok)
            ut_err(err, errlen, "catalog %s: table '%s' already exists", c->path, nt->name);
        if (same) {
            t->table_id = made.id;
            snprintf(tname, 128, "%s", made.name);
        }
        ct_table_free(&made);
        if (!same) ch->err_kind = UT_EEXISTS;
        return same ? 0 : -1;
    }
    if (ct_table_insert_tx(c, nt->name, nt->location, nt->partition, NULL, &made, err, errlen) < 0)
        return -1; /* (a case twin, a bad name) */
    t->table_id = made.id;
    snprintf(tname, 128, "%s", made.name);
    ct_table_free(&made);
    int version = 0;
    return ct_schema_set_tx(c, t->table_id, nt->cols, nt->ncols, nt->change, &version, err,
                            errlen);
}

static int collect_files(ct_catalog *c, sqlite3_stmt *s, ct_file **out, char *err,
                         size_t errlen);

/* The live files of t->replace's partitions to the trash, listed in
 * t->replaced (inside the transaction, after t->remove). */
static int replace_tx(ct_catalog *c, ct_table_change *t, const char *tname, int64_t now,
                      char *err, size_t errlen)
{
    for (int i = 0; i < t->nreplace; i++) {
        const char *p = t->replace[i] ? t->replace[i] : "";
        sqlite3_stmt *s = ct_stmt(c, *p ? S_FILES_PREFIX : S_FILES_OF, err, errlen);
        if (!s) return -1;
        sqlite3_bind_int64(s, 1, t->table_id);
        if (*p) sqlite3_bind_text(s, 2, p, -1, SQLITE_STATIC);
        ct_file *v = NULL;
        int n = collect_files(c, s, &v, err, errlen);
        if (n < 0) return -1;
        if (t->nreplaced + n > CT_MAX_FILES) {
            free(v);
            return ut_err(err, errlen, "catalog %s: table '%s': a commit replacing over %d files",
                          c->path, tname, CT_MAX_FILES);
        }
        t->replaced = ut_realloc(t->replaced, sizeof *v * (size_t)(t->nreplaced + n + 1));
        for (int k = 0; k < n; k++) {
            t->replaced[t->nreplaced++] = v[k];
            if (trash_file(c, t->table_id, tname, v[k].id, now, err, errlen) < 0) {
                free(v);
                return -1;
            }
        }
        free(v);
    }
    return 0;
}

/* t->evolve merged into the table's schema (inside the transaction); *out
 * t->add with the version after as their schema_version (malloc'ed). */
static int evolve_tx(ct_catalog *c, const ct_table_change *t, const char *tname, ct_file **out,
                     char *err, size_t errlen)
{
    ct_table after;
    if (ct_schema_extend_tx(c, tname, t->evolve, t->nevolve, &after, err, errlen) < 0) return -1;
    int rc = 0;
    for (int i = 0; i < t->nevolve && !rc; i++)
        for (int k = 0; k < after.ncols; k++)
            if (!strcasecmp(after.cols[k].name, t->evolve[i].name) &&
                !ct_column_same_type(&after.cols[k], &t->evolve[i]))
                rc = ut_err(err, errlen, "catalog %s: table '%s': column '%s' was changed by "
                            "another writer meanwhile (its files' type is no longer the "
                            "table's): retry", c->path, tname, t->evolve[i].name);
    *out = rc ? NULL : ut_calloc((size_t)t->nadd + 1, sizeof **out);
    for (int i = 0; !rc && i < t->nadd; i++) {
        (*out)[i] = t->add[i];
        (*out)[i].schema_version = after.version;
    }
    ct_table_free(&after);
    return rc;
}

/* One table's part of ct_apply, inside its transaction. */
static int apply_table(ct_catalog *c, ct_change *ch, ct_table_change *t, int64_t now,
                       char *tname, char *err, size_t errlen)
{
    if (t->nadd < 0 || t->nremove < 0 || t->nadd > CT_MAX_FILES || t->nremove > CT_MAX_FILES ||
        (t->nadd && !t->add) || (t->nremove && !t->remove) || t->nreplace < 0 ||
        t->nreplace > CT_MAX_FILES || (t->nreplace && !t->replace))
        return ut_err(err, errlen, "catalog %s: commit of %d files replacing %d + %d partitions "
                      "(the limit is %d)", c->path, t->nadd, t->nremove, t->nreplace,
                      CT_MAX_FILES);
    if (t->create ? create_tx(c, ch, t, tname, err, errlen)
                  : table_tx(c, t->table_id, "commit", tname, NULL, err, errlen))
        return -1;
    for (int i = 0; i < t->nremove; i++)
        if (trash_file(c, t->table_id, tname, t->remove[i], now, err, errlen) < 0) return -1;
    if (replace_tx(c, t, tname, now, err, errlen) < 0) return -1;
    if (!t->evolve) return ct_files_insert(c, t->table_id, tname, t->add, t->nadd, err, errlen);
    ct_file *add = NULL;
    int rc = evolve_tx(c, t, tname, &add, err, errlen);
    if (rc == 0) rc = ct_files_insert(c, t->table_id, tname, add, t->nadd, err, errlen);
    free(add);
    return rc;
}

/* ct_apply failed: nothing was created or replaced. */
static void apply_undone(ct_change *ch)
{
    for (int i = 0; i < ch->ntables; i++) {
        ct_table_change *t = &ch->tables[i];
        if (t->create) t->table_id = 0; /* not created after all */
        ct_files_free(t->replaced, t->nreplaced);
        t->replaced = NULL;
        t->nreplaced = 0;
    }
    if (!ch->err_kind) ch->err_kind = UT_EIO;
}

int ct_apply(ct_catalog *c, ct_change *ch, char *err, size_t errlen)
{
    char tname[128], first[128] = "";
    ch->err_kind = UT_EOK;
    if (ch->ntables < 1 || ch->ntables > CT_MAX_CHANGE_TABLES || !ch->tables) {
        ch->err_kind = UT_EINVAL;
        return ut_err(err, errlen, "catalog %s: a change of %d tables (1..%d)", c->path,
                      ch->ntables, CT_MAX_CHANGE_TABLES);
    }
    for (int i = 0; i < ch->ntables; i++) ch->tables[i].replaced = NULL, ch->tables[i].nreplaced = 0;
    if (ct_begin(c, 1, err, errlen) < 0) {
        apply_undone(ch);
        return -1;
    }
    int64_t now = ct_now_ms();
    for (int i = 0; i < ch->ntables; i++) {
        if (apply_table(c, ch, &ch->tables[i], now, tname, err, errlen) < 0) goto fail;
        if (i == 0) snprintf(first, sizeof first, "%s", tname);
    }
    if (ch->stream && ct_position_set_tx(c, ch->stream, ch->tables[0].table_id, first,
                                         ch->next_offset, err, errlen) < 0)
        goto fail;
    if (ch->run) {
        int r = ct_run_finish_tx(c, ch->run, err, errlen);
        if (r < 0) goto fail;
        if (r == 0) {
            ut_err(err, errlen, "catalog %s: run %lld is no longer held by this worker (another "
                   "delivery of its task took it over, or it finished): its outputs were not "
                   "committed", c->path, (long long)ch->run->id);
            goto fail;
        }
    }
    if (ct_commit_tx(c, err, errlen) == 0) return 0;
    apply_undone(ch);
    return -1;
fail:
    ct_rollback(c);
    apply_undone(ch);
    return -1;
}

/* Fill f from a row of FILE_COLS (db.c): no stats. */
static void file_from_row(sqlite3_stmt *s, ct_file *f)
{
    memset(f, 0, sizeof *f);
    f->id = sqlite3_column_int64(s, 0);
    ct_col_text(s, 1, f->path, sizeof f->path);
    ct_col_text(s, 2, f->partition, sizeof f->partition);
    f->rows = sqlite3_column_int64(s, 3);
    f->bytes = sqlite3_column_int64(s, 4);
    f->schema_version = sqlite3_column_int(s, 5);
    f->created_ms = sqlite3_column_int64(s, 6);
    f->min_offset = sqlite3_column_int64(s, 7);
    f->max_offset = sqlite3_column_int64(s, 8);
    f->table_id = sqlite3_column_int64(s, 9);
}

/* Step statement s (already bound) and collect its file rows.  Count or -1. */
static int collect_files(ct_catalog *c, sqlite3_stmt *s, ct_file **out, char *err, size_t errlen)
{
    int n = 0, cap = 0, rc;
    ct_file *v = NULL;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = ut_realloc(v, (size_t)cap * sizeof *v);
        }
        file_from_row(s, &v[n++]);
    }
    ct_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return ct_sqlerr(c, "list files", err, errlen);
    }
    *out = v;
    return n;
}

/* Load the column stats of f. */
static int load_stats(ct_catalog *c, ct_file *f, char *err, size_t errlen)
{
    int n = 0, cap = 0, rc;
    sqlite3_stmt *s = ct_stmt(c, S_STATS_OF, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, f->id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            f->stats = ut_realloc(f->stats, (size_t)cap * sizeof *f->stats);
        }
        ct_colstat *st = &f->stats[n++];
        memset(st, 0, sizeof *st);
        ct_col_text(s, 0, st->name, sizeof st->name);
        st->has_minmax = sqlite3_column_int(s, 1);
        ct_col_text(s, 2, st->min, sizeof st->min);
        ct_col_text(s, 3, st->max, sizeof st->max);
        st->nulls = sqlite3_column_int64(s, 4);
        f->nstats = n;
    }
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, "read file stats", err, errlen);
    return 0;
}

int ct_files(ct_catalog *c, int64_t table_id, const char *partition_prefix, ct_file **out,
             char *err, size_t errlen)
{
    ct_file *v = NULL;
    int n = 0;
    *out = NULL;
    if (ct_begin(c, 0, err, errlen) < 0) return -1; /* one snapshot for files + stats */
    int prefixed = partition_prefix && *partition_prefix;
    sqlite3_stmt *s = ct_stmt(c, prefixed ? S_FILES_PREFIX : S_FILES_OF, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    if (prefixed) sqlite3_bind_text(s, 2, partition_prefix, -1, SQLITE_STATIC);
    n = collect_files(c, s, &v, err, errlen);
    if (n < 0) {
        n = 0;
        goto fail;
    }
    for (int i = 0; i < n; i++)
        if (load_stats(c, &v[i], err, errlen) < 0) goto fail;
    if (ct_commit_tx(c, err, errlen) < 0) goto fail;
    *out = v;
    return n;
fail:
    ct_rollback(c);
    ct_files_free(v, n);
    return -1;
}

void ct_files_free(ct_file *f, int n)
{
    if (!f) return;
    for (int i = 0; i < n; i++) free(f[i].stats);
    free(f);
}

/* Value of the first partition column in "dt=V/hr=..." if the partition
 * starts with "<col>="; copies it into val[cap].  1 / 0. */
static int first_value(const char *partition, const char *col, size_t collen, char *val,
                       size_t cap)
{
    if (strncmp(partition, col, collen) || partition[collen] != '=') return 0;
    const char *v = partition + collen + 1, *end = strchr(v, '/');
    size_t n = end ? (size_t)(end - v) : strlen(v);
    if (n >= cap) return 0;
    memcpy(val, v, n);
    val[n] = 0;
    return 1;
}

int ct_drop_before(ct_catalog *c, int64_t table_id, const char *before, ct_file **removed,
                   char *err, size_t errlen)
{
    char tname[128], val[256], spec[sizeof ((ct_table *)0)->partition];
    ct_file *all = NULL;
    int nall = 0, nrm = 0;
    *removed = NULL;
    if (!before || !*before || strlen(before) >= sizeof val)
        return ut_err(err, errlen, "catalog %s: drop: the cut-off value is empty or too long",
                      c->path);
    if (begin_on_table(c, table_id, "drop", tname, spec, err, errlen) < 0) return -1;
    if (!spec[0]) {
        ut_err(err, errlen, "catalog %s: table '%s' is not partitioned: nothing to drop by date",
               c->path, tname);
        goto fail;
    }
    size_t collen = strcspn(spec, ",");
    sqlite3_stmt *s = ct_stmt(c, S_FILES_OF, err, errlen);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, table_id);
    nall = collect_files(c, s, &all, err, errlen);
    if (nall < 0) {
        nall = 0;
        goto fail;
    }
    int64_t now = ct_now_ms();
    for (int i = 0; i < nall; i++) {
        if (!first_value(all[i].partition, spec, collen, val, sizeof val)) continue;
        if (strcmp(val, before) >= 0) continue;
        if (trash_file(c, table_id, tname, all[i].id, now, err, errlen) < 0) goto fail;
        all[nrm++] = all[i]; /* compact the removed ones to the front (no stats loaded) */
    }
    if (ct_commit_tx(c, err, errlen) < 0) goto fail;
    if (nrm == 0) {
        free(all);
        return 0;
    }
    *removed = all;
    return nrm;
fail:
    ct_rollback(c);
    ct_files_free(all, 0);
    return -1;
}

int ct_trash(ct_catalog *c, ct_file **out, char *err, size_t errlen)
{
    return ct_trash_due(c, INT64_MAX, out, err, errlen);
}

int ct_trash_due(ct_catalog *c, int64_t removed_before_ms, ct_file **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    sqlite3_stmt *s = ct_stmt(c, S_TRASH_DUE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, removed_before_ms);
    return collect_files(c, s, out, err, errlen);
}

int ct_forget(ct_catalog *c, int64_t file_id, char *err, size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_FILE_FORGET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, file_id);
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) return ct_sqlerr(c, "forget file", err, errlen);
    if (sqlite3_changes(c->db) == 1) return 0;
    /* Not deleted: already forgotten (fine: forgetting is idempotent, a
     * crash between the storage delete and this call repeats it) or live. */
    s = ct_stmt(c, S_FILE_STATE, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, file_id);
    char state[16] = "", tname[128];
    int64_t owner = 0;
    if (sqlite3_step(s) == SQLITE_ROW) {
        ct_col_text(s, 0, state, sizeof state);
        owner = sqlite3_column_int64(s, 1);
    }
    ct_done(s);
    if (!strcmp(state, "live")) {
        ct_table_name(c, owner, tname);
        return ut_err(err, errlen,
                      "catalog %s: table '%s': file id %lld is live; only trashed files can be "
                      "forgotten",
                      c->path, tname, (long long)file_id);
    }
    return 0;
}

/* Does statement `which` find a file row of table_id at path?  1 / 0 / -1. */
static int file_at(ct_catalog *c, int which, int64_t table_id, const char *path, char *err,
                   size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, which, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, table_id);
    sqlite3_bind_text(s, 2, path ? path : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    return ct_sqlerr(c, "look up file", err, errlen);
}

int ct_file_live(ct_catalog *c, int64_t table_id, const char *path, char *err, size_t errlen)
{
    return file_at(c, S_FILE_LIVE, table_id, path, err, errlen);
}

int ct_file_known(ct_catalog *c, int64_t table_id, const char *path, char *err, size_t errlen)
{
    return file_at(c, S_FILE_FIND_PATH, table_id, path, err, errlen);
}
