package dev.myllm.book;

import dev.myllm.data.Batch;
import dev.myllm.data.Splits;
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
import dev.myllm.train.LanguageModel;
import dev.myllm.train.Losses;
import dev.myllm.train.AdamW;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.LrSchedule;
import dev.myllm.train.TokenWindows;
import dev.myllm.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Chapter 5, pretraining on unlabeled data: the untrained model's text and losses, the data split,
 * and decoding with temperature and top-k on the chapter's toy vocabulary.
 */
final class Ch05 {
    private Ch05() {
    }

    static Report run() {
        Report r = new Report("ch05", "Pretraining on unlabeled data");
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        // 5.1.1: GPT_CONFIG_124M with context_length 256; torch.manual_seed(123)
        GPTModel model = new GPTModel(GPTConfig.preset("book-124m-256"), new TorchGenerator(123));
        model.eval();
        LanguageModel lm = LanguageModel.of(model);
        try (GradMode g = GradMode.noGrad()) {
            int[] start = tokenizer.encode("Every effort moves you", Specials.ERROR);
            int[] ids = new Generator(model, null).generate(start, GenerationConfig.greedy(10)).tokens();
            r.same("untrained model's text", "Every effort moves you" + tokenizer.decode(ids), "Every effort moves you rentingetic wasnم refres RexMeCHicular stren");

            // 5.1.2: the loss of two toy sequences
            Batch toy = new Batch(new int[]{16833, 3626, 6100, 40, 1107, 588}, new int[]{3626, 6100, 345, 1107, 588, 11311}, 2, 3);
            double loss = Losses.batchLoss(lm, toy).item();
            r.number("toy batch loss", loss, "10.7940");
            r.same("perplexity", String.format(Locale.ROOT, "%,.1f", Math.exp(loss)), "48,725.8");

            // 5.1.3: the book's 90/10 split by characters, loaders of 2 × 256 with stride 256
            String text = Tokenizers.verdictText();
            Splits.Pair<String> split = Splits.text(text, 0.90);
            r.same("split index (characters)", String.format("%,d", split.train().length()), "18,431");
            int[] trainIds = tokenizer.encode(split.train(), Specials.ALLOW), valIds = tokenizer.encode(split.validation(), Specials.ALLOW);
            TokenWindows trainLoader = new TokenWindows(trainIds, 2, 256, 256, true, 0);
            TokenWindows valLoader = new TokenWindows(valIds, 2, 256, 256, false, 0, false);
            r.same("training tokens", String.format("%,d", trainIds.length), "4,612");
            r.same("validation tokens", String.format("%,d", valIds.length), "534");
            r.same("training batches / validation batches", trainLoader.batchesPerEpoch() + " / " + valLoader.batchesPerEpoch(), "9 / 1");
            // all 9 training batches are full and equal in size, so their mean loss does not depend on the shuffle
            r.number("untrained training loss", Losses.loaderLoss(lm, trainLoader.first(0), 0), "10.9876");
            r.number("untrained validation loss", Losses.loaderLoss(lm, valLoader.first(0), 0), "10.9811");
        }
        r.note("training, step 80 (train / val)", "run: myllm book ch05 --train",
                "0.541 / 6.393", "90 training steps; that run gives 0.541 / 6.393 at step 80 (README)");

        // 5.3: decoding strategies on the toy vocabulary
        String[] vocab = {"closer", "every", "effort", "forward", "inches", "moves", "pizza", "toward", "you"};
        float[] nextTokenLogits = {4.51f, 0.89f, -1.90f, 6.75f, 1.63f, -1.62f, -1.89f, 6.28f, 1.79f};
        Tensor probas = Tensor.vector(nextTokenLogits).softmax();
        r.same("greedy next token", vocab[argmax(probas.data())], "forward");
        TorchGenerator torch = new TorchGenerator(123);
        r.same("1,000 samples at temperature 1", counts(torch, scaled(nextTokenLogits, 1f)), "73/0/0/582/2/0/0/343/0");
        torch.manualSeed(123);
        r.same("1,000 samples at temperature 0.1", counts(torch, scaled(nextTokenLogits, 0.1f)), "0/0/0/985/0/0/0/15/0");
        r.number("P(\"pizza\") at temperature 5", scaled(nextTokenLogits, 5f)[6], "0.0430");
        Integer[] order = {0, 1, 2, 3, 4, 5, 6, 7, 8};
        java.util.Arrays.sort(order, (i, j) -> Float.compare(nextTokenLogits[j], nextTokenLogits[i]));
        r.ints("top-3 positions", new int[]{order[0], order[1], order[2]}, "[3, 7, 0]");
        r.numbers("top-3 logits", new float[]{nextTokenLogits[order[0]], nextTokenLogits[order[1]], nextTokenLogits[order[2]]}, "[6.75, 6.28, 4.51]");
        return r;
    }

    /**
     * 5.2: {@code train_model_simple} with the chapter's settings (10 epochs, batch 2, AdamW 4e-4 with
     * weight decay 0.1, evaluation every 5 steps on 5 batches), the weights, batch orders and dropout
     * masks drawn from one {@code torch.manual_seed(123)} generator as the book's CPU run draws them.
     * At most {@code maxSteps} steps; the model and a checkpoint go to {@code runDir}.
     */
    static Report train(GPTConfig cfg, long maxSteps, Path runDir, Trainer.Listener progress) {
        Report r = new Report("ch05 --train", "Pretraining on unlabeled data: training the model");
        Tokenizer tokenizer = Tokenizers.load("gpt2");
        Splits.Pair<String> split = Splits.text(Tokenizers.verdictText(), 0.90);
        int ctx = cfg.contextLength();
        TorchGenerator torch = new TorchGenerator(123); // torch.manual_seed(123)
        TokenWindows trainLoader = new TokenWindows(tokenizer.encode(split.train(), Specials.ALLOW), 2, ctx, ctx, true, 123).torchOrder(torch);
        TokenWindows valLoader = new TokenWindows(tokenizer.encode(split.validation(), Specials.ALLOW), 2, ctx, ctx, false, 0, false).torchOrder(torch);
        GPTModel model = new GPTModel(cfg, torch);
        AdamW optimizer = new AdamW(model.namedParameters(), new AdamW.Options(0.9, 0.999, 1e-8, 0.1, AdamW.Decay.ALL));
        int numEpochs = 10, evalFreq = 5, evalIter = 5;
        long steps = Math.min(maxSteps, (long) numEpochs * trainLoader.batchesPerEpoch());
        List<double[]> evals = new ArrayList<>(); // the book's step, train loss, validation loss
        new Trainer(model, LanguageModel.of(model), new GptModelStore(model), optimizer, new LrSchedule.Constant(4e-4), trainLoader,
                new Trainer.Options(steps, 1, 0, evalFreq, evalIter, -1, 0, 1), runDir)
                .evaluation(() -> valLoader.iterate(evalIter), () -> trainLoader.iterate(evalIter)).evalRule(Trainer.EvalRule.BOOK)
                .listener(new Trainer.Listener() {
                    @Override
                    public void onStep(Trainer.StepReport s) {
                        if (!Double.isNaN(s.valLoss())) evals.add(new double[]{s.step() - 1, s.trainEvalLoss(), s.valLoss()});
                        progress.onStep(s);
                    }
                })
                .run();
        for (double[] e : evals) {
            String ours = String.format(Locale.ROOT, "%.3f / %.3f", e[1], e[2]);
            String what = String.format("step %d (train / val)", (int) e[0]);
            if (e[0] == 0) sameOrNote(r, what, ours, "9.781 / 9.933");
            else if (e[0] == 80) sameOrNote(r, what, ours, "0.541 / 6.393");
            else r.note(what, ours, "-", "not printed");
        }
        r.note("notebook's run, step 0 → 85", "(above)", "9.817 / 9.924 → 0.569 / 6.373", "the notebook's newer run on Apple's GPU");
        for (double[] e : evals) {
            if (e[0] != 85) continue; // the band for the CPU run: train below 1.5, validation 5.8–6.9
            r.same("train below 1.5 and val within 5.8–6.9 at step 85", e[1] < 1.5 && e[2] >= 5.8 && e[2] <= 6.9 ? "yes" : "no", "yes");
        }
        model.eval();
        try (GradMode g = GradMode.noGrad()) {
            int[] ids = new Generator(model, null).generate(tokenizer.encode("Every effort moves you", Specials.ERROR), GenerationConfig.greedy(25)).tokens();
            sameOrNote(r, "text after training (25 greedy tokens)", "Every effort moves you" + tokenizer.decode(ids),
                    "Every effort moves you?\"\n\n\"Yes--quite insensible to the irony. She wanted him vindicated--and by me!\"");
        }
        r.note("trained model", runDir.resolve("model").toString(), "-", "try: myllm generate --model " + runDir.resolve("model"));
        return r;
    }

    /** Marked the same when equal; otherwise a note, since the book's run may have used another device. */
    private static void sameOrNote(Report r, String what, String ours, String book) {
        if (ours.equals(book)) r.same(what, ours, book);
        else r.note(what, ours, book, "the book's training run");
    }

    /** softmax(logits / T) in float, as torch computes it. */
    static float[] scaled(float[] logits, float temperature) {
        float[] s = new float[logits.length];
        for (int i = 0; i < s.length; i++) s[i] = logits[i] / temperature;
        return Tensor.vector(s).softmax().data();
    }

    static String counts(TorchGenerator torch, float[] probas) {
        int[] c = new int[probas.length];
        for (int i = 0; i < 1000; i++) c[torch.multinomial(probas, 1, false)[0]]++;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < c.length; i++) sb.append(i == 0 ? "" : "/").append(c[i]);
        return sb.toString();
    }

    static int argmax(float[] x) {
        return dev.myllm.tensor.ArgMax.of(x, 0, x.length);
    }
}
