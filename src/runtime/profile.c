/* Profiling (profile.h): the events of one session's profiled runs, and the
 * op types each plan step covers, found back from the plan. Nothing here
 * runs unless the session's profiling is on; no global state. */
#include "runtime/profile.h"

#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")

typedef struct plan_ops {
  const aicc_rt_plan *pl;
  char **ops; /* per step */
} plan_ops;

struct aicc_rt_profile {
  int threads;
  int64_t *task_ns; /* 3 per pool thread (aicc_rt_pool_run_timed) */
  AICC_VEC(aicc_rt_event) events;
  AICC_VEC(plan_ops) plans;
  const plan_ops *cur; /* the plan of the run being recorded */
  int run;
};

/* ---- what a step covers ---------------------------------------------- */

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The op types of nodes idx[0..n) (sorted here), '+'-joined. */
static char *join_ops(const aicc_graph *g, int *idx, int n) {
  qsort(idx, (size_t)n, sizeof *idx, cmp_int);
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(g->nodes.data[idx[i]]->op_type) + 1;
  char *s = malloc(len), *p = s;
  if (!s) return NULL;
  *p = 0;
  for (int i = 0; i < n; i++) {
    const char *op = g->nodes.data[idx[i]]->op_type;
    size_t k = strlen(op);
    if (i) *p++ = '+';
    memcpy(p, op, k + 1);
    p += k;
  }
  return s;
}

/* Scratch of aicc_rt_plan_step_ops, by value id (< n) or node index. */
typedef struct walk {
  const aicc_graph *g;
  uint32_t n;
  int32_t *producer;  /* value id -> node index, -1 none */
  bool *defined;      /* written by an earlier step, a graph input or a constant */
  int32_t *arg_stamp; /* value id -> the step that has it as an argument */
  int32_t *node_step; /* node index -> its step, -1 none yet */
  int *found, *stack;
} walk;

static bool walk_in(const walk *w, const aicc_value *v) { return v && v->id < w->n; }

/* The nodes of kernel step i: from the producers of the values it writes
 * first, back through inputs that are not its defined arguments, over
 * nodes no step took yet; Constant-like nodes (no inputs) are left out.
 * Returns how many went into w->found. */
static int kernel_nodes(walk *w, const aicc_rt_step *st, int i) {
  int sp = 0, nf = 0;
  for (int a = 0; a < st->n_args; a++) {
    uint32_t id = st->args[a];
    if (id < w->n) w->arg_stamp[id] = i;
  }
  for (int a = 0; a < st->n_args; a++) {
    uint32_t id = st->args[a];
    if (id < w->n && !w->defined[id] && w->producer[id] >= 0) w->stack[sp++] = w->producer[id];
  }
  while (sp > 0) {
    int j = w->stack[--sp];
    const aicc_node *nd = w->g->nodes.data[j];
    if (w->node_step[j] >= 0 || nd->n_inputs == 0) continue;
    w->node_step[j] = i;
    w->found[nf++] = j;
    for (int k = 0; k < nd->n_inputs; k++) {
      const aicc_value *v = nd->inputs[k];
      if (!walk_in(w, v) || w->producer[v->id] < 0) continue;
      if (w->arg_stamp[v->id] == i && w->defined[v->id]) continue; /* read, not computed */
      if (w->node_step[w->producer[v->id]] < 0) w->stack[sp++] = w->producer[v->id];
    }
  }
  for (int a = 0; a < st->n_args; a++)
    if (st->args[a] < w->n) w->defined[st->args[a]] = true;
  return nf;
}

aicc_status aicc_rt_plan_step_ops(const aicc_rt_plan *pl, char ***out) {
  *out = NULL;
  const aicc_graph *g = pl->model->graph;
  int nn = (int)g->nodes.len;
  walk w = {g, pl->n_slots, NULL, NULL, NULL, NULL, NULL, NULL};
  size_t nv = (size_t)w.n + 1;
  w.producer = malloc(sizeof *w.producer * nv);
  w.defined = calloc(nv, sizeof *w.defined);
  w.arg_stamp = malloc(sizeof *w.arg_stamp * nv);
  w.node_step = malloc(sizeof *w.node_step * ((size_t)nn + 1));
  w.found = malloc(sizeof *w.found * ((size_t)nn + 1));
  /* Each node is pushed at most once per input edge that reaches it. */
  size_t edges = 1;
  for (int j = 0; j < nn; j++) edges += (size_t)g->nodes.data[j]->n_inputs;
  for (int s = 0; s < pl->n_steps; s++)
    if (pl->steps[s].is_kernel) edges += (size_t)pl->steps[s].n_args;
  w.stack = malloc(sizeof *w.stack * edges);
  char **ops = calloc((size_t)pl->n_steps + 1, sizeof *ops);
  aicc_status st = w.producer && w.defined && w.arg_stamp && w.node_step && w.found &&
                           w.stack && ops
                       ? NULL
                       : NOMEM();
  if (!st) {
    for (uint32_t v = 0; v < w.n; v++) {
      w.producer[v] = -1;
      w.arg_stamp[v] = -1;
      aicc_rt_loc loc = pl->slots[v].loc;
      /* A Concat in place has no step: its output counts as given. */
      w.defined[v] = loc == AICC_RT_LOC_INPUT || loc == AICC_RT_LOC_CONST || pl->slots[v].in_place;
    }
    for (int j = 0; j < nn; j++) {
      const aicc_node *nd = g->nodes.data[j];
      w.node_step[j] = -1;
      for (int k = 0; k < nd->n_outputs; k++)
        if (walk_in(&w, nd->outputs[k])) w.producer[nd->outputs[k]->id] = j;
    }
  }
  for (int i = 0; i < pl->n_steps && !st; i++) {
    const aicc_rt_step *step = &pl->steps[i];
    int nf = 0;
    if (step->is_kernel) {
      nf = kernel_nodes(&w, step, i);
    } else {
      const aicc_node *nd = step->node;
      for (int j = 0; j < nn; j++)
        if (g->nodes.data[j] == nd) {
          w.node_step[j] = i;
          w.found[nf++] = j;
          break;
        }
      for (int k = 0; k < nd->n_outputs; k++)
        if (walk_in(&w, nd->outputs[k])) w.defined[nd->outputs[k]->id] = true;
    }
    ops[i] = join_ops(g, w.found, nf);
    if (!ops[i]) st = NOMEM();
  }
  free(w.producer);
  free(w.defined);
  free(w.arg_stamp);
  free(w.node_step);
  free(w.found);
  free(w.stack);
  if (st) {
    for (int i = 0; ops && i < pl->n_steps; i++) free(ops[i]);
    free(ops);
    return st;
  }
  *out = ops;
  return NULL;
}

/* ---- events ------------------------------------------------------------ */

aicc_status aicc_rt_profile_create(int threads, aicc_rt_profile **out) {
  *out = NULL;
  aicc_rt_profile *pf = calloc(1, sizeof *pf);
  if (!pf) return NOMEM();
  pf->threads = threads < 1 ? 1 : threads;
  pf->task_ns = calloc(3 * (size_t)pf->threads, sizeof *pf->task_ns);
  if (!pf->task_ns) {
    free(pf);
    return NOMEM();
  }
  *out = pf;
  return NULL;
}

void aicc_rt_profile_destroy(aicc_rt_profile *pf) {
  if (!pf) return;
  for (size_t i = 0; i < pf->plans.len; i++) {
    plan_ops *po = &pf->plans.data[i];
    for (int s = 0; s < po->pl->n_steps; s++) free(po->ops[s]);
    free(po->ops);
  }
  aicc_vec_free(&pf->plans);
  aicc_vec_free(&pf->events);
  free(pf->task_ns);
  free(pf);
}

aicc_status aicc_rt_profile_begin(aicc_rt_profile *pf, const aicc_rt_plan *pl) {
  pf->cur = NULL;
  for (size_t i = 0; i < pf->plans.len && !pf->cur; i++)
    if (pf->plans.data[i].pl == pl) pf->cur = &pf->plans.data[i];
  if (pf->cur) return NULL;
  plan_ops po = {pl, NULL};
  AICC_TRY(aicc_rt_plan_step_ops(pl, &po.ops));
  if (!aicc_vec_push(&pf->plans, po)) {
    for (int s = 0; s < pl->n_steps; s++) free(po.ops[s]);
    free(po.ops);
    return NOMEM();
  }
  pf->cur = &pf->plans.data[pf->plans.len - 1];
  return NULL;
}

int64_t *aicc_rt_profile_task_ns(aicc_rt_profile *pf) { return pf->task_ns; }

aicc_status aicc_rt_profile_step(aicc_rt_profile *pf, int i, int64_t t0, int64_t t1,
                                 int ntasks) {
  const aicc_rt_step *st = &pf->cur->pl->steps[i];
  const char *name = st->is_kernel ? st->name
                     : st->node->name && st->node->name[0] ? st->node->name
                                                           : st->node->op_type;
  aicc_rt_event e = {pf->run, i, st->is_kernel, name, pf->cur->ops[i], -1, 0, ntasks, t0, t1};
  if (ntasks > pf->threads) ntasks = pf->threads;
  if (!aicc_vec_reserve(&pf->events, pf->events.len + 1 + (size_t)(ntasks > 1 ? ntasks : 0)))
    return NOMEM();
  pf->events.data[pf->events.len++] = e;
  for (int t = 0; ntasks > 1 && t < ntasks; t++) {
    e.task = t;
    e.thread = (int)pf->task_ns[3 * t + 2];
    e.start_ns = pf->task_ns[3 * t];
    e.end_ns = pf->task_ns[3 * t + 1];
    pf->events.data[pf->events.len++] = e;
  }
  return NULL;
}

void aicc_rt_profile_end(aicc_rt_profile *pf) {
  pf->cur = NULL;
  pf->run++;
}

const aicc_rt_event *aicc_rt_profile_events(const aicc_rt_profile *pf, size_t *n) {
  *n = pf ? pf->events.len : 0;
  return *n ? pf->events.data : NULL;
}

void aicc_rt_profile_clear(aicc_rt_profile *pf) {
  pf->events.len = 0;
  pf->run = 0;
}
