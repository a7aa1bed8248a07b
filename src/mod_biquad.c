/*
  biquad: a second-order filter, RBJ cookbook coefficients (lowpass,
  highpass, constant 0 dB peak bandpass, notch), transposed direct form II.

  Coefficients and state are double (dsp.h says why; hp_biquad_run there
  is the recursion, two frames a step).

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
  HpBiquad c;
  double   z[2];            /* transposed direct form II state */
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
  st->c.b0   = b0 / a0;
  st->c.b1   = b1 / a0;
  st->c.b2   = b2 / a0;
  st->c.a1   = -2.0 * cw / a0;
  st->c.a2   = (1.0 - alpha) / a0;
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
  biquad_update(st,
                param[P_CUTOFF].value,
                param[P_Q].value,
                biquad_mode(&param[P_MODE]),
                rate);
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
    hp_biquad_run(&st->c, st->z, in, out, n);
  } else {
    for (uint32_t i = 0; i < n; i += MOD_BLOCK) {
      const uint32_t m = n - i < MOD_BLOCK ? n - i : MOD_BLOCK;
      biquad_update(
        st, hp_param_at(cutoff, i), hp_param_at(q, i), mode, io->rate);
      hp_biquad_run(&st->c, st->z, in + i, out + i, m);
    }
  }

  if (!isfinite(st->z[0]) || !isfinite(st->z[1])) {
    st->z[0] = 0.0;
    st->z[1] = 0.0;
  } else {
    st->z[0] = hp_flush_tiny(st->z[0]);
    st->z[1] = hp_flush_tiny(st->z[1]);
  }
}

static const HpPortDesc biquad_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The signal to filter."},
};

static const HpPortDesc biquad_outputs[] = {
  {.name = "out", .kind = HP_SIGNAL_AUDIO, .doc = "The filtered signal."},
};

static const HpParamDesc biquad_params[N_PARAMS] = {
  {.name      = "cutoff",
   .aliases   = (const char* const[]){"freq", "frequency", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = 10.0f,
   .max       = 20000.0f,
   .def       = 1000.0f,
   .log_scale = true,
   .doc = "Cutoff (lowpass, highpass) or centre (bandpass, notch) frequency."},
  {.name      = "q",
   .aliases   = (const char* const[]){"resonance", "Q", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "",
   .min       = 0.1f,
   .max       = 20.0f,
   .def       = 0.707f,
   .log_scale = true,
   .doc = "Quality factor: 0.707 is flat (Butterworth), higher resonates."},
  {.name    = "mode",
   .aliases = (const char* const[]){"type", NULL},
   .kind    = HP_PARAM_ENUM,
   .unit    = "",
   .min     = 0.0f,
   .max     = (float)(N_MODES - 1),
   .def     = (float)MODE_LOWPASS,
   .choices =
     (const char* const[]){"lowpass", "highpass", "bandpass", "notch", NULL},
   .doc = "Response: lowpass, highpass, bandpass (0 dB peak) or notch."},
};

const HpModuleDesc hp_mod_biquad = {
  .type    = "biquad",
  .aliases = (const char* const[]){"biquad_filter", NULL},
  .doc = "Biquad filter (RBJ cookbook): lowpass, highpass, bandpass or notch.",
  .inputs     = biquad_inputs,
  .n_inputs   = 1,
  .outputs    = biquad_outputs,
  .n_outputs  = 1,
  .params     = biquad_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(BiquadState),
  .init       = biquad_init,
  .process    = biquad_process,
};
