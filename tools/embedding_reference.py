#!/usr/bin/env python3
"""Numpy reference of the embeddings /v1/embeddings answers (GPTModel.embedding), for EmbeddingsTest:
the golden tiny GPT-2's final LayerNorm output (tools/gpt2_reference.py's hidden, float64) averaged
over the positions and scaled to length 1.

    python3 tools/embedding_reference.py [--dir src/test/resources/golden/gpt2-tiny]

writes embeddings.npy (float32, (3, C)): for ids.npy's two rows, then the first five ids of the first row.
"""
import argparse
import json
import os

import numpy as np

from gpt2_reference import hidden, read_safetensors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join("src", "test", "resources", "golden", "gpt2-tiny"))
    args = ap.parse_args()
    cfg = json.load(open(os.path.join(args.dir, "config.json")))
    w = read_safetensors(os.path.join(args.dir, "model.safetensors"))
    ids = np.load(os.path.join(args.dir, "ids.npy"))
    out = []
    for seq in (ids[0], ids[1], ids[0][:5]):
        h = hidden(w, seq[None, :], cfg["n_layer"], cfg["n_head"], cfg["layer_norm_epsilon"])[0]  # (T, C)
        m = h.mean(axis=0)
        out.append(m / np.linalg.norm(m))
    e = np.array(out, dtype=np.float32)
    np.save(os.path.join(args.dir, "embeddings.npy"), e)
    print("wrote %s: %s, norms %s" % (os.path.join(args.dir, "embeddings.npy"), e.shape, np.linalg.norm(e, axis=1)))


if __name__ == "__main__":
    main()
