/*
  mixer: four inputs, each with a level, and a master gain.
  out = gain * sum(level_i * in_i), unconnected inputs skipped.
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

#define N_IN 4u

enum { P_LEVEL1, P_LEVEL2, P_LEVEL3, P_LEVEL4, P_GAIN, N_PARAMS };

/* out = or += k * in: vectorizable; the first connected input assigns, so
   the output needs no clearing pass. */
static inline void
mix_run(float* const restrict out,
        const float* const restrict in,
        const float    k,
        const bool     first,
        const uint32_t n)
{
  if (first) {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = k * in[i];
    }
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] += k * in[i];
    }
  }
}

/* out = or += m * level[i] * in[i]. */
static inline void
mix_run_signal(float* const restrict out,
               const float* const restrict in,
               const float* const restrict level,
               const float    m,
               const bool     first,
               const uint32_t n)
{
  if (first) {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = m * level[i] * in[i];
    }
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      out[i] += m * level[i] * in[i];
    }
  }
}

static void
mixer_process(const HpNodeIO* const io, const uint32_t n)
{
  const HpParamIn* const gain = &io->param[P_GAIN];
  float* const restrict out   = io->out[0];
  bool first                  = true;

  /* A constant master gain folds into each input's factor; a modulated one
     is applied once, at the end. */
  const float master = gain->signal ? 1.0f : gain->value;
  for (uint32_t c = 0; c < N_IN; ++c) {
    const float* const restrict in = io->in[c];
    const HpParamIn* const level   = &io->param[P_LEVEL1 + c];
    if (!in) {
      continue;
    }
    /* A whole chunk with a constant count: gcc vectorizes it best. */
    if (level->signal) {
      const float* const restrict l = level->signal;
      if (n == HP_VEC) {
        mix_run_signal(out, in, l, master, first, HP_VEC);
      } else {
        mix_run_signal(out, in, l, master, first, n);
      }
    } else {
      const float k = master * level->value;
      if (n == HP_VEC) {
        mix_run(out, in, k, first, HP_VEC);
      } else {
        mix_run(out, in, k, first, n);
      }
    }
    first = false;
  }

  if (first) {
    memset(out, 0, n * sizeof(float));
  } else if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc mixer_inputs[N_IN] = {
  {.name = "in1", .kind = HP_SIGNAL_AUDIO, .doc = "Input 1, scaled by level1."},
  {.name = "in2", .kind = HP_SIGNAL_AUDIO, .doc = "Input 2, scaled by level2."},
  {.name = "in3", .kind = HP_SIGNAL_AUDIO, .doc = "Input 3, scaled by level3."},
  {.name = "in4", .kind = HP_SIGNAL_AUDIO, .doc = "Input 4, scaled by level4."},
};

static const HpPortDesc mixer_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "gain * (level1 * in1 + ... + level4 * in4)."},
};

#define MIXER_LEVEL(name_, doc_)                                         \
  {                                                                      \
    .name = name_, .kind = HP_PARAM_CONTINUOUS, .unit = "", .min = 0.0f, \
    .max = 2.0f, .def = 1.0f, .doc = doc_                                \
  }

static const HpParamDesc mixer_params[N_PARAMS] = {
  MIXER_LEVEL("level1", "Linear level of in1."),
  MIXER_LEVEL("level2", "Linear level of in2."),
  MIXER_LEVEL("level3", "Linear level of in3."),
  MIXER_LEVEL("level4", "Linear level of in4."),
  {.name    = "gain",
   .aliases = (const char* const[]){"master", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 2.0f,
   .def     = 1.0f,
   .doc     = "Linear master gain applied to the sum."},
};

const HpModuleDesc hp_mod_mixer = {
  .type      = "mixer",
  .aliases   = (const char* const[]){"mix", NULL},
  .doc       = "Four-input mixer with a level per input and a master gain.",
  .inputs    = mixer_inputs,
  .n_inputs  = N_IN,
  .outputs   = mixer_outputs,
  .n_outputs = 1,
  .params    = mixer_params,
  .n_params  = N_PARAMS,
  .process   = mixer_process,
};
