/* Ardour's inline display (plugin/display.c), drawn as Ardour draws it: the
   plugin's render() through the test host at a strip's sizes while a tone
   plays, its pictures read back pixel by pixel (the trace where a sine of
   that level must be, standing still between renders), idpy:queue_draw's
   calls counted, run() checked for forbidden calls with the display on,
   and render() in a thread of its own beside run() (the CI runs this under
   ThreadSanitizer).  What the picture's status line shows is checked where
   render() reads it: the snapshot of what run() published. */

#include "display.h"
#include "fixture.h"
#include "host.h"
#include "rtcheck.h"

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define MAX_PICTURE_WIDTH 2048

/* A picture read back.  Rows count from the top. */
typedef struct {
  int    width;
  int    height;
  int    guide[3]; /* the rows of the guides at +0.5, 0 and -0.5 */
  int    n_guides;
  int    top; /* the trace's highest and lowest rows; -1: no trace */
  int    bottom;
  int    columns;                /* columns the trace is in */
  double row[MAX_PICTURE_WIDTH]; /* each column's trace row, NAN: none */
} Picture;

static void
pixel(const HpDisplaySurface* const s,
      const int                     x,
      const int                     y,
      int* const                    r,
      int* const                    g,
      int* const                    b)
{
  uint32_t argb = 0;
  memcpy(&argb, s->data + (size_t)y * (size_t)s->stride + 4u * (size_t)x, 4);
  *r = (int)(argb >> 16u & 0xFFu);
  *g = (int)(argb >> 8u & 0xFFu);
  *b = (int)(argb & 0xFFu);
}

/* The trace is green (antialiased at its edges); the guides are grey rows
   across the scope. */
static bool
is_trace(const int r, const int g, const int b)
{
  return g >= 60 && g >= r + 25 && g >= b + 25;
}

static bool
is_guide(const int r, const int g, const int b)
{
  return r == g && g == b && r >= 40 && r <= 90;
}

static void
read_picture(const HpDisplaySurface* const s, Picture* const p)
{
  CHECK(s && s->data && s->width > 0 && s->height > 0);
  CHECK(s->width <= MAX_PICTURE_WIDTH && s->stride >= 4 * s->width);
  memset(p, 0, sizeof(*p));
  p->width  = s->width;
  p->height = s->height;
  p->top    = -1;
  p->bottom = -1;
  for (int y = 0; y < s->height; ++y) {
    int guides = 0;
    for (int x = 0; x < s->width; ++x) {
      int r = 0, g = 0, b = 0;
      pixel(s, x, y, &r, &g, &b);
      guides += is_guide(r, g, b);
    }
    /* The trace covers a guide where it crosses it. */
    if (guides * 5 >= s->width * 2) {
      if (p->n_guides < 3) {
        p->guide[p->n_guides] = y;
      }
      ++p->n_guides;
    }
  }
  for (int x = 0; x < s->width; ++x) {
    double sum = 0.0, weight = 0.0;
    for (int y = 0; y < s->height; ++y) {
      int r = 0, g = 0, b = 0;
      pixel(s, x, y, &r, &g, &b);
      if (is_trace(r, g, b)) {
        p->top    = p->top < 0 || y < p->top ? y : p->top;
        p->bottom = y > p->bottom ? y : p->bottom;
        sum += (double)(g - r) * y;
        weight += g - r;
      }
    }
    p->row[x] = weight > 0.0 ? sum / weight : (double)NAN;
    p->columns += weight > 0.0;
  }
}

/* The scope's guides at +0.5, 0 and -0.5 of full scale, full scale from
   the centre to the picture's bottom; the trace of a sine of `peak` in
   every column, spanning 2 x peak of it around the centre.  Returns the
   picture's figures as a line for the report. */
static void
check_trace(const Picture* const p,
            const double         peak,
            const char* const    what,
            char* const          figures,
            const size_t         size)
{
  CHECK_MSG(p->n_guides == 3,
            "%s: %d guide rows in the %dx%d picture, want 3",
            what,
            p->n_guides,
            p->width,
            p->height);
  const int    centre = p->guide[1];
  const double half   = p->height - centre; /* full scale, in rows */
  CHECK_MSG(fabs((p->guide[2] - centre) - half / 2.0) <= 1.0 &&
              fabs((centre - p->guide[0]) - half / 2.0) <= 1.0,
            "%s: guides at rows %d, %d, %d of %d",
            what,
            p->guide[0],
            centre,
            p->guide[2],
            p->height);
  const int    span = p->bottom - p->top; /* rows from peak to trough */
  const double want = 2.0 * peak * half;
  CHECK_MSG(p->columns >= p->width - 1 && fabs(span - want) <= 2.0 &&
              fabs(0.5 * (p->top + p->bottom) - centre) <= 1.0,
            "%s: trace in %d of %d columns, rows %d..%d (span %d, want %.1f "
            "around row %d)",
            what,
            p->columns,
            p->width,
            p->top,
            p->bottom,
            span,
            want,
            centre);
  snprintf(figures,
           size,
           "%dx%d: guides at rows %d/%d/%d, the trace in %d columns, rows "
           "%d..%d: a span of %d for %.1f wanted",
           p->width,
           p->height,
           p->guide[0],
           centre,
           p->guide[2],
           p->columns,
           p->top,
           p->bottom,
           span,
           want);
}

/* How far the trace moved from `a` to `b`: the largest and the mean
   difference of the columns' rows. */
static void
trace_moved(const Picture* const a,
            const Picture* const b,
            double* const        largest,
            double* const        mean)
{
  CHECK(a->width == b->width);
  *largest   = 0.0;
  double sum = 0.0;
  int    n   = 0;
  for (int x = 0; x < a->width; ++x) {
    if (!isnan(a->row[x]) && !isnan(b->row[x])) {
      const double d = fabs(a->row[x] - b->row[x]);
      *largest       = d > *largest ? d : *largest;
      sum += d;
      ++n;
    }
  }
  CHECK(n > a->width / 2);
  *mean = sum / n;
}

static void
play(HpHost* const host, const uint64_t frames, const uint32_t block)
{
  CHECK(!hp_host_render(
    host, frames, (HpBlockPolicy){HP_BLOCK_FIXED, block, 0, 0}));
}

/* A sine of `peak` at 440 Hz (a period of 109.09 frames: no block length
   here is a whole number of them). */
static void
play_sine(HpHost* const host, const float peak)
{
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create s sine");
  fx_send(host, -1, "/patch/set s freq 440");
  fx_sendf(host, -1, "/patch/set s gain %g", (double)peak);
  fx_send(host, -1, "/patch/commit crossfade=0");
}

/* The strip's sizes Ardour asks for, and how large the picture must be:
   as wide as asked, a third of that high at most. */
static const struct {
  uint32_t w, h;
  int      width, height;
} sizes[] = {{200, 60, 200, 60},
             {120, 120, 120, 40},
             {300, 50, 300, 50},
             {40, 20, 40, 13},
             {200, 200, 200, 66}};

static void
test_sizes(void)
{
  HpHost* const host = fx_host_cfg(
    (HpHostConfig){.worker_mode = HP_WORKER_SYNC, .inline_display = true});
  play_sine(host, 0.5f);
  /* Past the swap's 250 ms: a small picture frames it over the scope. */
  play(host, 14400, 256);
  char figures[256];
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); ++i) {
    const HpDisplaySurface* const s =
      hp_host_render_display(host, sizes[i].w, sizes[i].h);
    CHECK_MSG(s && s->width == sizes[i].width && s->height == sizes[i].height,
              "asked %ux%u, got %dx%d",
              sizes[i].w,
              sizes[i].h,
              s ? s->width : 0,
              s ? s->height : 0);
    static Picture p;
    read_picture(s, &p);
    check_trace(&p, 0.5, "a 0.5 sine", figures, sizeof(figures));
    printf(
      "# asked %ux%u, a sine at 0.5: %s\n", sizes[i].w, sizes[i].h, figures);
  }
  /* Nothing to draw in, and a size beyond what any strip asks. */
  CHECK(!hp_host_render_display(host, 0, 60));
  CHECK(!hp_host_render_display(host, 200, 0));
  const HpDisplaySurface* const huge =
    hp_host_render_display(host, 1u << 20, 1u << 20);
  CHECK_MSG(huge && huge->width == 2048 && huge->height == 682,
            "asked 2^20 x 2^20: %dx%d",
            huge ? huge->width : 0,
            huge ? huge->height : 0);
  printf("# larger than any strip: asked 2^20 x 2^20, drawn %dx%d\n",
         huge->width,
         huge->height);

  /* Half the level: half the span. */
  fx_send(host, -1, "/patch/set s gain 0.25");
  play(host, 4800, 256);
  static Picture quarter;
  read_picture(hp_host_render_display(host, 200, 60), &quarter);
  check_trace(&quarter, 0.25, "a 0.25 sine", figures, sizeof(figures));
  printf("# a sine at 0.25: %s\n", figures);
  hp_host_free(host);
}

/* A steady tone's trace stands still: pictures some blocks apart (1280
   frames, 11.73 periods: untriggered, the trace would move by 0.73 of a
   period, 16 columns at 200) show it in the same rows. */
static void
test_still(void)
{
  HpHost* const host = fx_host_cfg(
    (HpHostConfig){.worker_mode = HP_WORKER_SYNC, .inline_display = true});
  play_sine(host, 0.5f);
  play(host, 9600, 256);
  static Picture first, later;
  read_picture(hp_host_render_display(host, 200, 60), &first);
  double worst = 0.0;
  for (int k = 1; k <= 4; ++k) {
    play(host, 1280u + (uint32_t)k * 37u, 64);
    read_picture(hp_host_render_display(host, 200, 60), &later);
    double largest = 0.0, mean = 0.0;
    trace_moved(&first, &later, &largest, &mean);
    CHECK_MSG(largest <= 0.5 && mean <= 0.1,
              "the trace moved %.3f rows at most, %.3f on average, after "
              "%u more frames",
              largest,
              mean,
              1280u + (uint32_t)k * 37u);
    worst = largest > worst ? largest : worst;
  }
  printf("# a steady 440 Hz tone, 200x60, four pictures 1317..1428 frames "
         "apart: the trace's columns moved %.3f rows at most\n",
         worst);
  hp_host_free(host);
}

/* The effect's display: its input (a 0.5 sine) passing through. */
static void
test_effect(void)
{
  HpHost* const host = fx_host_cfg((HpHostConfig){.plugin_uri  = HP_FX_URI,
                                                  .worker_mode = HP_WORKER_SYNC,
                                                  .inline_display = true});
  static float  in[24000];
  for (size_t i = 0; i < 24000; ++i) {
    in[i] = 0.5f *
            (float)sin(2.0 * 3.14159265358979323846 * 440.0 * (double)i / RATE);
  }
  CHECK(!hp_host_set_input(host, in, in, 24000));
  play(host, 12000, 256);
  static Picture p;
  read_picture(hp_host_render_display(host, 200, 60), &p);
  char figures[256];
  check_trace(&p, 0.5, "the effect's input", figures, sizeof(figures));
  printf("# the effect passing a sine at 0.5 through: %s\n", figures);
  hp_host_free(host);
}

/* idpy:queue_draw: after a swap at once, and 20 times a second while it
   sounds; never when silent and unchanged. */
static void
test_queue_draw(void)
{
  HpHost* const host = fx_host_cfg(
    (HpHostConfig){.worker_mode = HP_WORKER_SYNC, .inline_display = true});
  /* The default patch, silent until a note. */
  play(host, 24000, 256);
  uint64_t calls = hp_host_queue_draws(host);
  play(host, 48000, 256);
  const uint64_t silent = hp_host_queue_draws(host) - calls;
  CHECK_MSG(
    silent == 0, "%llu calls in a silent second", (unsigned long long)silent);

  hp_host_note_on(host, hp_host_frames(host), 57, 100);
  calls = hp_host_queue_draws(host);
  play(host, 96000, 256);
  const uint64_t sounding = hp_host_queue_draws(host) - calls;
  CHECK_MSG(sounding >= 39 && sounding <= 41,
            "%llu calls in 2 s of a note",
            (unsigned long long)sounding);

  /* The release (250 ms) ends in silence: a last picture of it, then no
     more. */
  hp_host_note_off(host, hp_host_frames(host), 57);
  calls = hp_host_queue_draws(host);
  play(host, 48000, 256);
  const uint64_t release = hp_host_queue_draws(host) - calls;
  calls                  = hp_host_queue_draws(host);
  play(host, 48000, 256);
  const uint64_t after = hp_host_queue_draws(host) - calls;
  CHECK_MSG(release >= 5 && release <= 12 && after == 0,
            "%llu calls in the second of the release, %llu in the next",
            (unsigned long long)release,
            (unsigned long long)after);

  /* A swap in silence: a call in its block; then the new generation and
     the swap's end are drawn. */
  fx_send(host, -1, "/patch/voices 2");
  fx_send(host, -1, "/patch/commit crossfade=0");
  const size_t swaps = hp_host_count_events(host, HP_EV_SWAPPED);
  calls              = hp_host_queue_draws(host);
  play(host, 256, 256);
  CHECK(hp_host_count_events(host, HP_EV_SWAPPED) == swaps + 1);
  const uint64_t at_swap = hp_host_queue_draws(host) - calls;
  calls                  = hp_host_queue_draws(host);
  play(host, 48000, 256);
  const uint64_t after_swap = hp_host_queue_draws(host) - calls;
  CHECK_MSG(at_swap == 1 && after_swap >= 1 && after_swap <= 3,
            "%llu calls in the swap's block, %llu in the second after",
            (unsigned long long)at_swap,
            (unsigned long long)after_swap);

  /* Blocks longer than a redraw's period: once a block. */
  hp_host_note_on(host, hp_host_frames(host), 57, 100);
  play(host, 4096, 4096);
  calls = hp_host_queue_draws(host);
  play(host, 4096 * 24, 4096);
  const uint64_t long_blocks = hp_host_queue_draws(host) - calls;
  CHECK_MSG(long_blocks == 24,
            "%llu calls in 24 blocks of 4096",
            (unsigned long long)long_blocks);
  printf("# queue_draw: %llu calls in a silent second; %llu in 2 s of a "
         "note (%.1f a second, blocks of 256); %llu in the second of its "
         "release, %llu in the silent one after; %llu in a swap's block, %llu "
         "in the second after; %llu in 24 blocks of 4096 (%.1f a second)\n",
         (unsigned long long)silent,
         (unsigned long long)sounding,
         (double)sounding / 2.0,
         (unsigned long long)release,
         (unsigned long long)after,
         (unsigned long long)at_swap,
         (unsigned long long)after_swap,
         (unsigned long long)long_blocks,
         (double)long_blocks * RATE / (4096.0 * 24.0));
  hp_host_free(host);
}

/* A host that offers no queue_draw is never asked to draw, and still gets
   pictures: the scope fills once render() has been called. */
static void
test_no_queue_draw(void)
{
  HpHost* const host = fx_host(HP_WORKER_SYNC, 0);
  play_sine(host, 0.5f);
  play(host, 4800, 256);
  CHECK(hp_host_render_display(host, 200, 60));
  play(host, 4800, 256);
  static Picture p;
  read_picture(hp_host_render_display(host, 200, 60), &p);
  char figures[256];
  check_trace(&p, 0.5, "without queue_draw", figures, sizeof(figures));
  fx_send(host, -1, "/patch/voices 2");
  fx_send(host, -1, "/patch/commit crossfade=0");
  play(host, 48000, 256);
  CHECK(hp_host_count_events(host, HP_EV_SWAPPED) == 2);
  CHECK_MSG(hp_host_queue_draws(host) == 0,
            "%llu calls to a queue_draw never offered",
            (unsigned long long)hp_host_queue_draws(host));
  printf("# no queue_draw offered: none called over 1.2 s of a tone and two "
         "swaps; the second picture: %s\n",
         figures);
  hp_host_free(host);
}

/* Notes and commits (crossfades and tails) every half second: what the
   display is shown while run() goes on. */
static void
play_busy(HpHost* const host, const uint64_t seconds)
{
  static const uint8_t chord[3] = {57, 60, 64};
  fx_send(host, -1, "/patch/voices 8");
  fx_send(host, -1, "/patch/commit");
  for (uint64_t half = 0; half < 2u * seconds; ++half) {
    const uint64_t now = hp_host_frames(host);
    for (int k = 0; k < 3; ++k) {
      if (half % 2u) {
        hp_host_note_off(host, now + 100u * (uint64_t)k, chord[k]);
      } else {
        hp_host_note_on(host, now + 100u * (uint64_t)k, chord[k], 100);
      }
    }
    fx_sendf(host, -1, "/patch/set env attack %d", 5 + (int)(half % 7u));
    fx_send(host,
            -1,
            half % 3u ? "/patch/commit crossfade=50" : "/patch/commit tail");
    play(host, 24000, 256);
  }
}

/* With the display on (queue_draw offered, pictures drawn), run() still
   never allocates, locks, waits or prints. */
static void
test_rt(void)
{
  HpHost* const host = fx_host_cfg(
    (HpHostConfig){.worker_mode = HP_WORKER_THREADED, .inline_display = true});
  CHECK(hp_host_render_display(host, 200, 60));
  hp_rt_reset();
  play_busy(host, 2);
  CHECK(hp_host_render_display(host, 200, 60));
  HpRtCounts counts;
  hp_rt_counts(&counts);
  hp_rt_require_none(&counts);
  printf("# display on, 2 s of chords and 4 commits: %llu forbidden calls in "
         "run(), %llu queue_draw calls\n",
         (unsigned long long)counts.total,
         (unsigned long long)hp_host_queue_draws(host));
  hp_host_free(host);
}

/* render() in a thread of its own, as Ardour's GUI thread, at every size,
   a picture a millisecond, while run() plays in real time: run() never
   waits for it, and the two share nothing but atomics (ThreadSanitizer
   says so in the CI). */
typedef struct {
  HpHost*     host;
  atomic_bool stop;
  unsigned    renders;
  unsigned    bad; /* pictures of a wrong size */
} Drawer;

static void*
draw_loop(void* const arg)
{
  Drawer* const d = (Drawer*)arg;
  while (!atomic_load(&d->stop)) {
    const size_t i = d->renders % (sizeof(sizes) / sizeof(sizes[0]));
    const HpDisplaySurface* const s =
      hp_host_render_display(d->host, sizes[i].w, sizes[i].h);
    d->bad += !s || s->width != sizes[i].width || s->height != sizes[i].height;
    ++d->renders;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  return NULL;
}

static void
test_concurrent(void)
{
  Drawer d;
  d.host = fx_host_cfg((HpHostConfig){.worker_mode    = HP_WORKER_THREADED,
                                      .inline_display = true,
                                      .pace_realtime  = true});
  atomic_init(&d.stop, false);
  d.renders = 0;
  d.bad     = 0;
  pthread_t thread;
  CHECK(!pthread_create(&thread, NULL, draw_loop, &d));
  play_busy(d.host, 3);
  atomic_store(&d.stop, true);
  CHECK(!pthread_join(thread, NULL));
  CHECK_MSG(d.renders >= 100 && d.bad == 0,
            "%u pictures drawn beside run(), %u of a wrong size",
            d.renders,
            d.bad);
  printf("# %u pictures drawn in a thread of their own during 3 s of chords "
         "and 6 commits, all of the size asked; %llu queue_draw calls\n",
         d.renders,
         (unsigned long long)hp_host_queue_draws(d.host));
  hp_host_free(d.host);
}

/* What the status line shows, as render() reads it: the display fed by an
   engine block by block as the plugin's run() feeds it. */
static HpEngine*  engine;
static HpDisplay* display;

static void
engine_play(const uint32_t blocks, const uint8_t* const midi)
{
  static float l[256], r[256];
  for (uint32_t k = 0; k < blocks; ++k) {
    hp_engine_begin(engine, 256);
    if (midi && !k) {
      hp_engine_midi(engine, midi, 3);
    }
    hp_engine_render(engine, l, r, 256);
    hp_engine_end(engine);
    HpEngineStatus status;
    hp_engine_status(engine, &status);
    hp_display_run(display, l, r, 256, &status);
    hp_engine_work(engine); /* frees what run() retired */
    HpEvent ev;
    while (hp_engine_next_event(engine, &ev)) {
    }
  }
}

static void
engine_load(const char* const text)
{
  HpError err;
  CHECK_MSG(!hp_engine_load_text(engine, text, &err), "%s", err.message);
}

static void
test_snapshot(void)
{
  engine  = hp_engine_new((float)RATE, NULL, NULL, NULL, NULL, false);
  display = hp_display_new((float)RATE, NULL);
  CHECK(engine && display);
  HpDisplaySnapshot s;
  hp_display_snapshot(display, 960, &s); /* a host that draws */
  engine_load("/patch/clear\n/patch/voices 8\n/patch/create midi midi\n"
              "/patch/create osc sine\n/patch/create env adsr\n"
              "/patch/set env release 50\n"
              "/patch/connect midi:freq osc:freq\n"
              "/patch/connect midi:gate env:gate\n/patch/connect osc env\n"
              "/patch/commit crossfade=0\n");
  engine_play(1, NULL);
  hp_display_snapshot(display, 960, &s);
  const uint32_t first = s.generation;
  CHECK_MSG(first >= 1 && s.voices == 8 && s.voices_sounding == 0 && s.swapping,
            "after the first swap: generation %u, %u of %u voices, swapping %d",
            s.generation,
            s.voices_sounding,
            s.voices,
            s.swapping);
  /* A chord of three. */
  static const uint8_t on[3][3] = {
    {0x90, 60, 100}, {0x90, 64, 100}, {0x90, 67, 100}};
  for (int k = 0; k < 3; ++k) {
    engine_play(1, on[k]);
  }
  engine_play(80, NULL); /* past the swap's 250 ms */
  hp_display_snapshot(display, 960, &s);
  CHECK_MSG(s.generation == first && s.voices == 8 && s.voices_sounding == 3 &&
              !s.swapping,
            "a chord of 3: generation %u, %u of %u voices, swapping %d",
            s.generation,
            s.voices_sounding,
            s.voices,
            s.swapping);
  const uint32_t chord = s.voices_sounding;

  /* A commit with a crossfade: the next generation, the notes kept, a
     swap under way. */
  engine_load("/patch/voices 6\n/patch/commit crossfade=100\n");
  engine_play(4, NULL);
  hp_display_snapshot(display, 960, &s);
  CHECK_MSG(s.generation == first + 1 && s.voices == 6 &&
              s.voices_sounding == 3 && s.swapping,
            "crossfading: generation %u, %u of %u voices, swapping %d",
            s.generation,
            s.voices_sounding,
            s.voices,
            s.swapping);
  engine_play(75, NULL); /* 100 ms of crossfade, then 250 ms */
  HpDisplaySnapshot done;
  hp_display_snapshot(display, 960, &done);
  CHECK(!done.swapping);

  /* The chord released: no voice sounds. */
  static const uint8_t off[3][3] = {
    {0x80, 60, 0}, {0x80, 64, 0}, {0x80, 67, 0}};
  for (int k = 0; k < 3; ++k) {
    engine_play(1, off[k]);
  }
  engine_play(40, NULL);
  HpDisplaySnapshot released;
  hp_display_snapshot(display, 960, &released);
  CHECK_MSG(released.voices_sounding == 0,
            "released: %u voices sound",
            released.voices_sounding);

  /* One note: the scope starts at its rising zero crossing. */
  static const uint8_t note[3] = {0x90, 69, 100};
  engine_play(1, note);
  engine_play(40, NULL);
  HpDisplaySnapshot one;
  hp_display_snapshot(display, 960, &one);
  float peak = 0.0f;
  for (uint32_t i = 0; i < one.scope_len; ++i) {
    peak = fmaxf(peak, fabsf(one.scope[i]));
  }
  CHECK_MSG(one.triggered && one.scope_len == 960 && peak > 0.1f &&
              fabsf(one.scope[0]) < 0.01f * peak && one.scope[1] > one.scope[0],
            "one note: triggered %d, %u frames, peak %.3f, starting %.4f, %.4f",
            one.triggered,
            one.scope_len,
            (double)peak,
            (double)one.scope[0],
            (double)one.scope[1]);
  /* A quantized commit waits for the bar line (120 bpm, 4 beats: 2 s)
     and says so; then it swaps. */
  hp_engine_time(engine, 0.5, 0.5, 120.0f, 4.0f, 1.0f);
  engine_load("/patch/voices 4\n/patch/commit crossfade=0 quant=bar\n");
  engine_play(2, NULL);
  HpDisplaySnapshot waiting;
  hp_display_snapshot(display, 960, &waiting);
  engine_play(370, NULL); /* 1.97 s: the bar line is 1.75 s away */
  HpDisplaySnapshot at_bar;
  hp_display_snapshot(display, 960, &at_bar);
  CHECK_MSG(waiting.swap_waiting && waiting.generation == s.generation &&
              !at_bar.swap_waiting && at_bar.generation == s.generation + 1u,
            "quant=bar: waiting %d at generation %u, then %d at %u",
            waiting.swap_waiting,
            waiting.generation,
            at_bar.swap_waiting,
            at_bar.generation);
  printf("# snapshot: a quant=bar commit shows `wait` until the bar line, "
         "then generation %u\n",
         at_bar.generation);
  printf("# snapshot: generation %u, then a chord of %u on %u voices, then "
         "generation %u crossfading (%u of %u voices, swapping), swap shown "
         "until it ends: %s; released: %u sounding; one note: the scope starts "
         "at %.4f of a %.3f peak, rising\n",
         first,
         chord,
         8u,
         s.generation,
         s.voices_sounding,
         s.voices,
         done.swapping ? "no" : "yes",
         released.voices_sounding,
         (double)one.scope[0],
         (double)peak);
  hp_display_free(display);
  hp_engine_free(engine);
}

int
main(void)
{
  CHECK_MSG(!hp_rt_available() || !hp_rt_check_linkage(),
            "rtcheck linkage: %s",
            hp_rt_check_linkage());
  test_sizes();
  test_still();
  test_effect();
  test_queue_draw();
  test_no_queue_draw();
  test_rt();
  test_concurrent();
  test_snapshot();
  /* The fonts the pictures' text loaded stay in Cairo's and fontconfig's
     caches for the process's life: free them, so that valgrind and
     LeakSanitizer see only our own leaks. */
  cairo_debug_reset_static_data();
  FcFini();
  return 0;
}
