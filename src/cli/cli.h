/* cli — subcommands and a declarative flag parser.
 *
 * Prefix: cli_.  Each subcommand is `int cli_<name>(int argc, char **argv)`
 * returning the process exit code (0 ok, 1 failure, 2 usage error); argv[0]
 * is the subcommand name.  Flags are declared as a table, from which both
 * `--help` and validation come:
 *
 *   static const char *codec = "zstd"; static long limit = -1; static int quiet;
 *   cli_flag flags[] = {
 *       {"codec", 'c', CLI_STR, &codec, "NAME", "compression codec"},
 *       {"limit", 0, CLI_INT, &limit, "N", "stop after N rows"},
 *       {"quiet", 'q', CLI_BOOL, &quiet, NULL, "no progress output"},
 *       {0}};
 *   cli_cmd cmd = {"cat", "FILE.parquet", "print rows of a Parquet file", flags, 1, 1};
 *   char *pos[8]; int npos;
 *   int rc = cli_parse(&cmd, argc, argv, pos, &npos);
 *   if (rc >= 0) return rc;     // --help printed (0) or usage error (2)
 */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stddef.h>

typedef enum { CLI_BOOL, CLI_STR, CLI_INT } cli_flag_type;

typedef struct cli_flag {
    const char *name;  /* long name, used as --name */
    char shortname;    /* 0 for none */
    cli_flag_type type;
    void *dst;         /* int* (BOOL), const char** (STR), long* (INT) */
    const char *arg;   /* argument placeholder for help, e.g. "N" */
    const char *doc;   /* one line of help */
} cli_flag;

typedef struct cli_cmd {
    const char *name;
    const char *usage;    /* positional part, e.g. "IN OUT.parquet" */
    const char *summary;  /* one line */
    const cli_flag *flags;/* terminated by {0} */
    int min_pos, max_pos; /* positional argument count bounds */
    const char *more;     /* extra help text printed after the flags, or NULL */
} cli_cmd;

/* Parse argv[1..argc) of a subcommand.  Fills pos[0..*npos) (max_pos slots).
 * Returns -1 when the command should run, 0 after printing --help to stdout,
 * 2 after printing a one-line error to stderr. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int *npos);
/* Print the command's help (usage, summary, flags) to stdout. */
void cli_help(const cli_cmd *cmd);
/* Print "sluice CMD: message" to stderr. */
void cli_errorf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Subcommands. */
/* views.c: the catalog's views in tables / describe / ddl.  describe and
 * ddl: 1 printed, 0 no view of that name, -1 failed (said on stderr). */
struct ct_catalog;
struct ct_view;
struct ut_buf;
void cli__view_location(const struct ct_view *v, char *out, size_t n);
int cli__view_describe(struct ct_catalog *c, const char *name, int json);
int cli__view_ddl(struct ct_catalog *c, const char *name, const char *dialect,
                  const char *schema);

int cli_convert(int argc, char **argv);
int cli_cat(int argc, char **argv);
int cli_schema(int argc, char **argv);
int cli_tables(int argc, char **argv);
int cli_describe(int argc, char **argv);
int cli_ddl(int argc, char **argv);
int cli_gen(int argc, char **argv);
int cli_config(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_ingest(int argc, char **argv);
int cli_tail(int argc, char **argv);
int cli_read(int argc, char **argv);
int cli_store(int argc, char **argv);
int cli_sql(int argc, char **argv);
int cli_jobs(int argc, char **argv);
int cli_runs(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_load(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_backfill(int argc, char **argv);
int cli_worker(int argc, char **argv);

/* ---- YAML for `sluice console export|import` (console_yaml.c) ---------------- */
struct ut_buf;
#define CLI_YAML_MAX_BYTES (16 << 20)
typedef enum { CLI_YAML_SCALAR, CLI_YAML_SEQ, CLI_YAML_MAP } cli_yaml_kind;
typedef struct cli_yaml_node {
    cli_yaml_kind kind;
    char *text;                    /* scalar */
    size_t len;
    int quoted;                    /* a quoted or block scalar: always a string */
    struct cli_yaml_node **kids;   /* seq: items; map: key, value, key, value ... */
    int n;
} cli_yaml_node;
/* One YAML document as a tree (cli_yaml_node_free), or NULL with a message. */
cli_yaml_node *cli_yaml_parse(const char *buf, size_t len, char *err, size_t errlen);
void cli_yaml_node_free(cli_yaml_node *n); /* accepts NULL */
/* The value of key in a mapping, or NULL. */
const cli_yaml_node *cli_yaml_get(const cli_yaml_node *map, const char *key);
/* n as JSON into b. */
void cli_yaml_to_json(const cli_yaml_node *n, struct ut_buf *b);
/* The fields of a JSON object spec as YAML lines prefixed by indent.  0 / -1. */
int cli_yaml_spec(struct ut_buf *b, const char *spec, size_t n, const char *indent, char *err,
                  size_t errlen);
int cli_console(int argc, char **argv);
/* The file at path ("-" = stdin), at most cap bytes, NUL-terminated
 * (*len: its length; may be NULL); NULL with a message. */
char *cli_read_file(const char *path, size_t cap, size_t *len, char *err, size_t errlen);

#endif
