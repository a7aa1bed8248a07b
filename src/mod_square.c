/*
  square: a band-limited pulse (PolyBLEP, dsp.h) with variable width,
  made of two band-limited saws: high (+1) for the first `pw` of the cycle.
*/

#include "dsp.h"
#include "module.h"

enum { P_FREQ, P_GAIN, P_PW, P_DETUNE, N_PARAMS };

typedef struct {
  uint32_t phase;
} SquareState;

/* Pulse width as a phase offset with the low 8 bits clear, so the two
   saws' 24-bit phases differ by exactly `pw` and the plateaus are exactly
   +-1.  Clamped to the descriptor's range, which also holds for signals. */
static inline uint32_t
square_pw_phase(const float pw)
{
  return (uint32_t)(hp_clampf(pw, 0.01f, 0.99f) * 16777216.0f) << 8;
}

/* saw(t - pw) - saw(t) + 2 pw - 1: +1 while t < pw, -1 after, and both
   steps band-limited. */
HP_ALWAYS_INLINE float
square_value(const uint32_t phase,
             const uint32_t pw_phase,
             const float    inv_dt)
{
  const float t  = hp_phase_unit(phase);
  const float t2 = hp_phase_unit(phase - pw_phase);
  const float pw = hp_phase_unit(pw_phase);
  return 2.0f * (t2 - t) + 2.0f * pw - 1.0f + hp_polyblep_saw(t2, inv_dt) -
         hp_polyblep_saw(t, inv_dt);
}

static inline void
square_run(float* const restrict out,
           uint32_t              phase,
           const uint32_t        inc,
           const uint32_t        pw_phase,
           const float           inv_dt,
           const float           gain,
           const uint32_t        n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = gain * square_value(phase, pw_phase, inv_dt);
    phase += inc;
  }
}

static void
square_process(const HpNodeIO* const io, const uint32_t n)
{
  SquareState* const     st     = (SquareState*)io->state;
  const HpParamIn* const freq   = &io->param[P_FREQ];
  const HpParamIn* const gain   = &io->param[P_GAIN];
  const HpParamIn* const pw     = &io->param[P_PW];
  const HpParamIn* const detune = &io->param[P_DETUNE];
  float* const restrict  out    = io->out[0];

  if (freq->signal || pw->signal || detune->signal) {
    /* FM, PWM or a detune signal: per-frame phase, dt and width. */
    uint32_t ph[HP_CHUNK];
    uint32_t inc[HP_CHUNK];
    st->phase =
      hp_osc_phase_fill(ph, inc, freq, detune, io->inv_rate, st->phase, n);
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = square_value(ph[i], square_pw_phase(hp_param_at(pw, i)),
                            1.0f / hp_phase_dt(inc[i]));
    }
    hp_apply_gain(out, gain, n);
    return;
  }

  const uint32_t p        = st->phase;
  const uint32_t inc      = hp_osc_inc(freq, detune, io->inv_rate);
  const uint32_t pw_phase = square_pw_phase(pw->value);
  const float    inv_dt   = 1.0f / hp_phase_dt(inc);
  const float    g        = gain->signal ? 1.0f : gain->value;
  uint32_t       i        = 0;
  for (; i + HP_VEC <= n; i += HP_VEC) {
    square_run(out + i, p + i * inc, inc, pw_phase, inv_dt, g, HP_VEC);
  }
  square_run(out + i, p + i * inc, inc, pw_phase, inv_dt, g, n - i);
  st->phase = p + n * inc;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc square_outputs[] = {
  {"out", HP_PORT_AUDIO, "The pulse wave, -gain..gain."},
};

static const HpParamDesc square_params[N_PARAMS] = {
  HP_PARAM_OSC_FREQ,
  HP_PARAM_OSC_GAIN,
  {"pw",
   (const char* const[]){"width", NULL},
   HP_PARAM_CONTINUOUS,
   "",
   0.01f,
   0.99f,
   0.5f,
   false,
   NULL,
   "Pulse width: the fraction of the cycle spent high (0.5 = square)."},
  HP_PARAM_OSC_DETUNE,
};

const HpModuleDesc hp_mod_square = {
  .type = "square",
  .doc  = "Band-limited pulse oscillator (4-point PolyBLEP) with pulse width.",
  .outputs    = square_outputs,
  .n_outputs  = 1,
  .params     = square_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SquareState),
  .process    = square_process,
};
