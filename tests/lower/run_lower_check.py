#!/usr/bin/env python3
"""Runs lower_check over every ONNX node case, unscheduled and with the
default schedule, and prints the per-op totals. Exit status 1 when any lowered
node does not match its reference kernel."""
import collections
import os
import subprocess
import sys


def main():
    tool, cases_dir = sys.argv[1], sys.argv[2]
    cases = sorted(os.path.join(cases_dir, c) for c in os.listdir(cases_dir)
                   if os.path.isfile(os.path.join(cases_dir, c, "model.onnx")))
    failed = False
    for mode in ("none", "default"):
        per_op = collections.defaultdict(collections.Counter)
        fails = []
        for i in range(0, len(cases), 200):
            r = subprocess.run([tool, "--schedule", mode] + cases[i:i + 200],
                               capture_output=True, text=True)
            if r.returncode not in (0, 1):
                print(r.stdout[-2000:], r.stderr[-2000:])
                print(f"lower_check crashed (exit {r.returncode})")
                return 1
            for line in r.stdout.splitlines():
                parts = line.split(" ", 4)
                if parts[0] in ("ok", "unsupported", "FAIL") and len(parts) >= 4:
                    op = parts[3].rstrip(":")
                    per_op[op][parts[0]] += 1
                    if parts[0] == "FAIL":
                        fails.append(line)
        tot = collections.Counter()
        for c in per_op.values():
            tot.update(c)
        print(f"schedule {mode}: {tot['ok']} nodes ok, {tot['unsupported']} unsupported, "
              f"{tot['FAIL']} failed, over {len(per_op)} ops")
        for line in fails[:50]:
            print("  " + line)
        failed |= bool(fails)
    print("lower_check: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
