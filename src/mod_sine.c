/*
  sine: a sine oscillator.  32-bit phase accumulator and a polynomial sine
  (dsp.h), no table; the rest is the oscillators' shared body (osc.h).
*/

#include "dsp.h"
#include "module.h"
#include "osc.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

/* At phase 0, where a fresh module starts, the wave is 0 and rising: no
   click. */
static inline float
sine_wave(const uint32_t phase,
          const float    dt,
          const float    inv_dt,
          const uint32_t width)
{
  (void)dt;
  (void)inv_dt;
  (void)width;
  return hp_sin_phase(phase);
}

static void
sine_process(const HpNodeIO* const io, const uint32_t n)
{
  static const HpOsc osc = {
    .wave = sine_wave, .detune = P_DETUNE, .width = HP_OSC_NONE};
  hp_osc_process(&osc, io, n);
}

static const HpPortDesc sine_inputs[] = {
  HP_OSC_PM_INPUT,
};

static const HpPortDesc sine_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The sine wave, -gain..gain."},
};

static const HpParamDesc sine_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_sine = {
  .type    = "sine",
  .aliases = (const char* const[]){"simple_sine", NULL},
  .doc     = "Sine oscillator (polynomial, error below 1e-5 of full scale).",
  .inputs  = sine_inputs,
  .inputs_by_name = true,
  .n_inputs       = 1,
  .outputs        = sine_outputs,
  .n_outputs      = 1,
  .params         = sine_params,
  .n_params       = N_PARAMS,
  .state_size     = sizeof(HpOscState),
  .process        = sine_process,
};
