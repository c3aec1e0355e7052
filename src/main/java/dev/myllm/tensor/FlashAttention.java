package dev.myllm.tensor;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled dot-product attention, tiled with an online softmax as in FlashAttention: the
 * forward pass visits keys a block at a time, keeping per query row only a running maximum, a
 * running sum and the output accumulator, and saves one log-sum-exp per row; the backward pass
 * recomputes each block of weights from it. No {@code (B, H, T, T)} array is ever made, so the
 * memory of attention grows with T, not T².
 *
 * <p>Every block product runs through one register-blocked tile ({@code 8 × 2L}: eight rows
 * against two vectors of columns), on per-head copies of q, k and v padded to whole tiles, so
 * no product needs a horizontal sum. q, k, v and the output can be laid out as {@code (B, H, T, D)}
 * or as parts of {@code (B, T, ·)} rows (a fused QKV projection), see {@link Layout}.
 *
 * <p>Determinism: the forward pass splits work over (head, query block) pairs and the backward
 * pass over heads, each with a fixed visiting order, so results are bitwise the same for any
 * number of threads. The dropout mask of weight (b, h, i, j) is element {@code ((b·H + h)·T + i)·T + j}
 * of a {@link DropoutMask}, as in {@link AttentionKernel}.
 */
public final class FlashAttention {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Rows of a tile. */
    static final int MR = 8;
    /** Columns of a tile: two vectors. */
    static final int NR = 2 * L;
    /** Query rows per block and keys per block (a whole number of tiles both ways). */
    static final int BLOCK = Math.max(NR, MR);

    private FlashAttention() {
    }

    /** Where element (b, h, t, 0) of a logical {@code (B, H, T, D)} tensor lives: {@code off + b·sB + h·sH + t·sT}. */
    public record Layout(int off, int sB, int sH, int sT) {
        /** A contiguous {@code (B, H, T, D)} tensor. */
        public static Layout heads(int h, int t, int d) {
            return new Layout(0, h * t * d, t * d, d);
        }

        /** Heads side by side in {@code (B, T, width)} rows, head 0 starting at column {@code col}. */
        public static Layout rows(int col, int t, int d, int width) {
            return new Layout(col, t * width, d, width);
        }

        int at(int b, int h, int t) {
            return off + b * sB + h * sH + t * sT;
        }
    }

    /** One thread's scratch: per-head padded copies and per-block tiles, grown on demand and reused. */
    private static final class Work {
        float[] qp = new float[0], kp = new float[0], vp = new float[0], dop = new float[0];
        float[] kt = new float[0], vt = new float[0], dkp = new float[0], dvp = new float[0];
        final float[] s = new float[BLOCK * BLOCK], ds = new float[BLOCK * BLOCK], w = new float[BLOCK * BLOCK];
        float[] o = new float[0], dqp = new float[0], rowD = new float[0];
        final float[] m = new float[BLOCK], l = new float[BLOCK];
        final boolean[] keep = new boolean[BLOCK];

        void ensure(int tp, int dp, int d) {
            int head = tp * dp;
            if (qp.length < head) {
                qp = new float[head];
                kp = new float[head];
                vp = new float[head];
                dop = new float[head];
                dkp = new float[head];
                dvp = new float[head];
            }
            if (kt.length < d * tp) {
                kt = new float[d * tp];
                vt = new float[d * tp];
            }
            if (o.length < BLOCK * dp) {
                o = new float[BLOCK * dp];
                dqp = new float[BLOCK * dp];
            }
            if (rowD.length < tp) rowD = new float[tp];
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    // ------------------------------------------------------------------ forward

    /**
     * Causal attention forward.
     *
     * @param out (B, H, T, D) in layout {@code lo}, written
     * @param lse (B·H·T) written: log Σ_j e^(score_ij) of every query row, for backward
     * @param mask which attention weights dropout keeps (null: no dropout); backward needs the same one
     */
    public static void forward(float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk,
                               float[] v, Layout lv, int B, int H, int T, int D, DropoutMask mask) {
        long t0 = StepProfile.begin();
        forward(Simd.ENABLED, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
        StepProfile.end(t0, "attention forward T=" + T, 2.0 * B * H * T * (T + 1) * D); // q·kᵀ and w·v over the causal half
    }

    static void forward(boolean simd, float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk,
                        float[] v, Layout lv, int B, int H, int T, int D, DropoutMask mask) {
        float scale = (float) (1.0 / Math.sqrt(D));
        int tp = roundUp(T, BLOCK), dp = roundUp(D, NR), blocks = tp / BLOCK;
        // an item is one query block of one head: about BLOCK·T·D multiply-adds on average
        int grain = (int) Math.max(1, 65536 / Math.max(1L, (long) BLOCK * T * D));
        Parallel.forRange(B * H * blocks, grain, (s0, s1) -> {
            Work wk = WORK.get();
            wk.ensure(tp, dp, D);
            int loaded = -1;
            for (int item = s0; item < s1; item++) {
                int bh = item / blocks, qb = item % blocks, b = bh / H, h = bh % H;
                if (bh != loaded) {
                    load(q, lq, b, h, T, D, wk.qp, tp, dp);
                    load(v, lv, b, h, T, D, wk.vp, tp, dp);
                    loadTransposed(k, lk, b, h, T, D, wk.kt, tp);
                    loaded = bh;
                }
                forwardBlock(simd, wk, bh, qb * BLOCK, T, D, tp, dp, scale, mask);
                int i0 = qb * BLOCK, rows = Math.min(BLOCK, T - i0);
                for (int r = 0; r < rows; r++) {
                    int oo = lo.at(b, h, i0 + r);
                    float inv = 1f / wk.l[r];
                    for (int d = 0; d < D; d++) out[oo + d] = wk.o[r * dp + d] * inv;
                    lse[bh * T + i0 + r] = wk.m[r] + (float) Math.log(wk.l[r]);
                }
            }
        });
    }

    /** One query block: o, m, l of its rows over all key blocks up to the diagonal. */
    private static void forwardBlock(boolean simd, Work wk, int bh, int i0, int T, int D, int tp, int dp, float scale,
                                     DropoutMask mask) {
        int rows = Math.min(BLOCK, T - i0), rowsP = roundUp(rows, MR);
        float[] s = wk.s, o = wk.o, m = wk.m, l = wk.l;
        Arrays.fill(o, 0, rowsP * dp, 0f);
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0f);
        // blocks are aligned and as tall as they are wide, so the last key block is the diagonal one (j0 = i0)
        for (int j0 = 0; j0 <= i0; j0 += BLOCK) {
            int kmax = Math.min(BLOCK, i0 + rows - j0); // keys any row of this block sees
            // s (rowsP, BLOCK) = q block · k blockᵀ
            product(simd, rowsP, BLOCK, wk.qp, i0 * dp, dp, 1, wk.kt, j0, tp, D, s, 0, BLOCK, false);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r, so = r * BLOCK;
                int lim = Math.min(BLOCK, i - j0 + 1); // keys j0..i are in the past of query i
                float mb = scaleMaskMax(simd, s, so, lim, scale);
                float mNew = Math.max(m[r], mb);
                // 0 on the first block (m = -inf); exactly 1 when the maximum holds, as e^0 is, without the call
                float corr = m[r] == mNew ? 1f : (float) Math.exp(m[r] - mNew);
                float sum = expRow(simd, s, so, mNew);
                l[r] = l[r] * corr + sum;
                m[r] = mNew;
                if (corr != 1f) scaleRow(simd, o, r * dp, dp, corr);
                if (mask != null) {
                    mask.keep(simd, ((long) bh * T + i) * T + j0, lim, wk.keep, 0);
                    float dscale = mask.scale();
                    for (int c = 0; c < lim; c++) s[so + c] = wk.keep[c] ? s[so + c] * dscale : 0f;
                }
            }
            Arrays.fill(s, rows * BLOCK, rowsP * BLOCK, 0f); // padding rows add nothing
            // o (rowsP, dp) += weights (rowsP, kmax) · v block (kmax, dp)
            product(simd, rowsP, dp, s, 0, BLOCK, 1, wk.vp, j0 * dp, dp, kmax, o, 0, dp, true);
        }
    }

    /** row[c] *= scale for c &lt; lim, −∞ beyond (up to BLOCK); returns the row's maximum. */
    private static float scaleMaskMax(boolean simd, float[] s, int so, int lim, float scale) {
        scalePrefix(simd, s, so, lim, scale);
        Arrays.fill(s, so + lim, so + BLOCK, Float.NEGATIVE_INFINITY);
        if (simd) return VecMath.max(s, so, BLOCK);
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < BLOCK; c++) max = Math.max(max, s[so + c]);
        return max;
    }

    /** ds = w·(ds − rd)·scale over one row of the block (vectors do the scalar loop's operations in its order). */
    private static void softmaxGrad(boolean simd, float[] w, float[] ds, int so, float rd, float scale) {
        int c = 0;
        if (simd) {
            FloatVector rdv = FloatVector.broadcast(F, rd), sv = FloatVector.broadcast(F, scale);
            for (; c + L <= BLOCK; c += L) {
                FloatVector.fromArray(F, w, so + c).mul(FloatVector.fromArray(F, ds, so + c).sub(rdv)).mul(sv).intoArray(ds, so + c);
            }
        }
        for (; c < BLOCK; c++) ds[so + c] = w[so + c] * (ds[so + c] - rd) * scale;
    }

    /** s[so + c] *= scale for c &lt; lim (each product rounded alone, so vectors give the scalar loop's bits). */
    private static void scalePrefix(boolean simd, float[] s, int so, int lim, float scale) {
        int c = 0;
        if (simd) {
            FloatVector sv = FloatVector.broadcast(F, scale);
            for (; c + L <= lim; c += L) FloatVector.fromArray(F, s, so + c).mul(sv).intoArray(s, so + c);
        }
        for (; c < lim; c++) s[so + c] *= scale;
    }

    /** row = e^(row − shift) over the whole block (masked entries give 0); returns the row's sum. */
    private static float expRow(boolean simd, float[] s, int so, float shift) {
        if (simd) {
            FloatVector sh = FloatVector.broadcast(F, shift), acc = FloatVector.zero(F);
            for (int c = 0; c < BLOCK; c += L) {
                FloatVector e = VecMath.exp(FloatVector.fromArray(F, s, so + c).sub(sh));
                e.intoArray(s, so + c);
                acc = acc.add(e);
            }
            return VecMath.sum(acc);
        }
        float sum = 0f;
        for (int c = 0; c < BLOCK; c++) {
            float e = (float) Math.exp(s[so + c] - shift);
            s[so + c] = e;
            sum += e;
        }
        return sum;
    }

    private static void scaleRow(boolean simd, float[] x, int o, int n, float f) {
        int i = 0;
        if (simd) {
            FloatVector fv = FloatVector.broadcast(F, f);
            for (int ub = F.loopBound(n); i < ub; i += L) FloatVector.fromArray(F, x, o + i).mul(fv).intoArray(x, o + i);
        }
        for (; i < n; i++) x[o + i] *= f;
    }

    // ------------------------------------------------------------------ backward

    /**
     * Causal attention backward, accumulating into dq, dk, dv (any may be null; each in the layout
     * of its input, so a fused QKV gradient can be one array). Recomputes each block of weights from
     * q, k and {@code lse}; {@code out} is the forward output (for Σ_j w_ij·dw_ij = dout_i·out_i).
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dout, float[] out, Layout lo, float[] lse,
                                float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                                int B, int H, int T, int D, DropoutMask mask) {
        long t0 = StepProfile.begin();
        backward(Simd.ENABLED, dq, dk, dv, dout, out, lo, lse, q, lq, k, lk, v, lv, B, H, T, D, mask);
        StepProfile.end(t0, "attention backward T=" + T, 5.0 * B * H * T * (T + 1) * D); // q·kᵀ again, dout·vᵀ, dq, dk, dv
    }

    static void backward(boolean simd, float[] dq, float[] dk, float[] dv, float[] dout, float[] out, Layout lo,
                         float[] lse, float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                         int B, int H, int T, int D, DropoutMask mask) {
        float scale = (float) (1.0 / Math.sqrt(D));
        int tp = roundUp(T, BLOCK), dp = roundUp(D, NR);
        boolean needScores = dq != null || dk != null;
        // one thread owns a head: its dk and dv rows collect from every later query block, in order
        Parallel.forRange(B * H, 1, (s0, s1) -> {
            Work wk = WORK.get();
            wk.ensure(tp, dp, D);
            for (int bh = s0; bh < s1; bh++) {
                int b = bh / H, h = bh % H;
                load(q, lq, b, h, T, D, wk.qp, tp, dp);
                load(k, lk, b, h, T, D, wk.kp, tp, dp);
                load(dout, lo, b, h, T, D, wk.dop, tp, dp);
                loadTransposed(k, lk, b, h, T, D, wk.kt, tp);
                loadTransposed(v, lv, b, h, T, D, wk.vt, tp);
                Arrays.fill(wk.dkp, 0, tp * dp, 0f);
                Arrays.fill(wk.dvp, 0, tp * dp, 0f);
                if (needScores) {
                    for (int i = 0; i < T; i++) {
                        int oo = lo.at(b, h, i);
                        wk.rowD[i] = simd ? VecMath.dot(dout, oo, out, oo, D) : VecMath.dotScalar(dout, oo, out, oo, D);
                    }
                }
                for (int i0 = 0; i0 < T; i0 += BLOCK) {
                    backwardBlock(simd, wk, bh, i0, T, D, tp, dp, scale, mask, lse,
                            dq != null, dk != null, dv != null);
                    if (dq != null) {
                        int rows = Math.min(BLOCK, T - i0);
                        for (int r = 0; r < rows; r++) {
                            int go = lq.at(b, h, i0 + r);
                            for (int d = 0; d < D; d++) dq[go + d] += wk.dqp[r * dp + d];
                        }
                    }
                }
                for (int t = 0; t < T; t++) {
                    if (dk != null) {
                        int go = lk.at(b, h, t);
                        for (int d = 0; d < D; d++) dk[go + d] += wk.dkp[t * dp + d];
                    }
                    if (dv != null) {
                        int go = lv.at(b, h, t);
                        for (int d = 0; d < D; d++) dv[go + d] += wk.dvp[t * dp + d];
                    }
                }
            }
        });
    }

    /**
     * One query block against every key block up to the diagonal: dq of the block into
     * {@code wk.dqp}, dk and dv of the keys added into {@code wk.dkp}, {@code wk.dvp}.
     */
    private static void backwardBlock(boolean simd, Work wk, int bh, int i0, int T, int D, int tp, int dp, float scale,
                                      DropoutMask mask, float[] lse,
                                      boolean wantQ, boolean wantK, boolean wantV) {
        int rows = Math.min(BLOCK, T - i0), rowsP = roundUp(rows, MR);
        boolean dropout = mask != null;
        float dscale = dropout ? mask.scale() : 1f;
        float[] s = wk.s, ds = wk.ds, w = dropout ? wk.w : wk.s;
        boolean needScores = wantQ || wantK;
        if (wantQ) Arrays.fill(wk.dqp, 0, rowsP * dp, 0f);
        for (int j0 = 0; j0 <= i0; j0 += BLOCK) {
            int kmax = Math.min(BLOCK, i0 + rows - j0), kmaxP = roundUp(kmax, MR);
            // recompute the weights: s = q block · k blockᵀ, then e^(scale·s − lse)
            product(simd, rowsP, BLOCK, wk.qp, i0 * dp, dp, 1, wk.kt, j0, tp, D, s, 0, BLOCK, false);
            // ds first holds d(loss)/d(dropped weight) = dout block · v blockᵀ
            if (needScores) product(simd, rowsP, BLOCK, wk.dop, i0 * dp, dp, 1, wk.vt, j0, tp, D, ds, 0, BLOCK, false);
            for (int r = 0; r < rows; r++) {
                int i = i0 + r, so = r * BLOCK;
                int lim = Math.min(BLOCK, i - j0 + 1);
                float rowLse = lse[bh * T + i];
                scalePrefix(simd, s, so, lim, scale);
                Arrays.fill(s, so + lim, so + BLOCK, Float.NEGATIVE_INFINITY);
                expRow(simd, s, so, rowLse); // the weights, 0 past the diagonal
                if (dropout) {
                    mask.keep(simd, ((long) bh * T + i) * T + j0, lim, wk.keep, 0);
                    for (int c = 0; c < BLOCK; c++) {
                        boolean kept = c < lim && wk.keep[c];
                        w[so + c] = kept ? s[so + c] * dscale : 0f;
                        if (needScores) ds[so + c] = kept ? ds[so + c] * dscale : 0f;
                    }
                }
                if (needScores) {
                    // through the softmax: ds = w·(dw − Σ_j w·dw)·scale, with Σ_j w·dw = dout_i·out_i
                    softmaxGrad(simd, s, ds, so, wk.rowD[i], scale);
                }
            }
            Arrays.fill(s, rows * BLOCK, rowsP * BLOCK, 0f);
            if (dropout) Arrays.fill(w, rows * BLOCK, rowsP * BLOCK, 0f);
            if (needScores) Arrays.fill(ds, rows * BLOCK, rowsP * BLOCK, 0f);
            // dv keys (kmax, dp) += wᵀ (kmax, rows) · dout block (rows, dp)
            if (wantV) product(simd, kmaxP, dp, w, 0, 1, BLOCK, wk.dop, i0 * dp, dp, rows, wk.dvp, j0 * dp, dp, true);
            // dk keys += dsᵀ · q block
            if (wantK) product(simd, kmaxP, dp, ds, 0, 1, BLOCK, wk.qp, i0 * dp, dp, rows, wk.dkp, j0 * dp, dp, true);
            // dq block (rows, dp) += ds (rows, kmax) · k block (kmax, dp)
            if (wantQ) product(simd, rowsP, dp, ds, 0, BLOCK, 1, wk.kp, j0 * dp, dp, kmax, wk.dqp, 0, dp, true);
        }
    }

    // ------------------------------------------------------------------ copies and tiles

    /** dst (tp, dp) = rows t &lt; T of head (b, h), zero-padded to whole tiles. */
    private static void load(float[] src, Layout lay, int b, int h, int T, int D, float[] dst, int tp, int dp) {
        for (int t = 0; t < T; t++) {
            System.arraycopy(src, lay.at(b, h, t), dst, t * dp, D);
            if (dp > D) Arrays.fill(dst, t * dp + D, t * dp + dp, 0f);
        }
        Arrays.fill(dst, T * dp, tp * dp, 0f);
    }

    /** dst (D, tp) = head (b, h) transposed, columns past T zero. */
    private static void loadTransposed(float[] src, Layout lay, int b, int h, int T, int D, float[] dst, int tp) {
        for (int t = 0; t < T; t++) {
            int so = lay.at(b, h, t);
            for (int d = 0; d < D; d++) dst[d * tp + t] = src[so + d];
        }
        if (tp > T) for (int d = 0; d < D; d++) Arrays.fill(dst, d * tp + T, d * tp + tp, 0f);
    }

    /**
     * C (rows, cols) (+)= A·B over kc, tile by tile ({@code rows} a multiple of 8, {@code cols} of
     * 2L): {@code A(m,k) = a[ao + m·ars + k·acs]}, {@code B(k,n) = b[bo + k·brs + n]},
     * {@code C(m,n) = c[co + m·ldc + n]}.
     */
    static void product(boolean simd, int rows, int cols, float[] a, int ao, int ars, int acs, float[] b, int bo, int brs,
                        int kc, float[] c, int co, int ldc, boolean accumulate) {
        for (int m = 0; m < rows; m += MR) {
            for (int n = 0; n < cols; n += NR) {
                if (simd) tile(a, ao + m * ars, ars, acs, b, bo + n, brs, kc, c, co + m * ldc + n, ldc, accumulate);
                else tileScalar(a, ao + m * ars, ars, acs, b, bo + n, brs, kc, c, co + m * ldc + n, ldc, accumulate);
            }
        }
    }

    /**
     * One {@code 8 × 2L} tile: each C element is one fused multiply-add chain over k in order,
     * from 0 or (accumulating) from its old value, so {@link #tileScalar} gives the same bits.
     * Written out in one method, as {@code GemmKernel.tile}, so every vector stays in a register.
     */
    static void tile(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, int kc, float[] c, int co, int ldc,
                     boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate) {
            int r = co;
            c00 = FloatVector.fromArray(F, c, r); c01 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c10 = FloatVector.fromArray(F, c, r); c11 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c20 = FloatVector.fromArray(F, c, r); c21 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c30 = FloatVector.fromArray(F, c, r); c31 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c40 = FloatVector.fromArray(F, c, r); c41 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c50 = FloatVector.fromArray(F, c, r); c51 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c60 = FloatVector.fromArray(F, c, r); c61 = FloatVector.fromArray(F, c, r + L); r += ldc;
            c70 = FloatVector.fromArray(F, c, r); c71 = FloatVector.fromArray(F, c, r + L);
        } else {
            FloatVector z = FloatVector.zero(F);
            c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z; c30 = z; c31 = z;
            c40 = z; c41 = z; c50 = z; c51 = z; c60 = z; c61 = z; c70 = z; c71 = z;
        }
        for (int k = 0; k < kc; k++) {
            int bk = bo + k * brs, ak = ao + k * acs;
            FloatVector b0 = FloatVector.fromArray(F, b, bk);
            FloatVector b1 = FloatVector.fromArray(F, b, bk + L);
            FloatVector x = FloatVector.broadcast(F, a[ak]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(F, a[ak + ars]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(F, a[ak + 2 * ars]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(F, a[ak + 3 * ars]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(F, a[ak + 4 * ars]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(F, a[ak + 5 * ars]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
            x = FloatVector.broadcast(F, a[ak + 6 * ars]);
            c60 = b0.fma(x, c60); c61 = b1.fma(x, c61);
            x = FloatVector.broadcast(F, a[ak + 7 * ars]);
            c70 = b0.fma(x, c70); c71 = b1.fma(x, c71);
        }
        int r = co;
        c00.intoArray(c, r); c01.intoArray(c, r + L); r += ldc;
        c10.intoArray(c, r); c11.intoArray(c, r + L); r += ldc;
        c20.intoArray(c, r); c21.intoArray(c, r + L); r += ldc;
        c30.intoArray(c, r); c31.intoArray(c, r + L); r += ldc;
        c40.intoArray(c, r); c41.intoArray(c, r + L); r += ldc;
        c50.intoArray(c, r); c51.intoArray(c, r + L); r += ldc;
        c60.intoArray(c, r); c61.intoArray(c, r + L); r += ldc;
        c70.intoArray(c, r); c71.intoArray(c, r + L);
    }

    /** Scalar twin of {@link #tile}: the same chains, element by element. */
    static void tileScalar(float[] a, int ao, int ars, int acs, float[] b, int bo, int brs, int kc, float[] c, int co,
                           int ldc, boolean accumulate) {
        for (int m = 0; m < MR; m++) {
            for (int n = 0; n < NR; n++) {
                float acc = accumulate ? c[co + m * ldc + n] : 0f;
                for (int k = 0; k < kc; k++) acc = Math.fma(a[ao + m * ars + k * acs], b[bo + k * brs + n], acc);
                c[co + m * ldc + n] = acc;
            }
        }
    }
}
