/*
  libFuzzer target: state restore through the plugin's own LV2 descriptor
  (plugin/hotpatch.c linked in, no dlopen), as a host restores a session
  or a preset: instantiate, restore, run one block, clean up.

  Input: one mode byte, then the value of hp:patchBank.  The mode (low 2
  bits) says how the host hands it over:
    0  an atom:String of the bytes, without a terminating NUL;
    1  an atom:String with the NUL (as save() stores it);
    2  the wrong type (bits 2-3: atom:Path, atom:Chunk, type 0) or no
       hp:patchBank at all (3);
    3  as 1, plus hp:patchFile (a path that does not exist) and
       hp:liveReload (bit 2), as a session with a patch file holds.
  Features: urid:map, log (quiet), work:schedule running work() at once
  (a host exporting).  Control ports hold their defaults from
  ttl/plugin.ttl.in; run() renders 64 frames, which must be finite.  The
  instrument's state is the effect's too (the same code restores both).
  Leaks are checked except on inputs where sord itself leaks (fuzz_sord.h).
*/

#include "fuzz_common.h"
#include "fuzz_sord.h"
#include "uris.h"

#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/state/state.h>
#include <lv2/worker/worker.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

/* The plugin's entry point, linked in. */
const LV2_Descriptor* lv2_descriptor(uint32_t index);

static FzUridMap    urid_map;
static LV2_URID_Map map = {&urid_map, fz_map_uri};
static HpURIs       uris;

/* Logging: quiet, but count messages (a restore error is logged). */
static unsigned n_logged;

static int
log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char* fmt, va_list ap)
{
  (void)handle;
  (void)type;
  (void)fmt;
  (void)ap;
  ++n_logged;
  return 0;
}

static int
log_printf(LV2_Log_Handle handle, LV2_URID type, const char* fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  const int r = log_vprintf(handle, type, fmt, ap);
  va_end(ap);
  return r;
}

static LV2_Log_Log log_feature = {NULL, log_printf, log_vprintf};

/* work:schedule that runs work() inside schedule_work(), like Ardour's
   export; the plugin never responds, but a respond function is there. */
typedef struct {
  const LV2_Worker_Interface* worker;
  LV2_Handle                  instance;
} Worker;

static Worker worker;

static LV2_Worker_Status
respond(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  (void)handle;
  (void)size;
  (void)data;
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status
schedule_work(LV2_Worker_Schedule_Handle handle,
              uint32_t                   size,
              const void*                data)
{
  Worker* w = (Worker*)handle;
  return w->worker->work(w->instance, respond, NULL, size, data);
}

static LV2_Worker_Schedule schedule = {&worker, schedule_work};

static const LV2_Feature map_feature       = {LV2_URID__map, &map};
static const LV2_Feature log_feature_f     = {LV2_LOG__log, &log_feature};
static const LV2_Feature schedule_feature  = {LV2_WORKER__schedule, &schedule};
static const LV2_Feature* const features[] = {&map_feature,
                                              &log_feature_f,
                                              &schedule_feature,
                                              NULL};

/* What retrieve() hands over for this input. */
typedef struct {
  const void* bank;
  size_t      bank_size;
  uint32_t    bank_type;
  bool        with_file;
  int32_t     live_reload;
} Stored;

static const char missing_file[] = "/nonexistent/hotpatch-fuzz/patch.ttl";

static const void*
retrieve(LV2_State_Handle handle,
         uint32_t         key,
         size_t*          size,
         uint32_t*        type,
         uint32_t*        flags)
{
  const Stored* s = (const Stored*)handle;
  *flags          = LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE;
  if (key == uris.hp_patchBank && s->bank) {
    *size = s->bank_size;
    *type = s->bank_type;
    return s->bank;
  }
  if (key == uris.hp_patchFile && s->with_file) {
    *size = sizeof(missing_file);
    *type = uris.atom_Path;
    return missing_file;
  }
  if (key == uris.hp_liveReload && s->with_file) {
    *size = sizeof(s->live_reload);
    *type = uris.atom_Bool;
    return &s->live_reload;
  }
  return NULL;
}

int
LLVMFuzzerInitialize(int* const argc, char*** const argv)
{
  (void)argc;
  (void)argv;
  hp_map_uris(&map, &uris);
  return 0;
}

/* Port buffers. */
#define NOTIFY_SIZE 65536u

typedef struct {
  LV2_Atom_Sequence control;
  float             out_l[FZ_BLOCK];
  float             out_r[FZ_BLOCK];
  float             controls[HP_N_PORTS];
  union {
    LV2_Atom_Sequence seq;
    uint8_t           bytes[NOTIFY_SIZE];
  } notify;
} Ports;

static Ports ports;

int
LLVMFuzzerTestOneInput(const uint8_t* const data, const size_t size)
{
  if (size < 1 || size > (1u << 20u)) {
    return -1;
  }
  const LV2_Descriptor* const desc = lv2_descriptor(0);
  if (!desc || strcmp(desc->URI, HP_PLUGIN_URI) || !lv2_descriptor(1) ||
      strcmp(lv2_descriptor(1)->URI, HP_FX_URI) || lv2_descriptor(2)) {
    fz_fail("lv2_descriptor: not the instrument and the effect");
  }
  worker.worker =
    (const LV2_Worker_Interface*)desc->extension_data(LV2_WORKER__interface);
  const LV2_State_Interface* const state =
    (const LV2_State_Interface*)desc->extension_data(LV2_STATE__interface);
  if (!worker.worker || !state) {
    fz_fail("extension_data: no worker or state interface");
  }

  const LV2_Handle instance =
    desc->instantiate(desc, 48000.0, "/nonexistent/hotpatch.lv2/", features);
  if (!instance) {
    fz_fail("instantiate failed");
  }
  worker.instance = instance;

  /* Ports: an empty control sequence, an empty notify buffer, controls at
     their defaults (ttl/plugin.ttl.in). */
  memset(&ports, 0, sizeof(ports));
  ports.control.atom.type           = uris.atom_Sequence;
  ports.control.atom.size           = sizeof(LV2_Atom_Sequence_Body);
  ports.controls[HP_PORT_GAIN]      = 0.0f;
  ports.controls[HP_PORT_CROSSFADE] = 20.0f;
  ports.controls[HP_PORT_SCENE]     = 0.0f;
  for (uint32_t m = HP_PORT_MACRO1; m <= HP_PORT_MACRO8; ++m) {
    ports.controls[m] = 0.5f;
  }
  for (uint32_t p = 0; p < HP_N_SYNTH_PORTS; ++p) {
    void* buf = &ports.controls[p];
    switch ((HpPortIndex)p) {
    case HP_PORT_CONTROL:
      buf = &ports.control;
      break;
    case HP_PORT_NOTIFY:
      buf = &ports.notify;
      break;
    case HP_PORT_OUT_L:
      buf = ports.out_l;
      break;
    case HP_PORT_OUT_R:
      buf = ports.out_r;
      break;
    default:
      break;
    }
    desc->connect_port(instance, p, buf);
  }

  /* The stored value, by mode. */
  const uint8_t mode  = data[0];
  const size_t  n     = size - 1u;
  char* const   value = (char*)malloc(n + 1u);
  if (!value) {
    desc->cleanup(instance);
    return 0;
  }
  memcpy(value, data + 1, n);
  value[n] = '\0';
  Stored s = {value, n, uris.atom_String, false, 0};
  switch (mode & 3u) {
  case 0:
    break;
  case 1:
    s.bank_size = n + 1u;
    break;
  case 2: {
    const uint32_t wrong[4] = {
      uris.atom_Path, map.map(map.handle, LV2_ATOM__Chunk), 0, 0};
    s.bank_type = wrong[(mode >> 2u) & 3u];
    s.bank_size = n + 1u;
    if (((mode >> 2u) & 3u) == 3u) {
      s.bank = NULL;
    }
    break;
  }
  case 3:
    s.bank_size   = n + 1u;
    s.with_file   = true;
    s.live_reload = (mode >> 2u) & 1u;
    break;
  }

  n_logged = 0;
  const bool sord_leaks =
    s.bank && s.bank_type == uris.atom_String && fz_sord_leaks(value);
  if (sord_leaks) {
    __lsan_disable();
  }
  const LV2_State_Status st =
    state->restore(instance, retrieve, &s, 0, features);
  if (sord_leaks) {
    __lsan_enable();
  }
  free(value);
  if (st != LV2_STATE_SUCCESS && !n_logged) {
    fz_fail("restore failed without logging why");
  }

  ports.notify.seq.atom.type = 0;
  ports.notify.seq.atom.size = NOTIFY_SIZE - sizeof(LV2_Atom);
  desc->run(instance, FZ_BLOCK);
  fz_check_finite(ports.out_l, ports.out_r, FZ_BLOCK);
  for (uint32_t p = HP_PORT_SWAPS; p <= HP_PORT_MODULES; ++p) {
    if (!isfinite(ports.controls[p])) {
      fz_fail("a status output port is not finite");
    }
  }
  desc->cleanup(instance);
  return 0;
}
