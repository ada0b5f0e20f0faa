#!/usr/bin/env python3
"""aicc benchmarks: the machine's ceilings, sgemm against OpenBLAS, whole
models against onnxruntime, all measured in one run.

  machine  peak FP32 FMA GFLOP/s (512-bit, many independent chains) and STREAM
           triad bandwidth, 1 thread and all threads (bench/peak.c, -O3
           -march=native)
  sgemm    square 128..2048 and the skinny shapes of BERT-base / GPT-2 small:
           OpenBLAS cblas_sgemm (Debian libopenblas, OPENBLAS_CORETYPE=SkylakeX:
           its strongest kernel on this CPU) against a one-node MatMul model
           run by `aicc bench --engine compiled --json`
  models   every model of the zoo (build/zoo): aicc compiled against
           onnxruntime (graph optimizations on, intra-op threads matched),
           after checking that the outputs agree
  convs    single Conv layers of the zoo's CNNs (mobilenetv2, resnet,
           squeezenet), one of each kind per model (stem, dense k x k s1/s2,
           depthwise 3x3 s1/s2, 1x1 expand/reduce/s2/head; the kind's
           heaviest), each a one-node Conv model at batch 1 with the layer's
           channels and spatial size: time ratio and GFLOP/s of both sides;
           plus the call floor (a one-node Relu of 8 floats)
  batch    the zoo's CNNs at batch 1 and 8 (a copy of the model with its batch
           dim fixed), random inputs with a fixed seed, outputs compared
  rss      peak RSS of each side in a fresh process (bench/rss.c launches it
           and reads wait4's ru_maxrss) running the model --runs times:
           `aicc bench` against bench/ort_child.py (python + onnxruntime),
           every zoo model and the CNNs at batch 8, with both baselines (a
           python that only imports onnxruntime, `aicc --version`)
  torch    where torch is installed: torch eager and torch.compile (inductor)
           on the zoo's CNNs, translated from their ONNX files op by op with
           the zoo's weights (bench/torch_peer.py, a capped child process per
           model and thread count); first-call compile time recorded

Every figure is a median of >= --runs runs (fewer only where one run takes
seconds; RESULTS.md says so), at 1 and 2 threads, aicc and its peer
interleaved in rounds so that noise on this shared machine hits both; each
side warms up again at the start of each round. `--only PART` (repeatable)
runs some parts; `--from-json` re-renders without measuring.
Writes bench/RESULTS.md, bench/results.png and BUILD/bench/results.json.
A benchmark, not a test: it never fails on a timing; it exits non-zero only
when it cannot run at all.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# OpenBLAS reads these when it is loaded: its AVX-512 kernel (it takes this CPU
# for a Haswell otherwise, half the speed); threads are set per call below.
os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

SQUARE = [128, 256, 512, 1024, 2048]
# (label, M, K, N): y[M,N] = x[M,K] @ w[K,N]
SKINNY = [
    ("BERT-base qkv/out proj, seq 128", 128, 768, 768),
    ("BERT-base FFN up, seq 128", 128, 768, 3072),
    ("BERT-base FFN down, seq 128", 128, 3072, 768),
    ("GPT-2 c_attn, prefill 64", 64, 768, 2304),
    ("GPT-2 c_attn, decode 1 token", 1, 768, 2304),
    ("GPT-2 FFN up, decode 1 token", 1, 768, 3072),
]


# the parts --only picks from; "machine" always runs
PARTS = ["sgemm", "models", "convs", "batch", "rss", "torch"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---- machine ---------------------------------------------------------------

def machine(work, threads):
    exe = os.path.join(work, "peak")
    subprocess.run(["cc", "-O3", "-march=native", "-pthread", "-o", exe,
                    os.path.join(HERE, "peak.c")], check=True)
    out = subprocess.run([exe, str(threads)], check=True, capture_output=True, text=True).stdout
    m = json.loads(out)
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    m["cpu"] = cpu
    m["nproc"] = os.cpu_count()
    return m


# ---- OpenBLAS ----------------------------------------------------------------

class OpenBLAS:
    ROW_MAJOR, NO_TRANS = 101, 111

    def __init__(self):
        names = ["libopenblas.so.0", "libopenblas.so",
                 "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"]
        last = None
        for n in names:
            try:
                self.lib = ctypes.CDLL(n)
                break
            except OSError as e:
                last = e
        else:
            raise RuntimeError(f"OpenBLAS not found ({last}); run bench/setup")
        self.lib.openblas_get_corename.restype = ctypes.c_char_p
        self.lib.openblas_get_config.restype = ctypes.c_char_p
        f = self.lib.cblas_sgemm
        f.restype = None
        P = ctypes.c_void_p
        f.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_float, P, ctypes.c_int, P, ctypes.c_int,
                      ctypes.c_float, P, ctypes.c_int]
        self.sgemm_fn = f

    def info(self):
        return {"core": self.lib.openblas_get_corename().decode(),
                "config": self.lib.openblas_get_config().decode()}

    def threads(self, n):
        self.lib.openblas_set_num_threads(int(n))

    def sgemm(self, a, b, c):
        m, k = a.shape
        n = b.shape[1]
        self.sgemm_fn(self.ROW_MAJOR, self.NO_TRANS, self.NO_TRANS, m, n, k, 1.0,
                      a.ctypes.data, k, b.ctypes.data, n, 0.0, c.ctypes.data, n)


# ---- aicc --------------------------------------------------------------------

def save_pb(path, arr, name):
    from onnx import numpy_helper
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())


def load_pb(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def matmul_model(path, m, k, n):
    """One MatMul node, both operands graph inputs (as cblas_sgemm gets them:
    nothing is known, or packed, ahead of the call)."""
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"], name="mm")], "sgemm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [m, k]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [k, n])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [m, n])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


class Aicc:
    def __init__(self, exe, cache):
        self.exe, self.cache = exe, cache

    def bench(self, model, threads, iters, warmup, inputs=None, cold=False):
        cmd = [self.exe, "bench", model, "--engine", "compiled", "--threads", str(threads),
               "--iters", str(iters), "--warmup", str(warmup), "--json"]
        if not cold:  # cold: bench times a compile from an empty cache of its own
            cmd += ["--cache-dir", self.cache]
        if inputs:
            cmd += ["--inputs", inputs]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(last_error(p.stderr))
        return json.loads(p.stdout)

    def run(self, model, inputs, outputs, threads):
        p = subprocess.run([self.exe, "run", model, "--inputs", inputs, "--outputs", outputs,
                            "--engine", "compiled", "--threads", str(threads),
                            "--cache-dir", self.cache], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(last_error(p.stderr))


def last_error(stderr):
    line = (stderr.strip().splitlines() or ["(no message)"])[-1]
    return line[6:][:300] if line.startswith("aicc: ") else line[:300]


def plan_runs(one_run_s, runs, budget_s):
    """Runs per side: `runs`, fewer (never under 3) when one run is so slow that
    `runs` of them would blow the budget."""
    if one_run_s * runs <= budget_s:
        return runs
    return max(3, int(budget_s / max(one_run_s, 1e-9)))


# Pause after each side's turn. A peer's worker threads keep spinning after
# its last call (OpenBLAS's for about 0.1 s, onnxruntime's intra-op pool
# too); without the pause the other side's second thread starts on a core
# that the spinner still holds, and 2-thread figures say nothing.
SETTLE_S = 0.3


WARM_S = 0.1  # seconds of untimed runs at the start of each side's turn


def warm_runs(one_run_s):
    """Untimed runs of each fresh `aicc bench` process before its timed ones:
    about 100 ms of runs, at least 3 and at most 50 (1 for runs over 0.5 s). A
    new process's first runs page-fault its buffers (outputs, kernel scratch)
    and start the pool's threads, and a core that slept through the pause
    between turns runs the first milliseconds slower: a 1024^3 sgemm's 4th
    run after start still took 15 ms against 13.5 from the 6th on.
    The peers warm up as long at the start of each of their turns (warm_up)."""
    if one_run_s > 0.5:
        return 1
    return max(3, min(50, int(WARM_S / max(one_run_s, 1e-6))))


def warm_up(call, least):
    """Untimed calls at the start of a peer's turn, as aicc's `--warmup`
    (warm_runs): about WARM_S of them, at least `least`, at most 50."""
    t0 = time.perf_counter()
    for i in range(50):
        call()
        if i + 1 >= least and time.perf_counter() - t0 >= WARM_S:
            break


def interleaved(side_a, side_b, total, rounds):
    """Calls side_a(k) and side_b(k) alternately, k runs per call, until each
    has `total` samples, pausing SETTLE_S after each turn. Each returns a
    list of seconds."""
    a, b = [], []
    per = max(1, -(-total // rounds))
    while len(a) < total or len(b) < total:
        if len(a) < total:
            a += side_a(min(per, total - len(a)))
            time.sleep(SETTLE_S)
        if len(b) < total:
            b += side_b(min(per, total - len(b)))
            time.sleep(SETTLE_S)
    return a, b


# ---- sgemm -------------------------------------------------------------------

def sgemm_cases(args, blas, aicc, work, threads_list, peak):
    rows = []
    rng = np.random.default_rng(0)
    shapes = [(f"square {s}", s, s, s) for s in SQUARE] + SKINNY
    if args.quick:
        shapes = [x for x in shapes if x[1] * x[2] * x[3] <= 512 ** 3]
    for label, m, k, n in shapes:
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        flop = 2.0 * m * k * n
        d = os.path.join(work, f"mm_{m}_{k}_{n}")
        os.makedirs(os.path.join(d, "in"), exist_ok=True)
        model = os.path.join(d, "model.onnx")
        matmul_model(model, m, k, n)
        save_pb(os.path.join(d, "in", "input_0.pb"), a, "a")
        save_pb(os.path.join(d, "in", "input_1.pb"), b, "b")
        ref = np.empty((m, n), np.float32)
        blas.threads(1)
        blas.sgemm(a, b, ref)
        check, err = "n/a", None
        try:
            aicc.run(model, os.path.join(d, "in"), os.path.join(d, "out"), 1)
            got = load_pb(os.path.join(d, "out", "output_0.pb"))
            rel = float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
            check = "ok" if rel < 1e-4 else f"MISMATCH (max rel err {rel:.2g})"
        except RuntimeError as e:
            err = str(e)
            check = "error"
        for t in threads_list:
            row = {"label": label, "m": m, "k": k, "n": n, "threads": t, "check": check}
            c = np.empty((m, n), np.float32)
            blas.threads(t)

            def blas_side(cnt):
                warm_up(lambda: blas.sgemm(a, b, c), 1)  # each round, as aicc_side does
                out = []
                for _ in range(cnt):
                    t0 = time.perf_counter()
                    blas.sgemm(a, b, c)
                    out.append(time.perf_counter() - t0)
                return out

            blas_side(3)  # warm up
            if err is None:
                try:
                    probe = aicc.bench(model, t, 1, 0, inputs=os.path.join(d, "in"))
                    one = probe["median_ms"] / 1e3
                    runs = plan_runs(one, args.runs, args.budget)
                    warm = warm_runs(one)

                    def aicc_side(cnt):
                        j = aicc.bench(model, t, cnt, warm, inputs=os.path.join(d, "in"))
                        row.setdefault("extern_steps", j.get("extern_steps"))
                        return [x / 1e3 for x in j["samples_ms"]]

                    ts_blas, ts_aicc = interleaved(blas_side, aicc_side, runs, args.rounds)
                    row["runs"] = runs
                    row["aicc_ms"] = statistics.median(ts_aicc) * 1e3
                    row["aicc_gflops"] = flop / statistics.median(ts_aicc) / 1e9
                except RuntimeError as e:
                    err = str(e)
            if err is not None:
                ts_blas = blas_side(args.runs)
                row["runs"] = args.runs
                row["aicc_error"] = err
            row["blas_ms"] = statistics.median(ts_blas) * 1e3
            row["blas_gflops"] = flop / statistics.median(ts_blas) / 1e9
            pk = peak.get(f"fma_gflops_{t}t") or peak["fma_gflops_1t"] * t
            row["peak_gflops"] = pk
            if "aicc_gflops" in row:
                row["ratio"] = row["aicc_gflops"] / row["blas_gflops"]
            rows.append(row)
            log(f"sgemm {label} ({m}x{k}x{n}) {t}t: OpenBLAS {row['blas_gflops']:.1f} GFLOP/s, "
                + (f"aicc {row['aicc_gflops']:.1f} GFLOP/s ({row['ratio']:.2f}x, n={row['runs']})"
                   if "aicc_gflops" in row else f"aicc: {row.get('aicc_error')}"))
    return rows


# ---- models ------------------------------------------------------------------

def ort_session(model, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def check_outputs(ort_out, out_dir):
    """aicc's outputs (OUT_DIR/output_<i>.pb) against onnxruntime's: the check
    column's text (rtol 1e-3, atol 1e-4 on floats, exact otherwise)."""
    worst = 0.0
    ok = True
    for i, ref in enumerate(ort_out):
        got = load_pb(os.path.join(out_dir, f"output_{i}.pb"))
        if got.shape != ref.shape:
            return f"MISMATCH (shape {list(got.shape)}, onnxruntime {list(ref.shape)})"
        if ref.dtype.kind == "f":
            diff = np.abs(got.astype(np.float64) - ref)
            worst = max(worst, float(np.max(diff, initial=0)))
            ok &= bool(np.all(diff <= 1e-4 + 1e-3 * np.abs(ref)))
        else:
            ok &= bool(np.array_equal(got, ref))
    return f"ok (max abs diff {worst:.1g})" if ok else f"MISMATCH (max abs diff {worst:.2g})"


def compare(args, aicc, model, ds, feeds_arr, t, out_dir, row, cold=False):
    """aicc compiled against onnxruntime on MODEL with the inputs DS (the same
    arrays as FEEDS_ARR), T threads: outputs checked first, then interleaved
    timing. Fills ROW (check, runs, ort_ms, aicc_ms, ratio, kernels, ...) and
    returns it; cold: also time a compile from an empty cache."""
    sess = ort_session(model, t)
    feeds = {i.name: a for i, a in zip(sess.get_inputs(), feeds_arr)}
    ort_out = sess.run(None, feeds)
    # outputs first: a ratio against wrong answers is no ratio
    shutil.rmtree(out_dir, ignore_errors=True)
    err = None
    try:
        aicc.run(model, ds, out_dir, t)
        row["check"] = check_outputs(ort_out, out_dir)
    except RuntimeError as e:
        err = str(e)
        row["check"] = "error"

    def ort_side(cnt):
        # warm again each round, as aicc_side's `--warmup`: the first call
        # after the aicc process ran finds cold caches (tens of µs on a layer)
        warm_up(lambda: sess.run(None, feeds), 2)
        out = []
        for _ in range(cnt):
            t0 = time.perf_counter()
            sess.run(None, feeds)
            out.append(time.perf_counter() - t0)
        return out

    ort_side(3)
    if err is None:
        try:
            if cold:
                j = aicc.bench(model, t, 1, 0, inputs=ds, cold=True)
                row["compile_cold_ms"] = j.get("compile_cold_ms")
                row["compile_cached_ms"] = j.get("compile_cached_ms")
            probe = aicc.bench(model, t, 1, 1, inputs=ds)
            row["kernels"] = probe.get("kernels")
            row["extern_steps"] = probe.get("extern_steps")
            row["extern_ops"] = probe.get("extern_ops")
            one = probe["median_ms"] / 1e3
            runs = plan_runs(one, args.runs, args.budget)

            warm = warm_runs(one)

            def aicc_side(cnt):
                j = aicc.bench(model, t, cnt, warm, inputs=ds)
                return [x / 1e3 for x in j["samples_ms"]]

            ts_ort, ts_aicc = interleaved(ort_side, aicc_side, runs, args.rounds)
            row["runs"] = runs
            row["aicc_ms"] = statistics.median(ts_aicc) * 1e3
        except RuntimeError as e:
            err = str(e)
    if err is not None:
        ts_ort = ort_side(args.runs)
        row["runs"] = args.runs
        row["aicc_error"] = err
    row["ort_ms"] = statistics.median(ts_ort) * 1e3
    if "aicc_ms" in row:
        row["ratio"] = row["aicc_ms"] / row["ort_ms"]
    return row


def row_log(what, row):
    log(f"{what} {row['threads']}t: onnxruntime {row['ort_ms']:.3f} ms, "
        + (f"aicc {row['aicc_ms']:.3f} ms ({row['ratio']:.2f}x the time), {row['check']}"
           if "aicc_ms" in row else f"aicc: {row.get('aicc_error')}"))


def zoo_names(args):
    zoo = os.path.join(args.build, "zoo")
    if not os.path.isdir(zoo):
        log(f"no zoo at {zoo} (build first)")
        return zoo, []
    names = sorted(d for d in os.listdir(zoo) if os.path.isfile(os.path.join(zoo, d, "model.onnx")))
    if args.models:
        names = [n for n in names if n in args.models.split(",")]
    return zoo, names


def stored_inputs(ds):
    n_in = len([f for f in os.listdir(ds) if f.startswith("input_")])
    return [load_pb(os.path.join(ds, f"input_{i}.pb")) for i in range(n_in)]


def zoo_cases(args, aicc, work, threads_list):
    zoo, names = zoo_names(args)
    rows = []
    for name in names:
        model = os.path.join(zoo, name, "model.onnx")
        ds = os.path.join(zoo, name, "test_data_set_0")
        feeds_arr = stored_inputs(ds)
        for t in threads_list:
            row = compare(args, aicc, model, ds, feeds_arr, t, os.path.join(work, f"zoo_{name}_{t}"),
                          {"model": name, "threads": t}, cold=t == threads_list[0])
            rows.append(row)
            row_log(f"model {name}", row)
    return rows


# ---- convolution layers --------------------------------------------------------

CNN_MODELS = ["mobilenetv2", "resnet", "squeezenet"]
# display order of the kinds conv_kind() names
CONV_KINDS = ["stem", "3x3 s1", "3x3 s2", "dw 3x3 s1", "dw 3x3 s2", "1x1 expand", "1x1 reduce",
              "1x1 s2", "1x1 head"]


def model_convs(path):
    """Every Conv node of a model with its geometry at batch 1 (onnx shape
    inference after fixing the batch dim), in graph order."""
    import onnx
    from onnx import helper, shape_inference
    m = onnx.load(path)
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    for vi in m.graph.input:
        if vi.name not in inits:
            d = vi.type.tensor_type.shape.dim[0]
            d.Clear()
            d.dim_value = 1
    m = shape_inference.infer_shapes(m)
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output)}
    graph_inputs = {vi.name for vi in m.graph.input}
    convs = []
    for n in m.graph.node:
        if n.op_type != "Conv":
            continue
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        x, w, y = shapes[n.input[0]], inits[n.input[1]], shapes[n.output[0]]
        c = {"node": n.name, "cin": x[1], "h": x[2], "w": x[3], "cout": w[0], "k": w[2],
             "stride": a.get("strides", [1, 1])[0], "pads": list(a.get("pads", [0, 0, 0, 0])),
             "group": a.get("group", 1), "ho": y[2], "wo": y[3],
             "stem": n.input[0] in graph_inputs}
        c["flop"] = 2.0 * c["cout"] * c["ho"] * c["wo"] * (c["cin"] // c["group"]) * c["k"] ** 2
        convs.append(c)
    if convs:
        convs[-1]["last"] = True
    return convs


def conv_kind(c):
    k, s = c["k"], c["stride"]
    if c["stem"]:
        return "stem"
    if c["group"] > 1 and c["group"] == c["cin"] == c["cout"]:
        return f"dw {k}x{k} s{s}"
    if k == 1 and c.get("last"):
        return "1x1 head"
    if k == 1 and s == 1:
        return "1x1 expand" if c["cout"] > c["cin"] else "1x1 reduce"
    return f"{k}x{k} s{s}"


def pick_convs(zoo, names):
    """One Conv per (model, kind): the kind's heaviest (first of equals)."""
    picked = []
    for name in names:
        best = {}
        for c in model_convs(os.path.join(zoo, name, "model.onnx")):
            kind = conv_kind(c)
            if kind not in best or c["flop"] > best[kind]["flop"]:
                best[kind] = c
        order = lambda kd: (CONV_KINDS.index(kd) if kd in CONV_KINDS else len(CONV_KINDS), kd)
        for kind in sorted(best, key=order):
            picked.append(dict(best[kind], model=name, kind=kind))
    return picked


def conv_model(path, c, rng):
    """One Conv node with the layer's geometry at batch 1: random weight and
    bias as initializers, the activation a graph input."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    fan_in = c["cin"] // c["group"] * c["k"] ** 2
    w = (rng.standard_normal([c["cout"], c["cin"] // c["group"], c["k"], c["k"]])
         * np.sqrt(2.0 / fan_in)).astype(np.float32)
    b = (rng.standard_normal([c["cout"]]) * 0.05).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv",
                            kernel_shape=[c["k"]] * 2, strides=[c["stride"]] * 2, pads=c["pads"],
                            group=c["group"], dilations=[1, 1])
    g = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c["cin"], c["h"], c["w"]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c["cout"], c["ho"], c["wo"]])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)


def conv_cases(args, aicc, work, threads_list):
    zoo, names = zoo_names(args)
    names = [n for n in names if n in CNN_MODELS]
    rows = []
    rng = np.random.default_rng(0)
    for c in pick_convs(zoo, names):
        d = os.path.join(work, f"conv_{c['model']}_{c['node']}")
        os.makedirs(os.path.join(d, "in"), exist_ok=True)
        model = os.path.join(d, "model.onnx")
        conv_model(model, c, rng)
        x = rng.standard_normal([1, c["cin"], c["h"], c["w"]]).astype(np.float32)
        save_pb(os.path.join(d, "in", "input_0.pb"), x, "x")
        for t in threads_list:
            row = {k: c[k] for k in ("model", "kind", "node", "cin", "cout", "h", "w", "k", "stride",
                                     "group", "ho", "wo", "flop")}
            row["threads"] = t
            compare(args, aicc, model, os.path.join(d, "in"), [x], t, os.path.join(d, f"out_{t}"), row)
            row["ort_gflops"] = c["flop"] / row["ort_ms"] / 1e6
            if "aicc_ms" in row:
                row["aicc_gflops"] = c["flop"] / row["aicc_ms"] / 1e6
            rows.append(row)
            row_log(f"conv {c['model']} {c['kind']} ({conv_geometry(row)})", row)
    return rows


def kind_text(kind):
    return re.sub(r"(\d)x(\d)", "\\1×\\2", kind)


def conv_geometry(r):
    g = f", g{r['group']}" if r["group"] > 1 else ""
    return (f"{r['cin']}→{r['cout']}, {r['k']}×{r['k']} s{r['stride']}{g}, "
            f"{r['h']}×{r['w']}→{r['ho']}×{r['wo']}")


def call_floor(args, aicc, work, t):
    """Both sides on a one-node Relu of 8 floats: the cost of a call itself."""
    import onnx
    from onnx import TensorProto, helper
    d = os.path.join(work, "floor")
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    model = os.path.join(d, "model.onnx")
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "floor",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, model)
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(1, 8)
    save_pb(os.path.join(d, "in", "input_0.pb"), x, "x")
    row = compare(args, aicc, model, os.path.join(d, "in"), [x], t, os.path.join(d, "out"),
                  {"threads": t})
    row_log("call floor (Relu, 8 floats)", row)
    return row


# ---- batch 8 -------------------------------------------------------------------

BATCH = 8
SHORT = {"mobilenetv2": "mnv2", "resnet": "resnet", "squeezenet": "sqznet"}  # plot labels


def batched_copy(args, work, name, batch):
    """The zoo model NAME with its batch dim fixed to BATCH (the input's and
    outputs' first dim; the zoo's CNNs have no other batch-dependent shape),
    saved in the work folder with random inputs (fixed seed). Returns
    (model path, inputs dir, input arrays)."""
    import onnx
    src = os.path.join(args.build, "zoo", name, "model.onnx")
    d = os.path.join(work, f"batch_{name}_b{batch}")
    os.makedirs(os.path.join(d, "in"), exist_ok=True)
    m = onnx.load(src)
    inits = {i.name for i in m.graph.initializer}
    ins = [vi for vi in m.graph.input if vi.name not in inits]
    for vi in ins + list(m.graph.output):
        dim = vi.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_value = batch
    model = os.path.join(d, "model.onnx")
    onnx.save(m, model)
    rng = np.random.default_rng(batch)
    arrs = []
    for i, vi in enumerate(ins):
        shape = [batch] + [x.dim_value for x in vi.type.tensor_type.shape.dim[1:]]
        a = rng.standard_normal(shape).astype(np.float32)
        save_pb(os.path.join(d, "in", f"input_{i}.pb"), a, vi.name)
        arrs.append(a)
    return model, os.path.join(d, "in"), arrs


def batch_cases(args, aicc, work, threads_list):
    _, names = zoo_names(args)
    rows = []
    for name in [n for n in names if n in CNN_MODELS]:
        for b in (1, BATCH):
            model, ds, arrs = batched_copy(args, work, name, b)
            for t in threads_list:
                row = compare(args, aicc, model, ds, arrs, t,
                              os.path.join(work, f"batch_{name}_b{b}", f"out_{t}"),
                              {"model": name, "batch": b, "threads": t})
                rows.append(row)
                row_log(f"model {name} batch {b}", row)
    return rows


# ---- peak RSS ------------------------------------------------------------------

def rss_launcher(work):
    """bench/rss.c built into the work folder: see there why the peak RSS is
    not read with wait4 from this (large) process."""
    exe = os.path.join(work, "rss")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "rss.c")], check=True)
    return exe


def child_peak(launcher, cmd):
    """Runs CMD in a fresh process through the launcher; returns (stdout, its
    peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r") as kib:
        p = subprocess.run([launcher, kib.name] + cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(last_error(p.stderr))
        return p.stdout, int(kib.read()) / 1024.0


def rss_cases(args, aicc, work, threads_list):
    """Peak RSS of aicc (`aicc bench`, program from the warm JIT cache) and of
    python + onnxruntime (bench/ort_child.py), each in its own process, running
    the same model --runs times: every zoo model on its stored inputs and the
    CNNs at batch 8."""
    zoo, names = zoo_names(args)
    child = [sys.executable, os.path.join(HERE, "ort_child.py")]
    launcher = rss_launcher(work)
    res = {"rows": []}
    try:
        res["ort_baseline_mib"] = child_peak(launcher, child + ["--baseline"])[1]
        res["aicc_baseline_mib"] = child_peak(launcher, [aicc.exe, "--version"])[1]
    except RuntimeError as e:
        log(f"rss baseline: {e}")
    log(f"rss baselines: python + numpy + onnxruntime imported {res.get('ort_baseline_mib', 0):.1f} "
        f"MiB, `aicc --version` {res.get('aicc_baseline_mib', 0):.1f} MiB")
    cases = []
    for name in names:
        ds = os.path.join(zoo, name, "test_data_set_0")
        cases.append((name, None, os.path.join(zoo, name, "model.onnx"), ds, stored_inputs(ds)))
    for name in [n for n in names if n in CNN_MODELS]:
        cases.append((name, BATCH) + batched_copy(args, work, name, BATCH))
    for name, batch, model, ds, arrs in cases:
        npys = []
        for i, a in enumerate(arrs):
            npys.append(os.path.join(work, f"rss_{name}_{batch}_{i}.npy"))
            np.save(npys[-1], a)
        for t in threads_list:
            row = {"model": name, "batch": batch or int(arrs[0].shape[0]), "threads": t,
                   "iters": args.runs, "stored_inputs": batch is None}
            try:
                aicc.bench(model, t, 1, 0, inputs=ds)  # fills the JIT cache: no compiler below
                cmd = [aicc.exe, "bench", model, "--engine", "compiled", "--threads", str(t),
                       "--iters", str(args.runs), "--warmup", "2", "--json",
                       "--cache-dir", aicc.cache, "--inputs", ds]
                out, row["aicc_mib"] = child_peak(launcher, cmd)
                row["aicc_ms"] = json.loads(out)["median_ms"]
            except RuntimeError as e:
                row["aicc_error"] = str(e)
            try:
                out, row["ort_mib"] = child_peak(launcher, child + [model, str(t), str(args.runs), "2"] + npys)
                row["ort_ms"] = json.loads(out)["median_ms"]
            except RuntimeError as e:
                row["ort_error"] = str(e)
            if "aicc_mib" in row and "ort_mib" in row:
                row["ratio"] = row["aicc_mib"] / row["ort_mib"]
            res["rows"].append(row)
            log(f"rss {name} batch {row['batch']} {t}t: aicc {fmt(row.get('aicc_mib'))} MiB, "
                f"onnxruntime {fmt(row.get('ort_mib'))} MiB"
                + (f" ({row['ratio']:.2f}x)" if "ratio" in row else
                   f" ({row.get('aicc_error') or row.get('ort_error')})"))
    return res


# ---- torch -------------------------------------------------------------------

def torch_cases(args, aicc, work, threads_list):
    """torch eager and torch.compile (inductor) against aicc on the zoo's CNNs
    (their stored inputs), each (model, threads) in a child of its own
    (bench/torch_peer.py) capped at --torch-cap seconds, the part at
    --torch-budget; aicc's runs are taken half before and half after the child.
    torch's outputs are checked against onnxruntime's."""
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return {"skipped": "torch is not installed"}
    zoo, names = zoo_names(args)
    res = {"rows": [], "cap_s": args.torch_cap, "budget_s": args.torch_budget}
    cache = os.path.join(work, "torch-inductor")
    shutil.rmtree(cache, ignore_errors=True)  # the first compile starts cold
    deadline = time.monotonic() + args.torch_budget
    for name in [n for n in names if n in CNN_MODELS]:
        model = os.path.join(zoo, name, "model.onnx")
        ds = os.path.join(zoo, name, "test_data_set_0")
        arrs = stored_inputs(ds)
        sess = ort_session(model, 1)
        ref = sess.run(None, {i.name: a for i, a in zip(sess.get_inputs(), arrs)})[0]
        npys = [os.path.join(work, f"torch_{name}_ref.npy")]
        np.save(npys[0], ref)
        for i, a in enumerate(arrs):
            npys.append(os.path.join(work, f"torch_{name}_{i}.npy"))
            np.save(npys[-1], a)
        for t in threads_list:
            row = {"model": name, "threads": t, "batch": int(arrs[0].shape[0]), "runs": args.runs}
            res["rows"].append(row)
            left = deadline - time.monotonic()
            if left < 30:
                row["error"] = f"not run: the part's budget ({args.torch_budget:.0f} s) is spent"
                log(f"torch {name} {t}t: {row['error']}")
                continue
            half = max(1, args.runs // 2)
            try:
                ts = aicc.bench(model, t, half, 2, inputs=ds)["samples_ms"]
            except RuntimeError as e:
                row["aicc_error"] = str(e)
                ts = []
            env = dict(os.environ, OMP_NUM_THREADS=str(t), TORCHINDUCTOR_CACHE_DIR=cache)
            cmd = [sys.executable, os.path.join(HERE, "torch_peer.py"), model, str(t),
                   str(args.runs)] + npys
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, start_new_session=True)
            try:
                out, err = p.communicate(timeout=min(args.torch_cap, left))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)  # the child and its compile workers
                out, err = p.communicate()
                row["error"] = f"torch.compile not done within {min(args.torch_cap, left):.0f} s"
            got = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
            if got:
                row.update(got[-1])
                res.setdefault("torch_version", got[-1].get("torch_version"))
            if "unsupported" in row:
                row["error"] = f"op {row['unsupported']} not translated to torch"
            elif p.returncode not in (0, None) and "error" not in row:
                row["error"] = last_error(err)
            if not row.get("aicc_error"):
                try:
                    ts += aicc.bench(model, t, args.runs - half, 2, inputs=ds)["samples_ms"]
                    row["aicc_ms"] = statistics.median(ts)
                except RuntimeError as e:
                    row["aicc_error"] = str(e)
            for side in ("eager", "compiled"):
                if f"{side}_ms" in row and "aicc_ms" in row:
                    row[f"ratio_{side}"] = row["aicc_ms"] / row[f"{side}_ms"]
            log(f"torch {name} {t}t: aicc {fmt(row.get('aicc_ms'), '.3f')} ms, eager "
                f"{fmt(row.get('eager_ms'), '.3f')} ms ({row.get('eager_check')}), compiled "
                f"{fmt(row.get('compiled_ms'), '.3f')} ms ({row.get('compiled_check')}, compile "
                f"{fmt(row.get('compile_s'))} s)" + (f": {row['error']}" if row.get("error") else ""))
    return res


# ---- report ------------------------------------------------------------------

def fmt(x, spec=".1f"):
    return "—" if x is None else format(x, spec)


def write_report(path, res):
    mc = res["machine"]
    T = res["threads"][-1]
    lines = [
        "# aicc benchmarks",
        "",
        f"Measured {res['date']} by `make bench` (bench/run.py) on {mc['cpu']} "
        f"({mc['nproc']} CPUs), aicc {res['aicc_version']}, {res['openblas']['config']} "
        f"(core {res['openblas']['core']}), onnxruntime {res['ort_version']}. "
        f"Medians of >= {res['runs']} runs unless the `n` column says fewer; aicc and its "
        "peer interleaved in rounds in the same run. The machine is shared and noisy: "
        "compare ratios, not absolute figures, and rerun before drawing conclusions. "
        f"Load average (1 min): {res.get('load_before', 0):.1f} at the start, "
        f"{res.get('load_after', 0):.1f} at the end, on {mc['nproc']} CPUs; above {mc['nproc']}, "
        "other processes competed for the cores, and the absolute figures of both sides are "
        "depressed by it.",
        "",
        "## Machine",
        "",
        "| ceiling | 1 thread | %d threads |" % T,
        "|---|---|---|",
        f"| FP32 FMA peak, 512-bit, {mc['fma_chains']} chains (GFLOP/s) | "
        f"{mc['fma_gflops_1t']:.1f} | {mc.get(f'fma_gflops_{T}t', 0):.1f} |",
        f"| STREAM triad (GB/s) | {mc['triad_gbs_1t']:.1f} | {mc.get(f'triad_gbs_{T}t', 0):.1f} |",
        "",
        "Measured at the start and at the end of the run; the better of the two. For reference, "
        "/work/shared/MACHINE.md has ≈ 220 GFLOP/s per core (≈ 430 on both) for an idle machine "
        "of this kind.",
    ]
    if res.get("sgemm"):
        lines += sgemm_section(res)
    if res.get("models"):
        lines += models_section(res)
    if res.get("convs"):
        lines += convs_section(res)
    if res.get("batch"):
        lines += batch_section(res)
    if res.get("rss", {}).get("rows"):
        lines += rss_section(res)
    if res.get("torch"):
        lines += torch_section(res)
    lines += reading_section(res)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def sgemm_section(res):
    lines = [
        "",
        "## sgemm: aicc compiled vs OpenBLAS",
        "",
        "`c = a @ b`, f32 row-major, both operands runtime inputs. aicc: a one-node MatMul "
        "model through `aicc bench --engine compiled --json`. Ratio = aicc GFLOP/s / OpenBLAS "
        "GFLOP/s (1.0 = parity, higher is better); % peak against the FMA peak above.",
        "",
        "| shape | M×K×N | threads | OpenBLAS GFLOP/s | aicc GFLOP/s | ratio | aicc % peak | n | output |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["sgemm"]:
        pct = 100 * r["aicc_gflops"] / r["peak_gflops"] if "aicc_gflops" in r else None
        lines.append(
            f"| {r['label']} | {r['m']}×{r['k']}×{r['n']} | {r['threads']} | "
            f"{r['blas_gflops']:.1f} | {fmt(r.get('aicc_gflops'))} | {fmt(r.get('ratio'), '.2f')} | "
            f"{fmt(pct, '.0f')} | {r['runs']} | "
            + check_cell(r) + " |")
    return lines


def check_cell(r):
    """The output column of a table row: the check, and aicc's error if any."""
    return r["check"] + (f": {r['aicc_error']}" if r.get("aicc_error") else "")


def models_section(res):
    lines = [
        "",
        "## Models: aicc compiled vs onnxruntime",
        "",
        "The zoo (tests/models/gen_zoo.py) on its stored inputs. onnxruntime with all graph "
        "optimizations, `intra_op_num_threads` = threads, one inter-op thread. Ratio = aicc time / "
        "onnxruntime time (1.0 = parity, lower is better). Outputs are checked against "
        "onnxruntime's (rtol 1e-3, atol 1e-4) before timing. Compile: cold = empty JIT cache, "
        "cached = from the cache.",
        "",
        "| model | threads | onnxruntime ms | aicc ms | ratio | n | kernels | extern steps | compile cold / cached ms | output |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["models"]:
        comp = (f"{fmt(r.get('compile_cold_ms'), '.0f')} / {fmt(r.get('compile_cached_ms'), '.0f')}"
                if r.get("compile_cold_ms") is not None else "")
        ext = r.get("extern_steps")
        ext_s = "" if ext is None else (f"{ext} ({r.get('extern_ops')})" if ext else "0")
        lines.append(
            f"| {r['model']} | {r['threads']} | {r['ort_ms']:.2f} | {fmt(r.get('aicc_ms'), '.2f')} | "
            f"{fmt(r.get('ratio'), '.2f')} | {r['runs']} | {fmt(r.get('kernels'), 'd')} | {ext_s} | "
            f"{comp} | " + check_cell(r) + " |")
    return lines


def reading_section(res):
    lines = [
        "",
        "## Reading these figures",
        "",
        "- aicc is timed inside `aicc bench` (wall clock around each run); onnxruntime and "
        "OpenBLAS from Python (`time.perf_counter` around `InferenceSession.run` / the ctypes "
        "call), which adds some microseconds per call: it matters only for the zoo's smallest "
        "models (bert, gpt2, lstm run in well under a millisecond)."
        + (" Both sides make untimed calls at the start of every round, about 100 ms of "
           "them (aicc through `--warmup`, 3 to 50 runs, in its fresh process; the peer 1 or 2 "
           "to 50 calls): the first call after the other side ran finds cold caches and a "
           "core that slept through the pause, and a new process's first runs page-fault "
           "their buffers."
           if res.get("warm_each_round") else ""),
        "- M = 1 (GPT-2 decode) is a matrix-vector product, bound by memory, not FMAs; "
        "OpenBLAS 0.3.21 runs its general blocked GEMM path for it (packing the weights on "
        "every call; later releases hand M = 1 to gemv), hence its low figure there.",
        "- When the load average is above the CPU count, a second thread often finds no free "
        "core: 2-thread figures from such a run say little about scaling.",
    ]
    floor = {r["threads"]: r for r in res.get("call_floor", [])}
    if floor:
        f1 = floor[min(floor)]
        lines.append(
            "- Single conv layers run in microseconds, where the cost of a call itself counts: on a "
            f"one-node Relu of 8 floats, a call costs {fmt(f1['ort_ms'] * 1e3)} µs in "
            f"onnxruntime (from Python) and {fmt(f1.get('aicc_ms') and f1['aicc_ms'] * 1e3)} "
            "µs in aicc (inside `aicc bench`), 1 thread. Conv rows whose times are within a few "
            "times that floor compare call overheads as much as kernels.")
    rss = res.get("rss") or {}
    if rss.get("rows"):
        lines.append(
            "- Peak RSS: the onnxruntime figure includes the Python interpreter, numpy and the "
            "onnxruntime library: a process that only imports numpy and onnxruntime peaks at "
            f"{fmt(rss.get('ort_baseline_mib'))} MiB (subtract it for onnxruntime's share; the "
            "net columns do). aicc's is the whole `aicc bench` process (the CLI, "
            "the model's parsed graph and weights, the compiled program, buffers, its own "
            f"samples); `aicc --version` alone peaks at {fmt(rss.get('aicc_baseline_mib'))} MiB. "
            "The program comes from a warm JIT cache, so no compiler runs in the measured "
            "process: the figure is deployment memory, not compile memory.")
    return lines + ["", "![results](results.png)", ""]


def convs_section(res):
    lines = [
        "",
        "## Convolution layers: aicc compiled vs onnxruntime",
        "",
        "Single Conv layers of the zoo's CNNs, one of each kind per model (the kind's heaviest; "
        "kinds: stem = the first conv, k×k sS = a dense conv, dw = depthwise, 1×1 expand / "
        "reduce = pointwise with more / fewer output channels, 1×1 s2 = strided projection "
        "shortcut, 1×1 head = the last conv), each as a one-node Conv model at batch 1 with the "
        "model's own channels and spatial size, random weights and bias as initializers. "
        "Outputs checked against onnxruntime's first. Ratio = aicc time / onnxruntime time "
        "(lower is better); GFLOP/s counts 2 × MACs (bias excluded).",
        "",
        "| model | kind | cin→cout, kernel, in→out | MFLOP | threads | onnxruntime µs | aicc µs "
        "| ratio | onnxruntime GFLOP/s | aicc GFLOP/s | n | output |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["convs"]:
        lines.append(
            f"| {r['model']} | {kind_text(r['kind'])} | {conv_geometry(r)} | "
            f"{r['flop'] / 1e6:.2f} | {r['threads']} | {r['ort_ms'] * 1e3:.1f} | "
            f"{fmt(r.get('aicc_ms') and r['aicc_ms'] * 1e3)} | {fmt(r.get('ratio'), '.2f')} | "
            f"{r['ort_gflops']:.1f} | {fmt(r.get('aicc_gflops'))} | {r['runs']} | "
            + check_cell(r) + " |")
    return lines


def batch_section(res):
    lines = [
        "",
        f"## Batch 1 and {BATCH}: aicc compiled vs onnxruntime",
        "",
        f"The zoo's CNNs with the batch dim of their input and output fixed to 1 and to {BATCH} "
        "(a copy of the model; resnet's batch is the symbol N in the zoo), on random inputs "
        "(fixed seed) fed to both sides, outputs compared first. Ratio = aicc time / "
        "onnxruntime time (lower is better); per image = time / batch.",
        "",
        "| model | batch | threads | onnxruntime ms | aicc ms | ratio | onnxruntime ms/image "
        "| aicc ms/image | n | output |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["batch"]:
        b = r["batch"]
        lines.append(
            f"| {r['model']} | {b} | {r['threads']} | {r['ort_ms']:.2f} | {fmt(r.get('aicc_ms'), '.2f')} | "
            f"{fmt(r.get('ratio'), '.2f')} | {r['ort_ms'] / b:.3f} | "
            f"{fmt(r.get('aicc_ms') and r['aicc_ms'] / b, '.3f')} | {r['runs']} | "
            + check_cell(r) + " |")
    return lines


def rss_section(res):
    rss = res["rss"]
    base = rss.get("ort_baseline_mib")
    lines = [
        "",
        "## Peak memory: aicc vs onnxruntime",
        "",
        "Peak resident set (VmHWM, from wait4's ru_maxrss) of a fresh process per side running "
        "the model `n` times after 2 warm-up runs: `aicc bench --engine compiled` (program from "
        "the JIT cache) and bench/ort_child.py (python, numpy, one onnxruntime session, the same "
        "session options as above). Every zoo model on its stored inputs, and the CNNs at "
        f"batch {BATCH}. Ratio = aicc MiB / onnxruntime MiB (lower is better). Baseline: a python "
        f"process that imports numpy and onnxruntime and runs nothing peaks at {fmt(base)} MiB; "
        f"`aicc --version` at {fmt(rss.get('aicc_baseline_mib'))} MiB.",
        "",
        "The net columns subtract each side's baseline: what the model and its run add.",
        "",
        "| model | batch | threads | aicc MiB | onnxruntime MiB | ratio | aicc net MiB "
        "| onnxruntime net MiB | net ratio | n |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    abase = rss.get("aicc_baseline_mib")
    for r in rss["rows"]:
        onet = r["ort_mib"] - base if "ort_mib" in r and base is not None else None
        anet = r["aicc_mib"] - abase if "aicc_mib" in r and abase is not None else None
        nratio = anet / onet if anet is not None and onet else None
        err = r.get("aicc_error") or r.get("ort_error")
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['threads']} | {fmt(r.get('aicc_mib'))} | "
            f"{fmt(r.get('ort_mib'))} | {fmt(r.get('ratio'), '.2f')} | {fmt(anet)} | {fmt(onet)} | "
            f"{fmt(nratio, '.2f')} | {r['iters']}" + (f" ({err})" if err else "") + " |")
    return lines


def torch_section(res):
    tr = res["torch"]
    lines = ["", "## PyTorch peers: aicc compiled vs torch eager and torch.compile", ""]
    if tr.get("skipped"):
        return lines + [f"Not measured: {tr['skipped']}."]
    lines += [
        f"torch {tr.get('torch_version', '?')} on the zoo's CNNs with their stored inputs. The zoo "
        "is written with onnx.helper, not from torch modules, so bench/torch_peer.py translates "
        "each ONNX node into the torch call that computes it (Conv → `F.conv2d`, "
        "BatchNormalization → `F.batch_norm` in eval mode, Clip → `torch.clamp`, ...) with the "
        "zoo's own weights; no other dependency. Eager: that module under "
        "`torch.inference_mode()`; compiled: `torch.compile(module)` (inductor, default options: "
        "no freezing, so BatchNormalization is not folded into the convs). "
        "`torch.set_num_threads` = threads. Each (model, threads) runs in a process of its own, "
        f"capped at {tr.get('cap_s', 0):.0f} s (the part at {tr.get('budget_s', 0):.0f} s); aicc's "
        "runs are taken half before and half after it. torch's outputs are checked against "
        "onnxruntime's (rtol 1e-3, atol 1e-4). Ratio = aicc time / torch time (lower is "
        "better). Compile = the first call of the compiled module, s; the inductor cache starts "
        "empty at the first row, so later rows may reuse kernels compiled for earlier ones.",
        "",
        "| model | batch | threads | aicc ms | torch eager ms | torch.compile ms | aicc / eager "
        "| aicc / compiled | compile s | n | torch output (eager / compiled) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in tr.get("rows", []):
        note = r.get("error") or r.get("aicc_error")
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['threads']} | {fmt(r.get('aicc_ms'), '.2f')} | "
            f"{fmt(r.get('eager_ms'), '.2f')} | {fmt(r.get('compiled_ms'), '.2f')} | "
            f"{fmt(r.get('ratio_eager'), '.2f')} | {fmt(r.get('ratio_compiled'), '.2f')} | "
            f"{fmt(r.get('compile_s'))} | {r['runs']} | {r.get('eager_check', '—')} / "
            f"{r.get('compiled_check', '—')}" + (f"; {note}" if note else "") + " |")
    return lines


def plot(path, res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lower = bool(res.get("convs") or res.get("batch"))
    fig, axes = plt.subplots(2 if lower else 1, 2, figsize=(15, 11 if lower else 5.5),
                             squeeze=False)
    (ax1, ax2) = axes[0]
    threads = res["threads"]
    labels = []
    for r in res["sgemm"]:
        lab = f"{r['m']}x{r['k']}x{r['n']}"
        if lab not in labels:
            labels.append(lab)
    x = np.arange(len(labels))
    w = 0.8 / (2 * len(threads))
    for i, t in enumerate(threads):
        rows = {f"{r['m']}x{r['k']}x{r['n']}": r for r in res["sgemm"] if r["threads"] == t}
        blas = [rows[l]["blas_gflops"] if l in rows else 0 for l in labels]
        aic = [rows[l].get("aicc_gflops", 0) if l in rows else 0 for l in labels]
        ax1.bar(x + (2 * i) * w - 0.4 + w / 2, blas, w, label=f"OpenBLAS {t}t")
        ax1.bar(x + (2 * i + 1) * w - 0.4 + w / 2, aic, w, label=f"aicc {t}t")
        pk = res["machine"].get(f"fma_gflops_{t}t")
        if pk:
            ax1.axhline(pk, ls="--", lw=0.8, color="gray")
            ax1.text(len(labels) - 0.5, pk, f"FMA peak {t}t", fontsize=7, ha="right", va="bottom")
    ax1.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    ax1.set_ylabel("GFLOP/s (higher is better)")
    ax1.set_title("sgemm M×K×N")
    ax1.legend(fontsize=8)
    if not labels:
        ax1.clear()
        ax1.set_axis_off()
        ax1.text(0.5, 0.5, "sgemm not measured in this run", ha="center", transform=ax1.transAxes)
    ratio_bars(ax2, res.get("models", []), threads, lambda r: r["model"], "whole models")
    if lower:
        ratio_bars(axes[1][0], res.get("convs", []), threads,
                   lambda r: f"{SHORT.get(r['model'], r['model'])} {r['kind']}",
                   "conv layers, batch 1", rotate=True)
        ratio_bars(axes[1][1], res.get("batch", []), threads,
                   lambda r: f"{r['model']}\nbatch {r['batch']}", "CNNs at batch 1 and 8")
    fig.suptitle(f"aicc compiled engine, {res['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def ratio_bars(ax, rows, threads, key, title, rotate=False):
    """aicc / onnxruntime time ratios of ROWS, one bar per thread count, on a
    log axis around parity."""
    import matplotlib.ticker  # noqa: F401 (matplotlib.ticker below)
    import matplotlib
    labels = []
    for r in rows:
        if key(r) not in labels:
            labels.append(key(r))
    x = np.arange(len(labels))
    w = 0.8 / max(1, len(threads))
    for i, t in enumerate(threads):
        by = {key(r): r for r in rows if r["threads"] == t}
        ratio = [by[l].get("ratio", 0) if l in by else 0 for l in labels]
        ax.bar(x + i * w - 0.4 + w / 2, ratio, w, label=f"{t} thread{'s' if t > 1 else ''}")
    ax.axhline(1.0, color="black", lw=0.8)
    if rotate:
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    else:
        ax.set_xticks(x, labels, fontsize=8)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_ylabel("aicc time / onnxruntime time (lower is better)")
    ax.set_title(title)
    ax.legend(fontsize=8)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (aicc, zoo)")
    ap.add_argument("--out", default=HERE, help="where RESULTS.md and results.png go")
    ap.add_argument("--runs", type=int, default=20, help="runs per median (default 20)")
    ap.add_argument("--rounds", type=int, default=8,
                    help="interleaving rounds: aicc and the peer alternate this often (default "
                         "8: a burst of the host's noise then hits a few of each side's samples, "
                         "not half of one side's)")
    ap.add_argument("--budget", type=float, default=30,
                    help="seconds of aicc runs per case before runs are cut below --runs")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--only", choices=PARTS + ["machine"], action="append",
                    help="run only these parts (repeatable; machine always runs)")
    ap.add_argument("--models", help="comma-separated zoo models (default: all)")
    ap.add_argument("--torch-cap", type=float, default=240,
                    help="seconds one torch peer (eager + compile + compiled runs) may take")
    ap.add_argument("--torch-budget", type=float, default=600,
                    help="seconds the whole torch part may take")
    ap.add_argument("--quick", action="store_true", help="sgemm up to 512^3 only")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: rewrite RESULTS.md and results.png from a results.json")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            res = json.load(f)
        os.makedirs(args.out, exist_ok=True)
        write_report(os.path.join(args.out, "RESULTS.md"), res)
        plot(os.path.join(args.out, "results.png"), res)
        return 0

    exe = os.path.join(args.build, "aicc")
    if not os.access(exe, os.X_OK):
        log(f"no aicc at {exe}: build first (make build)")
        return 2
    threads = [int(t) for t in args.threads.split(",")]
    parts = set(args.only or PARTS)
    work = os.path.join(args.build, "bench")
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(work, "jit-cache")
    aicc = Aicc(exe, cache)
    import onnxruntime
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "threads": threads,
           "runs": args.runs, "aicc_version": version[-1] if version else "?",
           "ort_version": onnxruntime.__version__, "python": platform.python_version(),
           "warm_each_round": True}
    log("machine ceilings")
    res["load_before"] = os.getloadavg()[0]
    res["machine"] = machine(work, max(threads))
    log(f"machine: {res['machine']}")
    blas = OpenBLAS()
    res["openblas"] = blas.info()
    res["sgemm"] = sgemm_cases(args, blas, aicc, work, threads, res["machine"]) \
        if "sgemm" in parts else []
    res["models"] = zoo_cases(args, aicc, work, threads) if "models" in parts else []
    res["convs"] = conv_cases(args, aicc, work, threads) if "convs" in parts else []
    if "convs" in parts:
        res["call_floor"] = [call_floor(args, aicc, work, t) for t in threads]
    res["batch"] = batch_cases(args, aicc, work, threads) if "batch" in parts else []
    res["rss"] = rss_cases(args, aicc, work, threads) if "rss" in parts else {}
    res["torch"] = torch_cases(args, aicc, work, threads) if "torch" in parts else {}
    # The ceilings again: on a shared machine one measurement may land in a
    # busy moment; the better of the two is the ceiling.
    again = machine(work, max(threads))
    res["machine_first"] = dict(res["machine"])
    for k, v in again.items():
        if k.startswith(("fma_gflops_", "triad_gbs_")):
            res["machine"][k] = max(v, res["machine"].get(k, 0))
    res["load_after"] = os.getloadavg()[0]
    for r in res["sgemm"]:  # % of peak against the final ceiling
        r["peak_gflops"] = res["machine"].get(f"fma_gflops_{r['threads']}t", r["peak_gflops"])
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    os.makedirs(args.out, exist_ok=True)
    write_report(os.path.join(args.out, "RESULTS.md"), res)
    try:
        plot(os.path.join(args.out, "results.png"), res)
    except ImportError as e:
        log(f"no plot ({e}); run bench/setup")
    log(f"wrote {os.path.join(args.out, 'RESULTS.md')}, results.png and {work}/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
