#!/usr/bin/env python3
"""Writes small GPT-2 GGUF files with plain struct/numpy (no gguf package) and float64 reference logits.

An independent oracle for myllm's GGUF reader: a tiny random GPT-2 (2 layers, width 32, context 32)
with a 261-token byte-level BPE vocabulary is written as GGUF v3 in F32, F16, BF16, Q8_0, Q4_0 and
Q4_1 (quantised as ggml's reference quantize_row_* functions do), and for each file the logits of a
fixed id sequence are computed in float64 from the weights as stored (dequantised).

    python3 tools/gguf_fixture.py src/test/resources/gguf
"""
import struct
import sys
from pathlib import Path

import numpy as np

C, H, L, T = 32, 2, 2, 32
F = 4 * C
IDS = [256, 72, 101, 108, 108, 111, 258, 259, 32, 33, 260, 119, 111, 114]


def byte_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


B2U = byte_unicode()
TOKENS = [B2U[b] for b in range(256)]
MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n")]
for a, b in MERGES:
    TOKENS.append(a + b)
TOKENS.append("<|endoftext|>")
V = len(TOKENS)  # 261
EOT = V - 1
TYPES = [1] * (V - 1) + [3]


def weights(seed=7):
    r = np.random.default_rng(seed)
    w = {"token_embd.weight": r.normal(0, 0.5, (V, C)), "position_embd.weight": r.normal(0, 0.2, (T, C))}
    for i in range(L):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = 1 + r.normal(0, 0.1, C)
        w[p + "attn_norm.bias"] = r.normal(0, 0.1, C)
        w[p + "attn_qkv.weight"] = r.normal(0, 0.4, (3 * C, C))
        w[p + "attn_qkv.bias"] = r.normal(0, 0.1, 3 * C)
        w[p + "attn_output.weight"] = r.normal(0, 0.2, (C, C))
        w[p + "attn_output.bias"] = r.normal(0, 0.1, C)
        w[p + "ffn_norm.weight"] = 1 + r.normal(0, 0.1, C)
        w[p + "ffn_norm.bias"] = r.normal(0, 0.1, C)
        w[p + "ffn_up.weight"] = r.normal(0, 0.2, (F, C))
        w[p + "ffn_up.bias"] = r.normal(0, 0.1, F)
        w[p + "ffn_down.weight"] = r.normal(0, 0.1, (C, F))
        w[p + "ffn_down.bias"] = r.normal(0, 0.1, C)
    w["output_norm.weight"] = 1 + r.normal(0, 0.1, C)
    w["output_norm.bias"] = r.normal(0, 0.1, C)
    return {k: v.astype(np.float32) for k, v in w.items()}


def f16(x):
    return np.asarray(x, np.float32).astype(np.float16)


def bf16_bits(x):
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def encode(t, x):
    """(bytes, dequantised float64 array) of x (rows, cols) stored as ggml type t."""
    x = np.asarray(x, np.float32)
    if t == "F32":
        return x.tobytes(), x.astype(np.float64)
    if t == "F16":
        h = f16(x)
        return h.tobytes(), h.astype(np.float64)
    if t == "BF16":
        b = bf16_bits(x)
        return b.tobytes(), (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    blocks = x.reshape(-1, 32)
    out = bytearray()
    deq = np.zeros_like(blocks, dtype=np.float64)
    for i, blk in enumerate(blocks):
        if t == "Q8_0":
            amax = np.max(np.abs(blk))
            d = amax / 127
            inv = 1 / d if d else 0
            q = round_away(blk * np.float32(inv)).astype(np.int8)
            dh = f16(d)
            out += dh.tobytes() + q.tobytes()
            deq[i] = q.astype(np.float64) * float(dh)
        elif t == "Q4_0":
            k = int(np.argmax(np.abs(blk)))
            mx = blk[k]
            d = np.float32(mx / -8)
            inv = np.float32(1 / d) if d else np.float32(0)
            q = np.minimum(15, np.trunc(blk * inv + np.float32(8.5)).astype(np.int8)).astype(np.uint8)
            dh = f16(d)
            out += dh.tobytes() + (q[:16] | (q[16:] << 4)).astype(np.uint8).tobytes()
            deq[i] = (q.astype(np.float64) - 8) * float(dh)
        elif t == "Q4_1":
            mn, mx = blk.min(), blk.max()
            d = np.float32((mx - mn) / 15)
            inv = np.float32(1 / d) if d else np.float32(0)
            q = np.minimum(15, np.trunc((blk - mn) * inv + np.float32(0.5)).astype(np.int8)).astype(np.uint8)
            dh, mh = f16(d), f16(mn)
            out += dh.tobytes() + mh.tobytes() + (q[:16] | (q[16:] << 4)).astype(np.uint8).tobytes()
            deq[i] = q.astype(np.float64) * float(dh) + float(mh)
    return bytes(out), deq.reshape(x.shape)


TYPE_ID = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 8, "BF16": 30}
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "BF16": 32}


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gstr(key) + struct.pack("<I", vtype) + payload


def write_gguf(path, ftype, w):
    kvs = [
        kv("general.architecture", 8, gstr("gpt2")),
        kv("general.name", 8, gstr("tiny-fixture")),
        kv("general.file_type", 4, struct.pack("<I", FILE_TYPE[ftype])),
        kv("general.quantization_version", 4, struct.pack("<I", 2)),
        kv("gpt2.context_length", 4, struct.pack("<I", T)),
        kv("gpt2.embedding_length", 4, struct.pack("<I", C)),
        kv("gpt2.feed_forward_length", 4, struct.pack("<I", F)),
        kv("gpt2.block_count", 4, struct.pack("<I", L)),
        kv("gpt2.attention.head_count", 4, struct.pack("<I", H)),
        kv("gpt2.attention.layer_norm_epsilon", 6, struct.pack("<f", 1e-5)),
        kv("tokenizer.ggml.model", 8, gstr("gpt2")),
        kv("tokenizer.ggml.pre", 8, gstr("gpt-2")),
        kv("tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, V) + b"".join(gstr(t) for t in TOKENS)),
        kv("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, V) + struct.pack(f"<{V}i", *TYPES)),
        kv("tokenizer.ggml.merges", 9, struct.pack("<IQ", 8, len(MERGES)) + b"".join(gstr(a + " " + b) for a, b in MERGES)),
        kv("tokenizer.ggml.bos_token_id", 4, struct.pack("<I", EOT)),
        kv("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", EOT)),
    ]
    infos, blobs, deq = [], [], {}
    offset = 0
    for name, x in w.items():
        t = ftype if x.ndim == 2 and name != "position_embd.weight" else "F32"
        data, deq[name] = encode(t, x)
        ne = list(reversed(x.shape))
        infos.append(gstr(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                     + struct.pack("<IQ", TYPE_ID[t], offset))
        pad = (-len(data)) % 32
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(kvs)) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * ((-len(head)) % 32)
    Path(path).write_bytes(head + b"".join(blobs))
    return deq


def layer_norm(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + 1e-5) * g + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward(w, ids):
    n = len(ids)
    x = w["token_embd.weight"][ids] + w["position_embd.weight"][:n]
    hd = C // H
    mask = np.triu(np.ones((n, n), bool), 1)
    for i in range(L):
        p = f"blk.{i}."
        a = layer_norm(x, w[p + "attn_norm.weight"], w[p + "attn_norm.bias"])
        qkv = a @ w[p + "attn_qkv.weight"].T + w[p + "attn_qkv.bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        heads = []
        for h in range(H):
            s = slice(h * hd, (h + 1) * hd)
            sc = q[:, s] @ k[:, s].T / np.sqrt(hd)
            sc[mask] = -np.inf
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            heads.append(sc @ v[:, s])
        x = x + np.concatenate(heads, -1) @ w[p + "attn_output.weight"].T + w[p + "attn_output.bias"]
        m = layer_norm(x, w[p + "ffn_norm.weight"], w[p + "ffn_norm.bias"])
        x = x + gelu(m @ w[p + "ffn_up.weight"].T + w[p + "ffn_up.bias"]) @ w[p + "ffn_down.weight"].T + w[p + "ffn_down.bias"]
    x = layer_norm(x, w["output_norm.weight"], w["output_norm.bias"])
    return x @ w["token_embd.weight"].T


LLMC_ORDER = ["attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "attn_qkv.bias", "attn_output.weight", "attn_output.bias",
              "ffn_norm.weight", "ffn_norm.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"]


def write_llmc(path, w, version):
    """llm.c's write_model: 256 int32 header, then params in fill_in_parameter_sizes order, wte padded to Vp rows."""
    vp = 272
    header = np.zeros(256, np.int32)
    header[:8] = [20240326, version, T, V, L, H, C, vp]
    wte = np.zeros((vp, C), np.float32)
    wte[:V] = w["token_embd.weight"]
    parts = [wte, w["position_embd.weight"]]
    for name in LLMC_ORDER:
        parts.append(np.stack([w[f"blk.{i}.{name}"] for i in range(L)]))
    parts += [w["output_norm.weight"], w["output_norm.bias"]]
    flat = np.concatenate([p.reshape(-1) for p in parts]).astype(np.float32)
    if version == 3:
        body, deq = flat.tobytes(), flat
    else:
        b = bf16_bits(flat)
        body, deq = b.tobytes(), (b.astype(np.uint32) << 16).view(np.float32)
    Path(path).write_bytes(header.tobytes() + body)
    # the same split back into named weights, as stored
    out, at = {}, 0
    def take(shape):
        nonlocal at
        n = int(np.prod(shape))
        a = deq[at:at + n].astype(np.float64).reshape(shape)
        at += n
        return a
    out["token_embd.weight"] = take((vp, C))[:V]
    out["position_embd.weight"] = take((T, C))
    for name in LLMC_ORDER:
        stacked = take((L,) + w[f"blk.0.{name}"].shape)
        for i in range(L):
            out[f"blk.{i}.{name}"] = stacked[i]
    out["output_norm.weight"] = take((C,))
    out["output_norm.bias"] = take((C,))
    return out


def npy(path, a):
    np.save(path, np.asarray(a, np.float32))


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/gguf")
    out.mkdir(parents=True, exist_ok=True)
    w = weights()
    for t in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1"]:
        deq = write_gguf(out / f"tiny-{t.lower()}.gguf", t, w)
        npy(out / f"tiny-{t.lower()}-logits.npy", forward(deq, IDS))
    np.save(out / "tiny-ids.npy", np.array(IDS, np.int32))
    for version in (3, 5):
        deq = write_llmc(out / f"tiny-llmc-v{version}.bin", w, version)
        npy(out / f"tiny-llmc-v{version}-logits.npy", forward(deq, IDS))


if __name__ == "__main__":
    main()
