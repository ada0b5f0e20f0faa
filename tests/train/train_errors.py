#!/usr/bin/env python3
"""Bad input to `aicc train`: crafted models, data and flags. Each case must
exit non-zero (an error status, not a signal), print exactly one line on
stderr that names what is wrong (the words each case lists), and leave no
trained model behind (the -o path must not exist). A good case runs first
so a broken setup cannot pass as a string of refusals.

usage: train_errors.py --aicc AICC --work DIR"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

N, D, C = 16, 5, 3


def save_model(path, nodes, inits, out_type, out_shape, opset=17, extra_out=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    outs = [helper.make_tensor_value_info("y", out_type, out_shape)]
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     ["N", D])],
                          outs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), path)


def make_models(work, rng):
    from onnx import TensorProto, helper
    f32 = TensorProto.FLOAT
    w = (rng.standard_normal((D, C)) * 0.3).astype(np.float32)
    b = np.zeros(C, np.float32)
    w1 = (rng.standard_normal((D, D)) * 0.3).astype(np.float32)
    mk = helper.make_node
    models = {}

    def add(name, nodes, inits, out_type=f32, out_shape=("N", C)):
        p = os.path.join(work, name + ".onnx")
        save_model(p, nodes, inits, out_type, list(out_shape))
        models[name] = p

    add("good", [mk("Gemm", ["x", "w", "b"], ["y"], name="fc")], {"w": w, "b": b})
    # The output is int64: class indices, not scores.
    add("int_output", [mk("Gemm", ["x", "w", "b"], ["s"], name="fc"),
                       mk("ArgMax", ["s"], ["y"], name="pick", axis=1, keepdims=0)],
        {"w": w, "b": b}, TensorProto.INT64, ("N",))
    # w1 reaches the logits only through ArgMax's int64 indices.
    add("argmax_path", [mk("Gemm", ["x", "w1"], ["h"], name="fc1"),
                        mk("ArgMax", ["h"], ["am"], name="pick", axis=1, keepdims=1),
                        mk("Cast", ["am"], ["amf"], name="to_float", to=f32),
                        mk("Mul", ["x", "amf"], ["xs"], name="scale"),
                        mk("Gemm", ["xs", "w", "b"], ["y"], name="fc2")],
        {"w1": w1, "w": w, "b": b})
    # Floor and Sin have no gradient rule.
    add("floor_path", [mk("Gemm", ["x", "w", "b"], ["s"], name="fc"),
                       mk("Floor", ["s"], ["y"], name="round_down")], {"w": w, "b": b})
    add("sin_path", [mk("Gemm", ["x", "w", "b"], ["s"], name="fc"),
                     mk("Sin", ["s"], ["y"], name="wave")], {"w": w, "b": b})
    # Nothing to train: no initializer at all, or only an int64 one.
    add("no_params", [mk("Slice", ["x", "st", "en", "ax"], ["y"], name="first_cols")],
        {"st": np.array([0], np.int64), "en": np.array([C], np.int64),
         "ax": np.array([1], np.int64)})
    # Cross-entropy wants [batch, classes] scores.
    add("rank1_output", [mk("Gemm", ["x", "w", "b"], ["s"], name="fc"),
                         mk("ReduceSum", ["s", "one"], ["y"], name="sum", keepdims=0)],
        {"w": w, "b": b, "one": np.array([1], np.int64)}, f32, ("N",))
    p = os.path.join(work, "not_onnx.onnx")
    with open(p, "wb") as f:
        f.write(b"this is not a protobuf\xff\xff\xff")
    models["not_onnx"] = p
    return models


def make_data(work, name, x, y, test=None):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    if x is not None:
        np.save(os.path.join(d, "train_x.npy"), x)
    if y is not None:
        np.save(os.path.join(d, "train_y.npy"), y)
    if test is not None:
        np.save(os.path.join(d, "test_x.npy"), test[0])
        np.save(os.path.join(d, "test_y.npy"), test[1])
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aicc", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    rng = np.random.default_rng(5)
    m = make_models(a.work, rng)
    x = rng.standard_normal((N, D)).astype(np.float32)
    y = rng.integers(0, C, N).astype(np.int64)
    data = {
        "good": make_data(a.work, "d_good", x, y),
        "labels_2d": make_data(a.work, "d_labels_2d", x, y.reshape(N, 1)),
        "labels_float": make_data(a.work, "d_labels_float", x, y.astype(np.float32)),
        "labels_count": make_data(a.work, "d_labels_count", x, y[:N - 3]),
        "label_big": make_data(a.work, "d_label_big", x, np.where(np.arange(N) == 6, C, y)),
        "label_neg": make_data(a.work, "d_label_neg", x, np.where(np.arange(N) == 2, -1, y)),
        "test_label_big": make_data(a.work, "d_test_label_big", x, y,
                                    (x[:4], np.array([0, 1, 7, 2], np.int64))),
        "samples_shape": make_data(a.work, "d_samples_shape", x[:, :D - 1], y),
        "samples_int": make_data(a.work, "d_samples_int", x.astype(np.int32), y),
        "mse_shape": make_data(a.work, "d_mse_shape", x, np.zeros((N, C + 2), np.float32)),
        "no_labels": make_data(a.work, "d_no_labels", x, None),
        "empty": make_data(a.work, "d_empty", None, None),
        "few": make_data(a.work, "d_few", x[:3], y[:3]),
    }
    with open(os.path.join(data["empty"], "train_x.npy"), "wb") as f:
        f.write(b"\x93NUMPY garbage")
    missing = os.path.join(a.work, "no_such_dir")
    out = os.path.join(a.work, "trained.onnx")
    fast = ["--epochs", "2", "--batch", "4", "--quiet"]

    # name: (model, data dir, extra flags, words the one stderr line must hold)
    cases = {
        "int output": (m["int_output"], data["good"], [],
                       ["int_output.onnx", "'y'", "not a float tensor"]),
        "labels 2-D for cross_entropy": (m["good"], data["labels_2d"], [],
                                         ["d_labels_2d", "labels", "rank 2"]),
        "float labels for cross_entropy": (m["good"], data["labels_float"], [],
                                           ["d_labels_float", "labels", "integer"]),
        "labels count != samples": (m["good"], data["labels_count"], [],
                                    ["d_labels_count", "13", "16"]),
        "label above the class range": (m["good"], data["label_big"], [],
                                        ["d_label_big", "label 3", "sample 6", "0..2"]),
        "negative label": (m["good"], data["label_neg"], [],
                           ["d_label_neg", "label -1", "sample 2"]),
        "test label out of range": (m["good"], data["test_label_big"], [],
                                    ["d_test_label_big", "label 7", "sample 2"]),
        "samples of the wrong width": (m["good"], data["samples_shape"], [],
                                       ["d_samples_shape", "'x'", "dim 1"]),
        "int samples": (m["good"], data["samples_int"], [], ["d_samples_int", "'x'", "i32"]),
        "mse labels of the wrong shape": (m["good"], data["mse_shape"], ["--loss", "mse"],
                                          ["d_mse_shape", "labels", "dim 1"]),
        "rank-1 output for cross_entropy": (m["rank1_output"], data["good"], [],
                                            ["rank1_output.onnx", "'y'", "rank 1"]),
        "ArgMax on the path": (m["argmax_path"], data["good"], [],
                               ["argmax_path.onnx", "'pick'", "ArgMax", "'w1'", "gradient"]),
        "Floor on the path": (m["floor_path"], data["good"], [],
                              ["floor_path.onnx", "'round_down'", "Floor", "gradient"]),
        "Sin on the path": (m["sin_path"], data["good"], [],
                            ["sin_path.onnx", "'wave'", "Sin", "gradient"]),
        "Sin on the path, onnx-adam": (m["sin_path"], data["good"], ["--optimizer", "onnx-adam"],
                                       ["sin_path.onnx", "'wave'", "Sin", "gradient"]),
        "no float initializer": (m["no_params"], data["good"], [],
                                 ["no_params.onnx", "no float initializer"]),
        "model is not ONNX": (m["not_onnx"], data["good"], [], ["not_onnx.onnx"]),
        "model file missing": (os.path.join(a.work, "nope.onnx"), data["good"], [],
                               ["nope.onnx"]),
        "data dir missing": (m["good"], missing, [], ["no_such_dir"]),
        "train_y.npy missing": (m["good"], data["no_labels"], [], ["train_y.npy"]),
        "train_x.npy corrupt": (m["good"], data["empty"], [], ["train_x.npy"]),
        "fewer samples than a batch": (m["good"], data["few"], ["--batch", "8"],
                                       ["d_few", "3", "8"]),
        "--lr -1": (m["good"], data["good"], ["--lr", "-1"], ["--lr", "-1"]),
        "--lr 0": (m["good"], data["good"], ["--lr", "0"], ["--lr", "> 0"]),
        "--lr nan": (m["good"], data["good"], ["--lr", "nan"], ["--lr", "nan"]),
        "--momentum 1.5": (m["good"], data["good"], ["--momentum", "1.5"], ["--momentum"]),
        "--epochs 0": (m["good"], data["good"], ["--epochs", "0"], ["--epochs"]),
        "--batch 2.5": (m["good"], data["good"], ["--batch", "2.5"], ["--batch", "integer"]),
        "unknown optimizer": (m["good"], data["good"], ["--optimizer", "lbfgs"],
                              ["lbfgs", "onnx-adam"]),
        "unknown loss": (m["good"], data["good"], ["--loss", "hinge"], ["hinge"]),
        "unknown engine": (m["good"], data["good"], ["--engine", "gpu"], ["gpu"]),
        "unknown flag": (m["good"], data["good"], ["--learning-rate", "1"], ["--learning-rate"]),
        "flag without value": (m["good"], data["good"], ["--lr"], ["--lr"]),
        "unknown --output": (m["good"], data["good"], ["--output", "probs"], ["'probs'"]),
    }

    def run(model, d, flags, with_out=True):
        cmd = [a.aicc, "train", model, "--data", d, *fast, *flags]
        if with_out:
            cmd += ["-o", out]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    failed = 0
    r = run(m["good"], data["good"], ["--optimizer", "onnx-momentum", "--lr", "0.05"])
    ok = r.returncode == 0 and os.path.exists(out)
    print(f"good model and data: exit {r.returncode}, model written: "
          f"{'yes' if os.path.exists(out) else 'no'} ({'ok' if ok else 'FAILED'})")
    failed += not ok
    if os.path.exists(out):
        os.remove(out)
    for name, (model, d, flags, words) in cases.items():
        r = run(model, d, flags)
        lines = r.stderr.splitlines()
        problems = []
        if r.returncode == 0:
            problems.append("exit 0")
        elif r.returncode < 0 or r.returncode >= 128:
            problems.append(f"killed by a signal / crashed (exit {r.returncode})")
        if len(lines) != 1:
            problems.append(f"{len(lines)} stderr lines")
        missing_words = [w for w in words if not lines or w not in lines[0]]
        if missing_words:
            problems.append("message lacks " + ", ".join(repr(w) for w in missing_words))
        if os.path.exists(out):
            problems.append("wrote " + out)
            os.remove(out)
        msg = lines[0] if lines else "(no stderr)"
        print(f"{name}: exit {r.returncode}: {msg}")
        if problems:
            print("  FAILED: " + "; ".join(problems))
            if len(lines) > 1:
                print("  stderr:\n    " + "\n    ".join(lines[:10]))
            failed += 1
    # -o missing altogether.
    r = run(m["good"], data["good"], [], with_out=False)
    ok = r.returncode not in (0,) and 0 < r.returncode < 128 and len(r.stderr.splitlines()) == 1
    print(f"no -o: exit {r.returncode}: {r.stderr.strip()}{'' if ok else '  FAILED'}")
    failed += not ok
    total = len(cases) + 2
    print(f"train errors: {total - failed}/{total} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
