import dev.myllm.Myllm;
import dev.myllm.TextStream;
import dev.myllm.generate.GenerationConfig;

import java.nio.file.Path;

/**
 * Generates text from a model directory: {@code GenerateText MODEL_DIR PROMPT [TOKENS]}.
 *
 * <p>Run it without building anything else: {@code java --add-modules jdk.incubator.vector
 * -cp "target/myllm.jar:target/lib/*" examples/GenerateText.java runs/demo/model "Mr. Darcy"}.
 */
public class GenerateText {
    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: GenerateText MODEL_DIR PROMPT [TOKENS]");
            return;
        }
        Myllm llm = Myllm.load(Path.of(args[0]));          // config.json + model.safetensors (+ its tokenizer)
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 40;

        // 1. Greedy, printed piece by piece as it is generated (a callback).
        System.out.print(args[1]);
        llm.generate(args[1], GenerationConfig.greedy(tokens), piece -> {
            System.out.print(piece);
            System.out.flush();
        });
        System.out.println();

        // 2. Sampled (temperature 0.8, top-k 40, seed 42), read as an iterator.
        GenerationConfig sampled = GenerationConfig.greedy(tokens).withSampling(0.8f, 40, 1f, 42);
        System.out.print(args[1]);
        try (TextStream stream = llm.stream(args[1], sampled)) {
            while (stream.hasNext()) System.out.print(stream.next());
        }
        System.out.println();

        // 3. How surprised the model is by the prompt.
        Myllm.Score score = llm.score(args[1] + " and");
        System.out.printf("perplexity of the prompt: %.2f over %d tokens%n", score.perplexity(), score.tokens());
    }
}
