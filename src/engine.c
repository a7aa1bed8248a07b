/*
  The hot-swap mechanism (DESIGN.md section 4).

  Audio thread (run): renders `active`, crossfading from the graphs in
  `fades` after swaps; queues operations for the worker; takes a primed
  standby from `ready` when it sees one, even during a crossfade; hands
  retired graphs back to the worker.

  Worker: applies operations to the staged patch; on commit builds the
  standby graph in one allocation, applies prime ops, warms it up, checks
  the warm-up and publishes it with one release store to `ready`.  Frees
  retired graphs.  A commit that succeeds and finds an earlier standby
  still unswapped takes it back (atomic exchange) and frees it: the last
  good commit wins.  A live set reaches a standby not yet swapped in either
  from the worker (which takes it back, sets, and publishes it again) or,
  when run() took it first, from run() replaying the sets still queued.

  Handover invariants (checked by tests/model): `ready` holds at most one
  graph; only the worker puts graphs in, both sides take them out with an
  exchange, so a graph is owned by exactly one side at a time; the audio
  thread frees nothing.
*/

#include "hotpatch.h"

#include "graph.h"
#include "ops.h"
#include "patch.h"
#include "patchdoc.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

#define OP_QUEUE_SIZE 1024u     /* operations between two worker runs */
#define EVENT_QUEUE_SIZE 1024u  /* notifications waiting for run() */
#define EVENTS_PER_OP 3u        /* the most one op emits (Error, Primed, ...) */
#define RETIRE_QUEUE_SIZE 16u   /* graphs waiting to be freed */
#define MAX_FADES 4u            /* graphs fading out at once */
#define STATE_COPY_TRIES 8      /* torn copies before warming up fresh */
#define MAX_PRIMES 4096u
#define DEFAULT_WARMUP 8
#define MAX_CROSSFADE_MS 10000.0f
#define SILENCE_RMS 0.001f      /* the seed's threshold for "has signal" */
#define MAX_WARMUP_PEAK 64.0f   /* +36 dBFS: anything above is broken */
#define MAX_RT_EVENTS 16u
#define PATCH_TEXT_MAX 60000u   /* fits the notify port's 64 KiB minimum */
#define MAX_FILE_SIZE (16u << 20u)

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
  _Atomic(float)    macro_shared[HP_N_MACROS]; /* macro_pos, for the worker */
  atomic_uint       rendering; /* seqlock: odd while run() writes states */
  char*             patch_text;
  uint32_t          patch_text_len;

  /* Audio thread only. */
  HpGraph*       active;
  Fade           fades[MAX_FADES]; /* oldest first */
  uint32_t       n_fades;
  uint32_t       render_count;     /* what `rendering` was last set to */
  uint32_t       block_pos;        /* frame of the run() block rendered next */
  bool           need_work;
  float          gain_target;
  float          gain_db; /* what gain_target was computed from */
  float          gain_current;
  float          gain_coef;
  float          crossfade_ms;
  float          macro_pos[HP_N_MACROS]; /* NAN until the host sets one */
  HpEvent        rt_events[MAX_RT_EVENTS];
  uint32_t       n_rt_events;
  HpEvent        swapped[MAX_RT_EVENTS]; /* until their first frame plays */
  uint32_t       n_swapped;
  HpEngineStatus status;
  uint32_t       serial;    /* of the last op queued */
  float          fade_l[HP_CHUNK]; /* the fades mixed so far */
  float          fade_r[HP_CHUNK];
  float          next_l[HP_CHUNK]; /* the graph fading in over them */
  float          next_r[HP_CHUNK];

  /* Worker side, under `lock` (also taken by restore and save, never by
     the audio thread).  `work_lock` makes hp_engine_work() the one consumer
     of `ops` while it reads a patch file with `lock` released. */
  pthread_mutex_t work_lock;
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
  uint32_t        applied;    /* serial of the last op applied (a graph
                                 built now holds the sets up to it) */
  HpPrime*        primes;
  uint32_t        n_primes;
  uint32_t        generation;
  float*          warm_l;
  float*          warm_r;
};

/* Worker side */

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

/* Put a live hp:Set or hp:Gate on a graph, by the keys hp_engine_submit()
   put in it (no string compared); false when the graph has no such module
   or parameter or refuses the value.  Audio thread, or the worker on a
   standby it holds. */
static bool
set_live(HpGraph* const g, const HpOp* const op, const bool immediate)
{
  const bool gate = op->type == HP_OP_GATE;
  return hp_graph_set_key(g, op->set.module_key, op->set.param_key,
                          op->set.choice[0] ? op->set.choice_key : 0u,
                          gate ? (op->set.value >= 0.5f ? 1.0f : 0.0f)
                               : op->set.value,
                          immediate);
}

static void
emit(HpEngine* const e, const HpEvent* const ev)
{
  if (!hp_ring_push(e->events, ev) && e->log) {
    e->log(e->log_handle, true, "notification queue full; one dropped");
  }
}

/* Answer a message: an error (always, and logged) or an ack (if numbered).
   A superseded commit is normal use, not a fault: the log gets a note (hosts
   such as Ardour show errors to the user). */
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
      e->log(e->log_handle, st != HP_ERR_SUPERSEDED, ev.message);
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
  }
  settle_base(e);
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
      return hp_error(err, HP_ERR_BAD_VALUE,
                      "prime op %u: '%.64s' is not a value of %.64s:%.64s",
                      i + 1u, op->set.choice, op->set.module, param);
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
      if (atomic_load_explicit(&e->rendering, memory_order_relaxed) ==
          before) {
        return;
      }
    }
    nanosleep(&(struct timespec){0, 100000}, NULL);
  }
  hp_graph_restart_kept(g);
}

/* The standby for the staged patch, built against `base` (what plays): the
   prime ops applied, then warmed up and judged.  NULL, with `err` set, when
   a step fails. */
static HpGraph*
build_standby(HpEngine* const e, const HpOp* const op, const int32_t warmup,
              float* const rms, HpError* const err)
{
  HpGraph* const g  = hp_graph_new(e->staged, e->base, e->rate, err);
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
    reply(e, op->seq, err.status, &err);
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
  const uint32_t scene = op->scene >= 0 && op->scene < (int32_t)HP_MAX_SCENES
                           ? (uint32_t)op->scene
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

/* A patch file as read, outside `lock`. */
typedef struct {
  char*           text;  /* the document, or NULL: `err` says why */
  HpError         err;
  bool            found; /* it exists: watch its time and size */
  struct timespec mtime;
  off_t           size;
} PatchFile;

static const char*
file_kind(const mode_t mode)
{
  return S_ISFIFO(mode)  ? "a FIFO"
         : S_ISCHR(mode) ? "a character device"
         : S_ISBLK(mode) ? "a block device"
         : S_ISDIR(mode) ? "a directory"
         : S_ISSOCK(mode) ? "a socket"
                          : "of an unknown kind";
}

/* Read a whole patch file.  Only a regular file of a bounded size: a FIFO
   or a device could block or never end.  Opened non-blocking, so even a
   FIFO without a writer only gets looked at. */
static void
read_file(const char* const path, PatchFile* const file)
{
  HpError* const err = &file->err;
  struct stat    info;
  memset(file, 0, sizeof(*file));
  const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &info)) {
    hp_error(err, HP_ERR_IO, "cannot open patch file '%.200s': %s", path,
             strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return;
  }
  file->found = true;
  file->mtime = info.st_mtim;
  file->size  = info.st_size;
  char*  text = NULL;
  size_t len  = 0;
  if (!S_ISREG(info.st_mode)) {
    hp_error(err, HP_ERR_IO,
             "patch file '%.200s' is %s, not a regular file; give the path "
             "of a Turtle patch document",
             path, file_kind(info.st_mode));
  } else if (info.st_size > (off_t)MAX_FILE_SIZE) {
    hp_error(err, HP_ERR_TOO_LARGE, "patch file '%.200s' is larger than %u MiB",
             path, MAX_FILE_SIZE >> 20u);
  } else if (!(text = (char*)malloc((size_t)info.st_size + 1u))) {
    hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  } else {
    /* A file being written may be shorter than fstat said: read what is
       there (the parser refuses a cut document). */
    ssize_t got = 0;
    while (len < (size_t)info.st_size &&
           ((got = read(fd, text + len, (size_t)info.st_size - len)) > 0 ||
            (got < 0 && errno == EINTR))) {
      len += got > 0 ? (size_t)got : 0u;
    }
    if (got < 0) {
      hp_error(err, HP_ERR_IO, "cannot read patch file '%.200s': %s", path,
               strerror(errno));
    } else if (memchr(text, '\0', len)) {
      hp_error(err, HP_ERR_SYNTAX,
               "patch file '%.200s' is binary, not a Turtle patch document",
               path);
    } else {
      text[len]  = '\0';
      file->text = text;
      text       = NULL;
    }
  }
  free(text);
  close(fd);
}

/* Install a patch file read by read_file(), and watch it. */
static void
load_file(HpEngine* const e, const char* const path, PatchFile* const file,
          const int32_t seq)
{
  HpStatus st = file->text ? HP_SUCCESS : file->err.status;
  if (file->text) {
    char uri[HP_MESSAGE_MAX + 8];
    snprintf(uri, sizeof(uri), "file://%s", path);
    HpError why;
    if ((st = install_document(e, file->text, uri, seq, &why))) {
      hp_error(&file->err, st, "patch file '%.120s': %.180s", path,
               why.message);
    }
  }
  /* Watch the file even when this version is broken: the next save may
     mend it. */
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path);
  e->file_mtime = file->found ? file->mtime : (struct timespec){0, 0};
  e->file_size  = file->found ? file->size : -1;
  atomic_store(&e->watching, e->live_reload);
  if (st) {
    reply(e, seq, st, &file->err);
  }
}

/* hp:patchFile, and live reload's look at the file (a changed file is
   loaded, primed and crossfaded in).  The file is read with `lock`
   released: save() takes it, and a slow disk must not hold a save up.
   Called by hp_engine_work() with `lock` held. */
static void
patch_file_op(HpEngine* const e, const HpOp* const op)
{
  char path[HP_MESSAGE_MAX];
  memcpy(path, op->type == HP_OP_TICK ? e->patch_file : op->file.text,
         sizeof(path));
  path[sizeof(path) - 1u] = '\0';
  if (op->type == HP_OP_TICK && (!e->live_reload || !path[0])) {
    return;
  }
  if (path[0] != '/') {
    HpError err;
    hp_error(&err, HP_ERR_BAD_VALUE,
             "hp:patchFile needs an absolute path, not '%.200s'", path);
    reply(e, op->seq, err.status, &err);
    return;
  }
  const struct timespec seen = e->file_mtime;
  const off_t           size = e->file_size;
  pthread_mutex_unlock(&e->lock);
  struct stat info;
  PatchFile   file;
  memset(&file, 0, sizeof(file));
  const bool changed =
    op->type != HP_OP_TICK ||
    (!stat(path, &info) &&
     (info.st_mtim.tv_sec != seen.tv_sec ||
      info.st_mtim.tv_nsec != seen.tv_nsec || info.st_size != size));
  if (changed) {
    read_file(path, &file);
  }
  pthread_mutex_lock(&e->lock);
  if (changed) {
    load_file(e, path, &file, op->seq);
  }
  free(file.text);
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
  HpGraph* const g = e->published ? atomic_exchange_explicit(
                                     &e->ready, NULL, memory_order_acq_rel)
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
  reply(e, op->seq, HP_SUCCESS, NULL);
}

/* With `lock` held (released meanwhile while a patch file is read). */
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
      e->log(e->log_handle, true, op->log.text);
    }
    return;
  case HP_OP_GET: answer_get(e, op); return;
  case HP_OP_SCENE: switch_scene(e, op); return;
  case HP_OP_LOAD_FILE:
  case HP_OP_TICK: patch_file_op(e, op); return;
  case HP_OP_LIVE_RELOAD:
    e->live_reload = op->reload;
    atomic_store(&e->watching, e->live_reload && e->patch_file[0]);
    reply(e, op->seq, HP_SUCCESS, NULL);
    return;
  case HP_OP_PRIME_SET:
  case HP_OP_PRIME_GATE:
    if (e->n_primes >= MAX_PRIMES) {
      st = hp_error(&err, HP_ERR_TOO_LARGE, "more than %u prime ops",
                    MAX_PRIMES);
    } else {
      add_prime(e, op);
    }
    break;
  case HP_OP_SET:
  case HP_OP_GATE: st = record_live(e, op, &err); break;
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
  pthread_mutex_lock(&e->work_lock);
  pthread_mutex_lock(&e->lock);
  free_retired(e);
  /* Take an op only while its answers fit: none is ever dropped.  What is
     left waits for the next token (run() schedules one while ops wait).
     An op leaves the queue only once applied: run() replays the live sets
     still queued on a standby it takes (replay_live). */
  HpOp op;
  while (hp_ring_space(e->events) >= EVENTS_PER_OP &&
         hp_ring_peek(e->ops, &op)) {
    apply_op(e, &op);
    e->applied = op.serial;
    hp_ring_skip(e->ops);
  }
  free_retired(e);
  pthread_mutex_unlock(&e->lock);
  pthread_mutex_unlock(&e->work_lock);
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
  e->primes       = (HpPrime*)calloc(MAX_PRIMES, sizeof(HpPrime));
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
    atomic_init(&e->macro_shared[m], NAN);
  }
  atomic_init(&e->rendering, 0u);
  atomic_init(&e->ready, NULL);
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
  hp_graph_free(atomic_load(&e->ready));
  hp_graph_free(e->active);
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
  free(e->primes);
  free(e->patch_text);
  free(e->warm_l);
  free(e->warm_r);
  pthread_mutex_destroy(&e->lock);
  pthread_mutex_destroy(&e->work_lock);
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
  struct stat st_file; /* looked at before the lock: no I/O under it */
  const bool  found = path && path[0] && !stat(path, &st_file);
  pthread_mutex_lock(&e->lock);
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path ? path : "");
  e->live_reload = live_reload;
  if (found) {
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

/* hp_engine_poll() swaps only when the retired ring has room for every
   graph that can retire before the next swap: this never fails. */
static void
retire(HpEngine* const e, HpGraph* const g)
{
  hp_ring_push(e->retired, &g);
  e->need_work = true;
}

HpStatus
hp_engine_submit(HpEngine* const e, const HpOp* const op)
{
  HpOp queued   = *op;
  queued.serial = e->serial + 1u;
  const bool live = op->type == HP_OP_SET || op->type == HP_OP_GATE;
  if (live) {
    /* Resolved by number from here on: the graphs know these keys. */
    queued.set.module_key = hp_name_key(op->set.module);
    queued.set.param_key  = hp_name_key(op->set.param);
    queued.set.choice_key = op->set.choice[0] ? hp_name_key(op->set.choice)
                                              : 0u;
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
  e->block_pos = frame;
  /* Room to retire the graphs fading and the one leaving now. */
  if (hp_ring_space(e->retired) < e->n_fades + 1u ||
      !atomic_load_explicit(&e->ready, memory_order_acquire)) {
    return; /* keep playing; swap once the worker has caught up */
  }
  HpGraph* const g =
    atomic_exchange_explicit(&e->ready, NULL, memory_order_acq_rel);
  if (!g) {
    return; /* the worker took it back for a newer commit */
  }
  replay_live(e, g);
  const HpGraphTag* tag = hp_graph_tag(g);
  for (uint32_t m = 0; m < HP_N_MACROS; ++m) {
    /* The warm-up started from tag->macro: only a later move glides. */
    if (!isnan(e->macro_pos[m]) && e->macro_pos[m] != tag->macro[m]) {
      hp_graph_macro(g, m, e->macro_pos[m], false);
    }
  }
  const float ms  = tag->crossfade_ms >= 0.0f ? tag->crossfade_ms : e->crossfade_ms;
  const float len = ms * 0.001f * e->rate;
  HpGraph* const old = e->active;
  hp_graph_take_over(g, old, len >= 1.0f);
  e->active = g;
  if (len < 1.0f) {
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
  if (e->n_rt_events + e->n_swapped + 2u <= MAX_RT_EVENTS) {
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
  atomic_store_explicit(&e->rendering, ++e->render_count,
                        memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
}

static inline void
states_end(HpEngine* const e)
{
  atomic_store_explicit(&e->rendering, ++e->render_count,
                        memory_order_release);
}

void
hp_engine_midi(HpEngine* const e, const uint8_t* const msg,
               const uint32_t size)
{
  states_begin(e);
  hp_graph_midi(e->active, msg, size);
  for (uint32_t i = 0; i < e->n_fades; ++i) {
    hp_graph_midi(e->fades[i].graph, msg, size);
  }
  states_end(e);
}

void
hp_engine_macro(HpEngine* const e, const uint32_t macro, const float position)
{
  if (macro < HP_N_MACROS && position != e->macro_pos[macro] &&
      isfinite(position)) {
    e->macro_pos[macro] = position;
    atomic_store_explicit(&e->macro_shared[macro], position,
                          memory_order_relaxed);
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
guard(HpGraph* const g, const bool mono, float* const l, float* const r,
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

/* out = in * gin + acc * gout over one fade.  Equal power for uncorrelated
   material (independent sounds keep their summed power constant); equal
   gain when a kept module plays in both (the same waveform in phase adds
   in amplitude, so equal power would bulge +3 dB). */
static void
fade_mix(Fade* const f, float* const out, const float* const in,
         const float* const acc, const uint32_t n)
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
crossfade(HpEngine* const e, float* const l, float* const r,
          const uint32_t n)
{
  HpGraph* const oldest = e->fades[0].graph;
  guard(e->active, hp_graph_mono(e->active), l, r, n);
  hp_graph_process(oldest, e->fade_l, e->fade_r, n);
  guard(oldest, hp_graph_mono(oldest), e->fade_l, e->fade_r, n);
  uint32_t ended = 0;
  for (uint32_t k = 0; k < e->n_fades; ++k) {
    Fade* const f    = &e->fades[k];
    const bool  last = k + 1u == e->n_fades;
    float*      in_l = l;
    float*      in_r = r;
    if (!last) {
      in_l = e->next_l;
      in_r = e->next_r;
      HpGraph* const next = e->fades[k + 1u].graph;
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

void
hp_engine_render(HpEngine* const e, float* const out_l, float* const out_r,
                 const uint32_t nframes)
{
  for (uint32_t i = 0; i < e->n_swapped; ++i) {
    e->rt_events[e->n_rt_events] = e->swapped[i];
    e->rt_events[e->n_rt_events++].frame = e->block_pos;
  }
  e->n_swapped = 0;
  e->block_pos += nframes;
  states_begin(e);
  for (uint32_t done = 0; done < nframes;) {
    const uint32_t n = nframes - done < HP_CHUNK ? nframes - done : HP_CHUNK;
    float* const   l = out_l + done;
    float* const   r = out_r + done;
    hp_graph_process(e->active, l, r, n);
    bool mono = hp_graph_mono(e->active);
    for (uint32_t k = 0; k < e->n_fades; ++k) {
      mono &= hp_graph_mono(e->fades[k].graph);
    }
    if (e->n_fades) {
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
    /* A crossfade has checked each of its graphs already: what is left
       to catch here is the active graph playing alone, or an overflow. */
    guard(e->active, mono, l, r, n);
    done += n;
  }
  states_end(e);
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
