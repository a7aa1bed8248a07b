/*
  What run() does: take a primed standby from `ready` when it sees one,
  even during a crossfade; render the active graph, crossfading from the
  graphs in `fades`; guard each graph against NaN; apply the gain; queue
  operations for the worker and ask for work; hand retired graphs back to
  the worker; answer.  Never allocates, locks, waits or prints.
*/

#include "engine_internal.h"

#include "ops.h"

#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

/* A tail stops ringing: it fades out from here. */
static void
tail_end(HpEngine* const e, Tail* const t)
{
  if (!t->fade_len) {
    t->fade_pos = 0;
    t->fade_len = (uint32_t)(TAIL_FADE_MS * 0.001f * e->rate) + 1u;
  }
}

/* take_standby() swaps only when the retired ring has room for every
   graph that can retire before the next swap: this never fails. */
static void
retire(HpEngine* const e, HpGraph* const g)
{
  /* A tail plays from copies in its owner's spare states (a graph owns
     one at most): the owner waits, out of play, until it has faded out. */
  for (uint32_t k = 0; k < e->n_tails; ++k) {
    if (e->tails[k].owner == g) {
      tail_end(e, &e->tails[k]);
      e->tails[k].owner  = NULL;
      e->tails[k].parked = g;
      return;
    }
  }
  hp_ring_push(e->retired, &g);
  e->need_work = true;
}

/* Tail k is done: it retires, and its parked owner after it. */
static void
retire_tail(HpEngine* const e, const uint32_t k)
{
  const Tail t = e->tails[k];
  memmove(
    &e->tails[k], &e->tails[k + 1u], (e->n_tails - k - 1u) * sizeof(Tail));
  --e->n_tails;
  retire(e, t.graph);
  if (t.parked) {
    hp_ring_push(e->retired, &t.parked);
    e->need_work = true;
  }
}

static void take_standby(HpEngine* e);

/* A slot at the end of run()'s own event queue, or NULL when it is full. */
static HpEvent*
push_rt_event(HpEngine* const e)
{
  if (e->n_rt_events == RT_EVENT_QUEUE) {
    return NULL;
  }
  return &e->rt_events[(e->rt_first + e->n_rt_events++) % RT_EVENT_QUEUE];
}

HpStatus
hp_engine_submit(HpEngine* const e, const HpOp* const op)
{
  HpOp queued     = *op;
  queued.serial   = e->serial + 1u;
  const bool live = op->type == HP_OP_SET || op->type == HP_OP_GATE;
  if (live) {
    /* Resolved by number from here on: the graphs know these keys. */
    queued.set.module_key = hp_name_key(op->set.module);
    queued.set.param_key  = hp_name_key(op->set.param);
    queued.set.choice_key =
      op->set.choice[0] ? hp_name_key(op->set.choice) : 0u;
  }
  if (!hp_ring_push(e->ops, &queued)) {
    return HP_ERR_QUEUE_FULL;
  }
  e->serial    = queued.serial;
  e->need_work = true;
  if (live) {
    set_live(e->active, &queued, false);
  }
  return HP_SUCCESS;
}

/* A standby holds the live sets up to its tag's serial (the worker put them
   there).  Later ones are still in the queue: the worker leaves an op queued
   until it is applied, so none is lost however many came since the commit.
   Replay them, oldest first. */
static void
replay_live(HpEngine* const e, HpGraph* const g)
{
  const uint32_t since = hp_graph_tag(g)->serial;
  uint32_t       first = 0;
  uint32_t       end   = 0;
  hp_ring_unread(e->ops, &first, &end);
  for (uint32_t i = first; i != end; ++i) {
    const HpOp* op = (const HpOp*)hp_ring_slot(e->ops, i);
    if ((op->type == HP_OP_SET || op->type == HP_OP_GATE) &&
        (int32_t)(op->serial - since) > 0) {
      set_live(g, op, true);
    }
  }
}

/* Ask for work when some is owed (queued ops, also those the worker left
   for lack of room to answer, or retired graphs), then take what a
   synchronous worker made ready meanwhile, where rendering stands. */
static void
work_now(HpEngine* const e)
{
  const bool owed = e->need_work || hp_ring_space(e->ops) <= e->ops->mask;
  if (!owed) {
    return;
  }
  if (e->schedule && e->schedule(e->handle)) {
    e->need_work = false;
  }
  take_standby(e);
}

void
hp_engine_begin(HpEngine* const e, const uint32_t nframes)
{
  e->block_pos = 0;
  take_standby(e);
  /* Live reload: the worker looks at the file now and then. */
  if (atomic_load_explicit(&e->watching, memory_order_relaxed) &&
      (e->tick_frames += nframes) >= e->tick_period) {
    HpOp tick;
    hp_op_init(&tick, HP_OP_TICK);
    if (!hp_engine_submit(e, &tick)) {
      e->tick_frames = 0;
    }
  }
}

HpStatus
hp_engine_message(HpEngine* const   e,
                  const HpOp* const ops,
                  const uint32_t    n_ops,
                  const int32_t     seq)
{
  /* Whole messages only: no half-applied commit. */
  if (hp_ring_space(e->ops) < n_ops) {
    HpError err;
    err.status = HP_ERR_QUEUE_FULL;
    strcpy(err.message,
           "the operation queue is full (1024 operations "
           "waiting for the worker); this message was dropped: "
           "send it again");
    hp_engine_reject(e, seq, &err);
    return HP_ERR_QUEUE_FULL;
  }
  bool urgent = false;
  for (uint32_t i = 0; i < n_ops; ++i) {
    hp_engine_submit(e, &ops[i]);
    urgent |= hp_op_desc(ops[i].type)->effect == HP_EFFECT_COMMIT ||
              ops[i].type == HP_OP_SCENE;
  }
  if (urgent) { /* a synchronous worker swaps here */
    work_now(e);
  }
  return HP_SUCCESS;
}

bool
hp_engine_select_scene(HpEngine* const e,
                       const uint32_t  scene,
                       const float     quant)
{
  HpOp op;
  hp_op_init(&op, HP_OP_SCENE);
  op.scene.index = (int32_t)scene;
  op.scene.quant = quant;
  if (hp_engine_submit(e, &op)) {
    return false;
  }
  work_now(e);
  return true;
}

void
hp_engine_reject(HpEngine* const e, const int32_t seq, const HpError* const err)
{
  HpEvent* const ev = push_rt_event(e);
  if (ev) {
    memset(ev, 0, sizeof(*ev));
    ev->type   = HP_EVENT_ERROR;
    ev->seq    = seq;
    ev->status = err->status;
    ev->frame  = e->block_pos;
    memcpy(ev->message, err->message, sizeof(ev->message));
  }
  /* The worker logs it: no stdio here.  When both queues are full, only
     the log has it, or neither. */
  HpOp op;
  hp_op_init(&op, HP_OP_LOG);
  memcpy(op.log.text, err->message, sizeof(op.log.text));
  hp_engine_submit(e, &op);
}

void
hp_engine_end(HpEngine* const e)
{
  work_now(e);
}

/* No standby waits: standby_due()'s answer. */
#define NOT_WAITING UINT32_MAX

/* Frames from where rendering stands to the first frame at or after the
   next boundary of hp:quant `quant` (0: this frame is the first after the
   last one), or 0 when the host's transport stands or never said where it
   is (DESIGN 3b).  Within a thousandth of a frame, a boundary counts as
   on the frame (the beat is rounded). */
static uint32_t
frames_to_boundary(const HpTime* const t, const float quant)
{
  if (!t->rolling || !(t->beats_per_frame > 0.0)) {
    return 0;
  }
  const bool   bar   = quant == HP_QUANT_BAR;
  const double grid  = bar ? (double)t->beats_per_bar : (double)quant;
  const double pos   = bar ? t->bar_beat : t->beat;
  const double since = (pos - floor(pos / grid) * grid) / t->beats_per_frame;
  if (since < 1.0 - 1e-3) {
    return 0; /* the last boundary fell on this frame or just before it */
  }
  const double frames = ceil(grid / t->beats_per_frame - since - 1e-3);
  return frames <= 0.0  ? 0u
         : frames < 4e9 ? (uint32_t)frames
                        : NOT_WAITING - 1u;
}

/* Frames until the published standby may swap in: 0 now, NOT_WAITING when
   there is none.  It stays in `ready` meanwhile, for the worker to take
   back (a newer commit, a live set): run() learns its hp:quant from
   `ready_info`, which the worker wrote before storing it. */
static uint32_t
standby_due(const HpEngine* const e, bool* const quantized)
{
  *quantized = false;
  if (!atomic_load_explicit(&e->ready, memory_order_acquire)) {
    return NOT_WAITING;
  }
  const uint64_t info =
    atomic_load_explicit(&e->ready_info, memory_order_relaxed);
  const uint32_t bits  = (uint32_t)info;
  float          quant = 0.0f;
  memcpy(&quant, &bits, sizeof(quant));
  *quantized = quant != 0.0f;
  if (quant == 0.0f || (uint32_t)(info >> 32u) == e->overdue) {
    return 0;
  }
  return frames_to_boundary(&e->time, quant);
}

/* Take a published standby that is due and begin the swap where rendering
   stands (a swap after the block's last frame plays, and is reported,
   from the next block's frame 0). */
static void
take_standby(HpEngine* const e)
{
  bool quantized = false;
  if (standby_due(e, &quantized)) {
    return; /* none, or it waits for its boundary */
  }
  /* Room to retire the graphs fading, the tails, their parked owners and
     the one leaving now. */
  uint32_t leaving = e->n_fades + e->n_tails + 1u;
  for (uint32_t k = 0; k < e->n_tails; ++k) {
    leaving += e->tails[k].parked != NULL;
  }
  if (hp_ring_space(e->retired) < leaving) {
    return; /* keep playing; swap once the worker has caught up */
  }
  const uint32_t due_generation =
    (uint32_t)(atomic_load_explicit(&e->ready_info, memory_order_relaxed) >>
               32u);
  HpGraph* const g =
    atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel);
  if (!g) {
    /* The worker took it back: for a newer commit, or for a moment, to
       put a live set in it; then it swaps as soon as it is back, its
       boundary past. */
    e->overdue = due_generation;
    return;
  }
  /* A standby published after `ready_info` was read, in the same chunk,
     swaps here too: the worker counts a standby taken as playing. */
  replay_live(e, g);
  const HpGraphTag* tag = hp_graph_tag(g);
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    /* The warm-up started from tag->macro: only a later move glides. */
    if (!isnan(e->macro_pos[m]) && e->macro_pos[m] != tag->macro[m]) {
      hp_graph_macro(g, m, e->macro_pos[m], false);
    }
  }
  const float ms =
    tag->crossfade_ms >= 0.0f ? tag->crossfade_ms : e->crossfade_ms;
  const float    len = ms * 0.001f * e->rate;
  HpGraph* const old = e->active;
  /* At most one tail rings: a newer swap fades it out. */
  for (uint32_t k = 0; k < e->n_tails; ++k) {
    tail_end(e, &e->tails[k]);
  }
  hp_graph_take_over(g, old, tag->tail || len >= 1.0f);
  e->active = g;
  if (tag->tail) {
    /* No crossfade: the old graph rings its voices out beside the new.
       The graphs fading out under it end here, as at a switch: the last
       of them plays from the old graph's spare states, which the tail
       does not keep past its own fade (found by tests/model). */
    for (uint32_t i = 0; i < e->n_fades; ++i) {
      retire(e, e->fades[i].graph);
    }
    e->n_fades = 0;
    if (e->n_tails == MAX_TAILS) {
      retire_tail(e, 0);
    }
    hp_graph_ring_out(old);
    Tail* const t = &e->tails[e->n_tails++];
    t->graph      = old;
    t->owner      = g;
    t->parked     = NULL;
    t->frames     = 0;
    t->fade_pos   = 0;
    t->fade_len   = 0;
  } else if (len < 1.0f) {
    /* A switch at the sample: the new graph alone, whatever was fading. */
    for (uint32_t i = 0; i < e->n_fades; ++i) {
      retire(e, e->fades[i].graph);
    }
    e->n_fades = 0;
    retire(e, old);
  } else {
    if (e->n_fades == MAX_FADES) {
      /* The oldest fade ends early: its incoming graph plays in full
         where the two were mixed (a step of their difference, scaled by
         the fades after it). */
      retire(e, e->fades[0].graph);
      memmove(&e->fades[0], &e->fades[1], (MAX_FADES - 1u) * sizeof(Fade));
      --e->n_fades;
    }
    Fade* const fade  = &e->fades[e->n_fades++];
    fade->graph       = old;
    fade->pos         = 0;
    fade->len         = (uint32_t)len;
    fade->equal_power = !hp_graph_correlated(g);
  }
  ++e->status.swaps;
  e->status.generation   = tag->generation;
  e->status.module_count = hp_graph_module_count(g);
  /* The swap answers the commit: hp:Swapped, and its patch:Ack, sent once
     the new graph's first frame plays (at the next block's frame 0 when
     it swapped after this block's last frame). */
  if (e->n_swapped + 2u <= sizeof(e->swapped) / sizeof(e->swapped[0])) {
    HpEvent* ev = &e->swapped[e->n_swapped++];
    memset(ev, 0, sizeof(*ev));
    ev->type       = HP_EVENT_SWAPPED;
    ev->seq        = tag->seq;
    ev->generation = tag->generation;
    if (tag->seq != HP_NO_SEQ) {
      ev       = &e->swapped[e->n_swapped++];
      *ev      = e->swapped[e->n_swapped - 2u];
      ev->type = HP_EVENT_ACK;
    }
  }
}

/* The seqlock's writer side (see start_from_playing): no waiting, one
   relaxed store and a fence (free on x86) either side of writing states. */
static inline void
states_begin(HpEngine* const e)
{
  atomic_store_explicit(&e->rendering, ++e->render_count, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
}

static inline void
states_end(HpEngine* const e)
{
  atomic_store_explicit(&e->rendering, ++e->render_count, memory_order_release);
}

void
hp_engine_midi(HpEngine* const e, const uint8_t* const msg, const uint32_t size)
{
  states_begin(e);
  hp_graph_midi(e->active, msg, size);
  for (uint32_t i = 0; i < e->n_fades; ++i) {
    hp_graph_midi(e->fades[i].graph, msg, size);
  }
  /* Tails take no new notes; they take the rest (a note-off ends a held
     note there, the pedal holds them). */
  const bool note_on =
    size >= 3u && (msg[0] & 0xF0u) == 0x90u && (msg[2] & 0x7Fu);
  for (uint32_t i = 0; i < e->n_tails && !note_on; ++i) {
    hp_graph_midi(e->tails[i].graph, msg, size);
  }
  states_end(e);
}

void
hp_engine_macro(HpEngine* const e, const uint32_t macro, const float position)
{
  if (macro < HP_N_MACROS && position != e->macro_pos[macro] &&
      isfinite(position)) {
    e->macro_pos[macro] = position;
    atomic_store_explicit(
      &e->macro_shared[macro], position, memory_order_relaxed);
    hp_graph_macro(e->active, macro, position, false);
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

/* A graph whose output is not finite (a module blew up, e.g. an extreme
   resonance) is silenced for this chunk and restarts its DSP state, alone:
   the other graphs of a crossfade play on. */
static void
guard(HpGraph* const g,
      const bool     mono,
      float* const   l,
      float* const   r,
      const uint32_t n)
{
  /* Mono graphs (and crossfades and gain between them) leave right equal
     to left: checking left is enough. */
  if (!all_finite(l, n) || (!mono && !all_finite(r, n))) {
    memset(l, 0, n * sizeof(float));
    memset(r, 0, n * sizeof(float));
    hp_graph_reset(g);
  }
}

/* The context of every graph rendered in this chunk. */
static void
context(const HpEngine* const e, HpGraph* const g)
{
  hp_graph_context(g,
                   &e->time,
                   e->in_l ? e->in_chunk_l : NULL,
                   e->in_r ? e->in_chunk_r : NULL);
}

/* out = in * gin + acc * gout over one fade.  Equal power for uncorrelated
   material (independent sounds keep their summed power constant); equal
   gain when a kept module plays in both (the same waveform in phase adds
   in amplitude, so equal power would bulge +3 dB). */
static void
fade_mix(Fade* const        f,
         float* const       out,
         const float* const in,
         const float* const acc,
         const uint32_t     n)
{
  const float inv = 1.0f / (float)f->len;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t pos  = f->pos + i;
    const float    t    = pos >= f->len ? 1.0f : (float)pos * inv;
    float          gin  = t;
    float          gout = 1.0f - t;
    if (f->equal_power) {
      gin  = sinf(t * 1.5707964f);
      gout = cosf(t * 1.5707964f);
    }
    out[i] = in[i] * gin + acc[i] * gout;
  }
}

/* Mix the fading graphs out under the active one (rendered into l, r),
   oldest first: each fade mixes the next newer graph in over the mix of
   everything older.  A fade that ends silences everything older. */
static void
crossfade(HpEngine* const e, float* const l, float* const r, const uint32_t n)
{
  HpGraph* const oldest = e->fades[0].graph;
  guard(e->active, hp_graph_mono(e->active), l, r, n);
  context(e, oldest);
  hp_graph_process(oldest, e->fade_l, e->fade_r, n);
  guard(oldest, hp_graph_mono(oldest), e->fade_l, e->fade_r, n);
  uint32_t ended = 0;
  for (uint32_t k = 0; k < e->n_fades; ++k) {
    Fade* const f    = &e->fades[k];
    const bool  last = k + 1u == e->n_fades;
    float*      in_l = l;
    float*      in_r = r;
    if (!last) {
      in_l                = e->next_l;
      in_r                = e->next_r;
      HpGraph* const next = e->fades[k + 1u].graph;
      context(e, next);
      hp_graph_process(next, in_l, in_r, n);
      guard(next, hp_graph_mono(next), in_l, in_r, n);
    }
    fade_mix(f, last ? l : e->fade_l, in_l, e->fade_l, n);
    fade_mix(f, last ? r : e->fade_r, in_r, e->fade_r, n);
    f->pos += n;
    if (f->pos >= f->len) {
      ended = k + 1u;
    }
  }
  for (uint32_t k = 0; k < ended; ++k) {
    retire(e, e->fades[k].graph);
  }
  e->n_fades -= ended;
  memmove(&e->fades[0], &e->fades[ended], e->n_fades * sizeof(Fade));
}

/* Add the tails to l, r; end those that have rung out, retire those that
   have faded out. */
static void
ring_tails(HpEngine* const e, float* const l, float* const r, const uint32_t n)
{
  const uint32_t max_frames = (uint32_t)(TAIL_MAX_SECONDS * e->rate);
  for (uint32_t k = 0; k < e->n_tails;) {
    Tail* const t    = &e->tails[k];
    const bool  mono = hp_graph_mono(t->graph);
    context(e, t->graph);
    hp_graph_process(t->graph, e->tail_l, e->tail_r, n);
    guard(t->graph, mono, e->tail_l, e->tail_r, n);
    for (uint32_t i = 0; i < n; ++i) {
      float g = 1.0f;
      if (t->fade_len) {
        const uint32_t pos = t->fade_pos + i;
        g = pos >= t->fade_len ? 0.0f : 1.0f - (float)pos / (float)t->fade_len;
      }
      l[i] += e->tail_l[i] * g;
      r[i] += e->tail_r[i] * g;
    }
    if (t->fade_len) {
      t->fade_pos += n;
    } else {
      t->frames += n;
      if (!hp_graph_sounding(t->graph) || t->frames >= max_frames) {
        tail_end(e, t);
      }
    }
    if (t->fade_len && t->fade_pos >= t->fade_len) {
      retire_tail(e, k);
    } else {
      ++k;
    }
  }
}

/* The swaps done since the last chunk answer now: the new graph's first
   frame is the one rendered next. */
static void
report_swaps(HpEngine* const e)
{
  for (uint32_t i = 0; i < e->n_swapped; ++i) {
    HpEvent* const ev = push_rt_event(e);
    if (ev) {
      *ev       = e->swapped[i];
      ev->frame = e->block_pos;
    }
  }
  e->n_swapped = 0;
}

/* time.beat and time.bar_beat where rendering stands. */
static void
time_now(HpEngine* const e)
{
  HpTime* const t     = &e->time;
  const double  moved = (double)e->since_anchor * t->beats_per_frame;
  const double  bar   = e->anchor_bar_beat + moved;
  const double  bpb   = (double)t->beats_per_bar;
  t->beat             = e->anchor_beat + moved;
  t->bar_beat         = bar - floor(bar / bpb) * bpb;
}

void
hp_engine_render(HpEngine* const e,
                 float* const    out_l,
                 float* const    out_r,
                 const uint32_t  nframes)
{
  states_begin(e);
  for (uint32_t done = 0; done < nframes;) {
    uint32_t n = nframes - done < HP_CHUNK ? nframes - done : HP_CHUNK;
    /* A quantized standby swaps on its boundary's frame: the chunk ends
       there.  (Others swap where a block or a message begins.) */
    bool           quantized = false;
    const uint32_t due       = standby_due(e, &quantized);
    if (quantized && !due) {
      take_standby(e);
    } else if (quantized && due < n) {
      n = due;
    }
    report_swaps(e);
    float* const l = out_l + done;
    float* const r = out_r + done;
    if (e->in_l) { /* before out_l, which may be the same buffer, is written */
      memcpy(e->in_chunk_l, e->in_l + done, n * sizeof(float));
      memcpy(e->in_chunk_r, e->in_r + done, n * sizeof(float));
    }
    context(e, e->active);
    hp_graph_process(e->active, l, r, n);
    bool mono = hp_graph_mono(e->active);
    for (uint32_t k = 0; k < e->n_fades; ++k) {
      mono &= hp_graph_mono(e->fades[k].graph);
    }
    for (uint32_t k = 0; k < e->n_tails; ++k) {
      mono &= hp_graph_mono(e->tails[k].graph);
    }
    if (e->n_fades) {
      crossfade(e, l, r, n);
    }
    if (e->n_tails) {
      ring_tails(e, l, r, n);
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
    /* A crossfade has checked each of its graphs already: what is left
       to catch here is the active graph playing alone, or an overflow. */
    guard(e->active, mono, l, r, n);
    e->since_anchor += n;
    time_now(e);
    e->block_pos += n;
    done += n;
  }
  if (e->in_l) {
    e->in_l += nframes;
    e->in_r += nframes;
  }
  states_end(e);
}

void
hp_engine_input(HpEngine* const    e,
                const float* const in_l,
                const float* const in_r)
{
  /* Both or neither. */
  e->in_l = in_l && in_r ? in_l : NULL;
  e->in_r = in_l && in_r ? in_r : NULL;
}

void
hp_engine_time(HpEngine* const e,
               const double    beat,
               const double    bar_beat,
               const float     bpm,
               const float     beats_per_bar,
               const float     speed)
{
  HpTime* const t = &e->time;
  /* Counted from here on, whatever is new. */
  e->anchor_beat     = t->beat;
  e->anchor_bar_beat = t->bar_beat;
  e->since_anchor    = 0;
  const bool beat_ok = isfinite(beat) && fabs(beat) < 0x1p40;
  if (beat_ok) {
    e->anchor_beat = beat;
    t->known       = true;
  }
  if (isfinite(bpm) && bpm > 0.0f && bpm <= 10000.0f) {
    t->bpm = bpm;
  }
  if (isfinite(beats_per_bar) && beats_per_bar > 0.0f &&
      beats_per_bar <= 1024.0f) {
    t->beats_per_bar = beats_per_bar;
  }
  if (isfinite(speed) && fabsf(speed) <= 64.0f) {
    e->speed = speed;
  }
  if (isfinite(bar_beat) && bar_beat >= 0.0 && bar_beat < 0x1p40) {
    e->anchor_bar_beat = bar_beat;
  } else if (beat_ok) {
    e->anchor_bar_beat = beat; /* time_now() takes its remainder */
  }
  t->rolling = t->known && e->speed != 0.0f;
  t->beats_per_frame =
    t->rolling ? (double)t->bpm * (double)e->speed / (60.0 * (double)e->rate)
               : 0.0;
  time_now(e);
}

bool
hp_engine_next_event(HpEngine* const e, HpEvent* const event)
{
  if (e->text_out) { /* the host is done with the last reply's text */
    e->text_out = false;
    atomic_store_explicit(&e->text_busy, false, memory_order_release);
  }
  /* The worker's notifications first: a Primed precedes its Swapped. */
  if (hp_ring_pop(e->events, event)) {
    if (event->type == HP_EVENT_PRIMED) {
      e->status.last_prime_ms = event->prime_ms;
    } else if (event->type == HP_EVENT_PATCH) {
      event->text     = e->patch_text;
      event->text_len = e->patch_text_len;
      e->text_out     = true;
    }
    return true;
  }
  if (!e->n_rt_events) {
    return false;
  }
  *event      = e->rt_events[e->rt_first];
  e->rt_first = (e->rt_first + 1u) % RT_EVENT_QUEUE;
  --e->n_rt_events;
  return true;
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
    e->crossfade_ms = ms < 0.0f                  ? 0.0f
                      : ms > HP_MAX_CROSSFADE_MS ? HP_MAX_CROSSFADE_MS
                                                 : ms;
  }
}

void
hp_engine_status(const HpEngine* const e, HpEngineStatus* const status)
{
  *status              = e->status;
  status->module_count = hp_graph_module_count(e->active);
  status->voices       = hp_graph_voices(e->active);
  status->voices_sounding =
    (uint32_t)__builtin_popcount(hp_graph_sounding(e->active));
  status->swapping         = e->n_fades || e->n_tails;
  bool           quantized = false;
  const uint32_t due       = standby_due(e, &quantized);
  status->swap_waiting     = quantized && due; /* its boundary ahead */
}
