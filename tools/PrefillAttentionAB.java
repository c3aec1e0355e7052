import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A/B of prefill's attention over the KV cache (gpt2-small's heads: 12 of 64), two builds loaded
 * side by side in one JVM (a class loader each), alternating build by build and step by step, as
 * {@code AttentionAB} does for decoding. Two shapes: {@code server}, the server's batched prefill,
 * 8 sequences of 64 new tokens from an empty cache through {@code CachedAttention.attendEach}, 12
 * layers a step; {@code long}, generate's long prompt, 1 sequence of 960 tokens through
 * {@code CachedAttention.attend}, 1 layer a step. With one thread (the default) each step is timed
 * in CPU time of the calling thread; with more, in wall time. Prints each build's median step, the
 * median of the per-step ratios (new / old) with its quartiles, and checks both give the same bits.
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java -Xmx2g --add-modules jdk.incubator.vector tools/PrefillAttentionAB.java /tmp/old.jar target/myllm.jar server 200
 * # arguments: old.jar new.jar [server|long] [steps] [threads]
 * </pre>
 */
public class PrefillAttentionAB {
    private static final int HEADS = 12, D = 64, C = HEADS * D;

    /** One build: its entry point, and the inputs it runs on (the same values for both). */
    private record Build(Method attend, Method noGrad, Method data, Method rest, Object[] qkv, float[][][] k, float[][][] v) {
    }

    private static Build load(String jar, int threads, boolean server, int layers, int seqs, int tokens) throws Exception {
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> tensor = Class.forName("dev.myllm.tensor.Tensor", true, cl);
        Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, threads);
        Method of = tensor.getMethod("of", float[].class, int[].class);
        SplittableRandom r = new SplittableRandom(7);
        Object[] qkv = new Object[layers];
        float[][][] k = new float[layers][seqs][], v = new float[layers][seqs][];
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < seqs; s++) {
                k[l][s] = new float[HEADS * tokens * D];
                v[l][s] = new float[HEADS * tokens * D];
            }
            qkv[l] = of.invoke(null, random(r, seqs * tokens * 3 * C), server ? new int[]{1, seqs * tokens, 3 * C} : new int[]{1, tokens, 3 * C});
        }
        Class<?> ca = Class.forName("dev.myllm.tensor.CachedAttention", true, cl);
        Method attend = server
                ? ca.getMethod("attendEach", tensor, int.class, float[][].class, float[][].class, int[].class, int[].class, int[].class)
                : ca.getMethod("attend", tensor, int.class, float[].class, float[].class, int.class, int.class);
        return new Build(attend, Class.forName("dev.myllm.tensor.GradMode", true, cl).getMethod("noGrad"),
                tensor.getMethod("toArray"), Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("rest"), qkv, k, v);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PrefillAttentionAB old.jar new.jar [server|long] [steps] [threads]");
            System.exit(2);
        }
        boolean server = args.length <= 2 || !args[2].equals("long");
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 100, threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        int layers = server ? 12 : 1, seqs = server ? 8 : 1, tokens = server ? 64 : 960;
        int[] zero = new int[seqs], cap = new int[seqs], len = new int[seqs];
        Arrays.fill(cap, tokens);
        Arrays.fill(len, tokens);
        Build[] b = {load(args[0], threads, server, layers, seqs, tokens), load(args[1], threads, server, layers, seqs, tokens)};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean cpu = threads == 1;
        double[][] t = new double[2][steps];
        Object[][] last = new Object[2][layers];
        for (int st = 0; st < steps; st++) {
            for (int i0 = 0; i0 < 2; i0++) {
                int x = (st & 1) == 0 ? i0 : 1 - i0;
                long t0 = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                try (AutoCloseable g = (AutoCloseable) b[x].noGrad.invoke(null)) {
                    for (int l = 0; l < layers; l++) {
                        // from an empty cache every step: the prompt's keys and values go to the same places
                        last[x][l] = server
                                ? b[x].attend.invoke(null, b[x].qkv[l], HEADS, b[x].k[l], b[x].v[l], cap, zero, len)
                                : b[x].attend.invoke(null, b[x].qkv[l], HEADS, b[x].k[l][0], b[x].v[l][0], tokens, 0);
                    }
                }
                t[x][st] = ((cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0) * 1e-6;
                b[x].rest.invoke(null); // its workers park rather than spin through the other build's step
            }
        }
        for (int l = 0; l < layers; l++) {
            if (!Arrays.equals((float[]) b[0].data.invoke(last[0][l]), (float[]) b[1].data.invoke(last[1][l]))) {
                throw new AssertionError("the two builds give different bits (layer " + l + ")");
            }
        }
        int skip = Math.min(steps / 4, 10); // warm-up
        double[] ratio = new double[steps - skip];
        for (int s = skip; s < steps; s++) ratio[s - skip] = t[1][s] / t[0][s];
        Arrays.sort(ratio);
        for (int x = 0; x < 2; x++) {
            double[] m = Arrays.copyOfRange(t[x], skip, steps);
            Arrays.sort(m);
            System.out.printf("%s: %s, %d layers of %d sequences x %d tokens: %.3f ms median (best %.3f, quartiles %.3f %.3f, %s)%n", args[x],
                    server ? "attendEach" : "attend", layers, seqs, tokens, m[m.length / 2], m[0], m[m.length / 4], m[3 * m.length / 4],
                    cpu ? "thread CPU time" : "wall time, " + threads + " threads");
        }
        System.out.printf("new/old per step: median %.3f (quartiles %.3f %.3f), same bits%n", ratio[ratio.length / 2],
                ratio[ratio.length / 4], ratio[3 * ratio.length / 4]);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) r.nextDouble(-1, 1);
        return f;
    }
}
