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

/** Most ports or parameters any one module type has. */
#define HP_MAX_PORTS 16u
#define HP_MAX_PARAMS 16u

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
