/* Differential check of a schedule (schedule.h: aicc_schedule_check): the
 * scheduled func against the unscheduled nest, both run by the loop-IR
 * interpreter on the same random inputs. The oracle of the schedule tests
 * and of `loop_tool schedule --check`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/eval.h"
#include "loop/schedule.h"

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

enum { SENTINEL = 0x5a5a5a5 };

static void fill(const aicc_loop_buffer *b, void *data, size_t n, bool input, uint64_t *seed) {
  bool is_int = aicc_loop_type_is_int(b->type);
  for (size_t i = 0; i < n; i++) {
    if (!input) {
      if (is_int) ((int64_t *)data)[i] = SENTINEL;
      else ((double *)data)[i] = NAN;
    } else if (b->type == AICC_DTYPE_BOOL) {
      ((int64_t *)data)[i] = (int64_t)(next_rand(seed) & 1);
    } else if (is_int) {
      ((int64_t *)data)[i] = (int64_t)(next_rand(seed) % 4);
    } else {
      double v = (double)(next_rand(seed) >> 11) / 9007199254740992.0 * 4.0 - 2.0;
      ((double *)data)[i] = b->type == AICC_DTYPE_F32 ? (double)(float)v : v;
    }
  }
}

aicc_status aicc_schedule_check(aicc_loop_ctx *ctx, const aicc_loop_kernel *k,
                                const aicc_loop_func *f, uint64_t seed) {
  aicc_loop_func *ref = aicc_loop_kernel_lower(ctx, k);
  if (!ref) return aicc_errorf(AICC_ERR_NOMEM, "out of memory lowering kernel %s", k->name);
  size_t n = k->n_params;
  aicc_loop_buffer_data *a = calloc(n ? n : 1, sizeof *a), *b = calloc(n ? n : 1, sizeof *b);
  aicc_status st = NULL;
  if (!a || !b) {
    st = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  uint64_t s = seed * 2654435761u + 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n; i++) {
    const aicc_loop_buffer *buf = k->params[i];
    size_t cnt = (size_t)aicc_loop_buffer_numel(buf);
    bool input = !aicc_loop_kernel_stage_of(k, buf);
    a[i] = (aicc_loop_buffer_data){buf, malloc((cnt ? cnt : 1) * 8), cnt};
    b[i] = (aicc_loop_buffer_data){buf, malloc((cnt ? cnt : 1) * 8), cnt};
    if (!a[i].data || !b[i].data) {
      st = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      goto done;
    }
    fill(buf, a[i].data, cnt, input, &s);
    memcpy(b[i].data, a[i].data, cnt * 8);
  }
  if ((st = aicc_loop_stmt_run(ref->body, NULL, 0, a, n))) {
    st = aicc_status_wrap(st, "reference");
    goto done;
  }
  if ((st = aicc_loop_stmt_run(f->body, NULL, 0, b, n))) {
    st = aicc_status_wrap(st, "scheduled");
    goto done;
  }
  for (size_t i = 0; i < n && !st; i++) {
    const aicc_loop_buffer *buf = k->params[i];
    bool is_int = aicc_loop_type_is_int(buf->type);
    for (size_t j = 0; j < a[i].len; j++) {
      if (is_int) {
        int64_t x = ((int64_t *)a[i].data)[j], y = ((int64_t *)b[i].data)[j];
        if (x != y) {
          st = aicc_errorf(AICC_ERR_INVALID, "kernel %s: %s element %zu: expected %lld, got %lld",
                           k->name, buf->name, j, (long long)x, (long long)y);
          break;
        }
        continue;
      }
      double x = ((double *)a[i].data)[j], y = ((double *)b[i].data)[j];
      if ((isnan(x) && isnan(y)) || x == y) continue;
      if (!(fabs(x - y) <= 1e-4 + 1e-4 * fabs(x))) {
        st = aicc_errorf(AICC_ERR_INVALID, "kernel %s: %s element %zu: expected %.9g, got %.9g",
                         k->name, buf->name, j, x, y);
        break;
      }
    }
  }
done:
  for (size_t i = 0; i < n; i++) {
    if (a) free(a[i].data);
    if (b) free(b[i].data);
  }
  free(a);
  free(b);
  return st;
}
