#!/usr/bin/env python3
"""Row reductions split by lanes (aicc_lower_emit_reduce, the rfactor in
ops/lower_util.c): one-node models whose reduced axis is the innermost and
long (the ONNX node cases' rows are too short to take that path), with and
without a tail (K not a multiple of the lanes), several reduced axes, f64
and integer data, statistic outputs and a row of -inf.

  row_reductions.py LOWER_CHECK AICC WORK_DIR

For every case: lower_check compares the lowering with the reference kernel
(unscheduled and default schedule, loop-IR interpreter), then `aicc run`
compares the compiled engine with the interpreter (the reference kernels).
Last, the Softmax kernel's loop dump must show the split (a partial stage
over r0*16 + lane, vectorized) inside one kernel, and a big ReduceSum a
parallel loop at 2 threads, so that losing either fails the test too.
Exit status 1 on any failure."""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, F64, I32, I64 = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT32, TensorProto.INT64
NP = {F32: np.float32, F64: np.float64, I32: np.int32, I64: np.int64}


def model(op, shape, attrs=None, dt=F32, opset=18, n_out=1, inits=(), out_dt=None):
    ins = [helper.make_tensor_value_info("x", dt, shape)]
    outs = [helper.make_tensor_value_info(f"y{i}", (out_dt or dt) if i == 0 else F32, None)
            for i in range(n_out)]
    node = helper.make_node(op, ["x"] + [n for n, _ in inits],
                            [o.name for o in outs], **(attrs or {}))
    g = helper.make_graph([node], op, ins, outs,
                          [numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def cases():
    rng = np.random.default_rng(7)
    w = lambda n: rng.standard_normal(n).astype(np.float32)
    ax = lambda *a: [("axes", np.array(a, np.int64))]
    yield "softmax_128", model("Softmax", [2, 3, 128], {"axis": -1})
    yield "softmax_tail", model("Softmax", [3, 5, 100], {"axis": -1})
    yield "softmax_f64", model("Softmax", [4, 77], {"axis": 1}, dt=F64)
    yield "softmax_v11_2axes", model("Softmax", [2, 4, 64], {"axis": 1}, opset=11)
    yield "logsoftmax_tail", model("LogSoftmax", [3, 203], {"axis": -1})
    yield "hardmax_64", model("Hardmax", [5, 64], {"axis": -1})
    yield "layernorm_768", model("LayerNormalization", [1, 8, 768], {"axis": -1}, n_out=3,
                                 inits=[("w", w(768)), ("b", w(768))])
    yield "layernorm_2axes_tail", model("LayerNormalization", [2, 3, 7, 50], {"axis": -2},
                                        inits=[("w", w(350).reshape(7, 50))])
    yield "rmsnorm_96", model("RMSNormalization", [4, 96], {"axis": -1}, opset=23,
                              inits=[("w", w(96))])
    yield "groupnorm_tail", model("GroupNormalization", [2, 4, 6, 37], {"num_groups": 2},
                                  inits=[("s", w(2)), ("b", w(2))])
    yield "groupnorm_64", model("GroupNormalization", [2, 4, 2, 64], {"num_groups": 2},
                                inits=[("s", w(2)), ("b", w(2))])
    yield "lpnorm_l2", model("LpNormalization", [6, 80], {"axis": -1, "p": 2})
    yield "mvn_last", model("MeanVarianceNormalization", [3, 4, 64], {"axes": [2]})
    for op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2",
               "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd"):
        yield f"{op}_tail", model(op, [4, 9, 77], {"keepdims": 1}, inits=ax(-1))
        yield f"{op}_2axes", model(op, [3, 5, 64], {"keepdims": 0}, inits=ax(1, 2))
    yield "ReduceSum_big", model("ReduceSum", [64, 1024], {"keepdims": 1}, inits=ax(-1))
    yield "ReduceSum_1d_scalar", model("ReduceSum", [250], {"keepdims": 0}, inits=ax(0))
    yield "ReduceMax_all_scalar", model("ReduceMax", [4, 64], {"keepdims": 0}, inits=ax(0, 1))
    yield "ReduceSum_all_tail", model("ReduceSum", [5, 7, 33], {"keepdims": 0}, inits=ax(0, 1, 2))
    yield "ReduceSum_i32", model("ReduceSum", [6, 100], {"keepdims": 0}, dt=I32, inits=ax(1))
    yield "ReduceMax_i64", model("ReduceMax", [6, 40], {"keepdims": 1}, dt=I64, inits=ax(1))
    yield "ReduceMean_f64", model("ReduceMean", [6, 50], {"keepdims": 1}, dt=F64, inits=ax(1))
    yield "ArgMax_last", model("ArgMax", [7, 90], {"axis": 1, "select_last_index": 1}, opset=13,
                                out_dt=I64)


def data(m, name, rng):
    t = m.graph.input[0].type.tensor_type
    shape = [d.dim_value for d in t.shape.dim]
    dt = NP[t.elem_type]
    if np.issubdtype(dt, np.integer):
        x = rng.integers(-50, 50, shape).astype(dt)
    elif name.startswith("ReduceProd"):
        x = rng.uniform(0.97, 1.03, shape).astype(dt)
    else:
        x = (rng.standard_normal(shape) * 2).astype(dt)
        if name.startswith("hardmax"):
            x = np.round(x)  # ties: the first largest wins
        if name == "softmax_128":
            x[1, 2, :] = -np.inf  # a row of -inf gives NaN, as the reference
    return x


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    lower_check, aicc, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(11)
    dirs, failed = [], []
    for name, m in cases():
        d = os.path.join(work, name)
        os.makedirs(os.path.join(d, "test_data_set_0"))
        onnx.save(m, os.path.join(d, "model.onnx"))
        x = numpy_helper.from_array(data(m, name, rng), "x")
        with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
            f.write(x.SerializeToString())
        dirs.append(d)

    for mode in ("none", "default"):
        r = run([lower_check, "--schedule", mode] + dirs)
        ok = {line.split(" ")[1] for line in r.stdout.splitlines() if line.startswith("ok ")}
        for line in r.stdout.splitlines():
            if line.startswith(("FAIL", "unsupported")):
                failed.append(f"lower_check {mode}: {line}")
        for d in dirs:
            if d not in ok and os.path.basename(d) not in ok:
                failed.append(f"lower_check {mode}: {os.path.basename(d)} not lowered")

    for d in dirs:
        outs = {}
        for engine in ("interp", "compiled"):
            od = os.path.join(d, "out_" + engine)
            strict = ["--strict"] if engine == "compiled" else []  # no node left to the reference
            r = run([aicc, "run", os.path.join(d, "model.onnx"), "--engine", engine] + strict +
                    ["--inputs", os.path.join(d, "test_data_set_0"), "--outputs", od])
            if r.returncode:
                failed.append(f"{os.path.basename(d)}: aicc run --engine {engine}: "
                              f"{r.stderr.strip()}")
                break
            outs[engine] = [numpy_helper.to_array(onnx.load_tensor(os.path.join(od, f)))
                            for f in sorted(os.listdir(od))]
        if len(outs) < 2:
            continue
        for i, (a, b) in enumerate(zip(outs["interp"], outs["compiled"])):
            if a.shape != b.shape or not np.allclose(b, a, rtol=1e-4, atol=1e-5, equal_nan=True):
                err = np.nanmax(np.abs(b.astype(np.float64) - a)) if a.shape == b.shape else "shape"
                failed.append(f"{os.path.basename(d)}: output {i} compiled != interp "
                              f"(max err {err})")

    # The split happened: a partial stage over lanes, vectorized, in one kernel.
    d = os.path.join(work, "softmax_128")
    r = run([aicc, "compile", os.path.join(d, "model.onnx"), "-o", os.path.join(work, "sm_c")])
    loops = open(os.path.join(work, "sm_c", "loops.txt")).read() if r.returncode == 0 else ""
    lines = loops.splitlines()
    kernels = [ln for ln in lines if ln.startswith("kernel ") and ": nodes" in ln]
    if len(kernels) != 1:
        failed.append(f"softmax_128: {len(kernels)} kernels, expected 1 (fused epilogue)")
    partial = [ln for ln in lines if "= max(r0: 8) v_x[" in ln and "r0*16 + i3]" in ln]
    if not partial or "vectorize(Softmax_t1, i3i)" not in loops:
        failed.append("softmax_128: no vectorized partial max over 16 lanes in the loop dump")

    # Its root is one fold per row, yet the kernel is big enough for threads.
    d = os.path.join(work, "ReduceSum_big")
    r = run([aicc, "compile", os.path.join(d, "model.onnx"), "-o", os.path.join(work, "rs_c"),
             "--threads", "2"])
    loops = open(os.path.join(work, "rs_c", "loops.txt")).read() if r.returncode == 0 else ""
    if "parallel(v_y0, " not in loops:
        failed.append("ReduceSum_big: no parallel loop at 2 threads")

    for f in failed:
        print("FAIL " + f)
    print(f"row_reductions: {len(dirs)} cases, " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
