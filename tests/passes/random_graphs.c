/* Differential random-graph tester for the graph passes: for each seed it
 * builds a random valid model with the graph.h construction API, runs it in
 * the reference interpreter, optimises it with the -O3 pipeline (verifying
 * after every pass), runs it again and compares; it also checks that the
 * optimised text form round-trips. A failure prints the seed, the pass at
 * fault, a reduced reproduction and the IR before and after. */
#include "interp/interp.h"
#include "ir/text.h"
#include "passes/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { POOL_MAX = 512, MAX_NUMEL = 4096, MAX_IO = 8 };

static const double RTOL = 1e-4, ATOL = 1e-5;

/* ---- seeded PRNG (splitmix64, Steele et al. 2014) ---- */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* Uniform in [lo, hi] (inclusive). */
static int rng_int(rng *r, int lo, int hi) {
  return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}
static double rng_unif(rng *r, double lo, double hi) {
  return lo + (hi - lo) * ((double)(rng_next(r) >> 11) * 0x1.0p-53);
}
static bool rng_chance(rng *r, double p) { return rng_unif(r, 0, 1) < p; }

/* ---- the generator ---- */

typedef struct gen {
  aicc_model *m;
  aicc_graph *g;
  rng r;
  int opset;
  aicc_value *pool[POOL_MAX]; /* f32 tensors usable as operands */
  int npool;
  int nodes, max_nodes;
  aicc_status err; /* first construction error: a generator bug */
} gen;

static const aicc_type *ty(const aicc_value *v) { return &v->type; }

static int64_t type_numel(const aicc_type *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= aicc_dim_is_known(t->dims[i]) ? t->dims[i].size : 4;
  return n;
}

static bool dim_static(const aicc_type *t, int i) { return aicc_dim_is_known(t->dims[i]); }

static bool all_static(const aicc_type *t) {
  for (int i = 0; i < t->rank; i++)
    if (!dim_static(t, i)) return false;
  return t->rank >= 0;
}

static void pool_add(gen *G, aicc_value *v) {
  if (!v || G->npool >= POOL_MAX) return;
  const aicc_type *t = ty(v);
  if (t->kind != AICC_KIND_TENSOR || t->dtype != AICC_DTYPE_F32 || t->rank < 0 ||
      t->rank > 5 || type_numel(t) > MAX_NUMEL)
    return;
  for (int i = 0; i < t->rank; i++)
    if (!dim_static(t, i) && !t->dims[i].sym) return; /* unknown dims: not an operand */
  G->pool[G->npool++] = v;
}

static aicc_value *pick(gen *G) {
  /* Favour recent values so chains get deep, but reach back too. */
  if (rng_chance(&G->r, 0.5)) return G->pool[G->npool - 1 - rng_int(&G->r, 0, G->npool < 4 ? G->npool - 1 : 3)];
  return G->pool[rng_int(&G->r, 0, G->npool - 1)];
}

/* Adds a node with n_out fresh outputs (types filled by inference in done()).
 * Returns NULL once an error is recorded. */
static aicc_node *node(gen *G, const char *op, aicc_value *const *ins, int n_in, int n_out) {
  if (G->err) return NULL;
  for (int i = 0; i < n_in; i++)
    if (!ins[i]) return NULL;
  aicc_value *outs[MAX_IO];
  aicc_type none;
  memset(&none, 0, sizeof none);
  none.kind = AICC_KIND_NONE;
  none.rank = -1;
  for (int i = 0; i < n_out; i++)
    if ((G->err = aicc_graph_value_add(G->g, "", &none, &outs[i]))) return NULL;
  aicc_node *n = NULL;
  if ((G->err = aicc_graph_node_add(G->g, "", op, "", ins, n_in, outs, n_out, &n))) return NULL;
  G->nodes++;
  return n;
}

/* Infers the new node's output types; returns output 0. */
static aicc_value *done(gen *G, aicc_node *n) {
  if (G->err || !n) return NULL;
  if ((G->err = aicc_model_infer(G->m))) return NULL;
  return n->outputs[0];
}

static void set_int(gen *G, aicc_node *n, const char *k, int64_t v) {
  if (!G->err && n) G->err = aicc_node_attr_set_int(n, k, v);
}
static void set_float(gen *G, aicc_node *n, const char *k, float v) {
  if (!G->err && n) G->err = aicc_node_attr_set_float(n, k, v);
}
static void set_ints(gen *G, aicc_node *n, const char *k, const int64_t *v, int64_t len) {
  if (!G->err && n) G->err = aicc_node_attr_set_ints(n, k, v, len);
}

static aicc_value *op1(gen *G, const char *op, aicc_value *x) {
  return done(G, node(G, op, &x, 1, 1));
}
static aicc_value *op2(gen *G, const char *op, aicc_value *a, aicc_value *b) {
  aicc_value *in[2] = {a, b};
  return done(G, node(G, op, in, 2, 1));
}

/* A constant as an initializer or (sometimes) a Constant node, so folding
 * sees both forms. Takes t. */
static aicc_value *konst(gen *G, aicc_tensor *t, bool allow_node) {
  if (G->err) {
    aicc_tensor_release(t);
    return NULL;
  }
  aicc_value *v = NULL;
  if (allow_node && rng_chance(&G->r, 0.3)) {
    aicc_node *n = node(G, "Constant", NULL, 0, 1);
    if (!n || (G->err = aicc_model_own_tensor(G->m, t))) {
      aicc_tensor_release(t);
      return NULL;
    }
    if ((G->err = aicc_node_attrs_alloc(n, 1))) return NULL;
    n->attrs[0].name = "value";
    n->attrs[0].kind = AICC_ATTR_TENSOR;
    n->attrs[0].t = t;
    return done(G, n);
  }
  if ((G->err = aicc_graph_init_add(G->g, "", t, &v))) return NULL;
  return v;
}

static aicc_tensor *tensor_new(gen *G, aicc_dtype dt, int rank, const int64_t *dims) {
  aicc_tensor *t = NULL;
  if (!G->err) G->err = aicc_tensor_create(dt, rank, dims, &t);
  return G->err ? NULL : t;
}

static aicc_value *const_f32(gen *G, int rank, const int64_t *dims, double lo, double hi) {
  aicc_tensor *t = tensor_new(G, AICC_DTYPE_F32, rank, dims);
  if (!t) return NULL;
  float *p = t->data;
  for (int64_t i = 0; i < aicc_tensor_numel(t); i++) p[i] = (float)rng_unif(&G->r, lo, hi);
  return konst(G, t, true);
}

static aicc_value *const_fill(gen *G, aicc_dtype dt, int rank, const int64_t *dims, double v) {
  aicc_tensor *t = tensor_new(G, dt, rank, dims);
  if (!t) return NULL;
  for (int64_t i = 0; i < aicc_tensor_numel(t); i++) aicc_tensor_set_f64(t, i, v);
  return konst(G, t, true);
}

static aicc_value *const_i64(gen *G, int n, const int64_t *vals, bool scalar) {
  int64_t d = n;
  aicc_tensor *t = tensor_new(G, AICC_DTYPE_I64, scalar ? 0 : 1, &d);
  if (!t) return NULL;
  memcpy(t->data, vals, sizeof(int64_t) * (size_t)n);
  return konst(G, t, true);
}

/* Dims of a constant that broadcasts against t: a suffix of t's dims with
 * some replaced by 1 (symbolic dims always 1). Sometimes one extra leading
 * dim, so the result grows (x*1 must then keep its broadcast). */
static int bcast_dims(gen *G, const aicc_type *t, int64_t *dims) {
  int r = rng_int(&G->r, 0, t->rank), k = 0;
  if (r == t->rank && r < 4 && rng_chance(&G->r, 0.1)) dims[k++] = 2;
  for (int i = t->rank - r; i < t->rank; i++) {
    bool one = !dim_static(t, i) || rng_chance(&G->r, 0.3);
    dims[k++] = one ? 1 : t->dims[i].size;
  }
  return k;
}

/* Shapes broadcast when each aligned pair is equal or one is a known 1. */
static bool broadcasts(const aicc_type *a, const aicc_type *b) {
  for (int i = 1; i <= a->rank && i <= b->rank; i++) {
    aicc_dim x = a->dims[a->rank - i], y = b->dims[b->rank - i];
    if (aicc_dim_equal(x, y)) continue;
    if ((aicc_dim_is_known(x) && x.size == 1) || (aicc_dim_is_known(y) && y.size == 1)) continue;
    return false;
  }
  return true;
}

/* A second operand for a binary op with x: a pool value, x itself, or a
 * new constant. */
static aicc_value *operand_for(gen *G, aicc_value *x) {
  int c = rng_int(&G->r, 0, 9);
  if (c < 4) {
    for (int tries = 0; tries < 8; tries++) {
      aicc_value *y = pick(G);
      if (y != x && broadcasts(ty(x), ty(y))) return y;
    }
  }
  if (c == 4) return x;
  int64_t dims[AICC_MAX_RANK];
  int r = bcast_dims(G, ty(x), dims);
  return const_f32(G, r, dims, -1.5, 1.5);
}

/* ---- op generators: each makes one or a few nodes from pool values and
 * returns the value to add to the pool (NULL: not applicable here) ---- */

static aicc_value *g_unary(gen *G) {
  static const char *ops[] = {"Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Identity", "Exp", "Sqrt"};
  aicc_value *x = pick(G);
  const char *op = ops[rng_int(&G->r, 0, 7)];
  /* Keep Exp finite and Sqrt real and Lipschitz: Exp(Tanh(x)), Sqrt(|x| +
   * 0.01). Plain Sqrt(|x|) of a value that is 0 by structure (the mean of a
   * normalised row) turns 1e-8 rounding noise into 1e-4 (seed 49810). */
  if (!strcmp(op, "Exp")) x = op1(G, "Tanh", x);
  if (!strcmp(op, "Sqrt")) {
    int64_t one = 1;
    x = op2(G, "Add", op1(G, "Abs", x), const_fill(G, AICC_DTYPE_F32, 0, &one, 0.01));
  }
  return op1(G, op, x);
}

static aicc_value *g_binary(gen *G) {
  static const char *ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min"};
  aicc_value *x = pick(G);
  const char *op = ops[rng_int(&G->r, 0, 5)];
  aicc_value *y = operand_for(G, x);
  if (!y) return NULL;
  if (type_numel(ty(y)) * type_numel(ty(x)) > MAX_NUMEL * 64) return NULL;
  if (!strcmp(op, "Div")) {
    /* Divide by 1 + |y|: bounded away from zero. */
    int64_t one = 1;
    y = op2(G, "Add", op1(G, "Abs", y), const_fill(G, AICC_DTYPE_F32, rng_chance(&G->r, 0.5) ? 0 : 1, &one, 1.0));
  }
  if (!strcmp(op, "Mul") && rng_chance(&G->r, 0.5)) y = op1(G, "Tanh", y); /* bound growth */
  return rng_chance(&G->r, 0.2) ? op2(G, op, y, x) : op2(G, op, x, y);
}

/* x*1, x+0, x-0, x/1, 1*x, x*0, Identity, Dropout, Cast to f32, identity
 * Transpose/Reshape, Relu(Relu), Neg(Neg): patterns simplify should remove. */
static aicc_value *g_trivial(gen *G) {
  aicc_value *x = pick(G);
  int64_t dims[AICC_MAX_RANK];
  int r = bcast_dims(G, ty(x), dims);
  switch (rng_int(&G->r, 0, 11)) {
  case 0: return op2(G, "Mul", x, const_fill(G, AICC_DTYPE_F32, r, dims, 1.0));
  case 1: return op2(G, "Mul", const_fill(G, AICC_DTYPE_F32, r, dims, 1.0), x);
  case 2: return op2(G, "Add", x, const_fill(G, AICC_DTYPE_F32, r, dims, 0.0));
  case 3: return op2(G, "Sub", x, const_fill(G, AICC_DTYPE_F32, r, dims, 0.0));
  case 4: return op2(G, "Div", x, const_fill(G, AICC_DTYPE_F32, r, dims, 1.0));
  case 5: return op2(G, "Mul", x, const_fill(G, AICC_DTYPE_F32, r, dims, 0.0));
  case 6: return op1(G, "Identity", x);
  case 7: {
    aicc_node *n = node(G, "Dropout", &x, 1, rng_chance(&G->r, 0.3) ? 2 : 1);
    return done(G, n);
  }
  case 8: {
    aicc_node *n = node(G, "Cast", &x, 1, 1);
    set_int(G, n, "to", AICC_DTYPE_F32);
    return done(G, n);
  }
  case 9: {
    int64_t perm[AICC_MAX_RANK];
    for (int i = 0; i < ty(x)->rank; i++) perm[i] = i;
    aicc_node *n = node(G, "Transpose", &x, 1, 1);
    set_ints(G, n, "perm", perm, ty(x)->rank);
    return done(G, n);
  }
  case 10: return op1(G, "Relu", op1(G, "Relu", x));
  default: return op1(G, "Neg", op1(G, "Neg", x));
  }
}

static aicc_value *g_matmul(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  if (t->rank < 1 || !dim_static(t, t->rank - 1)) return NULL;
  int64_t k = t->dims[t->rank - 1].size, mdim = rng_int(&G->r, 1, 6);
  double s = 1.0 / sqrt((double)(k ? k : 1));
  if (t->rank == 2 && rng_chance(&G->r, 0.5)) {
    bool tb = rng_chance(&G->r, 0.5);
    int64_t wd[2] = {tb ? mdim : k, tb ? k : mdim};
    aicc_value *w = const_f32(G, 2, wd, -s, s);
    aicc_value *in[3] = {x, w, NULL};
    int nin = 2;
    if (rng_chance(&G->r, 0.7)) {
      int64_t cd = mdim;
      in[2] = const_f32(G, rng_chance(&G->r, 0.8) ? 1 : 0, &cd, -1, 1);
      nin = 3;
    }
    aicc_node *n = node(G, "Gemm", in, nin, 1);
    if (tb) set_int(G, n, "transB", 1);
    if (rng_chance(&G->r, 0.3)) set_float(G, n, "alpha", (float)rng_unif(&G->r, 0.5, 1.5));
    if (nin == 3 && rng_chance(&G->r, 0.3)) set_float(G, n, "beta", (float)rng_unif(&G->r, 0.5, 1.5));
    return done(G, n);
  }
  int64_t wd[2] = {k, mdim};
  aicc_value *w = const_f32(G, 2, wd, -s, s);
  aicc_value *y = op2(G, "MatMul", x, w);
  if (rng_chance(&G->r, 0.5)) { /* MatMul + Add bias: a Gemm pattern */
    int64_t bd = mdim;
    y = op2(G, "Add", y, const_f32(G, 1, &bd, -1, 1));
  }
  return y;
}

static void random_perm(gen *G, int r, int64_t *perm) {
  for (int i = 0; i < r; i++) perm[i] = i;
  for (int i = r - 1; i > 0; i--) {
    int j = rng_int(&G->r, 0, i);
    int64_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

static aicc_value *g_transpose(gen *G) {
  aicc_value *x = pick(G);
  int r = ty(x)->rank;
  if (r < 2) return NULL;
  int64_t p[AICC_MAX_RANK], q[AICC_MAX_RANK];
  random_perm(G, r, p);
  aicc_node *n = node(G, "Transpose", &x, 1, 1);
  if (rng_chance(&G->r, 0.15)) {
    /* No perm attribute: reverse. */
  } else {
    set_ints(G, n, "perm", p, r);
  }
  aicc_value *y = done(G, n);
  if (y && rng_chance(&G->r, 0.5)) { /* double transpose: inverse or another */
    if (rng_chance(&G->r, 0.5)) {
      for (int i = 0; i < r; i++) q[p[i]] = i;
    } else {
      random_perm(G, r, q);
    }
    aicc_node *n2 = node(G, "Transpose", &y, 1, 1);
    set_ints(G, n2, "perm", q, r);
    y = done(G, n2);
  }
  return y;
}

static aicc_value *reshape(gen *G, aicc_value *x, const int64_t *shape, int n) {
  return op2(G, "Reshape", x, const_i64(G, n, shape, false));
}

static aicc_value *g_reshape(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  int r = t->rank;
  int64_t s[AICC_MAX_RANK];
  switch (rng_int(&G->r, 0, 5)) {
  case 0: { /* flatten to 1-D or [d0, -1] (0 keeps a symbolic batch) */
    if (r == 0) return NULL;
    if (rng_chance(&G->r, 0.5) && all_static(t)) {
      s[0] = -1;
      return reshape(G, x, s, 1);
    }
    s[0] = 0;
    s[1] = -1;
    return reshape(G, x, s, 2);
  }
  case 1: { /* same shape (removable) */
    if (!all_static(t) || r == 0) return NULL;
    for (int i = 0; i < r; i++) s[i] = t->dims[i].size;
    return reshape(G, x, s, r);
  }
  case 2: { /* split the last static dim */
    if (r == 0 || r > 4 || !dim_static(t, r - 1)) return NULL;
    int64_t d = t->dims[r - 1].size, f = 1;
    for (int c = 2; c <= d; c++)
      if (d % c == 0) { f = c; break; }
    for (int i = 0; i < r - 1; i++) s[i] = 0;
    s[r - 1] = f;
    s[r] = d / f;
    aicc_value *y = reshape(G, x, s, r + 1);
    if (y && rng_chance(&G->r, 0.5)) { /* and back: a reshape chain */
      s[r - 1] = d;
      y = reshape(G, y, s, r);
    }
    return y;
  }
  case 3: {
    if (r == 0) return NULL;
    aicc_node *n = node(G, "Flatten", &x, 1, 1);
    set_int(G, n, "axis", rng_int(&G->r, 0, r));
    return done(G, n);
  }
  case 4: { /* Unsqueeze, maybe then Squeeze back */
    if (r >= 5) return NULL;
    int64_t a = rng_int(&G->r, 0, r);
    if (rng_chance(&G->r, 0.3)) a -= r + 1; /* negative axis */
    aicc_value *y = op2(G, "Unsqueeze", x, const_i64(G, 1, &a, false));
    if (y && rng_chance(&G->r, 0.5)) y = op2(G, "Squeeze", y, const_i64(G, 1, &a, false));
    return y;
  }
  default: { /* Squeeze the known 1-dims (all, or via the axes input) */
    int64_t ax[AICC_MAX_RANK];
    int k = 0;
    for (int i = 0; i < r; i++)
      if (dim_static(t, i) && t->dims[i].size == 1) ax[k++] = i;
    if (!k) return NULL;
    if (all_static(t) && rng_chance(&G->r, 0.3)) return op1(G, "Squeeze", x);
    return op2(G, "Squeeze", x, const_i64(G, k, ax, false));
  }
  }
}

static aicc_value *g_cast(gen *G) {
  aicc_value *x = pick(G);
  aicc_node *n = node(G, "Cast", &x, 1, 1);
  set_int(G, n, "to", AICC_DTYPE_F64);
  aicc_value *y = done(G, n);
  if (y && rng_chance(&G->r, 0.5)) {
    int64_t one = 1;
    y = rng_chance(&G->r, 0.5) ? op1(G, "Neg", y)
                               : op2(G, "Add", y, const_fill(G, AICC_DTYPE_F64, 0, &one, rng_unif(&G->r, -1, 1)));
  }
  aicc_node *n2 = node(G, "Cast", &y, 1, 1);
  set_int(G, n2, "to", AICC_DTYPE_F32);
  return done(G, n2);
}

/* A random static axis of t with size >= min, or -1. */
static int static_axis(gen *G, const aicc_type *t, int64_t min) {
  int c[AICC_MAX_RANK], k = 0;
  for (int i = 0; i < t->rank; i++)
    if (dim_static(t, i) && t->dims[i].size >= min) c[k++] = i;
  return k ? c[rng_int(&G->r, 0, k - 1)] : -1;
}

static aicc_value *g_concat(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  int ax = static_axis(G, t, 0);
  if (ax < 0 || t->dims[ax].size > 16) return NULL;
  aicc_value *in[3] = {x, NULL, NULL};
  int n = rng_int(&G->r, 2, 3);
  for (int i = 1; i < n; i++) {
    int c = rng_int(&G->r, 0, 2);
    if (c == 0) {
      in[i] = x;
    } else if (c == 1) {
      in[i] = op1(G, "Tanh", x);
    } else { /* a constant with another size on the axis */
      int64_t d[AICC_MAX_RANK];
      bool ok = true;
      for (int j = 0; j < t->rank; j++) {
        ok &= dim_static(t, j);
        d[j] = j == ax ? rng_int(&G->r, 1, 3) : t->dims[j].size;
      }
      in[i] = ok ? const_f32(G, t->rank, d, -1, 1) : x;
    }
  }
  aicc_node *nd = node(G, "Concat", in, n, 1);
  set_int(G, nd, "axis", rng_chance(&G->r, 0.3) ? ax - t->rank : ax);
  return done(G, nd);
}

static aicc_value *g_split(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  int ax = static_axis(G, t, 2);
  if (ax < 0) return NULL;
  int64_t d = t->dims[ax].size, parts[4];
  int n = rng_int(&G->r, 2, d < 4 ? (int)d : 4);
  int64_t left = d;
  for (int i = 0; i < n - 1; i++) {
    parts[i] = rng_int(&G->r, 1, (int)(left - (n - 1 - i)));
    left -= parts[i];
  }
  parts[n - 1] = left;
  aicc_value *in[2] = {x, const_i64(G, n, parts, false)};
  aicc_node *nd = node(G, "Split", in, 2, n);
  set_int(G, nd, "axis", ax);
  aicc_value *y = done(G, nd);
  if (!y) return NULL;
  for (int i = 1; i < n; i++) pool_add(G, nd->outputs[i]);
  return y;
}

static aicc_value *g_slice(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  int ax = static_axis(G, t, 2);
  if (ax < 0) return NULL;
  int64_t d = t->dims[ax].size, st, en, step = 1, axis = ax;
  switch (rng_int(&G->r, 0, 3)) {
  case 0: st = rng_int(&G->r, 0, (int)d - 1); en = rng_int(&G->r, (int)st + 1, (int)d); break;
  case 1: st = 0; en = INT64_MAX; step = 2; break; /* clamped end */
  case 2: st = -1; en = INT64_MIN; step = -1; break; /* reverse */
  default: st = -(int64_t)rng_int(&G->r, 1, (int)d); en = INT64_MAX; break;
  }
  aicc_value *in[5] = {x, const_i64(G, 1, &st, false), const_i64(G, 1, &en, false),
                       const_i64(G, 1, &axis, false), NULL};
  int nin = 4;
  if (step != 1 || rng_chance(&G->r, 0.3)) {
    in[4] = const_i64(G, 1, &step, false);
    nin = 5;
  }
  return done(G, node(G, "Slice", in, nin, 1));
}

static aicc_value *g_reduce(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  if (t->rank < 1) return NULL;
  if (rng_chance(&G->r, 0.3)) {
    aicc_node *n = node(G, "Softmax", &x, 1, 1);
    set_int(G, n, "axis", rng_int(&G->r, -t->rank, t->rank - 1));
    return done(G, n);
  }
  int64_t axes[AICC_MAX_RANK];
  int k = 0;
  for (int i = 0; i < t->rank; i++)
    if (rng_chance(&G->r, 0.4)) axes[k++] = i;
  if (!k) axes[k++] = rng_int(&G->r, 0, t->rank - 1);
  bool mean = rng_chance(&G->r, 0.5);
  const char *op = mean ? "ReduceMean" : "ReduceSum";
  bool axes_input = !mean || G->opset >= 18;
  aicc_value *in[2] = {x, axes_input ? const_i64(G, k, axes, false) : NULL};
  aicc_node *n = node(G, op, in, axes_input ? 2 : 1, 1);
  if (!axes_input) set_ints(G, n, "axes", axes, k);
  if (rng_chance(&G->r, 0.5)) set_int(G, n, "keepdims", 0);
  return done(G, n);
}

/* Conv (+ BatchNormalization) (+ Relu) on a rank-4 value: Conv-BN folding. */
static aicc_value *g_conv(gen *G) {
  aicc_value *x = NULL;
  for (int tries = 0; tries < 8 && !x; tries++) {
    aicc_value *c = pick(G);
    const aicc_type *t = ty(c);
    if (t->rank == 4 && dim_static(t, 1) && dim_static(t, 2) && dim_static(t, 3) &&
        t->dims[1].size <= 8)
      x = c;
  }
  if (!x) return NULL;
  const aicc_type *t = ty(x);
  int64_t c = t->dims[1].size, h = t->dims[2].size, w = t->dims[3].size;
  int64_t pad = rng_int(&G->r, 0, 1), k = rng_int(&G->r, 1, 3);
  if (k > h + 2 * pad || k > w + 2 * pad) k = 1;
  bool dw = c > 1 && rng_chance(&G->r, 0.25);
  int64_t m = dw ? c : rng_int(&G->r, 1, 4);
  int64_t wd[4] = {m, dw ? 1 : c, k, k};
  double s = 1.0 / sqrt((double)(wd[1] * k * k));
  aicc_value *in[3] = {x, const_f32(G, 4, wd, -s, s), NULL};
  int nin = 2;
  if (rng_chance(&G->r, 0.5)) {
    in[2] = const_f32(G, 1, &m, -0.5, 0.5);
    nin = 3;
  }
  aicc_node *n = node(G, "Conv", in, nin, 1);
  int64_t pads[4] = {pad, pad, pad, pad}, strides[2] = {1, rng_int(&G->r, 1, 2)};
  if (pad) set_ints(G, n, "pads", pads, 4);
  if (rng_chance(&G->r, 0.3)) set_ints(G, n, "strides", strides, 2);
  if (dw) set_int(G, n, "group", c);
  aicc_value *y = done(G, n);
  if (y && rng_chance(&G->r, 0.7)) {
    aicc_value *bn[5] = {y, const_f32(G, 1, &m, 0.5, 1.5), const_f32(G, 1, &m, -0.5, 0.5),
                         const_f32(G, 1, &m, -0.5, 0.5), const_f32(G, 1, &m, 0.5, 2.0)};
    aicc_node *b = node(G, "BatchNormalization", bn, 5, 1);
    if (rng_chance(&G->r, 0.3)) set_float(G, b, "epsilon", 1e-3f);
    y = done(G, b);
  }
  if (y && rng_chance(&G->r, 0.6)) y = op1(G, "Relu", y);
  return y;
}

/* Shape -> Gather -> (Unsqueeze) -> Concat -> Reshape: the shape arithmetic
 * exporters emit; folds to a constant when the gathered dim is static. */
static aicc_value *g_shape_subgraph(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  if (t->rank < 2) return NULL;
  aicc_value *shp = op1(G, "Shape", x);
  if (rng_chance(&G->r, 0.2)) return op2(G, "Reshape", x, shp); /* a no-op reshape */
  bool scalar = rng_chance(&G->r, 0.5);
  int64_t zero = 0, minus1 = -1;
  aicc_value *in[2] = {shp, const_i64(G, 1, &zero, scalar)};
  aicc_node *gn = node(G, "Gather", in, 2, 1);
  set_int(G, gn, "axis", 0);
  aicc_value *d0 = done(G, gn);
  if (scalar) d0 = op2(G, "Unsqueeze", d0, const_i64(G, 1, &zero, false));
  aicc_value *cin[2] = {d0, const_i64(G, 1, &minus1, false)};
  aicc_node *cn = node(G, "Concat", cin, 2, 1);
  set_int(G, cn, "axis", 0);
  return op2(G, "Reshape", x, done(G, cn));
}

static aicc_value *scalar_f32(gen *G, double v, bool rank1) {
  int64_t one = 1;
  return const_fill(G, AICC_DTYPE_F32, rank1 ? 1 : 0, &one, v);
}

/* ReduceMean over `axes` with keepdims=1, as the opset wants the axes. */
static aicc_value *reduce_mean(gen *G, aicc_value *x, const int64_t *axes, int k) {
  bool axes_input = G->opset >= 18;
  aicc_value *in[2] = {x, axes_input ? const_i64(G, k, axes, false) : NULL};
  aicc_node *n = node(G, "ReduceMean", in, axes_input ? 2 : 1, 1);
  if (!axes_input) set_ints(G, n, "axes", axes, k);
  return done(G, n);
}

/* The exporter's decomposed LayerNorm (mean, Sub, Pow/Mul, mean, +eps,
 * Sqrt, Div, *gamma, +beta), and near misses: a reduction that is not a
 * trailing block, an eps that is not a scalar, a gamma that broadcasts over
 * more than the normalised axes. */
static aicc_value *g_layernorm(gen *G) {
  aicc_value *x = pick(G);
  const aicc_type *t = ty(x);
  int r = t->rank;
  if (r < 1 || !dim_static(t, r - 1)) return NULL;
  int64_t axes[2] = {-1, 0};
  int k = 1;
  int miss = rng_int(&G->r, 0, 9); /* 0..2: a near miss */
  if (r >= 2 && dim_static(t, r - 2) && rng_chance(&G->r, 0.3)) {
    axes[0] = r - 2;
    axes[1] = r - 1;
    k = 2;
  }
  if (miss == 0 && r >= 2) axes[0] = r - 2, k = 1; /* not the trailing block */
  aicc_value *mean = reduce_mean(G, x, axes, k);
  aicc_value *d = op2(G, "Sub", x, mean);
  aicc_value *sq = rng_chance(&G->r, 0.5) ? op2(G, "Pow", d, scalar_f32(G, 2.0, false)) : op2(G, "Mul", d, d);
  aicc_value *var = reduce_mean(G, sq, axes, k);
  /* eps well above float rounding: a row of equal values (Abs of a 2-wide
   * LayerNorm, say) has variance 0, and a tiny eps would turn rounding noise
   * into O(1) differences between equivalent formulas (seed 108). */
  aicc_value *eps = scalar_f32(G, rng_chance(&G->r, 0.5) ? 1e-2 : 1e-3, false);
  if (miss == 1) { /* eps one per element of the last axis */
    int64_t n = t->dims[r - 1].size;
    eps = const_f32(G, 1, &n, 1e-5, 1e-3);
  }
  aicc_value *sd = op1(G, "Sqrt", op2(G, "Add", var, eps));
  aicc_value *y = op2(G, "Div", d, sd);
  if (rng_chance(&G->r, 0.7)) {
    int64_t gd[2] = {t->dims[r - 1].size, 1};
    int gr = 1;
    if (k == 2) gd[0] = t->dims[r - 2].size, gd[1] = t->dims[r - 1].size, gr = 2;
    if (miss == 2 && r >= 2 && dim_static(t, r - 2)) /* gamma also over axis r-2 */
      gd[0] = t->dims[r - 2].size, gd[1] = t->dims[r - 1].size, gr = 2, k = 1;
    y = op2(G, "Mul", y, const_f32(G, gr, gd, 0.5, 1.5));
    if (rng_chance(&G->r, 0.7)) y = op2(G, "Add", y, const_f32(G, gr, gd, -0.5, 0.5));
  }
  return y;
}

/* x * 0.5 * (1 + Erf(x / sqrt 2)) and the tanh approximation, in several
 * associations; near misses use a wrong constant or another operand. */
static aicc_value *g_gelu(gen *G) {
  aicc_value *x = pick(G);
  bool miss = rng_chance(&G->r, 0.2);
  double half = miss && rng_chance(&G->r, 0.5) ? 0.4 : 0.5;
  aicc_value *z, *inner;
  if (rng_chance(&G->r, 0.6)) {
    double s2 = miss && half == 0.5 ? 1.5 : sqrt(2.0);
    z = rng_chance(&G->r, 0.5) ? op2(G, "Div", x, scalar_f32(G, s2, false))
                               : op2(G, "Mul", x, scalar_f32(G, 1.0 / s2, false));
    inner = op1(G, "Erf", z);
  } else {
    aicc_value *x3 = rng_chance(&G->r, 0.5) ? op2(G, "Pow", x, scalar_f32(G, 3.0, false))
                                            : op2(G, "Mul", op2(G, "Mul", x, x), x);
    aicc_value *a = op2(G, "Add", x, op2(G, "Mul", x3, scalar_f32(G, 0.044715, false)));
    double c = miss && half == 0.5 ? 0.8 : 0.7978845608028654 /* sqrt(2/pi) */;
    inner = op1(G, "Tanh", op2(G, "Mul", scalar_f32(G, c, false), a));
  }
  aicc_value *c1 = scalar_f32(G, 1.0, false);
  aicc_value *one = rng_chance(&G->r, 0.5) ? op2(G, "Add", inner, c1) : op2(G, "Add", c1, inner);
  switch (rng_int(&G->r, 0, 2)) {
  case 0: return op2(G, "Mul", op2(G, "Mul", x, scalar_f32(G, half, false)), one);
  case 1: return op2(G, "Mul", scalar_f32(G, half, false), op2(G, "Mul", x, one));
  default: return op2(G, "Mul", op2(G, "Mul", one, x), scalar_f32(G, half, true));
  }
}

/* Softmax(Q K^T * s [+ mask]) V on 4-D [B,H,T,d] values. */
static aicc_value *g_attention(gen *G) {
  aicc_value *q = NULL;
  for (int tries = 0; tries < 8 && !q; tries++) {
    aicc_value *c = pick(G);
    if (ty(c)->rank == 4 && dim_static(ty(c), 2) && dim_static(ty(c), 3)) q = c;
  }
  if (!q) return NULL;
  const aicc_type *t = ty(q);
  int64_t T = t->dims[2].size, d = t->dims[3].size;
  aicc_value *k = rng_chance(&G->r, 0.5) ? op1(G, "Tanh", q) : q;
  aicc_value *v = rng_chance(&G->r, 0.5) ? op1(G, "Sigmoid", q) : q;
  int64_t perm[4] = {0, 1, 3, 2};
  aicc_node *tn = node(G, "Transpose", &k, 1, 1);
  set_ints(G, tn, "perm", perm, 4);
  aicc_value *s = op2(G, "MatMul", q, done(G, tn));
  double sc = 1.0 / sqrt((double)d);
  s = rng_chance(&G->r, 0.5) ? op2(G, "Mul", s, scalar_f32(G, sc, rng_chance(&G->r, 0.3)))
                             : op2(G, "Div", s, scalar_f32(G, 1.0 / sc, false));
  if (rng_chance(&G->r, 0.4)) {
    int64_t md[4] = {1, 1, T, T};
    bool full = rng_chance(&G->r, 0.5); /* [1,1,T,T] or [T,T] */
    s = op2(G, "Add", s, const_f32(G, full ? 4 : 2, full ? md : md + 2, -2, 0));
  }
  aicc_node *sm = node(G, "Softmax", &s, 1, 1);
  set_int(G, sm, "axis", rng_chance(&G->r, 0.8) ? -1 : 3);
  return op2(G, "MatMul", done(G, sm), v);
}

/* Per-channel affine after a Conv, Gemm or MatMul: Mul/Add by a constant
 * with one number per channel (what rewrite folds into weights and bias),
 * or BatchNormalization after Gemm/MatMul; near misses broadcast wrongly. */
static aicc_value *g_affine(gen *G) {
  aicc_value *y = NULL;
  if (rng_chance(&G->r, 0.5)) {
    y = g_conv(G);
    while (y && y->producer && !strcmp(y->producer->op_type, "Relu")) y = y->producer->inputs[0];
    if (y && y->producer && !strcmp(y->producer->op_type, "BatchNormalization")) y = y->producer->inputs[0];
  } else {
    y = g_matmul(G);
  }
  if (!y || ty(y)->rank < 2 || !dim_static(ty(y), 1)) return y;
  const aicc_type *t = ty(y);
  int64_t C = t->dims[1].size, dims[AICC_MAX_RANK];
  int r = t->rank;
  for (int i = 0; i < AICC_MAX_RANK; i++) dims[i] = 1;
  if (t->rank == 2 && rng_chance(&G->r, 0.4)) { /* BN on a [N, C] value */
    aicc_value *bn[5] = {y, const_f32(G, 1, &C, 0.5, 1.5), const_f32(G, 1, &C, -0.5, 0.5),
                         const_f32(G, 1, &C, -0.5, 0.5), const_f32(G, 1, &C, 0.5, 2.0)};
    return done(G, node(G, "BatchNormalization", bn, 5, 1));
  }
  int cr;
  switch (rng_int(&G->r, 0, 3)) {
  case 0: cr = r - 1; dims[0] = C; break; /* [C,1,1]: per channel */
  case 1: cr = r; dims[1] = C; break;     /* [1,C,1,1] */
  case 2: cr = 0; break;                  /* scalar */
  default: /* near miss: one number per element of the last axis */
    cr = 1;
    dims[0] = dim_static(t, r - 1) ? t->dims[r - 1].size : 1;
    break;
  }
  aicc_value *c = const_f32(G, cr, dims, 0.5, 1.5);
  const char *op = rng_chance(&G->r, 0.5) ? "Mul" : "Add";
  return rng_chance(&G->r, 0.2) ? op2(G, op, c, y) : op2(G, op, y, c);
}

/* A computation on constants only (folds away), then combined with x. */
static aicc_value *g_const_expr(gen *G) {
  aicc_value *x = pick(G);
  int64_t dims[AICC_MAX_RANK];
  int r = bcast_dims(G, ty(x), dims);
  aicc_value *c = const_f32(G, r, dims, -1, 1);
  int steps = rng_int(&G->r, 1, 3);
  for (int i = 0; i < steps && c; i++) {
    switch (rng_int(&G->r, 0, 3)) {
    case 0: c = op1(G, "Tanh", c); break;
    case 1: c = op2(G, "Mul", c, const_f32(G, r, dims, -1, 1)); break;
    case 2: c = op2(G, "Add", const_fill(G, AICC_DTYPE_F32, 0, dims, 0.5), c); break;
    default: {
      aicc_node *n = node(G, "Cast", &c, 1, 1);
      set_int(G, n, "to", AICC_DTYPE_F64);
      aicc_value *c64 = done(G, n);
      aicc_node *n2 = node(G, "Cast", &c64, 1, 1);
      set_int(G, n2, "to", AICC_DTYPE_F32);
      c = done(G, n2);
    }
    }
  }
  return op2(G, rng_chance(&G->r, 0.5) ? "Add" : "Mul", x, c);
}

/* One branch of an If: a shape-preserving computation on the outer value x
 * (outer values are used from inside the subgraph), sometimes with a dead
 * node, a Constant, or the same node as one outside (CSE across scopes). */
static aicc_graph *branch(gen *G, aicc_value *x, const char *name) {
  aicc_graph *outer = G->g, *sub = NULL;
  if (G->err || (G->err = aicc_graph_create(G->m, outer, name, &sub))) return NULL;
  G->g = sub;
  static const char *ops[] = {"Relu", "Neg", "Tanh", "Sigmoid", "Abs", "Identity"};
  aicc_value *v = op1(G, ops[rng_int(&G->r, 0, 5)], x);
  if (rng_chance(&G->r, 0.3)) op1(G, "Exp", op1(G, "Tanh", x)); /* dead inside */
  if (rng_chance(&G->r, 0.4)) {
    int64_t one = 1;
    v = op2(G, "Mul", v, const_fill(G, AICC_DTYPE_F32, 0, &one, rng_unif(&G->r, 0.5, 2)));
  }
  if (v && !G->err) G->err = aicc_graph_output_add(sub, v);
  G->g = outer;
  return G->err ? NULL : sub;
}

/* If(cond, then, else) whose branches read outer values; cond from the data
 * (ReduceSum(x) > 0) or a constant (foldable). */
static aicc_value *g_if(gen *G) {
  aicc_value *x = pick(G);
  aicc_value *c;
  if (rng_chance(&G->r, 0.3)) {
    aicc_tensor *t = tensor_new(G, AICC_DTYPE_BOOL, 0, NULL);
    if (!t) return NULL;
    aicc_tensor_set_i64(t, 0, rng_chance(&G->r, 0.5));
    c = konst(G, t, true);
  } else {
    aicc_node *rs = node(G, "ReduceSum", &x, 1, 1);
    set_int(G, rs, "keepdims", 0);
    int64_t one = 1;
    /* The threshold is no round number: sums that are 0 or 1 by structure
     * (a normalised row, a softmax) would otherwise branch on rounding noise
     * (seed 14482). */
    c = op2(G, "Greater", done(G, rs), const_fill(G, AICC_DTYPE_F32, 0, &one, rng_unif(&G->r, -1, 1) + 0.1234567));
  }
  aicc_graph *th = branch(G, x, "then_branch"), *el = branch(G, x, "else_branch");
  if (!c || !th || !el) return NULL;
  aicc_node *n = node(G, "If", &c, 1, 1);
  if (!n || (G->err = aicc_node_attrs_alloc(n, 2))) return NULL;
  n->attrs[0] = (aicc_attr){.name = "then_branch", .kind = AICC_ATTR_GRAPH, .g = th};
  n->attrs[1] = (aicc_attr){.name = "else_branch", .kind = AICC_ATTR_GRAPH, .g = el};
  return done(G, n);
}

/* Clip with constant bounds (Relu6-like), or Clip with no bounds. */
static aicc_value *g_clip(gen *G) {
  aicc_value *x = pick(G);
  int64_t one = 1;
  aicc_value *in[3] = {x, NULL, NULL};
  int nin = rng_int(&G->r, 1, 3);
  if (nin >= 2) in[1] = rng_chance(&G->r, 0.8) ? const_fill(G, AICC_DTYPE_F32, 0, &one, rng_chance(&G->r, 0.5) ? 0.0 : -1.0) : NULL;
  if (nin == 3) in[2] = const_fill(G, AICC_DTYPE_F32, 0, &one, rng_chance(&G->r, 0.5) ? 6.0 : 0.5);
  return done(G, node(G, "Clip", in, nin, 1));
}

/* A copy of an existing node (same inputs, same attributes): for CSE. */
static aicc_value *g_duplicate(gen *G) {
  aicc_graph *g = G->g;
  if (!g->nodes.len) return NULL;
  aicc_node *src = g->nodes.data[rng_int(&G->r, 0, (int)g->nodes.len - 1)];
  for (int a = 0; a < src->n_attrs; a++) /* a subgraph belongs to one node */
    if (src->attrs[a].kind == AICC_ATTR_GRAPH || src->attrs[a].kind == AICC_ATTR_GRAPHS) return NULL;
  aicc_node *n = node(G, src->op_type, src->inputs, src->n_inputs, src->n_outputs);
  if (!n) return NULL;
  if ((G->err = aicc_node_attrs_copy(n, src))) return NULL;
  aicc_value *y = done(G, n);
  for (int i = 1; y && i < n->n_outputs; i++) pool_add(G, n->outputs[i]);
  return y;
}

typedef aicc_value *(*gen_fn)(gen *G);
typedef struct gen_row {
  const char *name;
  gen_fn fn;
  int weight;
} gen_row;

static const gen_row generators[] = {
    {"unary", g_unary, 14},     {"binary", g_binary, 16},   {"trivial", g_trivial, 10},
    {"matmul", g_matmul, 8},    {"transpose", g_transpose, 6}, {"reshape", g_reshape, 8},
    {"cast", g_cast, 3},        {"concat", g_concat, 5},    {"split", g_split, 4},
    {"slice", g_slice, 5},      {"reduce", g_reduce, 6},    {"conv", g_conv, 6},
    {"shape", g_shape_subgraph, 4}, {"duplicate", g_duplicate, 8},
    {"layernorm", g_layernorm, 3}, {"gelu", g_gelu, 3},       {"attention", g_attention, 3},
    {"affine", g_affine, 5},    {"const_expr", g_const_expr, 4}, {"if", g_if, 3},
    {"clip", g_clip, 3},
};

static aicc_value *make_input(gen *G, int idx, bool batch) {
  aicc_type t;
  memset(&t, 0, sizeof t);
  t.kind = AICC_KIND_TENSOR;
  t.dtype = AICC_DTYPE_F32;
  bool img = rng_chance(&G->r, 0.3);
  t.rank = img ? 4 : rng_int(&G->r, 1, 3);
  for (int i = 0; i < t.rank; i++)
    t.dims[i] = aicc_dim_known(img && i == 1 ? rng_int(&G->r, 1, 4) : rng_int(&G->r, 1, 6));
  if (batch && t.rank >= 2) t.dims[0] = (aicc_dim){-1, "N"};
  char name[16];
  snprintf(name, sizeof name, "x%d", idx);
  aicc_value *v = NULL;
  if (!G->err) G->err = aicc_graph_value_add(G->g, name, &t, &v);
  if (!G->err) G->err = aicc_graph_input_add(G->g, v);
  return G->err ? NULL : v;
}

/* Builds the model of `seed`. Returns NULL with *err set on a generator bug. */
static aicc_model *generate(uint64_t seed, aicc_status *err) {
  gen G;
  memset(&G, 0, sizeof G);
  G.r.s = seed * 0x2545f4914f6cdd1dull + 1;
  *err = NULL;
  static const int opsets[] = {13, 17, 18, 20, 23};
  G.opset = opsets[rng_int(&G.r, 0, 4)];
  if ((G.err = aicc_model_create("random.ir", &G.m))) goto fail;
  G.g = G.m->graph;
  if ((G.err = aicc_model_opset_set(G.m, "", G.opset))) goto fail;
  bool batch = rng_chance(&G.r, 0.3);
  int n_in = rng_int(&G.r, 1, 3);
  for (int i = 0; i < n_in; i++) pool_add(&G, make_input(&G, i, batch));
  if (G.err) goto fail;
  G.max_nodes = rng_int(&G.r, 5, 40);
  int total = 0;
  for (size_t i = 0; i < sizeof generators / sizeof generators[0]; i++) total += generators[i].weight;
  aicc_value *last = G.pool[G.npool - 1];
  for (int tries = 0; G.nodes < G.max_nodes && tries < 400 && !G.err; tries++) {
    int w = rng_int(&G.r, 0, total - 1);
    size_t k = 0;
    while (w >= generators[k].weight) w -= generators[k++].weight;
    aicc_value *v = generators[k].fn(&G);
    if (v && !G.err) {
      pool_add(&G, v);
      last = v;
    }
  }
  if (G.err) goto fail;
  /* Outputs: the last value, plus up to two others; sometimes a Shape. */
  aicc_value *outs[8] = {last};
  int n_out = 1;
  if (ty(last)->kind != AICC_KIND_TENSOR) n_out = 0;
  int extra = rng_int(&G.r, 0, 3);
  for (int i = 0; i < extra; i++) {
    /* Mostly sinks (unused values), so more of the graph stays live; the
     * rest of the pool is dead code. */
    aicc_value *v = G.pool[rng_int(&G.r, 0, G.npool - 1)];
    for (int tries = 0; tries < 16 && rng_chance(&G.r, 0.8); tries++) {
      aicc_value *c = G.pool[rng_int(&G.r, 0, G.npool - 1)];
      if (c->producer && !aicc_graph_value_use_count(G.g, c)) {
        v = c;
        break;
      }
    }
    bool dup = !v->producer; /* never a graph input as output */
    for (int j = 0; j < n_out; j++) dup |= outs[j] == v;
    if (!dup) outs[n_out++] = v;
  }
  if (rng_chance(&G.r, 0.1)) outs[n_out++] = op1(&G, "Shape", G.pool[rng_int(&G.r, 0, G.npool - 1)]);
  if (!n_out || !last->producer) outs[n_out++] = op1(&G, "Identity", G.pool[0]);
  for (int i = 0; i < n_out && !G.err; i++) G.err = aicc_graph_output_add(G.g, outs[i]);
  if (!G.err) G.err = aicc_model_verify(G.m);
  if (G.err) goto fail;
  return G.m;
fail:
  *err = aicc_status_wrap(G.err, "generator (seed %llu)", (unsigned long long)seed);
  aicc_model_destroy(G.m);
  return NULL;
}

/* ---- running and comparing ---- */

typedef struct io {
  aicc_tensor *in[MAX_IO];
  int n_in;
  aicc_tensor *out[MAX_IO];
  int n_out;
} io;

static void io_release_outputs(io *x) {
  for (int i = 0; i < x->n_out; i++) aicc_tensor_release(x->out[i]);
  memset(x->out, 0, sizeof x->out);
}

static void io_fini(io *x) {
  io_release_outputs(x);
  for (int i = 0; i < x->n_in; i++) aicc_tensor_release(x->in[i]);
  memset(x, 0, sizeof *x);
}

/* Random inputs for m's graph inputs; symbolic dims bind to one size each
 * (the same symbol gets the same size). Deterministic in seed. */
static aicc_status make_inputs(const aicc_model *m, uint64_t seed, io *x) {
  rng r = {seed ^ 0xd1b54a32d192ed03ull};
  int64_t batch = rng_int(&r, 1, 4);
  const aicc_graph *g = m->graph;
  x->n_in = (int)g->inputs.len;
  x->n_out = (int)g->outputs.len;
  if (x->n_in > MAX_IO || x->n_out > MAX_IO) return aicc_errorf(AICC_ERR_INVALID, "too many inputs/outputs");
  for (int i = 0; i < x->n_in; i++) {
    const aicc_type *t = &g->inputs.data[i]->type;
    int64_t d[AICC_MAX_RANK];
    for (int k = 0; k < t->rank; k++) d[k] = aicc_dim_is_known(t->dims[k]) ? t->dims[k].size : batch;
    AICC_TRY(aicc_tensor_create(t->dtype, t->rank, d, &x->in[i]));
    for (int64_t e = 0; e < aicc_tensor_numel(x->in[i]); e++)
      aicc_tensor_set_f64(x->in[i], e, (float)rng_unif(&r, -2, 2));
  }
  return NULL;
}

static aicc_status run(const aicc_model *m, io *x) {
  io_release_outputs(x);
  return aicc_interp_run(m, x->in, x->n_in, x->out, x->n_out);
}

/* Compares two runs' outputs; writes the first difference into why. */
static bool same_outputs(const io *a, const io *b, double rtol, double atol, char *why, size_t n) {
  for (int i = 0; i < a->n_out; i++) {
    aicc_compare_result r;
    aicc_tensor_compare(a->out[i], b->out[i], rtol, atol, &r);
    if (!r.match) {
      snprintf(why, n, "output %d: %s (max abs %.3g, max rel %.3g, %lld bad)", i, r.why, r.max_abs,
               r.max_rel, (long long)r.n_bad);
      return false;
    }
  }
  return true;
}

static aicc_model *clone(const aicc_model *m, aicc_status *err) {
  char *text = NULL;
  size_t len = 0;
  aicc_model *c = NULL;
  *err = aicc_model_print_string(m, NULL, &text, &len);
  if (!*err) *err = aicc_model_parse(text, len, "clone.ir", &c);
  free(text);
  return c;
}

typedef struct totals {
  int64_t graphs, mismatches, gen_errors, pass_runs_changed, changes;
  int64_t nodes_before, nodes_after;
  int64_t per_pass[64];
  const char *per_pass_name[64];
  int n_pass;
} totals;

static void tally(totals *T, const aicc_pass_ctx *ctx) {
  for (size_t i = 0; i < ctx->stats.len; i++) {
    const aicc_pass_stats *s = &ctx->stats.data[i];
    if (!s->changes) continue;
    T->pass_runs_changed++;
    T->changes += s->changes;
    int k = 0;
    while (k < T->n_pass && strcmp(T->per_pass_name[k], s->pass)) k++;
    if (k == T->n_pass && k < 64) T->per_pass_name[T->n_pass++] = s->pass;
    if (k < 64) T->per_pass[k] += s->changes;
  }
}

/* Checks one model: the outcome is "" (ok) or the reason in why. Runs the
 * passes step by step when `blame` is set, naming the first pass after
 * which the outputs differ. opt_out (optional) gets the optimised text. */
static bool check_model(const aicc_model *orig, uint64_t seed, totals *T, bool blame, char *why,
                        size_t wn, char **opt_text) {
  io ref = {0}, got = {0};
  aicc_status s = NULL;
  aicc_pipeline pl = {0};
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  ctx.verify = true;
  ctx.opt_level = 3;
  bool ok = false;
  why[0] = 0;
  aicc_model *m = clone(orig, &s);
  if (s) {
    snprintf(why, wn, "text round trip of the input model: %s", aicc_status_message(s));
    goto out;
  }
  if ((s = make_inputs(m, seed, &ref)) || (s = make_inputs(m, seed, &got))) goto err;
  if ((s = run(m, &ref))) {
    snprintf(why, wn, "interpreter on the unoptimised model: %s", aicc_status_message(s));
    goto out;
  }
  if ((s = aicc_pipeline_for_level(3, &pl))) goto err;
  if (!blame) {
    if ((s = aicc_pipeline_run(m, &pl, &ctx))) {
      snprintf(why, wn, "pipeline: %s", aicc_status_message(s));
      goto out;
    }
  } else {
    /* The pipeline's schedule, one pass at a time, comparing after each. */
    for (int i = 0; i < pl.n;) {
      int g = pl.steps[i].group, end = i + 1;
      if (g)
        while (end < pl.n && pl.steps[end].group == g) end++;
      for (int round = 0; round < (g ? AICC_FIXPOINT_MAX : 1); round++) {
        int64_t changed = 0;
        for (int k = i; k < end; k++) {
          const char *pn = pl.steps[k].pass->name;
          if ((s = aicc_pass_run(m, pl.steps[k].pass, &ctx))) {
            snprintf(why, wn, "pass '%s' (round %d): %s", pn, round, aicc_status_message(s));
            goto out;
          }
          changed += ctx.changes;
          if ((s = run(m, &got))) {
            snprintf(why, wn, "after pass '%s' (round %d): interpreter: %s", pn, round,
                     aicc_status_message(s));
            goto out;
          }
          char d[400];
          if (!same_outputs(&ref, &got, RTOL, ATOL, d, sizeof d)) {
            snprintf(why, wn, "after pass '%s' (round %d): %s", pn, round, d);
            goto out;
          }
        }
        if (!changed) break;
      }
      i = end;
    }
  }
  if ((s = run(m, &got))) {
    snprintf(why, wn, "interpreter on the optimised model: %s", aicc_status_message(s));
    goto out;
  }
  char d[400];
  if (!same_outputs(&ref, &got, RTOL, ATOL, d, sizeof d)) {
    snprintf(why, wn, "outputs differ: %s", d);
    goto out;
  }
  if ((s = aicc_model_verify(m))) {
    snprintf(why, wn, "verifier after -O3: %s", aicc_status_message(s));
    goto out;
  }
  /* The optimised text round-trips, verifies, and computes the same. */
  {
    char *t1 = NULL, *t2 = NULL;
    size_t l1 = 0, l2 = 0;
    aicc_model *m2 = NULL;
    if ((s = aicc_model_print_string(m, NULL, &t1, &l1))) goto err;
    if (opt_text) *opt_text = strdup(t1);
    s = aicc_model_parse(t1, l1, "optimised.ir", &m2);
    if (!s) s = aicc_model_print_string(m2, NULL, &t2, &l2);
    if (s) {
      snprintf(why, wn, "reparsing the optimised text: %s", aicc_status_message(s));
    } else if (l1 != l2 || memcmp(t1, t2, l1)) {
      snprintf(why, wn, "optimised text does not round-trip");
    } else if ((s = aicc_model_verify(m2))) {
      snprintf(why, wn, "verifier on the reparsed optimised model: %s", aicc_status_message(s));
    } else if ((s = run(m2, &got))) {
      snprintf(why, wn, "interpreter on the reparsed optimised model: %s", aicc_status_message(s));
    } else if (!same_outputs(&ref, &got, RTOL, ATOL, d, sizeof d)) {
      snprintf(why, wn, "reparsed optimised model: %s", d);
    } else {
      ok = true;
    }
    free(t1);
    free(t2);
    aicc_model_destroy(m2);
    if (ok && T) {
      T->nodes_before += aicc_model_node_count(orig);
      T->nodes_after += aicc_model_node_count(m);
      tally(T, &ctx);
    }
    goto out;
  }
err:
  snprintf(why, wn, "%s", aicc_status_message(s));
out:
  aicc_status_free(s);
  aicc_pipeline_fini(&pl);
  aicc_pass_ctx_fini(&ctx);
  io_fini(&ref);
  io_fini(&got);
  aicc_model_destroy(m);
  return ok;
}

/* ---- reduction: shrink a failing model while it keeps failing ---- */

static bool fails_text(const char *text, uint64_t seed) {
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse(text, strlen(text), "reduce.ir", &m);
  if (!s) s = aicc_model_verify(m);
  bool f = false;
  if (!s) {
    char why[1024];
    f = !check_model(m, seed, NULL, false, why, sizeof why, NULL) &&
        !strstr(why, "unoptimised model") && !strstr(why, "of the input model");
  }
  aicc_status_free(s);
  aicc_model_destroy(m);
  return f;
}

/* One candidate edit of text: keep only output `k` (kind 0) or bypass node
 * `k` by one of its same-typed inputs (kind 1); then drop dead nodes. Returns
 * new text or NULL when the edit does not apply. */
static char *edit(const char *text, int kind, int k, int which) {
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse(text, strlen(text), "reduce.ir", &m);
  char *out = NULL;
  size_t len;
  bool applied = false;
  if (s) goto done;
  aicc_graph *g = m->graph;
  if (kind == 0) {
    if (g->outputs.len < 2 || (size_t)k >= g->outputs.len) goto done;
    g->outputs.data[0] = g->outputs.data[k];
    g->outputs.len = 1;
    applied = true;
  } else {
    if ((size_t)k >= g->nodes.len) goto done;
    aicc_node *n = g->nodes.data[k];
    if (n->n_outputs != 1 || which >= n->n_inputs || !n->inputs[which]) goto done;
    aicc_value *in = n->inputs[which];
    if (!aicc_type_equal(&in->type, &n->outputs[0]->type)) goto done;
    for (size_t o = 0; o < g->outputs.len; o++)
      if (g->outputs.data[o] == n->outputs[0] && !in->producer) goto done;
    aicc_graph_value_replace_uses(g, n->outputs[0], in);
    aicc_graph_node_remove(g, n);
    applied = true;
  }
  const aicc_pass *dce = aicc_pass_find("dce");
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  if (dce) s = aicc_pass_run(m, dce, &ctx);
  aicc_pass_ctx_fini(&ctx);
  if (!s) s = aicc_model_print_string(m, NULL, &out, &len);
done:
  aicc_status_free(s);
  aicc_model_destroy(m);
  if (!applied) {
    free(out);
    return NULL;
  }
  return out;
}

/* Greedy reduction (a cheap ddmin): try every edit, keep those that still
 * fail, repeat until nothing applies. Returns a new string. */
static char *reduce(const char *text, uint64_t seed) {
  char *cur = strdup(text);
  for (bool progress = true; progress;) {
    progress = false;
    for (int kind = 0; kind < 2 && !progress; kind++)
      for (int k = 0; k < 64 && !progress; k++)
        for (int w = 0; w < (kind ? 5 : 1) && !progress; w++) {
          char *c = edit(cur, kind, k, w);
          if (!c) continue;
          if (strcmp(c, cur) && fails_text(c, seed)) {
            free(cur);
            cur = c;
            progress = true;
          } else {
            free(c);
          }
        }
  }
  return cur;
}

static void print_model(const char *title, const aicc_model *m) {
  printf("--- %s ---\n", title);
  aicc_status s = aicc_model_print(m, NULL, stdout);
  if (s) printf("(print failed: %s)\n", aicc_status_message(s));
  aicc_status_free(s);
}

/* Reports a failure: the pass to blame, the IR before, the reduced
 * reproduction and, when the pipeline got through, the IR after. */
static void report(const aicc_model *m, uint64_t seed, const char *why) {
  char blame[1024];
  printf("MISMATCH seed %llu: %s\n", (unsigned long long)seed, why);
  check_model(m, seed, NULL, true, blame, sizeof blame, NULL);
  printf("  pass by pass: %s\n", blame[0] ? blame : "(no difference when run pass by pass)");
  print_model("IR before", m);
  char *text = NULL;
  size_t len;
  aicc_status s = aicc_model_print_string(m, NULL, &text, &len);
  if (!s && fails_text(text, seed)) {
    char *small = reduce(text, seed);
    printf("--- reduced reproduction (fails the same way with the same seed) ---\n%s", small);
    free(small);
  }
  aicc_status_free(s);
  free(text);
  /* The optimised IR, when the pipeline ran to the end. */
  aicc_model *c = clone(m, &s);
  aicc_pipeline pl = {0};
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  if (!s) s = aicc_pipeline_for_level(3, &pl);
  if (!s) s = aicc_pipeline_run(c, &pl, &ctx);
  if (!s) print_model("IR after -O3", c);
  else printf("--- IR after -O3: pipeline failed: %s ---\n", aicc_status_message(s));
  aicc_status_free(s);
  aicc_pipeline_fini(&pl);
  aicc_pass_ctx_fini(&ctx);
  aicc_model_destroy(c);
  fflush(stdout);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int usage(void) {
  fprintf(stderr,
          "usage: random_graphs [--seed S] [--count N] [--seconds T] [--print] [--keep-going]\n"
          "  runs seeds S..S+N-1 (default 1, 1000) or until T seconds have passed\n"
          "  --print: print each seed's model; --keep-going: do not stop at the first mismatch\n");
  return 2;
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  int64_t count = 1000;
  double seconds = 0;
  bool print = false, keep_going = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = strtoll(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = strtod(argv[++i], NULL);
    else if (!strcmp(argv[i], "--print")) print = true;
    else if (!strcmp(argv[i], "--keep-going")) keep_going = true;
    else return usage();
  }
  aicc_pipeline pl;
  aicc_status s = aicc_pipeline_for_level(3, &pl);
  if (s) {
    fprintf(stderr, "random_graphs: %s\n", aicc_status_message(s));
    return 1;
  }
  printf("-O3 pipeline:");
  for (int i = 0; i < pl.n; i++) printf(" %s%s", pl.steps[i].pass->name, pl.steps[i].group ? "*" : "");
  printf("  (* = fixpoint group)\n");
  aicc_pipeline_fini(&pl);

  totals T;
  memset(&T, 0, sizeof T);
  double t0 = now_s();
  for (int64_t i = 0; i < count; i++) {
    if (seconds > 0 && now_s() - t0 > seconds) break;
    uint64_t sd = seed + (uint64_t)i;
    aicc_status err = NULL;
    aicc_model *m = generate(sd, &err);
    T.graphs++;
    if (!m) {
      printf("GENERATOR ERROR seed %llu: %s\n", (unsigned long long)sd, aicc_status_message(err));
      aicc_status_free(err);
      T.gen_errors++;
      if (!keep_going) break;
      continue;
    }
    if (print) print_model("model", m);
    char *opt_text = NULL;
    char why[2048];
    bool ok = check_model(m, sd, &T, false, why, sizeof why, print ? &opt_text : NULL);
    if (opt_text) printf("--- after -O3 ---\n%s", opt_text);
    free(opt_text);
    if (!ok) {
      if (strstr(why, "unoptimised model")) {
        /* The generator made something the interpreter rejects: its bug. */
        printf("GENERATOR ERROR seed %llu: %s\n", (unsigned long long)sd, why);
        T.gen_errors++;
      } else {
        T.mismatches++;
        report(m, sd, why);
      }
      aicc_model_destroy(m);
      if (!keep_going) break;
      continue;
    }
    aicc_model_destroy(m);
  }
  printf("nodes %lld -> %lld over all graphs; changes by pass:", (long long)T.nodes_before,
         (long long)T.nodes_after);
  for (int k = 0; k < T.n_pass; k++) printf(" %s=%lld", T.per_pass_name[k], (long long)T.per_pass[k]);
  printf("\n%lld graphs, %lld mismatches, %lld passes applied", (long long)T.graphs,
         (long long)T.mismatches, (long long)T.pass_runs_changed);
  if (T.gen_errors) printf(", %lld generator errors", (long long)T.gen_errors);
  printf(" (%.1f s)\n", now_s() - t0);
  return T.mismatches || T.gen_errors ? 1 : 0;
}
