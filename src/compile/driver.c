/* The compile driver: aicc_rt_compile (options, graph passes, the binding
 * of symbolic dims) and the making of one shape specialization: the model
 * bound to static input shapes (a copy when the program's model has
 * symbolic dims, re-optimized once its shapes are known), partitioned into
 * kernels and extern steps, then planned (plan_build.c). */
#include "compile/compile.h"

#include "codegen/codegen.h"
#include "interp/interp.h"
#include "ir/text.h"
#include "jit/jit.h"
#include "loop/ir.h"
#include "passes/pipeline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

aicc_status aicc_compile_passes(aicc_model *m, int opt_level) {
  aicc_pipeline pl;
  AICC_TRY(aicc_pipeline_for_level(opt_level, &pl));
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  ctx.opt_level = opt_level;
  /* Legalization for this engine only: LSTM/GRU/RNN of static length become
   * lowerable ops (passes/rnn_unroll.c) before folding sees their weights. */
  const aicc_pass *unroll = opt_level > 0 ? aicc_pass_find("rnn_unroll") : NULL;
  aicc_status s = unroll ? aicc_pass_run(m, unroll, &ctx) : NULL;
  if (!s) s = aicc_pipeline_run(m, &pl, &ctx);
  const aicc_pass *fuse = aicc_pass_find("fuse");
  if (!s && fuse) s = aicc_pass_run(m, fuse, &ctx);
  if (!s) s = aicc_graph_toposort(m->graph);
  /* Folding may have made shapes static that the types do not show yet. */
  if (!s) s = aicc_model_infer(m);
  aicc_pass_ctx_fini(&ctx);
  aicc_pipeline_fini(&pl);
  return s;
}

/* ---- binding symbolic dims ---- */

static aicc_status parse_bindings(aicc_rt_program *p, const char *spec) {
  const char *s = spec;
  while (*s) {
    while (*s == ',' || isspace((unsigned char)*s)) s++;
    if (!*s) break;
    const char *name = s;
    while (*s && *s != '=' && *s != ',') s++;
    size_t len = (size_t)(s - name);
    while (len && isspace((unsigned char)name[len - 1])) len--;
    if (*s != '=' || !len)
      return aicc_errorf(AICC_ERR_INVALID, "input shapes '%s': expected NAME=SIZE at '%s'", spec,
                         name);
    s++;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0)
      return aicc_errorf(AICC_ERR_INVALID, "input shapes '%s': '%.*s' needs a size >= 0", spec,
                         (int)len, name);
    s = end;
    while (isspace((unsigned char)*s)) s++;
    if (*s && *s != ',')
      return aicc_errorf(AICC_ERR_INVALID, "input shapes '%s': unexpected '%c'", spec, *s);
    aicc_rt_binding *b = realloc(p->bindings, sizeof *b * ((size_t)p->n_bindings + 1));
    if (!b) return NOMEM();
    p->bindings = b;
    char *nm = malloc(len + 1);
    if (!nm) return NOMEM();
    memcpy(nm, name, len);
    nm[len] = 0;
    b[p->n_bindings++] = (aicc_rt_binding){nm, v};
  }
  /* Every name must be a symbol of some input. */
  const aicc_graph *g = p->base->graph;
  for (int k = 0; k < p->n_bindings; k++) {
    bool found = false;
    for (size_t i = 0; i < g->inputs.len && !found; i++) {
      const aicc_type *t = &g->inputs.data[i]->type;
      for (int d = 0; d < t->rank && !found; d++)
        found = t->dims[d].sym && strcmp(t->dims[d].sym, p->bindings[k].sym) == 0;
    }
    if (!found)
      return aicc_errorf(AICC_ERR_INVALID, "%s: input shapes: '%s' is not a dim of any input",
                         p->base->path, p->bindings[k].sym);
  }
  return NULL;
}

/* The key of the declared input types with the bindings applied; false when
 * some input still has a dim the run must give. */
static bool declared_key(const aicc_rt_program *p, aicc_rt_key *key) {
  const aicc_graph *g = p->base->graph;
  for (size_t i = 0; i < g->inputs.len; i++) {
    const aicc_value *v = g->inputs.data[i];
    aicc_rt_key *k = &key[i];
    memset(k, 0, sizeof *k);
    k->given = v->init == NULL;
    if (!k->given) continue;
    k->kind = v->type.kind;
    if (k->kind != AICC_KIND_TENSOR) {
      if (k->kind == AICC_KIND_NONE) return false;
      continue;
    }
    if (v->type.dtype == AICC_DTYPE_UNDEFINED || v->type.rank < 0) return false;
    k->dtype = v->type.dtype;
    k->rank = v->type.rank;
    for (int d = 0; d < k->rank; d++) {
      aicc_dim dim = v->type.dims[d];
      k->dims[d] = dim.size;
      if (aicc_dim_is_known(dim)) continue;
      bool bound = false;
      for (int b = 0; dim.sym && b < p->n_bindings && !bound; b++)
        if (strcmp(p->bindings[b].sym, dim.sym) == 0) {
          k->dims[d] = p->bindings[b].size;
          bound = true;
        }
      if (!bound) return false;
    }
  }
  return true;
}

/* True when base itself is the model of key: every given input is a
 * non-initializer whose declared type is exactly the key's. */
static bool base_fits(const aicc_model *m, const aicc_rt_key *key) {
  const aicc_graph *g = m->graph;
  for (size_t i = 0; i < g->inputs.len; i++) {
    const aicc_value *v = g->inputs.data[i];
    const aicc_rt_key *k = &key[i];
    if (!k->given) continue;
    if (v->init) return false;
    if (k->kind != AICC_KIND_TENSOR) continue;
    const aicc_type *t = &v->type;
    if (t->kind != AICC_KIND_TENSOR || !aicc_type_is_static(t) || t->rank != k->rank)
      return false;
    for (int d = 0; d < k->rank; d++)
      if (t->dims[d].size != k->dims[d]) return false;
  }
  return true;
}

aicc_status aicc_compile_model_copy(const aicc_model *m, aicc_model **out) {
  char *text = NULL;
  size_t len = 0;
  AICC_TRY(aicc_model_print_string(m, NULL, &text, &len));
  aicc_status s = aicc_model_parse(text, len, m->path, out);
  free(text);
  return s;
}

typedef struct sym_map {
  const char *sym;
  int64_t size;
} sym_map;

static void bind_type(aicc_type *t, const sym_map *syms, int n) {
  for (int d = 0; d < t->rank && t->rank > 0; d++) {
    if (!t->dims[d].sym) continue;
    for (int k = 0; k < n; k++)
      if (strcmp(syms[k].sym, t->dims[d].sym) == 0) {
        t->dims[d] = aicc_dim_known(syms[k].size);
        break;
      }
  }
}

/* A copy of base with the given inputs typed as in key (a given input that
 * was an initializer is one no more) and every symbol they bind replaced by
 * its size, in every graph. */
static aicc_status bind_copy(const aicc_model *base, const aicc_rt_key *key, aicc_model **out) {
  aicc_model *m = NULL;
  AICC_TRY(aicc_compile_model_copy(base, &m));
  aicc_graph *g = m->graph;
  sym_map syms[128];
  int n_syms = 0;
  for (size_t i = 0; i < g->inputs.len; i++) {
    aicc_value *v = g->inputs.data[i];
    const aicc_rt_key *k = &key[i];
    if (!k->given) continue;
    if (v->init) {
      v->init = NULL;
      for (size_t j = 0; j < g->inits.len; j++)
        if (g->inits.data[j] == v) {
          memmove(&g->inits.data[j], &g->inits.data[j + 1],
                  sizeof *g->inits.data * (g->inits.len - j - 1));
          g->inits.len--;
          break;
        }
    }
    if (k->kind != AICC_KIND_TENSOR) continue;
    for (int d = 0; d < v->type.rank && d < k->rank; d++)
      if (v->type.dims[d].sym && n_syms < 128)
        syms[n_syms++] = (sym_map){v->type.dims[d].sym, k->dims[d]};
    v->type = aicc_type_tensor(k->dtype, k->rank, k->dims);
  }
  for (size_t gi = 0; gi < m->graphs.len; gi++) {
    aicc_graph *sg = m->graphs.data[gi];
    for (size_t i = 0; i < sg->inputs.len; i++) bind_type(&sg->inputs.data[i]->type, syms, n_syms);
    for (size_t i = 0; i < sg->nodes.len; i++) {
      aicc_node *nd = sg->nodes.data[i];
      for (int k = 0; k < nd->n_outputs; k++)
        if (nd->outputs[k]) bind_type(&nd->outputs[k]->type, syms, n_syms);
    }
  }
  *out = m;
  return NULL;
}

/* ---- the build of one specialization ---- */

static aicc_status uses_graph(const aicc_graph *main, const aicc_graph *sub, uint32_t *list,
                              int32_t *n, bool *seen);

static void use_value(const aicc_graph *main, const aicc_value *v, uint32_t *list, int32_t *n,
                      bool *seen) {
  if (!v || v->graph != main || seen[v->id]) return;
  seen[v->id] = true;
  list[(*n)++] = v->id;
}

static aicc_status uses_node(const aicc_graph *main, const aicc_node *nd, uint32_t *list,
                             int32_t *n, bool *seen) {
  for (int k = 0; k < nd->n_inputs; k++) use_value(main, nd->inputs[k], list, n, seen);
  for (int a = 0; a < nd->n_attrs; a++) {
    if (nd->attrs[a].kind == AICC_ATTR_GRAPH && nd->attrs[a].g)
      AICC_TRY(uses_graph(main, nd->attrs[a].g, list, n, seen));
    if (nd->attrs[a].kind == AICC_ATTR_GRAPHS)
      for (int64_t j = 0; j < nd->attrs[a].n; j++)
        if (nd->attrs[a].gs[j]) AICC_TRY(uses_graph(main, nd->attrs[a].gs[j], list, n, seen));
  }
  return NULL;
}

static aicc_status uses_graph(const aicc_graph *main, const aicc_graph *sub, uint32_t *list,
                              int32_t *n, bool *seen) {
  for (size_t i = 0; i < sub->nodes.len; i++)
    AICC_TRY(uses_node(main, sub->nodes.data[i], list, n, seen));
  for (size_t o = 0; o < sub->outputs.len; o++) use_value(main, sub->outputs.data[o], list, n, seen);
  return NULL;
}

/* Per value: producer, consumers, graph-output flag, constants. */
static aicc_status analyze(aicc_cbuild *b, const aicc_rt_key *key) {
  aicc_graph *g = b->g;
  uint32_t nv = b->n_values ? b->n_values : 1;
  int nn = b->n_nodes ? b->n_nodes : 1;
  aicc_arena *a = &b->mem;
  b->cval = AICC_ARENA_ARRAY(a, const aicc_tensor *, nv);
  b->producer = AICC_ARENA_ARRAY(a, int32_t, nv);
  b->consumers = AICC_ARENA_ARRAY(a, int32_t *, nv);
  b->n_consumers = AICC_ARENA_ARRAY(a, int32_t, nv);
  b->graph_out = AICC_ARENA_ARRAY(a, bool, nv);
  b->vbuf = AICC_ARENA_ARRAY(a, const aicc_loop_buffer *, nv);
  b->vstamp = AICC_ARENA_ARRAY(a, int32_t, nv);
  b->skip = AICC_ARENA_ARRAY(a, bool, nn);
  b->unit_of = AICC_ARENA_ARRAY(a, int32_t, nn);
  b->uses = AICC_ARENA_ARRAY(a, uint32_t *, nn);
  b->n_uses = AICC_ARENA_ARRAY(a, int32_t, nn);
  b->nstamp = AICC_ARENA_ARRAY(a, int32_t, nn);
  bool *seen = calloc(nv, sizeof *seen);
  uint32_t *list = malloc(sizeof *list * nv);
  if (!b->cval || !b->producer || !b->consumers || !b->n_consumers || !b->graph_out ||
      !b->vbuf || !b->vstamp || !b->skip || !b->unit_of || !b->uses || !b->n_uses ||
      !b->nstamp || !seen || !list) {
    free(seen);
    free(list);
    return NOMEM();
  }
  for (uint32_t v = 0; v < nv; v++) b->producer[v] = -1;
  aicc_status st = NULL;
  for (int i = 0; i < b->n_nodes && !st; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_outputs; k++)
      if (nd->outputs[k]) b->producer[nd->outputs[k]->id] = i;
    int32_t n = 0;
    st = uses_node(g, nd, list, &n, seen);
    for (int32_t k = 0; k < n; k++) seen[list[k]] = false;
    b->uses[i] = aicc_arena_memdup(a, list, sizeof *list * (size_t)(n ? n : 1));
    b->n_uses[i] = n;
    if (!b->uses[i]) st = NOMEM();
    for (int32_t k = 0; k < n && !st; k++) b->n_consumers[list[k]]++;
  }
  free(seen);
  free(list);
  if (st) return st;
  for (uint32_t v = 0; v < nv; v++) {
    b->consumers[v] = AICC_ARENA_ARRAY(a, int32_t, b->n_consumers[v] ? b->n_consumers[v] : 1);
    if (!b->consumers[v]) return NOMEM();
    b->n_consumers[v] = 0;
  }
  for (int i = 0; i < b->n_nodes; i++)
    for (int32_t k = 0; k < b->n_uses[i]; k++) {
      uint32_t v = b->uses[i][k];
      b->consumers[v][b->n_consumers[v]++] = i;
    }
  for (size_t o = 0; o < g->outputs.len; o++) b->graph_out[g->outputs.data[o]->id] = true;
  for (size_t i = 0; i < g->inits.len; i++) b->cval[g->inits.data[i]->id] = g->inits.data[i]->init;
  for (size_t i = 0; i < g->inputs.len; i++)
    if (key[i].given) b->cval[g->inputs.data[i]->id] = NULL;
  /* Constant nodes are evaluated once here (their kernel hands out the
   * attribute's tensor, which sessions must not share). */
  for (int i = 0; i < b->n_nodes; i++) {
    const aicc_node *nd = g->nodes.data[i];
    if (strcmp(nd->op_type, "Constant") != 0 || (nd->domain && *nd->domain) ||
        nd->n_inputs != 0 || nd->n_outputs != 1 || !nd->outputs[0])
      continue;
    aicc_tensor *t = NULL;
    AICC_TRY(aicc_interp_eval_node(b->m, nd, NULL, &t));
    if (!aicc_vec_push(&b->plan->consts, t)) {
      aicc_tensor_release(t);
      return NOMEM();
    }
    b->cval[nd->outputs[0]->id] = t;
    b->skip[i] = true;
  }
  /* A value folded into a constant keeps the type declared before folding
   * (say f32[1,?,64]); its data says exactly what it is. Graph inputs are
   * left alone (run inputs are checked against them). */
  for (size_t i = 0; i < g->inits.len; i++) {
    aicc_value *v = g->inits.data[i];
    if (b->cval[v->id] && b->cval[v->id]->kind == AICC_KIND_TENSOR)
      v->type = aicc_type_of(b->cval[v->id]);
  }
  for (int i = 0; i < b->n_nodes; i++)
    if (b->skip[i]) {
      aicc_value *v = g->nodes.data[i]->outputs[0];
      if (b->cval[v->id]->kind == AICC_KIND_TENSOR) v->type = aicc_type_of(b->cval[v->id]);
    }
  return NULL;
}

static void pick_target(aicc_cbuild *b) {
  const aicc_rt_options *o = &b->prog->opt;
  aicc_jit_isa isa = aicc_jit_host_isa();
  int bits = isa.vector_bits;
  aicc_codegen_isa cg = AICC_CODEGEN_SCALAR;
  if (isa.features & AICC_JIT_ISA_AVX512F) cg = AICC_CODEGEN_AVX512;
  else if ((isa.features & AICC_JIT_ISA_AVX2) && (isa.features & AICC_JIT_ISA_FMA))
    cg = AICC_CODEGEN_AVX2;
  else bits = 0;
  if (o->isa && strcmp(o->isa, "scalar") == 0) {
    cg = AICC_CODEGEN_SCALAR;
    bits = 0;
  } else if (o->isa && strcmp(o->isa, "avx2") == 0 && cg == AICC_CODEGEN_AVX512) {
    cg = AICC_CODEGEN_AVX2;
    bits = 256;
  }
  b->codegen_isa = cg;
  b->target = aicc_sched_target_default(bits, o->threads);
}

void aicc_rt_plan_destroy(aicc_rt_plan *p) {
  if (!p) return;
  aicc_jit_module_release(p->module);
  free(p->source);
  for (size_t i = 0; i < p->consts.len; i++) aicc_tensor_release(p->consts.data[i]);
  aicc_vec_free(&p->consts);
  for (size_t i = 0; i < p->sub_models.len; i++) aicc_model_destroy(p->sub_models.data[i]);
  aicc_vec_free(&p->sub_models);
  if (p->own_model) aicc_model_destroy(p->model);
  aicc_arena_fini(&p->mem);
  free(p);
}

aicc_status aicc_compile_plan(aicc_rt_program *p, const aicc_rt_key *key, aicc_rt_plan **out) {
  *out = NULL;
  double t0 = now_ms();
  aicc_rt_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return NOMEM();
  aicc_arena_init(&plan->mem);
  int n_in = (int)p->base->graph->inputs.len;
  plan->n_inputs = n_in;
  plan->key = aicc_arena_memdup(&plan->mem, key, sizeof *key * (size_t)(n_in ? n_in : 1));
  aicc_status st = plan->key ? NULL : NOMEM();
  bool use_base = !st && !p->base_used && base_fits(p->base, key);
  if (use_base) {
    plan->model = p->base;
    p->base_used = true;
  } else if (!st) {
    st = bind_copy(p->base, key, &plan->model);
    plan->own_model = plan->model != NULL;
    if (!st) st = aicc_model_infer(plan->model);
    if (!st) st = aicc_compile_passes(plan->model, p->opt.opt_level);
  }
  aicc_cbuild b = {0};
  aicc_arena_init(&b.mem);
  if (!st) {
    b.prog = p;
    b.m = plan->model;
    b.g = plan->model->graph;
    b.plan = plan;
    b.n_values = plan->model->n_values;
    b.n_nodes = (int)b.g->nodes.len;
    b.lc = aicc_loop_ctx_create();
    if (!b.lc) st = NOMEM();
  }
  if (!st) {
    pick_target(&b);
    st = analyze(&b, key);
  }
  if (!st) st = aicc_compile_partition(&b);
  if (!st) st = aicc_compile_build_plan(&b);
  for (size_t i = 0; i < b.units.len; i++) aicc_cunit_fini(&b.units.data[i]);
  aicc_vec_free(&b.units);
  if (b.lc) aicc_loop_ctx_destroy(b.lc);
  aicc_arena_fini(&b.mem);
  if (st) {
    if (use_base) p->base_used = false;
    aicc_rt_plan_destroy(plan);
    return st;
  }
  plan->compile_ms = now_ms() - t0;
  *out = plan;
  return NULL;
}

/* ---- aicc_rt_compile ---- */

static char *dup_opt(const char *s, bool *oom) {
  if (!s) return NULL;
  char *d = malloc(strlen(s) + 1);
  if (!d) *oom = true;
  else strcpy(d, s);
  return d;
}

aicc_status aicc_rt_compile(aicc_model *m, const aicc_rt_options *opt, aicc_rt_program **out) {
  *out = NULL;
  double t0 = now_ms();
  aicc_rt_program *p = calloc(1, sizeof *p);
  if (!p) {
    aicc_model_destroy(m);
    return NOMEM();
  }
  p->base = m;
  if (pthread_mutex_init(&p->lock, NULL) || pthread_mutex_init(&p->extern_lock, NULL)) {
    free(p);
    aicc_model_destroy(m);
    return aicc_errorf(AICC_ERR_INTERNAL, "cannot initialize the program's locks");
  }
  aicc_rt_options o = {0};
  o.opt_level = -1;
  if (opt) o = *opt;
  if (o.threads <= 0) o.threads = 1;
  if (o.opt_level < 0) o.opt_level = 3; /* -O3: convs run blocked (NCHW16c, passes/layout.c) */
  bool oom = false;
  p->cc = dup_opt(o.cc, &oom);
  p->cache_dir = dup_opt(o.cache_dir, &oom);
  p->isa = dup_opt(o.isa, &oom);
  p->input_shapes = dup_opt(o.input_shapes, &oom);
  p->cflags = dup_opt(o.cflags, &oom);
  o.cc = p->cc;
  o.cache_dir = p->cache_dir;
  o.isa = p->isa;
  o.input_shapes = p->input_shapes;
  o.cflags = p->cflags;
  p->opt = o;
  aicc_status st = oom ? NOMEM() : NULL;
  if (!st && o.opt_level > 3)
    st = aicc_errorf(AICC_ERR_INVALID, "optimization level %d is not 0..3", o.opt_level);
  if (!st && o.isa && strcmp(o.isa, "scalar") != 0 && strcmp(o.isa, "avx2") != 0 &&
      strcmp(o.isa, "avx512") != 0)
    st = aicc_errorf(AICC_ERR_INVALID, "isa '%s' is not scalar, avx2 or avx512", o.isa);
  if (!st) st = aicc_compile_passes(m, o.opt_level);
  if (!st && o.input_shapes) st = parse_bindings(p, o.input_shapes);
  size_t n_in = m->graph->inputs.len;
  aicc_rt_key *key = !st ? calloc(n_in ? n_in : 1, sizeof *key) : NULL;
  if (!st && !key) st = NOMEM();
  if (!st && declared_key(p, key)) {
    aicc_rt_plan *plan = NULL;
    st = aicc_compile_plan(p, key, &plan);
    if (!st && !aicc_vec_push(&p->specs, plan)) {
      aicc_rt_plan_destroy(plan);
      st = NOMEM();
    }
    if (!st) {
      p->latest = plan;
      p->cc_ms += plan->cc_ms;
    }
  }
  free(key);
  p->compile_ms += now_ms() - t0;
  if (st) {
    aicc_rt_program_destroy(p);
    return st;
  }
  *out = p;
  return NULL;
}
