/*
  scale: out = offset + gain * in, for control signals.  Modulation
  replaces a parameter's value (README), so this is how an envelope
  (0..1) becomes a cutoff sweep (e.g. 200..3200 Hz: offset 200, gain 3000).
*/

#include "dsp.h"
#include "module.h"

enum { P_GAIN, P_OFFSET, N_PARAMS };

static inline float
param_at(const HpParamIn* const p, const uint32_t i)
{
  return p->signal ? p->signal[i] : p->value;
}

static void
scale_process(const HpNodeIO* const io, const uint32_t n)
{
  const float* const restrict in = io->in[0];
  const HpParamIn* const gain    = &io->param[P_GAIN];
  const HpParamIn* const offset  = &io->param[P_OFFSET];
  float* const restrict out      = io->out[0];
  if (!gain->signal && !offset->signal) {
    const float g = gain->value;
    const float o = offset->value;
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = o + g * (in ? in[i] : 0.0f);
    }
    return;
  }
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = param_at(offset, i) + param_at(gain, i) * (in ? in[i] : 0.0f);
  }
}

static const HpPortDesc scale_inputs[] = {
  {.name = "in",
   .kind = HP_SIGNAL_CV,
   .doc  = "The control signal to scale (unconnected: 0)."},
};

static const HpPortDesc scale_outputs[] = {
  {.name = "out", .kind = HP_SIGNAL_CV, .doc = "offset + gain * in."},
};

static const HpParamDesc scale_params[N_PARAMS] = {
  {.name    = "gain",
   .aliases = (const char* const[]){"amount", "depth", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = -20000.0f,
   .max     = 20000.0f,
   .def     = 1.0f,
   .doc     = "Multiplies the input: the size of the sweep."},
  {.name    = "offset",
   .aliases = (const char* const[]){"base", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = -20000.0f,
   .max     = 20000.0f,
   .def     = 0.0f,
   .doc     = "Added after scaling: where the sweep starts."},
};

const HpModuleDesc hp_mod_scale = {
  .type = "scale",
  .doc  = "Scales and offsets a control signal, e.g. an envelope into a cutoff "
          "sweep.",
  .inputs    = scale_inputs,
  .n_inputs  = 1,
  .outputs   = scale_outputs,
  .n_outputs = 1,
  .params    = scale_params,
  .n_params  = N_PARAMS,
  .process   = scale_process,
};
