/*
  Creating and freeing an engine.  The rest is by job: audio_thread.c,
  worker.c, patch_file.c (see engine_internal.h).
*/

#include "engine_internal.h"

#include <math.h>
#include <stdlib.h>

HpEngine*
hp_engine_new(const float          rate,
              const HpLogFunc      log,
              const HpScheduleFunc schedule,
              void* const          handle,
              const char* const    default_patch,
              const bool           has_input)
{
  HpEngine* e = (HpEngine*)calloc(1, sizeof(HpEngine));
  if (!e) {
    return NULL;
  }
  e->rate         = rate;
  e->has_input    = has_input;
  e->log          = log;
  e->schedule     = schedule;
  e->handle       = handle;
  e->tick_period  = (uint32_t)(rate * LIVE_RELOAD_PERIOD);
  e->ops          = hp_ring_new(OP_QUEUE_SIZE, sizeof(HpOp));
  e->events       = hp_ring_new(EVENT_QUEUE_SIZE, sizeof(HpEvent));
  e->retired      = hp_ring_new(RETIRE_QUEUE_SIZE, sizeof(HpGraph*));
  e->bank         = hp_bank_new();
  e->staged       = hp_patch_new();
  e->committed    = hp_patch_new();
  e->base_patch   = hp_patch_new();
  e->primes       = (HpPrime*)calloc(MAX_PRIMES, sizeof(HpPrime));
  e->patch_text   = (char*)calloc(PATCH_TEXT_MAX, 1);
  e->warm_l       = (float*)calloc(HP_CHUNK, sizeof(float));
  e->warm_r       = (float*)calloc(HP_CHUNK, sizeof(float));
  e->gain_target  = 1.0f;
  e->gain_db      = 0.0f;
  e->gain_current = 1.0f;
  e->gain_coef    = 1.0f - expf(-1.0f / (0.01f * rate));
  e->crossfade_ms = 20.0f;

  e->time.bpm           = 120.0f; /* until the host says (module.h: HpTime) */
  e->time.beats_per_bar = 4.0f;
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    e->macro_pos[m] = NAN;
    atomic_init(&e->macro_shared[m], NAN);
  }
  atomic_init(&e->rendering, 0u);
  atomic_init(&e->ready, NULL);
  atomic_init(&e->ready_info, 0u);
  pthread_mutex_init(&e->work_lock, NULL);
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
        log(handle, true, err.message);
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
    hp_worker_free_retired(e);
  }
  hp_graph_free(atomic_load(&e->ready));
  hp_graph_free(e->active);
  for (uint32_t i = 0; i < e->n_tails; ++i) {
    hp_graph_free(e->tails[i].graph);
    hp_graph_free(e->tails[i].parked);
  }
  for (uint32_t i = 0; i < e->n_fades; ++i) {
    hp_graph_free(e->fades[i].graph);
  }
  hp_ring_free(e->ops);
  hp_ring_free(e->events);
  hp_ring_free(e->retired);
  hp_bank_free(e->bank);
  hp_patch_free(e->staged);
  hp_patch_free(e->committed);
  hp_patch_free(e->base_patch);
  for (uint32_t i = 0; i < e->n_history; ++i) {
    hp_patch_free(e->history[i]);
  }
  free(e->primes);
  free(e->patch_text);
  free(e->warm_l);
  free(e->warm_r);
  pthread_mutex_destroy(&e->lock);
  pthread_mutex_destroy(&e->work_lock);
  free(e);
}
