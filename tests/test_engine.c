/* The hot-swap mechanism, driven directly (no LV2): the worker is called by
   hand, so every interleaving here is deterministic. */

#include "check.h"
#include "engine.h"
#include "signal.h"

#include <math.h>
#include <string.h>

#define RATE 48000.0f

static HpEngine* engine;
static float     out_l[1 << 20];
static float     out_r[1 << 20];
static size_t    frames;

static void
submit(const char* const line, const int32_t seq)
{
  HpOp    op;
  HpError err;
  CHECK_MSG(!hp_op_parse_text(line, &op, &err), "%s: %s", line, err.message);
  op.seq = seq;
  CHECK(!hp_engine_submit(engine, &op));
}

static void
submit_op(HpOp* const op)
{
  CHECK(!hp_engine_submit(engine, op));
}

static void
render(const uint32_t n)
{
  hp_engine_begin(engine, n);
  hp_engine_render(engine, out_l + frames, out_r + frames, n);
  frames += n;
}

/* Collect notifications; return how many of `type` came. */
static HpEvent events[256];
static size_t  n_events;

static void
drain(void)
{
  HpEvent ev;
  while (hp_engine_next_event(engine, &ev)) {
    CHECK(n_events < 256);
    events[n_events++] = ev;
  }
}

static const HpEvent*
find(const HpEventType type, const int32_t seq)
{
  for (size_t i = 0; i < n_events; ++i) {
    if (events[i].type == type && events[i].seq == seq) {
      return &events[i];
    }
  }
  return NULL;
}

static void
reset(void)
{
  hp_engine_free(engine);
  engine   = hp_engine_new(RATE, NULL, NULL, NULL, NULL, false);
  frames   = 0;
  n_events = 0;
  CHECK(engine);
}

/* The seed's scenario 1 at engine level: create, commit, tone. */
static void
test_single_oscillator(void)
{
  reset();
  submit("/patch/create osc1 simple_sine", 1);
  submit("/patch/commit", 2);
  hp_engine_work(engine);
  drain();
  CHECK(find(HP_EVENT_ACK, 1));
  const HpEvent* primed = find(HP_EVENT_PRIMED, 2);
  CHECK(primed && primed->module_count == 1 && primed->generation == 1);
  CHECK_MSG(fabsf(primed->warmup_rms - 0.5f / sqrtf(2.0f)) < 0.01f,
            "rms %f",
            (double)primed->warmup_rms);
  render(48000);
  drain();
  CHECK(find(HP_EVENT_SWAPPED, 2));
  const double f = hp_sig_freq(out_l + 4800, 43200, RATE);
  CHECK_MSG(fabs(f - 440.0) < 0.1, "pitch %f", f);
  printf("# engine: single oscillator primed in %.3f ms, plays %.3f Hz\n",
         (double)primed->prime_ms,
         f);
}

/* The largest difference of the output so far from a sine module "osc1"
   (defaults) in an engine of its own that never swaps. */
static float
diff_from_unswapped_sine(void)
{
  static float    ref_l[20000];
  static float    ref_r[20000];
  HpEngine* const swapped = engine;
  CHECK(frames <= 20000u);
  engine = hp_engine_new(RATE, NULL, NULL, NULL, NULL, false);
  submit("create osc1 sine", -1);
  submit("commit crossfade=0", -1);
  hp_engine_work(engine);
  hp_engine_begin(engine, (uint32_t)frames);
  hp_engine_render(engine, ref_l, ref_r, (uint32_t)frames);
  hp_engine_free(engine);
  engine      = swapped;
  float worst = 0.0f;
  for (size_t i = 0; i < frames; ++i) {
    worst = fmaxf(worst, fabsf(out_l[i] - ref_l[i]));
  }
  return worst;
}

/* A kept oscillator keeps its phase when an envelope is added after it. */
static void
test_phase_continuity(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit crossfade=0", -1);
  hp_engine_work(engine);
  render(10000);
  const size_t swap_at = frames;
  submit("create env1 adsr", -1);
  submit("set env1 attack 0", -1);
  submit("set env1 decay 0", -1);
  submit("set env1 sustain 1", -1);
  submit("connect osc1 env1", -1);
  submit("prime env1 gate 1", -1);
  submit("commit crossfade=0", 7);
  hp_engine_work(engine);
  render(10000);
  drain();
  CHECK(find(HP_EVENT_SWAPPED, 7));
  /* osc1 alone and osc1 through a fully open envelope are the same wave:
     the output must continue as one sine across the swap. */
  const float step_before = hp_sig_max_step(out_l + 100, swap_at - 100);
  const float step_across = hp_sig_max_step(out_l + swap_at - 100, 200);
  CHECK_MSG(step_across <= step_before * 1.01f,
            "step %f vs %f",
            (double)step_across,
            (double)step_before);
  /* Sample for sample, the same as osc1 alone that never swapped. */
  const float worst = diff_from_unswapped_sine();
  CHECK_MSG(worst < 1e-6f,
            "largest difference from the unswapped oscillator %g",
            (double)worst);
  printf(
    "# engine: phase kept across a swap: max step %.5f across, %.5f before\n",
    (double)step_across,
    (double)step_before);
}

/* Kept modules through crossfades: the new graph plays on from the state
   it adopted while the outgoing one fades on its own copy.  Both play the
   same oscillator, so with equal-gain fades the output stays the sine that
   never swapped; were the state shared, or copied late, its phase would
   run double during each fade. */
static void
test_crossfade_keeps_state(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit crossfade=0", -1);
  hp_engine_work(engine);
  const size_t total = 20000;
  for (int c = 0; c < 4; ++c) {
    while (frames < (size_t)(c + 1) * 4000u) {
      render(256);
    }
    char line[64];
    snprintf(line, sizeof(line), "create k%d const", c);
    submit(line, -1);
    submit("commit crossfade=20", 20 + c);
    hp_engine_work(engine);
  }
  while (frames + 256u <= total) {
    render(256);
  }
  drain();
  for (int c = 0; c < 4; ++c) {
    CHECK_MSG(find(HP_EVENT_SWAPPED, 20 + c), "commit %d did not swap", c);
  }
  const float worst = diff_from_unswapped_sine();
  CHECK_MSG(worst < 1e-5f,
            "largest difference from the unswapped oscillator %g",
            (double)worst);
  printf("# engine: 4 crossfaded swaps keeping the oscillator: largest "
         "difference from one never swapped %.2g\n",
         (double)worst);
}

/* A burst of commits: the last one wins, earlier ones are superseded. */
static void
test_burst(void)
{
  reset();
  char line[64];
  for (int i = 0; i < 40; ++i) {
    snprintf(line, sizeof(line), "create osc%d saw", i);
    submit(line, -1);
    submit("commit", 100 + i);
  }
  hp_engine_work(engine);
  render(4096);
  drain();
  size_t superseded = 0;
  for (int i = 0; i < 39; ++i) {
    const HpEvent* ev = find(HP_EVENT_ERROR, 100 + i);
    superseded += ev && ev->status == HP_ERR_SUPERSEDED;
  }
  CHECK_MSG(superseded == 39, "%zu superseded", superseded);
  const HpEvent* swapped = find(HP_EVENT_SWAPPED, 139);
  CHECK(swapped && swapped->generation == 40);
  HpEngineStatus status;
  hp_engine_status(engine, &status);
  CHECK(status.module_count == 40 && status.swaps == 1);
}

/* Abort drops what is staged and cancels an unswapped standby. */
static void
test_abort(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit", -1);
  hp_engine_work(engine);
  render(256);
  submit("create osc2 sine", -1);
  submit("commit", 5);
  hp_engine_work(engine); /* primed and published, not yet swapped */
  submit("abort", 6);
  hp_engine_work(engine);
  render(256);
  drain();
  CHECK(find(HP_EVENT_PRIMED, 5));
  const HpEvent* err = find(HP_EVENT_ERROR, 5);
  CHECK(err && err->status == HP_ERR_SUPERSEDED &&
        strstr(err->message, "aborted"));
  CHECK(find(HP_EVENT_ACK, 6));
  CHECK(!find(HP_EVENT_SWAPPED, 5));
  HpEngineStatus status;
  hp_engine_status(engine, &status);
  CHECK(status.module_count == 1);
  /* osc2 was dropped with the abort: committing again has nothing new. */
  submit("commit", 8);
  hp_engine_work(engine);
  drain();
  const HpEvent* nothing = find(HP_EVENT_ERROR, 8);
  CHECK(nothing && nothing->status == HP_ERR_NOTHING_STAGED);
}

/* A silent warm-up with requireSignal fails; the playing patch goes on. */
static void
test_warmup_check(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit", -1);
  hp_engine_work(engine);
  render(1024);
  submit("create env1 adsr", -1);
  submit("connect osc1 env1", -1);
  submit("commit require_signal", 9);
  hp_engine_work(engine);
  render(4096);
  drain();
  const HpEvent* err = find(HP_EVENT_ERROR, 9);
  CHECK(err && err->status == HP_ERR_WARMUP);
  CHECK_MSG(strstr(err->message, "warm-up was silent"), "%s", err->message);
  CHECK(hp_sig_rms(out_l + 1024, 4096) > 0.3);
  /* The same commit primed with a gate passes. */
  HpOp prime;
  hp_op_init(&prime, HP_OP_PRIME_GATE);
  strcpy(prime.set.module, "env1");
  prime.set.value = 1.0f;
  submit_op(&prime);
  submit("commit require_signal", 10);
  hp_engine_work(engine);
  render(4096);
  drain();
  CHECK(find(HP_EVENT_SWAPPED, 10));
  /* Prime ops that name nothing fail the commit with the op's number. */
  hp_op_init(&prime, HP_OP_PRIME_SET);
  strcpy(prime.set.module, "osc9");
  strcpy(prime.set.param, "freq");
  submit_op(&prime);
  submit("create osc3 sine", -1);
  submit("commit", 11);
  hp_engine_work(engine);
  drain();
  err = find(HP_EVENT_ERROR, 11);
  CHECK(err && strstr(err->message, "prime op 1: no module 'osc9'"));
}

/* Live sets reach the playing graph at once and are kept by commits. */
static void
test_live_set(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit", -1);
  hp_engine_work(engine);
  render(4800);
  submit("set osc1 freq 880", -1);
  render(48000);
  double f = hp_sig_freq(out_l + 9600, 43200, RATE);
  CHECK_MSG(fabs(f - 880.0) < 0.1, "pitch after live set %f", f);
  submit("create osc2 sine", -1);
  submit("set osc2 gain 0", -1);
  submit("commit", -1);
  hp_engine_work(engine);
  render(48000);
  f = hp_sig_freq(out_l + frames - 43200, 43200, RATE);
  CHECK_MSG(fabs(f - 880.0) < 0.1, "pitch after commit %f", f);
}

/* Live sets between a commit and its swap, however many, reach the new
   graph by both roads: run() takes the standby while they are still
   queued (it replays them), or the worker gets to them first (it puts
   them in the standby).  A ring of the latest 64 lost the first. */
static void
test_live_sets_to_standby(void)
{
  for (int worker_first = 0; worker_first < 2; ++worker_first) {
    reset();
    submit("create osc1 sine", -1);
    submit("set osc1 gain 0.2", -1);
    submit("create k0 const", -1);
    submit("commit crossfade=0", -1);
    hp_engine_work(engine);
    render(256);
    submit("create k1 const", -1);
    submit("commit crossfade=0", 1);
    if (!worker_first) {
      hp_engine_work(engine); /* published; the sets below stay queued */
    }
    submit("set osc1 gain 0.02", -1);
    for (int i = 0; i < 100; ++i) {
      char line[64];
      snprintf(line, sizeof(line), "set k0 value %d", i);
      submit(line, -1);
    }
    if (worker_first) {
      hp_engine_work(engine); /* commit, then the sets: all before the swap */
    }
    render(256);
    drain();
    CHECK(find(HP_EVENT_SWAPPED, 1));
    /* (Sets that reach the swap gliding glide on in the new graph: 5 ms.) */
    render(9600);
    const double rms = hp_sig_rms(out_l + frames - 4800, 4800);
    CHECK_MSG(fabs(rms - 0.02 / sqrt(2.0)) < 0.0005,
              "%s: RMS %.4f after 101 sets, want %.4f",
              worker_first ? "worker first" : "run() first",
              rms,
              0.02 / sqrt(2.0));
    hp_engine_work(engine);
  }
  printf("# engine: 101 live sets between a commit and its swap all reach it, "
         "replayed by run() or put in the standby by the worker\n");
}

/* A default patch whose commit fails (its warm-up is far too loud) leaves
   a working, silent engine, and says why. */
static char logged[HP_MESSAGE_MAX];

static void
log_to(void* const handle, const bool error, const char* const message)
{
  (void)handle;
  (void)error;
  snprintf(logged, sizeof(logged), "%s", message);
}

static void
test_failed_default_patch(void)
{
  HpEngine* e = hp_engine_new(RATE,
                              log_to,
                              NULL,
                              NULL,
                              "/patch/create c const\n"
                              "/patch/set c value 20000\n"
                              "/patch/connect c out\n",
                              false);
  CHECK(e);
  CHECK_MSG(
    strstr(logged, "warm-up peak 20000.0 is above 64"), "logged: %s", logged);
  float l[256];
  float r[256];
  hp_engine_begin(e, 256);
  hp_engine_render(e, l, r, 256);
  CHECK(hp_sig_peak(l, 256) == 0.0f);
  hp_engine_free(e);
}

/* Kept modules warm up on copies of their current state: with a note held
   through the playing graph (the gate comes from `midi`, not from a
   parameter), a trivial edit passes require_signal, and hp:warmupRms is
   what plays. */
static void
test_warmup_from_playing(void)
{
  reset();
  static const char* const lines[] = {"create m midi",
                                      "create osc1 sine",
                                      "create env1 adsr",
                                      "connect m osc1:freq",
                                      "connect m:gate env1:gate",
                                      "connect osc1 env1",
                                      "commit crossfade=0"};
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); ++i) {
    submit(lines[i], -1);
  }
  hp_engine_work(engine);
  render(256);
  static const uint8_t note_on[] = {0x90, 69, 100};
  hp_engine_midi(engine, note_on, sizeof(note_on));
  while (frames < 9600) {
    render(256);
  }
  const double playing = hp_sig_rms(out_l + frames - 2048, 2048);
  submit("create k const", -1);
  submit("commit require_signal", 30);
  hp_engine_work(engine);
  drain();
  const HpEvent* err    = find(HP_EVENT_ERROR, 30);
  const HpEvent* primed = find(HP_EVENT_PRIMED, 30);
  CHECK_MSG(!err,
            "a trivial edit with a note held failed: %s",
            err ? err->message : "");
  CHECK(primed);
  const double ratio = (double)primed->warmup_rms / playing;
  CHECK_MSG(fabs(ratio - 1.0) < 0.02,
            "warm-up RMS %.4f, playing %.4f",
            (double)primed->warmup_rms,
            playing);
  render(256);
  drain();
  CHECK(find(HP_EVENT_SWAPPED, 30));
  printf("# engine: note held, trivial edit with require_signal: warm-up RMS "
         "%.4f, playing %.4f\n",
         (double)primed->warmup_rms,
         playing);
}

/* NaN (here Inf) from the outgoing graph of a crossfade silences that
   graph alone: the incoming one fades in as it would from silence. */
static void
test_outgoing_nan(void)
{
  reset();
  char line[64];
  submit("create c const", -1);
  /* 29 mixers of gain 16 (four inputs at level 2, gain 2): 20000 * 16^29
     overflows a float. */
  for (int i = 1; i <= 29; ++i) {
    snprintf(line, sizeof(line), "create m%d mixer", i);
    submit(line, -1);
    for (int k = 1; k <= 4; ++k) {
      if (i == 1) {
        snprintf(line, sizeof(line), "connect c m1:in%d", k);
      } else {
        snprintf(line, sizeof(line), "connect m%d m%d:in%d", i - 1, i, k);
      }
      submit(line, -1);
      snprintf(line, sizeof(line), "set m%d level%d 2", i, k);
      submit(line, -1);
    }
    snprintf(line, sizeof(line), "set m%d gain 2", i);
    submit(line, -1);
  }
  submit("commit crossfade=0", -1);
  hp_engine_work(engine);
  render(256);
  submit("set c value 20000", -1);
  render(256);
  render(256);
  CHECK_MSG(hp_sig_peak(out_l + frames - 256, 256) == 0.0f,
            "the overflowing graph is silenced");
  submit("clear", -1);
  submit("create osc1 sine", -1);
  submit("commit crossfade=20", 40);
  hp_engine_work(engine);
  const size_t swap_at = frames;
  while (frames < swap_at + 960) {
    render(64);
  }
  drain();
  CHECK(find(HP_EVENT_SWAPPED, 40));
  /* 0.5 sin(w t) under an equal-power fade-in sin(pi/2 t/T): RMS 0.25. */
  const double fade_rms = hp_sig_rms(out_l + swap_at, 960);
  CHECK_MSG(fabs(fade_rms - 0.25) < 0.02,
            "RMS during the crossfade %.4f (0.25 expected)",
            fade_rms);
  printf("# engine: crossfade from a graph that overflows: RMS %.4f during "
         "the fade (0.25 expected)\n",
         fade_rms);
}

/* A swap taken after a block's last frame (hp_engine_end() asks for work
   and takes what a synchronous worker made ready) plays from the next
   block's frame 0, and says so: hp:frame stays inside the block it is sent
   in. */
static void
test_swap_after_block_end(void)
{
  reset();
  submit("create osc1 sine", -1);
  submit("commit crossfade=0", 60);
  hp_engine_begin(engine, 256);
  hp_engine_render(engine, out_l, out_r, 256);
  hp_engine_work(engine);
  hp_engine_end(engine);
  drain();
  CHECK_MSG(!find(HP_EVENT_SWAPPED, 60),
            "hp:Swapped at frame %u of 256",
            find(HP_EVENT_SWAPPED, 60)->frame);
  hp_engine_begin(engine, 256);
  hp_engine_render(engine, out_l + 256, out_r + 256, 256);
  drain();
  const HpEvent* swapped = find(HP_EVENT_SWAPPED, 60);
  CHECK(swapped && swapped->frame == 0 && find(HP_EVENT_ACK, 60));
  CHECK(hp_sig_peak(out_l, 256) == 0.0f &&
        hp_sig_peak(out_l + 256, 256) > 0.4f);
}

int
main(void)
{
  test_failed_default_patch();
  test_single_oscillator();
  test_phase_continuity();
  test_crossfade_keeps_state();
  test_burst();
  test_abort();
  test_warmup_check();
  test_live_set();
  test_live_sets_to_standby();
  test_warmup_from_playing();
  test_outgoing_nan();
  test_swap_after_block_end();
  hp_engine_free(engine);
  return 0;
}
