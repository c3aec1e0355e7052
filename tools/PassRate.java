import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * How close the eight-row decode product comes to the core's multiply-add ceiling, on one thread in
 * its CPU time: the ceiling (24 accumulators fed from registers, as many multiply-adds per
 * iteration as the eight-row pass), {@code GemmSmall.nt} of 8 rows with the weights hot (N rows of
 * K: 48 of 768 are 147 KB, in L2), with and without {@code CacheWarm}'s pass; then the read rate of
 * one thread pulling 512 MB in 256 KB chunks with {@code CacheWarm.touch} and with a bulk copy into
 * a reused 256 KB scratch (the copy lost: see docs/performance.md).
 *
 * <pre>
 * source tools/find-jdk.sh && $JAVA_HOME/bin/java -Xmx2g --add-modules jdk.incubator.vector -cp target/classes tools/PassRate.java 48 768
 * </pre>
 */
public class PassRate {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    /** 24 independent fused multiply-add chains over operands in registers; returns a value so the JIT keeps them. */
    private static float ceiling(long iters) {
        FloatVector x = FloatVector.broadcast(F, 1e-3f), y = FloatVector.broadcast(F, 2e-3f);
        FloatVector w0 = FloatVector.broadcast(F, 0.5f), w1 = FloatVector.broadcast(F, 0.25f), w2 = FloatVector.broadcast(F, 0.125f);
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s02 = z, s10 = z, s11 = z, s12 = z, s20 = z, s21 = z, s22 = z, s30 = z, s31 = z, s32 = z;
        FloatVector s40 = z, s41 = z, s42 = z, s50 = z, s51 = z, s52 = z, s60 = z, s61 = z, s62 = z, s70 = z, s71 = z, s72 = z;
        for (long i = 0; i < iters; i++) {
            s00 = w0.fma(x, s00); s01 = w1.fma(x, s01); s02 = w2.fma(x, s02);
            s10 = w0.fma(y, s10); s11 = w1.fma(y, s11); s12 = w2.fma(y, s12);
            s20 = w0.fma(x, s20); s21 = w1.fma(x, s21); s22 = w2.fma(x, s22);
            s30 = w0.fma(y, s30); s31 = w1.fma(y, s31); s32 = w2.fma(y, s32);
            s40 = w0.fma(x, s40); s41 = w1.fma(x, s41); s42 = w2.fma(x, s42);
            s50 = w0.fma(y, s50); s51 = w1.fma(y, s51); s52 = w2.fma(y, s52);
            s60 = w0.fma(x, s60); s61 = w1.fma(x, s61); s62 = w2.fma(x, s62);
            s70 = w0.fma(y, s70); s71 = w1.fma(y, s71); s72 = w2.fma(y, s72);
        }
        return s00.add(s01).add(s02).add(s10).add(s11).add(s12).add(s20).add(s21).add(s22).add(s30).add(s31).add(s32)
                .add(s40).add(s41).add(s42).add(s50).add(s51).add(s52).add(s60).add(s61).add(s62).add(s70).add(s71).add(s72)
                .reduceLanes(VectorOperators.ADD);
    }

    public static void main(String[] args) throws Exception {
        int N = args.length > 0 ? Integer.parseInt(args[0]) : 48, K = args.length > 1 ? Integer.parseInt(args[1]) : 768, M = 8;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Class<?> g = Class.forName("dev.myllm.tensor.GemmSmall");
        Method nt = g.getDeclaredMethod("nt", float[].class, int.class, float[].class, int.class, float[].class,
                int.class, int.class, int.class, int.class, boolean.class);
        nt.setAccessible(true);
        Class.forName("dev.myllm.tensor.Parallel").getMethod("setThreads", int.class).invoke(null, 1);
        Class<?> cw = Class.forName("dev.myllm.tensor.CacheWarm");
        Field chunk = cw.getDeclaredField("chunkBytes");
        chunk.setAccessible(true);
        int warm = chunk.getInt(null);
        Method touch = cw.getDeclaredMethod("touch", float[].class, int.class, int.class);
        touch.setAccessible(true);
        float[] a = new float[M * K], b = new float[N * K], c = new float[M * N];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
        int reps = (int) Math.max(100, 2e9 / (2.0 * M * N * K));
        double flops = 2.0 * M * N * K * reps;
        long iters = (long) (flops / (2 * 24 * F.length()));
        for (int round = 0; round < 5; round++) {
            long t0 = mx.getCurrentThreadCpuTime();
            sink += ceiling(iters);
            long t1 = mx.getCurrentThreadCpuTime();
            chunk.setInt(null, 0);
            for (int i = 0; i < reps; i++) nt.invoke(null, a, 0, b, 0, c, 0, M, N, K, false);
            long t2 = mx.getCurrentThreadCpuTime();
            chunk.setInt(null, warm);
            for (int i = 0; i < reps; i++) nt.invoke(null, a, 0, b, 0, c, 0, M, N, K, false);
            long t3 = mx.getCurrentThreadCpuTime();
            System.out.printf("GFLOP/s: ceiling %.1f | nt 8x%dx%d hot: warming off %.1f, on %.1f%n",
                    flops / (t1 - t0), N, K, flops / (t2 - t1), flops / (t3 - t2));
        }
        int n = 128 << 20, step = 64 << 10; // 512 MB in 256 KB chunks
        float[] big = new float[n], scratch = new float[step];
        for (int i = 0; i < n; i += 16) big[i] = i;
        for (int round = 0; round < 4; round++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i += step) touch.invoke(null, big, i, i + step);
            long t1 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i += step) System.arraycopy(big, i, scratch, 0, step);
            long t2 = mx.getCurrentThreadCpuTime();
            System.out.printf("GB/s reading 512 MB (one thread): CacheWarm.touch %.1f, arraycopy into a 256 KB scratch %.1f%n",
                    4.0 * n / (t1 - t0), 4.0 * n / (t2 - t1));
        }
        System.out.println(sink + scratch[17]);
    }
}
