/*
  Atoms <-> engine operations and notifications.  Audio thread.

  The decoder and the encoder (hp_atom_encode_op, which the test host and
  hotpatch-render send with) are generic over the table of operations
  (src/ops.c): an object's class, and for patch:Set its property, picks
  the op; each field is read by its key and type, and held to its domain.

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
  if (atom->size > (size_t)(c->end - c->pos) ||
      need > (size_t)(c->end - c->pos)) {
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

static bool write_seq(LV2_Atom_Forge* forge, const HpURIs* u, int32_t seq);

/* Append `part` to the string in buf (no stdio on the audio thread). */
static void
append(char* const buf, const size_t size, const char* const part)
{
  const size_t len  = strlen(buf);
  const size_t n    = strlen(part);
  const size_t room = size - 1u - len;
  const size_t take = n < room ? n : room;
  memcpy(buf + len, part, take);
  buf[len + take] = '\0';
}

static HpStatus
string_prop(const HpURIs* const   u,
            const LV2_Atom* const a,
            const char* const     msg,
            const char* const     name,
            char* const           dst,
            HpError* const        err)
{
  if (!a) {
    return fail(
      err, HP_ERR_BAD_MESSAGE, msg, " needs ", name, " (an atom:String)", END);
  }
  switch (get_string(u, a, dst)) {
  case STR_OK:
    return HP_SUCCESS;
  case STR_TOO_LONG:
    return fail(
      err, HP_ERR_TOO_LARGE, msg, ": ", name, " is longer than 95 bytes", END);
  case STR_NOT_STRING:
    break;
  }
  return fail(
    err, HP_ERR_BAD_MESSAGE, msg, ": ", name, " must be an atom:String", END);
}

static HpStatus
number_prop(const HpURIs* const   u,
            const LV2_Atom* const a,
            const char* const     msg,
            const char* const     name,
            float* const          dst,
            HpError* const        err)
{
  if (!a) {
    return fail(
      err, HP_ERR_BAD_MESSAGE, msg, " needs ", name, " (a number)", END);
  }
  if (!get_number(u, a, dst)) {
    return fail(err,
                HP_ERR_BAD_MESSAGE,
                msg,
                ": ",
                name,
                " must be a number (atom:Float, Double, Int, Long or Bool)",
                END);
  }
  return HP_SUCCESS;
}

static HpStatus
decode_prime(const HpURIs* const   u,
             const LV2_Atom* const tuple,
             HpOp* const           ops,
             uint32_t* const       n_ops,
             HpError* const        err)
{
  if (tuple->type != u->atom_Tuple) {
    return fail(err,
                HP_ERR_BAD_MESSAGE,
                "hp:Commit: hp:prime must be an atom:Tuple of "
                "(op, module, param, value) tuples",
                END);
  }
  Cursor outer = {(const uint8_t*)LV2_ATOM_BODY_CONST(tuple),
                  (const uint8_t*)LV2_ATOM_BODY_CONST(tuple) + tuple->size};
  while (outer.pos < outer.end) {
    const LV2_Atom* item = next_atom(&outer, 0);
    if (!item || item->type != u->atom_Tuple) {
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  "hp:Commit: each hp:prime entry must be an atom:Tuple "
                  "(op, module, param, value)",
                  END);
    }
    if (*n_ops + 1u >= HP_MAX_MESSAGE_OPS) {
      return fail(err,
                  HP_ERR_TOO_LARGE,
                  "hp:Commit: more than 64 prime ops in one message; send "
                  "the rest with hp:Set before committing",
                  END);
    }
    const LV2_Atom* field[4] = {NULL, NULL, NULL, NULL};
    Cursor          inner    = {(const uint8_t*)LV2_ATOM_BODY_CONST(item),
                                (const uint8_t*)LV2_ATOM_BODY_CONST(item) + item->size};
    unsigned        n        = 0;
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
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  "hp:Commit: a prime op must be a 4-tuple (op, module, "
                  "param or none, value)",
                  END);
    }
    HpOp* op = &ops[(*n_ops)++];
    char  kind[HP_NAME_MAX];
    hp_op_init(op, HP_OP_PRIME_SET);
    HpStatus st =
      string_prop(u, field[0], "hp:Commit prime op", "op", kind, err);
    /* The kind by its key, as live sets go: no string compared in run(). */
    const uint64_t kind_key = st ? 0u : hp_name_key(kind);
    const bool     gate     = kind_key == hp_name_key("gate");
    if (!st && !gate && kind_key != hp_name_key("mod")) {
      st = fail(err,
                HP_ERR_BAD_MESSAGE,
                "hp:Commit: prime op '",
                kind,
                "' unknown; use \"mod\" or \"gate\"",
                END);
    }
    if (st ||
        (st = string_prop(
           u, field[1], "hp:Commit prime op", "module", op->set.module, err))) {
      return st;
    }
    if (gate) {
      op->type = HP_OP_PRIME_GATE;
      memcpy(op->set.param, "gate", 5u);
    } else if ((st = string_prop(u,
                                 field[2],
                                 "hp:Commit prime op",
                                 "param",
                                 op->set.param,
                                 err))) {
      return st;
    }
    if (!get_number(u, field[3], &op->set.value) &&
        (op->type != HP_OP_PRIME_SET ||
         get_string(u, field[3], op->set.choice) != STR_OK)) {
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  "hp:Commit: a prime op's value must be a number",
                  END);
    }
  }
  return HP_SUCCESS;
}

/* The decimal digits of n into buf (at least 11 bytes). */
static const char*
decimal(uint32_t n, char* const buf)
{
  char* p = buf + 10;
  *p      = '\0';
  do {
    *--p = (char)('0' + n % 10u);
    n /= 10u;
  } while (n);
  return p;
}

/* One field from its atom `a` (NULL when absent) into `op`; `msg` names
   the message in errors ("hp:Create"). */
static HpStatus
decode_field(const HpURIs* const      u,
             const HpFieldDesc* const f,
             const LV2_Atom* const    a,
             const char* const        msg,
             HpOp* const              op,
             HpError* const           err)
{
  const char* const key      = f->key;
  const bool        optional = f->text == HP_TEXT_OPTIONAL ||
                        f->text == HP_TEXT_OPTION || f->text == HP_TEXT_FLAG;
  if (!a && optional) {
    return HP_SUCCESS;
  }
  float    number = 0.0f;
  HpStatus st     = HP_SUCCESS;
  switch (f->type) {
  case HP_FIELD_ID:
  case HP_FIELD_PORT:
  case HP_FIELD_NAME:
    return string_prop(u, a, msg, key, hp_op_string(op, f), err);
  case HP_FIELD_VALUE:
    /* A string value names an enum choice ("highpass"). */
    if (a && get_string(u, a, (char*)op + f->alt) == STR_OK) {
      return HP_SUCCESS;
    }
    ((char*)op + f->alt)[0] = '\0';
    if (!(st = number_prop(u, a, msg, key, &number, err))) {
      hp_op_set_number(op, f, number);
    }
    return st;
  case HP_FIELD_FLOAT:
  case HP_FIELD_INT:
  case HP_FIELD_BOOL:
    if ((st = number_prop(u, a, msg, key, &number, err))) {
      return st;
    }
    if (f->type != HP_FIELD_BOOL && !hp_op_in_domain(f, number)) {
      return fail(
        err, HP_ERR_BAD_VALUE, msg, ": ", key, " must be ", f->expects, END);
    }
    hp_op_set_number(op, f, number);
    return HP_SUCCESS;
  case HP_FIELD_PATH: {
    const char* path =
      a && (a->type == u->atom_Path || a->type == u->atom_String)
        ? (const char*)LV2_ATOM_BODY_CONST(a)
        : NULL;
    const size_t len = path ? strnlen(path, a->size) : 0;
    if (!path || len == a->size || len == 0) {
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  msg,
                  " needs ",
                  key,
                  ", an absolute atom:Path",
                  END);
    }
    if (len >= f->size) {
      char digits[11];
      return fail(err,
                  HP_ERR_TOO_LARGE,
                  msg,
                  ": the path is longer than ",
                  decimal((uint32_t)f->size - 1u, digits),
                  " bytes",
                  END);
    }
    memcpy(hp_op_string(op, f), path, len + 1u);
    return HP_SUCCESS;
  }
  case HP_FIELD_PRIMES:
    break; /* decoded before the op itself */
  }
  return HP_SUCCESS;
}

/* Say which message types or properties there are (from the table; a
   class two ops share, patch:Set, is named once: told apart by URID). */
static HpStatus
unknown(const HpURIs* const u, HpError* const err, const bool property)
{
  err->status     = HP_ERR_BAD_MESSAGE;
  err->message[0] = '\0';
  append(err->message,
         sizeof(err->message),
         property ? "patch:Set of a property hotpatch does not have; its "
                    "writable properties are "
                  : "unknown message type; send ");
  const LV2_URID* const urids = property ? u->op_property : u->op_class;
  const char*           items[HP_N_OP_TYPES] = {NULL};
  uint32_t              n                    = 0;
  for (uint32_t t = 0; t < HP_N_OP_TYPES; ++t) {
    const HpOpDesc* const d    = hp_op_desc((HpOpType)t);
    bool                  seen = !urids[t];
    for (uint32_t k = 0; k < t && !seen; ++k) {
      seen = urids[k] == urids[t];
    }
    if (!seen) {
      items[n++] = property ? d->property_curie : d->class_curie;
    }
  }
  for (uint32_t k = 0; k < n; ++k) {
    append(err->message,
           sizeof(err->message),
           !k            ? ""
           : k + 1u == n ? (property ? " and " : " or ")
                         : ", ");
    append(err->message, sizeof(err->message), items[k]);
  }
  return err->status;
}

HpStatus
hp_atom_decode(const HpURIs* const          u,
               const LV2_Atom_Object* const obj,
               HpOp* const                  ops,
               uint32_t* const              n_ops,
               int32_t* const               seq,
               HpError* const               err)
{
  *n_ops                   = 0;
  *seq                     = HP_NO_SEQ;
  const LV2_Atom* seq_atom = NULL;
  const LV2_Atom* property = NULL;
  Cursor          c        = {(const uint8_t*)(&obj->body + 1),
                              (const uint8_t*)(&obj->body) + obj->atom.size};
  if (obj->atom.size < sizeof(LV2_Atom_Object_Body)) {
    return fail(err, HP_ERR_BAD_MESSAGE, "truncated atom:Object", END);
  }
  while (c.pos < c.end) {
    const uint8_t*  at  = c.pos;
    const LV2_Atom* val = next_atom(&c, 2u * sizeof(uint32_t));
    if (!val) {
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  "malformed atom:Object: a property overruns the object",
                  END);
    }
    const uint32_t key    = ((const LV2_Atom_Property_Body*)at)->key;
    float          number = 0.0f;
    if (key == u->patch_sequenceNumber) {
      if (get_number(u, val, &number) && number >= 0.0f &&
          number <= 2147483520.0f) {
        *seq = (int32_t)number; /* kept for the error even if decoding fails */
      }
      seq_atom = val;
    } else if (key == u->patch_property) {
      property = val;
    }
  }
  float number = 0.0f;
  if (seq_atom) {
    if (!get_number(u, seq_atom, &number) || !(number >= 0.0f) ||
        number > 2147483520.0f) {
      return fail(err,
                  HP_ERR_BAD_MESSAGE,
                  "patch:sequenceNumber must be a non-negative atom:Int",
                  END);
    }
    *seq = (int32_t)number;
  }

  /* The op: by class, and for a patch:Set by the property it sets. */
  const uint32_t  type        = obj->body.otype;
  const LV2_URID  prop        = property && property->type == u->atom_URID &&
                            property->size >= sizeof(LV2_URID)
                                  ? ((const LV2_Atom_URID*)property)->body
                                  : 0;
  const HpOpDesc* d           = NULL;
  bool            class_known = false;
  for (uint32_t t = 0; t < HP_N_OP_TYPES; ++t) {
    if (u->op_class[t] && type == u->op_class[t]) {
      class_known = true;
      /* The op of this property, else the class's own (a patch:Get of
         hp:history, else of everything). */
      if (prop && prop == u->op_property[t]) {
        d = hp_op_desc((HpOpType)t);
        break;
      }
      if (!u->op_property[t] && !d) {
        d = hp_op_desc((HpOpType)t);
      }
    }
  }
  if (!d) {
    return unknown(u, err, class_known);
  }
  char msg[64] = ""; /* "hp:Create", "patch:Set of hp:patchFile" */
  append(msg, sizeof(msg), d->class_curie);
  if (d->property_curie) {
    append(msg, sizeof(msg), " of ");
    append(msg, sizeof(msg), d->property_curie);
  }

  /* Its fields, by their keys (sizes were checked above). */
  const LV2_Atom* props[HP_OP_MAX_FIELDS] = {NULL};
  for (c.pos = (const uint8_t*)(&obj->body + 1); c.pos < c.end;) {
    const uint8_t*  at  = c.pos;
    const LV2_Atom* val = next_atom(&c, 2u * sizeof(uint32_t));
    const uint32_t  key = ((const LV2_Atom_Property_Body*)at)->key;
    for (uint32_t i = 0; val && i < d->n_fields; ++i) {
      if (key == u->field_key[d->type][i]) {
        props[i] = val;
      }
    }
  }
  HpStatus st = HP_SUCCESS;
  for (uint32_t i = 0; i < d->n_fields && !st; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    if (f->type == HP_FIELD_PRIMES && props[i]) {
      st = decode_prime(u, props[i], ops, n_ops, err);
    }
  }
  HpOp* const op = &ops[*n_ops];
  if (!st) {
    hp_op_init(op, d->type);
  }
  for (uint32_t i = 0; i < d->n_fields && !st; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    st                         = decode_field(u, f, props[i], msg, op, err);
  }
  if (st) {
    *n_ops = 0;
    return st;
  }
  op->seq = *seq;
  ++*n_ops;
  return HP_SUCCESS;
}

/* A number as a double: time:beat needs more than a float holds. */
static bool
get_double(const HpURIs* const u, const LV2_Atom* const a, double* const value)
{
  if (a->type == u->atom_Double && a->size >= sizeof(double)) {
    *value = ((const LV2_Atom_Double*)a)->body;
  } else if (a->type == u->atom_Long && a->size >= sizeof(int64_t)) {
    *value = (double)((const LV2_Atom_Long*)a)->body;
  } else if (a->type == u->atom_Float && a->size >= sizeof(float)) {
    *value = (double)((const LV2_Atom_Float*)a)->body;
  } else if (a->type == u->atom_Int && a->size >= sizeof(int32_t)) {
    *value = (double)((const LV2_Atom_Int*)a)->body;
  } else {
    return false;
  }
  return true;
}

bool
hp_atom_read_position(const HpURIs* const          u,
                      const LV2_Atom_Object* const obj,
                      HpPosition* const            position)
{
  /* bar, barBeat, beat, beatsPerBar, beatsPerMinute, speed */
  const LV2_URID keys[6] = {u->time_bar,
                            u->time_barBeat,
                            u->time_beat,
                            u->time_beatsPerBar,
                            u->time_beatsPerMinute,
                            u->time_speed};
  double         value[6];
  for (uint32_t k = 0; k < 6; ++k) {
    value[k] = (double)NAN;
  }
  if (obj->atom.size < sizeof(LV2_Atom_Object_Body)) {
    return false;
  }
  Cursor c = {(const uint8_t*)(&obj->body + 1),
              (const uint8_t*)(&obj->body) + obj->atom.size};
  while (c.pos < c.end) {
    const uint8_t*  at  = c.pos;
    const LV2_Atom* val = next_atom(&c, 2u * sizeof(uint32_t));
    if (!val) {
      return false;
    }
    const uint32_t key = ((const LV2_Atom_Property_Body*)at)->key;
    for (uint32_t k = 0; k < 6; ++k) {
      if (key == keys[k] && !get_double(u, val, &value[k])) {
        return false;
      }
    }
  }
  /* time:beat counts from the song's start; without it, the bar and the
     beat in it do, in bars of this object's length. */
  position->beat = !isnan(value[2]) ? value[2] : value[0] * value[3] + value[1];
  position->bar_beat      = value[1];
  position->bpm           = (float)value[4];
  position->beats_per_bar = (float)value[3];
  position->speed         = (float)value[5];
  return true;
}

/* The encoder: an op as the message hp_atom_decode() reads back. */

static bool
put_string(LV2_Atom_Forge* const forge, const char* const str)
{
  return lv2_atom_forge_string(forge, str, (uint32_t)strlen(str));
}

static bool
encode_primes(LV2_Atom_Forge* const forge,
              const HpOp* const     primes,
              const uint32_t        n_primes)
{
  LV2_Atom_Forge_Frame list;
  if (!lv2_atom_forge_tuple(forge, &list)) {
    return false;
  }
  for (uint32_t i = 0u; i < n_primes; ++i) {
    const HpOp* const    p    = &primes[i];
    const bool           gate = p->type == HP_OP_PRIME_GATE;
    LV2_Atom_Forge_Frame entry;
    if (!lv2_atom_forge_tuple(forge, &entry) ||
        !put_string(forge, gate ? "gate" : "mod") ||
        !put_string(forge, p->set.module) ||
        !(gate ? lv2_atom_forge_atom(forge, 0u, 0u) /* none */
               : put_string(forge, p->set.param)) ||
        !(p->set.choice[0] ? put_string(forge, p->set.choice)
                           : lv2_atom_forge_float(forge, p->set.value))) {
      return false;
    }
    lv2_atom_forge_pop(forge, &entry);
  }
  lv2_atom_forge_pop(forge, &list);
  return true;
}

bool
hp_atom_encode_op(LV2_Atom_Forge* const forge,
                  const HpURIs* const   u,
                  const HpOp* const     op,
                  const HpOp* const     primes,
                  const uint32_t        n_primes)
{
  const HpOpDesc* const d = hp_op_desc(op->type);
  LV2_Atom_Forge_Frame  obj;
  if (!d || !u->op_class[op->type] ||
      !lv2_atom_forge_object(forge, &obj, 0u, u->op_class[op->type]) ||
      !write_seq(forge, u, op->seq)) {
    return false;
  }
  if (d->property && !(lv2_atom_forge_key(forge, u->patch_property) &&
                       lv2_atom_forge_urid(forge, u->op_property[op->type]))) {
    return false;
  }
  for (uint32_t i = 0; i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    const float              v = hp_op_number(op, f);
    const bool               chosen =
      f->type == HP_FIELD_VALUE && ((const char*)op + f->alt)[0];
    const bool optional_off =
      (f->text == HP_TEXT_OPTION && v == f->def && !chosen) ||
      (f->text == HP_TEXT_FLAG && v == 0.0f) ||
      (f->text == HP_TEXT_OPTIONAL && !hp_op_cstring(op, f)[0]);
    if (optional_off || (f->type == HP_FIELD_PRIMES && !primes)) {
      continue;
    }
    if (!lv2_atom_forge_key(forge, u->field_key[op->type][i])) {
      return false;
    }
    bool ok = true;
    switch (f->type) {
    case HP_FIELD_ID:
    case HP_FIELD_PORT:
    case HP_FIELD_NAME:
      ok = put_string(forge, hp_op_cstring(op, f));
      break;
    case HP_FIELD_VALUE: {
      const char* const choice = (const char*)op + f->alt;
      ok =
        choice[0] ? put_string(forge, choice) : lv2_atom_forge_float(forge, v);
      break;
    }
    case HP_FIELD_FLOAT:
      ok = lv2_atom_forge_float(forge, v);
      break;
    case HP_FIELD_INT:
      ok = lv2_atom_forge_int(forge, (int32_t)v);
      break;
    case HP_FIELD_BOOL:
      ok = lv2_atom_forge_bool(forge, v != 0.0f);
      break;
    case HP_FIELD_PATH:
      ok = lv2_atom_forge_path(
        forge, hp_op_cstring(op, f), (uint32_t)strlen(hp_op_cstring(op, f)));
      break;
    case HP_FIELD_PRIMES:
      ok = encode_primes(forge, primes, n_primes);
      break;
    }
    if (!ok) {
      return false;
    }
  }
  lv2_atom_forge_pop(forge, &obj);
  return true;
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
hp_atom_write_error(LV2_Atom_Forge* const forge,
                    const HpURIs* const   u,
                    const uint32_t        frame,
                    const int32_t         seq,
                    const char* const     message)
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
begin_set(LV2_Atom_Forge* const       forge,
          const HpURIs* const         u,
          const uint32_t              frame,
          const int32_t               seq,
          const LV2_URID              property,
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
hp_atom_write_history(LV2_Atom_Forge* const forge,
                      const HpURIs* const   u,
                      const uint32_t        frame,
                      const int32_t         seq,
                      const char* const     text,
                      const uint32_t        length)
{
  LV2_Atom_Forge_Frame obj;
  if (!begin_set(forge, u, frame, seq, u->op_property[HP_OP_HISTORY], &obj) ||
      !lv2_atom_forge_string(forge, text, length)) {
    return false;
  }
  lv2_atom_forge_pop(forge, &obj);
  return true;
}

bool
hp_atom_write_patch(LV2_Atom_Forge* const forge,
                    const HpURIs* const   u,
                    const uint32_t        frame,
                    const int32_t         seq,
                    const char* const     text,
                    const uint32_t        length,
                    const char* const     path,
                    const bool            live_reload)
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
hp_atom_write_event(LV2_Atom_Forge* const forge,
                    const HpURIs* const   u,
                    const uint32_t        frame,
                    const HpEvent* const  ev)
{
  if (ev->type == HP_EVENT_ERROR) {
    return hp_atom_write_error(forge, u, frame, ev->seq, ev->message);
  }
  static const size_t n_types = 4;
  const LV2_URID      types[] = {
         u->patch_Ack, u->patch_Error, u->hp_Primed, u->hp_Swapped};
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
