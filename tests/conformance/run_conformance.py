#!/usr/bin/env python3
"""Runs `aicc test CASE --engine ENGINE` on every ONNX node test case and checks
the results against the expected-failure list of that engine (xfail.txt for
interp, xfail_compiled.txt for compiled).

The run fails when a case not in the list fails, when a listed case passes
("listed case now passes — remove it from xfail.txt": the list never goes
stale), or when the list names a case that does not exist. The last line printed
is always `N passed, M failed, K expected failures`.

xfail.txt: one case name per line, optional reason after whitespace, `#` starts
a comment. `--update-xfail` rewrites it from the current failures (cases
already listed keep their reason; new ones get the first line of the error).

With --engine compiled, `aicc test` ends with a line
`compiled: K kernels, E extern steps (ops)`; the run totals them: cases fully
compiled (no extern step), cases with extern steps, and the extern ops met in
most cases. --threads and --cache-dir are passed on to `aicc test`."""
import argparse
import collections
import concurrent.futures as cf
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
XFAIL_HEADER = """\
# Expected failures of the ONNX node conformance run (tests/conformance/run_conformance.py){engine_note}.
# One case per line, the reason after whitespace; `#` starts a comment.
# A listed case that passes fails the run: remove it from this list.
# Regenerate: python3 tests/conformance/run_conformance.py --update-xfail --aicc build/aicc --cases build/onnx-node{engine_arg}
"""
XFAIL_FILES = {"interp": "xfail.txt", "compiled": "xfail_compiled.txt"}
COMPILED_RE = re.compile(r"^compiled: (\d+) kernels, (\d+) extern steps(?: \((.*)\))?\s*$", re.M)


def read_xfail(path):
    """Returns {case: reason} in file order, and the lines that are not cases."""
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            entries[parts[0]] = parts[1] if len(parts) > 1 else ""
    return entries


def write_xfail(path, entries, engine):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(XFAIL_HEADER.format(
            engine_note="" if engine == "interp" else f", engine {engine}",
            engine_arg="" if engine == "interp" else f" --engine {engine}"))
        for name in sorted(entries):
            reason = entries[name].replace("#", "")[:160].strip()
            f.write(f"{name} {reason}\n" if reason else f"{name}\n")
    os.replace(tmp, path)


def list_cases(cases_dir):
    return sorted(d for d in os.listdir(cases_dir)
                  if os.path.isfile(os.path.join(cases_dir, d, "model.onnx")))


def _squash(s):
    return s.lower().replace("_", "")


def op_keys(cases_dir, cases):
    """Maps each case to the operator it tests: the single node's op type, or,
    for multi-node graphs (function expansions, composite cases), the op whose
    name the case name starts with."""
    try:
        import onnx
        import onnx.defs
    except ImportError:
        return {c: "?" for c in cases}
    names = sorted({s.name for s in onnx.defs.get_all_schemas_with_history()},
                   key=lambda n: -len(n))
    out = {}
    for c in cases:
        try:
            m = onnx.load(os.path.join(cases_dir, c, "model.onnx"), load_external_data=False)
            nodes = list(m.graph.node)
        except Exception:
            out[c] = "?"
            continue
        if len(nodes) == 1:
            n = nodes[0]
            dom = n.domain if n.domain not in ("", "ai.onnx") else ""
            out[c] = f"{dom}.{n.op_type}" if dom else n.op_type
            continue
        base = _squash(re.sub(r"^test_", "", c))
        key = next((n for n in names if base.startswith(_squash(n))), None)
        if key is None:
            key = nodes[0].op_type if nodes else "?"
        out[c] = key + (" (expanded)" if c.endswith("_expanded") or "_expanded_" in c else "")
    return out


def first_error_line(proc_out, proc_err):
    """The most telling line of a failing run: the first error-looking line of
    stderr, else the first FAIL line of stdout, else the first non-empty line."""
    lines = [l.strip() for l in (proc_err or "").splitlines() if l.strip()]
    for l in lines:
        if re.search(r"error|fail|unsupported|not implemented|mismatch", l, re.I):
            return l
    out = [l.strip() for l in (proc_out or "").splitlines() if l.strip()]
    for l in out:
        if re.search(r"\bFAIL|error", l):
            return l
    return (lines or out or ["(no output)"])[0]


def compiled_stats(out):
    """(kernels, extern steps, [extern ops]) from `aicc test`'s last line, or None."""
    m = COMPILED_RE.search(out or "")
    if not m:
        return None
    ops = [o.strip() for o in (m.group(3) or "").split(",") if o.strip()]
    return int(m.group(1)), int(m.group(2)), ops


def run_case(aicc, engine, case_dir, timeout, extra):
    """(passed, reason, seconds, compiled stats or None)."""
    cmd = [aicc, "test", case_dir, "--engine", engine] + extra
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return False, f"timeout after {timeout:g} s", time.monotonic() - t0, None
    except OSError as e:
        return False, f"cannot run {aicc}: {e}", time.monotonic() - t0, None
    dt = time.monotonic() - t0
    stats = compiled_stats(p.stdout)
    if p.returncode == 0:
        return True, "", dt, stats
    # Short reasons for xfail.txt: drop the program name and the case path.
    reason = first_error_line(p.stdout, p.stderr).replace(case_dir + "/", "")
    reason = re.sub(r"^aicc:\s*", "", reason)
    if p.returncode < 0:
        try:
            sig = signal.Signals(-p.returncode).name
        except ValueError:
            sig = f"signal {-p.returncode}"
        reason = f"crashed ({sig}): {reason}"
    return False, reason, dt, stats


def compiled_summary(results):
    """Totals of the `compiled:` lines over the cases run."""
    full = [c for c, r in results.items() if r[3] and r[3][1] == 0]
    ext = [c for c, r in results.items() if r[3] and r[3][1] > 0]
    none = [c for c, r in results.items() if not r[3]]
    ops = collections.Counter(o for r in results.values() if r[3] for o in set(r[3][2]))
    return {"fully_compiled": len(full), "with_extern_steps": len(ext),
            "no_compiled_line": len(none),
            "kernels": sum(r[3][0] for r in results.values() if r[3]),
            "extern_steps": sum(r[3][1] for r in results.values() if r[3]),
            "extern_ops_by_cases": dict(ops.most_common())}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aicc", default=os.environ.get("AICC", "build/aicc"),
                    help="path of the aicc binary (default: build/aicc or $AICC)")
    ap.add_argument("--cases", default="build/onnx-node",
                    help="folder of node test cases (default: build/onnx-node)")
    ap.add_argument("--engine", default="interp", help="engine passed to `aicc test` (default: interp)")
    ap.add_argument("--xfail", default=None,
                    help="expected-failure list (default: tests/conformance/xfail.txt, "
                         "xfail_compiled.txt for --engine compiled)")
    ap.add_argument("--threads", type=int, help="worker threads (compiled engine; passed on)")
    ap.add_argument("--cache-dir", help="JIT cache folder (compiled engine; passed on)")
    ap.add_argument("-k", dest="pattern", help="only cases whose name contains / matches this regex")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="cases run at once (default: 2)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per case (default: 60)")
    ap.add_argument("--update-xfail", action="store_true",
                    help="rewrite the xfail list from the current failures and exit 0")
    ap.add_argument("--json", metavar="OUT", help="write a summary with per-op counts")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failing case, not one per op")
    ap.add_argument("aicc_args", nargs="*", help="extra args for `aicc test` (after --)")
    args = ap.parse_args()
    if args.xfail is None:
        args.xfail = os.path.join(HERE, XFAIL_FILES.get(args.engine, f"xfail_{args.engine}.txt"))
    xname = os.path.basename(args.xfail)
    extra = list(args.aicc_args)
    if args.threads:
        extra += ["--threads", str(args.threads)]
    if args.cache_dir:
        extra += ["--cache-dir", args.cache_dir]

    if not os.path.isdir(args.cases):
        print(f"error: no cases folder {args.cases}", file=sys.stderr)
        print("0 passed, 1 failed, 0 expected failures")
        return 2
    if not os.access(args.aicc, os.X_OK):
        print(f"error: no aicc binary at {args.aicc}", file=sys.stderr)
        print("0 passed, 1 failed, 0 expected failures")
        return 2
    all_cases = list_cases(args.cases)
    cases = all_cases
    if args.pattern:
        rx = re.compile(args.pattern)
        cases = [c for c in all_cases if rx.search(c)]
    xfail = read_xfail(args.xfail)
    ops = op_keys(args.cases, cases)

    t0 = time.monotonic()
    results = {}
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_case, args.aicc, args.engine, os.path.join(args.cases, c),
                            args.timeout, extra): c for c in cases}
        for f in cf.as_completed(futs):
            results[futs[f]] = f.result()
    wall = time.monotonic() - t0

    if args.update_xfail:
        new = {n: r for n, r in xfail.items() if n in all_cases and n not in results}
        # A case already listed keeps its (possibly hand-written) reason.
        new.update({c: xfail.get(c) or r[1] for c, r in results.items() if not r[0]})
        write_xfail(args.xfail, new, args.engine)
        nfail = sum(1 for r in results.values() if not r[0])
        print(f"wrote {len(new)} entries to {args.xfail} ({nfail} failing of {len(cases)} run)")
        print(f"{len(cases) - nfail} passed, 0 failed, {nfail} expected failures")
        return 0

    unexpected = sorted(c for c, r in results.items() if not r[0] and c not in xfail)
    expected = sorted(c for c, r in results.items() if not r[0] and c in xfail)
    xpassed = sorted(c for c, r in results.items() if r[0] and c in xfail)
    missing = sorted(c for c in xfail if c not in set(all_cases))
    passed = sum(1 for r in results.values() if r[0])

    per_op = {}
    for c, (ok, reason, dt, _) in results.items():
        d = per_op.setdefault(ops.get(c, "?"), {"passed": 0, "failed": 0, "xfail": 0, "xpass": 0,
                                               "failures": []})
        if ok:
            d["passed"] += 1
            if c in xfail:
                d["xpass"] += 1
        elif c in xfail:
            d["xfail"] += 1
        else:
            d["failed"] += 1
            d["failures"].append(c)

    if unexpected:
        print(f"unexpected failures by op ({len(unexpected)} cases):")
        bad = sorted(((k, v) for k, v in per_op.items() if v["failed"]),
                     key=lambda kv: (-kv[1]["failed"], kv[0]))
        for op, d in bad:
            total = d["passed"] + d["failed"] + d["xfail"]
            first = sorted(d["failures"])[0]
            print(f"  {op}: {d['failed']} of {total} failed, e.g. {first}: {results[first][1][:160]}")
            if args.verbose:
                for c in sorted(d["failures"])[1:]:
                    print(f"    {c}: {results[c][1][:200]}")
    if xpassed:
        print(f"listed case now passes — remove it from {xname} ({len(xpassed)}):")
        for c in xpassed:
            print(f"  {c}")
    if missing:
        print(f"{xname} lists cases that do not exist ({len(missing)}):")
        for c in missing:
            print(f"  {c}")
    slow = sorted(results.items(), key=lambda kv: -kv[1][2])[:3]
    print(f"ran {len(cases)} cases in {wall:.1f} s with {args.jobs} jobs (engine {args.engine}); "
          "slowest: " + ", ".join(f"{c} {r[2]:.1f} s" for c, r in slow))

    comp = compiled_summary(results) if args.engine == "compiled" else None
    if comp:
        top = ", ".join(f"{o} {n}" for o, n in list(comp["extern_ops_by_cases"].items())[:12])
        print(f"compiled: {comp['fully_compiled']} cases fully compiled (0 extern steps), "
              f"{comp['with_extern_steps']} with extern steps, {comp['no_compiled_line']} "
              f"without a compiled line (compile failed or crashed)")
        if top:
            print(f"compiled: most common extern ops (cases): {top}")

    if args.json:
        summary = {
            "engine": args.engine, "cases": len(cases), "passed": passed,
            "failed": len(unexpected), "expected_failures": len(expected),
            "unexpected_passes": xpassed, "missing_xfail_cases": missing,
            "wall_s": round(wall, 2), "compiled": comp,
            "per_op": {k: {kk: vv for kk, vv in v.items() if kk != "failures"}
                       for k, v in sorted(per_op.items())},
            "results": {c: {"op": ops.get(c, "?"), "ok": r[0], "reason": r[1],
                            "xfail": c in xfail, "seconds": round(r[2], 3),
                            **({"compiled": list(r[3])} if r[3] else {})}
                        for c, r in sorted(results.items())},
        }
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)

    print(f"{passed} passed, {len(unexpected)} failed, {len(expected)} expected failures")
    return 1 if (unexpected or xpassed or missing) else 0


if __name__ == "__main__":
    sys.exit(main())
