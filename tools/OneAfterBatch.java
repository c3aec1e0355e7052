import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.tensor.*;
import java.util.Arrays;

/**
 * Whether one-row decoding slows after batched decoding in the same JVM, without the server:
 * gpt2-small f32 (random weights), five {@code generate} calls of 128 tokens (median ms per token),
 * then ROWS prompts prefilled in one pass and 128 decode steps of them at once (as the server's
 * Scheduler runs a burst), twice, and again, four times. In a JVM that has served batches, one
 * stream ran 15-25% slower: GemmSmall's one-row product shared its methods with the several-row
 * passes, and once those had run, the JIT recompiled them with the one-row pass's finish out of
 * line. Before that was fixed, this harness showed generate 9.9 ms a token before and 10.4-10.6 after.
 *
 * <pre>
 * source tools/find-jdk.sh && $JAVA_HOME/bin/java -Xmx8g --add-modules jdk.incubator.vector -cp target/myllm.jar tools/OneAfterBatch.java 8
 * </pre>
 */
public class OneAfterBatch {
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]);
        GPTConfig c = GPTConfig.preset("gpt2-small");
        GPTModel m = new GPTModel(c, 42);
        m.eval();
        Generator gen = new Generator(m, null);
        int[] prompt = new int[64];
        Rng r = new Rng(7);
        for (int i = 0; i < 64; i++) prompt[i] = r.nextInt(50000);
        int n = 128;
        for (int phase = 0; phase < 4; phase++) {
            double[] t = new double[5];
            for (int k = 0; k < 5; k++) {
                Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(n));
                t[k] = res.decodeNanos() / 1e6 / (n - 1);
            }
            Arrays.sort(t);
            System.out.printf("phase %d generate: median %.3f ms/token (min %.3f)%n", phase, t[2], t[0]);
            if (phase == 3) break;
            long t0 = System.nanoTime();
            batch(m, prompt, rows, 128);
            batch(m, prompt, rows, 128);
            System.out.printf("  %d-row decoding, 2x128 steps: %.1f ms/step%n", rows, (System.nanoTime() - t0) / 1e6 / 256);
        }
    }

    static void batch(GPTModel m, int[] prompt, int b, int n) {
        KVCache[] caches = new KVCache[b];
        int[] last = new int[b];
        try (GradMode g = GradMode.noGrad(); Arena epoch = Arena.open()) {
            // all prompts in one pass, as the server's Scheduler prefills a burst (rows of several sequences)
            int[][] chunks = new int[b][];
            for (int s = 0; s < b; s++) {
                caches[s] = new KVCache(m.config(), 1, prompt.length + n + 1);
                chunks[s] = prompt.clone();
                chunks[s][0] = s; // (each sequence its own text)
            }
            try (Arena sc = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                float[] l = m.prefillStep(chunks, caches).data();
                for (int s = 0; s < b; s++) last[s] = ArgMax.of(l, s * m.config().vocabSize(), m.config().vocabSize());
            }
            for (int i = 0; i < n; i++) {
                try (Arena sc = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                    float[] l = m.decodeStep(last.clone(), caches).data();
                    for (int s = 0; s < b; s++) last[s] = ArgMax.of(l, s * m.config().vocabSize(), m.config().vocabSize());
                }
            }
        }
    }
}
