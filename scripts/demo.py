#!/usr/bin/env python3
"""aicc end to end: builds an example model (MobileNetV2 from the test zoo,
random weights), runs it with `aicc run`, checks the outputs against
onnxruntime and times both. Run by `make demo`; exits non-zero on a mismatch."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # importing gen_zoo must not litter the source tree
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))


def fail(msg):
    print(f"demo: {msg}", file=sys.stderr)
    sys.exit(1)


def short(path):
    """Path relative to the current folder when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def read_pb(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (default: build)")
    ap.add_argument("--aicc", help="aicc binary (default: BUILD/aicc)")
    ap.add_argument("--engine", default="interp", help="aicc engine (default: interp)")
    ap.add_argument("--model", default="mobilenetv2", help="zoo model to run (default: mobilenetv2)")
    ap.add_argument("--runs", type=int, default=5, help="timed aicc runs (default: 5)")
    ap.add_argument("--ort-runs", type=int, default=20, help="timed onnxruntime runs (default: 20)")
    ap.add_argument("--ort-threads", type=int, default=1,
                    help="onnxruntime intra-op threads (default: 1, like the single-threaded engine)")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()

    import numpy as np
    import onnx
    import onnxruntime as ort
    import gen_zoo

    aicc = args.aicc or os.path.join(args.build, "aicc")
    if not os.access(aicc, os.X_OK):
        fail(f"no aicc binary at {aicc} (run `make build`)")
    if args.model not in gen_zoo.ZOO:
        fail(f"unknown model {args.model}; known: {', '.join(gen_zoo.ZOO)}")

    # 1. The example model and its input (gen_zoo also stores a reference output).
    demo_dir = os.path.join(args.build, "demo")
    os.makedirs(demo_dir, exist_ok=True)
    gen_zoo.write_model(demo_dir, args.model)
    mdir = os.path.join(demo_dir, args.model)
    model_path = os.path.join(mdir, "model.onnx")
    in_dir = os.path.join(mdir, "test_data_set_0")
    out_dir = os.path.join(demo_dir, "out")
    g = onnx.load(model_path).graph
    n_params = sum(int(np.prod(t.dims)) for t in g.initializer)
    feeds = {vi.name: read_pb(os.path.join(in_dir, f"input_{i}.pb")) for i, vi in enumerate(g.input)}

    # 2. aicc as a user runs it. --time makes it print the run alone ("aicc: run
    # took X ms", without process start, model load and file I/O): the number
    # to set against onnxruntime's session.run.
    cmd = [aicc, "run", model_path, "--inputs", in_dir, "--outputs", out_dir,
           "--engine", args.engine, "--time"]
    proc_times, run_times = [], []
    for _ in range(max(1, args.runs)):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, errors="replace")
        proc_times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            print("$ " + " ".join(short(c) if os.path.exists(c) else c for c in cmd))
            print(p.stdout.rstrip())
            fail(f"aicc run failed (exit {p.returncode})")
        m = re.search(r"run took ([0-9.]+) ms", p.stdout)
        if m:
            run_times.append(float(m.group(1)) / 1e3)
    outs = []
    for i in range(len(g.output)):
        path = os.path.join(out_dir, f"output_{i}.pb")
        if not os.path.exists(path):
            fail(f"aicc run wrote no {path}")
        outs.append(read_pb(path))

    # 3. onnxruntime, default optimizations: session.run timed (load excluded).
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.ort_threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    t0 = time.perf_counter()
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    ort_load = time.perf_counter() - t0
    ref = sess.run(None, feeds)  # also the warm-up
    ort_times = []
    for _ in range(max(1, args.ort_runs)):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ort_times.append(time.perf_counter() - t0)

    # 4. Report.
    print(f"aicc demo: {args.model} ({len(g.node)} nodes, {n_params / 1e6:.2f}M parameters, "
          f"random weights), engine {args.engine}")
    print(f"  model    {short(model_path)}")
    print(f"  command  {' '.join(short(c) if os.path.exists(c) else c for c in cmd)}")
    ok = True
    for vi, got, want in zip(g.output, outs, ref):
        if got.shape != want.shape:
            print(f"  output   {vi.name}: shape {list(got.shape)}, onnxruntime {list(want.shape)}  FAIL")
            ok = False
            continue
        err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
        good = bool(np.allclose(got, want, rtol=args.rtol, atol=args.atol))
        ok &= good
        extra = ""
        if "logit" in vi.name and got.ndim == 2:  # a classifier: the top-1 class too
            extra = (f", top-1 {'/'.join(map(str, got.argmax(1)))}"
                     f" vs {'/'.join(map(str, want.argmax(1)))}")
        print(f"  output   {vi.name} {list(got.shape)}: max abs err {err:.2e} vs onnxruntime"
              f" (rtol {args.rtol:g}, atol {args.atol:g}){extra}  {'PASS' if good else 'FAIL'}")
    p_med, o_med = statistics.median(proc_times), statistics.median(ort_times)
    threads = f"{args.ort_threads} thread{'s' if args.ort_threads != 1 else ''}"
    print(f"  time     onnxruntime session.run ({threads}, default optimizations), "
          f"median of {len(ort_times)}: {o_med * 1e3:.2f} ms  (session load {ort_load * 1e3:.0f} ms)")
    if run_times:
        r_med = statistics.median(run_times)
        print(f"           aicc run, the run alone (--time), median of {len(run_times)}: "
              f"{r_med * 1e3:.2f} ms  = {r_med / o_med:.1f}x onnxruntime")
    print(f"           aicc run, whole process (load + run + write), median of {len(proc_times)}: "
          f"{p_med * 1e3:.1f} ms  = {p_med / o_med:.1f}x onnxruntime")
    print(f"demo: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
