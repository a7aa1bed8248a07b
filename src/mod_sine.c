/*
  sine: a sine oscillator.  32-bit phase accumulator and a polynomial sine
  (dsp.h), no table.
*/

#include "dsp.h"
#include "module.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

/* A fresh module's zeroed phase starts the wave at 0, rising: no click. */
typedef struct {
  uint32_t phase;
} SineState;

static inline void
sine_run(float* const restrict out,
         uint32_t              phase,
         const uint32_t        inc,
         const float           gain,
         const uint32_t        n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = gain * hp_sin_phase(phase);
    phase += inc; /* an induction variable: one vector add per 4 frames */
  }
}

static void
sine_process(const HpNodeIO* const io, const uint32_t n)
{
  SineState* const       st     = (SineState*)io->state;
  const HpParamIn* const freq   = &io->param[P_FREQ];
  const HpParamIn* const gain   = &io->param[P_GAIN];
  const HpParamIn* const detune = &io->param[P_DETUNE];
  float* const restrict  out    = io->out[0];

  if (freq->signal || detune->signal) {
    /* FM or a detune signal: the phase of every frame, then the wave. */
    uint32_t ph[HP_CHUNK];
    st->phase =
      hp_osc_phase_fill(ph, NULL, freq, detune, io->inv_rate, st->phase, n);
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = hp_sin_phase(ph[i]);
    }
    hp_apply_gain(out, gain, n);
    return;
  }

  /* Constant frequency: the fast path, with a constant gain folded in. */
  const uint32_t p   = st->phase;
  const uint32_t inc = hp_osc_inc(freq, detune, io->inv_rate);
  const float    g   = gain->signal ? 1.0f : gain->value;
  uint32_t       i   = 0;
  for (; i + HP_VEC <= n; i += HP_VEC) {
    sine_run(out + i, p + i * inc, inc, g, HP_VEC);
  }
  sine_run(out + i, p + i * inc, inc, g, n - i);
  st->phase = p + n * inc;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc sine_outputs[] = {
  {"out", HP_PORT_AUDIO, "The sine wave, -gain..gain."},
};

static const HpParamDesc sine_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_sine = {
  .type       = "sine",
  .aliases    = (const char* const[]){"simple_sine", NULL},
  .doc        = "Sine oscillator (polynomial, error below 1e-5 of full scale).",
  .outputs    = sine_outputs,
  .n_outputs  = 1,
  .params     = sine_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SineState),
  .process    = sine_process,
};
