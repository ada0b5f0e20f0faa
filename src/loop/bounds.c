/* Symbolic bounds inference (see bounds.h): interval arithmetic over
 * expressions, after Halide's Bounds.cpp, with every end simplified. A range
 * whose two ends are the same pointer is a point (interning makes that test
 * exact), which keeps non-relaxed subexpressions symbolic. */
#include "loop/bounds.h"

#include <stdlib.h>

#include "core/status.h"
#include "core/vec.h"

typedef aicc_loop_expr expr;
typedef aicc_loop_range range;

typedef struct {
  aicc_loop_ctx *ctx;
  const aicc_loop_scope *facts;
  bool oom;
} bstate;

static const expr *S(bstate *b, const expr *e) {
  if (!e || b->oom) {
    b->oom = true;
    return NULL;
  }
  const expr *r = aicc_loop_simplify(b->ctx, e, b->facts);
  if (!r) b->oom = true;
  return r;
}

static range point(const expr *e) { return (range){e, e}; }
static bool is_point(range r) { return r.min && r.min == r.max; }
static const range unbounded = {NULL, NULL};

/* op(x, y) when both ends are known; NULL (unbounded) otherwise. */
static const expr *both(bstate *b, aicc_loop_op op, const expr *x, const expr *y) {
  if (!x || !y) return NULL;
  return S(b, aicc_loop_binary(b->ctx, op, x, y));
}

/* min/max of two ends where NULL means -inf (lower ends) or +inf (upper). */
static const expr *end_min(bstate *b, const expr *x, const expr *y, bool lower) {
  if (!x || !y) return lower ? NULL : (x ? x : y);
  return both(b, AICC_LOOP_MIN, x, y);
}

static const expr *end_max(bstate *b, const expr *x, const expr *y, bool lower) {
  if (!x || !y) return lower ? (x ? x : y) : NULL;
  return both(b, AICC_LOOP_MAX, x, y);
}

static range join(bstate *b, range x, range y) {
  return (range){end_min(b, x.min, y.min, true), end_max(b, x.max, y.max, false)};
}

static range bnd(bstate *b, const expr *e, const aicc_loop_relax *relax);

static range rebuild_point(bstate *b, const expr *e, const range *args) {
  const expr *a[16];
  if (e->nargs > 16) return unbounded;
  for (uint32_t k = 0; k < e->nargs; k++) a[k] = args[k].min;
  return point(S(b, aicc_loop_expr_with_args(b->ctx, e, a)));
}

static range bnd(bstate *b, const expr *e, const aicc_loop_relax *relax) {
  if (b->oom) return unbounded;
  if (e->op == AICC_LOOP_VAR) {
    for (const aicc_loop_relax *r = relax; r; r = r->next)
      if (r->var == e) return r->range;
    return point(e);
  }
  if (e->nargs == 0) return point(e);
  range args[16];
  if (e->nargs > 16) return unbounded;
  bool all_points = true;
  for (uint32_t k = 0; k < e->nargs; k++) {
    args[k] = bnd(b, e->args[k], relax);
    all_points = all_points && is_point(args[k]);
  }
  if (all_points) return rebuild_point(b, e, args);
  if (!aicc_loop_type_is_int(e->type)) return unbounded;
  range x = args[0], y = e->nargs > 1 ? args[1] : unbounded, r = unbounded;
  aicc_loop_ctx *ctx = b->ctx;
  int64_t c;
  switch (e->op) {
  case AICC_LOOP_ADD:
    return (range){both(b, AICC_LOOP_ADD, x.min, y.min), both(b, AICC_LOOP_ADD, x.max, y.max)};
  case AICC_LOOP_SUB:
    return (range){both(b, AICC_LOOP_SUB, x.min, y.max), both(b, AICC_LOOP_SUB, x.max, y.min)};
  case AICC_LOOP_MUL: {
    const expr *k = NULL;
    range v = x;
    if (is_point(y) && aicc_loop_expr_is_int_const(y.min, &c)) k = y.min;
    else if (is_point(x) && aicc_loop_expr_is_int_const(x.min, &c)) k = x.min, v = y;
    if (!k) {
      /* Both ranges constant: the four corners. */
      int64_t a0, a1, b0, b1;
      if (aicc_loop_expr_is_int_const(x.min, &a0) && aicc_loop_expr_is_int_const(x.max, &a1) &&
          aicc_loop_expr_is_int_const(y.min, &b0) && aicc_loop_expr_is_int_const(y.max, &b1)) {
        __int128 p[4] = {(__int128)a0 * b0, (__int128)a0 * b1, (__int128)a1 * b0, (__int128)a1 * b1};
        __int128 lo = p[0], hi = p[0];
        for (int i = 1; i < 4; i++) lo = p[i] < lo ? p[i] : lo, hi = p[i] > hi ? p[i] : hi;
        if (lo >= INT64_MIN && hi <= INT64_MAX)
          return (range){aicc_loop_int(ctx, e->type, (int64_t)lo), aicc_loop_int(ctx, e->type, (int64_t)hi)};
      }
      return unbounded;
    }
    range m = {both(b, AICC_LOOP_MUL, v.min, k), both(b, AICC_LOOP_MUL, v.max, k)};
    return c >= 0 ? m : (range){m.max, m.min};
  }
  case AICC_LOOP_DIV:
    if (is_point(y) && aicc_loop_expr_is_int_const(y.min, &c) && c != 0) {
      range d = {both(b, AICC_LOOP_DIV, x.min, y.min), both(b, AICC_LOOP_DIV, x.max, y.min)};
      return c > 0 ? d : (range){d.max, d.min};
    }
    return unbounded;
  case AICC_LOOP_MOD:
    if (is_point(y) && aicc_loop_expr_is_int_const(y.min, &c) && c > 0) {
      int64_t lo, hi;
      if (aicc_loop_expr_is_int_const(x.min, &lo) && aicc_loop_expr_is_int_const(x.max, &hi) &&
          lo >= 0 && hi < c)
        return x;
      return (range){aicc_loop_int(ctx, e->type, 0), aicc_loop_int(ctx, e->type, c - 1)};
    }
    return unbounded;
  case AICC_LOOP_MIN:
    return (range){end_min(b, x.min, y.min, true), end_min(b, x.max, y.max, false)};
  case AICC_LOOP_MAX:
    return (range){end_max(b, x.min, y.min, true), end_max(b, x.max, y.max, false)};
  case AICC_LOOP_SELECT: return join(b, args[1], args[2]);
  case AICC_LOOP_CAST: {
    aicc_dtype from = e->args[0]->type;
    const aicc_dtype_info *fi = aicc_dtype_get(from), *ti = aicc_dtype_get(e->type);
    if (aicc_dtype_is_signed_int(from) && aicc_dtype_is_signed_int(e->type) && fi && ti &&
        ti->bits >= fi->bits)
      return (range){x.min ? S(b, aicc_loop_cast(ctx, e->type, x.min)) : NULL,
                     x.max ? S(b, aicc_loop_cast(ctx, e->type, x.max)) : NULL};
    return unbounded;
  }
  default:
    if (e->type == AICC_DTYPE_BOOL)
      return (range){aicc_loop_bool(ctx, false), aicc_loop_bool(ctx, true)};
    return r;
  }
}

bool aicc_loop_bounds_of(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                         const aicc_loop_relax *relax, const aicc_loop_scope *facts,
                         aicc_loop_range *out) {
  bstate b = {.ctx = ctx, .facts = facts};
  *out = e ? bnd(&b, e, relax) : unbounded;
  if (b.oom) *out = unbounded;
  return !b.oom && e;
}

/* ---- regions touched by a statement ---- */

typedef AICC_VEC(aicc_loop_region) region_vec;

typedef struct {
  bstate b;
  region_vec regions;
} rstate;

static void touch(rstate *rs, const aicc_loop_buffer *buf, const expr *const *index,
                  const aicc_loop_relax *relax, bool write) {
  aicc_loop_region *reg = NULL;
  for (size_t i = 0; i < rs->regions.len; i++)
    if (rs->regions.data[i].buf == buf) reg = &rs->regions.data[i];
  bool fresh = !reg;
  if (fresh) {
    aicc_loop_region nr = {.buf = buf};
    nr.dims = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(rs->b.ctx), range, buf->rank ? buf->rank : 1);
    if (!nr.dims || !aicc_vec_push(&rs->regions, nr)) {
      rs->b.oom = true;
      return;
    }
    reg = &rs->regions.data[rs->regions.len - 1];
  }
  for (int d = 0; d < buf->rank; d++) {
    range r = bnd(&rs->b, index[d], relax);
    reg->dims[d] = fresh ? r : join(&rs->b, reg->dims[d], r);
  }
  if (write) reg->written = true;
  else reg->read = true;
}

static void touch_expr(rstate *rs, const expr *e, const aicc_loop_relax *relax) {
  for (uint32_t k = 0; k < e->nargs; k++) touch_expr(rs, e->args[k], relax);
  if (e->op == AICC_LOOP_LOAD) touch(rs, e->buf, e->args, relax, false);
}

static void touch_stmt(rstate *rs, const aicc_loop_stmt *s, const aicc_loop_relax *relax) {
  if (rs->b.oom) return;
  aicc_loop_ctx *ctx = rs->b.ctx;
  switch (s->kind) {
  case AICC_LOOP_FOR: {
    touch_expr(rs, s->min, relax);
    touch_expr(rs, s->extent, relax);
    const expr *last = aicc_loop_sub(ctx, aicc_loop_add(ctx, s->min, s->extent),
                                     aicc_loop_int(ctx, s->min->type, 1));
    range lo = bnd(&rs->b, s->min, relax), hi = last ? bnd(&rs->b, last, relax) : unbounded;
    aicc_loop_relax r = {.var = s->var, .range = {lo.min, hi.max}, .next = relax};
    touch_stmt(rs, s->body, &r);
    return;
  }
  case AICC_LOOP_LET: {
    touch_expr(rs, s->value, relax);
    aicc_loop_relax r = {.var = s->var, .range = bnd(&rs->b, s->value, relax), .next = relax};
    touch_stmt(rs, s->body, &r);
    return;
  }
  case AICC_LOOP_IF:
    touch_expr(rs, s->value, relax);
    touch_stmt(rs, s->body, relax);
    if (s->otherwise) touch_stmt(rs, s->otherwise, relax);
    return;
  case AICC_LOOP_ALLOCATE: touch_stmt(rs, s->body, relax); return;
  case AICC_LOOP_STORE:
    for (int d = 0; d < s->buf->rank; d++) touch_expr(rs, s->index[d], relax);
    touch_expr(rs, s->value, relax);
    touch(rs, s->buf, s->index, relax, true);
    return;
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++) touch_stmt(rs, s->stmts[i], relax);
    return;
  case AICC_LOOP_EVALUATE: touch_expr(rs, s->value, relax); return;
  }
}

aicc_status aicc_loop_regions_touched(aicc_loop_ctx *ctx, const aicc_loop_stmt *s,
                                      const aicc_loop_relax *relax, const aicc_loop_scope *facts,
                                      aicc_loop_region **out, size_t *nout) {
  rstate rs = {.b = {.ctx = ctx, .facts = facts}};
  *out = NULL;
  *nout = 0;
  if (s) touch_stmt(&rs, s, relax);
  if (!rs.b.oom && rs.regions.len) {
    *out = aicc_arena_memdup(aicc_loop_ctx_arena(ctx), rs.regions.data,
                             rs.regions.len * sizeof *rs.regions.data);
    if (!*out) rs.b.oom = true;
    else *nout = rs.regions.len;
  }
  aicc_vec_free(&rs.regions);
  if (rs.b.oom) {
    *out = NULL;
    *nout = 0;
    return aicc_errorf(AICC_ERR_NOMEM, "loop bounds inference: out of memory");
  }
  return NULL;
}
