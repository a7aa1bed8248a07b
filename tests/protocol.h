/*
  Helpers of the protocol programs (tests/test_protocol_*.c): commits with
  primes, settling, rendering and listening, the base patch most of them
  play, and object messages built by hand.
*/

#ifndef HP_TEST_PROTOCOL_H
#define HP_TEST_PROTOCOL_H

#include "fixture.h"
#include "signal.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline void
commit_at(HpHost* const          host,
          const uint64_t         frame,
          const int              seq,
          const float            crossfade,
          const HpPrimeOp* const primes,
          const uint32_t         n_primes)
{
  HpHostCommit opts;
  memset(&opts, 0, sizeof(opts));
  if (crossfade >= 0.0f) {
    opts.set_crossfade = true;
    opts.crossfade     = crossfade;
  }
  opts.prime   = primes;
  opts.n_prime = n_primes;
  CHECK_MSG(!hp_host_send_commit(host, frame, seq, &opts),
            "commit: %s",
            hp_host_last_error());
}

/* Let the worker answer: a block to deliver what was sent, the worker's
   time, then blocks to take a standby and to deliver its notifications. */
static inline void
settle(HpHost* const host)
{
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_run(host, BLOCK));
    CHECK_MSG(!hp_host_wait_worker(host, 5000), "%s", hp_host_last_error());
  }
  CHECK(!hp_host_run(host, BLOCK));
}

static inline void
render(HpHost* const host, const uint64_t frames)
{
  CHECK(!hp_host_render(
    host, frames, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
}

/* The recorded left (or right) channel at an absolute frame. */
static inline const float*
left_at(const HpHost* const host, const uint64_t frame)
{
  CHECK(frame >= hp_host_recorded_start(host));
  CHECK(frame - hp_host_recorded_start(host) <= hp_host_recorded(host));
  return hp_host_out_l(host) + (frame - hp_host_recorded_start(host));
}

static inline const float*
right_at(const HpHost* const host, const uint64_t frame)
{
  CHECK(frame >= hp_host_recorded_start(host));
  CHECK(frame - hp_host_recorded_start(host) <= hp_host_recorded(host));
  return hp_host_out_r(host) + (frame - hp_host_recorded_start(host));
}

typedef struct {
  double freq;
  double rms;
  double rms_r;
} Sound;

/* Render `frames` and measure pitch and level of what was rendered. */
static inline Sound
listen(HpHost* const host, const uint64_t frames)
{
  const uint64_t from = hp_host_frames(host);
  render(host, frames);
  const float* l = left_at(host, from);
  const float* r = right_at(host, from);
  Sound        s = {hp_sig_freq(l, (size_t)frames, RATE),
                    hp_sig_rms(l, (size_t)frames),
                    hp_sig_rms(r, (size_t)frames)};
  CHECK(hp_sig_finite(l, (size_t)frames) && hp_sig_finite(r, (size_t)frames));
  return s;
}

/* First frame at or after `from` whose |left| exceeds `threshold`, or
   UINT64_MAX. */
static inline uint64_t
first_sound(const HpHost* const host,
            const uint64_t      from,
            const float         threshold)
{
  const uint64_t end = hp_host_recorded_start(host) + hp_host_recorded(host);
  const float*   l   = left_at(host, from);
  for (uint64_t f = from; f < end; ++f) {
    if (fabsf(l[f - from]) > threshold) {
      return f;
    }
  }
  return UINT64_MAX;
}

static inline const char*
text_or(const char* const text, const char* const none)
{
  return text ? text : none;
}

/* The base patch most tests play: osc1 (sine, 440 Hz, gain 0.2) through
   env1 (attack 0, decay 0, sustain 1, gate primed open), nothing else:
   a 440 Hz tone at RMS 0.1414.  Committed with `seq`, crossfade 0. */
static inline Sound
play_base(HpHost* const host, const int seq)
{
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc1 sine");
  fx_send(host, -1, "/patch/set osc1 gain 0.2");
  fx_send(host, -1, "/patch/create env1 adsr");
  fx_send(host, -1, "/patch/set env1 attack 0");
  fx_send(host, -1, "/patch/set env1 decay 0");
  fx_send(host, -1, "/patch/set env1 sustain 1");
  fx_send(host, -1, "/patch/connect osc1 env1");
  const HpPrimeOp gate = {"gate", "env1", NULL, 1.0f};
  commit_at(host, hp_host_frames(host), seq, 0.0f, &gate, 1);
  settle(host);
  const HpHostEvent* sw = hp_host_find_event(host, HP_EV_SWAPPED, seq);
  CHECK_MSG(sw, "the base patch (commit %d) never swapped in", seq);
  render(host, 2400);
  const Sound s = listen(host, 9600);
  CHECK_MSG(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.1414) < 0.002,
            "base patch: %.3f Hz, RMS %.4f",
            s.freq,
            s.rms);
  return s;
}

/* Build an object message by hand with the host's scratch forge. */
static inline LV2_Atom_Forge*
begin_object(HpHost* const               host,
             LV2_Atom_Forge_Frame* const frame,
             const LV2_URID              otype,
             const int                   seq)
{
  LV2_Atom_Forge* const f = hp_host_forge(host);
  lv2_atom_forge_object(f, frame, 0, otype);
  if (seq >= 0) {
    lv2_atom_forge_key(f, hp_host_uris(host)->patch_sequenceNumber);
    lv2_atom_forge_int(f, seq);
  }
  return f;
}

static inline void
put_string(LV2_Atom_Forge* const f, const LV2_URID key, const char* const s)
{
  lv2_atom_forge_key(f, key);
  lv2_atom_forge_string(f, s, (uint32_t)strlen(s));
}

static inline void
end_object(HpHost* const               host,
           LV2_Atom_Forge* const       f,
           LV2_Atom_Forge_Frame* const frame,
           const uint64_t              at)
{
  lv2_atom_forge_pop(f, frame);
  const LV2_Atom* atom = hp_host_forge_atom(host);
  CHECK_MSG(atom, "forge: %s", hp_host_last_error());
  CHECK_MSG(!hp_host_send_atom(host, at, atom), "%s", hp_host_last_error());
}

/* A bad message: hp:Create without hp:type. */
static inline void
b_missing_type(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Create, seq);
  put_string(f, u->hp_module, "osc2");
  end_object(host, f, &obj, at);
}

#endif /* HP_TEST_PROTOCOL_H */
