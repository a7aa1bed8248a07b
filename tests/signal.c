/*
  Signal measurements for the tests (see signal.h).
*/

#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

double
hp_sig_rms(const float* const x, const size_t n)
{
  if (!n) {
    return 0.0;
  }
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sum += (double)x[i] * (double)x[i];
  }
  return sqrt(sum / (double)n);
}

float
hp_sig_peak(const float* const x, const size_t n)
{
  float peak = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
  }
  return peak;
}

float
hp_sig_max_step(const float* const x, const size_t n)
{
  float step = 0.0f;
  for (size_t i = 1; i < n; ++i) {
    const float d = fabsf(x[i] - x[i - 1]);
    step          = d > step ? d : step;
  }
  return step;
}

bool
hp_sig_finite(const float* const x, const size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    if (!isfinite(x[i])) {
      return false;
    }
  }
  return true;
}

double
hp_sig_freq(const float* const x, const size_t n, const double rate)
{
  double first = -1.0;
  double last  = -1.0;
  size_t count = 0;
  for (size_t i = 1; i < n; ++i) {
    if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
      /* Where the line through the two samples crosses zero. */
      const double a = (double)x[i - 1];
      const double b = (double)x[i];
      const double t = (double)(i - 1) + a / (a - b);
      if (!count) {
        first = t;
      }
      last = t;
      ++count;
    }
  }
  if (count < 2 || last <= first) {
    return 0.0;
  }
  return (double)(count - 1) * rate / (last - first);
}

double
hp_sig_goertzel_db(const float* const x,
                   const size_t       n,
                   const double       rate,
                   const double       freq)
{
  if (n < 2) {
    return -HUGE_VAL;
  }
  /* Goertzel at any frequency (not only bin centres): the DTFT of the
     windowed signal at w, up to a phase term that |.| drops. */
  const double w     = 2.0 * PI * freq / rate;
  const double coeff = 2.0 * cos(w);
  double       s1 = 0.0, s2 = 0.0, wsum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double win = 0.5 - 0.5 * cos(2.0 * PI * (double)i / (double)(n - 1));
    const double s   = (double)x[i] * win + coeff * s1 - s2;
    s2               = s1;
    s1               = s;
    wsum += win;
  }
  const double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  /* A sine of amplitude A gives |X| = A * sum(w) / 2. */
  const double amp = 2.0 * sqrt(power > 0.0 ? power : 0.0) / wsum;
  return amp > 0.0 ? 20.0 * log10(amp) : -HUGE_VAL;
}

/* In-place radix-2 FFT of n (a power of 2) complex values, re and im;
   cs and sn hold cos and sin of -2 pi k / n for k < n / 2. */
static void
fft(double* const       re,
    double* const       im,
    const double* const cs,
    const double* const sn,
    const size_t        n)
{
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) {
      j ^= bit;
    }
    j ^= bit;
    if (i < j) {
      const double tr = re[i], ti = im[i];
      re[i] = re[j];
      im[i] = im[j];
      re[j] = tr;
      im[j] = ti;
    }
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t stride = n / len;
    for (size_t k = 0; k < len / 2; ++k) {
      const double c = cs[k * stride], s = sn[k * stride];
      for (size_t i = k; i < n; i += len) {
        const size_t j  = i + len / 2;
        const double tr = re[j] * c - im[j] * s;
        const double ti = re[j] * s + im[j] * c;
        re[j]           = re[i] - tr;
        im[j]           = im[i] - ti;
        re[i] += tr;
        im[i] += ti;
      }
    }
  }
}

size_t
hp_sig_welch_psd(const float* const x,
                 const size_t       n,
                 const double       rate,
                 const size_t       size,
                 double* const      psd)
{
  if (size < 4 || (size & (size - 1)) || n < size) {
    return 0;
  }
  double* const re  = (double*)malloc(size * sizeof(double));
  double* const im  = (double*)malloc(size * sizeof(double));
  double* const win = (double*)malloc(size * sizeof(double));
  double* const cs  = (double*)malloc(size / 2 * sizeof(double));
  double* const sn  = (double*)malloc(size / 2 * sizeof(double));
  if (!re || !im || !win || !cs || !sn) {
    free(re);
    free(im);
    free(win);
    free(cs);
    free(sn);
    return 0;
  }
  for (size_t k = 0; k < size / 2; ++k) {
    cs[k] = cos(-2.0 * PI * (double)k / (double)size);
    sn[k] = sin(-2.0 * PI * (double)k / (double)size);
  }
  double wsum2 = 0.0;
  for (size_t i = 0; i < size; ++i) {
    win[i] = 0.5 - 0.5 * cos(2.0 * PI * (double)i / (double)size);
    wsum2 += win[i] * win[i];
  }
  for (size_t k = 0; k <= size / 2; ++k) {
    psd[k] = 0.0;
  }
  size_t segments = 0;
  for (size_t at = 0; at + size <= n; at += size / 2, ++segments) {
    for (size_t i = 0; i < size; ++i) {
      re[i] = (double)x[at + i] * win[i];
      im[i] = 0.0;
    }
    fft(re, im, cs, sn, size);
    for (size_t k = 0; k <= size / 2; ++k) {
      psd[k] += re[k] * re[k] + im[k] * im[k];
    }
  }
  /* |X|^2 / (rate sum(w^2)) is the two-sided density; one-sided doubles
     every bin but DC and Nyquist. */
  for (size_t k = 0; k <= size / 2; ++k) {
    const double side = k && k < size / 2 ? 2.0 : 1.0;
    psd[k] *= side / (rate * wsum2 * (double)segments);
  }
  free(re);
  free(im);
  free(win);
  free(cs);
  free(sn);
  return segments;
}

double
hp_sig_band_psd(const double* const psd,
                const size_t        size,
                const double        rate,
                const double        lo,
                const double        hi)
{
  double sum   = 0.0;
  size_t count = 0;
  for (size_t k = 0; k <= size / 2; ++k) {
    const double f = (double)k * rate / (double)size;
    if (f >= lo && f < hi) {
      sum += psd[k];
      ++count;
    }
  }
  return count ? sum / (double)count : 0.0;
}

/* WAV: little-endian whatever the host. */

static void
put_u16(FILE* const f, const unsigned v)
{
  const unsigned char b[2] = {(unsigned char)(v & 0xFFu),
                              (unsigned char)((v >> 8) & 0xFFu)};
  fwrite(b, 1, 2, f);
}

static void
put_u32(FILE* const f, const uint32_t v)
{
  const unsigned char b[4] = {(unsigned char)(v & 0xFFu),
                              (unsigned char)((v >> 8) & 0xFFu),
                              (unsigned char)((v >> 16) & 0xFFu),
                              (unsigned char)((v >> 24) & 0xFFu)};
  fwrite(b, 1, 4, f);
}

int
hp_sig_write_wav(const char* const  path,
                 const float* const l,
                 const float* const r,
                 const size_t       n,
                 const unsigned     rate)
{
  const unsigned channels = r ? 2u : 1u;
  const uint64_t data     = (uint64_t)n * channels * 4u;
  if (!path || !l || data > 0xFFFFFF00u - 64u) {
    return -1;
  }
  FILE* const f = fopen(path, "wb");
  if (!f) {
    return -1;
  }

  /* IEEE float needs the 18-byte fmt chunk and a fact chunk (frames). */
  fwrite("RIFF", 1, 4, f);
  put_u32(f, (uint32_t)(4u + (8u + 18u) + (8u + 4u) + 8u + data));
  fwrite("WAVE", 1, 4, f);
  fwrite("fmt ", 1, 4, f);
  put_u32(f, 18u);
  put_u16(f, 3u); /* WAVE_FORMAT_IEEE_FLOAT */
  put_u16(f, channels);
  put_u32(f, rate);
  put_u32(f, rate * channels * 4u);
  put_u16(f, channels * 4u);
  put_u16(f, 32u);
  put_u16(f, 0u);
  fwrite("fact", 1, 4, f);
  put_u32(f, 4u);
  put_u32(f, (uint32_t)n);
  fwrite("data", 1, 4, f);
  put_u32(f, (uint32_t)data);

  for (size_t i = 0; i < n; ++i) {
    const float frame[2] = {l[i], r ? r[i] : 0.0f};
    for (unsigned c = 0; c < channels; ++c) {
      uint32_t bits = 0;
      memcpy(&bits, &frame[c], 4);
      put_u32(f, bits);
    }
  }

  const int st = ferror(f);
  return (fclose(f) || st) ? -1 : 0;
}
