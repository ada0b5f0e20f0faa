#!/usr/bin/env python3
"""CLI behaviour cases for `aicc opt`.

Each case builds what it needs in a fresh temporary folder (onnx.helper, no
files committed), runs `aicc opt` and checks the exit status, the one-line
error on stderr, that no output file is left behind on failure and that the
input model's bytes never change. The zoo_<model> cases export -O2 of each
model zoo entry and check it with onnx.checker and onnxruntime against the
original model.

usage: opt_cases.py --aicc PATH [--zoo DIR] CASE     (CASE from --list)
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = {}
ZOO_MODELS = ["resnet", "mobilenetv2", "squeezenet", "bert", "gpt2", "lstm"]


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def small_model(path):
    """y = Exp(x) + Exp(x) with an unused node: something for cse and dce."""
    g = helper.make_graph(
        [helper.make_node("Exp", ["x"], ["a1"], name="e1"),
         helper.make_node("Exp", ["x"], ["a2"], name="e2"),
         helper.make_node("Neg", ["a2"], ["dead"], name="n"),
         helper.make_node("Add", ["a1", "a2"], ["y"], name="add")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def run(aicc, *args):
    return subprocess.run([aicc, *args], capture_output=True, text=True, timeout=600)


def expect_error(r, *needles, code=None):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode != 0, f"expected failure, got exit 0: {r.stdout}"
    assert 0 < r.returncode < 128, f"crashed: exit {r.returncode}"
    assert code is None or r.returncode == code, f"exit {r.returncode}, expected {code}: {lines}"
    assert len(lines) == 1, f"expected one error line, got {lines}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Untouched:
    """Checks that a file's bytes are the same at the end of a block."""

    def __init__(self, path):
        self.path, self.data = path, read(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert read(self.path) == self.data, f"{self.path} was modified"


def only_files(d, names):
    left = sorted(os.listdir(d))
    assert left == sorted(names), f"files in {d}: {left}, expected {sorted(names)}"


def fail_case(aicc, tmp, args, needles, code):
    """Runs a failing `aicc opt` on a fresh model: one error line with the
    needles, the model unchanged, no output and no temp file left."""
    m = os.path.join(tmp, "m.onnx")
    small_model(m)
    out = os.path.join(tmp, "out.onnx")
    with Untouched(m):
        r = run(aicc, "opt", m, *args, "-o", out)
        expect_error(r, *needles, code=code)
    only_files(tmp, ["m.onnx"])


@case
def unknown_pass(aicc, tmp):
    fail_case(aicc, tmp, ["--passes=dce,frobnicate,cse"], ["unknown pass 'frobnicate'"], 2)


@case
def malformed_passes(aicc, tmp):
    for spec, needle in (("dce,,cse", "expected a pass name at offset 4"),
                         ("[dce", "'[' without ']'"),
                         ("dce]", "unmatched ']'"),
                         ("[dce,[cse]]", "nested '['"),
                         (",dce", "expected a pass name at offset 0"),
                         ("dce,", "expected a pass name")):
        fail_case(aicc, tmp, ["--passes=" + spec], [needle], 2)


@case
def internal_ops_not_exported(aicc, tmp):
    """-O3's layout pass makes aicc-internal ops: ONNX output is refused."""
    m = os.path.join(tmp, "m.onnx")
    w = numpy_helper.from_array(np.ones((16, 8, 3, 3), np.float32), "w")
    g = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", pads=[1, 1, 1, 1])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 6, 6])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), m)
    out = os.path.join(tmp, "out.onnx")
    with Untouched(m):
        r = run(aicc, "opt", m, "--passes=layout", "-o", out)
        expect_error(r, "aicc-internal layout ops", code=1)
    only_files(tmp, ["m.onnx"])
    r = run(aicc, "opt", m, "--passes=layout", "-o", os.path.join(tmp, "out.ir"))
    assert r.returncode == 0, r.stderr


@case
def bad_level(aicc, tmp):
    for lvl in ("-O7", "-O", "-O22", "-Ofast"):
        fail_case(aicc, tmp, [lvl], ["optimization level", lvl], 2)
    fail_case(aicc, tmp, ["-O1", "--passes=dce"], ["either"], 2)


@case
def bad_flags(aicc, tmp):
    for args, needle in ((["--frobnicate"], "unknown option '--frobnicate'"),
                         (["--print-after=nosuch"], "unknown pass 'nosuch'"),
                         (["--passes"], "--passes needs a value")):
        fail_case(aicc, tmp, args, [needle], 2)
    # A wrong output extension, and a second model.
    m = os.path.join(tmp, "m.onnx")
    for args, needle in ((["-o", os.path.join(tmp, "out.txt")], "must end in .onnx or .ir"),
                         ([m], "more than one model"),
                         (["-o", m], "would overwrite the input")):
        with Untouched(m):
            expect_error(run(aicc, "opt", m, *args), needle, code=2)
        only_files(tmp, ["m.onnx"])
    expect_error(run(aicc, "opt"), "no model given", code=2)


@case
def output_folder_missing(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    small_model(m)
    for out in ("nodir/out.onnx", "nodir/out.ir"):
        with Untouched(m):
            r = run(aicc, "opt", m, "-O2", "-o", os.path.join(tmp, out))
            expect_error(r, "nodir", code=1)
        only_files(tmp, ["m.onnx"])


@case
def model_fails_to_load(aicc, tmp):
    bad = os.path.join(tmp, "bad.onnx")
    with open(bad, "wb") as f:
        f.write(b"\x0a\xff\xff\xff garbage, not a protobuf")
    missing = os.path.join(tmp, "missing.onnx")
    badir = os.path.join(tmp, "bad.ir")
    with open(badir, "w") as f:
        f.write('aicc.model ir_version=8 opsets={"":17}\ngraph g(%x: f32[2]) {\n  %y = Nope(%x)\n  return %y\n}\n')
    for m, needle in ((bad, "bad.onnx"), (missing, "missing.onnx"), (badir, "bad.ir:3")):
        before = sorted(os.listdir(tmp))
        r = run(aicc, "opt", m, "-O2", "-o", os.path.join(tmp, "out.onnx"))
        expect_error(r, needle, code=1)
        assert sorted(os.listdir(tmp)) == before, os.listdir(tmp)


@case
def writes_onnx_and_ir(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    small_model(m)
    with Untouched(m):
        r = run(aicc, "opt", m, "--passes=[cse,dce]", "--verify", "-o", os.path.join(tmp, "o.onnx"))
        assert r.returncode == 0 and not r.stdout and not r.stderr, r
        r = run(aicc, "opt", m, "-O2", "-o", os.path.join(tmp, "o.ir"))
        assert r.returncode == 0, r.stderr
        r = run(aicc, "opt", m, "-O2", "-o", "-")
        assert r.returncode == 0 and r.stdout.startswith("aicc.model"), r
        assert r.stdout == read(os.path.join(tmp, "o.ir")).decode()
    only_files(tmp, ["m.onnx", "o.onnx", "o.ir"])
    o = onnx.load(os.path.join(tmp, "o.onnx"))
    onnx.checker.check_model(o, full_check=True)
    assert [n.op_type for n in o.graph.node] == ["Exp", "Add"], o.graph.node
    assert [i.name for i in o.graph.input] == ["x"] and [v.name for v in o.graph.output] == ["y"]
    # An .ir output reads back (and writes on to ONNX).
    r = run(aicc, "opt", os.path.join(tmp, "o.ir"), "-O0", "-o", os.path.join(tmp, "p.onnx"))
    assert r.returncode == 0, r.stderr
    # Overwriting an existing output is fine (atomic replace).
    r = run(aicc, "opt", m, "-O0", "-o", os.path.join(tmp, "o.onnx"))
    assert r.returncode == 0, r.stderr
    assert len(onnx.load(os.path.join(tmp, "o.onnx")).graph.node) == 4


@case
def stats(aicc, tmp):
    import json
    m = os.path.join(tmp, "m.onnx")
    small_model(m)
    js = os.path.join(tmp, "s.json")
    r = run(aicc, "opt", m, "--passes=cse,dce", "--stats", "--stats-json", js,
            "-o", os.path.join(tmp, "o.onnx"))
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("cse ") and lines[1].startswith("dce "), lines
    assert lines[-1] == "nodes: 4 -> 2", lines
    s = json.load(open(js))
    assert [(p["pass"], p["nodes_before"], p["nodes_after"]) for p in s] == \
        [("cse", 4, 3), ("dce", 3, 2)], s


@case
def help_and_list(aicc, tmp):
    r = run(aicc, "opt", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: aicc opt"), r
    for flag in ("-O0", "-O3", "--passes", "-o OUT", "--stats", "--stats-json", "--print-after=",
                 "--print-after-all", "--verify", "--list-passes", "--help"):
        assert flag in r.stdout, flag
    for lvl in ("-O0", "-O1", "-O2", "-O3"):
        assert "\n  " + lvl + "  " in r.stdout, lvl
    r = run(aicc, "opt", "--list-passes")
    assert r.returncode == 0 and "dce " in r.stdout and "cse " in r.stdout, r
    r = run(aicc, "--help")
    assert "opt" in r.stdout


def ort_run(path, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, feeds)


def zoo_case(name):
    def fn(aicc, tmp, zoo):
        d = os.path.join(zoo, name)
        src = os.path.join(d, "model.onnx")
        os.makedirs(os.path.join(tmp, name))
        out = os.path.join(tmp, name, "model.onnx")
        with Untouched(src):
            r = run(aicc, "opt", src, "-O2", "--verify", "--stats", "-o", out)
            assert r.returncode == 0, r.stderr
        print(r.stderr.splitlines()[-1])  # nodes: before -> after
        onnx.checker.check_model(onnx.load(out), full_check=True)
        m = onnx.load(src)
        inits = {i.name for i in m.graph.initializer}
        feeds = {}
        ds = os.path.join(d, "test_data_set_0")
        for i, inp in enumerate(v for v in m.graph.input if v.name not in inits):
            t = onnx.TensorProto()
            t.ParseFromString(read(os.path.join(ds, f"input_{i}.pb")))
            feeds[inp.name] = numpy_helper.to_array(t)
        want, got = ort_run(src, feeds), ort_run(out, feeds)
        assert len(want) == len(got)
        for k, (w, g) in enumerate(zip(want, got)):
            assert w.shape == g.shape and w.dtype == g.dtype, (k, w.shape, g.shape)
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=f"output {k}")
        # The optimised model runs on aicc too and matches the stored outputs.
        os.symlink(os.path.join(os.path.abspath(d), "test_data_set_0"),
                   os.path.join(tmp, name, "test_data_set_0"))
        r = run(aicc, "test", os.path.join(tmp, name), "--rtol", "1e-3", "--atol", "1e-4")
        assert r.returncode == 0, r.stdout + r.stderr
    fn.__name__ = "zoo_" + name
    fn.needs_zoo = True
    return fn


for _m in ZOO_MODELS:
    case(zoo_case(_m))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aicc")
    ap.add_argument("--zoo", help="the model zoo folder (build/zoo)")
    ap.add_argument("--list", action="store_true", help="print the case names")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    if a.case not in CASES or not a.aicc:
        ap.error("need --aicc and one of: " + ", ".join(CASES))
    fn = CASES[a.case]
    with tempfile.TemporaryDirectory(prefix="aicc-opt-") as tmp:
        if getattr(fn, "needs_zoo", False):
            if not a.zoo:
                ap.error(a.case + " needs --zoo DIR")
            fn(a.aicc, tmp, a.zoo)
        else:
            fn(a.aicc, tmp)
    print(f"{a.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
