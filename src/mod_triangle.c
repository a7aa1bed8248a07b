/*
  triangle: a band-limited triangle (PolyBLAMP, dsp.h).  The corners are
  corrected directly, rather than integrating a square, so the amplitude
  is exact at every frequency and there is no integrator to drift or leak.
*/

#include "dsp.h"
#include "module.h"

enum { P_FREQ, P_GAIN, P_DETUNE, N_PARAMS };

/* A fresh module's zeroed phase starts the wave at 0, rising, like the
   sine. */
typedef struct {
  uint32_t phase;
} TriangleState;

static inline void
triangle_run(float* const restrict out,
             uint32_t              phase,
             const uint32_t        inc,
             const float           dt,
             const float           inv_dt,
             const float           gain,
             const uint32_t        n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = gain * hp_blamp_tri(hp_phase_unit(phase), dt, inv_dt);
    phase += inc;
  }
}

static void
triangle_process(const HpNodeIO* const io, const uint32_t n)
{
  TriangleState* const   st     = (TriangleState*)io->state;
  const HpParamIn* const freq   = &io->param[P_FREQ];
  const HpParamIn* const gain   = &io->param[P_GAIN];
  const HpParamIn* const detune = &io->param[P_DETUNE];
  float* const restrict  out    = io->out[0];

  if (freq->signal || detune->signal) {
    uint32_t ph[HP_CHUNK];
    uint32_t inc[HP_CHUNK];
    st->phase =
      hp_osc_phase_fill(ph, inc, freq, detune, io->inv_rate, st->phase, n);
    for (uint32_t i = 0; i < n; ++i) {
      const float dt = hp_phase_dt(inc[i]);
      out[i] =
        hp_blamp_tri(hp_phase_unit(ph[i] + HP_PHASE_QUARTER), dt, 1.0f / dt);
    }
    hp_apply_gain(out, gain, n);
    return;
  }

  /* The wave is computed from the trough, a quarter cycle before 0. */
  const uint32_t p   = st->phase;
  const uint32_t inc = hp_osc_inc(freq, detune, io->inv_rate);
  const float    dt  = hp_phase_dt(inc);
  const float    g   = gain->signal ? 1.0f : gain->value;
  const float    idt = 1.0f / dt;
  const uint32_t s   = p + HP_PHASE_QUARTER;
  uint32_t       i   = 0;
  for (; i + HP_VEC <= n; i += HP_VEC) {
    triangle_run(out + i, s + i * inc, inc, dt, idt, g, HP_VEC);
  }
  triangle_run(out + i, s + i * inc, inc, dt, idt, g, n - i);
  st->phase = p + n * inc;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc triangle_outputs[] = {
  {"out", HP_PORT_AUDIO, "The triangle wave, -gain..gain."},
};

static const HpParamDesc triangle_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_triangle = {
  .type       = "triangle",
  .doc        = "Band-limited triangle oscillator (4-point PolyBLAMP).",
  .outputs    = triangle_outputs,
  .n_outputs  = 1,
  .params     = triangle_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(TriangleState),
  .process    = triangle_process,
};
