/*
  A picture of a patch: the patch as Graphviz DOT (see patch_dot.h).
*/

#include "patch_dot.h"

#include <stdint.h>
#include <stdlib.h>

/* The sink as connections name it, by HpPatchLink.dst_index, and its
   sides. */
static const char* const sink_specs[] = {"out", "out:left", "out:right"};
static const char* const sink_sides[] = {"out", "left", "right"};

_Static_assert(HP_MAX_PARAMS <= 64u, "a bit a parameter in a uint64_t");

/* Bit p of driven[m]: a connection drives parameter p of module m, its
   signal replacing the set value.  NULL when out of memory. */
static uint64_t*
driven_params(const HpPatch* const patch)
{
  uint64_t* const driven =
    (uint64_t*)calloc(patch->n_modules + 1u, sizeof(uint64_t));
  for (uint32_t i = 0; driven && i < patch->n_links; ++i) {
    const HpPatchLink* const l = &patch->links[i];
    if (l->kind == HP_DEST_PARAM) {
      driven[l->dst] |= UINT64_C(1) << l->dst_index;
    }
  }
  return driven;
}

/* A module's box: id, type, and the values set off their defaults that no
   connection overrides. */
static void
write_module(FILE* const          out,
             const HpPatch* const patch,
             const HpGraph* const graph,
             const uint32_t       m,
             const uint64_t       driven)
{
  const HpPatchModule* const mod = &patch->modules[m];
  const bool voice = patch->n_voices > 1u && hp_graph_per_voice(graph, mod->id);
  fprintf(out, "  \"%s\" [label=\"%s\\n%s", mod->id, mod->id, mod->desc->type);
  if (voice) {
    fprintf(out, " × %u", patch->n_voices);
  }
  for (uint32_t p = 0; p < mod->desc->n_params; ++p) {
    const HpParamDesc* const pd = &mod->desc->params[p];
    if (mod->value[p] == pd->def || (driven >> p & 1u)) {
      continue;
    }
    if (pd->kind == HP_PARAM_ENUM) {
      fprintf(out, "\\n%s %s", pd->name, pd->choices[(int)mod->value[p]]);
    } else {
      char number[32];
      hp_float_text(mod->value[p], number);
      fprintf(out,
              "\\n%s %s%s%s",
              pd->name,
              number,
              pd->unit[0] ? " " : "",
              pd->unit);
    }
  }
  fprintf(
    out, "\"%s];\n", voice ? ", peripheries=2, fillcolor=\"#dfe9f7\"" : "");
}

/* A connection: audio into an input or the sink solid, any other signal
   (control into an input, anything into a parameter) dashed.  Ports are
   named on the edge unless both are the defaults (main output, first
   input, both sides of the sink), and in its tooltip as connections name
   them. */
static void
write_link(FILE* const out, const HpPatch* const patch, const HpPatchLink* l)
{
  const HpPatchModule* const src      = &patch->modules[l->src];
  const HpPortDesc* const    src_port = &src->desc->outputs[l->src_port];
  const char*                dst_id   = HP_SINK_ID;
  const char*                dst_port = sink_sides[l->dst_index];
  char                       dst_spec[HP_ID_MAX + HP_NAME_MAX];
  snprintf(dst_spec, sizeof(dst_spec), "%s", sink_specs[l->dst_index]);
  if (l->kind != HP_DEST_SINK) {
    const HpPatchModule* const dst = &patch->modules[l->dst];
    dst_id                         = dst->id;
    dst_port = l->kind == HP_DEST_INPUT ? dst->desc->inputs[l->dst_index].name
                                        : dst->desc->params[l->dst_index].name;
    snprintf(dst_spec, sizeof(dst_spec), "%s:%s", dst_id, dst_port);
  }
  const bool audio =
    l->kind != HP_DEST_PARAM && src_port->kind == HP_SIGNAL_AUDIO;
  fprintf(out,
          "  \"%s\" -> \"%s\" [class=\"%s\", tooltip=\"%s:%s → %s\"",
          src->id,
          dst_id,
          audio ? "audio" : "modulation",
          src->id,
          src_port->name,
          dst_spec);
  if (l->src_port != 0u || l->dst_index != 0u || l->kind == HP_DEST_PARAM) {
    fprintf(out, ", label=\"%s → %s\"", src_port->name, dst_port);
  }
  fprintf(out,
          "%s];\n",
          audio ? ", penwidth=1.6"
                : ", style=dashed, color=\"#2f6db5\", fontcolor=\"#2f6db5\"");
}

void
hp_patch_write_dot(FILE* const          out,
                   const HpPatch* const patch,
                   const HpGraph* const graph)
{
  char voices[64] = "1 voice";
  if (patch->n_voices > 1u) {
    snprintf(voices,
             sizeof(voices),
             "%u voices: a doubled box plays once per voice",
             patch->n_voices);
  }
  fprintf(out,
          "digraph patch {\n"
          "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, "
          "label=\"%s\"];\n"
          "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f2f2f2\", "
          "fontname=\"Helvetica\", fontsize=11];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7];\n",
          voices);
  uint64_t* const driven = driven_params(patch);
  for (uint32_t m = 0; m < patch->n_modules; ++m) {
    write_module(out, patch, graph, m, driven ? driven[m] : 0u);
  }
  free(driven);

  bool explicit_sink = false;
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    write_link(out, patch, &patch->links[i]);
    explicit_sink |= patch->links[i].kind == HP_DEST_SINK;
  }
  /* With nothing connected to `out`, what feeds nothing sounds there. */
  bool sink = explicit_sink;
  for (uint32_t m = 0; !explicit_sink && m < patch->n_modules; ++m) {
    if (hp_graph_to_output(graph, patch->modules[m].id)) {
      fprintf(out,
              "  \"%s\" -> \"" HP_SINK_ID "\" [class=\"unconnected\", "
              "style=dotted, color=\"#777777\", tooltip=\"unconnected: "
              "summed into the output\"];\n",
              patch->modules[m].id);
      sink = true;
    }
  }
  if (sink) {
    fprintf(out,
            "  \"" HP_SINK_ID "\" [shape=cds, fillcolor=\"#444444\", "
            "fontcolor=\"white\"];\n");
  }

  uint32_t drawn = 0u; /* a bit a macro: its node is there */
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    const HpMacroMap* const    map = &patch->macros[i];
    const HpPatchModule* const mod = &patch->modules[map->module];
    if (!(drawn >> map->macro & 1u)) {
      fprintf(out,
              "  \"macro %u\" [shape=plaintext, style=\"\", "
              "fontcolor=\"#a0522d\"];\n",
              map->macro + 1u);
      drawn |= 1u << map->macro;
    }
    char lo[32];
    char hi[32];
    hp_float_text(map->lo, lo);
    hp_float_text(map->hi, hi);
    fprintf(out,
            "  \"macro %u\" -> \"%s\" [class=\"macro\", style=dotted, "
            "color=\"#a0522d\", fontcolor=\"#a0522d\", label=\"%s %s..%s "
            "%s\"];\n",
            map->macro + 1u,
            mod->id,
            mod->desc->params[map->param].name,
            lo,
            hi,
            map->exponential ? "exp" : "lin");
  }
  fprintf(out, "}\n");
}
