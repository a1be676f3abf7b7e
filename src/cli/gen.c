/* sluice gen — being written in this session; replaced by the real command. */
#include "cli/cli.h"

int cli_gen(int argc, char **argv)
{
    (void)argc;
    cli_errorf(argv[0], "unavailable in this build");
    return 1;
}
