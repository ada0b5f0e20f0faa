"""Checks `aicc bench --profile` and `--top` on zoo models.

    profile_test.py AICC WORK_DIR CACHE_DIR MODEL_DIR[:S=N,...] ...

For each model: `aicc compile` writes loops.txt, whose "kernel kI: nodes ..."
and "extern step: node ..." lines are the plan's steps in order, each with
the op types it covers. Then `aicc bench --engine compiled --threads 2
--profile trace.json --top=0` runs it ITERS times, and the trace must be
valid Chrome trace JSON with, per run, exactly one step event per plan step
(named after the plan's kernel and its ops), task events only for
multithreaded kernels (one per task, inside their step, on a pool thread),
and the --top table one row per step with ITERS calls. Bad uses of the
flags are one-line errors."""
import json
import os
import re
import subprocess
import sys

ITERS, WARMUP, THREADS = 3, 1, 2


def plan_steps(loops_txt):
    """[(is_kernel, name, ops)] from aicc compile's loops.txt."""
    steps = []
    node = r"'((?:[^'\\]|\\.)*)' \(([^)]*)\)"
    for line in open(loops_txt, encoding="utf-8", errors="replace"):
        m = re.match(r"kernel (k\d+): nodes (.*)$", line)
        if m:
            steps.append((True, m.group(1), [op for _, op in re.findall(node, m.group(2))]))
            continue
        m = re.match(r"extern step: node " + node, line)
        if m:
            steps.append((False, m.group(1) or m.group(2), [m.group(2)]))
    return steps


def check_model(aicc, work, cache, spec):
    model_dir, _, shapes = spec.partition(":")
    name = os.path.basename(model_dir.rstrip("/"))
    model = os.path.join(model_dir, "model.onnx")
    shape_args = ["--shape", shapes] if shapes else []
    out_dir = os.path.join(work, name + "-compiled")
    subprocess.run([aicc, "compile", model, "-o", out_dir, "--force", "--threads", str(THREADS),
                    "--cache-dir", cache] + shape_args, check=True, capture_output=True)
    steps = plan_steps(os.path.join(out_dir, "loops.txt"))
    stats = json.load(open(os.path.join(out_dir, "stats.json")))
    errors = []
    if len(steps) != stats["kernels"] + stats["extern_steps"] or not steps:
        errors.append("loops.txt lists %d steps, stats.json %d kernels + %d extern steps"
                      % (len(steps), stats["kernels"], stats["extern_steps"]))
        return errors
    trace = os.path.join(work, name + "-trace.json")
    if os.path.exists(trace):
        os.remove(trace)
    r = subprocess.run([aicc, "bench", model, "--engine", "compiled", "--threads", str(THREADS),
                        "--iters", str(ITERS), "--warmup", str(WARMUP), "--cache-dir", cache,
                        "--profile", trace, "--top=0"] + shape_args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        return ["aicc bench failed: " + r.stderr.strip()]
    with open(trace) as f:
        doc = json.load(f)  # must be plain JSON
    events = doc["traceEvents"]
    xs = [e for e in events if e.get("ph") == "X"]
    step_ev = [e for e in xs if e["cat"] in ("kernel", "extern")]
    task_ev = [e for e in xs if e["cat"] == "task"]
    if len(step_ev) != ITERS * len(steps):
        errors.append("%d step events, expected %d runs x %d steps"
                      % (len(step_ev), ITERS, len(steps)))
    by_run = {}
    for e in step_ev:
        for key in ("ts", "dur", "pid", "tid", "name", "args"):
            if key not in e:
                errors.append("step event without '%s': %s" % (key, e))
                return errors
        if e["dur"] < 0 or e["tid"] != 0:
            errors.append("step event with dur < 0 or off thread 0: %s" % e)
        a = e["args"]
        by_run.setdefault(a["run"], []).append(e)
        i = a["step"]
        if not 0 <= i < len(steps):
            errors.append("step index %d out of range" % i)
            continue
        is_kernel, kname, ops = steps[i]
        want_cat = "kernel" if is_kernel else "extern"
        if (e["cat"], a["kernel"], a["ops"]) != (want_cat, kname, "+".join(ops)):
            errors.append("run %d step %d: event %s %s [%s], plan has %s %s [%s]"
                          % (a["run"], i, e["cat"], a["kernel"], a["ops"], want_cat, kname,
                             "+".join(ops)))
        if not e["name"].startswith(kname + " " + "+".join(ops)):
            errors.append("step %d: event name '%s'" % (i, e["name"]))
    if sorted(by_run) != list(range(ITERS)):
        errors.append("runs in the trace: %s, expected 0..%d" % (sorted(by_run), ITERS - 1))
    for run, evs in by_run.items():
        idx = [e["args"]["step"] for e in evs]
        if idx != list(range(len(steps))):
            errors.append("run %d: steps %s, expected each of 0..%d once, in order"
                          % (run, idx[:20], len(steps) - 1))
        # Steps follow each other on the calling thread.
        for a, b in zip(evs, evs[1:]):
            if b["ts"] + 1e-3 < a["ts"] + a["dur"]:
                errors.append("run %d: step %d starts before step %d ends"
                              % (run, b["args"]["step"], a["args"]["step"]))
    # Task events: one per task of each multithreaded kernel, inside it.
    steps_at = {(e["args"]["run"], e["args"]["step"]): e for e in step_ev}
    tasks = {}
    for e in task_ev:
        a = e["args"]
        s = steps_at.get((a["run"], a["step"]))
        if s is None or s["args"]["tasks"] < 2:
            errors.append("task event of a step that ran on one task: %s" % e)
            continue
        tasks.setdefault((a["run"], a["step"]), []).append(a["task"])
        if not 0 <= e["tid"] < THREADS or e["tid"] != a["thread"]:
            errors.append("task event on thread %s: %s" % (e["tid"], e))
        if e["ts"] + 1e-3 < s["ts"] or e["ts"] + e["dur"] > s["ts"] + s["dur"] + 1e-3:
            errors.append("task event outside its step: %s (step %s)" % (e, s))
    n_par = 0
    for key, s in steps_at.items():
        if s["args"]["tasks"] > 1:
            n_par += 1
            if sorted(tasks.get(key, [])) != list(range(s["args"]["tasks"])):
                errors.append("run %d step %d: tasks %s, expected 0..%d"
                              % (key[0], key[1], tasks.get(key), s["args"]["tasks"] - 1))
    # --top=0: a header, one row per step (ITERS calls each), a summary line.
    rows = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 8 and (re.fullmatch(r"k\d+", f[0]) or f[0].startswith("extern:")):
            rows[f[0]] = int(f[-6])
    want_rows = {(n if k else "extern:" + n) for k, n, _ in steps}
    if set(rows) != want_rows or any(c != ITERS for c in rows.values()):
        errors.append("--top rows %s, expected one per step with %d calls" % (rows, ITERS))
    print("%s: %d steps x %d runs, %d multithreaded step calls: %s"
          % (name, len(steps), ITERS, n_par, "FAIL" if errors else "ok"))
    return errors


def check_errors(aicc, work, cache, spec):
    """Bad flags and an unwritable trace: a nonzero exit, one line naming
    the cause, and no trace file."""
    model_dir, _, shapes = spec.partition(":")
    model = os.path.join(model_dir, "model.onnx")
    shape_args = ["--shape", shapes] if shapes else []
    bad_dir = os.path.join(work, "no-such-dir")
    cases = [
        (["--top=x"], "--top=N"),
        (["--top="], "--top=N"),
        (["--profile"], "--profile needs a file"),
        (["--engine", "interp", "--profile", os.path.join(work, "t.json")], "--engine compiled"),
        (["--profile", os.path.join(bad_dir, "t.json")], bad_dir),
    ]
    errors = []
    for args, want in cases:
        engine = [] if "--engine" in args else ["--engine", "compiled"]
        r = subprocess.run([aicc, "bench", model, "--iters", "1", "--warmup", "0",
                            "--cache-dir", cache] + engine + shape_args + args,
                           capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        if r.returncode == 0 or not lines or want not in lines[-1]:
            errors.append("bench %s: exit %d, stderr %r (expected an error naming %r)"
                          % (" ".join(args), r.returncode, r.stderr, want))
    if os.path.exists(bad_dir):
        errors.append("%s was created" % bad_dir)
    print("flag errors: %s" % ("FAIL" if errors else "ok"))
    return errors


def main():
    aicc, work, cache = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    failed = False
    errs = check_errors(aicc, work, cache, sys.argv[4])
    for e in errs:
        print("  " + e)
    failed = bool(errs)
    for spec in sys.argv[4:]:
        errs = check_model(aicc, work, cache, spec)
        for e in errs[:20]:
            print("  " + e)
        failed = failed or bool(errs)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
