package dev.myllm.tensor;

import static dev.myllm.tensor.GradCheck.check;
import static dev.myllm.tensor.GradCheck.param;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A finite-difference gradient check for every differentiable op. */
class GradientCheckTest {

    @Test
    void elementwiseWithBroadcasting() {
        check("add", t -> t[0].add(t[1]), param(1, 2, 3, 4), param(2, 4));
        check("sub", t -> t[0].sub(t[1]), param(3, 2, 1, 4), param(4, 3, 4));
        check("mul", t -> t[0].mul(t[1]), param(5, 3, 4), param(6, 3, 1));
        Tensor denom = Tensor.uniform(new Rng(7), 0.5f, 2f, 4).requiresGrad(true);
        check("div", t -> t[0].div(t[1]), param(8, 2, 4), denom);
        check("addScalar", t -> t[0].add(0.5f), param(9, 5));
        check("scale", t -> t[0].scale(-1.5f), param(10, 5));
        check("neg", t -> t[0].neg(), param(11, 5));
    }

    @Test
    void unaryMath() {
        Tensor positive = Tensor.uniform(new Rng(12), 0.5f, 2f, 7).requiresGrad(true);
        check("exp", t -> t[0].exp(), param(13, 7));
        check("log", t -> t[0].log(), positive);
        check("tanh", t -> t[0].tanh(), param(14, 7));
        check("sqrt", t -> t[0].sqrt(), positive);
        check("pow", t -> t[0].pow(3f), param(15, 7));
        check("sigmoid", t -> t[0].sigmoid(), param(16, 7));
    }

    @Test
    void reductions() {
        check("sum", t -> t[0].sum(), param(17, 3, 5));
        check("mean", t -> t[0].mean(), param(18, 3, 5));
        check("max", t -> t[0].max(), param(19, 3, 5));
        check("sumLast", t -> t[0].sumLast(false), param(20, 2, 3, 5));
        check("meanLast keepDim", t -> t[0].meanLast(true), param(21, 3, 5));
        check("maxLast", t -> t[0].maxLast(true), param(22, 3, 5));
        check("softmax", t -> t[0].softmax(), param(23, 3, 17));
        check("logSoftmax", t -> t[0].logSoftmax(), param(24, 3, 17));
    }

    @Test
    void shapeOps() {
        check("reshape", t -> t[0].reshape(3, -1).mul(t[0].reshape(3, 4)), param(25, 2, 6));
        check("transpose", t -> t[0].transpose(1, 3), param(26, 2, 3, 2, 4));
        check("narrow", t -> t[0].narrow(1, 1, 2), param(27, 3, 4, 2));
        check("split", t -> t[0].split(2, -1).get(1), param(28, 3, 5));
        check("concat", t -> Tensor.concat(List.of(t[0], t[1]), 1), param(29, 2, 3), param(30, 2, 2));
        check("maskedFillCausal", t -> t[0].maskedFillCausal(0f), param(31, 2, 4, 4));
        Tensor mask = Tensor.of(new float[]{0, 1, 0, 1, 1, 0}, 2, 3);
        check("maskedFill", t -> t[0].maskedFill(mask, 7f), param(32, 2, 2, 3));
    }

    @Test
    void matmulInEveryRank() {
        check("matmul 2-D", t -> t[0].matmul(t[1]), param(33, 3, 5), param(34, 5, 4));
        check("matmul 3-D", t -> t[0].matmul(t[1]), param(35, 2, 3, 5), param(36, 2, 5, 4));
        check("matmul 4-D", t -> t[0].matmul(t[1]), param(37, 2, 2, 3, 5), param(38, 2, 2, 5, 3));
        check("matmul broadcast", t -> t[0].matmul(t[1]), param(39, 2, 3, 5), param(40, 5, 4));
        check("matmul vector", t -> t[0].matmul(t[1]), param(41, 3, 5), param(42, 5));
    }

    @Test
    void fusedOps() {
        check("linear", t -> Ops.linear(t[0], t[1], t[2]), param(43, 2, 3, 5), param(44, 4, 5), param(45, 4));
        check("linear no bias", t -> Ops.linear(t[0], t[1], null), param(46, 3, 7), param(47, 2, 7));
        check("layerNorm", t -> Ops.layerNorm(t[0], t[1], t[2], 1e-5f), param(48, 3, 8), param(49, 8), param(50, 8));
        check("gelu", t -> Ops.gelu(t[0]), param(51, 17));
        check("causalAttention", t -> Ops.causalAttention(t[0], t[1], t[2], 0f, 0),
                param(52, 2, 2, 5, 3), param(53, 2, 2, 5, 3), param(54, 2, 2, 5, 3));
        check("causalAttention with dropout", t -> Ops.causalAttention(t[0], t[1], t[2], 0.3f, 1234),
                param(55, 1, 2, 6, 4), param(56, 1, 2, 6, 4), param(57, 1, 2, 6, 4));
        check("causalSelfAttention", t -> Ops.causalSelfAttention(t[0], 2, 0f, 0), param(63, 2, 5, 12));
        check("causalSelfAttention with dropout", t -> Ops.causalSelfAttention(t[0], 3, 0.3f, 99), param(64, 1, 7, 9));
        int[] targets = {3, Ops.IGNORE_INDEX, 0, 6};
        check("crossEntropy", t -> Ops.crossEntropy(t[0], targets), param(58, 2, 2, 7));
        int[] ids = {2, 0, 2, 3};
        check("embedding", t -> Ops.embedding(t[0], ids, 2, 2), param(59, 4, 3));
        check("dropout", t -> Ops.dropout(t[0], 0.4f, 77), param(60, 3, 9));
    }
}
