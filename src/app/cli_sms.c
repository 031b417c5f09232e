#include "app/cli.h"

int cli_sms_info_main(int argc, char **argv)
{
    fprintf(stderr, "textdesk sms-info: not built yet\n");
    return 2;
}
