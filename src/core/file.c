/* Atomic whole-file writes (temp file + rename). */
#include "core/file.h"

#include <errno.h>
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
