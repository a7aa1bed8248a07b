/*
  adsr: a linear attack-decay-sustain-release envelope and the VCA it
  drives.  out = in * env; env is also an output of its own.

  Segments are straight lines with exact lengths: attack rises at the
  full-scale rate 1/attack (from 0 it takes `attack`; a retrigger starts
  from the current level, so it never clicks), decay falls from 1 to
  sustain in `decay`, release falls from the level at gate-off to 0 in
  `release`.  A segment's length is rounded to whole frames once, when it
  is planned; the ramp is evaluated from the level at the start of each
  run (in double) rather than accumulated, so timing and levels stay exact
  over 10 s segments at any rate.

  Gate changes are sample-accurate.  Times and sustain are read once per
  call (a signal's first frame); sustain also follows a signal frame by
  frame while sustaining, so a smoothed live change does not step.
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

enum { P_ATTACK, P_DECAY, P_SUSTAIN, P_RELEASE, P_GATE, N_PARAMS };
enum { IN_IN, IN_GATE, N_INPUTS };
enum { OUT_OUT, OUT_ENV, N_OUTPUTS };

enum { ST_IDLE, ST_ATTACK, ST_DECAY, ST_SUSTAIN, ST_RELEASE };

#define MAX_MS 10000.0f

typedef struct {
  double   level;        /* envelope at the last frame rendered */
  double   step;         /* change per frame in the current ramp */
  double   target;       /* level at the end of the current ramp */
  double   release_from; /* level at gate-off */
  uint32_t left;         /* frames to the end of the current ramp */
  uint32_t stage;
  uint32_t gate;                            /* gate at the last frame */
  float    attack, decay, sustain, release; /* the plan's settings (ms, 0..1) */
  float    rate;
} AdsrState;

/* Settings from the parameters, clamped to the descriptor's ranges. */
static void
adsr_settings(const HpParamIn* const param,
              float* const           a,
              float* const           d,
              float* const           s,
              float* const           r)
{
  *a = hp_clampf(hp_param_first(&param[P_ATTACK]), 0.0f, MAX_MS);
  *d = hp_clampf(hp_param_first(&param[P_DECAY]), 0.0f, MAX_MS);
  *s = hp_clampf(hp_param_first(&param[P_SUSTAIN]), 0.0f, 1.0f);
  *r = hp_clampf(hp_param_first(&param[P_RELEASE]), 0.0f, MAX_MS);
}

/* The stage after a ramp. */
static uint32_t
adsr_next(const uint32_t stage)
{
  return stage == ST_ATTACK  ? ST_DECAY
         : stage == ST_DECAY ? ST_SUSTAIN
                             : ST_IDLE;
}

/* Plan the rest of the current ramp from the current level: its length in
   frames and its step.  Zero-length ramps complete at once, so this may
   pass through several stages. */
static void
adsr_plan(AdsrState* const st)
{
  for (;;) {
    double frames = 0.0;
    switch (st->stage) {
    case ST_ATTACK:
      st->target = 1.0;
      frames     = (1.0 - st->level) * hp_ms_to_frames(st->attack, st->rate);
      break;
    case ST_DECAY:
      st->target = (double)st->sustain;
      if (st->sustain < 1.0f) {
        frames = fabs(st->level - st->target) / (1.0 - st->target) *
                 hp_ms_to_frames(st->decay, st->rate);
      }
      break;
    case ST_RELEASE:
      st->target = 0.0;
      if (st->release_from > 0.0) {
        frames =
          st->level / st->release_from * hp_ms_to_frames(st->release, st->rate);
      }
      break;
    case ST_SUSTAIN:
      st->level = (double)st->sustain;
      return;
    default:
      return;
    }

    frames = floor(frames + 0.5);
    if (frames >= 1.0) {
      st->left = frames < 4.0e9 ? (uint32_t)frames : 4000000000u;
      st->step = (st->target - st->level) / (double)st->left;
      return;
    }

    /* Instant. */
    st->level = st->target;
    st->left  = 0;
    st->stage = adsr_next(st->stage);
  }
}

static void
adsr_init(void* const state, const HpParamIn* const param, const float rate)
{
  AdsrState* const st = (AdsrState*)state;
  adsr_settings(param, &st->attack, &st->decay, &st->sustain, &st->release);
  st->rate = rate;
  /* Idle at 0 with the gate off: a gate param already on starts the
     attack at the first frame. */
}

/* Loops over n frames, each called with the constant HP_VEC for a whole
   chunk, which gcc vectorizes best (dsp.h), and with n otherwise.  The
   ramp's value at frame i is l0 + (i + 1) step: evaluated, not
   accumulated. */

static inline void
ramp_mul(float* const restrict out,
         const float* const restrict in,
         const float    l0,
         const float    step,
         const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * (l0 + (float)(int32_t)(i + 1) * step);
  }
}

static inline void
ramp_fill(float* const restrict env,
          const float    l0,
          const float    step,
          const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    env[i] = l0 + (float)(int32_t)(i + 1) * step;
  }
}

static inline void
mul_into(float* const restrict out,
         const float* const restrict in,
         const float* const restrict env,
         const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * env[i];
  }
}

static inline void
scale_into(float* const restrict out,
           const float* const restrict in,
           const float    k,
           const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * k;
  }
}

/* n frames of the ramp: env (if read) and out. */
static void
emit_ramp(const float* const restrict in,
          float* const restrict out,
          float* const restrict env,
          const float    l0,
          const float    step,
          const uint32_t n)
{
  const bool whole = n == HP_VEC;
  if (env) {
    if (whole) {
      ramp_fill(env, l0, step, HP_VEC);
    } else {
      ramp_fill(env, l0, step, n);
    }
    if (in && whole) {
      mul_into(out, in, env, HP_VEC);
    } else if (in) {
      mul_into(out, in, env, n);
    }
  } else if (in && whole) {
    ramp_mul(out, in, l0, step, HP_VEC);
  } else if (in) {
    ramp_mul(out, in, l0, step, n);
  }
  if (!in) {
    memset(out, 0, n * sizeof(float));
  }
}

/* n frames of a constant level k. */
static void
emit_const(const float* const restrict in,
           float* const restrict out,
           float* const restrict env,
           const float    k,
           const uint32_t n)
{
  if (env) {
    hp_fill(env, k, n);
  }
  if (in && k != 0.0f) {
    if (n == HP_VEC) {
      scale_into(out, in, k, HP_VEC);
    } else {
      scale_into(out, in, k, n);
    }
  } else {
    memset(out, 0, n * sizeof(float));
  }
}

/* Render frames [from, to), with the gate constant over them. */
static void
adsr_render(AdsrState* const   st,
            const float* const in,
            float* const       out,
            float* const       env,
            const float* const sustain,
            uint32_t           i,
            const uint32_t     to)
{
  while (i < to) {
    const float* const in_i  = in ? in + i : NULL;
    float* const       env_i = env ? env + i : NULL;
    const uint32_t     n     = to - i;

    if (st->stage != ST_ATTACK && st->stage != ST_DECAY &&
        st->stage != ST_RELEASE && st->stage != ST_SUSTAIN) {
      st->stage = ST_IDLE;
      st->level = 0.0;
      emit_const(in_i, out + i, env_i, 0.0f, n);
      return;
    }

    if (st->stage == ST_SUSTAIN) {
      if (!sustain) {
        emit_const(in_i, out + i, env_i, (float)st->level, n);
        return;
      }
      /* A modulated sustain, frame by frame. */
      float s = 0.0f;
      for (uint32_t k = i; k < to; ++k) {
        s      = hp_clampf(sustain[k], 0.0f, 1.0f);
        out[k] = in ? in[k] * s : 0.0f;
        if (env) {
          env[k] = s;
        }
      }
      st->level = (double)s;
      return;
    }

    /* A ramp: as far as it goes within [i, to).  (A plan always leaves
       frames to go; replanning an empty one just moves on.) */
    if (!st->left) {
      adsr_plan(st);
      continue;
    }
    const uint32_t m = n < st->left ? n : st->left;
    emit_ramp(in_i, out + i, env_i, (float)st->level, (float)st->step, m);
    st->left -= m;
    i += m;
    if (st->left) {
      st->level += (double)m * st->step;
      continue;
    }

    /* The ramp's last frame is its target exactly, whatever the rounding,
       then the next stage. */
    const float t = (float)st->target;
    out[i - 1]    = in ? in[i - 1] * t : 0.0f;
    if (env) {
      env[i - 1] = t;
    }
    st->level = st->target;
    st->stage = adsr_next(st->stage);
    adsr_plan(st);
  }
}

static inline bool
gate_at(const float* const a, const float* const b, const uint32_t i)
{
  return (a && a[i] >= 0.5f) || (b && b[i] >= 0.5f);
}

static void
adsr_process(const HpNodeIO* const io, const uint32_t n)
{
  AdsrState* const   st   = (AdsrState*)io->state;
  const float* const in   = io->in[IN_IN];
  float* const       out  = io->out[OUT_OUT];
  float* const       env  = io->out[OUT_ENV];
  const HpParamIn*   gate = &io->param[P_GATE];
  const float* const sus  = io->param[P_SUSTAIN].signal;

  /* Settings changed (or a smoothed change is under way): replan the rest
     of the current segment from the current level. */
  float a, d, s, r;
  adsr_settings(io->param, &a, &d, &s, &r);
  if (a != st->attack || d != st->decay || s != st->sustain ||
      r != st->release || io->rate != st->rate) {
    st->attack  = a;
    st->decay   = d;
    st->sustain = s;
    st->release = r;
    st->rate    = io->rate;
    adsr_plan(st);
  }

  /* The gate is on when the param or the input is >= 0.5.  A constant
     param that is on, or no signal at all, makes it constant for the call;
     otherwise find each change and render the runs between them. */
  const float* const g_param = gate->signal;
  const float* const g_input = io->in[IN_GATE];
  /* A gate input constant over the call (a held note) is as good as none
     with the param set to its value. */
  const bool in_const = !g_input || (io->in_const >> IN_GATE & 1u);
  const bool g_const  = !g_param && (in_const || gate->value >= 0.5f);
  const bool g_value =
    gate->value >= 0.5f || (g_input && in_const && g_input[0] >= 0.5f);

  uint32_t i = 0;
  while (i < n) {
    const bool g = g_const ? g_value : gate_at(g_param, g_input, i);
    if (g != (bool)st->gate) {
      st->gate = g;
      if (g) {
        st->stage = ST_ATTACK;
      } else {
        st->stage        = ST_RELEASE;
        st->release_from = st->level;
      }
      adsr_plan(st);
    }

    uint32_t end = n;
    if (!g_const) {
      end = i + 1;
      while (end < n && gate_at(g_param, g_input, end) == g) {
        ++end;
      }
    }
    adsr_render(st, in, out, env, sus, i, end);
    i = end;
  }
}

/* Sounding from the attack to the end of the release: a voice whose
   envelopes are all idle is free. */
static bool
adsr_busy(const void* const state)
{
  return ((const AdsrState*)state)->stage != ST_IDLE;
}

static const HpPortDesc adsr_inputs[N_INPUTS] = {
  {.name = "in",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The signal to shape (silence when unconnected)."},
  {.name = "gate",
   .kind = HP_SIGNAL_CV,
   .doc  = "Gate signal, on while >= 0.5 (or the gate param is)."},
};

static const HpPortDesc adsr_outputs[N_OUTPUTS] = {
  {.name = "out", .kind = HP_SIGNAL_AUDIO, .doc = "in * env."},
  {.name = "env", .kind = HP_SIGNAL_CV, .doc = "The envelope, 0..1."},
};

static const HpParamDesc adsr_params[N_PARAMS] = {
  {.name    = "attack",
   .aliases = (const char* const[]){"a", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = MAX_MS,
   .def     = 10.0f,
   .doc =
     "Time to rise from 0 to 1 (from a higher level, proportionally less)."},
  {.name    = "decay",
   .aliases = (const char* const[]){"d", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = MAX_MS,
   .def     = 100.0f,
   .doc     = "Time to fall from 1 to the sustain level."},
  {.name    = "sustain",
   .aliases = (const char* const[]){"s", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 0.7f,
   .doc     = "Level held while the gate stays on."},
  {.name    = "release",
   .aliases = (const char* const[]){"r", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = MAX_MS,
   .def     = 300.0f,
   .doc     = "Time to fall from the level at gate-off to 0."},
  {.name = "gate",
   .kind = HP_PARAM_GATE,
   .unit = "",
   .min  = 0.0f,
   .max  = 1.0f,
   .def  = 0.0f,
   .doc =
     "Gate: on (1) starts the attack, off (0) the release; off and on again "
     "at one frame restarts the attack."},
};

const HpModuleDesc hp_mod_adsr = {
  .type       = "adsr",
  .aliases    = (const char* const[]){"envelope", NULL},
  .doc        = "Linear ADSR envelope with a built-in VCA (out = in * env).",
  .inputs     = adsr_inputs,
  .n_inputs   = N_INPUTS,
  .outputs    = adsr_outputs,
  .n_outputs  = N_OUTPUTS,
  .params     = adsr_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(AdsrState),
  .init       = adsr_init,
  .process    = adsr_process,
  .busy       = adsr_busy,
};
