/*
  triangle: a band-limited triangle (PolyBLAMP, dsp.h).  The corners are
  corrected directly, rather than integrating a square, so the amplitude
  is exact at every frequency and there is no integrator to drift or leak.
  The rest is the oscillators' shared body (osc.h).
*/

#include "dsp.h"
#include "module.h"
#include "osc.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

/* The phase measured from the trough (the oscillator's offset): at phase 0,
   where a fresh module starts, the wave is 0 and rising, like the sine. */
static inline float
triangle_wave(const uint32_t phase,
              const float    dt,
              const float    inv_dt,
              const uint32_t width)
{
  (void)width;
  return hp_blamp_tri(hp_phase_unit(phase), dt, inv_dt);
}

static void
triangle_process(const HpNodeIO* const io, const uint32_t n)
{
  static const HpOsc osc = {.wave         = triangle_wave,
                            .band_limited = true,
                            .detune       = P_DETUNE,
                            .width        = HP_OSC_NONE,
                            .offset       = HP_PHASE_QUARTER};
  hp_osc_process(&osc, io, n);
}

static const HpPortDesc triangle_inputs[] = {
  HP_OSC_PM_INPUT,
};

static const HpPortDesc triangle_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The triangle wave, -gain..gain."},
};

static const HpParamDesc triangle_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_triangle = {
  .type           = "triangle",
  .doc            = "Band-limited triangle oscillator (4-point PolyBLAMP).",
  .inputs         = triangle_inputs,
  .inputs_by_name = true,
  .n_inputs       = 1,
  .outputs        = triangle_outputs,
  .n_outputs      = 1,
  .params         = triangle_params,
  .n_params       = N_PARAMS,
  .state_size     = sizeof(HpOscState),
  .process        = triangle_process,
};
