/*
  hotpatch URIs (README: "Using it in a host", "The patch protocol").  The
  string macros are the protocol's names; tests and hosts include this header
  for them. HpURIs is mapped once in instantiate() (URI mapping never happens in
  run()).
*/

#ifndef HP_URIS_H
#define HP_URIS_H

#include "../src/ops.h"

#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/urid/urid.h>

/* The instrument and the effect: one binary, one engine (DESIGN 3b). */
#define HP_PLUGIN_URI "urn:hotpatch:synth"
#define HP_FX_URI "urn:hotpatch:fx"
#define HP_NS "urn:hotpatch:ns#"

#define HP__Create HP_NS "Create"
#define HP__Delete HP_NS "Delete"
#define HP__Connect HP_NS "Connect"
#define HP__Disconnect HP_NS "Disconnect"
#define HP__Set HP_NS "Set"
#define HP__Gate HP_NS "Gate"
#define HP__Commit HP_NS "Commit"
#define HP__Abort HP_NS "Abort"
#define HP__Clear HP_NS "Clear"
#define HP__Macro HP_NS "Macro"
#define HP__Primed HP_NS "Primed"
#define HP__Swapped HP_NS "Swapped"

#define HP__module HP_NS "module"
#define HP__type HP_NS "type"
#define HP__source HP_NS "source"
#define HP__dest HP_NS "dest"
#define HP__param HP_NS "param"
#define HP__value HP_NS "value"
#define HP__prime HP_NS "prime"
#define HP__warmup HP_NS "warmup"
#define HP__crossfade HP_NS "crossfade"
#define HP__requireSignal HP_NS "requireSignal"
#define HP__message HP_NS "message"
#define HP__generation HP_NS "generation"
#define HP__primeTime HP_NS "primeTime"
#define HP__warmupRms HP_NS "warmupRms"
#define HP__moduleCount HP_NS "moduleCount"
#define HP__frame HP_NS "frame"
#define HP__patchFile HP_NS "patchFile"
#define HP__macro HP_NS "macro"
#define HP__target HP_NS "target"
#define HP__minimum HP_NS "minimum"
#define HP__maximum HP_NS "maximum"
#define HP__curve HP_NS "curve"
#define HP__patch HP_NS "patch"
#define HP__patchBank HP_NS "patchBank"
#define HP__liveReload HP_NS "liveReload"

typedef struct {
  LV2_URID atom_Blank;
  LV2_URID atom_Bool;
  LV2_URID atom_Double;
  LV2_URID atom_Float;
  LV2_URID atom_Int;
  LV2_URID atom_Long;
  LV2_URID atom_Object;
  LV2_URID atom_Path;
  LV2_URID atom_Sequence;
  LV2_URID atom_String;
  LV2_URID atom_Tuple;
  LV2_URID atom_URID;
  LV2_URID atom_eventTransfer;
  LV2_URID bufsz_maxBlockLength;
  LV2_URID bufsz_nominalBlockLength;
  LV2_URID midi_MidiEvent;
  LV2_URID param_sampleRate;
  LV2_URID patch_Ack;
  LV2_URID patch_Error;
  LV2_URID patch_Get;
  LV2_URID patch_Set;
  LV2_URID patch_property;
  LV2_URID patch_sequenceNumber;
  LV2_URID patch_value;
  LV2_URID state_StateChanged;
  LV2_URID time_Position;
  LV2_URID time_bar;
  LV2_URID time_barBeat;
  LV2_URID time_beat;
  LV2_URID time_beatsPerBar;
  LV2_URID time_beatsPerMinute;
  LV2_URID time_speed;

  LV2_URID hp_Create;
  LV2_URID hp_Delete;
  LV2_URID hp_Connect;
  LV2_URID hp_Disconnect;
  LV2_URID hp_Set;
  LV2_URID hp_Gate;
  LV2_URID hp_Commit;
  LV2_URID hp_Abort;
  LV2_URID hp_Clear;
  LV2_URID hp_Macro;
  LV2_URID hp_Primed;
  LV2_URID hp_Swapped;
  LV2_URID hp_module;
  LV2_URID hp_type;
  LV2_URID hp_source;
  LV2_URID hp_dest;
  LV2_URID hp_param;
  LV2_URID hp_value;
  LV2_URID hp_prime;
  LV2_URID hp_warmup;
  LV2_URID hp_crossfade;
  LV2_URID hp_requireSignal;
  LV2_URID hp_message;
  LV2_URID hp_generation;
  LV2_URID hp_primeTime;
  LV2_URID hp_warmupRms;
  LV2_URID hp_moduleCount;
  LV2_URID hp_frame;
  LV2_URID hp_patchFile;
  LV2_URID hp_macro;
  LV2_URID hp_target;
  LV2_URID hp_minimum;
  LV2_URID hp_maximum;
  LV2_URID hp_curve;
  LV2_URID hp_patch;
  LV2_URID hp_patchBank;
  LV2_URID hp_liveReload;

  /* The table of operations (src/ops.c), mapped: each op's field keys,
     class and the property of a patch:Set (0 where an op has none). */
  LV2_URID field_key[HP_N_OP_TYPES][HP_OP_MAX_FIELDS];
  LV2_URID op_class[HP_N_OP_TYPES];
  LV2_URID op_property[HP_N_OP_TYPES];
} HpURIs;

static inline void
hp_map_uris(LV2_URID_Map* map, HpURIs* u)
{
#define HP_MAP(field, uri) u->field = map->map(map->handle, uri)
  HP_MAP(atom_Blank, LV2_ATOM__Blank);
  HP_MAP(atom_Bool, LV2_ATOM__Bool);
  HP_MAP(atom_Double, LV2_ATOM__Double);
  HP_MAP(atom_Float, LV2_ATOM__Float);
  HP_MAP(atom_Int, LV2_ATOM__Int);
  HP_MAP(atom_Long, LV2_ATOM__Long);
  HP_MAP(atom_Object, LV2_ATOM__Object);
  HP_MAP(atom_Path, LV2_ATOM__Path);
  HP_MAP(atom_Sequence, LV2_ATOM__Sequence);
  HP_MAP(atom_String, LV2_ATOM__String);
  HP_MAP(atom_Tuple, LV2_ATOM__Tuple);
  HP_MAP(atom_URID, LV2_ATOM__URID);
  HP_MAP(atom_eventTransfer, LV2_ATOM__eventTransfer);
  HP_MAP(bufsz_maxBlockLength, LV2_BUF_SIZE__maxBlockLength);
  HP_MAP(bufsz_nominalBlockLength, LV2_BUF_SIZE_PREFIX "nominalBlockLength");
  HP_MAP(midi_MidiEvent, LV2_MIDI__MidiEvent);
  HP_MAP(param_sampleRate, LV2_PARAMETERS__sampleRate);
  HP_MAP(patch_Ack, LV2_PATCH__Ack);
  HP_MAP(patch_Error, LV2_PATCH__Error);
  HP_MAP(patch_Get, LV2_PATCH__Get);
  HP_MAP(patch_Set, LV2_PATCH__Set);
  HP_MAP(patch_property, LV2_PATCH__property);
  HP_MAP(patch_sequenceNumber, LV2_PATCH__sequenceNumber);
  HP_MAP(patch_value, LV2_PATCH__value);
  HP_MAP(state_StateChanged, LV2_STATE_PREFIX "StateChanged");
  HP_MAP(time_Position, LV2_TIME__Position);
  HP_MAP(time_bar, LV2_TIME__bar);
  HP_MAP(time_barBeat, LV2_TIME__barBeat);
  HP_MAP(time_beat, LV2_TIME__beat);
  HP_MAP(time_beatsPerBar, LV2_TIME__beatsPerBar);
  HP_MAP(time_beatsPerMinute, LV2_TIME__beatsPerMinute);
  HP_MAP(time_speed, LV2_TIME__speed);
  HP_MAP(hp_Create, HP__Create);
  HP_MAP(hp_Delete, HP__Delete);
  HP_MAP(hp_Connect, HP__Connect);
  HP_MAP(hp_Disconnect, HP__Disconnect);
  HP_MAP(hp_Set, HP__Set);
  HP_MAP(hp_Gate, HP__Gate);
  HP_MAP(hp_Commit, HP__Commit);
  HP_MAP(hp_Abort, HP__Abort);
  HP_MAP(hp_Clear, HP__Clear);
  HP_MAP(hp_Macro, HP__Macro);
  HP_MAP(hp_Primed, HP__Primed);
  HP_MAP(hp_Swapped, HP__Swapped);
  HP_MAP(hp_module, HP__module);
  HP_MAP(hp_type, HP__type);
  HP_MAP(hp_source, HP__source);
  HP_MAP(hp_dest, HP__dest);
  HP_MAP(hp_param, HP__param);
  HP_MAP(hp_value, HP__value);
  HP_MAP(hp_prime, HP__prime);
  HP_MAP(hp_warmup, HP__warmup);
  HP_MAP(hp_crossfade, HP__crossfade);
  HP_MAP(hp_requireSignal, HP__requireSignal);
  HP_MAP(hp_message, HP__message);
  HP_MAP(hp_generation, HP__generation);
  HP_MAP(hp_primeTime, HP__primeTime);
  HP_MAP(hp_warmupRms, HP__warmupRms);
  HP_MAP(hp_moduleCount, HP__moduleCount);
  HP_MAP(hp_frame, HP__frame);
  HP_MAP(hp_patchFile, HP__patchFile);
  HP_MAP(hp_macro, HP__macro);
  HP_MAP(hp_target, HP__target);
  HP_MAP(hp_minimum, HP__minimum);
  HP_MAP(hp_maximum, HP__maximum);
  HP_MAP(hp_curve, HP__curve);
  HP_MAP(hp_patch, HP__patch);
  HP_MAP(hp_patchBank, HP__patchBank);
  HP_MAP(hp_liveReload, HP__liveReload);
#undef HP_MAP
  for (int t = 0; t < (int)HP_N_OP_TYPES; ++t) {
    const HpOpDesc* const d = hp_op_desc((HpOpType)t);
    u->op_class[t]    = d->class_uri ? map->map(map->handle, d->class_uri) : 0;
    u->op_property[t] = d->property ? map->map(map->handle, d->property) : 0;
    for (uint32_t i = 0; i < HP_OP_MAX_FIELDS; ++i) {
      char uri[128];
      u->field_key[t][i] =
        i < d->n_fields && hp_op_uri(d->fields[i].key, uri, sizeof(uri))
          ? map->map(map->handle, uri)
          : 0;
    }
  }
}

/** Port indices, in the order of ttl/plugin.ttl.in (both plugins share the
    ports up to HP_PORT_MODULES; the effect's audio inputs come after them,
    so the instrument's indices are what they always were). */
typedef enum {
  HP_PORT_CONTROL = 0,
  HP_PORT_NOTIFY,
  HP_PORT_OUT_L,
  HP_PORT_OUT_R,
  HP_PORT_GAIN,
  HP_PORT_CROSSFADE,
  HP_PORT_SCENE,
  HP_PORT_MACRO1,
  HP_PORT_MACRO8 = HP_PORT_MACRO1 + 7,
  HP_PORT_SWAPS,
  HP_PORT_PRIME_MS,
  HP_PORT_MODULES,
  HP_PORT_SCENE_QUANT,
  HP_PORT_IN_L, /**< urn:hotpatch:fx only */
  HP_PORT_IN_R, /**< urn:hotpatch:fx only */
  HP_N_PORTS
} HpPortIndex;

/** The instrument's ports: all but the effect's audio inputs. */
#define HP_N_SYNTH_PORTS ((uint32_t)HP_PORT_IN_L)

#endif /* HP_URIS_H */
