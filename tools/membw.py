#!/usr/bin/env python3
"""Memory read bandwidth as one numpy thread sees it: the reference for `./myllm bench generate`,
whose decoding reads every weight once per token (tokens/s x weight bytes = GB/s read).
Several cores together read faster, so this is a floor of the machine's ceiling.

Usage: python3 tools/membw.py [GiB]   (default 2: far larger than the caches)
Prints `read_gbps` (the median of five sums over the array).
"""
import sys
import time

import numpy as np

size = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
x = np.ones(int(size * (1 << 30)) // 4, dtype=np.float32)
x.sum()  # touch every page first
speeds = []
for _ in range(5):
    start = time.perf_counter()
    x.sum()
    speeds.append(x.nbytes / (time.perf_counter() - start) / 1e9)
speeds.sort()
print(f"read_gbps {speeds[len(speeds) // 2]:.1f}")
