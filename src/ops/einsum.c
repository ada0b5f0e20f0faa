/* Einsum: the general Einstein summation over any number of operands, with
 * explicit or implicit output, ellipsis broadcasting and repeated labels
 * (diagonals). Split from linalg.c by concept. The kernel is one odometer
 * over every label (output labels first, summed labels inner), so any
 * equation works; it is the reference, not the fast path. */
#include "ops/util.h"

#include <stdlib.h>
#include <string.h>

enum { N_LETTERS = 52, MAX_LABELS = N_LETTERS + AICC_MAX_RANK };

/* A parsed equation. Labels: 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51 (ASCII
 * order, which implicit output uses), ellipsis dim k -> 52 + k. */
typedef struct ein {
  int n;                          /* operands */
  int ell_rank;                   /* dims the ellipsis stands for (broadcast) */
  int *op_rank;                   /* n entries */
  int (*op_lab)[AICC_MAX_RANK];   /* label of each dim of each operand */
  int out_rank;
  int out_lab[MAX_LABELS];
  bool used[MAX_LABELS];
} ein;

static void ein_free(ein *e) {
  free(e->op_rank);
  free(e->op_lab);
}

static int letter_id(char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return 26 + ch - 'a';
  return -1;
}

/* Parses one term "ab...c" into labels for an operand of `rank` dims (rank
 * -1: the output, whose ellipsis expands to ell_rank dims). */
static aicc_status parse_term(const char *s, size_t len, int rank, int ell_rank, int *labels,
                              int *n_out, int *ell_dims) {
  int letters = 0;
  bool ell = false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (ell || i + 2 >= len + 0 || s[i + 1] != '.' || s[i + 2] != '.')
        return aicc_errorf(AICC_ERR_INVALID, "einsum: malformed ellipsis");
      ell = true;
      i += 2;
    } else if (letter_id(s[i]) >= 0) {
      letters++;
    } else {
      return aicc_errorf(AICC_ERR_INVALID, "einsum: bad character '%c'", s[i]);
    }
  }
  int e = 0;
  if (rank >= 0) {
    e = rank - letters;
    if (e < 0 || (!ell && e != 0))
      return aicc_errorf(AICC_ERR_INVALID, "einsum: term '%.*s' does not match rank %d",
                         (int)len, s, rank);
  } else {
    e = ell ? ell_rank : 0;
  }
  if (letters + e > AICC_MAX_RANK)
    return aicc_errorf(AICC_ERR_INVALID, "einsum: term has too many dims");
  int k = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '.') {
      /* A short ellipsis aligns right against the broadcast ellipsis dims. */
      for (int j = 0; j < e; j++) labels[k++] = N_LETTERS + (rank >= 0 ? ell_rank - e : 0) + j;
      i += 2;
    } else {
      labels[k++] = letter_id(s[i]);
    }
  }
  *n_out = k;
  if (ell_dims) *ell_dims = e;
  return NULL;
}

static aicc_status ein_parse(const char *eq_in, int n, const int *ranks, ein *e) {
  memset(e, 0, sizeof *e);
  size_t L = strlen(eq_in);
  char *eq = malloc(L + 1);
  e->op_rank = calloc((size_t)(n > 0 ? n : 1), sizeof(int));
  e->op_lab = calloc((size_t)(n > 0 ? n : 1), sizeof *e->op_lab);
  if (!eq || !e->op_rank || !e->op_lab) {
    free(eq);
    ein_free(e);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  size_t m = 0;
  for (size_t i = 0; i < L; i++)
    if (eq_in[i] != ' ') eq[m++] = eq_in[i];
  eq[m] = 0;
  e->n = n;
  aicc_status s = NULL;
  const char *arrow = strstr(eq, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - eq) : m;
  /* First pass: the ellipsis rank is the largest any operand uses. */
  int terms = 0;
  size_t start = 0;
  for (size_t i = 0; i <= lhs_len; i++) {
    if (i < lhs_len && eq[i] != ',') continue;
    if (terms >= n) {
      s = aicc_errorf(AICC_ERR_INVALID, "einsum: more terms than the %d inputs", n);
      goto done;
    }
    int lab[AICC_MAX_RANK], k, ed;
    s = parse_term(eq + start, i - start, ranks[terms], 0, lab, &k, &ed);
    if (s) goto done;
    if (ed > e->ell_rank) e->ell_rank = ed;
    terms++;
    start = i + 1;
  }
  if (terms != n) {
    s = aicc_errorf(AICC_ERR_INVALID, "einsum: %d terms for %d inputs", terms, n);
    goto done;
  }
  int count[MAX_LABELS] = {0};
  terms = 0;
  start = 0;
  for (size_t i = 0; i <= lhs_len; i++) {
    if (i < lhs_len && eq[i] != ',') continue;
    int k;
    s = parse_term(eq + start, i - start, ranks[terms], e->ell_rank, e->op_lab[terms], &k, NULL);
    if (s) goto done;
    e->op_rank[terms] = k;
    for (int j = 0; j < k; j++) {
      count[e->op_lab[terms][j]]++;
      e->used[e->op_lab[terms][j]] = true;
    }
    terms++;
    start = i + 1;
  }
  if (arrow) {
    const char *rhs = arrow + 2;
    s = parse_term(rhs, strlen(rhs), -1, e->ell_rank, e->out_lab, &e->out_rank, NULL);
    if (s) goto done;
    for (int j = 0; j < e->out_rank; j++) {
      for (int q = 0; q < j; q++)
        if (e->out_lab[q] == e->out_lab[j]) {
          s = aicc_errorf(AICC_ERR_INVALID, "einsum: output label repeated");
          goto done;
        }
      if (!e->used[e->out_lab[j]] && e->out_lab[j] < N_LETTERS) {
        s = aicc_errorf(AICC_ERR_INVALID, "einsum: output label not in any input");
        goto done;
      }
      e->used[e->out_lab[j]] = true;
    }
  } else {
    /* Implicit: ellipsis dims first, then labels seen once, in ASCII order. */
    for (int j = 0; j < e->ell_rank; j++) e->out_lab[e->out_rank++] = N_LETTERS + j;
    for (int l = 0; l < N_LETTERS; l++)
      if (count[l] == 1) e->out_lab[e->out_rank++] = l;
  }
  if (e->out_rank > AICC_MAX_RANK)
    s = aicc_errorf(AICC_ERR_INVALID, "einsum: output has too many dims");
done:
  free(eq);
  if (s) ein_free(e);
  return s;
}

static aicc_status einsum_infer(aicc_infer_ctx *c) {
  aicc_dtype dt = c->n_in > 0 && c->in[0] ? c->in[0]->dtype : AICC_DTYPE_UNDEFINED;
  for (int i = 0; i < c->n_in; i++)
    if (!aicc_infer_has_rank(c, i)) {
      aicc_infer_set(c, 0, dt, -1, NULL);
      return NULL;
    }
  int ranks[64];
  if (c->n_in > 64) {
    aicc_infer_set(c, 0, dt, -1, NULL);
    return NULL;
  }
  for (int i = 0; i < c->n_in; i++) ranks[i] = c->in[i]->rank;
  ein e;
  aicc_status s = ein_parse(aicc_node_attr_string(c->node, "equation", ""), c->n_in, ranks, &e);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  aicc_dim size[MAX_LABELS];
  for (int l = 0; l < MAX_LABELS; l++) size[l] = aicc_dim_known(1);
  for (int i = 0; i < e.n; i++)
    for (int j = 0; j < e.op_rank[i]; j++) {
      aicc_dim d = c->in[i]->dims[j], *cur = &size[e.op_lab[i][j]];
      if (aicc_dim_is_known(d) && d.size == 1) continue;
      if (aicc_dim_is_known(*cur) && cur->size == 1) *cur = d;
      else if (aicc_dim_is_known(d) && aicc_dim_is_known(*cur) && d.size != cur->size) {
        ein_free(&e);
        return aicc_infer_error(c, AICC_ERR_SHAPE, "einsum: label sizes differ (%lld vs %lld)",
                                (long long)cur->size, (long long)d.size);
      } else if (aicc_dim_is_known(d)) *cur = d;
    }
  aicc_dim out[AICC_MAX_RANK];
  for (int j = 0; j < e.out_rank; j++) out[j] = size[e.out_lab[j]];
  aicc_infer_set(c, 0, dt, e.out_rank, out);
  ein_free(&e);
  return NULL;
}

static aicc_status einsum_kernel(aicc_kernel_ctx *c) {
  int n = c->n_in;
  if (n < 1 || n > 64) return aicc_kernel_error(c, AICC_ERR_INVALID, "einsum needs 1..64 inputs");
  aicc_dtype dt = c->in[0]->dtype;
  bool isf = aicc_dtype_is_float(dt);
  if (!isf && !aicc_dtype_is_int(dt))
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "einsum of %s", aicc_dtype_text(dt));
  int ranks[64];
  for (int i = 0; i < n; i++) {
    if (!c->in[i] || c->in[i]->dtype != dt)
      return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "einsum inputs must share one dtype");
    ranks[i] = c->in[i]->rank;
  }
  ein e;
  aicc_status s = ein_parse(aicc_node_attr_string(c->node, "equation", ""), n, ranks, &e);
  if (s) {
    char buf[256];
    return aicc_status_wrap(s, "%s", aicc_node_describe(c->node, buf, sizeof buf));
  }
  int64_t size[MAX_LABELS];
  for (int l = 0; l < MAX_LABELS; l++) size[l] = 1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < e.op_rank[i]; j++) {
      int64_t d = c->in[i]->dims[j], *cur = &size[e.op_lab[i][j]];
      if (d == 1) continue;
      if (*cur != 1 && *cur != d) {
        ein_free(&e);
        return aicc_kernel_error(c, AICC_ERR_SHAPE, "einsum: label sizes differ (%lld vs %lld)",
                                 (long long)*cur, (long long)d);
      }
      *cur = d;
    }
  /* Loop labels: output labels, then every other used label (summed). */
  int loop[MAX_LABELS], nl = 0;
  bool in_out[MAX_LABELS] = {false};
  for (int j = 0; j < e.out_rank; j++) {
    loop[nl++] = e.out_lab[j];
    in_out[e.out_lab[j]] = true;
  }
  for (int l = 0; l < MAX_LABELS; l++)
    if (e.used[l] && !in_out[l]) loop[nl++] = l;
  int64_t odims[AICC_MAX_RANK];
  for (int j = 0; j < e.out_rank; j++) odims[j] = size[e.out_lab[j]];
  aicc_tensor *Y;
  s = aicc_kernel_output(c, 0, dt, e.out_rank, odims, &Y);
  if (s) {
    ein_free(&e);
    return s;
  }
  int64_t on = aicc_tensor_numel(Y);
  int64_t total = 1;
  for (int k = 0; k < nl; k++) total *= size[loop[k]];
  /* Per operand and loop label: the element stride (summed over repeated
   * labels, which walks the diagonal; 0 where the dim broadcasts). */
  int64_t (*st)[MAX_LABELS] = calloc((size_t)n + 1, sizeof *st);
  double **vf = calloc((size_t)n, sizeof *vf);
  int64_t **vi = calloc((size_t)n, sizeof *vi);
  double *accf = isf ? calloc((size_t)(on > 0 ? on : 1), sizeof(double)) : NULL;
  int64_t *acci = isf ? NULL : calloc((size_t)(on > 0 ? on : 1), sizeof(int64_t));
  if (!st || !vf || !vi || (isf ? !accf : !acci)) {
    s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (int i = 0; i < n; i++) {
    const aicc_tensor *t = c->in[i];
    int64_t str[AICC_MAX_RANK], cnt = aicc_tensor_numel(t);
    aicc_strides(t->dims, t->rank, str);
    for (int j = 0; j < t->rank; j++) {
      if (t->dims[j] == 1) continue;
      for (int k = 0; k < nl; k++)
        if (loop[k] == e.op_lab[i][j]) st[i][k] += str[j];
    }
    if (isf) vf[i] = malloc(sizeof(double) * (size_t)(cnt > 0 ? cnt : 1));
    else vi[i] = malloc(sizeof(int64_t) * (size_t)(cnt > 0 ? cnt : 1));
    if (isf ? !vf[i] : !vi[i]) {
      s = aicc_kernel_error(c, AICC_ERR_NOMEM, "out of memory");
      goto done;
    }
    for (int64_t q = 0; q < cnt; q++) {
      if (isf) vf[i][q] = aicc_tensor_get_f64(t, q);
      else vi[i][q] = aicc_tensor_get_i64(t, q);
    }
  }
  /* The output's own strides ride in slot n. */
  {
    int64_t ostr[AICC_MAX_RANK];
    aicc_strides(odims, e.out_rank, ostr);
    for (int j = 0; j < e.out_rank; j++) st[n][j] = ostr[j];
  }
  if (total > 0) {
    int64_t idx[MAX_LABELS] = {0}, off[65] = {0};
    int64_t inner = nl > 0 ? size[loop[nl - 1]] : 1;
    for (int64_t q = 0; q < total; q += inner) {
      for (int64_t j = 0; j < inner; j++) {
        if (isf) {
          double p = 1.0;
          for (int i = 0; i < n; i++) p *= vf[i][off[i] + (nl ? j * st[i][nl - 1] : 0)];
          accf[off[n] + (nl ? j * st[n][nl - 1] : 0)] += p;
        } else {
          uint64_t p = 1;
          for (int i = 0; i < n; i++) p *= (uint64_t)vi[i][off[i] + (nl ? j * st[i][nl - 1] : 0)];
          acci[off[n] + (nl ? j * st[n][nl - 1] : 0)] += (int64_t)p;
        }
      }
      for (int k = nl - 2; k >= 0; k--) {
        for (int i = 0; i <= n; i++) off[i] += st[i][k];
        if (++idx[k] < size[loop[k]]) break;
        for (int i = 0; i <= n; i++) off[i] -= st[i][k] * size[loop[k]];
        idx[k] = 0;
      }
    }
  }
  for (int64_t q = 0; q < on; q++) {
    if (isf) aicc_tensor_set_f64(Y, q, accf[q]);
    else aicc_tensor_set_i64(Y, q, acci[q]);
  }
done:
  for (int i = 0; i < n; i++) {
    if (vf) free(vf[i]);
    if (vi) free(vi[i]);
  }
  free(vf); free(vi); free(st); free(accf); free(acci);
  ein_free(&e);
  return s;
}

static const aicc_attr_spec einsum_attrs[] = {{"equation", AICC_ATTR_STRING, true}, AICC_A_END};

static const aicc_op ops[] = {
    /* name, domain, since, until, min_in, max_in, min_out, max_out, attrs, infer, kernel */
    {"Einsum", "", 12, 0, 1, AICC_VARIADIC, 1, 1, einsum_attrs, einsum_infer, einsum_kernel},
};

const aicc_op_family aicc_family_einsum = {"einsum", ops, sizeof ops / sizeof ops[0]};
