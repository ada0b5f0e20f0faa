/* The training data pipeline (data.h). */
#include "train/data.h"

#include "core/rng.h"
#include "train/npy.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aicc_status aicc_dataset_load(const char *dir, const char *split, aicc_tensor **x,
                              aicc_tensor **y) {
  char px[4096], py[4096];
  *x = *y = NULL;
  snprintf(px, sizeof px, "%s/%s_x.npy", dir, split);
  snprintf(py, sizeof py, "%s/%s_y.npy", dir, split);
  AICC_TRY(aicc_npy_load(px, x));
  aicc_status st = aicc_npy_load(py, y);
  if (!st && ((*x)->rank < 1 || (*y)->rank < 1 || (*x)->dims[0] != (*y)->dims[0]))
    st = aicc_errorf(AICC_ERR_SHAPE, "%s: %s holds %lld samples but %s holds %lld", dir, px,
                     (long long)((*x)->rank ? (*x)->dims[0] : 0), py,
                     (long long)((*y)->rank ? (*y)->dims[0] : 0));
  if (st) {
    aicc_tensor_release(*x);
    aicc_tensor_release(*y);
    *x = *y = NULL;
  }
  return st;
}

typedef struct batch {
  aicc_tensor *x, *y;
  aicc_status st;
} batch;

struct aicc_loader {
  aicc_tensor *x, *y;
  aicc_loader_options opt;
  int64_t n, *order, cursor; /* cursor: index of the next batch to hand out */
  /* Prefetch: the worker fills `slot` for batch `want` when `want` >= 0. */
  pthread_t thread;
  bool has_thread, stop, busy; /* busy: the worker is reading order */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t want, ready_index; /* batch index requested / held in slot (-1: none) */
  batch slot;
};

static aicc_status slice_rows(const aicc_tensor *t, const int64_t *rows, int64_t b,
                              aicc_tensor **out) {
  int64_t dims[AICC_MAX_RANK];
  memcpy(dims, t->dims, sizeof dims);
  dims[0] = b;
  AICC_TRY(aicc_tensor_create(t->dtype, t->rank, dims, out));
  size_t row = t->dims[0] ? t->nbytes / (size_t)t->dims[0] : 0;
  for (int64_t i = 0; i < b; i++)
    memcpy((char *)(*out)->data + (size_t)i * row, (const char *)t->data + (size_t)rows[i] * row,
           row);
  return NULL;
}

static batch make_batch(aicc_loader *l, int64_t k) {
  batch r = {0};
  int64_t start = k * l->opt.batch, b = l->n - start;
  if (b > l->opt.batch) b = l->opt.batch;
  r.st = slice_rows(l->x, l->order + start, b, &r.x);
  if (!r.st) r.st = slice_rows(l->y, l->order + start, b, &r.y);
  if (r.st) {
    aicc_tensor_release(r.x);
    aicc_tensor_release(r.y);
    r.x = r.y = NULL;
  }
  return r;
}

static void *worker(void *arg) {
  aicc_loader *l = arg;
  pthread_mutex_lock(&l->mu);
  for (;;) {
    while (!l->stop && (l->want < 0 || l->ready_index == l->want)) pthread_cond_wait(&l->cv, &l->mu);
    if (l->stop) break;
    int64_t k = l->want;
    l->busy = true;
    pthread_mutex_unlock(&l->mu);
    batch b = make_batch(l, k);
    pthread_mutex_lock(&l->mu);
    l->busy = false;
    if (l->want == k) {
      l->slot = b;
      l->ready_index = k;
      pthread_cond_broadcast(&l->cv);
    } else { /* the epoch was restarted meanwhile */
      aicc_tensor_release(b.x);
      aicc_tensor_release(b.y);
      aicc_status_free(b.st);
      pthread_cond_broadcast(&l->cv); /* wakes an epoch waiting for !busy */
    }
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

aicc_status aicc_loader_create(aicc_tensor *x, aicc_tensor *y, const aicc_loader_options *opt,
                               aicc_loader **out) {
  *out = NULL;
  if (!x || !y || x->kind != AICC_KIND_TENSOR || y->kind != AICC_KIND_TENSOR || x->rank < 1 ||
      y->rank < 1 || x->dims[0] != y->dims[0])
    return aicc_errorf(AICC_ERR_SHAPE, "data: inputs and labels need the same number of samples");
  if (opt->batch < 1) return aicc_errorf(AICC_ERR_INVALID, "data: batch size must be >= 1");
  if (x->dtype == AICC_DTYPE_STRING || y->dtype == AICC_DTYPE_STRING)
    return aicc_errorf(AICC_ERR_UNSUPPORTED, "data: string samples are not supported");
  aicc_loader *l = calloc(1, sizeof *l);
  if (!l) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  l->x = aicc_tensor_retain(x);
  l->y = aicc_tensor_retain(y);
  l->opt = *opt;
  l->n = x->dims[0];
  l->order = malloc((size_t)(l->n ? l->n : 1) * sizeof *l->order);
  l->want = l->ready_index = -1;
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  if (!l->order) {
    aicc_loader_destroy(l);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  for (int64_t i = 0; i < l->n; i++) l->order[i] = i;
  if (opt->prefetch) {
    if (pthread_create(&l->thread, NULL, worker, l) != 0) {
      aicc_loader_destroy(l);
      return aicc_errorf(AICC_ERR_INTERNAL, "data: could not start the prefetch thread");
    }
    l->has_thread = true;
  }
  *out = l;
  return NULL;
}

static void drop_slot(aicc_loader *l) {
  aicc_tensor_release(l->slot.x);
  aicc_tensor_release(l->slot.y);
  aicc_status_free(l->slot.st);
  memset(&l->slot, 0, sizeof l->slot);
  l->ready_index = -1;
}

void aicc_loader_destroy(aicc_loader *l) {
  if (!l) return;
  if (l->has_thread) {
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
  }
  drop_slot(l);
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cv);
  aicc_tensor_release(l->x);
  aicc_tensor_release(l->y);
  free(l->order);
  free(l);
}

int64_t aicc_loader_batches(const aicc_loader *l) {
  int64_t b = l->opt.batch;
  return l->opt.drop_last ? l->n / b : (l->n + b - 1) / b;
}

const int64_t *aicc_loader_order(const aicc_loader *l, int64_t *n) {
  *n = l->n;
  return l->order;
}

static void request(aicc_loader *l, int64_t k) {
  if (!l->has_thread) return;
  pthread_mutex_lock(&l->mu);
  if (l->ready_index != k) drop_slot(l);
  l->want = k < aicc_loader_batches(l) ? k : -1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
}

aicc_status aicc_loader_epoch(aicc_loader *l, int64_t e) {
  if (l->has_thread) { /* park the worker before touching the order */
    pthread_mutex_lock(&l->mu);
    l->want = -1;
    while (l->busy) pthread_cond_wait(&l->cv, &l->mu);
    drop_slot(l);
    pthread_mutex_unlock(&l->mu);
  }
  for (int64_t i = 0; i < l->n; i++) l->order[i] = i;
  if (l->opt.shuffle && l->n > 1) {
    aicc_rng r;
    aicc_rng_seed(&r, l->opt.seed ^ ((uint64_t)e * 0xd1342543de82ef95ull));
    for (int64_t i = l->n - 1; i > 0; i--) {
      int64_t j = (int64_t)aicc_rng_below(&r, (uint64_t)i + 1);
      int64_t t = l->order[i];
      l->order[i] = l->order[j];
      l->order[j] = t;
    }
  }
  l->cursor = 0;
  request(l, 0);
  return NULL;
}

aicc_status aicc_loader_next(aicc_loader *l, aicc_tensor **bx, aicc_tensor **by) {
  *bx = *by = NULL;
  int64_t k = l->cursor;
  if (k >= aicc_loader_batches(l)) return NULL;
  batch b;
  if (l->has_thread) {
    pthread_mutex_lock(&l->mu);
    if (l->want != k) { /* not requested (epoch not started): ask now */
      drop_slot(l);
      l->want = k;
      pthread_cond_broadcast(&l->cv);
    }
    while (l->ready_index != k) pthread_cond_wait(&l->cv, &l->mu);
    b = l->slot;
    memset(&l->slot, 0, sizeof l->slot);
    l->ready_index = -1;
    l->want = k + 1 < aicc_loader_batches(l) ? k + 1 : -1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
  } else {
    b = make_batch(l, k);
  }
  l->cursor = k + 1;
  if (b.st) return b.st;
  *bx = b.x;
  *by = b.y;
  return NULL;
}
