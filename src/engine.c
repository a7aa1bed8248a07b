/*
  The hot-swap mechanism (DESIGN.md section 4).

  Audio thread (run): renders `active`, crossfading from `fading` after a
  swap; queues operations for the worker; takes a primed standby from
  `ready` when it sees one; hands retired graphs back to the worker.

  Worker: applies operations to the staged patch; on commit builds the
  standby graph in one allocation, applies prime ops, warms it up, checks
  the warm-up and publishes it with one release store to `ready`.  Frees
  retired graphs.  A commit that finds an earlier standby still unswapped
  takes it back (atomic exchange) and frees it: the last commit wins.

  Handover invariants (checked by tests/model): `ready` holds at most one
  graph; only the worker puts graphs in, both sides take them out with an
  exchange, so a graph is owned by exactly one side at a time; the audio
  thread frees nothing.
*/

#include "hotpatch.h"

#include "graph.h"
#include "patch.h"
#include "patchdoc.h"
#include "ring.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

#define OP_QUEUE_SIZE 1024u     /* operations between two worker runs */
#define EVENT_QUEUE_SIZE 1024u  /* notifications waiting for run() */
#define EVENTS_PER_OP 3u        /* the most one op emits (Error, Primed, ...) */
#define LIVE_SETS 64u           /* live sets remembered for a pending swap */
#define RETIRE_QUEUE_SIZE 16u   /* graphs waiting to be freed */
#define MAX_PRIMES 4096u
#define DEFAULT_WARMUP 8
#define MAX_WARMUP 1024
#define MAX_CROSSFADE_MS 10000.0f
#define SILENCE_RMS 0.001f      /* the seed's threshold for "has signal" */
#define MAX_WARMUP_PEAK 64.0f   /* +36 dBFS: anything above is broken */
#define MAX_RT_EVENTS 16u
#define PATCH_TEXT_MAX 60000u   /* fits the notify port's 64 KiB minimum */
#define MAX_FILE_SIZE (16u << 20u)

/* A live hp:Set or hp:Gate, kept so a standby built before it (its commit
   came earlier in the queue) gets it too when it swaps in. */
typedef struct {
  uint32_t serial;
  float    value;
  char     module[HP_ID_MAX];
  char     param[HP_NAME_MAX];
  char     choice[HP_NAME_MAX];
} LiveSet;

struct HpEngineImpl {
  float     rate;
  HpLogFunc log;
  void*     log_handle;

  /* Shared: lock-free handover. */
  HpRing*           ops;     /* audio -> worker: HpOp */
  HpRing*           events;  /* worker -> audio: HpEvent */
  HpRing*           retired; /* audio -> worker: HpGraph* */
  _Atomic(HpGraph*) ready;   /* the readiness flag: a primed standby */
  atomic_bool       text_busy; /* patch_text is written, not yet sent */
  atomic_bool       watching;  /* live reload has a file to watch */
  char*             patch_text;
  uint32_t          patch_text_len;

  /* Audio thread only. */
  HpGraph*       active;
  HpGraph*       fading;
  HpGraph*       retire_hold; /* retired while the queue was full */
  uint32_t       fade_pos;
  uint32_t       fade_len;
  bool           fade_equal_power;
  bool           need_work;
  float          gain_target;
  float          gain_db; /* what gain_target was computed from */
  float          gain_current;
  float          gain_coef;
  float          crossfade_ms;
  float          macro_pos[HP_N_MACROS]; /* NAN until the host sets one */
  HpEvent        rt_events[MAX_RT_EVENTS];
  uint32_t       n_rt_events;
  HpEngineStatus status;
  uint32_t       serial;    /* of the last op queued */
  LiveSet        live[LIVE_SETS]; /* the latest live sets, a ring */
  uint32_t       n_live;    /* live sets ever made (index = n % LIVE_SETS) */
  float          fade_l[HP_CHUNK];
  float          fade_r[HP_CHUNK];

  /* Worker side, under `lock` (also taken by restore and save, never by
     the audio thread). */
  pthread_mutex_t lock;
  HpBank*         bank;       /* scenes; the active one is `committed` */
  char            patch_file[HP_MESSAGE_MAX]; /* "" when none */
  struct timespec file_mtime;
  off_t           file_size;
  bool            live_reload;
  HpPatch*        staged;     /* what the next commit builds */
  HpPatch*        committed;  /* the patch of the newest published graph */
  HpPatch*        base_patch; /* the patch of `base` */
  HpGraph*        base;       /* the graph known to be playing */
  HpGraph*        published;  /* put in `ready`; maybe taken since */
  bool            dirty;      /* staged differs structurally from committed */
  uint32_t        taken;      /* serial of the last op taken from the queue */
  HpOp*           primes;
  uint32_t        n_primes;
  uint32_t        generation;
  float*          warm_l;
  float*          warm_r;
};

/* Worker side */

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void
emit(HpEngine* const e, const HpEvent* const ev)
{
  if (!hp_ring_push(e->events, ev) && e->log) {
    e->log(e->log_handle, true, "notification queue full; one dropped");
  }
}

/* Answer a message: an error (always, and logged) or an ack (if numbered). */
static void
reply(HpEngine* const e, const int32_t seq, const HpStatus st,
      const HpError* const err)
{
  if (!st && seq == HP_NO_SEQ) {
    return;
  }
  HpEvent ev;
  memset(&ev, 0, sizeof(ev));
  ev.type   = st ? HP_EVENT_ERROR : HP_EVENT_ACK;
  ev.seq    = seq;
  ev.status = st;
  if (st) {
    snprintf(ev.message, sizeof(ev.message), "%s",
             err && err->message[0] ? err->message : hp_strerror(st));
    if (e->log) {
      e->log(e->log_handle, true, ev.message);
    }
  }
  emit(e, &ev);
}

static void
free_retired(HpEngine* const e)
{
  HpGraph* g = NULL;
  while (hp_ring_pop(e->retired, &g)) {
    hp_graph_free(g);
  }
}

/* Take back a standby not yet swapped in (returning it), or learn that the
   audio thread took it (it becomes the base of the next build). */
static HpGraph*
reclaim_standby(HpEngine* const e)
{
  HpGraph* const prev =
    atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel);
  if (prev) {
    hp_patch_copy(e->committed, e->base_patch);
  } else if (e->published) {
    e->base = e->published;
    hp_patch_copy(e->base_patch, e->committed);
  }
  e->published = NULL;
  return prev;
}

static void
supersede(HpEngine* const e, HpGraph* const prev, const char* const why)
{
  if (prev) {
    HpError err;
    hp_error(&err, HP_ERR_SUPERSEDED, "commit %u %s before it swapped in",
             hp_graph_tag(prev)->generation, why);
    reply(e, hp_graph_tag(prev)->seq, HP_ERR_SUPERSEDED, &err);
    hp_graph_free(prev);
  }
}

/* Prime ops name modules of the patch being committed. */
static HpStatus
apply_primes(HpEngine* const e, HpGraph* const g, HpError* const err)
{
  for (uint32_t i = 0; i < e->n_primes; ++i) {
    const HpOp* op    = &e->primes[i];
    const char* param = op->type == HP_OP_PRIME_GATE ? "gate" : op->arg;
    uint32_t    m     = 0;
    uint32_t    p     = 0;
    HpStatus    st =
      hp_patch_find_param(e->staged, op->module, param, &m, &p, err);
    float value = op->value;
    if (op->type == HP_OP_PRIME_GATE && isfinite(value)) {
      value = value >= 0.5f ? 1.0f : 0.0f;
    }
    if (st || (!op->arg2[0] &&
               (st = hp_param_check(&e->staged->modules[m], p, value, err)))) {
      char why[HP_MESSAGE_MAX];
      memcpy(why, err->message, sizeof(why));
      return hp_error(err, st, "prime op %u: %.280s", i + 1u, why);
    }
    if (!hp_graph_set(g, op->module, param, value, op->arg2, true)) {
      return hp_error(err, HP_ERR_BAD_VALUE,
                      "prime op %u: '%.64s' is not a value of %.64s:%.64s",
                      i + 1u, op->arg2, op->module, param);
    }
  }
  return HP_SUCCESS;
}

/* Render the standby `blocks` times off the audio thread and judge it. */
static HpStatus
warm_up(HpEngine* const e, HpGraph* const g, const int32_t blocks,
        const bool require_signal, float* const rms_out, HpError* const err)
{
  double sum_sq  = 0.0;
  float  peak    = 0.0f;
  float  max_rms = 0.0f;
  for (int32_t b = 0; b < blocks; ++b) {
    hp_graph_process(g, e->warm_l, e->warm_r, HP_CHUNK);
    double block_sq = 0.0;
    for (uint32_t i = 0; i < HP_CHUNK; ++i) {
      const float l = e->warm_l[i];
      const float r = e->warm_r[i];
      if (!isfinite(l) || !isfinite(r)) {
        return hp_error(err, HP_ERR_WARMUP,
                        "warm-up block %d produced NaN or Inf; the playing "
                        "patch stays",
                        b + 1);
      }
      block_sq += (double)l * (double)l + (double)r * (double)r;
      peak = fmaxf(peak, fmaxf(fabsf(l), fabsf(r)));
    }
    sum_sq += block_sq;
    max_rms = fmaxf(max_rms, (float)sqrt(block_sq / (2.0 * HP_CHUNK)));
  }
  *rms_out = (float)sqrt(sum_sq / (2.0 * HP_CHUNK * (double)blocks));
  if (peak > MAX_WARMUP_PEAK) {
    return hp_error(err, HP_ERR_WARMUP,
                    "warm-up peak %.1f is above %.0f (+36 dBFS); check gains "
                    "and feedback; the playing patch stays",
                    (double)peak, (double)MAX_WARMUP_PEAK);
  }
  if (require_signal && max_rms < SILENCE_RMS) {
    return hp_error(err, HP_ERR_WARMUP,
                    "warm-up was silent (largest block RMS %.6f < %.3f) and "
                    "hp:requireSignal is set; gate an envelope with a prime "
                    "op or connect a sound to the output",
                    (double)max_rms, (double)SILENCE_RMS);
  }
  return HP_SUCCESS;
}

static void
commit(HpEngine* const e, const HpOp* const op)
{
  const double t0 = now_ms();
  HpError      err;
  memset(&err, 0, sizeof(err));
  const int32_t warmup = op->warmup < 0 ? DEFAULT_WARMUP : op->warmup;
  if (warmup < 1 || warmup > MAX_WARMUP) {
    hp_error(&err, HP_ERR_BAD_VALUE, "hp:warmup %d is out of range 1..%d blocks",
             warmup, MAX_WARMUP);
    reply(e, op->seq, err.status, &err);
    e->n_primes = 0;
    return;
  }
  if (!(op->crossfade_ms < 0.0f || op->crossfade_ms <= MAX_CROSSFADE_MS)) {
    hp_error(&err, HP_ERR_BAD_VALUE, "hp:crossfade %g ms is out of range "
             "0..%g ms", (double)op->crossfade_ms, (double)MAX_CROSSFADE_MS);
    reply(e, op->seq, err.status, &err);
    e->n_primes = 0;
    return;
  }
  if (!e->dirty && !e->n_primes) {
    hp_error(&err, HP_ERR_NOTHING_STAGED,
             "nothing staged to commit: create, delete, connect, disconnect "
             "or clear first, or give prime ops");
    reply(e, op->seq, err.status, &err);
    return;
  }

  supersede(e, reclaim_standby(e), "was superseded by a later commit");

  HpGraph* g   = hp_graph_new(e->staged, e->base, e->rate, &err);
  float    rms = 0.0f;
  HpStatus st  = g ? HP_SUCCESS : err.status;
  if (!st && !(st = apply_primes(e, g, &err))) {
    st = warm_up(e, g, warmup, op->require_signal, &rms, &err);
  }
  const uint32_t n_primes = e->n_primes;
  e->n_primes             = 0;
  if (st) {
    hp_graph_free(g);
    reply(e, op->seq, st, &err);
    return;
  }

  hp_graph_seal(g);

  /* Primed values are what the new patch plays: record them, so the next
     commit keeps them (a primed gate stays open). */
  for (uint32_t i = 0; i < n_primes; ++i) {
    HpOp set = e->primes[i];
    set.type = set.type == HP_OP_PRIME_GATE ? HP_OP_GATE : HP_OP_SET;
    hp_patch_apply(e->staged, &set, NULL);
  }

  HpGraphTag* tag   = hp_graph_tag(g);
  tag->generation   = ++e->generation;
  tag->serial       = e->taken;
  tag->seq          = op->seq;
  tag->crossfade_ms = op->crossfade_ms;
  hp_patch_copy(e->committed, e->staged);
  e->dirty     = false;
  e->published = g;

  HpEvent ev;
  memset(&ev, 0, sizeof(ev));
  ev.type         = HP_EVENT_PRIMED;
  ev.seq          = op->seq;
  ev.generation   = tag->generation;
  ev.module_count = hp_graph_module_count(g);
  ev.warmup_rms   = rms;
  ev.prime_ms     = (float)(now_ms() - t0);
  emit(e, &ev);
  atomic_store_explicit(&e->ready, g, memory_order_release);
}

/* The reply text goes through its own buffer: one reply at a time. */
static void
answer_get(HpEngine* const e, const HpOp* const op)
{
  HpError err;
  if (atomic_load_explicit(&e->text_busy, memory_order_acquire)) {
    hp_error(&err, HP_ERR_QUEUE_FULL,
             "the previous patch:Get is still being answered; ask again");
    reply(e, op->seq, err.status, &err);
    return;
  }
  const size_t len = hp_patch_write_text(e->committed, e->patch_text,
                                         PATCH_TEXT_MAX);
  if (len >= PATCH_TEXT_MAX) {
    hp_error(&err, HP_ERR_TOO_LARGE,
             "the patch is %zu bytes as text, more than one reply holds (%u)",
             len, PATCH_TEXT_MAX - 1u);
    reply(e, op->seq, err.status, &err);
    return;
  }
  e->patch_text_len = (uint32_t)len;
  atomic_store_explicit(&e->text_busy, true, memory_order_release);
  HpEvent ev;
  memset(&ev, 0, sizeof(ev));
  ev.type        = HP_EVENT_PATCH;
  ev.seq         = op->seq;
  ev.live_reload = e->live_reload;
  memcpy(ev.message, e->patch_file, sizeof(ev.message));
  if (!hp_ring_push(e->events, &ev)) {
    atomic_store_explicit(&e->text_busy, false, memory_order_release);
  }
}

/* Scenes: the playing patch goes back into the bank, the chosen scene is
   staged and committed through the usual prime and crossfade.  A bank of
   one scene has nothing for the scene control to choose, so any value
   plays that scene, quietly (a session saved with the control elsewhere
   must not log an error on every load). */
static void
switch_scene(HpEngine* const e, const HpOp* const op)
{
  HpError        err;
  const uint32_t scene = op->value >= 0.0f && op->value < (float)HP_MAX_SCENES
                           ? (uint32_t)op->value
                           : HP_MAX_SCENES;
  if (scene == e->bank->active || e->bank->n_scenes == 1u) {
    reply(e, op->seq, HP_SUCCESS, NULL);
    return;
  }
  if (scene >= e->bank->n_scenes) {
    hp_error(&err, HP_ERR_BAD_VALUE,
             "scene %u is empty: the bank has %u scene%s; the playing "
             "patch stays",
             scene + 1u, e->bank->n_scenes, e->bank->n_scenes == 1 ? "" : "s");
    reply(e, op->seq, err.status, &err);
    return;
  }
  hp_patch_copy(e->bank->scenes[e->bank->active], e->committed);
  e->bank->active = scene;
  hp_patch_copy(e->staged, e->bank->scenes[scene]);
  e->dirty = true;
  HpOp commit_op;
  hp_op_init(&commit_op, HP_OP_COMMIT);
  commit_op.seq = op->seq;
  commit(e, &commit_op);
}

/* Install a parsed document as the bank and commit its active scene. */
static HpStatus
install_document(HpEngine* const e, const char* const text,
                 const char* const base_uri, const int32_t seq,
                 HpError* const err)
{
  HpBank* bank = hp_bank_new();
  if (!bank) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  HpStatus st = hp_doc_read(text, base_uri, bank, err);
  if (!st && !(st = hp_bank_copy(e->bank, bank)) &&
      !(st = hp_patch_copy(e->staged, bank->scenes[bank->active]))) {
    e->dirty = true;
    HpOp commit_op;
    hp_op_init(&commit_op, HP_OP_COMMIT);
    commit_op.seq = seq;
    commit(e, &commit_op);
  }
  hp_bank_free(bank);
  return st;
}

/* Read a whole patch file; NULL with `err` set when it cannot be one. */
static char*
read_file(const char* const path, HpError* const err)
{
  FILE* file = fopen(path, "rb");
  if (!file) {
    hp_error(err, HP_ERR_IO, "cannot open patch file '%.200s': %s", path,
             strerror(errno));
    return NULL;
  }
  char*  text = (char*)malloc(MAX_FILE_SIZE + 1u);
  size_t len  = text ? fread(text, 1, MAX_FILE_SIZE + 1u, file) : 0;
  fclose(file);
  if (!text) {
    hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  } else if (len > MAX_FILE_SIZE) {
    hp_error(err, HP_ERR_TOO_LARGE, "patch file '%.200s' is larger than %u MiB",
             path, MAX_FILE_SIZE >> 20u);
  } else if (memchr(text, '\0', len)) {
    hp_error(err, HP_ERR_SYNTAX,
             "patch file '%.200s' is binary, not a Turtle patch document",
             path);
  } else {
    text[len] = '\0';
    return text;
  }
  free(text);
  return NULL;
}

static void
load_file(HpEngine* const e, const char* const path, const int32_t seq)
{
  HpError err;
  if (path[0] != '/') {
    hp_error(&err, HP_ERR_BAD_VALUE,
             "hp:patchFile needs an absolute path, not '%.200s'", path);
    reply(e, seq, err.status, &err);
    return;
  }
  struct stat st_file;
  const bool  found = !stat(path, &st_file);
  char*       text  = read_file(path, &err);
  HpStatus    st    = text ? HP_SUCCESS : err.status;
  if (text) {
    char uri[HP_MESSAGE_MAX + 8];
    snprintf(uri, sizeof(uri), "file://%s", path);
    HpError why;
    if ((st = install_document(e, text, uri, seq, &why))) {
      hp_error(&err, st, "patch file '%.120s': %.180s", path, why.message);
    }
    free(text);
  }
  /* Watch the file even when this version is broken: the next save may
     mend it. */
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path);
  e->file_mtime = found ? st_file.st_mtim : (struct timespec){0, 0};
  e->file_size  = found ? st_file.st_size : -1;
  atomic_store(&e->watching, e->live_reload);
  if (st) {
    reply(e, seq, st, &err);
  }
}

/* Live reload: a changed file is loaded, primed and crossfaded in. */
static void
watch_file(HpEngine* const e)
{
  struct stat st_file;
  if (!e->live_reload || !e->patch_file[0] || stat(e->patch_file, &st_file)) {
    return;
  }
  if (st_file.st_mtim.tv_sec != e->file_mtime.tv_sec ||
      st_file.st_mtim.tv_nsec != e->file_mtime.tv_nsec ||
      st_file.st_size != e->file_size) {
    char path[HP_MESSAGE_MAX];
    memcpy(path, e->patch_file, sizeof(path));
    load_file(e, path, HP_NO_SEQ);
  }
}

static void
abort_staged(HpEngine* const e, const HpOp* const op)
{
  supersede(e, reclaim_standby(e), "was aborted");
  hp_patch_copy(e->staged, e->committed);
  e->dirty    = false;
  e->n_primes = 0;
  reply(e, op->seq, HP_SUCCESS, NULL);
}

static void
apply_op(HpEngine* const e, const HpOp* const op)
{
  HpError  err;
  HpStatus st = HP_SUCCESS;
  memset(&err, 0, sizeof(err));
  switch (op->type) {
  case HP_OP_COMMIT: commit(e, op); return;
  case HP_OP_ABORT: abort_staged(e, op); return;
  case HP_OP_LOG:
    if (e->log) {
      e->log(e->log_handle, true, op->text);
    }
    return;
  case HP_OP_GET: answer_get(e, op); return;
  case HP_OP_SCENE: switch_scene(e, op); return;
  case HP_OP_LOAD_FILE: load_file(e, op->text, op->seq); return;
  case HP_OP_LIVE_RELOAD:
    e->live_reload = op->value != 0.0f;
    atomic_store(&e->watching, e->live_reload && e->patch_file[0]);
    reply(e, op->seq, HP_SUCCESS, NULL);
    return;
  case HP_OP_TICK: watch_file(e); return;
  case HP_OP_PRIME_SET:
  case HP_OP_PRIME_GATE:
    if (e->n_primes >= MAX_PRIMES) {
      st = hp_error(&err, HP_ERR_TOO_LARGE, "more than %u prime ops",
                    MAX_PRIMES);
    } else {
      e->primes[e->n_primes++] = *op;
    }
    break;
  case HP_OP_SET:
  case HP_OP_GATE:
    /* Live already: record it in every patch that has the module, so the
       next commit and a state save keep it. */
    if (!(st = hp_patch_apply(e->staged, op, &err))) {
      hp_patch_apply(e->committed, op, NULL);
      hp_patch_apply(e->base_patch, op, NULL);
    }
    break;
  default:
    if (!(st = hp_patch_apply(e->staged, op, &err))) {
      e->dirty = true;
    }
    break;
  }
  reply(e, op->seq, st, &err);
}

void
hp_engine_work(HpEngine* const e)
{
  pthread_mutex_lock(&e->lock);
  free_retired(e);
  /* Take an op only while its answers fit: none is ever dropped.  What is
     left waits for the next token (run() schedules one while ops wait). */
  HpOp op;
  while (hp_ring_space(e->events) >= EVENTS_PER_OP &&
         hp_ring_pop(e->ops, &op)) {
    e->taken = op.serial;
    apply_op(e, &op);
  }
  free_retired(e);
  pthread_mutex_unlock(&e->lock);
}

/* Lifecycle */

HpEngine*
hp_engine_new(const float rate, const HpLogFunc log, void* const log_handle,
              const char* const default_patch)
{
  HpEngine* e = (HpEngine*)calloc(1, sizeof(HpEngine));
  if (!e) {
    return NULL;
  }
  e->rate         = rate;
  e->log          = log;
  e->log_handle   = log_handle;
  e->ops          = hp_ring_new(OP_QUEUE_SIZE, sizeof(HpOp));
  e->events       = hp_ring_new(EVENT_QUEUE_SIZE, sizeof(HpEvent));
  e->retired      = hp_ring_new(RETIRE_QUEUE_SIZE, sizeof(HpGraph*));
  e->bank         = hp_bank_new();
  e->staged       = hp_patch_new();
  e->committed    = hp_patch_new();
  e->base_patch   = hp_patch_new();
  e->primes       = (HpOp*)calloc(MAX_PRIMES, sizeof(HpOp));
  e->patch_text   = (char*)calloc(PATCH_TEXT_MAX, 1);
  e->warm_l       = (float*)calloc(HP_CHUNK, sizeof(float));
  e->warm_r       = (float*)calloc(HP_CHUNK, sizeof(float));
  e->gain_target  = 1.0f;
  e->gain_db      = 0.0f;
  e->gain_current = 1.0f;
  e->gain_coef    = 1.0f - expf(-1.0f / (0.01f * rate));
  e->crossfade_ms = 20.0f;
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    e->macro_pos[m] = NAN;
  }
  atomic_init(&e->ready, NULL);
  pthread_mutex_init(&e->lock, NULL);
  if (!e->ops || !e->events || !e->retired || !e->staged || !e->committed ||
      !e->base_patch || !e->primes || !e->warm_l || !e->warm_r ||
      !e->patch_text || !e->bank ||
      !(e->active = hp_graph_new(e->staged, NULL, rate, NULL))) {
    hp_engine_free(e);
    return NULL;
  }
  e->base = e->active;
  if (default_patch) {
    HpError err;
    if (hp_engine_load_text(e, default_patch, &err)) {
      if (log) {
        log(log_handle, true, err.message);
      }
    } else {
      /* No audio thread yet: adopt the standby at once, quietly (unless
         its commit failed, which the log has said: then the empty patch
         plays). */
      HpGraph* const g = atomic_exchange(&e->ready, NULL);
      HpEvent        ev;
      while (hp_ring_pop(e->events, &ev)) {
      }
      if (g) {
        hp_graph_free(e->active);
        e->active            = g;
        e->base              = g;
        e->published         = NULL;
        e->status.generation = hp_graph_tag(g)->generation;
        hp_patch_copy(e->base_patch, e->committed);
      }
    }
  }
  return e;
}

void
hp_engine_free(HpEngine* const e)
{
  if (!e) {
    return;
  }
  if (e->retired) {
    free_retired(e);
  }
  HpGraph* ready = atomic_load(&e->ready);
  HpGraph* owned[] = {e->active, e->fading, e->retire_hold, ready};
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i; ++j) {
      seen |= owned[j] == owned[i];
    }
    if (!seen) {
      hp_graph_free(owned[i]);
    }
  }
  hp_ring_free(e->ops);
  hp_ring_free(e->events);
  hp_ring_free(e->retired);
  hp_bank_free(e->bank);
  hp_patch_free(e->staged);
  hp_patch_free(e->committed);
  hp_patch_free(e->base_patch);
  free(e->primes);
  free(e->patch_text);
  free(e->warm_l);
  free(e->warm_r);
  pthread_mutex_destroy(&e->lock);
  free(e);
}

HpStatus
hp_engine_load_text(HpEngine* const e, const char* const text,
                    HpError* const err)
{
  HpPatch* draft = hp_patch_new();
  if (!draft) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  pthread_mutex_lock(&e->lock);
  HpStatus    st     = hp_patch_copy(draft, e->staged);
  HpOp        commit_op;
  unsigned    line_no = 0;
  const char* line    = text;
  hp_op_init(&commit_op, HP_OP_COMMIT);
  while (!st && line && *line) {
    ++line_no;
    const char* end = strchr(line, '\n');
    const size_t len = end ? (size_t)(end - line) : strlen(line);
    char         buf[512];
    if (len >= sizeof(buf)) {
      st = hp_error(err, HP_ERR_TOO_LARGE, "line %u: longer than %zu bytes",
                    line_no, sizeof(buf) - 1u);
      break;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    line     = end ? end + 1 : NULL;
    HpOp    op;
    HpError line_err;
    HpStatus lst = hp_op_parse_text(buf, &op, &line_err);
    if (lst == HP_ERR_NOTHING_STAGED) {
      continue; /* blank or comment */
    }
    if (!lst) {
      if (op.type == HP_OP_COMMIT) {
        commit_op = op;
        continue;
      }
      if (op.type == HP_OP_PRIME_SET || op.type == HP_OP_PRIME_GATE) {
        if (e->n_primes < MAX_PRIMES) {
          e->primes[e->n_primes++] = op;
        }
        continue;
      }
      lst = hp_patch_apply(draft, &op, &line_err);
    }
    if (lst) {
      st = hp_error(err, lst, "line %u: %s", line_no, line_err.message);
    }
  }
  if (st) {
    e->n_primes = 0;
  } else {
    hp_patch_copy(e->staged, draft);
    e->dirty = true;
    commit(e, &commit_op);
  }
  pthread_mutex_unlock(&e->lock);
  hp_patch_free(draft);
  return st;
}

HpStatus
hp_engine_load_document(HpEngine* const e, const char* const text,
                        const char* const base_uri, HpError* const err)
{
  pthread_mutex_lock(&e->lock);
  const HpStatus st = install_document(e, text, base_uri, HP_NO_SEQ, err);
  pthread_mutex_unlock(&e->lock);
  return st;
}

uint32_t
hp_engine_scene(HpEngine* const e)
{
  pthread_mutex_lock(&e->lock);
  const uint32_t scene = e->bank->active;
  pthread_mutex_unlock(&e->lock);
  return scene;
}

void
hp_engine_file_settings(HpEngine* const e, char* const path,
                        bool* const live_reload)
{
  pthread_mutex_lock(&e->lock);
  memcpy(path, e->patch_file, HP_MESSAGE_MAX);
  *live_reload = e->live_reload;
  pthread_mutex_unlock(&e->lock);
}

void
hp_engine_set_file_settings(HpEngine* const e, const char* const path,
                            const bool live_reload)
{
  struct stat st_file;
  pthread_mutex_lock(&e->lock);
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path ? path : "");
  e->live_reload = live_reload;
  if (e->patch_file[0] && !stat(e->patch_file, &st_file)) {
    e->file_mtime = st_file.st_mtim;
    e->file_size  = st_file.st_size;
  }
  atomic_store(&e->watching, e->live_reload && e->patch_file[0]);
  pthread_mutex_unlock(&e->lock);
}

char*
hp_engine_save_document(HpEngine* const e)
{
  HpBank* bank = hp_bank_new();
  char*   text = NULL;
  if (bank) {
    pthread_mutex_lock(&e->lock);
    if (!hp_bank_copy(bank, e->bank) &&
        !hp_patch_copy(bank->scenes[bank->active], e->committed)) {
      text = hp_doc_write(bank);
    }
    pthread_mutex_unlock(&e->lock);
  }
  hp_bank_free(bank);
  return text;
}

/* Audio thread */

static void
retire(HpEngine* const e, HpGraph* const g)
{
  if (!hp_ring_push(e->retired, &g)) {
    e->retire_hold = g;
  }
  e->need_work = true;
}

HpStatus
hp_engine_submit(HpEngine* const e, const HpOp* const op)
{
  HpOp queued   = *op;
  queued.serial = e->serial + 1u;
  if (!hp_ring_push(e->ops, &queued)) {
    return HP_ERR_QUEUE_FULL;
  }
  e->serial    = queued.serial;
  e->need_work = true;
  if (op->type == HP_OP_SET || op->type == HP_OP_GATE) {
    const bool  gate  = op->type == HP_OP_GATE;
    const char* param = gate ? "gate" : op->arg;
    const float value = gate ? (op->value >= 0.5f ? 1.0f : 0.0f) : op->value;
    if (hp_graph_set(e->active, op->module, param, value, op->arg2, false)) {
      LiveSet* set = &e->live[e->n_live++ % LIVE_SETS];
      set->serial  = queued.serial;
      set->value   = value;
      memcpy(set->module, op->module, sizeof(set->module) - 1u);
      set->module[sizeof(set->module) - 1u] = '\0';
      memcpy(set->param, param, strlen(param) + 1u);
      memcpy(set->choice, op->arg2, sizeof(set->choice));
    }
  }
  return HP_SUCCESS;
}

bool
hp_engine_has_room(const HpEngine* const e, const uint32_t count)
{
  return hp_ring_space(e->ops) >= count;
}

bool
hp_engine_wants_work(const HpEngine* const e)
{
  /* Also while ops wait that the worker left for lack of room. */
  return e->need_work || hp_ring_space(e->ops) <= e->ops->mask;
}

void
hp_engine_work_scheduled(HpEngine* const e, const bool ok)
{
  if (ok) {
    e->need_work = false;
  }
}

void
hp_engine_poll(HpEngine* const e, const uint32_t frame)
{
  if (e->retire_hold) {
    if (!hp_ring_push(e->retired, &e->retire_hold)) {
      return; /* keep playing; swap once the worker has caught up */
    }
    e->retire_hold = NULL;
  }
  if (e->fading ||
      !atomic_load_explicit(&e->ready, memory_order_acquire)) {
    return;
  }
  HpGraph* const g =
    atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel);
  if (!g) {
    return; /* the worker took it back for a newer commit */
  }
  /* Live sets queued after the standby's commit are not in it: replay the
     ones still remembered (the latest LIVE_SETS), oldest first. */
  const uint32_t since = hp_graph_tag(g)->serial;
  const uint32_t first = e->n_live > LIVE_SETS ? e->n_live - LIVE_SETS : 0u;
  for (uint32_t i = first; i < e->n_live; ++i) {
    const LiveSet* set = &e->live[i % LIVE_SETS];
    if ((int32_t)(set->serial - since) > 0) {
      hp_graph_set(g, set->module, set->param, set->value, set->choice, true);
    }
  }
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    if (!isnan(e->macro_pos[m])) {
      hp_graph_macro(g, m, e->macro_pos[m]);
    }
  }
  const HpGraphTag* tag = hp_graph_tag(g);
  const float ms  = tag->crossfade_ms >= 0.0f ? tag->crossfade_ms : e->crossfade_ms;
  const float len = ms * 0.001f * e->rate;
  HpGraph* const old = e->active;
  hp_graph_take_over(g, old, len >= 1.0f);
  e->active = g;
  if (len < 1.0f) {
    retire(e, old);
  } else {
    e->fading           = old;
    e->fade_pos         = 0;
    e->fade_len         = (uint32_t)len;
    e->fade_equal_power = !hp_graph_correlated(g);
  }
  ++e->status.swaps;
  e->status.generation   = tag->generation;
  e->status.module_count = hp_graph_module_count(g);
  /* The swap answers the commit: hp:Swapped, and its patch:Ack. */
  if (e->n_rt_events + 2u <= MAX_RT_EVENTS) {
    HpEvent* ev = &e->rt_events[e->n_rt_events++];
    memset(ev, 0, sizeof(*ev));
    ev->type       = HP_EVENT_SWAPPED;
    ev->seq        = tag->seq;
    ev->generation = tag->generation;
    ev->frame      = frame;
    if (tag->seq != HP_NO_SEQ) {
      ev       = &e->rt_events[e->n_rt_events++];
      *ev      = e->rt_events[e->n_rt_events - 2u];
      ev->type = HP_EVENT_ACK;
    }
  }
}

void
hp_engine_midi(HpEngine* const e, const uint8_t* const msg,
               const uint32_t size)
{
  hp_graph_midi(e->active, msg, size);
  if (e->fading) {
    hp_graph_midi(e->fading, msg, size);
  }
}

void
hp_engine_macro(HpEngine* const e, const uint32_t macro, const float position)
{
  if (macro < HP_N_MACROS && position != e->macro_pos[macro] &&
      isfinite(position)) {
    e->macro_pos[macro] = position;
    hp_graph_macro(e->active, macro, position);
  }
}

/* Mix the fading graph out under the active one.  Equal power for
   uncorrelated material (independent sounds keep their summed power
   constant); equal gain when a kept module plays in both (the same
   waveform in phase adds in amplitude, so equal power would bulge +3 dB). */
static void
crossfade(HpEngine* const e, float* const l, float* const r,
          const uint32_t n)
{
  hp_graph_process(e->fading, e->fade_l, e->fade_r, n);
  const float inv = 1.0f / (float)e->fade_len;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t pos = e->fade_pos + i;
    const float    t   = pos >= e->fade_len ? 1.0f : (float)pos * inv;
    float          gin = t;
    float          gout = 1.0f - t;
    if (e->fade_equal_power) {
      gin  = sinf(t * 1.5707964f);
      gout = cosf(t * 1.5707964f);
    }
    l[i] = l[i] * gin + e->fade_l[i] * gout;
    r[i] = r[i] * gin + e->fade_r[i] * gout;
  }
  e->fade_pos += n;
  if (e->fade_pos >= e->fade_len) {
    retire(e, e->fading);
    e->fading = NULL;
  }
}

/* True if no sample is NaN or infinite: x - x is 0 exactly then, so OR-ing
   the bits of x - x over the chunk leaves 0.  With SSE, 8 frames a step
   (1.4 instructions a frame, against 2.3 for the compare-and-or loop gcc
   vectorizes from plain C, which stays for the rest). */
static bool
all_finite(const float* const restrict x, const uint32_t n)
{
  uint32_t i   = 0;
  int      bad = 0;
#if defined(__SSE2__)
  __m128 acc = _mm_setzero_ps();
  for (; i + 8u <= n; i += 8u) {
    const __m128 a = _mm_loadu_ps(x + i);
    const __m128 b = _mm_loadu_ps(x + i + 4u);
    acc = _mm_or_ps(acc, _mm_or_ps(_mm_sub_ps(a, a), _mm_sub_ps(b, b)));
  }
  bad = _mm_movemask_epi8(_mm_cmpeq_epi32(_mm_castps_si128(acc),
                                          _mm_setzero_si128())) != 0xFFFF;
#endif
  for (; i < n; ++i) {
    bad |= !(x[i] - x[i] == 0.0f);
  }
  return !bad;
}

static void
apply_gain(float* const restrict x, const float g, const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    x[i] *= g;
  }
}

void
hp_engine_render(HpEngine* const e, float* const out_l, float* const out_r,
                 const uint32_t nframes)
{
  for (uint32_t done = 0; done < nframes;) {
    const uint32_t n = nframes - done < HP_CHUNK ? nframes - done : HP_CHUNK;
    float* const   l = out_l + done;
    float* const   r = out_r + done;
    hp_graph_process(e->active, l, r, n);
    if (e->fading) {
      crossfade(e, l, r, n);
    }
    if (e->gain_current != e->gain_target) {
      float       g = e->gain_current;
      const float k = e->gain_coef;
      for (uint32_t i = 0; i < n; ++i) {
        g += (e->gain_target - g) * k;
        l[i] *= g;
        r[i] *= g;
      }
      if (fabsf(e->gain_target - g) <= 1e-6f) {
        g = e->gain_target;
      }
      e->gain_current = g;
    } else if (e->gain_current != 1.0f) {
      apply_gain(l, e->gain_current, n);
      apply_gain(r, e->gain_current, n);
    }
    /* Mono graphs (and crossfades and gain between two) leave right equal
       to left: checking left is enough. */
    const bool mono =
      hp_graph_mono(e->active) && (!e->fading || hp_graph_mono(e->fading));
    if (!all_finite(l, n) || (!mono && !all_finite(r, n))) {
      /* A module blew up (e.g. an extreme resonance): silence this chunk
         and restart the DSP state rather than feed NaN to the host. */
      memset(l, 0, n * sizeof(float));
      memset(r, 0, n * sizeof(float));
      hp_graph_reset(e->active);
    }
    done += n;
  }
}

bool
hp_engine_next_event(HpEngine* const e, HpEvent* const event)
{
  /* The worker's notifications first: a Primed precedes its Swapped. */
  if (hp_ring_pop(e->events, event)) {
    if (event->type == HP_EVENT_PRIMED) {
      e->status.last_prime_ms = event->prime_ms;
    }
    return true;
  }
  if (!e->n_rt_events) {
    return false;
  }
  *event = e->rt_events[0];
  memmove(&e->rt_events[0], &e->rt_events[1],
          (--e->n_rt_events) * sizeof(HpEvent));
  return true;
}

const char*
hp_engine_patch_text(const HpEngine* const e, uint32_t* const length)
{
  *length = e->patch_text_len;
  return e->patch_text;
}

void
hp_engine_patch_text_done(HpEngine* const e)
{
  atomic_store_explicit(&e->text_busy, false, memory_order_release);
}

void
hp_engine_set_gain_db(HpEngine* const e, const float db)
{
  if (isfinite(db) && db != e->gain_db) { /* run() calls this every block */
    e->gain_db     = db;
    e->gain_target = db <= -90.0f ? 0.0f : powf(10.0f, db * 0.05f);
  }
}

void
hp_engine_set_crossfade_ms(HpEngine* const e, const float ms)
{
  if (isfinite(ms)) {
    e->crossfade_ms = ms < 0.0f ? 0.0f : ms > MAX_CROSSFADE_MS ? MAX_CROSSFADE_MS : ms;
  }
}

bool
hp_engine_watching(const HpEngine* const e)
{
  return atomic_load_explicit(&e->watching, memory_order_relaxed);
}

void
hp_engine_status(const HpEngine* const e, HpEngineStatus* const status)
{
  *status              = e->status;
  status->module_count = hp_graph_module_count(e->active);
}
