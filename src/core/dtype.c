/* The dtype table and its queries. */
#include "core/dtype.h"

#include <string.h>

static const aicc_dtype_info table[] = {
#define ROW_(e, id, text, onnx, bits, kind) [id] = {text, onnx, bits, kind},
    AICC_DTYPES(ROW_)
#undef ROW_
};

_Static_assert(sizeof table / sizeof table[0] == AICC_DTYPE_COUNT,
               "dtype ids must be dense");

const aicc_dtype_info *aicc_dtype_get(int dt) {
  return aicc_dtype_valid(dt) ? &table[dt] : NULL;
}

bool aicc_dtype_valid(int dt) { return dt > 0 && dt < AICC_DTYPE_COUNT; }

const char *aicc_dtype_text(aicc_dtype dt) {
  return (dt >= 0 && dt < AICC_DTYPE_COUNT) ? table[dt].text : "?";
}

aicc_dtype aicc_dtype_from_text(const char *s, size_t n) {
  for (int i = 1; i < AICC_DTYPE_COUNT; i++)
    if (strlen(table[i].text) == n && memcmp(table[i].text, s, n) == 0)
      return (aicc_dtype)i;
  return AICC_DTYPE_UNDEFINED;
}

size_t aicc_dtype_storage_bytes(aicc_dtype dt, size_t n) {
  if (dt == AICC_DTYPE_STRING) return n * sizeof(char *);
  int bits = table[dt].bits;
  if (bits >= 8) return n * (size_t)(bits / 8);
  return (n * (size_t)bits + 7) / 8;
}

bool aicc_dtype_is_float(aicc_dtype dt) {
  return aicc_dtype_valid(dt) && table[dt].kind == AICC_DK_FLOAT;
}

bool aicc_dtype_is_int(aicc_dtype dt) {
  return aicc_dtype_valid(dt) &&
         (table[dt].kind == AICC_DK_INT || table[dt].kind == AICC_DK_UINT);
}

bool aicc_dtype_is_signed_int(aicc_dtype dt) {
  return aicc_dtype_valid(dt) && table[dt].kind == AICC_DK_INT;
}
