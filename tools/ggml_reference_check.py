#!/usr/bin/env python3
"""Checks tools/gguf_fixture.py's reference quantisers and dequantisers against ggml's own C functions.

A hand check, not a test (the tests never run Python): through ctypes it calls quantize_row_*_ref and
dequantize_row_* of the libggml-base.so that node-llama-cpp ships, on random blocks and on awkward, normal
and heavy-tailed values, and prints whether bytes and bits are identical for each type.

    cd SCRATCH && npm i -E node-llama-cpp@3.21.1
    python3 tools/ggml_reference_check.py SCRATCH/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
"""
import ctypes
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import gguf_fixture as g  # noqa: E402

NAMES = {"Q5_0": "q5_0", "Q5_1": "q5_1", "Q2_K": "q2_K", "Q3_K": "q3_K", "Q4_K": "q4_K", "Q5_K": "q5_K", "Q6_K": "q6_K",
         "IQ4_NL": "iq4_nl"}


def main():
    lib = ctypes.CDLL(str(Path(sys.argv[1]) / "libggml-base.so"))

    def ggml_quantize(t, x):
        _, qk, size = g.KQ_TYPES[t]
        x = np.ascontiguousarray(x, np.float32).reshape(-1)
        out = ctypes.create_string_buffer(x.size // qk * size)
        f = getattr(lib, "quantize_row_%s_ref" % NAMES[t])
        f.restype = None
        f(x.ctypes.data_as(ctypes.c_void_p), out, ctypes.c_int64(x.size))
        return out.raw

    def ggml_dequantize(t, raw):
        _, qk, size = g.KQ_TYPES[t]
        y = np.zeros(len(raw) // size * qk, np.float32)
        f = getattr(lib, "dequantize_row_%s" % NAMES[t])
        f.restype = None
        f(ctypes.c_char_p(raw), y.ctypes.data_as(ctypes.c_void_p), ctypes.c_int64(y.size))
        return y

    r = np.random.default_rng(1)
    failures = 0
    for t, (_, qk, size) in g.KQ_TYPES.items():
        raw = r.integers(0, 256, (64, size), dtype=np.uint8)
        for at in g.HALF_FIELDS[t]:
            raw[:, at:at + 2] = g.f2h(r.normal(0, 0.05, 64))[:, None].view(np.uint8)
        same = np.array_equal(g.dequantize(t, raw.tobytes()).view(np.uint32), ggml_dequantize(t, raw.tobytes()).view(np.uint32))
        print(t, "dequantize, random blocks, bit-identical:", same)
        failures += not same
        if t == "IQ4_NL":
            continue  # no reference quantiser here
        for name, x in [("awkward", g.awkward(4, 768, 11)), ("normal", r.normal(0, 0.3, (8, 512)).astype(np.float32)),
                        ("heavy-tailed", (r.standard_t(4, (16, 768)) * 0.1).astype(np.float32))]:
            same = g.quantize(t, x) == ggml_quantize(t, x)
            print(t, "quantize,", name, "values, byte-identical:", same)
            failures += not same
    print("failures:", failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
