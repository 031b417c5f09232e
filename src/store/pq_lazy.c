/*
 * pq_lazy: libpq, loaded on first use.
 *
 * Linked directly, libpq brings about twenty shared libraries with it
 * (Kerberos, LDAP, SASL, GnuTLS and theirs), and the dynamic loader maps
 * and relocates every one of them at the start of every textdesk command:
 * measured here, an empty program linked with libpq starts in ~21 ms of
 * CPU against ~10 ms without it, which is most of what `textdesk mask`
 * costs on a small input and what every `textdesk admin` call pays. Most
 * sites run on SQLite and never need it. glibc has no lazily loaded
 * libraries (Solaris's -z lazyload), so this file defines every function
 * of libpq-fe.h itself, and the first call loads libpq.so.5 with dlopen(3)
 * and forwards to it; after that a call costs one indirect jump.
 *
 * The rows come from src/store/pq_funcs.h, generated from the header by
 * scripts/gen_pq_funcs.py, so the compiler checks every signature against
 * libpq-fe.h. Only the PostgreSQL store (and tests of it) calls these.
 * If libpq cannot be loaded the process says so and exits: the store is
 * opened at start-up, before anything is acknowledged.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "store/pq_funcs.h"

#define PQ_LIBRARY "libpq.so.5"

static void *pq_handle;

/* Loads libpq once; exits with a message saying what to install. */
static void pq_load(void)
{
    if (pq_handle != NULL)
        return;
    pq_handle = dlopen(PQ_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (pq_handle == NULL) {
        fprintf(stderr,
                "textdesk: the PostgreSQL store needs the libpq library (%s): %s; "
                "install it (apt-get install libpq5) or use the SQLite store\n",
                PQ_LIBRARY, dlerror());
        exit(1);
    }
}

/* The address of 'name' in libpq; exits if this libpq lacks it (older
 * than the header the program was built with). */
static void *pq_sym(const char *name)
{
    pq_load();
    void *f = dlsym(pq_handle, name);
    if (f == NULL) {
        fprintf(stderr, "textdesk: %s has no %s: install the libpq5 that "
                "textdesk was built with\n", PQ_LIBRARY, name);
        exit(1);
    }
    return f;
}

/* One pointer per function, resolved at its first call. */
#define PQ_SLOT(ret, name, params, args) static ret(*name##_fn) params;
PQ_FUNCS(PQ_SLOT, PQ_SLOT)

#define PQ_DEFINE(ret, name, params, args)                                     \
    ret name params                                                            \
    {                                                                          \
        if (name##_fn == NULL)                                                 \
            *(void **)&name##_fn = pq_sym(#name);                              \
        return name##_fn args;                                                 \
    }
#define PQ_DEFINE_VOID(ret, name, params, args)                                \
    ret name params                                                            \
    {                                                                          \
        if (name##_fn == NULL)                                                 \
            *(void **)&name##_fn = pq_sym(#name);                              \
        name##_fn args;                                                        \
    }
PQ_FUNCS(PQ_DEFINE, PQ_DEFINE_VOID)
