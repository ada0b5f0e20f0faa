/* The training data pipeline: a dataset of two tensors (samples along dim
 * 0), batches in an order fixed by the seed alone (a Fisher-Yates shuffle
 * per epoch driven by xoshiro256** seeded from (seed, epoch)), and a
 * background thread that assembles the next batch while the caller runs the
 * current step. Nothing global: each loader owns its thread and buffers. */
#ifndef AICC_TRAIN_DATA_H
#define AICC_TRAIN_DATA_H

#include "ir/tensor.h"

#include <stdbool.h>

/* DIR/<split>_x.npy and DIR/<split>_y.npy (split "train" or "test").
 * Both must have the same size of dim 0. New references in *x and *y. */
AICC_MUST_USE aicc_status aicc_dataset_load(const char *dir, const char *split,
                                            aicc_tensor **x, aicc_tensor **y);

typedef struct aicc_loader_options {
  int64_t batch;   /* samples per batch, >= 1 */
  uint64_t seed;   /* the order depends on it (and the epoch) only */
  bool shuffle;    /* false: samples in file order */
  bool drop_last;  /* drop a last, smaller batch */
  bool prefetch;   /* assemble the next batch on a background thread */
} aicc_loader_options;

typedef struct aicc_loader aicc_loader;

/* x and y are retained by the loader. */
AICC_MUST_USE aicc_status aicc_loader_create(aicc_tensor *x, aicc_tensor *y,
                                             const aicc_loader_options *opt,
                                             aicc_loader **out);
void aicc_loader_destroy(aicc_loader *l);
/* Batches per epoch. */
int64_t aicc_loader_batches(const aicc_loader *l);
/* Starts epoch e (0-based): fixes its order and, with prefetch, starts
 * assembling its first batch. */
AICC_MUST_USE aicc_status aicc_loader_epoch(aicc_loader *l, int64_t e);
/* The next batch of the epoch as new references (dims [b, ...] with b <=
 * batch), or *bx = *by = NULL at the end of the epoch. */
AICC_MUST_USE aicc_status aicc_loader_next(aicc_loader *l, aicc_tensor **bx, aicc_tensor **by);
/* The sample order of the current epoch (n entries; valid until the next
 * aicc_loader_epoch). For tests. */
const int64_t *aicc_loader_order(const aicc_loader *l, int64_t *n);

#endif
