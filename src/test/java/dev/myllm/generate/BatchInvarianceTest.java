package dev.myllm.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.model.RandomModels;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.PackedMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sequence decoded in a batch beside others, its prompt prefilled in chunks, gets bitwise the
 * logits it gets alone, and so the tokens {@link Generator} gives it: what batched serving relies on.
 */
class BatchInvarianceTest {
    // odd vocabulary (ragged column groups), 3 heads of 16
    static final GPTConfig CFG = new GPTConfig(97, 64, 48, 3, 2, 0f, true, true, 1e-5f);
    static final int NEW = 10;

    /**
     * The test model, its weights as float32 tensors ("none") or, as inference commands keep them,
     * packed: F32_PANELS, or F16/BF16 (in panels of halves, their default in memory of our own).
     */
    static GPTModel model(String packed) {
        GPTModel m = RandomModels.uniform(CFG, 5);
        if (!packed.equals("none")) {
            PackedWeights.pack(m, PackedMatrix.Format.valueOf(packed));
            PackedWeights.dropFloatWeights(m);
        }
        return m;
    }

    @ParameterizedTest(name = "weights {0}")
    @ValueSource(strings = {"none", "F32_PANELS", "F16", "BF16"})
    void batchedDecodeMatchesSoloBitwise(String packed) {
        GPTModel m = model(packed);
        m.eval();
        Rng rng = new Rng(3);
        int[] lengths = {1, 3, 7, 12, 20, 2};
        List<int[]> prompts = new ArrayList<>();
        for (int n : lengths) {
            int[] p = new int[n];
            for (int i = 0; i < n; i++) p[i] = rng.nextInt(CFG.vocabSize());
            prompts.add(p);
        }
        // alone: the Generator's tokens, and the logits of every step
        List<float[][]> soloLogits = new ArrayList<>();
        List<int[]> soloTokens = new ArrayList<>();
        Generator gen = new Generator(m, null);
        for (int[] p : prompts) {
            int[] tokens = gen.generate(p, GenerationConfig.greedy(NEW)).tokens();
            soloTokens.add(tokens);
            soloLogits.add(solo(m, p, tokens));
        }
        // together: sequence s joins at step s, its prompt prefilled in chunks of 5, then one batched step for all
        int n = prompts.size();
        KVCache[] caches = new KVCache[n];
        int[] made = new int[n];
        int[] last = new int[n];
        try (GradMode g = GradMode.noGrad()) {
            for (int step = 0; step < n + NEW; step++) {
                if (step < n) {
                    int[] p = prompts.get(step);
                    caches[step] = new KVCache(CFG, 1, p.length + NEW);
                    float[] logits = null;
                    for (int from = 0; from < p.length; from += 5) {
                        int to = Math.min(p.length, from + 5);
                        try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                            logits = m.forward(Arrays.copyOfRange(p, from, to), 1, to - from, caches[step], true).toArray();
                        }
                    }
                    assertArrayEquals(soloLogits.get(step)[0], logits, "prefill logits of sequence " + step);
                    last[step] = soloTokens.get(step)[0];
                    made[step] = 1;
                }
                List<Integer> active = new ArrayList<>();
                for (int s = 0; s < n; s++) if (caches[s] != null && made[s] < soloTokens.get(s).length) active.add(s);
                if (active.isEmpty()) continue;
                int[] ids = new int[active.size()];
                KVCache[] cs = new KVCache[active.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = last[active.get(i)];
                    cs[i] = caches[active.get(i)];
                }
                float[] out;
                try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                    out = m.decodeStep(ids, cs).toArray();
                }
                for (int i = 0; i < ids.length; i++) {
                    int s = active.get(i);
                    float[] row = Arrays.copyOfRange(out, i * CFG.vocabSize(), (i + 1) * CFG.vocabSize());
                    assertArrayEquals(soloLogits.get(s)[made[s]], row, "sequence " + s + ", token " + made[s] + ", batch of " + ids.length);
                    last[s] = soloTokens.get(s)[made[s]++];
                }
            }
        }
    }

    @ParameterizedTest(name = "weights {0}")
    @ValueSource(strings = {"none", "F32_PANELS", "F16", "BF16"})
    void prefillOfSeveralPromptsTogetherGivesEachItsSoloLogitsAndCache(String packed) {
        GPTModel m = model(packed);
        m.eval();
        Rng rng = new Rng(3);
        int[][] first = new int[4][], second = new int[4][];
        int[] lengths = {1, 7, 3, 12}, more = {5, 1, 9, 2};
        for (int s = 0; s < 4; s++) {
            first[s] = new int[lengths[s]];
            second[s] = new int[more[s]];
            for (int i = 0; i < lengths[s]; i++) first[s][i] = rng.nextInt(CFG.vocabSize());
            for (int i = 0; i < more[s]; i++) second[s][i] = rng.nextInt(CFG.vocabSize());
        }
        try (GradMode g = GradMode.noGrad()) {
            KVCache[] together = new KVCache[4], alone = new KVCache[4];
            for (int s = 0; s < 4; s++) {
                together[s] = new KVCache(CFG, 1, 24);
                alone[s] = new KVCache(CFG, 1, 24);
            }
            // two rounds: the second starts from caches that already hold the first chunks
            for (int[][] chunks : new int[][][]{first, second}) {
                float[] out;
                try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                    out = m.prefillStep(chunks, together).toArray();
                }
                for (int s = 0; s < 4; s++) {
                    float[] solo;
                    try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                        solo = m.forward(chunks[s], 1, chunks[s].length, alone[s], true).toArray();
                    }
                    assertArrayEquals(solo, Arrays.copyOfRange(out, s * CFG.vocabSize(), (s + 1) * CFG.vocabSize()), "sequence " + s);
                    assertEquals(alone[s].length(), together[s].length());
                }
            }
            // and decoding goes on identically from both sets of caches
            int[] next = {1, 2, 3, 4};
            float[] a1, a2;
            try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                a1 = m.decodeStep(next, together).toArray();
                a2 = m.decodeStep(next, alone).toArray();
            }
            assertArrayEquals(a2, a1);
        }
    }

    @Test
    void fixedKernelsGiveEachRowTheSameBitsForAnyRowCount() {
        Rng rng = new Rng(9);
        for (ProductMode mode : new ProductMode[]{ProductMode.ROWS, ProductMode.PACKED}) {
            for (int[] nk : new int[][]{{37, 45}, {96, 64}, {130, 200}, {5, 300}, {23, 50}}) {
                int n = nk[0], k = nk[1], rows = 19; // past 8 and 16: the eight-row pass of the streaming kernel
                float[] a = new float[rows * k], b = new float[n * k];
                for (int i = 0; i < a.length; i++) a[i] = rng.nextFloat() - 0.5f;
                for (int i = 0; i < b.length; i++) b[i] = rng.nextFloat() - 0.5f;
                for (int m = 1; m <= rows; m++) {
                    float[] all = new float[m * n];
                    try (ProductMode.Scope s = ProductMode.use(mode)) {
                        dev.myllm.tensor.Gemm.matmulNT(a, 0, b, 0, all, 0, m, n, k, false);
                        for (int r = 0; r < m; r++) {
                            float[] one = new float[n];
                            dev.myllm.tensor.Gemm.matmulNT(a, r * k, b, 0, one, 0, 1, n, k, false);
                            assertArrayEquals(one, Arrays.copyOfRange(all, r * n, (r + 1) * n), mode + " row " + r + " of " + m + ", N=" + n + ", K=" + k);
                        }
                    }
                }
            }
        }
    }

    /** Logits of every step of greedy decoding alone, fed the given tokens: prefill, then one token at a time. */
    static float[][] solo(GPTModel m, int[] prompt, int[] tokens) {
        float[][] out = new float[tokens.length][];
        KVCache cache = new KVCache(CFG, 1, prompt.length + NEW);
        try (GradMode g = GradMode.noGrad()) {
            try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                out[0] = m.forward(prompt, 1, prompt.length, cache, true).toArray();
            }
            for (int i = 1; i < tokens.length; i++) {
                try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                    out[i] = m.forward(new int[]{tokens[i - 1]}, 1, 1, cache, true).toArray();
                }
            }
        }
        for (int i = 0; i < tokens.length; i++) {
            int argmax = 0;
            for (int v = 1; v < out[i].length; v++) if (out[i][v] > out[i][argmax]) argmax = v;
            if (argmax != tokens[i]) throw new AssertionError("replay differs from the Generator at token " + i);
        }
        return out;
    }
}
