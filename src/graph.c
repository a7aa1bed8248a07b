/*
  Graph compilation (worker) and processing (audio thread).

  Layout of the one allocation: the HpGraph header, the nodes in processing
  order, per-node port/parameter tables, the source lists, the module
  states, then the audio buffers.  The layout is computed by running the
  same carving code twice: once to measure, once to place.
*/

#include "graph.h"

#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Smoothing time constant for live parameter changes. */
#define SMOOTH_SECONDS 0.005f

typedef struct {
  float    target;  /* the set value, clamped */
  float    current; /* the smoothed value */
  uint32_t first;   /* into graph->sources */
  uint32_t count;
  bool     fell;   /* a gate set off since the last route(): see there */
  bool     voiced; /* sums voices: only the sounding ones, every block */
} ParamSlot;

typedef struct {
  uint32_t first; /* into graph->sources */
  uint32_t count;
  bool     voiced;
} InputSlot;

/* Where a source's producer says whether it is constant this chunk
   (module.h, HpNodeIO): its node's mask and the output's bit; NULL for a
   producer that never says. */
typedef struct {
  const uint32_t* mask;
  uint32_t        bit;
} ConstFlag;

/*
  Module state lives apart from the graph, in blocks the graphs that keep a
  module share: a new graph adopts a kept module's state by pointer, so the
  swap itself copies nothing, whatever the patch size.  A block is freed
  when the last graph using one of its states is (worker side only, so the
  count needs no atomics).  Each node also has a spare state in the graph's
  own allocation: the warm-up renders kept modules there, on a copy of the
  state they play from (the playing graph owns that until the swap), and
  when the swap crossfades, the outgoing graph plays its fade from there, on
  copies taken at the swap.
*/
typedef struct {
  uint32_t refs; /* nodes, in all graphs, whose `home` is in this block */
} StateBlock;

/*
  A module's memory (delay lines: HpModuleDesc.memory) lives in a block of
  its own, shared the same way: a kept module whose memory has the same
  size adopts it, so its echoes ring on through the swap, and nothing in
  run() copies it.  One graph writes it (HP_MEM_OWN): a standby warming up
  leaves it alone, the graph fading out of a crossfade only reads it, a
  tail does not touch it (module.h: HpMemAccess).
*/
typedef struct {
  uint32_t refs; /* nodes, in all graphs, playing from it */
  uint32_t pad[3];
} MemBlock;

#define STATE_ALIGN 16u
#define BLOCK_HEADER \
  ((sizeof(StateBlock) + STATE_ALIGN - 1u) & ~(size_t)(STATE_ALIGN - 1u))

typedef struct {
  const float* buf;
  uint32_t     mask; /* 1: left, 2: right */
} SinkEntry;

typedef struct {
  const HpModuleDesc* desc;
  char                id[HP_ID_MAX];
  HpNodeIO            io;
  HpParamIn*          param_in;
  const float**       in;
  ParamSlot*          params;
  InputSlot*          inputs;
  SinkEntry*          sinks;
  uint32_t            n_sinks;
  int32_t             carry_from; /* node index in the base graph, or -1 */
  void*               home;       /* the state this graph plays from */
  StateBlock*         block;      /* the block holding `home` */
  void*               spare;      /* in this allocation: see StateBlock */
  bool                settled;   /* no sums, no glides: `in`, `param_in` hold */
  bool                watch;     /* a source may turn constant: route again */
  uint32_t            out_const; /* what process() said of its outputs */
  bool                per_voice; /* one node a voice, `copies` in a row */
  bool                alone;     /* no voice reaches it nor it a voice */
  uint8_t             voice;     /* which, of a per-voice module's nodes */
  uint8_t             copies;    /* nodes of the module: 1, or the voices */
  MemBlock*           mem_block; /* holding io.mem, or NULL */
  bool                mem_kept;  /* adopted from the base */
} Node;

/*
  Names the audio thread looks up by key (ops.h: hp_name_key()), so that a
  live set compares no string: a node by its id, in an open-addressing
  table (key 0: empty), and a parameter or choice by name among those of
  the node's module type (a short list per type in the graph: names, then
  aliases, then choices).
*/
typedef struct {
  uint64_t key;
  uint32_t node;
  uint32_t type; /* into graph->types */
} NodeKey;

typedef struct {
  uint64_t key;
  uint16_t param;
  int16_t  choice; /* -1: the parameter's name or an alias */
} NameKey;

typedef struct {
  uint32_t first; /* into graph->names */
  uint32_t count;
} TypeKeys;

typedef struct {
  uint32_t node;
  uint32_t param;
  uint32_t macro;
  float    lo, hi;
  bool     exponential;
} MacroSlot;

/*
  Voices (DESIGN 3b): a per-voice module is compiled into one node per
  voice, in a row, each with its own state, buffers and tables, so a voice
  costs what the mono patch costs and the inner loops know nothing of
  voices.  A shared node that reads a per-voice output (`sum`, the sinks)
  gets one source per voice, tagged with it (`source_voice`), and adds up
  only the voices that sound.  With several voices, a voice none of whose
  nodes is busy (its gate off, its envelopes finished) is skipped.

  Notes reach voices through the graph (hp_graph_midi): it picks the voice
  by the heads of the `midi` states (module.h: HpVoiceHead), which carry
  across a swap with the rest of the state.
*/
#define NO_VOICE 0xFFu

/*
  The parameters the last live sets started gliding (a few, newest last):
  at a swap, where the new graph starts a kept module's parameter at the
  value the old one is gliding to, it glides on from where the old one is
  rather than jumping there (a click when the swap does not crossfade).
*/
#define N_GLIDES 8u

typedef struct {
  uint64_t module; /* the id's key */
  uint32_t param;
} Glide;

struct HpGraphImpl {
  HpGraphTag     tag;
  HpTime         time;       /* the host's, at the chunk's first frame */
  const float*   host_in[2]; /* the plugin's audio inputs, this chunk */
  uint32_t*      looped;     /* nodes that prefetch (close a loop) */
  uint32_t       n_looped;
  const HpGraph* base;
  float          rate;
  float          smooth_coef;
  bool           correlated;
  bool           mono;      /* every sink feeds both sides: right = left */
  bool           skip_idle; /* several voices: idle ones are not rendered */
  bool           ringing;   /* a tail: its voices only (hp_graph_ring_out) */
  uint32_t       n_voices;
  uint32_t       all_voices; /* a bit a voice */
  uint32_t       active;     /* the voices rendered in this chunk */
  uint32_t       n_nodes;
  uint32_t       n_modules; /* first nodes of the modules: `by_id` */
  Node*          nodes;
  uint32_t*      by_id;     /* first nodes' indices sorted by id */
  NodeKey*       node_keys; /* open addressing, at most half full */
  uint32_t       key_mask;
  TypeKeys*      types; /* per module type in the graph */
  NameKey*       names;
  const float**  sources;
  uint8_t*       source_voice; /* per source: its voice, or NO_VOICE */
  ConstFlag*     source_const; /* per source */
  uint32_t*      midi_nodes; /* module by module, each one's voices in a row */
  uint32_t       n_midi;
  uint32_t*      busy_nodes; /* per-voice nodes with a busy(), voice by voice */
  uint32_t       n_busy;     /* of one voice */
  uint32_t       known_idle; /* voices found idle since the last event */
  MacroSlot*     macros;
  uint32_t       n_macros;
  Glide          glides[N_GLIDES]; /* a ring */
  uint32_t       n_glides;         /* ever noted */
  float*         buffers; /* HP_CHUNK floats each: outputs, then scratch */
  float**        scratch; /* transient sums and ramps, one node at a time */
  uint32_t       n_scratch;
  size_t         size;
};

/* Carving: the same calls measure (base == NULL) and place. */
typedef struct {
  char*  base;
  size_t used;
} Arena;

static void*
take(Arena* const a, const size_t size, const size_t align)
{
  a->used         = (a->used + align - 1u) & ~(align - 1u);
  void* const ptr = a->base ? a->base + a->used : NULL;
  a->used += size;
  return ptr;
}

#define TAKE(a, type, n) ((type*)take((a), sizeof(type) * (n), _Alignof(type)))

/* What compilation works out before carving. */
typedef struct {
  uint32_t* order;      /* patch module index by processing position */
  uint32_t* position;   /* processing position by patch module index */
  uint32_t* out_buffer; /* buffer index for (module, output); UINT32_MAX none */
  uint32_t* out_first;  /* first (module, output) slot of each module */
  uint32_t* in_first;   /* first (module, input or parameter) slot of each */
  uint32_t* in_start;   /* the links into slot s: in_links[in_start[s] ..] */
  uint32_t* in_links;   /* link indices by destination slot, in link order */
  bool*     feeds;      /* per module: its main output is read */
  bool*     per_voice;  /* per module */
  bool*     linked;     /* per module: a voice's signal reaches it, or its
                           reaches a voice (else it sounds on its own) */
  bool*     looped;     /* per module: closes a loop, prefetches (module.h) */
  uint32_t  n_looped;
  uint32_t* node_first; /* per processing position: its first node */
  uint32_t  n_nodes;
  uint32_t  n_voices;
  uint32_t  n_busy;     /* per-voice modules with a busy() */
  uint32_t  n_buffers;  /* of one chunk each */
  uint32_t  n_vbuffers; /* of a chunk a voice each: per-voice outputs */
  uint32_t  n_scratch;
  uint32_t  n_sources;
  const HpModuleDesc** types;   /* the module types in the patch */
  uint32_t*            type_of; /* per module: index into types */
  uint32_t             n_types;
  uint32_t             n_names; /* names, aliases and choices of the types */
} Plan;

static void
plan_free(Plan* const plan)
{
  free(plan->types);
  free(plan->type_of);
  free(plan->order);
  free(plan->position);
  free(plan->out_buffer);
  free(plan->out_first);
  free(plan->in_first);
  free(plan->in_start);
  free(plan->in_links);
  free(plan->feeds);
  free(plan->per_voice);
  free(plan->linked);
  free(plan->looped);
  free(plan->node_first);
}

#define NO_KEY UINT32_MAX

/* Group items 0..n-1 by key (below n_keys, or NO_KEY: left out), each
   group in item order: key k's items are items[start[k] .. start[k + 1]).
   A counting sort, O(n + n_keys); `start` holds n_keys + 2. */
static void
group_by(const uint32_t* const key,
         const uint32_t        n,
         const uint32_t        n_keys,
         uint32_t* const       start,
         uint32_t* const       items)
{
  memset(start, 0, (n_keys + 2u) * sizeof(uint32_t));
  for (uint32_t i = 0; i < n; ++i) {
    if (key[i] != NO_KEY) {
      ++start[key[i] + 2u];
    }
  }
  for (uint32_t k = 2; k < n_keys + 2u; ++k) {
    start[k] += start[k - 1u];
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (key[i] != NO_KEY) {
      items[start[key[i] + 1u]++] = i;
    }
  }
}

static bool
is_delayed(const HpPatch* const patch, const HpPatchLink* const l)
{
  return l->kind != HP_DEST_SINK &&
         (patch->modules[l->src].desc->delayed_outputs >> l->src_port & 1u);
}

/* True when a link leads from `from` to `to`, following every link but
   those in `cut`.  Breadth first, O(modules + links). */
static bool
leads_to(const HpPatch* const patch,
         const uint32_t       from,
         const uint32_t       to,
         uint32_t* const      queue,
         bool* const          seen)
{
  memset(seen, 0, patch->n_modules * sizeof(bool));
  uint32_t tail = 0;
  queue[tail++] = from;
  seen[from]    = true;
  for (uint32_t head = 0; head < tail; ++head) {
    if (queue[head] == to) {
      return true;
    }
    for (uint32_t i = 0; i < patch->n_links; ++i) {
      const HpPatchLink* l = &patch->links[i];
      if (l->kind != HP_DEST_SINK && l->src == queue[head] && !seen[l->dst]) {
        seen[l->dst]  = true;
        queue[tail++] = l->dst;
      }
    }
  }
  return false;
}

/* The links from delayed outputs that close a loop (connect allows only
   those: patch.c).  Only run for a patch that has a loop.  `cut` per link. */
static bool
cut_loops(const HpPatch* const patch, bool* const cut)
{
  uint32_t* queue =
    (uint32_t*)malloc((patch->n_modules + 1u) * sizeof(uint32_t));
  bool* seen = (bool*)malloc(patch->n_modules + 1u);
  if (!queue || !seen) {
    free(queue);
    free(seen);
    return false;
  }
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink* l = &patch->links[i];
    cut[i] =
      is_delayed(patch, l) && leads_to(patch, l->dst, l->src, queue, seen);
  }
  free(queue);
  free(seen);
  return true;
}

/* Kahn's algorithm, each module's links grouped in link order (so the order
   is the one a scan of every link per module gave).  A patch with a loop
   (through a delayed output: connect refuses any other) is sorted without
   the links that close one, and their producers marked `looped`: they
   write those outputs before the chunk (prefetch).  O(modules + links),
   and O(delayed links x (modules + links)) more with a loop. */
static HpStatus
plan_order(const HpPatch* const patch, Plan* const plan, HpError* const err)
{
  const uint32_t n       = patch->n_modules;
  const uint32_t n_links = patch->n_links;
  uint32_t*      indeg   = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  uint32_t*      key     = (uint32_t*)malloc((n_links + 1u) * sizeof(uint32_t));
  uint32_t*      start   = (uint32_t*)malloc((n + 2u) * sizeof(uint32_t));
  uint32_t*      out     = (uint32_t*)malloc((n_links + 1u) * sizeof(uint32_t));
  bool*          cut     = (bool*)calloc(n_links + 1u, sizeof(bool));
  plan->order            = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->position         = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->looped           = (bool*)calloc(n + 1u, sizeof(bool));
  HpStatus st            = HP_SUCCESS;
  for (int pass = 0; pass < 2 && !st; ++pass) {
    if (!indeg || !key || !start || !out || !cut || !plan->order ||
        !plan->position || !plan->looped || (pass && !cut_loops(patch, cut))) {
      st = hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
    } else {
      memset(indeg, 0, (n + 1u) * sizeof(uint32_t));
      for (uint32_t i = 0; i < n_links; ++i) {
        const HpPatchLink* l    = &patch->links[i];
        const bool         skip = l->kind == HP_DEST_SINK || cut[i];
        key[i]                  = skip ? NO_KEY : l->src;
        indeg[l->dst] += !skip;
      }
      group_by(key, n_links, n, start, out);
      /* The order is the queue: modules join it when nothing unsorted
         feeds them. */
      uint32_t tail = 0;
      for (uint32_t m = 0; m < n; ++m) {
        if (!indeg[m]) {
          plan->order[tail++] = m;
        }
      }
      for (uint32_t head = 0; head < tail; ++head) {
        const uint32_t m  = plan->order[head];
        plan->position[m] = head;
        for (uint32_t j = start[m]; j < start[m + 1u]; ++j) {
          const uint32_t dst = patch->links[out[j]].dst;
          if (!--indeg[dst]) {
            plan->order[tail++] = dst;
          }
        }
      }
      if (tail == n) {
        break;
      }
      if (pass) {
        st = hp_error(err, HP_ERR_CYCLE, "the patch has a cycle");
      }
    }
  }
  for (uint32_t i = 0; i < n_links && !st; ++i) {
    if (cut[i] && !plan->looped[patch->links[i].src]) {
      plan->looped[patch->links[i].src] = true;
      ++plan->n_looped;
    }
  }
  free(cut);
  free(indeg);
  free(key);
  free(start);
  free(out);
  return st;
}

/* Assign buffers by liveness: an output's buffer is busy from its
   producer's position to its last reader's position.  O(modules + links). */
static HpStatus
plan_buffers(const HpPatch* const patch, Plan* const plan, HpError* const err)
{
  const uint32_t n       = patch->n_modules;
  uint32_t       n_slots = 0;
  plan->out_first        = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  if (!plan->out_first) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  for (uint32_t m = 0; m < n; ++m) {
    plan->out_first[m] = n_slots;
    n_slots += patch->modules[m].desc->n_outputs;
  }
  /* Two pools: per-voice outputs take a buffer of a chunk a voice. */
  uint32_t* last_use = (uint32_t*)calloc(n_slots + 1u, sizeof(uint32_t));
  uint32_t* free_list =
    (uint32_t*)malloc(2u * (n_slots + 1u) * sizeof(uint32_t));
  uint32_t* ends      = (uint32_t*)malloc((n + 2u) * sizeof(uint32_t));
  uint32_t* ending    = (uint32_t*)malloc((n_slots + 1u) * sizeof(uint32_t));
  bool*     slot_pool = (bool*)malloc((n_slots + 1u) * sizeof(bool));
  plan->out_buffer    = (uint32_t*)malloc((n_slots + 1u) * sizeof(uint32_t));
  if (!last_use || !free_list || !ends || !ending || !slot_pool ||
      !plan->out_buffer) {
    free(last_use);
    free(free_list);
    free(ends);
    free(ending);
    free(slot_pool);
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  for (uint32_t m = 0; m < n; ++m) {
    for (uint32_t o = 0; o < patch->modules[m].desc->n_outputs; ++o) {
      slot_pool[plan->out_first[m] + o] = plan->per_voice[m];
    }
  }
  const uint32_t unused = NO_KEY; /* group_by leaves these out */
  for (uint32_t m = 0; m < n; ++m) {
    for (uint32_t o = 0; o < patch->modules[m].desc->n_outputs; ++o) {
      /* The main output is always written, and a stereo pair (it may go to
         the sides); others only when read. */
      const bool always = o == 0 || (patch->modules[m].desc->stereo && o <= 2u);
      last_use[plan->out_first[m] + o] = always ? plan->position[m] : unused;
    }
  }
  uint32_t n_sources = 0;
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink* l    = &patch->links[i];
    const uint32_t     slot = plan->out_first[l->src] + l->src_port;
    const uint32_t     at =
      l->kind == HP_DEST_SINK ? plan->position[l->src] : plan->position[l->dst];
    if (last_use[slot] == unused || at > last_use[slot]) {
      last_use[slot] = at;
    }
    if (l->kind != HP_DEST_SINK) {
      /* A node per voice reads one; a shared one reads every voice. */
      const bool voiced = plan->per_voice[l->dst] || plan->per_voice[l->src];
      n_sources += voiced ? plan->n_voices : 1u;
    }
  }
  plan->n_sources = n_sources;
  /* A loop's delayed outputs are written before the chunk (prefetch) and
     live until their producer has run, whoever reads them first. */
  for (uint32_t m = 0; m < n && plan->n_looped; ++m) {
    const HpModuleDesc* desc = patch->modules[m].desc;
    for (uint32_t o = 0; plan->looped[m] && o < desc->n_outputs; ++o) {
      const uint32_t slot = plan->out_first[m] + o;
      if ((desc->delayed_outputs >> o & 1u) && last_use[slot] != unused &&
          last_use[slot] < plan->position[m]) {
        last_use[slot] = plan->position[m];
      }
    }
  }
  /* The slots read for the last time at each position, in slot order. */
  group_by(last_use, n_slots, n, ends, ending);

  uint32_t  n_free[2]    = {0, 0};
  uint32_t  n_buffers[2] = {0, 0};
  uint32_t* frees[2]     = {free_list, free_list + n_slots + 1u};
  uint32_t  n_scratch    = 0;
  for (uint32_t m = 0; m < n && plan->n_looped; ++m) {
    const HpModuleDesc* desc = patch->modules[m].desc;
    for (uint32_t o = 0; plan->looped[m] && o < desc->n_outputs; ++o) {
      const uint32_t slot = plan->out_first[m] + o;
      if ((desc->delayed_outputs >> o & 1u) && last_use[slot] != unused) {
        plan->out_buffer[slot] = n_buffers[slot_pool[slot]]++;
      }
    }
  }
  for (uint32_t pos = 0; pos < n; ++pos) {
    const uint32_t      m    = plan->order[pos];
    const HpModuleDesc* desc = patch->modules[m].desc;
    const uint32_t      need = desc->n_inputs + desc->n_params;
    n_scratch                = need > n_scratch ? need : n_scratch;
    for (uint32_t o = 0; o < desc->n_outputs; ++o) {
      const uint32_t slot = plan->out_first[m] + o;
      const int      k    = slot_pool[slot];
      if (plan->looped[m] && (desc->delayed_outputs >> o & 1u) &&
          last_use[slot] != unused) {
        continue; /* placed before the chunk, above */
      }
      plan->out_buffer[slot] = last_use[slot] == unused ? unused
                               : n_free[k]              ? frees[k][--n_free[k]]
                                                        : n_buffers[k]++;
    }
    /* Release what is read for the last time here, own outputs included. */
    for (uint32_t j = ends[pos]; j < ends[pos + 1u]; ++j) {
      const int k           = slot_pool[ending[j]];
      frees[k][n_free[k]++] = plan->out_buffer[ending[j]];
    }
  }
  plan->n_buffers  = n_buffers[0];
  plan->n_vbuffers = n_buffers[1];
  plan->n_scratch  = n_scratch;
  free(last_use);
  free(free_list);
  free(ends);
  free(ending);
  free(slot_pool);
  return HP_SUCCESS;
}

/* Group the links by destination, input or parameter slot, in link order
   (the order their sources are summed in), and mark the modules whose main
   output something reads.  O(modules + links). */
static HpStatus
plan_links(const HpPatch* const patch, Plan* const plan, HpError* const err)
{
  const uint32_t n       = patch->n_modules;
  const uint32_t n_links = patch->n_links;
  uint32_t       n_in    = 0;
  plan->in_first         = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  plan->feeds            = (bool*)calloc(n + 1u, sizeof(bool));
  plan->in_links         = (uint32_t*)malloc((n_links + 1u) * sizeof(uint32_t));
  uint32_t* key          = (uint32_t*)malloc((n_links + 1u) * sizeof(uint32_t));
  if (!plan->in_first || !plan->feeds || !plan->in_links || !key) {
    free(key);
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  for (uint32_t m = 0; m < n; ++m) {
    const HpModuleDesc* desc = patch->modules[m].desc;
    plan->in_first[m]        = n_in;
    n_in += desc->n_inputs + desc->n_params;
  }
  for (uint32_t i = 0; i < n_links; ++i) {
    const HpPatchLink* l = &patch->links[i];
    /* A stereo module's pair is its main output too (module.h): sides
       patched on, it is not left unconnected. */
    plan->feeds[l->src] |=
      l->src_port == 0 ||
      (patch->modules[l->src].desc->stereo && l->src_port <= 2u);
    key[i] = l->kind == HP_DEST_SINK ? NO_KEY
             : l->kind == HP_DEST_INPUT
               ? plan->in_first[l->dst] + l->dst_index
               : plan->in_first[l->dst] +
                   patch->modules[l->dst].desc->n_inputs + l->dst_index;
  }
  plan->in_start = (uint32_t*)malloc((n_in + 2u) * sizeof(uint32_t));
  if (plan->in_start) {
    group_by(key, n_links, n_in, plan->in_start, plan->in_links);
  }
  free(key);
  return plan->in_start ? HP_SUCCESS
                        : hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
}

/* Which modules play once per voice (DESIGN 3b): `midi`, and what a
   per-voice module feeds, except `sum`.  In processing order, so each
   module's sources are decided before it.  Then the nodes: a row of them
   per module.  O(modules + links). */
static HpStatus
plan_voices(const HpPatch* const patch, Plan* const plan, HpError* const err)
{
  const uint32_t n = patch->n_modules;
  plan->n_voices   = patch->n_voices ? patch->n_voices : 1u;
  plan->per_voice  = (bool*)calloc(n + 1u, sizeof(bool));
  plan->linked     = (bool*)calloc(n + 1u, sizeof(bool));
  plan->node_first = (uint32_t*)calloc(n + 1u, sizeof(uint32_t));
  if (!plan->per_voice || !plan->linked || !plan->node_first) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  uint32_t n_nodes = 0;
  /* A loop feeds a module from one later in the order: go round again
     until nothing changes (each round only adds). */
  for (bool again = true; again;) {
    again        = false;
    n_nodes      = 0;
    plan->n_busy = 0;
    for (uint32_t pos = 0; pos < n; ++pos) {
      const uint32_t            m    = plan->order[pos];
      const HpModuleDesc* const desc = patch->modules[m].desc;
      const uint32_t            from = plan->in_first[m];
      const uint32_t            to   = from + desc->n_inputs + desc->n_params;
      bool                      pv   = desc->voicing == HP_VOICING_SOURCE;
      bool                      down = pv;
      for (uint32_t j = plan->in_start[from]; j < plan->in_start[to]; ++j) {
        const uint32_t src = patch->links[plan->in_links[j]].src;
        pv |= desc->voicing == HP_VOICING_FOLLOW && plan->per_voice[src];
        down |= plan->linked[src]; /* a voice's signal reaches it */
      }
      again |=
        plan->n_looped && (pv != plan->per_voice[m] || down != plan->linked[m]);
      plan->per_voice[m] = pv;
      plan->linked[m]    = down;
      plan->n_busy += pv && desc->busy;
      plan->node_first[pos] = n_nodes;
      n_nodes += pv ? plan->n_voices : 1u;
    }
  }
  plan->n_nodes = n_nodes;
  /* ... or its signal reaches a voice: from the last module back, a
     module that reaches one makes its sources reach one. */
  bool* const up = (bool*)calloc(n + 1u, sizeof(bool));
  if (!up) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  for (uint32_t pos = n; pos-- > 0;) {
    const uint32_t            m    = plan->order[pos];
    const HpModuleDesc* const desc = patch->modules[m].desc;
    const uint32_t            from = plan->in_first[m];
    const uint32_t            to   = from + desc->n_inputs + desc->n_params;
    up[m] |= plan->per_voice[m];
    for (uint32_t j = plan->in_start[from]; up[m] && j < plan->in_start[to];
         ++j) {
      up[patch->links[plan->in_links[j]].src] = true;
    }
    plan->linked[m] |= up[m];
  }
  free(up);
  return HP_SUCCESS;
}

/* Heap sort of node indices by id (qsort has no context argument, and
   several plugin instances may build graphs at once). */
static void
sift_down(uint32_t* const   idx,
          const Node* const nodes,
          uint32_t          root,
          const uint32_t    n)
{
  for (uint32_t child = 2u * root + 1u; child < n; child = 2u * root + 1u) {
    if (child + 1u < n &&
        strcmp(nodes[idx[child]].id, nodes[idx[child + 1u]].id) < 0) {
      ++child;
    }
    if (strcmp(nodes[idx[root]].id, nodes[idx[child]].id) >= 0) {
      return;
    }
    const uint32_t t = idx[root];
    idx[root]        = idx[child];
    idx[child]       = t;
    root             = child;
  }
}

static void
sort_by_id(uint32_t* const idx, const Node* const nodes, const uint32_t n)
{
  for (uint32_t i = n / 2u; i-- > 0;) {
    sift_down(idx, nodes, i, n);
  }
  for (uint32_t end = n; end-- > 1u;) {
    const uint32_t t = idx[0];
    idx[0]           = idx[end];
    idx[end]         = t;
    sift_down(idx, nodes, 0, end);
  }
}

/* Keys: the names run() may look a parameter up by. */

static uint32_t
count_names(const HpModuleDesc* const desc)
{
  uint32_t n = 0;
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    const HpParamDesc* const pd = &desc->params[p];
    ++n;
    for (const char* const* a = pd->aliases; a && *a; ++a) {
      ++n;
    }
    for (const char* const* c = pd->choices; c && *c; ++c) {
      ++n;
    }
  }
  return n;
}

/* The module types of the patch (a few, whatever its size). */
static HpStatus
plan_types(const HpPatch* const patch, Plan* const plan, HpError* const err)
{
  const uint32_t n = patch->n_modules;
  plan->types      = (const HpModuleDesc**)malloc((n + 1u) * sizeof(void*));
  plan->type_of    = (uint32_t*)malloc((n + 1u) * sizeof(uint32_t));
  if (!plan->types || !plan->type_of) {
    return hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  }
  for (uint32_t m = 0; m < n; ++m) {
    const HpModuleDesc* const desc = patch->modules[m].desc;
    uint32_t                  t    = 0;
    while (t < plan->n_types && plan->types[t] != desc) {
      ++t;
    }
    if (t == plan->n_types) {
      plan->types[plan->n_types++] = desc;
      plan->n_names += count_names(desc);
    }
    plan->type_of[m] = t;
  }
  return HP_SUCCESS;
}

static void
fill_keys(HpGraph* const g, const Plan* const plan)
{
  uint32_t n_names = 0;
  for (uint32_t t = 0; t < plan->n_types; ++t) {
    const HpModuleDesc* const desc = plan->types[t];
    g->types[t].first              = n_names;
    for (int pass = 0; pass < 3; ++pass) { /* names, aliases, choices */
      for (uint32_t p = 0; p < desc->n_params; ++p) {
        const HpParamDesc* const pd   = &desc->params[p];
        const char* const* const list = pass == 0   ? NULL
                                        : pass == 1 ? pd->aliases
                                                    : pd->choices;
        for (uint32_t i = 0; pass == 0 ? i < 1u : list && list[i]; ++i) {
          NameKey* const k = &g->names[n_names++];
          k->key           = hp_name_key(pass == 0 ? pd->name : list[i]);
          k->param         = (uint16_t)p;
          k->choice        = (int16_t)(pass == 2 ? (int)i : -1);
        }
      }
    }
    g->types[t].count = n_names - g->types[t].first;
  }
  for (uint32_t pos = 0; pos < g->n_modules; ++pos) {
    uint64_t key = hp_name_key(g->nodes[plan->node_first[pos]].id);
    key          = key ? key : 1u;
    for (uint32_t i = (uint32_t)(key ^ (key >> 32u)) & g->key_mask;;
         i          = (i + 1u) & g->key_mask) {
      NodeKey* const slot = &g->node_keys[i];
      if (!slot->key) {
        slot->key  = key;
        slot->node = plan->node_first[pos];
        slot->type = plan->type_of[plan->order[pos]];
        break;
      }
    }
  }
}

/* Audio thread: integer compares only. */
static const NodeKey*
node_find(const HpGraph* const g, uint64_t key)
{
  key = key ? key : 1u;
  for (uint32_t i = (uint32_t)(key ^ (key >> 32u)) & g->key_mask;;
       i          = (i + 1u) & g->key_mask) {
    if (!g->node_keys[i].key) {
      return NULL;
    }
    if (g->node_keys[i].key == key) {
      return &g->node_keys[i];
    }
  }
}

/* Carve (or measure, when arena->base is NULL) the whole graph. */
static HpGraph*
carve(Arena* const a, const HpPatch* const patch, const Plan* const plan)
{
  const uint32_t n       = patch->n_modules;
  const uint32_t n_nodes = plan->n_nodes;
  HpGraph* const g       = TAKE(a, HpGraph, 1);
  Node* const    nodes   = TAKE(a, Node, n_nodes);
  uint32_t*      by_id   = TAKE(a, uint32_t, n);
  const float**  srcs    = TAKE(a, const float*, plan->n_sources);
  uint8_t*       src_v   = TAKE(a, uint8_t, plan->n_sources);
  ConstFlag*     src_c   = TAKE(a, ConstFlag, plan->n_sources);
  uint32_t       n_midi  = 0;
  uint32_t       n_busy  = 0;
  for (uint32_t m = 0; m < n; ++m) {
    const HpModuleDesc* desc   = patch->modules[m].desc;
    const uint32_t      copies = plan->per_voice[m] ? plan->n_voices : 1u;
    n_midi += desc->midi ? copies : 0u;
    n_busy += desc->busy && plan->per_voice[m] ? copies : 0u;
  }
  uint32_t* midi    = TAKE(a, uint32_t, n_midi);
  uint32_t* looped  = TAKE(a, uint32_t, plan->n_looped);
  uint32_t* busy    = TAKE(a, uint32_t, n_busy);
  uint32_t  key_cap = 1;
  while (key_cap < 2u * n + 1u) {
    key_cap *= 2u;
  }
  NodeKey*   node_keys = TAKE(a, NodeKey, key_cap);
  TypeKeys*  types     = TAKE(a, TypeKeys, plan->n_types);
  NameKey*   names     = TAKE(a, NameKey, plan->n_names);
  MacroSlot* macros    = TAKE(a, MacroSlot, patch->n_macros);
  float**    scr       = TAKE(a, float*, plan->n_scratch);

  /* Per-node tables: each voice's node has its own. */
  for (uint32_t pos = 0; pos < n; ++pos) {
    const uint32_t      m      = plan->order[pos];
    const HpModuleDesc* desc   = patch->modules[m].desc;
    const uint32_t      copies = plan->per_voice[m] ? plan->n_voices : 1u;
    for (uint32_t v = 0; v < copies; ++v) {
      HpParamIn*    pin    = TAKE(a, HpParamIn, desc->n_params);
      ParamSlot*    params = TAKE(a, ParamSlot, desc->n_params);
      const float** in     = TAKE(a, const float*, desc->n_inputs);
      InputSlot*    inputs = TAKE(a, InputSlot, desc->n_inputs);
      float**       out    = TAKE(a, float*, desc->n_outputs);
      SinkEntry*    sinks  = TAKE(a, SinkEntry, 3u * desc->n_outputs);
      if (g) {
        Node* node      = &nodes[plan->node_first[pos] + v];
        node->param_in  = pin;
        node->params    = params;
        node->in        = in;
        node->inputs    = inputs;
        node->io.out    = out;
        node->sinks     = sinks;
        node->per_voice = plan->per_voice[m];
        node->voice     = (uint8_t)v;
        node->copies    = (uint8_t)copies;
      }
    }
  }
  for (uint32_t pos = 0; pos < n; ++pos) {
    const uint32_t      m      = plan->order[pos];
    const HpModuleDesc* desc   = patch->modules[m].desc;
    const uint32_t      copies = plan->per_voice[m] ? plan->n_voices : 1u;
    for (uint32_t v = 0; v < copies; ++v) {
      void* const spare =
        take(a, desc->state_size ? desc->state_size : 1, STATE_ALIGN);
      if (g) {
        nodes[plan->node_first[pos] + v].spare = spare;
      }
    }
  }
  const size_t chunks = plan->n_buffers +
                        (size_t)plan->n_vbuffers * plan->n_voices +
                        plan->n_scratch;
  float* buffers = (float*)take(a, sizeof(float) * HP_CHUNK * chunks, 64);
  if (!g) {
    return NULL;
  }
  g->buffers      = buffers;
  g->nodes        = nodes;
  g->by_id        = by_id;
  g->node_keys    = node_keys;
  g->key_mask     = key_cap - 1u;
  g->types        = types;
  g->names        = names;
  g->sources      = srcs;
  g->source_voice = src_v;
  g->source_const = src_c;
  g->midi_nodes   = midi;
  g->looped       = looped;
  g->busy_nodes   = busy;
  g->macros       = macros;
  g->scratch      = scr;
  g->n_scratch    = plan->n_scratch;
  g->n_nodes      = n_nodes;
  g->n_modules    = n;
  const size_t first_scratch =
    plan->n_buffers + (size_t)plan->n_vbuffers * plan->n_voices;
  for (uint32_t s = 0; s < plan->n_scratch; ++s) {
    scr[s] = buffers + (first_scratch + s) * HP_CHUNK;
  }
  return g;
}

/* The buffer of output `output` of `module` in voice `voice` (0 for a
   shared module), or NULL when nothing reads it. */
static float*
buffer_of(float* const      buffers,
          const Plan* const plan,
          const uint32_t    module,
          const uint32_t    output,
          const uint32_t    voice)
{
  const uint32_t b = plan->out_buffer[plan->out_first[module] + output];
  if (b == UINT32_MAX) {
    return NULL;
  }
  if (!plan->per_voice[module]) {
    return buffers + (size_t)b * HP_CHUNK;
  }
  return buffers +
         (plan->n_buffers + (size_t)b * plan->n_voices + voice) * HP_CHUNK;
}

/* Bytes a module's state takes in a block, keeping the next aligned. */
static size_t
state_slot(const HpModuleDesc* const desc)
{
  const size_t size = desc->state_size ? desc->state_size : 1u;
  return (size + STATE_ALIGN - 1u) & ~(size_t)(STATE_ALIGN - 1u);
}

static void
init_node(Node* const node, const float rate)
{
  const HpModuleDesc* desc = node->desc;
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    node->param_in[p].signal = NULL;
    node->param_in[p].value  = node->params[p].target;
  }
  node->settled = false;
  memset(node->io.state, 0, desc->state_size);
  if (desc->init) {
    desc->init(node->io.state, node->param_in, rate);
  }
}

/* A stereo module's pair to the two sides (module.h: `stereo`). */
static void
add_pair(Node* const node)
{
  node->sinks[node->n_sinks++] = (SinkEntry){node->io.out[1], 1u};
  node->sinks[node->n_sinks++] = (SinkEntry){node->io.out[2], 2u};
}

/* Point each input and parameter at its sources, and the output at what
   plays: the links to the sink, or else every audio main output that
   feeds nothing.  O(modules + links). */
static void
wire(HpGraph* const g, const HpPatch* const patch, const Plan* const plan)
{
  uint32_t n_src = 0;
  for (uint32_t pos = 0; pos < patch->n_modules; ++pos) {
    const uint32_t m = plan->order[pos];
    for (uint32_t c = 0; c < g->nodes[plan->node_first[pos]].copies; ++c) {
      Node* const    node = &g->nodes[plan->node_first[pos] + c];
      const uint32_t n_in = node->desc->n_inputs;
      for (uint32_t d = 0; d < n_in + node->desc->n_params; ++d) {
        const uint32_t slot   = plan->in_first[m] + d;
        const uint32_t first  = n_src;
        bool           voiced = false;
        for (uint32_t j = plan->in_start[slot]; j < plan->in_start[slot + 1u];
             ++j) {
          const HpPatchLink* l = &patch->links[plan->in_links[j]];
          if (node->per_voice || !plan->per_voice[l->src]) {
            /* The same voice's output, or a shared one. */
            const uint32_t    v = plan->per_voice[l->src] ? c : 0u;
            const Node* const src =
              &g->nodes[plan->node_first[plan->position[l->src]] + v];
            g->source_voice[n_src] = NO_VOICE;
            g->source_const[n_src] =
              src->desc->const_outputs
                ? (ConstFlag){&src->out_const, 1u << l->src_port}
                : (ConstFlag){NULL, 0u};
            node->watch |= src->desc->const_outputs;
            g->sources[n_src++] =
              buffer_of(g->buffers, plan, l->src, l->src_port, v);
          } else {
            for (uint32_t v = 0; v < plan->n_voices; ++v) {
              g->source_voice[n_src] = (uint8_t)v;
              g->sources[n_src++] =
                buffer_of(g->buffers, plan, l->src, l->src_port, v);
            }
            voiced = true;
          }
        }
        if (d < n_in) {
          node->inputs[d].first  = first;
          node->inputs[d].count  = n_src - first;
          node->inputs[d].voiced = voiced;
        } else {
          node->params[d - n_in].first  = first;
          node->params[d - n_in].count  = n_src - first;
          node->params[d - n_in].voiced = voiced;
        }
      }
    }
  }

  /* The sinks: each voice's node adds its own output. */
  bool explicit_sink = false;
  for (uint32_t i = 0; i < patch->n_links; ++i) {
    const HpPatchLink* l = &patch->links[i];
    if (l->kind == HP_DEST_SINK) {
      const uint32_t first = plan->node_first[plan->position[l->src]];
      for (uint32_t c = 0; c < g->nodes[first].copies; ++c) {
        Node* const node = &g->nodes[first + c];
        if (l->src_port == 0 && l->dst_index == 0 && node->desc->stereo) {
          add_pair(node);
          continue;
        }
        node->sinks[node->n_sinks].buf  = node->io.out[l->src_port];
        node->sinks[node->n_sinks].mask = l->dst_index == 0 ? 3u : l->dst_index;
        ++node->n_sinks;
      }
      explicit_sink = true;
    }
  }
  for (uint32_t pos = 0; pos < patch->n_modules && !explicit_sink; ++pos) {
    const uint32_t first = plan->node_first[pos];
    for (uint32_t c = 0; c < g->nodes[first].copies; ++c) {
      Node* const node = &g->nodes[first + c];
      if (node->desc->outputs[0].kind == HP_SIGNAL_AUDIO &&
          !plan->feeds[plan->order[pos]]) {
        if (node->desc->stereo) {
          add_pair(node);
        } else {
          node->sinks[0].buf  = node->io.out[0];
          node->sinks[0].mask = 3u;
          node->n_sinks       = 1;
        }
      }
    }
  }
}

/* Memory for the modules that ask (after init_node: their parameters as
   built): a kept module's own when the size is the same, else new, zeroed.
   False, with `err` set, when out of memory. */
static bool
give_memory(HpGraph* const g, const HpGraph* const base, HpError* const err)
{
  for (uint32_t pos = 0; pos < g->n_nodes; ++pos) {
    Node* const  node = &g->nodes[pos];
    const size_t want =
      node->desc->memory ? node->desc->memory(node->param_in, g->rate) : 0u;
    if (!want) {
      continue;
    }
    const Node* const kept =
      node->carry_from >= 0 ? &base->nodes[node->carry_from] : NULL;
    if (kept && kept->mem_block && kept->io.mem_size == want) {
      node->mem_block     = kept->mem_block;
      node->io.mem        = kept->io.mem;
      node->mem_kept      = true;
      node->io.mem_access = HP_MEM_NONE; /* until sealed: the base writes */
    } else {
      node->mem_block =
        (MemBlock*)calloc(1, sizeof(MemBlock) + want * sizeof(float));
      if (!node->mem_block) {
        hp_error(err,
                 HP_ERR_NO_MEMORY,
                 "out of memory for the %zu-byte delay memory of module %s",
                 want * sizeof(float),
                 node->id);
        return false;
      }
      node->io.mem        = (float*)(node->mem_block + 1);
      node->io.mem_access = HP_MEM_OWN;
    }
    node->io.mem_size = want;
    ++node->mem_block->refs;
  }
  return true;
}

static HpGraph* graph_build(const HpPatch* patch,
                            const HpGraph* base,
                            float          rate,
                            bool           keep_voices,
                            HpError*       err);

/* The node of the base a node of a graph built on it plays on from: the
   module with the same id and type, the same voice; else, for the one
   `midi` of a patch, the base's one `midi` (renamed: the notes go on).
   -1: none. */
static int
carry_from(const HpGraph* const base,
           const HpGraph* const g,
           const Node* const    node,
           const bool           keep_voices)
{
  if (!base || (node->per_voice && !keep_voices)) {
    return -1;
  }
  int b = hp_graph_find(base, node->id);
  if (b >= 0 && base->nodes[b].desc != node->desc) {
    return -1;
  }
  if (b < 0 && node->desc->midi && g->n_midi == node->copies && base->n_midi &&
      base->n_midi == base->nodes[base->midi_nodes[0]].copies &&
      hp_graph_find(g, base->nodes[base->midi_nodes[0]].id) < 0) {
    b = (int)base->midi_nodes[0];
  }
  return b >= 0 && node->voice < base->nodes[b].copies ? b + node->voice : -1;
}

HpGraph*
hp_graph_new(const HpPatch* const patch,
             const HpGraph* const base,
             const float          rate,
             HpError* const       err)
{
  return graph_build(patch, base, rate, true, err);
}

HpGraph*
hp_graph_new_tail(const HpPatch* const patch,
                  const HpGraph* const base,
                  const float          rate,
                  HpError* const       err)
{
  return graph_build(patch, base, rate, false, err);
}

static HpGraph*
graph_build(const HpPatch* const patch,
            const HpGraph* const base,
            const float          rate,
            const bool           keep_voices,
            HpError* const       err)
{
  Plan plan;
  memset(&plan, 0, sizeof(plan));
  HpStatus st = plan_order(patch, &plan, err);
  if (st || (st = plan_links(patch, &plan, err)) ||
      (st = plan_voices(patch, &plan, err)) ||
      (st = plan_buffers(patch, &plan, err)) ||
      (st = plan_types(patch, &plan, err))) {
    plan_free(&plan);
    return NULL;
  }
  Arena measure = {NULL, 0};
  carve(&measure, patch, &plan);
  char* const mem =
    (char*)aligned_alloc(64, (measure.used + 63u) & ~(size_t)63u);
  if (!mem) {
    plan_free(&plan);
    hp_error(err,
             HP_ERR_NO_MEMORY,
             "out of memory building a graph of %u "
             "modules (%zu bytes)",
             patch->n_modules,
             measure.used);
    return NULL;
  }
  memset(mem, 0, measure.used);
  Arena    place        = {mem, 0};
  HpGraph* g            = carve(&place, patch, &plan);
  float*   buffers      = g->buffers;
  g->size               = measure.used;
  g->base               = base;
  g->rate               = rate;
  g->smooth_coef        = 1.0f - expf(-1.0f / (SMOOTH_SECONDS * rate));
  g->tag.seq            = HP_NO_SEQ;
  g->tag.crossfade_ms   = -1.0f;
  g->time.bpm           = 120.0f; /* until a host says (module.h: HpTime) */
  g->time.beats_per_bar = 4.0f;

  g->n_voices = plan.n_voices;
  g->all_voices =
    plan.n_voices >= 32u ? 0xFFFFFFFFu : (1u << plan.n_voices) - 1u;
  g->active    = g->all_voices;
  g->skip_idle = plan.n_voices > 1u;

  /* Nodes, their parameters and outputs. */
  uint32_t n_midi = 0;
  uint32_t n_busy = 0; /* busy modules so far */
  for (uint32_t pos = 0; pos < patch->n_modules; ++pos) {
    const uint32_t       m     = plan.order[pos];
    const HpPatchModule* pm    = &patch->modules[m];
    const uint32_t       first = plan.node_first[pos];
    for (uint32_t c = 0; c < g->nodes[first].copies; ++c) {
      Node* node       = &g->nodes[first + c];
      node->desc       = pm->desc;
      node->carry_from = -1;
      memcpy(node->id, pm->id, HP_ID_MAX);
      node->io.in        = node->in;
      node->io.param     = node->param_in;
      node->io.out_const = &node->out_const;
      node->io.time      = &g->time;
      node->io.host_in   = g->host_in;
      node->alone        = !plan.linked[m];
      node->io.rate      = rate;
      node->io.inv_rate  = 1.0f / rate;
      for (uint32_t p = 0; p < pm->desc->n_params; ++p) {
        node->params[p].target  = pm->value[p];
        node->params[p].current = pm->value[p];
      }
      for (uint32_t o = 0; o < pm->desc->n_outputs; ++o) {
        node->io.out[o] = buffer_of(buffers, &plan, m, o, c);
      }
      if (pm->desc->midi) {
        g->midi_nodes[n_midi++] = first + c;
      }
      node->io.looped = plan.looped[m];
      if (pm->desc->busy && node->per_voice) {
        g->busy_nodes[c * plan.n_busy + n_busy] = first + c;
      }
    }
    n_busy += pm->desc->busy && plan.per_voice[m];
    if (plan.looped[m]) {
      g->looped[g->n_looped++] = first;
    }
    g->by_id[pos] = first;
  }
  g->n_midi = n_midi;
  g->n_busy = n_busy;

  wire(g, patch, &plan);

  g->mono = true;
  for (uint32_t pos = 0; pos < g->n_nodes; ++pos) {
    for (uint32_t k = 0; k < g->nodes[pos].n_sinks; ++k) {
      g->mono &= g->nodes[pos].sinks[k].mask == 3u;
    }
  }

  /* Macros. */
  for (uint32_t i = 0; i < patch->n_macros; ++i) {
    const HpMacroMap* map  = &patch->macros[i];
    MacroSlot*        slot = &g->macros[g->n_macros++];
    slot->node             = plan.node_first[plan.position[map->module]];
    slot->param            = map->param;
    slot->macro            = map->macro;
    slot->lo               = map->lo;
    slot->hi               = map->hi;
    slot->exponential      = map->exponential;
  }

  sort_by_id(g->by_id, g->nodes, g->n_modules);
  fill_keys(g, &plan);

  /* State: kept modules adopt the base's (hp_graph_seal), new ones get a
     block of their own.  Everything starts fresh (kept modules until
     hp_graph_copy_kept). */
  size_t block_size = BLOCK_HEADER;
  for (uint32_t pos = 0; pos < g->n_nodes; ++pos) {
    Node* node       = &g->nodes[pos];
    node->carry_from = carry_from(base, g, node, keep_voices);
    if (node->carry_from >= 0) {
      g->correlated |=
        node->n_sinks > 0 || node->desc->outputs[0].kind == HP_SIGNAL_AUDIO;
    } else {
      block_size += state_slot(node->desc);
    }
  }
  StateBlock* const block =
    block_size > BLOCK_HEADER ? (StateBlock*)malloc(block_size) : NULL;
  if (block_size > BLOCK_HEADER && !block) {
    plan_free(&plan);
    free(g);
    hp_error(err,
             HP_ERR_NO_MEMORY,
             "out of memory for the state of %u "
             "modules (%zu bytes)",
             patch->n_modules,
             block_size);
    return NULL;
  }
  char* next = NULL; /* stays NULL only when every module is kept */
  if (block) {
    block->refs = 0;
    next        = (char*)block + BLOCK_HEADER;
  }
  for (uint32_t pos = 0; pos < g->n_nodes; ++pos) {
    Node* node = &g->nodes[pos];
    if (node->carry_from >= 0) {
      const Node* kept = &base->nodes[node->carry_from];
      node->home       = kept->home;
      node->block      = kept->block;
      node->io.state   = node->spare;
    } else {
      node->home     = next;
      node->block    = block;
      node->io.state = next;
      next += state_slot(node->desc);
    }
    ++node->block->refs;
    init_node(node, rate);
  }
  plan_free(&plan);
  if (!give_memory(g, base, err)) {
    hp_graph_free(g);
    return NULL;
  }
  return g;
}

/* The one intended data race: run() may write `src` while it is read.
   The caller's seqlock throws a torn copy away, and TSan is told not to
   look; byte by byte through volatile, so that no memcpy (which TSan
   intercepts) is called. */
#if defined(__GNUC__)
__attribute__((no_sanitize("thread")))
#endif
static void
copy_racy(void* const dst, const void* const src, const size_t size)
{
  const volatile unsigned char* s = (const volatile unsigned char*)src;
  unsigned char*                d = (unsigned char*)dst;
  for (size_t i = 0; i < size; ++i) {
    d[i] = s[i];
  }
}

void
hp_graph_copy_kept(HpGraph* const graph)
{
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    const Node* node = &graph->nodes[pos];
    if (node->carry_from >= 0) {
      copy_racy(node->spare, node->home, node->desc->state_size);
    }
  }
}

void
hp_graph_restart_kept(HpGraph* const graph)
{
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    if (graph->nodes[pos].carry_from >= 0) {
      init_node(&graph->nodes[pos], graph->rate);
    }
  }
}

void
hp_graph_seal(HpGraph* const graph)
{
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    Node* const node = &graph->nodes[pos];
    node->io.state   = node->home;
    if (node->mem_block && !node->mem_kept) {
      /* A new line starts empty at the swap, not with the warm-up's echo. */
      memset(node->io.mem, 0, node->io.mem_size * sizeof(float));
    }
    node->io.mem_access = HP_MEM_OWN;
  }
}

void
hp_graph_free(HpGraph* const graph)
{
  if (!graph) {
    return;
  }
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    StateBlock* const block = graph->nodes[pos].block;
    if (block && --block->refs == 0u) {
      free(block);
    }
    MemBlock* const mem = graph->nodes[pos].mem_block;
    if (mem && --mem->refs == 0u) {
      free(mem);
    }
  }
  free(graph);
}

bool
hp_graph_mono(const HpGraph* const graph)
{
  return graph->mono;
}

bool
hp_graph_correlated(const HpGraph* const graph)
{
  return graph->correlated;
}

uint32_t
hp_graph_module_count(const HpGraph* const graph)
{
  return graph->n_modules;
}

bool
hp_graph_per_voice(const HpGraph* const graph, const char* const id)
{
  const int n = hp_graph_find(graph, id);
  return n >= 0 && graph->nodes[n].per_voice;
}

bool
hp_graph_to_output(const HpGraph* const graph, const char* const id)
{
  const int n = hp_graph_find(graph, id);
  return n >= 0 && graph->nodes[n].n_sinks > 0u;
}

HpGraphTag*
hp_graph_tag(HpGraph* const graph)
{
  return &graph->tag;
}

int
hp_graph_find(const HpGraph* const graph, const char* const id)
{
  uint32_t lo = 0;
  uint32_t hi = graph->n_modules;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2u;
    const uint32_t n   = graph->by_id[mid];
    const int      c   = strcmp(graph->nodes[n].id, id);
    if (!c) {
      return (int)n;
    }
    if (c < 0) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return -1;
}

static void
set_slot(Node* const node, const uint32_t p, float value, const bool immediate)
{
  const HpParamDesc* pd = &node->desc->params[p];
  if (!(value == value) || isinf(value)) {
    return;
  }
  value = value < pd->min ? pd->min : value > pd->max ? pd->max : value;
  node->params[p].target = value;
  if (immediate || pd->kind != HP_PARAM_CONTINUOUS) {
    node->params[p].current = value;
  }
  node->settled = false;
}

/* Parameter p of node n to `value`, or to choice `choice` (>= 0). */
static bool
set_param(HpGraph* const graph,
          const uint32_t n,
          const uint32_t p,
          float          value,
          const int      choice,
          const bool     immediate)
{
  Node* const              node = &graph->nodes[n];
  const HpParamDesc* const pd   = &node->desc->params[p];
  if (choice >= 0) {
    value = (float)choice;
  }
  if (pd->kind == HP_PARAM_GATE && value == value) {
    value = value >= 0.5f ? 1.0f : 0.0f;
    node->params[p].fell |= value == 0.0f && node->params[p].current == 1.0f;
  }
  /* The worker answers a bad value with an error: it must not sound. */
  if (!(value >= pd->min && value <= pd->max) ||
      (pd->kind != HP_PARAM_CONTINUOUS && value != floorf(value))) {
    return false;
  }
  set_slot(node, p, value, immediate);
  return true;
}

bool
hp_graph_set(HpGraph* const    graph,
             const char* const module,
             const char* const param,
             const float       value,
             const char* const choice,
             const bool        immediate)
{
  /* One lookup, by the names' keys, whoever asks. */
  return hp_graph_set_key(graph,
                          hp_name_key(module),
                          hp_name_key(param),
                          choice && choice[0] ? hp_name_key(choice) : 0u,
                          value,
                          immediate);
}

static void
note_glide(HpGraph* const graph, const uint64_t module, const uint32_t param)
{
  const uint32_t n = graph->n_glides < N_GLIDES ? graph->n_glides : N_GLIDES;
  for (uint32_t i = 0; i < n; ++i) {
    if (graph->glides[i].module == module && graph->glides[i].param == param) {
      return;
    }
  }
  graph->glides[graph->n_glides++ % N_GLIDES] = (Glide){module, param};
}

bool
hp_graph_set_key(HpGraph* const graph,
                 const uint64_t module,
                 const uint64_t param,
                 const uint64_t choice,
                 const float    value,
                 const bool     immediate)
{
  const NodeKey* const node = node_find(graph, module);
  if (!node) {
    return false;
  }
  const NameKey* const first = graph->names + graph->types[node->type].first;
  const NameKey* const end   = first + graph->types[node->type].count;
  const NameKey*       k     = first;
  while (k < end && (k->choice >= 0 || k->key != param)) {
    ++k; /* names come before aliases: a name wins */
  }
  if (k == end) {
    return false;
  }
  const uint32_t p = k->param;
  int            c = -1;
  if (choice) {
    for (k = first; k < end && c < 0; ++k) {
      c = k->choice >= 0 && k->param == p && k->key == choice ? k->choice : -1;
    }
    if (c < 0) {
      return false;
    }
  }
  /* Every voice alike. */
  const uint32_t copies = graph->nodes[node->node].copies;
  graph->known_idle     = 0;
  for (uint32_t v = 0; v < copies; ++v) {
    if (!set_param(graph, node->node + v, p, value, c, immediate)) {
      return false;
    }
  }
  if (!immediate &&
      graph->nodes[node->node].desc->params[p].kind == HP_PARAM_CONTINUOUS) {
    note_glide(graph, module, p);
  }
  return true;
}

void
hp_graph_macro(HpGraph* const graph,
               const uint32_t macro,
               float          position,
               const bool     immediate)
{
  position = position < 0.0f ? 0.0f : position > 1.0f ? 1.0f : position;
  graph->known_idle = 0;
  for (uint32_t i = 0; i < graph->n_macros; ++i) {
    const MacroSlot* s = &graph->macros[i];
    if (s->macro == macro) {
      const float v = s->exponential ? s->lo * powf(s->hi / s->lo, position)
                                     : s->lo + (s->hi - s->lo) * position;
      for (uint32_t k = 0; k < graph->nodes[s->node].copies; ++k) {
        set_slot(&graph->nodes[s->node + k], s->param, v, immediate);
      }
    }
  }
}

/* With several voices, a voice found idle stays idle until an event
   (MIDI, a set, a macro, a reset) reaches the graph: its modules are not
   rendered, so nothing else can wake it.  So only the voices not known
   idle are asked, and a held note among 32 voices costs one question a
   chunk.  (One voice renders always: it is asked every time.) */
uint32_t
hp_graph_sounding(HpGraph* const graph)
{
  const uint32_t n    = graph->n_busy;
  uint32_t       mask = 0;
  for (uint32_t ask = graph->all_voices & ~graph->known_idle; ask;
       ask &= ask - 1u) {
    const uint32_t        v    = (uint32_t)__builtin_ctz(ask);
    const uint32_t* const node = graph->busy_nodes + v * n;
    uint32_t              k    = 0;
    while (k < n &&
           !graph->nodes[node[k]].desc->busy(graph->nodes[node[k]].io.state)) {
      ++k;
    }
    mask |= (uint32_t)(k < n) << v;
  }
  if (graph->skip_idle) {
    graph->known_idle = graph->all_voices & ~mask;
  }
  return mask;
}

uint32_t
hp_graph_voices(const HpGraph* const graph)
{
  return graph->n_voices;
}

void
hp_graph_ring_out(HpGraph* const graph)
{
  graph->ringing = true;
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    if (graph->nodes[pos].io.mem_access == HP_MEM_READ) {
      graph->nodes[pos].io.mem_access = HP_MEM_NONE;
    }
  }
}

/* The voice allocation's view of voice v: the head of its first midi
   node's state. */
static HpVoiceHead*
voice_head(const HpGraph* const g, const uint32_t v)
{
  return (HpVoiceHead*)g->nodes[g->midi_nodes[v]].io.state;
}

/* A message to the midi nodes of voice v (of every midi module). */
static void
voice_send(HpGraph* const       g,
           const uint32_t       v,
           const uint8_t* const msg,
           const uint32_t       size)
{
  for (uint32_t i = v; i < g->n_midi; i += g->n_voices) {
    const Node* const node = &g->nodes[g->midi_nodes[i]];
    node->desc->midi(node->io.state, msg, size);
  }
}

/* A note-on (DESIGN 3b): the voice that last had this key if it still
   sounds (it starts again), else a free voice, else the oldest released,
   else the oldest held.  The voice ends what it played (all notes off, to
   it alone) and takes the note. */
static void
voice_note_on(HpGraph* const g, const uint8_t* const msg, const uint32_t size)
{
  const uint32_t note     = msg[1] & 0x7Fu;
  const uint32_t sounding = hp_graph_sounding(g);
  uint32_t       order    = 0;
  int            key      = -1;
  int            free_v   = -1;
  int            released = -1;
  int            held     = -1;
  for (uint32_t v = 0; v < g->n_voices; ++v) {
    const HpVoiceHead* const h    = voice_head(g, v);
    const bool               busy = (sounding >> v) & 1u;
    order                         = h->on_order > order ? h->on_order : order;
    order                         = h->off_order > order ? h->off_order : order;
    if (busy && h->note == note && key < 0) {
      key = (int)v;
    } else if (!busy) {
      free_v = free_v < 0 ? (int)v : free_v;
    } else if (!h->held) {
      released = released < 0 ||
                     h->off_order < voice_head(g, (uint32_t)released)->off_order
                   ? (int)v
                   : released;
    } else {
      held = held < 0 || h->on_order < voice_head(g, (uint32_t)held)->on_order
               ? (int)v
               : held;
    }
  }
  const uint32_t v          = (uint32_t)(key >= 0        ? key
                                         : free_v >= 0   ? free_v
                                         : released >= 0 ? released
                                                         : held);
  const uint8_t  all_off[3] = {(uint8_t)(0xB0u | (msg[0] & 0x0Fu)), 123u, 0u};
  voice_send(g, v, all_off, sizeof(all_off));
  voice_send(g, v, msg, size);
  HpVoiceHead* const h = voice_head(g, v);
  h->note              = note;
  h->on_order          = order + 1u;
}

/* A note-off goes to the voice holding the key. */
static void
voice_note_off(HpGraph* const g, const uint8_t* const msg, const uint32_t size)
{
  const uint32_t note  = msg[1] & 0x7Fu;
  uint32_t       order = 0;
  for (uint32_t v = 0; v < g->n_voices; ++v) {
    const HpVoiceHead* const h = voice_head(g, v);
    order                      = h->on_order > order ? h->on_order : order;
    order                      = h->off_order > order ? h->off_order : order;
  }
  for (uint32_t v = 0; v < g->n_voices; ++v) {
    HpVoiceHead* const h = voice_head(g, v);
    if (h->held && h->note == note) {
      voice_send(g, v, msg, size);
      h->off_order = ++order;
    }
  }
}

/* midi() reads parameters (channel, glide, legato) that process() copies
   into the state, but an idle voice is not processed: it would follow
   those of the state it carried over from the patch before, or of before
   a live set.  So the midi nodes take their parameters as set before a
   message; one with a signal into a parameter is left to process(). */
static void
midi_params(const HpGraph* const g)
{
  for (uint32_t i = 0; i < g->n_midi; ++i) {
    const Node* const         node = &g->nodes[g->midi_nodes[i]];
    const HpModuleDesc* const desc = node->desc;
    HpParamIn                 param[HP_MAX_PARAMS];
    bool                      set = desc->take_params != NULL;
    for (uint32_t p = 0; p < desc->n_params && set; ++p) {
      set             = !node->params[p].count;
      param[p].signal = NULL;
      param[p].value  = node->params[p].target;
    }
    if (set) {
      desc->take_params(node->io.state, param);
    }
  }
}

void
hp_graph_midi(HpGraph* const       graph,
              const uint8_t* const msg,
              const uint32_t       size)
{
  if (!graph->n_midi || size < 2u || msg[0] < 0x80u || msg[0] >= 0xF0u) {
    return; /* no running status in LV2 events; system messages unused */
  }
  midi_params(graph);
  /* A note for any of the midi modules (each follows its own channel)
     takes a voice; voice 0's node of each module says which it follows. */
  const uint32_t status = msg[0] & 0xF0u;
  bool           ours   = false;
  for (uint32_t i = 0; i < graph->n_midi && !ours; i += graph->n_voices) {
    const uint32_t channel =
      ((const HpVoiceHead*)graph->nodes[graph->midi_nodes[i]].io.state)
        ->channel;
    ours = !channel || (msg[0] & 0x0Fu) + 1u == channel;
  }
  const bool poly = ours && graph->n_voices > 1u;
  if (poly && status == 0x90u && size >= 3u && (msg[2] & 0x7Fu)) {
    voice_note_on(graph, msg, size);
  } else if (poly && (status == 0x80u || (status == 0x90u && size >= 3u))) {
    voice_note_off(graph, msg, size);
  } else {
    /* One voice takes every note (each midi module keeps its own); every
       voice takes the rest: bend, pedal, pressure. */
    for (uint32_t i = 0; i < graph->n_midi; ++i) {
      Node* node = &graph->nodes[graph->midi_nodes[i]];
      node->desc->midi(node->io.state, msg, size);
    }
  }
  if (ours && status == 0xB0u && (msg[1] & 0x7Fu) == 120u) {
    /* All sound off: every voice silent at once. */
    for (uint32_t i = 0; i < graph->n_nodes; ++i) {
      if (graph->nodes[i].per_voice && !graph->nodes[i].desc->midi) {
        init_node(&graph->nodes[i], graph->rate);
      }
    }
  }
  graph->known_idle = 0; /* after the allocation, which asked */
}

void
hp_graph_reset(HpGraph* const graph)
{
  graph->known_idle = 0;
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    /* Memory is left as it is: modules write nothing but finite values
       there (module.h), and clearing seconds of lines has no bound a
       block can afford. */
    init_node(&graph->nodes[pos], graph->rate);
  }
}

/* Kept modules' parameters that `from` glides to where `graph` starts
   them glide on from where they are (O(N_GLIDES)). */
static void
carry_glides(HpGraph* const graph, const HpGraph* const from)
{
  const uint32_t n = from->n_glides < N_GLIDES ? from->n_glides : N_GLIDES;
  for (uint32_t i = 0; i < n; ++i) {
    const Glide          gl = from->glides[i];
    const NodeKey* const to = node_find(graph, gl.module);
    const NodeKey* const fr = node_find(from, gl.module);
    if (!to || !fr || graph->nodes[to->node].carry_from != (int32_t)fr->node) {
      continue; /* not kept (or, in a tail, its voices start fresh) */
    }
    const uint32_t copies = graph->nodes[to->node].copies;
    for (uint32_t v = 0; v < copies && v < from->nodes[fr->node].copies; ++v) {
      Node* const            node = &graph->nodes[to->node + v];
      ParamSlot* const       a    = &node->params[gl.param];
      const ParamSlot* const b    = &from->nodes[fr->node + v].params[gl.param];
      if (a->target == b->target && b->current != b->target) {
        a->current    = b->current;
        node->settled = false;
      }
    }
    note_glide(graph, gl.module, gl.param);
  }
}

void
hp_graph_take_over(HpGraph* const graph,
                   HpGraph* const from,
                   const bool     from_fades)
{
  /* What the warm-up found idle may sound now: ask again. */
  graph->known_idle = 0;
  if (from != graph->base) {
    /* The engine swaps in only graphs built against the playing one; were
       it ever otherwise, kept modules start fresh rather than share. */
    for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
      Node* node = &graph->nodes[pos];
      if (node->carry_from >= 0) {
        node->io.state = node->spare;
        init_node(node, graph->rate);
        if (node->mem_kept) {
          node->io.mem_access = HP_MEM_NONE; /* not ours to write */
        }
      }
    }
    return;
  }
  carry_glides(graph, from);
  if (!from_fades) {
    return; /* `from` stops here: the kept states are simply ours now */
  }
  for (uint32_t pos = 0; pos < graph->n_nodes; ++pos) {
    Node* node = &graph->nodes[pos];
    if (node->carry_from >= 0) {
      Node* const old = &from->nodes[node->carry_from];
      memcpy(node->spare, node->home, node->desc->state_size);
      old->io.state = node->spare;
      if (node->mem_kept) {
        /* This graph writes the line now; a tail does not even read it
           (hp_graph_ring_out), or its echoes would sound twice. */
        old->io.mem_access = from->ringing ? HP_MEM_NONE : HP_MEM_READ;
      }
    }
  }
}

static void mix_into(float* restrict dst,
                     const float* restrict src,
                     bool     first,
                     uint32_t n);

/* Sum `count` sources into `dst`. */
static void
sum_sources(float* const              dst,
            const float* const* const src,
            const uint32_t            count,
            const uint32_t            nframes)
{
  memcpy(dst, src[0], nframes * sizeof(float));
  for (uint32_t s = 1; s < count; ++s) {
    const float* x = src[s];
    for (uint32_t i = 0; i < nframes; ++i) {
      dst[i] += x[i];
    }
  }
}

/* Sum the sources of a slot that reads voices: the shared ones and the
   voices rendered in this chunk (silence when none is). */
static void
sum_voices(const HpGraph* const graph,
           float* const         dst,
           const uint32_t       first,
           const uint32_t       count,
           const uint32_t       nframes)
{
  bool wrote = false;
  for (uint32_t s = first; s < first + count; ++s) {
    const uint32_t v = graph->source_voice[s];
    if (v == NO_VOICE || (graph->active >> v & 1u)) {
      mix_into(dst, graph->sources[s], !wrote, nframes);
      wrote = true;
    }
  }
  if (!wrote) {
    memset(dst, 0, nframes * sizeof(float));
  }
}

/* The first source into an output side is copied, the rest added: a patch
   with one sink (the usual case) costs a copy, not a clear and an add. */
static void
mix_into(float* const restrict dst,
         const float* const restrict src,
         const bool     first,
         const uint32_t n)
{
  if (first) {
    memcpy(dst, src, n * sizeof(float));
  } else {
    for (uint32_t i = 0; i < n; ++i) {
      dst[i] += src[i];
    }
  }
}

/* True when source s holds one value over this chunk, by its producer's
   word. */
static inline bool
is_constant(const HpGraph* const graph, const uint32_t s)
{
  const ConstFlag* const f = &graph->source_const[s];
  return f->mask && (*f->mask & f->bit);
}

/* Point a node's inputs and parameters at this block's signals: sums of
   several sources and parameter glides are computed into scratch buffers.
   Settled nodes (neither) skip this until a set or a reset. */
static void
route(const HpGraph* const graph, Node* const node, const uint32_t nframes)
{
  const float         k       = graph->smooth_coef;
  const HpModuleDesc* desc    = node->desc;
  uint32_t            scratch = 0;
  node->settled               = !node->watch; /* constants change */
  node->io.in_const           = 0;
  for (uint32_t i = 0; i < desc->n_inputs; ++i) {
    const InputSlot* in = &node->inputs[i];
    if (in->voiced) {
      float* buf = graph->scratch[scratch++];
      sum_voices(graph, buf, in->first, in->count, nframes);
      node->in[i]   = buf;
      node->settled = false;
    } else if (in->count <= 1u) {
      node->in[i] = in->count ? graph->sources[in->first] : NULL;
      if (in->count && is_constant(graph, in->first)) {
        node->io.in_const |= 1u << i;
      }
    } else {
      float* buf = graph->scratch[scratch++];
      sum_sources(buf, graph->sources + in->first, in->count, nframes);
      node->in[i]   = buf;
      node->settled = false;
    }
  }
  for (uint32_t p = 0; p < desc->n_params; ++p) {
    ParamSlot* slot = &node->params[p];
    HpParamIn* pin  = &node->param_in[p];
    if (slot->voiced) {
      float* buf = graph->scratch[scratch++];
      sum_voices(graph, buf, slot->first, slot->count, nframes);
      pin->signal   = buf;
      node->settled = false;
    } else if (slot->count == 1u && is_constant(graph, slot->first)) {
      const HpParamDesc* const pd = &desc->params[p];
      const float              x  = graph->sources[slot->first][0];
      pin->signal                 = NULL;
      pin->value = x < pd->min ? pd->min : x > pd->max ? pd->max : x;
    } else if (slot->count == 1u) {
      pin->signal = graph->sources[slot->first];
    } else if (slot->count > 1u) {
      float* buf = graph->scratch[scratch++];
      sum_sources(buf, graph->sources + slot->first, slot->count, nframes);
      pin->signal   = buf;
      node->settled = false;
    } else if (slot->current != slot->target) {
      /* A live change: one-pole glide, snapped when close. */
      float*      buf    = graph->scratch[scratch++];
      float       cur    = slot->current;
      const float target = slot->target;
      for (uint32_t i = 0; i < nframes; ++i) {
        cur += (target - cur) * k;
        buf[i] = cur;
      }
      if (fabsf(target - cur) <= 1e-5f * fabsf(target) + 1e-9f) {
        cur = target;
      }
      slot->current = cur;
      pin->signal   = buf;
      node->settled = false; /* the next block sets the value it reached */
    } else if (slot->fell && slot->current == 1.0f) {
      /* A gate set off and on again before a frame was rendered: off for
         one frame, so an envelope sees the note end and starts again. */
      float* buf = graph->scratch[scratch++];
      buf[0]     = 0.0f;
      for (uint32_t i = 1; i < nframes; ++i) {
        buf[i] = 1.0f;
      }
      pin->signal   = buf;
      node->settled = false; /* the next block sets the value */
    } else {
      pin->signal = NULL;
      pin->value  = slot->current;
    }
    slot->fell = false;
  }
}

/* A voice that starts sounding again plays its parameters as set: a live
   set glides only while a voice renders, so an idle voice would start its
   next note from where its glide stood, the value before the set. */
static void
wake(Node* const node)
{
  for (uint32_t p = 0; p < node->desc->n_params; ++p) {
    node->params[p].current = node->params[p].target;
  }
  node->settled = false;
}

void
hp_graph_context(HpGraph* const      graph,
                 const HpTime* const time,
                 const float* const  in_l,
                 const float* const  in_r)
{
  graph->time       = *time;
  graph->host_in[0] = in_l;
  graph->host_in[1] = in_r;
}

/* The delayed outputs of the modules that close a loop, before anything
   of the chunk runs: what reads them may come first. */
static void
prefetch(HpGraph* const graph, const uint32_t nframes)
{
  for (uint32_t i = 0; i < graph->n_looped; ++i) {
    const uint32_t first  = graph->looped[i];
    const uint32_t voices = graph->nodes[first].per_voice ? graph->active : 1u;
    for (uint32_t left_v = voices; left_v; left_v &= left_v - 1u) {
      Node* const node = &graph->nodes[first + (uint32_t)__builtin_ctz(left_v)];
      node->desc->prefetch(&node->io, nframes);
    }
  }
}

void
hp_graph_process(HpGraph* const graph,
                 float* const   left,
                 float* const   right,
                 const uint32_t nframes)
{
  bool     wrote_l = false;
  bool     wrote_r = false;
  uint32_t woke    = 0;
  if (graph->skip_idle) {
    const uint32_t was = graph->active;
    graph->active      = hp_graph_sounding(graph);
    woke               = graph->active & ~was;
  }
  prefetch(graph, nframes);
  /* Module by module; of a per-voice module, the voices rendered. */
  for (uint32_t first = 0; first < graph->n_nodes;
       first += graph->nodes[first].copies) {
    const bool     per_voice = graph->nodes[first].per_voice;
    const uint32_t voices    = per_voice ? graph->active : 1u;
    for (uint32_t left_v = voices; left_v; left_v &= left_v - 1u) {
      const uint32_t v    = (uint32_t)__builtin_ctz(left_v);
      Node* const    node = &graph->nodes[first + v];
      if (per_voice && (woke >> v & 1u)) {
        wake(node);
      }
      if (node->alone && graph->ringing) {
        /* A tail's own drone: silent (the new patch plays its own). */
        for (uint32_t o = 0; o < node->desc->n_outputs; ++o) {
          if (node->io.out[o]) {
            memset(node->io.out[o], 0, nframes * sizeof(float));
          }
        }
        continue;
      }
      if (!node->settled) {
        route(graph, node, nframes);
      }
      node->out_const = 0;
      node->desc->process(&node->io, nframes);
      for (uint32_t s = 0; s < node->n_sinks; ++s) {
        const float* x = node->sinks[s].buf;
        if (node->sinks[s].mask & 1u) {
          mix_into(left, x, !wrote_l, nframes);
          wrote_l = true;
        }
        if ((node->sinks[s].mask & 2u) && !graph->mono) {
          mix_into(right, x, !wrote_r, nframes);
          wrote_r = true;
        }
      }
    }
  }
  if (!wrote_l) {
    memset(left, 0, nframes * sizeof(float));
  }
  if (graph->mono) { /* one copy, not a second mix of every sink */
    memcpy(right, left, nframes * sizeof(float));
  } else if (!wrote_r) {
    memset(right, 0, nframes * sizeof(float));
  }
}
