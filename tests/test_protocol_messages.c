/*
  The patch protocol (README, "The patch protocol") end to end, part 1: every
  message, decoded from atoms and answered, and a table of bad messages
  each answered with its exact error while the playing patch plays on;
  through the lilv test host with a threaded worker (like jalv) and a
  synchronous one (like Ardour's export).  The other parts:
  test_protocol_commits.c, test_protocol_notify.c.

  Harness failures (a host that does not load, a message that cannot be
  sent) stop at once with CHECK.  Findings about the plugin are counted
  with EXPECT, so one run reports every broken promise; the program exits
  1 if any was found.
*/

#include "host.h"
#include "protocol.h"
#include "signal.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/midi/midi.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int         seq;
  const char* line;
} Numbered;

static void
test_messages(const HpWorkerMode mode)
{
  HpHost* const       host = fx_host(mode, 1);
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
    fx_send_at(host, at + i, msgs[i].seq, msgs[i].line);
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
           "%s worker: \"%s\" (seq %d) answered %s%s%s",
           fx_mode_name(mode),
           msgs[i].line,
           msgs[i].seq,
           r ? hp_host_event_kind_name(r->kind) : "nothing",
           r && r->message ? ": " : "",
           r && r->message ? r->message : "");
    acked += r && r->kind == HP_EV_ACK;
  }
  static const int numeric_seqs[2] = {19, 26};
  for (int k = 0; k < 2; ++k) {
    const int          seq = numeric_seqs[k];
    const HpHostEvent* r   = hp_host_find_reply(host, seq);
    EXPECT(r && r->kind == HP_EV_ACK,
           "%s worker: numeric atom (seq %d): %s: %s",
           fx_mode_name(mode),
           seq,
           r ? hp_host_event_kind_name(r->kind) : "no reply",
           r ? text_or(r->message, "") : "");
  }
  const HpHostEvent* primed  = hp_host_find_event(host, HP_EV_PRIMED, 40);
  const HpHostEvent* swapped = hp_host_find_event(host, HP_EV_SWAPPED, 40);
  const HpHostEvent* reply   = hp_host_find_reply(host, 40);
  CHECK_MSG(primed && swapped,
            "%s worker: commit 40 primed %d, swapped %d",
            fx_mode_name(mode),
            primed != NULL,
            swapped != NULL);
  /* The protocol's promise: "the plugin answers each numbered message ... with
     patch:Ack or patch:Error carrying the same number". */
  EXPECT(reply && reply->kind == HP_EV_ACK,
         "%s worker: a numbered hp:Commit that swapped in got %s, not "
         "patch:Ack (only hp:Primed and hp:Swapped carry its number)",
         fx_mode_name(mode),
         reply ? hp_host_event_kind_name(reply->kind) : "no reply");
  EXPECT(primed->module_count == 5,
         "Primed moduleCount %lld",
         (long long)primed->module_count);
  if (mode == HP_WORKER_SYNC) {
    EXPECT(swapped->frame_abs == commit_frame,
           "swapped at %llu, committed at %llu",
           (unsigned long long)swapped->frame_abs,
           (unsigned long long)commit_frame);
  }

  /* What plays: osc1 (440 Hz, 0.4) through env1 and the lfo-swept low-pass
     on both channels; osc2 (1000 Hz, 0.1) on the left only. */
  render(host, 4800);
  const uint64_t from = hp_host_frames(host);
  render(host, 24000);
  const float* l       = left_at(host, from);
  const float* r       = right_at(host, from);
  const double l440    = hp_sig_goertzel_db(l, 24000, RATE, 440.0);
  const double r440    = hp_sig_goertzel_db(r, 24000, RATE, 440.0);
  const double l1000   = hp_sig_goertzel_db(l, 24000, RATE, 1000.0);
  const double r1000   = hp_sig_goertzel_db(r, 24000, RATE, 1000.0);
  const double want440 = 20.0 * log10(0.4);
  EXPECT(fabs(l440 - want440) < 1.0 && fabs(r440 - want440) < 1.0,
         "440 Hz at %.2f / %.2f dB, want %.2f",
         l440,
         r440,
         want440);
  EXPECT(fabs(l1000 + 20.0) < 1.0, "left 1000 Hz at %.2f dB, want -20", l1000);
  EXPECT(r1000 < -60.0,
         "right 1000 Hz at %.2f dB: osc2 leaks into out:right",
         r1000);
  EXPECT(hp_host_control_out(host, "modules") == 5.0f,
         "modules %g",
         (double)hp_host_control_out(host, "modules"));

  /* Numbered hp:Abort is acknowledged too. */
  fx_send(host, 41, "/patch/create x sine");
  fx_send(host, 42, "/patch/abort");
  settle(host);
  const HpHostEvent* r41 = hp_host_find_reply(host, 41);
  const HpHostEvent* r42 = hp_host_find_reply(host, 42);
  EXPECT(r41 && r41->kind == HP_EV_ACK && r42 && r42->kind == HP_EV_ACK,
         "create %s, abort %s",
         r41 ? hp_host_event_kind_name(r41->kind) : "-",
         r42 ? hp_host_event_kind_name(r42->kind) : "-");

  /* The same messages without patch:sequenceNumber: no Ack, no Error. */
  hp_host_clear_events(host);
  static const char* const plain[] = {
    "/patch/create x sine",
    "/patch/set x gain 0.1",
    "/patch/connect x out:right",
    "/patch/disconnect x out:right",
    "/patch/gate env1 1",
    "/patch/delete x",
    "/patch/clear",
    "/patch/abort",
    "/patch/create y const",
    "/patch/set y value 3",
  };
  at = hp_host_frames(host) + 3;
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); ++i) {
    fx_send_at(host, at + i, -1, plain[i]);
  }
  commit_at(host, at + 20, -1, 0.0f, NULL, 0);
  settle(host);
  const size_t       n_acks   = hp_host_count_events(host, HP_EV_ACK);
  const size_t       n_errors = hp_host_count_events(host, HP_EV_ERROR);
  const HpHostEvent* sw       = hp_host_find_event(host, HP_EV_SWAPPED, -1);
  EXPECT(n_acks == 0 && n_errors == 0,
         "un-numbered messages: %zu Acks, %zu Errors",
         n_acks,
         n_errors);
  EXPECT(sw && hp_host_control_out(host, "modules") == 6.0f,
         "un-numbered commit: swapped %d, %g modules",
         sw != NULL,
         (double)hp_host_control_out(host, "modules"));
  printf("# %s worker: %zu of %zu numbered edits (8 kinds) acknowledged with "
         "their number, the numbered commit %s; 440 Hz at %.2f dB both sides, "
         "osc2 on out:left at %.2f dB (right %.1f dB); un-numbered: %zu Acks, "
         "%zu Errors\n",
         fx_mode_name(mode),
         acked,
         n_msgs,
         reply && reply->kind == HP_EV_ACK ? "too" : "got no patch:Ack",
         l440,
         l1000,
         r1000,
         n_acks,
         n_errors);
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

#define TEXT_BUILDER(fn, line)                                         \
  static void fn(HpHost* const host, const uint64_t at, const int seq) \
  {                                                                    \
    fx_send_at(host, at, seq, line);                                   \
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
  name[96]               = '\0'; /* 96 bytes: one more than fits */
  const HpURIs* const  u = hp_host_uris(host);
  LV2_Atom_Forge_Frame obj;
  LV2_Atom_Forge*      f = begin_object(host, &obj, u->hp_Create, seq);
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
send_prime(HpHost* const          host,
           const uint64_t         at,
           const int              seq,
           const HpPrimeOp* const ops,
           const uint32_t         n,
           const bool             require)
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
  {"unknown module type",
   b_unknown_type,
   MATCH_PREFIX,
   "unknown module type 'sinee'; known types: sine, saw, ",
   false},
  {"duplicate id",
   b_duplicate,
   MATCH_EXACT,
   "a module named 'osc1' already exists; delete it first or choose another id",
   false},
  {"bad id",
   b_bad_id,
   MATCH_EXACT,
   "invalid module id '1osc': use 1 to 63 letters, digits, '_' or '-', "
   "starting with a letter or '_'",
   false},
  {"reserved id",
   b_reserved_id,
   MATCH_EXACT,
   "module id 'out' is reserved for the stereo output",
   false},
  {"unknown module in connect",
   b_connect_missing,
   MATCH_EXACT,
   "no module 'nosuch' in the patch; create it first",
   false},
  {"unknown input port",
   b_unknown_input,
   MATCH_EXACT,
   "module 'env1' (adsr) has no input or parameter 'nope'; inputs: in, gate; "
   "parameters: attack, decay, sustain, release, gate",
   false},
  {"unknown output port",
   b_unknown_output,
   MATCH_EXACT,
   "module 'osc1' (sine) has no output 'wobble'; outputs: out",
   false},
  {"malformed port spec",
   b_bad_spec,
   MATCH_EXACT,
   "':x' is not a port: write a module id, optionally followed by ':port', "
   "e.g. osc1 or filt1:cutoff",
   false},
  {"out as a source",
   b_out_source,
   MATCH_EXACT,
   "'out' is the stereo output; it cannot be a source",
   false},
  {"unknown port of out",
   b_out_port,
   MATCH_EXACT,
   "the output 'out' has no port 'middle'; use out, out:left or out:right",
   false},
  {"unknown parameter",
   b_unknown_param,
   MATCH_EXACT,
   "module 'osc1' (sine) has no parameter 'nope'; parameters: freq, gain, "
   "detune",
   false},
  {"cycle",
   b_cycle,
   MATCH_EXACT,
   "connecting 'env1' to 'osc1:freq' would create a cycle: 'env1' already "
   "depends on 'osc1' (a loop must pass through a delay's wet output)",
   false},
  {"NaN value",
   b_nan,
   MATCH_EXACT,
   "value for osc1:freq must be a finite number, not nan",
   false},
  {"out-of-range gain",
   b_out_of_range,
   MATCH_EXACT,
   "value 5 for osc1:gain is out of range 0..1",
   false},
  {"out-of-range freq",
   b_out_of_range_freq,
   MATCH_EXACT,
   "value 30000 for osc1:freq is out of range 0.01..20000 Hz",
   false},
  {"choice for a number",
   b_choice,
   MATCH_EXACT,
   "'loud' is not a value of osc1:freq; choices: none: it takes a number",
   false},
  {"gate of a sine",
   b_gate_not_adsr,
   MATCH_EXACT,
   "module 'osc1' (sine) has no gate; gate an adsr",
   false},
  {"delete a missing module",
   b_delete_missing,
   MATCH_EXACT,
   "no module 'ghost' in the patch; create it first",
   false},
  {"disconnect a missing connection",
   b_disconnect_missing,
   MATCH_EXACT,
   "'osc1' is not connected to 'out'",
   false},
  {"connect twice",
   b_already_connected,
   MATCH_EXACT,
   "'osc1' is already connected to 'env1'",
   false},
  {"commit with nothing staged",
   b_nothing_staged,
   MATCH_EXACT,
   "nothing staged to commit: create, delete, connect, disconnect or clear "
   "first, or give prime ops",
   false},
  {"unknown message type",
   b_unknown_message,
   MATCH_PREFIX,
   "unknown message type; send hp:Create, hp:Delete, hp:Connect, "
   "hp:Disconnect, hp:Set, hp:Gate, hp:Commit, hp:Abort, hp:Clear",
   false},
  {"hp:Create without hp:type",
   b_missing_type,
   MATCH_EXACT,
   "hp:Create needs hp:type (an atom:String)",
   false},
  {"hp:Connect without hp:dest",
   b_missing_dest,
   MATCH_EXACT,
   "hp:Connect needs hp:dest (an atom:String)",
   false},
  {"hp:module as an atom:Int",
   b_module_int,
   MATCH_EXACT,
   "hp:Delete: hp:module must be an atom:String",
   false},
  {"hp:value as an atom:URID",
   b_value_urid,
   MATCH_EXACT,
   "hp:Set: hp:value must be a number (atom:Float, Double, Int, Long or Bool)",
   false},
  {"string of 96 bytes",
   b_long_string,
   MATCH_EXACT,
   "hp:Create: hp:module is longer than 95 bytes",
   false},
  {"property overruns its object",
   b_overrun,
   MATCH_EXACT,
   "malformed atom:Object: a property overruns the object",
   false},
  {"object shorter than its header",
   b_truncated,
   MATCH_EXACT,
   "truncated atom:Object",
   true},
  {"prime tuple of 3",
   b_prime_3tuple,
   MATCH_EXACT,
   "hp:Commit: a prime op must be a 4-tuple (op, module, param or none, value)",
   false},
  {"hp:prime not a tuple",
   b_prime_not_tuple,
   MATCH_EXACT,
   "hp:Commit: hp:prime must be an atom:Tuple of (op, module, param, value) "
   "tuples",
   false},
  {"prime op kind",
   b_prime_kind,
   MATCH_EXACT,
   "hp:Commit: prime op 'poke' unknown; use \"mod\" or \"gate\"",
   false},
  {"65 prime ops",
   b_prime_too_many,
   MATCH_EXACT,
   "hp:Commit: more than 64 prime ops in one message; send the rest with "
   "hp:Set before committing",
   false},
  {"prime op on a missing module",
   b_prime_missing,
   MATCH_EXACT,
   "prime op 1: no module 'ghost' in the patch; create it first",
   false},
  {"prime op on a missing parameter",
   b_prime_param,
   MATCH_EXACT,
   "prime op 2: module 'osc1' (sine) has no parameter 'cutoff'; parameters: "
   "freq, gain, detune",
   false},
  {"prime op out of range",
   b_prime_range,
   MATCH_EXACT,
   "prime op 1: value 3 for osc1:gain is out of range 0..1",
   false},
  {"hp:warmup 0",
   b_warmup_zero,
   MATCH_EXACT,
   "hp:warmup 0 is out of range 1..1024 blocks",
   false},
  {"hp:warmup 2.5",
   b_warmup_fraction,
   MATCH_EXACT,
   "hp:Commit: hp:warmup must be a whole number of blocks, 1 to 1024",
   false},
  {"negative hp:crossfade",
   b_crossfade_negative,
   MATCH_EXACT,
   "hp:Commit: hp:crossfade must be 0 ms or more",
   false},
  {"hp:crossfade of 20 s",
   b_crossfade_huge,
   MATCH_EXACT,
   "hp:crossfade 20000 ms is out of range 0..10000 ms",
   false},
  {"require_signal, silent warm-up",
   b_silent,
   MATCH_EXACT,
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
  const size_t n_cases  = sizeof(bad_cases) / sizeof(bad_cases[0]);
  size_t       good     = 0;
  double       worst_df = 0.0;
  double       worst_dr = 0.0;
  for (size_t i = 0; i < n_cases; ++i) {
    const BadCase* const c      = &bad_cases[i];
    HpHost* const        host   = fx_host(mode, 100 + i);
    const Sound          before = play_base(host, 1);
    const size_t         swaps  = hp_host_count_events(host, HP_EV_SWAPPED);
    const int            seq    = 500 + (int)i;
    const uint64_t       at     = hp_host_frames(host) + 37;
    c->send(host, at, c->no_seq ? -1 : seq);
    settle(host);
    const Sound after = listen(host, 9600);

    const HpHostEvent* r = c->no_seq ? hp_host_find_event(host, HP_EV_ERROR, -1)
                                     : hp_host_find_reply(host, seq);
    /* For the report: an error that lost its number. */
    const HpHostEvent* unnumbered = hp_host_find_event(host, HP_EV_ERROR, -1);
    const bool answered = r && r->kind == HP_EV_ERROR && matches(r->message, c);
    /* The log line holds the same text (the prefix, for prefix matches). */
    const bool logged  = hp_host_log_contains(host, c->expect);
    const bool no_swap = hp_host_count_events(host, HP_EV_SWAPPED) == swaps &&
                         !hp_host_find_event(host, HP_EV_PRIMED, seq);
    const double df = fabs(after.freq - before.freq);
    const double dr = fabs(after.rms - before.rms);
    const bool   same =
      df < 0.05 && dr < 0.002 && fabs(after.rms_r - before.rms_r) < 0.002;
    EXPECT(answered,
           "%s worker, %s: got %s \"%s\" (seq %d), want patch:Error "
           "\"%s\"%s (seq %d)%s%s",
           fx_mode_name(mode),
           c->name,
           r ? hp_host_event_kind_name(r->kind) : "no reply",
           r ? text_or(r->message, "(no hp:message)") : "",
           r ? r->seq : -1,
           c->expect,
           c->match == MATCH_PREFIX ? "..." : "",
           c->no_seq ? -1 : seq,
           !r && unnumbered ? "; an Error without patch:sequenceNumber came: "
                            : "",
           !r && unnumbered ? text_or(unnumbered->message, "") : "");
    EXPECT(logged,
           "%s worker, %s: the host log lacks \"%s\"",
           fx_mode_name(mode),
           c->name,
           c->expect);
    EXPECT(no_swap,
           "%s worker, %s: a swap or prime followed the error",
           fx_mode_name(mode),
           c->name);
    EXPECT(same,
           "%s worker, %s: the playing patch changed: %.3f Hz RMS %.4f/%.4f "
           "before, %.3f Hz RMS %.4f/%.4f after",
           fx_mode_name(mode),
           c->name,
           before.freq,
           before.rms,
           before.rms_r,
           after.freq,
           after.rms,
           after.rms_r);
    good += answered && logged && no_swap && same;
    worst_df = fmax(worst_df, df);
    worst_dr = fmax(worst_dr, dr);
    hp_host_free(host);
  }
  if (good == n_cases) {
    printf("# %s worker: %zu bad messages: each answered with its error, the "
           "playing patch unchanged (largest change %.4f Hz, RMS %.5f)\n",
           fx_mode_name(mode),
           n_cases,
           worst_df,
           worst_dr);
  } else {
    printf(
      "# %s worker: %zu bad messages: only %zu answered with their exact "
      "error (also in the log), the playing patch unchanged (largest change "
      "%.4f Hz, RMS %.5f)\n",
      fx_mode_name(mode),
      n_cases,
      good,
      worst_df,
      worst_dr);
  }
}

/* A full notify: replies wait for room, whole and in order */

int
main(void)
{
  const clock_t t0 = clock();
  test_messages(HP_WORKER_THREADED);
  test_messages(HP_WORKER_SYNC);
  test_bad_messages(HP_WORKER_THREADED);
  test_bad_messages(HP_WORKER_SYNC);
  printf("# protocol messages tests: %.1f s of CPU\n",
         (double)(clock() - t0) / CLOCKS_PER_SEC);
  return expect_summary("protocol");
}
