/*
  chorus: a stereo chorus.  1..8 voices read the input from one line in the
  module's memory (dsp.h's ring: Hermite reads), each at `delay` ms swept
  +-depth by a sine LFO; the voices' LFOs are spread evenly over the cycle
  (two voices sweep in opposite directions) and the voices evenly from
  left to right by `spread`.  Each side's wet signal keeps the input's
  power where the voices are uncorrelated (above a few hundred Hz, where
  their delays differ by more than a period), so more voices thicken the
  sound without dulling it; below, they add up in phase, louder by up to
  sqrt(voices).  left = in * (1 - mix) + wet * mix.  No feedback: the line
  holds only the input.
*/

#include "dsp.h"
#include "module.h"

#include <stdbool.h>

enum { P_VOICES, P_RATE, P_DEPTH, P_DELAY, P_MIX, P_SPREAD, N_PARAMS };
enum { IN_IN, N_INPUTS };
enum { OUT_OUT, OUT_LEFT, OUT_RIGHT, N_OUTPUTS };

#define MAX_VOICES 8u
#define MAX_RATE 20.0f
#define MAX_DEPTH_MS 10.0f
#define MIN_DELAY_MS 1.0f
#define MAX_DELAY_MS 40.0f

typedef struct {
  uint32_t phase; /* voice 0's LFO; voice v is v / voices of a cycle on */
  uint32_t write; /* frame counter: the ring index of the next input */
} ChorusState;

static void
chorus_process(const HpNodeIO* const io, const uint32_t n)
{
  /* Unconnected input: the voices still play out the line. */
  static const float silence[HP_CHUNK];

  ChorusState* const     st     = (ChorusState*)io->state;
  const float* const     in     = io->in[IN_IN] ? io->in[IN_IN] : silence;
  float* const           out    = io->out[OUT_OUT];
  float* const           left   = io->out[OUT_LEFT];
  float* const           right  = io->out[OUT_RIGHT];
  const HpParamIn* const rate   = &io->param[P_RATE];
  const HpParamIn* const depth  = &io->param[P_DEPTH];
  const HpParamIn* const delay  = &io->param[P_DELAY];
  const HpParamIn* const mix    = &io->param[P_MIX];
  const uint32_t         frames = hp_ring_frames(io);
  const HpMemAccess      access = hp_ring_access(io, frames);
  const bool             read   = access != HP_MEM_NONE;
  const bool             write  = access == HP_MEM_OWN;
  float* const           ring   = io->mem;
  const uint32_t         mask   = frames - 1u;
  const float            cap    = (float)(frames - HP_RING_REACH);

  /* Voices and spread are settings: read once a call. */
  const uint32_t voices =
    (uint32_t)(hp_clampf(hp_param_first(&io->param[P_VOICES]),
                         1.0f,
                         (float)MAX_VOICES) +
               0.5f);
  const float spread =
    hp_clampf(hp_param_first(&io->param[P_SPREAD]), 0.0f, 1.0f);
  uint32_t offset[MAX_VOICES];
  float    gain_l[MAX_VOICES], gain_r[MAX_VOICES];
  float    power = 0.0f; /* of either side: the pans are symmetric */
  for (uint32_t v = 0; v < voices; ++v) {
    const float pan =
      voices > 1u ? spread * (2.0f * (float)v / (float)(voices - 1u) - 1.0f)
                  : 0.0f;
    offset[v] = (uint32_t)(((uint64_t)v << 32) / voices);
    gain_l[v] = 1.0f - pan;
    gain_r[v] = 1.0f + pan;
    power += gain_l[v] * gain_l[v];
  }
  for (uint32_t v = 0; v < voices; ++v) {
    gain_l[v] /= sqrtf(power);
    gain_r[v] /= sqrtf(power);
  }

  for (uint32_t i = 0; i < n; ++i) {
    float wet_l = 0.0f, wet_r = 0.0f;
    if (read) {
      const float centre = (float)hp_ms_to_frames(
        hp_clampf(hp_param_at(delay, i), MIN_DELAY_MS, MAX_DELAY_MS), io->rate);
      /* Never swept below 0 ms: the LFO stays a sine. */
      const float swing =
        fminf((float)hp_ms_to_frames(
                hp_clampf(hp_param_at(depth, i), 0.0f, MAX_DEPTH_MS), io->rate),
              centre);
      for (uint32_t v = 0; v < voices; ++v) {
        const float d = hp_clampf(
          centre + swing * hp_sin_phase(st->phase + offset[v]), 1.0f, cap);
        const HpTap tap = hp_ring_tap((double)d, 1u);
        const float x   = hp_ring_read(ring, mask, st->write + i, &tap);
        wet_l += gain_l[v] * x;
        wet_r += gain_r[v] * x;
      }
    }
    if (write) {
      ring[(st->write + i) & mask] = hp_ring_sample(in[i]);
    }
    const float m   = hp_clampf(hp_param_at(mix, i), 0.0f, 1.0f);
    const float dry = in[i] * (1.0f - m);
    const float l   = dry + wet_l * m;
    const float r   = dry + wet_r * m;
    out[i]          = 0.5f * (l + r);
    if (left) {
      left[i] = l;
    }
    if (right) {
      right[i] = r;
    }
    st->phase += hp_phase_inc(hp_clampf(hp_param_at(rate, i), 0.0f, MAX_RATE),
                              io->inv_rate);
  }
  st->write += n;
}

static size_t
chorus_memory(const HpParamIn* const param, const float rate)
{
  (void)param;
  return hp_ring_size(hp_ms_to_frames(MAX_DELAY_MS + MAX_DEPTH_MS, rate) +
                      HP_RING_REACH);
}

static const HpPortDesc chorus_inputs[N_INPUTS] = {
  {"in", HP_SIGNAL_AUDIO, "The signal to thicken (mono)."},
};

static const HpPortDesc chorus_outputs[N_OUTPUTS] = {
  {"out", HP_SIGNAL_AUDIO, "Left and right mixed to mono: (left + right) / 2."},
  {"left",
   HP_SIGNAL_AUDIO,
   "Left side: in * (1 - mix) + the voices panned left * mix."},
  {"right",
   HP_SIGNAL_AUDIO,
   "Right side: in * (1 - mix) + the voices panned right * mix."},
};

static const HpParamDesc chorus_params[N_PARAMS] = {
  {.name = "voices",
   .kind = HP_PARAM_INTEGER,
   .unit = "",
   .min  = 1.0f,
   .max  = (float)MAX_VOICES,
   .def  = 3.0f,
   .doc  = "Number of delayed copies, their LFOs spread evenly over the "
           "cycle; 1 is a plain vibrato mixed with the input."},
  {.name      = "rate",
   .aliases   = (const char* const[]){"speed", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "Hz",
   .min       = 0.01f,
   .max       = MAX_RATE,
   .def       = 0.8f,
   .log_scale = true,
   .doc       = "Speed of the LFOs sweeping the voices' delays, Hz."},
  {.name = "depth",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "ms",
   .min  = 0.0f,
   .max  = MAX_DEPTH_MS,
   .def  = 3.0f,
   .doc  = "How far each voice's delay swings either side of delay, ms "
           "(at most delay): more is more detuned; 0 is still."},
  {.name = "delay",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "ms",
   .min  = MIN_DELAY_MS,
   .max  = MAX_DELAY_MS,
   .def  = 12.0f,
   .doc  = "The voices' delay at the centre of their sweep, ms: under 5 "
           "flanges, 10..30 choruses, more doubles."},
  {.name = "mix",
   .kind = HP_PARAM_CONTINUOUS,
   .unit = "",
   .min  = 0.0f,
   .max  = 1.0f,
   .def  = 0.5f,
   .doc  = "Balance: 0 is the input alone (dry), 1 the voices alone "
           "(wet)."},
  {.name    = "spread",
   .aliases = (const char* const[]){"width", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 1.0f,
   .doc     = "Stereo width: 0 puts every voice in the middle, 1 spreads "
              "them from hard left to hard right."},
};

const HpModuleDesc hp_mod_chorus = {
  .type       = "chorus",
  .doc        = "Stereo chorus: voices of the input swept in delay by "
                "LFOs and spread across left and right.",
  .inputs     = chorus_inputs,
  .n_inputs   = N_INPUTS,
  .outputs    = chorus_outputs,
  .n_outputs  = N_OUTPUTS,
  .params     = chorus_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(ChorusState),
  .process    = chorus_process,
  .memory     = chorus_memory,
  .stereo     = true,
};
