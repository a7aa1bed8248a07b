/* The seed's prime ops: what the supervisor of the design hotpatch grew
   from primed each module type with, over OSC.  Shared by the swap tests
   and the seed-metrics bench. */

#ifndef HP_TEST_SEED_H
#define HP_TEST_SEED_H

#include "host.h"

#include <stdint.h>
#include <string.h>

/* Fill `ops` (room for 5) for a module `id` of `type`; returns how many. */
static inline uint32_t
seed_primes(const char* const id, const char* const type, HpPrimeOp* const ops)
{
  if (strstr(type, "sine")) {
    ops[0] = (HpPrimeOp){"mod", id, "freq", 440.0f};
    ops[1] = (HpPrimeOp){"mod", id, "gain", 0.2f};
    return 2;
  }
  if (!strcmp(type, "adsr")) {
    ops[0] = (HpPrimeOp){"mod", id, "attack", 10.0f};
    ops[1] = (HpPrimeOp){"mod", id, "decay", 50.0f};
    ops[2] = (HpPrimeOp){"mod", id, "sustain", 0.7f};
    ops[3] = (HpPrimeOp){"mod", id, "release", 200.0f};
    ops[4] = (HpPrimeOp){"gate", id, NULL, 1.0f};
    return 5;
  }
  if (strstr(type, "filter")) {
    ops[0] = (HpPrimeOp){"mod", id, "cutoff", 2000.0f};
    ops[1] = (HpPrimeOp){"mod", id, "q", 1.0f};
    return 2;
  }
  return 0;
}

#endif
