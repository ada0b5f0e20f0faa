/* Unit tests for the graph IR text form (src/ir/print.c, parse.c), the
 * verifier and inference: exact round trips, every attribute kind, errors
 * with positions, no crash on truncated or mutated text, and checks that
 * only the construction API can express (out-of-order nodes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/text.h"
#include "ops/registry.h"

/* Parses, prints, and returns the printed text (caller frees). */
static char *reprint(const char *text) {
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse(text, strlen(text), "t.ir", &m);
  if (s) fail_msg("parse failed: %s", aicc_status_message(s));
  char *out;
  size_t len;
  s = aicc_model_print_string(m, NULL, &out, &len);
  assert_null(s);
  assert_int_equal(strlen(out), len);
  aicc_model_destroy(m);
  return out;
}

/* print(parse(text)) == text, and text is a fixpoint. */
static void assert_roundtrip(const char *text) {
  char *out = reprint(text);
  if (strcmp(out, text) != 0) fail_msg("round trip differs:\n--- in\n%s--- out\n%s", text, out);
  free(out);
}

/* Parsing fails with a message that contains `want`. */
static void assert_parse_error(const char *text, size_t len, const char *want) {
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse(text, len, "e.ir", &m);
  if (!s) fail_msg("expected an error containing '%s'", want);
  assert_null(m);
  if (!strstr(aicc_status_message(s), want))
    fail_msg("error '%s' does not contain '%s'", aicc_status_message(s), want);
  aicc_status_free(s);
}

static void assert_contains(const char *text, const char *needle) {
  if (!strstr(text, needle)) fail_msg("'%s' not found in:\n%s", needle, text);
}

static aicc_model *parse_ok(const char *text) {
  aicc_model *m = NULL;
  aicc_status s = aicc_model_parse(text, strlen(text), "t.ir", &m);
  if (s) fail_msg("parse failed: %s", aicc_status_message(s));
  return m;
}

/* Every attribute kind, as canonical text (the parser does not check
 * schemas, so one Identity node can carry them all). */
static const char all_attrs[] =
    "aicc.model ir_version=9 opsets={\"\":18, \"ai.onnx.ml\":3}\n"
    "graph g(%x: f32[2]) {\n"
    "  %y = Identity(%x) {f=1.0, f2=-0.25, f3=1e-05, f4=inf, f5=-inf, f6=nan, f7=3.4028235e+38, "
    "f8=1.4013e-45, i=-9223372036854775808, i2=9223372036854775807, s=\"a\\x00\\\"\\\\\\n\\t\\x7f\\xff\", "
    "t=dense<i32[2,2]> [1, -2, 3, -4], g=graph sub(%a: i64[]) {\n"
    "    %b = Identity(%a) : i64[]\n"
    "    %c = Identity(%x) : f32[2]\n"
    "    return %b, %c\n"
    "  }, fs=[0.5, 2.0], fs0=floats[], is=[1, 2, 3], is0=ints[], ss=[\"\", \"b\"], ss0=strings[], "
    "ts=[dense<u8[1]> [7], dense<str[]> [\"z\"]], ts0=tensors[], gs=[graph a() {\n"
    "    return\n"
    "  }, graph \"b c\"() {\n"
    "    return %x\n"
    "  }], gs0=graphs[], tp=type<opt<seq<f32[N]>>>, tps=[type<f32[*]>, type<?>], tps0=types[], "
    "\"odd name\"=1} : f32[2] name=\"n\\x01\"\n"
    "  return %y\n"
    "}\n";

static void roundtrip_all_attr_kinds(void **state) {
  assert_roundtrip(all_attrs);
  aicc_model *m = parse_ok(all_attrs);
  const aicc_node *n = m->graph->nodes.data[0];
  const aicc_attr *s = aicc_node_attr(n, "s");
  assert_non_null(s);
  assert_int_equal(s->kind, AICC_ATTR_STRING);
  assert_int_equal(s->s.len, 8);
  assert_memory_equal(s->s.s, "a\0\"\\\n\t\x7f\xff", 8);
  assert_int_equal(aicc_node_attr(n, "f")->kind, AICC_ATTR_FLOAT);
  assert_int_equal(aicc_node_attr(n, "i")->kind, AICC_ATTR_INT);
  assert_int_equal(aicc_node_attr(n, "i")->i, INT64_MIN);
  assert_int_equal(aicc_node_attr(n, "fs0")->kind, AICC_ATTR_FLOATS);
  assert_int_equal(aicc_node_attr(n, "is0")->kind, AICC_ATTR_INTS);
  assert_int_equal(aicc_node_attr(n, "gs")->n, 2);
  assert_int_equal(aicc_node_attr(n, "f8")->f, 1.40129846e-45f); /* smallest subnormal */
  aicc_graph *sub = aicc_node_attr_graph(n, "g");
  assert_non_null(sub);
  assert_ptr_equal(sub->parent, m->graph);
  /* %x inside the subgraph is the outer graph's input. */
  assert_ptr_equal(((aicc_node *)sub->nodes.data[1])->inputs[0], m->graph->inputs.data[0]);
  assert_string_equal(n->name, "n\x01");
  aicc_model_destroy(m);
}

static void roundtrip_header_and_names(void **state) {
  assert_roundtrip("aicc.model ir_version=3 opsets={} producer=\"p\" producer_version=\"v\" "
                   "domain=\"d\" model_version=-4 doc=\"x\\ny\"\n"
                   "graph \"my graph\"(%\"a b\": f32[], %\"\\xc3\\xa9\": f32[], %0: f32[]) {\n"
                   "  return %\"a b\", %0\n"
                   "}\n");
  /* Defaults are not printed. */
  assert_roundtrip("aicc.model ir_version=8 opsets={\"\":17}\ngraph main() {\n  return\n}\n");
}

static void roundtrip_domains_and_keywords(void **state) {
  /* Domain-qualified ops keep their domain. */
  assert_roundtrip("aicc.model ir_version=8 opsets={\"\":17, \"ai.onnx.preview.training\":1}\n"
                   "graph main(%r: f32[], %t: i64[], %x: f32[2], %g: f32[2], %h: f32[2]) {\n"
                   "  %x2, %h2 = ai.onnx.preview.training::Adagrad(%r, %t, %x, %g, %h) {decay_factor=0.0}\n"
                   "  return %x2\n"
                   "}\n");
}

static void noncanonical_input_normalizes(void **state) {
  const char *in =
      "// comment\naicc.model opsets = { \"ai.onnx\" : 17 } ir_version=7 // trailing\n"
      "graph   main ( %x : f32 [ N , 2 ] ) {\n"
      "  %y = Transpose(%x) { perm = [ 1 , 0 ] } : f32[2,N]\n"
      "  %z = Identity(%y) : f32[ 2 , N ]  name = \"z\"\n"
      "  return %z }";
  char *out = reprint(in);
  assert_string_equal(out, "aicc.model ir_version=7 opsets={\"\":17}\n"
                           "graph main(%x: f32[N,2]) {\n"
                           "  %y = Transpose(%x) {perm=[1, 0]} : f32[2,N]\n"
                           "  %z = Identity(%y) : f32[2,N] name=\"z\"\n"
                           "  return %z\n"
                           "}\n");
  char *again = reprint(out);
  assert_string_equal(again, out);
  free(again);
  free(out);
  /* Integers in a float list are promoted; floats print with a '.'. */
  out = reprint("aicc.model opsets={\"\":17}\ngraph g(%x: f32[1]) {\n"
                "  %y = Identity(%x) {a=[1, 2.5], b=floats[3], c=1e3}\n  return %y\n}\n");
  assert_contains(out, "{a=[1.0, 2.5], b=[3.0], c=1000.0}");
  free(out);
}

static void input_that_is_initializer(void **state) {
  const char *text = "aicc.model ir_version=8 opsets={\"\":17}\n"
                     "graph main(%x: f32[2], %w: f32[N]) {\n"
                     "  init %w = dense<f32[2]> [1.0, 2.0]\n"
                     "  init %k = dense<i64[1]> [0]\n"
                     "  return %w\n"
                     "}\n";
  assert_roundtrip(text);
  aicc_model *m = parse_ok(text);
  aicc_graph *g = m->graph;
  assert_int_equal(g->inputs.len, 2);
  assert_int_equal(g->inits.len, 2);
  assert_ptr_equal(g->inputs.data[1], g->inits.data[0]);
  /* The declared type is kept (it is printed in the header). */
  assert_string_equal(g->inputs.data[1]->type.dims[0].sym, "N");
  aicc_model_destroy(m);
}

static void type_printer(void **state) {
  char buf[64];
  aicc_type t;
  memset(&t, 0, sizeof t);
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "?");
  int64_t d[2] = {2, 3};
  t = aicc_type_tensor(AICC_DTYPE_F32, 2, d);
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "f32[2,3]");
  t.dims[1] = (aicc_dim){-1, "batch size"};
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "f32[2,\"batch size\"]");
  t.dims[0] = aicc_dim_unknown();
  t.kind = AICC_KIND_SEQUENCE;
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "seq<f32[?,\"batch size\"]>");
  t.kind = AICC_KIND_OPTIONAL;
  t.elem_kind = AICC_KIND_SEQUENCE;
  t.rank = -1;
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "opt<seq<f32[*]>>");
  t.kind = AICC_KIND_TENSOR;
  t.rank = 0;
  t.dtype = AICC_DTYPE_UNDEFINED;
  assert_string_equal(aicc_text_type_print(&t, buf, sizeof buf), "?[]");
  /* Truncation keeps a terminator and marks the cut. */
  t = aicc_type_tensor(AICC_DTYPE_F32, 2, d);
  assert_string_equal(aicc_text_type_print(&t, buf, 7), "f32...");
}

static void parse_errors(void **state) {
  const char *h = "aicc.model opsets={\"\":17}\n";
  char b[512];
#define ERR(body, want)                                                        \
  do {                                                                         \
    snprintf(b, sizeof b, "%s%s", h, body);                                    \
    assert_parse_error(b, strlen(b), want);                                    \
  } while (0)
  assert_parse_error("", 0, "e.ir:1:1: expected 'aicc.model' at the start");
  assert_parse_error("aicc.model", 10, "e.ir:1:11: expected a model field or 'graph'");
  ERR("graph g(%x: f32[2]) {\n  return %x\n", "e.ir:4:1: expected '}' to close the graph");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x\n  return %y\n}",
      "e.ir:4:3: expected ')' after the input list");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) : f32[2], f32[2]\n  return %y\n}",
      "e.ir:3:29: more types than the node has outputs (1)");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%q)\n  return %y\n}",
      "e.ir:3:17: use of undefined value %q");
  ERR("graph g(%x: f32[2], %x: f32[2]) {\n  return %x\n}", "e.ir:2:21: value 'x' is defined more than once");
  ERR("graph g(%x: f32[2]) {\n  return %nope\n}", "return of undefined value %nope");
  ERR("graph g(%x: f64[2]) {\n  return %x\n}\n junk", "e.ir:5:2: expected the end of the input");
  ERR("graph g(%x: f33[2]) {\n  return %x\n}", "e.ir:2:13: expected a type");
  ERR("graph g(%x: f32[-1]) {\n  return %x\n}", "negative dimension");
  ERR("graph g(%x: f32[99999999999999999999]) {\n  return %x\n}", "integer out of range");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=[1, \"s\"]}\n  return %y\n}", "list mixes INTS with STRING");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=ints[1.5]}\n  return %y\n}", "expected an integer");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=\"abc}\n  return %y\n}", "newline in string");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=\"\\x4\"}\n  return %y\n}", "\\x needs two hex digits");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=1.5.2}\n  return %y\n}", "e.ir:3:24: malformed number");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x) {a=12abc}\n  return %y\n}", "malformed number");
  ERR("graph g() {\n  init %w = dense<f32[2]> [1.0]\n  return %w\n}", "tensor has 1 elements, the shape needs 2");
  ERR("graph g() {\n  init %w = dense<f32[1]> [1.0, 2.0]\n  return %w\n}", "more elements than the shape holds (1)");
  ERR("graph g() {\n  init %w = dense<f32[N]> [1.0]\n  return %w\n}", "tensor data needs known dimensions");
  ERR("graph g() {\n  init %w = dense<c64[1]> [1.0]\n  return %w\n}", "c64 data must be written as hex");
  ERR("graph g() {\n  init %w = dense<str[1]> hex\"00\"\n  return %w\n}", "string tensors are written as a list");
  ERR("graph g() {\n  init %w = dense<f32[1000000000]> hex\"00\"\n  return %w\n}", "tensor data is shorter than its shape");
  ERR("graph g() {\n  init %w = dense<bool[1]> [2]\n  return %w\n}", "integer out of range");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x)\n  init %w = dense<f32[1]> [1.0]\n  return %y\n}",
      "initializers must come before the nodes");
  ERR("graph g(%x: f32[2]) {\n  Identity(%x) : f32[2]\n  return %x\n}", "a node without outputs has no types");
  ERR("graph g(%x: f32[2]) {\n  %y = Identity(%x)\n  %y = Identity(%x)\n  return %y\n}",
      "e.ir:4:3: value 'y' is defined more than once");
  ERR("graph g(%x: f32[2]) {\n  %y = Nope(%x)\n  return %y\n}", "e.ir:3:8: node '' (Nope): unknown operator");
  ERR("graph g(%x: f32[2]) {\n  %y = x.y::Identity(%x)\n  return %y\n}", "domain 'x.y' is not imported");
  assert_parse_error("aicc.model ir_version=1 ir_version=2 graph", 42, "model field 'ir_version' given twice");
  assert_parse_error("aicc.model opsets={\"\":1, \"ai.onnx\":2} graph", 43, "opset domain \"ai.onnx\" given twice");
  /* NUL bytes in the text are just bad characters. */
  assert_parse_error("aicc.model\0graph", 16, "expected a model field or 'graph'");
#undef ERR
}

static void deep_nesting_is_refused(void **state) {
  /* 200 nested If branches: refused cleanly, not a stack overflow. */
  size_t cap = 1 << 16, n = 0;
  char *t = malloc(cap);
  n += (size_t)snprintf(t + n, cap - n, "aicc.model opsets={\"\":17}\ngraph g(%%c: bool[]) {\n");
  for (int i = 0; i < 200; i++)
    n += (size_t)snprintf(t + n, cap - n, "%%r%d = If(%%c) {then_branch=graph t() {\n", i);
  assert_parse_error(t, n, "subgraphs nest deeper than");
  free(t);
}

/* Every prefix of valid text and every single-byte mutation parses or
 * fails cleanly; whatever parses prints to a fixpoint. */
static void prefixes_and_mutations_never_crash(void **state) {
  size_t len = strlen(all_attrs);
  char *buf = malloc(len + 1);
  const char subst[] = "\"%{}[]<>(),:=_?*-.0a\\\n \x00\xff";
  for (size_t cut = 0; cut <= len; cut++) {
    aicc_model *m = NULL;
    aicc_status s = aicc_model_parse(all_attrs, cut, "p.ir", &m);
    if (cut < len - 1) assert_non_null(s);
    aicc_status_free(s);
    aicc_model_destroy(m);
  }
  for (size_t i = 0; i < len; i++) {
    for (size_t k = 0; k < sizeof subst - 1; k++) {
      memcpy(buf, all_attrs, len);
      buf[i] = subst[k];
      aicc_model *m = NULL;
      aicc_status s = aicc_model_parse(buf, len, "m.ir", &m);
      if (s) {
        assert_non_null(strstr(aicc_status_message(s), "m.ir:"));
        aicc_status_free(s);
        continue;
      }
      char *a, *b;
      size_t na, nb;
      assert_null(aicc_model_print_string(m, NULL, &a, &na));
      aicc_model_destroy(m);
      m = NULL;
      s = aicc_model_parse(a, na, "a.ir", &m);
      if (s) fail_msg("re-parse failed: %s\n%s", aicc_status_message(s), a);
      assert_null(aicc_model_print_string(m, NULL, &b, &nb));
      assert_string_equal(a, b);
      free(a);
      free(b);
      aicc_model_destroy(m);
    }
  }
  free(buf);
}

static void elided_data(void **state) {
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g() {\n"
                           "  init %w = dense<f32[4]> [1.0, 2.0, 3.0, 4.0]\n"
                           "  init %v = dense<f32[1]> [1.0]\n  return %w\n}\n");
  aicc_text_options opt = {.elide_bytes = 8};
  char *out;
  assert_null(aicc_model_print_string(m, &opt, &out, NULL));
  assert_contains(out, "init %w = dense<f32[4]> elided\n");
  assert_contains(out, "init %v = dense<f32[1]> [1.0]\n");
  aicc_model_destroy(m);
  /* Elided data reads back as zeros. */
  m = parse_ok(out);
  free(out);
  const float *w = m->graph->inits.data[0]->init->data;
  assert_true(w[0] == 0.0f && w[3] == 0.0f);
  aicc_model_destroy(m);
}

static void node_print_string(void **state) {
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g(%x: f32[2,3]) {\n"
                           "  %y = Transpose(%x) {perm=[1, 0]} : f32[3,2] name=\"t\"\n  return %y\n}\n");
  char *s;
  assert_null(aicc_node_print_string(m->graph->nodes.data[0], NULL, &s));
  assert_string_equal(s, "%y = Transpose(%x) {perm=[1, 0]} : f32[3,2] name=\"t\"");
  free(s);
  aicc_model_destroy(m);
}

/* ---- verifier and inference ---- */

static void assert_verify_error(aicc_model *m, const char *want) {
  aicc_status s = aicc_model_verify(m);
  if (!s) fail_msg("expected a verifier error containing '%s'", want);
  if (!strstr(aicc_status_message(s), want))
    fail_msg("error '%s' does not contain '%s'", aicc_status_message(s), want);
  aicc_status_free(s);
}

static void verify_ok_and_order(void **state) {
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g(%x: f32[2,3]) {\n"
                           "  %y = Transpose(%x) {perm=[1, 0]} : f32[3,2] name=\"a\"\n"
                           "  %z = Transpose(%y) {perm=[1, 0]} name=\"b\"\n  return %z\n}\n");
  assert_null(aicc_model_verify(m));
  /* Swap the nodes: the use now precedes the definition. */
  aicc_node **nodes = m->graph->nodes.data;
  aicc_node *t = nodes[0];
  nodes[0] = nodes[1];
  nodes[1] = t;
  assert_verify_error(m, "t.ir: node 'b' (Transpose): input 0 (%y) is used before it is defined");
  /* toposort repairs it. */
  assert_null(aicc_graph_toposort(m->graph));
  assert_null(aicc_model_verify(m));
  /* A graph output that nothing defines. */
  aicc_value *v;
  assert_null(aicc_graph_value_add(m->graph, "dangling", NULL, &v));
  assert_null(aicc_graph_output_add(m->graph, v));
  assert_verify_error(m, "t.ir: graph 'g': output %dangling is not defined");
  aicc_model_destroy(m);
}

static void verify_scoping(void **state) {
  /* A value of one branch is not visible in the other, nor after the If. */
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g(%c: bool[], %x: f32[2]) {\n"
                           "  %r = If(%c) {else_branch=graph e() {\n"
                           "    %a = Identity(%x) name=\"ea\"\n    return %a\n"
                           "  }, then_branch=graph t() {\n"
                           "    %b = Identity(%x) name=\"tb\"\n    return %b\n"
                           "  }} name=\"if\"\n"
                           "  %z = Identity(%r) name=\"z\"\n  return %z\n}\n");
  assert_null(aicc_model_verify(m));
  aicc_graph *then_g = aicc_node_attr_graph(m->graph->nodes.data[0], "then_branch");
  aicc_graph *else_g = aicc_node_attr_graph(m->graph->nodes.data[0], "else_branch");
  aicc_node *tb = then_g->nodes.data[0];
  tb->inputs[0] = else_g->nodes.data[0]->outputs[0];
  assert_verify_error(m, "node 'tb' (Identity): input 0 (%a) belongs to a graph that does not enclose this node");
  tb->inputs[0] = m->graph->inputs.data[1];
  aicc_node *z = m->graph->nodes.data[1];
  z->inputs[0] = tb->outputs[0];
  assert_verify_error(m, "node 'z' (Identity): input 0 (%b) belongs to a graph that does not enclose");
  aicc_model_destroy(m);
}

static void infer_fills_types(void **state) {
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g(%x: f32[N,6]) {\n"
                           "  %s = Constant() {value_ints=[3, 2, -1]}\n"
                           "  %r = Reshape(%x, %s)\n"
                           "  %t = Transpose(%r) {perm=[2, 0, 1]}\n"
                           "  %u = Identity(%t) : ?[*]\n"
                           "  return %u\n}\n");
  assert_null(aicc_model_infer(m));
  assert_null(aicc_model_verify(m));
  char *out;
  assert_null(aicc_model_print_string(m, NULL, &out, NULL));
  assert_contains(out, "%s = Constant() {value_ints=[3, 2, -1]} : i64[3]\n");
  assert_contains(out, "%r = Reshape(%x, %s) : f32[3,2,N]\n");
  assert_contains(out, "%t = Transpose(%r) {perm=[2, 0, 1]} : f32[N,3,2]\n");
  assert_contains(out, "%u = Identity(%t) : f32[N,3,2]\n");
  free(out);
  aicc_model_destroy(m);
}

static void infer_contradiction(void **state) {
  aicc_model *m = parse_ok("aicc.model opsets={\"\":17}\ngraph g(%x: f32[2,3]) {\n"
                           "  %t = Transpose(%x) {perm=[1, 0]} : f32[3,5] name=\"t\"\n  return %t\n}\n");
  aicc_status s = aicc_model_infer(m);
  assert_non_null(s);
  assert_non_null(strstr(aicc_status_message(s),
                         "node 't' (Transpose): output 0 (%t): declared f32[3,5] but inference gives f32[3,2]"));
  aicc_status_free(s);
  aicc_model_destroy(m);
}

static void type_merge_rules(void **state) {
  aicc_type d, f, r;
  const char *why;
  int64_t s23[2] = {2, 3};
  d = aicc_type_tensor(AICC_DTYPE_F32, 2, s23);
  d.dims[0] = (aicc_dim){-1, "N"};
  d.dims[1] = aicc_dim_unknown();
  f = aicc_type_tensor(AICC_DTYPE_F32, 2, s23);
  f.dims[0] = (aicc_dim){-1, "M"};
  assert_true(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_string_equal(r.dims[0].sym, "N"); /* declared symbol stays */
  assert_int_equal(r.dims[1].size, 3);     /* known beats unknown */
  f.dims[0] = aicc_dim_known(2);
  assert_true(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_int_equal(r.dims[0].size, 2);     /* known beats a symbol */
  f.dtype = AICC_DTYPE_I64;
  assert_false(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_string_equal(why, "different dtypes");
  f.dtype = AICC_DTYPE_F32;
  f.rank = 1;
  assert_false(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_string_equal(why, "different ranks");
  f.rank = -1;
  assert_true(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_int_equal(r.rank, 2);
  f.kind = AICC_KIND_SEQUENCE;
  assert_false(aicc_ir_type_merge(&d, &f, &r, &why));
  memset(&f, 0, sizeof f);
  assert_true(aicc_ir_type_merge(&d, &f, &r, &why));
  assert_true(aicc_type_equal(&r, &d));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip_all_attr_kinds),
      cmocka_unit_test(roundtrip_header_and_names),
      cmocka_unit_test(roundtrip_domains_and_keywords),
      cmocka_unit_test(noncanonical_input_normalizes),
      cmocka_unit_test(input_that_is_initializer),
      cmocka_unit_test(type_printer),
      cmocka_unit_test(parse_errors),
      cmocka_unit_test(deep_nesting_is_refused),
      cmocka_unit_test(prefixes_and_mutations_never_crash),
      cmocka_unit_test(elided_data),
      cmocka_unit_test(node_print_string),
      cmocka_unit_test(verify_ok_and_order),
      cmocka_unit_test(verify_scoping),
      cmocka_unit_test(infer_fills_types),
      cmocka_unit_test(infer_contradiction),
      cmocka_unit_test(type_merge_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
