/*
  slew: a slew limiter (lag).  The output follows the input, but moves by
  at most 1 per `rise` ms going up and per `fall` ms going down: linear
  slew, a ramp of constant speed, as a modular's slew limiter or glide
  does (not a one-pole lag, which slows as it nears the input).  A step of
  1 takes `rise` ms exactly, a step of 0.5 half as long; 0 ms is instant.
  On audio it limits the slope: a rise and fall of 0 pass it unchanged.
  A fresh module starts at its input's first value.

  The output is kept in double, so a long ramp lands on time to the frame,
  and within reach it is the input exactly; a non-finite input is ignored
  (the output holds), so it cannot stick.
*/

#include "dsp.h"
#include "module.h"

enum { P_RISE, P_FALL, N_PARAMS };

#define TIME_MAX 10000.0f

/* A ramp's last step lands on the input: within 0.1% of a whole step it
   is taken, so the rounding a ramp gathers (up to 1e-4 of a step over a
   10 s unit ramp at 96 kHz) does not leave a sliver for one frame more. */
#define SLACK 1.001

typedef struct {
  double   y;
  uint32_t started; /* y has taken a first input */
} SlewState;

/* The largest move per frame for `ms` per unit; 0 ms: unlimited. */
static inline double
slew_step(const float ms, const float rate)
{
  const double frames = hp_ms_to_frames(hp_clampf(ms, 0.0f, TIME_MAX), rate);
  return frames > 0.0 ? 1.0 / frames : HUGE_VAL;
}

static void
slew_process(const HpNodeIO* const io, const uint32_t n)
{
  SlewState* const       st   = (SlewState*)io->state;
  const float* const     in   = io->in[0];
  float* const           out  = io->out[0];
  const HpParamIn* const rise = &io->param[P_RISE];
  const HpParamIn* const fall = &io->param[P_FALL];
  double                 up   = slew_step(rise->value, io->rate);
  double                 down = slew_step(fall->value, io->rate);
  double                 y    = st->y;

  /* A fresh module starts where its input does: a pitch or a cutoff
     glides from the last value, not up from 0. */
  if (!st->started && in && isfinite(in[0])) {
    y           = (double)in[0];
    st->started = 1u;
  }

  for (uint32_t i = 0; i < n; ++i) {
    if (rise->signal) {
      up = slew_step(rise->signal[i], io->rate);
    }
    if (fall->signal) {
      down = slew_step(fall->signal[i], io->rate);
    }
    const float x = in ? in[i] : 0.0f;
    if (isfinite(x)) {
      const double d = (double)x - y;
      y = d > up * SLACK ? y + up : (d < -down * SLACK ? y - down : (double)x);
    }
    out[i] = (float)y;
  }
  st->y = y;
}

static const HpPortDesc slew_inputs[] = {
  {.name = "in",
   .kind = HP_SIGNAL_CV,
   .doc  = "The signal to follow (unconnected: 0)."},
};

static const HpPortDesc slew_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_CV,
   .doc  = "The input, reached at a speed of at most 1 per rise (fall) time."},
};

static const HpParamDesc slew_params[N_PARAMS] = {
  {.name    = "rise",
   .aliases = (const char* const[]){"up", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = TIME_MAX,
   .def     = 10.0f,
   .doc     = "Time to rise by 1 (a step of 0.5 takes half); 0 is instant."},
  {.name    = "fall",
   .aliases = (const char* const[]){"down", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = TIME_MAX,
   .def     = 10.0f,
   .doc     = "Time to fall by 1 (a step of 0.5 takes half); 0 is instant."},
};

const HpModuleDesc hp_mod_slew = {
  .type       = "slew",
  .aliases    = (const char* const[]){"lag", "slew_limiter", NULL},
  .doc        = "Slew limiter: the output ramps to the input at a set speed, "
                "separately up and down.",
  .inputs     = slew_inputs,
  .n_inputs   = 1,
  .outputs    = slew_outputs,
  .n_outputs  = 1,
  .params     = slew_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SlewState),
  .process    = slew_process,
};
