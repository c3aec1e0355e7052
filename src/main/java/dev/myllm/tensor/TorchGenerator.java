package dev.myllm.tensor;

import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * PyTorch's CPU random generator, bit for bit (PyTorch 2.13 on any x86-64 CPU with AVX2): the
 * MT19937 engine behind {@code torch.manual_seed}, and the way {@code rand}, {@code randn},
 * {@code nn.Linear}/{@code nn.Embedding} initialisation, dropout, {@code multinomial},
 * {@code randint}, {@code randperm} and a shuffled {@code DataLoader} turn its draws into numbers,
 * so the book's seed-dependent results come out exactly.
 *
 * <p>Which operations are fused multiply-adds and which are rounded twice is part of the
 * definition: it follows PyTorch's vectorised kernels, not the textbook formulas.
 */
public final class TorchGenerator implements RandomState {
    /** The seed of a {@code torch.Generator()} made without one. */
    public static final long DEFAULT_SEED = 67280421310721L;

    private static final int N = 624, M = 397;
    private final int[] mt = new int[N];
    private final int[] tempered = new int[N]; // the outputs of the current state, tempered in bulk after each twist
    private int pos;
    private long seed;
    private boolean hasCachedNormal;
    private double cachedNormal;

    public TorchGenerator(long seed) {
        manualSeed(seed);
    }

    /** {@code torch.manual_seed(seed)}: only the low 32 bits reach the engine; the cached normal is cleared. */
    public void manualSeed(long seed) {
        this.seed = seed;
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        pos = N;
        hasCachedNormal = false;
        cachedNormal = 0;
    }

    /** The seed last given to {@link #manualSeed} (or the constructor). */
    public long initialSeed() {
        return seed;
    }

    /** Regenerates the state in place and in order, then tempers all 624 outputs at once. */
    private void twist() {
        int[] w = mt;
        for (int i = 0; i < N - 1; i++) {
            int y = (w[i] & 0x80000000) | (w[i + 1] & 0x7FFFFFFF);
            w[i] = w[i < N - M ? i + M : i + M - N] ^ (y >>> 1) ^ (-(y & 1) & 0x9908B0DF);
        }
        int y = (w[N - 1] & 0x80000000) | (w[0] & 0x7FFFFFFF);
        w[N - 1] = w[M - 1] ^ (y >>> 1) ^ (-(y & 1) & 0x9908B0DF);
        temperAll();
        pos = 0;
    }

    private void temperAll() {
        for (int i = 0; i < N; i++) {
            int y = mt[i];
            y ^= y >>> 11;
            y ^= (y << 7) & 0x9D2C5680;
            y ^= (y << 15) & 0xEFC60000;
            tempered[i] = y ^ (y >>> 18);
        }
    }

    /** One draw: 32 random bits (an unsigned value held in an int). */
    public int random() {
        if (pos == N) twist();
        return tempered[pos++];
    }

    /** n float conversions of n draws (section 2 of the spec), into dst[off..]. */
    private void fillFloats(float[] dst, int off, int n) {
        while (n > 0) {
            if (pos == N) twist();
            int k = Math.min(n, N - pos);
            for (int j = 0; j < k; j++) dst[off + j] = (tempered[pos + j] & 0xFFFFFF) * 0x1.0p-24f;
            pos += k;
            off += k;
            n -= k;
        }
    }

    /** Two draws, the first one the high word. */
    public long random64() {
        long hi = random() & 0xFFFFFFFFL;
        return (hi << 32) | (random() & 0xFFFFFFFFL);
    }

    /** A float in [0, 1) from one draw (24 bits). */
    public float nextFloat() {
        return (random() & 0xFFFFFF) * 0x1.0p-24f;
    }

    /** A double in [0, 1) from two draws (53 bits). */
    public double nextDouble() {
        return (random64() & ((1L << 53) - 1)) * 0x1.0p-53;
    }

    // ---------------------------------------------------------------- uniform

    /** {@code uniform_(a, b)} on {@code n} float32 values at {@code out[off..]}: one draw each, {@code fma(x, b-a, a)}. */
    public void uniform(float[] out, int off, int n, double a, double b) {
        float lo = (float) a, hi = (float) b, span = hi - lo;
        // Plain scalar loops: this runs once per model, mostly before the JIT has warmed up, when
        // Vector API code is far slower than scalar code (measured).
        fillFloats(out, off, n);
        for (int i = off; i < off + n; i++) {
            float v = Math.fma(out[i], span, lo);
            out[i] = v == hi ? lo : v;
        }
    }

    /** {@code uniform_(a, b)} on float64 values: two draws each. */
    public void uniform(double[] out, int off, int n, double a, double b) {
        double span = b - a;
        for (int i = off; i < off + n; i++) {
            double v = Math.fma(nextDouble(), span, a);
            out[i] = v == b ? a : v;
        }
    }

    /** {@code torch.rand(n)} as a new array. */
    public float[] rand(int n) {
        float[] out = new float[n];
        uniform(out, 0, n, 0.0, 1.0);
        return out;
    }

    /** The bound of {@code nn.Linear}'s Kaiming-uniform weight initialisation for {@code fanIn} inputs. */
    public static double linearWeightBound(int fanIn) {
        double gain = Math.sqrt(2.0 / (1 + Math.sqrt(5.0) * Math.sqrt(5.0)));
        double std = gain / Math.sqrt(fanIn);
        return Math.sqrt(3.0) * std;
    }

    /** The bound of {@code nn.Linear}'s bias initialisation, 1/√fanIn. */
    public static double linearBiasBound(int fanIn) {
        return 1 / Math.sqrt(fanIn);
    }

    // ---------------------------------------------------------------- normal

    /**
     * {@code normal_(mean, std)} on {@code n} contiguous float32 values: the 16-lane path for
     * n ≥ 16 (with the tail redrawn), the element path below.
     */
    public void normal(float[] out, int off, int n, double mean, double std) {
        if (n < 16) {
            normalStrided(out, off, n, 1, mean, std);
            return;
        }
        float m = (float) mean, s = (float) std;
        int end = off + n;
        fillFloats(out, off, n);
        // the blocks are independent once their uniforms are drawn: any thread count gives the same bits
        Parallel.forRange(n / 16, 4096, (b0, b1) -> NormalKernel.transformBlocks(out, off + 16 * b0, b1 - b0, m, s));
        if (n % 16 != 0) {
            fillFloats(out, end - 16, 16);
            NormalKernel.transform16(out, end - 16, m, s);
        }
    }

    /** The element path on a non-contiguous float32 view: elements {@code off, off+stride, …} (n of them). */
    public void normalStrided(float[] out, int off, int n, int stride, double mean, double std) {
        for (int i = 0; i < n; i++) out[off + i * stride] = (float) Math.fma(nextNormalElement(), std, mean);
    }

    /** {@code normal_(mean, std)} on contiguous float64 values. */
    public void normal(double[] out, int off, int n, double mean, double std) {
        if (n < 16) {
            for (int i = off; i < off + n; i++) out[i] = Math.fma(nextNormalElement(), std, mean);
            return;
        }
        for (int i = off; i < off + n; i++) out[i] = nextDouble();
        int end = off + n;
        for (int b = off; b + 16 <= end; b += 16) transform16(out, b, mean, std);
        if (n % 16 != 0) {
            for (int i = end - 16; i < end; i++) out[i] = nextDouble();
            transform16(out, end - 16, mean, std);
        }
    }

    private static void transform16(double[] d, int off, double mean, double std) {
        for (int j = off; j < off + 8; j++) {
            double radius = Math.sqrt(-2 * StrictMath.log(1 - d[j]));
            double theta = 2.0 * Math.PI * d[j + 8];
            d[j] = Math.fma(radius * StrictMath.cos(theta), std, mean);
            d[j + 8] = Math.fma(radius * StrictMath.sin(theta), std, mean);
        }
    }

    /** {@code torch.randn(n)} as a new array. */
    public float[] randn(int n) {
        float[] out = new float[n];
        normal(out, 0, n, 0.0, 1.0);
        return out;
    }

    /** One standard normal of the element path (Box–Muller in double; every other value is the cached one). */
    private double nextNormalElement() {
        if (hasCachedNormal) {
            hasCachedNormal = false;
            return cachedNormal;
        }
        double u1 = nextDouble();
        double u2 = nextDouble();
        double r = Math.sqrt(-2.0 * StrictMath.log1p(-u2));
        double theta = 2.0 * Math.PI * u1;
        cachedNormal = r * StrictMath.sin(theta);
        hasCachedNormal = true;
        return r * StrictMath.cos(theta);
    }

    // ---------------------------------------------------------------- bernoulli, dropout

    /** {@code bernoulli_(p)}: two draws per element; 1 where a uniform double is below {@code p}. */
    public void bernoulli(float[] out, int off, int n, double p) {
        for (int i = off; i < off + n; i++) out[i] = nextDouble() < p ? 1f : 0f;
    }

    /**
     * The keep mask of {@code nn.Dropout(q)} on {@code n} elements, as bits ({@code mask[i >> 6]}
     * bit {@code i & 63} set = kept): {@code bernoulli_(1 - q)}, two draws per element. {@code q}
     * is the Python float (a double): 0.1 and 0.1f give different masks.
     */
    public long[] dropoutMask(int n, double q) {
        double keep = 1.0 - q;
        long[] mask = new long[(n + 63) >>> 6];
        for (int w = 0; w < mask.length; w++) {
            long bits = 0;
            int cnt = Math.min(64, n - (w << 6));
            for (int b = 0; b < cnt; b++) if (nextDouble() < keep) bits |= 1L << b;
            mask[w] = bits;
        }
        return mask;
    }

    /** The factor dropout multiplies kept elements by: {@code 1f / (float)(1 - q)}, a float division. */
    public static float dropoutScale(double q) {
        return 1.0f / (float) (1.0 - q);
    }

    // ---------------------------------------------------------------- exponential, multinomial

    /** {@code exponential_(lambda)} on float32 values: two draws each. */
    public void exponential(float[] out, int off, int n, double lambda) {
        for (int i = off; i < off + n; i++) out[i] = (float) ((-1.0 / lambda) * StrictMath.log1p(-nextDouble()));
    }

    /**
     * {@code torch.multinomial(p, k, replacement)} on one float32 weight vector: the exponential
     * race (2·K draws) when {@code k == 1} or without replacement, inverse-CDF sampling otherwise.
     */
    public int[] multinomial(float[] p, int k, boolean replacement) {
        int K = p.length;
        if (k < 1 || (!replacement && k > K)) throw new IllegalArgumentException("cannot draw " + k + " of " + K + " categories");
        if (k == 1 || !replacement) {
            float[] q = new float[K];
            exponential(q, 0, K, 1.0);
            float[] ratio = new float[K];
            for (int i = 0; i < K; i++) ratio[i] = p[i] / q[i];
            int[] out = new int[k];
            boolean[] taken = new boolean[K];
            for (int s = 0; s < k; s++) {
                int best = -1;
                for (int i = 0; i < K; i++) if (!taken[i] && (best < 0 || ratio[i] > ratio[best])) best = i;
                taken[best] = true;
                out[s] = best;
            }
            return out;
        }
        float[] c = new float[K];
        float sum = 0;
        for (int i = 0; i < K; i++) c[i] = sum += p[i];
        for (int i = 0; i < K; i++) c[i] /= sum;
        c[K - 1] = 1f;
        int[] out = new int[k];
        for (int s = 0; s < k; s++) {
            double u = nextDouble();
            int lo = 0, hi = K;
            while (hi > lo) {
                int mid = lo + (hi - lo) / 2;
                if (c[mid] < u) lo = mid + 1;
                else hi = mid;
            }
            out[s] = lo;
        }
        return out;
    }

    // ---------------------------------------------------------------- integers, permutations

    /** {@code torch.randint(lo, hi, ())}: one draw when the span is below 2^28, two otherwise. */
    public long randint(long lo, long hi) {
        long span = hi - lo;
        if (span <= 0) throw new IllegalArgumentException("randint needs lo < hi, got " + lo + ", " + hi);
        if (span < (1L << 28)) return Integer.remainderUnsigned(random(), (int) span) + lo;
        return Long.remainderUnsigned(random64(), span) + lo;
    }

    /** {@code torch.empty((), dtype=int64).random_()}: 63 random bits from two draws. */
    public long int64Random() {
        return random64() & Long.MAX_VALUE;
    }

    /** {@code torch.randperm(n)}. */
    public int[] randperm(int n) {
        int[] a = new int[n];
        if (n < 214_748_364) {
            for (int i = 0; i < n; i++) a[i] = i;
            for (int i = 0; i < n - 1; i++) {
                int z = Integer.remainderUnsigned(random(), n - i);
                int t = a[i];
                a[i] = a[i + z];
                a[i + z] = t;
            }
        } else {
            for (int i = 0; i < n; i++) {
                int z = (int) Long.remainderUnsigned(random64(), i + 1);
                a[i] = a[z];
                a[z] = i;
            }
        }
        return a;
    }

    /**
     * The sample order of one epoch of a single-process {@code DataLoader} iterated with this
     * (global) generator: one base-seed draw always; with shuffling a second draw seeds a separate
     * generator whose {@code randperm(n)} is the order.
     */
    public int[] dataLoaderEpoch(int n, boolean shuffle) {
        random64(); // the loader's base seed (used by worker processes, which the book has none of)
        if (!shuffle) {
            int[] order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            return order;
        }
        long s = random64() & Long.MAX_VALUE;
        return new TorchGenerator(s).randperm(n);
    }

    // ---------------------------------------------------------------- state

    /** The whole state as text, for checkpoints. */
    public String state() {
        ByteBuffer b = ByteBuffer.allocate(N * 4 + 4 + 8 + 1 + 8);
        for (int w : mt) b.putInt(w);
        b.putInt(pos).putLong(seed).put((byte) (hasCachedNormal ? 1 : 0)).putLong(Double.doubleToRawLongBits(cachedNormal));
        return "torch:" + Base64.getEncoder().encodeToString(b.array());
    }

    /** Restores a state written by {@link #state()}. */
    public void setState(String state) {
        byte[] bytes;
        try {
            if (!state.startsWith("torch:")) throw new IllegalArgumentException();
            bytes = Base64.getDecoder().decode(state.substring(6));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad torch generator state");
        }
        if (bytes.length != N * 4 + 21) throw new IllegalArgumentException("bad torch generator state");
        ByteBuffer b = ByteBuffer.wrap(bytes);
        for (int i = 0; i < N; i++) mt[i] = b.getInt();
        int p = b.getInt();
        if (p < 0 || p > N) throw new IllegalArgumentException("bad torch generator state");
        temperAll();
        pos = p;
        seed = b.getLong();
        hasCachedNormal = b.get() != 0;
        cachedNormal = Double.longBitsToDouble(b.getLong());
    }
}
