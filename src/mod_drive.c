/*
  drive: a waveshaper -- cubic soft clip, tanh or sine fold -- run at four
  times the sample rate, so that the harmonics it makes above Nyquist are
  filtered out instead of folding back as inharmonic aliases.

  Per frame: in * drive, up 2x, up 2x, the curve, down 2x, down 2x, times
  level, mixed with the input delayed by the same latency.  The filters
  are linear-phase FIRs (Kaiser-windowed sincs), so the dry signal lines up
  with the wet sample for sample and any mix is free of comb filtering.
  Their edges, at 48 kHz (they scale with the rate):
  - up from the rate: halfband, 47 taps (beta 6): one phase is the input
    itself, the other 24 taps; images of 0..20 kHz -62 dB;
  - between 2x and 4x, both ways: halfband, 19 taps (beta 7): flat to
    24 kHz, -72 dB from 72 kHz;
  - down to the rate: a 97-tap lowpass at 0.2285 of 2x (beta 6.5), flat
    (0.007 dB) to 20 kHz and -65 dB from 24 kHz.  Not a halfband: that is
    -6 dB at 24 kHz, and the 25 kHz harmonic of a 5 kHz tone came back at
    23 kHz, -25 dB, the worst alias of all.
  Latency: (23 + 9 + 48) frames at 2x, 40 frames at the rate (0.83 ms at
  48 kHz); the dry path is delayed by as much, so mix 0 gives the input 40
  frames late, exactly.

  Aliasing (test_dsp_drive.c measures it: every component of the output
  that is not a harmonic of the input, against the fundamental), for a
  full-scale tone at 48 kHz driven 24 dB, the plain curve at the rate in
  brackets: 5 kHz: soft -40 dB (-11), tanh -40 dB (-11), fold -60 dB
  (+12); 9.1 kHz: soft -25 dB (-7), tanh -27 dB (-7), fold -11 dB (+12).
  What is left is the curve's harmonics beyond 96 kHz, folded by the 4x
  rate itself; a sine fold driven that hard spreads harmonics far beyond.

  Cost: 161 multiply-adds a frame in the filters (97 of them the last),
  four SSE lanes at a time; about 300 instructions a frame in all
  (callgrind; a biquad takes 18).

  State is the filters' histories and the dry delay: no NaN can enter them,
  as a non-finite input is taken as 0 and the driven signal is held within
  +-1e4 (the curves are flat or folding there anyway).
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

enum { P_DRIVE, P_SHAPE, P_MIX, P_LEVEL, N_PARAMS };

enum { SHAPE_SOFT, SHAPE_TANH, SHAPE_FOLD, N_SHAPES };

/* Frames per pass through the chain: bounds the stack buffers (x4). */
#define BLOCK 64u

/* Frames of history each filter reads: its taps minus 1, in the stream it
   reads (the 4x streams and the 2x one into the decimator kept by phase). */
#define UP_HIST 23u   /* up_taps, at the rate */
#define HALF_HIST 9u  /* half_taps, at 2x in, at 4x by phase out */
#define ODD_HIST 5u   /* the halfband's centre tap, odd 4x phase */
#define DOWN_HIST 48u /* down_taps_even, _odd, at the rate by phase */
#define LATENCY 40u   /* frames at the rate, dry delay */

/* The driven signal is held within this (see above). */
#define DRIVEN_MAX 1.0e4f

/* The halfbands are kept as designed: the centre tap exactly 1/2, so one
   phase of the upsampler is the input itself, and the other phase's taps
   sum to a hair under 1/2 (DC gain 0.99992, 0.9997).  Scaling those to
   make DC exact lifts the whole stopband by a constant: the 19-tap one's
   worst went from -72 to -68 dB, and a sine fold driven hard, which makes
   much between 72 and 96 kHz at 4x, aliased at -51 dB instead of -60. */

/* Up, rate to 2x: halfband, 47 taps, Kaiser beta 6: the non-zero taps of
   the even phase, times 2 (the odd phase: the input 11 frames late). */
static const float up_taps[24] = {
  -0.000411680891f, 0.00142482001f,  -0.00332869598f, 0.00652412517f,
  -0.0115157792f,   0.0189683048f,   -0.0298497652f,  0.0458022962f,
  -0.070191395f,    0.111718296f,    -0.202515114f,   0.633332978f,
  0.633332978f,     -0.202515114f,   0.111718296f,    -0.070191395f,
  0.0458022962f,    -0.0298497652f,  0.0189683048f,   -0.0115157792f,
  0.00652412517f,   -0.00332869598f, 0.00142482001f,  -0.000411680891f};

/* 2x to 4x and back: halfband, 19 taps, Kaiser beta 7, the same way. */
static const float half_taps[10] = {0.000419561602f,
                                    -0.00863491015f,
                                    0.0431112185f,
                                    -0.14663829f,
                                    0.611592848f,
                                    0.611592848f,
                                    -0.14663829f,
                                    0.0431112185f,
                                    -0.00863491015f,
                                    0.000419561602f};

/* 2x down to the rate: 97 taps, cutoff 0.2285 of 2x, Kaiser beta 6.5, sum
   1; split into the taps on the even and on the odd 2x frames. */
static const float down_taps_even[49] = {
  -1.24605059e-05f, -9.29073862e-06f, 8.03528094e-05f, -0.000224551472f,
  0.000460383172f,  -0.0007930029f,   0.00120570138f,  -0.00165249217f,
  0.00205363616f,   -0.00229580791f,  0.00223811827f,  -0.00172438558f,
  0.000601000121f,  0.00126137929f,   -0.00394501939f, 0.00746454073f,
  -0.0117520465f,   0.0166509655f,    -0.0219206131f,  0.0272520369f,
  -0.0322940515f,   0.036686758f,     -0.0400985533f,  0.0422618983f,
  0.457032729f,     0.0422618983f,    -0.0400985533f,  0.036686758f,
  -0.0322940515f,   0.0272520369f,    -0.0219206131f,  0.0166509655f,
  -0.0117520465f,   0.00746454073f,   -0.00394501939f, 0.00126137929f,
  0.000601000121f,  -0.00172438558f,  0.00223811827f,  -0.00229580791f,
  0.00205363616f,   -0.00165249217f,  0.00120570138f,  -0.0007930029f,
  0.000460383172f,  -0.000224551472f, 8.03528094e-05f, -9.29073862e-06f,
  -1.24605059e-05f};

static const float down_taps_odd[48] = {
  -9.44380199e-05f, 0.000179286235f,  -0.000276424948f, 0.00035841988f,
  -0.000382226822f, 0.000291426224f,  -2.24485801e-05f, -0.000485128481f,
  0.00127490339f,   -0.00235806871f,  0.00369802124f,   -0.0051975512f,
  0.00669080616f,   -0.00794143948f,  0.00864687844f,   -0.00844631165f,
  0.00692627297f,   -0.00361088582f,  -0.00209165852f,  0.0110588513f,
  -0.0249679037f,   0.0480981463f,    -0.0963829758f,   0.315023589f,
  0.315023589f,     -0.0963829758f,   0.0480981463f,    -0.0249679037f,
  0.0110588513f,    -0.00209165852f,  -0.00361088582f,  0.00692627297f,
  -0.00844631165f,  0.00864687844f,   -0.00794143948f,  0.00669080616f,
  -0.0051975512f,   0.00369802124f,   -0.00235806871f,  0.00127490339f,
  -0.000485128481f, -2.24485801e-05f, 0.000291426224f,  -0.000382226822f,
  0.00035841988f,   -0.000276424948f, 0.000179286235f,  -9.44380199e-05f};

typedef struct {
  float up[UP_HIST];            /* driven input */
  float half_in[HALF_HIST];     /* 2x, into the second upsampler */
  float shaped_even[HALF_HIST]; /* 4x after the curve, even frames */
  float shaped_odd[ODD_HIST];   /* and odd frames */
  float down_even[DOWN_HIST];   /* 2x into the last decimator, even frames */
  float down_odd[DOWN_HIST];    /* and odd frames */
  float dry[LATENCY];
} DriveState;

/* y[j] += sum_k c[k] x[j - k] for j < n; x reaches taps - 1 frames back.
   With SSE2, 16 outputs at a time in four vectors kept in registers across
   the taps, four independent sums to hide the adds' latency (gcc, left to
   vectorize a loop over such lanes, kept the sums in memory; a pass over y
   per tap spent more on loads, stores and loop setup than on products).
   Each output sums from 0 in tap order on every path, so the output does
   not depend on how the calls are chunked. */
HP_ALWAYS_INLINE void
fir_acc(float* const restrict y,
        const float* const restrict x,
        const float* const restrict c,
        const uint32_t taps,
        const uint32_t n)
{
  uint32_t j = 0;
#if defined(__SSE2__)
  for (; j + 16u <= n; j += 16u) {
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (uint32_t k = 0; k < taps; ++k) {
      const float* const xk = x + j - k;
      const __m128       ck = _mm_set1_ps(c[k]);
      a0                    = _mm_add_ps(a0, _mm_mul_ps(ck, _mm_loadu_ps(xk)));
      a1 = _mm_add_ps(a1, _mm_mul_ps(ck, _mm_loadu_ps(xk + 4)));
      a2 = _mm_add_ps(a2, _mm_mul_ps(ck, _mm_loadu_ps(xk + 8)));
      a3 = _mm_add_ps(a3, _mm_mul_ps(ck, _mm_loadu_ps(xk + 12)));
    }
    _mm_storeu_ps(y + j, _mm_add_ps(_mm_loadu_ps(y + j), a0));
    _mm_storeu_ps(y + j + 4, _mm_add_ps(_mm_loadu_ps(y + j + 4), a1));
    _mm_storeu_ps(y + j + 8, _mm_add_ps(_mm_loadu_ps(y + j + 8), a2));
    _mm_storeu_ps(y + j + 12, _mm_add_ps(_mm_loadu_ps(y + j + 12), a3));
  }
#endif
  for (; j < n; ++j) {
    const float* const xj  = x + j;
    float              acc = 0.0f;
    for (uint32_t k = 0; k < taps; ++k) {
      acc += c[k] * *(xj - k);
    }
    y[j] += acc;
  }
}

/* The curves: slope 1 at 0, output within -1..1. */

/* x - 4x^3/27 up to |x| = 1.5, where it reaches +-1 with slope 0.  The
   clamp in a loop of its own, so that both vectorize (dsp.h). */
static void
shape_soft(float* const restrict x, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = hp_clampf(x[i], -1.5f, 1.5f);
  }
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = x[i] * (1.0f - (4.0f / 27.0f) * x[i] * x[i]);
  }
}

static void
shape_tanh(float* const restrict x, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = hp_clampf(x[i], -HP_TANH_HOLD, HP_TANH_HOLD);
  }
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = hp_tanhf_held(x[i]);
  }
}

/* sin(x): folds back beyond +-pi/2. */
static void
shape_fold(float* const restrict x, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    const float u = x[i] * 0.159154943f; /* cycles: 1 / (2 pi) */
    /* Adding and removing 1.5 * 2^23 rounds to the nearest integer. */
    x[i] = hp_sin2pi(u - ((u + 12582912.0f) - 12582912.0f));
  }
}

static void
shape_run(float* const restrict x, const uint32_t shape, const uint32_t n)
{
  switch (shape) {
  case SHAPE_SOFT:
    shape_soft(x, n);
    break;
  case SHAPE_TANH:
    shape_tanh(x, n);
    break;
  default:
    shape_fold(x, n);
    break;
  }
}

/* m (<= BLOCK) frames of the driven signal x through the chain into wet. */
static void
drive_block(DriveState* const restrict st,
            const float* const restrict x,
            float* const restrict wet,
            const uint32_t shape,
            const uint32_t m)
{
  float up_in[UP_HIST + BLOCK];
  float half_in[HALF_HIST + 2u * BLOCK];
  float even[HALF_HIST + 2u * BLOCK]; /* 4x, by phase */
  float odd[ODD_HIST + 2u * BLOCK];
  float mid[2u * BLOCK]; /* 2x, after the first decimator */
  float down_e[DOWN_HIST + BLOCK];
  float down_o[DOWN_HIST + BLOCK];

  /* Rate to 2x: the even frames filtered, the odd ones the input. */
  memcpy(up_in, st->up, sizeof(st->up));
  /* The caller wrote x[0 .. m) (cppcheck follows the whole array). */
  // cppcheck-suppress uninitvar
  memcpy(up_in + UP_HIST, x, m * sizeof(float));
  memcpy(st->up, up_in + m, sizeof(st->up));
  memcpy(half_in, st->half_in, sizeof(st->half_in));
  float* const up_even = mid; /* free until the decimator */
  hp_fill(up_even, 0.0f, m);
  fir_acc(up_even, up_in + UP_HIST, up_taps, 24u, m);
  for (uint32_t j = 0; j < m; ++j) {
    half_in[HALF_HIST + 2u * j]      = up_even[j];
    half_in[HALF_HIST + 2u * j + 1u] = up_in[UP_HIST - 11u + j];
  }
  memcpy(st->half_in, half_in + 2u * m, sizeof(st->half_in));

  /* 2x to 4x, kept as its even and odd frames, through the curve. */
  float* const e = even + HALF_HIST;
  float* const o = odd + ODD_HIST;
  hp_fill(e, 0.0f, 2u * m);
  fir_acc(e, half_in + HALF_HIST, half_taps, 10u, 2u * m);
  for (uint32_t t = 0; t < 2u * m; ++t) {
    o[t] = half_in[HALF_HIST - 4u + t];
  }
  shape_run(e, shape, 2u * m);
  shape_run(o, shape, 2u * m);

  /* 4x to 2x: the even frames' taps and the centre tap on the odd ones. */
  memcpy(even, st->shaped_even, sizeof(st->shaped_even));
  memcpy(odd, st->shaped_odd, sizeof(st->shaped_odd));
  memcpy(st->shaped_even, even + 2u * m, sizeof(st->shaped_even));
  memcpy(st->shaped_odd, odd + 2u * m, sizeof(st->shaped_odd));
  hp_fill(mid, 0.0f, 2u * m);
  fir_acc(mid, e, half_taps, 10u, 2u * m);
  for (uint32_t t = 0; t < 2u * m; ++t) {
    mid[t] = 0.5f * (mid[t] + odd[t]);
  }

  /* 2x to the rate. */
  memcpy(down_e, st->down_even, sizeof(st->down_even));
  memcpy(down_o, st->down_odd, sizeof(st->down_odd));
  for (uint32_t j = 0; j < m; ++j) {
    down_e[DOWN_HIST + j] = mid[2u * j];
    down_o[DOWN_HIST + j] = mid[2u * j + 1u];
  }
  memcpy(st->down_even, down_e + m, sizeof(st->down_even));
  memcpy(st->down_odd, down_o + m, sizeof(st->down_odd));
  hp_fill(wet, 0.0f, m);
  fir_acc(wet, down_e + DOWN_HIST, down_taps_even, 49u, m);
  fir_acc(wet, down_o + DOWN_HIST - 1u, down_taps_odd, 48u, m);
}

static uint32_t
drive_shape(const HpParamIn* const p)
{
  const float shape = hp_param_first(p) + 0.5f;
  return (uint32_t)hp_clampf(shape, 0.0f, (float)(N_SHAPES - 1));
}

static void
drive_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the filters still ring out their state. */
  static const float silence[HP_CHUNK];

  DriveState* const      st         = (DriveState*)io->state;
  const float* const     in         = io->in[0] ? io->in[0] : silence;
  float* const           out        = io->out[0];
  const HpParamIn* const drive      = &io->param[P_DRIVE];
  const HpParamIn* const mix        = &io->param[P_MIX];
  const HpParamIn* const level      = &io->param[P_LEVEL];
  const uint32_t         shape      = drive_shape(&io->param[P_SHAPE]);
  const float            drive_gain = hp_db_gain(drive->value);
  const float            level_gain = hp_db_gain(level->value);

  for (uint32_t i = 0; i < n; i += BLOCK) {
    const uint32_t m = n - i < BLOCK ? n - i : BLOCK;
    float          dry[LATENCY + BLOCK];
    float          x[BLOCK];
    float          wet[BLOCK];

    memcpy(dry, st->dry, sizeof(st->dry));
    for (uint32_t j = 0; j < m; ++j) {
      dry[LATENCY + j] = isfinite(in[i + j]) ? in[i + j] : 0.0f;
    }
    memcpy(st->dry, dry + m, sizeof(st->dry));
    for (uint32_t j = 0; j < m; ++j) {
      const float g =
        drive->signal ? hp_db_gain(hp_clampf(drive->signal[i + j], 0.0f, 48.0f))
                      : drive_gain;
      x[j] = hp_clampf(dry[LATENCY + j] * g, -DRIVEN_MAX, DRIVEN_MAX);
    }

    drive_block(st, x, wet, shape, m);

    /* (1 - mix) dry + mix wet: mix 0 is the dry signal exactly. */
    for (uint32_t j = 0; j < m; ++j) {
      const float w =
        mix->signal ? hp_clampf(mix->signal[i + j], 0.0f, 1.0f) : mix->value;
      const float l =
        level->signal
          ? hp_db_gain(hp_clampf(level->signal[i + j], -48.0f, 12.0f))
          : level_gain;
      out[i + j] = (1.0f - w) * dry[j] + w * (l * wet[j]);
    }
  }
}

static const HpPortDesc drive_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The signal to shape."},
};

static const HpPortDesc drive_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The shaped signal mixed with the dry one, both 40 frames late."},
};

static const HpParamDesc drive_params[N_PARAMS] = {
  {.name    = "drive",
   .aliases = (const char* const[]){"pregain", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "dB",
   .min     = 0.0f,
   .max     = 48.0f,
   .def     = 12.0f,
   .doc     = "Gain into the curve: at 0 dB a full-scale input is gently "
              "bent (the curves reach +-1 near +-1.5), more clips or folds "
              "harder."},
  {.name    = "shape",
   .aliases = (const char* const[]){"curve", NULL},
   .kind    = HP_PARAM_ENUM,
   .unit    = "",
   .min     = 0.0f,
   .max     = (float)(N_SHAPES - 1),
   .def     = (float)SHAPE_SOFT,
   .choices = (const char* const[]){"soft", "tanh", "fold", NULL},
   .doc     = "Curve: soft (cubic, flat at +-1 beyond +-1.5), tanh, or fold "
              "(a sine, folding back beyond +-pi/2)."},
  {.name    = "mix",
   .aliases = (const char* const[]){"wet", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 1.0f,
   .doc     = "Dry/wet: 0 is the input alone, 1 the shaped signal alone, "
              "lined up at every setting."},
  {.name    = "level",
   .aliases = (const char* const[]){"makeup", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "dB",
   .min     = -48.0f,
   .max     = 12.0f,
   .def     = 0.0f,
   .doc     = "Gain of the shaped signal before the mix, to match its "
              "loudness to the dry one."},
};

const HpModuleDesc hp_mod_drive = {
  .type       = "drive",
  .aliases    = (const char* const[]){"distortion", "waveshaper", NULL},
  .doc        = "Waveshaper (soft clip, tanh or sine fold) oversampled 4x, 40 "
                "frames late: a full-scale 5 kHz tone at 48 kHz driven 24 dB "
                "aliases at -40 dB (fold -60 dB), against -11 dB (+12 dB) "
                "without oversampling.",
  .inputs     = drive_inputs,
  .n_inputs   = 1,
  .outputs    = drive_outputs,
  .n_outputs  = 1,
  .params     = drive_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(DriveState),
  .process    = drive_process,
};
