/* hp:patchFile and live reload: a file loads, primes and crossfades in; a
   changed file reloads; a broken save leaves the playing patch alone and
   says where it broke; state remembers the file.  A FIFO, a device or a
   directory is refused at once, and a slow disk never holds up a save. */

#define _GNU_SOURCE /* RTLD_NEXT */

#include "fixture.h"
#include "host.h"
#include "signal.h"

#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A slow disk: while `slow_inode` is set, each read of that file takes
   600 ms.  The plugin's read() and fread() bind to these (-rdynamic). */
#define EXPORT __attribute__((visibility("default")))
static atomic_ulong slow_inode;

static void
slow_down(const int fd)
{
  struct stat         info;
  const unsigned long inode = atomic_load(&slow_inode);
  if (inode && fd >= 0 && !fstat(fd, &info) && info.st_ino == inode) {
    const struct timespec wait = {0, 600000000};
    nanosleep(&wait, NULL);
  }
}

EXPORT ssize_t
read(int fd, void* buf, size_t size)
{
  static ssize_t (*next)(int, void*, size_t);
  if (!next) {
    *(void**)&next = dlsym(RTLD_NEXT, "read");
  }
  slow_down(fd);
  return next(fd, buf, size);
}

EXPORT size_t
fread(void* restrict ptr, size_t size, size_t n, FILE* restrict stream)
{
  static size_t (*next)(void*, size_t, size_t, FILE*);
  if (!next) {
    *(void**)&next = dlsym(RTLD_NEXT, "fread");
  }
  slow_down(fileno(stream));
  return next(ptr, size, n, stream);
}

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static char dir[] = "/tmp/hp_test_patchfile_XXXXXX";
static char file[256];

/* A one-scene document: a sine at `freq`. */
static void
write_doc(const double freq, const bool broken)
{
  char tmp[300];
  snprintf(tmp, sizeof(tmp), "%s.part", file);
  FILE* f = fopen(broken ? file : tmp, "w");
  CHECK(f);
  fprintf(
    f,
    "@prefix hp: <urn:hotpatch:ns#> .\n"
    "<> a hp:PatchBank ; hp:formatVersion 1 ; hp:scenes (\n"
    " [ a hp:Scene ; hp:ops (\n"
    "  [ a hp:Create ; hp:module \"tone\" ; hp:type \"sine\" ]\n"
    "  [ a hp:Set ; hp:module \"tone\" ; hp:param \"freq\" ; hp:value %.1f ]%s",
    freq,
    broken ? "\n  [ a hp:Set ; hp:module " : " ) ] ) .\n");
  fclose(f);
  if (!broken) {
    CHECK(!rename(tmp, file)); /* an editor's atomic save */
  }
}

static double
pitch(HpHost* const host, const uint64_t frames)
{
  CHECK(
    !hp_host_render(host, frames, (HpBlockPolicy){HP_BLOCK_FIXED, 256, 0, 0}));
  const size_t n = hp_host_recorded(host);
  return hp_sig_freq(hp_host_out_l(host) + n - 12000, 12000, 48000);
}

/* Render in real time's steps, letting the worker run, for `seconds`. */
static void
play(HpHost* const host, const double seconds)
{
  for (int i = 0; i < (int)(seconds * 48000 / 256); ++i) {
    CHECK(!hp_host_run(host, 256));
    CHECK(!hp_host_wait_worker(host, 2000));
  }
}

int
main(void)
{
  alarm(60); /* a hang (a FIFO read) fails the test rather than block it */
  CHECK(mkdtemp(dir));
  snprintf(file, sizeof(file), "%s/patch.ttl", dir);
  write_doc(330.0, false);

  HpHostConfig cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.sample_rate = 48000;
  HpHost* host    = fx_host_cfg(cfg);

  /* Load: primed, swapped, acknowledged with the swap. */
  CHECK(!hp_host_send_patch_set_path(host, 0, 1, HP__patchFile, file));
  play(host, 0.1);
  const HpHostEvent* ack = hp_host_find_reply(host, 1);
  CHECK_MSG(ack && ack->kind == HP_EV_ACK,
            "load: %s",
            ack && ack->message ? ack->message : "no answer");
  double f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 330.0) < 0.1, "loaded file plays %.3f Hz", f);

  /* patch:Get tells which file. */
  CHECK(!hp_host_send_patch_get(host, hp_host_frames(host), 2));
  play(host, 0.05);
  bool seen = false;
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    seen |= ev->kind == HP_EV_PATCH_SET && ev->seq == 2 && ev->property &&
            !strcmp(ev->property, HP__patchFile) && ev->value_string &&
            !strcmp(ev->value_string, file);
  }
  CHECK(seen);

  /* Without live reload a change on disk does nothing. */
  write_doc(440.0, false);
  play(host, 1.0);
  f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 330.0) < 0.1, "reloaded without live reload: %.3f Hz", f);

  /* With it, the new version plays within a second. */
  LV2_Atom_Bool on = {{sizeof(int32_t), hp_host_uris(host)->atom_Bool}, 1};
  CHECK(!hp_host_send_patch_set(
    host, hp_host_frames(host), 3, HP__liveReload, &on.atom));
  play(host, 0.1);
  CHECK(hp_host_find_reply(host, 3) &&
        hp_host_find_reply(host, 3)->kind == HP_EV_ACK);
  write_doc(550.0, false);
  play(host, 1.0);
  f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 550.0) < 0.2, "live reload: %.3f Hz", f);
  const float swaps = hp_host_control_out(host, "swaps");

  /* A save cut half-way: the error names the line and column; 550 Hz plays on.
   */
  write_doc(660.0, true);
  play(host, 1.0);
  f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 550.0) < 0.2, "after a broken save: %.3f Hz", f);
  CHECK(hp_host_control_out(host, "swaps") == swaps);
  CHECK(
    hp_host_log_contains(host, "patch.ttl': not valid Turtle: line 6, column"));
  /* Live reload may also catch the file empty, between the editor's
     truncation and its write: that is refused too. */
  const HpHostEvent* err = NULL;
  for (size_t i = 0; i < hp_host_n_events(host); ++i) {
    const HpHostEvent* ev = hp_host_event(host, i);
    if (ev->kind == HP_EV_ERROR) {
      const bool syntax = ev->message && strstr(ev->message, "line 6, column");
      CHECK_MSG(syntax ||
                  (ev->message && strstr(ev->message, "the document is empty")),
                "unexpected error: %s",
                ev->message ? ev->message : "(none)");
      err = syntax ? ev : err;
    }
  }
  CHECK(err);
  printf(
    "# live reload: 330 -> 550 Hz on save; a half-written save refused (%s); "
    "the patch played on\n",
    err->message);

  /* The save completes: reloaded. */
  write_doc(660.0, false);
  play(host, 1.0);
  f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 660.0) < 0.2, "after the save completes: %.3f Hz", f);

  /* State remembers the file and the setting. */
  char state_dir[300];
  snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
  CHECK(!hp_host_save_state(host, state_dir));
  char* text = hp_host_state_to_string(host);
  CHECK_MSG(text && strstr(text, "liveReload") && strstr(text, "patchFile"),
            "%s",
            text ? text : "(no state)");
  free(text);

  /* Missing and non-absolute files are refused with reasons. */
  CHECK(!hp_host_send_patch_set_path(
    host, hp_host_frames(host), 4, HP__patchFile, "/nonexistent/hotpatch.ttl"));
  CHECK(!hp_host_send_patch_set_path(
    host, hp_host_frames(host), 5, HP__patchFile, "relative.ttl"));
  play(host, 0.1);
  const HpHostEvent* missing  = hp_host_find_reply(host, 4);
  const HpHostEvent* relative = hp_host_find_reply(host, 5);
  CHECK(missing && missing->kind == HP_EV_ERROR &&
        strstr(missing->message,
               "cannot open patch file '/nonexistent/hotpatch.ttl'"));
  CHECK(relative && relative->kind == HP_EV_ERROR &&
        strstr(relative->message, "needs an absolute path"));
  f = pitch(host, 24000);
  CHECK_MSG(fabs(f - 660.0) < 0.2, "after refused loads: %.3f Hz", f);
  printf(
    "# patch file: loaded at 330 Hz, reloaded to 550 and 660 Hz, missing and "
    "relative paths refused\n");

  /* A slow disk holds up neither a save nor the patch that plays: the
     file is read without the lock that save() takes. */
  write_doc(770.0, false);
  struct stat info;
  CHECK(!stat(file, &info));
  atomic_store(&slow_inode, (unsigned long)info.st_ino);
  CHECK(!hp_host_send_patch_set_path(
    host, hp_host_frames(host), 20, HP__patchFile, file));
  CHECK(!hp_host_run(host, 256)); /* the worker starts reading */
  const struct timespec head_start = {0, 100000000};
  nanosleep(&head_start, NULL);
  const double t0 = now_ms();
  CHECK(!hp_host_save_state(host, state_dir));
  const double save_ms = now_ms() - t0;
  CHECK(!hp_host_wait_worker(host, 5000));
  atomic_store(&slow_inode, 0ul);
  play(host, 0.1);
  f = pitch(host, 24000);
  CHECK_MSG(save_ms < 250.0,
            "save() took %.0f ms while the worker read a slow file",
            save_ms);
  CHECK_MSG(fabs(f - 770.0) < 0.2, "after the slow load: %.3f Hz", f);
  printf(
    "# a save during a 600 ms file read took %.1f ms; the file then played "
    "(%.3f Hz)\n",
    save_ms,
    f);
  /* Not a regular file: refused at once, saying what it is; 770 Hz plays
     on.  (A FIFO without a writer used to hang the worker in open().) */
  char fifo[300];
  snprintf(fifo, sizeof(fifo), "%s/fifo.ttl", dir);
  CHECK(!mkfifo(fifo, 0600));
  const struct {
    const char* path;
    const char* why;
  } odd[] = {{fifo, "is a FIFO, not a regular file"},
             {"/dev/zero", "is a character device, not a regular file"},
             {dir, "is a directory, not a regular file"},
             {"/dev/stdin", ", not a regular file"}};
  for (int i = 0; i < 4; ++i) {
    const double asked = now_ms();
    CHECK(!hp_host_send_patch_set_path(
      host, hp_host_frames(host), 10 + i, HP__patchFile, odd[i].path));
    for (int k = 0; k < 8; ++k) {
      CHECK(!hp_host_run(host, 256));
      CHECK_MSG(!hp_host_wait_worker(host, 2000),
                "loading %s: the worker is "
                "still busy after 2 s",
                odd[i].path);
    }
    const HpHostEvent* r = hp_host_find_reply(host, 10 + i);
    CHECK_MSG(r && r->kind == HP_EV_ERROR && r->message &&
                strstr(r->message, odd[i].why),
              "loading %s: %s",
              odd[i].path,
              r && r->message ? r->message : "no error");
    f = pitch(host, 24000);
    CHECK_MSG(
      fabs(f - 770.0) < 0.2, "after loading %s: %.3f Hz", odd[i].path, f);
    printf("# %s refused in %.1f ms: %s\n",
           odd[i].path,
           now_ms() - asked,
           r->message);
  }

  hp_host_free(host);

  /* With a synchronous worker the load runs inside run(): a FIFO must not
     hang it. */
  cfg.worker_mode = HP_WORKER_SYNC;
  host            = fx_host_cfg(cfg);
  const double t1 = now_ms();
  CHECK(!hp_host_send_patch_set_path(host, 0, 1, HP__patchFile, fifo));
  CHECK(!hp_host_run(host, 256));
  const HpHostEvent* r = hp_host_find_reply(host, 1);
  CHECK_MSG(r && r->kind == HP_EV_ERROR && r->message &&
              strstr(r->message, "is a FIFO, not a regular file"),
            "sync: loading a FIFO: %s",
            r && r->message ? r->message : "no error");
  printf("# sync worker: a FIFO refused inside run() in %.1f ms\n",
         now_ms() - t1);
  hp_host_free(host);

  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  CHECK(!system(cmd));
  return 0;
}
