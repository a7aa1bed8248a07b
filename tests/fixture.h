/*
  The host tests' shared fixture: a plugin instance in the lilv test host
  (tools/host/host.h) at a default rate, text-protocol lines sent to it,
  and runs until a message is answered.  Header only: every host test
  includes it.

  A test program that drives the host must still `#include "host.h"`
  itself: the build finds host tests by that line.
*/

#ifndef HP_TEST_FIXTURE_H
#define HP_TEST_FIXTURE_H

#include "check.h"
#include "host.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sample rate of every host a fixture opens, unless told otherwise. */
#define RATE 48000.0

/* The block the fixture runs in while waiting for an answer. */
#define BLOCK 256u

/* How long the fixture lets the worker take over one job, in ms. */
#define FX_WORKER_WAIT_MS 5000u

/* "sync" or "threaded", for figures and messages. */
static inline const char*
fx_mode_name(const HpWorkerMode mode)
{
  return mode == HP_WORKER_SYNC ? "sync" : "threaded";
}

/* A host with `cfg` (sample_rate 0: RATE); exits the test if it does not
   load. */
static inline HpHost*
fx_host_cfg(HpHostConfig cfg)
{
  if (cfg.sample_rate == 0.0) {
    cfg.sample_rate = RATE;
  }
  return hp_host_open(&cfg);
}

/* A host at RATE with this worker and seed (0: the host's default). */
static inline HpHost*
fx_host(const HpWorkerMode mode, const uint64_t seed)
{
  return fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = seed});
}

/* Send one text-protocol line at `frame` (`seq` < 0: unnumbered); a line
   the host cannot send stops the test.  HP_DEBUG_LINES=1 prints each. */
static inline void
fx_send_at(HpHost* const     host,
           const uint64_t    frame,
           const int         seq,
           const char* const line)
{
  if (getenv("HP_DEBUG_LINES")) {
    printf("at %llu: %s\n", (unsigned long long)frame, line);
  }
  CHECK_MSG(!hp_host_send_text(host, frame, seq, line),
            "%s: %s",
            line,
            hp_host_last_error());
}

/* Send one text-protocol line at the current frame. */
static inline void
fx_send(HpHost* const host, const int seq, const char* const line)
{
  fx_send_at(host, hp_host_frames(host), seq, line);
}

/* fx_send() of a line made printf-style. */
static inline void fx_sendf(HpHost* host, int seq, const char* fmt, ...)
  __attribute__((format(printf, 3, 4)));

static inline void
fx_sendf(HpHost* const host, const int seq, const char* const fmt, ...)
{
  char    line[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  fx_send(host, seq, line);
}

/* The answer to `seq` (patch:Ack or patch:Error): run blocks of BLOCK,
   letting the worker finish each job as real time would, until it comes;
   NULL if 200 blocks bring none. */
static inline const HpHostEvent*
fx_reply(HpHost* const host, const int seq)
{
  for (int i = 0; i < 200; ++i) {
    const HpHostEvent* const ev = hp_host_find_reply(host, seq);
    if (ev) {
      return ev;
    }
    CHECK(!hp_host_run(host, BLOCK));
    CHECK_MSG(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS),
              "%s",
              hp_host_last_error());
  }
  return NULL;
}

/* fx_reply() that must be an Ack: `what` names the message on failure. */
static inline const HpHostEvent*
fx_acked(HpHost* const host, const int seq, const char* const what)
{
  const HpHostEvent* const ev = fx_reply(host, seq);
  CHECK_MSG(ev, "%s: no answer", what);
  CHECK_MSG(
    ev->kind == HP_EV_ACK, "%s: %s", what, ev->message ? ev->message : "error");
  return ev;
}

/* Send `line` (/patch/get, /patch/history) numbered `seq` and return the
   text of the patch:Set of `property` (a URI: hp:patch, hp:history) that
   answers it, a new string; the test stops if none comes in 200 blocks. */
static inline char*
fx_get_text(HpHost* const     host,
            const int         seq,
            const char* const line,
            const char* const property)
{
  fx_send(host, seq, line);
  for (int k = 0; k < 200; ++k) {
    for (size_t i = hp_host_n_events(host); i-- > 0;) {
      const HpHostEvent* ev = hp_host_event(host, i);
      if (ev->kind == HP_EV_PATCH_SET && ev->seq == seq && ev->property &&
          !strcmp(ev->property, property) && ev->value_string) {
        char* const text = (char*)malloc(strlen(ev->value_string) + 1u);
        CHECK(text);
        strcpy(text, ev->value_string);
        return text;
      }
    }
    CHECK(!hp_host_run(host, BLOCK));
    CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  }
  CHECK_MSG(false, "%s: no answer", line);
  return NULL;
}

#endif /* HP_TEST_FIXTURE_H */
