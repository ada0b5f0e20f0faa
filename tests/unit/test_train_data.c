/* The training data pipeline: NPY read/write and the seeded, prefetching
 * batch loader (src/train). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "train/data.h"
#include "train/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static aicc_tensor *iota(aicc_dtype dt, int rank, const int64_t *dims) {
  aicc_tensor *t = NULL;
  assert_null(aicc_tensor_create(dt, rank, dims, &t));
  for (int64_t i = 0; i < aicc_tensor_numel(t); i++) aicc_tensor_set_f64(t, i, (double)i * 0.5);
  return t;
}

static void test_npy_roundtrip(void **state) {
  (void)state;
  char dir[] = "/tmp/aicc_npy_XXXXXX";
  assert_non_null(mkdtemp(dir));
  const aicc_dtype dts[] = {AICC_DTYPE_F32, AICC_DTYPE_F64, AICC_DTYPE_I64, AICC_DTYPE_U8,
                            AICC_DTYPE_BOOL, AICC_DTYPE_I32};
  for (size_t k = 0; k < sizeof dts / sizeof dts[0]; k++) {
    int64_t dims[3] = {3, 5, 2};
    aicc_tensor *t = iota(dts[k], 3, dims), *u = NULL;
    char path[256];
    snprintf(path, sizeof path, "%s/a%zu.npy", dir, k);
    assert_null(aicc_npy_save(path, t));
    assert_null(aicc_npy_load(path, &u));
    assert_int_equal(u->dtype, t->dtype);
    assert_int_equal(u->rank, 3);
    assert_memory_equal(u->dims, t->dims, 3 * sizeof(int64_t));
    assert_memory_equal(u->data, t->data, t->nbytes);
    aicc_tensor_release(t);
    aicc_tensor_release(u);
    unlink(path);
  }
  rmdir(dir);
}

static void expect_error(const char *bytes, size_t len, const char *needle) {
  aicc_tensor *t = NULL;
  aicc_status st = aicc_npy_parse("x.npy", bytes, len, &t);
  assert_non_null(st);
  assert_null(t);
  if (!strstr(aicc_status_message(st), needle)) fail_msg("%s", aicc_status_message(st));
  aicc_status_free(st);
}

static void test_npy_errors(void **state) {
  (void)state;
  expect_error("hello world!", 12, "bad magic");
  char h[128];
  const char *fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }";
  const char *bigend = "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }";
  const char *shortd = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
  const char *cases[][2] = {{fortran, "fortran_order"}, {bigend, ">f4"}, {shortd, "data is"}};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(cases[i][0]);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)n;
    h[9] = 0;
    memcpy(h + 10, cases[i][0], n);
    memset(h + 10 + n, 0, 8); /* 8 data bytes: two f32 */
    expect_error(h, 10 + n + 8, cases[i][1]);
  }
  expect_error("\x93NUMPY\x01\x00\xff\x00{", 11, "past the end");
}

static void run_epoch(aicc_loader *l, int64_t e, int64_t *seen_first, int64_t *nb) {
  assert_null(aicc_loader_epoch(l, e));
  aicc_tensor *bx, *by;
  *nb = 0;
  int64_t k = 0;
  for (;;) {
    assert_null(aicc_loader_next(l, &bx, &by));
    if (!bx) break;
    /* Row r of x holds r*8*0.5.. and y[r] = r*0.5: the rows agree. */
    for (int64_t i = 0; i < bx->dims[0]; i++) {
      double yv = aicc_tensor_get_f64(by, i);
      assert_true(aicc_tensor_get_f64(bx, i * 4) == yv * 4);
      seen_first[k++] = (int64_t)(yv * 2);
    }
    (*nb)++;
    aicc_tensor_release(bx);
    aicc_tensor_release(by);
  }
}

static void test_loader(void **state) {
  (void)state;
  int64_t dx[2] = {50, 4}, dy[1] = {50};
  aicc_tensor *x = iota(AICC_DTYPE_F32, 2, dx), *y = iota(AICC_DTYPE_F32, 1, dy);
  int64_t a[50], b[50], c[50], d[50], nb;
  aicc_loader_options o = {8, 42, true, false, true};
  aicc_loader *l1, *l2, *l3;
  assert_null(aicc_loader_create(x, y, &o, &l1));
  o.prefetch = false;
  assert_null(aicc_loader_create(x, y, &o, &l2));
  o.seed = 43;
  assert_null(aicc_loader_create(x, y, &o, &l3));
  assert_int_equal(aicc_loader_batches(l1), 7);
  run_epoch(l1, 0, a, &nb);
  assert_int_equal(nb, 7);
  run_epoch(l2, 0, b, &nb);
  assert_memory_equal(a, b, sizeof a); /* prefetch changes nothing */
  run_epoch(l3, 0, c, &nb);
  assert_true(memcmp(a, c, sizeof a) != 0); /* the seed matters */
  run_epoch(l1, 1, d, &nb);
  assert_true(memcmp(a, d, sizeof a) != 0); /* so does the epoch */
  int seen[50] = {0};
  for (int i = 0; i < 50; i++) seen[d[i]]++;
  for (int i = 0; i < 50; i++) assert_int_equal(seen[i], 1); /* a permutation */
  /* Restarting an epoch mid-way reproduces it. */
  assert_null(aicc_loader_epoch(l1, 0));
  aicc_tensor *bx, *by;
  assert_null(aicc_loader_next(l1, &bx, &by));
  aicc_tensor_release(bx);
  aicc_tensor_release(by);
  run_epoch(l1, 0, b, &nb);
  assert_memory_equal(a, b, sizeof a);
  aicc_loader_destroy(l1);
  aicc_loader_destroy(l2);
  aicc_loader_destroy(l3);
  o.drop_last = true;
  assert_null(aicc_loader_create(x, y, &o, &l1));
  assert_int_equal(aicc_loader_batches(l1), 6);
  aicc_loader_destroy(l1);
  int64_t bad[1] = {49};
  aicc_tensor *ybad = iota(AICC_DTYPE_F32, 1, bad);
  aicc_status st = aicc_loader_create(x, ybad, &o, &l1);
  assert_non_null(st);
  aicc_status_free(st);
  aicc_tensor_release(ybad);
  aicc_tensor_release(x);
  aicc_tensor_release(y);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_npy_roundtrip),
      cmocka_unit_test(test_npy_errors),
      cmocka_unit_test(test_loader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
