/*
  Atoms <-> engine operations and notifications (README, "The patch protocol").
  Audio thread: no allocation, no stdio, no URI mapping.
*/

#ifndef HP_ATOMS_H
#define HP_ATOMS_H

#include "engine.h"
#include "uris.h"

#include <lv2/atom/forge.h>

#include <stdint.h>

/** Most ops one message can become (prime tuples plus the commit). */
#define HP_MAX_MESSAGE_OPS 65u

/**
   Decode one protocol message into `ops` (a commit with prime tuples gives
   one op per tuple, then the commit).  `seq` gets patch:sequenceNumber or
   HP_NO_SEQ even when decoding fails, so the error can carry it.
*/
HpStatus hp_atom_decode(const HpURIs*          uris,
                        const LV2_Atom_Object* obj,
                        HpOp*                  ops,
                        uint32_t*              n_ops,
                        int32_t*               seq,
                        HpError*               err);

/**
   Encode `op` as its protocol message (an atom:Object the decoder reads
   back), with op->seq as patch:sequenceNumber unless HP_NO_SEQ.  A commit
   carries `primes` (HP_OP_PRIME_SET or _GATE ops) as hp:prime when that is
   not NULL.  False when the op has no message form or the forge runs out
   of room.  Any thread: the test host and hotpatch-render use it.
*/
bool hp_atom_encode_op(LV2_Atom_Forge* forge,
                       const HpURIs*   uris,
                       const HpOp*     op,
                       const HpOp*     primes,
                       uint32_t        n_primes);

/* The writers below return false when the forge runs out of room; the
   atoms are then partly written and the forge's frame stack is left as it
   was: the caller rolls the forge back (offset, stack, sequence size). */

/** Write a notification as an atom object event at `frame`. */
bool hp_atom_write_event(LV2_Atom_Forge* forge,
                         const HpURIs*   uris,
                         uint32_t        frame,
                         const HpEvent*  event);

/** Answer patch:Get of hp:history: one patch:Set of it, the text. */
bool hp_atom_write_history(LV2_Atom_Forge* forge,
                           const HpURIs*   uris,
                           uint32_t        frame,
                           int32_t         seq,
                           const char*     text,
                           uint32_t        length);

/** Answer patch:Get: one patch:Set per property (hp:patch, the playing
    patch's text; hp:patchFile; hp:liveReload). */
bool hp_atom_write_patch(LV2_Atom_Forge* forge,
                         const HpURIs*   uris,
                         uint32_t        frame,
                         int32_t         seq,
                         const char*     text,
                         uint32_t        length,
                         const char*     path,
                         bool            live_reload);

/** The host's transport from a time:Position object, for
    hp_engine_time(): NAN where the object does not say. */
typedef struct {
  double beat;     /**< from the song's start: time:beat, else time:bar *
                        time:beatsPerBar + time:barBeat */
  double bar_beat; /**< time:barBeat, or NAN */
  float  bpm;
  float  beats_per_bar;
  float  speed;
} HpPosition;

/**
   Read a time:Position object (any key of another type than a number, or
   a property that overruns the object, makes it not well-formed: false).
   Values are passed on as the host sent them, hostile ones too: the
   engine judges them.
*/
bool hp_atom_read_position(const HpURIs*          uris,
                           const LV2_Atom_Object* obj,
                           HpPosition*            position);

/** Write a patch:Error for `seq` with `message` at `frame`. */
bool hp_atom_write_error(LV2_Atom_Forge* forge,
                         const HpURIs*   uris,
                         uint32_t        frame,
                         int32_t         seq,
                         const char*     message);

#endif /* HP_ATOMS_H */
