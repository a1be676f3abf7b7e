/* sluice tables / describe / ddl — what the catalog (DIR/catalog.db) holds.
 *
 *   sluice tables [--format table|json]      one line per table
 *   sluice describe TABLE [--json] [--files] columns, schema history, partitions, files
 *   sluice ddl TABLE --dialect D [--location URI] [--schema NAME]
 *                                            CREATE statement for trino|athena|spark|duckdb
 *
 * All three only read the catalog (safe while the server runs: WAL readers
 * never block the writer).  A missing catalog file is not created: `tables`
 * prints nothing, the others report an unknown table.  Exit codes: 0 ok, 1
 * failure (unknown table, unreadable catalog), 2 usage error. */
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DATA "./sluice-data"

/* Open DIR/catalog.db if it exists.  *c = NULL and 0 when it does not; 1
 * (after printing the error) when it cannot be opened. */
static int open_catalog(const char *cmd, const char *data, ct_catalog **c)
{
    char path[4096], err[1024];
    *c = NULL;
    if (snprintf(path, sizeof path, "%s/catalog.db", data) >= (int)sizeof path) {
        cli_errorf(cmd, "--data path too long");
        return 1;
    }
    if (access(path, F_OK) != 0) return 0;
    *c = ct_open(path, err, sizeof err);
    if (!*c) {
        cli_errorf(cmd, "%s", err);
        return 1;
    }
    return 0;
}

/* "1.5 KiB" etc. into out[32]. */
static void human_bytes(char *out, int64_t n)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0) snprintf(out, 32, "%lld B", (long long)n);
    else snprintf(out, 32, "%.1f %s", v, units[u]);
}

static void unknown_table(const char *cmd, const char *name)
{
    cli_errorf(cmd, "unknown table '%s' (sluice tables lists them)", name);
}

static void write_out(ut_buf *b)
{
    if (b->len) fwrite(b->p, 1, b->len, stdout);
    ut_buf_free(b);
}

/* ---- sluice tables ------------------------------------------------------------ */

enum { TC_NAME, TC_FILES, TC_ROWS, TC_BYTES, TC_PARTS, TC_RANGE, TC_VERSION, TC_STREAM, TC_LOC, TC_N };

/* Print rows[nrows][TC_N] as an aligned table (numbers right-aligned). */
static void print_aligned(char *(*rows)[TC_N], int nrows)
{
    static const int numeric[TC_N] = {0, 1, 1, 1, 1, 0, 1, 0, 0};
    size_t w[TC_N] = {0};
    for (int r = 0; r < nrows; r++)
        for (int k = 0; k < TC_N; k++) {
            size_t n = strlen(rows[r][k]);
            if (n > w[k]) w[k] = n;
        }
    for (int r = 0; r < nrows; r++) {
        for (int k = 0; k < TC_N; k++) {
            const char *sep = k + 1 < TC_N ? "  " : "";
            if (k + 1 == TC_N) printf("%s", rows[r][k]);
            else if (numeric[k] && r > 0) printf("%*s%s", (int)w[k], rows[r][k], sep);
            else printf("%-*s%s", (int)w[k], rows[r][k], sep);
        }
        printf("\n");
    }
}

/* The views after the tables: rows marked "view" (no files, rows or
 * partitions of their own).  The rows there are now. */
static int view_rows(const ct_view *v, int nv, char *(**rows)[TC_N], int nrows)
{
    if (nv) *rows = ut_realloc(*rows, (size_t)(nrows + nv) * sizeof **rows);
    for (int i = 0; i < nv; i++) {
        char **r = (*rows)[nrows++], loc[400];
        r[TC_NAME] = ut_strdup(v[i].name);
        for (int k = TC_FILES; k < TC_LOC; k++) r[k] = ut_strdup("-");
        free(r[TC_VERSION]);
        r[TC_VERSION] = ut_strdup("view");
        cli__view_location(&v[i], loc, sizeof loc);
        r[TC_LOC] = ut_strdup(loc);
    }
    return nrows;
}

int cli_tables(int argc, char **argv)
{
    const char *data = DEFAULT_DATA, *format = "table";
    cli_flag flags[] = {
        {"data", 'd', CLI_STR, &data, "DIR", "data directory (the catalog is DIR/catalog.db)"},
        {"format", 'f', CLI_STR, &format, "FMT", "table or json"},
        {0}};
    cli_cmd cmd = {"tables", "", "list the lake tables in the catalog: files, rows, bytes, "
                                 "partitions, schema version, stream, location; then the views "
                                 "(VERSION view)",
                   flags, 0, 0, NULL};
    char *pos[1], err[1024];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    int json = !strcmp(format, "json");
    if (!json && strcmp(format, "table")) {
        cli_errorf("tables", "--format must be table or json, not '%s'", format);
        return 2;
    }
    ct_catalog *c;
    if (open_catalog("tables", data, &c)) return 1;
    char **names = NULL;
    int n = 0;
    if (c && (n = ct_tables(c, &names, err, sizeof err)) < 0) {
        cli_errorf("tables", "%s", err);
        ct_close(c);
        return 1;
    }
    if (json) { /* the tables, then the views, as GET /v1/tables lists them */
        ut_buf out = {0};
        err[0] = 0;
        rc = ct_tables_json(c, &out, err, sizeof err) ? 1 : 0;
        if (rc) cli_errorf("tables", "%s", err);
        else write_out(&out);
        ut_buf_free(&out);
        ct_names_free(names, n);
        ct_close(c);
        return rc;
    }
    char *(*rows)[TC_N] = ut_calloc((size_t)n + 1, sizeof *rows);
    static const char *const head[TC_N] = {"NAME",  "FILES",   "ROWS",   "BYTES",   "PARTITIONS",
                                           "RANGE", "VERSION", "STREAM", "LOCATION"};
    for (int k = 0; k < TC_N; k++) rows[0][k] = ut_strdup(head[k]);
    int nrows = 1;
    rc = 0;
    for (int i = 0; i < n; i++) {
        ct_table t;
        struct ct_table_stats st;
        if (ct_table_get(c, names[i], &t, err, sizeof err) != 1 ||
            ct_table_stats(c, t.id, &st, err, sizeof err) < 0) {
            cli_errorf("tables", "%s", err);
            rc = 1;
            break;
        }
        char hb[32], buf[600];
        char **r = rows[nrows++];
        r[TC_NAME] = ut_strdup(t.name);
        snprintf(buf, sizeof buf, "%lld", (long long)st.files);
        r[TC_FILES] = ut_strdup(buf);
        snprintf(buf, sizeof buf, "%lld", (long long)st.rows);
        r[TC_ROWS] = ut_strdup(buf);
        human_bytes(hb, st.bytes);
        r[TC_BYTES] = ut_strdup(hb);
        snprintf(buf, sizeof buf, "%lld", (long long)st.partitions);
        r[TC_PARTS] = ut_strdup(buf);
        if (!st.partitions) snprintf(buf, sizeof buf, "-");
        else if (!strcmp(st.min_partition, st.max_partition))
            snprintf(buf, sizeof buf, "%s", st.min_partition[0] ? st.min_partition : "-");
        else snprintf(buf, sizeof buf, "%s..%s", st.min_partition, st.max_partition);
        r[TC_RANGE] = ut_strdup(buf);
        snprintf(buf, sizeof buf, "%d", t.version);
        r[TC_VERSION] = ut_strdup(buf);
        r[TC_STREAM] = ut_strdup(t.stream[0] ? t.stream : "-");
        r[TC_LOC] = ut_strdup(t.location);
        ct_table_free(&t);
    }
    ct_view *views = NULL;
    int nv = rc == 0 && c ? ct_views(c, &views, err, sizeof err) : 0;
    if (nv < 0) {
        cli_errorf("tables", "%s", err);
        rc = 1, nv = 0;
    }
    nrows = view_rows(views, nv, &rows, nrows);
    ct_views_free(views, nv);
    if (rc == 0) {
        if (n + nv) print_aligned(rows, nrows);
        else fprintf(stderr, "sluice tables: no tables in %s/catalog.db yet\n", data);
    }
    for (int r = 0; r < nrows; r++)
        for (int k = 0; k < TC_N; k++) free(rows[r][k]);
    free(rows);
    ct_names_free(names, n);
    ct_close(c);
    return rc;
}

/* ---- sluice describe ------------------------------------------------------------ */

static void describe_text(ut_buf *b, const ct_description *d, int with_files)
{
    const ct_table *t = &d->t;
    const ct_schema_version *h = d->history;
    const ct_part_sum *ps = d->parts;
    const ct_file *f = d->files;
    int nh = d->nhistory, np = d->nparts, nf = d->nfiles;
    char ts[40], hb[32];
    int64_t rows = 0, bytes = 0;
    for (int i = 0; i < nf; i++) {
        rows += f[i].rows;
        bytes += f[i].bytes;
    }
    ct_ms_text(ts, t->created_ms);
    human_bytes(hb, bytes);
    ut_buf_printf(b,
                  "table:       %s\nlocation:    %s\npartitioned: %s\nstream:      %s\n"
                  "created:     %s\nfiles:       %d (%lld rows, %s) in %d partitions\n",
                  t->name, t->location, t->partition[0] ? t->partition : "(no)",
                  t->stream[0] ? t->stream : "-", ts, nf, (long long)rows, hb, np);
    size_t w = 4, tw = 9; /* the widest name; type ("timestamp", "decimal(38,10)") */
    char ty[CT_TYPE_TEXT_MAX];
    for (int i = 0; i < t->ncols; i++) {
        if (strlen(t->cols[i].name) > w) w = strlen(t->cols[i].name);
        size_t n = strlen(ct_column_type_text(&t->cols[i], ty, sizeof ty));
        if (n > tw) tw = n;
    }
    ut_buf_printf(b, "\ncolumns (schema v%d):\n", t->version);
    for (int i = 0; i < t->ncols; i++)
        ut_buf_printf(b, "  %-*s  %-*s  added in v%d\n", (int)w, t->cols[i].name, (int)tw,
                      ct_column_type_text(&t->cols[i], ty, sizeof ty), t->cols[i].added_version);
    if (!t->ncols) ut_buf_puts(b, "  (none yet)\n");
    ut_buf_puts(b, "\nschema history:\n");
    for (int i = 0; i < nh; i++) {
        ct_ms_text(ts, h[i].created_ms);
        ut_buf_printf(b, "  v%-3d %-27s %s\n", h[i].version, ts, h[i].change);
    }
    if (!nh) ut_buf_puts(b, "  (none yet)\n");
    w = 9;
    for (int i = 0; i < np; i++)
        if (strlen(ps[i].partition) > w) w = strlen(ps[i].partition);
    ut_buf_puts(b, "\npartitions:\n");
    for (int i = 0; i < np; i++) {
        human_bytes(hb, ps[i].bytes);
        ut_buf_printf(b, "  %-*s  %6lld files  %12lld rows  %10s\n", (int)w,
                      ps[i].partition[0] ? ps[i].partition : "(all)", (long long)ps[i].files,
                      (long long)ps[i].rows, hb);
    }
    if (!np) ut_buf_puts(b, "  (no files)\n");
    if (!with_files) return;
    ut_buf_puts(b, "\nfiles:\n");
    for (int i = 0; i < nf; i++) {
        ct_ms_text(ts, f[i].created_ms);
        human_bytes(hb, f[i].bytes);
        ut_buf_printf(b, "  %s  (id %lld, %lld rows, %s, schema v%d, %s", f[i].path,
                      (long long)f[i].id, (long long)f[i].rows, hb, f[i].schema_version, ts);
        if (f[i].min_offset >= 0)
            ut_buf_printf(b, ", offsets %lld..%lld", (long long)f[i].min_offset,
                          (long long)f[i].max_offset);
        ut_buf_puts(b, ")\n");
        for (int j = 0; j < f[i].nstats; j++) {
            const ct_colstat *s = &f[i].stats[j];
            ut_buf_printf(b, "      %s:", s->name);
            if (s->has_minmax) ut_buf_printf(b, " min %s max %s", s->min, s->max);
            ut_buf_printf(b, " nulls %lld\n", (long long)s->nulls);
        }
    }
    if (!nf) ut_buf_puts(b, "  (none)\n");
}

/* Lineage: the job that last wrote the table and what that run read. */
static void producer_text(ut_buf *b, const ct_description *d)
{
    char ws[40];
    if (!d->has_producer) return;
    ut_ts_format(ws, d->producer.window_start / 1000000 * 1000000);
    ut_buf_printf(b, "producer:    job %s (last run %lld, %s, window from %s)\nreads:       %s\n",
                  d->producer.job, (long long)d->producer.id, ct_run_state_name(d->producer.state),
                  ws, d->reads[0] ? d->reads : "-");
}

int cli_describe(int argc, char **argv)
{
    const char *data = DEFAULT_DATA;
    int json = 0, files = 0;
    cli_flag flags[] = {
        {"data", 'd', CLI_STR, &data, "DIR", "data directory (the catalog is DIR/catalog.db)"},
        {"json", 'j', CLI_BOOL, &json, NULL, "one JSON object instead of text"},
        {"files", 'F', CLI_BOOL, &files, NULL, "also list every live file with its column stats"},
        {0}};
    cli_cmd cmd = {"describe", "TABLE|VIEW", "show a table's columns (and the schema version "
                                             "that added each), schema history, partitions and "
                                             "files; a view's key, order and definition",
                   flags, 1, 1, NULL};
    char *pos[1], err[1024];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    ct_catalog *c;
    ct_description d;
    if (open_catalog("describe", data, &c)) return 1;
    int found = ct_describe(c, pos[0], &d, err, sizeof err);
    int view = found == 0 && c ? cli__view_describe(c, pos[0], json) : 0;
    if (view || found <= 0) {
        if (view) rc = view > 0 ? 0 : 1;
        else if (found == 0) unknown_table("describe", pos[0]), rc = 1;
        else cli_errorf("describe", "%s", err), rc = 1;
        ct_description_free(&d);
        ct_close(c);
        return rc;
    }
    ut_buf out = {0};
    if (json) {
        ct_description_json(&d, files ? -1 : 0, &out);
    } else {
        describe_text(&out, &d, files);
        ut_buf tail = {0};
        producer_text(&tail, &d);
        if (tail.len) { /* after the first block of fields */
            const char *cut = strstr(ut_buf_cstr(&out), "\ncolumns");
            size_t at = cut ? (size_t)(cut - (const char *)out.p) : out.len;
            ut_buf merged = {0};
            ut_buf_put(&merged, out.p, at);
            ut_buf_puts(&merged, "\n");
            ut_buf_put(&merged, tail.p, tail.len - 1);
            ut_buf_puts(&merged, ut_buf_cstr(&out) + at);
            ut_buf_free(&out);
            out = merged;
        }
        ut_buf_free(&tail);
    }
    write_out(&out);
    ct_description_free(&d);
    ct_close(c);
    return 0;
}

/* ---- sluice ddl ------------------------------------------------------------------ */

int cli_ddl(int argc, char **argv)
{
    const char *data = DEFAULT_DATA, *dialect = NULL, *location = NULL, *schema = NULL;
    cli_flag flags[] = {
        {"data", 'd', CLI_STR, &data, "DIR", "data directory (the catalog is DIR/catalog.db)"},
        {"dialect", 'D', CLI_STR, &dialect, "NAME", "trino, athena, spark or duckdb (required)"},
        {"location", 'l', CLI_STR, &location, "URI",
         "table root the engine reads (default: the catalog's; Athena needs s3://)"},
        {"schema", 's', CLI_STR, &schema, "NAME",
         "qualify the table name (Trino's partition sync uses it; default 'default')"},
        {0}};
    cli_cmd cmd = {"ddl", "TABLE|VIEW", "print the statement that makes Trino, Athena, Spark or "
                                        "DuckDB read the table in place (Parquet, Hive-style "
                                        "partitions), or a view's CREATE VIEW",
                   flags, 1, 1,
                   "Partition columns (dt, hr) are strings; local locations become file:// URIs\n"
                   "for Trino and Spark.  docs/catalog.md explains each dialect.\n"};
    char *pos[1], err[1024];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    static const char *const known[] = {"trino", "athena", "spark", "duckdb"};
    int ok = 0;
    for (int i = 0; i < 4; i++) ok |= dialect && !strcmp(dialect, known[i]);
    if (!ok) {
        if (dialect) cli_errorf("ddl", "unknown --dialect '%s' (trino, athena, spark or duckdb)", dialect);
        else cli_errorf("ddl", "--dialect is required (trino, athena, spark or duckdb)");
        return 2;
    }
    ct_catalog *c;
    ct_table t;
    memset(&t, 0, sizeof t);
    if (open_catalog("ddl", data, &c)) return 1;
    rc = 1;
    int found = c ? ct_table_get(c, pos[0], &t, err, sizeof err) : 0;
    if (found < 0) {
        cli_errorf("ddl", "%s", err);
        goto done;
    }
    int view = found == 0 && c ? cli__view_ddl(c, pos[0], dialect, schema) : 0;
    if (view) {
        rc = view > 0 ? 0 : 1;
        goto done;
    }
    if (found == 0) {
        unknown_table("ddl", pos[0]);
        goto done;
    }
    const char *loc = location && *location ? location : t.location;
    if (!strcmp(dialect, "athena") && strncmp(loc, "s3://", 5)) {
        cli_errorf("ddl",
                   "Athena reads only s3:// locations; table '%s' is at '%s' (pass --location "
                   "s3://BUCKET/PREFIX/%s)",
                   t.name, loc, t.name);
        rc = 2;
        goto done;
    }
    struct ct_table_stats st;
    if (ct_table_stats(c, t.id, &st, err, sizeof err) < 0) {
        cli_errorf("ddl", "%s", err);
        goto done;
    }
    char *sql = ct_ddl(&t, &st, dialect, location, schema, err, sizeof err);
    if (!sql) {
        cli_errorf("ddl", "%s", err);
        goto done;
    }
    fputs(sql, stdout);
    free(sql);
    rc = 0;
done:
    ct_table_free(&t);
    ct_close(c);
    return rc;
}
