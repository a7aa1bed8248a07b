/*
  sord (0.16.14 in Debian 12, and upstream as of 0.16.22) leaks memory on
  some malformed documents: when a CURIE expands to a URI it refuses
  ("hp:" bound to <u)n:...>), sord_node_from_serd_node() drops the buffer
  it expanded the CURIE into.  It reports this (and its other refusals)
  through the world's error sink.  hotpatch cannot free what sord lost, so
  the doc and state fuzzers parse each input with sord first (leaks
  ignored): when sord reports an error of its own, hotpatch's reading of
  that input runs with leak checking off (crashes and UB still count);
  every other input is leak-checked in full.
*/

#ifndef HP_FUZZ_SORD_H
#define HP_FUZZ_SORD_H

#include <sanitizer/lsan_interface.h>
#include <serd/serd.h>
#include <sord/sord.h>

#include <stdbool.h>

static bool fz_sord_failed;

static inline SerdStatus
fz_sord_error(void* const handle, const SerdError* const error)
{
  (void)handle;
  (void)error;
  fz_sord_failed = true;
  return SERD_SUCCESS;
}

static inline SerdStatus
fz_serd_error(void* const handle, const SerdError* const error)
{
  (void)handle;
  (void)error;
  return SERD_SUCCESS;
}

/* True when sord, reading `text` as patchdoc.c does, reports an error of
   its own (not a Turtle syntax error): the paths where it leaks. */
static inline bool
fz_sord_leaks(const char* const text)
{
  __lsan_disable();
  SordWorld* world = sord_world_new();
  sord_world_set_error_sink(world, fz_sord_error, NULL);
  SordModel*     model = sord_new(world, SORD_SPO | SORD_OPS, false);
  const SerdNode base =
    serd_node_from_string(SERD_URI, (const uint8_t*)"urn:hotpatch:document");
  SerdEnv*    env    = serd_env_new(&base);
  SerdReader* reader = sord_new_reader(model, env, SERD_TURTLE, NULL);
  serd_reader_set_error_sink(reader, fz_serd_error, NULL);
  fz_sord_failed = false;
  serd_reader_read_string(reader, (const uint8_t*)text);
  serd_reader_free(reader);
  serd_env_free(env);
  sord_free(model);
  sord_world_free(world);
  __lsan_enable();
  return fz_sord_failed;
}

#endif /* HP_FUZZ_SORD_H */
