/*
  The body the audio oscillators (sine, saw, square, triangle) share, as
  SuperCollider's OscUGens share theirs through templates over the wave:
  the split between a modulated call (FM, a detune or width signal: a phase
  per frame) and a constant one (the fast path, gain folded in), written
  once.  Each oscillator passes its wave function as a constant, which gcc
  inlines here, so each still gets its own vectorized loops.

  Every oscillator's parameters start with freq and gain (dsp.h's
  HP_PARAM_OSC_FREQ and HP_PARAM_OSC_GAIN), and each has a detune; its one
  input is `pm` (HP_OSC_PM_INPUT).

  Phase modulation: the pm input, in cycles, is added to the phase the
  wave reads, wrapped, so it goes through zero and past a whole cycle
  either way; the phase accumulator itself never sees it.  Cycles, because
  that is the phase's own unit (1 = 2^32); DX-style FM of index I is a
  sine of amplitude I / 2 pi.  The band-limited waves take as their dt the
  increment plus how far the offset moved since the frame before, so the
  PolyBLEP follows the frequency actually played.  Unconnected, the
  per-frame loops are as they were, and a call costs a dozen instructions
  more (callgrind: 0.05 a frame in blocks of 256).
*/

#ifndef HP_OSC_H
#define HP_OSC_H

#include "dsp.h"
#include "module.h"

#include <stdbool.h>
#include <stdint.h>

/** Indices of the parameters every oscillator starts with. */
enum { HP_OSC_FREQ, HP_OSC_GAIN };

/** Index of the input every oscillator has. */
enum { HP_OSC_PM };

/** No such parameter (HpOsc's width). */
#define HP_OSC_NONE UINT32_MAX

/** The pm input, the same in every oscillator. */
#define HP_OSC_PM_INPUT                                                   \
  {                                                                       \
    .name = "pm", .kind = HP_SIGNAL_AUDIO,                                \
    .doc = "Phase modulation in cycles, added to the phase (1 = a whole " \
           "cycle, through zero either way): a sine of amplitude I/2pi "  \
           "gives FM of index I."                                         \
  }

/** An oscillator's state. */
typedef struct {
  uint32_t phase;
  uint32_t pm; /**< the pm offset at the last frame, 0 when unconnected */
} HpOscState;

/**
   The wave, -1..1, at a 32-bit phase.  `dt` is the phase increment as a
   fraction of a cycle and `inv_dt` its inverse, for band-limiting; `width`
   the pulse width as a phase (hp_osc_width_phase).  A wave ignores what it
   does not need, and inlined, costs nothing for it.
*/
typedef float (*HpOscWave)(uint32_t phase,
                           float    dt,
                           float    inv_dt,
                           uint32_t width);

/** An oscillator type, for hp_osc_process(): a `static const` in its file. */
typedef struct {
  HpOscWave wave;
  bool      band_limited; /**< the wave reads dt: keep each frame's inc */
  uint32_t  detune;       /**< index of the detune parameter */
  uint32_t  width;        /**< index of the pulse width, or HP_OSC_NONE */
  uint32_t  offset;       /**< added to the phase the wave is given */
} HpOsc;

/** Pulse width as a phase offset with the low 8 bits clear, so that two
    24-bit phases (hp_phase_unit) `width` apart differ by exactly it.
    Clamped to the width parameter's range, which also holds for signals. */
static inline uint32_t
hp_osc_width_phase(const float width)
{
  return (uint32_t)(hp_clampf(width, 0.01f, 0.99f) * 16777216.0f) << 8;
}

/** A phase offset in cycles as a 32-bit phase, wrapped: the whole cycles
    drop out by a truncation to int32, exact, which vectorizes where a
    conversion to int64 would not (SSE2).  The clamp keeps it in int32's
    range and takes NaN to 0 (past 2^23 cycles a float has no fraction
    left anyway). */
static inline uint32_t
hp_osc_pm_phase(const float cycles)
{
  const float c    = hp_clampf(cycles, -0x1p30f, 0x1p30f);
  const float frac = c - (float)(int32_t)c; /* exact, in (-1, 1) */
  return (uint32_t)(int32_t)(frac * 0x1p31f) << 1;
}

/**
   Add the pm input (cycles) to the phases of n frames; with inc, add to
   each frame's increment how far the offset moved since the frame before
   (from `last`, the offset at the frame before the first).  Returns the
   offset at the last frame.
*/
static inline uint32_t
hp_osc_pm_add(uint32_t* const restrict ph,
              uint32_t* const restrict inc,
              const float* const restrict pm,
              const uint32_t last,
              const uint32_t n)
{
  uint32_t off[HP_CHUNK + 1]; /* off[i + 1]: frame i's, off[0]: `last` */
  off[0] = last;
  for (uint32_t i = 0; i < n; ++i) {
    off[i + 1] = hp_osc_pm_phase(pm[i]);
  }
  if (inc) {
    for (uint32_t i = 0; i < n; ++i) {
      inc[i] += off[i + 1] - off[i];
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    ph[i] += off[i + 1];
  }
  return off[n];
}

/* n frames of the wave at a constant increment, times gain.  The phase is
   an induction variable: one vector add per 4 frames. */
HP_ALWAYS_INLINE void
hp_osc_run(float* const restrict out,
           const HpOscWave wave,
           uint32_t        phase,
           const uint32_t  inc,
           const float     dt,
           const float     inv_dt,
           const uint32_t  width,
           const float     gain,
           const uint32_t  n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = gain * wave(phase, dt, inv_dt, width);
    phase += inc;
  }
}

/** An oscillator's process(): `osc` a constant, so that gcc inlines the
    wave into each loop. */
HP_ALWAYS_INLINE void
hp_osc_process(const HpOsc* const    osc,
               const HpNodeIO* const io,
               const uint32_t        n)
{
  HpOscState* const      st     = (HpOscState*)io->state;
  const HpParamIn* const freq   = &io->param[HP_OSC_FREQ];
  const HpParamIn* const gain   = &io->param[HP_OSC_GAIN];
  const HpParamIn* const detune = &io->param[osc->detune];
  const HpParamIn* const width =
    osc->width == HP_OSC_NONE ? NULL : &io->param[osc->width];
  float* const restrict out = io->out[0];
  const float* const pm     = io->in[HP_OSC_PM];
  /* A pm input holding one value over the call (a const module) is a
     fixed offset, which the constant path takes. */
  const bool pm_moves = pm && !(io->in_const >> HP_OSC_PM & 1u);

  if (freq->signal || detune->signal || (width && width->signal) || pm_moves) {
    /* Modulated: the phase (and the increment, for dt) of every frame,
       then the wave. */
    uint32_t ph[HP_CHUNK];
    uint32_t inc[HP_CHUNK];
    st->phase = hp_osc_phase_fill(ph,
                                  osc->band_limited ? inc : NULL,
                                  freq,
                                  detune,
                                  io->inv_rate,
                                  st->phase,
                                  n);
    st->pm =
      pm_moves
        ? hp_osc_pm_add(ph, osc->band_limited ? inc : NULL, pm, st->pm, n)
        : 0u;
    for (uint32_t i = 0; i < n; ++i) {
      const float dt = osc->band_limited ? hp_phase_dt(inc[i]) : 0.0f;
      out[i] =
        osc->wave(ph[i] + osc->offset,
                  dt,
                  osc->band_limited ? 1.0f / dt : 0.0f,
                  width ? hp_osc_width_phase(hp_param_at(width, i)) : 0u);
    }
    hp_apply_gain(out, gain, n);
    return;
  }

  /* Constant frequency: the fast path, with a constant gain folded in. */
  st->pm               = pm ? hp_osc_pm_phase(pm[0]) : 0u;
  const uint32_t p     = st->phase;
  const uint32_t inc   = hp_osc_inc(freq, detune, io->inv_rate);
  const float    dt    = hp_phase_dt(inc);
  const float    idt   = 1.0f / dt;
  const uint32_t w     = width ? hp_osc_width_phase(width->value) : 0u;
  const float    g     = gain->signal ? 1.0f : gain->value;
  const uint32_t start = p + osc->offset + st->pm;
  /* A whole chunk with a constant count, which gcc vectorizes best (dsp.h). */
  if (n == HP_VEC) {
    hp_osc_run(out, osc->wave, start, inc, dt, idt, w, g, HP_VEC);
  } else {
    hp_osc_run(out, osc->wave, start, inc, dt, idt, w, g, n);
  }
  st->phase = p + n * inc;
  if (gain->signal) {
    hp_apply_gain(out, gain, n);
  }
}

#endif /* HP_OSC_H */
