/*
  Quantized swaps (DESIGN 3b, hp:quant): a commit sent mid-bar with
  quant=bar swaps on the first frame of the next bar, quant=beat on the
  next beat, quant=N on the next multiple of N beats from the song's
  start, in both worker modes, at fixed and random block sizes, at 120 and
  97.3 bpm, in 4/4 and 7/8.  A tempo change and a relocation while the
  swap waits are followed; a stopped transport, or none, swaps at once.
  The scene_quant control does the same for scene changes.

  The patches play constants (`const`), and the commits have no
  crossfade: the output steps from one value to the other on the very
  frame of the swap, which the test finds in the audio and compares with
  hp:Swapped's frame and with the boundary's frame computed here from the
  tempo.
*/

#include "fixture.h"
#include "host.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#define OLD_LEVEL 0.25f
#define NEW_LEVEL 0.5f

/* The transport as the test drives it: rolling from `start` (a frame) at
   beat `beat0`. */
typedef struct {
  double   bpm;
  double   beats_per_bar;
  uint64_t start;
  double   beat0;
} Tempo;

/* The host says where the song is at `frame`: beat `beat`. */
static void
send_position(HpHost* const  host,
              const uint64_t frame,
              const double   beat,
              const double   bpm,
              const double   beats_per_bar,
              const double   speed)
{
  CHECK(!hp_host_send_transport(host,
                                frame,
                                (int64_t)frame,
                                beat,
                                (float)bpm,
                                (float)beats_per_bar,
                                (float)speed));
}

/* The first frame at or after beat `beat`. */
static uint64_t
frame_of_beat(const Tempo* const t, const double beat)
{
  const double frames = (beat - t->beat0) * 60.0 * RATE / t->bpm;
  return t->start + (uint64_t)ceil(frames - 1e-6);
}

/* The beat at frame `frame`. */
static double
beat_at(const Tempo* const t, const uint64_t frame)
{
  return t->beat0 + (double)(frame - t->start) * t->bpm / (60.0 * RATE);
}

/* Playing OLD_LEVEL, committed and swapped in. */
static HpHost*
start(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 0);
  CHECK(host);
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create c const");
  fx_sendf(host, -1, "/patch/set c value %g", (double)OLD_LEVEL);
  fx_send(host, -1, "/patch/connect c out");
  fx_send(host, 1, "/patch/commit crossfade=0");
  fx_acked(host, 1, "the first patch");
  return host;
}

/* Stage NEW_LEVEL and commit it with `options` (seq 100). */
static void
commit_new(HpHost* const host, const char* const options)
{
  fx_send(host, -1, "/patch/create n const");
  fx_sendf(host, -1, "/patch/set n value %g", (double)NEW_LEVEL);
  fx_send(host, -1, "/patch/connect n out");
  fx_send(host, -1, "/patch/delete c");
  fx_sendf(host, 100, "/patch/commit crossfade=0 %s", options);
}

/* Render `frames` in the block policy's sizes, the threaded worker given
   its time first (what a real one would have: the standby is ready long
   before the boundary the test waits for). */
static void
render(HpHost* const host, const uint64_t frames, const HpBlockPolicy policy)
{
  CHECK(!hp_host_run(host, 64));
  CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  CHECK(!hp_host_render(host, frames, policy));
}

/* The frame where the output first reads `after` (on both sides), or
   UINT64_MAX; everything before it from `from` on reads `before`. */
static uint64_t
level_step(const HpHost* const host,
           const uint64_t      from,
           const float         before,
           const float         after)
{
  const float* const l     = hp_host_out_l(host);
  const float* const r     = hp_host_out_r(host);
  const uint64_t     first = hp_host_recorded_start(host);
  const size_t       n     = hp_host_recorded(host);
  for (size_t i = from - first; i < n; ++i) {
    if (l[i] == after && r[i] == after) {
      return first + i;
    }
    CHECK_MSG(l[i] == before && r[i] == before,
              "frame %zu plays %g, %g: neither patch",
              (size_t)(first + i),
              (double)l[i],
              (double)r[i]);
  }
  return UINT64_MAX;
}

static uint64_t
step_frame(const HpHost* const host, const uint64_t from)
{
  return level_step(host, from, OLD_LEVEL, NEW_LEVEL);
}

/* hp:Swapped of the commit (seq 100): its absolute frame. */
static uint64_t
swapped_frame(HpHost* const host)
{
  const HpHostEvent* const ev = hp_host_find_event(host, HP_EV_SWAPPED, 100);
  CHECK_MSG(ev, "no hp:Swapped for the quantized commit");
  return ev->frame_abs;
}

static const char*
policy_name(const HpBlockPolicy p)
{
  return p.mode == HP_BLOCK_RANDOM ? "random blocks" : "blocks of 256";
}

/* A commit `into` beats into bar 1 with `quant`: it swaps on `expect`
   (a beat), on that frame exactly. */
static void
quant_case(const HpWorkerMode  mode,
           const HpBlockPolicy policy,
           const double        bpm,
           const double        beats_per_bar,
           const char* const   quant,
           const double        into,
           const double        expect)
{
  HpHost* const host  = start(mode);
  const Tempo   tempo = {bpm, beats_per_bar, hp_host_frames(host), 0.0};
  send_position(host, tempo.start, 0.0, bpm, beats_per_bar, 1.0);
  CHECK(!hp_host_render(host,
                        frame_of_beat(&tempo, beats_per_bar + into) -
                          hp_host_frames(host),
                        policy));
  const uint64_t sent = hp_host_frames(host);
  commit_new(host, quant);
  const uint64_t want = frame_of_beat(&tempo, expect);
  render(host, want - sent + 4800u, policy);
  const uint64_t heard   = step_frame(host, sent);
  const uint64_t swapped = swapped_frame(host);
  printf("# %s, %s, %.1f bpm, %g beats a bar, %s sent at beat %.4f: "
         "swapped at frame %llu (beat %.6f), heard at %llu, boundary %llu\n",
         fx_mode_name(mode),
         policy_name(policy),
         bpm,
         beats_per_bar,
         quant,
         beat_at(&tempo, sent),
         (unsigned long long)swapped,
         beat_at(&tempo, swapped),
         (unsigned long long)heard,
         (unsigned long long)want);
  CHECK_MSG(heard == want && swapped == want,
            "%s: the step is at frame %llu, hp:Swapped says %llu, the "
            "boundary is at %llu",
            quant,
            (unsigned long long)heard,
            (unsigned long long)swapped,
            (unsigned long long)want);
  hp_host_free(host);
}

/* The tempo changes (or the song jumps) while the swap waits: it follows. */
static void
moved_case(const HpWorkerMode mode, const bool relocate)
{
  const HpBlockPolicy policy = {HP_BLOCK_FIXED, 256, 0, 0};
  HpHost* const       host   = start(mode);
  Tempo               tempo  = {120.0, 4.0, hp_host_frames(host), 0.0};
  send_position(host, tempo.start, 0.0, tempo.bpm, 4.0, 1.0);
  CHECK(!hp_host_render(
    host, frame_of_beat(&tempo, 5.5) - hp_host_frames(host), policy));
  const uint64_t sent = hp_host_frames(host);
  commit_new(host, "quant=bar");
  render(host, frame_of_beat(&tempo, 6.5) - sent, policy);
  CHECK_MSG(!hp_host_find_event(host, HP_EV_SWAPPED, 100),
            "swapped before the bar line");
  /* At beat 6.5 (bar 1, beat 2.5): 90 bpm from here, or a jump to beat
     23.5 (bar 5, beat 3.5).  Either way the next bar line is what counts. */
  const uint64_t moved = hp_host_frames(host);
  tempo = (Tempo){relocate ? 120.0 : 90.0, 4.0, moved, relocate ? 23.5 : 6.5};
  send_position(host, moved, tempo.beat0, tempo.bpm, 4.0, 1.0);
  const uint64_t want = frame_of_beat(&tempo, relocate ? 24.0 : 8.0);
  CHECK(!hp_host_render(host, want - moved + 4800u, policy));
  const uint64_t heard   = step_frame(host, sent);
  const uint64_t swapped = swapped_frame(host);
  printf("# %s, %s while quant=bar waits: swapped %llu frames after it "
         "(expected %llu), heard at the same frame: %s\n",
         fx_mode_name(mode),
         relocate ? "relocated from beat 6.5 to 23.5" : "tempo 120 -> 90 bpm",
         (unsigned long long)(swapped - moved),
         (unsigned long long)(want - moved),
         heard == swapped ? "yes" : "no");
  CHECK(heard == want && swapped == want);
  hp_host_free(host);
}

/* Transport stopped, or no time:Position ever: a quantized commit swaps as
   if it were not. */
static void
at_once_case(const HpWorkerMode mode, const bool stopped)
{
  HpHost* const host = start(mode);
  if (stopped) {
    send_position(host, hp_host_frames(host), 10.25, 120.0, 4.0, 0.0);
  }
  CHECK(!hp_host_run(host, 100));
  const uint64_t sent = hp_host_frames(host) + 37u;
  fx_send_at(host, sent, -1, "/patch/create n const");
  fx_send_at(host, sent, -1, "/patch/set n value 0.5");
  fx_send_at(host, sent, -1, "/patch/connect n out");
  fx_send_at(host, sent, -1, "/patch/delete c");
  fx_send_at(host, sent, 100, "/patch/commit crossfade=0 quant=bar");
  CHECK(!hp_host_run(host, 256));
  CHECK(!hp_host_wait_worker(host, FX_WORKER_WAIT_MS));
  CHECK(!hp_host_run(host, 256));
  const uint64_t swapped = swapped_frame(host);
  const uint64_t heard   = step_frame(host, sent);
  printf("# %s, %s: quant=bar sent at frame %llu swapped at %llu\n",
         fx_mode_name(mode),
         stopped ? "transport stopped" : "no time:Position",
         (unsigned long long)sent,
         (unsigned long long)swapped);
  CHECK(heard == swapped);
  /* Sync: at the commit's frame; threaded: when run() sees the standby,
     at the block's next chunk (if the worker was that quick) or at the
     next block's start. */
  CHECK(mode == HP_WORKER_SYNC ? swapped == sent
                               : swapped == sent || swapped == sent + 219u);
  hp_host_free(host);
}

/* hp:Revert takes quant like any commit: back to the first patch on the
   next bar line. */
static void
revert_case(const HpWorkerMode mode)
{
  const HpBlockPolicy policy = {HP_BLOCK_RANDOM, 0, 1, 0};
  HpHost* const       host   = start(mode);
  commit_new(host, "");
  fx_acked(host, 100, "the second patch");
  const Tempo tempo = {97.3, 4.0, hp_host_frames(host), 0.0};
  send_position(host, tempo.start, 0.0, tempo.bpm, 4.0, 1.0);
  CHECK(!hp_host_render(
    host, frame_of_beat(&tempo, 6.3) - hp_host_frames(host), policy));
  const uint64_t sent = hp_host_frames(host);
  fx_send(host, 101, "/patch/revert crossfade=0 quant=bar");
  const uint64_t want = frame_of_beat(&tempo, 8.0);
  render(host, want - sent + 4800u, policy);
  const uint64_t           heard = level_step(host, sent, NEW_LEVEL, OLD_LEVEL);
  const HpHostEvent* const ev    = hp_host_find_event(host, HP_EV_SWAPPED, 101);
  printf("# %s, /patch/revert quant=bar at beat %.3f: back to the first "
         "patch at frame %llu (hp:Swapped %lld), the bar line at %llu\n",
         fx_mode_name(mode),
         beat_at(&tempo, sent),
         (unsigned long long)heard,
         ev ? (long long)ev->frame_abs : -1ll,
         (unsigned long long)want);
  CHECK(heard == want && ev && ev->frame_abs == want);
  hp_host_free(host);
}

/* The scene control with scene_quant at bar: a scene change the host makes
   mid-bar swaps on the next bar line. */
static void
scene_case(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 0);
  fx_send(host, -1, "/patch/clear");
  static const char bank[] =
    "@prefix hp: <urn:hotpatch:ns#> .\n"
    "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:activeScene 0 ;\n"
    "hp:scenes ( [ hp:ops ( "
    "[ a hp:Create ; hp:module \"c\" ; hp:type \"const\" ] "
    "[ a hp:Set ; hp:module \"c\" ; hp:param \"value\" ; hp:value 0.25 ] "
    "[ a hp:Connect ; hp:source \"c\" ; hp:dest \"out\" ] ) ] "
    "[ hp:ops ( [ a hp:Create ; hp:module \"n\" ; hp:type \"const\" ] "
    "[ a hp:Set ; hp:module \"n\" ; hp:param \"value\" ; hp:value 0.5 ] "
    "[ a hp:Connect ; hp:source \"n\" ; hp:dest \"out\" ] ) ] ) .\n";
  char      path[] = "/tmp/hp_quant_bankXXXXXX";
  const int fd     = mkstemp(path);
  CHECK(fd >= 0);
  FILE* const f = fdopen(fd, "w");
  CHECK(f && fputs(bank, f) >= 0 && !fclose(f));
  CHECK(!hp_host_send_patch_set_path(
    host, hp_host_frames(host), 1, "urn:hotpatch:ns#patchFile", path));
  fx_acked(host, 1, "the bank");
  CHECK(!hp_host_set_control(host, "crossfade", 0.0f));
  CHECK(!hp_host_set_control(host, "scene_quant", 2.0f));
  const HpBlockPolicy policy = {HP_BLOCK_FIXED, 256, 0, 0};
  const Tempo         tempo  = {97.3, 7.0, hp_host_frames(host), 0.0};
  send_position(host, tempo.start, 0.0, tempo.bpm, 7.0, 1.0);
  CHECK(!hp_host_render(
    host, frame_of_beat(&tempo, 10.2) - hp_host_frames(host), policy));
  const uint64_t sent = hp_host_frames(host);
  CHECK(!hp_host_set_control(host, "scene", 1.0f));
  const uint64_t want = frame_of_beat(&tempo, 14.0);
  render(host, want - sent + 4800u, policy);
  const uint64_t heard = step_frame(host, sent);
  printf("# %s, scene_quant bar at 97.3 bpm in 7/8: scene 2 chosen at beat "
         "%.3f, heard at frame %llu, the bar line at %llu\n",
         fx_mode_name(mode),
         beat_at(&tempo, sent),
         (unsigned long long)heard,
         (unsigned long long)want);
  CHECK(heard == want);
  hp_host_free(host);
  unlink(path);
}

int
main(void)
{
  static const HpWorkerMode modes[]    = {HP_WORKER_SYNC, HP_WORKER_THREADED};
  const HpBlockPolicy       policies[] = {{HP_BLOCK_FIXED, 256, 0, 0},
                                          {HP_BLOCK_RANDOM, 0, 1, 0}};
  for (size_t m = 0; m < 2; ++m) {
    for (size_t p = 0; p < 2; ++p) {
      const HpWorkerMode  mode = modes[m];
      const HpBlockPolicy pol  = policies[p];
      /* Sent 1.5 beats into bar 1 (bars count from 0). */
      quant_case(mode, pol, 120.0, 4.0, "quant=bar", 1.5, 8.0);
      quant_case(mode, pol, 97.3, 4.0, "quant=bar", 1.5, 8.0);
      quant_case(mode, pol, 120.0, 7.0, "quant=bar", 1.5, 14.0);
      quant_case(mode, pol, 97.3, 7.0, "quant=bar", 1.5, 14.0);
      quant_case(mode, pol, 120.0, 4.0, "quant=beat", 1.5, 6.0);
      quant_case(mode, pol, 97.3, 7.0, "quant=beat", 1.5, 9.0);
      quant_case(mode, pol, 120.0, 4.0, "quant=2", 2.5, 8.0);
      quant_case(mode, pol, 97.3, 7.0, "quant=2", 1.5, 10.0);
      quant_case(mode, pol, 97.3, 4.0, "quant=0.75", 0.1, 4.5);
    }
    moved_case(modes[m], false);
    moved_case(modes[m], true);
    at_once_case(modes[m], true);
    at_once_case(modes[m], false);
    scene_case(modes[m]);
    revert_case(modes[m]);
  }
  return 0;
}
