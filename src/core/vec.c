/* Growth for dynamic arrays (geometric, overflow-checked). */
#include "core/vec.h"

#include <stdint.h>

bool aicc_vec_grow_(void **data, size_t *cap, size_t need, size_t elem) {
  size_t c = *cap ? *cap : 8;
  while (c < need) {
    if (c > SIZE_MAX / 2) return false;
    c *= 2;
  }
  if (c > SIZE_MAX / elem) return false;
  void *p = realloc(*data, c * elem);
  if (!p) return false;
  *data = p;
  *cap = c;
  return true;
}
