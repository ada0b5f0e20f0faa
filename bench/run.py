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

Every figure is a median of >= --runs runs (fewer only where one run takes
seconds; RESULTS.md says so), at 1 and 2 threads, aicc and its peer
interleaved in rounds so that noise on this shared machine hits both.
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


def interleaved(side_a, side_b, total, rounds):
    """Calls side_a(k) and side_b(k) alternately, k runs per call, until each
    has `total` samples. Each returns a list of seconds."""
    a, b = [], []
    per = max(1, -(-total // rounds))
    while len(a) < total or len(b) < total:
        if len(a) < total:
            a += side_a(min(per, total - len(a)))
        if len(b) < total:
            b += side_b(min(per, total - len(b)))
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
                    warm = 1 if one > 0.5 else 3

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

def zoo_cases(args, aicc, work, threads_list):
    import onnxruntime as ort
    zoo = os.path.join(args.build, "zoo")
    rows = []
    if not os.path.isdir(zoo):
        log(f"no zoo at {zoo} (build first)")
        return rows
    names = sorted(d for d in os.listdir(zoo) if os.path.isfile(os.path.join(zoo, d, "model.onnx")))
    if args.models:
        names = [n for n in names if n in args.models.split(",")]
    for name in names:
        model = os.path.join(zoo, name, "model.onnx")
        ds = os.path.join(zoo, name, "test_data_set_0")
        n_in = len([f for f in os.listdir(ds) if f.startswith("input_")])
        feeds_arr = [load_pb(os.path.join(ds, f"input_{i}.pb")) for i in range(n_in)]
        for t in threads_list:
            row = {"model": name, "threads": t}
            so = ort.SessionOptions()
            so.intra_op_num_threads = t
            so.inter_op_num_threads = 1
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
            feeds = {i.name: a for i, a in zip(sess.get_inputs(), feeds_arr)}
            ort_out = sess.run(None, feeds)
            # outputs first: a ratio against wrong answers is no ratio
            out_dir = os.path.join(work, f"zoo_{name}_{t}")
            shutil.rmtree(out_dir, ignore_errors=True)
            err = None
            try:
                aicc.run(model, ds, out_dir, t)
                worst = 0.0
                ok = True
                for i, ref in enumerate(ort_out):
                    got = load_pb(os.path.join(out_dir, f"output_{i}.pb"))
                    if got.shape != ref.shape:
                        ok = False
                        break
                    if ref.dtype.kind == "f":
                        diff = np.abs(got.astype(np.float64) - ref)
                        worst = max(worst, float(np.max(diff, initial=0)))
                        ok &= bool(np.all(diff <= 1e-4 + 1e-3 * np.abs(ref)))
                    else:
                        ok &= bool(np.array_equal(got, ref))
                row["check"] = f"ok (max abs diff {worst:.1g})" if ok else \
                    f"MISMATCH (max abs diff {worst:.2g})"
            except RuntimeError as e:
                err = str(e)
                row["check"] = "error"

            def ort_side(cnt):
                out = []
                for _ in range(cnt):
                    t0 = time.perf_counter()
                    sess.run(None, feeds)
                    out.append(time.perf_counter() - t0)
                return out

            ort_side(3)
            if err is None:
                try:
                    if t == threads_list[0]:
                        cold = aicc.bench(model, t, 1, 0, inputs=ds, cold=True)
                        row["compile_cold_ms"] = cold.get("compile_cold_ms")
                        row["compile_cached_ms"] = cold.get("compile_cached_ms")
                    probe = aicc.bench(model, t, 1, 1, inputs=ds)
                    row["kernels"] = probe.get("kernels")
                    row["extern_steps"] = probe.get("extern_steps")
                    row["extern_ops"] = probe.get("extern_ops")
                    one = probe["median_ms"] / 1e3
                    runs = plan_runs(one, args.runs, args.budget)

                    def aicc_side(cnt):
                        j = aicc.bench(model, t, cnt, 2, inputs=ds)
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
            rows.append(row)
            log(f"model {name} {t}t: onnxruntime {row['ort_ms']:.2f} ms, "
                + (f"aicc {row['aicc_ms']:.2f} ms ({row['ratio']:.2f}x the time), {row['check']}"
                   if "aicc_ms" in row else f"aicc: {row.get('aicc_error')}"))
    return rows


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
            f"{fmt(pct, '.0f')} | {r['runs']} | {r['check']}"
            + (f": {r['aicc_error']}" if r.get("aicc_error") else "") + " |")
    lines += [
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
            f"{comp} | {r['check']}" + (f": {r['aicc_error']}" if r.get("aicc_error") else "") + " |")
    lines += [
        "",
        "## Reading these figures",
        "",
        "- aicc is timed inside `aicc bench` (wall clock around each run); onnxruntime and "
        "OpenBLAS from Python (`time.perf_counter` around `InferenceSession.run` / the ctypes "
        "call), which adds some microseconds per call: it matters only for the zoo's smallest "
        "models (bert, gpt2, lstm run in well under a millisecond).",
        "- M = 1 (GPT-2 decode) is a matrix-vector product, bound by memory, not FMAs; "
        "OpenBLAS 0.3.21 runs its general blocked GEMM path for it (packing the weights on "
        "every call; later releases hand M = 1 to gemv), hence its low figure there.",
        "- When the load average is above the CPU count, a second thread often finds no free "
        "core: 2-thread figures from such a run say little about scaling.",
        "",
        "![results](results.png)",
        "",
    ]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def plot(path, res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 5.5))
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
    models = []
    for r in res["models"]:
        if r["model"] not in models:
            models.append(r["model"])
    xm = np.arange(len(models))
    wm = 0.8 / max(1, len(threads))
    for i, t in enumerate(threads):
        rows = {r["model"]: r for r in res["models"] if r["threads"] == t}
        ratio = [rows[m].get("ratio", 0) if m in rows else 0 for m in models]
        ax2.bar(xm + i * wm - 0.4 + wm / 2, ratio, wm, label=f"{t} thread{'s' if t > 1 else ''}")
    ax2.axhline(1.0, color="black", lw=0.8)
    ax2.set_xticks(xm, models)
    ax2.set_yscale("log")
    ax2.set_ylabel("aicc time / onnxruntime time (lower is better)")
    ax2.set_title("whole models")
    ax2.legend(fontsize=8)
    fig.suptitle(f"aicc compiled engine, {res['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (aicc, zoo)")
    ap.add_argument("--out", default=HERE, help="where RESULTS.md and results.png go")
    ap.add_argument("--runs", type=int, default=20, help="runs per median (default 20)")
    ap.add_argument("--rounds", type=int, default=4,
                    help="interleaving rounds: aicc and the peer alternate this often (default 4)")
    ap.add_argument("--budget", type=float, default=30,
                    help="seconds of aicc runs per case before runs are cut below --runs")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--only", choices=["machine", "sgemm", "models"], action="append",
                    help="run only these parts (repeatable; machine always runs)")
    ap.add_argument("--models", help="comma-separated zoo models (default: all)")
    ap.add_argument("--quick", action="store_true", help="sgemm up to 512^3 only")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: rewrite RESULTS.md and results.png from a results.json")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            res = json.load(f)
        write_report(os.path.join(args.out, "RESULTS.md"), res)
        plot(os.path.join(args.out, "results.png"), res)
        return 0

    exe = os.path.join(args.build, "aicc")
    if not os.access(exe, os.X_OK):
        log(f"no aicc at {exe}: build first (make build)")
        return 2
    threads = [int(t) for t in args.threads.split(",")]
    parts = set(args.only or ["sgemm", "models"])
    work = os.path.join(args.build, "bench")
    os.makedirs(work, exist_ok=True)
    cache = os.path.join(work, "jit-cache")
    aicc = Aicc(exe, cache)
    import onnxruntime
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "threads": threads,
           "runs": args.runs, "aicc_version": version[-1] if version else "?",
           "ort_version": onnxruntime.__version__, "python": platform.python_version()}
    log("machine ceilings")
    res["load_before"] = os.getloadavg()[0]
    res["machine"] = machine(work, max(threads))
    log(f"machine: {res['machine']}")
    blas = OpenBLAS()
    res["openblas"] = blas.info()
    res["sgemm"] = sgemm_cases(args, blas, aicc, work, threads, res["machine"]) \
        if "sgemm" in parts else []
    res["models"] = zoo_cases(args, aicc, work, threads) if "models" in parts else []
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
