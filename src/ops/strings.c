/* String ops: StringConcat, StringSplit, RegexFullMatch (through PCRE2, a
 * maintained regex library accepting the RE2 constructs ONNX uses) and
 * StringNormalizer. Strings are bytes (UTF-8); case changes touch ASCII. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ops/util.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static const char *str_at(const aicc_tensor *t, int64_t i) { return ((char *const *)t->data)[i]; }

static aicc_status require_strings(aicc_kernel_ctx *c, int i) {
  if (c->in[i]->kind != AICC_KIND_TENSOR || c->in[i]->dtype != AICC_DTYPE_STRING)
    return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "input %d must be a string tensor", i);
  return NULL;
}

/* --- StringConcat (broadcasting) --- */

static aicc_status concat_infer(aicc_infer_ctx *c) {
  return aicc_infer_broadcast_as(c, AICC_DTYPE_STRING);
}

static aicc_status concat_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(require_strings(c, 0));
  AICC_TRY(require_strings(c, 1));
  const aicc_tensor *a = c->in[0], *b = c->in[1];
  const int64_t *dims[2] = {a->dims, b->dims};
  int ranks[2] = {a->rank, b->rank}, r;
  int64_t od[AICC_MAX_RANK];
  aicc_status s = aicc_broadcast_dims(2, dims, ranks, od, &r);
  if (s) {
    aicc_status e = aicc_kernel_error(c, AICC_ERR_SHAPE, "%s", aicc_status_message(s));
    aicc_status_free(s);
    return e;
  }
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_STRING, r, od, &y));
  aicc_iter it;
  aicc_iter_init(&it, od, r);
  aicc_iter_add_bcast(&it, a->dims, a->rank);
  aicc_iter_add_bcast(&it, b->dims, b->rank);
  for (int64_t i = 0, n = aicc_tensor_numel(y); i < n; i++, aicc_iter_next(&it)) {
    size_t la = a->strlens[it.off[0]], lb = b->strlens[it.off[1]];
    char *buf = malloc(la + lb + 1);
    if (!buf) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    memcpy(buf, str_at(a, it.off[0]), la);
    memcpy(buf + la, str_at(b, it.off[1]), lb);
    s = aicc_tensor_set_string(y, i, buf, la + lb);
    free(buf);
    AICC_TRY(s);
  }
  return NULL;
}

/* --- StringSplit --- */

typedef struct piece {
  const char *p;
  size_t n;
} piece;

/* Splits s like Python's str.split(sep, maxsplit): with a separator,
 * consecutive separators give empty pieces; without one (sep_len 0), runs of
 * whitespace separate and leading/trailing whitespace is dropped (the
 * remainder after maxsplit keeps its trailing whitespace). Returns the
 * number of pieces, writing at most cap of them. */
static int64_t split_string(const char *s, size_t len, const char *sep, size_t sep_len,
                            int64_t maxsplit, piece *out, int64_t cap) {
  int64_t n = 0;
  size_t i = 0;
  if (sep_len) {
    size_t start = 0;
    while (i + sep_len <= len && (maxsplit < 0 || n < maxsplit)) {
      if (memcmp(s + i, sep, sep_len) == 0) {
        if (n < cap) out[n] = (piece){s + start, i - start};
        n++;
        i += sep_len;
        start = i;
      } else {
        i++;
      }
    }
    if (n < cap) out[n] = (piece){s + start, len - start};
    return n + 1;
  }
  while (i < len) {
    while (i < len && isspace((unsigned char)s[i])) i++;
    if (i == len) break;
    size_t start = i;
    if (maxsplit >= 0 && n == maxsplit) {
      if (n < cap) out[n] = (piece){s + start, len - start};
      return n + 1;
    }
    while (i < len && !isspace((unsigned char)s[i])) i++;
    if (n < cap) out[n] = (piece){s + start, i - start};
    n++;
  }
  return n;
}

static aicc_status split_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  const aicc_type *x = c->in[0];
  if (x->rank + 1 > AICC_MAX_RANK) return aicc_infer_error(c, AICC_ERR_UNSUPPORTED, "rank too large");
  aicc_dim d[AICC_MAX_RANK];
  memcpy(d, x->dims, sizeof(aicc_dim) * (size_t)x->rank);
  d[x->rank] = aicc_dim_unknown();
  aicc_infer_set(c, 0, AICC_DTYPE_STRING, x->rank + 1, d);
  aicc_infer_set(c, 1, AICC_DTYPE_I64, x->rank, x->dims);
  return NULL;
}

static aicc_status split_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(require_strings(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank + 1 > AICC_MAX_RANK) return aicc_kernel_error(c, AICC_ERR_UNSUPPORTED, "rank too large");
  const aicc_attr *da = aicc_node_attr(c->node, "delimiter");
  const char *sep = da ? da->s.s : "";
  size_t sep_len = da ? da->s.len : 0;
  int64_t maxsplit = aicc_node_attr_int(c->node, "maxsplit", -1);
  int64_t n = aicc_tensor_numel(x), widest = 0;
  aicc_tensor *z;
  AICC_TRY(aicc_kernel_output(c, 1, AICC_DTYPE_I64, x->rank, x->dims, &z));
  for (int64_t i = 0; i < n; i++) {
    int64_t k = split_string(str_at(x, i), x->strlens[i], sep, sep_len, maxsplit, NULL, 0);
    ((int64_t *)z->data)[i] = k;
    if (k > widest) widest = k;
  }
  int64_t od[AICC_MAX_RANK];
  memcpy(od, x->dims, sizeof(int64_t) * (size_t)x->rank);
  od[x->rank] = widest;
  aicc_tensor *y;
  AICC_TRY(aicc_kernel_output(c, 0, AICC_DTYPE_STRING, x->rank + 1, od, &y));
  piece *pcs = malloc(sizeof *pcs * (size_t)(widest ? widest : 1));
  if (!pcs) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_status s = NULL;
  for (int64_t i = 0; i < n && !s; i++) {
    int64_t k = split_string(str_at(x, i), x->strlens[i], sep, sep_len, maxsplit, pcs, widest);
    for (int64_t j = 0; j < k && !s; j++) s = aicc_tensor_set_string(y, i * widest + j, pcs[j].p, pcs[j].n);
  }
  free(pcs);
  return s;
}

/* --- RegexFullMatch --- */

static aicc_status regex_infer(aicc_infer_ctx *c) {
  if (!c->in[0]) return NULL;
  c->out[0] = *c->in[0];
  c->out[0].dtype = AICC_DTYPE_BOOL;
  return NULL;
}

static aicc_status regex_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(require_strings(c, 0));
  const aicc_attr *pa = aicc_node_attr(c->node, "pattern");
  if (!pa) return aicc_kernel_error(c, AICC_ERR_INVALID, "missing attribute 'pattern'");
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pa->s.s, pa->s.len, PCRE2_UTF, &err, &off, NULL);
  if (!re) {
    PCRE2_UCHAR msg[128];
    pcre2_get_error_message(err, msg, sizeof msg);
    return aicc_kernel_error(c, AICC_ERR_INVALID, "bad pattern at offset %zu: %s", (size_t)off,
                             (const char *)msg);
  }
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  const aicc_tensor *x = c->in[0];
  aicc_tensor *y;
  aicc_status s = md ? aicc_kernel_output(c, 0, AICC_DTYPE_BOOL, x->rank, x->dims, &y)
                     : aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0, n = s ? 0 : aicc_tensor_numel(x); i < n; i++) {
    int rc = pcre2_match(re, (PCRE2_SPTR)str_at(x, i), x->strlens[i], 0,
                         PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      s = aicc_kernel_error(c, AICC_ERR_INVALID, "matching element %lld failed (%d)",
                            (long long)i, rc);
      break;
    }
    ((uint8_t *)y->data)[i] = rc >= 0;
  }
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return s;
}

/* --- StringNormalizer --- */

static aicc_status normalizer_infer(aicc_infer_ctx *c) {
  if (!aicc_infer_has_rank(c, 0)) return NULL;
  aicc_dim d[2] = {c->in[0]->dims[0], aicc_dim_unknown()};
  if (c->in[0]->rank == 1) d[0] = aicc_dim_unknown();
  aicc_infer_set(c, 0, AICC_DTYPE_STRING, c->in[0]->rank, d);
  return NULL;
}

static bool same_ignoring_case(const char *a, size_t la, const char *b, size_t lb) {
  if (la != lb) return false;
  for (size_t i = 0; i < la; i++)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return false;
  return true;
}

static aicc_status normalizer_kernel(aicc_kernel_ctx *c) {
  AICC_TRY(require_strings(c, 0));
  const aicc_tensor *x = c->in[0];
  if (x->rank != 1 && !(x->rank == 2 && x->dims[0] == 1))
    return aicc_kernel_error(c, AICC_ERR_SHAPE, "input must be [C] or [1, C]");
  const char *action = aicc_node_attr_string(c->node, "case_change_action", "NONE");
  int change = strcmp(action, "LOWER") == 0 ? -1 : strcmp(action, "UPPER") == 0 ? 1 : 0;
  if (!change && strcmp(action, "NONE") != 0)
    return aicc_kernel_error(c, AICC_ERR_INVALID, "case_change_action '%s' is not LOWER, UPPER or NONE", action);
  bool sensitive = aicc_node_attr_int(c->node, "is_case_sensitive", 0) != 0;
  const aicc_attr *stops = aicc_node_attr(c->node, "stopwords");
  int64_t n = aicc_tensor_numel(x), kept = 0;
  bool *keep = calloc((size_t)(n ? n : 1), sizeof *keep);
  if (!keep) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  for (int64_t i = 0; i < n; i++) {
    keep[i] = true;
    for (int64_t k = 0; stops && k < stops->n && keep[i]; k++) {
      const aicc_bytes *w = &stops->ss[k];
      keep[i] = sensitive ? !(w->len == x->strlens[i] && memcmp(w->s, str_at(x, i), w->len) == 0)
                          : !same_ignoring_case(w->s, w->len, str_at(x, i), x->strlens[i]);
    }
    kept += keep[i];
  }
  int64_t od[2] = {1, kept ? kept : 1};
  if (x->rank == 1) od[0] = od[1];
  aicc_tensor *y;
  aicc_status s = aicc_kernel_output(c, 0, AICC_DTYPE_STRING, x->rank, od, &y);
  for (int64_t i = 0, j = 0; i < n && !s; i++) {
    if (!keep[i]) continue;
    s = aicc_tensor_set_string(y, j, str_at(x, i), x->strlens[i]);
    char *p = ((char **)y->data)[j++];
    for (size_t b = 0; !s && change && b < x->strlens[i]; b++)
      if ((unsigned char)p[b] < 128) p[b] = (char)(change > 0 ? toupper(p[b]) : tolower(p[b]));
  }
  free(keep);
  return s;
}

static const aicc_attr_spec split_attrs[] = {AICC_A_STRING("delimiter"), AICC_A_INT("maxsplit"),
                                             AICC_A_END};
static const aicc_attr_spec regex_attrs[] = {AICC_A_STRING("pattern"), AICC_A_END};
static const aicc_attr_spec normalizer_attrs[] = {
    AICC_A_STRING("case_change_action"), AICC_A_INT("is_case_sensitive"), AICC_A_STRING("locale"),
    AICC_A_STRINGS("stopwords"), AICC_A_END};

static const aicc_op ops[] = {
    {"StringConcat", "", 20, 0, 2, 2, 1, 1, NULL, concat_infer, concat_kernel},
    {"StringSplit", "", 20, 0, 1, 1, 2, 2, split_attrs, split_infer, split_kernel},
    {"RegexFullMatch", "", 20, 0, 1, 1, 1, 1, regex_attrs, regex_infer, regex_kernel},
    {"StringNormalizer", "", 10, 0, 1, 1, 1, 1, normalizer_attrs, normalizer_infer,
     normalizer_kernel},
};

const aicc_op_family aicc_family_strings = {"strings", ops, sizeof ops / sizeof ops[0]};
