/* api_example: load a model, compile it, run it once through the public C
 * API (include/aicc/aicc.h) and print its outputs.
 *
 *   api_example MODEL.onnx [--threads N] [--dim D]
 *
 * Inputs are filled with x[i] = (i % 7) * 0.25 - 0.5 (integers: i % 7);
 * a symbolic or unknown input dim takes size D (default 2). For each output
 * it prints one line:
 *   output 0 'y': f32[2,4] sum=1.234567 first=[0.1, 0.2, 0.3]
 * Build against the installed library: cc api_example.c $(pkg-config --cflags --libs aicc) */
#include <aicc/aicc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(aicc_status s, const char *what) {
  if (!s) return 0;
  fprintf(stderr, "api_example: %s: %s\n", what, aicc_status_message(s));
  aicc_status_free(s);
  return 1;
}

static double elem(aicc_elem_type t, const void *p, int64_t i) {
  switch (t) {
  case AICC_ELEM_F32: return ((const float *)p)[i];
  case AICC_ELEM_F64: return ((const double *)p)[i];
  case AICC_ELEM_I32: return ((const int32_t *)p)[i];
  case AICC_ELEM_I64: return (double)((const int64_t *)p)[i];
  case AICC_ELEM_U8: case AICC_ELEM_BOOL: return ((const uint8_t *)p)[i];
  case AICC_ELEM_I8: return ((const int8_t *)p)[i];
  default: return 0; /* not printed by this example */
  }
}

static void fill(aicc_elem_type t, void *p, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    double x = (double)(i % 7) * 0.25 - 0.5;
    switch (t) {
    case AICC_ELEM_F32: ((float *)p)[i] = (float)x; break;
    case AICC_ELEM_F64: ((double *)p)[i] = x; break;
    case AICC_ELEM_I32: ((int32_t *)p)[i] = (int32_t)(i % 7); break;
    case AICC_ELEM_I64: ((int64_t *)p)[i] = i % 7; break;
    default: memset((char *)p + i * aicc_elem_size(t), 0, aicc_elem_size(t)); break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: api_example MODEL.onnx [--threads N] [--dim D]\n");
    return 2;
  }
  aicc_compile_options opt;
  aicc_compile_options_init(&opt);
  int64_t dflt = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--threads") == 0) opt.threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--dim") == 0) dflt = atoll(argv[i + 1]);
  }
  opt.cflags = "-Werror"; /* generated code must compile without warnings */

  aicc_net *net = NULL;
  aicc_program *prog = NULL;
  aicc_session *sess = NULL;
  void *bufs[16] = {0};
  int rc = 1, n_in = 0, n_out = 0;
  if (check(aicc_net_load(argv[1], &net), "load")) goto done;
  if (check(aicc_compile(net, &opt, &prog), "compile")) goto done;
  aicc_net_free(net); /* the program does not need it */
  net = NULL;
  if (check(aicc_session_create(prog, &sess), "session")) goto done;
  if (check(aicc_program_input_count(prog, &n_in), "inputs")) goto done;
  if (check(aicc_program_output_count(prog, &n_out), "outputs")) goto done;
  if (n_in > 16) {
    fprintf(stderr, "api_example: more than 16 inputs\n");
    goto done;
  }
  for (int i = 0; i < n_in; i++) {
    const char *name;
    aicc_elem_type t;
    int rank;
    int64_t dims[16];
    if (check(aicc_program_input_info(prog, i, &name, &t, &rank, dims), "input info")) goto done;
    int64_t n = 1;
    for (int d = 0; d < rank; d++) {
      if (dims[d] < 0) dims[d] = dflt;
      n *= dims[d];
    }
    bufs[i] = malloc((size_t)(n ? n : 1) * aicc_elem_size(t));
    if (!bufs[i]) goto done;
    fill(t, bufs[i], n);
    if (check(aicc_session_set_input(sess, i, t, rank, dims, bufs[i]), name)) goto done;
  }
  if (check(aicc_session_run(sess), "run")) goto done;
  for (int o = 0; o < n_out; o++) {
    const char *name;
    aicc_elem_type t;
    int rank;
    const int64_t *dims;
    const void *data;
    if (check(aicc_program_output_info(prog, o, &name, NULL, NULL, NULL), "output info")) goto done;
    if (check(aicc_session_output(sess, o, &t, &rank, &dims, &data), name)) goto done;
    int64_t n = 1;
    printf("output %d '%s': type %d [", o, name, (int)t);
    for (int d = 0; d < rank; d++) {
      printf("%s%lld", d ? "," : "", (long long)dims[d]);
      n *= dims[d];
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += elem(t, data, i);
    printf("] sum=%.6f first=[", sum);
    for (int64_t i = 0; i < n && i < 4; i++) printf("%s%g", i ? ", " : "", elem(t, data, i));
    printf("]\n");
  }
  int kernels = 0, ext = 0;
  char ops[256];
  double ms = 0;
  if (check(aicc_program_stats(prog, &kernels, &ext, ops, sizeof ops, &ms), "stats")) goto done;
  printf("compiled: %d kernels, %d extern steps%s%s%s, %.1f ms\n", kernels, ext,
         ext ? " (" : "", ext ? ops : "", ext ? ")" : "", ms);
  rc = 0;
done:
  aicc_session_free(sess);
  aicc_program_free(prog);
  aicc_net_free(net);
  for (int i = 0; i < 16; i++) free(bufs[i]);
  return rc;
}
