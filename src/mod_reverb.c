/*
  reverb: a stereo feedback delay network (Jot's FDN).

    in, in_r -> predelay -> 4 allpass diffusers a side -> 8 delay lines,
    each line's output through a one-pole lowpass (damping and loop gain),
    mixed by an 8x8 Hadamard matrix and fed back.  Left and right are two
    orthogonal sign patterns of the mixed lines (so the tails are
    uncorrelated) plus a little of that side's diffused input (the onset,
    at the predelay); each side's input enters every line in its side's
    pattern.

  Decay: line i's loop gain is g_i = 10^(-3 len_i / (decay * rate)), so
  every mode of the network falls 60 dB in `decay` seconds at DC (len_i is
  the line's length plus its lowpass's group delay).  The lowpass pole is
  set per line so that at DAMP_HZ the loss is that of a decay
  10^-damping times as long: the same high-frequency decay through every
  line, so the tail darkens without colouring.  A first-order lowpass that
  dark also takes some of the low mids (damping 1: the 250 Hz octave's
  decay up to 10% short, 125 Hz within 4%; test_dsp_reverb.c).

  Lengths: prime numbers of frames (so no two lines share echoes), spread
  over 31..97 ms at size 1, times 4^(size - 1).  Two lines are modulated
  slowly (0.5 ms swing, below 0.8 Hz, allpass-interpolated so it costs no
  treble) to smear the modes of long tails; the modulators follow the
  write head, so the output does not depend on how calls are cut.  A live size
  or predelay change glides the delays there (linearly interpolated), a bounded
  pitch bend rather than clicks.

  Memory (`memory()`) holds every delay, as power-of-two rings, sized for
  size 1 and the longest predelay at the rate, so it depends on the rate
  alone and a kept reverb rings on through any patch change.  One write
  head `pos` serves all rings.

  Blocks: every recirculating delay is at least as long as the blocks it
  is run in (a call is cut into sub-blocks no longer than the shortest
  delay, and where a ring wraps), so a sub-block reads only what earlier
  ones wrote: each stage is a loop over a whole block (the mixing matrix
  and the diffusers vectorize) and only the lowpasses are a recursion.

  Denormals: a -360 dB DC offset enters with the input, so a tail that
  dies away settles there instead of decaying into denormals.
*/

#include "dsp.h"
#include "module.h"

#include <math.h>
#include <string.h>

enum { P_SIZE, P_DECAY, P_DAMPING, P_PREDELAY, P_MIX, P_WIDTH, N_PARAMS };

enum { IN_LEFT, IN_RIGHT };

enum { OUT_MAIN, OUT_LEFT, OUT_RIGHT };

#define N_LINES 8
#define N_DIFF 4
#define N_MOD 2

/* Line lengths at size 1, ms; size scales them down to a quarter. */
static const double line_ms[N_LINES] =
  {31.3, 36.7, 43.1, 50.9, 59.3, 69.7, 82.1, 97.1};

/* The modulated lines (their modulator, or -1), the modulators' rates
   (Hz) and swing (ms, peak to peak). */
static const int    line_mod_of[N_LINES] = {-1, -1, 0, -1, -1, 1, -1, -1};
static const double mod_hz[N_MOD]        = {0.57, 0.79};
#define MOD_SWING_MS 0.5
/* Frames between the modulators' samples. */
#define MOD_GRID 64u

/* Input diffusers, ms and gains (Dattorro's, the right side detuned). */
static const double diff_ms[2][N_DIFF] = {{4.771, 3.595, 12.735, 9.307},
                                          {4.987, 3.719, 11.959, 8.849}};
static const float  diff_gain[N_DIFF]  = {0.75f, 0.75f, 0.625f, 0.625f};

/* Where `damping` sets the decay: 10^-damping of `decay` at this. */
#define DAMP_HZ 5000.0
/* The lowpass pole at most: a darker one takes the low mids too (its
   group delay, 9 frames at 0.9, is counted in the loop's length). */
#define DAMP_POLE_MAX 0.9

#define PREDELAY_MAX_MS 250.0
/* Glides, frames a frame: delays follow a size change by at most a
   quarter (a 4-semitone bend), the predelay by a half. */
#define LINE_GLIDE 0.25f
#define PRE_GLIDE 0.5f

/* Input gain into the lines, output gain from them and of the diffused
   input: white noise in at the defaults comes out wet at about its level
   (the onset kept low enough not to dominate the decay's first 30 dB). */
#define GAIN_IN 0.35f
#define GAIN_OUT 0.63f
#define GAIN_DIRECT 0.45f

/* Inputs at or over 2^20 (120 dB over full scale), or not finite, enter
   the network as 0: anything less keeps every line finite. */
#define LOUD_BITS (((uint32_t)(127 + 20)) << 23)

#define DENORMAL_GUARD 1e-18f

typedef struct {
  uint32_t off;  /* first float in memory */
  uint32_t mask; /* size - 1, a power of two */
} Ring;

typedef struct {
  /* Layout of memory at `rate` (reverb_layout). */
  float    rate;
  uint32_t mem_floats;
  uint32_t min_ring; /* the smallest ring's size: no block crosses its wrap */
  Ring     pre[2];
  Ring     diff[2][N_DIFF];
  uint32_t diff_len[2][N_DIFF];
  uint32_t max_block; /* the shortest diffuser */
  Ring     line[N_LINES];
  float    swing;          /* modulation, frames peak to peak */
  uint32_t mod_inc[N_MOD]; /* modulators' phase increments a frame */

  uint32_t pos; /* write head of every ring */

  float    size;                   /* what target[] is for */
  uint32_t target[N_LINES];        /* prime lengths for `size` */
  float    len[N_LINES];           /* lengths now, gliding to target */
  float    interp[N_MOD];          /* allpass interpolators' last outputs */
  float    pre_delay;              /* frames now, gliding to the set value */
  float    z[N_LINES];             /* lowpass states */
  float    b[N_LINES], a[N_LINES]; /* lowpass: z = b x + a z */
  float    coef_len[N_LINES], coef_decay, coef_damping; /* b, a are for */
} ReverbState;

/* Rings */

static uint32_t
pow2_at_least(const uint32_t n)
{
  uint32_t p = 1u;
  while (p < n) {
    p <<= 1;
  }
  return p;
}

static Ring
ring_add(uint32_t* const total, const uint32_t frames)
{
  const uint32_t size = pow2_at_least(frames);
  const Ring     r    = {*total, size - 1u};
  *total += size;
  return r;
}

static float*
ring_at(float* const mem, const Ring r, const uint32_t pos)
{
  return mem + r.off + (pos & r.mask);
}

/* Frames from pos to the ring's wrap. */
static uint32_t
ring_room(const Ring r, const uint32_t pos)
{
  return r.mask + 1u - (pos & r.mask);
}

static uint32_t
ms_frames(const double ms, const float rate)
{
  return (uint32_t)lrint(ms * 0.001 * (double)rate);
}

static bool
is_prime(const uint32_t n)
{
  if (n < 4u) {
    return n > 1u;
  }
  if (!(n & 1u)) {
    return false;
  }
  for (uint32_t d = 3u; d * d <= n; d += 2u) {
    if (!(n % d)) {
      return false;
    }
  }
  return true;
}

/* The first prime at or above n.  Prime gaps below 2^32 are under 400. */
static uint32_t
prime_at_least(const uint32_t n)
{
  uint32_t p = n;
  for (uint32_t tries = 0; tries < 400u && !is_prime(p); ++tries) {
    ++p;
  }
  return p;
}

static uint32_t
line_length(const uint32_t i, const float size, const float rate)
{
  const double scale = exp2(2.0 * ((double)size - 1.0));
  return prime_at_least(ms_frames(line_ms[i] * scale, rate));
}

/* The rings for `rate`, largest first (offsets only; contents untouched). */
static void
reverb_layout(ReverbState* const st, const float rate)
{
  uint32_t total = 0;
  st->swing      = (float)(MOD_SWING_MS * 0.001 * (double)rate);
  for (uint32_t k = 0; k < N_MOD; ++k) {
    st->mod_inc[k] = (uint32_t)llrint(mod_hz[k] / (double)rate * 4294967296.0);
  }
  for (uint32_t i = 0; i < N_LINES; ++i) {
    /* Longest delay, its interpolation's next frame, a block's gliding. */
    const uint32_t longest =
      line_length(i, 1.0f, rate) + (uint32_t)st->swing + 4u + HP_CHUNK;
    st->line[i] = ring_add(&total, longest);
  }
  const uint32_t pre = ms_frames(PREDELAY_MAX_MS, rate) + 4u + HP_CHUNK;
  st->pre[0]         = ring_add(&total, pre);
  st->pre[1]         = ring_add(&total, pre);
  st->min_ring       = st->pre[0].mask + 1u;
  st->max_block      = HP_CHUNK;
  for (uint32_t c = 0; c < 2; ++c) {
    for (uint32_t s = 0; s < N_DIFF; ++s) {
      const uint32_t len = ms_frames(diff_ms[c][s], rate);
      st->diff_len[c][s] = len > 1u ? len : 1u;
      st->diff[c][s]     = ring_add(&total, st->diff_len[c][s] + HP_CHUNK);
      st->min_ring       = st->min_ring < st->diff[c][s].mask + 1u
                             ? st->min_ring
                             : st->diff[c][s].mask + 1u;
      st->max_block =
        st->max_block < st->diff_len[c][s] ? st->max_block : st->diff_len[c][s];
    }
  }
  for (uint32_t i = 0; i < N_LINES; ++i) {
    st->min_ring = st->min_ring < st->line[i].mask + 1u ? st->min_ring
                                                        : st->line[i].mask + 1u;
  }
  st->mem_floats = total;
  st->rate       = rate;
}

/* Parameters */

static float
param_size(const HpParamIn* const p, const uint32_t i)
{
  return hp_clampf(hp_param_at(p, i), 0.0f, 1.0f);
}

static float
predelay_frames(const HpParamIn* const p, const uint32_t i, const float rate)
{
  const float ms = hp_clampf(hp_param_at(p, i), 0.0f, (float)PREDELAY_MAX_MS);
  return (float)lrint(hp_ms_to_frames(ms, rate));
}

static void
set_size(ReverbState* const st, const float size)
{
  if (size == st->size) {
    return;
  }
  for (uint32_t i = 0; i < N_LINES; ++i) {
    st->target[i] = line_length(i, size, st->rate);
  }
  st->size = size;
}

/* Line i's lowpass for a loop delay of `len` frames. */
static void
line_coefs(ReverbState* const st,
           const uint32_t     i,
           const double       len,
           const double       decay,
           const double       damping)
{
  const double rate  = (double)st->rate;
  const double ratio = pow(10.0, -damping); /* treble decay / decay */
  const double c = cos(6.283185307179586 * fmin(DAMP_HZ, 0.45 * rate) / rate);
  double       p = 0.0;
  double       g = 1.0;
  /* Twice: the pole's group delay p / (1 - p) lengthens the loop. */
  for (int pass = 0; pass < 2; ++pass) {
    g = pow(10.0, -3.0 * (len + p / (1.0 - p)) / (decay * rate));
    /* |H(w)| = g (1 - p) / |1 - p e^-jw| = g^(1 / ratio) at DAMP_HZ:
       (1 - A) p^2 - 2 (1 - A c) p + (1 - A) = 0 with A the squared ratio
       of the gains; of its two roots (product 1), the one below 1. */
    const double A  = pow(g, 2.0 * (1.0 / ratio - 1.0));
    const double bq = 1.0 - A * c;
    p = (1.0 - A) / (bq + sqrt(fmax(bq * bq - (1.0 - A) * (1.0 - A), 0.0)));
    p = fmin(p, DAMP_POLE_MAX);
  }
  /* 1 / sqrt 8 normalizes the Hadamard matrix. */
  st->b[i] = (float)(g * (1.0 - p) * 0.35355339059327373);
  st->a[i] = (float)p;
}

/* The delay line i's loop has on average: modulated lines swing above it. */
static float
mean_delay(const ReverbState* const st, const uint32_t i)
{
  return st->len[i] + (line_mod_of[i] >= 0 ? 0.5f * st->swing : 0.0f);
}

static void
update_coefs(ReverbState* const st, const float decay, const float damping)
{
  const bool all = decay != st->coef_decay || damping != st->coef_damping;
  for (uint32_t i = 0; i < N_LINES; ++i) {
    if (all || st->coef_len[i] != st->len[i]) {
      line_coefs(
        st, i, (double)mean_delay(st, i), (double)decay, (double)damping);
      st->coef_len[i] = st->len[i];
    }
  }
  st->coef_decay   = decay;
  st->coef_damping = damping;
}

static float
glide(const float from, const float to, const float most)
{
  return from + hp_clampf(to - from, -most, most);
}

static void
reverb_start(ReverbState* const     st,
             const HpParamIn* const param,
             const float            rate)
{
  memset(st, 0, sizeof(*st));
  reverb_layout(st, rate);
  st->size = -1.0f;
  set_size(st, param_size(&param[P_SIZE], 0));
  for (uint32_t i = 0; i < N_LINES; ++i) {
    st->len[i] = (float)st->target[i];
  }
  st->pre_delay  = predelay_frames(&param[P_PREDELAY], 0, rate);
  st->coef_decay = -1.0f;
}

static void
reverb_init(void* const state, const HpParamIn* const param, const float rate)
{
  reverb_start((ReverbState*)state, param, rate);
}

static size_t
reverb_memory(const HpParamIn* const param, const float rate)
{
  ReverbState st;
  (void)param;
  reverb_layout(&st, rate);
  return st.mem_floats;
}

/* DSP kernels, each over one sub-block of m frames */

/* dst = src, and whether any frame is loud or not finite (see LOUD_BITS):
   its exponent bits reach LOUD_BITS, carrying into bit 31. */
HP_ALWAYS_INLINE uint32_t
copy_checked(float* const restrict dst,
             const float* const restrict src,
             const uint32_t m)
{
  uint32_t flags = 0;
  for (uint32_t t = 0; t < m; ++t) {
    uint32_t bits;
    memcpy(&bits, &src[t], sizeof(bits));
    flags |= (bits & 0x7f800000u) + (0x80000000u - LOUD_BITS);
    dst[t] = src[t];
  }
  return flags >> 31;
}

/* The input, flushed where loud or not finite. */
static void
take_input(float* const restrict x,
           const float* const restrict in,
           const uint32_t m)
{
  static const float silence[HP_CHUNK];
  const uint32_t bad = m == HP_VEC ? copy_checked(x, in ? in : silence, HP_VEC)
                                   : copy_checked(x, in ? in : silence, m);
  if (bad) {
    for (uint32_t t = 0; t < m; ++t) {
      x[t] = fabsf(x[t]) < 0x1p20f ? x[t] : 0.0f;
    }
  }
}

/* The predelayed input, u[t] = x[t - d] for a whole d: the frames before
   this block from the ring, the others from x (so a graph that may not
   write memory reads the same). */
static void
predelay_whole(float* const restrict u,
               const float* const restrict ring_from, /* at pos - d */
               const float* const restrict x,
               const uint32_t d,
               const uint32_t m)
{
  const uint32_t old = d < m ? d : m;
  memcpy(u, ring_from, old * sizeof(float));
  memcpy(u + old, x, (m - old) * sizeof(float));
}

/* The same for a delay gliding from d0 by `step` a frame, interpolated. */
static void
predelay_glide(float* const restrict u,
               const float* const restrict mem,
               const Ring     r,
               const uint32_t pos,
               const float* const restrict x,
               const float    d0,
               const float    step,
               const uint32_t m)
{
  for (uint32_t t = 0; t < m; ++t) {
    const float   at = (float)t - (d0 + step * (float)t); /* frames from pos */
    const float   fl = floorf(at);
    const int32_t k  = (int32_t)fl;
    const float   f  = at - fl;
    const float v0 = k < 0 ? mem[r.off + ((pos + (uint32_t)k) & r.mask)] : x[k];
    const float v1 = k + 1 < 0
                       ? mem[r.off + ((pos + (uint32_t)k + 1u) & r.mask)]
                     : k + 1 < (int32_t)m ? x[k + 1]
                                          : v0;
    u[t]           = v0 + f * (v1 - v0);
  }
}

/* A Schroeder allpass of delay >= m over x, in place; v goes to `store`. */
HP_ALWAYS_INLINE void
allpass_run(float* const restrict x,
            const float* const restrict old,
            float* const restrict store,
            const float    g,
            const uint32_t m)
{
  for (uint32_t t = 0; t < m; ++t) {
    const float v = x[t] + g * old[t];
    x[t]          = old[t] - g * v;
    store[t]      = v;
  }
}

/* One-pole lowpass y = b x + a y over a line's output. */
static float
damp_run(float* const restrict y,
         const float* const restrict x,
         const float    b,
         const float    a,
         float          z,
         const uint32_t m)
{
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC unroll 4
#endif
  for (uint32_t t = 0; t < m; ++t) {
    z    = b * x[t] + a * z;
    y[t] = z;
  }
  return z;
}

/* A line read at a delay gliding from d0 by `step` a frame (linear
   interpolation), through its lowpass. */
static float
line_glide(float* const restrict y,
           const float* const restrict ring,
           const uint32_t mask,
           const uint32_t pos,
           const float    d0,
           const float    step,
           const float    b,
           const float    a,
           float          z,
           const uint32_t m)
{
  for (uint32_t t = 0; t < m; ++t) {
    const float    d  = d0 + step * (float)t;
    const uint32_t di = (uint32_t)d;
    const float    f  = d - (float)di;
    const uint32_t p  = pos + t - di;
    const float    v0 = ring[p & mask];
    const float    v1 = ring[(p - 1u) & mask];
    z                 = b * (v0 + f * (v1 - v0)) + a * z;
    y[t]              = z;
  }
  return z;
}

/* A modulated line: its length (len0 gliding by lstep a frame) plus a
   swing of half * (1 + sin), the sine sampled every MOD_GRID frames of
   the write head and interpolated linearly, so the delay at any frame is
   the same whatever blocks it is run in.  Read through a first-order
   allpass interpolator (flat in level, unlike linear interpolation),
   whose fraction is kept in [0.5, 1.5) so its coefficient stays in
   (-1/5, 1/3].  Then the lowpass. */
static float
line_mod(float* const restrict y,
         const float* const restrict ring,
         const uint32_t mask,
         const uint32_t pos,
         const float    len0,
         const float    lstep,
         const float    half,
         const uint32_t inc,
         const uint32_t phase0,
         float* const   interp,
         const float    b,
         const float    a,
         float          z,
         const uint32_t m)
{
  float prev = *interp;
  for (uint32_t t = 0; t < m;) {
    const uint32_t g0  = (pos + t) & ~(MOD_GRID - 1u);
    const uint32_t end = g0 + MOD_GRID - pos < m ? g0 + MOD_GRID - pos : m;
    const float    s0  = half * (1.0f + hp_sin_phase(phase0 + g0 * inc));
    const float    s1 =
      half * (1.0f + hp_sin_phase(phase0 + (g0 + MOD_GRID) * inc));
    const float ds = (s1 - s0) * (1.0f / (float)MOD_GRID);
    /* Whole numbers in float, counted exactly: no conversion a frame. */
    float k  = (float)(int32_t)(pos + t - g0);
    float tf = (float)t;
    for (; t < end; ++t, k += 1.0f, tf += 1.0f) {
      const float    d  = (len0 + lstep * tf) + (s0 + ds * k);
      const int32_t  di = (int32_t)(d - 0.5f);
      const float    f  = d - (float)di;
      const float    c  = (1.0f - f) / (1.0f + f);
      const uint32_t p  = pos + t - (uint32_t)di;
      prev              = ring[(p - 1u) & mask] + c * (ring[p & mask] - prev);
      z                 = b * prev + a * z;
      y[t]              = z;
    }
  }
  *interp = prev;
  return z;
}

/* The Hadamard mix of the lines' outputs plus the input, in place (y
   becomes what the lines are fed), and the two output sign patterns. */
HP_ALWAYS_INLINE void
mix_run(float (*const restrict y)[HP_CHUNK],
        const float* const restrict ul,
        const float* const restrict ur,
        float* const restrict wl,
        float* const restrict wr,
        const uint32_t m)
{
  for (uint32_t t = 0; t < m; ++t) {
    const float a0 = y[0][t] + y[1][t], a1 = y[0][t] - y[1][t];
    const float a2 = y[2][t] + y[3][t], a3 = y[2][t] - y[3][t];
    const float a4 = y[4][t] + y[5][t], a5 = y[4][t] - y[5][t];
    const float a6 = y[6][t] + y[7][t], a7 = y[6][t] - y[7][t];
    const float b0 = a0 + a2, b2 = a0 - a2, b1 = a1 + a3, b3 = a1 - a3;
    const float b4 = a4 + a6, b6 = a4 - a6, b5 = a5 + a7, b7 = a5 - a7;
    /* Each side into every line, in its output pattern. */
    const float s = GAIN_IN * (ul[t] + ur[t]), d = GAIN_IN * (ul[t] - ur[t]);
    const float w0 = b0 + b4 + s, w1 = b1 + b5 - d;
    const float w2 = b2 + b6 + d, w3 = b3 + b7 - s;
    const float w4 = b0 - b4 + s, w5 = b1 - b5 + d;
    const float w6 = b2 - b6 - d, w7 = b3 - b7 - s;
    y[0][t] = w0;
    y[1][t] = w1;
    y[2][t] = w2;
    y[3][t] = w3;
    y[4][t] = w4;
    y[5][t] = w5;
    y[6][t] = w6;
    y[7][t] = w7;
    /* Orthogonal patterns of the lines, and each side's diffused input. */
    const float h0 = b0 + b4, h1 = b1 + b5, h2 = b2 + b6, h3 = b3 + b7;
    const float h4 = b0 - b4, h5 = b1 - b5, h6 = b2 - b6, h7 = b3 - b7;
    wl[t] = GAIN_OUT * ((h0 - h1) + (h2 - h3) + (h4 + h5) - (h6 + h7)) +
            GAIN_DIRECT * ul[t];
    wr[t] = GAIN_OUT * ((h0 + h1) - (h2 + h3) + (h4 - h5) + (h6 - h7)) +
            GAIN_DIRECT * ur[t];
  }
}

/* Dry and wet to the outputs (any of left and right may be NULL). */
static void
output_run(const HpNodeIO* const io,
           const uint32_t        o,
           const float* const restrict dl,
           const float* const restrict dr,
           const float* const restrict wl,
           const float* const restrict wr,
           const float* const restrict mix,
           const float    width,
           const uint32_t m)
{
  float* const main = io->out[OUT_MAIN] + o;
  if (!io->out[OUT_LEFT] && !io->out[OUT_RIGHT]) {
    for (uint32_t t = 0; t < m; ++t) {
      main[t] =
        0.5f * ((dl[t] + dr[t]) * (1.0f - mix[t]) + (wl[t] + wr[t]) * mix[t]);
    }
    return;
  }
  float        spare[HP_CHUNK];
  float* const left  = io->out[OUT_LEFT] ? io->out[OUT_LEFT] + o : spare;
  float* const right = io->out[OUT_RIGHT] ? io->out[OUT_RIGHT] + o : spare;
  const float  near  = 0.5f * (1.0f + width);
  const float  far   = 0.5f * (1.0f - width);
  for (uint32_t t = 0; t < m; ++t) {
    const float l =
      dl[t] * (1.0f - mix[t]) + (near * wl[t] + far * wr[t]) * mix[t];
    const float r =
      dr[t] * (1.0f - mix[t]) + (near * wr[t] + far * wl[t]) * mix[t];
    main[t]  = 0.5f * (l + r);
    left[t]  = l;
    right[t] = r;
  }
}

/* Process */

/* The longest sub-block from frame o: no longer than any delay read in
   it, and crossing no ring's wrap where it is read or written whole. */
static uint32_t
block_length(const ReverbState* const st, const uint32_t left)
{
  uint32_t m        = left < st->max_block ? left : st->max_block;
  float    shortest = st->len[0];
  for (uint32_t i = 1; i < N_LINES; ++i) {
    shortest = fminf(shortest, st->len[i]);
  }
  /* A gliding line shortens by m * LINE_GLIDE over the block, and its
     interpolation reads a frame further. */
  const uint32_t line_most =
    (uint32_t)((shortest - 2.0f) / (1.0f + LINE_GLIDE));
  m = m < line_most ? m : line_most;
  m = m < ring_room(st->pre[0], st->pos) ? m : ring_room(st->pre[0], st->pos);
  const uint32_t room = st->min_ring - (st->pos & (st->min_ring - 1u));
  m                   = m < room ? m : room;
  for (uint32_t c = 0; c < 2; ++c) {
    for (uint32_t s = 0; s < N_DIFF; ++s) {
      const uint32_t r =
        ring_room(st->diff[c][s], st->pos - st->diff_len[c][s]);
      m = m < r ? m : r;
    }
    const uint32_t d = (uint32_t)st->pre_delay;
    if (d) {
      const uint32_t r = ring_room(st->pre[c], st->pos - d);
      m                = m < r ? m : r;
    }
  }
  for (uint32_t i = 0; i < N_LINES; ++i) {
    const uint32_t r = ring_room(st->line[i], st->pos - (uint32_t)st->len[i]);
    m                = m < r ? m : r;
  }
  return m ? m : 1u;
}

static void
reverb_block(ReverbState* const    st,
             const HpNodeIO* const io,
             const bool            write,
             const uint32_t        o,
             const uint32_t        m,
             float* const restrict wl,
             float* const restrict wr)
{
  float* const mem = io->mem;
  float        x[2][HP_CHUNK];
  float        u[2][HP_CHUNK];
  float        y[N_LINES][HP_CHUNK];
  float        scratch[HP_CHUNK];
  const float* in[2] = {io->in[IN_LEFT], io->in[IN_RIGHT]};
  in[1]              = in[1] ? in[1] : in[0];

  /* Predelay. */
  const float pre_to   = predelay_frames(&io->param[P_PREDELAY], o, st->rate);
  const float pre_next = glide(st->pre_delay, pre_to, PRE_GLIDE * (float)m);
  for (uint32_t c = 0; c < 2; ++c) {
    take_input(x[c], in[c] ? in[c] + o : NULL, m);
    if (pre_next == st->pre_delay) {
      const uint32_t d = (uint32_t)st->pre_delay;
      predelay_whole(u[c], ring_at(mem, st->pre[c], st->pos - d), x[c], d, m);
    } else {
      predelay_glide(u[c],
                     mem,
                     st->pre[c],
                     st->pos,
                     x[c],
                     st->pre_delay,
                     (pre_next - st->pre_delay) / (float)m,
                     m);
    }
    if (write) {
      memcpy(ring_at(mem, st->pre[c], st->pos), x[c], m * sizeof(float));
    }
  }
  st->pre_delay = pre_next;

  /* Diffusers. */
  for (uint32_t c = 0; c < 2; ++c) {
    for (uint32_t t = 0; t < m; ++t) {
      u[c][t] += DENORMAL_GUARD;
    }
    for (uint32_t s = 0; s < N_DIFF; ++s) {
      const Ring   r     = st->diff[c][s];
      const float* old   = ring_at(mem, r, st->pos - st->diff_len[c][s]);
      float* const store = write ? ring_at(mem, r, st->pos) : scratch;
      if (m == HP_VEC) {
        allpass_run(u[c], old, store, diff_gain[s], HP_VEC);
      } else {
        allpass_run(u[c], old, store, diff_gain[s], m);
      }
    }
  }

  /* Lines, through their lowpasses. */
  for (uint32_t i = 0; i < N_LINES; ++i) {
    const Ring  r = st->line[i];
    const float next =
      glide(st->len[i], (float)st->target[i], LINE_GLIDE * (float)m);
    const float step = (next - st->len[i]) / (float)m;
    if (line_mod_of[i] >= 0) {
      const uint32_t k = (uint32_t)line_mod_of[i];
      st->z[i]         = line_mod(y[i],
                          mem + r.off,
                          r.mask,
                          st->pos,
                          st->len[i],
                          step,
                          0.5f * st->swing,
                          st->mod_inc[k],
                          k * 0x80000000u,
                          &st->interp[k],
                          st->b[i],
                          st->a[i],
                          st->z[i],
                          m);
    } else if (step != 0.0f) {
      st->z[i] = line_glide(y[i],
                            mem + r.off,
                            r.mask,
                            st->pos,
                            st->len[i],
                            step,
                            st->b[i],
                            st->a[i],
                            st->z[i],
                            m);
    } else {
      const float* const from = ring_at(mem, r, st->pos - (uint32_t)st->len[i]);
      st->z[i] = damp_run(y[i], from, st->b[i], st->a[i], st->z[i], m);
    }
    st->len[i] = next;
  }

  if (m == HP_VEC) {
    mix_run(y, u[0], u[1], wl, wr, HP_VEC);
  } else {
    mix_run(y, u[0], u[1], wl, wr, m);
  }
  if (write) {
    for (uint32_t i = 0; i < N_LINES; ++i) {
      memcpy(ring_at(mem, st->line[i], st->pos), y[i], m * sizeof(float));
    }
  }
}

static void
reverb_process(const HpNodeIO* const io, const uint32_t n)
{
  static const float silence[HP_CHUNK];
  ReverbState* const st = (ReverbState*)io->state;
  if (st->rate != io->rate) { /* never set up, or a new rate: start anew */
    reverb_start(st, io->param, io->rate);
  }
  const bool use_mem =
    io->mem && io->mem_size >= st->mem_floats && io->mem_access != HP_MEM_NONE;
  const bool write = use_mem && io->mem_access == HP_MEM_OWN;

  for (uint32_t o = 0; o < n;) {
    const uint32_t m = block_length(st, n - o);
    float          wl[HP_CHUNK], wr[HP_CHUNK], mix[HP_CHUNK];

    set_size(st, param_size(&io->param[P_SIZE], o));
    update_coefs(st,
                 hp_clampf(hp_param_at(&io->param[P_DECAY], o), 0.1f, 30.0f),
                 hp_clampf(hp_param_at(&io->param[P_DAMPING], o), 0.0f, 1.0f));
    if (use_mem) {
      reverb_block(st, io, write, o, m, wl, wr);
    } else {
      /* Only memory has a tail: the dry path alone, the clocks moving on. */
      for (uint32_t i = 0; i < N_LINES; ++i) {
        st->len[i] =
          glide(st->len[i], (float)st->target[i], LINE_GLIDE * (float)m);
      }
      st->pre_delay =
        glide(st->pre_delay,
              predelay_frames(&io->param[P_PREDELAY], o, st->rate),
              PRE_GLIDE * (float)m);
      memset(wl, 0, m * sizeof(float));
      memset(wr, 0, m * sizeof(float));
    }

    const HpParamIn* const pm = &io->param[P_MIX];
    if (pm->signal) {
      for (uint32_t t = 0; t < m; ++t) {
        mix[t] = hp_clampf(pm->signal[o + t], 0.0f, 1.0f);
      }
    } else {
      hp_fill(mix, pm->value, m);
    }
    const float* const dl = io->in[IN_LEFT] ? io->in[IN_LEFT] + o : silence;
    const float* const dr = io->in[IN_RIGHT] ? io->in[IN_RIGHT] + o : dl;
    output_run(io,
               o,
               dl,
               dr,
               wl,
               wr,
               mix,
               hp_clampf(hp_param_at(&io->param[P_WIDTH], o), 0.0f, 1.0f),
               m);
    st->pos += m;
    o += m;
  }
}

static const HpPortDesc reverb_inputs[] = {
  {.name = "in",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The signal to reverberate: mono, or the left side with in_r."},
  {.name = "in_r",
   .kind = HP_SIGNAL_AUDIO,
   .doc =
     "The right side of a stereo source; unconnected, in feeds both sides."},
};

static const HpPortDesc reverb_outputs[] = {
  {.name = "out",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "Dry and wet mixed, left and right averaged."},
  {.name = "left",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The left side, dry and wet mixed."},
  {.name = "right",
   .kind = HP_SIGNAL_AUDIO,
   .doc  = "The right side, dry and wet mixed."},
};

static const HpParamDesc reverb_params[N_PARAMS] = {
  {.name    = "size",
   .aliases = (const char* const[]){"room", "room_size", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 0.5f,
   .doc     = "Room size: 0 a small room (echoes 8..24 ms apart), 1 a large "
              "hall (31..97 ms); changing it glides the pitch briefly."},
  {.name      = "decay",
   .aliases   = (const char* const[]){"rt60", "time", NULL},
   .kind      = HP_PARAM_CONTINUOUS,
   .unit      = "s",
   .min       = 0.1f,
   .max       = 30.0f,
   .def       = 2.0f,
   .log_scale = true,
   .doc = "Reverberation time (RT60): seconds for the tail's lows to fall "
          "60 dB."},
  {.name    = "damping",
   .aliases = (const char* const[]){"damp", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 0.5f,
   .doc     = "How much faster the highs die: 0 bright (as long as the lows), "
              "1 dark (5 kHz dies up to ten times as fast)."},
  {.name    = "predelay",
   .aliases = (const char* const[]){"pre_delay", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "ms",
   .min     = 0.0f,
   .max     = (float)PREDELAY_MAX_MS,
   .def     = 10.0f,
   .doc     = "Time from the dry sound to the reverb's onset."},
  {.name    = "mix",
   .aliases = (const char* const[]){"wet", "dry_wet", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 0.3f,
   .doc     = "Dry to wet: 0 the input alone, 1 the reverb alone."},
  {.name    = "width",
   .aliases = (const char* const[]){"spread", NULL},
   .kind    = HP_PARAM_CONTINUOUS,
   .unit    = "",
   .min     = 0.0f,
   .max     = 1.0f,
   .def     = 1.0f,
   .doc     = "Stereo width of the reverb: 0 the same on both sides, 1 fully "
              "spread."},
};

const HpModuleDesc hp_mod_reverb = {
  .type     = "reverb",
  .aliases  = (const char* const[]){"fdn_reverb", NULL},
  .doc      = "Stereo reverb (8-line feedback delay network) with a decay time "
              "that holds at any size.",
  .inputs   = reverb_inputs,
  .n_inputs = 2,
  .outputs  = reverb_outputs,
  .n_outputs  = 3,
  .params     = reverb_params,
  .n_params   = N_PARAMS,
  .state_size = sizeof(ReverbState),
  .init       = reverb_init,
  .process    = reverb_process,
  .voicing    = HP_VOICING_SUM,
  .memory     = reverb_memory,
  .stereo     = true,
};
