/* NPY files (numpy's format, versions 1.0-3.0): the training data format.
 * Little-endian numeric dtypes in C order: bool (|b1), i1/u1, i2/u2, i4/u4,
 * i8/u8, f2, f4, f8. Fortran order, big-endian data, object and structured
 * dtypes are refused with a message naming the file and the header field. */
#ifndef AICC_TRAIN_NPY_H
#define AICC_TRAIN_NPY_H

#include "ir/tensor.h"

/* Reads path into a new tensor (new reference in *out). */
AICC_MUST_USE aicc_status aicc_npy_load(const char *path, aicc_tensor **out);
/* Parses an NPY image held in memory (len bytes); name is for messages. */
AICC_MUST_USE aicc_status aicc_npy_parse(const char *name, const void *data, size_t len,
                                         aicc_tensor **out);
/* Writes t (a dense numeric tensor) as NPY version 1.0, atomically. */
AICC_MUST_USE aicc_status aicc_npy_save(const char *path, const aicc_tensor *t);

#endif
