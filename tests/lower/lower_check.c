/* lower_check: checks ops' compute definitions (ops/lower.h) against their
 * reference kernels on ONNX test cases, without codegen:
 *
 *   lower_check [--schedule none|default] [-v] CASE_DIR...
 *
 * For each case (model.onnx + test_data_set_0/input_*.pb) every node is run
 * by the reference kernel; a node whose op has a lowering is also lowered
 * alone into a kernel (inputs and outputs as parameters, every integer input
 * and every initializer given as a constant), turned into loops (unscheduled,
 * or with the default schedule), run by the loop-IR interpreter, and
 * compared with the reference (floats: |d| <= 1e-5 + 1e-4*|ref|; others
 * exactly). One line per lowered node:
 *   ok CASE NODE OP | unsupported CASE NODE OP: reason | FAIL CASE NODE OP: reason
 * then a summary. Exit status 1 when any node FAILs. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx.h"
#include "interp/interp.h"
#include "loop/compute.h"
#include "loop/eval.h"
#include "loop/schedule.h"
#include "loop/text.h"
#include "loop/verify.h"
#include "ops/lower.h"

static int verbose;
static int use_schedule;
static int n_ok, n_unsup, n_fail;

static const aicc_loop_buffer *make_buf(aicc_loop_ctx *lc, const char *name,
                                        const aicc_tensor *t) {
  const aicc_loop_expr *shape[AICC_MAX_LOOP_RANK];
  if (t->rank > AICC_MAX_LOOP_RANK) return NULL;
  for (int i = 0; i < t->rank; i++) shape[i] = aicc_loop_i32(lc, t->dims[i]);
  char ident[128];
  snprintf(ident, sizeof ident, "%s", name);
  return aicc_loop_buffer_create(lc, ident, t->dtype, t->rank, shape);
}

/* Loop-IR storage of t: doubles for floats, int64 for the rest. */
static void *to_data(const aicc_tensor *t) {
  int64_t n = aicc_tensor_numel(t);
  bool is_int = aicc_loop_type_is_int(t->dtype);
  void *p = malloc((size_t)(n ? n : 1) * 8);
  if (!p) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (is_int) ((int64_t *)p)[i] = aicc_tensor_get_i64(t, i);
    else ((double *)p)[i] = aicc_tensor_get_f64(t, i);
  }
  return p;
}

static const char *compare(const aicc_tensor *ref, const void *got, char *why, size_t n) {
  int64_t cnt = aicc_tensor_numel(ref);
  bool is_int = aicc_loop_type_is_int(ref->dtype);
  for (int64_t i = 0; i < cnt; i++) {
    if (is_int) {
      int64_t a = aicc_tensor_get_i64(ref, i), b = ((const int64_t *)got)[i];
      if (a != b) {
        snprintf(why, n, "element %lld: expected %lld, got %lld", (long long)i, (long long)a,
                 (long long)b);
        return why;
      }
    } else {
      double a = aicc_tensor_get_f64(ref, i), b = ((const double *)got)[i];
      if (isnan(a) && isnan(b)) continue;
      if (a == b) continue;
      if (!(fabs(a - b) <= 1e-5 + 1e-4 * fabs(a))) {
        snprintf(why, n, "element %lld: expected %.9g, got %.9g", (long long)i, a, b);
        return why;
      }
    }
  }
  return NULL;
}

static void report(const char *tag, const char *cas, const aicc_node *n, const char *msg) {
  printf("%s %s %s %s%s%s\n", tag, cas, n->name && *n->name ? n->name : "-", n->op_type,
         msg ? ": " : "", msg ? msg : "");
}

/* Lowers node n alone and checks it; in/out are the reference values. */
static void check_node(const char *cas, const aicc_model *m, const aicc_node *n,
                       aicc_tensor *const *in, aicc_tensor *const *out, aicc_lower_fn fn) {
  aicc_loop_ctx *lc = aicc_loop_ctx_create();
  const aicc_loop_buffer *inb[64] = {0}, *outb[64] = {0};
  const aicc_tensor *cin[64] = {0};
  aicc_loop_buffer_data data[128];
  size_t nd = 0;
  char why[512];
  aicc_status st = NULL;
  aicc_loop_func *f = NULL;
  aicc_schedule sched;
  aicc_schedule_init(&sched);
  if (!lc || n->n_inputs > 64 || n->n_outputs > 64) {
    report("unsupported", cas, n, "too many operands for lower_check");
    n_unsup++;
    goto done;
  }
  aicc_loop_kernel *k = aicc_loop_kernel_create(lc, "k");
  for (int i = 0; i < n->n_inputs; i++) {
    if (!in[i]) continue;
    if (in[i]->kind != AICC_KIND_TENSOR || !aicc_lower_dtype_ok(in[i]->dtype)) {
      report("unsupported", cas, n, "input is not a tensor of a loop-IR dtype");
      n_unsup++;
      goto done;
    }
    char name[32];
    snprintf(name, sizeof name, "in%d", i);
    inb[i] = make_buf(lc, name, in[i]);
    bool is_init = n->inputs[i]->init != NULL;
    if (is_init || aicc_dtype_is_int(in[i]->dtype)) cin[i] = in[i];
    if (aicc_loop_kernel_param_add(lc, k, inb[i])) abort();
    data[nd++] = (aicc_loop_buffer_data){inb[i], to_data(in[i]), (size_t)aicc_tensor_numel(in[i])};
  }
  for (int i = 0; i < n->n_outputs; i++) {
    if (!out[i] || !n->outputs[i]) continue;
    if (out[i]->kind != AICC_KIND_TENSOR || !aicc_lower_dtype_ok(out[i]->dtype)) {
      report("unsupported", cas, n, "output is not a tensor of a loop-IR dtype");
      n_unsup++;
      goto done;
    }
    char name[32];
    snprintf(name, sizeof name, "out%d", i);
    outb[i] = make_buf(lc, name, out[i]);
    if (aicc_loop_kernel_param_add(lc, k, outb[i])) abort();
    size_t cnt = (size_t)aicc_tensor_numel(out[i]);
    void *p = malloc((cnt ? cnt : 1) * 8);
    for (size_t j = 0; j < cnt; j++) ((double *)p)[j] = NAN; /* unwritten shows */
    data[nd++] = (aicc_loop_buffer_data){outb[i], p, cnt};
  }
  aicc_lower_ctx c = {lc, k, n, n->opset, n->n_inputs, n->n_outputs, inb, cin, outb, 0};
  st = fn(&c);
  if (st) {
    bool unsup = aicc_status_code(st) == AICC_ERR_UNSUPPORTED;
    report(unsup ? "unsupported" : "FAIL", cas, n, aicc_status_message(st));
    unsup ? n_unsup++ : n_fail++;
    goto done;
  }
  for (int i = 0; i < n->n_outputs; i++)
    if (outb[i] && !aicc_loop_kernel_stage_of(k, outb[i])) {
      snprintf(why, sizeof why, "output %d has no stage", i);
      report("FAIL", cas, n, why);
      n_fail++;
      goto done;
    }
  if (verbose) {
    char *s = aicc_loop_kernel_print(k);
    if (s) fputs(s, stdout);
    free(s);
  }
  if (use_schedule) {
    aicc_sched_target t = aicc_sched_target_default(512, 2);
    st = aicc_schedule_default(k, &t, &sched);
    if (!st) st = aicc_schedule_apply(lc, k, &sched, &f);
    if (st) {
      report("FAIL", cas, n, aicc_status_message(st));
      n_fail++;
      goto done;
    }
  } else {
    f = aicc_loop_kernel_lower(lc, k);
  }
  if (!f) {
    report("FAIL", cas, n, "out of memory");
    n_fail++;
    goto done;
  }
  if ((st = aicc_loop_func_verify(f))) {
    report("FAIL", cas, n, aicc_status_message(st));
    n_fail++;
    goto done;
  }
  if (verbose) {
    char *s = aicc_loop_func_print(f);
    if (s) fputs(s, stdout);
    free(s);
  }
  if ((st = aicc_loop_stmt_run(f->body, NULL, 0, data, nd))) {
    report("FAIL", cas, n, aicc_status_message(st));
    n_fail++;
    goto done;
  }
  for (int i = 0; i < n->n_outputs; i++) {
    if (!outb[i]) continue;
    for (size_t j = 0; j < nd; j++)
      if (data[j].buf == outb[i] && compare(out[i], data[j].data, why, sizeof why)) {
        char msg[600];
        snprintf(msg, sizeof msg, "output %d %s", i, why);
        report("FAIL", cas, n, msg);
        n_fail++;
        goto done;
      }
  }
  report("ok", cas, n, NULL);
  n_ok++;
done:
  aicc_status_free(st);
  for (size_t j = 0; j < nd; j++) free(data[j].data);
  aicc_schedule_fini(&sched);
  aicc_loop_ctx_destroy(lc);
  (void)m;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int check_case(const char *dir) {
  char path[4096];
  const char *cas = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
  if (!*cas) cas = dir;
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  aicc_model *m = NULL;
  aicc_status st = aicc_onnx_load(path, &m);
  if (st) {
    printf("skip %s: %s\n", cas, aicc_status_message(st));
    aicc_status_free(st);
    return 0;
  }
  aicc_graph *g = m->graph;
  size_t nvals = m->n_values + 1;
  aicc_tensor **vals = calloc(nvals, sizeof *vals);
  /* Inputs from test_data_set_0 in name order. */
  snprintf(path, sizeof path, "%s/test_data_set_0", dir);
  DIR *d = opendir(path);
  char *names[256];
  int nn = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) && nn < 256)
    if (strncmp(e->d_name, "input_", 6) == 0) names[nn++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(names, (size_t)nn, sizeof *names, cmp_str);
  int ok = 1;
  size_t gi = 0;
  for (size_t i = 0; i < g->inputs.len; i++) {
    aicc_value *v = g->inputs.data[i];
    if (v->init) continue;
    if ((int)gi >= nn) break;
    snprintf(path, sizeof path, "%s/test_data_set_0/%s", dir, names[gi++]);
    aicc_tensor *t = NULL;
    if ((st = aicc_onnx_value_load(path, v->type.kind, &t))) {
      printf("skip %s: %s\n", cas, aicc_status_message(st));
      aicc_status_free(st);
      ok = 0;
      break;
    }
    vals[v->id] = t;
  }
  for (size_t i = 0; i < g->inits.len; i++)
    vals[g->inits.data[i]->id] = aicc_tensor_retain(g->inits.data[i]->init);
  for (size_t ni = 0; ok && ni < g->nodes.len; ni++) {
    aicc_node *n = g->nodes.data[ni];
    aicc_tensor *in[64] = {0}, *out[64] = {0};
    if (n->n_inputs > 64 || n->n_outputs > 64) break;
    for (int i = 0; i < n->n_inputs; i++) in[i] = n->inputs[i] ? vals[n->inputs[i]->id] : NULL;
    if ((st = aicc_interp_eval_node(m, n, in, out))) {
      printf("skip %s: %s\n", cas, aicc_status_message(st));
      aicc_status_free(st);
      break;
    }
    aicc_lower_fn fn = aicc_lower_find(n->op, n->domain, n->op_type);
    if (fn) check_node(cas, m, n, in, out, fn);
    for (int i = 0; i < n->n_outputs; i++)
      if (n->outputs[i]) vals[n->outputs[i]->id] = out[i];
      else aicc_tensor_release(out[i]);
  }
  for (size_t i = 0; i < nvals; i++) aicc_tensor_release(vals[i]);
  free(vals);
  for (int i = 0; i < nn; i++) free(names[i]);
  aicc_model_destroy(m);
  return 0;
}

int main(int argc, char **argv) {
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; first++) {
    if (strcmp(argv[first], "-v") == 0) verbose = 1;
    else if (strcmp(argv[first], "--schedule") == 0 && first + 1 < argc)
      use_schedule = strcmp(argv[++first], "default") == 0;
    else {
      fprintf(stderr, "usage: lower_check [--schedule none|default] [-v] CASE_DIR...\n");
      return 2;
    }
  }
  for (int i = first; i < argc; i++) check_case(argv[i]);
  printf("%d ok, %d unsupported, %d failed\n", n_ok, n_unsup, n_fail);
  return n_fail ? 1 : 0;
}
