/*
  hotpatch module interface: how a DSP module type describes itself and how
  the graph calls it.  No LV2 types here.

  Each module type lives in src/mod_<name>.c and exports one
  `const HpModuleDesc hp_mod_<name>`; src/modules.def lists them all.  The
  descriptor is the single place a module's names, ports, parameters, ranges,
  units, defaults and aliases are written: validation, the text protocol, the
  vocabulary TTL and the README's module reference all read it.

  Threading: init() runs in the worker (or instantiate/restore); process()
  and midi() run in the audio thread and must not allocate, lock or print.
*/

#ifndef HP_MODULE_H
#define HP_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Frames the graph hands a module per process() call, at most. */
#define HP_CHUNK 256u

/** Most ports or parameters any one module type has.  Sizes arrays of a
    module's values (HpPatchModule: 160 bytes at 40) and of its HpParamIn
    on the stack; the seq's 16 steps and 16 gates take 36 parameters. */
#define HP_MAX_PORTS 16u
#define HP_MAX_PARAMS 40u

typedef enum {
  HP_SIGNAL_AUDIO, /**< sound: summed into the output when it feeds nothing */
  HP_SIGNAL_CV,    /**< control signal (Hz, 0..1, ...): never auto-summed */
} HpSignalKind;

typedef struct {
  const char*  name; /**< "in", "out", "env" */
  HpSignalKind kind;
  const char*  doc;
} HpPortDesc;

typedef enum {
  HP_PARAM_CONTINUOUS, /**< smoothed when set live */
  HP_PARAM_INTEGER,    /**< whole numbers, never smoothed */
  HP_PARAM_ENUM,       /**< index into `choices`, never smoothed */
  HP_PARAM_GATE,       /**< 0 or 1, never smoothed */
} HpParamKind;

typedef struct {
  const char*        name;    /**< "freq" */
  const char* const* aliases; /**< NULL-terminated, or NULL: {"frequency"} */
  HpParamKind        kind;
  const char*        unit; /**< "Hz", "ms", "dB", "" */
  float              min;
  float              max;
  float              def;
  bool log_scale;             /**< macro curves and UIs map it exponentially */
  const char* const* choices; /**< HP_PARAM_ENUM: NULL-terminated names */
  const char*        doc;
} HpParamDesc;

/**
   A parameter as process() sees it for one call.

   Rule for modulation (the one documented in README): when signals are
   connected to a parameter, their sum replaces the set value, sample by
   sample; otherwise the set value applies, smoothed after a live change.
   `signal` is NULL when the value is constant over the call; then `value`
   holds it.  Values arrive clamped to [min, max] only when constant;
   modules clamp signals themselves where the DSP needs it.
*/
typedef struct {
  const float* signal;
  float        value;
} HpParamIn;

/**
   The host's musical time (time:Position), as it stands at the first frame
   of a process() call.  `known` is false until the host sends a position;
   then `beat` counts beats from the song's start (bar * beats_per_bar +
   beat in bar) and advances by `beats_per_frame` each frame while the
   transport rolls (`beats_per_frame` is 0 when it is stopped).
*/
typedef struct {
  double beat;
  double bar_beat; /**< beats since the bar line, 0..beats_per_bar */
  double beats_per_frame;
  float  bpm;           /**< tempo, > 0 */
  float  beats_per_bar; /**< > 0 */
  bool   known;
  bool   rolling;
} HpTime;

/** How a process() call may use the module's memory (`HpNodeIO.mem`). */
typedef enum {
  HP_MEM_OWN,  /**< read and write: the graph playing on owns it */
  HP_MEM_READ, /**< read only: a graph fading out, while the graph that
                    replaced it plays on from (and writes) the same memory */
  HP_MEM_NONE, /**< neither: another graph owns it (a warm-up, a tail);
                    render the dry path, silence for what only memory gives */
} HpMemAccess;

/**
   What one process() call gets.  Buffers hold `nframes` floats.
   in[i] is NULL when input i is unconnected.
   out[0] (the main output) is always a buffer; other outputs are NULL when
   nothing reads them, so a module can skip computing them.

   Constant signals: a module whose descriptor sets `const_outputs` marks
   in *out_const the outputs that hold one value over the call (a note's
   pitch and gate between events); a parameter fed by one of those alone
   arrives as a constant (`signal` NULL, `value` clamped), and an input
   as a buffer with its bit set in `in_const`, so the module can take its
   constant path (a voice played by `midi` costs what a set value costs).
*/
typedef struct {
  void*            state;
  const float**    in;
  float**          out;
  const HpParamIn* param;
  float            rate;      /**< sample rate, Hz */
  float            inv_rate;  /**< 1 / rate */
  uint32_t         in_const;  /**< bit i: in[i] holds in[i][0] throughout */
  uint32_t*        out_const; /**< bit o: set when out[o] is constant */
  /** Delay lines and the like (HpModuleDesc.memory): zeroed when new,
      carried across a swap like the state when the module is kept and its
      size unchanged; NULL when the module asks for none.  Write only
      finite values there (flush a NaN to 0): a graph reset after a
      non-finite output restarts the state, not the memory. */
  float*      mem;
  size_t      mem_size; /**< floats */
  HpMemAccess mem_access;
  /** The module closes a loop (a cycle through its `delayed_outputs`):
      prefetch() has written those outputs for this call already, from
      memory, and process() must leave them as they are, reading at least
      HP_CHUNK frames back. */
  bool          looped;
  const HpTime* time; /**< never NULL */
  /** The plugin's audio inputs for this call, [0] left and [1] right, or
      NULL where there are none (the instrument, a warm-up). */
  const float* const* host_in;
} HpNodeIO;

/** How a module plays in a patch of several voices (DESIGN 3b). */
typedef enum {
  HP_VOICING_FOLLOW, /**< per voice when anything per voice feeds it */
  HP_VOICING_SOURCE, /**< always per voice: it gets the voices' notes */
  HP_VOICING_SUM,    /**< always once: it adds the voices fed to it */
} HpVoicing;

/**
   The head of the state of a module that takes MIDI (`midi()` set): what
   the graph's voice allocation (graph.c) reads and writes, so that the
   notes, like the rest of the state, carry across a swap.
*/
typedef struct {
  uint32_t note;      /**< the note the voice was given last */
  uint32_t held;      /**< nonzero while its key is down */
  uint32_t on_order;  /**< when the voice was given it (graph's counter) */
  uint32_t off_order; /**< when its key was released */
  uint32_t channel;   /**< the channel followed, 1..16, or 0 for all */
} HpVoiceHead;

typedef struct HpModuleDesc {
  const char*        type;    /**< "sine" */
  const char* const* aliases; /**< NULL-terminated, or NULL: {"simple_sine"} */
  const char*        doc;     /**< one sentence for README and TTL */

  const HpPortDesc*  inputs;
  uint32_t           n_inputs;
  const HpPortDesc*  outputs; /**< outputs[0] is the main output */
  uint32_t           n_outputs;
  const HpParamDesc* params;
  uint32_t           n_params;

  /** Plain-old-data DSP state, shared by the graphs that keep a module
      (same id, same type) and copied verbatim for a crossfade's outgoing
      graph; must hold no pointers. */
  size_t state_size;

  /** Optional: set up `state` (zeroed beforehand) for a fresh module, or
      NULL when zeroed state is where it starts.  `param` holds the module's
      initial values, constant. */
  void (*init)(void* state, const HpParamIn* param, float rate);

  /** Render `nframes` (1..HP_CHUNK) frames. Audio thread. */
  void (*process)(const HpNodeIO* io, uint32_t nframes);

  /** Optional: a MIDI message, between process() calls.  The state then
      begins with an HpVoiceHead.  Audio thread. */
  void (*midi)(void* state, const uint8_t* msg, uint32_t size);

  /** Optional, with midi(): take the parameters midi() reads into the
      state, as process() does.  `param` holds their values as set,
      constant.  The graph calls it before every MIDI message: an idle
      voice is not rendered, so its process() may not have run since a
      change.  Audio thread. */
  void (*take_params)(void* state, const HpParamIn* param);

  HpVoicing voicing;

  /** process() reports constant outputs in *io->out_const (HpNodeIO). */
  bool const_outputs;

  /** Optional: the floats of memory (delay lines) a module of these
      parameters needs at this rate, or 0.  The worker allocates it when
      it builds a graph, never run(); a kept module whose size is the same
      keeps its memory (HpNodeIO.mem), so its echoes ring on through a
      swap, and a new size starts empty (crossfaded).  Worker. */
  size_t (*memory)(const HpParamIn* param, float rate);

  /** With `delayed_outputs`: write them for `nframes` frames from state
      and memory alone (reading at least HP_CHUNK frames back), before any
      module of the chunk runs, when the module closes a loop.  Inputs and
      parameters are not this chunk's yet: do not read them.  Audio
      thread. */
  void (*prefetch)(const HpNodeIO* io, uint32_t nframes);

  /** Bit o: outputs[o] is delayed: it depends on the inputs of at least
      HP_CHUNK frames ago when the module closes a loop (`prefetch`), so a
      cycle through it is allowed (DESIGN 3b: feedback through a delay). */
  uint32_t delayed_outputs;

  /** The outputs are a stereo pair and their mix: outputs[1] is the left,
      outputs[2] the right, outputs[0] (the main output) (left + right) / 2
      for mono destinations.  To the sink `out` (both sides), and when
      nothing reads them, the pair goes to the sides as a pair. */
  bool stereo;

  /** Its inputs modulate it (an oscillator's pm) rather than being what it
      processes: a connection to the module by its id alone ("osc1") lands
      on none of them, only one by name ("osc1:pm"). */
  bool inputs_by_name;

  /** Reads HpNodeIO.host_in: only the effect plugin has audio inputs, and
      the instrument refuses the module. */
  bool host_input;

  /** Optional: true while the module sounds on its own account (a gate
      held, an envelope not finished).  A voice none of whose modules is
      busy is idle: not rendered, and free for the next note. */
  bool (*busy)(const void* state);
} HpModuleDesc;

/* Registry (src/registry.c) */

/** All module types, NULL-terminated, in documentation order. */
extern const HpModuleDesc* const hp_module_types[];

/** Find a module type by name or alias, or NULL. */
const HpModuleDesc* hp_module_find(const char* name);

/** Index of a parameter by name or alias, or -1. */
int hp_module_find_param(const HpModuleDesc* desc, const char* name);

/** Index of an input port by name, or -1. */
int hp_module_find_input(const HpModuleDesc* desc, const char* name);

/** Index of an output port by name, or -1. */
int hp_module_find_output(const HpModuleDesc* desc, const char* name);

/** Index of an enum choice by name, or -1. */
int hp_param_find_choice(const HpParamDesc* param, const char* name);

#ifdef __cplusplus
}
#endif

#endif /* HP_MODULE_H */
