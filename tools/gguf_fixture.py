#!/usr/bin/env python3
"""Writes small GPT-2 GGUF files with plain struct/numpy (no gguf package) and float64 reference logits.

An independent oracle for myllm's GGUF reader: a tiny random GPT-2 (2 layers, width 32, context 32)
with a 261-token byte-level BPE vocabulary is written as GGUF v3 in F32, F16, BF16, Q8_0, Q4_0 and
Q4_1 (quantised as ggml's reference quantize_row_* functions do), and for each file the logits of a
fixed id sequence are computed in float64 from the weights as stored (dequantised).

The types llama.cpp's llama-quantize writes besides (Q5_0, Q5_1, IQ4_NL, Q2_K to Q6_K) get reference
quantisers (ggml's quantize_row_*_ref: llama-quantize without an importance matrix) and dequantisers
(dequantize_row_*), written from ggml-quants.c's logic: kquants.gguf holds random, all-zero and
quantised blocks of each beside their dequantised values, and tiny256-*.gguf a GPT-2 of width 256 (rows
of whole 256-value super-blocks) in llama-quantize-like mixtures, with logits. Checked by hand against
ggml's own C functions (libggml-base of node-llama-cpp, through ctypes): the same bytes and bits.

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


def weights(seed=7, C=C, L=L, T=T):
    F = 4 * C
    k = (32 / C) ** 0.5  # wider models get smaller weights, as trained ones have: not a chaotic one at width 256
    r = np.random.default_rng(seed)
    w = {"token_embd.weight": r.normal(0, 0.5, (V, C)), "position_embd.weight": r.normal(0, 0.2, (T, C))}
    for i in range(L):
        p = f"blk.{i}."
        w[p + "attn_norm.weight"] = 1 + r.normal(0, 0.1, C)
        w[p + "attn_norm.bias"] = r.normal(0, 0.1, C)
        w[p + "attn_qkv.weight"] = r.normal(0, 0.4 * k, (3 * C, C))
        w[p + "attn_qkv.bias"] = r.normal(0, 0.1, 3 * C)
        w[p + "attn_output.weight"] = r.normal(0, 0.2 * k, (C, C))
        w[p + "attn_output.bias"] = r.normal(0, 0.1, C)
        w[p + "ffn_norm.weight"] = 1 + r.normal(0, 0.1, C)
        w[p + "ffn_norm.bias"] = r.normal(0, 0.1, C)
        w[p + "ffn_up.weight"] = r.normal(0, 0.2 * k, (F, C))
        w[p + "ffn_up.bias"] = r.normal(0, 0.1, F)
        w[p + "ffn_down.weight"] = r.normal(0, 0.1 * k, (C, F))
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
    if t in KQ_TYPES:
        data = quantize(t, x)
        return data, dequantize(t, data).astype(np.float64).reshape(x.shape)
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
# llama.cpp's llama_ftype numbers, the K-quant mixtures among them
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "BF16": 32, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10,
             "Q3_K_M": 12, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gstr(key) + struct.pack("<I", vtype) + payload


def write_gguf(path, ftype, w, dims=(C, H, L, T), types=None):
    """Writes the GPT-2 weights w; matrices as ftype, or as types(name) says when given (1-D and position_embd F32)."""
    C, H, L, T = dims
    F = 4 * C
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
        t = (types(name) if types else ftype) if x.ndim == 2 and name != "position_embd.weight" else "F32"
        data, deq[name] = encode(t, x)
        ne = list(reversed(x.shape))
        infos.append(gstr(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                     + struct.pack("<IQ", TYPE_ID[t] if t in TYPE_ID else KQ_TYPES[t][0], offset))
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


def forward(w, ids, dims=(C, H, L, T)):
    C, H, L, T = dims
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


# ---------------------------------------------------------------------------------------------------
# The other types llama.cpp's llama-quantize writes: Q5_0, Q5_1, IQ4_NL and the K-quants (super-blocks
# of QK_K = 256). Reference quantisers and dequantisers written from ggml-quants.c's logic (the *_ref
# quantisers, which are what llama-quantize runs without an importance matrix, and dequantize_row_*),
# vectorised over blocks with numpy float32 arithmetic in the C code's order of operations, so that every
# rounding is the one the C code makes (no fused multiply-adds).

QK_K = 256
F32 = np.float32
KQ_TYPES = {  # name: (ggml type id, values per block, bytes per block)
    "Q5_0": (6, 32, 22), "Q5_1": (7, 32, 24), "Q2_K": (10, 256, 84), "Q3_K": (11, 256, 110),
    "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210), "IQ4_NL": (20, 32, 18),
}
IQ4_NL_VALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], np.int8)


def nearest_int(v):
    """ggml's nearest_int: v + 1.5*2^23 in float32, the integer read from the mantissa (ties to even)."""
    with np.errstate(all="ignore"):
        t = (np.asarray(v, F32) + F32(12582912.0)).astype(F32)
    return (t.view(np.int32) & 0x007FFFFF) - 0x00400000


def h2f(b):
    """Little-endian f16 bytes (..., 2) as float32."""
    return np.ascontiguousarray(b).view("<f2")[..., 0].astype(F32)


def f2h(x):
    return np.asarray(x, F32).astype("<f2")


def h16(x):
    """x through f16 and back, as the C code's GGML_FP16_TO_FP32(GGML_FP32_TO_FP16(x))."""
    return f2h(x).astype(F32)


def scale_min_k4(sc):
    """get_scale_min_k4 for j = 0..7 of the 12 packed bytes (nb, 12): 6-bit scales and mins (nb, 8)."""
    sc = sc.astype(np.int32)
    s = np.zeros((sc.shape[0], 8), np.int32)
    m = np.zeros_like(s)
    for j in range(8):
        if j < 4:
            s[:, j] = sc[:, j] & 63
            m[:, j] = sc[:, j + 4] & 63
        else:
            s[:, j] = (sc[:, j + 4] & 0xF) | ((sc[:, j - 4] >> 6) << 4)
            m[:, j] = (sc[:, j + 4] >> 4) | ((sc[:, j] >> 6) << 4)
    return s, m


def q3_scales(sc):
    """The sixteen 6-bit scales of a Q3_K block's 12 bytes, minus 32 (nb, 16)."""
    sc = sc.astype(np.int32)
    out = np.zeros((sc.shape[0], 16), np.int32)
    for j in range(16):
        lo = sc[:, j] & 0xF if j < 8 else sc[:, j - 8] >> 4
        hi = (sc[:, 8 + j % 4] >> (2 * (j // 4))) & 3
        out[:, j] = (lo | (hi << 4)) - 32
    return out


def dequantize(t, raw):
    """dequantize_row_* of ggml type t over the bytes raw: float32 values."""
    _, qk, size = KQ_TYPES[t]
    b = np.frombuffer(bytes(raw), np.uint8).reshape(-1, size)
    nb = b.shape[0]
    y = np.zeros((nb, qk), F32)
    if t in ("Q5_0", "Q5_1", "IQ4_NL"):
        d = h2f(b[:, 0:2])[:, None]
        if t == "IQ4_NL":
            qs = b[:, 2:18].astype(np.int32)
            y[:, :16] = d * IQ4_NL_VALUES[qs & 0xF].astype(F32)
            y[:, 16:] = d * IQ4_NL_VALUES[qs >> 4].astype(F32)
            return y.reshape(-1)
        at = 2 if t == "Q5_0" else 4
        qh = b[:, at:at + 4].copy().view("<u4")[:, 0].astype(np.int64)
        qs = b[:, at + 4:at + 20].astype(np.int64)
        j = np.arange(16)
        x0 = (qs & 0xF) | (((qh[:, None] >> j) << 4) & 0x10)
        x1 = (qs >> 4) | ((qh[:, None] >> (j + 12)) & 0x10)
        if t == "Q5_0":
            y[:, :16] = (x0 - 16).astype(F32) * d
            y[:, 16:] = (x1 - 16).astype(F32) * d
        else:
            m = h2f(b[:, 2:4])[:, None]
            y[:, :16] = x0.astype(F32) * d + m
            y[:, 16:] = x1.astype(F32) * d + m
        return y.reshape(-1)
    if t == "Q2_K":
        sc = b[:, 0:16].astype(np.int32)
        qs = b[:, 16:80].astype(np.int32)
        d, dmin = h2f(b[:, 80:82]), h2f(b[:, 82:84])
        for half in range(2):
            for j in range(4):
                for part in range(2):
                    sub = 8 * half + 2 * j + part
                    dl = d * (sc[:, sub] & 0xF).astype(F32)
                    ml = dmin * (sc[:, sub] >> 4).astype(F32)
                    q = (qs[:, 32 * half + 16 * part:32 * half + 16 * part + 16] >> (2 * j)) & 3
                    y[:, 16 * sub:16 * sub + 16] = dl[:, None] * q.astype(F32) - ml[:, None]
        return y.reshape(-1)
    if t == "Q3_K":
        hm = b[:, 0:32].astype(np.int32)
        qs = b[:, 32:96].astype(np.int32)
        scales = q3_scales(b[:, 96:108])
        d = h2f(b[:, 108:110])
        for half in range(2):
            for j in range(4):
                bit = 1 << (4 * half + j)
                for part in range(2):
                    sub = 8 * half + 2 * j + part
                    dl = d * scales[:, sub].astype(F32)
                    lo = (qs[:, 32 * half + 16 * part:32 * half + 16 * part + 16] >> (2 * j)) & 3
                    high = hm[:, 16 * part:16 * part + 16] & bit
                    q = lo - np.where(high != 0, 0, 4)
                    y[:, 16 * sub:16 * sub + 16] = dl[:, None] * q.astype(F32)
        return y.reshape(-1)
    if t in ("Q4_K", "Q5_K"):
        d, dmin = h2f(b[:, 0:2]), h2f(b[:, 2:4])
        s, m = scale_min_k4(b[:, 4:16])
        if t == "Q4_K":
            qs, qh = b[:, 16:144].astype(np.int32), None
        else:
            qh, qs = b[:, 16:48].astype(np.int32), b[:, 48:176].astype(np.int32)
        for c in range(4):
            q = qs[:, 32 * c:32 * c + 32]
            for part in range(2):
                sub = 2 * c + part
                v = q & 0xF if part == 0 else q >> 4
                if qh is not None:
                    v = v + np.where(qh & (1 << sub) != 0, 16, 0)
                d1 = d * s[:, sub].astype(F32)
                m1 = dmin * m[:, sub].astype(F32)
                y[:, 32 * sub:32 * sub + 32] = d1[:, None] * v.astype(F32) - m1[:, None]
        return y.reshape(-1)
    if t == "Q6_K":
        ql = b[:, 0:128].astype(np.int32)
        qh = b[:, 128:192].astype(np.int32)
        sc = b[:, 192:208].view(np.int8).astype(F32)
        d = h2f(b[:, 208:210])
        for half in range(2):
            L, H = ql[:, 64 * half:64 * half + 64], qh[:, 32 * half:32 * half + 32]
            quarters = [(L[:, :32] & 0xF) | ((H & 3) << 4), (L[:, 32:] & 0xF) | (((H >> 2) & 3) << 4),
                        (L[:, :32] >> 4) | (((H >> 4) & 3) << 4), (L[:, 32:] >> 4) | (((H >> 6) & 3) << 4)]
            for k, q in enumerate(quarters):
                for l16 in range(2):
                    sub = 8 * half + 2 * k + l16
                    col = 128 * half + 32 * k + 16 * l16
                    y[:, col:col + 16] = (d * sc[:, sub])[:, None] * (q[:, 16 * l16:16 * l16 + 16] - 32).astype(F32)
        return y.reshape(-1)
    raise ValueError(t)


def seq_sum(terms):
    """Sums the columns of (rows, n) left to right in float32, as a C loop does."""
    acc = np.zeros(terms.shape[0], F32)
    for i in range(terms.shape[1]):
        acc = (acc + terms[:, i]).astype(F32)
    return acc


def make_qkx2_quants(x, w, nmax, rmin, rdelta, nstep, use_mad):
    """ggml's make_qkx2_quants over rows of x (rows, n): (scale, the_min, L)."""
    rows, n = x.shape
    mn, mx = x[:, 0].copy(), x[:, 0].copy()
    sum_w = w[:, 0].copy()
    sum_x = (sum_w * x[:, 0]).astype(F32)
    for i in range(1, n):
        mn = np.where(x[:, i] < mn, x[:, i], mn)
        mx = np.where(x[:, i] > mx, x[:, i], mx)
        sum_w = (sum_w + w[:, i]).astype(F32)
        sum_x = (sum_x + w[:, i] * x[:, i]).astype(F32)
    mn = np.where(mn > 0, F32(0), mn).astype(F32)
    flat = mx == mn
    flat_min = mn.copy()
    err = (lambda dd: np.abs(dd)) if use_mad else (lambda dd: dd * dd)
    with np.errstate(all="ignore"):
        iscale = (F32(nmax) / (mx - mn)).astype(F32)
        scale = (F32(1) / iscale).astype(F32)
        L = np.clip(nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
        diff = (scale[:, None] * L.astype(F32) + mn[:, None]) - x
        best = seq_sum(w * err(diff))
        for step in range(nstep + 1):
            iscale = ((F32(rmin) + F32(rdelta) * F32(step) + F32(nmax)) / (mx - mn)).astype(F32)
            Laux = np.clip(nearest_int(iscale[:, None] * (x - mn[:, None])), 0, nmax)
            lf = Laux.astype(F32)
            sum_l = seq_sum(w * lf)
            sum_l2 = seq_sum(w * lf * lf)
            sum_xl = seq_sum(w * lf * x)
            D = (sum_w * sum_l2 - sum_l * sum_l).astype(F32)
            ok = D > 0
            this_scale = ((sum_w * sum_xl - sum_x * sum_l) / D).astype(F32)
            this_min = ((sum_l2 * sum_x - sum_l * sum_xl) / D).astype(F32)
            pos = this_min > 0
            this_min = np.where(pos, F32(0), this_min).astype(F32)
            this_scale = np.where(pos, sum_xl / sum_l2, this_scale).astype(F32)
            cur = seq_sum(w * err((this_scale[:, None] * lf + this_min[:, None]) - x))
            better = ok & (cur < best) & ~flat
            L = np.where(better[:, None], Laux, L)
            best = np.where(better, cur, best)
            scale = np.where(better, this_scale, scale)
            mn = np.where(better, this_min, mn)
    L = np.where(flat[:, None], 0, L)
    scale = np.where(flat, F32(0), scale).astype(F32)
    mn = np.where(flat, flat_min, mn)
    return scale, (-mn).astype(F32), L


def abs_max_signed(x):
    """The first value of largest magnitude of each row (ggml's `if (ax > amax)` loop), and that magnitude."""
    k = np.argmax(np.abs(x), axis=1)
    mx = x[np.arange(x.shape[0]), k]
    return mx, np.abs(mx)


def make_qx_quants_rmse1(x, nmax):
    """ggml's make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL) over rows: (scale, L in 0..2 nmax-1)."""
    mx, amax = abs_max_signed(x)
    zero = amax < F32(1e-15)
    w = (x * x).astype(F32)
    with np.errstate(all="ignore"):
        def fit(iscale):
            l = np.clip(nearest_int(iscale[:, None] * x), -nmax, nmax - 1)
            lf = l.astype(F32)
            return l, seq_sum(w * x * lf), seq_sum(w * lf * lf)
        iscale = (F32(-nmax) / mx).astype(F32)
        l, sumlx, suml2 = fit(iscale)
        L = l + nmax
        scale = np.where(suml2 != 0, sumlx / suml2, F32(0)).astype(F32)
        best = (scale * sumlx).astype(F32)
        for step in range(-9, 10):
            if step == 0:
                continue
            iscale = (-(F32(nmax) + F32(0.1) * F32(step)) / mx).astype(F32)
            l, sumlx, suml2 = fit(iscale)
            better = (suml2 > 0) & (sumlx * sumlx > best * suml2) & ~zero
            L = np.where(better[:, None], l + nmax, L)
            scale = np.where(better, sumlx / suml2, scale).astype(F32)
            best = np.where(better, scale * sumlx, best).astype(F32)
    L = np.where(zero[:, None], 0, L)
    return np.where(zero, F32(0), scale).astype(F32), L


def make_q3_quants(x, nmax):
    """ggml's make_q3_quants(n, nmax, x, L, do_rmse=true) over rows: (scale, L in 0..2 nmax-1)."""
    rows, n = x.shape
    mx, amax = abs_max_signed(x)
    zero = amax < F32(1e-15)
    with np.errstate(all="ignore"):
        iscale = (F32(-nmax) / mx).astype(F32)
        L = np.clip(nearest_int(iscale[:, None] * x), -nmax, nmax - 1)
        w = (x * x).astype(F32)
        sumlx = seq_sum(w * x * L.astype(F32))
        suml2 = seq_sum(w * L.astype(F32) * L.astype(F32))
        active = ~zero
        for _ in range(5):
            changed = np.zeros(rows, bool)
            for i in range(n):
                wi, xi, li = w[:, i], x[:, i], L[:, i].astype(F32)
                slx = (sumlx - wi * xi * li).astype(F32)
                sl2 = (suml2 - wi * li * li).astype(F32)
                new_l = np.clip(nearest_int(xi * sl2 / slx), -nmax, nmax - 1)
                nf = new_l.astype(F32)
                slx2 = (slx + wi * xi * nf).astype(F32)
                sl22 = (sl2 + wi * nf * nf).astype(F32)
                take = active & (slx > 0) & (new_l != L[:, i]) & (sl22 > 0) & (slx2 * slx2 * suml2 > sumlx * sumlx * sl22)
                L[:, i] = np.where(take, new_l, L[:, i])
                sumlx = np.where(take, slx2, sumlx).astype(F32)
                suml2 = np.where(take, sl22, suml2).astype(F32)
                changed |= take
            active &= changed
        scale = np.where(suml2 > 0, sumlx / suml2, F32(0)).astype(F32)
    L = np.where(zero[:, None], 0, L + nmax)
    return np.where(zero, F32(0), scale).astype(F32), L


def pack2(L):
    """Four 2-bit values per byte, as Q2_K and Q3_K store them: (nb, 256) → (nb, 64)."""
    qs = np.zeros((L.shape[0], 64), np.uint8)
    for j in (0, 128):
        for k in range(4):
            qs[:, j // 4:j // 4 + 32] |= (L[:, j + 32 * k:j + 32 * k + 32] << (2 * k)).astype(np.uint8)
    return qs


def pack_scale_min_k4(ls, lm):
    sc = np.zeros((ls.shape[0], 12), np.uint8)
    for j in range(8):
        if j < 4:
            sc[:, j] = ls[:, j]
            sc[:, j + 4] = lm[:, j]
        else:
            sc[:, j + 4] = (ls[:, j] & 0xF) | ((lm[:, j] & 0xF) << 4)
            sc[:, j - 4] |= (ls[:, j] >> 4) << 6
            sc[:, j] |= (lm[:, j] >> 4) << 6
    return sc


def quantize(t, x):
    """quantize_row_*_ref of ggml type t over x (a multiple of the block): the bytes."""
    _, qk, size = KQ_TYPES[t]
    x = np.asarray(x, F32).reshape(-1, qk)
    nb = x.shape[0]
    if t in ("Q5_0", "Q5_1"):
        qs = np.zeros((nb, 16), np.uint8)
        qh = np.zeros(nb, np.uint32)
        if t == "Q5_0":
            mx, _ = abs_max_signed(x)
            d = (mx / F32(-16)).astype(F32)
            with np.errstate(all="ignore"):
                inv = np.where(d != 0, F32(1) / d, F32(0)).astype(F32)
            q = np.minimum(31, np.trunc(x * inv[:, None] + F32(16.5)).astype(np.int32))
            head = f2h(d)[:, None].view(np.uint8)
        else:
            mn = x.min(axis=1)
            d = ((x.max(axis=1) - mn) / F32(31)).astype(F32)
            with np.errstate(all="ignore"):
                inv = np.where(d != 0, F32(1) / d, F32(0)).astype(F32)
            q = np.trunc((x - mn[:, None]) * inv[:, None] + F32(0.5)).astype(np.int32) & 0xFF
            head = np.concatenate([f2h(d)[:, None].view(np.uint8), f2h(mn)[:, None].view(np.uint8)], axis=1)
        for j in range(16):
            qs[:, j] = (q[:, j] & 0xF) | ((q[:, j + 16] & 0xF) << 4)
            qh |= (((q[:, j] & 0x10) >> 4) << j).astype(np.uint32)
            qh |= (((q[:, j + 16] & 0x10) >> 4) << (j + 16)).astype(np.uint32)
        return np.concatenate([head, qh[:, None].view(np.uint8), qs], axis=1).tobytes()
    if t in ("Q2_K", "Q4_K", "Q5_K"):
        sub = 16 if t == "Q2_K" else 32
        nsub = QK_K // sub
        xs = x.reshape(nb * nsub, sub)
        if t == "Q2_K":
            w = np.abs(xs)
            scales, mins, L = make_qkx2_quants(xs, w, 3, -0.5, 0.1, 15, True)
        else:
            av = np.sqrt(seq_sum(xs * xs) / F32(32)).astype(F32)
            w = (av[:, None] + np.abs(xs)).astype(F32)
            nmax = 15 if t == "Q4_K" else 31
            scales, mins, L = make_qkx2_quants(xs, w, nmax, -1.0 if t == "Q4_K" else -0.5, 0.1, 20 if t == "Q4_K" else 15, False)
        scales, mins, L = scales.reshape(nb, nsub), mins.reshape(nb, nsub), L.reshape(nb, QK_K)
        max_scale = np.maximum(scales.max(axis=1), 0).astype(F32)
        max_min = np.maximum(mins.max(axis=1), 0).astype(F32)
        if t == "Q2_K":
            with np.errstate(all="ignore"):
                iscale = (F32(15) / max_scale).astype(F32)
                imin = (F32(15) / max_min).astype(F32)
                ls = np.where(max_scale[:, None] > 0, nearest_int(iscale[:, None] * scales), 0) & 0xFF
                lm = np.where(max_min[:, None] > 0, nearest_int(imin[:, None] * mins), 0)
            sc = ((ls | (lm << 4)) & 0xFF).astype(np.uint8)
            d = h16(np.where(max_scale > 0, max_scale / F32(15), F32(0)))
            dmin = h16(np.where(max_min > 0, max_min / F32(15), F32(0)))
            dl = (d[:, None] * (sc & 0xF).astype(F32)).astype(F32)
            ml = (dmin[:, None] * (sc >> 4).astype(F32)).astype(F32)
            with np.errstate(all="ignore"):
                l = np.clip(nearest_int((xs.reshape(nb, nsub, sub) + ml[:, :, None]) / dl[:, :, None]), 0, 3)
            L = np.where((dl != 0)[:, :, None], l, L.reshape(nb, nsub, sub)).reshape(nb, QK_K)
            return np.concatenate([sc, pack2(L), f2h(d)[:, None].view(np.uint8), f2h(dmin)[:, None].view(np.uint8)], axis=1).tobytes()
        inv_scale = np.where(max_scale > 0, F32(63) / np.where(max_scale > 0, max_scale, 1), F32(0)).astype(F32)
        inv_min = np.where(max_min > 0, F32(63) / np.where(max_min > 0, max_min, 1), F32(0)).astype(F32)
        ls = np.minimum(63, nearest_int(inv_scale[:, None] * scales) & 0xFF).astype(np.uint8)
        lm = np.minimum(63, nearest_int(inv_min[:, None] * mins) & 0xFF).astype(np.uint8)
        sc = pack_scale_min_k4(ls, lm)
        d, dmin = h16(max_scale / F32(63)), h16(max_min / F32(63))
        s6, m6 = scale_min_k4(sc)
        dl = (d[:, None] * s6.astype(F32)).astype(F32)
        ml = (dmin[:, None] * m6.astype(F32)).astype(F32)
        nmax = 15 if t == "Q4_K" else 31
        with np.errstate(all="ignore"):
            l = np.clip(nearest_int((xs.reshape(nb, nsub, sub) + ml[:, :, None]) / dl[:, :, None]), 0, nmax)
        L = np.where((dl != 0)[:, :, None], l, L.reshape(nb, nsub, sub)).reshape(nb, QK_K)
        head = np.concatenate([f2h(d)[:, None].view(np.uint8), f2h(dmin)[:, None].view(np.uint8), sc], axis=1)
        if t == "Q4_K":
            qs = np.concatenate([L[:, j:j + 32] | (L[:, j + 32:j + 64] << 4) for j in range(0, QK_K, 64)], axis=1).astype(np.uint8)
            return np.concatenate([head, qs], axis=1).tobytes()
        qh = np.zeros((nb, 32), np.uint8)
        ql = []
        for c, j in enumerate(range(0, QK_K, 64)):
            l1, l2 = L[:, j:j + 32], L[:, j + 32:j + 64]
            qh |= (np.where(l1 > 15, 1 << (2 * c), 0) | np.where(l2 > 15, 2 << (2 * c), 0)).astype(np.uint8)
            ql.append(((l1 & 0xF) | ((l2 & 0xF) << 4)).astype(np.uint8))
        return np.concatenate([head, qh] + ql, axis=1).tobytes()
    if t == "Q3_K":
        xs = x.reshape(nb * 16, 16)
        scales, L = make_q3_quants(xs, 4)
        scales, L = scales.reshape(nb, 16), L.reshape(nb, QK_K)
        k = np.argmax(np.abs(scales), axis=1)
        max_scale = scales[np.arange(nb), k]
        sc = np.zeros((nb, 12), np.uint8)
        with np.errstate(all="ignore"):
            iscale = (F32(-32) / max_scale).astype(F32)
            l = nearest_int(iscale[:, None] * scales).astype(np.int8).astype(np.int32)  # int8_t l = nearest_int(...)
        l = np.clip(l, -32, 31) + 32
        for j in range(16):
            lj = np.where(max_scale != 0, l[:, j], 0)
            if j < 8:
                sc[:, j] |= (lj & 0xF).astype(np.uint8)
            else:
                sc[:, j - 8] |= ((lj & 0xF) << 4).astype(np.uint8)
            sc[:, j % 4 + 8] |= ((lj >> 4) << (2 * (j // 4))).astype(np.uint8)
        d = h16(np.where(max_scale != 0, F32(1) / iscale, F32(0)))
        dl = (d[:, None] * q3_scales(sc).astype(F32)).astype(F32)
        with np.errstate(all="ignore"):
            q = np.clip(nearest_int(x.reshape(nb, 16, 16) / dl[:, :, None]), -4, 3) + 4
        L = np.where((dl != 0)[:, :, None], q, L.reshape(nb, 16, 16)).reshape(nb, QK_K)
        hmask = np.zeros((nb, 32), np.uint8)
        for j in range(QK_K):
            high = L[:, j] > 3
            hmask[:, j % 32] |= np.where(high, 1 << (j // 32), 0).astype(np.uint8)
            L[:, j] = np.where(high, L[:, j] - 4, L[:, j])
        return np.concatenate([hmask, pack2(L), sc, f2h(d)[:, None].view(np.uint8)], axis=1).tobytes()
    if t == "Q6_K":
        xs = x.reshape(nb * 16, 16)
        scales, L = make_qx_quants_rmse1(xs, 32)
        scales, L = scales.reshape(nb, 16), L.reshape(nb, QK_K)
        k = np.argmax(np.abs(scales), axis=1)
        max_scale = scales[np.arange(nb), k]
        zero = np.abs(max_scale) < F32(1e-15)
        with np.errstate(all="ignore"):
            iscale = (F32(-128) / max_scale).astype(F32)
            d = h16(np.where(zero, F32(0), F32(1) / iscale))
            sc = np.where(zero[:, None], 0, np.minimum(127, nearest_int(iscale[:, None] * scales))).astype(np.int8)
            dl = (d[:, None] * sc.astype(F32)).astype(F32)
            q = np.clip(nearest_int(x.reshape(nb, 16, 16) / dl[:, :, None]), -32, 31) + 32
        L = np.where((dl != 0)[:, :, None], q, L.reshape(nb, 16, 16)).reshape(nb, QK_K)
        L = np.where(zero[:, None], 0, L)
        ql = np.zeros((nb, 128), np.uint8)
        qh = np.zeros((nb, 64), np.uint8)
        for half, j in enumerate((0, 128)):
            q1, q2, q3, q4 = (L[:, j + 32 * k:j + 32 * k + 32] for k in range(4))
            ql[:, 64 * half:64 * half + 32] = (q1 & 0xF) | ((q3 & 0xF) << 4)
            ql[:, 64 * half + 32:64 * half + 64] = (q2 & 0xF) | ((q4 & 0xF) << 4)
            qh[:, 32 * half:32 * half + 32] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
        return np.concatenate([ql, qh, sc.view(np.uint8), f2h(d)[:, None].view(np.uint8)], axis=1).tobytes()
    raise ValueError(t)



# Where each block type keeps its f16 scales (byte ranges in a block): the random blocks get finite ones there.
HALF_FIELDS = {"Q5_0": [0], "Q5_1": [0, 2], "IQ4_NL": [0], "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def awkward(rows, cols, seed):
    """Values with the cases quantisers treat apart, one per 256: zeros, all negative, an outlier, a constant, tiny, normal."""
    r = np.random.default_rng(seed)
    x = r.normal(0, 1, (rows * cols // 256, 256)).astype(F32)
    for i in range(x.shape[0]):
        case = i % 6
        if case == 0:
            x[i] = 0
        elif case == 1:
            x[i] = -np.abs(x[i]) - 0.5
        elif case == 2:
            x[i, 7] = 40
        elif case == 3:
            x[i] = 0.25
        elif case == 4:
            x[i] *= 1e-3
            x[i, :32] = 0  # an all-zero sub-block beside others
    return x.reshape(rows, cols)


def write_tensors(path, tensors):
    """A GGUF v3 file of just these tensors: (name, (rows, cols), type name, bytes)."""
    kvs = [kv("general.name", 8, gstr("block-fixtures"))]
    infos, blobs, offset = [], [], 0
    for name, (rows, cols), t, data in tensors:
        tid = TYPE_ID[t] if t in TYPE_ID else KQ_TYPES[t][0]
        infos.append(gstr(name) + struct.pack("<I", 2) + struct.pack("<2Q", cols, rows) + struct.pack("<IQ", tid, offset))
        pad = (-len(data)) % 32
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(kvs)) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * ((-len(head)) % 32)
    Path(path).write_bytes(head + b"".join(blobs))


def block_fixtures(path):
    """kquants.gguf: for each type, random blocks (every bit pattern of the packed scales, f16 scales of both signs),
    all-zero blocks and the reference quantisation of awkward values (with the values as NAME.src), each beside its
    dequantisation as NAME.want (F32)."""
    r = np.random.default_rng(3)
    tensors = []
    for t, (_, qk, size) in KQ_TYPES.items():
        rows, cols = 2, 512
        raw = r.integers(0, 256, (rows * cols // qk, size), dtype=np.uint8)
        for at in HALF_FIELDS[t]:
            raw[:, at:at + 2] = f2h(r.normal(0, 0.05, raw.shape[0]))[:, None].view(np.uint8)
        cases = [("random", (rows, cols), raw.tobytes()), ("zero", (1, 256), bytes(256 // qk * size))]
        if t != "IQ4_NL":
            src = awkward(3, 512, 5)
            cases.append(("quant", src.shape, quantize(t, src)))
            tensors.append((t + ".quant.src", src.shape, "F32", src.tobytes()))
        for name, shape, data in cases:
            want = dequantize(t, data)
            assert want.size == shape[0] * shape[1] and np.all(np.isfinite(want)), (t, name)
            tensors.append((t + "." + name, shape, t, data))
            tensors.append((t + "." + name + ".want", shape, "F32", want.astype("<f4").tobytes()))
    write_tensors(path, tensors)


# A GPT-2 of width 256 (rows a whole super-block), stored as mixtures like llama-quantize's: Q4_K_M's types, and
# the lower K-quants with the 32-value fallbacks.
DIMS_256 = (256, 4, 1, 16)
MIXTURES = {
    "q4_k_m": ("Q4_K_M", {"token_embd": "Q6_K", "attn_qkv": "Q5_K", "attn_output": "Q4_K", "ffn_up": "Q4_K", "ffn_down": "Q6_K"}),
    "q3_k_m": ("Q3_K_M", {"token_embd": "Q3_K", "attn_qkv": "Q2_K", "attn_output": "Q5_0", "ffn_up": "Q5_1", "ffn_down": "Q3_K"}),
}

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
    block_fixtures(out / "kquants.gguf")
    w256 = weights(9, C=DIMS_256[0], L=DIMS_256[2], T=DIMS_256[3])
    for name, (ftype, types) in MIXTURES.items():
        deq = write_gguf(out / f"tiny256-{name}.gguf", ftype, w256, DIMS_256, lambda n: types[n.split(".")[-2]])
        npy(out / f"tiny256-{name}-logits.npy", forward(deq, IDS, DIMS_256))


if __name__ == "__main__":
    main()
