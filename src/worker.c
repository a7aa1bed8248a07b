/*
  What the worker does (hp_engine_work(), and the calls of any non-audio
  thread, serialised by `lock`): apply operations to the staged patch; on
  commit build the standby graph in one allocation, apply prime ops, start
  it from the playing state, warm it up, judge the warm-up and publish it
  with one release store to `ready`.  Free retired graphs.  A commit that
  succeeds and finds an earlier standby still unswapped takes it back
  (atomic exchange) and frees it: the last good commit wins.  A live set
  reaches a standby not yet swapped in either from the worker (which takes
  it back, sets, and publishes it again) or, when run() took it first, from
  run() replaying the sets still queued (audio_thread.c).
*/

#include "engine_internal.h"

#include "module.h"
#include "ops.h"
#include "patchdoc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_WARMUP 8
#define STATE_COPY_TRIES 8    /* torn copies before warming up fresh */
#define SILENCE_RMS 0.001f    /* the seed's threshold for "has signal" */
#define MAX_WARMUP_PEAK 64.0f /* +36 dBFS: anything above is broken */

static void
add_prime(HpEngine* const e, const HpOp* const op)
{
  HpPrime* const p = &e->primes[e->n_primes++];
  p->set           = op->set;
  p->gate          = op->type == HP_OP_PRIME_GATE;
}

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
    e->log(e->handle, true, "notification queue full; one dropped");
  }
}

/* Answer a message: an error (always, and logged) or an ack (if numbered).
   A superseded commit is normal use, not a fault: the log gets a note (hosts
   such as Ardour show errors to the user). */
void
hp_worker_reply(HpEngine* const      e,
                const int32_t        seq,
                const HpStatus       st,
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
    snprintf(ev.message,
             sizeof(ev.message),
             "%s",
             err && err->message[0] ? err->message : hp_strerror(st));
    if (e->log) {
      e->log(e->handle, st != HP_ERR_SUPERSEDED, ev.message);
    }
  }
  emit(e, &ev);
}

void
hp_worker_free_retired(HpEngine* const e)
{
  HpGraph* g = NULL;
  while (hp_ring_pop(e->retired, &g)) {
    hp_graph_free(g);
  }
}

/* Learn whether the audio thread took the published standby: then it plays,
   and the next build keeps its modules' state.  Only the worker puts a graph
   in `ready`, so once it is gone it is gone for good. */
static void
settle_base(HpEngine* const e)
{
  if (e->published && !atomic_load_explicit(&e->ready, memory_order_acquire)) {
    e->base = e->published;
    hp_patch_copy(e->base_patch, e->committed);
    e->published = NULL;
  }
}

/* hp:Revert's history: `committed` is its newest patch (0 commits ago),
   `history` the older ones, newest first.  A commit keeps the patch it
   replaces as committed, live sets and all.  Out of memory, the history
   forgets the oldest rather than fail the commit. */
static void
remember_committed(HpEngine* const e)
{
  if (e->generation == 1u) {
    return; /* the first commit replaces no commit: the empty start */
  }
  HpPatch* kept = e->n_history == HP_HISTORY - 1u ? e->history[--e->n_history]
                                                  : hp_patch_new();
  if (kept && hp_patch_copy(kept, e->committed)) {
    hp_patch_free(kept);
    kept = NULL;
  }
  if (!kept) {
    if (e->log) {
      e->log(e->handle, true, "out of memory: hp:Revert cannot go back here");
    }
    return;
  }
  memmove(&e->history[1], &e->history[0], e->n_history * sizeof(HpPatch*));
  e->history[0] = kept;
  ++e->n_history;
}

/* A commit that never played leaves the history as it found it. */
static void
forget_committed(HpEngine* const e)
{
  if (e->n_history) {
    hp_patch_free(e->history[0]);
    memmove(&e->history[0], &e->history[1], --e->n_history * sizeof(HpPatch*));
  }
}

/* Take back a standby not yet swapped in (returning it), or learn that the
   audio thread took it. */
static HpGraph*
reclaim_standby(HpEngine* const e)
{
  HpGraph* const prev =
    atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel);
  if (prev) {
    hp_patch_copy(e->committed, e->base_patch);
    e->published = NULL;
    forget_committed(e); /* it never played */
  }
  settle_base(e);
  return prev;
}

static void
supersede(HpEngine* const e, HpGraph* const prev, const char* const why)
{
  if (prev) {
    HpError err;
    hp_error(&err,
             HP_ERR_SUPERSEDED,
             "commit %u %s before it swapped in",
             hp_graph_tag(prev)->generation,
             why);
    hp_worker_reply(e, hp_graph_tag(prev)->seq, HP_ERR_SUPERSEDED, &err);
    hp_graph_free(prev);
  }
}

/* Prime ops name modules of the patch being committed. */
static HpStatus
apply_primes(HpEngine* const e, HpGraph* const g, HpError* const err)
{
  for (uint32_t i = 0; i < e->n_primes; ++i) {
    const HpPrime* op    = &e->primes[i];
    const char*    param = op->set.param;
    uint32_t       m     = 0;
    uint32_t       p     = 0;
    HpStatus       st =
      hp_patch_find_param(e->staged, op->set.module, param, &m, &p, err);
    float value = op->set.value;
    if (op->gate && isfinite(value)) {
      value = value >= 0.5f ? 1.0f : 0.0f;
    }
    if (st || (!op->set.choice[0] &&
               (st = hp_param_check(&e->staged->modules[m], p, value, err)))) {
      char why[HP_MESSAGE_MAX];
      memcpy(why, err->message, sizeof(why));
      return hp_error(err, st, "prime op %u: %.280s", i + 1u, why);
    }
    if (!hp_graph_set(g, op->set.module, param, value, op->set.choice, true)) {
      return hp_error(err,
                      HP_ERR_BAD_VALUE,
                      "prime op %u: '%.64s' is not a value of %.64s:%.64s",
                      i + 1u,
                      op->set.choice,
                      op->set.module,
                      param);
    }
  }
  return HP_SUCCESS;
}

/* Render the standby `blocks` times off the audio thread and judge it. */
static HpStatus
warm_up(HpEngine* const e,
        HpGraph* const  g,
        const int32_t   blocks,
        const bool      require_signal,
        float* const    rms_out,
        HpError* const  err)
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
        return hp_error(err,
                        HP_ERR_WARMUP,
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
    return hp_error(err,
                    HP_ERR_WARMUP,
                    "warm-up peak %.1f is above %.0f (+36 dBFS); check gains "
                    "and feedback; the playing patch stays",
                    (double)peak,
                    (double)MAX_WARMUP_PEAK);
  }
  if (require_signal && max_rms < SILENCE_RMS) {
    return hp_error(err,
                    HP_ERR_WARMUP,
                    "warm-up was silent (largest block RMS %.6f < %.3f) and "
                    "hp:requireSignal is set; gate an envelope with a prime "
                    "op or connect a sound to the output",
                    (double)max_rms,
                    (double)SILENCE_RMS);
  }
  return HP_SUCCESS;
}

/* Before the warm-up, the standby is made to start where the playing
   graph is, so that the warm-up (require_signal, hp:warmupRms) hears what
   will play and the swap changes nothing that was not edited:
   - the macros' positions, immediately (the swap applies only what moved
     since, smoothed like any move);
   - kept modules' DSP state, copied.  run() writes it as it renders and
     must neither wait nor copy O(patch): a seqlock.  run() makes
     `rendering` odd while it writes states; the copy is kept only if
     `rendering` was even before and unchanged after.  A synchronous
     worker runs between renders, so its first copy holds; a worker thread
     retries a torn copy a few times, then warms kept modules up fresh. */
static void
start_from_playing(HpEngine* const e, HpGraph* const g)
{
  HpGraphTag* const tag = hp_graph_tag(g);
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    tag->macro[m] =
      atomic_load_explicit(&e->macro_shared[m], memory_order_relaxed);
    if (!isnan(tag->macro[m])) {
      hp_graph_macro(g, m, tag->macro[m], true);
    }
  }
  for (int i = 0; i < STATE_COPY_TRIES; ++i) {
    const unsigned before =
      atomic_load_explicit(&e->rendering, memory_order_acquire);
    if (!(before & 1u)) {
      hp_graph_copy_kept(g);
      atomic_thread_fence(memory_order_acquire);
      if (atomic_load_explicit(&e->rendering, memory_order_relaxed) == before) {
        return;
      }
    }
    nanosleep(&(struct timespec){0, 100000}, NULL);
  }
  hp_graph_restart_kept(g);
}

/* The instrument has no audio inputs (DESIGN 3b). */
static HpStatus
refuse_input(const HpEngine* const     e,
             const HpModuleDesc* const desc,
             HpError* const            err)
{
  if (desc && desc->host_input && !e->has_input) {
    return hp_error(err,
                    HP_ERR_UNKNOWN_TYPE,
                    "module type '%s' reads the audio inputs of the "
                    "effect plugin (urn:hotpatch:fx); the instrument "
                    "(urn:hotpatch:synth) has none: load the effect to "
                    "process audio",
                    desc->type);
  }
  return HP_SUCCESS;
}

/* The standby for the staged patch, built against `base` (what plays): the
   prime ops applied, then warmed up and judged.  NULL, with `err` set, when
   a step fails. */
static HpGraph*
build_standby(HpEngine* const   e,
              const HpOp* const op,
              const int32_t     warmup,
              float* const      rms,
              HpError* const    err)
{
  /* A scene, a restored state or a patch file may hold `input` too. */
  for (uint32_t m = 0; m < e->staged->n_modules; ++m) {
    if (refuse_input(e, e->staged->modules[m].desc, err)) {
      return NULL;
    }
  }
  HpGraph* const g  = op->commit.tail
                        ? hp_graph_new_tail(e->staged, e->base, e->rate, err)
                        : hp_graph_new(e->staged, e->base, e->rate, err);
  HpStatus       st = g ? HP_SUCCESS : err->status;
  if (!st && !(st = apply_primes(e, g, err))) {
    start_from_playing(e, g);
    st = warm_up(e, g, warmup, op->commit.require_signal, rms, err);
  }
  if (st) {
    hp_graph_free(g);
    return NULL;
  }
  return g;
}

static void
commit(HpEngine* const e, const HpOp* const op)
{
  const double t0 = now_ms();
  HpError      err;
  memset(&err, 0, sizeof(err));
  /* The options' ranges are the table's (src/ops.c). */
  const int32_t warmup =
    op->commit.warmup < 0 ? DEFAULT_WARMUP : op->commit.warmup;
  if (hp_op_check(op, &err)) {
    hp_worker_reply(e, op->seq, err.status, &err);
    e->n_primes = 0;
    return;
  }
  if (!e->dirty && !e->n_primes) {
    hp_error(&err,
             HP_ERR_NOTHING_STAGED,
             "nothing staged to commit: create, delete, connect, disconnect "
             "or clear first, or give prime ops");
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }

  /* Build first: a commit that fails leaves an earlier standby to swap in.
     One that succeeds takes it back, unless run() took it meanwhile: then
     that one plays, and this one is built again against it. */
  settle_base(e);
  const HpGraph* const built_on = e->base;
  float                rms      = 0.0f;
  HpGraph*             g        = build_standby(e, op, warmup, &rms, &err);
  HpGraph* const       prev     = g ? reclaim_standby(e) : NULL;
  if (g && e->base != built_on) {
    hp_graph_free(g);
    g = build_standby(e, op, warmup, &rms, &err);
  }
  const uint32_t n_primes = e->n_primes;
  e->n_primes             = 0;
  supersede(e, prev, "was superseded by a later commit");
  if (!g) {
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }

  hp_graph_seal(g);

  /* Primed values are what the new patch plays: record them, so the next
     commit keeps them (a primed gate stays open). */
  for (uint32_t i = 0; i < n_primes; ++i) {
    HpOp set;
    hp_op_init(&set, e->primes[i].gate ? HP_OP_GATE : HP_OP_SET);
    set.set = e->primes[i].set;
    hp_patch_apply(e->staged, &set, NULL);
  }

  HpGraphTag* tag   = hp_graph_tag(g);
  tag->generation   = ++e->generation;
  tag->serial       = e->applied;
  tag->seq          = op->seq;
  tag->crossfade_ms = op->commit.crossfade_ms;
  tag->tail         = op->commit.tail;
  tag->quant        = hp_op_quant(&op->commit);
  remember_committed(e);
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
  atomic_store_explicit(&e->ready_info, ready_info(tag), memory_order_relaxed);
  atomic_store_explicit(&e->ready, g, memory_order_release);
}

/* hp:Revert: the patch of `steps` commits ago is staged (edits staged
   since the last commit are dropped) and committed like any. */
static void
revert(HpEngine* const e, const HpOp* const op)
{
  HpError        err;
  const uint32_t steps = (uint32_t)op->commit.steps;
  if (hp_op_check(op, &err)) {
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  if (steps > e->n_history) {
    hp_error(&err,
             HP_ERR_BAD_VALUE,
             "hp:Revert %u: %u earlier patch%s kept; the playing patch stays",
             steps,
             e->n_history,
             e->n_history == 1u ? " is" : "es are");
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  if (hp_patch_copy(e->staged, e->history[steps - 1u])) {
    hp_error(&err, HP_ERR_NO_MEMORY, "out of memory");
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  e->dirty = true;
  commit(e, op);
}

/* hp:history's text: each kept patch after a "# N" line, newest first,
   as many as the reply holds.  Like snprintf, the length it needs. */
static size_t
write_history(const HpEngine* const e, char* const buf, const size_t size)
{
  size_t len = 0;
  for (uint32_t i = 0; i <= e->n_history; ++i) {
    len += (size_t)snprintf(len < size ? buf + len : NULL,
                            len < size ? size - len : 0,
                            "# %u%s\n",
                            i,
                            i ? "" : " (the last commit)");
    len += hp_patch_write_text(i ? e->history[i - 1u] : e->committed,
                               len < size ? buf + len : NULL,
                               len < size ? size - len : 0);
  }
  return len;
}

/* The reply text goes through its own buffer: one reply at a time. */
static void
answer_get(HpEngine* const e, const HpOp* const op)
{
  HpError    err;
  const bool history = op->type == HP_OP_HISTORY;
  if (atomic_load_explicit(&e->text_busy, memory_order_acquire)) {
    hp_error(&err,
             HP_ERR_QUEUE_FULL,
             "the previous patch:Get is still being answered; ask again");
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  const size_t len =
    history ? write_history(e, e->patch_text, PATCH_TEXT_MAX)
            : hp_patch_write_text(e->committed, e->patch_text, PATCH_TEXT_MAX);
  if (len >= PATCH_TEXT_MAX) {
    hp_error(&err,
             HP_ERR_TOO_LARGE,
             "the %s is %zu bytes as text, more than one reply holds (%u)",
             history ? "history" : "patch",
             len,
             PATCH_TEXT_MAX - 1u);
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  e->patch_text_len = (uint32_t)len;
  atomic_store_explicit(&e->text_busy, true, memory_order_release);
  HpEvent ev;
  memset(&ev, 0, sizeof(ev));
  ev.type        = HP_EVENT_PATCH;
  ev.seq         = op->seq;
  ev.live_reload = e->live_reload;
  ev.history     = history;
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
  const int32_t  index = op->scene.index;
  const uint32_t scene = index >= 0 && index < (int32_t)HP_MAX_SCENES
                           ? (uint32_t)index
                           : HP_MAX_SCENES;
  if (scene == e->bank->active || e->bank->n_scenes == 1u) {
    hp_worker_reply(e, op->seq, HP_SUCCESS, NULL);
    return;
  }
  if (scene >= e->bank->n_scenes) {
    hp_error(&err,
             HP_ERR_BAD_VALUE,
             "scene %u is empty: the bank has %u scene%s; the playing "
             "patch stays",
             scene + 1u,
             e->bank->n_scenes,
             e->bank->n_scenes == 1 ? "" : "s");
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  hp_patch_copy(e->bank->scenes[e->bank->active], e->committed);
  e->bank->active = scene;
  hp_patch_copy(e->staged, e->bank->scenes[scene]);
  e->dirty = true;
  HpOp commit_op;
  hp_op_init(&commit_op, HP_OP_COMMIT);
  commit_op.seq          = op->seq;
  commit_op.commit.quant = op->scene.quant;
  if (op->scene.quant == HP_QUANT_BAR) {
    memcpy(commit_op.commit.quant_choice, "bar", 4u);
  }
  commit(e, &commit_op);
}

/* Install a parsed document as the bank and commit its active scene. */
HpStatus
hp_worker_install_document(HpEngine* const   e,
                           const char* const text,
                           const char* const base_uri,
                           const int32_t     seq,
                           HpError* const    err)
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

/* A live hp:Set or hp:Gate plays on the graph run() holds already.  Record
   it in every patch that has the module: staged (the next commit), committed
   (what patch:Get and save report, and what the standby plays) and
   base_patch (what plays until the swap).  Refused only when none has it or
   the value is bad: a set to a module whose deletion is staged still plays. */
static HpStatus
record_live(HpEngine* const e, const HpOp* const op, HpError* const err)
{
  settle_base(e);
  HpPatch* const patches[] = {e->staged, e->committed, e->base_patch};
  HpStatus       st        = HP_ERR_UNKNOWN_MODULE;
  for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); ++i) {
    HpError        why;
    const HpStatus pst = hp_patch_apply(patches[i], op, &why);
    if (!pst || st == HP_ERR_UNKNOWN_MODULE) {
      st = pst; /* an error from a patch that has the module says most */
      if (st) {
        *err = why;
      }
    }
  }
  /* Put it in the standby too (taken back for the moment), so run() need
     replay only the sets still queued when it takes the standby. */
  HpGraph* const g =
    e->published
      ? atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel)
      : NULL;
  if (g) {
    set_live(g, op, true);
    hp_graph_tag(g)->serial = op->serial;
    atomic_store_explicit(&e->ready, g, memory_order_release);
  }
  return st;
}

static void
abort_staged(HpEngine* const e, const HpOp* const op)
{
  supersede(e, reclaim_standby(e), "was aborted");
  hp_patch_copy(e->staged, e->committed);
  e->dirty    = false;
  e->n_primes = 0;
  hp_worker_reply(e, op->seq, HP_SUCCESS, NULL);
}

/* With `lock` held (released meanwhile while a patch file is read). */
static void
apply_op(HpEngine* const e, const HpOp* const op)
{
  HpError  err;
  HpStatus st = HP_SUCCESS;
  memset(&err, 0, sizeof(err));
  switch (op->type) {
  case HP_OP_COMMIT:
    commit(e, op);
    return;
  case HP_OP_ABORT:
    abort_staged(e, op);
    return;
  case HP_OP_LOG:
    if (e->log) {
      e->log(e->handle, true, op->log.text);
    }
    return;
  case HP_OP_REVERT:
    revert(e, op);
    return;
  case HP_OP_GET:
  case HP_OP_HISTORY:
    answer_get(e, op);
    return;
  case HP_OP_SCENE:
    switch_scene(e, op);
    return;
  case HP_OP_LOAD_FILE:
  case HP_OP_TICK:
    hp_patch_file_op(e, op);
    return;
  case HP_OP_LIVE_RELOAD:
    e->live_reload = op->reload;
    atomic_store(&e->watching, e->live_reload && e->patch_file[0]);
    hp_worker_reply(e, op->seq, HP_SUCCESS, NULL);
    return;
  case HP_OP_PRIME_SET:
  case HP_OP_PRIME_GATE:
    if (e->n_primes >= MAX_PRIMES) {
      st =
        hp_error(&err, HP_ERR_TOO_LARGE, "more than %u prime ops", MAX_PRIMES);
    } else {
      add_prime(e, op);
    }
    break;
  case HP_OP_SET:
  case HP_OP_GATE:
    st = record_live(e, op, &err);
    break;
  case HP_OP_CREATE:
    if (refuse_input(e, hp_module_find(op->create.type), &err)) {
      st = err.status;
      break;
    }
    /* fall through */
  default:
    if (!(st = hp_patch_apply(e->staged, op, &err))) {
      e->dirty = true;
    }
    break;
  }
  hp_worker_reply(e, op->seq, st, &err);
}

void
hp_engine_work(HpEngine* const e)
{
  pthread_mutex_lock(&e->work_lock);
  pthread_mutex_lock(&e->lock);
  hp_worker_free_retired(e);
  /* Take an op only while its answers fit: none is ever dropped.  What is
     left waits for the next token (run() schedules one while ops wait).
     An op leaves the queue only once applied: run() replays the live sets
     still queued on a standby it takes (replay_live).  Only the ops queued
     by now: a host running faster than real time could otherwise queue
     scene changes faster than they build, and this would never return
     (nor let restore or save take the lock). */
  uint32_t first = 0;
  uint32_t end   = 0;
  hp_ring_unread(e->ops, &first, &end);
  HpOp op;
  for (uint32_t left = end - first;
       left && hp_ring_space(e->events) >= EVENTS_PER_OP &&
       hp_ring_peek(e->ops, &op);
       --left) {
    apply_op(e, &op);
    e->applied = op.serial;
    hp_ring_skip(e->ops);
  }
  hp_worker_free_retired(e);
  pthread_mutex_unlock(&e->lock);
  pthread_mutex_unlock(&e->work_lock);
}

HpStatus
hp_engine_load_text(HpEngine* const   e,
                    const char* const text,
                    HpError* const    err)
{
  HpPatch* draft = hp_patch_new();
  if (!draft) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  pthread_mutex_lock(&e->lock);
  HpStatus    st = hp_patch_copy(draft, e->staged);
  HpOp        commit_op;
  unsigned    line_no = 0;
  const char* line    = text;
  hp_op_init(&commit_op, HP_OP_COMMIT);
  while (!st && line && *line) {
    ++line_no;
    const char*  end = strchr(line, '\n');
    const size_t len = end ? (size_t)(end - line) : strlen(line);
    char         buf[512];
    if (len >= sizeof(buf)) {
      st = hp_error(err,
                    HP_ERR_TOO_LARGE,
                    "line %u: longer than %zu bytes",
                    line_no,
                    sizeof(buf) - 1u);
      break;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    line     = end ? end + 1 : NULL;
    HpOp     op;
    HpError  line_err;
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
          add_prime(e, &op);
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
hp_engine_load_document(HpEngine* const   e,
                        const char* const text,
                        const char* const base_uri,
                        HpError* const    err)
{
  pthread_mutex_lock(&e->lock);
  const HpStatus st =
    hp_worker_install_document(e, text, base_uri, HP_NO_SEQ, err);
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
