/* Declarative flag parsing for subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sluice %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_help(const cli_cmd *cmd)
{
    printf("usage: sluice %s [flags] %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
    if (cmd->flags && cmd->flags[0].name) {
        printf("\nflags:\n");
        for (const cli_flag *f = cmd->flags; f->name; f++) {
            char left[64];
            if (f->shortname)
                snprintf(left, sizeof left, "-%c, --%s%s%s", f->shortname, f->name,
                         f->arg ? " " : "", f->arg ? f->arg : "");
            else
                snprintf(left, sizeof left, "    --%s%s%s", f->name, f->arg ? " " : "",
                         f->arg ? f->arg : "");
            printf("  %-28s %s", left, f->doc);
            if (f->type == CLI_STR && *(const char **)f->dst)
                printf(" (default: %s)", *(const char **)f->dst);
            else if (f->type == CLI_INT && *(long *)f->dst >= 0)
                printf(" (default: %ld)", *(long *)f->dst);
            printf("\n");
        }
    }
    printf("  %-28s %s\n", "-h, --help", "show this help");
    if (cmd->more) printf("\n%s", cmd->more);
}

static const cli_flag *find(const cli_cmd *cmd, const char *name, size_t n, char shortname)
{
    for (const cli_flag *f = cmd->flags; f && f->name; f++) {
        if (shortname ? f->shortname == shortname
                      : (strlen(f->name) == n && !strncmp(f->name, name, n)))
            return f;
    }
    return NULL;
}

static int set(const cli_cmd *cmd, const cli_flag *f, const char *val)
{
    if (f->type == CLI_STR) {
        *(const char **)f->dst = val;
    } else if (f->type == CLI_INT) {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < 0) {
            cli_errorf(cmd->name, "--%s wants a non-negative integer, got '%s'", f->name, val);
            return 2;
        }
        *(long *)f->dst = v;
    }
    return -1;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, char **pos, int *npos)
{
    *npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || !strcmp(a, "-")) {
            if (*npos >= cmd->max_pos) {
                cli_errorf(cmd->name, "unexpected argument '%s' (see sluice %s --help)", a,
                           cmd->name);
                return 2;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            cli_help(cmd);
            return 0;
        }
        const cli_flag *f;
        const char *val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            f = find(cmd, name, eq ? (size_t)(eq - name) : strlen(name), 0);
            if (eq) val = eq + 1;
        } else {
            f = a[2] ? NULL : find(cmd, NULL, 0, a[1]);
        }
        if (!f) {
            cli_errorf(cmd->name, "unknown flag '%s' (see sluice %s --help)", a, cmd->name);
            return 2;
        }
        if (f->type == CLI_BOOL) {
            if (val) {
                cli_errorf(cmd->name, "--%s takes no value", f->name);
                return 2;
            }
            *(int *)f->dst = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                cli_errorf(cmd->name, "--%s needs a value %s", f->name, f->arg ? f->arg : "");
                return 2;
            }
            val = argv[++i];
        }
        int rc = set(cmd, f, val);
        if (rc >= 0) return rc;
    }
    if (*npos < cmd->min_pos) {
        cli_errorf(cmd->name, "missing arguments: sluice %s %s", cmd->name, cmd->usage);
        return 2;
    }
    return -1;
}
