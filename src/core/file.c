/* Atomic whole-file writes (temp file + rename). */
#include "core/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

aicc_status aicc_file_write_atomic(const char *path, const void *data, size_t len) {
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 16);
  if (!tmp) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", path);
  memcpy(tmp, path, pl);
  memcpy(tmp + pl, ".tmp.XXXXXX", 12);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    aicc_status s = aicc_errorf(AICC_ERR_IO, "%s: cannot create a temporary file next to it (%s)",
                                path, strerror(errno));
    free(tmp);
    return s;
  }
  int err = 0;
  const uint8_t *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left > ((size_t)1 << 30) ? ((size_t)1 << 30) : left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      err = w < 0 ? errno : EIO;
      break;
    }
    p += w;
    left -= (size_t)w;
  }
  /* mkstemp makes 0600; models and cache files are ordinarily readable. */
  if (!err && fchmod(fd, 0644) != 0) err = errno;
  if (close(fd) != 0 && !err) err = errno;
  if (!err && rename(tmp, path) != 0) err = errno;
  if (err) unlink(tmp);
  free(tmp);
  return err ? aicc_errorf(AICC_ERR_IO, "%s: write failed (%s)", path, strerror(err)) : NULL;
}

aicc_status aicc_file_read(const char *path, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return aicc_errorf(AICC_ERR_IO, "%s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1) break;
    char *b = realloc(buf, cap * 2);
    if (!b) free(buf);
    buf = b;
    cap *= 2;
  }
  bool err = ferror(f);
  fclose(f);
  if (!buf) return aicc_errorf(AICC_ERR_NOMEM, "%s: out of memory", path);
  if (err) {
    free(buf);
    return aicc_errorf(AICC_ERR_IO, "%s: read error", path);
  }
  buf[n] = 0;
  *data = buf;
  *len = n;
  return NULL;
}
