/* Sequence and optional ops: SequenceConstruct/Empty/At/Insert/Erase/Length,
 * SplitToSequence, ConcatFromSequence, SequenceMap, Optional,
 * OptionalHasElement, OptionalGetElement. Sequences share their element
 * tensors by reference (values are immutable once produced); Identity of
 * sequences and optionals lives with the shape family, not here. */
#include "ops/util.h"
#include "ops/util_elem.h"
#include "interp/interp.h"
#include "ir/tensor_float.h"

#include <stdlib.h>
#include <string.h>

/* --- small helpers --- */

/* The least type that describes both a and b (dims that differ become
 * unknown, ranks that differ make the rank unknown). */
static aicc_type seq_type_merge(const aicc_type *a, const aicc_type *b) {
  aicc_type r = *a;
  if (a->kind != b->kind || a->dtype != b->dtype) {
    memset(&r, 0, sizeof r);
    r.kind = a->kind == b->kind ? a->kind : AICC_KIND_NONE;
    r.elem_kind = a->elem_kind == b->elem_kind ? a->elem_kind : AICC_KIND_NONE;
    r.rank = -1;
    return r;
  }
  aicc_type_join_shape(&r, a, b);
  return r;
}

/* A sequence type whose elements are described by elem. */
static void set_seq_type(aicc_infer_ctx *c, int i, const aicc_type *elem) {
  aicc_type *t = &c->out[i];
  memset(t, 0, sizeof *t);
  t->kind = AICC_KIND_SEQUENCE;
  t->dtype = elem ? elem->dtype : AICC_DTYPE_UNDEFINED;
  t->rank = elem ? elem->rank : -1;
  if (elem && elem->rank > 0)
    memcpy(t->dims, elem->dims, sizeof(aicc_dim) * (size_t)elem->rank);
}

/* The element type of a sequence type as a tensor type. */
static aicc_type seq_elem_type(const aicc_type *s) {
  aicc_type t = *s;
  t.kind = AICC_KIND_TENSOR;
  t.elem_kind = AICC_KIND_NONE;
  if (s->kind == AICC_KIND_NONE) {
    t.dtype = s->dtype;
    t.rank = -1;
  }
  return t;
}

/* Reads an optional scalar integer input (position); false when absent. */
static aicc_status read_position(const aicc_kernel_ctx *c, int i, bool *has, int64_t *pos) {
  *has = false;
  if (i >= c->n_in || !c->in[i]) return NULL;
  const aicc_tensor *t = c->in[i];
  if (t->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(t->dtype) || aicc_tensor_numel(t) != 1)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "position must be an integer scalar");
  *pos = aicc_tensor_get_i64(t, 0);
  *has = true;
  return NULL;
}

static aicc_status want_seq(const aicc_kernel_ctx *c, int i) {
  if (!c->in[i] || c->in[i]->kind != AICC_KIND_SEQUENCE)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a sequence", i);
  return NULL;
}

/* Pushes a new reference of t onto seq. */
static aicc_status push_ref(aicc_tensor *seq, aicc_tensor *t) {
  return aicc_tensor_sequence_push(seq, aicc_tensor_retain(t));
}

/* --- SequenceConstruct / SequenceEmpty --- */

static aicc_status seq_construct_infer(aicc_infer_ctx *c) {
  aicc_type e;
  bool have = false;
  for (int i = 0; i < c->n_in; i++) {
    if (!c->in[i]) continue;
    e = have ? seq_type_merge(&e, c->in[i]) : *c->in[i];
    have = true;
  }
  set_seq_type(c, 0, have ? &e : NULL);
  return NULL;
}

static aicc_status seq_construct_kernel(aicc_kernel_ctx *c) {
  for (int i = 0; i < c->n_in; i++) {
    if (!c->in[i] || c->in[i]->kind != AICC_KIND_TENSOR)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "input %d must be a tensor", i);
    if (c->in[i]->dtype != c->in[0]->dtype)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "inputs have different dtypes (%s vs %s)",
                               aicc_dtype_text(c->in[0]->dtype),
                               aicc_dtype_text(c->in[i]->dtype));
  }
  aicc_tensor *seq;
  AICC_TRY(aicc_tensor_sequence_create(c->in[0]->dtype, &seq));
  for (int i = 0; i < c->n_in; i++) {
    aicc_status s = push_ref(seq, c->in[i]);
    if (s) {
      aicc_tensor_release(seq);
      return s;
    }
  }
  c->out[0] = seq;
  return NULL;
}

static aicc_dtype seq_empty_dtype(const aicc_node *n) {
  return (aicc_dtype)aicc_node_attr_int(n, "dtype", AICC_DTYPE_F32);
}

static aicc_status seq_empty_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = seq_empty_dtype(c->node);
  if (!aicc_dtype_valid(dt) || dt == AICC_DTYPE_UNDEFINED)
    return aicc_infer_error(c, AICC_ERR_INVALID, "invalid dtype %d", (int)dt);
  aicc_type e = {.kind = AICC_KIND_TENSOR, .dtype = dt, .rank = -1};
  set_seq_type(c, 0, &e);
  return NULL;
}

static aicc_status seq_empty_kernel(aicc_kernel_ctx *c) {
  aicc_dtype dt = seq_empty_dtype(c->node);
  if (!aicc_dtype_valid(dt) || dt == AICC_DTYPE_UNDEFINED)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "invalid dtype %d", (int)dt);
  return aicc_tensor_sequence_create(dt, &c->out[0]);
}

/* --- SequenceAt / SequenceInsert / SequenceErase / SequenceLength --- */

static aicc_status seq_at_infer(aicc_infer_ctx *c) {
  if (c->in[0]) c->out[0] = seq_elem_type(c->in[0]);
  return NULL;
}

static aicc_status seq_at_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(want_seq(c, 0));
  bool has;
  int64_t pos, n = (int64_t)c->in[0]->n_elems;
  AICC_TRY(read_position(c, 1, &has, &pos));
  if (!has) return aicc_kernel_error(c, AICC_ERR_INVALID, "position is required");
  if (!aicc_index_norm(pos, n, &pos))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "position %lld out of range for %lld elements",
                             (long long)pos, (long long)n);
  c->out[0] = aicc_tensor_retain(c->in[0]->elems[pos]);
  return NULL;
}

static aicc_status seq_insert_infer(aicc_infer_ctx *c) {
  if (!c->in[0] || !c->in[1]) return NULL;
  aicc_type e = seq_elem_type(c->in[0]);
  aicc_type m = seq_type_merge(&e, c->in[1]);
  set_seq_type(c, 0, &m);
  return NULL;
}

static aicc_status seq_insert_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(want_seq(c, 0));
  const aicc_tensor *seq = c->in[0];
  aicc_tensor *x = c->in[1];
  if (!x || x->kind != AICC_KIND_TENSOR)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "the inserted value must be a tensor");
  if (seq->dtype != AICC_DTYPE_UNDEFINED && seq->dtype != x->dtype)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "inserting %s into a sequence of %s",
                             aicc_dtype_text(x->dtype), aicc_dtype_text(seq->dtype));
  bool has;
  int64_t pos, n = (int64_t)seq->n_elems;
  AICC_TRY(read_position(c, 2, &has, &pos));
  if (!has) pos = n;
  if (pos < -n || pos > n)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "position %lld out of range for %lld elements",
                             (long long)pos, (long long)n);
  if (pos < 0) pos += n;
  aicc_tensor *out;
  AICC_TRY(aicc_tensor_sequence_create(x->dtype, &out));
  aicc_status s = NULL;
  for (int64_t i = 0; i <= n && !s; i++) {
    if (i == pos) s = push_ref(out, x);
    if (i < n && !s) s = push_ref(out, seq->elems[i]);
  }
  if (s) {
    aicc_tensor_release(out);
    return s;
  }
  c->out[0] = out;
  return NULL;
}

static aicc_status seq_erase_infer(aicc_infer_ctx *c) {
  if (c->in[0]) c->out[0] = *c->in[0];
  return NULL;
}

static aicc_status seq_erase_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(want_seq(c, 0));
  const aicc_tensor *seq = c->in[0];
  bool has;
  int64_t pos, n = (int64_t)seq->n_elems;
  AICC_TRY(read_position(c, 1, &has, &pos));
  if (!has) pos = n - 1;
  if (!aicc_index_norm(pos, n, &pos))
    return aicc_kernel_error(c, AICC_ERR_INVALID, "position %lld out of range for %lld elements",
                             (long long)pos, (long long)n);
  aicc_tensor *out;
  AICC_TRY(aicc_tensor_sequence_create(seq->dtype, &out));
  for (int64_t i = 0; i < n; i++) {
    if (i == pos) continue;
    aicc_status s = push_ref(out, seq->elems[i]);
    if (s) {
      aicc_tensor_release(out);
      return s;
    }
  }
  c->out[0] = out;
  return NULL;
}

static aicc_status seq_length_infer(aicc_infer_ctx *c) {
  aicc_infer_set(c, 0, AICC_DTYPE_I64, 0, NULL);
  return NULL;
}

static aicc_status seq_length_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(want_seq(c, 0));
  aicc_tensor *t;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_I64, 0, NULL, &t));
  ((int64_t *)t->data)[0] = (int64_t)c->in[0]->n_elems;
  return NULL;
}

/* --- SplitToSequence --- */

static aicc_status split_to_seq_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) {
    aicc_type e = {.kind = AICC_KIND_TENSOR, .dtype = c->in[0] ? c->in[0]->dtype : 0,
                   .rank = -1};
    set_seq_type(c, 0, &e);
    return NULL;
  }
  const aicc_type *x = c->in[0];
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
  if (s) return aicc_status_wrap(s, "SplitToSequence");
  aicc_type e = *x;
  bool has_split = c->n_in > 1 && c->in[1];
  if (!has_split) {
    if (aicc_node_attr_int(c->node, "keepdims", 1)) {
      e.dims[axis] = aicc_dim_known(1);
    } else {
      for (int d = (int)axis; d + 1 < e.rank; d++) e.dims[d] = e.dims[d + 1];
      e.rank--;
    }
  } else {
    e.dims[axis] = aicc_dim_unknown();
    const aicc_tensor *sp = c->cin ? c->cin[1] : NULL;
    /* Equal parts keep a known size along the axis. */
    if (sp && sp->kind == AICC_KIND_TENSOR && aicc_dtype_is_int(sp->dtype) &&
        aicc_tensor_numel(sp) > 0) {
      int64_t n = aicc_tensor_numel(sp), v = aicc_tensor_get_i64(sp, 0);
      bool equal = true;
      for (int64_t i = 1; i < n; i++) equal &= aicc_tensor_get_i64(sp, i) == v;
      if (sp->rank == 1 && equal) e.dims[axis] = aicc_dim_known(v);
      else if (sp->rank == 0 && aicc_dim_is_known(x->dims[axis]) && v > 0 &&
               x->dims[axis].size % v == 0)
        e.dims[axis] = aicc_dim_known(v);
    }
  }
  set_seq_type(c, 0, &e);
  return NULL;
}

static aicc_status split_to_seq_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->in[0];
  if (!x || x->kind != AICC_KIND_TENSOR)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "input must be a tensor");
  if (x->rank == 0) return aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot split a scalar");
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
  if (s) return aicc_status_wrap(s, "SplitToSequence");
  int64_t len = x->dims[axis];
  bool keep = true;
  int64_t nparts = 0, *sizes = NULL;
  const aicc_tensor *sp = c->n_in > 1 ? c->in[1] : NULL;
  if (sp) {
    if (sp->kind != AICC_KIND_TENSOR || !aicc_dtype_is_int(sp->dtype) || sp->rank > 1)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "split must be an integer scalar or 1-D tensor");
    int64_t k = aicc_tensor_numel(sp);
    if (sp->rank == 0) {
      int64_t v = aicc_tensor_get_i64(sp, 0);
      if (v <= 0) return aicc_kernel_error(c, AICC_ERR_INVALID, "split must be positive");
      nparts = (len + v - 1) / v;
      sizes = malloc(sizeof *sizes * (size_t)(nparts ? nparts : 1));
      if (!sizes) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      for (int64_t i = 0; i < nparts; i++) sizes[i] = i + 1 < nparts ? v : len - v * i;
    } else {
      nparts = k;
      sizes = malloc(sizeof *sizes * (size_t)(k ? k : 1));
      if (!sizes) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
      int64_t sum = 0;
      for (int64_t i = 0; i < k; i++) {
        sizes[i] = aicc_tensor_get_i64(sp, i);
        if (sizes[i] < 0) {
          free(sizes);
          return aicc_kernel_error(c, AICC_ERR_INVALID, "split sizes must be >= 0");
        }
        sum += sizes[i];
      }
      if (sum != len) {
        free(sizes);
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "split sizes sum to %lld, axis has %lld",
                                 (long long)sum, (long long)len);
      }
    }
  } else {
    keep = aicc_node_attr_int(c->node, "keepdims", 1) != 0;
    nparts = len;
    sizes = malloc(sizeof *sizes * (size_t)(len ? len : 1));
    if (!sizes) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < len; i++) sizes[i] = 1;
  }
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= x->dims[d];
  for (int d = (int)axis + 1; d < x->rank; d++) inner *= x->dims[d];
  aicc_tensor *seq = NULL;
  s = aicc_tensor_sequence_create(x->dtype, &seq);
  int64_t start = 0;
  for (int64_t p = 0; p < nparts && !s; p++) {
    int64_t dims[AICC_MAX_RANK];
    int rank = 0;
    for (int d = 0; d < x->rank; d++) {
      if (d == axis) {
        if (keep) dims[rank++] = sizes[p];
      } else {
        dims[rank++] = x->dims[d];
      }
    }
    aicc_tensor *part = NULL;
    s = aicc_tensor_create(x->dtype, rank, dims, &part);
    for (int64_t o = 0; o < outer && !s; o++)
      s = aicc_elem_copy(part, o * sizes[p] * inner, x, (o * len + start) * inner, sizes[p] * inner);
    if (!s) s = aicc_tensor_sequence_push(seq, part);
    else aicc_tensor_release(part);
    start += sizes[p];
  }
  free(sizes);
  if (s) {
    aicc_tensor_release(seq);
    return s;
  }
  c->out[0] = seq;
  return NULL;
}

/* --- ConcatFromSequence --- */

static aicc_status concat_from_seq_infer(aicc_infer_ctx *c) {
  const aicc_type *s = c->in[0];
  if (!s || s->rank < 0) {
    aicc_infer_set(c, 0, s ? s->dtype : AICC_DTYPE_UNDEFINED, -1, NULL);
    return NULL;
  }
  bool new_axis = aicc_node_attr_int(c->node, "new_axis", 0) != 0;
  int r = s->rank + (new_axis ? 1 : 0);
  int64_t axis;
  aicc_status st = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), r, &axis);
  if (st) return aicc_status_wrap(st, "ConcatFromSequence");
  aicc_dim dims[AICC_MAX_RANK];
  int k = 0;
  for (int d = 0; d < r; d++) {
    if (d == axis) dims[d] = aicc_dim_unknown(); /* depends on the sequence length */
    else dims[d] = s->dims[k++];
    if (d == axis && !new_axis) k++;
  }
  aicc_infer_set(c, 0, s->dtype, r, dims);
  return NULL;
}

static aicc_status concat_from_seq_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(want_seq(c, 0));
  const aicc_tensor *seq = c->in[0];
  if (seq->n_elems == 0)
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "cannot concatenate an empty sequence");
  bool new_axis = aicc_node_attr_int(c->node, "new_axis", 0) != 0;
  const aicc_tensor *e0 = seq->elems[0];
  int r = e0->rank + (new_axis ? 1 : 0);
  int64_t axis;
  aicc_status s = aicc_axis_norm(aicc_node_attr_int(c->node, "axis", 0), r, &axis);
  if (s) return aicc_status_wrap(s, "ConcatFromSequence");
  /* View each element as [outer, a, inner] where a is its extent on axis. */
  int64_t dims[AICC_MAX_RANK], total = 0;
  for (size_t i = 0; i < seq->n_elems; i++) {
    const aicc_tensor *e = seq->elems[i];
    if (e->kind != AICC_KIND_TENSOR || e->dtype != e0->dtype || e->rank != e0->rank)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "sequence element %zu differs in dtype or rank", i);
    for (int d = 0; d < e->rank; d++) {
      if (!new_axis && d == axis) continue;
      if (e->dims[d] != e0->dims[d])
        return aicc_kernel_error(c, AICC_ERR_SHAPE,
                                 "sequence element %zu has dim %d = %lld, expected %lld", i, d,
                                 (long long)e->dims[d], (long long)e0->dims[d]);
    }
    total += new_axis ? 1 : e->dims[axis];
  }
  int k = 0;
  for (int d = 0; d < r; d++) {
    if (d == axis) {
      dims[d] = total;
      if (!new_axis) k++;
    } else {
      dims[d] = e0->dims[k++];
    }
  }
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= dims[d];
  for (int d = (int)axis + 1; d < r; d++) inner *= dims[d];
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, e0->dtype, r, dims, &y));
  int64_t off = 0;
  for (size_t i = 0; i < seq->n_elems; i++) {
    const aicc_tensor *e = seq->elems[i];
    int64_t a = new_axis ? 1 : e->dims[axis];
    for (int64_t o = 0; o < outer; o++)
      AICC_TRY(aicc_elem_copy(y, (o * total + off) * inner, e, o * a * inner, a * inner));
    off += a;
  }
  return NULL;
}

/* --- SequenceMap --- */

static aicc_status seq_map_infer(aicc_infer_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_infer_error(c, AICC_ERR_INVALID, "missing body");
  if ((int)g->outputs.len != c->n_out)
    return aicc_infer_error(c, AICC_ERR_INVALID, "body has %zu outputs, node has %d",
                            g->outputs.len, c->n_out);
  for (int i = 0; i < c->n_out; i++) set_seq_type(c, i, &g->outputs.data[i]->type);
  return NULL;
}

static aicc_status seq_map_kernel(aicc_kernel_ctx *c) {
  aicc_graph *g = aicc_node_attr_graph(c->node, "body");
  if (!g) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing body");
  if ((int)g->inputs.len != c->n_in || (int)g->outputs.len != c->n_out)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "body arity %zu->%zu does not match node %d->%d",
                             g->inputs.len, g->outputs.len, c->n_in, c->n_out);
  AICC_TRY(want_seq(c, 0));
  size_t n = c->in[0]->n_elems;
  for (int i = 1; i < c->n_in; i++)
    if (c->in[i] && c->in[i]->kind == AICC_KIND_SEQUENCE && c->in[i]->n_elems != n)
      return aicc_kernel_error(c, AICC_ERR_SHAPE, "sequence input %d has %zu elements, expected %zu",
                               i, c->in[i]->n_elems, n);
  aicc_status s = NULL;
  for (int j = 0; j < c->n_out && !s; j++)
    s = aicc_tensor_sequence_create(g->outputs.data[j]->type.dtype, &c->out[j]);
  aicc_tensor **args = calloc((size_t)c->n_in + 1, sizeof *args);
  aicc_tensor **res = calloc((size_t)c->n_out + 1, sizeof *res);
  if (!s && (!args || !res)) s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (size_t k = 0; k < n && !s; k++) {
    for (int i = 0; i < c->n_in; i++)
      args[i] = c->in[i] && c->in[i]->kind == AICC_KIND_SEQUENCE ? c->in[i]->elems[k] : c->in[i];
    s = aicc_interp_run_subgraph(c->interp, g, args, c->n_in, res, c->n_out);
    for (int j = 0; j < c->n_out; j++) {
      if (!s && res[j]) {
        if (res[j]->kind != AICC_KIND_TENSOR)
          s = aicc_kernel_error(c, AICC_ERR_INVALID, "body output %d is not a tensor", j);
        else if (c->out[j]->n_elems == 0 && c->out[j]->dtype != res[j]->dtype)
          c->out[j]->dtype = res[j]->dtype;
        if (!s) {
          s = aicc_tensor_sequence_push(c->out[j], res[j]);
          res[j] = NULL;
        }
      }
      aicc_tensor_release(res[j]);
      res[j] = NULL;
    }
  }
  free(args);
  free(res);
  return s;
}

/* --- Optional / OptionalHasElement / OptionalGetElement --- */

static aicc_status optional_infer(aicc_infer_ctx *c) {
  aicc_type *t = &c->out[0];
  memset(t, 0, sizeof *t);
  t->kind = AICC_KIND_OPTIONAL;
  t->rank = -1;
  const aicc_type *src = NULL;
  const aicc_attr *a = aicc_node_attr(c->node, "type");
  if (c->n_in > 0 && c->in[0]) src = c->in[0];
  else if (a && a->kind == AICC_ATTR_TYPE_PROTO) src = &a->tp;
  else return aicc_infer_error(c, AICC_ERR_INVALID, "Optional needs an input or a type attribute");
  t->elem_kind = src->kind;
  t->dtype = src->dtype;
  t->rank = src->rank;
  if (src->rank > 0) memcpy(t->dims, src->dims, sizeof(aicc_dim) * (size_t)src->rank);
  return NULL;
}

static aicc_status optional_kernel(aicc_kernel_ctx *c) {
  if (c->n_in > 0 && c->in[0]) {
    aicc_tensor *x = c->in[0];
    if (x->kind == AICC_KIND_OPTIONAL)
      return aicc_kernel_error(c, AICC_ERR_INVALID, "optional of an optional");
    return aicc_tensor_optional_create(x->kind, x->dtype, aicc_tensor_retain(x), &c->out[0]);
  }
  const aicc_attr *a = aicc_node_attr(c->node, "type");
  if (!a || a->kind != AICC_ATTR_TYPE_PROTO)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "Optional needs an input or a type attribute");
  aicc_value_kind k = a->tp.kind == AICC_KIND_NONE ? AICC_KIND_TENSOR : a->tp.kind;
  return aicc_tensor_optional_create(k, a->tp.dtype, NULL, &c->out[0]);
}

static aicc_status opt_has_infer(aicc_infer_ctx *c) {
  aicc_infer_set(c, 0, AICC_DTYPE_BOOL, 0, NULL);
  return NULL;
}

static aicc_status opt_has_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *x = c->n_in > 0 ? c->in[0] : NULL;
  bool has = x && (x->kind != AICC_KIND_OPTIONAL || x->n_elems > 0);
  aicc_tensor *t;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_BOOL, 0, NULL, &t));
  ((uint8_t *)t->data)[0] = has;
  return NULL;
}

static aicc_status opt_get_infer(aicc_infer_ctx *c) {
  const aicc_type *x = c->in[0];
  if (!x) return NULL;
  c->out[0] = *x;
  if (x->kind == AICC_KIND_OPTIONAL) {
    c->out[0].kind = x->elem_kind;
    c->out[0].elem_kind = AICC_KIND_NONE;
  }
  return NULL;
}

static aicc_status opt_get_kernel(aicc_kernel_ctx *c) {
  aicc_tensor *x = c->in[0];
  if (!x) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing input");
  if (x->kind != AICC_KIND_OPTIONAL) {
    c->out[0] = aicc_tensor_retain(x);
    return NULL;
  }
  if (x->n_elems == 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "the optional holds no element");
  c->out[0] = aicc_tensor_retain(x->elems[0]);
  return NULL;
}

/* --- the table --- */

static const aicc_attr_spec seq_empty_attrs[] = {AICC_A_INT("dtype"), AICC_A_END};
static const aicc_attr_spec split_attrs[] = {AICC_A_INT("axis"), AICC_A_INT("keepdims"),
                                             AICC_A_END};
static const aicc_attr_spec concat_attrs[] = {{"axis", AICC_ATTR_INT, true},
                                              AICC_A_INT("new_axis"), AICC_A_END};
static const aicc_attr_spec map_attrs[] = {AICC_A_GRAPH("body"), AICC_A_END};
static const aicc_attr_spec optional_attrs[] = {{"type", AICC_ATTR_TYPE_PROTO, false},
                                                AICC_A_END};

static const aicc_op ops[] = {
  /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
  {"SequenceConstruct", "", 11, 0, 1, AICC_VARIADIC, 1, 1, NULL, seq_construct_infer,
   seq_construct_kernel},
  {"SequenceEmpty", "", 11, 0, 0, 0, 1, 1, seq_empty_attrs, seq_empty_infer, seq_empty_kernel},
  {"SequenceAt", "", 11, 0, 2, 2, 1, 1, NULL, seq_at_infer, seq_at_kernel},
  {"SequenceInsert", "", 11, 0, 2, 3, 1, 1, NULL, seq_insert_infer, seq_insert_kernel},
  {"SequenceErase", "", 11, 0, 1, 2, 1, 1, NULL, seq_erase_infer, seq_erase_kernel},
  {"SequenceLength", "", 11, 0, 1, 1, 1, 1, NULL, seq_length_infer, seq_length_kernel},
  {"SplitToSequence", "", 11, 0, 1, 2, 1, 1, split_attrs, split_to_seq_infer,
   split_to_seq_kernel},
  {"ConcatFromSequence", "", 11, 0, 1, 1, 1, 1, concat_attrs, concat_from_seq_infer,
   concat_from_seq_kernel},
  {"SequenceMap", "", 17, 0, 1, AICC_VARIADIC, 1, AICC_VARIADIC, map_attrs, seq_map_infer,
   seq_map_kernel},
  {"Optional", "", 15, 0, 0, 1, 1, 1, optional_attrs, optional_infer, optional_kernel},
  {"OptionalHasElement", "", 15, 0, 0, 1, 1, 1, NULL, opt_has_infer, opt_has_kernel},
  {"OptionalGetElement", "", 15, 0, 1, 1, 1, 1, NULL, opt_get_infer, opt_get_kernel},
};
const aicc_op_family aicc_family_sequence = {"sequence", ops, sizeof ops / sizeof ops[0]};
