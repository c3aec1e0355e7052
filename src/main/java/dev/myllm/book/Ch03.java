package dev.myllm.book;

import dev.myllm.tensor.Ops;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * Chapter 3, coding attention mechanisms: the scores, weights and context vectors of "Your journey
 * starts with one step", then the seed-dependent trainable weights, dropout pattern and
 * multi-head attention output, drawn as {@code torch.manual_seed(123)} draws them.
 */
final class Ch03 {
    private Ch03() {
    }

    static Report run() {
        Report r = new Report("ch03", "Coding attention mechanisms");
        Tensor inputs = Tensor.of(new float[]{
                0.43f, 0.15f, 0.89f,  // Your     (x^1)
                0.55f, 0.87f, 0.66f,  // journey  (x^2)
                0.57f, 0.85f, 0.64f,  // starts   (x^3)
                0.22f, 0.58f, 0.33f,  // with     (x^4)
                0.77f, 0.25f, 0.10f,  // one      (x^5)
                0.05f, 0.80f, 0.55f}, // step     (x^6)
                6, 3);

        // 3.3.1: attention for the second input as the query
        Tensor query = inputs.narrow(0, 1, 1).reshape(3);
        Tensor attnScores2 = inputs.matmul(query);
        r.numbers("scores for x^2", attnScores2.data(), "[0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865]");
        r.numbers("sum-normalised", attnScores2.scale(1f / attnScores2.sum().item()).data(), "[0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656]");
        Tensor attnWeights2 = attnScores2.softmax();
        r.numbers("softmax", attnWeights2.data(), "[0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]");
        r.numbers("context vector z^2", attnWeights2.reshape(1, 6).matmul(inputs).data(), "[0.4419, 0.6515, 0.5683]");

        // 3.3.2: all of them at once
        Tensor attnScores = inputs.matmul(inputs.transpose(0, 1));
        r.numbers("score matrix, row 1", attnScores.narrow(0, 0, 1).data(), "[0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310]");
        Tensor allContext = attnScores.softmax().matmul(inputs);
        r.numbers("context vectors, row 1", allContext.narrow(0, 0, 1).data(), "[0.4421, 0.5931, 0.5790]");
        r.numbers("context vectors, row 6", allContext.narrow(0, 5, 1).data(), "[0.4177, 0.6503, 0.5645]");

        // 3.4.1: trainable weights, torch.manual_seed(123); W = torch.rand(3, 2) three times
        TorchGenerator torch = new TorchGenerator(123);
        Tensor wQuery = Tensor.of(torch.rand(6), 3, 2), wKey = Tensor.of(torch.rand(6), 3, 2), wValue = Tensor.of(torch.rand(6), 3, 2);
        Tensor query2 = query.reshape(1, 3).matmul(wQuery);
        r.numbers("query_2", query2.data(), "[0.4306, 1.4551]");
        Tensor keys = inputs.matmul(wKey), values = inputs.matmul(wValue);
        r.number("attention score ω22", query2.matmul(keys.narrow(0, 1, 1).transpose(0, 1)).item(), "1.8524");
        Tensor scores2 = query2.matmul(keys.transpose(0, 1)).scale((float) (1 / Math.sqrt(2)));
        r.numbers("context_vec_2", scores2.softmax().matmul(values).data(), "[0.3061, 0.8210]");

        // 3.5.2: torch.manual_seed(123); Dropout(0.5) on a 6×6 matrix of ones
        torch.manualSeed(123);
        Tensor dropped = Ops.dropout(Tensor.ones(6, 6), dev.myllm.tensor.DropoutMask.torch(torch, 36, 0.5));
        StringBuilder row = new StringBuilder();
        for (int j = 0; j < 6; j++) row.append(j == 0 ? "" : " ").append((int) dropped.get(0, j));
        r.same("Dropout(0.5) on ones, row 1", row.toString(), "2 2 0 2 2 0");

        // 3.6.2: torch.manual_seed(123); MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)
        torch.manualSeed(123);
        Tensor wq = linear(torch, 3, 2), wk = linear(torch, 3, 2), wv = linear(torch, 3, 2);
        Tensor wo = linear(torch, 2, 2), bo = bias(torch, 2, 2);
        Tensor q = inputs.matmul(wq.transpose(0, 1)), k = inputs.matmul(wk.transpose(0, 1)), v = inputs.matmul(wv.transpose(0, 1));
        List<Tensor> heads = new ArrayList<>();
        for (int h = 0; h < 2; h++) { // head_dim 1: each head is one column
            Tensor s = q.narrow(1, h, 1).matmul(k.narrow(1, h, 1).transpose(0, 1)).maskedFillCausal(Float.NEGATIVE_INFINITY);
            heads.add(s.softmax().matmul(v.narrow(1, h, 1)));
        }
        Tensor context = Tensor.concat(heads, 1).matmul(wo.transpose(0, 1)).add(bo);
        r.numbers("MultiHeadAttention output, row 1", context.narrow(0, 0, 1).data(), "[0.3190, 0.4858]");
        return r;
    }

    /** An {@code nn.Linear(in, out, bias=False)} weight {@code (out, in)} as PyTorch initialises it. */
    static Tensor linear(TorchGenerator g, int in, int out) {
        float[] w = new float[out * in];
        g.uniform(w, 0, w.length, -TorchGenerator.linearWeightBound(in), TorchGenerator.linearWeightBound(in));
        return Tensor.of(w, out, in);
    }

    /** The bias of an {@code nn.Linear(in, out)}, drawn after its weight. */
    static Tensor bias(TorchGenerator g, int in, int out) {
        float[] b = new float[out];
        g.uniform(b, 0, out, -TorchGenerator.linearBiasBound(in), TorchGenerator.linearBiasBound(in));
        return Tensor.of(b, out);
    }
}
