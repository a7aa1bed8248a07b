/* The SPSC ring: order, capacity, and a two-thread stress run. */

#include "check.h"
#include "ring.h"

#include <pthread.h>
#include <stdint.h>

#define N_ITEMS 4000000u

static void*
producer(void* const arg)
{
  HpRing* ring = (HpRing*)arg;
  for (uint64_t i = 0; i < N_ITEMS;) {
    if (hp_ring_push(ring, &i)) {
      ++i;
    }
  }
  return NULL;
}

int
main(void)
{
  /* Capacity rounds up to a power of two and refuses the one past it. */
  HpRing* ring = hp_ring_new(5, sizeof(uint64_t));
  CHECK(ring);
  uint64_t v = 0;
  for (uint64_t i = 0; i < 8; ++i) {
    CHECK(hp_ring_push(ring, &i));
  }
  CHECK(!hp_ring_push(ring, &v));
  CHECK(hp_ring_space(ring) == 0);
  for (uint64_t i = 0; i < 8; ++i) {
    CHECK(hp_ring_pop(ring, &v));
    CHECK_MSG(v == i,
              "popped %llu, expected %llu",
              (unsigned long long)v,
              (unsigned long long)i);
  }
  CHECK(!hp_ring_pop(ring, &v));
  hp_ring_free(ring);

  /* Two threads: every item arrives once, in order. */
  ring = hp_ring_new(64, sizeof(uint64_t));
  pthread_t thread;
  CHECK(!pthread_create(&thread, NULL, producer, ring));
  uint64_t expected = 0;
  while (expected < N_ITEMS) {
    if (hp_ring_pop(ring, &v)) {
      CHECK_MSG(v == expected,
                "got %llu, expected %llu",
                (unsigned long long)v,
                (unsigned long long)expected);
      ++expected;
    }
  }
  pthread_join(thread, NULL);
  CHECK(!hp_ring_pop(ring, &v));
  hp_ring_free(ring);
  printf(
    "# ring: %u items through a 64-slot ring across two threads, in order\n",
    N_ITEMS);
  return 0;
}
