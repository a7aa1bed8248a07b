/*
  hotpatch's lilv host (see host.h).

  The file reads in lifecycle order: utilities, URID map, log, worker (ring,
  thread, schedule/respond), ports, hp_host_new/free, events in, run,
  notify parsing, protocol helpers, output, state.

  Modelled on jalv 1.6.6: the same feature set, the worker's ring and
  semaphore, responses after run() then end_run(), default state loaded
  before activation.  Where jalv is known to be wrong (its worker ring is
  corrupted on overflow) this host does what jalv should: it refuses the
  whole message with LV2_WORKER_ERR_NO_SPACE.
*/

#include "host.h"

#include "atoms.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/atom/util.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/patch/patch.h>
#include <lv2/presets/presets.h>
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
#include <valgrind/callgrind.h>

#define HP_HOST_MAX_PRIMES 64

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

__attribute__((format(printf, 1, 2))) static void
set_error(const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof(last_error), fmt, args);
  va_end(args);
}

static char*
copy_string(const char* str, size_t len)
{
  char* const copy = (char*)malloc(len + 1u);
  if (copy) {
    memcpy(copy, str, len);
    copy[len] = '\0';
  }
  return copy;
}

static uint32_t
pad8(const uint32_t size)
{
  return (size + 7u) & ~7u;
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

static uint32_t
rng_range(uint64_t* const state, const uint32_t lo, const uint32_t hi)
{
  if (hi <= lo) {
    return lo;
  }
  const uint64_t span = (uint64_t)hi - lo + 1u;
  return lo + (uint32_t)(rng_next(state) % span);
}

/* URID map: thread-safe (the worker thread maps too), sorted for lookup */

typedef struct {
  pthread_mutex_t lock;
  char**          uris;   ///< uris[id - 1]
  uint32_t*       sorted; ///< ids ordered by URI
  uint32_t        n;
  uint32_t        cap;
} UriMap;

static uint32_t
urimap_search(const UriMap* const m, const char* const uri, bool* const found)
{
  uint32_t lo = 0u;
  uint32_t hi = m->n;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2u;
    const int      cmp = strcmp(m->uris[m->sorted[mid] - 1u], uri);
    if (!cmp) {
      *found = true;
      return mid;
    }
    if (cmp < 0) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  *found = false;
  return lo;
}

static LV2_URID
urimap_map(LV2_URID_Map_Handle handle, const char* uri)
{
  UriMap* const m  = (UriMap*)handle;
  LV2_URID      id = 0u;
  if (!uri) {
    return 0u;
  }

  pthread_mutex_lock(&m->lock);
  bool           found = false;
  const uint32_t pos   = urimap_search(m, uri, &found);
  if (found) {
    id = m->sorted[pos];
  } else {
    if (m->n == m->cap) {
      const uint32_t cap    = m->cap ? m->cap * 2u : 256u;
      char** const   uris   = (char**)realloc(m->uris, cap * sizeof(char*));
      uint32_t*      sorted = NULL;
      if (uris) {
        m->uris = uris;
        sorted  = (uint32_t*)realloc(m->sorted, cap * sizeof(uint32_t));
      }
      if (sorted) {
        m->sorted = sorted;
        m->cap    = cap;
      }
    }
    char* const copy = m->n < m->cap ? copy_string(uri, strlen(uri)) : NULL;
    if (copy) {
      m->uris[m->n] = copy;
      memmove(
        m->sorted + pos + 1u, m->sorted + pos, (m->n - pos) * sizeof(uint32_t));
      id             = ++m->n;
      m->sorted[pos] = id;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return id;
}

static const char*
urimap_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
  UriMap* const m   = (UriMap*)handle;
  const char*   uri = NULL;
  pthread_mutex_lock(&m->lock);
  if (urid >= 1u && urid <= m->n) {
    uri = m->uris[urid - 1u];
  }
  pthread_mutex_unlock(&m->lock);
  return uri;
}

static void
urimap_free(UriMap* const m)
{
  for (uint32_t i = 0u; i < m->n; ++i) {
    free(m->uris[i]);
  }
  free(m->uris);
  free(m->sorted);
  pthread_mutex_destroy(&m->lock);
}

/* Single-producer single-consumer byte ring holding whole messages
   (a uint32_t size, then the body).  A message is published with one
   release store of the write counter, so the reader never sees half. */

typedef struct {
  uint8_t*      buf;
  uint32_t      size; ///< a power of 2
  atomic_size_t written;
  atomic_size_t read;
} Ring;

static uint32_t
next_pow2(uint32_t n)
{
  uint32_t p = 64u;
  while (p < n && p < (1u << 30u)) {
    p <<= 1u;
  }
  return p;
}

static int
ring_init(Ring* const ring, const uint32_t size)
{
  ring->size = next_pow2(size);
  ring->buf  = (uint8_t*)calloc(1u, ring->size);
  atomic_init(&ring->written, 0u);
  atomic_init(&ring->read, 0u);
  return ring->buf ? 0 : -1;
}

static void
ring_copy_in(Ring* const ring, size_t pos, const void* src, uint32_t n)
{
  const uint32_t mask  = ring->size - 1u;
  const uint32_t start = (uint32_t)(pos & mask);
  const uint32_t first = n < ring->size - start ? n : ring->size - start;
  memcpy(ring->buf + start, src, first);
  memcpy(ring->buf, (const uint8_t*)src + first, n - first);
}

static void
ring_copy_out(const Ring* const ring, size_t pos, void* dst, uint32_t n)
{
  const uint32_t mask  = ring->size - 1u;
  const uint32_t start = (uint32_t)(pos & mask);
  const uint32_t first = n < ring->size - start ? n : ring->size - start;
  memcpy(dst, ring->buf + start, first);
  memcpy((uint8_t*)dst + first, ring->buf, n - first);
}

/** Write one whole message or nothing. */
static bool
ring_write(Ring* const ring, const uint32_t size, const void* const data)
{
  const size_t w = atomic_load_explicit(&ring->written, memory_order_relaxed);
  const size_t r = atomic_load_explicit(&ring->read, memory_order_acquire);
  const size_t space = ring->size - (w - r);
  if ((uint64_t)size + sizeof(uint32_t) > space) {
    return false;
  }

  ring_copy_in(ring, w, &size, sizeof(size));
  ring_copy_in(ring, w + sizeof(size), data, size);
  atomic_store_explicit(
    &ring->written, w + sizeof(size) + size, memory_order_release);
  return true;
}

/** Read one message into buf (capacity >= ring size); false if empty. */
static bool
ring_read(Ring* const ring, void* const buf, uint32_t* const size)
{
  const size_t r = atomic_load_explicit(&ring->read, memory_order_relaxed);
  const size_t w = atomic_load_explicit(&ring->written, memory_order_acquire);
  if (w == r) {
    return false;
  }

  ring_copy_out(ring, r, size, sizeof(*size));
  ring_copy_out(ring, r + sizeof(*size), buf, *size);
  atomic_store_explicit(
    &ring->read, r + sizeof(*size) + *size, memory_order_release);
  return true;
}

/* The host */

typedef enum {
  PORT_AUDIO,
  PORT_CONTROL,
  PORT_ATOM,
  PORT_CV,
  PORT_OTHER
} PortType;

typedef struct {
  uint32_t    index;
  const char* symbol; ///< owned by lilv
  PortType    type;
  bool        is_input;
  float       value; ///< control ports; touched by the thread that runs
  void*       buf;   ///< connected buffer (owned unless &value)
  /* A restore (a preset, a state) may come from another thread while run()
     reads value: like jalv, its port values wait here for the next run. */
  _Atomic float pending;
  atomic_bool   pending_set;
  uint32_t      capacity;
} Port;

/** A queued input event: copied at submission, freed once delivered. */
typedef struct {
  uint64_t frame;
  uint32_t type;
  uint32_t size;
  uint8_t* body;
} QueuedEvent;

/** A growable forge sink, so built messages have no fixed size limit. */
typedef struct {
  uint8_t* buf;
  size_t   size;
  size_t   cap;
  bool     failed;
} Sink;

typedef struct {
  LV2_URID type;
  char*    text;
} LogEntry;

/** Extra URIDs the host needs beyond HpURIs. */
typedef struct {
  LV2_URID atom_Chunk;
  LV2_URID atom_Resource;
  LV2_URID atom_URI;
  LV2_URID bufsz_minBlockLength;
  LV2_URID bufsz_sequenceSize;
  LV2_URID log_Error;
  LV2_URID log_Note;
  LV2_URID log_Trace;
  LV2_URID log_Warning;
} HostURIs;

/*
  The host.  Threads: "run" is the test's thread (every hp_host_* call),
  "worker" the worker thread (threaded mode only), "any" includes the
  plugin calling back from either and a thread running hp_host_save_state().
*/
struct HpHostImpl {
  HpHostConfig cfg; ///< read-only after hp_host_new()
  char*        plugin_uri;
  char*        bundle;
  bool         verbose;
  uint64_t     rng;         ///< run
  uint64_t     last_run_ns; ///< run: lilv_instance_run() alone

  // URIDs: map and unmap from any thread, under urimap.lock
  UriMap         urimap;
  LV2_URID_Map   map;
  LV2_URID_Unmap unmap;
  HpURIs         uris; ///< read-only after hp_host_new()
  HostURIs       hu;

  // lilv
  LilvWorld*        world;
  const LilvPlugin* plugin;
  LilvInstance*     instance;
  bool              activated;

  // Features (as in jalv: data in the host, pointers built once)
  LV2_Log_Log         log;
  LV2_Worker_Schedule schedule;
  LV2_Worker_Schedule state_schedule;
  LV2_Options_Option  options[6];
  float               opt_rate;
  int32_t             opt_min_block;
  int32_t             opt_max_block;
  int32_t             opt_nominal_block;
  int32_t             opt_sequence_size;
  LV2_Feature         f_map;
  LV2_Feature         f_unmap;
  LV2_Feature         f_log;
  LV2_Feature         f_options;
  LV2_Feature         f_schedule;
  LV2_Feature         f_state_schedule;
  LV2_Feature         f_default_state;
  LV2_Feature         f_bounded;
  const LV2_Feature*  features[9];
  char                missing_features[1024];

  // Log: any thread, under log_lock
  pthread_mutex_t log_lock;
  LogEntry*       log_entries;
  size_t          n_log;
  size_t          cap_log;

  // Worker
  const LV2_Worker_Interface* iface;
  Ring                        requests;  ///< run writes, worker reads
  Ring                        responses; ///< worker writes, run reads
  Ring            state_responses; ///< run (in restore()) writes, run reads
  uint8_t*        work_buf;        ///< worker only
  uint8_t*        response_buf;    ///< run only
  sem_t           sem;             ///< one post per request, one to exit
  bool            sem_ready;
  pthread_t       thread;
  bool            thread_started;
  atomic_bool     exit;
  atomic_uint     pending;   ///< scheduled, work() not yet returned: both
  pthread_mutex_t idle_lock; ///< with idle_cond: worker signals, run waits
  pthread_cond_t  idle_cond;
  pthread_mutex_t work_lock;  ///< held by worker around work(), run in restore
  uint64_t        worker_rng; ///< worker only
  bool            restoring;  ///< run

  // Worker statistics: relaxed atomics, any thread
  _Atomic uint64_t st_schedule_calls;
  _Atomic uint64_t st_schedule_failures;
  _Atomic uint32_t st_max_request;
  _Atomic uint64_t st_work_calls;
  _Atomic uint64_t st_respond_calls;
  _Atomic uint64_t st_respond_failures;
  _Atomic uint32_t st_max_response;
  _Atomic uint64_t st_delivered;
  _Atomic uint64_t st_end_run;
  _Atomic uint64_t st_state_schedule;

  // Ports (run; input control values also read by a saving thread)
  Port*              ports;
  uint32_t           n_ports;
  Port*              control; ///< the atom input that gets events
  Port*              notify;  ///< the atom output that gets parsed
  Port*              out_l;
  Port*              out_r;
  LV2_Atom_Sequence* control_seq;
  LV2_Atom_Sequence* notify_seq;
  bool               notify_exact; // cfg.notify_capacity was given

  // Everything below: run only
  QueuedEvent* queue; ///< input events, by frame then submission order
  size_t       q_head;
  size_t       q_len;
  size_t       q_cap;
  uint64_t     deferred_events;

  LV2_Atom_Forge proto_forge;
  Sink           proto_sink;
  HpOp     primes[HP_HOST_MAX_PRIMES]; ///< /patch/prime for the next commit
  uint32_t n_primes;
  LV2_Atom_Forge raw_forge;
  Sink           raw_sink;

  uint64_t        pos; ///< absolute frame of the next block
  struct timespec t0;
  float*          rec_l;
  float*          rec_r;
  size_t          rec_n;
  size_t          rec_cap;
  uint64_t        rec_start;
  HpBlock*        blocks;
  size_t          n_blocks;
  size_t          cap_blocks;

  HpHostEvent* events;
  size_t       n_events;
  size_t       cap_events;

  LilvState* saved; ///< written by hp_host_save_state()
};

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
  return rng_range(&host->rng, lo, hi);
}

/* Log: every message is kept with its type; any thread */

static const char*
log_type_name(const HpHost* host, const LV2_URID type)
{
  return type == host->hu.log_Error     ? "error"
         : type == host->hu.log_Warning ? "warning"
         : type == host->hu.log_Note    ? "note"
         : type == host->hu.log_Trace   ? "trace"
                                        : "log";
}

__attribute__((format(printf, 3, 0))) static int
log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char* fmt, va_list ap)
{
  HpHost* const host = (HpHost*)handle;
  va_list       ap2;
  va_copy(ap2, ap);
  const int len = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (len < 0) {
    return len;
  }

  char* const text = (char*)malloc((size_t)len + 1u);
  if (!text) {
    return -1;
  }
  vsnprintf(text, (size_t)len + 1u, fmt, ap);

  if (host->verbose) {
    fprintf(stderr, "[%s] %s", log_type_name(host, type), text);
  }

  pthread_mutex_lock(&host->log_lock);
  if (host->n_log == host->cap_log) {
    const size_t    cap = host->cap_log ? host->cap_log * 2u : 64u;
    LogEntry* const entries =
      (LogEntry*)realloc(host->log_entries, cap * sizeof(LogEntry));
    if (entries) {
      host->log_entries = entries;
      host->cap_log     = cap;
    }
  }
  if (host->n_log < host->cap_log) {
    host->log_entries[host->n_log].type = type;
    host->log_entries[host->n_log].text = text;
    ++host->n_log;
  } else {
    free(text);
  }
  pthread_mutex_unlock(&host->log_lock);
  return len;
}

__attribute__((format(printf, 3, 4))) static int
log_printf(LV2_Log_Handle handle, LV2_URID type, const char* fmt, ...)
{
  va_list args;
  va_start(args, fmt);
  const int ret = log_vprintf(handle, type, fmt, args);
  va_end(args);
  return ret;
}

bool
hp_host_log_contains(HpHost* host, const char* substring)
{
  bool found = false;
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = 0u; i < host->n_log && !found; ++i) {
    found = strstr(host->log_entries[i].text, substring) != NULL;
  }
  pthread_mutex_unlock(&host->log_lock);
  return found;
}

size_t
hp_host_log_count(HpHost* host)
{
  pthread_mutex_lock(&host->log_lock);
  const size_t n = host->n_log;
  pthread_mutex_unlock(&host->log_lock);
  return n;
}

const char*
hp_host_log_get(HpHost* host, size_t index, char* buf, size_t size)
{
  const char* type = NULL;
  pthread_mutex_lock(&host->log_lock);
  if (index < host->n_log) {
    if (buf && size) {
      snprintf(buf, size, "%s", host->log_entries[index].text);
    }
    type = hp_host_unmap(host, host->log_entries[index].type);
  }
  pthread_mutex_unlock(&host->log_lock);
  return type;
}

void
hp_host_log_clear(HpHost* host)
{
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = 0u; i < host->n_log; ++i) {
    free(host->log_entries[i].text);
  }
  host->n_log = 0u;
  pthread_mutex_unlock(&host->log_lock);
}

/** The last error or warning the plugin logged, for failure messages. */
static void
last_logged_problem(HpHost* host, char* buf, size_t size)
{
  buf[0] = '\0';
  pthread_mutex_lock(&host->log_lock);
  for (size_t i = host->n_log; i-- > 0u;) {
    const LogEntry* const e = &host->log_entries[i];
    if (e->type == host->hu.log_Error || e->type == host->hu.log_Warning) {
      snprintf(buf, size, "%s", e->text);
      break;
    }
  }
  pthread_mutex_unlock(&host->log_lock);
  const size_t len = strlen(buf);
  if (len && buf[len - 1u] == '\n') {
    buf[len - 1u] = '\0';
  }
}

/* Real-time marks: nothing here; tests/host/rtcheck.c replaces this */

__attribute__((weak)) bool
hp_rt_set_active(const bool active)
{
  (void)active;
  return false;
}

/* Worker */

static void
atomic_max_u32(_Atomic uint32_t* const max, const uint32_t value)
{
  uint32_t old = atomic_load_explicit(max, memory_order_relaxed);
  while (value > old &&
         !atomic_compare_exchange_weak_explicit(
           max, &old, value, memory_order_relaxed, memory_order_relaxed)) {
  }
}

/** Deliver one response to the plugin: audio-class, so counted. */
static void
call_work_response(HpHost* const host, const uint32_t size, const void* data)
{
  const bool was = hp_rt_set_active(true);
  host->iface->work_response(
    lilv_instance_get_handle(host->instance), size, data);
  hp_rt_set_active(was);
  atomic_fetch_add_explicit(&host->st_delivered, 1u, memory_order_relaxed);
}

// Worker thread: queue the response for the run thread
static LV2_Worker_Status
respond_threaded(LV2_Worker_Respond_Handle handle,
                 uint32_t                  size,
                 const void*               data)
{
  HpHost* const host = (HpHost*)handle;
  atomic_fetch_add_explicit(&host->st_respond_calls, 1u, memory_order_relaxed);
  atomic_max_u32(&host->st_max_response, size);
  if (!ring_write(&host->responses, size, data)) {
    atomic_fetch_add_explicit(
      &host->st_respond_failures, 1u, memory_order_relaxed);
    return LV2_WORKER_ERR_NO_SPACE;
  }
  return LV2_WORKER_SUCCESS;
}

// Sync mode (Ardour freewheel): work_response() at once, in this call
static LV2_Worker_Status
respond_sync(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  HpHost* const host = (HpHost*)handle;
  atomic_fetch_add_explicit(&host->st_respond_calls, 1u, memory_order_relaxed);
  atomic_max_u32(&host->st_max_response, size);
  call_work_response(host, size, data);
  return LV2_WORKER_SUCCESS;
}

// restore()'s worker: responses wait for the next run(), as in jalv 1.6.6
static LV2_Worker_Status
respond_state(LV2_Worker_Respond_Handle handle, uint32_t size, const void* data)
{
  HpHost* const host = (HpHost*)handle;
  atomic_fetch_add_explicit(&host->st_respond_calls, 1u, memory_order_relaxed);
  atomic_max_u32(&host->st_max_response, size);
  if (!ring_write(&host->state_responses, size, data)) {
    atomic_fetch_add_explicit(
      &host->st_respond_failures, 1u, memory_order_relaxed);
    return LV2_WORKER_ERR_NO_SPACE;
  }
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status
schedule_state(HpHost* const host, const uint32_t size, const void* const data)
{
  atomic_fetch_add_explicit(&host->st_state_schedule, 1u, memory_order_relaxed);
  if (!host->restoring || !host->iface) {
    // The restore() feature is only valid during restore()
    return LV2_WORKER_ERR_UNKNOWN;
  }

  // restore() holds work_lock already, so work() cannot run elsewhere
  atomic_fetch_add_explicit(&host->st_work_calls, 1u, memory_order_relaxed);
  return host->iface->work(
    lilv_instance_get_handle(host->instance), respond_state, host, size, data);
}

static LV2_Worker_Status
schedule_main(HpHost* const host, const uint32_t size, const void* const data)
{
  atomic_fetch_add_explicit(&host->st_schedule_calls, 1u, memory_order_relaxed);
  atomic_max_u32(&host->st_max_request, size);
  if (!host->iface) {
    return LV2_WORKER_ERR_UNKNOWN;
  }

  if (host->cfg.worker_mode == HP_WORKER_SYNC) {
    atomic_fetch_add_explicit(&host->st_work_calls, 1u, memory_order_relaxed);
    host->iface->work(
      lilv_instance_get_handle(host->instance), respond_sync, host, size, data);
    return LV2_WORKER_SUCCESS;
  }

  // Count it pending first, so the worker can never take it below zero
  atomic_fetch_add_explicit(&host->pending, 1u, memory_order_acq_rel);
  if (!ring_write(&host->requests, size, data)) {
    atomic_fetch_sub_explicit(&host->pending, 1u, memory_order_acq_rel);
    return LV2_WORKER_ERR_NO_SPACE;
  }
  sem_post(&host->sem);
  return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status
schedule_work(LV2_Worker_Schedule_Handle handle,
              uint32_t                   size,
              const void*                data)
{
  HpHost* const host = (HpHost*)handle;

  // Host code: not the plugin's, and in sync mode work() may allocate here
  const bool              was_rt = hp_rt_set_active(false);
  const LV2_Worker_Status st     = schedule_main(host, size, data);
  if (st) {
    atomic_fetch_add_explicit(
      &host->st_schedule_failures, 1u, memory_order_relaxed);
  }
  hp_rt_set_active(was_rt);
  return st;
}

/* The function, not the handle, picks the path: eg-sampler's restore()
   calls the restore feature's function with its instance-time handle. */
static LV2_Worker_Status
schedule_work_state(LV2_Worker_Schedule_Handle handle,
                    uint32_t                   size,
                    const void*                data)
{
  HpHost* const           host   = (HpHost*)handle;
  const bool              was_rt = hp_rt_set_active(false);
  const LV2_Worker_Status st     = schedule_state(host, size, data);
  hp_rt_set_active(was_rt);
  return st;
}

static void
sleep_us(const uint32_t us)
{
  const struct timespec t = {(time_t)(us / 1000000u),
                             (long)(us % 1000000u) * 1000L};
  while (nanosleep(&t, NULL) && errno == EINTR) {
  }
}

static void*
worker_main(void* const arg)
{
  HpHost* const host = (HpHost*)arg;
  while (true) {
    while (sem_wait(&host->sem) && errno == EINTR) {
    }

    const bool exiting = atomic_load(&host->exit);
    if (!exiting && host->cfg.worker_delay_max_us) {
      // Sleep before taking the request, so the ring stays full meanwhile
      sleep_us(rng_range(&host->worker_rng, 0u, host->cfg.worker_delay_max_us));
    }

    uint32_t size = 0u;
    if (!ring_read(&host->requests, host->work_buf, &size)) {
      if (exiting) {
        break; // the queue is drained
      }
      continue;
    }

    pthread_mutex_lock(&host->work_lock);
    atomic_fetch_add_explicit(&host->st_work_calls, 1u, memory_order_relaxed);
    host->iface->work(lilv_instance_get_handle(host->instance),
                      respond_threaded,
                      host,
                      size,
                      host->work_buf);
    pthread_mutex_unlock(&host->work_lock);

    atomic_fetch_sub_explicit(&host->pending, 1u, memory_order_acq_rel);
    pthread_mutex_lock(&host->idle_lock);
    pthread_cond_broadcast(&host->idle_cond);
    pthread_mutex_unlock(&host->idle_lock);
  }
  return NULL;
}

static void
deliver_responses(HpHost* const host, Ring* const ring)
{
  uint32_t size = 0u;
  while (ring_read(ring, host->response_buf, &size)) {
    call_work_response(host, size, host->response_buf);
  }
}

int
hp_host_wait_worker(HpHost* host, unsigned timeout_ms)
{
  if (!host->thread_started) {
    return 0;
  }

  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t)(timeout_ms / 1000u);
  deadline.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_nsec -= 1000000000L;
    ++deadline.tv_sec;
  }

  int ret = 0;
  pthread_mutex_lock(&host->idle_lock);
  while (atomic_load(&host->pending) > 0u) {
    if (pthread_cond_timedwait(&host->idle_cond, &host->idle_lock, &deadline) ==
        ETIMEDOUT) {
      ret = atomic_load(&host->pending) > 0u ? -1 : 0;
      break;
    }
  }
  pthread_mutex_unlock(&host->idle_lock);
  if (ret) {
    set_error("worker still busy after %u ms (%u requests pending)",
              timeout_ms,
              atomic_load(&host->pending));
  }
  return ret;
}

uint64_t
hp_host_last_run_ns(const HpHost* host)
{
  return host->last_run_ns;
}

void
hp_host_worker_stats(const HpHost* host, HpWorkerStats* stats)
{
  const HpHost* const h       = host;
  stats->schedule_calls       = atomic_load(&h->st_schedule_calls);
  stats->schedule_failures    = atomic_load(&h->st_schedule_failures);
  stats->max_request_size     = atomic_load(&h->st_max_request);
  stats->work_calls           = atomic_load(&h->st_work_calls);
  stats->respond_calls        = atomic_load(&h->st_respond_calls);
  stats->respond_failures     = atomic_load(&h->st_respond_failures);
  stats->max_response_size    = atomic_load(&h->st_max_response);
  stats->responses_delivered  = atomic_load(&h->st_delivered);
  stats->end_run_calls        = atomic_load(&h->st_end_run);
  stats->state_schedule_calls = atomic_load(&h->st_state_schedule);
}

/* Sinks for the forges */

static LV2_Atom_Forge_Ref
sink_write(LV2_Atom_Forge_Sink_Handle handle, const void* buf, uint32_t size)
{
  Sink* const sink = (Sink*)handle;
  if (sink->failed) {
    return 0;
  }
  if (sink->size + size > sink->cap) {
    size_t cap = sink->cap ? sink->cap : 1024u;
    while (cap < sink->size + size) {
      cap *= 2u;
    }
    uint8_t* const grown = (uint8_t*)realloc(sink->buf, cap);
    if (!grown) {
      sink->failed = true;
      return 0;
    }
    sink->buf = grown;
    sink->cap = cap;
  }

  // References are offsets + 1: the buffer moves as it grows, 0 is failure
  const LV2_Atom_Forge_Ref ref = (LV2_Atom_Forge_Ref)sink->size + 1u;
  memcpy(sink->buf + sink->size, buf, size);
  sink->size += size;
  return ref;
}

static LV2_Atom*
sink_deref(LV2_Atom_Forge_Sink_Handle handle, LV2_Atom_Forge_Ref ref)
{
  Sink* const sink = (Sink*)handle;
  return ref ? (LV2_Atom*)(sink->buf + ref - 1u) : NULL;
}

static LV2_Atom_Forge*
sink_reset(LV2_Atom_Forge* const forge, Sink* const sink)
{
  sink->size   = 0u;
  sink->failed = false;
  lv2_atom_forge_set_sink(forge, sink_write, sink_deref, sink);
  return forge;
}

static const LV2_Atom*
sink_atom(const Sink* const sink)
{
  if (sink->failed || sink->size < sizeof(LV2_Atom)) {
    return NULL;
  }
  const LV2_Atom* const atom = (const LV2_Atom*)sink->buf;
  return sizeof(LV2_Atom) + atom->size <= sink->size ? atom : NULL;
}

LV2_Atom_Forge*
hp_host_forge(HpHost* host)
{
  return sink_reset(&host->raw_forge, &host->raw_sink);
}

const LV2_Atom*
hp_host_forge_atom(HpHost* host)
{
  return sink_atom(&host->raw_sink);
}

/* Ports */

static Port*
port_by_symbol(const HpHost* const host, const char* const symbol)
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
  return port_by_symbol(host, symbol) != NULL;
}

int
hp_host_set_control(HpHost* host, const char* symbol, float value)
{
  Port* const port = port_by_symbol(host, symbol);
  if (!port || port->type != PORT_CONTROL || !port->is_input) {
    set_error("no input control port \"%s\"", symbol);
    return -1;
  }
  atomic_store_explicit(&port->pending_set, false, memory_order_relaxed);
  port->value = value;
  return 0;
}

float
hp_host_control_in(const HpHost* host, const char* symbol)
{
  const Port* const port = port_by_symbol(host, symbol);
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
  const Port* const port = port_by_symbol(host, symbol);
  return (port && port->type == PORT_CONTROL && !port->is_input) ? port->value
                                                                 : NAN;
}

static void
reset_sequence_in(LV2_Atom_Sequence* const seq, const LV2_URID type)
{
  seq->atom.size = sizeof(LV2_Atom_Sequence_Body);
  seq->atom.type = type;
  seq->body.unit = 0u;
  seq->body.pad  = 0u;
}

// An output sequence starts as a Chunk whose size is the space available
static void
reset_sequence_out(Port* const port, const LV2_URID chunk)
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

  const uint32_t audio_bytes = host->cfg.max_block * (uint32_t)sizeof(float);
  for (uint32_t i = 0u; !ret && i < n; ++i) {
    const LilvPort* const lport = lilv_plugin_get_port_by_index(plugin, i);
    Port* const           port  = &host->ports[i];
    port->index                 = i;
    port->symbol   = lilv_node_as_string(lilv_port_get_symbol(plugin, lport));
    port->is_input = lilv_port_is_a(plugin, lport, lv2_InputPort);
    if (!port->is_input && !lilv_port_is_a(plugin, lport, lv2_OutputPort)) {
      set_error("port %u \"%s\" is neither input nor output", i, port->symbol);
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
      set_error("out of memory for port \"%s\"", port->symbol);
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
          set_error("out of memory for port \"%s\"", port->symbol);
          ret = -1;
          break;
        }
        if (port->is_input) {
          reset_sequence_in((LV2_Atom_Sequence*)port->buf,
                            host->uris.atom_Sequence);
        } else {
          reset_sequence_out(port, host->hu.atom_Chunk);
        }
      }
    }
  }

  if (!ret) {
    if (!host->out_l && !host->out_r) {
      host->out_l = audio_outs[0];
      host->out_r = audio_outs[1];
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

static void
init_features(HpHost* const host)
{
  const HpURIs* const u = &host->uris;

  host->map.handle   = &host->urimap;
  host->map.map      = urimap_map;
  host->unmap.handle = &host->urimap;
  host->unmap.unmap  = urimap_unmap;
  host->f_map        = (LV2_Feature){LV2_URID__map, &host->map};
  host->f_unmap      = (LV2_Feature){LV2_URID__unmap, &host->unmap};

  host->log.handle  = host;
  host->log.printf  = log_printf;
  host->log.vprintf = log_vprintf;
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
  host->schedule.schedule_work       = schedule_work;
  host->state_schedule.handle        = host;
  host->state_schedule.schedule_work = schedule_work_state;
  host->f_schedule = (LV2_Feature){LV2_WORKER__schedule, &host->schedule};
  host->f_state_schedule =
    (LV2_Feature){LV2_WORKER__schedule, &host->state_schedule};

  host->f_default_state = (LV2_Feature){LV2_STATE__loadDefaultState, NULL};
  host->f_bounded       = (LV2_Feature){LV2_BUF_SIZE__boundedBlockLength, NULL};

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
  host->features[n]   = NULL;
}

/* Setup and teardown */

static int
load_world(HpHost* const host)
{
  host->world = lilv_world_new();
  if (!host->world) {
    set_error("lilv_world_new() failed");
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
      set_error("no LV2 bundle at %s (%s missing): build the plugin first "
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
    set_error("plugin <%s> not found in %s (found: %s)",
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

static int restore_state(HpHost* host, const LilvState* state, unsigned flags);

static int
start_worker(HpHost* const host)
{
  const uint32_t ring_size = host->cfg.worker_ring_size;
  if (ring_init(&host->requests, ring_size) ||
      ring_init(&host->responses, ring_size) ||
      ring_init(&host->state_responses, ring_size)) {
    set_error("out of memory for the worker rings");
    return -1;
  }

  // No message can be larger than its ring
  host->work_buf     = (uint8_t*)malloc(host->requests.size);
  host->response_buf = (uint8_t*)malloc(host->responses.size);
  if (!host->work_buf || !host->response_buf) {
    set_error("out of memory for the worker buffers");
    return -1;
  }

  if (sem_init(&host->sem, 0, 0u)) {
    set_error("sem_init() failed: %s", strerror(errno));
    return -1;
  }
  host->sem_ready = true;
  return 0;
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
    set_error("out of memory");
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
  if (!bundle && !strcmp(uri, HP_PLUGIN_URI)) {
    bundle = getenv("HP_BUNDLE");
  }
  host->plugin_uri = copy_string(uri, strlen(uri));
  host->bundle     = bundle ? copy_string(bundle, strlen(bundle)) : NULL;

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
  host->map.map    = urimap_map;
  hp_map_uris(&host->map, &host->uris);
  host->hu.atom_Chunk    = urimap_map(&host->urimap, LV2_ATOM__Chunk);
  host->hu.atom_Resource = urimap_map(&host->urimap, LV2_ATOM__Resource);
  host->hu.atom_URI      = urimap_map(&host->urimap, LV2_ATOM__URI);
  host->hu.bufsz_minBlockLength =
    urimap_map(&host->urimap, LV2_BUF_SIZE__minBlockLength);
  host->hu.bufsz_sequenceSize =
    urimap_map(&host->urimap, LV2_BUF_SIZE__sequenceSize);
  host->hu.log_Error   = urimap_map(&host->urimap, LV2_LOG__Error);
  host->hu.log_Note    = urimap_map(&host->urimap, LV2_LOG__Note);
  host->hu.log_Trace   = urimap_map(&host->urimap, LV2_LOG__Trace);
  host->hu.log_Warning = urimap_map(&host->urimap, LV2_LOG__Warning);
  init_features(host);
  lv2_atom_forge_init(&host->proto_forge, &host->map);
  lv2_atom_forge_init(&host->raw_forge, &host->map);

  if (!host->plugin_uri || (bundle && !host->bundle)) {
    set_error("out of memory");
    hp_host_free(host);
    return NULL;
  }
  if (load_world(host) || start_worker(host)) {
    hp_host_free(host);
    return NULL;
  }

  check_required_features(host);
  if (host->missing_features[0] && c->strict_features) {
    set_error("plugin <%s> requires %s, which this host does not offer",
              host->plugin_uri,
              host->missing_features);
    hp_host_free(host);
    return NULL;
  }

  host->instance =
    lilv_plugin_instantiate(host->plugin, c->sample_rate, host->features);
  if (!host->instance) {
    char problem[512];
    last_logged_problem(host, problem, sizeof(problem));
    set_error("instantiating <%s> failed%s%s%s%s",
              host->plugin_uri,
              problem[0] ? "; plugin says: " : "",
              problem,
              host->missing_features[0] ? "; required but not offered: " : "",
              host->missing_features);
    hp_host_free(host);
    return NULL;
  }

  if (c->worker_mode != HP_WORKER_NONE) {
    host->iface = (const LV2_Worker_Interface*)lilv_instance_get_extension_data(
      host->instance, LV2_WORKER__interface);
    if (host->iface && (!host->iface->work || !host->iface->work_response)) {
      host->iface = NULL;
    }
  }
  if (host->iface && c->worker_mode == HP_WORKER_THREADED) {
    if (pthread_create(&host->thread, NULL, worker_main, host)) {
      set_error("pthread_create() failed for the worker");
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
      restore_state(host, state, 0u);
      lilv_state_free(state);
    }
  }

  lilv_instance_activate(host->instance);
  host->activated = true;
  return host;
}

static void
free_event(HpHostEvent* const ev)
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
    if (host->ports[i].buf != &host->ports[i].value) {
      free(host->ports[i].buf);
    }
  }
  free(host->ports);

  for (size_t i = host->q_head; i < host->q_len; ++i) {
    free(host->queue[i].body);
  }
  free(host->queue);
  for (size_t i = 0u; i < host->n_events; ++i) {
    free_event(&host->events[i]);
  }
  free(host->events);
  for (size_t i = 0u; i < host->n_log; ++i) {
    free(host->log_entries[i].text);
  }
  free(host->log_entries);

  free(host->proto_sink.buf);
  free(host->raw_sink.buf);
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
  urimap_free(&host->urimap);
  pthread_mutex_destroy(&host->log_lock);
  pthread_mutex_destroy(&host->work_lock);
  pthread_mutex_destroy(&host->idle_lock);
  pthread_cond_destroy(&host->idle_cond);
  free(host->plugin_uri);
  free(host->bundle);
  free(host);
}

/* Events in */

static int
queue_event(HpHost* const  host,
            const uint64_t frame,
            const uint32_t type,
            const uint32_t size,
            const void*    body)
{
  if (frame < host->pos) {
    set_error("event at frame %llu is in the past (now %llu)",
              (unsigned long long)frame,
              (unsigned long long)host->pos);
    return -1;
  }
  if (!host->control_seq) {
    set_error("the plugin has no atom input port");
    return -1;
  }
  if ((uint64_t)sizeof(LV2_Atom_Sequence) + sizeof(LV2_Atom_Event) +
        pad8(size) >
      host->control->capacity) {
    set_error("a %u-byte event does not fit the %u-byte control buffer",
              size,
              host->control->capacity);
    return -1;
  }

  if (host->q_len == host->q_cap) {
    const size_t       cap = host->q_cap ? host->q_cap * 2u : 64u;
    QueuedEvent* const queue =
      (QueuedEvent*)realloc(host->queue, cap * sizeof(QueuedEvent));
    if (!queue) {
      set_error("out of memory");
      return -1;
    }
    host->queue = queue;
    host->q_cap = cap;
  }

  uint8_t* const copy = (uint8_t*)malloc(size ? size : 1u);
  if (!copy) {
    set_error("out of memory");
    return -1;
  }
  if (size) {
    memcpy(copy, body, size);
  }

  // After every queued event at the same or an earlier frame
  size_t i = host->q_len;
  while (i > host->q_head && host->queue[i - 1u].frame > frame) {
    --i;
  }
  memmove(host->queue + i + 1u,
          host->queue + i,
          (host->q_len - i) * sizeof(QueuedEvent));
  host->queue[i] = (QueuedEvent){frame, type, size, copy};
  ++host->q_len;
  return 0;
}

int
hp_host_send_atom(HpHost* host, uint64_t frame, const LV2_Atom* atom)
{
  if (!atom) {
    set_error("no atom to send");
    return -1;
  }
  return queue_event(host, frame, atom->type, atom->size, atom + 1);
}

int
hp_host_send_midi(HpHost*        host,
                  uint64_t       frame,
                  const uint8_t* msg,
                  uint32_t       size)
{
  return queue_event(host, frame, host->uris.midi_MidiEvent, size, msg);
}

int
hp_host_note_on(HpHost* host, uint64_t frame, uint8_t note, uint8_t velocity)
{
  const uint8_t msg[3] = {
    LV2_MIDI_MSG_NOTE_ON, (uint8_t)(note & 0x7Fu), (uint8_t)(velocity & 0x7Fu)};
  return hp_host_send_midi(host, frame, msg, sizeof(msg));
}

int
hp_host_note_off(HpHost* host, uint64_t frame, uint8_t note)
{
  const uint8_t msg[3] = {LV2_MIDI_MSG_NOTE_OFF, (uint8_t)(note & 0x7Fu), 64u};
  return hp_host_send_midi(host, frame, msg, sizeof(msg));
}

/** Move the events of [pos, pos + n) into the control sequence. */
static void
fill_control(HpHost* const host, const uint32_t nframes)
{
  LV2_Atom_Sequence* const seq = host->control_seq;
  reset_sequence_in(seq, host->uris.atom_Sequence);

  const uint64_t end      = host->pos + nframes;
  uint8_t* const base     = (uint8_t*)seq;
  uint32_t       offset   = (uint32_t)sizeof(LV2_Atom_Sequence);
  const uint32_t capacity = host->control->capacity;
  while (host->q_head < host->q_len && host->queue[host->q_head].frame < end) {
    QueuedEvent* const q    = &host->queue[host->q_head];
    const uint32_t     need = (uint32_t)sizeof(LV2_Atom_Event) + pad8(q->size);
    if (offset + need > capacity) {
      ++host->deferred_events; // the rest go at the start of the next block
      break;
    }

    LV2_Atom_Event* const ev = (LV2_Atom_Event*)(base + offset);
    // Deferred events are late: they go first in this block
    ev->time.frames =
      q->frame > host->pos ? (int64_t)(q->frame - host->pos) : 0;
    ev->body.type = q->type;
    ev->body.size = q->size;
    memcpy(ev + 1, q->body, q->size);
    memset((uint8_t*)(ev + 1) + q->size, 0, pad8(q->size) - q->size);
    offset += need;
    free(q->body);
    ++host->q_head;
  }
  seq->atom.size = offset - (uint32_t)sizeof(LV2_Atom);
  if (host->q_head == host->q_len) {
    host->q_head = host->q_len = 0u;
  }
}

/* Notify parsing */

static bool
atom_number(const HpHost* const   host,
            const LV2_Atom* const a,
            double* const         out)
{
  const HpURIs* const u = &host->uris;
  if (a->type == u->atom_Int && a->size >= sizeof(int32_t)) {
    *out = ((const LV2_Atom_Int*)a)->body;
  } else if (a->type == u->atom_Long && a->size >= sizeof(int64_t)) {
    *out = (double)((const LV2_Atom_Long*)a)->body;
  } else if (a->type == u->atom_Float && a->size >= sizeof(float)) {
    *out = (double)((const LV2_Atom_Float*)a)->body;
  } else if (a->type == u->atom_Double && a->size >= sizeof(double)) {
    *out = ((const LV2_Atom_Double*)a)->body;
  } else if (a->type == u->atom_Bool && a->size >= sizeof(int32_t)) {
    *out = ((const LV2_Atom_Bool*)a)->body ? 1.0 : 0.0;
  } else {
    return false;
  }
  return true;
}

/** A copy of a String, Path or URI atom's text, or of a URID's URI. */
static char*
atom_text(HpHost* const host, const LV2_Atom* const a)
{
  const HpURIs* const u = &host->uris;
  if (a->type == u->atom_String || a->type == u->atom_Path ||
      a->type == host->hu.atom_URI) {
    const char* const str = (const char*)(a + 1);
    return copy_string(str, strnlen(str, a->size));
  }
  if (a->type == u->atom_URID && a->size >= sizeof(LV2_URID)) {
    const char* const uri =
      hp_host_unmap(host, ((const LV2_Atom_URID*)a)->body);
    return uri ? copy_string(uri, strlen(uri)) : NULL;
  }
  return NULL;
}

static void
read_object(HpHost* const                host,
            const LV2_Atom_Object* const obj,
            HpHostEvent*                 e)
{
  const HpURIs* const u  = &host->uris;
  const LV2_URID      ot = obj->body.otype;
  e->otype               = ot;
  e->kind                = ot == u->patch_Ack            ? HP_EV_ACK
                           : ot == u->patch_Error        ? HP_EV_ERROR
                           : ot == u->hp_Primed          ? HP_EV_PRIMED
                           : ot == u->hp_Swapped         ? HP_EV_SWAPPED
                           : ot == u->state_StateChanged ? HP_EV_STATE_CHANGED
                           : ot == u->patch_Set          ? HP_EV_PATCH_SET
                                                         : HP_EV_OTHER;

  // Properties, with bounds checked: a broken plugin must not crash us
  const uint8_t* const body = (const uint8_t*)&obj->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Object_Body);
  while (off + sizeof(LV2_Atom_Property_Body) <= obj->atom.size) {
    const LV2_Atom_Property_Body* const p =
      (const LV2_Atom_Property_Body*)(body + off);
    if (off + sizeof(LV2_Atom_Property_Body) + p->value.size > obj->atom.size) {
      break;
    }

    const LV2_Atom* const v      = &p->value;
    double                num    = 0.0;
    const bool            is_num = atom_number(host, v, &num);
    if (p->key == u->patch_sequenceNumber && is_num) {
      e->seq = (int32_t)num;
    } else if (p->key == u->hp_message && !e->message) {
      e->message = atom_text(host, v);
    } else if (p->key == u->hp_generation && is_num) {
      e->generation = (int64_t)num;
    } else if (p->key == u->hp_frame && is_num) {
      e->frame = (int64_t)num;
    } else if (p->key == u->hp_primeTime && is_num) {
      e->prime_ms = num;
    } else if (p->key == u->hp_warmupRms && is_num) {
      e->warmup_rms = num;
    } else if (p->key == u->hp_moduleCount && is_num) {
      e->module_count = (int64_t)num;
    } else if (p->key == u->patch_property && !e->property) {
      e->property = atom_text(host, v);
    } else if (p->key == u->patch_value) {
      if (is_num) {
        e->value_number = num;
      } else if (!e->value_string) {
        e->value_string = atom_text(host, v);
      }
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Property_Body) + v->size);
  }
}

static int
push_event(HpHost* const host, const HpHostEvent* const e)
{
  if (host->n_events == host->cap_events) {
    const size_t       cap = host->cap_events ? host->cap_events * 2u : 256u;
    HpHostEvent* const events =
      (HpHostEvent*)realloc(host->events, cap * sizeof(HpHostEvent));
    if (!events) {
      return -1;
    }
    host->events     = events;
    host->cap_events = cap;
  }
  host->events[host->n_events++] = *e;
  return 0;
}

size_t
hp_host_parse_notify(HpHost*                  host,
                     const LV2_Atom_Sequence* seq,
                     uint32_t                 capacity)
{
  const size_t n_before = host->n_events;
  if (seq->atom.type != host->uris.atom_Sequence ||
      capacity < sizeof(LV2_Atom_Sequence)) {
    return 0u; // still the Chunk: the plugin wrote nothing
  }

  // Never trust the size more than the buffer
  uint32_t size = seq->atom.size;
  if (size > capacity - sizeof(LV2_Atom)) {
    size = capacity - (uint32_t)sizeof(LV2_Atom);
  }

  const uint8_t* const body = (const uint8_t*)&seq->body;
  uint32_t             off  = (uint32_t)sizeof(LV2_Atom_Sequence_Body);
  while (off + sizeof(LV2_Atom_Event) <= size) {
    const LV2_Atom_Event* const ev = (const LV2_Atom_Event*)(body + off);
    if (off + sizeof(LV2_Atom_Event) + ev->body.size > size) {
      break;
    }

    HpHostEvent e  = {0};
    e.kind         = HP_EV_OTHER;
    e.seq          = -1;
    e.generation   = -1;
    e.frame        = -1;
    e.module_count = -1;
    e.prime_ms     = (double)NAN;
    e.warmup_rms   = (double)NAN;
    e.value_number = (double)NAN;
    e.block_start  = host->pos;
    e.time         = ev->time.frames < 0 ? 0u : (uint32_t)ev->time.frames;
    e.frame_abs    = host->pos + e.time;
    e.type         = ev->body.type;

    e.atom = (LV2_Atom*)malloc(sizeof(LV2_Atom) + ev->body.size);
    if (e.atom) {
      memcpy(e.atom, &ev->body, sizeof(LV2_Atom) + ev->body.size);
    }

    const HpURIs* const u = &host->uris;
    if (ev->body.type == u->midi_MidiEvent) {
      e.kind      = HP_EV_MIDI;
      e.midi_size = ev->body.size;
      memcpy(e.midi,
             ev + 1,
             ev->body.size < sizeof(e.midi) ? ev->body.size : sizeof(e.midi));
    } else if ((ev->body.type == u->atom_Object ||
                ev->body.type == u->atom_Blank ||
                ev->body.type == host->hu.atom_Resource) &&
               ev->body.size >= sizeof(LV2_Atom_Object_Body)) {
      read_object(host, (const LV2_Atom_Object*)&ev->body, &e);
      if (e.kind == HP_EV_SWAPPED && e.frame >= 0) {
        e.frame_abs = host->pos + (uint64_t)e.frame;
      }
    }

    if (push_event(host, &e)) {
      free_event(&e);
    }
    off += pad8((uint32_t)sizeof(LV2_Atom_Event) + ev->body.size);
  }
  return host->n_events - n_before;
}

size_t
hp_host_n_events(const HpHost* host)
{
  return host->n_events;
}

const HpHostEvent*
hp_host_event(const HpHost* host, size_t index)
{
  return index < host->n_events ? &host->events[index] : NULL;
}

static const HpHostEvent*
find_event_from(const HpHost* const host,
                const size_t        start,
                const HpEventKind   kind,
                const int           seq)
{
  for (size_t i = start; i < host->n_events; ++i) {
    const HpHostEvent* const e = &host->events[i];
    if (e->kind == kind && (seq == HP_SEQ_ANY || e->seq == seq)) {
      return e;
    }
  }
  return NULL;
}

const HpHostEvent*
hp_host_find_event(const HpHost* host, HpEventKind kind, int seq)
{
  return find_event_from(host, 0u, kind, seq);
}

const HpHostEvent*
hp_host_find_reply(const HpHost* host, int seq)
{
  for (size_t i = 0u; i < host->n_events; ++i) {
    const HpHostEvent* const e = &host->events[i];
    if ((e->kind == HP_EV_ACK || e->kind == HP_EV_ERROR) && e->seq == seq) {
      return e;
    }
  }
  return NULL;
}

size_t
hp_host_count_events(const HpHost* host, HpEventKind kind)
{
  size_t n = 0u;
  for (size_t i = 0u; i < host->n_events; ++i) {
    n += host->events[i].kind == kind;
  }
  return n;
}

void
hp_host_clear_events(HpHost* host)
{
  for (size_t i = 0u; i < host->n_events; ++i) {
    free_event(&host->events[i]);
  }
  host->n_events = 0u;
}

const char*
hp_host_event_kind_name(HpEventKind kind)
{
  static const char* const names[] = {"Ack",
                                      "Error",
                                      "Primed",
                                      "Swapped",
                                      "StateChanged",
                                      "Set",
                                      "MIDI",
                                      "other"};
  return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* Running */

static int
record_output(HpHost* const host, const uint32_t nframes)
{
  if (host->rec_n + nframes > host->rec_cap) {
    size_t cap = host->rec_cap ? host->rec_cap : 65536u;
    while (cap < host->rec_n + nframes) {
      cap *= 2u;
    }
    float* const l = (float*)realloc(host->rec_l, cap * sizeof(float));
    if (l) {
      host->rec_l = l;
    }
    float* const r =
      l ? (float*)realloc(host->rec_r, cap * sizeof(float)) : NULL;
    if (r) {
      host->rec_r = r;
    }
    if (!l || !r) {
      set_error("out of memory recording output");
      return -1;
    }
    host->rec_cap = cap;
  }

  float* const l  = host->rec_l + host->rec_n;
  float* const r  = host->rec_r + host->rec_n;
  const Port*  pl = host->out_l ? host->out_l : host->out_r;
  const Port*  pr = host->out_r ? host->out_r : host->out_l;
  if (pl) {
    memcpy(l, pl->buf, nframes * sizeof(float));
    memcpy(r, pr->buf, nframes * sizeof(float));
  } else {
    memset(l, 0, nframes * sizeof(float));
    memset(r, 0, nframes * sizeof(float));
  }
  host->rec_n += nframes;

  if (host->n_blocks == host->cap_blocks) {
    const size_t   cap = host->cap_blocks ? host->cap_blocks * 2u : 1024u;
    HpBlock* const blocks =
      (HpBlock*)realloc(host->blocks, cap * sizeof(HpBlock));
    if (!blocks) {
      set_error("out of memory recording blocks");
      return -1;
    }
    host->blocks     = blocks;
    host->cap_blocks = cap;
  }
  host->blocks[host->n_blocks++] = (HpBlock){host->pos, nframes};
  return 0;
}

static void
pace(HpHost* const host)
{
  if (!host->pos) {
    clock_gettime(CLOCK_MONOTONIC, &host->t0);
    return;
  }

  // Wait until the wall clock reaches this block's start
  const double    secs  = (double)host->pos / host->cfg.sample_rate;
  struct timespec when  = host->t0;
  const double    whole = floor(secs);
  when.tv_sec += (time_t)whole;
  when.tv_nsec += (long)((secs - whole) * 1e9);
  if (when.tv_nsec >= 1000000000L) {
    when.tv_nsec -= 1000000000L;
    ++when.tv_sec;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL) ==
         EINTR) {
  }
}

int
hp_host_run(HpHost* host, uint32_t nframes)
{
  if (nframes < 1u || nframes > host->cfg.max_block) {
    set_error(
      "block of %u frames is outside 1..%u", nframes, host->cfg.max_block);
    return -1;
  }
  if (host->cfg.pace_realtime) {
    pace(host);
  }

  // Inputs: events for this block; other atom inputs empty
  for (uint32_t i = 0u; i < host->n_ports; ++i) {
    Port* const port = &host->ports[i];
    if (port->type == PORT_CONTROL &&
        atomic_exchange_explicit(
          &port->pending_set, false, memory_order_acquire)) {
      port->value = atomic_load_explicit(&port->pending, memory_order_relaxed);
    } else if (port->type == PORT_ATOM) {
      if (port == host->control) {
        fill_control(host, nframes);
      } else if (port->is_input) {
        reset_sequence_in((LV2_Atom_Sequence*)port->buf,
                          host->uris.atom_Sequence);
      } else {
        reset_sequence_out(port, host->hu.atom_Chunk);
      }
    } else if (port->type == PORT_AUDIO && !port->is_input) {
      if (host->cfg.poison_outputs) {
        float* const out = (float*)port->buf;
        for (uint32_t f = 0u; f < nframes; ++f) {
          out[f] = NAN;
        }
      } else {
        memset(port->buf, 0, nframes * sizeof(float));
      }
    }
  }

  const bool      was = hp_rt_set_active(true);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (host->cfg.callgrind_run) {
    CALLGRIND_TOGGLE_COLLECT;
  }
  lilv_instance_run(host->instance, nframes);
  if (host->cfg.callgrind_run) {
    CALLGRIND_TOGGLE_COLLECT;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  host->last_run_ns = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
                                 (t1.tv_nsec - t0.tv_nsec));
  hp_rt_set_active(was);

  // Worker replies, then end_run(), like jalv_run()
  if (host->iface) {
    deliver_responses(host, &host->state_responses);
    deliver_responses(host, &host->responses);
    if (host->iface->end_run) {
      const bool was_end = hp_rt_set_active(true);
      host->iface->end_run(lilv_instance_get_handle(host->instance));
      hp_rt_set_active(was_end);
      atomic_fetch_add_explicit(&host->st_end_run, 1u, memory_order_relaxed);
    }
  }

  // work_response() may have written to notify too, so parse it last
  if (host->notify_seq) {
    hp_host_parse_notify(host, host->notify_seq, host->notify->capacity);
  }
  const int ret = record_output(host, nframes);
  host->pos += nframes;
  return ret;
}

const LV2_Atom_Sequence*
hp_host_control_sequence(const HpHost* host)
{
  return host->control_seq;
}

const LV2_Atom_Sequence*
hp_host_notify_sequence(const HpHost* host, uint32_t* capacity)
{
  *capacity = host->notify_seq ? host->notify->capacity : 0u;
  return host->notify_seq;
}

static uint32_t
next_block(HpHost* const host, const HpBlockPolicy* const policy)
{
  const uint32_t max_block = host->cfg.max_block;
  if (policy->mode == HP_BLOCK_FIXED) {
    const uint32_t size = policy->size ? policy->size : host->cfg.nominal_block;
    return size < max_block ? size : max_block;
  }

  uint32_t lo = policy->min ? policy->min : 1u;
  uint32_t hi = policy->max ? policy->max : max_block;
  hi          = hi < max_block ? hi : max_block;
  lo          = lo < hi ? lo : hi;
  if (rng_range(&host->rng, 0u, 7u) == 0u) {
    // The edges, which uniform draws almost never hit
    const uint32_t edges[4] = {
      lo, lo + 1u < hi ? lo + 1u : hi, hi - 1u > lo ? hi - 1u : lo, hi};
    return edges[rng_range(&host->rng, 0u, 3u)];
  }
  return rng_range(&host->rng, lo, hi);
}

int
hp_host_render(HpHost* host, uint64_t total_frames, HpBlockPolicy policy)
{
  uint64_t left = total_frames;
  while (left) {
    uint32_t n = next_block(host, &policy);
    n          = n < left ? n : (uint32_t)left;
    if (hp_host_run(host, n)) {
      return -1;
    }
    left -= n;
  }
  return 0;
}

const HpHostEvent*
hp_host_run_until(HpHost*     host,
                  HpEventKind kind,
                  int         seq,
                  uint32_t    block,
                  uint64_t    max_frames)
{
  const size_t start = host->n_events;
  uint64_t     done  = 0u;
  block              = block ? block : host->cfg.nominal_block;
  while (done < max_frames) {
    const uint32_t n =
      max_frames - done < block ? (uint32_t)(max_frames - done) : block;
    if (hp_host_run(host, n)) {
      return NULL;
    }
    done += n;
    const HpHostEvent* const e = find_event_from(host, start, kind, seq);
    if (e) {
      return e;
    }
  }
  set_error("no %s event (seq %d) within %llu frames",
            hp_host_event_kind_name(kind),
            seq,
            (unsigned long long)max_frames);
  return NULL;
}

/* Output */

uint64_t
hp_host_frames(const HpHost* host)
{
  return host->pos;
}

const float*
hp_host_out_l(const HpHost* host)
{
  return host->rec_l;
}

const float*
hp_host_out_r(const HpHost* host)
{
  return host->rec_r;
}

size_t
hp_host_recorded(const HpHost* host)
{
  return host->rec_n;
}

uint64_t
hp_host_recorded_start(const HpHost* host)
{
  return host->rec_start;
}

void
hp_host_discard_output(HpHost* host)
{
  host->rec_n     = 0u;
  host->rec_start = host->pos;
}

const HpBlock*
hp_host_blocks(const HpHost* host, size_t* n_blocks)
{
  *n_blocks = host->n_blocks;
  return host->blocks;
}

static void
put_le(uint8_t* const p, const uint32_t v, const unsigned bytes)
{
  for (unsigned i = 0u; i < bytes; ++i) {
    p[i] = (uint8_t)(v >> (8u * i));
  }
}

int
hp_host_write_wav(const HpHost* host, const char* path)
{
  FILE* const f = fopen(path, "wb");
  if (!f) {
    set_error("cannot write %s: %s", path, strerror(errno));
    return -1;
  }

  // WAVE_FORMAT_IEEE_FLOAT, stereo, with the fact chunk it requires
  const uint32_t frames = (uint32_t)host->rec_n;
  const uint32_t rate   = (uint32_t)lrint(host->cfg.sample_rate);
  const uint32_t data   = frames * 8u;
  uint8_t        h[58];
  memcpy(h, "RIFF", 4);
  put_le(h + 4, 50u + data, 4u);
  memcpy(h + 8, "WAVEfmt ", 8);
  put_le(h + 16, 18u, 4u);
  put_le(h + 20, 3u, 2u); // IEEE float
  put_le(h + 22, 2u, 2u);
  put_le(h + 24, rate, 4u);
  put_le(h + 28, rate * 8u, 4u);
  put_le(h + 32, 8u, 2u);
  put_le(h + 34, 32u, 2u);
  put_le(h + 36, 0u, 2u);
  memcpy(h + 38, "fact", 4);
  put_le(h + 42, 4u, 4u);
  put_le(h + 46, frames, 4u);
  memcpy(h + 50, "data", 4);
  put_le(h + 54, data, 4u);

  bool ok = fwrite(h, sizeof(h), 1u, f) == 1u;
  for (uint32_t i = 0u; ok && i < frames; ++i) {
    uint8_t  frame[8];
    uint32_t l = 0u;
    uint32_t r = 0u;
    memcpy(&l, &host->rec_l[i], 4u);
    memcpy(&r, &host->rec_r[i], 4u);
    put_le(frame, l, 4u);
    put_le(frame + 4, r, 4u);
    ok = fwrite(frame, sizeof(frame), 1u, f) == 1u;
  }
  if (fclose(f) || !ok) {
    set_error("error writing %s", path);
    return -1;
  }
  return 0;
}

/* The patch protocol (README, "The patch protocol") */

static void
put_float(LV2_Atom_Forge* const forge, const LV2_URID key, const float value)
{
  lv2_atom_forge_key(forge, key);
  lv2_atom_forge_float(forge, value);
}

static LV2_Atom_Forge*
begin_message(HpHost* const               host,
              LV2_Atom_Forge_Frame* const frame,
              const LV2_URID              otype,
              const int                   seq)
{
  LV2_Atom_Forge* const forge =
    sink_reset(&host->proto_forge, &host->proto_sink);
  lv2_atom_forge_object(forge, frame, 0u, otype); // blank: id 0
  if (seq >= 0) {
    lv2_atom_forge_key(forge, host->uris.patch_sequenceNumber);
    lv2_atom_forge_int(forge, seq);
  }
  return forge;
}

static int
end_message(HpHost* const               host,
            LV2_Atom_Forge* const       forge,
            LV2_Atom_Forge_Frame* const frame,
            const uint64_t              when)
{
  lv2_atom_forge_pop(forge, frame);
  const LV2_Atom* const atom = sink_atom(&host->proto_sink);
  if (!atom) {
    set_error("out of memory building a message");
    return -1;
  }
  return hp_host_send_atom(host, when, atom);
}

/* An op through the plugin's own encoder (plugin/atoms.c), as the plugin
   decodes it. */
static int
send_op(HpHost* const     host,
        const uint64_t    frame,
        const HpOp* const op,
        const HpOp* const primes,
        const uint32_t    n_primes)
{
  LV2_Atom_Forge* const forge =
    sink_reset(&host->proto_forge, &host->proto_sink);
  if (!hp_atom_encode_op(forge, &host->uris, op, primes, n_primes)) {
    set_error("this operation has no message form");
    return -1;
  }
  const LV2_Atom* const atom = sink_atom(&host->proto_sink);
  if (!atom) {
    set_error("out of memory building a message");
    return -1;
  }
  return hp_host_send_atom(host, frame, atom);
}

/* A commit as the caller spells it, prime kinds and all (tests send kinds
   the plugin must refuse): by hand, not through the op encoder. */
int
hp_host_send_commit(HpHost*             host,
                    uint64_t            frame,
                    int                 seq,
                    const HpHostCommit* opts)
{
  const HpURIs* const   u = &host->uris;
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge = begin_message(host, &obj, u->hp_Commit, seq);
  if (opts && opts->set_warmup) {
    lv2_atom_forge_key(forge, u->hp_warmup);
    lv2_atom_forge_int(forge, opts->warmup);
  }
  if (opts && opts->set_crossfade) {
    put_float(forge, u->hp_crossfade, opts->crossfade);
  }
  if (opts && opts->set_require_signal) {
    lv2_atom_forge_key(forge, u->hp_requireSignal);
    lv2_atom_forge_bool(forge, opts->require_signal);
  }
  if (opts && opts->prime) {
    LV2_Atom_Forge_Frame list;
    lv2_atom_forge_key(forge, u->hp_prime);
    lv2_atom_forge_tuple(forge, &list);
    for (uint32_t i = 0u; i < opts->n_prime; ++i) {
      const HpPrimeOp* const p = &opts->prime[i];
      LV2_Atom_Forge_Frame   entry;
      lv2_atom_forge_tuple(forge, &entry);
      lv2_atom_forge_string(forge, p->op, (uint32_t)strlen(p->op));
      lv2_atom_forge_string(forge, p->module, (uint32_t)strlen(p->module));
      if (p->param) {
        lv2_atom_forge_string(forge, p->param, (uint32_t)strlen(p->param));
      } else {
        lv2_atom_forge_atom(forge, 0u, 0u); // the empty atom: no parameter
      }
      lv2_atom_forge_float(forge, p->value);
      lv2_atom_forge_pop(forge, &entry);
    }
    lv2_atom_forge_pop(forge, &list);
  }
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_patch_get(HpHost* host, uint64_t frame, int seq)
{
  HpOp get;
  hp_op_init(&get, HP_OP_GET);
  get.seq = seq >= 0 ? seq : HP_NO_SEQ;
  return send_op(host, frame, &get, NULL, 0u);
}

int
hp_host_send_patch_set(HpHost*         host,
                       uint64_t        frame,
                       int             seq,
                       const char*     property,
                       const LV2_Atom* value)
{
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge =
    begin_message(host, &obj, host->uris.patch_Set, seq);
  lv2_atom_forge_key(forge, host->uris.patch_property);
  lv2_atom_forge_urid(forge, hp_host_map(host, property));
  lv2_atom_forge_key(forge, host->uris.patch_value);
  lv2_atom_forge_write(forge, value, (uint32_t)sizeof(LV2_Atom) + value->size);
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_patch_set_path(HpHost*     host,
                            uint64_t    frame,
                            int         seq,
                            const char* property,
                            const char* path)
{
  LV2_Atom_Forge_Frame  obj;
  LV2_Atom_Forge* const forge =
    begin_message(host, &obj, host->uris.patch_Set, seq);
  lv2_atom_forge_key(forge, host->uris.patch_property);
  lv2_atom_forge_urid(forge, hp_host_map(host, property));
  lv2_atom_forge_key(forge, host->uris.patch_value);
  lv2_atom_forge_path(forge, path, (uint32_t)strlen(path));
  return end_message(host, forge, &obj, frame);
}

int
hp_host_send_text(HpHost* host, uint64_t frame, int seq, const char* line)
{
  /* The engine's own parser (src/text.c), unchecked: values the plugin
     must refuse are sent as written. */
  HpOp           op;
  HpError        err;
  const HpStatus st = hp_op_parse_text_unchecked(line, &op, &err);
  if (st == HP_ERR_NOTHING_STAGED) {
    return 1;
  }
  if (st) {
    set_error("%s: \"%s\"", err.message, line);
    return -1;
  }
  op.seq = seq >= 0 ? seq : HP_NO_SEQ;
  if (op.type == HP_OP_PRIME_SET || op.type == HP_OP_PRIME_GATE) {
    if (host->n_primes == HP_HOST_MAX_PRIMES) {
      set_error("more than %d /patch/prime lines before a commit",
                HP_HOST_MAX_PRIMES);
      return -1;
    }
    host->primes[host->n_primes++] = op; /* rides on the next commit */
    return 0;
  }
  const bool commit = op.type == HP_OP_COMMIT;
  const int  r      = send_op(host,
                        frame,
                        &op,
                        commit && host->n_primes ? host->primes : NULL,
                        commit ? host->n_primes : 0u);
  if (commit) {
    host->n_primes = 0u;
  }
  return r;
}

/* State (lilv_state_*) */

static const void*
get_port_value(const char* symbol,
               void*       user_data,
               uint32_t*   size,
               uint32_t*   type)
{
  HpHost* const host = (HpHost*)user_data;
  Port* const   port = port_by_symbol(host, symbol);
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
  Port* const   port = port_by_symbol(host, symbol);
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

static int
restore_state(HpHost* const host, const LilvState* const state, unsigned flags)
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
    set_error("lilv_state_new_from_instance() failed");
    return -1;
  }

  if (lilv_state_save(
        host->world, &host->map, &host->unmap, state, NULL, dir, "state.ttl")) {
    set_error("lilv_state_save() to %s failed", dir);
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
    set_error("no saved state to restore");
    return -1;
  }
  return restore_state(host, host->saved, flags);
}

int
hp_host_restore_state_file(HpHost* host, const char* path, unsigned flags)
{
  LilvState* const state =
    lilv_state_new_from_file(host->world, &host->map, NULL, path);
  if (!state) {
    set_error("cannot load state from %s", path);
    return -1;
  }
  const int ret = restore_state(host, state, flags);
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
    set_error("preset <%s> not found", preset_uri);
    return -1;
  }
  const int ret = restore_state(host, state, flags);
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
    set_error("no saved state");
    return NULL;
  }
  char* const str  = lilv_state_to_string(host->world,
                                         &host->map,
                                         &host->unmap,
                                         host->saved,
                                         "urn:hotpatch:test-state",
                                         NULL);
  char* const copy = str ? copy_string(str, strlen(str)) : NULL;
  lilv_free(str);
  return copy;
}
