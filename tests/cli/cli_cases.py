#!/usr/bin/env python3
"""CLI behaviour cases for `aicc run`, `aicc test`, `aicc show` and `--help`.

Each case builds what it needs in a fresh temporary folder (onnx.helper, no
files committed), runs the aicc binary and checks exit status, the one-line
error on stderr and that no output file is left behind on failure.

usage: cli_cases.py --aicc PATH CASE     (CASE from --list)
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


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def add_model(path, batch="N"):
    """y = x + b with x: f32[batch, 3] (batch symbolic by default)."""
    b = numpy_helper.from_array(np.arange(3, dtype=np.float32), "b")
    g = helper.make_graph(
        [helper.make_node("Add", ["x", "b"], ["y"], name="add1")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])], [b])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, path)


def write_input(d, i, arr, name="x"):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"input_{i}.pb"), "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def run(aicc, *args):
    return subprocess.run([aicc, *args], capture_output=True, text=True, timeout=120)


def expect_error(r, *needles):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode != 0, f"expected failure, got exit 0: {r.stdout}"
    assert r.returncode < 128 and r.returncode > 0, f"crashed: exit {r.returncode}"
    assert len(lines) == 1, f"expected one error line, got {lines}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"


def no_outputs(d):
    left = [f for f in os.listdir(d)] if os.path.isdir(d) else []
    assert not left, f"output files left behind: {left}"


@case
def run_ok_symbolic_batch(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    x = np.ones((3, 3), np.float32)
    write_input(os.path.join(tmp, "in"), 0, x)
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out)
    assert r.returncode == 0, r.stderr
    t = onnx.TensorProto()
    with open(os.path.join(out, "output_0.pb"), "rb") as f:
        t.ParseFromString(f.read())
    np.testing.assert_array_equal(numpy_helper.to_array(t), x + np.arange(3, dtype=np.float32))


@case
def run_wrong_dtype(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    write_input(os.path.join(tmp, "in"), 0, np.ones((2, 3), np.int64))
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out)
    expect_error(r, "m.onnx", "'x'", "dtype", "f32", "i64")
    no_outputs(out)


@case
def run_wrong_shape(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    write_input(os.path.join(tmp, "in"), 0, np.ones((2, 4), np.float32))
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out)
    expect_error(r, "m.onnx", "'x'", "dim 1 is 4, expected 3")
    no_outputs(out)


@case
def run_wrong_rank(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    write_input(os.path.join(tmp, "in"), 0, np.ones((3,), np.float32))
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"))
    expect_error(r, "m.onnx", "'x'", "expected shape")


@case
def run_missing_input(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    os.makedirs(os.path.join(tmp, "in"))
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out)
    expect_error(r, "input_0.pb", "missing")
    no_outputs(out)


@case
def run_garbled_input(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    os.makedirs(os.path.join(tmp, "in"))
    with open(os.path.join(tmp, "in", "input_0.pb"), "wb") as f:
        f.write(b"\xff\xff\xff\x07garbage")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"))
    expect_error(r, "input_0.pb")


@case
def run_kernel_error_names_node(aicc, tmp):
    """A Reshape whose runtime shape cannot work: the error names the node."""
    shape = numpy_helper.from_array(np.array([5, -1], np.int64), "shape")
    g = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape7")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [shape])
    m = os.path.join(tmp, "m.onnx")
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), m)
    write_input(os.path.join(tmp, "in"), 0, np.ones((2, 3), np.float32))
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out)
    expect_error(r, "m.onnx", "reshape7", "Reshape")
    no_outputs(out)


@case
def run_unwritable_outputs(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    write_input(os.path.join(tmp, "in"), 0, np.ones((1, 3), np.float32))
    blocker = os.path.join(tmp, "file")
    open(blocker, "w").close()
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs",
            os.path.join(blocker, "out"))
    expect_error(r, "out")


@case
def test_detects_mismatch(aicc, tmp):
    """`aicc test` fails (and says FAIL) when a stored output is wrong."""
    d = os.path.join(tmp, "case")
    os.makedirs(d)
    add_model(os.path.join(d, "model.onnx"))
    ds = os.path.join(d, "test_data_set_0")
    write_input(ds, 0, np.ones((2, 3), np.float32))
    wrong = np.ones((2, 3), np.float32) + np.arange(3, dtype=np.float32)
    wrong[1, 2] += 0.01
    with open(os.path.join(ds, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(wrong, "y").SerializeToString())
    r = run(aicc, "test", d)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL" in r.stdout and "element 5" in r.stdout, r.stdout
    r = run(aicc, "test", d, "--atol", "0.1")
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr


@case
def help_everywhere(aicc, tmp):
    for cmd in ([], ["show"], ["run"], ["test"], ["ops"], ["compile"], ["bench"]):
        r = run(aicc, *cmd, "--help")
        assert r.returncode == 0 and "usage: aicc" in r.stdout, (cmd, r.stdout, r.stderr)


@case
def bad_flags(aicc, tmp):
    for args, needle in ((["run", "m.onnx", "--inputs", "d", "--engine", "warp"], "unknown engine"),
                         (["test", "d", "--rtol", "abc"], "--rtol"),
                         (["show", "--frobnicate"], "unknown option"),
                         (["frobnicate"], "unknown command")):
        r = run(aicc, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert needle in r.stderr, (args, r.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aicc")
    ap.add_argument("--list", action="store_true", help="print the case names")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    if a.case not in CASES or not a.aicc:
        ap.error("need --aicc and one of: " + ", ".join(CASES))
    with tempfile.TemporaryDirectory(prefix="aicc-cli-") as tmp:
        CASES[a.case](a.aicc, tmp)
    print(f"{a.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
