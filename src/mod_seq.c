/*
  seq: a 16-step sequencer.  Each step has a value, played on `out`, and a
  gate (on: the step plays, off: it rests); `gate` is on for the first
  `length` of each playing step, `trig` for its first millisecond.

  The clock: the host's when it sends its time (io->time), else its own at
  `rate` steps per second.  Following the host, the step is a function of
  the song position alone, floor(beat * division) mod steps, evaluated at
  every frame's beat, so steps land on the exact frame of each beat
  division whatever the block boundaries, a transport started mid-step
  plays the rest of that step, and a tempo change is followed at once;
  with the transport stopped the step holds its value, gate off.  Its own
  clock counts frames since the step began: at 48 kHz, rate 8 changes step
  every 6000 frames exactly; a step of a fractional number of frames
  carries the fraction into the next one.

  Between events (a step, the end of its gate or its trig) the outputs are
  constant: they are filled run by run.  The settings (rate, division,
  length, steps) are read once per call, a signal's first frame; the steps'
  values and gates follow signals frame by frame.
*/

#include "dsp.h"
#include "module.h"

#include <math.h>
#include <string.h>

#define N_STEPS 16u

enum {
  P_RATE,
  P_DIVISION,
  P_LENGTH,
  P_STEPS,
  P_STEP1,
  P_GATE1  = P_STEP1 + N_STEPS,
  N_PARAMS = P_GATE1 + N_STEPS
};

enum { OUT_OUT, OUT_GATE, OUT_TRIG, N_OUTPUTS };

/* The trig pulse: 1 ms, as frames = rate / this (exact at whole kHz). */
#define TRIGS_PER_SECOND 1000.0

/* A song position that should sit on a step boundary, or on the end of a
   gate or trig, may come a rounding short of it (the host's beat is a sum
   of rounded increments): within this many steps of one counts as past
   it.  Far below a frame: that is 1e-7 steps even at 1 bpm and 192 kHz. */
#define EDGE 1e-9

typedef struct {
  double   elapsed; /* own clock: frames since the step began */
  uint32_t step;    /* own clock: the step playing, 0..15 */
} SeqState;

/* out[from, to) = the parameter, signal or constant. */
static void
fill_param(float* const           out,
           const HpParamIn* const p,
           const uint32_t         from,
           const uint32_t         to)
{
  if (p->signal) {
    memcpy(out + from, p->signal + from, (to - from) * sizeof(float));
  } else {
    hp_fill(out + from, p->value, to - from);
  }
}

/* out[from, to) = 1 where `on` and the step's gate param is, else 0. */
static void
fill_gate(float* const           out,
          const HpParamIn* const gate,
          const bool             on,
          const uint32_t         from,
          const uint32_t         to)
{
  if (on && gate->signal) {
    for (uint32_t i = from; i < to; ++i) {
      out[i] = gate->signal[i] >= 0.5f ? 1.0f : 0.0f;
    }
  } else {
    hp_fill(out + from, on && gate->value >= 0.5f ? 1.0f : 0.0f, to - from);
  }
}

/* Frames [from, to) of step k, inside its gate's and its trig's windows
   or not. */
static void
emit(const HpNodeIO* const io,
     const uint32_t        k,
     const bool            gate_on,
     const bool            trig_on,
     const uint32_t        from,
     const uint32_t        to)
{
  const HpParamIn* const gate = &io->param[P_GATE1 + k];
  fill_param(io->out[OUT_OUT], &io->param[P_STEP1 + k], from, to);
  if (io->out[OUT_GATE]) {
    fill_gate(io->out[OUT_GATE], gate, gate_on, from, to);
  }
  if (io->out[OUT_TRIG]) {
    fill_gate(io->out[OUT_TRIG], gate, trig_on, from, to);
  }
}

/* The nearest of the step's events after `at` (all in one unit, from the
   step's start): the end of the trig, of the gate, or of the step. */
static double
next_event(const double at,
           const double trig_end,
           const double gate_end,
           const double step_end)
{
  double next = step_end;
  if (at < gate_end && gate_end < next) {
    next = gate_end;
  }
  if (at < trig_end && trig_end < next) {
    next = trig_end;
  }
  return next;
}

/* Frames [0, n) from the host's song position. */
static void
host_clock(const HpNodeIO* const io,
           const uint32_t        steps,
           const double          division,
           const double          length,
           const double          trig_frames,
           const uint32_t        n)
{
  const HpTime* const t = io->time;
  const double        p0 =
    isfinite(t->beat) && fabs(t->beat) < 1e12 ? t->beat * division : 0.0;
  const double per_frame = t->beats_per_frame * division; /* steps */
  /* (A step a frame or more, or a NaN, is no tempo.) */
  if (!t->rolling || !(per_frame > 0.0 && per_frame < 1.0)) {
    /* Stopped: the step at the song position, holding, gate off. */
    const double m = fmod(floor(p0 + EDGE), (double)steps);
    emit(io, (uint32_t)(m < 0.0 ? m + steps : m), false, false, 0, n);
    return;
  }
  const double trig_end = trig_frames * per_frame - EDGE;
  const double gate_end = length - EDGE;
  for (uint32_t i = 0; i < n;) {
    const double pos   = p0 + (double)i * per_frame;
    const double whole = floor(pos + EDGE);
    const double at    = pos - whole; /* into the step, < 1 - EDGE */
    const double next  = next_event(at, trig_end, gate_end, 1.0 - EDGE);
    /* The first frame at or past the event. */
    const double   frames = ceil((next - at) / per_frame);
    const uint32_t len    = frames < 1.0               ? 1u
                            : frames < (double)(n - i) ? (uint32_t)frames
                                                       : n - i;
    const double   m      = fmod(whole, (double)steps);
    emit(io,
         (uint32_t)(m < 0.0 ? m + steps : m),
         at < gate_end,
         at < trig_end,
         i,
         i + len);
    i += len;
  }
}

/* Frames [0, n) from the module's own clock. */
static void
own_clock(const HpNodeIO* const io,
          const uint32_t        steps,
          const double          rate,
          const double          length,
          const double          trig_frames,
          const uint32_t        n)
{
  SeqState* const st       = (SeqState*)io->state;
  const double    period   = (double)io->rate / rate; /* frames a step */
  const double    gate_end = length * period;
  for (uint32_t i = 0; i < n;) {
    if (st->elapsed >= period) {
      /* The fraction of a frame the step ran over goes into the next one;
         a step already over by more (the rate raised mid-step) ends now,
         and the next starts afresh. */
      st->elapsed -= period;
      st->elapsed = st->elapsed < 1.0 ? st->elapsed : 0.0;
      st->step    = st->step + 1u < steps ? st->step + 1u : 0u;
    }
    const double at = st->elapsed;
    const double frames =
      ceil(next_event(at, trig_frames, gate_end, period) - at);
    const uint32_t len = frames < 1.0               ? 1u
                         : frames < (double)(n - i) ? (uint32_t)frames
                                                    : n - i;
    emit(io, st->step, at < gate_end, at < trig_frames, i, i + len);
    st->elapsed += len;
    i += len;
  }
}

static void
seq_process(const HpNodeIO* const io, const uint32_t n)
{
  const HpParamIn* const param = io->param;
  const uint32_t         steps = (uint32_t)hp_clampf(
    hp_param_first(&param[P_STEPS]) + 0.5f, 1.0f, (float)N_STEPS);
  const double length =
    (double)hp_clampf(hp_param_first(&param[P_LENGTH]), 0.0f, 1.0f);
  const double trig_frames = (double)io->rate / TRIGS_PER_SECOND;

  if (io->time->known) {
    const uint32_t division = (uint32_t)hp_clampf(
      hp_param_first(&param[P_DIVISION]) + 0.5f, 1.0f, 16.0f);
    host_clock(io, steps, (double)division, length, trig_frames, n);
  } else {
    const double rate =
      (double)hp_clampf(hp_param_first(&param[P_RATE]), 0.01f, 100.0f);
    own_clock(io, steps, rate, length, trig_frames, n);
  }
}

static const HpPortDesc seq_outputs[N_OUTPUTS] = {
  {.name = "out",
   .kind = HP_SIGNAL_CV,
   .doc  = "The playing step's value (held through rests and while the "
           "transport is stopped)."},
  {.name = "gate",
   .kind = HP_SIGNAL_CV,
   .doc  = "1 for the first `length` of each step whose gate is on, else 0: "
           "for an adsr's gate."},
  {.name = "trig",
   .kind = HP_SIGNAL_CV,
   .doc  = "1 for the first millisecond of each step whose gate is on, "
           "else 0."},
};

#define SEQ_STEP(k)                                                       \
  {                                                                       \
    .name = "step" #k, .kind = HP_PARAM_CONTINUOUS, .unit = "",           \
    .min = -20000.0f, .max = 20000.0f, .def = 0.0f,                       \
    .doc = "Value of step " #k ", in the unit of what out drives (cents " \
           "into an oscillator's detune, Hz into a cutoff)."              \
  }

#define SEQ_GATE(k)                                                    \
  {                                                                    \
    .name = "gate" #k, .kind = HP_PARAM_GATE, .unit = "", .min = 0.0f, \
    .max = 1.0f, .def = 1.0f,                                          \
    .doc = "Step " #k " plays (1: gate and trig) or rests (0)."        \
  }

static const HpParamDesc seq_params[N_PARAMS] = {
  {.name      = "rate",
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = 0.01f,
   .max       = 100.0f,
   .def       = 8.0f,
   .log_scale = true,
   .doc       = "Steps per second while the host sends no tempo."},
  {.name = "division",
   .kind = HP_PARAM_INTEGER,
   .unit = "",
   .min  = 1.0f,
   .max  = 16.0f,
   .def  = 4.0f,
   .doc  = "Steps per beat following the host's tempo: 4 = 16th notes, "
           "2 = 8ths, 3 = 8th triplets, 1 = quarter notes."},
  {.name = "length",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "",
   .min  = 0.0f,
   .max  = 1.0f,
   .def  = 0.5f,
   .doc  = "Gate length as a fraction of the step: 0 silent, 1 tied into "
           "the next playing step."},
  {.name = "steps",
   .kind = HP_PARAM_INTEGER,
   .unit = "",
   .min  = 1.0f,
   .max  = (float)N_STEPS,
   .def  = (float)N_STEPS,
   .doc  = "How many steps play before it starts again from step 1."},
  SEQ_STEP(1),
  SEQ_STEP(2),
  SEQ_STEP(3),
  SEQ_STEP(4),
  SEQ_STEP(5),
  SEQ_STEP(6),
  SEQ_STEP(7),
  SEQ_STEP(8),
  SEQ_STEP(9),
  SEQ_STEP(10),
  SEQ_STEP(11),
  SEQ_STEP(12),
  SEQ_STEP(13),
  SEQ_STEP(14),
  SEQ_STEP(15),
  SEQ_STEP(16),
  SEQ_GATE(1),
  SEQ_GATE(2),
  SEQ_GATE(3),
  SEQ_GATE(4),
  SEQ_GATE(5),
  SEQ_GATE(6),
  SEQ_GATE(7),
  SEQ_GATE(8),
  SEQ_GATE(9),
  SEQ_GATE(10),
  SEQ_GATE(11),
  SEQ_GATE(12),
  SEQ_GATE(13),
  SEQ_GATE(14),
  SEQ_GATE(15),
  SEQ_GATE(16),
};

const HpModuleDesc hp_mod_seq = {
  .type       = "seq",
  .aliases    = (const char* const[]){"sequencer", NULL},
  .doc        = "16-step sequencer of values and gates, on the host's tempo "
                "or its own clock.",
  .outputs    = seq_outputs,
  .n_outputs  = N_OUTPUTS,
  .params     = seq_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SeqState),
  .process    = seq_process,
};
