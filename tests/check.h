/* Checks for test programs: print what was measured, then fail. Unlike
   assert() they stay on in release builds (NDEBUG). */

#ifndef HP_CHECK_H
#define HP_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
              #cond);                                                     \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

/* A check that also prints the measured value on failure. */
#define CHECK_MSG(cond, ...)                                              \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,   \
              #cond);                                                     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fputc('\n', stderr);                                                \
      exit(1);                                                            \
    }                                                                     \
  } while (0)

#endif
