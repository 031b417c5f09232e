#include "app/cli.h"

int cli_mask_main(int argc, char **argv)
{
    fprintf(stderr, "textdesk mask: not built yet\n");
    return 2;
}
