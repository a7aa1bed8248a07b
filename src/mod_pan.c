/*
  pan: an equal-power panner, mono in, a stereo pair out.  With theta =
  (pan + 1) pi / 4, left = in cos(theta) and right = in sin(theta): left^2
  + right^2 = in^2 wherever it stands, so a sound keeps its loudness as it
  moves, and each side is -3.01 dB at the centre.  The main output is the
  pair's mix, (left + right) / 2, as for every stereo module (module.h).

  cos(theta) = sin(2 pi (1 - pan) / 8) and sin(theta) = sin(2 pi (1 + pan)
  / 8), both by dsp.h's hp_sin2pi (6.5e-6 at most off; test_dsp_control.c
  measures it), so a modulated pan costs a few vectorized operations per
  frame.
*/

#include "dsp.h"
#include "module.h"

enum { P_PAN, N_PARAMS };

enum { OUT_MIX, OUT_LEFT, OUT_RIGHT, N_OUTPUTS };

/* The pair and its mix for gains gl, gr (constants or per frame). */
HP_ALWAYS_INLINE void
pan_run(const float* const restrict in,
        const float* const restrict pan,
        const float pan_value,
        float* const restrict mix,
        float* const restrict left,
        float* const restrict right,
        const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    const float p = pan ? hp_clampf(pan[i], -1.0f, 1.0f) : pan_value;
    const float l = in[i] * hp_sin2pi((1.0f - p) * 0.125f);
    const float r = in[i] * hp_sin2pi((1.0f + p) * 0.125f);
    mix[i]        = 0.5f * (l + r);
    if (left) {
      left[i] = l;
    }
    if (right) {
      right[i] = r;
    }
  }
}

static void
pan_process(const HpNodeIO* const io, const uint32_t n)
{
  const float* const     in    = io->in[0];
  float* const           mix   = io->out[OUT_MIX];
  float* const           left  = io->out[OUT_LEFT];
  float* const           right = io->out[OUT_RIGHT];
  const HpParamIn* const pan   = &io->param[P_PAN];

  if (!in) {
    hp_fill(mix, 0.0f, n);
    if (left) {
      hp_fill(left, 0.0f, n);
    }
    if (right) {
      hp_fill(right, 0.0f, n);
    }
    return;
  }
  if (n == HP_VEC) {
    pan_run(in, pan->signal, pan->value, mix, left, right, HP_VEC);
  } else {
    pan_run(in, pan->signal, pan->value, mix, left, right, n);
  }
}

static const HpPortDesc pan_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The mono signal to place."},
};

static const HpPortDesc pan_outputs[N_OUTPUTS] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The pair's mono mix, (left + right) / 2."},
  {.name = "left",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "in * cos((pan + 1) pi / 4): all of it at pan -1, -3 dB at 0."},
  {.name = "right",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "in * sin((pan + 1) pi / 4): all of it at pan 1, -3 dB at 0."},
};

static const HpParamDesc pan_params[N_PARAMS] = {
  {.name    = "pan",
   .aliases = (const char* const[]){"position", "balance", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = -1.0f,
   .max     = 1.0f,
   .def     = 0.0f,
   .doc     = "Position: -1 is left, 0 the centre (-3 dB each side), 1 "
              "right."},
};

const HpModuleDesc hp_mod_pan = {
  .type      = "pan",
  .aliases   = (const char* const[]){"panner", NULL},
  .doc       = "Equal-power panner: places a mono signal in the stereo pair, "
               "-3 dB each side at the centre.",
  .inputs    = pan_inputs,
  .n_inputs  = 1,
  .outputs   = pan_outputs,
  .n_outputs = N_OUTPUTS,
  .params    = pan_params,
  .n_params  = N_PARAMS,
  .process   = pan_process,
  .stereo    = true,
};
