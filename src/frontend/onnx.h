/* ONNX import and export (protobuf-c over the onnx.proto that the installed
 * onnx package ships). Import builds the graph IR: opsets, typed inputs with
 * symbolic dims, initializers (every encoding, external data confined to the
 * model's folder, sparse), nodes with typed attributes and subgraphs, and
 * model-local functions inlined. It does not optimize. */
#ifndef AICC_FRONTEND_ONNX_H
#define AICC_FRONTEND_ONNX_H

#include "ir/graph.h"

/* Loads an ONNX model file. External data is resolved relative to the
 * file's folder. Errors name the file, the node and the reason. */
AICC_MUST_USE aicc_status aicc_onnx_load(const char *path, aicc_model **out);

/* Same from memory. `name` is used in messages; `base_dir` is where external
 * data lives (NULL: external data is refused). */
AICC_MUST_USE aicc_status aicc_onnx_load_buffer(const void *data, size_t len,
                                                const char *name,
                                                const char *base_dir,
                                                aicc_model **out);

/* Writes m as an ONNX model (all data inline) to path, atomically (temp file
 * in the same folder, then rename): nothing is left behind on failure. */
AICC_MUST_USE aicc_status aicc_onnx_save(const aicc_model *m, const char *path);

/* Reads a serialized value file (input_N.pb / output_N.pb). `kind` says what
 * the file holds (TensorProto, SequenceProto or OptionalProto), as the
 * graph's declared input/output type tells. */
AICC_MUST_USE aicc_status aicc_onnx_value_load(const char *path, aicc_value_kind kind,
                                               aicc_tensor **out);
/* Writes a value file atomically; `name` is stored in the proto. */
AICC_MUST_USE aicc_status aicc_onnx_value_save(const char *path, const char *name,
                                               const aicc_tensor *t);

#endif
