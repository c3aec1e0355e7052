import dev.myllm.InstructOptions;
import dev.myllm.Myllm;
import dev.myllm.train.Trainer;

import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Instruction-tunes a GPT model (chapter 7) and asks it questions:
 * {@code FollowInstructions MODEL_DIR DATA OUT_DIR [EPOCHS [LR]]}, DATA being {@code instructions} (the book's
 * 1,100 records) or a JSON file of {@code instruction}, {@code input}, {@code output} records.
 *
 * <p>For example, the book's run: {@code ./myllm download gpt2-medium --out models/gpt2-medium}, then
 * {@code java --add-modules jdk.incubator.vector -cp "target/myllm.jar:target/lib/*" examples/FollowInstructions.java
 * models/gpt2-medium instructions runs/sft}.
 */
public class FollowInstructions {
    public static void main(String[] args) {
        if (args.length < 3 || args.length > 5) usage();
        int epochs = 2;
        double lr = 5e-5;
        try {
            if (args.length > 3) epochs = Integer.parseInt(args[3]);
            if (args.length > 4) lr = Double.parseDouble(args[4]);
        } catch (NumberFormatException e) {
            usage();
        }
        try {
            run(InstructOptions.of(Path.of(args[0]), args[1], Path.of(args[2])).withTraining(epochs, 8, lr));
        } catch (IllegalArgumentException | UncheckedIOException e) { // the library's bad input and unreadable files: one line
            System.err.println("FollowInstructions: " + e.getMessage());
            System.exit(e instanceof IllegalArgumentException ? 2 : 1);
        }
    }

    static void usage() {
        System.err.println("usage: FollowInstructions MODEL_DIR DATA OUT_DIR [EPOCHS [LR]]");
        System.exit(2);
    }

    static void run(InstructOptions options) {
        // Trains with the book's settings unless changed, and saves the model with its prompt format under OUT_DIR/model.
        double[] last = {Double.NaN};
        Myllm tuned = Myllm.finetuneInstructions(options, new Trainer.Listener() {
            @Override
            public void onStep(Trainer.StepReport r) {
                if (!Double.isNaN(r.valLoss())) last[0] = r.valLoss();
            }
        });
        System.out.printf("tuned in the %s format; last validation loss %.3f%n", tuned.promptFormat().orElseThrow().id(), last[0]);

        // The saved model answers in the format it was tuned with.
        Myllm loaded = Myllm.load(options.out().resolve("model"));
        for (String instruction : new String[]{"Rewrite the sentence using a simile.", "What is the capital of France?"}) {
            System.out.println(instruction + " -> " + loaded.respond(instruction, "", 40, null));
        }
    }
}
