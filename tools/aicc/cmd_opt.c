/* aicc opt: run a pass pipeline (an -O level or an explicit --passes list)
 * over a model and write the result as ONNX or text IR. The input file is
 * never touched; outputs go through a temp file and a rename, so a failure
 * leaves nothing behind. */
#include "core/file.h"
#include "cli.h"

#include "frontend/onnx.h"
#include "ir/text.h"
#include "passes/pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: aicc opt MODEL.onnx|MODEL.ir [-O0|-O1|-O2|-O3 | --passes=LIST] [-o OUT]\n"
    "                [--stats] [--stats-json FILE] [--print-after=PASS]\n"
    "                [--print-after-all] [--verify] [--list-passes]\n\n"
    "Loads and verifies the model, runs a pipeline of graph passes over it and\n"
    "writes the result. The input file is never modified; the output is written\n"
    "to a temporary file in the same folder and renamed into place, so nothing\n"
    "is left behind on failure.\n\n"
    "options:\n"
    "  -O0 .. -O3         optimization level (default -O2); -O0 runs no pass\n"
    "  --passes=LIST      run these passes instead, in order: a comma-separated\n"
    "                     list of names; a bracketed group [a,b] repeats until\n"
    "                     none of its passes changes anything (at most 16 rounds),\n"
    "                     e.g. --passes=fold,[simplify,cse],dce\n"
    "  -o OUT             write the result: OUT.onnx (ONNX), OUT.ir (text IR) or\n"
    "                     - (text IR on stdout, the default)\n"
    "  --stats            print per-pass statistics and the node count before\n"
    "                     and after on stderr\n"
    "  --stats-json FILE  write the per-pass statistics as JSON to FILE (- for\n"
    "                     stdout)\n"
    "  --print-after=PASS print the IR on stderr after each run of PASS\n"
    "  --print-after-all  print the IR on stderr after every pass\n"
    "  --verify           run the verifier after every pass (the result is\n"
    "                     always verified once before it is written)\n"
    "  --list-passes      list the passes and the pipelines of the -O levels\n"
    "  -h, --help         show this help\n";

/* The pipeline in the --passes syntax ("[fold,cse],dce"), into buf. */
static const char *pipeline_describe(const aicc_pipeline *p, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < p->n && k < n; i++) {
    int g = p->steps[i].group;
    bool opens = g && (i == 0 || p->steps[i - 1].group != g);
    bool closes = g && (i + 1 == p->n || p->steps[i + 1].group != g);
    k += (size_t)snprintf(buf + k, n - k, "%s%s%s%s", i ? "," : "", opens ? "[" : "",
                          p->steps[i].pass->name, closes ? "]" : "");
  }
  return buf;
}

static void levels_print(FILE *f) {
  fprintf(f, "-O levels in this build:\n");
  for (int level = 0; level <= 3; level++) {
    aicc_pipeline p;
    char buf[512];
    if (aicc_pipeline_for_level(level, &p)) continue; /* levels 0..3 always exist */
    fprintf(f, "  -O%d  %s\n", level, p.n ? pipeline_describe(&p, buf, sizeof buf) : "(no passes)");
    aicc_pipeline_fini(&p);
  }
}

static void passes_list(FILE *f) {
  size_t n;
  const aicc_pass *const *ps = aicc_passes(&n);
  fprintf(f, "passes:\n");
  for (size_t i = 0; i < n; i++) fprintf(f, "  %-10s %s\n", ps[i]->name, ps[i]->summary);
  levels_print(f);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static aicc_status model_write(const aicc_model *m, const char *out) {
  if (strcmp(out, "-") == 0) {
    AICC_TRY(aicc_model_print(m, NULL, stdout));
    return fflush(stdout) == 0 ? NULL : aicc_errorf(AICC_ERR_IO, "stdout: write failed");
  }
  if (ends_with(out, ".onnx")) {
    /* -O3's layout pass introduces aicc-internal ops (ai.aicc domain) that
     * other ONNX runtimes cannot run; refuse rather than write such a file. */
    if (aicc_model_opset(m, "ai.aicc") > 0)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "%s: the model uses aicc-internal layout ops (ai.aicc); write .ir, "
                         "or use -O2 / a --passes list without layout for ONNX output",
                         out);
    return aicc_onnx_save(m, out);
  }
  char *text = NULL;
  size_t len = 0;
  AICC_TRY(aicc_model_print_string(m, NULL, &text, &len));
  aicc_status s = aicc_file_write_atomic(out, text, len);
  free(text);
  return s;
}

static aicc_status stats_json_write(const aicc_pass_ctx *ctx, const char *path) {
  if (strcmp(path, "-") == 0) {
    aicc_pass_stats_print(ctx, stdout, true);
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  aicc_pass_stats_print(ctx, f, true);
  bool err = fclose(f) != 0;
  aicc_status s = err ? aicc_errorf(AICC_ERR_NOMEM, "out of memory") : aicc_file_write_atomic(path, buf, len);
  free(buf);
  return s;
}

/* Same file (so a rename over it would replace the input)? */
static bool same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

typedef struct opt_args {
  const char *model, *out, *passes, *stats_json, *print_after;
  int level; /* -1: not given */
  bool stats, print_after_all, verify, list;
} opt_args;

/* Value of `--flag=V` or `--flag V` at argv[*i]; NULL when a is not the flag. */
static const char *flag_value(const char *flag, int argc, char **argv, int *i, bool *missing) {
  size_t n = strlen(flag);
  const char *a = argv[*i];
  if (strncmp(a, flag, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n]) return NULL;
  if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1])) { /* next is a flag */
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

static int args_parse(int argc, char **argv, opt_args *o) {
  aicc_engine eng = AICC_ENGINE_INTERP;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    bool missing = false;
    if (a[0] == '-' && a[1] == 'O') {
      if (!a[2] || a[3] || a[2] < '0' || a[2] > '3')
        return aicc_cli_usage_error("opt", "unknown optimization level '%s' (use -O0 .. -O3)", a);
      if (o->level >= 0 && o->level != a[2] - '0')
        return aicc_cli_usage_error("opt", "more than one -O level given");
      o->level = a[2] - '0';
    } else if ((v = flag_value("--passes", argc, argv, &i, &missing))) {
      if (o->passes) return aicc_cli_usage_error("opt", "--passes given more than once");
      o->passes = v;
    } else if ((v = flag_value("--stats-json", argc, argv, &i, &missing))) {
      if (!*v) return aicc_cli_usage_error("opt", "--stats-json needs a file");
      o->stats_json = v;
    } else if ((v = flag_value("--print-after", argc, argv, &i, &missing))) {
      if (!aicc_pass_find(v))
        return aicc_cli_usage_error("opt", "--print-after: unknown pass '%s'", v);
      o->print_after = v;
    } else if (missing) {
      return aicc_cli_usage_error("opt", "%s needs a value", a);
    } else if (strcmp(a, "-o") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0]) return aicc_cli_usage_error("opt", "-o needs a file");
      o->out = argv[++i];
    } else if (strcmp(a, "-") == 0) {
      return aicc_cli_usage_error("opt", "reading a model from stdin is not supported");
    } else if (strcmp(a, "--stats") == 0) {
      o->stats = true;
    } else if (strcmp(a, "--print-after-all") == 0) {
      o->print_after_all = true;
    } else if (strcmp(a, "--verify") == 0) {
      o->verify = true;
    } else if (strcmp(a, "--list-passes") == 0) {
      o->list = true;
    } else {
      int rc = aicc_cli_arg_common("opt", usage, argc, argv, &i, &eng, &o->model, "model");
      if (rc == 0) levels_print(stdout); /* --help: the levels as built */
      if (rc >= 0) return rc;
    }
  }
  return -1;
}

int aicc_cmd_opt(int argc, char **argv) {
  opt_args o = {.level = -1};
  int rc = args_parse(argc, argv, &o);
  if (rc >= 0) return rc;
  if (o.list) {
    passes_list(stdout);
    return 0;
  }
  if (!o.model) return aicc_cli_usage_error("opt", "no model given");
  if (o.passes && o.level >= 0)
    return aicc_cli_usage_error("opt", "give either -O%d or --passes, not both", o.level);
  if (!o.out) o.out = "-";
  if (strcmp(o.out, "-") != 0 && !ends_with(o.out, ".onnx") && !ends_with(o.out, ".ir"))
    return aicc_cli_usage_error("opt", "-o %s: the output must end in .onnx or .ir (or be -)",
                                o.out);
  if (strcmp(o.out, "-") != 0 && same_file(o.model, o.out))
    return aicc_cli_usage_error("opt", "-o %s would overwrite the input model", o.out);
  if (o.stats_json && strcmp(o.stats_json, "-") != 0 &&
      (same_file(o.model, o.stats_json) || strcmp(o.stats_json, o.out) == 0))
    return aicc_cli_usage_error("opt", "--stats-json %s would overwrite another file",
                                o.stats_json);

  aicc_pipeline p;
  aicc_status s = o.passes ? aicc_pipeline_parse(o.passes, &p)
                           : aicc_pipeline_for_level(o.level >= 0 ? o.level : 2, &p);
  if (s) { /* a malformed or unknown pass list is a bad flag */
    rc = aicc_cli_usage_error("opt", "%s", aicc_status_message(s));
    aicc_status_free(s);
    return rc;
  }
  aicc_model *m = NULL;
  s = aicc_cli_model_load(o.model, &m);
  if (s) {
    aicc_pipeline_fini(&p);
    return aicc_cli_fail(s);
  }
  aicc_pass_ctx ctx;
  aicc_pass_ctx_init(&ctx);
  ctx.opt_level = o.passes ? -1 : o.level >= 0 ? o.level : 2;
  ctx.verify = o.verify;
  ctx.print_after_all = o.print_after_all;
  ctx.print_after = o.print_after;
  int64_t before = aicc_model_node_count(m);
  s = aicc_pipeline_run(m, &p, &ctx);
  /* Never write a model the verifier rejects, whether or not --verify ran. */
  if (!s && !o.verify && p.n) s = aicc_status_wrap(aicc_model_verify(m), "after the pipeline");
  if (!s && o.stats) {
    aicc_pass_stats_print(&ctx, stderr, false);
    fprintf(stderr, "nodes: %lld -> %lld\n", (long long)before,
            (long long)aicc_model_node_count(m));
  }
  if (!s) s = model_write(m, o.out);
  if (!s && o.stats_json) {
    s = stats_json_write(&ctx, o.stats_json);
    /* The stats file failed after the model was written: leave neither. */
    if (s && strcmp(o.out, "-") != 0) unlink(o.out);
  }
  aicc_pass_ctx_fini(&ctx);
  aicc_pipeline_fini(&p);
  aicc_model_destroy(m);
  return s ? aicc_cli_fail(s) : 0;
}
