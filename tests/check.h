/* Checks for test programs: print what was measured, then fail. Unlike
   assert() they stay on in release builds (NDEBUG).

   CHECK and its variants stop the program at the first failure: for the
   harness (a host that does not load, a message that cannot be sent) and
   for tests where one failure makes the rest meaningless.  EXPECT reports
   and goes on, counting, for tests that report every broken promise of
   the plugin in one run; such a program ends with
   `return expect_summary("protocol")`. */

#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* A check that also prints the measured value on failure. */
#define CHECK_MSG(cond, ...)                                                   \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* CHECK_MSG for one measured number. */
#define CHECK_VAL(cond, value) CHECK_MSG(cond, "measured %.9g", (double)(value))

/* Add `n` to the count of failed EXPECTs; the count so far. */
static inline int
expect_failures_add(const int n)
{
  static int failures = 0;
  failures += n;
  return failures;
}

/* How many EXPECTs have failed so far. */
#define EXPECT_FAILURES() expect_failures_add(0)

/* A contract check: report what was measured and go on. */
#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      expect_failures_add(1);                                                  \
    }                                                                          \
  } while (0)

/* The exit status for main(): 1, saying how many `what` checks failed,
   if any EXPECT failed; else 0. */
static inline int
expect_summary(const char* const what)
{
  const int failures = EXPECT_FAILURES();
  if (failures) {
    fprintf(stderr, "%d %s checks failed\n", failures, what);
    return 1;
  }
  return 0;
}

#endif
