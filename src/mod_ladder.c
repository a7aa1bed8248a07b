/*
  ladder: a 4-pole lowpass ladder (Moog-style, 24 dB/octave) in Vadim
  Zavalishin's zero-delay-feedback form ("The Art of VA Filter Design",
  ch. 5-6): four trapezoidal one-poles, prewarped so that g = tan(pi fc /
  rate), with the fourth's output fed back through a tanh into the first.

  The loop has no unit delay, so the feedback is solved each frame:
  y4 = G^4 u + S (G = g / (1 + g), S what the states contribute) with
  u = a - k tanh(y4).  The tanh is taken as the gain tanh(y) / y at the
  loop's linear solution (the saturator's gain there), and the loop is then
  solved exactly with that gain (mystran's "cheap non-linear zero-delay
  filters", KVR 2012): one extra division, and as accurate as iterating
  Newton to convergence (self-oscillation pitch within 0.01 % of it, and
  of the cutoff, at 110..8000 Hz; test_dsp_filters.c).

  With k = 4 resonance the linear loop oscillates exactly at the cutoff
  (the prewarping maps it there), so resonance 1 is the threshold; above
  it the tanh holds the oscillation at the amplitude where its gain brings
  the loop back to 4: a sine at the cutoff, about 0.64 at resonance 1.1.
  Silence would never start it, so a -120 dB hiss (xorshift32, in the
  state) is added to the input, as an analogue filter's noise would; it
  also keeps the states far from denormals.

  The input goes through `drive` and a tanh before the loop, so neither a
  NaN nor an infinity reaches the states (hp_tanhf makes NaN -1), and the
  states stay bounded: each one-pole is a contraction, and what the loop
  feeds back is at most k (1 + k G^4) in size.  No reset is needed.
*/

#include "dsp.h"
#include "module.h"

enum { P_CUTOFF, P_RESONANCE, P_DRIVE, N_PARAMS };

#define CUTOFF_MIN 20.0f
#define CUTOFF_MAX_RATIO 0.49f /* below Nyquist: tan stays finite */
#define RESONANCE_MAX 1.1f
#define DRIVE_MAX_DB 24.0f

/* The hiss that starts self-oscillation: -120 dB full scale, uniform. */
#define HISS (1e-6f * 0x1p-31f)

/* The seed of the hiss, for a state that was zeroed (never 0). */
#define HISS_SEED 0x9E3779B9u

typedef struct {
  float    s[4];  /* the one-poles' trapezoidal integrator states */
  uint32_t noise; /* xorshift32 state of the hiss */
} LadderState;

typedef struct {
  float G;    /* g / (1 + g): a one-pole's instantaneous gain */
  float G4;   /* G^4: the loop's */
  float k;    /* feedback, 4 at resonance 1 */
  float gain; /* drive, linear */
} LadderCoefs;

static LadderCoefs
ladder_coefs(const float cutoff,
             const float resonance,
             const float drive_db,
             const float inv_rate)
{
  const float fc =
    hp_clampf(cutoff * inv_rate, CUTOFF_MIN * inv_rate, CUTOFF_MAX_RATIO);
  const float g = hp_tanpi(fc);
  LadderCoefs c;
  c.G  = g / (1.0f + g);
  c.G4 = (c.G * c.G) * (c.G * c.G);
  c.k  = 4.0f * hp_clampf(resonance, 0.0f, RESONANCE_MAX);
  /* 10^(dB / 20) = 2^(dB * log2(10) / 20) */
  c.gain = hp_exp2f(hp_clampf(drive_db, 0.0f, DRIVE_MAX_DB) * 0.166096405f);
  return c;
}

static inline float
ladder_tick(LadderState* const       st,
            const LadderCoefs* const c,
            const float              x,
            uint32_t* const          noise)
{
  uint32_t h = *noise;
  h ^= h << 13;
  h ^= h >> 17;
  h ^= h << 5;
  *noise = h;

  const float a = hp_tanhf(c->gain * x) + HISS * (float)(int32_t)h;
  const float G = c->G;
  /* y4 = G^4 u + S, S = (1 - G) (G^3 s1 + G^2 s2 + G s3 + s4). */
  const float S =
    (1.0f - G) * (((G * st->s[0] + st->s[1]) * G + st->s[2]) * G + st->s[3]);
  const float num = c->G4 * a + S;
  const float t   = hp_tanh_ratio(num / (1.0f + c->k * c->G4));
  const float y4  = num / (1.0f + c->k * t * c->G4);
  float       u   = a - c->k * t * y4;
  for (int i = 0; i < 4; ++i) {
    const float v = G * (u - st->s[i]);
    u             = v + st->s[i];
    st->s[i]      = u + v;
  }
  return u;
}

static void
ladder_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the filter still rings out, or sings. */
  static const float silence[HP_CHUNK];

  LadderState* const     st        = (LadderState*)io->state;
  const float* const     in        = io->in[0] ? io->in[0] : silence;
  float* const           out       = io->out[0];
  const HpParamIn* const cutoff    = &io->param[P_CUTOFF];
  const HpParamIn* const resonance = &io->param[P_RESONANCE];
  const HpParamIn* const drive     = &io->param[P_DRIVE];
  uint32_t               noise     = st->noise ? st->noise : HISS_SEED;

  if (!cutoff->signal && !resonance->signal && !drive->signal) {
    const LadderCoefs c =
      ladder_coefs(cutoff->value, resonance->value, drive->value, io->inv_rate);
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = ladder_tick(st, &c, in[i], &noise);
    }
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      const LadderCoefs c = ladder_coefs(hp_param_at(cutoff, i),
                                         hp_param_at(resonance, i),
                                         hp_param_at(drive, i),
                                         io->inv_rate);
      out[i]              = ladder_tick(st, &c, in[i], &noise);
    }
  }
  st->noise = noise;
}

static const HpPortDesc ladder_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The signal to filter."},
};

static const HpPortDesc ladder_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Lowpass, 24 dB/octave above the cutoff."},
};

static const HpParamDesc ladder_params[N_PARAMS] = {
  {.name      = "cutoff",
   .aliases   = (const char* const[]){"freq", "frequency", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = CUTOFF_MIN,
   .max       = 20000.0f,
   .def       = 1000.0f,
   .log_scale = true,
   .doc       = "Cutoff frequency, and the pitch it sings at above resonance "
                "1; a signal here may sweep it at audio rate."},
  {.name    = "resonance",
   .aliases = (const char* const[]){"res", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = RESONANCE_MAX,
   .def     = 0.0f,
   .doc     = "Feedback: 0 is none, 1 the edge of self-oscillation, above "
              "it a sine at the cutoff with no input; the bass drops as it "
              "rises, as on a Moog."},
  {.name = "drive",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "dB",
   .min  = 0.0f,
   .max  = DRIVE_MAX_DB,
   .def  = 0.0f,
   .doc  = "Input gain in dB into a tanh saturator that limits to 1: "
           "more drive, more harmonics; at 0 quiet signals pass nearly "
           "clean."},
};

const HpModuleDesc hp_mod_ladder = {
  .type       = "ladder",
  .doc        = "Moog-style 4-pole lowpass ladder (zero-delay feedback) with "
                "resonance up to self-oscillation and a driven saturator.",
  .inputs     = ladder_inputs,
  .n_inputs   = 1,
  .outputs    = ladder_outputs,
  .n_outputs  = 1,
  .params     = ladder_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(LadderState),
  .process    = ladder_process,
};
