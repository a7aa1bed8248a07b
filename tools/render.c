/*
  hotpatch-render: play a script of timed commands through the hotpatch
  plugin (loaded with lilv, worker in its own thread as in jalv, or
  synchronous as in a host's export) and write what it plays to a WAV file.

  Script lines: an optional time in seconds, then a command.
      0.0   /patch/clear
      0.0   /patch/create osc1 simple_sine
      0.0   /patch/prime env1 gate 1     (attached to the next commit)
      0.0   /patch/commit crossfade=30
      0.5   /midi/on 57 100              (note, velocity)
      1.5   /midi/off 57
      2.0   /control macro1 0.8          (an input control port)
      6.0   /end                         (stop rendering here)
  A line without a time happens at the previous line's time.  Every
  notification is printed as it arrives.
*/

#include "host.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PRIMES 256

typedef struct {
  HpHost*   host;
  HpPrimeOp primes[MAX_PRIMES];
  char      prime_text[MAX_PRIMES][2][96];
  uint32_t  n_primes;
  int       seq;
  double    end_seconds;
} Script;

static void
usage(void)
{
  fprintf(stderr,
          "usage: hotpatch-render [options] SCRIPT OUT.wav\n"
          "  --rate HZ          sample rate (default 48000)\n"
          "  --block N          frames per run() (default 256)\n"
          "  --sync             run the worker inside run(), as an export does\n"
          "  --bundle DIR       the hotpatch.lv2 bundle (default: $HP_BUNDLE,\n"
          "                     else the LV2_PATH)\n"
          "  --spectrogram PNG  also draw a spectrogram with sox\n"
          "  --quiet            print errors only\n");
}

static int
fail_line(const char* const path, const unsigned line, const char* const why)
{
  fprintf(stderr, "%s:%u: %s\n", path, line, why);
  return 1;
}

/* Commands only this tool knows; the rest is the plugin's text protocol. */
static int
run_command(Script* const s, const uint64_t frame, char* const cmd,
            const char** const why)
{
  char word[64] = "";
  sscanf(cmd, "%63s", word);
  if (!strcmp(word, "/midi/on") || !strcmp(word, "/midi/off")) {
    unsigned note = 0;
    unsigned vel  = 100;
    const int n   = sscanf(cmd, "%*s %u %u", &note, &vel);
    if (n < 1 || note > 127 || vel > 127) {
      *why = "usage: /midi/on NOTE [VELOCITY] or /midi/off NOTE (0..127)";
      return -1;
    }
    return word[6] == 'o' && word[7] == 'n'
             ? hp_host_note_on(s->host, frame, (uint8_t)note, (uint8_t)vel)
             : hp_host_note_off(s->host, frame, (uint8_t)note);
  }
  if (!strcmp(word, "/control")) {
    char  symbol[64];
    float value = 0.0f;
    if (sscanf(cmd, "%*s %63s %f", symbol, &value) != 2 ||
        hp_host_set_control(s->host, symbol, value)) {
      *why = "usage: /control SYMBOL VALUE (an input control port, e.g. gain)";
      return -1;
    }
    return 0;
  }
  if (!strcmp(word, "/patch/prime") || !strcmp(word, "prime")) {
    char  module[96];
    char  param[96];
    float value = 0.0f;
    if (s->n_primes == MAX_PRIMES ||
        sscanf(cmd, "%*s %95s %95s %f", module, param, &value) != 3) {
      *why = "usage: /patch/prime MODULE PARAM VALUE (PARAM gate for a gate)";
      return -1;
    }
    HpPrimeOp* op = &s->primes[s->n_primes];
    memcpy(s->prime_text[s->n_primes][0], module, sizeof(module));
    memcpy(s->prime_text[s->n_primes][1], param, sizeof(param));
    const bool gate = !strcmp(param, "gate");
    op->op          = gate ? "gate" : "mod";
    op->module      = s->prime_text[s->n_primes][0];
    op->param       = gate ? NULL : s->prime_text[s->n_primes][1];
    op->value       = value;
    ++s->n_primes;
    return 0;
  }
  if ((!strcmp(word, "/patch/commit") || !strcmp(word, "commit")) &&
      s->n_primes) {
    /* Commit options as the text form has them, plus the primes. */
    HpHostCommit opts;
    memset(&opts, 0, sizeof(opts));
    char* save = NULL;
    strtok_r(cmd, " \t", &save);
    for (char* opt = strtok_r(NULL, " \t", &save); opt;
         opt       = strtok_r(NULL, " \t", &save)) {
      if (!strncmp(opt, "warmup=", 7)) {
        opts.set_warmup = true;
        opts.warmup     = atoi(opt + 7);
      } else if (!strncmp(opt, "crossfade=", 10)) {
        opts.set_crossfade = true;
        opts.crossfade     = strtof(opt + 10, NULL);
      } else if (!strncmp(opt, "require_signal", 14)) {
        opts.set_require_signal = true;
        opts.require_signal     = opt[14] != '=' || atoi(opt + 15);
      }
    }
    opts.prime   = s->primes;
    opts.n_prime = s->n_primes;
    s->n_primes  = 0;
    return hp_host_send_commit(s->host, frame, ++s->seq, &opts);
  }
  const int r = hp_host_send_text(s->host, frame, ++s->seq, cmd);
  if (r < 0) {
    *why = hp_host_last_error();
  }
  return r < 0 ? -1 : 0;
}

static int
load_script(Script* const s, const char* const path, const double rate)
{
  FILE* f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return 1;
  }
  char     line[1024];
  unsigned line_no = 0;
  double   t       = 0.0;
  while (fgets(line, sizeof(line), f)) {
    ++line_no;
    line[strcspn(line, "\r\n")] = '\0';
    char* p = line + strspn(line, " \t");
    if (!*p || *p == '#') {
      continue;
    }
    if ((*p >= '0' && *p <= '9') || *p == '.') {
      char* end = NULL;
      t         = strtod(p, &end);
      p         = end + strspn(end, " \t");
    }
    if (!strncmp(p, "/end", 4)) {
      s->end_seconds = t;
      continue;
    }
    const char* why = "command refused";
    if (run_command(s, (uint64_t)llround(t * rate), p, &why)) {
      fclose(f);
      return fail_line(path, line_no, why);
    }
    s->end_seconds = t > s->end_seconds ? t : s->end_seconds;
  }
  fclose(f);
  return 0;
}

static void
print_events(HpHost* const host, size_t* const seen, const double rate,
             const bool quiet)
{
  for (; *seen < hp_host_n_events(host); ++*seen) {
    const HpHostEvent* ev = hp_host_event(host, *seen);
    const double       t  = (double)ev->frame_abs / rate;
    switch (ev->kind) {
    case HP_EV_PRIMED:
      if (!quiet) {
        printf("%8.3f s  primed generation %lld: %lld modules in %.3f ms, "
               "warm-up RMS %.4f\n",
               t, (long long)ev->generation, (long long)ev->module_count,
               ev->prime_ms, ev->warmup_rms);
      }
      break;
    case HP_EV_SWAPPED:
      if (!quiet) {
        printf("%8.3f s  swapped to generation %lld at frame %llu\n", t,
               (long long)ev->generation, (unsigned long long)ev->frame_abs);
      }
      break;
    case HP_EV_ERROR:
      printf("%8.3f s  error (message %d): %s\n", t, ev->seq,
             ev->message ? ev->message : "(no message)");
      break;
    default: break;
    }
  }
}

int
main(int argc, char** argv)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.sample_rate         = 48000.0;
  uint32_t    block       = 256;
  const char* spectrogram = NULL;
  bool        quiet       = false;
  int         a           = 1;
  for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; ++a) {
    const char* opt = argv[a];
    if (!strcmp(opt, "--sync")) {
      cfg.worker_mode = HP_WORKER_SYNC;
    } else if (!strcmp(opt, "--quiet")) {
      quiet = true;
    } else if (a + 1 < argc && !strcmp(opt, "--rate")) {
      cfg.sample_rate = atof(argv[++a]);
    } else if (a + 1 < argc && !strcmp(opt, "--block")) {
      block = (uint32_t)atoi(argv[++a]);
    } else if (a + 1 < argc && !strcmp(opt, "--bundle")) {
      cfg.bundle = argv[++a];
    } else if (a + 1 < argc && !strcmp(opt, "--spectrogram")) {
      spectrogram = argv[++a];
    } else {
      usage();
      return 2;
    }
  }
  if (argc - a != 2 || block < 1 || block > 8192 || cfg.sample_rate < 8000.0) {
    usage();
    return 2;
  }
  cfg.max_block     = block > 4096 ? block : 4096;
  cfg.pace_realtime = false;
  Script s;
  memset(&s, 0, sizeof(s));
  if (!(s.host = hp_host_new(&cfg))) {
    fprintf(stderr, "hotpatch-render: %s\n", hp_host_last_error());
    return 1;
  }
  int status = load_script(&s, argv[a], cfg.sample_rate);
  if (!status) {
    const uint64_t total = (uint64_t)llround(s.end_seconds * cfg.sample_rate);
    size_t         seen  = 0;
    while (hp_host_frames(s.host) < total) {
      const uint64_t left = total - hp_host_frames(s.host);
      hp_host_run(s.host, left < block ? (uint32_t)left : block);
      /* Give a threaded worker a moment, as real time would. */
      hp_host_wait_worker(s.host, 100);
      print_events(s.host, &seen, cfg.sample_rate, quiet);
    }
    if (hp_host_write_wav(s.host, argv[a + 1])) {
      fprintf(stderr, "hotpatch-render: cannot write %s\n", argv[a + 1]);
      status = 1;
    } else if (!quiet) {
      printf("wrote %s: %.2f s, %.0f Hz, stereo float\n", argv[a + 1],
             (double)total / cfg.sample_rate, cfg.sample_rate);
    }
  }
  hp_host_free(s.host);
  if (!status && spectrogram) {
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "sox '%s' -n remix 1 spectrogram -x 1200 -y 513 -z 100 "
             "-t 'hotpatch demo' -o '%s'",
             argv[a + 1], spectrogram);
    if (system(cmd)) {
      fprintf(stderr, "hotpatch-render: sox failed to draw %s\n", spectrogram);
      status = 1;
    } else if (!quiet) {
      printf("wrote %s\n", spectrogram);
    }
  }
  return status;
}
