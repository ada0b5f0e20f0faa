# lit configuration for aicc's golden tests: IR text in, FileCheck patterns
# on the output. Run with `lit -v tests/lit` after building; the built aicc
# is found via --param aicc_bin_dir=DIR (set by CTest), $AICC_BIN_DIR, or a
# build*/ folder next to tests/, and FileCheck via --param filecheck=PATH,
# PATH, or /usr/lib/llvm-*/bin.
import glob
import os
import shutil

import lit.formats

config.name = "aicc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".ir", ".test"]
config.test_source_root = os.path.dirname(os.path.abspath(__file__))
config.test_exec_root = os.path.join(
    lit_config.params.get("aicc_exec_root")
    or os.environ.get("AICC_LIT_EXEC_ROOT")
    or os.path.join("/tmp", "aicc-lit-" + str(os.getuid())))
# Inputs for other tests (not tests themselves) live in Inputs/ folders.
config.excludes = ["Inputs", "lit.cfg.py", "CMakeLists.txt", "roundtrip_dir.py"]


def find_aicc_dir():
    d = lit_config.params.get("aicc_bin_dir") or os.environ.get("AICC_BIN_DIR")
    if d:
        return d
    if shutil.which("aicc"):
        return os.path.dirname(shutil.which("aicc"))
    root = os.path.dirname(os.path.dirname(config.test_source_root))
    found = sorted(glob.glob(os.path.join(root, "build*", "aicc")), key=os.path.getmtime)
    if found:
        return os.path.dirname(found[-1])
    lit_config.fatal("cannot find the aicc binary: pass --param aicc_bin_dir=DIR")


def find_filecheck():
    p = lit_config.params.get("filecheck") or os.environ.get("FILECHECK")
    if p:
        return p
    for name in ("FileCheck", "FileCheck-14", "filecheck"):
        if shutil.which(name):
            return shutil.which(name)
    found = sorted(glob.glob("/usr/lib/llvm-*/bin/FileCheck"))
    if found:
        return found[-1]
    lit_config.fatal("cannot find FileCheck: pass --param filecheck=PATH")


aicc_dir = os.path.abspath(find_aicc_dir())
filecheck = find_filecheck()
path = [aicc_dir, os.path.dirname(filecheck), config.environment.get("PATH", os.environ.get("PATH", ""))]
config.environment["PATH"] = os.pathsep.join(path)
# Some FileCheck fallbacks are named differently: always spell it FileCheck.
config.substitutions.append(("FileCheck", filecheck))
lit_config.note("aicc: %s, FileCheck: %s" % (aicc_dir, filecheck))

import sys
config.substitutions.append(("%python", sys.executable))
# The ONNX node test cases, generated in the build tree (tests/conformance).
node_dir = lit_config.params.get("onnx_node_dir") or os.environ.get("AICC_ONNX_NODE_DIR")
if node_dir and os.path.isdir(node_dir):
    config.available_features.add("onnx-node")
    config.substitutions.append(("%onnx_node_dir", node_dir))
