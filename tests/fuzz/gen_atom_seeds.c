/*
  Writes the seed corpus of fuzz_atoms (tests/fuzz/corpus/atoms/): one file
  per protocol message, in fuzz_atoms' input format (4 bytes choosing the
  object type, then the object's properties), with the URIDs of the
  fuzzers' in-process map.  The seeds are committed; run this again only
  when the message set, the URI order in plugin/uris.h or the module
  types (the seeds per type, from the registry) change:

    ./waf build &&
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -Isrc -Iplugin -Itests/fuzz \
       tests/fuzz/gen_atom_seeds.c build/libhpengine.a \
       $(pkg-config --libs sord-0) -lm -o /tmp/gen_atom_seeds &&
    /tmp/gen_atom_seeds tests/fuzz/corpus/atoms

  Module names refer to fuzz_common.h's base patch.  Per registered type:
  a create, and a set of each parameter to the end of its range (its last
  choice) on the base patch's module of that type.
*/

#include "fuzz_common.h"
#include "module.h"
#include "uris.h"

#include <lv2/atom/forge.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static FzUridMap      urid_map;
static LV2_URID_Map   map = {&urid_map, fz_map_uri};
static HpURIs         u;
static LV2_URID       types[FZ_N_TYPES];
static LV2_Atom_Forge forge;
static uint8_t        buf[4096];
static const char*    out_dir;

/* Start a message of type `otype` in buf. */
static void
begin(const LV2_URID otype, LV2_Atom_Forge_Frame* const frame)
{
  memset(buf, 0, sizeof(buf));
  lv2_atom_forge_set_buffer(&forge, buf, sizeof(buf));
  lv2_atom_forge_object(&forge, frame, 0, otype);
}

/* Write the message in buf as `name`, with `flags` in the head's top
   byte (0x40: fuzz_atoms plays the properties as a MIDI flood too). */
static void
finish_flags(const char* const           name,
             LV2_Atom_Forge_Frame* const frame,
             const uint8_t               flags)
{
  lv2_atom_forge_pop(&forge, frame);
  const LV2_Atom_Object* obj   = (const LV2_Atom_Object*)buf;
  uint32_t               index = 0;
  while (index < FZ_N_TYPES && types[index] != obj->body.otype) {
    ++index;
  }
  const uint8_t head[4] = {(uint8_t)index, 0, 0, flags};
  char          path[512];
  snprintf(path, sizeof(path), "%s/%s", out_dir, name);
  FILE* file = fopen(path, "wb");
  if (!file || index == FZ_N_TYPES || fwrite(head, 1, 4, file) != 4 ||
      fwrite(obj + 1, 1, obj->atom.size - sizeof(LV2_Atom_Object_Body), file) !=
        obj->atom.size - sizeof(LV2_Atom_Object_Body) ||
      fclose(file)) {
    fz_fail("cannot write a seed");
  }
}

static void
finish(const char* const name, LV2_Atom_Forge_Frame* const frame)
{
  finish_flags(name, frame, 0);
}

/* The key of the field `name` of op `type`, from the table. */
static LV2_URID
field_key(const HpOpType type, const char* const name)
{
  const HpOpDesc* const d = hp_op_desc(type);
  for (uint32_t i = 0; i < d->n_fields; ++i) {
    if (!strcmp(d->fields[i].name, name)) {
      return u.field_key[type][i];
    }
  }
  fz_fail("no such field");
  return 0;
}

static void
key_string(const LV2_URID key, const char* const value)
{
  lv2_atom_forge_key(&forge, key);
  lv2_atom_forge_string(&forge, value, (uint32_t)strlen(value));
}

static void
key_float(const LV2_URID key, const float value)
{
  lv2_atom_forge_key(&forge, key);
  lv2_atom_forge_float(&forge, value);
}

static void
key_int(const LV2_URID key, const int32_t value)
{
  lv2_atom_forge_key(&forge, key);
  lv2_atom_forge_int(&forge, value);
}

static void
prime(const char* const op,
      const char* const module,
      const char* const param,
      const float       value)
{
  LV2_Atom_Forge_Frame t;
  lv2_atom_forge_tuple(&forge, &t);
  lv2_atom_forge_string(&forge, op, (uint32_t)strlen(op));
  lv2_atom_forge_string(&forge, module, (uint32_t)strlen(module));
  if (param) {
    lv2_atom_forge_string(&forge, param, (uint32_t)strlen(param));
  } else {
    lv2_atom_forge_atom(&forge, 0, 0); /* none */
  }
  lv2_atom_forge_float(&forge, value);
  lv2_atom_forge_pop(&forge, &t);
}

int
main(int argc, char** argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 1;
  }
  out_dir = argv[1];
  hp_map_uris(&map, &u); /* first, as in fuzz_atoms */
  fz_message_types(&u, types);
  lv2_atom_forge_init(&forge, &map);
  LV2_Atom_Forge_Frame f;

  begin(u.hp_Create, &f);
  key_int(u.patch_sequenceNumber, 1);
  key_string(u.hp_module, "osc9");
  key_string(u.hp_type, "simple_sine");
  finish("create", &f);

  begin(u.hp_Delete, &f);
  key_string(u.hp_module, "osc2");
  finish("delete", &f);

  begin(u.hp_Connect, &f);
  key_string(u.hp_source, "osc2:out");
  key_string(u.hp_dest, "filt1:in");
  finish("connect", &f);

  begin(u.hp_Disconnect, &f);
  key_string(u.hp_source, "osc1");
  key_string(u.hp_dest, "env1");
  finish("disconnect", &f);

  begin(u.hp_Set, &f);
  key_int(u.patch_sequenceNumber, 2);
  key_string(u.hp_module, "filt1");
  key_string(u.hp_param, "cutoff");
  key_float(u.hp_value, 2000.0f);
  finish("set-float", &f);

  begin(u.hp_Set, &f);
  key_string(u.hp_module, "filt1");
  key_string(u.hp_param, "mode");
  key_string(u.hp_value, "highpass");
  finish("set-enum-name", &f);

  begin(u.hp_Set, &f);
  key_string(u.hp_module, "osc2");
  key_string(u.hp_param, "frequency");
  lv2_atom_forge_key(&forge, u.hp_value);
  lv2_atom_forge_double(&forge, 330.0);
  finish("set-double", &f);

  begin(u.hp_Set, &f);
  key_string(u.hp_module, "k1");
  key_string(u.hp_param, "value");
  lv2_atom_forge_key(&forge, u.hp_value);
  lv2_atom_forge_long(&forge, -7);
  finish("set-long", &f);

  begin(u.hp_Gate, &f);
  key_string(u.hp_module, "env1");
  lv2_atom_forge_key(&forge, u.hp_value);
  lv2_atom_forge_bool(&forge, true);
  finish("gate", &f);

  begin(u.hp_Commit, &f);
  key_int(u.patch_sequenceNumber, 7);
  key_int(u.hp_warmup, 2);
  key_float(u.hp_crossfade, 0.5f);
  lv2_atom_forge_key(&forge, u.hp_requireSignal);
  lv2_atom_forge_bool(&forge, true);
  lv2_atom_forge_key(&forge, u.hp_prime);
  LV2_Atom_Forge_Frame tuple;
  lv2_atom_forge_tuple(&forge, &tuple);
  prime("mod", "osc1", "freq", 330.0f);
  prime("gate", "env1", NULL, 1.0f);
  lv2_atom_forge_pop(&forge, &tuple);
  finish("commit-prime", &f);

  begin(u.hp_Commit, &f);
  finish("commit", &f);

  begin(u.hp_Abort, &f);
  key_int(u.patch_sequenceNumber, 3);
  finish("abort", &f);

  begin(u.hp_Clear, &f);
  finish("clear", &f);

  begin(u.hp_Macro, &f);
  key_int(u.hp_macro, 3);
  key_string(u.hp_target, "filt1:q");
  key_float(u.hp_minimum, 0.5f);
  key_float(u.hp_maximum, 8.0f);
  key_string(u.hp_curve, "exp");
  finish("macro", &f);

  begin(u.patch_Get, &f);
  key_int(u.patch_sequenceNumber, 9);
  finish("get", &f);

  begin(u.patch_Set, &f);
  lv2_atom_forge_key(&forge, u.patch_property);
  lv2_atom_forge_urid(&forge, u.hp_patchFile);
  lv2_atom_forge_key(&forge, u.patch_value);
  lv2_atom_forge_path(&forge, "/patches/bank.ttl", 17);
  finish("set-patch-file", &f);

  begin(u.patch_Set, &f);
  lv2_atom_forge_key(&forge, u.patch_property);
  lv2_atom_forge_urid(&forge, u.hp_liveReload);
  lv2_atom_forge_key(&forge, u.patch_value);
  lv2_atom_forge_bool(&forge, true);
  finish("set-live-reload", &f);

  /* Near misses: a missing property, a prime 3-tuple, a wrong type. */
  begin(u.hp_Create, &f);
  key_string(u.hp_module, "x");
  finish("near-create-no-type", &f);

  begin(u.hp_Commit, &f);
  lv2_atom_forge_key(&forge, u.hp_prime);
  lv2_atom_forge_tuple(&forge, &tuple);
  LV2_Atom_Forge_Frame t3;
  lv2_atom_forge_tuple(&forge, &t3);
  lv2_atom_forge_string(&forge, "mod", 3);
  lv2_atom_forge_string(&forge, "osc1", 4);
  lv2_atom_forge_float(&forge, 1.0f);
  lv2_atom_forge_pop(&forge, &t3);
  lv2_atom_forge_pop(&forge, &tuple);
  finish("near-prime-3-tuple", &f);

  begin(u.hp_Gate, &f);
  key_string(u.hp_module, "env1");
  key_string(u.hp_value, "on");
  finish("near-gate-string", &f);

  /* Voices and tails. */
  begin(u.op_class[HP_OP_VOICES], &f);
  key_int(field_key(HP_OP_VOICES, "count"), 8);
  finish("voices", &f);

  begin(u.hp_Commit, &f);
  lv2_atom_forge_key(&forge, field_key(HP_OP_COMMIT, "tail"));
  lv2_atom_forge_bool(&forge, true);
  finish("commit-tail", &f);

  /* A MIDI flood (head bit 30) around a tail commit: the notes ride in a
     property the decoder ignores, 2 bytes into its body so that they
     start a message of 3 (the property header is 16 bytes). */
  static const uint8_t notes[] = {0,    0,    0x90, 0x3C, 0x64, 0x90, 0x40,
                                  0x64, 0x80, 0x3C, 0x00, 0xE0, 0x00, 0x50,
                                  0xB0, 0x40, 0x7F, 0x90, 0x43, 0x01, 0xB0,
                                  0x40, 0x00, 0xB0, 0x7B, 0x00};
  begin(u.hp_Commit, &f);
  lv2_atom_forge_key(&forge, u.hp_message);
  lv2_atom_forge_atom(&forge, sizeof(notes), u.atom_String);
  lv2_atom_forge_write(&forge, notes, sizeof(notes));
  lv2_atom_forge_pad(&forge, sizeof(notes));
  lv2_atom_forge_key(&forge, field_key(HP_OP_COMMIT, "tail"));
  lv2_atom_forge_bool(&forge, true);
  finish_flags("flood-commit-tail", &f, 0x40);

  /* Quantized commits, reverts, the history, and the host's time
     (hostile too: the engine must ignore what it cannot use). */
  begin(u.hp_Commit, &f);
  key_string(field_key(HP_OP_COMMIT, "quant"), "bar");
  finish("commit-quant-bar", &f);
  begin(u.hp_Commit, &f);
  key_float(field_key(HP_OP_COMMIT, "quant"), 0.75f);
  finish("commit-quant-beats", &f);
  begin(u.op_class[HP_OP_REVERT], &f);
  key_int(field_key(HP_OP_REVERT, "steps"), 1);
  key_string(field_key(HP_OP_REVERT, "quant"), "beat");
  finish("revert", &f);
  begin(u.patch_Get, &f);
  lv2_atom_forge_key(&forge, u.patch_property);
  lv2_atom_forge_urid(&forge, u.op_property[HP_OP_HISTORY]);
  finish("get-history", &f);
  static const struct {
    const char* name;
    double      bar, bar_beat, bpm, beats_per_bar, speed;
  } positions[] = {
    {"position-97bpm-7-8", 3.0, 2.5, 97.3, 7.0, 1.0},
    {"position-stopped", 1.0, 0.0, 120.0, 4.0, 0.0},
    {"position-zero-tempo", 2.0, 1.0, 0.0, 4.0, 1.0},
    {"position-negative-tempo", 2.0, 1.0, -5.0, 4.0, 1.0},
    {"position-nan", NAN, NAN, NAN, NAN, NAN},
    {"position-huge-bar", 1e18, 1.0, 120.0, 0.0, INFINITY},
  };
  for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); ++i) {
    begin(u.time_Position, &f);
    lv2_atom_forge_key(&forge, u.time_bar);
    lv2_atom_forge_long(
      &forge, isfinite(positions[i].bar) ? (int64_t)positions[i].bar : 0);
    key_float(u.time_barBeat, (float)positions[i].bar_beat);
    key_float(u.time_beatsPerBar, (float)positions[i].beats_per_bar);
    key_float(u.time_beatsPerMinute, (float)positions[i].bpm);
    key_float(u.time_speed, (float)positions[i].speed);
    finish(positions[i].name, &f);
  }

  /* The delay's loop: another way back through its wet output, a cycle
     through its mixed output (refused), the reverb's pair to the sides. */
  begin(u.hp_Connect, &f);
  key_string(u.hp_source, "dly:wet");
  key_string(u.hp_dest, "dmix:in3");
  finish("connect-wet-loop", &f);

  begin(u.hp_Connect, &f);
  key_string(u.hp_source, "dly");
  key_string(u.hp_dest, "dmix:in4");
  finish("near-connect-cycle", &f);

  begin(u.hp_Connect, &f);
  key_string(u.hp_source, "z_reverb:left");
  key_string(u.hp_dest, "out:left");
  finish("connect-left", &f);

  /* Every type, and every parameter at the end of its range. */
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    const HpModuleDesc* const d = hp_module_types[t];
    char                      name[128];
    char                      id[HP_ID_MAX];
    begin(u.hp_Create, &f);
    key_string(u.hp_module, "new1");
    key_string(u.hp_type, d->type);
    snprintf(name, sizeof(name), "create-%s", d->type);
    finish(name, &f);
    fz_base_id(d->type, id, sizeof(id));
    for (uint32_t p = 0; p < d->n_params; ++p) {
      const HpParamDesc* const pd = &d->params[p];
      begin(u.hp_Set, &f);
      key_string(u.hp_module, id);
      key_string(u.hp_param, pd->name);
      if (pd->kind == HP_PARAM_ENUM) {
        uint32_t n = 0;
        while (pd->choices[n + 1u]) {
          ++n;
        }
        key_string(u.hp_value, pd->choices[n]);
      } else {
        key_float(u.hp_value, pd->max);
      }
      snprintf(name, sizeof(name), "set-%s-%s", d->type, pd->name);
      finish(name, &f);
    }
  }
  return 0;
}
