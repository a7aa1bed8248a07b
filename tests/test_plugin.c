/* The plugin in the lilv test host: it instantiates, the default patch
   plays a note at the right pitch, every block size works, and a host
   without a worker gets a clear refusal. */

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* MIDI note 57 (A3, 220 Hz) through the default patch, with the filter
   opened low and unresonant by the macros so the fundamental dominates. */
static void
test_default_patch_note(const HpWorkerMode mode, const double rate)
{
  HpHost* host =
    fx_host_cfg((HpHostConfig){.worker_mode = mode, .sample_rate = rate});
  CHECK(hp_host_set_control(host, "macro1", 0.15f) == 0); /* ~205 Hz */
  CHECK(hp_host_set_control(host, "macro2", 0.0f) == 0);  /* q 0.5 */
  const HpBlockPolicy blocks = {HP_BLOCK_RANDOM, 0, 1, 4096};
  CHECK(!hp_host_render(host, 4800, blocks));
  const size_t silent_end = hp_host_recorded(host);
  CHECK(hp_sig_peak(hp_host_out_l(host), silent_end) == 0.0f);
  hp_host_note_on(host, hp_host_frames(host), 57, 100);
  CHECK(!hp_host_render(host, (uint64_t)rate, blocks));
  const float* l = hp_host_out_l(host) + silent_end;
  const size_t n = hp_host_recorded(host) - silent_end;
  /* Skip the attack and decay. */
  const size_t skip = (size_t)(0.3 * rate);
  const double f    = hp_sig_freq(l + skip, n - skip, rate);
  const double rms  = hp_sig_rms(l + skip, n - skip);
  CHECK_MSG(fabs(f - 220.0) < 0.2, "pitch %.4f Hz", f);
  CHECK_MSG(rms > 0.02 && rms < 1.0, "rms %f", rms);
  CHECK(hp_sig_finite(l, n));
  CHECK(!memcmp(hp_host_out_l(host),
                hp_host_out_r(host),
                hp_host_recorded(host) * sizeof(float)));
  /* Note off: the release (250 ms) ends in silence. */
  hp_host_note_off(host, hp_host_frames(host), 57);
  const size_t before_off = hp_host_recorded(host);
  CHECK(!hp_host_render(host, (uint64_t)(0.5 * rate), blocks));
  const double tail =
    hp_sig_rms(hp_host_out_l(host) + before_off + (size_t)(0.3 * rate),
               (size_t)(0.2 * rate));
  CHECK_MSG(tail < 1e-5, "rms after release %g", tail);
  CHECK(hp_host_control_out(host, "modules") == 4.0f);
  printf(
    "# default patch, %s worker, %.0f Hz: note 57 plays %.3f Hz at RMS %.3f\n",
    mode == HP_WORKER_SYNC ? "sync" : "threaded",
    rate,
    f,
    rms);
  hp_host_free(host);
}

/* Every block length from 1 to 8192 frames, in random order. */
static void
test_block_sizes(void)
{
  HpHost* host = fx_host_cfg((HpHostConfig){.max_block = 8192});
  hp_host_note_on(host, 0, 69, 100);
  const HpBlockPolicy blocks = {HP_BLOCK_RANDOM, 0, 1, 8192};
  CHECK(!hp_host_render(host, 48000 * 20, blocks));
  size_t         n_blocks = 0;
  const HpBlock* b        = hp_host_blocks(host, &n_blocks);
  uint32_t       lo = 8192, hi = 0;
  for (size_t i = 0; i < n_blocks; ++i) {
    lo = b[i].length < lo ? b[i].length : lo;
    hi = b[i].length > hi ? b[i].length : hi;
  }
  CHECK(lo == 1 && hi == 8192);
  const size_t n = hp_host_recorded(host);
  CHECK(n == 48000 * 20);
  CHECK(hp_sig_finite(hp_host_out_l(host), n));
  /* A held note never drops out, whatever the block boundaries. */
  const float* l = hp_host_out_l(host);
  for (size_t at = 4800; at + 4800 <= n; at += 4800) {
    CHECK_MSG(hp_sig_rms(l + at, 4800) > 0.01, "silent at frame %zu", at);
  }
  printf("# %zu blocks of 1..8192 frames: 20 s continuous, finite\n", n_blocks);
  hp_host_free(host);
}

/* Without work:schedule the plugin refuses, and says why in the host's log
   (the host quotes the plugin's last logged error after "plugin says: "):
   the message must name work:schedule, not merely the host noticing a
   missing feature.  Without a log feature too, it says so on stderr. */
static void
test_no_worker(void)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.worker_mode = HP_WORKER_NONE;
  HpHost* host    = hp_host_new(&cfg);
  CHECK(!host);
  const char* said = strstr(hp_host_last_error(), "plugin says: ");
  CHECK_MSG(
    said && strstr(said, "work:schedule"), "error: %s", hp_host_last_error());
  const char* host_part = strstr(said, "; required but not offered");
  printf("# no work:schedule: instantiation refused; %.*s\n",
         host_part ? (int)(host_part - said) : (int)strlen(said),
         said);

  /* No log either: the reason goes to stderr (captured here). */
  char      path[] = "/tmp/hp_test_plugin_stderr_XXXXXX";
  const int fd     = mkstemp(path);
  CHECK(fd >= 0);
  fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  CHECK(saved >= 0 && dup2(fd, STDERR_FILENO) >= 0);
  cfg.no_log = true;
  host       = hp_host_new(&cfg);
  fflush(stderr);
  CHECK(dup2(saved, STDERR_FILENO) >= 0);
  close(saved);
  char          text[1024] = "";
  const ssize_t len        = pread(fd, text, sizeof(text) - 1, 0);
  close(fd);
  unlink(path);
  text[len > 0 ? len : 0] = '\0';
  CHECK(!host);
  CHECK_MSG(
    strstr(text, "work:schedule"), "stderr without a log: \"%s\"", text);
}

/* patch:Get answers with the playing patch, which re-reads as itself. */
static void
test_patch_get(void)
{
  HpHost* host = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_send_patch_get(host, 0, 7));
  /* The block that carries the request wakes the worker; give it the time
     a real-time host would before looking for the answer. */
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, 5000));
  /* A quick worker answers within that very block (run() flushes after
     scheduling): look before running on. */
  const HpHostEvent* ev = hp_host_find_event(host, HP_EV_PATCH_SET, 7);
  if (!ev) {
    ev = hp_host_run_until(host, HP_EV_PATCH_SET, 7, 256, 48000);
  }
  CHECK(ev && ev->property && ev->value_string);
  CHECK_MSG(!strcmp(ev->property, HP__patch), "property %s", ev->property);
  static const char* const want[] = {
    "/patch/clear\n",
    "/patch/create midi midi\n",
    "/patch/create osc saw\n",
    "/patch/connect midi:freq osc:freq\n",
    "/patch/connect osc:out env:in\n",
    "/patch/macro 1 filt:cutoff 100 12000 exp\n"};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); ++i) {
    CHECK_MSG(strstr(ev->value_string, want[i]),
              "reply lacks %s:\n%s",
              want[i],
              ev->value_string);
  }
  printf("# patch:Get: the default patch in %zu bytes of text\n",
         strlen(ev->value_string));
  hp_host_free(host);
}

/* Render `frames` at blocks of 256 and return the last `tail` frames'
   RMS (left) and, if `freq` is not NULL, their pitch. */
static double
play(HpHost* const  host,
     const uint64_t frames,
     const size_t   tail,
     double* const  freq)
{
  CHECK(
    !hp_host_render(host, frames, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const float* l = hp_host_out_l(host) + hp_host_recorded(host) - tail;
  CHECK(hp_sig_finite(l, tail));
  if (freq) {
    *freq = hp_sig_freq(l, tail, 48000.0);
  }
  return hp_sig_rms(l, tail);
}

/* Control inputs beyond their declared ranges are clamped to them, and a
   value that is not finite is ignored: hosts may send either. */
static void
test_control_ranges(void)
{
  HpHost* host = fx_host(HP_WORKER_SYNC, 0);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create s1 sine");
  fx_send(host, -1, "/patch/set s1 gain 0.2");
  /* hp:Macro: macro 1 moves s1:freq over 200..800 Hz, linearly. */
  const HpURIs* const   u     = hp_host_uris(host);
  LV2_Atom_Forge* const forge = hp_host_forge(host);
  LV2_Atom_Forge_Frame  obj;
  lv2_atom_forge_object(forge, &obj, 0, u->hp_Macro);
  lv2_atom_forge_key(forge, u->hp_macro);
  lv2_atom_forge_int(forge, 1);
  lv2_atom_forge_key(forge, u->hp_target);
  lv2_atom_forge_string(forge, "s1:freq", 7);
  lv2_atom_forge_key(forge, u->hp_minimum);
  lv2_atom_forge_float(forge, 200.0f);
  lv2_atom_forge_key(forge, u->hp_maximum);
  lv2_atom_forge_float(forge, 800.0f);
  lv2_atom_forge_key(forge, u->hp_curve);
  lv2_atom_forge_string(forge, "lin", 3);
  lv2_atom_forge_pop(forge, &obj);
  CHECK(
    !hp_host_send_atom(host, hp_host_frames(host), hp_host_forge_atom(host)));
  fx_send(host, -1, "/patch/commit crossfade=0");
  CHECK(!hp_host_set_control(host, "macro1", 0.4f)); /* 440 Hz */
  double       f   = 0.0;
  const double ref = play(host, 24000, 9600, &f);
  CHECK_MSG(fabs(ref - 0.1414) < 0.002 && fabs(f - 440.0) < 0.5,
            "the sine plays %.3f Hz at RMS %.4f",
            f,
            ref);

  /* gain: -90..12 dB.  1000 dB plays as +12 dB, then 0 dB as 0 dB. */
  CHECK(!hp_host_set_control(host, "gain", 1000.0f));
  const double loud = play(host, 24000, 9600, NULL);
  CHECK(!hp_host_set_control(host, "gain", 0.0f));
  const double back = play(host, 24000, 9600, NULL);
  CHECK_MSG(fabs(loud / ref - 3.981) < 0.02 && fabs(back / ref - 1.0) < 0.01,
            "gain 1000 dB: RMS %.4f (want %.4f, +12 dB), then 0 dB: %.4f "
            "(want %.4f)",
            loud,
            ref * 3.981,
            back,
            ref);
  CHECK(!hp_host_set_control(host, "gain", -6.0f));
  const double half = play(host, 24000, 9600, NULL);
  CHECK(!hp_host_set_control(host, "gain", NAN));
  const double kept = play(host, 24000, 9600, NULL);
  CHECK_MSG(fabs(kept / half - 1.0) < 0.001 && fabs(half / ref - 0.501) < 0.005,
            "gain -6 dB: RMS %.4f, then NaN: %.4f",
            half,
            kept);
  CHECK(!hp_host_set_control(host, "gain", 0.0f));

  /* macro1: 0..1.  5 plays as 1 (800 Hz), -3 as 0 (200 Hz), NaN leaves
     it where it was. */
  static const float  pos[3]  = {5.0f, -3.0f, NAN};
  static const double want[3] = {800.0, 200.0, 200.0};
  double              got[3]  = {0.0, 0.0, 0.0};
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_set_control(host, "macro1", pos[i]));
    play(host, 24000, 9600, &got[i]);
    CHECK_MSG(fabs(got[i] - want[i]) < 0.5,
              "macro1 %g: %.3f Hz, want %.0f",
              (double)pos[i],
              got[i],
              want[i]);
  }
  printf("# controls clamped to their TTL ranges: gain 1000 dB plays at "
         "%+.2f dB, then 0 dB at %+.3f dB; gain NaN keeps %+.2f dB; macro1 5, "
         "-3, NaN: %.1f, %.1f, %.1f Hz\n",
         20.0 * log10(loud / ref),
         20.0 * log10(back / ref),
         20.0 * log10(kept / ref),
         got[0],
         got[1],
         got[2]);
  hp_host_free(host);

  /* scene: 0..7, NaN ignored (it used to select scene 1). */
  host = fx_host(HP_WORKER_SYNC, 0);
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:scenes", 0));
  CHECK(!hp_host_set_control(host, "scene", 1.0f));
  play(host, 48000, 24000, &f);
  CHECK_MSG(fabs(f - 330.0) < 0.5, "scene 1 (the second): %.3f Hz", f);
  CHECK(!hp_host_set_control(host, "scene", NAN));
  double nan_f = 0.0;
  play(host, 48000, 24000, &nan_f);
  CHECK(!hp_host_set_control(host, "scene", 99.0f));
  double high_f = 0.0;
  play(host, 48000, 24000, &high_f);
  /* 99 is scene 8 (index 7), which this bank of 3 lacks: refused, with
     the reason in the log. */
  const bool refused =
    hp_host_log_contains(host, "scene 8 is empty: the bank has 3 scenes");
  CHECK_MSG(fabs(nan_f - 330.0) < 0.5 && fabs(high_f - 330.0) < 0.5 && refused,
            "scene NaN: %.3f Hz (want 330, kept), scene 99: %.3f Hz (want 330 "
            "and \"scene 8 is empty\" logged: %s)",
            nan_f,
            high_f,
            refused ? "logged" : "not logged");
  printf("# scene 1 plays %.2f Hz; NaN keeps %.2f Hz; 99 is scene 8, empty "
         "in a bank of 3: refused, %.2f Hz plays on\n",
         f,
         nan_f,
         high_f);
  hp_host_free(host);
}

/* The first 20 ms after a note starts again at `frame` (absolute). */
static double
onset_rms(const HpHost* const host, const uint64_t frame)
{
  CHECK(frame + 960 <= hp_host_recorded_start(host) + hp_host_recorded(host));
  return hp_sig_rms(
    hp_host_out_l(host) + (frame - hp_host_recorded_start(host)), 960);
}

/* Back-to-back notes: a note-off and a note-on at the same frame (a
   sequencer's legato-free notes, a re-pressed key), or hp:Gate 1, 0, 1 in
   one frame, restart the envelope's attack as when one frame lies
   between them.  `gap` 0 or 1: frames between the off and the on. */
static double
retrigger_rms(const bool midi, const uint32_t gap)
{
  HpHost* host = fx_host(HP_WORKER_SYNC, 0);
  fx_send(host, -1, "/patch/clear");
  if (midi) {
    fx_send(host, -1, "/patch/create midi midi");
  }
  fx_send(host, -1, "/patch/create osc sine");
  fx_send(host, -1, "/patch/set osc gain 0.5");
  fx_send(host, -1, "/patch/create env adsr");
  fx_send(host, -1, "/patch/set env attack 5");
  fx_send(host, -1, "/patch/set env decay 200");
  fx_send(host, -1, "/patch/set env sustain 0.3");
  fx_send(host, -1, "/patch/set env release 250");
  fx_send(host, -1, "/patch/connect osc env");
  if (midi) {
    fx_send(host, -1, "/patch/connect midi:freq osc:freq");
    fx_send(host, -1, "/patch/connect midi:gate env:gate");
  }
  fx_send(host, -1, "/patch/commit crossfade=0");
  const uint64_t on = hp_host_frames(host) + 100;
  if (midi) {
    CHECK(!hp_host_note_on(host, on, 69, 100));
  } else {
    fx_send_at(host, on, -1, "/patch/gate env 1");
  }
  /* Sustaining after 1 s; off and on again mid-block. */
  const uint64_t off = on + 48000 + 77;
  if (midi) {
    CHECK(!hp_host_note_off(host, off, 69));
    CHECK(!hp_host_note_on(host, off + gap, 69, 100));
  } else {
    fx_send_at(host, off, -1, "/patch/gate env 0");
    fx_send_at(host, off + gap, -1, "/patch/gate env 1");
  }
  CHECK(!hp_host_render(
    host, 48000 * 2, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const double rms = onset_rms(host, off + gap);
  hp_host_free(host);
  return rms;
}

static void
test_retrigger(void)
{
  for (int midi = 1; midi >= 0; --midi) {
    const double apart    = retrigger_rms(midi, 1);
    const double together = retrigger_rms(midi, 0);
    /* Sustain 0.3 of a 0.5 sine: RMS 0.106 without a new attack. */
    CHECK_MSG(apart > 0.2 && fabs(together / apart - 1.0) < 0.02,
              "%s: first 20 ms after off and on in one frame: RMS %.4f; one "
              "frame apart: %.4f",
              midi ? "note-off + note-on" : "hp:Gate 1, 0, 1",
              together,
              apart);
    printf("# %s in one frame restarts the attack: first 20 ms RMS %.4f "
           "(%.4f with a frame between; sustain alone 0.106)\n",
           midi ? "note-off and note-on" : "hp:Gate 0 and 1",
           together,
           apart);
  }
}

int
main(void)
{
  test_default_patch_note(HP_WORKER_THREADED, 48000);
  test_default_patch_note(HP_WORKER_SYNC, 44100);
  test_default_patch_note(HP_WORKER_THREADED, 96000);
  test_block_sizes();
  test_no_worker();
  test_patch_get();
  test_control_ranges();
  test_retrigger();
  return 0;
}
