/*
  The stress soak's operations (tests/test_stress_soak.c): the kinds of
  operation it mixes, what each numbered message was and what became of it
  (the Soak), the messages each operation sends (the patches it commits
  draw modules of every type from the registry), the patch documents it
  loads, and the clocks and memory figures it reads.
*/

#ifndef HP_TEST_SOAK_H
#define HP_TEST_SOAK_H

#include "fixture.h"
#include "module.h"

#include <lv2/atom/forge.h>

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS (1u << 17u)      /* sequence numbers tracked at once */
#define MAX_TYPES 64u          /* module types: bits of a commit's mask */
#define ZOO_MAX 3u             /* registry modules a commit draws, at most */
#define ZOO_IDS (ZOO_MAX + 5u) /* ... with the loop's two and kd, kr */

static inline double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void
sleep_s(const double s)
{
  if (s <= 0.0) {
    return;
  }
  struct timespec t;
  t.tv_sec  = (time_t)s;
  t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
  nanosleep(&t, NULL);
}

/* Resident set size in KiB (/proc/self/statm), and of it the pages not
   backed by files (heap, stacks: what a leak grows) in `anon`. */
static inline long
rss_kb(long* const anon)
{
  FILE* f        = fopen("/proc/self/statm", "r");
  long  size     = 0;
  long  resident = -1;
  long  shared   = 0;
  if (f) {
    if (fscanf(f, "%ld %ld %ld", &size, &resident, &shared) != 3) {
      resident = -1;
    }
    fclose(f);
  }
  const long page = sysconf(_SC_PAGESIZE) / 1024;
  if (anon) {
    *anon = resident < 0 ? -1 : (resident - shared) * page;
  }
  return resident < 0 ? -1 : resident * page;
}

/* Heap in use (all malloc arenas, mmapped chunks included) in KiB: a leak
   shows here; RSS also counts pages the allocator keeps for reuse. */
static inline long
heap_kb(void)
{
  const struct mallinfo2 m = mallinfo2();
  return (long)((m.uordblks + m.hblkhd) / 1024u);
}

static inline unsigned long
env_number(const char* const name, const unsigned long def)
{
  const char* v = getenv(name);
  return v && *v ? strtoul(v, NULL, 10) : def;
}

/* What the host's log of blocks (it keeps every one; 16 bytes each, in an
   array doubled from 1,024 entries) holds and allocates, in KiB: test
   infrastructure, taken out of the memory figures. */
static inline long
block_log_kb(const size_t n_blocks, const bool allocated)
{
  size_t cap = 1024;
  while (cap < n_blocks) {
    cap *= 2;
  }
  return (long)((allocated ? cap : n_blocks) * sizeof(HpBlock) / 1024u);
}

/* Operation kinds of the soak. */
typedef enum {
  K_COMMIT,      /* clear + a random sounding patch + commit */
  K_COMMIT_EDIT, /* an incremental commit on the playing patch */
  K_COMMIT_BAD,  /* a commit made to fail, then an abort */
  K_ABORT,
  K_SET,
  K_GATE,
  K_FILE,
  K_SCENE,
  K_SAVE,
  K_GET,
  K_MALFORMED,
  K_FLOOD,
  K_NOTES,      /* a few notes on and off, the pedal now and then */
  K_BEND,       /* pitch bend, or pressure */
  K_NOTE_FLOOD, /* 1,000 MIDI notes in one block */
  K_TIME,       /* the host's time:Position, hostile now and then */
  K_REVERT,     /* back one or more commits, maybe on the beat */
  N_KINDS
} Kind;

static const char* const kind_names[N_KINDS] = {"commit",
                                                "commit-edit",
                                                "commit-bad",
                                                "abort",
                                                "set",
                                                "gate",
                                                "file",
                                                "scene",
                                                "save",
                                                "get",
                                                "malformed",
                                                "flood",
                                                "notes",
                                                "bend",
                                                "note-flood",
                                                "time",
                                                "revert"};

/* Weights out of 1000. */
static const unsigned kind_weights[N_KINDS] =
  {140, 60, 25, 60, 276, 110, 60, 60, 20, 40, 50, 1, 40, 15, 3, 25, 15};

/* What a numbered message was and what became of it. */
enum {
  M_STAGE = 1, /* staging message of a transaction */
  M_COMMIT,    /* a transaction's commit */
  M_OTHER,     /* answered with Ack or Error */
  M_GET        /* answered with patch:Set hp:patch or Error */
};

enum {
  F_MUST_FAIL = 1u, /* a commit made to fail */
  F_TAINTED   = 2u, /* a staging message of its transaction was refused */
  F_MUST_ERR  = 4u, /* a message that must be refused (bad value, malformed) */
  F_FILE      = 8u, /* a patch file load (replaces the bank) */
  F_LOUD_OK   = 16u /* registry modules with drawn values: a modulated
                       gain may be too loud at warm-up, and refused */
};

typedef struct {
  uint8_t  kind;    /* M_*, 0 when free */
  uint8_t  replies; /* answers seen */
  uint8_t  flags;
  int32_t  txn;   /* a staging message: its commit's seq */
  double   sent;  /* wall time sent */
  uint64_t types; /* a commit: bit t, it creates hp_module_types[t] */
} Slot;

typedef struct {
  HpHost*  host;
  Slot*    slots;
  int32_t  next_seq;
  uint64_t numbered;
  uint64_t messages;
  uint64_t ops[N_KINDS];
  /* answers */
  uint64_t acks, errors, queue_full, lost, duplicates, must_err_acked;
  uint64_t commits_sent, swapped, superseded, aborted, dropped;
  uint64_t failed_expected, failed_unexpected, too_loud;
  uint64_t gets_answered;
  double   max_latency;
  char     unexpected[320 + 64];
  /* audio */
  bool     sounding; /* the first sounding patch has swapped in */
  int32_t  first_seq;
  uint64_t check_from; /* absolute frame from which silence counts */
  size_t   rec_seen;   /* recorded frames already scanned */
  size_t   ev_seen;    /* events already read */
  uint64_t quiet_run;  /* consecutive quiet frames */
  uint64_t silent_windows, silent_runs, longest_quiet, first_silent;
  uint64_t nonfinite;
  uint64_t frames_checked;
  /* Is the playing patch sure to sound?  Not after a commit some of whose
     staging messages were refused (a full queue may drop its oscillator)
     swaps in, nor after a scene change while such a patch may sit in the
     bank; again after a complete commit or file load.  Changes queue up
     here by frame for scan_audio(). */
  bool     guarded;
  bool     bank_tainted;
  uint64_t guard_frame[256];
  bool     guard_state[256];
  uint32_t n_guard;
  uint64_t unguarded_frames;
  uint64_t tainted_swaps;
  /* MIDI and voices */
  uint64_t midi_events, flood_events, poly_commits, tail_commits;
  uint64_t quant_commits, positions, hostile_positions;
  uint32_t max_voices;
  /* names in the last sent patch */
  unsigned txn_id;
  char     anchor[32], env[32], filt[32], extra[32];
  bool     has_env, has_filt, has_extra;
  /* Module types (hp_module_types, index t): creates sent, and creates in
     commits that swapped in whole (no staging message refused). */
  uint64_t created[MAX_TYPES];
  uint64_t played[MAX_TYPES];
  /* The last full commit's registry modules (the zoo), for live sets. */
  char                zoo_id[ZOO_IDS][32];
  const HpModuleDesc* zoo_desc[ZOO_IDS];
  uint32_t            n_zoo;
  /* The delay kd and reverb kr keep their ids (and with the same size,
     their memory) from commit to commit. */
  bool     has_kd;
  float    kd_max;
  uint64_t loops, sides, kd_kept, kd_resized, kr_commits;
  /* files */
  char     dir[64];
  char     files[6][128];
  char     state_dir[128];
  uint64_t saves;
  uint64_t discards;      /* recordings dropped (the buffer is at full size) */
  uint64_t notes_dropped; /* "notification queue full" in the plugin's log */
  bool     keep_events;   /* the final checks look events up */
} Soak;

static inline int32_t
take_seq(Soak* const   s,
         const uint8_t kind,
         const int32_t txn,
         const uint8_t flags)
{
  const int32_t seq  = s->next_seq++;
  Slot* const   slot = &s->slots[(uint32_t)seq % SLOTS];
  if (slot->kind && !slot->replies) {
    /* The window wrapped: that message was never answered. */
    ++s->lost;
  }
  slot->kind    = kind;
  slot->replies = 0;
  slot->flags   = flags;
  slot->txn     = txn;
  slot->sent    = now_s();
  slot->types   = 0;
  ++s->numbered;
  return seq;
}

static inline void
text(Soak* const       s,
     const uint64_t    frame,
     const int32_t     seq,
     const char* const line)
{
  CHECK_MSG(!hp_host_send_text(s->host, frame, seq, line),
            "%s: %s",
            line,
            hp_host_last_error());
  ++s->messages;
}

/* A staging message of transaction `txn`, numbered. */
static inline void stage(Soak* const       s,
                         const uint64_t    frame,
                         const int32_t     txn,
                         const char* const fmt,
                         ...) __attribute__((format(printf, 4, 5)));

static inline void
stage(Soak* const       s,
      const uint64_t    frame,
      const int32_t     txn,
      const char* const fmt,
      ...)
{
  char    line[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(line, sizeof(line), fmt, args);
  va_end(args);
  text(s, frame, take_seq(s, M_STAGE, txn, 0), line);
}

static inline float
uniform(HpHost* const host, const float lo, const float hi)
{
  return lo + (hi - lo) * (float)hp_host_random(host, 0, 1000000) * 1e-6f;
}

static const char* const osc_types[] = {"sine", "saw", "square", "triangle"};

/* The soak drives the instrument, which refuses what reads the plugin's
   audio inputs. */
static inline bool
playable(const HpModuleDesc* const d)
{
  return !d->host_input;
}

static inline uint32_t
type_index(const HpModuleDesc* const d)
{
  uint32_t t = 0;
  while (hp_module_types[t] && hp_module_types[t] != d) {
    ++t;
  }
  CHECK_MSG(hp_module_types[t] && t < MAX_TYPES, "type %s", d->type);
  return t;
}

/* Stage `/patch/create id type` in transaction `txn`, counted. */
static inline void
create(Soak* const       s,
       const uint64_t    frame,
       const int32_t     txn,
       const char* const id,
       const char* const type)
{
  const HpModuleDesc* const d = hp_module_find(type);
  CHECK_MSG(d, "no module type %s", type);
  stage(s, frame, txn, "/patch/create %s %s", id, d->type);
  const uint32_t t = type_index(d);
  ++s->created[t];
  s->slots[(uint32_t)txn % SLOTS].types |= 1ull << t;
}

/* A value of parameter `p` as text: an end of its range or its default
   one time in eight each, else anywhere in it (a log parameter evenly in
   octaves); whole numbers where it takes them, a choice by name. */
static inline void
draw_value(HpHost* const            h,
           const HpParamDesc* const p,
           char* const              buf,
           const size_t             size)
{
  if (p->kind == HP_PARAM_ENUM) {
    uint32_t n = 0;
    while (p->choices[n]) {
      ++n;
    }
    snprintf(buf, size, "%s", p->choices[hp_host_random(h, 0, n - 1u)]);
    return;
  }
  const uint32_t pick = hp_host_random(h, 0, 7);
  const float    u    = uniform(h, 0.0f, 1.0f);
  float          v    = pick == 0 ? p->min : pick == 1 ? p->max : p->def;
  if (pick > 2) {
    v = p->log_scale && p->min > 0.0f ? p->min * powf(p->max / p->min, u)
                                      : p->min + (p->max - p->min) * u;
  }
  if (p->kind != HP_PARAM_CONTINUOUS) {
    v = roundf(v);
  }
  v = v < p->min ? p->min : v > p->max ? p->max : v;
  snprintf(buf, size, "%.9g", (double)v); /* reads back as the same float */
}

/* Each parameter of `id` set to a drawn value, or left, at even odds. */
static inline void
draw_params(Soak* const               s,
            const uint64_t            frame,
            const int32_t             txn,
            const char* const         id,
            const HpModuleDesc* const d)
{
  for (uint32_t p = 0; p < d->n_params; ++p) {
    if (hp_host_random(s->host, 0, 1)) {
      char value[48];
      draw_value(s->host, &d->params[p], value, sizeof(value));
      stage(s, frame, txn, "/patch/set %s %s %s", id, d->params[p].name, value);
    }
  }
}

/* The type whose modules have swapped in least (then: were created
   least), so that a short run plays every type too. */
static inline const HpModuleDesc*
least_played(const Soak* const s)
{
  const HpModuleDesc* best = NULL;
  uint32_t            b    = 0;
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    const HpModuleDesc* const d = hp_module_types[t];
    if (playable(d) &&
        (!best || s->played[t] < s->played[b] ||
         (s->played[t] == s->played[b] && s->created[t] < s->created[b]))) {
      best = d;
      b    = t;
    }
  }
  return best;
}

static inline const HpModuleDesc*
random_type(HpHost* const h)
{
  uint32_t n = 0;
  while (hp_module_types[n]) {
    ++n;
  }
  for (;;) {
    const HpModuleDesc* const d = hp_module_types[hp_host_random(h, 0, n - 1)];
    if (playable(d)) {
      return d;
    }
  }
}

/* The head of a chain being staged: what the next module feeds, "out" or
   a module whose inputs and parameters are known. */
typedef struct {
  const char*         id;
  const HpModuleDesc* desc; /* NULL: the sink out */
} Head;

/* Connect output `port` of `src` (type `d`) into the head: an audio
   output into one of its inputs (or the sink), a control one into one of
   its parameters, never into audio (an lfo's depth may be 20,000). */
static inline void
feed(Soak* const               s,
     const uint64_t            frame,
     const int32_t             txn,
     const char* const         src,
     const HpModuleDesc* const d,
     const uint32_t            port,
     const Head                head)
{
  HpHost* const             h    = s->host;
  const char* const         from = d->outputs[port].name;
  const HpModuleDesc* const to   = head.desc;
  if (d->outputs[port].kind == HP_SIGNAL_CV) {
    if (to && to->n_params) {
      const uint32_t p = hp_host_random(h, 0, to->n_params - 1u);
      stage(s,
            frame,
            txn,
            "/patch/connect %s:%s %s:%s",
            src,
            from,
            head.id,
            to->params[p].name);
    }
  } else if (!to) {
    stage(s, frame, txn, "/patch/connect %s:%s out", src, from);
  } else {
    const uint32_t i = hp_host_random(h, 0, to->n_inputs - 1u);
    stage(s,
          frame,
          txn,
          "/patch/connect %s:%s %s:%s",
          src,
          from,
          head.id,
          to->inputs[i].name);
  }
}

/* Remember a module of the patch for live sets. */
static inline void
zoo_add(Soak* const s, const char* const id, const HpModuleDesc* const d)
{
  CHECK(s->n_zoo < ZOO_IDS);
  snprintf(s->zoo_id[s->n_zoo], sizeof(s->zoo_id[0]), "%s", id);
  s->zoo_desc[s->n_zoo++] = d;
}

/* Stage a module of type `d` at the head of the chain: its parameters
   drawn, an output (the main one at even odds) into the head, and, when
   it takes input, it the new head.  A stereo module's pair goes to the
   two sides now and then instead.  A voice source (midi) feeds the
   filter or the envelope instead (with neither, a control output stays
   unconnected), so the modules it makes per voice stay cheap ones: not
   32 delays of 4 MB. */
static inline Head
insert(Soak* const               s,
       const uint64_t            frame,
       const int32_t             txn,
       const char* const         id,
       const HpModuleDesc* const d,
       const Head                head)
{
  HpHost* const h = s->host;
  create(s, frame, txn, id, d->type);
  draw_params(s, frame, txn, id, d);
  zoo_add(s, id, d);
  const uint32_t port =
    hp_host_random(h, 0, 1) ? 0u : hp_host_random(h, 0, d->n_outputs - 1u);
  if (d->voicing == HP_VOICING_SOURCE) {
    const Head cheap = s->has_filt  ? (Head){s->filt, hp_module_find("biquad")}
                       : s->has_env ? (Head){s->env, hp_module_find("adsr")}
                                    : (Head){"out", NULL};
    feed(s, frame, txn, id, d, port, cheap);
    return head;
  }
  if (d->stereo && hp_host_random(h, 0, 2) == 0) {
    ++s->sides;
    if (hp_host_random(h, 0, 1)) {
      stage(s, frame, txn, "/patch/connect %s out", id); /* the pair */
    } else {
      stage(s, frame, txn, "/patch/connect %s:left out:left", id);
      stage(s, frame, txn, "/patch/connect %s:right out:right", id);
    }
  } else {
    feed(s, frame, txn, id, d, port, head);
  }
  return d->n_inputs ? (Head){s->zoo_id[s->n_zoo - 1u], d} : head;
}

/* Registry modules ahead of the chain's head: 1 to ZOO_MAX, the first of
   the type that has played least; now and then a loop through a delay's
   wet output (through a mixer or a vca back into the delay), the delay
   kd (its size kept, or new now and then) and the reverb kr. */
static inline Head
zoo(Soak* const s, const uint64_t frame, const int32_t txn, Head head)
{
  HpHost* const  h = s->host;
  const unsigned t = s->txn_id;
  s->n_zoo         = 0;
  const uint32_t n = hp_host_random(h, 1, ZOO_MAX);
  for (uint32_t i = 0; i < n; ++i) {
    const HpModuleDesc* const d = i ? random_type(h) : least_played(s);
    char                      id[32];
    snprintf(id, sizeof(id), "z%u_%u", t, i);
    head = insert(s, frame, txn, id, d, head);
  }
  const HpModuleDesc* const delay  = hp_module_find("delay");
  const bool                had_kd = s->has_kd;
  s->has_kd                        = hp_host_random(h, 0, 1) != 0;
  if (s->has_kd) {
    /* Its size drawn anew one time in four: new memory; else the old
       echoes ring on. */
    if (!had_kd || hp_host_random(h, 0, 3) == 0) {
      char max[48];
      draw_value(h,
                 &delay->params[hp_module_find_param(delay, "max")],
                 max,
                 sizeof(max));
      s->kd_max = strtof(max, NULL);
      s->kd_resized += had_kd;
    } else {
      ++s->kd_kept;
    }
  }
  if (hp_host_random(h, 0, 2) == 0) {
    ++s->kr_commits;
    head = insert(s, frame, txn, "kr", hp_module_find("reverb"), head);
  }
  const char* looped = "kd";
  if (s->has_kd) {
    head = insert(s, frame, txn, "kd", delay, head);
    stage(s, frame, txn, "/patch/set kd max %.9g", (double)s->kd_max);
  }
  if (hp_host_random(h, 0, 3) == 0) {
    ++s->loops;
    char loop_delay[32];
    char back[32];
    snprintf(loop_delay, sizeof(loop_delay), "ld%u", t);
    snprintf(back, sizeof(back), "lb%u", t);
    if (!s->has_kd || hp_host_random(h, 0, 1)) {
      looped = loop_delay;
      head   = insert(s, frame, txn, looped, delay, head);
    }
    if (hp_host_random(h, 0, 1)) {
      /* d:wet -> mixer:in2, the mixer -> d: the head feeds the mixer. */
      const HpModuleDesc* const m = hp_module_find("mixer");
      create(s, frame, txn, back, m->type);
      draw_params(s, frame, txn, back, m);
      zoo_add(s, back, m);
      stage(s, frame, txn, "/patch/connect %s:wet %s:in2", looped, back);
      stage(s, frame, txn, "/patch/connect %s %s", back, looped);
      head = (Head){s->zoo_id[s->n_zoo - 1u], m};
    } else {
      /* d:wet -> vca -> d, beside what the head feeds d. */
      const HpModuleDesc* const v = hp_module_find("vca");
      create(s, frame, txn, back, v->type);
      draw_params(s, frame, txn, back, v);
      zoo_add(s, back, v);
      stage(s, frame, txn, "/patch/connect %s:wet %s", looped, back);
      stage(s, frame, txn, "/patch/connect %s %s", back, looped);
    }
  }
  return head;
}

/* A transaction's commit seq is taken first, so its staging messages can
   point at it; the numbers stay in sending order apart from that. */
static inline void
commit_full(Soak* const s, const uint64_t frame, const bool must_fail)
{
  HpHost* const  h   = s->host;
  const unsigned t   = ++s->txn_id;
  const int32_t  txn = take_seq(s, M_COMMIT, -1, must_fail ? F_MUST_FAIL : 0);
  ++s->commits_sent;
  /* Made to fail: a prime op naming no module, or a silent patch (an
     envelope with nothing in it) while hp:requireSignal is set. */
  const bool silent = must_fail && hp_host_random(h, 0, 1);
  s->has_env        = silent || hp_host_random(h, 0, 1);
  s->has_filt       = !silent && hp_host_random(h, 0, 1);
  s->has_extra =
    !silent && (s->has_env || s->has_filt || hp_host_random(h, 0, 1));
  snprintf(s->anchor, sizeof(s->anchor), "a%u", t);
  snprintf(s->env, sizeof(s->env), "e%u", t);
  snprintf(s->filt, sizeof(s->filt), "f%u", t);
  snprintf(s->extra, sizeof(s->extra), "x%u", t);

  stage(s, frame, txn, "/patch/clear");
  if (!silent) {
    /* The anchor: straight to the output, never quieter than 0.1 peak;
       nothing else connects to it. */
    create(s, frame, txn, s->anchor, osc_types[hp_host_random(h, 0, 3)]);
    stage(s,
          frame,
          txn,
          "/patch/set %s freq %.2f",
          s->anchor,
          (double)uniform(h, 60.0f, 2000.0f));
    stage(s,
          frame,
          txn,
          "/patch/set %s gain %.3f",
          s->anchor,
          (double)uniform(h, 0.1f, 0.4f));
    stage(s, frame, txn, "/patch/connect %s out", s->anchor);
  }
  if (!silent && hp_host_random(h, 0, 1)) {
    /* A MIDI-played chain of 1 to 32 voices beside the anchor, its ids the
       same every time (kept, and their notes with them, when the type is
       the same too). */
    const uint32_t voices = hp_host_random(h, 1, 32);
    s->max_voices         = voices > s->max_voices ? voices : s->max_voices;
    ++s->poly_commits;
    stage(s, frame, txn, "/patch/voices %u", voices);
    create(s, frame, txn, "kb", "midi");
    create(s, frame, txn, "pv", osc_types[hp_host_random(h, 0, 3)]);
    stage(s,
          frame,
          txn,
          "/patch/set pv gain %.3f",
          (double)uniform(h, 0.02f, 0.1f));
    create(s, frame, txn, "pe", "adsr");
    stage(s, frame, txn, "/patch/set pe release %u", hp_host_random(h, 5, 300));
    stage(s, frame, txn, "/patch/connect kb:freq pv:freq");
    stage(s, frame, txn, "/patch/connect kb:gate pe:gate");
    stage(s, frame, txn, "/patch/connect pv pe");
    stage(s, frame, txn, "/patch/connect pe out");
  }
  Head head = {"out", NULL};
  if (s->has_env) {
    create(s, frame, txn, s->env, "adsr");
    stage(s,
          frame,
          txn,
          "/patch/set %s attack %u",
          s->env,
          hp_host_random(h, 0, 50));
    stage(s,
          frame,
          txn,
          "/patch/set %s release %u",
          s->env,
          hp_host_random(h, 5, 300));
    stage(s, frame, txn, "/patch/connect %s out", s->env);
    head = (Head){s->env, hp_module_find("adsr")};
  }
  if (s->has_filt) {
    create(s, frame, txn, s->filt, "biquad");
    stage(s,
          frame,
          txn,
          "/patch/set %s cutoff %u",
          s->filt,
          hp_host_random(h, 200, 8000));
    stage(s,
          frame,
          txn,
          "/patch/set %s q %.2f",
          s->filt,
          (double)uniform(h, 0.5f, 4.0f));
    stage(s, frame, txn, "/patch/connect %s %s", s->filt, head.id);
    head = (Head){s->filt, hp_module_find("biquad")};
  }
  s->n_zoo = 0;
  /* (Not in the first patch, which must swap in for the soak to start.) */
  if (!silent && txn != s->first_seq) {
    s->slots[(uint32_t)txn % SLOTS].flags |= F_LOUD_OK;
    head = zoo(s, frame, txn, head);
  } else {
    s->has_kd = false;
  }
  if (s->has_extra) {
    const char* const type = osc_types[hp_host_random(h, 0, 3)];
    create(s, frame, txn, s->extra, type);
    stage(s,
          frame,
          txn,
          "/patch/set %s freq %.2f",
          s->extra,
          (double)uniform(h, 40.0f, 4000.0f));
    stage(s,
          frame,
          txn,
          "/patch/set %s gain %.3f",
          s->extra,
          (double)uniform(h, 0.0f, 0.3f));
    feed(s, frame, txn, s->extra, hp_module_find(type), 0, head);
  }
  HpPrimeOp prime[2];
  uint32_t  n_prime = 0;
  if (s->has_env && hp_host_random(h, 0, 1)) {
    /* (In the silent patch the envelope has no input: gated, still silent.) */
    prime[n_prime++] = (HpPrimeOp){"gate", s->env, NULL, 1.0f};
  }
  if (must_fail && !silent) {
    prime[n_prime++] = (HpPrimeOp){"mod", "nosuch", "freq", 100.0f};
  }
  const int32_t warmup = (int32_t)hp_host_random(h, 1, 16);
  const float   fade   = (float)hp_host_random(h, 0, 40);
  /* One in six a tail commit (the old patch rings its voices out beside
     this one, whose anchor sounds), one in six on the host's beat, bar or
     quarter beat (it waits in `ready` for the boundary; at once while the
     transport stands): sent as text, its prime ops with it. */
  const uint32_t form = must_fail ? 2u : hp_host_random(h, 0, 5);
  if (form < 2u) {
    static const char* const quant[] = {"beat", "bar", "0.25"};
    for (uint32_t i = 0; i < n_prime; ++i) {
      char line[96];
      snprintf(line, sizeof(line), "/patch/prime %s gate 1", prime[i].module);
      text(s, frame, -1, line);
    }
    char line[96];
    if (form == 0u) {
      ++s->tail_commits;
      snprintf(line,
               sizeof(line),
               "/patch/commit tail warmup=%d require_signal",
               (int)warmup);
    } else {
      ++s->quant_commits;
      snprintf(line,
               sizeof(line),
               "/patch/commit warmup=%d crossfade=%g quant=%s",
               (int)warmup,
               (double)fade,
               quant[hp_host_random(h, 0, 2)]);
    }
    text(s, frame, txn, line);
    return;
  }
  HpHostCommit opts = {
    true, warmup, true, fade, true, true, n_prime ? prime : NULL, n_prime};
  CHECK(!hp_host_send_commit(h, frame, txn, &opts));
  ++s->messages;
  if (must_fail) {
    /* Back to the playing patch, so later edits build on it. */
    text(s, frame, take_seq(s, M_OTHER, -1, 0), "/patch/abort");
  }
}

/* Add an oscillator to the staged (playing) patch; one time in three,
   change the kept delay kd too: its feedback (its echoes ring on) or its
   size (a new, empty line).  Unnumbered, that set: kd may be gone. */
static inline void
commit_edit(Soak* const s, const uint64_t frame)
{
  HpHost* const h = s->host;
  /* (What it edits may hold registry modules: loud at warm-up now.) */
  const int32_t txn = take_seq(s, M_COMMIT, -1, F_LOUD_OK);
  ++s->commits_sent;
  /* An id of its own, and straight to the output: it sounds whatever else
     staging holds (a refused message may have left half a patch there). */
  const unsigned t = ++s->txn_id;
  char           id[32];
  snprintf(id, sizeof(id), "y%u", t);
  create(s, frame, txn, id, "sine");
  stage(s,
        frame,
        txn,
        "/patch/set y%u freq %.2f",
        t,
        (double)uniform(h, 60.0f, 2000.0f));
  stage(s, frame, txn, "/patch/set y%u gain 0.1", t);
  stage(s, frame, txn, "/patch/connect y%u out", t);
  if (s->has_kd && hp_host_random(h, 0, 2) == 0) {
    const HpModuleDesc* const delay = hp_module_find("delay");
    const bool                size  = hp_host_random(h, 0, 1) != 0;
    const char* const         name  = size ? "max" : "feedback";
    char                      value[48];
    char                      line[96];
    draw_value(h,
               &delay->params[hp_module_find_param(delay, name)],
               value,
               sizeof(value));
    snprintf(line, sizeof(line), "/patch/set kd %s %s", name, value);
    text(s, frame, -1, line);
    if (size) {
      s->kd_max = strtof(value, NULL);
      ++s->kd_resized;
    } else {
      ++s->kd_kept;
    }
  }
  HpHostCommit opts = {
    false, 0, true, (float)hp_host_random(h, 0, 30), true, true, NULL, 0};
  CHECK(!hp_host_send_commit(h, frame, txn, &opts));
  ++s->messages;
}

static inline void
midi(Soak* const    s,
     const uint64_t frame,
     const uint8_t  status,
     const uint8_t  d1,
     const uint8_t  d2)
{
  const uint8_t  msg[3] = {status, d1, d2};
  const uint32_t size   = (status & 0xF0u) == 0xD0u ? 2u : 3u;
  CHECK(!hp_host_send_midi(s->host, frame, msg, size));
  ++s->midi_events;
}

/* A few notes on and off (channel 1, which every midi module hears), now
   and then the pedal, or all notes off. */
static inline void
notes(Soak* const s, const uint64_t frame)
{
  HpHost* const  h = s->host;
  const uint32_t n = hp_host_random(h, 1, 6);
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t key = (uint8_t)hp_host_random(h, 36, 84);
    if (hp_host_random(h, 0, 1)) {
      midi(s, frame, 0x90, key, (uint8_t)hp_host_random(h, 1, 127));
    } else {
      midi(s, frame, 0x80, key, 64);
    }
  }
  switch (hp_host_random(h, 0, 9)) {
  case 0:
    midi(s, frame, 0xB0, 64, hp_host_random(h, 0, 1) ? 127 : 0);
    break;
  case 1:
    midi(s, frame, 0xB0, 123, 0);
    break;
  default:
    break;
  }
}

/* Pitch bend anywhere in its range, or channel pressure. */
static inline void
bend(Soak* const s, const uint64_t frame)
{
  HpHost* const h = s->host;
  if (hp_host_random(h, 0, 3)) {
    midi(s,
         frame,
         0xE0,
         (uint8_t)hp_host_random(h, 0, 127),
         (uint8_t)hp_host_random(h, 0, 127));
  } else {
    midi(s, frame, 0xD0, (uint8_t)hp_host_random(h, 0, 127), 0);
  }
}

/* 1,000 notes on and off in the block [at, at + n), bends and the pedal
   among them, then all notes off at its last frame. */
static inline void
note_flood(Soak* const s, const uint64_t at, const uint32_t n)
{
  HpHost* const  h      = s->host;
  const uint64_t before = s->midi_events;
  for (uint32_t i = 0; i < 1000u; ++i) {
    const uint64_t frame = at + hp_host_random(h, 0, n - 1u);
    const uint8_t  key   = (uint8_t)hp_host_random(h, 0, 127);
    const uint8_t  vel   = (uint8_t)hp_host_random(h, 0, 127);
    midi(s, frame, hp_host_random(h, 0, 1) ? 0x90 : 0x80, key, vel);
    if (i % 50u == 0u) {
      bend(s, frame);
      midi(s, frame, 0xB0, 64, hp_host_random(h, 0, 1) ? 127 : 0);
    }
  }
  midi(s, at + n - 1u, 0xB0, 64, 0);
  midi(s, at + n - 1u, 0xB0, 123, 0);
  s->flood_events += s->midi_events - before;
}

/* A set of a parameter of one of the last patch's registry modules: a
   value in range, or (`bad`) one it must refuse: past the end of the
   range, a choice it lacks.  False when the patch had none. */
static inline bool
zoo_set(Soak* const s, char* const line, const size_t size, const bool bad)
{
  HpHost* const h = s->host;
  if (!s->n_zoo) {
    return false;
  }
  const uint32_t            z = hp_host_random(h, 0, s->n_zoo - 1u);
  const HpModuleDesc* const d = s->zoo_desc[z];
  if (!d->n_params) {
    return false;
  }
  const HpParamDesc* const p =
    &d->params[hp_host_random(h, 0, d->n_params - 1u)];
  char value[48];
  if (!bad) {
    draw_value(h, p, value, sizeof(value));
  } else if (p->kind == HP_PARAM_ENUM) {
    snprintf(value, sizeof(value), "nosuch");
  } else {
    const float past = p->max - p->min + 1.0f;
    snprintf(value,
             sizeof(value),
             "%.9g",
             (double)(hp_host_random(h, 0, 1) ? p->max + past : p->min - past));
  }
  snprintf(line, size, "/patch/set %s %s %s", s->zoo_id[z], p->name, value);
  return true;
}

/* A live hp:Set: valid ones on the last patch's modules (the anchor's
   gain stays >= 0.1), and refused ones that must never sound. */
static inline void
live_set(Soak* const s, const uint64_t frame)
{
  HpHost* const  h = s->host;
  char           line[160];
  uint8_t        flags = 0;
  const uint32_t r     = hp_host_random(h, 0, 14);
  switch (r) {
  case 0:
  case 1:
    snprintf(line,
             sizeof(line),
             "/patch/set %s freq %.2f",
             s->anchor,
             (double)uniform(h, 60.0f, 2000.0f));
    break;
  case 2:
  case 3:
    snprintf(line,
             sizeof(line),
             "/patch/set %s gain %.3f",
             s->anchor,
             (double)uniform(h, 0.1f, 0.4f));
    break;
  case 4:
    snprintf(line,
             sizeof(line),
             "/patch/set %s cutoff %u",
             s->filt,
             hp_host_random(h, 100, 12000));
    break;
  case 5:
    snprintf(line,
             sizeof(line),
             "/patch/set %s %s %u",
             s->env,
             hp_host_random(h, 0, 1) ? "attack" : "release",
             hp_host_random(h, 0, 500));
    break;
  case 6:
    snprintf(line,
             sizeof(line),
             "/patch/set %s gain %.3f",
             s->extra,
             (double)uniform(h, 0.0f, 0.3f));
    break;
  case 7:
    snprintf(line,
             sizeof(line),
             "/patch/set s%u freq %.1f",
             hp_host_random(h, 0, 3),
             (double)uniform(h, 100.0f, 900.0f));
    break;
  case 8: /* would silence the anchor: refused before it sounds */
    snprintf(line,
             sizeof(line),
             "/patch/set %s gain %s",
             s->anchor,
             hp_host_random(h, 0, 1) ? "-1" : "nan");
    flags = F_MUST_ERR;
    break;
  case 9:
    snprintf(line, sizeof(line), "/patch/set %s freq 1e9", s->anchor);
    flags = F_MUST_ERR;
    break;
  case 10:
    snprintf(line, sizeof(line), "/patch/set %s nosuch 1", s->anchor);
    flags = F_MUST_ERR;
    break;
  case 11:
  case 12:
  case 13:
    if (zoo_set(s, line, sizeof(line), r == 13)) {
      flags = r == 13 ? F_MUST_ERR : 0;
      break;
    }
    snprintf(line, sizeof(line), "/patch/set %s gain 0.2", s->anchor);
    break;
  default:
    snprintf(line,
             sizeof(line),
             "/patch/set %s q %.2f",
             s->filt,
             (double)uniform(h, 0.5f, 4.0f));
    break;
  }
  /* One in five unnumbered, as automation sends them. */
  const bool numbered = hp_host_random(h, 0, 4) != 0;
  text(s, frame, numbered ? take_seq(s, M_OTHER, -1, flags) : -1, line);
}

static inline void
malformed(Soak* const s, const uint64_t frame)
{
  HpHost* const        h   = s->host;
  const HpURIs* const  u   = hp_host_uris(h);
  const int32_t        seq = take_seq(s, M_OTHER, -1, F_MUST_ERR);
  LV2_Atom_Forge*      f   = hp_host_forge(h);
  LV2_Atom_Forge_Frame obj;
  static const char    long_name[] =
    "a_module_name_that_is_far_too_long_for_hotpatch_because_it_goes_on_"
    "and_on_and_on_well_past_ninety_five_bytes";
  const uint32_t which = hp_host_random(h, 0, 7);
  LV2_URID       otype = which == 0   ? u->hp_Set
                         : which == 1 ? u->hp_Create
                         : which == 2 ? u->hp_Commit
                         : which == 3 ? u->hp_Connect
                         : which == 4 ? u->patch_Set
                         : which == 5 ? hp_host_map(h, "urn:hotpatch:ns#Bogus")
                         : which == 6 ? u->hp_Gate
                                      : u->hp_Commit;
  lv2_atom_forge_object(f, &obj, 0, otype);
  lv2_atom_forge_key(f, u->patch_sequenceNumber);
  lv2_atom_forge_int(f, seq);
  switch (which) {
  case 0: /* hp:value as a string naming no choice */
    lv2_atom_forge_key(f, u->hp_module);
    lv2_atom_forge_string(f, s->anchor, (uint32_t)strlen(s->anchor));
    lv2_atom_forge_key(f, u->hp_param);
    lv2_atom_forge_string(f, "gain", 4);
    lv2_atom_forge_key(f, u->hp_value);
    lv2_atom_forge_string(f, "loud", 4);
    break;
  case 1: /* no hp:type */
    lv2_atom_forge_key(f, u->hp_module);
    lv2_atom_forge_string(f, "m", 1);
    break;
  case 2: /* hp:prime not a tuple */
    lv2_atom_forge_key(f, u->hp_prime);
    lv2_atom_forge_int(f, 3);
    break;
  case 3: /* a name past 95 bytes */
    lv2_atom_forge_key(f, u->hp_source);
    lv2_atom_forge_string(f, long_name, (uint32_t)strlen(long_name));
    lv2_atom_forge_key(f, u->hp_dest);
    lv2_atom_forge_string(f, "out", 3);
    break;
  case 4: /* patch:Set of hp:patchFile to a number */
    lv2_atom_forge_key(f, u->patch_property);
    lv2_atom_forge_urid(f, u->hp_patchFile);
    lv2_atom_forge_key(f, u->patch_value);
    lv2_atom_forge_int(f, 42);
    break;
  case 5: /* an unknown message type */
    break;
  case 6: /* hp:Gate without a value */
    lv2_atom_forge_key(f, u->hp_module);
    lv2_atom_forge_string(f, s->env, (uint32_t)strlen(s->env));
    break;
  default: { /* a prime op with three fields */
    LV2_Atom_Forge_Frame outer;
    LV2_Atom_Forge_Frame inner;
    lv2_atom_forge_key(f, u->hp_prime);
    lv2_atom_forge_tuple(f, &outer);
    lv2_atom_forge_tuple(f, &inner);
    lv2_atom_forge_string(f, "gate", 4);
    lv2_atom_forge_string(f, s->env, (uint32_t)strlen(s->env));
    lv2_atom_forge_float(f, 1.0f);
    lv2_atom_forge_pop(f, &inner);
    lv2_atom_forge_pop(f, &outer);
    break;
  }
  }
  lv2_atom_forge_pop(f, &obj);
  CHECK(!hp_host_send_atom(h, frame, hp_host_forge_atom(h)));
  ++s->messages;
}

/* The host's time:Position: a song somewhere, rolling or stopped, at a
   tempo and metre; one time in five a hostile one (no tempo, a negative
   or NaN one, a bar past 2^40, no bar length, speed infinite), which the
   engine must ignore field by field. */
static inline void
time_position(Soak* const s, const uint64_t frame)
{
  HpHost* const  h   = s->host;
  HpHostPosition pos = {.has_bar           = true,
                        .has_bar_beat      = true,
                        .has_beats_per_bar = true,
                        .has_bpm           = true,
                        .has_speed         = true,
                        .frame             = (int64_t)frame,
                        .bar               = hp_host_random(h, 0, 500),
                        .beats_per_bar = (float)(3 + hp_host_random(h, 0, 4)),
                        .bpm   = (float)(40 + hp_host_random(h, 0, 200)),
                        .speed = hp_host_random(h, 0, 3) ? 1.0f : 0.0f};
  pos.bar_beat = pos.beats_per_bar * (float)hp_host_random(h, 0, 999) * 1e-3f;
  if (hp_host_random(h, 0, 4) == 0) {
    static const float bad[] = {0.0f, -5.0f, NAN, INFINITY, 1e18f, -1e30f};
    const float        v     = bad[hp_host_random(h, 0, 5)];
    switch (hp_host_random(h, 0, 4)) {
    case 0:
      pos.bpm = v;
      break;
    case 1:
      pos.bar =
        isfinite(v) ? (int64_t)fmaxf(fminf(v, 9e18f), -9e18f) : INT64_MAX;
      break;
    case 2:
      pos.beats_per_bar = v;
      break;
    case 3:
      pos.bar_beat = v;
      break;
    default:
      pos.speed = v;
      break;
    }
    ++s->hostile_positions;
  }
  CHECK(!hp_host_send_atom(h, frame, hp_host_forge_position(h, &pos)));
  ++s->positions;
}

/* Back 1 to 3 commits (refused when fewer are kept), maybe quantized: the
   patch it plays is an earlier one, not sure to sound. */
static inline void
revert(Soak* const s, const uint64_t frame)
{
  HpHost* const            h       = s->host;
  static const char* const quant[] = {"", " quant=beat", " quant=bar"};
  char                     line[64];
  snprintf(line,
           sizeof(line),
           "/patch/revert %u crossfade=%u%s",
           hp_host_random(h, 1, 3),
           hp_host_random(h, 0, 30),
           quant[hp_host_random(h, 0, 2)]);
  text(s, frame, take_seq(s, M_OTHER, -1, F_TAINTED), line);
}

/* Patch documents the soak loads. */
static inline void
write_file(const char* const path, const char* const body)
{
  char tmp[160];
  snprintf(tmp, sizeof(tmp), "%s.part", path);
  FILE* f = fopen(tmp, "w");
  CHECK(f);
  fputs(body, f);
  fclose(f);
  CHECK(!rename(tmp, path));
}

static inline void
write_single(const char* const path, const char* const type, const double freq)
{
  char doc[1024];
  snprintf(
    doc,
    sizeof(doc),
    "@prefix hp: <urn:hotpatch:ns#> .\n"
    "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes (\n"
    " [ a hp:Scene ; hp:ops (\n"
    "  [ a hp:Create ; hp:module \"tone\" ; hp:type \"%s\" ]\n"
    "  [ a hp:Set ; hp:module \"tone\" ; hp:param \"freq\" ; hp:value %.1f ]\n"
    "  [ a hp:Set ; hp:module \"tone\" ; hp:param \"gain\" ; hp:value 0.25 ]\n"
    " ) ] ) .\n",
    type,
    freq);
  write_file(path, doc);
}

/* Four scenes, each with an oscillator "sN" straight to the output. */
static inline void
write_bank(const char* const path)
{
  char   doc[4096];
  size_t len =
    (size_t)snprintf(doc,
                     sizeof(doc),
                     "@prefix hp: <urn:hotpatch:ns#> .\n"
                     "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                     "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene "
                     "0 ; hp:scenes (\n");
  for (int k = 0; k < 4; ++k) {
    len += (size_t)snprintf(
      doc + len,
      sizeof(doc) - len,
      " [ a hp:Scene ; rdfs:label \"Scene %d\" ; hp:ops (\n"
      "  [ a hp:Create ; hp:module \"s%d\" ; hp:type \"%s\" ]\n"
      "  [ a hp:Set ; hp:module \"s%d\" ; hp:param \"freq\" ; hp:value %d.0 ]\n"
      "  [ a hp:Set ; hp:module \"s%d\" ; hp:param \"gain\" ; hp:value 0.2 ]\n"
      "  [ a hp:Create ; hp:module \"v%d\" ; hp:type \"saw\" ]\n"
      "  [ a hp:Create ; hp:module \"w%d\" ; hp:type \"adsr\" ]\n"
      "  [ a hp:Connect ; hp:source \"v%d\" ; hp:dest \"w%d\" ]\n"
      " ) ]\n",
      k + 1,
      k,
      osc_types[k],
      k,
      200 + 110 * k,
      k,
      k,
      k,
      k,
      k);
  }
  snprintf(doc + len, sizeof(doc) - len, ") .\n");
  write_file(path, doc);
}

/* The temporary folder goes when the program ends, a failed check too. */
static char temp_dir[64];

static inline void
remove_temp_dir(void)
{
  if (temp_dir[0]) {
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", temp_dir);
    if (system(cmd)) {
      fprintf(stderr, "could not remove %s\n", temp_dir);
    }
    temp_dir[0] = '\0';
  }
}

static inline void
setup_files(Soak* const s)
{
  snprintf(s->dir, sizeof(s->dir), "/tmp/hp_test_stress_XXXXXX");
  CHECK(mkdtemp(s->dir));
  snprintf(temp_dir, sizeof(temp_dir), "%s", s->dir);
  atexit(remove_temp_dir);
  for (int i = 0; i < 6; ++i) {
    static const char* const names[] = {"one.ttl",
                                        "two.ttl",
                                        "three.ttl",
                                        "bank.ttl",
                                        "broken.ttl",
                                        "missing.ttl"};
    snprintf(s->files[i], sizeof(s->files[i]), "%s/%s", s->dir, names[i]);
  }
  write_single(s->files[0], "sine", 330.0);
  write_single(s->files[1], "triangle", 495.0);
  write_single(s->files[2], "square", 165.0);
  write_bank(s->files[3]);
  write_file(s->files[4],
             "@prefix hp: <urn:hotpatch:ns#> .\n"
             "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes (\n"
             " [ a hp:Scene ; hp:ops ( [ a hp:Create ; hp:module ");
  snprintf(s->state_dir, sizeof(s->state_dir), "%s/state", s->dir);
}

static inline void
load_file(Soak* const s, const uint64_t frame)
{
  HpHost* const  h     = s->host;
  const uint32_t which = hp_host_random(h, 0, 9);
  /* Mostly sounding documents; a broken one and a missing one now and then;
     a file rewritten (same path, new content) sometimes. */
  const uint32_t i = which < 3    ? which
                     : which < 7  ? 3
                     : which == 7 ? 4
                     : which == 8 ? 5
                                  : 0;
  if (which == 9) {
    write_single(s->files[0],
                 osc_types[hp_host_random(h, 0, 3)],
                 (double)hp_host_random(h, 100, 900));
  }
  const bool    bad = i >= 4;
  const int32_t seq = take_seq(s, M_COMMIT, -1, bad ? F_MUST_FAIL : F_FILE);
  ++s->commits_sent;
  CHECK(
    !hp_host_send_patch_set_path(h, frame, seq, HP__patchFile, s->files[i]));
  ++s->messages;
}

static inline void
guard(Soak* const s, const uint64_t frame, const bool state)
{
  if (s->n_guard == sizeof(s->guard_frame) / sizeof(s->guard_frame[0])) {
    /* Cannot happen (scan_audio() takes them every block); if it did,
       checking less is the safe side. */
    if (!state) {
      s->guarded = false;
    }
    return;
  }
  s->guard_frame[s->n_guard]   = frame;
  s->guard_state[s->n_guard++] = state;
}

#endif /* HP_TEST_SOAK_H */
