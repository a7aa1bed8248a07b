/*
  hp:Revert and hp:history (DESIGN 3b): A -> B -> revert plays A again,
  and what plays, patch:Get and the saved state agree on it; revert twice
  toggles A and B; a revert beyond the kept commits is refused with a
  reason and changes nothing; patch:Get of hp:history lists the kept
  patches newest first; a revert keeps a held chord sounding.  Both worker
  modes.
*/

#include "fixture.h"
#include "host.h"
#include "signal.h"
#include "uris.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

static int next_seq = 10;

static const char* const patch_a[] = {
  "/patch/clear",
  "/patch/create a sine",
  "/patch/set a freq 440",
  "/patch/set a gain 0.5",
  "/patch/connect a out",
};

static const char* const patch_b[] = {
  "/patch/delete a",
  "/patch/create b sine",
  "/patch/set b freq 660",
  "/patch/set b gain 0.5",
  "/patch/connect b out",
};

/* Send `line` numbered and run until it is answered: the answer. */
static const HpHostEvent*
answered(HpHost* const host, const char* const line)
{
  const int seq = next_seq++;
  fx_send(host, seq, line);
  const HpHostEvent* const ev = fx_reply(host, seq);
  CHECK_MSG(ev, "%s: no answer", line);
  return ev;
}

static void
commit_lines(HpHost* const host, const char* const* const lines, const size_t n)
{
  for (size_t i = 0; i < n; ++i) {
    fx_send(host, -1, lines[i]);
  }
  const HpHostEvent* const ev = answered(host, "/patch/commit crossfade=0");
  CHECK_MSG(ev->kind == HP_EV_ACK, "commit: %s", ev->message);
}

/* The pitch of the next 0.2 s. */
static double
pitch(HpHost* const host)
{
  const size_t n = 9600;
  CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  return hp_sig_freq(hp_host_out_l(host) + hp_host_recorded(host) - n, n, RATE);
}

static char*
playing_text(HpHost* const host)
{
  return fx_get_text(host, next_seq++, "/patch/get", HP__patch);
}

/* A -> B -> revert: A plays, patch:Get says A, the saved state holds A
   (restored in a new instance, it plays A and says so); revert again: B;
   refused reverts change nothing; the history lists what was committed. */
static void
test_back_and_forth(const HpWorkerMode mode)
{
  HpHost* const host = fx_host(mode, 0);
  commit_lines(host, patch_a, sizeof(patch_a) / sizeof(patch_a[0]));
  const double a_hz   = pitch(host);
  char* const  a_text = playing_text(host);
  commit_lines(host, patch_b, sizeof(patch_b) / sizeof(patch_b[0]));
  const double b_hz   = pitch(host);
  char* const  b_text = playing_text(host);

  const HpHostEvent* ev = answered(host, "/patch/revert crossfade=0");
  CHECK_MSG(ev->kind == HP_EV_ACK, "revert: %s", ev->message);
  const double back_hz   = pitch(host);
  char* const  back_text = playing_text(host);

  char dir[] = "/tmp/hp_test_revert_XXXXXX";
  CHECK(mkdtemp(dir));
  CHECK_MSG(!hp_host_save_state(host, dir), "%s", hp_host_last_error());
  char state[512];
  snprintf(state, sizeof(state), "%s/state.ttl", dir);
  HpHost* const restored = fx_host(mode, 0);
  CHECK(!hp_host_restore_state_file(restored, state, 0));
  const double restored_hz   = pitch(restored);
  char* const  restored_text = playing_text(restored);
  hp_host_free(restored);
  unlink(state);
  rmdir(dir);

  ev = answered(host, "/patch/revert 1 crossfade=0");
  CHECK_MSG(ev->kind == HP_EV_ACK, "revert 1: %s", ev->message);
  const double toggled_hz = pitch(host);

  printf("# %s: A %.2f Hz, B %.2f Hz, reverted %.2f Hz (patch:Get is A's: "
         "%s; saved and restored: %.2f Hz, A's text: %s), reverted again "
         "%.2f Hz\n",
         fx_mode_name(mode),
         a_hz,
         b_hz,
         back_hz,
         strcmp(back_text, a_text) ? "no" : "yes",
         restored_hz,
         strcmp(restored_text, a_text) ? "no" : "yes",
         toggled_hz);
  CHECK(fabs(a_hz - 440.0) < 0.5 && fabs(b_hz - 660.0) < 0.5);
  CHECK(fabs(back_hz - 440.0) < 0.5 && !strcmp(back_text, a_text));
  CHECK(fabs(restored_hz - 440.0) < 0.5 && !strcmp(restored_text, a_text));
  CHECK(fabs(toggled_hz - 660.0) < 0.5);

  /* Kept now, newest first: B, A, B, A, and the default patch. */
  char* const history =
    fx_get_text(host, next_seq++, "/patch/history", "urn:hotpatch:ns#history");
  char head[64];
  snprintf(head, sizeof(head), "# 0 (the last commit)\n%s", b_text);
  size_t      entries = 0;
  const char* at      = history;
  while ((at = strstr(at, "# ")) && (at == history || at[-1] == '\n')) {
    ++entries;
    ++at;
  }
  const char* const second = strstr(history, "\n# 1\n");
  printf("# %s: hp:history holds %zu patches, B's first, A's second: %s\n",
         fx_mode_name(mode),
         entries,
         second && !strncmp(second + 5, a_text, strlen(a_text)) ? "yes" : "no");
  CHECK_MSG(entries == 5u && !strncmp(history, head, strlen(head)) && second &&
              !strncmp(second + 5, a_text, strlen(a_text)),
            "hp:history:\n%s",
            history);

  /* Beyond what is kept, or out of range: an error, nothing changes. */
  static const struct {
    const char* line;
    const char* error;
  } refused[] = {
    {"/patch/revert 5",
     "hp:Revert 5: 4 earlier patches are kept; the playing patch stays"},
    {"/patch/revert 16", "hp:steps 16 is out of range 1..15 commits"},
    {"/patch/revert 2 quant=soon",
     "hp:quant 'soon' is not beat, bar or a number of beats"},
  };
  const size_t swaps = hp_host_count_events(host, HP_EV_SWAPPED);
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); ++i) {
    ev = answered(host, refused[i].line);
    CHECK_MSG(ev->kind == HP_EV_ERROR && ev->message &&
                !strcmp(ev->message, refused[i].error),
              "%s: %s",
              refused[i].line,
              ev->message ? ev->message : "no error");
    printf(
      "# %s: %s -> \"%s\"\n", fx_mode_name(mode), refused[i].line, ev->message);
  }
  const double still_hz = pitch(host);
  CHECK_MSG(hp_host_count_events(host, HP_EV_SWAPPED) == swaps &&
              fabs(still_hz - 660.0) < 0.5,
            "after the refusals: %.2f Hz",
            still_hz);
  free(history);
  free(a_text);
  free(b_text);
  free(back_text);
  free(restored_text);
  hp_host_free(host);
}

/* The level of `hz` over the last `n` frames, dB. */
static double
level(HpHost* const host, const double hz, const size_t n)
{
  return hp_sig_goertzel_db(
    hp_host_out_l(host) + hp_host_recorded(host) - n, n, RATE, hz);
}

/* A chord held through a commit and its revert sounds throughout: every
   note at its level in each half second after each swap. */
static void
test_chord(const HpWorkerMode mode)
{
  static const char* const voices[] = {
    "/patch/clear",
    "/patch/voices 8",
    "/patch/create m midi",
    "/patch/create o sine",
    "/patch/set o gain 0.2",
    "/patch/create e adsr",
    "/patch/set e attack 5",
    "/patch/set e sustain 1",
    "/patch/connect m:freq o:freq",
    "/patch/connect m:gate e:gate",
    "/patch/connect o e",
  };
  static const char* const brighter[] = {
    "/patch/create f biquad",
    "/patch/set f cutoff 8000",
    "/patch/disconnect o e",
    "/patch/connect o f",
    "/patch/connect f e",
  };
  static const uint8_t notes[]    = {57, 61, 64};
  static const double  notes_hz[] = {220.0, 277.1826, 329.6276};
  HpHost* const        host       = fx_host(mode, 0);
  commit_lines(host, voices, sizeof(voices) / sizeof(voices[0]));
  for (size_t k = 0; k < 3; ++k) {
    CHECK(!hp_host_note_on(host, hp_host_frames(host), notes[k], 100));
  }
  const size_t n     = 24000;
  double       worst = 0.0;
  for (int step = 0; step < 3; ++step) {
    if (step == 1) {
      commit_lines(host, brighter, sizeof(brighter) / sizeof(brighter[0]));
    } else if (step == 2) {
      const HpHostEvent* const ev = answered(host, "/patch/revert crossfade=0");
      CHECK_MSG(ev->kind == HP_EV_ACK, "revert: %s", ev->message);
    }
    CHECK(!hp_host_render(host, n, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
    for (size_t k = 0; k < 3; ++k) {
      const double db = level(host, notes_hz[k], n);
      worst           = step || k ? fmin(worst, db) : db;
      CHECK_MSG(db > -30.0,
                "%s: after %s, %.2f Hz at %.1f dB",
                fx_mode_name(mode),
                step == 0   ? "the first commit"
                : step == 1 ? "the second"
                            : "the revert",
                notes_hz[k],
                db);
    }
  }
  printf("# %s: a 3-note chord held through a commit and its revert: every "
         "note at %.1f dB or more after each\n",
         fx_mode_name(mode),
         worst);
  hp_host_free(host);
}

int
main(void)
{
  static const HpWorkerMode modes[] = {HP_WORKER_SYNC, HP_WORKER_THREADED};
  for (size_t m = 0; m < 2; ++m) {
    test_back_and_forth(modes[m]);
    test_chord(modes[m]);
  }
  return 0;
}
