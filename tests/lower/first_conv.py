#!/usr/bin/env python3
"""First convolutions (a plain NCHW input of 1 to 3 channels, read by
ConvBlocked without a LayoutTransform: ops/lower/conv.c): one-node Conv
models with symmetric, asymmetric and no pads, strides 1 and 2, kernels 3 to
7, a dilation, widths with and without a tail, batches 1 and 2.

  first_conv.py AICC WORK_DIR

For every case `aicc run` compares the compiled engine with the interpreter
(the reference kernel). Then the padded case's loop dump must show the conv
reading its padded copy at an affine column (no select: the pads are real
zeros in the copy) and, on a host with AVX-512, the copy's read of the image
must be a masked vector load (codegen/simd.c's clamped load), not a scalar
loop. Exit status 1 on any failure."""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv_model(n, c, h, w, m, k, stride=1, pads=(0, 0, 0, 0), dil=1, rng=None):
    wt = (rng.standard_normal([m, c, k, k]) * 0.3).astype(np.float32)
    b = (rng.standard_normal([m]) * 0.1).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[k, k],
                            strides=[stride, stride], pads=list(pads), dilations=[dil, dil])
    g = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                         [n, c, h, w])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(wt, "w"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def cases(rng):
    # name: (n, c, h, w, m, k, stride, pads [t, l, b, r], dilation)
    yield "stem_s2_p1", (1, 3, 64, 64, 32, 3, 2, (1, 1, 1, 1), 1)
    yield "stem_s2_p1_odd", (2, 3, 45, 53, 16, 3, 2, (1, 1, 1, 1), 1)
    yield "stem_s2_p0", (1, 3, 48, 48, 64, 3, 2, (0, 0, 0, 0), 1)
    yield "asym_5x5", (1, 3, 37, 37, 24, 5, 1, (2, 1, 0, 2), 1)
    yield "stem_7x7_s2_p3", (1, 3, 40, 40, 64, 7, 2, (3, 3, 3, 3), 1)
    yield "gray_3x3_p1", (2, 1, 29, 29, 8, 3, 1, (1, 1, 1, 1), 1)
    yield "two_ch_dil2", (1, 2, 30, 34, 16, 3, 1, (2, 2, 2, 2), 2)
    yield "wide_pad", (1, 3, 12, 20, 16, 3, 1, (4, 5, 4, 6), 1)
    # a copy row's first vector clamped at both ends (columns -1 and 10..14)
    yield "right_pad", (1, 3, 12, 10, 16, 3, 1, (1, 1, 1, 9), 1)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def main():
    aicc, work = sys.argv[1:3]
    shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(5)
    failed = []
    for name, (n, c, h, w, m, k, s, pads, dil) in cases(rng):
        d = os.path.join(work, name)
        os.makedirs(os.path.join(d, "in"))
        onnx.save(conv_model(n, c, h, w, m, k, s, pads, dil, rng), os.path.join(d, "model.onnx"))
        x = rng.standard_normal([n, c, h, w]).astype(np.float32)
        with open(os.path.join(d, "in", "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, "x").SerializeToString())
        outs = {}
        for engine in ("interp", "compiled"):
            od = os.path.join(d, "out_" + engine)
            opts = ["--strict", "--cache-dir", os.path.join(work, "cache")] \
                if engine == "compiled" else []  # no node left to the reference
            r = run([aicc, "run", os.path.join(d, "model.onnx"), "--engine", engine] + opts +
                    ["--inputs", os.path.join(d, "in"), "--outputs", od])
            if r.returncode:
                failed.append(f"{name}: aicc run --engine {engine}: {r.stderr.strip()}")
                break
            outs[engine] = numpy_helper.to_array(onnx.load_tensor(os.path.join(od, "output_0.pb")))
        if len(outs) == 2:
            a, b = outs["interp"], outs["compiled"]
            if a.shape != b.shape or not np.allclose(b, a, rtol=1e-4, atol=1e-4):
                err = np.abs(b - a).max() if a.shape == b.shape else "shape"
                failed.append(f"{name}: compiled != interp (max err {err})")

    # The padded first conv: plain input, affine reads of real zero pads.
    d = os.path.join(work, "stem_s2_p1")
    out = os.path.join(work, "stem_c")
    r = run([aicc, "compile", os.path.join(d, "model.onnx"), "-o", out,
             "--cache-dir", os.path.join(work, "cache")])
    loops = open(os.path.join(out, "loops.txt")).read() if r.returncode == 0 else ""
    src = open(os.path.join(out, "kernels.c")).read() if r.returncode == 0 else ""
    if not re.search(r"kernel k0\(v_x: f32\[1, 3, 64, 64\].*\n.*temp ConvBlocked_t0: f32\[1, 3, 65, 65\]",
                     loops):
        failed.append("stem_s2_p1: no ConvBlocked reading the plain image through a padded copy")
    conv = [ln for ln in loops.splitlines() if "sum(" in ln and "ConvBlocked_t0[" in ln]
    if not conv or "select(" in conv[0].split("sum(")[1].split(" then ")[0]:
        failed.append("stem_s2_p1: the conv reads its padded copy through a select")
    if has_avx512() and "aicc_clamp_load_512f(&v_x[" not in src:
        failed.append("stem_s2_p1: the padded copy's read of the image is not a masked load")

    for f in failed:
        print("FAIL " + f)
    print("first_conv: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
