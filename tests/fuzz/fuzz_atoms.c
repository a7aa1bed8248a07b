/*
  libFuzzer target: the atom message decoder (plugin/atoms.c), then the
  engine the decoded operations go to.

  Input: 4 bytes choosing the object type (little-endian, bits 0..29
  modulo FZ_N_TYPES, over the message types of fuzz_common.h; bit 31 set
  makes the object's atom:size leave out its 8-byte body header, so the
  object claims less than it holds or is truncated; bit 30 set plays the
  rest of the input as MIDI too, a flood of 1,000 messages in one block
  before the message and again after its commit), then the object's
  properties as raw bytes (key, atom header, body, padding ...), exactly
  as they would sit in a host's atom:Sequence.  The URIDs are those of the
  in-process map (fuzz_common.h): gen_atom_seeds.c writes the seeds with it.

  hp_atom_decode runs in run() and must survive any bytes.  Decoded ops go
  to a real engine as run() hands them over, followed by a plain commit so
  structural edits are built, primed and swapped in; the output must stay
  finite.
*/

#include "atoms.h"
#include "engine.h"
#include "fuzz_common.h"
#include "ops.h"
#include "uris.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static FzUridMap    urid_map;
static LV2_URID_Map map = {&urid_map, fz_map_uri};
static HpURIs       uris;
static LV2_URID     types[FZ_N_TYPES];
static FzEngine     fz;
static HpOp         ops[HP_MAX_MESSAGE_OPS];

int
LLVMFuzzerInitialize(int* const argc, char*** const argv)
{
  (void)argc;
  (void)argv;
  hp_map_uris(&map, &uris); /* first: the seeds' URIDs */
  fz_message_types(&uris, types);
  fz_make_files(&fz);
  fz_engine_open(&fz);
  return 0;
}

/* A time:Position, as run() reads it, given to the engine while a
   quantized commit waits for the next bar line: whatever it says (no
   tempo, a negative one, NaN, bar 1e18), the swap happens or waits, and
   the output stays finite. */
static void
position(const LV2_Atom_Object* const obj)
{
  HpPosition pos;
  if (!hp_atom_read_position(&uris, obj, &pos)) {
    return;
  }
  fz_reset(&fz);
  hp_engine_time(
    fz.engine, pos.beat, pos.bar_beat, pos.bpm, pos.beats_per_bar, pos.speed);
  HpOp op;
  hp_op_init(&op, HP_OP_CREATE);
  memcpy(op.create.id, "fz_q", 5u);
  memcpy(op.create.type, "sine", 5u);
  fz_submit(&fz, &op);
  hp_op_init(&op, HP_OP_COMMIT);
  memcpy(op.commit.quant_choice, "bar", 4u);
  op.commit.warmup = 1;
  fz_submit(&fz, &op);
  for (int i = 0; i < 4; ++i) {
    fz_cycle(&fz);
  }
  hp_op_init(&op, HP_OP_REVERT);
  op.commit.quant = 0.5f;
  fz_submit(&fz, &op);
  fz_cycle(&fz);
}

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  if (size < 4 || size > (1u << 20u)) {
    return -1; /* not an input of this format: not added to the corpus */
  }
  const uint32_t head = (uint32_t)data[0] | (uint32_t)data[1] << 8u |
                        (uint32_t)data[2] << 16u | (uint32_t)data[3] << 24u;
  const size_t n_props    = size - 4u;
  const bool   short_size = head & 0x80000000u;
  const bool   flood      = head & 0x40000000u;
  const size_t atom_size =
    short_size ? n_props : sizeof(LV2_Atom_Object_Body) + n_props;

  /* Exactly as large as the object says (ASan sees any overread), but
     never less than the header the decoder may read. */
  const size_t     body = atom_size > sizeof(LV2_Atom_Object_Body)
                            ? atom_size
                            : sizeof(LV2_Atom_Object_Body);
  LV2_Atom_Object* obj  = (LV2_Atom_Object*)malloc(sizeof(LV2_Atom) + body);
  if (!obj) {
    return 0;
  }
  obj->atom.type  = uris.atom_Object;
  obj->atom.size  = (uint32_t)atom_size;
  obj->body.id    = 0;
  obj->body.otype = types[(head & 0x3FFFFFFFu) % FZ_N_TYPES];
  if (body > sizeof(LV2_Atom_Object_Body)) {
    memcpy(obj + 1, data + 4, body - sizeof(LV2_Atom_Object_Body));
  }

  if (obj->body.otype == uris.time_Position) {
    position(obj);
    free(obj);
    return 0;
  }
  uint32_t n_ops = 0;
  int32_t  seq   = HP_NO_SEQ;
  HpError  err;
  err.message[0]    = '\0';
  const HpStatus st = hp_atom_decode(&uris, obj, ops, &n_ops, &seq, &err);
  free(obj);

  if (n_ops > HP_MAX_MESSAGE_OPS || (!st && !n_ops)) {
    fz_fail("hp_atom_decode: success without ops, or too many ops");
  }
  if (st) { /* ops may have been written (prime tuples); run() drops them */
    if (!memchr(err.message, '\0', sizeof(err.message)) || !err.message[0]) {
      fz_fail("hp_atom_decode failed without a message");
    }
    return 0;
  }

  fz_reset(&fz);
  if (flood) {
    fz_midi(&fz, data + 4, n_props, 1000u);
  }
  bool committed = false;
  for (uint32_t i = 0; i < n_ops; ++i) {
    committed |= hp_op_desc(ops[i].type)->effect == HP_EFFECT_COMMIT;
    fz_submit(&fz, &ops[i]);
  }
  fz_cycle(&fz);
  if (!committed) {
    HpOp commit;
    hp_op_init(&commit, HP_OP_COMMIT);
    commit.commit.warmup       = 1;
    commit.commit.crossfade_ms = 0.0f;
    fz_submit(&fz, &commit);
    fz_cycle(&fz);
  }
  if (flood) {
    fz_midi(&fz, data + 4, n_props, 1000u);
  }
  fz_cycle(&fz);
  return 0;
}
