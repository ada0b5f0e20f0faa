/* aicc run: run a model on input_N.pb files; write output_N.pb files. */
#include "cli.h"

#include "frontend/onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: aicc run MODEL.onnx|MODEL.ir --inputs DIR [--outputs DIR] [--engine E]\n"
    "                [--threads N] [-O N] [--strict] [--dump-loops[=F]] ...\n\n"
    "Reads DIR/input_<i>.pb (TensorProto, SequenceProto or OptionalProto as\n"
    "the model's inputs declare), runs the model and writes\n"
    "OUTDIR/output_<i>.pb. Without --outputs it prints a summary of each\n"
    "output. On any failure no output file is left behind.\n\n"
    "options:\n"
    "  --inputs DIR   folder with input_0.pb, input_1.pb, ... (required)\n"
    "  --outputs DIR  folder to write output_<i>.pb into (created if missing)\n"
    "  --engine E     engine to run on: interp (the reference interpreter,\n"
    "                 default) or compiled (lowered to C, JIT-compiled)\n"
    "  --time         print the run's wall time on stderr (with the compiled\n"
    "                 engine: the compile time too)\n"
    "  -h, --help     show this help\n\n" AICC_CLI_COMPILED_USAGE;

static void summarize(const char *name, const aicc_tensor *t) {
  char d[128];
  printf("%s: %s", name, aicc_tensor_describe(t, d, sizeof d));
  if (t->kind == AICC_KIND_TENSOR && t->dtype != AICC_DTYPE_STRING) {
    int64_t n = aicc_tensor_numel(t);
    printf(" [");
    for (int64_t i = 0; i < n && i < 8; i++) printf(i ? ", %.6g" : "%.6g", aicc_tensor_get_f64(t, i));
    printf(n > 8 ? ", ...]" : "]");
  }
  printf("\n");
}

/* Writes every output into out_dir, or none of them. */
static aicc_status outputs_save(const aicc_model *m, const char *out_dir, aicc_tensor **out,
                                int n_out) {
  aicc_status s = NULL;
  if (mkdir(out_dir, 0777) != 0 && access(out_dir, W_OK) != 0)
    return aicc_errorf(AICC_ERR_IO, "%s: cannot create the output folder", out_dir);
  int written = 0;
  for (int i = 0; i < n_out && !s; i++, written++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, i);
    s = aicc_onnx_value_save(path, m->graph->outputs.data[i]->name, out[i]);
  }
  if (s) /* leave nothing half-written: remove the outputs already saved */
    for (int i = 0; i < written; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/output_%d.pb", out_dir, i);
      unlink(path);
    }
  return s;
}

int aicc_cmd_run(int argc, char **argv) {
  const char *model = NULL, *in_dir = NULL, *out_dir = NULL;
  aicc_cli_engine_opts eo;
  aicc_cli_engine_opts_init(&eo);
  bool timing = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int rc;
    if (strcmp(a, "--inputs") == 0 || strcmp(a, "--outputs") == 0) {
      if (i + 1 >= argc) return aicc_cli_usage_error("run", "%s needs a folder", a);
      *(a[2] == 'i' ? &in_dir : &out_dir) = argv[++i];
    } else if (strcmp(a, "--time") == 0) {
      timing = true;
    } else if ((rc = aicc_cli_arg_engine("run", argc, argv, &i, &eo)) != -2) {
      if (rc >= 0) return rc;
    } else {
      rc = aicc_cli_arg_common("run", usage, argc, argv, &i, &eo.engine, &model, "model");
      if (rc >= 0) return rc;
    }
  }
  if (!model) return aicc_cli_usage_error("run", "no model given");
  if (!in_dir) return aicc_cli_usage_error("run", "--inputs DIR is required");
  int rc = aicc_cli_engine_opts_check("run", &eo);
  if (rc >= 0) return rc;
  aicc_model *m;
  aicc_status s = aicc_cli_model_load(model, &m);
  if (s) return aicc_cli_fail(s);
  aicc_cli_runner *r;
  s = aicc_cli_runner_create(m, &eo, &r); /* takes m */
  if (s) return aicc_cli_fail(s);
  const aicc_model *rm = aicc_cli_runner_model(r);
  aicc_tensor **in = NULL;
  int n_in = 0;
  s = aicc_cli_inputs_load(rm, in_dir, &in, &n_in);
  if (s) {
    aicc_cli_runner_destroy(r);
    return aicc_cli_fail(s);
  }
  int n_out = (int)rm->graph->outputs.len;
  aicc_tensor **out = calloc((size_t)n_out + 1, sizeof *out);
  double t0 = aicc_cli_now_ms();
  s = out ? aicc_cli_runner_run(r, in, n_in, out, n_out)
          : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  double t_run = aicc_cli_now_ms() - t0;
  if (!s && timing) {
    aicc_rt_program *p = aicc_cli_runner_program(r);
    if (p) { /* the first run may have compiled a shape specialization */
      aicc_rt_stats st;
      aicc_rt_program_stats(p, &st);
      fprintf(stderr, "aicc: compile took %.3f ms (C compiler %.3f ms, %s)\n", st.compile_ms,
              st.cc_ms, st.cache_hit ? "cache hit" : "cache miss");
    }
    fprintf(stderr, "aicc: run took %.3f ms%s\n", t_run,
            p ? " (with any compile of a shape specialization)" : "");
  }
  if (!s && out_dir) s = outputs_save(rm, out_dir, out, n_out);
  else if (!s)
    for (int i = 0; i < n_out; i++) summarize(rm->graph->outputs.data[i]->name, out[i]);
  for (int i = 0; i < n_in; i++) aicc_tensor_release(in[i]);
  for (int i = 0; out && i < n_out; i++) aicc_tensor_release(out[i]);
  free(in);
  free(out);
  aicc_cli_runner_destroy(r);
  return s ? aicc_cli_fail(s) : 0;
}
