/* The JIT context: toolchain description, content-addressed cache
 * (<cache>/<sha256>.so beside <sha256>.c), compile on miss, dlopen, stats.
 * Takes source text only; what the kernels compute is codegen's business. */
#include "core/file.h"
#include "jit/jit.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct aicc_jit_ctx {
  char *cc_text;   /* the compiler as the user gave it, for messages */
  char **cc_argv;  /* cc_text split on blanks; NULL-terminated */
  char **flags;    /* split flags; NULL-terminated */
  char **libs;     /* split libs; NULL-terminated */
  char *flags_text, *libs_text;
  char *cache_dir;
  int timeout_s;

  pthread_mutex_t mu; /* guards everything below */
  bool probed;        /* the version probe ran and succeeded */
  char *cc_path;      /* resolved compiler path (key input) */
  char *cc_version;   /* `cc --version` output (key input) */
  aicc_jit_stats stats;
};

struct aicc_jit_module {
  atomic_int refs;
  void *dl;
  char digest[65];
  char *path;
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *str_printf(const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

/* Splits text on blanks into a NULL-terminated array of malloc'd words. No
 * quoting: flags with spaces inside are not supported (nor needed). */
static char **split_words(const char *text) {
  size_t cap = 8, n = 0;
  char **v = malloc(cap * sizeof *v);
  if (!v) return NULL;
  for (const char *p = text; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != ' ' && *e != '\t' && *e != '\n') e++;
    if (n + 2 > cap) {
      char **nv = realloc(v, (cap *= 2) * sizeof *v);
      if (!nv) goto oom;
      v = nv;
    }
    if (!(v[n] = strndup(p, (size_t)(e - p)))) goto oom;
    n++;
    p = e;
  }
  v[n] = NULL;
  return v;
oom:
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
  return NULL;
}

static size_t nwords(char **v) {
  size_t n = 0;
  while (v && v[n]) n++;
  return n;
}

static void free_words(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

static char *default_cache_dir(void) {
  const char *e = getenv("AICC_CACHE_DIR");
  if (e && *e) return strdup(e);
  e = getenv("XDG_CACHE_HOME");
  if (e && *e) return str_printf("%s/aicc", e);
  e = getenv("HOME");
  if (e && *e) return str_printf("%s/.cache/aicc", e);
  return NULL;
}

/* Removes temp files a killed process left behind (.tmp- in the name: the
 * compiler's output before rename, or an atomic write's temp). Only old ones:
 * a fresh one may belong to a compile running now in another process. */
static void sweep_stale(const char *dir, int timeout_s) {
  DIR *d = opendir(dir);
  if (!d) return;
  time_t limit = time(NULL) - (2 * timeout_s > 3600 ? 2 * timeout_s : 3600);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strstr(e->d_name, ".tmp-")) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && st.st_mtime < limit)
      unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

aicc_status aicc_jit_ctx_create(const aicc_jit_options *opt, aicc_jit_ctx **out) {
  *out = NULL;
  aicc_jit_options o = {0};
  if (opt) o = *opt;
  if (!o.cc) o.cc = getenv("AICC_CC");
  if (!o.cc || !*o.cc) o.cc = "cc";
  if (!o.flags) o.flags = AICC_JIT_DEFAULT_FLAGS;
  if (!o.libs) o.libs = AICC_JIT_DEFAULT_LIBS;
  if (o.timeout_s < 0)
    return aicc_errorf(AICC_ERR_INVALID, "aicc: jit: timeout must be >= 0, got %d",
                       o.timeout_s);

  aicc_jit_ctx *c = calloc(1, sizeof *c);
  if (!c) return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  pthread_mutex_init(&c->mu, NULL);
  c->timeout_s = o.timeout_s ? o.timeout_s : AICC_JIT_DEFAULT_TIMEOUT_S;
  c->cc_text = strdup(o.cc);
  c->cc_argv = split_words(o.cc);
  c->flags = split_words(o.flags);
  c->libs = split_words(o.libs);
  c->flags_text = strdup(o.flags);
  c->libs_text = strdup(o.libs);
  c->cache_dir = o.cache_dir ? strdup(o.cache_dir) : default_cache_dir();
  aicc_status s = NULL;
  if (!c->cc_text || !c->cc_argv || !c->flags || !c->libs || !c->flags_text ||
      !c->libs_text) {
    s = aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  } else if (!c->cache_dir || !*c->cache_dir) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: no cache directory: set AICC_CACHE_DIR "
                                 "(neither XDG_CACHE_HOME nor HOME is set)");
  } else if (!c->cc_argv[0]) {
    s = aicc_errorf(AICC_ERR_INVALID, "aicc: jit: empty C compiler command");
  } else {
    s = aicc_jit_mkdirs(c->cache_dir);
  }
  if (s) {
    aicc_jit_ctx_destroy(c);
    return s;
  }
  sweep_stale(c->cache_dir, c->timeout_s);
  *out = c;
  return NULL;
}

void aicc_jit_ctx_destroy(aicc_jit_ctx *c) {
  if (!c) return;
  free(c->cc_text);
  free_words(c->cc_argv);
  free_words(c->flags);
  free_words(c->libs);
  free(c->flags_text);
  free(c->libs_text);
  free(c->cache_dir);
  free(c->cc_path);
  free(c->cc_version);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

const char *aicc_jit_ctx_cache_dir(const aicc_jit_ctx *c) { return c->cache_dir; }

void aicc_jit_ctx_stats(aicc_jit_ctx *c, aicc_jit_stats *out) {
  pthread_mutex_lock(&c->mu);
  *out = c->stats;
  pthread_mutex_unlock(&c->mu);
}

static aicc_status not_found(const aicc_jit_ctx *c) {
  return aicc_errorf(AICC_ERR_UNSUPPORTED, "aicc: jit: C compiler '%s' not found (set AICC_CC)",
                     c->cc_text);
}

/* The first lines of a tool's output, for an error message. */
static char *first_lines(const char *text, int max_lines, size_t max_chars) {
  size_t n = 0;
  int lines = 0;
  while (text[n] && n < max_chars && lines < max_lines) {
    if (text[n] == '\n') lines++;
    n++;
  }
  while (n && text[n - 1] == '\n') n--;
  bool more = text[n] && text[n + strspn(text + n, "\n")];
  return str_printf("%.*s%s", (int)n, text, more ? "\n[...]" : "");
}

/* Once per context (the brief: not per process, so contexts stay
 * independent): resolve the compiler and ask its version. Called with mu held. */
static aicc_status probe_locked(aicc_jit_ctx *c) {
  if (c->probed) return NULL;
  char *path = aicc_jit_which(c->cc_argv[0]);
  if (!path) return not_found(c);
  size_t nw = nwords(c->cc_argv);
  char **argv = calloc(nw + 2, sizeof *argv);
  if (!argv) {
    free(path);
    return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  }
  memcpy(argv, c->cc_argv, nw * sizeof *argv);
  argv[nw] = "--version";
  aicc_jit_proc_result r;
  int rc = aicc_jit_proc_run(argv, c->timeout_s, &r);
  free(argv);
  c->stats.spawns++;
  aicc_status s = NULL;
  if (rc == ENOENT) {
    s = not_found(c);
  } else if (rc) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cannot run C compiler '%s': %s", c->cc_text,
                    strerror(rc));
  } else if (r.timed_out || r.term_signal || r.exit_code != 0) {
    char *msg = first_lines(r.output ? r.output : "", 10, 2000);
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: C compiler '%s' failed to report its version "
                                 "(`%s --version` %s):\n%s",
                    c->cc_text, c->cc_text, r.timed_out ? "timed out" : "failed",
                    msg ? msg : "");
    free(msg);
  }
  if (s) {
    free(path);
    free(r.output);
    return s;
  }
  c->cc_path = path;
  c->cc_version = r.output ? r.output : strdup("");
  c->probed = true;
  return NULL;
}

static void key_field(aicc_jit_sha256 *h, const void *p, size_t n) {
  /* Length-prefixed, so no two field lists hash the same byte string. */
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)n >> (8 * i));
  aicc_jit_sha256_update(h, len, 8);
  aicc_jit_sha256_update(h, p, n);
}

aicc_status aicc_jit_ctx_key(aicc_jit_ctx *c, const char *src, size_t len, char digest[65]) {
  pthread_mutex_lock(&c->mu);
  aicc_status s = probe_locked(c);
  pthread_mutex_unlock(&c->mu);
  if (s) return s;
  /* cc_path etc. are immutable once probed. */
  char isa[16];
  snprintf(isa, sizeof isa, "%08x", (unsigned)aicc_jit_host_isa().features);
  aicc_jit_sha256 h;
  aicc_jit_sha256_init(&h);
  key_field(&h, "aicc-jit-1", 10);
  key_field(&h, c->cc_path, strlen(c->cc_path));
  key_field(&h, c->cc_version, strlen(c->cc_version));
  key_field(&h, c->flags_text, strlen(c->flags_text));
  key_field(&h, c->libs_text, strlen(c->libs_text));
  key_field(&h, isa, strlen(isa));
  key_field(&h, src, len);
  aicc_jit_sha256_hex(&h, digest);
  return NULL;
}

/* Runs the compiler: <cc> <flags> -o <tmp.so> <src.c> <libs>, then renames
 * the temp output onto so_path so no reader sees a half-written artifact. */
static aicc_status run_compiler(aicc_jit_ctx *c, const char *digest, const char *src_path,
                                const char *so_path) {
  char *tmp = str_printf("%s/.tmp-%s-XXXXXX.so", c->cache_dir, digest);
  if (!tmp) return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  int fd = mkstemps(tmp, 3); /* reserves a unique name; the linker replaces it */
  if (fd < 0) {
    aicc_status s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cannot create a file in '%s': %s",
                                c->cache_dir, strerror(errno));
    free(tmp);
    return s;
  }
  close(fd);
  size_t ncc = nwords(c->cc_argv), nf = nwords(c->flags), nl = nwords(c->libs);
  char **argv = calloc(ncc + nf + nl + 4, sizeof *argv);
  if (!argv) {
    unlink(tmp);
    free(tmp);
    return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  }
  size_t k = 0;
  for (size_t i = 0; i < ncc; i++) argv[k++] = c->cc_argv[i];
  for (size_t i = 0; i < nf; i++) argv[k++] = c->flags[i];
  argv[k++] = "-o";
  argv[k++] = tmp;
  argv[k++] = (char *)src_path;
  for (size_t i = 0; i < nl; i++) argv[k++] = c->libs[i];
  argv[k] = NULL;

  aicc_jit_proc_result r;
  int rc = aicc_jit_proc_run(argv, c->timeout_s, &r);
  free(argv);
  pthread_mutex_lock(&c->mu);
  c->stats.spawns++;
  if (!rc) {
    c->stats.compiles++;
    c->stats.compile_ms += r.wall_ms;
    c->stats.last_compile_ms = r.wall_ms;
  }
  pthread_mutex_unlock(&c->mu);

  aicc_status s = NULL;
  if (rc == ENOENT) {
    s = not_found(c);
  } else if (rc) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cannot run C compiler '%s': %s", c->cc_text,
                    strerror(rc));
  } else if (r.timed_out) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: compiling kernel %s timed out after %d s "
                                 "(%s killed; raise the timeout for large kernels)",
                    digest, c->timeout_s, c->cc_text);
  } else if (r.term_signal || r.exit_code != 0) {
    char how[64];
    if (r.term_signal)
      snprintf(how, sizeof how, "killed by signal %d", r.term_signal);
    else
      snprintf(how, sizeof how, "exited %d", r.exit_code);
    char *msg = first_lines(r.output ? r.output : "", 30, 4000);
    s = aicc_errorf(AICC_ERR_INVALID, "aicc: jit: compiling kernel %s failed (%s %s):\n%s",
                    digest, c->cc_text, how, msg ? msg : "");
    free(msg);
  } else if (rename(tmp, so_path) != 0) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cannot write '%s': %s", so_path,
                    strerror(errno));
  }
  if (s) unlink(tmp);
  free(r.output);
  free(tmp);
  return s;
}

static aicc_status module_new(void *dl, const char *digest, const char *path,
                              aicc_jit_module **out) {
  aicc_jit_module *m = calloc(1, sizeof *m);
  char *p = strdup(path);
  if (!m || !p) {
    free(m);
    free(p);
    dlclose(dl);
    return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  }
  atomic_init(&m->refs, 1);
  m->dl = dl;
  memcpy(m->digest, digest, 65);
  m->path = p;
  *out = m;
  return NULL;
}

static void *load(aicc_jit_ctx *c, const char *so_path, char **err) {
  double t0 = now_ms();
  /* RTLD_LOCAL: kernels of different modules may reuse symbol names. */
  void *dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  double t1 = now_ms();
  if (!dl) {
    const char *e = dlerror();
    *err = strdup(e ? e : "unknown dlopen error");
  }
  pthread_mutex_lock(&c->mu);
  c->stats.load_ms += t1 - t0;
  pthread_mutex_unlock(&c->mu);
  return dl;
}

aicc_status aicc_jit_compile(aicc_jit_ctx *c, const char *src, size_t len,
                             aicc_jit_module **out, bool *cache_hit) {
  *out = NULL;
  if (cache_hit) *cache_hit = false;
  char digest[65];
  AICC_TRY(aicc_jit_ctx_key(c, src, len, digest));
  char *so_path = str_printf("%s/%s.so", c->cache_dir, digest);
  char *src_path = str_printf("%s/%s.c", c->cache_dir, digest);
  aicc_status s = NULL;
  char *err = NULL;
  void *dl = NULL;
  if (!so_path || !src_path) {
    s = aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
    goto done;
  }
  if (access(so_path, F_OK) == 0) {
    dl = load(c, so_path, &err);
    if (dl) {
      pthread_mutex_lock(&c->mu);
      c->stats.cache_hits++;
      pthread_mutex_unlock(&c->mu);
      if (cache_hit) *cache_hit = true;
      s = module_new(dl, digest, so_path, out);
      goto done;
    }
    /* An unloadable artifact (a crash before rename cannot cause it, but a
     * full disk or a foreign file can): rebuild it. */
    free(err);
    err = NULL;
  }
  /* Rewrite the source even if present: it is cheap, and the copy kept for
   * reading may have been edited by hand; the compiler must see the text that
   * the digest names. */
  AICC_TRY_GOTO(s, aicc_status_wrap(aicc_file_write_atomic(src_path, src, len), "aicc: jit"), done);
  AICC_TRY_GOTO(s, run_compiler(c, digest, src_path, so_path), done);
  dl = load(c, so_path, &err);
  if (!dl) {
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: loading kernel %s failed: %s", digest, err);
    goto done;
  }
  s = module_new(dl, digest, so_path, out);
done:
  free(err);
  free(so_path);
  free(src_path);
  return s;
}

aicc_status aicc_jit_module_symbol(const aicc_jit_module *m, const char *name, void **fn) {
  *fn = NULL;
  dlerror(); /* clear: a symbol may legitimately be NULL, so check dlerror, not the value */
  void *p = dlsym(m->dl, name);
  const char *e = dlerror();
  if (e)
    return aicc_errorf(AICC_ERR_INVALID, "aicc: jit: kernel %s has no symbol '%s': %s",
                       m->digest, name, e);
  *fn = p;
  return NULL;
}

const char *aicc_jit_module_digest(const aicc_jit_module *m) { return m->digest; }
const char *aicc_jit_module_path(const aicc_jit_module *m) { return m->path; }

aicc_jit_module *aicc_jit_module_retain(aicc_jit_module *m) {
  if (m) atomic_fetch_add(&m->refs, 1);
  return m;
}

void aicc_jit_module_release(aicc_jit_module *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  dlclose(m->dl);
  free(m->path);
  free(m);
}
