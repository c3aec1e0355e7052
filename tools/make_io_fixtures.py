#!/usr/bin/env python3
"""Writes the fixtures of the dev.myllm.io tests with the reference libraries.

Needs numpy, safetensors and torch (torch only for the bfloat16 file); for example
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy safetensors torch
    /tmp/venv/bin/python tools/make_io_fixtures.py
Tests read only the files written here, under src/test/resources/io/; they never run Python.
"""
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "io")
os.makedirs(OUT, exist_ok=True)

# Float32 values that survive float16 and bfloat16 exactly, plus float16's extremes.
VALUES = [1.0, -2.5, 0.0, -0.0, 0.5, 3.0]


def main():
    # F32 only, names already in the library's order (same dtype, so sorted by name):
    # our writer, given this order and {"format": "pt"}, must reproduce the bytes exactly.
    f32 = {
        "a.weight": np.array(VALUES, dtype=np.float32).reshape(2, 3),
        "b.bias": np.array([0.1, -7.25], dtype=np.float32),
        "c.scalar": np.array(42.0, dtype=np.float32),
        "d.empty": np.zeros((0, 4), dtype=np.float32),
    }
    save_numpy(f32, os.path.join(OUT, "golden_f32.safetensors"), metadata={"format": "pt"})

    # F16 only: 65504 is float16's largest finite value, 2^-24 its smallest subnormal.
    f16 = {"h": np.array([1.0, -2.5, 65504.0, 2.0 ** -24, 2.0 ** -14, -0.0], dtype=np.float16)}
    save_numpy(f16, os.path.join(OUT, "golden_f16.safetensors"), metadata={"format": "pt"})

    # BF16 through torch, as transformers saves a bfloat16 model.
    bf16 = {"w": torch.tensor([[1.0, -2.5], [3.0e38, 2.0 ** -130]], dtype=torch.bfloat16)}
    save_torch(bf16, os.path.join(OUT, "golden_bf16.safetensors"), metadata={"format": "pt"})

    # Mixed dtypes, in insertion order different from the file's: the library sorts
    # by dtype size (largest first) and then by name.
    mixed = {
        "z16": np.array([0.25, -1.0], dtype=np.float16),
        "y32": np.arange(6, dtype=np.float32).reshape(3, 2),
        "x64": np.array([1.5], dtype=np.float64),
    }
    save_numpy(mixed, os.path.join(OUT, "mixed.safetensors"))

    # .npy files exactly as numpy.save writes them.
    np.save(os.path.join(OUT, "f32_2x3.npy"), np.array(VALUES, dtype=np.float32).reshape(2, 3))
    np.save(os.path.join(OUT, "i32_5.npy"), np.array([50256, 0, -1, 7, 2 ** 31 - 1], dtype=np.int32))
    np.save(os.path.join(OUT, "f32_scalar.npy"), np.array(1.5, dtype=np.float32))
    print("wrote fixtures to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
