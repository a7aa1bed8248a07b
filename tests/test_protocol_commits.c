/*
  The patch protocol (README, "The patch protocol") end to end, part 2: staging
  and abort, a burst of commits, a failing commit, a superseded commit's note,
  live sets and gates, phase continuity and sample accuracy; through the
  lilv test host with a threaded worker (like jalv) and a synchronous one
  (like Ardour's export).  The other parts: test_protocol_messages.c,
  test_protocol_notify.c.

  Harness failures stop at once with CHECK; findings about the plugin are
  counted with EXPECT, and the program exits 1 if any was found.
*/

#include "host.h"
#include "protocol.h"
#include "signal.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 3. Staging: nothing is heard before the commit; abort */

static void
test_staging(const HpWorkerMode mode)
{
  /* Threaded: the worker sleeps (up to 20 ms) before each work() call, as
     a busy host's might, so a commit and an abort sent on consecutive
     frames both wait in the queue for the same work() call. */
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode         = mode;
  cfg.seed                = 3;
  cfg.worker_delay_max_us = mode == HP_WORKER_THREADED ? 20000 : 0;
  HpHost* const host      = fx_host_cfg(cfg);
  const Sound   before    = play_base(host, 1);

  /* Staged, not committed: a second oscillator is not heard. */
  fx_send(host, 10, "/patch/create osc2 sine");
  fx_send(host, 11, "/patch/set osc2 freq 1000");
  fx_send(host, 12, "/patch/set osc2 gain 0.3");
  settle(host);
  uint64_t    from   = hp_host_frames(host);
  const Sound staged = listen(host, 24000);
  double db1000 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  EXPECT(
    fabs(staged.freq - 440.0) < 0.05 && fabs(staged.rms - before.rms) < 0.001 &&
      db1000 < -100.0,
    "%s worker: staged osc2 audible before commit: %.3f Hz, RMS %.4f, 1 kHz "
    "at %.1f dB",
    fx_mode_name(mode),
    staged.freq,
    staged.rms,
    db1000);
  const double staged_db = db1000;

  /* Abort drops it: the next commit has nothing to build. */
  fx_send(host, 13, "/patch/abort");
  settle(host);
  fx_send(host, 14, "/patch/commit");
  settle(host);
  const HpHostEvent* a = hp_host_find_reply(host, 13);
  const HpHostEvent* c = hp_host_find_reply(host, 14);
  EXPECT(a && a->kind == HP_EV_ACK,
         "%s worker: abort answered %s",
         fx_mode_name(mode),
         a ? hp_host_event_kind_name(a->kind) : "nothing");
  EXPECT(c && c->kind == HP_EV_ERROR && c->message &&
           !strncmp(c->message, "nothing staged to commit", 24),
         "%s worker: commit after abort: %s",
         fx_mode_name(mode),
         c ? text_or(c->message, hp_host_event_kind_name(c->kind))
           : "no reply");
  from = hp_host_frames(host);
  render(host, 24000);
  db1000 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  EXPECT(db1000 < -100.0, "1 kHz at %.1f dB after abort", db1000);

  /* Abort after a commit in the same block, the next frame. */
  fx_send(host, -1, "/patch/create osc2 sine");
  fx_send(host, -1, "/patch/set osc2 freq 1000");
  fx_send(host, -1, "/patch/set osc2 gain 0.3");
  const uint64_t at = hp_host_frames(host) + 100;
  commit_at(host, at, 20, 0.0f, NULL, 0);
  fx_send_at(host, at + 1, 21, "/patch/abort");
  settle(host);
  render(host, 4800);
  from = hp_host_frames(host);
  render(host, 24000);
  db1000 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  const HpHostEvent* sw  = hp_host_find_event(host, HP_EV_SWAPPED, 20);
  const HpHostEvent* rep = hp_host_find_reply(host, 20);
  const HpHostEvent* ab  = hp_host_find_reply(host, 21);
  EXPECT(ab && ab->kind == HP_EV_ACK,
         "abort 21: %s",
         ab ? hp_host_event_kind_name(ab->kind) : "no reply");
  if (mode == HP_WORKER_SYNC) {
    /* The worker runs inside schedule_work(): the commit swapped at its own
       frame, before the abort arrived; the abort finds nothing to cancel. */
    EXPECT(sw && sw->frame_abs == at,
           "sync: commit 20 swapped at %lld, sent at %llu",
           sw ? (long long)sw->frame_abs : -1LL,
           (unsigned long long)at);
    EXPECT(
      fabs(db1000 - 20.0 * log10(0.3)) < 0.5, "sync: osc2 at %.2f dB", db1000);
  } else {
    /* One work() call sees both: the commit is primed, then taken back. */
    EXPECT(!sw,
           "threaded: aborted commit 20 swapped in at %llu",
           sw ? (unsigned long long)sw->frame_abs : 0ull);
    EXPECT(rep && rep->kind == HP_EV_ERROR && rep->message &&
             strstr(rep->message, "was aborted before it swapped in"),
           "threaded: commit 20 answered %s",
           rep ? text_or(rep->message, hp_host_event_kind_name(rep->kind))
               : "nothing");
    EXPECT(db1000 < -100.0, "threaded: aborted osc2 heard at %.1f dB", db1000);
  }
  fx_send(host, 22, "/patch/commit");
  settle(host);
  c = hp_host_find_reply(host, 22);
  EXPECT(c && c->kind == HP_EV_ERROR && c->message &&
           !strncmp(c->message, "nothing staged to commit", 24),
         "%s worker: commit after the same-block abort: %s",
         fx_mode_name(mode),
         c ? text_or(c->message, hp_host_event_kind_name(c->kind))
           : "no reply");
  from = hp_host_frames(host);
  render(host, 24000);
  const double db440 =
    hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 440.0);
  EXPECT(fabs(db440 - 20.0 * log10(0.2)) < 0.5, "osc1 at %.2f dB", db440);
  printf(
    "# %s worker: staged osc2 unheard (1 kHz at %.0f dB) until commit; abort "
    "empties the stage; commit+abort on consecutive frames: %s (%s, 1 kHz "
    "at %.1f dB)\n",
    fx_mode_name(mode),
    staged_db,
    mode == HP_WORKER_SYNC ? "the commit swapped at its frame"
                           : "the standby was taken back",
    rep ? text_or(rep->message, hp_host_event_kind_name(rep->kind)) : "swapped",
    db1000);
  hp_host_free(host);
}

/* 4. A burst of 50 commits in one block */

static void
test_burst(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 4);
  play_base(host, 1); /* 2 modules */
  hp_host_clear_events(host);
  const float    swaps_before = hp_host_control_out(host, "swaps");
  const int      n            = 50;
  const uint64_t start        = hp_host_frames(host) + 10;
  for (int i = 0; i < n; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/create c%d const", i);
    fx_send_at(host, start + 2u * (uint64_t)i, -1, line);
    /* Sync: crossfade 0 so each swaps at its frame (a swap waits for the
       previous crossfade to end); threaded: the default 20 ms. */
    commit_at(host,
              start + 2u * (uint64_t)i + 1u,
              100 + i,
              mode == HP_WORKER_SYNC ? 0.0f : -1.0f,
              NULL,
              0);
  }
  CHECK(start + 2u * (uint64_t)n < hp_host_frames(host) + BLOCK);
  const HpHostEvent* last = NULL;
  for (int k = 0; k < 100 && !last; ++k) {
    settle(host);
    last = hp_host_find_event(host, HP_EV_SWAPPED, 100 + n - 1);
  }
  settle(host);
  EXPECT(last != NULL,
         "%s worker: no hp:Swapped for the last commit of the burst",
         fx_mode_name(mode));

  int     swapped = 0, superseded = 0, other = 0, first_other = -1;
  int64_t last_gen = -1;
  int     last_seq = -1;
  bool    ordered  = true;
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    if (ev->kind == HP_EV_SWAPPED) {
      ordered &= ev->generation > last_gen && ev->seq > last_seq;
      last_gen = ev->generation;
      last_seq = ev->seq;
    }
  }
  for (int i = 0; i < n; ++i) {
    const HpHostEvent* sw  = hp_host_find_event(host, HP_EV_SWAPPED, 100 + i);
    const HpHostEvent* err = hp_host_find_event(host, HP_EV_ERROR, 100 + i);
    if (sw && !err) {
      ++swapped;
      if (mode == HP_WORKER_SYNC) {
        EXPECT(sw->frame_abs == start + 2u * (uint64_t)i + 1u,
               "sync: commit %d swapped at %llu",
               100 + i,
               (unsigned long long)sw->frame_abs);
      }
    } else if (!sw && err && err->message &&
               strstr(err->message, "superseded")) {
      ++superseded;
    } else {
      first_other = other++ ? first_other : 100 + i;
    }
  }
  const size_t n_primed = hp_host_count_events(host, HP_EV_PRIMED);
  const float  swaps    = hp_host_control_out(host, "swaps") - swaps_before;
  EXPECT(!other,
         "%s worker: %d of %d commits neither swapped (no hp:Swapped) nor got "
         "an error, the first seq %d; %zu hp:Primed, the swaps port counted %g "
         "swaps",
         fx_mode_name(mode),
         other,
         n,
         first_other,
         n_primed,
         (double)swaps);
  EXPECT(
    ordered, "%s worker: a Swapped arrived out of order", fx_mode_name(mode));
  if (mode == HP_WORKER_SYNC) {
    EXPECT(
      swapped == n, "sync: %d of %d commits reported hp:Swapped", swapped, n);
  }
  const float modules = hp_host_control_out(host, "modules");
  EXPECT(modules == (float)(n + 2),
         "%s worker: %g modules after the burst, want %d",
         fx_mode_name(mode),
         (double)modules,
         n + 2);
  const Sound s = listen(host, 9600);
  EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.1414) < 0.002,
         "after the burst: %.3f Hz RMS %.4f",
         s.freq,
         s.rms);
  printf(
    "# %s worker: 50 commits in one block: %d reported swapped, %d "
    "superseded, %d unanswered (%g swaps done); swaps in order; %g modules "
    "playing\n",
    fx_mode_name(mode),
    swapped,
    superseded,
    other,
    (double)swaps,
    (double)modules);
  hp_host_free(host);
}

/* 4b. A failing commit cancels nothing: an earlier good one, not yet
   swapped, still swaps (the two in one block, as the review sent them). */

static void
test_failing_commit(const HpWorkerMode mode)
{
  /* Threaded: the worker sleeps up to 20 ms first, so both commits wait
     for the same work() call. */
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode         = mode;
  cfg.seed                = 9;
  cfg.worker_delay_max_us = mode == HP_WORKER_THREADED ? 20000 : 0;
  HpHost* const host      = fx_host_cfg(cfg);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create s1 sine");
  fx_send(host, 1, "/patch/commit");
  fx_send(host, -1, "/patch/create e1 adsr");
  fx_send(host, -1, "/patch/connect s1 e1");
  HpHostCommit opts;
  memset(&opts, 0, sizeof(opts));
  opts.set_require_signal = true;
  opts.require_signal     = true;
  CHECK(!hp_host_send_commit(host, hp_host_frames(host), 2, &opts));
  settle(host);
  render(host, 4800);
  const Sound        s    = listen(host, 9600);
  const HpHostEvent* good = hp_host_find_reply(host, 1);
  const HpHostEvent* bad  = hp_host_find_reply(host, 2);
  EXPECT(good && good->kind == HP_EV_ACK &&
           hp_host_find_event(host, HP_EV_SWAPPED, 1),
         "%s worker: the good commit answered %s",
         fx_mode_name(mode),
         good ? text_or(good->message, hp_host_event_kind_name(good->kind))
              : "nothing");
  EXPECT(bad && bad->kind == HP_EV_ERROR && bad->message &&
           strstr(bad->message, "warm-up was silent"),
         "%s worker: the silent commit answered %s",
         fx_mode_name(mode),
         bad ? text_or(bad->message, hp_host_event_kind_name(bad->kind))
             : "nothing");
  EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.5 / sqrt(2.0)) < 0.002,
         "%s worker: after a good and a failing commit: %.3f Hz RMS %.4f, want "
         "the good one's 440 Hz at 0.3536",
         fx_mode_name(mode),
         s.freq,
         s.rms);
  printf("# %s worker: clear, create s1, commit, then a commit that fails "
         "(require_signal) in one block: the first %s, plays %.3f Hz at RMS "
         "%.4f\n",
         fx_mode_name(mode),
         good ? text_or(good->message, "swapped") : "unanswered",
         s.freq,
         s.rms);
  hp_host_free(host);
}

/* 4c. A superseded commit is normal use: a note in the host's log, never an
   error (Ardour shows plugin errors to the user); the answer stays. */

static void
test_superseded_note(void)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.seed                = 12;
  cfg.worker_delay_max_us = 20000; /* the burst waits for one work() call */
  HpHost* const  host     = fx_host_cfg(cfg);
  const int      n        = 20;
  const uint64_t start    = hp_host_frames(host);
  fx_send_at(host, start, -1, "/patch/clear");
  for (int i = 0; i < n; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/create c%d sine", i);
    fx_send_at(host, start + (uint64_t)i, -1, line);
    commit_at(host, start + (uint64_t)i, 200 + i, -1.0f, NULL, 0);
  }
  for (int k = 0; k < 20 && !hp_host_find_reply(host, 200 + n - 1); ++k) {
    settle(host);
  }
  size_t superseded = 0;
  for (int i = 0; i < n; ++i) {
    const HpHostEvent* r = hp_host_find_reply(host, 200 + i);
    superseded += r && r->kind == HP_EV_ERROR && r->message &&
                  strstr(r->message, "superseded");
  }
  size_t errors = 0;
  size_t notes  = 0;
  for (size_t i = 0; i < hp_host_log_count(host); ++i) {
    char        text[512];
    const char* type = hp_host_log_get(host, i, text, sizeof(text));
    errors += type && !strcmp(type, LV2_LOG__Error);
    notes += type && !strcmp(type, LV2_LOG__Note) && strstr(text, "superseded");
  }
  EXPECT(superseded > 0, "no commit of the burst was superseded");
  EXPECT(
    errors == 0 && notes == superseded,
    "a burst of %d commits: %zu superseded on notify, %zu host-log errors, "
    "%zu notes",
    n,
    superseded,
    errors,
    notes);
  printf(
    "# a burst of %d commits: %zu answered superseded, logged as %zu notes "
    "and %zu errors\n",
    n,
    superseded,
    notes,
    errors);
  hp_host_free(host);
}

/* 5. Live hp:Set glides and persists; hp:Gate opens and closes an adsr */

static void
test_live(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 5);
  play_base(host, 1);

  /* Put the change on a peak: 1,200 frames are exactly 11 periods of
     440 Hz, so the largest sample of the last 1,200 recurs 1,200 later. */
  const uint64_t now  = hp_host_frames(host);
  const float*   last = left_at(host, now - 1200);
  uint64_t       peak = now - 1200;
  for (uint64_t i = 0; i < 1200; ++i) {
    peak = fabsf(last[i]) > fabsf(*left_at(host, peak)) ? now - 1200 + i : peak;
  }
  const uint64_t at = peak + 1200;
  fx_send_at(host, at, 30, "/patch/set osc1 gain 0.6");
  render(host, 12000);
  const float  around   = hp_sig_max_step(left_at(host, at - 256), 256 + 2400);
  const float  own      = hp_sig_max_step(left_at(host, at + 4800), 4800);
  const float  peak_1ms = hp_sig_peak(left_at(host, at), 24);
  const double rms_end  = hp_sig_rms(left_at(host, at + 4800), 4800);
  EXPECT(around <= own * 1.1f,
         "%s worker: step %.4f around the set, %.4f of its own",
         fx_mode_name(mode),
         (double)around,
         (double)own);
  /* A jump would put 0.6 on the peak at once; a 5 ms glide only ~0.23. */
  EXPECT(peak_1ms < 0.4f,
         "no glide: peak %.4f in the first 0.5 ms",
         (double)peak_1ms);
  EXPECT(fabs(rms_end - 0.6 / sqrt(2.0)) < 0.003,
         "RMS %.4f after the glide",
         rms_end);
  settle(host);
  const HpHostEvent* r = hp_host_find_reply(host, 30);
  EXPECT(r && r->kind == HP_EV_ACK,
         "set answered %s",
         r ? hp_host_event_kind_name(r->kind) : "nothing");

  /* A later commit keeps the live value. */
  fx_send(host, -1, "/patch/create c1 const");
  commit_at(host, hp_host_frames(host) + 5, 31, 0.0f, NULL, 0);
  settle(host);
  CHECK(hp_host_find_event(host, HP_EV_SWAPPED, 31));
  const Sound kept = listen(host, 9600);
  EXPECT(fabs(kept.rms - 0.6 / sqrt(2.0)) < 0.003 &&
           fabs(kept.freq - 440.0) < 0.05,
         "%s worker: after a commit: %.3f Hz RMS %.4f, want 440 Hz 0.4243",
         fx_mode_name(mode),
         kept.freq,
         kept.rms);

  /* hp:Gate: an adsr alone on the output, closed until gated. */
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc2 sine");
  fx_send(host, -1, "/patch/set osc2 freq 660");
  fx_send(host, -1, "/patch/set osc2 gain 0.3");
  fx_send(host, -1, "/patch/create env2 adsr");
  fx_send(host, -1, "/patch/set env2 attack 5");
  fx_send(host, -1, "/patch/set env2 decay 0");
  fx_send(host, -1, "/patch/set env2 sustain 1");
  fx_send(host, -1, "/patch/set env2 release 20");
  fx_send(host, -1, "/patch/connect osc2 env2");
  commit_at(host, hp_host_frames(host), 32, 0.0f, NULL, 0);
  settle(host);
  CHECK(hp_host_find_event(host, HP_EV_SWAPPED, 32));
  render(host, 2400);
  const uint64_t gate_on = hp_host_frames(host) + 77;
  fx_send_at(host, gate_on, 33, "/patch/gate env2 1");
  render(host, 9600);
  const uint64_t gate_off = hp_host_frames(host) + 50;
  fx_send_at(host, gate_off, 34, "/patch/gate env2 0");
  render(host, 9600);
  settle(host);
  const float    closed = hp_sig_peak(left_at(host, gate_on - 2400), 2400);
  const uint64_t onset  = first_sound(host, gate_on - 2400, 0.0f);
  const double   open_db =
    hp_sig_goertzel_db(left_at(host, gate_on + 480), 4800, RATE, 660.0);
  const float  tail     = hp_sig_peak(left_at(host, gate_off + 960 + 2), 4800);
  const double rel_rms  = hp_sig_rms(left_at(host, gate_off), 480);
  const HpHostEvent* g1 = hp_host_find_reply(host, 33);
  const HpHostEvent* g0 = hp_host_find_reply(host, 34);
  EXPECT(closed == 0.0f, "closed envelope: peak %g", (double)closed);
  EXPECT(onset >= gate_on && onset <= gate_on + 1,
         "gate at %llu, sound from %llu",
         (unsigned long long)gate_on,
         (unsigned long long)onset);
  EXPECT(fabs(open_db - 20.0 * log10(0.3)) < 0.5,
         "open: 660 Hz at %.2f dB",
         open_db);
  EXPECT(rel_rms > 0.05 && tail == 0.0f,
         "release: RMS %.4f in 10 ms, peak %g after 20 ms",
         rel_rms,
         (double)tail);
  EXPECT(g1 && g1->kind == HP_EV_ACK && g0 && g0->kind == HP_EV_ACK,
         "gates answered");
  printf("# %s worker: live gain 0.2 -> 0.6 on a peak: largest step %.4f (the "
         "tone's own %.4f), peak %.4f in 0.5 ms, RMS %.4f settled and after a "
         "commit "
         "%.4f; gate opens at frame +%lld (660 Hz at %.2f dB), closes to 0 in "
         "20 ms\n",
         fx_mode_name(mode),
         (double)around,
         (double)own,
         (double)peak_1ms,
         rms_end,
         kept.rms,
         (long long)(onset - gate_on),
         open_db);
  hp_host_free(host);
}

/* 6. Phase continuity: a kept oscillator across a commit, crossfade 0 */

static HpHost*
phase_host(const char* const osc_id)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 6);
  char          line[64];
  fx_send(host, -1, "/patch/clear");
  snprintf(line, sizeof(line), "/patch/create %s sine", osc_id);
  fx_send(host, -1, line);
  snprintf(line, sizeof(line), "/patch/set %s freq 437.3", osc_id);
  fx_send(host, -1, line);
  snprintf(line, sizeof(line), "/patch/set %s gain 0.5", osc_id);
  fx_send(host, -1, line);
  fx_send(host, -1, "/patch/create env1 adsr");
  fx_send(host, -1, "/patch/set env1 attack 0");
  fx_send(host, -1, "/patch/set env1 decay 0");
  fx_send(host, -1, "/patch/set env1 sustain 1");
  snprintf(line, sizeof(line), "/patch/connect %s env1", osc_id);
  fx_send(host, -1, line);
  const HpPrimeOp gate = {"gate", "env1", NULL, 1.0f};
  commit_at(host, 0, 1, 0.0f, &gate, 1);
  return host;
}

static void
test_phase(void)
{
  const uint64_t swap_at = 10000 + 77;
  const uint64_t total   = 48000;
  HpHost* const  plain   = phase_host("osc1"); /* never swapped again */
  HpHost* const  kept    = phase_host("osc1"); /* osc1 kept across a commit */
  HpHost* const  fresh   = phase_host("osc1"); /* osc1 replaced by a new one */
  render(plain, total);
  render(kept, swap_at);
  render(fresh, swap_at);
  const HpPrimeOp gate = {"gate", "env1", NULL, 1.0f};
  fx_send_at(kept, swap_at, -1, "/patch/create c1 const");
  commit_at(kept, swap_at, 2, 0.0f, &gate, 1);
  fx_send_at(fresh, swap_at, -1, "/patch/delete osc1");
  fx_send_at(fresh, swap_at, -1, "/patch/create osc1b sine");
  fx_send_at(fresh, swap_at, -1, "/patch/set osc1b freq 437.3");
  fx_send_at(fresh, swap_at, -1, "/patch/set osc1b gain 0.5");
  fx_send_at(fresh, swap_at, -1, "/patch/connect osc1b env1");
  commit_at(fresh, swap_at, 2, 0.0f, &gate, 1);
  render(kept, total - swap_at);
  render(fresh, total - swap_at);
  const HpHostEvent* sw = hp_host_find_event(kept, HP_EV_SWAPPED, 2);
  EXPECT(sw && sw->frame_abs == swap_at,
         "kept: swapped at %lld",
         sw ? (long long)sw->frame_abs : -1LL);
  CHECK(hp_host_find_event(fresh, HP_EV_SWAPPED, 2));
  CHECK(hp_host_recorded(plain) == total && hp_host_recorded(kept) == total);
  float diff = 0.0f, diff_fresh = 0.0f;
  for (uint64_t i = 1000; i < total; ++i) {
    diff = fmaxf(diff, fabsf(hp_host_out_l(kept)[i] - hp_host_out_l(plain)[i]));
    diff_fresh = fmaxf(
      diff_fresh, fabsf(hp_host_out_l(fresh)[i] - hp_host_out_l(plain)[i]));
  }
  const double rms =
    hp_sig_rms(hp_host_out_l(kept) + swap_at, (size_t)(total - swap_at));
  EXPECT(diff <= 1e-5f,
         "kept oscillator differs by %g from one never swapped",
         (double)diff);
  EXPECT(diff_fresh > 0.01f,
         "a new oscillator matched the old phase (%g): the "
         "measurement cannot tell",
         (double)diff_fresh);
  EXPECT(fabs(rms - 0.5 / sqrt(2.0)) < 0.002, "RMS %.4f after the swap", rms);
  printf("# sync worker, crossfade 0: a kept oscillator through an open adsr "
         "differs by %.2g from an instance never swapped (a re-created one by "
         "%.3f)\n",
         (double)diff,
         (double)diff_fresh);
  hp_host_free(plain);
  hp_host_free(kept);
  hp_host_free(fresh);
}

/* 7. A commit inside a block swaps at its own frame (sync) */

static void
test_sample_accuracy(void)
{
  /* Frames at odd places in the block. */
  static const uint32_t offsets[5] = {1, 100, 128, 254, 255};
  uint64_t              worst      = 0;
  for (int k = 0; k < 5; ++k) {
    HpHost* const host = fx_host(HP_WORKER_SYNC, 7);
    fx_send(host, -1, "/patch/clear");
    fx_send(host, -1, "/patch/create quiet sine");
    fx_send(host, -1, "/patch/set quiet gain 0");
    commit_at(host, 0, 1, 0.0f, NULL, 0);
    render(host, 16 * BLOCK);
    const uint64_t at = hp_host_frames(host) + BLOCK + offsets[k];
    fx_send_at(host, at, -1, "/patch/create loud sine");
    fx_send_at(host, at, -1, "/patch/set loud gain 0.5");
    commit_at(host, at, 2, 0.0f, NULL, 0);
    render(host, 4 * BLOCK);
    const HpHostEvent* sw    = hp_host_find_event(host, HP_EV_SWAPPED, 2);
    const uint64_t     onset = first_sound(host, 0, 0.0f);
    const Sound        s     = listen(host, 9600);
    EXPECT(sw && sw->frame_abs == at,
           "commit at %llu swapped at %lld",
           (unsigned long long)at,
           sw ? (long long)sw->frame_abs : -1LL);
    EXPECT(onset == at,
           "commit at %llu (block offset %u): first sound at %llu",
           (unsigned long long)at,
           offsets[k],
           (unsigned long long)onset);
    EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.3536) < 0.002,
           "loud: %.3f Hz RMS %.4f",
           s.freq,
           s.rms);
    const uint64_t off = onset > at ? onset - at : at - onset;
    worst              = off > worst ? off : worst;
    hp_host_free(host);
  }
  printf("# sync worker: commits at block offsets 1, 100, 128, 254, 255 swap "
         "from silence exactly there (Swapped frame = commit frame; first "
         "non-zero sample off by at most %llu)\n",
         (unsigned long long)worst);
}

int
main(void)
{
  const clock_t t0 = clock();
  test_staging(HP_WORKER_THREADED);
  test_staging(HP_WORKER_SYNC);
  test_burst(HP_WORKER_THREADED);
  test_burst(HP_WORKER_SYNC);
  test_failing_commit(HP_WORKER_THREADED);
  test_failing_commit(HP_WORKER_SYNC);
  test_superseded_note();
  test_live(HP_WORKER_THREADED);
  test_live(HP_WORKER_SYNC);
  test_phase();
  test_sample_accuracy();
  printf("# protocol commits tests: %.1f s of CPU\n",
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  return expect_summary("protocol");
}
