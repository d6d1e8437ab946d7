#!/usr/bin/python3
"""Run onnx.checker.check_model(full_check=True) on ONNX files.

Usage: check_onnx.py [PATH ...]   (PATH: a .onnx file or a directory searched recursively;
default: packages/onnx/.onnx-out). Prints PASS/FAIL per file; exits 1 if any file fails or
none is found. Models are checked by path so external data files beside them are resolved.
com.microsoft contrib ops are not in the ONNX schema registry: the checker skips their schema
checks but still validates the graph structure, types of standard ops and shape inference.
"""
import os
import sys

import onnx


def collect(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files.extend(os.path.join(root, n) for n in names if n.endswith(".onnx"))
        else:
            files.append(p)
    return sorted(files)


def main(argv):
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".onnx-out")
    files = collect(argv or [default])
    if not files:
        print(f"no .onnx files under {' '.join(argv) or default}", file=sys.stderr)
        return 1
    failed = 0
    for f in files:
        try:
            onnx.checker.check_model(f, full_check=True)
            print(f"PASS {f}")
        except Exception as e:  # the checker raises several exception types
            failed += 1
            msg = str(e).strip().replace("\n", " | ")
            print(f"FAIL {f}: {msg}")
    print(f"onnx {onnx.__version__}: {len(files) - failed}/{len(files)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
