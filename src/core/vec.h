/* Dynamic arrays: a typed header {data, len, cap} grown with realloc.
 * AICC_VEC(T) names an anonymous struct type; declare one with
 * `typedef AICC_VEC(int) int_vec;`. Push returns false on allocation failure. */
#ifndef AICC_CORE_VEC_H
#define AICC_CORE_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#define AICC_VEC(T)                                                            \
  struct {                                                                     \
    T *data;                                                                   \
    size_t len, cap;                                                           \
  }

bool aicc_vec_grow_(void **data, size_t *cap, size_t need, size_t elem);

#define aicc_vec_reserve(v, n)                                                 \
  ((n) <= (v)->cap ||                                                          \
   aicc_vec_grow_((void **)&(v)->data, &(v)->cap, (n), sizeof *(v)->data))

#define aicc_vec_push(v, x)                                                    \
  (aicc_vec_reserve((v), (v)->len + 1) ? ((v)->data[(v)->len++] = (x), true)   \
                                       : false)

#define aicc_vec_free(v)                                                       \
  do {                                                                         \
    free((v)->data);                                                           \
    (v)->data = NULL;                                                          \
    (v)->len = (v)->cap = 0;                                                   \
  } while (0)

#endif
