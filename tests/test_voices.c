/*
  Polyphony as heard (DESIGN 3b): chords (3, 8 and 32 voices), voice
  allocation and stealing, the MIDI a voice follows (pedal, all notes off,
  all sound off, bend, velocity, pressure, channel), idle voices silent,
  one voice's legato and glide, `sum`, sets and macros reaching every
  voice (idle ones too, and voices carried over from the patch before),
  and the voice count through /patch/voices, patch:Get, saved state,
  patch documents and presets.

  Everything goes through the lilv test host, MIDI at exact frames, and is
  measured on the output: a pitch's level by a Goertzel filter at its
  frequency, pitch by zero crossings, levels by RMS and peak in windows.
  The voice chain is midi -> sine (gain 0.1: one voice is -20 dB) -> adsr.
  What a worker takes part in (commits, sets, macros, state, documents)
  runs with a threaded and a synchronous worker; pure MIDI runs with the
  synchronous one.
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames in `ms` milliseconds. */
#define MS(ms) ((uint64_t)((ms) * (RATE / 1000.0)))

/* The level of one voice: the sine's gain, 0.1. */
#define VOICE_GAIN 0.1
#define VOICE_DB (-20.0)

#define PI 3.14159265358979323846

static const HpBlockPolicy fixed = {HP_BLOCK_FIXED, BLOCK, 0, 0};

static double
note_hz(const int note)
{
  return 440.0 * pow(2.0, (note - 69) / 12.0);
}

/* Render up to absolute frame `end`. */
static void
run_to(HpHost* const host, const uint64_t end)
{
  const uint64_t now = hp_host_frames(host);
  CHECK(end >= now);
  CHECK(!hp_host_render(host, end - now, fixed));
}

/* The left output from absolute frame `from`, `n` frames (rendered up to
   its end if need be). */
static const float*
heard(HpHost* const host, const uint64_t from, const size_t n)
{
  run_to(host,
         from + n > hp_host_frames(host) ? from + n : hp_host_frames(host));
  const uint64_t start = hp_host_recorded_start(host);
  CHECK(from >= start && from + n <= start + hp_host_recorded(host));
  return hp_host_out_l(host) + (from - start);
}

/* Level in dB of `note`'s pitch over [from, from + n). */
static double
note_db(HpHost* const host, const uint64_t from, const size_t n, const int note)
{
  return hp_sig_goertzel_db(heard(host, from, n), n, RATE, note_hz(note));
}

static double
rms_at(HpHost* const host, const uint64_t from, const size_t n)
{
  return hp_sig_rms(heard(host, from, n), n);
}

static double
peak_at(HpHost* const host, const uint64_t from, const size_t n)
{
  return hp_sig_peak(heard(host, from, n), n);
}

static void
midi3(HpHost* const  host,
      const uint64_t frame,
      const uint8_t  status,
      const uint8_t  d1,
      const uint8_t  d2)
{
  const uint8_t msg[3] = {status, d1, d2};
  CHECK(!hp_host_send_midi(host, frame, msg, 3));
}

static void
midi2(HpHost* const  host,
      const uint64_t frame,
      const uint8_t  status,
      const uint8_t  d1)
{
  const uint8_t msg[2] = {status, d1};
  CHECK(!hp_host_send_midi(host, frame, msg, 2));
}

static void
note_on(HpHost* const host, const uint64_t frame, const int note)
{
  CHECK(!hp_host_note_on(host, frame, (uint8_t)note, 100));
}

static void
note_off(HpHost* const host, const uint64_t frame, const int note)
{
  CHECK(!hp_host_note_off(host, frame, (uint8_t)note));
}

/* Run until a swap is heard (after a restore or a document load). */
static void
await_swap(HpHost* const host, const char* const what)
{
  for (int i = 0; i < 200; ++i) {
    if (hp_host_find_event(host, HP_EV_SWAPPED, HP_SEQ_ANY)) {
      return;
    }
    CHECK(!hp_host_run(host, BLOCK));
    CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  }
  CHECK_MSG(false, "%s: no swap", what);
}

static int next_seq = 1;

/* Send `lines` (NULL-terminated) after a clear, commit them at once and
   wait for the swap. */
static void
play_patch(HpHost* const host, const char* const* const lines)
{
  fx_send(host, -1, "/patch/clear");
  for (const char* const* l = lines; *l; ++l) {
    fx_send(host, -1, *l);
  }
  const int seq = next_seq++;
  fx_send(host, seq, "/patch/commit crossfade=0");
  fx_acked(host, seq, "commit");
}

/* The voice chain with `voices` voices, committed: midi m -> sine o (gain
   0.1) -> adsr e (attack, decay, sustain, release as given).  `extra`
   (NULL-terminated) replaces the link o -> e: what comes between, or the
   link itself after other settings. */
static void
voice_patch(HpHost* const            host,
            const int                voices,
            const double             attack,
            const double             decay,
            const double             sustain,
            const double             release,
            const char* const* const extra)
{
  char        v[64], a[64], d[64], s[64], r[64];
  const char* lines[40];
  size_t      n = 0;
  snprintf(v, sizeof(v), "/patch/voices %d", voices);
  snprintf(a, sizeof(a), "/patch/set e attack %g", attack);
  snprintf(d, sizeof(d), "/patch/set e decay %g", decay);
  snprintf(s, sizeof(s), "/patch/set e sustain %g", sustain);
  snprintf(r, sizeof(r), "/patch/set e release %g", release);
  lines[n++] = v;
  lines[n++] = "/patch/create m midi";
  lines[n++] = "/patch/create o sine";
  lines[n++] = "/patch/set o gain 0.1";
  lines[n++] = "/patch/create e adsr";
  lines[n++] = a;
  lines[n++] = d;
  lines[n++] = s;
  lines[n++] = r;
  lines[n++] = "/patch/connect m o:freq";
  lines[n++] = "/patch/connect m:gate e:gate";
  for (const char* const* l = extra; l && *l; ++l) {
    CHECK(n + 2 < sizeof(lines) / sizeof(lines[0]));
    lines[n++] = *l;
  }
  if (!extra) {
    lines[n++] = "/patch/connect o e";
  }
  lines[n] = NULL;
  play_patch(host, lines);
}

/* The common voice: a 2 ms attack to a sustain of 1, release in `release`
   ms. */
static void
organ_patch(HpHost* const host, const int voices, const double release)
{
  voice_patch(host, voices, 2.0, 0.0, 1.0, release, NULL);
}

/* Whether `db` is one voice's level (within `tol` dB). */
static bool
one_voice(const double db, const double tol)
{
  return fabs(db - VOICE_DB) <= tol;
}

/* Absent: far below one voice (a Hann window of 100 ms leaks a voice
   four semitones away at -57 dB). */
static bool
absent(const double db)
{
  return db < VOICE_DB - 50.0;
}

/* 1. Chords */

/* `n` held notes on 8 voices: every pitch at one voice's level (measured
   first, alone), none missing, nothing else; the total RMS is the power
   sum.  Released at once, they end at the release time: the release is a
   linear fall (RMS 1/sqrt 3 of the held level over it), then silence. */
static void
test_chord(const int n)
{
  static const int notes[8] = {48, 52, 55, 60, 64, 67, 71, 74};
  CHECK(n <= 8);
  HpHost* const host = fx_host(HP_WORKER_SYNC, 1);
  organ_patch(host, 8, 50.0);

  /* One voice alone, and its release: a linear fall over 50 ms (RMS
     1/sqrt 3 of the held level), then silence. */
  uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 60);
  note_off(host, t + MS(300), 60);
  const double one = note_db(host, t + MS(20), MS(250), 60);
  const double one_fall =
    rms_at(host, t + MS(300), MS(50)) / rms_at(host, t + MS(200), MS(100));
  EXPECT(one_voice(one, 0.05), "one voice: %.3f dB, want -20", one);
  EXPECT(fabs(one_fall * sqrt(3.0) - 1.0) < 0.01,
         "one voice released: RMS %.4f of held over the 50 ms release, "
         "want %.4f (a linear fall)",
         one_fall,
         1.0 / sqrt(3.0));

  t = hp_host_frames(host) + MS(200);
  for (int i = 0; i < n; ++i) {
    note_on(host, t, notes[i]);
  }
  const uint64_t from  = t + MS(20);
  const size_t   len   = MS(400);
  double         worst = 0.0;
  for (int i = 0; i < n; ++i) {
    const double db = note_db(host, from, len, notes[i]);
    worst           = fmax(worst, fabs(db - one));
    EXPECT(fabs(db - one) < 0.3,
           "%d-note chord: note %d at %.3f dB, one voice %.3f dB",
           n,
           notes[i],
           db,
           one);
  }
  /* Semitones between and around the chord's notes: nothing there. */
  double loudest_other = -HUGE_VAL;
  int    other         = 0;
  for (int k = 46; k <= 76; ++k) {
    bool played = false;
    for (int i = 0; i < n; ++i) {
      played |= notes[i] == k || abs(notes[i] - k) == 1;
    }
    const double db = played ? -HUGE_VAL : note_db(host, from, len, k);
    if (db > loudest_other) {
      loudest_other = db;
      other         = k;
    }
  }
  EXPECT(absent(loudest_other),
         "%d-note chord: note %d, not played, at %.1f dB",
         n,
         other,
         loudest_other);
  const double rms  = rms_at(host, from, len);
  const double want = sqrt((double)n) * VOICE_GAIN / sqrt(2.0);
  EXPECT(fabs(rms / want - 1.0) < 0.01,
         "%d-note chord: RMS %.5f, want %.5f",
         n,
         rms,
         want);

  /* Release all at once, at a frame inside a block. */
  const uint64_t off = t + MS(500) + 77;
  for (int i = 0; i < n; ++i) {
    note_off(host, off, notes[i]);
  }
  const double held    = rms_at(host, off - MS(100), MS(100));
  const double falling = rms_at(host, off, MS(50));
  const double last    = peak_at(host, off + MS(50) - MS(2), MS(2));
  const double after   = peak_at(host, off + MS(50), MS(200));
  /* Over 50 ms, the beats between the notes move a chord's RMS by a few
     percent. */
  EXPECT(fabs(falling / held * sqrt(3.0) - 1.0) < 0.06,
         "%d-note chord released: RMS over the 50 ms release %.4f of the "
         "held level, want %.4f (a linear fall)",
         n,
         falling / held,
         1.0 / sqrt(3.0));
  EXPECT(last > 0.0 && after == 0.0,
         "%d-note chord released: peak %.2g in the release's last 2 ms, "
         "%.2g after it (want silence from 50 ms on)",
         n,
         last,
         after);
  printf("# %d-note chord, 8 voices: every pitch within %.3f dB of one "
         "voice (%.3f dB), other pitches below %.0f dB, RMS %.4f of the "
         "power sum; released: RMS %.3f of held over the 50 ms release "
         "(one voice %.4f, linear 0.5774), silent from its end\n",
         n,
         worst,
         one,
         loudest_other,
         rms / want,
         falling / held,
         one_fall);
  hp_host_free(host);
}

/* The most voices, 32: a chord of 32 notes (whole tones from C2) sounds
   every note at one voice's level over 1 s; a 33rd note steals the
   oldest. */
static void
test_chord32(void)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 22);
  organ_patch(host, 32, 20.0);
  const uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 32; ++i) {
    note_on(host, t + (uint64_t)i, 36 + 2 * i);
  }
  double worst = 0.0;
  for (int i = 0; i < 32; ++i) {
    const double db = note_db(host, t + MS(50), MS(1000), 36 + 2 * i);
    worst           = fmax(worst, fabs(db - VOICE_DB));
  }
  note_on(host, t + MS(1100), 101);
  const double first = note_db(host, t + MS(1150), MS(1000), 36);
  const double newer = note_db(host, t + MS(1150), MS(1000), 101);
  const double next  = note_db(host, t + MS(1150), MS(1000), 38);
  EXPECT(worst < 0.3 && absent(first) && one_voice(newer, 0.3) &&
           one_voice(next, 0.3),
         "32 voices: every note of a chord of 32 within %.3f dB of one "
         "voice; a 33rd: the first note at %.1f dB, the 33rd at %.2f dB, "
         "the second at %.2f dB",
         worst,
         first,
         newer,
         next);
  printf("# 32-note chord, 32 voices: every pitch within %.3f dB of one "
         "voice; a 33rd note steals the first (%.0f dB after)\n",
         worst,
         first);
  hp_host_free(host);
}

/* Three notes released 200 ms apart: each pitch is there before its
   release and gone once its 50 ms release has run, the others going on;
   after the last, silence. */
static void
test_staggered_release(void)
{
  static const int notes[3] = {60, 64, 67};
  HpHost* const    host     = fx_host(HP_WORKER_SYNC, 2);
  organ_patch(host, 8, 50.0);
  const uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 3; ++i) {
    note_on(host, t, notes[i]);
    note_off(host, t + MS(200) * (uint64_t)(i + 1), notes[i]);
  }
  double worst_gone = -HUGE_VAL;
  for (int k = 0; k < 3; ++k) {
    const uint64_t rel = t + MS(200) * (uint64_t)(k + 1);
    for (int i = 0; i < 3; ++i) {
      const double before = note_db(host, rel - MS(140), MS(130), notes[i]);
      const double after  = note_db(host, rel + MS(55), MS(130), notes[i]);
      const bool   gone   = i <= k;
      EXPECT(i < k ? absent(before) : one_voice(before, 0.1),
             "before release %d: note %d at %.2f dB",
             k,
             notes[i],
             before);
      EXPECT(gone ? absent(after) : one_voice(after, 0.1),
             "after release %d: note %d at %.2f dB",
             k,
             notes[i],
             after);
      if (gone) {
        worst_gone = fmax(worst_gone, after);
      }
    }
  }
  const uint64_t end = t + MS(600) + MS(50);
  EXPECT(peak_at(host, end - MS(1), MS(1)) > 0.0 &&
           peak_at(host, end, MS(100)) == 0.0,
         "last release: not silent exactly 50 ms after it");
  printf("# 3 notes released one by one: each present (one voice's level) "
         "until its release, then gone (below %.0f dB) while the others "
         "play on\n",
         worst_gone);
  hp_host_free(host);
}

/* 2. Allocation */

/* Two voices, three notes, release 200 ms (a released voice sounds on):
   which pitch is heard in [from, from + 100 ms). */
static void
expect_heard(HpHost* const     host,
             const uint64_t    from,
             const int* const  notes,
             const bool* const want,
             const int         n,
             const char* const what)
{
  for (int i = 0; i < n; ++i) {
    const double db = note_db(host, from, MS(100), notes[i]);
    EXPECT(want[i] ? db > VOICE_DB - 6.0 && db < VOICE_DB + 0.1 : absent(db),
           "%s: note %d at %.2f dB (want it %s)",
           what,
           notes[i],
           db,
           want[i] ? "heard" : "gone");
  }
}

static void
test_stealing(void)
{
  static const int notes[3] = {60, 64, 67};
  HpHost* const    host     = fx_host(HP_WORKER_SYNC, 3);
  organ_patch(host, 2, 200.0);

  /* All three held: the third takes the oldest held voice. */
  uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 60);
  note_on(host, t + MS(10), 64);
  note_on(host, t + MS(20), 67);
  expect_heard(host,
               t + MS(30),
               notes,
               (const bool[]){false, true, true},
               3,
               "3 held notes on 2 voices");
  for (int i = 0; i < 3; ++i) {
    note_off(host, t + MS(150), notes[i]);
  }

  /* One released (still sounding): the third takes it, not a held one. */
  t = t + MS(500);
  note_on(host, t, 60);
  note_on(host, t + MS(10), 64);
  note_off(host, t + MS(20), 64);
  note_on(host, t + MS(40), 67);
  expect_heard(host,
               t + MS(50),
               notes,
               (const bool[]){true, false, true},
               3,
               "the second released, then a third note");
  note_off(host, t + MS(150), 60);
  note_off(host, t + MS(150), 67);

  /* Both released: the one released first goes, though pressed last. */
  t = t + MS(500);
  note_on(host, t, 60);
  note_on(host, t + MS(10), 64);
  note_off(host, t + MS(20), 64);
  note_off(host, t + MS(30), 60);
  note_on(host, t + MS(40), 67);
  expect_heard(host,
               t + MS(50),
               notes,
               (const bool[]){true, false, true},
               3,
               "both released, the second first, then a third note");
  note_off(host, t + MS(150), 67);

  /* Released under the pedal counts as released: the third note takes
     that voice, though pressed last, not the older one whose key is
     down. */
  t = t + MS(500);
  midi3(host, t, 0xB0, 64, 127);
  note_on(host, t, 60);
  note_on(host, t + MS(10), 64);
  note_off(host, t + MS(20), 64);
  note_on(host, t + MS(40), 67);
  expect_heard(host,
               t + MS(50),
               notes,
               (const bool[]){true, false, true},
               3,
               "the second released under the pedal, then a third note");
  midi3(host, t + MS(150), 0xB0, 64, 0);
  note_off(host, t + MS(150), 60);
  note_off(host, t + MS(150), 67);

  /* A free voice before a released one: the release rings on. */
  t = t + MS(500);
  note_on(host, t, 60);
  note_off(host, t + MS(20), 60);
  note_on(host, t + MS(40), 67);
  expect_heard(host,
               t + MS(50),
               notes,
               (const bool[]){true, false, true},
               3,
               "one released, a voice free, then a new note");
  note_off(host, t + MS(150), 67);
  run_to(host, t + MS(500));
  printf("# 2 voices: a third held note steals the oldest held; a released "
         "voice is taken before a held one, the first released first, "
         "under the pedal too; a free voice before a released one\n");
  hp_host_free(host);
}

/* A re-pressed key takes its own voice (the others ring on) and starts
   its attack again: attack 20 ms to 1, decay 20 ms to 0.5, release 200
   ms.  Levels of note 60 by Goertzel over 20 ms (72, an octave up, is out
   of the way). */
static void
test_retrigger(void)
{
  HpHost* const host    = fx_host(HP_WORKER_SYNC, 4);
  const double  sustain = VOICE_DB - 20.0 * log10(2.0);
  voice_patch(host, 2, 20.0, 20.0, 0.5, 200.0, NULL);

  /* Re-pressed after its release began; 72 was released earlier, so
     "oldest released" would take 72's voice instead. */
  uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 60);
  note_on(host, t + MS(5), 72);
  note_off(host, t + MS(90), 72);
  note_off(host, t + MS(100), 60);
  note_on(host, t + MS(150), 60);
  /* Released at 0.5, at 0.4 .. 0.375 before the re-press; after it, up
     to 1 at 162.5 ms, and down to 0.5 by 182.5 ms. */
  const double before = note_db(host, t + MS(130), MS(20), 60);
  const double attack = note_db(host, t + MS(155), MS(20), 60);
  const double later  = note_db(host, t + MS(200), MS(20), 60);
  const double other  = note_db(host, t + MS(160), MS(100), 72);
  note_off(host, t + MS(300), 60);
  EXPECT(before < sustain - 1.0 && attack > sustain + 4.0 &&
           fabs(later - sustain) < 0.1,
         "re-pressed in its release: %.2f dB before, %.2f dB in the "
         "attack, %.2f dB after (sustain %.2f dB)",
         before,
         attack,
         later,
         sustain);
  EXPECT(other > VOICE_DB - 20.0,
         "re-pressed in its release: 72 (released first) at %.2f dB: its "
         "voice was taken",
         other);

  /* Re-pressed while held (a note-on without a note-off): the attack
     again, and one voice afterwards, at the sustain level. */
  t = t + MS(700);
  note_on(host, t, 60);
  note_on(host, t + MS(100), 60);
  const double held  = note_db(host, t + MS(80), MS(20), 60);
  const double again = note_db(host, t + MS(105), MS(20), 60);
  const double after = note_db(host, t + MS(200), MS(100), 60);
  const double peak  = peak_at(host, t + MS(200), MS(100));
  note_off(host, t + MS(400), 60);
  run_to(host, t + MS(700));
  EXPECT(fabs(held - sustain) < 0.1 && again > sustain + 4.0 &&
           fabs(after - sustain) < 0.05 &&
           fabs(peak / (0.5 * VOICE_GAIN) - 1.0) < 0.01,
         "re-pressed while held: %.2f dB held, %.2f dB after the re-press, "
         "%.2f dB (peak %.4f) later (sustain %.2f dB)",
         held,
         again,
         after,
         peak,
         sustain);
  printf("# re-pressed key: its own voice (72, released first, rings on at "
         "%.1f dB); the attack heard again: %.2f dB from %.2f dB in the "
         "release; re-pressed while held: %.2f dB from %.2f dB, then one "
         "voice at the sustain level (%.2f dB)\n",
         other,
         attack,
         before,
         again,
         held,
         after);
  hp_host_free(host);
}

/* 3. The MIDI a voice follows */

/* CC64: released notes sound on until the pedal is lifted, then release;
   a note still held then plays on. */
static void
test_sustain_pedal(void)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 5);
  organ_patch(host, 4, 50.0);
  const uint64_t t = hp_host_frames(host) + MS(10);
  midi3(host, t, 0xB0, 64, 127);
  note_on(host, t + MS(10), 60);
  note_on(host, t + MS(10), 64);
  note_on(host, t + MS(10), 67);
  note_off(host, t + MS(100), 60);
  note_off(host, t + MS(100), 64);
  const uint64_t up = t + MS(300) + 5;
  midi3(host, up, 0xB0, 64, 0);
  const double held60 = note_db(host, t + MS(150), MS(140), 60);
  const double held64 = note_db(host, t + MS(150), MS(140), 64);
  const double tail   = peak_at(host, up + MS(50) - MS(2), MS(2));
  const double gone60 = note_db(host, up + MS(55), MS(140), 60);
  const double gone64 = note_db(host, up + MS(55), MS(140), 64);
  const double on67   = note_db(host, up + MS(55), MS(140), 67);
  note_off(host, up + MS(300), 67);
  const double silent = peak_at(host, up + MS(350), MS(100));
  EXPECT(one_voice(held60, 0.1) && one_voice(held64, 0.1),
         "released under the pedal: %.2f, %.2f dB (want one voice each)",
         held60,
         held64);
  EXPECT(tail > 0.0 && absent(gone60) && absent(gone64),
         "pedal lifted: peak %.2g at the end of the 50 ms release, then "
         "%.1f, %.1f dB",
         tail,
         gone60,
         gone64);
  EXPECT(one_voice(on67, 0.1) && silent == 0.0,
         "the note held through the pedal: %.2f dB, then released: peak "
         "%.2g",
         on67,
         silent);
  printf("# sustain pedal: released notes at %.2f, %.2f dB until it is "
         "lifted, then release in 50 ms (%.1f, %.1f dB after); the note "
         "held through it plays on at %.2f dB\n",
         held60,
         held64,
         gone60,
         gone64,
         on67);
  hp_host_free(host);
}

/* CC123 releases every voice (the release is heard); CC120 silences them
   at once. */
static void
test_all_off(void)
{
  static const int notes[3] = {60, 64, 67};
  HpHost* const    host     = fx_host(HP_WORKER_SYNC, 6);
  organ_patch(host, 4, 50.0);
  uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 3; ++i) {
    note_on(host, t, notes[i]);
  }
  const uint64_t cc123 = t + MS(200) + 33;
  midi3(host, cc123, 0xB0, 123, 0);
  const double held    = rms_at(host, cc123 - MS(100), MS(100));
  const double falling = rms_at(host, cc123, MS(50));
  const double ending  = peak_at(host, cc123 + MS(48), MS(2));
  const double after   = peak_at(host, cc123 + MS(50), MS(100));
  EXPECT(fabs(falling / held * sqrt(3.0) - 1.0) < 0.06 && ending > 0.0 &&
           after == 0.0,
         "CC123: RMS %.3f of held over the release, peak %.2g in its last 2 "
         "ms, %.2g after it (want %.3f, sound, then silence)",
         falling / held,
         ending,
         after,
         1.0 / sqrt(3.0));

  t = cc123 + MS(300);
  for (int i = 0; i < 3; ++i) {
    note_on(host, t, notes[i]);
  }
  const uint64_t cc120 = t + MS(200) + 33;
  midi3(host, cc120, 0xB0, 120, 0);
  const float* x    = heard(host, cc120 - MS(10), MS(110));
  size_t       last = 0; /* the last sounding frame, from cc120 on */
  for (size_t i = 0; i < MS(110); ++i) {
    last = x[i] != 0.0f ? i : last;
  }
  const long silent_from = (long)last + 1 - (long)MS(10);
  EXPECT(silent_from <= (long)BLOCK && last >= MS(10) - 10u,
         "CC120: silent %ld frames after it (want within a block of %u)",
         silent_from,
         BLOCK);
  /* The voices are free again: a new chord sounds. */
  note_on(host, cc120 + MS(100), 72);
  const double again = note_db(host, cc120 + MS(120), MS(100), 72);
  EXPECT(one_voice(again, 0.1), "after CC120, a new note: %.2f dB", again);
  printf("# CC123: every voice releases (RMS %.3f of held over the 50 ms "
         "release, silence after); CC120: silent %ld frames after it\n",
         falling / held,
         silent_from);
  hp_host_free(host);
}

/* Pitch bend: full up is +2 semitones by default, +12 with bend 12 (a
   live set of the per-voice midi), full down -12; every voice bends. */
static void
test_bend(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 7);
  organ_patch(host, 4, 50.0);
  uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 69);
  midi3(host, t + MS(100), 0xE0, 0x7F, 0x7F);
  const double up2 =
    hp_sig_freq(heard(host, t + MS(120), MS(200)), MS(200), RATE);
  const double want2 = 440.0 * pow(2.0, 2.0 / 12.0);
  fx_send(host, next_seq, "/patch/set m bend 12");
  fx_acked(host, next_seq++, "set m bend 12");
  t = hp_host_frames(host);
  const double up12 =
    hp_sig_freq(heard(host, t + MS(20), MS(200)), MS(200), RATE);
  midi3(host, hp_host_frames(host), 0xE0, 0x00, 0x00);
  t = hp_host_frames(host);
  const double down12 =
    hp_sig_freq(heard(host, t + MS(20), MS(200)), MS(200), RATE);
  /* A second voice: both bent down an octave. */
  note_on(host, hp_host_frames(host), 76);
  t                 = hp_host_frames(host);
  const double db69 = note_db(host, t + MS(20), MS(200), 57);
  const double db76 = note_db(host, t + MS(20), MS(200), 64);
  midi3(host, hp_host_frames(host), 0xE0, 0x00, 0x40); /* centre */
  t = hp_host_frames(host);
  const double centre =
    hp_sig_freq(heard(host, t + MS(20), MS(200)), MS(200), RATE);
  (void)centre;
  EXPECT(fabs(up2 / want2 - 1.0) < 0.001,
         "%s: full bend up, default range: %.3f Hz, want %.3f",
         fx_mode_name(mode),
         up2,
         want2);
  EXPECT(fabs(up12 / 880.0 - 1.0) < 0.001 && fabs(down12 / 220.0 - 1.0) < 0.001,
         "%s: bend 12: full up %.3f Hz, full down %.3f Hz (want 880, 220)",
         fx_mode_name(mode),
         up12,
         down12);
  EXPECT(one_voice(db69, 0.1) && one_voice(db76, 0.1),
         "%s: two voices bent an octave down: %.2f, %.2f dB",
         fx_mode_name(mode),
         db69,
         db76);
  printf("# %s worker: full bend up %.3f Hz (+2 semitones: %.3f), with "
         "bend 12 %.3f Hz up, %.3f Hz down; a second voice bends too\n",
         fx_mode_name(mode),
         up2,
         want2,
         up12,
         down12);
  hp_host_free(host);
}

/* What plays: a sine fed by midi, straight to the output (no envelope).
   With several voices an idle voice is not rendered, so there is silence
   before, between and after notes, however the sine runs; with one voice
   the sine plays on. */
static void
test_idle_voices(void)
{
  double level[2][3];
  for (int k = 0; k < 2; ++k) {
    const char* const lines[] = {k ? "/patch/voices 4" : "/patch/voices 1",
                                 "/patch/create m midi",
                                 "/patch/create o sine",
                                 "/patch/set o gain 0.1",
                                 "/patch/connect m o:freq",
                                 NULL};
    HpHost* const host = fx_host(HP_WORKER_SYNC, 8);
    play_patch(host, lines);
    const uint64_t t = hp_host_frames(host) + MS(10);
    note_on(host, t + MS(100), 60);
    note_off(host, t + MS(200), 60);
    level[k][0] = peak_at(host, t, MS(100));
    level[k][1] = peak_at(host, t + MS(100), MS(100));
    level[k][2] = peak_at(host, t + MS(200), MS(100));
    hp_host_free(host);
  }
  EXPECT(level[1][0] == 0.0 && level[1][1] > 0.099 && level[1][2] == 0.0,
         "4 voices, a sine without an envelope: peak %.3g before the note, "
         "%.3g during it, %.3g after it (want 0, 0.1, 0)",
         level[1][0],
         level[1][1],
         level[1][2]);
  EXPECT(level[0][0] > 0.099 && level[0][1] > 0.099 && level[0][2] > 0.099,
         "1 voice, a sine without an envelope: peak %.3g before the note, "
         "%.3g during it, %.3g after it (want 0.1 throughout)",
         level[0][0],
         level[0][1],
         level[0][2]);
  printf("# a sine fed by midi without an envelope: 4 voices, silent (peak "
         "%.2g) unless a note is held; 1 voice, it sounds throughout\n",
         fmax(level[1][0], level[1][2]));
}

/* midi:velocity to a vca's gain: each note's level is its velocity / 127
   of one voice's, three notes at once. */
static void
test_velocity(void)
{
  static const char* const vca[]   = {"/patch/create v vca",
                                      "/patch/connect o v",
                                      "/patch/connect m:velocity v:gain",
                                      "/patch/connect v e",
                                      NULL};
  static const int         notes[] = {60, 64, 67};
  static const int         vels[]  = {127, 64, 16};
  HpHost* const            host    = fx_host(HP_WORKER_SYNC, 9);
  voice_patch(host, 4, 2.0, 0.0, 1.0, 50.0, vca);
  const uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_note_on(host, t, (uint8_t)notes[i], (uint8_t)vels[i]));
  }
  double worst = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double db   = note_db(host, t + MS(20), MS(200), notes[i]);
    const double want = VOICE_DB + 20.0 * log10(vels[i] / 127.0);
    worst             = fmax(worst, fabs(db - want));
    EXPECT(fabs(db - want) < 0.05,
           "velocity %d: %.3f dB, want %.3f",
           vels[i],
           db,
           want);
  }
  printf("# velocity to a vca: velocities 127, 64, 16 at once, each level "
         "within %.3f dB of velocity/127 of one voice\n",
         worst);
  hp_host_free(host);
}

/* midi:pressure to a vca's gain: nothing until pressure; channel
   pressure reaches every voice, key pressure only its note's. */
static void
test_pressure(void)
{
  static const char* const vca[] = {"/patch/create v vca",
                                    "/patch/connect o v",
                                    "/patch/connect m:pressure v:gain",
                                    "/patch/connect v e",
                                    NULL};
  HpHost* const            host  = fx_host(HP_WORKER_SYNC, 10);
  voice_patch(host, 4, 2.0, 0.0, 1.0, 50.0, vca);
  const uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 60);
  note_on(host, t, 64);
  midi2(host, t + MS(100), 0xD0, 64);      /* channel pressure */
  midi3(host, t + MS(300), 0xA0, 60, 127); /* key pressure on 60 */
  midi3(host, t + MS(300), 0xA0, 62, 0);   /* on a key not held */
  const double none = peak_at(host, t, MS(100));
  const double ch60 = note_db(host, t + MS(110), MS(180), 60);
  const double ch64 = note_db(host, t + MS(110), MS(180), 64);
  const double k60  = note_db(host, t + MS(310), MS(180), 60);
  const double k64  = note_db(host, t + MS(310), MS(180), 64);
  const double half = VOICE_DB + 20.0 * log10(64.0 / 127.0);
  EXPECT(none == 0.0, "no pressure yet: peak %.3g, want silence", none);
  EXPECT(fabs(ch60 - half) < 0.05 && fabs(ch64 - half) < 0.05,
         "channel pressure 64: %.3f, %.3f dB, want %.3f",
         ch60,
         ch64,
         half);
  EXPECT(fabs(k60 - VOICE_DB) < 0.05 && fabs(k64 - half) < 0.05,
         "key pressure 127 on 60: 60 at %.3f dB (want %.3f), 64 at %.3f "
         "dB (want %.3f)",
         k60,
         VOICE_DB,
         k64,
         half);
  printf("# pressure to a vca: channel pressure 64 puts both notes at %.2f, "
         "%.2f dB (want %.2f); key pressure 127 on 60: 60 at %.2f dB, 64 "
         "stays at %.2f dB\n",
         ch60,
         ch64,
         half,
         k60,
         k64);
  hp_host_free(host);
}

/* The channel filter, with 4 voices and with 1: `channel 0` follows all
   channels; `channel 2`, committed over it (the midi module kept), follows
   channel 2 alone (notes, note-offs and bend of channel 1 are not heard);
   a live set to 3 then follows channel 3 alone, in every voice (the idle
   ones too). */
static void
test_channel(const HpWorkerMode mode)
{
  static const char* const omni[] = {"/patch/connect o e", NULL};
  static const char* const ch2[]  = {
     "/patch/set m channel 2", "/patch/connect o e", NULL};
  for (int voices = 4; voices >= 1; voices -= 3) {
    HpHost* const host = fx_host(mode, 11);
    voice_patch(host, voices, 2.0, 0.0, 1.0, 20.0, omni);
    uint64_t t = hp_host_frames(host) + MS(10);
    midi3(host, t, 0x90, 60, 100);
    midi3(host, t + MS(100), 0x80, 60, 0);
    midi3(host, t + MS(200), 0x9F, 64, 100);
    midi3(host, t + MS(300), 0x8F, 64, 0);
    const double first = note_db(host, t + MS(10), MS(80), 60);
    const double last  = note_db(host, t + MS(210), MS(80), 64);
    run_to(host, t + MS(400));
    EXPECT(one_voice(first, 0.1) && one_voice(last, 0.1),
           "%s, %d voices, channel 0: channel 1 note %.2f dB, channel 16 "
           "note %.2f dB",
           fx_mode_name(mode),
           voices,
           first,
           last);

    voice_patch(host, voices, 2.0, 0.0, 1.0, 20.0, ch2);
    t = hp_host_frames(host) + MS(10);
    midi3(host, t, 0x90, 60, 100);              /* channel 1: not ours */
    midi3(host, t + MS(100), 0x91, 64, 100);    /* channel 2 */
    midi3(host, t + MS(200), 0x80, 64, 0);      /* channel 1's off */
    midi3(host, t + MS(200), 0xE0, 0x7F, 0x7F); /* channel 1's bend */
    midi3(host, t + MS(400), 0x81, 64, 0);
    const double other = peak_at(host, t, MS(100));
    const double ours  = note_db(host, t + MS(110), MS(80), 64);
    const double kept  = note_db(host, t + MS(210), MS(180), 64);
    const double gone  = peak_at(host, t + MS(430), MS(100));
    EXPECT(other == 0.0 && one_voice(ours, 0.1) && one_voice(kept, 0.1) &&
             gone == 0.0,
           "%s, %d voices, channel 2 committed: a channel 1 note peaks "
           "%.3g; a channel 2 note %.2f dB, after channel 1's note-off and "
           "bend %.2f dB; after its own note-off, peak %.3g",
           fx_mode_name(mode),
           voices,
           other,
           ours,
           kept,
           gone);

    fx_send(host, next_seq, "/patch/set m channel 3");
    fx_acked(host, next_seq++, "set m channel 3");
    t = hp_host_frames(host) + MS(10);
    midi3(host, t, 0x91, 60, 100);
    midi3(host, t + MS(100), 0x81, 60, 0);
    midi3(host, t + MS(200), 0x92, 64, 100);
    midi3(host, t + MS(300), 0x82, 64, 0);
    const double old_ch = peak_at(host, t, MS(200));
    const double new_ch = note_db(host, t + MS(210), MS(80), 64);
    run_to(host, t + MS(400));
    EXPECT(old_ch == 0.0 && one_voice(new_ch, 0.1),
           "%s, %d voices, channel set to 3 live: a channel 2 note peaks "
           "%.3g, a channel 3 note %.2f dB",
           fx_mode_name(mode),
           voices,
           old_ch,
           new_ch);
    printf("# %s worker, %d voice%s: channel 0 hears channels 1 and 16 "
           "(%.2f, %.2f dB); channel 2 committed over it: channel 1's notes, "
           "note-offs and bend unheard (peak %.2g), channel 2's at %.2f dB; "
           "set live to 3: channel 2 unheard (peak %.2g), channel 3 at "
           "%.2f dB\n",
           fx_mode_name(mode),
           voices,
           voices > 1 ? "s" : "",
           first,
           last,
           other,
           ours,
           old_ch,
           new_ch);
    hp_host_free(host);
  }
}

/* Two midi modules, the first following channel 8 alone, the second all:
   a chord on channel 1 takes a voice a note (the allocation asks every
   midi module whether a note is its own, not the first only, which once
   gave the second module's every voice the last note). */
static void
test_two_midi(const HpWorkerMode mode)
{
  static const char* const lines[]  = {"/patch/voices 8",
                                       "/patch/create z midi",
                                       "/patch/set z channel 8",
                                       "/patch/create m midi",
                                       "/patch/create o sine",
                                       "/patch/set o gain 0.1",
                                       "/patch/create e adsr",
                                       "/patch/set e attack 2",
                                       "/patch/set e decay 0",
                                       "/patch/set e sustain 1",
                                       "/patch/connect m o:freq",
                                       "/patch/connect m:gate e:gate",
                                       "/patch/connect o e",
                                       NULL};
  static const int         chord[3] = {60, 64, 67};
  HpHost* const            host     = fx_host(mode, 12);
  play_patch(host, lines);
  const uint64_t t = hp_host_frames(host) + MS(10);
  for (int k = 0; k < 3; ++k) {
    note_on(host, t + (uint64_t)k, chord[k]);
  }
  double db[3];
  for (int k = 0; k < 3; ++k) {
    db[k] = note_db(host, t + MS(50), MS(100), chord[k]);
  }
  EXPECT(one_voice(db[0], 0.1) && one_voice(db[1], 0.1) &&
           one_voice(db[2], 0.1),
         "%s, two midi modules (channel 8, all): a channel 1 chord at %.2f, "
         "%.2f, %.2f dB (one voice: %.2f)",
         fx_mode_name(mode),
         db[0],
         db[1],
         db[2],
         VOICE_DB);
  printf("# %s worker, two midi modules, the first on channel 8: a channel "
         "1 chord at %.2f, %.2f, %.2f dB, a voice each\n",
         fx_mode_name(mode),
         db[0],
         db[1],
         db[2]);
  hp_host_free(host);
}

/* A patch of 4 voices without glide, committed over one voice gliding
   100 ms (the midi module kept): its first note starts at its pitch (the
   voice that takes it carried the old state over, idle). */
static void
test_glide_carried(const HpWorkerMode mode)
{
  static const char* const glide[] = {
    "/patch/set m glide 100", "/patch/connect o e", NULL};
  HpHost* const host = fx_host(mode, 21);
  voice_patch(host, 1, 2.0, 0.0, 1.0, 20.0, glide);
  uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 57);
  note_off(host, t + MS(200), 57);
  run_to(host, t + MS(300));
  organ_patch(host, 4, 20.0);
  t = hp_host_frames(host) + MS(10);
  note_on(host, t, 69);
  note_off(host, t + MS(200), 69);
  const double f = hp_sig_freq(heard(host, t, MS(20)), MS(20), RATE);
  run_to(host, t + MS(300));
  EXPECT(fabs(f / 440.0 - 1.0) < 0.001,
         "%s: 4 voices without glide over 1 gliding: the first note's first "
         "20 ms at %.2f Hz, want 440",
         fx_mode_name(mode),
         f);
  printf("# %s worker: 4 voices without glide committed over 1 voice "
         "gliding 100 ms: the first note at %.3f Hz from its start\n",
         fx_mode_name(mode),
         f);
  hp_host_free(host);
}

/* One voice: last-note priority, with legato (no new attack while a note
   is held) and without (a new attack).  Attack 20 ms to 1, decay 20 ms to
   0.5: a new attack lifts the level 6 dB over the sustain. */
static void
test_legato(void)
{
  const double sustain = VOICE_DB - 20.0 * log10(2.0);
  for (int legato = 1; legato >= 0; --legato) {
    static const char* const on[]  = {"/patch/connect o e", NULL};
    static const char* const off[] = {
      "/patch/set m legato 0", "/patch/connect o e", NULL};
    HpHost* const host = fx_host(HP_WORKER_SYNC, 12);
    voice_patch(host, 1, 20.0, 20.0, 0.5, 100.0, legato ? on : off);
    const uint64_t t = hp_host_frames(host) + MS(10);
    note_on(host, t, 57);
    note_on(host, t + MS(100), 69);
    note_off(host, t + MS(200), 69);
    note_off(host, t + MS(300), 57);
    const double low =
      hp_sig_freq(heard(host, t + MS(50), MS(50)), MS(50), RATE);
    const double high =
      hp_sig_freq(heard(host, t + MS(110), MS(80)), MS(80), RATE);
    const double back =
      hp_sig_freq(heard(host, t + MS(210), MS(80)), MS(80), RATE);
    const double at_new  = note_db(host, t + MS(105), MS(20), 69);
    const double at_back = note_db(host, t + MS(205), MS(20), 57);
    const double gone    = peak_at(host, t + MS(400), MS(100));
    const bool   pitches = fabs(low / 220.0 - 1.0) < 0.001 &&
                         fabs(high / 440.0 - 1.0) < 0.001 &&
                         fabs(back / 220.0 - 1.0) < 0.001;
    EXPECT(pitches,
           "legato %d: %.3f Hz, then %.3f Hz, back to %.3f Hz (want 220, "
           "440, 220)",
           legato,
           low,
           high,
           back);
    EXPECT(legato ? fabs(at_new - sustain) < 0.1 : at_new > sustain + 4.0,
           "legato %d: the second note's first 20 ms at %.2f dB (sustain "
           "%.2f dB): %s",
           legato,
           at_new,
           sustain,
           legato ? "want no new attack" : "want a new attack");
    EXPECT(fabs(at_back - sustain) < 0.1 && gone == 0.0,
           "legato %d: back to the held note at %.2f dB (want %.2f, no "
           "attack); peak %.2g after the last release",
           legato,
           at_back,
           sustain,
           gone);
    printf("# 1 voice, legato %d: 220, %.3f, back to %.3f Hz (last-note "
           "priority); the second note's first 20 ms at %.2f dB against a "
           "sustain of %.2f dB (%s)\n",
           legato,
           high,
           back,
           at_new,
           sustain,
           legato ? "no new attack" : "a new attack");
    hp_host_free(host);
  }
}

/* A pitch track: the frequency of each period between rising zero
   crossings, at the period's middle (frames from x).  Returns how many. */
static size_t
pitch_track(const float* const x,
            const size_t       n,
            double* const      at,
            double* const      hz,
            const size_t       max)
{
  double prev  = -1.0;
  size_t count = 0;
  for (size_t i = 1; i < n && count < max; ++i) {
    if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
      const double c = (double)(i - 1) + (double)(x[i - 1] / (x[i - 1] - x[i]));
      if (prev >= 0.0) {
        at[count] = (prev + c) / 2.0;
        hz[count] = RATE / (c - prev);
        ++count;
      }
      prev = c;
    }
  }
  return count;
}

/* One voice, glide: from 57 (220 Hz) to 69 (440 Hz), linear in
   semitones: halfway (63, 311.13 Hz) at half the glide time, and 440 Hz
   from its end.  The pitch track is interpolated between periods. */
static void
test_glide(void)
{
  static const double times[] = {100.0, 300.0};
  for (size_t k = 0; k < 2; ++k) {
    char set[64];
    snprintf(set, sizeof(set), "/patch/set m glide %g", times[k]);
    const char* const extra[] = {set, "/patch/connect o e", NULL};
    HpHost* const     host    = fx_host(HP_WORKER_SYNC, 13);
    voice_patch(host, 1, 2.0, 0.0, 1.0, 20.0, extra);
    const uint64_t t  = hp_host_frames(host) + MS(10);
    const uint64_t t2 = t + MS(100);
    note_on(host, t, 57);
    note_on(host, t2, 69);
    note_off(host, t2 + MS(times[k] + 100.0), 69);
    note_off(host, t2 + MS(times[k] + 100.0), 57);
    const double halfway = note_hz(63);
    const double before =
      hp_sig_freq(heard(host, t2 - MS(50), MS(50)), MS(50), RATE);
    const double end =
      hp_sig_freq(heard(host, t2 + MS(times[k] + 5.0), MS(80)), MS(80), RATE);
    static double at[512], hz[512];
    const size_t  n =
      pitch_track(heard(host, t2, MS(times[k])), MS(times[k]), at, hz, 512);
    const double half = MS(times[k] / 2.0);
    double       mid  = 0.0;  /* the pitch at half the glide time */
    double       pass = -1.0; /* when it passes halfway, in ms */
    for (size_t i = 1; i < n; ++i) {
      if (at[i - 1] <= half && at[i] > half) {
        mid = hz[i - 1] +
              (hz[i] - hz[i - 1]) * (half - at[i - 1]) / (at[i] - at[i - 1]);
      }
      if (pass < 0.0 && hz[i - 1] < halfway && hz[i] >= halfway) {
        pass = (at[i - 1] + (at[i] - at[i - 1]) * (halfway - hz[i - 1]) /
                              (hz[i] - hz[i - 1])) /
               (RATE / 1000.0);
      }
    }
    run_to(host, t2 + MS(times[k] + 200.0));
    EXPECT(
      fabs(before / 220.0 - 1.0) < 0.001 && fabs(mid / halfway - 1.0) < 0.002 &&
        fabs(pass / times[k] - 0.5) < 0.01 && fabs(end / 440.0 - 1.0) < 0.001,
      "glide %g ms: %.3f Hz before, %.2f Hz at half of it (want "
      "%.2f), halfway passed at %.2f ms, %.3f Hz after it (want 440)",
      times[k],
      before,
      mid,
      halfway,
      pass,
      end);
    printf("# 1 voice, glide %g ms from 220 to 440 Hz: %.2f Hz at %g ms "
           "(halfway %.2f Hz), passed at %.2f ms; %.3f Hz from its end\n",
           times[k],
           mid,
           times[k] / 2.0,
           halfway,
           pass,
           end);
    hp_host_free(host);
  }
}

/* 4. Sets and macros on per-voice modules */

/* |H| in dB of the biquad lowpass (RBJ, Q 0.707) at `hz`, cutoff `fc`. */
static double
lowpass_db(const double hz, const double fc)
{
  const double w0 = 2.0 * PI * fc / RATE;
  const double al = sin(w0) / (2.0 * 0.707);
  const double c  = cos(w0);
  const double b0 = (1.0 - c) / 2.0, b1 = 1.0 - c, b2 = b0;
  const double a0 = 1.0 + al, a1 = -2.0 * c, a2 = 1.0 - al;
  const double w = 2.0 * PI * hz / RATE;
  /* |b0 + b1 z^-1 + b2 z^-2| / |a0 + a1 z^-1 + a2 z^-2| at z = e^jw */
  const double nr = b0 + b1 * cos(w) + b2 * cos(2.0 * w);
  const double ni = -b1 * sin(w) - b2 * sin(2.0 * w);
  const double dr = a0 + a1 * cos(w) + a2 * cos(2.0 * w);
  const double di = -a1 * sin(w) - a2 * sin(2.0 * w);
  return 10.0 * log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/* A chord on 8 voices through a per-voice lowpass f.  A live set of the
   sine's gain reaches every held voice and the idle ones (a note played
   after it); a macro on f's cutoff, committed with the notes held, moves
   every voice's filter. */
static void
test_sets_and_macros(const HpWorkerMode mode)
{
  static const char* const filter[] = {
    "/patch/create f biquad", "/patch/connect o f", "/patch/connect f e", NULL};
  static const int notes[] = {60, 64, 67};
  HpHost* const    host    = fx_host(mode, 14);
  voice_patch(host, 8, 2.0, 0.0, 1.0, 50.0, filter);
  uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 3; ++i) {
    note_on(host, t, notes[i]);
  }
  run_to(host, t + MS(20));

  /* Each step: what every note should be at, in dB over one voice. */
  double worst[3] = {0.0, 0.0, 0.0};
  for (int step = 0; step < 3; ++step) {
    double gain_db = 0.0;
    double fc      = 1000.0;
    if (step == 0) {
      fx_send(host, next_seq, "/patch/set o gain 0.05");
      fx_acked(host, next_seq++, "set o gain");
      gain_db = -20.0 * log10(2.0);
    } else {
      if (step == 1) {
        fx_send(host, -1, "/patch/macro 1 f:cutoff 100 4000 exp");
        fx_send(host, next_seq, "/patch/commit crossfade=0");
        fx_acked(host, next_seq++, "commit of the macro");
      }
      CHECK(!hp_host_set_control(host, "macro1", step == 1 ? 0.0f : 1.0f));
      fc      = step == 1 ? 100.0 : 4000.0;
      gain_db = -20.0 * log10(2.0);
    }
    t = hp_host_frames(host) + MS(50);
    for (int i = 0; i < 3; ++i) {
      const double want =
        VOICE_DB + gain_db + lowpass_db(note_hz(notes[i]), fc);
      const double db = note_db(host, t, MS(200), notes[i]);
      worst[step]     = fmax(worst[step], fabs(db - want));
      EXPECT(fabs(db - want) < 0.1,
             "%s, step %d (gain %.2f dB, cutoff %g Hz): note %d at %.2f "
             "dB, want %.2f",
             fx_mode_name(mode),
             step,
             gain_db,
             fc,
             notes[i],
             db,
             want);
    }
  }
  /* A voice that was idle during the set plays by it too. */
  note_on(host, hp_host_frames(host), 72);
  t                 = hp_host_frames(host) + MS(20);
  const double late = note_db(host, t, MS(200), 72);
  const double want =
    VOICE_DB - 20.0 * log10(2.0) + lowpass_db(note_hz(72), 4000.0);
  EXPECT(fabs(late - want) < 0.1,
         "%s: a note played after the set: %.2f dB, want %.2f",
         fx_mode_name(mode),
         late,
         want);
  printf("# %s worker, chord of 3 on 8 voices: a live set of the per-voice "
         "sine's gain moves every note (within %.3f dB of -6.02), a macro "
         "on the per-voice filter's cutoff (100 Hz, 4 kHz) every note "
         "(within %.3f, %.3f dB of the filter's response); a later note "
         "plays by the set\n",
         fx_mode_name(mode),
         worst[0],
         worst[1],
         worst[2]);
  hp_host_free(host);
}

/* `sum` adds the voices into one shared signal: the voice chain and a
   shared 1 kHz sine d (through a per-voice vca at the note's velocity)
   into sum s, then a shared lowpass f (1 kHz).  Each note comes out once,
   at one voice's level through f; d comes out once per sounding voice,
   scaled by its velocity (a shared signal reaches every voice); nothing
   sounds before a note. */
static void
test_sum(void)
{
  static const char* const lines[] = {"/patch/create d sine",
                                      "/patch/set d freq 1000",
                                      "/patch/set d gain 0.1",
                                      "/patch/create v vca",
                                      "/patch/connect d v",
                                      "/patch/connect m:velocity v:gain",
                                      "/patch/create s sum",
                                      "/patch/connect o e",
                                      "/patch/connect e s",
                                      "/patch/connect v s",
                                      "/patch/create f biquad",
                                      "/patch/connect s f",
                                      NULL};
  static const int         notes[] = {60, 64, 67};
  static const int         vels[]  = {127, 64, 32};
  HpHost* const            host    = fx_host(HP_WORKER_SYNC, 20);
  voice_patch(host, 8, 2.0, 0.0, 1.0, 20.0, lines);
  const uint64_t t = hp_host_frames(host) + MS(100);
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_note_on(host, t, (uint8_t)notes[i], (uint8_t)vels[i]));
    note_off(host, t + MS(300), notes[i]);
  }
  const double before = peak_at(host, t - MS(90), MS(90));
  double       worst  = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double db   = note_db(host, t + MS(20), MS(250), notes[i]);
    const double want = VOICE_DB + lowpass_db(note_hz(notes[i]), 1000.0);
    worst             = fmax(worst, fabs(db - want));
    EXPECT(fabs(db - want) < 0.1,
           "through sum: note %d at %.2f dB, want %.2f",
           notes[i],
           db,
           want);
  }
  const double shared =
    hp_sig_goertzel_db(heard(host, t + MS(20), MS(250)), MS(250), RATE, 1000.0);
  const double want_shared =
    20.0 * log10(0.1 * (127 + 64 + 32) / 127.0) + lowpass_db(1000.0, 1000.0);
  const double after = peak_at(host, t + MS(330), MS(100));
  /* After: the shared filter's own tail, far below a voice. */
  EXPECT(before == 0.0 && fabs(shared - want_shared) < 0.1 && after < 1e-6,
         "through sum: peak %.2g before the chord; the shared 1 kHz at %.2f "
         "dB (want %.2f, once per voice by velocity); peak %.2g after it",
         before,
         shared,
         want_shared,
         after);
  printf("# sum of 8 voices into a shared lowpass: each note once, within "
         "%.3f dB of one voice through it; a shared sine through each "
         "voice's vca at %.2f dB (want %.2f: 3 voices by velocity); silent "
         "without notes\n",
         worst,
         shared,
         want_shared);
  hp_host_free(host);
}

/* A live set while every voice is idle: the next chord starts at the set
   value, in every voice (a set glides only while a voice renders).
   Octaves, measured over 10 ms from the end of the 2 ms attack. */
static void
test_set_while_idle(const HpWorkerMode mode)
{
  static const int notes[] = {60, 72, 84, 96};
  HpHost* const    host    = fx_host(mode, 19);
  organ_patch(host, 4, 20.0);
  uint64_t t = hp_host_frames(host) + MS(10);
  for (int i = 0; i < 4; ++i) {
    note_on(host, t, notes[i]);
    note_off(host, t + MS(50), notes[i]);
  }
  run_to(host, t + MS(150));
  fx_send(host, next_seq, "/patch/set o gain 0.05");
  fx_acked(host, next_seq++, "set o gain");
  t = hp_host_frames(host) + MS(100);
  for (int i = 0; i < 4; ++i) {
    note_on(host, t, notes[i]);
    note_off(host, t + MS(100), notes[i]);
  }
  const double want  = VOICE_DB - 20.0 * log10(2.0);
  double       worst = 0.0;
  for (int i = 0; i < 4; ++i) {
    const double db = note_db(host, t + MS(2), MS(10), notes[i]);
    worst           = fmax(worst, fabs(db - want));
    EXPECT(fabs(db - want) < 0.5,
           "%s: gain set to 0.05 while idle, note %d's first 10 ms at "
           "%.2f dB, want %.2f",
           fx_mode_name(mode),
           notes[i],
           db,
           want);
  }
  run_to(host, t + MS(200));
  printf("# %s worker: a gain set while every voice is idle: the next "
         "chord's first 10 ms within %.2f dB of the set level in every "
         "voice\n",
         fx_mode_name(mode),
         worst);
  hp_host_free(host);
}

/* 5. The voice count in the protocol, state, documents and presets */

/* The patch:Get answer (hp:patch text), a new string. */
static char*
patch_text(HpHost* const host)
{
  return fx_get_text(host, next_seq++, "/patch/get", HP__patch);
}

/* Play `n` notes of a chord at once (held 300 ms) and count the pitches
   heard at one voice's level; the others must be absent.  With fewer
   voices than notes, the last pressed sound: the chord is pressed in
   order, 1 ms apart. */
static int
chord_voices(HpHost* const host, const int n)
{
  static const int notes[8] = {48, 52, 55, 60, 64, 67, 71, 74};
  const uint64_t   t        = hp_host_frames(host) + MS(10);
  for (int i = 0; i < n; ++i) {
    note_on(host, t + MS(1) * (uint64_t)i, notes[i]);
    note_off(host, t + MS(300), notes[i]);
  }
  int heard_n = 0;
  for (int i = 0; i < n; ++i) {
    const double db = note_db(host, t + MS(20), MS(250), notes[i]);
    EXPECT(one_voice(db, 0.3) || absent(db),
           "chord of %d: note %d at %.2f dB, neither a voice nor absent",
           n,
           notes[i],
           db);
    heard_n += one_voice(db, 0.3);
  }
  run_to(host, t + MS(400));
  return heard_n;
}

/* /patch/voices: 0 and 33 refused with an error saying the range; 8
   answered by patch:Get, and heard (a chord of 8); back to 1, patch:Get
   says nothing of voices (a mono patch reads as before), and a chord of 3
   plays its last note. */
static void
test_voices_message(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 15);
  for (int k = 0; k < 2; ++k) {
    const int seq = next_seq++;
    fx_send(host, seq, k ? "/patch/voices 33" : "/patch/voices 0");
    const HpHostEvent* r = fx_reply(host, seq);
    EXPECT(r && r->kind == HP_EV_ERROR && r->message &&
             strstr(r->message, "1 to 32"),
           "%s: /patch/voices %d answered %s",
           fx_mode_name(mode),
           k ? 33 : 0,
           !r           ? "nothing"
           : r->message ? r->message
                        : "an Ack");
    if (k && r && r->message) {
      printf("# %s worker: /patch/voices 33 refused: \"%s\"\n",
             fx_mode_name(mode),
             r->message);
    }
  }
  organ_patch(host, 8, 20.0);
  char* text = patch_text(host);
  EXPECT(strstr(text, "/patch/voices 8\n"),
         "%s: patch:Get after /patch/voices 8:\n%s",
         fx_mode_name(mode),
         text);
  free(text);
  const int eight = chord_voices(host, 8);
  organ_patch(host, 1, 20.0);
  text = patch_text(host);
  EXPECT(!strstr(text, "/patch/voices"),
         "%s: patch:Get of a mono patch:\n%s",
         fx_mode_name(mode),
         text);
  free(text);
  const int one = chord_voices(host, 3);
  EXPECT(eight == 8 && one == 1,
         "%s: a chord of 8 on 8 voices sounds %d notes, a chord of 3 on 1 "
         "voice %d",
         fx_mode_name(mode),
         eight,
         one);
  printf("# %s worker: /patch/voices 8 in patch:Get, a chord of 8 sounds "
         "%d notes; /patch/voices 1: none in patch:Get, a chord of 3 sounds "
         "%d\n",
         fx_mode_name(mode),
         eight,
         one);
  hp_host_free(host);
}

static char tmp_dir[] = "/tmp/hp_test_voices_XXXXXX";

/* Saved with 8 voices, restored into a fresh instance: 8 voices there
   (patch:Get says so, a chord of 8 sounds). */
static void
test_voices_state(const HpWorkerMode mode)
{
  HpHost* const a = fx_host(mode, 16);
  organ_patch(a, 8, 20.0);
  CHECK_MSG(!hp_host_save_state(a, tmp_dir), "%s", hp_host_last_error());
  char* const saved = hp_host_state_to_string(a);
  CHECK(saved);
  EXPECT(strstr(saved, "a hp:Voices ; hp:count 8"),
         "%s: the saved state has no hp:Voices 8:\n%s",
         fx_mode_name(mode),
         saved);
  free(saved);
  hp_host_free(a);

  HpHost* const b = fx_host(mode, 17);
  char          path[256];
  snprintf(path, sizeof(path), "%s/state.ttl", tmp_dir);
  hp_host_clear_events(b);
  CHECK_MSG(!hp_host_restore_state_file(b, path, 0),
            "restore: %s",
            hp_host_last_error());
  await_swap(b, "restore");
  char* const text = patch_text(b);
  const int   n    = chord_voices(b, 8);
  EXPECT(strstr(text, "/patch/voices 8\n") && n == 8,
         "%s: restored: a chord of 8 sounds %d notes; patch:Get:\n%s",
         fx_mode_name(mode),
         n,
         text);
  printf("# %s worker: state saved with 8 voices (hp:Voices 8), restored in "
         "a fresh instance: patch:Get %s it, a chord of 8 sounds %d notes\n",
         fx_mode_name(mode),
         strstr(text, "/patch/voices 8\n") ? "says" : "does not say",
         n);
  free(text);
  hp_host_free(b);
}

/* A patch document with the voice chain, with hp:Voices 8 or without. */
static void
write_document(const char* const path, const bool voices)
{
  FILE* const f = fopen(path, "w");
  CHECK(f);
  fprintf(f,
          "@prefix hp: <urn:hotpatch:ns#> .\n"
          "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 0 ;\n"
          " hp:scenes ( [ a hp:Scene ; hp:ops (\n"
          "%s"
          "  [ a hp:Create ; hp:module \"m\" ; hp:type \"midi\" ]\n"
          "  [ a hp:Create ; hp:module \"o\" ; hp:type \"sine\" ]\n"
          "  [ a hp:Set ; hp:module \"o\" ; hp:param \"gain\" ; hp:value "
          "0.1 ]\n"
          "  [ a hp:Create ; hp:module \"e\" ; hp:type \"adsr\" ]\n"
          "  [ a hp:Set ; hp:module \"e\" ; hp:param \"attack\" ; hp:value "
          "2.0 ]\n"
          "  [ a hp:Set ; hp:module \"e\" ; hp:param \"decay\" ; hp:value "
          "0.0 ]\n"
          "  [ a hp:Set ; hp:module \"e\" ; hp:param \"sustain\" ; hp:value "
          "1.0 ]\n"
          "  [ a hp:Set ; hp:module \"e\" ; hp:param \"release\" ; hp:value "
          "20.0 ]\n"
          "  [ a hp:Connect ; hp:source \"m:freq\" ; hp:dest \"o:freq\" ]\n"
          "  [ a hp:Connect ; hp:source \"m:gate\" ; hp:dest \"e:gate\" ]\n"
          "  [ a hp:Connect ; hp:source \"o:out\" ; hp:dest \"e:in\" ]\n"
          " ) ] ) .\n",
          voices ? "  [ a hp:Voices ; hp:count 8 ]\n" : "");
  CHECK(!fclose(f));
}

/* Load a patch document through hp:patchFile; wait for its swap. */
static void
load_document(HpHost* const host, const char* const path)
{
  const int seq = next_seq++;
  hp_host_clear_events(host);
  CHECK(!hp_host_send_patch_set_path(
    host, hp_host_frames(host), seq, HP__patchFile, path));
  fx_acked(host, seq, path);
  await_swap(host, path);
}

/* Patch documents: one with hp:Voices 8 plays a chord of 8; one without
   (format 1 as it was), loaded after it, plays one voice; so does a
   preset without it (Lead) loaded over an 8-voice patch. */
static void
test_voices_documents(const HpWorkerMode mode)
{
  char poly[256], mono[256];
  snprintf(poly, sizeof(poly), "%s/poly.ttl", tmp_dir);
  snprintf(mono, sizeof(mono), "%s/mono.ttl", tmp_dir);
  write_document(poly, true);
  write_document(mono, false);
  HpHost* const host = fx_host(mode, 18);
  load_document(host, poly);
  const int eight = chord_voices(host, 8);
  load_document(host, mono);
  const int one = chord_voices(host, 3);
  EXPECT(eight == 8 && one == 1,
         "%s: a document with hp:Voices 8 sounds %d notes of a chord of 8; "
         "one without, %d of 3",
         fx_mode_name(mode),
         eight,
         one);

  /* Lead: a monophonic preset of format 1, over 8 voices. */
  organ_patch(host, 8, 20.0);
  hp_host_clear_events(host);
  CHECK_MSG(!hp_host_load_preset(host, "urn:hotpatch:preset:lead", 0),
            "%s",
            hp_host_last_error());
  await_swap(host, "preset lead");
  const uint64_t t = hp_host_frames(host) + MS(10);
  note_on(host, t, 60);
  note_on(host, t + MS(50), 67);
  const double first = note_db(host, t + MS(150), MS(200), 60);
  const double last  = note_db(host, t + MS(150), MS(200), 67);
  note_off(host, t + MS(400), 60);
  note_off(host, t + MS(400), 67);
  run_to(host, t + MS(800));
  char* const text = patch_text(host);
  EXPECT(last > -30.0 && first < last - 50.0 && !strstr(text, "voices"),
         "%s: preset Lead over 8 voices, 60 then 67 held: 60 at %.1f dB, "
         "67 at %.1f dB (want 67 alone); patch:Get:\n%s",
         fx_mode_name(mode),
         first,
         last,
         text);
  free(text);
  printf("# %s worker: a document with hp:Voices 8 sounds %d notes of a "
         "chord of 8; without it, %d of 3; preset Lead (no hp:Voices) over "
         "8 voices: 60 then 67 held, 67 at %.1f dB, 60 at %.1f dB\n",
         fx_mode_name(mode),
         eight,
         one,
         last,
         first);
  hp_host_free(host);
}

int
main(void)
{
  test_chord(3);
  test_chord(8);
  test_chord32();
  test_staggered_release();
  test_stealing();
  test_retrigger();
  test_sustain_pedal();
  test_all_off();
  test_bend(HP_WORKER_SYNC);
  test_bend(HP_WORKER_THREADED);
  test_idle_voices();
  test_velocity();
  test_pressure();
  test_channel(HP_WORKER_SYNC);
  test_channel(HP_WORKER_THREADED);
  test_two_midi(HP_WORKER_SYNC);
  test_two_midi(HP_WORKER_THREADED);
  test_glide_carried(HP_WORKER_SYNC);
  test_glide_carried(HP_WORKER_THREADED);
  test_legato();
  test_glide();
  test_sets_and_macros(HP_WORKER_SYNC);
  test_sets_and_macros(HP_WORKER_THREADED);
  test_sum();
  test_set_while_idle(HP_WORKER_SYNC);
  test_set_while_idle(HP_WORKER_THREADED);
  CHECK(mkdtemp(tmp_dir));
  for (int k = 0; k < 2; ++k) {
    const HpWorkerMode mode = k ? HP_WORKER_THREADED : HP_WORKER_SYNC;
    test_voices_message(mode);
    test_voices_state(mode);
    test_voices_documents(mode);
  }
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
  CHECK(!system(cmd));
  return expect_summary("voices");
}
