#include "app/cli.h"

int cli_selfcheck_main(int argc, char **argv)
{
    printf("textdesk selfcheck: core not built yet\n");
    return 0;
}
