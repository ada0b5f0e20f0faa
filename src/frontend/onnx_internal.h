/* Shared by the ONNX frontend files only: TensorProto <-> aicc_tensor,
 * TypeProto <-> aicc_type, whole-file reads and atomic writes. Messages made
 * here carry no file name; the public entry points prefix it once. */
#ifndef AICC_FRONTEND_ONNX_INTERNAL_H
#define AICC_FRONTEND_ONNX_INTERNAL_H

#include "core/file.h"
#include "ir/graph.h"
#include "onnx/onnx-data.pb-c.h"
#include "onnx/onnx-ml.pb-c.h"

/* Protobuf files larger than this cannot be parsed by any protobuf reader
 * (lengths are 31-bit); weights beyond it must live in external data. */
#define AICC_ONNX_MAX_FILE ((size_t)INT32_MAX)

/* Where external tensor data may come from: files under base_dir (NULL:
 * external data is refused). base_real is realpath(base_dir), computed
 * lazily by the first external tensor. */
typedef struct aicc_onnx_ext {
  const char *base_dir;
  char *base_real; /* malloc'ed; freed by aicc_onnx_ext_fini */
} aicc_onnx_ext;

void aicc_onnx_ext_fini(aicc_onnx_ext *e);

/* Protobuf strings that were never set are NULL; treat them as "". */
static inline const char *aicc_onnx_str(const char *s) { return s ? s : ""; }

/* Decodes a TensorProto in any encoding (raw_data, typed fields, external
 * data) into a new dense tensor. Sizes are validated against the data before
 * anything is allocated. `what` names the tensor in messages
 * ("initializer 'w'"). Returns a new reference in *out. */
AICC_MUST_USE aicc_status aicc_onnx_tensor_decode(const Onnx__TensorProto *tp,
                                                  aicc_onnx_ext *ext, const char *what,
                                                  aicc_tensor **out);
/* Densifies a SparseTensorProto (indices [NNZ] linear or [NNZ, rank]). */
AICC_MUST_USE aicc_status aicc_onnx_sparse_decode(const Onnx__SparseTensorProto *sp,
                                                  aicc_onnx_ext *ext, const char *what,
                                                  aicc_tensor **out);

/* Fills a TensorProto (initialised by the caller) from a dense tensor; data
 * is referenced, not copied (raw_data points into t, arrays come from a). */
AICC_MUST_USE aicc_status aicc_onnx_tensor_encode(const aicc_tensor *t, const char *name,
                                                  aicc_arena *a, Onnx__TensorProto *tp);
/* Sparse form (linear indices of the non-zero elements) of a dense tensor. */
AICC_MUST_USE aicc_status aicc_onnx_sparse_encode(const aicc_tensor *t, const char *name,
                                                  aicc_arena *a,
                                                  Onnx__SparseTensorProto *sp);

/* TypeProto -> aicc_type; symbols are interned in m's arena through `syms`
 * (name -> arena string), so equal names share one pointer. */
AICC_MUST_USE aicc_status aicc_onnx_type_decode(const Onnx__TypeProto *tp, aicc_model *m,
                                                aicc_hashmap *syms, aicc_type *out);
/* aicc_type -> TypeProto allocated from a; NULL (no type) for kind NONE. */
AICC_MUST_USE aicc_status aicc_onnx_type_encode(const aicc_type *t, aicc_arena *a,
                                                Onnx__TypeProto **out);

/* Reads a whole file (refusing files over AICC_ONNX_MAX_FILE). */
AICC_MUST_USE aicc_status aicc_onnx_file_read(const char *path, uint8_t **data,
                                              size_t *len);

#endif
