#!/usr/bin/env python3
"""torch peers for bench/run.py's `torch` part: one zoo CNN on torch eager and
on torch.compile (inductor), in a process of its own (the parent caps its
time and kills it, compile workers included, past the cap).

The zoo is written with onnx.helper, not from torch modules, so the model is
the zoo's ONNX file translated op by op into torch calls (OnnxModule below),
with the zoo's own weights. Only the ops of the zoo's CNNs are translated; a
model with any other op is refused (exit 3), and the parent says so. No new
dependency: torch is used only where it is already installed.

  torch_peer.py MODEL.onnx THREADS RUNS REF.npy INPUT.npy...

Prints one JSON line after the eager runs and one after the compiled runs
(times in ms, compile = the first compiled call, in s), so that a run cut off
in the compile still reports eager.
"""
import json
import statistics
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper


class Unsupported(Exception):
    pass


def _pair(pads):
    """ONNX pads [top, left, bottom, right] as torch's symmetric padding, or
    None when they are not symmetric."""
    t, l, b, r = pads
    return (t, l) if (t, l) == (b, r) else None


def _conv(x, w, b, a):
    pads = a.get("pads", [0, 0, 0, 0])
    p = _pair(pads)
    if p is None:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        p = (0, 0)
    return F.conv2d(x, w, b, stride=tuple(a.get("strides", [1, 1])), padding=p,
                    dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))


def _maxpool(x, a):
    pads = a.get("pads", [0, 0, 0, 0])
    p = _pair(pads)
    if p is None:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=float("-inf"))
        p = (0, 0)
    return F.max_pool2d(x, tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1])), p,
                        ceil_mode=bool(a.get("ceil_mode", 0)))


def _gemm(x, w, c, a):
    if a.get("transA", 0):
        x = x.t()
    if a.get("transB", 0):
        w = w.t()
    y = a.get("alpha", 1.0) * (x @ w)
    return y if c is None else y + a.get("beta", 1.0) * c


def _flatten(x, a):
    axis = a.get("axis", 1)
    lead = 1
    for d in x.shape[:axis]:
        lead *= d
    return x.reshape(lead, -1)


# op -> f(inputs, attrs); inputs are tensors, or None for an empty name
OPS = {
    "Conv": lambda i, a: _conv(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "BatchNormalization": lambda i, a: F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0,
                                                    a.get("epsilon", 1e-5)),
    "Relu": lambda i, a: F.relu(i[0]),
    "Clip": lambda i, a: torch.clamp(i[0], a["min"], a["max"]),
    "Add": lambda i, a: i[0] + i[1],
    "MaxPool": lambda i, a: _maxpool(i[0], a),
    "GlobalAveragePool": lambda i, a: i[0].mean((2, 3), keepdim=True),
    "Flatten": lambda i, a: _flatten(i[0], a),
    "Gemm": lambda i, a: _gemm(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "Concat": lambda i, a: torch.cat(i, a["axis"]),
    "Dropout": lambda i, a: i[0],
    "Identity": lambda i, a: i[0],
}


class OnnxModule(torch.nn.Module):
    """The graph of an ONNX model run node by node on torch ops; initializers
    become buffers. Under torch.compile, dynamo unrolls the node loop into
    one static graph."""

    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        g = m.graph
        self.buf = {}
        arrays = {}
        for k, init in enumerate(g.initializer):
            arr = numpy_helper.to_array(init)
            arrays[init.name] = arr
            self.register_buffer(f"c{k}", torch.from_numpy(arr.copy()))
            self.buf[init.name] = f"c{k}"
        self.nodes = []
        for n in g.node:
            if n.op_type not in OPS:
                raise Unsupported(n.op_type)
            a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            ins = list(n.input)
            if n.op_type == "Clip":  # bounds as numbers: no tensor lookups in the trace
                lo = arrays[ins[1]] if len(ins) > 1 and ins[1] else np.float32(-np.inf)
                hi = arrays[ins[2]] if len(ins) > 2 and ins[2] else np.float32(np.inf)
                a["min"], a["max"] = float(lo), float(hi)
                ins = ins[:1]
            self.nodes.append((n.op_type, ins, n.output[0], a))
        self.inputs = [vi.name for vi in g.input if vi.name not in self.buf]
        self.outputs = [vi.name for vi in g.output]

    def forward(self, *xs):
        env = dict(zip(self.inputs, xs))
        for op, ins, out, a in self.nodes:
            args = [None if not nm else env[nm] if nm in env else getattr(self, self.buf[nm])
                    for nm in ins]
            env[out] = OPS[op](args, a)
        return tuple(env[o] for o in self.outputs)


def check(got, ref):
    diff = np.abs(got.astype(np.float64) - ref)
    ok = bool(np.all(diff <= 1e-4 + 1e-3 * np.abs(ref)))
    worst = float(np.max(diff, initial=0))
    return f"ok (max abs diff {worst:.1g})" if ok else f"MISMATCH (max abs diff {worst:.2g})"


def timed(fn, xs, runs):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(*xs)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def main(argv):
    model, threads, runs, ref = argv[1], int(argv[2]), int(argv[3]), np.load(argv[4])
    xs = [torch.from_numpy(np.load(f)) for f in argv[5:]]
    torch.set_num_threads(threads)
    try:
        mod = OnnxModule(model).eval()
    except Unsupported as e:
        print(json.dumps({"unsupported": str(e)}), flush=True)
        return 3
    res = {"torch_version": torch.__version__}
    with torch.inference_mode():
        res["eager_check"] = check(mod(*xs)[0].numpy(), ref)
        for _ in range(3):
            mod(*xs)
        res["eager_ms"] = timed(mod, xs, runs)
        print(json.dumps(res), flush=True)
        comp = torch.compile(mod)
        t0 = time.perf_counter()
        out = comp(*xs)[0].numpy()
        res["compile_s"] = time.perf_counter() - t0
        res["compiled_check"] = check(out, ref)
        for _ in range(3):
            comp(*xs)
        res["compiled_ms"] = timed(comp, xs, runs)
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
