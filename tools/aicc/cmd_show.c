/* aicc show: print a model as graph IR text. */
#include "cli.h"

#include "ir/text.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: aicc show MODEL.onnx|MODEL.ir\n\n"
    "Imports the model (ONNX, or aicc's text IR), verifies it and prints its\n"
    "graph IR as text on stdout. The text form parses back to the same model.\n\n"
    "options:\n"
    "  -h, --help   show this help\n";

int aicc_cmd_show(int argc, char **argv) {
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (aicc_cli_is_help(argv[i])) {
      fputs(usage, stdout);
      return 0;
    }
    if (argv[i][0] == '-' && argv[i][1]) return aicc_cli_usage_error("show", "unknown option '%s'", argv[i]);
    if (path) return aicc_cli_usage_error("show", "more than one model given");
    path = argv[i];
  }
  if (!path) return aicc_cli_usage_error("show", "no model given");
  aicc_model *m;
  aicc_status s = aicc_cli_model_load(path, &m);
  if (s) return aicc_cli_fail(s);
  s = aicc_model_print(m, NULL, stdout);
  aicc_model_destroy(m);
  if (s) return aicc_cli_fail(s);
  return 0;
}
