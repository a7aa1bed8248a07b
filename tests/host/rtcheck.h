/*
  rtcheck: proof that a plugin's real-time functions are real-time safe.

  The test executable itself defines malloc & co, the pthread lock and
  condition calls, semaphores, sleeps and stdio output (symbol
  interposition) and forwards each to the real one.  While a thread's
  real-time flag is on, each call also bumps a counter.  The host
  (tools/host/host.h) turns the flag on with hp_rt_set_active() around
  lilv_instance_run(), work_response() and end_run(), and off inside its
  own schedule_work() (host code; in sync mode the plugin's work() runs
  there and may allocate).  The host's own hp_rt_set_active() is a weak
  no-op, so shipped tools interpose nothing; this file defines the real one.

  Link requirements: link rtcheck.c as an object, so that it is always in
  (an archive member is linked only to resolve a symbol).  The plugin is
  dlopen()ed, so it binds to these definitions only if the executable
  exports them: link test programs with -rdynamic.  hp_rt_check_linkage()
  proves it at run time.

  Under AddressSanitizer or ThreadSanitizer (which own malloc) and under
  valgrind (which replaces it) the counters cannot work: hp_rt_available()
  is false and tests skip only the rtcheck assertions.
*/

#ifndef HP_RTCHECK_H
#define HP_RTCHECK_H

#include "host.h" // hp_rt_set_active()

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Calls counted while the real-time flag was on, per function. */
typedef struct {
  uint64_t malloc;
  uint64_t calloc;
  uint64_t realloc;
  uint64_t free;
  uint64_t posix_memalign;
  uint64_t aligned_alloc;
  uint64_t memalign; ///< also valloc, pvalloc
  uint64_t reallocarray;
  uint64_t mutex_lock;    ///< pthread_mutex_lock, _timedlock
  uint64_t mutex_trylock; ///< pthread_mutex_trylock
  uint64_t mutex_unlock;
  uint64_t cond_wait;   ///< pthread_cond_wait, _timedwait
  uint64_t cond_signal; ///< pthread_cond_signal, _broadcast
  uint64_t rwlock;      ///< any pthread_rwlock lock or unlock call
  uint64_t sem_wait;    ///< sem_wait, sem_timedwait
  uint64_t sem_post;
  uint64_t sleep; ///< nanosleep, clock_nanosleep, usleep, sleep
  uint64_t stdio; ///< printf family, fputs, puts, fwrite, putc, fputc, ...
  uint64_t write; ///< write(2)
  uint64_t total; ///< sum of the above
} HpRtCounts;

/** False if the counters cannot work in this build or process. */
bool hp_rt_available(void);

/** Why hp_rt_available() is false ("" if it is true). */
const char* hp_rt_unavailable_reason(void);

/** NULL if every interposed symbol is the one the dynamic linker hands to
    dlopen()ed code; else the name of the first that is not (link with
    -rdynamic). */
const char* hp_rt_check_linkage(void);

bool hp_rt_is_active(void);

void hp_rt_counts(HpRtCounts* counts);

void hp_rt_reset(void);

/** Print the non-zero counts and the first offenders' callers (resolved
    with dladdr), each line starting with "# ". */
void hp_rt_print(FILE* stream, const HpRtCounts* counts);

/** The check after a stretch of real-time code: print the counts, and exit
    the test (status 1) if any forbidden call was made; where the counters
    cannot work, print why ("# rtcheck unavailable: ..."). */
void hp_rt_require_none(const HpRtCounts* counts);

#ifdef __cplusplus
}
#endif

#endif /* HP_RTCHECK_H */
