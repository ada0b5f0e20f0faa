/* Process and file helpers for the JIT: run a command without a shell
 * (posix_spawnp) capturing its output under a timeout, resolve a command on
 * PATH, mkdir -p, and atomic file writes (temp file + rename). */
#define _GNU_SOURCE /* pipe2 */
#include "jit/jit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { OUTPUT_CAP = 64 * 1024 };

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reaps pid, killing its process group first when the deadline has passed.
 * Polls with short sleeps: a blocking waitpid could outlive the deadline when
 * the child closed its output but keeps running. */
static void reap(pid_t pid, double deadline, aicc_jit_proc_result *r) {
  int st = 0;
  for (;;) {
    pid_t w = waitpid(pid, &st, r->timed_out ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) { /* ECHILD: someone else reaped it (SIGCHLD ignored) */
      r->exit_code = -1;
      return;
    }
    if (now_ms() >= deadline) {
      r->timed_out = true;
      kill(-pid, SIGKILL);
      continue;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  if (WIFEXITED(st)) r->exit_code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) r->term_signal = WTERMSIG(st);
}

int aicc_jit_proc_run(char *const argv[], int timeout_s, aicc_jit_proc_result *r) {
  memset(r, 0, sizeof *r);
  double t0 = now_ms();
  double deadline = t0 + (timeout_s > 0 ? timeout_s : AICC_JIT_DEFAULT_TIMEOUT_S) * 1e3;
  int fds[2];
  /* O_CLOEXEC: the pipe must not leak into processes other threads spawn,
   * or our read would wait for their exit. */
  if (pipe2(fds, O_CLOEXEC) != 0) return errno;

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  /* Own process group (to kill cc1/as/ld on timeout), no inherited blocked
   * signals, default SIGPIPE. */
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &def);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return rc;
  }

  char *buf = malloc(OUTPUT_CAP + 1);
  size_t n = 0;
  for (;;) {
    double left = deadline - now_ms();
    if (left <= 0) {
      r->timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    int pr = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left + 1);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue; /* timeout: checked at the top */
    char tmp[4096];
    ssize_t k = read(fds[0], tmp, sizeof tmp);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break; /* EOF: every writer (the compiler and its children) is done */
    /* Keep the first OUTPUT_CAP bytes, drain the rest so the child never blocks. */
    if (buf && n < OUTPUT_CAP) {
      size_t take = (size_t)k < OUTPUT_CAP - n ? (size_t)k : OUTPUT_CAP - n;
      memcpy(buf + n, tmp, take);
      n += take;
    }
  }
  close(fds[0]);
  reap(pid, deadline, r);
  if (buf) buf[n] = 0;
  r->output = buf;
  r->output_len = buf ? n : 0;
  r->wall_ms = now_ms() - t0;
  return 0;
}

char *aicc_jit_which(const char *name) {
  if (!name || !*name) return NULL;
  if (strchr(name, '/')) return access(name, X_OK) == 0 ? strdup(name) : NULL;
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin"; /* glibc's confstr default */
  size_t nl = strlen(name);
  for (const char *p = path;;) {
    const char *e = strchr(p, ':');
    size_t dl = e ? (size_t)(e - p) : strlen(p);
    char *full = malloc(dl + 1 + nl + 1);
    if (!full) return NULL;
    if (dl == 0) { /* an empty entry means the current directory */
      memcpy(full, name, nl + 1);
    } else {
      memcpy(full, p, dl);
      full[dl] = '/';
      memcpy(full + dl + 1, name, nl + 1);
    }
    struct stat st;
    if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0) return full;
    free(full);
    if (!e) return NULL;
    p = e + 1;
  }
}

aicc_status aicc_jit_mkdirs(const char *path) {
  size_t n = strlen(path);
  char *p = malloc(n + 1);
  if (!p) return aicc_errorf(AICC_ERR_NOMEM, "aicc: jit: out of memory");
  memcpy(p, path, n + 1);
  aicc_status s = NULL;
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != 0) continue;
    char c = p[i];
    p[i] = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cannot create cache directory '%s': %s", p,
                      strerror(errno));
      break;
    }
    p[i] = c;
  }
  struct stat st;
  if (!s && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
    s = aicc_errorf(AICC_ERR_IO, "aicc: jit: cache path '%s' is not a directory", path);
  free(p);
  return s;
}

