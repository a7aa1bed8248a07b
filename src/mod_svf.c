/*
  svf: a state-variable filter with simultaneous lowpass, bandpass,
  highpass and notch outputs, in the zero-delay-feedback (trapezoidal,
  topology-preserving) form of Andrew Simper's "Linear Trapezoidal
  Integrated SVF" (Cytomic, 2013): the bilinear transform of the analogue
  2-pole, whose integrator states stay meaningful when the coefficients
  change, so a cutoff swept at audio rate neither clicks nor blows up.

  With g = tan(pi fc / rate) and k = 1 / Q, one frame solves the loop of
  the two integrators exactly (v1 the band, v2 the low output); the
  highpass and notch are what is left of the input: in = lp + k v1 + hp.
  The bandpass output is k v1, 0 dB at the cutoff whatever Q (as biquad's
  bandpass), so lp + bp + hp = in.

  A constant cutoff and Q give the coefficients once per call; a signal
  gives them every frame, computed ahead of the recursion in vectorized
  loops (hp_tanpi: no libm call).  Float state is enough here: unlike a
  direct form's, the SVF's states are well-conditioned at low cutoffs.  A
  state gone non-finite is reset at the end of the call, as biquad's.
*/

#include "dsp.h"
#include "module.h"

enum { P_CUTOFF, P_Q, N_PARAMS };

enum { O_LP, O_BP, O_HP, O_NOTCH, N_OUTPUTS };

#define Q_MIN 0.5f
#define Q_MAX 25.0f

typedef struct {
  float ic1, ic2; /* the integrators' states (Simper's ic1eq, ic2eq) */
} SvfState;

typedef struct {
  float a1, a2, a3, k;
} SvfCoefs;

/* From a cutoff in cycles per frame and a Q, both clamped. */
static inline SvfCoefs
svf_coefs(const float cycles, const float q)
{
  const float g = hp_tanpi(cycles);
  SvfCoefs    c;
  c.k  = 1.0f / q;
  c.a1 = 1.0f / (1.0f + g * (g + c.k));
  c.a2 = g * c.a1;
  c.a3 = g * c.a2;
  return c;
}

/* Each frame's coefficients for a cutoff or Q signal. */
typedef struct {
  float a1[HP_CHUNK], a2[HP_CHUNK], a3[HP_CHUNK], k[HP_CHUNK];
} SvfCoefRun;

/* Ahead of the recursion, in loops that vectorize: a tan and two
   divisions a frame, four frames at a time.  The clamps go in loops of
   their own (dsp.h says why). */
HP_ALWAYS_INLINE void
svf_coefs_run(SvfCoefRun* const restrict run,
              const float* const restrict cutoff,
              const float* const restrict q,
              const float    inv_rate,
              const uint32_t n)
{
  float cycles[HP_CHUNK], qc[HP_CHUNK];
  for (uint32_t i = 0; i < n; ++i) {
    cycles[i] = hp_filter_cycles(cutoff[i], inv_rate);
  }
  for (uint32_t i = 0; i < n; ++i) {
    qc[i] = hp_clampf(q[i], Q_MIN, Q_MAX);
  }
  for (uint32_t i = 0; i < n; ++i) {
    const SvfCoefs c = svf_coefs(cycles[i], qc[i]);
    run->a1[i]       = c.a1;
    run->a2[i]       = c.a2;
    run->a3[i]       = c.a3;
    run->k[i]        = c.k;
  }
}

/* One frame: lowpass and (0 dB) bandpass. */
static inline void
svf_tick(SvfState* const       st,
         const SvfCoefs* const c,
         const float           x,
         float* const          lp,
         float* const          band)
{
  const float v3 = x - st->ic2;
  const float v1 = c->a1 * st->ic1 + c->a2 * v3;
  const float v2 = st->ic2 + c->a2 * st->ic1 + c->a3 * v3;
  st->ic1        = 2.0f * v1 - st->ic1;
  st->ic2        = 2.0f * v2 - st->ic2;
  *lp            = v2;
  *band          = c->k * v1;
}

static void
svf_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the filter still rings out its state. */
  static const float silence[HP_CHUNK];

  SvfState* const        st     = (SvfState*)io->state;
  SvfState               s      = *st; /* out cannot alias it: registers */
  const float* const     in     = io->in[0] ? io->in[0] : silence;
  float* const           lp     = io->out[O_LP];
  float* const           hp     = io->out[O_HP];
  float* const           notch  = io->out[O_NOTCH];
  const HpParamIn* const cutoff = &io->param[P_CUTOFF];
  const HpParamIn* const q      = &io->param[P_Q];
  float                  band_scratch[HP_CHUNK];
  float* const           band = io->out[O_BP] ? io->out[O_BP] : band_scratch;

  if (!cutoff->signal && !q->signal) {
    const SvfCoefs c =
      svf_coefs(hp_filter_cycles(cutoff->value, io->inv_rate), q->value);
    for (uint32_t i = 0; i < n; ++i) {
      svf_tick(&s, &c, in[i], &lp[i], &band[i]);
    }
  } else {
    float              cutoff_buf[HP_CHUNK], q_buf[HP_CHUNK];
    const float* const cutoffs = hp_param_values(cutoff, cutoff_buf, n);
    const float* const qs      = hp_param_values(q, q_buf, n);
    SvfCoefRun         run;
    if (n == HP_VEC) {
      svf_coefs_run(&run, cutoffs, qs, io->inv_rate, HP_VEC);
    } else {
      svf_coefs_run(&run, cutoffs, qs, io->inv_rate, n);
    }
    for (uint32_t i = 0; i < n; ++i) {
      const SvfCoefs c = {run.a1[i], run.a2[i], run.a3[i], run.k[i]};
      svf_tick(&s, &c, in[i], &lp[i], &band[i]);
    }
  }

  if (notch) {
    for (uint32_t i = 0; i < n; ++i) {
      notch[i] = in[i] - band[i];
    }
  }
  if (hp) {
    for (uint32_t i = 0; i < n; ++i) {
      hp[i] = in[i] - band[i] - lp[i];
    }
  }

  if (!isfinite(s.ic1) || !isfinite(s.ic2)) {
    s.ic1 = 0.0f;
    s.ic2 = 0.0f;
  }
  st->ic1 = (float)hp_flush_tiny((double)s.ic1);
  st->ic2 = (float)hp_flush_tiny((double)s.ic2);
}

static const HpPortDesc svf_inputs[] = {
  {.name = "in", .kind = HP_SIGNAL_AUDIO, .doc = "The signal to filter."},
};

static const HpPortDesc svf_outputs[N_OUTPUTS] = {
  {.name = "lp",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Lowpass, 12 dB/octave above the cutoff."},
  {.name = "bp",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Bandpass, 0 dB at the cutoff, narrower as q rises."},
  {.name = "hp",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Highpass, 12 dB/octave below the cutoff."},
  {.name = "notch",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Notch: the input less the bandpass."},
};

static const HpParamDesc svf_params[N_PARAMS] = {
  HP_PARAM_FILTER_CUTOFF(
    "Cutoff (lp, hp) or centre (bp, notch) frequency; a signal "
    "here may sweep it at audio rate."),
  {.name      = "q",
   .aliases   = (const char* const[]){"resonance", "Q", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "",
   .min       = Q_MIN,
   .max       = Q_MAX,
   .def       = 0.707f,
   .log_scale = true,
   .doc       = "Resonance as Q: 0.707 is flat (Butterworth), 0.5 the "
                "softest, higher rings at the cutoff."},
};

const HpModuleDesc hp_mod_svf = {
  .type       = "svf",
  .doc        = "State-variable filter (zero-delay feedback) with lowpass, "
                "bandpass, highpass and notch outputs at once.",
  .inputs     = svf_inputs,
  .n_inputs   = 1,
  .outputs    = svf_outputs,
  .n_outputs  = N_OUTPUTS,
  .params     = svf_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(SvfState),
  .process    = svf_process,
};
