#!/usr/bin/env python3
"""Import -> export round trip of the ONNX frontend.

For hand-built models (every initializer encoding, symbolic dims, subgraphs
that read outer values, model-local functions with attribute references,
sparse initializers) and for the ONNX node cases that import: the exported
model must pass onnx.checker and give onnxruntime's outputs of the original.
Value files (input_N.pb / output_N.pb) must survive load -> save unchanged.
"""
import argparse
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

try:
    import onnxruntime as ort
    ort.set_default_logger_severity(4)
except ImportError:  # the checker part still runs
    ort = None


def run_tool(tool, *args):
    r = subprocess.run([tool, *args], capture_output=True, text=True)
    return r.returncode, r.stderr.strip()


def ort_run(path, feeds):
    so = ort.SessionOptions()
    so.log_severity_level = 4
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def same(a, b):
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            same(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "OSU":
        return np.array_equal(a, b)
    # Bit-exact: covers NaNs and the ml_dtypes types (bfloat16, float8...)
    # that numpy compares poorly.
    return np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()


# --- hand-built models ---------------------------------------------------

def t(name, arr, **kw):
    return numpy_helper.from_array(np.asarray(arr), name)


def model_encodings():
    """Initializers in raw_data and in each typed field; symbolic batch."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    inits = [
        helper.make_tensor("w", TensorProto.FLOAT, [4, 3], w.flatten().tolist()),  # float_data
        t("b", rng.standard_normal(3).astype(np.float32)),  # raw_data
        helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 3]),  # int64_data
        helper.make_tensor("i8", TensorProto.INT8, [3], [-3, 0, 7]),  # int32_data
        helper.make_tensor("h", TensorProto.FLOAT16, [3],
                           np.array([0.5, -1.25, 2.0], np.float16)),  # int32_data bits
        helper.make_tensor("d", TensorProto.DOUBLE, [3], [1.5, -2.0, 0.25]),  # double_data
        helper.make_tensor("u32", TensorProto.UINT32, [3], [1, 2, 4000000000]),  # uint64_data
        helper.make_tensor("i4", TensorProto.INT4, [5], [-8, -1, 0, 3, 7]),  # packed pairs
        helper.make_tensor("s", TensorProto.STRING, [2], [b"ab", b"c\x00d"]),  # string_data
        helper.make_tensor("bo", TensorProto.BOOL, [3], [True, False, True]),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"], name="mm"),
        helper.make_node("Add", ["xw", "b"], ["y0"], name="add"),
        helper.make_node("Reshape", ["y0", "shape"], ["y"], name="reshape"),
        helper.make_node("Cast", ["i8"], ["i8f"], to=TensorProto.FLOAT, name="c1"),
        helper.make_node("Cast", ["h"], ["hf"], to=TensorProto.FLOAT, name="c2"),
        helper.make_node("Add", ["i8f", "hf"], ["z0"], name="add2"),
        helper.make_node("Cast", ["d"], ["df"], to=TensorProto.FLOAT, name="c3"),
        helper.make_node("Add", ["z0", "df"], ["z"], name="add3"),
        helper.make_node("Identity", ["u32"], ["u"], name="id1"),
        helper.make_node("Cast", ["i4"], ["i4i"], to=TensorProto.INT8, name="c4"),
        helper.make_node("Identity", ["s"], ["so"], name="id2"),
        helper.make_node("Not", ["bo"], ["bn"], name="not"),
    ]
    g = helper.make_graph(
        nodes, "encodings",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("u", TensorProto.UINT32, [3]),
         helper.make_tensor_value_info("i4i", TensorProto.INT8, [5]),
         helper.make_tensor_value_info("so", TensorProto.STRING, [2]),
         helper.make_tensor_value_info("bn", TensorProto.BOOL, [3])],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    return m, {"x": rng.standard_normal((2, 4)).astype(np.float32)}


def model_subgraph():
    """If whose branches read outer values; Loop carrying a value."""
    then_g = helper.make_graph(
        [helper.make_node("Add", ["a", "a"], ["t_out"])], "then", [],
        [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, [2])])
    else_g = helper.make_graph([helper.make_node("Identity", ["a"], ["e_out"])], "else", [],
                               [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, [2])])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc", "a"], ["acc2"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc2", TensorProto.FLOAT, [2])])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("If", ["c"], ["r"], then_branch=then_g, else_branch=else_g),
        helper.make_node("Loop", ["n", "", "r"], ["l"], body=body),
    ]
    g = helper.make_graph(
        nodes, "sub",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("n", TensorProto.INT64, [])],
        [helper.make_tensor_value_info("l", TensorProto.FLOAT, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 9
    return m, {"x": np.array([1.0, -2.0], np.float32), "c": np.array(True),
               "n": np.array(3, np.int64)}


def model_function():
    """Model-local functions: attribute reference with default, nested call,
    an output that passes an input through, and two calls."""
    inner = helper.make_function(
        "local", "Scale", ["X"], ["Y"],
        [helper.make_node("Constant", [], ["k"], value_float=2.0),
         helper.make_node("Mul", ["X", "k"], ["Y"])],
        [helper.make_opsetid("", 18)])
    alpha = helper.make_attribute_ref("alpha", onnx.AttributeProto.FLOAT)
    lr = helper.make_node("LeakyRelu", ["X"], ["t"])
    lr.attribute.append(alpha)
    outer = helper.make_function(
        "local", "Block", ["X"], ["Y", "X"],
        [lr, helper.make_node("Scale", ["t"], ["Y"], domain="local")],
        [helper.make_opsetid("", 18), helper.make_opsetid("local", 1)],
        attributes=[])
    outer.attribute_proto.append(helper.make_attribute("alpha", 0.5))
    nodes = [
        helper.make_node("Block", ["x"], ["y1", "p1"], domain="local", name="b1", alpha=0.1),
        helper.make_node("Block", ["y1"], ["y2", ""], domain="local", name="b2"),
        helper.make_node("Add", ["y2", "p1"], ["y"]),
    ]
    g = helper.make_graph(nodes, "fn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18),
                                            helper.make_opsetid("local", 1)],
                          functions=[inner, outer])
    m.ir_version = 9
    return m, {"x": np.array([1.0, -2.0, 3.0, -4.0], np.float32)}


def model_sparse():
    """Sparse initializers, linear and coordinate indices."""
    v = helper.make_tensor("sp", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0])
    i = helper.make_tensor("sp_i", TensorProto.INT64, [3], [0, 4, 5])
    sp = helper.make_sparse_tensor(v, i, [2, 3])
    v2 = helper.make_tensor("sq", TensorProto.FLOAT, [2], [5.0, 6.0])
    i2 = helper.make_tensor("sq_i", TensorProto.INT64, [2, 2], [0, 1, 1, 2])
    sq = helper.make_sparse_tensor(v2, i2, [2, 3])
    g = helper.make_graph([helper.make_node("Add", ["x", "sp"], ["t"]),
                           helper.make_node("Add", ["t", "sq"], ["y"])], "sparse",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
                          sparse_initializer=[sp, sq])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 9
    return m, {"x": np.ones((2, 3), np.float32)}


DTYPE_VALUES = {
    "STRING": [b"a", b"bc", b"", b"d\x00e", b"f"],
    "COMPLEX64": [1 + 2j, -3j, 0.5, 2, 1j], "COMPLEX128": [1 + 2j, -3j, 0.5, 2, 1j],
    "BOOL": [True, False, True, True, False],
    "UINT2": [0, 1, 2, 3, 1], "INT2": [-2, -1, 0, 1, 1],
}


def check_dtypes(tool, work):
    """Every dtype in its typed field and in raw_data (odd counts to test the
    padding of packed types), plus rank 0 and empty tensors: the exported
    initializers must hold the same bits."""
    inits = []
    for name, dt in TensorProto.DataType.items():
        if dt == TensorProto.UNDEFINED:
            continue
        vals = DTYPE_VALUES.get(name)
        if vals is None:
            vals = ([0, 1, 2, 3, 15] if name.startswith("UINT") else
                    [-8, -1, 0, 3, 7] if name.startswith("INT") else [0.5, -1.0, 2.0, 0.0, 4.0])
        typed = helper.make_tensor(name.lower() + "_typed", dt, [5], vals)
        arr = numpy_helper.to_array(typed)
        inits.append(typed)
        if dt != TensorProto.STRING:
            inits.append(numpy_helper.from_array(arr, name.lower() + "_raw"))
        inits.append(helper.make_tensor(name.lower() + "_empty", dt, [0, 3], []))
    inits.append(helper.make_tensor("scalar", TensorProto.INT64, [], [42]))
    inits.append(helper.make_tensor("matrix", TensorProto.FLOAT, [2, 3], list(range(6))))
    outs = [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits]
    g = helper.make_graph([], "dtypes", [], outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 25)])
    src, dst = os.path.join(work, "dtypes.onnx"), os.path.join(work, "dtypes.out.onnx")
    onnx.save(m, src)
    rc, err = run_tool(tool, "roundtrip", src, dst)
    if rc != 0:
        return ["dtypes: export failed: " + err]
    got = {t.name: t for t in onnx.load(dst).graph.initializer}
    errors = []
    for t in inits:
        g = got.get(t.name)
        if g is None or list(g.dims) != list(t.dims) or g.data_type != t.data_type:
            errors.append("dtypes: initializer %s lost or retyped" % t.name)
        elif not same(numpy_helper.to_array(t), numpy_helper.to_array(g)):
            errors.append("dtypes: initializer %s changed" % t.name)
    return errors


HAND = {"encodings": model_encodings, "subgraph": model_subgraph,
        "function": model_function, "sparse": model_sparse}


def check_roundtrip(tool, src, dst, feeds, ref_model=None):
    """Returns an error string, or None when the round trip is good."""
    rc, err = run_tool(tool, "roundtrip", src, dst)
    if rc != 0:
        return "export failed: " + err
    try:
        onnx.checker.check_model(onnx.load(dst), full_check=False)
    except Exception as e:  # noqa: BLE001 (report any checker failure)
        return "checker: %s" % str(e).splitlines()[0]
    if ort is None:
        return None
    try:
        want = ort_run(ref_model or src, feeds)
    except Exception:  # onnxruntime cannot run the original: nothing to compare
        return None
    try:
        got = ort_run(dst, feeds)
    except Exception as e:  # noqa: BLE001
        return "onnxruntime on the export: %s" % str(e).splitlines()[0]
    for k, (a, b) in enumerate(zip(want, got)):
        if not same(a, b):
            return "output %d differs" % k
    return None


def value_kind(tp):
    w = tp.WhichOneof("value")
    return {"sequence_type": "seq", "optional_type": "opt"}.get(w, "tensor")


def load_value(path, kind):
    data = open(path, "rb").read()
    if kind == "seq":
        p = onnx.SequenceProto()
        p.ParseFromString(data)
        return numpy_helper.to_list(p)
    if kind == "opt":
        p = onnx.OptionalProto()
        p.ParseFromString(data)
        return numpy_helper.to_optional(p)
    p = onnx.TensorProto()
    p.ParseFromString(data)
    return numpy_helper.to_array(p)


def case_feeds(case, model, tool, work, errors):
    """Inputs of test_data_set_0, checking each value file's round trip."""
    feeds = {}
    ds = os.path.join(case, "test_data_set_0")
    vis = {"input": [i for i in model.graph.input
                     if i.name not in {x.name for x in model.graph.initializer}],
           "output": list(model.graph.output)}
    for which, infos in vis.items():
        for k, vi in enumerate(infos):
            f = os.path.join(ds, "%s_%d.pb" % (which, k))
            if not os.path.exists(f):
                continue
            kind = value_kind(vi.type)
            out = os.path.join(work, "value.pb")
            rc, err = run_tool(tool, "value", kind, f, out)
            if rc != 0:
                errors.append("%s: value %s_%d: %s" % (os.path.basename(case), which, k, err))
                continue
            a, b = load_value(f, kind), load_value(out, kind)
            if not same(a, b):
                errors.append("%s: value %s_%d changed" % (os.path.basename(case), which, k))
            if which == "input":
                feeds[vi.name] = a
    return feeds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cases", default=None, help="folder of ONNX node cases")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    errors = []
    for name, make in HAND.items():
        m, feeds = make()
        src = os.path.join(a.work, name + ".onnx")
        onnx.save(m, src)
        onnx.checker.check_model(m)
        e = check_roundtrip(a.tool, src, os.path.join(a.work, name + ".out.onnx"), feeds)
        if e:
            errors.append("%s: %s" % (name, e))
    errors += check_dtypes(a.tool, a.work)
    cases_dir = a.cases
    if not cases_dir:
        here = os.path.dirname(os.path.abspath(a.tool))
        for cand in [os.path.join(here, "..", "..", "onnx-node"), "/tmp/node"]:
            if os.path.isdir(cand):
                cases_dir = cand
                break
    n_cases = n_loaded = 0
    if cases_dir:
        for case in sorted(glob.glob(os.path.join(cases_dir, "*", ""))):
            src = os.path.join(case, "model.onnx")
            if not os.path.exists(src):
                continue
            n_cases += 1
            rc, _ = run_tool(a.tool, "load", src)
            if rc != 0:
                continue  # ops not written yet: the conformance run reports those
            n_loaded += 1
            model = onnx.load(src)
            feeds = case_feeds(case.rstrip("/"), model, a.tool, a.work, errors)
            e = check_roundtrip(a.tool, src, os.path.join(a.work, "case.onnx"), feeds)
            if e:
                errors.append("%s: %s" % (os.path.basename(case.rstrip("/")), e))
    for e in errors:
        print("FAIL", e)
    print("round trip: %d hand-built models, %d of %d node cases imported, %d failures"
          % (len(HAND), n_loaded, n_cases, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
