"""Golden safetensors file + float16 conversion table, written by hand with json/struct/numpy
(Debian's python has no `safetensors` module), following the reference writer's layout:
header padded with spaces to 8 bytes, tensors sorted by dtype (I64, F64, F32, I32, F16, U8: the reference's enum order, descending) then name.

Write goldens:   /usr/bin/python3 packages/tensor/scripts/safetensors_golden.py write
Verify a file:   /usr/bin/python3 packages/tensor/scripts/safetensors_golden.py verify FILE.safetensors
                 (parses the header, checks offsets, loads every tensor with numpy.frombuffer, prints a summary)
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "test", "golden")
NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1"}
RANK = {"I64": 5, "F64": 4, "F32": 3, "I32": 2, "F16": 1, "U8": 0}


def write_safetensors(path, tensors, metadata):
    names = sorted(tensors, key=lambda n: (-RANK[tensors[n][0]], n))
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for n in names:
        dtype, arr = tensors[n]
        b = np.ascontiguousarray(arr.astype(NP[dtype])).tobytes()
        header[n] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hj = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    data = struct.pack("<Q", len(hj)) + hj + b"".join(blobs)
    with open(path, "wb") as f:
        f.write(data)
    return data


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert n <= len(data) - 8, "header length beyond file"
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    buf = data[8 + n :]
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    cursor = 0
    for b, e, k in spans:
        assert b == cursor, f"{k}: offsets not contiguous"
        cursor = e
    assert cursor == len(buf), "trailing bytes"
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(buf[b:e], dtype=NP[v["dtype"]]).reshape(v["shape"])
    return out, meta


def values(arr, dtype):
    if dtype == "F16":
        return arr.astype("<f2").view("<u2").reshape(-1).tolist()  # raw bits
    if dtype == "I64":
        return [str(int(x)) for x in arr.reshape(-1)]  # beyond 2^53: strings
    if dtype == "F32":
        return arr.astype("<f4").view("<u4").reshape(-1).tolist()  # exact bits
    if dtype == "F64":
        return [str(int(x)) for x in arr.astype("<f8").view("<u8").reshape(-1)]  # exact bits, beyond 2^53: strings
    return arr.reshape(-1).tolist()


def write():
    rng = np.random.default_rng(20261204)
    f16_src = np.array([0.0, -0.0, 1.0, 1 / 3, 65504.0, 65520.0, 7e4, 1e-7, 6e-8, -2.5, 3.14159, 1e-5], "<f4")
    tensors = {
        "weight": ("F32", rng.standard_normal((3, 4)).astype("<f4")),
        "half": ("F16", f16_src.reshape(3, 4).astype("<f2")),
        "ids": ("I32", np.array([0, -1, 2147483647, -2147483648, 42], "<i4")),
        "big": ("I64", np.array([[2**62 + 1, -(2**63)], [2**53 + 1, -7]], "<i8")),
        "mask": ("U8", np.array([0, 1, 255, 7, 128, 3, 9], "u1")),
        "scalar": ("F32", np.array(2.5, "<f4")),
        "empty": ("F32", np.zeros((0, 3), "<f4")),
        "layers.0.norm": ("F32", np.linspace(-1, 1, 5).astype("<f4")),
        # float64 values float32 cannot hold: 1 + 2^-52, 1/3, 1e-310 (subnormal), 1e300, -0, pi
        "stats.mu": ("F64", np.array([[1 + 2**-52, 1 / 3, 1e-310], [1e300, -0.0, np.pi]], "<f8")),
    }
    metadata = {"format": "engram-ar", "note": "golden written by python: 测试"}
    path = os.path.join(GOLDEN, "golden.safetensors")
    data = write_safetensors(path, tensors, metadata)
    back, meta = read_safetensors(path)
    assert meta == metadata
    for k, (dtype, arr) in tensors.items():
        assert back[k].shape == arr.shape and np.array_equal(back[k], arr.astype(NP[dtype])), k
    expect = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "metadata": metadata,
        "tensors": {k: {"dtype": d, "shape": list(a.shape), "values": values(a, d)} for k, (d, a) in tensors.items()},
    }
    with open(os.path.join(GOLDEN, "golden.safetensors.json"), "w") as f:
        json.dump(expect, f, indent=1, ensure_ascii=False)

    # float32 -> float16 rounding table over the whole range (normals, subnormals, ties, overflow)
    bits = np.concatenate([
        rng.integers(0, 2**32, 3000, dtype=np.uint64).astype(np.uint32),
        # exact ties in the normal and subnormal range of float16
        (np.array([1.0 + 2**-11, 1.0 + 3 * 2**-11, 2**-24 * 1.5, 2**-24 * 2.5, 2**-25, 2**-25 * 1.0000001, 65519.0, 65520.0], "<f4")).view("<u4"),
    ]).astype("<u4")
    f32 = bits.view("<f4")
    with np.errstate(over="ignore", invalid="ignore"):
        f16 = f32.astype("<f2").view("<u2")
    finite = np.isfinite(f32)  # NaN payload propagation is numpy-specific; the test checks NaN separately
    with open(os.path.join(GOLDEN, "float16.json"), "w") as f:
        json.dump({"f32bits": bits[finite].tolist(), "f16bits": f16[finite].tolist()}, f)
    print(f"wrote {path} ({len(data)} bytes) sha256 {expect['sha256']}")


def verify(path):
    tensors, meta = read_safetensors(path)
    print(json.dumps({"file": path, "metadata": meta, "tensors": {
        k: {"dtype": str(v.dtype), "shape": list(v.shape), "sum": float(v.astype(np.float64).sum())} for k, v in tensors.items()
    }}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write()
    elif sys.argv[1:2] == ["verify"] and len(sys.argv) == 3:
        verify(sys.argv[2])
    else:
        sys.exit(__doc__)
