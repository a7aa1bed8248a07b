/*
  vca: out = in * gain.  Typically an envelope's "env" output drives gain.
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

enum { P_GAIN, N_PARAMS };

static inline void
vca_run(float* const restrict out,
        const float* const restrict in,
        const float    g,
        const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * g;
  }
}

static inline void
vca_run_signal(float* const restrict out,
               const float* const restrict in,
               const float* const restrict g,
               const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * g[i];
  }
}

static void
vca_process(const HpNodeIO* const io, const uint32_t n)
{
  const float* const restrict in = io->in[0];
  const HpParamIn* const gain    = &io->param[P_GAIN];
  float* const restrict out      = io->out[0];

  /* A whole chunk with a constant count, which gcc vectorizes best (dsp.h). */
  if (!in) {
    memset(out, 0, n * sizeof(float));
  } else if (gain->signal) {
    if (n == HP_VEC) {
      vca_run_signal(out, in, gain->signal, HP_VEC);
    } else {
      vca_run_signal(out, in, gain->signal, n);
    }
  } else if (n == HP_VEC) {
    vca_run(out, in, gain->value, HP_VEC);
  } else {
    vca_run(out, in, gain->value, n);
  }
}

static const HpPortDesc vca_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The signal to scale."},
};

static const HpPortDesc vca_outputs[] = {
  {.name = "out", .kind = HP_SIGNAL_AUDIO, .doc = "in * gain."},
};

static const HpParamDesc vca_params[N_PARAMS] = {
  {.name    = "gain",
   .aliases = (const char* const[]){"level", "amp", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 2.0f,
   .def     = 1.0f,
   .doc     = "Linear gain; connect an envelope here to shape the signal."},
};

const HpModuleDesc hp_mod_vca = {
  .type      = "vca",
  .doc       = "Voltage-controlled amplifier: multiplies its input by gain.",
  .inputs    = vca_inputs,
  .n_inputs  = 1,
  .outputs   = vca_outputs,
  .n_outputs = 1,
  .params    = vca_params,
  .n_params  = N_PARAMS,
  .process   = vca_process,
};
