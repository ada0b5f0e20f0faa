/* Shared pieces of the aicc CLI: the subcommand table, model loading by file
 * kind, the engine flag, value-file I/O and error printing. One file per
 * subcommand (cmd_<name>.c); no logic here that the library lacks. */
#ifndef AICC_TOOLS_CLI_H
#define AICC_TOOLS_CLI_H

#include "ir/graph.h"

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

/* Engines that run a model; `--engine` on every running command. */
typedef enum { AICC_ENGINE_INTERP } aicc_engine;
/* Parses an engine name; prints an error listing the known ones on failure. */
bool aicc_cli_engine_parse(const char *s, aicc_engine *out);
const char *aicc_cli_engine_names(void);

/* Loads a model: .onnx through the ONNX importer, .ir through the text
 * parser. Verifies it. */
aicc_status aicc_cli_model_load(const char *path, aicc_model **out);

/* Runs the model's main graph on the chosen engine. */
aicc_status aicc_cli_model_run(aicc_engine e, const aicc_model *m, aicc_tensor *const *in,
                               int n_in, aicc_tensor **out, int n_out);

/* Reads DIR/input_<i>.pb for each main-graph input (fewer files than inputs
 * is fine when the rest are initializers). *n_in = graph inputs. Caller
 * releases each non-NULL entry and frees the array. */
aicc_status aicc_cli_inputs_load(const aicc_model *m, const char *dir, aicc_tensor ***in,
                                 int *n_in);

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
