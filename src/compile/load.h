/* Loading a model file for an engine: ONNX (.onnx, anything else) or the
 * text IR (.ir), verified, then legalized (ONNX Gradient nodes expanded by
 * the `gradient` pass) so every engine sees only ops it can run. */
#ifndef AICC_COMPILE_LOAD_H
#define AICC_COMPILE_LOAD_H

#include "ir/graph.h"

/* New model in *out (caller destroys). Errors name the file. */
AICC_MUST_USE aicc_status aicc_model_load_file(const char *path, aicc_model **out);

#endif
