#!/usr/bin/env python3
"""Zoo check for the graph passes: optimise one zoo model with `aicc opt -O3`
into a copy of its case folder, print the node counts before and after, then
run `aicc test` on the copy with the zoo tolerances. Exits 77 (skipped) when
this build's aicc has no `opt` command yet."""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


def has_opt(aicc):
    """True when `aicc opt` exists (its --help succeeds)."""
    try:
        r = subprocess.run([aicc, "opt", "--help"], capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return r.returncode == 0 and "opt" in (r.stdout + r.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--aicc", required=True)
    ap.add_argument("--case", required=True, help="zoo case folder (model.onnx + test_data_set_*)")
    ap.add_argument("--work", required=True, help="folder for the optimised copy (recreated)")
    ap.add_argument("--level", default="-O3")
    ap.add_argument("--rtol", default="1e-3")
    ap.add_argument("--atol", default="1e-4")
    args = ap.parse_args()

    name = os.path.basename(os.path.normpath(args.case))
    src = os.path.join(args.case, "model.onnx")
    if not os.path.exists(src):
        print(f"{name}: no {src} (is the model zoo built? `ninja model_zoo`)")
        return 1
    if not has_opt(args.aicc):
        print(f"SKIP {name}: this aicc has no `opt` command yet (tools/aicc/cmd_opt.c)")
        return SKIP

    # A fresh copy of the case folder: test data sets, not the model.
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    for d in sorted(glob.glob(os.path.join(args.case, "test_data_set_*"))):
        shutil.copytree(d, os.path.join(args.work, os.path.basename(d)))
    # Text IR: -O3's layout pass uses aicc-internal ops, which ONNX cannot carry.
    dst = os.path.join(args.work, "model.O3.ir")

    cmd = [args.aicc, "opt", src, args.level, "-o", dst, "--stats"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if r.returncode != 0 or not os.path.exists(dst):
        print(f"FAIL {name}: `{' '.join(cmd)}` exited {r.returncode}")
        return 1

    # --stats ends with "nodes: B -> A" on stderr.
    m = re.search(r"nodes: (\d+) -> (\d+)", r.stderr)
    if m:
        before, after = int(m.group(1)), int(m.group(2))
        print(f"{name}: nodes {before} -> {after} ({after - before:+d})")

    cmd = [args.aicc, "test", args.work, "--model", dst, "--engine", "interp",
           "--rtol", args.rtol, "--atol", args.atol]
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        print(f"FAIL {name}: optimised model does not match the reference outputs")
        return 1
    print(f"PASS {name} ({args.level})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
