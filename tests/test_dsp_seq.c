/*
  The step sequencer (seq), driven directly through its descriptor (see
  rig.h): its own clock (the frames its steps change on, gate length,
  wrapping), and the host's time (steps on the exact frames of the beat
  divisions from any start, a stopped transport, a tempo change), every
  frame of every output against a reference computed in whole numbers.
  Every figure measured is printed on a "# " line.
*/

#include "check.h"
#include "module.h"
#include "rig.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_OUT 3 /* out, gate, trig */

typedef struct {
  Rig    r;
  float* out[N_OUT];
  size_t n;
} Seq;

/* A seq at `rate` rendering into n-frame buffers, its step k (1-based)
   set to 100 k, every gate on. */
static Seq
seq_new(const float rate, const size_t n)
{
  Seq s;
  s.r = rig_new("seq", rate);
  s.n = n;
  for (int o = 0; o < N_OUT; ++o) {
    s.out[o]   = buffer(n);
    s.r.out[o] = s.out[o];
  }
  char name[16];
  for (int k = 1; k <= 16; ++k) {
    snprintf(name, sizeof(name), "step%d", k);
    rig_set(&s.r, name, 100.0f * (float)k);
    snprintf(name, sizeof(name), "gate%d", k);
    CHECK(s.r.param[param_index(&s.r, name)].value == 1.0f);
  }
  return s;
}

static void
seq_free(Seq* const s)
{
  rig_free(&s->r);
  for (int o = 0; o < N_OUT; ++o) {
    free(s->out[o]);
  }
}

/* What frame i should be: the step (0-based), and the gate and trig. */
typedef struct {
  uint32_t step;
  bool     gate, trig;
} Want;

/* Every frame of [from, to) of the three outputs against want(i); returns
   how many steps began in it (a trig rising, or out changing). */
static size_t
check_frames(const Seq* const s,
             const size_t     from,
             const size_t     to,
             Want (*want)(size_t i, const void* ctx),
             const void* const ctx,
             const char* const what)
{
  size_t starts = 0;
  for (size_t i = from; i < to; ++i) {
    const Want  w   = want(i, ctx);
    const float val = 100.0f * (float)(w.step + 1u);
    CHECK_MSG(s->out[0][i] == val && s->out[1][i] == (w.gate ? 1.0f : 0.0f) &&
                s->out[2][i] == (w.trig ? 1.0f : 0.0f),
              "%s: frame %zu: out %g gate %g trig %g, want step %u (%g) gate "
              "%d trig %d",
              what,
              i,
              (double)s->out[0][i],
              (double)s->out[1][i],
              (double)s->out[2][i],
              w.step + 1u,
              (double)val,
              w.gate,
              w.trig);
    starts += i > from && s->out[0][i] != s->out[0][i - 1];
  }
  return starts;
}

/* Own clock */

typedef struct {
  double   num, den; /* frames a step: num / den, exactly */
  double   length;   /* gate, fraction of a step */
  double   trig;     /* frames */
  uint32_t steps;
  uint32_t rest; /* a step (0-based) whose gate is off, or 99 */
} OwnClock;

/* Step k begins at the first frame i with i >= k num / den; frame i is
   i - k num / den frames into it. */
static Want
own_want(const size_t i, const void* const ctx)
{
  const OwnClock* const c    = (const OwnClock*)ctx;
  const double          k    = floor((double)i * c->den / c->num);
  const double          into = (double)i - k * c->num / c->den;
  const uint32_t        step = (uint32_t)fmod(k, (double)c->steps);
  const bool            on   = step != c->rest;
  return (Want){
    step, on && into < c->length * c->num / c->den, on && into < c->trig};
}

static void
test_own_clock(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const size_t n    = (size_t)(4.5 * (double)rate); /* 36 steps */
    Seq          s    = seq_new(rate, n);
    rig_set(&s.r, "gate3", 0.0f);
    rig_run(&s.r, 0, n);
    const OwnClock c = {(double)rate, 8.0, 0.5, (double)rate / 1000.0, 16, 2};
    const size_t   starts =
      check_frames(&s, 0, n, own_want, &c, "own clock, rate 8");
    printf("# seq rate 8 @ %g: %zu steps, each beginning on frame "
           "ceil(k * %g), gate the first half, trig the first %g frames, "
           "step 3 resting; every frame as computed\n",
           (double)rate,
           starts,
           (double)rate / 8.0,
           (double)rate / 1000.0);
    CHECK_VAL(starts == 35, starts);
    seq_free(&s);
  }

  /* A step of 6857 1/7 frames carries its fraction on: step 70 begins on
     frame 480000 (within the float rounding of 70 such steps: 1 frame). */
  const size_t n = 481000;
  Seq          s = seq_new(48000.0f, n);
  rig_set(&s.r, "rate", 7.0f);
  rig_run(&s.r, 0, n);
  size_t last = 0, count = 0;
  for (size_t i = 1; i < n; ++i) {
    if (s.out[2][i] > s.out[2][i - 1]) {
      last = i;
      ++count;
    }
  }
  printf("# seq rate 7 @ 48000: step %zu began on frame %zu (480000 = 70 x "
         "48000/7)\n",
         count,
         last);
  CHECK_VAL(count == 70, count);
  CHECK_VAL(last >= 479999 && last <= 480001, last);
  seq_free(&s);
}

static void
test_gate_length(void)
{
  static const float lengths[] = {0.0f, 0.25f, 0.9f, 1.0f};
  const size_t       n         = 6000 * 20;
  for (size_t l = 0; l < 4; ++l) {
    Seq s = seq_new(48000.0f, n);
    rig_set(&s.r, "length", lengths[l]);
    rig_set(&s.r, "gate5", 0.0f);
    rig_run(&s.r, 0, n);
    const OwnClock c = {6000.0, 1.0, (double)lengths[l], 48.0, 16, 4};
    check_frames(&s, 0, n, own_want, &c, "gate length");
    /* Gate frames in step 1 (on) and step 5 (resting). */
    size_t on = 0, rest = 0, edges = 0;
    for (size_t i = 0; i < 6000; ++i) {
      on += s.out[1][i] == 1.0f;
      rest += s.out[1][4 * 6000 + i] == 1.0f;
    }
    for (size_t i = 1; i < 4 * 6000; ++i) {
      edges += s.out[1][i] > s.out[1][i - 1];
    }
    printf("# seq length %g: gate on %zu of 6000 frames (a resting step "
           "%zu), %zu gate onsets over steps 1-4\n",
           (double)lengths[l],
           on,
           rest,
           edges);
    CHECK_VAL(on == (size_t)(6000.0f * lengths[l]), on);
    CHECK_VAL(rest == 0, rest);
    /* Tied at length 1: one gate over the four playing steps. */
    CHECK_VAL(edges == (lengths[l] == 0.0f   ? 0u
                        : lengths[l] == 1.0f ? 0u
                                             : 3u),
              edges);
    seq_free(&s);
  }
}

static void
test_steps_wrap(void)
{
  const size_t n = 6000 * 12;
  Seq          s = seq_new(48000.0f, n);
  rig_set(&s.r, "steps", 5.0f);
  rig_run(&s.r, 0, n);
  const OwnClock c = {6000.0, 1.0, 0.5, 48.0, 5, 99};
  check_frames(&s, 0, n, own_want, &c, "steps 5");
  printf("# seq steps 5: steps 1-5, then step 1 again on frame 30000 (out "
         "%g) and 60000 (%g)\n",
         (double)s.out[0][30000],
         (double)s.out[0][60000]);
  CHECK_VAL(s.out[0][30000] == 100.0f && s.out[0][29999] == 500.0f,
            s.out[0][30000]);

  /* Shortened mid-loop: step 9 plays to its end, then step 1. */
  rig_free(&s.r);
  s.r = rig_new("seq", 48000.0f);
  for (int o = 0; o < N_OUT; ++o) {
    s.r.out[o] = s.out[o];
  }
  rig_set(&s.r, "step1", 100.0f);
  rig_set(&s.r, "step9", 900.0f);
  rig_set(&s.r, "step10", 1000.0f);
  rig_run(&s.r, 0, 8 * 6000 + 1000);
  rig_set(&s.r, "steps", 4.0f);
  rig_run(&s.r, 8 * 6000 + 1000, 6000);
  printf("# seq steps 16 -> 4 during step 9: frame 53999 %g, 54000 %g\n",
         (double)s.out[0][53999],
         (double)s.out[0][54000]);
  CHECK_VAL(s.out[0][53999] == 900.0f, s.out[0][53999]);
  CHECK_VAL(s.out[0][54000] == 100.0f, s.out[0][54000]);
  seq_free(&s);
}

/* Host time */

/* Position in steps times `rate`, a whole number: (beat0 division + i
   steps_per_frame) rate, with beat0 division rate and steps_per_frame
   rate whole. */
typedef struct {
  int64_t  start; /* beat0 * division * rate */
  int64_t  step;  /* division * beats_per_frame * rate */
  int64_t  rate;
  uint32_t steps;
} HostClock;

static Want
host_want(const size_t i, const void* const ctx)
{
  const HostClock* const c   = (const HostClock*)ctx;
  const int64_t          pos = c->start + (int64_t)i * c->step;
  const int64_t          k   = pos / c->rate;
  const int64_t          in  = pos % c->rate; /* of rate per step */
  /* gate: in < rate / 2; trig: in / step frames < rate / 1000 */
  return (Want){
    (uint32_t)(k % c->steps), 2 * in < c->rate, 1000 * in < c->step * c->rate};
}

static void
host_time(Rig* const r, const float bpm, const double beat, const bool rolling)
{
  r->time.known   = true;
  r->time.rolling = rolling;
  r->time.bpm     = bpm;
  r->time.beat    = beat;
  r->time.beats_per_frame =
    rolling ? (double)bpm / 60.0 / (double)r->rate : 0.0;
}

static void
test_host_time(void)
{
  for (size_t ri = 0; ri < n_rates(); ++ri) {
    const float  rate = rates[ri];
    const size_t n    = (size_t)(4.0 * (double)rate); /* 32 steps */
    /* From beat 0.3: step 2 (of 16ths), a fifth of it gone. */
    Seq s = seq_new(rate, n);
    rig_set(&s.r, "rate", 1.0f); /* ignored: the host's tempo rules */
    host_time(&s.r, 120.0f, 0.3, true);
    rig_run(&s.r, 0, n);
    /* 120 bpm, 4 steps a beat: 8 steps a second. */
    const HostClock c = {llround(1.2 * (double)rate), 8, (int64_t)rate, 16};
    const size_t    starts =
      check_frames(&s, 0, n, host_want, &c, "host 120 bpm from beat 0.3");
    size_t first = 0, gate = 0;
    for (; s.out[0][first] == s.out[0][0]; ++first) {
      gate += s.out[1][first] == 1.0f;
    }
    printf("# seq host 120 bpm division 4 @ %g, from beat 0.3: step 2 with "
           "its gate on for %zu frames, step 3 from frame %zu, then every "
           "%g frames (%zu steps); every frame as computed\n",
           (double)rate,
           gate,
           first,
           (double)rate / 8.0,
           starts);
    CHECK_VAL(s.out[0][0] == 200.0f, s.out[0][0]);
    CHECK_VAL(first == (size_t)llround(0.8 * (double)rate / 8.0), first);
    CHECK_VAL(starts == 32, starts);
    seq_free(&s);
  }
}

static void
test_host_stopped_and_tempo(void)
{
  const size_t n = 48000;
  Seq          s = seq_new(48000.0f, n);
  /* Stopped at beat 10.3: step floor(41.2) mod 16 = 9 (the 10th), held,
     silent. */
  host_time(&s.r, 120.0f, 10.3, false);
  rig_run(&s.r, 0, 10000);
  const float held = s.out[0][0];
  CHECK_VAL(min_of(s.out[0], 10000) == 1000.0f &&
              max_of(s.out[0], 10000) == 1000.0f,
            held);
  CHECK_VAL(max_of(s.out[1], 10000) == 0.0f, max_of(s.out[1], 10000));
  CHECK_VAL(max_of(s.out[2], 10000) == 0.0f, max_of(s.out[2], 10000));
  CHECK_VAL(s.r.time.beat == 10.3, s.r.time.beat);

  /* Rolling from there: step 10 for its last 0.8, then step 11. */
  host_time(&s.r, 120.0f, 10.3, true);
  rig_run(&s.r, 10000, 10000);
  printf("# seq host stopped at beat 10.3: out %g (step 10), gate and trig 0 "
         "for 10000 frames; rolling: step 11 from frame %d\n",
         (double)held,
         10000 + 4800);
  CHECK_VAL(s.out[0][10000 + 4799] == 1000.0f, s.out[0][14799]);
  CHECK_VAL(s.out[0][10000 + 4800] == 1100.0f && s.out[2][14800] == 1.0f,
            s.out[0][14800]);

  /* 120 bpm, then 90 from frame 15000 of a fresh run (3.7 steps in, from
     beat 0.3): the 0.3 step left takes 2400 frames, the next ones 8000. */
  seq_free(&s);
  s = seq_new(48000.0f, n);
  host_time(&s.r, 120.0f, 0.3, true);
  rig_run(&s.r, 0, 15000);
  const double beat = s.r.time.beat;
  host_time(&s.r, 90.0f, beat, true);
  rig_run(&s.r, 15000, n - 15000);
  size_t starts[8], count = 0;
  for (size_t i = 1; i < n && count < 8; ++i) {
    if (s.out[0][i] != s.out[0][i - 1]) {
      starts[count++] = i;
    }
  }
  printf("# seq host 120 -> 90 bpm at frame 15000 (beat %.4f): steps from "
         "frames %zu %zu %zu %zu %zu\n",
         beat,
         starts[0],
         starts[1],
         starts[2],
         starts[3],
         starts[4]);
  CHECK_VAL(fabs(beat - 0.925) < 1e-12, beat);
  CHECK_VAL(starts[0] == 4800 && starts[1] == 10800, starts[1]);
  CHECK_VAL(starts[2] == 17400, starts[2]);
  CHECK_VAL(starts[3] == 25400 && starts[4] == 33400, starts[3]);
  /* Gate at 90 bpm: half of 8000 frames. */
  size_t on = 0;
  for (size_t i = 17400; i < 25400; ++i) {
    on += s.out[1][i] == 1.0f;
  }
  CHECK_VAL(on == 4000, on);

  /* A bad position (NaN, infinite tempo) sounds nothing wrong, and the
     next good one plays on. */
  host_time(&s.r, 120.0f, NAN, true);
  rig_run(&s.r, 0, 1000);
  s.r.time.beat            = 1e300;
  s.r.time.beats_per_frame = INFINITY;
  rig_run(&s.r, 1000, 1000);
  host_time(&s.r, 120.0f, 0.0, true);
  rig_run(&s.r, 2000, 1000);
  for (int o = 0; o < N_OUT; ++o) {
    CHECK(hp_sig_finite(s.out[o], 3000));
  }
  CHECK_VAL(s.out[0][2000] == 100.0f && s.out[2][2000] == 1.0f, s.out[0][2000]);
  printf("# seq host beat NaN, then 1e300 at an infinite tempo: finite, "
         "then step 1 at beat 0\n");
  seq_free(&s);
}

/* Without gate and trig read, out alone is right. */
static void
test_out_alone(void)
{
  const size_t n = 6000 * 3;
  Seq          s = seq_new(48000.0f, n);
  s.r.out[1] = s.r.out[2] = NULL;
  rig_run(&s.r, 0, n);
  CHECK_VAL(s.out[0][5999] == 100.0f && s.out[0][6000] == 200.0f,
            s.out[0][6000]);
  CHECK_VAL(s.out[0][12000] == 300.0f, s.out[0][12000]);
  seq_free(&s);
}

int
main(void)
{
  test_own_clock();
  test_gate_length();
  test_steps_wrap();
  test_host_time();
  test_host_stopped_and_tempo();
  test_out_alone();
  printf("test_dsp_seq: all checks passed\n");
  return 0;
}
