/*
  const: a constant control signal, for patching one value into several
  parameters (or into a gate).
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

enum { P_VALUE, N_PARAMS };

static void
const_process(const HpNodeIO* const io, const uint32_t n)
{
  const HpParamIn* const value = &io->param[P_VALUE];
  float* const restrict out    = io->out[0];

  if (value->signal) {
    memcpy(out, value->signal, n * sizeof(float));
  } else {
    hp_fill(out, value->value, n);
    *io->out_const = 1u;
  }
}

static const HpPortDesc const_outputs[] = {
  {.name = "out", .kind = HP_SIGNAL_CV, .doc = "The value, every frame."},
};

static const HpParamDesc const_params[N_PARAMS] = {
  {.name = "value",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "",
   .min  = -20000.0f,
   .max  = 20000.0f,
   .def  = 0.0f,
   .doc  = "The output value (smoothed when set live)."},
};

const HpModuleDesc hp_mod_const = {
  .type          = "const",
  .aliases       = (const char* const[]){"constant", NULL},
  .doc           = "Constant control signal.",
  .outputs       = const_outputs,
  .n_outputs     = 1,
  .params        = const_params,
  .n_params      = N_PARAMS,
  .process       = const_process,
  .const_outputs = true,
};
