/*
  The module descriptors, and the modules that are neither oscillators nor
  envelopes or filters -- MIDI note input, LFO, const, vca, mixer -- driven
  directly through their descriptors (see rig.h); then every module: finite
  output from any input, and state that is plain data (copied mid-stream,
  both copies go on identically).  Every figure measured is printed on a
  "# " line.  (Oscillators: test_dsp_oscillators.c; envelopes and the
  biquad: test_dsp_shapers.c; svf and ladder: test_dsp_filters.c.)
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
              "modules.def names %s, hp_mod_%s's type is %s",
              expected[i],
              expected[i],
              hp_module_types[i]->type);
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
        CHECK(ports[i].kind == HP_SIGNAL_AUDIO ||
              ports[i].kind == HP_SIGNAL_CV);
        const int found = dir ? hp_module_find_output(d, ports[i].name)
                              : hp_module_find_input(d, ports[i].name);
        CHECK_MSG(
          found == (int)i, "%s: port %s is not unique", d->type, ports[i].name);
        ++n_ports;
      }
    }

    for (uint32_t i = 0; i < d->n_params; ++i) {
      const HpParamDesc* const p = &d->params[i];
      check_name(p->name, "param", d->type);
      check_doc(p->doc, p->name, d->type);
      CHECK_MSG(p->unit, "%s:%s has no unit (use \"\")", d->type, p->name);
      CHECK_MSG(isfinite(p->min) && isfinite(p->max) && p->min < p->max,
                "%s:%s range",
                d->type,
                p->name);
      CHECK_MSG(p->def >= p->min && p->def <= p->max,
                "%s:%s default %g",
                d->type,
                p->name,
                (double)p->def);
      CHECK_MSG(!p->log_scale || p->min > 0.0f,
                "%s:%s log scale from %g",
                d->type,
                p->name,
                (double)p->min);
      /* Names and aliases resolve to this param, so none shadows another. */
      CHECK_MSG(hp_module_find_param(d, p->name) == (int)i,
                "%s:%s not unique",
                d->type,
                p->name);
      for (const char* const* a = p->aliases; a && *a; ++a) {
        CHECK_MSG(hp_module_find_param(d, *a) == (int)i,
                  "%s:%s alias %s",
                  d->type,
                  p->name,
                  *a);
        for (uint32_t j = 0; j < d->n_params; ++j) {
          CHECK_MSG(strcmp(*a, d->params[j].name),
                    "%s: alias %s is a name",
                    d->type,
                    *a);
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
                  "%s:%s max %g with %d choices",
                  d->type,
                  p->name,
                  (double)p->max,
                  n_choices);
        CHECK(is_integral(p->def));
        CHECK(hp_param_find_choice(p, "nope") == -1);
      } else {
        CHECK_MSG(!p->choices, "%s:%s choices on a non-enum", d->type, p->name);
      }
      if (p->kind == HP_PARAM_INTEGER) {
        CHECK(is_integral(p->min) && is_integral(p->max) &&
              is_integral(p->def));
      }
      if (p->kind == HP_PARAM_GATE) {
        CHECK(p->min == 0.0f && p->max == 1.0f);
      }
      /* A param named like an input is reachable both ways ("env1:gate");
         say so, the graph decides which wins. */
      if (hp_module_find_input(d, p->name) >= 0) {
        printf("# %s: \"%s\" names both an input and a parameter\n",
               d->type,
               p->name);
      }
      ++n_params;
    }
  }
  printf("# descriptors: %zu types, %zu params, %zu ports checked\n",
         n_types,
         n_params,
         n_ports);
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
  printf("# midi note 69: %.4f Hz, gate %g, velocity %.4f\n",
         (double)freq[0],
         (double)gate[0],
         (double)vel[0]);
  CHECK_VAL(fabsf(freq[0] - 440.0f) < 1e-3f, freq[0]);
  CHECK_VAL(gate[0] == 1.0f && gate[n - 1] == 1.0f, gate[0]);
  CHECK_VAL(fabsf(vel[0] - 100.0f / 127.0f) < 1e-6f, vel[0]);

  send(&r, 0x90, 60, 64);
  rig_run(&r, 0, n);
  printf("# midi note 60: %.4f Hz (%.4f cents off 261.6256)\n",
         (double)freq[n - 1],
         cents((double)freq[n - 1], 261.6255653));
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
         up,
         down,
         octave);
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
  CHECK_VAL(fabsf(freq[0] - 440.0f * powf(2.0f, (44.0f - 69.0f) / 12.0f)) <
              1e-3f,
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
         mid,
         (double)gfreq[4799],
         4799);
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
  printf(
    "# lfo 2 Hz: measured %.6f Hz (%.4f%% off)\n", f, 100.0 * (f / 2.0 - 1.0));
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
           shapes[s],
           (double)lo,
           (double)hi,
           (double)out[0]);
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
  const float  rate = 48000.0f;
  const size_t n    = 480000; /* 10 s */
  float* const sig  = tone(220.0, (double)rate, n);
  float* const gate = buffer(n);
  float*       outs[HP_MAX_PORTS];
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
      CHECK_MSG(
        hp_sig_finite(outs[o], n), "%s:%s", (*d)->type, (*d)->outputs[o].name);
      peak = fmax(peak, (double)hp_sig_peak(outs[o], n));
    }
    const double rms = hp_sig_rms(outs[0], n);
    printf("# %s: 10 s of defaults finite, main output RMS %.4f, peak %.4g\n",
           (*d)->type,
           rms,
           peak);
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
      sweep[i] =
        25000.0f * (float)sin(2.0 * PI * 0.37 * (double)i / (double)rate);
    }
    rig_run(&r, 0, n);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      CHECK_MSG(hp_sig_finite(outs[o], n),
                "%s:%s with swept params",
                (*d)->type,
                (*d)->outputs[o].name);
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
    if (ra.mem) { /* memory goes with the state (a kept module keeps both) */
      rb.mem_size = ra.mem_size;
      rb.mem      = (float*)malloc(ra.mem_size * sizeof(float));
      CHECK(rb.mem);
      memcpy(rb.mem, ra.mem, ra.mem_size * sizeof(float));
    }
    chunk_next = 0;
    rig_run(&ra, 1000, n - 1000);
    chunk_next = 0;
    rig_run(&rb, 1000, n - 1000);
    for (uint32_t o = 0; o < (*d)->n_outputs; ++o) {
      CHECK_MSG(!memcmp(a[o] + 1000, b[o] + 1000, (n - 1000) * sizeof(float)),
                "%s:%s differs after a state copy",
                (*d)->type,
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
  test_midi();
  test_lfo();
  test_simple();
  test_all_finite();
  test_state_copy();
  printf("test_dsp_modules: all checks passed\n");
  return 0;
}
