/*
  sh: sample and hold.  On a rising edge of `trig` (through 0.5), or on
  each tick of its own clock at `rate` when `trig` is unconnected, the
  output takes the value of `in` at that frame and holds it exactly until
  the next.  With `in` unconnected it samples its own white noise (a fresh
  value, -1..1, per sample taken): the classic random stepped voltage.

  The clock is a 64-bit phase; a tick is its wrap.  Its increment is
  exact to 1e-16 (the oscillators' 32-bit one is off by up to 1 in 2^32 /
  (rate / hz): at 0.25 Hz, half a millisecond in 20 s), so the k-th step
  comes k rate / hz frames after the first, to the frame, however long it
  runs.  A fresh module starts a tick away: it samples on its first frame.
*/

#include "dsp.h"
#include "module.h"

#include <stdatomic.h>

enum { IN_IN, IN_TRIG, N_INPUTS };

enum { P_RATE, N_PARAMS };

#define RATE_MIN 0.01f
#define RATE_MAX 1000.0f

typedef struct {
  uint64_t phase; /* own clock */
  float    held;
  uint32_t noise;     /* xorshift32 state, never 0 */
  uint32_t trig_high; /* trig was >= 0.5 at the last frame */
} ShState;

/* Each module its own noise (see mod_noise.c). */
static atomic_uint sh_seeds;

static void
sh_init(void* const state, const HpParamIn* const param, const float rate)
{
  ShState* const st = (ShState*)state;
  /* Salted: not the sequence of the noise module made as many times. */
  st->noise = hp_seed(0x53484E4Fu ^ (uint32_t)atomic_fetch_add_explicit(
                                      &sh_seeds, 1u, memory_order_relaxed));
  st->phase = UINT64_MAX;
  (void)param;
  (void)rate;
}

/* The value taken at frame i: the input's (a non-finite one as 0, so that
   nothing non-finite is held), or fresh noise. */
static inline float
sh_take(const float* const in, const uint32_t i, uint32_t* const noise)
{
  if (in) {
    return isfinite(in[i]) ? in[i] : 0.0f;
  }
  *noise = hp_xorshift32(*noise);
  return (float)(int32_t)*noise * 0x1p-31f;
}

static void
sh_process(const HpNodeIO* const io, const uint32_t n)
{
  ShState* const     st   = (ShState*)io->state;
  const float* const in   = io->in[IN_IN];
  const float* const trig = io->in[IN_TRIG];
  float* const       out  = io->out[0];
  float              held = st->held;
  uint32_t           rng  = st->noise ? st->noise : 1u;

  if (trig) {
    uint32_t high = st->trig_high;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t now = trig[i] >= 0.5f;
      if (now && !high) {
        held = sh_take(in, i, &rng);
      }
      high   = now;
      out[i] = held;
    }
    st->trig_high = high;
  } else {
    const HpParamIn* const rate = &io->param[P_RATE];
    /* Phase per Hz: a cycle is 2^64; at most RATE_MAX / rate of one per
       frame, far from overflowing the conversion. */
    const double   per_hz = 18446744073709551616.0 / (double)io->rate;
    const uint64_t inc    = (uint64_t)((double)rate->value * per_hz);
    uint64_t       p      = st->phase;
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t next =
        p +
        (rate->signal
           ? (uint64_t)((double)hp_clampf(rate->signal[i], RATE_MIN, RATE_MAX) *
                        per_hz)
           : inc);
      if (next < p) { /* wrapped: a tick */
        held = sh_take(in, i, &rng);
      }
      p      = next;
      out[i] = held;
    }
    st->phase     = p;
    st->trig_high = 0u; /* an unconnected trig is low */
  }
  st->held  = held;
  st->noise = rng;
}

static const HpPortDesc sh_inputs[N_INPUTS] = {
  {.name = "in",
   .kind = HP_SIGNAL_CV,
   .doc  = "The value to sample (unconnected: white noise, -1..1, a random "
           "step each time)."},
  {.name = "trig",
   .kind = HP_SIGNAL_CV,
   .doc =
     "Samples on each rising edge through 0.5 (unconnected: its own clock at "
     "rate)."},
};

static const HpPortDesc sh_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_CV,
   .doc  = "The value last sampled, held until the next."},
};

static const HpParamDesc sh_params[N_PARAMS] = {
  {.name      = "rate",
   .aliases   = (const char* const[]){"freq", "frequency", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = RATE_MIN,
   .max       = RATE_MAX,
   .def       = 4.0f,
   .log_scale = true,
   .doc       = "Samples per second of its own clock, used while trig is "
                "unconnected."},
};

const HpModuleDesc hp_mod_sh = {
  .type       = "sh",
  .aliases    = (const char* const[]){"sample_hold", NULL},
  .doc        = "Sample and hold: takes in (or noise) on each trigger or clock "
                "tick and holds it.",
  .inputs     = sh_inputs,
  .n_inputs   = N_INPUTS,
  .outputs    = sh_outputs,
  .n_outputs  = 1,
  .params     = sh_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(ShState),
  .init       = sh_init,
  .process    = sh_process,
};
