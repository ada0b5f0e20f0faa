/* Tolerance comparison of runtime values (the test oracle's check). */
#include "ir/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void fail(aicc_compare_result *r, const char *fmt, const char *a, const char *b) {
  r->match = false;
  if (!r->why[0]) snprintf(r->why, sizeof r->why, fmt, a, b);
}

static void compare_dense(const aicc_tensor *e, const aicc_tensor *a, double rtol,
                          double atol, aicc_compare_result *r) {
  char be[96], ba[96];
  if (e->dtype != a->dtype || e->rank != a->rank ||
      memcmp(e->dims, a->dims, sizeof(int64_t) * (size_t)e->rank) != 0) {
    fail(r, "expected %s, got %s", aicc_tensor_describe(e, be, sizeof be),
         aicc_tensor_describe(a, ba, sizeof ba));
    return;
  }
  int64_t n = aicc_tensor_numel(e);
  if (e->dtype == AICC_DTYPE_STRING) {
    char *const *se = e->data, *const *sa = a->data;
    for (int64_t i = 0; i < n; i++)
      if (e->strlens[i] != a->strlens[i] || memcmp(se[i], sa[i], e->strlens[i]) != 0) {
        r->n_bad++;
        if (r->match) {
          r->match = false;
          snprintf(r->why, sizeof r->why, "string element %lld differs", (long long)i);
        }
      }
    return;
  }
  bool is_float = aicc_dtype_is_float(e->dtype) || e->dtype == AICC_DTYPE_C64 ||
                  e->dtype == AICC_DTYPE_C128;
  int64_t parts = (e->dtype == AICC_DTYPE_C64 || e->dtype == AICC_DTYPE_C128) ? 2 : 1;
  for (int64_t i = 0; i < n * parts; i++) {
    bool bad;
    if (!is_float) {
      bad = aicc_tensor_get_i64(e, i) != aicc_tensor_get_i64(a, i);
    } else {
      double x, y;
      if (parts == 2) {
        x = e->dtype == AICC_DTYPE_C64 ? ((const float *)e->data)[i] : ((const double *)e->data)[i];
        y = a->dtype == AICC_DTYPE_C64 ? ((const float *)a->data)[i] : ((const double *)a->data)[i];
      } else {
        x = aicc_tensor_get_f64(e, i);
        y = aicc_tensor_get_f64(a, i);
      }
      if (isnan(x) || isnan(y)) {
        bad = isnan(x) != isnan(y);
      } else if (isinf(x) || isinf(y)) {
        bad = x != y;
      } else {
        double d = fabs(y - x);
        double rel = x != 0 ? d / fabs(x) : (d != 0 ? INFINITY : 0);
        if (d > r->max_abs) r->max_abs = d;
        if (rel > r->max_rel) r->max_rel = rel;
        bad = d > atol + rtol * fabs(x);
      }
    }
    if (bad) {
      r->n_bad++;
      if (r->match) {
        r->match = false;
        snprintf(r->why, sizeof r->why, "element %lld: expected %.9g, got %.9g",
                 (long long)(i / parts), aicc_tensor_get_f64(e, i / parts),
                 aicc_tensor_get_f64(a, i / parts));
      }
    }
  }
}

static void compare_any(const aicc_tensor *e, const aicc_tensor *a, double rtol, double atol,
                        aicc_compare_result *r) {
  static const char *const kinds[] = {"none", "tensor", "sequence", "optional"};
  if (!e || !a) {
    if (e != a) fail(r, "expected %s, got %s", e ? "a value" : "none", a ? "a value" : "none");
    return;
  }
  if (e->kind != a->kind) {
    fail(r, "expected a %s, got a %s", kinds[e->kind], kinds[a->kind]);
    return;
  }
  if (e->kind == AICC_KIND_TENSOR) {
    compare_dense(e, a, rtol, atol, r);
    return;
  }
  if (e->n_elems != a->n_elems) {
    char be[32], ba[32];
    snprintf(be, sizeof be, "%zu", e->n_elems);
    snprintf(ba, sizeof ba, "%zu", a->n_elems);
    fail(r, "expected %s elements, got %s", be, ba);
    return;
  }
  for (size_t i = 0; i < e->n_elems; i++) compare_any(e->elems[i], a->elems[i], rtol, atol, r);
}

void aicc_tensor_compare(const aicc_tensor *expected, const aicc_tensor *actual, double rtol,
                         double atol, aicc_compare_result *r) {
  memset(r, 0, sizeof *r);
  r->match = true;
  compare_any(expected, actual, rtol, atol, r);
}
