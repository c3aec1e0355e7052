package dev.myllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Pulls a stretch of weights into the core's cache with one cheap load per 64-byte line, just
 * before a compute-heavy kernel reads it. A multi-row decode product does 16 to 48 multiply-adds
 * per weight vector; on this kind of core, while those run, hardly any reads of the next lines are
 * in flight, so memory and arithmetic take turns instead of overlapping (about 75 GFLOP/s cold
 * against 200+ hot). A pass of independent scalar loads has nothing else to wait for: many lines
 * arrive at once, and the kernel then runs from L2. (Java has no prefetch instruction.) The loads
 * only read; the results are unchanged bit for bit.
 *
 * <p>Measured and dropped (tools/DecodeAB, one thread, 8 rows): touching the lines of the group
 * some passes ahead from inside the pass's loop (three loads an iteration) made the products 1.8×
 * slower, a missing load holds up the multiply-adds behind it; one load per 128 or 256 bytes
 * instead of per line, 1.3-1.4× slower (no neighbouring line comes along); 128 or 512 KB chunks,
 * no change; a pass over two or four parts of the chunk side by side (more streams for the
 * prefetcher), no change (0.994×, 1.014×); instead of the warming pass, the first four rows' pass
 * straight from memory and then the other rows' from cache, 1.33× slower (a four-row pass cold is
 * far from memory speed). Nor can one core pull in for the other: a thread reading 256 KB chunks that
 * another thread had read 0.5 to 2 MB earlier read them no faster than from memory (11-25 GB/s
 * against 13-29 alone, a read test on this machine): no shared cache hands the lines over. Nor do
 * threads gain by taking turns at warming (one warms while the other computes, at most one of two
 * at a time, a bounded wait for the turn): 22.2 ms a decode step against 18.1 (tools/DecodeAB, two
 * threads, 8 rows), as one core's warming pass reads about 22 GB/s and two together more.
 */
final class CacheWarm {
    /** Bytes of a cache line: one load each. */
    private static final int LINE = 64;
    /** Bytes to warm before computing them (L2 is 1 MB a core on the machines this was tuned on); 0: off. */
    static volatile int chunkBytes = Integer.getInteger("myllm.warm.kb", 256) * 1024;

    /**
     * Products with at least this many input rows warm their weights (their first pass has eight
     * rows: 24 multiply-adds per three weight vectors); lighter passes keep closer to memory speed
     * on their own and were measured slower with warming (M = 2: 30% slower, M = 4: 10%).
     */
    static final int MIN_ROWS = 5;

    /** Where the loaded values go, so the JIT cannot drop the loads (written once per chunk; races are harmless). */
    static int sink;

    private CacheWarm() {
    }

    /** The warm chunk in rows of {@code rowBytes} bytes (at least one), or 0 when warming is off. */
    static int rowsPerChunk(long rowBytes) {
        int c = chunkBytes;
        return c <= 0 ? 0 : (int) Math.max(1, c / Math.max(1, rowBytes));
    }

    /** Loads one float from every cache line of {@code a[from .. to)}. */
    static void touch(float[] a, int from, int to) {
        if (to <= from) return;
        int step = LINE / Float.BYTES;
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 * step < to; i += 4 * step) {
            s0 += Float.floatToRawIntBits(a[i]);
            s1 += Float.floatToRawIntBits(a[i + step]);
            s2 += Float.floatToRawIntBits(a[i + 2 * step]);
            s3 += Float.floatToRawIntBits(a[i + 3 * step]);
        }
        for (; i < to; i += step) s0 += Float.floatToRawIntBits(a[i]);
        sink += s0 + s1 + s2 + s3 + Float.floatToRawIntBits(a[to - 1]); // (the last line when the stride steps past it)
    }

    /** Loads one int from every cache line of bytes {@code [from, to)} of {@code w}. */
    static void touch(MemorySegment w, long from, long to) {
        if (to <= from) return;
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        long o = from;
        for (; o + 3 * LINE + 4 <= to; o += 4 * LINE) {
            s0 += w.get(ValueLayout.JAVA_INT_UNALIGNED, o);
            s1 += w.get(ValueLayout.JAVA_INT_UNALIGNED, o + LINE);
            s2 += w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 2 * LINE);
            s3 += w.get(ValueLayout.JAVA_INT_UNALIGNED, o + 3 * LINE);
        }
        for (; o + 4 <= to; o += LINE) s0 += w.get(ValueLayout.JAVA_INT_UNALIGNED, o);
        sink += s0 + s1 + s2 + s3 + (to - from >= 4 ? w.get(ValueLayout.JAVA_INT_UNALIGNED, to - 4) : 0);
    }
}
