/* Patch descriptions and their validation.  Worker thread only. */

#include "patch.h"
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
  The index keeps every edit O(1) on average, so that loading a patch of
  N modules and links costs O(N): modules by id and links by their ends in
  open-addressing hash tables (index + 1; 0 is free), and each module's
  outgoing and incoming links as lists threaded through the links, for the
  cycle check.  Its arrays grow with the patch's capacities, so an edit
  that fits allocates nothing.  Create and connect add to it; delete,
  disconnect and clear renumber, and rebuild it in O(modules + links), as
  they already move that much.
*/
struct HpPatchIndexImpl {
  uint32_t* ids;          /* n_id_slots, at least twice cap_modules */
  uint32_t  n_id_slots;   /* a power of two */
  uint32_t* link_slots;   /* n_link_slots, at least twice cap_links */
  uint32_t  n_link_slots; /* a power of two */
  uint32_t* first_out;    /* per module: its first outgoing link + 1, or 0 */
  uint32_t* first_in;     /* per module: its first incoming link + 1, or 0 */
  uint32_t* next_out;     /* per link: the next from the same module + 1 */
  uint32_t* next_in;      /* per link: the next into the same module + 1 */
  uint32_t* mark;         /* per module: search marks, see reaches() */
  uint32_t* stack_f;      /* per module: the forward search's stack */
  uint32_t* stack_b;      /* per module: the backward search's stack */
  uint32_t  stamp;        /* the last search's marks are stamp, stamp + 1 */
  uint64_t  steps;        /* links followed by cycle checks */
};

HpPatch*
hp_patch_new(void)
{
  HpPatch* const patch = (HpPatch*)calloc(1, sizeof(HpPatch));
  if (patch &&
      !(patch->index = (HpPatchIndex*)calloc(1, sizeof(HpPatchIndex)))) {
    free(patch);
    return NULL;
  }
  if (patch) {
    patch->n_voices = 1;
  }
  return patch;
}

void
hp_patch_free(HpPatch* const patch)
{
  if (patch) {
    HpPatchIndex* const x = patch->index;
    free(x->ids);
    free(x->link_slots);
    free(x->first_out);
    free(x->first_in);
    free(x->next_out);
    free(x->next_in);
    free(x->mark);
    free(x->stack_f);
    free(x->stack_b);
    free(x);
    free(patch->modules);
    free(patch->links);
    free(patch);
  }
}

/* FNV-1a */
static uint32_t
hash_id(const char* id)
{
  uint32_t h = 2166136261u;
  for (; *id; ++id) {
    h = (h ^ (unsigned char)*id) * 16777619u;
  }
  return h;
}

static uint32_t
hash_link(const HpPatchLink* const l)
{
  uint32_t       h        = 2166136261u;
  const uint32_t fields[] = {
    l->src, l->src_port, (uint32_t)l->kind, l->dst, l->dst_index};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); ++i) {
    h = (h ^ fields[i]) * 16777619u;
    h ^= h >> 15;
  }
  return h;
}

static bool
same_link(const HpPatchLink* const a, const HpPatchLink* const b)
{
  return a->src == b->src && a->src_port == b->src_port && a->kind == b->kind &&
         a->dst == b->dst && a->dst_index == b->dst_index;
}

static void
index_module(HpPatch* const patch, const uint32_t m)
{
  HpPatchIndex* const x    = patch->index;
  const uint32_t      mask = x->n_id_slots - 1u;
  uint32_t            i    = hash_id(patch->modules[m].id) & mask;
  while (x->ids[i]) {
    i = (i + 1u) & mask;
  }
  x->ids[i]       = m + 1u;
  x->first_out[m] = 0;
  x->first_in[m]  = 0;
}

/* True when a link makes its destination come after its source: the sink
   is no module, and a delayed output may close a loop (DESIGN 3b). */
static bool
orders(const HpPatch* const patch, const HpPatchLink* const l)
{
  return l->kind != HP_DEST_SINK &&
         !(patch->modules[l->src].desc->delayed_outputs >> l->src_port & 1u);
}

static void
index_link(HpPatch* const patch, const uint32_t k)
{
  HpPatchIndex* const x    = patch->index;
  const HpPatchLink*  l    = &patch->links[k];
  const uint32_t      mask = x->n_link_slots - 1u;
  uint32_t            i    = hash_link(l) & mask;
  while (x->link_slots[i]) {
    i = (i + 1u) & mask;
  }
  x->link_slots[i] = k + 1u;
  if (orders(patch, l)) {
    x->next_out[k]       = x->first_out[l->src];
    x->first_out[l->src] = k + 1u;
    x->next_in[k]        = x->first_in[l->dst];
    x->first_in[l->dst]  = k + 1u;
  }
}

static void
reindex(HpPatch* const patch)
{
  HpPatchIndex* const x = patch->index;
  if (x->ids) {
    memset(x->ids, 0, x->n_id_slots * sizeof(uint32_t));
  }
  if (x->link_slots) {
    memset(x->link_slots, 0, x->n_link_slots * sizeof(uint32_t));
  }
  for (uint32_t m = 0; m < patch->n_modules; ++m) {
    index_module(patch, m);
  }
  for (uint32_t k = 0; k < patch->n_links; ++k) {
    index_link(patch, k);
  }
}

static bool
resize(void* const array, const size_t count, const size_t elem)
{
  void* const mem = realloc(*(void**)array, count * elem);
  if (mem) {
    *(void**)array = mem;
  }
  return mem != NULL;
}

/* A hash table of at least twice `cap` slots, emptied, or false. */
static bool
resize_table(uint32_t** const table,
             uint32_t* const  n_slots,
             const uint32_t   cap)
{
  uint32_t n = 16u;
  while (n < 2u * cap) {
    n *= 2u;
  }
  if (n > *n_slots) {
    uint32_t* const mem = (uint32_t*)calloc(n, sizeof(uint32_t));
    if (!mem) {
      return false;
    }
    free(*table);
    *table   = mem;
    *n_slots = n;
  }
  return true;
}

static uint32_t
grown(const uint32_t cap, const uint32_t need)
{
  uint32_t new_cap = cap ? cap * 2u : 16u;
  while (new_cap < need) {
    new_cap *= 2u;
  }
  return new_cap;
}

/* Room for `need` modules, and their index. */
static bool
reserve_modules(HpPatch* const patch, const uint32_t need)
{
  if (need <= patch->cap_modules) {
    return true;
  }
  HpPatchIndex* const x   = patch->index;
  const uint32_t      cap = grown(patch->cap_modules, need);
  if (!resize(&patch->modules, cap, sizeof(HpPatchModule)) ||
      !resize(&x->first_out, cap, sizeof(uint32_t)) ||
      !resize(&x->first_in, cap, sizeof(uint32_t)) ||
      !resize(&x->mark, cap, sizeof(uint32_t)) ||
      !resize(&x->stack_f, cap, sizeof(uint32_t)) ||
      !resize(&x->stack_b, cap, sizeof(uint32_t)) ||
      !resize_table(&x->ids, &x->n_id_slots, cap)) {
    return false;
  }
  memset(x->mark, 0, cap * sizeof(uint32_t));
  x->stamp           = 0;
  patch->cap_modules = cap;
  reindex(patch); /* into the new table */
  return true;
}

static bool
reserve_links(HpPatch* const patch, const uint32_t need)
{
  if (need <= patch->cap_links) {
    return true;
  }
  HpPatchIndex* const x   = patch->index;
  const uint32_t      cap = grown(patch->cap_links, need);
  if (!resize(&patch->links, cap, sizeof(HpPatchLink)) ||
      !resize(&x->next_out, cap, sizeof(uint32_t)) ||
      !resize(&x->next_in, cap, sizeof(uint32_t)) ||
      !resize_table(&x->link_slots, &x->n_link_slots, cap)) {
    return false;
  }
  patch->cap_links = cap;
  reindex(patch);
  return true;
}

void
hp_patch_clear(HpPatch* const patch)
{
  patch->n_modules = 0;
  patch->n_links   = 0;
  patch->n_macros  = 0;
  patch->n_voices  = 1;
  reindex(patch);
}

HpStatus
hp_patch_copy(HpPatch* const dst, const HpPatch* const src)
{
  if (!reserve_modules(dst, src->n_modules) ||
      !reserve_links(dst, src->n_links)) {
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
  dst->n_voices  = src->n_voices;
  reindex(dst);
  return HP_SUCCESS;
}

bool
hp_patch_equal(const HpPatch* const a, const HpPatch* const b)
{
  if (a->n_modules != b->n_modules || a->n_links != b->n_links ||
      a->n_macros != b->n_macros || a->n_voices != b->n_voices) {
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
  const HpPatchIndex* const x = patch->index;
  if (!x->n_id_slots) {
    return -1;
  }
  const uint32_t mask = x->n_id_slots - 1u;
  for (uint32_t i = hash_id(id) & mask; x->ids[i]; i = (i + 1u) & mask) {
    const uint32_t m = x->ids[i] - 1u;
    if (!strcmp(patch->modules[m].id, id)) {
      return (int)m;
    }
  }
  return -1;
}

/* Names for messages: "in, gate" */
static void
list_names(char* const       buf,
           const size_t      size,
           const void* const items,
           const uint32_t    n,
           const size_t      stride)
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
    len += (size_t)snprintf(buf + len,
                            size - len,
                            "%s%s",
                            t == hp_module_types ? "" : ", ",
                            (*t)->type);
  }
}

static HpStatus
unknown_module(const char* const id, HpError* const err)
{
  return hp_error(err,
                  HP_ERR_UNKNOWN_MODULE,
                  "no module '%s' in the patch; create it first",
                  id);
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
    ok           = c == '_' || c == '-' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
  if (!ok) {
    return hp_error(err,
                    HP_ERR_BAD_ID,
                    "invalid module id '%.*s': use 1 to %u letters, digits, "
                    "'_' or '-', starting with a letter or '_'",
                    64,
                    id,
                    HP_ID_MAX - 1u);
  }
  if (!strcmp(id, HP_SINK_ID)) {
    return hp_error(
      err, HP_ERR_BAD_ID, "module id 'out' is reserved for the stereo output");
  }
  if (hp_patch_find(patch, id) >= 0) {
    return hp_error(err,
                    HP_ERR_DUPLICATE_ID,
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
hp_param_check(const HpPatchModule* const module,
               const uint32_t             param,
               const float                value,
               HpError* const             err)
{
  const HpParamDesc* p = &module->desc->params[param];
  if (!isfinite(value)) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "value for %s:%s must be a finite number, not %g",
                    module->id,
                    p->name,
                    (double)value);
  }
  if (value < p->min || value > p->max) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "value %g for %s:%s is out of range %g..%g%s%s",
                    (double)value,
                    module->id,
                    p->name,
                    (double)p->min,
                    (double)p->max,
                    p->unit[0] ? " " : "",
                    p->unit);
  }
  if (p->kind != HP_PARAM_CONTINUOUS && value != floorf(value) &&
      p->kind != HP_PARAM_GATE) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "value %g for %s:%s must be a whole number",
                    (double)value,
                    module->id,
                    p->name);
  }
  return HP_SUCCESS;
}

static HpStatus
unknown_param(const HpPatchModule* const m,
              const char* const          name,
              HpError* const             err)
{
  char params[200];
  list_names(params,
             sizeof(params),
             m->desc->params,
             m->desc->n_params,
             sizeof(HpParamDesc));
  return hp_error(err,
                  HP_ERR_UNKNOWN_PARAM,
                  "module '%s' (%s) has no parameter '%s'; parameters: %s",
                  m->id,
                  m->desc->type,
                  name,
                  params);
}

HpStatus
hp_patch_find_param(const HpPatch* const patch,
                    const char* const    module,
                    const char* const    param,
                    uint32_t* const      mod_index,
                    uint32_t* const      param_index,
                    HpError* const       err)
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
split_spec(const char* const spec,
           char* const       mod,
           char* const       port,
           HpError* const    err)
{
  const char*  colon = strchr(spec, ':');
  const size_t mlen  = colon ? (size_t)(colon - spec) : strlen(spec);
  if (mlen == 0 || mlen >= HP_ID_MAX ||
      (colon && strlen(colon + 1) >= HP_NAME_MAX)) {
    return hp_error(err,
                    HP_ERR_SYNTAX,
                    "'%.*s' is not a port: write a module id, optionally "
                    "followed by ':port', e.g. osc1 or filt1:cutoff",
                    64,
                    spec);
  }
  memcpy(mod, spec, mlen);
  mod[mlen] = '\0';
  strcpy(port, colon ? colon + 1 : "");
  return HP_SUCCESS;
}

static HpStatus
resolve_source(const HpPatch* const patch,
               const char* const    spec,
               uint32_t* const      module,
               uint32_t* const      port,
               HpError* const       err)
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
             ? hp_error(err,
                        HP_ERR_UNKNOWN_PORT,
                        "'out' is the stereo output; it cannot be a source")
             : unknown_module(mod, err);
  }
  const HpModuleDesc* desc = patch->modules[m].desc;
  const int           p    = name[0] ? hp_module_find_output(desc, name) : 0;
  if (p < 0) {
    char outs[200];
    list_names(
      outs, sizeof(outs), desc->outputs, desc->n_outputs, sizeof(HpPortDesc));
    return hp_error(err,
                    HP_ERR_UNKNOWN_PORT,
                    "module '%s' (%s) has no output '%s'; outputs: %s",
                    mod,
                    desc->type,
                    name,
                    outs);
  }
  *module = (uint32_t)m;
  *port   = (uint32_t)p;
  return HP_SUCCESS;
}

static HpStatus
resolve_dest(const HpPatch* const patch,
             const char* const    spec,
             HpPatchLink* const   link,
             HpError* const       err)
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
      return hp_error(err,
                      HP_ERR_UNKNOWN_PORT,
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
    if (!desc->n_inputs || desc->inputs_by_name) {
      return hp_error(err,
                      HP_ERR_UNKNOWN_PORT,
                      "module '%s' (%s) has no audio input; connect to one of "
                      "its parameters instead, e.g. %s:%s",
                      mod,
                      desc->type,
                      mod,
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
  list_names(
    ins, sizeof(ins), desc->inputs, desc->n_inputs, sizeof(HpPortDesc));
  list_names(
    params, sizeof(params), desc->params, desc->n_params, sizeof(HpParamDesc));
  return hp_error(err,
                  HP_ERR_UNKNOWN_PORT,
                  "module '%s' (%s) has no input or parameter '%s'; inputs: "
                  "%s; parameters: %s",
                  mod,
                  desc->type,
                  name,
                  ins,
                  params);
}

static int
find_link(const HpPatch* const patch, const HpPatchLink* const link)
{
  const HpPatchIndex* const x = patch->index;
  if (!x->n_link_slots) {
    return -1;
  }
  const uint32_t mask = x->n_link_slots - 1u;
  for (uint32_t i = hash_link(link) & mask; x->link_slots[i];
       i          = (i + 1u) & mask) {
    const uint32_t k = x->link_slots[i] - 1u;
    if (same_link(&patch->links[k], link)) {
      return (int)k;
    }
  }
  return -1;
}

/* One side of the search in reaches(): a stack of modules whose links are
   still to follow, and the link it is at. */
typedef struct {
  uint32_t*       stack;
  uint32_t        depth;
  uint32_t        link; /* + 1; 0: take the next module off the stack */
  const uint32_t* first;
  const uint32_t* next;
  bool            forward;
  uint32_t        mine; /* the marks of this side and of the other */
  uint32_t        theirs;
} Search;

typedef enum { SEARCH_GOES_ON, SEARCH_DONE, SEARCH_MET } SearchStep;

/* Follow one link (or take the next module): SEARCH_DONE when this side has
   found everything it can reach, SEARCH_MET when it meets the other. */
static SearchStep
search_step(HpPatch* const patch, Search* const s)
{
  uint32_t* const mark = patch->index->mark;
  if (!s->link) {
    if (!s->depth) {
      return SEARCH_DONE;
    }
    s->link = s->first[s->stack[--s->depth]];
    return SEARCH_GOES_ON;
  }
  const HpPatchLink* const l = &patch->links[s->link - 1u];
  const uint32_t           m = s->forward ? l->dst : l->src;
  s->link                    = s->next[s->link - 1u];
  ++patch->index->steps;
  if (mark[m] == s->theirs) {
    return SEARCH_MET;
  }
  if (mark[m] != s->mine) {
    mark[m]              = s->mine;
    s->stack[s->depth++] = m;
  }
  return SEARCH_GOES_ON;
}

/*
  True if `to` can be reached from `from` along links.  Two searches, one
  forward from `from` and one backward from `to`, take a step in turn until
  they meet or either has found everything it can reach: so the cost is
  about twice the smaller side's, and connecting onto either end of a
  chain is O(1) however long the chain and in whatever order it was built.
  Iterative: a chain of 4,096 modules needs no deep stack.
*/
static bool
reaches(HpPatch* const patch, const uint32_t from, const uint32_t to)
{
  HpPatchIndex* const x = patch->index;
  if (from == to) {
    return true;
  }
  if (x->stamp >= UINT32_MAX - 2u) { /* marks wrap: forget the old ones */
    memset(x->mark, 0, patch->cap_modules * sizeof(uint32_t));
    x->stamp = 0;
  }
  x->stamp += 2u;
  Search f = {
    x->stack_f, 1, 0, x->first_out, x->next_out, true, x->stamp, x->stamp + 1u};
  Search b = {
    x->stack_b, 1, 0, x->first_in, x->next_in, false, x->stamp + 1u, x->stamp};
  x->mark[from] = f.mine;
  x->mark[to]   = b.mine;
  f.stack[0]    = from;
  b.stack[0]    = to;
  for (;;) {
    SearchStep step = search_step(patch, &f);
    if (step == SEARCH_GOES_ON) {
      step = search_step(patch, &b);
    }
    if (step != SEARCH_GOES_ON) {
      return step == SEARCH_MET;
    }
  }
}

bool
hp_patch_has_cycle(HpPatch* const patch)
{
  /* Kahn: take modules nothing unsorted feeds; what is left is a cycle. */
  HpPatchIndex* const x     = patch->index;
  uint32_t* const     indeg = x->stack_b;
  uint32_t* const     queue = x->stack_f;
  uint32_t            tail  = 0;
  for (uint32_t m = 0; m < patch->n_modules; ++m) {
    indeg[m] = 0;
    for (uint32_t k = x->first_in[m]; k; k = x->next_in[k - 1u]) {
      ++indeg[m];
    }
    if (!indeg[m]) {
      queue[tail++] = m;
    }
  }
  for (uint32_t head = 0; head < tail; ++head) {
    for (uint32_t k = x->first_out[queue[head]]; k; k = x->next_out[k - 1u]) {
      const uint32_t dst = patch->links[k - 1u].dst;
      if (!--indeg[dst]) {
        queue[tail++] = dst;
      }
    }
  }
  return tail < patch->n_modules;
}

uint64_t
hp_patch_cycle_steps(const HpPatch* const patch)
{
  return patch->index->steps;
}

static HpStatus
op_connect(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  HpPatchLink link = {0, 0, HP_DEST_INPUT, 0, 0};
  HpStatus    st =
    resolve_source(patch, op->connect.source, &link.src, &link.src_port, err);
  if (st || (st = resolve_dest(patch, op->connect.dest, &link, err))) {
    return st;
  }
  const int existing = find_link(patch, &link);
  if (op->type == HP_OP_DISCONNECT) {
    if (existing < 0) {
      return hp_error(err,
                      HP_ERR_NOT_CONNECTED,
                      "'%s' is not connected to '%s'",
                      op->connect.source,
                      op->connect.dest);
    }
    memmove(&patch->links[existing],
            &patch->links[existing + 1],
            (patch->n_links - (uint32_t)existing - 1u) * sizeof(HpPatchLink));
    --patch->n_links;
    reindex(patch);
    return HP_SUCCESS;
  }
  if (existing >= 0) {
    return hp_error(err,
                    HP_ERR_ALREADY_CONNECTED,
                    "'%s' is already connected to '%s'",
                    op->connect.source,
                    op->connect.dest);
  }
  if (orders(patch, &link) && !patch->defer_cycle_check &&
      reaches(patch, link.dst, link.src)) {
    return hp_error(err,
                    HP_ERR_CYCLE,
                    "connecting '%s' to '%s' would create a cycle: '%s' "
                    "already depends on '%s' (a loop must pass through a "
                    "delay's wet output)",
                    op->connect.source,
                    op->connect.dest,
                    patch->modules[link.src].id,
                    patch->modules[link.dst].id);
  }
  if (!reserve_links(patch, patch->n_links + 1u)) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  patch->links[patch->n_links] = link;
  index_link(patch, patch->n_links++);
  return HP_SUCCESS;
}

static HpStatus
op_create(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  HpStatus st = check_id(patch, op->create.id, err);
  if (st) {
    return st;
  }
  const HpModuleDesc* desc = hp_module_find(op->create.type);
  if (!desc) {
    char types[400];
    list_types(types, sizeof(types));
    return hp_error(err,
                    HP_ERR_UNKNOWN_TYPE,
                    "unknown module type '%.*s'; known types: %s",
                    64,
                    op->create.type,
                    types);
  }
  if (patch->n_modules >= HP_MAX_MODULES) {
    return hp_error(err,
                    HP_ERR_TOO_LARGE,
                    "the patch already has %u modules, the most it can hold",
                    HP_MAX_MODULES);
  }
  if (!reserve_modules(patch, patch->n_modules + 1u)) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  HpPatchModule* m = &patch->modules[patch->n_modules];
  memset(m, 0, sizeof(*m));
  strcpy(m->id, op->create.id);
  m->desc = desc;
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    m->value[p] = desc->params[p].def;
  }
  index_module(patch, patch->n_modules++);
  return HP_SUCCESS;
}

static HpStatus
op_delete(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  const int found = hp_patch_find(patch, op->create.id);
  if (found < 0) {
    return unknown_module(op->create.id, err);
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
  memmove(&patch->modules[m],
          &patch->modules[m + 1u],
          (patch->n_modules - m - 1u) * sizeof(HpPatchModule));
  --patch->n_modules;
  reindex(patch);
  return HP_SUCCESS;
}

static HpStatus
op_set(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  uint32_t    m    = 0;
  uint32_t    p    = 0;
  const char* name = op->set.param;
  HpStatus st = hp_patch_find_param(patch, op->set.module, name, &m, &p, err);
  if (st) {
    const int found = hp_patch_find(patch, op->set.module);
    if (op->type == HP_OP_GATE && found >= 0) {
      return hp_error(err,
                      HP_ERR_UNKNOWN_PARAM,
                      "module '%s' (%s) has no gate; gate an adsr",
                      op->set.module,
                      patch->modules[found].desc->type);
    }
    return st;
  }
  HpPatchModule*     pm    = &patch->modules[m];
  const HpParamDesc* pd    = &pm->desc->params[p];
  float              value = op->set.value;
  if (op->set.choice[0]) {
    const int choice =
      pd->choices ? hp_param_find_choice(pd, op->set.choice) : -1;
    if (choice < 0) {
      char choices[200] = "none: it takes a number";
      if (pd->choices) {
        size_t len = 0;
        for (uint32_t i = 0; pd->choices[i] && len < sizeof(choices); ++i) {
          len += (size_t)snprintf(choices + len,
                                  sizeof(choices) - len,
                                  "%s%s",
                                  i ? ", " : "",
                                  pd->choices[i]);
        }
      }
      return hp_error(err,
                      HP_ERR_BAD_VALUE,
                      "'%.*s' is not a value of %s:%s; choices: %s",
                      64,
                      op->set.choice,
                      pm->id,
                      pd->name,
                      choices);
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
  if (op->macro.macro < 1 || op->macro.macro > HP_N_MACROS) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "macro %u does not exist; use 1..%u",
                    op->macro.macro,
                    HP_N_MACROS);
  }
  char     mod[HP_ID_MAX];
  char     name[HP_NAME_MAX];
  uint32_t m  = 0;
  uint32_t p  = 0;
  HpStatus st = split_spec(op->macro.target, mod, name, err);
  if (st || (st = hp_patch_find_param(patch, mod, name, &m, &p, err))) {
    return st;
  }
  const bool exponential = !strcmp(op->macro.curve, "exp");
  if (!exponential && op->macro.curve[0] && strcmp(op->macro.curve, "lin")) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "macro curve '%.*s' unknown; use lin or exp",
                    32,
                    op->macro.curve);
  }
  if ((st = hp_param_check(&patch->modules[m], p, op->macro.lo, err)) ||
      (st = hp_param_check(&patch->modules[m], p, op->macro.hi, err))) {
    return st;
  }
  if (exponential && (op->macro.lo <= 0.0f || op->macro.hi <= 0.0f)) {
    return hp_error(err,
                    HP_ERR_BAD_VALUE,
                    "an exp macro range must be above 0, not %g..%g",
                    (double)op->macro.lo,
                    (double)op->macro.hi);
  }
  const HpMacroMap map = {
    op->macro.macro - 1u, m, p, op->macro.lo, op->macro.hi, exponential};
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    HpMacroMap* old = &patch->macros[i];
    if (old->macro == map.macro && old->module == m && old->param == p) {
      *old = map;
      return HP_SUCCESS;
    }
  }
  if (patch->n_macros >= HP_MAX_MACRO_MAPS) {
    return hp_error(err,
                    HP_ERR_TOO_LARGE,
                    "the patch already maps %u macro "
                    "targets, the most it can hold",
                    HP_MAX_MACRO_MAPS);
  }
  patch->macros[patch->n_macros++] = map;
  return HP_SUCCESS;
}

HpStatus
hp_patch_apply(HpPatch* const patch, const HpOp* const op, HpError* const err)
{
  switch (op->type) {
  case HP_OP_CREATE:
    return op_create(patch, op, err);
  case HP_OP_DELETE:
    return op_delete(patch, op, err);
  case HP_OP_CONNECT:
  case HP_OP_DISCONNECT:
    return op_connect(patch, op, err);
  case HP_OP_SET:
  case HP_OP_GATE:
    return op_set(patch, op, err);
  case HP_OP_MACRO:
    return op_macro(patch, op, err);
  case HP_OP_CLEAR:
    hp_patch_clear(patch);
    return HP_SUCCESS;
  case HP_OP_VOICES:
    if (op->voices < 1 || op->voices > (int32_t)HP_MAX_VOICES) {
      return hp_error(err,
                      HP_ERR_BAD_VALUE,
                      "%d voices is out of range; use 1 to %u",
                      (int)op->voices,
                      HP_MAX_VOICES);
    }
    patch->n_voices = (uint32_t)op->voices;
    return HP_SUCCESS;
  default:
    break;
  }
  return hp_error(
    err, HP_ERR_BAD_MESSAGE, "not a patch edit (op %d)", (int)op->type);
}

/* The ops that build `patch`, in order: creates (each followed by its
   values off the default), connections, macro mappings.  `func` gets each;
   the text and Turtle writers share it. */
void
hp_patch_each_op(const HpPatch* const patch,
                 HpPatchOpFunc const  func,
                 void* const          data)
{
  static const char* const sinks[] = {"out", "out:left", "out:right"};
  HpOp                     op;
  if (patch->n_voices != 1u) { /* a mono patch reads as it always did */
    hp_op_init(&op, HP_OP_VOICES);
    op.voices = (int32_t)patch->n_voices;
    func(&op, data);
  }
  for (uint32_t i = 0; i < patch->n_modules; ++i) {
    const HpPatchModule* m = &patch->modules[i];
    hp_op_init(&op, HP_OP_CREATE);
    snprintf(op.create.id, sizeof(op.create.id), "%s", m->id);
    snprintf(op.create.type, sizeof(op.create.type), "%s", m->desc->type);
    func(&op, data);
    for (uint32_t p = 0; p < m->desc->n_params; ++p) {
      const HpParamDesc* pd = &m->desc->params[p];
      if (m->value[p] == pd->def) {
        continue;
      }
      hp_op_init(&op, HP_OP_SET);
      snprintf(op.set.module, sizeof(op.set.module), "%s", m->id);
      snprintf(op.set.param, sizeof(op.set.param), "%s", pd->name);
      if (pd->kind == HP_PARAM_ENUM) {
        snprintf(op.set.choice,
                 sizeof(op.set.choice),
                 "%s",
                 pd->choices[(int)m->value[p]]);
      } else {
        op.set.value = m->value[p];
      }
      func(&op, data);
    }
  }
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink*   l   = &patch->links[i];
    const HpPatchModule* src = &patch->modules[l->src];
    hp_op_init(&op, HP_OP_CONNECT);
    snprintf(op.connect.source,
             sizeof(op.connect.source),
             "%s:%s",
             src->id,
             src->desc->outputs[l->src_port].name);
    if (l->kind == HP_DEST_SINK) {
      snprintf(
        op.connect.dest, sizeof(op.connect.dest), "%s", sinks[l->dst_index]);
    } else {
      const HpPatchModule* dst = &patch->modules[l->dst];
      snprintf(op.connect.dest,
               sizeof(op.connect.dest),
               "%s:%s",
               dst->id,
               l->kind == HP_DEST_INPUT ? dst->desc->inputs[l->dst_index].name
                                        : dst->desc->params[l->dst_index].name);
    }
    func(&op, data);
  }
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    const HpMacroMap*    map = &patch->macros[i];
    const HpPatchModule* m   = &patch->modules[map->module];
    hp_op_init(&op, HP_OP_MACRO);
    op.macro.macro = map->macro + 1u;
    snprintf(op.macro.target,
             sizeof(op.macro.target),
             "%s:%s",
             m->id,
             m->desc->params[map->param].name);
    op.macro.lo = map->lo;
    op.macro.hi = map->hi;
    snprintf(op.macro.curve,
             sizeof(op.macro.curve),
             "%s",
             map->exponential ? "exp" : "lin");
    func(&op, data);
  }
}

typedef struct {
  char*  buf;
  size_t size;
  size_t len;
} TextOut;

static void
write_op_text(const HpOp* const op, void* const data)
{
  TextOut* const out = (TextOut*)data;
  const size_t   at  = out->len < out->size ? out->len : out->size;
  out->len +=
    hp_op_write_text(op, out->buf ? out->buf + at : NULL, out->size - at);
}

size_t
hp_patch_write_text(const HpPatch* const patch,
                    char* const          buf,
                    const size_t         size)
{
  TextOut out = {buf, buf ? size : 0u, 0u};
  HpOp    clear;
  hp_op_init(&clear, HP_OP_CLEAR);
  write_op_text(&clear, &out);
  hp_patch_each_op(patch, write_op_text, &out);
  return out.len;
}
