/* Schedule records (schedule.h): the list of primitives, its text form
 * (print and parse) and the machine description for default schedules.
 * Applying records is schedule_apply.c and schedule_lower.c; the default
 * rules are schedule_default.c. */
#include "loop/schedule.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop/schedule_impl.h"

/* Arity of each record: names after the stage (min..max), then integers. */
static const struct {
  const char *name;
  int min_names, max_names, n_ints;
} kinds[AICC_SCHED_KIND_COUNT] = {
    [AICC_SCHED_SPLIT] = {"split", 3, 3, 1},
    [AICC_SCHED_TILE] = {"tile", 2, 2, 2},
    [AICC_SCHED_REORDER] = {"reorder", 2, AICC_SCHED_MAX_NAMES, 0},
    [AICC_SCHED_FUSE] = {"fuse", 3, 3, 0},
    [AICC_SCHED_UNROLL] = {"unroll", 1, 1, 0},
    [AICC_SCHED_VECTORIZE] = {"vectorize", 1, 1, 0},
    [AICC_SCHED_PARALLEL] = {"parallel", 1, 1, 0},
    [AICC_SCHED_COMPUTE_AT] = {"compute_at", 2, 2, 0},
    [AICC_SCHED_COMPUTE_INLINE] = {"compute_inline", 0, 0, 0},
    [AICC_SCHED_CACHE_READ] = {"cache_read", 2, 2, 0},
    [AICC_SCHED_CACHE_WRITE] = {"cache_write", 1, 1, 0},
    [AICC_SCHED_PACK] = {"pack", 2, 2, 1},
    [AICC_SCHED_TENSORIZE] = {"tensorize", 2, 2, 0},
};

const char *aicc_sched_kind_name(aicc_sched_kind k) {
  return (unsigned)k < AICC_SCHED_KIND_COUNT ? kinds[k].name : "?";
}

void aicc_schedule_init(aicc_schedule *s) {
  memset(s, 0, sizeof *s);
  aicc_arena_init(&s->strings);
}

void aicc_schedule_fini(aicc_schedule *s) {
  free(s->steps);
  aicc_arena_fini(&s->strings);
  memset(s, 0, sizeof *s);
}

aicc_status aicc_schedule_add(aicc_schedule *s, const aicc_sched_step *step) {
  if ((unsigned)step->kind >= AICC_SCHED_KIND_COUNT || !step->stage ||
      step->n_names < 0 || step->n_names > AICC_SCHED_MAX_NAMES || step->n_ints < 0 ||
      step->n_ints > AICC_SCHED_MAX_INTS)
    return aicc_errorf(AICC_ERR_INVALID, "schedule: malformed record");
  if (s->n == s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 16;
    aicc_sched_step *p = realloc(s->steps, nc * sizeof *p);
    if (!p) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
    s->steps = p;
    s->cap = nc;
  }
  aicc_sched_step c = *step;
  c.stage = aicc_arena_strdup(&s->strings, step->stage);
  bool ok = c.stage != NULL;
  for (int i = 0; i < c.n_names && ok; i++)
    ok = step->names[i] && (c.names[i] = aicc_arena_strdup(&s->strings, step->names[i]));
  if (!ok) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  s->steps[s->n++] = c;
  return NULL;
}

/* ---- printing ---- */

size_t aicc_sched_step_format(const aicc_sched_step *st, char *buf, size_t n) {
  size_t used = 0;
#define OUT(...)                                                                 \
  do {                                                                           \
    int w_ = snprintf(used < n ? buf + used : NULL, used < n ? n - used : 0,    \
                      __VA_ARGS__);                                              \
    if (w_ > 0) used += (size_t)w_;                                              \
  } while (0)
  if (n) buf[0] = 0;
  OUT("%s(%s", aicc_sched_kind_name(st->kind), st->stage);
  for (int i = 0; i < st->n_names; i++) OUT(", %s", st->names[i]);
  for (int i = 0; i < st->n_ints; i++) OUT(", %lld", (long long)st->ints[i]);
  OUT(")");
#undef OUT
  return used;
}

char *aicc_schedule_print(const aicc_schedule *s) {
  size_t cap = 64, len = 0;
  char *out = malloc(cap);
  if (!out) return NULL;
  out[0] = 0;
  for (size_t i = 0; i < s->n; i++) {
    size_t need = aicc_sched_step_format(&s->steps[i], NULL, 0) + 2;
    if (len + need > cap) {
      while (len + need > cap) cap *= 2;
      char *p = realloc(out, cap);
      if (!p) {
        free(out);
        return NULL;
      }
      out = p;
    }
    len += aicc_sched_step_format(&s->steps[i], out + len, cap - len);
    out[len++] = '\n';
    out[len] = 0;
  }
  return out;
}

/* ---- parsing ---- */

typedef struct {
  const char *file, *text;
  size_t len, p;
  aicc_status err;
} sparser;

static void sfail(sparser *sp, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sfail(sparser *sp, size_t at, const char *fmt, ...) {
  if (sp->err) return;
  int line = 1, col = 1;
  for (size_t i = 0; i < at && i < sp->len; i++) {
    if (sp->text[i] == '\n') line++, col = 1;
    else col++;
  }
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sp->err = aicc_errorf(AICC_ERR_INVALID, "%s:%d:%d: %s", sp->file, line, col, msg);
}

static void sskip(sparser *sp, bool lines) {
  while (sp->p < sp->len) {
    char c = sp->text[sp->p];
    if (c == ' ' || c == '\t' || c == '\r' || (lines && c == '\n')) {
      sp->p++;
    } else if (c == '/' && sp->p + 1 < sp->len && sp->text[sp->p + 1] == '/') {
      while (sp->p < sp->len && sp->text[sp->p] != '\n') sp->p++;
    } else {
      break;
    }
  }
}

/* A name: any run of characters but blanks, commas, parentheses, braces. */
static size_t name_len(const sparser *sp, size_t i) {
  size_t n = 0;
  while (i + n < sp->len) {
    char c = sp->text[i + n];
    if (isspace((unsigned char)c) || strchr(",(){}", c)) break;
    if (c == '/' && i + n + 1 < sp->len && sp->text[i + n + 1] == '/') break;
    n++;
  }
  return n;
}

static bool parse_int(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (n && (s[0] == '-' || s[0] == '+')) neg = s[i++] == '-';
  if (i == n) return false;
  int64_t v = 0;
  for (; i < n; i++) {
    if (!isdigit((unsigned char)s[i]) || v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

static void parse_record(sparser *sp, aicc_schedule *s) {
  size_t at = sp->p, n = name_len(sp, at);
  int kind = -1;
  for (int k = 0; k < AICC_SCHED_KIND_COUNT; k++)
    if (strlen(kinds[k].name) == n && memcmp(sp->text + at, kinds[k].name, n) == 0) kind = k;
  if (kind < 0) {
    sfail(sp, at, "unknown schedule primitive '%.*s'", (int)(n ? (n > 40 ? 40 : n) : 1), sp->text + at);
    return;
  }
  sp->p += n;
  sskip(sp, false);
  if (sp->p >= sp->len || sp->text[sp->p] != '(') {
    sfail(sp, sp->p, "expected '(' after '%s'", kinds[kind].name);
    return;
  }
  sp->p++;
  struct {
    size_t at, n;
  } args[AICC_SCHED_MAX_NAMES + AICC_SCHED_MAX_INTS + 2];
  int nargs = 0;
  for (;;) {
    sskip(sp, false);
    size_t an = name_len(sp, sp->p);
    if (!an) {
      sfail(sp, sp->p, "expected an argument of '%s'", kinds[kind].name);
      return;
    }
    if (nargs == (int)(sizeof args / sizeof args[0])) {
      sfail(sp, sp->p, "too many arguments for '%s'", kinds[kind].name);
      return;
    }
    args[nargs].at = sp->p;
    args[nargs++].n = an;
    sp->p += an;
    sskip(sp, false);
    if (sp->p < sp->len && sp->text[sp->p] == ',') {
      sp->p++;
      continue;
    }
    if (sp->p < sp->len && sp->text[sp->p] == ')') {
      sp->p++;
      break;
    }
    sfail(sp, sp->p, "expected ',' or ')' in '%s'", kinds[kind].name);
    return;
  }
  int nn = nargs - 1 - kinds[kind].n_ints;
  if (nn < kinds[kind].min_names || nn > kinds[kind].max_names) {
    if (kinds[kind].min_names == kinds[kind].max_names)
      sfail(sp, at, "'%s' takes %d arguments, got %d", kinds[kind].name,
            1 + kinds[kind].min_names + kinds[kind].n_ints, nargs);
    else
      sfail(sp, at, "'%s' takes %d to %d arguments, got %d", kinds[kind].name,
            1 + kinds[kind].min_names + kinds[kind].n_ints,
            1 + kinds[kind].max_names + kinds[kind].n_ints, nargs);
    return;
  }
  char strs[AICC_SCHED_MAX_NAMES + 1][128];
  aicc_sched_step st = {.kind = (aicc_sched_kind)kind, .n_names = nn, .n_ints = kinds[kind].n_ints};
  for (int i = 0; i < nargs; i++) {
    if (args[i].n >= sizeof strs[0]) {
      sfail(sp, args[i].at, "name too long");
      return;
    }
    if (i > nn) {
      if (!parse_int(sp->text + args[i].at, args[i].n, &st.ints[i - nn - 1])) {
        sfail(sp, args[i].at, "expected an integer, got '%.*s'", (int)args[i].n, sp->text + args[i].at);
        return;
      }
      continue;
    }
    memcpy(strs[i], sp->text + args[i].at, args[i].n);
    strs[i][args[i].n] = 0;
    if (i == 0) st.stage = strs[0];
    else st.names[i - 1] = strs[i];
  }
  aicc_status e = aicc_schedule_add(s, &st);
  if (e && !sp->err) sp->err = e;
  else aicc_status_free(e);
}

aicc_status aicc_schedule_parse_at(const char *file, const char *text, size_t len, size_t *pos,
                                   aicc_schedule *s) {
  sparser sp = {.file = file ? file : "<input>", .text = text, .len = len, .p = *pos};
  for (;;) {
    sskip(&sp, true);
    if (sp.err || sp.p >= sp.len || sp.text[sp.p] == '}') break;
    parse_record(&sp, s);
    if (sp.err) break;
    sskip(&sp, false);
    if (sp.p < sp.len && sp.text[sp.p] != '\n' && sp.text[sp.p] != '}')
      sfail(&sp, sp.p, "expected the end of the record");
  }
  *pos = sp.p;
  return sp.err;
}

aicc_status aicc_schedule_parse(const char *file, const char *text, size_t len, aicc_schedule *s) {
  size_t pos = 0;
  AICC_TRY(aicc_schedule_parse_at(file, text, len, &pos, s));
  if (pos < len) {
    sparser sp = {.file = file ? file : "<input>", .text = text, .len = len};
    sfail(&sp, pos, "unexpected '}'");
    return sp.err;
  }
  return NULL;
}

aicc_sched_target aicc_sched_target_default(int vector_bits, int threads) {
  aicc_sched_target t = {vector_bits, threads > 0 ? threads : 1, 32 << 10, 1 << 20};
  long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l1 > 0) t.l1_bytes = l1;
  if (l2 > 0) t.l2_bytes = l2;
  return t;
}
