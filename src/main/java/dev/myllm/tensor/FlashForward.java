package dev.myllm.tensor;

import static dev.myllm.tensor.GemmKernel.MR;
import static dev.myllm.tensor.GemmKernel.NR;

import dev.myllm.tensor.FlashAttention.Layout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The forward pass of {@link FlashAttention}, computed transposed so that every product is a
 * packed {@link GemmKernel} tile and the online softmax needs no horizontal reduction.
 *
 * <p>One item is {@code NR} queries of one head. Their scores against 8 keys are one tile,
 * {@code sᵀ (8 keys × NR queries) = K panel · Qᵀ panel}, so a key is a row and a query a lane:
 * the running maximum and sum of every query are lanewise vectors, the rescale of the output is a
 * lanewise product, and the weights, written back as rows, are already the packed B operand of
 * {@code oᵀ (D × NR) += Vᵀ panel · weightsᵀ}. K and V are packed once per head (K in 8-key
 * panels of D, V in 8-dimension panels of T keys), Qᵀ once per item.
 *
 * <p>Determinism: every query's numbers depend only on its head and block, visited in a fixed
 * key order, so the split of items over threads does not change a bit.
 */
final class FlashForward {
    private static final VectorSpecies<Float> F = Simd.F;
    private static final int L = F.length();
    /** Keys per softmax step: a multiple of MR; the lanewise rescale of oᵀ is paid once per block. */
    static final int BK = 64;
    /** Row {@code p}: −∞ in lanes below p (queries before the key), 0 from p on; added to a score row it applies the causal mask. */
    static final float[] FUTURE = new float[(NR + 1) * NR];

    static {
        for (int p = 0; p <= NR; p++) for (int i = 0; i < p; i++) FUTURE[p * NR + i] = Float.NEGATIVE_INFINITY;
    }

    private FlashForward() {
    }

    /** One thread's scratch, grown on demand and reused. */
    private static final class Work {
        float[] kpan = new float[0], vpan = new float[0], qt = new float[0], ot = new float[0];
        final float[] st = new float[BK * NR];
        final float[] m = new float[NR], l = new float[NR], mb = new float[NR], corr = new float[NR], sum = new float[NR];
        final boolean[] keep = new boolean[BK];
        /** D rounded up to whole 8-row panels: the rows of oᵀ. */
        int dp;

        void ensure(int T, int D) {
            dp = roundUp(D, MR);
            if (kpan.length < roundUp(T, MR) * D) kpan = new float[roundUp(T, MR) * D];
            if (vpan.length < dp * T) vpan = new float[dp * T];
            if (qt.length < D * NR) qt = new float[D * NR];
            if (ot.length < dp * NR) ot = new float[dp * NR];
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    static void forward(boolean simd, float[] out, Layout lo, float[] lse, float[] q, Layout lq, float[] k, Layout lk,
                        float[] v, Layout lv, int B, int H, int T, int D, DropoutMask mask) {
        float scale = (float) (1.0 / Math.sqrt(D));
        int blocks = (T + NR - 1) / NR;
        // an item is NR queries of one head: about NR·T·D multiply-adds on average
        int grain = (int) Math.max(1, 65536 / Math.max(1L, (long) NR * T * D));
        Parallel.forRange(B * H * blocks, grain, (s0, s1) -> {
            Work wk = WORK.get();
            wk.ensure(T, D);
            int loaded = -1;
            for (int item = s0; item < s1; item++) {
                int bh = item / blocks, qb = item % blocks, b = bh / H, h = bh % H;
                if (bh != loaded) {
                    packKeys(k, lk.at(b, h, 0), lk.sT(), T, D, wk.kpan);
                    packValues(v, lv.at(b, h, 0), lv.sT(), T, D, wk.vpan);
                    loaded = bh;
                }
                int q0 = qb * NR, rows = Math.min(NR, T - q0);
                GemmPack.packB(q, lq.at(b, h, 0), 1, lq.sT(), q0, rows, 0, D, wk.qt, 0);
                block(simd, wk, bh, q0, T, D, scale, mask);
                store(wk, out, lo, b, h, q0, rows, D);
                for (int i = 0; i < rows; i++) lse[bh * T + q0 + i] = wk.m[i] + (float) Math.log(wk.l[i]);
            }
        });
    }

    /** K of one head as 8-key panels {@code (D, 8)}: key j, dimension d at {@code (j/8)·8D + d·8 + j%8}. */
    static void packKeys(float[] k, int off, int sT, int T, int D, float[] kpan) {
        GemmPack.packA(k, off, sT, 1, 0, T, 0, D, kpan, 0);
    }

    /**
     * V of one head as 8-dimension panels {@code (T, 8)}: key j, dimension d at {@code (d/8)·8T +
     * j·8 + d%8}, the dimensions past D of the last panel zero (they multiply into padding rows of
     * oᵀ). These are the panels of Vᵀ as the A operand of a TN product.
     */
    static void packValues(float[] v, int off, int sT, int T, int D, float[] vpan) {
        GemmPack.packA(v, off, 1, sT, 0, D, 0, T, vpan, 0);
    }

    /** oᵀ, m and l of the NR queries from q0 against every key they see. */
    private static void block(boolean simd, Work wk, int bh, int q0, int T, int D, float scale, DropoutMask mask) {
        int dp = roundUp(D, MR), kend = Math.min(T, q0 + NR);
        float[] st = wk.st, ot = wk.ot, m = wk.m, l = wk.l;
        Arrays.fill(ot, 0, dp * NR, 0f);
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        Arrays.fill(l, 0f);
        for (int j0 = 0; j0 < kend; j0 += BK) {
            int kc = Math.min(BK, kend - j0);
            // sᵀ (kc keys, NR queries) = K panels · Qᵀ
            for (int jj = 0; jj < kc; jj += MR) {
                if (simd) GemmKernel.tile(wk.kpan, (j0 + jj) * D, wk.qt, 0, D, st, jj * NR, NR, true);
                else GemmKernel.tileScalar(wk.kpan, (j0 + jj) * D, wk.qt, 0, D, st, jj * NR, NR, true);
            }
            if (simd) softmaxStepSimd(wk, j0, kc, q0, scale);
            else softmaxStepScalar(wk, j0, kc, q0, scale);
            if (mask != null) dropout(simd, wk, mask, bh, T, j0, kc, q0);
            // oᵀ (dp, NR) += Vᵀ panels (dp, kc) · weightsᵀ (kc, NR)
            for (int pn = 0; pn < dp; pn += MR) {
                if (simd) GemmKernel.tile(wk.vpan, pn * T + j0 * MR, st, 0, kc, ot, pn * NR, NR, false);
                else GemmKernel.tileScalar(wk.vpan, pn * T + j0 * MR, st, 0, kc, ot, pn * NR, NR, false);
            }
        }
    }

    /**
     * The online softmax over one key block, query by lane: scale and mask the scores, take the
     * block maximum, rescale oᵀ and l when the maximum grew, and turn the scores into e^(s − max).
     */
    private static void softmaxStepSimd(Work wk, int j0, int kc, int q0, float scale) {
        float[] st = wk.st, m = wk.m, l = wk.l;
        FloatVector sv = FloatVector.broadcast(F, scale);
        for (int v = 0; v < NR; v += L) {
            FloatVector mb = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int r = 0; r < kc; r++) {
                int o = r * NR + v, past = j0 + r - q0; // lanes (queries) below `past` are before key j0 + r
                FloatVector x = FloatVector.fromArray(F, st, o).mul(sv);
                if (past > v) x = x.add(FloatVector.fromArray(F, FUTURE, Math.min(past, NR) * NR + v));
                x.intoArray(st, o);
                mb = mb.max(x);
            }
            FloatVector mOld = FloatVector.fromArray(F, m, v), mNew = mOld.max(mb);
            FloatVector corr = VecMath.exp(mOld.sub(mNew)); // 0 on the first block (m = -inf), exactly 1 where the max held
            FloatVector sum = FloatVector.zero(F);
            for (int r = 0; r < kc; r++) {
                int o = r * NR + v;
                FloatVector e = VecMath.exp(FloatVector.fromArray(F, st, o).sub(mNew));
                e.intoArray(st, o);
                sum = sum.add(e);
            }
            FloatVector.fromArray(F, l, v).mul(corr).add(sum).intoArray(l, v);
            mNew.intoArray(m, v);
            VectorMask<Float> grew = corr.compare(jdk.incubator.vector.VectorOperators.NE, 1f);
            if (grew.anyTrue()) {
                float[] ot = wk.ot;
                for (int o = v, end = wk.dp * NR; o < end; o += NR) {
                    FloatVector.fromArray(F, ot, o).mul(corr).intoArray(ot, o);
                }
            }
        }
    }

    /** Scalar twin of {@link #softmaxStepSimd}: the same steps per query ({@code Math.exp} for the vector exp). */
    private static void softmaxStepScalar(Work wk, int j0, int kc, int q0, float scale) {
        float[] st = wk.st, m = wk.m, l = wk.l;
        for (int i = 0; i < NR; i++) {
            float mb = Float.NEGATIVE_INFINITY;
            for (int r = 0; r < kc; r++) {
                int o = r * NR + i;
                float x = j0 + r > q0 + i ? Float.NEGATIVE_INFINITY : st[o] * scale;
                st[o] = x;
                mb = Math.max(mb, x);
            }
            float mNew = Math.max(m[i], mb);
            float corr = (float) Math.exp(m[i] - mNew);
            float sum = 0f;
            for (int r = 0; r < kc; r++) {
                int o = r * NR + i;
                float e = (float) Math.exp(st[o] - mNew);
                st[o] = e;
                sum += e;
            }
            l[i] = l[i] * corr + sum;
            m[i] = mNew;
            if (corr != 1f) for (int o = i, end = wk.dp * NR; o < end; o += NR) wk.ot[o] *= corr;
        }
    }

    /** Dropped weights become 0, kept ones are scaled; weight (i, j) is mask element ((b·H + h)·T + i)·T + j. */
    private static void dropout(boolean simd, Work wk, DropoutMask mask, int bh, int T, int j0, int kc, int q0) {
        float ds = mask.scale();
        float[] st = wk.st;
        for (int i = 0; i < NR && q0 + i < T; i++) {
            int lim = Math.min(kc, q0 + i - j0 + 1); // keys of this block in the past of query q0 + i
            if (lim <= 0) continue;
            mask.keep(simd, ((long) bh * T + q0 + i) * T + j0, lim, wk.keep, 0);
            for (int r = 0; r < lim; r++) {
                int o = r * NR + i;
                st[o] = wk.keep[r] ? st[o] * ds : 0f;
            }
        }
    }

    /** out rows q0.. = oᵀ columns / l, transposed back. */
    private static void store(Work wk, float[] out, Layout lo, int b, int h, int q0, int rows, int D) {
        float[] ot = wk.ot, l = wk.l;
        for (int i = 0; i < rows; i++) {
            int oo = lo.at(b, h, q0 + i);
            float inv = 1f / l[i];
            for (int d = 0; d < D; d++) out[oo + d] = ot[d * NR + i] * inv;
        }
    }
}
