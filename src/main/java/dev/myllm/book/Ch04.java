package dev.myllm.book;

import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.tensor.GradMode;
import dev.myllm.tensor.Tensor;
import dev.myllm.tensor.TorchGenerator;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.Locale;

/** Chapter 4, implementing a GPT model: the batch, the parameter counts and the untrained model's greedy continuation. */
final class Ch04 {
    private Ch04() {
    }

    static Report run() {
        Report r = new Report("ch04", "Implementing a GPT model from scratch");
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        int[] txt1 = tokenizer.encode("Every effort moves you", Specials.ERROR);
        int[] txt2 = tokenizer.encode("Every day holds a", Specials.ERROR);
        r.ints("\"Every effort moves you\"", txt1, "[6109, 3626, 6100, 345]");
        r.ints("\"Every day holds a\"", txt2, "[6109, 1110, 6622, 257]");

        // 4.6: GPT_CONFIG_124M, torch.manual_seed(123); model = GPTModel(GPT_CONFIG_124M)
        GPTConfig cfg = GPTConfig.preset("book-124m");
        long t0 = System.nanoTime();
        GPTModel model = new GPTModel(cfg, new TorchGenerator(123));
        double initSeconds = (System.nanoTime() - t0) / 1e9;
        model.eval();
        try (GradMode g = GradMode.noGrad()) {
            int[] batch = new int[8];
            System.arraycopy(txt1, 0, batch, 0, 4);
            System.arraycopy(txt2, 0, batch, 4, 4);
            Tensor out = model.forward(batch, 2, 4);
            r.same("output shape", Arrays.toString(out.shape()), "[2, 4, 50257]");
        }
        r.same("total parameters", String.format("%,d", model.parameterCount()), "163,009,536");
        r.same("parameters considering weight tying", String.format("%,d", cfg.parameterCountWithoutHead()), "124,412,160");
        r.same("feed-forward parameters per block", String.format("%,d", model.block(0).mlp().parameterCount()), "4,722,432");
        r.same("attention parameters per block", String.format("%,d", model.block(0).attn().parameterCount()), "2,360,064");
        r.same("total size of the model", String.format(Locale.ROOT, "%.2f MB", cfg.weightBytes() / (1024.0 * 1024.0)), "621.83 MB");
        // exercise 4.2: the larger shapes, with the book's options (no QKV bias, separate head)
        String[][] sizes = {{"gpt2-medium", "406,212,608"}, {"gpt2-large", "838,220,800"}, {"gpt2-xl", "1,637,792,000"}};
        for (String[] s : sizes) {
            GPTConfig c = GPTConfig.preset(s[0]).withQkvBias(false).withTiedHead(false);
            r.same(s[0] + " parameters", String.format("%,d", c.parameterCount()), s[1]);
        }

        // 4.7: generate_text_simple from "Hello, I am", 6 then 10 new tokens
        int[] encoded = tokenizer.encode("Hello, I am", Specials.ERROR);
        r.ints("encoded \"Hello, I am\"", encoded, "[15496, 11, 314, 716]");
        int[] out;
        try (GradMode g = GradMode.noGrad()) {
            out = new Generator(model, null).generate(encoded, GenerationConfig.greedy(10)).tokens();
        }
        r.ints("untrained model, 10 greedy tokens", out, "[27018, 24086, 47843, 30961, 42348, 7267, 49706, 43231, 47062, 34657]");
        r.same("decoded", tokenizer.decode(out), "Featureiman Byeswickattribute argue logger Normandy Compton analogous");
        r.note("initialising the 124M model (PyTorch's generator)", String.format(Locale.ROOT, "%.2f s", initSeconds), "-",
                "wall time on this machine, allocation included");
        return r;
    }
}
