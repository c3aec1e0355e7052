import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A/B of the batched decode step's attention over the KV caches: 8 sequences with their own caches
 * (gpt2-small's 12 layers of 12 heads of 64, distinct arrays, so the caches come from memory as in
 * a real step) and one new token each, through {@code CachedAttention.attendEach}, two builds loaded
 * side by side in one JVM (a class loader each), alternating build by build and step by step. With
 * one thread (the default) each step is timed in CPU time of the calling thread, which a busy
 * machine's other processes do not inflate; with more, in wall time. Prints each build's median
 * step, the median of the per-step ratios (new / old) with its quartiles, and checks both give the
 * same bits.
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java -Xmx2g --add-modules jdk.incubator.vector tools/AttentionAB.java /tmp/old.jar target/myllm.jar 300 128
 * # arguments: old.jar new.jar [steps] [cached positions of the first sequence (+3 per sequence)] [threads]
 * # a variant of one build: static fields set after the jar, e.g. target/myllm.jar:CachedAttention.TOUCH_V=true
 * </pre>
 */
public class AttentionAB {
    private static final int SEQS = 8, LAYERS = 12, HEADS = 12, D = 64, C = HEADS * D;

    /** One build: its attendEach, and the caches and inputs it runs on (the same values for both). */
    private record Build(Method attend, Method noGrad, Method data, Method rest, Object[] qkv, float[][][] k, float[][][] v) {
    }

    private static Build load(String spec, int threads, int capacity) throws Exception {
        // jar[:Class.field=value...]: static fields of dev.myllm.tensor classes to set in this build (variants of one jar)
        String[] parts = spec.split(":");
        String jar = parts[0];
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()},
                ClassLoader.getPlatformClassLoader());
        Class<?> tensor = Class.forName("dev.myllm.tensor.Tensor", true, cl);
        Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, threads);
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            int dot = kv[0].lastIndexOf('.');
            java.lang.reflect.Field f = Class.forName("dev.myllm.tensor." + kv[0].substring(0, dot), true, cl).getDeclaredField(kv[0].substring(dot + 1));
            f.setAccessible(true);
            if (f.getType() == boolean.class) f.setBoolean(null, Boolean.parseBoolean(kv[1]));
            else f.setInt(null, Integer.parseInt(kv[1]));
        }
        Method of = tensor.getMethod("of", float[].class, int[].class);
        SplittableRandom r = new SplittableRandom(7);
        Object[] qkv = new Object[LAYERS];
        float[][][] k = new float[LAYERS][SEQS][], v = new float[LAYERS][SEQS][];
        for (int l = 0; l < LAYERS; l++) {
            for (int s = 0; s < SEQS; s++) {
                k[l][s] = random(r, HEADS * capacity * D);
                v[l][s] = random(r, HEADS * capacity * D);
            }
            qkv[l] = of.invoke(null, random(r, SEQS * 3 * C), new int[]{SEQS, 1, 3 * C});
        }
        Method attend = Class.forName("dev.myllm.tensor.CachedAttention", true, cl).getMethod("attendEach", tensor,
                int.class, float[][].class, float[][].class, int[].class, int[].class);
        return new Build(attend, Class.forName("dev.myllm.tensor.GradMode", true, cl).getMethod("noGrad"),
                tensor.getMethod("toArray"), Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("rest"), qkv, k, v);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: AttentionAB old.jar new.jar [steps] [cached] [threads]");
            System.exit(2);
        }
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 300, cached = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        int capacity = cached + 3 * SEQS + 1;
        int[] past = new int[SEQS], cap = new int[SEQS];
        for (int s = 0; s < SEQS; s++) {
            past[s] = cached + 3 * s;
            cap[s] = capacity;
        }
        Build[] b = {load(args[0], threads, capacity), load(args[1], threads, capacity)};
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        boolean cpu = threads == 1;
        double[][] t = new double[2][steps];
        Object[][] last = new Object[2][LAYERS];
        for (int st = 0; st < steps; st++) {
            for (int i0 = 0; i0 < 2; i0++) {
                int x = (st & 1) == 0 ? i0 : 1 - i0;
                long t0 = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                try (AutoCloseable g = (AutoCloseable) b[x].noGrad.invoke(null)) {
                    for (int l = 0; l < LAYERS; l++) {
                        // the same positions every step: each writes its token's key and value at the same place
                        last[x][l] = b[x].attend.invoke(null, b[x].qkv[l], HEADS, b[x].k[l], b[x].v[l], cap, past);
                    }
                }
                t[x][st] = ((cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0) * 1e-6;
                // its workers park now rather than spin through the other build's step, taking a core
                // from it (each build has its own pool); a server does the same between decode steps
                b[x].rest.invoke(null);
            }
        }
        for (int l = 0; l < LAYERS; l++) {
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
            System.out.printf("%s: %d layers, %d sequences at %d+ cached: %.3f ms median (best %.3f, %s)%n", args[x], LAYERS, SEQS,
                    cached, m[m.length / 2], m[0], cpu ? "thread CPU time" : "wall time, " + threads + " threads");
        }
        System.out.printf("new/old per step: median %.3f (quartiles %.3f %.3f)%n", ratio[ratio.length / 2],
                ratio[ratio.length / 4], ratio[3 * ratio.length / 4]);
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) r.nextDouble(-1, 1);
        return f;
    }
}
