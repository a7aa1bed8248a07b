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

/* Field descriptors: one row a field.  STR: a string; NUM: a number
   with no domain of its own. */
#define AT(member) \
  .offset = offsetof(HpOp, member), .size = sizeof(((HpOp*)0)->member)
#define STR(name_, usage_, key_, type_, member)                 \
  {                                                             \
    .name = name_, .usage = usage_, .key = key_, .type = type_, \
    .text = HP_TEXT_ARG, AT(member)                             \
  }
#define NUM(name_, usage_, what_, key_, member)                 \
  {                                                             \
    .name = name_, .usage = usage_, .what = what_, .key = key_, \
    .type = HP_FIELD_FLOAT, .text = HP_TEXT_ARG, AT(member)     \
  }

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

static const HpFieldDesc set_fields[] = {
  STR("module", "ID", "hp:module", HP_FIELD_ID, set.module),
  STR("param", "PARAM", "hp:param", HP_FIELD_NAME, set.param),
  {.name  = "value",
   .usage = "VALUE",
   .key   = "hp:value",
   .type  = HP_FIELD_VALUE, /* a number, or a choice by name at .alt */
   .text  = HP_TEXT_ARG,
   AT(set.value),
   .alt = offsetof(HpOp, set.choice)},
};

static const HpFieldDesc gate_fields[] = {
  STR("module", "ID", "hp:module", HP_FIELD_ID, set.module),
  NUM("value", "0|1", "gate", "hp:value", set.value),
};

static const char* const quant_choices[] = {"beat", "bar", NULL};

/* A commit's options: hp:Commit's and hp:Revert's. */
#define COMMIT_OPTIONS                                                    \
  {.name  = "warmup",                                                     \
   .usage = "warmup=BLOCKS",                                              \
   .key   = "hp:warmup",                                                  \
   .type  = HP_FIELD_INT,                                                 \
   .text  = HP_TEXT_OPTION,                                               \
   AT(commit.warmup),                                                     \
   .def     = -1.0f, /* unset: 8 blocks */                                \
   .dom_min = 0.0f,                                                       \
   .dom_max = 1000000.0f,                                                 \
   .expects = "a whole number of blocks, 1 to 1024",                      \
   .checked = true,                                                       \
   .min     = 1.0f,                                                       \
   .max     = 1024.0f,                                                    \
   .unit    = "blocks"},                                                     \
    {.name  = "crossfade",                                                \
     .usage = "crossfade=MS",                                             \
     .key   = "hp:crossfade",                                             \
     .type  = HP_FIELD_FLOAT,                                             \
     .text  = HP_TEXT_OPTION,                                             \
     AT(commit.crossfade_ms),                                             \
     .def     = -1.0f, /* unset: the crossfade control's value */         \
     .dom_min = 0.0f,                                                     \
     .dom_max = INFINITY,                                                 \
     .expects = "0 ms or more",                                           \
     .checked = true,                                                     \
     .min     = 0.0f,                                                     \
     .max     = HP_MAX_CROSSFADE_MS,                                      \
     .unit    = "ms"},                                                       \
    {.name  = "require_signal",                                           \
     .usage = "require_signal",                                           \
     .key   = "hp:requireSignal",                                         \
     .type  = HP_FIELD_BOOL,                                              \
     .text  = HP_TEXT_FLAG,                                               \
     AT(commit.require_signal)},                                          \
    {.name  = "tail",                                                     \
     .usage = "tail",                                                     \
     .key   = "hp:tail",                                                  \
     .type  = HP_FIELD_BOOL,                                              \
     .text  = HP_TEXT_FLAG,                                               \
     AT(commit.tail)},                                                    \
  {                                                                       \
    .name = "quant", .usage = "quant=beat|bar|BEATS", .key = "hp:quant",  \
    .type = HP_FIELD_VALUE, .text = HP_TEXT_OPTION, AT(commit.quant),     \
    .alt = offsetof(HpOp, commit.quant_choice), .choices = quant_choices, \
    .dom_min = 0.0f, .dom_max = 1000000.0f,                               \
    .expects = "beat, bar or a number of beats", .checked = true,         \
    .min = 0.0625f, .max = 1024.0f, .unit = "beats"                       \
  }

static const HpFieldDesc commit_fields[] = {
  COMMIT_OPTIONS,
  {.name = "prime", .key = "hp:prime", .type = HP_FIELD_PRIMES},
};

static const HpFieldDesc revert_fields[] = {
  {.name  = "steps",
   .usage = "N",
   .what  = "number of commits",
   .key   = "hp:steps",
   .type  = HP_FIELD_INT,
   .text  = HP_TEXT_OPTIONAL,
   AT(commit.steps),
   .def     = 1.0f,
   .dom_max = 1000000.0f,
   .expects = "a whole number of commits, 1 to 15",
   .checked = true,
   .min     = 1.0f,
   .max     = (float)(HP_HISTORY - 1u),
   .unit    = "commits"},
  COMMIT_OPTIONS,
};

static const HpFieldDesc macro_fields[] = {
  {.name  = "macro",
   .usage = "N",
   .what  = "macro number",
   .key   = "hp:macro",
   .type  = HP_FIELD_INT,
   .text  = HP_TEXT_ARG,
   AT(macro.macro),
   .dom_max = 1000000.0f,
   .expects = "a whole number, 1 to 8", /* the range: patch.c, with its own
                                            message */
   .min = 1.0f,
   .max = (float)HP_N_MACROS},
  STR("target", "ID:PARAM", "hp:target", HP_FIELD_PORT, macro.target),
  NUM("lo", "LOW", "low end", "hp:minimum", macro.lo),
  NUM("hi", "HIGH", "high end", "hp:maximum", macro.hi),
  {.name  = "curve",
   .usage = "lin|exp",
   .key   = "hp:curve",
   .type  = HP_FIELD_NAME,
   .text  = HP_TEXT_OPTIONAL,
   AT(macro.curve)},
};

static const HpFieldDesc voices_fields[] = {
  {.name  = "count",
   .usage = "N",
   .what  = "voice count",
   .key   = "hp:count",
   .type  = HP_FIELD_INT,
   .text  = HP_TEXT_ARG,
   AT(voices),
   .def     = 1.0f,
   .dom_max = 1000000.0f,
   .expects = "a whole number, 1 to 32", /* the range: patch.c */
   .min     = 1.0f,
   .max     = (float)HP_MAX_VOICES},
};

static const HpFieldDesc file_fields[] = {
  {.name = "path", .key = "patch:value", .type = HP_FIELD_PATH, AT(file.text)},
};

static const HpFieldDesc reload_fields[] = {
  {.name = "on", .key = "patch:value", .type = HP_FIELD_BOOL, AT(reload)},
};

#define FIELDS(a) .fields = a, .n_fields = (uint32_t)(sizeof(a) / sizeof(a[0]))

/* Operation descriptors, by type. */
static const HpOpDesc descs[HP_N_OP_TYPES] = {
  [HP_OP_CREATE]     = {.type        = HP_OP_CREATE,
                        .name        = "create",
                        .class_uri   = HP("Create"),
                        .class_curie = "hp:Create",
                        .effect      = HP_EFFECT_STAGED,
                        .in_document = true,
                        FIELDS(create_fields),
                        .example = "/patch/create osc1 simple_sine",
                        .doc     = "stage a module"},
  [HP_OP_DELETE]     = {.type        = HP_OP_DELETE,
                        .name        = "delete",
                        .class_uri   = HP("Delete"),
                        .class_curie = "hp:Delete",
                        .effect      = HP_EFFECT_STAGED,
                        FIELDS(delete_fields),
                        .example = "/patch/delete osc1",
                        .doc     = "stage its removal"},
  [HP_OP_CONNECT]    = {.type        = HP_OP_CONNECT,
                        .name        = "connect",
                        .class_uri   = HP("Connect"),
                        .class_curie = "hp:Connect",
                        .effect      = HP_EFFECT_STAGED,
                        .in_document = true,
                        FIELDS(connect_fields),
                        .example = "/patch/connect osc1 env1",
                        .doc     = "stage a connection (`osc1:out`, `env1:in`, "
                                      "`filt1:cutoff`, `out`, `out:left`)"},
  [HP_OP_DISCONNECT] = {.type        = HP_OP_DISCONNECT,
                        .name        = "disconnect",
                        .class_uri   = HP("Disconnect"),
                        .class_curie = "hp:Disconnect",
                        .effect      = HP_EFFECT_STAGED,
                        FIELDS(connect_fields),
                        .example = "/patch/disconnect osc1 env1",
                        .doc     = "stage its removal"},
  [HP_OP_SET]        = {.type        = HP_OP_SET,
                        .name        = "set",
                        .class_uri   = HP("Set"),
                        .class_curie = "hp:Set",
                        .effect      = HP_EFFECT_LIVE,
                        .in_document = true,
                        FIELDS(set_fields),
                        .example = "/patch/set osc1 freq 440",
                        .doc     = "live (smoothed) on the playing patch, even while "
                                          "the module's deletion is staged, and recorded "
                                          "for the next commit"},
  [HP_OP_GATE]       = {.type        = HP_OP_GATE,
                        .name        = "gate",
                        .class_uri   = HP("Gate"),
                        .class_curie = "hp:Gate",
                        .effect      = HP_EFFECT_LIVE,
                        .in_document = true,
                        FIELDS(gate_fields),
                        .example = "/patch/gate env1 1",
                        .doc     = "live"},
  /* Prime ops ride in hp:Commit's hp:prime as (op, module, param, value):
     the text command is "prime"; "prime ID gate V" reads as a prime gate. */
  [HP_OP_PRIME_SET]   = {.type   = HP_OP_PRIME_SET,
                         .name   = "prime",
                         .effect = HP_EFFECT_PRIME,
                         FIELDS(set_fields),
                         .example  = "/patch/prime env1 gate 1",
                         .atom_doc = "a 4-tuple in `hp:prime`",
                         .doc      = "applied to the standby before warm-up"},
  [HP_OP_PRIME_GATE]  = {.type   = HP_OP_PRIME_GATE,
                         .effect = HP_EFFECT_PRIME,
                         FIELDS(gate_fields)},
  [HP_OP_COMMIT]      = {.type        = HP_OP_COMMIT,
                         .name        = "commit",
                         .class_uri   = HP("Commit"),
                         .class_curie = "hp:Commit",
                         .effect      = HP_EFFECT_COMMIT,
                         FIELDS(commit_fields),
                         .example =
                           "/patch/commit warmup=8 crossfade=20 require_signal",
                         .doc = "build, prime, warm up, swap (`tail`: no "
                                     "crossfade; the old patch rings out its "
                                     "sounding voices, new notes play the new "
                                     "one; `quant=bar`, `beat` or a number of "
                                     "beats: swap on the host's next such "
                                     "boundary)"},
  [HP_OP_ABORT]       = {.type        = HP_OP_ABORT,
                         .name        = "abort",
                         .class_uri   = HP("Abort"),
                         .class_curie = "hp:Abort",
                         .effect      = HP_EFFECT_CONTROL,
                         .example     = "/patch/abort",
                         .doc = "drop staged edits, cancel an unswapped standby"},
  [HP_OP_CLEAR]       = {.type        = HP_OP_CLEAR,
                         .name        = "clear",
                         .class_uri   = HP("Clear"),
                         .class_curie = "hp:Clear",
                         .effect      = HP_EFFECT_STAGED,
                         .example     = "/patch/clear",
                         .doc         = "stage the removal of every module"},
  [HP_OP_MACRO]       = {.type        = HP_OP_MACRO,
                         .name        = "macro",
                         .class_uri   = HP("Macro"),
                         .class_curie = "hp:Macro",
                         .effect      = HP_EFFECT_STAGED,
                         .in_document = true,
                         FIELDS(macro_fields),
                         .example = "/patch/macro 1 filt1:cutoff 200 8000 exp",
                         .doc     = "stage: macro control 1 moves a parameter over "
                                          "a range, `lin` or `exp`"},
  [HP_OP_LOG]         = {.type = HP_OP_LOG, .effect = HP_EFFECT_INTERNAL},
  [HP_OP_GET]         = {.type        = HP_OP_GET,
                         .name        = "get",
                         .class_uri   = PATCH("Get"),
                         .class_curie = "patch:Get",
                         .effect      = HP_EFFECT_CONTROL,
                         .atom_doc    = "`patch:Get`",
                         .doc         = "answered with one `patch:Set` per property: "
                                                "`hp:patch` (the playing patch in this text "
                                                "form), `hp:patchFile`, `hp:liveReload`"},
  [HP_OP_SCENE]       = {.type = HP_OP_SCENE, .effect = HP_EFFECT_INTERNAL},
  [HP_OP_LOAD_FILE]   = {.type           = HP_OP_LOAD_FILE,
                         .class_uri      = PATCH("Set"),
                         .class_curie    = "patch:Set",
                         .property       = HP("patchFile"),
                         .property_curie = "hp:patchFile",
                         .effect         = HP_EFFECT_CONTROL,
                         FIELDS(file_fields),
                         .atom_doc = "`patch:Set` `hp:patchFile` (atom:Path)",
                         .doc = "load a patch document, commit its active scene"},
  [HP_OP_LIVE_RELOAD] = {.type           = HP_OP_LIVE_RELOAD,
                         .class_uri      = PATCH("Set"),
                         .class_curie    = "patch:Set",
                         .property       = HP("liveReload"),
                         .property_curie = "hp:liveReload",
                         .effect         = HP_EFFECT_CONTROL,
                         FIELDS(reload_fields),
                         .atom_doc = "`patch:Set` `hp:liveReload` (atom:Bool)",
                         .doc      = "reload the patch file whenever it "
                                     "changes on disk"},
  [HP_OP_TICK]        = {.type = HP_OP_TICK, .effect = HP_EFFECT_INTERNAL},
  [HP_OP_REVERT]      = {.type        = HP_OP_REVERT,
                         .name        = "revert",
                         .class_uri   = HP("Revert"),
                         .class_curie = "hp:Revert",
                         .effect      = HP_EFFECT_COMMIT,
                         FIELDS(revert_fields),
                         .example = "/patch/revert 1 quant=bar",
                         .doc     = "commit the patch committed N commits ago "
                                         "(default 1: twice toggles A/B; the last 16 "
                                         "are kept), with a commit's options"},
  [HP_OP_HISTORY]     = {.type           = HP_OP_HISTORY,
                         .name           = "history",
                         .class_uri      = PATCH("Get"),
                         .class_curie    = "patch:Get",
                         .property       = HP("history"),
                         .property_curie = "hp:history",
                         .effect         = HP_EFFECT_CONTROL,
                         .example        = "/patch/history",
                         .atom_doc       = "`patch:Get` `hp:history`",
                         .doc = "answered with `patch:Set` `hp:history`: the "
                                    "kept patches, newest first, in this text "
                                    "form, each after a `# N` line (`revert N` "
                                    "plays it)"},
  [HP_OP_VOICES]      = {.type        = HP_OP_VOICES,
                         .name        = "voices",
                         .class_uri   = HP("Voices"),
                         .class_curie = "hp:Voices",
                         .effect      = HP_EFFECT_STAGED,
                         .in_document = true,
                         FIELDS(voices_fields),
                         .example = "/patch/voices 8",
                         .doc     = "stage the number of voices, 1 to 32: "
                                         "modules fed by `midi` play once per voice"},
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
  default:
    return 0.0f;
  }
}

void
hp_op_set_number(HpOp* const op, const HpFieldDesc* const f, const float value)
{
  char* const at = (char*)op + f->offset;
  switch (f->type) {
  case HP_FIELD_INT: {
    /* In range first: converting a float beyond int's range is undefined. */
    const int32_t v =
      value >= -2147483520.0f && value <= 2147483520.0f ? (int32_t)value : 0;
    memcpy(at, &v, sizeof(v));
    break;
  }
  case HP_FIELD_BOOL: {
    const bool v = value != 0.0f;
    memcpy(at, &v, sizeof(v));
    break;
  }
  case HP_FIELD_FLOAT:
  case HP_FIELD_VALUE:
    memcpy(at, &value, sizeof(value));
    break;
  default:
    break;
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
  op->type                = type;
  op->seq                 = HP_NO_SEQ;
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

float
hp_op_quant(const HpCommitOp* const commit)
{
  if (!strcmp(commit->quant_choice, "bar")) {
    return HP_QUANT_BAR;
  }
  return !strcmp(commit->quant_choice, "beat") ? 1.0f : commit->quant;
}

HpStatus
hp_op_check(const HpOp* const op, HpError* const err)
{
  const HpOpDesc* const d = hp_op_desc(op->type);
  for (uint32_t i = 0; d && i < d->n_fields; ++i) {
    const HpFieldDesc* const f = &d->fields[i];
    const float              v = hp_op_number(op, f);
    const char* const        choice =
      f->type == HP_FIELD_VALUE ? (const char*)op + f->alt : "";
    if (choice[0]) {
      bool known = false;
      for (const char* const* c = f->choices; c && *c && !known; ++c) {
        known = !strcmp(*c, choice);
      }
      if (!known) {
        return hp_error(err,
                        HP_ERR_BAD_VALUE,
                        "%s '%.64s' is not %s",
                        f->key,
                        choice,
                        f->expects);
      }
      continue;
    }
    /* A negative default means "unset" (engine.h): any negative is. */
    const bool unset = f->def < 0.0f ? v < 0.0f : v == f->def;
    if (!f->checked || unset || (v >= f->min && v <= f->max)) {
      continue;
    }
    /* Counts read "hp:warmup 0 is ...", quantities "hp:crossfade 5 ms". */
    const bool count = f->type == HP_FIELD_INT;
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "%s %g%s%s is out of range %g..%g %s",
                    f->key,
                    (double)v,
                    count ? "" : " ",
                    count ? "" : f->unit,
                    (double)f->min,
                    (double)f->max,
                    f->unit);
  }
  return HP_SUCCESS;
}

/* Append a formatted string to buf at *len, like snprintf. */
#define APPEND(...)                                                     \
  len += (size_t)snprintf(buf ? buf + (len < size ? len : size) : NULL, \
                          len < size ? size - len : 0,                  \
                          __VA_ARGS__)

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
    case HP_TEXT_NONE:
      break;
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
      if (f->type == HP_FIELD_VALUE && ((const char*)op + f->alt)[0]) {
        APPEND(" %s=%s", f->name, (const char*)op + f->alt);
      } else if (v != f->def) {
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
  size_t      n                    = 0;
  for (uint32_t i = 0; i < HP_N_OP_TYPES; ++i) {
    const HpOpDesc* const d    = &descs[i];
    const char* const     item = which == HP_LIST_COMMANDS ? d->name
                                 : which == HP_LIST_DOCUMENT && !d->in_document
                                   ? NULL
                                   : d->class_curie;
    bool                  seen = !item;
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
    const char* const sep = !k                                         ? ""
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
