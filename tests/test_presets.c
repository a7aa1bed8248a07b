/* Every shipped preset loads through lilv and plays: a held note (or,
   for drones, nothing at all; for the effect's, a tone into its inputs)
   gives a finite, non-silent, unclipped sound; the Scenes preset follows
   the scene control.  Each preset plays the voices the table below says
   (patch:Get names them): a polyphonic one plays a three-note chord with
   all three pitches at one level (in every scene, for Scenes), a
   monophonic one only the last note of it.  Each is listed by the plugin
   it is for, and only by it; Tremolo swings its inputs' level and Echo
   repeats them as their macros say. */

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More than the bundle ships, so that one too many is seen. */
#define MAX_LISTED 64

typedef struct {
  char   uri[MAX_LISTED][128];
  char   label[MAX_LISTED][64];
  bool   fx[MAX_LISTED]; /* listed by the effect */
  size_t count;
  bool   listing_fx;
} List;

/* Every shipped preset, its voices (0: it ignores notes: a drone, an
   effect) and its plugin.  A preset missing here, or listed here and not
   shipped, fails the test. */
static const struct {
  const char* name; /* urn:hotpatch:preset:NAME */
  unsigned    voices;
  bool        fx; /* urn:hotpatch:fx's, else urn:hotpatch:synth's */
} kinds[] = {
  {"acid", 1, false},      {"bass", 1, false},      {"bell", 8, false},
  {"dreampad", 8, false},  {"drone", 0, false},     {"fx-chorus", 0, true},
  {"fx-drive", 0, true},   {"fx-echo", 0, true},    {"fx-space", 0, true},
  {"fx-tremolo", 0, true}, {"keys", 8, false},      {"lead", 1, false},
  {"pad", 8, false},       {"pluck", 8, false},     {"scenes", 8, false},
  {"seqbass", 1, false},   {"seed-adsr", 1, false}, {"seed-chain", 1, false},
  {"seed-sine", 0, false}, {"strings", 8, false},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* The most the chord's notes may differ, dB.  A reverb's answer to a
   steady tone has its modes' peaks and notches: Dream Pad, all through
   its reverb, measures 8.8 dB between its notes. */
static double
chord_spread_allowed(const char* const name)
{
  return strcmp(name, "dreampad") ? 6.0 : 12.0;
}

/* The chord: G3, B3, D4 (196.0, 246.9, 293.7 Hz), clear of the Scenes
   drones (220, 330, 440 Hz) and of each other's harmonics. */
static const uint8_t chord[3] = {55, 59, 62};
#define CHORD_SECONDS 1.5

static double
note_hz(const uint8_t note)
{
  return 440.0 * pow(2.0, ((double)note - 69.0) / 12.0);
}

static void
collect(const char* const uri, const char* const label, void* const data)
{
  List* list = (List*)data;
  if (list->count < MAX_LISTED) {
    snprintf(list->uri[list->count], 128, "%s", uri);
    snprintf(list->label[list->count], 64, "%s", label ? label : "");
    list->fx[list->count] = list->listing_fx;
    ++list->count;
  }
}

/* The voices of the playing patch, from its text (patch:Get): the
   /patch/voices line, 1 without one. */
static unsigned
playing_voices(HpHost* const host)
{
  CHECK(!hp_host_send_patch_get(host, hp_host_frames(host), 41));
  const HpHostEvent* ev =
    hp_host_run_until(host, HP_EV_PATCH_SET, 41, 256, 48000);
  CHECK(ev && ev->value_string);
  const char* const at = strstr(ev->value_string, "/patch/voices ");
  return at ? (unsigned)atoi(at + strlen("/patch/voices ")) : 1u;
}

/* Preset `uri` (scene `scene`, -1: as loaded) plays the chord, struck at
   once after half a second, with macro `macro` (1..8, 0: none) at
   `position`.  Per note, the loudest level of its pitch in 200 ms windows
   (100 ms apart) from `from` to `to` seconds after the strike; the level
   of `drone_hz` (0: none) and the peak of those 1.5 s. */
static void
play_chord(const char* const uri,
           const int         scene,
           const int         macro,
           const float       position,
           const double      from,
           const double      to,
           const double      drone_hz,
           double            level[3],
           double* const     drone_db,
           float* const      peak,
           unsigned* const   voices)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 0);
  CHECK_MSG(!hp_host_load_preset(host, uri, 0), "%s", hp_host_last_error());
  if (scene >= 0) {
    CHECK(!hp_host_set_control(host, "scene", (float)scene));
  }
  if (macro) {
    char symbol[16];
    snprintf(symbol, sizeof(symbol), "macro%d", macro);
    CHECK(!hp_host_set_control(host, symbol, position));
  }
  const HpBlockPolicy fixed = {HP_BLOCK_FIXED, 256, 0, 0};
  CHECK(!hp_host_render(host, 24000, fixed));
  if (voices) {
    *voices = playing_voices(host);
  }
  const uint64_t on = hp_host_frames(host);
  for (int k = 0; k < 3; ++k) {
    CHECK(!hp_host_note_on(host, on, chord[k], 100));
  }
  CHECK(!hp_host_render(host, (uint64_t)(CHORD_SECONDS * RATE), fixed));
  const size_t       len = (size_t)(CHORD_SECONDS * RATE);
  const float* const x =
    hp_host_out_l(host) + (on - hp_host_recorded_start(host));
  CHECK(hp_host_recorded_start(host) + hp_host_recorded(host) >= on + len);
  CHECK(hp_sig_finite(x, len));
  for (int k = 0; k < 3; ++k) {
    level[k] = -HUGE_VAL;
  }
  *drone_db        = -HUGE_VAL;
  const size_t end = (size_t)(to * RATE) < len ? (size_t)(to * RATE) : len;
  for (size_t at = (size_t)(from * RATE); at + 9600 <= end; at += 4800) {
    for (int k = 0; k < 3; ++k) {
      const double db =
        hp_sig_goertzel_db(x + at, 9600, RATE, note_hz(chord[k]));
      level[k] = db > level[k] ? db : level[k];
    }
    if (drone_hz > 0.0) {
      const double db = hp_sig_goertzel_db(x + at, 9600, RATE, drone_hz);
      *drone_db       = db > *drone_db ? db : *drone_db;
    }
  }
  *peak = hp_sig_peak(x, len);
  CHECK(!hp_host_log_contains(host, "hotpatch: "));
  hp_host_free(host);
}

static double
spread_db(const double level[3])
{
  double lo = level[0], hi = level[0];
  for (int k = 1; k < 3; ++k) {
    lo = level[k] < lo ? level[k] : lo;
    hi = level[k] > hi ? level[k] : hi;
  }
  return hi - lo;
}

/* The instrument or, for `fx`, the effect. */
static HpHost*
plugin_host(const bool fx, const HpWorkerMode mode)
{
  return fx_host_cfg((HpHostConfig){
    .plugin_uri = fx ? HP_FX_URI : HP_PLUGIN_URI, .worker_mode = mode});
}

/* An effect preset hears A3 (220 Hz) at -10 dBFS on both inputs. */
static void
play_tone(HpHost* const host, const size_t n)
{
  float* const x = (float*)malloc(n * sizeof(float));
  CHECK(x);
  for (size_t i = 0; i < n; ++i) {
    x[i] =
      0.3162f * (float)sin(2.0 * 3.14159265358979 * 220.0 * (double)i / RATE);
  }
  CHECK(!hp_host_set_input(host, x, x, n));
  free(x);
}

/* Tremolo with its macros at `depth` and `speed`, steady levels 0.5 and
   -0.25 into its inputs: over a second, the left output's highest and
   lowest gain and its rate (from its crossings of its mean). */
static void
tremolo(const float   depth,
        const float   speed,
        double* const high,
        double* const low,
        double* const hz)
{
  HpHost* const host = plugin_host(true, HP_WORKER_SYNC);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:fx-tremolo", 0));
  CHECK(!hp_host_set_control(host, "macro1", depth));
  CHECK(!hp_host_set_control(host, "macro2", speed));
  const size_t n = 72000;
  float        l[72000], r[72000];
  for (size_t i = 0; i < n; ++i) {
    l[i] = 0.5f;
    r[i] = -0.25f;
  }
  CHECK(!hp_host_set_input(host, l, r, n));
  CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
  /* After the preset's crossfade: the last second. */
  const float* const out_l = hp_host_out_l(host) + n - 48000;
  const float* const out_r = hp_host_out_r(host) + n - 48000;
  float              centred[48000];
  double             sum = 0.0;
  *high                  = 0.0;
  *low                   = HUGE_VAL;
  for (size_t i = 0; i < 48000; ++i) {
    const double g = (double)out_l[i] / 0.5;
    *high          = g > *high ? g : *high;
    *low           = g < *low ? g : *low;
    sum += (double)out_l[i];
    /* Both sides through the same gain: right is -0.5 times left, bit for
       bit (a power of two). */
    CHECK_MSG(out_r[i] == -0.5f * out_l[i],
              "frame %zu: left %g, right %g",
              i,
              (double)out_l[i],
              (double)out_r[i]);
  }
  for (size_t i = 0; i < 48000; ++i) {
    centred[i] = (float)((double)out_l[i] - sum / 48000.0);
  }
  *hz = hp_sig_freq(centred, 48000, RATE);
  CHECK(!hp_host_log_contains(host, "hotpatch: "));
  hp_host_free(host);
}

static void
test_tremolo(void)
{
  static const struct {
    float  depth, speed;
    double low, hz; /* want: the trough's gain (the peak's is 1), rate */
  } cases[] = {
    {0.5f, 0.5f, 0.5, 5.0},
    {1.0f, 1.0f, 0.0, 20.0},
    {0.0f, 0.0f, 1.0, 0.0},
  };
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); ++c) {
    double high, low, hz;
    tremolo(cases[c].depth, cases[c].speed, &high, &low, &hz);
    const bool steady = cases[c].low == 1.0;
    CHECK_MSG(fabs(high - 1.0) < 1e-3 && fabs(low - cases[c].low) < 1e-3 &&
                (steady || fabs(hz - cases[c].hz) < 0.05 * cases[c].hz),
              "Tremolo, macro 1 at %g, macro 2 at %g: gain %.4f .. %.4f at "
              "%.3f Hz (want %.2f .. 1 at %.2f Hz)",
              (double)cases[c].depth,
              (double)cases[c].speed,
              low,
              high,
              hz,
              cases[c].low,
              cases[c].hz);
    printf("# Tremolo, macro 1 (depth) %.1f, macro 2 (speed) %.1f: gain "
           "%.4f .. %.4f",
           (double)cases[c].depth,
           (double)cases[c].speed,
           low,
           high);
    if (low > 1e-3) {
      printf(" (%.2f dB trough)", 20.0 * log10(low));
    }
    if (steady) {
      printf(", steady\n");
    } else {
      printf(" at %.3f Hz; right = -0.5 x left bit for bit\n", hz);
    }
  }
}

/* Echo with macro 1 (feedback 0..0.9) at `macro1` and macro 2 (mix) at
   `macro2`: an impulse into each input, 0.5 left and -0.25 right 50 ms
   later.  Each side's output is the impulse times 1 - mix, its first echo
   times mix exactly 250 ms later, and the second, 250 ms after that, the
   first through the feedback and the damping (a one-pole low-pass at
   6 kHz): its first frame feedback * d, its sum feedback (unity at DC).
   Nothing else sounds, and neither side hears the other. */
static void
echo(const float macro1, const float macro2)
{
  enum {
    AT    = 4800,
    APART = 2400,
    DELAY = 12000,
    N     = AT + APART + 2 * DELAY + 512
  };
  static const float in[2] = {0.5f, -0.25f};
  HpHost* const      host  = plugin_host(true, HP_WORKER_SYNC);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:fx-echo", 0));
  CHECK(!hp_host_set_control(host, "macro1", macro1));
  CHECK(!hp_host_set_control(host, "macro2", macro2));
  static float l[N], r[N];
  memset(l, 0, sizeof(l));
  memset(r, 0, sizeof(r));
  l[AT]         = in[0];
  r[AT + APART] = in[1];
  CHECK(!hp_host_set_input(host, l, r, N));
  CHECK(!hp_host_render(host, N, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
  CHECK(hp_host_recorded_start(host) == 0 && hp_host_recorded(host) == N);
  const double feedback = 0.9 * (double)macro1, mix = (double)macro2;
  const double d = 1.0 - exp(-2.0 * 3.14159265358979 * 6000.0 / RATE);
  for (int side = 0; side < 2; ++side) {
    const float* const y   = side ? hp_host_out_r(host) : hp_host_out_l(host);
    const size_t       at  = AT + (side ? APART : 0);
    const size_t       two = at + 2 * DELAY;
    double             sum = 0.0, stray = 0.0;
    for (size_t i = two; i < two + 256; ++i) {
      sum += (double)y[i];
    }
    for (size_t i = 0; i < N; ++i) {
      const bool heard =
        i == at || i == at + DELAY || (i >= two && i < two + 256);
      const double a = fabs((double)y[i]);
      stray          = heard || a < stray ? stray : a;
    }
    const double want[3] = {(1.0 - mix) * (double)in[side],
                            mix * (double)in[side],
                            mix * feedback * (double)in[side]};
    const double got[3]  = {(double)y[at], (double)y[at + DELAY], sum};
    for (int k = 0; k < 3; ++k) {
      CHECK_MSG(fabs(got[k] - want[k]) < 1e-5,
                "Echo, macros %g and %g, %s: %s %.6f, want %.6f",
                (double)macro1,
                (double)macro2,
                side ? "right" : "left",
                k == 0   ? "dry"
                : k == 1 ? "echo 1"
                         : "echo 2's sum",
                got[k],
                want[k]);
    }
    CHECK_MSG(fabs((double)y[two] - want[2] * d) < 1e-5,
              "Echo, %s: echo 2 starts at %.6f, want %.6f",
              side ? "right" : "left",
              (double)y[two],
              want[2] * d);
    CHECK_MSG(stray < 1e-6,
              "Echo, macros %g and %g, %s: %.2g elsewhere",
              (double)macro1,
              (double)macro2,
              side ? "right" : "left",
              stray);
    if (!side) {
      printf("# Echo, macro 1 (feedback) %.1f, macro 2 (mix) %.1f: dry %.4f, "
             "echo 1 %.4f at +%d frames, echo 2 %.4f at +%d (sum %.4f), of "
             "the impulse; nothing else above %.1g; right alike, alone\n",
             (double)macro1,
             (double)macro2,
             got[0] / (double)in[0],
             got[1] / (double)in[0],
             DELAY,
             (double)y[two] / (double)in[0],
             2 * DELAY,
             got[2] / (double)in[0],
             stray);
    }
  }
  CHECK(!hp_host_log_contains(host, "hotpatch: "));
  hp_host_free(host);
}

static void
test_echo(void)
{
  echo(0.5f, 0.5f); /* as loaded: feedback 0.45, half wet */
  echo(0.0f, 1.0f); /* one echo, no dry sound */
  echo(1.0f, 0.0f); /* the input alone */
}

int
main(void)
{
  List list;
  memset(&list, 0, sizeof(list));
  for (int fx = 0; fx <= 1; ++fx) {
    HpHost* const listing = plugin_host(fx, HP_WORKER_THREADED);
    list.listing_fx       = fx;
    hp_host_list_presets(listing, collect, &list);
    hp_host_free(listing);
  }
  CHECK_MSG(list.count == N_KINDS,
            "%zu presets shipped, %zu in this test's table",
            list.count,
            N_KINDS);
  size_t n_fx = 0;
  for (size_t i = 0; i < list.count; ++i) {
    bool known = false;
    for (size_t k = 0; k < N_KINDS && !known; ++k) {
      char uri[128];
      snprintf(uri, sizeof(uri), "urn:hotpatch:preset:%s", kinds[k].name);
      known = !strcmp(uri, list.uri[i]);
      CHECK_MSG(!known || kinds[k].fx == list.fx[i],
                "%s is listed by %s",
                list.uri[i],
                list.fx[i] ? HP_FX_URI : HP_PLUGIN_URI);
    }
    CHECK_MSG(known, "%s is not in this test's table of presets", list.uri[i]);
    n_fx += list.fx[i];
  }
  printf("# presets listed by the plugin they apply to: %zu by the "
         "instrument, %zu by the effect\n",
         list.count - n_fx,
         n_fx);

  HpHost* host = NULL;
  for (size_t i = 0; i < list.count; ++i) {
    for (unsigned flags = 0; flags <= HP_RESTORE_NO_WORKER;
         flags += HP_RESTORE_NO_WORKER) {
      host = plugin_host(list.fx[i], HP_WORKER_THREADED);
      CHECK_MSG(!hp_host_load_preset(host, list.uri[i], flags),
                "%s: %s",
                list.uri[i],
                hp_host_last_error());
      if (list.fx[i]) {
        play_tone(host, 96000 + 256);
      }
      CHECK(!hp_host_run(host, 256));
      CHECK(!hp_host_wait_worker(host, 5000));
      hp_host_note_on(host, hp_host_frames(host), 57, 100);
      CHECK(!hp_host_render(
        host, 96000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 16, 1024}));
      const size_t n = hp_host_recorded(host);
      const float* l = hp_host_out_l(host);
      /* The loudest 100 ms: a pluck has died away by the end, a pad has
         only just risen at the start. */
      double rms = 0.0;
      for (size_t at = 4800; at + 4800 <= n;
           at += 4800) { /* after the crossfade */
        const double r = hp_sig_rms(l + at, 4800);
        rms            = r > rms ? r : rms;
      }
      const float peak  = hp_sig_peak(l, n);
      const float swaps = hp_host_control_out(host, "swaps");
      CHECK_MSG(hp_sig_finite(l, n) && hp_sig_finite(hp_host_out_r(host), n),
                "%s: not finite",
                list.label[i]);
      CHECK_MSG(rms > 0.01 && peak < 1.0f,
                "%s: RMS %.4f, peak %.3f",
                list.label[i],
                rms,
                (double)peak);
      CHECK_MSG(
        swaps >= 1.0f, "%s: the preset never swapped in", list.label[i]);
      CHECK(!hp_host_log_contains(host, "hotpatch: "));
      if (!flags) {
        printf("# preset %-28s loudest 100 ms RMS %.3f, peak %.3f (%s)\n",
               list.label[i],
               rms,
               (double)peak,
               list.fx[i] ? "A3 at -10 dBFS in" : "held A3");
      }
      hp_host_free(host);
    }
  }

  /* The Scenes preset: the scene control picks the drone. */
  static const double want[3] = {220.0, 330.0, 440.0};
  host                        = fx_host(HP_WORKER_SYNC, 0);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:scenes", 0));
  for (int scene = 0; scene < 3; ++scene) {
    CHECK(!hp_host_set_control(host, "scene", (float)scene));
    CHECK(
      !hp_host_render(host, 48000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    const size_t n = hp_host_recorded(host);
    const double f = hp_sig_freq(hp_host_out_l(host) + n - 24000, 24000, 48000);
    CHECK_MSG(fabs(f - want[scene]) < 0.5, "scene %d: %.3f Hz", scene + 1, f);
  }
  printf("# Scenes preset: scene control 0, 1, 2 plays 220, 330, 440 Hz\n");
  hp_host_free(host);
  /* Loading a preset while one plays: primed and crossfaded, no dropout. */
  host = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:drone", 0));
  CHECK(
    !hp_host_render(host, 48000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
  const uint64_t load_at = hp_host_frames(host);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:scenes", 0));
  CHECK(
    !hp_host_render(host, 48000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
  const float* l     = hp_host_out_l(host);
  float        quiet = 1.0f;
  for (size_t at = (size_t)load_at - 4800; at + 256 <= (size_t)load_at + 9600;
       at += 64) {
    const float peak = hp_sig_peak(l + at, 256);
    quiet            = peak < quiet ? peak : quiet;
  }
  CHECK_MSG(quiet > 0.01f,
            "a window around the preset load peaks at %.4f",
            (double)quiet);
  const double f =
    hp_sig_freq(l + hp_host_recorded(host) - 24000, 24000, 48000);
  CHECK_MSG(fabs(f - 220.0) < 0.5, "after loading Scenes: %.3f Hz", f);
  printf("# preset loaded while Drone plays: no window quieter than peak %.3f, "
         "then Scenes at %.2f Hz\n",
         (double)quiet,
         f);
  hp_host_free(host);
  printf("# %zu presets load and sound, with and without a worker in restore\n",
         list.count);
  test_tremolo();
  test_echo();

  /* The chord, on every preset that takes notes.  Equal velocities, so
     the three pitches sound at one level (within 6 dB: the filters
     tilt); a monophonic preset plays the last note struck (legato, last
     note priority) and the others not at all. */
  static const char* const scene_name[3] = {" scene 1", " scene 2", " scene 3"};
  for (size_t k = 0; k < N_KINDS; ++k) {
    if (!kinds[k].voices) {
      continue;
    }
    char uri[128];
    snprintf(uri, sizeof(uri), "urn:hotpatch:preset:%s", kinds[k].name);
    const bool scenes = !strcmp(kinds[k].name, "scenes");
    const int  n_runs = scenes ? 3 : 1;
    for (int scene = 0; scene < n_runs; ++scene) {
      double   level[3], drone_db;
      float    peak;
      unsigned voices = 0;
      /* Mono: past a glide from the first note to the last. */
      const double from = kinds[k].voices > 1 ? 0.0 : 0.3;
      play_chord(uri,
                 scenes ? scene : -1,
                 0,
                 0.0f,
                 from,
                 CHORD_SECONDS,
                 scenes ? want[scene] : 0.0,
                 level,
                 &drone_db,
                 &peak,
                 &voices);
      CHECK_MSG(voices == kinds[k].voices,
                "%s plays %u voices, want %u",
                kinds[k].name,
                voices,
                kinds[k].voices);
      CHECK_MSG(peak < 1.0f,
                "%s: the chord peaks at %.3f",
                kinds[k].name,
                (double)peak);
      if (kinds[k].voices > 1) {
        CHECK_MSG(level[0] > -40.0 && level[1] > -40.0 && level[2] > -40.0 &&
                    spread_db(level) < chord_spread_allowed(kinds[k].name),
                  "%s%s: chord pitches at %.1f, %.1f, %.1f dB",
                  kinds[k].name,
                  scenes ? scene_name[scene] : "",
                  level[0],
                  level[1],
                  level[2]);
      } else {
        /* A sequenced bass plays the last note only on the steps that do
           not transpose it: 20 dB clear of the others then. */
        const double clear = strstr(kinds[k].name, "seq") ? 20.0 : 30.0;
        CHECK_MSG(level[2] > -40.0 && level[0] < level[2] - clear &&
                    level[1] < level[2] - clear,
                  "%s (mono): chord pitches at %.1f, %.1f, %.1f dB (want the "
                  "last alone)",
                  kinds[k].name,
                  level[0],
                  level[1],
                  level[2]);
      }
      if (scenes) {
        CHECK_MSG(
          drone_db > -30.0,
          "scenes scene %d: its drone (%.0f Hz) at %.1f dB under the chord",
          scene + 1,
          want[scene],
          drone_db);
      }
      printf("# %-10s %u voice%s%s%s: chord G3 B3 D4 at %.1f, %.1f, %.1f "
             "dB%s, peak %.3f",
             kinds[k].name,
             voices,
             voices > 1 ? "s" : "",
             scenes ? "," : "",
             scenes ? scene_name[scene] : "",
             level[0],
             level[1],
             level[2],
             kinds[k].voices > 1 ? "" : " (the last note alone)",
             (double)peak);
      if (scenes) {
        printf(", drone %.0f Hz at %.1f dB", want[scene], drone_db);
      }
      printf("\n");
    }
  }

  /* A macro on a per-voice module moves every voice: Strings' macro 2 is
     its envelope's attack (30 ms .. 3 s), so 0.1 to 0.3 s after the
     strike every pitch of the chord is far louder at 0 than at 1. */
  double fast[3], slow[3], unused;
  float  peak;
  play_chord("urn:hotpatch:preset:strings",
             -1,
             2,
             0.0f,
             0.1,
             0.3,
             0.0,
             fast,
             &unused,
             &peak,
             NULL);
  play_chord("urn:hotpatch:preset:strings",
             -1,
             2,
             1.0f,
             0.1,
             0.3,
             0.0,
             slow,
             &unused,
             &peak,
             NULL);
  for (int k = 0; k < 3; ++k) {
    CHECK_MSG(fast[k] > slow[k] + 10.0,
              "Strings, macro 2 at 0 and 1: note %d at %.1f and %.1f dB",
              chord[k],
              fast[k],
              slow[k]);
  }
  printf("# Strings' macro 2 (attack, per voice) at 0 and 1: the chord's "
         "pitches at %.1f/%.1f/%.1f and %.1f/%.1f/%.1f dB\n",
         fast[0],
         fast[1],
         fast[2],
         slow[0],
         slow[1],
         slow[2]);
  return 0;
}
