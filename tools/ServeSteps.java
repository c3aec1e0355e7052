import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.model.PackedWeights;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.ArgMax;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ProductMode;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.StepProfile;
import dev.myllm.tensor.Tensor;

/**
 * The server's two kinds of step on gpt2-small (f32, random weights, in panels as the server keeps
 * them) without the server around them: one batched prefill of 8 prompts of 64 tokens ({@code GPTModel.prefillStep}, packed
 * kernels), then 127 batched decode steps of the 8 sequences ({@code GPTModel.decodeStep}, the
 * streaming kernels, greedy picks), as a {@code bench serve --concurrency 8 --prompt-tokens 64
 * --max-tokens 128} wave does. Prints each round's prefill and mean decode step, the pool's
 * waiting per decode step ({@code Parallel.stats}: the dispatching thread waiting for ranges other
 * threads still run), the spread of the decode steps, and for the last round the time per
 * operation ({@code StepProfile}). Run it with the launcher's collector flags: the collector
 * changes the timings.
 *
 * <pre>
 * source tools/find-jdk.sh && $JAVA_HOME/bin/java -XX:+UseParallelGC -XX:MaxNewSize=64m -XX:+UseTransparentHugePages \
 *     -XX:ObjectAlignmentInBytes=64 --add-modules jdk.incubator.vector -cp target/myllm.jar tools/ServeSteps.java 5 [sequences=8]
 * </pre>
 */
public class ServeSteps {
    private static final int PROMPT = 64, STEPS = 127;
    private static int SEQS = 8;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        SEQS = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        GPTConfig config = GPTConfig.preset("gpt2-small");
        GPTModel model = new GPTModel(config, 42);
        model.eval();
        PackedWeights.packAndDrop(model, PackedMatrix.Format.F32_PANELS, dropped -> { }); // as serve and bench serve load a preset
        int vocab = config.vocabSize();
        Rng r = new Rng(7);
        int[][] prompts = new int[SEQS][PROMPT];
        for (int[] p : prompts) for (int i = 0; i < PROMPT; i++) p[i] = r.nextInt(vocab);
        KVCache[] caches = new KVCache[SEQS];
        for (int i = 0; i < SEQS; i++) caches[i] = new KVCache(config, 1, PROMPT + STEPS + 1);
        int[] ids = new int[SEQS];
        for (int round = 0; round < rounds; round++) {
            boolean last = round == rounds - 1;
            for (KVCache c : caches) c.reset();
            if (last) StepProfile.start();
            long t0 = System.nanoTime();
            try (GradMode g = GradMode.noGrad(); Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                pick(model.prefillStep(prompts, caches), ids, vocab);
            }
            long t1 = System.nanoTime();
            Parallel.Stats p0 = Parallel.stats();
            long[] stepNanos = new long[STEPS];
            for (int s = 0; s < STEPS; s++) {
                long q0 = System.nanoTime();
                try (GradMode g = GradMode.noGrad(); Arena a = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                    pick(model.decodeStep(ids, caches), ids, vocab);
                }
                stepNanos[s] = System.nanoTime() - q0;
            }
            long t2 = System.nanoTime();
            StepProfile.stop();
            Parallel.Stats ps = Parallel.stats().since(p0);
            System.out.printf("round %d: prefill %.1f ms, decode step %.2f ms (pool waiting %.3f ms a step)%n",
                    round, (t1 - t0) / 1e6, (t2 - t1) / 1e6 / STEPS, ps.waitNanos() / 1e6 / STEPS);
            printSpread(stepNanos);
        }
        System.out.println("last round, per operation (prefill and decode together):");
        for (StepProfile.Entry e : StepProfile.entries()) {
            System.out.printf("  %-40s %6d calls %9.2f ms %7.1f GFLOP/s%n", e.label(), e.calls(), e.nanos() / 1e6, e.gflops());
        }
    }

    /**
     * The decode steps' spread: the fastest, the 10th, 50th and 90th percentile and the slowest, and
     * where the slow ones (over 1.3x the median) fell: on a shared machine they come in bursts of a
     * few consecutive steps, which is how the mean step ends above the median.
     */
    private static void printSpread(long[] nanos) {
        long[] s = nanos.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        StringBuilder slow = new StringBuilder();
        for (int i = 0; i < n; i++) if (nanos[i] > 1.3 * s[n / 2]) slow.append(' ').append(i);
        System.out.printf("  steps: fastest %.1f ms, p10 %.1f, median %.1f, p90 %.1f, slowest %.1f; over 1.3x the median:%s%n",
                s[0] / 1e6, s[n / 10] / 1e6, s[n / 2] / 1e6, s[n * 9 / 10] / 1e6, s[n - 1] / 1e6, slow.length() == 0 ? " none" : slow);
    }

    /** Each row's greedy pick, as the scheduler's sequences make it. */
    private static void pick(Tensor logits, int[] ids, int vocab) {
        float[] d = logits.data();
        for (int i = 0; i < ids.length; i++) ids[i] = ArgMax.of(d, i * vocab, vocab);
    }
}
