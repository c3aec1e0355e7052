#!/usr/bin/env python3
"""Checks a classifier directory (`myllm finetune classify ... --no-head-bias --token flexible`)
against Hugging Face transformers' GPT2ForSequenceClassification, computed in torch the way
transformers does it (transformers itself is not needed):

    python3 tools/check_classifier_dir.py DIR "text one" "text two" ...

- config.json: architectures GPT2ForSequenceClassification, num_labels, id2label, label2id,
  pad_token_id; model.safetensors: the body under `transformer.` (Conv1D [in, out]) and
  `score.weight` [num_labels, n_embd]. A `score.bias` is reported: transformers' score layer has
  no bias and would drop it, so only bias-free heads give the same logits there.
- The forward pass: GPT-2 body, ln_f, score on every position, then the logits at the rightmost
  token that is not pad_token_id (transformers >= 4.49; an all-pad row uses position 0).
- The texts are tokenized with `./myllm tokenize` (the tokenizer saved beside the model, else
  gpt2) and the probabilities compared with `./myllm classify --json`.
Exits non-zero on any mismatch above 1e-4.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch


def load_file(path):
    """A safetensors file as torch tensors (F32 only; the format: u64 header size, JSON header, raw data)."""
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", (k, v["dtype"])
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").copy().reshape(v["shape"]))
    return out

HERE = os.path.dirname(os.path.abspath(__file__))
MYLLM = os.path.join(HERE, "..", "myllm")


def hf_logits(sd, cfg, ids):
    C, L, H = cfg["n_embd"], cfg["n_layer"], cfg["n_head"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    ids = torch.tensor([ids])
    T = ids.shape[1]
    ln = lambda x, p: torch.nn.functional.layer_norm(x, (C,), sd[p + ".weight"], sd[p + ".bias"], eps)
    gelu = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    x = sd["wte.weight"][ids] + sd["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ sd[p + "attn.c_attn.weight"] + sd[p + "attn.c_attn.bias"]
        q, k, v = (t.view(1, T, H, C // H).transpose(1, 2) for t in qkv.split(C, dim=2))
        a = ((q @ k.transpose(-1, -2)) / math.sqrt(C // H)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + (a @ v).transpose(1, 2).reshape(1, T, C) @ sd[p + "attn.c_proj.weight"] + sd[p + "attn.c_proj.bias"]
        x = x + gelu(ln(x, p + "ln_2") @ sd[p + "mlp.c_fc.weight"] + sd[p + "mlp.c_fc.bias"]) @ sd[p + "mlp.c_proj.weight"] + sd[p + "mlp.c_proj.bias"]
    logits = ln(x, "ln_f") @ sd["score.weight"].T  # (1, T, num_labels); transformers' score has no bias
    non_pad = (ids != cfg["pad_token_id"]).int()
    last = (torch.arange(T) * non_pad).argmax(-1)
    return logits[0, last[0]]


def main():
    d, texts = sys.argv[1], sys.argv[2:]
    cfg = json.load(open(os.path.join(d, "config.json")))
    ok = True
    assert cfg["architectures"] == ["GPT2ForSequenceClassification"], cfg["architectures"]
    n = cfg["num_labels"]
    labels = [cfg["id2label"][str(i)] for i in range(n)]
    assert all(cfg["label2id"][l] == i for i, l in enumerate(labels)), "label2id is not the inverse of id2label"
    raw = load_file(os.path.join(d, "model.safetensors"))
    assert all(k.startswith("transformer.") or k.startswith("score.") for k in raw), "names outside transformer.* and score.*"
    assert tuple(raw["score.weight"].shape) == (n, cfg["n_embd"])
    if "score.bias" in raw:
        print("score.bias present: transformers' GPT2ForSequenceClassification has no head bias and would drop it "
              "(fine-tune with --no-head-bias for a Hugging Face compatible head)")
        ok = False
    print("config and tensor names: GPT2ForSequenceClassification,", n, "labels", labels, "pad", cfg["pad_token_id"])
    if cfg.get("myllm_token_rule", "flexible") != "flexible":
        print("note: trained with --token", cfg["myllm_token_rule"], "; transformers reads the last non-pad token (flexible)")
    sd = {k[len("transformer."):] if k.startswith("transformer.") else k: v.double() for k, v in raw.items()}
    tok = os.path.join(d, "myllm-tokenizer.json")
    tok = tok if os.path.exists(tok) else "gpt2"
    for text in texts:
        ids = [int(t) for t in subprocess.run([MYLLM, "tokenize", "--specials", "text", "-t", tok], input=text.encode(),
                                               capture_output=True, check=True).stdout.split()]
        probs = hf_logits(sd, cfg, ids).softmax(-1).tolist()
        mine = json.loads(subprocess.run([MYLLM, "classify", "--model", d, "--json", text], capture_output=True, check=True).stdout)
        diff = max(abs(probs[i] - mine["probabilities"][labels[i]]) for i in range(n))
        print(f"{text[:40]!r}: transformers {[round(p, 6) for p in probs]}  myllm {[round(mine['probabilities'][l], 6) for l in labels]}  max diff {diff:.2e}")
        ok = ok and diff < 1e-4
    print("same as transformers:", ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
