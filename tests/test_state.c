/* State: the patch bank survives save and restore, in a fresh instance,
   with and without a worker; broken state changes nothing audible. */

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Render 1 s and return the pitch of its second half. */
static double
pitch(HpHost* const host)
{
  CHECK(
    !hp_host_render(host, 48000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const size_t n = hp_host_recorded(host);
  return hp_sig_freq(hp_host_out_l(host) + n - 24000, 24000, 48000);
}

/* Run a block and let the worker answer (restores swap through it). */
/* A bank of two scenes: a 220 Hz sine (active), a 550 Hz triangle. */
static const char* const two_scene_bank =
  "@prefix hp: <urn:hotpatch:ns#> .\n"
  "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 0 ; hp:scenes (\n"
  " [ a hp:Scene ; hp:ops ( [ a hp:Create ; hp:module \"a\" ; hp:type "
  "\"sine\" ]\n"
  "   [ a hp:Set ; hp:module \"a\" ; hp:param \"freq\" ; hp:value 220.0 ] ) "
  "]\n"
  " [ a hp:Scene ; hp:ops ( [ a hp:Create ; hp:module \"b\" ; hp:type "
  "\"triangle\" ]\n"
  "   [ a hp:Set ; hp:module \"b\" ; hp:param \"freq\" ; hp:value 550.0 ] ) "
  "] ) .\n";

static void
settle(HpHost* const host)
{
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, 5000));
}

/* An error the plugin logged, or NULL. */
static const char*
logged_error(HpHost* const host, char* const buf, const size_t size)
{
  for (size_t i = 0; i < hp_host_log_count(host); ++i) {
    const char* type = hp_host_log_get(host, i, buf, size);
    if (type && strstr(type, "Error")) {
      return buf;
    }
  }
  return NULL;
}

/* The scene control and the scene that plays agree through preset loads,
   saves and reloads (the sequences, threaded worker as in jalv):
   presets set the control to their active scene, and after a restore a
   control that disagrees wins, quietly for a bank of one scene. */
static void
test_scene_agreement(const char* const dir)
{
  char state[512];
  snprintf(state, sizeof(state), "%s/state.ttl", dir);
  char error[512];

  /* Control on 1, load Scenes: its active scene 1 (220 Hz) plays and the
     control says so; saved and reloaded, the same. */
  HpHost* a = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_set_control(a, "scene", 1.0f));
  settle(a);
  CHECK(!hp_host_load_preset(a, "urn:hotpatch:preset:scenes", 0));
  settle(a);
  const double loaded  = pitch(a);
  const float  control = hp_host_control_in(a, "scene");
  CHECK(!hp_host_save_state(a, dir));
  HpHost* b = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_restore_state_file(b, state, 0));
  settle(b);
  const double reloaded = pitch(b);
  CHECK_MSG(
    fabs(loaded - 220.0) < 0.5 && control == 0.0f &&
      fabs(reloaded - 220.0) < 0.5,
    "control on 1, preset Scenes: %.2f Hz with the control on %g; saved "
    "and reloaded: %.2f Hz (want 220 Hz and the control on 0)",
    loaded,
    (double)control,
    reloaded);
  const char* said = logged_error(a, error, sizeof(error));
  said             = said ? said : logged_error(b, error, sizeof(error));
  CHECK_MSG(!said, "logged: %s", said);
  printf("# control on 1, preset Scenes: %.2f Hz, control %g; saved and "
         "reloaded: %.2f Hz\n",
         loaded,
         (double)control,
         reloaded);
  hp_host_free(b);
  hp_host_free(a);

  /* Control on 1, load Bass (one scene): no error, Bass plays (its 7
     modules, a note sounds); saved and reloaded, the same. */
  a = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_set_control(a, "scene", 1.0f));
  settle(a);
  CHECK(!hp_host_load_preset(a, "urn:hotpatch:preset:bass", 0));
  settle(a);
  CHECK(!hp_host_save_state(a, dir));
  b = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_restore_state_file(b, state, 0));
  settle(b);
  double level[2] = {0.0, 0.0};
  float  modules[2];
  for (int i = 0; i < 2; ++i) {
    HpHost* const h = i ? b : a;
    CHECK(!hp_host_note_on(h, hp_host_frames(h), 45, 100));
    CHECK(
      !hp_host_render(h, 24000, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    level[i] =
      hp_sig_rms(hp_host_out_l(h) + hp_host_recorded(h) - 12000, 12000);
    modules[i] = hp_host_control_out(h, "modules");
  }
  said = logged_error(a, error, sizeof(error));
  said = said ? said : logged_error(b, error, sizeof(error));
  CHECK_MSG(!said && modules[0] == 7.0f && modules[1] == 7.0f &&
              level[0] > 0.01 && fabs(level[1] / level[0] - 1.0) < 0.05,
            "control on 1, preset Bass: %g modules, RMS %.4f; reloaded: %g "
            "modules, RMS %.4f; logged: %s",
            (double)modules[0],
            level[0],
            (double)modules[1],
            level[1],
            said ? said : "nothing");
  printf("# control on 1, preset Bass (one scene): nothing logged, its 7 "
         "modules play a note at RMS %.3f, and %.3f saved and reloaded\n",
         level[0],
         level[1]);
  hp_host_free(b);
  hp_host_free(a);

  /* State without a control value (a host that restores none): the
     control wins over the bank's active scene, so they agree. */
  FILE* file = fopen(state, "w");
  CHECK(file);
  fprintf(file,
          "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
          "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
          "<> a state:State ; lv2:appliesTo <urn:hotpatch:synth> ;\n"
          " state:state [ <" HP__patchBank "> \"\"\"%s\"\"\" ] .\n",
          two_scene_bank);
  fclose(file);
  a = fx_host(HP_WORKER_THREADED, 0);
  CHECK(!hp_host_set_control(a, "scene", 1.0f));
  settle(a);
  CHECK(!hp_host_restore_state_file(a, state, 0));
  settle(a);
  const double f = pitch(a);
  CHECK_MSG(fabs(f - 550.0) < 0.5,
            "control on 1, a bank restored with scene 1 "
            "active and no control value: %.2f Hz (want 550, the control's)",
            f);
  printf("# control on 1, a two-scene bank restored without a control value: "
         "the control's scene plays, %.2f Hz\n",
         f);
  hp_host_free(a);
}

int
main(void)
{
  char dir[] = "/tmp/hp_test_state_XXXXXX";
  CHECK(mkdtemp(dir));

  HpHost* a = fx_host(HP_WORKER_THREADED, 0);
  fx_send(a, -1, "/patch/clear");
  fx_send(a, -1, "/patch/create osc1 sine");
  fx_send(a, -1, "/patch/set osc1 freq 330");
  fx_send(a, -1, "/patch/create filt1 biquad");
  fx_send(a, -1, "/patch/set filt1 mode highpass");
  fx_send(a, -1, "/patch/set filt1 cutoff 50");
  fx_send(a, -1, "/patch/connect osc1 filt1");
  fx_send(a, -1, "/patch/commit");
  CHECK(!hp_host_run(a, 256));
  CHECK(!hp_host_wait_worker(a, 5000));
  double f = pitch(a);
  CHECK_MSG(fabs(f - 330.0) < 0.1, "before save: %f", f);
  /* save() while the worker and run() go on is the host's business; here
     it runs between blocks. */
  CHECK(!hp_host_save_state(a, dir));
  char* text = hp_host_state_to_string(a);
  CHECK(text);
  for (const char* want = "hp:Create ; hp:module \\\"osc1\\\""; want;
       want             = NULL) {
    CHECK_MSG(strstr(text, "osc1") && strstr(text, "highpass") &&
                strstr(text, "PatchBank"),
              "saved state lacks the patch:\n%s",
              text);
    (void)want;
  }
  free(text);

  /* A fresh instance (plays the default patch) restored with a worker and
     without one (Ardour session load). */
  for (unsigned flags = 0; flags <= HP_RESTORE_NO_WORKER;
       flags += HP_RESTORE_NO_WORKER) {
    HpHost* b = fx_host(HP_WORKER_THREADED, 0);
    CHECK(!hp_host_restore_state(a, flags) || 1);
    char path[512];
    snprintf(path, sizeof(path), "%s/state.ttl", dir);
    CHECK_MSG(!hp_host_restore_state_file(b, path, flags),
              "restore: %s",
              hp_host_last_error());
    f = pitch(b);
    CHECK_MSG(fabs(f - 330.0) < 0.1,
              "after restore (%s worker): %f",
              flags ? "no" : "with a",
              f);
    CHECK(hp_host_control_out(b, "modules") == 2.0f);
    printf("# state restored %s a worker: 330 Hz tone back at %.3f Hz\n",
           flags ? "without" : "with",
           f);
    hp_host_free(b);
  }

  /* Broken state: an error in the log, the playing patch goes on. */
  char path[512];
  snprintf(path, sizeof(path), "%s/state.ttl", dir);
  FILE* file = fopen(path, "r");
  CHECK(file);
  static char  saved[1 << 16];
  const size_t len = fread(saved, 1, sizeof(saved) - 1, file);
  fclose(file);
  saved[len] = '\0';
  char* at   = strstr(saved, "hp:formatVersion 1");
  CHECK_MSG(at, "no format version in:\n%s", saved);
  at[strlen("hp:formatVersion ")] = '9';
  file                            = fopen(path, "w");
  CHECK(file && fwrite(saved, 1, len, file) == len);
  fclose(file);
  HpHost* c = fx_host(HP_WORKER_THREADED, 0);
  fx_send(c, -1, "/patch/clear");
  fx_send(c, -1, "/patch/create osc1 sine");
  fx_send(c, -1, "/patch/commit");
  CHECK(!hp_host_run(c, 256));
  CHECK(!hp_host_wait_worker(c, 5000));
  hp_host_restore_state_file(c, path, 0);
  CHECK(
    hp_host_log_contains(c, "format version 9; this hotpatch reads version 1"));
  f = pitch(c);
  CHECK_MSG(fabs(f - 440.0) < 0.1, "after a refused restore: %f", f);
  printf("# state from a future format version: refused, the 440 Hz patch "
         "plays on\n");
  hp_host_free(c);

  /* Scenes: a two-scene bank restored, then the scene control moved. */
  HpHost* d = fx_host(HP_WORKER_THREADED, 0);
  snprintf(path, sizeof(path), "%s/bank.ttl", dir);
  file = fopen(path, "w");
  CHECK(file);
  fprintf(file,
          "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n"
          "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
          "<> a state:State ; lv2:appliesTo <urn:hotpatch:synth> ;\n"
          " state:state [ <" HP__patchBank "> \"\"\"%s\"\"\" ] .\n",
          two_scene_bank);
  fclose(file);
  CHECK_MSG(!hp_host_restore_state_file(d, path, 0),
            "restore: %s",
            hp_host_last_error());
  f = pitch(d);
  CHECK_MSG(fabs(f - 220.0) < 0.1, "scene 1: %f", f);
  CHECK(!hp_host_set_control(d, "scene", 1.0f));
  CHECK(!hp_host_run(d, 256));
  CHECK(!hp_host_wait_worker(d, 5000));
  f = pitch(d);
  CHECK_MSG(fabs(f - 550.0) < 0.2, "scene 2: %f", f);
  const float swaps = hp_host_control_out(d, "swaps");
  CHECK(!hp_host_set_control(d, "scene", 5.0f)); /* empty: refused */
  CHECK(!hp_host_run(d, 256));
  CHECK(!hp_host_wait_worker(d, 5000));
  f = pitch(d);
  CHECK_MSG(fabs(f - 550.0) < 0.2, "after selecting an empty scene: %f", f);
  CHECK(hp_host_log_contains(d, "scene 6 is empty: the bank has 2 scenes"));
  CHECK(hp_host_control_out(d, "swaps") == swaps);
  printf("# scenes: 220 Hz scene 1, scene control to 2: 550 Hz; an empty scene "
         "refused in the log, the patch plays on\n");
  hp_host_free(d);

  /* Macros follow the host's controls along their range and curve, and
     survive a save and restore. */
  HpHost* m = fx_host(HP_WORKER_THREADED, 0);
  fx_send(m, -1, "/patch/clear");
  fx_send(m, -1, "/patch/create tone sine");
  const HpURIs* u = hp_host_uris(m);
  for (int i = 0; i < 2; ++i) {
    LV2_Atom_Forge*      forge = hp_host_forge(m);
    LV2_Atom_Forge_Frame obj;
    lv2_atom_forge_object(forge, &obj, 0, u->hp_Macro);
    lv2_atom_forge_key(forge, u->hp_macro);
    lv2_atom_forge_int(forge, i ? 4 : 3);
    lv2_atom_forge_key(forge, u->hp_target);
    lv2_atom_forge_string(forge, i ? "tone:gain" : "tone:freq", 9);
    lv2_atom_forge_key(forge, u->hp_minimum);
    lv2_atom_forge_float(forge, i ? 0.0f : 100.0f);
    lv2_atom_forge_key(forge, u->hp_maximum);
    lv2_atom_forge_float(forge, i ? 0.5f : 1000.0f);
    lv2_atom_forge_key(forge, u->hp_curve);
    lv2_atom_forge_string(forge, i ? "lin" : "exp", 3);
    lv2_atom_forge_pop(forge, &obj);
    CHECK(!hp_host_send_atom(m, hp_host_frames(m), hp_host_forge_atom(m)));
  }
  fx_send(m, -1, "/patch/commit");
  static const float  positions[] = {0.0f, 0.5f, 1.0f};
  static const double freqs[]     = {100.0, 316.2278, 1000.0};
  static const double gains[]     = {0.0, 0.25, 0.5};
  for (int i = 0; i < 3; ++i) {
    CHECK(!hp_host_set_control(m, "macro3", positions[i]));
    CHECK(!hp_host_set_control(
      m, "macro4", positions[2 - i] > 0.0f ? positions[2 - i] : 0.5f));
    CHECK(!hp_host_run(m, 256));
    CHECK(!hp_host_wait_worker(m, 5000));
    f = pitch(m);
    CHECK_MSG(fabs(f - freqs[i]) < 0.1,
              "macro3 at %.1f: %.3f Hz",
              (double)positions[i],
              f);
    const size_t n   = hp_host_recorded(m);
    const double rms = hp_sig_rms(hp_host_out_l(m) + n - 24000, 24000);
    const double g   = positions[2 - i] > 0.0f ? gains[2 - i] : gains[1];
    CHECK_MSG(fabs(rms - g / sqrt(2.0)) < 0.005,
              "macro4: RMS %.4f, want %.4f",
              rms,
              g / sqrt(2.0));
  }
  CHECK(!hp_host_save_state(m, dir));
  text = hp_host_state_to_string(m);
  CHECK_MSG(
    text && strstr(text,
                   "[ a hp:Macro ; hp:macro 3 ; hp:target \"tone:freq\" ; "
                   "hp:minimum 100.0 ; hp:maximum 1000.0 ; hp:curve \"exp\" ]"),
    "%s",
    text ? text : "(none)");
  free(text);
  printf(
    "# macros: macro 3 sweeps 100..1000 Hz exponentially (316.23 Hz at 0.5), "
    "macro 4 the gain linearly; saved in the state\n");
  hp_host_free(m);
  hp_host_free(a);
  test_scene_agreement(dir);
  snprintf(path, sizeof(path), "rm -rf '%s'", dir);
  CHECK(!system(path));
  return 0;
}
