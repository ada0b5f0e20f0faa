/* Unit tests for schedules (src/loop/schedule*.c): record text round trip,
 * kernel text round trip, a seeded randomized check that every schedule the
 * primitives accept computes what the unscheduled kernel computes (loop
 * interpreter on random inputs) on a few kernels (matmul, conv-like,
 * softmax-like, elementwise with broadcast, a stencil, a guarded max), that
 * every schedule they refuse is refused with a message naming the record,
 * and that the default schedule of each kernel is legal and correct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/compute.h"
#include "loop/schedule.h"
#include "loop/text.h"

static aicc_loop_kernel *parse_kernel(aicc_loop_ctx *ctx, const char *src) {
  size_t pos = 0;
  aicc_loop_kernel *k = NULL;
  aicc_status st = aicc_loop_kernel_parse(ctx, "t", src, strlen(src), &pos, &k);
  if (st) fail_msg("%s", aicc_status_message(st));
  return k;
}

static const char *const kernels[] = {
    "kernel mm(A: f32[6, 5], B: f32[5, 7], Bias: f32[7], C: f32[6, 7]) {\n"
    "  C[i0, i1] = sum(r0: 5) A[i0, r0]*B[r0, i1] then C[i0, i1] + Bias[i1] @gemm\n"
    "}\n",
    "kernel conv(X: f32[2, 3, 7, 6], W: f32[4, 3, 3, 2], Y: f32[2, 4, 5, 5]) {\n"
    "  Y[i0, i1, i2, i3] = sum(r0: 3, r1: 3, r2: 2) X[i0, r0, i2 + r1, i3 + r2]*W[i1, r0, r1, r2] @conv\n"
    "}\n",
    "kernel softmax(X: f32[5, 9], Y: f32[5, 9]) {\n"
    "  temp M: f32[5]\n"
    "  M[i0] = max(r0: 9) X[i0, r0] @reduction\n"
    "  temp E: f32[5, 9]\n"
    "  E[i0, i1] = exp(X[i0, i1] - M[i0]) @inlinable\n"
    "  temp S: f32[5]\n"
    "  S[i0] = sum(r0: 9) E[i0, r0] @reduction\n"
    "  Y[i0, i1] = E[i0, i1]/S[i0]\n"
    "}\n",
    "kernel bcast(A: f32[3, 4, 5], B: f32[4, 1], C: f32[3, 4, 5]) {\n"
    "  temp T: f32[3, 4, 5]\n"
    "  T[i0, i1, i2] = A[i0, i1, i2] + B[i1, 0] @inlinable\n"
    "  C[i0, i1, i2] = T[i0, i1, i2]*T[2 - i0, i1, 4 - i2] + A[i0, 0, i2]\n"
    "}\n",
    "kernel stencil(A: f32[9, 6], C: f32[8, 6]) {\n"
    "  temp T: f32[9, 6]\n"
    "  T[i0, i1] = A[i0, i1]*2.0 + 1.0\n"
    "  C[i0, i1] = T[i0, i1] + T[i0 + 1, i1]*T[i0, 5 - i1]\n"
    "}\n",
    "kernel guarded(A: f32[4, 9], C: f32[4]) {\n"
    "  C[i0] = max(r0: 9; init -1.0) A[i0, r0]*A[i0, r0] where r0%3 != 1 then C[i0]*2.0 @reduction\n"
    "}\n",
};
enum { N_KERNELS = sizeof kernels / sizeof kernels[0] };

/* ---- a model of each stage's loops, updated by accepted records ---- */

typedef struct mstage {
  char name[32];
  int n;
  char leaf[24][32];
  bool red[24];
  bool reduce, temp, inlined;
  int rank;
} mstage;

typedef struct model {
  int n;
  mstage st[8];
  char bufs[16][32];
  int brank[16];
  int nbufs;
  int fresh;
} model;

static void model_init(model *m, const aicc_loop_kernel *k) {
  memset(m, 0, sizeof *m);
  for (size_t i = 0; i < k->n_params; i++) {
    m->brank[m->nbufs] = k->params[i]->rank;
    snprintf(m->bufs[m->nbufs++], 32, "%s", k->params[i]->name);
  }
  for (size_t i = 0; i < k->n_stages; i++) {
    const aicc_loop_stage *s = k->stages[i];
    mstage *ms = &m->st[m->n++];
    snprintf(ms->name, sizeof ms->name, "%s", s->name);
    for (int a = 0; a < s->n_axes + s->n_raxes; a++) {
      const aicc_loop_axis *ax = a < s->n_axes ? &s->axes[a] : &s->raxes[a - s->n_axes];
      snprintf(ms->leaf[ms->n], 32, "%s", ax->var->v.name);
      ms->red[ms->n++] = a >= s->n_axes;
    }
    ms->reduce = s->reduce != AICC_LOOP_REDUCE_NONE;
    ms->temp = !aicc_loop_kernel_is_param(k, s->buf);
    ms->rank = s->n_axes;
    if (ms->temp) {
      m->brank[m->nbufs] = s->n_axes;
      snprintf(m->bufs[m->nbufs++], 32, "%s", s->name);
    }
  }
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int pick(uint64_t *s, int n) { return n > 0 ? (int)(rnd(s) % (uint64_t)n) : 0; }

static mstage *find(model *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->st[i].name, name)) return &m->st[i];
  return NULL;
}

static int leaf_index(const mstage *s, const char *n) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->leaf[i], n)) return i;
  return -1;
}

static void insert_stage(model *m, const char *before, const char *name, int rank) {
  int at = 0;
  while (at < m->n && strcmp(m->st[at].name, before)) at++;
  memmove(&m->st[at + 1], &m->st[at], (size_t)(m->n - at) * sizeof m->st[0]);
  m->n++;
  mstage *s = &m->st[at];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  for (int d = 0; d < rank; d++) snprintf(s->leaf[s->n++], 32, "i%d", d);
  s->temp = true;
  s->rank = rank;
  m->brank[m->nbufs] = rank;
  snprintf(m->bufs[m->nbufs++], 32, "%s", name);
}

/* Records the effect of an accepted step on the model. */
static void model_apply(model *m, const aicc_sched_step *r) {
  mstage *s = find(m, r->stage);
  int a, b;
  switch (r->kind) {
  case AICC_SCHED_SPLIT:
    a = leaf_index(s, r->names[0]);
    memmove(&s->leaf[a + 2], &s->leaf[a + 1], (size_t)(s->n - a - 1) * sizeof s->leaf[0]);
    memmove(&s->red[a + 2], &s->red[a + 1], (size_t)(s->n - a - 1) * sizeof s->red[0]);
    snprintf(s->leaf[a], 32, "%s", r->names[1]);
    snprintf(s->leaf[a + 1], 32, "%s", r->names[2]);
    s->red[a + 1] = s->red[a];
    s->n++;
    break;
  case AICC_SCHED_FUSE:
    a = leaf_index(s, r->names[0]);
    snprintf(s->leaf[a], 32, "%s", r->names[2]);
    memmove(&s->leaf[a + 1], &s->leaf[a + 2], (size_t)(s->n - a - 2) * sizeof s->leaf[0]);
    memmove(&s->red[a + 1], &s->red[a + 2], (size_t)(s->n - a - 2) * sizeof s->red[0]);
    s->n--;
    break;
  case AICC_SCHED_REORDER: {
    int pos[16], n = r->n_names;
    bool red[16];
    char names[16][32];
    for (int i = 0; i < n; i++) {
      pos[i] = leaf_index(s, r->names[i]);
      red[i] = s->red[pos[i]];
      snprintf(names[i], 32, "%s", r->names[i]);
    }
    for (int i = 1; i < n; i++)
      for (int j = i; j > 0 && pos[j - 1] > pos[j]; j--) b = pos[j], pos[j] = pos[j - 1], pos[j - 1] = b;
    for (int i = 0; i < n; i++) {
      snprintf(s->leaf[pos[i]], 32, "%s", names[i]);
      s->red[pos[i]] = red[i];
    }
    break;
  }
  case AICC_SCHED_COMPUTE_INLINE: s->inlined = true; break;
  case AICC_SCHED_CACHE_READ: {
    int rank = 0;
    for (int i = 0; i < m->nbufs; i++)
      if (!strcmp(m->bufs[i], r->names[0])) rank = m->brank[i];
    insert_stage(m, r->stage, r->names[1], rank);
    break;
  }
  default: break;
  }
}

/* A random record for the model (legal or not). */
static bool random_step(model *m, uint64_t *seed, aicc_sched_step *r, char strs[8][32]) {
  mstage *live[8];
  int nl = 0;
  for (int i = 0; i < m->n; i++)
    if (!m->st[i].inlined) live[nl++] = &m->st[i];
  mstage *s = live[pick(seed, nl)];
  memset(r, 0, sizeof *r);
  r->stage = s->name;
  for (int i = 0; i < 8; i++) r->names[i] = strs[i];
  int x = pick(seed, s->n), kind = pick(seed, 14);
  const char *lx = s->n ? s->leaf[x] : "none";
  switch (kind) {
  case 0: case 1: case 2:
    r->kind = AICC_SCHED_SPLIT;
    r->n_names = 3, r->n_ints = 1;
    snprintf(strs[0], 32, "%s", lx);
    snprintf(strs[1], 32, "s%do", m->fresh);
    snprintf(strs[2], 32, "s%di", m->fresh++);
    r->ints[0] = 1 + pick(seed, 5);
    return true;
  case 3: case 4: {
    r->kind = AICC_SCHED_REORDER;
    int perm[16];
    for (int i = 0; i < s->n; i++) perm[i] = i;
    for (int i = s->n - 1; i > 0; i--) {
      int j = pick(seed, i + 1), t = perm[i];
      perm[i] = perm[j], perm[j] = t;
    }
    r->n_names = s->n < 8 ? s->n : 8;
    if (r->n_names < 2) return false;
    for (int i = 0; i < r->n_names; i++) snprintf(strs[i], 32, "%s", s->leaf[perm[i]]);
    return true;
  }
  case 5:
    if (x + 1 >= s->n) return false;
    r->kind = AICC_SCHED_FUSE;
    r->n_names = 3;
    snprintf(strs[0], 32, "%s", s->leaf[x]);
    snprintf(strs[1], 32, "%s", s->leaf[x + 1]);
    snprintf(strs[2], 32, "f%d", m->fresh++);
    return true;
  case 6: case 7: case 8:
    r->kind = kind == 6 ? AICC_SCHED_UNROLL : kind == 7 ? AICC_SCHED_VECTORIZE : AICC_SCHED_PARALLEL;
    r->n_names = 1;
    snprintf(strs[0], 32, "%s", lx);
    return true;
  case 9:
    r->kind = AICC_SCHED_COMPUTE_INLINE;
    return true;
  case 10: {
    /* compute_at into a later live stage's loop */
    int si = 0;
    while (&m->st[si] != s) si++;
    int later[8], n = 0;
    for (int i = si + 1; i < m->n; i++)
      if (!m->st[i].inlined) later[n++] = i;
    if (!n) return false;
    mstage *c = &m->st[later[pick(seed, n)]];
    r->kind = AICC_SCHED_COMPUTE_AT;
    r->n_names = 2;
    snprintf(strs[0], 32, "%s", c->name);
    snprintf(strs[1], 32, "%s", c->n ? c->leaf[pick(seed, c->n)] : "none");
    return true;
  }
  case 11:
    r->kind = AICC_SCHED_CACHE_WRITE;
    r->n_names = 1;
    snprintf(strs[0], 32, "acc%d", m->fresh++);
    return true;
  case 12:
    r->kind = AICC_SCHED_CACHE_READ;
    r->n_names = 2;
    snprintf(strs[0], 32, "%s", m->bufs[pick(seed, m->nbufs)]);
    snprintf(strs[1], 32, "cr%d", m->fresh++);
    return true;
  default:
    r->kind = AICC_SCHED_TILE;
    if (x + 1 >= s->n) return false;
    r->n_names = 2, r->n_ints = 2;
    snprintf(strs[0], 32, "%s", s->leaf[x]);
    snprintf(strs[1], 32, "%s", s->leaf[x + 1]);
    r->ints[0] = 1 + pick(seed, 4);
    r->ints[1] = 1 + pick(seed, 4);
    return true;
  }
}

static void model_apply_tile(model *m, const aicc_sched_step *r) {
  aicc_sched_step s1 = {.kind = AICC_SCHED_SPLIT, .stage = r->stage, .n_names = 3, .n_ints = 1};
  char n[4][40];
  snprintf(n[0], 40, "%so", r->names[0]);
  snprintf(n[1], 40, "%si", r->names[0]);
  snprintf(n[2], 40, "%so", r->names[1]);
  snprintf(n[3], 40, "%si", r->names[1]);
  s1.names[0] = r->names[0], s1.names[1] = n[0], s1.names[2] = n[1];
  model_apply(m, &s1);
  s1.names[0] = r->names[1], s1.names[1] = n[2], s1.names[2] = n[3];
  model_apply(m, &s1);
  aicc_sched_step ro = {.kind = AICC_SCHED_REORDER, .stage = r->stage, .n_names = 4};
  ro.names[0] = n[0], ro.names[1] = n[2], ro.names[2] = n[1], ro.names[3] = n[3];
  model_apply(m, &ro);
}

static void random_schedules(void **state) {
  (void)state;
  int accepted = 0, refused = 0, checked = 0, by_kind[AICC_SCHED_KIND_COUNT] = {0};
  for (int ki = 0; ki < N_KERNELS; ki++) {
    for (int trial = 0; trial < 40; trial++) {
      aicc_loop_ctx *ctx = aicc_loop_ctx_create();
      aicc_loop_kernel *k = parse_kernel(ctx, kernels[ki]);
      model m;
      model_init(&m, k);
      uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)(ki * 1000 + trial + 1);
      aicc_schedule s;
      aicc_schedule_init(&s);
      for (int step = 0; step < 12; step++) {
        aicc_sched_step r;
        char strs[8][32];
        if (!random_step(&m, &seed, &r, strs)) continue;
        assert_null(aicc_schedule_add(&s, &r));
        aicc_loop_func *f = NULL;
        aicc_status st = aicc_schedule_apply(ctx, k, &s, &f);
        if (st) {
          /* Refused: an INVALID naming the record (never an internal or
           * verifier error), and the schedule goes on without it. */
          char rec[256];
          const char *msg = aicc_status_message(st);
          if (aicc_status_code(st) != AICC_ERR_INVALID || !strstr(msg, ": "))
            fail_msg("kernel %s: unexpected error: %s", k->name, msg);
          bool names_a_record = false;
          for (size_t i = 0; i < s.n; i++) {
            aicc_sched_step_format(&s.steps[i], rec, sizeof rec);
            names_a_record = names_a_record || !strncmp(msg, rec, strlen(rec));
          }
          if (!names_a_record) fail_msg("kernel %s: error names no record: %s", k->name, msg);
          if (getenv("SCHED_TEST_VERBOSE")) fprintf(stderr, "refused: %s\n", msg);
          aicc_status_free(st);
          s.n--;
          refused++;
          continue;
        }
        accepted++;
        by_kind[r.kind]++;
        if (r.kind == AICC_SCHED_TILE) model_apply_tile(&m, &r);
        else model_apply(&m, &r);
        st = aicc_schedule_check(ctx, k, f, (uint64_t)step + 1);
        if (st) {
          char *text = aicc_schedule_print(&s);
          char *fs = aicc_loop_func_print(f);
          fail_msg("%s\nschedule:\n%s\nfunc:\n%s", aicc_status_message(st), text, fs);
        }
        checked++;
      }
      /* The accepted schedule round-trips through its text form. */
      char *text = aicc_schedule_print(&s);
      aicc_schedule back;
      aicc_schedule_init(&back);
      assert_null(aicc_schedule_parse("t", text, strlen(text), &back));
      char *again = aicc_schedule_print(&back);
      assert_string_equal(text, again);
      free(text);
      free(again);
      aicc_schedule_fini(&back);
      aicc_schedule_fini(&s);
      aicc_loop_ctx_destroy(ctx);
    }
  }
  print_message("random schedules: %d records accepted (%d checked), %d refused\n", accepted,
                checked, refused);
  for (int i = 0; i < AICC_SCHED_KIND_COUNT; i++)
    if (by_kind[i]) print_message("  %s: %d accepted\n", aicc_sched_kind_name((aicc_sched_kind)i), by_kind[i]);
  /* The test means something only when both sides happen often, and every
   * common primitive is exercised. */
  assert_true(accepted > 300);
  assert_true(refused > 100);
  int kinds[] = {AICC_SCHED_SPLIT, AICC_SCHED_TILE, AICC_SCHED_REORDER, AICC_SCHED_FUSE,
                 AICC_SCHED_UNROLL, AICC_SCHED_VECTORIZE, AICC_SCHED_PARALLEL,
                 AICC_SCHED_COMPUTE_AT, AICC_SCHED_COMPUTE_INLINE, AICC_SCHED_CACHE_READ,
                 AICC_SCHED_CACHE_WRITE};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (by_kind[kinds[i]] < 3)
      fail_msg("%s accepted only %d times", aicc_sched_kind_name(kinds[i]), by_kind[kinds[i]]);
  }
}

/* Default schedules: legal and correct on each kernel, and on larger ones
 * they take the shapes the rules promise. */
static void default_schedules(void **state) {
  (void)state;
  static const char *const big[] = {
      "kernel mm(A: f32[64, 48], B: f32[48, 80], C: f32[64, 80]) {\n"
      "  C[i0, i1] = sum(r0: 48) A[i0, r0]*B[r0, i1] @gemm\n"
      "}\n",
      "kernel softmax(X: f32[64, 600], Y: f32[64, 600]) {\n"
      "  temp M: f32[64]\n"
      "  M[i0] = max(r0: 600) X[i0, r0] @reduction\n"
      "  temp E: f32[64, 600]\n"
      "  E[i0, i1] = exp(X[i0, i1] - M[i0]) @inlinable\n"
      "  temp S: f32[64]\n"
      "  S[i0] = sum(r0: 600) E[i0, r0] @reduction\n"
      "  Y[i0, i1] = E[i0, i1]/S[i0]\n"
      "}\n",
  };
  aicc_sched_target t = aicc_sched_target_default(512, 4);
  for (int i = 0; i < N_KERNELS + 2; i++) {
    aicc_loop_ctx *ctx = aicc_loop_ctx_create();
    aicc_loop_kernel *k = parse_kernel(ctx, i < N_KERNELS ? kernels[i] : big[i - N_KERNELS]);
    aicc_schedule s;
    aicc_schedule_init(&s);
    assert_null(aicc_schedule_default(k, &t, &s));
    aicc_loop_func *f = NULL;
    aicc_status st = aicc_schedule_apply(ctx, k, &s, &f);
    if (st) fail_msg("default schedule of %s: %s", k->name, aicc_status_message(st));
    for (uint64_t seed = 1; seed <= 2; seed++) {
      st = aicc_schedule_check(ctx, k, f, seed);
      if (st) fail_msg("default schedule of %s: %s", k->name, aicc_status_message(st));
    }
    char *text = aicc_loop_func_print(f);
    if (i >= N_KERNELS) {
      /* one parallel loop, outermost; vector loops; local accumulators */
      assert_non_null(strstr(text, "  parallel for"));
      assert_null(strstr(strstr(text, "parallel for") + 1, "parallel for"));
      assert_non_null(strstr(text, "vectorized for"));
      assert_non_null(strstr(text, "_acc"));
    }
    if (i == N_KERNELS) assert_non_null(strstr(text, "unrolled for (i0i, 0, 8)")); /* schedule_gemm.c: MR = 8 */
    free(text);
    aicc_schedule_fini(&s);
    aicc_loop_ctx_destroy(ctx);
  }
}

/* The check itself can fail: a func that differs is caught. */
static void check_catches(void **state) {
  (void)state;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_kernel *k = parse_kernel(ctx, kernels[0]);
  aicc_loop_func *f = aicc_loop_kernel_lower(ctx, k);
  assert_null(aicc_schedule_check(ctx, k, f, 1));
  const aicc_loop_buffer *c = k->params[3];
  const aicc_loop_expr *idx[2] = {aicc_loop_i32(ctx, 5), aicc_loop_i32(ctx, 6)};
  const aicc_loop_stmt *parts[2] = {f->body, aicc_loop_store(ctx, c, idx, aicc_loop_float(ctx, AICC_DTYPE_F32, 0.5))};
  aicc_loop_func wrong = *f;
  wrong.body = aicc_loop_seq(ctx, 2, parts);
  aicc_status st = aicc_schedule_check(ctx, k, &wrong, 1);
  assert_non_null(st);
  assert_non_null(strstr(aicc_status_message(st), "C element 41"));
  aicc_status_free(st);
  /* An element left unwritten. */
  const aicc_loop_stmt *outer = f->body;
  wrong.body = aicc_loop_for(ctx, outer->var, outer->min, aicc_loop_i32(ctx, 5), outer->for_kind, outer->body);
  st = aicc_schedule_check(ctx, k, &wrong, 1);
  assert_non_null(st);
  aicc_status_free(st);
  aicc_loop_ctx_destroy(ctx);
}

static void text_round_trip(void **state) {
  (void)state;
  const char *recs = "split(C, i0, i0o, i0i, 8)\n// a comment\n  tile(C, i0o, i1, 4, 4)\n"
                     "reorder(C, i1o, i0oo, r0)\nfuse(C, a, b, f)\nunroll(C, x)\nvectorize(C, x)\n"
                     "parallel(C, x)\ncompute_at(S, C, i0)\ncompute_inline(S)\ncache_read(C, A, A_l)\n"
                     "cache_write(C, C_l)\npack(C, B, i1, 16)\ntensorize(C, i0i, gemm_4x32)\n";
  aicc_schedule s;
  aicc_schedule_init(&s);
  assert_null(aicc_schedule_parse("t", recs, strlen(recs), &s));
  assert_int_equal(s.n, 13);
  char *p = aicc_schedule_print(&s);
  assert_string_equal(p, "split(C, i0, i0o, i0i, 8)\ntile(C, i0o, i1, 4, 4)\nreorder(C, i1o, i0oo, r0)\n"
                         "fuse(C, a, b, f)\nunroll(C, x)\nvectorize(C, x)\nparallel(C, x)\n"
                         "compute_at(S, C, i0)\ncompute_inline(S)\ncache_read(C, A, A_l)\n"
                         "cache_write(C, C_l)\npack(C, B, i1, 16)\ntensorize(C, i0i, gemm_4x32)\n");
  free(p);
  aicc_schedule_fini(&s);
  static const struct {
    const char *text, *err;
  } bad[] = {
      {"split(C, i0, a, b, x)", "t:1:20: expected an integer, got 'x'"},
      {"split(C, i0, a, b)", "t:1:1: 'split' takes 5 arguments, got 4"},
      {"\n  merge(C, a, b)", "t:2:3: unknown schedule primitive 'merge'"},
      {"unroll(C, a) unroll(C, b)", "t:1:14: expected the end of the record"},
      {"reorder(C, a", "t:1:13: expected ',' or ')' in 'reorder'"},
      {"unroll(C, a)\n}", "t:2:1: unexpected '}'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    aicc_schedule_init(&s);
    aicc_status st = aicc_schedule_parse("t", bad[i].text, strlen(bad[i].text), &s);
    assert_non_null(st);
    assert_string_equal(aicc_status_message(st), bad[i].err);
    aicc_status_free(st);
    aicc_schedule_fini(&s);
  }
  /* Kernels print, parse back and print the same. */
  for (int i = 0; i < N_KERNELS; i++) {
    aicc_loop_ctx *ctx = aicc_loop_ctx_create();
    aicc_loop_kernel *k = parse_kernel(ctx, kernels[i]);
    char *a = aicc_loop_kernel_print(k);
    assert_string_equal(a, kernels[i]);
    aicc_loop_kernel *k2 = parse_kernel(ctx, a);
    char *b = aicc_loop_kernel_print(k2);
    assert_string_equal(a, b);
    free(a);
    free(b);
    aicc_loop_ctx_destroy(ctx);
  }
}

/* Default schedules of a GEMM under an elementwise epilogue (bias +
 * activation, schedule_gemm.c), on seeded random shapes and thread counts:
 * always correct, and on one thread with N whole 32-column panels (and
 * over 2^20 multiply-adds) the GEMM gets the blocked rule (register tile, packed B) though it is not the
 * kernel's root. */
static void gemm_epilogue_defaults(void **state) {
  (void)state;
  uint64_t seed = 12345;
  int fast = 0;
  for (int it = 0; it < 8; it++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(seed >> 33);
    int batch = 1 + (int)(r % 2), m = 20 + (int)(r / 2 % 21), k = 200 + (int)(r / 64 % 200);
    int n = (it % 3 == 2) ? 100 + (int)(r / 32768 % 90) : 32 * (4 + (int)(r / 32768 % 3));
    int threads = 1 + (int)(r / 4096 % 2) * 3;
    char src[1024];
    snprintf(src, sizeof src,
             "kernel dense(A: f32[%d, %d, %d], B: f32[%d, %d], b: f32[%d], Y: f32[%d, %d, %d]) {\n"
             "  temp C: f32[%d, %d, %d]\n"
             "  C[i0, i1, i2] = sum(r0: %d) A[i0, i1, r0]*B[r0, i2] @gemm\n"
             "  temp T: f32[%d, %d, %d]\n"
             "  T[i0, i1, i2] = C[i0, i1, i2] + b[i2] @inlinable\n"
             "  Y[i0, i1, i2] = T[i0, i1, i2]*0.5*(1.0 + erf(T[i0, i1, i2]*0.70710677))\n"
             "}\n",
             batch, m, k, k, n, n, batch, m, n, batch, m, n, k, batch, m, n);
    aicc_loop_ctx *ctx = aicc_loop_ctx_create();
    aicc_loop_kernel *kk = parse_kernel(ctx, src);
    aicc_sched_target t = aicc_sched_target_default(512, threads);
    aicc_schedule s;
    aicc_schedule_init(&s);
    assert_null(aicc_schedule_default(kk, &t, &s));
    aicc_loop_func *f = NULL;
    aicc_status st = aicc_schedule_apply(ctx, kk, &s, &f);
    if (st) fail_msg("dense %dx%dx%d n=%d: %s", batch, m, k, n, aicc_status_message(st));
    st = aicc_schedule_check(ctx, kk, f, seed);
    if (st) fail_msg("dense %dx%dx%d n=%d: %s", batch, m, k, n, aicc_status_message(st));
    char *text = aicc_loop_func_print(f);
    if (threads == 1 && n % 32 == 0 && (int64_t)batch * m * n * k >= (1 << 20)) { /* not tiny */
      /* the rule's column blocks and tiles; B packed once there are 16 rows */
      char *recs = aicc_schedule_print(&s);
      if (!strstr(recs, "split(C, i2, i2c, i2b, ") || !strstr(recs, "split(C, i2b, i2r, i2i, 32)") ||
          !strstr(recs, "compute_at(C, Y, i2c)") || (m >= 16 && !strstr(text, "B_pack")))
        fail_msg("dense %dx%dx%d n=%d: the GEMM did not get the blocked rule:\n%s", batch, m, k, n, recs);
      free(recs);
      fast++;
    }
    free(text);
    aicc_schedule_fini(&s);
    aicc_loop_ctx_destroy(ctx);
  }
  assert_true(fast >= 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_round_trip),
      cmocka_unit_test(check_catches),
      cmocka_unit_test(default_schedules),
      cmocka_unit_test(gemm_epilogue_defaults),
      cmocka_unit_test(random_schedules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
