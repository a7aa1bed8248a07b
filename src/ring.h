/*
  Single-producer single-consumer ring of fixed-size elements.

  One thread pushes, one other thread pops; no locks.  Each side does one
  acquire-load of the other side's index and one release-store of its own.
  Capacity is a power of two; indices run free and wrap by masking.
  The storage follows the struct in the same allocation (made off the audio
  thread); push and pop are real-time safe.
*/

#ifndef HP_RING_H
#define HP_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  _Atomic uint32_t write; /* written by the producer only */
  _Atomic uint32_t read;  /* written by the consumer only */
  uint32_t         mask;
  uint32_t         elem_size;
  _Alignas(64) unsigned char data[];
} HpRing;

/** A ring of at least `capacity` elements (rounded up to a power of two). */
static inline HpRing*
hp_ring_new(uint32_t capacity, uint32_t elem_size)
{
  uint32_t size = 1;
  while (size < capacity) {
    size <<= 1u;
  }
  HpRing* ring = (HpRing*)calloc(1, sizeof(HpRing) + (size_t)size * elem_size);
  if (ring) {
    ring->mask      = size - 1u;
    ring->elem_size = elem_size;
  }
  return ring;
}

static inline void
hp_ring_free(HpRing* ring)
{
  free(ring);
}

/** Producer: copy one element in; false when full. */
static inline bool
hp_ring_push(HpRing* ring, const void* elem)
{
  const uint32_t w = atomic_load_explicit(&ring->write, memory_order_relaxed);
  const uint32_t r = atomic_load_explicit(&ring->read, memory_order_acquire);
  if (w - r > ring->mask) {
    return false;
  }
  memcpy(ring->data + (size_t)(w & ring->mask) * ring->elem_size,
         elem,
         ring->elem_size);
  atomic_store_explicit(&ring->write, w + 1u, memory_order_release);
  return true;
}

/** Consumer: copy one element out; false when empty. */
static inline bool
hp_ring_pop(HpRing* ring, void* elem)
{
  const uint32_t r = atomic_load_explicit(&ring->read, memory_order_relaxed);
  const uint32_t w = atomic_load_explicit(&ring->write, memory_order_acquire);
  if (r == w) {
    return false;
  }
  memcpy(elem,
         ring->data + (size_t)(r & ring->mask) * ring->elem_size,
         ring->elem_size);
  atomic_store_explicit(&ring->read, r + 1u, memory_order_release);
  return true;
}

/** Consumer: copy the oldest element out, leaving it queued; false when
    empty.  hp_ring_skip() then removes it. */
static inline bool
hp_ring_peek(HpRing* ring, void* elem)
{
  const uint32_t r = atomic_load_explicit(&ring->read, memory_order_relaxed);
  const uint32_t w = atomic_load_explicit(&ring->write, memory_order_acquire);
  if (r == w) {
    return false;
  }
  memcpy(elem,
         ring->data + (size_t)(r & ring->mask) * ring->elem_size,
         ring->elem_size);
  return true;
}

/** Consumer: remove the oldest element (after hp_ring_peek()). */
static inline void
hp_ring_skip(HpRing* ring)
{
  const uint32_t r = atomic_load_explicit(&ring->read, memory_order_relaxed);
  atomic_store_explicit(&ring->read, r + 1u, memory_order_release);
}

/** Producer: the indices [*first, *end) of the elements pushed and not yet
    popped, for hp_ring_slot().  Only the producer writes slots, so it may
    read these while the consumer pops them. */
static inline void
hp_ring_unread(HpRing* ring, uint32_t* first, uint32_t* end)
{
  *end   = atomic_load_explicit(&ring->write, memory_order_relaxed);
  *first = atomic_load_explicit(&ring->read, memory_order_acquire);
}

/** Producer: the element at `index` (from hp_ring_unread()). */
static inline const void*
hp_ring_slot(const HpRing* ring, uint32_t index)
{
  return ring->data + (size_t)(index & ring->mask) * ring->elem_size;
}

/** Either side: elements that can still be pushed (a lower bound for the
    producer, an upper bound for anyone else). */
static inline uint32_t
hp_ring_space(HpRing* ring)
{
  const uint32_t w = atomic_load_explicit(&ring->write, memory_order_acquire);
  const uint32_t r = atomic_load_explicit(&ring->read, memory_order_acquire);
  return ring->mask + 1u - (w - r);
}

#endif /* HP_RING_H */
