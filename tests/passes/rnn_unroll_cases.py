#!/usr/bin/env python3
"""The compiled engine's unrolling of LSTM/GRU/RNN (src/passes/rnn_unroll.c).

Builds small recurrent models (onnx.helper, seeded numpy inputs) that cover
the attributes the rewrite handles: every direction, layout 0/1, initial
states, peepholes, clip, input_forget, linear_before_reset, activation lists
with alpha/beta, a constant full sequence_lens, weights as inputs or as
initializers, and a sequence long enough for two-level Split/Concat. The
reference interpreter writes the expected outputs; the compiled engine must
match them with --strict (an extern step is an error, so a node the rewrite
declined fails the case). Declined nodes (sequence_lens given at run time,
a sequence past the unroll limit) must still match, as extern steps. The
zoo lstm must compile with no extern step and match both onnxruntime (its
stored outputs) and the interpreter, on 1 and 2 threads.

usage: rnn_unroll_cases.py --aicc BIN --work DIR [--zoo DIR] [--cache-dir DIR] [CASE...]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RTOL, ATOL = "1e-3", "1e-5"


def lstm_like(op, T, B, I, H, D=1, layout=0, attrs=None, has_b=True, h0=False, c0=False,
              p=False, seq="", weights_const=False, outs=("Y", "Y_h", "Y_c"), seed=0):
    """A one-node model of op and its inputs: (model, {name: array})."""
    rng = np.random.default_rng(seed)
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    x_shape = [B, T, I] if layout else [T, B, I]
    s_shape = [B, D, H] if layout else [D, B, H]
    arrays = {"X": rng.uniform(-1, 1, x_shape).astype(np.float32),
              "W": rng.uniform(-0.6, 0.6, [D, G * H, I]).astype(np.float32),
              "R": rng.uniform(-0.6, 0.6, [D, G * H, H]).astype(np.float32)}
    names = ["X", "W", "R"]
    if has_b or seq or h0 or c0 or p:
        names.append("B" if has_b else "")
        if has_b:
            arrays["B"] = rng.uniform(-0.5, 0.5, [D, 2 * G * H]).astype(np.float32)
    if seq or h0 or c0 or p:
        names.append("sequence_lens" if seq else "")
        if seq:
            arrays["sequence_lens"] = np.full([B], T, np.int32)
            if seq == "short":
                arrays["sequence_lens"][0] = max(T - 1, 1)
    if h0 or c0 or p:
        names.append("initial_h" if h0 else "")
        if h0:
            arrays["initial_h"] = rng.uniform(-1, 1, s_shape).astype(np.float32)
    if op == "LSTM" and (c0 or p):
        names.append("initial_c" if c0 else "")
        if c0:
            arrays["initial_c"] = rng.uniform(-1, 1, s_shape).astype(np.float32)
    if op == "LSTM" and p:
        names.append("P")
        arrays["P"] = rng.uniform(-0.5, 0.5, [D, 3 * H]).astype(np.float32)
    const = {"W", "R", "B", "P"} if weights_const else set()
    if seq == "const":
        const.add("sequence_lens")
    inits = [numpy_helper.from_array(arrays[n], n) for n in names if n in const]
    inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(arrays[n].dtype),
                                            list(arrays[n].shape))
              for n in names if n and n not in const]
    y_shape = [B, T, D, H] if layout else [T, D, B, H]
    n_out = 3 if op == "LSTM" else 2
    out_names = [o if o in outs else "" for o in ("Y", "Y_h", "Y_c")[:n_out]]
    while out_names and not out_names[-1]:
        out_names.pop()
    outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, y_shape if o == "Y" else s_shape)
               for o in out_names if o]
    a = {"hidden_size": H, "direction": ["forward", "reverse", "bidirectional"][0 if D == 1 else 2]}
    if layout:
        a["layout"] = 1
    a.update(attrs or {})
    node = helper.make_node(op, names, out_names, **a)
    g = helper.make_graph([node], op.lower(), inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    feeds = {n: arrays[n] for n in names if n and n not in const}
    return m, feeds


# name -> (builder kwargs, expected: "compiled" (no extern step) or the extern op)
CASES = {
    "lstm_bidir_peephole_clip": (dict(op="LSTM", T=5, B=3, I=4, H=6, D=2, h0=True, c0=True, p=True,
                                      attrs={"clip": 0.7}), "compiled"),
    "lstm_input_forget_acts": (dict(op="LSTM", T=4, B=2, I=3, H=5, c0=True, p=True, attrs={
        "input_forget": 1, "activations": ["HardSigmoid", "ScaledTanh", "Affine"],
        "activation_alpha": [0.3, 0.8, 0.5], "activation_beta": [0.4, 1.2, 0.1]}), "compiled"),
    "lstm_reverse_layout1_long": (dict(op="LSTM", T=70, B=2, I=3, H=4, layout=1, seq="const",
                                       weights_const=True, attrs={"direction": "reverse"}),
                                  "compiled"),
    "lstm_layout1_bidir_h0": (dict(op="LSTM", T=3, B=2, I=3, H=4, D=2, layout=1, h0=True,
                                   weights_const=True), "compiled"),
    "lstm_only_yh": (dict(op="LSTM", T=4, B=1, I=2, H=3, outs=("Y_h",)), "compiled"),
    "gru_lbr_bidir_clip": (dict(op="GRU", T=6, B=2, I=3, H=5, D=2, h0=True, attrs={
        "linear_before_reset": 1, "clip": 1.5}), "compiled"),
    "gru_lbr_no_bias": (dict(op="GRU", T=3, B=2, I=3, H=4, has_b=False, attrs={
        "linear_before_reset": 1}), "compiled"),
    "gru_acts_layout1": (dict(op="GRU", T=4, B=3, I=2, H=3, layout=1, h0=True, weights_const=True,
                              attrs={"activations": ["LeakyRelu", "Softsign"],
                                     "activation_alpha": [0.2]}), "compiled"),
    "rnn_bidir_acts": (dict(op="RNN", T=5, B=2, I=3, H=4, D=2, h0=True, attrs={
        "activations": ["Relu", "Elu"], "activation_alpha": [0.7]}), "compiled"),
    "rnn_acts2": (dict(op="RNN", T=3, B=2, I=3, H=4, D=2, attrs={
        "activations": ["ThresholdedRelu", "Softplus"], "activation_alpha": [0.1]}), "compiled"),
    # Declined: left as extern steps, results unchanged.
    "lstm_seq_lens_input": (dict(op="LSTM", T=4, B=2, I=3, H=3, seq="short"), "LSTM"),
    "rnn_past_unroll_limit": (dict(op="RNN", T=300, B=1, I=2, H=2, weights_const=True), "RNN"),
}


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def write_case(folder, model, feeds, aicc):
    """Model, inputs, and the interpreter's outputs as test_data_set_0."""
    shutil.rmtree(folder, ignore_errors=True)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data)
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for i, inp in enumerate(model.graph.input):
        t = numpy_helper.from_array(feeds[inp.name], inp.name)
        with open(os.path.join(data, f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    r = run([aicc, "run", os.path.join(folder, "model.onnx"), "--inputs", data,
             "--outputs", data, "--engine", "interp"])
    if r.returncode:
        raise RuntimeError(f"interpreter failed: {r.stderr.strip()}")


def compiled_line(out):
    m = re.search(r"compiled: (\d+) kernels, (\d+) extern steps(.*)", out)
    return (int(m.group(1)), int(m.group(2)), m.group(3)) if m else None


def check_case(name, args):
    kwargs, expect = CASES[name]
    folder = os.path.join(args.work, name)
    write_case(folder, *lstm_like(**kwargs, seed=len(name)), args.aicc)
    cmd = [args.aicc, "test", folder, "--engine", "compiled", "--rtol", RTOL, "--atol", ATOL]
    if args.cache_dir:
        cmd += ["--cache-dir", args.cache_dir]
    if expect == "compiled":
        cmd.append("--strict")
    r = run(cmd)
    line = compiled_line(r.stdout + r.stderr)
    if r.returncode or not line:
        return f"{name}: aicc test failed:\n{r.stdout}{r.stderr}"
    if expect == "compiled" and line[1]:
        return f"{name}: expected no extern step, got {line}"
    if expect != "compiled" and expect not in line[2]:
        return f"{name}: expected {expect} to stay an extern step, got {line}"
    return None


def check_zoo(args):
    """Zoo lstm: --strict compile, outputs vs onnxruntime and vs interp."""
    errs = []
    interp = os.path.join(args.work, "zoo_lstm_interp")
    shutil.rmtree(interp, ignore_errors=True)
    shutil.copytree(args.zoo, interp)
    data = os.path.join(interp, "test_data_set_0")
    for f in os.listdir(data):
        if f.startswith("output_"):
            os.remove(os.path.join(data, f))
    r = run([args.aicc, "run", os.path.join(interp, "model.onnx"), "--inputs", data,
             "--outputs", data, "--engine", "interp"])
    if r.returncode:
        return [f"zoo lstm: interpreter failed: {r.stderr}"]
    for case, tol in ((args.zoo, ["--rtol", "1e-3", "--atol", "1e-4"]),
                      (interp, ["--rtol", RTOL, "--atol", ATOL])):
        for t in ("1", "2"):
            cmd = [args.aicc, "test", case, "--engine", "compiled", "--strict", "--threads", t] + tol
            if args.cache_dir:
                cmd += ["--cache-dir", args.cache_dir]
            r = run(cmd)
            line = compiled_line(r.stdout + r.stderr)
            if r.returncode or not line or line[1]:
                errs.append(f"zoo lstm ({case}, {t} threads): {line}\n{r.stdout}{r.stderr}")
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--aicc", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--zoo", help="the zoo's lstm case folder")
    ap.add_argument("--cache-dir")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    os.makedirs(args.work, exist_ok=True)
    errs = []
    for name in args.cases or list(CASES):
        if name not in CASES:
            errs.append(f"unknown case {name}")
            continue
        e = check_case(name, args)
        print(f"{'FAIL' if e else 'ok  '} {name}")
        if e:
            errs.append(e)
    if args.zoo and not args.cases:
        z = check_zoo(args)
        print(f"{'FAIL' if z else 'ok  '} zoo lstm (strict, 1 and 2 threads, vs onnxruntime and interp)")
        errs += z
    for e in errs:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
