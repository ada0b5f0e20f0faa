/* The public C API (include/aicc/aicc.h): opaque handles over the internal
 * compiled engine (runtime/runtime.h). Inputs are views of the caller's
 * memory; outputs are the tensors of the latest run. */
#include "aicc/aicc.h"

#include "compile/load.h"

#include "compile/compile.h"
#include "frontend/onnx.h"
#include "ir/text.h"
#include "runtime/plan.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOMEM() aicc_errorf(AICC_ERR_NOMEM, "out of memory")
#define ARG(cond, what)                                                        \
  do {                                                                         \
    if (!(cond)) return aicc_errorf(AICC_ERR_INVALID, "%s: %s", __func__, what); \
  } while (0)

struct aicc_net {
  aicc_model *m;
};

struct aicc_program {
  aicc_rt_program *rt;
};

struct aicc_session {
  aicc_program *prog;
  aicc_rt_session *rt;
  int n_in, n_out;
  aicc_tensor **in;  /* views of the bound caller memory (NULL: unbound) */
  aicc_tensor **out; /* the latest run's outputs */
};

size_t aicc_elem_size(aicc_elem_type t) {
  switch (t) {
  case AICC_ELEM_U8: case AICC_ELEM_I8: case AICC_ELEM_BOOL: return 1;
  case AICC_ELEM_U16: case AICC_ELEM_I16: case AICC_ELEM_F16: case AICC_ELEM_BF16: return 2;
  case AICC_ELEM_F32: case AICC_ELEM_I32: case AICC_ELEM_U32: return 4;
  case AICC_ELEM_F64: case AICC_ELEM_I64: case AICC_ELEM_U64: return 8;
  }
  return 0;
}

/* ---- models ---- */

aicc_status aicc_net_load(const char *path, aicc_net **out) {
  ARG(out, "out is NULL");
  *out = NULL;
  ARG(path, "path is NULL");
  aicc_model *m = NULL;
  AICC_TRY(aicc_model_load_file(path, &m));
  aicc_status s = NULL;
  aicc_net *n = s ? NULL : calloc(1, sizeof *n);
  if (!s && !n) s = NOMEM();
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  n->m = m;
  *out = n;
  return NULL;
}

void aicc_net_free(aicc_net *net) {
  if (!net) return;
  aicc_model_destroy(net->m);
  free(net);
}

/* ---- compiling ---- */

void aicc_compile_options_init(aicc_compile_options *o) {
  memset(o, 0, sizeof *o);
  o->threads = 1;
  o->opt_level = -1;
}

aicc_status aicc_compile(const aicc_net *net, const aicc_compile_options *o,
                         aicc_program **out) {
  ARG(out, "out is NULL");
  *out = NULL;
  ARG(net, "net is NULL");
  aicc_compile_options d;
  if (!o) {
    aicc_compile_options_init(&d);
    o = &d;
  }
  aicc_rt_options ro = {
      .threads = o->threads,
      .opt_level = o->opt_level,
      .cc = o->cc,
      .cache_dir = o->cache_dir,
      .strict = o->strict != 0,
      .input_shapes = o->input_shapes,
      .cflags = o->cflags,
  };
  aicc_program *p = calloc(1, sizeof *p);
  if (!p) return NOMEM();
  aicc_model *m = NULL;
  aicc_status s = aicc_compile_model_copy(net->m, &m);
  if (!s) s = aicc_rt_compile(m, &ro, &p->rt); /* takes m */
  if (s) {
    free(p);
    return s;
  }
  *out = p;
  return NULL;
}

void aicc_program_free(aicc_program *prog) {
  if (!prog) return;
  aicc_rt_program_destroy(prog->rt);
  free(prog);
}

static const aicc_graph *prog_graph(const aicc_program *p) {
  return aicc_rt_program_model(p->rt)->graph;
}

aicc_status aicc_program_input_count(const aicc_program *prog, int *count) {
  ARG(prog && count, "NULL argument");
  *count = (int)prog_graph(prog)->inputs.len;
  return NULL;
}

aicc_status aicc_program_output_count(const aicc_program *prog, int *count) {
  ARG(prog && count, "NULL argument");
  *count = (int)prog_graph(prog)->outputs.len;
  return NULL;
}

static aicc_status value_info(const aicc_value *v, const char **name, aicc_elem_type *type,
                              int *rank, int64_t *dims) {
  if (name) *name = v->name;
  if (type) *type = (aicc_elem_type)v->type.dtype;
  if (rank) *rank = v->type.rank;
  for (int d = 0; dims && d < v->type.rank; d++)
    dims[d] = aicc_dim_is_known(v->type.dims[d]) ? v->type.dims[d].size : -1;
  return NULL;
}

aicc_status aicc_program_input_info(const aicc_program *prog, int index, const char **name,
                                    aicc_elem_type *type, int *rank, int64_t dims[16]) {
  ARG(prog, "prog is NULL");
  const aicc_graph *g = prog_graph(prog);
  if (index < 0 || (size_t)index >= g->inputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "input %d: the model has %zu inputs", index,
                       g->inputs.len);
  return value_info(g->inputs.data[index], name, type, rank, dims);
}

aicc_status aicc_program_output_info(const aicc_program *prog, int index, const char **name,
                                     aicc_elem_type *type, int *rank, int64_t dims[16]) {
  ARG(prog, "prog is NULL");
  const aicc_graph *g = prog_graph(prog);
  if (index < 0 || (size_t)index >= g->outputs.len)
    return aicc_errorf(AICC_ERR_INVALID, "output %d: the model has %zu outputs", index,
                       g->outputs.len);
  return value_info(g->outputs.data[index], name, type, rank, dims);
}

aicc_status aicc_program_stats(aicc_program *prog, int *kernels, int *extern_steps,
                               char *extern_ops, size_t ops_len, double *compile_ms) {
  ARG(prog, "prog is NULL");
  aicc_rt_stats st;
  aicc_rt_program_stats(prog->rt, &st);
  if (kernels) *kernels = st.kernels;
  if (extern_steps) *extern_steps = st.extern_steps;
  if (extern_ops && ops_len) snprintf(extern_ops, ops_len, "%s", st.extern_ops);
  if (compile_ms) *compile_ms = st.compile_ms;
  return NULL;
}

/* ---- running ---- */

static void release_outputs(aicc_session *s) {
  for (int i = 0; i < s->n_out; i++) {
    aicc_tensor_release(s->out[i]);
    s->out[i] = NULL;
  }
}

aicc_status aicc_session_create(aicc_program *prog, aicc_session **out) {
  ARG(out, "out is NULL");
  *out = NULL;
  ARG(prog, "prog is NULL");
  aicc_session *s = calloc(1, sizeof *s);
  if (!s) return NOMEM();
  s->prog = prog;
  s->n_in = (int)prog_graph(prog)->inputs.len;
  s->n_out = (int)prog_graph(prog)->outputs.len;
  s->in = calloc((size_t)s->n_in + 1, sizeof *s->in);
  s->out = calloc((size_t)s->n_out + 1, sizeof *s->out);
  aicc_status st = s->in && s->out ? NULL : NOMEM();
  if (!st) st = aicc_rt_session_create(prog->rt, &s->rt);
  if (st) {
    aicc_session_free(s);
    return st;
  }
  *out = s;
  return NULL;
}

void aicc_session_free(aicc_session *sess) {
  if (!sess) return;
  aicc_rt_session_destroy(sess->rt);
  if (sess->in)
    for (int i = 0; i < sess->n_in; i++) aicc_rt_view_free(sess->in[i]);
  if (sess->out) release_outputs(sess);
  free(sess->in);
  free(sess->out);
  free(sess);
}

aicc_status aicc_session_set_input(aicc_session *sess, int index, aicc_elem_type type, int rank,
                                   const int64_t *dims, const void *data) {
  ARG(sess, "sess is NULL");
  if (index < 0 || index >= sess->n_in)
    return aicc_errorf(AICC_ERR_INVALID, "input %d: the model has %d inputs", index, sess->n_in);
  if (!aicc_elem_size(type))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "input %d: element type %d is not supported",
                       index, (int)type);
  if (rank < 0 || rank > AICC_MAX_RANK || (rank > 0 && !dims))
    return aicc_errorf(AICC_ERR_INVALID, "input %d: rank %d (dims %s)", index, rank,
                       dims ? "given" : "NULL");
  for (int d = 0; d < rank; d++)
    if (dims[d] < 0)
      return aicc_errorf(AICC_ERR_SHAPE, "input %d: dim %d is %lld", index, d,
                         (long long)dims[d]);
  int64_t n = aicc_dims_numel(dims, rank);
  if (n < 0) return aicc_errorf(AICC_ERR_SHAPE, "input %d: the shape overflows", index);
  if (n > 0 && !data) return aicc_errorf(AICC_ERR_INVALID, "input %d: data is NULL", index);
  aicc_tensor *v = NULL;
  /* The runtime only reads inputs; the view never frees the caller's data. */
  AICC_TRY(aicc_rt_view_create((aicc_dtype)type, rank, dims, (void *)data, &v));
  aicc_rt_view_free(sess->in[index]);
  sess->in[index] = v;
  return NULL;
}

aicc_status aicc_session_set_input_by_name(aicc_session *sess, const char *name,
                                           aicc_elem_type type, int rank, const int64_t *dims,
                                           const void *data) {
  ARG(sess && name, "NULL argument");
  const aicc_graph *g = prog_graph(sess->prog);
  for (size_t i = 0; i < g->inputs.len; i++)
    if (strcmp(g->inputs.data[i]->name, name) == 0)
      return aicc_session_set_input(sess, (int)i, type, rank, dims, data);
  return aicc_errorf(AICC_ERR_INVALID, "the model has no input named '%s'", name);
}

aicc_status aicc_session_run(aicc_session *sess) {
  ARG(sess, "sess is NULL");
  release_outputs(sess);
  const aicc_graph *g = prog_graph(sess->prog);
  for (int i = 0; i < sess->n_in; i++)
    if (!sess->in[i] && !g->inputs.data[i]->init)
      return aicc_errorf(AICC_ERR_INVALID, "input %d '%s' is not bound", i,
                         g->inputs.data[i]->name);
  return aicc_rt_session_run(sess->rt, sess->in, sess->n_in, sess->out, sess->n_out);
}

static aicc_status output_at(aicc_session *sess, int index, const aicc_tensor **t) {
  ARG(sess, "sess is NULL");
  if (index < 0 || index >= sess->n_out)
    return aicc_errorf(AICC_ERR_INVALID, "output %d: the model has %d outputs", index,
                       sess->n_out);
  if (!sess->out[index])
    return aicc_errorf(AICC_ERR_INVALID, "output %d: no successful run yet", index);
  const aicc_tensor *x = sess->out[index];
  if (x->kind != AICC_KIND_TENSOR || !aicc_elem_size((aicc_elem_type)x->dtype))
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "output %d is a %s of %s, which this API does not pass",
                       index, x->kind == AICC_KIND_TENSOR ? "tensor" : "sequence or optional",
                       aicc_dtype_text(x->dtype));
  *t = x;
  return NULL;
}

aicc_status aicc_session_output(aicc_session *sess, int index, aicc_elem_type *type, int *rank,
                                const int64_t **dims, const void **data) {
  const aicc_tensor *t = NULL;
  AICC_TRY(output_at(sess, index, &t));
  if (type) *type = (aicc_elem_type)t->dtype;
  if (rank) *rank = t->rank;
  if (dims) *dims = t->dims;
  if (data) *data = t->data;
  return NULL;
}

aicc_status aicc_session_output_index(aicc_session *sess, const char *name, int *index) {
  ARG(sess && name && index, "NULL argument");
  const aicc_graph *g = prog_graph(sess->prog);
  for (size_t i = 0; i < g->outputs.len; i++)
    if (strcmp(g->outputs.data[i]->name, name) == 0) {
      *index = (int)i;
      return NULL;
    }
  return aicc_errorf(AICC_ERR_INVALID, "the model has no output named '%s'", name);
}

aicc_status aicc_session_output_copy(aicc_session *sess, int index, void *dst, size_t capacity,
                                     size_t *size) {
  const aicc_tensor *t = NULL;
  AICC_TRY(output_at(sess, index, &t));
  if (size) *size = t->nbytes;
  if (t->nbytes > capacity)
    return aicc_errorf(AICC_ERR_SHAPE, "output %d takes %zu bytes, the buffer has %zu", index,
                       t->nbytes, capacity);
  if (t->nbytes) {
    ARG(dst, "dst is NULL");
    memcpy(dst, t->data, t->nbytes);
  }
  return NULL;
}
