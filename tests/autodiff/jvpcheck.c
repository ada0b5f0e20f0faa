/* Checks of the forward-mode transform (src/autodiff/jvp.c): for each small
 * text-IR graph, the JVP graph and the VJP graph (seed input) run by the
 * interpreter must satisfy <J v, u> = <v, J^T u> for random v and u (in
 * float64 where the op allows), and J v must match central differences
 * along v. Also checks the error paths and that the checker itself rejects
 * a slightly wrong product.
 * Usage: jvpcheck [case-name-substring]. Prints one line per case. */
#include "autodiff/autodiff.h"
#include "interp/interp.h"
#include "ir/text.h"
#include "ops/jvp_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jcase {
  const char *name;
  const char *ir;   /* body of the graph (header and opsets added) */
  int opset;        /* 0: 18 */
  double lo, hi;    /* range of random float inputs (0,0: -1..1) */
  int64_t ilo, ihi; /* range of random integer inputs, [ilo, ihi) */
  const char *wrt;  /* "a,b": values with tangents; NULL: every float graph input */
  bool fd_only;     /* the op has no VJP rule: differences only */
} jcase;

#define G(sig, body) "graph main(" sig ") {\n" body "}\n"
#define R(...) "%y = " __VA_ARGS__ "\nreturn %y\n"

static const jcase cases[] = {
    /* elementwise: the VJP rule with dy = tangent, Expand for broadcast inputs */
    {"add_bcast", G("%a: f64[2,3,4], %b: f64[3,1]", R("Add(%a, %b)"))},
    {"add_scalar", G("%a: f64[], %b: f64[2,3]", R("Add(%a, %b)"))},
    {"sub_bcast", G("%a: f64[2,1,4], %b: f64[3,4]", R("Sub(%a, %b)"))},
    {"mul_bcast", G("%a: f64[2,3], %b: f64[3]", R("Mul(%a, %b)"))},
    {"mul_both_bcast", G("%a: f64[2,1,4], %b: f64[3,1]", R("Mul(%a, %b)"))},
    {"div_bcast", G("%a: f64[2,3], %b: f64[1,3]", R("Div(%a, %b)")), 0, 0.5, 2.0},
    {"div_scalar_num", G("%a: f64[], %b: f64[2,3]", R("Div(%a, %b)")), 0, 0.5, 2.0},
    {"neg", G("%x: f64[3,4]", R("Neg(%x)"))},
    {"exp", G("%x: f64[3,4]", R("Exp(%x)"))},
    {"log", G("%x: f64[3,4]", R("Log(%x)")), 0, 0.5, 2.0},
    {"sqrt", G("%x: f64[3,4]", R("Sqrt(%x)")), 0, 0.5, 2.0},
    {"tanh", G("%x: f64[3,4]", R("Tanh(%x)"))},
    {"sigmoid", G("%x: f64[3,4]", R("Sigmoid(%x)"))},
    {"relu", G("%x: f64[3,4]", R("Relu(%x)"))},
    {"identity", G("%x: f64[3]", R("Identity(%x)"))},
    {"cast_f32_f64", G("%x: f32[5]", "%c = Cast(%x) {to=11}\n" R("Mul(%c, %c)"))},
    {"cast_f64_f32", G("%x: f64[5]", "%c = Cast(%x) {to=1}\n" R("Mul(%c, %c)"))},
    {"where_bcast", G("%k: i64[2,1], %a: f64[2,3], %b: f64[3]",
                      "%c = Cast(%k) {to=9}\n" R("Where(%c, %a, %b)")), 0, 0, 0, 0, 2},
    {"max_bcast", G("%a: f64[2,3], %b: f64[3]", R("Max(%a, %b)"))},
    {"min_bcast", G("%a: f64[2,1,3], %b: f64[4,1]", R("Min(%a, %b)"))},
    {"max_three", G("%a: f64[2,3], %b: f64[2,3], %c: f64[3]", R("Max(%a, %b, %c)"))},
    {"abs", G("%x: f64[3,4]", R("Abs(%x)"))},
    {"pow_bcast", G("%a: f64[2,3], %b: f64[3]", R("Pow(%a, %b)")), 0, 0.5, 2.0},
    {"pow_base_bcast", G("%a: f64[3], %b: f64[2,3]", R("Pow(%a, %b)")), 0, 0.5, 2.0},
    {"pow_int_exp", G("%a: f64[2,3]", "init %e = dense<i64[]> [3]\n" R("Pow(%a, %e)"))},
    {"leakyrelu", G("%x: f64[3,4]", R("LeakyRelu(%x) {alpha=0.2}"))},
    {"elu", G("%x: f64[3,4]", R("Elu(%x) {alpha=0.7}"))},
    {"softplus", G("%x: f64[3,4]", R("Softplus(%x)"))},
    {"dropout_infer", G("%x: f64[3,4]", R("Dropout(%x)"))},
    {"dropout_train", G("%x: f64[4,5]", "init %r = dense<f64[]> [0.3]\ninit %t = dense<bool[]> [1]\n"
                                        "%y, %m = Dropout(%x, %r, %t) {seed=7}\nreturn %y\n")},
    {"dropout_v10", G("%x: f64[3,4]", R("Dropout(%x) {ratio=0.2}")), 10},
    /* linear: the op applied to the tangent */
    {"reshape", G("%x: f64[2,6]", "init %s = dense<i64[2]> [3, 4]\n" R("Reshape(%x, %s)"))},
    {"transpose", G("%x: f64[2,3,4]", R("Transpose(%x) {perm=[2, 0, 1]}"))},
    {"transpose_default", G("%x: f64[2,3,4]", R("Transpose(%x)"))},
    {"flatten", G("%x: f64[2,3,4]", R("Flatten(%x) {axis=2}"))},
    {"unsqueeze", G("%x: f64[2,3]", "init %a = dense<i64[1]> [1]\n" R("Unsqueeze(%x, %a)"))},
    {"squeeze", G("%x: f64[2,1,3]", "init %a = dense<i64[1]> [1]\n" R("Squeeze(%x, %a)"))},
    {"unsqueeze_v11", G("%x: f64[2,3]", R("Unsqueeze(%x) {axes=[0, 3]}")), 11},
    {"reducesum", G("%x: f64[2,3,4]", "init %a = dense<i64[1]> [1]\n" R("ReduceSum(%x, %a) {keepdims=0}"))},
    {"reducesum_keep", G("%x: f64[2,3,4]", "init %a = dense<i64[2]> [0, -1]\n" R("ReduceSum(%x, %a)"))},
    {"reducesum_all", G("%x: f64[2,3]", R("ReduceSum(%x) {keepdims=0}"))},
    {"reducesum_v11", G("%x: f64[2,3,4]", R("ReduceSum(%x) {axes=[1], keepdims=0}")), 11},
    {"reducemean", G("%x: f64[2,3,4]", "init %a = dense<i64[2]> [0, 2]\n" R("ReduceMean(%x, %a) {keepdims=0}"))},
    {"reducemean_all", G("%x: f64[2,3]", R("ReduceMean(%x)"))},
    {"concat", G("%a: f64[2,3], %b: f64[2,2], %c: f64[2,1]", R("Concat(%a, %b, %c) {axis=-1}"))},
    {"concat_partial", G("%a: f64[2,3], %b: f64[2,2], %c: f64[2,1]", R("Concat(%a, %b, %c) {axis=1}")),
     0, 0, 0, 0, 0, "a,c"},
    {"concat_v9", G("%a: f64[1,3], %b: f64[2,3]", R("Concat(%a, %b) {axis=0}")), 9},
    {"gather", G("%d: f64[5,3], %i: i64[6]", R("Gather(%d, %i)")), 0, 0, 0, -5, 5},
    {"gather_axis1", G("%d: f64[2,5,3], %i: i64[2,2]", R("Gather(%d, %i) {axis=1}")), 0, 0, 0, 0, 5},
    {"expand", G("%x: f64[3,1]", "init %s = dense<i64[3]> [2, 3, 4]\n" R("Expand(%x, %s)"))},
    {"expand_lower", G("%x: f64[2,3,4]", "init %s = dense<i64[2]> [1, 4]\n" R("Expand(%x, %s)"))},
    {"slice", G("%x: f64[4,6]", "init %b = dense<i64[2]> [1, 0]\ninit %e = dense<i64[2]> [3, 5]\n"
                                R("Slice(%x, %b, %e)"))},
    {"slice_steps", G("%x: f64[5,7,2]", "init %b = dense<i64[2]> [-1, 1]\ninit %e = dense<i64[2]> [-6, 7]\n"
                                        "init %a = dense<i64[2]> [0, -2]\ninit %s = dense<i64[2]> [-2, 3]\n"
                                        R("Slice(%x, %b, %e, %a, %s)"))},
    {"slice_v9", G("%x: f64[4,6]", R("Slice(%x) {starts=[1], ends=[100], axes=[1]}")), 9},
    {"split_both", G("%x: f64[2,6]", "%a, %b = Split(%x) {axis=1, num_outputs=2}\n"
                                     "%m = Mul(%a, %b)\n" R("Add(%m, %a)"))},
    {"split_one_used", G("%x: f64[2,6]", "init %s = dense<i64[3]> [1, 2, 3]\n"
                                         "%a, %b, %c = Split(%x, %s) {axis=-1}\n" R("Mul(%b, %b)"))},
    {"pad", G("%x: f64[2,3]", "init %p = dense<i64[4]> [1, 0, 0, 2]\n" R("Pad(%x, %p)"))},
    {"pad_value", G("%x: f64[4,3]", "init %p = dense<i64[4]> [1, -1, -1, 2]\ninit %v = dense<f64[]> [0.5]\n"
                                    R("Pad(%x, %p, %v)"))},
    {"pad_axes", G("%x: f64[2,3,2]", "init %p = dense<i64[2]> [2, 1]\ninit %a = dense<i64[1]> [-2]\n"
                                     R("Pad(%x, %p, _, %a)"))},
    {"pad_v10_value", G("%x: f64[2,3]", R("Pad(%x) {pads=[0, 1, 2, 0], value=1.5}")), 10},
    {"pad_reflect_fd", G("%x: f64[3,4]", "init %p = dense<i64[4]> [1, 2, 1, 1]\n"
                                         R("Pad(%x, %p) {mode=\"reflect\"}")), 0, 0, 0, 0, 0, NULL, true},
    {"avgpool", G("%x: f64[2,2,4,6]", R("AveragePool(%x) {kernel_shape=[2, 3], strides=[2, 3]}"))},
    {"avgpool_pad", G("%x: f64[1,2,5,5]",
                      R("AveragePool(%x) {kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]}"))},
    {"avgpool_pad_incl", G("%x: f64[1,2,5,4]", R("AveragePool(%x) {kernel_shape=[3, 2], pads=[1, 0, 1, 1], "
                                                 "count_include_pad=1}"))},
    {"nll_mean", G("%x: f64[3,4], %t: i64[3]", R("NegativeLogLikelihoodLoss(%x, %t)")), 0, 0, 0, 0, 4},
    {"nll_none", G("%x: f64[3,4], %t: i64[3]", R("NegativeLogLikelihoodLoss(%x, %t) {reduction=\"none\"}")),
     0, 0, 0, 0, 4},
    {"nll_weight_ignore", G("%x: f64[2,4,3], %t: i64[2,3]", "init %w = dense<f64[4]> [0.5, 1.5, 1.0, 2.0]\n"
                                                            R("NegativeLogLikelihoodLoss(%x, %t, %w) {ignore_index=1}")),
     0, 0, 0, 0, 4},
    /* multilinear: one term per factor, the bias in the first */
    {"matmul_2d", G("%a: f64[3,4], %b: f64[4,5]", R("MatMul(%a, %b)"))},
    {"matmul_batched", G("%a: f64[2,1,3,4], %b: f64[3,4,2]", R("MatMul(%a, %b)"))},
    {"matmul_vec_a", G("%a: f64[4], %b: f64[2,4,3]", R("MatMul(%a, %b)"))},
    {"matmul_vec_b", G("%a: f64[2,3,4], %b: f64[4]", R("MatMul(%a, %b)"))},
    {"matmul_vec_vec", G("%a: f64[4], %b: f64[4]", R("MatMul(%a, %b)"))},
    {"matmul_b_only", G("%a: f64[3,4], %b: f64[4,5]", R("MatMul(%a, %b)")), 0, 0, 0, 0, 0, "b"},
    {"gemm", G("%a: f64[3,4], %b: f64[4,5], %c: f64[5]", R("Gemm(%a, %b, %c)"))},
    {"gemm_transA", G("%a: f64[4,3], %b: f64[4,5], %c: f64[3,1]",
                      R("Gemm(%a, %b, %c) {transA=1, alpha=0.5, beta=2.0}"))},
    {"gemm_transB", G("%a: f64[3,4], %b: f64[5,4]", R("Gemm(%a, %b) {transB=1, alpha=1.5}"))},
    {"gemm_transAB", G("%a: f64[4,3], %b: f64[5,4], %c: f64[3,5]",
                       R("Gemm(%a, %b, %c) {transA=1, transB=1, beta=-0.5}"))},
    {"gemm_bias_only", G("%a: f64[3,4], %b: f64[4,5], %c: f64[5]", R("Gemm(%a, %b, %c) {beta=0.5}")),
     0, 0, 0, 0, 0, "c"},
    {"gemm_no_bias_tan", G("%a: f64[3,4], %b: f64[4,5], %c: f64[5]", R("Gemm(%a, %b, %c)")),
     0, 0, 0, 0, 0, "a,b"},
    {"conv", G("%x: f64[2,3,5,5], %w: f64[4,3,3,3], %b: f64[4]", R("Conv(%x, %w, %b)"))},
    {"conv_stride_pad", G("%x: f64[1,2,6,5], %w: f64[3,2,3,2]", R("Conv(%x, %w) {strides=[2, 2], pads=[1, 0, 1, 1]}"))},
    {"conv_dilation", G("%x: f64[1,2,7,6], %w: f64[2,2,2,3]", R("Conv(%x, %w) {dilations=[2, 1], strides=[1, 2]}"))},
    {"conv_same", G("%x: f64[1,1,5,4], %w: f64[2,1,3,3]", R("Conv(%x, %w) {auto_pad=\"SAME_UPPER\", strides=[2, 1]}"))},
    {"conv_group_data", G("%x: f64[1,4,4,4], %w: f64[2,2,3,3]", R("Conv(%x, %w) {group=2, pads=[1, 1, 0, 0]}")),
     0, 0, 0, 0, 0, "x"},
    {"conv_1d", G("%x: f64[2,2,7], %w: f64[3,2,3]", R("Conv(%x, %w) {strides=[3], pads=[2, 1]}"))},
    {"conv_bias_only", G("%x: f64[1,2,4,4], %w: f64[3,2,3,3], %b: f64[3]", R("Conv(%x, %w, %b)")),
     0, 0, 0, 0, 0, "b"},
    /* explicit rules */
    {"softmax", G("%x: f64[2,3,4]", R("Softmax(%x) {axis=1}"))},
    {"softmax_v11", G("%x: f64[2,3,4]", R("Softmax(%x) {axis=1}")), 11},
    {"logsoftmax", G("%x: f64[2,3,4]", R("LogSoftmax(%x)"))},
    {"logsoftmax_v11", G("%x: f64[2,3,4]", R("LogSoftmax(%x) {axis=1}")), 11},
    {"reducemax", G("%x: f64[2,3,4]", "init %a = dense<i64[1]> [1]\n" R("ReduceMax(%x, %a) {keepdims=0}"))},
    {"reducemax_multi", G("%x: f64[2,3,4]", "init %a = dense<i64[2]> [0, 2]\n" R("ReduceMax(%x, %a)"))},
    {"reducemax_all", G("%x: f64[3,4]", R("ReduceMax(%x) {keepdims=0}"))},
    {"reducemax_v11", G("%x: f64[3,4]", R("ReduceMax(%x) {axes=[0]}")), 11},
    {"maxpool", G("%x: f64[2,2,4,5]", R("MaxPool(%x) {kernel_shape=[2, 2]}"))},
    {"maxpool_overlap", G("%x: f64[1,2,5,5]", R("MaxPool(%x) {kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]}"))},
    {"batchnorm", G("%x: f64[2,3,2,2], %s: f64[3], %b: f64[3], %m: f64[3], %v: f64[3]",
                    R("BatchNormalization(%x, %s, %b, %m, %v) {epsilon=0.01}")), 0, 0.5, 2.0},
    {"batchnorm_2d", G("%x: f64[4,3], %s: f64[3], %b: f64[3], %m: f64[3], %v: f64[3]",
                       R("BatchNormalization(%x, %s, %b, %m, %v)")), 0, 0.5, 2.0},
    {"batchnorm_bias_only", G("%x: f64[2,3,2,2], %s: f64[3], %b: f64[3], %m: f64[3], %v: f64[3]",
                              R("BatchNormalization(%x, %s, %b, %m, %v)")), 0, 0.5, 2.0, 0, 0, "b"},
    {"layernorm", G("%x: f64[2,3,4], %s: f64[4], %b: f64[4]", R("LayerNormalization(%x, %s, %b)"))},
    {"layernorm_axis1", G("%x: f64[2,3,4], %s: f64[3,4]", R("LayerNormalization(%x, %s) {axis=1, epsilon=0.001}"))},
    {"layernorm_bias_only", G("%x: f64[2,3,4], %s: f64[4], %b: f64[4]", R("LayerNormalization(%x, %s, %b)")),
     0, 0, 0, 0, 0, "b"},
    {"sce_mean", G("%x: f64[3,4], %t: i64[3]", R("SoftmaxCrossEntropyLoss(%x, %t)")), 0, 0, 0, 0, 4},
    {"sce_sum_3d", G("%x: f64[2,4,3], %t: i64[2,3]", R("SoftmaxCrossEntropyLoss(%x, %t) {reduction=\"sum\"}")),
     0, 0, 0, 0, 4},
    {"sce_none", G("%x: f64[3,4], %t: i64[3]", R("SoftmaxCrossEntropyLoss(%x, %t) {reduction=\"none\"}")),
     0, 0, 0, 0, 4},
    {"sce_weight_ignore", G("%x: f64[2,4,3], %t: i64[2,3]", "init %w = dense<f64[4]> [0.5, 1.5, 1.0, 2.0]\n"
                                                            R("SoftmaxCrossEntropyLoss(%x, %t, %w) {ignore_index=1}")),
     0, 0.5, 2.0, 0, 4},
    {"sce_logprob", G("%x: f64[3,4], %t: i64[3]",
                      "%l, %lp = SoftmaxCrossEntropyLoss(%x, %t)\n%q = Mul(%lp, %lp)\n"
                      "%s = ReduceSum(%q) {keepdims=0}\n" R("Add(%l, %s)")), 0, 0, 0, 0, 4},
    /* composites */
    {"multi_use", G("%x: f64[3], %w: f64[3]", "%a = Mul(%x, %w)\n%b = Exp(%x)\n%c = Mul(%a, %b)\n" R("Add(%c, %x)"))},
    {"opset12_forms", G("%a: f64[4], %b: f64[2,4,3], %c: f64[3]", "%m = MatMul(%a, %b)\n" R("Add(%m, %c)")), 12},
    {"mlp_inits", G("%x: f64[4,5], %t: i64[4]",
                    "init %W1 = dense<f64[6,5]> elided\ninit %b1 = dense<f64[6]> elided\n"
                    "init %W2 = dense<f64[6,3]> elided\ninit %b2 = dense<f64[3]> elided\n"
                    "%h = Gemm(%x, %W1, %b1) {transB=1}\n%r = Relu(%h)\n%z = Gemm(%r, %W2, %b2)\n"
                    R("SoftmaxCrossEntropyLoss(%z, %t)")),
     0, 0, 0, 0, 3, "W1,b1,W2,b2"},
    {"mlp_layernorm", G("%x: f64[4,5], %W1: f64[5,6], %s: f64[6], %W2: f64[6,3]",
                        "%h = MatMul(%x, %W1)\n%n = LayerNormalization(%h, %s)\n%a = Tanh(%n)\n"
                        "%z = MatMul(%a, %W2)\n" R("LogSoftmax(%z)"))},
    {"cnn", G("%x: f64[2,1,6,6], %t: i64[2], %W: f64[3,1,3,3], %c: f64[3], %V: f64[4,12], %d: f64[4]",
              "%h = Conv(%x, %W, %c) {pads=[1, 1, 1, 1]}\n%r = Relu(%h)\n"
              "%p = MaxPool(%r) {kernel_shape=[2, 2], strides=[2, 2]}\n"
              "%q = AveragePool(%p) {kernel_shape=[2, 2], strides=[1, 1]}\n%f = Flatten(%q)\n"
              "%z = Gemm(%f, %V, %d) {transB=1}\n" R("SoftmaxCrossEntropyLoss(%z, %t)")),
     0, 0, 0, 0, 4},
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static aicc_status parse_case(const jcase *jc, aicc_model **m) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return aicc_errorf(AICC_ERR_NOMEM, "open_memstream");
  fprintf(f, "aicc.model ir_version=8 opsets={\"\":%d}\n%s", jc->opset ? jc->opset : 18, jc->ir);
  fclose(f);
  aicc_status s = aicc_model_parse(text, len, jc->name, m);
  free(text);
  if (!s) s = aicc_model_infer(*m);
  return s;
}

/* A tensor of type t with random floats in [lo, hi) or ints in [ilo, ihi). */
static aicc_status random_tensor(const aicc_type *t, double lo, double hi, int64_t ilo, int64_t ihi,
                                 aicc_tensor **out) {
  int64_t dims[AICC_MAX_RANK];
  if (!aicc_type_is_static(t)) return aicc_errorf(AICC_ERR_INVALID, "a test value has no static type");
  for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d].size;
  AICC_TRY(aicc_tensor_create(t->dtype, t->rank, dims, out));
  for (int64_t e = 0; e < aicc_tensor_numel(*out); e++) {
    if (aicc_dtype_is_float(t->dtype)) aicc_tensor_set_f64(*out, e, lo + (hi - lo) * urand());
    else aicc_tensor_set_i64(*out, e, ilo + (int64_t)(urand() * (double)(ihi - ilo)));
  }
  return NULL;
}

static void release_all(aicc_tensor **t, int n) {
  for (int i = 0; i < n; i++) {
    aicc_tensor_release(t[i]);
    t[i] = NULL;
  }
}

/* <a, b>; *mag gets sum |a_i b_i|. */
static double dot(const aicc_tensor *a, const aicc_tensor *b, double *mag) {
  double s = 0;
  for (int64_t i = 0; i < aicc_tensor_numel(a); i++) {
    double p = aicc_tensor_get_f64(a, i) * aicc_tensor_get_f64(b, i);
    s += p;
    if (mag) *mag += fabs(p);
  }
  return s;
}

enum { MAX_WRT = 16 };

typedef struct result {
  double ip_rel, fd_rel; /* NaN-sticky maxima; -1: not checked */
  int n_wrt;
  bool f64; /* every value with a tangent and the output are float64 */
} result;

typedef struct run_state {
  const jcase *jc;
  aicc_model *a, *b;    /* JVP model, VJP model */
  const char *wrt[MAX_WRT];
  char names[512];
  int n_wrt, n_in0, n_out0;
  aicc_tensor *px[64];  /* primal inputs of the original graph */
  aicc_tensor *v[MAX_WRT], *u, *jv;
  aicc_tensor *perturb[MAX_WRT]; /* where wrt k's primal lives in model a */
} run_state;

static aicc_status split_wrt(run_state *r) {
  const jcase *jc = r->jc;
  aicc_graph *g = r->a->graph;
  if (!jc->wrt) {
    for (int i = 0; i < r->n_in0 && r->n_wrt < MAX_WRT; i++)
      if (aicc_dtype_is_float(g->inputs.data[i]->type.dtype)) r->wrt[r->n_wrt++] = g->inputs.data[i]->name;
    return NULL;
  }
  snprintf(r->names, sizeof r->names, "%s", jc->wrt);
  for (char *p = strtok(r->names, ","); p && r->n_wrt < MAX_WRT; p = strtok(NULL, ",")) r->wrt[r->n_wrt++] = p;
  return NULL;
}

/* Fills the wrt values that are plain initializers (elided in the text)
 * with the same random data in both models. */
static aicc_status fill_inits(run_state *r, double lo, double hi) {
  for (int k = 0; k < r->n_wrt; k++) {
    aicc_value *va = aicc_graph_value_find(r->a->graph, r->wrt[k]);
    aicc_value *vb = r->b ? aicc_graph_value_find(r->b->graph, r->wrt[k]) : NULL;
    if (!va || !va->init) continue;
    for (int64_t e = 0; e < aicc_tensor_numel(va->init); e++) {
      double x = lo + (hi - lo) * urand();
      aicc_tensor_set_f64(va->init, e, x);
      if (vb && vb->init) aicc_tensor_set_f64(vb->init, e, x);
    }
  }
  return NULL;
}

/* Runs model a on px ++ v; returns its outputs (n_out0 + 1). */
static aicc_status run_jvp(run_state *r, aicc_tensor **out) {
  aicc_tensor *in[80];
  int n = 0;
  for (int i = 0; i < r->n_in0; i++) in[n++] = r->px[i];
  for (int k = 0; k < r->n_wrt; k++) in[n++] = r->v[k];
  for (int i = 0; i <= r->n_out0; i++) out[i] = NULL;
  return aicc_interp_run(r->a, in, n, out, r->n_out0 + 1);
}

/* Central differences of output 0 along v, against J v. */
static aicc_status fd_check(run_state *r, double h, double *rel) {
  aicc_tensor *ys[2] = {0}, *out[64];
  aicc_status s = NULL;
  for (int side = 0; side < 2 && !s; side++) {
    aicc_tensor *save[MAX_WRT] = {0};
    for (int k = 0; k < r->n_wrt && !s; k++) {
      aicc_tensor *x = r->perturb[k];
      if ((s = aicc_tensor_clone(x, &save[k]))) break;
      for (int64_t e = 0; e < aicc_tensor_numel(x); e++)
        aicc_tensor_set_f64(x, e, aicc_tensor_get_f64(x, e) + (side ? -h : h) * aicc_tensor_get_f64(r->v[k], e));
    }
    if (!s && !(s = run_jvp(r, out))) {
      s = aicc_tensor_clone(out[0], &ys[side]); /* outputs may alias inputs */
      release_all(out, r->n_out0 + 1);
    }
    for (int k = 0; k < r->n_wrt; k++) /* restore */
      if (save[k]) memcpy(r->perturb[k]->data, save[k]->data, save[k]->nbytes);
    release_all(save, r->n_wrt);
  }
  if (!s) {
    double err = 0, scale = 1e-3;
    for (int64_t e = 0; e < aicc_tensor_numel(r->jv); e++) {
      double fd = (aicc_tensor_get_f64(ys[0], e) - aicc_tensor_get_f64(ys[1], e)) / (2 * h);
      double an = aicc_tensor_get_f64(r->jv, e);
      double d = fabs(fd - an);
      if (!(d <= err)) err = d;
      scale = fmax(scale, fabs(an));
    }
    *rel = err / scale;
  }
  release_all(ys, 2);
  return s;
}

static aicc_status check_case(const jcase *jc, double corrupt, result *res) {
  run_state r = {.jc = jc};
  aicc_tensor *out[64] = {0}, *gout[64] = {0};
  aicc_status s = NULL;
  *res = (result){-1, -1, 0, true};
  if ((s = parse_case(jc, &r.a)) || (!jc->fd_only && (s = parse_case(jc, &r.b)))) goto done;
  aicc_graph *g = r.a->graph;
  r.n_in0 = (int)g->inputs.len, r.n_out0 = (int)g->outputs.len;
  if (r.n_in0 > 60 || r.n_out0 > 60) {
    s = aicc_errorf(AICC_ERR_INVALID, "too many inputs or outputs");
    goto done;
  }
  double lo = jc->lo || jc->hi ? jc->lo : -1, hi = jc->lo || jc->hi ? jc->hi : 1;
  if ((s = split_wrt(&r)) || (s = fill_inits(&r, lo, hi))) goto done;
  res->n_wrt = r.n_wrt;
  const char *yname = g->outputs.data[0]->name;
  aicc_jvp_spec js = {.wrt = r.wrt, .n_wrt = r.n_wrt, .of = &yname, .n_of = 1};
  if ((s = aicc_autodiff_jvp(r.a, &js)) || (s = aicc_model_verify(r.a))) goto done;
  if ((int)g->inputs.len != r.n_in0 + r.n_wrt || (int)g->outputs.len != r.n_out0 + 1) {
    s = aicc_errorf(AICC_ERR_INTERNAL, "JVP gave %zu inputs and %zu outputs", g->inputs.len, g->outputs.len);
    goto done;
  }
  if (!jc->fd_only) {
    aicc_vjp_spec vs = {.loss = yname, .seed_input = true, .wrt = r.wrt, .n_wrt = r.n_wrt};
    if ((s = aicc_autodiff_vjp(r.b, &vs)) || (s = aicc_model_verify(r.b))) goto done;
  }
  for (int i = 0; i < r.n_in0; i++)
    if ((s = random_tensor(&g->inputs.data[i]->type, lo, hi, jc->ilo, jc->ihi, &r.px[i]))) goto done;
  for (int k = 0; k < r.n_wrt; k++) {
    aicc_value *w = aicc_graph_value_find(g, r.wrt[k]);
    res->f64 &= w->type.dtype == AICC_DTYPE_F64;
    if ((s = random_tensor(&w->type, -1, 1, 0, 0, &r.v[k]))) goto done;
    r.perturb[k] = w->init;
    for (int i = 0; i < r.n_in0; i++)
      if (g->inputs.data[i] == w) r.perturb[k] = r.px[i];
  }
  res->f64 &= g->outputs.data[0]->type.dtype == AICC_DTYPE_F64;
  if ((s = random_tensor(&g->outputs.data[0]->type, -1, 1, 0, 0, &r.u))) goto done;
  if ((s = run_jvp(&r, out))) goto done;
  s = aicc_tensor_clone(out[r.n_out0], &r.jv);
  release_all(out, r.n_out0 + 1);
  if (s) goto done;
  if (aicc_tensor_numel(r.jv) != aicc_tensor_numel(r.u)) {
    s = aicc_errorf(AICC_ERR_INTERNAL, "J v has %lld elements, the output %lld",
                    (long long)aicc_tensor_numel(r.jv), (long long)aicc_tensor_numel(r.u));
    goto done;
  }
  if (!jc->fd_only) {
    aicc_tensor *in[80];
    int n = 0;
    for (int i = 0; i < r.n_in0; i++) in[n++] = r.px[i];
    in[n++] = r.u;
    if ((s = aicc_interp_run(r.b, in, n, gout, r.n_out0 + r.n_wrt))) goto done;
    double mag = 0, lhs = dot(r.jv, r.u, &mag) * (corrupt ? corrupt : 1.0), rhs = 0, mag2 = 0;
    for (int k = 0; k < r.n_wrt; k++) rhs += dot(r.v[k], gout[r.n_out0 + k], &mag2);
    mag = fmax(mag, mag2);
    if (mag == 0) {
      s = aicc_errorf(AICC_ERR_INTERNAL, "J v and u are orthogonal term by term: the case tests nothing");
      goto done;
    }
    res->ip_rel = fabs(lhs - rhs) / fmax(fmax(fabs(lhs), fabs(rhs)), 1e-12 * mag);
  }
  s = fd_check(&r, res->f64 ? 1e-5 : 1e-3, &res->fd_rel);
done:
  release_all(gout, r.n_out0 + r.n_wrt);
  release_all(r.px, r.n_in0);
  release_all(r.v, r.n_wrt);
  aicc_tensor_release(r.u);
  aicc_tensor_release(r.jv);
  aicc_model_destroy(r.a);
  aicc_model_destroy(r.b);
  return s;
}

static int expect_error(const char *what, const char *ir, const char *wrt, const char *want1,
                        const char *want2) {
  jcase jc = {what, ir};
  aicc_model *m = NULL;
  aicc_status s = parse_case(&jc, &m);
  int bad = 0;
  if (s) {
    printf("FAIL %s: parse: %s\n", what, aicc_status_message(s));
    bad = 1;
  } else {
    size_t n_in = m->graph->inputs.len, n_out = m->graph->outputs.len;
    aicc_jvp_spec spec = {.wrt = &wrt, .n_wrt = 1};
    s = aicc_autodiff_jvp(m, &spec);
    const char *msg = s ? aicc_status_message(s) : "";
    if (!s || !strstr(msg, want1) || (want2 && !strstr(msg, want2))) {
      printf("FAIL %s: got '%s'\n", what, s ? msg : "success");
      bad = 1;
    } else if (m->graph->inputs.len != n_in || m->graph->outputs.len != n_out) {
      printf("FAIL %s: the failed transform changed the graph's signature\n", what);
      bad = 1;
    } else {
      printf("PASS %s: %s\n", what, msg);
    }
  }
  aicc_status_free(s);
  aicc_model_destroy(m);
  return bad;
}

/* An op without a forward rule off the path is fine, and an output that
 * does not depend on the tangents gets zeros. */
static int check_off_path(void) {
  jcase jc = {"off_path", G("%x: f64[3], %u: f64[3]", "%y = Exp(%x)\n%s = Sin(%u)\nreturn %y, %s\n")};
  aicc_model *m = NULL;
  aicc_tensor *in[3] = {0}, *out[4] = {0};
  const char *x = "x";
  aicc_jvp_spec spec = {.wrt = &x, .n_wrt = 1};
  aicc_status s = parse_case(&jc, &m);
  if (!s) s = aicc_autodiff_jvp(m, &spec);
  if (!s) s = aicc_model_verify(m);
  aicc_type t = aicc_type_tensor(AICC_DTYPE_F64, 1, (int64_t[]){3});
  for (int i = 0; i < 3 && !s; i++) s = random_tensor(&t, 0.5, 1.5, 0, 0, &in[i]);
  if (!s && m->graph->outputs.len != 4) s = aicc_errorf(AICC_ERR_INTERNAL, "%zu outputs", m->graph->outputs.len);
  if (!s) s = aicc_interp_run(m, in, 3, out, 4);
  int bad = s != NULL;
  for (int e = 0; !s && e < 3; e++) { /* tan_y = exp(x) v, tan_s = 0 */
    double want = exp(aicc_tensor_get_f64(in[0], e)) * aicc_tensor_get_f64(in[2], e);
    bad |= fabs(aicc_tensor_get_f64(out[2], e) - want) > 1e-12 || aicc_tensor_get_f64(out[3], e) != 0.0;
  }
  printf("%s off_path_and_zero_tangent %s\n", bad ? "FAIL" : "PASS", s ? aicc_status_message(s) : "");
  aicc_status_free(s);
  release_all(in, 3);
  release_all(out, 4);
  aicc_model_destroy(m);
  return bad;
}

/* The default spec: tangents of the float graph inputs that are not
 * initializers (x, not w or the integer k), for every float output. */
static int check_defaults(void) {
  jcase jc = {"defaults", G("%x: f64[3], %k: i64[3]", "init %w = dense<f64[3]> [1.0, 2.0, -3.0]\n"
                                                       "%c = Cast(%k) {to=11}\n%m = Mul(%x, %w)\n"
                                                       "%y = Add(%m, %c)\n%s = Shape(%y)\nreturn %y, %s\n")};
  aicc_model *m = NULL;
  aicc_tensor *in[3] = {0}, *out[3] = {0};
  aicc_jvp_spec spec = {0};
  aicc_status s = parse_case(&jc, &m);
  if (!s) s = aicc_autodiff_jvp(m, &spec);
  if (!s) s = aicc_model_verify(m);
  if (!s && (m->graph->inputs.len != 3 || m->graph->outputs.len != 3 ||
             strcmp(m->graph->inputs.data[2]->name, "tan_x") != 0 ||
             strcmp(m->graph->outputs.data[2]->name, "tan_y") != 0))
    s = aicc_errorf(AICC_ERR_INTERNAL, "%zu inputs, %zu outputs", m->graph->inputs.len, m->graph->outputs.len);
  for (int i = 0; i < 3 && !s; i++) s = random_tensor(&m->graph->inputs.data[i]->type, -1, 1, 0, 5, &in[i]);
  if (!s) s = aicc_interp_run(m, in, 3, out, 3);
  int bad = s != NULL;
  static const double w[3] = {1.0, 2.0, -3.0};
  for (int e = 0; !s && e < 3; e++)
    bad |= fabs(aicc_tensor_get_f64(out[2], e) - w[e] * aicc_tensor_get_f64(in[2], e)) > 1e-15;
  printf("%s default_spec %s\n", bad ? "FAIL" : "PASS", s ? aicc_status_message(s) : "");
  aicc_status_free(s);
  release_all(in, 3);
  release_all(out, 3);
  aicc_model_destroy(m);
  return bad;
}

/* Every op with a gradient rule has a forward rule. */
static int check_coverage(void) {
#define NAME(op) #op,
  static const char *const ops[] = {AICC_GRAD_RULES(NAME)};
#undef NAME
  int missing = 0, n = (int)(sizeof ops / sizeof ops[0]);
  for (int i = 0; i < n; i++)
    if (!aicc_jvp_rule_find("", ops[i])) {
      printf("FAIL coverage: no forward rule for %s\n", ops[i]);
      missing++;
    }
  if (!missing) printf("PASS coverage: all %d ops with a VJP rule have a forward rule\n", n);
  return missing != 0;
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  int failed = 0, ran = 0, fd_only = 0;
  double worst_ip = 0, worst_fd = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const jcase *jc = &cases[i];
    if (filter && !strstr(jc->name, filter)) continue;
    result res;
    aicc_status s = check_case(jc, 0, &res);
    /* float32 values round the products and the differences */
    double tol_ip = res.f64 ? 1e-8 : 1e-5, tol_fd = res.f64 ? 1e-6 : 1e-3;
    bool ok = !s && (jc->fd_only || res.ip_rel <= tol_ip) && res.fd_rel <= tol_fd;
    printf("%s %-20s ip_rel=%-9.3g fd_rel=%-9.3g (%d tangent%s%s) %s\n", ok ? "PASS" : "FAIL", jc->name,
           res.ip_rel, res.fd_rel, res.n_wrt, res.n_wrt == 1 ? "" : "s", res.f64 ? "" : ", f32",
           s ? aicc_status_message(s) : "");
    failed += !ok;
    ran++;
    fd_only += jc->fd_only;
    if (!s && res.f64) {
      if (res.ip_rel > worst_ip) worst_ip = res.ip_rel;
      if (res.fd_rel > worst_fd) worst_fd = res.fd_rel;
    }
    aicc_status_free(s);
  }
  if (!filter) {
    /* The checker must reject a product that is one part in 10^6 off. */
    result res;
    aicc_status s = check_case(&cases[0], 1 + 1e-6, &res);
    bool caught = !s && res.ip_rel > 1e-8;
    printf("%s checker_catches_wrong_product: ip_rel=%.3g\n", caught ? "PASS" : "FAIL", res.ip_rel);
    failed += !caught;
    aicc_status_free(s);
    failed += expect_error("no_rule", G("%x: f64[3]", "%s = Sin(%x) name=\"sine\"\n%y = Exp(%s)\nreturn %y\n"),
                           "x", "no forward-mode (JVP) rule for Sin", "'sine'");
    failed += expect_error("no_value", G("%x: f64[3]", R("Exp(%x)")), "z", "no value 'z'", NULL);
    failed += expect_error("wrt_computed", G("%x: f64[3]", "%e = Exp(%x)\n" R("Exp(%e)")), "e",
                           "computed by a node", NULL);
    failed += expect_error("wrt_not_float", G("%x: i64[3], %z: f64[3]", "%c = Cast(%x) {to=11}\n" R("Add(%c, %z)")),
                           "x", "not a float tensor", NULL);
    failed += expect_error("name_taken", G("%x: f64[3], %tan_x: f64[3]", R("Add(%x, %tan_x)")), "x",
                           "'tan_x' exists already", NULL);
    failed += expect_error("pad_value_tangent", G("%x: f64[3], %v: f64[]", "init %p = dense<i64[2]> [1, 1]\n"
                                                                           R("Pad(%x, %p, %v)")),
                           "v", "no tangent rule for input 2", "(Pad)");
    failed += check_off_path();
    failed += check_defaults();
    failed += check_coverage();
    printf("%d cases (%d by differences only), worst float64 ip_rel=%.3g fd_rel=%.3g\n", ran, fd_only,
           worst_ip, worst_fd);
  }
  printf("%d failed\n", failed);
  return failed ? 1 : 0;
}
