/*
  A picture of a patch: the patch as Graphviz DOT, for hotpatch-render
  --graph (README, "Pictures of a patch").
*/

#ifndef HP_PATCH_DOT_H
#define HP_PATCH_DOT_H

#include "graph.h"
#include "patch.h"

#include <stdio.h>

/**
   Write `patch` as a Graphviz digraph: a box per module (its id, type and
   the parameters set off their defaults), an edge per connection (audio
   solid, control and modulation dashed, each with a tooltip naming both
   ports), the sink `out`, and the macro mappings.  `graph`, the patch
   compiled, tells which modules play once per voice (drawn doubled) and
   which sound in the outputs unconnected (a dotted edge to `out`).  Edges
   carry a class: audio, modulation, unconnected or macro.
*/
void hp_patch_write_dot(FILE* out, const HpPatch* patch, const HpGraph* graph);

#endif /* HP_PATCH_DOT_H */
