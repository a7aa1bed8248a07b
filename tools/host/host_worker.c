/*
  hotpatch's lilv host: the worker (see host_internal.h).  Threaded mode
  runs work() on a thread fed by a ring, sync mode (Ardour's freewheel)
  runs it inside schedule_work(), and restore() gets its own schedule
  whose responses wait for the next run(), as in jalv 1.6.6.
*/

#include "host_internal.h"

#include <lilv/lilv.h>
#include <lv2/worker/worker.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The worker's rings (Ring: host_internal.h) */

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

LV2_Worker_Status
host_schedule_work(LV2_Worker_Schedule_Handle handle,
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
LV2_Worker_Status
host_schedule_work_state(LV2_Worker_Schedule_Handle handle,
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

void*
host_worker_main(void* const arg)
{
  HpHost* const host = (HpHost*)arg;
  while (true) {
    while (sem_wait(&host->sem) && errno == EINTR) {
    }

    const bool exiting = atomic_load(&host->exit);
    if (!exiting && host->cfg.worker_delay_max_us) {
      // Sleep before taking the request, so the ring stays full meanwhile
      sleep_us(
        host_rng_range(&host->worker_rng, 0u, host->cfg.worker_delay_max_us));
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

void
host_deliver_responses(HpHost* const host, Ring* const ring)
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
    host_set_error("worker still busy after %u ms (%u requests pending)",
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

/* Setup (hp_host_new() in host.c) */

int
host_start_worker(HpHost* const host)
{
  const uint32_t ring_size = host->cfg.worker_ring_size;
  if (ring_init(&host->requests, ring_size) ||
      ring_init(&host->responses, ring_size) ||
      ring_init(&host->state_responses, ring_size)) {
    host_set_error("out of memory for the worker rings");
    return -1;
  }

  // No message can be larger than its ring
  host->work_buf     = (uint8_t*)malloc(host->requests.size);
  host->response_buf = (uint8_t*)malloc(host->responses.size);
  if (!host->work_buf || !host->response_buf) {
    host_set_error("out of memory for the worker buffers");
    return -1;
  }

  if (sem_init(&host->sem, 0, 0u)) {
    host_set_error("sem_init() failed: %s", strerror(errno));
    return -1;
  }
  host->sem_ready = true;
  return 0;
}
