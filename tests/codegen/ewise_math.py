#!/usr/bin/env python3
"""Elementwise math of the compiled engine against numpy, special values
included: Pow by a constant exponent (strength-reduced by the Pow lowering:
products, 1/x, sqrt), and the functions with vector forms in the generated
code (Exp, Tanh, Sigmoid, Erf, Log). One model, run by `aicc run --engine
compiled`; its loop IR dump must show no pow call for the reduced exponents
and keep one for 2.5.

usage: ewise_math.py --aicc PATH
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (exponent, its dtype): the int64 one computes through the mixed-dtype path.
POWERS = [(0.0, np.float32), (1.0, np.float32), (2.0, np.float32), (3.0, np.float32),
          (4.0, np.float32), (-1.0, np.float32), (-2.0, np.float32), (0.5, np.float32),
          (-0.5, np.float32), (2.5, np.float32), (3, np.int64)]
UNARY = ["Exp", "Tanh", "Sigmoid", "Erf", "Log"]
N = 4096
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-20, -1e-20, 1e-40, 3.9,
           -5.0, 88.0, -100.0, 1e12, -1e12, 0.875, -0.875, 0.625]


def inputs():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(-10, 10, N // 4), rng.uniform(-1, 1, N // 4),
                        np.exp(rng.uniform(-80, 80, N // 4)) * rng.choice([-1, 1], N // 4),
                        rng.uniform(-1e-3, 1e-3, N // 4)]).astype(np.float32)
    x[:len(SPECIAL)] = np.array(SPECIAL, dtype=np.float32)
    return x


def model(path):
    nodes, inits, outs = [], [], []
    for i, (k, dt) in enumerate(POWERS):
        inits.append(numpy_helper.from_array(np.array(k, dtype=dt), f"k{i}"))
        nodes.append(helper.make_node("Pow", ["x", f"k{i}"], [f"p{i}"]))
        outs.append(f"p{i}")
    for op in UNARY:
        nodes.append(helper.make_node(op, ["x"], [op.lower()]))
        outs.append(op.lower())
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, [N]) for o in outs],
                          inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return outs


def c_pow(xd, k):
    """C's pow (the reference kernel's), which numpy's power leaves for -0
    and -inf to a non-integer power: +0 and +inf (k > 0), +inf and +0 (k < 0)."""
    r = np.power(xd, k)
    if k != int(k):
        r[(xd == 0) & np.signbit(xd)] = 0.0 if k > 0 else np.inf
        r[xd == -np.inf] = np.inf if k > 0 else 0.0
    return r


def expected(x):
    with np.errstate(all="ignore"):
        xd = x.astype(np.float64)
        res = [c_pow(xd, float(k)) for k, _ in POWERS]
        res += [np.exp(xd), np.tanh(xd), 1 / (1 + np.exp(-xd)),
                np.array([math.erf(v) for v in xd]), np.log(xd)]
        return [r.astype(np.float32) for r in res]


def compare(name, x, got, want, rtol):
    bad = []
    for i in range(N):
        g, w = float(got[i]), float(want[i])
        if math.isnan(w) or math.isnan(g):
            ok = math.isnan(w) and math.isnan(g)
        elif math.isinf(w) or math.isinf(g) or w == 0:
            ok = g == w and math.copysign(1, g) == math.copysign(1, w)
        elif abs(w) < 1.2e-38:
            ok = abs(g - w) <= 3e-45
        else:
            ok = abs(g - w) <= rtol * abs(w)
        if not ok:
            bad.append(f"{name}({x[i]!r}) = {g!r}, numpy {w!r}")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--aicc", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outs = model(os.path.join(tmp, "m.onnx"))
        x = inputs()
        os.mkdir(os.path.join(tmp, "in"))
        with open(os.path.join(tmp, "in", "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, "x").SerializeToString())
        dump = os.path.join(tmp, "loops.txt")
        bad = []
        # The interpreter (libm) too: it checks the expectations themselves.
        for engine, extra in (("interp", []), ("compiled", [
                "--strict", "--cache-dir", os.path.join(tmp, "cache"), f"--dump-loops={dump}"])):
            out = os.path.join(tmp, "out_" + engine)
            r = subprocess.run([args.aicc, "run", os.path.join(tmp, "m.onnx"), "--engine", engine,
                                "--inputs", os.path.join(tmp, "in"), "--outputs", out] + extra,
                               capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                print(r.stdout[-2000:], r.stderr[-2000:])
                return 1
            for i, (o, want) in enumerate(zip(outs, expected(x))):
                t = onnx.TensorProto()
                with open(os.path.join(out, f"output_{i}.pb"), "rb") as f:
                    t.ParseFromString(f.read())
                bad += compare(f"{engine} {o}", x, numpy_helper.to_array(t), want, 1e-6)
        # Only Pow by 2.5 keeps its call: the loop IR says pow(x, k) there.
        with open(dump) as f:
            pows = f.read().count("pow(")
        scheduled_pows = pows // 2  # each kernel's stages and its scheduled loops
        if scheduled_pows != 1:
            bad.append(f"loop IR has {pows} pow calls, expected one per listing (the 2.5 power)")
        for line in bad[:40]:
            print(line)
        print(f"ewise_math: {len(outs)} outputs x {N} values, {len(bad)} mismatches")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
