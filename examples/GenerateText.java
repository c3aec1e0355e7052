import dev.myllm.Myllm;
import dev.myllm.TextStream;
import dev.myllm.generate.GenerationConfig;

import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Generates text from a model directory: {@code GenerateText MODEL_DIR PROMPT [TOKENS]}.
 *
 * <p>Run it without building anything else: {@code java --add-modules jdk.incubator.vector
 * -cp "target/myllm.jar:target/lib/*" examples/GenerateText.java runs/demo/model "Mr. Darcy"}.
 */
public class GenerateText {
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) usage();
        int tokens = 40;
        try {
            if (args.length > 2) tokens = Integer.parseInt(args[2]);
        } catch (NumberFormatException e) {
            usage();
        }
        try {
            run(Path.of(args[0]), args[1], tokens);
        } catch (IllegalArgumentException | UncheckedIOException e) { // the library's bad input and unreadable files: one line
            System.err.println("GenerateText: " + e.getMessage());
            System.exit(e instanceof IllegalArgumentException ? 2 : 1);
        }
    }

    static void usage() {
        System.err.println("usage: GenerateText MODEL_DIR PROMPT [TOKENS]");
        System.exit(2);
    }

    static void run(Path model, String prompt, int tokens) {
        Myllm llm = Myllm.load(model);                     // config.json + model.safetensors (+ its tokenizer)

        // 1. Greedy, printed piece by piece as it is generated (a callback).
        System.out.print(prompt);
        llm.generate(prompt, GenerationConfig.greedy(tokens), piece -> {
            System.out.print(piece);
            System.out.flush();
        });
        System.out.println();

        // 2. Sampled (temperature 0.8, top-k 40, seed 42), read as an iterator.
        GenerationConfig sampled = GenerationConfig.greedy(tokens).withSampling(0.8f, 40, 1f, 42);
        System.out.print(prompt);
        try (TextStream stream = llm.stream(prompt, sampled)) {
            while (stream.hasNext()) System.out.print(stream.next());
        }
        System.out.println();

        // 3. How surprised the model is by the prompt.
        Myllm.Score score = llm.score(prompt + " and");
        System.out.printf("perplexity of the prompt: %.2f over %d tokens%n", score.perplexity(), score.tokens());
    }
}
