package dev.myllm.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {
    // probabilities 0.1, 0.2, 0.3, 0.4 at temperature 1
    static final float[] LOGITS = {(float) Math.log(0.1), (float) Math.log(0.2), (float) Math.log(0.3), (float) Math.log(0.4)};

    static int[] counts(GenerationConfig c, int draws) {
        Sampler s = new Sampler(c, 4);
        int[] n = new int[4];
        for (int i = 0; i < draws; i++) n[s.next(LOGITS, 0)]++;
        return n;
    }

    static GenerationConfig sampling(float t, int k, float p) {
        return new GenerationConfig(1, t, k, p, 42, -1, List.of(), true);
    }

    @Test
    void selectFindsTheKthSmallest() {
        java.util.Random r = new java.util.Random(5);
        for (int n : new int[]{1, 2, 7, 100, 1001}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(50) / 4f; // with ties
            float[] sorted = a.clone();
            java.util.Arrays.sort(sorted);
            for (int k : new int[]{0, n / 3, n - 1}) assertThat(Sampler.select(a.clone(), k)).isEqualTo(sorted[k]);
        }
    }

    @Test
    void greedyIsTheArgmax() {
        assertThat(new Sampler(GenerationConfig.greedy(1), 4).next(LOGITS, 0)).isEqualTo(3);
        assertThat(counts(sampling(1, 1, 1), 100)[3]).isEqualTo(100);   // top-1 is greedy
    }

    @org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
    @Test
    void greedyDecodingAllocatesNoScratchForTheVocabulary() {
        // a server makes a sampler per request: GPT-2's vocabulary in doubles is 400 KB
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        int vocab = 50257;
        float[] logits = new float[vocab];
        logits[1234] = 1f;
        // (the argmax's vectors are objects until the JIT compiles it: warm it up first)
        for (int warm = 0; warm < 300; warm++) new Sampler(GenerationConfig.greedy(1), vocab).next(logits, 0);
        long a0 = mx.getCurrentThreadAllocatedBytes();
        Sampler greedy = new Sampler(GenerationConfig.greedy(1), vocab);
        int id = greedy.next(logits, 0);
        long greedyBytes = mx.getCurrentThreadAllocatedBytes() - a0;
        long a1 = mx.getCurrentThreadAllocatedBytes();
        Sampler drawing = new Sampler(sampling(1, 5, 0.9f), vocab);
        long drawingBytes = mx.getCurrentThreadAllocatedBytes() - a1;
        assertThat(id).isEqualTo(1234);
        assertThat(greedyBytes).isLessThan(16_000);
        assertThat(drawingBytes).isGreaterThan(8L * vocab); // (and sampling still gets its scratch)
        assertThat(drawing.next(logits, 0)).isBetween(0, vocab - 1);
    }

    @Test
    void temperatureOneDrawsFromTheSoftmax() {
        int[] n = counts(sampling(1, 0, 1), 40_000);
        for (int i = 0; i < 4; i++) assertThat(n[i] / 40_000.0).isCloseTo((i + 1) / 10.0, within(0.01));
    }

    @Test
    void temperatureSharpensOrFlattens() {
        // T = 0.5 squares the probabilities: 1, 4, 9, 16 over 30
        int[] n = counts(sampling(0.5f, 0, 1), 40_000);
        assertThat(n[3] / 40_000.0).isCloseTo(16 / 30.0, within(0.01));
        int[] flat = counts(sampling(100f, 0, 1), 40_000);
        assertThat(flat[0] / 40_000.0).isCloseTo(0.25, within(0.015));
    }

    @Test
    void topKAndTopPKeepOnlyTheMostLikely() {
        int[] k2 = counts(sampling(1, 2, 1), 20_000);
        assertThat(k2[0] + k2[1]).isZero();
        assertThat(k2[3] / 20_000.0).isCloseTo(0.4 / 0.7, within(0.015));
        // top-p 0.6: 0.4 alone is short of 0.6, 0.4 + 0.3 reaches it
        int[] p = counts(sampling(1, 0, 0.6f), 20_000);
        assertThat(p[0] + p[1]).isZero();
        assertThat(p[2] / 20_000.0).isCloseTo(0.3 / 0.7, within(0.015));
        assertThat(counts(sampling(1, 0, 0.3f), 100)[3]).isEqualTo(100);
    }
}
