package dev.myllm.data;

/**
 * numpy's legacy {@code RandomState(seed)} as far as the book's data pipeline uses it: MT19937 seeded by
 * {@code init_genrand(seed)} and {@code permutation(m)}, so that pandas' {@code sample(..., random_state=seed)}
 * picks the same rows as in the book.
 */
public final class NumpyRandomState {
    private static final int N = 624;
    private static final int M = 397;
    private final int[] mt = new int[N];
    private int mti;

    /** A generator in the state of {@code numpy.random.RandomState(seed)} ({@code seed} in [0, 2^32)). */
    public NumpyRandomState(long seed) {
        if (seed < 0 || seed > 0xffffffffL) throw new IllegalArgumentException("seed must be in [0, 2^32): " + seed);
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        mti = N;
    }

    /** The next 32-bit output of MT19937 ({@code genrand_int32}), as an unsigned value. */
    public long nextUint32() {
        if (mti >= N) twist();
        int y = mt[mti++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    private void twist() {
        for (int k = 0; k < N; k++) {
            int y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
            mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
        }
        mti = 0;
    }

    /** A uniform integer in [0, max] by numpy's masked rejection ({@code random_interval}); max below 2^32. */
    long interval(long max) {
        if (max == 0) return 0;
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        long v;
        while ((v = nextUint32() & mask) > max) {
            // rejected: draw again, as numpy does
        }
        return v;
    }

    /** {@code permutation(m)}: 0..m-1 shuffled by Fisher–Yates from the top, as numpy's legacy shuffle. */
    public int[] permutation(int m) {
        int[] a = new int[m];
        for (int i = 0; i < m; i++) a[i] = i;
        for (int i = m - 1; i >= 1; i--) {
            int j = (int) interval(i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
