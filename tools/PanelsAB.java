import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ProductMode;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cold A/B of a decode step's weight products on gpt2-small's 49 matrices (12 layers × 2304×768,
 * 768×768, 3072×768, 768×3072, and the 50257×768 head; distinct arrays, 495 MB a layout, so each
 * step reads them from memory as a real step does): row-major float32 through {@code
 * GemmSmall.nt} (the path of {@code ProductMode.ROWS} on a float32 model) against the same
 * weights as {@code PackedMatrix.Format.F32_PANELS} (one chain of fused multiply-adds per output),
 * M = 1 and M = 8 input rows (or those given), in one JVM, the variants in a rotating order step by step so a
 * busy machine slows all alike. Prints each variant's median step (and per-shape medians) and the
 * per-step ratio panels/row-major with its quartiles, and checks both agree to float precision.
 *
 * <pre>
 * mvn -B -q -o package -DskipTests
 * $JAVA_HOME/bin/java -Xmx3g -XX:+UseParallelGC -XX:ObjectAlignmentInBytes=64 --add-modules jdk.incubator.vector \
 *     -cp target/classes tools/PanelsAB.java [steps=40] [threads=2] [rows=1,8]
 * </pre>
 */
public class PanelsAB {
    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 40, threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int[] ms = Arrays.stream((args.length > 2 ? args[2] : "1,8").split(",")).mapToInt(Integer::parseInt).toArray();
        if (steps < 4 || threads < 1 || Arrays.stream(ms).anyMatch(m -> m < 1 || m > 8)) {
            System.err.println("usage: PanelsAB [steps >= 4] [threads >= 1] [rows, 1 to 8, comma-separated: 1,8]");
            System.exit(2);
        }
        Parallel.setThreads(threads);
        Method nt = Class.forName("dev.myllm.tensor.GemmSmall").getDeclaredMethod("nt", float[].class, int.class, float[].class,
                int.class, float[].class, int.class, int.class, int.class, int.class, boolean.class);
        nt.setAccessible(true);
        int[][] shapes = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        String[] names = {"2304x768", "768x768", "3072x768", "768x3072", "50257x768"};
        List<float[]> rowMajor = new ArrayList<>();
        List<PackedMatrix> panels = new ArrayList<>();
        List<int[]> sh = new ArrayList<>();
        long seed = 1;
        double encodeMs = 0; // (what a load would add: the panels from row-major float32)
        for (int l = 0; l <= 12; l++) {
            for (int[] s : l < 12 ? shapes : new int[][]{{50257, 768}}) {
                float[] w = fill(s[0] * s[1], seed++);
                rowMajor.add(w);
                long t0 = System.nanoTime();
                panels.add(PackedMatrix.encode(PackedMatrix.Format.F32_PANELS, w, s[0], s[1]));
                encodeMs += (System.nanoTime() - t0) * 1e-6;
                sh.add(s);
            }
        }
        float[] x = fill(8 * 3072, 99);
        float[] c0 = new float[8 * 50257], c1 = new float[8 * 50257];
        // variant 2i: row-major with ms[i] rows, 2i + 1: panels
        int nv = 2 * ms.length;
        String[] variant = new String[nv];
        for (int v = 0; v < nv; v++) variant[v] = ((v & 1) == 0 ? "row-major" : "panels   ") + " M=" + ms[v / 2];
        double[][] step = new double[nv][steps];
        double[][][] per = new double[nv][5][steps];
        double maxRel = 0;
        try (ProductMode.Scope scope = ProductMode.use(ProductMode.ROWS)) {
            for (int st = 0; st < steps; st++) {
                for (int j = 0; j < nv; j++) {
                    int v = (j + st) % nv, m = ms[v / 2];
                    boolean pan = (v & 1) == 1;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < sh.size(); i++) {
                        int[] s = sh.get(i);
                        long t = System.nanoTime();
                        if (pan) panels.get(i).matmulNT(x, 0, m, c1, 0);
                        else nt.invoke(null, x, 0, rowMajor.get(i), 0, c0, 0, m, s[0], s[1], false);
                        per[v][i == sh.size() - 1 ? 4 : i % 4][st] += (System.nanoTime() - t) * 1e-6;
                    }
                    step[v][st] = (System.nanoTime() - t0) * 1e-6;
                }
                // the head's logits of both layouts (the last product of each) agree to float precision
                double diff = 0, big = 0;
                for (int i = 0; i < 8 * 50257; i++) {
                    diff = Math.max(diff, Math.abs(c0[i] - c1[i]));
                    big = Math.max(big, Math.abs(c0[i]));
                }
                maxRel = Math.max(maxRel, diff / big);
            }
        }
        System.out.printf("%d steps, %d threads, after 2 warm-up steps; head logits max difference / max logit %.2e; panels encoded in %.0f ms%n",
                steps, threads, maxRel, encodeMs);
        for (int v = 0; v < nv; v++) {
            StringBuilder b = new StringBuilder(String.format("%s: step %.2f ms median (quartiles %.2f %.2f) |", variant[v],
                    median(step[v], 2), median(step[v], 1), median(step[v], 3)));
            for (int k = 0; k < 5; k++) b.append(String.format(" %s %.2f", names[k], median(per[v][k], 2)));
            System.out.println(b);
        }
        for (int m = 0; m < ms.length; m++) {
            double[] r = new double[steps];
            for (int st = 0; st < steps; st++) r[st] = step[2 * m + 1][st] / step[2 * m][st];
            System.out.printf("M=%d panels/row-major per step: median %.3f (quartiles %.3f %.3f)%n", ms[m],
                    median(r, 2), median(r, 1), median(r, 3));
        }
    }

    /** Quartile q (1, 2 = median, 3) of the steps after the first two (warm-up). */
    private static double median(double[] d, int q) {
        double[] s = Arrays.copyOfRange(d, 2, d.length);
        Arrays.sort(s);
        return s[Math.min(s.length - 1, s.length * q / 4)];
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
