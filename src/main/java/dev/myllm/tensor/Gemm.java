package dev.myllm.tensor;

/**
 * Single-precision matrix products on row-major {@code float[]} slices: the three products of a
 * linear layer (forward {@code X·Wᵀ}, input gradient {@code dY·W}, weight gradient {@code dYᵀ·X}).
 *
 * <p>Every product reads {@code a} from {@code aOff}, {@code b} from {@code bOff} and writes the
 * {@code (M, N)} result at {@code cOff}; with {@code accumulate} the result is added to what is
 * there ({@code C += A·B}) instead of replacing it. The vector path is register-blocked and packed
 * (see {@link GemmDriver}); the {@code ...Scalar} twins are plain loops used under
 * {@code -Dmyllm.simd=false} and by tests. Work is split over output tiles only and the reduction
 * order depends on the shape alone, so results are bitwise the same for any number of threads.
 */
public final class Gemm {
    private Gemm() {
    }

    /** {@code C[m,n] (+)= Σ_k A[m,k]·B[n,k]}; A is {@code (M, K)}, B is {@code (N, K)}, C is {@code (M, N)}. */
    public static void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, boolean accumulate) {
        long t0 = StepProfile.begin();
        productNT(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        StepProfile.endProduct(t0, "NT", M, N, K);
    }

    /**
     * {@code C[m,n] = Σ_k A[m,k]·B[n,k] + bias[n]} (a linear layer's forward), bitwise the product
     * followed by {@link Elementwise#addToRows}: the few-row kernels add the bias as they store
     * each element, the others in a pass after. {@code bias} null: no bias.
     */
    public static void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, float[] bias) {
        matmulNT(a, aOff, b, bOff, c, cOff, M, N, K, bias, false);
    }

    /**
     * {@link #matmulNT(float[], int, float[], int, float[], int, int, int, int, float[])}, then with
     * {@code gelu} {@link GeluKernel#forward} of the result in place, bitwise: the several-row
     * kernels apply it to each chunk of columns they finish while it is in cache, when the result's
     * size is a multiple of the vector width (GeluKernel's scalar tail is then empty); otherwise it
     * runs as a pass after.
     */
    public static void matmulNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, float[] bias, boolean gelu) {
        if (bias != null && bias.length < N) throw new IllegalArgumentException("matmulNT: bias of " + bias.length + " for " + N + " columns");
        boolean geluInside = gelu && M >= 2 && (long) M * N % Simd.F.length() == 0;
        long t0 = StepProfile.begin();
        boolean inside = productNT(a, aOff, b, bOff, c, cOff, M, N, K, false, bias, geluInside);
        StepProfile.endProduct(t0, "NT", M, N, K);
        if (bias != null && !inside) Elementwise.addToRows(Simd.ENABLED, c, cOff, bias, M, N);
        if (gelu && !(inside && geluInside)) GeluKernel.forward(c, cOff, c, cOff, M * N);
    }

    private static void productNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        productNT(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, null, false);
    }

    /** The product; returns whether it added {@code bias} (and applied {@code gelu}) too: the few-row kernels do, as they store. */
    private static boolean productNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                     int M, int N, int K, boolean accumulate, float[] bias, boolean gelu) {
        check("matmulNT", a, aOff, b, bOff, c, cOff, M, N, K, "(M, K)", "(N, K)");
        if (M == 0 || N == 0) return true;
        // a fixed mode ignores the shape, so each row of C gets the same kernel whatever M is
        ProductMode mode = ProductMode.current();
        if (!Simd.ENABLED) {
            ntScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        } else if (mode == ProductMode.SHAPE && tiny(M, N, K)) {
            ntTiny(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        } else if (K == 0) {
            zeroUnlessAccumulate(c, cOff, M, N, accumulate);
        } else if (mode == ProductMode.ROWS || (mode == ProductMode.SHAPE && M <= GemmSmall.MAX_ROWS)) {
            GemmSmall.nt(a, aOff, b, bOff, c, cOff, M, N, K, accumulate, bias, gelu);
            return true;
        } else {
            // A(m,k) = a[m*K + k], B(k,n) = b[n*K + k]
            GemmDriver.run(a, aOff, K, 1, b, bOff, 1, K, c, cOff, M, N, K, accumulate);
        }
        return false;
    }

    /** {@code C[m,n] (+)= Σ_k A[m,k]·B[k,n]}; A is {@code (M, K)}, B is {@code (K, N)}, C is {@code (M, N)}. */
    public static void matmulNN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, boolean accumulate) {
        long t0 = StepProfile.begin();
        productNN(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        StepProfile.endProduct(t0, "NN", M, N, K);
    }

    private static void productNN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        check("matmulNN", a, aOff, b, bOff, c, cOff, M, N, K, "(M, K)", "(K, N)");
        if (M == 0 || N == 0) return;
        if (!Simd.ENABLED || tiny(M, N, K)) {
            nnScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        } else if (K == 0) {
            zeroUnlessAccumulate(c, cOff, M, N, accumulate);
        } else if (M <= GemmSmall.MAX_ROWS) {
            GemmRows.rowsTimesB(a, aOff, K, 1, b, bOff, c, cOff, M, N, K, accumulate);
        } else {
            // A(m,k) = a[m*K + k], B(k,n) = b[k*N + n]
            GemmDriver.run(a, aOff, K, 1, b, bOff, N, 1, c, cOff, M, N, K, accumulate);
        }
    }

    /** {@code C[m,n] (+)= Σ_k A[k,m]·B[k,n]}; A is {@code (K, M)}, B is {@code (K, N)}, C is {@code (M, N)}. */
    public static void matmulTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                int M, int N, int K, boolean accumulate) {
        long t0 = StepProfile.begin();
        productTN(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        StepProfile.endProduct(t0, "TN", M, N, K);
    }

    private static void productTN(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        check("matmulTN", a, aOff, b, bOff, c, cOff, M, N, K, "(K, M)", "(K, N)");
        if (M == 0 || N == 0) return;
        if (!Simd.ENABLED || tiny(M, N, K)) {
            tnScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
        } else if (K == 0) {
            zeroUnlessAccumulate(c, cOff, M, N, accumulate);
        } else if (M <= GemmSmall.MAX_ROWS) {
            GemmRows.rowsTimesB(a, aOff, 1, M, b, bOff, c, cOff, M, N, K, accumulate);
        } else {
            // A(m,k) = a[k*M + m], B(k,n) = b[k*N + n]
            GemmDriver.run(a, aOff, 1, M, b, bOff, N, 1, c, cOff, M, N, K, accumulate);
        }
    }

    /**
     * Products this small (a few thousand multiply-adds) finish in the plain loops before the
     * packed path has set up its buffers; the choice depends on the shape alone.
     */
    static boolean tiny(int M, int N, int K) {
        return (long) M * N * K <= TINY;
    }

    private static final long TINY = 4096;

    /** Scalar twin of {@link #matmulNT}: one chain of fused multiply-adds per element over k in order, from zero. */
    public static void matmulNTScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                      int M, int N, int K, boolean accumulate) {
        check("matmulNTScalar", a, aOff, b, bOff, c, cOff, M, N, K, "(M, K)", "(N, K)");
        ntScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
    }

    /** Scalar twin of {@link #matmulNN}: a plain triple loop summing over k in order. */
    public static void matmulNNScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                      int M, int N, int K, boolean accumulate) {
        check("matmulNNScalar", a, aOff, b, bOff, c, cOff, M, N, K, "(M, K)", "(K, N)");
        nnScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
    }

    /** Scalar twin of {@link #matmulTN}: a plain triple loop summing over k in order. */
    public static void matmulTNScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                      int M, int N, int K, boolean accumulate) {
        check("matmulTNScalar", a, aOff, b, bOff, c, cOff, M, N, K, "(K, M)", "(K, N)");
        tnScalar(a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
    }

    /**
     * The scalar twin: each element one chain {@code s = fma(a, b, s)} over k from zero, then stored
     * or added to C. Why fused, not {@code s += a·b}: that is the chain of the GEMM's micro-kernel
     * (within a KC block, {@link GemmKernel#tileScalar}) and of the float32 panels ({@link
     * PanelKernels#productScalar}), so without SIMD a model on panels gives the plain model's bits
     * as it does with SIMD (PackedWeightsTest; the unfused sum differed in the last bits).
     */
    private static void ntScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        for (int m = 0; m < M; m++) {
            int ar = aOff + m * K;
            for (int n = 0; n < N; n++) {
                int br = bOff + n * K;
                float s = 0f;
                for (int k = 0; k < K; k++) s = Math.fma(a[ar + k], b[br + k], s);
                int ci = cOff + m * N + n;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /**
     * Tiny products with SIMD on: a plain loop, each element's products rounded and then added in k
     * order (the bits these shapes have always had; a mapped F32 matrix's tiny path adds the same way).
     */
    private static void ntTiny(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                               int M, int N, int K, boolean accumulate) {
        for (int m = 0; m < M; m++) {
            int ar = aOff + m * K;
            for (int n = 0; n < N; n++) {
                int br = bOff + n * K;
                float s = 0f;
                for (int k = 0; k < K; k++) s += a[ar + k] * b[br + k];
                int ci = cOff + m * N + n;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    private static void nnScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        rowsTimesBScalar(a, aOff, K, 1, b, bOff, c, cOff, M, N, K, accumulate);
    }

    private static void tnScalar(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                                 int M, int N, int K, boolean accumulate) {
        rowsTimesBScalar(a, aOff, 1, M, b, bOff, c, cOff, M, N, K, accumulate);
    }

    /**
     * {@code C (+)= A·B} with {@code A(m,k) = a[aOff + m·ars + k·acs]} and B {@code (K, N)}: the k loop is
     * outside the n loop so B is read along its rows; each C element adds its k terms in order
     * (onto its old value when accumulating).
     */
    private static void rowsTimesBScalar(float[] a, int aOff, int ars, int acs, float[] b, int bOff,
                                         float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        for (int m = 0; m < M; m++) {
            int cr = cOff + m * N;
            if (!accumulate) java.util.Arrays.fill(c, cr, cr + N, 0f);
            for (int k = 0; k < K; k++) {
                float av = a[aOff + m * ars + k * acs];
                int br = bOff + k * N;
                for (int n = 0; n < N; n++) c[cr + n] += av * b[br + n];
            }
        }
    }

    private static void zeroUnlessAccumulate(float[] c, int cOff, int M, int N, boolean accumulate) {
        if (!accumulate) java.util.Arrays.fill(c, cOff, cOff + M * N, 0f);
    }

    /** Validates shapes, offsets and lengths, naming the operand and its expected shape. */
    static void check(String op, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                      int M, int N, int K, String aShape, String bShape) {
        if (M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException(op + ": sizes must be >= 0, got M=" + M + ", N=" + N + ", K=" + K);
        }
        operand(op, "a", a, aOff, (long) M * K, aShape, M, N, K);
        operand(op, "b", b, bOff, (long) K * N, bShape, M, N, K);
        operand(op, "c", c, cOff, (long) M * N, "(M, N)", M, N, K);
        if ((long) M * N > Integer.MAX_VALUE || (long) M * K > Integer.MAX_VALUE || (long) K * N > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": an operand exceeds 2^31-1 floats (M=" + M + ", N=" + N + ", K=" + K + ")");
        }
    }

    private static void operand(String op, String name, float[] x, int off, long need, String shape,
                                int M, int N, int K) {
        if (x == null) throw new NullPointerException(op + ": " + name + " is null");
        if (off < 0) throw new IllegalArgumentException(op + ": " + name + " offset must be >= 0, got " + off);
        if (off + need > x.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape + " needs " + need
                    + " floats from offset " + off + " but has length " + x.length
                    + " (M=" + M + ", N=" + N + ", K=" + K + ")");
        }
    }
}
