/*
  Tests of the test host's messages, against Debian's LV2 example plugins
  (package lv2-examples): the protocol helpers encode the patch protocol
  exactly, the table of operations round-trips through text and atoms, and
  the notify parser reads every hotpatch reply back.  The host's running,
  worker, log, state and output are tested in test_host.c.
*/

#include "atoms.h"
#include "check.h"
#include "examples.h"
#include "host.h"
#include "ops.h"

#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/midi/midi.h>
#include <lv2/parameters/parameters.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The protocol helpers encode the protocol (README, "The patch protocol")
 * exactly */

static const LV2_Atom_Event*
nth_event(const LV2_Atom_Sequence* seq, size_t n)
{
  size_t i = 0u;
  LV2_ATOM_SEQUENCE_FOREACH(seq, ev)
  {
    if (i++ == n) {
      return ev;
    }
  }
  return NULL;
}

/** Up to `max` items of a tuple; returns how many there are. */
static size_t
tuple_items(const LV2_Atom* tuple, const LV2_Atom** items, size_t max)
{
  const uint8_t* const body = (const uint8_t*)(tuple + 1);
  size_t               n    = 0u;
  for (uint32_t off = 0u; off + sizeof(LV2_Atom) <= tuple->size;) {
    const LV2_Atom* const item = (const LV2_Atom*)(body + off);
    if (n < max) {
      items[n] = item;
    }
    ++n;
    off += (uint32_t)lv2_atom_pad_size((uint32_t)sizeof(LV2_Atom) + item->size);
  }
  return n;
}

static const char*
str_of(const LV2_Atom* a, const HpURIs* u)
{
  return (a && a->type == u->atom_String) ? (const char*)(a + 1)
                                          : "(not a String)";
}

static void
test_protocol_encoding(void)
{
  HpHost* const host =
    new_host(FIFTHS_URI, EG_DIR "eg-fifths.lv2", (HpHostConfig){0});
  const HpURIs* const u = hp_host_uris(host);

  CHECK_MSG(!hp_host_send_text(host, 3u, 5, "/patch/create osc1 simple_sine"),
            "%s",
            hp_host_last_error());
  CHECK_MSG(!hp_host_send_text(host, 3u, -1, "/patch/set osc1 freq 440"),
            "%s",
            hp_host_last_error());
  CHECK_MSG(!hp_host_send_text(host, 4u, 6, "  /patch/connect osc1 env1:in "),
            "%s",
            hp_host_last_error());
  CHECK_MSG(!hp_host_send_text(host, 4u, 7, "/patch/gate env1 1"),
            "%s",
            hp_host_last_error());
  CHECK_MSG(hp_host_send_text(host, 4u, 8, "# a comment") == 1, "comment sent");
  CHECK_MSG(hp_host_send_text(host, 4u, 8, "/patch/gate env1 x") == -1,
            "bad number accepted");
  CHECK_MSG(hp_host_send_text(host, 4u, 8, "/patch/create osc1") == -1,
            "missing argument accepted");
  CHECK_MSG(hp_host_send_text(host, 4u, 8, "/patch/explode") == -1,
            "unknown command accepted");

  const HpPrimeOp prime[2]  = {{"mod", "osc1", "freq", 440.0f},
                               {"gate", "env1", NULL, 1.0f}};
  HpHostCommit    commit    = {0};
  commit.set_warmup         = true;
  commit.warmup             = 4;
  commit.set_crossfade      = true;
  commit.crossfade          = 12.5f;
  commit.set_require_signal = true;
  commit.require_signal     = true;
  commit.prime              = prime;
  commit.n_prime            = 2u;
  CHECK_MSG(
    !hp_host_send_commit(host, 5u, 9, &commit), "%s", hp_host_last_error());
  CHECK_MSG(!hp_host_send_text(host, 5u, 10, "/patch/commit warmup=2"),
            "%s",
            hp_host_last_error());
  CHECK_MSG(!hp_host_send_patch_get(host, 6u, 11), "%s", hp_host_last_error());
  CHECK_MSG(
    !hp_host_send_patch_set_path(host, 6u, 12, HP__patchFile, "/tmp/p.ttl"),
    "%s",
    hp_host_last_error());
  const LV2_Atom_Float gain = {{sizeof(float), u->atom_Float}, -3.0f};
  CHECK_MSG(
    !hp_host_send_patch_set(host, 6u, 13, LV2_PARAMETERS__gain, &gain.atom),
    "%s",
    hp_host_last_error());
  CHECK_MSG(!hp_host_run(host, 64u), "%s", hp_host_last_error());

  const LV2_Atom_Sequence* const seq    = hp_host_control_sequence(host);
  const LV2_Atom*                module = NULL;
  const LV2_Atom*                type   = NULL;
  const LV2_Atom*                number = NULL;
  const LV2_Atom*                value  = NULL;
  const LV2_Atom*                param  = NULL;

  // Create: blank object, Strings, Int sequence number, at its frame
  const LV2_Atom_Event* ev = nth_event(seq, 0u);
  CHECK_MSG(ev && ev->time.frames == 3 && ev->body.type == u->atom_Object,
            "create event type %u at %lld",
            ev ? ev->body.type : 0u,
            ev ? (long long)ev->time.frames : -1LL);
  const LV2_Atom_Object* obj = (const LV2_Atom_Object*)&ev->body;
  CHECK_MSG(obj->body.id == 0u && obj->body.otype == u->hp_Create,
            "otype %u",
            obj->body.otype);
  lv2_atom_object_get(obj,
                      u->hp_module,
                      &module,
                      u->hp_type,
                      &type,
                      u->patch_sequenceNumber,
                      &number,
                      0);
  CHECK_MSG(!strcmp(str_of(module, u), "osc1") &&
              !strcmp(str_of(type, u), "simple_sine"),
            "module %s type %s",
            str_of(module, u),
            str_of(type, u));
  CHECK_MSG(number && number->type == u->atom_Int &&
              ((const LV2_Atom_Int*)number)->body == 5,
            "sequence number type %u",
            number ? number->type : 0u);

  // Set without a sequence number: Float value
  ev     = nth_event(seq, 1u);
  obj    = (const LV2_Atom_Object*)&ev->body;
  module = param = value = number = NULL; // object_get fills only NULLs
  lv2_atom_object_get(obj,
                      u->hp_module,
                      &module,
                      u->hp_param,
                      &param,
                      u->hp_value,
                      &value,
                      u->patch_sequenceNumber,
                      &number,
                      0);
  CHECK_MSG(obj->body.otype == u->hp_Set && !number && value &&
              value->type == u->atom_Float &&
              ((const LV2_Atom_Float*)value)->body == 440.0f &&
              !strcmp(str_of(param, u), "freq"),
            "set: otype %u, value type %u",
            obj->body.otype,
            value ? value->type : 0u);

  // Connect keeps port names inside the strings
  ev                     = nth_event(seq, 2u);
  obj                    = (const LV2_Atom_Object*)&ev->body;
  const LV2_Atom* source = NULL;
  const LV2_Atom* dest   = NULL;
  lv2_atom_object_get(obj, u->hp_source, &source, u->hp_dest, &dest, 0);
  CHECK_MSG(obj->body.otype == u->hp_Connect && ev->time.frames == 4 &&
              !strcmp(str_of(source, u), "osc1") &&
              !strcmp(str_of(dest, u), "env1:in"),
            "connect %s -> %s",
            str_of(source, u),
            str_of(dest, u));

  // Gate: Float value
  ev    = nth_event(seq, 3u);
  obj   = (const LV2_Atom_Object*)&ev->body;
  value = NULL;
  lv2_atom_object_get(obj, u->hp_value, &value, 0);
  CHECK_MSG(obj->body.otype == u->hp_Gate && value &&
              value->type == u->atom_Float &&
              ((const LV2_Atom_Float*)value)->body == 1.0f,
            "gate value type %u",
            value ? value->type : 0u);

  // Commit: Int warmup, Float crossfade, Bool requireSignal, prime tuples
  ev                     = nth_event(seq, 4u);
  obj                    = (const LV2_Atom_Object*)&ev->body;
  const LV2_Atom* warmup = NULL;
  const LV2_Atom* xfade  = NULL;
  const LV2_Atom* signal = NULL;
  const LV2_Atom* primes = NULL;
  lv2_atom_object_get(obj,
                      u->hp_warmup,
                      &warmup,
                      u->hp_crossfade,
                      &xfade,
                      u->hp_requireSignal,
                      &signal,
                      u->hp_prime,
                      &primes,
                      0);
  CHECK_MSG(
    obj->body.otype == u->hp_Commit && warmup && warmup->type == u->atom_Int &&
      ((const LV2_Atom_Int*)warmup)->body == 4 && xfade &&
      xfade->type == u->atom_Float &&
      ((const LV2_Atom_Float*)xfade)->body == 12.5f && signal &&
      signal->type == u->atom_Bool && ((const LV2_Atom_Bool*)signal)->body == 1,
    "commit options");
  CHECK_MSG(primes && primes->type == u->atom_Tuple,
            "prime type %u",
            primes ? primes->type : 0u);
  const LV2_Atom* entries[4] = {NULL, NULL, NULL, NULL};
  const size_t    n_entries  = tuple_items(primes, entries, 4u);
  CHECK_MSG(n_entries == 2u, "%zu prime entries", n_entries);
  for (size_t k = 0u; k < n_entries; ++k) {
    const LV2_Atom* const entry = entries[k];
    CHECK_MSG(entry->type == u->atom_Tuple, "prime entry type %u", entry->type);
    const LV2_Atom* items[4] = {NULL, NULL, NULL, NULL};
    const size_t    n_items  = tuple_items(entry, items, 4u);
    CHECK_MSG(n_items == 4u, "%zu items in prime entry", n_items);
    const HpPrimeOp* const want = &prime[k];
    CHECK_MSG(!strcmp(str_of(items[0], u), want->op) &&
                !strcmp(str_of(items[1], u), want->module),
              "prime op %s module %s",
              str_of(items[0], u),
              str_of(items[1], u));
    if (want->param) {
      CHECK_MSG(!strcmp(str_of(items[2], u), want->param),
                "prime param %s",
                str_of(items[2], u));
    } else {
      CHECK_MSG(items[2]->type == 0u && items[2]->size == 0u,
                "no-param is type %u size %u, want the empty atom",
                items[2]->type,
                items[2]->size);
    }
    CHECK_MSG(items[3]->type == u->atom_Float &&
                ((const LV2_Atom_Float*)items[3])->body == want->value,
              "prime value type %u",
              items[3]->type);
  }

  // Text commit with an option; a bare one carries no optional keys
  ev     = nth_event(seq, 5u);
  obj    = (const LV2_Atom_Object*)&ev->body;
  warmup = xfade = primes = NULL;
  lv2_atom_object_get(obj,
                      u->hp_warmup,
                      &warmup,
                      u->hp_crossfade,
                      &xfade,
                      u->hp_prime,
                      &primes,
                      0);
  CHECK_MSG(obj->body.otype == u->hp_Commit && warmup &&
              ((const LV2_Atom_Int*)warmup)->body == 2 && !xfade && !primes,
            "text commit");

  // patch:Get with no property; patch:Set of hp:patchFile as a Path
  ev                       = nth_event(seq, 6u);
  obj                      = (const LV2_Atom_Object*)&ev->body;
  const LV2_Atom* property = NULL;
  lv2_atom_object_get(obj, u->patch_property, &property, 0);
  CHECK_MSG(obj->body.otype == u->patch_Get && !property &&
              ev->time.frames == 6,
            "patch:Get");
  ev       = nth_event(seq, 7u);
  obj      = (const LV2_Atom_Object*)&ev->body;
  property = value = NULL;
  lv2_atom_object_get(
    obj, u->patch_property, &property, u->patch_value, &value, 0);
  CHECK_MSG(obj->body.otype == u->patch_Set && property &&
              property->type == u->atom_URID &&
              ((const LV2_Atom_URID*)property)->body == u->hp_patchFile &&
              value && value->type == u->atom_Path &&
              !strcmp((const char*)(value + 1), "/tmp/p.ttl"),
            "patch:Set hp:patchFile");
  ev       = nth_event(seq, 8u);
  obj      = (const LV2_Atom_Object*)&ev->body;
  property = value = NULL;
  lv2_atom_object_get(
    obj, u->patch_property, &property, u->patch_value, &value, 0);
  CHECK_MSG(obj->body.otype == u->patch_Set && property && value &&
              ((const LV2_Atom_URID*)property)->body ==
                hp_host_map(host, LV2_PARAMETERS__gain) &&
              value->type == u->atom_Float &&
              ((const LV2_Atom_Float*)value)->body == -3.0f,
            "patch:Set param:gain");
  CHECK_MSG(!nth_event(seq, 9u), "more events than sent");

  // A hand-made atom through the raw forge
  LV2_Atom_Forge* const forge = hp_host_forge(host);
  LV2_Atom_Forge_Frame  frame;
  lv2_atom_forge_object(forge, &frame, 0u, u->hp_Create);
  lv2_atom_forge_key(forge, u->hp_module);
  lv2_atom_forge_int(forge, 3); // wrong type on purpose
  lv2_atom_forge_pop(forge, &frame);
  CHECK_MSG(
    !hp_host_send_atom(host, hp_host_frames(host), hp_host_forge_atom(host)),
    "%s",
    hp_host_last_error());
  CHECK_MSG(!hp_host_run(host, 1u), "%s", hp_host_last_error());
  ev = nth_event(hp_host_control_sequence(host), 0u);
  CHECK_MSG(ev && ev->time.frames == 0 && ev->body.type == u->atom_Object &&
              ev->body.size == 32u,
            "raw atom size %u",
            ev ? ev->body.size : 0u);
  printf("# protocol encoding matches the protocol\n");
  hp_host_free(host);
}

/* Every face of the table of operations agrees: each text form the table
   has reads, prints back as written, and comes back the same through the
   atom encoder and decoder; so do the patch:Set messages and prime tuples,
   which have no text form. */
static void
test_op_roundtrip(void)
{
  HpHost* const host =
    new_host(FIFTHS_URI, EG_DIR "eg-fifths.lv2", (HpHostConfig){0});
  const HpURIs* const      u       = hp_host_uris(host);
  static const char* const lines[] = {
    "/patch/create osc1 sine\n",
    "/patch/delete osc1\n",
    "/patch/connect osc1:out env1:in\n",
    "/patch/disconnect osc1 out:left\n",
    "/patch/set filt1 mode highpass\n",
    "/patch/set osc1 freq 440.5\n",
    "/patch/gate env1 1\n",
    "/patch/commit warmup=4 crossfade=12.5 require_signal\n",
    "/patch/commit\n",
    "/patch/commit tail\n",
    "/patch/commit quant=bar\n",
    "/patch/commit crossfade=0 quant=2.5\n",
    "/patch/revert 1\n",
    "/patch/revert 3 tail quant=beat\n",
    "/patch/history\n",
    "/patch/voices 8\n",
    "/patch/abort\n",
    "/patch/clear\n",
    "/patch/macro 3 filt1:cutoff 100 8000 exp\n",
    "/patch/macro 1 osc1:gain 0 1\n",
    "/patch/get\n",
  };
  bool covered[HP_N_OP_TYPES] = {false};
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); ++i) {
    HpOp    op;
    HpError err = {HP_SUCCESS, ""};
    CHECK_MSG(
      !hp_op_parse_text(lines[i], &op, &err), "%s: %s", lines[i], err.message);
    covered[op.type] = true;
    char text[256];
    hp_op_write_text(&op, text, sizeof(text));
    CHECK_MSG(!strcmp(text, lines[i]), "printed '%s' for '%s'", text, lines[i]);

    op.seq = (int32_t)i;
    CHECK_MSG(
      hp_atom_encode_op(hp_host_forge(host), u, &op, NULL, 0u), "%s", lines[i]);
    HpOp     back[HP_MAX_MESSAGE_OPS];
    uint32_t n   = 0;
    int32_t  seq = HP_NO_SEQ;
    CHECK_MSG(!hp_atom_decode(u,
                              (const LV2_Atom_Object*)hp_host_forge_atom(host),
                              back,
                              &n,
                              &seq,
                              &err),
              "%s: %s",
              lines[i],
              err.message);
    hp_op_write_text(&back[0], text, sizeof(text));
    CHECK_MSG(n == 1u && seq == (int32_t)i && back[0].seq == (int32_t)i &&
                !strcmp(text, lines[i]),
              "through atoms '%s' came back as '%s'",
              lines[i],
              text);
  }
  for (int t = 0; t < (int)HP_N_OP_TYPES; ++t) {
    const HpOpDesc* const d = hp_op_desc((HpOpType)t);
    CHECK_MSG(!d->name || covered[t] || t == HP_OP_PRIME_SET,
              "no round trip for /patch/%s",
              d->name);
  }

  /* Prime tuples ride on the commit, a choice by name too. */
  HpOp    primes[2];
  HpOp    commit;
  HpError err = {HP_SUCCESS, ""};
  CHECK_MSG(
    !hp_op_parse_text("/patch/prime env1 gate 1", &primes[0], &err) &&
      !hp_op_parse_text("/patch/prime filt1 mode lowpass", &primes[1], &err) &&
      !hp_op_parse_text("/patch/commit warmup=2", &commit, &err),
    "%s",
    err.message);
  CHECK_MSG(hp_atom_encode_op(hp_host_forge(host), u, &commit, primes, 2u),
            "commit");
  HpOp     back[HP_MAX_MESSAGE_OPS];
  uint32_t n   = 0;
  int32_t  seq = 0;
  CHECK_MSG(!hp_atom_decode(u,
                            (const LV2_Atom_Object*)hp_host_forge_atom(host),
                            back,
                            &n,
                            &seq,
                            &err),
            "%s",
            err.message);
  CHECK_MSG(
    n == 3u && back[0].type == HP_OP_PRIME_GATE &&
      !strcmp(back[0].set.module, "env1") &&
      !strcmp(back[0].set.param, "gate") && back[0].set.value == 1.0f &&
      back[1].type == HP_OP_PRIME_SET && !strcmp(back[1].set.param, "mode") &&
      !strcmp(back[1].set.choice, "lowpass") && back[2].type == HP_OP_COMMIT &&
      back[2].commit.warmup == 2 && seq == HP_NO_SEQ,
    "prime tuples came back as %u ops",
    n);

  /* patch:Set of hp:patchFile and hp:liveReload. */
  HpOp file;
  hp_op_init(&file, HP_OP_LOAD_FILE);
  strcpy(file.file.text, "/tmp/a patch.ttl");
  CHECK_MSG(hp_atom_encode_op(hp_host_forge(host), u, &file, NULL, 0u) &&
              !hp_atom_decode(u,
                              (const LV2_Atom_Object*)hp_host_forge_atom(host),
                              back,
                              &n,
                              &seq,
                              &err) &&
              n == 1u && back[0].type == HP_OP_LOAD_FILE &&
              !strcmp(back[0].file.text, "/tmp/a patch.ttl"),
            "patch file: %s",
            err.message);
  HpOp reload;
  hp_op_init(&reload, HP_OP_LIVE_RELOAD);
  reload.reload = true;
  CHECK_MSG(hp_atom_encode_op(hp_host_forge(host), u, &reload, NULL, 0u) &&
              !hp_atom_decode(u,
                              (const LV2_Atom_Object*)hp_host_forge_atom(host),
                              back,
                              &n,
                              &seq,
                              &err) &&
              n == 1u && back[0].type == HP_OP_LIVE_RELOAD && back[0].reload,
            "live reload: %s",
            err.message);
  hp_host_free(host);
  printf("# text, atoms and back agree for %zu text forms, prime tuples and "
         "both patch:Set properties\n",
         sizeof(lines) / sizeof(lines[0]));
}

/* The notify parser, on a hand-made sequence of every hotpatch reply */

static void
test_notify_parser(void)
{
  HpHost* const host =
    new_host(AMP_URI, EG_DIR "eg-amp.lv2", (HpHostConfig){0});
  const HpURIs* const u = hp_host_uris(host);
  CHECK_MSG(!hp_host_run(host, 100u), "%s", hp_host_last_error());

  LV2_Atom_Forge* const f = hp_host_forge(host);
  LV2_Atom_Forge_Frame  seq_frame;
  LV2_Atom_Forge_Frame  obj;
  lv2_atom_forge_sequence_head(f, &seq_frame, 0u);

  lv2_atom_forge_frame_time(f, 0);
  lv2_atom_forge_object(f, &obj, 0u, u->patch_Ack);
  lv2_atom_forge_key(f, u->patch_sequenceNumber);
  lv2_atom_forge_int(f, 3);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 1);
  lv2_atom_forge_object(f, &obj, 0u, u->patch_Error);
  lv2_atom_forge_key(f, u->patch_sequenceNumber);
  lv2_atom_forge_int(f, 4);
  lv2_atom_forge_key(f, u->hp_message);
  lv2_atom_forge_string(f, "no module \"osc9\"", 16u);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 2); // any numeric atom type is accepted
  lv2_atom_forge_object(f, &obj, 0u, u->hp_Primed);
  lv2_atom_forge_key(f, u->hp_generation);
  lv2_atom_forge_long(f, 2);
  lv2_atom_forge_key(f, u->hp_primeTime);
  lv2_atom_forge_float(f, 0.25f);
  lv2_atom_forge_key(f, u->hp_warmupRms);
  lv2_atom_forge_double(f, 0.125);
  lv2_atom_forge_key(f, u->hp_moduleCount);
  lv2_atom_forge_int(f, 3);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 5);
  lv2_atom_forge_object(f, &obj, 0u, u->hp_Swapped);
  lv2_atom_forge_key(f, u->patch_sequenceNumber);
  lv2_atom_forge_int(f, 9);
  lv2_atom_forge_key(f, u->hp_generation);
  lv2_atom_forge_int(f, 2);
  lv2_atom_forge_key(f, u->hp_frame);
  lv2_atom_forge_int(f, 17);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 6);
  lv2_atom_forge_object(f, &obj, 0u, u->state_StateChanged);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 7);
  lv2_atom_forge_object(f, &obj, 0u, u->patch_Set);
  lv2_atom_forge_key(f, u->patch_property);
  lv2_atom_forge_urid(f, u->hp_patchFile);
  lv2_atom_forge_key(f, u->patch_value);
  lv2_atom_forge_path(f, "/x/y.ttl", 8u);
  lv2_atom_forge_pop(f, &obj);

  lv2_atom_forge_frame_time(f, 8);
  lv2_atom_forge_object(f, &obj, 0u, u->patch_Set);
  lv2_atom_forge_key(f, u->patch_property);
  lv2_atom_forge_urid(f, hp_host_map(host, LV2_PARAMETERS__gain));
  lv2_atom_forge_key(f, u->patch_value);
  lv2_atom_forge_float(f, 0.5f);
  lv2_atom_forge_pop(f, &obj);

  const uint8_t midi[3] = {LV2_MIDI_MSG_NOTE_ON, 60u, 100u};
  lv2_atom_forge_frame_time(f, 9);
  lv2_atom_forge_atom(f, 3u, u->midi_MidiEvent);
  lv2_atom_forge_write(f, midi, 3u);

  lv2_atom_forge_frame_time(f, 10);
  lv2_atom_forge_int(f, 77);
  lv2_atom_forge_pop(f, &seq_frame);

  const LV2_Atom* const atom = hp_host_forge_atom(host);
  CHECK_MSG(atom && atom->type == u->atom_Sequence, "forged no sequence");
  const uint32_t capacity = (uint32_t)sizeof(LV2_Atom) + atom->size;
  const size_t   n =
    hp_host_parse_notify(host, (const LV2_Atom_Sequence*)atom, capacity);
  CHECK_MSG(n == 9u, "%zu events parsed, want 9", n);

  const HpHostEvent* e = hp_host_find_reply(host, 3);
  CHECK_MSG(e && e->kind == HP_EV_ACK && e->frame_abs == 100u && !e->message,
            "ack");
  e = hp_host_find_reply(host, 4);
  CHECK_MSG(e && e->kind == HP_EV_ERROR && e->frame_abs == 101u && e->message &&
              !strcmp(e->message, "no module \"osc9\""),
            "error message %s",
            e && e->message ? e->message : "(none)");
  e = hp_host_find_event(host, HP_EV_PRIMED, HP_SEQ_ANY);
  CHECK_MSG(e && e->seq == -1 && e->generation == 2 && e->prime_ms == 0.25 &&
              e->warmup_rms == 0.125 && e->module_count == 3,
            "primed");
  e = hp_host_find_event(host, HP_EV_SWAPPED, 9);
  CHECK_MSG(e && e->generation == 2 && e->frame == 17 && e->time == 5u &&
              e->frame_abs == 117u,
            "swapped at %llu",
            e ? (unsigned long long)e->frame_abs : 0ull);
  CHECK_MSG(hp_host_count_events(host, HP_EV_STATE_CHANGED) == 1u,
            "state changed");
  e = hp_host_find_event(host, HP_EV_PATCH_SET, -1);
  CHECK_MSG(e && e->property && !strcmp(e->property, HP__patchFile) &&
              e->value_string && !strcmp(e->value_string, "/x/y.ttl") &&
              isnan(e->value_number),
            "patch:Set path");
  e = hp_host_event(host, 6u);
  CHECK_MSG(e->kind == HP_EV_PATCH_SET && e->value_number == 0.5 &&
              !e->value_string,
            "patch:Set float");
  e = hp_host_event(host, 7u);
  CHECK_MSG(e->kind == HP_EV_MIDI && e->midi_size == 3u && e->midi[1] == 60u,
            "midi");
  e = hp_host_event(host, 8u);
  CHECK_MSG(e->kind == HP_EV_OTHER && e->type == u->atom_Int && e->atom &&
              ((const LV2_Atom_Int*)e->atom)->body == 77,
            "other");

  // A sequence claiming more than its buffer is read only within it
  hp_host_clear_events(host);
  uint8_t* const copy = (uint8_t*)calloc(1u, capacity);
  CHECK_MSG(copy, "calloc");
  memcpy(copy, atom, capacity);
  ((LV2_Atom*)copy)->size = 1000000u;
  CHECK_MSG(
    hp_host_parse_notify(host, (const LV2_Atom_Sequence*)copy, capacity) == 9u,
    "oversized sequence");
  CHECK_MSG(hp_host_parse_notify(
              host, (const LV2_Atom_Sequence*)copy, capacity - 20u) < 9u,
            "truncated sequence");
  free(copy);
  printf("# notify parser: every hotpatch reply read back\n");
  hp_host_free(host);
}

int
main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);

  struct stat st;
  CHECK_MSG(!stat(EG_DIR "eg-fifths.lv2/manifest.ttl", &st),
            "Debian's LV2 examples are missing: apt-get install lv2-examples");

  test_protocol_encoding();
  test_op_roundtrip();
  test_notify_parser();

  printf("test_host_protocol: all passed\n");
  return 0;
}
