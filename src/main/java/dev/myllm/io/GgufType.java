package dev.myllm.io;

import dev.myllm.tensor.Quantize;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The ggml tensor types a GGUF file may hold that we read, with llama.cpp's block layouts: Q8_0 is 32
 * values as {f16 d; int8 q[32]} (34 bytes, x = q·d), Q4_0 is {f16 d; 16 bytes of nibbles} (x = (q − 8)·d,
 * low nibbles first), Q4_1 is {f16 d; f16 m; 16 bytes} (x = q·d + m). The types we run in are written
 * too; Q5_0, Q5_1, IQ4_NL and the K-quants Q2_K to Q6_K (what {@code llama-quantize} makes) are read,
 * widened by {@link GgmlBlocks}, and run as {@link #runType()}; Q4_K to Q6_K, Q5_0 and Q5_1 are also written.
 */
public enum GgufType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q8_0(8, 32, 34), BF16(30, 1, 2),
    Q5_0(6, 32, 22), Q5_1(7, 32, 24), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176),
    Q6_K(14, 256, 210), IQ4_NL(20, 32, 18);

    /** Blocks of a read-only type widened at a time (copied out of the mapping first). */
    private static final int CHUNK_BLOCKS = 64;

    private static final ValueLayout.OfFloat LF = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The type's number in the file. */
    public final int id;
    /** Values per block (1 for plain types). */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgufType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type with this number, or null when we do not read it. */
    public static GgufType of(long id) {
        for (GgufType t : values()) {
            if (t.id == id) return t;
        }
        return null;
    }

    /**
     * The type a model stored in this type runs in unless {@code --dtype} says otherwise: itself where the
     * kernels read it, else Q8_0: 8 bits a value and a scale per 32 values, whose rounding step is about a
     * quarter of Q6_K's (a block's largest value over 127 against a sub-block's over 32) and finer against
     * the 2- to 5-bit types.
     */
    public GgufType runType() {
        return ordinal() <= BF16.ordinal() ? this : Q8_0;
    }

    /**
     * The type llama.cpp's {@code llama-quantize} stores a matrix of this type in when its rows of {@code cols}
     * are not whole blocks: a K-quant's stand-in of blocks of 32 (Q4_K → Q5_0, Q6_K → Q8_0, ...), else F16.
     */
    public GgufType fallback(long cols) {
        if (cols % blockSize == 0) return this;
        GgufType t = switch (this) {
            case Q2_K, Q3_K -> IQ4_NL;
            case Q4_K -> Q5_0;
            case Q5_K -> Q5_1;
            case Q6_K -> Q8_0;
            default -> F16;
        };
        return cols % t.blockSize == 0 ? t : F16;
    }

    /** The types we read, comma-separated, for messages. */
    public static String names() {
        return String.join(", ", java.util.Arrays.stream(values()).map(Enum::name).toList());
    }

    /** Bytes that {@code n} values take ({@code n} a multiple of the block size). */
    public long bytes(long n) {
        return n / blockSize * blockBytes;
    }

    /** Converts {@code n} values stored at {@code src[at ..]} to float32 into {@code dst[off ..]}. */
    public void dequantize(MemorySegment src, long at, float[] dst, int off, int n) {
        switch (this) {
            case F32 -> MemorySegment.copy(src, LF, at, dst, off, n);
            case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = Float.float16ToFloat(src.get(LS, at + 2L * i)); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat(src.get(LS, at + 2L * i) << 16); }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long p = at + 34L * b;
                    float d = Float.float16ToFloat(src.get(LS, p));
                    for (int j = 0; j < 32; j++) dst[off + 32 * b + j] = src.get(ValueLayout.JAVA_BYTE, p + 2 + j) * d;
                }
            }
            case Q4_0, Q4_1 -> {
                int head = this == Q4_0 ? 2 : 4;
                for (int b = 0; b < n / 32; b++) {
                    long p = at + (long) blockBytes * b;
                    float d = Float.float16ToFloat(src.get(LS, p));
                    float m = this == Q4_1 ? Float.float16ToFloat(src.get(LS, p + 2)) : 0f;
                    int zero = this == Q4_0 ? 8 : 0;
                    for (int j = 0; j < 16; j++) {
                        int q = src.get(ValueLayout.JAVA_BYTE, p + head + j) & 0xFF;
                        dst[off + 32 * b + j] = ((q & 0xF) - zero) * d + m;
                        dst[off + 32 * b + j + 16] = ((q >>> 4) - zero) * d + m;
                    }
                }
            }
            default -> {
                int blocks = n / blockSize;
                byte[] buf = new byte[Math.min(blocks, CHUNK_BLOCKS) * blockBytes];
                for (int b0 = 0; b0 < blocks; b0 += CHUNK_BLOCKS) {
                    int nb = Math.min(CHUNK_BLOCKS, blocks - b0);
                    MemorySegment.copy(src, ValueLayout.JAVA_BYTE, at + (long) b0 * blockBytes, buf, 0, nb * blockBytes);
                    for (int k = 0; k < nb; k++) {
                        int p = k * blockBytes, o = off + (b0 + k) * blockSize;
                        switch (this) {
                            case Q5_0 -> GgmlBlocks.q5_0(buf, p, dst, o);
                            case Q5_1 -> GgmlBlocks.q5_1(buf, p, dst, o);
                            case IQ4_NL -> GgmlBlocks.iq4_nl(buf, p, dst, o);
                            case Q2_K -> GgmlBlocks.q2_K(buf, p, dst, o);
                            case Q3_K -> GgmlBlocks.q3_K(buf, p, dst, o);
                            case Q4_K, Q5_K -> GgmlBlocks.q45_K(buf, p, dst, o, this == Q5_K);
                            case Q6_K -> GgmlBlocks.q6_K(buf, p, dst, o);
                            default -> throw new AssertionError(this);
                        }
                    }
                }
            }
        }
    }

    /**
     * Encodes {@code n} floats from {@code src[off ..]} into {@code dst} (n a multiple of the block; the block types
     * as ggml's reference quantisers). Written: the types we run in, Q4_K, Q5_K, Q6_K, and Q5_0 and Q5_1 (their stand-ins).
     */
    public void quantize(float[] src, int off, int n, java.nio.ByteBuffer dst) {
        switch (this) {
            case F32 -> { for (int i = 0; i < n; i++) dst.putFloat(src[off + i]); }
            case F16 -> { for (int i = 0; i < n; i++) dst.putShort(Float.floatToFloat16(src[off + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) dst.putShort(Quantize.bf16(src[off + i])); }
            case Q8_0, Q4_0, Q4_1 -> {
                byte[] q = new byte[Quantize.BLOCK];
                for (int s = off; s < off + n; s += Quantize.BLOCK) {
                    float d = this == Q8_0 ? Quantize.q8_0(src, s, q) : this == Q4_0 ? Quantize.q4_0(src, s, q) : Quantize.q4_1(src, s, q);
                    dst.putShort(Float.floatToFloat16(d));
                    if (this == Q4_1) dst.putShort(Float.floatToFloat16(Quantize.min(src, s)));
                    dst.put(q, 0, this == Q8_0 ? Quantize.BLOCK : Quantize.BLOCK / 2);
                }
            }
            case Q4_K, Q5_K, Q6_K, Q5_0, Q5_1 -> {
                for (int s = off; s < off + n; s += blockSize) {
                    switch (this) {
                        case Q4_K -> GgmlQuantize.q4_K(src, s, dst);
                        case Q5_K -> GgmlQuantize.q5_K(src, s, dst);
                        case Q6_K -> GgmlQuantize.q6_K(src, s, dst);
                        case Q5_1 -> GgmlQuantize.q5_1(src, s, dst);
                        default -> GgmlQuantize.q5_0(src, s, dst);
                    }
                }
            }
            default -> throw new IllegalArgumentException(this + " is read, not written");
        }
    }
}
