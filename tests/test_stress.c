/*
  Stress and faults through the lilv test host (threaded worker, as jalv):
  a soak of mixed operations -- commits, aborts, hp:Set, hp:Gate, patch file
  loads, scene changes, state saves, patch:Get, malformed messages and
  floods that fill the plugin's operation queue -- at random block sizes,
  with the worker slowed at random (up to 100 ms a job) and the host's
  worker ring small (512 bytes: 64 tokens) so it is full at times.

  Checked as it goes, with the recording discarded now and then so memory
  stays flat: no silent 256-frame window once a sounding patch plays (every
  patch the soak commits keeps an oscillator straight to the output, its
  gain never set below 0.1, and commits ask for hp:requireSignal; only a
  commit some of whose staging messages a full queue refused may lack it,
  and audio is not judged while one plays), no NaN or Inf, every numbered
  message answered exactly once (patch:Ack or patch:Error; patch:Set for
  patch:Get), no valid commit failing for a reason other than being
  superseded or aborted.  At the end: the state equals the last commit
  (patch:Get text, module count, pitch, saved state), and after warm-up RSS
  grew less than 5 MB and the heap in use less than 2 MB.  Then
  deterministic probes of the same contracts, one fault at a time.

    ./build/tests/test_stress [OPS]      (or HP_STRESS_OPS=N; default 5000)
    HP_STRESS_SEED=N  HP_STRESS_DELAY_US=N (worker delay, default 100000)
    HP_STRESS_SPEED=N (audio runs at most N times real time; default 10)
    HP_STRESS_KINDS=set,gate,... (only these operations; names as printed)
*/

#include "check.h"
#include "host.h"
#include "signal.h"

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATE 48000.0
#define WINDOW 256u              /* a silent window: 256 frames ... */
#define SILENT_PEAK 1e-4f        /* ... none louder than this */
#define SLOTS (1u << 17u)        /* sequence numbers tracked at once */
#define FLOOD 1100               /* messages in a flood (queue: 1024 ops) */
#define RSS_LIMIT_KB (5 * 1024)  /* growth allowed after warm-up */
#define HEAP_LIMIT_KB (2 * 1024) /* ... and of the heap in use */

/* Bug-revealing checks report and carry on, so one run shows every
   failure and its figures; main() fails at the end if any failed. */
static int failures = 0;

#define SOFT_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
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
static long
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
static long
heap_kb(void)
{
  const struct mallinfo2 m = mallinfo2();
  return (long)((m.uordblks + m.hblkhd) / 1024u);
}

static unsigned long
env_number(const char* const name, const unsigned long def)
{
  const char* v = getenv(name);
  return v && *v ? strtoul(v, NULL, 10) : def;
}

/* What the host's log of blocks (it keeps every one; 16 bytes each, in an
   array doubled from 1,024 entries) holds and allocates, in KiB: test
   infrastructure, taken out of the memory figures. */
static long
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
  N_KINDS
} Kind;

static const char* const kind_names[N_KINDS] = {
  "commit", "commit-edit", "commit-bad", "abort", "set",       "gate",
  "file",   "scene",       "save",       "get",   "malformed", "flood"
};

/* Weights out of 1000. */
static const unsigned kind_weights[N_KINDS] = { 140, 60, 25, 60, 374, 110,
                                                60,  60, 20, 40, 50,  1 };

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
  F_FILE      = 8u  /* a patch file load (replaces the bank) */
};

typedef struct {
  uint8_t kind;    /* M_*, 0 when free */
  uint8_t replies; /* answers seen */
  uint8_t flags;
  int32_t txn;  /* a staging message: its commit's seq */
  double  sent; /* wall time sent */
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
  uint64_t failed_expected, failed_unexpected;
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
  /* names in the last sent patch */
  unsigned txn_id;
  char     anchor[32], env[32], filt[32], extra[32];
  bool     has_env, has_filt, has_extra;
  /* files */
  char     dir[64];
  char     files[6][128];
  char     state_dir[128];
  uint64_t saves;
  uint64_t discards;      /* recordings dropped (the buffer is at full size) */
  uint64_t notes_dropped; /* "notification queue full" in the plugin's log */
  bool     keep_events;   /* the final checks look events up */
} Soak;

static int32_t
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
  ++s->numbered;
  return seq;
}

static void
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
static void stage(Soak* const       s,
                  const uint64_t    frame,
                  const int32_t     txn,
                  const char* const fmt,
                  ...) __attribute__((format(printf, 4, 5)));

static void
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

static float
uniform(HpHost* const host, const float lo, const float hi)
{
  return lo + (hi - lo) * (float)hp_host_random(host, 0, 1000000) * 1e-6f;
}

static const char* const osc_types[] = { "sine", "saw", "square", "triangle" };

/* A transaction's commit seq is taken first, so its staging messages can
   point at it; the numbers stay in sending order apart from that. */
static void
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
    /* The anchor: straight to the output, never quieter than 0.1 peak. */
    stage(s,
          frame,
          txn,
          "/patch/create %s %s",
          s->anchor,
          osc_types[hp_host_random(h, 0, 3)]);
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
  const char* to = "out";
  if (s->has_env) {
    stage(s, frame, txn, "/patch/create %s adsr", s->env);
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
    to = s->env;
  }
  if (s->has_filt) {
    stage(s, frame, txn, "/patch/create %s biquad", s->filt);
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
    stage(s, frame, txn, "/patch/connect %s %s", s->filt, to);
    to = s->filt;
  }
  if (s->has_extra) {
    stage(s,
          frame,
          txn,
          "/patch/create %s %s",
          s->extra,
          osc_types[hp_host_random(h, 0, 3)]);
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
    stage(s, frame, txn, "/patch/connect %s %s", s->extra, to);
  }
  HpPrimeOp prime[2];
  uint32_t  n_prime = 0;
  if (s->has_env && hp_host_random(h, 0, 1)) {
    /* (In the silent patch the envelope has no input: gated, still silent.) */
    prime[n_prime++] = (HpPrimeOp){ "gate", s->env, NULL, 1.0f };
  }
  if (must_fail && !silent) {
    prime[n_prime++] = (HpPrimeOp){ "mod", "nosuch", "freq", 100.0f };
  }
  HpHostCommit opts = { true,
                        (int32_t)hp_host_random(h, 1, 16),
                        true,
                        (float)hp_host_random(h, 0, 40),
                        true,
                        true,
                        n_prime ? prime : NULL,
                        n_prime };
  CHECK(!hp_host_send_commit(h, frame, txn, &opts));
  ++s->messages;
  if (must_fail) {
    /* Back to the playing patch, so later edits build on it. */
    text(s, frame, take_seq(s, M_OTHER, -1, 0), "/patch/abort");
  }
}

/* Add an oscillator to the staged (playing) patch. */
static void
commit_edit(Soak* const s, const uint64_t frame)
{
  HpHost* const h   = s->host;
  const int32_t txn = take_seq(s, M_COMMIT, -1, 0);
  ++s->commits_sent;
  /* An id of its own, and straight to the output: it sounds whatever else
     staging holds (a refused message may have left half a patch there). */
  const unsigned t = ++s->txn_id;
  stage(s, frame, txn, "/patch/create y%u sine", t);
  stage(s,
        frame,
        txn,
        "/patch/set y%u freq %.2f",
        t,
        (double)uniform(h, 60.0f, 2000.0f));
  stage(s, frame, txn, "/patch/set y%u gain 0.1", t);
  stage(s, frame, txn, "/patch/connect y%u out", t);
  HpHostCommit opts = { false, 0,    true, (float)hp_host_random(h, 0, 30),
                        true,  true, NULL, 0 };
  CHECK(!hp_host_send_commit(h, frame, txn, &opts));
  ++s->messages;
}

/* A live hp:Set: valid ones on the last patch's modules (the anchor's
   gain stays >= 0.1), and refused ones that must never sound. */
static void
live_set(Soak* const s, const uint64_t frame)
{
  HpHost* const h = s->host;
  char          line[160];
  uint8_t       flags = 0;
  switch (hp_host_random(h, 0, 11)) {
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

static void
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

/* Patch documents the soak loads. */
static void
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

static void
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
static void
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

static void
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

static void
setup_files(Soak* const s)
{
  snprintf(s->dir, sizeof(s->dir), "/tmp/hp_test_stress_XXXXXX");
  CHECK(mkdtemp(s->dir));
  snprintf(temp_dir, sizeof(temp_dir), "%s", s->dir);
  atexit(remove_temp_dir);
  for (int i = 0; i < 6; ++i) {
    static const char* const names[] = {
      "one.ttl", "two.ttl", "three.ttl", "bank.ttl", "broken.ttl", "missing.ttl"
    };
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

static void
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

static void
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

/* Read the notify events that arrived since the last look. */
static void
read_events(Soak* const s)
{
  HpHost* const h = s->host;
  const size_t  n = hp_host_n_events(h);
  const double  t = now_s();
  for (; s->ev_seen < n; ++s->ev_seen) {
    const HpHostEvent* ev = hp_host_event(h, s->ev_seen);
    if (ev->kind == HP_EV_SWAPPED && !s->sounding && ev->seq == s->first_seq &&
        s->first_seq >= 0) {
      s->sounding   = true;
      s->guarded    = true;
      s->check_from = ev->frame_abs;
    }
    if (ev->kind == HP_EV_SWAPPED && ev->seq < 0) {
      guard(s, ev->frame_abs, !s->bank_tainted); /* a scene change */
    } else if (ev->kind == HP_EV_SWAPPED && ev->seq < s->next_seq) {
      const Slot* const slot    = &s->slots[(uint32_t)ev->seq % SLOTS];
      const bool        tainted = (slot->flags & F_TAINTED) != 0;
      s->tainted_swaps += tainted;
      s->bank_tainted = tainted || (s->bank_tainted && !(slot->flags & F_FILE));
      guard(s, ev->frame_abs, !tainted);
    }
    const bool answer = ev->kind == HP_EV_ACK || ev->kind == HP_EV_ERROR ||
                        (ev->kind == HP_EV_PATCH_SET && ev->property &&
                         !strcmp(ev->property, HP__patch));
    if (!answer || ev->seq < 0) {
      continue;
    }
    if (ev->seq >= s->next_seq || s->next_seq - ev->seq > (int32_t)SLOTS) {
      ++s->duplicates; /* a number never sent, or one long written off */
      continue;
    }
    Slot* const slot = &s->slots[(uint32_t)ev->seq % SLOTS];
    if (!slot->kind || slot->replies) {
      ++s->duplicates;
      continue;
    }
    ++slot->replies;
    s->max_latency   = fmax(s->max_latency, t - slot->sent);
    const char* msg  = ev->message ? ev->message : "";
    const bool  full = ev->kind == HP_EV_ERROR && strstr(msg, "queue is full");
    if (ev->kind == HP_EV_ACK) {
      ++s->acks;
    } else if (ev->kind == HP_EV_ERROR) {
      ++s->errors;
      s->queue_full += full;
    }
    switch (slot->kind) {
    case M_STAGE:
      if (ev->kind == HP_EV_ERROR) {
        Slot* const c = &s->slots[(uint32_t)slot->txn % SLOTS];
        c->flags |= F_TAINTED;
      }
      break;
    case M_COMMIT:
      if (ev->kind == HP_EV_ACK) {
        ++s->swapped;
        if (slot->flags & F_MUST_FAIL) {
          ++s->failed_unexpected;
          snprintf(s->unexpected,
                   sizeof(s->unexpected),
                   "commit %d swapped in, but it was made to fail",
                   ev->seq);
        }
      } else if (full) {
        ++s->dropped;
      } else if (strstr(msg, "superseded")) {
        ++s->superseded;
      } else if (strstr(msg, "was aborted")) {
        ++s->aborted;
      } else if (slot->flags & (F_MUST_FAIL | F_TAINTED)) {
        ++s->failed_expected;
      } else {
        ++s->failed_unexpected;
        snprintf(
          s->unexpected, sizeof(s->unexpected), "commit %d: %s", ev->seq, msg);
      }
      break;
    case M_GET:
      s->gets_answered += ev->kind == HP_EV_PATCH_SET;
      break;
    default:
      if ((slot->flags & F_MUST_ERR) && ev->kind == HP_EV_ACK) {
        ++s->must_err_acked;
      }
      break;
    }
  }
}

/* Scan new audio: NaN/Inf, and runs of quiet frames (a run of 256 or more
   is a silent window; every window position counts). */
static void
scan_audio(Soak* const s)
{
  HpHost* const  h     = s->host;
  const size_t   n     = hp_host_recorded(h);
  const uint64_t start = hp_host_recorded_start(h);
  const float*   l     = hp_host_out_l(h);
  const float*   r     = hp_host_out_r(h);
  for (size_t i = s->rec_seen; i < n; ++i) {
    if (!isfinite(l[i]) || !isfinite(r[i])) {
      ++s->nonfinite;
    }
    uint32_t g = 0;
    while (g < s->n_guard && s->guard_frame[g] <= start + i) {
      s->guarded = s->guard_state[g++];
    }
    if (g) {
      memmove(s->guard_frame,
              s->guard_frame + g,
              (s->n_guard - g) * sizeof(uint64_t));
      memmove(
        s->guard_state, s->guard_state + g, (s->n_guard - g) * sizeof(bool));
      s->n_guard -= g;
    }
    if (!s->sounding || start + i < s->check_from) {
      continue;
    }
    if (!s->guarded) {
      ++s->unguarded_frames;
      s->quiet_run = 0;
      continue;
    }
    ++s->frames_checked;
    if (fabsf(l[i]) <= SILENT_PEAK && fabsf(r[i]) <= SILENT_PEAK) {
      if (++s->quiet_run >= WINDOW) {
        if (s->quiet_run == WINDOW) {
          ++s->silent_runs;
          if (!s->first_silent) {
            s->first_silent = start + i + 1 - WINDOW;
          }
        }
        ++s->silent_windows;
        if (s->quiet_run > s->longest_quiet) {
          s->longest_quiet = s->quiet_run;
        }
      }
    } else {
      s->quiet_run = 0;
    }
  }
  s->rec_seen = n;
}

/* Notifications the plugin says it dropped (its log). */
static void
count_log(Soak* const s)
{
  const size_t n = hp_host_log_count(s->host);
  for (size_t i = 0; i < n; ++i) {
    char line[128];
    hp_host_log_get(s->host, i, line, sizeof(line));
    s->notes_dropped += strstr(line, "notification queue full") != NULL;
  }
}

/* One block: run it, read what came back, keep memory bounded. */
static void
block(Soak* const s, const uint32_t n)
{
  CHECK_MSG(!hp_host_run(s->host, n), "%s", hp_host_last_error());
  read_events(s);
  scan_audio(s);
  if (hp_host_recorded(s->host) > (1u << 18u)) {
    hp_host_discard_output(s->host);
    s->rec_seen = 0;
    ++s->discards;
  }
  /* Events are read: drop them (the host would keep every one), unless the
     final checks look them up. */
  if (!s->keep_events || hp_host_n_events(s->host) > 4096) {
    hp_host_clear_events(s->host);
    s->ev_seen = 0;
  }
  if (hp_host_log_count(s->host) > 256) {
    count_log(s);
    hp_host_log_clear(s->host);
  }
}

/* Read and drop what the host holds (events, log), so memory figures
   compare like with like. */
static void
settle(Soak* const s)
{
  read_events(s);
  hp_host_clear_events(s->host);
  s->ev_seen = 0;
  count_log(s);
  hp_host_log_clear(s->host);
}

/* Numbered messages still unanswered. */
static uint64_t
outstanding(const Soak* const s)
{
  uint64_t n = 0;
  int32_t  from =
    s->next_seq > (int32_t)SLOTS ? s->next_seq - (int32_t)SLOTS : 0;
  for (int32_t q = from; q < s->next_seq; ++q) {
    const Slot* slot = &s->slots[(uint32_t)q % SLOTS];
    n += slot->kind && !slot->replies;
  }
  return n;
}

/* Let real time pass (a 256-frame block every 5 ms) until every answer is
   in, or the worker has been idle for 100 ms and nothing more can come. */
static void
drain(Soak* const s, const double seconds)
{
  const double until = now_s() + seconds;
  int          idle  = 0;
  while (now_s() < until && outstanding(s) && idle < 20) {
    block(s, 256);
    sleep_s(0.005);
    idle = hp_host_wait_worker(s->host, 0) ? 0 : idle + 1;
  }
  for (int i = 0; i < 8; ++i) {
    block(s, 256); /* what the last job published */
  }
}

static uint32_t
pick_block(HpHost* const h)
{
  /* 1..4096, with the edges drawn 1 time in 8 (as the host's own policy). */
  if (hp_host_random(h, 0, 7) == 0) {
    static const uint32_t edges[] = { 1, 2, 4095, 4096 };
    return edges[hp_host_random(h, 0, 3)];
  }
  return hp_host_random(h, 1, 4096);
}

/* HP_STRESS_KINDS=set,gate,... limits the soak to those kinds (to chase a
   failure); the weights keep their ratios. */
static unsigned weights[N_KINDS];
static unsigned weight_total;

static void
setup_weights(void)
{
  const char* only = getenv("HP_STRESS_KINDS");
  weight_total     = 0;
  for (int k = 0; k < N_KINDS; ++k) {
    bool on = !only || !*only;
    for (const char* p = only; p && *p && !on;) {
      const size_t len = strcspn(p, ",");
      on |= len == strlen(kind_names[k]) && !strncmp(p, kind_names[k], len);
      p += len + (p[len] == ',');
    }
    weights[k] = on ? kind_weights[k] : 0;
    weight_total += weights[k];
  }
  CHECK_MSG(weight_total > 0, "HP_STRESS_KINDS=%s names no kind", only);
}

static Kind
pick_kind(HpHost* const h)
{
  uint32_t x = hp_host_random(h, 0, weight_total - 1);
  for (int k = 0; k < N_KINDS; ++k) {
    if (x < weights[k]) {
      return (Kind)k;
    }
    x -= weights[k];
  }
  return K_SET;
}

static void
soak(const unsigned long n_ops)
{
  const unsigned long seed     = env_number("HP_STRESS_SEED", 20240601);
  const unsigned long delay_us = env_number("HP_STRESS_DELAY_US", 100000);
  const double        speed    = (double)env_number("HP_STRESS_SPEED", 10);

  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode         = HP_WORKER_THREADED;
  cfg.sample_rate         = RATE;
  cfg.max_block           = 4096;
  cfg.seed                = seed;
  cfg.worker_ring_size    = 512;
  cfg.worker_delay_max_us = (uint32_t)delay_us;
  cfg.poison_outputs      = true; /* a frame run() leaves unwritten is NaN */

  setup_weights();
  static Soak s;
  memset(&s, 0, sizeof(s));
  s.slots = (Slot*)calloc(SLOTS, sizeof(Slot));
  CHECK(s.slots);
  memset(s.slots, 0, SLOTS * sizeof(Slot)); /* resident before measuring */
  s.first_seq = -1;
  setup_files(&s);
  s.host = hp_host_new(&cfg);
  CHECK_MSG(s.host, "instantiate: %s", hp_host_last_error());
  HpHost* const h = s.host;
  snprintf(s.anchor, sizeof(s.anchor), "a0");
  snprintf(s.env, sizeof(s.env), "e0");
  snprintf(s.filt, sizeof(s.filt), "f0");
  snprintf(s.extra, sizeof(s.extra), "x0");

  const double t0 = now_s();

  /* The first sounding patch. */
  s.first_seq = s.next_seq;
  commit_full(&s, hp_host_frames(h), false);
  for (int i = 0; i < 4000 && !s.sounding; ++i) {
    block(&s, 256);
    if (!s.sounding) {
      hp_host_wait_worker(h, 200);
    }
  }
  CHECK_MSG(s.sounding, "the first patch never swapped in");

  const unsigned long warm          = n_ops / 10;
  long                rss_before    = -1;
  long                rss_mid       = -1;
  long                heap_before   = -1;
  long                anon_before   = -1;
  size_t              blocks_before = 0;
  long                anon_mid      = -1;
  long                heap_mid      = -1;
  unsigned      freewheel = 150; /* blocks left unpaced; one burst first */
  uint64_t      freewheel_blocks = 0;
  double        paced_wall       = now_s();
  unsigned long done             = 0;
  while (done < n_ops) {
    /* Warm-up: a tenth of the run, and the host's buffers at full size. */
    if (done >= warm && s.discards >= 2 && rss_before < 0) {
      settle(&s);
      hp_host_blocks(h, &blocks_before);
      rss_before  = rss_kb(&anon_before);
      heap_before = heap_kb();
    }
    if (done >= n_ops / 2 && rss_before >= 0 && rss_mid < 0) {
      settle(&s);
      rss_mid  = rss_kb(&anon_mid);
      heap_mid = heap_kb();
    }
    const uint32_t n  = pick_block(h);
    const uint64_t at = hp_host_frames(h);
    /* 0 to 3 operations in this block, each at one frame of it. */
    const uint32_t count = hp_host_random(h, 0, 3);
    for (uint32_t c = 0; c < count && done < n_ops; ++c, ++done) {
      const uint64_t frame = at + hp_host_random(h, 0, n - 1);
      /* A flood half-way through the warm-up: the host's buffers reach
         their full size before memory is measured. */
      const Kind kind = done == warm / 2 ? K_FLOOD : pick_kind(h);
      ++s.ops[kind];
      switch (kind) {
      case K_COMMIT:
        commit_full(&s, frame, false);
        break;
      case K_COMMIT_EDIT:
        commit_edit(&s, frame);
        break;
      case K_COMMIT_BAD:
        commit_full(&s, frame, true);
        break;
      case K_ABORT:
        text(&s, frame, take_seq(&s, M_OTHER, -1, 0), "/patch/abort");
        break;
      case K_SET:
        live_set(&s, frame);
        break;
      case K_GATE: {
        char line[64];
        snprintf(line,
                 sizeof(line),
                 "/patch/gate %s %u",
                 s.env,
                 hp_host_random(h, 0, 1));
        text(&s,
             frame,
             hp_host_random(h, 0, 3) ? take_seq(&s, M_OTHER, -1, 0) : -1,
             line);
        break;
      }
      case K_FILE:
        load_file(&s, frame);
        break;
      case K_SCENE:
        /* Scenes 1..4 of the bank, or an empty one (refused in the log). */
        CHECK(!hp_host_set_control(
          h,
          "scene",
          (float)(hp_host_random(h, 0, 9) ? hp_host_random(h, 0, 3) : 6)));
        break;
      case K_SAVE:
        CHECK_MSG(!hp_host_save_state(h, s.state_dir),
                  "save: %s",
                  hp_host_last_error());
        ++s.saves;
        break;
      case K_GET:
        CHECK(!hp_host_send_patch_get(h, frame, take_seq(&s, M_GET, -1, 0)));
        ++s.messages;
        break;
      case K_MALFORMED:
        malformed(&s, frame);
        break;
      case K_FLOOD:
        /* Automation gone wild: more numbered hp:Sets in one block than
           the operation queue holds. */
        for (int i = 0; i < FLOOD; ++i) {
          char line[96];
          snprintf(line,
                   sizeof(line),
                   "/patch/set %s freq %d",
                   s.anchor,
                   200 + i % 500);
          text(&s, frame, take_seq(&s, M_OTHER, -1, 0), line);
        }
        break;
      case N_KINDS:
        break;
      }
    }
    block(&s, n);

    /* Pace: at most `speed` times real time, except in freewheel bursts
       (an export), when the worker's ring fills. */
    if (freewheel) {
      --freewheel;
      ++freewheel_blocks;
      paced_wall = now_s();
    } else {
      paced_wall += (double)n / (RATE * speed);
      const double ahead = paced_wall - now_s();
      if (ahead > 0.0) {
        sleep_s(ahead);
      } else if (ahead < -0.05) {
        paced_wall = now_s(); /* no catching up in a burst */
      }
      if (hp_host_random(h, 0, 199) == 0) {
        freewheel = hp_host_random(h, 20, 150);
      }
    }
  }
  const double t_ops = now_s() - t0;

  /* Let every answer come in, the scene control's last move included. */
  drain(&s, 30.0);
  const uint64_t unanswered = outstanding(&s);

  /* The last commit: a known patch; the final state must be exactly it. */
  s.keep_events           = true;
  const int32_t final_seq = take_seq(&s, M_COMMIT, -1, 0);
  ++s.commits_sent;
  static const char* const final_lines[] = { "/patch/clear",
                                             "/patch/create fin sine",
                                             "/patch/set fin freq 523.25",
                                             "/patch/set fin gain 0.3",
                                             "/patch/create fin_lfo lfo",
                                             "/patch/set fin_lfo rate 2" };
  for (size_t i = 0; i < sizeof(final_lines) / sizeof(final_lines[0]); ++i) {
    text(&s, hp_host_frames(h), -1, final_lines[i]);
  }
  text(&s, hp_host_frames(h), final_seq, "/patch/commit require_signal=1");
  /* (Events are copied out at once: block() may clear them.) */
  bool final_acked      = false;
  bool final_answered   = false;
  char final_error[320] = "";
  for (int i = 0; i < 400 && !final_answered; ++i) {
    block(&s, 256);
    hp_host_wait_worker(h, 200);
    const HpHostEvent* ev = hp_host_find_reply(h, final_seq);
    if (ev) {
      final_answered = true;
      final_acked    = ev->kind == HP_EV_ACK;
      snprintf(
        final_error, sizeof(final_error), "%s", ev->message ? ev->message : "");
    }
  }
  CHECK_MSG(final_answered, "the final commit was never answered");
  CHECK_MSG(final_acked, "the final commit failed: %s", final_error);
  drain(&s, 5.0);
  /* After its 20 ms crossfade, only the final patch plays. */
  hp_host_discard_output(h);
  s.rec_seen = 0;
  for (int i = 0; i < 96; ++i) {
    block(&s, 500);
  }
  const size_t rec  = hp_host_recorded(h);
  const double freq = hp_sig_freq(hp_host_out_l(h) + rec - 24000, 24000, RATE);
  const double rms  = hp_sig_rms(hp_host_out_l(h) + rec - 24000, 24000);
  const float  modules = hp_host_control_out(h, "modules");
  const float  swaps   = hp_host_control_out(h, "swaps");

  const int32_t get_seq = take_seq(&s, M_GET, -1, 0);
  CHECK(!hp_host_send_patch_get(h, hp_host_frames(h), get_seq));
  bool got            = false;
  char got_text[4096] = "(no answer)";
  for (int i = 0; i < 400 && !got; ++i) {
    block(&s, 256);
    hp_host_wait_worker(h, 200);
    for (size_t e = 0; e < hp_host_n_events(h) && !got; ++e) {
      const HpHostEvent* ev = hp_host_event(h, e);
      if (ev->kind == HP_EV_PATCH_SET && ev->seq == get_seq && ev->property &&
          !strcmp(ev->property, HP__patch) && ev->value_string) {
        got = true;
        snprintf(got_text, sizeof(got_text), "%s", ev->value_string);
      }
    }
  }
  static const char want_text[] = "/patch/clear\n"
                                  "/patch/create fin sine\n"
                                  "/patch/set fin freq 523.25\n"
                                  "/patch/set fin gain 0.3\n"
                                  "/patch/create fin_lfo lfo\n"
                                  "/patch/set fin_lfo rate 2\n";
  CHECK_MSG(
    !hp_host_save_state(h, s.state_dir), "save: %s", hp_host_last_error());
  char* state = hp_host_state_to_string(h);
  CHECK(state);
  const bool state_has_final =
    strstr(state, "\\\"fin\\\"") || strstr(state, "\"fin\"");
  const bool state_has_freq = strstr(state, "523.25") != NULL;
  free(state);
  settle(&s);
  long         anon_after = -1;
  const long   rss_after  = rss_kb(&anon_after);
  const long   heap_after = heap_kb();
  const double wall       = now_s() - t0;

  HpWorkerStats ws;
  hp_host_worker_stats(h, &ws);
  size_t n_blocks = 0;
  hp_host_blocks(h, &n_blocks);

  printf("# soak: %lu operations in %.1f s (%.1f s with the final checks), "
         "%.1f s of audio at up to %.0fx real time, %llu freewheel blocks; "
         "seed %lu\n",
         n_ops,
         t_ops,
         wall,
         (double)hp_host_frames(h) / RATE,
         speed,
         (unsigned long long)freewheel_blocks,
         seed);
  printf("# ops by kind:");
  for (int k = 0; k < N_KINDS; ++k) {
    printf(" %s %llu%s",
           kind_names[k],
           (unsigned long long)s.ops[k],
           k + 1 < N_KINDS ? "," : "\n");
  }
  printf("# messages: %llu sent, %llu numbered; answers: %llu Ack, %llu Error "
         "(%llu 'queue is full'), %llu lost, %llu duplicate or unknown; "
         "%llu patch:Get answered; slowest answer %.0f ms; the plugin logged "
         "%llu 'notification queue full; one dropped'\n",
         (unsigned long long)s.messages,
         (unsigned long long)s.numbered,
         (unsigned long long)s.acks,
         (unsigned long long)s.errors,
         (unsigned long long)s.queue_full,
         (unsigned long long)(s.lost + unanswered),
         (unsigned long long)s.duplicates,
         (unsigned long long)s.gets_answered,
         s.max_latency * 1e3,
         (unsigned long long)s.notes_dropped);
  printf("# commits (file loads included): %llu sent, %llu swapped (the swaps "
         "port, scene changes included: %g), %llu "
         "superseded, %llu aborted, %llu dropped (queue full), %llu failed as "
         "meant (made to fail, or a staging message refused), %llu failed "
         "otherwise\n",
         (unsigned long long)s.commits_sent,
         (unsigned long long)s.swapped,
         (double)swaps,
         (unsigned long long)s.superseded,
         (unsigned long long)s.aborted,
         (unsigned long long)s.dropped,
         (unsigned long long)s.failed_expected,
         (unsigned long long)s.failed_unexpected);
  printf("# worker: delay up to %lu ms a job, %llu jobs, ring 512 bytes: %llu "
         "of %llu tokens refused (ring full); %llu state saves\n",
         delay_us / 1000,
         (unsigned long long)ws.work_calls,
         (unsigned long long)ws.schedule_failures,
         (unsigned long long)ws.schedule_calls,
         (unsigned long long)s.saves);
  printf("# audio: %.1f s checked (%.1f s not: %llu commits with a refused "
         "staging message swapped in), %llu silent 256-frame windows (%llu "
         "runs, longest %llu frames), %llu NaN/Inf samples\n",
         (double)s.frames_checked / RATE,
         (double)s.unguarded_frames / RATE,
         (unsigned long long)s.tainted_swaps,
         (unsigned long long)s.silent_windows,
         (unsigned long long)s.silent_runs,
         (unsigned long long)s.longest_quiet,
         (unsigned long long)s.nonfinite);
  printf("# final state: %s, %.3f Hz at RMS %.3f, %g modules; patch:Get %s\n",
         final_acked ? "committed" : "failed",
         freq,
         rms,
         (double)modules,
         got && !strcmp(got_text, want_text) ? "matches the last commit"
                                             : "differs");
  /* Growth less the host's block log (RSS: the entries written; heap: the
     array allocated). */
  const long log_rss =
    block_log_kb(n_blocks, false) - block_log_kb(blocks_before, false);
  const long log_heap =
    block_log_kb(n_blocks, true) - block_log_kb(blocks_before, true);
  const long rss_growth  = rss_after - rss_before - log_rss;
  const long heap_growth = heap_after - heap_before - log_heap;
  printf("# memory: RSS %ld KiB after warm-up (%lu ops), %ld KiB half-way, "
         "%ld KiB at the end (not file-backed: %ld, %ld, %ld KiB); heap in use "
         "%ld, %ld, %ld KiB; growth less the test host's log of %zu blocks: "
         "RSS %+ld KiB, heap %+ld KiB\n",
         rss_before,
         warm,
         rss_mid,
         rss_after,
         anon_before,
         anon_mid,
         anon_after,
         heap_before,
         heap_mid,
         heap_after,
         n_blocks,
         rss_growth,
         heap_growth);

  SOFT_CHECK(s.silent_windows == 0,
             "%llu silent windows, the first at frame %llu",
             (unsigned long long)s.silent_windows,
             (unsigned long long)s.first_silent);
  SOFT_CHECK(
    s.nonfinite == 0, "%llu NaN/Inf samples", (unsigned long long)s.nonfinite);
  SOFT_CHECK(s.lost + unanswered == 0,
             "%llu numbered messages never answered (the plugin logged %llu "
             "'notification queue full; one dropped')",
             (unsigned long long)(s.lost + unanswered),
             (unsigned long long)s.notes_dropped);
  SOFT_CHECK(s.duplicates == 0,
             "%llu duplicate answers",
             (unsigned long long)s.duplicates);
  SOFT_CHECK(s.must_err_acked == 0,
             "%llu bad messages acknowledged",
             (unsigned long long)s.must_err_acked);
  SOFT_CHECK(s.failed_unexpected == 0,
             "%llu valid commits failed; the last: %s",
             (unsigned long long)s.failed_unexpected,
             s.unexpected);
  /* The soak's own sanity: commits do swap in (most are superseded: the
     worker takes up to 100 ms a job, and in a job the last commit wins). */
  CHECK_MSG(swaps >= 1.0f + (float)ws.work_calls / 20.0f,
            "only %g swaps in %llu worker jobs",
            (double)swaps,
            (unsigned long long)ws.work_calls);
  SOFT_CHECK(fabs(freq - 523.25) < 0.1, "final pitch %.3f Hz", freq);
  SOFT_CHECK(modules == 2.0f, "module count port %g", (double)modules);
  SOFT_CHECK(got && !strcmp(got_text, want_text),
             "patch:Get after the last commit:\n%s\nexpected:\n%s",
             got_text,
             want_text);
  SOFT_CHECK(state_has_final && state_has_freq,
             "the saved state lacks the final patch");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  printf("# memory growth not checked: a sanitizer's quarantine and shadow "
         "memory hold what the program frees\n");
#else
  /* Valgrind (./waf test --valgrind) runs the program on its own heap. */
  const char* preload  = getenv("LD_PRELOAD");
  const bool  valgrind = preload && strstr(preload, "vgpreload");
  if (valgrind) {
    printf("# memory growth not checked: under valgrind (it checks leaks)\n");
  } else if (rss_before < 0) {
    printf("# memory growth not checked: too short a run to warm up\n");
  }
  SOFT_CHECK(
    valgrind || rss_before < 0 || rss_growth < RSS_LIMIT_KB,
    "RSS grew from %ld to %ld KiB (%+ld KiB less the host's block log)",
    rss_before,
    rss_after,
    rss_growth);
  SOFT_CHECK(valgrind || rss_before < 0 || heap_growth < HEAP_LIMIT_KB,
             "heap in use grew from %ld to %ld KiB (%+ld KiB less the host's "
             "block log)",
             heap_before,
             heap_after,
             heap_growth);
#endif

  hp_host_free(h);
  free(s.slots);
  remove_temp_dir();
}

/* Probes: the soak's contracts in single, deterministic steps. */

static HpHost*
make(const HpWorkerMode mode)
{
  return hp_host_open(&(HpHostConfig){.worker_mode = mode, .sample_rate = RATE});
}

static void
send_now(HpHost* const host, const int seq, const char* const line)
{
  CHECK_MSG(!hp_host_send_text(host, hp_host_frames(host), seq, line),
            "%s: %s",
            line,
            hp_host_last_error());
}

/* Run until `seq` is answered (threaded: letting the worker run). */
static const HpHostEvent*
answer(HpHost* const host, const int seq)
{
  for (int i = 0; i < 200; ++i) {
    const HpHostEvent* ev = hp_host_find_reply(host, seq);
    if (ev) {
      return ev;
    }
    CHECK(!hp_host_run(host, 256));
    hp_host_wait_worker(host, 1000);
  }
  return NULL;
}

/* More numbered messages in one block than the operation queue holds: each
   is answered, the overflow with "queue is full".  With a synchronous
   worker the queue is drained only at the end of that run(), in one go. */
static void
probe_flood_answers(const HpWorkerMode mode)
{
  HpHost* host = make(mode);
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create osc sine");
  send_now(host, 1, "/patch/commit");
  CHECK(answer(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);
  hp_host_clear_events(host);
  hp_host_log_clear(host);
  for (int i = 0; i < FLOOD; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/set osc freq %d", 300 + i % 100);
    send_now(host, 1000 + i, line);
  }
  for (int i = 0; i < 40; ++i) {
    CHECK(!hp_host_run(host, 256));
    hp_host_wait_worker(host, 1000);
  }
  size_t acks = 0, full = 0, other = 0, missing = 0;
  for (int i = 0; i < FLOOD; ++i) {
    const HpHostEvent* ev = hp_host_find_reply(host, 1000 + i);
    if (!ev) {
      ++missing;
    } else if (ev->kind == HP_EV_ACK) {
      ++acks;
    } else if (ev->message && strstr(ev->message, "queue is full")) {
      ++full;
    } else {
      ++other;
    }
  }
  const char* how = mode == HP_WORKER_SYNC ? "sync" : "threaded";
  printf("# flood of %d numbered hp:Sets in one block, %s worker: %zu Ack, %zu "
         "'queue is full', %zu other, %zu never answered%s\n",
         FLOOD,
         how,
         acks,
         full,
         other,
         missing,
         hp_host_log_contains(host, "notification queue full")
           ? " (the plugin logged 'notification queue full; one dropped')"
           : "");
  SOFT_CHECK(missing == 0,
             "%s worker: %zu of %d numbered messages never "
             "answered",
             how,
             missing,
             FLOOD);
  hp_host_free(host);
}

/* A message the full queue refuses must change nothing: it is answered
   "dropped ... send it again".  Sync worker: the queue fills within one
   run() and is drained at its end, so the slots left are exact. */
static void
probe_queue_full_atomic(void)
{
  HpHost* host = make(HP_WORKER_SYNC);
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create osc sine");
  send_now(host, -1, "/patch/set osc freq 440");
  send_now(host, 1, "/patch/commit");
  CHECK(answer(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);

  /* 1: a refused hp:Set must not sound (nor be recorded). */
  for (int i = 0; i < 1024; ++i) {
    send_now(host, -1, "/patch/set osc freq 440");
  }
  send_now(host, 2, "/patch/set osc freq 880");
  CHECK(!hp_host_run(host, 256));
  const HpHostEvent* refused = hp_host_find_reply(host, 2);
  CHECK_MSG(refused && refused->kind == HP_EV_ERROR && refused->message &&
              strstr(refused->message, "queue is full"),
            "the 1,025th op was not refused: %s",
            refused && refused->message ? refused->message : "(no answer)");
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){ HP_BLOCK_FIXED, 256, 0, 0 }));
  const size_t n    = hp_host_recorded(host);
  const double freq = hp_sig_freq(hp_host_out_l(host) + n - 12000, 12000, RATE);
  printf("# an hp:Set refused by a full queue (\"dropped: send it again\"): "
         "the oscillator plays %.2f Hz after it (440 before)\n",
         freq);
  SOFT_CHECK(fabs(freq - 440.0) < 0.5,
             "a refused hp:Set sounds anyway (%.2f Hz) though the patch "
             "records 440 Hz",
             freq);

  /* 2: a commit whose prime op fits in the last slot but whose commit does
     not is refused; the next valid commit must not inherit its prime op. */
  hp_host_clear_events(host);
  for (int i = 0; i < 1023; ++i) {
    send_now(host, -1, "/patch/set osc freq 440");
  }
  HpPrimeOp    prime = { "gate", "env_gone", NULL, 1.0f };
  HpHostCommit opts  = { false, 0, false, 0.0f, false, false, &prime, 1 };
  CHECK(!hp_host_send_commit(host, hp_host_frames(host), 3, &opts));
  CHECK(!hp_host_run(host, 256));
  const HpHostEvent* dropped = hp_host_find_reply(host, 3);
  CHECK_MSG(dropped && dropped->kind == HP_EV_ERROR && dropped->message &&
              strstr(dropped->message, "queue is full"),
            "the commit was not refused: %s",
            dropped && dropped->message ? dropped->message : "(no answer)");
  send_now(host, -1, "/patch/create osc2 triangle");
  send_now(host, 4, "/patch/commit");
  const HpHostEvent* next = answer(host, 4);
  printf(
    "# a commit refused by a full queue (its prime op fitted, its commit "
    "did not); the next valid commit: %s%s\n",
    next ? (next->kind == HP_EV_ACK ? "swapped" : "failed: ") : "no answer",
    next && next->kind == HP_EV_ERROR && next->message ? next->message : "");
  SOFT_CHECK(next && next->kind == HP_EV_ACK,
             "a valid commit inherited the prime op of a message the full "
             "queue refused: %s",
             next && next->message ? next->message : "(no answer)");
  hp_host_free(host);
}

/* A live hp:Set that arrives after a commit, before its swap: the patch
   records it (patch:Get, state), so the patch that swaps in must play it. */
static void
probe_set_before_swap(void)
{
  HpHost* host = hp_host_open(
    &(HpHostConfig){.sample_rate = RATE, .worker_delay_max_us = 20000});
  send_now(host, -1, "/patch/clear");
  send_now(host, -1, "/patch/create tone sine");
  send_now(host, -1, "/patch/set tone freq 523.25");
  send_now(host, 1, "/patch/commit");
  CHECK(answer(host, 1) && hp_host_find_reply(host, 1)->kind == HP_EV_ACK);
  CHECK(
    !hp_host_render(host, 9600, (HpBlockPolicy){ HP_BLOCK_FIXED, 256, 0, 0 }));
  /* An edit that keeps tone, committed; in the same block (before the
     worker has even seen it) tone is retuned live. */
  send_now(host, -1, "/patch/create lfo1 lfo");
  send_now(host, 2, "/patch/commit crossfade=0");
  CHECK(!hp_host_send_text(
    host, hp_host_frames(host) + 100, 3, "/patch/set tone freq 659.25"));
  const HpHostEvent* ack = answer(host, 2);
  CHECK(ack && ack->kind == HP_EV_ACK);
  CHECK(answer(host, 3) && hp_host_find_reply(host, 3)->kind == HP_EV_ACK);
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){ HP_BLOCK_FIXED, 256, 0, 0 }));
  const size_t n    = hp_host_recorded(host);
  const double freq = hp_sig_freq(hp_host_out_l(host) + n - 12000, 12000, RATE);
  CHECK(!hp_host_send_patch_get(host, hp_host_frames(host), 4));
  const HpHostEvent* got = NULL;
  for (int i = 0; i < 100 && !got; ++i) {
    CHECK(!hp_host_run(host, 256));
    hp_host_wait_worker(host, 1000);
    got = hp_host_find_event(host, HP_EV_PATCH_SET, 4);
  }
  const bool recorded =
    got && got->value_string &&
    strstr(got->value_string, "/patch/set tone freq 659.25\n");
  printf(
    "# a live hp:Set between a commit and its swap: patch:Get %s 659.25 Hz, "
    "the swapped-in patch plays %.2f Hz\n",
    recorded ? "records" : "does not record",
    freq);
  SOFT_CHECK(
    !recorded || fabs(freq - 659.25) < 0.5,
    "patch:Get and saved state say tone plays 659.25 Hz, but after the "
    "swap it plays %.2f Hz: the live set is lost from the sound",
    freq);
  hp_host_free(host);
}

int
main(const int argc, char** const argv)
{
  unsigned long n_ops = env_number("HP_STRESS_OPS", 5000);
  if (argc > 1) {
    n_ops = strtoul(argv[1], NULL, 10);
  }
  CHECK_MSG(n_ops > 0, "usage: %s [OPERATIONS]", argv[0]);
  soak(n_ops);
  probe_flood_answers(HP_WORKER_SYNC);
  probe_flood_answers(HP_WORKER_THREADED);
  probe_queue_full_atomic();
  probe_set_before_swap();
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
  }
  return failures ? 1 : 0;
}
