/*
  Stress faults in single, deterministic steps, through the lilv test host
  with a threaded worker (as jalv) and a synchronous one: the contracts the
  soak (test_stress_soak.c) checks at random, one fault at a time.  A flood
  of numbered messages, more than the plugin's operation queue holds, is
  answered message by message, the overflow with "queue is full"; a
  message the full queue refuses changes nothing; a live hp:Set between a
  commit and its swap reaches the patch that swaps in.

  Findings about the plugin are counted with EXPECT; the program exits 1
  if any was found.
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FLOOD 1100 /* messages in a flood (queue: 1024 ops) */

/* More numbered messages in one block than the operation queue holds: each
   is answered, the overflow with "queue is full".  With a synchronous
   worker the queue is drained only at the end of that run(), in one go. */
static void
probe_flood_answers(const HpWorkerMode mode)
{
  HpHost* host = fx_host(mode, 0);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc sine");
  fx_send(host, 1, "/patch/commit");
  CHECK(fx_reply(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);
  hp_host_clear_events(host);
  hp_host_log_clear(host);
  for (int i = 0; i < FLOOD; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/set osc freq %d", 300 + i % 100);
    fx_send(host, 1000 + i, line);
  }
  for (int i = 0; i < 40; ++i) {
    CHECK(!hp_host_run(host, 256));
    hp_host_wait_worker(host, 1000);
  }
  size_t acks = 0, full = 0, other = 0, missing = 0;
  for (int i = 0; i < FLOOD; ++i) {
    const HpHostEvent* ev = hp_host_find_reply(host, 1000 + i);
    if (!ev) {
      ++missing;
    } else if (ev->kind == HP_EV_ACK) {
      ++acks;
    } else if (ev->message && strstr(ev->message, "queue is full")) {
      ++full;
    } else {
      ++other;
    }
  }
  const char* how = mode == HP_WORKER_SYNC ? "sync" : "threaded";
  printf("# flood of %d numbered hp:Sets in one block, %s worker: %zu Ack, %zu "
         "'queue is full', %zu other, %zu never answered%s\n",
         FLOOD,
         how,
         acks,
         full,
         other,
         missing,
         hp_host_log_contains(host, "notification queue full")
           ? " (the plugin logged 'notification queue full; one dropped')"
           : "");
  EXPECT(missing == 0,
         "%s worker: %zu of %d numbered messages never "
         "answered",
         how,
         missing,
         FLOOD);
  hp_host_free(host);
}

/* A message the full queue refuses must change nothing: it is answered
   "dropped ... send it again".  Sync worker: the queue fills within one
   run() and is drained at its end, so the slots left are exact. */
static void
probe_queue_full_atomic(void)
{
  HpHost* host = fx_host(HP_WORKER_SYNC, 0);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc sine");
  fx_send(host, -1, "/patch/set osc freq 440");
  fx_send(host, 1, "/patch/commit");
  CHECK(fx_reply(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);

  /* 1: a refused hp:Set must not sound (nor be recorded). */
  for (int i = 0; i < 1024; ++i) {
    fx_send(host, -1, "/patch/set osc freq 440");
  }
  fx_send(host, 2, "/patch/set osc freq 880");
  CHECK(!hp_host_run(host, 256));
  const HpHostEvent* refused = hp_host_find_reply(host, 2);
  CHECK_MSG(refused && refused->kind == HP_EV_ERROR && refused->message &&
              strstr(refused->message, "queue is full"),
            "the 1,025th op was not refused: %s",
            refused && refused->message ? refused->message : "(no answer)");
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const size_t n    = hp_host_recorded(host);
  const double freq = hp_sig_freq(hp_host_out_l(host) + n - 12000, 12000, RATE);
  printf("# an hp:Set refused by a full queue (\"dropped: send it again\"): "
         "the oscillator plays %.2f Hz after it (440 before)\n",
         freq);
  EXPECT(fabs(freq - 440.0) < 0.5,
         "a refused hp:Set sounds anyway (%.2f Hz) though the patch "
         "records 440 Hz",
         freq);

  /* 2: a commit whose prime op fits in the last slot but whose commit does
     not is refused; the next valid commit must not inherit its prime op. */
  hp_host_clear_events(host);
  for (int i = 0; i < 1023; ++i) {
    fx_send(host, -1, "/patch/set osc freq 440");
  }
  HpPrimeOp    prime = {"gate", "env_gone", NULL, 1.0f};
  HpHostCommit opts  = {false, 0, false, 0.0f, false, false, &prime, 1};
  CHECK(!hp_host_send_commit(host, hp_host_frames(host), 3, &opts));
  CHECK(!hp_host_run(host, 256));
  const HpHostEvent* dropped = hp_host_find_reply(host, 3);
  CHECK_MSG(dropped && dropped->kind == HP_EV_ERROR && dropped->message &&
              strstr(dropped->message, "queue is full"),
            "the commit was not refused: %s",
            dropped && dropped->message ? dropped->message : "(no answer)");
  fx_send(host, -1, "/patch/create osc2 triangle");
  fx_send(host, 4, "/patch/commit");
  const HpHostEvent* next = fx_reply(host, 4);
  printf(
    "# a commit refused by a full queue (its prime op fitted, its commit "
    "did not); the next valid commit: %s%s\n",
    next ? (next->kind == HP_EV_ACK ? "swapped" : "failed: ") : "no answer",
    next && next->kind == HP_EV_ERROR && next->message ? next->message : "");
  EXPECT(next && next->kind == HP_EV_ACK,
         "a valid commit inherited the prime op of a message the full "
         "queue refused: %s",
         next && next->message ? next->message : "(no answer)");
  hp_host_free(host);
}

/* A live hp:Set that arrives after a commit, before its swap: the patch
   records it (patch:Get, state), so the patch that swaps in must play it. */
static void
probe_set_before_swap(void)
{
  HpHost* host = hp_host_open(
    &(HpHostConfig){.sample_rate = RATE, .worker_delay_max_us = 20000});
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create tone sine");
  fx_send(host, -1, "/patch/set tone freq 523.25");
  fx_send(host, 1, "/patch/commit");
  CHECK(fx_reply(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);
  CHECK(
    !hp_host_render(host, 9600, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  /* An edit that keeps tone, committed; in the same block (before the
     worker has even seen it) tone is retuned live. */
  fx_send(host, -1, "/patch/create lfo1 lfo");
  fx_send(host, 2, "/patch/commit crossfade=0");
  CHECK(!hp_host_send_text(
    host, hp_host_frames(host) + 100, 3, "/patch/set tone freq 659.25"));
  const HpHostEvent* ack = fx_reply(host, 2);
  CHECK(ack && ack->kind == HP_EV_ACK);
  CHECK(fx_reply(host, 3) && hp_host_find_reply(host, 3)->kind == HP_EV_ACK);
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const size_t n    = hp_host_recorded(host);
  const double freq = hp_sig_freq(hp_host_out_l(host) + n - 12000, 12000, RATE);
  CHECK(!hp_host_send_patch_get(host, hp_host_frames(host), 4));
  const HpHostEvent* got = NULL;
  for (int i = 0; i < 100 && !got; ++i) {
    CHECK(!hp_host_run(host, 256));
    hp_host_wait_worker(host, 1000);
    got = hp_host_find_event(host, HP_EV_PATCH_SET, 4);
  }
  const bool recorded =
    got && got->value_string &&
    strstr(got->value_string, "/patch/set tone freq 659.25\n");
  printf(
    "# a live hp:Set between a commit and its swap: patch:Get %s 659.25 Hz, "
    "the swapped-in patch plays %.2f Hz\n",
    recorded ? "records" : "does not record",
    freq);
  EXPECT(!recorded || fabs(freq - 659.25) < 0.5,
         "patch:Get and saved state say tone plays 659.25 Hz, but after the "
         "swap it plays %.2f Hz: the live set is lost from the sound",
         freq);
  hp_host_free(host);
}

int
main(void)
{
  probe_flood_answers(HP_WORKER_SYNC);
  probe_flood_answers(HP_WORKER_THREADED);
  probe_queue_full_atomic();
  probe_set_before_swap();
  return expect_summary("stress");
}
