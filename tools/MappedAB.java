import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One decode step's weight products (gpt2-small's or gpt2-medium's shapes: per layer qkv,
 * attention out, MLP up and down, then the tied head) in F16 or BF16, for several variants of where
 * the matrices live, in one JVM, alternating variant by variant and step by step: {@code tiles}
 * (our own memory, HalfLayout's tiles), {@code padded} and {@code rows} (our own memory, row-major,
 * padded or not), {@code mapped} (a file written row-major, memory-mapped and wrapped as a loader
 * does; {@code mapped+N}: each matrix N bytes past a 64-byte boundary; {@code variant/BF16}: that
 * variant in another format than the command's). A variant may name its build,
 * {@code JAR:variant} (a class loader each), to compare builds. Prints each variant's median step
 * and per-shape milliseconds and whether all variants gave the same bits. Run only the variants of
 * interest to see one alone in a JVM (the JIT's profile then sees only its memory).
 *
 * <pre>
 * java -Xmx3g --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED tools/MappedAB.java \
 *     medium F16 20 target/myllm.jar:tiles target/myllm.jar:mapped
 * # -Dthreads=1: one thread in CPU time (default: 2 threads, wall time)
 * </pre>
 */
public class MappedAB {
    record Build(Object mappedHalves, Class<?> packed, Class<?> format, Method encode, Method wrap, Method matmul, Method bf16, Object[] layouts) {
    }

    static int threads = Integer.getInteger("threads", 2);

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Build load(String jar) throws Exception {
        URLClassLoader cl = new URLClassLoader(new URL[]{new File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        Class<?> p = Class.forName("dev.myllm.tensor.PackedMatrix", true, cl);
        Class<?> f = Class.forName("dev.myllm.tensor.PackedMatrix$Format", true, cl);
        Class.forName("dev.myllm.tensor.Parallel", true, cl).getMethod("setThreads", int.class).invoke(null, threads);
        Class<?> lay = Class.forName("dev.myllm.tensor.HalfLayout$Layout", true, cl);
        Method enc = p.getDeclaredMethod("encode", f, float[].class, int.class, int.class, lay);
        enc.setAccessible(true);
        Method bf = Class.forName("dev.myllm.tensor.Quantize", true, cl).getDeclaredMethod("bf16", float.class);
        bf.setAccessible(true);
        return new Build(Enum.valueOf((Class) Class.forName("dev.myllm.tensor.PackedMatrix$Halves", true, cl), "MAPPED"), p, f, enc, p.getMethod("wrap", f, int.class, int.class, MemorySegment.class, Class.forName("dev.myllm.tensor.PackedMatrix$Halves", true, cl)),
                p.getMethod("matmulNT", float[].class, int.class, int.class, float[].class, int.class), bf, lay.getEnumConstants());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: MappedAB small|medium F16|BF16 steps JAR:variant ... (variant: tiles, padded, rows, mapped, mapped+N)");
            System.exit(2);
        }
        boolean medium = args[0].equals("medium");
        String fmt = args[1];
        int steps = Integer.parseInt(args[2]);
        int nv = args.length - 3;
        String[] jar = new String[nv], variant = new String[nv], fmts = new String[nv];
        Arrays.fill(fmts, fmt);
        java.util.Map<String, Build> builds = new java.util.HashMap<>();
        for (int v = 0; v < nv; v++) {
            int c = args[3 + v].lastIndexOf(':');
            jar[v] = args[3 + v].substring(0, c);
            variant[v] = args[3 + v].substring(c + 1);
            if (variant[v].contains("/")) { // variant/FORMAT: this variant in another format
                fmts[v] = variant[v].substring(variant[v].indexOf('/') + 1);
                variant[v] = variant[v].substring(0, variant[v].indexOf('/'));
            }
            if (!builds.containsKey(jar[v])) builds.put(jar[v], load(jar[v]));
        }
        int d = medium ? 1024 : 768, layers = medium ? 24 : 12;
        int[][] shapes = {{3 * d, d}, {d, d}, {4 * d, d}, {d, 4 * d}, {50257, d}};
        String[] names = new String[shapes.length];
        for (int s = 0; s < shapes.length; s++) names[s] = shapes[s][0] + "x" + shapes[s][1];
        // the weights of every matrix, as halves (rounded as the build rounds them)
        Build b0 = builds.get(jar[0]);
        List<short[]> halvesF = new ArrayList<>(), halvesB = new ArrayList<>();
        List<float[]> floats = new ArrayList<>();
        for (int s = 0; s < shapes.length; s++) {
            int count = s == 4 ? 1 : layers;
            for (int c = 0; c < count; c++) {
                float[] w = fill(shapes[s][0] * shapes[s][1], 1000L * s + c, 0.02f);
                short[] h = new short[w.length], hb = new short[w.length];
                for (int i = 0; i < w.length; i++) {
                    hb[i] = (short) b0.bf16.invoke(null, w[i]);
                    h[i] = Float.floatToFloat16(w[i]);
                }
                halvesF.add(h);
                halvesB.add(hb);
                floats.add(w);
            }
        }
        Object[][][] ms = new Object[nv][shapes.length][];
        for (int v = 0; v < nv; v++) {
            Build b = builds.get(jar[v]);
            Object f = Enum.valueOf((Class) b.format, fmts[v]);
            List<short[]> halves = fmts[v].equals("BF16") ? halvesB : halvesF;
            MemorySegment file = null;
            long[] at = new long[halves.size()];
            if (variant[v].startsWith("mapped")) {
                int mis = variant[v].contains("+") ? Integer.parseInt(variant[v].substring(variant[v].indexOf('+') + 1)) : 0;
                Path path = File.createTempFile("mappedab", ".bin").toPath();
                path.toFile().deleteOnExit();
                long o = 0;
                for (int i = 0; i < halves.size(); i++) {
                    at[i] = o + mis;
                    o = (at[i] + 2L * halves.get(i).length + 63) / 64 * 64;
                }
                try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    MemorySegment w = ch.map(FileChannel.MapMode.READ_WRITE, 0, o, Arena.ofAuto());
                    for (int i = 0; i < halves.size(); i++) MemorySegment.copy(halves.get(i), 0, w, ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at[i], halves.get(i).length);
                    w.force();
                    file = ch.map(FileChannel.MapMode.READ_ONLY, 0, o, Arena.ofAuto());
                }
            }
            int i = 0;
            for (int s = 0; s < shapes.length; s++) {
                int count = s == 4 ? 1 : layers;
                ms[v][s] = new Object[count];
                for (int c = 0; c < count; c++, i++) {
                    int rows = shapes[s][0], cols = shapes[s][1];
                    ms[v][s][c] = switch (variant[v]) {
                        case "tiles" -> b.encode.invoke(null, f, floats.get(i), rows, cols, b.layouts[2]);
                        case "padded" -> b.encode.invoke(null, f, floats.get(i), rows, cols, b.layouts[1]);
                        case "rows" -> b.encode.invoke(null, f, floats.get(i), rows, cols, b.layouts[0]);
                        default -> b.wrap.invoke(null, f, rows, cols, file.asSlice(at[i], 2L * rows * cols), b.mappedHalves);
                    };
                }
            }
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        float[] x = fill(4096, 99, 1f);
        float[][] y = new float[nv][50257];
        double[][][] per = new double[nv][shapes.length][steps];
        long[] alloc = new long[nv]; // bytes allocated in all threads while timing (boxed vectors show here)
        com.sun.management.ThreadMXBean amx = (com.sun.management.ThreadMXBean) mx;
        boolean same = true;
        for (int st = -5; st < steps; st++) { // warm-up steps
            for (int i0 = 0; i0 < nv; i0++) {
                int v = (i0 + Math.max(st, 0)) % nv; // each variant in turn first
                Build b = builds.get(jar[v]);
                long a0 = amx.getTotalThreadAllocatedBytes();
                for (int s = 0; s < shapes.length; s++) {
                    long t = threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                    for (Object m : ms[v][s]) b.matmul.invoke(m, x, 0, 1, y[v], 0);
                    if (st >= 0) per[v][s][st] = ((threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t) / 1e6;
                }
                if (st >= 0) alloc[v] += amx.getTotalThreadAllocatedBytes() - a0;
            }
            for (int v = 1; v < nv; v++) if (fmts[v].equals(fmts[0]) && !Arrays.equals(y[0], y[v])) same = false;
        }
        System.out.printf("%s %s, %s, %d steps; same bits (variants of the first's format): %s%n", args[0], fmt, threads == 1 ? "CPU ms, 1 thread" : "wall ms, " + threads + " threads", steps, same);
        double base = 0;
        for (int v = 0; v < nv; v++) {
            double tot = 0, least = 0;
            StringBuilder line = new StringBuilder();
            for (int s = 0; s < shapes.length; s++) {
                double m = median(per[v][s]);
                tot += m;
                least += Arrays.stream(per[v][s]).min().orElse(0);
                line.append(String.format("  %s %.2f", names[s], m));
            }
            if (v == 0) base = tot;
            System.out.printf("  %-28s step %.2f ms (minima %.2f) %.3fx first, %.0f KB allocated a step |%s%n", args[3 + v], tot, least, tot / base, alloc[v] / 1024.0 / steps, line);
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
