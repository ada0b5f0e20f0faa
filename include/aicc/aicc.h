/* aicc public C API: status codes and the entry points a user links against.
 * Handles are opaque; nothing internal leaks here. Every function that can fail
 * returns an aicc_status (NULL on success) that the caller must check and free. */
#ifndef AICC_AICC_H
#define AICC_AICC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AICC_MUST_USE __attribute__((warn_unused_result))
#else
#define AICC_MUST_USE
#endif

typedef enum aicc_code {
  AICC_OK = 0,
  AICC_ERR_INVALID = 1,     /* malformed input: bad model, bad text, bad flag */
  AICC_ERR_UNSUPPORTED = 2, /* valid but not supported: op, opset, dtype */
  AICC_ERR_SHAPE = 3,       /* shape or type mismatch */
  AICC_ERR_IO = 4,          /* file could not be read or written */
  AICC_ERR_NOMEM = 5,       /* allocation failed */
  AICC_ERR_INTERNAL = 6,    /* a bug in aicc */
} aicc_code;

/* An error: NULL means success. A non-NULL status owns its message; the
 * receiver frees it with aicc_status_free. */
typedef struct aicc_error *aicc_status;

aicc_code aicc_status_code(aicc_status s);
const char *aicc_status_message(aicc_status s);
void aicc_status_free(aicc_status s);

const char *aicc_version(void);

#ifdef __cplusplus
}
#endif
#endif
