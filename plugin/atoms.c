/*
  Atoms <-> engine operations and notifications.  Audio thread.

  Every size inside a message is checked before it is read: a script can
  send any bytes, and a malformed message must end in a patch:Error, not a
  crash.  Messages are built without snprintf (the audio thread does no
  stdio-family calls).
*/

#include "atoms.h"

#include <lv2/atom/util.h>

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* The end of fail()'s parts: a typed null (a bare NULL may be an int). */
#define END ((const char*)NULL)

/* Concatenate END-terminated parts into err->message. */
static HpStatus
fail(HpError* const err, const HpStatus st, ...)
{
  err->status = st;
  size_t  len = 0;
  va_list args;
  va_start(args, st);
  for (const char* part = va_arg(args, const char*); part;
       part             = va_arg(args, const char*)) {
    const size_t n    = strlen(part);
    const size_t room = sizeof(err->message) - 1u - len;
    const size_t take = n < room ? n : room;
    memcpy(err->message + len, part, take);
    len += take;
  }
  va_end(args);
  err->message[len] = '\0';
  return st;
}

/* Walk the atoms packed in [body, body + size), checking every size. */
typedef struct {
  const uint8_t* pos;
  const uint8_t* end;
} Cursor;

static const LV2_Atom*
next_atom(Cursor* const c, const size_t header)
{
  if ((size_t)(c->end - c->pos) < header + sizeof(LV2_Atom)) {
    return NULL;
  }
  const LV2_Atom* atom = (const LV2_Atom*)(c->pos + header);
  const size_t    need = header + sizeof(LV2_Atom) + atom->size;
  if (atom->size > (size_t)(c->end - c->pos) || need > (size_t)(c->end - c->pos)) {
    return NULL;
  }
  c->pos += lv2_atom_pad_size((uint32_t)need);
  if (c->pos > c->end) {
    c->pos = c->end;
  }
  return atom;
}

static bool
get_number(const HpURIs* const u, const LV2_Atom* const a, float* const value)
{
  if (a->type == u->atom_Float && a->size >= sizeof(float)) {
    *value = ((const LV2_Atom_Float*)a)->body;
  } else if (a->type == u->atom_Double && a->size >= sizeof(double)) {
    *value = (float)((const LV2_Atom_Double*)a)->body;
  } else if ((a->type == u->atom_Int || a->type == u->atom_Bool) &&
             a->size >= sizeof(int32_t)) {
    *value = (float)((const LV2_Atom_Int*)a)->body;
  } else if (a->type == u->atom_Long && a->size >= sizeof(int64_t)) {
    *value = (float)((const LV2_Atom_Long*)a)->body;
  } else {
    return false;
  }
  return true;
}

typedef enum { STR_OK, STR_NOT_STRING, STR_TOO_LONG } StringResult;

static StringResult
get_string(const HpURIs* const u, const LV2_Atom* const a, char* const dst)
{
  if (a->type != u->atom_String || a->size == 0) {
    return STR_NOT_STRING;
  }
  const char* body = (const char*)LV2_ATOM_BODY_CONST(a);
  const char* nul  = (const char*)memchr(body, '\0', a->size);
  if (!nul) {
    return STR_NOT_STRING;
  }
  const size_t len = (size_t)(nul - body);
  if (len >= HP_NAME_MAX) {
    return STR_TOO_LONG;
  }
  memcpy(dst, body, len + 1u);
  return STR_OK;
}

/* The properties a message may carry. */
typedef struct {
  const LV2_Atom* module;
  const LV2_Atom* type;
  const LV2_Atom* source;
  const LV2_Atom* dest;
  const LV2_Atom* param;
  const LV2_Atom* value;
  const LV2_Atom* prime;
  const LV2_Atom* warmup;
  const LV2_Atom* crossfade;
  const LV2_Atom* require;
  const LV2_Atom* seq;
  const LV2_Atom* macro;
  const LV2_Atom* target;
  const LV2_Atom* minimum;
  const LV2_Atom* maximum;
  const LV2_Atom* curve;
  const LV2_Atom* property; /* patch:Set */
  const LV2_Atom* pvalue;   /* patch:Set */
} Props;

static HpStatus
string_prop(const HpURIs* const u, const LV2_Atom* const a,
            const char* const msg, const char* const name, char* const dst,
            HpError* const err)
{
  if (!a) {
    return fail(err, HP_ERR_BAD_MESSAGE, msg, " needs ", name,
                " (an atom:String)", END);
  }
  switch (get_string(u, a, dst)) {
  case STR_OK: return HP_SUCCESS;
  case STR_TOO_LONG:
    return fail(err, HP_ERR_TOO_LARGE, msg, ": ", name,
                " is longer than 95 bytes", END);
  case STR_NOT_STRING: break;
  }
  return fail(err, HP_ERR_BAD_MESSAGE, msg, ": ", name,
              " must be an atom:String", END);
}

static HpStatus
number_prop(const HpURIs* const u, const LV2_Atom* const a,
            const char* const msg, const char* const name, float* const dst,
            HpError* const err)
{
  if (!a) {
    return fail(err, HP_ERR_BAD_MESSAGE, msg, " needs ", name, " (a number)",
                END);
  }
  if (!get_number(u, a, dst)) {
    return fail(err, HP_ERR_BAD_MESSAGE, msg, ": ", name,
                " must be a number (atom:Float, Double, Int, Long or Bool)",
                END);
  }
  return HP_SUCCESS;
}

static HpStatus
decode_prime(const HpURIs* const u, const LV2_Atom* const tuple,
             HpOp* const ops, uint32_t* const n_ops, HpError* const err)
{
  if (tuple->type != u->atom_Tuple) {
    return fail(err, HP_ERR_BAD_MESSAGE,
                "hp:Commit: hp:prime must be an atom:Tuple of "
                "(op, module, param, value) tuples",
                END);
  }
  Cursor outer = {(const uint8_t*)LV2_ATOM_BODY_CONST(tuple),
                  (const uint8_t*)LV2_ATOM_BODY_CONST(tuple) + tuple->size};
  while (outer.pos < outer.end) {
    const LV2_Atom* item = next_atom(&outer, 0);
    if (!item || item->type != u->atom_Tuple) {
      return fail(err, HP_ERR_BAD_MESSAGE,
                  "hp:Commit: each hp:prime entry must be an atom:Tuple "
                  "(op, module, param, value)",
                  END);
    }
    if (*n_ops + 1u >= HP_MAX_MESSAGE_OPS) {
      return fail(err, HP_ERR_TOO_LARGE,
                  "hp:Commit: more than 64 prime ops in one message; send "
                  "the rest with hp:Set before committing",
                  END);
    }
    const LV2_Atom* field[4] = {NULL, NULL, NULL, NULL};
    Cursor inner = {(const uint8_t*)LV2_ATOM_BODY_CONST(item),
                    (const uint8_t*)LV2_ATOM_BODY_CONST(item) + item->size};
    unsigned n = 0;
    while (inner.pos < inner.end && n < 5) {
      const LV2_Atom* f = next_atom(&inner, 0);
      if (!f) {
        break;
      }
      if (n < 4) {
        field[n] = f;
      }
      ++n;
    }
    if (n != 4) {
      return fail(err, HP_ERR_BAD_MESSAGE,
                  "hp:Commit: a prime op must be a 4-tuple (op, module, "
                  "param or none, value)",
                  END);
    }
    HpOp* op = &ops[(*n_ops)++];
    char  kind[HP_NAME_MAX];
    hp_op_init(op, HP_OP_PRIME_SET);
    HpStatus st =
      string_prop(u, field[0], "hp:Commit prime op", "op", kind, err);
    if (!st && strcmp(kind, "mod") && strcmp(kind, "gate")) {
      st = fail(err, HP_ERR_BAD_MESSAGE, "hp:Commit: prime op '", kind,
                "' unknown; use \"mod\" or \"gate\"", END);
    }
    if (st || (st = string_prop(u, field[1], "hp:Commit prime op", "module",
                                op->module, err))) {
      return st;
    }
    if (!strcmp(kind, "gate")) {
      op->type = HP_OP_PRIME_GATE;
      strcpy(op->arg, "gate");
    } else if ((st = string_prop(u, field[2], "hp:Commit prime op", "param",
                                 op->arg, err))) {
      return st;
    }
    if (!get_number(u, field[3], &op->value) &&
        (op->type != HP_OP_PRIME_SET ||
         get_string(u, field[3], op->arg2) != STR_OK)) {
      return fail(err, HP_ERR_BAD_MESSAGE,
                  "hp:Commit: a prime op's value must be a number", END);
    }
  }
  return HP_SUCCESS;
}

HpStatus
hp_atom_decode(const HpURIs* const u, const LV2_Atom_Object* const obj,
               HpOp* const ops, uint32_t* const n_ops, int32_t* const seq,
               HpError* const err)
{
  *n_ops = 0;
  *seq   = HP_NO_SEQ;
  Props p;
  memset(&p, 0, sizeof(p));
  Cursor c = {(const uint8_t*)(&obj->body + 1),
              (const uint8_t*)(&obj->body) + obj->atom.size};
  if (obj->atom.size < sizeof(LV2_Atom_Object_Body)) {
    return fail(err, HP_ERR_BAD_MESSAGE, "truncated atom:Object", END);
  }
  while (c.pos < c.end) {
    const uint8_t*  at   = c.pos;
    const LV2_Atom* val  = next_atom(&c, 2u * sizeof(uint32_t));
    if (!val) {
      return fail(err, HP_ERR_BAD_MESSAGE,
                  "malformed atom:Object: a property overruns the object",
                  END);
    }
    const uint32_t key = ((const LV2_Atom_Property_Body*)at)->key;
    float          number = 0.0f;
    if (key == u->patch_sequenceNumber && get_number(u, val, &number) &&
        number >= 0.0f && number <= 2147483520.0f) {
      *seq = (int32_t)number; /* kept for the error even if decoding fails */
    }
    if (key == u->hp_module) p.module = val;
    else if (key == u->hp_type) p.type = val;
    else if (key == u->hp_source) p.source = val;
    else if (key == u->hp_dest) p.dest = val;
    else if (key == u->hp_param) p.param = val;
    else if (key == u->hp_value) p.value = val;
    else if (key == u->hp_prime) p.prime = val;
    else if (key == u->hp_warmup) p.warmup = val;
    else if (key == u->hp_crossfade) p.crossfade = val;
    else if (key == u->hp_requireSignal) p.require = val;
    else if (key == u->patch_sequenceNumber) p.seq = val;
    else if (key == u->patch_property) p.property = val;
    else if (key == u->hp_macro) p.macro = val;
    else if (key == u->hp_target) p.target = val;
    else if (key == u->hp_minimum) p.minimum = val;
    else if (key == u->hp_maximum) p.maximum = val;
    else if (key == u->hp_curve) p.curve = val;
    else if (key == u->patch_value) p.pvalue = val;
  }
  float number = 0.0f;
  if (p.seq) {
    if (!get_number(u, p.seq, &number) || !(number >= 0.0f) ||
        number > 2147483520.0f) {
      return fail(err, HP_ERR_BAD_MESSAGE,
                  "patch:sequenceNumber must be a non-negative atom:Int", END);
    }
    *seq = (int32_t)number;
  }

  const uint32_t type = obj->body.otype;
  HpOp* const    op   = &ops[0];
  HpStatus       st   = HP_SUCCESS;
  if (type == u->hp_Create) {
    hp_op_init(op, HP_OP_CREATE);
    if (!(st = string_prop(u, p.module, "hp:Create", "hp:module", op->module, err))) {
      st = string_prop(u, p.type, "hp:Create", "hp:type", op->arg, err);
    }
  } else if (type == u->hp_Delete) {
    hp_op_init(op, HP_OP_DELETE);
    st = string_prop(u, p.module, "hp:Delete", "hp:module", op->module, err);
  } else if (type == u->hp_Connect || type == u->hp_Disconnect) {
    const bool  connect = type == u->hp_Connect;
    const char* name    = connect ? "hp:Connect" : "hp:Disconnect";
    hp_op_init(op, connect ? HP_OP_CONNECT : HP_OP_DISCONNECT);
    if (!(st = string_prop(u, p.source, name, "hp:source", op->module, err))) {
      st = string_prop(u, p.dest, name, "hp:dest", op->arg, err);
    }
  } else if (type == u->hp_Set) {
    hp_op_init(op, HP_OP_SET);
    if (!(st = string_prop(u, p.module, "hp:Set", "hp:module", op->module, err)) &&
        !(st = string_prop(u, p.param, "hp:Set", "hp:param", op->arg, err))) {
      /* A string value names an enum choice ("highpass"). */
      if (!p.value || get_string(u, p.value, op->arg2) != STR_OK) {
        st = number_prop(u, p.value, "hp:Set", "hp:value", &op->value, err);
      }
    }
  } else if (type == u->hp_Gate) {
    hp_op_init(op, HP_OP_GATE);
    if (!(st = string_prop(u, p.module, "hp:Gate", "hp:module", op->module, err))) {
      st = number_prop(u, p.value, "hp:Gate", "hp:value", &op->value, err);
    }
  } else if (type == u->hp_Commit) {
    if (p.prime && (st = decode_prime(u, p.prime, ops, n_ops, err))) {
      return st;
    }
    HpOp* commit = &ops[*n_ops];
    hp_op_init(commit, HP_OP_COMMIT);
    if (p.warmup &&
        !(st = number_prop(u, p.warmup, "hp:Commit", "hp:warmup", &number, err))) {
      /* Range first: converting a float beyond int's range is undefined. */
      if (!(number >= 0.0f && number <= 1000000.0f) || number != floorf(number)) {
        st = fail(err, HP_ERR_BAD_VALUE,
                  "hp:Commit: hp:warmup must be a whole number of blocks, "
                  "1 to 1024", END);
      } else {
        commit->warmup = (int32_t)number;
      }
    }
    if (!st && p.crossfade &&
        !(st = number_prop(u, p.crossfade, "hp:Commit", "hp:crossfade",
                           &commit->crossfade_ms, err)) &&
        !(commit->crossfade_ms >= 0.0f)) {
      st = fail(err, HP_ERR_BAD_VALUE,
                "hp:Commit: hp:crossfade must be 0 ms or more", END);
    }
    if (!st && p.require &&
        !(st = number_prop(u, p.require, "hp:Commit", "hp:requireSignal",
                           &number, err))) {
      commit->require_signal = number != 0.0f;
    }
    if (st) {
      *n_ops = 0;
      return st;
    }
    commit->seq = *seq;
    ++*n_ops;
    return HP_SUCCESS;
  } else if (type == u->hp_Macro) {
    hp_op_init(op, HP_OP_MACRO);
    float index = 0.0f;
    if (!(st = number_prop(u, p.macro, "hp:Macro", "hp:macro", &index, err)) &&
        !(st = string_prop(u, p.target, "hp:Macro", "hp:target", op->module, err)) &&
        !(st = number_prop(u, p.minimum, "hp:Macro", "hp:minimum", &op->lo, err)) &&
        !(st = number_prop(u, p.maximum, "hp:Macro", "hp:maximum", &op->hi, err)) &&
        !(p.curve && (st = string_prop(u, p.curve, "hp:Macro", "hp:curve",
                                       op->arg2, err)))) {
      op->macro = index >= 0.0f && index < 1000.0f ? (uint32_t)index : 0u;
    }
  } else if (type == u->patch_Get) {
    hp_op_init(op, HP_OP_GET);
  } else if (type == u->patch_Set) {
    const LV2_URID prop = p.property && p.property->type == u->atom_URID &&
                              p.property->size >= sizeof(LV2_URID)
                            ? ((const LV2_Atom_URID*)p.property)->body
                            : 0;
    if (prop == u->hp_patchFile) {
      hp_op_init(op, HP_OP_LOAD_FILE);
      const char* path = p.pvalue && (p.pvalue->type == u->atom_Path ||
                                      p.pvalue->type == u->atom_String)
                           ? (const char*)LV2_ATOM_BODY_CONST(p.pvalue)
                           : NULL;
      const size_t len = path ? strnlen(path, p.pvalue->size) : 0;
      if (!path || len == p.pvalue->size || len == 0) {
        st = fail(err, HP_ERR_BAD_MESSAGE,
                  "patch:Set of hp:patchFile needs patch:value, an absolute "
                  "atom:Path", END);
      } else if (len >= sizeof(op->text)) {
        st = fail(err, HP_ERR_TOO_LARGE,
                  "patch:Set of hp:patchFile: the path is longer than 319 "
                  "bytes", END);
      } else {
        memcpy(op->text, path, len + 1u);
      }
    } else if (prop == u->hp_liveReload) {
      hp_op_init(op, HP_OP_LIVE_RELOAD);
      st = number_prop(u, p.pvalue, "patch:Set of hp:liveReload", "patch:value",
                       &op->value, err);
    } else {
      st = fail(err, HP_ERR_BAD_MESSAGE,
                "patch:Set of a property hotpatch does not have; its writable "
                "properties are hp:patchFile and hp:liveReload",
                END);
    }
  } else if (type == u->hp_Abort) {
    hp_op_init(op, HP_OP_ABORT);
  } else if (type == u->hp_Clear) {
    hp_op_init(op, HP_OP_CLEAR);
  } else {
    return fail(err, HP_ERR_BAD_MESSAGE,
                "unknown message type; send hp:Create, hp:Delete, hp:Connect, "
                "hp:Disconnect, hp:Set, hp:Gate, hp:Commit, hp:Abort, "
                "hp:Clear, hp:Macro, patch:Get or patch:Set",
                END);
  }
  if (st) {
    return st;
  }
  op->seq = *seq;
  *n_ops  = 1;
  return HP_SUCCESS;
}

static bool
write_seq(LV2_Atom_Forge* const forge, const HpURIs* const u, const int32_t seq)
{
  if (seq == HP_NO_SEQ) {
    return true;
  }
  return lv2_atom_forge_key(forge, u->patch_sequenceNumber) &&
         lv2_atom_forge_int(forge, seq);
}

bool
hp_atom_write_error(LV2_Atom_Forge* const forge, const HpURIs* const u,
                    const uint32_t frame, const int32_t seq,
                    const char* const message)
{
  LV2_Atom_Forge_Frame obj;
  if (!lv2_atom_forge_frame_time(forge, frame) ||
      !lv2_atom_forge_object(forge, &obj, 0, u->patch_Error) ||
      !write_seq(forge, u, seq) || !lv2_atom_forge_key(forge, u->hp_message) ||
      !lv2_atom_forge_string(forge, message, (uint32_t)strlen(message))) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  return true;
}

/* One patch:Set of `property`; the value is written by the caller. */
static bool
begin_set(LV2_Atom_Forge* const forge, const HpURIs* const u,
          const uint32_t frame, const int32_t seq, const LV2_URID property,
          LV2_Atom_Forge_Frame* const obj)
{
  return lv2_atom_forge_frame_time(forge, frame) &&
         lv2_atom_forge_object(forge, obj, 0, u->patch_Set) &&
         write_seq(forge, u, seq) &&
         lv2_atom_forge_key(forge, u->patch_property) &&
         lv2_atom_forge_urid(forge, property) &&
         lv2_atom_forge_key(forge, u->patch_value);
}

bool
hp_atom_write_patch(LV2_Atom_Forge* const forge, const HpURIs* const u,
                    const uint32_t frame, const int32_t seq,
                    const char* const text, const uint32_t length,
                    const char* const path, const bool live_reload)
{
  LV2_Atom_Forge_Frame obj;
  if (!begin_set(forge, u, frame, seq, u->hp_patch, &obj) ||
      !lv2_atom_forge_string(forge, text, length)) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  if (!begin_set(forge, u, frame, seq, u->hp_patchFile, &obj) ||
      !lv2_atom_forge_path(forge, path, (uint32_t)strlen(path))) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  if (!begin_set(forge, u, frame, seq, u->hp_liveReload, &obj) ||
      !lv2_atom_forge_bool(forge, live_reload)) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  return true;
}

bool
hp_atom_write_event(LV2_Atom_Forge* const forge, const HpURIs* const u,
                    const uint32_t frame, const HpEvent* const ev)
{
  if (ev->type == HP_EVENT_ERROR) {
    return hp_atom_write_error(forge, u, frame, ev->seq, ev->message);
  }
  static const size_t n_types = 4;
  const LV2_URID      types[] = {u->patch_Ack, u->patch_Error, u->hp_Primed,
                                 u->hp_Swapped};
  if ((size_t)ev->type >= n_types) {
    return false;
  }
  LV2_Atom_Forge_Frame obj;
  if (!lv2_atom_forge_frame_time(forge, frame) ||
      !lv2_atom_forge_object(forge, &obj, 0, types[ev->type]) ||
      !write_seq(forge, u, ev->seq)) {
    return false;
  }
  if (ev->type == HP_EVENT_PRIMED &&
      !(lv2_atom_forge_key(forge, u->hp_generation) &&
        lv2_atom_forge_int(forge, (int32_t)ev->generation) &&
        lv2_atom_forge_key(forge, u->hp_primeTime) &&
        lv2_atom_forge_float(forge, ev->prime_ms) &&
        lv2_atom_forge_key(forge, u->hp_warmupRms) &&
        lv2_atom_forge_float(forge, ev->warmup_rms) &&
        lv2_atom_forge_key(forge, u->hp_moduleCount) &&
        lv2_atom_forge_int(forge, (int32_t)ev->module_count))) {
    return false;
  }
  if (ev->type == HP_EVENT_SWAPPED &&
      !(lv2_atom_forge_key(forge, u->hp_generation) &&
        lv2_atom_forge_int(forge, (int32_t)ev->generation) &&
        lv2_atom_forge_key(forge, u->hp_frame) &&
        lv2_atom_forge_int(forge, (int32_t)ev->frame))) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  return true;
}
