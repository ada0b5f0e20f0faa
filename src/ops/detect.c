/* Detection post-processing: NonMaxSuppression. Greedy per (batch, class):
 * take boxes by descending score (ties: lower index first), drop any whose
 * IoU with an already selected box exceeds the threshold. */
#include "ops/util.h"

#include <math.h>
#include <stdlib.h>

typedef struct scored {
  double score;
  int64_t idx;
} scored;

static int by_score_desc(const void *a, const void *b) {
  const scored *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Box corners as [xmin, ymin, xmax, ymax] from either encoding. */
static void corners(const aicc_tensor *boxes, int64_t off, bool center, double c[4]) {
  double v[4];
  for (int k = 0; k < 4; k++) v[k] = aicc_tensor_get_f64(boxes, off + k);
  if (center) {
    c[0] = v[0] - v[2] / 2;
    c[2] = v[0] + v[2] / 2;
    c[1] = v[1] - v[3] / 2;
    c[3] = v[1] + v[3] / 2;
  } else { /* [y1, x1, y2, x2], corners in any order */
    c[0] = fmin(v[1], v[3]);
    c[2] = fmax(v[1], v[3]);
    c[1] = fmin(v[0], v[2]);
    c[3] = fmax(v[0], v[2]);
  }
}

static bool suppresses(const double a[4], const double b[4], double iou_threshold) {
  double ix = fmin(a[2], b[2]) - fmax(a[0], b[0]);
  double iy = fmin(a[3], b[3]) - fmax(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return false;
  double inter = ix * iy;
  double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
  double uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

static aicc_status nms_infer(aicc_infer_ctx *c) {
  aicc_dim d[2] = {aicc_dim_unknown(), aicc_dim_known(3)};
  aicc_infer_set(c, 0, AICC_DTYPE_I64, 2, d);
  return NULL;
}

static const aicc_tensor *opt_in(const aicc_kernel_ctx *c, int i) {
  return i < c->n_in && c->in[i] && aicc_tensor_numel(c->in[i]) > 0 ? c->in[i] : NULL;
}

static aicc_status nms_kernel(aicc_kernel_ctx *c) {
  const aicc_tensor *boxes = c->in[0], *scores = c->in[1];
  if (boxes->rank != 3 || boxes->dims[2] != 4 || scores->rank != 3 ||
      scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "boxes must be [B, N, 4] and scores [B, C, N]");
  int64_t B = boxes->dims[0], N = boxes->dims[1], C = scores->dims[1];
  const aicc_tensor *mt = opt_in(c, 2), *it = opt_in(c, 3), *st = opt_in(c, 4);
  int64_t max_out = mt ? aicc_tensor_get_i64(mt, 0) : 0;
  if (max_out < 0) max_out = 0;
  double iou = it ? aicc_tensor_get_f64(it, 0) : 0;
  bool center = aicc_node_attr_int(c->node, "center_point_box", 0) != 0;
  scored *cand = malloc(sizeof *cand * (size_t)(N ? N : 1));
  int64_t *sel = malloc(sizeof *sel * (size_t)(N ? N : 1));
  int64_t (*out)[3] = NULL;
  int64_t n_out = 0, cap = 0;
  aicc_status s = cand && sel ? NULL : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t b = 0; b < B && !s; b++)
    for (int64_t k = 0; k < C && !s; k++) {
      int64_t nc = 0, ns = 0;
      for (int64_t i = 0; i < N; i++) {
        double sc = aicc_tensor_get_f64(scores, (b * C + k) * N + i);
        if (!st || sc > aicc_tensor_get_f64(st, 0)) cand[nc++] = (scored){sc, i};
      }
      qsort(cand, (size_t)nc, sizeof *cand, by_score_desc);
      for (int64_t j = 0; j < nc && ns < max_out; j++) {
        double a[4], o[4];
        corners(boxes, (b * N + cand[j].idx) * 4, center, a);
        bool keep = true;
        for (int64_t q = 0; q < ns && keep; q++) {
          corners(boxes, (b * N + sel[q]) * 4, center, o);
          keep = !suppresses(a, o, iou);
        }
        if (!keep) continue;
        sel[ns++] = cand[j].idx;
        if (n_out == cap) {
          cap = cap ? cap * 2 : 64;
          void *p = realloc(out, sizeof *out * (size_t)cap);
          if (!p) {
            s = aicc_errorf(AICC_ERR_NOMEM, "out of memory");
            break;
          }
          out = p;
        }
        out[n_out][0] = b;
        out[n_out][1] = k;
        out[n_out][2] = cand[j].idx;
        n_out++;
      }
    }
  aicc_tensor *y;
  int64_t od[2] = {n_out, 3};
  if (!s) s = aicc_kernel_output(c, 0, AICC_DTYPE_I64, 2, od, &y);
  for (int64_t i = 0; !s && i < n_out * 3; i++) ((int64_t *)y->data)[i] = out[i / 3][i % 3];
  free(cand);
  free(sel);
  free(out);
  return s;
}

static const aicc_attr_spec nms_attrs[] = {AICC_A_INT("center_point_box"), AICC_A_END};

static const aicc_op ops[] = {
    {"NonMaxSuppression", "", 10, 0, 2, 5, 1, 1, nms_attrs, nms_infer, nms_kernel},
};

const aicc_op_family aicc_family_detect = {"detect", ops, sizeof ops / sizeof ops[0]};
