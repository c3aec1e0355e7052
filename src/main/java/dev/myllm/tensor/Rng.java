package dev.myllm.tensor;

/**
 * A small seeded random generator (xoshiro128** seeded through SplitMix64) whose whole state can
 * be saved and restored, so a resumed training run draws exactly the numbers it would have drawn.
 */
public final class Rng implements RandomState {
    private int s0, s1, s2, s3;
    private double spareGaussian;
    private boolean hasSpare;

    public Rng(long seed) {
        long z = seed;
        long a = splitMix(z += 0x9E3779B97F4A7C15L);
        long b = splitMix(z + 0x9E3779B97F4A7C15L);
        s0 = (int) a;
        s1 = (int) (a >>> 32);
        s2 = (int) b;
        s3 = (int) (b >>> 32);
        if ((s0 | s1 | s2 | s3) == 0) s0 = 1;
    }

    private static long splitMix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The next 32 random bits. */
    public int nextInt() {
        int result = Integer.rotateLeft(s1 * 5, 7) * 9;
        int t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Integer.rotateLeft(s3, 11);
        return result;
    }

    /** A uniform integer in {@code [0, bound)}, without modulo bias. */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        long m = (nextInt() & 0xFFFFFFFFL) * bound;
        if ((m & 0xFFFFFFFFL) < bound) {
            long threshold = (0x100000000L - bound) % bound;
            while ((m & 0xFFFFFFFFL) < threshold) m = (nextInt() & 0xFFFFFFFFL) * bound;
        }
        return (int) (m >>> 32);
    }

    /** A uniform float in {@code [0, 1)} with 24 random bits. */
    public float nextFloat() {
        return (nextInt() >>> 8) * 0x1.0p-24f;
    }

    /** A uniform double in {@code [0, 1)}. */
    public double nextDouble() {
        long hi = nextInt() >>> 6 & 0x3FFFFFFL;
        long lo = nextInt() >>> 5 & 0x7FFFFFFL;
        return ((hi << 27) + lo) * 0x1.0p-53;
    }

    /** A standard normal draw (Box–Muller, two per pair of uniforms). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u1;
        do {
            u1 = nextDouble();
        } while (u1 <= 0);
        double u2 = nextDouble();
        double r = Math.sqrt(-2 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        hasSpare = true;
        return r * Math.cos(2 * Math.PI * u2);
    }

    /** Fisher–Yates shuffle of an int array in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** The whole state as text (four words, the spare Gaussian and its flag), for checkpoints. */
    public String state() {
        return s0 + " " + s1 + " " + s2 + " " + s3 + " " + Double.doubleToRawLongBits(spareGaussian) + " " + hasSpare;
    }

    /** Restores a state written by {@link #state()}. */
    public void setState(String state) {
        String[] p = state.trim().split(" ");
        if (p.length != 6) throw new IllegalArgumentException("bad random generator state: " + state);
        s0 = Integer.parseInt(p[0]);
        s1 = Integer.parseInt(p[1]);
        s2 = Integer.parseInt(p[2]);
        s3 = Integer.parseInt(p[3]);
        spareGaussian = Double.longBitsToDouble(Long.parseLong(p[4]));
        hasSpare = Boolean.parseBoolean(p[5]);
    }
}
