/*
  Sample rates and block sizes through the lilv test host: at 22,050 to
  192,000 Hz (max block 8,192) a 1 kHz sine built through the protocol plays
  1000 Hz, the default patch plays MIDI note 69 at 440 Hz, and blocks of
  1, 2, 3, 7, 64, 4095, 4096, 8191 and 8192 frames in sequence join without
  a gap or a jump.  A host offering neither the options nor the log feature
  gets safe defaults: the plugin instantiates, plays and answers.

  (A host without work:schedule is refused with a log message naming it:
  tests/test_plugin.c, test_no_worker.)
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const uint32_t block_sequence[] =
  {1, 2, 3, 7, 64, 4095, 4096, 8191, 8192};
#define N_SEQUENCE (sizeof(block_sequence) / sizeof(block_sequence[0]))

static HpHost*
make(const double rate, const bool bare)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.sample_rate    = rate;
  cfg.max_block      = 8192;
  cfg.no_options     = bare;
  cfg.no_log         = bare;
  cfg.poison_outputs = true; /* a frame run() leaves unwritten is NaN */
  HpHost* host       = hp_host_new(&cfg);
  CHECK_MSG(host,
            "instantiate at %.0f Hz%s: %s",
            rate,
            bare ? " without options and log" : "",
            hp_host_last_error());
  return host;
}

/* Render `seconds` in nominal blocks; the pitch and level of the last half. */
static double
measure(HpHost* const host, const double seconds, double* const rms)
{
  const double rate = hp_host_sample_rate(host);
  CHECK(!hp_host_render(host,
                        (uint64_t)(seconds * rate),
                        (HpBlockPolicy){HP_BLOCK_FIXED, 0, 0, 0}));
  const size_t n    = hp_host_recorded(host);
  const size_t half = (size_t)(seconds * rate * 0.5);
  const float* l    = hp_host_out_l(host) + n - half;
  CHECK(hp_sig_finite(l, half));
  if (rms) {
    *rms = hp_sig_rms(l, half);
  }
  return hp_sig_freq(l, half, rate);
}

/* The default patch (saw -> ADSR -> low-pass) on note 69, the filter
   brought down to about 440 Hz and unresonant by the macros so the
   fundamental rules the zero crossings. */
static double
default_note(HpHost* const host)
{
  CHECK(!hp_host_set_control(host, "macro1", 0.31f)); /* 100 * 120^0.31 */
  CHECK(!hp_host_set_control(host, "macro2", 0.0f));  /* q 0.5 */
  CHECK(!hp_host_note_on(host, hp_host_frames(host), 69, 100));
  double       rms = 0.0;
  const double f   = measure(host, 1.0, &rms);
  CHECK_MSG(
    rms > 0.01, "note 69 at %.0f Hz: RMS %g", hp_host_sample_rate(host), rms);
  CHECK(!hp_host_note_off(host, hp_host_frames(host), 69));
  CHECK(!hp_host_render(host,
                        (uint64_t)(0.5 * hp_host_sample_rate(host)),
                        (HpBlockPolicy){HP_BLOCK_FIXED, 0, 0, 0}));
  return f;
}

/* A 1 kHz sine (gain 0.5) built through the protocol. */
static double
sine_1k(HpHost* const host, const int seq)
{
  fx_send(host, -1, "/patch/clear");
  fx_send(host, -1, "/patch/create tone sine");
  fx_send(host, -1, "/patch/set tone freq 1000");
  fx_send(host, seq, "/patch/commit crossfade=0");
  fx_acked(host, seq, "the 1 kHz sine");
  return measure(host, 1.0, NULL);
}

/* The block sequence, several times over, while the sine plays: no silent
   256-frame window, nothing but finite samples, and no step larger than a
   1 kHz sine of amplitude 0.5 makes (a gap or a repeated block would). */
static void
block_sequence_run(HpHost* const host, float* const worst_ratio)
{
  const double rate = hp_host_sample_rate(host);
  hp_host_discard_output(host);
  for (int round = 0; round < 4; ++round) {
    for (size_t i = 0; i < N_SEQUENCE; ++i) {
      CHECK_MSG(!hp_host_run(host, block_sequence[i]),
                "%u frames at %.0f Hz: %s",
                block_sequence[i],
                rate,
                hp_host_last_error());
    }
  }
  const size_t n = hp_host_recorded(host);
  const float* l = hp_host_out_l(host);
  const float* r = hp_host_out_r(host);
  CHECK(hp_sig_finite(l, n) && hp_sig_finite(r, n));
  for (size_t at = 0; at + 256 <= n; at += 64) {
    CHECK_MSG(hp_sig_peak(l + at, 256) > 0.1f,
              "%.0f Hz: silent window at frame %zu",
              rate,
              at);
  }
  const float expected = (float)(2.0 * 3.14159265358979 * 1000.0 * 0.5 / rate);
  const float step     = hp_sig_max_step(l, n);
  *worst_ratio         = fmaxf(*worst_ratio, step / expected);
  CHECK_MSG(step < expected * 1.02f,
            "%.0f Hz: a step of %.5f across the block "
            "sequence, a 1 kHz sine makes %.5f",
            rate,
            (double)step,
            (double)expected);
  const double f = hp_sig_freq(l, n, rate);
  CHECK_MSG(fabs(f - 1000.0) < 0.1,
            "%.0f Hz: %.4f Hz over the block sequence",
            rate,
            f);
}

static void
test_rate(const double rate)
{
  HpHost*      host = make(rate, false);
  const double note = default_note(host);
  CHECK_MSG(
    fabs(note - 440.0) < 0.5, "%.0f Hz: note 69 plays %.4f Hz", rate, note);
  const double sine = sine_1k(host, 1);
  CHECK_MSG(
    fabs(sine - 1000.0) < 0.1, "%.0f Hz: the sine plays %.4f Hz", rate, sine);
  float worst = 0.0f;
  block_sequence_run(host, &worst);
  CHECK(hp_host_log_count(host) == 0);
  printf(
    "# %6.0f Hz: note 69 %.3f Hz, sine %.4f Hz; blocks 1..8192 in sequence "
    "x4: continuous, largest step %.3f of a 1 kHz sine's\n",
    rate,
    note,
    sine,
    (double)worst);
  hp_host_free(host);
}

/* No options feature (no sample rate option, no block lengths) and no log:
   the rate argument and the engine's own block splitting are the safe
   defaults; errors still reach the host as patch:Error. */
static void
test_bare_host(const double rate)
{
  HpHost*      host = make(rate, true);
  const double note = default_note(host);
  CHECK_MSG(fabs(note - 440.0) < 0.5, "bare host: note 69 plays %.4f Hz", note);
  const double sine = sine_1k(host, 1);
  CHECK_MSG(
    fabs(sine - 1000.0) < 0.1, "bare host: the sine plays %.4f Hz", sine);
  float worst = 0.0f;
  block_sequence_run(host, &worst);
  fx_send(host, 2, "/patch/create bad sinee");
  const HpHostEvent* ev = NULL;
  for (int i = 0; i < 100 && !ev; ++i) {
    CHECK(!hp_host_run(host, 256));
    CHECK(!hp_host_wait_worker(host, 5000));
    ev = hp_host_find_reply(host, 2);
  }
  CHECK_MSG(ev && ev->kind == HP_EV_ERROR && ev->message &&
              strstr(ev->message, "sinee"),
            "bare host: a bad create was answered %s",
            ev ? hp_host_event_kind_name(ev->kind) : "nothing");
  printf("# no options, no log, %.0f Hz: note 69 %.3f Hz, sine %.4f Hz, block "
         "sequence continuous, errors answered (\"%.40s...\")\n",
         rate,
         note,
         sine,
         ev->message);
  hp_host_free(host);
}

int
main(void)
{
  static const double rates[] = {
    22050, 44100, 48000, 88200, 96000, 176400, 192000};
  for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); ++i) {
    test_rate(rates[i]);
  }
  test_bare_host(44100);
  test_bare_host(96000);
  return 0;
}
