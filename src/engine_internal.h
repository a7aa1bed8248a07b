/*
  The engine's insides, shared by the files that each do one of its jobs:
    audio_thread.c  what run() does: take a ready standby, render,
                    crossfade, guard against NaN, gain, answer
    worker.c        what the worker does: interpret ops, build, prime,
                    warm up, publish; scenes, patch:Get, load and save
    patch_file.c    the patch file: reading it safely, and live reload
    engine.c        creating and freeing an engine
  Every field below says which thread may touch it.

  The handover (checked by tests/model): `ready` holds at most one graph;
  only the worker puts graphs in, both sides take them out with an
  exchange, so a graph is owned by exactly one side at a time; the audio
  thread frees nothing.
*/

#ifndef HP_ENGINE_INTERNAL_H
#define HP_ENGINE_INTERNAL_H

#include "engine.h"
#include "graph.h"
#include "patch.h"
#include "patchdoc.h"
#include "ring.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define OP_QUEUE_SIZE 1024u    /* operations between two worker runs */
#define EVENT_QUEUE_SIZE 1024u /* the worker's notifications for run() */
#define EVENTS_PER_OP 3u       /* the most one op emits (Error, Primed, ...) */
#define RT_EVENT_QUEUE 256u    /* run()'s own: swaps, refused messages */
#define RETIRE_QUEUE_SIZE 16u  /* graphs waiting to be freed */
#define MAX_FADES 4u           /* graphs fading out at once */
#define MAX_TAILS 3u           /* one ringing, the others fading out */
#define TAIL_MAX_SECONDS 10.0f /* a tail rings this long at most */
#define TAIL_FADE_MS 10.0f     /* and then, or when silent, fades out */
#define MAX_PRIMES 4096u
#define PATCH_TEXT_MAX 60000u   /* fits the notify port's 64 KiB minimum */
#define LIVE_RELOAD_PERIOD 0.5f /* seconds between looks at the patch file */

/* A prime op kept for the next commit: the fields of a set, and whether it
   gates. */
typedef struct {
  HpSetOp set;
  bool    gate;
} HpPrime;

/* A graph fading out under the next newer one (the next in `fades`, or
   `active`), from its own position: fades nest, each newer graph fading in
   over everything older. */
typedef struct {
  HpGraph* graph;
  uint32_t pos;
  uint32_t len;
  bool     equal_power;
} Fade;

/* A graph replaced by a tail commit (DESIGN 3b), ringing its voices out
   beside the active one: until none sounds (or TAIL_MAX_SECONDS), then
   fading out over TAIL_FADE_MS.  It plays its kept modules from copies in
   `owner`'s spare states (hp_graph_take_over()): when `owner` leaves play
   first (a later swap without a crossfade, or with a shorter one), it is
   kept here, out of play, until the tail has faded out, and retires with
   it. */
typedef struct {
  HpGraph*       graph;
  const HpGraph* owner;  /* NULL once parked */
  HpGraph*       parked; /* the owner, out of play, or NULL */
  uint32_t       frames; /* rung so far */
  uint32_t       fade_pos;
  uint32_t       fade_len; /* 0: ringing */
} Tail;

struct HpEngineImpl {
  /* Set at creation, read-only after. */
  float          rate;
  HpLogFunc      log;      /* called by the worker only */
  HpScheduleFunc schedule; /* called by the audio thread only */
  void*          handle;   /* for both */

  /* Shared, lock-free: each says who writes and who reads. */
  HpRing*           ops;     /* audio writes, worker reads: HpOp */
  HpRing*           events;  /* worker writes, audio reads: HpEvent */
  HpRing*           retired; /* audio writes, worker reads: HpGraph* to free */
  _Atomic(HpGraph*) ready;   /* the readiness flag: a primed standby; the
                                worker stores, either side exchanges */
  _Atomic(uint64_t) ready_info; /* worker writes before storing `ready`,
                                   audio reads: READY_INFO() of its tag, so
                                   that run() knows when a quantized standby
                                   is due without taking it */
  atomic_bool text_busy;        /* worker sets, audio clears: patch_text holds a
                                   reply not yet taken by the host */
  atomic_bool watching;         /* worker writes, audio reads: live reload has
                                   a file to watch */
  _Atomic(float) macro_shared[HP_N_MACROS]; /* audio writes macro_pos here
                                               for the worker's warm-ups */
  atomic_uint rendering; /* seqlock (see start_from_playing()): audio
                            writes, odd while it writes DSP state */
  char* patch_text;      /* worker writes while text_busy is false, audio
                            reads while it is true */
  uint32_t patch_text_len;

  /* Audio thread only. */
  HpGraph* active;
  HpTime   time;            /* the host's, at the frame rendered next */
  float    speed;           /* the transport's, as the host sent it */
  double   anchor_beat;     /* time.beat and time.bar_beat at the host's */
  double   anchor_bar_beat; /* last position, `since_anchor` frames */
  uint64_t since_anchor;    /* ago (counted, not summed: exact) */
  uint32_t overdue;         /* the generation of a quantized standby whose
                               boundary passed while the worker held it */
  const float*   in_l;      /* the effect's inputs, the frames rendered next */
  const float*   in_r;
  float          in_chunk_l[HP_CHUNK]; /* this chunk's: hosts may process */
  float          in_chunk_r[HP_CHUNK]; /* in place (out_l == in_l) */
  bool           has_input;        /* the effect: `input` reads in_l, in_r */
  Fade           fades[MAX_FADES]; /* oldest first */
  uint32_t       n_fades;
  Tail           tails[MAX_TAILS]; /* oldest first */
  uint32_t       n_tails;
  uint32_t       render_count; /* what `rendering` was last set to */
  uint32_t       block_pos;    /* frame of the block rendered next */
  bool           need_work;    /* a token is owed to the worker */
  bool           text_out;     /* the last event handed out held text */
  uint32_t       tick_frames;  /* since live reload last looked */
  uint32_t       tick_period;
  float          gain_target;
  float          gain_db; /* what gain_target was computed from */
  float          gain_current;
  float          gain_coef;
  float          crossfade_ms;
  float          macro_pos[HP_N_MACROS];    /* NAN until the host sets one */
  HpEvent        rt_events[RT_EVENT_QUEUE]; /* ring: swaps, refusals */
  uint32_t       rt_first;
  uint32_t       n_rt_events;
  HpEvent        swapped[16]; /* swaps' events, until they play */
  uint32_t       n_swapped;
  HpEngineStatus status;
  uint32_t       serial;           /* of the last op queued */
  float          fade_l[HP_CHUNK]; /* the fades mixed so far */
  float          fade_r[HP_CHUNK];
  float          next_l[HP_CHUNK]; /* the graph fading in over them */
  float          next_r[HP_CHUNK];
  float          tail_l[HP_CHUNK]; /* a tail, before it is added */
  float          tail_r[HP_CHUNK];

  /* Worker side, under `lock` (also taken by restore and save, never by
     the audio thread).  `work_lock` makes hp_engine_work() the one consumer
     of `ops` while it reads a patch file with `lock` released. */
  pthread_mutex_t work_lock;
  pthread_mutex_t lock;
  HpBank*         bank; /* scenes; the active one is `committed` */
  char            patch_file[HP_MESSAGE_MAX]; /* "" when none */
  struct timespec file_mtime;
  off_t           file_size;
  bool            live_reload;
  HpPatch*        staged;     /* what the next commit builds */
  HpPatch*        committed;  /* the patch of the newest published graph */
  HpPatch*        base_patch; /* the patch of `base` */
  HpPatch*        history[HP_HISTORY - 1u]; /* the patches committed
                                               before `committed`, newest
                                               first: hp:Revert N plays
                                               history[N - 1] */
  uint32_t n_history;
  HpGraph* base;      /* the graph known to be playing */
  HpGraph* published; /* put in `ready`; maybe taken since */
  bool     dirty;     /* staged differs structurally from committed */
  uint32_t applied;   /* serial of the last op applied (a graph
                         built now holds the sets up to it) */
  HpPrime* primes;
  uint32_t n_primes;
  uint32_t generation;
  float*   warm_l;
  float*   warm_r;
};

/* What `ready_info` holds for a standby: its generation and hp:quant. */
static inline uint64_t
ready_info(const HpGraphTag* const tag)
{
  uint32_t quant = 0;
  memcpy(&quant, &tag->quant, sizeof(quant));
  return (uint64_t)tag->generation << 32u | quant;
}

/* Put a live hp:Set or hp:Gate on a graph, by the keys hp_engine_submit()
   put in it (no string compared); false when the graph has no such module
   or parameter or refuses the value.  Audio thread, or the worker on a
   standby it holds. */
static inline bool
set_live(HpGraph* const g, const HpOp* const op, const bool immediate)
{
  const bool gate = op->type == HP_OP_GATE;
  return hp_graph_set_key(g,
                          op->set.module_key,
                          op->set.param_key,
                          op->set.choice[0] ? op->set.choice_key : 0u,
                          gate ? (op->set.value >= 0.5f ? 1.0f : 0.0f)
                               : op->set.value,
                          immediate);
}

/* worker.c, with `lock` held */

/* Answer a message: an error (always, and logged) or an ack (if numbered). */
void hp_worker_reply(HpEngine* e, int32_t seq, HpStatus st, const HpError* err);

/* Install a parsed document as the bank and commit its active scene. */
HpStatus hp_worker_install_document(HpEngine*   e,
                                    const char* text,
                                    const char* base_uri,
                                    int32_t     seq,
                                    HpError*    err);

/* Free the graphs run() retired (also at hp_engine_free()). */
void hp_worker_free_retired(HpEngine* e);

/* patch_file.c: hp:patchFile and live reload's look at the file.  Called
   with `lock` held, which it releases while it reads. */
void hp_patch_file_op(HpEngine* e, const HpOp* op);

#endif /* HP_ENGINE_INTERNAL_H */
