/*
  The success metrics of the design hotpatch grew from (its "seed": a
  supervisor that primed modules over OSC), measured through the real
  plugin in the lilv test host:

  - no silent blocks while a sounding patch plays (the seed's "none-reads"),
  - prime time (hp:primeTime of every hp:Primed), p50/p90/p99/max,
  - first audio: host blocks from the block carrying the commit to the block
    carrying its hp:Swapped (and frames from the commit's event),
  - allocations, locks, sleeps and stdio inside run() (rtcheck),
  - warm-up RMS (hp:warmupRms) and RMS stability after the swap,
  - module state kept across swaps: the output against a reference instance
    that never swaps, and the largest sample step across each swap.

  Runs the seed's four scenarios (single oscillator; osc+adsr;
  osc+adsr+biquad; the multi-commit sequence) over many commit cycles with
  the seed's prime ops, in four host set-ups: a threaded worker (like jalv)
  at random block sizes 64..1024 and at a fixed 256, the same with no pacing
  at all (run() called back to back, racing the worker), and a synchronous
  worker (like Ardour's export).  Prints a markdown table and "# " lines.

  Usage: seed_metrics [COMMITS_PER_CHAIN]   (default 500)
  Exit status 1 if a seed target is missed (silence, no swap, an error, a
  forbidden call in run(), a sync swap off its frame).
*/

#include "check.h"
#include "host.h"
#include "rtcheck.h"
#include "seed.h"
#include "signal.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000.0
#define SILENCE_PEAK 1e-4f /* a block or window quieter than this is silent */
#define SILENT_WINDOW 256u /* frames */
#define RMS_WINDOW 1024u   /* frames */
#define RMS_WINDOWS 4u     /* windows measured after each crossfade */
#define CROSSFADE_MS 20.0  /* the crossfade port's default */
#define MAX_SWAP_WAIT (48000u * 10u) /* frames to wait for a swap */
#define MAX_COMMITS 4096

/* Host set-ups */

typedef struct {
  const char*  name;
  HpWorkerMode mode;
  bool         random_blocks; /* 64..1024, else fixed 256 */
  bool         wait;          /* wait for the worker after a commit block */
} Setup;

static const Setup setups[] = {
  {"threaded, random 64..1024, paced", HP_WORKER_THREADED, true, true},
  {"threaded, fixed 256, paced", HP_WORKER_THREADED, false, true},
  {"threaded, random 64..1024, no wait", HP_WORKER_THREADED, true, false},
  {"sync, random 64..1024", HP_WORKER_SYNC, true, false},
};
#define N_SETUPS (sizeof(setups) / sizeof(setups[0]))

/* The seed's chains */

typedef struct {
  const char* lines[8];   /* text-protocol edits before the commit */
  const char* modules[4]; /* "id type" pairs primed the seed's way */
} Step;

typedef struct {
  const char* name;
  Step        steps[3];
  int         n_steps;
} Chain;

static const Chain chains[] = {
  {"osc",
   {{{"/patch/clear", "/patch/create osc1 simple_sine"}, {"osc1 simple_sine"}}},
   1},
  {"osc+adsr",
   {{{"/patch/clear",
      "/patch/create osc1 simple_sine",
      "/patch/create env1 adsr",
      "/patch/connect osc1 env1"},
     {"osc1 simple_sine", "env1 adsr"}}},
   1},
  {"osc+adsr+biquad",
   {{{"/patch/clear",
      "/patch/create osc1 simple_sine",
      "/patch/create env1 adsr",
      "/patch/create filt1 biquad_filter",
      "/patch/connect osc1 env1",
      "/patch/connect env1 filt1"},
     {"osc1 simple_sine", "env1 adsr", "filt1 biquad_filter"}}},
   1},
  {"multi-commit",
   {{{"/patch/clear", "/patch/create osc1 simple_sine"}, {"osc1 simple_sine"}},
    {{"/patch/create env1 adsr", "/patch/connect osc1 env1"},
     {"osc1 simple_sine", "env1 adsr"}},
    {{"/patch/create filt1 biquad_filter", "/patch/connect env1 filt1"},
     {"osc1 simple_sine", "env1 adsr", "filt1 biquad_filter"}}},
   3},
};
#define N_CHAINS (sizeof(chains) / sizeof(chains[0]))

/* Small helpers */

static double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rng(const uint32_t lo, const uint32_t hi)
{
  rng_state ^= rng_state << 13u;
  rng_state ^= rng_state >> 7u;
  rng_state ^= rng_state << 17u;
  return lo + (uint32_t)(rng_state % ((uint64_t)hi - lo + 1u));
}

static int
cmp_double(const void* const a, const void* const b)
{
  const double x = *(const double*)a;
  const double y = *(const double*)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double* const sorted, const size_t n, const double q)
{
  if (!n) {
    return (double)NAN;
  }
  size_t rank = (size_t)ceil(q * (double)n);
  rank        = rank < 1 ? 1 : rank > n ? n : rank;
  return sorted[rank - 1];
}

typedef struct {
  double* v;
  size_t  n;
} Samples;

static void
push(Samples* const s, const double x)
{
  CHECK(s->n < MAX_COMMITS);
  s->v[s->n++] = x;
}

static void
sort_samples(Samples* const s)
{
  qsort(s->v, s->n, sizeof(double), cmp_double);
}

static double
max_of(const Samples* const s)
{
  double m = -HUGE_VAL;
  for (size_t i = 0; i < s->n; ++i) {
    m = s->v[i] > m ? s->v[i] : m;
  }
  return s->n ? m : (double)NAN;
}

static double
min_of(const Samples* const s)
{
  double m = HUGE_VAL;
  for (size_t i = 0; i < s->n; ++i) {
    m = s->v[i] < m ? s->v[i] : m;
  }
  return s->n ? m : (double)NAN;
}

/* One host driven block by block */

typedef struct {
  HpHost*      host;
  const Setup* setup;
  uint64_t     blocks;     /* blocks run */
  uint64_t     last_start; /* first frame of the last block run */

  /* Silence, counted from the first swap on. */
  bool     armed;
  uint64_t armed_from;     /* frame of the first swap */
  uint64_t blocks_checked; /* blocks wholly after the first swap */
  uint64_t silent_blocks;
  uint64_t frames_checked;
  uint64_t quiet_run; /* consecutive frames with |x| < SILENCE_PEAK */
  uint64_t longest_quiet;
  uint64_t silent_windows; /* quiet runs that reached SILENT_WINDOW frames */
} Run;

static HpHost*
make_host(const HpWorkerMode mode, const uint64_t seed)
{
  return hp_host_open(
    &(HpHostConfig){.worker_mode = mode, .sample_rate = RATE, .seed = seed});
}

static uint32_t
next_block(const Run* const r)
{
  return r->setup->random_blocks ? rng(64, 1024) : 256u;
}

/* Run one block, and count silence from the first swap on (any 256-frame
   stretch, at any alignment, whose samples are all below the threshold
   counts once, as do host blocks whose peak is below it). */
static void
run_block(Run* const r, const uint32_t n)
{
  CHECK_MSG(!hp_host_run(r->host, n), "run: %s", hp_host_last_error());
  ++r->blocks;
  const uint64_t start = hp_host_frames(r->host) - n;
  r->last_start        = start;
  if (!r->armed) {
    const HpHostEvent* sw =
      hp_host_find_event(r->host, HP_EV_SWAPPED, HP_SEQ_ANY);
    if (!sw) {
      return;
    }
    r->armed      = true;
    r->armed_from = sw->frame_abs;
  }
  const uint64_t rec0 = hp_host_recorded_start(r->host);
  const float*   l    = hp_host_out_l(r->host) + (start - rec0);
  const float*   rt   = hp_host_out_r(r->host) + (start - rec0);
  float          peak = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    if (start + i < r->armed_from) {
      continue;
    }
    const float a = fmaxf(fabsf(l[i]), fabsf(rt[i]));
    peak          = fmaxf(peak, a);
    ++r->frames_checked;
    if (a < SILENCE_PEAK) {
      if (++r->quiet_run == SILENT_WINDOW) {
        ++r->silent_windows;
      }
      r->longest_quiet =
        r->quiet_run > r->longest_quiet ? r->quiet_run : r->longest_quiet;
    } else {
      r->quiet_run = 0;
    }
  }
  if (start >= r->armed_from) {
    ++r->blocks_checked;
    r->silent_blocks += peak < SILENCE_PEAK;
  }
}

static void
send_line(HpHost* const host, const uint64_t frame, const char* const line)
{
  CHECK_MSG(!hp_host_send_text(host, frame, -1, line),
            "%s: %s",
            line,
            hp_host_last_error());
}

/* Send a step's edits and its commit (primed the seed's way) at `frame`. */
static void
send_step(HpHost* const     host,
          const uint64_t    frame,
          const Step* const step,
          const int         seq,
          const bool        crossfade0,
          const char* const rename_osc)
{
  HpPrimeOp primes[32];
  char      ids[4][32];
  uint32_t  n = 0;
  for (int i = 0; i < 8 && step->lines[i]; ++i) {
    char line[160];
    snprintf(line, sizeof(line), "%s", step->lines[i]);
    if (rename_osc) {
      /* "osc1" -> the new name, in creates and connects alike */
      char* at = strstr(line, "osc1");
      if (at) {
        char rest[160];
        snprintf(rest, sizeof(rest), "%s", at + 4);
        snprintf(
          at, sizeof(line) - (size_t)(at - line), "%s%s", rename_osc, rest);
      }
    }
    send_line(host, frame, line);
  }
  for (int m = 0; m < 4 && step->modules[m]; ++m) {
    char type[32];
    CHECK(sscanf(step->modules[m], "%31s %31s", ids[m], type) == 2);
    if (rename_osc && !strcmp(ids[m], "osc1")) {
      snprintf(ids[m], sizeof(ids[m]), "%s", rename_osc);
    }
    n += seed_primes(ids[m], type, primes + n);
  }
  HpHostCommit opts = {false, 0, crossfade0, 0.0f, false, false, primes, n};
  CHECK_MSG(!hp_host_send_commit(host, frame, seq, &opts),
            "commit: %s",
            hp_host_last_error());
}

/* What a commit cycle measured. */
typedef struct {
  Samples  prime_ms;
  Samples  warmup_rms;
  Samples  latency_blocks;
  Samples  latency_frames;
  Samples  latency_us; /* wall time, commit block's run() to the swap's */
  Samples  rms_ratio;
  Samples  step_ratio;
  uint64_t commits;
  uint64_t swaps;
  uint64_t no_swap;
  uint64_t errors;
  uint64_t off_frame;       /* sync swaps not at the commit's frame */
  uint64_t in_commit_block; /* threaded: swapped at the commit's own frame
                               (the worker finished before schedule_work()
                               returned, and run() looked again) */
  uint64_t
         off_grid; /* threaded: neither that nor a later block's first frame */
  double wall_s;
  HpRtCounts rt;
  bool       rt_available;
  uint64_t   silent_blocks, blocks_checked, silent_windows, longest_quiet;
  uint64_t   frames_checked;
  char       first_error[200];
} Stats;

static void
stats_init(Stats* const s)
{
  memset(s, 0, sizeof(*s));
  Samples* all[] = {&s->prime_ms,
                    &s->warmup_rms,
                    &s->latency_blocks,
                    &s->latency_frames,
                    &s->latency_us,
                    &s->rms_ratio,
                    &s->step_ratio};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i) {
    all[i]->v = (double*)calloc(MAX_COMMITS, sizeof(double));
    CHECK(all[i]->v);
  }
}

static void
stats_free(Stats* const s)
{
  free(s->prime_ms.v);
  free(s->warmup_rms.v);
  free(s->latency_blocks.v);
  free(s->latency_frames.v);
  free(s->latency_us.v);
  free(s->rms_ratio.v);
  free(s->step_ratio.v);
}

/* One commit cycle: edits and commit at a random frame of the next block;
   run until its hp:Swapped (after the commit block, a paced set-up waits
   for the worker, as a block of real time would); then play on through the
   crossfade and RMS_WINDOWS windows, and measure. `prev_step` carries the
   steady step of the patch that was playing. */
static void
commit_cycle(Run* const        r,
             const Step* const step,
             const int         seq,
             Stats* const      s,
             float* const      prev_step)
{
  HpHost* const host = r->host;
  hp_host_clear_events(host);
  hp_host_discard_output(host);
  const uint64_t cycle_start = hp_host_frames(host);
  const uint32_t n           = next_block(r);
  const uint64_t at          = cycle_start + rng(0, n - 1);
  send_step(host, at, step, seq, false, NULL);
  ++s->commits;

  const uint64_t commit_block = r->blocks;
  const double   t_commit     = now_s();
  run_block(r, n);
  if (r->setup->wait) {
    CHECK_MSG(!hp_host_wait_worker(host, 2000), "%s", hp_host_last_error());
  }
  const HpHostEvent* ev = NULL;
  while (!(ev = hp_host_find_event(host, HP_EV_SWAPPED, seq)) &&
         hp_host_frames(host) - at < MAX_SWAP_WAIT) {
    run_block(r, next_block(r));
  }
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* e = hp_host_event(host, i);
    if (e->kind == HP_EV_ERROR) {
      if (!s->errors++) {
        snprintf(s->first_error,
                 sizeof(s->first_error),
                 "%s",
                 e->message ? e->message : "(no message)");
      }
    }
  }
  if (!ev) {
    ++s->no_swap;
    return;
  }
  ++s->swaps;
  push(&s->latency_us, (now_s() - t_commit) * 1e6);
  const uint64_t swap        = ev->frame_abs;
  const uint64_t swap_block0 = ev->block_start;
  const int64_t  swap_offset = ev->frame;
  /* It was found right after the block that carried it. */
  CHECK(swap_block0 == r->last_start);
  push(&s->latency_blocks, (double)(r->blocks - 1 - commit_block));
  push(&s->latency_frames, (double)(swap - at));
  if (r->setup->mode == HP_WORKER_SYNC) {
    s->off_frame += swap != at;
  } else {
    if (swap == at && r->blocks - 1 == commit_block) {
      ++s->in_commit_block;
    } else {
      s->off_grid += swap_offset != 0 || r->blocks - 1 == commit_block;
    }
  }
  const HpHostEvent* primed = hp_host_find_event(host, HP_EV_PRIMED, seq);
  if (primed) {
    push(&s->prime_ms, primed->prime_ms);
    push(&s->warmup_rms, primed->warmup_rms);
  }

  /* Play on: the crossfade, a little slack, then the RMS windows. */
  const uint64_t fade = (uint64_t)(CROSSFADE_MS * RATE / 1000.0);
  const uint64_t hold = fade + 8u + RMS_WINDOWS * RMS_WINDOW;
  while (hp_host_frames(host) < swap + hold) {
    run_block(r, next_block(r));
  }
  const float*   l    = hp_host_out_l(host);
  const uint64_t rec0 = hp_host_recorded_start(host);
  const size_t   end  = hp_host_recorded(host);
  const size_t   sw   = (size_t)(swap - rec0);
  const size_t   solo = sw + (size_t)fade + 8u;

  double lo = HUGE_VAL;
  double hi = 0.0;
  for (uint32_t w = 0; w < RMS_WINDOWS; ++w) {
    const double rms = hp_sig_rms(l + solo + w * RMS_WINDOW, RMS_WINDOW);
    lo               = rms < lo ? rms : lo;
    hi               = rms > hi ? rms : hi;
  }
  push(&s->rms_ratio, lo > 0.0 ? hi / lo : HUGE_VAL);

  /* The largest step across the swap and its crossfade, against the largest
     step each patch makes on its own (the old one measured last cycle). */
  const size_t from  = sw > 0 ? sw - 1 : 0;
  const float across = hp_sig_max_step(l + from, sw + (size_t)fade + 2u - from);
  const float after  = hp_sig_max_step(l + solo, end - solo);
  if (*prev_step > 0.0f) {
    push(&s->step_ratio,
         (double)(across / fmaxf(fmaxf(*prev_step, after), 1e-6f)));
  }
  *prev_step = after;
}

static void
run_chain(const Setup* const setup,
          const Chain* const chain,
          const int          commits,
          const uint64_t     seed,
          Stats* const       s)
{
  Run r;
  memset(&r, 0, sizeof(r));
  r.setup         = setup;
  r.host          = make_host(setup->mode, seed);
  const double t0 = now_s();
  hp_rt_reset();
  float prev_step = 0.0f;
  for (int c = 0; c < commits; ++c) {
    commit_cycle(&r, &chain->steps[c % chain->n_steps], c, s, &prev_step);
  }
  hp_rt_counts(&s->rt);
  s->rt_available   = hp_rt_available();
  s->wall_s         = now_s() - t0;
  s->silent_blocks  = r.silent_blocks;
  s->blocks_checked = r.blocks_checked;
  s->silent_windows = r.silent_windows;
  s->longest_quiet  = r.longest_quiet;
  s->frames_checked = r.frames_checked;
  hp_host_free(r.host);
}

/* Module state across swaps: the same chain re-committed (clear + the same
   modules, crossfade 0) against a reference instance that got only the
   first commit, block for block alike.  Kept state plays on exactly; the
   last N_CONTROL commits rename the oscillator each time (fresh state) as a
   control: their difference shows what lost state would look like. */
#define N_CONTROL 8
typedef struct {
  int    compared;
  int    continuous;
  double max_diff;
  double control_min;
  double control_max;
} Continuity;

static void
run_continuity(const Chain* const chain,
               const int          commits,
               Continuity* const  out)
{
  static const Setup paced = {"ref", HP_WORKER_THREADED, true, true};
  Run                main_run;
  Run                ref_run;
  memset(&main_run, 0, sizeof(main_run));
  memset(&ref_run, 0, sizeof(ref_run));
  main_run.setup = ref_run.setup = &paced;
  main_run.host                  = make_host(HP_WORKER_THREADED, 77);
  ref_run.host                   = make_host(HP_WORKER_THREADED, 77);
  memset(out, 0, sizeof(*out));
  out->control_min = HUGE_VAL;
  const Step* step = &chain->steps[0];

  for (int c = 0; c < commits + N_CONTROL; ++c) {
    const bool control = c >= commits;
    char       renamed[16];
    snprintf(renamed, sizeof(renamed), "osc%d", 100 + c);
    HpHost* hosts[2] = {main_run.host, ref_run.host};
    for (int h = 0; h < 2; ++h) {
      hp_host_clear_events(hosts[h]);
      hp_host_discard_output(hosts[h]);
    }
    const uint32_t n  = next_block(&main_run);
    const uint64_t at = hp_host_frames(main_run.host) + rng(0, n - 1);
    send_step(main_run.host, at, step, c, true, control ? renamed : NULL);
    if (!c) {
      send_step(ref_run.host, at, step, c, true, NULL);
    }
    run_block(&main_run, n);
    run_block(&ref_run, n);
    CHECK(!hp_host_wait_worker(main_run.host, 2000));
    CHECK(!hp_host_wait_worker(ref_run.host, 2000));
    const HpHostEvent* ev;
    while (!(ev = hp_host_find_event(main_run.host, HP_EV_SWAPPED, c)) &&
           hp_host_frames(main_run.host) - at < MAX_SWAP_WAIT) {
      const uint32_t m = next_block(&main_run);
      run_block(&main_run, m);
      run_block(&ref_run, m);
    }
    CHECK_MSG(ev, "continuity: commit %d never swapped", c);
    const uint64_t swap = ev->frame_abs;
    if (!c) {
      const HpHostEvent* rev =
        hp_host_find_event(ref_run.host, HP_EV_SWAPPED, 0);
      CHECK_MSG(rev && rev->frame_abs == swap, "reference swapped elsewhere");
    }
    while (hp_host_frames(main_run.host) < swap + 2048u) {
      const uint32_t m = next_block(&main_run);
      run_block(&main_run, m);
      run_block(&ref_run, m);
    }
    if (!c) {
      continue;
    }
    CHECK(hp_host_recorded_start(main_run.host) ==
          hp_host_recorded_start(ref_run.host));
    const size_t rec0 = (size_t)hp_host_recorded_start(main_run.host);
    const size_t from =
      (size_t)swap - rec0 > 256u ? (size_t)swap - rec0 - 256u : 0u;
    const size_t to   = (size_t)swap - rec0 + 2048u;
    double       diff = 0.0;
    for (size_t i = from; i < to; ++i) {
      const double d = fabs((double)hp_host_out_l(main_run.host)[i] -
                            (double)hp_host_out_l(ref_run.host)[i]);
      diff           = d > diff ? d : diff;
    }
    if (control) {
      out->control_min = diff < out->control_min ? diff : out->control_min;
      out->control_max = diff > out->control_max ? diff : out->control_max;
    } else {
      ++out->compared;
      out->continuous += diff <= 1e-6;
      out->max_diff = diff > out->max_diff ? diff : out->max_diff;
    }
  }
  hp_host_free(main_run.host);
  hp_host_free(ref_run.host);
}

/* The RMS ratio a perfectly steady 440 Hz sine shows in the same windows
   (1024 frames are not a whole number of periods): the measurement floor. */
static double
sine_rms_floor(void)
{
  static float x[RMS_WINDOWS * RMS_WINDOW];
  double       worst = 1.0;
  for (int p = 0; p < 64; ++p) {
    const double phase = 6.283185307179586 * p / 64.0;
    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); ++i) {
      x[i] = (float)(0.2 *
                     sin(6.283185307179586 * 440.0 * (double)i / RATE + phase));
    }
    double lo = HUGE_VAL;
    double hi = 0.0;
    for (uint32_t w = 0; w < RMS_WINDOWS; ++w) {
      const double rms = hp_sig_rms(x + w * RMS_WINDOW, RMS_WINDOW);
      lo               = rms < lo ? rms : lo;
      hi               = rms > hi ? rms : hi;
    }
    worst = hi / lo > worst ? hi / lo : worst;
  }
  return worst;
}

/* Printing */

static void
fmt_pct(char* const buf, const size_t size, Samples* const s)
{
  if (!s->n) {
    snprintf(buf, size, "n/a");
    return;
  }
  sort_samples(s);
  snprintf(buf,
           size,
           "%.3f / %.3f / %.3f / %.3f",
           pct(s->v, s->n, 0.5),
           pct(s->v, s->n, 0.9),
           pct(s->v, s->n, 0.99),
           s->v[s->n - 1]);
}

static void
rt_kinds(char* const buf, const size_t size, const HpRtCounts* const c)
{
  const struct {
    const char* name;
    uint64_t    n;
  } k[]       = {{"malloc", c->malloc},
                 {"calloc", c->calloc},
                 {"realloc", c->realloc},
                 {"free", c->free},
                 {"posix_memalign", c->posix_memalign},
                 {"aligned_alloc", c->aligned_alloc},
                 {"memalign", c->memalign},
                 {"reallocarray", c->reallocarray},
                 {"mutex_lock", c->mutex_lock},
                 {"mutex_trylock", c->mutex_trylock},
                 {"mutex_unlock", c->mutex_unlock},
                 {"cond_wait", c->cond_wait},
                 {"cond_signal", c->cond_signal},
                 {"rwlock", c->rwlock},
                 {"sem_wait", c->sem_wait},
                 {"sem_post", c->sem_post},
                 {"sleep", c->sleep},
                 {"stdio", c->stdio},
                 {"write", c->write}};
  size_t used = 0;
  buf[0]      = '\0';
  for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); ++i) {
    const int w = snprintf(buf + used,
                           size - used,
                           "%s%s %llu",
                           i ? ", " : "",
                           k[i].name,
                           (unsigned long long)k[i].n);
    if (w < 0 || (size_t)w >= size - used) {
      break;
    }
    used += (size_t)w;
  }
}

int
main(int argc, char** argv)
{
  const int commits = argc > 1 ? atoi(argv[1]) : 500;
  CHECK_MSG(commits >= 3 && commits <= MAX_COMMITS,
            "commits %d out of 3..%d",
            commits,
            MAX_COMMITS);
  const bool rt_ok = hp_rt_available();
  if (rt_ok) {
    CHECK_MSG(!hp_rt_check_linkage(),
              "rtcheck linkage: %s (link with -rdynamic)",
              hp_rt_check_linkage());
  }
  /* The counters count in this process: a malloc and free under the flag. */
  uint64_t rt_self = 0;
  if (rt_ok) {
    hp_rt_reset();
    const bool was   = hp_rt_set_active(true);
    void* volatile p = malloc(16);
    free(p);
    hp_rt_set_active(was);
    HpRtCounts c;
    hp_rt_counts(&c);
    rt_self = c.total;
    hp_rt_reset();
  }
  const double t_start = now_s();

  static Stats stats[N_SETUPS][N_CHAINS];
  for (size_t u = 0; u < N_SETUPS; ++u) {
    for (size_t c = 0; c < N_CHAINS; ++c) {
      stats_init(&stats[u][c]);
      run_chain(
        &setups[u], &chains[c], commits, 1000u + u * 10u + c, &stats[u][c]);
    }
  }
  const int  cont_commits = commits < 200 ? commits : 200;
  Continuity cont[3];
  for (size_t c = 0; c < 3; ++c) {
    run_continuity(&chains[c], cont_commits, &cont[c]);
  }
  const double elapsed = now_s() - t_start;

  printf("# seed success metrics through the plugin in the lilv test host, "
         "48 kHz, %d commits per chain and set-up, seed prime ops, "
         "crossfade %.0f ms (port default)\n",
         commits,
         CROSSFADE_MS);
  printf("# paced: after each block that carries a commit the bench calls "
         "hp_host_wait_worker(host, 2000); this models a real-time host, where "
         "a block (1.3 to 21 ms at 64..1024 frames) lasts longer than a prime. "
         "no wait: run() is called back to back and races the worker thread "
         "(pure throughput).\n");
  printf("\n");
  printf(
    "| set-up | chain | commits | swaps | silent blocks | silent 256-frame "
    "windows | prime ms p50 / p90 / p99 / max | first audio, blocks p50 / "
    "p99 / max | frames from commit to swap max | warm-up RMS min..max | "
    "RMS ratio after swap, worst | step ratio at swap, worst | forbidden "
    "calls in run() | wall s |\n");
  printf(
    "|---|---|---:|---:|---:|---:|---|---|---:|---|---:|---:|---:|---:|\n");
  int failures = 0;
  for (size_t u = 0; u < N_SETUPS; ++u) {
    for (size_t c = 0; c < N_CHAINS; ++c) {
      Stats* s = &stats[u][c];
      char   prime[96];
      fmt_pct(prime, sizeof(prime), &s->prime_ms);
      sort_samples(&s->latency_blocks);
      char rt[32];
      if (s->rt_available) {
        snprintf(rt, sizeof(rt), "%llu", (unsigned long long)s->rt.total);
      } else {
        snprintf(rt, sizeof(rt), "n/a");
      }
      printf(
        "| %s | %s | %llu | %llu | %llu of %llu | %llu | %s | %.0f / %.0f / "
        "%.0f | %.0f | %.4f..%.4f | %.4f | %.3f | %s | %.1f |\n",
        setups[u].name,
        chains[c].name,
        (unsigned long long)s->commits,
        (unsigned long long)s->swaps,
        (unsigned long long)s->silent_blocks,
        (unsigned long long)s->blocks_checked,
        (unsigned long long)s->silent_windows,
        prime,
        pct(s->latency_blocks.v, s->latency_blocks.n, 0.5),
        pct(s->latency_blocks.v, s->latency_blocks.n, 0.99),
        max_of(&s->latency_blocks),
        max_of(&s->latency_frames),
        min_of(&s->warmup_rms),
        max_of(&s->warmup_rms),
        max_of(&s->rms_ratio),
        max_of(&s->step_ratio),
        rt,
        s->wall_s);
    }
  }
  printf("\n");
  printf(
    "| chain (threaded, random blocks, crossfade 0) | swaps compared with a "
    "never-swapping reference | sample-identical (<= 1e-6) | largest "
    "difference | control: oscillator renamed, fresh state (%d commits), "
    "difference min..max |\n",
    N_CONTROL);
  printf("|---|---:|---:|---:|---:|\n");
  for (size_t c = 0; c < 3; ++c) {
    printf("| %s | %d | %d | %.2e | %.4f..%.4f |\n",
           chains[c].name,
           cont[c].compared,
           cont[c].continuous,
           cont[c].max_diff,
           cont[c].control_min,
           cont[c].control_max);
  }
  printf("\n");

  /* Summary against the seed's targets */
  for (size_t u = 0; u < N_SETUPS; ++u) {
    uint64_t   silent = 0, windows = 0, swaps = 0, commits_sent = 0, errors = 0;
    uint64_t   blocks = 0, frames = 0;
    uint64_t   no_swap = 0, longest = 0, off = 0, in_block = 0, off_grid = 0;
    double     lat_max = 0.0, prime_max = 0.0;
    HpRtCounts rt;
    memset(&rt, 0, sizeof(rt));
    const char* first_error = NULL;
    Samples     us;
    us.v = (double*)calloc(MAX_COMMITS * N_CHAINS, sizeof(double));
    us.n = 0;
    CHECK(us.v);
    for (size_t c = 0; c < N_CHAINS; ++c) {
      const Stats* s = &stats[u][c];
      memcpy(us.v + us.n, s->latency_us.v, s->latency_us.n * sizeof(double));
      us.n += s->latency_us.n;
      silent += s->silent_blocks;
      blocks += s->blocks_checked;
      frames += s->frames_checked;
      windows += s->silent_windows;
      swaps += s->swaps;
      commits_sent += s->commits;
      errors += s->errors;
      no_swap += s->no_swap;
      off += s->off_frame;
      in_block += s->in_commit_block;
      off_grid += s->off_grid;
      longest   = s->longest_quiet > longest ? s->longest_quiet : longest;
      lat_max   = fmax(lat_max, max_of(&s->latency_blocks));
      prime_max = fmax(prime_max, max_of(&s->prime_ms));
      if (s->errors && !first_error) {
        first_error = s->first_error;
      }
      const uint64_t* a = &s->rt.malloc;
      uint64_t*       b = &rt.malloc;
      for (size_t k = 0; k < sizeof(rt) / sizeof(uint64_t); ++k) {
        b[k] += a[k];
      }
    }
    sort_samples(&us);
    printf(
      "# %s: %llu commits, %llu swaps, %llu never swapped, %llu errors%s%s; "
      "%llu silent blocks of %llu and %llu silent 256-frame windows in %.1f s "
      "of audio after the first swap (longest quiet stretch %llu frames; "
      "target 0); first audio at most %.0f blocks after the commit's block",
      setups[u].name,
      (unsigned long long)commits_sent,
      (unsigned long long)swaps,
      (unsigned long long)no_swap,
      (unsigned long long)errors,
      first_error ? ": " : "",
      first_error ? first_error : "",
      (unsigned long long)silent,
      (unsigned long long)blocks,
      (unsigned long long)windows,
      (double)frames / RATE,
      (unsigned long long)longest,
      lat_max);
    if (setups[u].mode == HP_WORKER_SYNC) {
      printf(", %llu swaps off the commit's frame (target 0: sample-accurate)",
             (unsigned long long)off);
    } else {
      printf(
        ", %llu swaps at the commit's own frame (the worker finished "
        "before schedule_work() returned), %llu at a later block's first "
        "frame, %llu elsewhere (target 0); wall time from the "
        "commit block's run() to the swap's: p50 %.0f, p99 %.0f, max %.0f us",
        (unsigned long long)in_block,
        (unsigned long long)(swaps - in_block - off_grid),
        (unsigned long long)off_grid,
        pct(us.v, us.n, 0.5),
        pct(us.v, us.n, 0.99),
        us.n ? us.v[us.n - 1] : (double)NAN);
    }
    printf("; slowest prime %.3f ms (seed target < 50 ms)\n", prime_max);
    if (rt_ok) {
      char kinds[600];
      rt_kinds(kinds, sizeof(kinds), &rt);
      printf("# %s: %llu forbidden calls in run() (%s)\n",
             setups[u].name,
             (unsigned long long)rt.total,
             kinds);
      if (rt.total) {
        hp_rt_print(stdout, &rt);
      }
    }
    free(us.v);
    failures += silent || windows || no_swap || errors || off_grid ||
                (rt_ok && rt.total) ||
                (setups[u].mode == HP_WORKER_SYNC && (off || lat_max > 0.0));
  }
  if (!rt_ok) {
    printf("# rtcheck unavailable: %s\n", hp_rt_unavailable_reason());
  } else {
    printf("# rtcheck self-test: one malloc and one free made under the "
           "real-time flag counted %llu calls (expected 2); the plugin binds "
           "to the counting functions (hp_rt_check_linkage)\n",
           (unsigned long long)rt_self);
    failures += rt_self != 2;
  }
  printf("# RMS ratio floor: a perfectly steady 440 Hz sine in the same "
         "%u-frame windows reads up to %.4f (windows are not whole periods)\n",
         RMS_WINDOW,
         sine_rms_floor());
  for (size_t c = 0; c < N_CHAINS; ++c) {
    Samples all;
    all.v = (double*)calloc(MAX_COMMITS * N_SETUPS, sizeof(double));
    all.n = 0;
    CHECK(all.v);
    for (size_t u = 0; u < N_SETUPS; ++u) {
      memcpy(all.v + all.n,
             stats[u][c].prime_ms.v,
             stats[u][c].prime_ms.n * sizeof(double));
      all.n += stats[u][c].prime_ms.n;
    }
    sort_samples(&all);
    printf("# prime time, %s, all set-ups (%zu primes): p50 %.3f, p90 %.3f, "
           "p99 %.3f, max %.3f ms (seed < 50 ms%s)\n",
           chains[c].name,
           all.n,
           pct(all.v, all.n, 0.5),
           pct(all.v, all.n, 0.9),
           pct(all.v, all.n, 0.99),
           all.n ? all.v[all.n - 1] : (double)NAN,
           c == 2 ? "; target < 0.2 ms" : "");
    free(all.v);
  }
  for (size_t c = 0; c < 3; ++c) {
    printf(
      "# module state across swaps, %s: %d of %d re-commits play on "
      "sample-identical to an instance that never swapped (largest "
      "difference %.2e); an oscillator renamed in %d commits (fresh state) "
      "differs by %.4f..%.4f\n",
      chains[c].name,
      cont[c].continuous,
      cont[c].compared,
      cont[c].max_diff,
      N_CONTROL,
      cont[c].control_min,
      cont[c].control_max);
    failures += cont[c].continuous != cont[c].compared;
  }
  printf("# bench wall time %.1f s\n", elapsed);
  for (size_t u = 0; u < N_SETUPS; ++u) {
    for (size_t c = 0; c < N_CHAINS; ++c) {
      stats_free(&stats[u][c]);
    }
  }
  if (failures) {
    printf("# %d seed target(s) missed\n", failures);
  }
  return failures ? 1 : 0;
}
