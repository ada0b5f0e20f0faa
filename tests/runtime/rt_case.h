/* Test helpers for the compiled engine: an ONNX test case (model.onnx and
 * test_data_set_0/input_*.pb) loaded into tensors, and the comparison of
 * two output lists. */
#ifndef AICC_TESTS_RT_CASE_H
#define AICC_TESTS_RT_CASE_H

#include "ir/graph.h"

typedef struct rt_case {
  char dir[1024];
  aicc_tensor **inputs; /* one per graph input (NULL: initializer default) */
  int n_inputs, n_outputs;
} rt_case;

/* Loads dir/model.onnx into *m and the inputs of test_data_set_0. */
AICC_MUST_USE aicc_status rt_case_load(const char *dir, rt_case *c, aicc_model **m);
void rt_case_fini(rt_case *c);
/* Loads only the model (another copy). */
AICC_MUST_USE aicc_status rt_case_model(const rt_case *c, aicc_model **m);
/* Compares n outputs; returns false with a reason in why. */
bool rt_outputs_match(aicc_tensor *const *want, aicc_tensor *const *got, int n, double rtol,
                      double atol, char *why, size_t len);
void rt_outputs_release(aicc_tensor **t, int n);

#endif
