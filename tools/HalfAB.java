import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Cold A/B of one decode step's weight products in F16, BF16 or F32 packed matrices (gpt2-small's
 * or gpt2-medium's shapes: per layer qkv, attention out, MLP up and down, then the tied head),
 * two builds loaded side by side in one JVM (a class loader each), alternating build by build and
 * step by step so a busy machine slows both alike. One input row, one thread, timed in that
 * thread's CPU time (other processes on a busy machine do not inflate it). Prints per format the
 * median step and per-shape milliseconds of each build, the ratio new/old, and whether both gave
 * the same bits.
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java -Xmx3g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED tools/HalfAB.java \
 *     /tmp/old.jar target/myllm.jar small F16,BF16 20
 * # wall time on two threads (-Dthreads=2; only meaningful on a quiet machine)
 * java -Dthreads=2 ... tools/HalfAB.java /tmp/old.jar target/myllm.jar small F32,F16,BF16 20
 * # the kernels' arithmetic alone: one small matrix a shape, read 100 times from cache
 * java ... tools/HalfAB.java /tmp/old.jar target/myllm.jar hot F16,BF16 20
 * # a build against itself with a system property set in the second (name=value)
 * java ... tools/HalfAB.java target/myllm.jar target/myllm.jar small F16 20 myllm.packed.rows=1
 * # several properties: myllm.packed.tileCols=4096 myllm.packed.streams=4
 * </pre>
 */
public class HalfAB {
    record Build(Method encode, Method matmul, Class<?> format) {
    }

    static int threads = Integer.getInteger("threads", 1);

    private static Build load(String jar) throws Exception {
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> p = Class.forName("dev.myllm.tensor.PackedMatrix", true, cl);
        Class<?> f = Class.forName("dev.myllm.tensor.PackedMatrix$Format", true, cl);
        Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, threads);
        for (String k : new String[]{"PackedKernels", "HalfKernels", "HalfLayout"}) { // initialised now, so a property set later is not theirs
            try {
                Class.forName("dev.myllm.tensor." + k, true, cl);
            } catch (ClassNotFoundException e) {
                // (an older build)
            }
        }
        return new Build(p.getMethod("encode", f, float[].class, int.class, int.class),
                p.getMethod("matmulNT", float[].class, int.class, int.class, float[].class, int.class), f);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: HalfAB OLD.jar NEW.jar small|medium|hot F16,BF16,F32,Q8_0 steps [prop=value ... for NEW]");
            System.exit(2);
        }
        boolean medium = args[2].equals("medium");
        String[] formats = args[3].split(",");
        int steps = Integer.parseInt(args[4]);
        Build a = load(args[0]);
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            System.setProperty(kv[0], kv[1]); // read by the second build's classes as they initialise
        }
        Build b = load(args[1]);
        Build[] builds = {a, b};
        int d = medium ? 1024 : 768, layers = medium ? 24 : 12;
        boolean hot = args[2].equals("hot"); // one small matrix a shape, read from cache: the kernels' arithmetic alone
        int[][] shapes = hot ? new int[][]{{256, 768}, {64, 3072}, {192, 1024}, {48, 4096}}
                : new int[][]{{3 * d, d}, {d, d}, {4 * d, d}, {d, 4 * d}, {50257, d}};
        String[] names = new String[shapes.length];
        for (int s = 0; s < shapes.length; s++) names[s] = shapes[s][0] + "x" + shapes[s][1];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        float[] x = fill(4096, 99, 1f);
        float[][] y = {new float[50257], new float[50257]};
        for (String fmt : formats) {
            Object[][][] ms = new Object[2][shapes.length][];
            for (int s = 0; s < shapes.length; s++) {
                int count = s == 4 || hot ? 1 : layers;
                for (int v = 0; v < 2; v++) ms[v][s] = new Object[count];
                for (int c = 0; c < count; c++) {
                    float[] w = fill(shapes[s][0] * shapes[s][1], 1000L * s + c, 0.02f);
                    for (int v = 0; v < 2; v++) {
                        Object f = Enum.valueOf((Class) builds[v].format, fmt);
                        ms[v][s][c] = builds[v].encode.invoke(null, f, w, shapes[s][0], shapes[s][1]);
                    }
                }
            }
            double[][][] per = new double[2][shapes.length][steps];
            boolean same = true;
            for (int st = -3; st < steps; st++) { // three warm-up steps
                for (int i0 = 0; i0 < 2; i0++) {
                    int v = (st & 1) == 0 ? i0 : 1 - i0;
                    for (int s = 0; s < shapes.length; s++) {
                        long t = threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                        for (int rep = hot ? 100 : 1; rep > 0; rep--) {
                            for (Object m : ms[v][s]) builds[v].matmul.invoke(m, x, 0, 1, y[v], 0);
                        }
                        if (st >= 0) per[v][s][st] = ((threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t) / 1e6;
                    }
                }
                if (!Arrays.equals(y[0], y[1])) same = false;
            }
            double[] tot = new double[2], least = new double[2];
            StringBuilder line = new StringBuilder();
            for (int s = 0; s < shapes.length; s++) {
                double o = median(per[0][s]), n = median(per[1][s]);
                tot[0] += o;
                tot[1] += n;
                least[0] += Arrays.stream(per[0][s]).min().orElse(0);
                least[1] += Arrays.stream(per[1][s]).min().orElse(0);
                line.append(String.format("  %s×%d %.2f/%.2f=%.3f", names[s], ms[0][s].length, n, o, n / o));
            }
            System.out.printf("%s %s: step new/old %.2f/%.2f ms = %.3f (sum of per-shape medians, %s; of minima %.3f); same bits: %s%n%s%n",
                    args[2], fmt, tot[1], tot[0], tot[1] / tot[0], threads == 1 ? "CPU ms, 1 thread" : "wall ms, " + threads + " threads", least[1] / least[0], same, line);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static float[] fill(int n, long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return w;
    }
}
