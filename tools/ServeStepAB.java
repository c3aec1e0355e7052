import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.KVCache;
import dev.myllm.tensor.*;
import java.util.Arrays;

/**
 * Generator's decode loop against the scheduler's way of decoding one stream (gpt2-small f32, random
 * weights): {@code GPTModel.decodeStep} of one row in an arena scope nested in an outer one, with
 * {@code Parallel.rest()} after each step (as the scheduler does for batches under 4) and without
 * it, all three alternating in one JVM, each checked to give generate's tokens. Prints each one's
 * median ms per decoded token and the per-round ratios: where the server's one stream loses to
 * {@code bench generate}, if not in the model step.
 *
 * <pre>
 * source tools/find-jdk.sh && $JAVA_HOME/bin/java --add-modules jdk.incubator.vector -cp target/myllm.jar tools/ServeStepAB.java 9
 * </pre>
 */
public class ServeStepAB {
    public static void main(String[] a) throws Exception {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 9;
        GPTConfig c = GPTConfig.preset("gpt2-small");
        GPTModel m = new GPTModel(c, 42);
        m.eval();
        Generator gen = new Generator(m, null);
        int[] prompt = new int[64];
        Rng r = new Rng(7);
        for (int i = 0; i < 64; i++) prompt[i] = r.nextInt(50000);
        int n = 128;
        int[] ref = gen.generate(prompt, GenerationConfig.greedy(n)).tokens();
        String[] names = {"generate", "decodeStep+rest", "decodeStep"};
        double[][] ms = new double[3][rounds];
        for (int w = -3; w < rounds; w++) {
            for (int k = 0; k < 3; k++) {
                int mode = (k + Math.max(0, w)) % 3;
                double t;
                if (mode == 0) {
                    Generator.Result res = gen.generate(prompt, GenerationConfig.greedy(n));
                    if (!Arrays.equals(res.tokens(), ref)) throw new IllegalStateException("generate differs");
                    t = res.decodeNanos() / 1e6 / (n - 1);
                } else {
                    t = serve(m, prompt, n, mode == 1, ref);
                }
                if (w >= 0) ms[mode][w] = t;
            }
        }
        for (int k = 0; k < 3; k++) {
            double[] s = ms[k].clone();
            Arrays.sort(s);
            System.out.printf("%-18s median %.3f ms/token (min %.3f, max %.3f)%n", names[k], s[rounds / 2], s[0], s[rounds - 1]);
        }
        double[] ratio = new double[rounds], ratio2 = new double[rounds];
        for (int i = 0; i < rounds; i++) { ratio[i] = ms[1][i] / ms[0][i]; ratio2[i] = ms[2][i] / ms[0][i]; }
        Arrays.sort(ratio); Arrays.sort(ratio2);
        System.out.printf("decodeStep+rest / generate per round: median %.3f (%.3f-%.3f); decodeStep / generate %.3f (%.3f-%.3f)%n",
                ratio[rounds / 2], ratio[0], ratio[rounds - 1], ratio2[rounds / 2], ratio2[0], ratio2[rounds - 1]);
    }

    static double serve(GPTModel m, int[] prompt, int n, boolean rest, int[] ref) {
        int vocab = m.config().vocabSize();
        KVCache cache = new KVCache(m.config(), 1, prompt.length + n);
        int[] out = new int[n];
        long t0 = 0;
        try (GradMode g = GradMode.noGrad(); Arena epoch = Arena.open()) {
            try (Arena s = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.PACKED)) {
                float[] l = m.prefillStep(new int[][]{prompt}, new KVCache[]{cache}).data();
                out[0] = ArgMax.of(l, 0, vocab);
            }
            t0 = System.nanoTime();
            for (int i = 1; i < n; i++) {
                try (Arena s = Arena.open(); ProductMode.Scope pm = ProductMode.use(ProductMode.ROWS)) {
                    float[] l = m.decodeStep(new int[]{out[i - 1]}, new KVCache[]{cache}).data();
                    out[i] = ArgMax.of(l, 0, vocab);
                    if (rest) Parallel.rest();
                }
            }
        }
        double t = (System.nanoTime() - t0) / 1e6 / (n - 1);
        if (!Arrays.equals(out, ref)) throw new IllegalStateException("decodeStep differs");
        return t;
    }
}
