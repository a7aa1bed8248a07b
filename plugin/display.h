/*
  The inline display: a small picture of what plays, for Ardour's mixer
  strip (README, "Using it in a host").  A scope of the output, the
  generation playing, the voices sounding and a swap under way.

  run() publishes, lock-free and without waiting: a ring of its recent
  output and a few counters.  render() (the host's GUI thread, maybe while
  run() goes on) copies what it needs and draws with Cairo.
*/

#ifndef HP_DISPLAY_H
#define HP_DISPLAY_H

#include "../src/engine.h"

#include <lv2/core/lv2.h>

#include <stdbool.h>
#include <stdint.h>

/* Ardour's extension, as its lv2_extensions.h defines it (Debian installs
   no header for it): the plugin's interface and the host's feature. */
#define HP_IDPY_PREFIX "http://harrisonconsoles.com/lv2/inlinedisplay#"
#define HP_IDPY__interface HP_IDPY_PREFIX "interface"
#define HP_IDPY__queue_draw HP_IDPY_PREFIX "queue_draw"

/** A picture: Cairo's ARGB32 (premultiplied, native-endian 32-bit pixels),
    `stride` bytes a row; the plugin owns `data` until the next render() or
    cleanup. */
typedef struct {
  unsigned char* data;
  int            width;
  int            height;
  int            stride;
} HpDisplaySurface;

/** The host's feature: ask for a render() soon.  Real-time safe (Ardour's
    sets a flag): run() calls it. */
typedef struct {
  void* handle;
  void (*queue_draw)(void* handle);
} HpDisplayQueueDraw;

/** The plugin's extension data: a picture at most `w` x `h`, or NULL. */
typedef struct {
  HpDisplaySurface* (*render)(LV2_Handle instance, uint32_t w, uint32_t h);
} HpDisplayInterface;

typedef struct HpDisplayImpl HpDisplay;

/** What a picture shows, as render() reads it from what run() published. */
typedef struct {
  uint32_t generation;
  uint32_t voices;          /**< the playing patch's */
  uint32_t voices_sounding; /**< of those */
  bool     swapping; /**< a crossfade or tail, or a swap in the last 250 ms */
  bool     swap_waiting; /**< a quantized swap waits for its beat or bar */
  bool     triggered;    /**< the scope starts at a rising zero crossing */
  const float* scope;    /**< the output (mid), `scope_len` frames */
  uint32_t     scope_len;
} HpDisplaySnapshot;

/** A display for a plugin at `rate`; `queue_draw` is the host's feature or
    NULL.  NULL when out of memory.  Instantiation thread. */
HpDisplay* hp_display_new(float rate, const HpDisplayQueueDraw* queue_draw);

/** NULL is fine.  Instantiation thread (no render() meanwhile). */
void hp_display_free(HpDisplay* display);

/**
   Publish a block: its output and the engine's status; ask the host for a
   picture after a swap, and 20 times a second while it sounds or shows
   something new.  It costs nothing while no host draws (no queue_draw
   offered, render() never called).  Audio thread: never waits.
*/
void hp_display_run(HpDisplay*            display,
                    const float*          out_l,
                    const float*          out_r,
                    uint32_t              n_frames,
                    const HpEngineStatus* status);

/** What run() published last, with a scope of `frames` (2 to 50 ms) from
    its latest trigger; `snapshot->scope` stays valid until the next call.
    One thread at a time (the host's GUI thread), while run() goes on. */
void hp_display_snapshot(HpDisplay*         display,
                         uint32_t           frames,
                         HpDisplaySnapshot* snapshot);

/** render(): the snapshot drawn at most `w` x `h` (height at most w / 3:
    a mixer strip is narrow and short), 0.1 ms of scope a pixel (20 ms in
    200); NULL for an empty size or out of memory.  As
    hp_display_snapshot(). */
HpDisplaySurface* hp_display_render(HpDisplay* display, uint32_t w, uint32_t h);

#endif /* HP_DISPLAY_H */
