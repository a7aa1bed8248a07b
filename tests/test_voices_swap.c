/*
  Voices through hot swaps, judged by what is heard (DESIGN 3b "Hot swap
  keeps the notes"), through the lilv test host with a threaded worker
  (like jalv) and a synchronous one (like Ardour's export):

  - a held 4-note chord through 1,000 random commits that keep its modules
    (extra modules added, removed and retuned, parameters of kept modules
    changed, the voice count changed, crossfades of 0 to 50 ms, blocks of 1
    to 4096 frames): never a silent 256-frame window, never a NaN, no step
    across a swap larger than 1.5 times the largest the patch makes on its
    own, and every pitch of the chord at its level after every swap;
  - the voice count going 8 -> 2 -> 16 under a held chord: the notes of the
    voices that stay sound on unbroken, the others end within the
    crossfade, and new notes then take free voices;
  - tail commits: held notes ring on in the old patch's timbre (taking
    bend, pedal and note-offs) until their release, new notes play the new
    one, the old patch falls silent with its voices (and its graph leaves
    the engine then), a second tail commit fades the first out, so does a
    commit without crossfade, and no tail outlives 10 s and its fade;
  - a live set just before a commit without crossfade glides on through
    the swap;
  - 32 voices and 1,000 MIDI notes in one block, swaps and tails among
    them: nothing in run() allocates or locks, the output stays finite,
    and all notes off leaves silence.

  The chord test runs 1,000 commits with the threaded worker and a third
  as many with the synchronous one (as test_swap's stress does), a tenth
  of that under valgrind; HP_VSWAP_COMMITS=N sets the threaded count.
*/

#include "engine_internal.h"
#include "fixture.h"
#include "host.h"
#include "rtcheck.h"
#include "signal.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Frames in x ms. */
#define MS(x) ((uint64_t)((double)(x) * (RATE / 1000.0) + 0.5))
#define WINDOW 256u       /* a silent window: 256 frames ... */
#define SILENT_PEAK 1e-4f /* ... none louder than this */
/* The largest step across a swap, against the patch's own largest. */
#define MAX_STEP_RATIO 1.5f

static const HpBlockPolicy random_blocks = {HP_BLOCK_RANDOM, 0, 1, 4096};

static double
note_hz(const unsigned note)
{
  return 440.0 * pow(2.0, ((double)note - 69.0) / 12.0);
}

static double
now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool
under_valgrind(void)
{
  const char* const preload = getenv("LD_PRELOAD");
  return preload && strstr(preload, "vgpreload");
}

/* The recorded left channel from absolute frame `frame`, with `n` frames
   recorded from there. */
static const float*
left_at(HpHost* const host, const uint64_t frame, const size_t n)
{
  const uint64_t start = hp_host_recorded_start(host);
  CHECK_MSG(frame >= start && frame - start + n <= hp_host_recorded(host),
            "frames %llu + %zu not recorded (%llu + %zu are)",
            (unsigned long long)frame,
            n,
            (unsigned long long)start,
            hp_host_recorded(host));
  return hp_host_out_l(host) + (frame - start);
}

/* Level in dB (0: a full-scale sine) of `hz` over n frames from `frame`. */
static double
level_db(HpHost* const  host,
         const uint64_t frame,
         const size_t   n,
         const double   hz)
{
  return hp_sig_goertzel_db(left_at(host, frame, n), n, RATE, hz);
}

static float
max_step(HpHost* const host, const uint64_t from, const uint64_t to)
{
  return to > from + 1u ? hp_sig_max_step(left_at(host, from, to - from),
                                          (size_t)(to - from))
                        : 0.0f;
}

static void
send_lines(HpHost* const host, const char* const* const lines)
{
  for (const char* const* l = lines; *l; ++l) {
    fx_send(host, -1, *l);
  }
}

/* Send `commit` (a /patch/commit line) numbered `seq` at the current frame
   and run blocks (of `block` frames, 0: random) until it swaps, letting a
   worker thread finish each job as real time would; the swap's frame. */
static uint64_t
commit_swap(HpHost* const     host,
            const int         seq,
            const char* const commit,
            const uint32_t    block)
{
  fx_send(host, seq, commit);
  for (int i = 0; i < 400; ++i) {
    CHECK(!hp_host_run(
      host, block ? block : hp_host_random(host, 1, hp_host_max_block(host))));
    CHECK_MSG(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS),
              "%s",
              hp_host_last_error());
    const HpHostEvent* const err = hp_host_find_event(host, HP_EV_ERROR, seq);
    CHECK_MSG(!err, "%s: %s", commit, err->message ? err->message : "error");
    const HpHostEvent* const sw = hp_host_find_event(host, HP_EV_SWAPPED, seq);
    if (sw) {
      const uint64_t at = sw->frame_abs;
      hp_host_clear_events(host);
      return at;
    }
  }
  CHECK_MSG(false, "%s (seq %d) never swapped", commit, seq);
  return 0;
}

/* Run until absolute frame `frame` (nothing if already past it). */
static void
render_to(HpHost* const host, const uint64_t frame, const HpBlockPolicy p)
{
  if (frame > hp_host_frames(host)) {
    CHECK(!hp_host_render(host, frame - hp_host_frames(host), p));
  }
}

static void
notes_on(HpHost* const  host,
         const uint64_t frame,
         const uint8_t* notes,
         const unsigned n,
         const uint8_t  velocity)
{
  for (unsigned i = 0; i < n; ++i) {
    CHECK(!hp_host_note_on(host, frame, notes[i], velocity));
  }
}

/* ------------------------------------------------------------------------ */
/* A held chord through random commits. */

#define CHORD 4u
static const uint8_t chord[CHORD] = {48, 52, 55, 60}; /* C3 E3 G3 C4 */

enum { EX_SHARED, EX_HARMONIC, EX_SILENT, N_EX_KINDS };

typedef struct {
  char id[16];
  char aux[16]; /* a harmonic's scale (midi:freq times k), else "" */
  int  kind;
} Extra;

#define MAX_EXTRAS 6u

typedef struct {
  HpHost*  host;
  Extra    extras[MAX_EXTRAS];
  uint32_t n_extras;
  unsigned next_id;
  float    gain;    /* osc gain */
  float    sustain; /* env sustain: each chord note plays gain * sustain */
  uint32_t voices;
  bool     filtered; /* env -> sum -> biquad -> out, else env -> out */
  /* audio, scanned once as it is recorded */
  uint64_t scanned; /* absolute frame scanned up to */
  uint64_t quiet_run, longest_quiet, silent_windows, nonfinite;
  double   min_rms;
  float    last; /* the frame before the recording (it is discarded) */
  /* what the edits of a commit were, for messages */
  char edits[512];
} ChordRun;

static void
note_edit(ChordRun* const r, const char* const what)
{
  const size_t len = strlen(r->edits);
  snprintf(
    r->edits + len, sizeof(r->edits) - len, "%s%s", len ? ", " : "", what);
}

/* A module that is no part of the chord, or a harmonic of each voice. */
static void
add_extra(ChordRun* const r, const bool silent)
{
  HpHost* const h = r->host;
  Extra* const  x = &r->extras[r->n_extras++];
  x->kind   = silent ? EX_SILENT : (int)hp_host_random(h, 0, N_EX_KINDS - 1);
  x->aux[0] = '\0';
  snprintf(x->id, sizeof(x->id), "x%u", r->next_id++);
  switch (x->kind) {
  case EX_SHARED: { /* a drone, well above the chord's pitches */
    static const char* const types[] = {"sine", "triangle", "saw"};
    fx_sendf(
      h, -1, "/patch/create %s %s", x->id, types[hp_host_random(h, 0, 2)]);
    fx_sendf(
      h, -1, "/patch/set %s freq %u", x->id, hp_host_random(h, 500, 1500));
    fx_sendf(
      h, -1, "/patch/set %s gain %.3f", x->id, 0.01 * hp_host_random(h, 2, 8));
    fx_sendf(h, -1, "/patch/connect %s out", x->id);
    note_edit(r, "+drone");
    break;
  }
  case EX_HARMONIC: /* k times each voice's pitch, into its envelope */
    snprintf(x->aux, sizeof(x->aux), "k%u", r->next_id - 1u);
    fx_sendf(h, -1, "/patch/create %s scale", x->aux);
    fx_sendf(h, -1, "/patch/set %s gain %u", x->aux, hp_host_random(h, 3, 5));
    fx_sendf(h, -1, "/patch/connect midi:freq %s", x->aux);
    fx_sendf(h, -1, "/patch/create %s sine", x->id);
    fx_sendf(
      h, -1, "/patch/set %s gain %.3f", x->id, 0.01 * hp_host_random(h, 2, 6));
    fx_sendf(h, -1, "/patch/connect %s %s:freq", x->aux, x->id);
    fx_sendf(h, -1, "/patch/connect %s env", x->id);
    note_edit(r, "+harmonic");
    break;
  default: /* heard nowhere */
    fx_sendf(h, -1, "/patch/create %s lfo", x->id);
    fx_sendf(h, -1, "/patch/set %s rate %u", x->id, hp_host_random(h, 1, 9));
    note_edit(r, "+lfo");
    break;
  }
}

static void
remove_extra(ChordRun* const r, const uint32_t i)
{
  Extra* const x = &r->extras[i];
  fx_sendf(r->host, -1, "/patch/delete %s", x->id);
  if (x->aux[0]) {
    fx_sendf(r->host, -1, "/patch/delete %s", x->aux);
  }
  note_edit(r, "-extra");
  r->extras[i] = r->extras[--r->n_extras];
}

/* One to three random edits that keep the chord's modules, at least one of
   them structural (a commit of parameter changes alone is refused: they
   played live already).  Without a crossfade a swap switches at the
   sample: whatever an edit adds to what is heard (warmed up, so already
   under way), takes away, or puts in its path steps there by design, so
   such a commit keeps to changes of the kept modules' parameters (they
   glide on), of the voice count, and of modules not heard. */
static void
random_edits(ChordRun* const r, const bool click_free)
{
  HpHost* const  h          = r->host;
  const uint32_t n          = hp_host_random(h, 1, 3);
  bool           structural = false;
  r->edits[0]               = '\0';
  for (uint32_t e = 0; e < n || !structural; ++e) {
    const uint32_t pick = e < n ? hp_host_random(h, 0, 7) : 0u;
    switch (pick) {
    case 0:
    case 1:
      if (r->n_extras < MAX_EXTRAS) {
        add_extra(r, click_free);
        structural = true;
        break;
      }
      /* fall through */
    case 2:
      for (uint32_t i = 0; i < r->n_extras; ++i) {
        if (!click_free || r->extras[i].kind == EX_SILENT) {
          remove_extra(r, i);
          structural = true;
          break;
        }
      }
      if (!structural && e >= n) { /* all heard, and no room for more */
        r->voices = r->voices == CHORD ? CHORD + 1u : CHORD;
        fx_sendf(h, -1, "/patch/voices %u", r->voices);
        note_edit(r, "voices");
        structural = true;
      }
      break;
    case 3: /* retune an extra */
      if (r->n_extras) {
        const Extra* x = &r->extras[hp_host_random(h, 0, r->n_extras - 1)];
        if (x->kind == EX_SHARED) {
          fx_sendf(h,
                   -1,
                   "/patch/set %s freq %u",
                   x->id,
                   hp_host_random(h, 500, 1500));
        } else if (x->kind == EX_HARMONIC) {
          fx_sendf(
            h, -1, "/patch/set %s gain %u", x->aux, hp_host_random(h, 3, 5));
        } else {
          fx_sendf(
            h, -1, "/patch/set %s rate %u", x->id, hp_host_random(h, 1, 9));
        }
        note_edit(r, "retune");
      }
      break;
    case 4: /* the chord's own modules */
      r->gain = 0.01f * (float)hp_host_random(h, 12, 25);
      fx_sendf(h, -1, "/patch/set osc gain %.2f", (double)r->gain);
      note_edit(r, "osc gain");
      break;
    case 5:
      r->sustain = 0.05f * (float)hp_host_random(h, 12, 20);
      fx_sendf(h, -1, "/patch/set env sustain %.2f", (double)r->sustain);
      note_edit(r, "env sustain");
      break;
    case 6: {
      const uint32_t v = hp_host_random(h, CHORD, 16);
      structural |= v != r->voices;
      r->voices = v;
      fx_sendf(h, -1, "/patch/voices %u", v);
      note_edit(r, "voices");
      break;
    }
    default:
      if (click_free) {
        break;
      }
      if (r->filtered) {
        fx_sendf(h, -1, "/patch/delete mix");
        fx_sendf(h, -1, "/patch/delete filt");
        fx_sendf(h, -1, "/patch/connect env out");
        note_edit(r, "-filter");
      } else {
        fx_sendf(h, -1, "/patch/disconnect env out");
        fx_sendf(h, -1, "/patch/create mix sum");
        fx_sendf(h, -1, "/patch/create filt biquad");
        fx_sendf(
          h, -1, "/patch/set filt cutoff %u", hp_host_random(h, 3000, 9000));
        fx_sendf(h, -1, "/patch/connect env mix");
        fx_sendf(h, -1, "/patch/connect mix filt");
        fx_sendf(h, -1, "/patch/connect filt out");
        note_edit(r, "+filter");
      }
      r->filtered = !r->filtered;
      structural  = true;
      break;
    }
  }
}

/* Silence and NaN in what was recorded since the last scan; the quietest
   256-frame window (hop 256). */
static void
scan_chord_audio(ChordRun* const r)
{
  HpHost* const  h     = r->host;
  const uint64_t start = hp_host_recorded_start(h);
  const uint64_t end   = start + hp_host_recorded(h);
  const float*   l     = hp_host_out_l(h);
  const float*   rr    = hp_host_out_r(h);
  for (uint64_t f = r->scanned; f < end; ++f) {
    const float x = l[f - start];
    if (!isfinite(x) || !isfinite(rr[f - start])) {
      ++r->nonfinite;
    }
    if (fabsf(x) <= SILENT_PEAK) {
      if (++r->quiet_run >= WINDOW) {
        ++r->silent_windows;
      }
      if (r->quiet_run > r->longest_quiet) {
        r->longest_quiet = r->quiet_run;
      }
    } else {
      r->quiet_run = 0;
    }
  }
  for (uint64_t f = (r->scanned + WINDOW - 1u) / WINDOW * WINDOW;
       f + WINDOW <= end;
       f += WINDOW) {
    r->min_rms = fmin(r->min_rms, hp_sig_rms(l + (f - start), WINDOW));
  }
  r->scanned = end;
}

/* max_step() that may begin at the frame before the recording. */
static float
chord_step(ChordRun* const r, const uint64_t from, const uint64_t to)
{
  const uint64_t start = hp_host_recorded_start(r->host);
  if (from + 1u == start && to > start) {
    const float first = fabsf(left_at(r->host, start, 1)[0] - r->last);
    return fmaxf(first, max_step(r->host, start, to));
  }
  return max_step(r->host, from, to);
}

static void
test_chord_commits(const HpWorkerMode mode, const int commits)
{
  const double  t0 = now_seconds();
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 4242});
  static ChordRun r;
  memset(&r, 0, sizeof(r));
  r.host                           = host;
  r.gain                           = 0.2f;
  r.sustain                        = 0.8f;
  r.voices                         = 8;
  r.min_rms                        = HUGE_VAL;
  static const char* const patch[] = {"/patch/clear",
                                      "/patch/voices 8",
                                      "/patch/create midi midi",
                                      "/patch/create osc sine",
                                      "/patch/set osc gain 0.2",
                                      "/patch/create env adsr",
                                      "/patch/set env attack 2",
                                      "/patch/set env decay 20",
                                      "/patch/set env sustain 0.8",
                                      "/patch/set env release 30",
                                      "/patch/connect midi:freq osc:freq",
                                      "/patch/connect midi:gate env:gate",
                                      "/patch/connect osc env",
                                      "/patch/connect env out",
                                      NULL};
  send_lines(host, patch);
  commit_swap(host, 1, "/patch/commit", 256);
  notes_on(host, hp_host_frames(host), chord, CHORD, 100);
  CHECK(!hp_host_render(host, MS(100), random_blocks));
  /* The patch's own largest step since the end of the last crossfade (up
     to the next commit's messages): here, past the chord's attack. */
  float own_prev =
    max_step(host, hp_host_frames(host) - MS(50), hp_host_frames(host));
  r.last = left_at(host, hp_host_frames(host) - 1u, 1)[0];
  hp_host_discard_output(host);
  r.scanned = hp_host_frames(host);

  float    worst            = 0.0f;
  double   worst_dev        = 0.0;
  uint32_t checked          = 0;
  uint32_t zero_fades       = 0;
  char     worst_what[1600] = "";
  for (int c = 0; c < commits; ++c) {
    const bool     no_fade = hp_host_random(host, 0, 5) == 0;
    const uint32_t fade_ms = no_fade ? 0u : hp_host_random(host, 1, 50);
    zero_fades += no_fade;
    random_edits(&r, no_fade);
    const uint64_t sent = hp_host_frames(host);
    char           line[64];
    snprintf(line, sizeof(line), "/patch/commit crossfade=%u", fade_ms);
    const uint64_t swap = commit_swap(host, 100 + c, line, 0);
    /* The crossfade, then 30 ms for the kept modules' changed parameters
       to glide home, then a window for the pitches, then the patch on its
       own for a while. */
    const uint64_t faded  = swap + MS(fade_ms);
    const uint64_t window = faded + MS(30);
    const uint64_t end =
      window + 4096u + hp_host_random(host, 256, 2048) + WINDOW;
    render_to(host, end, random_blocks);
    scan_chord_audio(&r);

    const float before = fmaxf(own_prev, chord_step(&r, sent - 1u, swap));
    const float after  = max_step(host, faded + 8u, end);
    const float across = chord_step(&r, swap - 1u, faded + 2u);
    const float ratio  = across / fmaxf(fmaxf(before, after), 1e-6f);
    own_prev           = after;
    char what[1600];
    snprintf(what,
             sizeof(what),
             "commit %d at frame %llu, crossfade %u ms (%s): step %.4f "
             "across, %.4f before, %.4f after",
             c,
             (unsigned long long)swap,
             fade_ms,
             r.edits,
             (double)across,
             (double)before,
             (double)after);
    if (ratio > worst) {
      worst = ratio;
      memcpy(worst_what, what, sizeof(what));
    }
    ++checked;
    EXPECT(ratio <= MAX_STEP_RATIO, "click: %s", what);

    const double want = 20.0 * log10((double)(r.gain * r.sustain));
    for (uint32_t k = 0; k < CHORD; ++k) {
      const double db = level_db(host, window, 4096, note_hz(chord[k]));
      worst_dev       = fmax(worst_dev, fabs(db - want));
      EXPECT(fabs(db - want) <= 1.5,
             "commit %d (crossfade %u ms; %s): note %u at %.1f dB, "
             "expected %.1f",
             c,
             fade_ms,
             r.edits,
             chord[k],
             db,
             want);
    }
    if (EXPECT_FAILURES() > 20) {
      break;
    }
    /* Memory stays flat: what is recorded from here on is the next swap's
       before (the patch's own part up to `end` is in own_prev). */
    r.last = left_at(host, hp_host_frames(host) - 1u, 1)[0];
    hp_host_discard_output(host);
  }
  EXPECT(r.silent_windows == 0,
         "%llu silent windows (longest quiet run %llu frames)",
         (unsigned long long)r.silent_windows,
         (unsigned long long)r.longest_quiet);
  EXPECT(
    r.nonfinite == 0, "%llu NaN/Inf samples", (unsigned long long)r.nonfinite);
  printf("# held chord, %s worker: %d commits (%u without crossfade), %u "
         "swaps checked over %.1f s of random blocks: worst step ratio at a "
         "swap %.3f (%s); every chord pitch within %.2f dB of its level "
         "after every swap; quietest 256-frame window RMS %.4f, no silent "
         "window, %llu NaN; %.1f s\n",
         fx_mode_name(mode),
         commits,
         zero_fades,
         checked,
         (double)hp_host_frames(host) / RATE,
         (double)worst,
         worst_what,
         worst_dev,
         r.min_rms,
         (unsigned long long)r.nonfinite,
         now_seconds() - t0);
  hp_host_free(host);
}

/* A kept module's parameter set live just before a commit without
   crossfade: the new graph glides on where the old one was, as the old
   one would have (it used to jump to the value at the swap). */
static void
test_glide_through_swap(const HpWorkerMode mode)
{
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 5});
  static const char* const lines[] = {"/patch/clear",
                                      "/patch/create k const",
                                      "/patch/set k value 0.1",
                                      "/patch/connect k out",
                                      NULL};
  send_lines(host, lines);
  commit_swap(host, 1, "/patch/commit", 64);
  CHECK(
    !hp_host_render(host, MS(50), (HpBlockPolicy){HP_BLOCK_FIXED, 64, 0, 0}));
  const uint64_t set = hp_host_frames(host);
  fx_sendf(host, -1, "/patch/set k value 0.5");
  fx_sendf(host, -1, "/patch/create l lfo");
  const uint64_t swap = commit_swap(host, 2, "/patch/commit crossfade=0", 64);
  render_to(host, set + MS(100), (HpBlockPolicy){HP_BLOCK_FIXED, 64, 0, 0});
  const float step = max_step(host, set - 1u, set + MS(100));
  const float end  = left_at(host, set + MS(100) - 1u, 1)[0];
  printf("# a live set, then a commit without crossfade %llu frames later, "
         "%s worker: the set's glide (0.1 -> 0.5) steps %.4f at most, ends "
         "at %.4f\n",
         (unsigned long long)(swap - set),
         fx_mode_name(mode),
         (double)step,
         (double)end);
  EXPECT(step < 0.004f && fabsf(end - 0.5f) < 1e-4f,
         "%s: a glide through a swap steps %.4f (ends at %.4f)",
         fx_mode_name(mode),
         (double)step,
         (double)end);
  hp_host_free(host);
}

/* ------------------------------------------------------------------------ */
/* The voice count changing under a held chord. */

/* A poly patch of sines with `voices` voices (the chord test's, quieter). */
static void
send_sine_patch(HpHost* const host, const unsigned voices)
{
  fx_sendf(host, -1, "/patch/clear");
  fx_sendf(host, -1, "/patch/voices %u", voices);
  static const char* const lines[] = {"/patch/create midi midi",
                                      "/patch/create osc sine",
                                      "/patch/set osc gain 0.1",
                                      "/patch/create env adsr",
                                      "/patch/set env attack 2",
                                      "/patch/set env decay 20",
                                      "/patch/set env sustain 0.8",
                                      "/patch/set env release 60",
                                      "/patch/connect midi:freq osc:freq",
                                      "/patch/connect midi:gate env:gate",
                                      "/patch/connect osc env",
                                      "/patch/connect env out",
                                      NULL};
  send_lines(host, lines);
}

/* What a commit changing the voice count did to the notes that play on
   (`kept`) and to those whose voices went (`dropped`), from 100 ms before
   the swap to 100 ms after its crossfade: the kept notes' level in 2048-
   frame windows every 256 frames (the largest move from before the swap,
   in dB), the quietest 256-frame window, the step across the swap against
   the patch's own, and the dropped notes' level once the crossfade is
   over (in dB below where they were). */
typedef struct {
  double kept_move_db, min_rms, step_ratio, dropped_db;
} CountSwap;

static CountSwap
count_swap(HpHost* const        host,
           const uint64_t       swap,
           const uint32_t       fade,
           const uint8_t* const kept,
           const unsigned       n_kept,
           const uint8_t* const dropped,
           const unsigned       n_dropped)
{
  CountSwap      m     = {0.0, HUGE_VAL, 0.0, HUGE_VAL};
  const uint64_t from  = swap - MS(100);
  const uint64_t faded = swap + fade;
  const uint64_t to    = faded + MS(100);
  render_to(host, to + 4096u, random_blocks);
  for (unsigned k = 0; k < n_kept; ++k) {
    const double hz  = note_hz(kept[k]);
    const double ref = level_db(host, from, 2048, hz);
    for (uint64_t f = from; f + 2048u <= to; f += 256u) {
      m.kept_move_db =
        fmax(m.kept_move_db, fabs(level_db(host, f, 2048, hz) - ref));
    }
  }
  for (uint64_t f = from; f + WINDOW <= to; f += WINDOW / 2u) {
    m.min_rms = fmin(m.min_rms, hp_sig_rms(left_at(host, f, WINDOW), WINDOW));
  }
  const float own =
    fmaxf(max_step(host, from, swap), max_step(host, faded + 8u, to));
  m.step_ratio =
    (double)(max_step(host, swap - 1u, faded + 2u) / fmaxf(own, 1e-6f));
  for (unsigned k = 0; k < n_dropped; ++k) {
    const double hz = note_hz(dropped[k]);
    m.dropped_db =
      fmin(m.dropped_db,
           level_db(host, from, 4096, hz) - level_db(host, faded, 4096, hz));
  }
  return m;
}

static void
test_voice_counts(const HpWorkerMode mode)
{
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 77});
  const char* const how = fx_mode_name(mode);
  send_sine_patch(host, 8);
  commit_swap(host, 1, "/patch/commit", 256);
  /* Four notes, an octave and more apart: voices 0 to 3 in this order. */
  static const uint8_t chord4[4] = {48, 60, 67, 76};
  notes_on(host, hp_host_frames(host), chord4, 4, 100);
  CHECK(!hp_host_render(host, MS(200), random_blocks));

  /* 8 -> 2: voices 0 and 1 (48, 60) play on; 67 and 76 end. */
  const uint32_t fade = MS(20);
  fx_sendf(host, -1, "/patch/voices 2");
  const uint64_t  s1 = commit_swap(host, 2, "/patch/commit crossfade=20", 0);
  const CountSwap a  = count_swap(host, s1, fade, chord4, 2, chord4 + 2, 2);
  printf("# voices 8 -> 2 under a held 4-note chord, %s worker: the 2 notes "
         "kept move by at most %.2f dB across the swap (2048-frame windows), "
         "quietest 256-frame window RMS %.4f, step ratio %.3f; the 2 dropped "
         "notes %.0f dB down once the 20 ms crossfade is over\n",
         how,
         a.kept_move_db,
         a.min_rms,
         a.step_ratio,
         a.dropped_db);
  /* Two sines at 0.08 in and out of phase: RMS 0.08 on average, never
     much below 0.05 over 256 frames. */
  EXPECT(a.kept_move_db < 0.5,
         "%s, 8 -> 2: kept notes moved %.2f dB",
         how,
         a.kept_move_db);
  EXPECT(a.min_rms > 0.04, "%s, 8 -> 2: a window at RMS %.4f", how, a.min_rms);
  EXPECT(a.step_ratio <= (double)MAX_STEP_RATIO,
         "%s, 8 -> 2: step ratio %.3f",
         how,
         a.step_ratio);
  EXPECT(a.dropped_db > 60.0,
         "%s, 8 -> 2: dropped notes only %.1f dB down",
         how,
         a.dropped_db);

  /* 2 -> 16: the two play on, fourteen voices come free. */
  fx_sendf(host, -1, "/patch/voices 16");
  const uint64_t  s2 = commit_swap(host, 3, "/patch/commit crossfade=20", 0);
  const CountSwap b  = count_swap(host, s2, fade, chord4, 2, NULL, 0);
  printf("# voices 2 -> 16, %s worker: the 2 held notes move by at most "
         "%.2f dB, quietest window RMS %.4f, step ratio %.3f\n",
         how,
         b.kept_move_db,
         b.min_rms,
         b.step_ratio);
  EXPECT(b.kept_move_db < 0.5,
         "%s, 2 -> 16: kept notes moved %.2f dB",
         how,
         b.kept_move_db);
  EXPECT(b.min_rms > 0.04, "%s, 2 -> 16: a window at RMS %.4f", how, b.min_rms);
  EXPECT(b.step_ratio <= (double)MAX_STEP_RATIO,
         "%s, 2 -> 16: step ratio %.3f",
         how,
         b.step_ratio);

  /* Fourteen new notes take the fourteen free voices: all sixteen sound;
     a seventeenth steals the oldest held note's voice (48's, adopted with
     its order across both swaps). */
  uint8_t fresh[14];
  for (unsigned i = 0; i < 14; ++i) {
    fresh[i] = (uint8_t)(63u + 2u * i); /* 311 .. 1397 Hz */
  }
  notes_on(host, hp_host_frames(host), fresh, 14, 100);
  CHECK(!hp_host_render(host, MS(100), random_blocks));
  const uint64_t t16 = hp_host_frames(host);
  CHECK(!hp_host_render(host, 8192, random_blocks));
  const double want = 20.0 * log10(0.1 * 0.8);
  double       dev  = 0.0;
  for (unsigned i = 0; i < 16; ++i) {
    const uint8_t note = i < 2 ? chord4[i] : fresh[i - 2u];
    const double  db   = level_db(host, t16, 8192, note_hz(note));
    dev                = fmax(dev, fabs(db - want));
    EXPECT(fabs(db - want) < 1.5,
           "%s, 16 voices: note %u at %.1f dB, expected %.1f",
           how,
           note,
           db,
           want);
  }
  CHECK(!hp_host_note_on(host, hp_host_frames(host), 91, 100));
  CHECK(!hp_host_render(host, MS(100), random_blocks));
  const uint64_t t17 = hp_host_frames(host);
  CHECK(!hp_host_render(host, 8192, random_blocks));
  const double stolen = level_db(host, t17, 8192, note_hz(48));
  const double new17  = level_db(host, t17, 8192, note_hz(91));
  const double second = level_db(host, t17, 8192, note_hz(60));
  printf("# 16 voices, %s worker: 14 new notes beside the 2 held through the "
         "swaps all sound (each within %.2f dB of its level); a 17th takes "
         "the oldest note's voice (that note %.0f dB, the 17th %.1f dB, the "
         "next oldest %.1f dB)\n",
         how,
         dev,
         stolen,
         new17,
         second);
  EXPECT(
    stolen < want - 60.0, "%s: the oldest note still at %.1f dB", how, stolen);
  EXPECT(fabs(new17 - want) < 1.5 && fabs(second - want) < 1.5,
         "%s: the 17th note at %.1f dB, the next oldest at %.1f dB",
         how,
         new17,
         second);
  CHECK(hp_sig_finite(hp_host_out_l(host), hp_host_recorded(host)));
  hp_host_free(host);
}

/* ------------------------------------------------------------------------ */
/* Tail commits. */

#define RELEASE_MS 100.0
/* The engine's tail fade, in ms, and how long after a tail stops ringing
   it is gone at most: its fade, and the chunk in which it stopped. */
#define FADE_MS ((double)TAIL_FADE_MS)
#define TAIL_END_SLACK (MS(FADE_MS) + HP_CHUNK + 1u)

/* A 4-voice patch of `type` oscillators: timbres told apart by their
   harmonics (a sine has none; a square and a triangle the odd ones, the
   3rd 9.5 and 19.1 dB down). */
static void
send_timbre_patch(HpHost* const host, const char* const type)
{
  fx_sendf(host, -1, "/patch/clear");
  fx_sendf(host, -1, "/patch/voices 4");
  fx_sendf(host, -1, "/patch/create midi midi");
  fx_sendf(host, -1, "/patch/create osc %s", type);
  fx_sendf(host, -1, "/patch/set osc gain 0.1");
  fx_sendf(host, -1, "/patch/create env adsr");
  fx_sendf(host, -1, "/patch/set env attack 2");
  fx_sendf(host, -1, "/patch/set env decay 20");
  fx_sendf(host, -1, "/patch/set env sustain 0.8");
  fx_sendf(host, -1, "/patch/set env release %g", RELEASE_MS);
  fx_sendf(host, -1, "/patch/connect midi:freq osc:freq");
  fx_sendf(host, -1, "/patch/connect midi:gate env:gate");
  fx_sendf(host, -1, "/patch/connect osc env");
  fx_sendf(host, -1, "/patch/connect env out");
}

/* Harmonic `k` of `note` against its fundamental, in dB, over 8192 frames
   from `frame`. */
static double
harmonic_db(HpHost* const  host,
            const uint64_t frame,
            const uint8_t  note,
            const unsigned k)
{
  const double f = note_hz(note);
  return level_db(host, frame, 8192, f * k) - level_db(host, frame, 8192, f);
}

/* The largest move of `note`'s level in 2048-frame windows every 256
   frames over [from, to), from its level in the first. */
static double
level_move(HpHost* const  host,
           const uint8_t  note,
           const uint64_t from,
           const uint64_t to)
{
  const double hz   = note_hz(note);
  const double ref  = level_db(host, from, 2048, hz);
  double       move = 0.0;
  for (uint64_t f = from; f + 2048u <= to; f += 256u) {
    move = fmax(move, fabs(level_db(host, f, 2048, hz) - ref));
  }
  return move;
}

static double
step_ratio(HpHost* const  host,
           const uint64_t swap,
           const uint64_t settled,
           const uint64_t from,
           const uint64_t to)
{
  const float own =
    fmaxf(max_step(host, from, swap), max_step(host, settled, to));
  return (double)(max_step(host, swap - 1u, settled) / fmaxf(own, 1e-6f));
}

static void
midi3(HpHost* const host, const uint8_t a, const uint8_t b, const uint8_t c)
{
  const uint8_t msg[3] = {a, b, c};
  CHECK(!hp_host_send_midi(host, hp_host_frames(host), msg, 3));
}

static void
test_tails(const HpWorkerMode mode)
{
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 99});
  const char* const how  = fx_mode_name(mode);
  const double      sine = 20.0 * log10(0.1 * 0.8);
  /* A square's fundamental: 4 / pi of its amplitude. */
  const double square = 20.0 * log10(4.0 / 3.14159265358979 * 0.1 * 0.8);

  /* A sine patch; two notes held. */
  static const uint8_t held[2] = {57, 64}; /* 220, 329.6 Hz */
  send_timbre_patch(host, "sine");
  commit_swap(host, 1, "/patch/commit", 256);
  notes_on(host, hp_host_frames(host), held, 2, 100);
  CHECK(!hp_host_render(host, MS(300), random_blocks));
  const double before =
    level_db(host, hp_host_frames(host) - 8192u, 8192, note_hz(held[0]));

  /* Tail commit to a square patch: the held notes ring on, as sines. */
  send_timbre_patch(host, "square");
  const uint64_t s1 = commit_swap(host, 2, "/patch/commit tail", 0);
  render_to(host, s1 + MS(300), random_blocks);
  const double ratio1 =
    step_ratio(host, s1, s1 + MS(2), s1 - MS(100), s1 + MS(100));
  const double move1 =
    fmax(level_move(host, held[0], s1 - MS(100), s1 + MS(100)),
         level_move(host, held[1], s1 - MS(100), s1 + MS(100)));
  const double third1 = harmonic_db(host, s1 + MS(50), held[0], 3);
  printf("# tail commit (sine -> square), %s worker: the 2 held notes ring "
         "on (level moves %.2f dB, step ratio %.3f), still sines (3rd "
         "harmonic %.0f dB)\n",
         how,
         move1,
         ratio1,
         third1);
  EXPECT(move1 < 0.5 && ratio1 <= (double)MAX_STEP_RATIO,
         "%s: held notes through a tail commit: level moves %.2f dB, step "
         "ratio %.3f",
         how,
         move1,
         ratio1);
  EXPECT(third1 < -50.0,
         "%s: a held note's 3rd harmonic at %.1f dB after "
         "a tail commit to a square",
         how,
         third1);

  /* A new note plays the square, and only there: the tail takes none. */
  static const uint8_t fresh = 72; /* 523.3 Hz */
  CHECK(!hp_host_note_on(host, hp_host_frames(host), fresh, 100));
  const uint64_t t3 = hp_host_frames(host);
  CHECK(!hp_host_render(host, MS(250), random_blocks));
  const double fresh_db  = level_db(host, t3 + MS(50), 8192, note_hz(fresh));
  const double fresh_3rd = harmonic_db(host, t3 + MS(50), fresh, 3);
  const double held_3rd  = harmonic_db(host, t3 + MS(50), held[1], 3);
  printf("# a new note after it: %.1f dB (a square's fundamental: %.1f), "
         "3rd harmonic %.1f dB (a square's: -9.5); the held notes' still %.0f "
         "dB\n",
         fresh_db,
         square,
         fresh_3rd,
         held_3rd);
  EXPECT(fabs(fresh_db - square) < 1.0 && fabs(fresh_3rd + 9.54) < 1.0,
         "%s: the new note at %.1f dB, 3rd harmonic %.1f dB: not the new "
         "patch's square alone",
         how,
         fresh_db,
         fresh_3rd);
  EXPECT(held_3rd < -50.0,
         "%s: a held note's 3rd harmonic at %.1f dB",
         how,
         held_3rd);

  /* Bend reaches the tail too: both patches' notes move 2 semitones up. */
  midi3(host, 0xE0, 0x7F, 0x7F);
  const uint64_t tb = hp_host_frames(host) + MS(20);
  CHECK(!hp_host_render(host, MS(250), random_blocks));
  const double bent_held  = level_db(host, tb, 8192, note_hz(held[0] + 2u));
  const double bent_fresh = level_db(host, tb, 8192, note_hz(fresh + 2u));
  const double unbent     = level_db(host, tb, 8192, note_hz(held[0]));
  midi3(host, 0xE0, 0x00, 0x40);
  CHECK(!hp_host_render(host, MS(50), random_blocks));
  printf("# pitch bend +2 semitones: the tail's held note %.1f dB at its "
         "bent pitch (%.0f dB at the old), the new patch's note %.1f dB\n",
         bent_held,
         unbent,
         bent_fresh);
  EXPECT(fabs(bent_held - sine) < 1.0 && unbent < sine - 40.0 &&
           fabs(bent_fresh - square) < 1.0,
         "%s: bend: the tail's note %.1f dB bent, %.1f dB unbent; the new "
         "note %.1f dB bent",
         how,
         bent_held,
         unbent,
         bent_fresh);

  /* The pedal holds the tail's notes past their note-offs; lifted, they
     release and the tail ends; the new note plays on throughout. */
  midi3(host, 0xB0, 64, 127);
  CHECK(!hp_host_note_off(host, hp_host_frames(host), held[0]));
  CHECK(!hp_host_note_off(host, hp_host_frames(host), held[1]));
  const uint64_t off = hp_host_frames(host);
  CHECK(!hp_host_render(host, MS(200), random_blocks));
  const double pedal = level_db(host, off + MS(20), 4096, note_hz(held[0]));
  midi3(host, 0xB0, 64, 0);
  const uint64_t up = hp_host_frames(host);
  CHECK(!hp_host_render(host, MS(400), random_blocks));
  const double releasing = level_db(host, up + MS(30), 1024, note_hz(held[0]));
  const uint64_t gone_at = up + MS(RELEASE_MS) + TAIL_END_SLACK;
  const double   gone    = fmax(level_db(host, gone_at, 8192, note_hz(held[0])),
                           level_db(host, gone_at, 8192, note_hz(held[1])));
  const double   fresh_move = level_move(host, fresh, off, up + MS(300));
  printf("# pedal down, note-offs: the tail's notes held (%.1f dB); pedal "
         "up: released (%.1f dB 30 ms on), gone %.0f ms after (%.0f dB); "
         "the new patch's note moved %.2f dB meanwhile\n",
         pedal,
         releasing,
         RELEASE_MS + FADE_MS,
         gone,
         fresh_move);
  EXPECT(fabs(pedal - before) < 0.5,
         "%s: under the pedal the tail's note "
         "fell to %.1f dB from %.1f",
         how,
         pedal,
         before);
  EXPECT(releasing < before - 1.0 && releasing > before - 30.0,
         "%s: 30 ms into the release the tail's note at %.1f dB (from %.1f)",
         how,
         releasing,
         before);
  EXPECT(gone < before - 60.0,
         "%s: the tail's notes at %.1f dB after "
         "their release",
         how,
         gone);
  EXPECT(fresh_move < 0.5,
         "%s: the new patch's note moved %.2f dB",
         how,
         fresh_move);

  /* A second tail commit while the first rings fades the first: a tail
     commit to a triangle leaves the square ringing the held note; a note
     in the triangle; a tail commit to a sine fades the square out (10 ms)
     and leaves the triangle ringing.  (Not a saw: where its wraps meet
     the square's edges, a step of both, now and then only, would count
     against the fade.) */
  send_timbre_patch(host, "triangle");
  commit_swap(host, 3, "/patch/commit tail", 0);
  static const uint8_t tri = 50; /* 146.8 Hz */
  CHECK(!hp_host_note_on(host, hp_host_frames(host), tri, 100));
  CHECK(!hp_host_render(host, MS(300), random_blocks));
  const double sq_before =
    level_db(host, hp_host_frames(host) - 8192u, 8192, note_hz(fresh));
  const double tri_3rd =
    harmonic_db(host, hp_host_frames(host) - 8192u, tri, 3);
  send_timbre_patch(host, "sine");
  const uint64_t s3 = commit_swap(host, 4, "/patch/commit tail", 0);
  render_to(host, s3 + MS(300), random_blocks);
  const double sq_after =
    level_db(host, s3 + TAIL_END_SLACK, 8192, note_hz(fresh));
  const double tri_move = level_move(host, tri, s3 - MS(100), s3 + MS(100));
  const double ratio3 =
    step_ratio(host, s3, s3 + TAIL_END_SLACK, s3 - MS(250), s3 + MS(250));
  printf("# a second tail commit while the first rings (square -> "
         "triangle -> sine), %s worker: the first tail's held note from %.1f "
         "to %.0f dB within %.0f ms, step ratio %.3f; the second's note (a "
         "triangle: 3rd harmonic %.1f dB) rings on, moving %.2f dB\n",
         how,
         sq_before,
         sq_after,
         FADE_MS,
         ratio3,
         tri_3rd,
         tri_move);
  EXPECT(sq_after < sq_before - 60.0,
         "%s: the first tail's note at %.1f dB "
         "after a second tail commit",
         how,
         sq_after);
  EXPECT(ratio3 <= (double)MAX_STEP_RATIO,
         "%s: step ratio %.3f fading the "
         "first tail",
         how,
         ratio3);
  EXPECT(fabs(tri_3rd + 19.08) < 1.0 && tri_move < 0.5,
         "%s: the second tail's note: 3rd harmonic %.1f dB, moved %.2f dB",
         how,
         tri_3rd,
         tri_move);

  /* Held for ever, the triangle's note rings 10 s, then fades out over 10 ms:
     the sine patch playing no note, everything after is exact silence. */
  render_to(host, s3 + MS(10500), random_blocks);
  const size_t   n     = hp_host_recorded(host);
  const uint64_t start = hp_host_recorded_start(host);
  const float*   l     = hp_host_out_l(host);
  size_t         last  = n;
  while (last > 0 && l[last - 1u] == 0.0f) {
    --last;
  }
  const double rang    = (double)(start + last - s3) / RATE;
  const double ringing = level_db(host, s3 + MS(9800), 8192, note_hz(tri)) -
                         level_db(host, s3 + MS(200), 8192, note_hz(tri));
  printf("# a tail never let go: rings %.2f dB from its start 9.8 s on, "
         "and its last sound is %.4f s after the swap (10 s + %.0f ms fade "
         "at most)\n",
         ringing,
         rang,
         FADE_MS);
  EXPECT(fabs(ringing) < 0.5,
         "%s: the tail's note moved %.2f dB in 10 s",
         how,
         ringing);
  EXPECT(start + last >= s3 + MS(10000) &&
           start + last <= s3 + MS(10000) + TAIL_END_SLACK,
         "%s: a tail's last sound %.4f s after its swap",
         how,
         rang);
  CHECK(hp_sig_finite(l, n));

  /* Any later swap fades a ringing tail out, one without a crossfade
     too: a note held in the sine patch rings in its tail; then a commit
     that switches at the sample. */
  static const uint8_t last_note = 57;
  CHECK(!hp_host_note_on(host, hp_host_frames(host), last_note, 100));
  CHECK(!hp_host_render(host, MS(200), random_blocks));
  send_timbre_patch(host, "square");
  commit_swap(host, 5, "/patch/commit tail", 0);
  CHECK(!hp_host_render(host, MS(200), random_blocks));
  fx_sendf(host, -1, "/patch/create lfo1 lfo");
  const uint64_t s5 = commit_swap(host, 6, "/patch/commit crossfade=0", 0);
  render_to(host, s5 + MS(200), random_blocks);
  const double ratio5 =
    step_ratio(host, s5, s5 + TAIL_END_SLACK, s5 - MS(100), s5 + MS(200));
  const double after5 =
    level_db(host, s5 + TAIL_END_SLACK, 8192, note_hz(last_note));
  printf("# a commit without crossfade while a tail rings: the tail fades "
         "out (step ratio %.3f; its note %.0f dB after %.0f ms)\n",
         ratio5,
         after5,
         FADE_MS);
  EXPECT(ratio5 <= (double)MAX_STEP_RATIO && after5 < sine - 60.0,
         "%s: a tail cut by a commit without crossfade: step ratio %.3f, "
         "its note at %.1f dB after the fade",
         how,
         ratio5,
         after5);
  hp_host_free(host);
}

/* The engine itself (its worker run in line, as an export does): a tail's
   graph leaves the engine once its voices are silent, or when the next
   swap's fade is over; none is left behind. */
typedef struct {
  HpEngine* engine;
  float     l[HP_CHUNK], r[HP_CHUNK];
} Rig;

static bool
rig_schedule(void* const handle)
{
  hp_engine_work(((Rig*)handle)->engine);
  return true;
}

static void
rig_block(Rig* const rig)
{
  hp_engine_begin(rig->engine, HP_CHUNK);
  hp_engine_render(rig->engine, rig->l, rig->r, HP_CHUNK);
  hp_engine_end(rig->engine);
  HpEvent ev;
  while (hp_engine_next_event(rig->engine, &ev)) {
    CHECK_MSG(ev.type != HP_EVENT_ERROR, "%s", ev.message);
  }
}

static void
rig_load(Rig* const rig, const char* const type, const char* const commit)
{
  char text[1024];
  snprintf(text,
           sizeof(text),
           "/patch/clear\n/patch/voices 4\n/patch/create midi midi\n"
           "/patch/create osc %s\n/patch/create env adsr\n"
           "/patch/set env release %g\n"
           "/patch/connect midi:freq osc:freq\n"
           "/patch/connect midi:gate env:gate\n/patch/connect osc env\n"
           "/patch/connect env out\n%s\n",
           type,
           RELEASE_MS,
           commit);
  HpError err;
  CHECK_MSG(!hp_engine_load_text(rig->engine, text, &err), "%s", err.message);
  rig_block(rig);
}

/* A tail rings out its voices only: a drone of the old patch (no voice
   reaches it, it reaches none) falls silent at the swap, so where the new
   patch keeps it, it is heard once, not twice. */
static void
test_tail_drone(const HpWorkerMode mode)
{
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 41});
  const char* const how = fx_mode_name(mode);
  send_timbre_patch(host, "sine");
  fx_sendf(host, -1, "/patch/create drone sine");
  fx_sendf(host, -1, "/patch/set drone freq 110");
  fx_sendf(host, -1, "/patch/set drone gain 0.1");
  fx_sendf(host, -1, "/patch/connect drone out");
  commit_swap(host, 1, "/patch/commit", 256);
  static const uint8_t held[1] = {69};
  notes_on(host, hp_host_frames(host), held, 1, 100);
  CHECK(!hp_host_render(host, MS(300), random_blocks));
  const double drone =
    level_db(host, hp_host_frames(host) - 8192u, 8192, 110.0);
  const double note =
    level_db(host, hp_host_frames(host) - 8192u, 8192, note_hz(held[0]));
  fx_sendf(host, -1, "/patch/create lfo lfo");
  const uint64_t s = commit_swap(host, 2, "/patch/commit tail", 0);
  render_to(host, s + MS(300), random_blocks);
  const double drone_tail = level_db(host, s + MS(100), 8192, 110.0);
  const double note_tail  = level_db(host, s + MS(100), 8192, note_hz(held[0]));
  printf("# tail commit, %s worker: the kept drone %.2f dB before, %.2f dB "
         "while the old patch rings (once, not twice); the held note %.2f, "
         "%.2f dB\n",
         how,
         drone,
         drone_tail,
         note,
         note_tail);
  EXPECT(drone > -30.0 && fabs(drone_tail - drone) < 0.5 &&
           fabs(note_tail - note) < 0.5,
         "%s: through a tail commit the drone went %.2f -> %.2f dB, the held "
         "note %.2f -> %.2f dB",
         how,
         drone,
         drone_tail,
         note,
         note_tail);
  hp_host_free(host);
}

static void
test_tail_leaves(void)
{
  Rig rig;
  rig.engine =
    hp_engine_new((float)RATE, NULL, rig_schedule, &rig, NULL, false);
  CHECK(rig.engine);
  HpEngine* const e = rig.engine;
  rig_load(&rig, "sine", "/patch/commit");
  const uint8_t on[3]  = {0x90, 57, 100};
  const uint8_t off[3] = {0x80, 57, 0};
  hp_engine_midi(e, on, 3);
  for (int i = 0; i < 20; ++i) {
    rig_block(&rig);
  }
  rig_load(&rig, "square", "/patch/commit tail");
  CHECK_MSG(e->n_tails == 1, "%u tails after a tail commit", e->n_tails);
  hp_engine_midi(e, off, 3);
  /* The release, then the fade: the tail goes at the end of the chunk
     where its fade ends. */
  uint32_t frames = 0;
  while (e->n_tails && frames < (uint32_t)MS(2000)) {
    rig_block(&rig);
    frames += HP_CHUNK;
  }
  const double went = (double)frames * 1000.0 / RATE;
  /* Then a tail commit with a note held, and an ordinary commit: the
     second fades the tail out with its crossfade (or at once). */
  hp_engine_midi(e, on, 3);
  for (int i = 0; i < 10; ++i) {
    rig_block(&rig);
  }
  rig_load(&rig, "saw", "/patch/commit tail");
  CHECK(e->n_tails == 1);
  rig_load(&rig, "triangle", "/patch/commit crossfade=5");
  uint32_t fade = HP_CHUNK; /* rig_load ran one block */
  while (e->n_tails && fade < (uint32_t)MS(2000)) {
    rig_block(&rig);
    fade += HP_CHUNK;
  }
  for (int i = 0; i < 40; ++i) {
    rig_block(&rig); /* the worker frees what retired */
  }
  const uint32_t unfreed = e->retired->mask + 1u - hp_ring_space(e->retired);
  printf("# engine: a tail leaves %.1f ms after its notes' note-off "
         "(release %.0f ms + fade %.0f ms); one held on leaves %.1f ms "
         "after the next commit; %u retired graphs left unfreed\n",
         went,
         RELEASE_MS,
         FADE_MS,
         (double)fade * 1000.0 / RATE,
         unfreed);
  EXPECT(went >= RELEASE_MS &&
           went <= RELEASE_MS + FADE_MS + 2.0 * HP_CHUNK * 1000.0 / RATE,
         "the tail left %.1f ms after the note-off",
         went);
  EXPECT(!e->n_tails && (double)fade <= MS(FADE_MS) + 2.0 * HP_CHUNK,
         "a tail still there %.1f ms after the next commit",
         (double)fade * 1000.0 / RATE);
  EXPECT(!unfreed, "%u retired graphs never freed", unfreed);

  /* A tail commit during a long crossfade ends the crossfade (the fading
     graph plays from the new tail's spare states, which go with the tail:
     tests/model found it); the tail then rings out and is freed while
     the rest renders on (ASan's run would see a use after free). */
  rig_load(&rig, "sine", "/patch/commit crossfade=3000");
  CHECK_MSG(e->n_fades == 1, "%u fades during a 3 s crossfade", e->n_fades);
  rig_load(&rig, "square", "/patch/commit tail");
  const uint32_t fades_after_tail = e->n_fades;
  hp_engine_midi(e, off, 3);
  for (int i = 0; i < (int)(MS(1000) / HP_CHUNK); ++i) {
    rig_block(&rig);
  }
  printf("# engine: a tail commit during a 3 s crossfade: %u fades left "
         "(ended, as at a switch); the tail gone after 1 s: %s\n",
         fades_after_tail,
         e->n_tails ? "no" : "yes");
  EXPECT(!fades_after_tail && !e->n_tails,
         "a tail commit during a crossfade left %u fades, %u tails after 1 s",
         fades_after_tail,
         e->n_tails);
  hp_engine_free(e);
}

/* ------------------------------------------------------------------------ */
/* Real-time rules under a flood of notes. */

#define FLOOD_NOTES 1000u

/* One MIDI event of a flood at `frame`: notes on and off over every key and
   channel (a note-on of velocity 0 among them), and besides every tenth
   note a bend, the pedal, pressure, or now and then all notes or all sound
   off. */
static void
flood_event(HpHost* const h, const uint64_t frame, const uint32_t i)
{
  const uint8_t  ch  = (uint8_t)hp_host_random(h, 0, 15);
  const uint8_t  key = (uint8_t)hp_host_random(h, 0, 127);
  uint8_t        msg[3];
  const uint32_t pick = hp_host_random(h, 0, 99);
  msg[0]              = (uint8_t)((pick < 55 ? 0x90 : 0x80) | ch);
  msg[1]              = key;
  msg[2]              = (uint8_t)(pick < 50 ? hp_host_random(h, 1, 127) : 0);
  CHECK(!hp_host_send_midi(h, frame, msg, 3));
  if (i % 10u == 0u) {
    const uint32_t extra = hp_host_random(h, 0, 19);
    const uint8_t  value = (uint8_t)hp_host_random(h, 0, 127);
    msg[0]               = (uint8_t)(extra < 8    ? 0xE0 | ch
                                     : extra < 12 ? 0xB0 | ch
                                     : extra < 15 ? 0xD0 | ch
                                     : extra < 18 ? 0xA0 | ch
                                                  : 0xB0 | ch);
    msg[1]               = extra < 8     ? (uint8_t)hp_host_random(h, 0, 127)
                           : extra < 12  ? 64u
                           : extra < 18  ? key
                           : extra == 18 ? 123u
                                         : 120u;
    msg[2]               = value;
    CHECK(!hp_host_send_midi(h, frame, msg, extra >= 12 && extra < 15 ? 2 : 3));
  }
}

static void
test_flood(const HpWorkerMode mode)
{
  HpHost* const host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .seed = 31});
  const char* const        how     = fx_mode_name(mode);
  static const char* const patch[] = {"/patch/clear",
                                      "/patch/voices 32",
                                      "/patch/create midi midi",
                                      "/patch/create osc saw",
                                      "/patch/set osc gain 0.03",
                                      "/patch/create env adsr",
                                      "/patch/set env attack 1",
                                      "/patch/set env decay 50",
                                      "/patch/set env sustain 0.5",
                                      "/patch/set env release 20",
                                      "/patch/create vf biquad",
                                      "/patch/create lfo lfo",
                                      "/patch/set lfo offset 3000",
                                      "/patch/set lfo depth 1000",
                                      "/patch/create mix sum",
                                      "/patch/create lp biquad",
                                      "/patch/set lp cutoff 6000",
                                      "/patch/connect midi:freq osc:freq",
                                      "/patch/connect midi:gate env:gate",
                                      "/patch/connect osc env",
                                      "/patch/connect env vf",
                                      "/patch/connect lfo vf:cutoff",
                                      "/patch/connect vf mix",
                                      "/patch/connect mix lp",
                                      "/patch/connect lp out",
                                      NULL};
  send_lines(host, patch);
  commit_swap(host, 1, "/patch/commit", 256);
  CHECK(!hp_host_render(host, MS(50), random_blocks));

  hp_rt_reset();
  uint64_t worst_ns = 0;
  uint32_t commits  = 0;
  for (uint32_t b = 0; b < 24; ++b) {
    const uint32_t n  = hp_host_random(host, 1, 4096);
    const uint64_t at = hp_host_frames(host);
    for (uint32_t i = 0; i < FLOOD_NOTES; ++i) {
      flood_event(host, at + hp_host_random(host, 0, n - 1u), i);
    }
    if (b % 3u == 1u) { /* a commit among the notes: voices, tails */
      const uint64_t f = at + hp_host_random(host, 0, n - 1u);
      char           line[64];
      snprintf(
        line, sizeof(line), "/patch/voices %u", hp_host_random(host, 1, 32));
      fx_send_at(host, f, -1, line);
      fx_send_at(
        host, f, -1, b % 2u ? "/patch/delete lfo" : "/patch/create lfo lfo");
      if (b % 2u == 0u) {
        fx_send_at(host, f, -1, "/patch/connect lfo vf:cutoff");
      }
      snprintf(line,
               sizeof(line),
               "/patch/commit %s",
               b % 6u == 1u   ? "tail"
               : b % 6u == 4u ? "crossfade=0"
                              : "crossfade=15");
      fx_send_at(host, f, -1, line);
      ++commits;
    }
    CHECK(!hp_host_run(host, n));
    worst_ns = hp_host_last_run_ns(host) > worst_ns ? hp_host_last_run_ns(host)
                                                    : worst_ns;
    CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
    CHECK(!hp_host_render(host, hp_host_random(host, 1, 4096), random_blocks));
  }
  HpRtCounts counts;
  hp_rt_counts(&counts);
  /* Everything off on every channel: the voices and tails end. */
  for (uint8_t ch = 0; ch < 16; ++ch) {
    midi3(host, (uint8_t)(0xB0 | ch), 64, 0);
    midi3(host, (uint8_t)(0xB0 | ch), 123, 0);
  }
  CHECK(!hp_host_render(host, MS(500), random_blocks));
  const size_t n      = hp_host_recorded(host);
  const bool   finite = hp_sig_finite(hp_host_out_l(host), n) &&
                      hp_sig_finite(hp_host_out_r(host), n);
  const float peak  = hp_sig_peak(hp_host_out_l(host), n);
  const float after = hp_sig_peak(hp_host_out_l(host) + n - MS(100), MS(100));
  const HpHostEvent* const err =
    hp_host_find_event(host, HP_EV_ERROR, HP_SEQ_ANY);
  printf("# 32 voices, %s worker: 24 blocks of 1 to 4096 frames with %u MIDI "
         "notes each (bends, pedal, pressure, all-notes-off among them), %u "
         "commits among them (voice counts, tails): %llu forbidden calls in "
         "run(), slowest run() %.2f ms, output %s (peak %.3f), %.1g 400 ms "
         "after all notes off\n",
         how,
         FLOOD_NOTES,
         commits,
         (unsigned long long)counts.total,
         (double)worst_ns * 1e-6,
         finite ? "finite" : "NOT finite",
         (double)peak,
         (double)after);
  if (hp_rt_available()) {
    EXPECT(counts.total == 0,
           "%s: run() made %llu forbidden calls",
           how,
           (unsigned long long)counts.total);
    if (counts.total) {
      hp_rt_print(stdout, &counts);
    }
  } else {
    printf("# rtcheck unavailable: %s\n", hp_rt_unavailable_reason());
  }
  EXPECT(finite, "%s: the output is not finite", how);
  EXPECT(!err, "%s: %s", how, err && err->message ? err->message : "");
  EXPECT(
    after < 1e-4f, "%s: still %.2g after all notes off", how, (double)after);
  hp_host_free(host);
}

int
main(void)
{
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(),
            "rtcheck linkage: %s",
            hp_rt_check_linkage());
  const unsigned long threaded =
    getenv("HP_VSWAP_COMMITS") ? strtoul(getenv("HP_VSWAP_COMMITS"), NULL, 10)
    : under_valgrind()         ? 100u
                               : 1000u;
  test_flood(HP_WORKER_THREADED);
  test_flood(HP_WORKER_SYNC);
  test_glide_through_swap(HP_WORKER_SYNC);
  test_glide_through_swap(HP_WORKER_THREADED);
  test_tail_leaves();
  test_tails(HP_WORKER_THREADED);
  test_tails(HP_WORKER_SYNC);
  test_tail_drone(HP_WORKER_THREADED);
  test_tail_drone(HP_WORKER_SYNC);
  test_voice_counts(HP_WORKER_THREADED);
  test_voice_counts(HP_WORKER_SYNC);
  test_chord_commits(HP_WORKER_THREADED, (int)threaded);
  test_chord_commits(HP_WORKER_SYNC, (int)(threaded / 3u));
  return expect_summary("voices through swaps");
}
