#!/usr/bin/env python3
"""Independent torch reference for classification fine-tuning (chapter 6, appendix E).

A tiny GPT-2 (biases, no dropout, tanh GELU, LayerNorm eps 1e-5) written directly in torch
(float64), with the vocabulary head replaced by a 2-class `score` layer, trained a few AdamW steps
(torch.optim.AdamW: betas 0.9/0.999, eps 1e-8, weight decay on every trainable tensor) in two
set-ups:

  last_block: blocks 0 frozen, block 1 + ln_f + score (with bias) train; token rule `last`
  lora:       everything frozen, LoRA (r 2, alpha 4, scale alpha/r) on every linear map including
              score (no bias); the fused QKV projection has one (A, B) pair per q, k, v; token rule
              `flexible` (last non-pad token)

Weights use our names and layout (Linear weights [out, in]). Writes
src/test/resources/finetune/classify_reference.json, read by ClassifyReferenceTest.

Usage: python3 tools/classify_reference.py
"""
import json
import math
import os

import numpy as np
import torch

V, P, C, L, H = 30, 8, 8, 2, 2
PAD = 29
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "finetune", "classify_reference.json")


def init(rng):
    u = lambda *s: rng.uniform(-0.3, 0.3, size=s)
    w = {"wte.weight": u(V, C), "wpe.weight": u(P, C)}
    for i in range(L):
        p = f"h.{i}."
        w[p + "ln_1.weight"] = 1 + u(C)
        w[p + "ln_1.bias"] = u(C)
        w[p + "attn.c_attn.weight"] = u(3 * C, C)
        w[p + "attn.c_attn.bias"] = u(3 * C)
        w[p + "attn.c_proj.weight"] = u(C, C)
        w[p + "attn.c_proj.bias"] = u(C)
        w[p + "ln_2.weight"] = 1 + u(C)
        w[p + "ln_2.bias"] = u(C)
        w[p + "mlp.c_fc.weight"] = u(4 * C, C)
        w[p + "mlp.c_fc.bias"] = u(4 * C)
        w[p + "mlp.c_proj.weight"] = u(C, 4 * C)
        w[p + "mlp.c_proj.bias"] = u(C)
    w["ln_f.weight"] = 1 + u(C)
    w["ln_f.bias"] = u(C)
    return w


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def forward(t, ids, rule, lora=None, scale=0.0):
    """Class logits (B, 2); t maps our names to tensors; lora maps our LoRA names to tensors."""
    B, T = ids.shape

    def lin(x, name):
        y = x @ t[name + ".weight"].T
        if name + ".bias" in t:
            y = y + t[name + ".bias"]
        if lora is not None:
            path = ("transformer." + name) if name != "score" else "score"
            key = "lora." + path + "."
            if key + "A" in lora:
                y = y + scale * (x @ lora[key + "A"] @ lora[key + "B"])
            elif key + "A_q" in lora:
                y = y + scale * torch.cat([x @ lora[key + "A_" + s] @ lora[key + "B_" + s] for s in "qkv"], dim=-1)
        return y

    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), t[p + ".weight"], t[p + ".bias"], 1e-5)
    x = t["wte.weight"][ids] + t["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        qkv = lin(ln(x, p + "ln_1"), p + "attn.c_attn")
        q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in qkv.split(C, dim=2))
        a = ((q @ k.transpose(-1, -2)) / math.sqrt(C // H)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + lin((a @ v).transpose(1, 2).reshape(B, T, C), p + "attn.c_proj")
        x = x + lin(gelu(lin(ln(x, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj")
    x = ln(x, "ln_f")
    if rule == "last":
        pos = torch.full((B,), T - 1)
    else:  # flexible: count of non-pad ids - 1, as the book's bonus code
        pos = (ids != PAD).sum(1) - 1
    return lin(x[torch.arange(B), pos], "score")


def run(w, trainable, rule, lora, scale, batches, lr, steps):
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=(k in trainable)) for k, v in w.items()}
    lt = None if lora is None else {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in lora.items()}
    params = [t[k] for k in w if k in trainable] + ([] if lt is None else list(lt.values()))
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    losses = []
    for s in range(steps):
        ids, labels = batches[s % len(batches)]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(forward(t, torch.tensor(ids), rule, lt, scale), torch.tensor(labels))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    final = {k: v.detach().numpy().reshape(-1).tolist() for k, v in t.items() if k in trainable}
    if lt is not None:
        final.update({k: v.detach().numpy().reshape(-1).tolist() for k, v in lt.items()})
    return losses, final


def main():
    rng = np.random.RandomState(7)
    w = init(rng)
    batches = [
        ([[3, 5, 7, 9, PAD, PAD], [1, 2, 3, 4, 5, 6], [10, 11, PAD, PAD, PAD, PAD]], [1, 0, 1]),
        ([[8, 8, 2, PAD, PAD, PAD], [20, 21, 22, 23, 24, PAD], [4, 4, 4, 4, 4, 4]], [0, 1, 0]),
    ]
    cases = {}
    # last-block, with the book's head bias
    wb = dict(w)
    wb["score.weight"] = rng.uniform(-0.3, 0.3, size=(2, C))
    wb["score.bias"] = rng.uniform(-0.3, 0.3, size=(2,))
    trainable = {k for k in wb if k.startswith("h.1.") or k.startswith("ln_f.") or k.startswith("score.")}
    losses, final = run(wb, trainable, "last", None, 0, batches, 1e-2, 4)
    cases["last_block"] = dict(rule="last", head_bias=True, lr=1e-2, steps=4, losses=losses, final=final,
                               weights={k: dict(shape=list(v.shape), data=v.reshape(-1).tolist()) for k, v in wb.items()})
    # LoRA everywhere, score without bias
    wl = dict(w)
    wl["score.weight"] = rng.uniform(-0.3, 0.3, size=(2, C))
    r, alpha = 2, 4.0
    lora = {}
    for i in range(L):
        p = f"lora.transformer.h.{i}."
        for s in "qkv":
            lora[p + "attn.c_attn.A_" + s] = rng.uniform(-1 / math.sqrt(r), 1 / math.sqrt(r), size=(C, r))
            lora[p + "attn.c_attn.B_" + s] = rng.uniform(-0.1, 0.1, size=(r, C))  # non-zero so every path is tested at step 1
        for name, (i_, o_) in {"attn.c_proj": (C, C), "mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}.items():
            lora[p + name + ".A"] = rng.uniform(-1 / math.sqrt(r), 1 / math.sqrt(r), size=(i_, r))
            lora[p + name + ".B"] = rng.uniform(-0.1, 0.1, size=(r, o_))
    lora["lora.score.A"] = rng.uniform(-1 / math.sqrt(r), 1 / math.sqrt(r), size=(C, r))
    lora["lora.score.B"] = rng.uniform(-0.1, 0.1, size=(r, 2))
    losses, final = run(wl, set(), "flexible", lora, alpha / r, batches, 1e-2, 3)
    cases["lora"] = dict(rule="flexible", head_bias=False, lr=1e-2, steps=3, rank=r, alpha=alpha, losses=losses, final=final,
                         weights={k: dict(shape=list(v.shape), data=v.reshape(-1).tolist()) for k, v in wl.items()},
                         lora={k: dict(shape=list(v.shape), data=v.reshape(-1).tolist()) for k, v in lora.items()})
    doc = dict(config=dict(vocab_size=V, n_positions=P, n_embd=C, n_layer=L, n_head=H, pad=PAD),
               batches=[dict(ids=b[0], labels=b[1]) for b in batches], cases=cases)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f)
    for k, c in cases.items():
        print(k, ["%.6f" % x for x in c["losses"]])


if __name__ == "__main__":
    main()
