/*
  A patch description: modules, connections, parameter values and macro
  mappings.  Edited by operations (HpOp) in the worker; compiled into an
  HpGraph for the audio thread.  Not thread-safe: one owner at a time.
*/

#ifndef HP_PATCH_H
#define HP_PATCH_H

#include "engine.h"
#include "module.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The most modules one patch may hold. */
#define HP_MAX_MODULES 4096u
/** The most macro mappings one patch may hold. */
#define HP_MAX_MACRO_MAPS 64u
#define HP_N_MACROS 8u

/** The built-in sink's id; "out", "out:left", "out:right" are destinations. */
#define HP_SINK_ID "out"

typedef enum {
  HP_DEST_INPUT, /**< an input port of a module */
  HP_DEST_PARAM, /**< a parameter of a module (modulation) */
  HP_DEST_SINK,  /**< the stereo output: index 0 both, 1 left, 2 right */
} HpDestKind;

typedef struct {
  char                id[HP_ID_MAX];
  const HpModuleDesc* desc;
  float               value[HP_MAX_PARAMS];
} HpPatchModule;

typedef struct {
  uint32_t   src;      /**< module index */
  uint32_t   src_port; /**< output index */
  HpDestKind kind;
  uint32_t   dst; /**< module index (unused for the sink) */
  uint32_t   dst_index;
} HpPatchLink;

typedef struct {
  uint32_t macro; /**< 0..7 */
  uint32_t module;
  uint32_t param;
  float    lo, hi;
  bool     exponential;
} HpMacroMap;

/** Lookups by id and by link, and each module's links: private to patch.c. */
typedef struct HpPatchIndexImpl HpPatchIndex;

typedef struct {
  HpPatchModule* modules;
  uint32_t       n_modules;
  uint32_t       cap_modules;
  HpPatchLink*   links;
  uint32_t       n_links;
  uint32_t       cap_links;
  HpMacroMap     macros[HP_MAX_MACRO_MAPS];
  uint32_t       n_macros;
  uint32_t       n_voices; /**< 1..HP_MAX_VOICES (hp:Voices) */
  HpPatchIndex*  index;
  /** Connect skips its cycle check while set: a batch of edits is checked
      once at its end with hp_patch_has_cycle().  Not part of the value
      (hp_patch_copy and hp_patch_equal ignore it). */
  bool defer_cycle_check;
} HpPatch;

HpPatch* hp_patch_new(void);
void     hp_patch_free(HpPatch* patch);

/** Make `dst` a deep copy of `src`. */
HpStatus hp_patch_copy(HpPatch* dst, const HpPatch* src);

/** Remove every module, connection and macro mapping; back to 1 voice. */
void hp_patch_clear(HpPatch* patch);

/** True when both describe the same patch (same order, same values). */
bool hp_patch_equal(const HpPatch* a, const HpPatch* b);

/**
   Apply a structural or value operation: CREATE, DELETE, CONNECT,
   DISCONNECT, SET, GATE, CLEAR, MACRO, VOICES.  On error nothing changes and
   `err` says why in a sentence naming the module, port or value.  CREATE, SET,
   GATE and MACRO cost O(1) on average, CONNECT that plus its cycle check
   (see patch.c); DELETE, DISCONNECT and CLEAR O(modules + links).
*/
HpStatus hp_patch_apply(HpPatch* patch, const HpOp* op, HpError* err);

/** True if the links form a cycle: Kahn's algorithm, O(modules + links). */
bool hp_patch_has_cycle(HpPatch* patch);

/** Links the cycle checks of connects have followed so far: the work that
    makes loading linear or not, counted for tests/test_patch.c. */
uint64_t hp_patch_cycle_steps(const HpPatch* patch);

/** Index of the module with this id, or -1.  O(1) on average. */
int hp_patch_find(const HpPatch* patch, const char* id);

/** Resolve "mod:param" or a module + param name to indices, with errors. */
HpStatus hp_patch_find_param(const HpPatch* patch,
                             const char*    module,
                             const char*    param,
                             uint32_t*      mod_index,
                             uint32_t*      param_index,
                             HpError*       err);

/** The shortest text that reads back as exactly `value` ("0.3", not
    "0.300000012"); `buf` holds at least 32 bytes. */
void hp_float_text(float value, char* buf);

/** Check a value for a parameter (finite, in range, whole for integers). */
HpStatus hp_param_check(const HpPatchModule* module,
                        uint32_t             param,
                        float                value,
                        HpError*             err);

/** Call `func` with each op that builds the patch, in order: the voice
    count (when not 1), creates (each followed by its values off the
    default), connections, macro mappings. */
typedef void (*HpPatchOpFunc)(const HpOp* op, void* data);
void hp_patch_each_op(const HpPatch* patch, HpPatchOpFunc func, void* data);

/**
   Write the patch as text-protocol lines (starting with /patch/clear).
   Returns the length it needs (like snprintf); writes at most `size`.
*/
size_t hp_patch_write_text(const HpPatch* patch, char* buf, size_t size);

#endif /* HP_PATCH_H */
