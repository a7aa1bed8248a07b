/*
  hotpatch's lilv host: state (lilv_state_*) saved and restored, presets
  loaded and listed (see host_internal.h).
*/

#include "host_internal.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/presets/presets.h>
#include <lv2/state/state.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* State (lilv_state_*) */

static const void*
get_port_value(const char* symbol,
               void*       user_data,
               uint32_t*   size,
               uint32_t*   type)
{
  HpHost* const host = (HpHost*)user_data;
  Port* const   port = host_port_by_symbol(host, symbol);
  if (port && port->type == PORT_CONTROL && port->is_input) {
    *size = sizeof(float);
    *type = host->uris.atom_Float;
    return &port->value;
  }
  *size = 0u;
  *type = 0u;
  return NULL;
}

static void
set_port_value(const char* symbol,
               void*       user_data,
               const void* value,
               uint32_t    size,
               uint32_t    type)
{
  HpHost* const host = (HpHost*)user_data;
  Port* const   port = host_port_by_symbol(host, symbol);
  if (!port || port->type != PORT_CONTROL || !port->is_input) {
    return;
  }

  const HpURIs* const u = &host->uris;
  float               v = 0.0f;
  if (type == u->atom_Float && size == sizeof(float)) {
    memcpy(&v, value, sizeof(float));
  } else if (type == u->atom_Double && size == sizeof(double)) {
    double d = 0.0;
    memcpy(&d, value, sizeof(d));
    v = (float)d;
  } else if ((type == u->atom_Int || type == u->atom_Bool) &&
             size == sizeof(int32_t)) {
    int32_t i = 0;
    memcpy(&i, value, sizeof(i));
    v = (float)i;
  } else {
    return;
  }
  atomic_store_explicit(&port->pending, v, memory_order_relaxed);
  atomic_store_explicit(&port->pending_set, true, memory_order_release);
}

int
host_restore_state(HpHost* const          host,
                   const LilvState* const state,
                   unsigned               flags)
{
  const bool with_worker =
    !(flags & HP_RESTORE_NO_WORKER) && host->cfg.worker_mode != HP_WORKER_NONE;

  const LV2_Feature* features[7];
  size_t             n = 0u;
  features[n++]        = &host->f_map;
  features[n++]        = &host->f_unmap;
  if (!host->cfg.no_log) {
    features[n++] = &host->f_log;
  }
  if (!host->cfg.no_options) {
    features[n++] = &host->f_options;
  }
  if (with_worker) {
    features[n++] = &host->f_state_schedule;
  }
  features[n] = NULL;

  // restore() is instantiation-class: keep work() out while it runs
  pthread_mutex_lock(&host->work_lock);
  host->restoring = true;
  lilv_state_restore(state, host->instance, set_port_value, host, 0u, features);
  host->restoring = false;
  pthread_mutex_unlock(&host->work_lock);
  return 0;
}

int
hp_host_save_state(HpHost* host, const char* dir)
{
  const LV2_Feature* features[4] = {&host->f_map, &host->f_unmap, NULL, NULL};
  if (!host->cfg.no_log) {
    features[2] = &host->f_log;
  }

  LilvState* const state =
    lilv_state_new_from_instance(host->plugin,
                                 host->instance,
                                 &host->map,
                                 NULL,
                                 dir,
                                 dir,
                                 dir,
                                 get_port_value,
                                 host,
                                 LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE,
                                 features);
  if (!state) {
    host_set_error("lilv_state_new_from_instance() failed");
    return -1;
  }

  if (lilv_state_save(
        host->world, &host->map, &host->unmap, state, NULL, dir, "state.ttl")) {
    host_set_error("lilv_state_save() to %s failed", dir);
    lilv_state_free(state);
    return -1;
  }

  if (host->saved) {
    lilv_state_free(host->saved);
  }
  host->saved = state;
  return 0;
}

int
hp_host_restore_state(HpHost* host, unsigned flags)
{
  if (!host->saved) {
    host_set_error("no saved state to restore");
    return -1;
  }
  return host_restore_state(host, host->saved, flags);
}

int
hp_host_restore_state_file(HpHost* host, const char* path, unsigned flags)
{
  LilvState* const state =
    lilv_state_new_from_file(host->world, &host->map, NULL, path);
  if (!state) {
    host_set_error("cannot load state from %s", path);
    return -1;
  }
  const int ret = host_restore_state(host, state, flags);
  lilv_state_free(state);
  return ret;
}

int
hp_host_load_preset(HpHost* host, const char* preset_uri, unsigned flags)
{
  LilvNode* const preset = lilv_new_uri(host->world, preset_uri);
  lilv_world_load_resource(host->world, preset);
  LilvState* const state =
    lilv_state_new_from_world(host->world, &host->map, preset);
  lilv_node_free(preset);
  if (!state) {
    host_set_error("preset <%s> not found", preset_uri);
    return -1;
  }
  const int ret = host_restore_state(host, state, flags);
  lilv_state_free(state);
  return ret;
}

size_t
hp_host_list_presets(HpHost* host,
                     void (*func)(const char* uri,
                                  const char* label,
                                  void*       data),
                     void* data)
{
  LilvNode* const pset_Preset = lilv_new_uri(host->world, LV2_PRESETS__Preset);
  LilvNode* const rdfs_label =
    lilv_new_uri(host->world, "http://www.w3.org/2000/01/rdf-schema#label");
  LilvNodes* const presets = lilv_plugin_get_related(host->plugin, pset_Preset);
  size_t           n       = 0u;
  LILV_FOREACH(nodes, i, presets)
  {
    const LilvNode* const preset = lilv_nodes_get(presets, i);
    lilv_world_load_resource(host->world, preset);
    LilvNode* const label =
      lilv_world_get(host->world, preset, rdfs_label, NULL);
    if (func) {
      func(lilv_node_as_uri(preset),
           label ? lilv_node_as_string(label) : "",
           data);
    }
    lilv_node_free(label);
    ++n;
  }
  lilv_nodes_free(presets);
  lilv_node_free(rdfs_label);
  lilv_node_free(pset_Preset);
  return n;
}

char*
hp_host_state_to_string(HpHost* host)
{
  if (!host->saved) {
    host_set_error("no saved state");
    return NULL;
  }
  char* const str  = lilv_state_to_string(host->world,
                                         &host->map,
                                         &host->unmap,
                                         host->saved,
                                         "urn:hotpatch:test-state",
                                         NULL);
  char* const copy = str ? host_copy_string(str, strlen(str)) : NULL;
  lilv_free(str);
  return copy;
}
