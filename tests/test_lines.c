/*
  Delay lines and loops in the graph (DESIGN 3b), judged by what is heard,
  through the lilv test host with a synchronous worker (a host's export)
  and a threaded one (jalv):

  - echoes ring on through a swap that keeps the delay: each echo after
    the swap at the level it has without the swap (crossfaded swap, swap
    without crossfade, tail commit: never doubled);
  - a delay whose memory changes size (`max`) starts empty: the old echoes
    fade out with the crossfade;
  - a loop through a delay's `wet` output plays its echoes at the loop's
    time and gain, like the delay's own feedback; any other cycle, and a
    loop through the mixed `out`, are refused with a reason;
  - a delay's `beats` follows the host's tempo (time:Position) through
    the plugin;
  - a stereo module (pan) reaches the two sides as a pair.
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"
#include "uris.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MS(x) ((uint64_t)((double)(x) * (RATE / 1000.0) + 0.5))
#define HZ 1000.0

static const HpBlockPolicy random_blocks = {HP_BLOCK_RANDOM, 0, 1, 4096};

/* dB of the 1 kHz burst over `ms_len` ms from `ms_at` ms after `start`. */
static double
burst_db(HpHost* const  host,
         const uint64_t start,
         const double   ms_at,
         const double   ms_len)
{
  const uint64_t from = start + MS(ms_at) - hp_host_recorded_start(host);
  CHECK(from + MS(ms_len) <= hp_host_recorded(host));
  return hp_sig_goertzel_db(hp_host_out_l(host) + from, MS(ms_len), RATE, HZ);
}

/* Commit `lines` (';'-separated) with `options` as one transaction, and
   wait for its ack. */
static void
commit(HpHost* const host, const char* const lines, const char* const options)
{
  static int seq = 1;
  char       buf[2048];
  snprintf(buf, sizeof(buf), "%s", lines);
  for (char* line = strtok(buf, ";"); line; line = strtok(NULL, ";")) {
    fx_send(host, seq, line);
    fx_acked(host, seq++, line);
  }
  char c[128];
  snprintf(c, sizeof(c), "/patch/commit %s", options);
  fx_send(host, seq, c);
  fx_acked(host, seq++, c);
}

/* The effects whose memory rings through a swap, wet only: module `d`,
   fed by `src`. */
static const char* const delay_300 =
  "/patch/create d delay;/patch/set d time 300;/patch/set d feedback 0.5;"
  "/patch/set d mix 1";
static const char* const reverb_2s =
  "/patch/create d reverb;/patch/set d decay 2;/patch/set d mix 1";
static const char* const chorus_3 = "/patch/create d chorus;/patch/set d mix 1";

/* A 50 ms burst of 1 kHz into `effect` (a tone from then on when `hold`);
   then, 100 ms after the burst, the change `change` (none when NULL),
   committed with `options`.  Returns where the burst began. */
static uint64_t
effect_run(HpHost* const     host,
           const char* const effect,
           const bool        hold,
           const char* const change,
           const char* const options)
{
  char lines[1024];
  snprintf(lines,
           sizeof(lines),
           "/patch/clear;/patch/create src sine;/patch/set src freq 1000;"
           "/patch/set src gain 0;%s;/patch/connect src d",
           effect);
  commit(host, lines, "");
  CHECK(!hp_host_render(host, MS(100), random_blocks));
  hp_host_discard_output(host);
  const uint64_t start = hp_host_frames(host);
  fx_send(host, -1, "/patch/set src gain 0.5");
  CHECK(!hp_host_render(host, MS(50), random_blocks));
  if (!hold) {
    fx_send(host, -1, "/patch/set src gain 0");
  }
  CHECK(!hp_host_render(host, MS(100), random_blocks));
  if (change) {
    commit(host, change, options);
  }
  CHECK(!hp_host_render(
    host, start + MS(1000) - hp_host_frames(host), random_blocks));
  return start;
}

static void
test_echo_through_swaps(const HpWorkerMode mode)
{
  HpHost* const  ref   = fx_host(mode, 11);
  const uint64_t r0    = effect_run(ref, delay_300, false, NULL, "");
  const double   ref_1 = burst_db(ref, r0, 310, 40);
  const double   ref_2 = burst_db(ref, r0, 610, 40);
  /* The echoes are there: the burst's level (a 0.5 sine, -6 dB), then 6 dB
     less. */
  CHECK_MSG(fabs(ref_1 + 6.02) < 0.2, "first echo at %.2f dB", ref_1);
  CHECK_MSG(fabs(ref_2 - ref_1 + 6.02) < 0.2, "second echo %.2f", ref_2);
  hp_host_free(ref);

  static const struct {
    const char* name;
    const char* change;
    const char* options;
  } swaps[] = {
    {"crossfaded swap", "/patch/create n lfo", "crossfade=20"},
    {"swap without crossfade", "/patch/create n lfo", "crossfade=0"},
    {"tail commit", "/patch/create n lfo", "tail"},
  };
  for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); ++i) {
    HpHost* const  h = fx_host(mode, 11);
    const uint64_t t0 =
      effect_run(h, delay_300, false, swaps[i].change, swaps[i].options);
    const double e1 = burst_db(h, t0, 310, 40);
    const double e2 = burst_db(h, t0, 610, 40);
    printf("# %s, %s: echoes %.3f, %.3f dB (without the swap %.3f, %.3f)\n",
           fx_mode_name(mode),
           swaps[i].name,
           e1,
           e2,
           ref_1,
           ref_2);
    CHECK_MSG(fabs(e1 - ref_1) < 0.1 && fabs(e2 - ref_2) < 0.1,
              "%s: the echoes changed level through the swap",
              swaps[i].name);
    hp_host_free(h);
  }

  /* A new size is a new, empty line: the old echoes fade out with the
     crossfade instead of ringing on. */
  HpHost* const  h  = fx_host(mode, 11);
  const uint64_t t0 = effect_run(h,
                                 delay_300,
                                 false,
                                 "/patch/set d max 6;/patch/create n lfo",
                                 "crossfade=20");
  const double   e1 = burst_db(h, t0, 310, 40);
  printf("# %s, memory resized: first echo %.1f dB\n", fx_mode_name(mode), e1);
  CHECK_MSG(e1 < ref_1 - 60.0, "a resized line kept its echo: %.1f dB", e1);
  hp_host_free(h);
}

/* dB (RMS, both sides) of `ms_len` ms from `ms_at` ms after `start`. */
static double
rms_db(HpHost* const  host,
       const uint64_t start,
       const double   ms_at,
       const double   ms_len)
{
  const uint64_t from = start + MS(ms_at) - hp_host_recorded_start(host);
  CHECK(from + MS(ms_len) <= hp_host_recorded(host));
  const double l = hp_sig_rms(hp_host_out_l(host) + from, MS(ms_len));
  const double r = hp_sig_rms(hp_host_out_r(host) + from, MS(ms_len));
  return 10.0 * log10(0.5 * (l * l + r * r) + 1e-30);
}

/* A reverb's tail and a chorus's voices go on through a swap that keeps
   them as they would without it: the same level in each window after. */
static void
test_tails_through_swaps(const HpWorkerMode mode)
{
  static const struct {
    const char* name;
    const char* effect;
    bool        hold;
    double      from_ms, to_ms; /* what is measured after the swap */
  } cases[] = {
    {"reverb (2 s)", reverb_2s, false, 200.0, 1000.0},
    {"chorus", chorus_3, true, 200.0, 1000.0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    HpHost* const  ref = fx_host(mode, 14);
    const uint64_t r0 =
      effect_run(ref, cases[i].effect, cases[i].hold, NULL, "");
    HpHost* const  h  = fx_host(mode, 14);
    const uint64_t t0 = effect_run(
      h, cases[i].effect, cases[i].hold, "/patch/create n lfo", "crossfade=20");
    double worst = 0.0;
    for (double at = cases[i].from_ms; at < cases[i].to_ms; at += 20.0) {
      const double a = rms_db(ref, r0, at, 20.0);
      const double b = rms_db(h, t0, at, 20.0);
      CHECK_MSG(a > -80.0, "%s: silent at %.0f ms", cases[i].name, at);
      worst = fmax(worst, fabs(a - b));
    }
    printf("# %s, %s through a crossfaded swap: level within %.4f dB of "
           "the same without the swap, 20 ms windows %.0f..%.0f ms\n",
           fx_mode_name(mode),
           cases[i].name,
           worst,
           cases[i].from_ms,
           cases[i].to_ms);
    CHECK_MSG(worst < 0.1, "%s: %.3f dB off", cases[i].name, worst);
    hp_host_free(ref);
    hp_host_free(h);
  }
}

/* The loop: the burst and the delay's wet signal, at level 0.5, through a
   mixer back into the delay.  Its echoes come every 300 ms, each 6 dB
   down, as the delay's own feedback gives them. */
static void
test_loop(const HpWorkerMode mode)
{
  HpHost* const h = fx_host(mode, 12);
  commit(h,
         "/patch/clear;/patch/create src sine;/patch/set src freq 1000;"
         "/patch/set src gain 0;/patch/create m mixer;"
         "/patch/set m level2 0.5;/patch/create d delay;"
         "/patch/set d time 300;/patch/set d feedback 0;/patch/set d mix 1;"
         "/patch/connect src m:in1;/patch/connect m d;"
         "/patch/connect d:wet m:in2;/patch/connect d:wet out",
         "");
  CHECK(!hp_host_render(h, MS(100), random_blocks));
  hp_host_discard_output(h);
  const uint64_t start = hp_host_frames(h);
  fx_send(h, -1, "/patch/set src gain 0.5");
  CHECK(!hp_host_render(h, MS(50), random_blocks));
  fx_send(h, -1, "/patch/set src gain 0");
  CHECK(!hp_host_render(h, MS(1000), random_blocks));
  const double e1  = burst_db(h, start, 310, 40);
  const double e2  = burst_db(h, start, 610, 40);
  const double e3  = burst_db(h, start, 910, 40);
  const double gap = burst_db(h, start, 460, 100);
  printf("# %s, loop through d:wet: echoes %.3f, %.3f, %.3f dB, between "
         "them %.1f dB\n",
         fx_mode_name(mode),
         e1,
         e2,
         e3,
         gap);
  CHECK_MSG(fabs(e1 + 6.02) < 0.2, "first echo at %.2f dB", e1);
  CHECK_MSG(fabs(e2 - e1 + 6.02) < 0.2 && fabs(e3 - e2 + 6.02) < 0.2,
            "the loop's gain is not 0.5 an echo: %.2f, %.2f, %.2f dB",
            e1,
            e2,
            e3);
  CHECK_MSG(gap < e1 - 60.0, "sound between the echoes: %.1f dB", gap);

  /* Other cycles stay errors, and say where a loop may pass. */
  static const char* const refused[] = {
    "/patch/connect d m:in3",    /* the mixed output: no delay */
    "/patch/connect m src:freq", /* no delay at all */
  };
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
    fx_send(h, 90, refused[i]);
    const HpHostEvent* const ev = fx_reply(h, 90);
    CHECK_MSG(ev && ev->kind == HP_EV_ERROR && ev->message &&
                strstr(ev->message, "would create a cycle") &&
                strstr(ev->message,
                       "a loop must pass through a delay's wet "
                       "output"),
              "%s: %s",
              refused[i],
              ev && ev->message ? ev->message : "accepted");
  }
  hp_host_free(h);
}

/* The host's tempo (time:Position at 120 bpm, rolling) sets a delay's
   time in beats: `beats 0.5` puts the echo at 250 ms, where `time` alone
   (no position yet) puts it at 300 ms, with silence before each. */
static void
send_position(HpHost* const host, const float bpm)
{
  CHECK(!hp_host_send_transport(
    host, hp_host_frames(host), 0, 0.0, bpm, 4.0f, 1.0f));
}

static void
test_tempo(const HpWorkerMode mode)
{
  for (int tempo = 0; tempo < 2; ++tempo) {
    HpHost* const h = fx_host(mode, 15);
    if (tempo) {
      send_position(h, 120.0f);
    }
    const uint64_t t0 = effect_run(
      h,
      "/patch/create d delay;/patch/set d time 300;/patch/set d beats 0.5;"
      "/patch/set d feedback 0;/patch/set d mix 1",
      false,
      NULL,
      "");
    /* The echo where the tempo puts it, and silence just before. */
    const double echo_ms = tempo ? 250.0 : 300.0;
    const double on      = burst_db(h, t0, echo_ms + 10.0, 30.0);
    const double before  = burst_db(h, t0, echo_ms - 40.0, 35.0);
    printf("# %s, delay beats 0.5, %s: the echo at %.0f ms, %.2f dB, "
           "%.1f dB before it\n",
           fx_mode_name(mode),
           tempo ? "the host at 120 bpm" : "no host tempo (time 300)",
           echo_ms,
           on,
           before);
    CHECK_MSG(fabs(on + 6.02) < 0.2 && before < on - 100.0,
              "beats 0.5 (%s): %.1f dB where the echo is, %.1f before",
              tempo ? "120 bpm" : "no tempo",
              on,
              before);
    hp_host_free(h);
  }
}

/* pan's pair reaches the sides as a pair; its mix goes where it is sent. */
static void
test_stereo(const HpWorkerMode mode)
{
  static const struct {
    const char* patch;
    double      left_db, right_db;
  } cases[] = {
    /* Unconnected: the pair, to the sides. */
    {"/patch/set p pan -1", -6.02, -200.0},
    {"/patch/set p pan 1", -200.0, -6.02},
    /* To the sink `out`: the same. */
    {"/patch/set p pan 1;/patch/connect p out", -200.0, -6.02},
    /* Its main output, the mix, to one side: (l + r) / 2 of a centred
       pan is 0.707 of the input. */
    {"/patch/connect p out:left", -6.02 - 3.01, -200.0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    HpHost* const h = fx_host(mode, 13);
    char          lines[512];
    snprintf(lines,
             sizeof(lines),
             "/patch/clear;/patch/create src sine;/patch/set src freq 1000;"
             "/patch/create p pan;/patch/connect src p;%s",
             cases[i].patch);
    commit(h, lines, "");
    CHECK(!hp_host_render(h, MS(100), random_blocks));
    hp_host_discard_output(h);
    CHECK(!hp_host_render(h, MS(100), random_blocks));
    const size_t n = hp_host_recorded(h);
    const double l = hp_sig_goertzel_db(hp_host_out_l(h), n, RATE, HZ);
    const double r = hp_sig_goertzel_db(hp_host_out_r(h), n, RATE, HZ);
    printf("# %s, %s: left %.2f dB, right %.2f dB\n",
           fx_mode_name(mode),
           cases[i].patch,
           l,
           r);
    CHECK_MSG(cases[i].left_db < -100.0 ? l < -100.0
                                        : fabs(l - cases[i].left_db) < 0.05,
              "%s: left %.2f dB",
              cases[i].patch,
              l);
    CHECK_MSG(cases[i].right_db < -100.0 ? r < -100.0
                                         : fabs(r - cases[i].right_db) < 0.05,
              "%s: right %.2f dB",
              cases[i].patch,
              r);
    hp_host_free(h);
  }
}

int
main(void)
{
  static const HpWorkerMode modes[] = {HP_WORKER_SYNC, HP_WORKER_THREADED};
  for (size_t m = 0; m < 2; ++m) {
    test_echo_through_swaps(modes[m]);
    test_tails_through_swaps(modes[m]);
    test_loop(modes[m]);
    test_tempo(modes[m]);
    test_stereo(modes[m]);
  }
  printf("test_lines: all checks passed\n");
  return 0;
}
