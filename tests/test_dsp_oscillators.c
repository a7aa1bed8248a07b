/*
  The oscillator modules, driven directly through their descriptors (see
  rig.h): the sine (polyphony, pitch, modulation), the band-limited saw,
  square and triangle against naive ones, detune, phase modulation, and
  noise (its colours: test_dsp_noise.c).  Every figure
  measured is printed on a "# " line.  (Envelopes and filters:
  test_dsp_shapers.c; the other modules and the descriptors:
  test_dsp_modules.c.)
*/

#include "check.h"
#include "dsp.h"
#include "module.h"
#include "rig.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sine */

static void
test_sine_poly(void)
{
  double    max_err = 0.0;
  double    at      = 0.0;
  const int steps   = 1 << 20;
  for (int k = 0; k <= steps; ++k) {
    const double x   = -0.5 + (double)k / steps;
    const float  xf  = (float)x;
    const double err = fabs((double)hp_sin2pi(xf) - sin(2.0 * PI * (double)xf));
    if (err > max_err) {
      max_err = err;
      at      = x;
    }
  }
  /* And through the phase conversion, over the whole 32-bit circle. */
  double   max_err_ph = 0.0;
  uint32_t x          = 12345u;
  for (int k = 0; k < 1000000; ++k) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const double err =
      fabs((double)hp_sin_phase(x) - sin(2.0 * PI * (double)x / 4294967296.0));
    max_err_ph = err > max_err_ph ? err : max_err_ph;
  }
  printf("# sine polynomial: max error %.3g (at x = %.4f), via phase %.3g "
         "(%.1f dB)\n",
         max_err,
         at,
         max_err_ph,
         20.0 * log10(max_err_ph));
  CHECK_VAL(max_err < 1e-5, max_err);
  CHECK_VAL(max_err_ph < 1e-5, max_err_ph);
}

static void
test_sine_pitch(void)
{
  static const float freqs[] = {55.0f, 440.0f, 1000.0f, 5000.0f};
  double             worst   = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const size_t n    = (size_t)rate;
    float* const out  = buffer(n);
    for (size_t fi = 0; fi < sizeof(freqs) / sizeof(freqs[0]); ++fi) {
      Rig r = rig_new("sine", rate);
      rig_set(&r, "freq", freqs[fi]);
      rig_set(&r, "gain", 1.0f);
      r.out[0] = out;
      rig_run(&r, 0, n);
      const double f   = hp_sig_freq(out, n, (double)rate);
      const double err = fabs(f - (double)freqs[fi]);
      printf("# sine %g Hz @ %g: measured %.4f Hz (error %.2g Hz), peak %.6f\n",
             (double)freqs[fi],
             (double)rate,
             f,
             err,
             (double)hp_sig_peak(out, n));
      CHECK_VAL(err < 0.1, f);
      CHECK_VAL(fabsf(hp_sig_peak(out, n) - 1.0f) < 1e-4f, hp_sig_peak(out, n));
      worst = err > worst ? err : worst;

      /* Sample by sample against libm at the accumulator's own (quantized)
         increment: catches any glitch at chunk boundaries. */
      const uint32_t inc     = hp_phase_inc(freqs[fi], 1.0f / rate);
      double         max_dev = 0.0;
      uint32_t       ph      = 0;
      for (size_t i = 0; i < n; ++i, ph += inc) {
        const double want = sin(2.0 * PI * (double)ph / 4294967296.0);
        const double dev  = fabs((double)out[i] - want);
        max_dev           = dev > max_dev ? dev : max_dev;
      }
      CHECK_VAL(max_dev < 2e-5, max_dev);
      rig_free(&r);
    }
    free(out);
  }
  printf("# sine pitch: worst error %.2g Hz over 3 rates x 4 frequencies\n",
         worst);
}

static void
test_sine_modulated(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 48000;
  float* const out  = buffer(n);
  float* const freq = constant(440.0f, n);
  float* const gain = constant(0.25f, n);
  Rig          r    = rig_new("sine", rate);
  rig_signal(&r, "freq", freq);
  rig_signal(&r, "amplitude", gain);
  r.out[0] = out;
  rig_run(&r, 0, n);
  const double f = hp_sig_freq(out, n, (double)rate);
  printf("# sine with freq and gain as signals: %.4f Hz, peak %.5f\n",
         f,
         (double)hp_sig_peak(out, n));
  CHECK_VAL(fabs(f - 440.0) < 0.1, f);
  CHECK_VAL(fabsf(hp_sig_peak(out, n) - 0.25f) < 1e-4f, hp_sig_peak(out, n));

  /* Through-zero and beyond-Nyquist FM stays finite and bounded. */
  for (size_t i = 0; i < n; ++i) {
    freq[i] = 60000.0f * (float)sin(2.0 * PI * 3.0 * (double)i / (double)rate);
  }
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(out, n));
  CHECK_VAL(hp_sig_peak(out, n) <= 0.2501f, hp_sig_peak(out, n));
  rig_free(&r);
  free(out);
  free(freq);
  free(gain);
}

/* Band-limited oscillators */

typedef enum { NAIVE_SAW, NAIVE_SQUARE, NAIVE_TRIANGLE } Naive;

static float*
naive_wave(const Naive  shape,
           const double freq,
           const double rate,
           const size_t n)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    double t = fmod(freq * (double)i / rate, 1.0);
    switch (shape) {
    case NAIVE_SAW:
      b[i] = (float)(2.0 * fmod(t + 0.5, 1.0) - 1.0);
      break;
    case NAIVE_SQUARE:
      b[i] = t < 0.5 ? 1.0f : -1.0f;
      break;
    default:
      t    = fmod(t + 0.25, 1.0);
      b[i] = (float)(1.0 - 4.0 * fabs(t - 0.5));
      break;
    }
  }
  return b;
}

/*
  Aliasing: every harmonic k * f0 above Nyquist folds back to a known
  frequency.  Sum the power at those frequencies (harmonics up to 149),
  relative to the fundamental.  `below` limits the sum to aliases under
  that frequency.
*/
static double
alias_db(const float* const x,
         const size_t       n,
         const double       rate,
         const double       f0,
         const double       below)
{
  double freqs[256];
  size_t n_freqs = 0;
  for (int k = 1; k < 150; ++k) {
    double f = fmod(k * f0, rate);
    f        = f > rate / 2 ? rate - f : f;
    if (k * f0 < rate / 2 || f < 20.0 || f > rate / 2 - 20.0 || f > below) {
      continue;
    }
    /* Skip a fold landing on a true harmonic (k = 144.. here) or on an
       alias already counted. */
    bool seen = fabs(remainder(f, f0)) < 1.0;
    for (size_t j = 0; j < n_freqs; ++j) {
      seen |= fabs(freqs[j] - f) < 1.0;
    }
    if (!seen && n_freqs < 256) {
      freqs[n_freqs++] = f;
    }
  }
  const double fund  = hp_sig_goertzel_db(x, n, rate, f0);
  double       power = 0.0;
  for (size_t j = 0; j < n_freqs; ++j) {
    power += pow(10.0, hp_sig_goertzel_db(x, n, rate, freqs[j]) / 10.0);
  }
  return 10.0 * log10(power + 1e-30) - fund;
}

static void
test_bandlimited(void)
{
  static const struct {
    const char* type;
    Naive       naive;
    double      fund_db; /* ideal fundamental: 2/pi, 4/pi, 8/pi^2 */
    double      bound;   /* aliasing bound, dB re the fundamental */
  } oscs[] = {
    {"saw", NAIVE_SAW, -3.922, -30.0},
    {"square", NAIVE_SQUARE, 2.098, -30.0},
    {"triangle", NAIVE_TRIANGLE, -1.829, -47.0},
  };
  const double rate = 48000.0;
  const size_t n    = 48000;
  float* const out  = buffer(n);

  for (size_t o = 0; o < sizeof(oscs) / sizeof(oscs[0]); ++o) {
    /* Level and DC at a low pitch, where band-limiting changes nothing. */
    Rig r = rig_new(oscs[o].type, (float)rate);
    rig_set(&r, "gain", 1.0f);
    rig_set(&r, "freq", 440.0f);
    r.out[0] = out;
    rig_run(&r, 0, n);
    const double f440   = hp_sig_freq(out, n, (double)rate);
    const double lvl440 = hp_sig_goertzel_db(out, n, rate, 440.0);
    const double dc     = mean(out, n);
    printf("# %s 440 Hz: %.4f Hz, fundamental %.3f dB (ideal %.3f), DC %.2g, "
           "peak %.4f\n",
           oscs[o].type,
           f440,
           lvl440,
           oscs[o].fund_db,
           dc,
           (double)hp_sig_peak(out, n));
    CHECK_VAL(fabs(f440 - 440.0) < 0.1, f440);
    CHECK_VAL(fabs(lvl440 - oscs[o].fund_db) < 0.1, lvl440);
    CHECK_VAL(fabs(dc) < 2e-3, dc);
    CHECK_VAL(hp_sig_peak(out, n) < 1.02f, hp_sig_peak(out, n));
    rig_free(&r);

    /* Aliasing at 3520 Hz against the naive wave. */
    const double f0 = 3520.0;
    r               = rig_new(oscs[o].type, (float)rate);
    rig_set(&r, "gain", 1.0f);
    rig_set(&r, "freq", (float)f0);
    r.out[0] = out;
    rig_run(&r, 0, n);
    float* const naive  = naive_wave(oscs[o].naive, f0, rate, n);
    const double bl     = alias_db(out, n, rate, f0, rate);
    const double bl_low = alias_db(out, n, rate, f0, 10000.0);
    const double nv     = alias_db(naive, n, rate, f0, rate);
    const double nv_low = alias_db(naive, n, rate, f0, 10000.0);
    const double lvl    = hp_sig_goertzel_db(out, n, rate, f0);
    printf("# %s 3520 Hz @ 48000: aliasing %.1f dB (naive %.1f dB, %.1f dB "
           "better); below 10 kHz %.1f dB (naive %.1f); fundamental %.3f dB\n",
           oscs[o].type,
           bl,
           nv,
           nv - bl,
           bl_low,
           nv_low,
           lvl);
    CHECK_VAL(bl < oscs[o].bound, bl);
    CHECK_VAL(nv - bl >= 15.0, nv - bl);
    CHECK_VAL(nv_low - bl_low >= 15.0, nv_low - bl_low);
    CHECK_VAL(fabs(lvl - oscs[o].fund_db) < 1.0, lvl);
    CHECK_VAL(fabs(mean(out, n)) < 2e-3, mean(out, n));
    free(naive);
    rig_free(&r);
  }

  /* Pulse width: a 25% pulse spends a quarter of the time high. */
  Rig r = rig_new("square", (float)rate);
  rig_set(&r, "gain", 1.0f);
  rig_set(&r, "width", 0.25f);
  rig_set(&r, "freq", 100.0f);
  r.out[0] = out;
  rig_run(&r, 0, n);
  const double dc = mean(out, n);
  printf("# square pw 0.25: mean %.4f (ideal -0.5)\n", dc);
  CHECK_VAL(fabs(dc + 0.5) < 2e-3, dc);

  /* FM and PWM paths: a constant signal gives what the constant gives. */
  float* const             freq    = constant(1000.0f, n);
  float* const             pw      = constant(0.3f, n);
  float* const             fixed   = buffer(n);
  static const char* const types[] = {"saw", "square", "triangle"};
  for (size_t t = 0; t < 3; ++t) {
    const bool square = !strcmp(types[t], "square");
    Rig        c      = rig_new(types[t], (float)rate);
    rig_set(&c, "freq", 1000.0f);
    if (square) {
      rig_set(&c, "pw", 0.3f);
    }
    c.out[0] = fixed;
    rig_run(&c, 0, n);
    Rig m = rig_new(types[t], (float)rate);
    rig_signal(&m, "freq", freq);
    if (square) {
      rig_signal(&m, "pw", pw);
    }
    m.out[0] = out;
    rig_run(&m, 0, n);
    const double f        = hp_sig_freq(out, n, (double)rate);
    float        max_diff = 0.0f;
    for (size_t i = 0; i < n; ++i) {
      max_diff = fmaxf(max_diff, fabsf(out[i] - fixed[i]));
    }
    printf("# %s with freq as a signal: %.4f Hz, %.2g from the constant "
           "path\n",
           types[t],
           f,
           (double)max_diff);
    CHECK_VAL(fabs(f - 1000.0) < 0.1, f);
    CHECK_VAL(max_diff < 1e-6f, max_diff);
    rig_free(&c);
    rig_free(&m);
  }
  rig_free(&r);
  free(freq);
  free(pw);
  free(fixed);
  free(out);
}

/* Detune */

/* Render 1 s of `type` at 440 Hz (or `freq` as a signal), detuned by
   `cents` (or `detune` as a signal), and measure its pitch. */
static double
detuned_freq(const char* const  type,
             const float        cents,
             const float* const freq_sig,
             const float* const detune_sig,
             float* const       out,
             const size_t       n)
{
  Rig r = rig_new(type, 48000.0f);
  rig_set(&r, "gain", 1.0f);
  rig_set(&r, "freq", 440.0f);
  rig_set(&r, "detune", cents);
  if (freq_sig) {
    rig_signal(&r, "freq", freq_sig);
  }
  if (detune_sig) {
    rig_signal(&r, "detune", detune_sig);
  }
  r.out[0] = out;
  rig_run(&r, 0, n);
  rig_free(&r);
  CHECK(hp_sig_finite(out, n));
  return hp_sig_freq(out, n, 48000.0);
}

static void
test_detune(void)
{
  /* The ratio against libm, over the whole range: exact at 0 and at whole
     octaves. */
  double worst = 0.0;
  double at    = 0.0;
  for (int k = -2400 * 16; k <= 2400 * 16; ++k) {
    const float  cents = (float)k / 16.0f;
    const double want  = exp2((double)cents / 1200.0);
    const double err   = fabs((double)hp_cents_ratio(cents) / want - 1.0);
    if (err > worst) {
      worst = err;
      at    = (double)cents;
    }
  }
  printf("# cents ratio: worst relative error %.2g (at %.4g cents, %.2g "
         "cents) over -2400..2400\n",
         worst,
         at,
         1200.0 * log2(1.0 + worst));
  CHECK_VAL(worst < 5e-7, worst);
  CHECK(hp_cents_ratio(0.0f) == 1.0f);
  CHECK(hp_cents_ratio(1200.0f) == 2.0f);
  CHECK(hp_cents_ratio(-1200.0f) == 0.5f);
  CHECK(hp_cents_ratio(2400.0f) == 4.0f);
  CHECK(hp_cents_ratio(-2400.0f) == 0.25f);

  static const char* const types[] = {"sine", "saw", "square", "triangle"};
  static const float       cents[] = {1200.0f, -700.0f};
  const size_t             n       = 48000;
  float* const             out     = buffer(n);
  float* const             freq    = constant(440.0f, n);
  float* const             det     = buffer(n);
  for (size_t t = 0; t < 4; ++t) {
    const HpModuleDesc* const d = hp_module_find(types[t]);
    /* Last, so the other params keep their indices; "cents" finds it. */
    const int di = hp_module_find_param(d, "detune");
    CHECK_VAL(di == (int)d->n_params - 1, di);
    CHECK(hp_module_find_param(d, "cents") == di);
    CHECK(hp_module_find_param(d, "freq") == 0);
    CHECK(hp_module_find_param(d, "gain") == 1);
    CHECK(d->params[di].def == 0.0f);

    const double tol = t ? 0.2 : 0.1;
    for (size_t c = 0; c < 2; ++c) {
      const double want = 440.0 * exp2((double)cents[c] / 1200.0);
      for (size_t i = 0; i < n; ++i) {
        det[i] = cents[c];
      }
      /* Every path: both constant, freq a signal, detune a signal, both. */
      const double f[4] = {
        detuned_freq(types[t], cents[c], NULL, NULL, out, n),
        detuned_freq(types[t], cents[c], freq, NULL, out, n),
        detuned_freq(types[t], 0.0f, NULL, det, out, n),
        detuned_freq(types[t], 0.0f, freq, det, out, n),
      };
      for (int k = 0; k < 4; ++k) {
        CHECK_MSG(fabs(f[k] - want) < tol,
                  "%s detune %g path %d: %.4f Hz",
                  types[t],
                  (double)cents[c],
                  k,
                  f[k]);
      }
      printf("# %s 440 Hz detuned %+g cents: %.4f Hz (want %.4f; freq as a "
             "signal %.4f, detune as a signal %.4f, both %.4f)\n",
             types[t],
             (double)cents[c],
             f[0],
             want,
             f[1],
             f[2],
             f[3]);
    }

    /* A detune signal that moves: 0 for half a second, then +1200.  Out of
       range it clamps to +-2400, and NaN to -2400. */
    for (size_t i = 0; i < n; ++i) {
      det[i] = i < n / 2 ? 0.0f : 1200.0f;
    }
    detuned_freq(types[t], 0.0f, NULL, det, out, n);
    const double lo = hp_sig_freq(out, n / 2, 48000.0);
    const double hi = hp_sig_freq(out + n / 2, n / 2, 48000.0);
    for (size_t i = 0; i < n; ++i) {
      det[i] = i >= n / 2 ? 1e6f : i % 2 ? NAN : -1e6f;
    }
    detuned_freq(types[t], 0.0f, NULL, det, out, n);
    const double clo = hp_sig_freq(out, n / 2, 48000.0);
    const double chi = hp_sig_freq(out + n / 2, n / 2, 48000.0);
    printf("# %s detune as a signal 0 -> +1200: %.3f Hz then %.3f Hz; "
           "-1e6 and NaN -> +1e6 clamped: %.3f Hz then %.3f Hz\n",
           types[t],
           lo,
           hi,
           clo,
           chi);
    CHECK_VAL(fabs(lo - 440.0) < tol, lo);
    CHECK_VAL(fabs(hi - 880.0) < tol, hi);
    CHECK_VAL(fabs(clo - 110.0) < tol, clo);
    CHECK_VAL(fabs(chi - 1760.0) < tol, chi);
  }
  free(out);
  free(freq);
  free(det);
}

/* Phase modulation */

/* J_n(x), by its power series: enough for |x| <= 12 in double. */
static double
bessel_j(const int order, const double x)
{
  const int n    = order < 0 ? -order : order;
  double    term = 1.0; /* (x/2)^(2m+n) / (m! (m+n)!) at m = 0 */
  for (int k = 1; k <= n; ++k) {
    term *= x / 2.0 / k;
  }
  double sum = 0.0;
  for (int m = 0; m < 80; ++m) {
    sum += term;
    term *= -(x / 2.0) * (x / 2.0) / ((double)(m + 1) * (double)(m + 1 + n));
  }
  return order < 0 && n % 2 ? -sum : sum;
}

/* 1 s of `type` at 48 kHz, gain 1, freq fc, its pm a sine of fm Hz and
   amplitude index / 2 pi: FM of that index. */
static void
render_pm(const char* const type,
          const double      fc,
          const double      fm,
          const double      index,
          float* const      pm,
          float* const      out,
          const size_t      n)
{
  for (size_t i = 0; i < n; ++i) {
    pm[i] =
      (float)(index / (2.0 * PI) * sin(2.0 * PI * fm * (double)i / 48000.0));
  }
  Rig r = rig_new(type, 48000.0f);
  rig_set(&r, "gain", 1.0f);
  rig_set(&r, "freq", (float)fc);
  r.in[hp_module_find_input(r.desc, "pm")] = pm;
  r.out[0]                                 = out;
  rig_run(&r, 0, n);
  rig_free(&r);
}

static void
test_pm_bessel(void)
{
  const size_t n   = 48000;
  float* const pm  = buffer(n);
  float* const out = buffer(n);

  /* Sidebands at fc + k fm of |J_k(I)|.  fm = 300 Hz and fc = 1000 Hz keep
     them apart, and at index 10 the deviation (3 kHz) takes the frequency
     through zero: the sidebands below 0 Hz fold onto 200 mod 300 Hz, between
     the others, and must still be there at their Bessel levels. */
  static const double indexes[] = {1.0, 2.404825557695773, 10.0};
  double              worst     = 0.0;
  for (size_t x = 0; x < 3; ++x) {
    const double index = indexes[x];
    render_pm("sine", 1000.0, 300.0, index, pm, out, n);
    CHECK(hp_sig_finite(out, n));
    int measured = 0;
    for (int k = -14; k <= 14; ++k) {
      const double j    = bessel_j(k, index);
      const double f    = fabs(1000.0 + 300.0 * k);
      const double want = 20.0 * log10(fabs(j));
      const double got  = hp_sig_goertzel_db(out, n, 48000.0, f);
      if (fabs(j) < 0.05) { /* below -26 dB, beyond the band */
        continue;
      }
      printf("# pm sine 1000 Hz, index %.4f: %+d sideband %g Hz %.3f dB (J%d "
             "= %+.4f: %.3f dB)\n",
             index,
             k,
             f,
             got,
             k,
             j,
             want);
      CHECK_VAL(fabs(got - want) < 0.2, got - want);
      worst = fmax(worst, fabs(got - want));
      ++measured;
    }
    CHECK_VAL(measured >= (index > 5.0 ? 15 : 3), measured);
    if (x == 1) { /* the first zero of J0: no carrier at all */
      const double carrier = hp_sig_goertzel_db(out, n, 48000.0, 1000.0);
      printf(
        "# pm sine index %.4f (J0 = 0): carrier at %.1f dB\n", index, carrier);
      CHECK_VAL(carrier < -80.0, carrier);
    }
    /* FM moves energy, never adds it. */
    const double rms = hp_sig_rms(out, n);
    printf("# pm sine index %.4f: RMS %.5f (1/sqrt 2 = 0.70711)\n", index, rms);
    CHECK_VAL(fabs(rms - sqrt(0.5)) < 1e-3, rms);
  }

  /* The modulator at the carrier's frequency: sidebands k and -k-2 land on
     the same harmonic h = k + 1, which gets J_(h-1) + (-1)^h J_(h+1). */
  render_pm("sine", 1000.0, 1000.0, 1.0, pm, out, n);
  for (int h = 1; h <= 4; ++h) {
    const double a =
      bessel_j(h - 1, 1.0) + (h % 2 ? -1.0 : 1.0) * bessel_j(h + 1, 1.0);
    const double want = 20.0 * log10(fabs(a));
    const double got  = hp_sig_goertzel_db(out, n, 48000.0, 1000.0 * h);
    printf("# pm sine 1000 Hz by itself, index 1: harmonic %d %.3f dB (want "
           "%.3f: %.4f)\n",
           h,
           got,
           want,
           a);
    CHECK_VAL(fabs(got - want) < 0.2, got - want);
    worst = fmax(worst, fabs(got - want));
  }
  printf("# pm sine: every Bessel level within %.3f dB\n", worst);
  free(pm);
  free(out);
}

static void
test_pm_through_zero(void)
{
  static const char* const types[] = {"sine", "saw", "square", "triangle"};
  const size_t             n       = 48000;
  float* const             pm      = buffer(n);
  float* const             out     = buffer(n);
  float* const             wild    = buffer(n);
  static const float       bad[]   = {
            1e6f, -1e6f, 3e38f, -3e38f, INFINITY, -INFINITY, NAN, 0.3f};
  for (size_t i = 0; i < n; ++i) {
    wild[i] = bad[(i / 100) % 8];
  }
  for (size_t t = 0; t < 4; ++t) {
    render_pm(types[t], 1000.0, 300.0, 10.0, pm, out, n);
    const float peak = hp_sig_peak(out, n);
    CHECK(hp_sig_finite(out, n));
    CHECK_VAL(peak < 1.1f, peak);
    /* Huge, infinite and NaN offsets: still a wave, bounded. */
    Rig r = rig_new(types[t], 48000.0f);
    rig_set(&r, "gain", 1.0f);
    r.in[0]  = wild;
    r.out[0] = out;
    rig_run(&r, 0, n);
    const float wild_peak = hp_sig_peak(out, n);
    printf("# pm %s index 10 (through zero): peak %.4f; pm of +-1e6, "
           "+-3e38, +-inf, NaN: peak %.4f\n",
           types[t],
           (double)peak,
           (double)wild_peak);
    CHECK(hp_sig_finite(out, n));
    CHECK_VAL(wild_peak < 1.1f, wild_peak);
    rig_free(&r);
  }
  free(pm);
  free(out);
  free(wild);
}

/* The band-limited waves under PM take the frequency the phase actually
   moves at as their dt: a pm rising 2520 cycles a second (wrapping at 1)
   on a 1000 Hz wave plays the band-limited 3520 Hz wave. */
static void
test_pm_bandlimited(void)
{
  static const char* const types[] = {"saw", "square", "triangle"};
  const double             rate    = 48000.0;
  const size_t             n       = 48000;
  float* const             pm      = buffer(n);
  float* const             out     = buffer(n);
  float* const             fixed   = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    pm[i] = (float)fmod(2520.0 * (double)i / rate, 1.0);
  }
  for (size_t t = 0; t < 3; ++t) {
    Rig c = rig_new(types[t], (float)rate);
    rig_set(&c, "gain", 1.0f);
    rig_set(&c, "freq", 3520.0f);
    c.out[0] = fixed;
    rig_run(&c, 0, n);
    Rig m = rig_new(types[t], (float)rate);
    rig_set(&m, "gain", 1.0f);
    rig_set(&m, "freq", 1000.0f);
    m.in[0]  = pm;
    m.out[0] = out;
    rig_run(&m, 0, n);
    /* The two phases drift apart by the rounding of their increments
       (~1e-6 cycles a frame), which shows near the steps: compare the
       first 0.1 s closely, the whole second loosely. */
    float early = 0.0f, late = 0.0f;
    for (size_t i = 0; i < n; ++i) {
      const float d = fabsf(out[i] - fixed[i]);
      early         = i < n / 10 ? fmaxf(early, d) : early;
      late          = fmaxf(late, d);
    }
    const double a_pm    = alias_db(out, n, rate, 3520.0, rate);
    const double a_fixed = alias_db(fixed, n, rate, 3520.0, rate);
    printf("# pm %s 1000 Hz + 2520 cycles/s: %.2g from the 3520 Hz wave "
           "over 0.1 s, %.2g over 1 s; aliasing %.1f dB (the 3520 Hz "
           "wave's %.1f dB)\n",
           types[t],
           (double)early,
           (double)late,
           a_pm,
           a_fixed);
    CHECK_VAL(early < 1e-3f, early);
    CHECK_VAL(late < 1e-2f, late);
    CHECK_VAL(fabs(a_pm - a_fixed) < 1.0, a_pm);
    rig_free(&c);
    rig_free(&m);
  }
  free(pm);
  free(out);
  free(fixed);
}

/* Unconnected, pm changes nothing: 1 s of each oscillator at 440 Hz
   (the constant path) and with a freq sweep and a detune of -30 cents
   (the modulated path) hash as they did before pm existed; and a pm of
   zeros plays the same bits. */
static void
test_pm_unconnected(void)
{
  static const struct {
    const char* type;
    uint64_t    constant, modulated; /* recorded before pm */
  } oscs[] = {
    {"sine", 0xab6af1f1a89ea480u, 0xaa89cad8131dd93fu},
    {"saw", 0x150939070897740bu, 0x786b64233db72b18u},
    {"square", 0x7fec532ae4c31b51u, 0x7f7b6c069d21b0cfu},
    {"triangle", 0xc5a5a0f1bcacc89cu, 0x6cee08a5dc77c47bu},
  };
  const size_t n     = 48000;
  float* const out   = buffer(n);
  float* const zeros = buffer(n);
  float* const sweep = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    sweep[i] = 100.0f + (float)i * 0.05f; /* no libm: the same bits anywhere */
  }
  for (size_t t = 0; t < 4; ++t) {
    const HpModuleDesc* const d = hp_module_find(oscs[t].type);
    CHECK(d->n_inputs == 1 && hp_module_find_input(d, "pm") == 0);
    CHECK(d->inputs_by_name);
    uint64_t h[2][2];
    for (int path = 0; path < 2; ++path) {
      for (int z = 0; z < 2; ++z) {
        Rig r = rig_new(oscs[t].type, 48000.0f);
        rig_set(&r, "freq", 440.0f);
        if (path) {
          rig_signal(&r, "freq", sweep);
          rig_set(&r, "detune", -30.0f);
        }
        r.in[0]  = z ? zeros : NULL;
        r.out[0] = out;
        rig_run(&r, 0, n);
        h[path][z] = rig_checksum(out, n);
        rig_free(&r);
      }
    }
    printf("# pm %s unconnected: constant path %016llx (before pm %016llx), "
           "modulated %016llx (%016llx); pm of zeros %s\n",
           oscs[t].type,
           (unsigned long long)h[0][0],
           (unsigned long long)oscs[t].constant,
           (unsigned long long)h[1][0],
           (unsigned long long)oscs[t].modulated,
           h[0][1] == h[0][0] && h[1][1] == h[1][0] ? "the same" : "differs");
    CHECK(h[0][0] == oscs[t].constant);
    CHECK(h[1][0] == oscs[t].modulated);
    CHECK(h[0][1] == h[0][0]);
    CHECK(h[1][1] == h[1][0]);
  }
  free(out);
  free(zeros);
  free(sweep);
}

/* A pm held over each call (a const module: in_const) takes the constant
   path with the offset added; moving or held, a quarter cycle makes the
   sine a cosine. */
static void
test_pm_constant(void)
{
  const size_t n       = 4800;
  float* const quarter = constant(0.25f, n);
  float* const held    = buffer(n);
  float* const moving  = buffer(n);
  for (int k = 0; k < 2; ++k) {
    Rig r = rig_new("sine", 48000.0f);
    rig_set(&r, "gain", 1.0f);
    rig_set(&r, "freq", 1000.0f);
    r.in[0]    = quarter;
    r.in_const = k ? 0u : 1u;
    r.out[0]   = k ? moving : held;
    rig_run(&r, 0, n);
    rig_free(&r);
  }
  const uint32_t inc     = hp_phase_inc(1000.0f, 1.0f / 48000.0f);
  double         max_dev = 0.0;
  uint32_t       ph      = 0;
  for (size_t i = 0; i < n; ++i, ph += inc) {
    const double want = cos(2.0 * PI * (double)ph / 4294967296.0);
    max_dev           = fmax(max_dev, fabs((double)held[i] - want));
    CHECK_VAL(held[i] == moving[i], i);
  }
  printf("# pm sine a quarter cycle, held and moving paths the same: %.2g "
         "from a cosine\n",
         max_dev);
  CHECK_VAL(max_dev < 2e-5, max_dev);
  free(quarter);
  free(held);
  free(moving);
}

/* Noise */

static void
test_noise(void)
{
  const size_t n  = 48000;
  float* const a  = buffer(n);
  float* const b  = buffer(n);
  Rig          ra = rig_new("noise", 48000.0f);
  Rig          rb = rig_new("noise", 48000.0f);
  ra.out[0]       = a;
  rb.out[0]       = b;
  rig_run(&ra, 0, n);
  rig_run(&rb, 0, n);

  const double want = 0.5 / sqrt(3.0); /* uniform in -0.5..0.5 */
  const double rms  = hp_sig_rms(a, n);
  const double m    = mean(a, n);
  double       corr = 0.0;
  for (size_t i = 0; i < n; ++i) {
    corr += (double)a[i] * (double)b[i];
  }
  corr /= (double)n * rms * hp_sig_rms(b, n);
  printf("# noise gain 0.5: RMS %.5f (uniform: %.5f, %.2f%% off), mean %.5f, "
         "peak %.4f, correlation of two modules %.4f\n",
         rms,
         want,
         100.0 * (rms / want - 1.0),
         m,
         (double)hp_sig_peak(a, n),
         corr);
  CHECK_VAL(fabs(rms / want - 1.0) < 0.05, rms);
  CHECK_VAL(fabs(m) < 0.01, m);
  CHECK_VAL(hp_sig_peak(a, n) <= 0.5f, hp_sig_peak(a, n));
  CHECK_VAL(fabs(corr) < 0.05, corr);
  /* White: consecutive samples uncorrelated. */
  double lag1 = 0.0;
  for (size_t i = 1; i < n; ++i) {
    lag1 += (double)a[i] * (double)a[i - 1];
  }
  lag1 /= (double)n * rms * rms;
  CHECK_VAL(fabs(lag1) < 0.05, lag1);
  rig_free(&ra);
  rig_free(&rb);
  free(a);
  free(b);
}

int
main(void)
{
  test_sine_poly();
  test_sine_pitch();
  test_sine_modulated();
  test_bandlimited();
  test_detune();
  test_pm_bessel();
  test_pm_through_zero();
  test_pm_bandlimited();
  test_pm_unconnected();
  test_pm_constant();
  test_noise();
  printf("test_dsp_oscillators: all checks passed\n");
  return 0;
}
