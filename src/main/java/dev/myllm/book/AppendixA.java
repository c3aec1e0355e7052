package dev.myllm.book;

import dev.myllm.nn.Linear;
import dev.myllm.nn.Module;
import dev.myllm.tensor.Rng;
import dev.myllm.tensor.Tensor;

/** Appendix A, PyTorch in a nutshell: autograd on the logistic-regression example and the small network's parameter count. */
final class AppendixA {
    private AppendixA() {
    }

    /** The appendix's {@code NeuralNetwork(num_inputs, num_outputs)}: two hidden layers of 30 and 20 with ReLU. */
    static final class NeuralNetwork extends Module {
        NeuralNetwork(int numInputs, int numOutputs) {
            Rng rng = new Rng(123);
            child("0", new Linear(numInputs, 30, true, rng));
            child("2", new Linear(30, 20, true, rng));
            child("4", new Linear(20, numOutputs, true, rng));
        }
    }

    static Report run() {
        Report r = new Report("appendix-a", "Introduction to PyTorch");
        // A.4: y = 1, x1 = 1.1, w1 = 2.2, b = 0; z = x1·w1 + b; a = σ(z); loss = BCE(a, y)
        Tensor y = Tensor.vector(1f);
        Tensor x1 = Tensor.vector(1.1f);
        Tensor w1 = Tensor.vector(2.2f).requiresGrad(true);
        Tensor b = Tensor.vector(0f).requiresGrad(true);
        Tensor a = x1.mul(w1).add(b).sigmoid();
        Tensor loss = y.mul(a.log()).add(y.neg().add(1f).mul(a.neg().add(1f).log())).neg().mean();
        r.number("binary cross-entropy", loss.item(), "0.0852");
        loss.backward();
        r.number("dL/dw1", w1.grad().item(), "-0.0898");
        r.number("dL/db", b.grad().item(), "-0.0817");
        // A.5: a multilayer perceptron
        r.same("NeuralNetwork(50, 3) trainable parameters", String.format("%,d", new NeuralNetwork(50, 3).parameterCount()), "2,213");
        return r;
    }
}
