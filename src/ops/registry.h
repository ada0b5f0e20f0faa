/* The op registry: one row per operator, grouped by family (one file per
 * family, each exporting a table). A row carries schema (opset range,
 * arity, attributes), shape/type inference, the reference kernel and the
 * gradient rule; loop-IR lowering joins it later. A missing piece is NULL
 * and is reported by name, never skipped silently. Rows are const data. */
#ifndef AICC_OPS_REGISTRY_H
#define AICC_OPS_REGISTRY_H

#include "ir/graph.h"

typedef struct aicc_interp aicc_interp;
struct aicc_lower_ctx;

typedef struct aicc_attr_spec {
  const char *name;
  aicc_attr_kind kind;
  bool required;
} aicc_attr_spec;

/* Inference: given input types (and constant input values where known),
 * fill the output types. At run time every input is constant, so a good
 * infer function yields the exact output shape; the interpreter checks the
 * kernel's outputs against it. */
typedef struct aicc_infer_ctx {
  const aicc_node *node;
  int opset;
  int n_in, n_out;
  const aicc_type *const *in;     /* NULL: omitted optional input */
  const aicc_tensor *const *cin;  /* constant value of input i, else NULL */
  aicc_type *out;                 /* n_out entries, kind NONE on entry */
} aicc_infer_ctx;
typedef aicc_status (*aicc_infer_fn)(aicc_infer_ctx *c);

/* Reference kernel: reads c->in, sets each c->out[i] to a new reference
 * (create it with aicc_kernel_output or build it and assign). Optional
 * trailing outputs the node did not name (c->want[i] false) may be left NULL. */
typedef struct aicc_kernel_ctx {
  const aicc_node *node;
  int opset;
  int n_in, n_out;
  aicc_tensor *const *in; /* NULL: omitted optional input */
  aicc_tensor **out;
  const bool *want;       /* want[i]: output i is used by the graph */
  aicc_interp *interp;    /* for control flow: aicc_interp_run_subgraph */
} aicc_kernel_ctx;
typedef aicc_status (*aicc_kernel_fn)(aicc_kernel_ctx *c);

/* Gradient rule (reverse mode, src/autodiff/): given the gradients of the
 * node's outputs, appends nodes to c->graph that compute the gradient of
 * each input (a vector-Jacobian product) and stores them in c->dx. Build
 * the nodes with the helpers of ops/grad_util.h (they type each new value).
 * A rule may leave dx[i] NULL where the input is not differentiable or
 * c->need[i] is false; it never edits the forward nodes. */
typedef struct aicc_grad_ctx {
  aicc_graph *graph;          /* graph of the forward node; backward nodes go here */
  const aicc_node *node;      /* the forward node */
  aicc_value *const *dy;      /* n_outputs: gradient of output i, NULL: zero */
  aicc_value **dx;            /* n_inputs: set to the gradient of input i */
  const bool *need;           /* need[i]: the gradient of input i is wanted */
} aicc_grad_ctx;
typedef aicc_status (*aicc_grad_fn)(aicc_grad_ctx *c);

enum { AICC_VARIADIC = -1 };

struct aicc_op {
  const char *name;
  const char *domain; /* "" = ai.onnx; "ai.onnx.ml"; "ai.onnx.preview.training" */
  int since, until;   /* supported versions of the domain's opset; until 0: open */
  int min_in, max_in;   /* max AICC_VARIADIC: any number */
  int min_out, max_out;
  const aicc_attr_spec *attrs; /* terminated by a row with name NULL; NULL: none */
  aicc_infer_fn infer;
  aicc_kernel_fn kernel;
  /* NULL in the family tables today: src/autodiff/rules.c maps op names to
   * the rules of src/ops/grad_*.c; a row that sets it takes precedence. */
  aicc_grad_fn grad;
  /* Compute definition (ops/lower.h); NULL in the family tables today: the
   * lowerings in src/ops/lower/ attach by name, a row's own wins. */
  aicc_status (*lower)(struct aicc_lower_ctx *c);
};

/* A family's table, defined in src/ops/<family>.c. */
typedef struct aicc_op_family {
  const char *name;
  const aicc_op *ops;
  size_t count;
} aicc_op_family;

/* Finds the row of (domain, name) that covers `opset`. When the op exists but
 * no row covers the version, *why says so (for the error message). */
const aicc_op *aicc_op_find(const char *domain, const char *name, int opset,
                            const char **why);
/* All families, for listing. */
const aicc_op_family *const *aicc_op_families(size_t *count);

/* Creates c->out[i] as a dense tensor (new reference, zeroed) and returns it
 * in *t. Fails on an invalid dtype or shape. */
AICC_MUST_USE aicc_status aicc_kernel_output(aicc_kernel_ctx *c, int i,
                                             aicc_dtype dt, int rank,
                                             const int64_t *dims, aicc_tensor **t);

/* Error helpers that name the node: "node 'x' (Conv): <reason>". */
aicc_status aicc_kernel_error(const aicc_kernel_ctx *c, aicc_code code,
                              const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
aicc_status aicc_infer_error(const aicc_infer_ctx *c, aicc_code code,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
