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
  - gpt2-tiny-untied/: the tiny base with its own lm_head (the embedding plus seeded noise), saved by
    save_pretrained, and untied/: an adapter on it that targets lm_head too;
  - untied-default/: the same kind of adapter with lm_head's own weight changed (seeded noise) and
    saved PEFT's default way, which writes that weight as lm_head.base_layer.weight beside lm_head's A
    and B; its logits are PEFT's merge after PeftModel.from_pretrained loaded it on gpt2-tiny-untied;
  - expected.json: the ids, the base models' logits and, per adapter, the merged model's logits
    (float32) and PEFT's scaling per module.
It also loads ours/, the adapter our writer makes (PeftAdapterTest.writeOurs, kept as a fixture),
with PeftModel.from_pretrained and fails on any warning, on keys that differ from what PEFT's model
holds and on weights it did not load as written; then writes PEFT's merge of it into expected.json.
Usage: python3 tools/peft_reference.py (in a venv with torch, transformers, peft and safetensors)
"""
import json
import logging
import os
import shutil
import sys
import warnings

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "..", "src", "test", "resources")
BASE = os.path.join(RES, "golden", "gpt2-tiny")
OUT = os.path.join(RES, "peft")
UNTIED = os.path.join(OUT, "gpt2-tiny-untied")
IDS = [5, 17, 3, 42, 66, 0, 23, 9, 31, 12, 58, 7]
TARGETS = ["c_attn", "c_proj", "c_fc"]  # c_proj names both attn.c_proj and mlp.c_proj

VARIANTS = {
    "lora": dict(rank_pattern={"mlp.c_proj": 2}, alpha_pattern={"transformer.h.1.attn.c_attn": 16}),
    "rslora": dict(use_rslora=True),
}


def logits(model):
    with torch.no_grad():
        return model(torch.tensor([IDS])).logits[0].tolist()


def make_adapter(base_dir, name, targets, extra, base_logits, new_head=False):
    """A PEFT adapter on base_dir with seeded A and B, saved to OUT/name; its scaling and merged logits.

    With new_head, lm_head (targeted) gets a seeded change of its own weight before the adapter is
    saved PEFT's default way, which then stores that weight too, as a retrained or resized head would
    be; the logits are those of PeftModel.from_pretrained on the unchanged base, merged."""
    model = GPT2LMHeadModel.from_pretrained(base_dir, torch_dtype=torch.float32).eval()
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=targets, lora_dropout=0.0, bias="none",
                     fan_in_fan_out=True, task_type="CAUSAL_LM", **extra)
    peft_model = get_peft_model(model, cfg)
    scaling = {}
    with torch.no_grad():
        for mod_name, mod in peft_model.named_modules():
            if hasattr(mod, "lora_A") and "default" in mod.lora_A:
                mod.lora_A["default"].weight.normal_(0, 0.1)
                mod.lora_B["default"].weight.normal_(0, 0.1)  # PEFT starts B at zero: a visible update instead
                scaling[mod_name.removeprefix("base_model.model.")] = mod.scaling["default"]
        if new_head:
            head = peft_model.base_model.model.lm_head.base_layer.weight
            head.add_(0.05 * torch.randn(head.shape))
    adapted = logits(peft_model)  # unmerged: base + scale * B(A(x))
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    # PEFT's default ("auto") saves lm_head's own weight beside its A and B when lm_head is targeted,
    # as lm_head.base_layer.weight; the other fixtures keep LoRA weights only
    if new_head:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Setting `save_embedding_layers` to `True` ...": what this fixture is for
            peft_model.save_pretrained(d)
        check_head_saved(d, head, base_dir)
    else:
        peft_model.save_pretrained(d, save_embedding_layers=False)
    cfg_file = os.path.join(d, "adapter_config.json")
    with open(cfg_file) as f:
        saved = json.load(f)
    saved["base_model_name_or_path"] = os.path.basename(base_dir)  # not this machine's path
    saved["target_modules"] = sorted(saved["target_modules"])  # a set in PEFT: its order changes run to run
    with open(cfg_file, "w") as f:
        json.dump(saved, f, indent=2, sort_keys=True)
    readme = os.path.join(d, "README.md")
    if os.path.exists(readme):
        os.remove(readme)  # a model card template, not part of the adapter
    if new_head:  # what a PEFT user gets from the directory: the saved head loaded into the base, then merged
        peft_model = PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(base_dir, torch_dtype=torch.float32), d).eval()
        loaded = max_diff(logits(peft_model), adapted)
        assert loaded < 1e-5, f"{name}: PeftModel.from_pretrained differs from the model saved by {loaded}"
    merged = peft_model.merge_and_unload()
    out = logits(merged)
    diff = max_diff(adapted, out)
    assert diff < 1e-4, f"{name}: merged and unmerged logits differ by {diff}"
    print(f"{name}: {len(scaling)} modules, merged vs unmerged max diff {diff:.2e}, "
          f"max |logit - base| {max_diff(out, base_logits):.3f}")
    return {"scaling": scaling, "logits": out}


def check_head_saved(d, head, base_dir):
    """The default save wrote lm_head's weight (the changed one, not the base's) beside the LoRA weights."""
    written = load_file(os.path.join(d, "adapter_model.safetensors"))
    key = "base_model.model.lm_head.base_layer.weight"
    others = sorted(k for k in written if ".lora_A." not in k and ".lora_B." not in k)
    assert others == [key], f"the default save wrote {others} beside the LoRA weights"
    assert torch.equal(written[key], head), f"{key} is not the head the model had"
    base_head = load_file(os.path.join(base_dir, "model.safetensors"))["lm_head.weight"]
    assert not torch.equal(written[key], base_head), f"{key} is the base's own head"


def max_diff(x, y):
    return max(abs(a - b) for rx, ry in zip(x, y) for a, b in zip(rx, ry))


class Records(logging.Handler):
    """Keeps every log record of WARNING or above."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


def merge_ours(d):
    """Our writer's adapter loaded by PeftModel.from_pretrained: fails on any warning or key or value
    PEFT did not take as written; returns PEFT's scaling and merged logits."""
    base = GPT2LMHeadModel.from_pretrained(BASE, torch_dtype=torch.float32).eval()
    logs = Records()
    loggers = [logging.getLogger(n) for n in ("", "peft", "transformers")]
    for lg in loggers:
        lg.addHandler(logs)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            peft_model = PeftModel.from_pretrained(base, d).eval()
    finally:
        for lg in loggers:
            lg.removeHandler(logs)
    said = [f"{w.category.__name__}: {w.message}" for w in caught] + logs.records
    if said:
        sys.exit(f"PEFT warned loading ours/:\n" + "\n".join(said))
    written = load_file(os.path.join(d, "adapter_model.safetensors"))
    held = get_peft_model_state_dict(peft_model)
    if set(written) != set(held):
        sys.exit(f"ours/: keys PEFT did not expect {sorted(set(written) - set(held))}, "
                 f"keys it missed {sorted(set(held) - set(written))}")
    for k, v in written.items():
        if held[k].shape != v.shape or not torch.equal(held[k], v):
            sys.exit(f"ours/: {k} was not loaded as written ({tuple(v.shape)} in the file, {tuple(held[k].shape)} in PEFT)")
    scaling = {}
    for mod_name, mod in peft_model.named_modules():
        if hasattr(mod, "lora_A") and "default" in mod.lora_A:
            scaling[mod_name.removeprefix("base_model.model.")] = mod.scaling["default"]
    adapted = logits(peft_model)
    out = logits(peft_model.merge_and_unload())
    diff = max_diff(adapted, out)
    assert diff < 1e-4, f"ours: merged and unmerged logits differ by {diff}"
    print(f"ours: loaded without warnings, {len(written)} tensors as written, {len(scaling)} modules "
          f"(scaling {sorted(set(scaling.values()))}), merged vs unmerged max diff {diff:.2e}")
    return {"scaling": scaling, "logits": out}


def make_untied():
    """The tiny base with lm_head = the token embedding plus seeded noise, saved to UNTIED; its logits."""
    model = GPT2LMHeadModel.from_pretrained(BASE, torch_dtype=torch.float32, tie_word_embeddings=False).eval()
    with torch.no_grad():
        wte = model.transformer.wte.weight
        model.lm_head.weight = torch.nn.Parameter(wte.detach().clone() + 0.05 * torch.randn(wte.shape))
    assert model.lm_head.weight.data_ptr() != wte.data_ptr()
    shutil.rmtree(UNTIED, ignore_errors=True)
    model.save_pretrained(UNTIED, safe_serialization=True)
    for extra in ("generation_config.json",):
        if os.path.exists(os.path.join(UNTIED, extra)):
            os.remove(os.path.join(UNTIED, extra))
    want = logits(model)
    again = GPT2LMHeadModel.from_pretrained(UNTIED, torch_dtype=torch.float32).eval()
    assert not again.config.tie_word_embeddings and again.lm_head.weight.data_ptr() != again.transformer.wte.weight.data_ptr()
    assert max_diff(logits(again), want) == 0, "the saved untied model reads back different"
    return want


def main():
    torch.manual_seed(2024)
    base = GPT2LMHeadModel.from_pretrained(BASE, torch_dtype=torch.float32).eval()
    expected = {"ids": IDS, "base_logits": logits(base), "adapters": {}}
    os.makedirs(OUT, exist_ok=True)
    for name, extra in VARIANTS.items():
        expected["adapters"][name] = make_adapter(BASE, name, TARGETS, extra, expected["base_logits"])
    expected["adapters"]["ours"] = merge_ours(os.path.join(OUT, "ours"))
    torch.manual_seed(2025)
    expected["untied_base_logits"] = make_untied()
    expected["adapters"]["untied"] = make_adapter(UNTIED, "untied", TARGETS + ["lm_head"], {}, expected["untied_base_logits"])
    torch.manual_seed(2026)
    expected["adapters"]["untied-default"] = make_adapter(UNTIED, "untied-default", TARGETS + ["lm_head"], {},
                                                          expected["untied_base_logits"], new_head=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f)
        f.write("\n")


if __name__ == "__main__":
    main()
