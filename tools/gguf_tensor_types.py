#!/usr/bin/env python3
"""Records the tensor types of GGUF files written by llama.cpp's llama_model_quantize as a JSON fixture.

For each LABEL=FILE: general.file_type and every tensor's ggml type name and ne, in the file's order. The
fixtures of GgufMixtureTest (q4_k_m-types.json, q4_k_s-, q5_k_s-, q5_k_m-) are five exports of ours (F32)
quantised to Q4_K_M (15), Q4_K_S (14), Q5_K_S (16) and Q5_K_M (17) by tools/llama_quantize.py with node-llama-cpp
3.21.1's libllama, so the test compares our per-tensor choice with llama.cpp's without llama.cpp:

    python3 tools/gguf_tensor_types.py OUT.json gpt2-tiny=TINY.gguf demo=DEMO.gguf ...
"""
import json
import struct
import sys

# ggml's type numbers (ggml.h) for the names in the fixture
TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 10: "Q2_K", 11: "Q3_K",
         12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 20: "IQ4_NL", 30: "BF16"}
SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def read(path):
    b = open(path, "rb").read()
    if b[:4] != b"GGUF":
        raise SystemExit(path + ": not a GGUF file")
    pos = 4
    _, n_tensors, n_kv = struct.unpack_from("<IQQ", b, pos)
    pos += 20

    def string():
        nonlocal pos
        n, = struct.unpack_from("<Q", b, pos)
        pos += 8 + n
        return b[pos - n:pos].decode("utf8")

    def value(t):
        nonlocal pos
        if t == 8:
            return string()
        if t == 9:
            et, n = struct.unpack_from("<IQ", b, pos)
            pos += 12
            return [value(et) for _ in range(n)]
        fmt = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}[t]
        v, = struct.unpack_from("<" + fmt, b, pos)
        pos += SCALARS[t]
        return v

    kv = {}
    for _ in range(n_kv):
        key = string()
        t, = struct.unpack_from("<I", b, pos)
        pos += 4
        kv[key] = value(t)
    tensors = {}
    for _ in range(n_tensors):
        name = string()
        nd, = struct.unpack_from("<I", b, pos)
        pos += 4
        ne = list(struct.unpack_from("<%dQ" % nd, b, pos))
        pos += 8 * nd
        t, _ = struct.unpack_from("<IQ", b, pos)
        pos += 12
        tensors[name] = {"type": TYPES[t], "ne": ne}
    return {"file_type": kv["general.file_type"], "tensors": tensors}


def main():
    out = {}
    for arg in sys.argv[2:]:
        label, path = arg.split("=", 1)
        out[label] = read(path)
    # one tensor a line, so a change of llama.cpp's choice reads as a one-line diff
    lines = []
    for label, m in out.items():
        rows = [json.dumps(n) + ": " + json.dumps(t) for n, t in m["tensors"].items()]
        lines.append(' %s: {"file_type": %d, "tensors": {\n  %s\n }}' % (json.dumps(label), m["file_type"], ",\n  ".join(rows)))
    with open(sys.argv[1], "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
