package dev.myllm.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JVM flags that force {@code VecMath.exp} and {@code VecMath.sum} inline (the launcher's and
 * the suite's) keep every kernel's vectors in registers even when C2 inlines nothing on its own
 * judgment. {@code -XX:InlineFrequencyRatio=1e9} makes no call site frequent, as a kernel compiled
 * without a profile sees them: without the flags a decoded token then allocates tens of kilobytes
 * (every vector passed to the helpers boxed), with them as little as usual, and a training step as
 * many bytes as in this JVM, where the JIT inlines by its usual judgment. Each case runs in a new
 * JVM; the class in a JVM of its own (tag {@code allocation}).
 */
@org.junit.jupiter.api.Tag("allocation") // (counts bytes: run in a JVM of its own, see pom.xml)
class ForcedInliningTest {
    static final GPTConfig CONFIG = new GPTConfig(1000, 128, 256, 4, 2, 0f, true, true, 1e-5f);
    static final int[] PROMPT = {5, 17, 42, 7, 99, 3, 250, 11};
    /** Bytes a decoded token may take (usually 9-12 KB; boxed vectors: 65 KB with 512-bit vectors, 32 KB with 256-bit). */
    static final long TOKEN_BOUND = 32 << 10;
    static final List<String> NO_FREQUENT_SITES = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:InlineFrequencyRatio=1e9");
    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void withTheHelpersForcedInlineNothingIsBoxedWhenNoCallSiteIsFrequent() {
        long trainHere = trainStepBytes();
        long[] forced = inNewJvm(true);
        if (forced[0] >= TOKEN_BOUND || forced[1] > trainHere * 23 / 20) forced = inNewJvm(true); // (one more JVM: a busy machine)
        assertThat(forced[0]).as("bytes a decoded token, the helpers forced inline").isLessThan(TOKEN_BOUND);
        assertThat(forced[1]).as("bytes a training step, against %,d in this JVM", trainHere).isLessThanOrEqualTo(trainHere * 23 / 20);
    }

    @Test
    void withoutTheFlagsTheSameJvmBoxesTheVectors() {
        // so that the case above shows the flags at work, not a provocation that provokes nothing.
        // Relative, not absolute: a boxed vector's size follows the machine's vector width (65 KB a
        // token with 512-bit vectors, 32 KB with 256-bit), the forced case's 9-12 KB hardly at all.
        long forced = inNewJvm(true)[0];
        long left = inNewJvm(false)[0];
        assertThat(left).as("bytes a decoded token, the helpers left to the JIT, against %,d forced inline", forced)
                .isGreaterThan(2 * forced);
    }

    /** Bytes of all threads for a decoded token (the difference between calls of 80 and 40 new tokens). */
    static long decodeTokenBytes() {
        Generator gen = new Generator(new GPTModel(CONFIG, 3), null);
        for (int i = 0; i < 60; i++) gen.generate(PROMPT, GenerationConfig.greedy(80));
        long short_ = Long.MAX_VALUE, long_ = Long.MAX_VALUE;
        for (int i = 0; i < 6; i++) {
            long b = THREADS.getTotalThreadAllocatedBytes();
            gen.generate(PROMPT, GenerationConfig.greedy(40));
            short_ = Math.min(short_, THREADS.getTotalThreadAllocatedBytes() - b);
            b = THREADS.getTotalThreadAllocatedBytes();
            gen.generate(PROMPT, GenerationConfig.greedy(80));
            long_ = Math.min(long_, THREADS.getTotalThreadAllocatedBytes() - b);
        }
        return Math.max(0, long_ - short_) / 40;
    }

    /** The least bytes of all threads for a training step (forward, loss, backward) of 4 × 64 tokens, once warm. */
    static long trainStepBytes() {
        GPTModel m = new GPTModel(CONFIG, 3);
        m.train(true);
        int b = 4, t = 64;
        int[] ids = new int[b * t], targets = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 31 + 7) % CONFIG.vocabSize();
            targets[i] = (i * 17 + 3) % CONFIG.vocabSize();
        }
        long least = Long.MAX_VALUE;
        for (int step = 0; step < 60; step++) {
            long b0 = THREADS.getTotalThreadAllocatedBytes();
            for (Tensor p : m.parameters()) p.zeroGrad();
            Ops.crossEntropy(m.forward(ids, b, t).reshape(b * t, CONFIG.vocabSize()), targets).backward();
            if (step >= 40) least = Math.min(least, THREADS.getTotalThreadAllocatedBytes() - b0);
        }
        return least;
    }

    /**
     * In a new JVM with no frequent call sites, with or without the forced-inline flags: {decode
     * token bytes, train step bytes (forced only)}.
     */
    static long[] inNewJvm(boolean forced) {
        return inNewJvm(forced, NO_FREQUENT_SITES, forced ? "train" : "decode");
    }

    /**
     * In a new JVM with the suite's flags (the forced-inline ones only if {@code forced}) and
     * {@code extra}: {decode token bytes, train step bytes (0 unless {@code mode} is "train")}.
     */
    static long[] inNewJvm(boolean forced, List<String> extra, String mode) {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules", "jdk.incubator.vector"));
        List<String> suite = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-X") || a.startsWith("-Dmyllm.")).toList();
        assertThat(suite).as("the suite's JVM flags force the helpers inline (pom.xml)")
                .contains("-XX:CompileCommand=inline,dev.myllm.tensor.VecMath::exp", "-XX:CompileCommand=inline,dev.myllm.tensor.VecMath::sum");
        cmd.addAll(suite.stream().filter(a -> forced || !a.startsWith("-XX:CompileCommand")).toList());
        cmd.addAll(extra);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ForcedInliningTest.class.getName(), mode));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            System.out.print((forced ? "forced: " : "left to the JIT: ") + out);
            assertThat(p.waitFor()).as(out).isZero();
            String last = out.strip().lines().reduce((a, b) -> b).orElseThrow();
            String[] f = last.split(" ");
            return new long[]{Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The new JVM's side: prints "decode-token-bytes train-step-bytes" (the second 0 for "decode" alone). */
    public static void main(String[] args) {
        long train = args[0].equals("train") ? trainStepBytes() : 0; // (first, as in the test's JVM)
        System.out.println(decodeTokenBytes() + " " + train);
    }
}
