/* Peak resident set of one command, for bench/run.py's `rss` part: forks,
 * execs COMMAND, waits with wait4 and writes the child's ru_maxrss (KiB) to
 * OUT_FILE; exits with the child's status.
 *
 * Why not wait4 from Python directly: a forked child starts with a copy of
 * its parent's page tables, and exec keeps that copy's high-water mark in
 * the child's maxrss, so every child of the (100 MiB) benchmark process
 * would read at least 100 MiB. This launcher is a few hundred KiB: the floor
 * it hands down is below anything it measures.
 *
 *   rss OUT_FILE COMMAND [ARG...] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rss OUT_FILE COMMAND [ARG...]\n");
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("rss: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    perror("rss: exec");
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("rss: wait4");
    return 2;
  }
  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror("rss: OUT_FILE");
    return 2;
  }
  fprintf(f, "%ld\n", ru.ru_maxrss);
  if (fclose(f) != 0) {
    perror("rss: OUT_FILE");
    return 2;
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
