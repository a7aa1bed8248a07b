/*
  The DSP modules, driven directly through their descriptors: state
  allocated and zeroed, init(), hand-built HpNodeIO, process() in chunks of
  varying size (1..HP_CHUNK, so chunk boundaries land everywhere).  Every
  figure measured is printed on a "# " line.
*/

#include "check.h"
#include "dsp.h"
#include "module.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* A check that prints what was measured when it fails. */
#define CHECK_VAL(cond, value) \
  CHECK_MSG(cond, "measured %.9g", (double)(value))

static const float rates[] = {44100.0f, 48000.0f, 96000.0f};

/* Rig: one module with whole-render buffers, processed chunk by chunk. */

typedef struct {
  const HpModuleDesc* desc;
  void*               state;
  float               rate;
  HpParamIn           param[HP_MAX_PARAMS]; /* values, when psig is NULL */
  const float*        psig[HP_MAX_PARAMS];  /* whole-render param signals */
  const float*        in[HP_MAX_PORTS];     /* whole-render inputs */
  float*              out[HP_MAX_PORTS];    /* whole-render outputs */
} Rig;

/* Chunk sizes cycle through these: full chunks, single frames, odd sizes. */
static const uint32_t chunk_pattern[] = {256, 256, 1,   77, 256,
                                         3,   128, 255, 17, 256};
#define N_PATTERN (sizeof(chunk_pattern) / sizeof(chunk_pattern[0]))
static size_t chunk_next;

static float*
buffer(const size_t n)
{
  float* const b = (float*)calloc(n ? n : 1, sizeof(float));
  CHECK(b);
  return b;
}

static Rig
rig_new(const char* const type, const float rate)
{
  Rig r;
  memset(&r, 0, sizeof(r));
  r.desc = hp_module_find(type);
  CHECK_MSG(r.desc, "module type %s", type);
  r.rate  = rate;
  r.state = calloc(1, r.desc->state_size ? r.desc->state_size : 1);
  CHECK(r.state);
  for (uint32_t p = 0; p < r.desc->n_params; ++p) {
    r.param[p].value = r.desc->params[p].def;
  }
  if (r.desc->init) {
    r.desc->init(r.state, r.param, rate);
  }
  return r;
}

static void
rig_free(Rig* const r)
{
  free(r->state);
  r->state = NULL;
}

static int
param_index(const Rig* const r, const char* const name)
{
  const int p = hp_module_find_param(r->desc, name);
  CHECK_MSG(p >= 0, "%s has no param %s", r->desc->type, name);
  return p;
}

static void
rig_set(Rig* const r, const char* const name, const float value)
{
  r->param[param_index(r, name)].value = value;
}

static void
rig_signal(Rig* const r, const char* const name, const float* const sig)
{
  r->psig[param_index(r, name)] = sig;
}

/* Process frames [from, from + n) of the whole-render buffers. */
static void
rig_run(Rig* const r, const size_t from, const size_t n)
{
  const float* in[HP_MAX_PORTS];
  float*       out[HP_MAX_PORTS];
  HpParamIn    param[HP_MAX_PARAMS];
  HpNodeIO     io = {r->state, in, out, param, r->rate, 1.0f / r->rate};

  for (size_t pos = from; pos < from + n;) {
    uint32_t m = chunk_pattern[chunk_next++ % N_PATTERN];
    if (m > from + n - pos) {
      m = (uint32_t)(from + n - pos);
    }
    for (uint32_t i = 0; i < r->desc->n_inputs; ++i) {
      in[i] = r->in[i] ? r->in[i] + pos : NULL;
    }
    for (uint32_t o = 0; o < r->desc->n_outputs; ++o) {
      out[o] = r->out[o] ? r->out[o] + pos : NULL;
    }
    for (uint32_t p = 0; p < r->desc->n_params; ++p) {
      param[p].signal = r->psig[p] ? r->psig[p] + pos : NULL;
      param[p].value  = r->param[p].value;
    }
    r->desc->process(&io, m);
    pos += m;
  }
}

/* A sine of amplitude 1 at `freq`, computed in double. */
static float*
tone(const double freq, const double rate, const size_t n)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = (float)sin(2.0 * PI * freq * (double)i / rate);
  }
  return b;
}

static float*
constant(const float v, const size_t n)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = v;
  }
  return b;
}

static double
mean(const float* const x, const size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) {
    s += (double)x[i];
  }
  return n ? s / (double)n : 0.0;
}

static float
min_of(const float* const x, const size_t n)
{
  float m = INFINITY;
  for (size_t i = 0; i < n; ++i) {
    m = x[i] < m ? x[i] : m;
  }
  return m;
}

static float
max_of(const float* const x, const size_t n)
{
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    m = x[i] > m ? x[i] : m;
  }
  return m;
}

/* Descriptors */

static void
check_name(const char* const s, const char* const what, const char* const type)
{
  CHECK_MSG(s && s[0], "%s: %s without a name", type, what);
}

static void
check_doc(const char* const s, const char* const what, const char* const type)
{
  CHECK_MSG(s && strlen(s) > 3, "%s: %s without a doc", type, what);
}

static bool
is_integral(const float x)
{
  return x == floorf(x);
}

static void
test_descriptors(void)
{
  /* The registry holds the list's types, in its order, each named as its
     line (so src/mod_<name>.c defines the type "<name>"). */
  static const char* const expected[] = {
#define HP_MODULE(name) #name,
#include "modules.def"
#undef HP_MODULE
  };
  size_t n_types = 0;
  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    ++n_types;
  }
  CHECK_VAL(n_types == sizeof(expected) / sizeof(expected[0]), n_types);
  for (size_t i = 0; i < n_types; ++i) {
    CHECK_MSG(!strcmp(hp_module_types[i]->type, expected[i]),
              "modules.def names %s, hp_mod_%s's type is %s", expected[i],
              expected[i], hp_module_types[i]->type);
    CHECK(hp_module_find(expected[i]) == hp_module_types[i]);
  }

  /* The seed's names. */
  CHECK(hp_module_find("simple_sine") == hp_module_find("sine"));
  CHECK(hp_module_find("biquad_filter") == hp_module_find("biquad"));
  CHECK(hp_module_find("Sine") == NULL); /* exact, case-sensitive */
  CHECK(hp_module_find("") == NULL);
  CHECK(hp_module_find(NULL) == NULL);
  CHECK(hp_module_find_param(hp_module_find("sine"), "frequency") == 0);
  CHECK(hp_module_find_param(hp_module_find("biquad"), "resonance") ==
        hp_module_find_param(hp_module_find("biquad"), "q"));
  CHECK(hp_module_find_param(hp_module_find("biquad"), "Q") ==
        hp_module_find_param(hp_module_find("biquad"), "q"));
  CHECK(hp_module_find_param(hp_module_find("sine"), "nope") == -1);

  size_t n_params = 0, n_ports = 0;
  for (const HpModuleDesc* const* dp = hp_module_types; *dp; ++dp) {
    const HpModuleDesc* const d = *dp;
    check_name(d->type, "type", "?");
    check_doc(d->doc, "module", d->type);
    CHECK_MSG(d->process, "%s: no process", d->type);
    CHECK(hp_module_find(d->type) == d);
    for (const char* const* a = d->aliases; a && *a; ++a) {
      CHECK_MSG(hp_module_find(*a) == d, "%s: alias %s", d->type, *a);
    }
    CHECK_MSG(d->n_outputs >= 1 && d->n_outputs <= HP_MAX_PORTS, "%s", d->type);
    CHECK_MSG(d->n_inputs <= HP_MAX_PORTS, "%s", d->type);
    CHECK_MSG(d->n_params <= HP_MAX_PARAMS, "%s", d->type);
    CHECK_MSG(!d->n_inputs || d->inputs, "%s", d->type);
    CHECK_MSG(!d->n_params || d->params, "%s", d->type);

    for (int dir = 0; dir < 2; ++dir) {
      const HpPortDesc* const ports = dir ? d->outputs : d->inputs;
      const uint32_t          n     = dir ? d->n_outputs : d->n_inputs;
      for (uint32_t i = 0; i < n; ++i) {
        check_name(ports[i].name, "port", d->type);
        check_doc(ports[i].doc, ports[i].name, d->type);
        CHECK(ports[i].kind == HP_PORT_AUDIO || ports[i].kind == HP_PORT_CV);
        const int found = dir ? hp_module_find_output(d, ports[i].name)
                              : hp_module_find_input(d, ports[i].name);
        CHECK_MSG(found == (int)i, "%s: port %s is not unique", d->type,
                  ports[i].name);
        ++n_ports;
      }
    }

    for (uint32_t i = 0; i < d->n_params; ++i) {
      const HpParamDesc* const p = &d->params[i];
      check_name(p->name, "param", d->type);
      check_doc(p->doc, p->name, d->type);
      CHECK_MSG(p->unit, "%s:%s has no unit (use \"\")", d->type, p->name);
      CHECK_MSG(isfinite(p->min) && isfinite(p->max) && p->min < p->max,
                "%s:%s range", d->type, p->name);
      CHECK_MSG(p->def >= p->min && p->def <= p->max, "%s:%s default %g",
                d->type, p->name, (double)p->def);
      CHECK_MSG(!p->log_scale || p->min > 0.0f, "%s:%s log scale from %g",
                d->type, p->name, (double)p->min);
      /* Names and aliases resolve to this param, so none shadows another. */
      CHECK_MSG(hp_module_find_param(d, p->name) == (int)i, "%s:%s not unique",
                d->type, p->name);
      for (const char* const* a = p->aliases; a && *a; ++a) {
        CHECK_MSG(hp_module_find_param(d, *a) == (int)i, "%s:%s alias %s",
                  d->type, p->name, *a);
        for (uint32_t j = 0; j < d->n_params; ++j) {
          CHECK_MSG(strcmp(*a, d->params[j].name), "%s: alias %s is a name",
                    d->type, *a);
        }
      }
      if (p->kind == HP_PARAM_ENUM) {
        CHECK_MSG(p->choices, "%s:%s enum without choices", d->type, p->name);
        int n_choices = 0;
        while (p->choices[n_choices]) {
          CHECK(hp_param_find_choice(p, p->choices[n_choices]) == n_choices);
          ++n_choices;
        }
        CHECK_MSG(p->min == 0.0f && p->max == (float)(n_choices - 1),
                  "%s:%s max %g with %d choices", d->type, p->name,
                  (double)p->max, n_choices);
        CHECK(is_integral(p->def));
        CHECK(hp_param_find_choice(p, "nope") == -1);
      } else {
        CHECK_MSG(!p->choices, "%s:%s choices on a non-enum", d->type, p->name);
      }
      if (p->kind == HP_PARAM_INTEGER) {
        CHECK(is_integral(p->min) && is_integral(p->max) && is_integral(p->def));
      }
      if (p->kind == HP_PARAM_GATE) {
        CHECK(p->min == 0.0f && p->max == 1.0f);
      }
      /* A param named like an input is reachable both ways ("env1:gate");
         say so, the graph decides which wins. */
      if (hp_module_find_input(d, p->name) >= 0) {
        printf("# %s: \"%s\" names both an input and a parameter\n", d->type,
               p->name);
      }
      ++n_params;
    }
  }
  printf("# descriptors: %zu types, %zu params, %zu ports checked\n", n_types,
         n_params, n_ports);
}

/* Sine */

static void
test_sine_poly(void)
{
  double max_err = 0.0;
  double at      = 0.0;
  const int steps = 1 << 20;
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
         max_err, at, max_err_ph, 20.0 * log10(max_err_ph));
  CHECK_VAL(max_err < 1e-5, max_err);
  CHECK_VAL(max_err_ph < 1e-5, max_err_ph);
}

static void
test_sine_pitch(void)
{
  static const float freqs[] = {55.0f, 440.0f, 1000.0f, 5000.0f};
  double worst = 0.0;
  for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ++ri) {
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
             (double)freqs[fi], (double)rate, f, err,
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
  printf("# sine with freq and gain as signals: %.4f Hz, peak %.5f\n", f,
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
naive_wave(const Naive shape, const double freq, const double rate,
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
alias_db(const float* const x, const size_t n, const double rate,
         const double f0, const double below)
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
           oscs[o].type, f440, lvl440, oscs[o].fund_db, dc,
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
    float* const naive     = naive_wave(oscs[o].naive, f0, rate, n);
    const double bl        = alias_db(out, n, rate, f0, rate);
    const double bl_low    = alias_db(out, n, rate, f0, 10000.0);
    const double nv        = alias_db(naive, n, rate, f0, rate);
    const double nv_low    = alias_db(naive, n, rate, f0, 10000.0);
    const double lvl       = hp_sig_goertzel_db(out, n, rate, f0);
    printf("# %s 3520 Hz @ 48000: aliasing %.1f dB (naive %.1f dB, %.1f dB "
           "better); below 10 kHz %.1f dB (naive %.1f); fundamental %.3f dB\n",
           oscs[o].type, bl, nv, nv - bl, bl_low, nv_low, lvl);
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
  float* const freq  = constant(1000.0f, n);
  float* const pw    = constant(0.3f, n);
  float* const fixed = buffer(n);
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
           types[t], f, (double)max_diff);
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
         worst, at, 1200.0 * log2(1.0 + worst));
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
        CHECK_MSG(fabs(f[k] - want) < tol, "%s detune %g path %d: %.4f Hz",
                  types[t], (double)cents[c], k, f[k]);
      }
      printf("# %s 440 Hz detuned %+g cents: %.4f Hz (want %.4f; freq as a "
             "signal %.4f, detune as a signal %.4f, both %.4f)\n",
             types[t], (double)cents[c], f[0], want, f[1], f[2], f[3]);
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
           types[t], lo, hi, clo, chi);
    CHECK_VAL(fabs(lo - 440.0) < tol, lo);
    CHECK_VAL(fabs(hi - 880.0) < tol, hi);
    CHECK_VAL(fabs(clo - 110.0) < tol, clo);
    CHECK_VAL(fabs(chi - 1760.0) < tol, chi);
  }
  free(out);
  free(freq);
  free(det);
}

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
         by_input ? "gate input" : "gate param", (double)rate, a_len / fpm,
         a_err / fpm, d_len / fpm, d_err / fpm, r_len / fpm, r_err / fpm);
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
  const float steepest = (float)(1.0 / (s->attack * fpm) +
                                 (1.0 - s->sustain) / (s->decay * fpm) +
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
  for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ++ri) {
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
         (double)at_retrigger, (double)env[15000],
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
    sus[i] = i < 20000 ? 0.7f : 0.3f + 0.4f * expf(-(float)(i - 20000) / 240.0f);
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
biquad_gain_db(const char* const mode, const float cutoff, const float q,
               const float freq, const float rate, const bool as_signal)
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
    const double u = (double)(rng % 1000000u) / 1000000.0;
    const double v = (double)((rng >> 20u) % 1000000u) / 1000000.0;
    const double w0    = 2.0 * PI * 10.0 * pow(2200.0, u) / 48000.0;
    const double q     = 0.1 * pow(200.0, v);
    const double cw    = cos(w0);
    const double alpha = sin(w0) / (2.0 * q);
    const double a0    = 1.0 + alpha;
    HpBiquad     c;
    switch (trial % 4) {
    case 0: c.b0 = c.b2 = (1.0 - cw) * 0.5 / a0; c.b1 = (1.0 - cw) / a0; break;
    case 1: c.b0 = c.b2 = (1.0 + cw) * 0.5 / a0; c.b1 = -(1.0 + cw) / a0; break;
    case 2: c.b0 = alpha / a0; c.b1 = 0.0; c.b2 = -alpha / a0; break;
    default: c.b0 = c.b2 = 1.0 / a0; c.b1 = -2.0 * cw / a0; break;
    }
    c.a1 = -2.0 * cw / a0;
    c.a2 = (1.0 - alpha) / a0;

    float  in[HP_CHUNK], out[HP_CHUNK];
    double z[2] = {0.0, 0.0}, z1 = 0.0, z2 = 0.0;
    for (int call = 0; call < 6; ++call) {
      const uint32_t n = 1u + (uint32_t)((rng >> (8u * (unsigned)call)) % HP_CHUNK);
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
         "earlier frame\n", worst);
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
    const double lp_sig = biquad_gain_db("lowpass", fc, 0.7071f, fc, rate, true);
    const double lp_oct =
      biquad_gain_db("lowpass", fc, 0.7071f, 2.0f * fc, rate, false);
    printf("# biquad @ 48000, cutoff %g Hz: lowpass %.3f dB, highpass %.3f dB "
           "(cutoff as a signal: %.3f dB); lowpass an octave up %.2f dB\n",
           (double)fc, lp, hp, lp_sig, lp_oct);
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
           (double)fc, bp1, bp5, notch);
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
    printf("# biquad lowpass 10 Hz @ 96000: DC gain %.6f\n", (double)out[n - 1]);
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
    in[136]        = 1.0f;
    const double w = 2.0 * PI * 5000.0 / 48000.0;
    const double a = sin(w) / (2.0 * 0.707);
    const double b0 = (1.0 - cos(w)) / 2.0 / (1.0 + a);
    Rig r           = rig_new("biquad", 48000.0f);
    rig_signal(&r, "cutoff", fc);
    r.in[0]    = in;
    r.out[0]   = out;
    chunk_next = 0; /* one call of 256 frames */
    rig_run(&r, 0, n);
    printf("# biquad cutoff signal 200 -> 5000 Hz at frame 128: impulse "
           "response at 136 %.6f (5 kHz b0 %.6f)\n",
           (double)out[136], b0);
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
      fc[i] = 1000.0f + 30000.0f * (float)sin(2.0 * PI * 5.0 * (double)i / 48000.0);
      q[i]  = 10.0f + 15.0f * (float)sin(2.0 * PI * 0.7 * (double)i / 48000.0);
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

/* MIDI */

static void
send(const Rig* const r, const uint8_t a, const uint8_t b, const uint8_t c)
{
  const uint8_t msg[3] = {a, b, c};
  r->desc->midi(r->state, msg, 3);
}

static double
cents(const double f, const double want)
{
  return 1200.0 * log2(f / want);
}

static void
test_midi(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 256;
  float* const freq = buffer(n);
  float* const gate = buffer(n);
  float* const vel  = buffer(n);
  Rig          r    = rig_new("midi", rate);
  CHECK(r.desc->midi);
  r.out[0] = freq;
  r.out[1] = gate;
  r.out[2] = vel;

  rig_run(&r, 0, n);
  CHECK_VAL(freq[0] == 440.0f, freq[0]);
  CHECK_VAL(gate[0] == 0.0f && vel[0] == 0.0f, gate[0]);

  send(&r, 0x90, 69, 100);
  rig_run(&r, 0, n);
  printf("# midi note 69: %.4f Hz, gate %g, velocity %.4f\n", (double)freq[0],
         (double)gate[0], (double)vel[0]);
  CHECK_VAL(fabsf(freq[0] - 440.0f) < 1e-3f, freq[0]);
  CHECK_VAL(gate[0] == 1.0f && gate[n - 1] == 1.0f, gate[0]);
  CHECK_VAL(fabsf(vel[0] - 100.0f / 127.0f) < 1e-6f, vel[0]);

  send(&r, 0x90, 60, 64);
  rig_run(&r, 0, n);
  printf("# midi note 60: %.4f Hz (%.4f cents off 261.6256)\n",
         (double)freq[n - 1], cents((double)freq[n - 1], 261.6255653));
  CHECK_VAL(fabs((double)freq[n - 1] - 261.6255653) < 0.01, freq[n - 1]);
  CHECK_VAL(fabsf(vel[0] - 64.0f / 127.0f) < 1e-6f, vel[0]);

  /* Legato: releasing 60 returns to the held 69 with the gate still on. */
  send(&r, 0x80, 60, 0);
  rig_run(&r, 0, n);
  CHECK_VAL(fabsf(freq[0] - 440.0f) < 1e-3f, freq[0]);
  CHECK_VAL(min_of(gate, n) == 1.0f, min_of(gate, n));
  CHECK_VAL(fabsf(vel[0] - 100.0f / 127.0f) < 1e-6f, vel[0]);

  /* Pitch bend, full up and down with a range of 2 semitones. */
  send(&r, 0xE0, 0x7F, 0x7F);
  rig_run(&r, 0, n);
  const double up = cents((double)freq[0], 440.0 * pow(2.0, 2.0 / 12.0));
  send(&r, 0xE0, 0x00, 0x00);
  rig_run(&r, 0, n);
  const double down = cents((double)freq[0], 440.0 * pow(2.0, -2.0 / 12.0));
  rig_set(&r, "bend", 12.0f);
  rig_run(&r, 0, n);
  const double octave = cents((double)freq[0], 220.0);
  send(&r, 0xE0, 0x00, 0x40);
  rig_set(&r, "bend", 2.0f);
  rig_run(&r, 0, n);
  printf("# midi bend +8191: %.4f cents off +200, -8192: %.4f cents off -200, "
         "range 12: %.4f cents off -1200\n",
         up, down, octave);
  CHECK_VAL(fabs(up) < 0.1, up);
  CHECK_VAL(fabs(down) < 0.1, down);
  CHECK_VAL(fabs(octave) < 0.1, octave);
  CHECK_VAL(fabsf(freq[0] - 440.0f) < 1e-3f, freq[0]);

  /* Note off (velocity-0 note on counts): gate 0, the pitch stays. */
  send(&r, 0x90, 69, 0);
  rig_run(&r, 0, n);
  CHECK_VAL(max_of(gate, n) == 0.0f, max_of(gate, n));
  CHECK_VAL(fabsf(freq[0] - 440.0f) < 1e-3f, freq[0]);

  /* A stack deeper than 16: the oldest are forgotten, the rest unwind. */
  for (uint8_t k = 0; k < 20; ++k) {
    send(&r, 0x90, (uint8_t)(40 + k), 100);
  }
  for (uint8_t k = 19; k > 4; --k) {
    send(&r, 0x80, (uint8_t)(40 + k), 0);
  }
  rig_run(&r, 0, n);
  CHECK_VAL(fabsf(freq[0] - 440.0f * powf(2.0f, (44.0f - 69.0f) / 12.0f)) < 1e-3f,
            freq[0]);
  CHECK_VAL(gate[0] == 1.0f, gate[0]);
  send(&r, 0x80, 44, 0);
  rig_run(&r, 0, n);
  CHECK_VAL(gate[0] == 0.0f, gate[0]);

  /* All notes off. */
  send(&r, 0x90, 72, 100);
  send(&r, 0x90, 76, 100);
  send(&r, 0xB0, 123, 0);
  rig_run(&r, 0, n);
  CHECK_VAL(gate[0] == 0.0f, gate[0]);

  /* Channel filter. */
  rig_set(&r, "channel", 2.0f);
  rig_run(&r, 0, n);
  send(&r, 0x90, 81, 100); /* channel 1: ignored */
  rig_run(&r, 0, n);
  CHECK_VAL(gate[0] == 0.0f, gate[0]);
  send(&r, 0x91, 81, 100); /* channel 2 */
  rig_run(&r, 0, n);
  CHECK_VAL(gate[0] == 1.0f && fabsf(freq[0] - 880.0f) < 1e-2f, freq[0]);
  rig_free(&r);

  /* Glide: 100 ms from A4 to A5, linear in pitch. */
  const size_t g     = 9600;
  float* const gfreq = buffer(g);
  r                  = rig_new("midi", rate);
  rig_set(&r, "glide", 100.0f);
  r.out[0] = gfreq;
  send(&r, 0x90, 69, 100);
  rig_run(&r, 0, 10);
  send(&r, 0x90, 81, 100);
  rig_run(&r, 0, g);
  const double mid = cents((double)gfreq[2399], 440.0 * pow(2.0, 0.5));
  printf("# midi glide 100 ms: halfway %.3f cents off, end %.4f Hz at frame "
         "%d\n",
         mid, (double)gfreq[4799], 4799);
  CHECK_VAL(fabsf(gfreq[0] - 440.0f) < 1.0f, gfreq[0]);
  CHECK_VAL(fabs(mid) < 1.0, mid);
  CHECK_VAL(gfreq[4798] < 880.0f && fabsf(gfreq[4799] - 880.0f) < 1e-2f,
            gfreq[4799]);
  CHECK_VAL(fabsf(gfreq[g - 1] - 880.0f) < 1e-2f, gfreq[g - 1]);
  rig_free(&r);

  free(gfreq);
  free(freq);
  free(gate);
  free(vel);
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
         rms, want, 100.0 * (rms / want - 1.0), m, (double)hp_sig_peak(a, n),
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

/* LFO, const, vca, mixer */

static void
test_lfo(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 480000;
  float* const out  = buffer(n);
  Rig          r    = rig_new("lfo", rate);
  rig_set(&r, "rate", 2.0f);
  r.out[0] = out;
  rig_run(&r, 0, n);
  const double f = hp_sig_freq(out, n, (double)rate);
  printf("# lfo 2 Hz: measured %.6f Hz (%.4f%% off)\n", f, 100.0 * (f / 2.0 - 1.0));
  CHECK_VAL(fabs(f / 2.0 - 1.0) < 0.001, f);
  rig_free(&r);

  static const char* const shapes[] = {"sine", "triangle", "saw", "square"};
  for (int s = 0; s < 4; ++s) {
    const size_t m = 48000;
    r              = rig_new("lfo", rate);
    const int si   = hp_param_find_choice(
      &r.desc->params[param_index(&r, "shape")], shapes[s]);
    CHECK(si == s);
    rig_set(&r, "shape", (float)si);
    rig_set(&r, "rate", 5.0f);
    rig_set(&r, "offset", 1000.0f);
    rig_set(&r, "depth", 500.0f);
    r.out[0] = out;
    rig_run(&r, 0, m);
    const float lo = min_of(out, m);
    const float hi = max_of(out, m);
    printf("# lfo %s, offset 1000 depth 500: %.3f..%.3f, starts at %.3f\n",
           shapes[s], (double)lo, (double)hi, (double)out[0]);
    CHECK_VAL(fabsf(lo - 500.0f) < 0.1f, lo);
    CHECK_VAL(fabsf(hi - 1500.0f) < 0.1f, hi);
    CHECK_VAL(fabsf(out[0] - (s == 3 ? 1500.0f : 1000.0f)) < 1e-3f, out[0]);

    /* The same from rate, depth and offset as signals. */
    float* const rs   = constant(5.0f, m);
    float* const ds   = constant(500.0f, m);
    float* const os   = constant(1000.0f, m);
    float* const out2 = buffer(m);
    Rig          r2   = rig_new("lfo", rate);
    rig_set(&r2, "shape", (float)si);
    rig_signal(&r2, "rate", rs);
    rig_signal(&r2, "depth", ds);
    rig_signal(&r2, "offset", os);
    r2.out[0] = out2;
    rig_run(&r2, 0, m);
    float max_diff = 0.0f;
    for (size_t i = 0; i < m; ++i) {
      max_diff = fmaxf(max_diff, fabsf(out2[i] - out[i]));
    }
    CHECK_VAL(max_diff < 1e-3f, max_diff);
    rig_free(&r2);
    free(rs);
    free(ds);
    free(os);
    free(out2);
    rig_free(&r);
  }
  free(out);
}

static void
test_simple(void)
{
  const size_t n   = 1000;
  float* const out = buffer(n);
  float* const a   = tone(100.0, 48000.0, n);
  float* const b   = constant(0.5f, n);
  float* const c   = constant(-0.25f, n);
  float* const g   = constant(0.5f, n);
  float* const l1  = constant(1.5f, n);

  Rig r = rig_new("const", 48000.0f);
  rig_set(&r, "value", -123.5f);
  r.out[0] = out;
  rig_run(&r, 0, n);
  CHECK_VAL(min_of(out, n) == -123.5f && max_of(out, n) == -123.5f, out[0]);
  rig_free(&r);

  /* vca: constant gain and gain as a signal. */
  r = rig_new("vca", 48000.0f);
  rig_set(&r, "level", 1.5f);
  r.in[0]  = a;
  r.out[0] = out;
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(out[i] == a[i] * 1.5f, out[i]);
  }
  rig_signal(&r, "gain", g);
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(out[i] == a[i] * 0.5f, out[i]);
  }
  r.in[0] = NULL;
  rig_run(&r, 0, n);
  CHECK_VAL(hp_sig_peak(out, n) == 0.0f, hp_sig_peak(out, n));
  rig_free(&r);

  /* scale: an envelope's 0..1 into 200..3200 Hz; gain as a signal. */
  r = rig_new("scale", 48000.0f);
  rig_set(&r, "gain", 3000.0f);
  rig_set(&r, "base", 200.0f);
  r.in[0]  = a;
  r.out[0] = out;
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(out[i] == 200.0f + 3000.0f * a[i], out[i]);
  }
  rig_signal(&r, "gain", g);
  rig_run(&r, 0, n);
  for (size_t i = 0; i < n; ++i) {
    CHECK_VAL(out[i] == 200.0f + g[i] * a[i], out[i]);
  }
  r.in[0] = NULL;
  rig_run(&r, 0, n);
  CHECK_VAL(min_of(out, n) == 200.0f && max_of(out, n) == 200.0f, out[0]);
  rig_free(&r);

  /* mixer: 0.5 * (1.5 * 0.5 + 1 * -0.25 + in3 unconnected + 2 * a). */
  r = rig_new("mixer", 48000.0f);
  rig_set(&r, "level1", 1.5f);
  rig_set(&r, "level4", 2.0f);
  rig_set(&r, "level3", 2.0f);
  rig_set(&r, "gain", 0.5f);
  r.in[0]  = b;
  r.in[1]  = c;
  r.in[3]  = a;
  r.out[0] = out;
  rig_run(&r, 0, n);
  double max_err = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double want = 0.5 * (0.75 - 0.25 + 2.0 * (double)a[i]);
    max_err           = fmax(max_err, fabs((double)out[i] - want));
  }
  printf("# mixer: levels and gain sum with error %.2g\n", max_err);
  CHECK_VAL(max_err < 1e-6, max_err);
  /* The same with the gain and one level as signals. */
  rig_set(&r, "gain", 1.0f);
  rig_signal(&r, "gain", g);
  rig_signal(&r, "level1", l1);
  rig_run(&r, 0, n);
  max_err = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double want = 0.5 * (0.75 - 0.25 + 2.0 * (double)a[i]);
    max_err           = fmax(max_err, fabs((double)out[i] - want));
  }
  CHECK_VAL(max_err < 1e-6, max_err);
  r.in[0] = r.in[1] = r.in[3] = NULL;
  rig_run(&r, 0, n);
  CHECK_VAL(hp_sig_peak(out, n) == 0.0f, hp_sig_peak(out, n));
  rig_free(&r);

  free(out);
  free(a);
  free(b);
  free(c);
  free(g);
  free(l1);
}

/* Every module */

/* Inputs for a module: audio gets a tone, a gate input a 0.5 s on/off. */
static void
feed_inputs(Rig* const r, float* const tone_buf, float* const gate_buf)
{
  for (uint32_t i = 0; i < r->desc->n_inputs; ++i) {
    r->in[i] = strcmp(r->desc->inputs[i].name, "gate") ? tone_buf : gate_buf;
  }
}

static void
test_all_finite(void)
{
  const float  rate  = 48000.0f;
  const size_t n     = 480000; /* 10 s */
  float* const sig   = tone(220.0, (double)rate, n);
  float* const gate  = buffer(n);
  float* outs[HP_MAX_PORTS];
  for (size_t i = 0; i < n; ++i) {
    gate[i] = (i / 24000) % 2 ? 0.0f : 1.0f;
  }
  for (uint32_t o = 0; o < HP_MAX_PORTS; ++o) {
    outs[o] = buffer(n);
  }

  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    Rig r = rig_new((*d)->type, rate);
    feed_inputs(&r, sig, gate);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      r.out[o] = outs[o];
    }
    for (size_t pos = 0; pos < n; pos += 4800) {
      if ((*d)->midi) {
        const uint8_t note = (uint8_t)(48 + (pos / 9600) % 24);
        send(&r, (pos / 4800) % 2 ? 0x80 : 0x90, note, 90);
      }
      rig_run(&r, pos, 4800);
    }
    double peak = 0.0;
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      CHECK_MSG(hp_sig_finite(outs[o], n), "%s:%s", (*d)->type,
                (*d)->outputs[o].name);
      peak = fmax(peak, (double)hp_sig_peak(outs[o], n));
    }
    const double rms = hp_sig_rms(outs[0], n);
    printf("# %s: 10 s of defaults finite, main output RMS %.4f, peak %.4g\n",
           (*d)->type, rms, peak);
    CHECK_MSG(peak < 1e5, "%s peak %g", (*d)->type, peak);
    rig_free(&r);
  }

  /* Every param as a signal sweeping well past its range, every chunk:
     finite outputs (NaN-free clamping, stable filters). */
  float* const sweep = buffer(n);
  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    Rig r = rig_new((*d)->type, rate);
    feed_inputs(&r, sig, gate);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      r.out[o] = outs[o];
    }
    for (uint32_t p = 0; p < (*d)->n_params; ++p) {
      r.psig[p] = sweep;
    }
    for (size_t i = 0; i < n; ++i) {
      /* One signal for all params: a slow sweep over -25000..25000. */
      sweep[i] = 25000.0f * (float)sin(2.0 * PI * 0.37 * (double)i / (double)rate);
    }
    rig_run(&r, 0, n);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      CHECK_MSG(hp_sig_finite(outs[o], n), "%s:%s with swept params",
                (*d)->type, (*d)->outputs[o].name);
    }
    rig_free(&r);
  }
  printf("# every module: finite with every param swept over -25000..25000\n");

  free(sweep);
  free(sig);
  free(gate);
  for (uint32_t o = 0; o < HP_MAX_PORTS; ++o) {
    free(outs[o]);
  }
}

/* State is plain data: copied mid-stream, both copies go on identically. */
static void
test_state_copy(void)
{
  const float  rate = 48000.0f;
  const size_t n    = 4000;
  float* const sig  = tone(330.0, (double)rate, n);
  float* const gate = buffer(n);
  for (size_t i = 500; i < 2500; ++i) {
    gate[i] = 1.0f;
  }
  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    float* a[HP_MAX_PORTS];
    float* b[HP_MAX_PORTS];
    Rig    ra = rig_new((*d)->type, rate);
    Rig    rb = rig_new((*d)->type, rate);
    feed_inputs(&ra, sig, gate);
    feed_inputs(&rb, sig, gate);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      ra.out[o] = a[o] = buffer(n);
      rb.out[o] = b[o] = buffer(n);
    }
    if ((*d)->midi) {
      send(&ra, 0x90, 60, 100);
    }
    rig_run(&ra, 0, 1000);
    memcpy(rb.state, ra.state, (*d)->state_size);
    chunk_next = 0;
    rig_run(&ra, 1000, n - 1000);
    chunk_next = 0;
    rig_run(&rb, 1000, n - 1000);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      CHECK_MSG(!memcmp(a[o] + 1000, b[o] + 1000, (n - 1000) * sizeof(float)),
                "%s:%s differs after a state copy", (*d)->type,
                (*d)->outputs[o].name);
      free(a[o]);
      free(b[o]);
    }
    rig_free(&ra);
    rig_free(&rb);
  }
  printf("# every module: a copied state continues bit-identically\n");
  free(sig);
  free(gate);
}

int
main(void)
{
  test_descriptors();
  test_sine_poly();
  test_sine_pitch();
  test_sine_modulated();
  test_bandlimited();
  test_detune();
  test_adsr();
  test_biquad_kernel();
  test_biquad();
  test_midi();
  test_noise();
  test_lfo();
  test_simple();
  test_all_finite();
  test_state_copy();
  printf("test_dsp: all checks passed\n");
  return 0;
}
