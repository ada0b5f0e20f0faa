/* Host ISA detection for codegen's choice of intrinsics: cpuid through the
 * compiler's __builtin_cpu_supports, capped by $AICC_ISA for testing the
 * narrower code paths. Non-x86 hosts report scalar. */
#include "jit/jit.h"

#include <stdlib.h>
#include <string.h>

static uint32_t detect(void) {
  uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init(); /* needed only before constructors run; harmless after */
  if (__builtin_cpu_supports("sse4.2")) f |= AICC_JIT_ISA_SSE42;
  if (__builtin_cpu_supports("avx")) f |= AICC_JIT_ISA_AVX;
  if (__builtin_cpu_supports("avx2")) f |= AICC_JIT_ISA_AVX2;
  if (__builtin_cpu_supports("fma")) f |= AICC_JIT_ISA_FMA;
  if (__builtin_cpu_supports("avx512f")) f |= AICC_JIT_ISA_AVX512F;
  if (__builtin_cpu_supports("avx512bw")) f |= AICC_JIT_ISA_AVX512BW;
  if (__builtin_cpu_supports("avx512dq")) f |= AICC_JIT_ISA_AVX512DQ;
  if (__builtin_cpu_supports("avx512vl")) f |= AICC_JIT_ISA_AVX512VL;
#endif
  return f;
}

/* The levels, widest first: a level is usable when all its bits are set. */
static const struct {
  const char *name;
  uint32_t need;
  int bits;
} levels[] = {
    {"avx512", AICC_JIT_ISA_AVX512F | AICC_JIT_ISA_AVX2 | AICC_JIT_ISA_FMA, 512},
    {"avx2", AICC_JIT_ISA_AVX2 | AICC_JIT_ISA_AVX | AICC_JIT_ISA_FMA, 256},
    {"sse4.2", AICC_JIT_ISA_SSE42, 128},
    {"scalar", 0, 0},
};
enum { NLEVELS = sizeof levels / sizeof levels[0] };

aicc_jit_isa aicc_jit_host_isa(void) {
  uint32_t f = detect();
  const char *cap = getenv("AICC_ISA");
  int first = 0;
  if (cap && *cap) {
    for (int i = 0; i < NLEVELS; i++)
      if (strcmp(cap, levels[i].name) == 0) first = i;
  }
  int lv = NLEVELS - 1;
  for (int i = first; i < NLEVELS; i++)
    if ((f & levels[i].need) == levels[i].need) {
      lv = i;
      break;
    }
  /* A cap also hides the features above it, so codegen that tests single
   * bits agrees with the level name. */
  if (first > 0) f &= levels[first].need | (first <= 1 ? AICC_JIT_ISA_SSE42 : 0);
  aicc_jit_isa isa = {f, levels[lv].bits, levels[lv].name};
  return isa;
}
