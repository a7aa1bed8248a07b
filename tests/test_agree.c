/*
  What plays is what is reported and saved , through the
  lilv test host with a threaded worker (like jalv) and a synchronous one
  (like Ardour's export).

  First the three cases the review found: a live set to a module created
  and committed in the same batch; more than 64 sets between a commit and
  its swap; a set to a module whose deletion is staged while it still
  plays.  Then a property test: random sequences of sets, gates, creates,
  deletes, clears, voice counts, commits (crossfaded, switched or tail),
  reverts and aborts at random block sizes, among them modules of every type the
  instrument takes (from the registry, run unheard) and sets of their
  parameters, checked after every round against a model of the patch
  protocol (staged, committed and playing patches): every answer, the
  pitch and level of every oscillator (the registry modules add nothing),
  the notes a chord sounds on the voices committed, the patch:Get text and
  the saved state.

  HP_AGREE_SEED and HP_AGREE_ROUNDS vary the property test.
*/

#include "fixture.h"
#include "host.h"
#include "module.h"
#include "signal.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run until every numbered message up to `last_seq` is answered (a
   numbered commit is answered at its swap), then past a crossfade and a
   glide. */
static void
settle(HpHost* const host, const int first_seq, const int last_seq)
{
  for (int k = 0; k < 400; ++k) {
    CHECK(!hp_host_run(host, BLOCK));
    CHECK_MSG(!hp_host_wait_worker(host, 5000), "%s", hp_host_last_error());
    bool all = true;
    for (int s = first_seq; s <= last_seq && all; ++s) {
      all = hp_host_find_reply(host, s) != NULL;
    }
    if (all) {
      break;
    }
  }
  CHECK(
    !hp_host_render(host, 4800, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
}

/* Render `n` frames more and return them (left). */
static const float*
listen(HpHost* const host, const size_t n)
{
  CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
  return hp_host_out_l(host) + hp_host_recorded(host) - n;
}

static const char*
reply_text(const HpHostEvent* const r)
{
  return !r           ? "no answer"
         : r->message ? r->message
                      : hp_host_event_kind_name(r->kind);
}

/* The patch:Get answer (hp:patch text), a new string. */
static char*
patch_text(HpHost* const host, const int seq)
{
  return fx_get_text(host, seq, "/patch/get", HP__patch);
}

/* The saved state (Turtle, with the patch document inside as a string,
   its quotes unescaped), a new string. */
static char*
saved_state(HpHost* const host)
{
  char dir[] = "/tmp/hp_test_agree_XXXXXX";
  CHECK(mkdtemp(dir));
  CHECK_MSG(!hp_host_save_state(host, dir), "%s", hp_host_last_error());
  char* text = hp_host_state_to_string(host);
  CHECK(text);
  char* out = text;
  for (const char* c = text; *c; ++c) {
    if (!(c[0] == '\\' && c[1] == '"')) {
      *out++ = *c;
    }
  }
  *out = '\0';
  char cmd[64];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  CHECK(!system(cmd));
  return text;
}

/* 1. The three cases */

/* clear; create s1 sine; commit; set s1 freq 1000, in one block. */
static void
test_set_after_commit(const HpWorkerMode mode)
{
  /* Threaded: the worker sleeps up to 20 ms before its work, so the set
     arrives before the standby is published, as with a busy host. */
  HpHost* const host = fx_host_cfg((HpHostConfig){
    .worker_mode         = mode,
    .seed                = 1,
    .worker_delay_max_us = mode == HP_WORKER_THREADED ? 20000 : 0});
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create s1 sine");
  fx_send(host, 1, "/patch/commit");
  fx_send(host, 2, "/patch/set s1 freq 1000");
  settle(host, 1, 2);
  const HpHostEvent* r     = hp_host_find_reply(host, 2);
  const double       f     = hp_sig_freq(listen(host, 9600), 9600, RATE);
  char* const        text  = patch_text(host, 3);
  char* const        state = saved_state(host);
  const bool reported      = text && strstr(text, "/patch/set s1 freq 1000\n");
  const bool saved = strstr(state, "hp:param \"freq\" ; hp:value 1000.0");
  EXPECT(r && r->kind == HP_EV_ACK,
         "%s: set answered %s",
         fx_mode_name(mode),
         reply_text(r));
  EXPECT(fabs(f - 1000.0) < 0.1 && reported && saved,
         "%s: set s1 freq 1000 after its commit: plays %.3f Hz, patch:Get "
         "%s it, the saved state %s it",
         fx_mode_name(mode),
         f,
         reported ? "has" : "lacks",
         saved ? "has" : "lacks");
  printf("# %s worker: set right after the commit creating its module: plays "
         "%.3f Hz, reported and saved as 1000\n",
         fx_mode_name(mode),
         f);
  free(text);
  free(state);
  hp_host_free(host);
}

/* A commit, then one set that matters and 100 after it, in one block. */
static void
test_many_sets(const HpWorkerMode mode)
{
  HpHost* const host = fx_host_cfg((HpHostConfig){
    .worker_mode         = mode,
    .seed                = 2,
    .worker_delay_max_us = mode == HP_WORKER_THREADED ? 20000 : 0});
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc1 sine");
  fx_send(host, -1, "/patch/set osc1 gain 0.2");
  fx_send(host, -1, "/patch/create k0 const");
  fx_send(host, 1, "/patch/commit crossfade=0");
  settle(host, 1, 1);
  fx_send(host, -1, "/patch/create k1 const");
  fx_send(host, 2, "/patch/commit crossfade=0");
  fx_send(host, 3, "/patch/set osc1 gain 0.02");
  for (int i = 0; i < 100; ++i) {
    char line[64];
    snprintf(line, sizeof(line), "/patch/set k0 value %d", i);
    fx_send(host, -1, line);
  }
  settle(host, 2, 3);
  const double rms = hp_sig_rms(listen(host, 9600), 9600);
  EXPECT(fabs(rms - 0.02 / sqrt(2.0)) < 0.0005,
         "%s: 101 sets after a commit: RMS %.4f, want %.4f (gain 0.02)",
         fx_mode_name(mode),
         rms,
         0.02 / sqrt(2.0));
  printf("# %s worker: 101 live sets between a commit and its swap: RMS %.4f "
         "(gain 0.02 set first)\n",
         fx_mode_name(mode),
         rms);
  hp_host_free(host);
}

/* delete osc1 staged, then set osc1 freq 495 while it plays. */
static void
test_set_while_deleting(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 3);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create osc1 sine");
  fx_send(host, -1, "/patch/create osc2 sine");
  fx_send(host, -1, "/patch/set osc2 gain 0");
  fx_send(host, 1, "/patch/commit");
  settle(host, 1, 1);
  fx_send(host, 2, "/patch/delete osc1");
  fx_send(host, 3, "/patch/set osc1 freq 495");
  settle(host, 2, 3);
  const HpHostEvent* r    = hp_host_find_reply(host, 3);
  const double       f    = hp_sig_freq(listen(host, 9600), 9600, RATE);
  char* const        text = patch_text(host, 4);
  EXPECT(r && r->kind == HP_EV_ACK,
         "%s: set to a module being deleted: %s",
         fx_mode_name(mode),
         reply_text(r));
  EXPECT(fabs(f - 495.0) < 0.1,
         "%s: osc1 plays %.3f Hz, want 495",
         fx_mode_name(mode),
         f);
  EXPECT(text && strstr(text, "/patch/set osc1 freq 495\n"),
         "%s: patch:Get does not show the set:\n%s",
         fx_mode_name(mode),
         text ? text : "(no answer)");
  fx_send(host, 5, "/patch/commit");
  settle(host, 5, 5);
  const double rms = hp_sig_rms(listen(host, 9600), 9600);
  EXPECT(rms < 1e-6,
         "%s: osc1 still heard after the delete (RMS %.4f)",
         fx_mode_name(mode),
         rms);
  printf("# %s worker: set osc1 freq 495 with its deletion staged: %s, plays "
         "%.3f Hz; gone after the commit (RMS %.1g)\n",
         fx_mode_name(mode),
         reply_text(r),
         f,
         rms);
  free(text);
  hp_host_free(host);
}

/* 2. The property test */

#define N_OSC 3

static const float osc_freqs[N_OSC][3] = {{220.0f, 250.0f, 280.0f},
                                          {330.0f, 370.0f, 410.0f},
                                          {495.0f, 550.0f, 610.0f}};
static const float gains[]             = {0.0f, 0.1f, 0.2f, 0.3f};

/* The voice chain's sine levels, and the chord it is played: notes
   over 1 kHz apart and away from the oscillators, so that over the 0.2 s
   measured their beats do not move the RMS. */
static const float poly_gains[] = {0.05f, 0.1f, 0.2f};
static const int   chord[]      = {84, 96, 103};
#define N_CHORD 3

/* Registry modules: z_<type>, one of each type the instrument takes
   (index t in hp_module_types), its main output into a vca m_<type> at
   gain 0, so that it runs unheard (an audio output that feeds nothing
   would play, and the levels measured are the oscillators'). */
#define MAX_TYPES 64

/* The instrument refuses what reads the plugin's audio inputs. */
static bool
playable(const HpModuleDesc* const d)
{
  return !d->host_input;
}

/* Creates of each type sent (both workers), so every type is seen. */
static uint32_t zoo_created[MAX_TYPES];
static uint32_t zoo_next; /* the type the next create takes */
static uint32_t zoo_last; /* the type created last */

/* A float as the text protocol writes it: as short as reads back. */
static void
float_text(const float value, char* const buf, const size_t size)
{
  for (int digits = 6; digits <= 9; ++digits) {
    snprintf(buf, size, "%.*g", digits, (double)value);
    if (strtof(buf, NULL) == value) {
      return;
    }
  }
}

/* A patch as the model sees it: sines s0..s2 and an adsr e2 (attack,
   decay and release 0, sustain 1) that s2 may feed; a voice chain, midi
   k -> sine s3 -> adsr e3 (as e2), whole or not at all; the number of
   voices; registry modules z_<type> (each with its m_<type>) and their
   parameters. */
typedef struct {
  bool  osc[N_OSC];
  float freq[N_OSC];
  float gain[N_OSC];
  bool  env;
  float gate;
  bool  link; /* s2 -> e2 */
  bool  poly; /* k, s3, e3 */
  float poly_gain;
  int   voices; /* 0: the default, 1 */
  bool  zoo[MAX_TYPES];
  float zoo_value[MAX_TYPES][HP_MAX_PARAMS];
} Patch;

static int
voices_of(const Patch* const p)
{
  return p->voices ? p->voices : 1;
}

typedef struct {
  Patch staged, committed, base;
  Patch maybe; /* every module that may have played this round */
  /* hp:Revert's: the patches committed before `committed`, newest first,
     as the worker keeps them (src/worker.c). */
  Patch kept[HP_HISTORY - 1u];
  int   n_kept;
  bool  lost; /* the last commit will be taken back (answered so) */
  bool  dirty;
  bool  pending; /* a commit not known to have swapped */
  int   pending_seq;
} Model;

/* The amplitude of s_i in patch p (0 when absent or silenced). */
static float
amplitude(const Patch* const p, const int i)
{
  if (!p->osc[i]) {
    return 0.0f;
  }
  if (i == 2 && p->link && p->env) {
    return p->gate >= 0.5f ? p->gain[i] : 0.0f;
  }
  return p->gain[i];
}

static bool
silent(const Patch* const p)
{
  for (int i = 0; i < N_OSC; ++i) {
    if (amplitude(p, i) > 0.0f) {
      return false;
    }
  }
  return true;
}

/* The patch as sorted text-protocol lines (patch:Get's form): each
   registry module adds up to 4 + HP_MAX_PARAMS. */
#define MAX_LINES 512
#define LINE_LEN 96

/* The patch as sorted text-protocol lines (patch:Get's form). */
static void add_line(char (*lines)[LINE_LEN],
                     size_t* const     n,
                     const char* const fmt,
                     ...) __attribute__((format(printf, 3, 4)));

static void
add_line(char (*lines)[LINE_LEN], size_t* const n, const char* const fmt, ...)
{
  CHECK(*n < MAX_LINES);
  va_list args;
  va_start(args, fmt);
  vsnprintf(lines[(*n)++], LINE_LEN, fmt, args);
  va_end(args);
}

static int
compare_lines(const void* a, const void* b)
{
  return strcmp((const char*)a, (const char*)b);
}

static size_t
model_lines(const Patch* const p, char (*lines)[LINE_LEN])
{
  size_t n = 0;
  add_line(lines, &n, "/patch/clear");
  for (int i = 0; i < N_OSC; ++i) {
    if (p->osc[i]) {
      add_line(lines, &n, "/patch/create s%d sine", i);
      if (p->freq[i] != 440.0f) {
        add_line(lines, &n, "/patch/set s%d freq %g", i, (double)p->freq[i]);
      }
      if (p->gain[i] != 0.5f) {
        add_line(lines, &n, "/patch/set s%d gain %g", i, (double)p->gain[i]);
      }
    }
  }
  if (p->env) {
    add_line(lines, &n, "/patch/create e2 adsr");
    add_line(lines, &n, "/patch/set e2 attack 0");
    add_line(lines, &n, "/patch/set e2 decay 0");
    add_line(lines, &n, "/patch/set e2 sustain 1");
    add_line(lines, &n, "/patch/set e2 release 0");
    if (p->gate >= 0.5f) {
      add_line(lines, &n, "/patch/set e2 gate 1");
    }
  }
  if (p->link && p->env && p->osc[2]) {
    add_line(lines, &n, "/patch/connect s2:out e2:in");
  }
  if (p->poly) {
    add_line(lines, &n, "/patch/create k midi");
    add_line(lines, &n, "/patch/create s3 sine");
    add_line(lines, &n, "/patch/set s3 gain %g", (double)p->poly_gain);
    add_line(lines, &n, "/patch/create e3 adsr");
    add_line(lines, &n, "/patch/set e3 attack 0");
    add_line(lines, &n, "/patch/set e3 decay 0");
    add_line(lines, &n, "/patch/set e3 sustain 1");
    add_line(lines, &n, "/patch/set e3 release 0");
    add_line(lines, &n, "/patch/connect k:freq s3:freq");
    add_line(lines, &n, "/patch/connect k:gate e3:gate");
    add_line(lines, &n, "/patch/connect s3:out e3:in");
  }
  if (voices_of(p) != 1) {
    add_line(lines, &n, "/patch/voices %d", voices_of(p));
  }
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    const HpModuleDesc* const d = hp_module_types[t];
    if (!p->zoo[t]) {
      continue;
    }
    add_line(lines, &n, "/patch/create z_%s %s", d->type, d->type);
    for (uint32_t i = 0; i < d->n_params; ++i) {
      const HpParamDesc* const pd = &d->params[i];
      const float              v  = p->zoo_value[t][i];
      char                     text[32];
      if (v == pd->def) {
        continue;
      }
      if (pd->kind == HP_PARAM_ENUM) {
        snprintf(text, sizeof(text), "%s", pd->choices[(int)v]);
      } else {
        float_text(v, text, sizeof(text));
      }
      add_line(lines, &n, "/patch/set z_%s %s %s", d->type, pd->name, text);
    }
    add_line(lines, &n, "/patch/create m_%s vca", d->type);
    add_line(lines, &n, "/patch/set m_%s gain 0", d->type);
    add_line(lines,
             &n,
             "/patch/connect z_%s:%s m_%s:in",
             d->type,
             d->outputs[0].name,
             d->type);
  }
  qsort(lines, n, LINE_LEN, compare_lines);
  return n;
}

/* patch:Get's text as sorted lines. */
static size_t
text_lines(const char* text, char (*lines)[LINE_LEN])
{
  size_t n = 0;
  while (text && *text) {
    const char*  end = strchr(text, '\n');
    const size_t len = end ? (size_t)(end - text) : strlen(text);
    if (len) {
      add_line(lines, &n, "%.*s", (int)len, text);
    }
    text = end ? end + 1 : NULL;
  }
  qsort(lines, n, LINE_LEN, compare_lines);
  return n;
}

/* The saved document's ops (hp:Create, hp:Set, hp:Connect, hp:Voices)
   as the same lines. */
static size_t
state_lines(const char* const state, char (*lines)[LINE_LEN])
{
  size_t n = 0;
  add_line(lines, &n, "/patch/clear");
  for (const char* at = strstr(state, "[ a hp:"); at;
       at             = strstr(at + 1, "[ a hp:")) {
    char a[LINE_LEN], b[LINE_LEN], c[LINE_LEN];
    if (sscanf(at,
               "[ a hp:Create ; hp:module \"%63[^\"]\" ; hp:type \"%63[^\"]",
               a,
               b) == 2) {
      add_line(lines, &n, "/patch/create %s %s", a, b);
    } else if (sscanf(at,
                      "[ a hp:Set ; hp:module \"%63[^\"]\" ; hp:param "
                      "\"%63[^\"]\" ; hp:value %63[^ ]",
                      a,
                      b,
                      c) == 3) {
      const size_t len = strlen(c);
      if (len > 2 && !strcmp(c + len - 2, ".0")) {
        c[len - 2] = '\0'; /* Turtle's 440.0 is the text form's 440 */
      }
      const bool choice = len > 2 && c[0] == '"' && c[len - 1] == '"';
      if (choice) {
        c[len - 1] = '\0'; /* "highpass", a choice by name */
      }
      add_line(lines, &n, "/patch/set %s %s %s", a, b, c + choice);
    } else if (sscanf(at,
                      "[ a hp:Connect ; hp:source \"%63[^\"]\" ; hp:dest "
                      "\"%63[^\"]",
                      a,
                      b) == 2) {
      add_line(lines, &n, "/patch/connect %s %s", a, b);
    } else if (sscanf(at, "[ a hp:Voices ; hp:count %63[0-9]", a) == 1) {
      add_line(lines, &n, "/patch/voices %s", a);
    }
  }
  qsort(lines, n, LINE_LEN, compare_lines);
  return n;
}

static bool
same_lines(char (*a)[LINE_LEN],
           const size_t na,
           char (*b)[LINE_LEN],
           const size_t nb)
{
  if (na != nb) {
    return false;
  }
  for (size_t i = 0; i < na; ++i) {
    if (strcmp(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

static void
print_lines(const char* const what, char (*lines)[LINE_LEN], const size_t n)
{
  fprintf(stderr, "  %s:", what);
  for (size_t i = 0; i < n; ++i) {
    fprintf(stderr, " [%s]", lines[i]);
  }
  fputc('\n', stderr);
}

/* One message of a round, with what the model predicts for its answer. */
typedef enum {
  OP_SET,
  OP_GATE,
  OP_CREATE,
  OP_CREATE_ENV,
  OP_CREATE_POLY,
  OP_DELETE,
  OP_CLEAR,
  OP_VOICES,
  OP_COMMIT,
  OP_REVERT,
  OP_ABORT
} OpKind;

typedef struct {
  OpKind kind;
  int    seq;
  int    module; /* 0..2: s0..s2; OP_SET 3: s3; OP_DELETE 3: e2, 4: k */
  int    param;  /* OP_SET: 0 freq, 1 gain; of z_<type>: its index */
  float  value;
  int    voices; /* OP_VOICES */
  int    steps;  /* OP_REVERT */
  bool   require_signal;
  bool   zoo;  /* OP_CREATE, OP_SET, OP_DELETE: of z_<type> */
  int    type; /* ... hp_module_types[type] */
  bool   bad;  /* OP_SET of z_<type>: a value it must refuse */
} Op;

#define MAX_ROUND_OPS 256

/* Apply a live set to every patch of the model that has the module; true
   when one has. */
static bool
model_set(Model* const m, const Op* const op, bool* const only_playing)
{
  Patch* const patches[] = {&m->staged, &m->committed, &m->base};
  bool         known[3]  = {false, false, false};
  for (int k = 0; k < 3; ++k) {
    Patch* p = patches[k];
    if (op->zoo) {
      if ((known[k] = p->zoo[op->type])) {
        p->zoo_value[op->type][op->param] = op->value;
      }
    } else if (op->kind == OP_GATE) {
      if ((known[k] = p->env)) {
        p->gate = op->value;
      }
    } else if (op->module == N_OSC) {
      if ((known[k] = p->poly)) {
        p->poly_gain = op->value;
      }
    } else if ((known[k] = p->osc[op->module])) {
      (op->param ? p->gain : p->freq)[op->module] = op->value;
    }
  }
  /* Only in what played: whether the worker still counts it as playing
     depends on when the swap came. */
  *only_playing =
    !known[0] && !known[1] &&
    (known[2] || (op->zoo               ? m->maybe.zoo[op->type]
                  : op->kind == OP_GATE ? m->maybe.env
                  : op->module == N_OSC ? m->maybe.poly
                                        : m->maybe.osc[op->module]));
  return known[0] || known[1];
}

/* The worker takes back an unswapped standby when the next commit or
   revert builds, or at an abort: its patch leaves the history it joined,
   and the playing one is the committed one again. */
static void
model_take_back(Model* const m)
{
  if (m->lost) {
    memmove(&m->kept[0], &m->kept[1], (size_t)--m->n_kept * sizeof(Patch));
    m->committed = m->base;
    m->pending   = false;
    m->lost      = false;
  }
}

/* A commit or revert that builds: answered with an Ack at its swap, or an
   error if a later message took it back; it keeps the patch it replaces
   for hp:Revert. */
static void
model_commit(Model* const             m,
             const Op* const          op,
             const HpHostEvent* const r,
             const HpWorkerMode       mode,
             const int                round)
{
  const bool ack = r && r->kind == HP_EV_ACK;
  EXPECT(ack || (r && r->kind == HP_EV_ERROR && r->message &&
                 (strstr(r->message, "superseded") ||
                  strstr(r->message, "aborted"))),
         "%s round %d: seq %d, a %s that builds: %s",
         fx_mode_name(mode),
         round,
         op->seq,
         op->kind == OP_REVERT ? "revert" : "commit",
         reply_text(r));
  for (int i = 0; i < N_OSC; ++i) {
    m->maybe.osc[i] |= m->staged.osc[i];
  }
  m->maybe.env |= m->staged.env;
  m->maybe.poly |= m->staged.poly;
  for (int t = 0; t < MAX_TYPES; ++t) {
    m->maybe.zoo[t] |= m->staged.zoo[t];
  }
  model_take_back(m);
  if (!m->pending) {
    m->base = m->committed; /* what played until now */
  }
  const int n = m->n_kept < (int)HP_HISTORY - 1 ? m->n_kept : m->n_kept - 1;
  memmove(&m->kept[1], &m->kept[0], (size_t)n * sizeof(Patch));
  m->kept[0]     = m->committed;
  m->n_kept      = n + 1;
  m->committed   = m->staged;
  m->dirty       = false;
  m->pending     = !ack;
  m->pending_seq = op->seq;
  m->lost        = !ack;
  if (ack) {
    m->base = m->committed;
  }
}

/* Check one answer against the model and advance the model. */
static void
model_apply(Model* const             m,
            const Op* const          op,
            const HpHostEvent* const r,
            const HpWorkerMode       mode,
            const int                round)
{
  const bool ack = r && r->kind == HP_EV_ACK;
  const bool err = r && r->kind == HP_EV_ERROR;
  switch (op->kind) {
  case OP_SET:
  case OP_GATE: {
    const bool in_range =
      op->zoo
        ? !op->bad
        : op->kind == OP_GATE || op->value <= (op->param ? 1.0f : 20000.0f);
    bool       only_playing = false;
    Model      before       = *m;
    const bool known        = model_set(m, op, &only_playing);
    if (!in_range) {
      *m = before;
      EXPECT(err,
             "%s round %d: seq %d, a set out of range: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             reply_text(r));
    } else if (known) {
      EXPECT(ack,
             "%s round %d: seq %d, set of a module the patch has: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             reply_text(r));
    } else if (!only_playing) {
      EXPECT(err,
             "%s round %d: seq %d, set of a missing module: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             reply_text(r));
    }
    break;
  }
  case OP_CREATE:
  case OP_CREATE_ENV: {
    const bool exists = op->zoo                 ? m->staged.zoo[op->type]
                        : op->kind == OP_CREATE ? m->staged.osc[op->module]
                                                : m->staged.env;
    EXPECT(exists ? err : ack,
           "%s round %d: seq %d, create %s: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           exists ? "duplicate" : "new",
           reply_text(r));
    if (op->zoo) {
      /* New: at its defaults (its m_<type> follows); a duplicate changes
         nothing. */
      const HpModuleDesc* const d = hp_module_types[op->type];
      for (uint32_t i = 0; i < d->n_params && !exists; ++i) {
        m->staged.zoo_value[op->type][i] = d->params[i].def;
      }
      m->staged.zoo[op->type] = true;
      m->dirty |= !exists;
    } else if (!exists && op->kind == OP_CREATE) {
      m->staged.osc[op->module]  = true;
      m->staged.freq[op->module] = 440.0f;
      m->staged.gain[op->module] = 0.5f;
      m->dirty                   = true;
    } else if (op->kind == OP_CREATE_ENV) {
      /* Its settings follow (the same every time), then s2 -> e2, which
         links them when s2 is staged and they are not linked yet. */
      const bool links = m->staged.osc[2] && !(exists && m->staged.link);
      m->staged.gate   = exists ? m->staged.gate : 0.0f;
      m->staged.env    = true;
      m->staged.link |= links;
      m->dirty |= !exists || links;
    }
    break;
  }
  case OP_CREATE_POLY: {
    const bool exists = m->staged.poly;
    EXPECT(exists ? err : ack,
           "%s round %d: seq %d, create k %s: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           exists ? "duplicate" : "new",
           reply_text(r));
    if (!exists) { /* s3 comes at its default gain; a set follows */
      m->staged.poly      = true;
      m->staged.poly_gain = 0.5f;
      m->dirty            = true;
    }
    break;
  }
  case OP_VOICES: {
    const bool in_range = op->voices >= 1 && op->voices <= 32;
    EXPECT(in_range ? ack : err && r->message && strstr(r->message, "1 to 32"),
           "%s round %d: seq %d, voices %d: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           op->voices,
           reply_text(r));
    if (in_range) {
      m->staged.voices = op->voices;
      m->dirty         = true;
    }
    break;
  }
  case OP_DELETE: {
    const bool exists = op->zoo               ? m->staged.zoo[op->type]
                        : op->module < N_OSC  ? m->staged.osc[op->module]
                        : op->module == N_OSC ? m->staged.env
                                              : m->staged.poly;
    EXPECT(exists ? ack : err,
           "%s round %d: seq %d, delete: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           reply_text(r));
    if (exists && op->zoo) {
      m->staged.zoo[op->type] = false; /* and its m_<type> */
      m->dirty                = true;
    } else if (exists) {
      if (op->module < N_OSC) {
        m->staged.osc[op->module] = false;
      } else if (op->module == N_OSC) {
        m->staged.env = false;
      } else {
        m->staged.poly = false; /* k, then s3 and e3 */
      }
      m->staged.link &= !(op->module == 2 || op->module == 3);
      m->dirty = true;
    }
    break;
  }
  case OP_CLEAR:
    EXPECT(ack,
           "%s round %d: seq %d, clear: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           reply_text(r));
    memset(&m->staged, 0, sizeof(m->staged));
    m->dirty = true;
    break;
  case OP_COMMIT:
    if (!m->dirty) {
      EXPECT(err && r->message && strstr(r->message, "nothing staged"),
             "%s round %d: seq %d, commit with nothing staged: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             reply_text(r));
    } else if (op->require_signal && silent(&m->staged)) {
      EXPECT(err && r->message && strstr(r->message, "warm-up was silent"),
             "%s round %d: seq %d, silent commit with require_signal: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             reply_text(r));
    } else {
      model_commit(m, op, r, mode, round);
    }
    break;
  case OP_REVERT:
    if (op->steps > m->n_kept) {
      EXPECT(err && r->message && strstr(r->message, "earlier patch"),
             "%s round %d: seq %d, revert %d with %d kept: %s",
             fx_mode_name(mode),
             round,
             op->seq,
             op->steps,
             m->n_kept,
             reply_text(r));
    } else {
      m->staged = m->kept[op->steps - 1];
      model_commit(m, op, r, mode, round);
    }
    break;
  case OP_ABORT:
    EXPECT(ack,
           "%s round %d: seq %d, abort: %s",
           fx_mode_name(mode),
           round,
           op->seq,
           reply_text(r));
    model_take_back(m);
    m->staged = m->committed;
    m->dirty  = false;
    break;
  }
}

static void
set_line(char* const line, const size_t size, const Op* const op)
{
  static const char* const params[] = {"freq", "gain"};
  if (op->zoo) {
    const HpParamDesc* const pd = &hp_module_types[op->type]->params[op->param];
    char                     text[32];
    if (pd->kind == HP_PARAM_ENUM) {
      snprintf(text,
               sizeof(text),
               "%s",
               op->bad ? "nosuch" : pd->choices[(int)op->value]);
    } else {
      snprintf(text, sizeof(text), "%.9g", (double)op->value);
    }
    snprintf(line,
             size,
             "/patch/set z_%s %s %s",
             hp_module_types[op->type]->type,
             pd->name,
             text);
  } else if (op->kind == OP_GATE) {
    snprintf(line, size, "/patch/gate e2 %g", (double)op->value);
  } else if (op->module == N_OSC) {
    snprintf(line, size, "/patch/set s3 gain %g", (double)op->value);
  } else {
    snprintf(line,
             size,
             "/patch/set s%d %s %g",
             op->module,
             params[op->param],
             (double)op->value);
  }
}

/* A type the instrument takes: the one created last or any, at even
   odds. */
static int
zoo_type(HpHost* const host)
{
  uint32_t n = 0;
  while (hp_module_types[n]) {
    ++n;
  }
  uint32_t t = zoo_last;
  if (!hp_host_random(host, 0, 1)) {
    do {
      t = hp_host_random(host, 0, n - 1u);
    } while (!playable(hp_module_types[t]));
  }
  return (int)t;
}

/* A message about a registry module (dice 100..129): a create (of each
   type in turn), a set of one of its parameters to an end of its range,
   its default, the middle or a choice (1 in 15 to a value it refuses), or
   a delete. */
static void
zoo_op(HpHost* const  host,
       Op* const      op,
       char* const    line,
       const size_t   size,
       const uint32_t dice)
{
  op->zoo = true;
  if (dice < 110) {
    while (!playable(hp_module_types[zoo_next])) {
      zoo_next = hp_module_types[zoo_next + 1u] ? zoo_next + 1u : 0u;
    }
    op->type = (int)zoo_next;
    zoo_next = hp_module_types[zoo_next + 1u] ? zoo_next + 1u : 0u;
  } else {
    op->type = zoo_type(host);
  }
  const HpModuleDesc* const d = hp_module_types[op->type];
  if (dice < 110 || (dice < 125 && !d->n_params)) {
    op->kind = OP_CREATE;
    zoo_last = (uint32_t)op->type;
    ++zoo_created[op->type];
    snprintf(line, size, "/patch/create z_%s %s", d->type, d->type);
  } else if (dice < 125) {
    op->kind  = OP_SET;
    op->param = (int)hp_host_random(host, 0, d->n_params - 1u);
    const HpParamDesc* const pd   = &d->params[op->param];
    const uint32_t           pick = hp_host_random(host, 0, 3);
    op->value                     = pick == 0   ? pd->min
                                    : pick == 1 ? pd->max
                                    : pick == 2 ? pd->def
                                                : 0.5f * (pd->min + pd->max);
    if (pd->kind == HP_PARAM_ENUM) {
      uint32_t n = 0;
      while (pd->choices[n]) {
        ++n;
      }
      op->value = (float)hp_host_random(host, 0, n - 1u);
    } else if (pd->kind != HP_PARAM_CONTINUOUS) {
      op->value = roundf(op->value);
    }
    if (dice == 124) {
      op->bad   = true;
      op->value = pd->max + (pd->max - pd->min) + 1.0f;
    }
    set_line(line, size, op);
  } else {
    op->kind = OP_DELETE;
    snprintf(line, size, "/patch/delete z_%s", d->type);
  }
}

/* Send one random message (or several: a new e2 comes with its settings
   and connection), recording what was sent. */
static void
random_op(HpHost* const host, Op* const ops, int* const n_ops, int* const seq)
{
  const uint32_t dice = hp_host_random(host, 0, 129);
  Op             op;
  memset(&op, 0, sizeof(op));
  op.seq    = (*seq)++;
  op.module = (int)hp_host_random(host, 0, N_OSC - 1);
  char line[96];
  if (dice >= 100) {
    zoo_op(host, &op, line, sizeof(line), dice);
  } else if (dice < 30) {
    op.kind  = OP_SET;
    op.param = (int)hp_host_random(host, 0, 1);
    op.value = op.param ? gains[hp_host_random(host, 0, 3)]
                        : osc_freqs[op.module][hp_host_random(host, 0, 2)];
    if (dice < 2) {
      op.value = 30000.0f; /* out of range: refused, never heard */
    }
    set_line(line, sizeof(line), &op);
  } else if (dice < 35) {
    op.kind   = OP_SET; /* the voice chain's sine: every voice */
    op.module = N_OSC;
    op.param  = 1;
    op.value  = poly_gains[hp_host_random(host, 0, 2)];
    set_line(line, sizeof(line), &op);
  } else if (dice < 41) {
    op.kind  = OP_GATE;
    op.value = (float)hp_host_random(host, 0, 1);
    set_line(line, sizeof(line), &op);
  } else if (dice < 50) {
    op.kind = OP_CREATE;
    snprintf(line, sizeof(line), "/patch/create s%d sine", op.module);
  } else if (dice < 54) {
    op.kind = OP_CREATE_ENV; /* then its settings and s2 -> e2, unnumbered */
    snprintf(line, sizeof(line), "/patch/create e2 adsr");
  } else if (dice < 60) {
    op.kind = OP_CREATE_POLY; /* then s3, e3, settings, links, unnumbered */
    snprintf(line, sizeof(line), "/patch/create k midi");
  } else if (dice < 68) {
    op.kind   = OP_DELETE;
    op.module = (int)hp_host_random(host, 0, N_OSC + 1);
    if (op.module < N_OSC) {
      snprintf(line, sizeof(line), "/patch/delete s%d", op.module);
    } else if (op.module == N_OSC) {
      snprintf(line, sizeof(line), "/patch/delete e2");
    } else {
      snprintf(line, sizeof(line), "/patch/delete k"); /* s3, e3 follow */
    }
  } else if (dice < 71) {
    op.kind = OP_CLEAR;
    snprintf(line, sizeof(line), "/patch/clear");
  } else if (dice < 77) {
    static const int counts[] = {1, 2, 3, 8, 32, 0, 33};
    op.kind                   = OP_VOICES;
    /* 1 in 8 out of range: refused, nothing changes. */
    const uint32_t pick = hp_host_random(host, 0, 39);
    op.voices           = counts[pick < 35 ? pick % 5 : 5 + pick % 2];
    snprintf(line, sizeof(line), "/patch/voices %d", op.voices);
  } else if (dice < 89) {
    static const char* const how[] = {"", " crossfade=0", " tail"};
    op.kind                        = OP_COMMIT;
    op.require_signal              = hp_host_random(host, 0, 2) == 0;
    snprintf(line,
             sizeof(line),
             "/patch/commit%s%s",
             op.require_signal ? " require_signal=1" : "",
             how[hp_host_random(host, 0, 2)]);
  } else if (dice < 93) {
    op.kind = OP_ABORT;
    snprintf(line, sizeof(line), "/patch/abort");
  } else if (dice < 96) {
    static const char* const how[] = {"", " crossfade=0", " tail"};
    op.kind                        = OP_REVERT;
    op.steps                       = (int)hp_host_random(host, 1, 3);
    snprintf(line,
             sizeof(line),
             "/patch/revert %d%s",
             op.steps,
             how[hp_host_random(host, 0, 2)]);
  } else {
    /* Automation: 70 sets of one parameter in a row, more than a ring of
       the latest 64 would hold. */
    op.kind  = OP_SET;
    op.param = (int)hp_host_random(host, 0, 1);
    for (int i = 0; i < 70 && *n_ops + 2 < MAX_ROUND_OPS; ++i) {
      op.value = op.param ? gains[hp_host_random(host, 0, 3)]
                          : osc_freqs[op.module][hp_host_random(host, 0, 2)];
      set_line(line, sizeof(line), &op);
      ops[(*n_ops)++] = op;
      fx_send(host, op.seq, line);
      op.seq = (*seq)++;
    }
    --(*seq);
    return;
  }
  CHECK(*n_ops + 1 < MAX_ROUND_OPS);
  ops[(*n_ops)++] = op;
  fx_send(host, op.seq, line);
  if (op.zoo) {
    /* Its vca at gain 0 comes and goes with it (refused as duplicates
       when it is there). */
    const char* const type = hp_module_types[op.type]->type;
    if (op.kind == OP_CREATE) {
      fx_sendf(host, -1, "/patch/create m_%s vca", type);
      fx_sendf(host, -1, "/patch/set m_%s gain 0", type);
      fx_sendf(host, -1, "/patch/connect z_%s m_%s", type, type);
    } else if (op.kind == OP_DELETE) {
      fx_sendf(host, -1, "/patch/delete m_%s", type);
    }
    return;
  }
  if (op.kind == OP_CREATE) {
    /* Off the default 440 Hz, which the others would share: each
       oscillator keeps to frequencies of its own. */
    Op set    = op;
    set.kind  = OP_SET;
    set.seq   = (*seq)++;
    set.param = 0;
    set.value = osc_freqs[op.module][0];
    set_line(line, sizeof(line), &set);
    ops[(*n_ops)++] = set;
    fx_send(host, set.seq, line);
  }
  if (op.kind == OP_CREATE_ENV) {
    fx_send(host, -1, "/patch/set e2 attack 0");
    fx_send(host, -1, "/patch/set e2 decay 0");
    fx_send(host, -1, "/patch/set e2 sustain 1");
    fx_send(host, -1, "/patch/set e2 release 0");
    fx_send(host, -1, "/patch/connect s2 e2");
  }
  if (op.kind == OP_CREATE_POLY) {
    /* Refused as duplicates when the chain is there: it stays whole.  The
       gain is a set the model follows (a live one when s3 plays). */
    fx_send(host, -1, "/patch/create s3 sine");
    Op set          = op;
    set.kind        = OP_SET;
    set.seq         = (*seq)++;
    set.module      = N_OSC;
    set.param       = 1;
    set.value       = poly_gains[1];
    ops[(*n_ops)++] = set;
    set_line(line, sizeof(line), &set);
    fx_send(host, set.seq, line);
    static const char* const chain[] = {"/patch/create e3 adsr",
                                        "/patch/set e3 attack 0",
                                        "/patch/set e3 decay 0",
                                        "/patch/set e3 sustain 1",
                                        "/patch/set e3 release 0",
                                        "/patch/connect k s3:freq",
                                        "/patch/connect k:gate e3:gate",
                                        "/patch/connect s3 e3"};
    for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); ++i) {
      fx_send(host, -1, chain[i]);
    }
  }
  if (op.kind == OP_DELETE && op.module == N_OSC + 1) {
    fx_send(host, -1, "/patch/delete s3");
    fx_send(host, -1, "/patch/delete e3");
  }
}

static void
test_property(const HpWorkerMode mode, const uint64_t seed, const int rounds)
{
  HpHost* const host = fx_host(mode, seed);
  int           seq  = 1;
  Model         m;
  memset(&m, 0, sizeof(m));
  fx_send(host, seq, "/patch/clear");
  fx_send(host, seq + 1, "/patch/commit");
  settle(host, seq, seq + 1);
  seq += 2;
  /* Every patch hp:Revert may go back to, known to the model: 16 commits
     of 2 voices and 1 in turn, the last of 1. */
  for (int k = 1; k <= 16; ++k) {
    const HpHostEvent ack    = {.kind = HP_EV_ACK};
    const Op          commit = {.kind = OP_COMMIT, .seq = seq};
    m.staged.voices          = k % 2 ? 2 : 1;
    fx_sendf(host, -1, "/patch/voices %d", m.staged.voices);
    fx_send(host, seq, "/patch/commit");
    settle(host, seq, seq);
    fx_acked(host, seq++, "a commit of the voice count");
    model_commit(&m, &commit, &ack, mode, 0);
  }

  int       checks     = 0;
  int       chords     = 0;
  int       stolen     = 0; /* chords on fewer voices than notes */
  int       zoo        = 0; /* registry modules committed, summed over rounds */
  int       most       = 0; /* ... the most in one round */
  int       reverts[2] = {0, 0}; /* not swapped in, swapped in */
  const int before     = EXPECT_FAILURES();
  for (int round = 1; round <= rounds && EXPECT_FAILURES() == before; ++round) {
    hp_host_clear_events(host);
    Op        ops[MAX_ROUND_OPS];
    int       n_ops     = 0;
    const int first_seq = seq;
    const int length    = (int)hp_host_random(host, 5, 40);
    while (n_ops < length && n_ops + 72 < MAX_ROUND_OPS) {
      if (hp_host_random(host, 0, 3) == 0) {
        CHECK(!hp_host_run(host, hp_host_random(host, 1, 1024)));
        if (hp_host_random(host, 0, 3) == 0) {
          CHECK(!hp_host_wait_worker(host, 5000));
        }
        continue;
      }
      random_op(host, ops, &n_ops, &seq);
    }
    settle(host, first_seq, seq - 1);

    /* Replay the round through the model with the answers it got. */
    m.maybe = m.committed;
    for (int i = 0; i < n_ops; ++i) {
      const HpHostEvent* const r = hp_host_find_reply(host, ops[i].seq);
      if (ops[i].kind == OP_REVERT) {
        reverts[r && r->kind == HP_EV_ACK]++;
      }
      model_apply(&m, &ops[i], r, mode, round);
    }
    if (m.pending) {
      const HpHostEvent* r = hp_host_find_reply(host, m.pending_seq);
      EXPECT(r && r->kind == HP_EV_ACK,
             "%s round %d: the last good commit %d: %s",
             fx_mode_name(mode),
             round,
             m.pending_seq,
             reply_text(r));
      m.pending = false;
      m.lost    = false;
    }
    m.base = m.committed;

    /* What plays: every oscillator at its frequency and level, nothing
       else (the RMS of the sum), and the pitch when one sounds.  With the
       voice chain, a chord of 3 held: the last as many as there are
       voices sound (one voice: the last note). */
    const bool poly = m.committed.poly;
    if (poly) {
      const uint64_t now = hp_host_frames(host);
      for (int i = 0; i < N_CHORD; ++i) {
        CHECK(!hp_host_note_on(
          host, now + 48u * (uint64_t)i, (uint8_t)chord[i], 100));
      }
      CHECK(!hp_host_render(
        host, 480, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
    }
    CHECK(!hp_host_render(
      host, 9600, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 2048}));
    const float* x       = hp_host_out_l(host) + hp_host_recorded(host) - 9600;
    double       want_sq = 0.0;
    int          voices  = 0;
    int          voice   = -1;
    const int    notes   = voices_of(&m.committed);
    for (int i = 0; i < N_CHORD && poly; ++i) {
      const bool   sounds = i >= N_CHORD - notes;
      const float  a      = m.committed.poly_gain;
      const double f      = 440.0 * pow(2.0, (chord[i] - 69) / 12.0);
      const double db     = hp_sig_goertzel_db(x, 9600, RATE, f);
      want_sq += sounds ? 0.5 * (double)a * (double)a : 0.0;
      voices += sounds;
      EXPECT(sounds ? fabs(db - 20.0 * log10(a)) < 0.5
             : db<-60.0,
                  "%s round %d: %d voice%s, chord note %d at %.2f dB, want %s",
                  fx_mode_name(mode),
                  round,
                  notes,
                  notes> 1
               ? "s"
               : "",
             chord[i],
             db,
             sounds ? "it heard" : "it stolen");
    }
    for (int i = 0; i < N_OSC; ++i) {
      const float a = amplitude(&m.committed, i);
      want_sq += 0.5 * (double)a * (double)a;
      voice = a > 0.0f ? i : voice;
      voices += a > 0.0f;
      if (m.committed.osc[i]) {
        const double db =
          hp_sig_goertzel_db(x, 9600, RATE, m.committed.freq[i]);
        EXPECT(a > 0.0f ? fabs(db - 20.0 * log10(a)) < 0.5 : db < -60.0,
               "%s round %d: s%d at %g Hz: %.2f dB, want amplitude %g",
               fx_mode_name(mode),
               round,
               i,
               (double)m.committed.freq[i],
               db,
               (double)a);
      }
    }
    const double rms = hp_sig_rms(x, 9600);
    EXPECT(fabs(rms - sqrt(want_sq)) < 0.01 * sqrt(want_sq) + 1e-4,
           "%s round %d: RMS %.4f, want %.4f",
           fx_mode_name(mode),
           round,
           rms,
           sqrt(want_sq));
    if (poly) {
      for (int i = 0; i < N_CHORD; ++i) {
        CHECK(!hp_host_note_off(host, hp_host_frames(host), (uint8_t)chord[i]));
      }
      CHECK(!hp_host_render(
        host, 480, (HpBlockPolicy){HP_BLOCK_FIXED, BLOCK, 0, 0}));
      ++chords;
      stolen += notes < N_CHORD;
    }
    if (voices == 1 && voice >= 0) {
      const double f = hp_sig_freq(x, 9600, RATE);
      EXPECT(fabs(f - (double)m.committed.freq[voice]) < 0.2,
             "%s round %d: pitch %.3f, want %g",
             fx_mode_name(mode),
             round,
             f,
             (double)m.committed.freq[voice]);
    }

    /* What is reported and saved. */
    static char  want[MAX_LINES][LINE_LEN], got[MAX_LINES][LINE_LEN];
    const size_t n_want = model_lines(&m.committed, want);
    char* const  text   = patch_text(host, seq++);
    const size_t n_got  = text_lines(text, got);
    const bool   same   = same_lines(want, n_want, got, n_got);
    EXPECT(same,
           "%s round %d: patch:Get differs from the model",
           fx_mode_name(mode),
           round);
    if (!same) {
      print_lines("model", want, n_want);
      print_lines("patch:Get", got, n_got);
    }
    char* const  state   = saved_state(host);
    const size_t n_saved = state_lines(state, got);
    const bool   saved   = same_lines(want, n_want, got, n_saved);
    EXPECT(saved,
           "%s round %d: the saved state differs from the model",
           fx_mode_name(mode),
           round);
    if (!saved) {
      print_lines("model", want, n_want);
      print_lines("state", got, n_saved);
    }
    free(text);
    free(state);
    ++checks;
    int in_round = 0;
    for (int t = 0; t < MAX_TYPES; ++t) {
      in_round += m.committed.zoo[t];
    }
    zoo += in_round;
    most = in_round > most ? in_round : most;
  }
  printf("# %s worker: %d random rounds (seed %llu): answers, pitch, levels, "
         "the notes of a chord on the voices committed (%d rounds, %d on "
         "fewer voices than notes), patch:Get and saved state agree with "
         "the model; %d registry modules committed over the rounds, up to "
         "%d at once; %d reverts swapped in, %d refused or superseded\n",
         fx_mode_name(mode),
         checks,
         (unsigned long long)seed,
         chords,
         stolen,
         zoo,
         most,
         reverts[1],
         reverts[0]);
  hp_host_free(host);
}

int
main(void)
{
  const char*    s      = getenv("HP_AGREE_SEED");
  const char*    r      = getenv("HP_AGREE_ROUNDS");
  const uint64_t seed   = s ? strtoull(s, NULL, 10) : 7u;
  const int      rounds = r ? atoi(r) : 25;
  for (int k = 0; k < 2; ++k) {
    const HpWorkerMode mode = k ? HP_WORKER_SYNC : HP_WORKER_THREADED;
    test_set_after_commit(mode);
    test_many_sets(mode);
    test_set_while_deleting(mode);
    test_property(mode, seed, rounds);
  }
  /* Every type the instrument takes was in the random rounds. */
  printf("# registry modules created (z_<type>, both workers):");
  for (uint32_t t = 0; hp_module_types[t]; ++t) {
    if (playable(hp_module_types[t])) {
      printf(" %s %u", hp_module_types[t]->type, zoo_created[t]);
    }
  }
  printf("\n");
  for (uint32_t t = 0; hp_module_types[t] && rounds >= 25; ++t) {
    CHECK_MSG(!playable(hp_module_types[t]) || zoo_created[t],
              "no %s module was created",
              hp_module_types[t]->type);
  }
  return expect_summary("agreement");
}
