/*
  hotpatch's lilv host (see host.h): errors, accessors, ports, features,
  and hp_host_new/free.  The rest of the host is in the other
  tools/host/host_*.c files, sharing host_internal.h.

  Modelled on jalv 1.6.6: the same feature set, the worker's ring and
  semaphore, responses after run() then end_run(), default state loaded
  before activation.  Where jalv is known to be wrong (its worker ring is
  corrupted on overflow) this host does what jalv should: it refuses the
  whole message with LV2_WORKER_ERR_NO_SPACE.
*/

#include "host_internal.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/resize-port/resize-port.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HP_DEFAULT_RATE 48000.0
#define HP_DEFAULT_MAX_BLOCK 4096u
#define HP_DEFAULT_NOMINAL_BLOCK 256u
#define HP_DEFAULT_RING 4096u
#define HP_DEFAULT_CONTROL (256u * 1024u)
#define HP_DEFAULT_NOTIFY (1024u * 1024u)
#define HP_OTHER_ATOM_CAPACITY (64u * 1024u)

/* Errors */

static _Thread_local char last_error[2048];

const char*
hp_host_last_error(void)
{
  return last_error;
}

__attribute__((format(printf, 1, 2))) void
host_set_error(const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, args);
  va_end(args);
}

char*
host_copy_string(const char* str, size_t len)
{
  char* const copy = (char*)malloc(len + 1u);
  if (copy) {
    memcpy(copy, str, len);
    copy[len] = '\0';
  }
  return copy;
}

static uint64_t
rng_next(uint64_t* const state)
{
  // splitmix64: small, seedable with anything, good enough for test shapes
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z          = (z ^ (z >> 30u)) * 0xBF58476D1CE4E5B9ull;
  z          = (z ^ (z >> 27u)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31u);
}

uint32_t
host_rng_range(uint64_t* const state, const uint32_t lo, const uint32_t hi)
{
  if (hi <= lo) {
    return lo;
  }
  const uint64_t span = (uint64_t)hi - lo + 1u;
  return lo + (uint32_t)(rng_next(state) % span);
}

/* The host */

const HpURIs*
hp_host_uris(const HpHost* host)
{
  return &host->uris;
}

LV2_URID
hp_host_map(HpHost* host, const char* uri)
{
  return host->map.map(host->map.handle, uri);
}

const char*
hp_host_unmap(HpHost* host, LV2_URID urid)
{
  return host->unmap.unmap(host->unmap.handle, urid);
}

double
hp_host_sample_rate(const HpHost* host)
{
  return host->cfg.sample_rate;
}

uint32_t
hp_host_max_block(const HpHost* host)
{
  return host->cfg.max_block;
}

uint32_t
hp_host_random(HpHost* host, uint32_t lo, uint32_t hi)
{
  return host_rng_range(&host->rng, lo, hi);
}

/* Real-time marks: nothing here; tests/host/rtcheck.c replaces this */

__attribute__((weak)) bool
hp_rt_set_active(const bool active)
{
  (void)active;
  return false;
}

/* Ports */

Port*
host_port_by_symbol(const HpHost* const host, const char* const symbol)
{
  for (uint32_t i = 0u; i < host->n_ports; ++i) {
    if (!strcmp(host->ports[i].symbol, symbol)) {
      return &host->ports[i];
    }
  }
  return NULL;
}

bool
hp_host_has_port(const HpHost* host, const char* symbol)
{
  return host_port_by_symbol(host, symbol) != NULL;
}

int
hp_host_set_control(HpHost* host, const char* symbol, float value)
{
  Port* const port = host_port_by_symbol(host, symbol);
  if (!port || port->type != PORT_CONTROL || !port->is_input) {
    host_set_error("no input control port \"%s\"", symbol);
    return -1;
  }
  atomic_store_explicit(&port->pending_set, false, memory_order_relaxed);
  port->value = value;
  return 0;
}

float
hp_host_control_in(const HpHost* host, const char* symbol)
{
  const Port* const port = host_port_by_symbol(host, symbol);
  if (!port || port->type != PORT_CONTROL || !port->is_input) {
    return NAN;
  }
  return atomic_load_explicit(&port->pending_set, memory_order_acquire)
           ? atomic_load_explicit(&port->pending, memory_order_relaxed)
           : port->value;
}

float
hp_host_control_out(const HpHost* host, const char* symbol)
{
  const Port* const port = host_port_by_symbol(host, symbol);
  return (port && port->type == PORT_CONTROL && !port->is_input) ? port->value
                                                                 : NAN;
}

void
host_reset_sequence_in(LV2_Atom_Sequence* const seq, const LV2_URID type)
{
  seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
  seq->atom.type = type;
  seq->body.unit = 0u;
  seq->body.pad  = 0u;
}

// An output sequence starts as a Chunk whose size is the space available
void
host_reset_sequence_out(Port* const port, const LV2_URID chunk)
{
  LV2_Atom* const atom = (LV2_Atom*)port->buf;
  atom->size           = port->capacity - (uint32_t)sizeof(LV2_Atom);
  atom->type           = chunk;
}

static int
setup_ports(HpHost* const host)
{
  LilvWorld* const  world  = host->world;
  const LilvPlugin* plugin = host->plugin;
  const uint32_t    n      = lilv_plugin_get_num_ports(plugin);

  LilvNode* const lv2_InputPort   = lilv_new_uri(world, LV2_CORE__InputPort);
  LilvNode* const lv2_OutputPort  = lilv_new_uri(world, LV2_CORE__OutputPort);
  LilvNode* const lv2_AudioPort   = lilv_new_uri(world, LV2_CORE__AudioPort);
  LilvNode* const lv2_ControlPort = lilv_new_uri(world, LV2_CORE__ControlPort);
  LilvNode* const lv2_CVPort      = lilv_new_uri(world, LV2_CORE__CVPort);
  LilvNode* const atom_AtomPort   = lilv_new_uri(world, LV2_ATOM__AtomPort);
  LilvNode* const lv2_control     = lilv_new_uri(world, LV2_CORE__control);
  LilvNode* const lv2_designation = lilv_new_uri(world, LV2_CORE__designation);
  LilvNode* const rsz_minimumSize =
    lilv_new_uri(world, LV2_RESIZE_PORT__minimumSize);
  LilvNode* const lv2_optional =
    lilv_new_uri(world, LV2_CORE__connectionOptional);

  float* const mins = (float*)calloc(n ? n : 1u, sizeof(float));
  float* const maxs = (float*)calloc(n ? n : 1u, sizeof(float));
  float* const defs = (float*)calloc(n ? n : 1u, sizeof(float));
  host->ports       = (Port*)calloc(n ? n : 1u, sizeof(Port));
  host->n_ports     = n;
  int ret           = (mins && maxs && defs && host->ports) ? 0 : -1;
  if (!ret) {
    lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
  }

  Port*    control_designated = NULL;
  Port*    notify_designated  = NULL;
  Port*    notify_by_symbol   = NULL;
  Port*    first_atom_in      = NULL;
  Port*    first_atom_out     = NULL;
  Port*    audio_outs[2]      = {NULL, NULL};
  uint32_t n_audio_outs       = 0u;
  Port*    audio_ins[2]       = {NULL, NULL};
  uint32_t n_audio_ins        = 0u;

  const uint32_t audio_bytes = host->cfg.max_block * (uint32_t)sizeof(float);
  for (uint32_t i = 0u; !ret && i < n; ++i) {
    const LilvPort* const lport = lilv_plugin_get_port_by_index(plugin, i);
    Port* const           port  = &host->ports[i];
    port->index                 = i;
    port->symbol   = lilv_node_as_string(lilv_port_get_symbol(plugin, lport));
    port->is_input = lilv_port_is_a(plugin, lport, lv2_InputPort);
    if (!port->is_input && !lilv_port_is_a(plugin, lport, lv2_OutputPort)) {
      host_set_error(
        "port %u \"%s\" is neither input nor output", i, port->symbol);
      ret = -1;
      break;
    }

    LilvNodes* const designations =
      lilv_port_get_value(plugin, lport, lv2_designation);
    const bool is_control_designated =
      designations && lilv_nodes_contains(designations, lv2_control);
    lilv_nodes_free(designations);

    if (lilv_port_is_a(plugin, lport, lv2_ControlPort)) {
      port->type = PORT_CONTROL;
      if (port->is_input) {
        // The TTL default, else its minimum, else 0
        port->value = !isnan(defs[i])   ? defs[i]
                      : !isnan(mins[i]) ? mins[i]
                                        : 0.0f;
      }
      port->buf = &port->value;
    } else if (lilv_port_is_a(plugin, lport, lv2_AudioPort) ||
               lilv_port_is_a(plugin, lport, lv2_CVPort)) {
      port->type =
        lilv_port_is_a(plugin, lport, lv2_AudioPort) ? PORT_AUDIO : PORT_CV;
      port->capacity = audio_bytes;
      port->buf      = calloc(1u, audio_bytes);
      if (port->type == PORT_AUDIO && !port->is_input) {
        if (!strcmp(port->symbol, "out_l")) {
          host->out_l = port;
        } else if (!strcmp(port->symbol, "out_r")) {
          host->out_r = port;
        } else if (n_audio_outs < 2u) {
          audio_outs[n_audio_outs] = port;
        }
        ++n_audio_outs;
      } else if (port->type == PORT_AUDIO) {
        if (!strcmp(port->symbol, "in_l")) {
          host->in_l = port;
        } else if (!strcmp(port->symbol, "in_r")) {
          host->in_r = port;
        } else if (n_audio_ins < 2u) {
          audio_ins[n_audio_ins] = port;
        }
        ++n_audio_ins;
      }
    } else if (lilv_port_is_a(plugin, lport, atom_AtomPort)) {
      port->type = PORT_ATOM;
      if (port->is_input) {
        // jalv looks for the designation, Ardour for patch:Message support
        if (!control_designated &&
            (is_control_designated || !strcmp(port->symbol, "control"))) {
          control_designated = port;
        }
        first_atom_in = first_atom_in ? first_atom_in : port;
      } else {
        if (!strcmp(port->symbol, "notify")) {
          notify_by_symbol = port;
        } else if (is_control_designated && !notify_designated) {
          notify_designated = port;
        }
        first_atom_out = first_atom_out ? first_atom_out : port;
      }

      // The size the TTL asks for, raised to ours once roles are known
      LilvNode* const min_size = lilv_port_get(plugin, lport, rsz_minimumSize);
      if (min_size && lilv_node_is_int(min_size) &&
          lilv_node_as_int(min_size) > 0) {
        port->capacity = (uint32_t)lilv_node_as_int(min_size);
      }
      lilv_node_free(min_size);
    } else if (lilv_port_has_property(plugin, lport, lv2_optional)) {
      port->type = PORT_OTHER; // left unconnected, as the TTL allows
    } else {
      port->type     = PORT_OTHER;
      port->capacity = audio_bytes > 65536u ? audio_bytes : 65536u;
      port->buf      = calloc(1u, port->capacity);
    }

    if ((port->type != PORT_OTHER || port->capacity) && !port->buf &&
        port->type != PORT_ATOM) {
      host_set_error("out of memory for port \"%s\"", port->symbol);
      ret = -1;
    }
  }

  // The event ports: by designation or symbol, else the first of each kind
  if (!ret) {
    host->control = control_designated ? control_designated : first_atom_in;
    host->notify  = notify_by_symbol    ? notify_by_symbol
                    : notify_designated ? notify_designated
                                        : first_atom_out;
    for (uint32_t i = 0u; i < n; ++i) {
      Port* const    port = &host->ports[i];
      const uint32_t ours = port == host->control  ? host->cfg.control_capacity
                            : port == host->notify ? host->cfg.notify_capacity
                                                   : HP_OTHER_ATOM_CAPACITY;
      if (port->type == PORT_ATOM) {
        // A notify size the test chose is given as is, even below the
        // TTL's minimum: hosts may give less than a plugin asks
        const bool exact = port == host->notify && host->notify_exact;
        port->capacity = exact || ours > port->capacity ? ours : port->capacity;
        port->buf      = calloc(1u, port->capacity);
        if (!port->buf) {
          host_set_error("out of memory for port \"%s\"", port->symbol);
          ret = -1;
          break;
        }
        if (port->is_input) {
          host_reset_sequence_in((LV2_Atom_Sequence*)port->buf,
                                 host->uris.atom_Sequence);
        } else {
          host_reset_sequence_out(port, host->hu.atom_Chunk);
        }
      }
    }
  }

  if (!ret) {
    if (!host->out_l && !host->out_r) {
      host->out_l = audio_outs[0];
      host->out_r = audio_outs[1];
    }
    if (!host->in_l && !host->in_r) {
      host->in_l = audio_ins[0];
      host->in_r = audio_ins[1];
    }
    // In place: each input reads (and the plugin writes) its output's buffer
    Port* const pairs[2][2] = {{host->in_l, host->out_l},
                               {host->in_r, host->out_r}};
    for (uint32_t k = 0u; host->cfg.in_place && k < 2u; ++k) {
      if (pairs[k][0] && pairs[k][1]) {
        free(pairs[k][0]->buf);
        pairs[k][0]->buf    = pairs[k][1]->buf;
        pairs[k][0]->shared = true;
      }
    }
    host->control_seq =
      host->control ? (LV2_Atom_Sequence*)host->control->buf : NULL;
    host->notify_seq =
      host->notify ? (LV2_Atom_Sequence*)host->notify->buf : NULL;
    for (uint32_t i = 0u; i < n; ++i) {
      lilv_instance_connect_port(host->instance, i, host->ports[i].buf);
    }
  }

  free(mins);
  free(maxs);
  free(defs);
  lilv_node_free(lv2_InputPort);
  lilv_node_free(lv2_OutputPort);
  lilv_node_free(lv2_AudioPort);
  lilv_node_free(lv2_ControlPort);
  lilv_node_free(lv2_CVPort);
  lilv_node_free(atom_AtomPort);
  lilv_node_free(lv2_control);
  lilv_node_free(lv2_designation);
  lilv_node_free(rsz_minimumSize);
  lilv_node_free(lv2_optional);
  return ret;
}

/* Features */

static bool
feature_offered(const HpHost* const host, const char* const uri)
{
  // Plugin properties listed as features by some plugins; not host duties
  static const char* const harmless[] = {
    LV2_CORE__hardRTCapable, LV2_CORE__inPlaceBroken, LV2_CORE__isLive};
  for (size_t i = 0u; i < sizeof(harmless) / sizeof(harmless[0]); ++i) {
    if (!strcmp(uri, harmless[i])) {
      return true;
    }
  }
  for (const LV2_Feature* const* f = host->features; *f; ++f) {
    if (!strcmp((*f)->URI, uri)) {
      return true;
    }
  }
  return false;
}

/* Ardour's inline display */

/* idpy:queue_draw: the plugin's run() calls it; Ardour's only sets a flag. */
static void
count_queue_draw(void* const handle)
{
  atomic_fetch_add_explicit(
    &((HpHost*)handle)->queue_draws, 1u, memory_order_relaxed);
}

const HpDisplaySurface*
hp_host_render_display(HpHost* const host, const uint32_t w, const uint32_t h)
{
  if (!host->display || !host->display->render) {
    return NULL;
  }
  return host->display->render(lilv_instance_get_handle(host->instance), w, h);
}

uint64_t
hp_host_queue_draws(const HpHost* const host)
{
  return atomic_load_explicit(&host->queue_draws, memory_order_relaxed);
}

static void
init_features(HpHost* const host)
{
  const HpURIs* const u = &host->uris;

  host->map.handle   = &host->urimap;
  host->map.map      = host_urimap_map;
  host->unmap.handle = &host->urimap;
  host->unmap.unmap  = host_urimap_unmap;
  host->f_map        = (LV2_Feature){LV2_URID__map, &host->map};
  host->f_unmap      = (LV2_Feature){LV2_URID__unmap, &host->unmap};

  host->log.handle  = host;
  host->log.printf  = host_log_printf;
  host->log.vprintf = host_log_vprintf;
  host->f_log       = (LV2_Feature){LV2_LOG__log, &host->log};

  host->opt_rate          = (float)host->cfg.sample_rate;
  host->opt_min_block     = (int32_t)host->cfg.min_block;
  host->opt_max_block     = (int32_t)host->cfg.max_block;
  host->opt_nominal_block = (int32_t)host->cfg.nominal_block;
  // Both event buffers hold at least this much
  host->opt_sequence_size =
    (int32_t)(host->cfg.control_capacity < host->cfg.notify_capacity
                ? host->cfg.control_capacity
                : host->cfg.notify_capacity);

  const LV2_Options_Option options[6] = {
    {LV2_OPTIONS_INSTANCE,
     0u,
     u->param_sampleRate,
     sizeof(float),
     u->atom_Float,
     &host->opt_rate},
    {LV2_OPTIONS_INSTANCE,
     0u,
     host->hu.bufsz_minBlockLength,
     sizeof(int32_t),
     u->atom_Int,
     &host->opt_min_block},
    {LV2_OPTIONS_INSTANCE,
     0u,
     u->bufsz_maxBlockLength,
     sizeof(int32_t),
     u->atom_Int,
     &host->opt_max_block},
    {LV2_OPTIONS_INSTANCE,
     0u,
     u->bufsz_nominalBlockLength,
     sizeof(int32_t),
     u->atom_Int,
     &host->opt_nominal_block},
    {LV2_OPTIONS_INSTANCE,
     0u,
     host->hu.bufsz_sequenceSize,
     sizeof(int32_t),
     u->atom_Int,
     &host->opt_sequence_size},
    {LV2_OPTIONS_INSTANCE, 0u, 0u, 0u, 0u, NULL}};
  memcpy(host->options, options, sizeof(options));
  host->f_options = (LV2_Feature){LV2_OPTIONS__options, host->options};

  host->schedule.handle              = host;
  host->schedule.schedule_work       = host_schedule_work;
  host->state_schedule.handle        = host;
  host->state_schedule.schedule_work = host_schedule_work_state;
  host->f_schedule = (LV2_Feature){LV2_WORKER__schedule, &host->schedule};
  host->f_state_schedule =
    (LV2_Feature){LV2_WORKER__schedule, &host->state_schedule};

  host->f_default_state = (LV2_Feature){LV2_STATE__loadDefaultState, NULL};
  host->f_bounded       = (LV2_Feature){LV2_BUF_SIZE__boundedBlockLength, NULL};
  host->queue_draw.handle     = host;
  host->queue_draw.queue_draw = count_queue_draw;
  host->f_queue_draw = (LV2_Feature){HP_IDPY__queue_draw, &host->queue_draw};

  size_t n            = 0u;
  host->features[n++] = &host->f_map;
  host->features[n++] = &host->f_unmap;
  if (!host->cfg.no_log) {
    host->features[n++] = &host->f_log;
  }
  if (!host->cfg.no_options) {
    host->features[n++] = &host->f_options;
  }
  if (host->cfg.worker_mode != HP_WORKER_NONE) {
    host->features[n++] = &host->f_schedule;
  }
  host->features[n++] = &host->f_default_state;
  host->features[n++] = &host->f_bounded;
  if (host->cfg.inline_display) {
    host->features[n++] = &host->f_queue_draw;
  }
  host->features[n] = NULL;
}

/* Setup and teardown */

static int
load_world(HpHost* const host)
{
  host->world = lilv_world_new();
  if (!host->world) {
    host_set_error("lilv_world_new() failed");
    return -1;
  }

  const char* from = host->bundle;
  if (host->bundle) {
    char   path[4096];
    size_t len = strlen(host->bundle);
    while (len > 1u && host->bundle[len - 1u] == '/') {
      --len;
    }
    snprintf(path, sizeof(path), "%.*s/manifest.ttl", (int)len, host->bundle);
    struct stat st;
    if (stat(path, &st)) {
      host_set_error("no LV2 bundle at %s (%s missing): build the plugin first "
                     "(./waf build) or set HP_BUNDLE",
                     host->bundle,
                     path);
      return -1;
    }

    // A bundle URI must end with a slash
    snprintf(path, sizeof(path), "%.*s/", (int)len, host->bundle);
    LilvNode* const uri = lilv_new_file_uri(host->world, NULL, path);
    lilv_world_load_bundle(host->world, uri);
    lilv_node_free(uri);
  } else {
    lilv_world_load_all(host->world);
    from = getenv("LV2_PATH");
    from = from ? from : "the default LV2_PATH";
  }

  const LilvPlugins* const plugins = lilv_world_get_all_plugins(host->world);
  LilvNode* const          uri = lilv_new_uri(host->world, host->plugin_uri);
  host->plugin                 = lilv_plugins_get_by_uri(plugins, uri);
  lilv_node_free(uri);
  if (!host->plugin) {
    char found[1024] = "";
    LILV_FOREACH(plugins, i, plugins)
    {
      const char* const other =
        lilv_node_as_uri(lilv_plugin_get_uri(lilv_plugins_get(plugins, i)));
      const size_t len = strlen(found);
      snprintf(
        found + len, sizeof(found) - len, "%s<%s>", len ? ", " : "", other);
    }
    host_set_error("plugin <%s> not found in %s (found: %s)",
                   host->plugin_uri,
                   from,
                   found[0] ? found : "no plugins");
    return -1;
  }
  return 0;
}

static void
check_required_features(HpHost* const host)
{
  LilvNodes* const required = lilv_plugin_get_required_features(host->plugin);
  host->missing_features[0] = '\0';
  LILV_FOREACH(nodes, i, required)
  {
    const char* const uri = lilv_node_as_uri(lilv_nodes_get(required, i));
    if (!feature_offered(host, uri)) {
      const size_t len = strlen(host->missing_features);
      snprintf(host->missing_features + len,
               sizeof(host->missing_features) - len,
               "%s<%s>",
               len ? ", " : "",
               uri);
    }
  }
  lilv_nodes_free(required);
}

HpHost*
hp_host_open(const HpHostConfig* cfg)
{
  HpHost* const host = hp_host_new(cfg);
  if (!host) {
    fprintf(stderr, "instantiate: %s\n", hp_host_last_error());
    exit(1);
  }
  return host;
}

HpHost*
hp_host_new(const HpHostConfig* cfg)
{
  last_error[0]      = '\0';
  HpHost* const host = (HpHost*)calloc(1u, sizeof(HpHost));
  if (!host) {
    host_set_error("out of memory");
    return NULL;
  }

  // Defaults for every zero field
  static const HpHostConfig defaults = {0};
  host->cfg                          = cfg ? *cfg : defaults;
  HpHostConfig* const c              = &host->cfg;
  c->plugin_uri                      = NULL; // owned copies below
  c->bundle                          = NULL;
  c->sample_rate = c->sample_rate > 0.0 ? c->sample_rate : HP_DEFAULT_RATE;
  c->max_block   = c->max_block ? c->max_block : HP_DEFAULT_MAX_BLOCK;
  c->min_block   = c->min_block ? c->min_block : 1u;
  c->min_block   = c->min_block < c->max_block ? c->min_block : c->max_block;
  c->nominal_block =
    c->nominal_block ? c->nominal_block : HP_DEFAULT_NOMINAL_BLOCK;
  c->nominal_block =
    c->nominal_block < c->max_block ? c->nominal_block : c->max_block;
  c->nominal_block =
    c->nominal_block > c->min_block ? c->nominal_block : c->min_block;
  c->seed = c->seed ? c->seed : 1u;
  c->worker_ring_size =
    c->worker_ring_size ? c->worker_ring_size : HP_DEFAULT_RING;
  c->control_capacity =
    c->control_capacity ? c->control_capacity : HP_DEFAULT_CONTROL;
  host->notify_exact = c->notify_capacity != 0u;
  c->notify_capacity =
    c->notify_capacity ? c->notify_capacity : HP_DEFAULT_NOTIFY;
  c->control_capacity = c->control_capacity < 64u ? 64u : c->control_capacity;
  c->notify_capacity  = c->notify_capacity < 64u ? 64u : c->notify_capacity;
  host->rng           = c->seed;
  host->worker_rng    = c->seed ^ 0x5DEECE66Dull;
  host->verbose       = getenv("HP_HOST_VERBOSE") != NULL;

  const char* const uri =
    (cfg && cfg->plugin_uri) ? cfg->plugin_uri : HP_PLUGIN_URI;
  const char* bundle = cfg ? cfg->bundle : NULL;
  if (!bundle && (!strcmp(uri, HP_PLUGIN_URI) || !strcmp(uri, HP_FX_URI))) {
    bundle = getenv("HP_BUNDLE");
  }
  host->plugin_uri = host_copy_string(uri, strlen(uri));
  host->bundle     = bundle ? host_copy_string(bundle, strlen(bundle)) : NULL;

  pthread_mutex_init(&host->urimap.lock, NULL);
  pthread_mutex_init(&host->log_lock, NULL);
  pthread_mutex_init(&host->work_lock, NULL);
  pthread_mutex_init(&host->idle_lock, NULL);
  pthread_condattr_t cond_attr;
  pthread_condattr_init(&cond_attr);
  pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
  pthread_cond_init(&host->idle_cond, &cond_attr);
  pthread_condattr_destroy(&cond_attr);
  atomic_init(&host->exit, false);
  atomic_init(&host->pending, 0u);

  host->map.handle = &host->urimap;
  host->map.map    = host_urimap_map;
  hp_map_uris(&host->map, &host->uris);
  host->hu.atom_Chunk    = host_urimap_map(&host->urimap, LV2_ATOM__Chunk);
  host->hu.atom_Resource = host_urimap_map(&host->urimap, LV2_ATOM__Resource);
  host->hu.atom_URI      = host_urimap_map(&host->urimap, LV2_ATOM__URI);
  host->hu.bufsz_minBlockLength =
    host_urimap_map(&host->urimap, LV2_BUF_SIZE__minBlockLength);
  host->hu.bufsz_sequenceSize =
    host_urimap_map(&host->urimap, LV2_BUF_SIZE__sequenceSize);
  host->hu.log_Error   = host_urimap_map(&host->urimap, LV2_LOG__Error);
  host->hu.log_Note    = host_urimap_map(&host->urimap, LV2_LOG__Note);
  host->hu.log_Trace   = host_urimap_map(&host->urimap, LV2_LOG__Trace);
  host->hu.log_Warning = host_urimap_map(&host->urimap, LV2_LOG__Warning);
  init_features(host);
  lv2_atom_forge_init(&host->proto_forge, &host->map);
  lv2_atom_forge_init(&host->raw_forge, &host->map);

  if (!host->plugin_uri || (bundle && !host->bundle)) {
    host_set_error("out of memory");
    hp_host_free(host);
    return NULL;
  }
  if (load_world(host) || host_start_worker(host)) {
    hp_host_free(host);
    return NULL;
  }

  check_required_features(host);
  if (host->missing_features[0] && c->strict_features) {
    host_set_error("plugin <%s> requires %s, which this host does not offer",
                   host->plugin_uri,
                   host->missing_features);
    hp_host_free(host);
    return NULL;
  }

  host->instance =
    lilv_plugin_instantiate(host->plugin, c->sample_rate, host->features);
  if (!host->instance) {
    char problem[512];
    host_last_logged_problem(host, problem, sizeof(problem));
    host_set_error("instantiating <%s> failed%s%s%s%s",
                   host->plugin_uri,
                   problem[0] ? "; plugin says: " : "",
                   problem,
                   host->missing_features[0] ? "; required but not offered: "
                                             : "",
                   host->missing_features);
    hp_host_free(host);
    return NULL;
  }

  host->display = (const HpDisplayInterface*)lilv_instance_get_extension_data(
    host->instance, HP_IDPY__interface);
  if (c->worker_mode != HP_WORKER_NONE) {
    host->iface = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
      host->instance, LV2_WORKER__interface);
    if (host->iface && (!host->iface->work || !host->iface->work_response)) {
      host->iface = NULL;
    }
  }
  if (host->iface && c->worker_mode == HP_WORKER_THREADED) {
    if (pthread_create(&host->thread, NULL, host_worker_main, host)) {
      host_set_error("pthread_create() failed for the worker");
      hp_host_free(host);
      return NULL;
    }
    host->thread_started = true;
  }

  if (setup_ports(host)) {
    hp_host_free(host);
    return NULL;
  }

  // state:loadDefaultState: the plugin's state:state, as jalv does
  if (!c->no_default_state) {
    LilvState* const state = lilv_state_new_from_world(
      host->world, &host->map, lilv_plugin_get_uri(host->plugin));
    if (state) {
      host_restore_state(host, state, 0u);
      lilv_state_free(state);
    }
  }

  lilv_instance_activate(host->instance);
  host->activated = true;
  return host;
}

void
host_free_event(HpHostEvent* const ev)
{
  free(ev->message);
  free(ev->property);
  free(ev->value_string);
  free(ev->atom);
}

void
hp_host_free(HpHost* host)
{
  if (!host) {
    return;
  }

  if (host->activated) {
    lilv_instance_deactivate(host->instance);
  }

  // Let the worker finish what is queued (the plugin may free things there)
  if (host->thread_started) {
    atomic_store(&host->exit, true);
    sem_post(&host->sem);
    pthread_join(host->thread, NULL);
  }

  if (host->instance) {
    lilv_instance_free(host->instance);
  }
  if (host->saved) {
    lilv_state_free(host->saved);
  }

  for (uint32_t i = 0u; i < host->n_ports; ++i) {
    if (host->ports[i].buf != &host->ports[i].value && !host->ports[i].shared) {
      free(host->ports[i].buf);
    }
  }
  free(host->ports);

  for (size_t i = host->q_head; i < host->q_len; ++i) {
    free(host->queue[i].body);
  }
  free(host->queue);
  for (size_t i = 0u; i < host->n_events; ++i) {
    host_free_event(&host->events[i]);
  }
  free(host->events);
  for (size_t i = 0u; i < host->n_log; ++i) {
    free(host->log_entries[i].text);
  }
  free(host->log_entries);

  free(host->proto_sink.buf);
  free(host->raw_sink.buf);
  free(host->input_l);
  free(host->input_r);
  free(host->rec_l);
  free(host->rec_r);
  free(host->blocks);
  free(host->requests.buf);
  free(host->responses.buf);
  free(host->state_responses.buf);
  free(host->work_buf);
  free(host->response_buf);
  if (host->sem_ready) {
    sem_destroy(&host->sem);
  }

  if (host->world) {
    lilv_world_free(host->world);
  }
  host_urimap_free(&host->urimap);
  pthread_mutex_destroy(&host->log_lock);
  pthread_mutex_destroy(&host->work_lock);
  pthread_mutex_destroy(&host->idle_lock);
  pthread_cond_destroy(&host->idle_cond);
  free(host->plugin_uri);
  free(host->bundle);
  free(host);
}
