/* The one pseudo-random generator of aicc: xoshiro256** (Blackman & Vigna
 * 2018) seeded through splitmix64. Values, not globals: each user owns its
 * state, so a stream depends on its seed alone (random ops, data shuffling). */
#ifndef AICC_CORE_RNG_H
#define AICC_CORE_RNG_H

#include <stdint.h>

typedef struct aicc_rng {
  uint64_t s[4];
} aicc_rng;

static inline uint64_t aicc_splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline void aicc_rng_seed(aicc_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = aicc_splitmix64(&seed);
}

static inline uint64_t aicc_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t aicc_rng_next(aicc_rng *r) {
  uint64_t *s = r->s, out = aicc_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = aicc_rng_rotl(s[3], 45);
  return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double aicc_rng_uniform(aicc_rng *r) {
  return (double)(aicc_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n >= 1, without modulo bias (rejection). */
static inline uint64_t aicc_rng_below(aicc_rng *r, uint64_t n) {
  uint64_t lim = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t v = aicc_rng_next(r);
    if (v < lim) return v % n;
  }
}

#endif
