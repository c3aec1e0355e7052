import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.Random;

/**
 * Back-to-back A/B of the matrix products of two builds of myllm, for a machine shared with other
 * work: both jars are loaded side by side in one JVM (a class loader each), every shape alternates
 * old and new call by call, and each call is timed in CPU time of the calling thread plus the pool's
 * workers (a thread descheduled by other processes does not count), best of several calls. Also
 * checks that both builds give the same bits.
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java --add-modules jdk.incubator.vector tools/GemmAB.java /tmp/old.jar target/myllm.jar 3
 * </pre>
 *
 * Shapes are KIND M x N x K with KIND T (the forward X·Wᵀ), N (dY·W) or W (dYᵀ·X); the default is
 * gpt2-small's products at 256 rows (batch 4 × 64). Prints old CPU time / new CPU time per shape
 * (above 1: the new build is faster).
 */
public class GemmAB {
    private static final ThreadMXBean TMX = ManagementFactory.getThreadMXBean();
    private static final String SHAPES = "T256x2304x768,T256x768x768,T256x3072x768,T256x768x3072,"
            + "N256x768x2304,N256x768x768,N256x768x3072,N256x3072x768,"
            + "W2304x768x256,W768x768x256,W3072x768x256,W768x3072x256,"
            + "T256x50257x768,N256x768x50257,W50257x768x256";

    /** CPU time of this thread and the pool's workers (after a pause, so idle workers have parked). */
    private static long cpu() throws InterruptedException {
        Thread.sleep(1);
        long s = TMX.getCurrentThreadCpuTime();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("myllm-")) s += TMX.getThreadCpuTime(t.threadId());
        }
        return s;
    }

    private static Method[] products(String jar) throws Exception {
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()},
                ClassLoader.getPlatformClassLoader());
        Class<?> g = Class.forName("dev.myllm.tensor.Gemm", true, cl);
        Class<?>[] sig = {float[].class, int.class, float[].class, int.class, float[].class, int.class,
                int.class, int.class, int.class, boolean.class};
        return new Method[]{g.getMethod("matmulNT", sig), g.getMethod("matmulNN", sig), g.getMethod("matmulTN", sig)};
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: GemmAB OLD.jar NEW.jar [rounds] [T256x3072x768,N...,W...]");
            System.exit(2);
        }
        Method[] older = products(args[0]), newer = products(args[1]);
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String[] shapes = (args.length > 3 ? args[3] : SHAPES).split(",");
        Random r = new Random(1);
        for (int round = 0; round < rounds; round++) {
            StringBuilder line = new StringBuilder();
            for (String sh : shapes) {
                String[] f = sh.split("x");
                int kind = "TNW".indexOf(f[0].charAt(0));
                int m = Integer.parseInt(f[0].substring(1)), n = Integer.parseInt(f[1]), k = Integer.parseInt(f[2]);
                float[] a = new float[m * k], b = new float[n * k], c1 = new float[m * n], c2 = new float[m * n];
                for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() - 0.5f;
                for (int i = 0; i < b.length; i++) b[i] = r.nextFloat() - 0.5f;
                int reps = (int) Math.max(3, Math.min(20, 2e10 / (2.0 * m * n * k)));
                long best1 = Long.MAX_VALUE, best2 = Long.MAX_VALUE;
                for (int i = 0; i < reps; i++) {
                    long t = cpu();
                    older[kind].invoke(null, a, 0, b, 0, c1, 0, m, n, k, false);
                    best1 = Math.min(best1, cpu() - t);
                    t = cpu();
                    newer[kind].invoke(null, a, 0, b, 0, c2, 0, m, n, k, false);
                    best2 = Math.min(best2, cpu() - t);
                }
                if (!Arrays.equals(c1, c2)) throw new AssertionError(sh + ": the two builds give different bits");
                line.append(String.format("%s x%.3f  ", sh, (double) best1 / best2));
            }
            System.out.println(line.toString().trim());
        }
    }
}
