package dev.myllm.io;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.Tensor;
import dev.myllm.util.IoErrors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * An llm.c GPT-2 checkpoint ({@code gpt2_124M.bin}): a header of 256 int32 (magic 20240326,
 * version 3 = float32 or 5 = bfloat16, max_seq_len, vocab_size, num_layers, num_heads, channels,
 * padded_vocab_size), then the parameters as llm.c's {@code fill_in_parameter_sizes} orders them,
 * each layer's tensors stacked over layers, Linear weights {@code [out, in]} as ours. The padding
 * rows of the token embedding (50,257 → 50,304) are dropped.
 */
public final class LlmcCheckpoint {
    /** The header's first int. */
    static final int MAGIC = 20240326;
    private static final int HEADER_INTS = 256;
    private static final ValueLayout.OfInt LI = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LF = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LS = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private LlmcCheckpoint() {
    }

    /** Whether {@code file} starts with llm.c's checkpoint magic. */
    public static boolean isCheckpoint(Path file) {
        return GgufFile.hasMagic(file, MAGIC);
    }

    private record Header(GPTConfig config, int version, int paddedVocab, long bytes) {
    }

    private static Header header(Path file, MemorySegment m) {
        if (m.byteSize() < HEADER_INTS * 4L) throw GgufFile.bad(file, "file of " + m.byteSize() + " bytes is too short for an llm.c header");
        int[] h = new int[8];
        for (int i = 0; i < 8; i++) h[i] = m.get(LI, 4L * i);
        if (h[0] != MAGIC) throw GgufFile.bad(file, "not an llm.c checkpoint (bad magic " + h[0] + ")");
        if (h[1] != 3 && h[1] != 5) throw GgufFile.bad(file, "llm.c checkpoint version " + h[1] + " is not supported (3: float32, 5: bfloat16)");
        int maxT = h[2], v = h[3], l = h[4], nh = h[5], c = h[6], vp = h[7];
        if (maxT < 1 || v < 1 || l < 1 || nh < 1 || c < 1 || vp < v || maxT > 1 << 20 || vp > 1 << 24 || c > 1 << 16 || l > 4096) {
            throw GgufFile.bad(file, "llm.c header has impossible sizes (seq " + maxT + ", vocab " + v + "/" + vp + ", layers " + l + ", heads " + nh + ", channels " + c + ")");
        }
        GPTConfig cfg;
        try {
            cfg = new GPTConfig(v, maxT, c, nh, l, 0f, true, true, 1e-5f); // no dropout is stored: none
        } catch (IllegalArgumentException e) {
            throw GgufFile.bad(file, e.getMessage());
        }
        long params = (long) vp * c + (long) maxT * c + (long) l * (12L * c * c + 13L * c) + 2L * c;
        long bytes = params * (h[1] == 3 ? 4 : 2);
        if (m.byteSize() - HEADER_INTS * 4L != bytes) {
            throw GgufFile.bad(file, "holds " + (m.byteSize() - HEADER_INTS * 4L) + " bytes of parameters, expected " + bytes + " for its header");
        }
        return new Header(cfg, h[1], vp, bytes);
    }

    /** {@code f32} for a version 3 file, {@code bf16} for version 5. */
    static String storedType(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 0);
            return b.getInt(4) == 5 ? "bf16" : "f32";
        } catch (IOException e) {
            return "f32";
        }
    }

    /** The configuration in the header. */
    public static GPTConfig config(Path file) {
        return read(file, null, null);
    }

    /** Loads the checkpoint into a model of its own configuration (with {@code config}'s dropout and context, if given). */
    public static GPTModel load(Path file, GPTConfig config) {
        GPTModel[] out = new GPTModel[1];
        read(file, out, config);
        return out[0];
    }

    private static GPTConfig read(Path file, GPTModel[] out, GPTConfig want) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            Header h = header(file, m);
            if (out == null) return h.config;
            GPTConfig c = h.config;
            if (want != null) {
                GPTConfig same = want.withContextLength(c.contextLength()).withDropRate(c.dropRate());
                if (!same.equals(c) || want.contextLength() > c.contextLength()) {
                    throw GgufFile.bad(file, "holds " + Gpt2Layout.describe(c) + ", not the configuration asked for (" + Gpt2Layout.describe(want) + ")");
                }
            }
            GPTModel model = GPTModel.unfilled(want != null ? want : c); // every weight is read below
            Map<String, Tensor> p = model.namedParameters();
            int C = c.embDim(), L = c.nLayers();
            long[] at = {HEADER_INTS * 4L};
            int es = h.version == 3 ? 4 : 2;
            // wte: keep the first vocab rows of the padded table
            float[] wte = new float[h.paddedVocab * C];
            fill(m, at, es, wte, 0, wte.length);
            System.arraycopy(wte, 0, p.get("wte.weight").data(), 0, c.vocabSize() * C);
            float[] wpe = new float[c.contextLength() * C];
            fill(m, at, es, wpe, 0, wpe.length);
            System.arraycopy(wpe, 0, p.get("wpe.weight").data(), 0, p.get("wpe.weight").size());
            String[] perLayer = {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
                    "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"};
            for (String name : perLayer) {
                for (int i = 0; i < L; i++) {
                    Tensor t = p.get("h." + i + "." + name);
                    fill(m, at, es, t.data(), 0, t.size());
                }
            }
            fill(m, at, es, p.get("ln_f.weight").data(), 0, C);
            fill(m, at, es, p.get("ln_f.bias").data(), 0, C);
            out[0] = model;
            return c;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + IoErrors.reason(e), e);
        }
    }

    private static void fill(MemorySegment m, long[] at, int es, float[] dst, int off, int n) {
        if (es == 4) {
            MemorySegment.copy(m, LF, at[0], dst, off, n);
        } else {
            for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat(m.get(LS, at[0] + 2L * i) << 16);
        }
        at[0] += (long) es * n;
    }
}
