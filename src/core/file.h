/* Whole-file reads, and whole-file writes that never leave a partial file: data goes to a temp file
 * in the same folder, then rename() puts it in place, so a reader sees the
 * old file or the complete new one, and a failure leaves nothing behind. */
#ifndef AICC_CORE_FILE_H
#define AICC_CORE_FILE_H

#include "core/status.h"

#include <stddef.h>

/* Reads the whole file into a new malloc'd buffer (caller frees), with a
 * NUL after the last byte. Errors read "PATH: reason". */
AICC_MUST_USE aicc_status aicc_file_read(const char *path, char **data, size_t *len);

/* Errors read "PATH: reason". The file gets mode 0644. */
AICC_MUST_USE aicc_status aicc_file_write_atomic(const char *path, const void *data, size_t len);

#endif
