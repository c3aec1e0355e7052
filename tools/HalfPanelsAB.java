import dev.myllm.tensor.PackedMatrix;
import dev.myllm.tensor.Parallel;
import dev.myllm.tensor.ProductMode;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cold A/B of a decode step's weight products on gpt2-small's 49 matrices in F16 or BF16 (12
 * layers × 2304×768, 768×768, 3072×768, 768×3072, and the 50257×768 head; distinct matrices, 248
 * MB a layout, so each step reads them from memory as a real step does): the halves in {@code
 * HalfLayout.Layout.TILES} through {@code HalfKernels} (the default before panels) against the same
 * weights in {@code HalfLayout.Layout.PANELS} through {@code HalfPanelKernels}, M = 1 and M = 8
 * input rows (or those given), {@code ProductMode.ROWS}, in one JVM, the variants in a rotating
 * order step by step so a busy machine slows all alike. Prints each variant's median step (and
 * per-shape medians) and the per-step ratio panels/tiles with its quartiles, and checks both agree
 * to float precision.
 *
 * <pre>
 * mvn -B -q -o package -DskipTests
 * $JAVA_HOME/bin/java -Xmx3g -XX:+UseParallelGC -XX:ObjectAlignmentInBytes=64 --add-modules jdk.incubator.vector \
 *     -cp target/classes tools/HalfPanelsAB.java [F16|BF16] [steps=40] [threads=2] [rows=1,8]
 * # each variant's step after an untimed one (weights partly in a large last-level cache, as in bench generate)
 * $JAVA_HOME/bin/java -Dwarm=true ... tools/HalfPanelsAB.java F16
 * </pre>
 */
public class HalfPanelsAB {
    private static final boolean WARM = Boolean.getBoolean("warm");

    public static void main(String[] args) throws Exception {
        PackedMatrix.Format f = PackedMatrix.Format.valueOf(args.length > 0 ? args[0] : "F16");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 40, threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int[] ms = Arrays.stream((args.length > 3 ? args[3] : "1,8").split(",")).mapToInt(Integer::parseInt).toArray();
        if ((f != PackedMatrix.Format.F16 && f != PackedMatrix.Format.BF16) || steps < 4 || threads < 1 || Arrays.stream(ms).anyMatch(m -> m < 1 || m > 8)) {
            System.err.println("usage: HalfPanelsAB [F16|BF16] [steps >= 4] [threads >= 1] [rows, 1 to 8, comma-separated: 1,8]");
            System.exit(2);
        }
        Parallel.setThreads(threads);
        Class<?> layoutType = Class.forName("dev.myllm.tensor.HalfLayout$Layout");
        Method encode = PackedMatrix.class.getDeclaredMethod("encode", PackedMatrix.Format.class, float[].class, int.class, int.class, layoutType);
        encode.setAccessible(true);
        Object tilesLayout = constant(layoutType, "TILES"), panelsLayout = constant(layoutType, "PANELS");
        int[][] shapes = {{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        String[] names = {"2304x768", "768x768", "3072x768", "768x3072", "50257x768"};
        List<PackedMatrix> tiles = new ArrayList<>();
        List<PackedMatrix> panels = new ArrayList<>();
        List<int[]> sh = new ArrayList<>();
        long seed = 1;
        double encodeMs = 0; // (what a load would add: the panels from row-major float32)
        for (int l = 0; l <= 12; l++) {
            for (int[] s : l < 12 ? shapes : new int[][]{{50257, 768}}) {
                float[] w = fill(s[0] * s[1], seed++);
                tiles.add((PackedMatrix) encode.invoke(null, f, w, s[0], s[1], tilesLayout));
                long t0 = System.nanoTime();
                panels.add((PackedMatrix) encode.invoke(null, f, w, s[0], s[1], panelsLayout));
                encodeMs += (System.nanoTime() - t0) * 1e-6;
                sh.add(s);
            }
        }
        float[] x = fill(8 * 3072, 99);
        float[] c0 = new float[8 * 50257], c1 = new float[8 * 50257];
        // variant 2i: tiles with ms[i] rows, 2i + 1: panels
        int nv = 2 * ms.length;
        String[] variant = new String[nv];
        for (int v = 0; v < nv; v++) variant[v] = (f + ((v & 1) == 0 ? " tiles " : " panels")) + " M=" + ms[v / 2];
        double[][] step = new double[nv][steps];
        double[][][] per = new double[nv][5][steps];
        double maxRel = 0;
        try (ProductMode.Scope scope = ProductMode.use(ProductMode.ROWS)) {
            for (int st = 0; st < steps; st++) {
                for (int j = 0; j < nv; j++) {
                    int v = (j + st) % nv, m = ms[v / 2];
                    boolean pan = (v & 1) == 1;
                    // -Dwarm=true: an untimed step of the variant first, as decoding reads the same
                    // weights token after token (a large last-level cache then holds part of them)
                    for (int i = 0; WARM && i < sh.size(); i++) (pan ? panels : tiles).get(i).matmulNT(x, 0, m, pan ? c1 : c0, 0);
                    long t0 = System.nanoTime();
                    for (int i = 0; i < sh.size(); i++) {
                        long t = System.nanoTime();
                        if (pan) panels.get(i).matmulNT(x, 0, m, c1, 0);
                        else tiles.get(i).matmulNT(x, 0, m, c0, 0);
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
        System.out.printf((WARM ? "warm, " : "cold, ") + "%d steps, %d threads, after 2 warm-up steps; head logits max difference / max logit %.2e; panels encoded in %.0f ms%n",
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
            System.out.printf("M=%d panels/tiles per step: median %.3f (quartiles %.3f %.3f)%n", ms[m],
                    median(r, 2), median(r, 1), median(r, 3));
        }
    }

    private static Object constant(Class<?> type, String name) {
        return Arrays.stream(type.getEnumConstants()).filter(c -> c.toString().equals(name)).findFirst().orElseThrow();
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
