/*
  input: the effect plugin's audio inputs (urn:hotpatch:fx), as a stereo
  pair and their mix.  The instrument has no audio inputs and refuses it
  (worker.c).
*/

#include "module.h"

#include <string.h>

enum { OUT_MIX, OUT_LEFT, OUT_RIGHT };

static void
input_process(const HpNodeIO* const io, const uint32_t n)
{
  const float* const l = io->host_in ? io->host_in[0] : NULL;
  const float* const r = io->host_in ? io->host_in[1] : NULL;
  for (uint32_t o = OUT_LEFT; o <= OUT_RIGHT; ++o) {
    const float* const src = o == OUT_LEFT ? l : r;
    if (!io->out[o]) {
      continue;
    }
    if (src) {
      memcpy(io->out[o], src, n * sizeof(float));
    } else {
      memset(io->out[o], 0, n * sizeof(float));
    }
  }
  float* const mix = io->out[OUT_MIX];
  for (uint32_t i = 0; i < n; ++i) {
    mix[i] = l && r ? 0.5f * (l[i] + r[i]) : 0.0f;
  }
}

static const HpPortDesc input_outputs[] = {
  {"out", HP_SIGNAL_AUDIO, "(left + right) / 2, for mono processing."},
  {"left", HP_SIGNAL_AUDIO, "The left audio input (in_l), unchanged."},
  {"right", HP_SIGNAL_AUDIO, "The right audio input (in_r), unchanged."},
};

const HpModuleDesc hp_mod_input = {
  .type       = "input",
  .doc        = "The effect plugin's audio inputs (the instrument has none).",
  .outputs    = input_outputs,
  .n_outputs  = 3,
  .process    = input_process,
  .stereo     = true,
  .host_input = true,
};
