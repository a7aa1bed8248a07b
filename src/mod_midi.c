/*
  midi: monophonic MIDI note input.  Outputs the note's frequency (12-TET,
  A4 = 440 Hz, with pitch bend), a 0/1 gate and the velocity.

  Last-note priority over a stack of 16 held notes, legato: a note played
  while another is held changes the pitch with the gate staying on (no
  retrigger), and releasing the newest note returns to the one held before
  it, gate still on.  Glide slides the pitch linearly in semitones over
  `glide` ms, from wherever the pitch is (also between separate notes).

  A note-off and a note-on between two rendered frames (back-to-back notes
  from a sequencer, a re-pressed key) hold the gate low for the next
  frame: the envelopes it drives see the note end and start their attack
  again, from their current level, so the restart does not click.  (A gate
  that stayed high would lose the attack; the one-frame delay is 21 us.)

  midi() gets no parameters, so process() copies the ones it needs
  (channel, glide) into the state; both run in the audio thread, in turn.
*/

#include "dsp.h"
#include "module.h"

enum { P_BEND, P_CHANNEL, P_GLIDE, N_PARAMS };
enum { OUT_FREQ, OUT_GATE, OUT_VELOCITY, N_OUTPUTS };

#define STACK 16u

typedef struct {
  uint8_t  note[STACK]; /* held notes, oldest first */
  uint8_t  vel[STACK];
  uint32_t n_held;
  uint32_t gate;
  uint32_t gate_out; /* the gate at the last frame rendered */
  uint32_t fell;     /* the gate went low since then */
  uint32_t played;   /* a note has been played: glides start from it */
  float    pitch;    /* current note number, fractional while gliding */
  float    target;   /* note number being glided to */
  float    step;     /* glide, semitones per frame */
  uint32_t left;     /* glide frames to go: pitch = target - left * step */
  float    bend;     /* -1..1 */
  float    velocity; /* 0..1 */
  uint32_t channel;  /* from the param: 0 = omni, 1..16 */
  float    glide_ms; /* from the param */
  float    rate;
} MidiState;

static void
midi_params(MidiState* const st, const HpParamIn* const param)
{
  const float channel = hp_param_first(&param[P_CHANNEL]) + 0.5f;
  const float glide   = hp_param_first(&param[P_GLIDE]);
  st->channel         = (uint32_t)hp_clampf(channel, 0.0f, 16.0f);
  st->glide_ms        = hp_clampf(glide, 0.0f, 2000.0f);
}

static void
midi_init(void* const state, const HpParamIn* const param, const float rate)
{
  MidiState* const st = (MidiState*)state;
  st->pitch           = 69.0f; /* 440 Hz until a note is played */
  st->target          = 69.0f;
  st->rate            = rate;
  midi_params(st, param);
}

/* Go to the note on top of the stack, gliding if asked to. */
static void
midi_retarget(MidiState* const st)
{
  const uint32_t top = st->n_held - 1u;
  st->target         = (float)st->note[top];
  st->velocity       = (float)st->vel[top] * (1.0f / 127.0f);

  const double frames = floor(hp_ms_to_frames(st->glide_ms, st->rate) + 0.5);
  if (st->played && frames >= 1.0 && st->pitch != st->target) {
    st->left = frames < 4.0e9 ? (uint32_t)frames : 4000000000u;
    st->step = (st->target - st->pitch) / (float)st->left;
  } else {
    st->pitch = st->target;
    st->left  = 0;
  }
  st->played = 1;
  st->gate   = 1;
}

static void
midi_remove(MidiState* const st, const uint8_t note)
{
  for (uint32_t i = 0; i < st->n_held; ++i) {
    if (st->note[i] == note) {
      for (uint32_t j = i + 1u; j < st->n_held; ++j) {
        st->note[j - 1u] = st->note[j];
        st->vel[j - 1u]  = st->vel[j];
      }
      --st->n_held;
      return;
    }
  }
}

static void
midi_note_on(MidiState* const st, const uint8_t note, const uint8_t vel)
{
  midi_remove(st, note); /* a repeated note moves to the top */
  if (st->n_held == STACK) {
    midi_remove(st, st->note[0]); /* full: forget the oldest */
  }
  st->note[st->n_held] = note;
  st->vel[st->n_held]  = vel;
  ++st->n_held;
  midi_retarget(st);
}

static void
midi_note_off(MidiState* const st, const uint8_t note)
{
  const bool was_top = st->n_held && st->note[st->n_held - 1u] == note;
  midi_remove(st, note);
  if (!st->n_held) {
    st->fell |= st->gate;
    st->gate = 0; /* the pitch stays, for the release */
  } else if (was_top) {
    midi_retarget(st); /* legato: back to the previous note */
  }
}

static void
midi_midi(void* const state, const uint8_t* const msg, const uint32_t size)
{
  MidiState* const st = (MidiState*)state;
  if (size < 2u || msg[0] < 0x80u || msg[0] >= 0xF0u) {
    return; /* no running status in LV2 events; system messages unused */
  }
  if (st->channel && (msg[0] & 0x0Fu) + 1u != st->channel) {
    return;
  }

  const uint8_t d1 = msg[1] & 0x7Fu;
  const uint8_t d2 = size > 2u ? msg[2] & 0x7Fu : 0u;
  switch (msg[0] & 0xF0u) {
  case 0x90:
    if (size < 3u) {
      return;
    }
    if (d2) {
      midi_note_on(st, d1, d2);
    } else {
      midi_note_off(st, d1);
    }
    break;
  case 0x80:
    midi_note_off(st, d1);
    break;
  case 0xE0:
    if (size >= 3u) {
      /* +8191 is the full range up, -8192 the full range down. */
      const int v = (int)((uint32_t)d2 << 7 | d1) - 8192;
      st->bend    = (float)v / (v >= 0 ? 8191.0f : 8192.0f);
    }
    break;
  case 0xB0:
    if (d1 == 120u || d1 == 123u) { /* all sound off, all notes off */
      st->n_held = 0;
      st->fell |= st->gate;
      st->gate = 0;
    } else if (d1 == 121u) { /* reset all controllers */
      st->bend = 0.0f;
    }
    break;
  default:
    break;
  }
}

static inline float
note_hz(const float note)
{
  return 440.0f * exp2f((note - 69.0f) * (1.0f / 12.0f));
}

static void
midi_process(const HpNodeIO* const io, const uint32_t n)
{
  MidiState* const st   = (MidiState*)io->state;
  float* const     freq = io->out[OUT_FREQ];
  float* const     gate = io->out[OUT_GATE];
  float* const     vel  = io->out[OUT_VELOCITY];

  midi_params(st, io->param);
  st->rate = io->rate;
  const float bend =
    st->bend * hp_clampf(hp_param_first(&io->param[P_BEND]), 0.0f, 24.0f);

  uint32_t i = 0;
  if (st->left) {
    /* Gliding: a frequency per frame, counted down to the target so the
       pitch is exact at every frame (accumulating steps would drift). */
    const uint32_t m = n < st->left ? n : st->left;
    for (; i < m; ++i) {
      --st->left;
      st->pitch = st->target - (float)st->left * st->step;
      freq[i]   = note_hz(st->pitch + bend);
    }
  }
  hp_fill(freq + i, note_hz(st->pitch + bend), n - i);
  if (gate) {
    const uint32_t low = st->fell && st->gate_out && st->gate; /* retrigger */
    hp_fill(gate, 0.0f, low);
    hp_fill(gate + low, (float)st->gate, n - low);
  }
  st->gate_out = st->gate;
  st->fell     = 0;
  if (vel) {
    hp_fill(vel, st->velocity, n);
  }
}

static const HpPortDesc midi_outputs[N_OUTPUTS] = {
  {"freq",
   HP_SIGNAL_CV,
   "Frequency of the note in Hz (A4 = 440), with bend and glide."},
  {"gate",
   HP_SIGNAL_CV,
   "1 while a note is held, else 0; 0 for one frame when a note ends and "
   "another starts at once (to retrigger envelopes)."},
  {"velocity", HP_SIGNAL_CV, "Velocity of the current note, 0..1."},
};

static const HpParamDesc midi_params_desc[N_PARAMS] = {
  {.name    = "bend",
   .aliases = (const char* const[]){"bend_range", NULL},
   .kind    = HP_PARAM_INTEGER,
   .unit    = "semitones",
   .min     = 0.0f,
   .max     = 24.0f,
   .def     = 2.0f,
   .doc     = "Pitch-bend range: semitones at full bend, up or down."},
  {.name = "channel",
   .kind = HP_PARAM_INTEGER,
   .unit = "",
   .min  = 0.0f,
   .max  = 16.0f,
   .def  = 0.0f,
   .doc  = "MIDI channel to follow, 1..16, or 0 for all."},
  {.name    = "glide",
   .aliases = (const char* const[]){"portamento", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = 2000.0f,
   .def     = 0.0f,
   .doc     = "Portamento: time to slide from one note's pitch to the next."},
};

const HpModuleDesc hp_mod_midi = {
  .type    = "midi",
  .aliases = (const char* const[]){"midi_in", NULL},
  .doc =
    "Monophonic MIDI input: frequency, gate, velocity (last note, legato).",
  .outputs    = midi_outputs,
  .n_outputs  = N_OUTPUTS,
  .params     = midi_params_desc,
  .n_params   = N_PARAMS,
  .state_size = sizeof(MidiState),
  .init       = midi_init,
  .process    = midi_process,
  .midi       = midi_midi,
};
