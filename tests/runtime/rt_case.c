/* Test case loading and output comparison for the runtime tests. */
#include "rt_case.h"

#include "frontend/onnx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

aicc_status rt_case_model(const rt_case *c, aicc_model **m) {
  char path[1200];
  snprintf(path, sizeof path, "%s/model.onnx", c->dir);
  return aicc_onnx_load(path, m);
}

aicc_status rt_case_load(const char *dir, rt_case *c, aicc_model **m) {
  memset(c, 0, sizeof *c);
  *m = NULL;
  snprintf(c->dir, sizeof c->dir, "%s", dir);
  AICC_TRY(rt_case_model(c, m));
  const aicc_graph *g = (*m)->graph;
  c->n_inputs = (int)g->inputs.len;
  c->n_outputs = (int)g->outputs.len;
  c->inputs = calloc((size_t)c->n_inputs + 1, sizeof *c->inputs);
  char path[1400];
  snprintf(path, sizeof path, "%s/test_data_set_0", dir);
  DIR *d = opendir(path);
  char *names[256];
  int nn = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) && nn < 256)
    if (strncmp(e->d_name, "input_", 6) == 0) names[nn++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(names, (size_t)nn, sizeof *names, cmp_str);
  aicc_status st = NULL;
  int k = 0;
  for (int i = 0; i < c->n_inputs && !st; i++) {
    const aicc_value *v = g->inputs.data[i];
    if (v->init || k >= nn) continue;
    snprintf(path, sizeof path, "%s/test_data_set_0/%s", dir, names[k++]);
    st = aicc_onnx_value_load(path, v->type.kind, &c->inputs[i]);
  }
  for (int i = 0; i < nn; i++) free(names[i]);
  if (st) {
    rt_case_fini(c);
    aicc_model_destroy(*m);
    *m = NULL;
  }
  return st;
}

void rt_case_fini(rt_case *c) {
  for (int i = 0; i < c->n_inputs && c->inputs; i++) aicc_tensor_release(c->inputs[i]);
  free(c->inputs);
  c->inputs = NULL;
}

bool rt_outputs_match(aicc_tensor *const *want, aicc_tensor *const *got, int n, double rtol,
                      double atol, char *why, size_t len) {
  for (int i = 0; i < n; i++) {
    aicc_compare_result r;
    aicc_tensor_compare(want[i], got[i], rtol, atol, &r);
    if (!r.match) {
      snprintf(why, len, "output %d: %s (max abs %.3g, max rel %.3g)", i, r.why, r.max_abs,
               r.max_rel);
      return false;
    }
  }
  return true;
}

void rt_outputs_release(aicc_tensor **t, int n) {
  for (int i = 0; i < n; i++) {
    aicc_tensor_release(t[i]);
    t[i] = NULL;
  }
}
