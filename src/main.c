/* sluice — command-line dispatch only. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#define SLUICE_VERSION "0.1.0"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"serve", cli_serve, "run the server: HTTP ingest into durable streams, /metrics, /healthz"},
    {"ingest", cli_ingest, "send NDJSON records to a running server"},
    {"tail", cli_tail, "ship log files (nginx, JSON, regex, multiline) to a stream, exactly once"},
    {"read", cli_read, "print a stream's records from the journal on disk"},
    {"tables", cli_tables, "list the lake tables: files, rows, bytes, partitions, schema version"},
    {"describe", cli_describe, "show a table's columns, schema history, partitions and files"},
    {"ddl", cli_ddl, "print CREATE statements for Trino, Athena, Spark or DuckDB to read a table"},
    {"convert", cli_convert, "convert NDJSON / CSV / TSV (optionally .gz/.zst) to Parquet"},
    {"cat", cli_cat, "print the rows of a Parquet file as NDJSON or CSV"},
    {"schema", cli_schema, "show a Parquet file's schema, row groups, encodings and statistics"},
    {"gen", cli_gen, "print realistic sample events (ad impressions, clicks, installs) as NDJSON"},
    {"config", cli_config, "validate a config file (--check) or print the reference (--reference)"},
    {"store", cli_store, "put/get/head/rm/ls objects in a local directory or S3 (operators, tests)"},
    {"sql", cli_sql, "query the lake with SQL: lake tables, the journal tail, Parquet/CSV/NDJSON files"},
    {"jobs", cli_jobs, "list the jobs of a config with their last runs"},
    {"runs", cli_runs, "the run history of a job"},
    {"run", cli_run, "queue a run of a job for one window (the server's workers run it)"},
    {"load", cli_load, "print the statements a load job's run would send (--plan)"},
    {"export", cli_export, "export a sample of an export job's rows to a development database (--sample N)"},
    {"backfill", cli_backfill, "re-run a job over a range of windows, serially or in parallel"},
    {"console", cli_console, "export the console's saved queries and dashboards as YAML, or import them"},
    {"worker", cli_worker, "run job workers in another process, taking tasks from the server's queue"},
};

static void usage(FILE *f)
{
    fprintf(f, "sluice %s — a data pipeline in one program\n\n"
               "usage: sluice <command> [flags] [args]\n\ncommands:\n",
            SLUICE_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'sluice <command> --help' documents each command's flags.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("sluice %s\n", SLUICE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sluice: unknown command '%s' (see sluice --help)\n", argv[1]);
    return 2;
}
