/*
  The inline display (display.h).  run() appends its output to a ring and
  stores a few counters, all atomics; render() copies the latest frames
  and draws.  run() never waits: a copy that run() overwrote meanwhile is
  found (a seqlock's check: `writing` is stored before the frames, `written`
  after) and its overwritten part left out.
*/

#include "display.h"

#include <cairo.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define PIXEL_SECONDS 1e-4f      /* a pixel of the scope: 20 ms in 200 */
#define SCOPE_SECONDS 0.05f      /* the scope at its widest */
#define TRIGGER_SECONDS 0.05f    /* searched for a trigger: a period of 20 Hz */
#define REDRAW_HZ 20u            /* pictures a second while it sounds */
#define SWAP_SHOWN_SECONDS 0.25f /* a swap stays shown at least this long */
#define SILENCE 1e-4f            /* -80 dB: below, nothing sounds */
#define MAX_BLOCK 8192u          /* the most frames one run() writes */
#define MAX_WIDTH 2048u /* bounds what a render() allocates (a third high) */

struct HpDisplayImpl {
  /* Set at creation, read-only after. */
  const HpDisplayQueueDraw* queue_draw; /* NULL: the host draws on its own */
  uint32_t                  period;     /* frames between two redraws */
  uint32_t                  swap_shown; /* frames a swap stays shown */
  uint32_t                  ring_mask;
  float                     rate;
  uint32_t                  copy_len;  /* render() copies this many frames */
  uint32_t                  scope_max; /* and shows at most this many */

  /* run() writes, render() reads. */
  _Atomic(float)* ring;    /* the output's mid, (l + r) / 2 */
  atomic_uint     writing; /* the frame count once this block is in */
  atomic_uint     written; /* the frames in the ring, counted ever since */
  atomic_uint     generation;
  atomic_uint     voices;
  atomic_uint     voices_sounding;
  atomic_uint     swapping; /* 0 or 1 */
  atomic_uint     swap_waiting;

  /* render() writes, run() reads. */
  atomic_bool drawn; /* render() has been called: the host draws */

  /* run() only. */
  uint32_t head;   /* `written`, as run() stored it */
  uint32_t swaps;  /* the engine's count at the last block */
  uint32_t calm;   /* frames since a swap last went on, up to swap_shown */
  uint32_t frames; /* since the last periodic request */
  float    peak;   /* of the frames since then */
  bool     loud;   /* the last period sounded */
  bool     news;   /* the counters changed since the last request */

  /* render() only. */
  float*           copy;  /* copy_len frames from the ring */
  float*           scope; /* scope_max frames from the trigger on */
  cairo_surface_t* surface;
  HpDisplaySurface image;
};

HpDisplay*
hp_display_new(const float rate, const HpDisplayQueueDraw* const queue_draw)
{
  HpDisplay* const d = (HpDisplay*)calloc(1, sizeof(HpDisplay));
  if (!d) {
    return NULL;
  }
  d->queue_draw = queue_draw && queue_draw->queue_draw ? queue_draw : NULL;
  d->period     = (uint32_t)(rate / (float)REDRAW_HZ);
  d->swap_shown = (uint32_t)(rate * SWAP_SHOWN_SECONDS);
  d->rate       = rate;
  d->scope_max  = (uint32_t)(rate * SCOPE_SECONDS);
  /* The interpolated trace reads one frame past the scope. */
  d->copy_len = d->scope_max + (uint32_t)(rate * TRIGGER_SECONDS) + 1u;
  /* Room for what render() copies while run() writes a whole block. */
  uint32_t size = 1024u;
  while (size < d->copy_len + MAX_BLOCK) {
    size *= 2u;
  }
  d->ring_mask = size - 1u;
  d->ring      = calloc(size, sizeof(*d->ring));
  d->copy      = (float*)calloc(d->copy_len, sizeof(float));
  d->scope     = (float*)calloc(d->scope_max, sizeof(float));
  if (!d->ring || !d->copy || !d->scope) {
    hp_display_free(d);
    return NULL;
  }
  for (uint32_t i = 0; i < size; ++i) {
    atomic_init(&d->ring[i], 0.0f); /* silence before the first block */
  }
  atomic_init(&d->writing, 0u);
  atomic_init(&d->written, 0u);
  atomic_init(&d->generation, 0u);
  atomic_init(&d->voices, 0u);
  atomic_init(&d->voices_sounding, 0u);
  atomic_init(&d->swapping, 0u);
  atomic_init(&d->swap_waiting, 0u);
  atomic_init(&d->drawn, false);
  d->calm = d->swap_shown;
  return d;
}

void
hp_display_free(HpDisplay* const d)
{
  if (d) {
    if (d->surface) {
      cairo_surface_destroy(d->surface);
    }
    free(d->ring);
    free(d->copy);
    free(d->scope);
    free(d);
  }
}

/* Store a counter; true when it changed.  run() is the counters' one
   writer: it may read them without a race. */
static bool
publish(atomic_uint* const counter, const uint32_t value)
{
  if (atomic_load_explicit(counter, memory_order_relaxed) == value) {
    return false;
  }
  atomic_store_explicit(counter, value, memory_order_relaxed);
  return true;
}

void
hp_display_run(HpDisplay* const            d,
               const float* const          out_l,
               const float* const          out_r,
               const uint32_t              n_frames,
               const HpEngineStatus* const status)
{
  /* A swap at the sample (no crossfade) is shown too, for a moment. */
  const bool swapped = status->swaps != d->swaps;
  d->swaps           = status->swaps;
  if (!d->queue_draw &&
      !atomic_load_explicit(&d->drawn, memory_order_relaxed)) {
    return; /* nobody looks */
  }
  const uint32_t head = d->head;
  atomic_store_explicit(&d->writing, head + n_frames, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  float peak = d->peak;
  for (uint32_t i = 0; i < n_frames; ++i) {
    const float mid = 0.5f * (out_l[i] + out_r[i]);
    atomic_store_explicit(
      &d->ring[(head + i) & d->ring_mask], mid, memory_order_relaxed);
    peak = fmaxf(peak, fabsf(mid));
  }
  d->head = head + n_frames;
  atomic_store_explicit(&d->written, d->head, memory_order_release);

  d->calm   = status->swapping || swapped          ? 0u
              : d->calm + n_frames < d->swap_shown ? d->calm + n_frames
                                                   : d->swap_shown;
  bool news = publish(&d->generation, status->generation);
  news |= publish(&d->voices, status->voices);
  news |= publish(&d->voices_sounding, status->voices_sounding);
  news |= publish(&d->swapping, d->calm < d->swap_shown);
  news |= publish(&d->swap_waiting, status->swap_waiting);
  if (!d->queue_draw) {
    return;
  }

  /* A swap is drawn at once; the rest at REDRAW_HZ, while it sounds, once
     more when it falls silent, and when a counter changed. */
  d->news |= news;
  d->peak = peak;
  d->frames += n_frames;
  bool due = false;
  if (d->frames >= d->period) {
    const bool loud = d->peak > SILENCE;
    due             = loud || d->loud || d->news;
    d->loud         = loud;
    d->news         = false;
    d->peak         = 0.0f;
    /* Small blocks keep the rate on average; a block longer than a period
       asks once. */
    d->frames = d->frames < 2u * d->period ? d->frames - d->period : 0u;
  }
  if (due || swapped) {
    d->queue_draw->queue_draw(d->queue_draw->handle);
  }
}

/* Copy the latest copy_len frames from the ring; frames that run()
   overwrote during the copy become silence. */
static void
copy_ring(HpDisplay* const d)
{
  const uint32_t n   = d->copy_len;
  const uint32_t end = atomic_load_explicit(&d->written, memory_order_acquire);
  const uint32_t start = end - n;
  for (uint32_t i = 0; i < n; ++i) {
    d->copy[i] = atomic_load_explicit(&d->ring[(start + i) & d->ring_mask],
                                      memory_order_relaxed);
  }
  atomic_thread_fence(memory_order_acquire);
  /* Frames before `writing` less the ring's size may hold newer ones. */
  const uint32_t writing =
    atomic_load_explicit(&d->writing, memory_order_relaxed);
  const int32_t lost = (int32_t)(writing - (d->ring_mask + 1u) - start);
  for (uint32_t i = 0; lost > 0 && i < n && i < (uint32_t)lost; ++i) {
    d->copy[i] = 0.0f;
  }
}

/* The last rising zero crossing that leaves a whole scope after it, of a
   signal that went below -arm before it (a hysteresis: small wiggles around
   zero do not trigger); its position between two frames, or -1. */
static double
find_trigger(const float* const x, const uint32_t n, const uint32_t after)
{
  float peak = 0.0f;
  for (uint32_t i = 0; i < n; ++i) {
    peak = fmaxf(peak, fabsf(x[i]));
  }
  const float arm   = fmaxf(0.3f * peak, SILENCE);
  double      found = -1.0;
  bool        armed = false;
  for (uint32_t i = 0; i + after + 1u < n; ++i) {
    armed |= x[i] < -arm;
    if (armed && x[i] <= 0.0f && x[i + 1u] > 0.0f) {
      found = (double)i + (double)(x[i] / (x[i] - x[i + 1u]));
      armed = false;
    }
  }
  return found;
}

void
hp_display_snapshot(HpDisplay* const         d,
                    const uint32_t           frames,
                    HpDisplaySnapshot* const s)
{
  atomic_store_explicit(&d->drawn, true, memory_order_relaxed);
  s->generation = atomic_load_explicit(&d->generation, memory_order_relaxed);
  s->voices     = atomic_load_explicit(&d->voices, memory_order_relaxed);
  s->voices_sounding =
    atomic_load_explicit(&d->voices_sounding, memory_order_relaxed);
  s->swapping = atomic_load_explicit(&d->swapping, memory_order_relaxed) != 0u;
  s->swap_waiting =
    atomic_load_explicit(&d->swap_waiting, memory_order_relaxed) != 0u;

  copy_ring(d);
  const uint32_t n       = d->copy_len;
  const uint32_t len     = frames < 2u             ? 2u
                           : frames > d->scope_max ? d->scope_max
                                                   : frames;
  const double   trigger = find_trigger(d->copy, n, len);
  s->triggered           = trigger >= 0.0;
  if (s->triggered) {
    /* From the crossing itself, between frames: a steady tone's trace
       stands still to a fraction of a frame. */
    const uint32_t first = (uint32_t)trigger;
    const float    frac  = (float)(trigger - (double)first);
    for (uint32_t i = 0; i < len; ++i) {
      const float a = d->copy[first + i];
      d->scope[i]   = a + frac * (d->copy[first + i + 1u] - a);
    }
  } else {
    for (uint32_t i = 0; i < len; ++i) {
      d->scope[i] = d->copy[n - len + i];
    }
  }
  s->scope     = d->scope;
  s->scope_len = len;
}

/* Colours on a dark strip. */
static const double background[3]  = {0.08, 0.08, 0.08};
static const double guide[3]       = {0.20, 0.20, 0.20}; /* +-0.5 */
static const double centre[3]      = {0.28, 0.28, 0.28};
static const double trace[3]       = {0.35, 0.95, 0.45};
static const double clipped[3]     = {1.00, 0.30, 0.25};
static const double text[3]        = {0.85, 0.85, 0.85};
static const double swap_colour[3] = {1.00, 0.60, 0.10};
static const double wait_colour[3] = {0.40, 0.70, 1.00};

static void
set_colour(cairo_t* const cr, const double rgb[3])
{
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
}

/* A line across at row y (a whole row: no antialiasing). */
static void
hline(cairo_t* const cr, const double y, const double w, const double rgb[3])
{
  set_colour(cr, rgb);
  cairo_move_to(cr, 0.0, floor(y) + 0.5);
  cairo_line_to(cr, w, floor(y) + 0.5);
  cairo_stroke(cr);
}

/* The status line, in the row at the top: generation and voices on the
   left, a swap on the right; shorter words when narrow. */
static void
draw_status(cairo_t* const                 cr,
            const HpDisplaySnapshot* const s,
            const double                   w,
            const double                   row)
{
  cairo_select_font_face(
    cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, row - 3.0);
  const double baseline = row - 3.0;
  const char*  state    = s->swap_waiting ? "wait" : s->swapping ? "swap" : "";
  cairo_text_extents_t ext;
  cairo_text_extents(cr, state, &ext);
  const double room = w - 6.0 - (state[0] ? ext.x_advance + 4.0 : 0.0);
  if (state[0]) {
    set_colour(cr, s->swap_waiting ? wait_colour : swap_colour);
    cairo_move_to(cr, w - 3.0 - ext.x_advance, baseline);
    cairo_show_text(cr, state);
  }
  char line[64];
  for (int shorter = 0; shorter < 3; ++shorter) {
    snprintf(line,
             sizeof(line),
             "%s%u  %u/%u%s",
             shorter < 2 ? "gen " : "",
             s->generation,
             s->voices_sounding,
             s->voices,
             shorter < 1 ? " voices" : "");
    cairo_text_extents(cr, line, &ext);
    if (ext.x_advance <= room) {
      break;
    }
  }
  set_colour(cr, text);
  cairo_move_to(cr, 3.0, baseline);
  cairo_show_text(cr, line);
}

/* The scope in the rows from y0 down, h high: full scale fills it, with
   guides at 0 and +-0.5. */
static void
draw_scope(cairo_t* const                 cr,
           const HpDisplaySnapshot* const s,
           const double                   w,
           const double                   y0,
           const double                   h)
{
  const double half = 0.5 * h;
  const double mid  = y0 + half;
  cairo_set_line_width(cr, 1.0);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  hline(cr, mid - 0.5 * half, w, guide);
  hline(cr, mid + 0.5 * half, w, guide);
  hline(cr, mid, w, centre);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);

  bool         clip = false;
  const double step = (w - 1.0) / (double)(s->scope_len - 1u);
  for (uint32_t i = 0; i < s->scope_len; ++i) {
    const float v = s->scope[i];
    clip |= fabsf(v) > 1.0f;
    const double y = mid - half * (double)fmaxf(-1.0f, fminf(1.0f, v));
    if (i) {
      cairo_line_to(cr, 0.5 + step * i, y);
    } else {
      cairo_move_to(cr, 0.5, y);
    }
  }
  set_colour(cr, clip ? clipped : trace);
  cairo_stroke(cr);
}

HpDisplaySurface*
hp_display_render(HpDisplay* const d, const uint32_t w, const uint32_t h)
{
  const uint32_t width  = w < MAX_WIDTH ? w : MAX_WIDTH;
  const uint32_t height = width / 3u < h ? width / 3u : h;
  if (!width || !height) {
    return NULL;
  }
  if (!d->surface || (uint32_t)d->image.width != width ||
      (uint32_t)d->image.height != height) {
    if (d->surface) {
      cairo_surface_destroy(d->surface);
    }
    d->surface =
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)width, (int)height);
    d->image.width  = (int)width;
    d->image.height = (int)height;
    if (cairo_surface_status(d->surface) != CAIRO_STATUS_SUCCESS) {
      cairo_surface_destroy(d->surface);
      d->surface = NULL;
      return NULL;
    }
  }
  HpDisplaySnapshot s;
  hp_display_snapshot(
    d, (uint32_t)(d->rate * PIXEL_SECONDS * (float)width), &s);

  cairo_t* const cr = cairo_create(d->surface);
  set_colour(cr, background);
  cairo_paint(cr);
  /* A status line when there is room for one; else the scope alone, with
     a swap as a frame around it. */
  const double row = height >= 30u && width >= 60u
                       ? fmin(14.0, fmax(11.0, floor(0.25 * height)))
                       : 0.0;
  if (row > 0.0) {
    draw_status(cr, &s, width, row);
  }
  draw_scope(cr, &s, width, row, height - row);
  if (row == 0.0 && (s.swapping || s.swap_waiting)) {
    set_colour(cr, s.swap_waiting ? wait_colour : swap_colour);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, 0.5, 0.5, width - 1.0, height - 1.0);
    cairo_stroke(cr);
  }
  cairo_destroy(cr);
  cairo_surface_flush(d->surface);

  d->image.data   = cairo_image_surface_get_data(d->surface);
  d->image.stride = cairo_image_surface_get_stride(d->surface);
  return &d->image;
}
