#!/usr/bin/env python3
"""Quantises a GGUF file with llama.cpp's own llama_model_quantize, as llama-quantize does (no importance matrix).

node-llama-cpp ships libllama but no llama-quantize program; this calls the library through ctypes. FTYPE is
llama.cpp's number (7 Q8_0, 8 Q5_0, 9 Q5_1, 10 Q2_K, 11-13 Q3_K_S/M/L, 14-15 Q4_K_S/M, 16-17 Q5_K_S/M, 18 Q6_K,
25 IQ4_NL); --pure puts every matrix in the one type. Only the first two fields of the parameters (nthread,
ftype) and `pure` (byte 19) are set, as laid out by the llama.h of node-llama-cpp 3.21.1.

    python3 tools/llama_quantize.py SCRATCH/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 IN.gguf OUT.gguf 15 [--pure]

A file that sets general.alignment (ours did, to 64; they no longer set it) comes out with the key copied but
the tensors laid out at 32, which llama.cpp and myllm both refuse; set the key's value to 32 in the output to read it.
"""
import ctypes
import sys
from pathlib import Path


class Params(ctypes.Structure):
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int32), ("rest", ctypes.c_byte * 248)]


def main():
    bins, src, dst, ftype = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    for lib in ("libggml-base.so", "libggml-cpu-x64.so"):
        ctypes.CDLL(str(bins / lib), mode=ctypes.RTLD_GLOBAL)
    ctypes.CDLL(str(next(bins.glob("libggml.*so"))), mode=ctypes.RTLD_GLOBAL)
    llama = ctypes.CDLL(str(next(bins.glob("libllama.*so"))))
    llama.llama_model_quantize_default_params.restype = Params
    llama.llama_model_quantize.restype = ctypes.c_uint32
    llama.llama_backend_init()
    p = llama.llama_model_quantize_default_params()
    p.nthread = 1
    p.ftype = ftype
    if "--pure" in sys.argv[5:]:
        p.rest[19 - 8] = 1
    sys.exit(llama.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(p)))


if __name__ == "__main__":
    main()
