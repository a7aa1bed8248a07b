/*
  The patch file (hp:patchFile): read only when it is a regular file of a
  bounded size, without blocking, outside the worker's lock; and live
  reload, which looks at it every half second (hp_engine_begin() queues
  the look) and loads it again when its time or size changed.
*/

#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_SIZE (16u << 20u)

/* A patch file as read, outside `lock`. */
typedef struct {
  char*           text; /* the document, or NULL: `err` says why */
  HpError         err;
  bool            found; /* it exists: watch its time and size */
  struct timespec mtime;
  off_t           size;
} PatchFile;

static const char*
file_kind(const mode_t mode)
{
  return S_ISFIFO(mode)   ? "a FIFO"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISDIR(mode)  ? "a directory"
         : S_ISSOCK(mode) ? "a socket"
                          : "of an unknown kind";
}

/* Read a whole patch file.  Only a regular file of a bounded size: a FIFO
   or a device could block or never end.  Opened non-blocking, so even a
   FIFO without a writer only gets looked at. */
static void
read_file(const char* const path, PatchFile* const file)
{
  HpError* const err = &file->err;
  struct stat    info;
  memset(file, 0, sizeof(*file));
  const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &info)) {
    hp_error(err,
             HP_ERR_IO,
             "cannot open patch file '%.200s': %s",
             path,
             strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return;
  }
  file->found = true;
  file->mtime = info.st_mtim;
  file->size  = info.st_size;
  char*  text = NULL;
  size_t len  = 0;
  if (!S_ISREG(info.st_mode)) {
    hp_error(err,
             HP_ERR_IO,
             "patch file '%.200s' is %s, not a regular file; give the path "
             "of a Turtle patch document",
             path,
             file_kind(info.st_mode));
  } else if (info.st_size > (off_t)MAX_FILE_SIZE) {
    hp_error(err,
             HP_ERR_TOO_LARGE,
             "patch file '%.200s' is larger than %u MiB",
             path,
             MAX_FILE_SIZE >> 20u);
  } else if (!(text = (char*)malloc((size_t)info.st_size + 1u))) {
    hp_error(err, HP_ERR_NO_MEMORY, "out of memory");
  } else {
    /* A file being written may be shorter than fstat said: read what is
       there (the parser refuses a cut document). */
    ssize_t got = 0;
    while (len < (size_t)info.st_size &&
           ((got = read(fd, text + len, (size_t)info.st_size - len)) > 0 ||
            (got < 0 && errno == EINTR))) {
      len += got > 0 ? (size_t)got : 0u;
    }
    if (got < 0) {
      hp_error(err,
               HP_ERR_IO,
               "cannot read patch file '%.200s': %s",
               path,
               strerror(errno));
    } else if (memchr(text, '\0', len)) {
      hp_error(err,
               HP_ERR_SYNTAX,
               "patch file '%.200s' is binary, not a Turtle patch document",
               path);
    } else {
      text[len]  = '\0';
      file->text = text;
      text       = NULL;
    }
  }
  free(text);
  close(fd);
}

/* Install a patch file read by read_file(), and watch it. */
static void
load_file(HpEngine* const   e,
          const char* const path,
          PatchFile* const  file,
          const int32_t     seq)
{
  HpStatus st = file->text ? HP_SUCCESS : file->err.status;
  if (file->text) {
    char uri[HP_MESSAGE_MAX + 8];
    snprintf(uri, sizeof(uri), "file://%s", path);
    HpError why;
    if ((st = hp_worker_install_document(e, file->text, uri, seq, &why))) {
      hp_error(
        &file->err, st, "patch file '%.120s': %.180s", path, why.message);
    }
  }
  /* Watch the file even when this version is broken: the next save may
     mend it. */
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path);
  e->file_mtime = file->found ? file->mtime : (struct timespec){0, 0};
  e->file_size  = file->found ? file->size : -1;
  atomic_store(&e->watching, e->live_reload);
  if (st) {
    hp_worker_reply(e, seq, st, &file->err);
  }
}

/* hp:patchFile, and live reload's look at the file (a changed file is
   loaded, primed and crossfaded in).  The file is read with `lock`
   released: save() takes it, and a slow disk must not hold a save up.
   Called by hp_engine_work() with `lock` held. */
void
hp_patch_file_op(HpEngine* const e, const HpOp* const op)
{
  char path[HP_MESSAGE_MAX];
  memcpy(
    path, op->type == HP_OP_TICK ? e->patch_file : op->file.text, sizeof(path));
  path[sizeof(path) - 1u] = '\0';
  if (op->type == HP_OP_TICK && (!e->live_reload || !path[0])) {
    return;
  }
  if (path[0] != '/') {
    HpError err;
    hp_error(&err,
             HP_ERR_BAD_VALUE,
             "hp:patchFile needs an absolute path, not '%.200s'",
             path);
    hp_worker_reply(e, op->seq, err.status, &err);
    return;
  }
  const struct timespec seen = e->file_mtime;
  const off_t           size = e->file_size;
  pthread_mutex_unlock(&e->lock);
  struct stat info;
  PatchFile   file;
  memset(&file, 0, sizeof(file));
  const bool changed =
    op->type != HP_OP_TICK ||
    (!stat(path, &info) &&
     (info.st_mtim.tv_sec != seen.tv_sec ||
      info.st_mtim.tv_nsec != seen.tv_nsec || info.st_size != size));
  if (changed) {
    read_file(path, &file);
  }
  pthread_mutex_lock(&e->lock);
  if (changed) {
    load_file(e, path, &file, op->seq);
  }
  free(file.text);
}

void
hp_engine_file_settings(HpEngine* const e,
                        char* const     path,
                        bool* const     live_reload)
{
  pthread_mutex_lock(&e->lock);
  memcpy(path, e->patch_file, HP_MESSAGE_MAX);
  *live_reload = e->live_reload;
  pthread_mutex_unlock(&e->lock);
}

void
hp_engine_set_file_settings(HpEngine* const   e,
                            const char* const path,
                            const bool        live_reload)
{
  struct stat st_file; /* looked at before the lock: no I/O under it */
  const bool  found = path && path[0] && !stat(path, &st_file);
  pthread_mutex_lock(&e->lock);
  snprintf(e->patch_file, sizeof(e->patch_file), "%s", path ? path : "");
  e->live_reload = live_reload;
  if (found) {
    e->file_mtime = st_file.st_mtim;
    e->file_size  = st_file.st_size;
  }
  atomic_store(&e->watching, e->live_reload && e->patch_file[0]);
  pthread_mutex_unlock(&e->lock);
}
