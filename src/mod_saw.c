/*
  saw: a band-limited sawtooth (PolyBLEP, dsp.h), rising from -1 to 1; the
  rest is the oscillators' shared body (osc.h).
*/

#include "dsp.h"
#include "module.h"
#include "osc.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

static void
saw_init(void* const state, const HpParamIn* const param, const float rate)
{
  /* Start mid-ramp, where the wave is 0: no click when a fresh module
     starts (at phase 0 it would jump to -1). */
  ((HpOscState*)state)->phase = 0x80000000u;
  (void)param;
  (void)rate;
}

static inline float
saw_wave(const uint32_t phase,
         const float    dt,
         const float    inv_dt,
         const uint32_t width)
{
  (void)dt;
  (void)width;
  return hp_blep_saw(hp_phase_unit(phase), inv_dt);
}

static void
saw_process(const HpNodeIO* const io, const uint32_t n)
{
  static const HpOsc osc = {.wave         = saw_wave,
                            .band_limited = true,
                            .detune       = P_DETUNE,
                            .width        = HP_OSC_NONE};
  hp_osc_process(&osc, io, n);
}

static const HpPortDesc saw_inputs[] = {
  HP_OSC_PM_INPUT,
};

static const HpPortDesc saw_outputs[] = {
  {.name = "out", .kind = HP_SIGNAL_AUDIO, .doc = "The sawtooth, -gain..gain."},
};

static const HpParamDesc saw_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_saw = {
  .type           = "saw",
  .doc            = "Band-limited sawtooth oscillator (4-point PolyBLEP).",
  .inputs         = saw_inputs,
  .inputs_by_name = true,
  .n_inputs       = 1,
  .outputs        = saw_outputs,
  .n_outputs      = 1,
  .params         = saw_params,
  .n_params       = N_PARAMS,
  .state_size     = sizeof(HpOscState),
  .init           = saw_init,
  .process        = saw_process,
};
