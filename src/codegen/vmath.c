/* Vector math helpers for simd.c, written as C templates over one vector
 * shape ($V the vector type, $P/$S the intrinsic prefix/suffix, ...):
 *  - exp (f32): Cephes expf (Moshier): n = round(x*log2 e), r = x - n*ln2 with
 *    ln2 in two parts (Cody-Waite), e^r by its degree-6 polynomial, and 2^n
 *    applied by scalef (AVX-512) or as two factors 2^(n>>1) * 2^(n-(n>>1))
 *    (AVX), so results in the denormal range round once. x is clamped to [-104, 88.8] (0 and inf
 *    outside; NaN passes through min/max operand order).
 *  - tanh (f32): Cephes tanhf: x + x^3 P(x^2) for |x| < 0.625, else
 *    1 - 2/(e^{2|x|} + 1), both on |x| with x's sign put back (tanh(-0) = -0).
 *  - erf, log (f32): polynomials fitted here (see erf_tpl, log_tpl).
 *  - sigmoid (f32): with e = e^-|x| (the exp above), 1/(1 + e) for x >= 0
 *    and e/(1 + e) for x < 0, so no overflow and tiny results stay accurate.
 *  - fmin/fmax: min_ps returns its second operand when either is NaN; the
 *    IR's min is C's fmin (a NaN operand is ignored), so a NaN second
 *    operand is replaced by the first.
 * Accuracy is tested against libm in tests/unit/test_codegen.c over
 * [-110, 100] (log: every binade) plus special values: max relative error
 * 1.2e-7 (1 ulp) for exp, tanh and log, 2.3e-7 for sigmoid, 2.1e-7 for erf;
 * denormal results within 1 ulp absolute.
 * Everything else without a vector form runs lane by lane (cg_vlanes). */
#include "codegen/codegen_impl.h"

#include <stdio.h>
#include <string.h>

/* Expands $-placeholders of tpl for v into t (fn: the $F name). */
static void expand(cg_text *t, const char *tpl, const cg_visa *v, const char *fn) {
  bool k512 = v->mt != NULL;
  char lanes[8];
  snprintf(lanes, sizeof lanes, "%d", v->lanes);
  for (const char *p = tpl; *p; p++) {
    if (*p != '$') {
      cg_putn(t, p, 1);
      continue;
    }
    char c = *++p;
    switch (c) {
    case 'V': cg_put(t, v->vt); break;
    case 'P': cg_put(t, v->p); break;
    case 'S': cg_put(t, v->s); break;
    case 'T': cg_put(t, v->target); break;
    case 'N': cg_put(t, v->tag); break;
    case 'L': cg_put(t, lanes); break;
    case 'C': cg_put(t, v->lane == AICC_DTYPE_F32 ? "float" : "double"); break;
    case 'B': cg_put(t, k512 ? "512" : "256"); break;
    case 'F': cg_put(t, fn); break;
    default: cg_putn(t, p - 1, 2); break;
    }
  }
}

static const char *define(cg *g, const cg_visa *v, const char *name_tpl, const char *tpl,
                          const char *fn) {
  cg_text name = {0}, def = {0};
  expand(&name, name_tpl, v, fn);
  expand(&def, tpl, v, fn);
  const char *r = "aicc_oom";
  if (name.oom || def.oom) cg_fail(g, AICC_ERR_NOMEM, "out of memory");
  else r = cg_helper(g, name.data, def.data);
  cg_text_free(&name);
  cg_text_free(&def);
  return r;
}

static const char sel_lt_512[] =
    "static inline $T $V aicc_sel_lt_$N($V a, $V b, $V t, $V f) {\n"
    "  return $Pmask_blend_$S($Pcmp_$S_mask(a, b, _CMP_LT_OQ), f, t);\n"
    "}\n";
static const char sel_lt_256[] =
    "static inline $T $V aicc_sel_lt_$N($V a, $V b, $V t, $V f) {\n"
    "  return $Pblendv_$S(f, t, $Pcmp_$S(a, b, _CMP_LT_OQ));\n"
    "}\n";

static const char fminmax_512[] =
    "static inline $T $V aicc_f$F_$N($V a, $V b) {\n"
    "  return $Pmask_blend_$S($Pcmp_$S_mask(b, b, _CMP_UNORD_Q), $P$F_$S(a, b), a);\n"
    "}\n";
static const char fminmax_256[] =
    "static inline $T $V aicc_f$F_$N($V a, $V b) {\n"
    "  return $Pblendv_$S($P$F_$S(a, b), a, $Pcmp_$S(b, b, _CMP_UNORD_Q));\n"
    "}\n";

static const char sign_tpl[] =
    "static inline $T $V aicc_sign_$N($V x) {\n"
    "  $V zero = $Psetzero_$S(), one = $Pset1_$S(($C)1), mone = $Pset1_$S(($C)-1);\n"
    "  return aicc_sel_lt_$N(zero, x, one, aicc_sel_lt_$N(x, zero, mone, x));\n"
    "}\n";

static const char exp_tpl[] =
    "/* Cephes expf; see the codegen's vmath.c. */\n"
    "static inline $T $V aicc_exp_$N($V x) {\n"
    "  x = $Pmin_$S($Pset1_$S(88.8f), x); /* NaN stays NaN: min_ps returns x */\n"
    "  x = $Pmax_$S($Pset1_$S(-104.0f), x);\n"
    "  $V n = $PROUND($Pmul_$S(x, $Pset1_$S(1.44269504088896341f)),\n"
    "                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);\n"
    "  $V r = $Pfnmadd_$S(n, $Pset1_$S(0.693359375f), x);\n"
    "  r = $Pfnmadd_$S(n, $Pset1_$S(-2.12194440e-4f), r);\n"
    "  $V p = $Pset1_$S(1.9875691500e-4f);\n"
    "  p = $Pfmadd_$S(p, r, $Pset1_$S(1.3981999507e-3f));\n"
    "  p = $Pfmadd_$S(p, r, $Pset1_$S(8.3334519073e-3f));\n"
    "  p = $Pfmadd_$S(p, r, $Pset1_$S(4.1665795894e-2f));\n"
    "  p = $Pfmadd_$S(p, r, $Pset1_$S(1.6666665459e-1f));\n"
    "  p = $Pfmadd_$S(p, r, $Pset1_$S(5.0000001201e-1f));\n"
    "  p = $Pfmadd_$S(p, $Pmul_$S(r, r), $Padd_$S(r, $Pset1_$S(1.0f)));\n"
    "SCALE"
    "}\n";

/* p * 2^n: AVX-512's scalef rounds once, denormal results included; AVX
 * builds 2^n in the exponent field, as two factors so that results in the
 * denormal range round once. */
static const char scale_512[] = "  return $Pscalef_$S(p, n);\n";
static const char scale_256[] =
    "  $Vi k = $Pcvtps_epi32(n);\n"
    "  $Vi k1 = $Psrai_epi32(k, 1), k2 = $Psub_epi32(k, k1);\n"
    "  $V s1 = $Pcastsi$B_ps($Pslli_epi32($Padd_epi32(k1, $Pset1_epi32(127)), 23));\n"
    "  $V s2 = $Pcastsi$B_ps($Pslli_epi32($Padd_epi32(k2, $Pset1_epi32(127)), 23));\n"
    "  return $Pmul_$S($Pmul_$S(p, s1), s2);\n";

/* tpl with its first `token` replaced by repl, into out (cap bytes). */
static void replace_token(char *out, size_t cap, const char *tpl, const char *token,
                          const char *repl) {
  const char *at = strstr(tpl, token);
  if (!at) {
    snprintf(out, cap, "%s", tpl);
    return;
  }
  snprintf(out, cap, "%.*s%s%s", (int)(at - tpl), tpl, repl, at + strlen(token));
}

/* e = e^-|x| never overflows: 1/(1+e) for x >= 0, e/(1+e) below (so tiny
 * results keep their relative accuracy, denormals included). */
static const char sigmoid_tpl[] =
    "static inline $T $V aicc_sigmoid_$N($V x) {\n"
    "  $V one = $Pset1_$S(1.0f);\n"
    "  $V e = aicc_exp_$N($Por_$S(x, $Pset1_$S(-0.0f))); /* -|x| */\n"
    "  $V d = $Padd_$S(one, e);\n"
    "  return $Pdiv_$S(aicc_sel_lt_$N(x, $Psetzero_$S(), e, one), d); /* one division */\n"
    "}\n";

static const char tanh_tpl[] =
    "/* Cephes tanhf; see the codegen's vmath.c. */\n"
    "static inline $T $V aicc_tanh_$N($V x) {\n"
    "  $V sgn = $Pset1_$S(-0.0f);\n"
    "  $V ax = $Pandnot_$S(sgn, x);\n"
    "  $V s = $Pmul_$S(x, x);\n"
    "  $V p = $Pset1_$S(-5.70498872745e-3f);\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(2.06390887954e-2f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(-5.37397155531e-2f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(1.33314422036e-1f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(-3.33332819422e-1f));\n"
    "  $V small = $Pfmadd_$S($Pmul_$S(p, s), ax, ax); /* on |x|: tanh(-0) is -0 */\n"
    "  $V e = aicc_exp_$N($Padd_$S(ax, ax));\n"
    "  $V one = $Pset1_$S(1.0f);\n"
    "  $V big = $Psub_$S(one, $Pdiv_$S($Pset1_$S(2.0f), $Padd_$S(e, one)));\n"
    "  $V r = aicc_sel_lt_$N(ax, $Pset1_$S(0.625f), small, big);\n"
    "  return $Por_$S(r, $Pand_$S(x, sgn));\n"
    "}\n";

/* log: x = 2^e * m, m in [sqrt(1/2), sqrt(2)), f = m - 1, log(1 + f) =
 * f - f^2/2 + f^3 P(f) (P: degree 8, fitted to the relative error on that
 * interval, as Cephes logf), plus e*ln2 in two parts. Denormal x is scaled
 * by 2^23 first; 0, negatives, +inf and NaN are set at the end. */
static const char log_tpl[] =
    "/* Cephes-style logf; see the codegen's vmath.c. */\n"
    "static inline $T $V aicc_log_$N($V x) {\n"
    "  $V tiny = $Pset1_$S(0x1p-126f), one = $Pset1_$S(1.0f), rh = $Pset1_$S(0.707106781f);\n"
    "  $V xs = aicc_sel_lt_$N(x, tiny, $Pmul_$S(x, $Pset1_$S(0x1p23f)), x);\n"
    "  $V eoff = aicc_sel_lt_$N(x, tiny, $Pset1_$S(149.0f), $Pset1_$S(126.0f));\n"
    "  $Vi i = $Pcastps_si$B(xs);\n"
    "  $V e = $Psub_$S($Pcvtepi32_ps($Psrli_epi32(i, 23)), eoff);\n"
    "  $V m = $Pcastsi$B_ps($Por_si$B($Pand_si$B(i, $Pset1_epi32(0x007fffff)),\n"
    "                                 $Pset1_epi32(0x3f000000))); /* [0.5, 1) */\n"
    "  e = aicc_sel_lt_$N(m, rh, $Psub_$S(e, one), e);\n"
    "  $V f = aicc_sel_lt_$N(m, rh, $Psub_$S($Padd_$S(m, m), one), $Psub_$S(m, one));\n"
    "  $V z = $Pmul_$S(f, f);\n"
    "  $V p = $Pset1_$S(7.0375860e-2f);\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(-1.1514560e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(1.1677012e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(-1.2420149e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(1.4249322e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(-1.6668057e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(2.0000714e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(-2.4999994e-1f));\n"
    "  p = $Pfmadd_$S(p, f, $Pset1_$S(3.3333331e-1f));\n"
    "  $V y = $Pmul_$S($Pmul_$S(f, z), p);\n"
    "  y = $Pfmadd_$S(e, $Pset1_$S(-2.12194440e-4f), y);\n"
    "  y = $Pfmadd_$S(z, $Pset1_$S(-0.5f), y);\n"
    "  $V r = $Pfmadd_$S(e, $Pset1_$S(0.693359375f), $Padd_$S(f, y));\n"
    "  r = $Padd_$S(r, $Psub_$S(x, x)); /* NaN stays NaN */\n"
    "  r = aicc_sel_lt_$N($Pset1_$S(0x1.fffffep127f), x, x, r); /* +inf */\n"
    "  r = aicc_sel_lt_$N(x, $Pset1_$S(0x1p-149f), $Pset1_$S(-(float)INFINITY), r); /* +-0 */\n"
    "  return aicc_sel_lt_$N(x, $Psetzero_$S(), $Pset1_$S(NAN), r);\n"
    "}\n";

/* erf (odd, so on |x| with x's sign put back): for |x| < 0.875, x P(x^2)
 * (P: degree 5, fitted to the relative error); above, 1 - e^{g(a) - a^2}
 * with a = min(|x|, 4) (erf rounds to 1 from 3.92 on) and g(a) = log
 * erfc(a) + a^2 a degree-8 polynomial fitted to the absolute error (erfc <=
 * 0.22 there, so its relative error shrinks in 1 - erfc). Within 2 ulp of
 * libm; NaN passes through min's operand order and exp. */
static const char erf_tpl[] =
    "/* erf; see the codegen's vmath.c. */\n"
    "static inline $T $V aicc_erf_$N($V x) {\n"
    "  $V sgn = $Pset1_$S(-0.0f);\n"
    "  $V ax = $Pandnot_$S(sgn, x);\n"
    "  $V s = $Pmul_$S(ax, ax);\n"
    "  $V p = $Pset1_$S(-6.2033854e-4f);\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(5.0322087e-3f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(-2.6791485e-2f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(1.1282456e-1f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(-3.7612551e-1f));\n"
    "  p = $Pfmadd_$S(p, s, $Pset1_$S(1.1283791e+0f));\n"
    "  $V small = $Pmul_$S(x, p);\n"
    "  $V a = $Pmin_$S($Pset1_$S(4.0f), ax); /* NaN stays NaN: min_ps returns ax */\n"
    "  $V g = $Pset1_$S(1.6024896e-6f);\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(-4.5354573e-5f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(5.9071515e-4f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(-4.7302814e-3f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(2.6335537e-2f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(-1.0992518e-1f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(3.6800468e-1f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(-1.1301315e+0f));\n"
    "  g = $Pfmadd_$S(g, a, $Pset1_$S(2.9427453e-4f));\n"
    "  $V big = $Psub_$S($Pset1_$S(1.0f), aicc_exp_$N($Pfnmadd_$S(a, a, g)));\n"
    "  big = $Por_$S(big, $Pand_$S(x, sgn));\n"
    "  return aicc_sel_lt_$N(ax, $Pset1_$S(0.875f), small, big);\n"
    "}\n";

static const char lanes1_tpl[] =
    "static inline $T $V aicc_lanes_$F_$N($V a) {\n"
    "  $C t[$L];\n"
    "  $Pstoreu_$S(t, a);\n"
    "  for (int l = 0; l < $L; l++) t[l] = $F(t[l]);\n"
    "  return $Ploadu_$S(t);\n"
    "}\n";
static const char lanes2_tpl[] =
    "static inline $T $V aicc_lanes_$F_$N($V a, $V b) {\n"
    "  $C t[$L], u[$L];\n"
    "  $Pstoreu_$S(t, a);\n"
    "  $Pstoreu_$S(u, b);\n"
    "  for (int l = 0; l < $L; l++) t[l] = $F(t[l], u[l]);\n"
    "  return $Ploadu_$S(t);\n"
    "}\n";

const char *cg_vmath(cg *g, const cg_visa *v, const char *fn) {
  bool k512 = v->mt != NULL;
  if (strcmp(fn, "fmin") == 0 || strcmp(fn, "fmax") == 0)
    return define(g, v, "aicc_f$F_$N", k512 ? fminmax_512 : fminmax_256, fn + 1);
  define(g, v, "aicc_sel_lt_$N", k512 ? sel_lt_512 : sel_lt_256, "");
  if (strcmp(fn, "sign") == 0) return define(g, v, "aicc_sign_$N", sign_tpl, "");
  if (v->lane != AICC_DTYPE_F32) {
    cg_fail(g, AICC_ERR_INTERNAL, "vector %s of f64 lanes", fn);
    return "aicc_none";
  }
  /* exp: the rounding and the scaling differ between AVX-512 and AVX. */
  char rounded[sizeof exp_tpl + 32], tpl[sizeof exp_tpl + sizeof scale_256 + 32];
  replace_token(rounded, sizeof rounded, exp_tpl, "ROUND", k512 ? "roundscale_$S" : "round_$S");
  replace_token(tpl, sizeof tpl, rounded, "SCALE", k512 ? scale_512 : scale_256);
  define(g, v, "aicc_exp_$N", tpl, "");
  if (strcmp(fn, "exp") == 0) return define(g, v, "aicc_exp_$N", tpl, "");
  if (strcmp(fn, "sigmoid") == 0) return define(g, v, "aicc_sigmoid_$N", sigmoid_tpl, "");
  if (strcmp(fn, "tanh") == 0) return define(g, v, "aicc_tanh_$N", tanh_tpl, "");
  if (strcmp(fn, "erf") == 0) return define(g, v, "aicc_erf_$N", erf_tpl, "");
  if (strcmp(fn, "log") == 0) return define(g, v, "aicc_log_$N", log_tpl, "");
  cg_fail(g, AICC_ERR_INTERNAL, "no vector helper %s", fn);
  return "aicc_none";
}

const char *cg_vlanes(cg *g, const cg_visa *v, const char *fn, int arity) {
  return define(g, v, "aicc_lanes_$F_$N", arity == 1 ? lanes1_tpl : lanes2_tpl, fn);
}

/* The scalar min/max of the IR (C's fmin/fmax: a NaN operand is ignored) as
 * inline helpers: glibc's fminf/fmaxf are calls through the PLT (GCC inlines
 * them only under -ffinite-math-only), ~5 ns each in a reduction's chain.
 * Same results as glibc's x86-64 versions, signed zeros included: b when a
 * is NaN, else a when b is NaN, else minss/maxss (a < b ? a : b). */
const char *cg_fminmax_fn(cg *g, aicc_dtype t, bool is_max) {
  bool f32 = t == AICC_DTYPE_F32;
  char name[32], def[256];
  const char *ty = f32 ? "float" : "double";
  snprintf(name, sizeof name, "aicc_f%s_%s", is_max ? "max" : "min", f32 ? "f32" : "f64");
  snprintf(def, sizeof def,
           "static inline %s %s(%s a, %s b) { return (a %c b || b != b) ? a : b; }\n", ty, name,
           ty, ty, is_max ? '>' : '<');
  return cg_helper(g, name, def);
}
