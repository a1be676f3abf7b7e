/* sluice convert — NDJSON / CSV / TSV (optionally .gz/.zst) to Parquet. */
#include "cli/cli.h"
#include "convert/convert.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *more =
    "IN is a path or '-' (stdin); gzip and zstd input is detected from its first bytes.\n"
    "The format comes from IN's name (.ndjson .jsonl .json .csv .tsv, before .gz/.zst),\n"
    "else from the data: '{' or '[' first -> NDJSON (a '[' file is one JSON array of\n"
    "records), a first line with more tabs than commas -> TSV, else CSV (header row first).\n"
    "\n"
    "Without --schema the input is read twice (stdin is spooled to $TMPDIR): once to infer\n"
    "each column's type (bool, int64, double, string, timestamp for RFC 3339 strings;\n"
    "nested objects/arrays become JSON-text strings), once to write.  --schema gives the\n"
    "columns instead, e.g. --schema 'id:int64!,ts:timestamp,price:double,tags:string'\n"
    "(types bool int32 int64 float double string timestamp date; '!' = required).  Keys\n"
    "(or CSV header columns) not in the schema reject the record (CSV: stop) unless\n"
    "--ignore-unknown drops them; schema columns absent from a record are null.\n"
    "\n"
    "A record that does not fit (malformed, not an object, a value that does not convert,\n"
    "null/missing required column, duplicate key) is skipped and reported as IN:LINE: why\n"
    "(the first 20); every other record is written.  The output is written to\n"
    "OUT.tmp-PID and renamed into place when complete.\n"
    "\n"
    "Exit status: 0 ok; 1 if more records were rejected than --max-errors allows (the\n"
    "file with the good records is still written) or on failure; 2 usage error.\n";

static int parse_format(const char *s, cv_format *f)
{
    if (!strcasecmp(s, "ndjson") || !strcasecmp(s, "jsonl") || !strcasecmp(s, "json"))
        *f = CV_NDJSON;
    else if (!strcasecmp(s, "csv")) *f = CV_CSV;
    else if (!strcasecmp(s, "tsv")) *f = CV_TSV;
    else return -1;
    return 0;
}

/* The terminal side of a conversion: one progress line redrawn in place
 * (when wanted), rejected records as IN:LINE: why on their own lines. */
typedef struct ui {
    int progress; /* draw the progress line */
    int shown;    /* a progress line is on screen */
} ui;

static void clear_line(ui *u)
{
    if (u->shown) fputs("\r\033[K", stderr);
    u->shown = 0;
}

static void on_progress(const cv_progress *p, void *arg)
{
    ui *u = arg;
    if (!u->progress) return;
    if (p->done) {
        clear_line(u);
        return;
    }
    double mb = (double)p->bytes / 1e6;
    fprintf(stderr, "\r\033[K%s: %lld records, %.1f MB, %.1f MB/s", p->phase,
            (long long)p->records, mb, p->seconds > 0 ? mb / p->seconds : 0.0);
    u->shown = 1;
}

static void on_reject(const char *in, int64_t line, const char *why, void *arg)
{
    clear_line(arg);
    fprintf(stderr, "%s:%lld: %s\n", in, (long long)line, why);
}

int cli_convert(int argc, char **argv)
{
    const char *format = NULL, *schema = NULL, *codec = "zstd";
    long level = -1, rg_rows = -1, page_bytes = -1, sample = -1, max_errors = 0;
    long max_record_mb = -1, max_depth = -1, threads = 0;
    int no_dict = 0, show_progress = 0, quiet = 0, ignore_unknown = 0;
    cli_flag flags[] = {
        {"format", 'f', CLI_STR, &format, "FMT", "input format: ndjson, csv or tsv (default: from name / data)"},
        {"schema", 's', CLI_STR, &schema, "SPEC", "columns as name:type[!],... instead of inferring"},
        {"ignore-unknown", 0, CLI_BOOL, &ignore_unknown, NULL, "drop keys / columns not in the schema"},
        {"sample", 0, CLI_INT, &sample, "N", "infer the schema from the first N records only"},
        {"max-errors", 'e', CLI_INT, &max_errors, "N", "rejected records allowed before exit status 1"},
        {"codec", 'c', CLI_STR, &codec, "NAME", "zstd, snappy, gzip, lz4_raw or none"},
        {"level", 0, CLI_INT, &level, "N", "compression level (default: codec's)"},
        {"row-group-rows", 0, CLI_INT, &rg_rows, "N", "rows per row group (default 122880)"},
        {"threads", 0, CLI_INT, &threads, "N", "worker threads (default: all CPUs); same file for any N"},
        {"page-bytes", 0, CLI_INT, &page_bytes, "N", "target data page size (default 1 MiB)"},
        {"no-dictionary", 0, CLI_BOOL, &no_dict, NULL, "never dictionary-encode"},
        {"max-record-mb", 0, CLI_INT, &max_record_mb, "N", "cap on one record's size in MiB (default 16)"},
        {"max-depth", 0, CLI_INT, &max_depth, "N", "cap on JSON nesting depth (default 64)"},
        {"progress", 'p', CLI_BOOL, &show_progress, NULL, "show progress even if stderr is not a terminal"},
        {"quiet", 'q', CLI_BOOL, &quiet, NULL, "no progress line and no summary"},
        {0}};
    cli_cmd cmd = {"convert", "IN OUT.parquet", "convert NDJSON / CSV / TSV (optionally .gz/.zst) to Parquet",
                   flags, 2, 2, more};
    char *pos[2];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;

    cv_opts o;
    cv_opts_init(&o);
    if (format && parse_format(format, &o.format)) {
        cli_errorf("convert", "--format wants ndjson, csv or tsv, got '%s'", format);
        return 2;
    }
    if (pq_codec_parse(codec, &o.wopts.codec)) {
        cli_errorf("convert", "--codec wants zstd, snappy, gzip, lz4_raw or none, got '%s'", codec);
        return 2;
    }
    if (level >= 0) o.wopts.level = (int)level;
    if (rg_rows > 0) o.wopts.row_group_rows = rg_rows;
    if (page_bytes > 0) o.wopts.page_bytes = (size_t)page_bytes;
    if (max_record_mb > 0) {
        if (max_record_mb > 512) {
            cli_errorf("convert", "--max-record-mb is at most 512");
            return 2;
        }
        o.max_record = (size_t)max_record_mb << 20;
    }
    if (max_depth > 0) o.max_depth = (int)max_depth;
    if (threads < 0 || threads > 256) {
        cli_errorf("convert", "--threads wants 1..256 (0 = all CPUs), got %ld", threads);
        return 2;
    }
    o.threads = (int)threads;
    o.wopts.no_dictionary = no_dict;
    if (schema) { /* a bad spec is a usage error: check it before touching any file */
        char serr[512];
        cv_schema *sc = cv_schema_parse(schema, serr, sizeof serr);
        if (!sc) {
            cli_errorf("convert", "%s", serr);
            return 2;
        }
        cv_schema_destroy(sc);
    }
    o.schema = schema;
    o.sample = sample > 0 ? sample : 0;
    o.max_errors = max_errors;
    o.ignore_unknown = ignore_unknown;
    ui u = {!quiet && (show_progress || isatty(2)), 0};
    o.on_progress = on_progress;
    o.on_reject = on_reject;
    o.report_arg = &u;

    cv_stats st;
    char err[1024];
    if (cv_convert(pos[0], pos[1], &o, &st, err, sizeof err)) {
        if (st.rejected > o.max_report)
            fprintf(stderr, "%s: %lld records rejected\n", pos[0], (long long)st.rejected);
        cli_errorf("convert", "%s", err);
        return 1;
    }
    if (st.rejected > o.max_report)
        fprintf(stderr, "... %lld more rejected records not shown\n",
                (long long)(st.rejected - o.max_report));
    if (!quiet) {
        double s = st.seconds > 0 ? st.seconds : 1e-9;
        fprintf(stderr,
                "%s: %lld rows, %d columns, %lld rejected; %.1f MB in (%.1f MB raw) -> %.1f MB "
                "out in %.2f s (%.0f rows/s, %.1f MB/s)\n",
                pos[1], (long long)st.rows, st.ncols, (long long)st.rejected, st.bytes_in / 1e6,
                st.bytes_raw / 1e6, st.bytes_out / 1e6, st.seconds, (double)st.rows / s,
                st.bytes_raw / 1e6 / s);
    }
    if (st.rejected > 0 && st.rejected > max_errors) {
        fprintf(stderr, "sluice convert: %lld records rejected (--max-errors %ld)\n",
                (long long)st.rejected, max_errors);
        return 1;
    }
    return 0;
}
