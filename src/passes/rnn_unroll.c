/* Unrolls LSTM, GRU and RNN nodes of static sequence length into ops that the
 * compiled engine lowers (Gemm, MatMul, Split, Concat, elementwise), so the
 * recurrence runs as fused kernels instead of an extern reference step. A
 * legalization for the compiled engine only (compile/driver.c runs it before
 * the -O pipeline, whose folding then turns the weight slicing and
 * transposes into constants); the interpreter keeps the recurrent ops. A
 * node the rewrite does not cover is left as it is: results never change.
 *
 * Shape of the rewrite, per direction d (gates k of hidden size H):
 *   XP = X[T*B, I] W^T + (Wb + Rb)     one Gemm for all steps and gates,
 *   split into XP_k[t] pieces [B, H]   (per gate, then per step)
 *   per step t and gate k: pre = H_{t-1} R_k^T + XP_k[t]   (MatMul + Add)
 * One MatMul per gate (not one over all gates and a Split) keeps every gate
 * an anchor whose activation and the state update that follows are its
 * epilogue (passes/fuse.c grows a group from one producer), so an LSTM step
 * is five kernels: g; i*g; f*C + i*g; h(C); o*h(C) (GRU three, RNN one).
 * A zero initial state (absent, or a zero ConstantOfShape) drops the first
 * step's MatMuls (and, for C, its forget gate). Y stacks the H_t with
 * Concat; Y_h / Y_c are the last states. */
#include "ops/rnn_act.h"
#include "passes/pass.h"

#include "passes/rewrite_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Unrolling makes ~5 nodes per step and direction: past this many steps the
 * graph (and the generated code) grows too large to be worth it, and the
 * reference kernel's loop is left to run the node. */
enum { UNROLL_MAX_STEPS = 256 };
/* Split and Concat pieces per node: the compiled engine lowers nodes of at
 * most 64 operands, so longer sequences split/concat in two levels. */
enum { PIECES_MAX = 32 };

typedef aicc_rnn_cell rnn_kind;

typedef aicc_rnn_act act;

/* One rewrite in progress: the node's facts, then the values built. */
typedef struct unroll {
  aicc_graph *g;
  const aicc_node *n;
  rnn_kind kind;
  int64_t T, B, I, H, G, D;
  bool reverse_only, batch_first, lbr, input_forget, has_clip;
  float clip;
  act acts[6];
  aicc_value *X, *W, *R, *Bias, *H0, *C0, *P; /* H0/C0 NULL when zero */
  aicc_value *clip_lo, *clip_hi, *one;         /* made once, on first use */
} unroll;

/* --- reading the node --- */

/* NULL when the activations parse (ops/rnn_act.h), else why not. */
static const char *read_acts(unroll *u) {
  aicc_status s = aicc_rnn_read_acts(u->n, u->kind, u->D, u->acts);
  if (!s) return NULL;
  aicc_status_free(s);
  return "the activations do not parse (wrong length or an unknown function)";
}

static bool dims_are(const aicc_value *v, int rank, const int64_t *dims) {
  if (!v || v->type.kind != AICC_KIND_TENSOR || !aicc_type_is_static(&v->type) ||
      v->type.rank != rank)
    return false;
  for (int i = 0; i < rank; i++)
    if (v->type.dims[i].size != dims[i]) return false;
  return true;
}

static bool all_zero(const aicc_tensor *t) {
  if (!t || t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_float(t->dtype)) return false;
  for (int64_t i = 0, n = aicc_tensor_numel(t); i < n; i++)
    if (aicc_tensor_get_f64(t, i) != 0) return false;
  return true;
}

/* A state input that is known to be all zeros: a zero constant, or a
 * ConstantOfShape of a zero (or default) value. */
static bool is_zero(const aicc_value *v) {
  if (!v) return true;
  if (all_zero(aicc_rewrite_const(v))) return true;
  const aicc_node *p = aicc_rewrite_producer(v, "ConstantOfShape");
  if (!p) return false;
  const aicc_tensor *val = aicc_node_attr_tensor(p, "value");
  return !val || all_zero(val);
}

static aicc_value *input(const aicc_node *n, int i) { return i < n->n_inputs ? n->inputs[i] : NULL; }

/* NULL when the node is one the rewrite covers (u filled), else why not. */
static const char *check(aicc_graph *g, const aicc_node *n, unroll *u) {
  memset(u, 0, sizeof *u);
  u->g = g;
  u->n = n;
  if (strcmp(n->op_type, "LSTM") == 0) u->kind = AICC_RNN_LSTM;
  else if (strcmp(n->op_type, "GRU") == 0) u->kind = AICC_RNN_GRU;
  else u->kind = AICC_RNN_SIMPLE;
  /* The Split/Slice forms used below take their sizes as inputs (opset 13). */
  if (aicc_model_opset(g->model, "") < 13) return "model opset below 13";
  u->G = u->kind == AICC_RNN_LSTM ? 4 : u->kind == AICC_RNN_GRU ? 3 : 1;
  const char *dir = aicc_node_attr_string(n, "direction", "forward");
  if (strcmp(dir, "forward") == 0) u->D = 1;
  else if (strcmp(dir, "reverse") == 0) u->D = 1, u->reverse_only = true;
  else if (strcmp(dir, "bidirectional") == 0) u->D = 2;
  else return "unknown direction";
  u->batch_first = aicc_node_attr_int(n, "layout", 0) != 0;
  u->lbr = aicc_node_attr_int(n, "linear_before_reset", 0) != 0;
  u->input_forget = aicc_node_attr_int(n, "input_forget", 0) != 0;
  u->has_clip = aicc_node_attr(n, "clip") != NULL;
  u->clip = aicc_node_attr_float(n, "clip", 0);
  u->X = input(n, 0), u->W = input(n, 1), u->R = input(n, 2), u->Bias = input(n, 3);
  aicc_value *SL = input(n, 4), *H0 = input(n, 5);
  aicc_value *C0 = u->kind == AICC_RNN_LSTM ? input(n, 6) : NULL;
  u->P = u->kind == AICC_RNN_LSTM ? input(n, 7) : NULL;
  const aicc_type *xt = u->X ? &u->X->type : NULL;
  if (!xt || xt->kind != AICC_KIND_TENSOR || !aicc_type_is_static(xt) || xt->rank != 3)
    return "X is not a tensor of static rank-3 shape";
  if (xt->dtype != AICC_DTYPE_F32) return "X is not f32";
  u->T = xt->dims[u->batch_first ? 1 : 0].size;
  u->B = xt->dims[u->batch_first ? 0 : 1].size;
  u->I = xt->dims[2].size;
  if (u->T < 1 || u->T > UNROLL_MAX_STEPS) return "sequence length is 0 or above the unroll limit";
  if (u->B < 1 || u->I < 1) return "empty batch or input";
  if (!u->R || u->R->type.rank != 3 || !aicc_type_is_static(&u->R->type)) return "R not static";
  u->H = u->R->type.dims[2].size;
  int64_t D = u->D, GH = u->G * u->H, H = u->H, B = u->B;
  if (u->H < 1 || aicc_node_attr_int(n, "hidden_size", u->H) != u->H) return "hidden_size";
  if (!dims_are(u->W, 3, (int64_t[]){D, GH, u->I}) || !dims_are(u->R, 3, (int64_t[]){D, GH, H}))
    return "W or R has an unexpected shape";
  if (u->W->type.dtype != AICC_DTYPE_F32 || u->R->type.dtype != AICC_DTYPE_F32) return "dtype";
  if (u->Bias && (!dims_are(u->Bias, 2, (int64_t[]){D, 2 * GH}) ||
                  u->Bias->type.dtype != AICC_DTYPE_F32))
    return "B has an unexpected shape";
  if (u->P && (!dims_are(u->P, 2, (int64_t[]){D, 3 * H}) || u->P->type.dtype != AICC_DTYPE_F32))
    return "P has an unexpected shape";
  /* sequence_lens: only a constant that says every sequence is full. */
  if (SL) {
    const aicc_tensor *sl = aicc_rewrite_const(SL);
    if (!sl || aicc_tensor_numel(sl) != B) return "sequence_lens is not a constant";
    for (int64_t b = 0; b < B; b++)
      if (aicc_tensor_get_i64(sl, b) != u->T) return "sequence_lens shorter than the sequence";
  }
  int64_t hdims[3] = {D, B, H};
  if (u->batch_first) hdims[0] = B, hdims[1] = D;
  /* A zero state is dropped, so its declared type does not matter (a
   * ConstantOfShape of a Shape is typed only once folding ran). */
  u->H0 = is_zero(H0) ? NULL : H0;
  u->C0 = is_zero(C0) ? NULL : C0;
  if (u->H0 && (!dims_are(H0, 3, hdims) || H0->type.dtype != AICC_DTYPE_F32)) return "initial_h";
  if (u->C0 && (!dims_are(C0, 3, hdims) || C0->type.dtype != AICC_DTYPE_F32)) return "initial_c";
  const char *why = read_acts(u);
  if (why) return why;
  /* Outputs, when present, must have the types the rewrite produces. */
  int64_t ydims[4] = {u->T, D, B, H};
  if (u->batch_first) ydims[0] = B, ydims[1] = u->T, ydims[2] = D;
  for (int k = 0; k < n->n_outputs; k++) {
    const aicc_value *o = n->outputs[k];
    if (!o) continue;
    if (k > 2 || (k == 2 && u->kind != AICC_RNN_LSTM)) return "unexpected output";
    if (!dims_are(o, k == 0 ? 4 : 3, k == 0 ? ydims : hdims) || o->type.dtype != AICC_DTYPE_F32)
      return "an output has an unexpected type";
  }
  return NULL;
}

/* --- building --- */

/* Appends op(in) defining `target` when given, else a new value of the
 * given dims; the result in *out. */
static aicc_status emit(unroll *u, const char *op, aicc_value *const *in, int n_in,
                        aicc_value *target, int rank, const int64_t *dims, aicc_value **out,
                        aicc_node **node) {
  aicc_value *v = target;
  if (!v) {
    aicc_type t = aicc_type_tensor(AICC_DTYPE_F32, rank, dims);
    AICC_TRY(aicc_graph_value_add(u->g, "", &t, &v));
  }
  aicc_node *nd;
  AICC_TRY(aicc_graph_node_add(u->g, u->n->name, op, "", in, n_in, &v, 1, &nd));
  if (node) *node = nd;
  *out = v;
  return NULL;
}

/* A unary op or a binary one with broadcasting: the result has the shape
 * of the operand of larger rank (operands here broadcast right-aligned). */
static aicc_status ew(unroll *u, const char *op, aicc_value *a, aicc_value *b, aicc_value **out) {
  aicc_value *in[2] = {a, b};
  const aicc_type *t = !b || a->type.rank >= b->type.rank ? &a->type : &b->type;
  int64_t dims[AICC_MAX_RANK];
  for (int i = 0; i < t->rank; i++) dims[i] = t->dims[i].size;
  return emit(u, op, in, b ? 2 : 1, NULL, t->rank, dims, out, NULL);
}

static aicc_status scalar(unroll *u, float x, aicc_value **out) {
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_F32, 0, NULL, &t));
  aicc_tensor_set_f64(t, 0, x);
  return aicc_rewrite_const_new(u->g, t, out);
}

static aicc_status ints(unroll *u, int64_t n, const int64_t *v, aicc_value **out) {
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 1, &n, &t));
  for (int64_t i = 0; i < n; i++) aicc_tensor_set_i64(t, i, v[i]);
  return aicc_rewrite_const_new(u->g, t, out);
}

static aicc_status reshape(unroll *u, aicc_value *x, aicc_value *target, int rank,
                           const int64_t *dims, aicc_value **out) {
  aicc_value *shape;
  AICC_TRY(ints(u, rank, dims, &shape));
  aicc_value *in[2] = {x, shape};
  return emit(u, "Reshape", in, 2, target, rank, dims, out, NULL);
}

static aicc_status transpose(unroll *u, aicc_value *x, const int64_t *perm, aicc_value *target,
                             aicc_value **out) {
  int64_t dims[AICC_MAX_RANK];
  int r = x->type.rank;
  for (int i = 0; i < r; i++) dims[i] = x->type.dims[perm[i]].size;
  aicc_node *nd;
  AICC_TRY(emit(u, "Transpose", &x, 1, target, r, dims, out, &nd));
  return aicc_node_attr_set_ints(nd, "perm", perm, r);
}

/* Entry d of axis `axis` of x, that axis dropped (dims: the result's). */
static aicc_status pick(unroll *u, aicc_value *x, int axis, int64_t d, int rank,
                        const int64_t *dims, aicc_value **out) {
  if (x->type.dims[axis].size == 1) return reshape(u, x, NULL, rank, dims, out);
  aicc_tensor *t;
  AICC_TRY(aicc_tensor_create(AICC_DTYPE_I64, 0, NULL, &t));
  aicc_tensor_set_i64(t, 0, d);
  aicc_value *idx;
  AICC_TRY(aicc_rewrite_const_new(u->g, t, &idx));
  aicc_value *in[2] = {x, idx};
  aicc_node *nd;
  AICC_TRY(emit(u, "Gather", in, 2, NULL, rank, dims, out, &nd));
  return aicc_node_attr_set_int(nd, "axis", axis);
}

/* Splits x along `axis` into n equal pieces (n <= 64). */
static aicc_status split_even(unroll *u, aicc_value *x, int axis, int64_t n, aicc_value **pieces) {
  if (n == 1) {
    pieces[0] = x;
    return NULL;
  }
  int r = x->type.rank;
  int64_t sizes[64] = {0}, dims[AICC_MAX_RANK];
  for (int i = 0; i < r; i++) dims[i] = x->type.dims[i].size;
  int64_t each = dims[axis] / n;
  for (int64_t i = 0; i < n; i++) sizes[i] = each;
  dims[axis] = each;
  aicc_value *split;
  AICC_TRY(ints(u, n, sizes, &split));
  for (int64_t i = 0; i < n; i++) {
    aicc_type t = aicc_type_tensor(AICC_DTYPE_F32, r, dims);
    AICC_TRY(aicc_graph_value_add(u->g, "", &t, &pieces[i]));
  }
  aicc_value *in[2] = {x, split};
  aicc_node *nd;
  AICC_TRY(aicc_graph_node_add(u->g, u->n->name, "Split", "", in, 2, pieces, (int)n, &nd));
  return aicc_node_attr_set_int(nd, "axis", axis);
}

/* Splits x [T*B, H] into T pieces [B, H] (two levels past PIECES_MAX). */
static aicc_status split_steps(unroll *u, aicc_value *x, aicc_value **pieces) {
  int64_t T = u->T;
  if (T <= PIECES_MAX) return split_even(u, x, 0, T, pieces);
  int64_t n_chunks = (T + PIECES_MAX - 1) / PIECES_MAX, sizes[16];
  aicc_value *chunks[16];
  for (int64_t c = 0; c < n_chunks; c++) {
    int64_t steps = c + 1 < n_chunks ? PIECES_MAX : T - c * PIECES_MAX;
    sizes[c] = steps * u->B;
    int64_t dims[2] = {sizes[c], u->H};
    aicc_type t = aicc_type_tensor(AICC_DTYPE_F32, 2, dims);
    AICC_TRY(aicc_graph_value_add(u->g, "", &t, &chunks[c]));
  }
  aicc_value *split;
  AICC_TRY(ints(u, n_chunks, sizes, &split));
  aicc_value *in[2] = {x, split};
  aicc_node *nd;
  AICC_TRY(aicc_graph_node_add(u->g, u->n->name, "Split", "", in, 2, chunks, (int)n_chunks, &nd));
  AICC_TRY(aicc_node_attr_set_int(nd, "axis", 0));
  for (int64_t c = 0; c < n_chunks; c++)
    AICC_TRY(split_even(u, chunks[c], 0, sizes[c] / u->B, pieces + c * PIECES_MAX));
  return NULL;
}

static aicc_status concat(unroll *u, aicc_value *const *in, int n, int axis, aicc_value *target,
                          aicc_value **out) {
  int64_t dims[AICC_MAX_RANK];
  int r = in[0]->type.rank;
  for (int i = 0; i < r; i++) dims[i] = in[0]->type.dims[i].size;
  dims[axis] = 0;
  for (int k = 0; k < n; k++) dims[axis] += in[k]->type.dims[axis].size;
  aicc_node *nd;
  AICC_TRY(emit(u, "Concat", in, n, target, r, dims, out, &nd));
  return aicc_node_attr_set_int(nd, "axis", axis);
}

/* Stacks T pieces [B, H] into [T*B, H] (two levels past PIECES_MAX). */
static aicc_status concat_steps(unroll *u, aicc_value *const *pieces, aicc_value **out) {
  int64_t T = u->T;
  if (T == 1) {
    *out = pieces[0];
    return NULL;
  }
  if (T <= PIECES_MAX) return concat(u, pieces, (int)T, 0, NULL, out);
  aicc_value *chunks[16];
  int n_chunks = 0;
  for (int64_t c = 0; c < T; c += PIECES_MAX) {
    int n = (int)(T - c < PIECES_MAX ? T - c : PIECES_MAX);
    if (n == 1) chunks[n_chunks++] = pieces[c];
    else AICC_TRY(concat(u, pieces + c, n, 0, NULL, &chunks[n_chunks++]));
  }
  return concat(u, chunks, n_chunks, 0, NULL, out);
}

/* a(x) as the ops that compute it. */
static aicc_status activate(unroll *u, const act *a, aicc_value *x, aicc_value **out) {
  static const char *const direct[] = {
      [AICC_ACT_RELU] = "Relu", [AICC_ACT_TANH] = "Tanh", [AICC_ACT_SIGMOID] = "Sigmoid",
      [AICC_ACT_LEAKY_RELU] = "LeakyRelu", [AICC_ACT_THRESHOLDED_RELU] = "ThresholdedRelu",
      [AICC_ACT_HARD_SIGMOID] = "HardSigmoid", [AICC_ACT_ELU] = "Elu", [AICC_ACT_SOFTSIGN] = "Softsign",
      [AICC_ACT_SOFTPLUS] = "Softplus"};
  aicc_value *k, *y;
  switch (a->fn) {
  case AICC_ACT_AFFINE: /* alpha x + beta */
    AICC_TRY(scalar(u, a->alpha, &k));
    AICC_TRY(ew(u, "Mul", x, k, &y));
    AICC_TRY(scalar(u, a->beta, &k));
    return ew(u, "Add", y, k, out);
  case AICC_ACT_SCALED_TANH: /* alpha tanh(beta x) */
    AICC_TRY(scalar(u, a->beta, &k));
    AICC_TRY(ew(u, "Mul", x, k, &y));
    AICC_TRY(ew(u, "Tanh", y, NULL, &y));
    AICC_TRY(scalar(u, a->alpha, &k));
    return ew(u, "Mul", y, k, out);
  default:
    break;
  }
  int64_t dims[AICC_MAX_RANK];
  for (int i = 0; i < x->type.rank; i++) dims[i] = x->type.dims[i].size;
  aicc_node *nd;
  AICC_TRY(emit(u, direct[a->fn], &x, 1, NULL, x->type.rank, dims, out, &nd));
  if (a->fn == AICC_ACT_LEAKY_RELU || a->fn == AICC_ACT_THRESHOLDED_RELU || a->fn == AICC_ACT_ELU ||
      a->fn == AICC_ACT_HARD_SIGMOID)
    AICC_TRY(aicc_node_attr_set_float(nd, "alpha", a->alpha));
  if (a->fn == AICC_ACT_HARD_SIGMOID) AICC_TRY(aicc_node_attr_set_float(nd, "beta", a->beta));
  return NULL;
}

/* a(clip(x)): clip bounds the input of every gate activation. */
static aicc_status gate(unroll *u, const act *a, aicc_value *x, aicc_value **out) {
  if (u->has_clip) {
    if (!u->clip_lo) AICC_TRY(scalar(u, -u->clip, &u->clip_lo));
    if (!u->clip_hi) AICC_TRY(scalar(u, u->clip, &u->clip_hi));
    aicc_value *in[3] = {x, u->clip_lo, u->clip_hi};
    AICC_TRY(emit(u, "Clip", in, 3, NULL, 2, (int64_t[]){u->B, u->H}, &x, NULL));
  }
  return activate(u, a, x, out);
}

/* The weights and input projections of one direction. */
typedef struct dir_state {
  aicc_value *Rt[4];       /* R_k^T [H, H] */
  aicc_value **xp[4];      /* per gate, T pieces [B, H]: X W_k^T + bias */
  aicc_value *rb_h;        /* GRU with linear_before_reset: Rb_h [H], or NULL */
  aicc_value *pi, *po, *pf; /* LSTM peepholes [H], or NULL */
  aicc_value *h, *c;       /* state; NULL while zero */
  const act *f;            /* this direction's activations */
} dir_state;

/* The pre-activation of gate k at time t: h R_k^T + XP_k[t]. */
static aicc_status pre(unroll *u, dir_state *s, int k, int64_t t, aicc_value **out) {
  if (!s->h) {
    *out = s->xp[k][t];
    return NULL;
  }
  aicc_value *in[2] = {s->h, s->Rt[k]}, *mm;
  AICC_TRY(emit(u, "MatMul", in, 2, NULL, 2, (int64_t[]){u->B, u->H}, &mm, NULL));
  return ew(u, "Add", mm, s->xp[k][t], out);
}

/* Gates i, o, f, c (ONNX order); peepholes inside the clip. */
static aicc_status lstm_step(unroll *u, dir_state *s, int64_t t) {
  aicc_value *pi, *po, *pf, *pc, *ig, *gg, *cn, *x;
  const act *f = s->f;
  AICC_TRY(pre(u, s, 0, t, &pi));
  AICC_TRY(pre(u, s, 3, t, &pc));
  AICC_TRY(gate(u, &f[1], pc, &gg));
  if (s->c && s->pi) {
    AICC_TRY(ew(u, "Mul", s->c, s->pi, &x));
    AICC_TRY(ew(u, "Add", pi, x, &pi));
  }
  AICC_TRY(gate(u, &f[0], pi, &ig));
  if (u->input_forget) {
    /* f = 1 - i: C' = C + i (g - C) */
    if (s->c) {
      AICC_TRY(ew(u, "Sub", gg, s->c, &x));
      AICC_TRY(ew(u, "Mul", ig, x, &x));
      AICC_TRY(ew(u, "Add", x, s->c, &cn));
    } else {
      AICC_TRY(ew(u, "Mul", ig, gg, &cn));
    }
  } else {
    aicc_value *igg;
    AICC_TRY(ew(u, "Mul", ig, gg, &igg));
    if (s->c) {
      /* f C is zero while C is: the forget gate is needed from then on. */
      AICC_TRY(pre(u, s, 2, t, &pf));
      if (s->pf) {
        AICC_TRY(ew(u, "Mul", s->c, s->pf, &x));
        AICC_TRY(ew(u, "Add", pf, x, &pf));
      }
      AICC_TRY(gate(u, &f[0], pf, &x));
      AICC_TRY(ew(u, "Mul", x, s->c, &x));
      AICC_TRY(ew(u, "Add", x, igg, &cn));
    } else {
      cn = igg;
    }
  }
  AICC_TRY(pre(u, s, 1, t, &po));
  if (s->po) {
    AICC_TRY(ew(u, "Mul", cn, s->po, &x));
    AICC_TRY(ew(u, "Add", po, x, &po));
  }
  aicc_value *og, *hc;
  AICC_TRY(gate(u, &f[0], po, &og));
  AICC_TRY(activate(u, &f[2], cn, &hc)); /* no clip here, as the reference */
  AICC_TRY(ew(u, "Mul", og, hc, &s->h));
  s->c = cn;
  return NULL;
}

/* Gates z, r, h. H' = H + (1 - z)(h~ - H), one chain for the fuser. */
static aicc_status gru_step(unroll *u, dir_state *s, int64_t t) {
  aicc_value *pz, *pr, *z, *r, *omz, *ph, *hh, *x;
  const act *f = s->f;
  AICC_TRY(pre(u, s, 0, t, &pz));
  AICC_TRY(gate(u, &f[0], pz, &z));
  if (!u->one) AICC_TRY(scalar(u, 1.0f, &u->one));
  AICC_TRY(ew(u, "Sub", u->one, z, &omz));
  AICC_TRY(pre(u, s, 1, t, &pr));
  AICC_TRY(gate(u, &f[0], pr, &r));
  if (u->lbr) {
    /* h~ = g(XP_h + r (H R_h^T + Rb_h)) */
    aicc_value *hr = s->rb_h;
    if (s->h) {
      aicc_value *in[2] = {s->h, s->Rt[2]};
      AICC_TRY(emit(u, "MatMul", in, 2, NULL, 2, (int64_t[]){u->B, u->H}, &hr, NULL));
      if (s->rb_h) AICC_TRY(ew(u, "Add", hr, s->rb_h, &hr));
    }
    ph = s->xp[2][t];
    if (hr) {
      AICC_TRY(ew(u, "Mul", hr, r, &x));
      AICC_TRY(ew(u, "Add", x, ph, &ph));
    }
  } else {
    /* h~ = g(XP_h + (r H) R_h^T), Rb_h already in XP_h */
    ph = s->xp[2][t];
    if (s->h) {
      AICC_TRY(ew(u, "Mul", r, s->h, &x));
      aicc_value *in[2] = {x, s->Rt[2]};
      AICC_TRY(emit(u, "MatMul", in, 2, NULL, 2, (int64_t[]){u->B, u->H}, &x, NULL));
      AICC_TRY(ew(u, "Add", x, ph, &ph));
    }
  }
  AICC_TRY(gate(u, &f[1], ph, &hh));
  if (s->h) {
    AICC_TRY(ew(u, "Sub", hh, s->h, &x));
    AICC_TRY(ew(u, "Mul", x, omz, &x));
    AICC_TRY(ew(u, "Add", x, s->h, &s->h));
  } else {
    AICC_TRY(ew(u, "Mul", hh, omz, &s->h));
  }
  return NULL;
}

/* One direction: hs[t] gets H at time t; h_last / c_last the final state. */
static aicc_status direction(unroll *u, aicc_value *xr, int64_t d, aicc_value **hs,
                             aicc_value **h_last, aicc_value **c_last) {
  int64_t G = u->G, H = u->H, GH = G * H, B = u->B, T = u->T;
  dir_state s = {.f = &u->acts[d * aicc_rnn_nact(u->kind)]};
  aicc_value *w, *r, *rk[4];
  AICC_TRY(pick(u, u->W, 0, d, 2, (int64_t[]){GH, u->I}, &w));
  AICC_TRY(pick(u, u->R, 0, d, 2, (int64_t[]){GH, H}, &r));
  AICC_TRY(split_even(u, r, 0, G, rk));
  for (int k = 0; k < G; k++) AICC_TRY(transpose(u, rk[k], (int64_t[]){1, 0}, NULL, &s.Rt[k]));
  aicc_value *xb[4] = {NULL, NULL, NULL, NULL};
  if (u->Bias) {
    aicc_value *b, *bk[8];
    AICC_TRY(pick(u, u->Bias, 0, d, 1, (int64_t[]){2 * GH}, &b));
    AICC_TRY(split_even(u, b, 0, 2 * G, bk));
    for (int k = 0; k < G; k++) {
      if (u->kind == AICC_RNN_GRU && u->lbr && k == 2) {
        xb[k] = bk[k];
        s.rb_h = bk[G + k];
      } else {
        AICC_TRY(ew(u, "Add", bk[k], bk[G + k], &xb[k]));
      }
    }
  }
  aicc_value **pieces = calloc((size_t)(G * T), sizeof *pieces);
  if (!pieces) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  /* One Gemm for every gate (one wide GEMM beats G narrow ones), its
   * columns split per gate, then per step. */
  aicc_value *bias = xb[0], *xp, *xpk[4];
  aicc_status st = NULL;
  if (u->Bias && G > 1) st = concat(u, xb, (int)G, 0, NULL, &bias);
  aicc_value *in[3] = {xr, w, bias};
  aicc_node *nd;
  if (!st) st = emit(u, "Gemm", in, bias ? 3 : 2, NULL, 2, (int64_t[]){T * B, GH}, &xp, &nd);
  if (!st) st = aicc_node_attr_set_int(nd, "transB", 1);
  if (!st) st = split_even(u, xp, 1, G, xpk);
  for (int k = 0; k < G && !st; k++) {
    s.xp[k] = pieces + k * T;
    st = split_steps(u, xpk[k], s.xp[k]);
  }
  if (!st && u->P) {
    aicc_value *p, *pk[3];
    st = pick(u, u->P, 0, d, 1, (int64_t[]){3 * H}, &p);
    if (!st) st = split_even(u, p, 0, 3, pk);
    s.pi = pk[0], s.po = pk[1], s.pf = pk[2];
  }
  int hax = u->batch_first ? 1 : 0;
  if (!st && u->H0) st = pick(u, u->H0, hax, d, 2, (int64_t[]){B, H}, &s.h);
  if (!st && u->C0) st = pick(u, u->C0, hax, d, 2, (int64_t[]){B, H}, &s.c);
  bool reverse = u->reverse_only || d == 1;
  for (int64_t step = 0; step < T && !st; step++) {
    int64_t t = reverse ? T - 1 - step : step;
    if (u->kind == AICC_RNN_LSTM) st = lstm_step(u, &s, t);
    else if (u->kind == AICC_RNN_GRU) st = gru_step(u, &s, t);
    else {
      aicc_value *p;
      st = pre(u, &s, 0, t, &p);
      if (!st) st = gate(u, &s.f[0], p, &s.h);
    }
    hs[t] = s.h;
  }
  free(pieces);
  *h_last = s.h;
  *c_last = s.c;
  return st;
}

/* Stacks per-direction states [B, H] into the node's [D, B, H] output (or
 * [B, D, H] with layout 1). */
static aicc_status state_out(unroll *u, aicc_value **per_dir, aicc_value *target) {
  int64_t B = u->B, H = u->H;
  if (u->D == 1) /* [B, H] is [1, B, H] and [B, 1, H] alike */
    return reshape(u, per_dir[0], target, 3,
                   u->batch_first ? (int64_t[]){B, 1, H} : (int64_t[]){1, B, H}, &per_dir[0]);
  aicc_value *parts[2], *x;
  for (int d = 0; d < 2; d++)
    AICC_TRY(reshape(u, per_dir[d], NULL, 3, (int64_t[]){1, B, H}, &parts[d]));
  AICC_TRY(concat(u, parts, 2, 0, u->batch_first ? NULL : target, &x));
  if (u->batch_first) AICC_TRY(transpose(u, x, (int64_t[]){1, 0, 2}, target, &x));
  return NULL;
}

static aicc_status rewrite(unroll *u) {
  aicc_node *n = (aicc_node *)u->n;
  int64_t T = u->T, B = u->B, H = u->H, D = u->D;
  aicc_value *Y = n->n_outputs > 0 ? n->outputs[0] : NULL;
  aicc_value *Yh = n->n_outputs > 1 ? n->outputs[1] : NULL;
  aicc_value *Yc = n->n_outputs > 2 ? n->outputs[2] : NULL;
  aicc_graph_node_remove(u->g, n);
  /* X as [T*B, I], time-major. */
  aicc_value *x = u->X;
  if (u->batch_first) AICC_TRY(transpose(u, x, (int64_t[]){1, 0, 2}, NULL, &x));
  AICC_TRY(reshape(u, x, NULL, 2, (int64_t[]){T * B, u->I}, &x));
  aicc_value **hs = calloc((size_t)(D * T), sizeof *hs);
  if (!hs) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_value *h_last[2], *c_last[2], *ys[2];
  aicc_status st = NULL;
  for (int64_t d = 0; d < D && !st; d++)
    st = direction(u, x, d, hs + d * T, &h_last[d], &c_last[d]);
  if (!st && Y && aicc_graph_value_use_count(u->g, Y)) {
    /* [T*B, H] per direction -> [T, D, B, H] (layout 1: [B, T, D, H]). */
    bool last = D == 1 && !u->batch_first;
    for (int64_t d = 0; d < D && !st; d++) {
      aicc_value *cat = NULL;
      st = concat_steps(u, hs + d * T, &cat);
      if (!st) st = reshape(u, cat, last ? Y : NULL, 4, (int64_t[]){T, 1, B, H}, &ys[d]);
    }
    aicc_value *y = ys[0];
    if (!st && D == 2) st = concat(u, ys, 2, 1, u->batch_first ? NULL : Y, &y);
    if (!st && u->batch_first) st = transpose(u, y, (int64_t[]){2, 0, 1, 3}, Y, &y);
  }
  if (!st && Yh && aicc_graph_value_use_count(u->g, Yh)) st = state_out(u, h_last, Yh);
  if (!st && Yc && aicc_graph_value_use_count(u->g, Yc)) st = state_out(u, c_last, Yc);
  free(hs);
  return st;
}

static aicc_status rnn_unroll_run(aicc_model *m, aicc_pass_ctx *ctx) {
  aicc_graph *g = m->graph;
  int declined = 0;
  char why[128] = "";
  size_t n_nodes = g->nodes.len;
  for (size_t i = 0; i < n_nodes; i++) {
    aicc_node *n = g->nodes.data[i];
    if (n->dead || *n->domain ||
        (strcmp(n->op_type, "LSTM") && strcmp(n->op_type, "GRU") && strcmp(n->op_type, "RNN")))
      continue;
    unroll u;
    const char *r = check(g, n, &u);
    if (r) {
      declined++;
      snprintf(why, sizeof why, "%s: %s", n->op_type, r);
      continue;
    }
    char d[256];
    aicc_status s = rewrite(&u);
    if (s) return aicc_status_wrap(s, "%s", aicc_node_describe(n, d, sizeof d));
    ctx->changes++;
  }
  if (ctx->changes) {
    aicc_graph_compact(g);
    AICC_TRY(aicc_graph_toposort(g));
  }
  snprintf(ctx->notes, sizeof ctx->notes, "unrolled %lld, declined %d%s%s",
           (long long)ctx->changes, declined, declined ? " (last: " : "", declined ? why : "");
  if (declined) strncat(ctx->notes, ")", sizeof ctx->notes - strlen(ctx->notes) - 1);
  return NULL;
}

const aicc_pass aicc_pass_rnn_unroll = {
    "rnn_unroll",
    "unroll LSTM/GRU/RNN of static sequence length into Gemm/MatMul/elementwise steps "
    "(compiled engine)",
    rnn_unroll_run};
