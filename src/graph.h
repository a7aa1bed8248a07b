/*
  A compiled patch: modules in topological order, buffers assigned by
  liveness, everything in one allocation.  Built and freed in the worker;
  processed in the audio thread; handed over as one pointer.

  Thread rules: after hp_graph_new() returns, the worker may read a graph's
  immutable layout (ids, types, order) but never its DSP state or parameter
  values, which belong to the audio thread once the graph is published.
*/

#ifndef HP_GRAPH_H
#define HP_GRAPH_H

#include "engine.h"
#include "patch.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct HpGraphImpl HpGraph;

/**
   Compile `patch`.  Modules of `base` (may be NULL) with the same id and
   type keep their DSP state: the new graph adopts it (hp_graph_seal) and
   plays on from it after the swap (hp_graph_take_over).
*/
HpGraph* hp_graph_new(const HpPatch* patch,
                      const HpGraph* base,
                      float          rate,
                      HpError*       err);

/** As hp_graph_new(), for a tail commit: the voices start free (per-voice
    modules start fresh) while `base` rings its own out; shared modules
    keep their state as usual. */
HpGraph* hp_graph_new_tail(const HpPatch* patch,
                           const HpGraph* base,
                           float          rate,
                           HpError*       err);

void hp_graph_free(HpGraph* graph);

/** What the next hp_graph_process() call's frames are heard against: the
    host's time at its first frame, and the plugin's audio inputs (NULL:
    none, silence).  Audio thread (the worker, for a warm-up). */
void hp_graph_context(HpGraph*      graph,
                      const HpTime* time,
                      const float*  in_l,
                      const float*  in_r);

/** Render `nframes` (<= HP_CHUNK) frames, overwriting `left` and `right`. */
void hp_graph_process(HpGraph* graph,
                      float*   left,
                      float*   right,
                      uint32_t nframes);

/** Before the warm-up: kept modules warm up on a copy of the state they
    play from in the graph this one was built against, which run() may be
    writing meanwhile: the copy may be torn, so the caller must check
    (engine.c's seqlock) and else call hp_graph_restart_kept().  Worker. */
void hp_graph_copy_kept(HpGraph* graph);

/** Kept modules warm up from a fresh state instead (a torn copy).  Worker. */
void hp_graph_restart_kept(HpGraph* graph);

/** After the warm-up, before publishing: kept modules switch from the
    warm-up's copy to the state they share with the graph this one was
    built against (adopted at build).  Worker. */
void hp_graph_seal(HpGraph* graph);

/** The swap: `graph` (sealed) replaces `from`, which must be the graph it
    was built against, and plays its kept modules on from their state
    without copying it; their parameters that the last few live sets left
    gliding glide on from where they are.  When `from` fades out meanwhile,
    it gets copies of those states to fade on (part of the crossfade's
    cost, O(kept modules)); otherwise this is O(1).  Audio thread. */
void hp_graph_take_over(HpGraph* graph, HpGraph* from, bool from_fades);

/** True when every sound reaches both sides alike: the right output is a
    copy of the left. */
bool hp_graph_mono(const HpGraph* graph);

/** True when a kept module's sound reaches the output in both graphs: the
    two are correlated and crossfade with equal gain, not equal power. */
bool hp_graph_correlated(const HpGraph* graph);

/** Node index by module id, or -1.  Audio thread safe (binary search). */
int hp_graph_find(const HpGraph* graph, const char* id);

/**
   Set a parameter by name to `value`, or to the enum choice named `choice`
   when that is not NULL or empty.  `immediate` skips smoothing (priming).
   Audio thread safe.  Returns false, changing nothing, when the module,
   parameter or choice does not exist or the value is not finite, out of
   range, or not whole for an integer or choice.  Hashes the names
   (hp_graph_set_key() does the rest).
*/
bool hp_graph_set(HpGraph*    graph,
                  const char* module,
                  const char* param,
                  float       value,
                  const char* choice,
                  bool        immediate);

/**
   As hp_graph_set(), by the keys of the names (ops.h: hp_name_key() of the
   module id, the parameter, and the choice or 0 for a number): no string
   is compared, so the audio thread may set a live value without one.
   Audio thread safe.
*/
bool hp_graph_set_key(HpGraph* graph,
                      uint64_t module,
                      uint64_t param,
                      uint64_t choice,
                      float    value,
                      bool     immediate);

/** Move macro `macro` (0..7) to `position` (0..1); `immediate` skips
    smoothing (a standby).  Audio thread safe. */
void hp_graph_macro(HpGraph* graph,
                    uint32_t macro,
                    float    position,
                    bool     immediate);

/** Feed a MIDI message to the midi modules: with several voices, a note
    to the voice the allocation picks (DESIGN 3b), the rest to every voice.
    Audio thread safe. */
void hp_graph_midi(HpGraph* graph, const uint8_t* msg, uint32_t size);

/** The voices sounding (a gate on, an envelope not finished): a bit a
    voice.  Audio thread safe. */
uint32_t hp_graph_sounding(HpGraph* graph);

/** The patch's voice count. */
uint32_t hp_graph_voices(const HpGraph* graph);

/** From now on render only what the voices play (DESIGN 3b, hp:tail):
    modules that no voice's signal reaches and whose signal reaches no
    voice (a drone) fall silent.  Audio thread. */
void hp_graph_ring_out(HpGraph* graph);

/** Reset all DSP state (after a non-finite output). Audio thread safe. */
void hp_graph_reset(HpGraph* graph);

uint32_t hp_graph_module_count(const HpGraph* graph);

/** The module with this id plays once per voice (DESIGN 3b: fed by `midi`
    or by a per-voice module); false when it is shared or not there. */
bool hp_graph_per_voice(const HpGraph* graph, const char* id);

/** The module with this id plays into the plugin's outputs: connected to
    the sink `out`, or, when nothing is, an audio main output that feeds
    nothing. */
bool hp_graph_to_output(const HpGraph* graph, const char* id);

/** Per-swap data the worker attaches before publishing. */
typedef struct {
  uint32_t generation;
  uint32_t serial;             /**< the last queued op the worker had taken */
  int32_t  seq;                /**< of the commit, or HP_NO_SEQ */
  float    crossfade_ms;       /**< < 0: use the crossfade control */
  bool     tail;               /**< the graph it replaces rings out */
  float    quant;              /**< hp:quant in beats (hp_op_quant()) */
  float    macro[HP_N_MACROS]; /**< positions applied before warm-up */
} HpGraphTag;

HpGraphTag* hp_graph_tag(HpGraph* graph);

#endif /* HP_GRAPH_H */
