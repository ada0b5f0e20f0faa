#!/usr/bin/env python3
"""Writes the ONNX node test cases of the installed onnx package to OUT_DIR in
the backend-test layout (model.onnx + test_data_set_N/{input,output}_K.pb).

`python3 -m onnx.backend.test.cmd_tools generate-data` writes only the model
cases in recent onnx releases; this does the same for the node cases, using the
package's own case collector and serializers."""
import argparse
import os
import shutil
import sys
import warnings

import onnx
from onnx import TensorProto, numpy_helper
import onnx.backend.test.case.node as node_test


def serialize(value, vinfo):
    t = vinfo.type
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, vinfo.name).SerializeToString()
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, vinfo.name).SerializeToString()
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, vinfo.name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, vinfo.name).SerializeToString()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-o", "--output", required=True, help="output directory")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cases = node_test.collect_testcases(None)
    tmp = args.output + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    for case in cases:
        d = os.path.join(tmp, case.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        g = case.model.graph
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds)
            for j, v in enumerate(inputs):
                with open(os.path.join(ds, f"input_{j}.pb"), "wb") as f:
                    f.write(serialize(v, g.input[j]))
            for j, v in enumerate(outputs):
                with open(os.path.join(ds, f"output_{j}.pb"), "wb") as f:
                    f.write(serialize(v, g.output[j]))
    shutil.rmtree(args.output, ignore_errors=True)
    os.rename(tmp, args.output)
    print(f"wrote {len(cases)} node cases (onnx {onnx.__version__}) to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
