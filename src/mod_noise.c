/*
  noise: white noise, uniform in [-gain, gain), from a xorshift32 generator
  whose state lives in the module state (so it carries across commits).
*/

#include "dsp.h"
#include "module.h"

#include <stdatomic.h>

enum { P_GAIN, N_PARAMS };

typedef struct {
  uint32_t x; /* xorshift32 state, never 0 */
} NoiseState;

/* Each new module gets its own seed, so two noise modules in one patch are
   uncorrelated (the same seed would make them sum coherently). */
static atomic_uint noise_seeds;

static void
noise_init(void* const state, const HpParamIn* const param, const float rate)
{
  ((NoiseState*)state)->x = hp_seed((uint32_t)atomic_fetch_add_explicit(
    &noise_seeds, 1u, memory_order_relaxed));
  (void)param;
  (void)rate;
}

static void
noise_process(const HpNodeIO* const io, const uint32_t n)
{
  NoiseState* const      st   = (NoiseState*)io->state;
  const HpParamIn* const gain = &io->param[P_GAIN];
  float* const restrict out   = io->out[0];
  /* The gain folded into the int-to-float scale. */
  const float k = (gain->signal ? 1.0f : gain->value) * 0x1p-31f;

  /* A state of 0 would stay 0 forever; it can only come from a state that
     was never initialized, but costs nothing to rule out. */
  uint32_t x = st->x ? st->x : 1u;
  for (uint32_t i = 0; i < n; ++i) {
    x      = hp_xorshift32(x);
    out[i] = k * (float)(int32_t)x;
  }
  st->x = x;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc noise_outputs[] = {
  {"out",
   HP_SIGNAL_AUDIO,
   "Uniform white noise, -gain..gain (RMS gain/sqrt 3)."},
};

static const HpParamDesc noise_params[N_PARAMS] = {
  HP_PARAM_OSC_GAIN,
};

const HpModuleDesc hp_mod_noise = {
  .type       = "noise",
  .doc        = "White noise generator.",
  .outputs    = noise_outputs,
  .n_outputs  = 1,
  .params     = noise_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(NoiseState),
  .init       = noise_init,
  .process    = noise_process,
};
