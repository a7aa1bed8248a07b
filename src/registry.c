/*
  The module registry: every module type listed in modules.def, in its
  order, and lookups by name or alias (exact, case-sensitive).
*/

#include "module.h"

#include <string.h>

#define HP_MODULE(name) extern const HpModuleDesc hp_mod_##name;
#include "modules.def"
#undef HP_MODULE

const HpModuleDesc* const hp_module_types[] = {
#define HP_MODULE(name) &hp_mod_##name,
#include "modules.def"
#undef HP_MODULE
  NULL,
};

static bool
name_matches(const char* const        name,
             const char* const        canonical,
             const char* const* const aliases)
{
  if (!strcmp(name, canonical)) {
    return true;
  }
  for (const char* const* a = aliases; a && *a; ++a) {
    if (!strcmp(name, *a)) {
      return true;
    }
  }
  return false;
}

const HpModuleDesc*
hp_module_find(const char* const name)
{
  if (!name) {
    return NULL;
  }
  for (const HpModuleDesc* const* d = hp_module_types; *d; ++d) {
    if (name_matches(name, (*d)->type, (*d)->aliases)) {
      return *d;
    }
  }
  return NULL;
}

int
hp_module_find_param(const HpModuleDesc* const desc, const char* const name)
{
  if (!desc || !name) {
    return -1;
  }
  /* Names first, so an alias can never shadow another parameter's name. */
  for (uint32_t i = 0; i < desc->n_params; ++i) {
    if (!strcmp(name, desc->params[i].name)) {
      return (int)i;
    }
  }
  for (uint32_t i = 0; i < desc->n_params; ++i) {
    if (name_matches(name, desc->params[i].name, desc->params[i].aliases)) {
      return (int)i;
    }
  }
  return -1;
}

static int
find_port(const HpPortDesc* const ports,
          const uint32_t          n,
          const char* const       name)
{
  if (!ports || !name) {
    return -1;
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (!strcmp(name, ports[i].name)) {
      return (int)i;
    }
  }
  return -1;
}

int
hp_module_find_input(const HpModuleDesc* const desc, const char* const name)
{
  return desc ? find_port(desc->inputs, desc->n_inputs, name) : -1;
}

int
hp_module_find_output(const HpModuleDesc* const desc, const char* const name)
{
  return desc ? find_port(desc->outputs, desc->n_outputs, name) : -1;
}

int
hp_param_find_choice(const HpParamDesc* const param, const char* const name)
{
  if (!param || !name || !param->choices) {
    return -1;
  }
  for (int i = 0; param->choices[i]; ++i) {
    if (!strcmp(name, param->choices[i])) {
      return i;
    }
  }
  return -1;
}
