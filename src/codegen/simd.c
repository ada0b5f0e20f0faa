/* Vectorized loops as AVX-512 / AVX2 intrinsics. A vectorized loop of
 * constant extent, a multiple of the lanes, whose body computes in one float
 * type (the lane type) becomes a loop stepping by the lane count; each C
 * variable keeps lane 0's value, so index arithmetic stays scalar: an integer
 * that varies across lanes must be affine in the loop variable with a constant
 * coefficient (known per variable), which makes every access either
 * contiguous (flattened coefficient 1: loadu/storeu), lane-invariant
 * (coefficient 0: a scalar access, broadcast) or, for loads only, strided (a
 * gather with constant indices). Anything else (scatters,
 * integer lanes, conditions that vary across lanes, allocations) leaves the
 * loop scalar with the reason, which c.c writes as a comment. */
#include "codegen/codegen_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const cg_visa visas[] = {
    {"512f", AICC_DTYPE_F32, 16, "__m512", "_mm512_", "ps", "__mmask16", "AICC_TARGET_AVX512",
     "__m512i", "_mm512_", "_mm512_cvtepi32_ps"},
    {"512d", AICC_DTYPE_F64, 8, "__m512d", "_mm512_", "pd", "__mmask8", "AICC_TARGET_AVX512",
     "__m256i", "_mm256_", "_mm512_cvtepi32_pd"},
    {"256f", AICC_DTYPE_F32, 8, "__m256", "_mm256_", "ps", NULL, "AICC_TARGET_AVX2", "__m256i",
     "_mm256_", "_mm256_cvtepi32_ps"},
    {"256d", AICC_DTYPE_F64, 4, "__m256d", "_mm256_", "pd", NULL, "AICC_TARGET_AVX2", "__m128i",
     "_mm_", "_mm256_cvtepi32_pd"},
};

static bool why(cg *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool why(cg *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->why, sizeof g->why, fmt, ap);
  va_end(ap);
  return false;
}

bool cg_simd_depends(const cg *g, const aicc_loop_expr *e) {
  if (e->op == AICC_LOOP_VAR) {
    const cg_bind *b = cg_lookup(g, e);
    return b && (b->vector || (b->affine && b->coef != 0));
  }
  for (uint32_t k = 0; k < e->nargs; k++)
    if (cg_simd_depends(g, e->args[k])) return true;
  return false;
}

static bool wide_int(aicc_dtype t) { return t == AICC_DTYPE_I32 || t == AICC_DTYPE_I64; }

/* Lane l's value of integer e is lane 0's + *c * l. */
static bool affine(const cg *g, const aicc_loop_expr *e, int64_t *c) {
  if (!cg_simd_depends(g, e)) {
    *c = 0;
    return true;
  }
  if (!wide_int(e->type)) return false;
  int64_t a, b, k;
  switch (e->op) {
  case AICC_LOOP_VAR: {
    const cg_bind *bd = cg_lookup(g, e);
    *c = bd->coef;
    return bd->affine;
  }
  case AICC_LOOP_ADD:
  case AICC_LOOP_SUB:
    if (!affine(g, e->args[0], &a) || !affine(g, e->args[1], &b)) return false;
    *c = e->op == AICC_LOOP_ADD ? a + b : a - b;
    return true;
  case AICC_LOOP_MUL:
    if (aicc_loop_expr_is_int_const(e->args[0], &k) && affine(g, e->args[1], &b)) {
      *c = k * b;
      return true;
    }
    if (aicc_loop_expr_is_int_const(e->args[1], &k) && affine(g, e->args[0], &a)) {
      *c = k * a;
      return true;
    }
    return false;
  case AICC_LOOP_CAST: return wide_int(e->args[0]->type) && affine(g, e->args[0], c);
  default: return false;
  }
}

/* The flattened coefficient of an access (dims of extent 1 read index 0). */
static bool access_coef(cg *g, const aicc_loop_buffer *b, const aicc_loop_expr *const *index,
                        int64_t *coef) {
  const cg_buffer_info *bi = cg_buffer(g, b);
  if (!bi) return why(g, "buffer %s is not bound", b->name);
  *coef = 0;
  for (int k = 0; k < b->rank; k++) {
    int64_t ext = 0, c;
    (void)aicc_loop_expr_is_int_const(b->shape[k], &ext);
    if (ext == 1) continue;
    if (!affine(g, index[k], &c)) return why(g, "index %d of %s is not affine in the lanes", k, b->name);
    *coef += c * bi->strides[k];
  }
  return true;
}

/* ---- checks ---- */

static bool check_value(cg *g, const cg_visa *v, const aicc_loop_expr *e);

/* A load whose lanes are c elements apart becomes a gather when every lane's
 * offset from lane 0 fits the gather's 32-bit indices (a layout transform's
 * strided side: the blocked conv's NCHW <-> NCHW16c copies). */
static bool gather_ok(int64_t c, const cg_visa *v) {
  int64_t m = c < 0 ? -c : c;
  return m <= INT32_MAX / v->lanes;
}

/* A clamped load: x[.., clamp(a), ..] where the clamp is max(a, lo),
 * min(a, hi) or both with constants, a is affine in the lanes with
 * coefficient 1 in the innermost dim (stride 1) and no other dim varies across
 * the lanes (a padded copy's read of its input row: select(in range,
 * x[max(q - pad, 0)], 0)). With AVX-512 it is a masked load of the lanes
 * inside [lo, hi], the others taking x at lo or hi as the clamp says, so no
 * lane reads outside the buffer. Sets *a, *lo, *hi (INT32_MIN/MAX: no bound). */
enum { CLAMP_MAX_RANK = 16 }; /* the loop IR's rank limit (loop/compute.h) */

typedef struct clamp_load {
  const aicc_loop_expr *a;
  int64_t lo, hi;
} clamp_load;

static bool clamp_parts(const aicc_loop_expr *e, clamp_load *cl) {
  int64_t k;
  for (int depth = 0; depth < 2 && (e->op == AICC_LOOP_MAX || e->op == AICC_LOOP_MIN); depth++) {
    const aicc_loop_expr *x = e->args[0];
    if (!aicc_loop_expr_is_int_const(e->args[1], &k)) {
      if (!aicc_loop_expr_is_int_const(e->args[0], &k)) return false;
      x = e->args[1];
    }
    if (e->op == AICC_LOOP_MAX) cl->lo = k > cl->lo ? k : cl->lo;
    else cl->hi = k < cl->hi ? k : cl->hi;
    e = x;
  }
  cl->a = e;
  return cl->lo > INT32_MIN || cl->hi < INT32_MAX;
}

static bool clamped_load(cg *g, const cg_visa *v, const aicc_loop_expr *e, clamp_load *cl) {
  const aicc_loop_buffer *b = e->buf;
  const cg_buffer_info *bi = cg_buffer(g, b);
  int last = b->rank - 1;
  if (!v->mt || !bi || last < 0 || b->rank > CLAMP_MAX_RANK || bi->strides[last] != 1 ||
      e->args[last]->type != AICC_DTYPE_I32)
    return false;
  *cl = (clamp_load){.lo = INT32_MIN, .hi = INT32_MAX};
  int64_t c;
  if (!clamp_parts(e->args[last], cl) || cl->lo > cl->hi || !affine(g, cl->a, &c) || c != 1)
    return false;
  for (int k = 0; k < last; k++)
    if (cg_simd_depends(g, e->args[k])) return false;
  return true;
}

/* The helper of a clamped load: p is lane 0's element at the unclamped a0. */
static const char *clamp_load_fn(cg *g, const cg_visa *v) {
  char name[64], def[1400], iota[160] = "";
  const char *ct = v->lane == AICC_DTYPE_F32 ? "float" : "double";
  snprintf(name, sizeof name, "aicc_clamp_load_%s", v->tag);
  for (int l = 0, n = 0; l < v->lanes; l++)
    n += snprintf(iota + n, sizeof iota - (size_t)n, "%s%d", l ? ", " : "", l);
  /* f64 lanes compare 8 i32 lanes of a 256-bit vector (AVX-512VL). */
  bool f32 = v->lane == AICC_DTYPE_F32;
  const char *ip = f32 ? "_mm512_" : "_mm256_";
  snprintf(def, sizeof def,
           "static inline %s %s %s(const %s *p, int32_t a0, int32_t lo, int32_t hi) {\n"
           "  %s a = %sadd_epi32(%sset1_epi32(a0), %ssetr_epi32(%s));\n"
           "  %s below = %scmp_epi32_mask(a, %sset1_epi32(lo), _MM_CMPINT_LT);\n"
           "  %s above = %scmp_epi32_mask(a, %sset1_epi32(hi), _MM_CMPINT_NLE);\n"
           "  %s edge = %ssetzero_%s();\n"
           "  if (below) edge = %smask_mov_%s(edge, below, %sset1_%s(p[(int64_t)lo - a0]));\n"
           "  if (above) edge = %smask_mov_%s(edge, above, %sset1_%s(p[(int64_t)hi - a0]));\n"
           "  return %smask_loadu_%s(edge, (%s)~(below | above), p);\n"
           "}\n",
           v->target, v->vt, name, ct, f32 ? "__m512i" : "__m256i", ip, ip, ip, iota, v->mt, ip,
           ip, v->mt, ip, ip, v->vt, v->p, v->s, v->p, v->s, v->p, v->s, v->p, v->s, v->p, v->s,
           v->p, v->s, v->mt);
  return cg_helper(g, name, def);
}

static void put_clamped(cg *g, const aicc_loop_expr *e, const clamp_load *cl) {
  const aicc_loop_expr *idx[CLAMP_MAX_RANK];
  int last = e->buf->rank - 1;
  for (int k = 0; k <= last; k++) idx[k] = e->args[k];
  idx[last] = cl->a;
  const cg_buffer_info *bi = cg_buffer(g, e->buf);
  cg_printf(g->out, "%s(&%s[", clamp_load_fn(g, g->vec), bi->cname);
  cg_offset(g, e->buf, idx);
  cg_put(g->out, "], ");
  cg_expr(g, cl->a, true);
  if (cl->lo > INT32_MIN) cg_printf(g->out, ", %" PRId64, cl->lo);
  else cg_put(g->out, ", INT32_MIN");
  if (cl->hi < INT32_MAX) cg_printf(g->out, ", %" PRId64 ")", cl->hi);
  else cg_put(g->out, ", INT32_MAX)");
}

static bool check_mask(cg *g, const cg_visa *v, const aicc_loop_expr *e) {
  if (!cg_simd_depends(g, e)) return true;
  switch (e->op) {
  case AICC_LOOP_EQ: case AICC_LOOP_NE: case AICC_LOOP_LT:
  case AICC_LOOP_LE: case AICC_LOOP_GT: case AICC_LOOP_GE:
    if (e->args[0]->type != v->lane) return why(g, "an integer comparison varies across lanes");
    return check_value(g, v, e->args[0]) && check_value(g, v, e->args[1]);
  case AICC_LOOP_AND:
  case AICC_LOOP_OR: return check_mask(g, v, e->args[0]) && check_mask(g, v, e->args[1]);
  case AICC_LOOP_NOT: return check_mask(g, v, e->args[0]);
  default: return why(g, "a bool %s varies across lanes", aicc_loop_op_name(e->op));
  }
}

static bool check_value(cg *g, const cg_visa *v, const aicc_loop_expr *e) {
  if (e->type != v->lane)
    return why(g, "a %s value among %s lanes", aicc_dtype_text(e->type), aicc_dtype_text(v->lane));
  if (!cg_simd_depends(g, e)) return true;
  int64_t c;
  switch (e->op) {
  case AICC_LOOP_VAR: return cg_lookup(g, e)->vector;
  case AICC_LOOP_LOAD: {
    clamp_load cl;
    if (clamped_load(g, v, e, &cl)) return true;
    if (!access_coef(g, e->buf, e->args, &c)) return false;
    return c == 0 || c == 1 || gather_ok(c, v) ||
           why(g, "load of %s with lane stride %" PRId64, e->buf->name, c);
  }
  case AICC_LOOP_ADD: case AICC_LOOP_SUB: case AICC_LOOP_MUL: case AICC_LOOP_DIV:
  case AICC_LOOP_MOD: case AICC_LOOP_MIN: case AICC_LOOP_MAX:
    return check_value(g, v, e->args[0]) && check_value(g, v, e->args[1]);
  case AICC_LOOP_SELECT:
    return check_mask(g, v, e->args[0]) && check_value(g, v, e->args[1]) &&
           check_value(g, v, e->args[2]);
  case AICC_LOOP_CAST: {
    const aicc_loop_expr *a = e->args[0];
    if (a->type == v->lane) return check_value(g, v, a);
    if (a->type != AICC_DTYPE_I32) return why(g, "a cast from %s", aicc_dtype_text(a->type));
    if (a->op == AICC_LOOP_LOAD) {
      if (!access_coef(g, a->buf, a->args, &c)) return false;
      return c == 1 || c == 0 || why(g, "load of %s with lane stride %" PRId64, a->buf->name, c);
    }
    return affine(g, a, &c) || why(g, "an i32 that is not affine in the lanes");
  }
  case AICC_LOOP_CALL:
    if (aicc_loop_intrinsic_arity(e->v.name, strlen(e->v.name)) < 0)
      return why(g, "unknown intrinsic %s", e->v.name);
    for (uint32_t k = 0; k < e->nargs; k++)
      if (!check_value(g, v, e->args[k])) return false;
    return true;
  default: return why(g, "%s has no vector form", aicc_loop_op_name(e->op));
  }
}

static bool check_stmt(cg *g, const cg_visa *v, const aicc_loop_stmt *s) {
  if (!s) return true;
  int64_t c;
  switch (s->kind) {
  case AICC_LOOP_STORE:
    if (!access_coef(g, s->buf, s->index, &c)) return false;
    if (c == 0 && !cg_simd_depends(g, s->value)) return true; /* a scalar store */
    if (s->buf->type != v->lane) return why(g, "a store to %s %s", aicc_dtype_text(s->buf->type), s->buf->name);
    if (c != 1) return why(g, "store to %s with lane stride %" PRId64, s->buf->name, c);
    return check_value(g, v, s->value);
  case AICC_LOOP_LET: {
    size_t mark = g->nscope;
    cg_bind b = {.var = s->var};
    if (!cg_simd_depends(g, s->value)) {
      b.nonneg = cg_nonneg(g, s->value);
    } else if (s->var->type == v->lane) {
      if (!check_value(g, v, s->value)) return false;
      b.vector = true;
    } else if (affine(g, s->value, &c)) {
      b.affine = true;
      b.coef = c;
    } else {
      return why(g, "let %s varies across lanes and is not affine", s->var->v.name);
    }
    if (!cg_push(g, b)) return false;
    bool ok = check_stmt(g, v, s->body);
    cg_pop(g, mark);
    return ok;
  }
  case AICC_LOOP_IF:
    if (cg_simd_depends(g, s->value)) return why(g, "an if condition varies across lanes");
    return check_stmt(g, v, s->body) && check_stmt(g, v, s->otherwise);
  case AICC_LOOP_FOR: {
    if (cg_simd_depends(g, s->min) || cg_simd_depends(g, s->extent))
      return why(g, "loop %s has bounds that vary across lanes", s->var->v.name);
    size_t mark = g->nscope;
    if (!cg_push(g, (cg_bind){.var = s->var, .nonneg = cg_nonneg(g, s->min)})) return false;
    bool ok = check_stmt(g, v, s->body);
    cg_pop(g, mark);
    return ok;
  }
  case AICC_LOOP_ALLOCATE: return why(g, "allocate %s inside the loop", s->buf->name);
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      if (!check_stmt(g, v, s->stmts[i])) return false;
    return true;
  case AICC_LOOP_EVALUATE: return true;
  }
  return true;
}

/* The float type of the body's stores, or UNDEFINED (none, or mixed). */
static aicc_dtype store_type(const aicc_loop_stmt *s, aicc_dtype t, bool *mixed) {
  if (!s) return t;
  switch (s->kind) {
  case AICC_LOOP_STORE:
    if (s->buf->type == AICC_DTYPE_F32 || s->buf->type == AICC_DTYPE_F64) {
      if (t != AICC_DTYPE_UNDEFINED && t != s->buf->type) *mixed = true;
      t = s->buf->type;
    }
    return t;
  case AICC_LOOP_IF: t = store_type(s->otherwise, t, mixed); /* fall through */
  case AICC_LOOP_FOR:
  case AICC_LOOP_LET:
  case AICC_LOOP_ALLOCATE: return store_type(s->body, t, mixed);
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) t = store_type(s->stmts[i], t, mixed);
    return t;
  case AICC_LOOP_EVALUATE: return t;
  }
  return t;
}

/* ---- emission ---- */

static void value(cg *g, const aicc_loop_expr *e);

static void put_access(cg *g, const aicc_loop_expr *e) {
  const cg_buffer_info *bi = cg_buffer(g, e->buf);
  cg_printf(g->out, "&%s[", bi->cname);
  cg_offset(g, e->buf, e->args);
  cg_put(g->out, "]");
}

static void call1(cg *g, const char *fn, const aicc_loop_expr *a) {
  cg_printf(g->out, "%s(", fn);
  value(g, a);
  cg_put(g->out, ")");
}

static void call2(cg *g, const char *fn, const aicc_loop_expr *a, const aicc_loop_expr *b) {
  cg_printf(g->out, "%s(", fn);
  value(g, a);
  cg_put(g->out, ", ");
  value(g, b);
  cg_put(g->out, ")");
}

static const char *cmp_pred(aicc_loop_op op) {
  switch (op) {
  case AICC_LOOP_EQ: return "_CMP_EQ_OQ";
  case AICC_LOOP_NE: return "_CMP_NEQ_UQ"; /* NaN != x is true, as in C */
  case AICC_LOOP_LT: return "_CMP_LT_OQ";
  case AICC_LOOP_LE: return "_CMP_LE_OQ";
  case AICC_LOOP_GT: return "_CMP_GT_OQ";
  default: return "_CMP_GE_OQ";
  }
}

static void mask(cg *g, const aicc_loop_expr *e) {
  const cg_visa *v = g->vec;
  cg_text *o = g->out;
  if (!cg_simd_depends(g, e)) {
    if (v->mt) {
      cg_put(o, "(");
      cg_expr(g, e, false);
      cg_printf(o, " ? (%s)-1 : (%s)0)", v->mt, v->mt);
    } else {
      cg_printf(o, "_mm256_castsi256_%s(_mm256_set1_epi32(-(int)", v->s);
      cg_expr(g, e, false);
      cg_put(o, "))");
    }
    return;
  }
  switch (e->op) {
  case AICC_LOOP_AND:
  case AICC_LOOP_OR:
    if (v->mt) {
      cg_printf(o, "((%s)(", v->mt);
      mask(g, e->args[0]);
      cg_put(o, e->op == AICC_LOOP_AND ? " & " : " | ");
      mask(g, e->args[1]);
      cg_put(o, "))");
    } else {
      cg_printf(o, "%s%s_%s(", v->p, e->op == AICC_LOOP_AND ? "and" : "or", v->s);
      mask(g, e->args[0]);
      cg_put(o, ", ");
      mask(g, e->args[1]);
      cg_put(o, ")");
    }
    return;
  case AICC_LOOP_NOT:
    if (v->mt) {
      cg_printf(o, "((%s)~", v->mt);
      mask(g, e->args[0]);
      cg_put(o, ")");
    } else {
      cg_printf(o, "%sxor_%s(", v->p, v->s);
      mask(g, e->args[0]);
      cg_printf(o, ", _mm256_castsi256_%s(_mm256_set1_epi32(-1)))", v->s);
    }
    return;
  default: /* a float comparison */
    cg_printf(o, "%scmp_%s%s(", v->p, v->s, v->mt ? "_mask" : "");
    value(g, e->args[0]);
    cg_put(o, ", ");
    value(g, e->args[1]);
    cg_printf(o, ", %s)", cmp_pred(e->op));
    return;
  }
}

static bool non_nan_const(const aicc_loop_expr *e) {
  return e->op == AICC_LOOP_FLOAT && e->v.f == e->v.f;
}

static void minmax(cg *g, const aicc_loop_expr *e) {
  const cg_visa *v = g->vec;
  bool mn = e->op == AICC_LOOP_MIN;
  const aicc_loop_expr *a = e->args[0], *b = e->args[1];
  /* min_ps(x, c) returns c when x is NaN, as fmin does: no NaN fix needed
   * when one side is a number known at compile time. */
  if (non_nan_const(a) || non_nan_const(b)) {
    char fn[64];
    snprintf(fn, sizeof fn, "%s%s_%s", v->p, mn ? "min" : "max", v->s);
    if (non_nan_const(a)) call2(g, fn, b, a);
    else call2(g, fn, a, b);
    return;
  }
  call2(g, cg_vmath(g, v, mn ? "fmin" : "fmax"), a, b);
}

static void iota_cast(cg *g, const aicc_loop_expr *a) {
  const cg_visa *v = g->vec;
  int64_t c = 0;
  (void)affine(g, a, &c);
  cg_printf(g->out, "%s(%sadd_epi32(%sset1_epi32(", v->cvt_i32, v->ip, v->ip);
  cg_expr(g, a, true);
  cg_printf(g->out, "), %ssetr_epi32(", v->ip);
  for (int l = 0; l < v->lanes; l++)
    cg_printf(g->out, "%s%" PRId64, l ? ", " : "", (int64_t)(int32_t)(uint32_t)((uint64_t)c * (uint64_t)l));
  cg_put(g->out, ")))");
}

/* A load of lanes c elements apart from lane 0's element: AVX-512 takes
 * (indices, base, scale), AVX2 (base, indices, scale). */
static void gather(cg *g, const aicc_loop_expr *e, int64_t c) {
  const cg_visa *v = g->vec;
  int scale = v->lane == AICC_DTYPE_F64 ? 8 : 4;
  cg_printf(g->out, "%si32gather_%s(", v->p, v->s);
  if (!v->mt) {
    put_access(g, e);
    cg_put(g->out, ", ");
  }
  cg_printf(g->out, "%ssetr_epi32(", v->ip);
  for (int l = 0; l < v->lanes; l++) cg_printf(g->out, "%s%" PRId64, l ? ", " : "", c * l);
  cg_put(g->out, ")");
  if (v->mt) {
    cg_put(g->out, ", ");
    put_access(g, e);
  }
  cg_printf(g->out, ", %d)", scale);
}

static const char *iload(const cg_visa *v) {
  if (strcmp(v->it, "__m512i") == 0) return "_mm512_loadu_si512((const void *)";
  if (strcmp(v->it, "__m256i") == 0) return "_mm256_loadu_si256((const __m256i *)";
  return "_mm_loadu_si128((const __m128i *)";
}

static void call(cg *g, const aicc_loop_expr *e) {
  const cg_visa *v = g->vec;
  const char *n = e->v.name;
  char fn[96];
  bool f32 = v->lane == AICC_DTYPE_F32, k512 = v->mt != NULL;
  const char *rmode = NULL;
  if (strcmp(n, "floor") == 0) rmode = "_MM_FROUND_TO_NEG_INF";
  else if (strcmp(n, "ceil") == 0) rmode = "_MM_FROUND_TO_POS_INF";
  else if (strcmp(n, "trunc") == 0) rmode = "_MM_FROUND_TO_ZERO";
  else if (strcmp(n, "round") == 0) rmode = "_MM_FROUND_TO_NEAREST_INT";
  if (rmode) {
    cg_printf(g->out, "%s%s_%s(", v->p, k512 ? "roundscale" : "round", v->s);
    value(g, e->args[0]);
    cg_printf(g->out, ", %s | _MM_FROUND_NO_EXC)", rmode);
  } else if (strcmp(n, "sqrt") == 0) {
    snprintf(fn, sizeof fn, "%ssqrt_%s", v->p, v->s);
    call1(g, fn, e->args[0]);
  } else if (strcmp(n, "rsqrt") == 0) {
    cg_printf(g->out, "%sdiv_%s(%sset1_%s(1), %ssqrt_%s(", v->p, v->s, v->p, v->s, v->p, v->s);
    value(g, e->args[0]);
    cg_put(g->out, "))");
  } else if (strcmp(n, "abs") == 0) {
    if (k512) {
      snprintf(fn, sizeof fn, "%sabs_%s", v->p, v->s);
      call1(g, fn, e->args[0]);
    } else {
      cg_printf(g->out, "%sandnot_%s(%sset1_%s(-0.0), ", v->p, v->s, v->p, v->s);
      value(g, e->args[0]);
      cg_put(g->out, ")");
    }
  } else if (strcmp(n, "fma") == 0) {
    cg_printf(g->out, "%sfmadd_%s(", v->p, v->s);
    value(g, e->args[0]);
    cg_put(g->out, ", ");
    value(g, e->args[1]);
    cg_put(g->out, ", ");
    value(g, e->args[2]);
    cg_put(g->out, ")");
  } else if (strcmp(n, "sign") == 0 ||
             (f32 && (strcmp(n, "exp") == 0 || strcmp(n, "sigmoid") == 0 ||
                      strcmp(n, "tanh") == 0 || strcmp(n, "erf") == 0 || strcmp(n, "log") == 0))) {
    call1(g, cg_vmath(g, v, n), e->args[0]);
  } else { /* no vector form: lane by lane through the scalar function */
    const char *h = cg_vlanes(g, v, cg_intrinsic_fn(g, n, v->lane), (int)e->nargs);
    if (e->nargs == 1) call1(g, h, e->args[0]);
    else call2(g, h, e->args[0], e->args[1]);
  }
}

static void value(cg *g, const aicc_loop_expr *e) {
  const cg_visa *v = g->vec;
  cg_text *o = g->out;
  if (g->err) return;
  if (!cg_simd_depends(g, e)) {
    cg_printf(o, "%sset1_%s(", v->p, v->s);
    cg_expr(g, e, false);
    cg_put(o, ")");
    return;
  }
  char fn[64];
  int64_t c = 0;
  switch (e->op) {
  case AICC_LOOP_VAR: cg_put(o, cg_lookup(g, e)->cname); return;
  case AICC_LOOP_LOAD: {
    clamp_load cl;
    if (clamped_load(g, v, e, &cl)) {
      put_clamped(g, e, &cl);
      return;
    }
    (void)access_coef(g, e->buf, e->args, &c);
    if (c == 0) {
      cg_printf(o, "%sset1_%s(", v->p, v->s);
      cg_expr(g, e, false);
      cg_put(o, ")");
    } else if (c == 1) {
      cg_printf(o, "%sloadu_%s(", v->p, v->s);
      put_access(g, e);
      cg_put(o, ")");
    } else {
      gather(g, e, c);
    }
    return;
  }
  case AICC_LOOP_ADD:
  case AICC_LOOP_SUB:
  case AICC_LOOP_MUL:
  case AICC_LOOP_DIV: {
    const char *op = e->op == AICC_LOOP_ADD ? "add" : e->op == AICC_LOOP_SUB ? "sub"
                     : e->op == AICC_LOOP_MUL ? "mul" : "div";
    snprintf(fn, sizeof fn, "%s%s_%s", v->p, op, v->s);
    call2(g, fn, e->args[0], e->args[1]);
    return;
  }
  case AICC_LOOP_MOD: call2(g, cg_vlanes(g, v, cg_modfloor_fn(g, v->lane), 2), e->args[0], e->args[1]); return;
  case AICC_LOOP_MIN:
  case AICC_LOOP_MAX: minmax(g, e); return;
  case AICC_LOOP_SELECT:
    if (v->mt) {
      cg_printf(o, "%smask_blend_%s(", v->p, v->s);
      mask(g, e->args[0]);
      cg_put(o, ", ");
      value(g, e->args[2]);
      cg_put(o, ", ");
      value(g, e->args[1]);
    } else {
      cg_printf(o, "%sblendv_%s(", v->p, v->s);
      value(g, e->args[2]);
      cg_put(o, ", ");
      value(g, e->args[1]);
      cg_put(o, ", ");
      mask(g, e->args[0]);
    }
    cg_put(o, ")");
    return;
  case AICC_LOOP_CAST: {
    const aicc_loop_expr *a = e->args[0];
    if (a->type == v->lane) {
      value(g, a);
    } else if (a->op == AICC_LOOP_LOAD) {
      (void)access_coef(g, a->buf, a->args, &c);
      if (c == 0) {
        cg_printf(o, "%sset1_%s((%s)", v->p, v->s, cg_ctype(v->lane));
        cg_expr(g, a, false);
        cg_put(o, ")");
      } else {
        cg_printf(o, "%s(%s", v->cvt_i32, iload(v));
        put_access(g, a);
        cg_put(o, "))");
      }
    } else {
      iota_cast(g, a);
    }
    return;
  }
  case AICC_LOOP_CALL: call(g, e); return;
  default: cg_fail(g, AICC_ERR_INTERNAL, "no vector form for %s", aicc_loop_op_name(e->op)); return;
  }
}

/* An accumulation X[..] = X[..] + a*b (either order) as one FMA: the
 * generated C is compiled as ISO C (-std=c99), where GCC does not contract
 * a separate multiply and add, and this update is the inner loop of every
 * GEMM-like reduction. Only this shape: elsewhere the rounding of each
 * operation stays what the loop IR says. */
static bool fused_update(cg *g, const aicc_loop_stmt *s) {
  const aicc_loop_expr *e = s->value;
  if (e->op != AICC_LOOP_ADD) return false;
  const aicc_loop_expr *x = e->args[0], *y = e->args[1];
  bool left = x->op == AICC_LOOP_MUL && y->op == AICC_LOOP_LOAD && y->buf == s->buf;
  bool right = !left && y->op == AICC_LOOP_MUL && x->op == AICC_LOOP_LOAD && x->buf == s->buf;
  const aicc_loop_expr *m = left ? x : y, *c = left ? y : x;
  if ((!left && !right) || !cg_simd_depends(g, m)) return false;
  cg_printf(g->out, "%sfmadd_%s(", g->vec->p, g->vec->s);
  value(g, m->args[0]);
  cg_put(g->out, ", ");
  value(g, m->args[1]);
  cg_put(g->out, ", ");
  value(g, c);
  cg_put(g->out, ")");
  return true;
}

void cg_simd_store(cg *g, const aicc_loop_stmt *s) {
  const cg_buffer_info *bi = cg_buffer(g, s->buf);
  int64_t c = 0;
  (void)access_coef(g, s->buf, s->index, &c);
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  if (c == 0) { /* every lane stores the same value at one place */
    cg_printf(g->out, "%s[", bi->cname);
    cg_offset(g, s->buf, s->index);
    cg_put(g->out, "] = ");
    cg_expr(g, s->value, false);
  } else {
    cg_printf(g->out, "%sstoreu_%s(&%s[", g->vec->p, g->vec->s, bi->cname);
    cg_offset(g, s->buf, s->index);
    cg_put(g->out, "], ");
    if (!fused_update(g, s)) value(g, s->value);
    cg_put(g->out, ")");
  }
  cg_put(g->out, ";\n");
}

void cg_simd_let(cg *g, const aicc_loop_stmt *s) {
  if (!cg_stmt_uses(s->body, s->var)) {
    cg_stmt(g, s->body);
    return;
  }
  const char *name = cg_cname(g, s->var, s->var->v.name);
  cg_bind b = {.var = s->var, .cname = name};
  cg_line(g, "{");
  g->indent++;
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  if (s->var->type == g->vec->lane) {
    cg_printf(g->out, "const %s %s = ", g->vec->vt, name);
    value(g, s->value);
    b.vector = true;
  } else { /* affine: lane 0's value */
    cg_printf(g->out, "const %s %s = ", cg_ctype(s->var->type), name);
    cg_expr(g, s->value, true);
    b.affine = affine(g, s->value, &b.coef);
  }
  cg_put(g->out, ";\n");
  size_t mark = g->nscope;
  if (cg_push(g, b)) {
    cg_stmt(g, s->body);
    cg_pop(g, mark);
  }
  g->indent--;
  cg_line(g, "}");
}

bool cg_simd_loop(cg *g, const aicc_loop_stmt *s, const char **reason) {
  int64_t ext;
  *reason = g->why;
  if (!aicc_loop_expr_is_int_const(s->extent, &ext)) return why(g, "the extent is not constant");
  bool mixed = false;
  aicc_dtype lane = store_type(s->body, AICC_DTYPE_UNDEFINED, &mixed);
  if (mixed) return why(g, "stores of both f32 and f64");
  if (lane == AICC_DTYPE_UNDEFINED) return why(g, "no f32/f64 stores");
  const cg_visa *v = NULL;
  for (size_t i = 0; i < sizeof visas / sizeof visas[0]; i++)
    if (visas[i].lane == lane && (visas[i].mt != NULL) == (g->opt->isa == AICC_CODEGEN_AVX512))
      v = &visas[i];
  if (ext <= 0 || ext % v->lanes != 0)
    return why(g, "extent %" PRId64 " is not a multiple of %d lanes", ext, v->lanes);
  size_t mark = g->nscope;
  cg_bind jb = {.var = s->var, .affine = true, .coef = 1, .nonneg = cg_nonneg(g, s->min)};
  if (!cg_push(g, jb)) return false;
  bool ok = check_stmt(g, v, s->body);
  cg_pop(g, mark);
  if (!ok) return false;

  const char *ct = cg_ctype(s->var->type), *j = cg_cname(g, s->var, s->var->v.name);
  jb.cname = j;
  g->uses_simd = g->func_simd = true;
  cg_line(g, "/* vectorized %s: %d x %s lanes (%s) */", s->var->v.name, v->lanes,
          aicc_dtype_text(lane), v->mt ? "avx512" : "avx2");
  for (int i = 0; i < g->indent; i++) cg_put(g->out, "  ");
  int64_t mn;
  if (aicc_loop_expr_is_int_const(s->min, &mn) && mn == 0) {
    cg_printf(g->out, "for (%s %s = 0; %s < %" PRId64 "; %s += %d) {\n", ct, j, j, ext, j, v->lanes);
  } else {
    char b[128];
    snprintf(b, sizeof b, "%s_end", j);
    const char *end = cg_fresh(g, b);
    cg_printf(g->out, "for (%s %s = ", ct, j);
    cg_expr(g, s->min, true);
    cg_printf(g->out, ", %s = ", end);
    cg_expr(g, s->min, true);
    cg_printf(g->out, " + %" PRId64 "; %s < %s; %s += %d) {\n", ext, j, end, j, v->lanes);
  }
  if (cg_push(g, jb)) {
    g->vec = v;
    g->indent++;
    cg_stmt(g, s->body);
    g->indent--;
    g->vec = NULL;
    cg_pop(g, mark);
  }
  cg_line(g, "}");
  return true;
}
