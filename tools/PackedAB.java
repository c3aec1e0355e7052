import java.lang.invoke.*;
import java.lang.reflect.*;
import java.net.*;
import java.util.*;
/**
 * One-thread CPU-time A/B of packed decode products: gpt2-small's 49 one-row products (12 layers of
 * 2304x768, 768x768, 3072x768, 768x3072, and the 50257x768 head; distinct matrices, so each step
 * reads them from memory) in one packed format, two builds loaded side by side in one JVM (a class
 * loader each), alternating step by step, timed in the thread's CPU time (which other processes on
 * a busy machine do not inflate). Prints each build's median step and ps per weight, the median
 * per-step ratio new/old, and a line if the two builds' outputs differ in any bit. With a fifth
 * argument of 1, one 768x768 matrix is multiplied 200 times instead (from cache).
 *
 * <pre>
 * cp target/myllm.jar /tmp/old.jar   # before the change; rebuild after it
 * java -Xmx2g --add-modules jdk.incubator.vector tools/PackedAB.java /tmp/old.jar target/myllm.jar Q8_0 30
 * java -Xmx2g --add-modules jdk.incubator.vector tools/PackedAB.java /tmp/old.jar target/myllm.jar Q8_0 30 1
 * </pre>
 */
public class PackedAB {
    static Object[] load(String jar, String fmt, int[][] shapes, boolean hot) throws Exception {
        URLClassLoader cl = new URLClassLoader(new URL[]{new java.io.File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> pm = Class.forName("dev.myllm.tensor.PackedMatrix", true, cl);
        Class<?> fe = Class.forName("dev.myllm.tensor.PackedMatrix$Format", true, cl);
        Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, 1);
        Method enc = pm.getMethod("encode", fe, float[].class, int.class, int.class);
        Method mm = pm.getMethod("matmulNT", float[].class, int.class, int.class, float[].class, int.class);
        @SuppressWarnings({"unchecked", "rawtypes"}) Object f = Enum.valueOf((Class) fe, fmt);
        Object[] ms = new Object[shapes.length];
        long seed = 1;
        Object hotM = null;
        for (int i = 0; i < shapes.length; i++) {
            int[] s = shapes[i];
            if (hot) { if (hotM == null) hotM = enc.invoke(null, f, fill(768 * 768, 7), 768, 768); ms[i] = hotM; }
            else ms[i] = enc.invoke(null, f, fill(s[0] * s[1], seed++), s[0], s[1]);
        }
        return new Object[]{mm, ms};
    }
    static float[] fill(int n, long seed) { Random r = new Random(seed); float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 0.02f; return a; }
    public static void main(String[] a) throws Exception {
        String fmt = a[2]; int steps = Integer.parseInt(a[3]); boolean hot = a.length > 4 && a[4].equals("1");
        List<int[]> sh = new ArrayList<>();
        for (int l = 0; l < 12; l++) { sh.add(new int[]{2304, 768}); sh.add(new int[]{768, 768}); sh.add(new int[]{3072, 768}); sh.add(new int[]{768, 3072}); }
        sh.add(new int[]{50257, 768});
        if (hot) { sh.clear(); for (int i = 0; i < 200; i++) sh.add(new int[]{768, 768}); }
        int[][] shapes = sh.toArray(new int[0][]);
        Object[][] b = {load(a[0], fmt, shapes, hot), load(a[1], fmt, shapes, hot)};
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        float[] x = fill(3072, 99);
        float[][] y = {new float[50257], new float[50257]};
        double weights = 0; for (int[] s : shapes) weights += (double) s[0] * s[1];
        double[][] t = new double[2][steps];
        for (int st = -3; st < steps; st++) for (int i0 = 0; i0 < 2; i0++) {
            int v = (st & 1) == 0 ? i0 : 1 - i0;
            Method mm = (Method) b[v][0]; Object[] ms = (Object[]) b[v][1];
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < ms.length; i++) mm.invoke(ms[i], x, 0, 1, y[v], 0);
            long dt = mx.getCurrentThreadCpuTime() - t0;
            if (st >= 0) t[v][st] = dt / 1e6;
        }
        for (int i = 0; i < y[0].length; i++) if (Float.floatToIntBits(y[0][i]) != Float.floatToIntBits(y[1][i])) { System.out.println("DIFFERENT bits at " + i); break; }
        double[] med = new double[2];
        for (int v = 0; v < 2; v++) { double[] s = t[v].clone(); Arrays.sort(s); med[v] = s[s.length / 2];
            System.out.printf("%s: median %.3f ms/step, min %.3f (%.1f ps/weight at median)%n", a[v], s[s.length / 2], s[0], s[s.length / 2] * 1e9 / weights); }
        double[] r = new double[steps]; for (int i = 0; i < steps; i++) r[i] = t[1][i] / t[0][i]; Arrays.sort(r);
        System.out.printf("new/old per step: median %.3f (q1 %.3f, q3 %.3f)%n", r[steps / 2], r[steps / 4], r[3 * steps / 4]);
    }
}
