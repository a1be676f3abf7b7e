/* sluice sql — SQL over the lake (SQLite with lake virtual tables). */
#include "cli/cli.h"
#include "config/config.h"
#include "log/log.h"
#include "runtime/runtime.h"
#include "sql/output.h"
#include "sql/sql.h"
#include "util/util.h"

#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SQL_FILE (64u << 20)

static const char *more =
    "Tables: every lake table by name (t1_events) or as lake.t1_events, with its partition\n"
    "columns (dt, hr) as TEXT; a stream's table includes the journal tail (records not yet\n"
    "in a Parquet file).  read_parquet('glob'), read_csv('path'), read_ndjson('path') read\n"
    "files.  Timestamps are TEXT 'YYYY-MM-DDTHH:MM:SS.ffffffZ'.\n"
    "Output: an aligned table on a terminal, CSV otherwise; -o FILE picks the format from\n"
    "the extension (.parquet .csv .tsv .ndjson .jsonl .json) unless --format is given;\n"
    "--format parquet without -o streams the file to stdout (row groups of 65,536 rows).\n"
    "With no query on a terminal: an interactive shell (history in ~/.sluice_sql_history;\n"
    ".tables, .schema T, .format F, .explain, .quit).  See docs/sql.md.\n";

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

char *cli_read_file(const char *path, size_t cap, size_t *len, char *err, size_t errlen)
{
    FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "rb");
    if (!f) {
        ut_err(err, errlen, "cannot open %s", path);
        return NULL;
    }
    ut_buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        ut_buf_put(&b, tmp, n);
        if (b.len > cap) {
            ut_err(err, errlen, "%s: over %zu bytes", path, cap);
            ut_buf_free(&b);
            if (f != stdin) fclose(f);
            return NULL;
        }
    }
    if (f != stdin) fclose(f);
    if (len) *len = b.len;
    ut_buf_putc(&b, 0);
    return (char *)b.p;
}

static void print_stats(sq_engine *e, FILE *f)
{
    sq_stats s;
    sq_get_stats(e, &s);
    fprintf(f,
            "-- scans %lld: partitions %lld of %lld, files %lld of %lld, row groups %lld of %lld "
            "(in opened files), bytes %lld of %lld, rows %lld from files + %lld from the journal "
            "tail%s\n",
            (long long)s.scans, (long long)s.partitions_read, (long long)s.partitions_total,
            (long long)s.files_read, (long long)s.files_total, (long long)s.row_groups_read,
            (long long)s.row_groups_total, (long long)s.bytes_read, (long long)s.bytes_total,
            (long long)s.rows_read, (long long)s.tail_records,
            s.limit_stops ? ", stopped early by LIMIT" : "");
    if (sq_path_note(e)[0]) fprintf(f, "-- path %s\n", sq_path_note(e));
}

static int plan_row(void *ctx, sqlite3_stmt *st)
{
    fprintf(ctx, "-- plan: %s\n", (const char *)sqlite3_column_text(st, 3));
    return 0;
}

/* Run one query text to out (or a file).  0 or 1. */
static int run(sq_engine *e, const char *sql, sq_format fmt, const char *outpath, int explain)
{
    char err[2048];
    FILE *f = stdout;
    if (outpath && fmt != SQ_FMT_PARQUET && !(f = fopen(outpath, "w"))) {
        lg_error("sql", "cannot write %s", outpath);
        return 1;
    }
    if (explain) {
        /* the plan of the (last) statement; table functions need their rewrite, so skip errors */
        ut_buf b = {0};
        ut_buf_printf(&b, "EXPLAIN QUERY PLAN %s", sql);
        ut_buf_putc(&b, 0);
        sq_sink ps = {stderr, NULL, plan_row};
        (void)sq_query(e, (char *)b.p, &ps, err, sizeof err);
        ut_buf_free(&b);
    }
    sq_out *o = sq_out_create(f, fmt, outpath);
    sq_sink s;
    sq_out_sink(o, &s);
    int rc = 0;
    if (sq_query(e, sql, &s, err, sizeof err) < 0) {
        const char *oe = sq_out_error(o);
        lg_error("sql", "%s", oe[0] ? oe : err);
        rc = 1;
    }
    /* A failed Parquet result is not finished: no footer on stdout (a reader
     * refuses it), no -o file (its .tmp is removed), as the server does. */
    if (!(rc && fmt == SQ_FMT_PARQUET) && sq_out_finish(o)) {
        lg_error("sql", "%s", sq_out_error(o));
        rc = 1;
    }
    sq_out_destroy(o);
    if (f != stdout) fclose(f);
    if (explain) print_stats(e, stderr);
    return rc;
}

/* A complete statement: ends with ';' outside quotes / comments. */
static int complete(const char *s)
{
    return sqlite3_complete(s);
}

static int shell(sq_engine *e, sq_format fmt, int explain)
{
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (home) {
        snprintf(hist, sizeof hist, "%s/.sluice_sql_history", home);
        using_history();
        read_history(hist);
    }
    printf("sluice sql — end statements with ';', .help for commands, .quit to leave\n");
    ut_buf acc = {0};
    char *line;
    while ((line = readline(acc.len ? "   ...> " : "sluice> "))) {
        if (!acc.len && line[0] == '.') {
            add_history(line);
            char cmd[64] = "", arg[256] = "";
            sscanf(line, "%63s %255s", cmd, arg);
            if (!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit")) {
                free(line);
                break;
            } else if (!strcmp(cmd, ".tables")) {
                run(e, "SELECT name FROM lake.sqlite_master WHERE type='table' ORDER BY 1", fmt,
                    NULL, 0);
            } else if (!strcmp(cmd, ".schema") && arg[0]) {
                char q[512];
                snprintf(q, sizeof q, "SELECT name, type FROM pragma_table_info('%s', 'lake')", arg);
                run(e, q, fmt, NULL, 0);
            } else if (!strcmp(cmd, ".format") && sq_format_parse(arg, &fmt) == 0) {
            } else if (!strcmp(cmd, ".explain")) {
                explain = !explain;
                printf("explain %s\n", explain ? "on" : "off");
            } else {
                printf(".tables | .schema TABLE | .format table|csv|tsv|ndjson|json | .explain "
                       "| .quit\n");
            }
            free(line);
            continue;
        }
        ut_buf_puts(&acc, line);
        ut_buf_putc(&acc, '\n');
        free(line);
        ut_buf_putc(&acc, 0);
        acc.len--;
        if (complete((char *)acc.p)) {
            char *h = ut_strdup((char *)acc.p);
            size_t hl = strlen(h);
            if (hl && h[hl - 1] == '\n') h[hl - 1] = 0;
            add_history(h);
            free(h);
            run(e, (char *)acc.p, fmt, NULL, explain);
            ut_buf_reset(&acc);
        }
    }
    ut_buf_free(&acc);
    if (hist[0]) write_history(hist);
    return 0;
}

int cli_sql(int argc, char **argv)
{
    const char *data = NULL, *config = NULL, *format = NULL, *outpath = NULL, *file = NULL;
    long timeout_ms = 0, memory_mb = 0;
    int explain = 0, no_tail = 0;
    const char *path = NULL;
    cli_flag flags[] = {
        {"data", 'd', CLI_STR, &data, "DIR", "data directory (default: the config's, ./sluice-data)"},
        {"config", 'c', CLI_STR, &config, "FILE", "YAML configuration (lake store, event time fields)"},
        {"format", 'F', CLI_STR, &format, "FMT", "table|csv|tsv|ndjson|json|parquet"},
        {"output", 'o', CLI_STR, &outpath, "FILE", "write the result to FILE (.parquet, .csv, ...)"},
        {"file", 'f', CLI_STR, &file, "FILE", "read the SQL from FILE ('-' = stdin)"},
        {"explain", 'e', CLI_BOOL, &explain, NULL, "print the plan and what was read to stderr"},
        {"timeout", 't', CLI_INT, &timeout_ms, "MS", "interrupt a statement after MS milliseconds"},
        {"memory", 'm', CLI_INT, &memory_mb, "MIB", "SQLite heap limit in MiB"},
        {"no-tail", 0, CLI_BOOL, &no_tail, NULL, "do not read the journal tail (files only)"},
        {"path", 0, CLI_STR, &path, "P", "aggregates: auto|fast|sqlite (default: $SLUICE_SQL_PATH, else auto)"},
        {0}};
    cli_cmd cmd = {"sql", "[\"SQL\"]", "query the lake with SQL (SQLite)", flags, 0, 1, more};
    char *pos[1];
    int npos, rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    sq_format fmt = isatty(1) ? SQ_FMT_TABLE : SQ_FMT_CSV;
    if (outpath) {
        if (ends_with(outpath, ".parquet")) fmt = SQ_FMT_PARQUET;
        else if (ends_with(outpath, ".csv")) fmt = SQ_FMT_CSV;
        else if (ends_with(outpath, ".tsv")) fmt = SQ_FMT_TSV;
        else if (ends_with(outpath, ".ndjson") || ends_with(outpath, ".jsonl")) fmt = SQ_FMT_NDJSON;
        else if (ends_with(outpath, ".json")) fmt = SQ_FMT_JSON;
        else fmt = SQ_FMT_CSV;
    }
    if (format && sq_format_parse(format, &fmt)) {
        cli_errorf("sql", "--format wants table|csv|tsv|ndjson|json|parquet, got '%s'", format);
        return 2;
    }
    if (fmt == SQ_FMT_PARQUET && !outpath && isatty(1)) {
        cli_errorf("sql", "--format parquet writes binary: give -o FILE.parquet or redirect stdout");
        return 2;
    }
    if (npos && file) {
        cli_errorf("sql", "give the SQL as an argument or with -f, not both");
        return 2;
    }
    char err[1024];
    cf_config *cf = config ? cf_load(config, err, sizeof err) : cf_default();
    if (!cf) {
        lg_error("sql", "%s", err);
        return 1;
    }
    char *sql = NULL;
    sq_engine *e = NULL;
    rt_opts ro = {.mode = RT_CLIENT, .data_dir = data, .port = -1};
    rt_runtime *rt = rt_create(cf, &ro, err, sizeof err);
    rc = 1;
    if (!rt) {
        lg_error("sql", "%s", err);
        goto fail;
    }
    rt_sql_req q = {0};
    q.timeout_ms = timeout_ms;
    q.memory_limit = (int64_t)memory_mb << 20;
    q.no_tail = no_tail;
    if (path && sq_path_parse(path, &q.agg_path)) {
        lg_error("sql", "--path wants auto|fast|sqlite, got '%s'", path);
        goto fail;
    }
    e = rt_sql_open(rt, &q, err, sizeof err);
    if (!e) {
        lg_error("sql", "%s", err);
        goto fail;
    }
    if (file) {
        sql = cli_read_file(file, MAX_SQL_FILE, NULL, err, sizeof err);
        if (!sql) {
            lg_error("sql", "%s", err);
            goto fail;
        }
    } else if (npos) {
        sql = ut_strdup(pos[0]);
    } else if (isatty(0)) {
        rc = shell(e, isatty(1) ? fmt : SQ_FMT_CSV, explain);
        goto fail;
    } else {
        sql = cli_read_file("-", MAX_SQL_FILE, NULL, err, sizeof err);
        if (!sql) {
            lg_error("sql", "%s", err);
            goto fail;
        }
    }
    rc = run(e, sql, fmt, outpath, explain);
fail:
    free(sql);
    sq_close(e);
    rt_destroy(rt);
    cf_destroy(cf);
    return rc;
}
