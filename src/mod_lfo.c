/*
  lfo: a low-frequency oscillator for modulation.  out = offset + depth *
  wave, wave in -1..1, so lfo -> filt1:cutoff with offset 1000 and depth 500
  sweeps 500..1500 Hz.  Not band-limited: it is a control signal.
*/

#include "dsp.h"
#include "module.h"

enum { P_RATE, P_DEPTH, P_OFFSET, P_SHAPE, N_PARAMS };

enum { SHAPE_SINE, SHAPE_TRIANGLE, SHAPE_SAW, SHAPE_SQUARE, N_SHAPES };

/* A fresh module's zeroed phase is where every shape starts (lfo_wave), so
   the output starts at `offset`. */
typedef struct {
  uint32_t phase;
} LfoState;

/* The wave, -1..1.  Every shape starts at 0 and rises (the square at +1). */
HP_ALWAYS_INLINE float
lfo_wave(const uint32_t shape, const uint32_t phase)
{
  switch (shape) {
  case SHAPE_SINE:
    return hp_sin_phase(phase);
  case SHAPE_TRIANGLE:
    return 1.0f - 4.0f * fabsf(hp_phase_unit(phase + HP_PHASE_QUARTER) - 0.5f);
  case SHAPE_SAW:
    return 2.0f * hp_phase_unit(phase + 0x80000000u) - 1.0f;
  default:
    return 1.0f - 2.0f * (float)(phase >> 31);
  }
}

HP_ALWAYS_INLINE void
lfo_run(float* const restrict out,
        const uint32_t shape,
        uint32_t       phase,
        const uint32_t inc,
        const float    offset,
        const float    depth,
        const uint32_t n)
{
  for (uint32_t i = 0; i < n; ++i) {
    out[i] = offset + depth * lfo_wave(shape, phase);
    phase += inc;
  }
}

/* Rate, depth and offset constant.  Called with a constant shape, so each
   shape gets its own switch-free, vectorized loop; a whole chunk runs with
   a constant count, which gcc vectorizes best (dsp.h). */
HP_ALWAYS_INLINE void
lfo_render(float* const restrict out,
           const uint32_t shape,
           const uint32_t p,
           const uint32_t inc,
           const float    offset,
           const float    depth,
           const uint32_t n)
{
  if (n == HP_VEC) {
    lfo_run(out, shape, p, inc, offset, depth, HP_VEC);
  } else {
    lfo_run(out, shape, p, inc, offset, depth, n);
  }
}

static void
lfo_process(const HpNodeIO* const io, const uint32_t n)
{
  LfoState* const        st     = (LfoState*)io->state;
  const HpParamIn* const rate   = &io->param[P_RATE];
  const HpParamIn* const depth  = &io->param[P_DEPTH];
  const HpParamIn* const offset = &io->param[P_OFFSET];
  float* const restrict out     = io->out[0];
  const float shape_value       = hp_clampf(
    hp_param_first(&io->param[P_SHAPE]) + 0.5f, 0.0f, (float)(N_SHAPES - 1));
  const uint32_t shape = (uint32_t)shape_value;

  if (!rate->signal && !depth->signal && !offset->signal) {
    const uint32_t p   = st->phase;
    const uint32_t inc = hp_phase_inc(rate->value, io->inv_rate);
    const float    o   = offset->value;
    const float    d   = depth->value;
    switch (shape) {
    case SHAPE_SINE:
      lfo_render(out, SHAPE_SINE, p, inc, o, d, n);
      break;
    case SHAPE_TRIANGLE:
      lfo_render(out, SHAPE_TRIANGLE, p, inc, o, d, n);
      break;
    case SHAPE_SAW:
      lfo_render(out, SHAPE_SAW, p, inc, o, d, n);
      break;
    default:
      lfo_render(out, SHAPE_SQUARE, p, inc, o, d, n);
      break;
    }
    st->phase = p + n * inc;
    return;
  }

  /* Modulated: frame by frame. */
  uint32_t ph[HP_CHUNK];
  if (rate->signal) {
    st->phase =
      hp_phase_fill(ph, NULL, rate->signal, io->inv_rate, st->phase, n);
  } else {
    const uint32_t inc = hp_phase_inc(rate->value, io->inv_rate);
    for (uint32_t i = 0; i < n; ++i) {
      ph[i] = st->phase + i * inc;
    }
    st->phase += n * inc;
  }
  for (uint32_t i = 0; i < n; ++i) {
    out[i] =
      hp_param_at(offset, i) + hp_param_at(depth, i) * lfo_wave(shape, ph[i]);
  }
}

static const HpPortDesc lfo_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_CV,
   .doc  = "offset + depth * wave, the wave in -1..1."},
};

static const HpParamDesc lfo_params[N_PARAMS] = {
  {.name      = "rate",
   .aliases   = (const char* const[]){"freq", "frequency", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = 0.01f,
   .max       = 100.0f,
   .def       = 1.0f,
   .log_scale = true,
   .doc       = "Cycles per second."},
  {.name    = "depth",
   .aliases = (const char* const[]){"amount", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = -20000.0f,
   .max     = 20000.0f,
   .def     = 1.0f,
   .doc = "Peak deviation from offset, in the unit of what the output drives."},
  {.name = "offset",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "",
   .min  = -20000.0f,
   .max  = 20000.0f,
   .def  = 0.0f,
   .doc  = "Centre value of the output."},
  {.name    = "shape",
   .aliases = (const char* const[]){"wave", NULL},
   .kind    = HP_PARAM_ENUM,
   .unit    = "",
   .min     = 0.0f,
   .max     = (float)(N_SHAPES - 1),
   .def     = (float)SHAPE_SINE,
   .choices = (const char* const[]){"sine", "triangle", "saw", "square", NULL},
   .doc     = "Waveform: sine, triangle, saw (rising) or square."},
};

const HpModuleDesc hp_mod_lfo = {
  .type = "lfo",
  .doc  = "Low-frequency oscillator: a control signal offset + depth * wave.",
  .outputs    = lfo_outputs,
  .n_outputs  = 1,
  .params     = lfo_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(LfoState),
  .process    = lfo_process,
};
