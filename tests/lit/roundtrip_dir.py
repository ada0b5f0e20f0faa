#!/usr/bin/env python3
"""Text round trip over a folder of ONNX models (the generated node tests):
for every model that imports, `aicc show` must print text that parses back
and prints byte for byte the same. Models that do not import (unsupported
ops) are counted, not failed: import is tested elsewhere."""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile


def check(aicc, model, tmp):
    first = subprocess.run([aicc, "show", model], capture_output=True)
    if first.returncode != 0:
        return "skip", first.stderr.decode(errors="replace").strip()
    path = os.path.join(tmp, os.path.basename(os.path.dirname(model)) + ".ir")
    with open(path, "wb") as f:
        f.write(first.stdout)
    second = subprocess.run([aicc, "show", path], capture_output=True)
    if second.returncode != 0:
        return "fail", "re-parse: " + second.stderr.decode(errors="replace").strip()
    if second.stdout != first.stdout:
        return "fail", "re-print differs (see %s)" % path
    return "ok", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aicc", required=True)
    ap.add_argument("--cases", required=True, help="folder of <case>/model.onnx")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    models = sorted(os.path.join(args.cases, d, "model.onnx") for d in os.listdir(args.cases)
                    if os.path.exists(os.path.join(args.cases, d, "model.onnx")))
    if not models:
        print("no models under %s" % args.cases)
        return 1
    counts = {"ok": 0, "skip": 0, "fail": 0}
    # Printed texts stay in `keep` when something fails, for the bug report.
    keep = tempfile.mkdtemp(prefix="aicc-roundtrip-")
    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        for model, (status, why) in zip(models, pool.map(lambda m: check(args.aicc, m, keep), models)):
            counts[status] += 1
            if status == "fail":
                print("FAIL %s: %s" % (model, why))
    if not counts["fail"]:
        shutil.rmtree(keep, ignore_errors=True)
    print("round trip: %(ok)d exact, %(fail)d failed, %(skip)d not imported" % counts)
    return 1 if counts["fail"] or not counts["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
