/*
  square: a band-limited pulse (PolyBLEP, dsp.h) with variable width,
  made of two band-limited saws: high (+1) for the first `pw` of the cycle.
  The rest is the oscillators' shared body (osc.h).
*/

#include "dsp.h"
#include "module.h"
#include "osc.h"

enum { P_FREQ, P_GAIN, P_PW, P_DETUNE, N_PARAMS };

/* saw(t - pw) - saw(t) + 2 pw - 1: +1 while t < pw, -1 after, and both
   steps band-limited.  The width phase has its low 8 bits clear, so the two
   saws' 24-bit phases differ by exactly pw and the plateaus are exactly
   +-1. */
static inline float
square_wave(const uint32_t phase,
            const float    dt,
            const float    inv_dt,
            const uint32_t width)
{
  const float t  = hp_phase_unit(phase);
  const float t2 = hp_phase_unit(phase - width);
  const float pw = hp_phase_unit(width);
  (void)dt;
  return 2.0f * (t2 - t) + 2.0f * pw - 1.0f + hp_polyblep_saw(t2, inv_dt) -
         hp_polyblep_saw(t, inv_dt);
}

static void
square_process(const HpNodeIO* const io, const uint32_t n)
{
  static const HpOsc osc = {.wave         = square_wave,
                            .band_limited = true,
                            .detune       = P_DETUNE,
                            .width        = P_PW};
  hp_osc_process(&osc, io, n);
}

static const HpPortDesc square_inputs[] = {
  HP_OSC_PM_INPUT,
};

static const HpPortDesc square_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The pulse wave, -gain..gain."},
};

static const HpParamDesc square_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  {.name    = "pw",
   .aliases = (const char* const[]){"width", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.01f,
   .max     = 0.99f,
   .def     = 0.5f,
   .doc = "Pulse width: the fraction of the cycle spent high (0.5 = square)."},
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_square = {
  .type = "square",
  .doc  = "Band-limited pulse oscillator (4-point PolyBLEP) with pulse width.",
  .inputs         = square_inputs,
  .inputs_by_name = true,
  .n_inputs       = 1,
  .outputs        = square_outputs,
  .n_outputs      = 1,
  .params         = square_params,
  .n_params       = N_PARAMS,
  .state_size     = sizeof(HpOscState),
  .process        = square_process,
};
