/* The effect plugin (urn:hotpatch:fx) in the lilv test host: both plugins'
   ports sit at the indices plugin/uris.h names; the effect's default patch
   passes its inputs through bit for bit (separate and in-place buffers,
   many block sizes); `input -> biquad` filters as the cookbook says; its
   state restores its patch; the instrument refuses `input` and plays on;
   time:Position objects, hostile and malformed ones too, are read without
   a word and without a forbidden call in run(). */

#include "atoms.h"
#include "fixture.h"
#include "host.h"
#include "rtcheck.h"
#include "signal.h"

#include <lilv/lilv.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/time/time.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PI 3.14159265358979323846

static HpHost*
fx_effect(const HpWorkerMode mode, const bool in_place)
{
  return fx_host_cfg((HpHostConfig){
    .plugin_uri = HP_FX_URI, .worker_mode = mode, .in_place = in_place});
}

/* Uniform in [-scale, scale) from a 64-bit LCG: reproducible noise. */
static void
noise(float* const x, const size_t n, const float scale, uint64_t seed)
{
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = scale * ((float)(seed >> 40) / 8388608.0f - 1.0f);
  }
}

/* The index of every port symbol, for each plugin, from the bundle's
   Turtle: the one enum both the plugin and the TTL follow. */
static void
test_port_indices(void)
{
  static const struct {
    const char* symbol;
    uint32_t    index;
  } ports[] = {
    {"control", HP_PORT_CONTROL},
    {"notify", HP_PORT_NOTIFY},
    {"out_l", HP_PORT_OUT_L},
    {"out_r", HP_PORT_OUT_R},
    {"gain", HP_PORT_GAIN},
    {"crossfade", HP_PORT_CROSSFADE},
    {"scene", HP_PORT_SCENE},
    {"macro1", HP_PORT_MACRO1},
    {"macro8", HP_PORT_MACRO8},
    {"swaps", HP_PORT_SWAPS},
    {"prime_ms", HP_PORT_PRIME_MS},
    {"modules", HP_PORT_MODULES},
    {"in_l", HP_PORT_IN_L},
    {"in_r", HP_PORT_IN_R},
  };
  LilvWorld* const  world  = lilv_world_new();
  const char* const bundle = getenv("HP_BUNDLE");
  CHECK_MSG(bundle, "HP_BUNDLE is not set: run through ./waf test");
  char path[4096];
  snprintf(path, sizeof(path), "%s/", bundle);
  LilvNode* const bundle_uri = lilv_new_file_uri(world, NULL, path);
  lilv_world_load_bundle(world, bundle_uri);
  lilv_node_free(bundle_uri);
  const LilvPlugins* const all     = lilv_world_get_all_plugins(world);
  static const char* const uris[2] = {HP_PLUGIN_URI, HP_FX_URI};
  for (int k = 0; k < 2; ++k) {
    LilvNode* const         uri    = lilv_new_uri(world, uris[k]);
    const LilvPlugin* const plugin = lilv_plugins_get_by_uri(all, uri);
    const bool              fx     = k == 1;
    CHECK_MSG(plugin, "%s is not in the bundle", uris[k]);
    CHECK_MSG(lilv_plugin_get_num_ports(plugin) ==
                (fx ? (uint32_t)HP_N_PORTS : HP_N_SYNTH_PORTS),
              "%s has %u ports",
              uris[k],
              lilv_plugin_get_num_ports(plugin));
    for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); ++p) {
      LilvNode* const       symbol = lilv_new_string(world, ports[p].symbol);
      const LilvPort* const port =
        lilv_plugin_get_port_by_symbol(plugin, symbol);
      lilv_node_free(symbol);
      if (ports[p].index >= HP_N_SYNTH_PORTS && !fx) {
        CHECK_MSG(!port, "the instrument has a port %s", ports[p].symbol);
        continue;
      }
      CHECK_MSG(port && lilv_port_get_index(plugin, port) == ports[p].index,
                "%s: port %s is not at index %u",
                uris[k],
                ports[p].symbol,
                ports[p].index);
    }
    lilv_node_free(uri);
  }
  lilv_world_free(world);
  printf("# port indices: the instrument's %u and the effect's %u (in_l %u, "
         "in_r %u) are plugin/uris.h's\n",
         HP_N_SYNTH_PORTS,
         (unsigned)HP_N_PORTS,
         (unsigned)HP_PORT_IN_L,
         (unsigned)HP_PORT_IN_R);
}

/* The default patch: out_l and out_r are in_l and in_r, bit for bit, from
   the first frame, whatever the blocks, with the inputs in buffers of their
   own or in the outputs' (in place). */
static void
test_pass_through(void)
{
  static const HpBlockPolicy policies[] = {
    {HP_BLOCK_FIXED, 1, 0, 0},
    {HP_BLOCK_FIXED, 64, 0, 0},
    {HP_BLOCK_FIXED, 1000, 0, 0},
    {HP_BLOCK_FIXED, 4096, 0, 0},
    {HP_BLOCK_RANDOM, 0, 1, 4096},
  };
  const size_t n     = 48000;
  float* const in_l  = (float*)malloc(n * sizeof(float));
  float* const in_r  = (float*)malloc(n * sizeof(float));
  unsigned     cases = 0;
  CHECK(in_l && in_r);
  /* Louder than full scale: nothing clips or limits. */
  noise(in_l, n, 4.0f, 1);
  noise(in_r, n, 4.0f, 2);
  for (int in_place = 0; in_place <= 1; ++in_place) {
    for (size_t p = 0; p < sizeof(policies) / sizeof(policies[0]); ++p) {
      HpHost* const host = fx_effect(HP_WORKER_THREADED, in_place);
      CHECK(hp_host_has_port(host, "in_l") && hp_host_has_port(host, "in_r"));
      CHECK(!hp_host_set_input(host, in_l, in_r, n));
      const size_t frames = policies[p].size == 1 ? n / 8 : n;
      CHECK(!hp_host_render(host, frames, policies[p]));
      const float* const l = hp_host_out_l(host);
      const float* const r = hp_host_out_r(host);
      CHECK(hp_host_recorded(host) == frames);
      size_t first = frames;
      for (size_t i = 0; i < frames && first == frames; ++i) {
        if (memcmp(&l[i], &in_l[i], sizeof(float)) ||
            memcmp(&r[i], &in_r[i], sizeof(float))) {
          first = i;
        }
      }
      CHECK_MSG(first == frames,
                "%s, blocks %u (%s): frame %zu is %g, %g, the input %g, %g",
                in_place ? "in place" : "separate buffers",
                policies[p].size,
                policies[p].mode == HP_BLOCK_FIXED ? "fixed" : "random",
                first,
                (double)l[first],
                (double)r[first],
                (double)in_l[first],
                (double)in_r[first]);
      CHECK(hp_host_control_out(host, "modules") == 1.0f);
      CHECK_MSG(hp_host_log_count(host) == 0 &&
                  !hp_host_count_events(host, HP_EV_ERROR),
                "the effect said something on its own");
      hp_host_free(host);
      ++cases;
    }
  }
  printf("# default patch: %u runs (blocks of 1, 64, 1000, 4096 and random "
         "1..4096; separate and in-place buffers) pass noise at +12 dBFS "
         "through bit for bit from the first frame\n",
         cases);
  free(in_l);
  free(in_r);
}

/* A tone of `hz` at amplitude 0.5 into both inputs for 0.5 s; the gain of
   the effect (output RMS over input RMS) over the last 0.25 s, in dB. */
static double
tone_gain_db(HpHost* const host, const double hz)
{
  const size_t n = 24000;
  float        x[24000];
  for (size_t i = 0; i < n; ++i) {
    x[i] = 0.5f * (float)sin(2.0 * PI * hz * (double)i / RATE);
  }
  CHECK(!hp_host_set_input(host, x, x, n));
  const size_t start = hp_host_recorded(host);
  CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 512}));
  const float* const l = hp_host_out_l(host) + start + n / 2;
  const float* const r = hp_host_out_r(host) + start + n / 2;
  CHECK(hp_sig_finite(l, n / 2));
  CHECK_MSG(!memcmp(l, r, n / 2 * sizeof(float)),
            "a mono patch: both outputs the same");
  return 20.0 * log10(hp_sig_rms(l, n / 2) / hp_sig_rms(x + n / 2, n / 2));
}

/* The RBJ cookbook low-pass's gain at `hz`, in dB: |B(z) / A(z)| on the
   unit circle, z = e^jw. */
static double
cookbook_lowpass_db(const double cutoff, const double q, const double hz)
{
  const double w0    = 2.0 * PI * cutoff / RATE;
  const double alpha = sin(w0) / (2.0 * q);
  const double b[3]  = {
     (1.0 - cos(w0)) / 2.0, 1.0 - cos(w0), (1.0 - cos(w0)) / 2.0};
  const double a[3]   = {1.0 + alpha, -2.0 * cos(w0), 1.0 - alpha};
  const double w      = 2.0 * PI * hz / RATE;
  double       num_re = 0.0, num_im = 0.0, den_re = 0.0, den_im = 0.0;
  for (int k = 0; k < 3; ++k) {
    num_re += b[k] * cos(k * w);
    num_im -= b[k] * sin(k * w);
    den_re += a[k] * cos(k * w);
    den_im -= a[k] * sin(k * w);
  }
  return 10.0 * log10((num_re * num_re + num_im * num_im) /
                      (den_re * den_re + den_im * den_im));
}

static const char* const lowpass_patch[] = {"/patch/clear",
                                            "/patch/create in input",
                                            "/patch/create lp biquad",
                                            "/patch/set lp cutoff 1000",
                                            "/patch/set lp q 0.707",
                                            "/patch/connect in lp"};

/* input -> biquad low-pass at 1 kHz: a 100 Hz tone passes, a 10 kHz one
   is down by what the cookbook's formula says; the effect's state holds
   the patch, and a new instance restored from it filters the same. */
static void
test_lowpass_and_state(const HpWorkerMode mode)
{
  HpHost* host = fx_effect(mode, false);
  for (size_t i = 0; i < sizeof(lowpass_patch) / sizeof(lowpass_patch[0]);
       ++i) {
    fx_send(host, -1, lowpass_patch[i]);
  }
  fx_send(host, 1, "/patch/commit crossfade=0");
  fx_acked(host, 1, "the low-pass commit");
  const double want_low  = cookbook_lowpass_db(1000.0, 0.707, 100.0);
  const double want_high = cookbook_lowpass_db(1000.0, 0.707, 10000.0);
  const double low       = tone_gain_db(host, 100.0);
  const double high      = tone_gain_db(host, 10000.0);
  CHECK_MSG(fabs(low - want_low) < 0.05 && fabs(high - want_high) < 0.05,
            "input -> biquad lowpass 1 kHz: 100 Hz at %.2f dB (want %.2f), "
            "10 kHz at %.2f dB (want %.2f)",
            low,
            want_low,
            high,
            want_high);
  CHECK(hp_host_control_out(host, "modules") == 2.0f);

  char dir[] = "/tmp/hp_test_plugin_fx_XXXXXX";
  CHECK(mkdtemp(dir));
  CHECK(!hp_host_save_state(host, dir));
  hp_host_free(host);

  host = fx_effect(mode, false);
  char file[256];
  snprintf(file, sizeof(file), "%s/state.ttl", dir);
  CHECK_MSG(
    !hp_host_restore_state_file(host, file, 0), "%s", hp_host_last_error());
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  CHECK(!hp_host_send_patch_get(host, hp_host_frames(host), 2));
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  const HpHostEvent* ev = hp_host_find_event(host, HP_EV_PATCH_SET, 2);
  if (!ev) {
    ev = hp_host_run_until(host, HP_EV_PATCH_SET, 2, 256, 48000);
  }
  CHECK(ev && ev->value_string);
  CHECK_MSG(strstr(ev->value_string, "/patch/create in input\n") &&
              strstr(ev->value_string, "/patch/create lp biquad\n") &&
              strstr(ev->value_string, "/patch/connect in:out lp:in\n"),
            "the restored effect plays:\n%s",
            ev->value_string);
  const double restored = tone_gain_db(host, 10000.0);
  CHECK_MSG(fabs(restored - high) < 0.01,
            "restored: 10 kHz at %.2f dB, before the save %.2f dB",
            restored,
            high);
  CHECK(!hp_host_log_contains(host, "hotpatch: "));
  hp_host_free(host);
  unlink(file);
  char manifest[256];
  snprintf(manifest, sizeof(manifest), "%s/manifest.ttl", dir);
  unlink(manifest);
  rmdir(dir);
  printf("# %s worker: input -> biquad lowpass 1 kHz Q 0.707: 100 Hz at %.4f "
         "dB (cookbook %.4f), 10 kHz at %.3f dB (cookbook %.3f); state "
         "saved and restored into a new instance: 10 kHz at %.3f dB\n",
         fx_mode_name(mode),
         low,
         want_low,
         high,
         want_high,
         restored);
}

/* The instrument has no audio inputs: `/patch/create in input` is an error
   naming the effect, and what plays goes on; a preset of the effect
   restored into it is refused the same way. */
static void
test_synth_refuses_input(void)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 0);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create s sine");
  fx_send(host, -1, "/patch/set s freq 330");
  fx_send(host, -1, "/patch/set s gain 0.25");
  fx_send(host, 1, "/patch/commit crossfade=0");
  fx_acked(host, 1, "the sine's commit");
  CHECK(
    !hp_host_render(host, 4800, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const float swaps = hp_host_control_out(host, "swaps");

  fx_send(host, 2, "/patch/create in input");
  const HpHostEvent* const ev = fx_reply(host, 2);
  CHECK_MSG(ev && ev->kind == HP_EV_ERROR && ev->message,
            "/patch/create in input on the instrument: %s",
            ev ? hp_host_event_kind_name(ev->kind) : "no answer");
  static const char* const want =
    "module type 'input' reads the audio inputs of the effect plugin "
    "(urn:hotpatch:fx); the instrument (urn:hotpatch:synth) has none: load "
    "the effect to process audio";
  CHECK_MSG(!strcmp(ev->message, want), "the error says: %s", ev->message);
  printf("# the instrument refuses `input`: \"%s\"\n", ev->message);

  /* A preset of the effect: refused, with the reason in the log. */
  CHECK(!hp_host_load_preset(host, "urn:hotpatch:preset:fx-tremolo", 0));
  CHECK_MSG(hp_host_log_contains(host, "(urn:hotpatch:fx); the instrument"),
            "restoring the effect's preset into the instrument logged no "
            "refusal");

  const size_t start = hp_host_recorded(host);
  CHECK(
    !hp_host_render(host, 24000, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 1024}));
  const float* const l   = hp_host_out_l(host) + start;
  const double       f   = hp_sig_freq(l, 24000, RATE);
  const double       rms = hp_sig_rms(l, 24000);
  CHECK_MSG(fabs(f - 330.0) < 0.2 && fabs(rms - 0.25 / sqrt(2.0)) < 0.002 &&
              hp_host_control_out(host, "swaps") == swaps,
            "after the refusals: %.3f Hz at RMS %.4f, swaps %g -> %g",
            f,
            rms,
            (double)swaps,
            (double)hp_host_control_out(host, "swaps"));
  printf("# the instrument plays on after refusing `input` and the effect's "
         "preset: %.2f Hz at RMS %.4f, no swap\n",
         f,
         rms);
  hp_host_free(host);
}

/* time:Position objects as hosts send them (tools/host), at the current
   frame. */
static const LV2_Atom*
forge_position(HpHost* const host, HpHostPosition p)
{
  p.frame = (int64_t)hp_host_frames(host);
  return hp_host_forge_position(host, &p);
}

/* The last property of a tempo-only position, to spoil. */
static LV2_Atom_Property_Body*
forge_tempo_spoiled(HpHost* const host)
{
  const LV2_Atom* const atom =
    forge_position(host, (HpHostPosition){.has_bpm = true, .bpm = 120.0f});
  const LV2_Atom_Property_Body* last = NULL;
  LV2_ATOM_OBJECT_FOREACH((const LV2_Atom_Object*)atom, prop)
  {
    last = prop;
  }
  CHECK(last && last->value.size == sizeof(float));
  return (LV2_Atom_Property_Body*)(uintptr_t)last;
}

/* Not well-formed: the tempo's size runs past the object. */
static const LV2_Atom*
forge_overrun(HpHost* const host)
{
  forge_tempo_spoiled(host)->value.size = 4096;
  return hp_host_forge_atom(host);
}

/* Not well-formed: the tempo is a string. */
static const LV2_Atom*
forge_bpm_as_string(HpHost* const host)
{
  forge_tempo_spoiled(host)->value.type = hp_host_uris(host)->atom_String;
  return hp_host_forge_atom(host);
}

/* What hp_atom_read_position() makes of well-formed, hostile and
   malformed objects. */
static void
test_read_position(void)
{
  HpHost* const       host = fx_effect(HP_WORKER_SYNC, false);
  const HpURIs* const u    = hp_host_uris(host);
  HpPosition          pos;

  const HpHostPosition jalv = {.has_bar           = true,
                               .has_bar_beat      = true,
                               .has_beats_per_bar = true,
                               .has_bpm           = true,
                               .has_speed         = true,
                               .bar               = 3,
                               .bar_beat          = 1.5f,
                               .beats_per_bar     = 3.0f,
                               .bpm               = 140.0f,
                               .speed             = 1.0f};
  CHECK(hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_position(host, jalv), &pos));
  CHECK_MSG(pos.beat == 10.5 && pos.bpm == 140.0f &&
              pos.beats_per_bar == 3.0f && pos.speed == 1.0f,
            "bar 3, beat 1.5 of 3, 140 bpm, rolling: beat %g, %g bpm, %g a "
            "bar, speed %g",
            pos.beat,
            (double)pos.bpm,
            (double)pos.beats_per_bar,
            (double)pos.speed);

  HpHostPosition with_beat = jalv;
  with_beat.has_beat       = true;
  with_beat.beat           = 1234.25;
  CHECK(hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_position(host, with_beat), &pos));
  CHECK_MSG(pos.beat == 1234.25, "time:beat given: beat %g", pos.beat);

  const HpHostPosition tempo_only = {.has_bpm = true, .bpm = 90.0f};
  CHECK(hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_position(host, tempo_only), &pos));
  CHECK(pos.bpm == 90.0f && isnan(pos.beat) && isnan(pos.beats_per_bar) &&
        isnan(pos.speed));

  HpHostPosition far = jalv;
  far.bar            = 1000000000000000000;
  CHECK(hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_position(host, far), &pos));
  CHECK_MSG(pos.beat == 3e18 + 1.5, "bar 1e18: beat %g", pos.beat);

  CHECK(!hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_bpm_as_string(host), &pos));
  CHECK(!hp_atom_read_position(
    u, (const LV2_Atom_Object*)forge_overrun(host), &pos));
  hp_host_free(host);
  printf("# time:Position read: bar 3 + 1.5 beats of 3 is beat 10.5; "
         "time:beat wins; missing fields NaN; bar 1e18 passed on (the "
         "engine ignores it); bpm as a string or a property past the object: "
         "not well-formed, ignored\n");
}

/* The effect passing noise through while the host's transport arrives
   mid-block, rolling, stopped, hostile and malformed: not a word, not a
   bit changed, no forbidden call in run(). */
static void
test_time_position(const HpWorkerMode mode)
{
  static const HpHostPosition sent[] = {
    {.has_bar           = true,
     .has_bar_beat      = true,
     .has_beats_per_bar = true,
     .has_bpm           = true,
     .has_speed         = true,
     .bar               = 0,
     .bar_beat          = 0.0f,
     .beats_per_bar     = 4.0f,
     .bpm               = 120.0f,
     .speed             = 1.0f},
    {.has_beat  = true,
     .has_bpm   = true,
     .has_speed = true,
     .beat      = 17.25,
     .bpm       = 93.5f,
     .speed     = 1.0f},
    {.has_speed = true, .speed = 0.0f}, /* stopped */
    {.has_bpm = true, .bpm = 0.0f},     /* hostile */
    {.has_bpm = true, .bpm = -5.0f},
    {.has_bpm = true, .bpm = NAN},
    {.has_bar           = true,
     .has_bar_beat      = true,
     .has_beats_per_bar = true,
     .bar               = 1000000000000000000,
     .bar_beat          = 2.0f,
     .beats_per_bar     = 4.0f},
    {.has_beats_per_bar = true, .beats_per_bar = 0.0f},
    {.has_speed = true, .speed = INFINITY},
    {.has_beat = true, .beat = -INFINITY},
  };
  const size_t  n_sent = sizeof(sent) / sizeof(sent[0]);
  HpHost* const host   = fx_effect(mode, true);
  const size_t  n      = 96000;
  float* const  in_l   = (float*)malloc(n * sizeof(float));
  float* const  in_r   = (float*)malloc(n * sizeof(float));
  CHECK(in_l && in_r);
  noise(in_l, n, 1.0f, 3);
  noise(in_r, n, 1.0f, 4);
  CHECK(!hp_host_set_input(host, in_l, in_r, n));
  hp_rt_reset();
  size_t objects = 0;
  while (hp_host_frames(host) + 1024 < n) {
    /* Two positions a block, at random frames in it. */
    for (int k = 0; k < 2; ++k) {
      const uint64_t at = hp_host_frames(host) + hp_host_random(host, 0, 255);
      /* ... or one of two that are not well-formed. */
      const size_t which = hp_host_random(host, 0, (uint32_t)n_sent + 1u);
      const LV2_Atom* const atom = which == n_sent ? forge_overrun(host)
                                   : which > n_sent
                                     ? forge_bpm_as_string(host)
                                     : forge_position(host, sent[which]);
      CHECK(!hp_host_send_atom(host, at, atom));
      ++objects;
    }
    CHECK(
      !hp_host_render(host, 256, (HpBlockPolicy){HP_BLOCK_RANDOM, 0, 1, 256}));
  }
  HpRtCounts counts;
  hp_rt_counts(&counts);
  const size_t frames = hp_host_recorded(host);
  CHECK_MSG(!memcmp(hp_host_out_l(host), in_l, frames * sizeof(float)) &&
              !memcmp(hp_host_out_r(host), in_r, frames * sizeof(float)),
            "the input did not pass through unchanged");
  CHECK_MSG(hp_host_log_count(host) == 0 && hp_host_n_events(host) == 0,
            "the effect said something: %zu log lines, %zu events",
            hp_host_log_count(host),
            hp_host_n_events(host));
  hp_rt_require_none(&counts);
  printf("# %s worker, in place: %zu time:Position objects mid-block "
         "(rolling, stopped, bpm 0, -5, NaN, bar 1e18, speed inf, malformed) "
         "over %zu frames: nothing logged or sent, the input passes through "
         "bit for bit, %llu forbidden calls in run()\n",
         fx_mode_name(mode),
         objects,
         frames,
         (unsigned long long)counts.total);
  hp_host_free(host);
  free(in_l);
  free(in_r);
}

int
main(void)
{
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(),
            "rtcheck linkage: %s",
            hp_rt_check_linkage());
  test_port_indices();
  test_pass_through();
  test_lowpass_and_state(HP_WORKER_THREADED);
  test_lowpass_and_state(HP_WORKER_SYNC);
  test_synth_refuses_input();
  test_read_position();
  test_time_position(HP_WORKER_THREADED);
  test_time_position(HP_WORKER_SYNC);
  return 0;
}
