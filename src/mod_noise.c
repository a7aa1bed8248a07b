/*
  noise: white, pink or brown noise from a xorshift32 generator whose state
  lives in the module state (so it carries across commits), as do the
  colouring filters'.

  White is uniform in [-gain, gain).  Pink and brown filter that white and
  keep its RMS, gain/sqrt 3, so switching colour keeps the level:

  - pink: Paul Kellet's "refined" filter (music-dsp, 1999), six one-poles
    in parallel, -3 dB/octave within 0.06 dB from 9.2 Hz x (rate / 44.1
    kHz) to Nyquist: from 20 Hz to 20 kHz at every rate up to 96 kHz
    (computed from its response; test_dsp_noise.c measures it).  Its
    poles are fixed, so its range scales with the rate (at 192 kHz it is
    1.1 dB short at 20 Hz).  Unit-variance white gives it an RMS of 3.0525.
  - brown: a leaky integrator with its corner at 5 Hz, so it cannot wander
    off: -6 dB/octave from 20 Hz (0.3 dB short of it there) up.  A zero at
    z = -0.16 holds the slope to 20 kHz at 44.1 kHz, where the plain
    one-pole's 1 / sin(w/2) would rise 3 dB above it: within 0.5 dB from
    20 Hz to 20 kHz at 44.1, 48 and 96 kHz.

  A colour's filter rests while another plays, and resumes where it
  stopped.
*/

#include "dsp.h"
#include "module.h"

#include <math.h>
#include <stdatomic.h>

enum { P_GAIN, P_COLOR, N_PARAMS };

enum { COLOR_WHITE, COLOR_PINK, COLOR_BROWN, N_COLORS };

/* 1 / 3.0525: the pink filter's RMS for unit-variance white. */
#define PINK_NORM 0.327597371f

#define BROWN_CORNER_HZ 5.0f
#define BROWN_ZERO 0.16f

typedef struct {
  uint32_t x;        /* xorshift32 state, never 0 */
  float    pink[7];  /* Kellet's six one-poles, and his last input's tap */
  float    brown;    /* the leaky integrator */
  float    brown_in; /* its last input, for the zero */
} NoiseState;

/* Each new module gets its own seed, so two noise modules in one patch are
   uncorrelated (the same seed would make them sum coherently). */
static atomic_uint noise_seeds;

static void
noise_init(void* const state, const HpParamIn* const param, const float rate)
{
  ((NoiseState*)state)->x = hp_seed((uint32_t)atomic_fetch_add_explicit(
    &noise_seeds, 1u, memory_order_relaxed));
  (void)param;
  (void)rate;
}

/* n frames of pink from the generator at x, white scaled by k; returns the
   generator's state. */
static uint32_t
noise_pink(NoiseState* const st,
           uint32_t          x,
           const float       k,
           float* const restrict out,
           const uint32_t n)
{
  float b0 = st->pink[0], b1 = st->pink[1], b2 = st->pink[2];
  float b3 = st->pink[3], b4 = st->pink[4], b5 = st->pink[5];
  float b6 = st->pink[6];
  for (uint32_t i = 0; i < n; ++i) {
    x             = hp_xorshift32(x);
    const float w = k * (float)(int32_t)x;
    b0            = 0.99886f * b0 + 0.0555179f * w;
    b1            = 0.99332f * b1 + 0.0750759f * w;
    b2            = 0.96900f * b2 + 0.1538520f * w;
    b3            = 0.86650f * b3 + 0.3104856f * w;
    b4            = 0.55000f * b4 + 0.5329522f * w;
    b5            = -0.7616f * b5 - 0.0168980f * w;
    out[i]        = b0 + b1 + b2 + b3 + b4 + b5 + b6 + 0.5362f * w;
    b6            = 0.115926f * w;
  }
  st->pink[0] = b0;
  st->pink[1] = b1;
  st->pink[2] = b2;
  st->pink[3] = b3;
  st->pink[4] = b4;
  st->pink[5] = b5;
  st->pink[6] = b6;
  return x;
}

/* n frames of brown, as noise_pink(). */
static uint32_t
noise_brown(NoiseState* const st,
            uint32_t          x,
            const float       k,
            const float       rate,
            float* const restrict out,
            const uint32_t n)
{
  /* The pole, e^(-2 pi corner / rate), and the input's scale that gives
     the output white's variance: the impulse response 1, (a + c) a^j has
     the energy 1 + (a + c)^2 / (1 - a^2). */
  const float a =
    hp_exp2f(-2.0f * 3.14159265f * 1.44269504f * BROWN_CORNER_HZ / rate);
  const float leak = 1.0f - a * a;
  const float kb =
    k * sqrtf(leak / (leak + (a + BROWN_ZERO) * (a + BROWN_ZERO)));
  float y  = st->brown;
  float w1 = st->brown_in;
  for (uint32_t i = 0; i < n; ++i) {
    x             = hp_xorshift32(x);
    const float w = kb * (float)(int32_t)x;
    y             = a * y + w + BROWN_ZERO * w1;
    w1            = w;
    out[i]        = y;
  }
  st->brown    = y;
  st->brown_in = w1;
  return x;
}

static void
noise_process(const HpNodeIO* const io, const uint32_t n)
{
  NoiseState* const      st   = (NoiseState*)io->state;
  const HpParamIn* const gain = &io->param[P_GAIN];
  float* const restrict out   = io->out[0];
  const uint32_t color        = (uint32_t)hp_clampf(
    hp_param_first(&io->param[P_COLOR]) + 0.5f, 0.0f, (float)(N_COLORS - 1));
  /* The gain folded into the int-to-float scale. */
  const float k = (gain->signal ? 1.0f : gain->value) * 0x1p-31f;

  /* A state of 0 would stay 0 forever; it can only come from a state that
     was never initialized, but costs nothing to rule out. */
  uint32_t x = st->x ? st->x : 1u;
  switch (color) {
  case COLOR_WHITE:
    for (uint32_t i = 0; i < n; ++i) {
      x      = hp_xorshift32(x);
      out[i] = k * (float)(int32_t)x;
    }
    break;
  case COLOR_PINK:
    x = noise_pink(st, x, k * PINK_NORM, out, n);
    break;
  default:
    x = noise_brown(st, x, k, io->rate, out, n);
    break;
  }
  st->x = x;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

static const HpPortDesc noise_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The noise, RMS gain/sqrt 3 in every colour: white uniform in "
           "-gain..gain, pink and brown near Gaussian (peaks to ~3 gain)."},
};

static const HpParamDesc noise_params[N_PARAMS] = {
  {.name    = "gain",
   .aliases = (const char* const[]){"amp", "amplitude", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 0.5f,
   .doc     = "Level: white's peak amplitude; pink and brown have the same "
              "RMS, gain/sqrt 3."},
  {.name    = "color",
   .aliases = (const char* const[]){"colour", NULL},
   .kind    = HP_PARAM_ENUM,
   .unit    = "",
   .min     = 0.0f,
   .max     = (float)(N_COLORS - 1),
   .def     = (float)COLOR_WHITE,
   .choices = (const char* const[]){"white", "pink", "brown", NULL},
   .doc     = "Spectrum: white (flat), pink (-3 dB/octave, equal power per "
              "octave) or brown (-6 dB/octave from 20 Hz: integrated white, "
              "leaking below 5 Hz so it cannot drift); all at white's RMS."},
};

const HpModuleDesc hp_mod_noise = {
  .type       = "noise",
  .doc        = "Noise generator: white, pink or brown.",
  .outputs    = noise_outputs,
  .n_outputs  = 1,
  .params     = noise_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(NoiseState),
  .init       = noise_init,
  .process    = noise_process,
};
