/* aicc compile: compile a model with the compiled engine and write what it
 * became into a folder (the generated C, the loop dump, the stats). The
 * folder appears whole or not at all: everything is written into a temp
 * folder beside it, then renamed into place. */
#define _GNU_SOURCE /* nftw, open_memstream, mkdtemp */
#include "cli.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

static const char usage[] =
    "usage: aicc compile MODEL.onnx|MODEL.ir -o DIR [--force] [--threads N] [-O N]\n"
    "                    [--strict] [--dump-loops[=F]] [--shape S=N] [--cache-dir D]\n\n"
    "Compiles the model with the compiled engine (graph passes, lowering to\n"
    "loop IR, schedules, C code, one JIT compile) and writes into DIR:\n"
    "  kernels.c   the generated C of every kernel, one translation unit (for\n"
    "              reading; the JIT cache holds the built code)\n"
    "  loops.txt   each kernel's stages, schedule and loop IR, each extern\n"
    "              step (a node run by its reference kernel) with the reason,\n"
    "              and each Concat planned in place\n"
    "  stats.json  kernels, Concats planned in place (their inputs written\n"
    "              into their output: no copy), extern steps and their ops,\n"
    "              compile and C compiler time, cache hit, arena bytes, the\n"
    "              options used\n"
    "DIR appears complete or not at all; a DIR that exists and is not empty\n"
    "is refused unless --force (then it is replaced). Symbolic input dims must\n"
    "be bound with --shape, since a program is specialized to static shapes.\n\n"
    "options:\n"
    "  -o DIR       output folder (required)\n"
    "  --force      replace DIR when it is not empty\n"
    "  -h, --help   show this help\n\n" AICC_CLI_COMPILED_USAGE;

/* ---- folders -------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* rm -rf path (never follows links out of it). */
static void remove_tree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* 1: a folder with entries, 0: an empty folder, -1: missing, -2: not a folder. */
static int dir_state(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) return -2;
  DIR *d = opendir(path);
  if (!d) return 1; /* unreadable: treat as not empty */
  int state = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      state = 1;
      break;
    }
  closedir(d);
  return state;
}

/* A temp name beside path ("path.<what>-XXXXXX"), created as a folder. */
static aicc_status temp_dir_beside(const char *path, const char *what, char *buf, size_t n) {
  size_t k = strlen(path);
  while (k > 1 && path[k - 1] == '/') k--; /* "out/" -> "out" */
  if ((size_t)snprintf(buf, n, "%.*s.%s-XXXXXX", (int)k, path, what) >= n)
    return aicc_errorf(AICC_ERR_INVALID, "%s: path too long", path);
  if (!mkdtemp(buf))
    return aicc_errorf(AICC_ERR_IO, "%s: cannot create a folder beside it: %s", path,
                       strerror(errno));
  mode_t mask = umask(0); /* mkdtemp makes 0700; the result is an ordinary folder */
  umask(mask);
  chmod(buf, 0777 & ~mask);
  return NULL;
}

static aicc_status write_file(const char *dir, const char *name, const char *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return aicc_errorf(AICC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  size_t w = fwrite(data, 1, len, f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad || w != len)
    return aicc_errorf(AICC_ERR_IO, "%s: write error", path);
  return NULL;
}

/* Puts the finished temp folder at dir: over an empty folder directly,
 * over a full one (force) by moving the old one aside first. */
static aicc_status install_dir(const char *tmp, const char *dir, int state) {
  if (state == 1) {
    char old[4096];
    AICC_TRY(temp_dir_beside(dir, "old", old, sizeof old));
    if (rename(dir, old) != 0) {
      aicc_status s = aicc_errorf(AICC_ERR_IO, "%s: cannot move the old folder aside: %s", dir,
                                  strerror(errno));
      rmdir(old);
      return s;
    }
    if (rename(tmp, dir) != 0) {
      aicc_status s = aicc_errorf(AICC_ERR_IO, "%s: cannot put the new folder in place: %s",
                                  dir, strerror(errno));
      if (rename(old, dir) != 0) /* put the old one back; say if that failed too */
        return aicc_status_wrap(s, "the old folder is now at %s", old);
      return s;
    }
    remove_tree(old);
    return NULL;
  }
  if (rename(tmp, dir) != 0) /* replaces an empty folder */
    return aicc_errorf(AICC_ERR_IO, "%s: cannot create the output folder: %s", dir,
                       strerror(errno));
  return NULL;
}

/* ---- stats.json ----------------------------------------------------------- */

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void stats_json(FILE *f, const char *model, const aicc_cli_engine_opts *o,
                       const aicc_rt_stats *st) {
  fprintf(f, "{\n  \"model\": ");
  json_str(f, model);
  fprintf(f, ",\n  \"kernels\": %d,\n  \"concats_in_place\": %d,\n  \"extern_steps\": %d,\n"
             "  \"extern_ops\": [",
          st->kernels, st->concats_in_place, st->extern_steps);
  const char *p = st->extern_ops;
  for (int first = 1; *p; first = 0) {
    size_t n = strcspn(p, ",");
    char op[256];
    snprintf(op, sizeof op, "%.*s", (int)n, p);
    if (!first) fputs(", ", f);
    json_str(f, op);
    p += n + (p[n] == ',');
  }
  fprintf(f, "],\n  \"specializations\": %d,\n  \"compile_ms\": %.3f,\n  \"cc_ms\": %.3f,\n"
             "  \"cache_hit\": %s,\n  \"arena_bytes\": %lld,\n  \"threads\": %d,\n"
             "  \"opt_level\": %d,\n  \"strict\": %s,\n  \"shapes\": ",
          st->specializations, st->compile_ms, st->cc_ms, st->cache_hit ? "true" : "false",
          (long long)st->arena_bytes, o->threads ? o->threads : 1,
          o->opt_level >= 0 ? o->opt_level : 3, o->strict ? "true" : "false");
  json_str(f, o->shapes);
  fprintf(f, "\n}\n");
}

/* ---- the command ---------------------------------------------------------- */

/* Every symbolic dim of a (non-initializer) input must be bound. */
static aicc_status check_static_inputs(const aicc_model *m, const aicc_cli_engine_opts *o) {
  const aicc_graph *g = m->graph;
  for (size_t i = 0; i < g->inputs.len; i++) {
    const aicc_value *v = g->inputs.data[i];
    if (v->init || v->type.kind != AICC_KIND_TENSOR) continue;
    if (v->type.rank < 0)
      return aicc_errorf(AICC_ERR_UNSUPPORTED,
                         "%s: input '%s' has an unknown rank; compiling needs static shapes",
                         m->path, v->name);
    for (int d = 0; d < v->type.rank; d++) {
      aicc_dim dim = v->type.dims[d];
      if (dim.sym && aicc_cli_shape_lookup(o, dim.sym) < 0)
        return aicc_errorf(AICC_ERR_INVALID,
                           "%s: input '%s' dim %d is the symbol '%s': bind it with --shape %s=SIZE",
                           m->path, v->name, d, dim.sym, dim.sym);
      if (!dim.sym && dim.size < 0)
        return aicc_errorf(AICC_ERR_UNSUPPORTED,
                           "%s: input '%s' dim %d has no size; compiling needs static shapes",
                           m->path, v->name, d);
    }
  }
  return NULL;
}

/* Compiles; returns the program, the loop dump and the stats. */
static aicc_status compile_model(const char *path, const aicc_cli_engine_opts *o,
                                 aicc_rt_program **prog, char **dump, size_t *dump_len) {
  aicc_model *m;
  AICC_TRY(aicc_cli_model_load(path, &m));
  aicc_status s = check_static_inputs(m, o);
  if (s) {
    aicc_model_destroy(m);
    return s;
  }
  FILE *mem = open_memstream(dump, dump_len);
  if (!mem) {
    aicc_model_destroy(m);
    return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  }
  aicc_rt_options ro = {
      .threads = o->threads,
      .opt_level = o->opt_level,
      .cache_dir = o->cache_dir,
      .strict = o->strict,
      .dump_loops = mem,
      .input_shapes = o->shapes[0] ? o->shapes : NULL,
  };
  s = aicc_rt_compile(m, &ro, prog); /* takes m */
  fclose(mem);
  if (s) {
    free(*dump);
    *dump = NULL;
  }
  return s;
}

static aicc_status write_outputs(const char *out_dir, int state, const char *model,
                                 const aicc_cli_engine_opts *o, aicc_rt_program *prog,
                                 const char *dump, size_t dump_len) {
  aicc_rt_stats st;
  aicc_rt_program_stats(prog, &st);
  size_t src_len = 0;
  const char *src = aicc_rt_program_source(prog, &src_len);
  static const char no_src[] = "/* every step of this model is extern: no generated code */\n";
  if (!src) {
    src = no_src;
    src_len = sizeof no_src - 1;
  }
  char *js = NULL;
  size_t js_len = 0;
  FILE *mem = open_memstream(&js, &js_len);
  if (!mem) return aicc_errorf(AICC_ERR_NOMEM, "out of memory");
  stats_json(mem, model, o, &st);
  fclose(mem);

  char tmp[4096] = "";
  aicc_status s = temp_dir_beside(out_dir, "tmp", tmp, sizeof tmp);
  if (!s) s = write_file(tmp, "kernels.c", src, src_len);
  if (!s) s = write_file(tmp, "loops.txt", dump ? dump : "", dump ? dump_len : 0);
  if (!s) s = write_file(tmp, "stats.json", js, js_len);
  if (!s) s = install_dir(tmp, out_dir, state);
  if (s && tmp[0] && access(tmp, F_OK) == 0) remove_tree(tmp);
  free(js);
  if (!s) {
    printf("%s: %d kernels, %d extern steps", out_dir, st.kernels, st.extern_steps);
    if (st.extern_steps) printf(" (%s)", st.extern_ops);
    if (st.concats_in_place) printf(", %d concat%s in place", st.concats_in_place,
                                        st.concats_in_place > 1 ? "s" : "");
    printf("; compiled in %.1f ms (C compiler %.1f ms%s)\n", st.compile_ms, st.cc_ms,
           st.cache_hit ? ", cache hit" : "");
  }
  return s;
}

int aicc_cmd_compile(int argc, char **argv) {
  const char *model = NULL, *out_dir = NULL;
  bool force = false;
  aicc_cli_engine_opts eo;
  aicc_cli_engine_opts_init(&eo);
  eo.engine = AICC_ENGINE_COMPILED;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int rc;
    if (strcmp(a, "-o") == 0) {
      if (i + 1 >= argc || !argv[i + 1][0])
        return aicc_cli_usage_error("compile", "-o needs a folder");
      out_dir = argv[++i];
    } else if (strcmp(a, "--force") == 0) {
      force = true;
    } else if ((rc = aicc_cli_arg_engine("compile", argc, argv, &i, &eo)) != -2) {
      if (rc >= 0) return rc;
    } else {
      rc = aicc_cli_arg_common("compile", usage, argc, argv, &i, &eo.engine, &model, "model");
      if (rc >= 0) return rc;
    }
  }
  if (eo.engine != AICC_ENGINE_COMPILED)
    return aicc_cli_usage_error("compile", "compile runs the compiled engine only");
  if (!model) return aicc_cli_usage_error("compile", "no model given");
  if (!out_dir) return aicc_cli_usage_error("compile", "-o DIR is required");
  int state = dir_state(out_dir);
  if (state == -2) {
    fprintf(stderr, "aicc: %s: exists and is not a folder\n", out_dir);
    return 1;
  }
  if (state == 1 && !force) {
    fprintf(stderr, "aicc: %s: folder exists and is not empty (--force replaces it)\n", out_dir);
    return 1;
  }
  aicc_rt_program *prog = NULL;
  char *dump = NULL;
  size_t dump_len = 0;
  aicc_status s = compile_model(model, &eo, &prog, &dump, &dump_len);
  if (s) return aicc_cli_fail(s);
  if (eo.dump_loops && dump) { /* the dump on request too, as on run/test */
    FILE *f = strcmp(eo.dump_loops, "-") == 0 ? stderr : fopen(eo.dump_loops, "w");
    if (!f) {
      s = aicc_errorf(AICC_ERR_IO, "%s: cannot write the loop dump: %s", eo.dump_loops,
                      strerror(errno));
    } else {
      fwrite(dump, 1, dump_len, f);
      if (f != stderr && fclose(f) != 0)
        s = aicc_errorf(AICC_ERR_IO, "%s: write error", eo.dump_loops);
    }
  }
  if (!s) s = write_outputs(out_dir, state, model, &eo, prog, dump, dump_len);
  free(dump);
  aicc_rt_program_destroy(prog);
  return s ? aicc_cli_fail(s) : 0;
}
