/* Text featurization: TfIdfVectorizer. Counts, per row, the n-grams of the
 * pool (grouped by length, ngram_counts[i] = start of the (i+1)-grams) that
 * occur with each skip distance, then weights them (TF, IDF, TFIDF). */
#include "ops/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct tfidf {
  const aicc_node *node;
  const int64_t *counts, *indexes, *ints;
  const aicc_attr *strs;
  int64_t n_counts, n_indexes, pool_n, out_size;
  int64_t min_n, max_n, max_skip;
} tfidf;

static aicc_status tfidf_get(const aicc_node *nd, tfidf *t) {
  memset(t, 0, sizeof *t);
  t->node = nd;
  t->counts = aicc_node_attr_ints(nd, "ngram_counts", &t->n_counts);
  t->indexes = aicc_node_attr_ints(nd, "ngram_indexes", &t->n_indexes);
  t->ints = aicc_node_attr_ints(nd, "pool_int64s", &t->pool_n);
  t->strs = aicc_node_attr(nd, "pool_strings");
  if (!t->ints && t->strs) t->pool_n = t->strs->n;
  t->min_n = aicc_node_attr_int(nd, "min_gram_length", 1);
  t->max_n = aicc_node_attr_int(nd, "max_gram_length", 1);
  t->max_skip = aicc_node_attr_int(nd, "max_skip_count", 0);
  if (!t->counts || !t->indexes || (!t->ints && !t->strs) || t->min_n < 1 || t->max_n < t->min_n ||
      t->max_skip < 0)
    return aicc_errorf(AICC_ERR_INVALID, "TfIdfVectorizer: inconsistent attributes");
  for (int64_t i = 0; i < t->n_indexes; i++) {
    if (t->indexes[i] < 0) return aicc_errorf(AICC_ERR_INVALID, "negative ngram index");
    if (t->indexes[i] + 1 > t->out_size) t->out_size = t->indexes[i] + 1;
  }
  for (int64_t i = 0; i < t->n_counts; i++)
    if (t->counts[i] < 0 || t->counts[i] > t->pool_n || (i && t->counts[i] < t->counts[i - 1]))
      return aicc_errorf(AICC_ERR_INVALID, "ngram_counts out of range");
  return NULL;
}

static bool item_eq(const tfidf *t, int64_t pool_i, const aicc_tensor *x, int64_t xi) {
  if (t->ints) return x->dtype != AICC_DTYPE_STRING && t->ints[pool_i] == aicc_tensor_get_i64(x, xi);
  if (x->dtype != AICC_DTYPE_STRING) return false;
  const aicc_bytes *b = &t->strs->ss[pool_i];
  return b->len == x->strlens[xi] && memcmp(b->s, ((char *const *)x->data)[xi], b->len) == 0;
}

/* Id of the n-gram x[at], x[at+skip], ... (n items) in the pool, or -1. */
static int64_t find_gram(const tfidf *t, const aicc_tensor *x, int64_t at, int64_t skip, int64_t n) {
  if (n > t->n_counts) return -1;
  int64_t id = 0;
  for (int64_t len = 1; len < n; len++) {
    int64_t end = len < t->n_counts ? t->counts[len] : t->pool_n;
    id += (end - t->counts[len - 1]) / len;
  }
  int64_t start = t->counts[n - 1], end = n < t->n_counts ? t->counts[n] : t->pool_n;
  for (int64_t g = start; g + n <= end; g += n, id++) {
    bool eq = true;
    for (int64_t k = 0; k < n && eq; k++) eq = item_eq(t, g + k, x, at + k * skip);
    if (eq) return id;
  }
  return -1;
}

static aicc_status tfidf_infer(aicc_infer_ctx *c) {
  tfidf t;
  aicc_status s = tfidf_get(c->node, &t);
  if (s) return s;
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  aicc_dim d[2] = {c->in[0]->dims[0], aicc_dim_known(t.out_size)};
  if (c->in[0]->rank <= 1) aicc_infer_set(c, 0, AICC_DTYPE_F32, 1, &d[1]);
  else aicc_infer_set(c, 0, AICC_DTYPE_F32, 2, d);
  return NULL;
}

static aicc_status tfidf_kernel(aicc_kernel_ctx *c) {
  tfidf t;
  aicc_status s = tfidf_get(c->node, &t);
  if (s) return aicc_kernel_error(c, AICC_ERR_INVALID, "%s", aicc_status_message(s));
  const aicc_tensor *x = c->in[0];
  if (x->rank > 2) return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be [C] or [B, C]");
  int64_t rows = x->rank == 2 ? x->dims[0] : 1, C = x->rank ? x->dims[x->rank - 1] : 1;
  const char *mode = aicc_node_attr_string(c->node, "mode", "TF");
  int64_t nw;
  const float *w = aicc_node_attr_floats(c->node, "weights", &nw);
  int m = strcmp(mode, "TF") == 0 ? 1 : strcmp(mode, "IDF") == 0 ? 2 : strcmp(mode, "TFIDF") == 0 ? 3 : 0;
  if (!m) return aicc_kernel_error(c, AICC_ERR_INVALID, "mode '%s' is not TF, IDF or TFIDF", mode);
  aicc_tensor *y;
  int64_t od[2] = {rows, t.out_size};
  if (x->rank == 2) AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_F32, 2, od, &y));
  else AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_F32, 1, &t.out_size, &y));
  float *out = y->data;
  for (int64_t r = 0; r < rows; r++) {
    int64_t min_n = t.min_n;
    for (int64_t skip = 1; skip <= t.max_skip + 1; skip++) {
      for (int64_t st = 0; st < C; st++)
        for (int64_t n = min_n; n <= t.max_n && st + (n - 1) * skip < C; n++) {
          int64_t id = find_gram(&t, x, r * C + st, skip, n);
          if (id >= 0 && id < t.n_indexes) out[r * t.out_size + t.indexes[id]] += 1;
        }
      if (min_n == 1) min_n = 2; /* unigrams do not depend on the skip: count once */
      if (min_n > t.max_n) break;
    }
  }
  for (int64_t i = 0, n = rows * t.out_size; i < n; i++) {
    float f = out[i], wi = w && i % t.out_size < nw ? w[i % t.out_size] : 1.0f;
    if (m == 2) out[i] = f > 0 ? (w ? wi : 1.0f) : 0.0f;
    else if (m == 3) out[i] = w ? wi * f : f;
  }
  return NULL;
}

static const aicc_attr_spec tfidf_attrs[] = {
    AICC_A_INT("max_gram_length"), AICC_A_INT("max_skip_count"), AICC_A_INT("min_gram_length"),
    AICC_A_STRING("mode"), AICC_A_INTS("ngram_counts"), AICC_A_INTS("ngram_indexes"),
    AICC_A_INTS("pool_int64s"), AICC_A_STRINGS("pool_strings"), AICC_A_FLOATS("weights"), AICC_A_END};

static const aicc_op ops[] = {
    {"TfIdfVectorizer", "", 9, 0, 1, 1, 1, 1, tfidf_attrs, tfidf_infer, tfidf_kernel},
};

const aicc_op_family aicc_family_text = {"text", ops, sizeof ops / sizeof ops[0]};
