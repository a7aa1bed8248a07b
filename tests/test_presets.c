/* Every shipped preset loads through lilv and plays: a held note (or,
   for drones, nothing at all) gives a finite, non-silent, unclipped sound;
   the Scenes preset follows the scene control. */

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  char   uri[16][128];
  char   label[16][64];
  size_t count;
} List;

static void
collect(const char* const uri, const char* const label, void* const data)
{
  List* list = (List*)data;
  if (list->count < 16) {
    snprintf(list->uri[list->count], 128, "%s", uri);
    snprintf(list->label[list->count], 64, "%s", label ? label : "");
    ++list->count;
  }
}

int
main(void)
{
  HpHost* host = fx_host(HP_WORKER_THREADED, 0);
  List    list;
  memset(&list, 0, sizeof(list));
  hp_host_list_presets(host, collect, &list);
  hp_host_free(host);
  CHECK_MSG(list.count >= 8, "%zu presets", list.count);

  for (size_t i = 0; i < list.count; ++i) {
    for (unsigned flags = 0; flags <= HP_RESTORE_NO_WORKER;
         flags += HP_RESTORE_NO_WORKER) {
      host = fx_host(HP_WORKER_THREADED, 0);
      CHECK_MSG(!hp_host_load_preset(host, list.uri[i], flags),
                "%s: %s",
                list.uri[i],
                hp_host_last_error());
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
        printf("# preset %-28s loudest 100 ms RMS %.3f, peak %.3f (held A3)\n",
               list.label[i],
               rms,
               (double)peak);
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
  return 0;
}
