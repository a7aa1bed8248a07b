/*
  The modules with memory, delay and chorus, driven directly through their
  descriptors (see rig.h): echo times to the frame, feedback and damping
  against the analytic loop, the mix law, tempo sync, glides without
  clicks, a loop's prefetch, the memory access modes, and the chorus's
  modulation and stereo.  Every figure measured is printed on a "# " line.
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

/* Helpers */

static float*
impulse(const size_t n, const size_t at, const float level)
{
  float* const b = buffer(n);
  b[at]          = level;
  return b;
}

static size_t
argmax_abs(const float* const x, const size_t n)
{
  size_t at = 0;
  for (size_t i = 1; i < n; ++i) {
    at = fabsf(x[i]) > fabsf(x[at]) ? i : at;
  }
  return at;
}

/* Centre of gravity of x[from, to): sum k x[k] / sum x[k]. */
static double
centroid(const float* const x, const size_t from, const size_t to)
{
  double s = 0.0, sk = 0.0;
  for (size_t k = from; k < to; ++k) {
    s += (double)x[k];
    sk += (double)k * (double)x[k];
  }
  return sk / s;
}

static double
db(const double x)
{
  return 20.0 * log10(x);
}

static double
max_abs_diff(const float* const a, const float* const b, const size_t n)
{
  double m = 0.0;
  for (size_t i = 0; i < n; ++i) {
    m = fmax(m, fabs((double)a[i] - (double)b[i]));
  }
  return m;
}

/* |DFT| of x[0, n) at `freq` Hz, and its phase in *phase (radians). */
static double
dft(const float* const x,
    const size_t       n,
    const double       rate,
    const double       freq,
    double* const      phase)
{
  double re = 0.0, im = 0.0;
  for (size_t k = 0; k < n; ++k) {
    const double w = 2.0 * PI * freq * (double)k / rate;
    re += (double)x[k] * cos(w);
    im -= (double)x[k] * sin(w);
  }
  if (phase) {
    *phase = atan2(im, re);
  }
  return hypot(re, im);
}

static double
correlation(const float* const a, const float* const b, const size_t n)
{
  const double ma = mean(a, n), mb = mean(b, n);
  double       ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double x = (double)a[i] - ma, y = (double)b[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / sqrt(aa * bb);
}

/* A delay with the given settings, its outputs into out and wet. */
static Rig
delay_rig(const float  rate,
          const float  time_ms,
          const float  feedback,
          const float  mix,
          float* const out,
          float* const wet)
{
  Rig r = rig_new("delay", rate);
  rig_set(&r, "time", time_ms);
  rig_set(&r, "feedback", feedback);
  rig_set(&r, "mix", mix);
  r.out[0] = out;
  r.out[1] = wet;
  return r;
}

/* Delay: memory, time, feedback, damping, mix, beats */

static void
test_memory_size(void)
{
  static const float more_rates[] = {44100.0f, 48000.0f, 96000.0f, 192000.0f};
  static const float maxes[]      = {0.1f, 4.0f, 20.0f};
  const HpModuleDesc* const d     = hp_module_find("delay");
  CHECK(d && d->memory && d->prefetch);
  CHECK(d->delayed_outputs == 1u << hp_module_find_output(d, "wet"));
  HpParamIn param[HP_MAX_PARAMS];
  for (uint32_t p = 0; p < d->n_params; ++p) {
    param[p].signal = NULL;
    param[p].value  = d->params[p].def;
  }
  for (size_t ri = 0; ri < 4; ++ri) {
    for (size_t mi = 0; mi < 3; ++mi) {
      param[hp_module_find_param(d, "max")].value = maxes[mi];
      const size_t size = d->memory(param, more_rates[ri]);
      CHECK_VAL(!(size & (size - 1u)), size);
      CHECK_VAL((double)size >=
                  (double)maxes[mi] * (double)more_rates[ri] + HP_RING_REACH,
                size);
      CHECK_VAL((double)size <
                    2.0 * ((double)maxes[mi] * (double)more_rates[ri] +
                           HP_RING_REACH) ||
                  size == HP_RING_MIN,
                size);
      if (mi == 1 || mi == 2) {
        printf("# delay max %g s at %g Hz: %zu floats (%.1f MB)\n",
               (double)maxes[mi],
               (double)more_rates[ri],
               size,
               (double)size * 4.0 / 1048576.0);
      }
    }
  }
  const HpModuleDesc* const c = hp_module_find("chorus");
  CHECK(c && c->memory && c->stereo && !c->prefetch);
  printf("# chorus at 192000 Hz: %zu floats\n", c->memory(param, 192000.0f));
  CHECK(c->memory(param, 192000.0f) >= (size_t)(0.05 * 192000.0) + 3u);
}

/* An impulse comes out `time` later: at the frame round(time * rate), its
   centre of gravity at time * rate exactly (a Hermite read keeps the first
   moment: the weights reproduce a straight line).  Returns the worst
   centroid error in frames. */
static double
delay_time_at(const float rate, const float time_ms)
{
  const size_t at   = 10;
  const double want = (double)time_ms * (double)rate / 1000.0;
  const size_t n    = at + (size_t)want + 64;
  float* const in   = impulse(n, at, 1.0f);
  float* const out  = buffer(n);
  float* const wet  = buffer(n);
  Rig          r    = delay_rig(rate, time_ms, 0.0f, 1.0f, out, wet);
  r.in[0]           = in;
  rig_run(&r, 0, n);

  const size_t peak  = argmax_abs(wet, n);
  const double whole = floor(want);
  const double c     = centroid(wet, at + (size_t)whole - 4, n) - (double)at;
  printf("# delay %g ms at %g Hz: %.4f frames, peak at %zu, centroid %.6f "
         "(error %.2g)\n",
         (double)time_ms,
         (double)rate,
         want,
         peak - at,
         c,
         c - want);
  CHECK_VAL(peak - at == (size_t)lround(want), peak - at);
  CHECK_VAL(fabs(c - want) < 0.05, c - want);
  if (want == whole) { /* whole frames: the impulse, exactly, and only it */
    CHECK_VAL(wet[peak] == 1.0f, wet[peak]);
    CHECK_VAL(hp_sig_peak(wet, peak) == 0.0f, hp_sig_peak(wet, peak));
    CHECK_VAL(hp_sig_peak(wet + peak + 1, n - peak - 1) == 0.0f,
              hp_sig_peak(wet + peak + 1, n - peak - 1));
  }
  CHECK(!memcmp(out, wet, n * sizeof(float))); /* mix 1: out is wet */
  rig_free(&r);
  free(in);
  free(out);
  free(wet);
  return fabs(c - want);
}

static void
test_time(void)
{
  /* Whole frames at every rate (100, 10 ms), fractions (12.5 ms is 551.25
     frames at 44.1 kHz; 10.01 and 0.73 ms are fractions everywhere). */
  static const float times[] = {100.0f, 10.0f, 12.5f, 10.01f, 0.73f, 333.3f};
  double             worst   = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t ti = 0; ti < sizeof(times) / sizeof(times[0]); ++ti) {
      worst = fmax(worst, delay_time_at(rates[ri], times[ti]));
    }
  }
  printf("# delay time: worst centroid error %.2g frames\n", worst);

  /* The shortest: time 0 is one frame. */
  const size_t n   = 64;
  float* const in  = impulse(n, 5, 1.0f);
  float* const out = buffer(n);
  float* const wet = buffer(n);
  Rig          r   = delay_rig(48000.0f, 0.0f, 0.0f, 1.0f, out, wet);
  r.in[0]          = in;
  rig_run(&r, 0, n);
  printf("# delay time 0: the impulse at +%zu frame\n", argmax_abs(wet, n) - 5);
  CHECK_VAL(argmax_abs(wet, n) == 6 && wet[6] == 1.0f, argmax_abs(wet, n));
  rig_free(&r);
  free(in);
  free(out);
  free(wet);

  /* 4 s at 192 kHz (the default max), and `time` beyond max held at it. */
  static const float long_times[] = {4000.0f, 6000.0f};
  for (size_t i = 0; i < 2; ++i) {
    const float  rate = 192000.0f;
    const size_t m    = 768000 + 256;
    float* const lin  = impulse(m, 0, 1.0f);
    float* const lwet = buffer(m);
    float* const lout = buffer(m);
    Rig          lr   = delay_rig(rate, long_times[i], 0.0f, 1.0f, lout, lwet);
    lr.in[0]          = lin;
    rig_run(&lr, 0, m);
    const size_t peak = argmax_abs(lwet, m);
    printf("# delay %g ms, max 4 s at 192 kHz: echo at frame %zu (%zu floats "
           "of memory)\n",
           (double)long_times[i],
           peak,
           lr.mem_size);
    CHECK_VAL(peak == 768000 && lwet[peak] == 1.0f, peak);
    rig_free(&lr);
    free(lin);
    free(lwet);
    free(lout);
  }
}

/* The k-th echo is feedback^(k-1) of the input (the first is the input
   itself), with the damping off. */
static void
test_feedback(void)
{
  static const float feedbacks[] = {0.3f, 0.7f, 0.95f, 1.0f};
  const float        rate        = 48000.0f;
  const size_t       d           = 4800; /* 100 ms */
  const size_t       echoes      = 12;
  const size_t       n           = d * echoes + 100;
  float* const       in          = impulse(n, 0, 1.0f);
  float* const       out         = buffer(n);
  float* const       wet         = buffer(n);
  double             worst       = 0.0;
  for (size_t f = 0; f < sizeof(feedbacks) / sizeof(feedbacks[0]); ++f) {
    Rig r   = delay_rig(rate, 100.0f, feedbacks[f], 1.0f, out, wet);
    r.in[0] = in;
    rig_run(&r, 0, n);
    double err = 0.0, others = 0.0;
    for (size_t k = 1; k <= echoes; ++k) {
      const double want = pow((double)feedbacks[f], (double)(k - 1));
      err               = fmax(err, fabs(db((double)wet[k * d]) - db(want)));
      wet[k * d]        = 0.0f; /* what is left must be silence */
    }
    others = hp_sig_peak(wet, n);
    printf("# delay feedback %.2f: echoes 1..%zu at feedback^(k-1) within "
           "%.2g dB, elsewhere peak %g\n",
           (double)feedbacks[f],
           echoes,
           err,
           others);
    CHECK_VAL(err < 0.01, err);
    CHECK_VAL(others == 0.0, others);
    worst = fmax(worst, err);
    rig_free(&r);
  }
  printf("# delay feedback: worst echo level error %.2g dB\n", worst);
  free(in);
  free(out);
  free(wet);
}

/* The damping's one-pole in the loop: echo 2 is feedback times the
   low-pass's impulse response, so its spectrum over echo 1's is feedback
   * H(f), H(z) = a / (1 - (1 - a) z^-1), a = 1 - exp(-2 pi fc / rate). */
static void
test_damping(void)
{
  static const float  cutoffs[] = {500.0f, 2000.0f, 8000.0f};
  static const double freqs[]   = {50.0, 500.0, 2000.0, 6000.0, 15000.0};
  const float         fb        = 0.8f;
  double              worst_db = 0.0, worst_phase = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const double rate = (double)rates[ri];
    const size_t d    = (size_t)(rate / 10.0); /* 100 ms */
    const size_t n    = 3 * d + 10;
    float* const in   = impulse(n, 0, 1.0f);
    float* const out  = buffer(n);
    float* const wet  = buffer(n);
    for (size_t c = 0; c < 3; ++c) {
      Rig r = delay_rig(rates[ri], 100.0f, fb, 1.0f, out, wet);
      rig_set(&r, "damping", cutoffs[c]);
      r.in[0] = in;
      rig_run(&r, 0, n);
      const double a = 1.0 - exp(-2.0 * PI * (double)cutoffs[c] / rate);
      for (size_t fi = 0; fi < sizeof(freqs) / sizeof(freqs[0]); ++fi) {
        const double w = 2.0 * PI * freqs[fi] / rate;
        /* a / (1 - (1 - a) e^-jw) */
        const double re   = 1.0 - (1.0 - a) * cos(w);
        const double im   = (1.0 - a) * sin(w);
        const double h    = (double)fb * a / hypot(re, im);
        const double h_ph = -atan2(im, re);
        double       ph1 = 0.0, ph2 = 0.0;
        const double e1   = dft(wet + d, d, rate, freqs[fi], &ph1);
        const double e2   = dft(wet + 2 * d, d, rate, freqs[fi], &ph2);
        const double err  = db(e2 / e1) - db(h);
        double       perr = remainder(ph2 - ph1 - h_ph, 2.0 * PI);
        if (ri == 1) {
          printf("# delay damping %g Hz at %g Hz: echo 2 / echo 1 %.3f dB "
                 "(one-pole %.3f dB, error %.2g dB, phase error %.2g rad)\n",
                 (double)cutoffs[c],
                 freqs[fi],
                 db(e2 / e1),
                 db(h),
                 err,
                 perr);
        }
        CHECK_VAL(fabs(err) < 0.01, err);
        CHECK_VAL(fabs(perr) < 1e-3, perr);
        worst_db    = fmax(worst_db, fabs(err));
        worst_phase = fmax(worst_phase, fabs(perr));
      }
      rig_free(&r);
    }
    free(in);
    free(out);
    free(wet);
  }
  printf("# delay damping: worst error %.2g dB, %.2g rad over 3 rates\n",
         worst_db,
         worst_phase);
}

/* out = in * (1 - mix) + wet * mix, mix as a value or a signal. */
static void
test_mix(void)
{
  static const float mixes[] = {0.0f, 0.35f, 0.5f, 1.0f};
  const float        rate    = 48000.0f;
  const size_t       n       = 24000;
  float* const       in      = tone(440.0, (double)rate, n);
  float* const       out     = buffer(n);
  float* const       wet     = buffer(n);
  float* const       sweep   = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    sweep[i] = (float)i / (float)n;
  }
  for (size_t k = 0; k <= 4; ++k) {
    Rig r   = delay_rig(rate, 30.0f, 0.5f, k < 4 ? mixes[k] : 0.0f, out, wet);
    r.in[0] = in;
    if (k == 4) {
      rig_signal(&r, "mix", sweep);
    }
    rig_run(&r, 0, n);
    double err = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const float m = k < 4 ? mixes[k] : sweep[i];
      err           = fmax(err,
                 fabs((double)out[i] - ((double)in[i] * (1.0 - (double)m) +
                                        (double)wet[i] * (double)m)));
    }
    printf("# delay mix %s: out = in (1 - mix) + wet mix within %.2g, wet RMS "
           "%.4f\n",
           k < 4 ? (mixes[k] == 0.0f   ? "0"
                    : mixes[k] == 1.0f ? "1"
                                       : "0.35/0.5")
                 : "swept 0..1",
           err,
           hp_sig_rms(wet, n));
    CHECK_VAL(err < 1e-6, err);
    CHECK(hp_sig_rms(wet + 2000, n - 2000) > 0.5);
    if (k == 0) {
      CHECK(!memcmp(out, in, n * sizeof(float))); /* dry, exactly */
    }
    rig_free(&r);
  }
  free(in);
  free(out);
  free(wet);
  free(sweep);
}

/* beats with the host's tempo: 0.5 beat at 120 bpm is 250 ms exactly; no
   host time falls back to `time`. */
static void
test_beats(void)
{
  typedef struct {
    float  beats, bpm;
    bool   known;
    double ms;
  } Case;
  static const Case cases[] = {
    {0.5f, 120.0f, true, 250.0},
    {0.75f, 120.0f, true, 375.0}, /* a dotted eighth */
    {1.0f, 90.0f, true, 2000.0 / 3.0},
    {0.5f, 120.0f, false, 100.0}, /* no host time: `time` */
    {0.0f, 120.0f, true, 100.0},  /* beats off */
  };
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float rate = rates[ri];
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c) {
      const double want = cases[c].ms * (double)rate / 1000.0;
      const size_t n    = (size_t)want + 100;
      float* const in   = impulse(n, 0, 1.0f);
      float* const out  = buffer(n);
      float* const wet  = buffer(n);
      Rig          r    = delay_rig(rate, 100.0f, 0.0f, 1.0f, out, wet);
      rig_set(&r, "beats", cases[c].beats);
      r.time.known           = cases[c].known;
      r.time.bpm             = cases[c].bpm;
      r.time.rolling         = true;
      r.time.beats_per_frame = (double)cases[c].bpm / 60.0 / (double)rate;
      r.in[0]                = in;
      rig_run(&r, 0, n);
      const size_t peak = argmax_abs(wet, n);
      const double c0   = centroid(wet, peak - 3, n);
      if (ri == 1) {
        printf("# delay beats %g at %g bpm (host time %s): echo at %.4f "
               "frames, want %.4f (%g ms)\n",
               (double)cases[c].beats,
               (double)cases[c].bpm,
               cases[c].known ? "known" : "unknown",
               c0,
               want,
               cases[c].ms);
      }
      /* At 44.1 kHz 375 ms is 16537.5 frames: a tie. */
      CHECK_VAL(fabs((double)peak - want) <= 0.5, peak);
      CHECK_VAL(fabs(c0 - want) < 1e-3, c0 - want);
      rig_free(&r);
      free(in);
      free(out);
      free(wet);
    }
  }
}

/* Moving time */

/* The wet output of a 1 kHz tone through a delay whose time (ms) is
   `time`, against the tone read exactly time later: the residue (what an
   ideal reader would not give: clicks, zipper, interpolation error), and
   the largest step between frames against the steepest a sine of `fmax`
   Hz can take. */
static void
check_moving(const char* const   what,
             const float* const  wet,
             const double* const delay, /* frames, per frame */
             const size_t        from,
             const size_t        n,
             const double        rate,
             const double        top)
{
  double err = 0.0, res = 0.0, sig = 0.0;
  for (size_t i = from; i < n; ++i) {
    const double want = sin(2.0 * PI * 1000.0 * ((double)i - delay[i]) / rate);
    const double e    = (double)wet[i] - want;
    err               = fmax(err, fabs(e));
    res += e * e;
    sig += want * want;
  }
  const double step  = (double)hp_sig_max_step(wet + from, n - from);
  const double bound = 2.0 * sin(PI * top / rate); /* a sine's largest */
  printf("# delay %s: residue %.1f dB (max %.2g), max step %.5f against a "
         "%.0f Hz sine's %.5f\n",
         what,
         10.0 * log10(res / sig),
         err,
         step,
         top,
         bound);
  CHECK_VAL(err < 1e-4, err);
  CHECK_VAL(10.0 * log10(res / sig) < -90.0, 10.0 * log10(res / sig));
  CHECK_VAL(step <= bound * 1.0001, step);
}

static void
test_moving_time(void)
{
  const float  rate  = 48000.0f;
  const size_t n     = 96000; /* 2 s */
  float* const in    = tone(1000.0, (double)rate, n);
  float* const out   = buffer(n);
  float* const wet   = buffer(n);
  float* const time  = buffer(n);
  double*      delay = (double*)calloc(n, sizeof(double));
  CHECK(delay);

  /* A time signal: 100 ms, a sweep to 300 ms over 1 s, 300 ms.  0.2 frames
     a frame: followed exactly, the tone comes out at 800 Hz. */
  for (size_t i = 0; i < n; ++i) {
    const double t = (double)i / (double)rate;
    time[i]        = (float)(t < 0.5   ? 100.0
                             : t < 1.5 ? 100.0 + 200.0 * (t - 0.5)
                                       : 300.0);
    delay[i]       = hp_ms_to_frames(time[i], rate);
  }
  Rig r   = delay_rig(rate, 100.0f, 0.0f, 1.0f, out, wet);
  r.in[0] = in;
  rig_signal(&r, "time", time);
  rig_run(&r, 0, n);
  check_moving("time swept 100 -> 300 ms in 1 s",
               wet,
               delay,
               4800,
               n,
               (double)rate,
               1000.0);
  const double mid = hp_sig_freq(wet + 36000, 24000, (double)rate);
  printf("# delay sweep: the tone at %.3f Hz while the time lengthens 0.2 s "
         "a second\n",
         mid);
  CHECK_VAL(fabs(mid - 800.0) < 0.5, mid);
  rig_free(&r);

  /* A set from 100 to 300 ms and back: the glide, half a frame a frame, so
     the tone drops an octave for 0.4 s (9600 frames / 0.5), then comes
     back a fifth up. */
  r       = delay_rig(rate, 100.0f, 0.0f, 1.0f, out, wet);
  r.in[0] = in;
  rig_run(&r, 0, 24000);
  rig_set(&r, "time", 300.0f);
  rig_run(&r, 24000, 36000);
  rig_set(&r, "time", 100.0f);
  rig_run(&r, 60000, n - 60000);
  double d = 4800.0;
  for (size_t i = 0; i < n; ++i) {
    const double to = i < 24000 ? 4800.0 : i < 60000 ? 14400.0 : 4800.0;
    d               = fabs(to - d) <= 0.5 ? to : d + (to > d ? 0.5 : -0.5);
    delay[i]        = d;
  }
  const double down = hp_sig_freq(wet + 26000, 14000, (double)rate);
  const double up   = hp_sig_freq(wet + 62000, 14000, (double)rate);
  printf("# delay glide 100 -> 300 ms: %.3f Hz for 0.4 s; back: %.3f Hz\n",
         down,
         up);
  CHECK_VAL(fabs(down - 500.0) < 0.5, down);
  CHECK_VAL(fabs(up - 1500.0) < 0.5, up);
  check_moving(
    "time set 100 -> 300 -> 100 ms", wet, delay, 4800, n, (double)rate, 1500.0);
  rig_free(&r);

  free(in);
  free(out);
  free(wet);
  free(time);
  free(delay);
}

/* Loops */

/* In a loop (prefetch, then process) a delay of 300 ms sounds as it does
   outside one, sample for sample; a shorter one is held at 256 frames. */
static void
test_looped(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 96000;
  float* const in   = rig_noise(n, 0.5f);
  for (size_t i = 24000; i < n; ++i) {
    in[i] = 0.0f; /* then the echoes alone */
  }
  in[30000]           = 1.0f;
  float* const out[2] = {buffer(n), buffer(n)};
  float* const wet[2] = {buffer(n), buffer(n)};
  for (int looped = 0; looped < 2; ++looped) {
    Rig r = delay_rig(rate, 300.0f, 0.6f, 0.5f, out[looped], wet[looped]);
    rig_set(&r, "damping", 3000.0f);
    r.in[0]    = in;
    r.looped   = looped;
    chunk_next = 0;
    rig_run(&r, 0, n);
    rig_free(&r);
  }
  const double diff_out = max_abs_diff(out[0], out[1], n);
  const double diff_wet = max_abs_diff(wet[0], wet[1], n);
  const size_t echo     = 30000 + argmax_abs(wet[1] + 30000, 14400 + 100);
  printf("# delay 300 ms looped against not: out differs by %g, wet by %g; "
         "the impulse's echo at +%zu frames\n",
         diff_out,
         diff_wet,
         echo - 30000);
  CHECK_VAL(diff_out == 0.0 && diff_wet == 0.0, fmax(diff_out, diff_wet));
  CHECK_VAL(echo - 30000 == 14400, echo);
  CHECK(hp_sig_rms(wet[1] + 24000, n - 24000) > 0.01);

  /* 1 ms (48 frames): 256 frames in a loop, 48 outside. */
  const size_t m  = 2000;
  float* const i1 = impulse(m, 100, 1.0f);
  size_t       at[2];
  for (int looped = 0; looped < 2; ++looped) {
    Rig r    = delay_rig(rate, 1.0f, 0.0f, 1.0f, out[looped], wet[looped]);
    r.in[0]  = i1;
    r.looped = looped;
    rig_run(&r, 0, m);
    at[looped] = argmax_abs(wet[looped], m) - 100;
    rig_free(&r);
  }
  printf("# delay 1 ms: echo at +%zu frames, looped at +%zu (HP_CHUNK)\n",
         at[0],
         at[1]);
  CHECK_VAL(at[0] == 48, at[0]);
  CHECK_VAL(at[1] == HP_CHUNK && wet[1][100 + HP_CHUNK] == 1.0f, at[1]);

  /* Looped with a moving time: the tone still comes out without a click
     (the time is followed a chunk late, the glide the same). */
  float* const t1    = tone(1000.0, (double)rate, n);
  float* const sweep = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    sweep[i] =
      100.0f + 50.0f * (float)sin(2.0 * PI * 0.5 * (double)i / (double)rate);
  }
  Rig r    = delay_rig(rate, 100.0f, 0.0f, 1.0f, out[1], wet[1]);
  r.in[0]  = t1;
  r.looped = true;
  rig_signal(&r, "time", sweep);
  rig_run(&r, 0, n);
  /* 50 ms at 0.5 Hz: up to 0.157 frames a frame, 1157 Hz at most. */
  const double step = (double)hp_sig_max_step(wet[1] + 7200, n - 7200);
  const double bound =
    2.0 * sin(PI * 1000.0 * (1.0 + 0.05 * PI) / (double)rate);
  printf("# delay looped, time an LFO 100 +- 50 ms: max step %.5f (a %.0f Hz "
         "sine's %.5f)\n",
         step,
         1000.0 * (1.0 + 0.05 * PI),
         bound);
  CHECK_VAL(step <= bound * 1.001, step);
  rig_free(&r);

  free(sweep);
  free(t1);
  free(i1);
  free(in);
  for (int i = 0; i < 2; ++i) {
    free(out[i]);
    free(wet[i]);
  }
}

/* Memory access */

/* Rig b continues from a copy of rig a's state and memory. */
static void
rig_copy(Rig* const b, const Rig* const a)
{
  memcpy(b->state, a->state, a->desc->state_size);
  b->mem_size = a->mem_size;
  b->mem      = (float*)malloc(a->mem_size * sizeof(float));
  CHECK(b->mem);
  memcpy(b->mem, a->mem, a->mem_size * sizeof(float));
}

/* HP_MEM_READ: what OWN outputs for the same history (while the reads
   reach only frames from before the split), the memory untouched, the
   state advanced alike.  HP_MEM_NONE: the dry path, the memory and nothing
   else untouched.  `type` is "delay" or "chorus", its time `time_ms`; `run`
   frames, fewer than the shortest delay. */
static void
check_access(const char* const type, const float time_ms, const size_t run)
{
  const float    rate = 48000.0f;
  const size_t   n    = 48000;
  float* const   in   = rig_noise(n, 0.5f);
  Rig            a    = rig_new(type, rate);
  Rig            b    = rig_new(type, rate);
  float*         oa[3];
  float*         ob[3];
  const uint32_t n_out = a.desc->n_outputs;
  for (uint32_t o = 0; o < n_out; ++o) {
    a.out[o] = oa[o] = buffer(n);
    b.out[o] = ob[o] = buffer(n);
  }
  rig_set(&a, !strcmp(type, "delay") ? "time" : "delay", time_ms);
  rig_set(&b, !strcmp(type, "delay") ? "time" : "delay", time_ms);
  a.in[0] = b.in[0] = in;
  rig_run(&a, 0, n - run);
  rig_copy(&b, &a);
  float* const saved = (float*)malloc(a.mem_size * sizeof(float));
  CHECK(saved);
  memcpy(saved, a.mem, a.mem_size * sizeof(float));

  b.mem_access = HP_MEM_READ;
  chunk_next   = 0;
  rig_run(&a, n - run, run);
  chunk_next = 0;
  rig_run(&b, n - run, run);
  for (uint32_t o = 0; o < n_out; ++o) {
    CHECK_MSG(!memcmp(oa[o] + n - run, ob[o] + n - run, run * sizeof(float)),
              "%s: output %u read-only differs",
              type,
              o);
  }
  CHECK(!memcmp(b.mem, saved, a.mem_size * sizeof(float)));
  CHECK(memcmp(a.mem, saved, a.mem_size * sizeof(float)));
  CHECK(!memcmp(a.state, b.state, a.desc->state_size));
  printf("# %s HP_MEM_READ: %zu frames as HP_MEM_OWN plays them, memory "
         "unchanged, state advanced alike\n",
         type,
         run);

  /* NONE (b's memory is a's from before the split): in * (1 - mix). */
  b.mem_access = HP_MEM_NONE;
  rig_run(&b, n - run, run);
  const float mix = b.param[param_index(&b, "mix")].value;
  double      err = 0.0;
  for (size_t i = n - run; i < n; ++i) {
    err = fmax(err, fabs((double)ob[0][i] - (double)(in[i] * (1.0f - mix))));
  }
  CHECK(!memcmp(b.mem, saved, a.mem_size * sizeof(float)));
  printf("# %s HP_MEM_NONE: out = in * (1 - mix) within %g, memory "
         "unchanged\n",
         type,
         err);
  CHECK_VAL(err == 0.0, err);

  /* Memory smaller than a ring: as NONE (and no access past its end). */
  b.mem_access = HP_MEM_OWN;
  b.mem_size   = HP_RING_MIN - 1u;
  rig_run(&b, n - run, run);
  err = 0.0;
  for (size_t i = n - run; i < n; ++i) {
    err = fmax(err, fabs((double)ob[0][i] - (double)(in[i] * (1.0f - mix))));
  }
  CHECK(!memcmp(b.mem, saved, a.mem_size * sizeof(float)));
  CHECK_VAL(err == 0.0, err);
  b.mem_size = a.mem_size;

  /* No memory at all (the rig would make some: called directly). */
  const float* ins[1]  = {in};
  float*       outs[3] = {ob[0], NULL, NULL};
  HpParamIn    param[HP_MAX_PARAMS];
  uint32_t     oc   = 0;
  HpTime       time = b.time;
  HpNodeIO     io   = {.state     = b.state,
                       .in        = ins,
                       .out       = outs,
                       .param     = param,
                       .rate      = rate,
                       .inv_rate  = 1.0f / rate,
                       .out_const = &oc,
                       .time      = &time};
  for (uint32_t p = 0; p < b.desc->n_params; ++p) {
    param[p] = b.param[p];
  }
  b.desc->process(&io, HP_CHUNK);
  err = 0.0;
  for (size_t i = 0; i < HP_CHUNK; ++i) {
    err = fmax(err, fabs((double)ob[0][i] - (double)(in[i] * (1.0f - mix))));
  }
  printf("# %s without memory: out = in * (1 - mix) within %g\n", type, err);
  CHECK_VAL(err == 0.0, err);

  free(saved);
  for (uint32_t o = 0; o < n_out; ++o) {
    free(oa[o]);
    free(ob[o]);
  }
  rig_free(&a);
  rig_free(&b);
  free(in);
}

/* Faults and extremes */

/* NaN and Inf in: the line keeps 0 for them, so the output is finite again
   once the dry path is (and the echoes never bring them back). */
static void
test_delay_nonfinite(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 48000;
  const size_t d    = 480; /* 10 ms */
  float* const in   = tone(440.0, (double)rate, n);
  float* const out  = buffer(n);
  float* const wet  = buffer(n);
  in[1000]          = NAN;
  in[1001]          = INFINITY;
  in[1002]          = -INFINITY;
  Rig r             = delay_rig(rate, 10.0f, 1.0f, 0.5f, out, wet);
  rig_set(&r, "damping", 5000.0f);
  r.in[0] = in;
  rig_run(&r, 0, n);
  size_t bad_out = 0;
  for (size_t i = 0; i < n; ++i) {
    bad_out += !isfinite(out[i]);
  }
  printf("# delay NaN, +-Inf in: %zu non-finite frames out (the dry path's "
         "own), wet finite: %d\n",
         bad_out,
         hp_sig_finite(wet, n));
  CHECK_VAL(bad_out == 3, bad_out);
  CHECK(hp_sig_finite(wet, n));
  CHECK(hp_sig_finite(out + 1003, n - 1003));
  CHECK(hp_sig_rms(wet + 1003 + d, n - 1003 - d) > 0.1);
  rig_free(&r);

  /* Every parameter NaN, then +-Inf, as a signal: finite. */
  float* const nan_sig = constant(NAN, n);
  float* const inf_sig = constant(INFINITY, n);
  for (int k = 0; k < 3; ++k) {
    r       = delay_rig(rate, 10.0f, 0.5f, 0.5f, out, wet);
    r.in[0] = in + 1003;
    for (uint32_t p = 0; p < r.desc->n_params; ++p) {
      r.psig[p]        = k == 0 ? nan_sig : inf_sig;
      r.param[p].value = k == 2 ? -INFINITY : r.param[p].value;
    }
    if (k == 2) {
      for (size_t i = 0; i < n; ++i) {
        inf_sig[i] = -INFINITY;
      }
    }
    rig_run(&r, 0, n - 1003);
    CHECK_MSG(hp_sig_finite(out, n - 1003) && hp_sig_finite(wet, n - 1003),
              "non-finite params %d",
              k);
    rig_free(&r);
  }
  printf("# delay: finite with every parameter NaN, +Inf, -Inf\n");
  free(nan_sig);
  free(inf_sig);
  free(in);
  free(out);
  free(wet);
}

/* Feedback 1 and 1.2 with an input 20 dB over full scale: the line's soft
   clip holds the echoes under 2, the wet output under 2.5 (the Hermite
   read's overshoot of 1.25 on it).  From a small impulse, 1.2 grows into
   a drone at about 1.41 (clip(1.2 x) = x). */
static void
test_delay_bounded(void)
{
  static const float feedbacks[] = {1.0f, 1.2f};
  const float        rate        = 48000.0f;
  const size_t       n           = 192000; /* 4 s */
  float* const       loud        = rig_noise(n, 10.0f);
  float* const       out         = buffer(n);
  float* const       wet         = buffer(n);
  for (size_t i = n / 2; i < n; ++i) {
    loud[i] = 0.0f;
  }
  for (size_t f = 0; f < 2; ++f) {
    Rig r   = delay_rig(rate, 50.3f, feedbacks[f], 0.35f, out, wet);
    r.in[0] = loud;
    rig_run(&r, 0, n);
    const float  peak_wet = hp_sig_peak(wet, n);
    const float  peak_out = hp_sig_peak(out, n);
    const double tail     = hp_sig_rms(wet + n - 48000, 48000);
    printf("# delay feedback %.1f, noise at +20 dBFS for 2 s: wet peak %.4f "
           "(bound 2.5), out peak %.4f (bound %.4f), wet RMS %.4f 1 s after\n",
           (double)feedbacks[f],
           (double)peak_wet,
           (double)peak_out,
           0.65 * 10.0 + 0.35 * 2.5,
           tail);
    CHECK_VAL(peak_wet <= 2.5f, peak_wet);
    CHECK_VAL(peak_out <= 0.65f * 10.0f + 0.35f * 2.5f, peak_out);
    CHECK_VAL(tail > 0.5, tail); /* it rings on, as feedback >= 1 should */
    rig_free(&r);
  }

  float* const tick = impulse(n, 0, 0.01f);
  Rig          r    = delay_rig(rate, 10.0f, 1.2f, 1.0f, out, wet);
  r.in[0]           = tick;
  rig_run(&r, 0, n);
  const float drone = hp_sig_peak(wet + n - 4800, 4800);
  printf("# delay feedback 1.2 from a 0.01 impulse: after 4 s the echo is "
         "%.4f (clip(1.2 x) = x at 1.408)\n",
         (double)drone);
  CHECK_VAL(fabsf(drone - 1.408f) < 0.01f, drone);
  rig_free(&r);
  free(tick);
  free(loud);
  free(out);
  free(wet);
}

/* The path for constant feedback and mix (the line read and written a
   span at a time, vectorized; a whole-frame delay copied) against the
   frame-by-frame one (time, feedback and mix as signals of the same
   values): the same output and wet signal, frame for frame, at whole and
   fractional delays, spans of a few frames, damping, a burst over full
   scale (the soft clip) and NaN and Inf in, looped or not. */
static void
test_constant_path(void)
{
  static const float times[] = {300.0f, 10.3f, 0.2f, 0.1f};
  size_t             runs = 0, frames = 0, differ = 0;
  for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ++ri) {
    const float  rate = rates[ri];
    const size_t n    = (size_t)rate;
    float* const in   = rig_noise(n, 0.8f);
    for (size_t i = n / 3; i < n / 3 + 2000; ++i) {
      in[i] *= 5.0f;
    }
    in[n / 2]           = NAN;
    in[n / 2 + 1]       = INFINITY;
    in[n / 2 + 2]       = -INFINITY;
    float* const fb_sig = constant(0.9f, n);
    float* const mix    = constant(0.4f, n);
    float* const out[2] = {buffer(n), buffer(n)};
    float* const wet[2] = {buffer(n), buffer(n)};
    for (size_t ti = 0; ti < sizeof(times) / sizeof(times[0]); ++ti) {
      float* const time = constant(times[ti], n);
      for (int variant = 0; variant < 4; ++variant) {
        for (int k = 0; k < 2; ++k) {
          Rig r = delay_rig(rate, times[ti], 0.9f, 0.4f, out[k], wet[k]);
          rig_set(&r, "damping", variant & 1 ? 3000.0f : 0.0f);
          r.looped = variant & 2;
          r.in[0]  = in;
          if (k) {
            rig_signal(&r, "time", time);
            rig_signal(&r, "feedback", fb_sig);
            rig_signal(&r, "mix", mix);
          }
          chunk_next = 0;
          rig_run(&r, 0, n);
          rig_free(&r);
        }
        size_t bad = 0;
        for (size_t i = 0; i < n; ++i) {
          bad +=
            !(out[0][i] == out[1][i] || (isnan(out[0][i]) && isnan(out[1][i])));
          bad += wet[0][i] != wet[1][i];
        }
        CHECK_MSG(!bad,
                  "rate %g, time %g ms, variant %d: %zu frames differ",
                  (double)rate,
                  (double)times[ti],
                  variant,
                  bad);
        differ += bad;
        frames += n;
        ++runs;
      }
      free(time);
    }
    free(in);
    free(fb_sig);
    free(mix);
    for (int k = 0; k < 2; ++k) {
      free(out[k]);
      free(wet[k]);
    }
  }
  printf("# delay: feedback and mix constant against the same as signals: "
         "%zu runs, %zu frames, %zu differ\n",
         runs,
         frames,
         differ);
}

/* Chorus */

/* The delay (frames) a 1 kHz tone went through, frame by frame: its phase
   against the tone, from the tone times e^-jwk averaged over a period
   (which also cancels the 2w image), unwrapped.  Up to a constant. */
static void
tone_delay(const float* const y,
           const size_t       n,
           const double       rate,
           double* const      d)
{
  const double w      = 2.0 * PI * 1000.0 / rate;
  const size_t period = (size_t)lround(rate / 1000.0);
  double       re = 0.0, im = 0.0, last = 0.0, turns = 0.0;
  for (size_t k = 0; k < n; ++k) {
    re += (double)y[k] * cos(w * (double)k);
    im -= (double)y[k] * sin(w * (double)k);
    if (k >= period) {
      const size_t j = k - period;
      re -= (double)y[j] * cos(w * (double)j);
      im += (double)y[j] * sin(w * (double)j);
    }
    const double ph = atan2(im, re);
    if (k > 0) {
      turns += ph - last > PI ? -1.0 : ph - last < -PI ? 1.0 : 0.0;
    }
    last = ph;
    d[k] = -(ph + 2.0 * PI * turns) / w;
  }
}

/* Each side's sweep: 2 voices spread hard left and right, wet only, a
   1 kHz tone in.  Each side's delay swings +-depth at the LFO's rate, the
   two in opposite directions. */
static void
test_chorus_depth(void)
{
  static const float depths[] = {1.0f, 3.0f, 8.0f};
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float   rate    = rates[ri];
    const size_t  n       = (size_t)(3.0f * rate);
    const size_t  from    = (size_t)(0.5f * rate); /* the line full */
    const size_t  len     = (size_t)(2.0f * rate); /* 4 LFO cycles */
    float* const  in      = tone(1000.0, (double)rate, n);
    float* const  out     = buffer(n);
    float* const  side[2] = {buffer(n), buffer(n)};
    float* const  dev[2]  = {buffer(len), buffer(len)};
    double* const d       = (double*)calloc(n, sizeof(double));
    CHECK(d);
    for (size_t di = 0; di < 3; ++di) {
      Rig r = rig_new("chorus", rate);
      rig_set(&r, "voices", 2.0f);
      rig_set(&r, "spread", 1.0f);
      rig_set(&r, "mix", 1.0f);
      rig_set(&r, "rate", 2.0f);
      rig_set(&r, "depth", depths[di]);
      r.in[0]  = in;
      r.out[0] = out;
      r.out[1] = side[0];
      r.out[2] = side[1];
      rig_run(&r, 0, n);
      double depth[2], lfo[2];
      for (int s = 0; s < 2; ++s) {
        tone_delay(side[s], n, (double)rate, d);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = from; i < from + len; ++i) {
          lo = fmin(lo, d[i]);
          hi = fmax(hi, d[i]);
        }
        depth[s] = 0.5 * (hi - lo) * 1000.0 / (double)rate;
        for (size_t i = 0; i < len; ++i) {
          dev[s][i] = (float)(d[from + i] - 0.5 * (hi + lo));
        }
        lfo[s] = hp_sig_freq(dev[s], len, (double)rate);
      }
      const double opposite = correlation(dev[0], dev[1], len);
      printf("# chorus depth %g ms at %g Hz: left swings +-%.4f ms at %.4f "
             "Hz, right +-%.4f ms at %.4f Hz, the sweeps correlate %.4f\n",
             (double)depths[di],
             (double)rate,
             depth[0],
             lfo[0],
             depth[1],
             lfo[1],
             opposite);
      for (int s = 0; s < 2; ++s) {
        CHECK_VAL(fabs(depth[s] / (double)depths[di] - 1.0) < 0.01, depth[s]);
        CHECK_VAL(fabs(lfo[s] - 2.0) < 0.01, lfo[s]);
      }
      CHECK_VAL(opposite < -0.999, opposite);
      rig_free(&r);
    }
    free(in);
    free(out);
    for (int s = 0; s < 2; ++s) {
      free(side[s]);
      free(dev[s]);
    }
    free(d);
  }
}

/* The centre delay: with depth 0 an impulse comes out `delay` later (one
   voice: at its level). */
static void
test_chorus_delay(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const double want = 12.5 * (double)rate / 1000.0;
    const size_t n    = (size_t)want + 100;
    float* const in   = impulse(n, 0, 1.0f);
    float* const out  = buffer(n);
    Rig          r    = rig_new("chorus", rate);
    rig_set(&r, "voices", 1.0f);
    rig_set(&r, "depth", 0.0f);
    rig_set(&r, "delay", 12.5f);
    rig_set(&r, "mix", 1.0f);
    r.in[0]  = in;
    r.out[0] = out;
    rig_run(&r, 0, n);
    const double c = centroid(out, 1, n);
    printf("# chorus delay 12.5 ms, depth 0 at %g Hz: the impulse at %.4f "
           "frames (want %.4f), level %.4f\n",
           (double)rate,
           c,
           want,
           mean(out, n) * (double)n);
    CHECK_VAL(fabs(c - want) < 1e-3, c - want);
    CHECK_VAL(fabs(mean(out, n) * (double)n - 1.0) < 1e-5, mean(out, n));
    rig_free(&r);
    free(in);
    free(out);
  }
}

/* Left and right decorrelated with 2 voices or more (noise in), the same
   with 1 voice or no spread; out = (left + right) / 2, and the same with
   the sides unread; mix 0 is the input, exactly. */
static void
test_chorus_stereo(void)
{
  const float  rate  = 48000.0f;
  const size_t n     = 96000;
  const size_t from  = 4800;
  float* const in    = rig_noise(n, 0.5f);
  float* const out   = buffer(n);
  float* const left  = buffer(n);
  float* const right = buffer(n);
  float* const alone = buffer(n);
  for (uint32_t voices = 1; voices <= 8; ++voices) {
    for (int k = 0; k < 3; ++k) { /* wet; the default mix; no spread */
      Rig r = rig_new("chorus", rate);
      rig_set(&r, "voices", (float)voices);
      if (k == 0) {
        rig_set(&r, "mix", 1.0f);
      }
      if (k == 2) {
        rig_set(&r, "spread", 0.0f);
      }
      r.in[0]    = in;
      r.out[0]   = out;
      r.out[1]   = left;
      r.out[2]   = right;
      chunk_next = 0;
      rig_run(&r, 0, n);
      const double corr = correlation(left + from, right + from, n - from);
      const double level =
        db(hp_sig_rms(left + from, n - from) / hp_sig_rms(in, n));
      if (k < 2) {
        printf("# chorus %u voices, mix %s: left/right correlation %.4f, "
               "left %.2f dB against the input\n",
               voices,
               k == 0 ? "1" : "0.5",
               corr,
               level);
      }
      /* White noise: the voices uncorrelated, the power kept (but for the
         interpolator's loss of highs: -0.9 dB on white noise). */
      if (k == 0) {
        CHECK_VAL(fabs(level + 0.9) < 0.25, level);
      }
      if (voices == 1 || k == 2) {
        CHECK(!memcmp(left, right, n * sizeof(float)));
      } else {
        CHECK_VAL(corr < (k == 0 ? 0.5 : 0.9), corr);
      }
      for (size_t i = 0; i < n; ++i) {
        CHECK_VAL(out[i] == 0.5f * (left[i] + right[i]), out[i]);
      }
      rig_free(&r);

      /* Nothing reads the sides: the same out. */
      r = rig_new("chorus", rate);
      rig_set(&r, "voices", (float)voices);
      if (k == 0) {
        rig_set(&r, "mix", 1.0f);
      }
      if (k == 2) {
        rig_set(&r, "spread", 0.0f);
      }
      r.in[0]    = in;
      r.out[0]   = alone;
      chunk_next = 0;
      rig_run(&r, 0, n);
      CHECK(!memcmp(alone, out, n * sizeof(float)));
      rig_free(&r);
    }
  }

  Rig r = rig_new("chorus", rate);
  rig_set(&r, "mix", 0.0f);
  rig_set(&r, "voices", 8.0f);
  rig_set(&r, "depth", 10.0f);
  r.in[0]  = in;
  r.out[0] = out;
  r.out[1] = left;
  r.out[2] = right;
  rig_run(&r, 0, n);
  CHECK(!memcmp(out, in, n * sizeof(float)));
  CHECK(!memcmp(left, in, n * sizeof(float)));
  CHECK(!memcmp(right, in, n * sizeof(float)));
  printf("# chorus mix 0: out, left and right are the input exactly\n");
  rig_free(&r);

  free(in);
  free(out);
  free(left);
  free(right);
  free(alone);
}

/* Extremes: every corner of the parameters, params NaN and Inf as
   signals, a loud input with NaN and Inf in it: finite, bounded by the
   input times sqrt(8) (8 voices in phase, depth 0) times 1.25 (the Hermite
   read's overshoot), finite again once the faults have left the line. */
static void
test_chorus_extremes(void)
{
  const float  rate  = 48000.0f;
  const size_t n     = 24000;
  float* const in    = rig_noise(n, 4.0f);
  float* const out   = buffer(n);
  float* const left  = buffer(n);
  float* const right = buffer(n);
  float* const bad   = constant(NAN, n);
  in[1000]           = NAN;
  in[1001]           = INFINITY;
  in[1002]           = -INFINITY;
  float peak         = 0.0f;
  for (uint32_t corner = 0; corner < 64; ++corner) {
    Rig r = rig_new("chorus", rate);
    for (uint32_t p = 0; p < r.desc->n_params; ++p) {
      const HpParamDesc* const pd = &r.desc->params[p];
      r.param[p].value            = corner >> p & 1u ? pd->max : pd->min;
    }
    r.in[0]  = in;
    r.out[0] = out;
    r.out[1] = left;
    r.out[2] = right;
    rig_run(&r, 0, n);
    for (size_t i = 0; i < n; ++i) {
      const bool fault = i >= 1000 && i <= 1002;
      CHECK_MSG(fault ||
                  (isfinite(out[i]) && isfinite(left[i]) && isfinite(right[i])),
                "corner %u frame %zu",
                corner,
                i);
    }
    peak = fmaxf(peak, hp_sig_peak(left + 1003, n - 1003));
    peak = fmaxf(peak, hp_sig_peak(right + 1003, n - 1003));
    rig_free(&r);
  }
  const float bound = 1.25f * sqrtf(8.0f) * hp_sig_peak(in + 1003, n - 1003);
  printf("# chorus: 64 corners of the parameters finite, peak %.4f for an "
         "input peak %.4f (bound %.4f)\n",
         (double)peak,
         (double)hp_sig_peak(in + 1003, n - 1003),
         (double)bound);
  CHECK_VAL(peak <= bound, peak);

  for (int k = 0; k < 2; ++k) {
    Rig r = rig_new("chorus", rate);
    for (uint32_t p = 0; p < r.desc->n_params; ++p) {
      r.psig[p] = bad;
    }
    r.in[0]  = in + 1003;
    r.out[0] = out;
    r.out[1] = left;
    r.out[2] = right;
    rig_run(&r, 0, n - 1003);
    CHECK(hp_sig_finite(out, n - 1003) && hp_sig_finite(left, n - 1003) &&
          hp_sig_finite(right, n - 1003));
    rig_free(&r);
    for (size_t i = 0; i < n; ++i) {
      bad[i] = INFINITY;
    }
  }
  printf("# chorus: finite with every parameter NaN or Inf\n");
  free(in);
  free(out);
  free(left);
  free(right);
  free(bad);
}

int
main(void)
{
  test_memory_size();
  test_time();
  test_feedback();
  test_damping();
  test_mix();
  test_beats();
  test_moving_time();
  test_looped();
  check_access("delay", 300.0f, 4096);
  test_delay_nonfinite();
  test_delay_bounded();
  test_constant_path();
  test_chorus_depth();
  test_chorus_delay();
  test_chorus_stereo();
  check_access("chorus", 30.0f, 1024); /* 27 ms = 1296 frames at least */
  test_chorus_extremes();
  printf("test_dsp_delay: all checks passed\n");
  return 0;
}
