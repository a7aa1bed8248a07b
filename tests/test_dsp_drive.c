/*
  The drive module (an oversampled waveshaper), driven directly through its
  descriptor (see rig.h): its latency and dry path, its small-signal
  response, the curves' harmonics against their Fourier series, and its
  aliasing against the same curves run at the rate without oversampling
  (computed here); then bad inputs and modulated parameters.  Every figure
  measured is printed on a "# " line.
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

/* The oversampler's latency, frames (mod_drive.c). */
#define LATENCY 40u

static const char* const shapes[] = {"soft", "tanh", "fold"};
#define N_SHAPES 3

/* The curves as documented, in double. */
static double
curve(const int shape, const double x)
{
  switch (shape) {
  case 0: {
    const double c = x < -1.5 ? -1.5 : (x > 1.5 ? 1.5 : x);
    return c - 4.0 / 27.0 * c * c * c;
  }
  case 1:
    return tanh(x);
  default:
    return sin(x);
  }
}

static Rig
drive_rig(const float rate, const int shape, const float drive_db)
{
  Rig       r  = rig_new("drive", rate);
  const int si = hp_param_find_choice(&r.desc->params[param_index(&r, "shape")],
                                      shapes[shape]);
  CHECK_MSG(si == shape, "shape %s", shapes[shape]);
  rig_set(&r, "shape", (float)si);
  rig_set(&r, "drive", drive_db);
  return r;
}

/* Periodic spectra: a tone of `freq` Hz at `rate` (both whole) repeats
   every rate / gcd(rate, freq) frames, and so does everything a
   memoryless curve makes of it, aliases included (all fall on multiples
   of the gcd).  The DFT of one period, averaged over the second half of
   the render, separates them exactly: no window, no leakage. */

static unsigned
gcd(unsigned a, unsigned b)
{
  while (b) {
    const unsigned t = a % b;
    a                = b;
    b                = t;
  }
  return a;
}

typedef struct {
  unsigned period; /* frames */
  unsigned step;   /* Hz between bins */
  double*  power;  /* bin 0..period/2, one-sided */
} Spectrum;

static Spectrum
spectrum(const float* const y,
         const size_t       n,
         const unsigned     rate,
         const unsigned     freq)
{
  Spectrum s;
  s.step            = gcd(rate, freq);
  s.period          = rate / s.step;
  const size_t reps = (n / 2) / s.period;
  CHECK(reps >= 4);
  double* const per = (double*)calloc(s.period, sizeof(double));
  s.power           = (double*)calloc(s.period / 2 + 1, sizeof(double));
  CHECK(per && s.power);
  const size_t from = n - reps * s.period;
  for (size_t r = 0; r < reps; ++r) {
    for (unsigned i = 0; i < s.period; ++i) {
      per[i] += (double)y[from + r * s.period + i] / (double)reps;
    }
  }
  for (unsigned b = 0; b <= s.period / 2; ++b) {
    double re = 0.0, im = 0.0;
    for (unsigned i = 0; i < s.period; ++i) {
      const double w =
        2.0 * PI * (double)((uint64_t)b * i % s.period) / (double)s.period;
      re += per[i] * cos(w);
      im += per[i] * sin(w);
    }
    /* Amplitude 2|X| / P, except at DC and Nyquist (|X| / P). */
    const double amp = (b == 0 || 2 * b == s.period ? 1.0 : 2.0) *
                       sqrt(re * re + im * im) / (double)s.period;
    s.power[b] = amp * amp;
  }
  free(per);
  return s;
}

/* Level of harmonic h in dB (0 dB: amplitude 1). */
static double
harmonic_db(const Spectrum* const s, const unsigned freq, const unsigned h)
{
  const unsigned b = freq * h / s->step;
  CHECK(b <= s->period / 2);
  return 10.0 * log10(s->power[b] + 1e-300);
}

/* The power of every component that is no harmonic of `freq`, in dB
   against the fundamental's. */
static double
alias_db(const Spectrum* const s, const unsigned freq)
{
  double alias = 0.0;
  for (unsigned b = 1; b <= s->period / 2; ++b) {
    if ((b * s->step) % freq) {
      alias += s->power[b];
    }
  }
  return 10.0 * log10(alias / s->power[freq / s->step] + 1e-300);
}

/* Latency and the dry path */

/* mix 0 is the input 40 frames late, exactly, at every rate, whatever the
   drive; at mix 0.5 a small signal through a curve at 0 dB drive adds to
   the dry one in phase: flat, no comb, so wet and dry line up. */
static void
test_dry(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const size_t n    = 20000;
    float* const in   = buffer(n);
    float* const out  = buffer(n);
    uint32_t     x    = 12345u;
    for (size_t i = 0; i < n; ++i) {
      x     = hp_xorshift32(x);
      in[i] = 0.5f * (float)sin(0.05 * (double)i) +
              0.4f * (float)(int32_t)x * 0x1p-31f;
    }
    Rig r = drive_rig(rate, 1, 30.0f);
    rig_set(&r, "mix", 0.0f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    for (size_t i = 0; i < n; ++i) {
      const float want = i < LATENCY ? 0.0f : in[i - LATENCY];
      CHECK_MSG(out[i] == want,
                "frame %zu: %g, want %g",
                i,
                (double)out[i],
                (double)want);
    }
    rig_free(&r);
    printf("# drive @ %g, mix 0: the input %u frames late, exactly\n",
           (double)rate,
           LATENCY);
    free(in);
    free(out);
  }

  const float         rate    = 48000.0f;
  static const double freqs[] = {
    100.0, 1000.0, 5000.0, 10000.0, 15000.0, 19000.0};
  for (int shape = 0; shape < N_SHAPES; ++shape) {
    double worst = 0.0;
    for (size_t fi = 0; fi < sizeof(freqs) / sizeof(freqs[0]); ++fi) {
      const size_t n   = 24000;
      float* const in  = tone(freqs[fi], (double)rate, n);
      float* const out = buffer(n);
      for (size_t i = 0; i < n; ++i) {
        in[i] *= 1e-3f;
      }
      Rig r = drive_rig(rate, shape, 0.0f);
      rig_set(&r, "mix", 0.5f);
      r.in[0]  = in;
      r.out[0] = out;
      rig_run(&r, 0, n);
      const double db = 20.0 * log10(hp_sig_rms(out + n / 2, n / 2) /
                                     hp_sig_rms(in + n / 2, n / 2));
      worst           = fabs(db) > fabs(worst) ? db : worst;
      rig_free(&r);
      free(in);
      free(out);
    }
    printf("# drive %s, mix 0.5, drive 0 dB, -60 dB tones 100..19000 Hz: "
           "gain %+.4f dB at worst\n",
           shapes[shape],
           worst);
    CHECK_VAL(fabs(worst) < 0.02, worst);
  }
}

/* Small signals */

/* A -60 dB tone through each curve at the default drive (12 dB) comes out
   12 dB up and 40 frames late: the curves have slope 1 at 0, and the
   oversampler is flat across the band (0.007 dB to 20 kHz at 48 kHz). */
static void
test_small_signal(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float rate = rates[ri];
    for (int shape = 0; shape < N_SHAPES; ++shape) {
      double       worst_db = 0.0, worst_err = 0.0;
      const double freqs[] = {100.0, 1000.0, 5000.0, 0.4 * (double)rate};
      for (size_t fi = 0; fi < 4; ++fi) {
        const size_t n   = (size_t)rate / 2;
        float* const in  = tone(freqs[fi], (double)rate, n);
        float* const out = buffer(n);
        for (size_t i = 0; i < n; ++i) {
          in[i] *= 1e-3f;
        }
        Rig r    = drive_rig(rate, shape, 12.0f);
        r.in[0]  = in;
        r.out[0] = out;
        rig_run(&r, 0, n);
        const double db = 20.0 * log10(hp_sig_rms(out + n / 2, n / 2) /
                                       hp_sig_rms(in + n / 2, n / 2)) -
                          12.0;
        worst_db = fabs(db) > fabs(worst_db) ? db : worst_db;
        /* Sample by sample against the input 40 frames late, at 1 kHz. */
        if (fi == 1) {
          const double g = pow(10.0, 12.0 / 20.0);
          for (size_t i = n / 2; i < n; ++i) {
            const double e =
              fabs((double)out[i] - g * (double)in[i - LATENCY]) / (g * 1e-3);
            worst_err = e > worst_err ? e : worst_err;
          }
        }
        rig_free(&r);
        free(in);
        free(out);
      }
      printf("# drive %s @ %g, drive 12 dB, -60 dB tones 100 Hz..0.4 rate: "
             "gain 12 dB %+.4f dB; at 1 kHz the input 40 frames late within "
             "%.2g of the peak\n",
             shapes[shape],
             (double)rate,
             worst_db,
             worst_err);
      CHECK_VAL(fabs(worst_db) < 0.02, worst_db);
      CHECK_VAL(worst_err < 2e-3, worst_err);
    }
  }

  /* level: the wet signal's gain. */
  const size_t n   = 24000;
  float* const in  = tone(1000.0, 48000.0, n);
  float* const out = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    in[i] *= 1e-3f;
  }
  Rig r = drive_rig(48000.0f, 0, 12.0f);
  rig_set(&r, "level", -18.5f);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  const double db = 20.0 * log10(hp_sig_rms(out + n / 2, n / 2) /
                                 hp_sig_rms(in + n / 2, n / 2));
  printf("# drive 12 dB, level -18.5 dB: gain %.4f dB\n", db);
  CHECK_VAL(fabs(db + 6.5) < 0.02, db);
  rig_free(&r);
  free(in);
  free(out);
}

/* Curves */

/* Amplitude of harmonic h of curve(a sin t): (2/pi) int_0^pi curve(a sin
   t) sin(h t) dt, by the midpoint rule (the integrand is smooth but for
   the soft curve's corners, which 2^20 points resolve to 1e-9). */
static double
fourier(const int shape, const double a, const unsigned h)
{
  const unsigned steps = 1u << 20;
  double         sum   = 0.0;
  for (unsigned i = 0; i < steps; ++i) {
    const double t = PI * ((double)i + 0.5) / (double)steps;
    sum += curve(shape, a * sin(t)) * sin((double)h * t);
  }
  return 2.0 / (double)steps * sum;
}

/* A full-scale 1 kHz tone driven 9.54 dB (x3, well into each bend): odd
   harmonics as the Fourier series of the documented curve says, even ones
   absent.  Harmonics above -60 dB only: the fold's sine is hp_sin2pi, off
   by up to 6.5e-6 (-104 dB), which moves the 9th (-75 dB) by 0.2 dB. */
static void
test_curves(void)
{
  const float  rate  = 48000.0f;
  const size_t n     = 48000;
  const float  drive = (float)(20.0 * log10(3.0));
  float* const in    = tone(1000.0, (double)rate, n);
  float* const out   = buffer(n);
  for (int shape = 0; shape < N_SHAPES; ++shape) {
    Rig r    = drive_rig(rate, shape, drive);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    const Spectrum s     = spectrum(out, n, 48000u, 1000u);
    double         worst = 0.0, even = -HUGE_VAL;
    for (unsigned h = 1; h <= 9; ++h) {
      const double got = harmonic_db(&s, 1000u, h);
      if (h % 2) {
        const double want = 20.0 * log10(fabs(fourier(shape, 3.0, h)));
        if (want > -60.0) {
          worst = fabs(got - want) > fabs(worst) ? got - want : worst;
        }
      } else {
        even = got > even ? got : even;
      }
    }
    printf("# drive %s x3, 1 kHz: fundamental %.3f dB, 3rd %.3f dB, 5th "
           "%.3f dB; odd harmonics above -60 dB within %.4f dB of the "
           "curve's Fourier series; even ones below %.1f dB\n",
           shapes[shape],
           harmonic_db(&s, 1000u, 1),
           harmonic_db(&s, 1000u, 3),
           harmonic_db(&s, 1000u, 5),
           worst,
           even);
    CHECK_VAL(fabs(worst) < 0.02, worst);
    CHECK_VAL(even < -100.0, even);
    CHECK(hp_sig_peak(out, n) < 1.2f);
    free(s.power);
    rig_free(&r);
  }
  free(in);
  free(out);
}

/* Aliasing */

typedef struct {
  unsigned freq;
  int      shape;
  double   most;     /* dB: the module's aliases at 48 kHz are below */
  double   naive_at; /* dB: without oversampling, about */
} AliasCase;

/* The figures mod_drive.c states, with 1.5 dB of margin. */
static const AliasCase alias_cases[] = {
  {5000u, 0, -40.0 + 1.5, -11.0},
  {5000u, 1, -40.0 + 1.5, -11.0},
  {5000u, 2, -60.0 + 1.5, 12.0},
  {9100u, 0, -25.0 + 1.5, -7.0},
  {9100u, 1, -27.0 + 1.5, -7.0},
  {9100u, 2, -11.0 + 1.5, 12.0},
};

static void
test_aliasing(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float    rate = rates[ri];
    const unsigned ur   = (unsigned)rate;
    const size_t   n    = (size_t)rate;
    float* const   out  = buffer(n);
    float* const   bare = buffer(n);
    for (size_t c = 0; c < sizeof(alias_cases) / sizeof(alias_cases[0]); ++c) {
      const AliasCase* const a  = &alias_cases[c];
      float* const           in = tone((double)a->freq, (double)rate, n);
      Rig                    r  = drive_rig(rate, a->shape, 24.0f);
      r.in[0]                   = in;
      r.out[0]                  = out;
      rig_run(&r, 0, n);
      const double g = pow(10.0, 24.0 / 20.0);
      for (size_t i = 0; i < n; ++i) {
        bare[i] = (float)curve(a->shape, g * (double)in[i]);
      }
      Spectrum     s    = spectrum(out, n, ur, a->freq);
      const double got  = alias_db(&s, a->freq);
      const double fund = harmonic_db(&s, a->freq, 1);
      free(s.power);
      s                  = spectrum(bare, n, ur, a->freq);
      const double naive = alias_db(&s, a->freq);
      free(s.power);
      printf("# drive %s @ %g, %u Hz full scale driven 24 dB: aliases %.1f dB "
             "(fundamental %.2f dB); without oversampling %.1f dB: %.1f dB "
             "less\n",
             shapes[a->shape],
             (double)rate,
             a->freq,
             got,
             fund,
             naive,
             naive - got);
      if (rate == 48000.0f) {
        CHECK_VAL(got < a->most, got);
        CHECK_VAL(fabs(naive - a->naive_at) < 1.5, naive);
      }
      /* At every rate the oversampler takes 18 dB off at least. */
      CHECK_VAL(naive - got > 18.0, naive - got);
      rig_free(&r);
      free(in);
    }
    free(out);
    free(bare);
  }
}

/* Bad input, modulation, chunking */

/* NaN and infinities in the input are taken as 0: the output is finite
   and the same as with zeros there. */
static void
test_bad_input(void)
{
  const size_t n     = 48000;
  float* const in    = tone(440.0, 48000.0, n);
  float* const clean = buffer(n);
  float* const out   = buffer(n);
  float* const ref   = buffer(n);
  memcpy(clean, in, n * sizeof(float));
  static const size_t at[] = {1000, 5000, 5001, 20000};
  in[at[0]]                = NAN;
  in[at[1]]                = INFINITY;
  in[at[2]]                = -INFINITY;
  in[at[3]]                = 3e38f;
  for (size_t k = 0; k < 3; ++k) {
    clean[at[k]] = 0.0f;
  }
  clean[at[3]] = in[at[3]];
  for (int shape = 0; shape < N_SHAPES; ++shape) {
    Rig r = drive_rig(48000.0f, shape, 48.0f);
    rig_set(&r, "mix", 0.5f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    rig_free(&r);
    r = drive_rig(48000.0f, shape, 48.0f);
    rig_set(&r, "mix", 0.5f);
    r.in[0]  = clean;
    r.out[0] = ref;
    rig_run(&r, 0, n);
    rig_free(&r);
    CHECK(hp_sig_finite(out, n));
    CHECK(!memcmp(out, ref, n * sizeof(float)));
    /* After the huge sample: the wet part is in -1..1 again. */
    CHECK_VAL(hp_sig_peak(out + 20200, n - 20200) < 1.2f,
              hp_sig_peak(out + 20200, n - 20200));
  }
  printf("# drive: NaN, +-Inf in the input play as 0, 3e38 stays finite, "
         "every curve at 48 dB\n");
  free(in);
  free(clean);
  free(out);
  free(ref);
}

/* Parameters as signals: constant ones give what the set values give, bit
   for bit; swept far beyond their ranges (and NaN), finite and bounded. */
static void
test_modulation(void)
{
  const size_t n     = 24000;
  float* const in    = tone(220.0, 48000.0, n);
  float* const out   = buffer(n);
  float* const ref   = buffer(n);
  float* const drive = constant(18.0f, n);
  float* const mix   = constant(0.7f, n);
  float* const level = constant(-3.0f, n);
  float* const shape = constant(1.0f, n);

  Rig r = drive_rig(48000.0f, 1, 18.0f);
  rig_set(&r, "mix", 0.7f);
  rig_set(&r, "level", -3.0f);
  r.in[0]  = in;
  r.out[0] = ref;
  rig_run(&r, 0, n);
  rig_free(&r);
  r = drive_rig(48000.0f, 0, 0.0f);
  rig_signal(&r, "drive", drive);
  rig_signal(&r, "mix", mix);
  rig_signal(&r, "level", level);
  rig_signal(&r, "shape", shape);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(!memcmp(out, ref, n * sizeof(float)));

  for (size_t i = 0; i < n; ++i) {
    const double t = (double)i / 48000.0;
    drive[i]       = (float)(60.0 * sin(2.0 * PI * 3.0 * t));
    mix[i]         = (float)(2.0 * sin(2.0 * PI * 5.0 * t));
    level[i]       = (float)(100.0 * sin(2.0 * PI * 7.0 * t));
  }
  drive[5000] = NAN;
  mix[6000]   = NAN;
  level[7000] = NAN;
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(out, n));
  /* At most level's top (+12 dB, x3.98) times the wet's peak (under 1.2:
     band-limited clipping overshoots). */
  printf("# drive: constant signals equal the set values bit for bit; swept "
         "beyond the ranges and NaN: finite, peak %.3f\n",
         (double)hp_sig_peak(out, n));
  CHECK_VAL(hp_sig_peak(out, n) < 4.8f, hp_sig_peak(out, n));
  rig_free(&r);
  free(in);
  free(out);
  free(ref);
  free(drive);
  free(mix);
  free(level);
  free(shape);
}

/* The output does not depend on how the calls are chunked: the filters'
   histories carry across calls. */
static void
test_chunking(void)
{
  const size_t n  = 30000;
  float* const in = tone(3000.0, 48000.0, n);
  float* const a  = buffer(n);
  float* const b  = buffer(n);
  Rig          r  = drive_rig(48000.0f, 2, 20.0f);
  r.in[0]         = in;
  r.out[0]        = a;
  chunk_next      = 0;
  rig_run(&r, 0, n);
  rig_free(&r);
  r        = drive_rig(48000.0f, 2, 20.0f);
  r.in[0]  = in;
  r.out[0] = b;
  for (size_t pos = 0; pos < n; ++pos) { /* one frame a call */
    rig_run(&r, pos, 1);
  }
  CHECK(!memcmp(a, b, n * sizeof(float)));
  rig_free(&r);
  printf("# drive: chunks of 1..256 frames and single frames give the same "
         "output, bit for bit\n");
  free(in);
  free(a);
  free(b);
}

/* dsp.h's tanh, which the tanh curve uses. */
static void
test_tanh(void)
{
  double worst = 0.0, at = 0.0;
  for (int i = -200000; i <= 200000; ++i) {
    const float x = (float)i * 1e-4f;
    if (i == 0) {
      CHECK(hp_tanhf(x) == 0.0f);
      continue;
    }
    const double want = tanh((double)x);
    const double e    = fabs((double)hp_tanhf(x) - want) / fabs(want);
    if (e > worst) {
      worst = e;
      at    = (double)x;
    }
  }
  for (float x = 1e-30f; x < 1e-3f; x *= 1.37f) {
    const double e = fabs((double)hp_tanhf(x) - tanh((double)x)) / (double)x;
    worst          = e > worst ? e : worst;
  }
  printf("# hp_tanhf: largest relative error %.2g (at %.4f), 1e-30..20\n",
         worst,
         at);
  CHECK_VAL(worst < 1e-6, worst);
  CHECK(hp_tanhf(50.0f) == 1.0f && hp_tanhf(-50.0f) == -1.0f);
}

int
main(void)
{
  test_tanh();
  test_dry();
  test_small_signal();
  test_curves();
  test_aliasing();
  test_bad_input();
  test_modulation();
  test_chunking();
  printf("test_dsp_drive: all checks passed\n");
  return 0;
}
