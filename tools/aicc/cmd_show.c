/* aicc show: print a model as graph IR text, or as a Graphviz DOT graph or
 * an HTML page (the printers live in src/ir/dot.c). */
#include "cli.h"

#include "ir/dot.h"
#include "ir/text.h"
#include "passes/memplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: aicc show MODEL.onnx|MODEL.ir [--elide BYTES] [--dot [--inits] | --html | --memplan]\n\n"
    "Imports the model (ONNX, or aicc's text IR), verifies it and prints its\n"
    "graph IR as text on stdout. The text form parses back to the same model.\n\n"
    "options:\n"
    "  --elide BYTES  print tensors larger than BYTES as `elided` (readable\n"
    "                 output for real models; such text parses back with\n"
    "                 zeros, so it does not round-trip). Default 0: print all.\n"
    "  --dot          print a Graphviz DOT graph instead (edges labelled with\n"
    "                 types, fusion groups as clusters): aicc show m.ir --dot | dot -Tpng\n"
    "  --inits        with --dot/--html: draw initializers too\n"
    "  --html         print a self-contained HTML page with the IR and DOT text\n"
    "  --memplan      print the memory plan of the intermediate tensors (offsets\n"
    "                 in one arena, lifetimes, in-place reuse, peak vs naive)\n"
    "  -h, --help     show this help\n";

int aicc_cmd_show(int argc, char **argv) {
  const char *path = NULL;
  aicc_text_options opt = {0};
  aicc_dot_options dot = {0};
  int format = 0; /* 0 text, 1 dot, 2 html, 3 memplan */
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
    if (strcmp(argv[i], "--dot") == 0 || strcmp(argv[i], "--html") == 0 ||
        strcmp(argv[i], "--memplan") == 0) {
      int f = argv[i][2] == 'd' ? 1 : argv[i][2] == 'h' ? 2 : 3;
      if (format && format != f)
        return aicc_cli_usage_error("show", "--dot, --html and --memplan exclude each other");
      format = f;
      continue;
    }
    if (strcmp(argv[i], "--inits") == 0) {
      dot.show_inits = true;
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
  if (format == 1) s = aicc_model_print_dot(m, &dot, stdout);
  else if (format == 2) s = aicc_model_print_html(m, &dot, &opt, stdout);
  else if (format == 3) {
    aicc_memplan p;
    s = aicc_memplan_compute(m, &p);
    if (!s) {
      aicc_memplan_print(&p, m, stdout);
      aicc_memplan_fini(&p);
    }
  }
  else s = aicc_model_print(m, &opt, stdout);
  aicc_model_destroy(m);
  if (s) return aicc_cli_fail(s);
  return 0;
}
