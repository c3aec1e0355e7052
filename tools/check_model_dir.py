#!/usr/bin/env python3
"""Checks a model directory written by `myllm export` with the real `safetensors` and `torch`.

    python3 tools/check_model_dir.py DIR

Loads model.safetensors with safetensors.torch (as transformers does), checks the GPT-2 names and
Conv1D [in, out] shapes against config.json, re-saves the tensors with safetensors.torch.save_file
and reports whether the bytes are identical to ours, then runs GPT-2's forward pass in torch the
way transformers' GPT2LMHeadModel computes it (Conv1D: x @ W + b; no mask buffers) and prints
the logits of a few ids so they can be compared with `myllm`'s.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file, save_file


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    sd = load_file(os.path.join(d, "model.safetensors"))
    C, L, H, V = cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["vocab_size"]
    assert sd["h.0.attn.c_attn.weight"].shape == (C, 3 * C), sd["h.0.attn.c_attn.weight"].shape
    assert sd["h.0.mlp.c_fc.weight"].shape == (C, 4 * C)
    tied = cfg.get("tie_word_embeddings", True)
    assert ("lm_head.weight" in sd) != tied, "lm_head.weight present iff untied"
    tmp = os.path.join(d, ".resaved.safetensors")
    save_file(sd, tmp, metadata={"format": "pt"})
    same = open(tmp, "rb").read() == open(os.path.join(d, "model.safetensors"), "rb").read()
    os.remove(tmp)
    print("safetensors.torch re-save byte-identical:", same)
    sd = {k: v.double() for k, v in sd.items()}
    ids = torch.tensor([[1, 2, 3, min(60, V - 1)]])
    T = ids.shape[1]
    x = sd["wte.weight"][ids] + sd["wpe.weight"][:T]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), sd[p + ".weight"], sd[p + ".bias"], eps)
    gelu = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ sd[p + "attn.c_attn.weight"] + sd[p + "attn.c_attn.bias"]
        q, k, v = (t.view(1, T, H, C // H).transpose(1, 2) for t in qkv.split(C, dim=2))
        a = (q @ k.transpose(-1, -2)) / math.sqrt(C // H)
        a = a.masked_fill(~mask, float("-inf")).softmax(-1)
        y = (a @ v).transpose(1, 2).reshape(1, T, C)
        x = x + y @ sd[p + "attn.c_proj.weight"] + sd[p + "attn.c_proj.bias"]
        h = gelu(ln(x, p + "ln_2") @ sd[p + "mlp.c_fc.weight"] + sd[p + "mlp.c_fc.bias"])
        x = x + h @ sd[p + "mlp.c_proj.weight"] + sd[p + "mlp.c_proj.bias"]
    head = sd["wte.weight"] if tied else sd["lm_head.weight"]
    logits = ln(x, "ln_f") @ head.T
    print("ids", ids.tolist()[0], "last-position logits[:5]", [round(v, 6) for v in logits[0, -1, :5].tolist()])


if __name__ == "__main__":
    main()
