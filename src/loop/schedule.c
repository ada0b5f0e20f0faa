/* Schedules (schedule.h). Placeholder until the primitives land: only the
 * empty schedule applies (the unscheduled nest); any step is refused. */
#include "loop/schedule.h"

#include "loop/verify.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void aicc_schedule_init(aicc_schedule *s) {
  memset(s, 0, sizeof *s);
  aicc_arena_init(&s->strings);
}

void aicc_schedule_fini(aicc_schedule *s) {
  free(s->steps);
  aicc_arena_fini(&s->strings);
  memset(s, 0, sizeof *s);
}

aicc_sched_target aicc_sched_target_default(int vector_bits, int threads) {
  aicc_sched_target t = {vector_bits, threads > 0 ? threads : 1, 32 << 10, 1 << 20};
  long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l1 > 0) t.l1_bytes = l1;
  if (l2 > 0) t.l2_bytes = l2;
  return t;
}

aicc_status aicc_schedule_default(const aicc_loop_kernel *k, const aicc_sched_target *t,
                                  aicc_schedule *out) {
  (void)k, (void)t, (void)out;
  return NULL;
}

aicc_status aicc_schedule_apply(aicc_loop_ctx *ctx, const aicc_loop_kernel *k,
                                const aicc_schedule *s, aicc_loop_func **out) {
  if (s && s->n) return aicc_errorf(AICC_ERR_UNSUPPORTED, "schedule primitives are not implemented yet");
  *out = aicc_loop_kernel_lower(ctx, k);
  if (!*out) return aicc_errorf(AICC_ERR_NOMEM, "out of memory lowering kernel %s", k->name);
  return aicc_loop_func_verify(*out);
}
