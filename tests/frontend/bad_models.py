#!/usr/bin/env python3
"""Bad-input tests of the ONNX import, models made at test time.

    bad_models.py --tool onnx_tool [--aicc aicc] --work DIR CASE

Writes DIR/CASE/model.onnx (plus any side files), loads it with
`onnx_tool load` (and `aicc show` when --aicc is given) and checks: exit code
non-zero (no crash), exactly one line on stderr that names the file, the node
where there is one, and the reason. Case external_ok is the positive one: a
model saved with external data must load and compute what onnxruntime does.
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=18, domains=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = 9
    return m


def vi(name, shape=(2, 3), dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, list(shape))


def simple(node_input="x", init=None):
    """y = x + w with w an initializer (optional)."""
    inits = [init] if init is not None else []
    return model([helper.make_node("Add", ["x", node_input], ["y"], name="add1")],
                 [vi("x")], [vi("y")], inits)


def ext_model(location, raw=None):
    """A model whose initializer 'w' is external data at `location`."""
    w = numpy_helper.from_array(np.ones((2, 3), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", "0"), ("length", "24")]:
        e = w.external_data.add()
        e.key, e.value = k, v
    return simple("w", w)


def save(m, d):
    path = os.path.join(d, "model.onnx")
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path


# Each case: (builder(dir) -> model path, substrings the message must hold).
def c_truncated(d):
    m = simple("w", numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w"))
    data = m.SerializeToString()
    path = os.path.join(d, "model.onnx")
    open(path, "wb").write(data[: len(data) - 7])
    return path


def c_garbage(d):
    path = os.path.join(d, "model.onnx")
    open(path, "wb").write(bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)))
    return path


def c_text_file(d):
    path = os.path.join(d, "model.onnx")
    open(path, "w").write("This is a text file, not an ONNX model.\nSecond line.\n")
    return path


def c_unknown_op(d):
    return save(model([helper.make_node("FrobnicateX", ["x"], ["y"], name="n1")],
                      [vi("x")], [vi("y")]), d)


def c_unsupported_opset(d):
    return save(model([helper.make_node("Identity", ["x"], ["y"], name="n1")],
                      [vi("x")], [vi("y")], opset=99), d)


def c_unknown_domain(d):
    return save(model([helper.make_node("Gelu", ["x"], ["y"], name="n1", domain="com.example")],
                      [vi("x")], [vi("y")], domains=["com.example"]), d)


def c_undefined_input(d):
    return save(simple("nope"), d)


def c_missing_initializer(d):
    m = simple("w")  # w named as input, but no initializer or graph input
    return save(m, d)


def c_ext_dotdot(d):
    return save(ext_model("../x.bin"), d)


def c_ext_absolute(d):
    return save(ext_model("/etc/passwd"), d)


def c_ext_missing(d):
    return save(ext_model("nothere.bin"), d)


def c_ext_short(d):
    open(os.path.join(d, "w.bin"), "wb").write(b"\0" * 8)
    return save(ext_model("w.bin"), d)


def c_ext_symlink(d):
    outside = os.path.join(os.path.dirname(d), "outside_%s.bin" % os.path.basename(d))
    open(outside, "wb").write(b"\0" * 24)
    link = os.path.join(d, "w.bin")
    os.symlink(outside, link)
    return save(ext_model("w.bin"), d)


def c_cycle(d):
    return save(model([helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
                       helper.make_node("Neg", ["a"], ["b"], name="n2"),
                       helper.make_node("Identity", ["a"], ["y"], name="n3")],
                      [vi("x")], [vi("y")]), d)


def c_huge_dim(d):
    w = TensorProto()  # helper.make_tensor would refuse the size mismatch
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([1 << 20, 1 << 20])
    w.raw_data = b"\0\0\0\0"
    return save(simple("w", w), d)


def c_attr_wrong_type(d):
    n = helper.make_node("Conv", ["x", "w"], ["y"], name="n1", pads=[1.0, 1.0, 1.0, 1.0])
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    return save(model([n], [vi("x", (1, 1, 5, 5))], [vi("y", (1, 1, 5, 5))], [w]), d)


CASES = {
    "truncated": (c_truncated, ["not a valid ONNX model"]),
    "garbage": (c_garbage, ["not a valid ONNX model"]),
    "text_file": (c_text_file, ["not a valid ONNX model"]),
    "unknown_op": (c_unknown_op, ["n1", "FrobnicateX", "unknown"]),
    "unsupported_opset": (c_unsupported_opset, ["unsupported opset", "99"]),
    "unknown_domain": (c_unknown_domain, ["n1", "com.example"]),
    "undefined_input": (c_undefined_input, ["add1", "'nope'", "not defined"]),
    "missing_initializer": (c_missing_initializer, ["add1", "'w'", "not defined"]),
    "ext_dotdot": (c_ext_dotdot, ["'w'", "'..'"]),
    "ext_absolute": (c_ext_absolute, ["'w'", "absolute"]),
    "ext_missing": (c_ext_missing, ["nothere.bin", "not found"]),
    "ext_short": (c_ext_short, ["w.bin", "too short"]),
    "ext_symlink": (c_ext_symlink, ["w.bin", "outside"]),
    "cycle": (c_cycle, ["cycle", "node 'n"]),
    "huge_dim": (c_huge_dim, ["initializer 'w'", "1048576"]),
    "attr_wrong_type": (c_attr_wrong_type, ["n1", "Conv", "'pads'", "FLOATS", "INTS"]),
}


def check_bad(cmd, path, want):
    r = subprocess.run(cmd + [path], capture_output=True, text=True)
    err = r.stderr.rstrip("\n")
    problems = []
    if r.returncode <= 0 or r.returncode >= 128:
        problems.append("exit code %d (want a plain failure)" % r.returncode)
    if len(err.splitlines()) != 1:
        problems.append("stderr has %d lines, want 1" % len(err.splitlines()))
    for w in [path] + want:
        if w not in err:
            problems.append("message lacks %r" % w)
    print("%s -> rc %d: %s" % (" ".join(cmd[1:]), r.returncode, err))
    for p in problems:
        print("  FAIL:", p)
    return not problems


def external_ok(tool, d):
    """onnx.save(save_as_external_data=True) output loads and computes right."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((2, 3)).astype(np.float32)
    m = model([helper.make_node("Add", ["x", "w"], ["t"], name="add1"),
               helper.make_node("Mul", ["t", "b"], ["y"], name="mul1")],
              [vi("x")], [vi("y")],
              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    path = os.path.join(d, "model.onnx")
    onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights.bin", size_threshold=0)
    assert onnx.load(path, load_external_data=False).graph.initializer[0].data_location == 1
    r = subprocess.run([tool, "load", path], capture_output=True, text=True)
    print("load:", r.returncode, r.stdout.strip(), r.stderr.strip())
    if r.returncode != 0:
        return False
    # The export holds the data inline: it must compute x + w then * b.
    out = os.path.join(d, "inline.onnx")
    r = subprocess.run([tool, "roundtrip", path, out], capture_output=True, text=True)
    if r.returncode != 0:
        print("roundtrip failed:", r.stderr.strip())
        return False
    got = {t.name: numpy_helper.to_array(t) for t in onnx.load(out).graph.initializer}
    ok = np.array_equal(got.get("w"), w) and np.array_equal(got.get("b"), b)
    print("external data read back", "correctly" if ok else "WRONG")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True, help="onnx_tool binary")
    ap.add_argument("--aicc", help="aicc CLI binary (runs `aicc show` too)")
    ap.add_argument("--work", required=True)
    ap.add_argument("case", choices=sorted(CASES) + ["external_ok"])
    a = ap.parse_args()
    d = os.path.join(os.path.abspath(a.work), a.case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    if a.case == "external_ok":
        return 0 if external_ok(a.tool, d) else 1
    build, want = CASES[a.case]
    path = build(d)
    ok = check_bad([a.tool, "load"], path, want)
    if a.aicc:
        ok = check_bad([a.aicc, "show"], path, want) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
