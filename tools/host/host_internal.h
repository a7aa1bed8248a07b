/*
  hotpatch's lilv host, private: the host's state and what its files share.

  host.h is the public API; this header is for tools/host/host*.c only.
  One job per file:

    host.c           errors, accessors, ports, features, hp_host_new/free
    host_urid.c      URID map and log (any thread)
    host_worker.c    the worker: rings, thread, schedule and respond
    host_events.c    events in (the control sequence), notify parsing
    host_run.c       hp_host_run() and friends, recorded output, WAV
    host_protocol.c  the patch protocol's messages, forge sinks
    host_state.c     state save/restore, presets

  Functions shared between the files are prefixed host_ and declared here;
  everything else stays static in its file.
*/

#ifndef HP_HOST_INTERNAL_H
#define HP_HOST_INTERNAL_H

#include "host.h"

#include "atoms.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HP_HOST_MAX_PRIMES 64

/* URID map: thread-safe (the worker thread maps too), sorted for lookup */

typedef struct {
  pthread_mutex_t lock;
  char**          uris;   ///< uris[id - 1]
  uint32_t*       sorted; ///< ids ordered by URI
  uint32_t        n;
  uint32_t        cap;
} UriMap;

/* Single-producer single-consumer byte ring holding whole messages
   (a uint32_t size, then the body).  A message is published with one
   release store of the write counter, so the reader never sees half. */

typedef struct {
  uint8_t*      buf;
  uint32_t      size; ///< a power of 2
  atomic_size_t written;
  atomic_size_t read;
} Ring;

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
  float       value;  ///< control ports; touched by the thread that runs
  void*       buf;    ///< connected buffer (owned unless &value or shared)
  bool        shared; ///< buf is an output's (an input connected in place)
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
  HpDisplayQueueDraw  queue_draw;
  LV2_Feature         f_queue_draw;
  const LV2_Feature*  features[10];
  char                missing_features[1024];

  // Log: any thread, under log_lock
  pthread_mutex_t log_lock;
  LogEntry*       log_entries;
  size_t          n_log;
  size_t          cap_log;

  // The inline display: the plugin's interface (read-only after
  // hp_host_new()) and idpy:queue_draw's calls (any thread)
  const HpDisplayInterface* display;
  _Atomic uint64_t          queue_draws;

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
  Port*              in_l;
  Port*              in_r;
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

  float*   input_l; ///< hp_host_set_input(): what the inputs play
  float*   input_r;
  size_t   input_n;
  uint64_t input_start; ///< the absolute frame of input_l[0]

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

/* host.c */

__attribute__((format(printf, 1, 2))) void host_set_error(const char* fmt, ...);

char* host_copy_string(const char* str, size_t len);

uint32_t host_rng_range(uint64_t* state, uint32_t lo, uint32_t hi);

Port* host_port_by_symbol(const HpHost* host, const char* symbol);

void host_reset_sequence_in(LV2_Atom_Sequence* seq, LV2_URID type);

/** An output sequence starts as a Chunk whose size is the space available. */
void host_reset_sequence_out(Port* port, LV2_URID chunk);

void host_free_event(HpHostEvent* ev);

/* host_urid.c */

LV2_URID
host_urimap_map(LV2_URID_Map_Handle handle, const char* uri);

const char* host_urimap_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid);

void host_urimap_free(UriMap* m);

__attribute__((format(printf, 3, 0))) int host_log_vprintf(
  LV2_Log_Handle handle,
  LV2_URID       type,
  const char*    fmt,
  va_list        ap);

__attribute__((format(printf, 3, 4))) int host_log_printf(LV2_Log_Handle handle,
                                                          LV2_URID       type,
                                                          const char*    fmt,
                                                          ...);

/** The last error or warning the plugin logged, for failure messages. */
void host_last_logged_problem(HpHost* host, char* buf, size_t size);

/* host_worker.c */

/** The rings, buffers and semaphore (the thread starts in hp_host_new()). */
int host_start_worker(HpHost* host);

LV2_Worker_Status host_schedule_work(LV2_Worker_Schedule_Handle handle,
                                     uint32_t                   size,
                                     const void*                data);

/** The schedule feature given to restore(). */
LV2_Worker_Status host_schedule_work_state(LV2_Worker_Schedule_Handle handle,
                                           uint32_t                   size,
                                           const void*                data);

void* host_worker_main(void* arg);

void host_deliver_responses(HpHost* host, Ring* ring);

/* host_events.c */

/** Move the events of [pos, pos + n) into the control sequence. */
void host_fill_control(HpHost* host, uint32_t nframes);

const HpHostEvent* host_find_event_from(const HpHost* host,
                                        size_t        start,
                                        HpEventKind   kind,
                                        int           seq);

/* host_state.c */

int host_restore_state(HpHost* host, const LilvState* state, unsigned flags);

#endif /* HP_HOST_INTERNAL_H */
