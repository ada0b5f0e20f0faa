"""Runs examples/api_example on a small generated ONNX model and checks its
printed outputs against numpy.

    api_example_test.py API_EXAMPLE WORK_DIR

The model (onnx.helper): x: f32[N,8] (N symbolic: the example binds it to
3 with --dim, so the program specializes at the first run), y = Relu(x W + b),
z = ReduceSum(Tanh(y), axis 1). Inputs follow the example's fill rule."""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    exe, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    w = rng.standard_normal((8, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["xwb"]),
        helper.make_node("Relu", ["xwb"], ["y"]),
        helper.make_node("Tanh", ["y"], ["t"]),
        helper.make_node("ReduceSum", ["t", "axes"], ["z"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "api_example",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N"])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
         numpy_helper.from_array(np.array([1], np.int64), "axes")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = os.path.join(work, "api_example.onnx")
    onnx.save(model, path)

    n = 3
    x = ((np.arange(n * 8) % 7) * 0.25 - 0.5).astype(np.float32).reshape(n, 8)
    y = np.maximum(x @ w + b, 0)
    z = np.tanh(y).sum(axis=1)
    env = dict(os.environ, AICC_CACHE_DIR=os.path.join(work, "cache"))
    out = subprocess.run([exe, path, "--dim", str(n), "--threads", "2"], env=env,
                         capture_output=True, text=True, timeout=120)
    print(out.stdout, end="")
    if out.returncode != 0:
        print(out.stderr, end="")
        sys.exit("api_example failed")
    lines = [l for l in out.stdout.splitlines() if l.startswith("output ")]
    want = {"y": (y, "[3,4]"), "z": (z, "[3]")}
    if len(lines) != 2:
        sys.exit("expected 2 output lines")
    for line in lines:
        name = line.split("'")[1]
        ref, shape = want[name]
        if shape not in line:
            sys.exit(f"output {name}: expected shape {shape}: {line}")
        s = float(line.split("sum=")[1].split()[0])
        if abs(s - float(ref.sum())) > 1e-4 * max(1.0, abs(float(ref.sum()))):
            sys.exit(f"output {name}: sum {s}, expected {float(ref.sum())}")
    print("api_example: outputs match numpy")


if __name__ == "__main__":
    main()
