/* Test driver for the loop IR golden tests (tests/lit/loop):
 *   loop_tool roundtrip FILE   parse and print
 *   loop_tool simplify FILE    simplify each func body, print
 *   loop_tool bounds FILE      regions each func body touches, then the
 *                              regions touched by the body of each loop with
 *                              that loop's variable (and outer ones) symbolic
 *   loop_tool kernel FILE      parse kernels (compute.h text), print them
 *   loop_tool schedule [--check] [--default] FILE
 *                              FILE holds kernels, each optionally followed
 *                              by `schedule { records }`; prints the records
 *                              (as comments) and the scheduled func of each.
 *                              --default: the default schedule instead of
 *                              the file's; --check: also run unscheduled and
 *                              scheduled kernels on random inputs through
 *                              the interpreter and compare. An illegal
 *                              schedule prints "error: ..." on stderr and
 *                              the next kernel goes on; exit status 1.
 * Errors go to stderr as one line; the exit status is 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/bounds.h"
#include "loop/compute.h"
#include "loop/schedule.h"
#include "core/file.h"
#include "loop/ir.h"
#include "loop/simplify.h"
#include "loop/text.h"
#include "loop/verify.h"

/* The whole file, NUL-terminated (caller frees), or NULL after printing
 * the reason. */
static char *read_file(const char *path, size_t *len) {
  char *text;
  aicc_status st = aicc_file_read(path, &text, len);
  if (!st) return text;
  fprintf(stderr, "%s\n", aicc_status_message(st));
  aicc_status_free(st);
  return NULL;
}

static void print_end(const aicc_loop_expr *e, const char *inf) {
  if (!e) {
    fputs(inf, stdout);
    return;
  }
  char *s = aicc_loop_expr_print(e);
  fputs(s ? s : "<oom>", stdout);
  free(s);
}

static int print_regions(aicc_loop_ctx *ctx, const aicc_loop_stmt *s, const aicc_loop_scope *facts,
                         const char *indent) {
  aicc_loop_region *regs;
  size_t n;
  aicc_status st = aicc_loop_regions_touched(ctx, s, NULL, facts, &regs, &n);
  if (st) {
    fprintf(stderr, "%s\n", aicc_status_message(st));
    aicc_status_free(st);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    printf("%s%s %s%s:", indent, regs[i].buf->name, regs[i].read ? "r" : "",
           regs[i].written ? "w" : "");
    for (int d = 0; d < regs[i].buf->rank; d++) {
      printf("%s [", d ? " x" : "");
      print_end(regs[i].dims[d].min, "-inf");
      printf(", ");
      print_end(regs[i].dims[d].max, "+inf");
      printf("]");
    }
    printf("\n");
  }
  return 0;
}

/* For each loop: the regions its body touches, its variable symbolic. */
static int loop_regions(aicc_loop_ctx *ctx, const aicc_loop_stmt *s, const aicc_loop_scope *facts) {
  switch (s->kind) {
  case AICC_LOOP_FOR: {
    aicc_loop_scope f = {.var = s->var, .next = facts};
    aicc_loop_interval lo = aicc_loop_const_bounds(s->min, facts);
    const aicc_loop_expr *last = aicc_loop_sub(ctx, aicc_loop_add(ctx, s->min, s->extent),
                                               aicc_loop_int(ctx, s->min->type, 1));
    f.range = (aicc_loop_interval){lo.lo, aicc_loop_const_bounds(last, facts).hi};
    printf("  in loop %s:\n", s->var->v.name);
    if (print_regions(ctx, s->body, &f, "    ")) return 1;
    return loop_regions(ctx, s->body, &f);
  }
  case AICC_LOOP_SEQ:
    for (size_t i = 0; i < s->n; i++)
      if (loop_regions(ctx, s->stmts[i], facts)) return 1;
    return 0;
  case AICC_LOOP_LET: case AICC_LOOP_ALLOCATE: return loop_regions(ctx, s->body, facts);
  case AICC_LOOP_IF:
    if (loop_regions(ctx, s->body, facts)) return 1;
    return s->otherwise ? loop_regions(ctx, s->otherwise, facts) : 0;
  default: return 0;
  }
}

static size_t skip_blank(const char *t, size_t len, size_t p) {
  while (p < len) {
    if (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r') p++;
    else if (p + 1 < len && t[p] == '/' && t[p + 1] == '/')
      while (p < len && t[p] != '\n') p++;
    else break;
  }
  return p;
}

static bool word_at(const char *t, size_t len, size_t p, const char *w) {
  size_t n = strlen(w);
  return p + n <= len && memcmp(t + p, w, n) == 0 &&
         (p + n == len || !(t[p + n] == '_' || (t[p + n] >= 'a' && t[p + n] <= 'z') ||
                            (t[p + n] >= '0' && t[p + n] <= '9')));
}

static int report(aicc_status st) {
  fflush(stdout);
  fprintf(stderr, "error: %s\n", aicc_status_message(st));
  aicc_status_free(st);
  return 1;
}

/* loop_tool kernel|schedule: kernels, each with an optional schedule block. */
static int kernels_main(const char *mode, bool check, bool dflt, const char *path) {
  size_t len;
  char *text = read_file(path, &len);
  if (!text) return 1;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  int rc = 0;
  size_t pos = 0;
  for (int first = 1;; first = 0) {
    pos = skip_blank(text, len, pos);
    if (pos >= len) break;
    aicc_loop_kernel *k = NULL;
    aicc_status st = aicc_loop_kernel_parse(ctx, path, text, len, &pos, &k);
    if (st) {
      fprintf(stderr, "%s\n", aicc_status_message(st));
      aicc_status_free(st);
      rc = 1;
      break;
    }
    aicc_schedule s;
    aicc_schedule_init(&s);
    pos = skip_blank(text, len, pos);
    if (word_at(text, len, pos, "schedule")) {
      pos = skip_blank(text, len, pos + 8);
      if (pos >= len || text[pos] != '{') {
        fprintf(stderr, "%s: expected '{' after 'schedule'\n", path);
        rc = 1;
        aicc_schedule_fini(&s);
        break;
      }
      pos++;
      st = aicc_schedule_parse_at(path, text, len, &pos, &s);
      if (!st && (pos >= len || text[pos] != '}'))
        st = aicc_errorf(AICC_ERR_INVALID, "%s: expected '}' to close the schedule", path);
      if (st) {
        fprintf(stderr, "%s\n", aicc_status_message(st));
        aicc_status_free(st);
        rc = 1;
        aicc_schedule_fini(&s);
        break;
      }
      pos++;
    }
    if (!first) printf("\n");
    if (!strcmp(mode, "kernel")) {
      char *p = aicc_loop_kernel_print(k);
      fputs(p ? p : "<oom>\n", stdout);
      free(p);
      aicc_schedule_fini(&s);
      continue;
    }
    if (dflt) {
      aicc_schedule_fini(&s);
      aicc_schedule_init(&s);
      aicc_sched_target t = aicc_sched_target_default(512, 4);
      t.l1_bytes = 32 << 10;
      t.l2_bytes = 1 << 20;
      if ((st = aicc_schedule_default(k, &t, &s))) {
        rc = report(st);
        aicc_schedule_fini(&s);
        continue;
      }
    }
    char *recs = aicc_schedule_print(&s);
    for (char *line = recs; line && *line;) {
      char *nl = strchr(line, '\n');
      printf("// %.*s\n", (int)(nl ? nl - line : (ptrdiff_t)strlen(line)), line);
      line = nl ? nl + 1 : line + strlen(line);
    }
    free(recs);
    aicc_loop_func *f = NULL;
    if ((st = aicc_schedule_apply(ctx, k, &s, &f))) {
      rc = report(st);
      aicc_schedule_fini(&s);
      continue;
    }
    char *p = aicc_loop_func_print(f);
    fputs(p ? p : "<oom>\n", stdout);
    free(p);
    if (check) {
      for (uint64_t seed = 1; seed <= 2 && !st; seed++) st = aicc_schedule_check(ctx, k, f, seed);
      if (st) rc = report(st);
      else printf("// check %s: ok\n", k->name);
    }
    aicc_schedule_fini(&s);
  }
  free(text);
  aicc_loop_ctx_destroy(ctx);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 3 && (!strcmp(argv[1], "schedule") || !strcmp(argv[1], "kernel"))) {
    bool check = false, dflt = false;
    int i = 2;
    for (; i < argc - 1; i++) {
      if (!strcmp(argv[i], "--check")) check = true;
      else if (!strcmp(argv[i], "--default")) dflt = true;
      else break;
    }
    if (i == argc - 1) return kernels_main(argv[1], check, dflt, argv[i]);
  }
  if (argc != 3 || (strcmp(argv[1], "roundtrip") && strcmp(argv[1], "simplify") &&
                    strcmp(argv[1], "bounds"))) {
    fprintf(stderr, "usage: loop_tool roundtrip|simplify|bounds|kernel FILE\n"
                    "       loop_tool schedule [--check] [--default] FILE\n");
    return 2;
  }
  size_t len;
  char *text = read_file(argv[2], &len);
  if (!text) return 1;
  aicc_loop_ctx *ctx = aicc_loop_ctx_create();
  aicc_loop_module m;
  aicc_status st = ctx ? aicc_loop_module_parse(ctx, argv[2], text, len, &m) : NULL;
  free(text);
  int rc = 0;
  if (!ctx || st) {
    fprintf(stderr, "%s\n", st ? aicc_status_message(st) : "out of memory");
    aicc_status_free(st);
    aicc_loop_ctx_destroy(ctx);
    return 1;
  }
  if (!strcmp(argv[1], "simplify"))
    for (size_t i = 0; i < m.nfuncs && !rc; i++) {
      m.funcs[i]->body = aicc_loop_stmt_simplify(ctx, m.funcs[i]->body, NULL);
      if (!m.funcs[i]->body) rc = 1;
    }
  /* The verifier runs after parsing and after every transformation. */
  for (size_t i = 0; i < m.nfuncs && !rc; i++) {
    st = aicc_loop_func_verify(m.funcs[i]);
    if (st) {
      fprintf(stderr, "%s\n", aicc_status_message(st));
      aicc_status_free(st);
      rc = 1;
    }
  }
  if (!strcmp(argv[1], "bounds")) {
    for (size_t i = 0; i < m.nfuncs && !rc; i++) {
      printf("func %s:\n", m.funcs[i]->name);
      rc = print_regions(ctx, m.funcs[i]->body, NULL, "  ");
      if (!rc) rc = loop_regions(ctx, m.funcs[i]->body, NULL);
    }
  } else if (!rc) {
    char *s = aicc_loop_module_print(&m);
    if (s) fputs(s, stdout);
    else rc = 1;
    free(s);
  }
  aicc_loop_ctx_destroy(ctx);
  return rc;
}
