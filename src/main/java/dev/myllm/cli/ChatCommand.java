package dev.myllm.cli;

import dev.myllm.finetune.Conversation;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.Responder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code myllm chat}: talk to an instruction-tuned model, or answer one instruction and exit. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Talk to an instruction-tuned model in its prompt format; answers stream and end at <|endoftext|>.",
                "Type /reset to forget the conversation, /exit (or end the input) to leave.",
                "With --instruction it answers once and exits."})
final class ChatCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--instruction", paramLabel = "TEXT", description = "Answer this one instruction and exit.")
    String instruction;

    @Option(names = "--input", paramLabel = "TEXT", description = "The instruction's input (with --instruction).")
    String input;

    @Mixin
    PromptFormatOption format;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--max-new-tokens", defaultValue = "256", paramLabel = "N", description = "At most N tokens per answer, default ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S", description = "Seed of a preset's random weights, default ${DEFAULT-VALUE}.")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        if (input != null && instruction == null) throw new CliException("--input needs --instruction");
        if (instruction != null && instruction.isBlank()) throw new CliException("--instruction is empty: give the task to answer");
        if (maxNewTokens < 1) throw new CliException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        Responder r = InstructModels.responder(model, weights, tokenizer, format, maxNewTokens, seed);
        PrintWriter out = spec.commandLine().getOut();
        if (instruction != null) {
            try {
                answer(r, new InstructionExample(instruction, input, "", null, null, List.of()), out);
            } catch (IllegalArgumentException e) {
                throw new CliException("--instruction: " + e.getMessage());
            }
            return;
        }
        conversation(r, out);
    }

    private void conversation(Responder r, PrintWriter out) {
        PrintWriter err = spec.commandLine().getErr();
        Conversation chat = new Conversation(r);
        out.println("Chatting with " + model.label() + " (" + r.format().id() + " format). /reset forgets, /exit leaves.");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (true) {
            out.print("> ");
            out.flush();
            String line;
            try {
                line = in.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (line == null || line.strip().equals("/exit")) break;
            String text = line.strip();
            if (text.isEmpty()) continue;
            if (text.equals("/reset")) {
                chat.reset();
                out.println("(conversation forgotten)");
                continue;
            }
            if (text.matches("/[A-Za-z]+")) { // a mistyped command would otherwise go to the model as a message
                err.println("myllm: unknown command " + text + ": /reset forgets, /exit leaves");
                err.flush();
                continue;
            }
            try {
                chat.say(text, piece -> print(out, piece));
                out.println();
                out.flush();
            } catch (IllegalArgumentException e) {
                err.println("myllm: " + e.getMessage());
                err.flush();
            }
        }
        out.println();
        out.flush();
    }

    private static void answer(Responder r, InstructionExample e, PrintWriter out) {
        r.stream(e, piece -> print(out, piece));
        out.println();
        out.flush();
    }

    private static void print(PrintWriter out, String piece) {
        out.print(piece);
        out.flush();
    }
}
