/*
  Hot swap through the lilv test host, with a threaded worker (like jalv)
  and a synchronous one (like Ardour's export): the seed's four scenarios,
  sample-accurate swaps, phase continuity, 1,000 random commit cycles with
  click and silence checks, and the real-time proof.
*/

#include "fixture.h"
#include "host.h"
#include "rtcheck.h"
#include "seed.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char* lines[8];   /* text-protocol edits before the commit */
  const char* modules[4]; /* "id type" pairs primed the seed's way */
} Step;

/* Render until the commit with `seq` swaps; check when it swapped. */
static const HpHostEvent*
commit_and_swap(HpHost* const          host,
                const HpWorkerMode     mode,
                const int              seq,
                const HpPrimeOp* const primes,
                const uint32_t         n_primes)
{
  const uint64_t at   = hp_host_frames(host);
  HpHostCommit   opts = {false, 0, false, 0.0f, false, false, primes, n_primes};
  CHECK(!hp_host_send_commit(host, at, seq, &opts));
  /* The block that carries the commit schedules the worker; let the worker
     thread finish as real time would before running on. */
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, 5000));
  const HpHostEvent* swapped = hp_host_find_event(host, HP_EV_SWAPPED, seq);
  if (!swapped) {
    swapped =
      hp_host_run_until(host, HP_EV_SWAPPED, seq, 256, (uint64_t)RATE * 2);
  }
  CHECK_MSG(swapped, "commit %d never swapped", seq);
  const HpHostEvent* primed = hp_host_find_event(host, HP_EV_PRIMED, seq);
  CHECK(primed);
  if (mode == HP_WORKER_SYNC) {
    /* The worker runs inside schedule_work(): the swap is at the commit's
       own frame. */
    CHECK_MSG(swapped->frame_abs == at,
              "swapped at %llu, committed at %llu",
              (unsigned long long)swapped->frame_abs,
              (unsigned long long)at);
  } else {
    /* Audible from the first cycle after readiness is published. */
    CHECK_MSG(swapped->block_start <= primed->block_start + 256,
              "primed in the block at %llu, swapped at %llu",
              (unsigned long long)primed->block_start,
              (unsigned long long)swapped->frame_abs);
  }
  return swapped;
}

/* No 256-frame window after `from` is silent. */
static void
check_no_silence(HpHost* const     host,
                 const uint64_t    from,
                 const char* const what)
{
  const float*   l     = hp_host_out_l(host);
  const uint64_t start = hp_host_recorded_start(host);
  const size_t   n     = hp_host_recorded(host);
  for (size_t i = (size_t)(from - start); i + 256 <= n; i += 128) {
    CHECK_MSG(hp_sig_peak(l + i, 256) > 1e-4f,
              "%s: silent window at frame %llu",
              what,
              (unsigned long long)(start + i));
  }
}

static void
test_seed_scenarios(const HpWorkerMode mode)
{
  static const Step scenarios[4][3] = {
    /* 1: single oscillator */
    {{{"/patch/create osc1 simple_sine"}, {"osc1 simple_sine"}}},
    /* 2: oscillator + ADSR */
    {{{"/patch/create osc1 simple_sine",
       "/patch/create env1 adsr",
       "/patch/connect osc1 env1"},
      {"osc1 simple_sine", "env1 adsr"}}},
    /* 3: full chain */
    {{{"/patch/create osc1 simple_sine",
       "/patch/create env1 adsr",
       "/patch/create filt1 biquad_filter",
       "/patch/connect osc1 env1",
       "/patch/connect env1 filt1"},
      {"osc1 simple_sine", "env1 adsr", "filt1 biquad_filter"}}},
    /* 4: multi-commit cycles */
    {{{"/patch/create osc1 simple_sine"}, {"osc1 simple_sine"}},
     {{"/patch/create env1 adsr", "/patch/connect osc1 env1"},
      {"osc1 simple_sine", "env1 adsr"}},
     {{"/patch/create filt1 biquad_filter", "/patch/connect env1 filt1"},
      {"osc1 simple_sine", "env1 adsr", "filt1 biquad_filter"}}},
  };
  for (int s = 0; s < 4; ++s) {
    HpHost* host = fx_host(mode, 10u + (uint64_t)s);
    /* A fresh instance plays the default patch: scripts begin with clear. */
    fx_send(host, -1, "/patch/clear");
    uint64_t first_swap = 0;
    for (int c = 0; c < 3 && scenarios[s][c].lines[0]; ++c) {
      const Step* step = &scenarios[s][c];
      for (int i = 0; i < 8 && step->lines[i]; ++i) {
        fx_send(host, -1, step->lines[i]);
      }
      HpPrimeOp primes[32];
      char      ids[4][32];
      uint32_t  n = 0;
      for (int m = 0; m < 4 && step->modules[m]; ++m) {
        char type[32];
        sscanf(step->modules[m], "%31s %31s", ids[m], type);
        n += seed_primes(ids[m], type, primes + n);
      }
      const HpHostEvent* sw = commit_and_swap(host, mode, 100 + c, primes, n);
      if (!c) {
        first_swap = sw->frame_abs;
      }
      CHECK(!hp_host_render(
        host, 12000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
    }
    CHECK(!hp_host_render(
      host, 24000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 4096}));
    char what[64];
    snprintf(what, sizeof(what), "scenario %d (%s)", s + 1, fx_mode_name(mode));
    check_no_silence(host, first_swap, what);
    const size_t n = hp_host_recorded(host);
    const float* l = hp_host_out_l(host);
    CHECK(hp_sig_finite(l, n));
    const double f   = hp_sig_freq(l + n - 24000, 24000, RATE);
    const double rms = hp_sig_rms(l + n - 24000, 24000);
    CHECK_MSG(fabs(f - 440.0) < 0.1, "%s: pitch %.4f", what, f);
    /* Sine gain 0.2 (RMS 0.141), times sustain 0.7 behind an envelope. */
    const double want = s == 0 ? 0.1414 : 0.0990;
    CHECK_MSG(
      fabs(rms - want) < 0.01, "%s: rms %.4f, expected %.4f", what, rms, want);
    printf(
      "# seed scenario %d, %s worker: %.4f Hz, RMS %.4f, no silent window\n",
      s + 1,
      fx_mode_name(mode),
      f,
      rms);
    hp_host_free(host);
  }
}

/* A random valid patch: 1 to 3 oscillators, maybe through an envelope
   (gated by a prime op) and a low-pass filter, with ids of its own (a
   live hp:Set to an id that is playing changes the playing patch too).
   One cycle in three edits the playing patch instead: a kept oscillator is
   retuned live and a module is added, so state carries over. */
static uint32_t
random_patch(HpHost* const    host,
             const int        cycle,
             HpPrimeOp* const primes,
             char (*names)[16])
{
  static const char* const types[]     = {"sine", "saw", "square", "triangle"};
  static int               patch_cycle = 0;
  char                     line[160];
  uint32_t                 n_primes = 0;
  if (cycle > 0 && hp_host_random(host, 0, 2) == 0) {
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_o0 freq %u",
             patch_cycle,
             hp_host_random(host, 100, 1500));
    fx_send(host, -1, line);
    snprintf(line, sizeof(line), "/patch/create x%d sine", cycle);
    fx_send(host, -1, line);
    return 0;
  }
  patch_cycle = cycle;
  const int c = cycle;
  fx_send(host, -1, "/patch/clear");
  const uint32_t n_osc = hp_host_random(host, 1, 3);
  const bool     env   = hp_host_random(host, 0, 1);
  const bool     filt  = hp_host_random(host, 0, 1);
  char           to[32];
  snprintf(to, sizeof(to), env ? "c%d_env" : filt ? "c%d_filt" : "out", c);
  if (env) {
    snprintf(line, sizeof(line), "/patch/create c%d_env adsr", c);
    fx_send(host, -1, line);
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_env attack %u",
             c,
             hp_host_random(host, 0, 20));
    fx_send(host, -1, line);
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_env sustain 0.%u",
             c,
             hp_host_random(host, 5, 9));
    fx_send(host, -1, line);
    snprintf(names[0], 16, "c%d_env", c);
    primes[n_primes++] = (HpPrimeOp){"gate", names[0], NULL, 1.0f};
  }
  if (filt) {
    snprintf(line, sizeof(line), "/patch/create c%d_filt biquad", c);
    fx_send(host, -1, line);
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_filt cutoff %u",
             c,
             hp_host_random(host, 500, 8000));
    fx_send(host, -1, line);
  }
  for (uint32_t i = 0; i < n_osc; ++i) {
    snprintf(line,
             sizeof(line),
             "/patch/create c%d_o%u %s",
             c,
             i,
             types[hp_host_random(host, 0, 3)]);
    fx_send(host, -1, line);
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_o%u freq %u",
             c,
             i,
             hp_host_random(host, 100, 1500));
    fx_send(host, -1, line);
    snprintf(line,
             sizeof(line),
             "/patch/set c%d_o%u gain 0.%u",
             c,
             i,
             hp_host_random(host, 1, 3));
    fx_send(host, -1, line);
    snprintf(line, sizeof(line), "/patch/connect c%d_o%u %s", c, i, to);
    fx_send(host, -1, line);
  }
  if (env) {
    snprintf(
      line, sizeof(line), "/patch/connect c%d_env %s", c, filt ? "" : "out");
    if (filt) {
      snprintf(line, sizeof(line), "/patch/connect c%d_env c%d_filt", c, c);
    }
    fx_send(host, -1, line);
  }
  if (filt) {
    snprintf(line, sizeof(line), "/patch/connect c%d_filt out", c);
    fx_send(host, -1, line);
  }
  return n_primes;
}

/* 1,000 commit cycles at random block sizes: no silence, no NaN, no click
   at any swap, and nothing in run() that allocates, locks or prints. */
static void
test_stress(const HpWorkerMode mode, const int cycles)
{
  HpHost*             host   = fx_host(mode, 1234);
  const HpBlockPolicy blocks = {HP_BLOCK_RANDOM, 0, 1, 4096};
  uint64_t            swap_frames[2000];
  float               swap_fade[2000];
  float               fades[2000];
  uint64_t            sent[2001];
  int                 swap_seq[2000];
  size_t              n_swaps = 0;
  CHECK(cycles <= 2000);
  hp_rt_reset();
  for (int c = 0; c < cycles; ++c) {
    HpPrimeOp      primes[4];
    char           names[4][16];
    const uint32_t n    = random_patch(host, c, primes, names);
    const float    fade = (float)hp_host_random(host, 2, 30);
    if (getenv("HP_DEBUG_LINES")) {
      printf("at %llu: commit %d crossfade=%g primes %u\n",
             (unsigned long long)hp_host_frames(host),
             c,
             (double)fade,
             n);
    }
    HpHostCommit opts = {false, 0, true, fade, false, false, primes, n};
    sent[c]           = hp_host_frames(host);
    CHECK(!hp_host_send_commit(host, sent[c], c, &opts));
    /* The block carrying the commit wakes the worker; give it the time
       real time would (it primes in well under a block's duration). */
    CHECK(!hp_host_run(host, hp_host_random(host, 1, 1024)));
    CHECK(!hp_host_wait_worker(host, 2000));
    CHECK(!hp_host_render(host, hp_host_random(host, 3000, 6000), blocks));
    fades[c] = fade;
  }
  CHECK(!hp_host_render(host, 8000, blocks));
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    if (ev->kind == HP_EV_SWAPPED && ev->seq >= 0 && ev->seq < cycles) {
      swap_frames[n_swaps] = ev->frame_abs;
      swap_seq[n_swaps]    = ev->seq;
      swap_fade[n_swaps++] = fades[ev->seq];
    }
  }
  HpRtCounts counts;
  hp_rt_counts(&counts);

  const float*   l     = hp_host_out_l(host);
  const uint64_t start = hp_host_recorded_start(host);
  const size_t   total = hp_host_recorded(host);
  CHECK(hp_sig_finite(l, total) && hp_sig_finite(hp_host_out_r(host), total));
  CHECK_MSG(n_swaps > (size_t)cycles * 9 / 10, "%zu swaps", n_swaps);
  if (getenv("HP_DEBUG")) {
    hp_host_write_wav(host, "/tmp/stress.wav");
    for (size_t i = 0; i < hp_host_n_events(host); ++i) {
      const HpHostEvent* ev = hp_host_event(host, i);
      printf("ev %s seq %d frame %llu gen %lld %s\n",
             hp_host_event_kind_name(ev->kind),
             ev->seq,
             (unsigned long long)ev->frame_abs,
             (long long)ev->generation,
             ev->message ? ev->message : "");
    }
  }
  check_no_silence(host, swap_frames[0], "stress");

  /* Clicks: the largest step across a swap and its crossfade, against the
     largest step each patch makes on its own: the old one from the end of
     the previous crossfade to this swap, the new one from the end of this
     crossfade to the next swap ... */
  float  worst   = 0.0f;
  size_t checked = 0;
  for (size_t i = 1; i + 1 < n_swaps; ++i) {
    const size_t prev = (size_t)(swap_frames[i - 1] - start) +
                        (size_t)(swap_fade[i - 1] * 48.0f) + 8;
    const size_t s    = (size_t)(swap_frames[i] - start);
    const size_t fade = (size_t)(swap_fade[i] * 48.0f) + 8;
    /* ... and no further than the next message, which may set it live. */
    size_t next = (size_t)(swap_frames[i + 1] - start);
    if (swap_seq[i] + 1 < cycles && sent[swap_seq[i] + 1] - start < next) {
      next = (size_t)(sent[swap_seq[i] + 1] - start);
    }
    if (prev + 256 > s || s + fade + 256 > next) {
      continue; /* a crossfade cut short by the next swap: no solo part */
    }
    const float before = hp_sig_max_step(l + prev, s - prev);
    const float after  = hp_sig_max_step(l + s + fade, next - s - fade);
    const float across = hp_sig_max_step(l + s - 1, fade + 2);
    const float ratio  = across / fmaxf(fmaxf(before, after), 1e-6f);
    worst              = fmaxf(worst, ratio);
    ++checked;
    CHECK_MSG(ratio <= 1.5f,
              "click at swap %zu (frame %llu): step %.4f vs %.4f/%.4f",
              i,
              (unsigned long long)swap_frames[i],
              (double)across,
              (double)before,
              (double)after);
  }
  HpWorkerStats ws;
  hp_host_worker_stats(host, &ws);
  hp_rt_require_none(&counts);
  CHECK(ws.max_request_size <= 8);
  CHECK_MSG(checked > n_swaps * 3 / 4,
            "only %zu of %zu swaps had solo parts to compare",
            checked,
            n_swaps);
  printf(
    "# stress, %s worker: %d commits, %zu swaps over %.1f s of random blocks; "
    "worst step ratio at a swap %.3f (%zu swaps checked); %llu forbidden calls "
    "in run(); largest worker message %u bytes\n",
    fx_mode_name(mode),
    cycles,
    n_swaps,
    (double)total / RATE,
    (double)worst,
    checked,
    (unsigned long long)counts.total,
    ws.max_request_size);
  hp_host_free(host);
}

/* Every swap used to make a macro-mapped parameter glide from its stored
   value to the macro's: the default patch (Macro 1 on the filter's cutoff),
   a note held, macros at their default positions.  An unrelated commit
   must sound like no commit at all. */
static void
test_macros_through_swap(void)
{
  float* out[2] = {NULL, NULL};
  size_t n      = 0;
  for (int commits = 0; commits < 2; ++commits) {
    HpHost* host = fx_host(HP_WORKER_SYNC, 5);
    CHECK(!hp_host_note_on(host, 0, 48, 100));
    CHECK(
      !hp_host_render(host, 9600, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    if (commits) {
      fx_send_at(host, 9600, -1, "/patch/create k const");
      fx_send_at(host, 9600, 50, "/patch/commit");
    }
    CHECK(
      !hp_host_render(host, 9600, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    CHECK(!commits || hp_host_find_event(host, HP_EV_SWAPPED, 50));
    n            = hp_host_recorded(host);
    out[commits] = (float*)malloc(n * sizeof(float));
    CHECK(out[commits]);
    memcpy(out[commits], hp_host_out_l(host), n * sizeof(float));
    hp_host_free(host);
  }
  float diff = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    diff = fmaxf(diff, fabsf(out[1][i] - out[0][i]));
  }
  const float  peak = hp_sig_peak(out[0] + 9600, n - 9600);
  const double db   = 20.0 * log10(fmax((double)diff, 1e-12) / (double)peak);
  CHECK(peak > 0.05f);
  CHECK_MSG(
    db < -80.0, "an unrelated commit differs from no commit by %.1f dB", db);
  printf("# default patch, macros at their defaults: an unrelated commit "
         "differs from none by %.1f dB (peak %.3f)\n",
         db,
         (double)peak);
  free(out[0]);
  free(out[1]);
}

/* A synchronous worker (a host's export): a burst of 50 commits 5 frames
   apart in one 256-frame block.  Every commit swaps at its own frame (a
   new standby takes over during the crossfades of the earlier ones), none
   is superseded, every hp:frame and event time stays inside its block,
   and two renders are the same. */
static void
test_burst_sync(void)
{
  enum { N_COMMITS = 50, FIRST = 4096 };
  float* out[2] = {NULL, NULL};
  size_t n      = 0;
  for (int r = 0; r < 2; ++r) {
    HpHost* host = fx_host(HP_WORKER_SYNC, 6 + (uint64_t)r);
    fx_send(host, -1, "/patch/clear");
    fx_send(host, -1, "/patch/create osc0 sine");
    fx_send(host, -1, "/patch/commit");
    CHECK(
      !hp_host_render(host, FIRST, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    for (int i = 1; i <= N_COMMITS; ++i) {
      const uint64_t at = FIRST + 5u * (uint64_t)i;
      char           line[64];
      snprintf(line, sizeof(line), "/patch/create osc%d sine", i);
      fx_send_at(host, at, -1, line);
      snprintf(line, sizeof(line), "/patch/set osc%d freq %d", i, 200 + 20 * i);
      fx_send_at(host, at, -1, line);
      snprintf(line, sizeof(line), "/patch/set osc%d gain 0.01", i);
      fx_send_at(host, at, -1, line);
      fx_send_at(host, at, 200 + i, "/patch/commit");
    }
    CHECK(
      !hp_host_render(host, 4096, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    size_t swapped = 0;
    for (int i = 1; i <= N_COMMITS; ++i) {
      const HpHostEvent* ev = hp_host_find_event(host, HP_EV_SWAPPED, 200 + i);
      const HpHostEvent* er = hp_host_find_event(host, HP_EV_ERROR, 200 + i);
      CHECK_MSG(!er, "commit %d: %s", i, er ? er->message : "");
      if (ev) {
        CHECK_MSG(ev->frame_abs == FIRST + 5u * (uint64_t)i,
                  "commit %d at frame %d swapped at %llu",
                  i,
                  FIRST + 5 * i,
                  (unsigned long long)ev->frame_abs);
        ++swapped;
      }
    }
    CHECK_MSG(
      swapped == N_COMMITS, "%zu of %d commits swapped", swapped, N_COMMITS);
    for (size_t i = 0; i < hp_host_n_events(host); ++i) {
      const HpHostEvent* ev = hp_host_event(host, i);
      CHECK_MSG(ev->frame < 256 && ev->time < 256,
                "event %zu: hp:frame %lld, time %u in a block of 256",
                i,
                (long long)ev->frame,
                ev->time);
    }
    n      = hp_host_recorded(host);
    out[r] = (float*)malloc(n * sizeof(float));
    CHECK(out[r]);
    memcpy(out[r], hp_host_out_l(host), n * sizeof(float));
    hp_host_free(host);
  }
  CHECK_MSG(!memcmp(out[0], out[1], n * sizeof(float)),
            "two renders of the burst differ");
  printf("# sync worker: %d commits 5 frames apart in one block: all swapped "
         "at their frames, two renders identical\n",
         N_COMMITS);
  free(out[0]);
  free(out[1]);
}

/* A trivial edit while a note is held through the default patch passes
   require_signal, and hp:warmupRms is what plays: kept modules warm up on
   copies of their current state, also while run() renders in another
   thread. */
static void
test_held_note_edit(const HpWorkerMode mode)
{
  HpHost* host = fx_host(mode, 8);
  CHECK(!hp_host_note_on(host, 0, 57, 100));
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const double playing =
    hp_sig_rms(hp_host_out_l(host) + hp_host_recorded(host) - 4800, 4800);
  fx_send(host, -1, "/patch/create k const");
  fx_send_at(host, hp_host_frames(host), 70, "/patch/commit require_signal=1");
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, 5000));
  const HpHostEvent* swapped = hp_host_find_event(host, HP_EV_SWAPPED, 70);
  if (!swapped) {
    swapped = hp_host_run_until(host, HP_EV_SWAPPED, 70, 256, (uint64_t)RATE);
  }
  const HpHostEvent* err    = hp_host_find_event(host, HP_EV_ERROR, 70);
  const HpHostEvent* primed = hp_host_find_event(host, HP_EV_PRIMED, 70);
  CHECK_MSG(!err, "%s worker: %s", fx_mode_name(mode), err ? err->message : "");
  CHECK(swapped && primed);
  CHECK_MSG(fabs(primed->warmup_rms / playing - 1.0) < 0.05,
            "%s worker: warm-up RMS %.4f, playing %.4f",
            fx_mode_name(mode),
            primed->warmup_rms,
            playing);
  printf("# %s worker, note held, trivial edit with require_signal: warm-up "
         "RMS %.4f, playing %.4f\n",
         fx_mode_name(mode),
         primed->warmup_rms,
         playing);
  hp_host_free(host);
}

int
main(void)
{
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(),
            "rtcheck linkage: %s",
            hp_rt_check_linkage());
  test_macros_through_swap();
  test_burst_sync();
  test_held_note_edit(HP_WORKER_THREADED);
  test_held_note_edit(HP_WORKER_SYNC);
  test_seed_scenarios(HP_WORKER_THREADED);
  test_seed_scenarios(HP_WORKER_SYNC);
  test_stress(HP_WORKER_THREADED, 1000);
  test_stress(HP_WORKER_SYNC, 300);
  return 0;
}
