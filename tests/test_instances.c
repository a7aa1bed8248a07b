/*
  Two instances in one process, as a host runs two tracks: each plays in a
  thread of its own (threaded workers, notes, the scene control moving,
  blocks of 256 and 1,023) while a third thread loads presets into both
  (state:threadSafeRestore: restore() runs while run() goes on).

  Measured: no NaN and no sample above 1.5 in either output over the whole
  run; then, each instance given a last preset, it plays that preset's
  pitch and nothing of the other's (440 Hz and 220 Hz).  Under the ASan and
  TSan builds this is also the check that instances share no memory and
  that restore() and run() do not race.
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <valgrind/valgrind.h>

#define PEAK_LIMIT 1.5f

typedef struct {
  HpHost*     host;
  atomic_bool stop;
  float       peak; /* largest |sample|, NaN counted as infinite */
  uint64_t    blocks;
} Player;

static void*
play(void* const arg)
{
  Player* const p = (Player*)arg;
  for (uint32_t n = 0; !atomic_load(&p->stop); ++n) {
    HpHost* const  h     = p->host;
    const uint64_t frame = hp_host_frames(h);
    if (n % 40u == 0u) {
      CHECK(!hp_host_note_on(h, frame, 57, 100));
    } else if (n % 40u == 30u) {
      CHECK(!hp_host_note_off(h, frame, 57));
    }
    if (n % 13u == 0u) {
      hp_host_set_control(h, "scene", (float)((n / 13u) % 3u));
    }
    CHECK(!hp_host_run(h, n % 7u == 0u ? 1023u : 256u));
    const size_t       len = hp_host_recorded(h);
    const float* const l   = hp_host_out_l(h);
    const float* const r   = hp_host_out_r(h);
    for (size_t i = 0; i < len; ++i) {
      const float a = fmaxf(fabsf(l[i]), fabsf(r[i]));
      p->peak       = a == a ? fmaxf(p->peak, a) : INFINITY;
    }
    hp_host_discard_output(h);
    ++p->blocks;
  }
  return NULL;
}

/* Render a second and measure the pitch of its last half. */
static double
settled_pitch(HpHost* const host)
{
  hp_host_discard_output(host);
  for (int i = 0; i < 40; ++i) {
    CHECK(!hp_host_run(host, 1200));
    CHECK(!hp_host_wait_worker(host, 10000));
  }
  const size_t n = hp_host_recorded(host);
  CHECK(n >= 48000u);
  return hp_sig_freq(hp_host_out_l(host) + n - 24000u, 24000u, RATE);
}

int
main(void)
{
  static const char* const presets[] = {
    "urn:hotpatch:preset:scenes",
    "urn:hotpatch:preset:bass",
    "urn:hotpatch:preset:pad",
    "urn:hotpatch:preset:drone",
    "urn:hotpatch:preset:lead",
    "urn:hotpatch:preset:seed-chain",
  };
  const unsigned n_presets = sizeof(presets) / sizeof(presets[0]);
  /* Under valgrind a load takes a second: fewer, the same mix. */
  const unsigned loads = RUNNING_ON_VALGRIND ? 16u : 120u;

  Player players[2];
  memset(players, 0, sizeof(players));
  players[0].host = fx_host(HP_WORKER_THREADED, 1);
  players[1].host = fx_host(HP_WORKER_THREADED, 2);
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) {
    CHECK(!pthread_create(&threads[i], NULL, play, &players[i]));
  }
  for (unsigned i = 0; i < loads; ++i) {
    HpHost* const h = players[i % 2u].host;
    CHECK_MSG(!hp_host_load_preset(h, presets[(i / 2u) % n_presets], 0),
              "preset: %s",
              hp_host_last_error());
    const struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  for (int i = 0; i < 2; ++i) {
    atomic_store(&players[i].stop, true);
    CHECK(!pthread_join(threads[i], NULL));
  }
  for (int i = 0; i < 2; ++i) {
    CHECK_MSG(players[i].blocks > 100u && players[i].peak <= PEAK_LIMIT,
              "instance %d: %llu blocks, peak %g",
              i + 1,
              (unsigned long long)players[i].blocks,
              (double)players[i].peak);
  }

  /* Each its own last preset: a steady 440 Hz sine, and scene 1 of Scenes
     (220 Hz); neither may carry anything of the other. */
  CHECK(
    !hp_host_load_preset(players[0].host, "urn:hotpatch:preset:seed-sine", 0));
  CHECK(!hp_host_load_preset(players[1].host, "urn:hotpatch:preset:scenes", 0));
  hp_host_set_control(players[1].host, "scene", 0.0f);
  const double f1 = settled_pitch(players[0].host);
  const double f2 = settled_pitch(players[1].host);
  CHECK_MSG(fabs(f1 - 440.0) < 0.5 && fabs(f2 - 220.0) < 0.5,
            "instance pitches %.3f and %.3f Hz (want 440 and 220)",
            f1,
            f2);
  printf("# two instances, %u preset loads while both played (%llu and %llu "
         "blocks): peaks %.3f and %.3f, then 440 and 220 Hz each alone "
         "(%.3f, %.3f)\n",
         loads,
         (unsigned long long)players[0].blocks,
         (unsigned long long)players[1].blocks,
         (double)players[0].peak,
         (double)players[1].peak,
         f1,
         f2);
  hp_host_free(players[0].host);
  hp_host_free(players[1].host);
  return 0;
}
