/* The loop IR's intrinsic functions, one table: name, arity and reference
 * semantics (the <math.h> function in double; f32 results are rounded by the
 * caller). Adding an intrinsic is adding a row; codegen maps names to C. */
#include <math.h>
#include <string.h>

#include "loop/ir.h"

static double rsqrt_(double x) { return 1.0 / sqrt(x); }
static double sigmoid_(double x) { return 1.0 / (1.0 + exp(-x)); }
static double sign_(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }

static const struct {
  const char *name;
  int arity;
  double (*f1)(double);
  double (*f2)(double, double);
  double (*f3)(double, double, double);
} intrinsics[] = {
    {"exp", 1, exp, 0, 0},     {"expm1", 1, expm1, 0, 0}, {"log", 1, log, 0, 0},
    {"log1p", 1, log1p, 0, 0}, {"sqrt", 1, sqrt, 0, 0},   {"rsqrt", 1, rsqrt_, 0, 0},
    {"tanh", 1, tanh, 0, 0},   {"sigmoid", 1, sigmoid_, 0, 0}, {"erf", 1, erf, 0, 0},
    {"abs", 1, fabs, 0, 0},    {"sign", 1, sign_, 0, 0},  {"floor", 1, floor, 0, 0},
    {"ceil", 1, ceil, 0, 0},   {"trunc", 1, trunc, 0, 0},
    {"round", 1, nearbyint, 0, 0}, /* half to even (default rounding), as ONNX Round */
    {"sin", 1, sin, 0, 0},     {"cos", 1, cos, 0, 0},     {"tan", 1, tan, 0, 0},
    {"asin", 1, asin, 0, 0},   {"acos", 1, acos, 0, 0},   {"atan", 1, atan, 0, 0},
    {"sinh", 1, sinh, 0, 0},   {"cosh", 1, cosh, 0, 0},   {"asinh", 1, asinh, 0, 0},
    {"acosh", 1, acosh, 0, 0}, {"atanh", 1, atanh, 0, 0},
    {"pow", 2, 0, pow, 0},     {"atan2", 2, 0, atan2, 0}, {"fmod", 2, 0, fmod, 0},
    {"fma", 3, 0, 0, fma},
};

static int find(const char *name, size_t n) {
  for (size_t i = 0; i < sizeof intrinsics / sizeof intrinsics[0]; i++)
    if (strlen(intrinsics[i].name) == n && memcmp(intrinsics[i].name, name, n) == 0) return (int)i;
  return -1;
}

int aicc_loop_intrinsic_arity(const char *name, size_t n) {
  int i = find(name, n);
  return i < 0 ? -1 : intrinsics[i].arity;
}

double aicc_loop_intrinsic_apply(const char *name, const double *a) {
  int i = find(name, strlen(name));
  if (i < 0) return NAN;
  switch (intrinsics[i].arity) {
  case 1: return intrinsics[i].f1(a[0]);
  case 2: return intrinsics[i].f2(a[0], a[1]);
  default: return intrinsics[i].f3(a[0], a[1], a[2]);
  }
}
