#!/usr/bin/env python3
"""Writes the digits training example: scikit-learn's bundled 8x8 digits
dataset (1797 images, 10 classes) as NPY, split 80/20 with a fixed seed, and
two untrained ONNX models with random initial weights (He initialisation,
fixed seed): an MLP and a small CNN. Then `aicc train` trains them:

    python3 examples/digits/make_digits.py -o build/digits
    aicc train build/digits/mlp.onnx --data build/digits --epochs 20 -o mlp_trained.onnx
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def dataset(out, seed):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = len(y) // 5
    test, train = order[:n_test], order[n_test:]
    np.save(os.path.join(out, "train_x.npy"), x[train])
    np.save(os.path.join(out, "train_y.npy"), y[train])
    np.save(os.path.join(out, "test_x.npy"), x[test])
    np.save(os.path.join(out, "test_y.npy"), y[test])
    return len(train), n_test


def he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def model(nodes, inits, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])
    g = helper.make_graph(nodes, name, [x], [y],
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="aicc-digits-example")
    onnx.checker.check_model(m, full_check=True)
    return m


def mlp(rng):
    inits = {"w1": he(rng, (64, 64), 64), "b1": np.zeros(64, np.float32),
             "w2": he(rng, (64, 10), 64), "b2": np.zeros(10, np.float32)}
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "w1", "b1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"])]
    return model(nodes, inits, "digits_mlp")


def cnn(rng):
    inits = {"c1": he(rng, (8, 1, 3, 3), 9), "cb1": np.zeros(8, np.float32),
             "c2": he(rng, (16, 8, 3, 3), 72), "cb2": np.zeros(16, np.float32),
             "w": he(rng, (64, 10), 64), "b": np.zeros(10, np.float32)}
    nodes = [helper.make_node("Conv", ["x", "c1", "cb1"], ["a1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "c2", "cb2"], ["a2"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p2"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "w", "b"], ["logits"])]
    return model(nodes, inits, "digits_cnn")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", required=True, help="folder to write into")
    ap.add_argument("--seed", type=int, default=0, help="seed of the split and the weights")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    n_train, n_test = dataset(a.out, a.seed)
    rng = np.random.default_rng(a.seed + 1)
    onnx.save(mlp(rng), os.path.join(a.out, "mlp.onnx"))
    onnx.save(cnn(rng), os.path.join(a.out, "cnn.onnx"))
    print(f"wrote {a.out}: {n_train} training and {n_test} test samples, mlp.onnx, cnn.onnx")


if __name__ == "__main__":
    main()
