/*
  The reverb, driven through its descriptor (see rig.h): decay time from
  the Schroeder backward integral of impulse responses, broadband and in
  octave bands, at several decays, sizes and rates; predelay; the stereo
  tail's decorrelation and echo density; dry at mix 0; the memory access
  modes; bad input and extreme settings.  Every figure measured is printed
  on a "# " line.

  Cost: `cost_run` renders FRAMES_COST frames in whole chunks, so
    valgrind --tool=callgrind --toggle-collect=cost_run \
      build/tests/test_dsp_reverb
  counts instructions per frame (Ir / the frames it prints): 230 at the
  defaults, 48 kHz, stereo out, where SuperCollider's FreeVerb2 takes 491
  in scsynth (callgrind inside its per-block function, less a sine into
  Out.ar alone).
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

typedef struct {
  float size, decay, damping, predelay;
} Setting;

/* An impulse response, wet only: left and right, n frames. */
typedef struct {
  float* l;
  float* r;
  size_t n;
} Response;

/* init() again, with the params set since rig_new(): a reverb made with
   them (not changed live to them, which glides the delays there). */
static void
start(Rig* const r)
{
  memset(r->state, 0, r->desc->state_size);
  r->desc->init(r->state, r->param, r->rate);
}

static Response
impulse_response(const float rate, const Setting* const s, const double secs)
{
  Response     ir  = {NULL, NULL, (size_t)(secs * (double)rate)};
  float* const in  = buffer(ir.n);
  float* const out = buffer(ir.n);
  ir.l             = buffer(ir.n);
  ir.r             = buffer(ir.n);
  in[0]            = 1.0f;
  Rig r            = rig_new("reverb", rate);
  rig_set(&r, "size", s->size);
  rig_set(&r, "decay", s->decay);
  rig_set(&r, "damping", s->damping);
  rig_set(&r, "predelay", s->predelay);
  rig_set(&r, "mix", 1.0f);
  start(&r);
  r.in[0]  = in;
  r.out[0] = out;
  r.out[1] = ir.l;
  r.out[2] = ir.r;
  rig_run(&r, 0, ir.n);
  CHECK(hp_sig_finite(ir.l, ir.n) && hp_sig_finite(ir.r, ir.n));
  /* out is the mean of the sides */
  for (size_t i = 0; i < ir.n; i += 997) {
    CHECK_VAL(out[i] == 0.5f * (ir.l[i] + ir.r[i]), out[i]);
  }
  rig_free(&r);
  free(in);
  free(out);
  return ir;
}

static void
response_free(Response* const ir)
{
  free(ir->l);
  free(ir->r);
}

/* RT60 from the Schroeder backward integral of l^2 + r^2: a least-squares
   line through its -5..-35 dB part (T30), extrapolated to 60 dB. */
static double
rt60(const float* const l,
     const float* const r,
     const size_t       n,
     const float        rate)
{
  double* const e = (double*)malloc(n * sizeof(double));
  CHECK(e);
  double sum = 0.0;
  for (size_t i = n; i-- > 0;) {
    sum += (double)l[i] * (double)l[i] + (double)r[i] * (double)r[i];
    e[i] = sum;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0;
  for (size_t i = 0; i < n; ++i) {
    const double db = 10.0 * log10(e[i] / e[0] + 1e-300);
    if (db <= -5.0 && db >= -35.0) {
      const double t = (double)i / (double)rate;
      sx += t;
      sy += db;
      sxx += t * t;
      sxy += t * db;
      ++k;
    }
  }
  free(e);
  CHECK_VAL(k > 10, k);
  const double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  return -60.0 / slope;
}

/* x filtered in place by an octave-wide bandpass around f, twice (RBJ,
   constant 0 dB peak, Q = sqrt 2). */
static void
octave_band(float* const x, const size_t n, const double f, const float rate)
{
  const double w0 = 2.0 * PI * f / (double)rate;
  const double al = sin(w0) / (2.0 * sqrt(2.0));
  const double a0 = 1.0 + al;
  HpBiquad c = {al / a0, 0.0, -al / a0, -2.0 * cos(w0) / a0, (1.0 - al) / a0};
  float* const tmp = buffer(n);
  for (int pass = 0; pass < 2; ++pass) {
    double z[2] = {0.0, 0.0};
    memcpy(tmp, x, n * sizeof(float));
    hp_biquad_run(&c, z, tmp, x, (uint32_t)n);
  }
  free(tmp);
}

static double
band_rt60(const Response* const ir, const double f, const float rate)
{
  float* const l = buffer(ir->n);
  float* const r = buffer(ir->n);
  memcpy(l, ir->l, ir->n * sizeof(float));
  memcpy(r, ir->r, ir->n * sizeof(float));
  octave_band(l, ir->n, f, rate);
  octave_band(r, ir->n, f, rate);
  const double t = rt60(l, r, ir->n, rate);
  free(l);
  free(r);
  return t;
}

/* Long enough for the integral to reach far below -35 dB. */
static double
ir_secs(const float decay)
{
  return 1.4 * (double)decay + 0.4;
}

static void
test_decay(void)
{
  static const float decays[] = {0.5f, 2.0f, 5.0f};
  static const float sizes[]  = {0.0f, 0.5f, 1.0f};
  double             worst    = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t di = 0; di < sizeof(decays) / sizeof(decays[0]); ++di) {
      for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); ++si) {
        const Setting s  = {sizes[si], decays[di], 0.0f, 0.0f};
        Response      ir = impulse_response(rates[ri], &s, ir_secs(s.decay));
        const double  t  = rt60(ir.l, ir.r, ir.n, rates[ri]);
        const double  e  = t / (double)s.decay - 1.0;
        printf("# reverb RT60 @ %g Hz, size %.1f, decay %.1f s, damping 0: "
               "%.3f s (%+.1f%%)\n",
               (double)rates[ri],
               (double)s.size,
               (double)s.decay,
               t,
               100.0 * e);
        CHECK_VAL(fabs(e) < 0.1, t);
        worst = fmax(worst, fabs(e));
        response_free(&ir);
      }
    }
  }
  printf("# reverb RT60, damping 0: worst error %.1f%%\n", 100.0 * worst);

  /* Damped: the lows still decay in `decay` (the 125 Hz octave; a
     first-order lowpass as dark as damping 1 shortens the 250 Hz octave's
     by up to 10%, printed). */
  worst = 0.0;
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t di = 0; di < sizeof(decays) / sizeof(decays[0]); ++di) {
      const Setting s  = {0.5f, decays[di], 1.0f, 0.0f};
      Response      ir = impulse_response(rates[ri], &s, ir_secs(s.decay));
      const double  t  = band_rt60(&ir, 125.0, rates[ri]);
      const double  e  = t / (double)s.decay - 1.0;
      const double  t2 = band_rt60(&ir, 250.0, rates[ri]);
      printf("# reverb RT60 @ %g Hz, decay %.1f s, damping 1: %.3f s "
             "(%+.1f%%) in the 125 Hz octave, %.3f s (%+.1f%%) at 250 Hz\n",
             (double)rates[ri],
             (double)s.decay,
             t,
             100.0 * e,
             t2,
             100.0 * (t2 / (double)s.decay - 1.0));
      CHECK_VAL(fabs(e) < 0.1, t);
      worst = fmax(worst, fabs(e));
      response_free(&ir);
    }
  }
  printf("# reverb RT60 in the 125 Hz octave, damping 1: worst error %.1f%%\n",
         100.0 * worst);
}

static void
test_damping(void)
{
  static const float dampings[] = {0.0f, 0.5f, 1.0f};
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t di = 0; di < sizeof(dampings) / sizeof(dampings[0]); ++di) {
      const Setting s    = {0.5f, 2.0f, dampings[di], 0.0f};
      Response      ir   = impulse_response(rates[ri], &s, ir_secs(s.decay));
      const double  lo   = band_rt60(&ir, 500.0, rates[ri]);
      const double  hi   = band_rt60(&ir, 8000.0, rates[ri]);
      const double  want = 2.0 * pow(10.0, -(double)s.damping); /* at 5 kHz */
      printf("# reverb @ %g Hz, decay 2 s, damping %.1f: RT60 %.3f s at "
             "500 Hz, %.3f s at 8 kHz (ratio %.3f; design at 5 kHz %.3f s)\n",
             (double)rates[ri],
             (double)s.damping,
             lo,
             hi,
             hi / lo,
             want);
      if (s.damping == 0.0f) {
        CHECK_VAL(fabs(lo / 2.0 - 1.0) < 0.1, lo);
        CHECK_VAL(fabs(hi / lo - 1.0) < 0.1, hi / lo);
      } else {
        /* Near the 5 kHz design (the lowpass pole is capped to keep the
           lows' decay, so damping 1 falls a little short of it). */
        CHECK_VAL(hi < 0.6 * lo, hi / lo);
        CHECK_VAL(hi < 1.25 * want && hi > 0.5 * want, hi);
      }
      response_free(&ir);
    }
  }
}

/* Correlation coefficient of a and b. */
static double
correlation(const float* const a, const float* const b, const size_t n)
{
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += (double)a[i] * (double)b[i];
    aa += (double)a[i] * (double)a[i];
    bb += (double)b[i] * (double)b[i];
  }
  return ab / sqrt(aa * bb);
}

/* Abel and Huang's echo density: the fraction of the frames of a window
   beyond its standard deviation, over a Gaussian's (erfc(1/sqrt 2)). */
static double
echo_density(const float* const x, const size_t from, const size_t n)
{
  double ss = 0.0;
  for (size_t i = from; i < from + n; ++i) {
    ss += (double)x[i] * (double)x[i];
  }
  const double sd    = sqrt(ss / (double)n);
  size_t       count = 0;
  for (size_t i = from; i < from + n; ++i) {
    count += fabs((double)x[i]) > sd;
  }
  return (double)count / (double)n / erfc(1.0 / sqrt(2.0));
}

static void
test_tail(void)
{
  const float rate = 48000.0f;
  for (float size = 0.0f; size <= 1.0f; size += 0.5f) {
    const Setting s  = {size, 2.0f, 0.5f, 0.0f};
    Response      ir = impulse_response(rate, &s, 2.0);
    const size_t  ms = (size_t)(rate / 1000.0f);
    const double  c  = correlation(ir.l + 50 * ms, ir.r + 50 * ms, 950 * ms);
    printf("# reverb size %.1f: left/right correlation of the tail "
           "(50..1000 ms) %+.3f\n",
           (double)size,
           c);
    CHECK_VAL(fabs(c) < 0.5, c);
    /* From 100 ms on, Gaussian (1) within a window's scatter. */
    double least = 2.0, sum = 0.0;
    size_t count = 0;
    for (size_t at = 100; at <= 500; at += 20) {
      const double d = echo_density(ir.l, (at - 10) * ms, 20 * ms);
      least          = fmin(least, d);
      sum += d;
      ++count;
    }
    printf("# reverb size %.1f: echo density (20 ms windows, 1 = "
           "Gaussian: 0.317 of the frames beyond 1 sd) at 50 ms %.3f, "
           "100 ms %.3f, 100..500 ms mean %.3f, least %.3f\n",
           (double)size,
           echo_density(ir.l, 40 * ms, 20 * ms),
           echo_density(ir.l, 90 * ms, 20 * ms),
           sum / (double)count,
           least);
    CHECK_VAL(least > 0.8, least);
    CHECK_VAL(fabs(sum / (double)count - 1.0) < 0.1, sum / (double)count);
    response_free(&ir);
  }
}

static void
test_predelay(void)
{
  static const float pres[] = {0.0f, 10.0f, 47.0f, 250.0f};
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    for (size_t pi = 0; pi < sizeof(pres) / sizeof(pres[0]); ++pi) {
      const Setting s  = {0.5f, 1.0f, 0.5f, pres[pi]};
      Response      ir = impulse_response(rates[ri], &s, 0.5);
      const float   peak =
        fmaxf(hp_sig_peak(ir.l, ir.n), hp_sig_peak(ir.r, ir.n));
      size_t first = ir.n;
      for (size_t i = 0; i < ir.n && first == ir.n; ++i) {
        first = fmaxf(fabsf(ir.l[i]), fabsf(ir.r[i])) > 1e-3f * peak ? i : ir.n;
      }
      const double at = 1000.0 * (double)first / (double)rates[ri];
      printf("# reverb @ %g Hz, predelay %g ms: wet from %.3f ms\n",
             (double)rates[ri],
             (double)s.predelay,
             at);
      CHECK_VAL(fabs(at - (double)s.predelay) < 1.0, at);
      response_free(&ir);
    }
  }
}

/* White noise, uniform in -1..1. */
static float*
noise(const size_t n, uint32_t seed)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    b[i] = (float)(int32_t)seed * 0x1p-31f;
  }
  return b;
}

static void
test_dry_and_level(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 96000;
  float* const a    = noise(n, 1u);
  float* const b    = noise(n, 2u);
  float*       o[3] = {buffer(n), buffer(n), buffer(n)};

  /* mix 0: exactly the dry signal, stereo and mono. */
  Rig r = rig_new("reverb", rate);
  rig_set(&r, "mix", 0.0f);
  r.in[0] = a;
  r.in[1] = b;
  for (int k = 0; k < 3; ++k) {
    r.out[k] = o[k];
  }
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(o[1][i] == a[i] && o[2][i] == b[i], o[1][i] - a[i]);
    CHECK_VAL(o[0][i] == 0.5f * (a[i] + b[i]), o[0][i]);
  }
  r.in[1] = NULL;
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(o[0][i] == a[i] && o[1][i] == a[i] && o[2][i] == a[i], o[0][i]);
  }
  rig_free(&r);
  printf("# reverb mix 0: every output exactly the dry input\n");

  /* Level: noise in, wet out at about the same RMS at the defaults. */
  r = rig_new("reverb", rate);
  rig_set(&r, "mix", 1.0f);
  r.in[0]  = a;
  r.out[0] = o[0];
  r.out[1] = o[1];
  r.out[2] = o[2];
  rig_run(&r, 0, n);
  const double in_rms = hp_sig_rms(a + n / 2, n / 2);
  const double wet_l  = hp_sig_rms(o[1] + n / 2, n / 2);
  const double wet_m  = hp_sig_rms(o[0] + n / 2, n / 2);
  printf("# reverb defaults, mix 1, noise in: wet left %+.2f dB, main "
         "%+.2f dB against the input\n",
         20.0 * log10(wet_l / in_rms),
         20.0 * log10(wet_m / in_rms));
  CHECK_VAL(fabs(20.0 * log10(wet_l / in_rms)) < 6.0, wet_l);
  rig_free(&r);

  /* The main output alone (left and right unread) is the same. */
  float* const main_only = buffer(n);
  r                      = rig_new("reverb", rate);
  rig_set(&r, "mix", 1.0f);
  r.in[0]    = a;
  r.out[0]   = main_only;
  chunk_next = 0;
  rig_run(&r, 0, n);
  double diff = 0.0;
  for (size_t i = 0; i < n; ++i) {
    diff = fmax(diff, fabs((double)main_only[i] - (double)o[0][i]));
  }
  CHECK_VAL(diff < 1e-6, diff);
  rig_free(&r);

  /* Cut into other calls, the same to the bit (the modulation follows
     the write head, not the calls). */
  float* const again = buffer(n);
  r                  = rig_new("reverb", rate);
  rig_set(&r, "mix", 1.0f);
  r.in[0]    = a;
  r.out[0]   = again;
  chunk_next = 3;
  rig_run(&r, 0, n);
  CHECK(!memcmp(main_only, again, n * sizeof(float)));
  rig_free(&r);
  free(again);
  printf("# reverb: the same output to the bit whatever the calls' sizes\n");

  /* Width 0: both sides the same. */
  r = rig_new("reverb", rate);
  rig_set(&r, "width", 0.0f);
  r.in[0]  = a;
  r.out[0] = o[0];
  r.out[1] = o[1];
  r.out[2] = o[2];
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(fabsf(o[1][i] - o[2][i]) < 1e-6f, o[1][i] - o[2][i]);
  }
  rig_free(&r);

  free(main_only);
  free(a);
  free(b);
  for (int k = 0; k < 3; ++k) {
    free(o[k]);
  }
}

/* Memory access modes: a rig run on for `n` frames from a copy of another's
   state and memory, with `access`. */
static void
test_memory(void)
{
  const float  rate = 48000.0f;
  const size_t warm = 48000;
  const size_t n    = 48000;
  float* const a    = noise(warm + n, 3u);
  float*       own[3];
  float*       other[3];
  for (int k = 0; k < 3; ++k) {
    own[k]   = buffer(warm + n);
    other[k] = buffer(warm + n);
  }
  Rig r   = rig_new("reverb", rate);
  r.in[0] = a;
  for (int k = 0; k < 3; ++k) {
    r.out[k] = own[k];
  }
  rig_run(&r, 0, warm);

  for (int mode = HP_MEM_READ; mode <= HP_MEM_NONE; ++mode) {
    Rig c = rig_new("reverb", rate);
    memcpy(c.state, r.state, r.desc->state_size);
    c.mem_size = r.mem_size;
    c.mem      = (float*)malloc(r.mem_size * sizeof(float));
    CHECK(c.mem);
    memcpy(c.mem, r.mem, r.mem_size * sizeof(float));
    c.mem_access = (HpMemAccess)mode;
    c.in[0]      = a;
    for (int k = 0; k < 3; ++k) {
      c.out[k] = other[k];
    }
    chunk_next = 0;
    rig_run(&c, warm, n);
    CHECK_MSG(!memcmp(c.mem, r.mem, r.mem_size * sizeof(float)),
              "reverb wrote memory with access %d",
              mode);
    if (mode == HP_MEM_NONE) {
      for (size_t i = warm; i < warm + n; ++i) {
        CHECK_VAL(other[1][i] == a[i] * (1.0f - 0.3f) &&
                    other[2][i] == a[i] * (1.0f - 0.3f),
                  other[1][i]);
      }
      printf("# reverb memory none: memory untouched, the dry path alone\n");
    } else {
      /* The owner, from the same point. */
      Rig o = rig_new("reverb", rate);
      memcpy(o.state, r.state, r.desc->state_size);
      o.mem_size = r.mem_size;
      o.mem      = (float*)malloc(r.mem_size * sizeof(float));
      CHECK(o.mem);
      memcpy(o.mem, r.mem, r.mem_size * sizeof(float));
      o.in[0] = a;
      for (int k = 0; k < 3; ++k) {
        o.out[k] = own[k];
      }
      chunk_next = 0;
      rig_run(&o, warm, n);
      size_t same = 0;
      while (same < n && own[1][warm + same] == other[1][warm + same] &&
             own[2][warm + same] == other[2][warm + same]) {
        ++same;
      }
      printf("# reverb memory read: memory untouched, output the owner's for "
             "the first %.3f ms\n",
             1000.0 * (double)same / (double)rate);
      CHECK_VAL(same >= (size_t)(0.003 * (double)rate), same);
      CHECK(hp_sig_finite(other[0] + warm, n));
      rig_free(&o);
    }
    rig_free(&c);
  }
  rig_free(&r);

  /* Too little memory, or none (which the rig cannot give: straight
     through the descriptor): the dry path. */
  Rig c      = rig_new("reverb", rate);
  c.mem_size = 1000u;
  c.mem      = buffer(c.mem_size);
  c.in[0]    = a;
  c.out[0]   = other[0];
  c.out[1]   = other[1];
  rig_run(&c, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(other[1][i] == a[i] * (1.0f - 0.3f), other[1][i]);
  }
  const float*   in[2]     = {a, NULL};
  float*         out[3]    = {other[0], other[1], NULL};
  uint32_t       out_const = 0;
  const HpTime   time      = {.bpm = 120.0f, .beats_per_bar = 4.0f};
  const HpNodeIO io        = {.state     = c.state,
                              .in        = in,
                              .out       = out,
                              .param     = c.param,
                              .rate      = rate,
                              .inv_rate  = 1.0f / rate,
                              .out_const = &out_const,
                              .time      = &time};
  for (size_t i = 0; i < n; i += HP_CHUNK) {
    in[0]  = a + i;
    out[0] = other[0] + i;
    out[1] = other[1] + i;
    c.desc->process(&io, (uint32_t)(n - i < HP_CHUNK ? n - i : HP_CHUNK));
  }
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(other[1][i] == a[i] * (1.0f - 0.3f), other[1][i]);
  }
  rig_free(&c);
  printf("# reverb without memory (or too little): the dry path alone\n");

  free(a);
  for (int k = 0; k < 3; ++k) {
    free(own[k]);
    free(other[k]);
  }
}

static void
test_bad_input(void)
{
  const float        rate  = 48000.0f;
  const size_t       n     = 5 * 48000;
  float* const       a     = noise(n, 4u);
  float*             o[3]  = {buffer(n), buffer(n), buffer(n)};
  static const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f};
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); ++k) {
    float* const in = buffer(n);
    memcpy(in, a, n * sizeof(float));
    for (size_t i = 24000; i < 24100; ++i) {
      in[i] = bad[k];
    }
    Rig r = rig_new("reverb", rate);
    rig_set(&r, "decay", 30.0f);
    r.in[0] = in;
    for (int c = 0; c < 3; ++c) {
      r.out[c] = o[c];
    }
    rig_run(&r, 0, n);
    for (int c = 0; c < 3; ++c) {
      CHECK_MSG(
        hp_sig_finite(o[c] + 24100, n - 24100), "after %g", (double)bad[k]);
    }
    const float peak = hp_sig_peak(o[1] + 24100, n - 24100);
    printf("# reverb after 100 frames of %g (decay 30 s): finite at once, "
           "peak %.3f\n",
           (double)bad[k],
           (double)peak);
    CHECK_VAL(peak < 10.0f, peak);
    rig_free(&r);
    free(in);
  }

  /* Extreme settings, constant and as wild signals. */
  static const Setting extremes[] = {{0.0f, 0.1f, 0.0f, 0.0f},
                                     {1.0f, 30.0f, 0.0f, 250.0f},
                                     {0.0f, 30.0f, 1.0f, 0.0f},
                                     {1.0f, 0.1f, 1.0f, 250.0f}};
  for (size_t k = 0; k < sizeof(extremes) / sizeof(extremes[0]); ++k) {
    for (size_t ri = 0; ri < n_rates(); ++ri) {
      Rig r = rig_new("reverb", rates[ri]);
      rig_set(&r, "size", extremes[k].size);
      rig_set(&r, "decay", extremes[k].decay);
      rig_set(&r, "damping", extremes[k].damping);
      rig_set(&r, "predelay", extremes[k].predelay);
      rig_set(&r, "mix", 1.0f);
      start(&r);
      r.in[0] = a;
      for (int c = 0; c < 3; ++c) {
        r.out[c] = o[c];
      }
      rig_run(&r, 0, n);
      const float peak = hp_sig_peak(o[0], n);
      CHECK(hp_sig_finite(o[1], n) && hp_sig_finite(o[2], n));
      CHECK_VAL(peak < 100.0f, peak);
      rig_free(&r);
    }
  }
  float* const wild = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    wild[i] = (float)(1e4 * sin(2.0 * PI * 3.0 * (double)i / 48000.0));
  }
  Rig r = rig_new("reverb", rate);
  for (uint32_t p = 0; p < r.desc->n_params; ++p) {
    r.psig[p] = wild;
  }
  r.in[0] = a;
  for (int c = 0; c < 3; ++c) {
    r.out[c] = o[c];
  }
  rig_run(&r, 0, n);
  for (int c = 0; c < 3; ++c) {
    CHECK(hp_sig_finite(o[c], n));
  }
  printf("# reverb extreme settings (size, decay, damping, predelay at their "
         "ends; every param a +-1e4 signal): finite\n");
  rig_free(&r);

  free(wild);
  free(a);
  for (int c = 0; c < 3; ++c) {
    free(o[c]);
  }
}

/* A live size change: the delays glide, no click. */
static void
test_size_change(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 4 * 48000;
  float* const in   = tone(440.0, (double)rate, n);
  float* const out  = buffer(n);
  float* const sz   = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    sz[i] = i < n / 2 ? 0.2f : 0.9f;
  }
  Rig r = rig_new("reverb", rate);
  rig_set(&r, "mix", 1.0f);
  rig_signal(&r, "size", sz);
  r.in[0]  = in;
  r.out[0] = out;
  rig_run(&r, 0, n);
  const float before = hp_sig_max_step(out + n / 4, n / 4);
  const float after  = hp_sig_max_step(out + n / 2, n / 4);
  printf("# reverb size 0.2 -> 0.9 live, 440 Hz in: largest step %.4f "
         "(steady %.4f)\n",
         (double)after,
         (double)before);
  CHECK(hp_sig_finite(out, n));
  CHECK_VAL(after < 2.0f * before, after);
  rig_free(&r);
  free(in);
  free(out);
  free(sz);
}

#define RATE_COST 48000.0f
#define FRAMES_COST (10u * 48000u)

/* What callgrind counts (see the header): defaults, noise, whole chunks. */
static void __attribute__((noinline)) cost_run(const HpModuleDesc* const desc,
                                               HpNodeIO* const           io,
                                               const float* const        a)
{
  const float** in = io->in;
  for (uint32_t done = 0; done + HP_CHUNK <= FRAMES_COST; done += HP_CHUNK) {
    in[0] = a + done;
    desc->process(io, HP_CHUNK);
  }
}

static void
test_cost(void)
{
  const HpModuleDesc* const desc = hp_module_find("reverb");
  float* const              a    = noise(FRAMES_COST, 5u);
  float*                    out[3];
  const float*              in[2] = {a, NULL};
  HpParamIn                 param[HP_MAX_PARAMS];
  uint32_t                  out_const = 0;
  HpTime                    time      = {.bpm = 120.0f, .beats_per_bar = 4.0f};
  for (int k = 0; k < 3; ++k) {
    out[k] = buffer(HP_CHUNK);
  }
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    param[p].signal = NULL;
    param[p].value  = desc->params[p].def;
  }
  void* const state = calloc(1, desc->state_size);
  CHECK(state);
  desc->init(state, param, RATE_COST);
  HpNodeIO io = {.state     = state,
                 .in        = in,
                 .out       = out,
                 .param     = param,
                 .rate      = RATE_COST,
                 .inv_rate  = 1.0f / RATE_COST,
                 .out_const = &out_const,
                 .time      = &time};
  io.mem_size = desc->memory(param, RATE_COST);
  io.mem      = (float*)calloc(io.mem_size, sizeof(float));
  CHECK(io.mem);
  cost_run(desc, &io, a);
  printf("# reverb cost run: %u frames at %g Hz in calls of %u, memory %zu "
         "floats\n",
         FRAMES_COST,
         (double)RATE_COST,
         HP_CHUNK,
         io.mem_size);
  CHECK(hp_sig_finite(out[0], HP_CHUNK));
  free(io.mem);
  free(state);
  free(a);
  for (int k = 0; k < 3; ++k) {
    free(out[k]);
  }
}

int
main(void)
{
  test_dry_and_level();
  test_predelay();
  test_tail();
  test_decay();
  test_damping();
  test_memory();
  test_bad_input();
  test_size_change();
  test_cost();
  printf("test_dsp_reverb: all checks passed\n");
  return 0;
}
