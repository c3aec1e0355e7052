package dev.myllm.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class GPTModelTest {
    static final GPTConfig TEST = new GPTConfig(67, 16, 32, 4, 2, 0f, true, true, 1e-5f);

    static int[] randomIds(long seed, int n, int vocab) {
        Rng r = new Rng(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }

    @Test
    void parameterCountsOfTheIssue() {
        GPTConfig small = GPTConfig.preset("gpt2-small");
        GPTConfig book = small.withQkvBias(false).withTiedHead(false);
        assertThat(book.parameterCount()).isEqualTo(163_009_536L);
        assertThat(book.parameterCountWithoutHead()).isEqualTo(124_412_160L);
        assertThat(small.parameterCount()).isEqualTo(124_439_808L);
        assertThat(GPTConfig.preset("gpt2-medium").withQkvBias(false).withTiedHead(false).parameterCount()).isEqualTo(406_212_608L);
        assertThat(GPTConfig.preset("gpt2-large").withQkvBias(false).withTiedHead(false).parameterCount()).isEqualTo(838_220_800L);
        assertThat(GPTConfig.preset("gpt2-xl").withQkvBias(false).withTiedHead(false).parameterCount()).isEqualTo(1_637_792_000L);
        assertThat(GPTConfig.preset("gpt2")).isEqualTo(small);
        assertThatThrownBy(() -> GPTConfig.preset("gpt3")).hasMessageContaining("unknown preset 'gpt3'").hasMessageContaining("gpt2-xl");
    }

    @Test
    void configCountMatchesARealModelInEveryVariant() {
        for (boolean bias : new boolean[]{false, true}) {
            for (boolean tied : new boolean[]{false, true}) {
                GPTConfig c = TEST.withQkvBias(bias).withTiedHead(tied);
                GPTModel m = new GPTModel(c, 1);
                assertThat(m.parameterCount()).as("bias %s tied %s", bias, tied).isEqualTo(c.parameterCount());
                assertThat(m.namedParameters().containsKey("lm_head.weight")).isEqualTo(!tied);
                assertThat(m.namedParameters().containsKey("h.1.attn.c_attn.bias")).isEqualTo(bias);
            }
        }
    }

    @Test
    void parameterNamesAreHuggingFaceGpt2s() {
        GPTModel m = new GPTModel(TEST.withTiedHead(false), 1);
        List<String> names = List.copyOf(m.namedParameters().keySet());
        assertThat(names.subList(0, 2)).containsExactly("wte.weight", "wpe.weight");
        assertThat(names.subList(2, 14)).containsExactly(
                "h.0.ln_1.weight", "h.0.ln_1.bias", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
                "h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.0.ln_2.weight", "h.0.ln_2.bias",
                "h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias");
        assertThat(names.subList(names.size() - 3, names.size())).containsExactly("ln_f.weight", "ln_f.bias", "lm_head.weight");
        assertThat(m.namedParameters().get("h.0.mlp.c_fc.weight").shape()).containsExactly(128, 32); // [out, in]
    }

    @Test
    void sameSeedSameWeightsAndGpt2Initialization() {
        GPTModel a = new GPTModel(TEST, 42), b = new GPTModel(TEST, 42), c = new GPTModel(TEST, 43);
        assertThat(a.namedParameters().get("h.1.mlp.c_fc.weight").data()).containsExactly(b.namedParameters().get("h.1.mlp.c_fc.weight").data());
        assertThat(a.namedParameters().get("wte.weight").data()).isNotEqualTo(c.namedParameters().get("wte.weight").data());
        assertThat(std(a.namedParameters().get("h.0.mlp.c_fc.weight"))).isBetween(0.018, 0.022);
        assertThat(std(a.namedParameters().get("h.0.mlp.c_proj.weight"))).isBetween(0.009, 0.011); // 0.02/√(2·2)
        assertThat(a.namedParameters().get("h.0.ln_1.weight").data()).containsOnly(1f);
        assertThat(a.namedParameters().get("h.0.attn.c_attn.bias").data()).containsOnly(0f);
    }

    private static double std(Tensor t) {
        double s = 0;
        for (float x : t.data()) s += x * x;
        return Math.sqrt(s / t.size());
    }

    @Test
    void forwardGivesLogitsPerPositionAndIsCausal() {
        GPTModel m = new GPTModel(TEST, 3);
        int[] ids = randomIds(1, 2 * 6, 67);
        Tensor logits = m.forward(ids, 2, 6);
        assertThat(logits.shape()).containsExactly(2, 6, 67);
        int[] changed = ids.clone();
        changed[5] = (changed[5] + 1) % 67; // last token of the first sequence
        Tensor other = m.forward(changed, 2, 6);
        float[] x = logits.data(), y = other.data();
        for (int i = 0; i < 5 * 67; i++) assertThat(y[i]).isEqualTo(x[i]);        // earlier positions unchanged
        assertThat(y[5 * 67]).isNotEqualTo(x[5 * 67]);                                // the changed one differs
        for (int i = 6 * 67; i < x.length; i++) assertThat(y[i]).isEqualTo(x[i]);    // the other sequence unchanged
        assertThatThrownBy(() -> m.forward(randomIds(1, 17, 67), 1, 17)).hasMessageContaining("exceeds the context length 16");
    }

    @Test
    void tiedHeadIsTheTokenEmbedding() {
        GPTModel m = new GPTModel(TEST, 3);
        assertThat(m.headWeight()).isSameAs(m.tokenEmbedding().weight());
        Tensor logits = m.forward(new int[]{1, 2, 3}, 1, 3);
        Ops.crossEntropy(logits.reshape(3, 67), new int[]{2, 3, 4}).backward();
        assertThat(m.tokenEmbedding().weight().grad()).isNotNull();
        for (var e : m.namedParameters().entrySet()) assertThat(e.getValue().grad()).as(e.getKey()).isNotNull();
    }

    @Test
    void backwardThroughTheWholeModelMatchesFiniteDifferences() {
        GPTModel m = new GPTModel(new GPTConfig(11, 8, 8, 2, 2, 0f, true, true, 1e-5f), 21);
        for (Tensor t : m.parameters()) for (int i = 0; i < t.size(); i++) t.data()[i] *= t.rank() == 2 ? 20f : 1f;
        int[] ids = {1, 5, 2, 9, 3, 3, 7, 0};
        int[] targets = {5, 2, 9, 3, 3, 7, 0, 4};
        Ops.crossEntropy(m.forward(ids, 2, 4).reshape(8, 11), targets).backward();
        Rng pick = new Rng(3);
        for (String name : List.of("wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
                "h.1.attn.c_proj.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.bias", "ln_f.bias")) {
            Tensor p = m.namedParameters().get(name);
            for (int n = 0; n < 3; n++) {
                int i = pick.nextInt(p.size());
                float saved = p.data()[i], eps = 1e-2f;
                p.data()[i] = saved + eps;
                double plus = loss(m, ids, targets);
                p.data()[i] = saved - eps;
                double minus = loss(m, ids, targets);
                p.data()[i] = saved;
                double numeric = (plus - minus) / (2 * eps), analytic = p.grad().data()[i];
                assertThat(analytic).as("%s[%d]", name, i).isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-3 + 0.05 * Math.abs(numeric)));
            }
        }
    }

    private static double loss(GPTModel m, int[] ids, int[] targets) {
        try (var g = GradMode.noGrad()) {
            return Ops.crossEntropy(m.forward(ids, 2, 4).reshape(8, 11), targets).item();
        }
    }

    @Test
    void kvCacheGivesTheSameLogitsAsTheFullForward() {
        GPTModel m = new GPTModel(TEST, 5);
        int[] ids = randomIds(2, 2 * 12, 67);
        try (var g = GradMode.noGrad()) {
            float[] full = m.forward(ids, 2, 12).toArray(); // (2, 12, 67)
            KVCache cache = m.newCache(2);
            // prefill 7, then 1, then 4 at once: every split must agree with the full pass
            int[][] chunks = {{0, 7}, {7, 1}, {8, 4}};
            for (int[] ch : chunks) {
                int[] part = new int[2 * ch[1]];
                for (int b = 0; b < 2; b++) System.arraycopy(ids, b * 12 + ch[0], part, b * ch[1], ch[1]);
                float[] got = m.forward(part, 2, ch[1], cache, false).toArray();
                float[] last = m.forward(ids, 2, 12).toArray(); // unchanged by the cache
                for (int b = 0; b < 2; b++) {
                    for (int t = 0; t < ch[1]; t++) {
                        for (int v = 0; v < 67; v++) {
                            float want = full[(b * 12 + ch[0] + t) * 67 + v];
                            assertThat(got[(b * ch[1] + t) * 67 + v]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5f));
                            assertThat(last[(b * 12 + ch[0] + t) * 67 + v]).isEqualTo(want);
                        }
                    }
                }
            }
            assertThat(cache.length()).isEqualTo(12);
            assertThatThrownBy(() -> m.forward(randomIds(1, 10, 67), 2, 5, cache, true)).hasMessageContaining("KV cache full");
        }
    }

    @Test
    void lastOnlyComputesTheLastPositionsLogits() {
        GPTModel m = new GPTModel(TEST, 5);
        int[] ids = randomIds(4, 8, 67);
        float[] full = m.forward(ids, 1, 8).toArray();
        float[] last = m.forward(ids, 1, 8, null, true).toArray();
        assertThat(last).hasSize(67);
        // equal up to rounding: one row takes the matrix-vector kernel, eight rows the blocked one
        for (int v = 0; v < 67; v++) assertThat(last[v]).isCloseTo(full[7 * 67 + v], org.assertj.core.data.Offset.offset(1e-6f));
    }

    @Test
    void cacheNeedsNoGradMode() {
        GPTModel m = new GPTModel(TEST, 5);
        assertThatThrownBy(() -> m.forward(new int[]{1}, 1, 1, m.newCache(1), true)).hasMessageContaining("noGrad");
    }

    @org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
    @Test
    void decodingAllocatesNothingThatGrowsWithTheModelWidth() {
        // the wide model first: its longer loops get the kernels compiled sooner
        long wide = bytesPerDecodeStep(new GPTConfig(1000, 32, 256, 4, 2, 0f, true, true, 1e-5f));
        long narrow = bytesPerDecodeStep(new GPTConfig(1000, 32, 32, 4, 2, 0f, true, true, 1e-5f));
        // without buffer reuse the wide model's step would allocate ~60 KB more (hidden layers of
        // 1024 floats, QKV of 768, ...); with it only bookkeeping (Tensor objects, shapes, and the
        // thread pool's task objects, which only the wide model's products are big enough to use)
        assertThat(wide - narrow).isLessThan(4_000);
        // that bookkeeping is a few hundred small objects: under 20 KB with the JVM's default 8-byte
        // object alignment; with the launcher's 64 (the build's tests run with it) each takes at least
        // a cache line, and the same objects measured 29-33 KB
        assertThat(narrow).isLessThan(objectAlignment() >= 64 ? 40_000 : 20_000);
    }

    private static int objectAlignment() {
        var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        return Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue());
    }

    private static long bytesPerDecodeStep(GPTConfig config) {
        GPTModel m = new GPTModel(config, 5);
        m.eval();
        int threads = dev.myllm.tensor.Parallel.threads();
        dev.myllm.tensor.Parallel.setThreads(1); // count every allocation on this thread
        try (var g = GradMode.noGrad()) {
            KVCache cache = m.newCache(1);
            int[] step = {0};
            return dev.myllm.tensor.SteadyAllocation.leastBytesPerCall(() -> {
                if (cache.remaining() == 0) cache.reset();
                try (Arena a = Arena.open()) {
                    m.forward(new int[]{step[0]++ % 1000}, 1, 1, cache, true);
                }
            }, 1000, 20);
        } finally {
            dev.myllm.tensor.Parallel.setThreads(threads);
        }
    }

    @Test
    void dropoutRngIsUsedOnlyInTraining() {
        GPTModel m = new GPTModel(TEST.withDropRate(0.1f), 5);
        String s0 = m.dropoutRng().state();
        m.eval();
        m.forward(new int[]{1, 2}, 1, 2);
        assertThat(m.dropoutRng().state()).isEqualTo(s0);
        float[] eval = m.forward(new int[]{1, 2}, 1, 2).toArray();
        m.train(true);
        float[] first = m.forward(new int[]{1, 2}, 1, 2).toArray();
        assertThat(m.dropoutRng().state()).isNotEqualTo(s0);
        assertThat(first).isNotEqualTo(eval);                                         // dropout acted
        assertThat(m.forward(new int[]{1, 2}, 1, 2).toArray()).isNotEqualTo(first);   // new masks each step
        m.dropoutRng().setState(s0);
        assertThat(m.forward(new int[]{1, 2}, 1, 2).toArray()).containsExactly(first); // a resumed run replays them
    }
}
