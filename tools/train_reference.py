#!/usr/bin/env python3
"""Independent numpy reference for pretraining (numpy only, float64).

Forward, hand-written backward and PyTorch-style AdamW for a small GPT-2 (biases, tied head,
no dropout, tanh GELU, LayerNorm eps 1e-5), from seeded initial weights and one batch, for
10 steps. Writes the fixtures the Java golden test reads:

  src/test/resources/golden/train_init.safetensors  initial weights, HF GPT-2 names, Conv1D [in, out]
  src/test/resources/golden/train_golden.json       config, batch, optimizer settings, the 10 losses

Usage: python3 tools/train_reference.py [--check]   (--check: finite-difference check of the backward)
"""
import json
import math
import os
import struct
import sys

import numpy as np

CFG = dict(vocab_size=61, n_positions=16, n_embd=32, n_layer=2, n_head=4, layer_norm_epsilon=1e-5)
B, T = 2, 12
OPT = dict(lr=5e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decay="all", steps=10)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")


def init_weights(rng):
    V, P, C, L = CFG["vocab_size"], CFG["n_positions"], CFG["n_embd"], CFG["n_layer"]
    w = {}
    n = lambda *s: rng.normal(0.0, 0.02, size=s)
    w["wte.weight"] = n(V, C) * 5  # larger than GPT-2's so the first losses differ from log(V)
    w["wpe.weight"] = n(P, C) * 5
    for i in range(L):
        p = f"h.{i}."
        w[p + "ln_1.weight"] = 1 + n(C) * 5
        w[p + "ln_1.bias"] = n(C)
        w[p + "attn.c_attn.weight"] = n(C, 3 * C) * 3
        w[p + "attn.c_attn.bias"] = n(3 * C)
        w[p + "attn.c_proj.weight"] = n(C, C)
        w[p + "attn.c_proj.bias"] = n(C)
        w[p + "ln_2.weight"] = 1 + n(C) * 5
        w[p + "ln_2.bias"] = n(C)
        w[p + "mlp.c_fc.weight"] = n(C, 4 * C) * 2
        w[p + "mlp.c_fc.bias"] = n(4 * C)
        w[p + "mlp.c_proj.weight"] = n(4 * C, C)
        w[p + "mlp.c_proj.bias"] = n(C)
    w["ln_f.weight"] = 1 + n(C) * 5
    w["ln_f.bias"] = n(C)
    # the fixture stores float32: start the float64 reference from exactly those values
    return {k: v.astype(np.float32).astype(np.float64) for k, v in w.items()}


def ln_fwd(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    return xhat * g + b, (xhat, rstd, g)


def ln_bwd(dy, cache):
    xhat, rstd, g = cache
    dxhat = dy * g
    dx = rstd * (dxhat - dxhat.mean(-1, keepdims=True) - xhat * (dxhat * xhat).mean(-1, keepdims=True))
    red = tuple(range(dy.ndim - 1))
    return dx, (dy * xhat).sum(red), dy.sum(red)


K = math.sqrt(2.0 / math.pi)


def gelu_fwd(x):
    return 0.5 * x * (1 + np.tanh(K * (x + 0.044715 * x ** 3)))


def gelu_bwd(dy, x):
    t = np.tanh(K * (x + 0.044715 * x ** 3))
    return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x))


def forward_backward(w, ids, targets, need_grad=True):
    C, H, L = CFG["n_embd"], CFG["n_head"], CFG["n_layer"]
    eps = CFG["layer_norm_epsilon"]
    D = C // H
    Bn, Tn = ids.shape
    x = w["wte.weight"][ids] + w["wpe.weight"][:Tn]
    caches = []
    mask = np.triu(np.ones((Tn, Tn), dtype=bool), 1)
    for i in range(L):
        p = f"h.{i}."
        a, c1 = ln_fwd(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = [t.reshape(Bn, Tn, H, D).transpose(0, 2, 1, 3) for t in np.split(qkv, 3, axis=-1)]
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(D)
        s = np.where(mask, -np.inf, s)
        s = s - s.max(-1, keepdims=True)
        P = np.exp(s)
        P /= P.sum(-1, keepdims=True)
        y = (P @ v).transpose(0, 2, 1, 3).reshape(Bn, Tn, C)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        a2, c2 = ln_fwd(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        h = a2 @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]
        gl = gelu_fwd(h)
        x = x + gl @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
        caches.append((a, c1, q, k, v, P, y, a2, c2, h, gl))
    xf, cf = ln_fwd(x, w["ln_f.weight"], w["ln_f.bias"], eps)
    logits = xf @ w["wte.weight"].T
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    N = Bn * Tn
    flat_t = targets.reshape(-1)
    loss = -logp.reshape(N, -1)[np.arange(N), flat_t].mean()
    if not need_grad:
        return loss, None

    g = {k: np.zeros_like(val) for k, val in w.items()}
    dlogits = np.exp(logp).reshape(N, -1)
    dlogits[np.arange(N), flat_t] -= 1
    dlogits = (dlogits / N).reshape(Bn, Tn, -1)
    g["wte.weight"] += np.einsum("btv,btc->vc", dlogits, xf)
    dxf = dlogits @ w["wte.weight"]
    dx, g["ln_f.weight"], g["ln_f.bias"] = ln_bwd(dxf, cf)
    for i in reversed(range(L)):
        p = f"h.{i}."
        a, c1, q, k, v, P, y, a2, c2, h, gl = caches[i]
        # MLP branch
        g[p + "mlp.c_proj.bias"] = dx.sum((0, 1))
        g[p + "mlp.c_proj.weight"] = np.einsum("bti,bto->io", gl, dx)
        dgl = dx @ w[p + "mlp.c_proj.weight"].T
        dh = gelu_bwd(dgl, h)
        g[p + "mlp.c_fc.bias"] = dh.sum((0, 1))
        g[p + "mlp.c_fc.weight"] = np.einsum("bti,bto->io", a2, dh)
        da2 = dh @ w[p + "mlp.c_fc.weight"].T
        dln, g[p + "ln_2.weight"], g[p + "ln_2.bias"] = ln_bwd(da2, c2)
        dx = dx + dln
        # attention branch
        g[p + "attn.c_proj.bias"] = dx.sum((0, 1))
        g[p + "attn.c_proj.weight"] = np.einsum("bti,bto->io", y, dx)
        dy = (dx @ w[p + "attn.c_proj.weight"].T).reshape(Bn, Tn, H, D).transpose(0, 2, 1, 3)
        dP = dy @ v.transpose(0, 1, 3, 2)
        dv = P.transpose(0, 1, 3, 2) @ dy
        dS = P * (dP - (dP * P).sum(-1, keepdims=True)) / math.sqrt(C // H)
        dq = dS @ k
        dk = dS.transpose(0, 1, 3, 2) @ q
        dqkv = np.concatenate([t.transpose(0, 2, 1, 3).reshape(Bn, Tn, C) for t in (dq, dk, dv)], axis=-1)
        g[p + "attn.c_attn.bias"] = dqkv.sum((0, 1))
        g[p + "attn.c_attn.weight"] = np.einsum("bti,bto->io", a, dqkv)
        da = dqkv @ w[p + "attn.c_attn.weight"].T
        dln, g[p + "ln_1.weight"], g[p + "ln_1.bias"] = ln_bwd(da, c1)
        dx = dx + dln
    np.add.at(g["wte.weight"], ids, dx)
    g["wpe.weight"][:Tn] += dx.sum(0)
    return loss, g


def adamw_step(w, g, m, v, t):
    """torch.optim.AdamW (single tensor): decoupled decay, bias correction, eps after sqrt."""
    lr, b1, b2, eps, wd = OPT["lr"], OPT["beta1"], OPT["beta2"], OPT["eps"], OPT["weight_decay"]
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    for k in w:
        w[k] *= 1 - lr * wd
        m[k] = b1 * m[k] + (1 - b1) * g[k]
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
        w[k] -= (lr / bc1) * m[k] / (np.sqrt(v[k]) / math.sqrt(bc2) + eps)


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def grad_check(w, ids, targets):
    rng = np.random.default_rng(1)
    _, g = forward_backward(w, ids, targets)
    worst = 0.0
    for k in w:
        for _ in range(3):
            idx = tuple(rng.integers(0, s) for s in w[k].shape)
            old = w[k][idx]
            w[k][idx] = old + 1e-6
            lp, _ = forward_backward(w, ids, targets, False)
            w[k][idx] = old - 1e-6
            lm, _ = forward_backward(w, ids, targets, False)
            w[k][idx] = old
            num = (lp - lm) / 2e-6
            err = abs(num - g[k][idx]) / max(1e-6, abs(num) + abs(g[k][idx]))
            worst = max(worst, err)
    print(f"finite-difference check: worst relative error {worst:.2e}")
    return worst


def main():
    rng = np.random.default_rng(20240520)
    w = init_weights(rng)
    tokens = rng.integers(0, CFG["vocab_size"], size=B * T + 1)
    ids = tokens[:-1].reshape(B, T)
    targets = tokens[1:].reshape(B, T)
    if "--check" in sys.argv:
        sys.exit(0 if grad_check({k: v.copy() for k, v in w.items()}, ids, targets) < 1e-5 else 1)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "train_init.safetensors"), w, {"format": "pt"})
    m = {k: np.zeros_like(x) for k, x in w.items()}
    v = {k: np.zeros_like(x) for k, x in w.items()}
    losses = []
    for step in range(1, OPT["steps"] + 1):
        loss, g = forward_backward(w, ids, targets)
        losses.append(float(loss))
        adamw_step(w, g, m, v, step)
    fixture = dict(config=CFG, batch=B, time=T, inputs=ids.reshape(-1).tolist(),
                   targets=targets.reshape(-1).tolist(), optimizer=OPT, losses=losses,
                   note="float64 numpy reference, tools/train_reference.py")
    with open(os.path.join(OUT, "train_golden.json"), "w") as f:
        json.dump(fixture, f, indent=1)
    print("losses:", " ".join(f"{x:.6f}" for x in losses))


if __name__ == "__main__":
    main()
