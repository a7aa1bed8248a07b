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
   glide advanced a frame. */
static inline float
delay_read(DelayState* const st, const Plan* const p, const uint32_t i)
{
  HpTap tap = p->tap;
  if (!p->settled) {
    const double to   = p->follow ? delay_ms(p->follow[i], p) : p->target;
    const double step = to - st->delay;
    st->delay =
      fabs(step) <= p->speed ? to : st->delay + copysign(p->speed, step);
    tap =
      hp_ring_tap(st->delay > p->nearest ? st->delay : p->nearest, p->nearest);
  }
  return p->read ? hp_ring_read(p->ring, p->mask, st->write + i, &tap) : 0.0f;
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

static void
delay_prefetch(const HpNodeIO* const io, const uint32_t n)
{
  /* Nothing reads it: process() reads for itself. */
  if (io->out[OUT_WET]) {
    delay_read_ahead(io, io->out[OUT_WET], n);
  }
}

static void
delay_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the echoes still ring out. */
  static const float silence[HP_CHUNK];

  DelayState* const      st       = (DelayState*)io->state;
  const float* const     in       = io->in[IN_IN] ? io->in[IN_IN] : silence;
  float* const           out      = io->out[OUT_OUT];
  const HpParamIn* const feedback = &io->param[P_FEEDBACK];
  const HpParamIn* const mix      = &io->param[P_MIX];
  float                  scratch[HP_CHUNK];
  float* const           wet = io->out[OUT_WET] ? io->out[OUT_WET] : scratch;

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
  const float damp =
    cutoff > 0.0f ? 1.0f - expf(-6.2831853f * cutoff * io->inv_rate) : 1.0f;
  for (uint32_t i = 0; i < n; ++i) {
    if (!io->looped) {
      wet[i] = delay_read(st, &p, i);
    }
    const float fb = hp_clampf(hp_param_at(feedback, i), 0.0f, MAX_FEEDBACK);
    const float m  = hp_clampf(hp_param_at(mix, i), 0.0f, 1.0f);
    st->lp         = cutoff > 0.0f ? st->lp + damp * (wet[i] - st->lp) : wet[i];
    if (p.write) {
      p.ring[(st->write + i) & p.mask] = delay_saturate(in[i] + fb * st->lp);
    }
    out[i] = in[i] * (1.0f - m) + wet[i] * m;
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
