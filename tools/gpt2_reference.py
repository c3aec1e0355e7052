#!/usr/bin/env python3
"""Numpy reference of GPT-2's forward pass, independent of myllm's code, for the golden test.

Builds a small GPT-2 with random weights (random biases and LayerNorm weights too, tied output
head), writes it as a Hugging Face style model directory (config.json + model.safetensors with
hub names and Conv1D weights stored [in, out]), the input ids and the logits computed here in
float64:

    python3 tools/gpt2_reference.py [--out src/test/resources/golden] [--seed 1234]

writes gpt2-tiny/{config.json, model.safetensors, ids.npy (int32, (B, T)), logits.npy (float32, (B, T, V))}.
It can also run the forward pass of any GPT-2 safetensors file: --model FILE --ids 1,2,3.
"""
import argparse
import json
import math
import os
import struct

import numpy as np

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def write_safetensors(path, tensors, metadata=None):
    """The safetensors format by hand: u64 LE header length, JSON header, raw LE float32 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # align the data to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", "this reference reads F32 only"
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)  # biased variance
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(w, ids, n_layer, n_head, eps):
    """GPT-2 logits (B, T, V) for ids (B, T); Conv1D weights are [in, out]: y = x @ W + b."""
    x = hidden(w, ids, n_layer, n_head, eps)
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["wte.weight"]  # tied: (V, C)
    return x @ head.T


def hidden(w, ids, n_layer, n_head, eps):
    """What the head reads: the final LayerNorm's output (B, T, C) for ids (B, T)."""
    B, T = ids.shape
    x = w["wte.weight"][ids] + w["wpe.weight"][np.arange(T)]          # (B, T, C)
    C = x.shape[-1]
    D = C // n_head
    mask = np.triu(np.ones((T, T), dtype=bool), k=1)
    for i in range(n_layer):
        p = "h.%d." % i
        a = layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]  # (B, T, 3C)
        q, k, v = np.split(qkv, 3, axis=-1)
        q, k, v = (t.reshape(B, T, n_head, D).transpose(0, 2, 1, 3) for t in (q, k, v))  # (B, H, T, D)
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D)
        s = np.where(mask, -np.inf, s)
        s = np.exp(s - s.max(-1, keepdims=True))
        att = s / s.sum(-1, keepdims=True)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = gelu(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"])
        x = x + h @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], eps)


def random_gpt2(rng, vocab, ctx, d, n_layer):
    w = {"wte.weight": rng.normal(0, 0.5, (vocab, d)), "wpe.weight": rng.normal(0, 0.5, (ctx, d)),
         "ln_f.weight": 1 + rng.normal(0, 0.2, d), "ln_f.bias": rng.normal(0, 0.2, d)}
    for i in range(n_layer):
        p = "h.%d." % i
        for ln in ("ln_1", "ln_2"):
            w[p + ln + ".weight"] = 1 + rng.normal(0, 0.2, d)
            w[p + ln + ".bias"] = rng.normal(0, 0.2, d)
        for name, (n_in, n_out) in (("attn.c_attn", (d, 3 * d)), ("attn.c_proj", (d, d)),
                                     ("mlp.c_fc", (d, 4 * d)), ("mlp.c_proj", (4 * d, d))):
            w[p + name + ".weight"] = rng.normal(0, 1 / math.sqrt(n_in), (n_in, n_out))  # Conv1D [in, out]
            w[p + name + ".bias"] = rng.normal(0, 0.2, n_out)
    return {k: v.astype(np.float32).astype(np.float64) for k, v in w.items()}  # exactly what is stored


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join("src", "test", "resources", "golden"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--model", help="run an existing GPT-2 safetensors file instead (needs --config)")
    ap.add_argument("--config", help="its config.json")
    ap.add_argument("--ids", help="comma-separated ids for --model")
    args = ap.parse_args()
    if args.model:
        cfg = json.load(open(args.config))
        ids = np.array([[int(t) for t in args.ids.split(",")]])
        logits = forward(read_safetensors(args.model), ids, cfg["n_layer"], cfg["n_head"], cfg.get("layer_norm_epsilon", 1e-5))
        print(json.dumps({"argmax_last": int(logits[0, -1].argmax()), "logits_last_head": logits[0, -1, :5].tolist()}))
        return

    vocab, ctx, d, n_layer, n_head, eps = 67, 16, 32, 2, 4, 1e-5
    rng = np.random.default_rng(args.seed)
    w = random_gpt2(rng, vocab, ctx, d, n_layer)
    ids = rng.integers(0, vocab, size=(2, ctx)).astype(np.int32)
    logits = forward(w, ids, n_layer, n_head, eps)

    out = os.path.join(args.out, "gpt2-tiny")
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), w, {"format": "pt"})
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab, "n_positions": ctx,
              "n_ctx": ctx, "n_embd": d, "n_layer": n_layer, "n_head": n_head, "layer_norm_epsilon": eps,
              "activation_function": "gelu_new", "tie_word_embeddings": True,
              "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    np.save(os.path.join(out, "ids.npy"), ids)
    np.save(os.path.join(out, "logits.npy"), logits.astype(np.float32))
    # a self-check through the file, so what the test reads is what was computed
    again = forward(read_safetensors(os.path.join(out, "model.safetensors")), ids, n_layer, n_head, eps)
    assert np.array_equal(again, logits)
    print("wrote %s: logits %s, max |logit| %.3f" % (out, logits.shape, np.abs(logits).max()))


if __name__ == "__main__":
    main()
