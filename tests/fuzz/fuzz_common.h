/*
  Shared by the libFuzzer targets in tests/fuzz/ (and the atom seed
  generator): a tiny in-process URID map, and an engine driven the way the
  plugin drives it, with the worker run synchronously (a host's export).

  Everything here is static inline: each target is one translation unit.
*/

#ifndef HP_FUZZ_COMMON_H
#define HP_FUZZ_COMMON_H

#include "engine.h"
#include "module.h"
#include "uris.h"

#include <lv2/urid/urid.h>

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* URID map: URIs get 1, 2, 3 ... in the order they are first mapped, so a
   process that maps HpURIs first always gives them the same numbers (the
   committed atom seeds rely on it). */

#define FZ_MAX_URIS 512u

typedef struct {
  char*    uris[FZ_MAX_URIS];
  uint32_t n;
} FzUridMap;

static inline LV2_URID
fz_map_uri(LV2_URID_Map_Handle handle, const char* uri)
{
  FzUridMap* m = (FzUridMap*)handle;
  for (uint32_t i = 0; i < m->n; ++i) {
    if (!strcmp(m->uris[i], uri)) {
      return i + 1u;
    }
  }
  if (m->n == FZ_MAX_URIS) {
    return 0;
  }
  const size_t len  = strlen(uri) + 1u;
  char* const  copy = (char*)malloc(len);
  if (!copy) {
    return 0;
  }
  memcpy(copy, uri, len);
  m->uris[m->n++] = copy;
  return m->n;
}

/* The object types of protocol messages, and one that is not (to reach
   the decoder's "unknown message type").  fuzz_atoms picks one with the
   first 4 bytes of its input (less bit 30), modulo FZ_N_TYPES; types come
   at the end, so that the committed seeds keep theirs. */
#define FZ_N_TYPES 16u

static inline void
fz_message_types(const HpURIs* const u, LV2_URID types[FZ_N_TYPES])
{
  const LV2_URID t[FZ_N_TYPES] = {u->hp_Create,
                                  u->hp_Delete,
                                  u->hp_Connect,
                                  u->hp_Disconnect,
                                  u->hp_Set,
                                  u->hp_Gate,
                                  u->hp_Commit,
                                  u->hp_Abort,
                                  u->hp_Clear,
                                  u->hp_Macro,
                                  u->patch_Get,
                                  u->patch_Set,
                                  u->hp_Primed, /* not a message */
                                  u->time_Position,
                                  u->op_class[HP_OP_VOICES],
                                  u->op_class[HP_OP_REVERT]};
  memcpy(types, t, sizeof(t));
}

/* The abort() of a harness check: a finding, with the reason on stderr. */
static inline void
fz_fail(const char* const what)
{
  fprintf(stderr, "fuzz: %s\n", what);
  fflush(stderr);
  abort();
}

/* The input as a C string (what C strings see of it: up to the first
   NUL), or NULL when out of memory.  The caller frees it. */
static inline char*
fz_text(const uint8_t* const data, const size_t size)
{
  char* const text = (char*)malloc(size + 1u);
  if (text) {
    memcpy(text, data, size);
    text[size] = '\0';
  }
  return text;
}

static inline void
fz_check_finite(const float* const l, const float* const r, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    if (!isfinite(l[i]) || !isfinite(r[i])) {
      fprintf(stderr,
              "fuzz: output frame %u is %g, %g\n",
              i,
              (double)l[i],
              (double)r[i]);
      fz_fail("non-finite audio output");
    }
  }
}

/* A patch:Get reply: text-protocol lines, no NUL inside. */
static inline void
fz_check_text(const char* const text, const uint32_t len)
{
  if (!text || memchr(text, '\0', len)) {
    fz_fail("the patch:Get reply's text is missing or holds a NUL");
  }
}

/* The engine, as plugin/hotpatch.c drives it. */

#define FZ_BLOCK 64u

/* What every input starts from: a MIDI-played chain of 4 voices, so a
   single message (hp:Set osc1 freq ..., a note) has something to act on;
   a delay in a loop through its wet output; then (fz_base_patch) a module
   of every registered type it lacks, a reverb among them. */
static const char* const fz_base_chain =
  "/patch/clear\n"
  "/patch/voices 4\n"
  "/patch/create midi midi\n"
  "/patch/create osc1 saw\n"
  "/patch/create osc2 sine\n"
  "/patch/create sq1 square\n"
  "/patch/create tri1 triangle\n"
  "/patch/create nz1 noise\n"
  "/patch/create lfo1 lfo\n"
  "/patch/create k1 const\n"
  "/patch/create sc1 scale\n"
  "/patch/create env1 adsr\n"
  "/patch/create filt1 biquad\n"
  "/patch/create vca1 vca\n"
  "/patch/create mix1 mixer\n"
  "/patch/create sum1 sum\n"
  "/patch/connect midi:freq osc1:freq\n"
  "/patch/connect midi:gate env1:gate\n"
  "/patch/connect osc1 env1\n"
  "/patch/connect env1 filt1\n"
  "/patch/connect filt1 mix1:in1\n"
  "/patch/connect osc2 mix1:in2\n"
  "/patch/connect mix1 sum1\n"
  "/patch/connect lfo1 filt1:cutoff\n"
  "/patch/set lfo1 offset 1000\n"
  "/patch/set lfo1 depth 500\n"
  "/patch/macro 1 filt1:cutoff 100 8000 exp\n"
  /* The chain's sum into a loop (dly:wet -> dmix:in2 -> dly), and on
     into the right side of the registry chain's reverb (below). */
  "/patch/create dmix mixer\n"
  "/patch/create dly delay\n"
  "/patch/set dmix level2 0.5\n"
  "/patch/set dly time 5\n"
  "/patch/set dly max 0.1\n"
  "/patch/connect sum1 dmix:in1\n"
  "/patch/connect dmix dly\n"
  "/patch/connect dly:wet dmix:in2\n";

/* The id of the base patch's module of type `type` into `id`: the
   chain's (a line "/patch/create ID TYPE"), true, else z_<type> (below),
   false. */
static inline bool
fz_base_id(const char* const type, char* const id, const size_t size)
{
  static const char create[] = "/patch/create ";
  const size_t      len      = strlen(type);
  for (const char* at = strstr(fz_base_chain, create); at;
       at             = strstr(at + 1, create)) {
    const char* const name = at + sizeof(create) - 1u;
    const char* const end  = strchr(name, '\n');
    if (end && (size_t)(end - name) > len && end[-(ptrdiff_t)len - 1] == ' ' &&
        !strncmp(end - len, type, len)) {
      snprintf(id, size, "%.*s", (int)(end - name - (ptrdiff_t)len - 1), name);
      return true;
    }
  }
  snprintf(id, size, "z_%s", type);
  return false;
}

/* The base patch: the chain above, then z_<type> of every registered
   type it lacks, so a new type is fuzzed without an edit here, in a chain
   of their own: each main output that is audio into the next module's
   first input (by name: an oscillator's pm takes no other), a control one
   into osc2's detune, so that it plays; gates on.  Then the delay's loop
   into the reverb's right input, and the commit.  The fuzzers' engine is
   the effect's, which takes `input`. */
static inline const char*
fz_base_patch(void)
{
  static char text[8192];
  if (text[0]) {
    return text;
  }
  size_t      len  = (size_t)snprintf(text, sizeof(text), "%s", fz_base_chain);
  const char* prev = NULL;
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    const HpModuleDesc* const d = hp_module_types[t];
    char                      id[HP_ID_MAX];
    if (fz_base_id(d->type, id, sizeof(id))) {
      continue; /* the chain has one */
    }
    len += (size_t)snprintf(text + len,
                            sizeof(text) - len,
                            "/patch/create z_%s %s\n",
                            d->type,
                            d->type);
    for (uint32_t p = 0; p < d->n_params; ++p) {
      if (d->params[p].kind == HP_PARAM_GATE && d->params[p].def < 0.5f) {
        len += (size_t)snprintf(text + len,
                                sizeof(text) - len,
                                "/patch/set z_%s %s 1\n",
                                d->type,
                                d->params[p].name);
      }
    }
    if (prev && d->n_inputs) {
      len += (size_t)snprintf(text + len,
                              sizeof(text) - len,
                              "/patch/connect z_%s z_%s:%s\n",
                              prev,
                              d->type,
                              d->inputs[0].name);
    }
    if (d->outputs[0].kind == HP_SIGNAL_AUDIO) {
      prev = d->type;
    } else {
      len += (size_t)snprintf(text + len,
                              sizeof(text) - len,
                              "/patch/connect z_%s osc2:detune\n",
                              d->type);
    }
  }
  len += (size_t)snprintf(text + len,
                          sizeof(text) - len,
                          "/patch/connect dly z_reverb:in_r\n"
                          "/patch/commit warmup=1 crossfade=0\n");
  if (len >= sizeof(text)) {
    fz_fail("the base patch does not fit its buffer");
  }
  return text;
}

typedef struct {
  HpEngine* engine;
  char      dir[64]; /* patch files hp:patchFile may name: fz_make_files */
  uint32_t  primed;  /* generation of the last hp:Primed seen */
  float     l[FZ_BLOCK];
  float     r[FZ_BLOCK];
  float     in_l[FZ_BLOCK]; /* the effect's audio inputs, every block */
  float     in_r[FZ_BLOCK];
} FzEngine;

/* Take every notification, as run() does (the patch:Get reply too). */
static inline void
fz_drain(FzEngine* const f)
{
  HpEvent ev;
  while (hp_engine_next_event(f->engine, &ev)) {
    if (ev.type == HP_EVENT_PRIMED) {
      f->primed = ev.generation;
    } else if (ev.type == HP_EVENT_PATCH) {
      fz_check_text(ev.text, ev.text_len);
    }
  }
}

/* A synchronous worker, as an exporting host has: the work is done before
   schedule_work() returns. */
static inline bool
fz_schedule(void* const handle)
{
  hp_engine_work(((FzEngine*)handle)->engine);
  return true;
}

/* One run() cycle. */
static inline void
fz_cycle(FzEngine* const f)
{
  HpEngine* const e = f->engine;
  hp_engine_begin(e, FZ_BLOCK);
  hp_engine_input(e, f->in_l, f->in_r);
  hp_engine_render(e, f->l, f->r, FZ_BLOCK);
  hp_engine_end(e);
  fz_check_finite(f->l, f->r, FZ_BLOCK);
  fz_drain(f);
}

/* MIDI as run() hands it over (hp_engine_midi() between renders, any
   bytes a host's midi:MidiEvent may carry): `bytes` in messages of 3 (the
   last may be shorter), `count` messages in all, all before the next
   render.  A count beyond the bytes' messages cycles through them again,
   each pass moving the data bytes that are valid MIDI by 7 (a flood of
   notes over many keys: every voice allocated, stolen, released). */
static inline void
fz_midi(FzEngine* const      f,
        const uint8_t* const bytes,
        const size_t         n,
        const uint32_t       count)
{
  size_t   at   = 0;
  uint32_t pass = 0;
  for (uint32_t i = 0; i < count && n; ++i) {
    uint8_t        msg[3];
    const uint32_t size = n - at < 3u ? (uint32_t)(n - at) : 3u;
    memcpy(msg, bytes + at, size);
    for (uint32_t k = 1; k < size; ++k) {
      if (msg[k] < 0x80u) {
        msg[k] = (uint8_t)((msg[k] + 7u * pass) & 0x7Fu);
      }
    }
    hp_engine_midi(f->engine, msg, size);
    at += size;
    if (at >= n) {
      at = 0;
      ++pass;
    }
  }
}

/* The folder of the patch files, removed at exit. */
static char fz_files_dir[64];

static inline void
fz_remove_files(void)
{
  char path[128];
  snprintf(path, sizeof(path), "%s/good.ttl", fz_files_dir);
  remove(path);
  snprintf(path, sizeof(path), "%s/bad.ttl", fz_files_dir);
  remove(path);
  remove(fz_files_dir);
}

/* Patch files for hp:patchFile: a good one, a broken one, a missing one. */
static inline void
fz_make_files(FzEngine* const f)
{
  snprintf(fz_files_dir, sizeof(fz_files_dir), "%s", "/tmp/hp-fuzz-XXXXXX");
  if (!mkdtemp(fz_files_dir)) {
    fz_fail("cannot create a temporary folder");
  }
  atexit(fz_remove_files);
  memcpy(f->dir, fz_files_dir, sizeof(f->dir));
  static const char* const good =
    "@prefix hp: <urn:hotpatch:ns#> .\n"
    "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 0 ;\n"
    "  hp:scenes ( [ a hp:Scene ; hp:ops (\n"
    "    [ a hp:Create ; hp:module \"osc1\" ; hp:type \"sine\" ]\n"
    "    [ a hp:Set ; hp:module \"osc1\" ; hp:param \"freq\" ; hp:value 220.0 "
    "] ) ]\n"
    "  [ a hp:Scene ; hp:ops ( [ a hp:Create ; hp:module \"n\" ; hp:type "
    "\"noise\" ] ) ] ) .\n";
  static const char* const bad =
    "@prefix hp: <urn:hotpatch:ns#> .\n<> a hp:PatchBank ;\n";
  const char* const texts[] = {good, bad};
  const char* const names[] = {"good.ttl", "bad.ttl"};
  for (int i = 0; i < 2; ++i) {
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
    FILE* file = fopen(path, "w");
    if (!file || fputs(texts[i], file) < 0 || fclose(file)) {
      fz_fail("cannot write a patch file");
    }
  }
}

/*
  Keep an op's cost bounded and its effects inside the sandbox:
  - an absolute hp:patchFile path is redirected to one of our files (any
    other path could be a FIFO or /dev/zero); relative ones are refused by
    the engine before it touches the file system, so they stay;
  - long warm-ups and crossfades are shortened (the out-of-range values
    the engine refuses stay as they are, so the refusals are fuzzed too).
*/
static inline void
fz_tame(const FzEngine* const f, HpOp* const op)
{
  if (op->type == HP_OP_LOAD_FILE && op->file.text[0] == '/') {
    static const char* const names[] = {"good.ttl", "bad.ttl", "missing.ttl"};
    uint32_t                 hash    = 0;
    for (const char* c = op->file.text; *c; ++c) {
      hash = hash * 31u + (unsigned char)*c;
    }
    snprintf(
      op->file.text, sizeof(op->file.text), "%s/%s", f->dir, names[hash % 3u]);
  }
  if (op->type == HP_OP_COMMIT) {
    if (op->commit.warmup > 16 && op->commit.warmup <= 1024) {
      op->commit.warmup = 16;
    }
    if (op->commit.crossfade_ms > 1.0f && op->commit.crossfade_ms <= 10000.0f) {
      op->commit.crossfade_ms = 1.0f;
    }
  }
}

/* Submit as run() does; a full queue is worked off and the op retried. */
static inline void
fz_submit(FzEngine* const f, HpOp* const op)
{
  fz_tame(f, op);
  if (hp_engine_submit(f->engine, op) == HP_ERR_QUEUE_FULL) {
    fz_cycle(f);
    if (hp_engine_submit(f->engine, op)) {
      fz_fail("the operation queue stays full after the worker ran");
    }
  }
}

static inline void
fz_engine_open(FzEngine* const f)
{
  /* The effect's engine (it takes `input`, which the instrument refuses),
     its inputs a full-scale square on the left, a sine on the right. */
  f->engine = hp_engine_new(48000.0f, NULL, fz_schedule, f, NULL, true);
  if (!f->engine) {
    fz_fail("hp_engine_new failed");
  }
  for (uint32_t i = 0; i < FZ_BLOCK; ++i) {
    f->in_l[i] = i % 16u < 8u ? 1.0f : -1.0f;
    f->in_r[i] = sinf(6.2831853f * (float)i / (float)FZ_BLOCK);
  }
  /* Commits without hp:crossfade use the control's value: keep it short. */
  hp_engine_set_crossfade_ms(f->engine, 1.0f);
}

/*
  Bring the engine back to the base patch, so an input does the same from
  any history (a finding reproduces alone).  If a long crossfade from the
  last input (fz_tame cannot reach hp_engine_load_text's) still blocks the
  swap, start a new engine.
*/
static inline void
fz_reset(FzEngine* const f)
{
  for (int attempt = 0; attempt < 2; ++attempt) {
    HpOp op;
    hp_op_init(&op, HP_OP_ABORT);
    fz_submit(f, &op);
    hp_op_init(&op, HP_OP_LIVE_RELOAD);
    op.reload = false;
    fz_submit(f, &op);
    fz_cycle(f);
    HpError err;
    if (hp_engine_load_text(f->engine, fz_base_patch(), &err)) {
      fprintf(stderr, "fuzz: %s\n", err.message);
      fz_fail("the base patch does not load");
    }
    fz_drain(f);
    const uint32_t target = f->primed;
    HpEngineStatus status;
    for (int i = 0; i < 4; ++i) {
      fz_cycle(f);
      hp_engine_status(f->engine, &status);
      if (status.generation == target) {
        /* More blocks end a fade of up to 1 ms and a tail's 10 ms fade
           (engine_internal.h), every note off; then a note sounds. */
        static const uint8_t reset[3]   = {0xB0, 121, 0};
        static const uint8_t all_off[3] = {0xB0, 120, 0};
        static const uint8_t note_on[3] = {0x90, 57, 100};
        hp_engine_midi(f->engine, reset, sizeof(reset));
        hp_engine_midi(f->engine, all_off, sizeof(all_off));
        for (int k = 0; k < 9; ++k) {
          fz_cycle(f);
        }
        hp_engine_midi(f->engine, note_on, sizeof(note_on));
        fz_cycle(f);
        return;
      }
    }
    hp_engine_free(f->engine);
    fz_engine_open(f);
  }
  fz_fail("the base patch never swapped in");
}

#endif /* HP_FUZZ_COMMON_H */
