/*
  The one table of protocol operations (see ops.h), and what reads it with
  no face of its own: defaults, the engine's range checks, the lists that
  error messages give, and the README's protocol table.
*/

#include "ops.h"

#include "patch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HP(s) HP_OPS_NS s
#define PATCH(s) HP_OPS_PATCH_NS s

bool
hp_op_uri(const char* const curie, char* const buf, const size_t size)
{
  static const struct {
    const char* prefix;
    const char* ns;
  } prefixes[] = {{"hp:", HP_OPS_NS}, {"patch:", HP_OPS_PATCH_NS}};
  for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); ++i) {
    const size_t n = strlen(prefixes[i].prefix);
    if (!strncmp(curie, prefixes[i].prefix, n)) {
      return (size_t)snprintf(buf, size, "%s%s", prefixes[i].ns, curie + n) <
             size;
    }
  }
  return false;
}

/* Field descriptors.  STR: a string field; NUM: a number with no domain;
   the rest spelled out. */
#define AT(member) offsetof(HpOp, member), sizeof(((HpOp*)0)->member)
#define STR(name, usage, key, type, member)                                 \
  {name, usage, NULL, key, type, HP_TEXT_ARG, AT(member), 0, 0.0f, 0.0f,    \
   0.0f, NULL, false, 0.0f, 0.0f, ""}
#define NUM(name, usage, what, key, member)                                 \
  {name, usage, what, key, HP_FIELD_FLOAT, HP_TEXT_ARG, AT(member), 0,      \
   0.0f, 0.0f, 0.0f, NULL, false, 0.0f, 0.0f, ""}

static const HpFieldDesc create_fields[] = {
  STR("id", "ID", "hp:module", HP_FIELD_ID, create.id),
  STR("type", "TYPE", "hp:type", HP_FIELD_NAME, create.type),
};

static const HpFieldDesc delete_fields[] = {
  STR("id", "ID", "hp:module", HP_FIELD_ID, create.id),
};

static const HpFieldDesc connect_fields[] = {
  STR("source", "SOURCE[:PORT]", "hp:source", HP_FIELD_PORT, connect.source),
  STR("dest", "DEST[:PORT]", "hp:dest", HP_FIELD_PORT, connect.dest),
};

#define SET_VALUE                                                           \
  {"value", "VALUE", "the value", "hp:value", HP_FIELD_VALUE,             \
   HP_TEXT_ARG, AT(set.value), offsetof(HpOp, set.choice), 0.0f, 0.0f,     \
   0.0f, NULL, false, 0.0f, 0.0f, ""}

static const HpFieldDesc set_fields[] = {
  STR("module", "ID", "hp:module", HP_FIELD_ID, set.module),
  STR("param", "PARAM", "hp:param", HP_FIELD_NAME, set.param),
  SET_VALUE,
};

static const HpFieldDesc gate_fields[] = {
  STR("module", "ID", "hp:module", HP_FIELD_ID, set.module),
  NUM("value", "0|1", "gate", "hp:value", set.value),
};

static const HpFieldDesc commit_fields[] = {
  {"warmup", "warmup=BLOCKS", NULL, "hp:warmup", HP_FIELD_INT,
   HP_TEXT_OPTION, AT(commit.warmup), 0, -1.0f, 0.0f, 1000000.0f,
   "a whole number of blocks, 1 to 1024", true, 1.0f, 1024.0f, "blocks"},
  {"crossfade", "crossfade=MS", NULL, "hp:crossfade", HP_FIELD_FLOAT,
   HP_TEXT_OPTION, AT(commit.crossfade_ms), 0, -1.0f, 0.0f, INFINITY,
   "0 ms or more", true, 0.0f, 10000.0f, "ms"},
  {"require_signal", "require_signal", NULL, "hp:requireSignal",
   HP_FIELD_BOOL, HP_TEXT_FLAG, AT(commit.require_signal), 0, 0.0f, 0.0f,
   0.0f, NULL, false, 0.0f, 0.0f, ""},
  {"prime", NULL, NULL, "hp:prime", HP_FIELD_PRIMES, HP_TEXT_NONE, 0, 0, 0,
   0.0f, 0.0f, 0.0f, NULL, false, 0.0f, 0.0f, ""},
};

static const HpFieldDesc macro_fields[] = {
  {"macro", "N", "macro number", "hp:macro", HP_FIELD_INT, HP_TEXT_ARG,
   AT(macro.macro), 0, 0.0f, 0.0f, 1000000.0f, "a whole number, 1 to 8",
   false, 1.0f, 8.0f, ""},
  STR("target", "ID:PARAM", "hp:target", HP_FIELD_PORT, macro.target),
  NUM("lo", "LOW", "low end", "hp:minimum", macro.lo),
  NUM("hi", "HIGH", "high end", "hp:maximum", macro.hi),
  {"curve", "lin|exp", NULL, "hp:curve", HP_FIELD_NAME, HP_TEXT_OPTIONAL,
   AT(macro.curve), 0, 0.0f, 0.0f, 0.0f, NULL, false, 0.0f, 0.0f, ""},
};

static const HpFieldDesc file_fields[] = {
  {"path", NULL, NULL, "patch:value", HP_FIELD_PATH, HP_TEXT_NONE,
   AT(file.text), 0, 0.0f, 0.0f, 0.0f, NULL, false, 0.0f, 0.0f, ""},
};

static const HpFieldDesc reload_fields[] = {
  {"on", NULL, NULL, "patch:value", HP_FIELD_BOOL, HP_TEXT_NONE,
   AT(reload), 0, 0.0f, 0.0f, 0.0f, NULL, false, 0.0f, 0.0f, ""},
};

#define FIELDS(a) a, (uint32_t)(sizeof(a) / sizeof(a[0]))
#define NO_FIELDS NULL, 0u

static const HpOpDesc descs[HP_N_OP_TYPES] = {
  {HP_OP_CREATE, "create", HP("Create"), "hp:Create", NULL, NULL,
   HP_EFFECT_STAGED, true, FIELDS(create_fields),
   "/patch/create osc1 simple_sine", NULL, "stage a module"},
  {HP_OP_DELETE, "delete", HP("Delete"), "hp:Delete", NULL, NULL,
   HP_EFFECT_STAGED, false, FIELDS(delete_fields), "/patch/delete osc1", NULL,
   "stage its removal"},
  {HP_OP_CONNECT, "connect", HP("Connect"), "hp:Connect", NULL, NULL,
   HP_EFFECT_STAGED, true, FIELDS(connect_fields), "/patch/connect osc1 env1",
   NULL,
   "stage a connection (`osc1:out`, `env1:in`, `filt1:cutoff`, `out`, "
   "`out:left`)"},
  {HP_OP_DISCONNECT, "disconnect", HP("Disconnect"), "hp:Disconnect", NULL,
   NULL, HP_EFFECT_STAGED, false, FIELDS(connect_fields),
   "/patch/disconnect osc1 env1", NULL, "stage its removal"},
  {HP_OP_SET, "set", HP("Set"), "hp:Set", NULL, NULL, HP_EFFECT_LIVE, true,
   FIELDS(set_fields), "/patch/set osc1 freq 440", NULL,
   "live (smoothed) on the playing patch, even while the module's deletion "
   "is staged, and recorded for the next commit"},
  {HP_OP_GATE, "gate", HP("Gate"), "hp:Gate", NULL, NULL, HP_EFFECT_LIVE, true,
   FIELDS(gate_fields), "/patch/gate env1 1", NULL, "live"},
  {HP_OP_PRIME_SET, "prime", NULL, NULL, NULL, NULL, HP_EFFECT_PRIME, false,
   FIELDS(set_fields), "/patch/prime env1 gate 1", "a 4-tuple in `hp:prime`",
   "applied to the standby before warm-up"},
  {HP_OP_PRIME_GATE, NULL, NULL, NULL, NULL, NULL, HP_EFFECT_PRIME, false,
   FIELDS(gate_fields), NULL, NULL, NULL},
  {HP_OP_COMMIT, "commit", HP("Commit"), "hp:Commit", NULL, NULL,
   HP_EFFECT_COMMIT, false, FIELDS(commit_fields),
   "/patch/commit warmup=8 crossfade=20 require_signal", NULL,
   "build, prime, warm up, swap"},
  {HP_OP_ABORT, "abort", HP("Abort"), "hp:Abort", NULL, NULL,
   HP_EFFECT_CONTROL, false, NO_FIELDS, "/patch/abort", NULL,
   "drop staged edits, cancel an unswapped standby"},
  {HP_OP_CLEAR, "clear", HP("Clear"), "hp:Clear", NULL, NULL,
   HP_EFFECT_STAGED, false, NO_FIELDS, "/patch/clear", NULL,
   "stage the removal of every module"},
  {HP_OP_MACRO, "macro", HP("Macro"), "hp:Macro", NULL, NULL,
   HP_EFFECT_STAGED, true, FIELDS(macro_fields),
   "/patch/macro 1 filt1:cutoff 200 8000 exp", NULL,
   "stage: macro control 1 moves a parameter over a range, `lin` or `exp`"},
  {HP_OP_LOG, NULL, NULL, NULL, NULL, NULL, HP_EFFECT_INTERNAL, false,
   NO_FIELDS, NULL, NULL, NULL},
  {HP_OP_GET, "get", PATCH("Get"), "patch:Get", NULL, NULL, HP_EFFECT_CONTROL,
   false, NO_FIELDS, NULL, "`patch:Get`",
   "answered with one `patch:Set` per property: `hp:patch` (the playing "
   "patch in this text form), `hp:patchFile`, `hp:liveReload`"},
  {HP_OP_SCENE, NULL, NULL, NULL, NULL, NULL, HP_EFFECT_INTERNAL, false,
   NO_FIELDS, NULL, NULL, NULL},
  {HP_OP_LOAD_FILE, NULL, PATCH("Set"), "patch:Set", HP("patchFile"),
   "hp:patchFile", HP_EFFECT_CONTROL, false, FIELDS(file_fields), NULL,
   "`patch:Set` `hp:patchFile` (atom:Path)",
   "load a patch document, commit its active scene"},
  {HP_OP_LIVE_RELOAD, NULL, PATCH("Set"), "patch:Set", HP("liveReload"),
   "hp:liveReload", HP_EFFECT_CONTROL, false, FIELDS(reload_fields), NULL,
   "`patch:Set` `hp:liveReload` (atom:Bool)",
   "reload the patch file whenever it changes on disk"},
  {HP_OP_TICK, NULL, NULL, NULL, NULL, NULL, HP_EFFECT_INTERNAL, false,
   NO_FIELDS, NULL, NULL, NULL},
};

const HpOpDesc*
hp_op_desc(const HpOpType type)
{
  return (unsigned)type < HP_N_OP_TYPES ? &descs[type] : NULL;
}

float
hp_op_number(const HpOp* const op, const HpFieldDesc* const f)
{
  const char* const at = (const char*)op + f->offset;
  switch (f->type) {
  case HP_FIELD_INT: {
    int32_t v = 0;
    memcpy(&v, at, sizeof(v));
    return (float)v;
  }
  case HP_FIELD_BOOL: {
    bool v = false;
    memcpy(&v, at, sizeof(v));
    return v ? 1.0f : 0.0f;
  }
  case HP_FIELD_FLOAT:
  case HP_FIELD_VALUE: {
    float v = 0.0f;
    memcpy(&v, at, sizeof(v));
    return v;
  }
  default: return 0.0f;
  }
}

void
hp_op_set_number(HpOp* const op, const HpFieldDesc* const f, const float value)
{
  char* const at = (char*)op + f->offset;
  switch (f->type) {
  case HP_FIELD_INT: {
    /* In range first: converting a float beyond int's range is undefined. */
    const int32_t v = value >= -2147483520.0f && value <= 2147483520.0f
                        ? (int32_t)value
                        : 0;
    memcpy(at, &v, sizeof(v));
    break;
  }
  case HP_FIELD_BOOL: {
    const bool v = value != 0.0f;
    memcpy(at, &v, sizeof(v));
    break;
  }
  case HP_FIELD_FLOAT:
  case HP_FIELD_VALUE: memcpy(at, &value, sizeof(value)); break;
  default: break;
  }
}

bool
hp_op_in_domain(const HpFieldDesc* const f, const float value)
{
  if (f->type == HP_FIELD_INT && !(value == floorf(value))) {
    return false;
  }
  return !f->expects || (value >= f->dom_min && value <= f->dom_max);
}

int
hp_op_find_command(const char* const name, const size_t len)
{
  for (int i = 0; i < (int)HP_N_OP_TYPES; ++i) {
    const char* const n = descs[i].name;
    if (n && strlen(n) == len && !strncmp(n, name, len)) {
      return i;
    }
  }
  return -1;
}

void
hp_op_init(HpOp* const op, const HpOpType type)
{
  memset(op, 0, sizeof(*op));
  op->type = type;
  op->seq  = HP_NO_SEQ;
  const HpOpDesc* const d = hp_op_desc(type);
  for (uint32_t i = 0; d && i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    if (f->def != 0.0f) {
      hp_op_set_number(op, f, f->def);
    }
  }
  if (type == HP_OP_GATE || type == HP_OP_PRIME_GATE) {
    memcpy(op->set.param, "gate", 5u);
  }
}

HpStatus
hp_op_check(const HpOp* const op, HpError* const err)
{
  const HpOpDesc* const d = hp_op_desc(op->type);
  for (uint32_t i = 0; d && i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    const float              v = hp_op_number(op, f);
    /* A negative default means "unset" (hotpatch.h): any negative is. */
    const bool unset = f->def < 0.0f ? v < 0.0f : v == f->def;
    if (!f->checked || unset || (v >= f->min && v <= f->max)) {
      continue;
    }
    /* Counts read "hp:warmup 0 is ...", quantities "hp:crossfade 5 ms". */
    const bool count = f->type == HP_FIELD_INT;
    return hp_error(err, HP_ERR_BAD_VALUE, "%s %g%s%s is out of range %g..%g %s",
                    f->key, (double)v, count ? "" : " ",
                    count ? "" : f->unit, (double)f->min, (double)f->max,
                    f->unit);
  }
  return HP_SUCCESS;
}

/* Append a formatted string to buf at *len, like snprintf. */
#define APPEND(...)                                                        \
  len += (size_t)snprintf(buf ? buf + (len < size ? len : size) : NULL,     \
                          len < size ? size - len : 0, __VA_ARGS__)

size_t
hp_op_write_text(const HpOp* const op, char* const buf, const size_t size)
{
  const HpOpDesc* const d   = hp_op_desc(op->type);
  size_t                len = 0;
  if (buf && size) {
    buf[0] = '\0';
  }
  if (!d || !d->name) {
    return 0;
  }
  APPEND("/patch/%s", d->name);
  for (uint32_t i = 0; i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    const float              v = hp_op_number(op, f);
    char                     number[32];
    hp_float_text(v, number);
    if (f->type == HP_FIELD_INT) {
      snprintf(number, sizeof(number), "%d", (int)v);
    }
    switch (f->text) {
    case HP_TEXT_NONE: break;
    case HP_TEXT_ARG:
    case HP_TEXT_OPTIONAL:
      if (f->type == HP_FIELD_VALUE && ((const char*)op + f->alt)[0]) {
        APPEND(" %s", (const char*)op + f->alt);
      } else if (f->type <= HP_FIELD_NAME || f->type == HP_FIELD_PATH) {
        if (f->text == HP_TEXT_ARG || hp_op_cstring(op, f)[0]) {
          APPEND(" %s", hp_op_cstring(op, f));
        }
      } else {
        APPEND(" %s", number);
      }
      break;
    case HP_TEXT_OPTION:
      if (v != f->def) {
        APPEND(" %s=%s", f->name, number);
      }
      break;
    case HP_TEXT_FLAG:
      if (v != 0.0f) {
        APPEND(" %s", f->name);
      }
      break;
    }
  }
  APPEND("\n");
  return len;
}

void
hp_op_list(const HpOpList which, char* const buf, const size_t size)
{
  const char* items[HP_N_OP_TYPES] = {NULL};
  size_t      n = 0;
  for (uint32_t i = 0; i < HP_N_OP_TYPES; ++i) {
    const HpOpDesc* const d    = &descs[i];
    const char* const     item = which == HP_LIST_COMMANDS ? d->name
                                 : which == HP_LIST_DOCUMENT && !d->in_document
                                   ? NULL
                                   : d->class_curie;
    bool seen = !item;
    for (size_t k = 0; k < n && !seen; ++k) {
      seen = !strcmp(items[k], item);
    }
    if (!seen) {
      items[n++] = item;
    }
  }
  size_t len = 0;
  buf[0]     = '\0';
  for (size_t k = 0; k < n; ++k) {
    const char* const sep = !k                                    ? ""
                            : k + 1u == n && which != HP_LIST_COMMANDS ? " or "
                                                                       : ", ";
    APPEND("%s%s", sep, items[k]);
  }
}

size_t
hp_ops_write_markdown(char* const buf, const size_t size)
{
  size_t len = 0;
  APPEND("| text form | atom | effect |\n|---|---|---|\n");
  for (uint32_t i = 0; i < HP_N_OP_TYPES; ++i) {
    const HpOpDesc* const d = &descs[i];
    if (!d->doc) {
      continue;
    }
    APPEND("|");
    if (d->example) {
      APPEND(" `%s` |", d->example);
    } else {
      APPEND(" |");
    }
    if (d->atom_doc) {
      APPEND(" %s |", d->atom_doc);
    } else {
      APPEND(" `%s` |", d->class_curie);
    }
    APPEND(" %s |\n", d->doc);
  }
  return len;
}
