package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The memory bandwidth the machine gives right now, read with the pool's threads from weights that
 * are already in memory (a model's own packed matrices, where they are), so it costs no memory of
 * its own: on a virtual machine whose bandwidth from the host changes every few seconds to minutes,
 * a benchmark prints it beside each run. Read only: nothing it reads changes.
 */
public final class ReadBandwidth {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SS = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BS = ByteVector.SPECIES_PREFERRED;
    /** Reads a timing takes the median of. */
    private static final int READS = 3;

    /** Values of one array or segment: {@code data} is a float[], short[], byte[] or MemorySegment; {@code start} its first byte among all. */
    private record Region(Object data, int from, long count, int unit, long start) {
    }

    private final List<Region> regions = new ArrayList<>();
    private long bytes;
    // what was read, kept so that the JIT cannot drop the reads
    private static volatile double sink;

    /** Adds the memory a product with {@code p} reads ({@link PackedMatrix#readBytes}). */
    public ReadBandwidth add(PackedMatrix p) {
        if (p.panels != null) return add(p.panels, p.panelBase, PanelLayout.size(p.rows(), p.cols()), Float.BYTES);
        if (p.halfPanels != null) return add(p.halfPanels, p.panelBase, PanelLayout.size(p.rows(), p.cols()), Short.BYTES);
        if (p.codes != null) {
            add(p.codes, 0, p.codes.length, 1);
            if (p.scaleArray != null) add(p.scaleArray);
            if (p.minArray != null) add(p.minArray);
            return this;
        }
        // F32, or F16/BF16 rows off the heap or in a mapped file: as floats where whole (a thread's share starts at a float)
        long n = p.readBytes();
        return n % 4 == 0 ? add(p.bits, 0, n / 4, 4) : add(p.bits, 0, n, 1);
    }

    /** Adds a float32 array. */
    public ReadBandwidth add(float[] w) {
        return add(w, 0, w.length, Float.BYTES);
    }

    private ReadBandwidth add(Object data, int from, long count, int unit) {
        if (count == 0) return this;
        regions.add(new Region(data, from, count, unit, bytes));
        bytes += count * unit;
        return this;
    }

    /** Bytes one read takes in. */
    public long bytes() {
        return bytes;
    }

    /** GB/s of the median of three reads of every byte added, with {@link Parallel#threads()} threads. */
    public double gbps() {
        double[] g = new double[READS];
        for (int k = 0; k < READS; k++) {
            long t0 = System.nanoTime();
            sink = read();
            g[k] = bytes / (double) Math.max(1, System.nanoTime() - t0);
        }
        Arrays.sort(g);
        return g[READS / 2];
    }

    /** One read's sum of the values (float arrays and F32 segments as floats, the others' bits as integers): for tests. */
    double checksum() {
        return read();
    }

    /** Reads every byte once: each thread a contiguous share of them, in the order added. */
    private double read() {
        int t = Parallel.threads();
        double[] sums = new double[t];
        Parallel.forRange(t, 1, (s, e) -> {
            for (int k = s; k < e; k++) sums[k] = read(bytes * k / t, bytes * (k + 1) / t);
        });
        double total = 0;
        for (double v : sums) total += v;
        return total;
    }

    /** Reads the values whose first byte is in {@code [lo, hi)}. */
    private double read(long lo, long hi) {
        double sum = 0;
        for (Region r : regions) {
            long end = r.start() + r.count() * r.unit();
            if (end <= lo || r.start() >= hi) continue;
            long i0 = Math.clamp(Math.ceilDiv(lo - r.start(), r.unit()), 0, r.count());
            long i1 = Math.clamp(Math.ceilDiv(hi - r.start(), r.unit()), 0, r.count());
            if (i0 >= i1) continue;
            sum += switch (r.data()) {
                case float[] a -> sum(a, r.from() + (int) i0, r.from() + (int) i1);
                case short[] a -> sum(a, r.from() + (int) i0, r.from() + (int) i1);
                case byte[] a -> sum(a, r.from() + (int) i0, r.from() + (int) i1);
                case MemorySegment m -> sum(m, i0 * r.unit(), i1 * r.unit());
                default -> throw new IllegalStateException(r.data().getClass().getName());
            };
        }
        return sum;
    }

    private static double sum(float[] a, int from, int to) {
        int l = FS.length(), i = from;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 4 * l <= to; i += 4 * l) {
            a0 = a0.add(FloatVector.fromArray(FS, a, i));
            a1 = a1.add(FloatVector.fromArray(FS, a, i + l));
            a2 = a2.add(FloatVector.fromArray(FS, a, i + 2 * l));
            a3 = a3.add(FloatVector.fromArray(FS, a, i + 3 * l));
        }
        double s = a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }

    private static double sum(short[] a, int from, int to) {
        int l = SS.length(), i = from;
        ShortVector a0 = ShortVector.zero(SS), a1 = a0;
        for (; i + 2 * l <= to; i += 2 * l) {
            a0 = a0.add(ShortVector.fromArray(SS, a, i));
            a1 = a1.add(ShortVector.fromArray(SS, a, i + l));
        }
        long s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }

    private static double sum(byte[] a, int from, int to) {
        int l = BS.length(), i = from;
        ByteVector a0 = ByteVector.zero(BS), a1 = a0;
        for (; i + 2 * l <= to; i += 2 * l) {
            a0 = a0.add(ByteVector.fromArray(BS, a, i));
            a1 = a1.add(ByteVector.fromArray(BS, a, i + l));
        }
        long s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += a[i];
        return s;
    }

    /** Bytes {@code [from, to)} of {@code m}: whole floats (little-endian) where they fit, the rest bytes. */
    private static double sum(MemorySegment m, long from, long to) {
        long l = 4L * FS.length(), i = from;
        FloatVector a0 = FloatVector.zero(FS), a1 = a0;
        for (; i + 2 * l <= to; i += 2 * l) {
            a0 = a0.add(FloatVector.fromMemorySegment(FS, m, i, java.nio.ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(FS, m, i + l, java.nio.ByteOrder.LITTLE_ENDIAN));
        }
        double s = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; i + 4 <= to; i += 4) s += m.get(PackedMatrix.LF, i);
        for (; i < to; i++) s += m.get(ValueLayout.JAVA_BYTE, i);
        return s;
    }
}
