/* Unit tests for the JIT (src/jit): SHA-256 vectors (FIPS 180-2 appendix B),
 * compile-and-call, cache hits without spawning, keys, compiler errors and
 * absence, timeouts, a fresh context reusing the cache, concurrent compiles. */
#define _GNU_SOURCE /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "jit/jit.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- SHA-256 ------------------------------------------------------------ */

static void sha256_vectors(void **state) {
  char hex[65];
  aicc_jit_sha256_hex_of("", 0, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  aicc_jit_sha256_hex_of("abc", 3, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  aicc_jit_sha256_hex_of(m448, strlen(m448), hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  aicc_jit_sha256_hex_of(m896, strlen(m896), hex);
  assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

  /* A million 'a', fed in uneven pieces to exercise the block buffering. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  aicc_jit_sha256 s;
  aicc_jit_sha256_init(&s);
  size_t off = 0, piece = 1;
  while (off < sizeof a) {
    size_t n = piece < sizeof a - off ? piece : sizeof a - off;
    aicc_jit_sha256_update(&s, a + off, n);
    off += n;
    piece = piece * 7 % 1000 + 1;
  }
  aicc_jit_sha256_hex(&s, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  aicc_jit_sha256_hex_of(a, sizeof a, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  /* Padding edges: 55, 56, 63, 64 bytes (one or two final blocks). */
  static const struct {
    size_t n;
    const char *hex;
  } edges[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
  };
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    aicc_jit_sha256_hex_of(a, edges[i].n, hex);
    assert_string_equal(hex, edges[i].hex);
  }
}

/* ---- fixtures ----------------------------------------------------------- */

typedef struct fixture {
  char dir[64]; /* the temp cache dir */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/aicc-jit-test-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  *state = f;
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

static int teardown(void **state) {
  fixture *f = *state;
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static aicc_jit_ctx *ctx_in(const fixture *f, const char *flags) {
  aicc_jit_options o = {.cc = "cc", .flags = flags, .cache_dir = f->dir};
  aicc_jit_ctx *c = NULL;
  aicc_status s = aicc_jit_ctx_create(&o, &c);
  if (s) fail_msg("%s", aicc_status_message(s));
  return c;
}

/* Counts files in dir whose names end with suffix (and, if tmp, start ".tmp"). */
static int count_files(const char *dir, const char *suffix, bool tmp) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name), sl = strlen(suffix);
    bool is_tmp = strstr(e->d_name, ".tmp") != NULL;
    if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0 && is_tmp == tmp) n++;
  }
  closedir(d);
  return n;
}

static const char ADD_SRC[] = "int add3(int a, int b, int c) { return a + b + c; }\n";

typedef int (*add3_fn)(int, int, int);

static add3_fn get_add3(aicc_jit_module *m) {
  void *p = NULL;
  aicc_status s = aicc_jit_module_symbol(m, "add3", &p);
  if (s) fail_msg("%s", aicc_status_message(s));
  add3_fn fn;
  memcpy(&fn, &p, sizeof fn);
  return fn;
}

/* ---- compile, cache ------------------------------------------------------ */

static void compile_and_call(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  aicc_jit_module *m = NULL;
  bool hit = true;
  aicc_status s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, &hit);
  if (s) fail_msg("%s", aicc_status_message(s));
  assert_false(hit);
  assert_int_equal(get_add3(m)(1, 20, 300), 321);

  /* The artifact and its source are named by the digest. */
  char key[65];
  assert_null(aicc_jit_ctx_key(c, ADD_SRC, strlen(ADD_SRC), key));
  assert_string_equal(aicc_jit_module_digest(m), key);
  char path[256];
  snprintf(path, sizeof path, "%s/%s.so", f->dir, key);
  assert_string_equal(aicc_jit_module_path(m), path);
  assert_int_equal(access(path, R_OK), 0);
  snprintf(path, sizeof path, "%s/%s.c", f->dir, key);
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  char text[256] = {0};
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  assert_int_equal(n, strlen(ADD_SRC));
  assert_string_equal(text, ADD_SRC);

  aicc_jit_stats st;
  aicc_jit_ctx_stats(c, &st);
  assert_int_equal(st.compiles, 1);
  assert_int_equal(st.cache_hits, 0);
  assert_int_equal(st.spawns, 2); /* the version probe and the compile */
  assert_true(st.compile_ms > 0);

  /* The module outlives its context, and retain/release count. */
  aicc_jit_ctx_destroy(c);
  aicc_jit_module_retain(m);
  aicc_jit_module_release(m);
  assert_int_equal(get_add3(m)(2, 2, 2), 6);
  aicc_jit_module_release(m);
  aicc_jit_module_release(NULL);
}

static void second_compile_hits(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  aicc_jit_module *m1 = NULL, *m2 = NULL;
  bool hit = true;
  assert_null(aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m1, &hit));
  assert_false(hit);
  aicc_jit_stats before, after;
  aicc_jit_ctx_stats(c, &before);
  assert_null(aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m2, &hit));
  assert_true(hit);
  aicc_jit_ctx_stats(c, &after);
  assert_int_equal(after.spawns, before.spawns); /* no process started */
  assert_int_equal(after.compiles, before.compiles);
  assert_int_equal(after.cache_hits, before.cache_hits + 1);
  assert_int_equal(get_add3(m2)(1, 1, 1), 3);
  /* Releasing one module keeps the other's code mapped (dlopen refcount). */
  aicc_jit_module_release(m1);
  assert_int_equal(get_add3(m2)(4, 5, 6), 15);
  aicc_jit_module_release(m2);

  /* A different source is a miss. */
  const char *other = "int add3(int a, int b, int c) { return a + b + c + 1; }\n";
  assert_null(aicc_jit_compile(c, other, strlen(other), &m1, &hit));
  assert_false(hit);
  assert_int_equal(get_add3(m1)(1, 1, 1), 4);
  aicc_jit_module_release(m1);
  aicc_jit_ctx_destroy(c);
}

static void flags_change_key(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *a = ctx_in(f, NULL);
  aicc_jit_ctx *b = ctx_in(f, "-O0 -fPIC -shared -std=c99");
  char ka[65], kb[65], ka2[65];
  assert_null(aicc_jit_ctx_key(a, ADD_SRC, strlen(ADD_SRC), ka));
  assert_null(aicc_jit_ctx_key(b, ADD_SRC, strlen(ADD_SRC), kb));
  assert_string_not_equal(ka, kb);
  /* Same inputs, same key; one more byte of source, another key. */
  assert_null(aicc_jit_ctx_key(a, ADD_SRC, strlen(ADD_SRC), ka2));
  assert_string_equal(ka, ka2);
  assert_null(aicc_jit_ctx_key(a, ADD_SRC, strlen(ADD_SRC) - 1, ka2));
  assert_string_not_equal(ka, ka2);

  aicc_jit_module *ma = NULL, *mb = NULL;
  bool hit = true;
  assert_null(aicc_jit_compile(a, ADD_SRC, strlen(ADD_SRC), &ma, &hit));
  assert_false(hit);
  assert_null(aicc_jit_compile(b, ADD_SRC, strlen(ADD_SRC), &mb, &hit));
  assert_false(hit); /* other flags do not reuse the artifact */
  assert_string_equal(aicc_jit_module_digest(mb), kb);
  assert_int_equal(count_files(f->dir, ".so", false), 2);
  aicc_jit_module_release(ma);
  aicc_jit_module_release(mb);
  aicc_jit_ctx_destroy(a);
  aicc_jit_ctx_destroy(b);
}

static void cache_survives_new_ctx(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  aicc_jit_module *m = NULL;
  bool hit = true;
  assert_null(aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, &hit));
  assert_false(hit);
  aicc_jit_module_release(m);
  aicc_jit_ctx_destroy(c);

  c = ctx_in(f, NULL);
  assert_null(aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, &hit));
  assert_true(hit);
  aicc_jit_stats st;
  aicc_jit_ctx_stats(c, &st);
  assert_int_equal(st.compiles, 0);
  assert_int_equal(st.cache_hits, 1);
  assert_int_equal(st.spawns, 1); /* only the version probe of the new context */
  assert_int_equal(get_add3(m)(7, 8, 9), 24);
  aicc_jit_module_release(m);
  aicc_jit_ctx_destroy(c);
}

static void corrupt_artifact_is_rebuilt(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  char key[65], path[256];
  assert_null(aicc_jit_ctx_key(c, ADD_SRC, strlen(ADD_SRC), key));
  snprintf(path, sizeof path, "%s/%s.so", f->dir, key);
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs("not an ELF file", fp);
  fclose(fp);
  aicc_jit_module *m = NULL;
  bool hit = true;
  aicc_status s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, &hit);
  if (s) fail_msg("%s", aicc_status_message(s));
  assert_false(hit);
  assert_int_equal(get_add3(m)(1, 2, 3), 6);
  aicc_jit_module_release(m);
  aicc_jit_ctx_destroy(c);
}

static void stale_temps_swept(void **state) {
  fixture *f = *state;
  char old_tmp[128], new_tmp[128];
  snprintf(old_tmp, sizeof old_tmp, "%s/.tmp-dead-abc123.so", f->dir);
  snprintf(new_tmp, sizeof new_tmp, "%s/.tmp-live-def456.so", f->dir);
  FILE *fp = fopen(old_tmp, "w");
  assert_non_null(fp);
  fclose(fp);
  fp = fopen(new_tmp, "w");
  assert_non_null(fp);
  fclose(fp);
  struct timeval tv[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};
  assert_int_equal(utimes(old_tmp, tv), 0);
  aicc_jit_ctx *c = ctx_in(f, NULL);
  assert_int_equal(access(old_tmp, F_OK), -1); /* two hours old: a dead process's */
  assert_int_equal(access(new_tmp, F_OK), 0);  /* may be a compile running now */
  aicc_jit_ctx_destroy(c);
}

/* ---- errors -------------------------------------------------------------- */

static void syntax_error_shows_message(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  const char *bad = "int broken(int x) { return x +; }\n";
  aicc_jit_module *m = (aicc_jit_module *)1;
  aicc_status s = aicc_jit_compile(c, bad, strlen(bad), &m, NULL);
  assert_non_null(s);
  assert_null(m);
  assert_int_equal(aicc_status_code(s), AICC_ERR_INVALID);
  const char *msg = aicc_status_message(s);
  char key[65], head[256];
  assert_null(aicc_jit_ctx_key(c, bad, strlen(bad), key));
  snprintf(head, sizeof head, "aicc: jit: compiling kernel %s failed (cc exited 1):\n", key);
  assert_true(strncmp(msg, head, strlen(head)) == 0);
  /* The compiler's own diagnostic follows, naming the kept source. */
  assert_non_null(strstr(msg, "error"));
  assert_non_null(strstr(msg, "broken"));
  char src[128];
  snprintf(src, sizeof src, "%s.c", key);
  assert_non_null(strstr(msg, src));
  aicc_status_free(s);
  /* Nothing half-written is left: no artifact, no temp files. */
  assert_int_equal(count_files(f->dir, ".so", false), 0);
  assert_int_equal(count_files(f->dir, "", true), 0);
  /* Warnings promoted to errors by the default flags are caught too. */
  const char *implicit = "int g(void) { return undeclared_fn(); }\n";
  s = aicc_jit_compile(c, implicit, strlen(implicit), &m, NULL);
  assert_non_null(s);
  assert_non_null(strstr(aicc_status_message(s), "undeclared_fn"));
  aicc_status_free(s);
  aicc_jit_ctx_destroy(c);
}

static void missing_compiler(void **state) {
  fixture *f = *state;
  setenv("AICC_CC", "/nonexistent", 1);
  aicc_jit_options o = {.cache_dir = f->dir};
  aicc_jit_ctx *c = NULL;
  aicc_status s = aicc_jit_ctx_create(&o, &c);
  unsetenv("AICC_CC");
  assert_null(s);
  aicc_jit_module *m = NULL;
  s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, NULL);
  assert_non_null(s);
  assert_null(m);
  assert_int_equal(aicc_status_code(s), AICC_ERR_UNSUPPORTED);
  assert_string_equal(aicc_status_message(s),
                      "aicc: jit: C compiler '/nonexistent' not found (set AICC_CC)");
  aicc_status_free(s);
  aicc_jit_ctx_destroy(c);

  /* A bare name not on PATH, too. */
  o.cc = "aicc-no-such-compiler-xyz";
  assert_null(aicc_jit_ctx_create(&o, &c));
  s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, NULL);
  assert_non_null(s);
  assert_string_equal(aicc_status_message(s), "aicc: jit: C compiler "
                                              "'aicc-no-such-compiler-xyz' not found (set AICC_CC)");
  aicc_status_free(s);
  aicc_jit_ctx_destroy(c);
}

static void missing_symbol(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  aicc_jit_module *m = NULL;
  assert_null(aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, NULL));
  void *p = (void *)1;
  aicc_status s = aicc_jit_module_symbol(m, "no_such_kernel", &p);
  assert_non_null(s);
  assert_null(p);
  assert_non_null(strstr(aicc_status_message(s), "no_such_kernel"));
  assert_non_null(strstr(aicc_status_message(s), "undefined symbol")); /* dlerror's text */
  aicc_status_free(s);
  aicc_jit_module_release(m);
  aicc_jit_ctx_destroy(c);
}

/* Alive and not a zombie waiting for init to reap it. */
static bool process_alive(int pid) {
  if (kill(pid, 0) != 0) return false;
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *fp = fopen(path, "r");
  if (!fp) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = 0;
  const char *rp = strrchr(buf, ')'); /* state follows "(comm) " */
  return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

/* A "compiler" that answers --version and then hangs, with a child of its
 * own: the timeout must kill both and report it. */
static void compiler_timeout(void **state) {
  fixture *f = *state;
  char script[128];
  snprintf(script, sizeof script, "%s/slowcc", f->dir);
  FILE *fp = fopen(script, "w");
  assert_non_null(fp);
  fputs("#!/bin/sh\n"
        "if [ \"$1\" = --version ]; then echo 'slowcc 1.0'; exit 0; fi\n"
        "sleep 30 &\n"
        "echo $! > \"$(dirname \"$0\")/child.pid\"\n"
        "wait\n",
        fp);
  fclose(fp);
  assert_int_equal(chmod(script, 0755), 0);
  aicc_jit_options o = {.cc = script, .cache_dir = f->dir, .timeout_s = 1};
  aicc_jit_ctx *c = NULL;
  assert_null(aicc_jit_ctx_create(&o, &c));
  aicc_jit_module *m = NULL;
  aicc_status s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, NULL);
  assert_non_null(s);
  assert_non_null(strstr(aicc_status_message(s), "timed out after 1 s"));
  aicc_status_free(s);
  aicc_jit_stats st;
  aicc_jit_ctx_stats(c, &st);
  assert_true(st.last_compile_ms >= 900 && st.last_compile_ms < 10000);
  assert_int_equal(count_files(f->dir, "", true), 0);
  /* The compiler's child died with it (the whole process group is killed). */
  char pidfile[128];
  snprintf(pidfile, sizeof pidfile, "%s/child.pid", f->dir);
  fp = fopen(pidfile, "r");
  assert_non_null(fp);
  int pid = 0;
  assert_int_equal(fscanf(fp, "%d", &pid), 1);
  fclose(fp);
  bool dead = false;
  for (int i = 0; i < 200 && !dead; i++) {
    dead = !process_alive(pid);
    if (!dead) usleep(10000);
  }
  assert_true(dead);
  aicc_jit_ctx_destroy(c);
}

static void proc_captures_output(void **state) {
  char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 3", NULL};
  aicc_jit_proc_result r;
  assert_int_equal(aicc_jit_proc_run(argv, 10, &r), 0);
  assert_int_equal(r.exit_code, 3);
  assert_false(r.timed_out);
  assert_string_equal(r.output, "out\nerr\n");
  free(r.output);
  char *none[] = {"/nonexistent/tool", NULL};
  assert_int_equal(aicc_jit_proc_run(none, 10, &r), ENOENT);
}

/* ---- concurrency --------------------------------------------------------- */

typedef struct worker {
  const fixture *f;
  pthread_barrier_t *go;
  aicc_jit_ctx *shared; /* NULL: the worker makes its own context */
  aicc_status s;
  int result;
} worker;

static void *compile_worker(void *arg) {
  worker *w = arg;
  /* Separate contexts, as two processes would have, or one shared. */
  aicc_jit_options o = {.cc = "cc", .cache_dir = w->f->dir};
  aicc_jit_ctx *c = w->shared;
  if (!c) w->s = aicc_jit_ctx_create(&o, &c);
  pthread_barrier_wait(w->go);
  if (w->s) return NULL;
  aicc_jit_module *m = NULL;
  w->s = aicc_jit_compile(c, ADD_SRC, strlen(ADD_SRC), &m, NULL);
  if (!w->s) {
    void *p = NULL;
    w->s = aicc_jit_module_symbol(m, "add3", &p);
    add3_fn fn;
    memcpy(&fn, &p, sizeof fn);
    if (!w->s) w->result = fn(10, 20, 30);
    aicc_jit_module_release(m);
  }
  if (!w->shared) aicc_jit_ctx_destroy(c);
  return NULL;
}

static void run_pair(const fixture *f, aicc_jit_ctx *shared) {
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, 2);
  worker w[2] = {{f, &go, shared, NULL, 0}, {f, &go, shared, NULL, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&t[i], NULL, compile_worker, &w[i]), 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&go);
  for (int i = 0; i < 2; i++) {
    if (w[i].s) fail_msg("%s", aicc_status_message(w[i].s));
    assert_int_equal(w[i].result, 60);
  }
  assert_int_equal(count_files(f->dir, ".so", false), 1);
  assert_int_equal(count_files(f->dir, ".c", false), 1);
  assert_int_equal(count_files(f->dir, "", true), 0);
}

static void concurrent_compiles(void **state) {
  fixture *f = *state;
  run_pair(f, NULL); /* two contexts: as two processes */
}

static void concurrent_shared_ctx(void **state) {
  fixture *f = *state;
  aicc_jit_ctx *c = ctx_in(f, NULL);
  run_pair(f, c); /* one context, two threads, probe and compile racing */
  aicc_jit_stats st;
  aicc_jit_ctx_stats(c, &st);
  assert_int_equal(st.compiles + st.cache_hits, 2);
  assert_true(st.spawns == 1 + st.compiles); /* one version probe only */
  aicc_jit_ctx_destroy(c);
}

/* ---- configuration ------------------------------------------------------- */

/* Out of line: GCC's UBSan builds otherwise warn (-Wformat-truncation) that
 * f->dir "is null" on a path the null check instruments. */
__attribute__((noinline)) static void path_join(char *out, size_t cap, const char *a,
                                                const char *b) {
  snprintf(out, cap, "%s/%s", a, b);
}

static void cache_dir_resolution(void **state) {
  fixture *f = *state;
  char want[256];
  aicc_jit_ctx *c = NULL;
  char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  unsetenv("AICC_CACHE_DIR");

  setenv("XDG_CACHE_HOME", f->dir, 1);
  assert_null(aicc_jit_ctx_create(NULL, &c));
  path_join(want, sizeof want, f->dir, "aicc");
  assert_string_equal(aicc_jit_ctx_cache_dir(c), want);
  aicc_jit_ctx_destroy(c);

  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", f->dir, 1);
  assert_null(aicc_jit_ctx_create(NULL, &c));
  path_join(want, sizeof want, f->dir, ".cache/aicc");
  assert_string_equal(aicc_jit_ctx_cache_dir(c), want);
  struct stat st;
  assert_int_equal(stat(want, &st), 0); /* created, parents included */
  assert_true(S_ISDIR(st.st_mode));
  aicc_jit_ctx_destroy(c);

  path_join(want, sizeof want, f->dir, "deep/er/cache");
  setenv("AICC_CACHE_DIR", want, 1);
  assert_null(aicc_jit_ctx_create(NULL, &c));
  assert_string_equal(aicc_jit_ctx_cache_dir(c), want);
  assert_int_equal(stat(want, &st), 0);
  aicc_jit_ctx_destroy(c);
  unsetenv("AICC_CACHE_DIR");
  if (saved_home) setenv("HOME", saved_home, 1);
  free(saved_home);

  /* A cache path through a regular file is a clear error. */
  char file[256];
  path_join(file, sizeof file, f->dir, "plain");
  FILE *fp = fopen(file, "w");
  assert_non_null(fp);
  fclose(fp);
  path_join(want, sizeof want, f->dir, "plain/sub");
  aicc_jit_options o = {.cache_dir = want};
  aicc_status s = aicc_jit_ctx_create(&o, &c);
  assert_non_null(s);
  assert_null(c);
  assert_int_equal(aicc_status_code(s), AICC_ERR_IO);
  assert_non_null(strstr(aicc_status_message(s), "plain"));
  aicc_status_free(s);
}

static void host_isa(void **state) {
  unsetenv("AICC_ISA");
  aicc_jit_isa isa = aicc_jit_host_isa();
  assert_non_null(isa.name);
  if (isa.features & AICC_JIT_ISA_AVX512F) {
    assert_true(isa.features & AICC_JIT_ISA_AVX2);
    assert_int_equal(isa.vector_bits, 512);
    assert_string_equal(isa.name, "avx512");
  } else if ((isa.features & AICC_JIT_ISA_AVX2) && (isa.features & AICC_JIT_ISA_FMA)) {
    assert_int_equal(isa.vector_bits, 256);
  }
#if defined(__AVX2__)
  /* This test binary itself was built for AVX2: the host must have it. */
  assert_true(isa.features & AICC_JIT_ISA_AVX2);
#endif
  setenv("AICC_ISA", "scalar", 1);
  aicc_jit_isa s = aicc_jit_host_isa();
  assert_string_equal(s.name, "scalar");
  assert_int_equal(s.vector_bits, 0);
  assert_int_equal(s.features, 0);
  setenv("AICC_ISA", "avx2", 1);
  aicc_jit_isa a = aicc_jit_host_isa();
  assert_true(a.vector_bits <= 256);
  assert_false(a.features & AICC_JIT_ISA_AVX512F);
  unsetenv("AICC_ISA");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sha256_vectors),
      cmocka_unit_test(proc_captures_output),
      cmocka_unit_test(host_isa),
      cmocka_unit_test_setup_teardown(compile_and_call, setup, teardown),
      cmocka_unit_test_setup_teardown(second_compile_hits, setup, teardown),
      cmocka_unit_test_setup_teardown(flags_change_key, setup, teardown),
      cmocka_unit_test_setup_teardown(cache_survives_new_ctx, setup, teardown),
      cmocka_unit_test_setup_teardown(corrupt_artifact_is_rebuilt, setup, teardown),
      cmocka_unit_test_setup_teardown(stale_temps_swept, setup, teardown),
      cmocka_unit_test_setup_teardown(syntax_error_shows_message, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_compiler, setup, teardown),
      cmocka_unit_test_setup_teardown(missing_symbol, setup, teardown),
      cmocka_unit_test_setup_teardown(compiler_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_compiles, setup, teardown),
      cmocka_unit_test_setup_teardown(concurrent_shared_ctx, setup, teardown),
      cmocka_unit_test_setup_teardown(cache_dir_resolution, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
