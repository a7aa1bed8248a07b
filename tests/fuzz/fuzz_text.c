/*
  libFuzzer target: the text protocol (src/text.c) and what it drives.

  Input: text-protocol lines ("/patch/create osc1 saw" ...).  Each line goes
  through hp_op_parse_text; the ops it gives go to a real engine as run()
  hands them over (a cycle after each commit and at the end).  Lines the
  protocol reads as comments may also play MIDI, between the same cycles:
  "#!midi 90 3c 7f ..." sends the bytes (hex) in messages of 3, and
  "#!flood N 90 3c 7f ..." sends N messages (up to 4096) cycling through
  them, a flood in one block (fz_midi); "#!time BEAT BARBEAT BPM BPB SPEED"
  gives the host's time (hp_engine_time(), hostile values too: nan, inf,
  1e300), and a cycle is rendered so that quantized swaps find their
  boundaries.  Then the whole input goes through
  hp_engine_load_text, the path of the default patch and of hp-preset.
  The output must stay finite.
*/

#include "engine.h"
#include "fuzz_common.h"
#include "ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static FzEngine fz;

int
LLVMFuzzerInitialize(int* const argc, char*** const argv)
{
  (void)argc;
  (void)argv;
  fz_make_files(&fz);
  fz_engine_open(&fz);
  return 0;
}

/* A "#!midi" or "#!flood" line, played; false for any other line. */
static bool
midi_line(const char* const line)
{
  const bool flood = !strncmp(line, "#!flood", 7);
  if (!flood && strncmp(line, "#!midi", 6)) {
    return false;
  }
  const char*   p     = line + (flood ? 7 : 6);
  unsigned long count = 0;
  if (flood) {
    char* end = NULL;
    count     = strtoul(p, &end, 10);
    count     = count > 4096u ? 4096u : count;
    p         = end;
  }
  uint8_t bytes[256];
  size_t  n = 0;
  while (*p && n < sizeof(bytes)) {
    char*               end = NULL;
    const unsigned long b   = strtoul(p, &end, 16);
    if (end == p) {
      ++p; /* not hex: skipped */
      continue;
    }
    bytes[n++] = (uint8_t)b;
    p          = end;
  }
  fz_midi(&fz, bytes, n, flood ? (uint32_t)count : (uint32_t)(n + 2u) / 3u);
  return true;
}

/* A "#!time" line, given to the engine; false for any other line. */
static bool
time_line(const char* const line)
{
  if (strncmp(line, "#!time", 6)) {
    return false;
  }
  double      v[5] = {0.0, 0.0, 120.0, 4.0, 1.0};
  const char* p    = line + 6;
  for (int k = 0; k < 5; ++k) {
    char* end = NULL;
    v[k]      = strtod(p, &end);
    p         = end;
  }
  hp_engine_time(fz.engine, v[0], v[1], (float)v[2], (float)v[3], (float)v[4]);
  fz_cycle(&fz);
  return true;
}

/* hp_op_parse_text's promises, whatever the line. */
static void
check_parse(const HpStatus st, const HpOp* const op, const HpError* const err)
{
  if (st && !memchr(err->message, '\0', sizeof(err->message))) {
    fz_fail("hp_op_parse_text: an unterminated error message");
  }
  if (st == HP_ERR_NOTHING_STAGED) {
    if (err->message[0]) {
      fz_fail("hp_op_parse_text: a blank line with an error message");
    }
  } else if (st) {
    if (!err->message[0]) {
      fz_fail("hp_op_parse_text failed without a message");
    }
  } else {
    /* Every string field the table gives the op, and a set's choice. */
    const HpOpDesc* const d = hp_op_desc(op->type);
    for (uint32_t i = 0; i < d->n_fields; ++i) {
      const HpFieldDesc* const f = &d->fields[i];
      if ((f->type <= HP_FIELD_NAME &&
           !memchr(hp_op_cstring(op, f), '\0', f->size)) ||
          (f->type == HP_FIELD_VALUE &&
           !memchr((const char*)op + f->alt, '\0', HP_NAME_MAX))) {
        fz_fail("hp_op_parse_text: an unterminated name");
      }
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  if (size > (1u << 16u)) {
    return -1;
  }
  char* const text = fz_text(data, size);
  if (!text) {
    return 0;
  }

  fz_reset(&fz);
  for (const char* line = text; line;) {
    const char* const end  = strchr(line, '\n');
    const size_t      len  = end ? (size_t)(end - line) : strlen(line);
    char* const       copy = (char*)malloc(len + 1u);
    if (!copy) {
      break;
    }
    memcpy(copy, line, len);
    copy[len] = '\0';
    if (midi_line(copy) || time_line(copy)) {
      free(copy);
      line = end ? end + 1 : NULL;
      continue;
    }
    HpOp    op;
    HpError err;
    memset(&err, 0xA5, sizeof(err)); /* no stale NUL to hide a missing one */
    const HpStatus st = hp_op_parse_text(copy, &op, &err);
    free(copy);
    check_parse(st, &op, &err);
    if (!st) {
      fz_submit(&fz, &op);
      if (hp_op_desc(op.type)->effect == HP_EFFECT_COMMIT) {
        fz_cycle(&fz);
      }
    }
    line = end ? end + 1 : NULL;
  }
  fz_cycle(&fz);

  /* The whole text as one patch: all or nothing, then commit. */
  HpError err;
  err.message[0] = '\0';
  if (hp_engine_load_text(fz.engine, text, &err) && !err.message[0]) {
    fz_fail("hp_engine_load_text failed without a message");
  }
  fz_cycle(&fz);
  fz_cycle(&fz);
  free(text);
  return 0;
}
