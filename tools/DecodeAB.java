import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cold A/B of the batched decode step's weight products: gpt2-small's 49 float32 weight matrices
 * (495 MB, distinct arrays, so every step reads them from memory as a real step does) multiplied
 * by M rows through {@code GemmSmall.nt} (the path of {@code ProductMode.ROWS}), two builds loaded
 * side by side in one JVM (a class loader each), alternating build by build and step by step so a
 * busy machine slows both alike. Prints the median step and per-shape milliseconds of each, and
 * checks that both give the same bits. With a fifth argument of 1 the products run on one thread
 * and are timed in that thread's CPU time, which other processes on a busy machine do not inflate
 * (then the per-step ratio new/old is printed too).
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java -Xmx2g --add-modules jdk.incubator.vector tools/DecodeAB.java /tmp/old.jar target/myllm.jar 8 40
 * # one build, weight warming off (:0) against 256 KB chunks (:256)
 * java -Xmx2g --add-modules jdk.incubator.vector tools/DecodeAB.java target/myllm.jar:0 target/myllm.jar:256 8 40
 * # one build, a static field of a dev.myllm.tensor class set in one of them
 * java -Xmx2g --add-modules jdk.incubator.vector tools/DecodeAB.java target/myllm.jar:GemmSmall.FIELD=false target/myllm.jar 8 40
 * # one thread, thread CPU time
 * java -Xmx2g --add-modules jdk.incubator.vector tools/DecodeAB.java /tmp/old.jar target/myllm.jar 8 30 1
 * </pre>
 */
public class DecodeAB {
    private static Method nt(String spec, int threads) throws Exception {
        int colon = spec.lastIndexOf(':');
        String jar = colon > 0 ? spec.substring(0, colon) : spec;
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()},
                ClassLoader.getPlatformClassLoader());
        Class<?> g = Class.forName("dev.myllm.tensor.GemmSmall", true, cl);
        Method m = g.getDeclaredMethod("nt", float[].class, int.class, float[].class, int.class, float[].class,
                int.class, int.class, int.class, int.class, boolean.class);
        m.setAccessible(true);
        if (threads > 0) Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, threads);
        if (colon > 0 && spec.indexOf('=', colon) > 0) {
            // jar:Class.FIELD=value: a static field of a dev.myllm.tensor class set in this build (a variant of one jar)
            String[] kv = spec.substring(colon + 1).split("=", 2);
            int dot = kv[0].lastIndexOf('.');
            Field f = Class.forName("dev.myllm.tensor." + kv[0].substring(0, dot), true, cl).getDeclaredField(kv[0].substring(dot + 1));
            f.setAccessible(true);
            if (f.getType() == boolean.class) f.setBoolean(null, Boolean.parseBoolean(kv[1]));
            else f.setInt(null, Integer.parseInt(kv[1]));
        } else if (colon > 0) {
            Class<?> cw = Class.forName("dev.myllm.tensor.CacheWarm", true, cl);
            Field f = cw.getDeclaredField("chunkBytes");
            f.setAccessible(true);
            f.setInt(null, Integer.parseInt(spec.substring(colon + 1)) * 1024);
        }
        return m;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: DecodeAB A.jar[:warmKB|:Class.field=value] B.jar[...] [rows] [steps] [threads: 1 = CPU time]");
            System.exit(2);
        }
        int threads = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        Method[] ms = {nt(args[0], threads), nt(args[1], threads)};
        int rows = args.length > 2 ? Integer.parseInt(args[2]) : 8, steps = args.length > 3 ? Integer.parseInt(args[3]) : 40;
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpu = threads == 1;
        int[][] shapes = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        String[] names = {"2304x768", "768x768", "3072x768", "768x3072", "50257x768"};
        List<float[]> ws = new ArrayList<>();
        List<int[]> sh = new ArrayList<>();
        long seed = 1;
        for (int l = 0; l < 12; l++) {
            for (int[] s : shapes) {
                ws.add(fill(s[0] * s[1], seed++));
                sh.add(s);
            }
        }
        ws.add(fill(50257 * 768, seed));
        sh.add(new int[]{50257, 768});
        float[] x = fill(rows * 3072, 99);
        float[][] c = {new float[rows * 50257], new float[rows * 50257]};
        double[][][] per = new double[2][5][steps];
        double[][] step = new double[2][steps];
        for (int st = 0; st < steps; st++) {
            for (int i0 = 0; i0 < 2; i0++) {
                int v = (st & 1) == 0 ? i0 : 1 - i0;
                long t0 = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                for (int i = 0; i < ws.size(); i++) {
                    int[] s = sh.get(i);
                    long t = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                    ms[v].invoke(null, x, 0, ws.get(i), 0, c[v], 0, rows, s[0], s[1], false);
                    per[v][i == ws.size() - 1 ? 4 : i % 4][st] += ((cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t) * 1e-6;
                }
                step[v][st] = ((cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0) * 1e-6;
            }
            if (!Arrays.equals(c[0], c[1])) throw new AssertionError("the two builds give different bits");
        }
        for (int v = 0; v < 2; v++) {
            StringBuilder b = new StringBuilder(String.format("%s M=%d: step %.2f ms median (best %.2f) |",
                    args[v], rows, median(step[v]), best(step[v])));
            for (int k = 0; k < 5; k++) b.append(String.format(" %s %.2f", names[k], median(per[v][k])));
            System.out.println(b);
        }
        {
            double[] ratio = new double[steps - 2];
            for (int st = 2; st < steps; st++) ratio[st - 2] = step[1][st] / step[0][st];
            Arrays.sort(ratio);
            System.out.printf((cpu ? "one thread, CPU time" : "wall time") + "; B/A per step: median %.3f (quartiles %.3f %.3f)%n",
                    ratio[ratio.length / 2], ratio[ratio.length / 4], ratio[3 * ratio.length / 4]);
        }
    }

    /** Median after the first two (warm-up) steps. */
    private static double median(double[] d) {
        double[] s = Arrays.copyOfRange(d, 2, d.length);
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double best(double[] d) {
        return Arrays.stream(d, 2, d.length).min().orElse(0);
    }

    private static float[] fill(int n, long seed) {
        float[] f = new float[n];
        int h = (int) (seed * 0x9E3779B9L);
        for (int i = 0; i < n; i++) {
            h = h * 1664525 + 1013904223;
            f[i] = ((h >>> 9) - (1 << 22)) * 0x1p-25f;
        }
        return f;
    }
}
