/* Patch editing, validation messages, the text protocol and graph
   compilation, without any LV2 host. */

#include "check.h"
#include "graph.h"
#include "ops.h"
#include "patch.h"
#include "signal.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

static HpStatus
apply(HpPatch* const patch, const char* const line, HpError* const err)
{
  HpOp     op;
  HpStatus st = hp_op_parse_text(line, &op, err);
  return st ? st : hp_patch_apply(patch, &op, err);
}

static void
ok(HpPatch* const patch, const char* const line)
{
  HpError        err = {HP_SUCCESS, ""};
  const HpStatus st  = apply(patch, line, &err);
  CHECK_MSG(!st, "'%s' failed: %s", line, err.message);
}

/* `line` fails with `status` and a message containing `text`. */
static void
fails(HpPatch* const    patch,
      const char* const line,
      const HpStatus    status,
      const char* const text)
{
  HpError        err = {HP_SUCCESS, ""};
  const HpStatus st  = apply(patch, line, &err);
  CHECK_MSG(st == status,
            "'%s' gave status %d (%s), expected %d",
            line,
            (int)st,
            err.message,
            (int)status);
  CHECK_MSG(strstr(err.message, text),
            "'%s' said \"%s\", expected \"%s\"",
            line,
            err.message,
            text);
}

static void
test_validation(void)
{
  HpPatch* p = hp_patch_new();
  ok(p, "/patch/create osc1 simple_sine");
  ok(p, "/patch/create env1 adsr");
  ok(p, "/patch/create filt1 biquad_filter");
  fails(p,
        "/patch/create osc2 sinee",
        HP_ERR_UNKNOWN_TYPE,
        "unknown module type 'sinee'; known types: sine, ");
  fails(p,
        "/patch/create osc1 saw",
        HP_ERR_DUPLICATE_ID,
        "a module named 'osc1' already exists");
  fails(
    p, "/patch/create 9lives saw", HP_ERR_BAD_ID, "invalid module id '9lives'");
  fails(p, "/patch/create out saw", HP_ERR_BAD_ID, "reserved");
  fails(p,
        "/patch/connect osc1:nope env1",
        HP_ERR_UNKNOWN_PORT,
        "module 'osc1' (sine) has no output 'nope'; outputs: out");
  fails(p,
        "/patch/connect osc1 env1:nope",
        HP_ERR_UNKNOWN_PORT,
        "has no input or parameter 'nope'; inputs: in, gate");
  fails(p,
        "/patch/connect osc1 osc9",
        HP_ERR_UNKNOWN_MODULE,
        "no module 'osc9' in the patch");
  fails(
    p, "/patch/connect env1 osc1", HP_ERR_UNKNOWN_PORT, "has no audio input");
  ok(p, "/patch/connect osc1 env1");
  ok(p, "/patch/connect env1 filt1");
  fails(p,
        "/patch/connect osc1 env1",
        HP_ERR_ALREADY_CONNECTED,
        "already connected");
  fails(
    p, "/patch/connect filt1 osc1:freq", HP_ERR_CYCLE, "would create a cycle");
  /* The oscillators' pm is an input, reached by name only (above: not by
     the bare id). */
  fails(
    p, "/patch/connect filt1 osc1:pm", HP_ERR_CYCLE, "would create a cycle");
  fails(p, "/patch/connect filt1 filt1:cutoff", HP_ERR_CYCLE, "cycle");
  fails(p,
        "/patch/disconnect filt1 env1",
        HP_ERR_NOT_CONNECTED,
        "'filt1' is not connected to 'env1'");
  fails(p,
        "/patch/set osc1 freq 30000",
        HP_ERR_BAD_VALUE,
        "value 30000 for osc1:freq is out of range 0.01..20000 Hz");
  fails(
    p, "/patch/set osc1 freq nan", HP_ERR_BAD_VALUE, "must be a finite number");
  fails(
    p, "/patch/set osc1 freq inf", HP_ERR_BAD_VALUE, "must be a finite number");
  fails(
    p,
    "/patch/set osc1 pitch 3",
    HP_ERR_UNKNOWN_PARAM,
    "module 'osc1' (sine) has no parameter 'pitch'; parameters: freq, gain");
  fails(p,
        "/patch/set filt1 mode bandstop",
        HP_ERR_BAD_VALUE,
        "'bandstop' is not a value of filt1:mode; choices: lowpass, highpass");
  fails(p, "/patch/gate osc1 1", HP_ERR_UNKNOWN_PARAM, "has no gate");
  fails(p, "/patch/delete osc7", HP_ERR_UNKNOWN_MODULE, "no module 'osc7'");
  fails(p,
        "/patch/macro 9 filt1:cutoff 1 2",
        HP_ERR_BAD_VALUE,
        "macro 9 does not exist");
  fails(p,
        "/patch/macro 1 filt1:cutoff 0 100 exp",
        HP_ERR_BAD_VALUE,
        "out of range");
  ok(p, "/patch/set osc1 frequency 220");
  ok(p, "/patch/set filt1 mode highpass");
  ok(p, "/patch/macro 1 filt1:cutoff 200 8000 exp");
  CHECK(p->modules[0].value[0] == 220.0f);
  CHECK(p->modules[2].value[hp_module_find_param(p->modules[2].desc, "mode")] ==
        1.0f);

  /* Deleting a module removes its links and macro maps. */
  ok(p, "/patch/delete env1");
  CHECK(p->n_modules == 2 && p->n_links == 0 && p->n_macros == 1);
  CHECK(!strcmp(p->modules[1].id, "filt1"));
  CHECK(p->macros[0].module == 1);
  ok(p, "/patch/clear");
  CHECK(p->n_modules == 0 && p->n_macros == 0);
  hp_patch_free(p);
}

static void
test_text(void)
{
  HpOp    op;
  HpError err = {HP_SUCCESS, ""};
  CHECK(hp_op_parse_text("   # a comment", &op, &err) == HP_ERR_NOTHING_STAGED);
  CHECK(hp_op_parse_text("", &op, &err) == HP_ERR_NOTHING_STAGED);
  CHECK(!hp_op_parse_text(
    "/patch/commit warmup=4 crossfade=0 require_signal", &op, &err));
  CHECK(op.type == HP_OP_COMMIT && op.commit.warmup == 4 &&
        op.commit.crossfade_ms == 0.0f && op.commit.require_signal);
  CHECK(!hp_op_parse_text("commit", &op, &err));
  CHECK(op.commit.warmup < 0 && op.commit.crossfade_ms < 0.0f &&
        !op.commit.require_signal);
  CHECK(!hp_op_parse_text("/patch/prime env1 gate 1", &op, &err));
  CHECK(op.type == HP_OP_PRIME_GATE && op.set.value == 1.0f &&
        !strcmp(op.set.param, "gate"));
  CHECK(hp_op_parse_text("/patch/jump osc1", &op, &err) == HP_ERR_SYNTAX);
  CHECK_MSG(strstr(err.message, "column 1: unknown command '/patch/jump'"),
            "%s",
            err.message);
  CHECK(hp_op_parse_text("/patch/gate env1 up", &op, &err) == HP_ERR_SYNTAX);
  CHECK_MSG(
    strstr(err.message, "column 18: expected a number for the gate, got 'up'"),
    "%s",
    err.message);
  CHECK(hp_op_parse_text("/patch/create osc1", &op, &err) == HP_ERR_SYNTAX);
  CHECK_MSG(
    strstr(err.message, "usage: /patch/create ID TYPE"), "%s", err.message);
  CHECK(hp_op_parse_text("/patch/commit warmup=x", &op, &err) == HP_ERR_SYNTAX);
  char long_line[400];
  memset(long_line, 'a', sizeof(long_line));
  memcpy(long_line, "create ", 7);
  long_line[300] = ' ';
  long_line[399] = '\0';
  CHECK(hp_op_parse_text(long_line, &op, &err) == HP_ERR_TOO_LARGE);
}

/* Write, re-read and re-write: the same patch and the same text. */
static void
test_round_trip(void)
{
  HpPatch* p = hp_patch_new();
  ok(p, "create lfo1 lfo");
  ok(p, "create osc1 saw");
  ok(p, "create filt1 biquad");
  ok(p, "set filt1 mode bandpass");
  ok(p, "set osc1 freq 110.5");
  ok(p, "set lfo1 offset 1000");
  ok(p, "connect osc1 filt1");
  ok(p, "connect lfo1 filt1:cutoff");
  ok(p, "connect filt1 out:left");
  ok(p, "macro 3 osc1:gain 0 0.8 lin");
  char         text[4096];
  const size_t len = hp_patch_write_text(p, text, sizeof(text));
  CHECK(len < sizeof(text));
  HpPatch* q    = hp_patch_new();
  char*    line = strtok(text, "\n");
  for (; line; line = strtok(NULL, "\n")) {
    ok(q, line);
  }
  CHECK(hp_patch_equal(p, q));
  char again[4096];
  hp_patch_write_text(q, again, sizeof(again));
  hp_patch_write_text(p, text, sizeof(text));
  CHECK(!strcmp(text, again));
  printf("# text round trip: %zu bytes, identical after re-read\n", len);
  hp_patch_free(p);
  hp_patch_free(q);
}

static void
render(HpGraph* const g, float* const l, float* const r, const size_t n)
{
  for (size_t done = 0; done < n; done += HP_CHUNK) {
    const uint32_t k = (uint32_t)(n - done < HP_CHUNK ? n - done : HP_CHUNK);
    hp_graph_process(g, l + done, r + done, k);
  }
}

static void
test_graph(void)
{
  enum { RATE = 48000, N = RATE };
  static float l[N];
  static float r[N];
  HpError      err = {HP_SUCCESS, ""};

  /* One oscillator that feeds nothing is the output: a 440 Hz tone. */
  HpPatch* p = hp_patch_new();
  ok(p, "create osc1 simple_sine");
  HpGraph* g = hp_graph_new(p, NULL, RATE, &err);
  CHECK(g);
  render(g, l, r, N);
  const double f = hp_sig_freq(l, N, RATE);
  CHECK_MSG(fabs(f - 440.0) < 0.1, "pitch %.4f Hz", f);
  CHECK(!memcmp(l, r, sizeof(l)));
  CHECK_MSG(fabs(hp_sig_rms(l, N) - 0.5 / sqrt(2.0)) < 0.01,
            "rms %f",
            hp_sig_rms(l, N));
  hp_graph_free(g);

  /* Two unconnected oscillators sum; an LFO (control output) does not. */
  ok(p, "create osc2 sine");
  ok(p, "set osc2 freq 440");
  ok(p, "create lfo1 lfo");
  ok(p, "set lfo1 offset 5");
  g = hp_graph_new(p, NULL, RATE, &err);
  render(g, l, r, N);
  CHECK_MSG(fabsf(hp_sig_peak(l, N) - 1.0f) < 0.01f,
            "peak %f",
            (double)hp_sig_peak(l, N));
  hp_graph_free(g);

  /* Explicit sink: only what is connected to out plays, per side. */
  ok(p, "connect osc1 out:left");
  g = hp_graph_new(p, NULL, RATE, &err);
  render(g, l, r, N);
  CHECK_MSG(fabsf(hp_sig_peak(l, N) - 0.5f) < 0.01f,
            "peak %f",
            (double)hp_sig_peak(l, N));
  CHECK(hp_sig_peak(r, N) == 0.0f);
  hp_graph_free(g);

  /* Modulation replaces the set value: lfo -> osc1:freq, constant 300. */
  ok(p, "clear");
  ok(p, "create c const");
  ok(p, "set c value 300");
  ok(p, "create osc1 sine");
  ok(p, "connect c osc1:freq");
  g = hp_graph_new(p, NULL, RATE, &err);
  render(g, l, r, N);
  CHECK_MSG(fabs(hp_sig_freq(l, N, RATE) - 300.0) < 0.1,
            "pitch %f",
            hp_sig_freq(l, N, RATE));
  hp_graph_free(g);

  /* A live set glides (smoothed) and then settles on the new pitch. */
  g = hp_graph_new(p, NULL, RATE, &err);
  CHECK(hp_graph_set(g, "osc1", "freq", 1000.0f, NULL, false));
  CHECK(!hp_graph_set(g, "nobody", "freq", 1000.0f, NULL, false));
  /* The audio thread sets by key (no string compared): names, aliases and
     choices by name resolve as by string, and nothing else does. */
  CHECK(hp_graph_set_key(
    g, hp_name_key("osc1"), hp_name_key("freq"), 0u, 500.0f, false));
  CHECK(!hp_graph_set_key(
    g, hp_name_key("nobody"), hp_name_key("freq"), 0u, 5.0f, false));
  CHECK(!hp_graph_set_key(
    g, hp_name_key("osc1"), hp_name_key("fre"), 0u, 5.0f, false));
  CHECK(!hp_graph_set_key(
    g, hp_name_key("osc1"), hp_name_key("freq"), 0u, -5.0f, false));
  hp_graph_free(g);
  ok(p, "create f1 biquad");
  g = hp_graph_new(p, NULL, RATE, &err);
  CHECK(hp_graph_set_key(
    g, hp_name_key("f1"), hp_name_key("cutoff"), 0u, 500.0f, false));
  CHECK(hp_graph_set_key(
    g, hp_name_key("f1"), hp_name_key("frequency"), 0u, 600.0f, false));
  CHECK(hp_graph_set_key(g,
                         hp_name_key("f1"),
                         hp_name_key("mode"),
                         hp_name_key("highpass"),
                         0.0f,
                         false));
  CHECK(!hp_graph_set_key(g,
                          hp_name_key("f1"),
                          hp_name_key("mode"),
                          hp_name_key("sideways"),
                          0.0f,
                          false));
  CHECK(!hp_graph_set_key(g,
                          hp_name_key("f1"),
                          hp_name_key("cutoff"),
                          hp_name_key("highpass"),
                          0.0f,
                          false));
  CHECK(hp_graph_set_key(
    g, hp_name_key("osc1"), hp_name_key("freq"), 0u, 700.0f, true));
  hp_graph_free(g);
  ok(p, "delete f1");

  /* Buffer reuse: a 256-module chain uses a handful of buffers. */
  ok(p, "clear");
  ok(p, "create osc0 saw");
  char line[128];
  for (int i = 1; i < 256; ++i) {
    snprintf(line, sizeof(line), "create f%d biquad", i);
    ok(p, line);
    snprintf(line,
             sizeof(line),
             "connect %s%d f%d",
             i == 1 ? "osc" : "f",
             i == 1 ? 0 : i - 1,
             i);
    ok(p, line);
  }
  g = hp_graph_new(p, NULL, RATE, &err);
  CHECK(g && hp_graph_module_count(g) == 256);
  render(g, l, r, 4096);
  CHECK(hp_sig_finite(l, 4096));
  hp_graph_free(g);
  hp_patch_free(p);
}

/* A 10,000-module patch is refused at the 4,097th module, by name. */
static void
test_too_large(void)
{
  HpPatch* p = hp_patch_new();
  char     line[64];
  for (int i = 0; i < 10000; ++i) {
    snprintf(line, sizeof(line), "create m%d const", i);
    HpOp    op;
    HpError err = {HP_SUCCESS, ""};
    CHECK(!hp_op_parse_text(line, &op, &err));
    const HpStatus st = hp_patch_apply(p, &op, &err);
    if (i < 4096) {
      CHECK_MSG(!st, "%s: %s", line, err.message);
    } else {
      CHECK(st == HP_ERR_TOO_LARGE);
      CHECK_MSG(
        strstr(err.message,
               "the patch already has 4096 modules, the most it can hold"),
        "%s",
        err.message);
    }
  }
  CHECK(p->n_modules == 4096);
  printf("# a 10,000-module patch: 4,096 created, the rest refused by name\n");
  hp_patch_free(p);
}

/* Loading in linear time */

enum { BIG = 4096 };

/* Build a chain of `n` modules (m0 saw -> m1 .. biquads), creates first:
   order 0 in signal order, 1 with the links listed from the output back
   (the deepest search for a check that looks downstream), 2 with the
   modules created from the output back. */
static HpPatch*
load_chain(const int n, const int order)
{
  HpPatch* const p = hp_patch_new();
  char           line[64];
  CHECK(p);
  for (int j = 0; j < n; ++j) {
    const int i = order == 2 ? n - 1 - j : j;
    snprintf(line, sizeof(line), "create m%d %s", i, i ? "biquad" : "saw");
    ok(p, line);
  }
  for (int j = 1; j < n; ++j) {
    const int i = order == 1 ? n - j : j;
    snprintf(line, sizeof(line), "connect m%d m%d", i - 1, i);
    ok(p, line);
  }
  return p;
}

static double
cpu_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* The least CPU time of 5 runs of building `p`'s graph `times` times. */
static double
build_ms(const HpPatch* const p, const int times)
{
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const double t0 = cpu_ms();
    for (int k = 0; k < times; ++k) {
      HpError  err = {HP_SUCCESS, ""};
      HpGraph* g   = hp_graph_new(p, NULL, 48000.0f, &err);
      CHECK_MSG(g, "%s", err.message);
      hp_graph_free(g);
    }
    const double t = cpu_ms() - t0;
    best           = t < best ? t : best;
  }
  return best;
}

static void*
linear_load(void* const arg)
{
  (void)arg;
  /* Every connect of a 4,096-module chain, in any of three orders, and of
     a fan (one lfo into 4,094 sines, all into one mixer input) follows at
     most one link per module and link on the whole: the cycle check
     searches from both ends and stops at the shorter.  (Searching only
     downstream of the destination, it followed 8,382,465 links for the
     chain in signal order, about n^3 / 3 = 2.3e10 with the links backwards,
     recursing up to 4,095 deep: this 64 KiB stack overflowed.) */
  static const char* const orders[] = {
    "in signal order", "links backwards", "modules backwards"};
  for (int order = 0; order < 3; ++order) {
    HpPatch* const p     = load_chain(BIG, order);
    const uint64_t steps = hp_patch_cycle_steps(p);
    CHECK(p->n_modules == BIG && p->n_links == BIG - 1);
    CHECK_MSG(steps <= p->n_modules + p->n_links,
              "chain, %s: %llu links followed",
              orders[order],
              (unsigned long long)steps);
    printf("# 4,096-module chain, %s: %llu links followed by the cycle "
           "checks\n",
           orders[order],
           (unsigned long long)steps);

    /* A cycle is still refused, by name, across the whole chain. */
    char line[64];
    snprintf(line, sizeof(line), "connect m%d m0:freq", BIG - 1);
    fails(p,
          line,
          HP_ERR_CYCLE,
          "connecting 'm4095' to 'm0:freq' would create a cycle: 'm4095' "
          "already depends on 'm0'");
    CHECK(hp_patch_cycle_steps(p) - steps <= 2u * (p->n_modules + p->n_links));
    fails(p, "connect m7 m8", HP_ERR_ALREADY_CONNECTED, "already connected");
    CHECK(!hp_patch_has_cycle(p));

    HpError  err = {HP_SUCCESS, ""};
    HpGraph* g   = hp_graph_new(p, NULL, 48000.0f, &err);
    CHECK_MSG(g && hp_graph_module_count(g) == BIG, "%s", err.message);
    float l[HP_CHUNK];
    float r[HP_CHUNK];
    hp_graph_process(g, l, r, HP_CHUNK);
    CHECK(hp_sig_finite(l, HP_CHUNK));
    hp_graph_free(g);
    hp_patch_free(p);
  }

  HpPatch* const p = hp_patch_new();
  char           line[64];
  ok(p, "create lfo lfo");
  ok(p, "create mix mixer");
  for (int i = 0; i < BIG - 2; ++i) {
    snprintf(line, sizeof(line), "create o%d sine", i);
    ok(p, line);
  }
  for (int i = 0; i < BIG - 2; ++i) {
    snprintf(line, sizeof(line), "connect lfo o%d:freq", i);
    ok(p, line);
    snprintf(line, sizeof(line), "connect o%d mix:in1", i);
    ok(p, line);
  }
  const uint64_t steps = hp_patch_cycle_steps(p);
  CHECK_MSG(steps <= p->n_modules + p->n_links,
            "fan: %llu links followed",
            (unsigned long long)steps);
  printf("# fan of 4,094 sines: %llu links followed by the cycle checks\n",
         (unsigned long long)steps);
  hp_patch_free(p);
  return NULL;
}

/* Loading and building a 4,096-module patch is linear and needs no deep
   stack: the work is counted (the links the cycle checks follow) and the
   build of one 4,096-module chain costs about what 16 builds of a
   256-module chain cost (it was 20 to 50 times as much when each module
   scanned every link), all in a thread with a 64 KiB stack. */
static void
test_linear(void)
{
  pthread_attr_t attr;
  pthread_t      thread;
  CHECK(!pthread_attr_init(&attr));
  CHECK(!pthread_attr_setstacksize(&attr, 64u * 1024u));
  CHECK(!pthread_create(&thread, &attr, linear_load, NULL));
  CHECK(!pthread_join(thread, NULL));
  pthread_attr_destroy(&attr);

  HpPatch* const big   = load_chain(BIG, 0);
  HpPatch* const small = load_chain(BIG / 16, 0);
  const double   t_big = build_ms(big, 1);
  const double   t_16  = build_ms(small, 16);
  printf("# building a 4,096-module chain: %.3f ms CPU, 16 of 256: %.3f ms "
         "(x %.2f)\n",
         t_big,
         t_16,
         t_big / t_16);
  CHECK_MSG(t_big < 8.0 * t_16, "%.3f ms against %.3f ms", t_big, t_16);
  hp_patch_free(big);
  hp_patch_free(small);
}

int
main(void)
{
  test_linear();
  test_too_large();
  test_validation();
  test_text();
  test_round_trip();
  test_graph();
  return 0;
}
