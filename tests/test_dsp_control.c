/*
  The control processors sh (sample and hold) and slew (slew limiter), and
  the panner pan, driven directly through their descriptors (see rig.h):
  sampling on the exact frame of a trigger and holding exactly, the own
  clock's count of steps, ramp times to the frame, equal-power gains
  against cos and sin.  Every figure measured is printed on a "# " line.
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

/* sh */

/* Rising edges of trig sample in on their own frame; out holds exactly
   until the next; trig values at or above 0.5 are high, NaN low. */
static void
test_sh_trig(void)
{
  const size_t n    = 6000;
  float* const in   = buffer(n);
  float* const trig = buffer(n);
  float* const out  = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    in[i] = (float)i + 0.25f; /* each frame its own value */
  }
  /* Highs: [from, to).  Edges at the rig's chunk boundaries (256, 590,
     977), a one-frame pulse, pulses one low frame apart, 0.5 exactly. */
  static const size_t highs[][2] = {{100, 200},
                                    {256, 300},
                                    {590, 591},
                                    {977, 1500},
                                    {1501, 1502},
                                    {2000, 2300},
                                    {4000, 5990}};
  const size_t        n_highs    = sizeof(highs) / sizeof(highs[0]);
  for (size_t h = 0; h < n_highs; ++h) {
    for (size_t i = highs[h][0]; i < highs[h][1]; ++i) {
      trig[i] = 1.0f;
    }
  }
  trig[2000] = 0.5f;  /* at 0.5: high */
  trig[2100] = 0.49f; /* dips below 0.5 within a high: a new edge at 2101 */
  trig[2200] = NAN;   /* NaN is low: a new edge at 2201 */
  trig[3000] = 0.45f; /* below 0.5: no edge */
  trig[4500] = 0.7f;  /* high to high: no edge */

  size_t edges[16];
  size_t n_edges = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool now  = trig[i] >= 0.5f;
    const bool prev = i && trig[i - 1] >= 0.5f;
    if (now && !prev) {
      edges[n_edges++] = i;
    }
  }
  CHECK_VAL(n_edges == n_highs + 2, n_edges);

  Rig r    = rig_new("sh", 48000.0f);
  r.in[0]  = in;
  r.in[1]  = trig;
  r.out[0] = out;
  rig_run(&r, 0, n);
  size_t e = 0;
  for (size_t i = 0; i < n; ++i) {
    while (e < n_edges && edges[e] <= i) {
      ++e;
    }
    const float want = e ? in[edges[e - 1]] : 0.0f;
    CHECK_MSG(out[i] == want,
              "frame %zu: %g, want %g",
              i,
              (double)out[i],
              (double)want);
  }
  printf("# sh: %zu rising edges through 0.5 (chunk boundaries, 1-frame "
         "pulses, 0.5, NaN as low): sampled on their frames, held exactly\n",
         n_edges);

  /* A NaN sampled is held as 0; the next edge recovers. */
  in[edges[1]] = NAN;
  rig_free(&r);
  r        = rig_new("sh", 48000.0f);
  r.in[0]  = in;
  r.in[1]  = trig;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(out, n));
  CHECK_VAL(out[edges[1]] == 0.0f, out[edges[1]]);
  CHECK_VAL(out[edges[2]] == in[edges[2]], out[edges[2]]);

  /* No in: each edge a fresh random value. */
  rig_free(&r);
  r        = rig_new("sh", 48000.0f);
  r.in[1]  = trig;
  r.out[0] = out;
  rig_run(&r, 0, n);
  for (size_t k = 1; k < n_edges; ++k) {
    CHECK(out[edges[k]] != out[edges[k] - 1]);
    CHECK(out[edges[k]] >= -1.0f && out[edges[k]] < 1.0f);
  }
  rig_free(&r);
  free(in);
  free(trig);
  free(out);
}

/* Frames where the output changes (a sample of noise that equals the last
   one is a 2^-32 chance). */
static size_t
steps(const float* const out,
      const size_t       n,
      size_t* const      at,
      const size_t       max)
{
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i ? out[i] != out[i - 1] : out[0] != 0.0f) {
      if (count < max) {
        at[count] = i;
      }
      ++count;
    }
  }
  return count;
}

/* The own clock: a fresh module samples on its first frame, then every
   rate / hz frames (to a frame), so 10 s at 4 Hz is 40 steps. */
static void
test_sh_clock(void)
{
  static const float hzs[] = {4.0f, 1000.0f, 0.25f};
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t hi = 0; hi < sizeof(hzs) / sizeof(hzs[0]); ++hi) {
      const float  rate    = rates[ri];
      const float  hz      = hzs[hi];
      const double seconds = hz < 1.0f ? 20.0 : (hz > 100.0f ? 1.0 : 10.0);
      const size_t n       = (size_t)(seconds * (double)rate);
      float* const out     = buffer(n);
      Rig          r       = rig_new("sh", rate);
      rig_set(&r, "rate", hz);
      r.out[0] = out;
      rig_run(&r, 0, n);
      static size_t at[2000];
      const size_t  count = steps(out, n, at, 2000);
      const size_t  want  = (size_t)ceil(seconds * (double)hz);
      double        worst = 0.0;
      for (size_t k = 0; k < count && k < 2000; ++k) {
        const double e =
          fabs((double)at[k] - (double)k * (double)rate / (double)hz);
        worst = e > worst ? e : worst;
      }
      printf("# sh clock %g Hz @ %g: %zu steps in %g s (%g per second), "
             "each within %.2f frames of k rate / hz\n",
             (double)hz,
             (double)rate,
             count,
             seconds,
             (double)count / seconds,
             worst);
      CHECK_VAL(count == want, count);
      CHECK_VAL(worst < 1.0, worst);
      rig_free(&r);
      free(out);
    }
  }

  /* Its noise: uniform in -1..1 (mean 0, RMS 1/sqrt 3), and another module's
     is another sequence. */
  const size_t n = 48000;
  float* const a = buffer(n);
  float* const b = buffer(n);
  Rig          r = rig_new("sh", 48000.0f);
  Rig          s = rig_new("sh", 48000.0f);
  rig_set(&r, "rate", 1000.0f);
  rig_set(&s, "rate", 1000.0f);
  r.out[0] = a;
  s.out[0] = b;
  rig_run(&r, 0, n);
  rig_run(&s, 0, n);
  double sum = 0.0, sum2 = 0.0;
  size_t same = 0;
  for (size_t i = 0; i < n; i += 48) {
    sum += (double)a[i];
    sum2 += (double)a[i] * (double)a[i];
    same += a[i] == b[i];
    CHECK(a[i] >= -1.0f && a[i] < 1.0f);
  }
  const double m   = sum / 1000.0;
  const double rms = sqrt(sum2 / 1000.0);
  printf("# sh noise, 1000 steps: mean %.4f, RMS %.4f (uniform: 0, %.4f); "
         "%zu equal to a second module's\n",
         m,
         rms,
         1.0 / sqrt(3.0),
         same);
  CHECK_VAL(fabs(m) < 0.1, m);
  CHECK_VAL(fabs(rms - 1.0 / sqrt(3.0)) < 0.05, rms);
  CHECK_VAL(same == 0, same);
  rig_free(&r);
  rig_free(&s);
  free(a);
  free(b);
}

/* The clock sampling in; rate as a signal: constant, the same as set;
   beyond the range and NaN, at most 1000 steps a second. */
static void
test_sh_clock_input(void)
{
  const size_t n   = 48000;
  float* const in  = buffer(n);
  float* const out = buffer(n);
  float* const ref = buffer(n);
  float* const hz  = constant(100.0f, n);
  for (size_t i = 0; i < n; ++i) {
    in[i] = (float)i - 0.5f;
  }
  Rig r = rig_new("sh", 48000.0f);
  rig_set(&r, "rate", 100.0f);
  r.in[0]  = in;
  r.out[0] = ref;
  rig_run(&r, 0, n);
  static size_t at[200];
  const size_t  count = steps(ref, n, at, 200);
  CHECK_VAL(count == 100, count);
  for (size_t k = 0; k < count; ++k) {
    CHECK_VAL(ref[at[k]] == in[at[k]], ref[at[k]]);
  }
  rig_free(&r);

  r = rig_new("sh", 48000.0f);
  rig_signal(&r, "rate", hz);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(!memcmp(out, ref, n * sizeof(float)));

  for (size_t i = 0; i < n; ++i) {
    hz[i] = (float)(1e6 * sin(2.0 * PI * (double)i / (double)n));
  }
  hz[100] = NAN;
  rig_run(&r, 0, n);
  const size_t wild = steps(out, n, at, 200);
  printf("# sh clock sampling in at 100 Hz: 100 steps in 1 s, each the input "
         "of its frame; rate as a constant signal the same; swept to +-1e6 "
         "and NaN: %zu steps\n",
         wild);
  CHECK(hp_sig_finite(out, n));
  CHECK_VAL(wild <= 1000, wild);
  rig_free(&r);
  free(in);
  free(out);
  free(ref);
  free(hz);
}

/* slew */

typedef struct {
  size_t reached; /* frames from the step to the first at the target */
  double worst;   /* largest distance from the straight line */
} Ramp;

/* out from frame `from`, a ramp from a to b at `frames` per unit. */
static Ramp
ramp(const float* const out,
     const size_t       n,
     const size_t       from,
     const double       a,
     const double       b,
     const double       frames)
{
  Ramp r = {n, 0.0};
  for (size_t i = from; i < n && r.reached == n; ++i) {
    if (out[i] == (float)b) {
      r.reached = i + 1 - from;
    }
    const double k = (double)(i + 1 - from);
    const double line =
      b > a ? fmin(b, a + k / frames) : fmax(b, a - k / frames);
    r.worst = fmax(r.worst, fabs((double)out[i] - line));
  }
  return r;
}

/* A unit step up at rise 100 ms reaches 1 in 100 ms, to a frame, on a
   straight line; a step down at fall 250 ms takes 250 ms; half a step half
   the time. */
static void
test_slew_steps(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const size_t s1 = 1000, s2 = s1 + (size_t)(0.2 * (double)rate);
    const size_t s3  = s2 + (size_t)(0.3 * (double)rate);
    const size_t n   = s3 + (size_t)(0.1 * (double)rate);
    float* const in  = buffer(n);
    float* const out = buffer(n);
    for (size_t i = 0; i < n; ++i) {
      in[i] = i < s1 ? 0.0f : (i < s2 ? 1.0f : (i < s3 ? 0.0f : 0.5f));
    }
    Rig r = rig_new("slew", rate);
    rig_set(&r, "rise", 100.0f);
    rig_set(&r, "fall", 250.0f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    const double fpms = (double)rate / 1000.0;
    const Ramp   up   = ramp(out, s2, s1, 0.0, 1.0, 100.0 * fpms);
    const Ramp   down = ramp(out, s3, s2, 1.0, 0.0, 250.0 * fpms);
    const Ramp   half = ramp(out, n, s3, 0.0, 0.5, 100.0 * fpms);
    printf("# slew @ %g: unit step up, rise 100 ms: at 1 after %.3f ms; down, "
           "fall 250 ms: at 0 after %.3f ms; half a step up: %.3f ms; off "
           "the straight line by %.2g at most\n",
           (double)rate,
           (double)up.reached / fpms,
           (double)down.reached / fpms,
           (double)half.reached / fpms,
           fmax(up.worst, fmax(down.worst, half.worst)));
    CHECK_VAL(fabs((double)up.reached - 100.0 * fpms) <= 1.0, up.reached);
    CHECK_VAL(fabs((double)down.reached - 250.0 * fpms) <= 1.0, down.reached);
    CHECK_VAL(fabs((double)half.reached - 50.0 * fpms) <= 1.0, half.reached);
    CHECK_VAL(fmax(up.worst, fmax(down.worst, half.worst)) < 1e-6,
              fmax(up.worst, down.worst));
    CHECK_VAL(out[s1 - 1] == 0.0f && out[s2 - 1] == 1.0f, out[s2 - 1]);
    CHECK_VAL(out[s3 - 1] == 0.0f && out[n - 1] == 0.5f, out[n - 1]);
    rig_free(&r);
    free(in);
    free(out);
  }
}

/* A fresh module starts at its input: a cutoff of 1000 Hz does not rise
   from 0 (which at 10 ms a unit would take 10 s); it glides from there. */
static void
test_slew_start(void)
{
  const size_t n   = 6000;
  float* const in  = constant(1000.0f, n);
  float* const out = buffer(n);
  for (size_t i = 1000; i < n; ++i) {
    in[i] = 1010.0f;
  }
  Rig r    = rig_new("slew", 48000.0f);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  const Ramp up = ramp(out, n, 1000, 1000.0, 1010.0, 480.0);
  printf("# slew from a first input of 1000: starts at %g; a step of 10 at "
         "10 ms a unit takes %.3f ms\n",
         (double)out[0],
         (double)up.reached / 48.0);
  CHECK_VAL(out[0] == 1000.0f && out[999] == 1000.0f, out[0]);
  CHECK_VAL(fabs((double)up.reached - 4800.0) <= 1.0, up.reached);
  rig_free(&r);
  free(in);
  free(out);
}

/* The longest ramp, 10 s for a unit at 96 kHz: the rounding of 960000
   steps does not make it a frame late. */
static void
test_slew_long(void)
{
  const size_t n   = 960100;
  float* const in  = buffer(n);
  float* const out = buffer(n);
  for (size_t i = 50; i < n; ++i) {
    in[i] = 1.0f;
  }
  Rig r = rig_new("slew", 96000.0f);
  rig_set(&r, "rise", 10000.0f);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  const Ramp up = ramp(out, n, 50, 0.0, 1.0, 960000.0);
  printf("# slew @ 96000, rise 10000 ms: at 1 after %zu frames (960000), off "
         "the straight line by %.2g at most\n",
         up.reached,
         up.worst);
  CHECK_VAL(up.reached == 960000, up.reached);
  CHECK_VAL(up.worst < 1e-6, up.worst);
  rig_free(&r);
  free(in);
  free(out);
}

/* Audio: rise and fall 0 pass it unchanged; 1 ms limits its slope to 1
   per ms.  Bad input holds the output; the times as constant signals are
   the set values; swept beyond the range and NaN, finite. */
static void
test_slew_audio(void)
{
  const size_t n   = 48000;
  float* const in  = tone(1000.0, 48000.0, n);
  float* const out = buffer(n);
  float* const ref = buffer(n);
  float* const ms  = constant(1.0f, n);
  Rig          r   = rig_new("slew", 48000.0f);
  rig_set(&r, "rise", 0.0f);
  rig_set(&r, "fall", 0.0f);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(!memcmp(out, in, n * sizeof(float)));
  rig_free(&r);

  r = rig_new("slew", 48000.0f);
  rig_set(&r, "rise", 1.0f);
  rig_set(&r, "fall", 1.0f);
  r.in[0]  = in;
  r.out[0] = ref;
  rig_run(&r, 0, n);
  const float step = hp_sig_max_step(ref, n);
  printf("# slew 1 ms on a full-scale 1 kHz sine: largest step %.6f (1/48 = "
         "%.6f), peak %.4f; at 0 ms the sine unchanged\n",
         (double)step,
         1.0 / 48.0,
         (double)hp_sig_peak(ref, n));
  CHECK_VAL(step <= 1.0f / 48.0f + 1e-6f, step);
  CHECK_VAL(step > 1.0f / 48.0f - 1e-6f, step);
  rig_free(&r);

  r = rig_new("slew", 48000.0f);
  rig_signal(&r, "rise", ms);
  rig_signal(&r, "fall", ms);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(!memcmp(out, ref, n * sizeof(float)));

  for (size_t i = 0; i < n; ++i) {
    ms[i] = (float)(30000.0 * sin(2.0 * PI * 2.0 * (double)i / 48000.0));
  }
  ms[300]  = NAN;
  in[1000] = NAN;
  in[2000] = INFINITY;
  in[2001] = -INFINITY;
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(out, n));
  rig_free(&r);

  /* The bad frames hold the output where it was. */
  r        = rig_new("slew", 48000.0f);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(out, n));
  CHECK_VAL(out[1000] == out[999], out[1000]);
  CHECK_VAL(out[2001] == out[1999], out[2001]);
  rig_free(&r);
  printf("# slew: NaN and +-Inf in hold the output; times as constant "
         "signals the same as set; swept to +-30000 ms and NaN, finite\n");
  free(in);
  free(out);
  free(ref);
  free(ms);
}

/* pan */

/* Gains at constant positions -1..1 (201 of them) against cos and sin of
   (pan + 1) pi / 4: the sine's error, the power sum, the centre. */
static void
test_pan_law(void)
{
  const size_t n          = 64;
  float* const in         = constant(1.0f, n);
  float* const mix        = buffer(n);
  float* const left       = buffer(n);
  float* const rt         = buffer(n);
  double       worst_gain = 0.0, worst_power = 0.0;
  for (int k = -100; k <= 100; ++k) {
    const double p = (double)k / 100.0;
    Rig          r = rig_new("pan", 48000.0f);
    rig_set(&r, "pan", (float)p);
    r.in[0]  = in;
    r.out[0] = mix;
    r.out[1] = left;
    r.out[2] = rt;
    rig_run(&r, 0, n);
    const double theta = (p + 1.0) * PI / 4.0;
    const double l = (double)left[n - 1], rr = (double)rt[n - 1];
    worst_gain =
      fmax(worst_gain, fmax(fabs(l - cos(theta)), fabs(rr - sin(theta))));
    worst_power = fmax(worst_power, fabs(l * l + rr * rr - 1.0));
    for (size_t i = 0; i < n; ++i) {
      CHECK(mix[i] == 0.5f * (left[i] + rt[i]));
      CHECK(left[i] == left[0] && rt[i] == rt[0]);
    }
    if (k == 0) {
      const double ldb = 20.0 * log10(l), rdb = 20.0 * log10(rr);
      printf("# pan 0: left %.4f dB, right %.4f dB (-3.0103)\n", ldb, rdb);
      CHECK_VAL(fabs(ldb + 3.0103) < 0.001, ldb);
      CHECK_VAL(fabs(rdb + 3.0103) < 0.001, rdb);
    }
    if (k == -100 || k == 100) {
      const double near = k < 0 ? l : rr, far = k < 0 ? rr : l;
      printf("# pan %+d: %s %.7f, %s %g\n",
             k / 100,
             k < 0 ? "left" : "right",
             near,
             k < 0 ? "right" : "left",
             far);
      CHECK_VAL(fabs(near - 1.0) < 1e-5, near);
      CHECK_VAL(far == 0.0, far);
    }
    rig_free(&r);
  }
  printf("# pan -1..1 in 201 steps: gains within %.2g of cos, sin; left^2 + "
         "right^2 within %.2g of 1\n",
         worst_gain,
         worst_power);
  CHECK_VAL(worst_gain < 1e-5, worst_gain);
  CHECK_VAL(worst_power < 1e-4, worst_power);
  free(in);
  free(mix);
  free(left);
  free(rt);
}

/* A pan signal swept beyond -1..1 (and NaN) over a tone: each frame's
   pair holds the tone's power, at the clamped position's gains; the mix
   is the same with the pair unread; no input is silence. */
static void
test_pan_modulated(void)
{
  const size_t n    = 48000;
  float* const in   = tone(330.0, 48000.0, n);
  float* const pan  = buffer(n);
  float* const mix  = buffer(n);
  float* const mix2 = buffer(n);
  float* const left = buffer(n);
  float* const rt   = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    pan[i] = (float)(3.0 * sin(2.0 * PI * 2.0 * (double)i / 48000.0));
  }
  pan[777] = NAN;
  Rig r    = rig_new("pan", 48000.0f);
  rig_signal(&r, "pan", pan);
  r.in[0]  = in;
  r.out[0] = mix;
  r.out[1] = left;
  r.out[2] = rt;
  rig_run(&r, 0, n);
  double worst_gain = 0.0, worst_power = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double p =
      isnan(pan[i]) ? -1.0 : fmax(-1.0, fmin(1.0, (double)pan[i]));
    const double theta = (p + 1.0) * PI / 4.0;
    const double x     = (double)in[i];
    const double l = (double)left[i], rr = (double)rt[i];
    worst_gain = fmax(
      worst_gain, fmax(fabs(l - x * cos(theta)), fabs(rr - x * sin(theta))));
    worst_power = fmax(worst_power, fabs(l * l + rr * rr - x * x));
    CHECK(mix[i] == 0.5f * (left[i] + rt[i]));
  }
  printf("# pan swept over -3..3 (and NaN) on a tone: gains within %.2g, "
         "left^2 + right^2 within %.2g of in^2, frame by frame\n",
         worst_gain,
         worst_power);
  CHECK(hp_sig_finite(left, n) && hp_sig_finite(rt, n));
  CHECK_VAL(worst_gain < 1e-5, worst_gain);
  CHECK_VAL(worst_power < 1e-4, worst_power);

  r.out[1] = NULL;
  r.out[2] = NULL;
  r.out[0] = mix2;
  rig_run(&r, 0, n);
  CHECK(!memcmp(mix, mix2, n * sizeof(float)));

  r.in[0]  = NULL;
  r.out[1] = left;
  r.out[2] = rt;
  rig_run(&r, 0, n);
  CHECK(hp_sig_peak(mix2, n) == 0.0f && hp_sig_peak(left, n) == 0.0f &&
        hp_sig_peak(rt, n) == 0.0f);
  rig_free(&r);
  free(in);
  free(pan);
  free(mix);
  free(mix2);
  free(left);
  free(rt);
}

int
main(void)
{
  test_sh_trig();
  test_sh_clock();
  test_sh_clock_input();
  test_slew_steps();
  test_slew_long();
  test_slew_start();
  test_slew_audio();
  test_pan_law();
  test_pan_modulated();
  printf("test_dsp_control: all checks passed\n");
  return 0;
}
