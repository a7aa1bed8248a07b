/* Patch descriptions and their validation.  Worker thread only. */

#include "patch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

HpPatch*
hp_patch_new(void)
{
  return (HpPatch*)calloc(1, sizeof(HpPatch));
}

void
hp_patch_free(HpPatch* const patch)
{
  if (patch) {
    free(patch->modules);
    free(patch->links);
    free(patch);
  }
}

void
hp_patch_clear(HpPatch* const patch)
{
  patch->n_modules = 0;
  patch->n_links   = 0;
  patch->n_macros  = 0;
}

static bool
grow(void** array, uint32_t* cap, const uint32_t need, const size_t elem)
{
  if (need <= *cap) {
    return true;
  }
  uint32_t new_cap = *cap ? *cap * 2u : 16u;
  while (new_cap < need) {
    new_cap *= 2u;
  }
  void* const mem = realloc(*array, new_cap * elem);
  if (!mem) {
    return false;
  }
  *array = mem;
  *cap   = new_cap;
  return true;
}

HpStatus
hp_patch_copy(HpPatch* const dst, const HpPatch* const src)
{
  if (!grow((void**)&dst->modules, &dst->cap_modules, src->n_modules,
            sizeof(HpPatchModule)) ||
      !grow((void**)&dst->links, &dst->cap_links, src->n_links,
            sizeof(HpPatchLink))) {
    return HP_ERR_NO_MEMORY;
  }
  if (src->n_modules) {
    memcpy(dst->modules, src->modules, src->n_modules * sizeof(HpPatchModule));
  }
  if (src->n_links) {
    memcpy(dst->links, src->links, src->n_links * sizeof(HpPatchLink));
  }
  memcpy(dst->macros, src->macros, sizeof(src->macros));
  dst->n_modules = src->n_modules;
  dst->n_links   = src->n_links;
  dst->n_macros  = src->n_macros;
  return HP_SUCCESS;
}

bool
hp_patch_equal(const HpPatch* const a, const HpPatch* const b)
{
  if (a->n_modules != b->n_modules || a->n_links != b->n_links ||
      a->n_macros != b->n_macros) {
    return false;
  }
  for (uint32_t i = 0; i < a->n_modules; ++i) {
    const HpPatchModule* ma = &a->modules[i];
    const HpPatchModule* mb = &b->modules[i];
    if (ma->desc != mb->desc || strcmp(ma->id, mb->id) ||
        memcmp(ma->value, mb->value, ma->desc->n_params * sizeof(float))) {
      return false;
    }
  }
  for (uint32_t i = 0; i < a->n_links; ++i) {
    const HpPatchLink* la = &a->links[i];
    const HpPatchLink* lb = &b->links[i];
    if (la->src != lb->src || la->src_port != lb->src_port ||
        la->kind != lb->kind || la->dst != lb->dst ||
        la->dst_index != lb->dst_index) {
      return false;
    }
  }
  /* Field by field: padding bytes hold anything. */
  for (uint32_t i = 0; i < a->n_macros; ++i) {
    const HpMacroMap* ma = &a->macros[i];
    const HpMacroMap* mb = &b->macros[i];
    if (ma->macro != mb->macro || ma->module != mb->module ||
        ma->param != mb->param || ma->lo != mb->lo || ma->hi != mb->hi ||
        ma->exponential != mb->exponential) {
      return false;
    }
  }
  return true;
}

int
hp_patch_find(const HpPatch* const patch, const char* const id)
{
  for (uint32_t i = 0; i < patch->n_modules; ++i) {
    if (!strcmp(patch->modules[i].id, id)) {
      return (int)i;
    }
  }
  return -1;
}

/* Names for messages: "in, gate" */
static void
list_names(char* const buf, const size_t size, const void* const items,
           const uint32_t n, const size_t stride)
{
  size_t len = 0;
  buf[0]     = '\0';
  for (uint32_t i = 0; i < n && len < size; ++i) {
    const char* name = *(const char* const*)((const char*)items + i * stride);
    len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", name);
  }
  if (!n) {
    snprintf(buf, size, "none");
  }
}

static void
list_types(char* const buf, const size_t size)
{
  size_t len = 0;
  buf[0]     = '\0';
  for (const HpModuleDesc* const* t = hp_module_types; *t && len < size; ++t) {
    len += (size_t)snprintf(buf + len, size - len, "%s%s",
                            t == hp_module_types ? "" : ", ", (*t)->type);
  }
}

static HpStatus
unknown_module(const char* const id, HpError* const err)
{
  return hp_error(err, HP_ERR_UNKNOWN_MODULE,
                  "no module '%s' in the patch; create it first", id);
}

static HpStatus
check_id(const HpPatch* const patch, const char* const id, HpError* const err)
{
  const size_t len = strlen(id);
  bool         ok  = len > 0 && len < HP_ID_MAX &&
            (id[0] == '_' || (id[0] >= 'a' && id[0] <= 'z') ||
             (id[0] >= 'A' && id[0] <= 'Z'));
  for (size_t i = 1; ok && i < len; ++i) {
    const char c = id[i];
    ok = c == '_' || c == '-' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  if (!ok) {
    return hp_error(err, HP_ERR_BAD_ID,
                    "invalid module id '%.*s': use 1 to %u letters, digits, "
                    "'_' or '-', starting with a letter or '_'",
                    64, id, HP_ID_MAX - 1u);
  }
  if (!strcmp(id, HP_SINK_ID)) {
    return hp_error(err, HP_ERR_BAD_ID,
                    "module id 'out' is reserved for the stereo output");
  }
  if (hp_patch_find(patch, id) >= 0) {
    return hp_error(err, HP_ERR_DUPLICATE_ID,
                    "a module named '%s' already exists; delete it first or "
                    "choose another id",
                    id);
  }
  return HP_SUCCESS;
}

void
hp_float_text(const float value, char* const buf)
{
  for (int digits = 6; digits <= 9; ++digits) {
    snprintf(buf, 32, "%.*g", digits, (double)value);
    if (strtof(buf, NULL) == value) {
      return;
    }
  }
}

HpStatus
hp_param_check(const HpPatchModule* const module, const uint32_t param,
               const float value, HpError* const err)
{
  const HpParamDesc* p = &module->desc->params[param];
  if (!isfinite(value)) {
    return hp_error(err, HP_ERR_BAD_VALUE,
                    "value for %s:%s must be a finite number, not %g",
                    module->id, p->name, (double)value);
  }
  if (value < p->min || value > p->max) {
    return hp_error(err, HP_ERR_BAD_VALUE,
                    "value %g for %s:%s is out of range %g..%g%s%s",
                    (double)value, module->id, p->name, (double)p->min,
                    (double)p->max, p->unit[0] ? " " : "", p->unit);
  }
  if (p->kind != HP_PARAM_CONTINUOUS && value != floorf(value) &&
      p->kind != HP_PARAM_GATE) {
    return hp_error(err, HP_ERR_BAD_VALUE,
                    "value %g for %s:%s must be a whole number", (double)value,
                    module->id, p->name);
  }
  return HP_SUCCESS;
}

static HpStatus
unknown_param(const HpPatchModule* const m, const char* const name,
              HpError* const err)
{
  char params[200];
  list_names(params, sizeof(params), m->desc->params, m->desc->n_params,
             sizeof(HpParamDesc));
  return hp_error(err, HP_ERR_UNKNOWN_PARAM,
                  "module '%s' (%s) has no parameter '%s'; parameters: %s",
                  m->id, m->desc->type, name, params);
}

HpStatus
hp_patch_find_param(const HpPatch* const patch, const char* const module,
                    const char* const param, uint32_t* const mod_index,
                    uint32_t* const param_index, HpError* const err)
{
  const int m = hp_patch_find(patch, module);
  if (m < 0) {
    return unknown_module(module, err);
  }
  const HpPatchModule* pm = &patch->modules[m];
  const int            p  = hp_module_find_param(pm->desc, param);
  if (p < 0) {
    return unknown_param(pm, param, err);
  }
  *mod_index   = (uint32_t)m;
  *param_index = (uint32_t)p;
  return HP_SUCCESS;
}

/* Split "mod:port" into its parts; port is "" when absent. */
static HpStatus
split_spec(const char* const spec, char* const mod, char* const port,
           HpError* const err)
{
  const char*  colon = strchr(spec, ':');
  const size_t mlen  = colon ? (size_t)(colon - spec) : strlen(spec);
  if (mlen == 0 || mlen >= HP_ID_MAX ||
      (colon && strlen(colon + 1) >= HP_NAME_MAX)) {
    return hp_error(err, HP_ERR_SYNTAX,
                    "'%.*s' is not a port: write a module id, optionally "
                    "followed by ':port', e.g. osc1 or filt1:cutoff",
                    64, spec);
  }
  memcpy(mod, spec, mlen);
  mod[mlen] = '\0';
  strcpy(port, colon ? colon + 1 : "");
  return HP_SUCCESS;
}

static HpStatus
resolve_source(const HpPatch* const patch, const char* const spec,
               uint32_t* const module, uint32_t* const port,
               HpError* const err)
{
  char     mod[HP_ID_MAX];
  char     name[HP_NAME_MAX];
  HpStatus st = split_spec(spec, mod, name, err);
  if (st) {
    return st;
  }
  const int m = hp_patch_find(patch, mod);
  if (m < 0) {
    return !strcmp(mod, HP_SINK_ID)
             ? hp_error(err, HP_ERR_UNKNOWN_PORT,
                        "'out' is the stereo output; it cannot be a source")
             : unknown_module(mod, err);
  }
  const HpModuleDesc* desc = patch->modules[m].desc;
  const int p = name[0] ? hp_module_find_output(desc, name) : 0;
  if (p < 0) {
    char outs[200];
    list_names(outs, sizeof(outs), desc->outputs, desc->n_outputs,
               sizeof(HpPortDesc));
    return hp_error(err, HP_ERR_UNKNOWN_PORT,
                    "module '%s' (%s) has no output '%s'; outputs: %s", mod,
                    desc->type, name, outs);
  }
  *module = (uint32_t)m;
  *port   = (uint32_t)p;
  return HP_SUCCESS;
}

static HpStatus
resolve_dest(const HpPatch* const patch, const char* const spec,
             HpPatchLink* const link, HpError* const err)
{
  char     mod[HP_ID_MAX];
  char     name[HP_NAME_MAX];
  HpStatus st = split_spec(spec, mod, name, err);
  if (st) {
    return st;
  }
  if (!strcmp(mod, HP_SINK_ID)) {
    link->kind = HP_DEST_SINK;
    link->dst  = 0;
    if (!name[0] || !strcmp(name, "in")) {
      link->dst_index = 0;
    } else if (!strcmp(name, "left")) {
      link->dst_index = 1;
    } else if (!strcmp(name, "right")) {
      link->dst_index = 2;
    } else {
      return hp_error(err, HP_ERR_UNKNOWN_PORT,
                      "the output 'out' has no port '%s'; use out, out:left "
                      "or out:right",
                      name);
    }
    return HP_SUCCESS;
  }
  const int m = hp_patch_find(patch, mod);
  if (m < 0) {
    return unknown_module(mod, err);
  }
  const HpModuleDesc* desc = patch->modules[m].desc;
  link->dst                = (uint32_t)m;
  if (!name[0]) {
    if (!desc->n_inputs) {
      return hp_error(err, HP_ERR_UNKNOWN_PORT,
                      "module '%s' (%s) has no audio input; connect to one of "
                      "its parameters instead, e.g. %s:%s",
                      mod, desc->type, mod,
                      desc->n_params ? desc->params[0].name : "?");
    }
    link->kind      = HP_DEST_INPUT;
    link->dst_index = 0;
    return HP_SUCCESS;
  }
  int i = hp_module_find_input(desc, name);
  if (i >= 0) {
    link->kind      = HP_DEST_INPUT;
    link->dst_index = (uint32_t)i;
    return HP_SUCCESS;
  }
  i = hp_module_find_param(desc, name);
  if (i >= 0) {
    link->kind      = HP_DEST_PARAM;
    link->dst_index = (uint32_t)i;
    return HP_SUCCESS;
  }
  char ins[160];
  char params[200];
  list_names(ins, sizeof(ins), desc->inputs, desc->n_inputs,
             sizeof(HpPortDesc));
  list_names(params, sizeof(params), desc->params, desc->n_params,
             sizeof(HpParamDesc));
  return hp_error(err, HP_ERR_UNKNOWN_PORT,
                  "module '%s' (%s) has no input or parameter '%s'; inputs: "
                  "%s; parameters: %s",
                  mod, desc->type, name, ins, params);
}

static int
find_link(const HpPatch* const patch, const HpPatchLink* const link)
{
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink* l = &patch->links[i];
    if (l->src == link->src && l->src_port == link->src_port &&
        l->kind == link->kind && l->dst == link->dst &&
        l->dst_index == link->dst_index) {
      return (int)i;
    }
  }
  return -1;
}

/* True if `to` can be reached from `from` along links (depth-first). */
static bool
reaches(const HpPatch* const patch, const uint32_t from, const uint32_t to,
        unsigned char* const seen)
{
  if (from == to) {
    return true;
  }
  seen[from] = 1;
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink* l = &patch->links[i];
    if (l->src == from && l->kind != HP_DEST_SINK && !seen[l->dst] &&
        reaches(patch, l->dst, to, seen)) {
      return true;
    }
  }
  return false;
}

static HpStatus
op_connect(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  HpPatchLink link = {0, 0, HP_DEST_INPUT, 0, 0};
  HpStatus    st   = resolve_source(patch, op->module, &link.src,
                               &link.src_port, err);
  if (st || (st = resolve_dest(patch, op->arg, &link, err))) {
    return st;
  }
  const int existing = find_link(patch, &link);
  if (op->type == HP_OP_DISCONNECT) {
    if (existing < 0) {
      return hp_error(err, HP_ERR_NOT_CONNECTED,
                      "'%s' is not connected to '%s'", op->module, op->arg);
    }
    memmove(&patch->links[existing], &patch->links[existing + 1],
            (patch->n_links - (uint32_t)existing - 1u) * sizeof(HpPatchLink));
    --patch->n_links;
    return HP_SUCCESS;
  }
  if (existing >= 0) {
    return hp_error(err, HP_ERR_ALREADY_CONNECTED,
                    "'%s' is already connected to '%s'", op->module, op->arg);
  }
  if (link.kind != HP_DEST_SINK) {
    unsigned char* seen = (unsigned char*)calloc(patch->n_modules, 1);
    if (!seen) {
      return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
    }
    const bool cycle = reaches(patch, link.dst, link.src, seen);
    free(seen);
    if (cycle) {
      return hp_error(err, HP_ERR_CYCLE,
                      "connecting '%s' to '%s' would create a cycle: '%s' "
                      "already depends on '%s'",
                      op->module, op->arg, patch->modules[link.src].id,
                      patch->modules[link.dst].id);
    }
  }
  if (!grow((void**)&patch->links, &patch->cap_links, patch->n_links + 1u,
            sizeof(HpPatchLink))) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  patch->links[patch->n_links++] = link;
  return HP_SUCCESS;
}

static HpStatus
op_create(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  HpStatus st = check_id(patch, op->module, err);
  if (st) {
    return st;
  }
  const HpModuleDesc* desc = hp_module_find(op->arg);
  if (!desc) {
    char types[400];
    list_types(types, sizeof(types));
    return hp_error(err, HP_ERR_UNKNOWN_TYPE,
                    "unknown module type '%.*s'; known types: %s", 64, op->arg,
                    types);
  }
  if (patch->n_modules >= HP_MAX_MODULES) {
    return hp_error(err, HP_ERR_TOO_LARGE,
                    "the patch already has %u modules, the most it can hold",
                    HP_MAX_MODULES);
  }
  if (!grow((void**)&patch->modules, &patch->cap_modules,
            patch->n_modules + 1u, sizeof(HpPatchModule))) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  HpPatchModule* m = &patch->modules[patch->n_modules++];
  memset(m, 0, sizeof(*m));
  strcpy(m->id, op->module);
  m->desc = desc;
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    m->value[p] = desc->params[p].def;
  }
  return HP_SUCCESS;
}

static HpStatus
op_delete(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  const int found = hp_patch_find(patch, op->module);
  if (found < 0) {
    return unknown_module(op->module, err);
  }
  const uint32_t m = (uint32_t)found;
  uint32_t       n = 0;
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    HpPatchLink l = patch->links[i];
    if (l.src == m || (l.kind != HP_DEST_SINK && l.dst == m)) {
      continue;
    }
    l.src -= l.src > m;
    l.dst -= l.kind != HP_DEST_SINK && l.dst > m;
    patch->links[n++] = l;
  }
  patch->n_links = n;
  n              = 0;
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    HpMacroMap map = patch->macros[i];
    if (map.module != m) {
      map.module -= map.module > m;
      patch->macros[n++] = map;
    }
  }
  patch->n_macros = n;
  memmove(&patch->modules[m], &patch->modules[m + 1u],
          (patch->n_modules - m - 1u) * sizeof(HpPatchModule));
  --patch->n_modules;
  return HP_SUCCESS;
}

static HpStatus
op_set(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  uint32_t   m     = 0;
  uint32_t   p     = 0;
  const char* name = op->type == HP_OP_GATE ? "gate" : op->arg;
  HpStatus   st    = hp_patch_find_param(patch, op->module, name, &m, &p, err);
  if (st) {
    const int found = hp_patch_find(patch, op->module);
    if (op->type == HP_OP_GATE && found >= 0) {
      return hp_error(err, HP_ERR_UNKNOWN_PARAM,
                      "module '%s' (%s) has no gate; gate an adsr", op->module,
                      patch->modules[found].desc->type);
    }
    return st;
  }
  HpPatchModule*     pm    = &patch->modules[m];
  const HpParamDesc* pd    = &pm->desc->params[p];
  float              value = op->value;
  if (op->arg2[0]) {
    const int choice = pd->choices ? hp_param_find_choice(pd, op->arg2) : -1;
    if (choice < 0) {
      char choices[200] = "none: it takes a number";
      if (pd->choices) {
        size_t len = 0;
        for (uint32_t i = 0; pd->choices[i] && len < sizeof(choices); ++i) {
          len += (size_t)snprintf(choices + len, sizeof(choices) - len, "%s%s",
                                  i ? ", " : "", pd->choices[i]);
        }
      }
      return hp_error(err, HP_ERR_BAD_VALUE,
                      "'%.*s' is not a value of %s:%s; choices: %s", 64,
                      op->arg2, pm->id, pd->name, choices);
    }
    value = (float)choice;
  }
  if (op->type == HP_OP_GATE && isfinite(value)) {
    value = value >= 0.5f ? 1.0f : 0.0f;
  }
  if ((st = hp_param_check(pm, p, value, err))) {
    return st;
  }
  pm->value[p] = value;
  return HP_SUCCESS;
}

static HpStatus
op_macro(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  if (op->macro < 1 || op->macro > HP_N_MACROS) {
    return hp_error(err, HP_ERR_BAD_VALUE, "macro %u does not exist; use 1..%u",
                    op->macro, HP_N_MACROS);
  }
  char     mod[HP_ID_MAX];
  char     name[HP_NAME_MAX];
  uint32_t m = 0;
  uint32_t p = 0;
  HpStatus st = split_spec(op->module, mod, name, err);
  if (st || (st = hp_patch_find_param(patch, mod, name, &m, &p, err))) {
    return st;
  }
  const bool exponential = !strcmp(op->arg2, "exp");
  if (!exponential && op->arg2[0] && strcmp(op->arg2, "lin")) {
    return hp_error(err, HP_ERR_BAD_VALUE,
                    "macro curve '%.*s' unknown; use lin or exp", 32, op->arg2);
  }
  if ((st = hp_param_check(&patch->modules[m], p, op->lo, err)) ||
      (st = hp_param_check(&patch->modules[m], p, op->hi, err))) {
    return st;
  }
  if (exponential && (op->lo <= 0.0f || op->hi <= 0.0f)) {
    return hp_error(err, HP_ERR_BAD_VALUE,
                    "an exp macro range must be above 0, not %g..%g",
                    (double)op->lo, (double)op->hi);
  }
  const HpMacroMap map = {op->macro - 1u, m, p, op->lo, op->hi, exponential};
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    HpMacroMap* old = &patch->macros[i];
    if (old->macro == map.macro && old->module == m && old->param == p) {
      *old = map;
      return HP_SUCCESS;
    }
  }
  if (patch->n_macros >= HP_MAX_MACRO_MAPS) {
    return hp_error(err, HP_ERR_TOO_LARGE, "the patch already maps %u macro "
                    "targets, the most it can hold", HP_MAX_MACRO_MAPS);
  }
  patch->macros[patch->n_macros++] = map;
  return HP_SUCCESS;
}

HpStatus
hp_patch_apply(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  switch (op->type) {
  case HP_OP_CREATE: return op_create(patch, op, err);
  case HP_OP_DELETE: return op_delete(patch, op, err);
  case HP_OP_CONNECT:
  case HP_OP_DISCONNECT: return op_connect(patch, op, err);
  case HP_OP_SET:
  case HP_OP_GATE: return op_set(patch, op, err);
  case HP_OP_MACRO: return op_macro(patch, op, err);
  case HP_OP_CLEAR: hp_patch_clear(patch); return HP_SUCCESS;
  default: break;
  }
  return hp_error(err, HP_ERR_BAD_MESSAGE, "not a patch edit (op %d)",
                  (int)op->type);
}

#define APPEND(...)                                                    \
  len += (size_t)snprintf(buf ? buf + (len < size ? len : size) : NULL, \
                          len < size ? size - len : 0, __VA_ARGS__)

size_t
hp_patch_write_text(const HpPatch* const patch, char* const buf,
                    const size_t size)
{
  size_t len = 0;
  APPEND("/patch/clear\n");
  for (uint32_t i = 0; i < patch->n_modules; ++i) {
    const HpPatchModule* m = &patch->modules[i];
    APPEND("/patch/create %s %s\n", m->id, m->desc->type);
    for (uint32_t p = 0; p < m->desc->n_params; ++p) {
      const HpParamDesc* pd = &m->desc->params[p];
      if (m->value[p] == pd->def) {
        continue;
      }
      if (pd->kind == HP_PARAM_ENUM) {
        APPEND("/patch/set %s %s %s\n", m->id, pd->name,
               pd->choices[(int)m->value[p]]);
      } else {
        char number[32];
        hp_float_text(m->value[p], number);
        APPEND("/patch/set %s %s %s\n", m->id, pd->name, number);
      }
    }
  }
  static const char* const sink_ports[] = {"out", "out:left", "out:right"};
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink*   l   = &patch->links[i];
    const HpPatchModule* src = &patch->modules[l->src];
    APPEND("/patch/connect %s:%s ", src->id,
           src->desc->outputs[l->src_port].name);
    if (l->kind == HP_DEST_SINK) {
      APPEND("%s\n", sink_ports[l->dst_index]);
    } else {
      const HpPatchModule* dst = &patch->modules[l->dst];
      APPEND("%s:%s\n", dst->id,
             l->kind == HP_DEST_INPUT ? dst->desc->inputs[l->dst_index].name
                                      : dst->desc->params[l->dst_index].name);
    }
  }
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    const HpMacroMap*    map = &patch->macros[i];
    const HpPatchModule* m   = &patch->modules[map->module];
    char lo[32];
    char hi[32];
    hp_float_text(map->lo, lo);
    hp_float_text(map->hi, hi);
    APPEND("/patch/macro %u %s:%s %s %s %s\n", map->macro + 1u, m->id,
           m->desc->params[map->param].name, lo, hi,
           map->exponential ? "exp" : "lin");
  }
  return len;
}
