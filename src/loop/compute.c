/* Compute definitions: kernels of stages and their unscheduled loop nests
 * (compute.h). The nests built here are the reference semantics of a stage;
 * schedules transform them. */
#include "loop/compute.h"

#include "loop/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aicc_loop_kernel *aicc_loop_kernel_create(aicc_loop_ctx *ctx, const char *name) {
  aicc_arena *a = aicc_loop_ctx_arena(ctx);
  aicc_loop_kernel *k = AICC_ARENA_NEW(a, aicc_loop_kernel);
  if (!k) return NULL;
  memset(k, 0, sizeof *k);
  k->name = aicc_loop_name(ctx, name, strlen(name));
  return k->name ? k : NULL;
}

/* Grows an arena array of pointers (old storage stays in the arena). */
static bool grow(aicc_loop_ctx *ctx, void ***items, size_t n, size_t *cap) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 8;
  void **p = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), void *, ncap);
  if (!p) return false;
  if (n) memcpy(p, *items, n * sizeof *p);
  *items = p;
  *cap = ncap;
  return true;
}

aicc_status aicc_loop_kernel_param_add(aicc_loop_ctx *ctx, aicc_loop_kernel *k,
                                       const aicc_loop_buffer *buf) {
  if (!grow(ctx, (void ***)&k->params, k->n_params, &k->cap_params))
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  k->params[k->n_params++] = buf;
  return NULL;
}

aicc_status aicc_loop_kernel_stage_add(aicc_loop_ctx *ctx, aicc_loop_kernel *k,
                                       aicc_loop_stage *s) {
  if (!s) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  if (!grow(ctx, (void ***)&k->stages, k->n_stages, &k->cap_stages))
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  k->stages[k->n_stages++] = s;
  return NULL;
}

aicc_loop_stage *aicc_loop_kernel_stage_of(const aicc_loop_kernel *k,
                                           const aicc_loop_buffer *buf) {
  for (size_t i = 0; i < k->n_stages; i++)
    if (k->stages[i]->buf == buf) return k->stages[i];
  return NULL;
}

bool aicc_loop_kernel_is_param(const aicc_loop_kernel *k, const aicc_loop_buffer *buf) {
  for (size_t i = 0; i < k->n_params; i++)
    if (k->params[i] == buf) return true;
  return false;
}

static aicc_loop_axis *make_axes(aicc_loop_ctx *ctx, int n, const int64_t *extents,
                                 const aicc_loop_expr *const *shape, const char *prefix) {
  aicc_loop_axis *axes = AICC_ARENA_ARRAY(aicc_loop_ctx_arena(ctx), aicc_loop_axis,
                                              n > 0 ? n : 1);
  if (!axes) return NULL;
  for (int i = 0; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%d", prefix, i);
    axes[i].var = aicc_loop_var(ctx, name, AICC_DTYPE_I32);
    int64_t e = 0;
    if (extents) e = extents[i];
    else if (!aicc_loop_expr_is_int_const(shape[i], &e)) return NULL;
    axes[i].extent = e;
    if (!axes[i].var) return NULL;
  }
  return axes;
}

aicc_loop_stage *aicc_loop_stage_create(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                        const char *prefix) {
  if (!buf) return NULL;
  aicc_loop_stage *s = AICC_ARENA_NEW(aicc_loop_ctx_arena(ctx), aicc_loop_stage);
  if (!s) return NULL;
  memset(s, 0, sizeof *s);
  s->name = buf->name;
  s->buf = buf;
  s->n_axes = buf->rank;
  s->axes = make_axes(ctx, buf->rank, NULL, buf->shape, prefix);
  return s->axes ? s : NULL;
}

aicc_status aicc_loop_stage_reduce(aicc_loop_ctx *ctx, aicc_loop_stage *s,
                                   aicc_loop_reduce kind, int n, const int64_t *extents,
                                   const char *prefix) {
  s->reduce = kind;
  s->n_raxes = n;
  s->raxes = make_axes(ctx, n, extents, NULL, prefix);
  if (!s->raxes) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  return NULL;
}

const char *aicc_loop_reduce_name(aicc_loop_reduce kind) {
  static const char *const names[] = {"none", "sum", "prod", "max", "min"};
  return (unsigned)kind < 5 ? names[kind] : "?";
}

const aicc_loop_expr *aicc_loop_reduce_identity(aicc_loop_ctx *ctx, aicc_loop_reduce kind,
                                                aicc_dtype t) {
  bool is_int = aicc_loop_type_is_int(t);
  switch (kind) {
  case AICC_LOOP_REDUCE_SUM:
    return is_int ? aicc_loop_int(ctx, t, 0) : aicc_loop_float(ctx, t, 0.0);
  case AICC_LOOP_REDUCE_PROD:
    return is_int ? aicc_loop_int(ctx, t, 1) : aicc_loop_float(ctx, t, 1.0);
  case AICC_LOOP_REDUCE_MAX:
  case AICC_LOOP_REDUCE_MIN: {
    bool mx = kind == AICC_LOOP_REDUCE_MAX;
    if (!is_int) return aicc_loop_float(ctx, t, mx ? -INFINITY : INFINITY);
    if (t == AICC_DTYPE_BOOL) return aicc_loop_int(ctx, t, mx ? 0 : 1);
    const aicc_dtype_info *info = aicc_dtype_get(t);
    int bits = info ? info->bits : 64;
    bool is_signed = aicc_dtype_is_signed_int(t);
    int64_t lo, hi;
    if (is_signed) {
      lo = bits >= 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
      hi = bits >= 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
    } else {
      lo = 0;
      hi = bits >= 64 ? -1 : (int64_t)((UINT64_C(1) << bits) - 1); /* u64 max wraps to -1 */
    }
    return aicc_loop_int(ctx, t, mx ? lo : hi);
  }
  default: return NULL;
  }
}

const aicc_loop_expr *aicc_loop_reduce_combine(aicc_loop_ctx *ctx, aicc_loop_reduce kind,
                                               const aicc_loop_expr *acc,
                                               const aicc_loop_expr *x) {
  switch (kind) {
  case AICC_LOOP_REDUCE_SUM: return aicc_loop_add(ctx, acc, x);
  case AICC_LOOP_REDUCE_PROD: return aicc_loop_mul(ctx, acc, x);
  case AICC_LOOP_REDUCE_MAX: return aicc_loop_max(ctx, acc, x);
  case AICC_LOOP_REDUCE_MIN: return aicc_loop_min(ctx, acc, x);
  default: return NULL;
  }
}

static const aicc_loop_stmt *wrap_loops(aicc_loop_ctx *ctx, const aicc_loop_axis *axes, int n,
                                        const aicc_loop_stmt *body) {
  for (int i = n - 1; i >= 0 && body; i--)
    body = aicc_loop_for(ctx, axes[i].var, aicc_loop_i32(ctx, 0),
                         aicc_loop_i32(ctx, axes[i].extent), AICC_LOOP_SERIAL, body);
  return body;
}

const aicc_loop_stmt *aicc_loop_stage_lower(aicc_loop_ctx *ctx, const aicc_loop_stage *s) {
  const aicc_loop_expr *idx[AICC_MAX_LOOP_RANK];
  if (s->n_axes > AICC_MAX_LOOP_RANK) return NULL;
  for (int i = 0; i < s->n_axes; i++) idx[i] = s->axes[i].var;
  const aicc_loop_stmt *inner;
  if (s->reduce == AICC_LOOP_REDUCE_NONE) {
    inner = aicc_loop_store(ctx, s->buf, idx, s->body);
    if (s->cond) inner = aicc_loop_if(ctx, s->cond, inner, NULL);
  } else {
    const aicc_loop_expr *init =
        s->init ? s->init : aicc_loop_reduce_identity(ctx, s->reduce, s->buf->type);
    const aicc_loop_expr *acc = aicc_loop_load(ctx, s->buf, idx);
    const aicc_loop_stmt *upd =
        aicc_loop_store(ctx, s->buf, idx, aicc_loop_reduce_combine(ctx, s->reduce, acc, s->body));
    if (s->cond) upd = aicc_loop_if(ctx, s->cond, upd, NULL);
    const aicc_loop_stmt *parts[3];
    size_t np = 0;
    parts[np++] = aicc_loop_store(ctx, s->buf, idx, init);
    parts[np++] = wrap_loops(ctx, s->raxes, s->n_raxes, upd);
    if (s->post) parts[np++] = aicc_loop_store(ctx, s->buf, idx, s->post);
    for (size_t i = 0; i < np; i++)
      if (!parts[i]) return NULL;
    inner = aicc_loop_seq(ctx, np, parts);
  }
  return wrap_loops(ctx, s->axes, s->n_axes, inner);
}

aicc_loop_func *aicc_loop_kernel_lower(aicc_loop_ctx *ctx, const aicc_loop_kernel *k) {
  aicc_arena *a = aicc_loop_ctx_arena(ctx);
  size_t n = k->n_stages;
  const aicc_loop_stmt **parts = AICC_ARENA_ARRAY(a, const aicc_loop_stmt *, n ? n : 1);
  if (!parts) return NULL;
  for (size_t i = 0; i < n; i++)
    if (!(parts[i] = aicc_loop_stage_lower(ctx, k->stages[i]))) return NULL;
  const aicc_loop_stmt *body = aicc_loop_seq(ctx, n, parts);
  /* Temporaries are allocated around everything, innermost last defined. */
  for (size_t i = n; i-- > 0 && body;)
    if (!aicc_loop_kernel_is_param(k, k->stages[i]->buf))
      body = aicc_loop_allocate(ctx, k->stages[i]->buf, body);
  if (!body) return NULL;
  aicc_loop_func *f = AICC_ARENA_NEW(a, aicc_loop_func);
  if (!f) return NULL;
  f->name = k->name;
  f->nparams = k->n_params;
  f->params = AICC_ARENA_ARRAY(a, aicc_loop_param, k->n_params ? k->n_params : 1);
  if (!f->params) return NULL;
  for (size_t i = 0; i < k->n_params; i++) f->params[i] = (aicc_loop_param){NULL, k->params[i]};
  f->body = body;
  return f;
}

/* ---- printing ---- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
  bool oom;
} sbuf;

static void put(sbuf *b, const char *s) {
  size_t l = strlen(s);
  if (b->oom) return;
  if (b->n + l + 1 > b->cap) {
    size_t nc = (b->cap ? b->cap * 2 : 256) + l;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->n, s, l + 1);
  b->n += l;
}

static void put_expr(sbuf *b, const aicc_loop_expr *e) {
  char *s = aicc_loop_expr_print(e);
  if (!s) {
    b->oom = true;
    return;
  }
  put(b, s);
  free(s);
}

const char *aicc_loop_class_name(int op_class) {
  static const char *const names[] = {"elementwise", "reduction", "gemm", "conv", "pool", "movement"};
  return (unsigned)op_class < 6 ? names[op_class] : "?";
}

static void put_decl(sbuf *b, const aicc_loop_buffer *buf) {
  put(b, buf->name);
  put(b, ": ");
  put(b, aicc_dtype_text(buf->type));
  put(b, "[");
  for (int d = 0; d < buf->rank; d++) {
    if (d) put(b, ", ");
    put_expr(b, buf->shape[d]);
  }
  put(b, "]");
}

char *aicc_loop_kernel_print(const aicc_loop_kernel *k) {
  sbuf b = {0};
  char tmp[96];
  put(&b, "kernel ");
  put(&b, k->name);
  put(&b, "(");
  for (size_t i = 0; i < k->n_params; i++) {
    if (i) put(&b, ", ");
    put_decl(&b, k->params[i]);
  }
  put(&b, ") {\n");
  for (size_t i = 0; i < k->n_stages; i++) {
    const aicc_loop_stage *s = k->stages[i];
    if (!aicc_loop_kernel_is_param(k, s->buf)) {
      put(&b, "  temp ");
      put_decl(&b, s->buf);
      put(&b, "\n");
    }
    put(&b, "  ");
    put(&b, s->buf->name);
    put(&b, "[");
    for (int j = 0; j < s->n_axes; j++) {
      if (j) put(&b, ", ");
      put(&b, s->axes[j].var->v.name);
    }
    put(&b, "] = ");
    if (s->reduce != AICC_LOOP_REDUCE_NONE) {
      put(&b, aicc_loop_reduce_name(s->reduce));
      put(&b, "(");
      for (int j = 0; j < s->n_raxes; j++) {
        snprintf(tmp, sizeof tmp, "%s%s: %lld", j ? ", " : "", s->raxes[j].var->v.name,
                 (long long)s->raxes[j].extent);
        put(&b, tmp);
      }
      if (s->init) {
        put(&b, "; init ");
        put_expr(&b, s->init);
      }
      put(&b, ") ");
    }
    put_expr(&b, s->body);
    if (s->cond) {
      put(&b, " where ");
      put_expr(&b, s->cond);
    }
    if (s->post) {
      put(&b, " then ");
      put_expr(&b, s->post);
    }
    if (s->op_class != AICC_LOOP_CLASS_ELEMENTWISE) {
      put(&b, " @");
      put(&b, aicc_loop_class_name(s->op_class));
    }
    if (s->inlinable) put(&b, " @inlinable");
    put(&b, "\n");
  }
  put(&b, "}\n");
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
