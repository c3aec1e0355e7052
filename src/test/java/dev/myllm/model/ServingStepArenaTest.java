package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import org.junit.jupiter.api.Test;

/**
 * The serving steps run each block in its own arena scope: a step holds one block's activations
 * whatever the depth, reuses them from block to block, and gives the same logits as without an arena.
 */
class ServingStepArenaTest {
    private static GPTConfig config(int layers) {
        return new GPTConfig(101, 64, 32, 2, layers, 0f, true, true, 1e-5f);
    }

    /** {peak floats of the step's scope, floats newly allocated} of one prefill step of two prompts. */
    private static long[] prefillInScope(GPTModel m, float[][] logits) {
        KVCache[] caches = {new KVCache(m.config(), 1, 40), new KVCache(m.config(), 1, 40)};
        int[][] chunks = {new int[24], new int[13]};
        for (int i = 0; i < 24; i++) chunks[0][i] = (i * 7 + 3) % 101;
        for (int i = 0; i < 13; i++) chunks[1][i] = (i * 11 + 5) % 101;
        long before = Arena.allocatedFloats();
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            logits[0] = m.prefillStep(chunks, caches).toArray();
            return new long[]{a.peakFloats(), Arena.allocatedFloats() - before};
        }
    }

    @Test
    void aStepHoldsOneBlocksActivationsWhateverTheDepth() {
        Arena.releasePool();
        float[][] out = new float[1][];
        GPTModel shallow = RandomModels.uniform(config(2), 3), deep = RandomModels.uniform(config(8), 3);
        shallow.eval();
        deep.eval();
        long[] two = prefillInScope(shallow, out);
        long[] eight = prefillInScope(deep, out);
        assertThat(eight[0]).isEqualTo(two[0]);          // four times the blocks, the same peak
        Arena.releasePool();
        long[] eightFresh = prefillInScope(deep, out);
        assertThat(eightFresh[1]).isEqualTo(two[1]);     // and from an empty pool, as many new floats as two blocks take
        assertThat(prefillInScope(deep, out)[1]).isZero(); // the next step of that shape: none
    }

    @Test
    void theLogitsAreTheSameWithAndWithoutAnArena() {
        GPTModel m = RandomModels.uniform(config(3), 7);
        m.eval();
        float[][] scoped = new float[1][];
        prefillInScope(m, scoped);
        KVCache[] caches = {new KVCache(m.config(), 1, 40), new KVCache(m.config(), 1, 40)};
        int[][] chunks = {new int[24], new int[13]};
        for (int i = 0; i < 24; i++) chunks[0][i] = (i * 7 + 3) % 101;
        for (int i = 0; i < 13; i++) chunks[1][i] = (i * 11 + 5) % 101;
        float[] plain;
        try (GradMode g = GradMode.noGrad()) {
            plain = m.prefillStep(chunks, caches).toArray();
            assertThat(Arena.active()).isFalse();
            // and a decode step after it, in a scope and not
            float[] d1 = m.decodeStep(new int[]{4, 9}, caches).toArray();
            caches[0].reset();
            caches[1].reset();
            m.prefillStep(chunks, caches);
            float[] d2;
            try (Arena a = Arena.open()) {
                d2 = m.decodeStep(new int[]{4, 9}, caches).toArray();
            }
            assertThat(d2).containsExactly(d1);
        }
        assertThat(scoped[0]).containsExactly(plain);
    }
}
