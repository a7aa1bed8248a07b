/*
  midi: MIDI note input, one voice of it.  Outputs the note's frequency
  (12-TET, A4 = 440 Hz, with pitch bend), a 0/1 gate, the velocity and the
  pressure.

  In a patch of several voices the graph gives each voice its own notes
  (graph.c: voice allocation) and every voice the rest (bend, pedal,
  pressure); with one voice, every note comes here.  Last-note priority
  over a stack of 16 held notes: with `legato` on, a note played while
  another is held changes the pitch with the gate staying on (no
  retrigger), and releasing the newest note returns to the one held before
  it, gate still on; with `legato` off, each new note retriggers.  Glide
  slides the pitch linearly in semitones over `glide` ms, from wherever the
  pitch is (also between separate notes).  The sustain pedal (CC64) holds
  the gate of released notes until it is lifted.

  A note-off and a note-on between two rendered frames (back-to-back notes
  from a sequencer, a re-pressed key) hold the gate low for the next
  frame: the envelopes it drives see the note end and start their attack
  again, from their current level, so the restart does not click.  (A gate
  that stayed high would lose the attack; the one-frame delay is 21 us.)

  midi() gets no parameters, so process() copies the ones it needs
  (channel, glide, legato) into the state, and so does take_params(),
  which the graph calls before every message (an idle voice is not
  rendered); all run in the audio thread, in turn.
*/

#include "dsp.h"
#include "module.h"

#include <string.h>

enum { P_BEND, P_CHANNEL, P_GLIDE, P_LEGATO, N_PARAMS };
enum { OUT_FREQ, OUT_GATE, OUT_VELOCITY, OUT_PRESSURE, N_OUTPUTS };

#define STACK 16u

typedef struct {
  HpVoiceHead head;        /* first: the graph's voice allocation reads it */
  uint8_t     note[STACK]; /* held notes (or sustained), oldest first */
  uint8_t     vel[STACK];
  uint32_t    n_held;
  uint32_t    gate;
  uint32_t    gate_out; /* the gate at the last frame rendered */
  uint32_t    fell;     /* the gate went low since then */
  uint32_t    played;   /* a note has been played: glides start from it */
  float       pitch;    /* current note number, fractional while gliding */
  float       target;   /* note number being glided to */
  float       step;     /* glide, semitones per frame */
  uint32_t    left;     /* glide frames to go: pitch = target - left * step */
  float       bend;     /* -1..1 */
  float       velocity; /* 0..1 */
  float       pressure; /* 0..1 */
  uint32_t    sustain;  /* the pedal is down */
  uint32_t    sustained[4]; /* notes released under the pedal, a bit each */
  uint32_t    legato;       /* from the param */
  float       glide_ms;     /* from the param */
  float       rate;
} MidiState;

static void
midi_params(MidiState* const st, const HpParamIn* const param)
{
  const float channel = hp_param_first(&param[P_CHANNEL]) + 0.5f;
  const float glide   = hp_param_first(&param[P_GLIDE]);
  st->head.channel    = (uint32_t)hp_clampf(channel, 0.0f, 16.0f);
  st->glide_ms        = hp_clampf(glide, 0.0f, 2000.0f);
  st->legato          = hp_param_first(&param[P_LEGATO]) >= 0.5f;
}

static void
midi_take_params(void* const state, const HpParamIn* const param)
{
  midi_params((MidiState*)state, param);
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

static bool
sustained(const MidiState* const st, const uint8_t note)
{
  return (st->sustained[note >> 5u] >> (note & 31u)) & 1u;
}

/* The head counts the keys down, not the notes the pedal holds: a voice
   whose key is up is released, for the voice allocation, pedal or not. */
static void
keys_down(MidiState* const st)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < st->n_held; ++i) {
    n += !sustained(st, st->note[i]);
  }
  st->head.held = n;
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
      break;
    }
  }
  keys_down(st);
}

static void
midi_note_on(MidiState* const st, const uint8_t note, const uint8_t vel)
{
  st->sustained[note >> 5u] &= ~(1u << (note & 31u));
  if (!st->legato && st->gate) {
    st->fell = 1; /* a new attack for every note */
  }
  midi_remove(st, note); /* a repeated note moves to the top */
  if (st->n_held == STACK) {
    midi_remove(st, st->note[0]); /* full: forget the oldest */
  }
  st->note[st->n_held] = note;
  st->vel[st->n_held]  = vel;
  ++st->n_held;
  keys_down(st);
  midi_retarget(st);
}

static void
midi_note_off(MidiState* const st, const uint8_t note)
{
  if (st->sustain) { /* the pedal holds it; lifting it releases */
    st->sustained[note >> 5u] |= 1u << (note & 31u);
    keys_down(st);
    return;
  }
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
midi_all_off(MidiState* const st)
{
  st->n_held    = 0;
  st->head.held = 0;
  memset(st->sustained, 0, sizeof(st->sustained));
  st->fell |= st->gate;
  st->gate = 0;
}

static void
midi_pedal(MidiState* const st, const bool down)
{
  st->sustain = down;
  if (down) {
    return;
  }
  for (uint32_t i = st->n_held; i-- > 0;) {
    if (i < st->n_held && sustained(st, st->note[i])) {
      midi_note_off(st, st->note[i]);
    }
  }
  memset(st->sustained, 0, sizeof(st->sustained));
}

static void
midi_midi(void* const state, const uint8_t* const msg, const uint32_t size)
{
  MidiState* const st = (MidiState*)state;
  if (size < 2u || msg[0] < 0x80u || msg[0] >= 0xF0u) {
    return; /* no running status in LV2 events; system messages unused */
  }
  if (st->head.channel && (msg[0] & 0x0Fu) + 1u != st->head.channel) {
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
  case 0xD0: /* channel pressure */
    st->pressure = (float)d1 * (1.0f / 127.0f);
    break;
  case 0xA0: /* key pressure: the note sounding */
    if (size >= 3u && st->n_held && st->note[st->n_held - 1u] == d1) {
      st->pressure = (float)d2 * (1.0f / 127.0f);
    }
    break;
  case 0xB0:
    if (d1 == 120u || d1 == 123u) { /* all sound off, all notes off */
      midi_all_off(st);
    } else if (d1 == 64u) {
      midi_pedal(st, d2 >= 64u);
    } else if (d1 == 121u) { /* reset all controllers */
      st->bend     = 0.0f;
      st->pressure = 0.0f;
      midi_pedal(st, false);
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
  float* const     pres = io->out[OUT_PRESSURE];

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
  uint32_t same = 1u << OUT_VELOCITY | 1u << OUT_PRESSURE;
  same |= (uint32_t)(i == 0u) << OUT_FREQ;
  if (gate) {
    const uint32_t low = st->fell && st->gate_out && st->gate; /* retrigger */
    hp_fill(gate, 0.0f, low);
    hp_fill(gate + low, (float)st->gate, n - low);
    same |= (uint32_t)!low << OUT_GATE;
  }
  st->gate_out = st->gate;
  st->fell     = 0;
  if (vel) {
    hp_fill(vel, st->velocity, n);
  }
  if (pres) {
    hp_fill(pres, st->pressure, n);
  }
  *io->out_const = same;
}

/* A voice sounds while its gate is on (the pedal's notes included). */
static bool
midi_busy(const void* const state)
{
  return ((const MidiState*)state)->gate != 0u;
}

static const HpPortDesc midi_outputs[N_OUTPUTS] = {
  {.name = "freq",
   .kind = HP_SIGNAL_CV,
   .doc  = "Frequency of the note in Hz (A4 = 440), with bend and glide."},
  {.name = "gate",
   .kind = HP_SIGNAL_CV,
   .doc =
     "1 while a note is held, else 0; 0 for one frame when a note ends and "
     "another starts at once (to retrigger envelopes)."},
  {.name = "velocity",
   .kind = HP_SIGNAL_CV,
   .doc  = "Velocity of the current note, 0..1."},
  {.name = "pressure",
   .kind = HP_SIGNAL_CV,
   .doc  = "Channel pressure (aftertouch), or the key pressure of the current "
           "note, 0..1."},
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
  {.name = "legato",
   .kind = HP_PARAM_INTEGER,
   .unit = "",
   .min  = 0.0f,
   .max  = 1.0f,
   .def  = 1.0f,
   .doc  = "1: a note played while another is held slides on without a new "
           "attack; 0: every note starts a new attack (one voice)."},
};

const HpModuleDesc hp_mod_midi = {
  .type        = "midi",
  .aliases     = (const char* const[]){"midi_in", NULL},
  .doc         = "MIDI note input: frequency, gate, velocity and pressure of a "
                 "voice (with one voice: the last note held, legato, glide).",
  .outputs     = midi_outputs,
  .n_outputs   = N_OUTPUTS,
  .params      = midi_params_desc,
  .n_params    = N_PARAMS,
  .state_size  = sizeof(MidiState),
  .init        = midi_init,
  .process     = midi_process,
  .midi        = midi_midi,
  .take_params = midi_take_params,
  .voicing     = HP_VOICING_SOURCE,
  .const_outputs = true,
  .busy          = midi_busy,
};
