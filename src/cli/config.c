/* sluice config — validate a configuration file (--check FILE) or print the
 * Markdown configuration reference generated from the config tables
 * (--reference; committed as docs/configuration.md). */
#include "cli/cli.h"
#include "config/config.h"
#include "jobs/jobs.h"

#include <stdio.h>

int cli_config(int argc, char **argv)
{
    const char *check = NULL;
    int reference = 0;
    cli_flag flags[] = {
        {"check", 0, CLI_STR, &check, "FILE", "validate FILE; exit 1 with file:line: message"},
        {"reference", 0, CLI_BOOL, &reference, NULL, "print the Markdown configuration reference"},
        {0}};
    cli_cmd cmd = {"config", "", "validate a config file or print the configuration reference",
                   flags, 0, 0,
                   "Exactly one of --check and --reference.  The reference is generated from the\n"
                   "same tables the validator uses (docs/configuration.md).\n"};
    char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, argc, argv, pos, &npos);
    if (rc >= 0) return rc;
    if (!check == !reference) {
        cli_errorf("config", "give exactly one of --check FILE and --reference");
        return 2;
    }
    if (reference) {
        if (cf_write_reference(stdout) || fflush(stdout)) {
            cli_errorf("config", "cannot write the reference");
            return 1;
        }
        return 0;
    }
    char err[1024];
    cf_config *c = cf_load(check, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (jb_check(c, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        cf_destroy(c);
        return 1;
    }
    printf("%s: ok (%d stream%s, %d job%s)\n", check, c->nstreams, c->nstreams == 1 ? "" : "s",
           c->njobs, c->njobs == 1 ? "" : "s");
    cf_destroy(c);
    return 0;
}
