/* Applying schedule records (schedule.h): each record is checked against the
 * current state of its stage and changes that state -- the stage's loop dims
 * (split/tile/fuse/reorder and loop kinds, as Halide's Function schedule
 * does), its compute level, or its definition (compute_inline, cache_read,
 * pack rewrite loads). Loop nests are built from this state afterwards
 * (schedule_lower.c), so no record needs to rewrite statements. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/schedule_impl.h"

typedef aicc_loop_expr expr;

aicc_status aicc_sched_fail(const sched_state *st, int step, const char *fmt, ...) {
  char msg[384], rec[256] = "schedule";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (step >= 0 && (size_t)step < st->s->n) aicc_sched_step_format(&st->s->steps[step], rec, sizeof rec);
  return aicc_errorf(AICC_ERR_INVALID, "%s: %s", rec, msg);
}

#define FAIL(...) return aicc_sched_fail(st, step, __VA_ARGS__)
#define NOMEM() return aicc_errorf(AICC_ERR_NOMEM, "out of memory applying a schedule")

/* ---- state ---- */

static const expr *loop_var(sched_state *st, const char *stage, const char *name) {
  char buf[300];
  snprintf(buf, sizeof buf, "\x01%s\x01%s", stage, name);
  return aicc_loop_var(st->ctx, buf, AICC_DTYPE_I32);
}

static int add_dim(sched_state *st, sched_stage *ss, const char *name, bool red, int64_t extent) {
  if (ss->n_dims == SCHED_MAX_DIMS) return -1;
  sched_dim *d = &ss->dims[ss->n_dims];
  d->name = aicc_loop_name(st->ctx, name, strlen(name));
  d->var = loop_var(st, ss->def.name, name);
  if (!d->name || !d->var) return -1;
  d->reduction = red;
  d->root = -1;
  d->made_by = d->used_by = -1;
  d->extent = extent;
  d->kind = AICC_LOOP_SERIAL;
  d->kind_step = -1;
  return ss->n_dims++;
}

static aicc_status stage_init(sched_state *st, sched_stage *ss, const aicc_loop_stage *def) {
  memset(ss, 0, sizeof *ss);
  ss->def = *def;
  ss->is_param = aicc_loop_kernel_is_param(st->k, def->buf);
  ss->at_dim = ss->at_step = ss->cache_write_step = -1;
  if (def->n_axes + def->n_raxes > SCHED_MAX_DIMS / 2)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "schedule: stage %s has too many axes", def->name);
  for (int i = 0; i < def->n_axes + def->n_raxes; i++) {
    bool red = i >= def->n_axes;
    const aicc_loop_axis *ax = red ? &def->raxes[i - def->n_axes] : &def->axes[i];
    int d = add_dim(st, ss, ax->var->v.name, red, ax->extent);
    if (d < 0) NOMEM();
    ss->dims[d].root = i;
    ss->order[ss->n_order++] = d;
  }
  return NULL;
}

static sched_stage *find_stage(const sched_state *st, const char *name) {
  for (int i = 0; i < st->n_stages; i++)
    if (!strcmp(st->stages[i]->def.name, name)) return st->stages[i];
  return NULL;
}

static int stage_index(const sched_state *st, const sched_stage *ss) {
  for (int i = 0; i < st->n_stages; i++)
    if (st->stages[i] == ss) return i;
  return -1;
}

static int find_dim(const sched_stage *ss, const char *name) {
  for (int i = 0; i < ss->n_dims; i++)
    if (!strcmp(ss->dims[i].name, name)) return i;
  return -1;
}

static int pos_of(const sched_stage *ss, int d) {
  for (int i = 0; i < ss->n_order; i++)
    if (ss->order[i] == d) return i;
  return -1;
}

static aicc_status get_stage(const sched_state *st, int step, const char *name, sched_stage **out) {
  sched_stage *ss = find_stage(st, name);
  if (!ss) FAIL("no stage named '%s'", name);
  if (ss->inlined) FAIL("stage %s was inlined by an earlier record", name);
  *out = ss;
  return NULL;
}

/* The leaf loop called name in ss, or an error saying why there is none. */
static aicc_status get_leaf(const sched_state *st, int step, const sched_stage *ss,
                            const char *name, int *out) {
  int d = find_dim(ss, name);
  if (d < 0) {
    for (int i = 0; i < st->n_stages; i++)
      if (st->stages[i] != ss && find_dim(st->stages[i], name) >= 0)
        FAIL("%s is a loop of stage %s, not of %s (loops never move across stages)", name,
             st->stages[i]->def.name, ss->def.name);
    FAIL("stage %s has no loop named '%s'", ss->def.name, name);
  }
  if (ss->dims[d].used_by >= 0)
    FAIL("loop %s of %s was %s by an earlier record", name, ss->def.name,
         ss->rels[ss->dims[d].used_by].split ? "split" : "fused");
  *out = d;
  return NULL;
}

static aicc_status check_new_name(const sched_state *st, int step, const sched_stage *ss,
                                  const char *name) {
  if (find_dim(ss, name) >= 0) FAIL("stage %s already has a loop named '%s'", ss->def.name, name);
  return NULL;
}

static aicc_status do_split(sched_state *st, int step, sched_stage *ss, int d, const char *outer,
                            const char *inner, int64_t f) {
  if (f <= 0) FAIL("the split factor must be positive, got %lld", (long long)f);
  if (f > INT32_MAX) FAIL("the split factor %lld is too large", (long long)f);
  AICC_TRY(check_new_name(st, step, ss, outer));
  AICC_TRY(check_new_name(st, step, ss, inner));
  if (!strcmp(outer, inner)) FAIL("the two loops need different names");
  if (ss->n_rels == SCHED_MAX_DIMS) FAIL("too many loops");
  int64_t e = ss->dims[d].extent;
  bool red = ss->dims[d].reduction;
  int o = add_dim(st, ss, outer, red, (e + f - 1) / f);
  int i = o < 0 ? -1 : add_dim(st, ss, inner, red, f);
  if (i < 0) FAIL("too many loops");
  int r = ss->n_rels++;
  ss->rels[r] = (sched_rel){true, d, o, i, f, step};
  ss->dims[d].used_by = r;
  ss->dims[o].made_by = ss->dims[i].made_by = r;
  int p = pos_of(ss, d);
  memmove(ss->order + p + 2, ss->order + p + 1, (size_t)(ss->n_order - p - 1) * sizeof(int));
  ss->order[p] = o;
  ss->order[p + 1] = i;
  ss->n_order++;
  return NULL;
}

/* Puts the named leaves, in the given order, into the positions they hold. */
static aicc_status do_reorder(sched_state *st, int step, sched_stage *ss, int n,
                              const char *const *names) {
  int dims[AICC_SCHED_MAX_NAMES], pos[AICC_SCHED_MAX_NAMES];
  for (int i = 0; i < n; i++) {
    AICC_TRY(get_leaf(st, step, ss, names[i], &dims[i]));
    for (int j = 0; j < i; j++)
      if (dims[j] == dims[i]) FAIL("loop %s is named twice", names[i]);
    pos[i] = pos_of(ss, dims[i]);
  }
  /* Sort the positions; reduction loops may trade places with each other and
   * with pure loops: every reduction kind here is associative and
   * commutative, and the lowering keeps init before and the final value
   * after the reduction loops wherever they end up. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
      int t = pos[j];
      pos[j] = pos[j - 1];
      pos[j - 1] = t;
    }
  for (int i = 0; i < n; i++) ss->order[pos[i]] = dims[i];
  return NULL;
}

/* ---- definition rewrites ---- */

typedef const expr *(*load_fn)(sched_state *st, const expr *load, void *arg);

/* e with each load replaced by fn(load) (indices rewritten first). */
static const expr *map_loads(sched_state *st, const expr *e, load_fn fn, void *arg) {
  if (!e || (e->nargs == 0 && e->op != AICC_LOOP_LOAD)) return e;
  const expr *args[64];
  if (e->nargs > 64) return NULL;
  bool same = true;
  for (uint32_t i = 0; i < e->nargs; i++) {
    args[i] = map_loads(st, e->args[i], fn, arg);
    if (!args[i]) return NULL;
    same = same && args[i] == e->args[i];
  }
  const expr *r = same ? e : aicc_loop_expr_with_args(st->ctx, e, args);
  if (r && r->op == AICC_LOOP_LOAD) r = fn(st, r, arg);
  return r;
}

static bool map_def(sched_state *st, aicc_loop_stage *def, load_fn fn, void *arg) {
  const expr **parts[4] = {&def->body, &def->init, &def->cond, &def->post};
  for (int i = 0; i < 4; i++)
    if (*parts[i] && !(*parts[i] = map_loads(st, *parts[i], fn, arg))) return false;
  return true;
}

static bool reads(const expr *e, const aicc_loop_buffer *b) {
  if (!e) return false;
  if (e->op == AICC_LOOP_LOAD && e->buf == b) return true;
  for (uint32_t i = 0; i < e->nargs; i++)
    if (reads(e->args[i], b)) return true;
  return false;
}

static bool def_reads(const aicc_loop_stage *d, const aicc_loop_buffer *b) {
  return reads(d->body, b) || reads(d->init, b) || reads(d->cond, b) || reads(d->post, b);
}

typedef struct {
  const aicc_loop_buffer *buf;
  const expr *value;     /* the inlined body over fresh variables */
  const expr *fresh[AICC_MAX_LOOP_RANK];
  int n;
} inline_arg;

/* compute_inline: a load of the inlined stage becomes its body with the
 * axes bound to the load's indices, all at once (the body's variables were
 * renamed to fresh ones first, so an index that mentions i1 is not touched
 * again when i1 itself is substituted). */
static const expr *inline_load(sched_state *st, const expr *load, void *argp) {
  inline_arg *a = argp;
  if (load->buf != a->buf) return load;
  const expr *v = a->value;
  for (int d = 0; d < a->n && v; d++) v = aicc_loop_expr_substitute(st->ctx, v, a->fresh[d], load->args[d]);
  return v;
}

typedef struct {
  const aicc_loop_buffer *from, *to;
} retarget_arg;

static const expr *retarget_load(sched_state *st, const expr *load, void *argp) {
  retarget_arg *a = argp;
  return load->buf == a->from ? aicc_loop_load(st->ctx, a->to, load->args) : load;
}

typedef struct {
  const aicc_loop_buffer *from, *to;
  int dim;
  int64_t factor;
} pack_arg;

static const expr *pack_load(sched_state *st, const expr *load, void *argp) {
  pack_arg *a = argp;
  if (load->buf != a->from) return load;
  const expr *idx[AICC_MAX_LOOP_RANK + 1], *f = aicc_loop_i32(st->ctx, a->factor);
  const expr *x = load->args[a->dim];
  int n = 0;
  idx[n++] = aicc_loop_div(st->ctx, x, f);
  for (int d = 0; d < a->from->rank; d++)
    if (d != a->dim) idx[n++] = load->args[d];
  idx[n++] = aicc_loop_mod(st->ctx, x, f);
  return aicc_loop_load(st->ctx, a->to, idx);
}

static const aicc_loop_buffer *find_buffer(const sched_state *st, const char *name) {
  for (size_t i = 0; i < st->k->n_params; i++)
    if (!strcmp(st->k->params[i]->name, name)) return st->k->params[i];
  for (int i = 0; i < st->n_stages; i++)
    if (!strcmp(st->stages[i]->def.buf->name, name)) return st->stages[i]->def.buf;
  return NULL;
}

static bool name_taken(const sched_state *st, const char *name) {
  if (find_buffer(st, name)) return true;
  for (int i = 0; i < st->n_stages; i++)
    if (st->stages[i]->cache_write && !strcmp(st->stages[i]->cache_write, name)) return true;
  return false;
}

/* Inserts a new stage (a copy of def) before stage index at. */
static aicc_status insert_stage(sched_state *st, int at, const aicc_loop_stage *def,
                                sched_stage **out) {
  sched_stage *ns = AICC_ARENA_NEW(aicc_loop_ctx_arena(st->ctx), sched_stage);
  if (!ns) NOMEM();
  AICC_TRY(stage_init(st, ns, def));
  ns->is_param = false;
  memmove(st->stages + at + 1, st->stages + at, (size_t)(st->n_stages - at) * sizeof *st->stages);
  st->stages[at] = ns;
  st->n_stages++;
  *out = ns;
  return NULL;
}

/* ---- records ---- */

static aicc_status rec_inline(sched_state *st, int step, sched_stage *ss) {
  const aicc_loop_stage *d = &ss->def;
  if (ss->is_param) FAIL("%s is a kernel parameter and must be stored", d->name);
  if (d->reduce != AICC_LOOP_REDUCE_NONE) FAIL("%s is a reduction", d->name);
  if (d->cond) FAIL("%s has a condition (it is not defined everywhere)", d->name);
  for (int i = 0; i < st->n_stages; i++)
    if (st->stages[i]->at == ss && !st->stages[i]->inlined)
      FAIL("stage %s is computed at a loop of %s", st->stages[i]->def.name, d->name);
  inline_arg a = {.buf = d->buf, .value = d->body, .n = d->n_axes};
  for (int i = 0; i < d->n_axes; i++) {
    char name[300];
    snprintf(name, sizeof name, "\x01inline\x01%s\x01%d", d->name, i);
    a.fresh[i] = aicc_loop_var(st->ctx, name, AICC_DTYPE_I32);
    a.value = aicc_loop_expr_substitute(st->ctx, a.value, d->axes[i].var, a.fresh[i]);
    if (!a.value) NOMEM();
  }
  for (int i = 0; i < st->n_stages; i++) {
    sched_stage *t = st->stages[i];
    if (t == ss || t->inlined) continue;
    if (!map_def(st, &t->def, inline_load, &a)) NOMEM();
  }
  ss->inlined = true;
  return NULL;
}

static aicc_status rec_cache_read(sched_state *st, int step, sched_stage *ss, const char *bname,
                                  const char *lname) {
  const aicc_loop_buffer *b = find_buffer(st, bname);
  if (!b) FAIL("no buffer named '%s'", bname);
  if (b == ss->def.buf) FAIL("%s cannot cache its own buffer (see cache_write)", bname);
  if (!def_reads(&ss->def, b)) FAIL("%s does not read %s", ss->def.name, bname);
  if (name_taken(st, lname)) FAIL("the name '%s' is taken", lname);
  const aicc_loop_buffer *copy = aicc_loop_buffer_create(st->ctx, lname, b->type, b->rank, b->shape);
  aicc_loop_stage *def = copy ? aicc_loop_stage_create(st->ctx, copy, "i") : NULL;
  if (!def) NOMEM();
  const expr *idx[AICC_MAX_LOOP_RANK];
  for (int d = 0; d < b->rank; d++) idx[d] = def->axes[d].var;
  def->body = aicc_loop_load(st->ctx, b, idx);
  def->op_class = AICC_LOOP_CLASS_MOVEMENT;
  retarget_arg a = {b, copy};
  if (!def->body || !map_def(st, &ss->def, retarget_load, &a)) NOMEM();
  sched_stage *ns;
  return insert_stage(st, stage_index(st, ss), def, &ns);
}

static void collect_loads(const expr *e, const aicc_loop_buffer *b, const expr **out, int *n,
                          int max) {
  if (!e) return;
  if (e->op == AICC_LOOP_LOAD && e->buf == b && *n < max) out[(*n)++] = e;
  for (uint32_t i = 0; i < e->nargs; i++) collect_loads(e->args[i], b, out, n, max);
}

static aicc_status rec_pack(sched_state *st, int step, sched_stage *ss, const char *bname,
                            const char *axis, int64_t f) {
  const aicc_loop_stage *d = &ss->def;
  if (f <= 0) FAIL("the pack factor must be positive, got %lld", (long long)f);
  const aicc_loop_buffer *b = find_buffer(st, bname);
  if (!b) FAIL("no buffer named '%s'", bname);
  if (b == d->buf) FAIL("%s cannot pack its own buffer", d->name);
  const expr *v = NULL;
  for (int i = 0; i < d->n_axes + d->n_raxes; i++) {
    const aicc_loop_axis *ax = i < d->n_axes ? &d->axes[i] : &d->raxes[i - d->n_axes];
    if (!strcmp(ax->var->v.name, axis)) v = ax->var;
  }
  if (!v) FAIL("%s has no axis named '%s'", d->name, axis);
  const expr *loads[256];
  int n = 0;
  const expr *parts[4] = {d->body, d->init, d->cond, d->post};
  for (int i = 0; i < 4; i++) collect_loads(parts[i], b, loads, &n, 256);
  if (n == 0) FAIL("%s does not read %s", d->name, bname);
  int dim = -1;
  for (int k = 0; k < b->rank && dim < 0; k++) {
    bool all = true;
    for (int i = 0; i < n && all; i++) all = loads[i]->args[k] == v;
    if (all) dim = k;
  }
  if (dim < 0) FAIL("no dimension of %s is indexed by %s in every load", bname, axis);
  if (b->rank + 1 > AICC_MAX_LOOP_RANK) FAIL("%s has too many dimensions to pack", bname);
  int64_t e = 0;
  aicc_loop_expr_is_int_const(b->shape[dim], &e);
  /* The packed buffer: [ceil(E/f), the other dims in order, f]. */
  char name[256];
  snprintf(name, sizeof name, "%s_pack", bname);
  for (int k = 1; name_taken(st, name); k++) snprintf(name, sizeof name, "%s_pack%d", bname, k);
  const expr *shape[AICC_MAX_LOOP_RANK];
  int r = 0;
  shape[r++] = aicc_loop_i32(st->ctx, (e + f - 1) / f);
  for (int k = 0; k < b->rank; k++)
    if (k != dim) shape[r++] = b->shape[k];
  shape[r++] = aicc_loop_i32(st->ctx, f);
  const aicc_loop_buffer *pb = aicc_loop_buffer_create(st->ctx, name, b->type, r, shape);
  aicc_loop_stage *def = pb ? aicc_loop_stage_create(st->ctx, pb, "i") : NULL;
  if (!def) NOMEM();
  const expr *idx[AICC_MAX_LOOP_RANK], *fe = aicc_loop_i32(st->ctx, f);
  const expr *x = aicc_loop_add(st->ctx, aicc_loop_mul(st->ctx, def->axes[0].var, fe),
                                def->axes[r - 1].var);
  for (int k = 0, j = 1; k < b->rank; k++) idx[k] = k == dim ? x : def->axes[j++].var;
  if (e % f == 0) {
    def->body = aicc_loop_load(st->ctx, b, idx);
  } else {
    /* The padding past the end reads a clamped index and stores zero. */
    idx[dim] = aicc_loop_min(st->ctx, x, aicc_loop_i32(st->ctx, e - 1));
    const expr *zero = aicc_loop_type_is_int(b->type) ? aicc_loop_int(st->ctx, b->type, 0)
                                                       : aicc_loop_float(st->ctx, b->type, 0);
    def->body = aicc_loop_select(st->ctx, aicc_loop_binary(st->ctx, AICC_LOOP_LT, x, aicc_loop_i32(st->ctx, e)),
                                 aicc_loop_load(st->ctx, b, idx), zero);
  }
  def->op_class = AICC_LOOP_CLASS_MOVEMENT;
  pack_arg a = {b, pb, dim, f};
  if (!def->body || !map_def(st, &ss->def, pack_load, &a)) NOMEM();
  sched_stage *ns;
  return insert_stage(st, stage_index(st, ss), def, &ns);
}

static bool uses_axis(const expr *e, const expr *v) { return e && aicc_loop_expr_uses_var(e, v); }

/* The root axis a dim comes from through splits only, or -1. */
static int split_root(const sched_stage *ss, int d) {
  while (ss->dims[d].root < 0) {
    const sched_rel *r = &ss->rels[ss->dims[d].made_by];
    if (!r->split) return -1;
    d = r->a;
  }
  return ss->dims[d].root;
}

/* tensorize(S, x, gemm_MxN): the nest under x must be the rank-1 update of
 * a GEMM micro-kernel: two pure loops x (M) and y (N), innermost, inside at
 * least one reduction loop, with S a sum of a*b where a does not depend on
 * y's axis and b not on x's (or the reverse). It maps onto the register
 * block form codegen emits as SIMD FMAs: x unrolled, y vectorized. */
static aicc_status rec_tensorize(sched_state *st, int step, sched_stage *ss, const char *loop,
                                 const char *mk) {
  long long m = 0, n = 0;
  char tail = 0;
  if (sscanf(mk, "gemm_%lldx%lld%c", &m, &n, &tail) != 2 || m <= 0 || n <= 0)
    FAIL("unknown micro-kernel '%s' (known: gemm_<M>x<N>)", mk);
  int x;
  AICC_TRY(get_leaf(st, step, ss, loop, &x));
  int p = pos_of(ss, x);
  const aicc_loop_stage *d = &ss->def;
  if (d->reduce != AICC_LOOP_REDUCE_SUM) FAIL("%s is not a sum reduction", d->name);
  if (ss->n_order - p != 2) FAIL("the nest under %s must be two loops, got %d", loop, ss->n_order - p);
  int y = ss->order[p + 1];
  if (ss->dims[x].reduction || ss->dims[y].reduction) FAIL("the nest under %s holds a reduction loop", loop);
  bool red_outside = false;
  for (int i = 0; i < p; i++) red_outside = red_outside || ss->dims[ss->order[i]].reduction;
  if (!red_outside) FAIL("no reduction loop encloses %s", loop);
  if (ss->dims[x].extent != m) FAIL("loop %s has extent %lld, %s needs %lld", loop, (long long)ss->dims[x].extent, mk, m);
  if (ss->dims[y].extent != n)
    FAIL("loop %s has extent %lld, %s needs %lld", ss->dims[y].name, (long long)ss->dims[y].extent, mk, n);
  int rx = split_root(ss, x), ry = split_root(ss, y);
  if (rx < 0 || ry < 0 || rx == ry) FAIL("loops %s and %s must come from two different axes by splits", loop, ss->dims[y].name);
  const expr *vx = d->axes[rx].var, *vy = d->axes[ry].var, *b = d->body;
  while (b->op == AICC_LOOP_CAST) b = b->args[0];
  if (b->op != AICC_LOOP_MUL) FAIL("%s is not a sum of products", d->name);
  const expr *l = b->args[0], *r = b->args[1];
  bool ok = (!uses_axis(l, vy) && !uses_axis(r, vx)) || (!uses_axis(l, vx) && !uses_axis(r, vy));
  if (!ok) FAIL("%s is not an outer-product update over %s and %s", d->name, loop, ss->dims[y].name);
  if (d->buf->rank == 0 || d->axes[d->n_axes - 1].var != vy)
    FAIL("%s's innermost axis must be %s's axis", d->name, ss->dims[y].name);
  ss->dims[x].kind = AICC_LOOP_UNROLLED;
  ss->dims[y].kind = AICC_LOOP_VECTORIZED;
  ss->dims[x].kind_step = ss->dims[y].kind_step = step;
  return NULL;
}

static aicc_status apply_step(sched_state *st, int step) {
  const aicc_sched_step *r = &st->s->steps[step];
  sched_stage *ss;
  AICC_TRY(get_stage(st, step, r->stage, &ss));
  const char *const *nm = r->names;
  int d, e;
  switch (r->kind) {
  case AICC_SCHED_SPLIT:
    AICC_TRY(get_leaf(st, step, ss, nm[0], &d));
    return do_split(st, step, ss, d, nm[1], nm[2], r->ints[0]);
  case AICC_SCHED_TILE: {
    AICC_TRY(get_leaf(st, step, ss, nm[0], &d));
    AICC_TRY(get_leaf(st, step, ss, nm[1], &e));
    if (d == e) FAIL("tile needs two different loops");
    char n[4][160];
    snprintf(n[0], sizeof n[0], "%so", nm[0]);
    snprintf(n[1], sizeof n[1], "%si", nm[0]);
    snprintf(n[2], sizeof n[2], "%so", nm[1]);
    snprintf(n[3], sizeof n[3], "%si", nm[1]);
    AICC_TRY(do_split(st, step, ss, d, n[0], n[1], r->ints[0]));
    AICC_TRY(do_split(st, step, ss, e, n[2], n[3], r->ints[1]));
    const char *order[4] = {n[0], n[2], n[1], n[3]};
    return do_reorder(st, step, ss, 4, order);
  }
  case AICC_SCHED_REORDER: return do_reorder(st, step, ss, r->n_names, nm);
  case AICC_SCHED_FUSE: {
    AICC_TRY(get_leaf(st, step, ss, nm[0], &d));
    AICC_TRY(get_leaf(st, step, ss, nm[1], &e));
    if (pos_of(ss, e) != pos_of(ss, d) + 1) FAIL("%s must be the loop directly inside %s", nm[1], nm[0]);
    if (ss->dims[d].reduction != ss->dims[e].reduction) FAIL("cannot fuse a reduction loop with a pure loop");
    AICC_TRY(check_new_name(st, step, ss, nm[2]));
    if (ss->n_rels == SCHED_MAX_DIMS) FAIL("too many loops");
    int64_t ext = ss->dims[d].extent * ss->dims[e].extent;
    if (ext > INT32_MAX) FAIL("the fused extent %lld is too large", (long long)ext);
    int f = add_dim(st, ss, nm[2], ss->dims[d].reduction, ext);
    if (f < 0) FAIL("too many loops");
    int rel = ss->n_rels++;
    ss->rels[rel] = (sched_rel){false, d, e, f, 0, step};
    ss->dims[d].used_by = ss->dims[e].used_by = rel;
    ss->dims[f].made_by = rel;
    int p = pos_of(ss, d);
    ss->order[p] = f;
    memmove(ss->order + p + 1, ss->order + p + 2, (size_t)(ss->n_order - p - 2) * sizeof(int));
    ss->n_order--;
    return NULL;
  }
  case AICC_SCHED_UNROLL:
  case AICC_SCHED_VECTORIZE:
  case AICC_SCHED_PARALLEL: {
    AICC_TRY(get_leaf(st, step, ss, nm[0], &d));
    if (r->kind != AICC_SCHED_UNROLL && ss->dims[d].reduction)
      FAIL("%s is a reduction loop (%s)", nm[0],
           r->kind == AICC_SCHED_PARALLEL ? "a race on its accumulator" : "lanes would race on its accumulator");
    ss->dims[d].kind = r->kind == AICC_SCHED_UNROLL ? AICC_LOOP_UNROLLED
                       : r->kind == AICC_SCHED_VECTORIZE ? AICC_LOOP_VECTORIZED
                                                         : AICC_LOOP_PARALLEL;
    ss->dims[d].kind_step = step;
    return NULL;
  }
  case AICC_SCHED_COMPUTE_INLINE: return rec_inline(st, step, ss);
  case AICC_SCHED_COMPUTE_AT: {
    sched_stage *c;
    AICC_TRY(get_stage(st, step, nm[0], &c));
    if (c == ss) FAIL("a stage cannot be computed inside itself");
    if (stage_index(st, ss) > stage_index(st, c)) FAIL("%s is computed after %s, so %s cannot read it", ss->def.name, c->def.name, c->def.name);
    if (ss->is_param) FAIL("%s is a kernel parameter (an output) and is computed at the root", ss->def.name);
    AICC_TRY(get_leaf(st, step, c, nm[1], &d));
    ss->at = c;
    ss->at_dim = d;
    ss->at_step = step;
    return NULL;
  }
  case AICC_SCHED_CACHE_READ: return rec_cache_read(st, step, ss, nm[0], nm[1]);
  case AICC_SCHED_CACHE_WRITE:
    if (ss->def.reduce == AICC_LOOP_REDUCE_NONE) FAIL("%s is not a reduction", ss->def.name);
    if (ss->cache_write) FAIL("%s already accumulates in %s", ss->def.name, ss->cache_write);
    if (name_taken(st, nm[0])) FAIL("the name '%s' is taken", nm[0]);
    ss->cache_write = aicc_loop_name(st->ctx, nm[0], strlen(nm[0]));
    ss->cache_write_step = step;
    return ss->cache_write ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  case AICC_SCHED_PACK: return rec_pack(st, step, ss, nm[0], nm[1], r->ints[0]);
  case AICC_SCHED_TENSORIZE: return rec_tensorize(st, step, ss, nm[0], nm[1]);
  case AICC_SCHED_KIND_COUNT: break;
  }
  FAIL("unknown record");
}

aicc_status aicc_schedule_apply(aicc_loop_ctx *ctx, const aicc_loop_kernel *k,
                                const aicc_schedule *s, aicc_loop_func **out) {
  static const aicc_schedule empty;
  *out = NULL;
  if (!s) s = &empty;
  sched_state st = {.ctx = ctx, .k = k, .s = s};
  aicc_arena *a = aicc_loop_ctx_arena(ctx);
  size_t cap = k->n_stages + s->n + 1;
  st.stages = AICC_ARENA_ARRAY(a, sched_stage *, cap);
  if (!st.stages) NOMEM();
  for (size_t i = 0; i < k->n_stages; i++) {
    sched_stage *ss = AICC_ARENA_NEW(a, sched_stage);
    if (!ss) NOMEM();
    AICC_TRY(stage_init(&st, ss, k->stages[i]));
    st.stages[st.n_stages++] = ss;
  }
  for (size_t i = 0; i < s->n; i++) AICC_TRY(apply_step(&st, (int)i));
  return aicc_sched_lower(&st, out);
}
