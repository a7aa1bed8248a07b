/*
  Debian's LV2 example plugins (package lv2-examples), which the host's own
  tests (test_host.c, test_host_protocol.c) run it against.
*/

#ifndef HP_HOST_EXAMPLES_H
#define HP_HOST_EXAMPLES_H

#include "check.h"
#include "host.h"

#define EG "http://lv2plug.in/plugins/"
#define SAMPLER_URI EG "eg-sampler"
#define SAMPLER_SAMPLE EG "eg-sampler#sample"
#define FIFTHS_URI EG "eg-fifths"
#define AMP_URI EG "eg-amp"
#define EG_DIR "/usr/lib/lv2/"

/* A host for example plugin `uri` of `bundle`; the test stops when it
   cannot load. */
static inline HpHost*
new_host(const char* uri, const char* bundle, HpHostConfig cfg)
{
  cfg.plugin_uri     = uri;
  cfg.bundle         = bundle;
  HpHost* const host = hp_host_new(&cfg);
  CHECK_MSG(host, "cannot load <%s>: %s", uri, hp_host_last_error());
  return host;
}

#endif /* HP_HOST_EXAMPLES_H */
