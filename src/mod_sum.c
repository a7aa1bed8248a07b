/*
  sum: adds up what is connected to it into one signal.  In a patch of
  several voices it always plays once: fed by a per-voice module, it adds
  the sounding voices up, so that what comes after it (a filter, an echo)
  runs once for all of them (DESIGN 3b).
*/

#include "module.h"

#include <string.h>

static void
sum_process(const HpNodeIO* const io, const uint32_t n)
{
  /* The graph has summed the sources into the input already. */
  if (io->in[0]) {
    memcpy(io->out[0], io->in[0], n * sizeof(float));
  } else {
    memset(io->out[0], 0, n * sizeof(float));
  }
}

static const HpPortDesc sum_inputs[] = {
  {.name = "in",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Everything connected here is added, every sounding voice of a "
           "per-voice module included."},
};

static const HpPortDesc sum_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The sum, once for all voices."},
};

const HpModuleDesc hp_mod_sum = {
  .type      = "sum",
  .aliases   = (const char* const[]){"voice_sum", NULL},
  .doc       = "Adds its inputs, and the voices of a per-voice signal, "
               "into one signal that plays once.",
  .inputs    = sum_inputs,
  .n_inputs  = 1,
  .outputs   = sum_outputs,
  .n_outputs = 1,
  .process   = sum_process,
  .voicing   = HP_VOICING_SUM,
};
