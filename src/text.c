/*
  The text form of the patch protocol, one operation per line:
    /patch/create osc1 simple_sine     /patch/delete osc1
    /patch/connect osc1 env1           /patch/disconnect osc1 env1
    /patch/set osc1 freq 440           /patch/set filt1 mode highpass
    /patch/gate env1 1                 /patch/prime osc1 freq 440
    /patch/commit [warmup=8] [crossfade=20] [require_signal]
    /patch/abort                       /patch/clear
    /patch/macro 1 filt1:cutoff 200 8000 exp
    /patch/get
  The "/patch/" prefix is optional.  '#' starts a comment.  Generic code
  over the table of operations (src/ops.c): each field's text form
  (positional, optional, option=VALUE or flag) and type decide how a word
  is read.
*/

#include "engine.h"
#include "ops.h"

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
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
      ++p;
    }
    if (!*p || *p == '#') {
      break;
    }
    if (t->count == MAX_TOKENS) {
      return hp_error(err,
                      HP_ERR_SYNTAX,
                      "column %zu: too many words",
                      (size_t)(p - line) + 1u);
    }
    const char* start = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
      ++p;
    }
    t->text[t->count]   = start;
    t->len[t->count]    = (size_t)(p - start);
    t->column[t->count] = (size_t)(start - line) + 1u;
    ++t->count;
  }
  return HP_SUCCESS;
}

/* A word (at 1-based `column`) into a name buffer of HP_NAME_MAX bytes. */
static HpStatus
copy_word(const char* const text,
          const size_t      len,
          const size_t      column,
          char* const       dst,
          HpError* const    err)
{
  if (len >= HP_NAME_MAX) {
    return hp_error(err,
                    HP_ERR_TOO_LARGE,
                    "column %zu: '%.20s...' is longer than %u bytes",
                    column,
                    text,
                    HP_NAME_MAX - 1u);
  }
  memcpy(dst, text, len);
  dst[len] = '\0';
  return HP_SUCCESS;
}

static HpStatus
copy_token(const Tokens* const t,
           const unsigned      i,
           char* const         dst,
           HpError* const      err)
{
  return copy_word(t->text[i], t->len[i], t->column[i], dst, err);
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

/* Store `value` (read at word i) in field `f`, in its domain unless
   `unchecked` (a whole number for an int field even then). */
static HpStatus
store_number(const Tokens* const      t,
             const unsigned           i,
             const HpFieldDesc* const f,
             const float              value,
             HpOp* const              op,
             const bool               unchecked,
             HpError* const           err)
{
  if (unchecked ? f->type == HP_FIELD_INT && value != floorf(value)
                : !hp_op_in_domain(f, value)) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "column %zu: %s must be %s",
                    t->column[i],
                    f->name,
                    f->expects);
  }
  hp_op_set_number(op, f, value);
  return HP_SUCCESS;
}

/* A number for field `f` at word i, in its domain unless `unchecked`. */
static HpStatus
number_field(const Tokens* const      t,
             const unsigned           i,
             const HpFieldDesc* const f,
             HpOp* const              op,
             const bool               unchecked,
             HpError* const           err)
{
  float value = 0.0f;
  if (!parse_float(t->text[i], t->len[i], &value)) {
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "column %zu: expected a number for the %s, got '%.*s'",
                    t->column[i],
                    f->what ? f->what : f->name,
                    (int)(t->len[i] < 40 ? t->len[i] : 40),
                    t->text[i]);
  }
  return store_number(t, i, f, value, op, unchecked, err);
}

/* A positional word into its field. */
static HpStatus
positional(const Tokens* const      t,
           const unsigned           i,
           const HpFieldDesc* const f,
           HpOp* const              op,
           const bool               unchecked,
           HpError* const           err)
{
  switch (f->type) {
  case HP_FIELD_VALUE: {
    float value = 0.0f;
    if (parse_float(t->text[i], t->len[i], &value)) {
      hp_op_set_number(op, f, value);
      return HP_SUCCESS;
    }
    /* Not a number: an enum choice by name ("highpass"). */
    return copy_token(t, i, (char*)op + f->alt, err);
  }
  case HP_FIELD_FLOAT:
  case HP_FIELD_INT:
  case HP_FIELD_BOOL:
    return number_field(t, i, f, op, unchecked, err);
  default:
    return copy_token(t, i, hp_op_string(op, f), err);
  }
}

/* An option word ("warmup=8", "require_signal"). */
static HpStatus
option(const Tokens* const   t,
       const unsigned        i,
       const HpOpDesc* const d,
       HpOp* const           op,
       const bool            unchecked,
       HpError* const        err)
{
  const char*        eq   = memchr(t->text[i], '=', t->len[i]);
  const size_t       key  = eq ? (size_t)(eq - t->text[i]) : t->len[i];
  const char*        val  = eq ? eq + 1 : NULL;
  const size_t       vlen = eq ? t->len[i] - key - 1u : 0u;
  const HpFieldDesc* f    = NULL;
  for (uint32_t k = 0; k < d->n_fields && !f; ++k) {
    const HpFieldDesc* const c = &d->fields[k];
    if ((c->text == HP_TEXT_OPTION && val) || c->text == HP_TEXT_FLAG) {
      f =
        strlen(c->name) == key && !strncmp(c->name, t->text[i], key) ? c : NULL;
    }
  }
  float value = 1.0f;
  if (f && f->type == HP_FIELD_VALUE && val &&
      !parse_float(val, vlen, &value)) {
    /* A choice by name ("quant=bar"): hp_op_check() knows them. */
    return copy_word(
      val, vlen, t->column[i] + key + 1u, (char*)op + f->alt, err);
  }
  if (val && !parse_float(val, vlen, &value)) {
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "column %zu: '%.*s' is not a number",
                    t->column[i] + key + 1u,
                    (int)(vlen < 40 ? vlen : 40),
                    val);
  }
  if (!f) {
    char   use[200] = "";
    size_t n = 0, len = 0;
    for (uint32_t k = 0; k < d->n_fields; ++k) {
      n += d->fields[k].text == HP_TEXT_OPTION ||
           d->fields[k].text == HP_TEXT_FLAG;
    }
    for (uint32_t k = 0, j = 0; k < d->n_fields && len < sizeof(use); ++k) {
      const HpFieldDesc* const c = &d->fields[k];
      if (c->text == HP_TEXT_OPTION || c->text == HP_TEXT_FLAG) {
        len += (size_t)snprintf(use + len,
                                sizeof(use) - len,
                                "%s%s",
                                !j            ? ""
                                : j + 1u == n ? " or "
                                              : ", ",
                                c->usage);
        ++j;
      }
    }
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "column %zu: unknown %s option '%.*s'; use %s",
                    t->column[i],
                    d->name,
                    (int)(t->len[i] < 40 ? t->len[i] : 40),
                    t->text[i],
                    use);
  }
  if (f->type == HP_FIELD_BOOL) { /* a flag: present means 1 */
    hp_op_set_number(op, f, value);
    return HP_SUCCESS;
  }
  return store_number(t, i, f, value, op, unchecked, err);
}

/* Word i is an option of `d` ("quant=bar", "tail"), not a positional. */
static bool
is_option(const HpOpDesc* const d, const Tokens* const t, const unsigned i)
{
  if (memchr(t->text[i], '=', t->len[i])) {
    return true;
  }
  for (uint32_t k = 0; k < d->n_fields; ++k) {
    const HpFieldDesc* const f = &d->fields[k];
    if (f->text == HP_TEXT_FLAG && strlen(f->name) == t->len[i] &&
        !strncmp(f->name, t->text[i], t->len[i])) {
      return true;
    }
  }
  return false;
}

static HpStatus
parse(const char* const line,
      HpOp* const       op,
      const bool        unchecked,
      HpError* const    err)
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
  const int found = hp_op_find_command(word, wlen);
  if (found < 0) {
    char commands[200];
    hp_op_list(HP_LIST_COMMANDS, commands, sizeof(commands));
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "column 1: unknown command '%.*s'; commands: %s",
                    (int)(t.len[0] < 40 ? t.len[0] : 40),
                    t.text[0],
                    commands);
  }
  const HpOpDesc* const d        = hp_op_desc((HpOpType)found);
  unsigned              min_args = 0;
  unsigned              max_args = 0;
  for (uint32_t k = 0; k < d->n_fields; ++k) {
    min_args += d->fields[k].text == HP_TEXT_ARG;
    max_args += d->fields[k].text != HP_TEXT_NONE;
  }
  const unsigned nargs = t.count - 1u;
  if (nargs < min_args || nargs > max_args) {
    char   usage[200];
    size_t ulen = (size_t)snprintf(usage, sizeof(usage), "%s", d->name);
    for (uint32_t k = 0; k < d->n_fields && ulen < sizeof(usage); ++k) {
      const HpFieldDesc* const f = &d->fields[k];
      if (f->text != HP_TEXT_NONE) {
        ulen += (size_t)snprintf(usage + ulen,
                                 sizeof(usage) - ulen,
                                 f->text == HP_TEXT_ARG ? " %s" : " [%s]",
                                 f->usage);
      }
    }
    return hp_error(err, HP_ERR_SYNTAX, "column 1: usage: /patch/%s", usage);
  }
  hp_op_init(op, d->type);
  unsigned i = 1;
  for (uint32_t k = 0; k < d->n_fields && i < t.count; ++k) {
    const HpFieldDesc* const f = &d->fields[k];
    if (f->text == HP_TEXT_OPTIONAL && is_option(d, &t, i)) {
      break; /* left out: the options begin ("/patch/revert tail") */
    }
    if (f->text == HP_TEXT_ARG || f->text == HP_TEXT_OPTIONAL) {
      if ((st = positional(&t, i++, f, op, unchecked, err))) {
        return st;
      }
    }
  }
  for (; i < t.count; ++i) {
    if ((st = option(&t, i, d, op, unchecked, err))) {
      return st;
    }
  }
  if (op->type == HP_OP_PRIME_SET && !strcmp(op->set.param, "gate")) {
    op->type = HP_OP_PRIME_GATE;
  }
  return HP_SUCCESS;
}

HpStatus
hp_op_parse_text(const char* const line, HpOp* const op, HpError* const err)
{
  return parse(line, op, false, err);
}

HpStatus
hp_op_parse_text_unchecked(const char* const line,
                           HpOp* const       op,
                           HpError* const    err)
{
  return parse(line, op, true, err);
}
