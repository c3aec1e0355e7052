#!/usr/bin/env python3
"""The float32 matrix-product rate numpy (OpenBLAS) reaches on this machine: the practical ceiling
for `./myllm bench matmul` and `./myllm bench train`. Run it in the same sitting and quote ours as a ratio.

Usage: python3 tools/sgemm_ceiling.py [M K N ...]
Each triple is (M x K) @ (K x N); the default is GPT-2 small's training products at 256 rows.
Prints one line per shape and `ceiling_gflops` (the median).
"""
import os
import sys
import time

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) select a
# slower kernel in a current numpy: measure without them.
if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable] + sys.argv, clean)

import numpy as np


def gflops(m, k, n, seconds=1.0):
    g = np.random.default_rng(1)
    a = g.standard_normal((m, k), dtype=np.float32)
    b = g.standard_normal((k, n), dtype=np.float32)
    a @ b  # warm up
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
    return 2.0 * m * k * n * runs / (time.perf_counter() - start) / 1e9


nums = [int(x) for x in sys.argv[1:]]
if len(nums) % 3:
    sys.exit("usage: sgemm_ceiling.py [M K N ...] (triples)")
shapes = [tuple(nums[i:i + 3]) for i in range(0, len(nums), 3)] or [
    (256, 768, 2304), (256, 768, 3072), (256, 3072, 768), (256, 768, 50304)]
rates = []
for m, k, n in shapes:
    r = gflops(m, k, n)
    rates.append(r)
    print(f"sgemm {m}x{k}x{n}: {r:.1f} GFLOP/s")
rates.sort()
print(f"ceiling_gflops {rates[len(rates) // 2]:.1f}")
