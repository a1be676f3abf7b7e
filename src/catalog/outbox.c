/* catalog: the outbox — records a run's commit promises to a stream.
 *
 *   run succeeds ──► outbox rows (stream, record, run_id), same transaction
 *   server       ──► ct_outbox_pending ──► append to the stream (id order)
 *                ──► ct_outbox_mark(id, offset)
 *
 * A record is in the outbox exactly when its run's commit is; it reaches
 * the stream at least once, and exactly once when the sender checks the
 * stream after its last marked offset before sending (catalog.h). */
#include "catalog/ct_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRUNE_AFTER_MS (24LL * 3600 * 1000)

int ct__outbox_add_tx(ct_catalog *c, const ct_run_done *d, char *err, size_t errlen)
{
    for (int i = 0; i < d->noutbox; i++) {
        size_t n = strlen(d->outbox[i]);
        if (n > CT_OUTBOX_MAX_RECORD)
            return ut_err(err, errlen, "catalog %s: run %lld: an outbox record of %zu bytes (at "
                          "most %d)", c->path, (long long)d->id, n, CT_OUTBOX_MAX_RECORD);
        sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_ADD, err, errlen);
        if (!s) return -1;
        sqlite3_bind_text(s, 1, d->outbox_stream, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, d->outbox[i], (int)n, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, d->id);
        sqlite3_bind_int64(s, 4, ct_now_ms());
        int rc = sqlite3_step(s);
        ct_done(s);
        if (rc != SQLITE_DONE) return ct_sqlerr(c, "add to the outbox", err, errlen);
    }
    return 0;
}

int ct_outbox_pending(ct_catalog *c, int max, const char *const *skip, int nskip,
                      ct_outbox_rec **out, char *err, size_t errlen)
{
    *out = NULL;
    if (max <= 0) return 0;
    sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_PENDING, err, errlen);
    if (!s) return -1;
    ut_buf js = {0};
    ut_buf_putc(&js, '[');
    for (int i = 0; i < nskip; i++) {
        if (i) ut_buf_putc(&js, ',');
        ut_json_str(&js, skip[i], strlen(skip[i]));
    }
    ut_buf_putc(&js, ']');
    sqlite3_bind_int(s, 1, max);
    sqlite3_bind_text(s, 2, (const char *)js.p, (int)js.len, SQLITE_TRANSIENT);
    ut_buf_free(&js);
    ct_outbox_rec *v = ut_calloc((size_t)max, sizeof *v);
    int n = 0, rc;
    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        v[n].id = sqlite3_column_int64(s, 0);
        ct_col_text(s, 1, v[n].stream, sizeof v[n].stream);
        const char *r = (const char *)sqlite3_column_text(s, 2);
        v[n++].record = ut_strdup(r ? r : "{}");
    }
    if (n < max && rc != SQLITE_DONE) {
        ct_sqlerr(c, "read the outbox", err, errlen);
        ct_done(s);
        ct_outbox_free(v, n);
        return -1;
    }
    ct_done(s);
    *out = v;
    return n;
}

int ct_outbox_get(ct_catalog *c, int64_t id, ct_outbox_rec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_GET, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = id;
        ct_col_text(s, 0, out->stream, sizeof out->stream);
        const char *r = (const char *)sqlite3_column_text(s, 1);
        out->record = ut_strdup(r ? r : "{}");
    }
    ct_done(s);
    if (rc == SQLITE_ROW) return 1;
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "read the outbox", err, errlen);
}

void ct_outbox_free(ct_outbox_rec *v, int n)
{
    for (int i = 0; v && i < n; i++) free(v[i].record);
    free(v);
}

/* Mark one (inside the transaction).  0 or -1. */
static int mark_one(ct_catalog *c, int64_t id, uint64_t offset, int64_t now, char *err,
                    size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_SENT, err, errlen);
    if (!s) return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, (int64_t)offset);
    sqlite3_bind_int64(s, 3, now);
    int rc = sqlite3_step(s);
    ct_done(s);
    return rc == SQLITE_DONE ? 0 : ct_sqlerr(c, "mark an outbox record sent", err, errlen);
}

int ct_outbox_mark(ct_catalog *c, const int64_t *ids, const uint64_t *offsets, int n, char *err,
                   size_t errlen)
{
    if (n <= 0) return 0;
    if (ct_begin(c, 1, err, errlen) < 0) return -1;
    int64_t now = ct_now_ms();
    for (int i = 0; i < n; i++)
        if (mark_one(c, ids[i], offsets[i], now, err, errlen)) {
            ct_rollback(c);
            return -1;
        }
    sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_PRUNE, err, errlen);
    if (!s) {
        ct_rollback(c);
        return -1;
    }
    sqlite3_bind_int64(s, 1, now - PRUNE_AFTER_MS);
    int rc = sqlite3_step(s);
    ct_done(s);
    if (rc != SQLITE_DONE) {
        ct_sqlerr(c, "prune the outbox", err, errlen);
        ct_rollback(c);
        return -1;
    }
    return ct_commit_tx(c, err, errlen);
}

int ct_outbox_last_sent(ct_catalog *c, const char *stream, uint64_t *offset, char *err,
                        size_t errlen)
{
    sqlite3_stmt *s = ct_stmt(c, S_OUTBOX_LAST, err, errlen);
    if (!s) return -1;
    sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s), found = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        *offset = (uint64_t)sqlite3_column_int64(s, 0);
        found = 1;
    }
    ct_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : ct_sqlerr(c, "read the outbox", err, errlen);
}
