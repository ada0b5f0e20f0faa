/* aicc show: print a model as graph IR text. */
#include "cli.h"

#include "ir/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: aicc show MODEL.onnx|MODEL.ir [--elide BYTES]\n\n"
    "Imports the model (ONNX, or aicc's text IR), verifies it and prints its\n"
    "graph IR as text on stdout. The text form parses back to the same model.\n\n"
    "options:\n"
    "  --elide BYTES  print tensors larger than BYTES as `elided` (readable\n"
    "                 output for real models; such text parses back with\n"
    "                 zeros, so it does not round-trip). Default 0: print all.\n"
    "  -h, --help     show this help\n";

int aicc_cmd_show(int argc, char **argv) {
  const char *path = NULL;
  aicc_text_options opt = {0};
  for (int i = 1; i < argc; i++) {
    if (aicc_cli_is_help(argv[i])) {
      fputs(usage, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--elide") == 0) {
      char *end = NULL;
      long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : -1;
      if (v < 0 || !end || *end) return aicc_cli_usage_error("show", "--elide needs a byte count");
      opt.elide_bytes = (size_t)v;
      i++;
      continue;
    }
    if (argv[i][0] == '-' && argv[i][1]) return aicc_cli_usage_error("show", "unknown option '%s'", argv[i]);
    if (path) return aicc_cli_usage_error("show", "more than one model given");
    path = argv[i];
  }
  if (!path) return aicc_cli_usage_error("show", "no model given");
  aicc_model *m;
  aicc_status s = aicc_cli_model_load(path, &m);
  if (s) return aicc_cli_fail(s);
  s = aicc_model_print(m, &opt, stdout);
  aicc_model_destroy(m);
  if (s) return aicc_cli_fail(s);
  return 0;
}
