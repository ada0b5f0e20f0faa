/* Unit tests for codegen (src/codegen): loop funcs parsed from text become C,
 * the JIT compiles it with -Werror (so the generated C must be warning-free
 * under -std=c99 -Wall -Wextra), and each kernel's buffers are compared with
 * the loop-IR interpreter's (aicc_loop_stmt_run) on random data: integer
 * semantics, floats and intrinsics, masks, allocations, the parallel-chunk
 * contract, vectorized loops under AVX-512 / AVX2 / scalar, the vector math
 * helpers against libm, and random expression trees. */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "jit/jit.h"
#include "loop/eval.h"
#include "loop/ir.h"
#include "loop/text.h"

#define WERROR_FLAGS AICC_JIT_DEFAULT_FLAGS " -Werror"
#define O2_FLAGS "-O2 -march=native -fPIC -shared -std=c99 -Wall -Wextra -Werror"

typedef int (*kernel_fn)(void *const *bufs, int task, int ntasks);

/* ---- fixture: a temp JIT cache ------------------------------------------ */

typedef struct fixture {
  char dir[64];
  aicc_jit_ctx *jit;
  int compiles;
  double compile_ms;
} fixture;

static fixture *g_fx; /* for the summary printed at teardown */

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/aicc-codegen-test-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  aicc_jit_options o = {.flags = WERROR_FLAGS, .cache_dir = f->dir};
  aicc_status s = aicc_jit_ctx_create(&o, &f->jit);
  if (s) {
    fprintf(stderr, "%s\n", aicc_status_message(s));
    aicc_status_free(s);
    return -1;
  }
  *state = f;
  g_fx = f;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static int teardown(void **state) {
  fixture *f = *state;
  aicc_jit_stats st;
  aicc_jit_ctx_stats(f->jit, &st);
  printf("[codegen] %llu JIT compiles, %.0f ms in the compiler (%.0f ms each)\n",
         (unsigned long long)st.compiles, st.compile_ms,
         st.compiles ? st.compile_ms / (double)st.compiles : 0.0);
  aicc_jit_ctx_destroy(f->jit);
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static void check(aicc_status s) {
  if (s) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", aicc_status_message(s));
    aicc_status_free(s);
    fail_msg("%s", msg);
  }
}

/* ---- random numbers ------------------------------------------------------ */

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}
static double unif(uint64_t *s) { return (double)(rnd(s) >> 11) / 9007199254740992.0; }

/* ---- buffers: native (the kernel's) and the interpreter's ---------------- */

typedef struct fill_opts {
  double frange;    /* floats uniform in [-frange, frange] */
  int64_t irange;   /* ints in [-irange, irange] (0: any bits of the type) */
  bool specials;    /* some NaN, +-inf, +-0, huge and tiny floats */
} fill_opts;

typedef struct tbuf {
  const aicc_loop_buffer *b;
  size_t n, esize;
  void *native, *init, *ref;
} tbuf;

static size_t buf_elems(const aicc_loop_buffer *b) {
  size_t n = 1;
  for (int k = 0; k < b->rank; k++) {
    int64_t e = 0;
    assert_true(aicc_loop_expr_is_int_const(b->shape[k], &e));
    n *= (size_t)e;
  }
  return n;
}

static bool is_float_t(aicc_dtype t) { return t == AICC_DTYPE_F32 || t == AICC_DTYPE_F64; }

static void put_native(aicc_dtype t, void *p, size_t i, int64_t iv, double fv) {
  switch (t) {
  case AICC_DTYPE_F32: ((float *)p)[i] = (float)fv; break;
  case AICC_DTYPE_F64: ((double *)p)[i] = fv; break;
  case AICC_DTYPE_BOOL:
  case AICC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)iv; break;
  case AICC_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)iv; break;
  case AICC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)iv; break;
  case AICC_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)iv; break;
  case AICC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)iv; break;
  case AICC_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)iv; break;
  default: ((int64_t *)p)[i] = iv; break;
  }
}

static int64_t get_native_int(aicc_dtype t, const void *p, size_t i) {
  switch (t) {
  case AICC_DTYPE_BOOL:
  case AICC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case AICC_DTYPE_I8: return ((const int8_t *)p)[i];
  case AICC_DTYPE_U16: return ((const uint16_t *)p)[i];
  case AICC_DTYPE_I16: return ((const int16_t *)p)[i];
  case AICC_DTYPE_U32: return ((const uint32_t *)p)[i];
  case AICC_DTYPE_I32: return ((const int32_t *)p)[i];
  default: return ((const int64_t *)p)[i];
  }
}

static double get_native_float(aicc_dtype t, const void *p, size_t i) {
  return t == AICC_DTYPE_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void fill(tbuf *tb, uint64_t *rng, const fill_opts *o) {
  aicc_dtype t = tb->b->type;
  for (size_t i = 0; i < tb->n; i++) {
    if (is_float_t(t)) {
      double v = (2 * unif(rng) - 1) * o->frange;
      if (o->specials && rnd(rng) % 8 == 0) {
        static const double sp[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e30, -3e-39, 1e-30, 7.0, -2.5};
        v = sp[rnd(rng) % (sizeof sp / sizeof sp[0])];
      }
      if (t == AICC_DTYPE_F32) v = (double)(float)v;
      put_native(t, tb->native, i, 0, v);
      ((double *)tb->ref)[i] = v;
    } else {
      int64_t v;
      if (t == AICC_DTYPE_BOOL) v = (int64_t)(rnd(rng) & 1);
      else if (o->irange > 0) v = (int64_t)(rnd(rng) % (uint64_t)(2 * o->irange + 1)) - o->irange;
      else v = (int64_t)rnd(rng);
      v = aicc_loop_int_wrap(t, v);
      put_native(t, tb->native, i, v, 0);
      ((int64_t *)tb->ref)[i] = v;
    }
  }
  memcpy(tb->init, tb->native, tb->n * tb->esize);
}

/* Compares native with the interpreter's values; tol is relative to the
 * magnitude, or absolute below 1 (sums of intrinsics cancel). */
static int compare(const tbuf *tb, double tol, const char *what) {
  aicc_dtype t = tb->b->type;
  int bad = 0;
  for (size_t i = 0; i < tb->n; i++) {
    if (is_float_t(t)) {
      double a = get_native_float(t, tb->native, i), r = ((const double *)tb->ref)[i];
      bool ok = (isnan(a) && isnan(r)) || a == r ||
                (tol > 0 && fabs(a - r) <= tol * (fmax(fabs(a), fabs(r)) + 1.0));
      if (!ok && bad++ < 5)
        print_error("%s: %s[%zu] = %.9g, interpreter %.9g\n", what, tb->b->name, i, a, r);
    } else {
      int64_t a = get_native_int(t, tb->native, i), r = ((const int64_t *)tb->ref)[i];
      if (a != r && bad++ < 5)
        print_error("%s: %s[%zu] = %lld, interpreter %lld\n", what, tb->b->name, i, (long long)a,
                    (long long)r);
    }
  }
  return bad;
}

/* ---- compile and run ------------------------------------------------------ */

typedef struct compiled {
  aicc_loop_ctx *lc;
  aicc_loop_module m;
  char *src;
  aicc_jit_module *mod;
} compiled;

static void compile_text(fixture *fx, aicc_jit_ctx *jit, const char *text, aicc_codegen_isa isa,
                         compiled *out) {
  out->lc = aicc_loop_ctx_create();
  assert_non_null(out->lc);
  check(aicc_loop_module_parse(out->lc, "test", text, strlen(text), &out->m));
  aicc_codegen_options opt = {.isa = isa, .comments = true};
  size_t len = 0;
  check(aicc_codegen_c((const aicc_loop_func *const *)out->m.funcs, out->m.nfuncs, &opt, &out->src, &len));
  assert_int_equal(len, strlen(out->src));
  aicc_status s = aicc_jit_compile(jit ? jit : fx->jit, out->src, len, &out->mod, NULL);
  if (s) {
    fprintf(stderr, "---- generated C ----\n%s\n", out->src);
    check(s);
  }
  fx->compiles++;
}

static void compiled_free(compiled *c) {
  aicc_jit_module_release(c->mod);
  free(c->src);
  aicc_loop_ctx_destroy(c->lc);
}

static kernel_fn kernel(const compiled *c, const aicc_loop_func *f) {
  char id[256];
  void *p = NULL;
  check(aicc_jit_module_symbol(c->mod, aicc_codegen_ident(f->name, id, sizeof id), &p));
  kernel_fn fn;
  memcpy(&fn, &p, sizeof fn);
  return fn;
}

typedef struct run_opts {
  fill_opts fill;
  double tol;       /* relative tolerance on floats (0: exact) */
  uint64_t seed;
  const char *const *names; /* per-buffer fill override: names[i] uses fills[i] */
  const fill_opts *fills;
  size_t noverride;
} run_opts;

/* Runs func f of c natively (each task of ntasks in turn when it has a
 * parallel loop, for ntasks = 1, 2, 3) and in the interpreter; returns the
 * number of mismatching elements. */
static int run_func(const compiled *c, const aicc_loop_func *f, const run_opts *o) {
  size_t nb = f->nparams;
  tbuf *tb = calloc(nb ? nb : 1, sizeof *tb);
  void **ptrs = calloc(nb + 1, sizeof *ptrs); /* + the scratch entry */
  aicc_loop_buffer_data *bd = calloc(nb ? nb : 1, sizeof *bd);
  assert_true(tb && ptrs && bd);
  uint64_t rng = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < nb; i++) {
    tbuf *t = &tb[i];
    t->b = f->params[i].buf;
    assert_non_null(t->b);
    t->n = buf_elems(t->b);
    t->esize = t->b->type == AICC_DTYPE_BOOL ? 1 : (size_t)aicc_dtype_get(t->b->type)->bits / 8;
    size_t bytes = (t->n * t->esize + 63) / 64 * 64 + 64;
    t->native = aligned_alloc(64, bytes);
    t->init = malloc(bytes);
    t->ref = calloc(t->n + 1, 8);
    assert_true(t->native && t->init && t->ref);
    const fill_opts *fo = &o->fill;
    for (size_t k = 0; k < o->noverride; k++)
      if (strcmp(o->names[k], t->b->name) == 0) fo = &o->fills[k];
    fill(t, &rng, fo);
    ptrs[i] = t->native;
    bd[i] = (aicc_loop_buffer_data){t->b, t->ref, t->n};
  }
  check(aicc_loop_stmt_run(f->body, NULL, 0, bd, nb));
  kernel_fn fn = kernel(c, f);
  int bad = 0;
  bool par = aicc_codegen_func_parallel(f);
  /* Each task count runs with heap temporaries in caller scratch (filled
   * with junk, a guard after it) and, when there are any, malloc'ed
   * (bufs[nb] NULL). */
  int64_t S = aicc_codegen_func_scratch(f);
  assert_true(S >= 0 && S % 64 == 0);
  for (int ntasks = 1; ntasks <= (par ? 3 : 1); ntasks++) {
    for (int with_scratch = 1; with_scratch >= (S > 0 ? 0 : 1); with_scratch--) {
      size_t sb = (size_t)S * (size_t)ntasks;
      unsigned char *scratch = aligned_alloc(64, sb + 64);
      assert_non_null(scratch);
      memset(scratch, 0xa5, sb + 64);
      ptrs[nb] = with_scratch ? scratch : NULL;
      for (size_t i = 0; i < nb; i++) memcpy(tb[i].native, tb[i].init, tb[i].n * tb[i].esize);
      for (int task = 0; task < ntasks; task++) assert_int_equal(fn(ptrs, task, ntasks), 0);
      for (size_t k = 0; k < 64; k++) assert_int_equal(scratch[sb + k], 0xa5);
      free(scratch);
      char what[300];
      snprintf(what, sizeof what, "%s (ntasks %d%s)", f->name, ntasks,
               with_scratch ? "" : ", malloc'ed temporaries");
      for (size_t i = 0; i < nb; i++) bad += compare(&tb[i], o->tol, what);
    }
  }
  for (size_t i = 0; i < nb; i++) {
    free(tb[i].native);
    free(tb[i].init);
    free(tb[i].ref);
  }
  free(tb);
  free(ptrs);
  free(bd);
  return bad;
}

static int run_all(fixture *fx, const char *text, aicc_codegen_isa isa, const run_opts *o,
                   compiled *keep) {
  compiled c = {0};
  compile_text(fx, NULL, text, isa, &c);
  int bad = 0;
  for (size_t i = 0; i < c.m.nfuncs; i++) bad += run_func(&c, c.m.funcs[i], o);
  if (keep) *keep = c;
  else compiled_free(&c);
  return bad;
}

static const aicc_codegen_isa all_isas[] = {AICC_CODEGEN_SCALAR, AICC_CODEGEN_AVX2, AICC_CODEGEN_AVX512};

static bool host_has(aicc_codegen_isa isa) {
  aicc_jit_isa h = aicc_jit_host_isa();
  if (isa == AICC_CODEGEN_AVX512)
    return (h.features & (AICC_JIT_ISA_AVX512F | AICC_JIT_ISA_AVX512DQ | AICC_JIT_ISA_AVX512BW |
                          AICC_JIT_ISA_AVX512VL)) ==
           (AICC_JIT_ISA_AVX512F | AICC_JIT_ISA_AVX512DQ | AICC_JIT_ISA_AVX512BW | AICC_JIT_ISA_AVX512VL);
  if (isa == AICC_CODEGEN_AVX2)
    return (h.features & (AICC_JIT_ISA_AVX2 | AICC_JIT_ISA_FMA)) == (AICC_JIT_ISA_AVX2 | AICC_JIT_ISA_FMA);
  return true;
}

/* ---- integer semantics --------------------------------------------------- */

static const char INTS[] =
    "func ints(A: i32[64], B: i32[64], C: i32[64, 8], D: i8[64], E: u8[64], F: i8[64, 6],\n"
    "          G: u8[64, 4], H: i64[64], I: i64[64, 4], U: u16[64], V: u16[64, 2],\n"
    "          X: u32[64], Y: u32[64, 3], Z: bool[64, 3]) {\n"
    "  for (i, 0, 64) {\n"
    "    C[i, 0] = A[i] / B[i]\n"
    "    C[i, 1] = A[i] % B[i]\n"
    "    C[i, 2] = A[i]*B[i]*B[i]*A[i]*A[i] + A[i]\n"
    "    C[i, 3] = min(A[i], B[i]) - max(A[i], 3)\n"
    "    C[i, 4] = select(A[i] < B[i] && !(A[i] == 0), A[i] / 7, B[i] % -3)\n"
    "    C[i, 5] = i32(A[i] >= B[i] || B[i] != 2)\n"
    "    C[i, 6] = (i - 30) / 4 + (i - 30) % 4 + (i - 30) / -4 + (i - 30) % -4\n"
    "    C[i, 7] = i32(D[i]) * 1000000 + (-2147483647 - 1) / -1\n"
    "    F[i, 0] = D[i] + D[i] * 3i8\n"
    "    F[i, 1] = D[i] / -1i8\n"
    "    F[i, 2] = D[i] % 5i8 + D[i] / -7i8\n"
    "    F[i, 3] = i8(A[i] * 1000)\n"
    "    F[i, 4] = i8(E[i])\n"
    "    F[i, 5] = -D[i]\n"
    "    G[i, 0] = E[i] * E[i]\n"
    "    G[i, 1] = E[i] - 200u8\n"
    "    G[i, 2] = E[i] / (E[i] % 7u8) + max(E[i], 100u8)\n"
    "    G[i, 3] = u8(D[i])\n"
    "    I[i, 0] = H[i] * H[i] + H[i]\n"
    "    I[i, 1] = H[i] / i64(B[i])\n"
    "    I[i, 2] = H[i] % i64(B[i])\n"
    "    I[i, 3] = i64(f64(H[i]) * 0.5f64) + i64(f32(H[i]))\n"
    "    V[i, 0] = U[i] * U[i]\n"
    "    V[i, 1] = U[i] / 0u16 + U[i] % 0u16 + (U[i] - 65535u16)\n"
    "    Y[i, 0] = X[i] * X[i] + X[i]\n"
    "    Y[i, 1] = X[i] / 3u32 - X[i]\n"
    "    Y[i, 2] = u32(max(X[i], 1000u32) > X[i]) + u32(X[i] >= 0u32)\n"
    "    Z[i, 0] = A[i] < 0 && B[i] < 0\n"
    "    Z[i, 1] = !Z[i, 0] || (H[i] % 2i64 == 1i64)\n"
    "    Z[i, 2] = select(A[i] == A[i], B[i] > 10, false)\n"
    "  }\n"
    "}\n";

static void integer_semantics(void **state) {
  fixture *fx = *state;
  int total = 0;
  for (uint64_t seed = 1; seed <= 4; seed++) {
    /* small values (division by 0 and -1 happen), then any bits */
    static const char *const names[] = {"H", "X", "U"};
    static const fill_opts full[] = {{0, 0, false}, {0, 0, false}, {0, 0, false}};
    run_opts o = {.fill = {4, 50, false}, .seed = seed, .names = names, .fills = full,
                  .noverride = seed > 2 ? 3 : 0};
    if (seed == 4) o.fill.irange = 0;
    compiled c;
    assert_int_equal(run_all(fx, INTS, AICC_CODEGEN_SCALAR, &o, &c), 0);
    /* floor semantics need the helpers (no plain C division of unknown sign) */
    assert_non_null(strstr(c.src, "aicc_fdiv_i32"));
    assert_non_null(strstr(c.src, "aicc_fmod_i64"));
    compiled_free(&c);
    total++;
  }
  printf("[codegen] integer semantics: %d random data sets, 31 stores each\n", total);
}

/* ---- floats, intrinsics, casts ------------------------------------------- */

static const char FLOATS[] =
    "func floats(A: f32[128], B: f32[128], P: f32[128], C: f32[128, 14], D: f64[128],\n"
    "            E: f64[128, 8], K: i32[128, 4], L: i64[128], M: u8[128]) {\n"
    "  for (i, 0, 128) {\n"
    "    C[i, 0] = A[i] + B[i]*A[i] - A[i]/B[i]\n"
    "    C[i, 1] = A[i] % B[i] + (A[i] % 0.0)\n"
    "    C[i, 2] = min(A[i], B[i]) + max(A[i], 0.0)\n"
    "    C[i, 3] = select(A[i] < B[i] || A[i] != A[i], A[i], -B[i])\n"
    "    C[i, 4] = f32(D[i]) + f32(L[i]) + f32(M[i]) + f32(K[i, 0])\n"
    "    C[i, 5] = exp(A[i]) + log(P[i]) + sqrt(P[i]) + rsqrt(P[i])\n"
    "    C[i, 6] = tanh(A[i]) + sigmoid(B[i]) + erf(A[i]) + abs(B[i])\n"
    "    C[i, 7] = sign(A[i]) + floor(A[i]) + ceil(B[i]) + trunc(A[i]) + round(B[i]*2.0)\n"
    "    C[i, 8] = sin(A[i]) + cos(B[i]) + tan(A[i]*0.3) + atan(B[i])\n"
    "    C[i, 9] = asin(A[i]*0.2) + acos(B[i]*0.2) + sinh(A[i]) + cosh(B[i])\n"
    "    C[i, 10] = asinh(A[i]) + acosh(P[i] + 1.0) + atanh(B[i]*0.2) + expm1(A[i]) + log1p(P[i])\n"
    "    C[i, 11] = pow(P[i], B[i]) + atan2(A[i], B[i]) + fmod(A[i], B[i]) + fma(A[i], B[i], P[i])\n"
    "    C[i, 12] = f32(A[i] > 0.5) + f32(u8(P[i] * 60.0))\n"
    "    C[i, 13] = sign(A[i] - A[i]) + sign(-0.0) + 1.0 / sign(-0.0)\n"
    "    E[i, 0] = exp(D[i]) + log(f64(P[i])) * D[i] - tanh(D[i]) / sigmoid(D[i])\n"
    "    E[i, 1] = D[i] % 0.7f64 + min(D[i], f64(A[i])) + erf(D[i]) + sign(D[i])\n"
    "    E[i, 2] = f64(L[i]) + f64(K[i, 1]) + pow(f64(P[i]), D[i]) + round(D[i]*3.0f64)\n"
    "    E[i, 3] = f64(A[i] * 1e20) * 1e20f64\n"
    "    E[i, 4] = select(D[i] >= 0.0f64, sqrt(D[i]), rsqrt(-D[i]))\n"
    "    E[i, 5] = fma(D[i], D[i], 1.0f64) + abs(D[i]) + floor(D[i]) + trunc(D[i]) + ceil(D[i])\n"
    "    E[i, 6] = f64(f32(D[i] * 1e30f64))\n"
    "    E[i, 7] = atan2(D[i], f64(B[i])) + fmod(D[i], 0.3f64) + expm1(D[i]) + log1p(abs(D[i]))\n"
    "    K[i, 2] = i32(A[i] * 1e9) + i32(D[i] * 1e12f64)\n"
    "    K[i, 3] = i32(u8(A[i] * 100.0)) + i32(i8(B[i] * 50.0)) + i32(bool(A[i]))\n"
    "  }\n"
    "}\n";

static void floats_and_intrinsics(void **state) {
  fixture *fx = *state;
  static const char *const names[] = {"P", "L"};
  static const fill_opts fo[] = {{8, 0, false}, {0, 0, false}};
  for (uint64_t seed = 1; seed <= 3; seed++) {
    run_opts o = {.fill = {3, 100, seed == 3}, .tol = 4e-6, .seed = seed, .names = names, .fills = fo,
                  .noverride = 2};
    /* P is made positive below through abs in the IR? No: P is filled in
     * [-8, 8]; log/sqrt of negatives are NaN on both sides. */
    assert_int_equal(run_all(fx, FLOATS, AICC_CODEGEN_SCALAR, &o, NULL), 0);
  }
  printf("[codegen] floats: 3 data sets (one with NaN/inf/-0/huge), 24 stores, 30 intrinsics\n");
}

/* ---- allocate ------------------------------------------------------------ */

static const char ALLOC[] =
    "func alloc(A: f32[64, 64], B: f32[64, 64], R: i64[3]) {\n"
    "  allocate S: f32[16, 16] {\n"          /* 1 KiB: on the stack */
    "    allocate L: f32[64, 64] {\n"        /* 16 KiB: stack, at the limit */
    "      allocate H: f64[64, 64] {\n"      /* 32 KiB: malloc */
    "        allocate H2: i64[40, 64] {\n"   /* 20 KiB: malloc, nested */
    "          for (i, 0, 64) {\n"
    "            for (j, 0, 64) {\n"
    "              L[i, j] = A[i, j] * 2.0\n"
    "              H[j, i] = f64(A[i, j])\n"
    "            }\n"
    "          }\n"
    "          for (i, 0, 16) {\n"
    "            for (j, 0, 16) {\n"
    "              S[i, j] = L[i*4, j*4] + 1.0\n"
    "            }\n"
    "          }\n"
    "          for (i, 0, 40) {\n"
    "            for (j, 0, 64) {\n"
    "              H2[i, j] = i64(i*64 + j)\n"
    "            }\n"
    "          }\n"
    "          for (i, 0, 64) {\n"
    "            for (j, 0, 64) {\n"
    "              B[i, j] = L[i, j] + f32(H[i, j]) + S[i/4, j/4]\n"
    "            }\n"
    "          }\n"
    "          R[0] = H2[39, 63]\n"
    "          R[1] = H2[0, 1] + H2[20, 0]\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  allocate Z: u8[0] {\n"
    "    R[2] = 7i64\n"
    "  }\n"
    "}\n";

static void allocations(void **state) {
  fixture *fx = *state;
  run_opts o = {.fill = {10, 10, false}};
  compiled c;
  assert_int_equal(run_all(fx, ALLOC, AICC_CODEGEN_SCALAR, &o, &c), 0);
  assert_non_null(strstr(c.src, "AICC_ALIGN64"));
  assert_non_null(strstr(c.src, "malloc("));
  assert_non_null(strstr(c.src, "return 1;"));
  /* the failure path of the inner malloc frees the outer one */
  const char *h2 = strstr(c.src, "void *H2_raw");
  assert_non_null(h2);
  const char *fail = strstr(h2, "free(H_raw);");
  assert_true(fail && fail < strstr(h2, "return 1;"));
  /* scratch: H (32 KiB) and H2 (20 KiB) live at once; S and L on the stack */
  assert_int_equal(aicc_codegen_func_scratch(c.m.funcs[0]), 32768 + 20480);
  compiled_free(&c);

  /* A heap temporary around the parallel loop is per task: each task's
   * chunk of the scratch (run_func gives ntasks * S bytes of junk). */
  static const char PAR_HEAP[] =
      "func parheap(A: f32[37, 4100], B: f32[37, 4100]) {\n"
      "  allocate T: f32[4100] {\n" /* 16400 bytes: heap, 16448 rounded */
      "    parallel for (i, 0, 37) {\n"
      "      for (j, 0, 4100) {\n"
      "        T[j] = A[i, j] * 2.0\n"
      "      }\n"
      "      for (j, 0, 4100) {\n"
      "        B[i, j] = T[4099 - j] + f32(i)\n"
      "      }\n"
      "    }\n"
      "  }\n"
      "}\n";
  assert_int_equal(run_all(fx, PAR_HEAP, AICC_CODEGEN_SCALAR, &o, &c), 0);
  assert_int_equal(aicc_codegen_func_scratch(c.m.funcs[0]), 16448);
  assert_true(aicc_codegen_func_parallel(c.m.funcs[0]));
  compiled_free(&c);
}

/* ---- parallel ------------------------------------------------------------ */

static const char PAR[] =
    "func par(A: f32[37, 16], B: f32[37, 16]) {\n"
    "  allocate T: f32[16] {\n"
    "    let o = 3 {\n"
    "      parallel for (i, o - 3, 37) {\n"
    "        for (j, 0, 16) {\n"
    "          T[j] = A[i, j] * 2.0\n"
    "        }\n"
    "        for (j, 0, 16) {\n"
    "          B[i, j] = T[j] + f32(i)\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "func par2(A: i32[2], B: i32[2]) {\n" /* fewer iterations than tasks */
    "  parallel for (i, 5, 2) {\n"
    "    B[i - 5] = A[i - 5] * 3 + i\n"
    "  }\n"
    "}\n"
    "func serial(A: i32[4]) {\n"
    "  for (i, 0, 4) {\n"
    "    A[i] = A[i] + 1\n"
    "  }\n"
    "}\n";

static void expect_refused(const char *text, const char *needle) {
  aicc_loop_ctx *lc = aicc_loop_ctx_create();
  aicc_loop_module m;
  check(aicc_loop_module_parse(lc, "t", text, strlen(text), &m));
  char *src = NULL;
  size_t len = 0;
  aicc_codegen_options opt = {AICC_CODEGEN_SCALAR, false};
  aicc_status s = aicc_codegen_c((const aicc_loop_func *const *)m.funcs, m.nfuncs, &opt, &src, &len);
  assert_non_null(s);
  assert_int_equal(aicc_status_code(s), AICC_ERR_UNSUPPORTED);
  if (!strstr(aicc_status_message(s), needle))
    fail_msg("message '%s' lacks '%s'", aicc_status_message(s), needle);
  assert_non_null(strstr(aicc_status_message(s), "func '"));
  assert_null(src);
  aicc_status_free(s);
  aicc_loop_ctx_destroy(lc);
}

static void parallel_chunks(void **state) {
  fixture *fx = *state;
  run_opts o = {.fill = {5, 100, false}};
  compiled c;
  assert_int_equal(run_all(fx, PAR, AICC_CODEGEN_SCALAR, &o, &c), 0);
  assert_true(aicc_codegen_func_parallel(c.m.funcs[0]));
  assert_true(aicc_codegen_func_parallel(c.m.funcs[1]));
  assert_false(aicc_codegen_func_parallel(c.m.funcs[2]));
  /* the chunks of ntasks = 3 over 37 iterations cover each one once: B was
   * compared after calling tasks 0, 1, 2 in turn */
  compiled_free(&c);

  expect_refused("func f(A: f32[4]) {\n parallel for (i, 0, 4) { A[i] = 1.0 }\n"
                 " parallel for (i, 0, 4) { A[i] = 2.0 }\n}\n",
                 "parallel loops");
  expect_refused("func f(A: f32[4]) {\n for (k, 0, 2) {\n parallel for (i, 0, 4) { A[i] = 1.0 }\n }\n}\n",
                 "parallel");
  expect_refused("func f(A: f32[4]) {\n A[0] = 0.0\n parallel for (i, 0, 4) { A[i] = 1.0 }\n}\n",
                 "parallel");
  expect_refused("func f(A: f32[4]) {\n if (true) {\n parallel for (i, 0, 4) { A[i] = 1.0 }\n }\n}\n",
                 "parallel");
}

static void refusals(void **state) {
  (void)state;
  expect_refused("func f(N: i32, A: f32[4]) {\n A[0] = f32(N)\n}\n", "scalar parameter 'N'");
  expect_refused("func f(N: i32, A: f32[N]) {\n A[0] = 1.0\n}\n", "scalar parameter");
  expect_refused("func f(A: f16[4]) {\n A[0] = A[1]\n}\n", "f16");
  expect_refused("func f(A: f32[4]) {\n allocate T: bf16[4] {\n A[0] = 1.0\n }\n}\n", "bf16");
  expect_refused("func int(A: f32[4]) {\n A[0] = 1.0\n}\n", "reserved");
}

/* ---- vectorized loops ---------------------------------------------------- */

static const char VEC[] =
    "func vec(A: f32[8, 64], B: f32[8, 64], C: f32[8, 64, 6], S: f32[4], I: i32[8, 64],\n"
    "         O: f32[8, 64], Q: f32[8, 64]) {\n"
    "  for (i, 0, 8) {\n"
    "    vectorized for (j, 0, 64) {\n"
    "      O[i, j] = A[i, j]*B[i, j] + S[1] - min(A[i, j], 0.5)/max(B[i, j], A[i, j]) + fma(A[i, j], S[2], B[i, j])\n"
    "    }\n"
    "    vectorized for (j, 0, 64) {\n"
    "      let t = exp(A[i, j]) {\n"
    "        let jj = j + 0 {\n"
    "          Q[i, jj] = select(A[i, j] < B[i, j] && !(t > 2.0) || S[0] > 0.0, t, tanh(A[i, j]) + sigmoid(B[i, j]))\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  for (i, 0, 8) {\n"
    "    for (jo, 0, 4) {\n"
    "      vectorized for (ji, 0, 16) {\n"
    "        C[i, jo*16 + ji, 0] = 0.0\n" /* lane stride 6: stays scalar */
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "func vec2(A: f32[8, 64], B: f32[8, 64], S: f32[4], I: i32[8, 64], O: f32[8, 64, 1],\n"
    "          P: f32[8, 64], R: f32[8, 64], T: f32[8, 64]) {\n"
    "  for (io, 0, 2) {\n"
    "    for (ii, 0, 4) {\n"
    "      vectorized for (j, 0, 64) {\n"
    "        O[io*4 + ii, j, 0] = abs(A[io*4 + ii, j]) + sqrt(abs(B[io*4 + ii, j])) + rsqrt(abs(A[io*4 + ii, j]))\n"
    "        P[io*4 + ii, j] = floor(A[io*4 + ii, j]) + ceil(B[io*4 + ii, j]) + trunc(A[io*4 + ii, j]*3.0) + round(B[io*4 + ii, j]*4.0)\n"
    "        R[io*4 + ii, j] = f32(j) + f32(io*64 + j*2) + f32(I[io*4 + ii, j]) + sign(A[io*4 + ii, j]) + A[io*4 + ii, j] % B[io*4 + ii, j]\n"
    "        T[io*4 + ii, j] = log(abs(A[io*4 + ii, j])) + erf(B[io*4 + ii, j]) + pow(abs(A[io*4 + ii, j]), B[io*4 + ii, j]) + min(A[io*4 + ii, j], B[io*4 + ii, j])\n"
    "        S[3] = 5.0\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "}\n"
    "func vec3(A: f32[16, 32], B: f32[32, 32], C: f32[16, 32], D: f64[4, 16], E: f64[4, 16]) {\n"
    "  for (i, 0, 16) {\n"
    "    vectorized for (j, 0, 32) {\n"
    "      C[i, j] = 0.0\n"
    "      for (k, 0, 32) {\n"            /* accumulator stores in the vector loop */
    "        C[i, j] = C[i, j] + A[i, k]*B[k, j]\n"
    "      }\n"
    "      if (i < 8) {\n"
    "        C[i, j] = C[i, j]*0.5\n"
    "      }\n"
    "    }\n"
    "  }\n"
    "  for (i, 0, 4) {\n"
    "    vectorized for (j, 0, 16) {\n"
    "      E[i, j] = D[i, j]*D[i, j] - min(D[i, j], 0.25f64) + select(D[i, j] > 0.0f64, exp(D[i, j]), f64(j) + f64(i)) + max(D[i, j], E[i, j]) + abs(D[i, j]) + sign(D[i, j])\n"
    "    }\n"
    "  }\n"
    "}\n";

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p++) n++;
  return n;
}

static void vectorized_loops(void **state) {
  fixture *fx = *state;
  int ran = 0;
  for (size_t k = 0; k < sizeof all_isas / sizeof all_isas[0]; k++) {
    aicc_codegen_isa isa = all_isas[k];
    if (!host_has(isa)) {
      printf("[codegen] host lacks isa %d: vectorized loops not run under it\n", (int)isa);
      continue;
    }
    for (uint64_t seed = 1; seed <= 2; seed++) {
      run_opts o = {.fill = {3, 100, seed == 2}, .tol = 4e-6, .seed = seed};
      compiled c;
      assert_int_equal(run_all(fx, VEC, isa, &o, &c), 0);
      const char *pfx = isa == AICC_CODEGEN_AVX512 ? "_mm512_" : "_mm256_";
      if (isa == AICC_CODEGEN_SCALAR) {
        assert_null(strstr(c.src, "_mm"));
        assert_int_equal(count(c.src, "GCC ivdep"), 6);
      } else {
        assert_non_null(strstr(c.src, pfx));
        /* every vectorized loop but the stride-6 one has intrinsics */
        assert_int_equal(count(c.src, ": scalar ("), 1);
        assert_non_null(strstr(c.src, "lane stride 6"));
        assert_int_equal(count(c.src, "lanes ("), 5);
      }
      compiled_free(&c);
      ran++;
    }
  }
  printf("[codegen] vectorized loops: %d runs (3 funcs, 6 vectorized loops)\n", ran);
}

/* Extents that are not a multiple of the lanes, and values that vary across
 * lanes in ways the vector form does not cover, stay scalar and correct;
 * strided loads (reversed, every other element) become gathers. */
static void vector_fallbacks(void **state) {
  fixture *fx = *state;
  if (!host_has(AICC_CODEGEN_AVX2)) skip();
  static const char text[] =
      "func fb(A: f32[40], B: f32[40], I: i32[40], C: f64[40], D: f32[16], E: f64[16]) {\n"
      "  vectorized for (j, 0, 12) { B[j] = A[j] + 1.0 }\n"
      "  vectorized for (j, 0, 16) { B[j + 16] = A[39 - j] }\n"
      "  vectorized for (j, 0, 16) { D[j] = A[2*j + 1] - A[39 - j] }\n"
      "  vectorized for (j, 0, 16) { E[j] = C[39 - 2*j] }\n"
      "  vectorized for (j, 0, 16) { I[j] = I[j] * 2 }\n"
      "  vectorized for (j, 0, 16) { B[j] = select(j < 3, A[j], 0.0) }\n"
      "  vectorized for (j, 0, 16) { C[j] = f64(A[j]) }\n"
      "  vectorized for (j, 0, 16) { allocate T: f32[1] { T[0] = A[j]\n B[j + 8] = T[0] } }\n"
      "}\n";
  for (int k = 1; k < 3; k++) {
    if (!host_has(all_isas[k])) continue;
    compiled c;
    run_opts o = {.fill = {3, 100, false}};
    assert_int_equal(run_all(fx, text, all_isas[k], &o, &c), 0);
    assert_int_equal(count(c.src, ": scalar ("), 5);
    assert_int_equal(count(c.src, "i32gather_ps("), 3);
    assert_int_equal(count(c.src, "i32gather_pd("), 1);
    assert_null(strstr(c.src, "lane stride"));
    assert_non_null(strstr(c.src, "not a multiple"));
    assert_non_null(strstr(c.src, "no f32/f64 stores"));
    assert_non_null(strstr(c.src, "integer comparison"));
    assert_non_null(strstr(c.src, "allocate T"));
    compiled_free(&c);
  }
}

/* ---- the vector math helpers against libm ---------------------------------- */

/* Each vector helper against libm (in double, rounded to f32) on a sweep
 * over [-110, 100], dense near 0, plus the special values: NaN, +-inf,
 * +-0, the exp overflow/underflow edges, denormals, and each helper's
 * branch points (tanh 0.625, erf 0.875 and 3.92, log's sqrt(1/2) and 1).
 * log reads |x| too (its own sweep over every exponent), so negatives test
 * its NaN and the magnitudes its range. */
enum { VM_FNS = 5 };
static const char *const vm_names[VM_FNS] = {"exp", "tanh", "sigmoid", "erf", "log"};

static double vm_libm(int f, double x) {
  switch (f) {
  case 0: return exp(x);
  case 1: return tanh(x);
  case 2: return 1 / (1 + exp(-x));
  case 3: return erf(x);
  default: return log(x);
  }
}

static void vector_math_accuracy(void **state) {
  fixture *fx = *state;
  enum { N = 1 << 16 };
  static char text[1024];
  snprintf(text, sizeof text,
           "func vm(X: f32[%d], L: f32[%d], E: f32[%d], T: f32[%d], S: f32[%d], R: f32[%d], "
           "G: f32[%d]) {\n"
           "  vectorized for (j, 0, %d) {\n"
           "    E[j] = exp(X[j])\n"
           "    T[j] = tanh(X[j])\n"
           "    S[j] = sigmoid(X[j])\n"
           "    R[j] = erf(X[j])\n"
           "    G[j] = log(L[j])\n"
           "  }\n"
           "}\n",
           N, N, N, N, N, N, N, N);
  for (int k = 1; k < 3; k++) {
    aicc_codegen_isa isa = all_isas[k];
    if (!host_has(isa)) continue;
    compiled c;
    compile_text(fx, NULL, text, isa, &c);
    assert_null(strstr(c.src, ": scalar ("));
    assert_null(strstr(c.src, "aicc_lanes_")); /* every function has its vector form */
    kernel_fn fn = kernel(&c, c.m.funcs[0]);
    float *buf[7];
    for (int b = 0; b < 7; b++) assert_non_null(buf[b] = aligned_alloc(64, N * 4));
    float *x = buf[0], *lx = buf[1];
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
      double u = unif(&rng);
      x[i] = i % 4 == 0 ? (float)(u * 210 - 110) : i % 4 == 1 ? (float)(u * 2 - 1)
             : i % 4 == 2 ? (float)((u * 2 - 1) * 1e-5) : (float)(u * 40 - 20);
      /* log: every binade from the denormals up, and near 1 */
      double v = unif(&rng);
      lx[i] = i % 3 == 0 ? (float)ldexp(1 + v, (int)(unif(&rng) * 277) - 150)
              : i % 3 == 1 ? (float)(1 + (v * 2 - 1) * 0.02) : (float)(v * 4);
      if (i % 17 == 0) lx[i] = -lx[i];
    }
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.72283f, 88.7229f,
                               -87.33654f, -103.2f, -104.5f, 1e-40f, 0.625f, -0.625f, 0.62499f,
                               9.0f, 0.875f, -0.875f, 0.87499f, 3.92f, 4.0f, -5.0f, 1.0f,
                               0.70710677f, 0.7071067f, 1.4142135f, 0x1p-149f, 0x1p-126f,
                               0x1.fffffep127f, -1e-40f};
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) x[i * 7 + 1] = lx[i * 7 + 1] = sp[i];
    void *bufs[7] = {x, lx, buf[2], buf[3], buf[4], buf[5], buf[6]};
    assert_int_equal(fn(bufs, 0, 1), 0);
    double worst[VM_FNS] = {0};
    for (int i = 0; i < N; i++) {
      for (int f = 0; f < VM_FNS; f++) {
        double xd = f == 4 ? lx[i] : x[i];
        double w = (double)(float)vm_libm(f, xd), g = buf[2 + f][i];
        if (isnan(w) || isnan(g)) {
          if (!(isnan(w) && isnan(g))) fail_msg("%s at %a: %a, libm %a", vm_names[f], xd, g, w);
          continue;
        }
        if (isinf(w) || isinf(g)) {
          if (w != g) fail_msg("%s at %a: %a, libm %a", vm_names[f], xd, g, w);
          continue;
        }
        if (w == 0 && xd == 0 && signbit(w) != signbit(g)) /* erf(-0), tanh(-0) */
          fail_msg("%s at %a: %a, libm %a", vm_names[f], xd, g, w);
        if (fabs(w) < 1.2e-38) { /* denormal results: absolute error */
          if (fabs(g - w) > 1.5e-45 * 2) fail_msg("%s at %a: %a, libm %a", vm_names[f], xd, g, w);
          continue;
        }
        double rel = fabs(g - w) / fabs(w);
        if (rel > worst[f]) worst[f] = rel;
      }
    }
    printf("[codegen] vector math (%s, %d points): max rel error",
           isa == AICC_CODEGEN_AVX512 ? "avx512" : "avx2", N);
    for (int f = 0; f < VM_FNS; f++) printf(" %s %.2e", vm_names[f], worst[f]);
    printf("\n");
    for (int f = 0; f < VM_FNS; f++) assert_true(worst[f] < 1e-6);
    for (int b = 0; b < 7; b++) free(buf[b]);
    compiled_free(&c);
  }
}

/* ---- random expression trees ---------------------------------------------- */

typedef struct sb {
  char *s;
  size_t len, cap;
} sb;

static void sbf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(sb *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof tmp);
  if (b->len + (size_t)n + 1 > b->cap) {
    b->cap = (b->cap + (size_t)n + 1) * 2;
    b->s = realloc(b->s, b->cap);
    assert_non_null(b->s);
  }
  memcpy(b->s + b->len, tmp, (size_t)n + 1);
  b->len += (size_t)n;
}

static const aicc_dtype rtypes[] = {AICC_DTYPE_I32, AICC_DTYPE_I8, AICC_DTYPE_U8, AICC_DTYPE_I64,
                                    AICC_DTYPE_U16, AICC_DTYPE_F32, AICC_DTYPE_F64};
enum { NRT = sizeof rtypes / sizeof rtypes[0] };

typedef struct rgen {
  uint64_t s;
  bool vec_f32; /* only forms with a vector form (f32 trees for vectorized loops) */
} rgen;

static void gen_expr(rgen *r, sb *b, aicc_dtype t, int depth);

static void gen_leaf(rgen *r, sb *b, aicc_dtype t) {
  const char *tx = aicc_dtype_text(t);
  int k = (int)(rnd(&r->s) % 5);
  if (k <= 1) {
    sbf(b, "in_%s[i]", tx);
  } else if (k == 2) {
    if (is_float_t(t)) {
      static const char *const fl[] = {"0.0", "1.5", "-2.25", "0.1", "3.0", "-0.0", "1e+20"};
      sbf(b, "%s%s", fl[rnd(&r->s) % 7], t == AICC_DTYPE_F64 ? "f64" : "");
    } else {
      int64_t v = (int64_t)(rnd(&r->s) % 21) - 10;
      if (t == AICC_DTYPE_U8 || t == AICC_DTYPE_U16) v = v < 0 ? -v * 25 : v;
      if (t == AICC_DTYPE_I32) sbf(b, "%lld", (long long)v);
      else sbf(b, "%lld%s", (long long)v, tx);
    }
  } else if (k == 3) {
    sbf(b, "%s(i)", tx);
  } else {
    if (r->vec_f32) sbf(b, "f32(in_i32[i])");
    else sbf(b, "in_%s[63 - i]", tx);
  }
}

static void gen_cond(rgen *r, sb *b, aicc_dtype t, int depth) {
  int k = (int)(rnd(&r->s) % 6);
  if (depth > 0 && k == 0) {
    sbf(b, "(");
    gen_cond(r, b, t, depth - 1);
    sbf(b, rnd(&r->s) & 1 ? " && " : " || ");
    gen_cond(r, b, t, depth - 1);
    sbf(b, ")");
    return;
  }
  if (depth > 0 && k == 1) {
    sbf(b, "!(");
    gen_cond(r, b, t, depth - 1);
    sbf(b, ")");
    return;
  }
  aicc_dtype ct = r->vec_f32 ? AICC_DTYPE_F32 : rtypes[rnd(&r->s) % NRT];
  static const char *const cmp[] = {"<", "<=", ">", ">=", "==", "!="};
  sbf(b, "(");
  gen_expr(r, b, ct, depth > 0 ? depth - 1 : 0);
  sbf(b, " %s ", cmp[rnd(&r->s) % 6]);
  gen_expr(r, b, ct, depth > 0 ? depth - 1 : 0);
  sbf(b, ")");
}

static void gen_expr(rgen *r, sb *b, aicc_dtype t, int depth) {
  if (depth <= 0 || rnd(&r->s) % 5 == 0) {
    gen_leaf(r, b, t);
    return;
  }
  bool fl = is_float_t(t);
  int k = (int)(rnd(&r->s) % 10);
  if (k <= 4) {
    static const char *const ops[] = {"+", "-", "*", "/", "%"};
    sbf(b, "(");
    gen_expr(r, b, t, depth - 1);
    sbf(b, " %s ", ops[rnd(&r->s) % 5]);
    gen_expr(r, b, t, depth - 1);
    sbf(b, ")");
  } else if (k == 5) {
    sbf(b, rnd(&r->s) & 1 ? "min(" : "max(");
    gen_expr(r, b, t, depth - 1);
    sbf(b, ", ");
    gen_expr(r, b, t, depth - 1);
    sbf(b, ")");
  } else if (k == 6) {
    sbf(b, "select(");
    gen_cond(r, b, t, depth - 1);
    sbf(b, ", ");
    gen_expr(r, b, t, depth - 1);
    sbf(b, ", ");
    gen_expr(r, b, t, depth - 1);
    sbf(b, ")");
  } else if (k == 7 && fl) {
    /* intrinsics whose f32 results equal the interpreter's (correctly rounded) */
    static const char *const fns[] = {"abs", "sqrt", "floor", "ceil", "trunc", "round"};
    sbf(b, "%s(", fns[rnd(&r->s) % 6]);
    gen_expr(r, b, t, depth - 1);
    sbf(b, ")");
  } else if (k == 8 && !r->vec_f32) {
    aicc_dtype from = rtypes[rnd(&r->s) % NRT];
    sbf(b, "%s(", aicc_dtype_text(t));
    gen_expr(r, b, from, depth - 1);
    sbf(b, ")");
  } else if (fl) {
    sbf(b, "-");
    gen_leaf(r, b, t);
  } else {
    sbf(b, t == AICC_DTYPE_I32 ? "(0 - " : "(0%s - ", aicc_dtype_text(t));
    gen_leaf(r, b, t);
    sbf(b, ")");
  }
}

static char *random_module(uint64_t seed, int nfuncs, bool vec_f32, int *nstores) {
  sb b = {0};
  rgen r = {seed * 0x2545F4914F6CDD1Dull + 1, vec_f32};
  *nstores = 0;
  for (int f = 0; f < nfuncs; f++) {
    sbf(&b, "func r%d(", f);
    for (int k = 0; k < NRT; k++) sbf(&b, "in_%s: %s[64], ", aicc_dtype_text(rtypes[k]), aicc_dtype_text(rtypes[k]));
    for (int k = 0; k < NRT; k++)
      sbf(&b, "out_%s: %s[64]%s", aicc_dtype_text(rtypes[k]), aicc_dtype_text(rtypes[k]), k + 1 < NRT ? ", " : "");
    sbf(&b, ") {\n");
    sbf(&b, "  %sfor (i, 0, 64) {\n", vec_f32 ? "vectorized " : "");
    for (int k = 0; k < NRT; k++) {
      aicc_dtype t = rtypes[k];
      if (vec_f32 && t != AICC_DTYPE_F32) continue;
      sbf(&b, "    out_%s[i] = ", aicc_dtype_text(t));
      gen_expr(&r, &b, t, 4);
      sbf(&b, "\n");
      (*nstores)++;
    }
    sbf(&b, "  }\n}\n");
  }
  return b.s;
}

static void random_trees(void **state) {
  fixture *fx = *state;
  int funcs = 0, stores = 0, data = 0;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    int ns;
    char *text = random_module(seed, 30, false, &ns);
    run_opts o = {.fill = {4, seed % 2 ? 20 : 0, seed % 3 == 0}, .seed = seed};
    int bad = run_all(fx, text, AICC_CODEGEN_SCALAR, &o, NULL);
    if (bad) fprintf(stderr, "---- seed %llu ----\n%s\n", (unsigned long long)seed, text);
    assert_int_equal(bad, 0);
    free(text);
    funcs += 30;
    stores += ns;
    data++;
  }
  printf("[codegen] random trees (scalar): %d funcs, %d stores, exact match\n", funcs, stores);
  funcs = stores = 0;
  for (int k = 1; k < 3; k++) {
    if (!host_has(all_isas[k])) continue;
    for (uint64_t seed = 1; seed <= 3; seed++) {
      int ns;
      char *text = random_module(seed + 100, 40, true, &ns);
      run_opts o = {.fill = {4, 1000, seed == 3}, .seed = seed};
      compiled c;
      int bad = run_all(fx, text, all_isas[k], &o, &c);
      if (bad) fprintf(stderr, "---- vec seed %llu ----\n%s\n", (unsigned long long)seed, text);
      assert_int_equal(bad, 0);
      assert_int_equal(count(c.src, ": scalar ("), 0);
      compiled_free(&c);
      free(text);
      funcs += 40;
      stores += ns;
    }
  }
  printf("[codegen] random trees (vectorized f32, avx2 + avx512): %d funcs, %d stores, exact match\n",
         funcs, stores);
}

/* ---- the text itself ------------------------------------------------------- */

static void text_and_options(void **state) {
  fixture *fx = *state;
  static const char text[] =
      "func odd_name(A: f32[2, 3], B: i32[4], int: f32[1]) {\n"
      "  for (exp, 0, 2) {\n"
      "    for (j, 0, 3) {\n"
      "      A[exp, j] = exp(A[exp, j]) + int[0]\n"
      "    }\n"
      "  }\n"
      "  let bufs = 2 {\n"
      "    B[bufs] = bufs\n"
      "    evaluate exp(A[0, 0])\n"
      "  }\n"
      "  let unused = 3 {\n"
      "    evaluate unused + 1\n"
      "  }\n"
      "}\n";
  compiled c;
  run_opts o = {.fill = {2, 5, false}};
  assert_int_equal(run_all(fx, text, AICC_CODEGEN_SCALAR, &o, &c), 0);
  char id[64];
  assert_string_equal(aicc_codegen_ident("odd.name-1", id, sizeof id), "odd_name_1");
  assert_string_equal(aicc_codegen_ident("3x", id, sizeof id), "_3x");
  assert_string_equal(aicc_codegen_ident("abcdef", id, 4), "abc");
  assert_non_null(strstr(c.src, "int odd_name(void *const *bufs, int task, int ntasks)"));
  assert_non_null(strstr(c.src, "// func odd_name("));   /* comments = true */
  assert_non_null(strstr(c.src, "const float *restrict")); /* int: read only */
  assert_non_null(strstr(c.src, "/* A: f32[2, 3] */"));
  assert_null(strstr(c.src, "int32_t unused")); /* a let never read */
  /* the same source under -O2 with -Werror, and under clang when present */
  const char *ccs[] = {"cc", "clang"};
  for (int k = 0; k < 2; k++) {
    char *path = aicc_jit_which(ccs[k]);
    if (!path) continue;
    free(path);
    aicc_jit_options jo = {.cc = ccs[k], .flags = O2_FLAGS, .cache_dir = fx->dir};
    aicc_jit_ctx *j2 = NULL;
    check(aicc_jit_ctx_create(&jo, &j2));
    aicc_jit_module *m = NULL;
    check(aicc_jit_compile(j2, c.src, strlen(c.src), &m, NULL));
    aicc_jit_module_release(m);
    aicc_jit_ctx_destroy(j2);
  }
  compiled_free(&c);
}

/* Every test above compiled with -Werror; compile the vector tests' C under
 * -O2 and clang too. */
static void werror_other_compilers(void **state) {
  fixture *fx = *state;
  const char *texts[] = {VEC, INTS, FLOATS, ALLOC, PAR};
  const char *ccs[] = {"cc", "clang"};
  int n = 0;
  for (int k = 0; k < 2; k++) {
    char *path = aicc_jit_which(ccs[k]);
    if (!path) continue;
    free(path);
    aicc_jit_options jo = {.cc = ccs[k], .flags = O2_FLAGS, .cache_dir = fx->dir};
    aicc_jit_ctx *j2 = NULL;
    check(aicc_jit_ctx_create(&jo, &j2));
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
      for (int i = 0; i < 3; i++) {
        if (!host_has(all_isas[i])) continue;
        compiled c;
        compile_text(fx, j2, texts[t], all_isas[i], &c);
        compiled_free(&c);
        n++;
      }
    aicc_jit_ctx_destroy(j2);
  }
  printf("[codegen] %d more sources compiled warning-free (-O2 -Werror; cc and clang)\n", n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(integer_semantics),
      cmocka_unit_test(floats_and_intrinsics),
      cmocka_unit_test(allocations),
      cmocka_unit_test(parallel_chunks),
      cmocka_unit_test(refusals),
      cmocka_unit_test(vectorized_loops),
      cmocka_unit_test(vector_fallbacks),
      cmocka_unit_test(vector_math_accuracy),
      cmocka_unit_test(random_trees),
      cmocka_unit_test(text_and_options),
      cmocka_unit_test(werror_other_compilers),
  };
  (void)g_fx;
  return cmocka_run_group_tests(tests, setup, teardown);
}
