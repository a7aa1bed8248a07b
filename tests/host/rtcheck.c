/*
  rtcheck: counts calls that real-time code must not make (see rtcheck.h).

  Each hook is the public symbol (malloc, pthread_mutex_lock, ...) defined
  in the test executable, which the dynamic linker prefers to libc's for
  the executable, its libraries, and with -rdynamic the dlopen()ed plugin.
  The malloc family forwards to glibc's __libc_* entry points (dlsym may
  itself allocate, so it cannot be used to find malloc); everything else
  forwards to the next definition found once with dlsym(RTLD_NEXT).

  While counting, a hook turns the thread's flag off around the real call,
  so fprintf's own malloc is not counted twice.
*/

#ifndef _GNU_SOURCE
#  define _GNU_SOURCE // RTLD_NEXT, dlvsym, dladdr, usleep, memalign
#endif
#undef _FORTIFY_SOURCE // the hooks define printf & co themselves
// No glibc extern-inline vprintf/putchar either: this file defines them
#ifndef __NO_INLINE__
#  define __NO_INLINE__ 1
#endif

#include "rtcheck.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#  define HP_RT_SANITIZED 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#    define HP_RT_SANITIZED 1
#  endif
#endif
#ifndef HP_RT_SANITIZED
#  define HP_RT_SANITIZED 0
#endif

#define HP_RT_EXPORT __attribute__((visibility("default")))

// The thread's flag; initial-exec so reading it never allocates
static _Thread_local bool rt_active __attribute__((tls_model("initial-exec")));

bool
hp_rt_set_active(const bool active)
{
  const bool old = rt_active;
  rt_active      = active;
  return old;
}

bool
hp_rt_is_active(void)
{
  return rt_active;
}

typedef enum {
  RT_MALLOC,
  RT_CALLOC,
  RT_REALLOC,
  RT_FREE,
  RT_POSIX_MEMALIGN,
  RT_ALIGNED_ALLOC,
  RT_MEMALIGN,
  RT_REALLOCARRAY,
  RT_MUTEX_LOCK,
  RT_MUTEX_TRYLOCK,
  RT_MUTEX_UNLOCK,
  RT_COND_WAIT,
  RT_COND_SIGNAL,
  RT_RWLOCK,
  RT_SEM_WAIT,
  RT_SEM_POST,
  RT_SLEEP,
  RT_STDIO,
  RT_WRITE,
  RT_N_COUNTERS
} RtCounter;

static const char* const counter_names[RT_N_COUNTERS] = {"malloc",
                                                         "calloc",
                                                         "realloc",
                                                         "free",
                                                         "posix_memalign",
                                                         "aligned_alloc",
                                                         "memalign",
                                                         "reallocarray",
                                                         "mutex_lock",
                                                         "mutex_trylock",
                                                         "mutex_unlock",
                                                         "cond_wait",
                                                         "cond_signal",
                                                         "rwlock",
                                                         "sem_wait",
                                                         "sem_post",
                                                         "sleep",
                                                         "stdio",
                                                         "write"};

#define RT_N_OFFENDERS 8u

typedef struct {
  RtCounter   counter;
  const char* function;
  void*       caller;
} RtOffender;

static _Atomic uint64_t rt_counts[RT_N_COUNTERS];
static atomic_uint      rt_n_offenders;
static RtOffender       rt_offenders[RT_N_OFFENDERS];

void
hp_rt_reset(void)
{
  for (unsigned i = 0u; i < RT_N_COUNTERS; ++i) {
    atomic_store(&rt_counts[i], 0u);
  }
  atomic_store(&rt_n_offenders, 0u);
}

void
hp_rt_counts(HpRtCounts* const c)
{
  uint64_t n[RT_N_COUNTERS];
  uint64_t total = 0u;
  for (unsigned i = 0u; i < RT_N_COUNTERS; ++i) {
    n[i] = atomic_load(&rt_counts[i]);
    total += n[i];
  }

  c->malloc         = n[RT_MALLOC];
  c->calloc         = n[RT_CALLOC];
  c->realloc        = n[RT_REALLOC];
  c->free           = n[RT_FREE];
  c->posix_memalign = n[RT_POSIX_MEMALIGN];
  c->aligned_alloc  = n[RT_ALIGNED_ALLOC];
  c->memalign       = n[RT_MEMALIGN];
  c->reallocarray   = n[RT_REALLOCARRAY];
  c->mutex_lock     = n[RT_MUTEX_LOCK];
  c->mutex_trylock  = n[RT_MUTEX_TRYLOCK];
  c->mutex_unlock   = n[RT_MUTEX_UNLOCK];
  c->cond_wait      = n[RT_COND_WAIT];
  c->cond_signal    = n[RT_COND_SIGNAL];
  c->rwlock         = n[RT_RWLOCK];
  c->sem_wait       = n[RT_SEM_WAIT];
  c->sem_post       = n[RT_SEM_POST];
  c->sleep          = n[RT_SLEEP];
  c->stdio          = n[RT_STDIO];
  c->write          = n[RT_WRITE];
  c->total          = total;
}

void
hp_rt_print(FILE* const stream, const HpRtCounts* const c)
{
  const uint64_t n[RT_N_COUNTERS] = {c->malloc,
                                     c->calloc,
                                     c->realloc,
                                     c->free,
                                     c->posix_memalign,
                                     c->aligned_alloc,
                                     c->memalign,
                                     c->reallocarray,
                                     c->mutex_lock,
                                     c->mutex_trylock,
                                     c->mutex_unlock,
                                     c->cond_wait,
                                     c->cond_signal,
                                     c->rwlock,
                                     c->sem_wait,
                                     c->sem_post,
                                     c->sleep,
                                     c->stdio,
                                     c->write};

  fprintf(stream,
          "# rtcheck: %llu calls in real-time code",
          (unsigned long long)c->total);
  for (unsigned i = 0u; i < RT_N_COUNTERS; ++i) {
    if (n[i]) {
      fprintf(stream, ", %s %llu", counter_names[i], (unsigned long long)n[i]);
    }
  }
  fprintf(stream, "\n");

  const unsigned n_off = atomic_load(&rt_n_offenders);
  for (unsigned i = 0u; i < n_off && i < RT_N_OFFENDERS; ++i) {
    const RtOffender* const o    = &rt_offenders[i];
    const char* const       func = o->function ? o->function : "?";
    Dl_info                 info = {NULL, NULL, NULL, NULL};
    if (dladdr(o->caller, &info) && info.dli_fname) {
      const char* const file  = strrchr(info.dli_fname, '/');
      const uintptr_t   where = (uintptr_t)o->caller;
      if (info.dli_sname && info.dli_saddr) {
        fprintf(stream,
                "# rtcheck: %s() called from %s (%s+0x%lx)\n",
                func,
                file ? file + 1 : info.dli_fname,
                info.dli_sname,
                (unsigned long)(where - (uintptr_t)info.dli_saddr));
      } else { // a hidden symbol: give the offset for addr2line
        fprintf(stream,
                "# rtcheck: %s() called from %s (+0x%lx)\n",
                func,
                file ? file + 1 : info.dli_fname,
                (unsigned long)(where - (uintptr_t)info.dli_fbase));
      }
    } else {
      fprintf(stream, "# rtcheck: %s() called from %p\n", func, o->caller);
    }
  }
}

void
hp_rt_require_none(const HpRtCounts* const c)
{
  if (!hp_rt_available()) {
    printf("# rtcheck unavailable: %s\n", hp_rt_unavailable_reason());
    return;
  }
  hp_rt_print(stdout, c);
  if (c->total) {
    fprintf(stderr,
            "real-time code made %llu forbidden calls\n",
            (unsigned long long)c->total);
    exit(1);
  }
}

#if HP_RT_SANITIZED

bool
hp_rt_available(void)
{
  return false;
}

const char*
hp_rt_unavailable_reason(void)
{
  return "rtcheck unavailable under sanitizers";
}

const char*
hp_rt_check_linkage(void)
{
  return NULL;
}

#else // !HP_RT_SANITIZED

/* Counting, called first by every hook.  Returns true if this call was
   counted: the flag is then off until rt_leave() puts it back. */
static inline bool
rt_enter(const RtCounter counter, const char* const function, void* caller)
{
  if (!rt_active) {
    return false;
  }

  rt_active = false;
  atomic_fetch_add_explicit(&rt_counts[counter], 1u, memory_order_relaxed);
  const unsigned i =
    atomic_fetch_add_explicit(&rt_n_offenders, 1u, memory_order_relaxed);
  if (i < RT_N_OFFENDERS) {
    rt_offenders[i].counter  = counter;
    rt_offenders[i].function = function;
    rt_offenders[i].caller   = caller;
  }
  return true;
}

static inline void
rt_leave(const bool counted)
{
  if (counted) {
    rt_active = true;
  }
}

#  define RT_ENTER(counter, name) \
    const bool counted_ = rt_enter(counter, name, __builtin_return_address(0))
#  define RT_LEAVE() rt_leave(counted_)

/* The malloc family: glibc's own entry points */

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t n, size_t size);
extern void* __libc_realloc(void* ptr, size_t size);
extern void  __libc_free(void* ptr);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void* __libc_valloc(size_t size);
extern void* __libc_pvalloc(size_t size);

HP_RT_EXPORT void*
malloc(size_t size)
{
  RT_ENTER(RT_MALLOC, "malloc");
  void* const ptr = __libc_malloc(size);
  RT_LEAVE();
  return ptr;
}

HP_RT_EXPORT void*
calloc(size_t n, size_t size)
{
  RT_ENTER(RT_CALLOC, "calloc");
  void* const ptr = __libc_calloc(n, size);
  RT_LEAVE();
  return ptr;
}

HP_RT_EXPORT void*
realloc(void* ptr, size_t size)
{
  RT_ENTER(RT_REALLOC, "realloc");
  void* const result = __libc_realloc(ptr, size);
  RT_LEAVE();
  return result;
}

HP_RT_EXPORT void
free(void* ptr)
{
  RT_ENTER(RT_FREE, "free");
  __libc_free(ptr);
  RT_LEAVE();
}

HP_RT_EXPORT int
posix_memalign(void** memptr, size_t alignment, size_t size)
{
  RT_ENTER(RT_POSIX_MEMALIGN, "posix_memalign");
  int status = 0;
  if (!alignment || alignment % sizeof(void*) ||
      (alignment & (alignment - 1u))) {
    status = EINVAL;
  } else {
    void* const ptr = __libc_memalign(alignment, size);
    if (ptr) {
      *memptr = ptr;
    } else {
      status = ENOMEM;
    }
  }
  RT_LEAVE();
  return status;
}

HP_RT_EXPORT void*
aligned_alloc(size_t alignment, size_t size)
{
  RT_ENTER(RT_ALIGNED_ALLOC, "aligned_alloc");
  void* const ptr = __libc_memalign(alignment, size);
  RT_LEAVE();
  return ptr;
}

HP_RT_EXPORT void*
memalign(size_t alignment, size_t size)
{
  RT_ENTER(RT_MEMALIGN, "memalign");
  void* const ptr = __libc_memalign(alignment, size);
  RT_LEAVE();
  return ptr;
}

HP_RT_EXPORT void*
valloc(size_t size)
{
  RT_ENTER(RT_MEMALIGN, "valloc");
  void* const ptr = __libc_valloc(size);
  RT_LEAVE();
  return ptr;
}

HP_RT_EXPORT void*
pvalloc(size_t size)
{
  RT_ENTER(RT_MEMALIGN, "pvalloc");
  void* const ptr = __libc_pvalloc(size);
  RT_LEAVE();
  return ptr;
}

// glibc's own reallocarray calls its internal realloc, which no hook sees
HP_RT_EXPORT void*
reallocarray(void* ptr, size_t n, size_t size)
{
  RT_ENTER(RT_REALLOCARRAY, "reallocarray");
  size_t total  = 0u;
  void*  result = NULL;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
  } else {
    result = __libc_realloc(ptr, total);
  }
  RT_LEAVE();
  return result;
}

/* Everything else: the next definition, found once */

#  include <pthread.h>
#  include <semaphore.h>
#  include <time.h>
#  include <unistd.h>

// Fortified stdio entry points (Debian builds its packages with them)
extern int __printf_chk(int flag, const char* fmt, ...);
extern int __fprintf_chk(FILE* stream, int flag, const char* fmt, ...);
extern int __vprintf_chk(int flag, const char* fmt, va_list ap);
extern int __vfprintf_chk(FILE* stream, int flag, const char* fmt, va_list ap);

typedef int (*MutexFunc)(pthread_mutex_t*);
typedef int (*MutexTimedFunc)(pthread_mutex_t*, const struct timespec*);
typedef int (*CondWaitFunc)(pthread_cond_t*, pthread_mutex_t*);
typedef int (*CondTimedWaitFunc)(pthread_cond_t*,
                                 pthread_mutex_t*,
                                 const struct timespec*);
typedef int (*CondFunc)(pthread_cond_t*);
typedef int (*RwlockFunc)(pthread_rwlock_t*);
typedef int (*RwlockTimedFunc)(pthread_rwlock_t*, const struct timespec*);
typedef int (*SemFunc)(sem_t*);
typedef int (*SemTimedFunc)(sem_t*, const struct timespec*);
typedef int (*NanosleepFunc)(const struct timespec*, struct timespec*);
typedef int (*ClockNanosleepFunc)(clockid_t,
                                  int,
                                  const struct timespec*,
                                  struct timespec*);
typedef int (*UsleepFunc)(useconds_t);
typedef unsigned (*SleepFunc)(unsigned);
typedef int (*VprintfFunc)(const char*, va_list);
typedef int (*VfprintfFunc)(FILE*, const char*, va_list);
typedef int (*VprintfChkFunc)(int, const char*, va_list);
typedef int (*VfprintfChkFunc)(FILE*, int, const char*, va_list);
typedef int (*FputsFunc)(const char*, FILE*);
typedef int (*PutsFunc)(const char*);
typedef size_t (*FwriteFunc)(const void*, size_t, size_t, FILE*);
typedef int (*FputcFunc)(int, FILE*);
typedef int (*PutcharFunc)(int);
typedef ssize_t (*WriteFunc)(int, const void*, size_t);

typedef enum {
  R_MUTEX_LOCK,
  R_MUTEX_TRYLOCK,
  R_MUTEX_TIMEDLOCK,
  R_MUTEX_UNLOCK,
  R_COND_WAIT,
  R_COND_TIMEDWAIT,
  R_COND_SIGNAL,
  R_COND_BROADCAST,
  R_RWLOCK_RDLOCK,
  R_RWLOCK_WRLOCK,
  R_RWLOCK_TRYRDLOCK,
  R_RWLOCK_TRYWRLOCK,
  R_RWLOCK_TIMEDRDLOCK,
  R_RWLOCK_TIMEDWRLOCK,
  R_RWLOCK_UNLOCK,
  R_SEM_WAIT,
  R_SEM_TIMEDWAIT,
  R_SEM_POST,
  R_NANOSLEEP,
  R_CLOCK_NANOSLEEP,
  R_USLEEP,
  R_SLEEP,
  R_VPRINTF,
  R_VFPRINTF,
  R_VPRINTF_CHK,
  R_VFPRINTF_CHK,
  R_FPUTS,
  R_PUTS,
  R_FWRITE,
  R_PUTC,
  R_FPUTC,
  R_PUTCHAR,
  R_WRITE,
  R_N_REAL
} RealId;

typedef struct {
  const char* name;
  const char* version; ///< preferred symbol version, or NULL
  void (*func)(void);  ///< the real function, once resolved
} RealFunc;

// pthread_cond_* must be the current ABI, not the 2.2.5 compatibility one
#  define COND_VERSION "GLIBC_2.3.2"

static RealFunc reals[R_N_REAL] = {
  {"pthread_mutex_lock", NULL, NULL},
  {"pthread_mutex_trylock", NULL, NULL},
  {"pthread_mutex_timedlock", NULL, NULL},
  {"pthread_mutex_unlock", NULL, NULL},
  {"pthread_cond_wait", COND_VERSION, NULL},
  {"pthread_cond_timedwait", COND_VERSION, NULL},
  {"pthread_cond_signal", COND_VERSION, NULL},
  {"pthread_cond_broadcast", COND_VERSION, NULL},
  {"pthread_rwlock_rdlock", NULL, NULL},
  {"pthread_rwlock_wrlock", NULL, NULL},
  {"pthread_rwlock_tryrdlock", NULL, NULL},
  {"pthread_rwlock_trywrlock", NULL, NULL},
  {"pthread_rwlock_timedrdlock", NULL, NULL},
  {"pthread_rwlock_timedwrlock", NULL, NULL},
  {"pthread_rwlock_unlock", NULL, NULL},
  {"sem_wait", NULL, NULL},
  {"sem_timedwait", NULL, NULL},
  {"sem_post", NULL, NULL},
  {"nanosleep", NULL, NULL},
  {"clock_nanosleep", NULL, NULL},
  {"usleep", NULL, NULL},
  {"sleep", NULL, NULL},
  {"vprintf", NULL, NULL},
  {"vfprintf", NULL, NULL},
  {"__vprintf_chk", NULL, NULL},
  {"__vfprintf_chk", NULL, NULL},
  {"fputs", NULL, NULL},
  {"puts", NULL, NULL},
  {"fwrite", NULL, NULL},
  {"putc", NULL, NULL},
  {"fputc", NULL, NULL},
  {"putchar", NULL, NULL},
  {"write", NULL, NULL},
};

static void (*resolve(const RealId id))(void)
{
  RealFunc* const r = &reals[id];
  if (!r->func) {
    void* sym = r->version ? dlvsym(RTLD_NEXT, r->name, r->version) : NULL;
    if (!sym) {
      sym = dlsym(RTLD_NEXT, r->name);
    }
    if (!sym) {
      abort(); // no stdio: it may be the very function being resolved
    }
    // POSIX allows object-to-function pointer conversion; ISO C does not
    memcpy(&r->func, &sym, sizeof(sym));
  }
  return r->func;
}

#  define REAL(id, type) ((type)resolve(id))

// Resolve everything before main(), so no hook ever calls dlsym later
__attribute__((constructor)) static void
rt_resolve_all(void)
{
  for (unsigned i = 0u; i < R_N_REAL; ++i) {
    resolve((RealId)i);
  }
}

HP_RT_EXPORT int
pthread_mutex_lock(pthread_mutex_t* mutex)
{
  RT_ENTER(RT_MUTEX_LOCK, "pthread_mutex_lock");
  const int r = REAL(R_MUTEX_LOCK, MutexFunc)(mutex);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_mutex_trylock(pthread_mutex_t* mutex)
{
  RT_ENTER(RT_MUTEX_TRYLOCK, "pthread_mutex_trylock");
  const int r = REAL(R_MUTEX_TRYLOCK, MutexFunc)(mutex);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_mutex_timedlock(pthread_mutex_t* mutex,
                        const struct timespec* restrict abstime)
{
  RT_ENTER(RT_MUTEX_LOCK, "pthread_mutex_timedlock");
  const int r = REAL(R_MUTEX_TIMEDLOCK, MutexTimedFunc)(mutex, abstime);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_mutex_unlock(pthread_mutex_t* mutex)
{
  RT_ENTER(RT_MUTEX_UNLOCK, "pthread_mutex_unlock");
  const int r = REAL(R_MUTEX_UNLOCK, MutexFunc)(mutex);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_cond_wait(pthread_cond_t* restrict cond,
                  pthread_mutex_t* restrict mutex)
{
  RT_ENTER(RT_COND_WAIT, "pthread_cond_wait");
  const int r = REAL(R_COND_WAIT, CondWaitFunc)(cond, mutex);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_cond_timedwait(pthread_cond_t* restrict cond,
                       pthread_mutex_t* restrict mutex,
                       const struct timespec* restrict abstime)
{
  RT_ENTER(RT_COND_WAIT, "pthread_cond_timedwait");
  const int r = REAL(R_COND_TIMEDWAIT, CondTimedWaitFunc)(cond, mutex, abstime);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_cond_signal(pthread_cond_t* cond)
{
  RT_ENTER(RT_COND_SIGNAL, "pthread_cond_signal");
  const int r = REAL(R_COND_SIGNAL, CondFunc)(cond);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_cond_broadcast(pthread_cond_t* cond)
{
  RT_ENTER(RT_COND_SIGNAL, "pthread_cond_broadcast");
  const int r = REAL(R_COND_BROADCAST, CondFunc)(cond);
  RT_LEAVE();
  return r;
}

#  define RWLOCK_HOOK(name, id)                   \
    HP_RT_EXPORT int name(pthread_rwlock_t* lock) \
    {                                             \
      RT_ENTER(RT_RWLOCK, #name);                 \
      const int r = REAL(id, RwlockFunc)(lock);   \
      RT_LEAVE();                                 \
      return r;                                   \
    }

RWLOCK_HOOK(pthread_rwlock_rdlock, R_RWLOCK_RDLOCK)
RWLOCK_HOOK(pthread_rwlock_wrlock, R_RWLOCK_WRLOCK)
RWLOCK_HOOK(pthread_rwlock_tryrdlock, R_RWLOCK_TRYRDLOCK)
RWLOCK_HOOK(pthread_rwlock_trywrlock, R_RWLOCK_TRYWRLOCK)
RWLOCK_HOOK(pthread_rwlock_unlock, R_RWLOCK_UNLOCK)

HP_RT_EXPORT int
pthread_rwlock_timedrdlock(pthread_rwlock_t* restrict lock,
                           const struct timespec* restrict abstime)
{
  RT_ENTER(RT_RWLOCK, "pthread_rwlock_timedrdlock");
  const int r = REAL(R_RWLOCK_TIMEDRDLOCK, RwlockTimedFunc)(lock, abstime);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
pthread_rwlock_timedwrlock(pthread_rwlock_t* restrict lock,
                           const struct timespec* restrict abstime)
{
  RT_ENTER(RT_RWLOCK, "pthread_rwlock_timedwrlock");
  const int r = REAL(R_RWLOCK_TIMEDWRLOCK, RwlockTimedFunc)(lock, abstime);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
sem_wait(sem_t* sem)
{
  RT_ENTER(RT_SEM_WAIT, "sem_wait");
  const int r = REAL(R_SEM_WAIT, SemFunc)(sem);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
sem_timedwait(sem_t* restrict sem, const struct timespec* restrict abstime)
{
  RT_ENTER(RT_SEM_WAIT, "sem_timedwait");
  const int r = REAL(R_SEM_TIMEDWAIT, SemTimedFunc)(sem, abstime);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
sem_post(sem_t* sem)
{
  RT_ENTER(RT_SEM_POST, "sem_post");
  const int r = REAL(R_SEM_POST, SemFunc)(sem);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
nanosleep(const struct timespec* req, struct timespec* rem)
{
  RT_ENTER(RT_SLEEP, "nanosleep");
  const int r = REAL(R_NANOSLEEP, NanosleepFunc)(req, rem);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
clock_nanosleep(clockid_t              clock,
                int                    flags,
                const struct timespec* req,
                struct timespec*       rem)
{
  RT_ENTER(RT_SLEEP, "clock_nanosleep");
  const int r =
    REAL(R_CLOCK_NANOSLEEP, ClockNanosleepFunc)(clock, flags, req, rem);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
usleep(useconds_t usec)
{
  RT_ENTER(RT_SLEEP, "usleep");
  const int r = REAL(R_USLEEP, UsleepFunc)(usec);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT unsigned
sleep(unsigned seconds)
{
  RT_ENTER(RT_SLEEP, "sleep");
  const unsigned r = REAL(R_SLEEP, SleepFunc)(seconds);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
printf(const char* restrict fmt, ...)
{
  RT_ENTER(RT_STDIO, "printf");
  va_list ap;
  va_start(ap, fmt);
  const int r = REAL(R_VPRINTF, VprintfFunc)(fmt, ap);
  va_end(ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
vprintf(const char* restrict fmt, va_list ap)
{
  RT_ENTER(RT_STDIO, "vprintf");
  const int r = REAL(R_VPRINTF, VprintfFunc)(fmt, ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
fprintf(FILE* restrict stream, const char* restrict fmt, ...)
{
  RT_ENTER(RT_STDIO, "fprintf");
  va_list ap;
  va_start(ap, fmt);
  const int r = REAL(R_VFPRINTF, VfprintfFunc)(stream, fmt, ap);
  va_end(ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
vfprintf(FILE* restrict stream, const char* restrict fmt, va_list ap)
{
  RT_ENTER(RT_STDIO, "vfprintf");
  const int r = REAL(R_VFPRINTF, VfprintfFunc)(stream, fmt, ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
__printf_chk(int flag, const char* fmt, ...)
{
  RT_ENTER(RT_STDIO, "__printf_chk");
  va_list ap;
  va_start(ap, fmt);
  const int r = REAL(R_VPRINTF_CHK, VprintfChkFunc)(flag, fmt, ap);
  va_end(ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
__vprintf_chk(int flag, const char* fmt, va_list ap)
{
  RT_ENTER(RT_STDIO, "__vprintf_chk");
  const int r = REAL(R_VPRINTF_CHK, VprintfChkFunc)(flag, fmt, ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
__fprintf_chk(FILE* stream, int flag, const char* fmt, ...)
{
  RT_ENTER(RT_STDIO, "__fprintf_chk");
  va_list ap;
  va_start(ap, fmt);
  const int r = REAL(R_VFPRINTF_CHK, VfprintfChkFunc)(stream, flag, fmt, ap);
  va_end(ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
__vfprintf_chk(FILE* stream, int flag, const char* fmt, va_list ap)
{
  RT_ENTER(RT_STDIO, "__vfprintf_chk");
  const int r = REAL(R_VFPRINTF_CHK, VfprintfChkFunc)(stream, flag, fmt, ap);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
fputs(const char* restrict str, FILE* restrict stream)
{
  RT_ENTER(RT_STDIO, "fputs");
  const int r = REAL(R_FPUTS, FputsFunc)(str, stream);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
puts(const char* str)
{
  RT_ENTER(RT_STDIO, "puts");
  const int r = REAL(R_PUTS, PutsFunc)(str);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT size_t
fwrite(const void* restrict ptr, size_t size, size_t n, FILE* restrict stream)
{
  RT_ENTER(RT_STDIO, "fwrite");
  const size_t r = REAL(R_FWRITE, FwriteFunc)(ptr, size, n, stream);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
putc(int c, FILE* stream)
{
  RT_ENTER(RT_STDIO, "putc");
  const int r = REAL(R_PUTC, FputcFunc)(c, stream);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
fputc(int c, FILE* stream)
{
  RT_ENTER(RT_STDIO, "fputc");
  const int r = REAL(R_FPUTC, FputcFunc)(c, stream);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT int
putchar(int c)
{
  RT_ENTER(RT_STDIO, "putchar");
  const int r = REAL(R_PUTCHAR, PutcharFunc)(c);
  RT_LEAVE();
  return r;
}

HP_RT_EXPORT ssize_t
write(int fd, const void* buf, size_t size)
{
  RT_ENTER(RT_WRITE, "write");
  const ssize_t r = REAL(R_WRITE, WriteFunc)(fd, buf, size);
  RT_LEAVE();
  return r;
}

/* Availability */

static const char*
valgrind_reason(void)
{
  // valgrind replaces malloc & co in the executable too
  const char* const preload = getenv("LD_PRELOAD");
  return (preload && strstr(preload, "vgpreload"))
           ? "rtcheck unavailable under valgrind"
           : NULL;
}

bool
hp_rt_available(void)
{
  return !valgrind_reason();
}

const char*
hp_rt_unavailable_reason(void)
{
  const char* const reason = valgrind_reason();
  return reason ? reason : "";
}

typedef struct {
  const char* name;
  void (*hook)(void);
} HookEntry;

#  define HOOK(f)             \
    {                         \
#      f, (void (*)(void))(f) \
    }

const char*
hp_rt_check_linkage(void)
{
  static const HookEntry hooks[] = {
    HOOK(malloc),
    HOOK(calloc),
    HOOK(realloc),
    HOOK(free),
    HOOK(posix_memalign),
    HOOK(aligned_alloc),
    HOOK(memalign),
    HOOK(reallocarray),
    HOOK(pthread_mutex_lock),
    HOOK(pthread_mutex_trylock),
    HOOK(pthread_mutex_unlock),
    HOOK(pthread_cond_wait),
    HOOK(pthread_cond_timedwait),
    HOOK(pthread_cond_signal),
    HOOK(pthread_cond_broadcast),
    HOOK(pthread_rwlock_rdlock),
    HOOK(pthread_rwlock_wrlock),
    HOOK(pthread_rwlock_unlock),
    HOOK(sem_wait),
    HOOK(sem_timedwait),
    HOOK(sem_post),
    HOOK(nanosleep),
    HOOK(usleep),
    HOOK(sleep),
    HOOK(printf),
    HOOK(vprintf),
    HOOK(fprintf),
    HOOK(vfprintf),
    HOOK(__printf_chk),
    HOOK(__fprintf_chk),
    HOOK(__vfprintf_chk),
    HOOK(fputs),
    HOOK(puts),
    HOOK(fwrite),
    HOOK(putc),
    HOOK(fputc),
    HOOK(putchar),
    HOOK(write),
  };

  for (size_t i = 0u; i < sizeof(hooks) / sizeof(hooks[0]); ++i) {
    // What a dlopen()ed plugin gets: the global scope's definition
    void* const global = dlsym(RTLD_DEFAULT, hooks[i].name);
    void*       ours   = NULL;
    memcpy(&ours, &hooks[i].hook, sizeof(ours));
    if (global != ours) {
      return hooks[i].name;
    }
  }
  return NULL;
}

#endif // HP_RT_SANITIZED
