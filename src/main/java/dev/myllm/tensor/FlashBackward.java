package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import dev.myllm.tensor.FlashAttention.Layout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The backward pass of {@link FlashAttention}, in the transposed layout of {@link FlashForward}:
 * for {@code NR} queries of one head and 8 keys at a time, {@code sᵀ = K panel · Qᵀ} and
 * {@code dpᵀ = V panel · dOᵀ} are packed {@link GemmKernel} tiles, the weights and their gradient
 * are lanewise vectors (the query's log-sum-exp and {@code dO·O} broadcast per lane), and
 * {@code dQᵀ += K panel · dsᵀ} is a packed tile too. {@code dK += dsᵀ·Q} and {@code dV += wᵀ·dO}
 * read the score rows as columns, through {@link FlashAttention#tile}'s strided A.
 *
 * <p>Determinism: one thread owns a head; its key gradients collect query block after query
 * block in order, so the split of heads over threads does not change a bit.
 */
final class FlashBackward {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    private static final int BK = FlashForward.BK;
    private static final float[] FUTURE = FlashForward.FUTURE;

    private FlashBackward() {
    }

    /** One thread's scratch, grown on demand and reused. */
    private static final class Work {
        float[] kpan = new float[0], vpan = new float[0], kdim = new float[0], qrows = new float[0], dorows = new float[0];
        float[] dkp = new float[0], dvp = new float[0], qt = new float[0], dot = new float[0], dqt = new float[0];
        final float[] st = new float[BK * NR], dpt = new float[BK * NR], wt = new float[BK * NR];
        final float[] lse = new float[NR], rowD = new float[NR];
        final boolean[] keep = new boolean[BK];
        int dp8, dpn, tp8, tpn;

        void ensure(int T, int D) {
            dp8 = FlashForward.roundUp(D, MR);
            dpn = FlashForward.roundUp(D, NR);
            tp8 = FlashForward.roundUp(T, MR);
            tpn = FlashForward.roundUp(T, NR);
            if (kpan.length < tp8 * D) {
                kpan = new float[tp8 * D];
                vpan = new float[tp8 * D];
            }
            if (kdim.length < dp8 * T) kdim = new float[dp8 * T];
            if (qrows.length < tpn * dpn) {
                qrows = new float[tpn * dpn];
                dorows = new float[tpn * dpn];
                dkp = new float[tpn * dpn];
                dvp = new float[tpn * dpn];
            }
            if (qt.length < D * NR) {
                qt = new float[D * NR];
                dot = new float[D * NR];
            }
            if (dqt.length < dp8 * NR) dqt = new float[dp8 * NR];
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    static void backward(boolean simd, float[] dq, float[] dk, float[] dv, float[] dout, float[] out, Layout lo,
                         float[] lse, float[] q, Layout lq, float[] k, Layout lk, float[] v, Layout lv,
                         int B, int H, int T, int D, DropoutMask mask) {
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.forRange(B * H, 1, (s0, s1) -> {
            Work wk = WORK.get();
            wk.ensure(T, D);
            for (int bh = s0; bh < s1; bh++) {
                int b = bh / H, h = bh % H;
                FlashForward.packKeys(k, lk.at(b, h, 0), lk.sT(), T, D, wk.kpan);
                FlashForward.packKeys(v, lv.at(b, h, 0), lv.sT(), T, D, wk.vpan);
                FlashForward.packValues(k, lk.at(b, h, 0), lk.sT(), T, D, wk.kdim);
                rows(q, lq, b, h, T, D, wk.qrows, wk.tpn, wk.dpn);
                rows(dout, lo, b, h, T, D, wk.dorows, wk.tpn, wk.dpn);
                Arrays.fill(wk.dkp, 0, wk.tpn * wk.dpn, 0f);
                Arrays.fill(wk.dvp, 0, wk.tpn * wk.dpn, 0f);
                for (int q0 = 0; q0 < T; q0 += NR) {
                    int n = Math.min(NR, T - q0);
                    GemmPack.packB(q, lq.at(b, h, 0), 1, lq.sT(), q0, n, 0, D, wk.qt, 0);
                    GemmPack.packB(dout, lo.at(b, h, 0), 1, lo.sT(), q0, n, 0, D, wk.dot, 0);
                    // padding lanes: weight e^0, gradient 0 (their dO is 0), so they add nothing and stay finite
                    Arrays.fill(wk.lse, 0f);
                    Arrays.fill(wk.rowD, 0f);
                    for (int i = 0; i < n; i++) {
                        wk.lse[i] = lse[bh * T + q0 + i];
                        int oo = lo.at(b, h, q0 + i);
                        wk.rowD[i] = simd ? VecMath.dot(dout, oo, out, oo, D) : VecMath.dotScalar(dout, oo, out, oo, D);
                    }
                    block(simd, wk, bh, q0, T, D, scale, mask, dq != null, dk != null, dv != null);
                    if (dq != null) addTransposed(wk, dq, lq, b, h, q0, n, D);
                }
                for (int t = 0; t < T; t++) {
                    if (dk != null) add(dk, lk.at(b, h, t), wk.dkp, t * wk.dpn, D);
                    if (dv != null) add(dv, lv.at(b, h, t), wk.dvp, t * wk.dpn, D);
                }
            }
        });
    }

    /** NR queries from q0 against every key they see: dqᵀ into {@code wk.dqt}, dk and dv rows added into {@code wk.dkp}, {@code wk.dvp}. */
    private static void block(boolean simd, Work wk, int bh, int q0, int T, int D, float scale, DropoutMask mask,
                              boolean wantQ, boolean wantK, boolean wantV) {
        int kend = Math.min(T, q0 + NR), dpn = wk.dpn;
        boolean needScores = wantQ || wantK;
        float[] st = wk.st, dpt = wk.dpt, wt = mask != null ? wk.wt : wk.st;
        if (wantQ) Arrays.fill(wk.dqt, 0, wk.dp8 * NR, 0f);
        for (int j0 = 0; j0 < kend; j0 += BK) {
            int kc = Math.min(BK, kend - j0), kt = FlashForward.roundUp(kc, MR);
            for (int jj = 0; jj < kc; jj += MR) {
                tile(simd, wk.kpan, (j0 + jj) * D, wk.qt, D, st, jj * NR, true);
                if (needScores) tile(simd, wk.vpan, (j0 + jj) * D, wk.dot, D, dpt, jj * NR, true);
            }
            boolean dsNow = needScores && mask == null; // with dropout, ds needs the mask: see dropout()
            if (simd) gradSimd(wk, j0, kt, q0, scale, dsNow);
            else gradScalar(wk, j0, kt, q0, scale, dsNow);
            if (mask != null) dropout(simd, wk, mask, bh, T, j0, kt, q0, scale, needScores);
            for (int jj = 0; jj < kt; jj += MR) {
                int key = j0 + jj;
                for (int n = 0; n < dpn; n += NR) {
                    // dv keys (8, NR dims) += wᵀ rows (8 keys, NR queries) · dO rows (NR queries, dims)
                    if (wantV) strided(simd, wt, jj * NR, wk.dorows, q0 * dpn + n, dpn, wk.dvp, key * dpn + n, dpn);
                    // dk keys += dsᵀ rows · Q rows
                    if (wantK) strided(simd, dpt, jj * NR, wk.qrows, q0 * dpn + n, dpn, wk.dkp, key * dpn + n, dpn);
                }
            }
            // dqᵀ (dp8, NR) += K dimension panels (dp8, kc keys) · dsᵀ (kc, NR)
            if (wantQ) {
                for (int pn = 0; pn < wk.dp8; pn += MR) tile(simd, wk.kdim, pn * T + j0 * MR, dpt, kc, wk.dqt, pn * NR, false);
            }
        }
    }

    private static void tile(boolean simd, float[] ap, int ai, float[] bp, int kc, float[] c, int ci, boolean overwrite) {
        if (simd) GemmKernel.tile(ap, ai, bp, 0, kc, c, ci, NR, overwrite);
        else GemmKernel.tileScalar(ap, ai, bp, 0, kc, c, ci, NR, overwrite);
    }

    /** C (8, NR) += A·B over the NR queries, A row m = score row {@code ao/NR + m} read down its lanes. */
    private static void strided(boolean simd, float[] a, int ao, float[] b, int bo, int brs, float[] c, int co, int ldc) {
        if (simd) FlashAttention.tile(a, ao, NR, 1, b, bo, brs, NR, c, co, ldc, true);
        else FlashAttention.tileScalar(a, ao, NR, 1, b, bo, brs, NR, c, co, ldc, true);
    }

    /**
     * Rows {@code r < kt} of the block, query by lane: the weights {@code w = e^(s·scale − lse)}
     * (0 where the key is in the query's future) into {@code st}, and (when needed) the score
     * gradient {@code ds = w·(dw − dO·O)·scale} into {@code dpt}.
     */
    private static void gradSimd(Work wk, int j0, int kt, int q0, float scale, boolean needScores) {
        float[] st = wk.st, dpt = wk.dpt;
        FloatVector sv = FloatVector.broadcast(F, scale);
        for (int v = 0; v < NR; v += L) {
            FloatVector lv = FloatVector.fromArray(F, wk.lse, v), rd = FloatVector.fromArray(F, wk.rowD, v);
            for (int r = 0; r < kt; r++) {
                int o = r * NR + v, past = j0 + r - q0;
                FloatVector x = FloatVector.fromArray(F, st, o).mul(sv);
                if (past > v) x = x.add(FloatVector.fromArray(F, FUTURE, Math.min(past, NR) * NR + v));
                FloatVector w = VecMath.exp(x.sub(lv));
                w.intoArray(st, o);
                if (needScores) w.mul(FloatVector.fromArray(F, dpt, o).sub(rd)).mul(sv).intoArray(dpt, o);
            }
        }
    }

    /** Scalar twin of {@link #gradSimd} ({@code Math.exp} for the vector exp). */
    private static void gradScalar(Work wk, int j0, int kt, int q0, float scale, boolean needScores) {
        float[] st = wk.st, dpt = wk.dpt;
        for (int r = 0; r < kt; r++) {
            for (int i = 0; i < NR; i++) {
                int o = r * NR + i;
                float x = j0 + r > q0 + i ? Float.NEGATIVE_INFINITY : st[o] * scale;
                float w = (float) Math.exp(x - wk.lse[i]);
                st[o] = w;
                if (needScores) dpt[o] = w * (dpt[o] - wk.rowD[i]) * scale;
            }
        }
    }

    /**
     * With dropout: the dropped weights (kept ones scaled, for dv) into {@code wk.wt}, and
     * {@code ds = w·(dw' − dO·O)·scale} from the raw {@code dw} products, where {@code dw'} is
     * {@code dw} kept and scaled as its weight was.
     */
    private static void dropout(boolean simd, Work wk, DropoutMask mask, int bh, int T, int j0, int kt, int q0,
                                float scale, boolean needScores) {
        float dscale = mask.scale();
        float[] st = wk.st, dpt = wk.dpt, wt = wk.wt;
        Arrays.fill(wt, 0, kt * NR, 0f);
        for (int i = 0; i < NR; i++) {
            boolean valid = q0 + i < T;
            int lim = valid ? Math.min(kt, q0 + i - j0 + 1) : 0;
            if (lim > 0) mask.keep(simd, ((long) bh * T + q0 + i) * T + j0, lim, wk.keep, 0);
            for (int r = 0; r < kt; r++) {
                int o = r * NR + i;
                boolean kept = r < lim && wk.keep[r];
                wt[o] = kept ? st[o] * dscale : 0f;
                if (needScores) {
                    float dw = kept ? dpt[o] * dscale : 0f;
                    dpt[o] = st[o] * (dw - wk.rowD[i]) * scale;
                }
            }
        }
    }

    /** dst (tpn, dpn) = rows of head (b, h), zero past T and past D. */
    private static void rows(float[] src, Layout lay, int b, int h, int T, int D, float[] dst, int tpn, int dpn) {
        for (int t = 0; t < T; t++) {
            System.arraycopy(src, lay.at(b, h, t), dst, t * dpn, D);
            if (dpn > D) Arrays.fill(dst, t * dpn + D, t * dpn + dpn, 0f);
        }
        Arrays.fill(dst, T * dpn, tpn * dpn, 0f);
    }

    /** dq rows q0.. += dqᵀ columns. */
    private static void addTransposed(Work wk, float[] dq, Layout lq, int b, int h, int q0, int n, int D) {
        float[] dqt = wk.dqt;
        for (int i = 0; i < n; i++) {
            int go = lq.at(b, h, q0 + i);
            for (int d = 0; d < D; d++) dq[go + d] = dqt[d * NR + i] + dq[go + d];
        }
    }

    private static void add(float[] dst, int o, float[] src, int so, int n) {
        for (int d = 0; d < n; d++) dst[o + d] += src[so + d];
    }
}
