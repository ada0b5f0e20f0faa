/* aicc: command-line driver. Dispatches to one subcommand per file. */
#include "cli.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

static const aicc_cli_command commands[] = {
    {"show", "print a model as graph IR text (ONNX or .ir input)", aicc_cmd_show},
    {"run", "run a model on input_N.pb files and write output_N.pb", aicc_cmd_run},
    {"test", "run an ONNX backend-test case directory and compare outputs", aicc_cmd_test},
    {"ops", "list the operators in the registry", aicc_cmd_ops},
    {"opt", "run graph passes (-O levels or --passes) and write ONNX or IR", aicc_cmd_opt},
    {"compile", "compile a model to C kernels; write the code, loop dump and stats", aicc_cmd_compile},
    {"bench", "time a model on an engine (random or given inputs)", aicc_cmd_bench},
    {"train", "train a model's initializers on NPY data; write the trained ONNX", aicc_cmd_train},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: aicc <command> [options]\n\n"
          "aicc %s: a deep-learning compiler. Commands:\n",
          aicc_version());
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nRun 'aicc <command> --help' for a command's options.\n");
}

static void log_to_stderr(aicc_log_level level, const char *msg, void *user) {
  (void)user;
  static const char *const names[] = {"error", "warning", "info", "debug"};
  fprintf(stderr, "aicc: %s: %s\n", names[level], msg);
}

int main(int argc, char **argv) {
  aicc_log_configure(log_to_stderr, NULL, AICC_LOG_WARN);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (aicc_cli_is_help(argv[1])) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("aicc %s\n", aicc_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].main(argc - 1, argv + 1);
  fprintf(stderr, "aicc: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
