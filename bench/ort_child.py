#!/usr/bin/env python3
"""onnxruntime on one model in a process of its own, so that bench/run.py can
read this process's peak RSS from wait4 (its `rss` part). It must not import
anything the measured run does not need (no onnx, no matplotlib): the figure is
meant to be what a deployment of python + onnxruntime costs.

  ort_child.py MODEL THREADS ITERS WARMUP INPUT.npy...   prints {"median_ms": ...}
  ort_child.py --baseline                                imports numpy and
                                                         onnxruntime, runs nothing
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main(argv):
    if argv[1:] == ["--baseline"]:
        print(json.dumps({"baseline": True, "ort_version": ort.__version__}))
        return 0
    model, threads, iters, warmup = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(f) for i, f in zip(sess.get_inputs(), argv[5:])}
    for _ in range(warmup):
        sess.run(None, feeds)
    ts = []
    for _ in range(iters):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ts.append(time.perf_counter() - t0)
    ts.sort()
    print(json.dumps({"median_ms": ts[len(ts) // 2] * 1e3, "iters": iters}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
