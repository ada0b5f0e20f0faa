/* Sessions and the executor: runs a plan's steps in order. Kernel steps get
 * data pointers (arena slices, inputs, constants, run-held tensors) and run
 * on every task of the session's pool when they hold a parallel loop;
 * extern steps run the node's reference kernel on views. A session owns its
 * arena, pool, scratch arrays and, once enabled, its profile (profile.h;
 * off, it costs a NULL check per step); the program and its plans are only
 * read (shared constants and callers' tensors are never retained here:
 * other threads may be using them).
 *
 * Graph outputs a kernel writes whole are kept after the run; the next run
 * reuses such a tensor when the caller has released it (its count is back
 * to the session's one), so a steady loop of runs neither allocates nor
 * page-faults its outputs (a fresh 4 MiB output costs ~2 ms of first-touch
 * faults here, 15% of a 1024^3 MatMul). A tensor the caller still holds is
 * never written: the run makes a new one. */
#include "runtime/pool.h"
#include "runtime/profile.h"
#include "runtime/program.h"

#include "interp/interp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct aicc_rt_session {
  aicc_rt_program *prog;
  aicc_rt_pool *pool;
  void *arena;
  int64_t arena_bytes;
  void **bufs;
  int cap_bufs;
  void *scratch; /* kernel temporaries (codegen.h), one block for every step */
  int64_t scratch_bytes;
  aicc_rt_profile *profile; /* created by the first profile_enable */
  aicc_rt_profile *prof;    /* profile while recording, else NULL */
  /* Outputs kept for reuse: keep[id] for slot id of keep_plan (n_keep
   * slots), each one reference. */
  const aicc_rt_plan *keep_plan;
  aicc_tensor **keep;
  uint32_t n_keep;
};

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

aicc_status aicc_rt_session_create(aicc_rt_program *p, aicc_rt_session **out) {
  *out = NULL;
  aicc_rt_session *s = calloc(1, sizeof *s);
  if (!s) return NOMEM();
  s->prog = p;
  aicc_status st = aicc_rt_pool_create(p->opt.threads, &s->pool);
  if (st) {
    free(s);
    return st;
  }
  *out = s;
  return NULL;
}

/* Releases the kept outputs (the plan they were kept for is changing, or
 * the session ends). */
static void drop_kept(aicc_rt_session *s) {
  for (uint32_t i = 0; i < s->n_keep; i++) aicc_tensor_release(s->keep[i]);
  free(s->keep);
  s->keep = NULL;
  s->keep_plan = NULL;
  s->n_keep = 0;
}

void aicc_rt_session_destroy(aicc_rt_session *s) {
  if (!s) return;
  aicc_rt_pool_destroy(s->pool);
  aicc_rt_profile_destroy(s->profile);
  drop_kept(s);
  free(s->arena);
  free(s->scratch);
  free(s->bufs);
  free(s);
}

static aicc_status reserve(aicc_rt_session *s, const aicc_rt_plan *pl) {
  if (pl->arena_bytes > s->arena_bytes) {
    free(s->arena);
    size_t n = ((size_t)pl->arena_bytes + 63) & ~(size_t)63;
    s->arena = aligned_alloc(64, n);
    s->arena_bytes = s->arena ? pl->arena_bytes : 0;
    if (!s->arena)
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory allocating a %lld-byte arena",
                         (long long)pl->arena_bytes);
  }
  /* Steps run one at a time, so one block serves them all: the most one
   * step uses over all its tasks. */
  int64_t scratch = pl->scratch_task * aicc_rt_pool_threads(s->pool);
  if (pl->scratch_serial > scratch) scratch = pl->scratch_serial;
  if (scratch > s->scratch_bytes) {
    free(s->scratch);
    size_t n = ((size_t)scratch + 63) & ~(size_t)63;
    s->scratch = aligned_alloc(64, n);
    s->scratch_bytes = s->scratch ? scratch : 0;
    if (!s->scratch)
      return aicc_errorf(AICC_ERR_NOMEM, "out of memory allocating %lld bytes of kernel scratch",
                         (long long)scratch);
  }
  if (s->keep_plan != pl) {
    drop_kept(s);
    s->keep = calloc(pl->n_slots ? pl->n_slots : 1, sizeof *s->keep);
    if (!s->keep) return NOMEM();
    s->keep_plan = pl;
    s->n_keep = pl->n_slots;
  }
  if (pl->max_args + 1 > s->cap_bufs) {
    void **b = realloc(s->bufs, sizeof *b * (size_t)(pl->max_args + 1));
    if (!b) return NOMEM();
    s->bufs = b;
    s->cap_bufs = pl->max_args + 1;
  }
  return NULL;
}

/* One run's state. */
typedef struct run_state {
  aicc_rt_session *s;
  const aicc_rt_plan *pl;
  aicc_tensor *const *inputs;
  aicc_tensor **held; /* by value id: tensors this run owns */
} run_state;

static const char *value_name(const run_state *r, uint32_t id, char *buf, size_t n) {
  /* Names are for messages only; a linear search is fine there. */
  const aicc_graph *g = r->pl->model->graph;
  for (size_t i = 0; i < g->inputs.len; i++)
    if (g->inputs.data[i]->id == id) return g->inputs.data[i]->name;
  for (size_t i = 0; i < g->nodes.len; i++) {
    const aicc_node *nd = g->nodes.data[i];
    for (int k = 0; k < nd->n_outputs; k++)
      if (nd->outputs[k] && nd->outputs[k]->id == id) return nd->outputs[k]->name;
  }
  snprintf(buf, n, "#%u", id);
  return buf;
}

/* A tensor a kernel reads must have the planned dtype and dims. */
static aicc_status check_planned(const run_state *r, uint32_t id, const aicc_tensor *t) {
  const aicc_rt_slot *sl = &r->pl->slots[id];
  bool ok = t->kind == AICC_KIND_TENSOR && t->dtype == sl->dtype && t->rank == sl->rank;
  for (int d = 0; ok && d < t->rank; d++) ok = t->dims[d] == sl->dims[d];
  if (ok) return NULL;
  char a[128], b[128], nm[32];
  aicc_type want = aicc_type_tensor(sl->dtype, sl->rank, sl->dims);
  aicc_type got = aicc_type_of(t);
  return aicc_errorf(AICC_ERR_INTERNAL, "value '%s' is %s at run time, but the plan has %s",
                     value_name(r, id, nm, sizeof nm), aicc_type_describe(&got, a, sizeof a),
                     aicc_type_describe(&want, b, sizeof b));
}

/* Graph inputs that kernels read: planned type, and 64-byte alignment (a
 * misaligned one is copied into a run-held tensor). */
static aicc_status prepare_inputs(run_state *r) {
  const aicc_rt_plan *pl = r->pl;
  for (uint32_t id = 0; id < pl->n_slots; id++) {
    const aicc_rt_slot *sl = &pl->slots[id];
    if (sl->loc != AICC_RT_LOC_INPUT || !sl->to_kernel) continue;
    const aicc_tensor *t = r->inputs[sl->input];
    AICC_TRY(check_planned(r, id, t));
    if ((uintptr_t)t->data % 64 != 0) AICC_TRY(aicc_tensor_clone(t, &r->held[id]));
  }
  return NULL;
}

static void *data_of(run_state *r, uint32_t id) {
  const aicc_rt_slot *sl = &r->pl->slots[id];
  switch (sl->loc) {
  case AICC_RT_LOC_INPUT:
    return r->held[id] ? r->held[id]->data : r->inputs[sl->input]->data;
  case AICC_RT_LOC_CONST: return sl->tensor->data;
  case AICC_RT_LOC_ARENA: return (char *)r->s->arena + sl->offset;
  case AICC_RT_LOC_HEAP: return r->held[id] ? r->held[id]->data : NULL;
  case AICC_RT_LOC_NONE: break;
  }
  return NULL;
}

/* The kept output of slot id when only the session holds it (the caller
 * released it: the acquire load orders their last use before our writes)
 * and it still has the slot's type; else NULL. */
static aicc_tensor *reusable(aicc_rt_session *s, const aicc_rt_slot *sl, uint32_t id) {
  aicc_tensor *t = s->keep[id];
  if (!t || __atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) != 1 || t->kind != AICC_KIND_TENSOR ||
      t->dtype != sl->dtype || sl->dtype == AICC_DTYPE_STRING || t->rank != sl->rank)
    return NULL;
  for (int d = 0; d < sl->rank; d++)
    if (t->dims[d] != sl->dims[d]) return NULL;
  return aicc_tensor_retain(t);
}

static aicc_status run_kernel(run_state *r, const aicc_rt_step *st) {
  const aicc_rt_plan *pl = r->pl;
  aicc_rt_session *s = r->s;
  for (int i = 0; i < st->n_allocs; i++) {
    uint32_t id = st->allocs[i];
    const aicc_rt_slot *sl = &pl->slots[id];
    aicc_tensor_release(r->held[id]);
    r->held[id] = st->alloc_full[i] ? reusable(s, sl, id) : NULL;
    if (r->held[id]) continue;
    AICC_TRY(aicc_tensor_create(sl->dtype, sl->rank, sl->dims, &r->held[id]));
    if (st->alloc_full[i] && sl->graph_output) {
      aicc_tensor_release(s->keep[id]);
      s->keep[id] = aicc_tensor_retain(r->held[id]);
    }
  }
  void **bufs = r->s->bufs;
  for (int i = 0; i < st->n_args; i++) {
    bufs[i] = data_of(r, st->args[i]);
    if (!bufs[i]) {
      char nm[32];
      return aicc_errorf(AICC_ERR_INTERNAL, "kernel %s: value '%s' has no memory", st->name,
                         value_name(r, st->args[i], nm, sizeof nm));
    }
  }
  bufs[st->n_args] = st->scratch > 0 ? r->s->scratch : NULL;
  aicc_rt_profile *pf = r->s->prof;
  int rc;
  if (pf && st->parallel)
    rc = aicc_rt_pool_run_timed(r->s->pool, st->fn, bufs, aicc_rt_profile_task_ns(pf));
  else
    rc = st->parallel ? aicc_rt_pool_run(r->s->pool, st->fn, bufs) : st->fn(bufs, 0, 1);
  if (rc)
    return aicc_errorf(AICC_ERR_NOMEM, "kernel %s: out of memory for a temporary buffer",
                       st->name);
  return NULL;
}

enum { MAX_STEP_VIEWS = 64 };

/* The input of an extern step: a tensor private to this run. */
static aicc_status extern_input(run_state *r, uint32_t id, aicc_tensor **t, aicc_tensor **views,
                                int *n_views, aicc_tensor **owned) {
  const aicc_rt_slot *sl = &r->pl->slots[id];
  *t = NULL;
  *owned = NULL;
  const aicc_tensor *shared = NULL;
  switch (sl->loc) {
  case AICC_RT_LOC_HEAP:
    *t = r->held[id];
    break;
  case AICC_RT_LOC_ARENA:
    AICC_TRY(aicc_rt_view_create(sl->dtype, sl->rank, sl->dims,
                                 (char *)r->s->arena + sl->offset, t));
    views[(*n_views)++] = *t;
    return NULL;
  case AICC_RT_LOC_INPUT:
    shared = r->held[id] ? r->held[id] : r->inputs[sl->input];
    break;
  case AICC_RT_LOC_CONST: shared = sl->tensor; break;
  case AICC_RT_LOC_NONE: break;
  }
  if (shared) {
    bool is_view;
    AICC_TRY(aicc_rt_private_ref(shared, t, &is_view));
    if (is_view) views[(*n_views)++] = *t;
    else *owned = *t;
  }
  if (!*t) {
    char nm[32];
    return aicc_errorf(AICC_ERR_INTERNAL, "value '%s' has no value at run time",
                       value_name(r, id, nm, sizeof nm));
  }
  return NULL;
}

/* Runs the node's model of its own (plan.h: sub_model) on every value it
 * reads; out gets one entry per node output. */
static aicc_status run_sub_model(const aicc_rt_step *st, aicc_tensor **in, aicc_tensor **out) {
  const aicc_node *nd = st->node;
  int n = 0;
  for (int k = 0; k < nd->n_outputs; k++) n += nd->outputs[k] != NULL;
  aicc_tensor **res = calloc((size_t)n + 1, sizeof *res);
  if (!res) return NOMEM();
  aicc_status s = aicc_interp_run(st->sub_model, in, st->n_sub_in, res, n);
  for (int k = 0, j = 0; k < nd->n_outputs && !s; k++)
    if (nd->outputs[k]) out[k] = res[j++];
  free(res);
  return s;
}

static aicc_status run_extern(run_state *r, const aicc_rt_step *st) {
  const aicc_node *nd = st->node;
  const aicc_rt_plan *pl = r->pl;
  /* Inputs: the node's, or every value it reads for a sub_model. */
  int ni = st->sub_model ? st->n_sub_in : nd->n_inputs, no = nd->n_outputs;
  if (ni > MAX_STEP_VIEWS)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "node '%s' (%s): reads more than %d values",
                       nd->name, nd->op_type, MAX_STEP_VIEWS);
  aicc_tensor *views[MAX_STEP_VIEWS];
  int n_views = 0;
  aicc_tensor **in = calloc((size_t)ni + 1, sizeof *in);
  aicc_tensor **owned = calloc((size_t)ni + 1, sizeof *owned);
  aicc_tensor **out = calloc((size_t)no + 1, sizeof *out);
  aicc_status s = in && owned && out ? NULL : NOMEM();
  for (int i = 0; i < ni && !s; i++) {
    const aicc_value *v = st->sub_model ? NULL : nd->inputs[i];
    uint32_t id = st->sub_model ? st->sub_in[i] : v ? v->id : 0;
    if (st->sub_model || v) s = extern_input(r, id, &in[i], views, &n_views, &owned[i]);
  }
  if (!s) {
    if (st->serialize) pthread_mutex_lock(&r->s->prog->extern_lock);
    s = st->sub_model ? run_sub_model(st, in, out) : aicc_interp_eval_node(pl->model, nd, in, out);
    if (st->serialize) pthread_mutex_unlock(&r->s->prog->extern_lock);
  }
  for (int k = 0; k < no && !s; k++) s = aicc_rt_detach(&out[k], views, n_views);
  for (int k = 0; k < no && !s; k++) {
    uint32_t id = nd->outputs[k]->id;
    const aicc_rt_slot *sl = &pl->slots[id];
    if (sl->loc != AICC_RT_LOC_HEAP || !out[k]) continue;
    if (sl->to_kernel) s = check_planned(r, id, out[k]);
    /* A graph output still shared (a Constant's value, returned by an If
     * branch) becomes the caller's own copy: the caller may write it. */
    if (!s && sl->graph_output && __atomic_load_n(&out[k]->refs, __ATOMIC_ACQUIRE) > 1) {
      aicc_tensor *c = NULL;
      s = aicc_tensor_clone(out[k], &c);
      aicc_tensor_release(out[k]);
      out[k] = c;
    }
    if (s) break;
    aicc_tensor_release(r->held[id]);
    r->held[id] = out[k];
    out[k] = NULL;
  }
  for (int k = 0; k < no && out; k++) aicc_tensor_release(out[k]);
  for (int i = 0; i < ni && owned; i++) aicc_tensor_release(owned[i]);
  for (int i = 0; i < n_views; i++) aicc_rt_view_free(views[i]);
  free(in);
  free(owned);
  free(out);
  return s;
}

static aicc_status collect_outputs(run_state *r, aicc_tensor **outputs, int n_outputs) {
  const aicc_graph *g = r->pl->model->graph;
  for (int o = 0; o < n_outputs; o++) {
    uint32_t id = g->outputs.data[o]->id;
    const aicc_rt_slot *sl = &r->pl->slots[id];
    const aicc_tensor *shared = NULL;
    switch (sl->loc) {
    case AICC_RT_LOC_HEAP:
      if (r->held[id]) outputs[o] = aicc_tensor_retain(r->held[id]);
      break;
    case AICC_RT_LOC_INPUT: shared = r->inputs[sl->input]; break;
    case AICC_RT_LOC_CONST: shared = sl->tensor; break;
    default: break;
    }
    /* Inputs and constants are copied: outputs never alias what the caller
     * or the program keeps. */
    if (shared) AICC_TRY(aicc_tensor_clone(shared, &outputs[o]));
    if (!outputs[o])
      return aicc_errorf(AICC_ERR_INTERNAL, "graph output '%s' has no value",
                         g->outputs.data[o]->name);
  }
  return NULL;
}

aicc_status aicc_rt_session_run(aicc_rt_session *s, aicc_tensor *const *inputs, int n_inputs,
                                aicc_tensor **outputs, int n_outputs) {
  for (int o = 0; o < n_outputs; o++) outputs[o] = NULL;
  const aicc_model *base = s->prog->base;
  if ((size_t)n_outputs != base->graph->outputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "%s: the model has %zu outputs, %d requested",
                       base->path, base->graph->outputs.len, n_outputs);
  aicc_rt_plan *pl = NULL;
  AICC_TRY(aicc_rt_program_plan(s->prog, inputs, n_inputs, &pl));
  if ((size_t)n_outputs != pl->model->graph->outputs.len)
    return aicc_errorf(AICC_ERR_INTERNAL, "the compiled graph has %zu outputs, expected %d",
                       pl->model->graph->outputs.len, n_outputs);
  AICC_TRY(reserve(s, pl));
  run_state r = {s, pl, inputs, calloc(pl->n_slots ? pl->n_slots : 1, sizeof(aicc_tensor *))};
  if (!r.held) return NOMEM();
  int threads = aicc_rt_pool_threads(s->pool);
  /* Workers stay awake for the run when it has parallel kernels (woken
   * now, they are ready by the first one: their wake-up overlaps the
   * copying of the inputs). */
  bool hold = false;
  for (int i = 0; i < pl->n_steps && threads > 1 && !hold; i++)
    hold = pl->steps[i].is_kernel && pl->steps[i].parallel;
  if (hold) aicc_rt_pool_hold(s->pool, true);
  aicc_status st = prepare_inputs(&r);
  aicc_rt_profile *pf = s->prof;
  if (pf && !st) st = aicc_rt_profile_begin(pf, pl);
  for (int i = 0; i < pl->n_steps && !st; i++) {
    const aicc_rt_step *step = &pl->steps[i];
    int64_t t0 = pf ? aicc_rt_now_ns() : 0;
    st = step->is_kernel ? run_kernel(&r, step) : run_extern(&r, step);
    if (pf && !st)
      st = aicc_rt_profile_step(pf, i, t0, aicc_rt_now_ns(),
                                step->is_kernel && step->parallel ? threads : 1);
    for (int k = 0; k < step->n_dying; k++) {
      aicc_tensor_release(r.held[step->dying[k]]);
      r.held[step->dying[k]] = NULL;
    }
  }
  if (hold) aicc_rt_pool_hold(s->pool, false);
  if (pf) aicc_rt_profile_end(pf);
  if (!st) st = collect_outputs(&r, outputs, n_outputs);
  if (st)
    for (int o = 0; o < n_outputs; o++) {
      aicc_tensor_release(outputs[o]);
      outputs[o] = NULL;
    }
  for (uint32_t id = 0; id < pl->n_slots; id++) aicc_tensor_release(r.held[id]);
  free(r.held);
  return st;
}

/* ---- profiling --------------------------------------------------------- */

aicc_status aicc_rt_session_profile_enable(aicc_rt_session *s, bool on) {
  if (on && !s->profile)
    AICC_TRY(aicc_rt_profile_create(aicc_rt_pool_threads(s->pool), &s->profile));
  s->prof = on ? s->profile : NULL;
  return NULL;
}

const aicc_rt_event *aicc_rt_session_profile_events(const aicc_rt_session *s, size_t *n) {
  return aicc_rt_profile_events(s->profile, n);
}

void aicc_rt_session_profile_clear(aicc_rt_session *s) {
  if (s->profile) aicc_rt_profile_clear(s->profile);
}

int aicc_rt_session_threads(const aicc_rt_session *s) { return aicc_rt_pool_threads(s->pool); }
