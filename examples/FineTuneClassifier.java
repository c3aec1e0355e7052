import dev.myllm.ClassifierOptions;
import dev.myllm.TextClassifier;
import dev.myllm.data.LabelledFiles;

import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Fine-tunes a GPT model into a text classifier on a labelled CSV ({@code label,text} columns) and uses it:
 * {@code FineTuneClassifier MODEL_DIR DATA.csv OUT_DIR [EPOCHS [LR]]}.
 *
 * <p>For example, chapter 6's spam filter: {@code ./myllm download gpt2 --out models/gpt2}, then
 * {@code java --add-modules jdk.incubator.vector -cp "target/myllm.jar:target/lib/*" examples/FineTuneClassifier.java
 * models/gpt2 sms.csv runs/spam}.
 */
public class FineTuneClassifier {
    public static void main(String[] args) {
        if (args.length < 3 || args.length > 5) usage();
        int epochs = 5;
        double lr = 5e-5;
        try {
            if (args.length > 3) epochs = Integer.parseInt(args[3]);
            if (args.length > 4) lr = Double.parseDouble(args[4]);
        } catch (NumberFormatException e) {
            usage();
        }
        try {
            run(ClassifierOptions.of(Path.of(args[0]), args[1], Path.of(args[2])).withTraining(epochs, 8, lr));
        } catch (IllegalArgumentException | UncheckedIOException e) { // the library's bad input and unreadable files: one line
            System.err.println("FineTuneClassifier: " + e.getMessage());
            System.exit(e instanceof IllegalArgumentException ? 2 : 1);
        }
    }

    static void usage() {
        System.err.println("usage: FineTuneClassifier MODEL_DIR DATA.csv OUT_DIR [EPOCHS [LR]]");
        System.exit(2);
    }

    static void run(ClassifierOptions options) {
        // Trains (the book's settings unless changed) and saves the classifier under OUT_DIR/model.
        TextClassifier classifier = TextClassifier.finetune(options, null);
        System.out.printf("labels %s; accuracy on %s: %.3f%n", classifier.labels(), options.data(),
                classifier.accuracy(LabelledFiles.read(Path.of(options.data()))));

        // A saved classifier loads back and gives the same answers.
        TextClassifier loaded = TextClassifier.load(options.out().resolve("model"));
        for (String text : new String[]{"You are a winner you have been specially selected to receive $1000 cash",
                "Hey, just wanted to check if we're still on for dinner tonight?"}) {
            TextClassifier.Prediction p = loaded.classify(text);
            System.out.printf("%s (%.3f): %s%n", p.label(), p.probabilities().get(p.label()), text);
        }
    }
}
