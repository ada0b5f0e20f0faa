/* Shared pieces of the aicc CLI: the subcommand table, model loading by file
 * kind, the engine flags and the runner that hides which engine runs a model,
 * value-file I/O and error printing. One file per subcommand (cmd_<name>.c);
 * no logic here that the library lacks. */
#ifndef AICC_TOOLS_CLI_H
#define AICC_TOOLS_CLI_H

#include "ir/graph.h"
#include "runtime/runtime.h"

#include <stdbool.h>

typedef struct aicc_cli_command {
  const char *name;
  const char *summary;
  int (*main)(int argc, char **argv); /* argv[0] is the subcommand name */
} aicc_cli_command;

int aicc_cmd_show(int argc, char **argv);
int aicc_cmd_run(int argc, char **argv);
int aicc_cmd_test(int argc, char **argv);
int aicc_cmd_ops(int argc, char **argv);
int aicc_cmd_opt(int argc, char **argv);
int aicc_cmd_compile(int argc, char **argv);
int aicc_cmd_bench(int argc, char **argv);
int aicc_cmd_train(int argc, char **argv);

/* Engines that run a model; `--engine` on every running command. */
typedef enum { AICC_ENGINE_INTERP, AICC_ENGINE_COMPILED } aicc_engine;
/* Parses an engine name; prints an error listing the known ones on failure. */
bool aicc_cli_engine_parse(const char *s, aicc_engine *out);
const char *aicc_cli_engine_names(void);

/* The compiled engine's flags, as every running command reads them:
 *   --threads N, -O0..-O3 / -O N / --opt-level N, --strict, --cache-dir DIR,
 *   --dump-loops[=FILE], --shape NAME=SIZE[,NAME=SIZE...] (repeatable).
 * The usage text of these flags, for each command's --help. */
#define AICC_CLI_COMPILED_USAGE                                                \
  "compiled-engine options (need --engine compiled):\n"                        \
  "  --threads N       worker threads of the session (default 1)\n"            \
  "  -O N, -ON, --opt-level N\n"                                               \
  "                    graph passes before lowering, 0..3 (default 3)\n"      \
  "  --strict          an op that does not lower is an error (default: it\n"  \
  "                    runs as an extern step on its reference kernel)\n"     \
  "  --cache-dir DIR   JIT cache (default $AICC_CACHE_DIR, else\n"            \
  "                    $XDG_CACHE_HOME/aicc, else ~/.cache/aicc)\n"           \
  "  --dump-loops[=F]  print each kernel's stages, schedule and loop IR, and\n" \
  "                    each extern step with its reason, to stderr (or F)\n"  \
  "  --shape S=N       bind the symbolic dim S to N (repeatable, or\n"        \
  "                    S=N,T=M); unbound dims specialize on the first run\n"  \
  "  The C compiler is $AICC_CC, else cc.\n"

typedef struct aicc_cli_engine_opts {
  aicc_engine engine;
  int threads;            /* 0: not given (1) */
  int opt_level;          /* -1: not given (3) */
  bool strict;
  const char *cache_dir;  /* NULL: the JIT's default */
  const char *dump_loops; /* NULL: off; "-": stderr; else a file */
  char shapes[512];       /* --shape bindings joined "N=1,seq=8"; "" none */
  const char *compiled_flag; /* first compiled-only flag given, for errors */
} aicc_cli_engine_opts;

void aicc_cli_engine_opts_init(aicc_cli_engine_opts *o);
/* Takes argv[*i] if it is one of the engine flags above (*i may advance).
 * Returns -1 when taken, -2 when argv[*i] is not an engine flag, else the
 * exit code (a usage error was printed). */
int aicc_cli_arg_engine(const char *cmd, int argc, char **argv, int *i,
                        aicc_cli_engine_opts *o);
/* After parsing (with the engine known): compiled-only flags on another
 * engine are a usage error. Returns -1 when fine, else the exit code. */
int aicc_cli_engine_opts_check(const char *cmd, const aicc_cli_engine_opts *o);
/* Looks up a symbolic dim in o->shapes; -1 when not bound. */
int64_t aicc_cli_shape_lookup(const aicc_cli_engine_opts *o, const char *sym);

/* Loads a model: .onnx through the ONNX importer, .ir through the text
 * parser. Verifies it. */
aicc_status aicc_cli_model_load(const char *path, aicc_model **out);

/* A model made ready to run on one engine: the interpreter runs it as it is;
 * the compiled engine compiles it once (aicc_rt_compile) and keeps one
 * session, so several runs pay for one compile. */
typedef struct aicc_cli_runner aicc_cli_runner;
/* Takes m (destroyed with the runner, or here on error). opts NULL: interp. */
AICC_MUST_USE aicc_status aicc_cli_runner_create(aicc_model *m, const aicc_cli_engine_opts *opts,
                                                 aicc_cli_runner **out);
void aicc_cli_runner_destroy(aicc_cli_runner *r);
/* The model whose main graph's inputs and outputs the runs use. */
const aicc_model *aicc_cli_runner_model(const aicc_cli_runner *r);
/* Runs with the contract of aicc_interp_run (outputs are new references). */
AICC_MUST_USE aicc_status aicc_cli_runner_run(aicc_cli_runner *r, aicc_tensor *const *in,
                                              int n_in, aicc_tensor **out, int n_out);
/* The compiled program (NULL on the interpreter). */
aicc_rt_program *aicc_cli_runner_program(aicc_cli_runner *r);
/* Prints "compiled: K kernels, E extern steps (ops), C concats in place" for a compiled runner
 * once it compiled a specialization (nothing otherwise). */
void aicc_cli_runner_print_stats(aicc_cli_runner *r, FILE *f);

/* Reads DIR/input_<i>.pb for each main-graph input (fewer files than inputs
 * is fine when the rest are initializers). *n_in = graph inputs. Caller
 * releases each non-NULL entry and frees the array. */
aicc_status aicc_cli_inputs_load(const aicc_model *m, const char *dir, aicc_tensor ***in,
                                 int *n_in);

/* Milliseconds on the monotonic clock. */
double aicc_cli_now_ms(void);

/* Prints "aicc: <message>" on stderr, frees s, returns 1. */
int aicc_cli_fail(aicc_status s);
/* Prints a usage error for a subcommand, returns 2. */
int aicc_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool aicc_cli_is_help(const char *arg);

/* The arguments every running command (run, test) reads alike, at argv[*i],
 * once the command's own options did not match: help (prints usage),
 * `--engine E`, an unknown option, and the one positional argument (stored
 * in *pos; `what` names it in the "more than one ... given" error).
 * Returns -1 when the argument was taken (*i may advance), else the exit
 * code the command returns. */
int aicc_cli_arg_common(const char *cmd, const char *usage, int argc, char **argv, int *i,
                        aicc_engine *eng, const char **pos, const char *what);

#endif
