/*
  saw: a band-limited sawtooth (PolyBLEP, dsp.h), rising from -1 to 1.
*/

#include "dsp.h"
#include "module.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

typedef struct {
  uint32_t phase;
} SawState;

static void
saw_init(void* const state, const HpParamIn* const param, const float rate)
{
  /* Start mid-ramp, where the wave is 0: no click when a fresh module
     starts (at phase 0 it would jump to -1). */
  ((SawState*)state)->phase = 0x80000000u;
  (void)param;
  (void)rate;
}

static inline void
saw_run(float* const restrict out,
        uint32_t              phase,
        const uint32_t        inc,
        const float           inv_dt,
        const float           gain,
        const uint32_t        n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = gain * hp_blep_saw(hp_phase_unit(phase), inv_dt);
    phase += inc;
  }
}

static void
saw_process(const HpNodeIO* const io, const uint32_t n)
{
  SawState* const        st     = (SawState*)io->state;
  const HpParamIn* const freq   = &io->param[P_FREQ];
  const HpParamIn* const gain   = &io->param[P_GAIN];
  const HpParamIn* const detune = &io->param[P_DETUNE];
  float* const restrict  out    = io->out[0];

  if (freq->signal || detune->signal) {
    /* FM or a detune signal: dt varies frame by frame. */
    uint32_t ph[HP_CHUNK];
    uint32_t inc[HP_CHUNK];
    st->phase =
      hp_osc_phase_fill(ph, inc, freq, detune, io->inv_rate, st->phase, n);
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = hp_blep_saw(hp_phase_unit(ph[i]), 1.0f / hp_phase_dt(inc[i]));
    }
    hp_apply_gain(out, gain, n);
    return;
  }

  const uint32_t p      = st->phase;
  const uint32_t inc    = hp_osc_inc(freq, detune, io->inv_rate);
  const float    inv_dt = 1.0f / hp_phase_dt(inc);
  const float    g      = gain->signal ? 1.0f : gain->value;
  uint32_t       i      = 0;
  for (; i + HP_VEC <= n; i += HP_VEC) {
    saw_run(out + i, p + i * inc, inc, inv_dt, g, HP_VEC);
  }
  saw_run(out + i, p + i * inc, inc, inv_dt, g, n - i);
  st->phase = p + n * inc;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc saw_outputs[] = {
  {"out", HP_PORT_AUDIO, "The sawtooth, -gain..gain."},
};

static const HpParamDesc saw_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_saw = {
  .type       = "saw",
  .doc        = "Band-limited sawtooth oscillator (4-point PolyBLEP).",
  .outputs    = saw_outputs,
  .n_outputs  = 1,
  .params     = saw_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SawState),
  .init       = saw_init,
  .process    = saw_process,
};
