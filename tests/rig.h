/*
  The DSP programs' rig (tests/test_dsp_*.c): one module driven directly
  through its descriptor, with state allocated and zeroed, init(),
  hand-built HpNodeIO and whole-render buffers processed in chunks of
  varying size (1..HP_CHUNK, so chunk boundaries land everywhere); and the
  signals they feed it and measure.
*/

#ifndef HP_TEST_RIG_H
#define HP_TEST_RIG_H

#include "check.h"
#include "dsp.h"
#include "module.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* The sample rates every module is tried at: the first alone under
   valgrind, which looks for memory errors (one rate shows them as well as
   three) at 30 times the cost. */
static const float rates[] = {48000.0f, 44100.0f, 96000.0f};

static inline size_t
n_rates(void)
{
  const char* const preload = getenv("LD_PRELOAD");
  return preload && strstr(preload, "vgpreload")
           ? 1u
           : sizeof(rates) / sizeof(rates[0]);
}

/* Rig: one module with whole-render buffers, processed chunk by chunk. */

typedef struct {
  const HpModuleDesc* desc;
  void*               state;
  float               rate;
  HpParamIn           param[HP_MAX_PARAMS]; /* values, when psig is NULL */
  const float*        psig[HP_MAX_PARAMS];  /* whole-render param signals */
  const float*        in[HP_MAX_PORTS];     /* whole-render inputs */
  float*              out[HP_MAX_PORTS];    /* whole-render outputs */
  float*              mem; /* desc->memory's, made at the first run */
  size_t              mem_size;
  HpMemAccess         mem_access;
  bool                looped;   /* prefetch() before each process() */
  HpTime              time;     /* at the next frame; advanced per chunk */
  uint32_t            in_const; /* HpNodeIO.in_const: inputs held constant */
} Rig;

/* Chunk sizes cycle through these: full chunks, single frames, odd sizes. */
static const uint32_t chunk_pattern[] =
  {256, 256, 1, 77, 256, 3, 128, 255, 17, 256};
#define N_PATTERN (sizeof(chunk_pattern) / sizeof(chunk_pattern[0]))
static size_t chunk_next;

static inline float*
buffer(const size_t n)
{
  float* const b = (float*)calloc(n ? n : 1, sizeof(float));
  CHECK(b);
  return b;
}

static inline Rig
rig_new(const char* const type, const float rate)
{
  Rig r;
  memset(&r, 0, sizeof(r));
  r.desc = hp_module_find(type);
  CHECK_MSG(r.desc, "module type %s", type);
  r.rate               = rate;
  r.time.bpm           = 120.0f;
  r.time.beats_per_bar = 4.0f;
  r.state              = calloc(1, r.desc->state_size ? r.desc->state_size : 1);
  CHECK(r.state);
  for (uint32_t p = 0; p < r.desc->n_params; ++p) {
    r.param[p].value = r.desc->params[p].def;
  }
  if (r.desc->init) {
    r.desc->init(r.state, r.param, rate);
  }
  return r;
}

static inline void
rig_free(Rig* const r)
{
  free(r->state);
  free(r->mem);
  r->state = NULL;
  r->mem   = NULL;
}

static inline int
param_index(const Rig* const r, const char* const name)
{
  const int p = hp_module_find_param(r->desc, name);
  CHECK_MSG(p >= 0, "%s has no param %s", r->desc->type, name);
  return p;
}

static inline void
rig_set(Rig* const r, const char* const name, const float value)
{
  r->param[param_index(r, name)].value = value;
}

static inline void
rig_signal(Rig* const r, const char* const name, const float* const sig)
{
  r->psig[param_index(r, name)] = sig;
}

/* Process frames [from, from + n) of the whole-render buffers. */
static inline void
rig_run(Rig* const r, const size_t from, const size_t n)
{
  const float* in[HP_MAX_PORTS];
  float*       out[HP_MAX_PORTS];
  HpParamIn    param[HP_MAX_PARAMS];
  uint32_t     out_const = 0; /* what the module says of its outputs */
  HpTime       time      = r->time;
  HpNodeIO     io        = {.state      = r->state,
                            .in         = in,
                            .out        = out,
                            .param      = param,
                            .rate       = r->rate,
                            .inv_rate   = 1.0f / r->rate,
                            .in_const   = r->in_const,
                            .out_const  = &out_const,
                            .mem_access = r->mem_access,
                            .looped     = r->looped,
                            .time       = &time};
  if (r->desc->memory && !r->mem) {
    for (uint32_t p = 0; p < r->desc->n_params; ++p) {
      param[p].signal = NULL;
      param[p].value  = r->param[p].value;
    }
    r->mem_size = r->desc->memory(param, r->rate);
    r->mem      = (float*)calloc(r->mem_size ? r->mem_size : 1, sizeof(float));
    CHECK(r->mem);
  }
  io.mem      = r->mem;
  io.mem_size = r->mem_size;

  for (size_t pos = from; pos < from + n;) {
    uint32_t m = chunk_pattern[chunk_next++ % N_PATTERN];
    if (m > from + n - pos) {
      m = (uint32_t)(from + n - pos);
    }
    for (uint32_t i = 0; i < r->desc->n_inputs; ++i) {
      in[i] = r->in[i] ? r->in[i] + pos : NULL;
    }
    for (uint32_t o = 0; o < r->desc->n_outputs; ++o) {
      out[o] = r->out[o] ? r->out[o] + pos : NULL;
    }
    for (uint32_t p = 0; p < r->desc->n_params; ++p) {
      param[p].signal = r->psig[p] ? r->psig[p] + pos : NULL;
      param[p].value  = r->param[p].value;
    }
    time = r->time;
    if (r->looped && r->desc->prefetch) {
      r->desc->prefetch(&io, m);
    }
    r->desc->process(&io, m);
    r->time.beat += r->time.beats_per_frame * (double)m;
    pos += m;
  }
}

/* A sine of amplitude 1 at `freq`, computed in double. */
static inline float*
tone(const double freq, const double rate, const size_t n)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = (float)sin(2.0 * PI * freq * (double)i / rate);
  }
  return b;
}

/* Uniform noise in [-amp, amp), the same every run (xorshift32 from a
   fixed seed). */
static inline float*
rig_noise(const size_t n, const float amp)
{
  float* const b = buffer(n);
  uint32_t     x = 0x12345678u;
  for (size_t i = 0; i < n; ++i) {
    x    = hp_xorshift32(x);
    b[i] = amp * (float)(int32_t)x * 0x1p-31f;
  }
  return b;
}

/* FNV-1a over the float bits: a render's fingerprint. */
static inline uint64_t
rig_checksum(const float* const x, const size_t n)
{
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; ++i) {
    uint32_t u = 0;
    memcpy(&u, &x[i], sizeof(u));
    for (int b = 0; b < 4; ++b) {
      h ^= (u >> (8 * b)) & 0xFFu;
      h *= 0x100000001b3u;
    }
  }
  return h;
}

static inline float*
constant(const float v, const size_t n)
{
  float* const b = buffer(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = v;
  }
  return b;
}

static inline double
mean(const float* const x, const size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) {
    s += (double)x[i];
  }
  return n ? s / (double)n : 0.0;
}

static inline float
min_of(const float* const x, const size_t n)
{
  float m = INFINITY;
  for (size_t i = 0; i < n; ++i) {
    m = x[i] < m ? x[i] : m;
  }
  return m;
}

static inline float
max_of(const float* const x, const size_t n)
{
  float m = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    m = x[i] > m ? x[i] : m;
  }
  return m;
}

#endif /* HP_TEST_RIG_H */
