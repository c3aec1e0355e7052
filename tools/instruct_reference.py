#!/usr/bin/env python3
"""Independent PyTorch reference (float64) for instruction fine-tuning and DPO steps.

Starts from the tiny GPT-2 of tools/train_reference.py (src/test/resources/golden/train_init.safetensors:
vocab 61, context 16, width 32, 2 layers, 4 heads, tied head, no dropout), treats id 60 as <|endoftext|>,
and writes src/test/resources/finetune/instruct_golden.json with:
  - sft: three token lists with their prompt lengths, collated as the book's custom_collate_fn
    (EOS appended, pads after the first ignored with -100, instruction masking), three
    AdamW(lr 1e-2, weight decay 0.1) steps on that batch: the losses;
  - dpo: three (prompt, chosen, rejected) triples collated as the DPO notebook (common width,
    mask = response tokens after prompt + 2), reference = the starting weights, three
    AdamW(lr 1e-2, weight decay 0.01) steps with beta 0.1: loss, rewards and accuracy before each step;
  - rpo: the same three DPO steps from the same start with RPO's extra term (Pang et al. 2024, TRL's
    rpo_alpha): loss = DPO loss + alpha * mean over pairs of the chosen response's mean per-token NLL,
    alpha 0.5.
Usage: python3 tools/instruct_reference.py
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
INIT = os.path.join(HERE, "..", "src", "test", "resources", "golden", "train_init.safetensors")
OUT = os.path.join(HERE, "..", "src", "test", "resources", "finetune", "instruct_golden.json")
C, L, H, EPS, EOS = 32, 2, 4, 1e-5, 60


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = torch.tensor(np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"]).astype(np.float64), requires_grad=True)
    return out


def ln(x, g, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + EPS) * g + b


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def forward(w, ids):
    ids = torch.tensor(ids)
    bsz, t = ids.shape
    x = w["wte.weight"][ids] + w["wpe.weight"][:t]
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
    for i in range(L):
        p = f"h.{i}."
        h = ln(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = qkv.split(C, -1)
        q, k, v = (z.view(bsz, t, H, C // H).transpose(1, 2) for z in (q, k, v))
        s = (q @ k.transpose(-1, -2)) / np.sqrt(C // H)
        a = torch.softmax(s.masked_fill(mask, float("-inf")), -1) @ v
        x = x + a.transpose(1, 2).reshape(bsz, t, C) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = ln(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
        x = x + gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]) @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    return ln(x, w["ln_f.weight"], w["ln_f.bias"]) @ w["wte.weight"].T


def custom_collate_fn(batch, lengths, pad=EOS, ignore=-100, allowed=None, mask_instruction=True):
    """The book's chapter-7 collate with exercise 7.2's instruction masking."""
    width = max(len(it) + 1 for it in batch)
    ins, tgs = [], []
    for it, n in zip(batch, lengths):
        padded = it + [pad] + [pad] * (width - len(it) - 1)
        inputs, targets = torch.tensor(padded[:-1]), torch.tensor(padded[1:])
        idx = torch.nonzero(targets == pad).squeeze()
        if idx.numel() > 1:
            targets[idx[1:]] = ignore
        if mask_instruction:
            targets[:n - 1] = ignore
        if allowed is not None:
            inputs, targets = inputs[:allowed], targets[:allowed]
        ins.append(inputs)
        tgs.append(targets)
    return torch.stack(ins), torch.stack(tgs)


def dpo_collate(prompts, chosen, rejected, pad=EOS):
    width = max(max(len(c), len(r)) + 1 for c, r in zip(chosen, rejected))
    out = {}
    for key, seqs in (("chosen", chosen), ("rejected", rejected)):
        ids, masks = [], []
        for p, s in zip(prompts, seqs):
            padded = s + [pad] * (width - len(s))
            m = torch.ones(width, dtype=torch.bool)
            m[len(s):] = False
            m[:len(p) + 2] = False
            ids.append(padded)
            masks.append(m)
        out[key] = ids
        out[key + "_mask"] = torch.stack(masks)
    return out, width


def logprobs(logits, ids, mask):
    labels = torch.tensor(ids)[:, 1:]
    lp = torch.log_softmax(logits[:, :-1, :], -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    m = mask[:, 1:].double()
    return (lp * m).sum(-1) / m.sum(-1)


def adamw(params, lr, wd):
    return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)


def main():
    rng = np.random.default_rng(7)
    # SFT: prompt lengths 5, 3, 6 within lists of 9, 6, 11 tokens (no id 60 inside)
    items = [rng.integers(0, 60, size=n).tolist() for n in (9, 6, 11)]
    lengths = [5, 3, 6]
    w = read_safetensors(INIT)
    opt = adamw(list(w.values()), 1e-2, 0.1)
    x, y = custom_collate_fn(items, lengths)
    sft_losses = []
    for _ in range(3):
        opt.zero_grad()
        logits = forward(w, x.tolist())
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        sft_losses.append(loss.item())
        loss.backward()
        opt.step()

    # DPO: prompts of 4, 3, 5 tokens; responses of different lengths
    prompts = [rng.integers(0, 60, size=n).tolist() for n in (4, 3, 5)]
    chosen = [p + rng.integers(0, 60, size=n).tolist() for p, n in zip(prompts, (5, 7, 4))]
    rejected = [p + rng.integers(0, 60, size=n).tolist() for p, n in zip(prompts, (6, 3, 5))]
    batch, width = dpo_collate(prompts, chosen, rejected)
    ref = {k: v.detach().clone() for k, v in read_safetensors(INIT).items()}
    pol = read_safetensors(INIT)
    opt = adamw(list(pol.values()), 1e-2, 0.01)
    with torch.no_grad():
        rc = logprobs(forward(ref, batch["chosen"]), batch["chosen"], batch["chosen_mask"])
        rr = logprobs(forward(ref, batch["rejected"]), batch["rejected"], batch["rejected_mask"])
    dpo = []
    for _ in range(3):
        opt.zero_grad()
        pc = logprobs(forward(pol, batch["chosen"]), batch["chosen"], batch["chosen_mask"])
        pr = logprobs(forward(pol, batch["rejected"]), batch["rejected"], batch["rejected_mask"])
        z = (pc - pr) - (rc - rr)
        loss = -torch.nn.functional.logsigmoid(0.1 * z).mean()
        dpo.append(dict(loss=loss.item(), chosen_reward=(pc - rc).mean().item(), rejected_reward=(pr - rr).mean().item(),
                        accuracy=(z > 0).double().mean().item()))
        loss.backward()
        opt.step()

    # RPO: the DPO steps again from the starting weights, plus alpha x the chosen NLL
    alpha = 0.5
    pol = read_safetensors(INIT)
    opt = adamw(list(pol.values()), 1e-2, 0.01)
    rpo = []
    for _ in range(3):
        opt.zero_grad()
        pc = logprobs(forward(pol, batch["chosen"]), batch["chosen"], batch["chosen_mask"])
        pr = logprobs(forward(pol, batch["rejected"]), batch["rejected"], batch["rejected_mask"])
        z = (pc - pr) - (rc - rr)
        loss = -torch.nn.functional.logsigmoid(0.1 * z).mean() + alpha * (-pc).mean()
        rpo.append(dict(loss=loss.item(), chosen_reward=(pc - rc).mean().item(), rejected_reward=(pr - rr).mean().item(),
                        accuracy=(z > 0).double().mean().item(), chosen_logp=pc.mean().item()))
        loss.backward()
        opt.step()

    fixture = dict(note="float64 PyTorch reference, tools/instruct_reference.py; weights: golden/train_init.safetensors",
                   eos=EOS, sft=dict(items=items, instruction_lengths=lengths, inputs=x.tolist(), targets=y.tolist(),
                                     lr=1e-2, weight_decay=0.1, losses=sft_losses),
                   dpo=dict(prompts=prompts, chosen=chosen, rejected=rejected, width=width, beta=0.1, lr=1e-2,
                            weight_decay=0.01, steps=dpo),
                   rpo=dict(beta=0.1, alpha=alpha, lr=1e-2, weight_decay=0.01, steps=rpo))
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
    print("sft losses:", sft_losses)
    print("dpo:", dpo)
    print("rpo:", rpo)


if __name__ == "__main__":
    main()
