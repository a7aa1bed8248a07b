/*
  hotpatch-render: play a script of timed commands through the hotpatch
  plugin (loaded with lilv, worker in its own thread as in jalv, or
  synchronous as in a host's export) and write what it plays to a sound
  file (WAV, FLAC or OGG, by the file's extension, through libsndfile).

  With --input FILE it plays the effect (urn:hotpatch:fx) instead, FILE
  (mono or stereo, at the render's rate) on its audio inputs.

  Script lines: an optional time in seconds, then a command.
      0.0   /patch/clear
      0.0   /patch/create osc1 simple_sine
      0.0   /patch/prime env1 gate 1     (attached to the next commit)
      0.0   /patch/commit crossfade=30
      0.5   /midi/on 57 100              (note, velocity)
      1.5   /midi/off 57
      2.0   /control macro1 0.8          (an input control port)
      6.0   /end                         (stop rendering here)
  A line without a time happens at the previous line's time.  /patch/ lines
  are read by the engine's own parser (src/text.c), so every form the
  protocol has works here.  Every notification is printed as it arrives.

  It loads only the bundle it belongs to (see find_bundle()): parsing every
  bundle on LV2_PATH would cost more than a short render, and could pick up
  an older installed hotpatch.
*/

#define _XOPEN_SOURCE 700 // realpath

#include "atoms.h"
#include "engine.h"
#include "host.h"

#include <lv2/atom/forge.h>
#include <sndfile.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLE_NAME "hotpatch.lv2"

/* Most prime ops one hp:Commit carries (plugin/atoms.h). */
#define MAX_PRIMES 64u

/* Frames kept before they go to the file, and frames per write. */
#define FLUSH_FRAMES 16384u
#define WRITE_FRAMES 4096u

/** An input control port set at a frame: applied between run() calls. */
typedef struct {
  uint64_t frame;
  char     symbol[64];
  float    value;
} Control;

typedef struct {
  HpHost*  host;
  HpOp     primes[MAX_PRIMES]; ///< /patch/prime lines for the next commit
  uint32_t n_primes;
  Control* controls; ///< in frame order, then script order
  size_t   n_controls;
  size_t   cap_controls;
  int      seq;
  double   end_seconds;
} Script;

static void
usage(void)
{
  fprintf(
    stderr,
    "usage: hotpatch-render [options] SCRIPT OUT.wav|OUT.flac|OUT.ogg\n"
    "  --rate HZ          sample rate (default 48000)\n"
    "  --block N          frames per run() (default 256)\n"
    "  --sync             run the worker inside run(), as an export does\n"
    "  --format F         sample format: float (32-bit, the default for\n"
    "                     WAV), pcm24 (the default for FLAC) or pcm16;\n"
    "                     OGG is Vorbis\n"
    "  --input FILE       play the effect (urn:hotpatch:fx) on FILE, a mono\n"
    "                     or stereo sound file at the render's rate; the\n"
    "                     render lasts the longer of it and the script\n"
    "  --bundle DIR       the hotpatch.lv2 bundle to load (default: the\n"
    "                     one this program was built or installed with)\n"
    "  --spectrogram PNG  also draw a spectrogram with sox\n"
    "  --quiet            print errors only\n");
}

static int
fail_line(const char* const path, const unsigned line, const char* const why)
{
  fprintf(stderr, "%s:%u: %s\n", path, line, why);
  return 1;
}

/* The bundle */

static bool
is_bundle(const char* const dir)
{
  char        manifest[PATH_MAX];
  struct stat st;
  return (size_t)snprintf(manifest, sizeof(manifest), "%s/manifest.ttl", dir) <
           sizeof(manifest) &&
         !stat(manifest, &st) && S_ISREG(st.st_mode);
}

/** The bundle of this build or install: beside the program in the build
    tree, else where ./waf install put it.  False if there is none. */
static bool
find_bundle(char* const path, const size_t size)
{
  char          exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1u);
  if (n > 0) {
    exe[n] = '\0';
  }
  char* const slash = n > 0 ? strrchr(exe, '/') : NULL;
  if (slash) {
    *slash = '\0';
    // In the build tree, build/tools/ sits beside build/lv2/.
    if ((size_t)snprintf(path, size, "%s/../lv2/%s", exe, BUNDLE_NAME) < size &&
        is_bundle(path)) {
      return true;
    }
  }
#ifdef HP_LV2DIR
  if ((size_t)snprintf(path, size, "%s/%s", HP_LV2DIR, BUNDLE_NAME) < size &&
      is_bundle(path)) {
    return true;
  }
#endif
  return false;
}

/* The script */

/** Build the protocol message of `op` with the plugin's own encoder
    (plugin/atoms.c) and queue it at `frame`; a commit takes the primes
    gathered since the last one. */
static int
send_op(Script* const s, const uint64_t frame, HpOp* const op)
{
  const bool commit = op->type == HP_OP_COMMIT && s->n_primes;
  op->seq           = ++s->seq;
  if (!hp_atom_encode_op(hp_host_forge(s->host),
                         hp_host_uris(s->host),
                         op,
                         commit ? s->primes : NULL,
                         commit ? s->n_primes : 0u)) {
    return -1;
  }
  if (commit) {
    s->n_primes = 0u;
  }
  return hp_host_send_atom(s->host, frame, hp_host_forge_atom(s->host));
}

/** Keep controls in frame order; a later line at the same frame wins. */
static int
add_control(Script* const     s,
            const uint64_t    frame,
            const char* const symbol,
            const float       value)
{
  if (s->n_controls == s->cap_controls) {
    const size_t   cap = s->cap_controls ? 2u * s->cap_controls : 64u;
    Control* const c   = (Control*)realloc(s->controls, cap * sizeof(Control));
    if (!c) {
      return -1;
    }
    s->controls     = c;
    s->cap_controls = cap;
  }
  size_t i = s->n_controls;
  while (i > 0u && s->controls[i - 1u].frame > frame) {
    --i;
  }
  memmove(s->controls + i + 1u,
          s->controls + i,
          (s->n_controls - i) * sizeof(Control));
  s->controls[i].frame = frame;
  s->controls[i].value = value;
  snprintf(s->controls[i].symbol, sizeof(s->controls[i].symbol), "%s", symbol);
  ++s->n_controls;
  return 0;
}

/** The host could not queue an event: say why. */
static int
host_failed(HpError* const err)
{
  hp_error(err, HP_ERR_NO_MEMORY, "%s", hp_host_last_error());
  return -1;
}

/* Commands only this tool knows; the rest is the plugin's text protocol. */
static int
run_command(Script* const     s,
            const uint64_t    frame,
            const char* const cmd,
            HpError* const    err)
{
  char word[64] = "";
  sscanf(cmd, "%63s", word);
  if (!strcmp(word, "/midi/on") || !strcmp(word, "/midi/off")) {
    unsigned  note = 0;
    unsigned  vel  = 100;
    const int n    = sscanf(cmd, "%*s %u %u", &note, &vel);
    if (n < 1 || note > 127 || vel > 127) {
      hp_error(err,
               HP_ERR_SYNTAX,
               "usage: /midi/on NOTE [VELOCITY] or /midi/off NOTE (0..127)");
      return -1;
    }
    const int r =
      word[6] == 'o' && word[7] == 'n'
        ? hp_host_note_on(s->host, frame, (uint8_t)note, (uint8_t)vel)
        : hp_host_note_off(s->host, frame, (uint8_t)note);
    return r ? host_failed(err) : 0;
  }
  if (!strcmp(word, "/control")) {
    char  symbol[64];
    float value = 0.0f;
    if (sscanf(cmd, "%*s %63s %f", symbol, &value) != 2 ||
        isnan(hp_host_control_in(s->host, symbol))) {
      hp_error(err,
               HP_ERR_SYNTAX,
               "usage: /control SYMBOL VALUE (an input "
               "control port, e.g. gain)");
      return -1;
    }
    if (add_control(s, frame, symbol, value)) {
      hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
      return -1;
    }
    return 0;
  }

  HpOp           op;
  const HpStatus st = hp_op_parse_text(cmd, &op, err);
  if (st) {
    return st == HP_ERR_NOTHING_STAGED ? 0 : -1; // a time and no command
  }
  if (op.type == HP_OP_PRIME_SET || op.type == HP_OP_PRIME_GATE) {
    if (s->n_primes == MAX_PRIMES) {
      hp_error(err,
               HP_ERR_TOO_LARGE,
               "more than %u /patch/prime lines before a commit",
               MAX_PRIMES);
      return -1;
    }
    s->primes[s->n_primes++] = op;
    return 0;
  }
  return send_op(s, frame, &op) ? host_failed(err) : 0;
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
    char* p                     = line + strspn(line, " \t");
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
    HpError err;
    if (run_command(s, (uint64_t)llround(t * rate), p, &err)) {
      fclose(f);
      return fail_line(path, line_no, err.message);
    }
    s->end_seconds = t > s->end_seconds ? t : s->end_seconds;
  }
  fclose(f);
  return 0;
}

/* Input */

/** FILE on the effect's inputs; its length in frames, or 0 with a message
    printed. */
static uint64_t
load_input(HpHost* const host, const char* const path, const double rate)
{
  SF_INFO info;
  memset(&info, 0, sizeof(info));
  SNDFILE* const file = sf_open(path, SFM_READ, &info);
  if (!file) {
    fprintf(stderr, "hotpatch-render: %s: %s\n", path, sf_strerror(NULL));
    return 0;
  }
  uint64_t frames = 0;
  if (info.channels < 1 || info.channels > 2 || info.frames <= 0) {
    fprintf(stderr,
            "hotpatch-render: %s: %d channels, %lld frames: give a mono or "
            "stereo file with sound in it\n",
            path,
            info.channels,
            (long long)info.frames);
  } else if (info.samplerate != (int)rate) {
    fprintf(stderr,
            "hotpatch-render: %s is at %d Hz: render at its rate (--rate "
            "%d) or convert it (sox IN -r %.0f OUT)\n",
            path,
            info.samplerate,
            info.samplerate,
            rate);
  } else {
    const size_t n  = (size_t)info.frames;
    float* const in = (float*)malloc(n * (size_t)info.channels * sizeof(float));
    float* const l  = (float*)malloc(n * sizeof(float));
    float* const r  = (float*)malloc(n * sizeof(float));
    if (in && l && r &&
        sf_readf_float(file, in, (sf_count_t)n) == (sf_count_t)n) {
      for (size_t i = 0; i < n; ++i) {
        l[i] = in[i * (size_t)info.channels];
        r[i] = in[i * (size_t)info.channels + (size_t)info.channels - 1u];
      }
      frames = hp_host_set_input(host, l, r, n) ? 0u : n;
    }
    if (!frames) {
      fprintf(stderr, "hotpatch-render: %s: could not be read whole\n", path);
    }
    free(in);
    free(l);
    free(r);
  }
  sf_close(file);
  return frames;
}

/* Output */

typedef struct {
  const char* name;
  int         subtype;
  const char* text;
} SampleFormat;

static const SampleFormat sample_formats[] = {
  {"float", SF_FORMAT_FLOAT, "32-bit float"},
  {"pcm24", SF_FORMAT_PCM_24, "24-bit PCM"},
  {"pcm16", SF_FORMAT_PCM_16, "16-bit PCM"},
};

static const SampleFormat*
find_format(const char* const name)
{
  const size_t n = sizeof(sample_formats) / sizeof(sample_formats[0]);
  for (size_t i = 0u; i < n; ++i) {
    if (!strcmp(name, sample_formats[i].name)) {
      return &sample_formats[i];
    }
  }
  return NULL;
}

/** Open `path` for writing in the format its extension names. */
static SNDFILE*
open_output(const char* const   path,
            const double        rate,
            const SampleFormat* format,
            const char** const  what)
{
  const char* const dot = strrchr(path, '.');
  const char* const ext = dot ? dot + 1 : "";
  SF_INFO           info;
  memset(&info, 0, sizeof(info));
  info.samplerate = (int)lround(rate);
  info.channels   = 2;
  if (!strcasecmp(ext, "wav")) {
    format      = format ? format : &sample_formats[0];
    info.format = SF_FORMAT_WAV | format->subtype;
  } else if (!strcasecmp(ext, "flac")) {
    format      = format ? format : &sample_formats[1];
    info.format = SF_FORMAT_FLAC | format->subtype;
  } else if (!strcasecmp(ext, "ogg") || !strcasecmp(ext, "oga")) {
    info.format = format ? 0 : SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  } else {
    fprintf(stderr, "hotpatch-render: %s: write .wav, .flac or .ogg\n", path);
    return NULL;
  }
  if (!sf_format_check(&info)) {
    fprintf(stderr,
            "hotpatch-render: %s: %s cannot hold %s; WAV holds "
            "float, pcm24 and pcm16, FLAC pcm24 and pcm16, OGG is "
            "Vorbis (no --format)\n",
            path,
            ext,
            format ? format->text : "this format");
    return NULL;
  }
  SNDFILE* const file = sf_open(path, SFM_WRITE, &info);
  if (!file) {
    fprintf(stderr,
            "hotpatch-render: cannot write %s: %s\n",
            path,
            sf_strerror(NULL));
    return NULL;
  }
  // A PEAK chunk would scan every sample; clip PCM rather than wrap
  sf_command(file, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
  sf_command(file, SFC_SET_CLIPPING, NULL, SF_TRUE);
  *what = format ? format->text : "Vorbis";
  return file;
}

/** Write the host's recorded frames, interleaved, then drop them. */
static int
write_recorded(HpHost* const host, SNDFILE* const file)
{
  float        buf[2u * WRITE_FRAMES];
  const float* l = hp_host_out_l(host);
  const float* r = hp_host_out_r(host);
  const size_t n = hp_host_recorded(host);
  for (size_t done = 0u; done < n;) {
    const size_t k = n - done < WRITE_FRAMES ? n - done : WRITE_FRAMES;
    for (size_t i = 0u; i < k; ++i) {
      buf[2u * i]      = l[done + i];
      buf[2u * i + 1u] = r[done + i];
    }
    if (sf_writef_float(file, buf, (sf_count_t)k) != (sf_count_t)k) {
      return -1;
    }
    done += k;
  }
  hp_host_discard_output(host);
  return 0;
}

static void
print_events(HpHost* const host, const double rate, const bool quiet)
{
  for (size_t i = 0u; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    const double       t  = (double)ev->frame_abs / rate;
    switch (ev->kind) {
    case HP_EV_PRIMED:
      if (!quiet) {
        printf("%8.3f s  primed generation %lld: %lld modules in %.3f ms, "
               "warm-up RMS %.4f\n",
               t,
               (long long)ev->generation,
               (long long)ev->module_count,
               ev->prime_ms,
               ev->warmup_rms);
      }
      break;
    case HP_EV_SWAPPED:
      if (!quiet) {
        printf("%8.3f s  swapped to generation %lld at frame %llu\n",
               t,
               (long long)ev->generation,
               (unsigned long long)ev->frame_abs);
      }
      break;
    case HP_EV_ERROR:
      printf("%8.3f s  error (message %d): %s\n",
             t,
             ev->seq,
             ev->message ? ev->message : "(no message)");
      break;
    default:
      break;
    }
  }
  hp_host_clear_events(host);
}

/** Run the script to its end, each block cut at the next control's frame
    so that a control takes effect at its own frame. */
static int
render(Script* const  s,
       SNDFILE* const file,
       const uint32_t block,
       const uint64_t total,
       const bool     quiet)
{
  HpHost* const host = s->host;
  const double  rate = hp_host_sample_rate(host);
  size_t        next = 0u;
  while (hp_host_frames(host) < total) {
    const uint64_t pos = hp_host_frames(host);
    for (; next < s->n_controls && s->controls[next].frame <= pos; ++next) {
      hp_host_set_control(
        host, s->controls[next].symbol, s->controls[next].value);
    }
    uint64_t end = pos + block < total ? pos + block : total;
    if (next < s->n_controls && s->controls[next].frame < end) {
      end = s->controls[next].frame;
    }
    if (hp_host_run(host, (uint32_t)(end - pos))) {
      return -1;
    }
    /* Give a threaded worker a moment, as real time would. */
    hp_host_wait_worker(host, 100);
    print_events(host, rate, quiet);
    if (hp_host_recorded(host) >= FLUSH_FRAMES && write_recorded(host, file)) {
      return -1;
    }
  }
  return write_recorded(host, file);
}

int
main(int argc, char** argv)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.sample_rate                 = 48000.0;
  uint32_t            block       = 256;
  const char*         spectrogram = NULL;
  const SampleFormat* format      = NULL;
  bool                quiet       = false;
  const char*         input       = NULL;
  int                 a           = 1;
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
    } else if (a + 1 < argc && !strcmp(opt, "--input")) {
      input          = argv[++a];
      cfg.plugin_uri = HP_FX_URI;
    } else if (a + 1 < argc && !strcmp(opt, "--bundle")) {
      cfg.bundle = argv[++a];
    } else if (a + 1 < argc && !strcmp(opt, "--format")) {
      if (!(format = find_format(argv[++a]))) {
        usage();
        return 2;
      }
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
  const char* const out = argv[a + 1];

  char bundle[PATH_MAX];
  if (!cfg.bundle && !find_bundle(bundle, sizeof(bundle))) {
    fprintf(stderr,
            "hotpatch-render: found no %s beside this program "
            "(../lv2/) or installed: give --bundle DIR\n",
            BUNDLE_NAME);
    return 1;
  }
  char real[PATH_MAX];
  cfg.bundle = cfg.bundle ? cfg.bundle : bundle;
  cfg.bundle = realpath(cfg.bundle, real) ? real : cfg.bundle;
  fprintf(stderr, "hotpatch-render: bundle %s\n", cfg.bundle);

  cfg.max_block     = block > 4096 ? block : 4096;
  cfg.pace_realtime = false;
  Script s;
  memset(&s, 0, sizeof(s));
  if (!(s.host = hp_host_new(&cfg))) {
    fprintf(stderr, "hotpatch-render: %s\n", hp_host_last_error());
    return 1;
  }
  const char* what        = NULL;
  SNDFILE*    file        = NULL;
  uint64_t    input_total = 0;
  int         status      = 0;
  if (input && !(input_total = load_input(s.host, input, cfg.sample_rate))) {
    status = 1;
  }
  if (!status) {
    status = load_script(&s, argv[a], cfg.sample_rate);
  }
  if (!status && !(file = open_output(out, cfg.sample_rate, format, &what))) {
    status = 1;
  }
  if (!status) {
    uint64_t total = (uint64_t)llround(s.end_seconds * cfg.sample_rate);
    total          = total > input_total ? total : input_total;
    if (render(&s, file, block, total, quiet)) {
      fprintf(stderr,
              "hotpatch-render: %s\n",
              sf_error(file) ? sf_strerror(file) : hp_host_last_error());
      status = 1;
    } else if (!quiet) {
      printf("wrote %s: %.2f s, %.0f Hz, stereo, %s\n",
             out,
             (double)total / cfg.sample_rate,
             cfg.sample_rate,
             what);
    }
  }
  if (file && sf_close(file)) {
    fprintf(stderr, "hotpatch-render: error closing %s\n", out);
    status = 1;
  }
  hp_host_free(s.host);
  free(s.controls);
  if (!status && spectrogram) {
    char cmd[2048];
    snprintf(cmd,
             sizeof(cmd),
             "sox '%s' -n remix 1 spectrogram -x 1200 -y 513 -z 100 "
             "-t 'hotpatch demo' -o '%s'",
             out,
             spectrogram);
    if (system(cmd)) {
      fprintf(stderr, "hotpatch-render: sox failed to draw %s\n", spectrogram);
      status = 1;
    } else if (!quiet) {
      printf("wrote %s\n", spectrogram);
    }
  }
  return status;
}
