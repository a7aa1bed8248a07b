/*
  hotpatch's lilv host: running blocks (hp_host_run() and the loops over
  it) and the recorded output, with the WAV writer (see host_internal.h).
*/

#include "host_internal.h"

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <valgrind/callgrind.h>

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
      host_set_error("out of memory recording output");
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
      host_set_error("out of memory recording blocks");
      return -1;
    }
    host->blocks     = blocks;
    host->cap_blocks = cap;
  }
  host->blocks[host->n_blocks++] = (HpBlock){host->pos, nframes};
  return 0;
}

/* The audio inputs' frames of this block: what hp_host_set_input() gave,
   silence around it.  After the outputs are cleared: in place, the input
   is what the plugin finds in the shared buffer. */
static void
fill_input(Port* const        port,
           const float* const input,
           const size_t       input_n,
           const int64_t      offset,
           const uint32_t     nframes)
{
  float* const buf = (float*)port->buf;
  for (uint32_t f = 0u; f < nframes; ++f) {
    const int64_t at = offset + (int64_t)f;
    buf[f]           = at >= 0 && at < (int64_t)input_n ? input[at] : 0.0f;
  }
}

int
hp_host_set_input(HpHost* const      host,
                  const float* const l,
                  const float* const r,
                  const size_t       n)
{
  if (!host->in_l && !host->in_r) {
    host_set_error("the plugin has no audio input");
    return -1;
  }
  float* const copy_l = (float*)malloc((n ? n : 1u) * sizeof(float));
  float* const copy_r = (float*)malloc((n ? n : 1u) * sizeof(float));
  if (!copy_l || !copy_r) {
    free(copy_l);
    free(copy_r);
    host_set_error("out of memory for %zu frames of input", n);
    return -1;
  }
  memcpy(copy_l, l, n * sizeof(float));
  memcpy(copy_r, r, n * sizeof(float));
  free(host->input_l);
  free(host->input_r);
  host->input_l     = copy_l;
  host->input_r     = copy_r;
  host->input_n     = n;
  host->input_start = host->pos;
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
    host_set_error(
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
        host_fill_control(host, nframes);
      } else if (port->is_input) {
        host_reset_sequence_in((LV2_Atom_Sequence*)port->buf,
                               host->uris.atom_Sequence);
      } else {
        host_reset_sequence_out(port, host->hu.atom_Chunk);
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

  const int64_t offset = (int64_t)(host->pos - host->input_start);
  if (host->in_l) {
    fill_input(host->in_l, host->input_l, host->input_n, offset, nframes);
  }
  if (host->in_r) {
    fill_input(host->in_r, host->input_r, host->input_n, offset, nframes);
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
    host_deliver_responses(host, &host->state_responses);
    host_deliver_responses(host, &host->responses);
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
  if (host_rng_range(&host->rng, 0u, 7u) == 0u) {
    // The edges, which uniform draws almost never hit
    const uint32_t edges[4] = {
      lo, lo + 1u < hi ? lo + 1u : hi, hi - 1u > lo ? hi - 1u : lo, hi};
    return edges[host_rng_range(&host->rng, 0u, 3u)];
  }
  return host_rng_range(&host->rng, lo, hi);
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
    const HpHostEvent* const e = host_find_event_from(host, start, kind, seq);
    if (e) {
      return e;
    }
  }
  host_set_error("no %s event (seq %d) within %llu frames",
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
    host_set_error("cannot write %s: %s", path, strerror(errno));
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
    host_set_error("error writing %s", path);
    return -1;
  }
  return 0;
}
