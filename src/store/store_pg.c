/* store_pg: placeholder until the libpq backend lands. */
#include <stdio.h>

#include "store/store_int.h"

store *store__pg_open(const char *conninfo, char *err, size_t errlen)
{
    snprintf(err, errlen, "PostgreSQL is not supported by this build yet");
    return NULL;
}
