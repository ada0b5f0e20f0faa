/* Loop IR expressions: the context (arena + intern table), hash-consing
 * constructors, the canonical order, substitution. Equal structure gives the
 * same pointer, so equality anywhere in src/loop is `a == b` (Halide's
 * IRMatch/graph_equal made unnecessary by interning, as in egg/TVM's
 * structural hashing). Statements live in stmt.c. */
#include "loop/ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hashmap.h"

struct aicc_loop_ctx {
  aicc_arena arena;
  const aicc_loop_expr **table; /* open addressing, linear probing */
  size_t cap, len;
  aicc_hashmap names; /* interned strings */
};

aicc_loop_ctx *aicc_loop_ctx_create(void) {
  aicc_loop_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  aicc_arena_init(&c->arena);
  aicc_hashmap_init(&c->names);
  c->cap = 1024;
  c->table = calloc(c->cap, sizeof *c->table);
  if (!c->table) {
    free(c);
    return NULL;
  }
  return c;
}

void aicc_loop_ctx_destroy(aicc_loop_ctx *ctx) {
  if (!ctx) return;
  free(ctx->table);
  aicc_hashmap_fini(&ctx->names);
  aicc_arena_fini(&ctx->arena);
  free(ctx);
}

aicc_arena *aicc_loop_ctx_arena(aicc_loop_ctx *ctx) { return &ctx->arena; }
size_t aicc_loop_ctx_expr_count(const aicc_loop_ctx *ctx) { return ctx->len; }

const char *aicc_loop_name(aicc_loop_ctx *ctx, const char *s, size_t n) {
  char tmp[128];
  char *key = n < sizeof tmp ? tmp : malloc(n + 1);
  if (!key) return NULL;
  memcpy(key, s, n);
  key[n] = 0;
  const char *got = aicc_hashmap_get(&ctx->names, key);
  if (!got) {
    char *d = aicc_arena_strndup(&ctx->arena, s, n);
    if (d && aicc_hashmap_put(&ctx->names, d, d)) got = d;
  }
  if (key != tmp) free(key);
  return got;
}

/* ---- types and integer semantics ---- */

bool aicc_loop_type_valid(aicc_dtype t) {
  return t == AICC_DTYPE_BOOL || aicc_dtype_is_int(t) || t == AICC_DTYPE_F32 ||
         t == AICC_DTYPE_F64 || t == AICC_DTYPE_F16 || t == AICC_DTYPE_BF16;
}

bool aicc_loop_type_is_int(aicc_dtype t) {
  return t == AICC_DTYPE_BOOL || aicc_dtype_is_int(t);
}

int64_t aicc_loop_int_wrap(aicc_dtype t, int64_t v) {
  if (t == AICC_DTYPE_BOOL) return v != 0;
  const aicc_dtype_info *info = aicc_dtype_get(t);
  int bits = info ? info->bits : 64;
  if (bits >= 64 || bits <= 0) return v;
  uint64_t mask = ((uint64_t)1 << bits) - 1, u = (uint64_t)v & mask;
  if (aicc_dtype_is_signed_int(t) && (u >> (bits - 1))) u |= ~mask;
  return (int64_t)u;
}

int64_t aicc_loop_floordiv(int64_t a, int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return (int64_t)(0 - (uint64_t)a); /* INT64_MIN / -1 wraps */
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

int64_t aicc_loop_floormod(int64_t a, int64_t b) {
  if (b == 0 || b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

/* ---- interning ---- */

static uint32_t mix(uint32_t h, uint64_t v) {
  h ^= (uint32_t)v ^ (uint32_t)(v >> 32);
  h *= 0x01000193u;
  h ^= h >> 15;
  return h;
}

static uint32_t expr_hash(const aicc_loop_expr *e) {
  uint32_t h = 0x811c9dc5u;
  h = mix(h, (uint64_t)e->op);
  h = mix(h, (uint64_t)e->type);
  uint64_t bits = 0;
  if (e->op == AICC_LOOP_FLOAT) memcpy(&bits, &e->v.f, sizeof bits);
  else if (e->op == AICC_LOOP_INT) bits = (uint64_t)e->v.i;
  else bits = (uint64_t)(uintptr_t)e->v.name;
  h = mix(h, bits);
  h = mix(h, (uint64_t)(uintptr_t)e->buf);
  for (uint32_t k = 0; k < e->nargs; k++) h = mix(h, (uint64_t)(uintptr_t)e->args[k]);
  return h ? h : 1;
}

static bool expr_same(const aicc_loop_expr *a, const aicc_loop_expr *b) {
  if (a->hash != b->hash || a->op != b->op || a->type != b->type || a->nargs != b->nargs ||
      a->buf != b->buf)
    return false;
  if (a->op == AICC_LOOP_FLOAT) {
    if (memcmp(&a->v.f, &b->v.f, sizeof a->v.f) != 0) return false;
  } else if (a->op == AICC_LOOP_INT) {
    if (a->v.i != b->v.i) return false;
  } else if (a->v.name != b->v.name) {
    return false;
  }
  for (uint32_t k = 0; k < a->nargs; k++)
    if (a->args[k] != b->args[k]) return false;
  return true;
}

static bool table_grow(aicc_loop_ctx *ctx) {
  size_t cap = ctx->cap * 2;
  const aicc_loop_expr **t = calloc(cap, sizeof *t);
  if (!t) return false;
  for (size_t i = 0; i < ctx->cap; i++) {
    const aicc_loop_expr *e = ctx->table[i];
    if (!e) continue;
    size_t j = e->hash & (cap - 1);
    while (t[j]) j = (j + 1) & (cap - 1);
    t[j] = e;
  }
  free(ctx->table);
  ctx->table = t;
  ctx->cap = cap;
  return true;
}

/* Interns the candidate *key (stack storage with up to nargs args): returns the
 * existing node or an arena copy. */
static const aicc_loop_expr *intern(aicc_loop_ctx *ctx, aicc_loop_expr *key) {
  for (uint32_t k = 0; k < key->nargs; k++)
    if (!key->args[k]) return NULL;
  key->hash = expr_hash(key);
  if ((ctx->len + 1) * 2 > ctx->cap && !table_grow(ctx)) return NULL;
  size_t j = key->hash & (ctx->cap - 1);
  while (ctx->table[j]) {
    if (expr_same(ctx->table[j], key)) return ctx->table[j];
    j = (j + 1) & (ctx->cap - 1);
  }
  size_t size = sizeof *key + key->nargs * sizeof key->args[0];
  aicc_loop_expr *e = aicc_arena_memdup(&ctx->arena, key, size);
  if (!e) return NULL;
  ctx->table[j] = e;
  ctx->len++;
  return e;
}

/* A key with room for a few operands; larger calls/loads allocate. */
typedef struct {
  aicc_loop_expr e;
  const aicc_loop_expr *room[8];
} small_key;

const aicc_loop_expr *aicc_loop_int(aicc_loop_ctx *ctx, aicc_dtype t, int64_t v) {
  if (!aicc_loop_type_is_int(t)) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_INT;
  k.e.type = t;
  k.e.v.i = aicc_loop_int_wrap(t, v);
  return intern(ctx, &k.e);
}

const aicc_loop_expr *aicc_loop_i32(aicc_loop_ctx *ctx, int64_t v) {
  return aicc_loop_int(ctx, AICC_DTYPE_I32, v);
}

const aicc_loop_expr *aicc_loop_bool(aicc_loop_ctx *ctx, bool v) {
  return aicc_loop_int(ctx, AICC_DTYPE_BOOL, v);
}

const aicc_loop_expr *aicc_loop_float(aicc_loop_ctx *ctx, aicc_dtype t, double v) {
  if (!aicc_loop_type_valid(t) || aicc_loop_type_is_int(t)) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_FLOAT;
  k.e.type = t;
  k.e.v.f = t == AICC_DTYPE_F64 ? v : (double)(float)v;
  if (isnan(k.e.v.f)) k.e.v.f = NAN; /* one NaN, so NaN constants intern */
  return intern(ctx, &k.e);
}

const aicc_loop_expr *aicc_loop_var(aicc_loop_ctx *ctx, const char *name, aicc_dtype t) {
  if (!name || !aicc_loop_type_valid(t)) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_VAR;
  k.e.type = t;
  k.e.v.name = aicc_loop_name(ctx, name, strlen(name));
  if (!k.e.v.name) return NULL;
  return intern(ctx, &k.e);
}

static bool is_cmp(aicc_loop_op op) { return op >= AICC_LOOP_EQ && op <= AICC_LOOP_GE; }

const aicc_loop_expr *aicc_loop_binary(aicc_loop_ctx *ctx, aicc_loop_op op,
                                       const aicc_loop_expr *a, const aicc_loop_expr *b) {
  if (!a || !b || a->type != b->type) return NULL;
  if (op < AICC_LOOP_ADD || op > AICC_LOOP_OR) return NULL;
  if ((op == AICC_LOOP_AND || op == AICC_LOOP_OR) && a->type != AICC_DTYPE_BOOL) return NULL;
  small_key k = {0};
  k.e.op = op;
  k.e.type = is_cmp(op) ? AICC_DTYPE_BOOL : a->type;
  k.e.nargs = 2;
  k.e.args[0] = a;
  k.e.args[1] = b;
  return intern(ctx, &k.e);
}

const aicc_loop_expr *aicc_loop_not(aicc_loop_ctx *ctx, const aicc_loop_expr *a) {
  if (!a || a->type != AICC_DTYPE_BOOL) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_NOT;
  k.e.type = AICC_DTYPE_BOOL;
  k.e.nargs = 1;
  k.e.args[0] = a;
  return intern(ctx, &k.e);
}

const aicc_loop_expr *aicc_loop_select(aicc_loop_ctx *ctx, const aicc_loop_expr *c,
                                       const aicc_loop_expr *a, const aicc_loop_expr *b) {
  if (!c || !a || !b || c->type != AICC_DTYPE_BOOL || a->type != b->type) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_SELECT;
  k.e.type = a->type;
  k.e.nargs = 3;
  k.e.args[0] = c;
  k.e.args[1] = a;
  k.e.args[2] = b;
  return intern(ctx, &k.e);
}

const aicc_loop_expr *aicc_loop_cast(aicc_loop_ctx *ctx, aicc_dtype t, const aicc_loop_expr *a) {
  if (!a || !aicc_loop_type_valid(t)) return NULL;
  small_key k = {0};
  k.e.op = AICC_LOOP_CAST;
  k.e.type = t;
  k.e.nargs = 1;
  k.e.args[0] = a;
  return intern(ctx, &k.e);
}

/* Builds a node with n operands through a heap key when n is large. */
static const aicc_loop_expr *intern_n(aicc_loop_ctx *ctx, aicc_loop_expr *proto, size_t n,
                                      const aicc_loop_expr *const *args) {
  small_key sk;
  aicc_loop_expr *k = &sk.e;
  if (n > 8) k = malloc(sizeof *k + n * sizeof k->args[0]);
  if (!k) return NULL;
  *k = *proto;
  k->nargs = (uint32_t)n;
  for (size_t i = 0; i < n; i++) k->args[i] = args[i];
  const aicc_loop_expr *e = intern(ctx, k);
  if (k != &sk.e) free(k);
  return e;
}

const aicc_loop_expr *aicc_loop_load(aicc_loop_ctx *ctx, const aicc_loop_buffer *buf,
                                     const aicc_loop_expr *const *index) {
  if (!buf) return NULL;
  for (int d = 0; d < buf->rank; d++)
    if (!index[d] || !aicc_loop_type_is_int(index[d]->type)) return NULL;
  aicc_loop_expr proto = {0};
  proto.op = AICC_LOOP_LOAD;
  proto.type = buf->type;
  proto.buf = buf;
  return intern_n(ctx, &proto, (size_t)buf->rank, index);
}

const aicc_loop_expr *aicc_loop_call(aicc_loop_ctx *ctx, const char *name, size_t nargs,
                                     const aicc_loop_expr *const *args) {
  if (!name || aicc_loop_intrinsic_arity(name, strlen(name)) != (int)nargs || nargs == 0)
    return NULL;
  for (size_t i = 0; i < nargs; i++)
    if (!args[i] || args[i]->type != args[0]->type) return NULL;
  aicc_loop_expr proto = {0};
  proto.op = AICC_LOOP_CALL;
  proto.type = args[0]->type;
  proto.v.name = aicc_loop_name(ctx, name, strlen(name));
  if (!proto.v.name) return NULL;
  return intern_n(ctx, &proto, nargs, args);
}

const aicc_loop_expr *aicc_loop_expr_with_args(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                               const aicc_loop_expr *const *args) {
  bool same = true;
  for (uint32_t k = 0; k < e->nargs; k++) same = same && args[k] == e->args[k];
  if (same) return e;
  switch (e->op) {
  case AICC_LOOP_NOT: return aicc_loop_not(ctx, args[0]);
  case AICC_LOOP_SELECT: return aicc_loop_select(ctx, args[0], args[1], args[2]);
  case AICC_LOOP_CAST: return aicc_loop_cast(ctx, e->type, args[0]);
  case AICC_LOOP_LOAD: return aicc_loop_load(ctx, e->buf, args);
  case AICC_LOOP_CALL: return aicc_loop_call(ctx, e->v.name, e->nargs, args);
  default:
    if (e->nargs == 2) return aicc_loop_binary(ctx, e->op, args[0], args[1]);
    return e;
  }
}

static const char *const op_names[AICC_LOOP_OP_COUNT] = {
    [AICC_LOOP_ADD] = "+",   [AICC_LOOP_SUB] = "-",   [AICC_LOOP_MUL] = "*",
    [AICC_LOOP_DIV] = "/",   [AICC_LOOP_MOD] = "%",   [AICC_LOOP_MIN] = "min",
    [AICC_LOOP_MAX] = "max", [AICC_LOOP_EQ] = "==",   [AICC_LOOP_NE] = "!=",
    [AICC_LOOP_LT] = "<",    [AICC_LOOP_LE] = "<=",   [AICC_LOOP_GT] = ">",
    [AICC_LOOP_GE] = ">=",   [AICC_LOOP_AND] = "&&",  [AICC_LOOP_OR] = "||",
    [AICC_LOOP_NOT] = "!",   [AICC_LOOP_SELECT] = "select",
};

const char *aicc_loop_op_name(aicc_loop_op op) {
  return op < AICC_LOOP_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

bool aicc_loop_expr_is_const(const aicc_loop_expr *e) {
  return e && (e->op == AICC_LOOP_INT || e->op == AICC_LOOP_FLOAT);
}

bool aicc_loop_expr_is_int_const(const aicc_loop_expr *e, int64_t *v) {
  if (!e || e->op != AICC_LOOP_INT) return false;
  if (v) *v = e->v.i;
  return true;
}

int aicc_loop_expr_compare(const aicc_loop_expr *a, const aicc_loop_expr *b) {
  if (a == b) return 0;
  /* Constants sort last so canonical sums and products end with them. */
  bool ca = aicc_loop_expr_is_const(a), cb = aicc_loop_expr_is_const(b);
  if (ca != cb) return ca ? 1 : -1;
  if (a->op != b->op) return a->op < b->op ? -1 : 1;
  if (a->type != b->type) return a->type < b->type ? -1 : 1;
  switch (a->op) {
  case AICC_LOOP_INT:
    return a->v.i < b->v.i ? -1 : a->v.i > b->v.i ? 1 : 0;
  case AICC_LOOP_FLOAT: {
    if (a->v.f < b->v.f) return -1;
    if (a->v.f > b->v.f) return 1;
    return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) < 0 ? -1 : 1;
  }
  case AICC_LOOP_VAR: return strcmp(a->v.name, b->v.name);
  case AICC_LOOP_CALL: {
    int c = strcmp(a->v.name, b->v.name);
    if (c) return c;
    break;
  }
  case AICC_LOOP_LOAD:
    if (a->buf != b->buf) {
      int c = strcmp(a->buf->name, b->buf->name);
      if (c) return c;
      return a->buf < b->buf ? -1 : 1; /* distinct buffers of one name */
    }
    break;
  default: break;
  }
  if (a->nargs != b->nargs) return a->nargs < b->nargs ? -1 : 1;
  for (uint32_t k = 0; k < a->nargs; k++) {
    int c = aicc_loop_expr_compare(a->args[k], b->args[k]);
    if (c) return c;
  }
  return 0;
}

bool aicc_loop_expr_uses_var(const aicc_loop_expr *e, const aicc_loop_expr *var) {
  if (e == var) return true;
  for (uint32_t k = 0; k < e->nargs; k++)
    if (aicc_loop_expr_uses_var(e->args[k], var)) return true;
  return false;
}

const aicc_loop_expr *aicc_loop_expr_substitute(aicc_loop_ctx *ctx, const aicc_loop_expr *e,
                                                const aicc_loop_expr *var,
                                                const aicc_loop_expr *value) {
  if (!e) return NULL;
  if (e == var) return value;
  if (e->nargs == 0) return e;
  const aicc_loop_expr *stack[8], **args = e->nargs <= 8 ? stack : malloc(e->nargs * sizeof *args);
  if (!args) return NULL;
  for (uint32_t k = 0; k < e->nargs; k++)
    args[k] = aicc_loop_expr_substitute(ctx, e->args[k], var, value);
  const aicc_loop_expr *r = aicc_loop_expr_with_args(ctx, e, args);
  if (args != stack) free(args);
  return r;
}
