/*
  ladder: a 4-pole lowpass ladder (Moog-style, 24 dB/octave) in Vadim
  Zavalishin's zero-delay-feedback form ("The Art of VA Filter Design",
  ch. 5-6): four trapezoidal one-poles, prewarped so that g = tan(pi fc /
  rate), with the fourth's output fed back through a tanh into the first.

  The loop has no unit delay, so the feedback is solved each frame.  With
  G = g / (1 + g), each one-pole's output is G times its input plus what
  its state contributes, so the i-th is y_i = G^i u + B_i, B_i from the
  states alone, and u = a - k tanh(y_4).  The tanh is taken as the gain
  tanh(y) / y at the loop's linear solution (the saturator's gain there),
  and the loop is then solved exactly with that gain (mystran's "cheap
  non-linear zero-delay filters", KVR 2012), the tanh's division folded
  into the solve's.  Against Newton iterated to convergence it moved the
  self-oscillation pitch by under 0.01 % (a prototype); it is within
  0.01 % of the cutoff (test_dsp_filters.c).  Once u is known the four
  outputs come at once, not one after another: the frame's serial chain
  is the solve alone.

  With k = 4 (resonance 1) the linear loop oscillates exactly at the
  cutoff (the prewarping maps it there), so resonance 1 is the threshold;
  above it the tanh holds the oscillation at the amplitude where its gain
  brings the loop back to 4: a sine at the cutoff, 0.64 at resonance 1.1.
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

/* What a frame needs of the parameters: its settings. */
typedef struct {
  float G;    /* g / (1 + g): a one-pole's output per unit of its input */
  float k;    /* feedback, 4 at resonance 1 */
  float gain; /* drive, linear */
} LadderSettings;

/* From values in range: the cutoff in cycles per frame, the drive in dB. */
static inline LadderSettings
ladder_settings(const float cycles, const float resonance, const float drive_db)
{
  const float    g = hp_tanpi(cycles);
  LadderSettings p;
  p.G = g / (1.0f + g);
  p.k = 4.0f * resonance;
  /* 10^(dB / 20) = 2^(dB * log2(10) / 20) */
  p.gain = hp_exp2f(drive_db * 0.166096405f);
  return p;
}

/* Each frame's settings when a parameter is a signal. */
typedef struct {
  float G[HP_CHUNK], k[HP_CHUNK], gain[HP_CHUNK];
} LadderSettingsRun;

/* Ahead of the recursion, in loops that vectorize (a tan, a division and
   an exp2 a frame, four frames at a time); the clamps in loops of their
   own (dsp.h says why), which leave the clamped cutoff in cycles,
   resonance and dB in G, k and gain for the last loop to convert. */
HP_ALWAYS_INLINE void
ladder_settings_run(LadderSettingsRun* const restrict run,
                    const float* const restrict cutoff,
                    const float* const restrict resonance,
                    const float* const restrict drive_db,
                    const float    inv_rate,
                    const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    run->G[i] = hp_filter_cycles(cutoff[i], inv_rate);
  }
  for (uint32_t i = 0; i < n; ++i) {
    run->k[i] = hp_clampf(resonance[i], 0.0f, RESONANCE_MAX);
  }
  for (uint32_t i = 0; i < n; ++i) {
    run->gain[i] = hp_clampf(drive_db[i], 0.0f, DRIVE_MAX_DB);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const LadderSettings p =
      ladder_settings(run->G[i], run->k[i], run->gain[i]);
    run->G[i]    = p.G;
    run->k[i]    = p.k;
    run->gain[i] = p.gain;
  }
}

typedef struct {
  float Gp[4]; /* G, G^2, G^3, G^4: u's share of each one-pole's output */
  float hG[4]; /* (1 - G) G^j: state j's share of the next 4 - j outputs */
  float k;     /* feedback, 4 at resonance 1 */
  float kG4;   /* k G^4: the loop's gain */
  float lin;   /* 1 / (1 + k G^4): the loop's solution were it linear */
  float gain;  /* drive, linear */
} LadderCoefs;

HP_ALWAYS_INLINE LadderCoefs
ladder_coefs(const LadderSettings p)
{
  const float G = p.G;
  LadderCoefs c;
  c.Gp[0] = G;
  c.Gp[1] = G * G;
  c.Gp[2] = c.Gp[1] * G;
  c.Gp[3] = c.Gp[1] * c.Gp[1];
  c.hG[0] = 1.0f - G;
  for (int j = 1; j < 4; ++j) {
    c.hG[j] = c.hG[0] * c.Gp[j - 1];
  }
  c.k    = p.k;
  c.kG4  = p.k * c.Gp[3];
  c.lin  = 1.0f / (1.0f + c.kG4);
  c.gain = p.gain;
  return c;
}

HP_ALWAYS_INLINE float
ladder_tick(LadderState* const st, const LadderCoefs* const c, const float x)
{
  uint32_t h = st->noise;
  h ^= h << 13;
  h ^= h >> 17;
  h ^= h << 5;
  st->noise = h;

  const float  a  = hp_tanhf(c->gain * x) + HISS * (float)(int32_t)h;
  const float* s  = st->s;
  const float* hG = c->hG;
  /* B[i] = sum over j <= i of (1 - G) G^(i-j) s[j], as balanced sums. */
  const float B[4] = {
    hG[0] * s[0],
    hG[1] * s[0] + hG[0] * s[1],
    (hG[2] * s[0] + hG[1] * s[1]) + hG[0] * s[2],
    (hG[3] * s[0] + hG[2] * s[1]) + (hG[1] * s[2] + hG[0] * s[3]),
  };
  /* y4 = G^4 u + B4 and u = a - k t y4, t = p / q the tanh's gain:
     y4 = num / (1 + k t G^4), so k t y4 = k p num / (q + k G^4 p). */
  const float   num = c->Gp[3] * a + B[3];
  const HpRatio t   = hp_tanh_gain(num * c->lin);
  const float   u   = a - (c->k * t.p * num) / (t.q + c->kG4 * t.p);
  float         y   = 0.0f;
  for (int i = 0; i < 4; ++i) {
    y        = c->Gp[i] * u + B[i];
    st->s[i] = 2.0f * y - st->s[i];
  }
  return y;
}

static void
ladder_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the filter still rings out, or sings. */
  static const float silence[HP_CHUNK];

  LadderState* const st = (LadderState*)io->state;
  /* A copy that out cannot alias, so that it stays in registers. */
  LadderState            s         = *st;
  const float* const     in        = io->in[0] ? io->in[0] : silence;
  float* const           out       = io->out[0];
  const HpParamIn* const cutoff    = &io->param[P_CUTOFF];
  const HpParamIn* const resonance = &io->param[P_RESONANCE];
  const HpParamIn* const drive     = &io->param[P_DRIVE];
  if (!s.noise) {
    s.noise = HISS_SEED;
  }

  if (!cutoff->signal && !resonance->signal && !drive->signal) {
    const LadderCoefs c = ladder_coefs(
      ladder_settings(hp_filter_cycles(cutoff->value, io->inv_rate),
                      resonance->value,
                      drive->value));
    for (uint32_t i = 0; i < n; ++i) {
      out[i] = ladder_tick(&s, &c, in[i]);
    }
  } else {
    float              buf[3][HP_CHUNK];
    LadderSettingsRun  run;
    const float* const cutoffs = hp_param_values(cutoff, buf[0], n);
    const float* const res     = hp_param_values(resonance, buf[1], n);
    const float* const drives  = hp_param_values(drive, buf[2], n);
    if (n == HP_VEC) {
      ladder_settings_run(&run, cutoffs, res, drives, io->inv_rate, HP_VEC);
    } else {
      ladder_settings_run(&run, cutoffs, res, drives, io->inv_rate, n);
    }
    for (uint32_t i = 0; i < n; ++i) {
      const LadderSettings p = {run.G[i], run.k[i], run.gain[i]};
      const LadderCoefs    c = ladder_coefs(p);
      out[i]                 = ladder_tick(&s, &c, in[i]);
    }
  }
  *st = s;
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
  HP_PARAM_FILTER_CUTOFF(
    "Cutoff frequency, and the pitch it sings at above resonance "
    "1; a signal here may sweep it at audio rate."),
  {.name    = "resonance",
   .aliases = (const char* const[]){"res", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = RESONANCE_MAX,
   .def     = 0.0f,
   .doc     = "Feedback: 0 is none, 1 the edge of self-oscillation, above "
              "it a sine at the cutoff with no input (0.64 peak at 1.1); the "
              "passband drops as it rises (-14 dB at 1), as on a Moog."},
  {.name = "drive",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "dB",
   .min  = 0.0f,
   .max  = DRIVE_MAX_DB,
   .def  = 0.0f,
   .doc  = "Input gain in dB into a tanh saturator that limits to 1: at "
           "0 a sine of 0.5 gets a 3rd harmonic 34 dB down, at 24 it is "
           "nearly a square."},
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
