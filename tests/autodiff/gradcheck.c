/* Finite-difference checks of the reverse-mode transform (src/autodiff):
 * each case is a small text-IR graph; its backward graph, run by the
 * interpreter, must match central differences in float64 for every element
 * of every input. Also checks the error paths and that the checker itself
 * rejects a slightly wrong gradient.
 * Usage: gradcheck [case-name-substring]. Prints one line per case. */
#include "autodiff/autodiff.h"
#include "interp/interp.h"
#include "ir/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gcase {
  const char *name;
  const char *ir;      /* body of the graph (header and opsets added) */
  int opset;           /* 0: 18 */
  double lo, hi;       /* range of random float inputs (0,0: -1..1) */
  int64_t ilo, ihi;    /* range of random integer inputs, [ilo, ihi) */
  bool default_wrt;    /* differentiate w.r.t. float initializers */
  bool scalar_loss;    /* seed 1 instead of a seed input */
} gcase;

#define G(sig, body) "graph main(" sig ") {\n" body "}\n"

static const gcase cases[] = {
    {"add_bcast", G("%a: f64[2,3,4], %b: f64[3,1]", "%y = Add(%a, %b)\nreturn %y\n")},
    {"add_scalar", G("%a: f64[], %b: f64[2,3]", "%y = Add(%a, %b)\nreturn %y\n")},
    {"sub_bcast", G("%a: f64[2,1,4], %b: f64[3,4]", "%y = Sub(%a, %b)\nreturn %y\n")},
    {"mul_bcast", G("%a: f64[2,3], %b: f64[3]", "%y = Mul(%a, %b)\nreturn %y\n")},
    {"div_bcast", G("%a: f64[2,3], %b: f64[1,3]", "%y = Div(%a, %b)\nreturn %y\n"), 0, 0.5, 2.0},
    {"neg", G("%x: f64[3,4]", "%y = Neg(%x)\nreturn %y\n")},
    {"exp", G("%x: f64[3,4]", "%y = Exp(%x)\nreturn %y\n")},
    {"log", G("%x: f64[3,4]", "%y = Log(%x)\nreturn %y\n"), 0, 0.5, 2.0},
    {"sqrt", G("%x: f64[3,4]", "%y = Sqrt(%x)\nreturn %y\n"), 0, 0.5, 2.0},
    {"tanh", G("%x: f64[3,4]", "%y = Tanh(%x)\nreturn %y\n")},
    {"sigmoid", G("%x: f64[3,4]", "%y = Sigmoid(%x)\nreturn %y\n")},
    {"relu", G("%x: f64[3,4]", "%y = Relu(%x)\nreturn %y\n")},
    {"identity", G("%x: f64[3]", "%y = Identity(%x)\nreturn %y\n")},
    {"cast_f32_f64", G("%x: f32[5]", "%c = Cast(%x) {to=11}\n%y = Mul(%c, %c)\nreturn %y\n")},
    {"matmul_2d", G("%a: f64[3,4], %b: f64[4,5]", "%y = MatMul(%a, %b)\nreturn %y\n")},
    {"matmul_batched", G("%a: f64[2,1,3,4], %b: f64[3,4,2]", "%y = MatMul(%a, %b)\nreturn %y\n")},
    {"matmul_vec_a", G("%a: f64[4], %b: f64[2,4,3]", "%y = MatMul(%a, %b)\nreturn %y\n")},
    {"matmul_vec_b", G("%a: f64[2,3,4], %b: f64[4]", "%y = MatMul(%a, %b)\nreturn %y\n")},
    {"matmul_vec_vec", G("%a: f64[4], %b: f64[4]", "%y = MatMul(%a, %b)\nreturn %y\n")},
    {"gemm", G("%a: f64[3,4], %b: f64[4,5], %c: f64[5]", "%y = Gemm(%a, %b, %c)\nreturn %y\n")},
    {"gemm_transA", G("%a: f64[4,3], %b: f64[4,5], %c: f64[3,1]",
                      "%y = Gemm(%a, %b, %c) {transA=1, alpha=0.5, beta=2.0}\nreturn %y\n")},
    {"gemm_transB", G("%a: f64[3,4], %b: f64[5,4]", "%y = Gemm(%a, %b) {transB=1, alpha=1.5}\nreturn %y\n")},
    {"gemm_transAB", G("%a: f64[4,3], %b: f64[5,4], %c: f64[3,5]",
                       "%y = Gemm(%a, %b, %c) {transA=1, transB=1, beta=-0.5}\nreturn %y\n")},
    {"reshape", G("%x: f64[2,6]", "init %s = dense<i64[2]> [3, 4]\n%y = Reshape(%x, %s)\nreturn %y\n")},
    {"transpose", G("%x: f64[2,3,4]", "%y = Transpose(%x) {perm=[2, 0, 1]}\nreturn %y\n")},
    {"transpose_default", G("%x: f64[2,3,4]", "%y = Transpose(%x)\nreturn %y\n")},
    {"flatten", G("%x: f64[2,3,4]", "%y = Flatten(%x) {axis=2}\nreturn %y\n")},
    {"unsqueeze", G("%x: f64[2,3]", "init %a = dense<i64[1]> [1]\n%y = Unsqueeze(%x, %a)\nreturn %y\n")},
    {"squeeze", G("%x: f64[2,1,3]", "init %a = dense<i64[1]> [1]\n%y = Squeeze(%x, %a)\nreturn %y\n")},
    {"reducesum", G("%x: f64[2,3,4]",
                    "init %a = dense<i64[1]> [1]\n%y = ReduceSum(%x, %a) {keepdims=0}\nreturn %y\n")},
    {"reducesum_keep", G("%x: f64[2,3,4]",
                         "init %a = dense<i64[2]> [0, -1]\n%y = ReduceSum(%x, %a)\nreturn %y\n")},
    {"reducesum_all", G("%x: f64[2,3]", "%y = ReduceSum(%x) {keepdims=0}\nreturn %y\n")},
    {"reducemean", G("%x: f64[2,3,4]",
                     "init %a = dense<i64[2]> [0, 2]\n%y = ReduceMean(%x, %a) {keepdims=0}\nreturn %y\n")},
    {"reducemean_all", G("%x: f64[2,3]", "%y = ReduceMean(%x)\nreturn %y\n")},
    {"softmax", G("%x: f64[2,3,4]", "%y = Softmax(%x) {axis=1}\nreturn %y\n")},
    {"softmax_v11", G("%x: f64[2,3,4]", "%y = Softmax(%x) {axis=1}\nreturn %y\n"), 11},
    {"logsoftmax", G("%x: f64[2,3,4]", "%y = LogSoftmax(%x)\nreturn %y\n")},
    {"concat", G("%a: f64[2,3], %b: f64[2,2], %c: f64[2,1]",
                 "%y = Concat(%a, %b, %c) {axis=-1}\nreturn %y\n")},
    {"concat_v9", G("%a: f64[1,3], %b: f64[2,3]", "%y = Concat(%a, %b) {axis=0}\nreturn %y\n"), 9},
    {"gather", G("%d: f64[5,3], %i: i64[6]", "%y = Gather(%d, %i)\nreturn %y\n"), 0, 0, 0, -5, 5},
    {"gather_axis1", G("%d: f64[2,5,3], %i: i64[2,2]", "%y = Gather(%d, %i) {axis=1}\nreturn %y\n"),
     0, 0, 0, 0, 5},
    {"sce_mean", G("%x: f64[3,4], %t: i64[3]", "%y = SoftmaxCrossEntropyLoss(%x, %t)\nreturn %y\n"),
     0, 0, 0, 0, 4, false, true},
    {"sce_sum_3d", G("%x: f64[2,4,3], %t: i64[2,3]",
                     "%y = SoftmaxCrossEntropyLoss(%x, %t) {reduction=\"sum\"}\nreturn %y\n"),
     0, 0, 0, 0, 4, false, true},
    {"sce_none", G("%x: f64[3,4], %t: i64[3]",
                   "%y = SoftmaxCrossEntropyLoss(%x, %t) {reduction=\"none\"}\nreturn %y\n"),
     0, 0, 0, 0, 4},
    {"sce_weight_ignore", G("%x: f64[2,4,3], %t: i64[2,3]",
                            "init %w = dense<f64[4]> [0.5, 1.5, 1.0, 2.0]\n"
                            "%y = SoftmaxCrossEntropyLoss(%x, %t, %w) {ignore_index=1}\nreturn %y\n"),
     0, 0.5, 2.0, 0, 4, false, true},
    {"sce_logprob", G("%x: f64[3,4], %t: i64[3]",
                      "%l, %lp = SoftmaxCrossEntropyLoss(%x, %t)\n"
                      "%q = Mul(%lp, %lp)\n%s = ReduceSum(%q) {keepdims=0}\n%y = Add(%l, %s)\nreturn %y\n"),
     0, 0, 0, 0, 4, false, true},
    {"where_bcast", G("%k: i64[2,1], %a: f64[2,3], %b: f64[3]",
                      "%c = Cast(%k) {to=9}\n%y = Where(%c, %a, %b)\nreturn %y\n"), 0, 0, 0, 0, 2},
    {"max_bcast", G("%a: f64[2,3], %b: f64[3]", "%y = Max(%a, %b)\nreturn %y\n")},
    {"min_bcast", G("%a: f64[2,1,3], %b: f64[4,1]", "%y = Min(%a, %b)\nreturn %y\n")},
    {"max_three", G("%a: f64[2,3], %b: f64[2,3], %c: f64[3]", "%y = Max(%a, %b, %c)\nreturn %y\n")},
    {"abs", G("%x: f64[3,4]", "%y = Abs(%x)\nreturn %y\n")},
    {"pow_bcast", G("%a: f64[2,3], %b: f64[3]", "%y = Pow(%a, %b)\nreturn %y\n"), 0, 0.5, 2.0},
    {"pow_int_exp", G("%a: f64[2,3]", "init %e = dense<i64[]> [3]\n%y = Pow(%a, %e)\nreturn %y\n")},
    {"leakyrelu", G("%x: f64[3,4]", "%y = LeakyRelu(%x) {alpha=0.2}\nreturn %y\n")},
    {"elu", G("%x: f64[3,4]", "%y = Elu(%x) {alpha=0.7}\nreturn %y\n")},
    {"softplus", G("%x: f64[3,4]", "%y = Softplus(%x)\nreturn %y\n")},
    {"dropout_infer", G("%x: f64[3,4]", "%y = Dropout(%x)\nreturn %y\n")},
    {"dropout_train", G("%x: f64[4,5]",
                        "init %r = dense<f64[]> [0.3]\ninit %t = dense<bool[]> [1]\n"
                        "%y, %m = Dropout(%x, %r, %t) {seed=7}\nreturn %y\n")},
    {"dropout_v10", G("%x: f64[3,4]", "%y = Dropout(%x) {ratio=0.2}\nreturn %y\n"), 10},
    {"expand", G("%x: f64[3,1]", "init %s = dense<i64[3]> [2, 3, 4]\n%y = Expand(%x, %s)\nreturn %y\n")},
    {"expand_lower", G("%x: f64[2,3,4]", "init %s = dense<i64[2]> [1, 4]\n%y = Expand(%x, %s)\nreturn %y\n")},
    {"slice", G("%x: f64[4,6]", "init %b = dense<i64[2]> [1, 0]\ninit %e = dense<i64[2]> [3, 5]\n"
                "%y = Slice(%x, %b, %e)\nreturn %y\n")},
    {"slice_steps", G("%x: f64[5,7,2]",
                      "init %b = dense<i64[2]> [-1, 1]\ninit %e = dense<i64[2]> [-6, 7]\n"
                      "init %a = dense<i64[2]> [0, -2]\ninit %s = dense<i64[2]> [-2, 3]\n"
                      "%y = Slice(%x, %b, %e, %a, %s)\nreturn %y\n")},
    {"slice_neg_unit", G("%x: f64[4,3]",
                         "init %b = dense<i64[1]> [2]\ninit %e = dense<i64[1]> [0]\n"
                         "init %a = dense<i64[1]> [0]\ninit %s = dense<i64[1]> [-1]\n"
                         "%y = Slice(%x, %b, %e, %a, %s)\nreturn %y\n")},
    {"slice_v9", G("%x: f64[4,6]", "%y = Slice(%x) {starts=[1], ends=[100], axes=[1]}\nreturn %y\n"), 9},
    {"split_both", G("%x: f64[2,6]", "%a, %b = Split(%x) {axis=1, num_outputs=2}\n"
                     "%m = Mul(%a, %b)\n%y = Add(%m, %a)\nreturn %y\n")},
    {"split_one_used", G("%x: f64[2,6]", "init %s = dense<i64[3]> [1, 2, 3]\n"
                         "%a, %b, %c = Split(%x, %s) {axis=-1}\n%y = Mul(%b, %b)\nreturn %y\n")},
    {"pad", G("%x: f64[2,3]", "init %p = dense<i64[4]> [1, 0, 0, 2]\n%y = Pad(%x, %p)\nreturn %y\n")},
    {"pad_negative", G("%x: f64[4,3]", "init %p = dense<i64[4]> [1, -1, -1, 2]\n"
                       "init %v = dense<f64[]> [0.5]\n%y = Pad(%x, %p, %v)\nreturn %y\n")},
    {"pad_axes", G("%x: f64[2,3,2]", "init %p = dense<i64[2]> [2, 1]\ninit %a = dense<i64[1]> [-2]\n"
                   "%y = Pad(%x, %p, _, %a)\nreturn %y\n")},
    {"pad_v10", G("%x: f64[2,3]", "%y = Pad(%x) {pads=[0, 1, 2, 0]}\nreturn %y\n"), 10},
    {"reducemax", G("%x: f64[2,3,4]",
                    "init %a = dense<i64[1]> [1]\n%y = ReduceMax(%x, %a) {keepdims=0}\nreturn %y\n")},
    {"reducemax_multi", G("%x: f64[2,3,4]",
                          "init %a = dense<i64[2]> [0, 2]\n%y = ReduceMax(%x, %a)\nreturn %y\n")},
    {"reducemax_all", G("%x: f64[3,4]", "%y = ReduceMax(%x) {keepdims=0}\nreturn %y\n")},
    {"reducemax_v11", G("%x: f64[3,4]", "%y = ReduceMax(%x) {axes=[0]}\nreturn %y\n"), 11},
    {"nll_mean", G("%x: f64[3,4], %t: i64[3]", "%y = NegativeLogLikelihoodLoss(%x, %t)\nreturn %y\n"),
     0, 0, 0, 0, 4, false, true},
    {"nll_none", G("%x: f64[3,4], %t: i64[3]",
                   "%y = NegativeLogLikelihoodLoss(%x, %t) {reduction=\"none\"}\nreturn %y\n"),
     0, 0, 0, 0, 4},
    {"nll_weight_ignore", G("%x: f64[2,4,3], %t: i64[2,3]",
                            "init %w = dense<f64[4]> [0.5, 1.5, 1.0, 2.0]\n"
                            "%y = NegativeLogLikelihoodLoss(%x, %t, %w) {ignore_index=1}\nreturn %y\n"),
     0, 0, 0, 0, 4, false, true},
    {"conv", G("%x: f64[2,3,5,5], %w: f64[4,3,3,3], %b: f64[4]", "%y = Conv(%x, %w, %b)\nreturn %y\n")},
    {"conv_stride_pad", G("%x: f64[1,2,6,5], %w: f64[3,2,3,2]",
                          "%y = Conv(%x, %w) {strides=[2, 2], pads=[1, 0, 1, 1]}\nreturn %y\n")},
    {"conv_dilation", G("%x: f64[1,2,7,6], %w: f64[2,2,2,3]",
                        "%y = Conv(%x, %w) {dilations=[2, 1], strides=[1, 2]}\nreturn %y\n")},
    {"conv_same", G("%x: f64[1,1,5,4], %w: f64[2,1,3,3]",
                    "%y = Conv(%x, %w) {auto_pad=\"SAME_UPPER\", strides=[2, 1]}\nreturn %y\n")},
    {"conv_group_data", G("%x: f64[1,4,4,4], %k: i64[2,2,3,3]", "%w = Cast(%k) {to=11}\n"
                          "%y = Conv(%x, %w) {group=2, pads=[1, 1, 0, 0]}\nreturn %y\n"), 0, 0, 0, -3, 4},
    {"conv_1d", G("%x: f64[2,2,7], %w: f64[3,2,3]", "%y = Conv(%x, %w) {strides=[3], pads=[2, 1]}\nreturn %y\n")},
    {"maxpool", G("%x: f64[2,2,4,5]", "%y = MaxPool(%x) {kernel_shape=[2, 2]}\nreturn %y\n")},
    {"maxpool_overlap", G("%x: f64[1,2,5,5]",
                          "%y = MaxPool(%x) {kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]}\nreturn %y\n")},
    {"avgpool", G("%x: f64[2,2,4,6]", "%y = AveragePool(%x) {kernel_shape=[2, 3], strides=[2, 3]}\nreturn %y\n")},
    {"avgpool_pad", G("%x: f64[1,2,5,5]",
                      "%y = AveragePool(%x) {kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]}\nreturn %y\n")},
    {"avgpool_pad_incl", G("%x: f64[1,2,5,4]",
                           "%y = AveragePool(%x) {kernel_shape=[3, 2], pads=[1, 0, 1, 1], "
                           "count_include_pad=1}\nreturn %y\n")},
    {"batchnorm", G("%x: f64[2,3,2,2], %s: f64[3], %b: f64[3], %m: f64[3], %v: f64[3]",
                    "%y = BatchNormalization(%x, %s, %b, %m, %v) {epsilon=0.01}\nreturn %y\n"), 0, 0.5, 2.0},
    {"batchnorm_2d", G("%x: f64[4,3], %s: f64[3], %b: f64[3], %m: f64[3], %v: f64[3]",
                       "%y = BatchNormalization(%x, %s, %b, %m, %v)\nreturn %y\n"), 0, 0.5, 2.0},
    {"layernorm", G("%x: f64[2,3,4], %s: f64[4], %b: f64[4]",
                    "%y = LayerNormalization(%x, %s, %b)\nreturn %y\n")},
    {"layernorm_axis1", G("%x: f64[2,3,4], %s: f64[3,4]",
                          "%y = LayerNormalization(%x, %s) {axis=1, epsilon=0.001}\nreturn %y\n")},
    {"multi_use", G("%x: f64[3], %w: f64[3]",
                    "%a = Mul(%x, %w)\n%b = Exp(%x)\n%c = Mul(%a, %b)\n%y = Add(%c, %x)\nreturn %y\n")},
    {"opset12_forms", G("%a: f64[4], %b: f64[2,4,3], %c: f64[3]",
                        "%m = MatMul(%a, %b)\n%y = Add(%m, %c)\nreturn %y\n"), 12},
    {"mlp", G("%x: f64[4,5], %t: i64[4], %W1: f64[6,5], %b1: f64[6], %W2: f64[6,3], %b2: f64[3]",
              "init %W1 = dense<f64[6,5]> elided\ninit %b1 = dense<f64[6]> elided\n"
              "init %W2 = dense<f64[6,3]> elided\ninit %b2 = dense<f64[3]> elided\n"
              "%h = Gemm(%x, %W1, %b1) {transB=1}\n%r = Relu(%h)\n%z = Gemm(%r, %W2, %b2)\n"
              "%y = SoftmaxCrossEntropyLoss(%z, %t)\nreturn %y\n"),
     0, 0, 0, 0, 3, true, true},
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static aicc_status parse_case(const gcase *gc, aicc_model **m) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return aicc_errorf(AICC_ERR_NOMEM, "open_memstream");
  fprintf(f, "aicc.model ir_version=8 opsets={\"\":%d}\n%s", gc->opset ? gc->opset : 18, gc->ir);
  fclose(f);
  aicc_status s = aicc_model_parse(text, len, gc->name, m);
  free(text);
  if (!s) s = aicc_model_infer(*m);
  return s;
}

static aicc_status run_all(aicc_model *m, aicc_tensor **in, int n_in, aicc_tensor **out, int n_out) {
  for (int i = 0; i < n_out; i++) out[i] = NULL;
  return aicc_interp_run(m, in, n_in, out, n_out);
}

static void release_all(aicc_tensor **t, int n) {
  for (int i = 0; i < n; i++) {
    aicc_tensor_release(t[i]);
    t[i] = NULL;
  }
}

/* <seed, y> (or y itself for a scalar loss). */
static double objective(const aicc_tensor *y, const aicc_tensor *seed) {
  double s = 0;
  for (int64_t i = 0; i < aicc_tensor_numel(y); i++)
    s += aicc_tensor_get_f64(y, i) * (seed ? aicc_tensor_get_f64(seed, i) : 1.0);
  return s;
}

/* Runs one case; *max_rel gets the largest relative error. corrupt != 0
 * scales the computed gradient (for the checker's own test). */
static aicc_status check_case(const gcase *gc, double corrupt, double *max_rel, int *n_checked) {
  aicc_model *m = NULL;
  aicc_status s = parse_case(gc, &m);
  aicc_graph *g = m ? m->graph : NULL;
  aicc_tensor **in = NULL, **out = NULL;
  int n_in = 0, n_out = 0, n_wrt = 0, wrt_idx[16];
  const char *wrt_names[16];
  *max_rel = 0;
  *n_checked = 0;
  if (s) goto done;
  int n_in0 = (int)g->inputs.len, n_out0 = (int)g->outputs.len;
  for (int i = 0; i < n_in0 && n_wrt < 16; i++) {
    aicc_value *v = g->inputs.data[i];
    if (!aicc_dtype_is_float(v->type.dtype)) continue;
    if (gc->default_wrt && !v->init) continue;
    wrt_names[n_wrt] = v->name;
    wrt_idx[n_wrt++] = i;
  }
  aicc_vjp_spec spec = {.loss = g->outputs.data[0]->name, .seed_input = !gc->scalar_loss,
                        .wrt = gc->default_wrt ? NULL : wrt_names,
                        .n_wrt = gc->default_wrt ? 0 : n_wrt};
  if ((s = aicc_autodiff_vjp(m, &spec)) || (s = aicc_model_verify(m))) goto done;
  n_in = (int)g->inputs.len, n_out = (int)g->outputs.len;
  if (n_out != n_out0 + n_wrt) {
    s = aicc_errorf(AICC_ERR_INTERNAL, "%d outputs, expected %d", n_out, n_out0 + n_wrt);
    goto done;
  }
  for (int k = 0; k < n_wrt; k++) { /* grads come out in wrt (= input) order */
    char want[256];
    snprintf(want, sizeof want, "grad_%s", g->inputs.data[wrt_idx[k]]->name);
    if (strcmp(g->outputs.data[n_out0 + k]->name, want) != 0) {
      s = aicc_errorf(AICC_ERR_INTERNAL, "output %s, expected %s", g->outputs.data[n_out0 + k]->name, want);
      goto done;
    }
  }
  in = calloc((size_t)n_in, sizeof *in);
  out = calloc((size_t)n_out, sizeof *out);
  double lo = gc->lo || gc->hi ? gc->lo : -1, hi = gc->lo || gc->hi ? gc->hi : 1;
  for (int i = 0; i < n_in; i++) {
    const aicc_type *t = &g->inputs.data[i]->type;
    int64_t dims[AICC_MAX_RANK];
    for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d].size;
    if ((s = aicc_tensor_create(t->dtype, t->rank, dims, &in[i]))) goto done;
    for (int64_t e = 0; e < aicc_tensor_numel(in[i]); e++) {
      if (aicc_dtype_is_float(t->dtype))
        aicc_tensor_set_f64(in[i], e, i >= n_in0 ? 2 * urand() - 1 : lo + (hi - lo) * urand());
      else
        aicc_tensor_set_i64(in[i], e, gc->ilo + (int64_t)(urand() * (double)(gc->ihi - gc->ilo)));
    }
  }
  aicc_tensor *seed = gc->scalar_loss ? NULL : in[n_in - 1];
  if ((s = run_all(m, in, n_in, out, n_out))) goto done;
  aicc_tensor **grads = calloc((size_t)n_wrt, sizeof *grads);
  for (int k = 0; k < n_wrt; k++) grads[k] = aicc_tensor_retain(out[n_out0 + k]);
  release_all(out, n_out);
  for (int k = 0; k < n_wrt && !s; k++) {
    aicc_tensor *x = in[wrt_idx[k]];
    double h = x->dtype == AICC_DTYPE_F64 ? 1e-5 : 1e-2;
    for (int64_t e = 0; e < aicc_tensor_numel(x) && !s; e++) {
      double x0 = aicc_tensor_get_f64(x, e), f[2], xs[2];
      for (int side = 0; side < 2 && !s; side++) {
        aicc_tensor_set_f64(x, e, side ? x0 - h : x0 + h);
        xs[side] = aicc_tensor_get_f64(x, e); /* what the dtype holds */
        if (!(s = run_all(m, in, n_in, out, n_out))) f[side] = objective(out[0], seed);
        release_all(out, n_out);
      }
      aicc_tensor_set_f64(x, e, x0);
      if (s) break;
      double fd = (f[0] - f[1]) / (xs[0] - xs[1]);
      double an = aicc_tensor_get_f64(grads[k], e) * (corrupt ? corrupt : 1.0);
      double den = fmax(fmax(fabs(fd), fabs(an)), 1e-3);
      double rel = fabs(fd - an) / den;
      if (!(rel <= *max_rel)) *max_rel = rel; /* NaN sticks */
      ++*n_checked;
    }
  }
  release_all(grads, n_wrt);
  free(grads);
done:
  if (in) release_all(in, n_in);
  free(in);
  free(out);
  aicc_model_destroy(m);
  return s;
}

static int expect_error(const char *what, const char *ir, const char *loss, bool seed,
                        const char *want1, const char *want2) {
  gcase gc = {what, ir};
  aicc_model *m = NULL;
  aicc_status s = parse_case(&gc, &m);
  int bad = 0;
  if (s) {
    printf("FAIL %s: parse: %s\n", what, aicc_status_message(s));
    bad = 1;
  } else {
    aicc_vjp_spec spec = {.loss = loss, .seed_input = seed};
    const char *x = "x";
    spec.wrt = &x, spec.n_wrt = 1;
    s = aicc_autodiff_vjp(m, &spec);
    const char *msg = s ? aicc_status_message(s) : "";
    if (!s || !strstr(msg, want1) || (want2 && !strstr(msg, want2))) {
      printf("FAIL %s: got '%s'\n", what, s ? msg : "success");
      bad = 1;
    } else {
      printf("PASS %s: %s\n", what, msg);
    }
  }
  aicc_status_free(s);
  aicc_model_destroy(m);
  return bad;
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  const double tol = 1e-6;
  int failed = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    double rel;
    int n;
    aicc_status s = check_case(&cases[i], 0, &rel, &n);
    if (s || !(rel <= tol) || n == 0) {
      printf("FAIL %-18s %s max_rel=%.3g (%d elements)\n", cases[i].name,
             s ? aicc_status_message(s) : "", rel, n);
      failed++;
    } else {
      printf("PASS %-18s max_rel=%.3g (%d elements)\n", cases[i].name, rel, n);
    }
    aicc_status_free(s);
  }
  if (!filter) {
    /* The checker must reject a gradient that is 1% off. */
    double rel;
    int n;
    aicc_status s = check_case(&cases[0], 1.01, &rel, &n);
    if (s || rel <= tol) {
      printf("FAIL checker_catches_wrong_gradient: max_rel=%.3g\n", rel);
      failed++;
    } else {
      printf("PASS checker_catches_wrong_gradient: max_rel=%.3g\n", rel);
    }
    aicc_status_free(s);
    failed += expect_error("no_rule", G("%x: f64[3]", "%s = Sin(%x) name=\"sine\"\n%y = Exp(%s)\nreturn %y\n"),
                           "y", true, "no gradient rule for Sin", "'sine'");
    failed += expect_error("loss_not_scalar", G("%x: f64[3]", "%y = Exp(%x)\nreturn %y\n"), "y", false,
                           "must hold one element", NULL);
    failed += expect_error("loss_not_float", G("%x: f64[3]", "%y = Shape(%x)\nreturn %y\n"), "y", true,
                           "not a float tensor", NULL);
    /* An op without a rule off the path is fine: Sin feeds another output. */
    gcase off = {"off_path", G("%x: f64[3], %u: f64[3]",
                               "%y = Exp(%x)\n%s = Sin(%u)\nreturn %y, %s\n")};
    double r2;
    int n2;
    s = check_case(&off, 0, &r2, &n2);
    if (s || !(r2 <= tol)) {
      printf("FAIL off_path: %s\n", s ? aicc_status_message(s) : "");
      failed++;
    } else {
      printf("PASS off_path max_rel=%.3g\n", r2);
    }
    aicc_status_free(s);
  }
  printf("%d failed\n", failed);
  return failed ? 1 : 0;
}
