/* Landing files in the lake: the one step every writer uses (the sink's
 * flush, CREATE TABLE AS / INSERT, compaction; later job tasks).
 *
 *   pq_writer on a temp file (lk_tmp_path) with the rows
 *     ──► pq_writer_close (fsync) ──► statistics and size from the writer
 *         (the file is not read back)
 *     ──► st_move_file to <table>/<partition>/<name>: never over an existing
 *         object (names are unique per writer; an existing key is an error)
 *     ──► ONE ct_apply: the files (replacing old ones, creating the table,
 *         setting the stream position, as the change says)
 *     ──► the replaced files' objects moved to the trash (trash.c), out of
 *         the table's directory
 *     ──► on any failure: the stored objects are deleted again and the temp
 *         files unlinked, so nothing of a failed landing stays visible.
 *
 * A crash (kill -9) between the store and the commit leaves objects the
 * catalog does not list (the sink's start collects its tables' ones) and
 * temp files of a dead process (lk_tmp_gc collects them).  Temp names carry
 * the writer's pid for that: "<tmp_dir>/sl-<pid>-<seq>-<tag>.parquet".
 *
 * Partition values in paths are Hive-escaped (lk_part_escape): a byte that
 * is not safe in a path segment becomes %XX, nothing is truncated, and every
 * reader (ours, DuckDB, Trino, Spark) unescapes them. */
#include "lake/lk_int.h"
#include "log/log.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- partition values in paths ------------------------------------------------ */

/* Hive's FileUtils.escapePathName set, plus bytes of invalid UTF-8. */
static int must_escape(unsigned char c)
{
    return c < 0x20 || c == 0x7f || strchr("\"#%'*/:=?\\{[]^", c) != NULL;
}

/* Length of the valid UTF-8 sequence at p[0..n) (n > 0, p[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (p[0] >= 0xf5 || !k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return k;
}

long lk_part_escape(const char *v, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)v;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = p[i] >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (k) { /* valid UTF-8 stays as it is (as Hive writes it) */
            if (o + k >= cap) return -1;
            memcpy(out + o, p + i, k);
            o += k;
            i += k;
            continue;
        }
        if (must_escape(p[i]) || p[i] >= 0x80) {
            if (o + 3 >= cap) return -1;
            out[o++] = '%';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 15];
        } else {
            if (o + 1 >= cap) return -1;
            out[o++] = (char)p[i];
        }
        i++;
    }
    if (o >= cap) return -1;
    out[o] = 0;
    return (long)o;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

long lk_part_unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= cap) return -1;
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    if (o >= cap) return -1;
    out[o] = 0;
    return (long)o;
}

int lk_part_segment(const char *col, const char *value, size_t n, char *out, size_t cap,
                    char *err, size_t errlen)
{
    char esc[LK_SEGMENT_MAX + 1];
    long m = lk_part_escape(value, n, esc, sizeof esc);
    size_t cl = strlen(col);
    if (m < 0 || cl + 1 + (size_t)m > LK_SEGMENT_MAX || cl + 1 + (size_t)m >= cap)
        return ut_err(err, errlen,
                      "partition %s: the value '%.40s%s' (%zu bytes) is too long for a path "
                      "segment (at most %d bytes with '%s=' and %%XX escapes)",
                      col, value, n > 40 ? "…" : "", n, LK_SEGMENT_MAX, col);
    snprintf(out, cap, "%s=%s", col, esc);
    return 0;
}

/* ---- temp files ------------------------------------------------------------------ */

static atomic_uint tmp_seq;

void lk_tmp_path(const char *tmp_dir, const char *tag, char *out, size_t n)
{
    char t[64];
    size_t i = 0;
    for (; tag[i] && i + 1 < sizeof t; i++) /* a tag never makes a path of its own */
        t[i] = (tag[i] == '/' || tag[i] == '.' || (unsigned char)tag[i] < 0x20) ? '_' : tag[i];
    t[i] = 0;
    snprintf(out, n, "%s/sl-%ld-%u-%s.parquet", tmp_dir, (long)getpid(),
             atomic_fetch_add(&tmp_seq, 1), t);
}

/* The pid of a temp name "sl-<pid>-...", or 0 if it is not one. */
static long tmp_pid(const char *name)
{
    if (strncmp(name, "sl-", 3)) return 0;
    char *end;
    long pid = strtol(name + 3, &end, 10);
    return pid > 0 && *end == '-' ? pid : 0;
}

int lk_tmp_gc(const char *tmp_dir)
{
    DIR *d = opendir(tmp_dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = tmp_pid(de->d_name);
        if (!pid || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer still runs */
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", tmp_dir, de->d_name);
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    if (removed)
        lg_info("lake", "%s: removed %d temp files of writers that are gone", tmp_dir, removed);
    return removed;
}

/* ---- statistics from the writer ------------------------------------------------- */

static void val_text(const pq_value *v, pq_type t, char *out, size_t n, int is_max)
{
    char tmp[48];
    switch (t) {
    case PQ_BOOL: snprintf(out, n, "%s", v->u.i ? "true" : "false"); break;
    case PQ_TIMESTAMP: ut_ts_format(tmp, v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_DATE: ut_date_format(tmp, (int32_t)v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_DOUBLE: case PQ_FLOAT: ut_fmt_double(tmp, v->u.d); snprintf(out, n, "%s", tmp); break;
    case PQ_TIME: ut_time_format(tmp, v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_TIMESTAMP_NTZ: ut_ts_format_ntz(tmp, v->u.i); snprintf(out, n, "%s", tmp); break;
    case PQ_STRING:
        if (v->u.s.n >= n) { /* a truncated min is still a lower bound; a max is not */
            if (is_max) out[0] = 0;
            else snprintf(out, n, "%.*s", (int)(n - 1), (const char *)v->u.s.p);
        } else {
            snprintf(out, n, "%.*s", (int)v->u.s.n, (const char *)v->u.s.p);
        }
        break;
    default: snprintf(out, n, "%lld", (long long)v->u.i); break;
    }
}

/* f->stats from the closed writer w (the catalog's text form). */
static void stats_from_writer(const pq_writer *w, ct_file *f)
{
    int nc = pq_writer_num_columns(w);
    f->stats = ut_calloc((size_t)nc + 1, sizeof *f->stats);
    f->nstats = nc;
    for (int c = 0; c < nc; c++) {
        pq_type t;
        const char *name = pq_writer_column(w, c, &t);
        ct_colstat *cs = &f->stats[c];
        snprintf(cs->name, sizeof cs->name, "%s", name);
        pq_stats st;
        if (pq_writer_column_stats(w, c, &st)) continue;
        cs->nulls = st.null_count;
        if (!st.has_min_max) continue;
        if (t == PQ_BYTES) continue; /* binary: no text bounds (the SQL engine compares blobs
                                        by bytes, but the catalog's text is not them) */
        cs->has_minmax = 1;
        if (t == PQ_DECIMAL) { /* exact text: the writer's stats as doubles would round */
            pq_dec128 mn, mx;
            int scale;
            cs->has_minmax = pq_writer_column_decimal_stats(w, c, &mn, &mx, &scale) == 1 &&
                             pq_decimal_format(mn.hi, mn.lo, scale, cs->min, sizeof cs->min) > 0 &&
                             pq_decimal_format(mx.hi, mx.lo, scale, cs->max, sizeof cs->max) > 0;
            continue;
        }
        val_text(&st.min, t, cs->min, sizeof cs->min, 0);
        val_text(&st.max, t, cs->max, sizeof cs->max, 1);
        if (!cs->max[0] && t == PQ_STRING) cs->has_minmax = 0;
    }
}

/* ---- the landing ------------------------------------------------------------------ */

int lk_land_describe(const lk_land_file *lf, ct_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (pq_writer_close(lf->w, err, errlen)) return -1;
    int pl = snprintf(f->path, sizeof f->path, "%s%s%s", lf->partition,
                      lf->partition[0] ? "/" : "", lf->name);
    if (pl < 0 || (size_t)pl >= sizeof f->path ||
        strlen(lf->partition) >= sizeof f->partition)
        return ut_err(err, errlen, "file %s/%s: path over %zu bytes", lf->partition, lf->name,
                      sizeof f->path - 1);
    snprintf(f->partition, sizeof f->partition, "%s", lf->partition);
    f->rows = pq_writer_rows(lf->w);
    f->bytes = pq_writer_bytes(lf->w);
    f->schema_version = lf->schema_version;
    f->min_offset = lf->min_offset;
    f->max_offset = lf->max_offset;
    f->created_ms = lk__now_ms();
    stats_from_writer(lf->w, f);
    return 0;
}

static char *store_key(const lk_landing *l, int table, const ct_file *f)
{
    ut_buf b = {0};
    ut_buf_printf(&b, "%s/%s", l->tables[table], f->path);
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

/* Split the files' rows by table into the change (adds point into rows). */
static void group_by_table(lk_landing *l, const int *table, ct_file *rows, int n,
                           ct_file *sorted)
{
    int k = 0;
    for (int t = 0; t < l->change.ntables; t++) {
        l->change.tables[t].add = sorted + k;
        l->change.tables[t].nadd = 0;
        for (int i = 0; i < n; i++)
            if (table[i] == t) {
                sorted[k++] = rows[i];
                l->change.tables[t].nadd++;
            }
    }
}

/* The files stored at their keys: ONE ct_apply, then the replaced files to
 * the trash.  0 / -1. */
static int commit(lk_landing *l, const int *table, ct_file *rows, int n, char *err,
                  size_t errlen)
{
    ct_file *sorted = ut_calloc((size_t)n + 1, sizeof *sorted);
    group_by_table(l, table, rows, n, sorted);
    int rc = ct_apply(l->cat, &l->change, err, errlen);
    free(sorted);
    if (rc) return -1;
    for (int t = 0; t < l->change.ntables; t++) { /* committed: now out of the readers' way */
        ct_table_change *tc = &l->change.tables[t];
        assert(!tc->nremove || (l->removed[t] && l->removed[t][0].id == tc->remove[0]));
        if (tc->nremove && l->removed[t]) /* (else left for the trash's deletion) */
            lk_trash_files(l->store, l->tables[t], l->removed[t], tc->nremove);
        if (tc->nreplaced) lk_trash_files(l->store, l->tables[t], tc->replaced, tc->nreplaced);
        ct_files_free(tc->replaced, tc->nreplaced);
        tc->replaced = NULL; /* (nreplaced stays: how many it replaced) */
    }
    l->bytes = 0;
    for (int i = 0; i < n; i++) l->bytes += (uint64_t)rows[i].bytes;
    return 0;
}

int lk_land(lk_landing *l, lk_land_file *files, int n, char *err, size_t errlen)
{
    ct_file *rows = ut_calloc((size_t)n + 1, sizeof *rows);
    char **keys = ut_calloc((size_t)n + 1, sizeof *keys);
    int *table = ut_calloc((size_t)n + 1, sizeof *table);
    int rc = -1, stored = 0;
    for (int i = 0; i < n; i++) {
        assert(files[i].table >= 0 && files[i].table < l->change.ntables);
        table[i] = files[i].table;
        if (lk_land_describe(&files[i], &rows[i], err, errlen)) goto done;
        keys[i] = store_key(l, table[i], &rows[i]);
        if (st_move_file(l->store, keys[i], files[i].tmp, err, errlen)) goto done;
        stored = i + 1;
    }
    rc = commit(l, table, rows, n, err, errlen);
done:
    for (int i = 0; rc && i < n; i++) {
        char e2[300];
        if (i < stored && st_delete(l->store, keys[i], e2, sizeof e2))
            lg_warn("lake", "%s (left for garbage collection)", e2);
        unlink(files[i].tmp); /* gone once stored; else garbage */
    }
    for (int i = 0; i < n; i++) {
        free(rows[i].stats);
        free(keys[i]);
    }
    free(rows);
    free(keys);
    free(table);
    return rc;
}

int lk_land_stored(lk_landing *l, const lk_stored_file *files, int n, char *err, size_t errlen)
{
    ct_file *rows = ut_calloc((size_t)n + 1, sizeof *rows);
    char **keys = ut_calloc((size_t)n + 1, sizeof *keys);
    int *table = ut_calloc((size_t)n + 1, sizeof *table);
    int rc = -1, moved = 0;
    for (int i = 0; i < n; i++) {
        assert(files[i].table >= 0 && files[i].table < l->change.ntables);
        table[i] = files[i].table;
        rows[i] = *files[i].file;
        rows[i].created_ms = lk__now_ms();
        keys[i] = store_key(l, table[i], &rows[i]);
        int h = st_head(l->store, keys[i], NULL, NULL, err, errlen);
        if (h > 0) ut_err(err, errlen, "%s exists already", keys[i]); /* never over one */
        if (h != 0) goto done;
        int m = st_rename(l->store, files[i].key, keys[i], err, errlen);
        if (m == 0) ut_err(err, errlen, "staged file %s is gone", files[i].key);
        if (m != 1) goto done;
        moved = i + 1;
    }
    rc = commit(l, table, rows, n, err, errlen);
done:
    for (int i = 0; rc && i < moved; i++) { /* back where it was staged */
        char e2[300];
        if (st_rename(l->store, keys[i], files[i].key, e2, sizeof e2) < 0)
            lg_warn("lake", "%s (left for garbage collection)", e2);
    }
    for (int i = 0; i < n; i++) free(keys[i]);
    free(rows);
    free(keys);
    free(table);
    return rc;
}

/* ---- objects a killed writer stored but never committed ---------------------------- */

typedef struct orphan_ctx {
    ct_catalog *cat;
    st_store *store;
    size_t plen;         /* length of "<table>/" */
    int64_t table_id;    /* 0: the table does not exist (nothing is known) */
    int64_t now_ms;
    int removed;
    char err[300];
} orphan_ctx;

void lk_writer_file_name(char *out, long long stamp_us, int i)
{
    snprintf(out, LK_WRITER_NAME_MAX, "part-q%lld-%ld-%04d.parquet", stamp_us, (long)getpid(), i);
}

/* The pid in a CTAS/INSERT object name ".../part-q<µs>-<pid>-<i>.parquet"
 * (and its time stamp, µs, into *stamp), or 0. */
static long object_pid(const char *key, long long *stamp)
{
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    long pid;
    int used = 0;
    if (sscanf(base, "part-q%lld-%ld-%*d.parquet%n", stamp, &pid, &used) < 2 || !used ||
        base[used])
        return 0;
    return pid > 0 ? pid : 0;
}

static int orphan_one(void *arg, const char *key, uint64_t size, int64_t mtime_ms)
{
    orphan_ctx *g = arg;
    (void)size;
    long long stamp = 0;
    long pid = object_pid(key, &stamp);
    if (!pid) return 0;
    /* a pid gone here may be a living writer on another machine sharing the
     * lake directory (or in another pid namespace), between its store and
     * its commit: only a name stamped LK_ORPHAN_GRACE_MS ago is its orphan */
    int gone = !st_is_s3(g->store) && pid != (long)getpid() && kill((pid_t)pid, 0) < 0 &&
               errno == ESRCH && g->now_ms - stamp / 1000 > LK_ORPHAN_GRACE_MS;
    if (!gone && g->now_ms - mtime_ms < LK_ORPHAN_AGE_MS) return 0; /* its writer may still commit */
    if (g->table_id) {
        int known = ct_file_known(g->cat, g->table_id, key + g->plen, g->err, sizeof g->err);
        if (known != 0) return known < 0 ? -1 : 0;
    }
    if (st_delete(g->store, key, g->err, sizeof g->err) == 0) g->removed++;
    return 0;
}

int lk_orphan_gc(ct_catalog *cat, st_store *store, const char *table, int64_t table_id,
                 char *err, size_t errlen)
{
    char prefix[200];
    if (snprintf(prefix, sizeof prefix, "%s/", table) >= (int)sizeof prefix)
        return ut_err(err, errlen, "table name %.40s… too long", table);
    orphan_ctx g = {cat, store, strlen(prefix), table_id, lk__now_ms(), 0, ""};
    int rc = st_list(store, prefix, orphan_one, &g, err, errlen);
    if (rc > 0) return ut_err(err, errlen, "%s", g.err);
    if (rc < 0) return -1;
    if (g.removed)
        lg_info("lake", "table %s: removed %d files stored by writers that died before their "
                        "commit", table, g.removed);
    return g.removed;
}
