#!/usr/bin/env python3
"""Builds a small model zoo with random (seeded) weights using onnx.helper only,
in the backend-test layout: OUT/<name>/model.onnx + test_data_set_0/{input,output}_K.pb.
Reference outputs come from onnxruntime with graph optimizations disabled
(ORT_DISABLE_ALL, one thread), so they are a faithful, deterministic reference.

Models keep the structure of the real architectures (and the node patterns the
PyTorch exporter writes) at sizes that run quickly in a reference interpreter:
  resnet       residual blocks, BatchNormalization, ReLU, MaxPool, GlobalAveragePool,
               Gemm; symbolic batch dim "N" (data set uses batch 3)
  mobilenetv2  224x224, 17 inverted-residual bottlenecks, depthwise 3x3, ReLU6 as Clip
  squeezenet   v1.1 fire modules (Concat), ceil-mode MaxPool, Dropout (inference)
  bert         2-layer encoder: Gather embeddings, LayerNormalization, additive
               attention mask from an int mask input, Softmax, GELU via Erf; saved
               with external data (weights.bin)
  gpt2         2-layer decoder: causal mask from Trilu + Where, GELU tanh pattern
  lstm         Gather embedding -> LSTM -> last step -> Gemm
"""
import argparse
import math
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
F32 = TensorProto.FLOAT
I64 = TensorProto.INT64


class Builder:
    """Accumulates nodes and initializers; names are generated, weights drawn
    from one seeded generator so a model is a pure function of its seed."""

    def __init__(self, seed, const_nodes=False):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0
        # Shapes and axes as Constant nodes (as the PyTorch exporter writes
        # them) rather than initializers: with external data, onnxruntime's
        # shape inference cannot read externally stored shape tensors.
        self.const_nodes = const_nodes

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, arr, base="c"):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def i64(self, vals, base="shape"):
        arr = np.asarray(vals, dtype=np.int64)
        if self.const_nodes:
            return self.op("Constant", [], base=base, value=numpy_helper.from_array(arr))
        return self.const(arr, base)

    def f32(self, val, base="k"):
        return self.const(np.asarray(val, dtype=np.float32), base)

    def randn(self, shape, std, base="w"):
        return self.const((self.rng.standard_normal(shape) * std).astype(np.float32), base)

    def uniform(self, shape, bound, base="w"):
        return self.const(self.rng.uniform(-bound, bound, shape).astype(np.float32), base)

    def op(self, op_type, inputs, n_out=1, base=None, **attrs):
        outs = [self.name(base or op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    # --- layers ---
    def conv(self, x, cin, cout, k, stride=1, pad=0, group=1, bias=True):
        fan_in = cin // group * k * k
        w = self.randn([cout, cin // group, k, k], math.sqrt(2.0 / fan_in), "conv_w")
        ins = [x, w] + ([self.randn([cout], 0.05, "conv_b")] if bias else [])
        return self.op("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[pad] * 4, group=group, dilations=[1, 1])

    def bn(self, x, c):
        r = self.rng
        scale = self.const(r.uniform(0.5, 1.5, c).astype(np.float32), "bn_scale")
        b = self.const((r.standard_normal(c) * 0.1).astype(np.float32), "bn_bias")
        mean = self.const((r.standard_normal(c) * 0.1).astype(np.float32), "bn_mean")
        var = self.const(r.uniform(0.5, 1.5, c).astype(np.float32), "bn_var")
        return self.op("BatchNormalization", [x, scale, b, mean, var], epsilon=1e-5, momentum=0.9)

    def gemm(self, x, cin, cout):
        w = self.randn([cout, cin], 1.0 / math.sqrt(cin), "fc_w")
        b = self.randn([cout], 0.05, "fc_b")
        return self.op("Gemm", [x, w, b], alpha=1.0, beta=1.0, transB=1)

    def linear(self, x, cin, cout, std=0.02):
        """MatMul + Add, as the exporter writes nn.Linear on 3-D inputs."""
        y = self.op("MatMul", [x, self.randn([cin, cout], std, "lin_w")])
        return self.op("Add", [y, self.randn([cout], std, "lin_b")])

    def layer_norm(self, x, c, eps):
        g = self.const((1 + self.rng.standard_normal(c) * 0.05).astype(np.float32), "ln_g")
        b = self.const((self.rng.standard_normal(c) * 0.05).astype(np.float32), "ln_b")
        return self.op("LayerNormalization", [x, g, b], axis=-1, epsilon=eps)

    def model(self, name, inputs, outputs, doc):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="aicc-gen-zoo", doc_string=doc)
        m.ir_version = 8
        return m


# --- vision ---------------------------------------------------------------------
def resnet(seed):
    """ResNet-style: 7x7 stem, max pool, 3 stages of 2 basic blocks (16/32/64
    channels, projection shortcut on downsampling), global pool, Gemm."""
    b = Builder(seed)
    x = b.conv("input", 3, 16, 7, stride=2, pad=3, bias=False)
    x = b.op("Relu", [b.bn(x, 16)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 16
    for cout, stride in [(16, 1), (32, 2), (64, 2)]:
        for i in range(2):
            s = stride if i == 0 else 1
            y = b.op("Relu", [b.bn(b.conv(x, cin, cout, 3, s, 1, bias=False), cout)])
            y = b.bn(b.conv(y, cout, cout, 3, 1, 1, bias=False), cout)
            sc = x
            if s != 1 or cin != cout:
                sc = b.bn(b.conv(x, cin, cout, 1, s, 0, bias=False), cout)
            x = b.op("Relu", [b.op("Add", [y, sc])])
            cin = cout
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    y = b.op("Gemm", [x, b.randn([64, 10], 0.125, "fc_w"), b.randn([10], 0.05, "fc_b")])
    b.nodes[-1].output[0] = "logits"
    m = b.model("resnet", [helper.make_tensor_value_info("input", F32, ["N", 3, 64, 64])],
                [helper.make_tensor_value_info("logits", F32, ["N", 10])], resnet.__doc__)
    rng = np.random.default_rng(seed + 1)
    return m, {"input": rng.standard_normal((3, 3, 64, 64)).astype(np.float32)}


def _make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def mobilenetv2(seed, width=0.35, classes=1000):
    """MobileNetV2 (Sandler et al. 2018, Table 2) at width 0.35: 17 inverted
    residual bottlenecks, depthwise 3x3, BatchNormalization after every conv
    (kept as a separate op, as TF/Keras exports and PyTorch's exporter without
    constant folding write it), ReLU6 as Clip(0, 6), 224x224 input."""
    b = Builder(seed)
    lo, hi = b.f32(0.0, "relu6_min"), b.f32(6.0, "relu6_max")

    def cbr(x, cin, cout, k, s, group=1, act=True):
        y = b.bn(b.conv(x, cin, cout, k, s, (k - 1) // 2, group, bias=False), cout)
        return b.op("Clip", [y, lo, hi]) if act else y

    c = _make_divisible(32 * width)
    x = cbr("input", 3, c, 3, 2)
    cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
           (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    for t, ch, n, s in cfg:
        cout = _make_divisible(ch * width)
        for i in range(n):
            stride = s if i == 0 else 1
            hid = c * t
            y = cbr(x, c, hid, 1, 1) if t != 1 else x
            y = cbr(y, hid, hid, 3, stride, group=hid)
            y = cbr(y, hid, cout, 1, 1, act=False)
            x = b.op("Add", [x, y]) if stride == 1 and c == cout else y
            c = cout
    last = 1280
    x = cbr(x, c, last, 1, 1)
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    b.gemm(x, last, classes)
    b.nodes[-1].output[0] = "logits"
    m = b.model("mobilenetv2", [helper.make_tensor_value_info("input", F32, [1, 3, 224, 224])],
                [helper.make_tensor_value_info("logits", F32, [1, classes])], mobilenetv2.__doc__)
    rng = np.random.default_rng(seed + 1)
    return m, {"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}


def squeezenet(seed, classes=1000):
    """SqueezeNet 1.1 (Iandola et al. 2016): fire modules (squeeze 1x1, expand
    1x1 and 3x3, Concat on channels), ceil-mode max pools, Dropout (identity at
    inference), conv classifier, global pool. 96x96 input to stay quick."""
    b = Builder(seed)
    relu = lambda x: b.op("Relu", [x])
    pool = lambda x: b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)

    def fire(x, cin, sq, e1, e3):
        s = relu(b.conv(x, cin, sq, 1))
        return b.op("Concat", [relu(b.conv(s, sq, e1, 1)), relu(b.conv(s, sq, e3, 3, pad=1))], axis=1)

    x = pool(relu(b.conv("input", 3, 64, 3, stride=2)))
    x = fire(x, 64, 16, 64, 64)
    x = pool(fire(x, 128, 16, 64, 64))
    x = fire(x, 128, 32, 128, 128)
    x = pool(fire(x, 256, 32, 128, 128))
    x = fire(x, 256, 48, 192, 192)
    x = fire(x, 384, 48, 192, 192)
    x = fire(x, 384, 64, 256, 256)
    x = fire(x, 512, 64, 256, 256)
    x = b.op("Dropout", [x], base="dropout")
    x = relu(b.conv(x, 512, classes, 1))
    b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    b.nodes[-1].output[0] = "logits"
    m = b.model("squeezenet", [helper.make_tensor_value_info("input", F32, [1, 3, 96, 96])],
                [helper.make_tensor_value_info("logits", F32, [1, classes])], squeezenet.__doc__)
    rng = np.random.default_rng(seed + 1)
    return m, {"input": rng.standard_normal((1, 3, 96, 96)).astype(np.float32)}


# --- language ---------------------------------------------------------------------
def _split_heads(b, x, heads, dh, perm):
    y = b.op("Reshape", [x, b.i64([0, 0, heads, dh])])
    return b.op("Transpose", [y], perm=perm)


def _merge_heads(b, x, hidden):
    y = b.op("Transpose", [x], perm=[0, 2, 1, 3])
    return b.op("Reshape", [y, b.i64([0, 0, hidden])])


def bert(seed, vocab=1000, seq=16, hidden=64, heads=4, ffn=256, layers=2):
    """BERT encoder (Devlin et al. 2018) as the PyTorch exporter writes it:
    word + position (Shape/Range) + token-type embeddings via Gather, LayerNorm,
    additive mask (1 - mask) * -10000 from an int64 mask, scaled dot-product
    attention with Softmax, GELU as x * 0.5 * (1 + erf(x / sqrt 2)), pooler
    (first token, Gemm, Tanh). 2 layers, seq 16, hidden 64, 4 heads."""
    b = Builder(seed, const_nodes=True)
    dh = hidden // heads
    ids, mask, tt = "input_ids", "attention_mask", "token_type_ids"
    wemb = b.randn([vocab, hidden], 0.02, "word_emb")
    pemb = b.randn([512, hidden], 0.02, "pos_emb")
    temb = b.randn([2, hidden], 0.02, "type_emb")
    n = b.op("Gather", [b.op("Shape", [ids]), b.i64(1, "axis1")], axis=0)
    pos = b.op("Unsqueeze", [b.op("Range", [b.i64(0, "zero"), n, b.i64(1, "one")]), b.i64([0])])
    x = b.op("Add", [b.op("Gather", [wemb, ids], axis=0), b.op("Gather", [pemb, pos], axis=0)])
    x = b.op("Add", [x, b.op("Gather", [temb, tt], axis=0)])
    x = b.layer_norm(x, hidden, 1e-12)
    m = b.op("Cast", [b.op("Unsqueeze", [mask, b.i64([1, 2])])], to=F32)
    addmask = b.op("Mul", [b.op("Sub", [b.f32(1.0), m]), b.f32(-10000.0)])
    for _ in range(layers):
        q = _split_heads(b, b.linear(x, hidden, hidden), heads, dh, [0, 2, 1, 3])
        k = _split_heads(b, b.linear(x, hidden, hidden), heads, dh, [0, 2, 3, 1])
        v = _split_heads(b, b.linear(x, hidden, hidden), heads, dh, [0, 2, 1, 3])
        s = b.op("Div", [b.op("MatMul", [q, k]), b.f32(math.sqrt(dh))])
        p = b.op("Softmax", [b.op("Add", [s, addmask])], axis=-1)
        a = _merge_heads(b, b.op("MatMul", [p, v]), hidden)
        x = b.layer_norm(b.op("Add", [b.linear(a, hidden, hidden), x]), hidden, 1e-12)
        h = b.linear(x, hidden, ffn)
        e = b.op("Erf", [b.op("Div", [h, b.f32(1.4142135381698608)])])
        h = b.op("Mul", [b.op("Mul", [h, b.op("Add", [e, b.f32(1.0)])]), b.f32(0.5)])
        x = b.layer_norm(b.op("Add", [b.linear(h, ffn, hidden), x]), hidden, 1e-12)
    b.op("Identity", [x])
    b.nodes[-1].output[0] = "last_hidden_state"
    first = b.op("Gather", [x, b.i64(0, "first")], axis=1)
    b.op("Tanh", [b.gemm(first, hidden, hidden)])
    b.nodes[-1].output[0] = "pooler_output"
    ins = [helper.make_tensor_value_info(nm, I64, [1, seq]) for nm in (ids, mask, tt)]
    outs = [helper.make_tensor_value_info("last_hidden_state", F32, [1, seq, hidden]),
            helper.make_tensor_value_info("pooler_output", F32, [1, hidden])]
    model = b.model("bert", ins, outs, bert.__doc__)
    rng = np.random.default_rng(seed + 1)
    valid = seq - 3  # the last three tokens are padding
    feeds = {ids: rng.integers(0, vocab, (1, seq), dtype=np.int64),
             mask: (np.arange(seq) < valid).astype(np.int64)[None, :],
             tt: (np.arange(seq) >= seq // 2).astype(np.int64)[None, :]}
    return model, feeds


def gpt2(seed, vocab=1000, seq=16, hidden=64, heads=4, layers=2):
    """GPT-2 decoder (Radford et al. 2019): pre-LayerNorm blocks, fused QKV
    projection split in three, causal mask built at run time from the sequence
    length (ConstantOfShape -> Trilu -> Cast bool -> Where with float min),
    GELU tanh approximation written out (Pow, Tanh), LM head tied to the token
    embedding. 2 layers, seq 16, hidden 64, 4 heads."""
    b = Builder(seed)
    dh = hidden // heads
    ids = "input_ids"
    wte_np = (b.rng.standard_normal([vocab, hidden]) * 0.02).astype(np.float32)
    wte = b.const(wte_np, "wte")
    wpe = b.randn([seq, hidden], 0.01, "wpe")
    x = b.op("Add", [b.op("Gather", [wte, ids], axis=0),
                     b.op("Gather", [wpe, b.i64(np.arange(seq), "pos")], axis=0)])
    n = b.op("Gather", [b.op("Shape", [ids]), b.i64([1], "axis1")], axis=0)
    ones = b.op("ConstantOfShape", [b.op("Concat", [n, n], axis=0)],
                value=numpy_helper.from_array(np.ones([1], np.float32)))
    causal = b.op("Cast", [b.op("Trilu", [ones], upper=0)], to=TensorProto.BOOL)
    fmin = b.f32(np.finfo(np.float32).min, "fmin")
    c0, c1 = b.f32(math.sqrt(2.0 / math.pi)), b.f32(0.044715)
    for _ in range(layers):
        h = b.layer_norm(x, hidden, 1e-5)
        qkv = b.linear(h, hidden, 3 * hidden)
        q, k, v = b.op("Split", [qkv, b.i64([hidden] * 3)], n_out=3, axis=2)
        q = _split_heads(b, q, heads, dh, [0, 2, 1, 3])
        k = _split_heads(b, k, heads, dh, [0, 2, 3, 1])
        v = _split_heads(b, v, heads, dh, [0, 2, 1, 3])
        s = b.op("Div", [b.op("MatMul", [q, k]), b.f32(math.sqrt(dh))])
        p = b.op("Softmax", [b.op("Where", [causal, s, fmin])], axis=-1)
        a = _merge_heads(b, b.op("MatMul", [p, v]), hidden)
        x = b.op("Add", [x, b.linear(a, hidden, hidden)])
        h = b.linear(b.layer_norm(x, hidden, 1e-5), hidden, 4 * hidden)
        inner = b.op("Mul", [b.op("Add", [h, b.op("Mul", [b.op("Pow", [h, b.f32(3.0)]), c1])]), c0])
        g = b.op("Mul", [b.op("Mul", [b.f32(0.5), h]), b.op("Add", [b.f32(1.0), b.op("Tanh", [inner])])])
        x = b.op("Add", [x, b.linear(g, 4 * hidden, hidden)])
    x = b.layer_norm(x, hidden, 1e-5)
    b.op("MatMul", [x, b.const(np.ascontiguousarray(wte_np.T), "lm_head")])
    b.nodes[-1].output[0] = "logits"
    model = b.model("gpt2", [helper.make_tensor_value_info(ids, I64, [1, seq])],
                    [helper.make_tensor_value_info("logits", F32, [1, seq, vocab])], gpt2.__doc__)
    rng = np.random.default_rng(seed + 1)
    return model, {ids: rng.integers(0, vocab, (1, seq), dtype=np.int64)}


def lstm(seed, vocab=500, seq=20, batch=2, emb=32, hidden=48, classes=5):
    """Text classifier: Gather embedding, Transpose to time-major, one LSTM
    layer (weights U(-1/sqrt(H), 1/sqrt(H)) as PyTorch initializes them) whose
    zero initial state is built from the input's shape as PyTorch's exporter
    writes it (Shape, Gather, Concat, ConstantOfShape), the last time step
    (Slice + Squeeze), Gemm to class logits."""
    b = Builder(seed)
    bound = 1.0 / math.sqrt(hidden)
    x = b.op("Gather", [b.randn([vocab, emb], 1.0, "emb"), "tokens"], axis=0)
    x = b.op("Transpose", [x], perm=[1, 0, 2])
    w = b.uniform([1, 4 * hidden, emb], bound, "lstm_W")
    r = b.uniform([1, 4 * hidden, hidden], bound, "lstm_R")
    bias = b.uniform([1, 8 * hidden], bound, "lstm_B")
    bsz = b.op("Gather", [b.op("Shape", ["tokens"]), b.i64([0])], axis=0)
    state_dims = b.op("Concat", [b.i64([1]), bsz, b.i64([hidden])], axis=0)
    zero = helper.make_tensor("zero", F32, [1], [0.0])
    h0 = b.op("ConstantOfShape", [state_dims], value=zero)
    c0 = b.op("ConstantOfShape", [state_dims], value=zero)
    y, _, _ = b.op("LSTM", [x, w, r, bias, "", h0, c0], n_out=3, hidden_size=hidden,
                   direction="forward")
    last = b.op("Slice", [y, b.i64([-1]), b.i64([np.iinfo(np.int64).max]), b.i64([0])])
    last = b.op("Squeeze", [last, b.i64([0, 1])])
    b.gemm(last, hidden, classes)
    b.nodes[-1].output[0] = "logits"
    model = b.model("lstm", [helper.make_tensor_value_info("tokens", I64, [batch, seq])],
                    [helper.make_tensor_value_info("logits", F32, [batch, classes])], lstm.__doc__)
    rng = np.random.default_rng(seed + 1)
    return model, {"tokens": rng.integers(0, vocab, (batch, seq), dtype=np.int64)}


# name -> (builder, seed, save with external data)
ZOO = {
    "resnet": (resnet, 101, False),
    "mobilenetv2": (mobilenetv2, 102, False),
    "squeezenet": (squeezenet, 103, False),
    "bert": (bert, 104, True),
    "gpt2": (gpt2, 105, False),
    "lstm": (lstm, 106, False),
}


def ort_run(model_path, feeds, optimize=False):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def write_model(out_dir, name, check_opt=False):
    fn, seed, external = ZOO[name]
    model, feeds = fn(seed)
    onnx.checker.check_model(model, full_check=True)
    final = os.path.join(out_dir, name)
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "test_data_set_0"))
    path = os.path.join(tmp, "model.onnx")
    if external:
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location="weights.bin", size_threshold=0)
    else:
        onnx.save(model, path)
    # Checks the saved file (external data included); strict shape inference
    # cannot read external tensors, and ran on the in-memory model above.
    onnx.checker.check_model(path, full_check=not external)
    outs = ort_run(path, feeds)
    ds = os.path.join(tmp, "test_data_set_0")
    for i, vi in enumerate(model.graph.input):
        t = numpy_helper.from_array(feeds[vi.name], vi.name)
        with open(os.path.join(ds, f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    for i, (vi, o) in enumerate(zip(model.graph.output, outs)):
        if not np.all(np.isfinite(o)):
            raise RuntimeError(f"{name}: output {vi.name} is not finite")
        with open(os.path.join(ds, f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(o, vi.name).SerializeToString())
    info = f"{name}: {len(model.graph.node)} nodes, " + ", ".join(
        f"{vi.name}{list(o.shape)} |max| {np.abs(o).max():.3g}"
        for vi, o in zip(model.graph.output, outs))
    if check_opt:  # how far float32 reassociation alone moves the outputs
        opt = ort_run(path, feeds, optimize=True)
        info += "; optimized ORT max |diff| " + ", ".join(
            f"{np.abs(a - r).max():.2g}" for a, r in zip(opt, outs))
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True, help="output folder")
    ap.add_argument("models", nargs="*", help=f"models to build (default: all of {', '.join(ZOO)})")
    ap.add_argument("--stamp", help="file to touch when every model is written")
    ap.add_argument("--check-opt", action="store_true",
                    help="also report the max difference to optimized onnxruntime")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()
    names = args.models or list(ZOO)
    bad = [n for n in names if n not in ZOO]
    if bad:
        ap.error(f"unknown model(s) {', '.join(bad)}; known: {', '.join(ZOO)}")
    os.makedirs(args.output, exist_ok=True)
    for n in names:
        info = write_model(args.output, n, args.check_opt)
        if not args.quiet:
            print(info)
    if args.stamp:
        with open(args.stamp, "w") as f:
            f.write(" ".join(names) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
