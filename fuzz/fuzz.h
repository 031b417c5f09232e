/*
 * fuzz.h: what every libFuzzer target here shares: the entry point's
 * prototype (-Wmissing-prototypes) and CHECK, which aborts so that libFuzzer
 * records the input (assert would vanish under NDEBUG).
 */
#ifndef TEXTDESK_FUZZ_FUZZ_H
#define TEXTDESK_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c))                                                                        \
            abort();                                                                     \
    } while (0)

#endif
