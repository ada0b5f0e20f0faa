/* aicc test: run an ONNX backend-test case (model.onnx + test_data_set_*)
 * on an engine and compare with the stored outputs. */
#include "cli.h"

#include "frontend/onnx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage[] =
    "usage: aicc test CASE_DIR [--engine E] [--rtol R] [--atol A] [--model F]\n"
    "                 [--threads N] [-O N] [--strict] [--dump-loops[=F]] ...\n\n"
    "CASE_DIR holds model.onnx and test_data_set_*/{input,output}_N.pb (the\n"
    "ONNX backend-test layout). Runs every data set, prints one line per data\n"
    "set with PASS/FAIL and the max absolute/relative error per output, and\n"
    "exits 0 iff all pass. Symbolic dims take their sizes from the inputs.\n"
    "With --engine compiled the model is compiled once for all data sets, and\n"
    "a last line says what it became:\n"
    "  compiled: K kernels, E extern steps (the extern steps' ops)\n"
    "followed by \", C concats in place\" when some Concats need no copy (their\n"
    "inputs are written into their output's memory).\n\n"
    "options:\n"
    "  --engine E   engine to run on: interp (the reference interpreter,\n"
    "               default) or compiled (lowered to C, JIT-compiled)\n"
    "  --model F    run this model (.onnx or .ir) instead of CASE_DIR/model.onnx\n"
    "               (e.g. an optimised one from `aicc opt`)\n"
    "  --rtol R     relative tolerance (default 1e-3, as the ONNX runner)\n"
    "  --atol A     absolute tolerance (default 1e-7, as the ONNX runner)\n"
    "  -h, --help   show this help\n\n" AICC_CLI_COMPILED_USAGE;

static int cmp_str(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  /* numeric order for test_data_set_<n> */
  size_t lx = strlen(x), ly = strlen(y);
  return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Names of the data-set folders, sorted. */
static int list_sets(const char *dir, char ***out) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  char **names = NULL;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "test_data_set_", 14) != 0) continue;
    char **nn = realloc(names, sizeof *nn * (size_t)(n + 1));
    if (!nn) break;
    names = nn;
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_str);
  *out = names;
  return n;
}

static bool parse_double(const char *s, double *out) {
  char *end;
  *out = strtod(s, &end);
  return *s && !*end;
}

/* Runs one data set; prints its line; returns true on PASS. */
static bool run_set(aicc_cli_runner *runner, const char *set_dir, const char *set_name,
                    double rtol, double atol) {
  const aicc_model *m = aicc_cli_runner_model(runner);
  aicc_tensor **in = NULL;
  int n_in = 0;
  aicc_status s = aicc_cli_inputs_load(m, set_dir, &in, &n_in);
  if (s) {
    printf("%s: FAIL (%s)\n", set_name, aicc_status_message(s));
    aicc_status_free(s);
    return false;
  }
  int n_out = (int)m->graph->outputs.len;
  aicc_tensor **out = calloc((size_t)n_out + 1, sizeof *out);
  aicc_tensor **ref = calloc((size_t)n_out + 1, sizeof *ref);
  bool pass = out && ref;
  if (pass) {
    s = aicc_cli_runner_run(runner, in, n_in, out, n_out);
    if (s) {
      printf("%s: FAIL (%s)\n", set_name, aicc_status_message(s));
      aicc_status_free(s);
      pass = false;
    }
  }
  if (pass) {
    /* Read every expected output first so one line says everything. */
    char line[4096];
    size_t k = 0;
    for (int i = 0; i < n_out && pass; i++) {
      char path[4096 + 32];
      snprintf(path, sizeof path, "%s/output_%d.pb", set_dir, i);
      aicc_value_kind kind = m->graph->outputs.data[i]->type.kind;
      s = aicc_onnx_value_load(path, kind == AICC_KIND_NONE ? AICC_KIND_TENSOR : kind, &ref[i]);
      if (s) {
        printf("%s: FAIL (%s)\n", set_name, aicc_status_message(s));
        aicc_status_free(s);
        pass = false;
        break;
      }
      aicc_compare_result r;
      aicc_tensor_compare(ref[i], out[i], rtol, atol, &r);
      if (k < sizeof line)
        k += (size_t)snprintf(line + k, sizeof line - k, " %s: max_abs=%.3g max_rel=%.3g%s%s",
                              m->graph->outputs.data[i]->name, r.max_abs, r.max_rel,
                              r.match ? "" : " MISMATCH ", r.match ? "" : r.why);
      if (!r.match) pass = false;
    }
    if (k || pass) printf("%s: %s%s\n", set_name, pass ? "PASS" : "FAIL", k ? line : "");
  }
  for (int i = 0; i < n_in; i++) aicc_tensor_release(in[i]);
  for (int i = 0; out && ref && i < n_out; i++) {
    aicc_tensor_release(out[i]);
    aicc_tensor_release(ref[i]);
  }
  free(in);
  free(out);
  free(ref);
  return pass;
}

int aicc_cmd_test(int argc, char **argv) {
  const char *dir = NULL, *model = NULL;
  aicc_cli_engine_opts eo;
  aicc_cli_engine_opts_init(&eo);
  double rtol = 1e-3, atol = 1e-7;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int rc;
    if (strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0) {
      double v;
      if (i + 1 >= argc || !parse_double(argv[i + 1], &v) || v < 0)
        return aicc_cli_usage_error("test", "%s needs a non-negative number", a);
      *(a[2] == 'r' ? &rtol : &atol) = v;
      i++;
    } else if (strcmp(a, "--model") == 0) {
      if (i + 1 >= argc) return aicc_cli_usage_error("test", "--model needs a file");
      model = argv[++i];
    } else if ((rc = aicc_cli_arg_engine("test", argc, argv, &i, &eo)) != -2) {
      if (rc >= 0) return rc;
    } else {
      rc = aicc_cli_arg_common("test", usage, argc, argv, &i, &eo.engine, &dir, "case directory");
      if (rc >= 0) return rc;
    }
  }
  if (!dir) return aicc_cli_usage_error("test", "no case directory given");
  int rc = aicc_cli_engine_opts_check("test", &eo);
  if (rc >= 0) return rc;
  char model_path[4096];
  if (model) snprintf(model_path, sizeof model_path, "%s", model);
  else snprintf(model_path, sizeof model_path, "%s/model.onnx", dir);
  char **sets = NULL;
  int n = list_sets(dir, &sets);
  if (n <= 0) {
    fprintf(stderr, "aicc: %s: no test_data_set_* folders\n", dir);
    free(sets);
    return 1;
  }
  aicc_model *m;
  aicc_status s = aicc_cli_model_load(model_path, &m);
  aicc_cli_runner *runner = NULL;
  if (!s) s = aicc_cli_runner_create(m, &eo, &runner); /* takes m */
  if (s) {
    for (int i = 0; i < n; i++) free(sets[i]);
    free(sets);
    return aicc_cli_fail(s);
  }
  int failed = 0;
  for (int i = 0; i < n; i++) {
    char set_dir[4096];
    snprintf(set_dir, sizeof set_dir, "%s/%s", dir, sets[i]);
    if (!run_set(runner, set_dir, sets[i], rtol, atol)) failed++;
    free(sets[i]);
  }
  free(sets);
  aicc_cli_runner_print_stats(runner, stdout);
  aicc_cli_runner_destroy(runner);
  return failed ? 1 : 0;
}
