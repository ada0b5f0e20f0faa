#!/usr/bin/env python3
"""Times ONE training step (forward + cross-entropy loss + backward + Adam
update) of the digits MLP and digits CNN (examples/digits/make_digits.py) on

  aicc compiled  `aicc bench STEP.onnx --engine compiled --threads N --json`
                 on the step graph `aicc train --export-step` writes
  aicc interp    the same graph on the reference interpreter (1 thread)
  onnxruntime    the same exported step graph (intra-op threads matched,
                 graph optimizations on)
  torch          eager, the same architecture, the same initial weights (read
                 from the ONNX initializers), nn.CrossEntropyLoss and
                 torch.optim.Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8),
                 torch.set_num_threads matched; optional (skipped with
                 "torch: not installed")

at batch 32 and 128, 1 and 2 threads. Before any timing it checks that one
step's loss (and the next step's, after the update) agrees between aicc,
onnxruntime and torch on the same weights and the same batch.

Every figure is the median of --rounds x --iters timed steps after warm-up;
the engines are interleaved in rounds (order rotated each round) so that the
noise of this shared machine hits all of them; ratios are taken within the
run. Writes bench/TRAIN_RESULTS.md and prints the same tables. A benchmark,
not a test: it never judges a timing; it exits 1 when a loss check fails and
2 when it cannot run at all.

  python3 bench/train_step.py --build build
"""
import argparse
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

# torch's OpenMP workers spin-wait by default; on this shared 2-CPU machine a
# spinning worker that lands on the core of the main thread turned 0.5 ms
# steps into 50-75 ms ones at 2 threads. Passive waiting is torch's strongest
# setting here. Read when torch loads its OpenMP runtime, so set before that.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = ("mlp", "cnn")
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8  # aicc_train_spec_default()
LOSS_TOL = 1e-4


def log(msg):
    print(f"train_step: {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log(msg)
    sys.exit(2)


# ---- value files -------------------------------------------------------------

def save_pb(path, arr, name):
    from onnx import numpy_helper
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.asarray(arr), name).SerializeToString())


def load_pb(path):
    import onnx
    from onnx import numpy_helper
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


# ---- aicc --------------------------------------------------------------------

def last_error(stderr):
    line = (stderr.strip().splitlines() or ["(no message)"])[-1]
    return line[:300]


class Aicc:
    def __init__(self, exe, cache):
        self.exe, self.cache = exe, cache

    def _run(self, cmd):
        p = subprocess.run([self.exe] + cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"aicc {cmd[0]}: {last_error(p.stderr)}")
        return p.stdout

    def has_train(self):
        p = subprocess.run([self.exe, "train", "--help"], capture_output=True, text=True)
        return p.returncode == 0 and "--export-step" in p.stdout

    def export_step(self, model, data, batch, out):
        self._run(["train", model, "--data", data, "--batch", str(batch),
                   "--export-step", out, "--quiet"])

    def run(self, model, inputs, outputs, engine):
        cmd = ["run", model, "--inputs", inputs, "--outputs", outputs, "--engine", engine]
        if engine == "compiled":
            cmd += ["--cache-dir", self.cache]
        self._run(cmd)

    def bench(self, model, inputs, engine, threads, iters, warmup):
        cmd = ["bench", model, "--inputs", inputs, "--engine", engine, "--iters", str(iters),
               "--warmup", str(warmup), "--json"]
        if engine == "compiled":
            cmd += ["--threads", str(threads), "--cache-dir", self.cache]
        return json.loads(self._run(cmd))


# ---- the step graph ----------------------------------------------------------

class Step:
    """One exported step graph: its input/output names and the state lists.

    The exported file lists the parameters and optimizer states as inputs
    that also have an initializer (their starting value). aicc's ONNX import
    keeps such an input a constant, whatever the IR version, so a step
    graph run as exported would fold the state (zero Adam moments, fixed
    weights) into the compiled code and feed nothing back. The graph timed
    here (`path`) is the exported one with those initializers removed: every
    engine gets the whole state as inputs, as `aicc train` feeds it."""

    def __init__(self, exported, model_path):
        import onnx
        from onnx import numpy_helper
        m = onnx.load(exported)
        g = m.graph
        self.exported = exported
        self.inputs = [i.name for i in g.input]
        self.outputs = [o.name for o in g.output]
        if self.inputs[:3] != ["x", "labels", "step"] or self.outputs[:2] != ["loss", "logits"]:
            raise RuntimeError(f"{exported}: unexpected step interface: inputs "
                               f"{self.inputs[:4]}, outputs {self.outputs[:3]}")
        inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        self.state = self.inputs[3:]  # parameters, then optimizer states
        missing = [n for n in self.state if n not in inits]
        if missing:
            raise RuntimeError(f"{exported}: state inputs without initializer: {missing}")
        self.init = {n: inits[n] for n in self.state}
        model_inits = {t.name for t in onnx.load(model_path).graph.initializer}
        self.params = [n for n in self.state if n in model_inits]
        if len(self.outputs) != 2 + len(self.state):
            raise RuntimeError(f"{exported}: {len(self.outputs)} outputs for "
                               f"{len(self.state)} state inputs")
        self.ops = sorted({(n.domain or "ai.onnx") + ":" + n.op_type for n in g.node})
        keep = [t for t in g.initializer if t.name not in self.init]
        del g.initializer[:]
        g.initializer.extend(keep)
        self.path = exported[:-len(".onnx")] + "_open.onnx"
        onnx.save(m, self.path)

    def write_inputs(self, d, x, y, step, state=None):
        """input_N.pb files in d; state None: the initial state."""
        os.makedirs(d, exist_ok=True)
        state = self.init if state is None else state
        save_pb(os.path.join(d, "input_0.pb"), x, "x")
        save_pb(os.path.join(d, "input_1.pb"), y, "labels")
        save_pb(os.path.join(d, "input_2.pb"), np.array(step, np.float32), "step")
        for i, n in enumerate(self.state):
            save_pb(os.path.join(d, f"input_{3 + i}.pb"), state[n], n)


def aicc_two_steps(aicc, step, work, engine, b1, b2):
    """Loss of step 1 on batch b1 and of step 2 on b2 (after the update),
    and the parameters after step 1."""
    d = os.path.join(work, f"check-{engine}")
    shutil.rmtree(d, ignore_errors=True)
    step.write_inputs(os.path.join(d, "in1"), *b1, 1.0)
    aicc.run(step.path, os.path.join(d, "in1"), os.path.join(d, "out1"), engine)
    out1 = [load_pb(os.path.join(d, "out1", f"output_{i}.pb")) for i in range(len(step.outputs))]
    new = {n: out1[2 + i] for i, n in enumerate(step.state)}
    step.write_inputs(os.path.join(d, "in2"), *b2, 2.0, new)
    aicc.run(step.path, os.path.join(d, "in2"), os.path.join(d, "out2"), engine)
    loss2 = load_pb(os.path.join(d, "out2", "output_0.pb"))
    return float(out1[0]), float(loss2), {n: new[n] for n in step.params}


# ---- onnxruntime -------------------------------------------------------------

def ort_session(path, threads, spin=True):
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # not the warning per initializer that is also an input
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_feeds(x, y, step, state):
    f = {"x": x, "labels": y, "step": np.array(step, np.float32)}
    f.update(state)
    return f


def ort_two_steps(sess, step, b1, b2):
    out1 = sess.run(None, ort_feeds(*b1, 1.0, step.init))
    new = {n: out1[2 + i] for i, n in enumerate(step.state)}
    out2 = sess.run(None, ort_feeds(*b2, 2.0, new))
    return float(out1[0]), float(out2[0]), {n: new[n] for n in step.params}


# ---- torch -------------------------------------------------------------------

def torch_model(torch, kind, w):
    """The make_digits.py architecture with the ONNX initializers as weights.
    Gemm computes f @ W + b, so a Linear's weight is W transposed."""
    nn = torch.nn
    t = lambda a: torch.from_numpy(np.array(a, np.float32))  # noqa: E731 (a copy)
    if kind == "mlp":
        m = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        pairs = [(m[1].weight, w["w1"].T), (m[1].bias, w["b1"]),
                 (m[3].weight, w["w2"].T), (m[3].bias, w["b2"])]
    else:
        m = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
                          nn.Flatten(), nn.Linear(64, 10))
        pairs = [(m[0].weight, w["c1"]), (m[0].bias, w["cb1"]),
                 (m[3].weight, w["c2"]), (m[3].bias, w["cb2"]),
                 (m[7].weight, w["w"].T), (m[7].bias, w["b"])]
    with torch.no_grad():
        for p, a in pairs:
            assert tuple(p.shape) == a.shape, (p.shape, a.shape)
            p.copy_(t(a))
    return m


def torch_params_as_onnx(kind, m):
    """The torch parameters under their ONNX names and layouts."""
    g = lambda p: p.detach().numpy().copy()  # noqa: E731
    if kind == "mlp":
        return {"w1": g(m[1].weight).T, "b1": g(m[1].bias), "w2": g(m[3].weight).T,
                "b2": g(m[3].bias)}
    return {"c1": g(m[0].weight), "cb1": g(m[0].bias), "c2": g(m[3].weight),
            "cb2": g(m[3].bias), "w": g(m[7].weight).T, "b": g(m[7].bias)}


class TorchStep:
    def __init__(self, torch, kind, weights, x, y):
        self.torch, self.kind = torch, kind
        self.model = torch_model(torch, kind, weights)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())

    def step(self, x=None, y=None):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(self.x if x is None else x), self.y if y is None else y)
        loss.backward()
        self.opt.step()
        return loss

    def two_steps(self, b2):
        l1 = float(self.step().detach())
        p = torch_params_as_onnx(self.kind, self.model)
        l2 = float(self.step(self.torch.from_numpy(b2[0].copy()),
                             self.torch.from_numpy(b2[1].copy())).detach())
        return l1, l2, p


# ---- timing ------------------------------------------------------------------

def time_py(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return ts


def max_diff(a, b):
    return max(float(np.max(np.abs(a[n] - b[n]))) for n in a)


def fmt_ms(v):
    return "—" if v is None else f"{v:.3f}"


def fmt_ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}"


def machine_notes(args):
    cpu = "?"
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and cpu == "?":
                    cpu = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line
    except OSError:
        pass
    build_type = "?"
    try:
        with open(os.path.join(args.build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    build_type = line.split("=", 1)[1].strip() or "(none)"
    except OSError:
        pass
    return {"cpu": cpu, "nproc": os.cpu_count(), "avx512f": " avx512f" in flags,
            "build_type": build_type, "python": platform.python_version(),
            "numpy": np.__version__}


# ---- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="CMake build folder holding the aicc binary (default build)")
    ap.add_argument("--aicc", help="the aicc binary (default BUILD/aicc)")
    ap.add_argument("--batches", default="32,128", help="batch sizes (default 32,128)")
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--iters", type=int, default=10,
                    help="timed steps per engine per round (default 10)")
    ap.add_argument("--warmup", type=int, default=3,
                    help="untimed steps before each engine's timed ones (default 3)")
    ap.add_argument("--out", default=os.path.join(HERE, "TRAIN_RESULTS.md"),
                    help="Markdown file to write (default bench/TRAIN_RESULTS.md)")
    ap.add_argument("--keep", help="work in this folder and keep it (default: a temp dir)")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.load_start = os.getloadavg()[0]
    batches = [int(b) for b in args.batches.split(",")]
    threads_list = [int(t) for t in args.threads.split(",")]
    if args.rounds * args.iters < 20:
        fail("--rounds x --iters must be at least 20 (the median of >= 20 steps)")

    exe = os.path.abspath(args.aicc) if args.aicc else os.path.join(args.build, "aicc")
    args.exe = exe
    if not os.access(exe, os.X_OK):
        fail(f"{exe}: no aicc binary (build first, or pass --build)")
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
    except ImportError as e:
        fail(f"needs onnx and onnxruntime: {e}")
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch, torch_version = None, None
        print("torch: not installed")

    work = args.keep or tempfile.mkdtemp(prefix="aicc-train-bench-")
    os.makedirs(work, exist_ok=True)
    aicc = Aicc(exe, os.path.join(work, "jit-cache"))
    if not aicc.has_train():
        fail(f"{exe}: has no 'train' subcommand with --export-step (rebuild?)")
    data = os.path.join(work, "data")
    subprocess.run([sys.executable, os.path.join(ROOT, "examples", "digits", "make_digits.py"),
                    "-o", data], check=True, stdout=subprocess.DEVNULL)
    train_x = np.load(os.path.join(data, "train_x.npy"))
    train_y = np.load(os.path.join(data, "train_y.npy"))

    checks, rows, notes = [], [], []
    check_failed = False
    for kind in MODELS:
        model_path = os.path.join(data, f"{kind}.onnx")
        for batch in batches:
            tag = f"{kind} b{batch}"
            if 2 * batch > len(train_x):
                fail(f"batch {batch}: fewer than two batches of training data")
            b1 = (train_x[:batch], train_y[:batch])
            b2 = (train_x[batch:2 * batch], train_y[batch:2 * batch])
            step_path = os.path.join(work, f"{kind}_b{batch}_step.onnx")
            aicc.export_step(model_path, data, batch, step_path)
            step = Step(step_path, model_path)
            log(f"{tag}: step graph with {len(step.params)} parameters, "
                f"{len(step.state) - len(step.params)} optimizer states, ops {len(step.ops)}")

            # -- one step's loss must agree before anything is timed --
            res = {}
            for engine in ("interp", "compiled"):
                try:
                    res[f"aicc {engine}"] = aicc_two_steps(aicc, step, work, engine, b1, b2)
                except RuntimeError as e:
                    res[f"aicc {engine}"] = str(e)
            ort_err = None
            try:
                res["onnxruntime"] = ort_two_steps(ort_session(step.path, 1), step, b1, b2)
            except Exception as e:  # noqa: BLE001 - any ORT failure is reported, not fatal
                ort_err = res["onnxruntime"] = f"{type(e).__name__}: {str(e)[:300]}"
            if torch is not None:
                torch.set_num_threads(1)
                res["torch"] = TorchStep(torch, kind, step.init, *b1).two_steps(b2)
            ref_name = "torch" if torch is not None else "onnxruntime"
            ref = res.get(ref_name)
            for name, r in res.items():
                row = {"case": tag, "engine": name}
                if isinstance(r, str):
                    row["error"] = r
                    if name.startswith("aicc"):
                        check_failed = True
                elif isinstance(ref, str) or name == ref_name:
                    row.update(loss1=r[0], loss2=r[1])
                else:
                    row.update(loss1=r[0], loss2=r[1], d1=abs(r[0] - ref[0]),
                               d2=abs(r[1] - ref[1]), dp=max_diff(r[2], ref[2]))
                    if row["d1"] > LOSS_TOL or row["d2"] > LOSS_TOL:
                        check_failed = True
                        row["error"] = f"loss differs from {ref_name} by more than {LOSS_TOL}"
                checks.append(row)
                log(f"{tag}: {name}: " + (row.get("error") or
                                          f"loss {row['loss1']:.6f} then {row['loss2']:.6f}"))

            # -- timing, interleaved in rounds --
            in_dir = os.path.join(work, f"{kind}_b{batch}_in")
            step.write_inputs(in_dir, *b1, 1.0)
            feeds = ort_feeds(*b1, 1.0, step.init)
            for t in threads_list:
                sides = {}
                sides["aicc compiled"] = lambda t=t: aicc.bench(
                    step.path, in_dir, "compiled", t, args.iters, args.warmup)
                if t == 1:
                    sides["aicc interp"] = lambda: aicc.bench(
                        step.path, in_dir, "interp", 1, args.iters, args.warmup)
                if ort_err is None:
                    # With threads, its pool threads spin-wait by default; which of
                    # spinning and blocking is faster depends on the load: both
                    # are timed and the faster one is the peer.
                    for spin in ((True, False) if t > 1 else (True,)):
                        sess = ort_session(step.path, t, spin)
                        sides["onnxruntime" if spin else "onnxruntime (no spin)"] = \
                            lambda sess=sess: time_py(lambda: sess.run(None, feeds),
                                                      args.iters, args.warmup)
                if torch is not None:
                    ts = TorchStep(torch, kind, step.init, *b1)

                    def torch_side(ts=ts, t=t):
                        torch.set_num_threads(t)
                        return time_py(ts.step, args.iters, args.warmup)
                    sides["torch"] = torch_side
                samples = {k: [] for k in sides}
                meta = {}
                errors = {}
                names = list(sides)
                for r in range(args.rounds):
                    order = names[r % len(names):] + names[:r % len(names)]
                    for k in order:
                        if k in errors:
                            continue
                        try:
                            out = sides[k]()
                        except RuntimeError as e:
                            errors[k] = str(e)
                            log(f"{tag} t{t}: {k}: {e}")
                            continue
                        if isinstance(out, dict):  # aicc bench JSON
                            meta.setdefault(k, out)
                            samples[k] += out["samples_ms"]
                        else:
                            samples[k] += out
                med = {k: statistics.median(v) if v and k not in errors else None
                       for k, v in samples.items()}
                ort_ms, ort_nospin = med.get("onnxruntime"), False
                ns = med.get("onnxruntime (no spin)")
                if ns is not None and (ort_ms is None or ns < ort_ms):
                    ort_ms, ort_nospin = ns, True
                row = {"model": kind, "batch": batch, "threads": t, "n": args.rounds * args.iters,
                       "compiled": med.get("aicc compiled"), "interp": med.get("aicc interp"),
                       "ort": ort_ms, "ort_nospin": ort_nospin, "torch": med.get("torch"),
                       "errors": errors}
                jc = meta.get("aicc compiled")
                if jc:
                    row["kernels"], row["extern_steps"] = jc.get("kernels"), jc.get("extern_steps")
                    row["extern_ops"] = jc.get("extern_ops", "")
                    row["compile_ms"] = jc.get("compile_cached_ms")
                rows.append(row)
                log(f"{tag} t{t}: " + ", ".join(f"{k} {fmt_ms(v)} ms" for k, v in med.items()))
            for k, e in errors.items():
                notes.append(f"{tag}: {k} failed: {e}")
            if ort_err:
                notes.append(f"{tag}: onnxruntime cannot run the step graph: {ort_err}")

    md = report(args, rows, checks, notes, torch_version, ort.__version__)
    with open(args.out, "w") as f:
        f.write(md)
    print(md)
    log(f"wrote {args.out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if check_failed else 0


def report(args, rows, checks, notes, torch_version, ort_version):
    m = machine_notes(args)
    L = []
    L.append("# Training step: aicc against torch and onnxruntime\n")
    L.append(f"Written by `bench/train_step.py` on {datetime.date.today().isoformat()}. "
             "One training step of the digits models (examples/digits/make_digits.py): "
             "forward + SoftmaxCrossEntropyLoss (mean) + backward + Adam update "
             f"(lr {LR}, betas {BETAS[0]}/{BETAS[1]}, eps {EPS}). aicc and onnxruntime run the "
             "step graph `aicc train --export-step` writes (one ONNX graph: inputs x, labels, "
             "step, parameters, Adam states; outputs loss, logits, new parameters and states), "
             "with the parameters and states given as inputs on every step (the exported file "
             "also lists them as initializers, which aicc's ONNX import would keep as "
             "constants and fold; the timed graph drops those initializers); "
             "torch runs eager with the same architecture and initial weights, "
             "`nn.CrossEntropyLoss` and `torch.optim.Adam` (default settings).\n")
    L.append("## Milliseconds per step\n")
    L.append(f"Median of {args.rounds} rounds x {args.iters} timed steps (after {args.warmup} "
             "untimed ones per round) of each engine, the engines interleaved round by round. "
             "Ratio = aicc time / peer time: below 1 aicc is faster. aicc times are measured "
             "inside `aicc bench` around one run of the step graph (outputs allocated, inputs "
             "reused); onnxruntime and torch times are measured in Python around "
             "`session.run` / zero_grad + forward + loss + backward + `opt.step()`, so they "
             "include the Python call overhead those users pay. The interpreter runs single-"
             "threaded.\n")
    torch_col = "torch" if torch_version else "torch (not installed)"
    L.append(f"| model | batch | threads | aicc compiled | aicc interp | onnxruntime | {torch_col} "
             "| compiled / torch | compiled / ort | interp / torch | interp / ort |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        L.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {fmt_ms(r['compiled'])} | "
                 f"{fmt_ms(r['interp'])} | {fmt_ms(r['ort'])}{' ¹' if r['ort_nospin'] else ''} | "
                 f"{fmt_ms(r['torch'])} | "
                 f"{fmt_ratio(r['compiled'], r['torch'])} | {fmt_ratio(r['compiled'], r['ort'])} | "
                 f"{fmt_ratio(r['interp'], r['torch'])} | {fmt_ratio(r['interp'], r['ort'])} |")
    L.append("")
    L.append("At more than one thread onnxruntime is timed twice, its pool threads spinning "
             "(its default) and blocking (`session.intra_op.allow_spinning=0`); the table "
             "shows the faster, marked ¹ where blocking won. torch runs with "
             f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')} (its OpenMP "
             "workers' spin-waiting made 2-thread steps 100x slower on this loaded machine).\n")
    L.append("## What the compiled engine ran\n")
    L.append("From `aicc bench --json`: kernels JIT-compiled from the step graph, and extern "
             "steps (ops that did not lower and ran on their reference kernel).\n")
    L.append("| model | batch | threads | kernels | extern steps | extern ops | compile (ms, from JIT cache) |")
    L.append("|---|---:|---:|---:|---:|---|---:|")
    for r in rows:
        if "kernels" in r:
            cm = r.get("compile_ms")
            L.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {r['kernels']} | "
                     f"{r['extern_steps']} | {r['extern_ops'] or '—'} | "
                     f"{'—' if cm is None else f'{cm:.1f}'} |")
    L.append("")
    L.append("## Loss check (before timing)\n")
    ref = "torch" if torch_version else "onnxruntime"
    L.append(f"Step 1 on the first batch of the training set from the initial weights, then "
             f"step 2 on the next batch from the updated state; Δ is the absolute difference "
             f"from {ref} (tolerance {LOSS_TOL}). Δparams is the largest absolute difference of "
             "the parameters after step 1 (informative only: aicc's Adam folds the bias "
             "correction into the step size, lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v+ε), torch applies ε "
             "after correcting v, so the two differ where a gradient is near ε in size).\n")
    L.append("| case | engine | loss step 1 | Δ | loss step 2 | Δ | Δparams | result |")
    L.append("|---|---|---:|---:|---:|---:|---:|---|")
    for c in checks:
        if "loss1" in c:
            f = lambda k: f"{c[k]:.2e}" if k in c else "—"  # noqa: E731
            L.append(f"| {c['case']} | {c['engine']} | {c['loss1']:.6f} | {f('d1')} | "
                     f"{c['loss2']:.6f} | {f('d2')} | {f('dp')} | "
                     f"{'FAILED: ' + c['error'] if 'error' in c else 'ok'} |")
        else:
            L.append(f"| {c['case']} | {c['engine']} | — | — | — | — | — | "
                     f"did not run: {c['error']} |")
    L.append("")
    if notes:
        L.append("## Notes\n")
        L += [f"- {n}" for n in notes]
        L.append("")
    L.append("## Machine\n")
    L.append(f"- CPU: {m['cpu']}, {m['nproc']} logical CPUs, AVX-512F "
             f"{'yes' if m['avx512f'] else 'no'}, a KVM guest shared with other work (the "
             "measured ceilings of this machine kind are in /work/shared/MACHINE.md: FP32 "
             "peak ≈ 220 GFLOP/s per core with 512-bit FMA)")
    L.append(f"- aicc build: {os.path.relpath(args.build, ROOT)} (CMAKE_BUILD_TYPE "
             f"{m['build_type']})"
             + ("" if args.exe == os.path.join(args.build, "aicc") else f", binary {args.exe}")
             + "; JIT-compiled kernels use the C compiler $AICC_CC, else cc")
    L.append(f"- load average (1 min) {args.load_start:.2f} at the start of the run, "
             f"{os.getloadavg()[0]:.2f} at the end, on {m['nproc']} CPUs: other processes "
             "share the cores, which hits 2-thread figures hardest")
    L.append(f"- Python {m['python']}, numpy {m['numpy']}, onnxruntime {ort_version}, torch "
             f"{torch_version or 'not installed'}")
    L.append("")
    L.append("## Reproduce\n")
    L.append("```")
    L.append(f"python3 bench/train_step.py --build {os.path.relpath(args.build, ROOT)} "
             f"--batches {args.batches} --threads {args.threads} --rounds {args.rounds} "
             f"--iters {args.iters} --warmup {args.warmup}")
    L.append("```")
    L.append("torch is optional (`pip install torch`); without it the torch column reads "
             "'not installed' and the loss check compares against onnxruntime.")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    sys.exit(main())
