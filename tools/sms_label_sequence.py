#!/usr/bin/env python3
"""Writes the ham/spam label sequence of the SMS Spam Collection (as the book's pandas call reads it) and
prints the book's balanced/split row numbers, recomputed with numpy's legacy RandomState.

Usage: python3 tools/sms_label_sequence.py PATH/TO/SMSSpamCollection
Writes src/test/resources/data/sms-spam-labels.txt: one line, 'h' or 's' per row (5,572 rows).
Python's csv module uses pandas' quote rules for this file: a field that begins with '"' is quoted
and may span lines (lines 5,082-5,084 become one row).
"""
import csv
import hashlib
import sys

import numpy as np

path = sys.argv[1]
data = open(path, "rb").read()
print("bytes", len(data), "sha256", hashlib.sha256(data).hexdigest())
with open(path, newline="", encoding="utf-8") as f:
    rows = [r for r in csv.reader(f, delimiter="\t") if r]
labels = [r[0] for r in rows]
print("rows", len(rows), "ham", labels.count("ham"), "spam", labels.count("spam"))
assert all(len(r) == 2 for r in rows)
with open("src/test/resources/data/sms-spam-labels.txt", "w") as out:
    out.write("".join("s" if l == "spam" else "h" for l in labels) + "\n")

# The book's pipeline with pandas' sample() spelled out: sample(n, random_state=s) = first n of permutation(m).
ham = [i for i, l in enumerate(labels) if l == "ham"]
spam = [i for i, l in enumerate(labels) if l == "spam"]
perm = np.random.RandomState(123).permutation(len(ham))
balanced = [ham[j] for j in perm[: len(spam)]] + spam
print("balanced first", balanced[:5], "last", balanced[-5:])
p = np.random.RandomState(123).permutation(len(balanced))
shuffled = [balanced[j] for j in p]
te = int(len(shuffled) * 0.7)
ve = te + int(len(shuffled) * 0.1)
train, val, test = shuffled[:te], shuffled[te:ve], shuffled[ve:]
print("sizes", len(train), len(val), len(test))
print("train", train[:5], "val", val[:5], "test", test[:5])
print("train spam", sum(labels[i] == "spam" for i in train), "ham", sum(labels[i] == "ham" for i in train))
print("permutation(10)", list(np.random.RandomState(123).permutation(10)))
print("permutation(5) seed 0", list(np.random.RandomState(0).permutation(5)), "seed 4294967295", list(np.random.RandomState(4294967295).permutation(7)))
