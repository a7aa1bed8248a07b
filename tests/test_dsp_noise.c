/*
  The noise module's colours, driven directly through its descriptor (see
  rig.h): white exactly as it was, and the slopes of white, pink and brown
  over 20 Hz..20 kHz at every rate, measured as Welch-averaged spectra in
  octave bands, with their levels.  Every figure measured is printed on a
  "# " line.
*/

#include "check.h"
#include "module.h"
#include "rig.h"
#include "signal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
color_index(const char* const name)
{
  const HpModuleDesc* const d = hp_module_find("noise");
  const int                 p = hp_module_find_param(d, "color");
  CHECK(p >= 0);
  CHECK(hp_module_find_param(d, "colour") == p);
  return hp_param_find_choice(&d->params[p], name);
}

/* White, the default, is what it was before colours: 1 s of the first
   module a program makes (its seed is the first of the count) at gain 0.5,
   recorded from the module before this test existed.  Must run first. */
static void
test_white_unchanged(void)
{
  CHECK(color_index("white") == 0);
  const size_t n = 48000;
  float* const a = buffer(n);
  Rig          r = rig_new("noise", 48000.0f);
  CHECK(r.param[param_index(&r, "color")].value == 0.0f);
  r.out[0] = a;
  rig_run(&r, 0, n);
  const uint64_t h = rig_checksum(a, n);
  printf("# noise white, the first module, 1 s at gain 0.5: checksum %016llx "
         "(recorded before colours: 59aba0c823058ebb)\n",
         (unsigned long long)h);
  CHECK_MSG(h == 0x59aba0c823058ebbu, "%016llx", (unsigned long long)h);
  rig_free(&r);
  free(a);
}

/* Slopes */

#define N_BANDS 10 /* octaves from 20 Hz: 20..40, ..., 10240..20480 Hz */

typedef struct {
  double level[N_BANDS]; /* dB, each band's mean density */
  double slope;          /* dB per octave, least squares over the bands */
  double worst;          /* largest deviation from the ideal line, dB */
  double rms;
  double peak;
} Spectrum;

/* Render `color` at `rate` long enough for Welch to average 100 segments
   of ~1.5 Hz bins, and measure its octave bands against a line of
   `ideal` dB per octave (its offset fitted). */
static Spectrum
measure(const char* const color, const float rate, const double ideal)
{
  const size_t size = 32768;
  const size_t n    = 101 * size / 2;
  float* const x    = buffer(n);
  double*      psd  = (double*)calloc(size / 2 + 1, sizeof(double));
  CHECK(psd);
  Rig r = rig_new("noise", rate);
  rig_set(&r, "color", (float)color_index(color));
  r.out[0] = x;
  rig_run(&r, 0, n);
  CHECK(hp_sig_finite(x, n));
  const size_t segments = hp_sig_welch_psd(x, n, (double)rate, size, psd);
  CHECK_VAL(segments == 100, segments);

  Spectrum s;
  double   offset = 0.0;
  for (int b = 0; b < N_BANDS; ++b) {
    const double lo = 20.0 * pow(2.0, b);
    s.level[b] =
      10.0 * log10(hp_sig_band_psd(psd, size, (double)rate, lo, 2.0 * lo));
    offset += (s.level[b] - ideal * b) / N_BANDS;
  }
  s.worst    = 0.0;
  double num = 0.0, den = 0.0;
  for (int b = 0; b < N_BANDS; ++b) {
    const double dev = s.level[b] - ideal * b - offset;
    s.worst          = fabs(dev) > fabs(s.worst) ? dev : s.worst;
    num += (b - 4.5) * s.level[b];
    den += (b - 4.5) * (b - 4.5);
  }
  s.slope = num / den;
  s.rms   = hp_sig_rms(x, n);
  s.peak  = (double)hp_sig_peak(x, n);
  rig_free(&r);
  free(x);
  free(psd);
  return s;
}

static void
test_colors(void)
{
  const struct {
    const char* name;
    double      ideal;     /* dB per octave */
    double      tolerance; /* dB, each band from the line */
    double      rms_tol;   /* relative, from white's */
  } colors[] = {
    {"white", 0.0, 0.5, 0.01},
    {"pink", -10.0 * log10(2.0), 1.0, 0.03},
    /* Brown's power sits near its 5 Hz corner: its RMS over 35 s varies
       by a few percent. */
    {"brown", -20.0 * log10(2.0), 1.5, 0.1},
  };
  const double want_rms = 0.5 / sqrt(3.0); /* white's at gain 0.5 */
  for (size_t c = 0; c < 3; ++c) {
    for (size_t ri = 0; ri < n_rates(); ++ri) {
      const Spectrum s = measure(colors[c].name, rates[ri], colors[c].ideal);
      printf("# noise %s @ %g: octave bands from 20 Hz (dB):",
             colors[c].name,
             (double)rates[ri]);
      for (int b = 0; b < N_BANDS; ++b) {
        printf(" %.2f", s.level[b] - s.level[0]);
      }
      printf("\n# noise %s @ %g: slope %.3f dB/octave (ideal %.3f), worst "
             "band %+.2f dB off the line; RMS %.4f (white's %.4f, %+.1f%%), "
             "peak %.3f\n",
             colors[c].name,
             (double)rates[ri],
             s.slope,
             colors[c].ideal,
             s.worst,
             s.rms,
             want_rms,
             100.0 * (s.rms / want_rms - 1.0),
             s.peak);
      CHECK_VAL(fabs(s.worst) < colors[c].tolerance, s.worst);
      CHECK_VAL(fabs(s.slope - colors[c].ideal) < 0.1, s.slope);
      CHECK_VAL(fabs(s.rms / want_rms - 1.0) < colors[c].rms_tol, s.rms);
    }
  }
}

/* The gain applies after the colouring filters: a NaN gain signal spoils
   the frames it multiplies, never the filters' state. */
static void
test_nan_gain(void)
{
  const size_t n    = 4800;
  float* const x    = buffer(n);
  float* const gain = constant(0.5f, n);
  for (size_t i = 1000; i < 1100; ++i) {
    gain[i] = NAN;
  }
  for (int c = 1; c <= 2; ++c) {
    Rig r = rig_new("noise", 48000.0f);
    rig_set(&r, "color", (float)c);
    rig_signal(&r, "gain", gain);
    r.out[0] = x;
    rig_run(&r, 0, n);
    CHECK(hp_sig_finite(x, 1000));
    CHECK(hp_sig_finite(x + 1100, n - 1100));
    CHECK_VAL(hp_sig_rms(x + 1100, n - 1100) > 0.05,
              hp_sig_rms(x + 1100, 3700));
    rig_free(&r);
  }
  printf("# noise pink and brown: a NaN gain for 100 frames, finite after\n");
  free(x);
  free(gain);
}

int
main(void)
{
  test_white_unchanged();
  test_colors();
  test_nan_gain();
  printf("test_dsp_noise: all checks passed\n");
  return 0;
}
