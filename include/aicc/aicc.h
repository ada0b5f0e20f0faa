/* aicc public C API: status codes and the entry points a user links against.
 * Handles are opaque; nothing internal leaks here. Every function that can fail
 * returns an aicc_status (NULL on success) that the caller must check and free. */
#ifndef AICC_AICC_H
#define AICC_AICC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AICC_MUST_USE __attribute__((warn_unused_result))
#else
#define AICC_MUST_USE
#endif

typedef enum aicc_code {
  AICC_OK = 0,
  AICC_ERR_INVALID = 1,     /* malformed input: bad model, bad text, bad flag */
  AICC_ERR_UNSUPPORTED = 2, /* valid but not supported: op, opset, dtype */
  AICC_ERR_SHAPE = 3,       /* shape or type mismatch */
  AICC_ERR_IO = 4,          /* file could not be read or written */
  AICC_ERR_NOMEM = 5,       /* allocation failed */
  AICC_ERR_INTERNAL = 6,    /* a bug in aicc */
} aicc_code;

/* An error: NULL means success. A non-NULL status owns its message; the
 * receiver frees it with aicc_status_free. */
typedef struct aicc_error *aicc_status;

aicc_code aicc_status_code(aicc_status s);
const char *aicc_status_message(aicc_status s);
void aicc_status_free(aicc_status s);

const char *aicc_version(void);

/* ==== Compiling and running models ==========================================
 *
 *   aicc_net *net;            aicc_net_load("model.onnx", &net)
 *   aicc_program *prog;       aicc_compile(net, &options, &prog)
 *   aicc_session *sess;       aicc_session_create(prog, &sess)
 *   aicc_session_set_input(sess, 0, AICC_ELEM_F32, 4, dims, data)
 *   aicc_session_run(sess)
 *   aicc_session_output(sess, 0, &type, &rank, &dims, &data)
 *   free in reverse order: aicc_session_free, aicc_program_free, aicc_net_free
 *
 * A program is the model compiled to native kernels (generated C, compiled
 * by the system C compiler and cached on disk); operators that do not
 * compile run on aicc's reference kernels. Threads: a net and a program may
 * be used from any number of threads at once; a session belongs to one
 * thread at a time (create one session per thread). Nothing is global: two
 * programs never share mutable state. Every function that can fail returns
 * an aicc_status (NULL on success) that the caller frees. */

/* Element types, numbered as ONNX TensorProto.DataType. */
typedef enum aicc_elem_type {
  AICC_ELEM_F32 = 1,
  AICC_ELEM_U8 = 2,
  AICC_ELEM_I8 = 3,
  AICC_ELEM_U16 = 4,
  AICC_ELEM_I16 = 5,
  AICC_ELEM_I32 = 6,
  AICC_ELEM_I64 = 7,
  AICC_ELEM_BOOL = 9, /* one byte per element, 0 or 1 */
  AICC_ELEM_F16 = 10,
  AICC_ELEM_F64 = 11,
  AICC_ELEM_U32 = 12,
  AICC_ELEM_U64 = 13,
  AICC_ELEM_BF16 = 16,
} aicc_elem_type;

/* Bytes of one element of t (0 for a type this API does not pass). */
size_t aicc_elem_size(aicc_elem_type t);

typedef struct aicc_net aicc_net;         /* a loaded model */
typedef struct aicc_program aicc_program; /* a compiled model */
typedef struct aicc_session aicc_session; /* one runner of a program */

/* ---- models ---- */

/* Loads an ONNX model (.onnx) or aicc graph IR text (.ir) from path. */
AICC_MUST_USE aicc_status aicc_net_load(const char *path, aicc_net **out);
/* Frees net (NULL is ignored). Programs compiled from it stay valid. */
void aicc_net_free(aicc_net *net);

/* ---- compiling ---- */

typedef struct aicc_compile_options {
  int threads;           /* threads per session (>= 1); 0: 1 */
  int opt_level;         /* graph optimization 0..3; -1: default (3) */
  const char *cache_dir; /* kernel cache; NULL: $AICC_CACHE_DIR, else
                            $XDG_CACHE_HOME/aicc, else ~/.cache/aicc */
  const char *cc;        /* C compiler command; NULL: $AICC_CC, else cc */
  const char *cflags;    /* extra compiler flags, or NULL */
  int strict;            /* nonzero: an operator that does not compile is an
                            error instead of running on a reference kernel */
  /* Sizes of symbolic input dims ("batch=1,seq=128"), or NULL: a model
   * whose inputs have symbolic dims is then compiled for the shapes of the
   * first run (and again for each new set of shapes). */
  const char *input_shapes;
} aicc_compile_options;

/* Sets the defaults (1 thread, -O2, no strictness, default cache and cc). */
void aicc_compile_options_init(aicc_compile_options *o);

/* Compiles net (which is not changed and may be freed afterwards). o may be
 * NULL (defaults). *out gets a new program; free it with aicc_program_free
 * after its sessions. Errors: AICC_ERR_UNSUPPORTED (strict, or no C
 * compiler), AICC_ERR_INVALID (bad options; the compiler's message when it
 * rejects the generated code), AICC_ERR_SHAPE. */
AICC_MUST_USE aicc_status aicc_compile(const aicc_net *net, const aicc_compile_options *o,
                                       aicc_program **out);
void aicc_program_free(aicc_program *prog);

/* The model's inputs and outputs: count, name and declared type. dims gets
 * rank entries (*rank <= 16), -1 for a dim that is symbolic or unknown;
 * *rank is -1 when the rank itself is unknown. */
AICC_MUST_USE aicc_status aicc_program_input_count(const aicc_program *prog, int *count);
AICC_MUST_USE aicc_status aicc_program_output_count(const aicc_program *prog, int *count);
AICC_MUST_USE aicc_status aicc_program_input_info(const aicc_program *prog, int index,
                                                  const char **name, aicc_elem_type *type,
                                                  int *rank, int64_t dims[16]);
AICC_MUST_USE aicc_status aicc_program_output_info(const aicc_program *prog, int index,
                                                   const char **name, aicc_elem_type *type,
                                                   int *rank, int64_t dims[16]);

/* What compiling made (for the latest shape specialization): native
 * kernels, operators left to reference kernels and their op types
 * (comma-separated, NUL-terminated, cut to ops_len bytes), and the total
 * compile time in milliseconds. Each out-pointer may be NULL. */
AICC_MUST_USE aicc_status aicc_program_stats(aicc_program *prog, int *kernels,
                                             int *extern_steps, char *extern_ops,
                                             size_t ops_len, double *compile_ms);

/* ---- running ---- */

/* A new session of prog (prog must outlive it). */
AICC_MUST_USE aicc_status aicc_session_create(aicc_program *prog, aicc_session **out);
void aicc_session_free(aicc_session *sess);

/* Binds input `index` (or the input named `name`) to caller memory: rank
 * dims, dense row-major, `type` elements. The data is read in place (copied
 * only when not 64-byte aligned), so it must stay valid and unchanged until
 * aicc_session_run returns; a binding holds for later runs until replaced.
 * An input that is also an initializer keeps the initializer's value when
 * never bound. */
AICC_MUST_USE aicc_status aicc_session_set_input(aicc_session *sess, int index,
                                                 aicc_elem_type type, int rank,
                                                 const int64_t *dims, const void *data);
AICC_MUST_USE aicc_status aicc_session_set_input_by_name(aicc_session *sess, const char *name,
                                                         aicc_elem_type type, int rank,
                                                         const int64_t *dims,
                                                         const void *data);

/* Runs the model on the bound inputs. Outputs of an earlier run are
 * released. Errors name the input or operator at fault. */
AICC_MUST_USE aicc_status aicc_session_run(aicc_session *sess);

/* Output `index` of the latest successful run: its element type, rank, dims
 * and data. The pointers stay valid until the next aicc_session_run or
 * aicc_session_free. Each out-pointer may be NULL. */
AICC_MUST_USE aicc_status aicc_session_output(aicc_session *sess, int index,
                                              aicc_elem_type *type, int *rank,
                                              const int64_t **dims, const void **data);
/* The index of the output named name. */
AICC_MUST_USE aicc_status aicc_session_output_index(aicc_session *sess, const char *name,
                                                    int *index);
/* Copies output `index` into dst (capacity bytes); *size (may be NULL)
 * gets the bytes the output takes. AICC_ERR_SHAPE when dst is too small. */
AICC_MUST_USE aicc_status aicc_session_output_copy(aicc_session *sess, int index, void *dst,
                                                   size_t capacity, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
