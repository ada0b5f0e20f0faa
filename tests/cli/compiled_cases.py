#!/usr/bin/env python3
"""CLI cases for the compiled engine and the commands around it: `--engine
compiled` on run/test, `aicc compile`, `aicc bench`, their flags and --help,
and a missing C compiler (one-line error, nothing left behind).

Each case builds its models in a fresh temporary folder (onnx.helper) and
uses a JIT cache inside it, so no case depends on another's compiles.

usage: compiled_cases.py --aicc PATH CASE     (CASE from --list)
"""
import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_cases import add_model, expect_error, no_outputs, run, write_input  # noqa: E402

CASES = {}
COMPILED_LINE = re.compile(r"^compiled: (\d+) kernels, (\d+) extern steps(?: \((.*)\))?"
                           r"(?:, (\d+) concats? in place)?$", re.M)


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def env_run(aicc, env, *args):
    import subprocess
    return subprocess.run([aicc, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def nonzero_model(path):
    """y = NonZero(x): its output shape depends on the data."""
    g = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"], name="nz1")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)


def leftovers(tmp, keep):
    """Entries of tmp other than those named in keep (temp folders left behind)."""
    return sorted(set(os.listdir(tmp)) - set(keep))


@case
def help_mentions_compiled(aicc, tmp):
    common = ["--engine", "compiled", "--threads", "--dump-loops", "--strict", "--opt-level",
              "--cache-dir", "--shape", "AICC_CC"]
    extra = {"run": [], "test": ["compiled: K kernels, E extern steps"],
             "compile": ["-o DIR", "--force", "kernels.c", "loops.txt", "stats.json"],
             "bench": ["--iters", "--warmup", "--inputs", "--json", "median"]}
    for cmd, words in extra.items():
        r = run(aicc, cmd, "--help")
        assert r.returncode == 0 and f"usage: aicc {cmd}" in r.stdout, (cmd, r.stdout, r.stderr)
        for w in common + words:
            assert w in r.stdout, (cmd, w)
    r = run(aicc, "--help")
    assert "compile" in r.stdout and "bench" in r.stdout, r.stdout


@case
def bad_compiled_flags(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    for args, needle in (
            (["run", m, "--inputs", tmp, "--engine", "compiled", "--threads", "0"], "--threads"),
            (["run", m, "--inputs", tmp, "--engine", "compiled", "--threads", "x"], "--threads"),
            (["run", m, "--inputs", tmp, "--engine", "compiled", "--threads"], "needs a value"),
            (["run", m, "--inputs", tmp, "--engine", "compiled", "-O7"], "optimization level"),
            (["run", m, "--inputs", tmp, "--engine", "compiled", "--opt-level", "x"],
             "optimization level"),
            (["run", m, "--inputs", tmp, "--threads", "2"], "compiled engine only"),
            (["test", tmp, "--strict"], "compiled engine only"),
            (["run", m, "--inputs", tmp, "--engine", "compiled", "--dump-loops="], "needs a file"),
            (["test", tmp, "--engine", "compiled", "--shape", "N"], "NAME=SIZE"),
            (["test", tmp, "--engine", "compiled", "--shape", "N=-1"], "non-negative"),
            (["compile", m], "-o DIR is required"),
            (["compile", m, "-o"], "-o needs a folder"),
            (["compile", m, "-o", "x", "--engine", "interp"], "compiled engine only"),
            (["compile", m, "-o", "x", "--frobnicate"], "unknown option"),
            (["bench", m, "--iters", "0"], "--iters"),
            (["bench", m, "--warmup", "-1"], "--warmup"),
            (["bench", m, "--threads", "2"], "compiled engine only"),
            (["bench"], "no model given"),
            (["run", m, "--inputs", tmp, "--engine", "jit"], "known: interp, compiled")):
        r = run(aicc, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert needle in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)


@case
def bench_symbolic_needs_shape(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    r = run(aicc, "bench", m)
    expect_error(r, "m.onnx", "'x'", "'N'", "--shape N=")
    r = run(aicc, "bench", m, "--shape", "N=4", "--iters", "3", "--warmup", "1")
    assert r.returncode == 0, r.stderr
    assert re.search(r"run: median [0-9.]+ ms, min [0-9.]+ ms, max [0-9.]+ ms", r.stdout), r.stdout


@case
def bench_json_interp(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m, batch=5)
    r = run(aicc, "bench", m, "--iters", "7", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["engine"] == "interp" and j["iters"] == 7 and len(j["samples_ms"]) == 7, j
    assert 0 < j["min_ms"] <= j["median_ms"] <= j["max_ms"], j
    # --inputs: the given values instead of random ones; a missing file is an error.
    write_input(os.path.join(tmp, "in"), 0, np.ones((5, 3), np.float32))
    r = run(aicc, "bench", m, "--inputs", os.path.join(tmp, "in"), "--iters", "2")
    assert r.returncode == 0, r.stderr
    r = run(aicc, "bench", m, "--inputs", os.path.join(tmp, "nope"))
    expect_error(r, "input_0.pb", "missing")


@case
def bench_json_compiled(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    tmpdir = os.path.join(tmp, "tmpdir")  # where bench puts its cold cache
    os.makedirs(tmpdir)
    r = env_run(aicc, {"TMPDIR": tmpdir}, "bench", m, "--engine", "compiled", "--shape", "N=16",
                "--threads", "2", "--iters", "5", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["engine"] == "compiled" and j["threads"] == 2 and len(j["samples_ms"]) == 5, j
    assert j["compile_cold_ms"] > 0 and j["compile_cached_ms"] > 0, j
    assert j["cache_hit"] is True, j  # the second compile comes from the cold one's cache
    assert j["kernels"] >= 1, j
    assert os.listdir(tmpdir) == [], os.listdir(tmpdir)  # the temporary cache is gone
    r = run(aicc, "bench", m, "--engine", "compiled", "--shape", "N=16", "--iters", "2")
    assert r.returncode == 0, r.stderr
    assert re.search(r"compile: cold [0-9.]+ ms \(C compiler [0-9.]+ ms\), cached", r.stdout), r.stdout


@case
def run_compiled_matches(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    write_input(os.path.join(tmp, "in"), 0, x)
    for t in ("1", "2"):
        out = os.path.join(tmp, "out" + t)
        r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out,
                "--engine", "compiled", "--threads", t, "--cache-dir", os.path.join(tmp, "cache"))
        assert r.returncode == 0, r.stderr
        np.testing.assert_array_equal(read_pb(os.path.join(out, "output_0.pb")),
                                      x + np.arange(3, dtype=np.float32))


@case
def test_compiled_prints_stats(aicc, tmp):
    d = os.path.join(tmp, "case")
    os.makedirs(d)
    add_model(os.path.join(d, "model.onnx"))
    for k, n in enumerate((2, 5)):  # two data sets, two batch sizes: two specializations
        ds = os.path.join(d, f"test_data_set_{k}")
        x = np.full((n, 3), 0.5, np.float32)
        write_input(ds, 0, x)
        with open(os.path.join(ds, "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x + np.arange(3, dtype=np.float32), "y")
                    .SerializeToString())
    r = run(aicc, "test", d, "--engine", "compiled", "--cache-dir", os.path.join(tmp, "cache"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("PASS") == 2, r.stdout
    mt = COMPILED_LINE.search(r.stdout)
    assert mt and int(mt.group(1)) >= 1 and mt.group(2) == "0", r.stdout


@case
def strict_and_extern(aicc, tmp):
    """NonZero cannot be a kernel (its output shape depends on the data): it runs
    as an extern step, or is an error under --strict."""
    d = os.path.join(tmp, "case")
    os.makedirs(d)
    nonzero_model(os.path.join(d, "model.onnx"))
    x = np.array([[1, 0, 2], [0, 0, 3]], np.float32)
    ds = os.path.join(d, "test_data_set_0")
    write_input(ds, 0, x)
    with open(os.path.join(ds, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(np.array(np.nonzero(x), np.int64), "y").SerializeToString())
    cache = os.path.join(tmp, "cache")
    r = run(aicc, "test", d, "--engine", "compiled", "--cache-dir", cache)
    assert r.returncode == 0, r.stdout + r.stderr
    mt = COMPILED_LINE.search(r.stdout)
    assert mt and int(mt.group(2)) >= 1 and "NonZero" in (mt.group(3) or ""), r.stdout
    out = os.path.join(tmp, "out")
    r = run(aicc, "run", os.path.join(d, "model.onnx"), "--inputs", ds, "--outputs", out,
            "--engine", "compiled", "--strict", "--cache-dir", cache)
    expect_error(r, "NonZero")
    no_outputs(out)


@case
def dump_loops_to_file(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m, batch=2)
    write_input(os.path.join(tmp, "in"), 0, np.ones((2, 3), np.float32))
    dump = os.path.join(tmp, "loops.txt")
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--engine", "compiled",
            "--dump-loops=" + dump, "--cache-dir", os.path.join(tmp, "cache"))
    assert r.returncode == 0, r.stderr
    text = open(dump).read()
    assert "for" in text or "loop" in text, text[:400]
    # to stderr without a file
    r = run(aicc, "run", m, "--inputs", os.path.join(tmp, "in"), "--engine", "compiled",
            "--dump-loops", "--cache-dir", os.path.join(tmp, "cache"))
    assert r.returncode == 0 and len(r.stderr) > 20, r.stderr


@case
def compile_writes_dir(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    out = os.path.join(tmp, "out")
    r = run(aicc, "compile", m, "-o", out, "--shape", "N=4", "-O", "2", "--threads", "2",
            "--cache-dir", os.path.join(tmp, "cache"))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["kernels.c", "loops.txt", "stats.json"], os.listdir(out)
    src = open(os.path.join(out, "kernels.c")).read()
    # real C: at least one function definition that indexes memory in a loop
    assert re.search(r"\w+\s*\([^;{]*\)\s*\{", src) and "for" in src, src[:600]
    assert os.path.getsize(os.path.join(out, "loops.txt")) > 0
    st = json.load(open(os.path.join(out, "stats.json")))
    assert st["kernels"] >= 1 and st["extern_steps"] == 0 and st["threads"] == 2, st
    assert st["opt_level"] == 2 and st["shapes"] == "N=4", st
    assert out in r.stdout and "kernels" in r.stdout, r.stdout
    assert leftovers(tmp, ["m.onnx", "out", "cache"]) == [], os.listdir(tmp)
    # the generated C compiles on its own (as a shared object)
    import subprocess
    cc = subprocess.run(["cc", "-O1", "-fPIC", "-shared", "-std=c99", "-o",
                         os.path.join(tmp, "k.so"), os.path.join(out, "kernels.c"), "-lm"],
                        capture_output=True, text=True)
    assert cc.returncode == 0, cc.stderr[:2000]


@case
def compile_refuses_nonempty(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m, batch=2)
    cache = os.path.join(tmp, "cache")
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    # an empty folder is fine
    r = run(aicc, "compile", m, "-o", out, "--cache-dir", cache)
    assert r.returncode == 0, r.stderr
    # a full one is refused, and left alone
    r = run(aicc, "compile", m, "-o", out, "--cache-dir", cache)
    expect_error(r, out, "not empty", "--force")
    with open(os.path.join(out, "mine.txt"), "w") as f:
        f.write("keep")
    r = run(aicc, "compile", m, "-o", out, "--cache-dir", cache)
    expect_error(r, "--force")
    assert open(os.path.join(out, "mine.txt")).read() == "keep"
    # --force replaces it whole
    r = run(aicc, "compile", m, "-o", out, "--force", "--cache-dir", cache)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["kernels.c", "loops.txt", "stats.json"], os.listdir(out)
    # a file in the way
    blocker = os.path.join(tmp, "file")
    open(blocker, "w").close()
    r = run(aicc, "compile", m, "-o", blocker, "--cache-dir", cache)
    expect_error(r, "not a folder")
    assert leftovers(tmp, ["m.onnx", "out", "cache", "file"]) == [], os.listdir(tmp)


@case
def compile_symbolic_needs_shape(aicc, tmp):
    m = os.path.join(tmp, "m.onnx")
    add_model(m)
    out = os.path.join(tmp, "out")
    r = run(aicc, "compile", m, "-o", out, "--cache-dir", os.path.join(tmp, "cache"))
    expect_error(r, "m.onnx", "'x'", "'N'", "--shape N=")
    assert not os.path.exists(out)


def concat_models(path_in_place, path_kept, batch):
    """Two models of MatMuls (kernels) and Concats, and their numpy outputs.

    in place: a, b, d = x @ w1, x @ w2, x @ w3 ([batch, 16, 8]); e = concat(concat(a, b),
    d) on axis 1, then w = ((e @ w4) @ w5) @ w6 and z = a + d. Both Concats are
    planned in place (a, b, d written into e's memory) and z reads a and d after
    e's last use, while w's intermediates are planned: a, b, d must stay live.
    kept: concats that must be copied: the same value twice, a graph input, and
    parts of 5 x 8 floats (160 bytes: not 64-byte aligned)."""
    rng = np.random.default_rng(7)
    w = [rng.uniform(-1, 1, (8, 8)).astype(np.float32) for _ in range(6)]
    inits = [numpy_helper.from_array(w[i], f"w{i + 1}") for i in range(6)]
    mm = lambda x, i, y: helper.make_node("MatMul", [x, f"w{i}"], [y])
    f32 = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
    g = helper.make_graph(
        [mm("x", 1, "a"), mm("x", 2, "b"), helper.make_node("Concat", ["a", "b"], ["c"], axis=1),
         mm("x", 3, "d"), helper.make_node("Concat", ["c", "d"], ["e"], axis=-2),
         mm("e", 4, "y"), mm("y", 5, "u"), mm("u", 6, "w"), helper.make_node("Add", ["a", "d"], ["z"])],
        "g", [f32("x", [batch, 16, 8])], [f32("w", [batch, 48, 8]), f32("z", [batch, 16, 8])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path_in_place)
    g = helper.make_graph(
        [mm("x", 1, "a"), helper.make_node("Concat", ["a", "a"], ["p"], axis=1), mm("p", 2, "p2"),
         helper.make_node("Concat", ["x", "a"], ["q"], axis=1), mm("q", 3, "q2"),
         mm("v", 4, "f"), mm("v", 5, "h"), helper.make_node("Concat", ["f", "h"], ["r"], axis=1),
         mm("r", 6, "r2")],
        "g", [f32("x", [batch, 16, 8]), f32("v", [batch, 5, 8])],
        [f32("p2", [batch, 32, 8]), f32("q2", [batch, 32, 8]), f32("r2", [batch, 10, 8])], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path_kept)
    x = rng.uniform(-1, 1, (batch, 16, 8)).astype(np.float32)
    v = rng.uniform(-1, 1, (batch, 5, 8)).astype(np.float32)
    a, b, d = x @ w[0], x @ w[1], x @ w[2]
    e = np.concatenate([a, b, d], axis=1)
    r = np.concatenate([v @ w[3], v @ w[4]], axis=1)
    return x, v, [((e @ w[3]) @ w[4]) @ w[5], a + d], \
        [np.concatenate([a, a], 1) @ w[1], np.concatenate([x, a], 1) @ w[2], r @ w[5]]


@case
def concat_in_place(aicc, tmp):
    """A Concat of kernel results has no step: its inputs are written into
    its memory (consecutive ranges at batch 1, strided ones at batch 2); the
    outputs match numpy at batch 1 and 2, at 1 and 2 threads. Concats that
    cannot be views are kept (and still right)."""
    cache = os.path.join(tmp, "cache")
    for batch in (1, 2):
        mi, mk = os.path.join(tmp, f"in{batch}.onnx"), os.path.join(tmp, f"kept{batch}.onnx")
        x, v, want_in, want_kept = concat_models(mi, mk, batch)
        write_input(os.path.join(tmp, f"x{batch}"), 0, x)
        write_input(os.path.join(tmp, f"xv{batch}"), 0, x)
        write_input(os.path.join(tmp, f"xv{batch}"), 1, v, "v")
        for m, ins, want, views in ((mi, f"x{batch}", want_in, 2),
                                    (mk, f"xv{batch}", want_kept, 0)):
            for t in ("1", "2"):
                out = os.path.join(tmp, f"out{batch}{t}")
                r = run(aicc, "run", m, "--inputs", os.path.join(tmp, ins), "--outputs", out,
                        "--engine", "compiled", "--threads", t, "--cache-dir", cache)
                assert r.returncode == 0, r.stderr
                for i, w in enumerate(want):
                    np.testing.assert_allclose(read_pb(os.path.join(out, f"output_{i}.pb")), w,
                                               rtol=1e-5, atol=1e-5, err_msg=f"{m} output {i}")
            d = os.path.join(tmp, f"c{batch}")
            r = run(aicc, "compile", m, "-o", d, "--force", "--cache-dir", cache)
            assert r.returncode == 0, r.stderr
            st = json.load(open(os.path.join(d, "stats.json")))
            assert st["concats_in_place"] == views, (m, st)
            loops = open(os.path.join(d, "loops.txt")).read()
            assert loops.count("(Concat): its inputs are written into") == views, loops
            assert st["kernels"] == len(re.findall(r"^kernel k\d+:", loops, re.M)), st
            # at batch 2 the parts are strided: each kernel that writes or reads
            # a, b or d indexes it with e's strides (48 x 8 floats per image)
            src = open(os.path.join(d, "kernels.c")).read()
            strided = len(re.findall(r"^// func .*: f32\[2, 16, 8\] strides \[384, 8, 1\]", src, re.M))
            assert strided == (4 if batch == 2 and views else 0), (m, strided)
    r = run(aicc, "bench", os.path.join(tmp, "in1.onnx"), "--engine", "compiled", "--iters", "2",
            "--cache-dir", cache)
    mt = COMPILED_LINE.search(r.stdout)
    assert r.returncode == 0 and mt and mt.group(4) == "2", r.stdout + r.stderr


@case
def missing_compiler(aicc, tmp):
    """AICC_CC names a compiler that does not exist: one line naming it, a
    non-zero exit, and no output of any kind (fresh cache: nothing to reuse)."""
    m = os.path.join(tmp, "m.onnx")
    add_model(m, batch=2)
    env = {"AICC_CC": "/nonexistent/cc-missing"}
    out = os.path.join(tmp, "out")
    cache = os.path.join(tmp, "cache")
    r = env_run(aicc, env, "compile", m, "-o", out, "--cache-dir", cache)
    expect_error(r, "/nonexistent/cc-missing")
    assert not os.path.exists(out), os.listdir(out)
    assert not [e for e in os.listdir(tmp) if e.startswith("out")], os.listdir(tmp)
    write_input(os.path.join(tmp, "in"), 0, np.ones((2, 3), np.float32))
    r = env_run(aicc, env, "run", m, "--inputs", os.path.join(tmp, "in"), "--outputs", out,
                "--engine", "compiled", "--cache-dir", cache)
    expect_error(r, "/nonexistent/cc-missing")
    no_outputs(out)
    r = env_run(aicc, env, "bench", m, "--engine", "compiled", "--cache-dir", cache)
    expect_error(r, "/nonexistent/cc-missing")
    assert r.stdout == "", r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aicc")
    ap.add_argument("--list", action="store_true", help="print the case names")
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.list:
        print(";".join(CASES))
        return 0
    if a.case not in CASES or not a.aicc:
        ap.error("need --aicc and one of: " + ", ".join(CASES))
    with tempfile.TemporaryDirectory(prefix="aicc-cli-") as tmp:
        CASES[a.case](a.aicc, tmp)
    print(f"{a.case}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
