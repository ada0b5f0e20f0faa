/* Memory planning: greedy-by-size offsets on synthetic lifetimes never let
 * two buffers that are live together share a byte, and on the model zoo the
 * planned arena stays within 5% of the lower bound (max live bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "frontend/onnx.h"
#include "passes/memplan.h"
#include "passes/pass.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Independent of aicc_memplan_check: pairwise, by definition. */
static void assert_no_overlap(const aicc_memplan_buf *b, int32_t n, int64_t arena) {
  for (int32_t i = 0; i < n; i++) {
    assert_true(b[i].offset >= 0);
    assert_true(b[i].offset % AICC_MEMPLAN_ALIGN == 0);
    assert_true(b[i].offset + b[i].size <= arena);
    for (int32_t j = i + 1; j < n; j++) {
      bool live_together = b[i].first <= b[j].last && b[j].first <= b[i].last;
      bool mem_overlap = b[i].offset < b[j].offset + b[j].size &&
                         b[j].offset < b[i].offset + b[i].size;
      if (live_together && mem_overlap && b[i].size && b[j].size)
        fail_msg("buffers %d [%d,%d] @%lld+%lld and %d [%d,%d] @%lld+%lld overlap", i,
                 b[i].first, b[i].last, (long long)b[i].offset, (long long)b[i].size, j,
                 b[j].first, b[j].last, (long long)b[j].offset, (long long)b[j].size);
    }
  }
}

static int64_t max_live(const aicc_memplan_buf *b, int32_t n, int32_t steps) {
  int64_t peak = 0;
  for (int32_t s = 0; s < steps; s++) {
    int64_t live = 0;
    for (int32_t i = 0; i < n; i++)
      if (b[i].first <= s && s <= b[i].last) live += b[i].size;
    if (live > peak) peak = live;
  }
  return peak;
}

static void test_hand_example(void **state) {
  (void)state;
  /* A chain a -> b -> c where a dies when c is made: c reuses a's place. */
  aicc_memplan_buf b[3] = {
      {0, 0, 1, 1024, 0, -1},
      {1, 1, 2, 512, 0, -1},
      {2, 2, 3, 1024, 0, -1},
  };
  int64_t arena;
  assert_null(aicc_memplan_assign(b, 3, &arena));
  assert_no_overlap(b, 3, arena);
  assert_int_equal(arena, 1536);
  assert_int_equal(b[0].offset, b[2].offset);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_random_lifetimes(void **state) {
  (void)state;
  enum { ROUNDS = 200, MAXN = 120, STEPS = 60 };
  aicc_memplan_buf b[MAXN];
  for (int r = 0; r < ROUNDS; r++) {
    int32_t n = 1 + (int32_t)(rng() % MAXN);
    for (int32_t i = 0; i < n; i++) {
      int32_t first = (int32_t)(rng() % STEPS);
      int32_t len = (int32_t)(rng() % (r % 3 == 0 ? STEPS : 8));
      int64_t size = (int64_t)(rng() % 64 + 1) * AICC_MEMPLAN_ALIGN;
      if (rng() % 10 == 0) size = 0; /* empty tensors */
      b[i] = (aicc_memplan_buf){(uint32_t)i, first,
                                first + len < STEPS ? first + len : STEPS - 1, size, -7, -1};
    }
    int64_t arena;
    assert_null(aicc_memplan_assign(b, n, &arena));
    assert_no_overlap(b, n, arena);
    assert_true(arena >= max_live(b, n, STEPS));
  }
}

/* The zoo sits beside this test in the build tree: <build>/zoo. */
static bool zoo_dir(char *out, size_t n) {
  const char *env = getenv("AICC_ZOO_DIR");
  if (env) {
    snprintf(out, n, "%s", env);
    return access(out, R_OK) == 0;
  }
  char exe[2048]; /* shorter than out, so the suffix always fits */
  ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (k <= 0) return false;
  exe[k] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = 0;
  snprintf(out, n, "%s/../../zoo", exe);
  return access(out, R_OK) == 0;
}

/* Binds the graph inputs to the shapes of the stored test inputs (the zoo
 * has a symbolic batch) and re-infers, so every intermediate is static. */
static void bind_inputs(aicc_model *m, const char *dir) {
  aicc_graph *g = m->graph;
  for (size_t i = 0; i < g->inputs.len; i++) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, i);
    aicc_value *v = g->inputs.data[i];
    if (access(path, R_OK) != 0 || v->type.kind != AICC_KIND_TENSOR) continue;
    aicc_tensor *t;
    assert_null(aicc_onnx_value_load(path, AICC_KIND_TENSOR, &t));
    v->type = aicc_type_of(t);
    aicc_tensor_release(t);
  }
  assert_null(aicc_model_infer(m));
}

static void test_zoo(void **state) {
  (void)state;
  char zoo[PATH_MAX];
  if (!zoo_dir(zoo, sizeof zoo)) {
    fprintf(stderr, "zoo not built: skipped\n");
    skip();
  }
  static const char *const models[] = {"resnet", "mobilenetv2", "squeezenet", "bert", "gpt2",
                                       "lstm"};
  printf("%-12s %12s %12s %12s %8s %14s %6s %7s %6s\n", "model", "naive", "planned",
         "lower bound", "ratio", "lb no inplace", "bufs", "inplace", "unpl.");
  for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
    char dir[PATH_MAX + 64], path[PATH_MAX + 128];
    snprintf(dir, sizeof dir, "%s/%s", zoo, models[k]);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    aicc_model *m;
    assert_null(aicc_onnx_load(path, &m));
    bind_inputs(m, dir);
    aicc_memplan p;
    assert_null(aicc_memplan_compute(m, &p));
    assert_null(aicc_memplan_check(&p));
    printf("%-12s %12lld %12lld %12lld %8.4f %14lld %6d %7d %6d\n", models[k],
           (long long)p.naive_bytes, (long long)p.arena_bytes, (long long)p.lower_bound,
           p.lower_bound ? (double)p.arena_bytes / (double)p.lower_bound : 1.0,
           (long long)p.lower_bound_no_inplace, p.n_bufs, p.n_inplace, p.n_unplanned);
    assert_true(p.arena_bytes >= p.lower_bound);
    assert_true(p.arena_bytes * 100 <= p.lower_bound * 105);
    assert_true(p.arena_bytes <= p.naive_bytes);
    assert_true(p.lower_bound <= p.lower_bound_no_inplace);
    assert_true(p.n_bufs > 0);
    /* The pass computes the same plan and changes nothing. */
    const aicc_pass *pass = aicc_pass_find("memplan");
    assert_non_null(pass);
    aicc_pass_ctx ctx;
    aicc_pass_ctx_init(&ctx);
    assert_null(pass->run(m, &ctx));
    assert_int_equal(ctx.changes, 0);
    aicc_pass_ctx_fini(&ctx);
    aicc_memplan_fini(&p);
    aicc_model_destroy(m);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hand_example),
      cmocka_unit_test(test_random_lifetimes),
      cmocka_unit_test(test_zoo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
