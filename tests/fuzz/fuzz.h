/* Shared by the fuzz targets: the libFuzzer entry points' prototypes, an
 * invariant check that aborts (libFuzzer then keeps the input as a crash),
 * and a small deterministic generator seeded from the input, for targets
 * whose input is a byte stream plus the way it is chopped up. */
#ifndef KIC_FUZZ_H
#define KIC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

typedef struct FuzzRng {
    uint64_t s;
} FuzzRng;

static inline uint32_t fuzz_rng_next(FuzzRng *r)
{
    /* splitmix64: any seed, even 0, gives a usable sequence */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

#endif
