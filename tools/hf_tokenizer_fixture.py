#!/usr/bin/env python3
"""Writes Hugging Face tokenizer.json fixtures with the real `tokenizers` library, and the ids it gives.

Needs only `tokenizers` (no torch), for example
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install tokenizers
    /tmp/venv/bin/python tools/hf_tokenizer_fixture.py
Writes under src/test/resources/hftok/:
  bytelevel/tokenizer.json  a 300-token byte-level BPE trained on the book's short story as
                            ByteLevelBPETokenizer trains one (<|endoftext|> is id 0, the bytes follow:
                            no id is GPT-2's), saved by tokenizers itself;
  bytelevel/expected.json   texts and the ids tokenizers encodes them to (and decodes them back from);
  metaspace/tokenizer.json  a BPE model behind SentencePiece's Metaspace pre-tokenizer (Llama 2's
                            kind), which myllm cannot represent.
Tests read only these files; they never run Python.
"""
import json
import os

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from tokenizers.implementations import ByteLevelBPETokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "test", "resources", "hftok")
VERDICT = os.path.join(HERE, "..", "src", "main", "resources", "dev", "myllm", "data", "the-verdict.txt")

TEXTS = [
    "I HAD always thought Jack Gisburn rather a cheap genius",
    "Every effort moves you<|endoftext|>the picture",
    "  two spaces,\nnew lines\n\n and tabs\there",
    "naïve café — 日本語 🙂 1234 it's we'll",
]


def main():
    text = open(VERDICT, encoding="utf-8").read()
    bl = ByteLevelBPETokenizer(add_prefix_space=False)
    bl.train_from_iterator([text], vocab_size=300, min_frequency=2, special_tokens=["<|endoftext|>"], show_progress=False)
    os.makedirs(os.path.join(OUT, "bytelevel"), exist_ok=True)
    bl.save(os.path.join(OUT, "bytelevel", "tokenizer.json"))
    tok = Tokenizer.from_file(os.path.join(OUT, "bytelevel", "tokenizer.json"))
    cases = []
    for t in TEXTS:
        ids = tok.encode(t).ids
        assert tok.decode(ids, skip_special_tokens=False) == t, t
        cases.append({"text": t, "ids": ids})
    with open(os.path.join(OUT, "bytelevel", "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab_size": tok.get_vocab_size(), "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    ms = Tokenizer(models.BPE())
    ms.pre_tokenizer = pre_tokenizers.Metaspace()
    ms.decoder = decoders.Metaspace()
    ms.train_from_iterator([text], trainers.BpeTrainer(vocab_size=120, special_tokens=["<unk>"], show_progress=False))
    os.makedirs(os.path.join(OUT, "metaspace"), exist_ok=True)
    ms.save(os.path.join(OUT, "metaspace", "tokenizer.json"))


if __name__ == "__main__":
    main()
