/*
  The ADSR envelope and the biquad filter (its kernel and the module),
  driven directly through their descriptors (see rig.h): timing of gates
  by parameter and by input, steady-state gains against the analogue
  prototypes.  Every figure measured is printed on a "# " line.
  (Oscillators: test_dsp_oscillators.c; the other modules and the
  descriptors: test_dsp_modules.c.)
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

/* ADSR */

typedef struct {
  double attack, decay, sustain, release; /* ms, ms, level, ms */
} Adsr;

/* Gate on at g0, off at g1; returns the worst timing error in frames. */
static double
adsr_timing(const float rate, const Adsr* const s, const bool by_input)
{
  const double fpm = (double)rate / 1000.0; /* frames per ms */
  const size_t g0  = 100;
  const size_t g1  = g0 + (size_t)((s->attack + s->decay + 50.0) * fpm);
  const size_t n   = g1 + (size_t)((s->release + 50.0) * fpm);
  float* const one = constant(1.0f, n);
  float* const out = buffer(n);
  float* const env = buffer(n);
  float* const gin = buffer(n);

  Rig r = rig_new("adsr", rate);
  rig_set(&r, "attack", (float)s->attack);
  rig_set(&r, "decay", (float)s->decay);
  rig_set(&r, "sustain", (float)s->sustain);
  rig_set(&r, "release", (float)s->release);
  r.in[0]  = one;
  r.out[0] = out;
  r.out[1] = env;
  if (by_input) {
    for (size_t i = g0; i < g1; ++i) {
      gin[i] = 1.0f;
    }
    r.in[1] = gin;
    rig_run(&r, 0, n);
  } else {
    rig_run(&r, 0, g0);
    rig_set(&r, "gate", 1.0f);
    rig_run(&r, g0, g1 - g0);
    rig_set(&r, "gate", 0.0f);
    rig_run(&r, g1, n - g1);
  }

  size_t a_end = n, d_end = n, r_end = n;
  for (size_t i = g0; i < n && a_end == n; ++i) {
    a_end = env[i] >= 1.0f ? i : n;
  }
  for (size_t i = a_end + 1; i < n && d_end == n; ++i) {
    d_end = env[i] <= (float)s->sustain ? i : n;
  }
  for (size_t i = g1; i < n && r_end == n; ++i) {
    r_end = env[i] <= 0.0f ? i : n;
  }
  CHECK(a_end < n && d_end < n && r_end < n);
  for (size_t i = 0; i < g0; ++i) {
    CHECK_VAL(env[i] == 0.0f, env[i]);
  }

  /* Lengths in frames: the attack's frames are g0..a_end inclusive. */
  const double a_len = (double)(a_end + 1 - g0);
  const double d_len = (double)(d_end - a_end);
  const double r_len = (double)(r_end + 1 - g1);
  const double a_err = fabs(a_len - s->attack * fpm);
  const double d_err = fabs(d_len - s->decay * fpm);
  const double r_err = fabs(r_len - s->release * fpm);
  printf("# adsr %s @ %g: attack %.3f ms (error %.4f ms), decay %.3f ms "
         "(%.4f), release %.3f ms (%.4f)\n",
         by_input ? "gate input" : "gate param",
         (double)rate,
         a_len / fpm,
         a_err / fpm,
         d_len / fpm,
         d_err / fpm,
         r_len / fpm,
         r_err / fpm);
  /* Lengths are rounded to whole frames: within half a frame (0.01 ms at
     48 kHz), where the contract asks for well under 1 ms. */
  CHECK_VAL(a_err <= 0.5 + 1e-6, a_err / fpm);
  CHECK_VAL(d_err <= 0.5 + 1e-6, d_err / fpm);
  CHECK_VAL(r_err <= 0.5 + 1e-6, r_err / fpm);

  /* Levels: sustain held exactly, out = in * env, no step bigger than the
     steepest segment's slope. */
  CHECK_VAL(env[g1 - 1] == (float)s->sustain, env[g1 - 1]);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(out[i] == env[i], out[i] - env[i]);
    CHECK_VAL(env[i] >= 0.0f && env[i] <= 1.0f, env[i]);
  }
  const float steepest =
    (float)(1.0 / (s->attack * fpm) + (1.0 - s->sustain) / (s->decay * fpm) +
            s->sustain / (s->release * fpm));
  CHECK_VAL(hp_sig_max_step(env, n) <= steepest, hp_sig_max_step(env, n));

  rig_free(&r);
  free(one);
  free(out);
  free(env);
  free(gin);
  return a_err > d_err ? (a_err > r_err ? a_err : r_err)
                       : (d_err > r_err ? d_err : r_err);
}

static void
test_adsr(void)
{
  static const Adsr settings[] = {
    {12.3, 47.1, 0.6, 201.7},
    {10.0, 100.0, 0.7, 300.0},      /* the defaults */
    {2000.0, 3000.0, 0.25, 5000.0}, /* long: no drift */
  };
  double worst_ms = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t si = 0; si < sizeof(settings) / sizeof(settings[0]); ++si) {
      for (int by_input = 0; by_input < 2; ++by_input) {
        const double e = adsr_timing(rates[ri], &settings[si], by_input) /
                         ((double)rates[ri] / 1000.0);
        worst_ms = e > worst_ms ? e : worst_ms;
      }
    }
  }
  printf("# adsr timing: worst error %.4f ms\n", worst_ms);

  const float  rate = 48000.0f;
  const size_t n    = 48000;
  float* const one  = constant(1.0f, n);
  float* const out  = buffer(n);
  float* const env  = buffer(n);
  float* const gin  = buffer(n);

  /* Retrigger during the release: the attack resumes from the current
     level, so there is no step. */
  for (size_t i = 0; i < n; ++i) {
    gin[i] = (i >= 100 && i < 10000) || i >= 15000 ? 1.0f : 0.0f;
  }
  Rig r    = rig_new("adsr", rate);
  r.in[0]  = one;
  r.in[1]  = gin;
  r.out[0] = out;
  r.out[1] = env;
  rig_run(&r, 0, n);
  const float at_retrigger = env[14999];
  printf("# adsr retrigger at level %.4f: next %.4f, max step %.5f\n",
         (double)at_retrigger,
         (double)env[15000],
         (double)hp_sig_max_step(env, n));
  CHECK_VAL(at_retrigger > 0.1f, at_retrigger);
  CHECK_VAL(env[15000] > at_retrigger, env[15000]);
  CHECK_VAL(hp_sig_max_step(env, n) < 1.0f / 480.0f + 1e-6f,
            hp_sig_max_step(env, n));
  /* 10 ms attack at full-scale rate: from that level it takes less. */
  size_t peak = 15000;
  while (peak < n && env[peak] < 1.0f) {
    ++peak;
  }
  const double expect = (1.0 - (double)at_retrigger) * 480.0;
  CHECK_VAL(fabs((double)(peak + 1 - 15000) - expect) <= 1.0,
            (double)(peak + 1 - 15000));
  rig_free(&r);

  /* Without "env" connected, out is the same; without "in", silence. */
  float* const out2 = buffer(n);
  r                 = rig_new("adsr", rate);
  r.in[0]           = one;
  r.in[1]           = gin;
  r.out[0]          = out2;
  rig_run(&r, 0, n);
  double max_diff = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = fabs((double)out2[i] - (double)out[i]);
    max_diff       = d > max_diff ? d : max_diff;
  }
  CHECK_VAL(max_diff < 1e-6, max_diff);
  rig_free(&r);

  r        = rig_new("adsr", rate);
  r.in[1]  = gin;
  r.out[0] = out2;
  r.out[1] = env;
  rig_run(&r, 0, n);
  CHECK_VAL(hp_sig_peak(out2, n) == 0.0f, hp_sig_peak(out2, n));
  CHECK_VAL(hp_sig_peak(env, n) == 1.0f, hp_sig_peak(env, n));
  rig_free(&r);

  /* Zero times are instant: sustain at the gate's first frame, 0 at the
     gate-off frame. */
  r = rig_new("adsr", rate);
  rig_set(&r, "attack", 0.0f);
  rig_set(&r, "decay", 0.0f);
  rig_set(&r, "release", 0.0f);
  r.in[0]  = one;
  r.in[1]  = gin;
  r.out[0] = out;
  r.out[1] = env;
  rig_run(&r, 0, n);
  CHECK_VAL(env[99] == 0.0f, env[99]);
  CHECK_VAL(env[100] == 0.7f, env[100]);
  CHECK_VAL(env[9999] == 0.7f, env[9999]);
  CHECK_VAL(env[10000] == 0.0f, env[10000]);
  rig_free(&r);

  /* A sustain changed while sustaining (smoothed, so a signal) is
     followed frame by frame. */
  float* const sus = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    sus[i] =
      i < 20000 ? 0.7f : 0.3f + 0.4f * expf(-(float)(i - 20000) / 240.0f);
  }
  r = rig_new("adsr", rate);
  rig_signal(&r, "sustain", sus);
  rig_set(&r, "gate", 1.0f);
  r.in[0]  = one;
  r.out[0] = out;
  r.out[1] = env;
  rig_run(&r, 0, n);
  CHECK_VAL(fabsf(env[19999] - 0.7f) < 1e-6f, env[19999]);
  CHECK_VAL(fabsf(env[n - 1] - 0.3f) < 1e-4f, env[n - 1]);
  CHECK_VAL(hp_sig_max_step(env + 10000, n - 10000) < 0.002f,
            hp_sig_max_step(env + 10000, n - 10000));
  rig_free(&r);

  free(sus);
  free(out2);
  free(one);
  free(out);
  free(env);
  free(gin);
}

/* Biquad */

/* Steady-state gain in dB of a sine at `freq` through the filter. */
static double
biquad_gain_db(const char* const mode,
               const float       cutoff,
               const float       q,
               const float       freq,
               const float       rate,
               const bool        as_signal)
{
  const size_t n   = (size_t)(2.0f * rate);
  float* const in  = tone((double)freq, (double)rate, n);
  float* const out = buffer(n);
  float* const fc  = constant(cutoff, n);
  Rig          r   = rig_new("biquad_filter", rate);
  const int    mi =
    hp_param_find_choice(&r.desc->params[param_index(&r, "mode")], mode);
  CHECK_MSG(mi >= 0, "mode %s", mode);
  rig_set(&r, "mode", (float)mi);
  rig_set(&r, "resonance", q);
  if (as_signal) {
    rig_signal(&r, "cutoff", fc);
  } else {
    rig_set(&r, "frequency", cutoff);
  }
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  /* The second half: transients long gone. */
  const double db = 20.0 * log10(hp_sig_rms(out + n / 2, n / 2) /
                                 hp_sig_rms(in + n / 2, n / 2));
  CHECK(hp_sig_finite(out, n));
  rig_free(&r);
  free(in);
  free(out);
  free(fc);
  return db;
}

/* dsp.h's biquad kernel against the textbook recursion (transposed direct
   form II, one frame at a time, double): random filters of every mode
   from 10 Hz to near Nyquist and Q 0.1..20, random lengths (odd ones
   too), carried state across calls, and a NaN in the input reaching no
   output before its own frame. */
static void
test_biquad_kernel(void)
{
  uint64_t rng   = 0x9E3779B97F4A7C15ull;
  double   worst = 0.0;
  for (int trial = 0; trial < 400; ++trial) {
    rng ^= rng << 13u;
    rng ^= rng >> 7u;
    rng ^= rng << 17u;
    const double u     = (double)(rng % 1000000u) / 1000000.0;
    const double v     = (double)((rng >> 20u) % 1000000u) / 1000000.0;
    const double w0    = 2.0 * PI * 10.0 * pow(2200.0, u) / 48000.0;
    const double q     = 0.1 * pow(200.0, v);
    const double cw    = cos(w0);
    const double alpha = sin(w0) / (2.0 * q);
    const double a0    = 1.0 + alpha;
    HpBiquad     c;
    switch (trial % 4) {
    case 0:
      c.b0 = c.b2 = (1.0 - cw) * 0.5 / a0;
      c.b1        = (1.0 - cw) / a0;
      break;
    case 1:
      c.b0 = c.b2 = (1.0 + cw) * 0.5 / a0;
      c.b1        = -(1.0 + cw) / a0;
      break;
    case 2:
      c.b0 = alpha / a0;
      c.b1 = 0.0;
      c.b2 = -alpha / a0;
      break;
    default:
      c.b0 = c.b2 = 1.0 / a0;
      c.b1        = -2.0 * cw / a0;
      break;
    }
    c.a1 = -2.0 * cw / a0;
    c.a2 = (1.0 - alpha) / a0;

    float  in[HP_CHUNK], out[HP_CHUNK];
    double z[2] = {0.0, 0.0}, z1 = 0.0, z2 = 0.0;
    for (int call = 0; call < 6; ++call) {
      const uint32_t n =
        1u + (uint32_t)((rng >> (8u * (unsigned)call)) % HP_CHUNK);
      for (uint32_t i = 0; i < n; ++i) {
        in[i] = (float)sin(0.37 * (double)(i + 7u * (unsigned)call) + u);
      }
      hp_biquad_run(&c, z, in, out, n);
      for (uint32_t i = 0; i < n; ++i) {
        const double x = (double)in[i];
        const double y = c.b0 * x + z1;
        z1             = c.b1 * x - c.a1 * y + z2;
        z2             = c.b2 * x - c.a2 * y;
        const double d = fabs((double)out[i] - y) / (1.0 + fabs(y));
        worst          = d > worst ? d : worst;
      }
    }
    /* A NaN at frame k: frames before it stay finite. */
    const uint32_t k = (uint32_t)(rng % 200u) + 1u;
    for (uint32_t i = 0; i < HP_CHUNK; ++i) {
      in[i] = (float)sin(0.1 * (double)i);
    }
    in[k] = NAN;
    hp_biquad_run(&c, z, in, out, HP_CHUNK);
    CHECK_VAL(hp_sig_finite(out, k), k);
  }
  CHECK_VAL(worst < 1e-6, worst);
  printf("# biquad kernel: 400 filters x 6 calls of random length against the "
         "one-frame recursion: largest difference %.2g; a NaN reaches no "
         "earlier frame\n",
         worst);
}

static void
test_biquad(void)
{
  static const float cutoffs[] = {200.0f, 1000.0f, 5000.0f};
  const float        rate      = 48000.0f;
  for (size_t c = 0; c < 3; ++c) {
    const float  fc = cutoffs[c];
    const double lp = biquad_gain_db("lowpass", fc, 0.7071f, fc, rate, false);
    const double hp = biquad_gain_db("highpass", fc, 0.7071f, fc, rate, false);
    const double lp_sig =
      biquad_gain_db("lowpass", fc, 0.7071f, fc, rate, true);
    const double lp_oct =
      biquad_gain_db("lowpass", fc, 0.7071f, 2.0f * fc, rate, false);
    printf("# biquad @ 48000, cutoff %g Hz: lowpass %.3f dB, highpass %.3f dB "
           "(cutoff as a signal: %.3f dB); lowpass an octave up %.2f dB\n",
           (double)fc,
           lp,
           hp,
           lp_sig,
           lp_oct);
    /* The contract asks for 0.5 dB; the cookbook filter is exact, so a
       tighter bound catches a wrong Q or warping. */
    CHECK_VAL(fabs(lp + 3.01) < 0.05, lp);
    CHECK_VAL(fabs(hp + 3.01) < 0.05, hp);
    CHECK_VAL(fabs(lp_sig + 3.01) < 0.05, lp_sig);
    CHECK_VAL(lp_oct < -11.0, lp_oct); /* 12 dB/octave, steeper near Nyquist */
  }
  for (size_t c = 0; c < 3; ++c) {
    const float  fc    = cutoffs[c];
    const double bp1   = biquad_gain_db("bandpass", fc, 1.0f, fc, rate, false);
    const double bp5   = biquad_gain_db("bandpass", fc, 5.0f, fc, rate, false);
    const double notch = biquad_gain_db("notch", fc, 0.7071f, fc, rate, false);
    printf("# biquad @ 48000, centre %g Hz: bandpass %.3f dB (Q 1), %.3f dB "
           "(Q 5); notch %.1f dB\n",
           (double)fc,
           bp1,
           bp5,
           notch);
    CHECK_VAL(fabs(bp1) < 0.05, bp1);
    CHECK_VAL(fabs(bp5) < 0.05, bp5);
    CHECK_VAL(notch < -30.0, notch);
  }

  /* Low cutoff at a high rate: DC passes at unity (float coefficients would
     misplace the poles here). */
  {
    const size_t n   = 192000;
    float* const in  = constant(1.0f, n);
    float* const out = buffer(n);
    Rig          r   = rig_new("biquad", 96000.0f);
    rig_set(&r, "cutoff", 10.0f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    printf("# biquad lowpass 10 Hz @ 96000: DC gain %.6f\n",
           (double)out[n - 1]);
    CHECK_VAL(fabsf(out[n - 1] - 1.0f) < 1e-4f, out[n - 1]);
    rig_free(&r);
    free(in);
    free(out);
  }

  /* A modulated cutoff is followed within 16 frames: cutoff 200 Hz, then
     5 kHz from frame 128 of a 256-frame call; an impulse at frame 136 comes
     out scaled by the 5 kHz lowpass's b0. */
  {
    const size_t n   = 256;
    float* const in  = buffer(n);
    float* const out = buffer(n);
    float* const fc  = buffer(n);
    for (size_t i = 0; i < n; ++i) {
      fc[i] = i < 128 ? 200.0f : 5000.0f;
    }
    in[136]         = 1.0f;
    const double w  = 2.0 * PI * 5000.0 / 48000.0;
    const double a  = sin(w) / (2.0 * 0.707);
    const double b0 = (1.0 - cos(w)) / 2.0 / (1.0 + a);
    Rig          r  = rig_new("biquad", 48000.0f);
    rig_signal(&r, "cutoff", fc);
    r.in[0]    = in;
    r.out[0]   = out;
    chunk_next = 0; /* one call of 256 frames */
    rig_run(&r, 0, n);
    printf("# biquad cutoff signal 200 -> 5000 Hz at frame 128: impulse "
           "response at 136 %.6f (5 kHz b0 %.6f)\n",
           (double)out[136],
           b0);
    CHECK_VAL(fabs((double)out[136] - b0) < 1e-6, out[136]);
    rig_free(&r);
    free(in);
    free(out);
    free(fc);
  }

  /* A swept cutoff and Q (signals beyond the range, as an LFO might send),
     then a NaN in the input: the state resets and the output recovers. */
  {
    const size_t n   = 96000;
    float* const in  = tone(440.0, 48000.0, n);
    float* const out = buffer(n);
    float* const fc  = buffer(n);
    float* const q   = buffer(n);
    for (size_t i = 0; i < n; ++i) {
      fc[i] =
        1000.0f + 30000.0f * (float)sin(2.0 * PI * 5.0 * (double)i / 48000.0);
      q[i] = 10.0f + 15.0f * (float)sin(2.0 * PI * 0.7 * (double)i / 48000.0);
    }
    in[50000] = NAN;
    Rig r     = rig_new("biquad", 48000.0f);
    rig_signal(&r, "cutoff", fc);
    rig_signal(&r, "q", q);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    CHECK(hp_sig_finite(out, 50000));
    CHECK(hp_sig_finite(out + 50512, n - 50512)); /* after the NaN's chunk */
    CHECK_VAL(hp_sig_peak(out + 50512, n - 50512) > 0.1f,
              hp_sig_peak(out + 50512, n - 50512));
    printf("# biquad swept 10..20000 Hz, Q 0.1..20: peak %.3f, recovered "
           "after a NaN input\n",
           (double)hp_sig_peak(out, 50000));
    rig_free(&r);

    /* Unconnected input: the state rings out to exactly 0. */
    r = rig_new("biquad", 48000.0f);
    rig_set(&r, "q", 20.0f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, 1000);
    r.in[0] = NULL;
    rig_run(&r, 1000, n - 1000);
    CHECK(hp_sig_finite(out, n));
    CHECK_VAL(out[n - 1] == 0.0f, out[n - 1]);
    rig_free(&r);
    free(in);
    free(out);
    free(fc);
    free(q);
  }
}

int
main(void)
{
  test_adsr();
  test_biquad_kernel();
  test_biquad();
  printf("test_dsp_shapers: all checks passed\n");
  return 0;
}
