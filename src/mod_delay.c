/*
  delay: an echo with feedback, a line of up to 20 s in the module's memory
  (dsp.h's ring: Hermite reads, exact at whole frames).

  Per frame: the wet signal is read `delay` frames back, the damping
  low-pass filters it, and in + feedback * that is written; out = in * (1 -
  mix) + wet * mix.  The first echo is the input itself, the k-th has been
  round the loop k - 1 times (feedback^(k-1)).  What the line keeps is
  soft-clipped above 0 dBFS toward 2 (+6 dB): below full scale the loop is
  linear, and above it feedback up to 1.2 settles into a bounded drone
  (|wet| <= 2.5: the interpolator's overshoot on the clip's ceiling)
  instead of growing forever.

  The delay glides to the set time (or beats) at most GLIDE frames per
  frame, like a tape delay's heads when the knob turns: the echoes bend in
  pitch, never click.  The graph turns a live set into a 5 ms glide of
  its own, a signal like any other, so signals glide too; an LFO on `time`
  passes unchanged while the pitch it makes stays within those bounds.

  In a loop through `wet` (io->looped) prefetch() reads the chunk's wet
  signal before anything runs, from the state and the line alone: the
  delay follows the time set at the previous chunk's end, a chunk late
  (delay_read_ahead), and is at least HP_CHUNK frames, so no read reaches
  the chunk's own writes.  process() then writes the line.

  process() goes span by span, reading a span's wet signal before writing
  it: the whole call, unless the delay is shorter (then spans as long as
  the tap's nearest point is back, or frame by frame where they would be
  a few frames).  With feedback and mix constant
  each step is a loop over the span that the compiler vectorizes: the
  settled tap read as a run (copied at a whole frame), the line written
  with the knee's curve only for a run that exceeds 0 dBFS, the mix.
*/

#include "dsp.h"
#include "module.h"

#include <stdbool.h>

enum { P_TIME, P_FEEDBACK, P_MIX, P_BEATS, P_DAMPING, P_MAX, N_PARAMS };
enum { IN_IN, N_INPUTS };
enum { OUT_OUT, OUT_WET, N_OUTPUTS };

#define MAX_MS 20000.0f
#define MAX_FEEDBACK 1.2f
#define MAX_BEATS 16.0f
#define MAX_DAMPING 20000.0f
#define MIN_SECONDS 0.1f
#define MAX_SECONDS 20.0f

/* Most the delay changes per frame while it glides: the echoes' pitch stays
   between an octave down (lengthening) and a fifth up (shortening). */
#define GLIDE 0.5

typedef struct {
  double   delay;  /* frames back the wet signal is read, gliding */
  double   target; /* where it glides: the time set at the last frame */
  uint32_t write;  /* frame counter: the ring index of the next input */
  float    lp;     /* the damping low-pass's state */
  uint32_t primed; /* set by a process(): a new module starts at its time */
} DelayState;

/* One call's ring and delays. */
typedef struct {
  float*       ring;
  uint32_t     mask;
  bool         read, write; /* HpMemAccess, with no ring as NONE */
  uint32_t     nearest;     /* the shortest delay: 1, or HP_CHUNK looped */
  double       cap;         /* the longest the ring holds, frames */
  double       longest;     /* the longest set: cap, or `max` if less */
  float        rate;
  const float* follow;  /* the time signal (ms), or NULL: `target` */
  double       target;  /* the delay set, frames */
  double       speed;   /* frames a frame the delay glides, at most */
  bool         settled; /* delay at target: `tap` for the whole call */
  HpTap        tap;
} Plan;

static double
delay_clamp(const double frames, const double cap)
{
  return frames > 1.0 ? (frames < cap ? frames : cap) : 1.0;
}

static double
delay_ms(const float ms, const Plan* const p)
{
  return delay_clamp(hp_ms_to_frames(hp_clampf(ms, 0.0f, MAX_MS), p->rate),
                     p->longest);
}

static void
delay_init(void* const state, const HpParamIn* const param, const float rate)
{
  /* For a loop's first prefetch(), before any process() has read the
     parameters: the line is empty then, but the delay is where it
     should be. */
  DelayState* const st = (DelayState*)state;
  st->target           = delay_clamp(
    hp_ms_to_frames(hp_clampf(param[P_TIME].value, 0.0f, MAX_MS), rate),
    (double)(MAX_SECONDS * rate));
  st->delay = st->target;
}

/* The ring and the state's delays, without the parameters (prefetch()
   may not read them): the delay glides to the state's target. */
static Plan
delay_plan(const HpNodeIO* const io)
{
  DelayState* const st     = (DelayState*)io->state;
  const uint32_t    frames = hp_ring_frames(io);
  const HpMemAccess access = hp_ring_access(io, frames);
  Plan              p      = {0};
  p.ring                   = io->mem;
  p.mask                   = frames - 1u;
  p.read                   = access != HP_MEM_NONE;
  p.write                  = access == HP_MEM_OWN;
  p.nearest                = io->looped ? HP_CHUNK : 1u;
  p.cap                    = frames ? (double)(frames - HP_RING_REACH)
                                    : (double)(MAX_SECONDS * io->rate);
  p.longest                = p.cap;
  p.rate                   = io->rate;
  p.follow                 = NULL;
  p.target                 = delay_clamp(st->target, p.cap);
  p.speed                  = GLIDE;
  return p;
}

/* The delay set by the parameters: process() only. */
static void
delay_set(const HpNodeIO* const io, Plan* const p)
{
  const HpParamIn* const time = &io->param[P_TIME];
  /* `max` may be below the ring, which is a power of two (and changes
     only at a commit). */
  const double max_frames = (double)hp_clampf(hp_param_first(&io->param[P_MAX]),
                                              MIN_SECONDS,
                                              MAX_SECONDS) *
                            (double)io->rate;
  p->longest = max_frames < p->cap ? max_frames : p->cap;
  /* Beats are a setting (read once a call), like the host's tempo. */
  const float beats =
    hp_clampf(hp_param_first(&io->param[P_BEATS]), 0.0f, MAX_BEATS);
  if (beats > 0.0f && io->time->known) {
    const double bpm = (double)hp_clampf(io->time->bpm, 1.0f, 1000.0f);
    p->target =
      delay_clamp((double)beats * 60.0 / bpm * (double)io->rate, p->longest);
  } else if (time->signal) {
    p->follow = time->signal;
    p->target = delay_ms(time->signal[0], p);
  } else {
    p->target = delay_ms(time->value, p);
  }
}

/* Where the call starts.  `prime`: a new module starts at its time (a
   process() call, which knows it); a delay out of the ring (a new,
   smaller memory: empty anyway) starts over. */
static void
delay_start(DelayState* const st, Plan* const p, const bool prime)
{
  if ((prime && !st->primed) || !(st->delay >= 1.0 && st->delay <= p->cap)) {
    st->delay = p->target;
  }
  st->primed |= prime;
  p->settled = !p->follow && st->delay == p->target;
  p->tap =
    hp_ring_tap(st->delay > p->nearest ? st->delay : p->nearest, p->nearest);
}

/* Frame i's wet signal: read from the frames before st->write + i, the
   glide advanced a frame.  Inlined: a call costs as much again. */
HP_ALWAYS_INLINE float
delay_read(DelayState* const st, const Plan* const p, const uint32_t i)
{
  if (p->settled) {
    return p->read ? hp_ring_read(p->ring, p->mask, st->write + i, &p->tap)
                   : 0.0f;
  }
  const double to   = p->follow ? delay_ms(p->follow[i], p) : p->target;
  const double step = to - st->delay;
  st->delay =
    fabs(step) <= p->speed ? to : st->delay + copysign(p->speed, step);
  const HpTap tap =
    hp_ring_tap(st->delay > p->nearest ? st->delay : p->nearest, p->nearest);
  return p->read ? hp_ring_read(p->ring, p->mask, st->write + i, &tap) : 0.0f;
}

/* Frames [from, to)'s wet signal, into wet: settled, one tap read as a
   run. */
static void
delay_read_span(DelayState* const st,
                const Plan* const p,
                float* const      wet,
                const uint32_t    from,
                const uint32_t    to)
{
  if (p->settled && p->read) {
    hp_ring_read_run(
      p->ring, p->mask, st->write + from, &p->tap, wet + from, to - from);
    return;
  }
  for (uint32_t i = from; i < to; ++i) {
    wet[i] = delay_read(st, p, i);
  }
}

/* The frames a process() call reads before it writes them: none of their
   reads may reach their own writes.  All n when it does not write, or
   when even the glide (at most p->speed a frame) keeps every read before
   the call's first write (a read reaches back, whole, at least 2 frames
   less than its delay); else the nearest point of a settled tap, or a
   frame. */
static uint32_t
delay_span(const DelayState* const st, const Plan* const p, const uint32_t n)
{
  if (!p->write || st->delay >= (1.0 + p->speed) * (double)n + 2.0) {
    return n;
  }
  return p->settled ? p->tap.newer : 1u;
}

/* The wet signal of a looped call, before it runs.  The target is the
   time at the last call's end, and the delay moves toward it by a
   HP_CHUNK-th of the way a frame: it arrives at the end of a whole chunk,
   and shorter chunks take it there as smoothly (a time signal comes out a
   chunk late, but its speed whatever the chunks' sizes).  The floor lets
   it arrive, and the settled call read one tap. */
static void
delay_read_ahead(const HpNodeIO* const io, float* const wet, const uint32_t n)
{
  DelayState* const st = (DelayState*)io->state;
  Plan              p  = delay_plan(io);
  delay_start(st, &p, false);
  p.speed = fmin(GLIDE, fmax(fabs(p.target - st->delay) / HP_CHUNK, 1e-4));
  for (uint32_t i = 0; i < n; ++i) {
    wet[i] = delay_read(st, &p, i);
  }
}

/* What the line keeps of x: finite, linear to 0 dBFS, then a soft knee
   (slope 1 at the knee) toward 2. */
static inline float
delay_saturate(const float x)
{
  const float y    = hp_ring_sample(x);
  const float over = fabsf(y) - 1.0f;
  return over > 0.0f ? copysignf(1.0f + over / (1.0f + over), y) : y;
}

/* line[0, n) = what the line keeps of in + fb * back, if no sample is over
   0 dBFS (or infinite): then the knee is not reached and delay_saturate
   is hp_ring_sample, compares and a select, which the compiler
   vectorizes.  Returns whether one is: the run is then to be written
   again through delay_saturate. */
HP_ALWAYS_INLINE bool
delay_write_linear(float* const restrict line,
                   const float* const restrict in,
                   const float* const restrict back,
                   const float    fb,
                   const uint32_t n)
{
  int over = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const float x = in[i] + fb * back[i];
    over |= fabsf(x) > 1.0f;
    line[i] = hp_ring_sample(x);
  }
  return over;
}

/* Frames [from, to) of the line written with in + fb * back (back: the
   wet signal, damped), fb constant: a run for each stretch between the
   ring's wraps. */
static void
delay_write_constant(const DelayState* const st,
                     const Plan* const       p,
                     const float* const      in,
                     const float* const      back,
                     const float             fb,
                     const uint32_t          from,
                     const uint32_t          to)
{
  for (uint32_t i = from; i < to;) {
    const uint32_t at = (st->write + i) & p->mask;
    const uint32_t run =
      p->mask - at + 1u < to - i ? p->mask - at + 1u : to - i;
    float* const line = p->ring + at;
    const bool   over = run == HP_VEC
                          ? delay_write_linear(line, in + i, back + i, fb, HP_VEC)
                          : delay_write_linear(line, in + i, back + i, fb, run);
    if (over) {
      for (uint32_t j = 0; j < run; ++j) {
        line[j] = delay_saturate(in[i + j] + fb * back[i + j]);
      }
    }
    i += run;
  }
}

static void
delay_prefetch(const HpNodeIO* const io, const uint32_t n)
{
  /* Nothing reads it: process() reads for itself. */
  if (io->out[OUT_WET]) {
    delay_read_ahead(io, io->out[OUT_WET], n);
  }
}

/* out = in * (1 - mix) + wet * mix, mix constant. */
HP_ALWAYS_INLINE void
delay_mix(float* const       out,
          const float* const in,
          const float* const wet,
          const float        mix,
          const uint32_t     n)
{
  const float dry = 1.0f - mix;
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = in[i] * dry + wet[i] * mix;
  }
}

/* A process() call's signals and settings, once its wet signal is read. */
typedef struct {
  const float*     in;
  float*           wet;
  float*           out;
  const HpParamIn* feedback;
  const HpParamIn* mix;
  bool             damped; /* damping on: what feeds back is low-passed */
  float            damp;   /* the low-pass's coefficient */
} Loop;

/* Frames [from, to) written and mixed, frame by frame, each read first
   if `read` (else the wet signal is there).  Inlined, for a loop with
   `read` constant. */
HP_ALWAYS_INLINE void
delay_loop(DelayState* const st,
           const Plan* const p,
           const Loop* const l,
           const uint32_t    from,
           const uint32_t    to,
           const bool        read)
{
  /* Locals: the compiler must assume the line's writes may change any
     float behind a pointer (the tap's weights too). */
  const Plan         q        = *p;
  const HpParamIn    feedback = *l->feedback;
  const HpParamIn    mix      = *l->mix;
  const float* const in       = l->in;
  float* const       wet      = l->wet;
  float* const       out      = l->out;
  const bool         damped   = l->damped;
  const float        damp     = l->damp;
  float              lp       = st->lp;
  for (uint32_t i = from; i < to; ++i) {
    if (read) {
      wet[i] = delay_read(st, &q, i);
    }
    const float fb = hp_clampf(hp_param_at(&feedback, i), 0.0f, MAX_FEEDBACK);
    const float m  = hp_clampf(hp_param_at(&mix, i), 0.0f, 1.0f);
    lp             = damped ? lp + damp * (wet[i] - lp) : wet[i];
    if (q.write) {
      q.ring[(st->write + i) & q.mask] = delay_saturate(in[i] + fb * lp);
    }
    out[i] = in[i] * (1.0f - m) + wet[i] * m;
  }
  st->lp = lp;
}

/* The same, feedback and mix constant: each step a loop over the span,
   which the compiler vectorizes but for the damping's. */
static void
delay_loop_constant(DelayState* const st,
                    const Plan* const p,
                    const Loop* const l,
                    const uint32_t    from,
                    const uint32_t    to)
{
  float        damped[HP_CHUNK];
  const float* back = l->wet;
  if (l->damped) {
    float lp = st->lp;
    for (uint32_t i = from; i < to; ++i) {
      lp        = lp + l->damp * (l->wet[i] - lp);
      damped[i] = lp;
    }
    st->lp = lp;
    back   = damped;
  } else {
    st->lp = l->wet[to - 1u];
  }
  if (p->write) {
    delay_write_constant(st,
                         p,
                         l->in,
                         back,
                         hp_clampf(l->feedback->value, 0.0f, MAX_FEEDBACK),
                         from,
                         to);
  }
  const float m = hp_clampf(l->mix->value, 0.0f, 1.0f);
  if (to - from == HP_VEC) {
    delay_mix(l->out, l->in, l->wet, m, HP_VEC);
  } else {
    delay_mix(l->out + from, l->in + from, l->wet + from, m, to - from);
  }
}

static void
delay_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the echoes still ring out. */
  static const float silence[HP_CHUNK];

  DelayState* const st = (DelayState*)io->state;
  float             scratch[HP_CHUNK];
  float* const      wet = io->out[OUT_WET] ? io->out[OUT_WET] : scratch;

  /* Looped, prefetch() read the wet signal (or, with nothing reading it,
     did nothing, and it is read here the same way): the reads are all
     HP_CHUNK frames back, before this call's writes.  The parameters set
     where the next call glides. */
  if (io->looped && !io->out[OUT_WET]) {
    delay_read_ahead(io, wet, n);
  }
  Plan p = delay_plan(io);
  delay_set(io, &p);
  delay_start(st, &p, true);

  const float cutoff =
    hp_clampf(hp_param_first(&io->param[P_DAMPING]), 0.0f, MAX_DAMPING);
  const Loop l = {
    .in       = io->in[IN_IN] ? io->in[IN_IN] : silence,
    .wet      = wet,
    .out      = io->out[OUT_OUT],
    .feedback = &io->param[P_FEEDBACK],
    .mix      = &io->param[P_MIX],
    .damped   = cutoff > 0.0f,
    .damp =
      cutoff > 0.0f ? 1.0f - expf(-6.2831853f * cutoff * io->inv_rate) : 1.0f,
  };
  /* Span by span, each read before it is written (looped: read already).
     A span's loops cost more than they save below 8 frames with
     feedback and mix constant, 16 with a signal (callgrind): shorter
     ones go frame by frame. */
  const bool     constant = !l.feedback->signal && !l.mix->signal;
  const uint32_t span     = io->looped ? n : delay_span(st, &p, n);
  if (!io->looped && span < (constant ? 8u : 16u)) {
    delay_loop(st, &p, &l, 0, n, true);
  } else {
    for (uint32_t from = 0, to; from < n; from = to) {
      to = n - from > span ? from + span : n;
      if (!io->looped) {
        delay_read_span(st, &p, wet, from, to);
      }
      if (constant) {
        delay_loop_constant(st, &p, &l, from, to);
      } else {
        delay_loop(st, &p, &l, from, to, false);
      }
    }
  }
  st->target = p.follow ? delay_ms(p.follow[n - 1u], &p) : p.target;
  st->write += n;
  st->lp = isfinite(st->lp) ? (float)hp_flush_tiny((double)st->lp) : 0.0f;
}

static size_t
delay_memory(const HpParamIn* const param, const float rate)
{
  const float seconds =
    hp_clampf(hp_param_first(&param[P_MAX]), MIN_SECONDS, MAX_SECONDS);
  return hp_ring_size((double)seconds * (double)rate + HP_RING_REACH);
}

static const HpPortDesc delay_inputs[N_INPUTS] = {
  {"in", HP_SIGNAL_AUDIO, "The signal to echo."},
};

static const HpPortDesc delay_outputs[N_OUTPUTS] = {
  {"out",
   HP_SIGNAL_AUDIO,
   "The input and its echoes, mixed by mix: in * (1 - mix) + wet * mix."},
  {"wet",
   HP_SIGNAL_AUDIO,
   "The echoes alone (the line's output before mix); it may feed back into "
   "this delay's input through other modules, and the delay is then at "
   "least 256 frames (5.3 ms at 48 kHz)."},
};

static const HpParamDesc delay_params[N_PARAMS] = {
  {.name = "time",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "ms",
   .min  = 0.0f,
   .max  = MAX_MS,
   .def  = 375.0f,
   .doc  = "Delay time, ms, up to max (at least a frame, 256 frames in a "
           "loop); a change glides, bending the echoes' pitch like tape."},
  {.name    = "feedback",
   .aliases = (const char* const[]){"fb", "regen", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = MAX_FEEDBACK,
   .def     = 0.4f,
   .doc     = "Level of each echo against the one before: 0 is a single "
              "echo, 1 repeats forever, above 1 grows into a soft-clipped "
              "drone."},
  {.name = "mix",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "",
   .min  = 0.0f,
   .max  = 1.0f,
   .def  = 0.35f,
   .doc  = "Balance of out: 0 is the input alone (dry), 1 the echoes "
           "alone (wet)."},
  {.name = "beats",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "beats",
   .min  = 0.0f,
   .max  = MAX_BEATS,
   .def  = 0.0f,
   .doc  = "Delay time in beats of the host's tempo (0.75 = a dotted "
           "eighth), replacing time while the host sends its tempo; 0 is "
           "off."},
  {.name    = "damping",
   .aliases = (const char* const[]){"tone", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "Hz",
   .min     = 0.0f,
   .max     = MAX_DAMPING,
   .def     = 0.0f,
   .doc     = "Cutoff of a one-pole low-pass in the feedback, Hz: each repeat "
              "gets darker (2000 is tape-like); 0 is off."},
  {.name      = "max",
   .aliases   = (const char* const[]){"length", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "s",
   .min       = MIN_SECONDS,
   .max       = MAX_SECONDS,
   .def       = 4.0f,
   .log_scale = true,
   .doc = "Length of the delay line, seconds: the longest time it reaches; "
          "it sizes the memory, so a change takes effect at the next commit."},
};

const HpModuleDesc hp_mod_delay = {
  .type            = "delay",
  .aliases         = (const char* const[]){"echo", NULL},
  .doc             = "Echo with feedback, damping and tempo sync, gliding like "
                     "tape when its time changes.",
  .inputs          = delay_inputs,
  .n_inputs        = N_INPUTS,
  .outputs         = delay_outputs,
  .n_outputs       = N_OUTPUTS,
  .params          = delay_params,
  .n_params        = N_PARAMS,
  .state_size      = sizeof(DelayState),
  .init            = delay_init,
  .process         = delay_process,
  .memory          = delay_memory,
  .prefetch        = delay_prefetch,
  .delayed_outputs = 1u << OUT_WET,
};
