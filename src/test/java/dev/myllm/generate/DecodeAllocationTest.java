package dev.myllm.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.ProductMode;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Steady-state decoding allocates next to nothing on the heap, with float32 and packed weights:
 * no buffer from outside the arena's pool, a few kilobytes of small objects per token (tensor
 * headers, the thread pool's jobs), and per generate call neither a new KV cache nor new prefill
 * buffers. Measured on the decoding thread ({@code getCurrentThreadAllocatedBytes}) once the JIT
 * has compiled the kernels (the interpreter boxes every vector); per token is the difference
 * between calls of 2N and N new tokens (the same prompt, so the same per-call work) over N, each
 * the least of several calls, so a call during which the JIT still compiles does not count. The
 * class runs in a JVM of its own (tag {@code allocation}): in the whole suite's JVM, other tests'
 * profiles could leave a kernel compiled without the Vector API's intrinsics.
 */
@org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
class DecodeAllocationTest {
    /** GPT-2's head width, rows of whole Q8_0 blocks; a 1,000-token vocabulary, so a logits row is 4 KB. */
    static final GPTConfig CONFIG = new GPTConfig(1000, 128, 256, 4, 2, 0f, true, true, 1e-5f);
    static final int[] PROMPT = {5, 17, 42, 7, 99, 3, 250, 11};
    /** A prompt whose cache (100 positions, 400 KB) and prefill buffers would stand out in a call's bytes. */
    static final int[] LONG_PROMPT = new int[100];

    static {
        for (int i = 0; i < LONG_PROMPT.length; i++) LONG_PROMPT[i] = (i * 37 + 1) % 1000;
    }

    static final int N = 40;
    /**
     * Per token: what a step's small objects take (tensor headers, the pool's jobs: 5-7 KB per
     * layer measured, vectors the JIT sometimes boxes in attention included) with room to spare;
     * a step whose activations and logits came from the heap instead of the pool (18 KB a layer,
     * 4 KB of logits) would exceed it.
     */
    static final long TOKEN_BOUND = 32 << 10;
    /**
     * A call of {@link #LONG_PROMPT} and one new token: usually about 30 KB; the JIT sometimes
     * compiles attention over the cache so that it boxes its vectors (measured up to 550 KB for
     * this prefill, run to run); the old code's tiles for packed weights alone took 1.6 MB.
     */
    static final long PREFILL_BOUND = 1 << 20;

    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** The least bytes this thread allocated over {@code calls} generate calls of {@code tokens} new tokens each. */
    static long leastBytes(Generator gen, int[] prompt, int tokens, int calls) {
        GenerationConfig greedy = GenerationConfig.greedy(tokens);
        long least = Long.MAX_VALUE;
        for (int i = 0; i < calls; i++) {
            long b0 = THREADS.getCurrentThreadAllocatedBytes();
            int n = gen.generate(prompt, greedy).tokens().length;
            least = Math.min(least, THREADS.getCurrentThreadAllocatedBytes() - b0);
            assertThat(n).isEqualTo(tokens);
        }
        return least;
    }

    static GPTModel model(PackedMatrix.Format f) {
        GPTModel m = new GPTModel(CONFIG, 3);
        if (f != null) {
            PackedWeights.pack(m, f);
            PackedWeights.dropFloatWeights(m);
        }
        return m;
    }

    @Test
    void generateAllocatesAFewKilobytesPerTokenAndNoCacheOrPrefillBuffersPerCall() {
        assertThat(measured("generate")).isEmpty();
    }

    /** The generate check in this JVM: its deterministic parts asserted, the byte counts over their bounds returned. */
    static List<String> generateCheck() {
        List<String> over = new ArrayList<>();
        for (PackedMatrix.Format f : new PackedMatrix.Format[]{null, PackedMatrix.Format.BF16, PackedMatrix.Format.Q8_0}) {
            String name = f == null ? "F32" : f.name();
            Generator gen = new Generator(model(f), null);
            int[] first = gen.generate(PROMPT, GenerationConfig.greedy(2 * N)).tokens();
            KVCache kept = gen.keptCache();
            assertThat(kept.capacity()).isEqualTo(128); // 8 + 80 positions, rounded up to 64
            long perToken = Long.MAX_VALUE, prefillCall = Long.MAX_VALUE;
            // warm-up, then measure; again (up to a limit) while the bytes are over the bounds: on a
            // busy machine the JIT may still be compiling after the first warm-up (the interpreter
            // boxes every vector), but no amount of warm-up lets a real regression pass
            for (int attempt = 0; attempt < 8 && (perToken >= TOKEN_BOUND || prefillCall >= PREFILL_BOUND); attempt++) {
                for (int i = 0; i < 30; i++) {
                    gen.generate(PROMPT, GenerationConfig.greedy(2 * N));
                    if (i % 10 == 0) gen.generate(LONG_PROMPT, GenerationConfig.greedy(1));
                }
                gen.generate(PROMPT, GenerationConfig.greedy(2 * N)); // (the pool keeps the sizes of the last two calls only)
                long floats0 = Arena.allocatedFloats();
                long shortCall = leastBytes(gen, PROMPT, N, 6), longCall = leastBytes(gen, PROMPT, 2 * N, 6);
                assertThat(Arena.allocatedFloats() - floats0).as(name + ": floats the arena had to allocate once warm").isEqualTo(0);
                perToken = Math.max(0, longCall - shortCall) / N;
                // a long prompt and one new token: the prefill and the call's own objects (the old code
                // made a new cache per call, and for packed weights new tiles per product: 1.6 MB here)
                gen.generate(LONG_PROMPT, GenerationConfig.greedy(1));
                floats0 = Arena.allocatedFloats();
                prefillCall = leastBytes(gen, LONG_PROMPT, 1, 6);
                assertThat(Arena.allocatedFloats() - floats0).as(name + ": floats the arena allocated for the same prefill again").isEqualTo(0);
                System.out.printf("%s: %,d bytes/token; a call of a 100-token prompt and one new token %,d bytes%n", name, perToken, prefillCall);
            }
            assertThat(gen.keptCache()).as(name + ": one cache for every call that fits it").isSameAs(kept);
            if (perToken >= TOKEN_BOUND) over.add(name + ": " + perToken + " bytes per decoded token, bound " + TOKEN_BOUND);
            if (prefillCall >= PREFILL_BOUND) over.add(name + ": " + prefillCall + " bytes for a call of a long prompt, bound " + PREFILL_BOUND);
            // the kept cache and the pooled buffers give the same tokens as a new generator
            assertThat(gen.generate(PROMPT, GenerationConfig.greedy(2 * N)).tokens()).containsExactly(first);
            assertThat(new Generator(model(f), null).generate(PROMPT, GenerationConfig.greedy(2 * N)).tokens()).containsExactly(first);
            // a call that needs more positions gets a larger cache, kept in its place
            gen.generate(LONG_PROMPT, GenerationConfig.greedy(N));
            assertThat(gen.keptCache().capacity()).isEqualTo(CONFIG.contextLength());
        }
        return over;
    }

    @Test
    void aServersBatchedDecodeStepAllocatesAFewKilobytesPerSequence() {
        assertThat(measured("batched")).isEmpty();
    }

    /** The batched-step check in this JVM: the arena asserted, bytes per sequence and step over the bound returned. */
    static List<String> batchedCheck() {
        GPTModel m = model(PackedMatrix.Format.BF16);
        m.eval();
        int b = 4, steps = 60;
        long least = Long.MAX_VALUE;
        try (GradMode g = GradMode.noGrad()) {
            KVCache[] caches = new KVCache[b];
            for (int i = 0; i < b; i++) caches[i] = new KVCache(CONFIG, 1, 128);
            int[] ids = {1, 2, 3, 4};
            long floats0 = 0;
            // rounds until the least bytes of a round are under the bound (the JIT done) or a limit
            for (int round = 0; round < 40 || (round < 100 && least / steps / b >= TOKEN_BOUND / 2); round++) {
                if (round == 30) floats0 = Arena.allocatedFloats();
                for (KVCache c : caches) c.reset();
                long b0 = THREADS.getCurrentThreadAllocatedBytes();
                // as the scheduler's decode: a scope and the streaming kernels per step
                for (int s = 0; s < steps; s++) {
                    try (Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                        float[] logits = m.decodeStep(ids, caches).data();
                        for (int i = 0; i < b; i++) ids[i] = dev.myllm.tensor.ArgMax.of(logits, i * CONFIG.vocabSize(), CONFIG.vocabSize());
                    }
                }
                if (round >= 30) least = Math.min(least, THREADS.getCurrentThreadAllocatedBytes() - b0);
            }
            assertThat(Arena.allocatedFloats()).as("floats the arena had to allocate once warm").isEqualTo(floats0);
        }
        long perToken = least / steps / b;
        System.out.printf("batched decode of %d: %,d bytes per sequence and step%n", b, perToken);
        return perToken < TOKEN_BOUND / 2 ? List.of() : List.of(perToken + " bytes per sequence and step, bound " + TOKEN_BOUND / 2);
    }

    /**
     * A check's byte counts over their bounds: in this JVM, then, while any is over, in up to two
     * new ones. The JIT compiles a kernel differently from JVM to JVM: a call of ours taking a
     * vector, inlined in some JVMs and left out of line (its vectors boxed) in others, came and went
     * from one JVM to the next on a busy machine (GELU's VecMath.exp in the products' stores: 30-70
     * KB a token, 2.5 MB a 100-token prefill, in one JVM of three; written out since). A regression
     * in our code is over its bound in every JVM; the printed counts of each JVM stay in the report.
     */
    static List<String> measured(String check) {
        List<String> over = check.equals("generate") ? generateCheck() : batchedCheck();
        for (int jvm = 0; jvm < 2 && !over.isEmpty(); jvm++) {
            System.out.println("over the bound in this JVM, measuring again in a new one: " + over);
            over = inNewJvm(check);
        }
        return over;
    }

    /** Runs {@link #main} with {@code check} in a new JVM with the suite's flags; its lines over the bounds, or its failure. */
    static List<String> inNewJvm(String check) {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules", "jdk.incubator.vector"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> a.startsWith("-X") || a.startsWith("-Dmyllm.")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DecodeAllocationTest.class.getName(), check));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            System.out.print(out);
            if (p.waitFor() != 0) return List.of("the new JVM failed: " + out);
            return out.lines().filter(l -> l.startsWith(OVER)).map(l -> l.substring(OVER.length())).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final String OVER = "over: ";

    /** A check in a JVM of its own ({@link #inNewJvm}): prints its counts and each one over its bound. */
    public static void main(String[] args) {
        for (String o : args[0].equals("generate") ? generateCheck() : batchedCheck()) System.out.println(OVER + o);
    }
}
