/*
  hotpatch-render: play a script of timed commands through the hotpatch
  plugin (loaded with lilv, worker in its own thread as in jalv, or
  synchronous as in a host's export), write what it plays to a sound file
  (WAV, FLAC or OGG, by the file's extension, through libsndfile) and
  report what became of each commit; or draw the patch it leaves playing
  (--graph, as Graphviz DOT, or SVG or PNG through Graphviz's dot).

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
      2.0   /tempo 120 4                 (the host's transport; rolls)
      4.0   /transport stop              (or start)
      5.0   /file song.ttl               (a patch document: hp:patchFile)
      6.0   /end                         (stop rendering here)
  A line without a time happens at the previous line's time.  /patch/ lines
  are read by the engine's own parser (src/text.c), so every form the
  protocol has works here.  Every notification is printed as it arrives
  (the text of /patch/get's and /patch/history's answers too).
  SCRIPT may also be a preset script (presets/NAME.hps: the bundle's
  preset NAME is restored, as a host loads it) or a patch document (.ttl).

  It loads only the bundle it belongs to (see find_bundle()): parsing every
  bundle on LV2_PATH would cost more than a short render, and could pick up
  an older installed hotpatch.
*/

#define _XOPEN_SOURCE 700 // realpath, open_memstream

#include "atoms.h"
#include "engine.h"
#include "graph.h"
#include "host.h"
#include "patch.h"
#include "patch_dot.h"

#include <lv2/atom/forge.h>
#include <png.h>
#include <sndfile.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUNDLE_NAME "hotpatch.lv2"

/* Most prime ops one hp:Commit carries (plugin/atoms.h). */
#define MAX_PRIMES 64u

/* Frames kept before they go to the file, and frames per write. */
#define FLUSH_FRAMES 16384u
#define WRITE_FRAMES 4096u

/* How long after the script's end --graph waits for the plugin's answer. */
#define GRAPH_WAIT_SECONDS 10.0

/** An input control port set at a frame: applied between run() calls. */
typedef struct {
  uint64_t frame;
  char     symbol[64];
  float    value;
} Control;

/** A commit (a /patch/commit line, a /file, or one the plugin made itself,
    such as a scene change) and what became of it: the render's report. */
typedef struct {
  int32_t  seq;        ///< of its message; -1 for the plugin's own
  unsigned line;       ///< of the script; 0 for the plugin's own
  uint64_t frame;      ///< sent at
  int64_t  generation; ///< -1 until primed
  double   prime_ms;
  double   warmup_rms;
  int64_t  swap_frame;            ///< -1 until swapped
  char     error[HP_MESSAGE_MAX]; ///< why it failed or never swapped
} Commit;

/** The host's transport as /tempo and /transport lines set it, where it
    stood at the last change.  Like jalv, the tool sends a time:Position
    only when it changes; the plugin counts the beats in between. */
typedef struct {
  uint64_t frame;    ///< of the last change
  double   beat;     ///< at `frame`, from the song's start
  int64_t  position; ///< time:frame at `frame`: frames rolled
  float    bpm;
  float    beats_per_bar;
  bool     known; ///< a /tempo or /transport line came
  bool     rolling;
} Transport;

typedef struct {
  HpHost*     host;
  const char* path;               ///< of the script, for /file
  unsigned    line;               ///< of the script, being read
  HpOp        primes[MAX_PRIMES]; ///< /patch/prime lines for the next commit
  uint32_t    n_primes;
  Control*    controls; ///< in frame order, then script order
  size_t      n_controls;
  size_t      cap_controls;
  Commit*     commits; ///< in the order they were sent or made
  size_t      n_commits;
  size_t      cap_commits;
  Transport   transport;
  char*       patch_text; ///< the plugin's answer to patch:Get (hp:patch)
  int         get_seq;    ///< the number of the patch:Get that asks for it
  int         seq;
  double      end_seconds;
} Script;

static void
usage(void)
{
  fprintf(
    stderr,
    "usage: hotpatch-render [options] SCRIPT OUT.wav|OUT.flac|OUT.ogg\n"
    "       hotpatch-render --graph PICTURE [options] [SCRIPT [OUT.wav]]\n"
    "SCRIPT: timed lines, [SECONDS] COMMAND, COMMAND a line of the patch\n"
    "protocol (/patch/...), /midi/on NOTE [VELOCITY], /midi/off NOTE,\n"
    "/control SYMBOL VALUE, /tempo BPM [BEATS_PER_BAR] (the host's\n"
    "transport, rolling), /transport start|stop, /file PATCH.ttl or /end;\n"
    "or a preset script (presets/NAME.hps: the bundle's preset NAME), or a\n"
    "patch document (.ttl)\n"
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
    "  --graph PICTURE    draw the patch playing at the script's end (with\n"
    "                     no SCRIPT, the default patch): PICTURE.dot is\n"
    "                     Graphviz DOT, .svg and .png are drawn by dot\n"
    "                     (apt-get install graphviz); the sound file is\n"
    "                     then optional\n"
    "  --spectrogram PNG  also draw a spectrogram with sox, each swap\n"
    "                     marked by a green line\n"
    "  --quiet            print errors only\n"
    "It prints each notification as it comes, then a line per commit:\n"
    "its generation, prime time, warm-up RMS and swap frame, or its error.\n");
}

static int
fail_line(const char* const path, const unsigned line, const char* const why)
{
  fprintf(stderr, "%s:%u: %s\n", path, line, why);
  return 1;
}

/** Room for one more item of `size` bytes in `items` (n used of *cap):
    the array, moved or not, or NULL (the old one kept) when out of
    memory. */
static void*
grow(void* const items, size_t* const cap, const size_t n, const size_t size)
{
  if (n < *cap) {
    return items;
  }
  const size_t more  = *cap ? 2u * *cap : 64u;
  void* const  moved = realloc(items, more * size);
  if (moved) {
    *cap = more;
  }
  return moved;
}

/** Run `argv` (argv[0] looked up on PATH) with `input` (`size` bytes, or
    NULL) on its standard input.  Its exit status: 127 when it could not be
    run (not installed), -1 when it could not be started or died. */
static int
run_program(char* const argv[], const char* const input, const size_t size)
{
  int fds[2] = {-1, -1};
  if (input && pipe(fds)) {
    return -1;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    if (input) {
      dup2(fds[0], STDIN_FILENO);
      close(fds[0]);
      close(fds[1]);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  if (input) {
    close(fds[0]);
    for (size_t done = 0u; pid > 0 && done < size;) {
      const ssize_t n = write(fds[1], input + done, size - done);
      if (n <= 0) {
        break; // it stopped reading: its status says why
      }
      done += (size_t)n;
    }
    close(fds[1]);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

/** Keep a record of a commit for the report; NULL when out of memory. */
static Commit*
add_commit(Script* const s, const int32_t seq, const uint64_t frame)
{
  Commit* const commits =
    (Commit*)grow(s->commits, &s->cap_commits, s->n_commits, sizeof(Commit));
  if (!commits) {
    return NULL;
  }
  s->commits      = commits;
  Commit* const c = &commits[s->n_commits++];
  c->seq          = seq;
  c->line         = seq >= 0 ? s->line : 0u;
  c->frame        = frame;
  c->generation   = -1;
  c->prime_ms     = (double)NAN;
  c->warmup_rms   = (double)NAN;
  c->swap_frame   = -1;
  c->error[0]     = '\0';
  return c;
}

/** Build the protocol message of `op` with the plugin's own encoder
    (plugin/atoms.c) and queue it at `frame`; a commit takes the primes
    gathered since the last one. */
static int
send_op(Script* const s, const uint64_t frame, HpOp* const op)
{
  const bool commit = op->type == HP_OP_COMMIT && s->n_primes;
  op->seq           = ++s->seq;
  if (op->type == HP_OP_COMMIT && !add_commit(s, op->seq, frame)) {
    return -1;
  }
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
  Control* const controls = (Control*)grow(
    s->controls, &s->cap_controls, s->n_controls, sizeof(Control));
  if (!controls) {
    return -1;
  }
  s->controls = controls;
  size_t i    = s->n_controls;
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

/** A patch document loaded as a host's file chooser loads one
    (hp:patchFile, an absolute path): the plugin reads it and commits its
    active scene. */
static int
load_document(Script* const     s,
              const uint64_t    frame,
              const char* const file,
              HpError* const    err)
{
  char path[PATH_MAX];
  if (!realpath(file, path)) {
    hp_error(err, HP_ERR_IO, "%s: %s", file, strerror(errno));
    return -1;
  }
  const int seq = ++s->seq;
  if (!add_commit(s, seq, frame) ||
      hp_host_send_patch_set_path(s->host, frame, seq, HP__patchFile, path)) {
    return host_failed(err);
  }
  return 0;
}

/** Tell the plugin where the transport stands at `frame`, as a
    time:Position with all that jalv sends, and time:beat. */
static int
send_position(Script* const s, const uint64_t frame)
{
  const Transport* const t = &s->transport;
  return hp_host_send_transport(s->host,
                                frame,
                                t->position,
                                t->beat,
                                t->bpm,
                                t->beats_per_bar,
                                t->rolling ? 1.0f : 0.0f);
}

/** /tempo BPM [BEATS_PER_BAR] and /transport start|stop.  The transport
    comes to `frame` (counting the beats while it rolled), changes, and the
    plugin hears of it.  /tempo before any /transport line starts it
    rolling from the song's start; /transport alone plays 120 BPM in 4. */
static int
transport_command(Script* const     s,
                  const uint64_t    frame,
                  const char* const cmd,
                  HpError* const    err)
{
  Transport* const t = &s->transport;
  if (t->known && frame < t->frame) {
    hp_error(err,
             HP_ERR_SYNTAX,
             "/tempo and /transport lines come in time order (this one is "
             "before the one at %.3f s)",
             (double)t->frame / hp_host_sample_rate(s->host));
    return -1;
  }
  char  word[16]      = "";
  char  arg[16]       = "";
  float bpm           = 0.0f;
  float beats_per_bar = t->known ? t->beats_per_bar : 4.0f;
  sscanf(cmd, "%15s", word);
  if (!strcmp(word, "/tempo")) {
    if (sscanf(cmd, "%*s %f %f", &bpm, &beats_per_bar) < 1 ||
        !(bpm > 0.0f && bpm <= 1000.0f) ||
        !(beats_per_bar > 0.0f && beats_per_bar <= 64.0f)) {
      hp_error(err,
               HP_ERR_SYNTAX,
               "usage: /tempo BPM [BEATS_PER_BAR] (above 0 and up to 1000 "
               "beats a minute, up to 64 a bar)");
      return -1;
    }
  } else if (sscanf(cmd, "%*s %15s", arg) != 1 ||
             (strcmp(arg, "start") && strcmp(arg, "stop"))) {
    hp_error(err, HP_ERR_SYNTAX, "usage: /transport start|stop");
    return -1;
  }
  if (t->rolling) {
    t->beat += (double)(frame - t->frame) * (double)t->bpm /
               (60.0 * hp_host_sample_rate(s->host));
    t->position += (int64_t)(frame - t->frame);
  }
  t->frame = frame;
  if (bpm > 0.0f) {
    t->rolling |= !t->known;
    t->bpm           = bpm;
    t->beats_per_bar = beats_per_bar;
  } else {
    t->bpm           = t->known ? t->bpm : 120.0f;
    t->beats_per_bar = beats_per_bar;
    t->rolling       = !strcmp(arg, "start");
  }
  t->known = true;
  return send_position(s, frame) ? host_failed(err) : 0;
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
  if (!strcmp(word, "/tempo") || !strcmp(word, "/transport")) {
    return transport_command(s, frame, cmd, err);
  }
  if (!strcmp(word, "/file")) {
    /* A relative path is the script's folder's. */
    const char* const file  = cmd + 5 + strspn(cmd + 5, " \t");
    const char* const slash = strrchr(s->path, '/');
    char              path[PATH_MAX];
    if (!*file) {
      hp_error(err, HP_ERR_SYNTAX, "usage: /file PATCH.ttl");
      return -1;
    }
    snprintf(path,
             sizeof(path),
             "%.*s%s",
             file[0] != '/' && slash ? (int)(slash - s->path + 1) : 0,
             s->path,
             file);
    return load_document(s, frame, path, err);
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
load_script(Script* const s, const double rate)
{
  FILE* f = fopen(s->path, "r");
  if (!f) {
    fprintf(stderr, "%s: %s\n", s->path, strerror(errno));
    return 1;
  }
  char   line[1024];
  double t = 0.0;
  while (fgets(line, sizeof(line), f)) {
    ++s->line;
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
      return fail_line(s->path, s->line, err.message);
    }
    s->end_seconds = t > s->end_seconds ? t : s->end_seconds;
  }
  fclose(f);
  return 0;
}

typedef enum { SCRIPT_LINES, SCRIPT_PRESET, SCRIPT_DOCUMENT } ScriptKind;

/** What SCRIPT is: a patch document (.ttl); a preset script, which has
    hp-preset's own lines (/label, /plugin, /scene, /active), for the
    effect (*fx) when it says `/plugin fx`; or timed commands. */
static ScriptKind
script_kind(const char* const path, bool* const fx)
{
  const char* const dot = strrchr(path, '.');
  if (dot && !strcasecmp(dot, ".ttl")) {
    return SCRIPT_DOCUMENT;
  }
  static const char* const preset_words[] = {
    "/label", "/plugin", "/scene", "/active"};
  ScriptKind kind = SCRIPT_LINES;
  FILE*      f    = fopen(path, "r"); // if it cannot be read, load_script says
  char       line[1024];
  while (f && fgets(line, sizeof(line), f)) {
    char word[16] = "";
    sscanf(line, "%15s", word);
    for (size_t w = 0u; w < sizeof(preset_words) / sizeof(preset_words[0]);
         ++w) {
      kind = strcmp(word, preset_words[w]) ? kind : SCRIPT_PRESET;
    }
    *fx |= !strcmp(word, "/plugin") && strstr(line, " fx");
  }
  if (f) {
    fclose(f);
  }
  return kind;
}

/** The bundle's preset compiled from the preset script `path`
    (presets/NAME.hps is urn:hotpatch:preset:NAME), restored as a host
    loads a preset. */
static int
load_preset(HpHost* const host, const char* const path)
{
  const char* const slash = strrchr(path, '/');
  const char* const name  = slash ? slash + 1 : path;
  const char* const dot   = strrchr(name, '.');
  char              uri[PATH_MAX];
  snprintf(uri,
           sizeof(uri),
           "urn:hotpatch:preset:%.*s",
           (int)(dot ? (size_t)(dot - name) : strlen(name)),
           name);
  if (hp_host_load_preset(host, uri, 0u)) {
    fprintf(stderr,
            "hotpatch-render: %s: %s (./waf build compiles presets/*.hps "
            "into the bundle's presets)\n",
            path,
            hp_host_last_error());
    return 1;
  }
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

/* Notifications and the report */

static Commit*
find_commit(Script* const s, const int32_t seq, const int64_t generation)
{
  for (size_t i = 0u; i < s->n_commits; ++i) {
    Commit* const c = &s->commits[i];
    if ((seq >= 0 && c->seq == seq) ||
        (generation >= 0 && c->generation == generation)) {
      return c;
    }
  }
  return NULL;
}

/** The plugin's notifications since the last call: printed as they come
    (errors even when quiet), and kept for the report and --graph. */
static void
take_events(Script* const s, const bool quiet)
{
  HpHost* const host = s->host;
  const double  rate = hp_host_sample_rate(host);
  for (size_t i = 0u; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    const double       t  = (double)ev->frame_abs / rate;
    Commit*            c  = NULL;
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
      c = find_commit(s, ev->seq, -1);
      if (c || (c = add_commit(s, -1, ev->frame_abs))) {
        c->generation = ev->generation;
        c->prime_ms   = ev->prime_ms;
        c->warmup_rms = ev->warmup_rms;
      }
      break;
    case HP_EV_SWAPPED:
      if (!quiet) {
        printf("%8.3f s  swapped to generation %lld at frame %llu\n",
               t,
               (long long)ev->generation,
               (unsigned long long)ev->frame_abs);
      }
      if ((c = find_commit(s, -1, ev->generation))) {
        c->swap_frame = (int64_t)ev->frame_abs;
      }
      break;
    case HP_EV_ERROR:
      printf("%8.3f s  error (message %d): %s\n",
             t,
             ev->seq,
             ev->message ? ev->message : "(no message)");
      if ((c = find_commit(s, ev->seq, -1))) {
        snprintf(c->error,
                 sizeof(c->error),
                 "%s",
                 ev->message ? ev->message : "(no message)");
      }
      break;
    case HP_EV_PATCH_SET:
      /* A script's /patch/get or /patch/history: the text it answers. */
      if (ev->property && ev->value_string && !quiet && ev->seq != s->get_seq &&
          (!strcmp(ev->property, HP__patch) ||
           !strcmp(ev->property, HP_NS "history"))) {
        printf("%8.3f s  %s:\n%s",
               t,
               ev->property + strlen(HP_NS),
               ev->value_string);
      }
      if (ev->property && ev->value_string && ev->seq == s->get_seq &&
          !strcmp(ev->property, HP__patch)) {
        free(s->patch_text);
        s->patch_text = strdup(ev->value_string);
      }
      break;
    default:
      break;
    }
  }
  hp_host_clear_events(host);
}

/** A line per commit: primed (generation, time, warm-up RMS) and swapped
    (frame, time), or why not. */
static void
print_report(const Script* const s, const double rate)
{
  for (size_t i = 0u; i < s->n_commits; ++i) {
    const Commit* const c = &s->commits[i];
    if (c->generation < 0) {
      printf("commit at %.3f s", (double)c->frame / rate);
      if (c->line) {
        printf(" (line %u)", c->line);
      }
      printf(": %s%s\n",
             c->error[0] ? "failed: " : "no answer by the end",
             c->error);
      continue;
    }
    printf("commit %lld: primed in %.3f ms, warm-up RMS %.4f, ",
           (long long)c->generation,
           c->prime_ms,
           c->warmup_rms);
    if (c->swap_frame >= 0) {
      printf("swapped at frame %lld (%.3f s)\n",
             (long long)c->swap_frame,
             (double)c->swap_frame / rate);
    } else {
      printf("not swapped%s%s\n", c->error[0] ? ": " : " by the end", c->error);
    }
  }
}

/** Write the host's recorded frames, interleaved (unless there is no
    file: --graph alone), then drop them. */
static int
write_recorded(HpHost* const host, SNDFILE* const file)
{
  float        buf[2u * WRITE_FRAMES];
  const float* l = hp_host_out_l(host);
  const float* r = hp_host_out_r(host);
  const size_t n = hp_host_recorded(host);
  for (size_t done = 0u; file && done < n;) {
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
    take_events(s, quiet);
    if (hp_host_recorded(host) >= FLUSH_FRAMES && write_recorded(host, file)) {
      return -1;
    }
  }
  return write_recorded(host, file);
}

/* The picture of the patch */

/** Text-protocol lines read back into a patch by the engine's parser;
    NULL, with `err` set, if they do not make one. */
static HpPatch*
read_patch(const char* text, HpError* const err)
{
  HpPatch* const patch = hp_patch_new();
  if (!patch) {
    hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  while (*text) {
    const size_t len = strcspn(text, "\n");
    char         line[1024];
    HpOp         op;
    snprintf(line, sizeof(line), "%.*s", (int)len, text);
    const HpStatus st = hp_op_parse_text(line, &op, err);
    if (st != HP_ERR_NOTHING_STAGED &&
        (st || hp_patch_apply(patch, &op, err))) {
      hp_patch_free(patch);
      return NULL;
    }
    text += len + (text[len] == '\n');
  }
  return patch;
}

/** DOT text into `path`: a .dot as it is, an .svg or .png drawn by
    Graphviz's dot. */
static int
write_picture(const char* const path, const char* const dot, const size_t size)
{
  const char* const ext = strrchr(path, '.');
  if (ext && !strcasecmp(ext, ".dot")) {
    FILE* const f  = fopen(path, "w");
    bool        ok = f && fwrite(dot, 1u, size, f) == size;
    ok             = f && !fclose(f) && ok;
    if (!ok) {
      fprintf(stderr,
              "hotpatch-render: cannot write %s: %s\n",
              path,
              strerror(errno));
    }
    return !ok;
  }
  const bool svg = ext && !strcasecmp(ext, ".svg");
  if (!svg && !(ext && !strcasecmp(ext, ".png"))) {
    fprintf(
      stderr, "hotpatch-render: %s: --graph writes .dot, .svg or .png\n", path);
    return 1;
  }
  char out[PATH_MAX];
  snprintf(out, sizeof(out), "%s", path);
  char* const argv[] = {"dot", svg ? "-Tsvg" : "-Tpng", "-o", out, NULL};
  const int   status = run_program(argv, dot, size);
  if (status == 127) {
    fprintf(stderr,
            "hotpatch-render: drawing %s needs Graphviz's dot: apt-get "
            "install graphviz (or write a .dot file)\n",
            path);
  } else if (status) {
    fprintf(stderr, "hotpatch-render: dot failed to draw %s\n", path);
  }
  return status != 0;
}

/** Draw the patch the plugin plays once the script is done: its answer to
    patch:Get (the text form, in the next blocks), read back by the
    engine's parser and compiled as the plugin compiles it, so that the
    picture shows which modules play once per voice. */
static int
write_graph(Script* const     s,
            const char* const path,
            const uint32_t    block,
            const bool        quiet)
{
  HpHost* const  host = s->host;
  const double   rate = hp_host_sample_rate(host);
  const uint64_t give_up =
    hp_host_frames(host) + (uint64_t)(GRAPH_WAIT_SECONDS * rate);
  s->get_seq = ++s->seq;
  if (hp_host_send_patch_get(host, hp_host_frames(host), s->get_seq)) {
    fprintf(stderr, "hotpatch-render: %s\n", hp_host_last_error());
    return 1;
  }
  while (!s->patch_text && hp_host_frames(host) < give_up &&
         !hp_host_run(host, block)) {
    hp_host_wait_worker(host, 100);
    take_events(s, quiet);
    hp_host_discard_output(host);
  }
  if (!s->patch_text) {
    fprintf(stderr, "hotpatch-render: the plugin did not answer patch:Get\n");
    return 1;
  }
  HpError        err;
  HpPatch* const patch = read_patch(s->patch_text, &err);
  HpGraph* const graph =
    patch ? hp_graph_new(patch, NULL, (float)rate, &err) : NULL;
  char*       dot  = NULL;
  size_t      size = 0u;
  FILE* const mem  = graph ? open_memstream(&dot, &size) : NULL;
  if (mem) {
    hp_patch_write_dot(mem, patch, graph);
    fclose(mem);
  }
  hp_graph_free(graph);
  hp_patch_free(patch);
  int status = 1;
  if (!dot) {
    fprintf(stderr,
            "hotpatch-render: %s: %s\n",
            path,
            graph ? "out of memory" : err.message);
  } else {
    status = write_picture(path, dot, size);
  }
  free(dot);
  return status;
}

/* The spectrogram */

/* sox 14.4's spectrogram layout (its src/spectrogram.c): the plot begins
   58 pixels from the left, and margins and the colour scale take 144
   columns in all beside it; with a title, 50 rows lie above it and 48
   below. */
#define SOX_LEFT 58
#define SOX_SIDES 144
#define SOX_ABOVE 50
#define SOX_BELOW 48

/** Each swap as a vertical line through the plot of the spectrogram of
    `seconds` of sound at `path`, on the column where sox puts the tick of
    its time (sox has no markers: libpng reads and rewrites the picture). */
static int
mark_swaps(const Script* const s, const char* const path, const double seconds)
{
  png_image image;
  memset(&image, 0, sizeof(image));
  image.version     = PNG_IMAGE_VERSION;
  png_bytep rgb     = NULL;
  bool      ok      = png_image_begin_read_from_file(&image, path);
  image.format      = PNG_FORMAT_RGB;
  ok                = ok && (rgb = (png_bytep)malloc(PNG_IMAGE_SIZE(image)));
  ok                = ok && png_image_finish_read(&image, NULL, rgb, 0, NULL);
  const double rate = hp_host_sample_rate(s->host);
  const int    cols = (int)image.width - SOX_SIDES;
  for (size_t i = 0u; ok && cols > 0 && i < s->n_commits; ++i) {
    const double t = (double)s->commits[i].swap_frame / rate;
    if (s->commits[i].swap_frame < 0 || t > seconds) {
      continue;
    }
    const long x = SOX_LEFT - 1 + lround(t / seconds * cols);
    for (uint32_t y = SOX_ABOVE; y + SOX_BELOW < image.height; ++y) {
      png_bytep const px = rgb + 3u * ((size_t)y * image.width + (size_t)x);
      px[0]              = 0x00;
      px[1]              = 0xff;
      px[2]              = 0x00;
    }
  }
  ok = ok && png_image_write_to_file(&image, path, 0, rgb, 0, NULL);
  if (!ok) {
    fprintf(stderr,
            "hotpatch-render: %s: %s\n",
            path,
            image.message[0] ? image.message : "out of memory");
  }
  png_image_free(&image);
  free(rgb);
  return !ok;
}

/** The spectrogram of `audio` by sox, each swap marked. */
static int
draw_spectrogram(const Script* const s,
                 const char* const   audio,
                 const char* const   png,
                 const double        seconds)
{
  char in[PATH_MAX];
  char out[PATH_MAX];
  snprintf(in, sizeof(in), "%s", audio);
  snprintf(out, sizeof(out), "%s", png);
  char* const argv[] = {"sox",
                        in,
                        "-n",
                        "remix",
                        "1",
                        "spectrogram",
                        "-x",
                        "1200",
                        "-y",
                        "513",
                        "-z",
                        "100",
                        "-t",
                        "hotpatch demo",
                        "-o",
                        out,
                        NULL};
  const int   status = run_program(argv, NULL, 0u);
  if (status) {
    fprintf(stderr,
            "hotpatch-render: sox failed to draw %s%s\n",
            png,
            status == 127 ? ": apt-get install sox" : "");
    return 1;
  }
  return mark_swaps(s, png, seconds);
}

int
main(int argc, char** argv)
{
  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.sample_rate                 = 48000.0;
  uint32_t            block       = 256;
  const char*         spectrogram = NULL;
  const char*         graph       = NULL;
  const SampleFormat* format      = NULL;
  bool                quiet       = false;
  const char*         input       = NULL;
  int                 a           = 1;
  for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; ++a) {
    const char* opt = argv[a];
    if (!strcmp(opt, "--help")) {
      usage();
      return 0;
    }
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
    } else if (a + 1 < argc && !strcmp(opt, "--graph")) {
      graph = argv[++a];
    } else {
      usage();
      return 2;
    }
  }
  const int n_args = argc - a;
  if (n_args > 2 || (n_args < 2 && (!graph || spectrogram)) || block < 1 ||
      block > 8192 || cfg.sample_rate < 8000.0) {
    usage();
    return 2;
  }
  const char* const script = n_args > 0 ? argv[a] : NULL;
  const char* const out    = n_args > 1 ? argv[a + 1] : NULL;
  bool              fx     = false;
  const ScriptKind  kind   = script ? script_kind(script, &fx) : SCRIPT_LINES;
  cfg.plugin_uri           = fx ? HP_FX_URI : cfg.plugin_uri;

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

  /* dot or sox quitting early must not end us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  cfg.max_block     = block > 4096 ? block : 4096;
  cfg.pace_realtime = false;
  Script s;
  memset(&s, 0, sizeof(s));
  s.path = script;
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
  if (!status && kind == SCRIPT_PRESET) {
    status = load_preset(s.host, script);
  } else if (!status && kind == SCRIPT_DOCUMENT) {
    HpError err;
    if (load_document(&s, 0u, script, &err)) {
      fprintf(stderr, "hotpatch-render: %s\n", err.message);
      status = 1;
    }
  } else if (!status && script) {
    status = load_script(&s, cfg.sample_rate);
  }
  if (!status && out &&
      !(file = open_output(out, cfg.sample_rate, format, &what))) {
    status = 1;
  }
  uint64_t total = (uint64_t)llround(s.end_seconds * cfg.sample_rate);
  total          = total > input_total ? total : input_total;
  if (!status && render(&s, file, block, total, quiet)) {
    fprintf(stderr,
            "hotpatch-render: %s\n",
            file && sf_error(file) ? sf_strerror(file) : hp_host_last_error());
    status = 1;
  }
  if (file && sf_close(file)) {
    fprintf(stderr, "hotpatch-render: error closing %s\n", out);
    status = 1;
  }
  if (!status && graph) {
    status = write_graph(&s, graph, block, quiet);
  }
  if (!status && kind == SCRIPT_DOCUMENT && s.commits[0].generation < 0) {
    fprintf(stderr,
            "hotpatch-render: %s did not load (the plugin said why above)\n",
            script);
    status = 1;
  }
  if (!status && spectrogram) {
    status =
      draw_spectrogram(&s, out, spectrogram, (double)total / cfg.sample_rate);
  }
  if (!status && !quiet) {
    print_report(&s, cfg.sample_rate);
    if (out) {
      printf("wrote %s: %.2f s, %.0f Hz, stereo, %s\n",
             out,
             (double)total / cfg.sample_rate,
             cfg.sample_rate,
             what);
    }
    if (graph) {
      printf("wrote %s\n", graph);
    }
    if (spectrogram) {
      printf("wrote %s\n", spectrogram);
    }
  }
  hp_host_free(s.host);
  free(s.controls);
  free(s.commits);
  free(s.patch_text);
  return status;
}
