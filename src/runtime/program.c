/* Programs: the shape specializations of one compiled model, looked up by
 * the shapes of a run's inputs (compiled on first use, under the lock),
 * statistics, and teardown. */
#include "compile/compile.h"
#include "runtime/program.h"

#include <stdlib.h>
#include <string.h>

void aicc_rt_program_destroy(aicc_rt_program *p) {
  if (!p) return;
  for (size_t i = 0; i < p->specs.len; i++) aicc_rt_plan_destroy(p->specs.data[i]);
  aicc_vec_free(&p->specs);
  aicc_model_destroy(p->base);
  aicc_jit_ctx_destroy(p->jit);
  for (int i = 0; i < p->n_bindings; i++) free(p->bindings[i].sym);
  free(p->bindings);
  free(p->cc);
  free(p->cache_dir);
  free(p->isa);
  free(p->input_shapes);
  free(p->cflags);
  pthread_mutex_destroy(&p->lock);
  pthread_mutex_destroy(&p->extern_lock);
  free(p);
}

void aicc_rt_program_stats(aicc_rt_program *p, aicc_rt_stats *out) {
  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&p->lock);
  const aicc_rt_plan *l = p->latest;
  if (l) {
    out->kernels = l->kernels;
    out->extern_steps = l->extern_steps;
    out->concats_in_place = l->concats_in_place;
    memcpy(out->extern_ops, l->extern_ops, sizeof out->extern_ops);
    out->cache_hit = l->cache_hit;
    out->arena_bytes = l->arena_bytes;
  }
  out->specializations = (int)p->specs.len;
  out->compile_ms = p->compile_ms;
  out->cc_ms = p->cc_ms;
  pthread_mutex_unlock(&p->lock);
}

const char *aicc_rt_program_source(aicc_rt_program *p, size_t *len) {
  pthread_mutex_lock(&p->lock);
  const char *s = p->latest ? p->latest->source : NULL;
  if (len) *len = s ? p->latest->source_len : 0;
  pthread_mutex_unlock(&p->lock);
  return s;
}

const aicc_model *aicc_rt_program_model(const aicc_rt_program *p) { return p->base; }

/* Checks input i against the declared type (as the interpreter does) and
 * fills its key entry; syms collects the sizes symbols take. */
typedef struct sym_size {
  const char *sym;
  int64_t size;
} sym_size;

static aicc_status check_input(const aicc_model *m, int i, const aicc_tensor *t, aicc_rt_key *k,
                               sym_size *syms, int *n_syms) {
  const aicc_value *v = m->graph->inputs.data[i];
  memset(k, 0, sizeof *k);
  if (!t) {
    if (!v->init)
      return aicc_errorf(AICC_ERR_INVALID, "%s: input %d '%s' was not given", m->path, i,
                         v->name);
    return NULL;
  }
  k->given = true;
  k->kind = t->kind;
  const aicc_type *ty = &v->type;
  char want[256], got[256];
  aicc_type tt = aicc_type_of(t);
  if (ty->kind != AICC_KIND_NONE && ty->kind != t->kind)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected %s, got %s", m->path, i,
                       v->name, aicc_type_describe(ty, want, sizeof want),
                       aicc_type_describe(&tt, got, sizeof got));
  if (t->kind != AICC_KIND_TENSOR) return NULL;
  k->dtype = t->dtype;
  k->rank = t->rank;
  memcpy(k->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
  if (ty->dtype != AICC_DTYPE_UNDEFINED && ty->dtype != t->dtype)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected dtype %s, got %s", m->path,
                       i, v->name, aicc_dtype_text(ty->dtype), aicc_dtype_text(t->dtype));
  if (ty->rank < 0) return NULL;
  if (ty->rank != t->rank)
    return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': expected shape %s, got %s", m->path,
                       i, v->name, aicc_type_describe(ty, want, sizeof want),
                       aicc_type_describe(&tt, got, sizeof got));
  for (int d = 0; d < t->rank; d++) {
    aicc_dim dim = ty->dims[d];
    if (aicc_dim_is_known(dim) && dim.size != t->dims[d])
      return aicc_errorf(AICC_ERR_SHAPE, "%s: input %d '%s': dim %d is %lld, expected %lld (shape %s)",
                         m->path, i, v->name, d, (long long)t->dims[d], (long long)dim.size,
                         aicc_type_describe(ty, want, sizeof want));
    if (!dim.sym) continue;
    int s = 0;
    while (s < *n_syms && strcmp(syms[s].sym, dim.sym) != 0) s++;
    if (s == *n_syms) {
      if (s < 64) syms[(*n_syms)++] = (sym_size){dim.sym, t->dims[d]};
    } else if (syms[s].size != t->dims[d]) {
      return aicc_errorf(AICC_ERR_SHAPE,
                         "%s: input %d '%s': dim %d ('%s') is %lld, but '%s' is %lld from an "
                         "earlier input",
                         m->path, i, v->name, d, dim.sym, (long long)t->dims[d], dim.sym,
                         (long long)syms[s].size);
    }
  }
  return NULL;
}

static bool key_equal(const aicc_rt_key *a, const aicc_rt_key *b, int n) {
  for (int i = 0; i < n; i++) {
    if (a[i].given != b[i].given || a[i].kind != b[i].kind) return false;
    if (!a[i].given || a[i].kind != AICC_KIND_TENSOR) continue;
    if (a[i].dtype != b[i].dtype || a[i].rank != b[i].rank) return false;
    if (memcmp(a[i].dims, b[i].dims, sizeof(int64_t) * (size_t)a[i].rank) != 0) return false;
  }
  return true;
}

aicc_status aicc_rt_program_plan(aicc_rt_program *p, aicc_tensor *const *inputs, int n_inputs,
                                 aicc_rt_plan **out) {
  *out = NULL;
  const aicc_model *m = p->base;
  if ((size_t)n_inputs != m->graph->inputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "%s: the model takes %zu inputs, given %d", m->path,
                       m->graph->inputs.len, n_inputs);
  aicc_rt_key small[8];
  aicc_rt_key *key = n_inputs <= 8 ? small : malloc(sizeof *key * (size_t)n_inputs);
  if (!key) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  sym_size syms[64];
  int n_syms = 0;
  aicc_status st = NULL;
  for (int i = 0; i < n_inputs && !st; i++)
    st = check_input(m, i, inputs[i], &key[i], syms, &n_syms);
  if (!st) {
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->specs.len && !*out; i++)
      if (key_equal(p->specs.data[i]->key, key, n_inputs)) *out = p->specs.data[i];
    if (!*out) {
      aicc_rt_plan *plan = NULL;
      st = aicc_compile_plan(p, key, &plan);
      if (!st && !aicc_vec_push(&p->specs, plan)) {
        aicc_rt_plan_destroy(plan);
        st = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      }
      if (!st) {
        p->latest = plan;
        p->compile_ms += plan->compile_ms;
        p->cc_ms += plan->cc_ms;
        *out = plan;
      }
    }
    pthread_mutex_unlock(&p->lock);
  }
  if (key != small) free(key);
  return st;
}
