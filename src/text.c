/*
  The text form of the patch protocol, one operation per line:
    /patch/create osc1 simple_sine     /patch/delete osc1
    /patch/connect osc1 env1           /patch/disconnect osc1 env1
    /patch/set osc1 freq 440           /patch/set filt1 mode highpass
    /patch/gate env1 1                 /patch/prime osc1 freq 440
    /patch/commit [warmup=8] [crossfade=20] [require_signal]
    /patch/abort                       /patch/clear
    /patch/macro 1 filt1:cutoff 200 8000 exp
  The "/patch/" prefix is optional.  '#' starts a comment.
*/

#include "hotpatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 8

typedef struct {
  const char* text[MAX_TOKENS];
  size_t      len[MAX_TOKENS];
  size_t      column[MAX_TOKENS]; /* 1-based */
  unsigned    count;
} Tokens;

static HpStatus
tokenize(const char* const line, Tokens* const t, HpError* const err)
{
  t->count = 0;
  for (const char* p = line; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\r') {
      ++p;
    }
    if (!*p || *p == '#') {
      break;
    }
    if (t->count == MAX_TOKENS) {
      return hp_error(err, HP_ERR_SYNTAX, "column %zu: too many words",
                      (size_t)(p - line) + 1u);
    }
    const char* start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
      ++p;
    }
    t->text[t->count]   = start;
    t->len[t->count]    = (size_t)(p - start);
    t->column[t->count] = (size_t)(start - line) + 1u;
    ++t->count;
  }
  return HP_SUCCESS;
}

static HpStatus
copy_token(const Tokens* const t, const unsigned i, char* const dst,
           HpError* const err)
{
  if (t->len[i] >= HP_NAME_MAX) {
    return hp_error(err, HP_ERR_TOO_LARGE,
                    "column %zu: '%.20s...' is longer than %u bytes",
                    t->column[i], t->text[i], HP_NAME_MAX - 1u);
  }
  memcpy(dst, t->text[i], t->len[i]);
  dst[t->len[i]] = '\0';
  return HP_SUCCESS;
}

static bool
parse_float(const char* const text, const size_t len, float* const value)
{
  char buf[64];
  if (len == 0 || len >= sizeof(buf)) {
    return false;
  }
  memcpy(buf, text, len);
  buf[len]  = '\0';
  char* end = NULL;
  *value    = strtof(buf, &end);
  return end == buf + len;
}

static HpStatus
number(const Tokens* const t, const unsigned i, const char* const what,
       float* const value, HpError* const err)
{
  if (!parse_float(t->text[i], t->len[i], value)) {
    return hp_error(err, HP_ERR_SYNTAX,
                    "column %zu: expected a number for the %s, got '%.*s'",
                    t->column[i], what, (int)(t->len[i] < 40 ? t->len[i] : 40),
                    t->text[i]);
  }
  return HP_SUCCESS;
}

typedef struct {
  const char* name;
  HpOpType    type;
  unsigned    min_args;
  unsigned    max_args;
  const char* usage;
} Command;

static const Command commands[] = {
  {"create", HP_OP_CREATE, 2, 2, "create ID TYPE"},
  {"delete", HP_OP_DELETE, 1, 1, "delete ID"},
  {"connect", HP_OP_CONNECT, 2, 2, "connect SOURCE[:PORT] DEST[:PORT]"},
  {"disconnect", HP_OP_DISCONNECT, 2, 2, "disconnect SOURCE[:PORT] DEST[:PORT]"},
  {"set", HP_OP_SET, 3, 3, "set ID PARAM VALUE"},
  {"gate", HP_OP_GATE, 2, 2, "gate ID 0|1"},
  {"prime", HP_OP_PRIME_SET, 3, 3, "prime ID PARAM VALUE"},
  {"commit", HP_OP_COMMIT, 0, 3,
   "commit [warmup=BLOCKS] [crossfade=MS] [require_signal]"},
  {"abort", HP_OP_ABORT, 0, 0, "abort"},
  {"clear", HP_OP_CLEAR, 0, 0, "clear"},
  {"macro", HP_OP_MACRO, 4, 5, "macro N ID:PARAM LOW HIGH [lin|exp]"},
};

static HpStatus
commit_option(const Tokens* const t, const unsigned i, HpOp* const op,
              HpError* const err)
{
  const char* eq  = memchr(t->text[i], '=', t->len[i]);
  const size_t key = eq ? (size_t)(eq - t->text[i]) : t->len[i];
  const char* val = eq ? eq + 1 : NULL;
  const size_t vlen = eq ? t->len[i] - key - 1u : 0u;
  float value = 1.0f;
  if (val && !parse_float(val, vlen, &value)) {
    return hp_error(err, HP_ERR_SYNTAX, "column %zu: '%.*s' is not a number",
                    t->column[i] + key + 1u, (int)(vlen < 40 ? vlen : 40), val);
  }
  if (key == 6 && !strncmp(t->text[i], "warmup", 6) && val) {
    /* Range first: converting a float beyond int's range is undefined. */
    if (!(value >= 0.0f && value <= 1000000.0f) || value != floorf(value)) {
      return hp_error(err, HP_ERR_BAD_VALUE,
                      "column %zu: warmup takes a whole number of blocks, 1 "
                      "to 1024",
                      t->column[i]);
    }
    op->warmup = (int32_t)value;
  } else if (key == 9 && !strncmp(t->text[i], "crossfade", 9) && val) {
    if (!(value >= 0.0f)) {
      return hp_error(err, HP_ERR_BAD_VALUE,
                      "column %zu: crossfade must be 0 ms or more",
                      t->column[i]);
    }
    op->crossfade_ms = value;
  } else if (key == 14 && !strncmp(t->text[i], "require_signal", 14)) {
    op->require_signal = value != 0.0f;
  } else {
    return hp_error(err, HP_ERR_SYNTAX,
                    "column %zu: unknown commit option '%.*s'; use "
                    "warmup=BLOCKS, crossfade=MS or require_signal",
                    t->column[i], (int)(t->len[i] < 40 ? t->len[i] : 40),
                    t->text[i]);
  }
  return HP_SUCCESS;
}

HpStatus
hp_op_parse_text(const char* const line, HpOp* const op, HpError* const err)
{
  Tokens   t;
  HpStatus st = tokenize(line, &t, err);
  if (st) {
    return st;
  }
  if (!t.count) {
    hp_error(err, HP_ERR_NOTHING_STAGED, "%s", "");
    return HP_ERR_NOTHING_STAGED;
  }
  const char* word = t.text[0];
  size_t      wlen = t.len[0];
  if (wlen > 7 && !strncmp(word, "/patch/", 7)) {
    word += 7;
    wlen -= 7;
  }
  const Command* cmd = NULL;
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); ++i) {
    if (strlen(commands[i].name) == wlen &&
        !strncmp(commands[i].name, word, wlen)) {
      cmd = &commands[i];
    }
  }
  if (!cmd) {
    return hp_error(err, HP_ERR_SYNTAX,
                    "column 1: unknown command '%.*s'; commands: create, "
                    "delete, connect, disconnect, set, gate, prime, commit, "
                    "abort, clear, macro",
                    (int)(t.len[0] < 40 ? t.len[0] : 40), t.text[0]);
  }
  const unsigned nargs = t.count - 1u;
  if (nargs < cmd->min_args || nargs > cmd->max_args) {
    return hp_error(err, HP_ERR_SYNTAX, "column 1: usage: /patch/%s",
                    cmd->usage);
  }
  hp_op_init(op, cmd->type);
  switch (cmd->type) {
  case HP_OP_CREATE:
  case HP_OP_CONNECT:
  case HP_OP_DISCONNECT:
    if ((st = copy_token(&t, 1, op->module, err)) ||
        (st = copy_token(&t, 2, op->arg, err))) {
      return st;
    }
    break;
  case HP_OP_DELETE: return copy_token(&t, 1, op->module, err);
  case HP_OP_SET:
  case HP_OP_PRIME_SET:
    if ((st = copy_token(&t, 1, op->module, err)) ||
        (st = copy_token(&t, 2, op->arg, err))) {
      return st;
    }
    if (!parse_float(t.text[3], t.len[3], &op->value)) {
      /* Not a number: an enum choice by name ("highpass"). */
      if ((st = copy_token(&t, 3, op->arg2, err))) {
        return st;
      }
    }
    if (cmd->type == HP_OP_PRIME_SET && !strcmp(op->arg, "gate")) {
      op->type = HP_OP_PRIME_GATE;
    }
    break;
  case HP_OP_GATE:
    if ((st = copy_token(&t, 1, op->module, err)) ||
        (st = number(&t, 2, "gate", &op->value, err))) {
      return st;
    }
    break;
  case HP_OP_COMMIT:
    for (unsigned i = 1; i < t.count; ++i) {
      if ((st = commit_option(&t, i, op, err))) {
        return st;
      }
    }
    break;
  case HP_OP_MACRO: {
    float index = 0.0f;
    if ((st = number(&t, 1, "macro number", &index, err)) ||
        (st = copy_token(&t, 2, op->module, err)) ||
        (st = number(&t, 3, "low end", &op->lo, err)) ||
        (st = number(&t, 4, "high end", &op->hi, err)) ||
        (t.count > 5 && (st = copy_token(&t, 5, op->arg2, err)))) {
      return st;
    }
    op->macro = index >= 0.0f && index < 1000.0f ? (uint32_t)index : 0u;
    break;
  }
  default: break;
  }
  return HP_SUCCESS;
}
