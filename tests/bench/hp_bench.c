/*
  hp_bench: the figures of the benchmark report (tests/bench/report.py, run
  by `./waf bench`), one measurement a mode, printed as JSON lines.

    hp_bench modules          each module type alone, blocks 32/256/1024
    hp_bench chain N BLOCK    N seed chains (sine 440 -> adsr -> biquad
                              lowpass 2 kHz; N > 1: into a mixer at 1/N)
                              through the plugin via lilv, and through a
                              hand-written C loop doing the same DSP
    hp_bench prime            commit-to-ready time against patch size
    hp_bench swap             run()'s cost of a swap against patch size
    hp_bench voices [DIR]     the seed chain a voice (midi -> sine -> adsr
                              -> biquad), notes held by MIDI events: 1
                              voice 1 note, 8 voices 8 notes, 32 voices 1
                              note, 16 voices 16 notes (WAVs into DIR)
    hp_bench voice_swap       run()'s cost of a swap with 8 voices held,
                              against the size of a voice
    hp_bench effects DECAY [DIR]
                              an echo and a plain delay on the seed's sine,
                              a reverb (decay DECAY s) on noise, beside
                              SuperCollider's CombC, DelayC and FreeVerb2
                              (their impulse responses into DIR)
    hp_bench load N [SHAPE..] loading and building an N-module patch
                              (chain; links_reversed, modules_reversed: the
                              chain's links or modules listed from the
                              output back; fan; default: all four):
                              as a patch document, as text-protocol ops
                              applied one by one (the worker's work for
                              each message), and compiling the graph

  Natively it times (CLOCK_MONOTONIC, medians of repeats).  Under callgrind
  (started by report.py with --collect-atstart=no --separate-threads=yes)
  it runs each measured stretch once with collection on only inside it
  (the plugin's run() through the host's callgrind_run, the module's or
  hand loop's calls here) and dumps it as "<label> samples=<n>"; report.py
  divides.  Output is checked so no engine wins by doing less: every chain
  must play 440 Hz at the expected level.
*/

#include "check.h"
#include "host.h"
#include "signal.h"

#include "dsp.h"
#include "graph.h"
#include "module.h"
#include "patch.h"
#include "patchdoc.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

#define RATE 48000.0
#define REPEATS 7
#define MAX_CHAINS 512

/* The seed chain's settings, in every engine (tests/bench/peers.py too). */
#define SINE_FREQ 440.0f
#define SINE_GAIN 0.2f
#define ENV_ATTACK_MS 10.0f
#define ENV_DECAY_MS 50.0f
#define ENV_SUSTAIN 0.7f
#define ENV_RELEASE_MS 200.0f
#define FILTER_CUTOFF 2000.0f
#define FILTER_Q 0.7071f

static bool under_callgrind;

static double
now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int
cmp_double(const void* a, const void* b)
{
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static double
median(double* const v, const size_t n)
{
  qsort(v, n, sizeof(double), cmp_double);
  return n % 2u ? v[n / 2u] : 0.5 * (v[n / 2u - 1u] + v[n / 2u]);
}

static double
percentile(double* const v, const size_t n, const double p)
{
  qsort(v, n, sizeof(double), cmp_double);
  const size_t i = (size_t)floor(p * (double)(n - 1u) + 0.5);
  return v[i];
}

/* Collection on only around the measured calls (see the header). */
static void
dump(const char* const label, const uint64_t samples)
{
  char pos[160];
  snprintf(
    pos, sizeof(pos), "%s samples=%llu", label, (unsigned long long)samples);
  CALLGRIND_DUMP_STATS_AT(pos);
}

/* Modules alone */

static float tone[HP_CHUNK]; /* a 440 Hz test tone for audio inputs */

static double
module_pass(const HpModuleDesc* const desc,
            const HpNodeIO* const     io,
            const uint32_t            block,
            const uint64_t            samples)
{
  const double t0 = now_ns();
  for (uint64_t done = 0; done < samples; done += block) {
    /* The graph hands modules at most HP_CHUNK frames a call. */
    for (uint32_t c = 0; c < block; c += HP_CHUNK) {
      const uint32_t n = block - c < HP_CHUNK ? block - c : HP_CHUNK;
      desc->process(io, n);
    }
  }
  return now_ns() - t0;
}

static void
bench_modules(void)
{
  static const uint32_t blocks[] = {32u, 256u, 1024u};
  for (uint32_t i = 0; i < HP_CHUNK; ++i) {
    tone[i] = 0.5f * sinf(6.2831853f * 440.0f * (float)i / (float)RATE);
  }
  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    const HpModuleDesc* desc = *d;
    HpParamIn           param[HP_MAX_PARAMS];
    const float*        in[HP_MAX_PORTS];
    float*              out[HP_MAX_PORTS];
    static float        out0[HP_CHUNK];
    for (uint32_t p = 0; p < desc->n_params; ++p) {
      /* Defaults, and gates held open so envelopes sustain. */
      param[p].signal = NULL;
      param[p].value =
        desc->params[p].kind == HP_PARAM_GATE ? 1.0f : desc->params[p].def;
    }
    for (uint32_t p = 0; p < desc->n_inputs; ++p) {
      in[p] = desc->inputs[p].kind == HP_SIGNAL_AUDIO ? tone : NULL;
    }
    memset(out, 0, sizeof(out));
    out[0] = out0;
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); ++b) {
      const uint32_t block = blocks[b];
      void* const    state = calloc(1, desc->state_size ? desc->state_size : 1);
      CHECK(state);
      if (desc->init) {
        desc->init(state, param, (float)RATE);
      }
      uint32_t     out_const = 0;
      const HpTime time      = {.beats_per_frame = 120.0 / 60.0 / RATE,
                                .bpm             = 120.0f,
                                .beats_per_bar   = 4.0f,
                                .known           = true,
                                .rolling         = true};
      HpNodeIO     io        = {.state     = state,
                                .in        = in,
                                .out       = out,
                                .param     = param,
                                .rate      = (float)RATE,
                                .inv_rate  = 1.0f / (float)RATE,
                                .out_const = &out_const,
                                .time      = &time};
      io.mem_size = desc->memory ? desc->memory(param, (float)RATE) : 0u;
      io.mem = io.mem_size ? (float*)calloc(io.mem_size, sizeof(float)) : NULL;
      CHECK(!io.mem_size || io.mem);
      module_pass(desc, &io, block, 48000u); /* warm: past attacks */
      if (under_callgrind) {
        const uint64_t samples = 96u * 1024u;
        CALLGRIND_ZERO_STATS;
        CALLGRIND_TOGGLE_COLLECT;
        module_pass(desc, &io, block, samples);
        CALLGRIND_TOGGLE_COLLECT;
        char label[96];
        snprintf(label, sizeof(label), "modules %s %u", desc->type, block);
        dump(label, samples);
      } else {
        const uint64_t samples = 1024u * 1024u;
        double         ns[REPEATS];
        for (int r = 0; r < REPEATS; ++r) {
          ns[r] = module_pass(desc, &io, block, samples) / (double)samples;
        }
        printf("{\"mode\": \"modules\", \"module\": \"%s\", \"block\": %u, "
               "\"ns_per_sample\": %.4f}\n",
               desc->type,
               block,
               median(ns, REPEATS));
      }
      CHECK(hp_sig_finite(out0, HP_CHUNK));
      free(io.mem);
      free(state);
    }
  }
}

/* The hand-written floor: the same DSP as hotpatch's sine, adsr and biquad
   modules (dsp.h's polynomial sine on a 32-bit phase, linear ramps of whole
   frames, dsp.h's double-precision biquad kernel), written the way one
   would by hand for speed: a pass a stage over the block, so the compiler
   vectorizes the oscillator and the sustained envelope, with no graph, no
   parameter plumbing and no messages. */

typedef struct {
  uint32_t phase, inc;
  double   level, step, target;
  uint32_t left, stage; /* 0 attack, 1 decay, 2 sustain */
  HpBiquad filter;
  double   z[2];
} HandChain;

static void
hand_init(HandChain* const c)
{
  memset(c, 0, sizeof(*c));
  c->inc  = (uint32_t)(int64_t)llrint((double)SINE_FREQ / RATE * 4294967296.0);
  c->left = (uint32_t)lrint((double)ENV_ATTACK_MS * 0.001 * RATE);
  c->step = 1.0 / c->left;
  c->target          = 1.0;
  const double w0    = 6.283185307179586 * (double)FILTER_CUTOFF / RATE;
  const double cw    = cos(w0);
  const double alpha = sin(w0) / (2.0 * (double)FILTER_Q);
  const double a0    = 1.0 + alpha;
  c->filter.b0 = c->filter.b2 = (1.0 - cw) * 0.5 / a0;
  c->filter.b1                = (1.0 - cw) / a0;
  c->filter.a1                = -2.0 * cw / a0;
  c->filter.a2                = (1.0 - alpha) / a0;
}

static void
hand_chain(HandChain* const restrict c,
           float* const restrict out,
           const float    k,
           const bool     first,
           const uint32_t n)
{
  float x[HP_CHUNK];

  uint32_t phase = c->phase;
  for (uint32_t i = 0; i < n; ++i) {
    x[i] = SINE_GAIN * hp_sin_phase(phase);
    phase += c->inc;
  }
  c->phase = phase;

  uint32_t i = 0;
  for (; i < n && c->left; ++i) { /* attack and decay: a ramp */
    c->level += c->step;
    if (--c->left == 0u) {
      c->level = c->target;
      if (c->stage++ == 0u) {
        c->left   = (uint32_t)lrint((double)ENV_DECAY_MS * 0.001 * RATE);
        c->target = (double)ENV_SUSTAIN;
        c->step   = (c->target - 1.0) / c->left;
      }
    }
    x[i] *= (float)c->level;
  }
  const float level = (float)c->level;
  for (; i < n; ++i) { /* sustain */
    x[i] *= level;
  }

  float y[HP_CHUNK];
  hp_biquad_run(&c->filter, c->z, x, y, n);

  if (first) {
    for (uint32_t j = 0; j < n; ++j) {
      out[j] = k * y[j];
    }
  } else {
    for (uint32_t j = 0; j < n; ++j) {
      out[j] += k * y[j];
    }
  }
}

static void
hand_render(HandChain* const chains,
            const uint32_t   n_chains,
            float* const     out,
            const uint32_t   n)
{
  const float k = 1.0f / (float)n_chains;
  for (uint32_t c = 0; c < n; c += HP_CHUNK) {
    const uint32_t m = n - c < HP_CHUNK ? n - c : HP_CHUNK;
    for (uint32_t ch = 0; ch < n_chains; ++ch) {
      hand_chain(&chains[ch], out + c, k, ch == 0u, m);
    }
  }
}

/* The same through the plugin */

static void send(HpHost* const host, const char* const fmt, ...)
  __attribute__((format(printf, 2, 3)));

static void
send(HpHost* const host, const char* const fmt, ...)
{
  char    line[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  CHECK_MSG(!hp_host_send_text(host, hp_host_frames(host), -1, line),
            "%s: %s",
            line,
            hp_host_last_error());
}

/* The engine queues 1,024 ops: let the worker take them every few hundred. */
static void
settle(HpHost* const host, uint32_t* const pending, const uint32_t add)
{
  *pending += add;
  if (*pending >= 600u) {
    CHECK(!hp_host_run(host, 64));
    CHECK(!hp_host_wait_worker(host, 60000));
    CHECK(!hp_host_run(host, 64));
    *pending = 0;
  }
}

/* Stage a patch of `n_modules` modules: one sine, one seed chain (3), or
   (n-1)/3 seed chains into a mixer (fan-in sums) at level 1/chains. */
static uint32_t
stage_patch(HpHost* const host, const uint32_t n_modules)
{
  uint32_t pending = 0;
  send(host, "/patch/clear");
  if (n_modules == 1u) {
    send(host, "/patch/create s0 sine");
    send(host, "/patch/set s0 freq %g", (double)SINE_FREQ);
    send(host, "/patch/set s0 gain %g", (double)SINE_GAIN);
    return 1u;
  }
  const uint32_t chains = n_modules == 3u ? 1u : (n_modules - 1u) / 3u;
  CHECK(n_modules == 3u || chains * 3u + 1u == n_modules);
  if (chains > 1u) {
    send(host, "/patch/create mix mixer");
    send(host, "/patch/set mix level1 %.9g", 1.0 / chains);
  }
  for (uint32_t c = 0; c < chains; ++c) {
    send(host, "/patch/create s%u sine", c);
    send(host, "/patch/set s%u freq %g", c, (double)SINE_FREQ);
    send(host, "/patch/set s%u gain %g", c, (double)SINE_GAIN);
    send(host, "/patch/create e%u adsr", c);
    send(host, "/patch/set e%u attack %g", c, (double)ENV_ATTACK_MS);
    send(host, "/patch/set e%u decay %g", c, (double)ENV_DECAY_MS);
    send(host, "/patch/set e%u sustain %g", c, (double)ENV_SUSTAIN);
    send(host, "/patch/set e%u release %g", c, (double)ENV_RELEASE_MS);
    send(host, "/patch/gate e%u 1", c);
    send(host, "/patch/create f%u biquad", c);
    send(host, "/patch/set f%u cutoff %g", c, (double)FILTER_CUTOFF);
    send(host, "/patch/set f%u q %g", c, (double)FILTER_Q);
    send(host, "/patch/connect s%u e%u", c, c);
    send(host, "/patch/connect e%u f%u", c, c);
    if (chains > 1u) {
      send(host, "/patch/connect f%u mix:in1", c);
    }
    settle(host, &pending, 15u);
  }
  return chains;
}

static HpHost*
make_host(const HpWorkerMode mode)
{
  return hp_host_open(&(HpHostConfig){.worker_mode   = mode,
                                      .sample_rate   = RATE,
                                      .max_block     = 4096u,
                                      .callgrind_run = under_callgrind});
}

/* Commit with `crossfade` ms (and `prime`, if any) and run blocks until it
   has swapped. */
static void
commit_and_swap(HpHost* const          host,
                const float            crossfade,
                const HpPrimeOp* const prime)
{
  static int         seq  = 1;
  const HpHostCommit opts = {.set_crossfade = true,
                             .crossfade     = crossfade,
                             .prime         = prime,
                             .n_prime       = prime ? 1u : 0u};
  CHECK(!hp_host_send_commit(host, hp_host_frames(host), seq, &opts));
  CHECK(!hp_host_run(host, 256u)); /* the commit reaches the worker */
  CHECK(!hp_host_wait_worker(host, 60000));
  const HpHostEvent* ev = hp_host_find_event(host, HP_EV_SWAPPED, seq);
  if (!ev) {
    ev = hp_host_run_until(host, HP_EV_SWAPPED, seq, 256u, 48000u * 60u);
  }
  CHECK_MSG(ev, "commit %d did not swap: %s", seq, hp_host_last_error());
  ++seq;
}

/* The output of a measured stretch must be the chain's: 440 Hz, at the
   level of the sine through the sustain and the filter. */
static void
print_check(const char* const  engine,
            const uint32_t     n_chains,
            const uint32_t     block,
            const float* const x,
            const size_t       n,
            const double       ns_per_sample)
{
  const double rms  = hp_sig_rms(x, n);
  const double freq = hp_sig_freq(x, n, RATE);
  const bool   ok =
    fabs(freq - (double)SINE_FREQ) < 0.5 && rms > 0.09 && rms < 0.11;
  printf("{\"mode\": \"chain\", \"engine\": \"%s\", \"chains\": %u, "
         "\"block\": %u, \"ns_per_sample\": %.4f, \"rms\": %.5f, "
         "\"pitch_hz\": %.4f, \"ok\": %s}\n",
         engine,
         n_chains,
         block,
         ns_per_sample,
         rms,
         freq,
         ok ? "true" : "false");
  CHECK_MSG(
    ok, "%s, %u chains: %.4f Hz, RMS %.5f", engine, n_chains, freq, rms);
}

static void
bench_chain(const uint32_t n_chains, const uint32_t block)
{
  CHECK(n_chains >= 1u && n_chains <= MAX_CHAINS);
  CHECK(block >= 1u && block <= 4096u);
  const uint64_t samples = under_callgrind ? 48000u : 4u * 48000u;
  float* const   buf     = (float*)calloc(samples + 4096u, sizeof(float));
  CHECK(buf);
  char label[96];

  /* The plugin, with a synchronous worker: no other thread runs. */
  HpHost* const host = make_host(HP_WORKER_SYNC);
  stage_patch(host, n_chains == 1u ? 3u : n_chains * 3u + 1u);
  commit_and_swap(host, 0.0f, NULL);
  CHECK(!hp_host_render(
    host, 24000u, (HpBlockPolicy){HP_BLOCK_FIXED, block, 0, 0}));
  double ns[REPEATS];
  for (int r = 0; r < (under_callgrind ? 1 : REPEATS); ++r) {
    hp_host_discard_output(host);
    double   run_ns = 0.0;
    uint64_t done   = 0;
    CALLGRIND_ZERO_STATS;
    while (done < samples) {
      CHECK(!hp_host_run(host, block));
      run_ns += (double)hp_host_last_run_ns(host);
      done += block;
    }
    snprintf(label, sizeof(label), "chain hotpatch %u %u", n_chains, block);
    dump(label, done);
    ns[r] = run_ns / (double)done;
  }
  CHECK(hp_host_recorded(host) >= samples);
  print_check("hotpatch",
              n_chains,
              block,
              hp_host_out_l(host),
              samples,
              under_callgrind ? 0.0 : median(ns, REPEATS));
  hp_host_free(host);

  /* The hand-written loop, called in the same blocks. */
  HandChain* const chains = (HandChain*)calloc(n_chains, sizeof(HandChain));
  CHECK(chains);
  for (uint32_t c = 0; c < n_chains; ++c) {
    hand_init(&chains[c]);
  }
  for (uint32_t done = 0; done < 24000u; done += block) {
    hand_render(chains, n_chains, buf, block);
  }
  for (int r = 0; r < (under_callgrind ? 1 : REPEATS); ++r) {
    uint64_t done = 0;
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
    const double t0 = now_ns();
    while (done < samples) {
      hand_render(chains, n_chains, buf + done, block);
      done += block;
    }
    const double t = now_ns() - t0;
    CALLGRIND_TOGGLE_COLLECT;
    snprintf(label, sizeof(label), "chain hand %u %u", n_chains, block);
    dump(label, done);
    ns[r] = t / (double)done;
  }
  print_check("hand",
              n_chains,
              block,
              buf,
              samples,
              under_callgrind ? 0.0 : median(ns, REPEATS));
  free(chains);
  free(buf);
}

/* Prime time and swap cost against patch size */

/* 3: the seed chain alone. */
static const uint32_t sizes[] = {1u, 3u, 16u, 64u, 256u, 1024u};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* What makes a commit that keeps every module: the seed's way, a prime op
   setting one parameter (a live set alone stages nothing). */
static HpPrimeOp
touch(const uint32_t n_modules, const uint32_t i)
{
  const float odd = (float)(i % 2u);
  return n_modules == 1u
           ? (HpPrimeOp){"mod", "s0", "freq", SINE_FREQ + odd}
           : (HpPrimeOp){"mod", "f0", "cutoff", FILTER_CUTOFF + odd};
}

static void
bench_prime(void)
{
  for (size_t s = 0; s < N_SIZES; ++s) {
    const uint32_t n       = sizes[s];
    const uint32_t commits = n >= 1024u ? 15u : n >= 256u ? 25u : 41u;
    HpHost* const  host    = make_host(HP_WORKER_THREADED);
    stage_patch(host, n);
    commit_and_swap(host, 0.0f, NULL);
    double ms[64];
    for (uint32_t i = 0; i < commits; ++i) {
      const HpPrimeOp op = touch(n, i);
      hp_host_clear_events(host);
      commit_and_swap(host, 0.0f, &op);
      const HpHostEvent* primed =
        hp_host_find_event(host, HP_EV_PRIMED, HP_SEQ_ANY);
      CHECK(primed && isfinite(primed->prime_ms));
      CHECK(primed->module_count < 0 || primed->module_count == (int64_t)n);
      ms[i] = primed->prime_ms;
      hp_host_discard_output(host);
    }
    const double p50 = median(ms, commits);
    const double p90 = percentile(ms, commits, 0.9);
    printf("{\"mode\": \"prime\", \"modules\": %u, \"commits\": %u, "
           "\"p50_ms\": %.4f, \"p90_ms\": %.4f, \"min_ms\": %.4f, "
           "\"max_ms\": %.4f}\n",
           n,
           commits,
           p50,
           p90,
           ms[0],
           ms[commits - 1u]);
    hp_host_free(host);
  }
}

/* run()'s cost of the block that swaps, less that of the block after it
   (the same graph, no swap), with crossfade 0 so neither renders two
   graphs.  The commit keeps every module, so all their state is carried:
   the heaviest swap a patch of that size can ask for.  `touch_n`: the
   patch's size for touch(); `label`: the dumps' "<label> swap" and
   "<label> steady".  Medians of `swaps` swaps into ns[0..2]: the swap
   block, the next block, their difference. */
static void
measure_swaps(HpHost* const     host,
              const uint32_t    touch_n,
              const char* const label,
              const uint32_t    swaps,
              double* const     ns)
{
  const uint32_t block = 256u;
  /* Past the envelopes' attack and decay, so blocks cost alike. */
  CHECK(
    !hp_host_render(host, 9600u, (HpBlockPolicy){HP_BLOCK_FIXED, block, 0, 0}));
  double   swap_ns[64], steady_ns[64], diff_ns[64];
  char     dump_label[96];
  uint32_t tries = 0;
  /* Every commit, an early one too, changes the value from the last: so
     each measured swap brings one change (the touched module's kept state
     follows it in the swap block: a biquad's coefficients, in every voice
     of it), never none. */
  uint32_t touches = 0;
  CHECK(swaps <= 64u);
  for (uint32_t i = 0; i < swaps; ++i) {
    static int         seq  = 100000;
    const HpPrimeOp    op   = touch(touch_n, ++touches);
    const HpHostCommit opts = {
      .set_crossfade = true, .crossfade = 0.0f, .prime = &op, .n_prime = 1u};
    const float swaps_before = hp_host_control_out(host, "swaps");
    CHECK(!hp_host_send_commit(host, hp_host_frames(host), ++seq, &opts));
    hp_host_clear_events(host);
    CHECK(!hp_host_run(host, block)); /* the commit reaches the worker */
    CHECK(!hp_host_wait_worker(host, 60000));
    if (hp_host_control_out(host, "swaps") != swaps_before) {
      /* The worker was quick enough for run() to swap at the end of the
         commit's own block (its hp:Swapped then comes with the next
         block's frame 0): not the case measured. */
      CHECK_MSG(++tries < 20u * swaps, "%s: every swap came early", label);
      --i;
      continue;
    }

    CALLGRIND_ZERO_STATS;
    CHECK(!hp_host_run(host, block)); /* takes the ready graph */
    snprintf(dump_label, sizeof(dump_label), "%s swap", label);
    dump(dump_label, block);
    swap_ns[i] = (double)hp_host_last_run_ns(host);
    CHECK_MSG(hp_host_find_event(host, HP_EV_SWAPPED, seq),
              "%s: no swap in the block after the worker finished",
              label);
    CHECK(!hp_host_wait_worker(host, 60000)); /* the old graph is freed */

    CALLGRIND_ZERO_STATS;
    CHECK(!hp_host_run(host, block));
    snprintf(dump_label, sizeof(dump_label), "%s steady", label);
    dump(dump_label, block);
    steady_ns[i] = (double)hp_host_last_run_ns(host);
    diff_ns[i]   = swap_ns[i] - steady_ns[i];
    hp_host_discard_output(host);
  }
  ns[0] = median(swap_ns, swaps);
  ns[1] = median(steady_ns, swaps);
  ns[2] = median(diff_ns, swaps);
}

static void
bench_swap(void)
{
  for (size_t s = 0; s < N_SIZES; ++s) {
    const uint32_t n     = sizes[s];
    const uint32_t swaps = under_callgrind ? 3u : 41u;
    HpHost* const  host  = make_host(HP_WORKER_THREADED);
    stage_patch(host, n);
    commit_and_swap(host, 0.0f, NULL);
    char label[64];
    snprintf(label, sizeof(label), "swap %u", n);
    double ns[3];
    measure_swaps(host, n, label, swaps, ns);
    if (!under_callgrind) {
      printf("{\"mode\": \"swap\", \"modules\": %u, \"swaps\": %u, "
             "\"swap_block_ns\": %.0f, \"steady_block_ns\": %.0f, "
             "\"swap_cost_ns\": %.0f}\n",
             n,
             swaps,
             ns[0],
             ns[1],
             ns[2]);
    }
    hp_host_free(host);
  }
}

/* Voices: the seed chain per voice, played from MIDI */

/* The notes held: one is A4 (440 Hz, as the seed chain); several are a
   whole-tone scale up from C3, 16 distinct pitches, 131 to 740 Hz
   (tests/bench/peers.py plays the same set). */
#define MAX_NOTES 16u

static uint8_t
voice_note(const uint32_t n_notes, const uint32_t k)
{
  return n_notes == 1u ? 69u : (uint8_t)(48u + 2u * k);
}

static double
note_hz(const uint8_t note)
{
  return 440.0 * pow(2.0, ((double)note - 69.0) / 12.0);
}

/* |H(f)| of the seed chain's lowpass (RBJ, as hand_init). */
static double
lowpass_gain(const double freq)
{
  const double w0    = 6.283185307179586 * (double)FILTER_CUTOFF / RATE;
  const double cw    = cos(w0);
  const double alpha = sin(w0) / (2.0 * (double)FILTER_Q);
  const double a0    = 1.0 + alpha;
  const double b0 = (1.0 - cw) * 0.5 / a0, b1 = (1.0 - cw) / a0, b2 = b0;
  const double a1 = -2.0 * cw / a0, a2 = (1.0 - alpha) / a0;
  const double w = 6.283185307179586 * freq / RATE;
  /* H(e^-jw) = (b0 + b1 z + b2 z^2) / (1 + a1 z + a2 z^2), z = e^-jw */
  const double nr = b0 + b1 * cos(w) + b2 * cos(2.0 * w);
  const double ni = -(b1 * sin(w) + b2 * sin(2.0 * w));
  const double dr = 1.0 + a1 * cos(w) + a2 * cos(2.0 * w);
  const double di = -(a1 * sin(w) + a2 * sin(2.0 * w));
  return sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

/* The RMS of the sustained voices: distinct sines add in power. */
static double
voices_rms(const uint32_t n_notes)
{
  double power = 0.0;
  for (uint32_t k = 0; k < n_notes; ++k) {
    const double a = (double)SINE_GAIN * (double)ENV_SUSTAIN *
                     lowpass_gain(note_hz(voice_note(n_notes, k)));
    power += 0.5 * a * a;
  }
  return sqrt(power);
}

/* Stage `voices` voices of midi -> sine -> adsr -> biquad f0, and
   `extra` more biquads after it in each voice (x1..: the large per-voice
   patch of the swap), the last one unconnected: the voices sum into the
   output. */
static void
stage_voices(HpHost* const host, const uint32_t voices, const uint32_t extra)
{
  uint32_t pending = 0;
  send(host, "/patch/clear");
  send(host, "/patch/voices %u", voices);
  send(host, "/patch/create midi midi");
  send(host, "/patch/create s0 sine");
  send(host, "/patch/set s0 gain %g", (double)SINE_GAIN);
  send(host, "/patch/create e0 adsr");
  send(host, "/patch/set e0 attack %g", (double)ENV_ATTACK_MS);
  send(host, "/patch/set e0 decay %g", (double)ENV_DECAY_MS);
  send(host, "/patch/set e0 sustain %g", (double)ENV_SUSTAIN);
  send(host, "/patch/set e0 release %g", (double)ENV_RELEASE_MS);
  send(host, "/patch/create f0 biquad");
  send(host, "/patch/set f0 cutoff %g", (double)FILTER_CUTOFF);
  send(host, "/patch/set f0 q %g", (double)FILTER_Q);
  send(host, "/patch/connect midi:freq s0:freq");
  send(host, "/patch/connect midi:gate e0:gate");
  send(host, "/patch/connect s0 e0");
  send(host, "/patch/connect e0 f0");
  for (uint32_t i = 1; i <= extra; ++i) {
    send(host, "/patch/create x%u biquad", i);
    if (i == 1u) {
      send(host, "/patch/connect f0 x1");
    } else {
      send(host, "/patch/connect x%u x%u", i - 1u, i);
    }
    settle(host, &pending, 2u);
  }
}

/* Hold `n_notes` notes (voice_note()) from now on. */
static void
hold_notes(HpHost* const host, const uint32_t n_notes)
{
  for (uint32_t k = 0; k < n_notes; ++k) {
    CHECK(!hp_host_note_on(
      host, hp_host_frames(host), voice_note(n_notes, k), 100u));
  }
}

/* One case of bench_voices(): `voices` voices with `n_notes` held. */
typedef struct {
  uint32_t voices;
  uint32_t n_notes;
  HpHost*  host;
  double   ns[REPEATS];
} VoiceCase;

/* One measured stretch of a case: `samples` frames in blocks of `block`;
   the thread's CPU time a sample, run() and the host's handling of each
   block (a little more than run() alone, as the peers' CPU times include
   writing their file): not wall time, which counts the time other jobs on
   these shared machines take the core. */
static double
voices_stretch(VoiceCase* const c, const uint32_t block, const uint64_t samples)
{
  char            label[96];
  struct timespec t0, t1;
  uint64_t        done = 0;
  hp_host_discard_output(c->host);
  CALLGRIND_ZERO_STATS;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  while (done < samples) {
    CHECK(!hp_host_run(c->host, block));
    done += block;
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  snprintf(
    label, sizeof(label), "voices %u %u %u", c->voices, c->n_notes, block);
  dump(label, done);
  return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
          (double)(t1.tv_nsec - t0.tv_nsec)) /
         (double)done;
}

/* CPU time per sample of each case, blocks of 256, past the attacks: the
   mono voice (1 voice, 1 note), 8 voices with 8 notes, 32 voices with 1
   note, 16 voices with 16 notes.  The cases take turns, a stretch each a
   repeat, so that a swing in the machine's speed (these virtual machines
   are shared) meets them alike.  Each output is checked for its level
   (the report checks every note's pitch and level, from the WAV written
   into `wav_dir`). */
static void
bench_voices(const char* const wav_dir)
{
  const uint32_t block   = 256u;
  const uint64_t samples = under_callgrind ? 48000u : 4u * 48000u;
  const int      repeats = under_callgrind ? 1 : REPEATS;
  VoiceCase      cases[] = {{.voices = 1u, .n_notes = 1u},
                            {.voices = 8u, .n_notes = 8u},
                            {.voices = 32u, .n_notes = 1u},
                            {.voices = 16u, .n_notes = 16u}};
  const size_t   n_cases = sizeof(cases) / sizeof(cases[0]);
  for (size_t k = 0; k < n_cases; ++k) {
    VoiceCase* const c = &cases[k];
    c->host            = make_host(HP_WORKER_SYNC);
    stage_voices(c->host, c->voices, 0u);
    commit_and_swap(c->host, 0.0f, NULL);
    hold_notes(c->host, c->n_notes);
    CHECK(!hp_host_render(
      c->host, 24000u, (HpBlockPolicy){HP_BLOCK_FIXED, block, 0, 0}));
  }
  for (int r = 0; r < repeats; ++r) {
    for (size_t k = 0; k < n_cases; ++k) {
      cases[k].ns[r] = voices_stretch(&cases[k], block, samples);
    }
  }
  for (size_t k = 0; k < n_cases; ++k) {
    VoiceCase* const c = &cases[k];
    CHECK(hp_host_recorded(c->host) >= samples);
    const float* const out  = hp_host_out_l(c->host);
    const double       rms  = hp_sig_rms(out, samples);
    const double       want = voices_rms(c->n_notes);
    const bool         ok =
      hp_sig_finite(out, samples) && fabs(rms / want - 1.0) < 0.05;
    char wav[512] = "";
    if (wav_dir && !under_callgrind) {
      snprintf(wav,
               sizeof(wav),
               "%s/voices-%u-%u.wav",
               wav_dir,
               c->voices,
               c->n_notes);
      CHECK(!hp_sig_write_wav(wav, out, NULL, samples, (unsigned)RATE));
    }
    printf("{\"mode\": \"voices\", \"voices\": %u, \"notes\": [", c->voices);
    for (uint32_t j = 0; j < c->n_notes; ++j) {
      printf("%s%u", j ? ", " : "", voice_note(c->n_notes, j));
    }
    printf("], \"block\": %u, \"ns_per_sample\": %.4f, \"rms\": %.5f, "
           "\"expected_rms\": %.5f, \"wav\": \"%s\", \"ok\": %s}\n",
           block,
           under_callgrind ? 0.0 : median(c->ns, (size_t)repeats),
           rms,
           want,
           wav,
           ok ? "true" : "false");
    fflush(stdout);
    CHECK_MSG(ok,
              "%u voices, %u notes: RMS %.5f, expected %.5f",
              c->voices,
              c->n_notes,
              rms,
              want);
    hp_host_free(c->host);
  }
}

/* The swap with 8 voices held, against the size of a voice: 4 modules
   (midi, sine, adsr, biquad), 16 and 64 (more biquads after the first):
   32 to 512 nodes.  Measured as bench_swap() does. */
static const uint32_t voice_sizes[] = {4u, 16u, 64u};

static void
bench_voice_swap(void)
{
  const uint32_t voices = 8u;
  for (size_t s = 0; s < sizeof(voice_sizes) / sizeof(voice_sizes[0]); ++s) {
    const uint32_t n     = voice_sizes[s];
    const uint32_t swaps = under_callgrind ? 3u : 41u;
    HpHost* const  host  = make_host(HP_WORKER_THREADED);
    stage_voices(host, voices, n - 4u);
    commit_and_swap(host, 0.0f, NULL);
    hold_notes(host, voices);
    char label[64];
    snprintf(label, sizeof(label), "voice_swap %u", n);
    double ns[3];
    measure_swaps(host, 3u /* touch f0's cutoff */, label, swaps, ns);
    /* Every voice still sounding, through the swaps. */
    CHECK(!hp_host_run(host, 256u));
    const double rms = hp_sig_rms(hp_host_out_l(host), hp_host_recorded(host));
    CHECK_MSG(rms > 0.01 &&
                hp_sig_finite(hp_host_out_l(host), hp_host_recorded(host)),
              "%u voices of %u modules: RMS %.5f after the swaps",
              voices,
              n,
              rms);
    if (!under_callgrind) {
      printf("{\"mode\": \"voice_swap\", \"voices\": %u, \"notes\": %u, "
             "\"modules_per_voice\": %u, \"swaps\": %u, "
             "\"swap_block_ns\": %.0f, \"steady_block_ns\": %.0f, "
             "\"swap_cost_ns\": %.0f}\n",
             voices,
             voices,
             n,
             swaps,
             ns[0],
             ns[1],
             ns[2]);
      fflush(stdout);
    }
    hp_host_free(host);
  }
}

/* Effects beside SuperCollider's (tests/bench/peers.py renders the same
   graphs in scsynth): an echo, the seed's sine into a delay of 300 ms with
   feedback 0.5 mixed half and half (SC's CombC); the plain delay, feedback
   0 (DelayC); a reverb, noise into a reverb mixed at 0.33 (FreeVerb2, room
   and damp 0.5), with no predelay, as FreeVerb2 has none, and the decay
   the report gives, which matches FreeVerb2's measured RT60. */
#define ECHO_MS 300.0f
#define ECHO_FEEDBACK 0.5f
#define ECHO_MIX 0.5f
#define ECHO_MAX_S 4.0f
#define VERB_SIZE 0.5f
#define VERB_DAMPING 0.5f
#define VERB_MIX 0.33f

typedef enum { FX_ECHO, FX_DELAY, FX_REVERB, N_FX } Effect;

static const char* const effect_names[N_FX] = {"echo", "delay", "reverb"};

/* `source` (sine, noise, or the effect plugin's input) into the effect. */
static void
stage_effect(HpHost* const     host,
             const Effect      fx,
             const char* const source,
             const float       decay)
{
  send(host, "/patch/clear");
  send(host, "/patch/create src %s", source);
  if (!strcmp(source, "sine")) {
    send(host, "/patch/set src freq %g", (double)SINE_FREQ);
  }
  if (strcmp(source, "input")) {
    send(host, "/patch/set src gain %g", (double)SINE_GAIN);
  }
  if (fx == FX_REVERB) {
    send(host, "/patch/create fx reverb");
    send(host, "/patch/set fx size %g", (double)VERB_SIZE);
    send(host, "/patch/set fx decay %.9g", (double)decay);
    send(host, "/patch/set fx damping %g", (double)VERB_DAMPING);
    send(host, "/patch/set fx predelay 0");
    send(host, "/patch/set fx mix %g", (double)VERB_MIX);
  } else {
    send(host, "/patch/create fx delay");
    send(host, "/patch/set fx time %g", (double)ECHO_MS);
    send(host,
         "/patch/set fx feedback %g",
         fx == FX_ECHO ? (double)ECHO_FEEDBACK : 0.0);
    send(host, "/patch/set fx mix %g", (double)ECHO_MIX);
    send(host, "/patch/set fx max %g", (double)ECHO_MAX_S);
  }
  send(host, "/patch/connect src fx");
}

/* The effect's response to a unit impulse at frame 0 (the effect plugin's
   input -> the effect), `secs` long, into the stereo WAV `path`: the
   report measures the echoes' times and levels, the reverb's decay,
   echo density and stereo correlation from it. */
static void
effect_response(const Effect      fx,
                const float       decay,
                const double      secs,
                const char* const path)
{
  static const float impulse[1] = {1.0f};
  HpHost* const      host =
    hp_host_open(&(HpHostConfig){.plugin_uri  = HP_FX_URI,
                                 .worker_mode = HP_WORKER_SYNC,
                                 .sample_rate = RATE,
                                 .max_block   = 4096u});
  CHECK_MSG(host, "%s", hp_host_last_error());
  stage_effect(host, fx, "input", decay);
  commit_and_swap(host, 0.0f, NULL);
  hp_host_discard_output(host);
  CHECK(!hp_host_set_input(host, impulse, impulse, 1u));
  const size_t n = (size_t)(secs * RATE);
  CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_FIXED, 256u, 0, 0}));
  CHECK(hp_host_recorded(host) >= n);
  CHECK(!hp_sig_write_wav(
    path, hp_host_out_l(host), hp_host_out_r(host), n, (unsigned)RATE));
  hp_host_free(host);
}

/* Each effect's cost in run() (the echo and delay on the seed's sine, the
   reverb on noise at the same gain), past eleven echoes, in blocks of 256,
   its output checked: the echoes of 440 Hz come back in phase (132 whole
   cycles in 300 ms), so the echo settles at the sine's amplitude times
   (1 - mix) + mix / (1 - feedback); the reverb's level is within a factor
   of 2 of the noise's.  Natively, with `wav_dir`, the impulse responses
   too (effect_response()). */
static void
bench_effects(const float decay, const char* const wav_dir)
{
  const uint32_t block   = 256u;
  const uint64_t samples = under_callgrind ? 48000u : 4u * 48000u;
  for (int fx = 0; fx < N_FX; ++fx) {
    HpHost* const host = make_host(HP_WORKER_SYNC);
    stage_effect(host, (Effect)fx, fx == FX_REVERB ? "noise" : "sine", decay);
    commit_and_swap(host, 0.0f, NULL);
    CHECK(!hp_host_render(host,
                          (uint64_t)(3.5 * RATE), /* eleven echoes */
                          (HpBlockPolicy){HP_BLOCK_FIXED, block, 0, 0}));
    double ns[REPEATS];
    char   label[96];
    for (int r = 0; r < (under_callgrind ? 1 : REPEATS); ++r) {
      hp_host_discard_output(host);
      double   run_ns = 0.0;
      uint64_t done   = 0;
      CALLGRIND_ZERO_STATS;
      while (done < samples) {
        CHECK(!hp_host_run(host, block));
        run_ns += (double)hp_host_last_run_ns(host);
        done += block;
      }
      snprintf(label, sizeof(label), "effects %s %u", effect_names[fx], block);
      dump(label, done);
      ns[r] = run_ns / (double)done;
    }
    CHECK(hp_host_recorded(host) >= samples);
    const float* const out = hp_host_out_l(host);
    const double       rms = hp_sig_rms(out, samples);
    const double freq = fx == FX_REVERB ? 0.0 : hp_sig_freq(out, samples, RATE);
    const double feedback = fx == FX_ECHO ? (double)ECHO_FEEDBACK : 0.0;
    const double want =
      fx == FX_REVERB
        ? (double)SINE_GAIN / sqrt(3.0)
        : (double)SINE_GAIN *
            (1.0 - (double)ECHO_MIX + (double)ECHO_MIX / (1.0 - feedback)) /
            sqrt(2.0);
    const bool ok = hp_sig_finite(out, samples) &&
                    (fx == FX_REVERB ? rms > 0.5 * want && rms < 2.0 * want
                                     : fabs(rms / want - 1.0) < 0.02 &&
                                         fabs(freq - (double)SINE_FREQ) < 0.5);
    char wav[512] = "";
    if (wav_dir && !under_callgrind) {
      snprintf(wav, sizeof(wav), "%s/effect-%s.wav", wav_dir, effect_names[fx]);
      effect_response((Effect)fx, decay, fx == FX_REVERB ? 3.0 : 1.3, wav);
    }
    printf("{\"mode\": \"effects\", \"effect\": \"%s\", \"block\": %u, "
           "\"ns_per_sample\": %.4f, \"rms\": %.5f, \"expected_rms\": %.5f, "
           "\"pitch_hz\": %.4f, \"wav\": \"%s\", \"ok\": %s}\n",
           effect_names[fx],
           block,
           under_callgrind ? 0.0 : median(ns, REPEATS),
           rms,
           want,
           freq,
           wav,
           ok ? "true" : "false");
    fflush(stdout);
    CHECK_MSG(ok,
              "%s: RMS %.5f (expected %.5f), %.3f Hz",
              effect_names[fx],
              rms,
              want,
              freq);
    hp_host_free(host);
  }
}

/* Loading and building against patch size */

/* The ops of a test patch as text-protocol lines, creates first, as a
   document lists them.  chain: m0 (saw) -> m1 -> ... (biquads), in signal
   order; links_reversed: the same links listed from the output back (each
   connect's destination already feeds the rest of the chain);
   modules_reversed: the modules created from the output back (each
   connect runs against creation order); fan: one lfo into the frequency of
   n - 2 sines, all into one mixer input. */
static char**
load_ops(const char* const shape,
         const uint32_t    n,
         uint32_t* const   n_ops,
         uint32_t* const   n_links)
{
  char** const ops = (char**)calloc(3u * n, sizeof(char*));
  CHECK(ops && n >= 3u);
  uint32_t k = 0;
  char     line[128];
#define OP(...) \
  (snprintf(line, sizeof(line), __VA_ARGS__), ops[k++] = strdup(line))
  if (!strcmp(shape, "fan")) {
    OP("create lfo lfo");
    OP("create mix mixer");
    for (uint32_t i = 0; i < n - 2u; ++i) {
      OP("create o%u sine", i);
    }
    for (uint32_t i = 0; i < n - 2u; ++i) {
      OP("connect lfo o%u:freq", i);
      OP("connect o%u mix:in1", i);
    }
    *n_links = 2u * (n - 2u);
  } else {
    const bool back_modules = !strcmp(shape, "modules_reversed");
    const bool back_links   = !strcmp(shape, "links_reversed");
    CHECK(back_modules || back_links || !strcmp(shape, "chain"));
    for (uint32_t j = 0; j < n; ++j) {
      const uint32_t i = back_modules ? n - 1u - j : j;
      OP("create m%u %s", i, i ? "biquad" : "saw");
    }
    for (uint32_t j = 1; j < n; ++j) {
      const uint32_t i = back_links ? n - j : j;
      OP("connect m%u m%u", i - 1u, i);
    }
    *n_links = n - 1u;
  }
#undef OP
  for (uint32_t i = 0; i < k; ++i) {
    CHECK(ops[i]);
  }
  *n_ops = k;
  return ops;
}

/* The same ops as a one-scene patch document. */
static char*
load_document(char** const ops, const uint32_t n_ops)
{
  const size_t size = 256u + 96u * n_ops;
  char* const  doc  = (char*)malloc(size);
  CHECK(doc);
  size_t len = (size_t)snprintf(
    doc,
    size,
    "@prefix hp: <urn:hotpatch:ns#> .\n<> a hp:PatchBank ; "
    "hp:formatVersion 1 ; hp:activeScene 0 ;\n hp:scenes ( [ a hp:Scene ; "
    "hp:ops (\n");
  for (uint32_t i = 0; i < n_ops; ++i) {
    char verb[16], a[64], b[64];
    CHECK(sscanf(ops[i], "%15s %63s %63s", verb, a, b) == 3);
    len += (size_t)snprintf(
      doc + len,
      size - len,
      !strcmp(verb, "create")
        ? "  [ a hp:Create ; hp:module \"%s\" ; hp:type \"%s\" ]\n"
        : "  [ a hp:Connect ; hp:source \"%s\" ; hp:dest \"%s\" ]\n",
      a,
      b);
  }
  len += (size_t)snprintf(doc + len, size - len, ") ] ) .\n");
  CHECK(len < size);
  return doc;
}

static HpPatch*
load_text(char** const ops, const uint32_t n_ops)
{
  HpPatch* const patch = hp_patch_new();
  CHECK(patch);
  for (uint32_t i = 0; i < n_ops; ++i) {
    HpOp    op;
    HpError err = {HP_SUCCESS, ""};
    CHECK_MSG(!hp_op_parse_text(ops[i], &op, &err) &&
                !hp_patch_apply(patch, &op, &err),
              "%s: %s",
              ops[i],
              err.message);
  }
  return patch;
}

/* One measured stretch: timed natively, counted under callgrind. */
typedef enum { LOAD_DOC, LOAD_TEXT, LOAD_BUILD } LoadStep;

static double
load_step(const LoadStep       step,
          const char* const    doc,
          char** const         ops,
          const uint32_t       n_ops,
          const HpPatch* const patch)
{
  HpError  err   = {HP_SUCCESS, ""};
  HpBank*  bank  = step == LOAD_DOC ? hp_bank_new() : NULL;
  HpPatch* text  = NULL;
  HpGraph* graph = NULL;
  if (under_callgrind) {
    CALLGRIND_ZERO_STATS;
    CALLGRIND_TOGGLE_COLLECT;
  }
  const double t0 = now_ns();
  switch (step) {
  case LOAD_DOC:
    hp_doc_read(doc, NULL, bank, &err);
    break;
  case LOAD_TEXT:
    text = load_text(ops, n_ops);
    break;
  case LOAD_BUILD:
    graph = hp_graph_new(patch, NULL, (float)RATE, &err);
    break;
  }
  const double ms = (now_ns() - t0) * 1e-6;
  if (under_callgrind) {
    CALLGRIND_TOGGLE_COLLECT;
  }
  CHECK_MSG(!err.message[0], "%s", err.message);
  CHECK(step != LOAD_DOC || bank->scenes[0]->n_modules == patch->n_modules);
  hp_bank_free(bank);
  hp_patch_free(text);
  hp_graph_free(graph);
  return ms;
}

static void
bench_load(const uint32_t           n,
           const char* const* const shapes,
           const size_t             n_shapes)
{
  static const char* const steps[] = {"doc", "text", "build"};
  for (size_t s = 0; s < n_shapes; ++s) {
    uint32_t       n_ops   = 0;
    uint32_t       n_links = 0;
    char** const   ops     = load_ops(shapes[s], n, &n_ops, &n_links);
    char* const    doc     = load_document(ops, n_ops);
    HpPatch* const patch   = load_text(ops, n_ops);
    CHECK(patch->n_modules == n && patch->n_links == n_links);
    double ms[3];
    for (int step = LOAD_DOC; step <= LOAD_BUILD; ++step) {
      /* Repeats for a median, fewer where one takes long (before the
         loaders were linear, 4,096 modules took seconds). */
      double t[REPEATS];
      int    r     = 0;
      double total = 0.0;
      do {
        t[r] = load_step((LoadStep)step, doc, ops, n_ops, patch);
        total += t[r++];
      } while (!under_callgrind && r < REPEATS && total < 2000.0);
      ms[step] = median(t, (size_t)r);
      if (under_callgrind) {
        char label[96];
        snprintf(
          label, sizeof(label), "load %s %u %s", shapes[s], n, steps[step]);
        dump(label, 1u);
      }
    }
    if (!under_callgrind) {
      printf("{\"mode\": \"load\", \"shape\": \"%s\", \"modules\": %u, "
             "\"links\": %u, \"doc_ms\": %.3f, \"text_ms\": %.3f, "
             "\"build_ms\": %.3f}\n",
             shapes[s],
             n,
             n_links,
             ms[LOAD_DOC],
             ms[LOAD_TEXT],
             ms[LOAD_BUILD]);
      fflush(stdout);
    }
    hp_patch_free(patch);
    free(doc);
    for (uint32_t i = 0; i < n_ops; ++i) {
      free(ops[i]);
    }
    free(ops);
  }
}

int
main(int argc, char** argv)
{
  under_callgrind = RUNNING_ON_VALGRIND;
  if (argc >= 2 && !strcmp(argv[1], "modules")) {
    bench_modules();
  } else if (argc >= 4 && !strcmp(argv[1], "chain")) {
    bench_chain((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]));
  } else if (argc >= 2 && !strcmp(argv[1], "prime")) {
    bench_prime();
  } else if (argc >= 2 && !strcmp(argv[1], "swap")) {
    bench_swap();
  } else if (argc >= 2 && !strcmp(argv[1], "voices")) {
    bench_voices(argc >= 3 ? argv[2] : NULL);
  } else if (argc >= 2 && !strcmp(argv[1], "voice_swap")) {
    bench_voice_swap();
  } else if (argc >= 3 && !strcmp(argv[1], "effects")) {
    bench_effects((float)atof(argv[2]), argc >= 4 ? argv[3] : NULL);
  } else if (argc >= 3 && !strcmp(argv[1], "load")) {
    static const char* const all[] = {
      "chain", "links_reversed", "modules_reversed", "fan"};
    if (argc > 3) {
      bench_load((uint32_t)atoi(argv[2]),
                 (const char* const*)argv + 3,
                 (size_t)argc - 3u);
    } else {
      bench_load((uint32_t)atoi(argv[2]), all, sizeof(all) / sizeof(all[0]));
    }
  } else {
    fprintf(stderr,
            "usage: hp_bench modules | chain N BLOCK | prime | swap | "
            "voices [WAV_DIR] | voice_swap | effects DECAY [WAV_DIR] | "
            "load N [SHAPE...]\n");
    return 2;
  }
  return 0;
}
