/*
  Signal measurements shared by the tests: levels, pitch, spectral lines,
  and a WAV writer for listening to what a test rendered.  Pure C, libm.
*/

#ifndef HP_TEST_SIGNAL_H
#define HP_TEST_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>

/** Root mean square (0 for n = 0). */
double hp_sig_rms(const float* x, size_t n);

/** Largest |x[i]|. */
float hp_sig_peak(const float* x, size_t n);

/** Largest |x[i] - x[i-1]|: a click detector. */
float hp_sig_max_step(const float* x, size_t n);

/** Whether every sample is finite. */
bool hp_sig_finite(const float* x, size_t n);

/**
   Fundamental frequency in Hz from rising zero crossings (linearly
   interpolated): crossings - 1 periods over the first-to-last span.
   0 when there are fewer than 2 crossings.
*/
double hp_sig_freq(const float* x, size_t n, double rate);

/**
   Level of the component at `freq` in dB relative to a full-scale sine
   (0 dB = amplitude 1), by a Hann-windowed Goertzel at exactly `freq`.
*/
double hp_sig_goertzel_db(const float* x, size_t n, double rate, double freq);

/**
   Power spectral density by Welch's method: Hann-windowed segments of
   `size` samples (a power of 2), overlapping by half, their periodograms
   averaged.  psd[k] (k = 0..size/2) is the power at k * rate / size Hz
   per Hz, one-sided: summed over k times rate / size, it gives the mean
   square.  Returns the number of segments averaged (0 when x is shorter
   than one, or size is not a power of 2 of at least 4).
*/
size_t hp_sig_welch_psd(const float* x,
                        size_t       n,
                        double       rate,
                        size_t       size,
                        double*      psd);

/**
   The mean of psd (hp_sig_welch_psd) over the bins in [lo, hi) Hz: the
   band's average density.
*/
double hp_sig_band_psd(const double* psd,
                       size_t        size,
                       double        rate,
                       double        lo,
                       double        hi);

/** Write a 32-bit float WAV, stereo, or mono when r is NULL.  0 on success. */
int hp_sig_write_wav(const char*  path,
                     const float* l,
                     const float* r,
                     size_t       n,
                     unsigned     rate);

#endif /* HP_TEST_SIGNAL_H */
