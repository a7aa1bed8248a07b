/*
  Shared DSP helpers for the modules (src/mod_*.c): all static inline, no
  state, safe in the audio thread.

  Phase: oscillators keep a 32-bit unsigned phase, one cycle = 2^32.  The
  accumulator wraps by itself, is exact (no drift, whatever the chunking),
  and is an integer induction variable, which compilers vectorize where a
  float accumulator would be a serial dependency.

  Vectorization: we build with -ftree-vectorize -fvect-cost-model=dynamic
  (wscript), and gcc still vectorizes best a loop whose trip count is a
  known constant: no run-time checks, no epilogue.  A process() call gets
  at most a chunk, so hot loops are an inline function called twice: with
  the constant HP_VEC (= HP_CHUNK) when n == HP_VEC, a whole chunk, and
  with n otherwise (callgrind, blocks of 256: sine 7.1 -> 6.0 instructions
  a frame against blocks of 16, mixer 10.6 -> 8.3, vca 2.3 -> 1.7).  The
  phase is
  an induction variable (`p += inc`, not `p + i * inc`, which SSE2 would
  multiply the long way).  Loop bodies avoid `x > 0 ? x : 0` feeding a
  product: with -ftrapping-math gcc then will not if-convert the loop, so
  such clamps are written (x + |x|) / 2.
*/

#ifndef HP_DSP_H
#define HP_DSP_H

#include "module.h"

#include <math.h>
#include <stdint.h>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

/** Frames per vectorized block (see above): a whole chunk. */
#define HP_VEC HP_CHUNK

/** For a loop body used in more than one place: the vectorizer needs it
    inlined, and gcc's heuristics may decline when it is called twice. */
#if defined(__GNUC__)
#  define HP_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#  define HP_ALWAYS_INLINE static inline
#endif

/** x clamped to [lo, hi]; NaN gives lo, so a bad signal cannot reach an
    int conversion or a filter coefficient. */
static inline float
hp_clampf(const float x, const float lo, const float hi)
{
  return x > lo ? (x < hi ? x : hi) : lo;
}

/** A parameter's value at frame i (signal or constant). */
static inline float
hp_param_at(const HpParamIn* const p, const uint32_t i)
{
  return p->signal ? p->signal[i] : p->value;
}

/** A parameter's value for a whole call: the first frame of a signal.  For
    settings a module reads once per call (times, modes, ranges). */
static inline float
hp_param_first(const HpParamIn* const p)
{
  return p->signal ? p->signal[0] : p->value;
}

/** A parameter's values for n frames: its signal, or `buf` filled with
    its constant, for a loop that reads a signal either way. */
static inline const float*
hp_param_values(const HpParamIn* const p, float* const buf, const uint32_t n)
{
  if (p->signal) {
    return p->signal;
  }
  for (uint32_t i = 0; i < n; ++i) {
    buf[i] = p->value;
  }
  return buf;
}

/** Milliseconds to frames. */
static inline double
hp_ms_to_frames(const float ms, const float rate)
{
  return (double)ms * (double)rate * 0.001;
}

/** out[i] = v. */
static inline void
hp_fill_run(float* const restrict out, const float v, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = v;
  }
}

/** Fill out[0..n) with v.  In blocks of 16, which gcc unrolls into four
    stores: a fill is too cheap for the loop's own overhead to hide. */
static inline void
hp_fill(float* const restrict out, const float v, const uint32_t n)
{
  uint32_t i = 0;
  for (; i + 16u <= n; i += 16u) {
    hp_fill_run(out + i, v, 16u);
  }
  hp_fill_run(out + i, v, n - i);
}

/** out[i] *= g. */
static inline void
hp_scale_run(float* const restrict out, const float g, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] *= g;
  }
}

/** out[i] *= g[i]. */
static inline void
hp_mul_run(float* const restrict out,
           const float* const restrict g,
           const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] *= g[i];
  }
}

/** Multiply out[0..n) (n at most HP_VEC) by a gain parameter, signal or
    constant. */
static inline void
hp_apply_gain(float* const restrict out,
              const HpParamIn* const gain,
              const uint32_t         n)
{
  if (gain->signal) {
    if (n == HP_VEC) {
      hp_mul_run(out, gain->signal, HP_VEC);
    } else {
      hp_mul_run(out, gain->signal, n);
    }
  } else if (n == HP_VEC) {
    hp_scale_run(out, gain->value, HP_VEC);
  } else {
    hp_scale_run(out, gain->value, n);
  }
}

/* Parameters every oscillator has (one description, one place).  File-scope
   compound literals have static storage, so these are constant initializers. */

#define HP_PARAM_OSC_FREQ                                                     \
  {                                                                           \
    .name = "freq", .aliases = (const char* const[]){"frequency", NULL},      \
    .kind = HP_PARAM_CONTINUOUS, .unit = "Hz", .min = 0.01f, .max = 20000.0f, \
    .def = 440.0f, .log_scale = true,                                         \
    .doc = "Frequency; a signal connected here replaces it sample by "        \
           "sample (FM)."                                                     \
  }

/* The cutoff of a filter solved with tan(pi fc / rate) (svf, ladder):
   20 Hz .. 20 kHz, log scale; `doc_` says what it is for the filter. */
#define HP_FILTER_CUTOFF_MIN 20.0f
#define HP_FILTER_CUTOFF_MAX_RATIO 0.49f /* below Nyquist: tan stays finite */
#define HP_PARAM_FILTER_CUTOFF(doc_)                                        \
  {                                                                         \
    .name    = "cutoff",                                                    \
    .aliases = (const char* const[]){"freq", "frequency", NULL},            \
    .kind = HP_PARAM_CONTINUOUS, .unit = "Hz", .min = HP_FILTER_CUTOFF_MIN, \
    .max = 20000.0f, .def = 1000.0f, .log_scale = true, .doc = doc_         \
  }

/* A cutoff in Hz (any value, a signal's too) as cycles per frame, where
   such a filter can take it. */
static inline float
hp_filter_cycles(const float cutoff, const float inv_rate)
{
  return hp_clampf(cutoff * inv_rate,
                   HP_FILTER_CUTOFF_MIN * inv_rate,
                   HP_FILTER_CUTOFF_MAX_RATIO);
}

#define HP_PARAM_OSC_GAIN                                              \
  {                                                                    \
    .name    = "gain",                                                 \
    .aliases = (const char* const[]){"amp", "amplitude", NULL},        \
    .kind = HP_PARAM_CONTINUOUS, .unit = "", .min = 0.0f, .max = 1.0f, \
    .def = 0.5f, .doc = "Peak amplitude of the output."                \
  }

#define HP_PARAM_OSC_DETUNE                                                \
  {                                                                        \
    .name = "detune", .aliases = (const char* const[]){"cents", NULL},     \
    .kind = HP_PARAM_CONTINUOUS, .unit = "cents", .min = -2400.0f,         \
    .max = 2400.0f, .def = 0.0f,                                           \
    .doc = "Offset from freq in cents (100 = a semitone): detuned layers " \
           "and octaves."                                                  \
  }

/** The detune range in cents (HP_PARAM_OSC_DETUNE), for clamping signals. */
#define HP_DETUNE_MAX 2400.0f

/* Phase */

/** Phase increment per frame for `freq` Hz, clamped to +-Nyquist (so it
    fits the 32-bit phase).  Negative frequencies run the phase backwards,
    for through-zero FM. */
static inline uint32_t
hp_phase_inc(const float freq, const float inv_rate)
{
  const float cycles = hp_clampf(freq * inv_rate, -0.5f, 0.5f);
  return (uint32_t)(int64_t)(cycles * 4294967296.0f);
}

/** Phase as a float in [0, 1), exactly (24 bits). */
static inline float
hp_phase_unit(const uint32_t phase)
{
  return (float)(int32_t)(phase >> 8) * 0x1p-24f;
}

/** Phase as a float in [-0.5, 0.5): the same point of the cycle. */
static inline float
hp_phase_signed(const uint32_t phase)
{
  return (float)(int32_t)phase * 0x1p-32f;
}

/** Phase increment as a fraction of a cycle (0..0.5): PolyBLEP's dt. */
static inline float
hp_phase_dt(const uint32_t inc)
{
  const float dt = fabsf(hp_phase_signed(inc));
  /* At 0 Hz there is no step to smooth; keep 1/dt finite. */
  return dt > 0x1p-30f ? dt : 0x1p-30f;
}

/**
   Fill phase[0..n) for a frequency signal (FM) and return the phase after
   the last frame.  Optionally inc[0..n) gets each frame's increment, for
   band-limiting with a varying dt.
*/
static inline uint32_t
hp_phase_fill(uint32_t* const    phase,
              uint32_t* const    inc,
              const float* const freq,
              const float        inv_rate,
              uint32_t           p,
              const uint32_t     n)
{
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t d = hp_phase_inc(freq[i], inv_rate);
    phase[i]         = p;
    if (inc) {
      inc[i] = d;
    }
    p += d;
  }
  return p;
}

/* Detune */

/** 2^f - 1 for |f| <= 1/2: the Taylor series of hp_exp2f, without its 1. */
static inline float
hp_exp2m1_frac(const float f)
{
  return f * (0.693147181f +
              f * (0.240226507f +
                   f * (0.0555041087f +
                        f * (0.00961812911f +
                             f * (0.00133335581f + f * 0.000154035304f)))));
}

/** 2^k for a whole k in -126..127, written into the exponent bits. */
static inline float
hp_exp2_int(const float k)
{
  const union {
    uint32_t u;
    float    f;
  } scale = {(uint32_t)((int32_t)k + 127) << 23};
  return scale.f;
}

/**
   2^x for |x| < 126, within 3e-7 relative; exactly 1 at 0 and exactly 2^k
   at whole k.  x = k + f with k the nearest integer and |f| <= 1/2: 2^f by
   its Taylor series to f^6 (the rest is below 1e-7), 2^k written into the
   exponent bits.  Inline and branch-free, where libm's exp2f is a call:
   a call clobbers every xmm register, and gcc then allocates the
   oscillators' hot loops worse even when the call is off their path.
*/
static inline float
hp_exp2f(const float x)
{
  /* Adding and removing 1.5 * 2^23 rounds to the nearest integer. */
  const float k = (x + 12582912.0f) - 12582912.0f;
  return (1.0f + hp_exp2m1_frac(x - k)) * hp_exp2_int(k);
}

/**
   2^x - 1 for |x| < 126, within 7e-7 relative of 2^x - 1 itself, also
   near 0, where 2^x - 1 from hp_exp2f would keep only the rounding of 1
   (expm1's job: tanh of a small signal).
*/
static inline float
hp_exp2m1f(const float x)
{
  const float k = (x + 12582912.0f) - 12582912.0f;
  const float s = hp_exp2_int(k);
  return hp_exp2m1_frac(x - k) * s + (s - 1.0f);
}

/** Beyond +-HP_TANH_HOLD, tanh is +-1 to float precision. */
#define HP_TANH_HOLD 9.0f

/**
   tanh(x) for |x| <= HP_TANH_HOLD, within 7e-7 relative (and exact in
   sign), from expm1(2x) / (expm1(2x) + 2), branch-free.  A loop that
   clamps x in a loop of its own before this one vectorizes both (see
   hp_detune_run); hp_tanhf is the two together.
*/
static inline float
hp_tanhf_held(const float x)
{
  /* expm1(2x) = 2^(2 log2(e) x) - 1 */
  const float e = hp_exp2m1f(2.88539008f * x);
  return e / (e + 2.0f);
}

/** tanh(x) (hp_tanhf_held); NaN gives -1. */
static inline float
hp_tanhf(const float x)
{
  return hp_tanhf_held(hp_clampf(x, -HP_TANH_HOLD, HP_TANH_HOLD));
}

/** The gain of a level in dB: 10^(db / 20), exactly 1 at 0 dB. */
static inline float
hp_db_gain(const float db)
{
  return hp_exp2f(db * 0.166096404f); /* log2(10) / 20 */
}

/** Frequency ratio of an offset in cents: 2^(cents / 1200), for offsets
    under 126 octaves.  0 gives exactly 1, so an undetuned oscillator plays
    exactly what it did before detune existed; whole octaves are exact. */
static inline float
hp_cents_ratio(const float cents)
{
  return hp_exp2f(cents / 1200.0f);
}

/**
   1 / rate times the ratio of a constant detune: cycles per frame per Hz.
   The default, 0 cents, skips the polynomial; that costs the common path a
   compare, and keeps gcc's register allocation of the oscillators' hot
   loops as it was (the triangle's uses all 16 xmm registers and spills
   when the polynomial sits on its path: +0.6 instructions a frame).
*/
static inline float
hp_detune_scale(const float inv_rate, const float cents)
{
  return cents == 0.0f ? inv_rate : inv_rate * hp_cents_ratio(cents);
}

/**
   An oscillator's phase increment per frame when its freq and detune are
   both constant: the ratio is folded into 1 / rate, once per call.
*/
static inline uint32_t
hp_osc_inc(const HpParamIn* const freq,
           const HpParamIn* const detune,
           const float            inv_rate)
{
  return hp_phase_inc(freq->value, hp_detune_scale(inv_rate, detune->value));
}

/**
   ratio[i] = 2^(cents[i] / 1200), cents clamped to the detune range (NaN
   to its bottom).  Two loops, so that each vectorizes: gcc will not
   if-convert the clamp feeding the polynomial in one.
*/
HP_ALWAYS_INLINE void
hp_detune_run(float* const restrict ratio,
              const float* const restrict cents,
              const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    ratio[i] = hp_clampf(cents[i], -HP_DETUNE_MAX, HP_DETUNE_MAX);
  }
  for (uint32_t i = 0; i < n; ++i) {
    ratio[i] = hp_cents_ratio(ratio[i]);
  }
}

/**
   Fill phase[0..n) (and inc[0..n) when not NULL) for an oscillator whose
   frequency or detune may be a signal, and return the phase after the last
   frame.  With only freq a signal the ratio folds into 1 / rate (no cost
   per frame); a detune signal costs a vectorized hp_exp2f per frame.
*/
static inline uint32_t
hp_osc_phase_fill(uint32_t* const        phase,
                  uint32_t* const        inc,
                  const HpParamIn* const freq,
                  const HpParamIn* const detune,
                  const float            inv_rate,
                  uint32_t               p,
                  const uint32_t         n)
{
  if (!freq->signal && !detune->signal) {
    const uint32_t d = hp_osc_inc(freq, detune, inv_rate);
    for (uint32_t i = 0; i < n; ++i) {
      phase[i] = p + i * d;
      if (inc) {
        inc[i] = d;
      }
    }
    return p + n * d;
  }

  const float* f     = freq->signal;
  float        scale = inv_rate;
  float        detuned[HP_CHUNK];
  if (detune->signal) {
    if (n == HP_VEC) {
      hp_detune_run(detuned, detune->signal, HP_VEC);
    } else {
      hp_detune_run(detuned, detune->signal, n);
    }
    hp_apply_gain(detuned, freq, n); /* times freq, signal or constant */
    f = detuned;
  } else {
    scale = hp_detune_scale(inv_rate, detune->value);
  }
  return hp_phase_fill(phase, inc, f, scale, p, n);
}

/* Sine */

/**
   sin(2 pi x) for x in [-0.5, 0.5], without folding: sin(2 pi x) vanishes
   at 0 and +-0.5, so it is x (1/4 - x^2) h(x^2) with h smooth and even; h is
   a cubic fitted by Remez for least absolute error of the whole product
   (6.5e-6, -104 dB).  Ten vectorizable operations, no table, no branch.
*/
static inline float
hp_sin2pi(const float x)
{
  const float x2 = x * x;
  const float h  = 25.132169112350212f +
                  x2 * (-64.792738560953728f +
                        x2 * (66.238875953745052f + x2 * -32.609167567354851f));
  return x * (0.25f - x2) * h;
}

/** Sine of a 32-bit phase. */
static inline float
hp_sin_phase(const uint32_t phase)
{
  return hp_sin2pi(hp_phase_signed(phase));
}

/*
  Band-limiting: 4-point PolyBLEP and PolyBLAMP from the cubic B-spline
  (Valimaki, Pekonen, Nam 2012), branch-free, on the phase t in [0, 1)
  with dt = cycles per frame (at most 0.5) and inv_dt = 1 / dt.  The
  kernel reaches 2 frames each side of a discontinuity, so for a saw only
  the nearest step on either side matters.  Against the 2-point (linear)
  PolyBLEP it costs a dozen more operations per frame and takes ~9 dB
  more off the aliasing at high pitches; the price is a gentle low-pass
  (a 3520 Hz saw's fundamental is 0.3 dB low).  Figures in
  test_dsp_oscillators.c.

  With d the distance in frames to a discontinuity, the integrated
  B-spline gives the step residual ((2-d)+^4 - 4 (1-d)+^4) / 24 and its
  integral, the ramp residual, ((2-d)+^5 - 4 (1-d)+^5) / 120.  Below, x+
  is computed as (x + |x|) / 2, the halves gathered into the constants
  (see the vectorization note at the top).
*/

/** 16 ((2-d)+^4 - 4 (1-d)+^4): the step residual's shape. */
static inline float
hp_blep4(const float d)
{
  const float a  = (2.0f - d) + fabsf(2.0f - d);
  const float b  = (1.0f - d) + fabsf(1.0f - d);
  const float a2 = a * a;
  const float b2 = b * b;
  return a2 * a2 - 4.0f * (b2 * b2);
}

/** 32 ((2-d)+^5 - 4 (1-d)+^5): the ramp residual's shape. */
static inline float
hp_blamp4(const float d)
{
  const float a  = (2.0f - d) + fabsf(2.0f - d);
  const float b  = (1.0f - d) + fabsf(1.0f - d);
  const float a2 = a * a;
  const float b2 = b * b;
  return a2 * a2 * a - 4.0f * (b2 * b2 * b);
}

/**
   The PolyBLEP correction of a saw 2t - 1 whose step of -2 sits at t = 0:
   add it to the naive saw.  -2 times the residual after the step (t / dt
   frames) and before the next one ((1 - t) / dt frames).
*/
static inline float
hp_polyblep_saw(const float t, const float inv_dt)
{
  const float after  = t * inv_dt;          /* frames since the step */
  const float before = (1.0f - t) * inv_dt; /* frames to the next one */
  return (1.0f / 192.0f) * (hp_blep4(after) - hp_blep4(before));
}

/** Band-limited saw, -1..1, rising, step at t = 0. */
static inline float
hp_blep_saw(const float t, const float inv_dt)
{
  return 2.0f * t - 1.0f + hp_polyblep_saw(t, inv_dt);
}

/** A quarter cycle of the 32-bit phase. */
#define HP_PHASE_QUARTER 0x40000000u

/**
   Band-limited triangle, -1..1.  `s` is the phase measured from the
   trough (hp_phase_unit(phase + HP_PHASE_QUARTER) starts the wave at 0,
   rising like a sine).  The slope changes by +8 dt per frame at the
   trough and -8 dt at the peak; each corner gets that times the ramp
   residual.  Only the nearest peak and trough are corrected, which is
   exact below rate / 4 (above it, only the fundamental is left to hear).
*/
static inline float
hp_blamp_tri(const float s, const float dt, const float inv_dt)
{
  const float to_peak   = fabsf(s - 0.5f);
  const float to_trough = 0.5f - to_peak;
  return 1.0f - 4.0f * to_peak +
         (dt * (1.0f / 480.0f)) *
           (hp_blamp4(to_trough * inv_dt) - hp_blamp4(to_peak * inv_dt));
}

/* Filter helpers */

/**
   tan(pi x) for x in [0, 0.49] (a cutoff over the rate: the bilinear
   transform's prewarping), within 3e-5 relative, 0.05 cents of cutoff
   (test_dsp_filters.c): sin(pi x) / cos(pi x) by hp_sin2pi, inline and
   branch-free, for filters that follow a cutoff signal frame by frame.
*/
static inline float
hp_tanpi(const float x)
{
  return hp_sin2pi(0.5f * x) / hp_sin2pi(0.25f - 0.5f * x);
}

/** Where hp_tanh_pade's rational function is closest to 1 before it
    turns away from tanh: its value there is 1 - 6e-7. */
#define HP_TANH_CLAMP 4.97f

/** A ratio p / q, q > 0, left undivided for a caller that folds the
    division into one of its own. */
typedef struct {
  float p, q;
} HpRatio;

/** tanh(x) / x for |x| <= HP_TANH_CLAMP as p / q: the [7/6] Pade
    approximant from Lambert's continued fraction, in x^2, each side
    evaluated in two halves (Estrin) for a shorter chain of dependent
    operations. */
static inline HpRatio
hp_tanh_pade(const float x2)
{
  const float x4 = x2 * x2;
  HpRatio     r;
  r.p = (135135.0f + 17325.0f * x2) + x4 * (378.0f + x2);
  r.q = (135135.0f + 62370.0f * x2) + x4 * (3150.0f + 28.0f * x2);
  return r;
}

/**
   tanh(x) / x (1 at 0) within 1e-4, as a ratio: a saturator's gain at
   x, for solving a loop through it as if it were linear with that gain
   (mystran's "cheap non-linear zero-delay filters", KVR 2012).
*/
static inline HpRatio
hp_tanh_gain(const float x)
{
  const float ax = fabsf(x);
  if (ax < HP_TANH_CLAMP) {
    return hp_tanh_pade(x * x);
  }
  /* tanh is 1 - 6e-7 from there on */
  const HpRatio c = hp_tanh_pade(HP_TANH_CLAMP * HP_TANH_CLAMP);
  HpRatio       r;
  r.p = HP_TANH_CLAMP * c.p;
  r.q = ax * c.q;
  return r;
}

/* Noise */

/** One step of xorshift32 (Marsaglia): runs through every nonzero 32-bit
    state, so a state that is not 0 never becomes 0. */
static inline uint32_t
hp_xorshift32(uint32_t x)
{
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

/** A nonzero xorshift32 seed from a count (Murmur3's finalizer spreads
    consecutive counts over all 32 bits), so that modules seeded from
    successive counts are uncorrelated. */
static inline uint32_t
hp_seed(uint32_t h)
{
  h = h * 0x9E3779B9u + 0x6A09E667u;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h ? h : 1u;
}

/* Filter state hygiene */

/** x, or 0 when it is so small it would decay into denormals (far below
    anything audible: 1e-20 is -400 dB). */
static inline double
hp_flush_tiny(const double x)
{
  return fabs(x) < 1e-20 ? 0.0 : x;
}

/** Biquad coefficients, normalized by a0 (y = b0 x + b1 x1 + b2 x2 -
    a1 y1 - a2 y2), in double: at low cutoffs (10 Hz at 96 kHz, 1 - cos w0
    ~ 1e-7) float coefficients lose the pole positions entirely. */
typedef struct {
  double b0, b1, b2, a1, a2;
} HpBiquad;

#if defined(__SSE2__)
/** Filter n frames, transposed direct form II state z[0], z[1].

    Two frames a step, in state-space form: with s = (z1, z2), one frame is
    y = z1 + b0 x, s' = A s + B x (A = [-a1 1; -a2 0], B = (b1 - a1 b0,
    b2 - a2 b0)), so a pair of outputs and the state two frames on are each
    a 2-vector sum of products of z1, z2, x0 and x1 with constant vectors:
    2-wide double arithmetic (SSE2, in every x86-64) with no serial chain
    inside the pair, the same filter to rounding.  The first output of a
    pair must not depend on the second frame, not even through a product
    with 0 (a NaN there would reach it): lane 0 of that term is masked off,
    not multiplied by 0. */
static inline void
hp_biquad_run(const HpBiquad* const restrict c,
              double* const restrict z,
              const float* const restrict in,
              float* const restrict out,
              const uint32_t n)
{
  const double  b0 = c->b0, a1 = c->a1, a2 = c->a2;
  const double  B1 = c->b1 - a1 * b0, B2 = c->b2 - a2 * b0;
  const __m128d y_z1 = _mm_set_pd(-a1, 1.0), y_x0 = _mm_set_pd(B1, b0);
  const __m128d y_x1 = _mm_set_pd(b0, 0.0);
  const __m128d s_z1 = _mm_set_pd(a1 * a2, a1 * a1 - a2);
  const __m128d s_z2 = _mm_set_pd(-a2, -a1);
  const __m128d s_x0 = _mm_set_pd(-a2 * B1, B2 - a1 * B1);
  const __m128d s_x1 = _mm_set_pd(B2, B1);
  const __m128d hi   = _mm_castsi128_pd(_mm_set_epi64x(-1, 0));
  __m128d       s    = _mm_set_pd(z[1], z[0]);
  uint32_t      i    = 0;
#  if defined(__GNUC__) && !defined(__clang__)
#    pragma GCC unroll 4
#  endif
  for (; i + 2u <= n; i += 2u) {
    const __m128d x =
      _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i*)(in + i))));
    const __m128d x0 = _mm_unpacklo_pd(x, x);
    const __m128d z1 = _mm_unpacklo_pd(s, s);
    const __m128d y  = _mm_add_pd(
      _mm_add_pd(_mm_mul_pd(z1, y_z1), _mm_mul_pd(x0, y_x0)),
      _mm_add_pd(_mm_and_pd(s, hi), _mm_mul_pd(_mm_and_pd(x, hi), y_x1)));
    s = _mm_add_pd(
      _mm_add_pd(_mm_mul_pd(z1, s_z1), _mm_mul_pd(_mm_unpackhi_pd(s, s), s_z2)),
      _mm_add_pd(_mm_mul_pd(x0, s_x0),
                 _mm_mul_pd(_mm_unpackhi_pd(x, x), s_x1)));
    _mm_storel_pi((__m64*)(out + i), _mm_cvtpd_ps(y));
  }
  double z1 = _mm_cvtsd_f64(s), z2 = _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
  if (i < n) { /* an odd frame: one step of the plain recursion */
    const double x = (double)in[i];
    const double y = b0 * x + z1;
    z1             = c->b1 * x - a1 * y + z2;
    z2             = c->b2 * x - a2 * y;
    out[i]         = (float)y;
  }
  z[0] = z1;
  z[1] = z2;
}
#else
static inline void
hp_biquad_run(const HpBiquad* const restrict c,
              double* const restrict z,
              const float* const restrict in,
              float* const restrict out,
              const uint32_t n)
{
  double z1 = z[0], z2 = z[1];
  for (uint32_t i = 0; i < n; ++i) {
    const double x = (double)in[i];
    const double y = c->b0 * x + z1;
    z1             = c->b1 * x - c->a1 * y + z2;
    z2             = c->b2 * x - c->a2 * y;
    out[i]         = (float)y;
  }
  z[0] = z1;
  z[1] = z2;
}
#endif

/* Delay lines (HpNodeIO.mem) */

/*
  A delay line is a ring of a power of two frames in a module's memory,
  indexed by a free-running frame counter masked on use (so a state copied
  with its memory goes on where it was, and a new size needs no reset).
  Reads are fractional: 4-point 3rd-order Hermite (Catmull-Rom, as
  SuperCollider's DelayC), exact at whole frames (the weights are then 0,
  1, 0, 0), within 0.08 dB of flat below rate / 8 at the worst fraction
  (half a frame); an impulse read `d` frames back keeps its first moment
  (its centre of gravity) at exactly d.
*/

/** The smallest ring: a loop's shortest delay (HP_CHUNK frames) and the
    interpolator's reach, at any rate. */
#define HP_RING_MIN (2u * HP_CHUNK)

/** Frames hp_ring_read reads beyond a delay's whole frames: a ring of n
    frames holds delays up to n - HP_RING_REACH. */
#define HP_RING_REACH 3u

/** Floats of memory for a ring of at least `frames` frames: a power of two,
    at least HP_RING_MIN, at most 2^30.  Worker (memory()). */
static inline size_t
hp_ring_size(const double frames)
{
  size_t n = HP_RING_MIN;
  while ((double)n < frames && n < ((size_t)1 << 30)) {
    n <<= 1;
  }
  return n;
}

/** Frames of the ring in io->mem: the largest power of two the memory
    holds, or 0 when there is none or less than HP_RING_MIN (then the
    module renders as with HP_MEM_NONE). */
static inline uint32_t
hp_ring_frames(const HpNodeIO* const io)
{
  if (!io->mem || io->mem_size < HP_RING_MIN) {
    return 0;
  }
  uint32_t n = HP_RING_MIN;
  while ((size_t)n * 2u <= io->mem_size && n < (1u << 30)) {
    n <<= 1;
  }
  return n;
}

/** How a call may use its ring of `frames` frames (hp_ring_frames). */
static inline HpMemAccess
hp_ring_access(const HpNodeIO* const io, const uint32_t frames)
{
  return frames ? io->mem_access : HP_MEM_NONE;
}

/** Where and how to read a ring `d` frames back (hp_ring_tap). */
typedef struct {
  uint32_t back;  /**< whole frames back of the nearer of the middle points */
  uint32_t newer; /**< frames back of the newest point */
  float    w[4];  /**< weights, newest point first */
} HpTap;

/**
   The tap `d` frames back, d >= `nearest` >= 1: the frames the
   interpolator reads are never nearer than `nearest` (1: the frame before
   the one being written; HP_CHUNK: none of the current chunk's, for a
   prefetch), so at d < nearest + 1 the newest point repeats the next
   (continuous in d, exact at whole d).
*/
static inline HpTap
hp_ring_tap(const double d, const uint32_t nearest)
{
  HpTap tap;
  tap.back      = (uint32_t)d; /* d > 0: truncation is floor, and no call */
  tap.newer     = tap.back > nearest ? tap.back - 1u : tap.back;
  const float t = (float)(d - (double)tap.back);
  tap.w[0]      = t * (-0.5f + t * (1.0f - 0.5f * t));
  tap.w[1]      = 1.0f + t * t * (-2.5f + 1.5f * t);
  tap.w[2]      = t * (0.5f + t * (2.0f - 1.5f * t));
  tap.w[3]      = t * t * (-0.5f + 0.5f * t);
  return tap;
}

/** The ring's signal at `tap` before frame `at` (the frame written next). */
static inline float
hp_ring_read(const float* const ring,
             const uint32_t     mask,
             const uint32_t     at,
             const HpTap* const tap)
{
  return tap->w[0] * ring[(at - tap->newer) & mask] +
         tap->w[1] * ring[(at - tap->back) & mask] +
         tap->w[2] * ring[(at - tap->back - 1u) & mask] +
         tap->w[3] * ring[(at - tap->back - 2u) & mask];
}

/** hp_ring_read at frames at .. at + n - 1 into out[0, n), the same values
    (a ring holds finite values): the stretches between the ring's wrap
    read without masks, which the compiler vectorizes, and a tap at a
    whole frame (weights 0, 1, 0, 0) copies its one point. */
HP_ALWAYS_INLINE void
hp_ring_read_run(const float* const restrict ring,
                 const uint32_t     mask,
                 const uint32_t     at,
                 const HpTap* const tap,
                 float* const restrict out,
                 const uint32_t n)
{
  const float    w0 = tap->w[0], w1 = tap->w[1], w2 = tap->w[2], w3 = tap->w[3];
  const bool     whole  = w0 == 0.0f && w1 == 1.0f && w2 == 0.0f && w3 == 0.0f;
  const uint32_t oldest = tap->back + 2u; /* frames back of the oldest point */
  const uint32_t lead   = oldest - tap->newer; /* newest after oldest: 2, 3 */
  for (uint32_t i = 0; i < n;) {
    const uint32_t from = (at + i - oldest) & mask;
    if (from + lead > mask) { /* the points straddle the wrap */
      out[i] = hp_ring_read(ring, mask, at + i, tap);
      ++i;
      continue;
    }
    const uint32_t run =
      mask - lead - from + 1u < n - i ? mask - lead - from + 1u : n - i;
    const float* const x = ring + from;
    float* const       y = out + i;
    if (whole) {
      for (uint32_t j = 0; j < run; ++j) {
        y[j] = x[j + 2u];
      }
    } else {
      for (uint32_t j = 0; j < run; ++j) {
        y[j] = w0 * x[j + lead] + w1 * x[j + 2u] + w2 * x[j + 1u] + w3 * x[j];
      }
    }
    i += run;
  }
}

/** What to write to a ring for x: x, or 0 when it is not finite (a line
    holding a NaN would give it back on every pass) or would decay into
    denormals (see hp_flush_tiny). */
static inline float
hp_ring_sample(const float x)
{
  return fabsf(x) >= 1e-20f && fabsf(x) < INFINITY ? x : 0.0f;
}

#endif /* HP_DSP_H */
