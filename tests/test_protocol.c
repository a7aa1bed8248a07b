/*
  The patch protocol (DESIGN.md section 3) end to end, through the lilv test
  host with a threaded worker (like jalv) and a synchronous one (like
  Ardour's export): every message decoded from atoms and answered, a
  table of bad messages each answered with its exact error while the
  playing patch plays on, staging and abort, a burst of commits, live
  sets and gates, phase continuity, sample accuracy, MIDI and patch
  messages in event order, and events stamped at the block's end (through
  a small lilv host of our own, since the test host never produces that
  time).

  Harness failures (a host that does not load, a message that cannot be
  sent) stop at once with CHECK.  Findings about the plugin are counted
  with EXPECT, so one run reports every broken promise; the program exits
  1 if any was found.
*/

#include "check.h"
#include "host.h"
#include "signal.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE 48000.0
#define BLOCK 256u

static int failures = 0;

/* A contract check: report what was measured and go on. */
#define EXPECT(cond, ...)                                                 \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,   \
              #cond);                                                     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

static const char*
mode_name(const HpWorkerMode mode)
{
  return mode == HP_WORKER_SYNC ? "sync" : "threaded";
}

static HpHost*
make_with(HpHostConfig cfg)
{
  cfg.sample_rate = RATE;
  return hp_host_open(&cfg);
}

static HpHost*
make(const HpWorkerMode mode, const uint64_t seed)
{
  return make_with((HpHostConfig){.worker_mode = mode, .seed = seed});
}

static void
send_at(HpHost* const host, const uint64_t frame, const int seq,
        const char* const line)
{
  CHECK_MSG(!hp_host_send_text(host, frame, seq, line), "%s: %s", line,
            hp_host_last_error());
}

static void
send_now(HpHost* const host, const int seq, const char* const line)
{
  send_at(host, hp_host_frames(host), seq, line);
}

static void
commit_at(HpHost* const host, const uint64_t frame, const int seq,
          const float crossfade, const HpPrimeOp* const primes,
          const uint32_t n_primes)
{
  HpHostCommit opts;
  memset(&opts, 0, sizeof(opts));
  if (crossfade >= 0.0f) {
    opts.set_crossfade = true;
    opts.crossfade     = crossfade;
  }
  opts.prime   = primes;
  opts.n_prime = n_primes;
  CHECK_MSG(!hp_host_send_commit(host, frame, seq, &opts), "commit: %s",
            hp_host_last_error());
}

/* Let the worker answer: a block to deliver what was sent, the worker's
   time, then blocks to take a standby and to deliver its notifications. */
static void
settle(HpHost* const host)
{
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_run(host, BLOCK));
    CHECK_MSG(!hp_host_wait_worker(host, 5000), "%s", hp_host_last_error());
  }
  CHECK(!hp_host_run(host, BLOCK));
}

static void
render(HpHost* const host, const uint64_t frames)
{
  CHECK(!hp_host_render(host, frames, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
}

/* The recorded left (or right) channel at an absolute frame. */
static const float*
left_at(const HpHost* const host, const uint64_t frame)
{
  CHECK(frame >= hp_host_recorded_start(host));
  CHECK(frame - hp_host_recorded_start(host) <= hp_host_recorded(host));
  return hp_host_out_l(host) + (frame - hp_host_recorded_start(host));
}

static const float*
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
static Sound
listen(HpHost* const host, const uint64_t frames)
{
  const uint64_t from = hp_host_frames(host);
  render(host, frames);
  const float* l = left_at(host, from);
  const float* r = right_at(host, from);
  Sound        s = {hp_sig_freq(l, (size_t)frames, RATE),
                    hp_sig_rms(l, (size_t)frames), hp_sig_rms(r, (size_t)frames)};
  CHECK(hp_sig_finite(l, (size_t)frames) && hp_sig_finite(r, (size_t)frames));
  return s;
}

/* First frame at or after `from` whose |left| exceeds `threshold`, or
   UINT64_MAX. */
static uint64_t
first_sound(const HpHost* const host, const uint64_t from, const float threshold)
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

static const char*
text_or(const char* const text, const char* const none)
{
  return text ? text : none;
}

/* The base patch most tests play: osc1 (sine, 440 Hz, gain 0.2) through
   env1 (attack 0, decay 0, sustain 1, gate primed open), nothing else:
   a 440 Hz tone at RMS 0.1414.  Committed with `seq`, crossfade 0. */
static Sound
play_base(HpHost* const host, const int seq)
{
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create osc1 sine");
  send_now(host, -1, "/patch/set osc1 gain 0.2");
  send_now(host, -1, "/patch/create env1 adsr");
  send_now(host, -1, "/patch/set env1 attack 0");
  send_now(host, -1, "/patch/set env1 decay 0");
  send_now(host, -1, "/patch/set env1 sustain 1");
  send_now(host, -1, "/patch/connect osc1 env1");
  const HpPrimeOp gate = {"gate", "env1", NULL, 1.0f};
  commit_at(host, hp_host_frames(host), seq, 0.0f, &gate, 1);
  settle(host);
  const HpHostEvent* sw = hp_host_find_event(host, HP_EV_SWAPPED, seq);
  CHECK_MSG(sw, "the base patch (commit %d) never swapped in", seq);
  render(host, 2400);
  const Sound s = listen(host, 9600);
  CHECK_MSG(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.1414) < 0.002,
            "base patch: %.3f Hz, RMS %.4f", s.freq, s.rms);
  return s;
}

/* 1. Every message, decoded from atoms and answered */

/* Build an object message by hand with the host's scratch forge. */
static LV2_Atom_Forge*
begin_object(HpHost* const host, LV2_Atom_Forge_Frame* const frame,
             const LV2_URID otype, const int seq)
{
  LV2_Atom_Forge* const f = hp_host_forge(host);
  lv2_atom_forge_object(f, frame, 0, otype);
  if (seq >= 0) {
    lv2_atom_forge_key(f, hp_host_uris(host)->patch_sequenceNumber);
    lv2_atom_forge_int(f, seq);
  }
  return f;
}

static void
put_string(LV2_Atom_Forge* const f, const LV2_URID key, const char* const s)
{
  lv2_atom_forge_key(f, key);
  lv2_atom_forge_string(f, s, (uint32_t)strlen(s));
}

static void
end_object(HpHost* const host, LV2_Atom_Forge* const f,
           LV2_Atom_Forge_Frame* const frame, const uint64_t at)
{
  lv2_atom_forge_pop(f, frame);
  const LV2_Atom* atom = hp_host_forge_atom(host);
  CHECK_MSG(atom, "forge: %s", hp_host_last_error());
  CHECK_MSG(!hp_host_send_atom(host, at, atom), "%s", hp_host_last_error());
}

typedef struct {
  int         seq;
  const char* line;
} Numbered;

static void
test_messages(const HpWorkerMode mode)
{
  HpHost* const       host = make(mode, 1);
  const HpURIs* const u    = hp_host_uris(host);
  render(host, 1024);

  /* Every staged and live message kind, numbered, at frames inside the
     block; every port-spec form: "osc1:out", "env1:in", "filt1:cutoff",
     "out", "out:left" (and "out:right"); aliases. */
  static const Numbered msgs[] = {
    {1, "/patch/clear"},
    {2, "/patch/create osc1 simple_sine"},
    {3, "/patch/create env1 adsr"},
    {4, "/patch/create filt1 biquad_filter"},
    {5, "/patch/create lfo1 lfo"},
    {6, "/patch/create osc2 sine"},
    {7, "/patch/create junk saw"},
    {8, "/patch/connect osc1:out env1:in"},
    {9, "/patch/connect env1 filt1"},
    {10, "/patch/connect lfo1 filt1:cutoff"},
    {11, "/patch/connect filt1:out out"},
    {12, "/patch/connect osc2 out:left"},
    {13, "/patch/connect junk out:right"},
    {14, "/patch/disconnect junk out:right"},
    {15, "/patch/delete junk"},
    {16, "/patch/set osc1 frequency 440"},
    {17, "/patch/set osc1 gain 0.4"},
    {18, "/patch/set osc2 freq 1000"},
    {20, "/patch/set env1 attack 0"},
    {21, "/patch/set env1 decay 0"},
    {22, "/patch/set env1 sustain 1"},
    {23, "/patch/set lfo1 offset 1500"},
    {24, "/patch/set lfo1 depth 500"},
    {25, "/patch/gate env1 1"},
  };
  const size_t n_msgs = sizeof(msgs) / sizeof(msgs[0]);
  uint64_t     at     = hp_host_frames(host) + 17;
  for (size_t i = 0; i < n_msgs; ++i) {
    send_at(host, at + i, msgs[i].seq, msgs[i].line);
  }
  /* Any numeric atom where a number is expected: hp:value as a Double. */
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Set, 19);
  put_string(f, u->hp_module, "osc2");
  put_string(f, u->hp_param, "gain");
  lv2_atom_forge_key(f, u->hp_value);
  lv2_atom_forge_double(f, 0.1);
  end_object(host, f, &obj, at + n_msgs);
  /* ... and hp:Gate's value as an Int. */
  f = begin_object(host, &obj, u->hp_Gate, 26);
  put_string(f, u->hp_module, "env1");
  lv2_atom_forge_key(f, u->hp_value);
  lv2_atom_forge_int(f, 1);
  end_object(host, f, &obj, at + n_msgs + 1);
  const uint64_t commit_frame = at + n_msgs + 2;
  commit_at(host, commit_frame, 40, 0.0f, NULL, 0);
  settle(host);

  size_t acked = 0;
  for (size_t i = 0; i < n_msgs; ++i) {
    const HpHostEvent* r = hp_host_find_reply(host, msgs[i].seq);
    EXPECT(r && r->kind == HP_EV_ACK && !r->message,
           "%s worker: \"%s\" (seq %d) answered %s%s%s", mode_name(mode),
           msgs[i].line, msgs[i].seq,
           r ? hp_host_event_kind_name(r->kind) : "nothing",
           r && r->message ? ": " : "", r && r->message ? r->message : "");
    acked += r && r->kind == HP_EV_ACK;
  }
  static const int numeric_seqs[2] = {19, 26};
  for (int k = 0; k < 2; ++k) {
    const int          seq = numeric_seqs[k];
    const HpHostEvent* r   = hp_host_find_reply(host, seq);
    EXPECT(r && r->kind == HP_EV_ACK, "%s worker: numeric atom (seq %d): %s: %s",
           mode_name(mode), seq, r ? hp_host_event_kind_name(r->kind) : "no reply",
           r ? text_or(r->message, "") : "");
  }
  const HpHostEvent* primed  = hp_host_find_event(host, HP_EV_PRIMED, 40);
  const HpHostEvent* swapped = hp_host_find_event(host, HP_EV_SWAPPED, 40);
  const HpHostEvent* reply   = hp_host_find_reply(host, 40);
  CHECK_MSG(primed && swapped, "%s worker: commit 40 primed %d, swapped %d",
            mode_name(mode), primed != NULL, swapped != NULL);
  /* DESIGN.md 3: "the plugin answers each numbered message ... with
     patch:Ack or patch:Error carrying the same number". */
  EXPECT(reply && reply->kind == HP_EV_ACK,
         "%s worker: a numbered hp:Commit that swapped in got %s, not "
         "patch:Ack (only hp:Primed and hp:Swapped carry its number)",
         mode_name(mode), reply ? hp_host_event_kind_name(reply->kind) : "no reply");
  EXPECT(primed->module_count == 5, "Primed moduleCount %lld",
         (long long)primed->module_count);
  if (mode == HP_WORKER_SYNC) {
    EXPECT(swapped->frame_abs == commit_frame, "swapped at %llu, committed at %llu",
           (unsigned long long)swapped->frame_abs, (unsigned long long)commit_frame);
  }

  /* What plays: osc1 (440 Hz, 0.4) through env1 and the lfo-swept low-pass
     on both channels; osc2 (1000 Hz, 0.1) on the left only. */
  render(host, 4800);
  const uint64_t from = hp_host_frames(host);
  render(host, 24000);
  const float* l      = left_at(host, from);
  const float* r      = right_at(host, from);
  const double l440   = hp_sig_goertzel_db(l, 24000, RATE, 440.0);
  const double r440   = hp_sig_goertzel_db(r, 24000, RATE, 440.0);
  const double l1000  = hp_sig_goertzel_db(l, 24000, RATE, 1000.0);
  const double r1000  = hp_sig_goertzel_db(r, 24000, RATE, 1000.0);
  const double want440 = 20.0 * log10(0.4);
  EXPECT(fabs(l440 - want440) < 1.0 && fabs(r440 - want440) < 1.0,
         "440 Hz at %.2f / %.2f dB, want %.2f", l440, r440, want440);
  EXPECT(fabs(l1000 + 20.0) < 1.0, "left 1000 Hz at %.2f dB, want -20", l1000);
  EXPECT(r1000 < -60.0, "right 1000 Hz at %.2f dB: osc2 leaks into out:right", r1000);
  EXPECT(hp_host_control_out(host, "modules") == 5.0f, "modules %g",
         (double)hp_host_control_out(host, "modules"));

  /* Numbered hp:Abort is acknowledged too. */
  send_now(host, 41, "/patch/create x sine");
  send_now(host, 42, "/patch/abort");
  settle(host);
  const HpHostEvent* r41 = hp_host_find_reply(host, 41);
  const HpHostEvent* r42 = hp_host_find_reply(host, 42);
  EXPECT(r41 && r41->kind == HP_EV_ACK && r42 && r42->kind == HP_EV_ACK,
         "create %s, abort %s", r41 ? hp_host_event_kind_name(r41->kind) : "-",
         r42 ? hp_host_event_kind_name(r42->kind) : "-");

  /* The same messages without patch:sequenceNumber: no Ack, no Error. */
  hp_host_clear_events(host);
  static const char* const plain[] = {
    "/patch/create x sine",        "/patch/set x gain 0.1",
    "/patch/connect x out:right",  "/patch/disconnect x out:right",
    "/patch/gate env1 1",          "/patch/delete x",
    "/patch/clear",                "/patch/abort",
    "/patch/create y const",       "/patch/set y value 3",
  };
  at = hp_host_frames(host) + 3;
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); ++i) {
    send_at(host, at + i, -1, plain[i]);
  }
  commit_at(host, at + 20, -1, 0.0f, NULL, 0);
  settle(host);
  const size_t n_acks   = hp_host_count_events(host, HP_EV_ACK);
  const size_t n_errors = hp_host_count_events(host, HP_EV_ERROR);
  const HpHostEvent* sw = hp_host_find_event(host, HP_EV_SWAPPED, -1);
  EXPECT(n_acks == 0 && n_errors == 0, "un-numbered messages: %zu Acks, %zu Errors",
         n_acks, n_errors);
  EXPECT(sw && hp_host_control_out(host, "modules") == 6.0f,
         "un-numbered commit: swapped %d, %g modules", sw != NULL,
         (double)hp_host_control_out(host, "modules"));
  printf("# %s worker: %zu of %zu numbered edits (8 kinds) acknowledged with "
         "their number, the numbered commit %s; 440 Hz at %.2f dB both sides, "
         "osc2 on out:left at %.2f dB (right %.1f dB); un-numbered: %zu Acks, "
         "%zu Errors\n",
         mode_name(mode), acked, n_msgs,
         reply && reply->kind == HP_EV_ACK ? "too" : "got no patch:Ack", l440,
         l1000, r1000, n_acks, n_errors);
  hp_host_free(host);
}

/* 2. Bad messages: each answered with its error, the patch unchanged */

typedef void (*Builder)(HpHost* host, uint64_t at, int seq);

typedef enum { MATCH_EXACT, MATCH_PREFIX } Match;

typedef struct {
  const char* name;
  Builder     send;
  Match       match;
  const char* expect;
  bool        no_seq; /* the message cannot carry a readable number */
} BadCase;

#define TEXT_BUILDER(fn, line)                                             \
  static void fn(HpHost* const host, const uint64_t at, const int seq)     \
  {                                                                        \
    send_at(host, at, seq, line);                                          \
  }

TEXT_BUILDER(b_unknown_type, "/patch/create osc9 sinee")
TEXT_BUILDER(b_duplicate, "/patch/create osc1 saw")
TEXT_BUILDER(b_bad_id, "/patch/create 1osc sine")
TEXT_BUILDER(b_reserved_id, "/patch/create out sine")
TEXT_BUILDER(b_connect_missing, "/patch/connect nosuch env1")
TEXT_BUILDER(b_unknown_input, "/patch/connect osc1 env1:nope")
TEXT_BUILDER(b_unknown_output, "/patch/connect osc1:wobble env1")
TEXT_BUILDER(b_bad_spec, "/patch/connect :x env1")
TEXT_BUILDER(b_out_source, "/patch/connect out env1")
TEXT_BUILDER(b_out_port, "/patch/connect osc1 out:middle")
TEXT_BUILDER(b_unknown_param, "/patch/set osc1 nope 1")
TEXT_BUILDER(b_cycle, "/patch/connect env1 osc1:freq")
TEXT_BUILDER(b_out_of_range, "/patch/set osc1 gain 5")
TEXT_BUILDER(b_out_of_range_freq, "/patch/set osc1 freq 30000")
TEXT_BUILDER(b_gate_not_adsr, "/patch/gate osc1 1")
TEXT_BUILDER(b_delete_missing, "/patch/delete ghost")
TEXT_BUILDER(b_disconnect_missing, "/patch/disconnect osc1 out")
TEXT_BUILDER(b_already_connected, "/patch/connect osc1 env1")
TEXT_BUILDER(b_nothing_staged, "/patch/commit")
TEXT_BUILDER(b_warmup_zero, "/patch/commit warmup=0")
TEXT_BUILDER(b_crossfade_negative, "/patch/commit crossfade=-5")
TEXT_BUILDER(b_crossfade_huge, "/patch/commit crossfade=20000")

static void
b_nan(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Set, seq);
  put_string(f, u->hp_module, "osc1");
  put_string(f, u->hp_param, "freq");
  lv2_atom_forge_key(f, u->hp_value);
  lv2_atom_forge_float(f, NAN);
  end_object(host, f, &obj, at);
}

static void
b_choice(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Set, seq);
  put_string(f, u->hp_module, "osc1");
  put_string(f, u->hp_param, "freq");
  put_string(f, u->hp_value, "loud");
  end_object(host, f, &obj, at);
}

static void
b_unknown_message(HpHost* const host, const uint64_t at, const int seq)
{
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f =
    begin_object(host, &obj, hp_host_map(host, "urn:example:Bogus"), seq);
  put_string(f, hp_host_uris(host)->hp_module, "osc1");
  end_object(host, f, &obj, at);
}

static void
b_missing_type(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Create, seq);
  put_string(f, u->hp_module, "osc2");
  end_object(host, f, &obj, at);
}

static void
b_missing_dest(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Connect, seq);
  put_string(f, u->hp_source, "osc1");
  end_object(host, f, &obj, at);
}

static void
b_module_int(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Delete, seq);
  lv2_atom_forge_key(f, u->hp_module);
  lv2_atom_forge_int(f, 7);
  end_object(host, f, &obj, at);
}

static void
b_value_urid(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Set, seq);
  put_string(f, u->hp_module, "osc1");
  put_string(f, u->hp_param, "gain");
  lv2_atom_forge_key(f, u->hp_value);
  lv2_atom_forge_urid(f, u->hp_Set);
  end_object(host, f, &obj, at);
}

static void
b_long_string(HpHost* const host, const uint64_t at, const int seq)
{
  char name[97];
  memset(name, 'a', 96);
  name[96]                  = '\0'; /* 96 bytes: one more than fits */
  const HpURIs* const  u    = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f    = begin_object(host, &obj, u->hp_Create, seq);
  put_string(f, u->hp_module, name);
  put_string(f, u->hp_type, "sine");
  end_object(host, f, &obj, at);
}

/* A property whose value claims 1,000 bytes inside a 48-byte object.  The
   object's own size is right, and hp_host_send_atom() copies exactly
   atom.size bytes of body, so nothing outside the message is read. */
static void
b_overrun(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Delete, seq);
  lv2_atom_forge_key(f, u->hp_module);
  const LV2_Atom claim = {1000u, u->atom_String};
  lv2_atom_forge_write(f, &claim, sizeof(claim));
  lv2_atom_forge_write(f, "ghost\0\0\0", 8);
  end_object(host, f, &obj, at);
}

/* An atom:Object of 4 bytes: too short for its own otype. */
static void
b_truncated(HpHost* const host, const uint64_t at, const int seq)
{
  (void)seq;
  struct {
    LV2_Atom atom;
    uint32_t id;
    uint32_t pad;
  } msg = {{4u, hp_host_uris(host)->atom_Object}, 0u, 0u};
  CHECK(!hp_host_send_atom(host, at, &msg.atom));
}

static void
send_prime(HpHost* const host, const uint64_t at, const int seq,
           const HpPrimeOp* const ops, const uint32_t n, const bool require)
{
  HpHostCommit opts;
  memset(&opts, 0, sizeof(opts));
  opts.prime              = ops;
  opts.n_prime            = n;
  opts.set_require_signal = require;
  opts.require_signal     = require;
  CHECK(!hp_host_send_commit(host, at, seq, &opts));
}

static void
b_prime_missing(HpHost* const host, const uint64_t at, const int seq)
{
  const HpPrimeOp op = {"mod", "ghost", "freq", 440.0f};
  send_prime(host, at, seq, &op, 1, false);
}

static void
b_prime_param(HpHost* const host, const uint64_t at, const int seq)
{
  const HpPrimeOp ops[2] = {{"mod", "osc1", "freq", 220.0f},
                            {"mod", "osc1", "cutoff", 100.0f}};
  send_prime(host, at, seq, ops, 2, false);
}

static void
b_prime_range(HpHost* const host, const uint64_t at, const int seq)
{
  const HpPrimeOp op = {"mod", "osc1", "gain", 3.0f};
  send_prime(host, at, seq, &op, 1, false);
}

static void
b_prime_kind(HpHost* const host, const uint64_t at, const int seq)
{
  const HpPrimeOp op = {"poke", "osc1", "freq", 440.0f};
  send_prime(host, at, seq, &op, 1, false);
}

static void
b_prime_too_many(HpHost* const host, const uint64_t at, const int seq)
{
  HpPrimeOp ops[65];
  for (int i = 0; i < 65; ++i) {
    ops[i] = (HpPrimeOp){"mod", "osc1", "freq", 220.0f};
  }
  send_prime(host, at, seq, ops, 65, false);
}

static void
b_silent(HpHost* const host, const uint64_t at, const int seq)
{
  const HpPrimeOp op = {"mod", "osc1", "gain", 0.0f};
  send_prime(host, at, seq, &op, 1, true);
}

static void
b_prime_3tuple(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge_Frame list;
  LV2_Atom_Forge_Frame entry;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Commit, seq);
  lv2_atom_forge_key(f, u->hp_prime);
  lv2_atom_forge_tuple(f, &list);
  lv2_atom_forge_tuple(f, &entry);
  lv2_atom_forge_string(f, "mod", 3);
  lv2_atom_forge_string(f, "osc1", 4);
  lv2_atom_forge_string(f, "freq", 4);
  lv2_atom_forge_pop(f, &entry);
  lv2_atom_forge_pop(f, &list);
  end_object(host, f, &obj, at);
}

static void
b_prime_not_tuple(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Commit, seq);
  lv2_atom_forge_key(f, u->hp_prime);
  lv2_atom_forge_string(f, "mod osc1 freq 440", 17);
  end_object(host, f, &obj, at);
}

static void
b_warmup_fraction(HpHost* const host, const uint64_t at, const int seq)
{
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Commit, seq);
  lv2_atom_forge_key(f, u->hp_warmup);
  lv2_atom_forge_float(f, 2.5f);
  end_object(host, f, &obj, at);
}

static const BadCase bad_cases[] = {
  {"unknown module type", b_unknown_type, MATCH_PREFIX,
   "unknown module type 'sinee'; known types: sine, saw, ", false},
  {"duplicate id", b_duplicate, MATCH_EXACT,
   "a module named 'osc1' already exists; delete it first or choose another id",
   false},
  {"bad id", b_bad_id, MATCH_EXACT,
   "invalid module id '1osc': use 1 to 63 letters, digits, '_' or '-', "
   "starting with a letter or '_'",
   false},
  {"reserved id", b_reserved_id, MATCH_EXACT,
   "module id 'out' is reserved for the stereo output", false},
  {"unknown module in connect", b_connect_missing, MATCH_EXACT,
   "no module 'nosuch' in the patch; create it first", false},
  {"unknown input port", b_unknown_input, MATCH_EXACT,
   "module 'env1' (adsr) has no input or parameter 'nope'; inputs: in, gate; "
   "parameters: attack, decay, sustain, release, gate",
   false},
  {"unknown output port", b_unknown_output, MATCH_EXACT,
   "module 'osc1' (sine) has no output 'wobble'; outputs: out", false},
  {"malformed port spec", b_bad_spec, MATCH_EXACT,
   "':x' is not a port: write a module id, optionally followed by ':port', "
   "e.g. osc1 or filt1:cutoff",
   false},
  {"out as a source", b_out_source, MATCH_EXACT,
   "'out' is the stereo output; it cannot be a source", false},
  {"unknown port of out", b_out_port, MATCH_EXACT,
   "the output 'out' has no port 'middle'; use out, out:left or out:right",
   false},
  {"unknown parameter", b_unknown_param, MATCH_EXACT,
   "module 'osc1' (sine) has no parameter 'nope'; parameters: freq, gain, "
   "detune",
   false},
  {"cycle", b_cycle, MATCH_EXACT,
   "connecting 'env1' to 'osc1:freq' would create a cycle: 'env1' already "
   "depends on 'osc1'",
   false},
  {"NaN value", b_nan, MATCH_EXACT,
   "value for osc1:freq must be a finite number, not nan", false},
  {"out-of-range gain", b_out_of_range, MATCH_EXACT,
   "value 5 for osc1:gain is out of range 0..1", false},
  {"out-of-range freq", b_out_of_range_freq, MATCH_EXACT,
   "value 30000 for osc1:freq is out of range 0.01..20000 Hz", false},
  {"choice for a number", b_choice, MATCH_EXACT,
   "'loud' is not a value of osc1:freq; choices: none: it takes a number",
   false},
  {"gate of a sine", b_gate_not_adsr, MATCH_EXACT,
   "module 'osc1' (sine) has no gate; gate an adsr", false},
  {"delete a missing module", b_delete_missing, MATCH_EXACT,
   "no module 'ghost' in the patch; create it first", false},
  {"disconnect a missing connection", b_disconnect_missing, MATCH_EXACT,
   "'osc1' is not connected to 'out'", false},
  {"connect twice", b_already_connected, MATCH_EXACT,
   "'osc1' is already connected to 'env1'", false},
  {"commit with nothing staged", b_nothing_staged, MATCH_EXACT,
   "nothing staged to commit: create, delete, connect, disconnect or clear "
   "first, or give prime ops",
   false},
  {"unknown message type", b_unknown_message, MATCH_PREFIX,
   "unknown message type; send hp:Create, hp:Delete, hp:Connect, "
   "hp:Disconnect, hp:Set, hp:Gate, hp:Commit, hp:Abort, hp:Clear",
   false},
  {"hp:Create without hp:type", b_missing_type, MATCH_EXACT,
   "hp:Create needs hp:type (an atom:String)", false},
  {"hp:Connect without hp:dest", b_missing_dest, MATCH_EXACT,
   "hp:Connect needs hp:dest (an atom:String)", false},
  {"hp:module as an atom:Int", b_module_int, MATCH_EXACT,
   "hp:Delete: hp:module must be an atom:String", false},
  {"hp:value as an atom:URID", b_value_urid, MATCH_EXACT,
   "hp:Set: hp:value must be a number (atom:Float, Double, Int, Long or Bool)",
   false},
  {"string of 96 bytes", b_long_string, MATCH_EXACT,
   "hp:Create: hp:module is longer than 95 bytes", false},
  {"property overruns its object", b_overrun, MATCH_EXACT,
   "malformed atom:Object: a property overruns the object", false},
  {"object shorter than its header", b_truncated, MATCH_EXACT,
   "truncated atom:Object", true},
  {"prime tuple of 3", b_prime_3tuple, MATCH_EXACT,
   "hp:Commit: a prime op must be a 4-tuple (op, module, param or none, value)",
   false},
  {"hp:prime not a tuple", b_prime_not_tuple, MATCH_EXACT,
   "hp:Commit: hp:prime must be an atom:Tuple of (op, module, param, value) "
   "tuples",
   false},
  {"prime op kind", b_prime_kind, MATCH_EXACT,
   "hp:Commit: prime op 'poke' unknown; use \"mod\" or \"gate\"", false},
  {"65 prime ops", b_prime_too_many, MATCH_EXACT,
   "hp:Commit: more than 64 prime ops in one message; send the rest with "
   "hp:Set before committing",
   false},
  {"prime op on a missing module", b_prime_missing, MATCH_EXACT,
   "prime op 1: no module 'ghost' in the patch; create it first", false},
  {"prime op on a missing parameter", b_prime_param, MATCH_EXACT,
   "prime op 2: module 'osc1' (sine) has no parameter 'cutoff'; parameters: "
   "freq, gain, detune",
   false},
  {"prime op out of range", b_prime_range, MATCH_EXACT,
   "prime op 1: value 3 for osc1:gain is out of range 0..1", false},
  {"hp:warmup 0", b_warmup_zero, MATCH_EXACT,
   "hp:warmup 0 is out of range 1..1024 blocks", false},
  {"hp:warmup 2.5", b_warmup_fraction, MATCH_EXACT,
   "hp:Commit: hp:warmup must be a whole number of blocks, 1 to 1024", false},
  {"negative hp:crossfade", b_crossfade_negative, MATCH_EXACT,
   "hp:Commit: hp:crossfade must be 0 ms or more", false},
  {"hp:crossfade of 20 s", b_crossfade_huge, MATCH_EXACT,
   "hp:crossfade 20000 ms is out of range 0..10000 ms", false},
  {"require_signal, silent warm-up", b_silent, MATCH_EXACT,
   "warm-up was silent (largest block RMS 0.000000 < 0.001) and "
   "hp:requireSignal is set; gate an envelope with a prime op or connect a "
   "sound to the output",
   false},
};

static bool
matches(const char* const text, const BadCase* const c)
{
  return text && (c->match == MATCH_EXACT
                    ? !strcmp(text, c->expect)
                    : !strncmp(text, c->expect, strlen(c->expect)));
}

static void
test_bad_messages(const HpWorkerMode mode)
{
  const size_t n_cases = sizeof(bad_cases) / sizeof(bad_cases[0]);
  size_t       good    = 0;
  double       worst_df = 0.0;
  double       worst_dr = 0.0;
  for (size_t i = 0; i < n_cases; ++i) {
    const BadCase* const c    = &bad_cases[i];
    HpHost* const        host = make(mode, 100 + i);
    const Sound          before = play_base(host, 1);
    const size_t         swaps  = hp_host_count_events(host, HP_EV_SWAPPED);
    const int            seq    = 500 + (int)i;
    const uint64_t       at     = hp_host_frames(host) + 37;
    c->send(host, at, c->no_seq ? -1 : seq);
    settle(host);
    const Sound after = listen(host, 9600);

    const HpHostEvent* r =
      c->no_seq ? hp_host_find_event(host, HP_EV_ERROR, -1) : hp_host_find_reply(host, seq);
    /* For the report: an error that lost its number. */
    const HpHostEvent* unnumbered = hp_host_find_event(host, HP_EV_ERROR, -1);
    const bool answered = r && r->kind == HP_EV_ERROR && matches(r->message, c);
    /* The log line holds the same text (the prefix, for prefix matches). */
    const bool logged  = hp_host_log_contains(host, c->expect);
    const bool no_swap = hp_host_count_events(host, HP_EV_SWAPPED) == swaps &&
                         !hp_host_find_event(host, HP_EV_PRIMED, seq);
    const double df    = fabs(after.freq - before.freq);
    const double dr    = fabs(after.rms - before.rms);
    const bool   same  = df < 0.05 && dr < 0.002 && fabs(after.rms_r - before.rms_r) < 0.002;
    EXPECT(answered, "%s worker, %s: got %s \"%s\" (seq %d), want patch:Error "
           "\"%s\"%s (seq %d)%s%s",
           mode_name(mode), c->name, r ? hp_host_event_kind_name(r->kind) : "no reply",
           r ? text_or(r->message, "(no hp:message)") : "", r ? r->seq : -1, c->expect,
           c->match == MATCH_PREFIX ? "..." : "", c->no_seq ? -1 : seq,
           !r && unnumbered ? "; an Error without patch:sequenceNumber came: " : "",
           !r && unnumbered ? text_or(unnumbered->message, "") : "");
    EXPECT(logged, "%s worker, %s: the host log lacks \"%s\"", mode_name(mode),
           c->name, c->expect);
    EXPECT(no_swap, "%s worker, %s: a swap or prime followed the error",
           mode_name(mode), c->name);
    EXPECT(same, "%s worker, %s: the playing patch changed: %.3f Hz RMS %.4f/%.4f "
           "before, %.3f Hz RMS %.4f/%.4f after",
           mode_name(mode), c->name, before.freq, before.rms, before.rms_r,
           after.freq, after.rms, after.rms_r);
    good += answered && logged && no_swap && same;
    worst_df = fmax(worst_df, df);
    worst_dr = fmax(worst_dr, dr);
    hp_host_free(host);
  }
  if (good == n_cases) {
    printf("# %s worker: %zu bad messages: each answered with its error, the "
           "playing patch unchanged (largest change %.4f Hz, RMS %.5f)\n",
           mode_name(mode), n_cases, worst_df, worst_dr);
  } else {
    printf("# %s worker: %zu bad messages: only %zu answered with their exact "
           "error (also in the log), the playing patch unchanged (largest change "
           "%.4f Hz, RMS %.5f)\n",
           mode_name(mode), n_cases, good, worst_df, worst_dr);
  }
}

/* 2b. A full notify: replies wait for room, whole and in order */

static uint32_t
pad8(const uint32_t size)
{
  return (size + 7u) & ~7u;
}

/* One atom of `room` bytes at most, strictly: its size inside the room,
   strings NUL-terminated, numbers of their size, objects made of whole
   properties.  NULL when well formed, else what is wrong. */
static const char*
malformed_atom(const HpURIs* const u, const LV2_Atom* const atom,
               const uint32_t room)
{
  if (room < sizeof(LV2_Atom) || atom->size > room - sizeof(LV2_Atom)) {
    return "an atom overruns its container";
  }
  const uint8_t* const body = (const uint8_t*)(atom + 1);
  if (atom->type == u->atom_String || atom->type == u->atom_Path) {
    return atom->size && body[atom->size - 1u] == '\0' ? NULL
                                                      : "a string without its NUL";
  }
  if (atom->type == u->atom_Int || atom->type == u->atom_Float ||
      atom->type == u->atom_Bool || atom->type == u->atom_URID) {
    return atom->size == 4u ? NULL : "a number of the wrong size";
  }
  if (atom->type != u->atom_Object && atom->type != u->atom_Blank) {
    return NULL;
  }
  if (atom->size < sizeof(LV2_Atom_Object_Body)) {
    return "an object shorter than its header";
  }
  uint32_t off = (uint32_t)sizeof(LV2_Atom_Object_Body);
  while (off < atom->size) {
    const uint32_t left = atom->size - off;
    if (left < sizeof(LV2_Atom_Property_Body)) {
      return "a property key without its value";
    }
    const LV2_Atom_Property_Body* const prop =
      (const LV2_Atom_Property_Body*)(body + off);
    const char* const why = malformed_atom(u, &prop->value, left - 8u);
    if (why) {
      return why;
    }
    off += pad8(8u + (uint32_t)sizeof(LV2_Atom) + prop->value.size);
  }
  return off == atom->size ? NULL : "an object whose size cuts its last property";
}

/* The notify sequence of the last cycle, every event and atom in it. */
static const char*
malformed_notify(const HpHost* const host)
{
  const HpURIs* const            u   = hp_host_uris(host);
  uint32_t                       cap = 0;
  const LV2_Atom_Sequence* const seq = hp_host_notify_sequence(host, &cap);
  if (seq->atom.type != u->atom_Sequence) {
    return "notify is not an atom:Sequence";
  }
  if (seq->atom.size < sizeof(LV2_Atom_Sequence_Body) ||
      seq->atom.size > cap - sizeof(LV2_Atom)) {
    return "the sequence's size is outside its buffer";
  }
  const uint8_t* const body = (const uint8_t*)&seq->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Sequence_Body);
  while (off < seq->atom.size) {
    const uint32_t left = seq->atom.size - off;
    if (left < sizeof(LV2_Atom_Event)) {
      return "an event time without its atom";
    }
    const LV2_Atom_Event* const ev = (const LV2_Atom_Event*)(body + off);
    const char* const why = malformed_atom(u, &ev->body, left - 8u);
    if (why) {
      return why;
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Event) + ev->body.size);
  }
  return off == seq->atom.size ? NULL : "a sequence whose size cuts its last event";
}

/* Run `blocks` cycles, checking every notify sequence; the first fault. */
static const char*
run_checking_notify(HpHost* const host, const unsigned blocks)
{
  const char* fault = NULL;
  for (unsigned b = 0; b < blocks; ++b) {
    CHECK(!hp_host_run(host, BLOCK));
    const char* const why = malformed_notify(host);
    fault = fault ? fault : why;
    CHECK_MSG(!hp_host_wait_worker(host, 5000), "%s", hp_host_last_error());
  }
  return fault;
}

/* Index of the first event of `kind` for `seq` (whole: with its fields),
   or -1. */
static long
event_index(const HpHost* const host, const HpEventKind kind, const int seq)
{
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* const e = hp_host_event(host, i);
    if (e->kind == kind && e->seq == seq &&
        (kind != HP_EV_ERROR || e->message) &&
        (kind != HP_EV_PRIMED || (e->generation >= 0 && e->module_count >= 0 &&
                                  !isnan(e->prime_ms) && !isnan(e->warmup_rms))) &&
        (kind != HP_EV_SWAPPED || (e->generation >= 0 && e->frame >= 0))) {
      return (long)i;
    }
  }
  return -1;
}

static void
test_notify_full(const HpWorkerMode mode)
{
  /* 256 bytes of notify: a bad Create's error, then a commit's Primed,
     Swapped and Ack need several cycles. */
  HpHost* host = make_with((HpHostConfig){.worker_mode = mode, .notify_capacity = 256});
  send_now(host, -1, "/patch/create s1 sine");
  send_now(host, 1, "/patch/create x nosuch");
  send_now(host, 2, "/patch/commit");
  const char* fault = run_checking_notify(host, 40);
  EXPECT(!fault, "%s worker, 256-byte notify: %s", mode_name(mode), fault);
  const long error  = event_index(host, HP_EV_ERROR, 1);
  const long primed = event_index(host, HP_EV_PRIMED, 2);
  const long swap   = event_index(host, HP_EV_SWAPPED, 2);
  const long ack    = event_index(host, HP_EV_ACK, 2);
  const HpHostEvent* const e = error >= 0 ? hp_host_event(host, (size_t)error) : NULL;
  EXPECT(e && e->message && !strncmp(e->message, "unknown module type 'nosuch'; known types: ", 43),
         "%s worker, 256-byte notify: the error of message 1: %s", mode_name(mode),
         e ? e->message : "none");
  EXPECT(error >= 0 && primed > error && swap > primed && ack > swap,
         "%s worker, 256-byte notify: Error 1 at %ld, Primed 2 at %ld, Swapped 2 "
         "at %ld, Ack 2 at %ld (whole events, in that order, wanted)",
         mode_name(mode), error, primed, swap, ack);
  const size_t n_events = hp_host_n_events(host);
  char         unknown[512] = "";
  snprintf(unknown, sizeof(unknown), "%s", e && e->message ? e->message : "");
  hp_host_free(host);

  /* 500 bad messages in one cycle at the declared 64 KiB: found by the
     worker (an unknown type) or by run() itself (no hp:type). */
  size_t arrived[2] = {0, 0};
  for (int decode = 0; decode < 2; ++decode) {
    host = make_with((HpHostConfig){.worker_mode = mode, .notify_capacity = 65536});
    const uint64_t at = hp_host_frames(host);
    for (int seq = 1; seq <= 500; ++seq) {
      if (decode) {
        b_missing_type(host, at, seq);
      } else {
        send_at(host, at, seq, "/patch/create x nosuch");
      }
    }
    const char* const why = run_checking_notify(host, 40);
    EXPECT(!why, "%s worker, 500 %s errors: %s", mode_name(mode),
           decode ? "run()" : "worker", why);
    long previous = -1;
    int  seq      = 1;
    for (; seq <= 500; ++seq) {
      const long i = event_index(host, HP_EV_ERROR, seq);
      const HpHostEvent* const r = i >= 0 ? hp_host_event(host, (size_t)i) : NULL;
      if (!r || i < previous ||
          strcmp(r->message, decode ? "hp:Create needs hp:type (an atom:String)"
                                    : unknown)) {
        break;
      }
      previous = i;
    }
    arrived[decode] = (size_t)seq - 1u;
    EXPECT(seq == 501 && hp_host_count_events(host, HP_EV_ERROR) == 500,
           "%s worker, 500 %s errors in one cycle: replies 1..%d arrive whole "
           "and in order, then reply %d %s (%zu errors in all)",
           mode_name(mode), decode ? "run()" : "worker", seq - 1, seq,
           event_index(host, HP_EV_ERROR, seq) < 0 ? "is missing or cut"
                                                   : "is out of order or differs",
           hp_host_count_events(host, HP_EV_ERROR));
    hp_host_free(host);
  }
  printf("# %s worker: 256-byte notify: %zu events over 40 cycles (%s); "
         "500 bad messages in one cycle at 64 KiB: replies 1..%zu of the "
         "worker's errors and 1..%zu of run()'s arrive whole and in order\n",
         mode_name(mode), n_events, fault ? fault : "all whole", arrived[0],
         arrived[1]);
}

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
  HpHost* const host      = make_with(cfg);
  const Sound   before    = play_base(host, 1);

  /* Staged, not committed: a second oscillator is not heard. */
  send_now(host, 10, "/patch/create osc2 sine");
  send_now(host, 11, "/patch/set osc2 freq 1000");
  send_now(host, 12, "/patch/set osc2 gain 0.3");
  settle(host);
  uint64_t    from   = hp_host_frames(host);
  const Sound staged = listen(host, 24000);
  double      db1000 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  EXPECT(fabs(staged.freq - 440.0) < 0.05 && fabs(staged.rms - before.rms) < 0.001 &&
           db1000 < -100.0,
         "%s worker: staged osc2 audible before commit: %.3f Hz, RMS %.4f, 1 kHz "
         "at %.1f dB",
         mode_name(mode), staged.freq, staged.rms, db1000);
  const double staged_db = db1000;

  /* Abort drops it: the next commit has nothing to build. */
  send_now(host, 13, "/patch/abort");
  settle(host);
  send_now(host, 14, "/patch/commit");
  settle(host);
  const HpHostEvent* a = hp_host_find_reply(host, 13);
  const HpHostEvent* c = hp_host_find_reply(host, 14);
  EXPECT(a && a->kind == HP_EV_ACK, "%s worker: abort answered %s", mode_name(mode),
         a ? hp_host_event_kind_name(a->kind) : "nothing");
  EXPECT(c && c->kind == HP_EV_ERROR && c->message &&
           !strncmp(c->message, "nothing staged to commit", 24),
         "%s worker: commit after abort: %s", mode_name(mode),
         c ? text_or(c->message, hp_host_event_kind_name(c->kind)) : "no reply");
  from = hp_host_frames(host);
  render(host, 24000);
  db1000 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  EXPECT(db1000 < -100.0, "1 kHz at %.1f dB after abort", db1000);

  /* Abort after a commit in the same block, the next frame. */
  send_now(host, -1, "/patch/create osc2 sine");
  send_now(host, -1, "/patch/set osc2 freq 1000");
  send_now(host, -1, "/patch/set osc2 gain 0.3");
  const uint64_t at = hp_host_frames(host) + 100;
  commit_at(host, at, 20, 0.0f, NULL, 0);
  send_at(host, at + 1, 21, "/patch/abort");
  settle(host);
  render(host, 4800);
  from = hp_host_frames(host);
  render(host, 24000);
  db1000                  = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 1000.0);
  const HpHostEvent* sw   = hp_host_find_event(host, HP_EV_SWAPPED, 20);
  const HpHostEvent* rep  = hp_host_find_reply(host, 20);
  const HpHostEvent* ab   = hp_host_find_reply(host, 21);
  EXPECT(ab && ab->kind == HP_EV_ACK, "abort 21: %s",
         ab ? hp_host_event_kind_name(ab->kind) : "no reply");
  if (mode == HP_WORKER_SYNC) {
    /* The worker runs inside schedule_work(): the commit swapped at its own
       frame, before the abort arrived; the abort finds nothing to cancel. */
    EXPECT(sw && sw->frame_abs == at, "sync: commit 20 swapped at %lld, sent at %llu",
           sw ? (long long)sw->frame_abs : -1LL, (unsigned long long)at);
    EXPECT(fabs(db1000 - 20.0 * log10(0.3)) < 0.5, "sync: osc2 at %.2f dB", db1000);
  } else {
    /* One work() call sees both: the commit is primed, then taken back. */
    EXPECT(!sw, "threaded: aborted commit 20 swapped in at %llu",
           sw ? (unsigned long long)sw->frame_abs : 0ull);
    EXPECT(rep && rep->kind == HP_EV_ERROR && rep->message &&
             strstr(rep->message, "was aborted before it swapped in"),
           "threaded: commit 20 answered %s",
           rep ? text_or(rep->message, hp_host_event_kind_name(rep->kind)) : "nothing");
    EXPECT(db1000 < -100.0, "threaded: aborted osc2 heard at %.1f dB", db1000);
  }
  send_now(host, 22, "/patch/commit");
  settle(host);
  c = hp_host_find_reply(host, 22);
  EXPECT(c && c->kind == HP_EV_ERROR && c->message &&
           !strncmp(c->message, "nothing staged to commit", 24),
         "%s worker: commit after the same-block abort: %s", mode_name(mode),
         c ? text_or(c->message, hp_host_event_kind_name(c->kind)) : "no reply");
  from = hp_host_frames(host);
  render(host, 24000);
  const double db440 = hp_sig_goertzel_db(left_at(host, from), 24000, RATE, 440.0);
  EXPECT(fabs(db440 - 20.0 * log10(0.2)) < 0.5, "osc1 at %.2f dB", db440);
  printf("# %s worker: staged osc2 unheard (1 kHz at %.0f dB) until commit; abort "
         "empties the stage; commit+abort on consecutive frames: %s (%s, 1 kHz "
         "at %.1f dB)\n",
         mode_name(mode), staged_db,
         mode == HP_WORKER_SYNC ? "the commit swapped at its frame" : "the standby was taken back",
         rep ? text_or(rep->message, hp_host_event_kind_name(rep->kind)) : "swapped",
         db1000);
  hp_host_free(host);
}

/* 4. A burst of 50 commits in one block */

static void
test_burst(const HpWorkerMode mode)
{
  HpHost* const host = make(mode, 4);
  play_base(host, 1); /* 2 modules */
  hp_host_clear_events(host);
  const float swaps_before = hp_host_control_out(host, "swaps");
  const int      n     = 50;
  const uint64_t start = hp_host_frames(host) + 10;
  for (int i = 0; i < n; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/create c%d const", i);
    send_at(host, start + 2u * (uint64_t)i, -1, line);
    /* Sync: crossfade 0 so each swaps at its frame (a swap waits for the
       previous crossfade to end); threaded: the default 20 ms. */
    commit_at(host, start + 2u * (uint64_t)i + 1u, 100 + i,
              mode == HP_WORKER_SYNC ? 0.0f : -1.0f, NULL, 0);
  }
  CHECK(start + 2u * (uint64_t)n < hp_host_frames(host) + BLOCK);
  const HpHostEvent* last = NULL;
  for (int k = 0; k < 100 && !last; ++k) {
    settle(host);
    last = hp_host_find_event(host, HP_EV_SWAPPED, 100 + n - 1);
  }
  settle(host);
  EXPECT(last != NULL, "%s worker: no hp:Swapped for the last commit of the burst",
         mode_name(mode));

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
               "sync: commit %d swapped at %llu", 100 + i,
               (unsigned long long)sw->frame_abs);
      }
    } else if (!sw && err && err->message && strstr(err->message, "superseded")) {
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
         mode_name(mode), other, n, first_other, n_primed, (double)swaps);
  EXPECT(ordered, "%s worker: a Swapped arrived out of order", mode_name(mode));
  if (mode == HP_WORKER_SYNC) {
    EXPECT(swapped == n, "sync: %d of %d commits reported hp:Swapped", swapped, n);
  }
  const float modules = hp_host_control_out(host, "modules");
  EXPECT(modules == (float)(n + 2), "%s worker: %g modules after the burst, want %d",
         mode_name(mode), (double)modules, n + 2);
  const Sound s = listen(host, 9600);
  EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.1414) < 0.002,
         "after the burst: %.3f Hz RMS %.4f", s.freq, s.rms);
  printf("# %s worker: 50 commits in one block: %d reported swapped, %d "
         "superseded, %d unanswered (%g swaps done); swaps in order; %g modules "
         "playing\n",
         mode_name(mode), swapped, superseded, other, (double)swaps, (double)modules);
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
  HpHost* const host      = make_with(cfg);
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create s1 sine");
  send_now(host, 1, "/patch/commit");
  send_now(host, -1, "/patch/create e1 adsr");
  send_now(host, -1, "/patch/connect s1 e1");
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
  EXPECT(good && good->kind == HP_EV_ACK && hp_host_find_event(host, HP_EV_SWAPPED, 1),
         "%s worker: the good commit answered %s", mode_name(mode),
         good ? text_or(good->message, hp_host_event_kind_name(good->kind)) : "nothing");
  EXPECT(bad && bad->kind == HP_EV_ERROR && bad->message &&
           strstr(bad->message, "warm-up was silent"),
         "%s worker: the silent commit answered %s", mode_name(mode),
         bad ? text_or(bad->message, hp_host_event_kind_name(bad->kind)) : "nothing");
  EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.5 / sqrt(2.0)) < 0.002,
         "%s worker: after a good and a failing commit: %.3f Hz RMS %.4f, want "
         "the good one's 440 Hz at 0.3536",
         mode_name(mode), s.freq, s.rms);
  printf("# %s worker: clear, create s1, commit, then a commit that fails "
         "(require_signal) in one block: the first %s, plays %.3f Hz at RMS "
         "%.4f\n",
         mode_name(mode), good ? text_or(good->message, "swapped") : "unanswered",
         s.freq, s.rms);
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
  HpHost* const  host     = make_with(cfg);
  const int      n        = 20;
  const uint64_t start = hp_host_frames(host);
  send_at(host, start, -1, "/patch/clear");
  for (int i = 0; i < n; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/create c%d sine", i);
    send_at(host, start + (uint64_t)i, -1, line);
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
  EXPECT(errors == 0 && notes == superseded,
         "a burst of %d commits: %zu superseded on notify, %zu host-log errors, "
         "%zu notes", n, superseded, errors, notes);
  printf("# a burst of %d commits: %zu answered superseded, logged as %zu notes "
         "and %zu errors\n", n, superseded, notes, errors);
  hp_host_free(host);
}

/* 5. Live hp:Set glides and persists; hp:Gate opens and closes an adsr */

static void
test_live(const HpWorkerMode mode)
{
  HpHost* const host = make(mode, 5);
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
  send_at(host, at, 30, "/patch/set osc1 gain 0.6");
  render(host, 12000);
  const float  around = hp_sig_max_step(left_at(host, at - 256), 256 + 2400);
  const float  own    = hp_sig_max_step(left_at(host, at + 4800), 4800);
  const float  peak_1ms = hp_sig_peak(left_at(host, at), 24);
  const double rms_end = hp_sig_rms(left_at(host, at + 4800), 4800);
  EXPECT(around <= own * 1.1f, "%s worker: step %.4f around the set, %.4f of its own",
         mode_name(mode), (double)around, (double)own);
  /* A jump would put 0.6 on the peak at once; a 5 ms glide only ~0.23. */
  EXPECT(peak_1ms < 0.4f, "no glide: peak %.4f in the first 0.5 ms", (double)peak_1ms);
  EXPECT(fabs(rms_end - 0.6 / sqrt(2.0)) < 0.003, "RMS %.4f after the glide", rms_end);
  settle(host);
  const HpHostEvent* r = hp_host_find_reply(host, 30);
  EXPECT(r && r->kind == HP_EV_ACK, "set answered %s",
         r ? hp_host_event_kind_name(r->kind) : "nothing");

  /* A later commit keeps the live value. */
  send_now(host, -1, "/patch/create c1 const");
  commit_at(host, hp_host_frames(host) + 5, 31, 0.0f, NULL, 0);
  settle(host);
  CHECK(hp_host_find_event(host, HP_EV_SWAPPED, 31));
  const Sound kept = listen(host, 9600);
  EXPECT(fabs(kept.rms - 0.6 / sqrt(2.0)) < 0.003 && fabs(kept.freq - 440.0) < 0.05,
         "%s worker: after a commit: %.3f Hz RMS %.4f, want 440 Hz 0.4243",
         mode_name(mode), kept.freq, kept.rms);

  /* hp:Gate: an adsr alone on the output, closed until gated. */
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create osc2 sine");
  send_now(host, -1, "/patch/set osc2 freq 660");
  send_now(host, -1, "/patch/set osc2 gain 0.3");
  send_now(host, -1, "/patch/create env2 adsr");
  send_now(host, -1, "/patch/set env2 attack 5");
  send_now(host, -1, "/patch/set env2 decay 0");
  send_now(host, -1, "/patch/set env2 sustain 1");
  send_now(host, -1, "/patch/set env2 release 20");
  send_now(host, -1, "/patch/connect osc2 env2");
  commit_at(host, hp_host_frames(host), 32, 0.0f, NULL, 0);
  settle(host);
  CHECK(hp_host_find_event(host, HP_EV_SWAPPED, 32));
  render(host, 2400);
  const uint64_t gate_on = hp_host_frames(host) + 77;
  send_at(host, gate_on, 33, "/patch/gate env2 1");
  render(host, 9600);
  const uint64_t gate_off = hp_host_frames(host) + 50;
  send_at(host, gate_off, 34, "/patch/gate env2 0");
  render(host, 9600);
  settle(host);
  const float  closed  = hp_sig_peak(left_at(host, gate_on - 2400), 2400);
  const uint64_t onset = first_sound(host, gate_on - 2400, 0.0f);
  const double open_db = hp_sig_goertzel_db(left_at(host, gate_on + 480), 4800, RATE, 660.0);
  const float  tail    = hp_sig_peak(left_at(host, gate_off + 960 + 2), 4800);
  const double rel_rms = hp_sig_rms(left_at(host, gate_off), 480);
  const HpHostEvent* g1 = hp_host_find_reply(host, 33);
  const HpHostEvent* g0 = hp_host_find_reply(host, 34);
  EXPECT(closed == 0.0f, "closed envelope: peak %g", (double)closed);
  EXPECT(onset >= gate_on && onset <= gate_on + 1, "gate at %llu, sound from %llu",
         (unsigned long long)gate_on, (unsigned long long)onset);
  EXPECT(fabs(open_db - 20.0 * log10(0.3)) < 0.5, "open: 660 Hz at %.2f dB", open_db);
  EXPECT(rel_rms > 0.05 && tail == 0.0f, "release: RMS %.4f in 10 ms, peak %g after 20 ms",
         rel_rms, (double)tail);
  EXPECT(g1 && g1->kind == HP_EV_ACK && g0 && g0->kind == HP_EV_ACK, "gates answered");
  printf("# %s worker: live gain 0.2 -> 0.6 on a peak: largest step %.4f (the "
         "tone's own %.4f), peak %.4f in 0.5 ms, RMS %.4f settled and after a commit "
         "%.4f; gate opens at frame +%lld (660 Hz at %.2f dB), closes to 0 in "
         "20 ms\n",
         mode_name(mode), (double)around, (double)own, (double)peak_1ms, rms_end, kept.rms,
         (long long)(onset - gate_on), open_db);
  hp_host_free(host);
}

/* 6. Phase continuity: a kept oscillator across a commit, crossfade 0 */

static HpHost*
phase_host(const char* const osc_id)
{
  HpHost* const host = make(HP_WORKER_SYNC, 6);
  char          line[64];
  send_now(host, -1, "/patch/clear");
  snprintf(line, sizeof(line), "/patch/create %s sine", osc_id);
  send_now(host, -1, line);
  snprintf(line, sizeof(line), "/patch/set %s freq 437.3", osc_id);
  send_now(host, -1, line);
  snprintf(line, sizeof(line), "/patch/set %s gain 0.5", osc_id);
  send_now(host, -1, line);
  send_now(host, -1, "/patch/create env1 adsr");
  send_now(host, -1, "/patch/set env1 attack 0");
  send_now(host, -1, "/patch/set env1 decay 0");
  send_now(host, -1, "/patch/set env1 sustain 1");
  snprintf(line, sizeof(line), "/patch/connect %s env1", osc_id);
  send_now(host, -1, line);
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
  send_at(kept, swap_at, -1, "/patch/create c1 const");
  commit_at(kept, swap_at, 2, 0.0f, &gate, 1);
  send_at(fresh, swap_at, -1, "/patch/delete osc1");
  send_at(fresh, swap_at, -1, "/patch/create osc1b sine");
  send_at(fresh, swap_at, -1, "/patch/set osc1b freq 437.3");
  send_at(fresh, swap_at, -1, "/patch/set osc1b gain 0.5");
  send_at(fresh, swap_at, -1, "/patch/connect osc1b env1");
  commit_at(fresh, swap_at, 2, 0.0f, &gate, 1);
  render(kept, total - swap_at);
  render(fresh, total - swap_at);
  const HpHostEvent* sw = hp_host_find_event(kept, HP_EV_SWAPPED, 2);
  EXPECT(sw && sw->frame_abs == swap_at, "kept: swapped at %lld",
         sw ? (long long)sw->frame_abs : -1LL);
  CHECK(hp_host_find_event(fresh, HP_EV_SWAPPED, 2));
  CHECK(hp_host_recorded(plain) == total && hp_host_recorded(kept) == total);
  float diff = 0.0f, diff_fresh = 0.0f;
  for (uint64_t i = 1000; i < total; ++i) {
    diff       = fmaxf(diff, fabsf(hp_host_out_l(kept)[i] - hp_host_out_l(plain)[i]));
    diff_fresh = fmaxf(diff_fresh, fabsf(hp_host_out_l(fresh)[i] - hp_host_out_l(plain)[i]));
  }
  const double rms = hp_sig_rms(hp_host_out_l(kept) + swap_at, (size_t)(total - swap_at));
  EXPECT(diff <= 1e-5f, "kept oscillator differs by %g from one never swapped",
         (double)diff);
  EXPECT(diff_fresh > 0.01f, "a new oscillator matched the old phase (%g): the "
         "measurement cannot tell", (double)diff_fresh);
  EXPECT(fabs(rms - 0.5 / sqrt(2.0)) < 0.002, "RMS %.4f after the swap", rms);
  printf("# sync worker, crossfade 0: a kept oscillator through an open adsr "
         "differs by %.2g from an instance never swapped (a re-created one by "
         "%.3f)\n",
         (double)diff, (double)diff_fresh);
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
    HpHost* const host = make(HP_WORKER_SYNC, 7);
    send_now(host, -1, "/patch/clear");
    send_now(host, -1, "/patch/create quiet sine");
    send_now(host, -1, "/patch/set quiet gain 0");
    commit_at(host, 0, 1, 0.0f, NULL, 0);
    render(host, 16 * BLOCK);
    const uint64_t at = hp_host_frames(host) + BLOCK + offsets[k];
    send_at(host, at, -1, "/patch/create loud sine");
    send_at(host, at, -1, "/patch/set loud gain 0.5");
    commit_at(host, at, 2, 0.0f, NULL, 0);
    render(host, 4 * BLOCK);
    const HpHostEvent* sw    = hp_host_find_event(host, HP_EV_SWAPPED, 2);
    const uint64_t     onset = first_sound(host, 0, 0.0f);
    const Sound        s     = listen(host, 9600);
    EXPECT(sw && sw->frame_abs == at, "commit at %llu swapped at %lld",
           (unsigned long long)at, sw ? (long long)sw->frame_abs : -1LL);
    EXPECT(onset == at, "commit at %llu (block offset %u): first sound at %llu",
           (unsigned long long)at, offsets[k], (unsigned long long)onset);
    EXPECT(fabs(s.freq - 440.0) < 0.05 && fabs(s.rms - 0.3536) < 0.002,
           "loud: %.3f Hz RMS %.4f", s.freq, s.rms);
    const uint64_t off = onset > at ? onset - at : at - onset;
    worst              = off > worst ? off : worst;
    hp_host_free(host);
  }
  printf("# sync worker: commits at block offsets 1, 100, 128, 254, 255 swap "
         "from silence exactly there (Swapped frame = commit frame; first "
         "non-zero sample off by at most %llu)\n",
         (unsigned long long)worst);
}

/* 8. MIDI and patch messages in one block, in event order */

static void
test_midi_order(void)
{
  static const char* const midi_patch[] = {
    "/patch/clear",
    "/patch/create kb midi",
    "/patch/create osc saw",
    "/patch/set osc gain 0.4",
    "/patch/create env adsr",
    "/patch/set env attack 0",
    "/patch/set env decay 0",
    "/patch/set env sustain 1",
    "/patch/connect kb:freq osc:freq",
    "/patch/connect kb:gate env:gate",
    "/patch/connect osc env",
  };
  uint64_t onsets[2] = {0, 0};
  uint64_t blocks[2] = {0, 0};
  double   pitch     = 0.0;
  for (int order = 0; order < 2; ++order) {
    HpHost* const host = make(HP_WORKER_SYNC, 8);
    send_now(host, -1, "/patch/clear");
    send_now(host, -1, "/patch/create quiet sine");
    send_now(host, -1, "/patch/set quiet gain 0");
    commit_at(host, 0, 1, 0.0f, NULL, 0);
    render(host, 4096);
    const uint64_t block  = hp_host_frames(host);
    blocks[order]         = block;
    /* order 0: commit at +50, note at +100; order 1: note at +50, commit
       at +100 (the note reaches the old patch, which has no midi module). */
    const uint64_t commit = block + (order ? 100 : 50);
    const uint64_t note   = block + (order ? 50 : 100);
    CHECK(!hp_host_note_on(host, note, 57, 100));
    for (size_t i = 0; i < sizeof(midi_patch) / sizeof(midi_patch[0]); ++i) {
      send_at(host, commit, -1, midi_patch[i]);
    }
    commit_at(host, commit, 2, 0.0f, NULL, 0);
    render(host, BLOCK);
    /* The block really carried both, in frame order. */
    size_t                   n_in = 0;
    const LV2_Atom_Sequence* seq  = hp_host_control_sequence(host);
    int64_t                  note_time = -1, commit_time = -1;
    LV2_ATOM_SEQUENCE_FOREACH (seq, ev) {
      ++n_in;
      if (ev->body.type == hp_host_uris(host)->midi_MidiEvent) {
        note_time = ev->time.frames;
      } else if (ev->body.type == hp_host_uris(host)->atom_Object &&
                 ((const LV2_Atom_Object*)&ev->body)->body.otype ==
                   hp_host_uris(host)->hp_Commit) {
        commit_time = ev->time.frames;
      }
    }
    CHECK_MSG(note_time == (int64_t)(note - block) &&
                commit_time == (int64_t)(commit - block),
              "control sequence: note at %lld, commit at %lld", (long long)note_time,
              (long long)commit_time);
    const Sound s = listen(host, 24000);
    onsets[order] = first_sound(host, block, 1e-6f);
    if (!order) {
      pitch = s.freq;
      EXPECT(onsets[0] == note, "note at %llu, commit at %llu: sound from %llu",
             (unsigned long long)note, (unsigned long long)commit,
             (unsigned long long)onsets[0]);
      EXPECT(fabs(s.freq - 220.0) < 0.2 && s.rms > 0.1, "note 57: %.3f Hz RMS %.4f",
             s.freq, s.rms);
    } else {
      EXPECT(onsets[1] == UINT64_MAX, "a note before the commit was heard from %llu",
             (unsigned long long)onsets[1]);
    }
    hp_host_free(host);
  }
  printf("# sync worker, one block: commit at +50 then note at +100 sounds from "
         "+%llu at %.3f Hz; note at +50 then commit at +100: %s\n",
         (unsigned long long)(onsets[0] == UINT64_MAX ? 0 : onsets[0] - blocks[0]),
         pitch, onsets[1] == UINT64_MAX ? "silent (the note reached the old patch)" : "heard");
}

/* 9. Events stamped at the block's end.  The test host only produces times
   inside the block, so this is a minimal lilv host of our own: urid:map and
   a synchronous work:schedule (like Ardour's export), one control sequence
   we write by hand. */

typedef struct {
  LilvWorld*                  world;
  LilvInstance*               instance;
  const LV2_Worker_Interface* iface;
  char*                       uris[512];
  uint32_t                    n_uris;
  LV2_URID_Map                map;
  LV2_Worker_Schedule         schedule;
  LV2_Feature                 f_map;
  LV2_Feature                 f_schedule;
  const LV2_Feature*          features[3];
  HpURIs                      u;
  float                       controls[HP_N_PORTS];
  uint64_t                    control[4096]; /* 32 KiB, 8-byte aligned */
  uint64_t                    notify[8192];
  float                       out_l[8192];
  float                       out_r[8192];
  float*                      rec;
  size_t                      n_rec;
  uint8_t                     events[4096];
  uint32_t                    events_used;
} Mini;

static LV2_URID
mini_map(LV2_URID_Map_Handle handle, const char* const uri)
{
  Mini* const m = (Mini*)handle;
  for (uint32_t i = 0; i < m->n_uris; ++i) {
    if (!strcmp(m->uris[i], uri)) {
      return i + 1;
    }
  }
  CHECK(m->n_uris < 512);
  const size_t len = strlen(uri);
  m->uris[m->n_uris] = (char*)malloc(len + 1);
  CHECK(m->uris[m->n_uris]);
  memcpy(m->uris[m->n_uris], uri, len + 1);
  return ++m->n_uris;
}

static LV2_Worker_Status
mini_respond(LV2_Worker_Respond_Handle handle, const uint32_t size,
             const void* const data)
{
  Mini* const m = (Mini*)handle;
  return m->iface->work_response(lilv_instance_get_handle(m->instance), size, data);
}

static LV2_Worker_Status
mini_schedule(LV2_Worker_Schedule_Handle handle, const uint32_t size,
              const void* const data)
{
  Mini* const m = (Mini*)handle;
  return m->iface->work(lilv_instance_get_handle(m->instance), mini_respond, m,
                        size, data);
}

static Mini*
mini_new(void)
{
  Mini* const m = (Mini*)calloc(1, sizeof(Mini));
  CHECK(m);
  const char* const bundle = getenv("HP_BUNDLE");
  CHECK_MSG(bundle, "HP_BUNDLE is not set");
  m->world = lilv_world_new();
  char path[4096];
  snprintf(path, sizeof(path), "%s/", bundle);
  LilvNode* const bundle_uri = lilv_new_file_uri(m->world, NULL, path);
  lilv_world_load_bundle(m->world, bundle_uri);
  lilv_node_free(bundle_uri);
  LilvNode* const   uri    = lilv_new_uri(m->world, HP_PLUGIN_URI);
  const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(m->world), uri);
  lilv_node_free(uri);
  CHECK_MSG(plugin, "no %s in %s", HP_PLUGIN_URI, bundle);

  m->map          = (LV2_URID_Map){m, mini_map};
  m->schedule     = (LV2_Worker_Schedule){m, mini_schedule};
  m->f_map        = (LV2_Feature){LV2_URID__map, &m->map};
  m->f_schedule   = (LV2_Feature){LV2_WORKER__schedule, &m->schedule};
  m->features[0]  = &m->f_map;
  m->features[1]  = &m->f_schedule;
  m->features[2]  = NULL;
  hp_map_uris(&m->map, &m->u);
  m->instance = lilv_plugin_instantiate(plugin, RATE, m->features);
  CHECK(m->instance);
  m->iface = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
    m->instance, LV2_WORKER__interface);
  CHECK(m->iface);

  /* Every port, control inputs at their defaults. */
  float mins[HP_N_PORTS], maxs[HP_N_PORTS], defs[HP_N_PORTS];
  CHECK(lilv_plugin_get_num_ports(plugin) == HP_N_PORTS);
  lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  for (uint32_t p = 0; p < HP_N_PORTS; ++p) {
    m->controls[p] = isnan(defs[p]) ? 0.0f : defs[p];
    lilv_instance_connect_port(m->instance, p, &m->controls[p]);
  }
  lilv_instance_connect_port(m->instance, HP_PORT_CONTROL, m->control);
  lilv_instance_connect_port(m->instance, HP_PORT_NOTIFY, m->notify);
  lilv_instance_connect_port(m->instance, HP_PORT_OUT_L, m->out_l);
  lilv_instance_connect_port(m->instance, HP_PORT_OUT_R, m->out_r);
  lilv_instance_activate(m->instance);
  return m;
}

static void
mini_free(Mini* const m)
{
  lilv_instance_deactivate(m->instance);
  lilv_instance_free(m->instance);
  lilv_world_free(m->world);
  for (uint32_t i = 0; i < m->n_uris; ++i) {
    free(m->uris[i]);
  }
  free(m->rec);
  free(m);
}

/* Queue an event for the next block at any int64 time, even past its end. */
static void
mini_event(Mini* const m, const int64_t time, const LV2_Atom* const body)
{
  const uint32_t need = (uint32_t)sizeof(LV2_Atom_Event) + lv2_atom_pad_size(body->size);
  CHECK(m->events_used + need <= sizeof(m->events));
  LV2_Atom_Event* const ev = (LV2_Atom_Event*)(m->events + m->events_used);
  memset(ev, 0, need);
  ev->time.frames = time;
  memcpy(&ev->body, body, sizeof(LV2_Atom) + body->size);
  m->events_used += need;
}

/* The few text-protocol lines this test needs, as atoms with our URIDs. */
static void
mini_text(Mini* const m, const int64_t time, const char* const line)
{
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", line);
  char* words[5] = {NULL, NULL, NULL, NULL, NULL};
  int   n        = 0;
  for (char* w = strtok(buf, " "); w && n < 5; w = strtok(NULL, " ")) {
    words[n++] = w;
  }
  uint8_t        mem[1024];
  LV2_Atom_Forge forge;
  lv2_atom_forge_init(&forge, &m->map);
  lv2_atom_forge_set_buffer(&forge, mem, sizeof(mem));
  LV2_Atom_Forge_Frame obj;
  const HpURIs* const  u = &m->u;
  if (!strcmp(words[0], "/patch/clear")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Clear);
  } else if (!strcmp(words[0], "/patch/create")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Create);
    put_string(&forge, u->hp_module, words[1]);
    put_string(&forge, u->hp_type, words[2]);
  } else if (!strcmp(words[0], "/patch/connect")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Connect);
    put_string(&forge, u->hp_source, words[1]);
    put_string(&forge, u->hp_dest, words[2]);
  } else if (!strcmp(words[0], "/patch/set")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Set);
    put_string(&forge, u->hp_module, words[1]);
    put_string(&forge, u->hp_param, words[2]);
    lv2_atom_forge_key(&forge, u->hp_value);
    lv2_atom_forge_float(&forge, strtof(words[3], NULL));
  } else if (!strcmp(words[0], "/patch/commit")) {
    lv2_atom_forge_object(&forge, &obj, 0, u->hp_Commit);
    lv2_atom_forge_key(&forge, u->patch_sequenceNumber);
    lv2_atom_forge_int(&forge, (int32_t)strtol(words[1], NULL, 10));
    lv2_atom_forge_key(&forge, u->hp_crossfade);
    lv2_atom_forge_float(&forge, 0.0f);
  } else {
    CHECK_MSG(false, "mini host: no %s", words[0]);
  }
  lv2_atom_forge_pop(&forge, &obj);
  mini_event(m, time, (const LV2_Atom*)mem);
}

static void
mini_note(Mini* const m, const int64_t time, const uint8_t note)
{
  struct {
    LV2_Atom atom;
    uint8_t  msg[3];
  } ev = {{3, m->u.midi_MidiEvent}, {LV2_MIDI_MSG_NOTE_ON, note, 100}};
  mini_event(m, time, &ev.atom);
}

typedef struct {
  int32_t seq;
  int64_t frame; /* hp:frame */
  int64_t time;  /* the event's time */
} MiniSwap;

/* One run() of `n` frames with the queued events; records the output and
   returns the last hp:Swapped seen (seq -1 if none). */
static MiniSwap
mini_run(Mini* const m, const uint32_t n)
{
  LV2_Atom_Sequence* const in = (LV2_Atom_Sequence*)m->control;
  in->atom.type               = m->u.atom_Sequence;
  in->atom.size               = (uint32_t)sizeof(LV2_Atom_Sequence_Body) + m->events_used;
  in->body.unit               = 0;
  in->body.pad                = 0;
  memcpy(in + 1, m->events, m->events_used);
  m->events_used = 0;
  LV2_Atom_Sequence* const out = (LV2_Atom_Sequence*)m->notify;
  out->atom.type               = 0;
  out->atom.size               = (uint32_t)(sizeof(m->notify) - sizeof(LV2_Atom));
  lilv_instance_run(m->instance, n);

  float* const grown = (float*)realloc(m->rec, (m->n_rec + n) * sizeof(float));
  CHECK(grown);
  m->rec = grown;
  memcpy(m->rec + m->n_rec, m->out_l, n * sizeof(float));
  m->n_rec += n;

  MiniSwap swap = {-1, -1, -1};
  int64_t  last = 0;
  CHECK(out->atom.type == m->u.atom_Sequence);
  LV2_ATOM_SEQUENCE_FOREACH (out, ev) {
    EXPECT(ev->time.frames >= last, "notify times go back: %lld after %lld",
           (long long)ev->time.frames, (long long)last);
    last = ev->time.frames;
    const LV2_Atom_Object* obj = (const LV2_Atom_Object*)&ev->body;
    if (ev->body.type != m->u.atom_Object || obj->body.otype != m->u.hp_Swapped) {
      continue;
    }
    const LV2_Atom* seq   = NULL;
    const LV2_Atom* frame = NULL;
    lv2_atom_object_get(obj, m->u.patch_sequenceNumber, &seq, m->u.hp_frame, &frame, 0);
    CHECK(seq && frame && seq->type == m->u.atom_Int && frame->type == m->u.atom_Int);
    swap.seq   = ((const LV2_Atom_Int*)seq)->body;
    swap.frame = ((const LV2_Atom_Int*)frame)->body;
    swap.time  = ev->time.frames;
  }
  return swap;
}

static uint64_t
mini_first_sound(const Mini* const m, const uint64_t from)
{
  for (uint64_t f = from; f < m->n_rec; ++f) {
    if (fabsf(m->rec[f]) > 1e-6f) {
      return f;
    }
  }
  return UINT64_MAX;
}

static void
test_block_end(void)
{
  /* Commits: time n (jalv), n - 1 (Ardour), n + 5000 (a broken host). */
  static const int64_t late[3] = {0, -1, 5000};
  static const char*   names[3] = {"n_frames", "n_frames - 1", "n_frames + 5000"};
  uint64_t             onset[3];
  int64_t              swap_time = -1;
  for (int k = 0; k < 3; ++k) {
    Mini* const    m = mini_new();
    const uint32_t n = 200;
    mini_text(m, 0, "/patch/clear");
    mini_text(m, 0, "/patch/create quiet sine");
    mini_text(m, 0, "/patch/set quiet gain 0");
    mini_text(m, 0, "/patch/commit 1");
    mini_run(m, n);
    for (int b = 0; b < 9; ++b) {
      mini_run(m, n);
    }
    CHECK(mini_first_sound(m, 0) == UINT64_MAX);
    const int64_t t = (int64_t)n + late[k];
    mini_text(m, t, "/patch/create loud sine");
    mini_text(m, t, "/patch/set loud gain 0.5");
    mini_text(m, t, "/patch/commit 2");
    const uint64_t block = m->n_rec;
    const MiniSwap sw    = mini_run(m, n);
    const MiniSwap next  = mini_run(m, n);
    for (int b = 0; b < 60; ++b) {
      mini_run(m, n);
    }
    const uint64_t want = block + (uint64_t)(late[k] < 0 ? t : (int64_t)n);
    onset[k]            = mini_first_sound(m, 0);
    EXPECT(sw.seq == 2 || next.seq == 2, "%s: commit 2 never swapped", names[k]);
    EXPECT(onset[k] == want, "commit at time %s: sound from frame %llu, want %llu",
           names[k], (unsigned long long)onset[k], (unsigned long long)want);
    /* A swap after the block's last frame plays from the next block's
       frame 0, and is notified there: hp:frame stays inside its block. */
    const MiniSwap* at = late[k] < 0 ? &sw : &next;
    EXPECT(at->seq == 2 && at->frame == (late[k] < 0 ? t : 0),
           "commit at time %s: Swapped with hp:frame %lld (seq %d)", names[k],
           (long long)at->frame, at->seq);
    if (!k) {
      swap_time = at->time;
    }
    const double f = hp_sig_freq(m->rec + block + n, (size_t)(m->n_rec - block - n), RATE);
    EXPECT(fabs(f - 440.0) < 0.05, "loud at %.3f Hz", f);
    mini_free(m);
  }

  /* A note-on at time n_frames plays from the next block's first frame. */
  Mini* const    m = mini_new();
  const uint32_t n = 200;
  mini_text(m, 0, "/patch/clear");
  mini_text(m, 0, "/patch/create kb midi");
  mini_text(m, 0, "/patch/create osc saw");
  mini_text(m, 0, "/patch/create env adsr");
  mini_text(m, 0, "/patch/set env attack 0");
  mini_text(m, 0, "/patch/connect kb:freq osc:freq");
  mini_text(m, 0, "/patch/connect kb:gate env:gate");
  mini_text(m, 0, "/patch/connect osc env");
  mini_text(m, 0, "/patch/commit 1");
  for (int b = 0; b < 10; ++b) {
    mini_run(m, n);
  }
  CHECK(mini_first_sound(m, 0) == UINT64_MAX);
  const uint64_t block = m->n_rec;
  mini_note(m, n, 69);
  for (int b = 0; b < 60; ++b) {
    mini_run(m, n);
  }
  const uint64_t note_onset = mini_first_sound(m, 0);
  EXPECT(note_onset == block + n, "note at time n_frames: sound from %llu, want %llu",
         (unsigned long long)note_onset, (unsigned long long)(block + n));
  mini_free(m);
  printf("# own lilv host, sync worker, 200-frame blocks: a commit stamped "
         "n_frames sounds from the next block's frame 0 (%+lld), n_frames - 1 "
         "from the block's last frame (%+lld), n_frames + 5000 clamped "
         "(%+lld); a note stamped n_frames from %+lld; the swap of a commit at "
         "n_frames is notified in the next block, hp:frame 0, event time %lld\n",
         (long long)onset[0] - 2200, (long long)onset[1] - 2200,
         (long long)onset[2] - 2200, (long long)note_onset - 2200, (long long)swap_time);
}

int
main(void)
{
  const clock_t t0 = clock();
  test_messages(HP_WORKER_THREADED);
  test_messages(HP_WORKER_SYNC);
  test_bad_messages(HP_WORKER_THREADED);
  test_bad_messages(HP_WORKER_SYNC);
  test_notify_full(HP_WORKER_THREADED);
  test_notify_full(HP_WORKER_SYNC);
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
  test_midi_order();
  test_block_end();
  printf("# protocol tests: %.1f s of CPU\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
  if (failures) {
    fprintf(stderr, "%d protocol checks failed\n", failures);
    return 1;
  }
  return 0;
}
