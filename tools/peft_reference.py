#!/usr/bin/env python3
"""Independent reference for `--adapter`: PEFT LoRA adapters made with PEFT itself, merged by PEFT.

Needs torch, transformers and peft (CPU is enough). Starts from the tiny GPT-2 of the golden tests
(src/test/resources/golden/gpt2-tiny: vocab 67, context 16, width 32, 2 layers, tied head), wraps it
with peft's get_peft_model on c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj (r 4, lora_alpha 8) with
random A and B (seeded), saves the adapter with save_pretrained, merges it with merge_and_unload and
runs transformers' GPT2LMHeadModel forward on a fixed token sequence. Writes under
src/test/resources/peft/:
  - lora/: rank_pattern {"mlp.c_proj": 2} and alpha_pattern {"transformer.h.1.attn.c_attn": 16};
  - rslora/: use_rslora (scale lora_alpha/sqrt(r)), no patterns;
  - expected.json: the ids, the base model's logits and, per adapter, the merged model's logits
    (float32) and PEFT's scaling per module.
Usage: python3 tools/peft_reference.py
"""
import json
import os
import shutil

import torch
from peft import LoraConfig, get_peft_model
from transformers import GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "..", "src", "test", "resources")
BASE = os.path.join(RES, "golden", "gpt2-tiny")
OUT = os.path.join(RES, "peft")
IDS = [5, 17, 3, 42, 66, 0, 23, 9, 31, 12, 58, 7]
TARGETS = ["c_attn", "c_proj", "c_fc"]  # c_proj names both attn.c_proj and mlp.c_proj

VARIANTS = {
    "lora": dict(rank_pattern={"mlp.c_proj": 2}, alpha_pattern={"transformer.h.1.attn.c_attn": 16}),
    "rslora": dict(use_rslora=True),
}


def logits(model):
    with torch.no_grad():
        return model(torch.tensor([IDS])).logits[0].tolist()


def main():
    torch.manual_seed(2024)
    base = GPT2LMHeadModel.from_pretrained(BASE, torch_dtype=torch.float32).eval()
    expected = {"ids": IDS, "base_logits": logits(base), "adapters": {}}
    os.makedirs(OUT, exist_ok=True)
    for name, extra in VARIANTS.items():
        model = GPT2LMHeadModel.from_pretrained(BASE, torch_dtype=torch.float32).eval()
        cfg = LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, lora_dropout=0.0, bias="none",
                         fan_in_fan_out=True, task_type="CAUSAL_LM", **extra)
        peft_model = get_peft_model(model, cfg)
        scaling = {}
        with torch.no_grad():
            for mod_name, mod in peft_model.named_modules():
                if hasattr(mod, "lora_A") and "default" in mod.lora_A:
                    mod.lora_A["default"].weight.normal_(0, 0.1)
                    mod.lora_B["default"].weight.normal_(0, 0.1)  # PEFT starts B at zero: a visible update instead
                    scaling[mod_name.removeprefix("base_model.model.")] = mod.scaling["default"]
        adapted = logits(peft_model)  # unmerged: base + scale * B(A(x))
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        peft_model.save_pretrained(d)
        cfg_file = os.path.join(d, "adapter_config.json")
        with open(cfg_file) as f:
            saved = json.load(f)
        saved["base_model_name_or_path"] = "gpt2-tiny"  # not this machine's path
        with open(cfg_file, "w") as f:
            json.dump(saved, f, indent=2, sort_keys=True)
        readme = os.path.join(d, "README.md")
        if os.path.exists(readme):
            os.remove(readme)  # a model card template, not part of the adapter
        merged = peft_model.merge_and_unload()
        out = logits(merged)
        diff = max(abs(a - b) for ra, rb in zip(adapted, out) for a, b in zip(ra, rb))
        assert diff < 1e-4, f"{name}: merged and unmerged logits differ by {diff}"
        expected["adapters"][name] = {"scaling": scaling, "logits": out}
        print(f"{name}: {len(scaling)} modules, merged vs unmerged max diff {diff:.2e}, "
              f"max |logit - base| {max(abs(a - b) for ra, rb in zip(out, expected['base_logits']) for a, b in zip(ra, rb)):.3f}")
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")


if __name__ == "__main__":
    main()
