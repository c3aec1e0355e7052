package dev.myllm.cli;

import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.model.GPTModel;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code myllm generate}: continues a prompt, streaming the text as it is produced. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a model: greedy by default, or sampled with --temperature, --top-k, --top-p.")
final class GenerateCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    WeightDtype weights;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT",
            description = "The text to continue; for an instruction-tuned model (saved with a prompt format) the instruction, answered as chat does.")
    String prompt;

    @Option(names = "--raw", description = "Send --prompt to an instruction-tuned model as it is, without its prompt format.")
    boolean raw;

    @Option(names = "--max-new-tokens", defaultValue = "50", paramLabel = "N", description = "At most N new tokens, default ${DEFAULT-VALUE}.")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 (default): greedy; above 0: sample, higher is more random.")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Sample among the K most likely tokens (0, default: all).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "Sample among the most likely tokens of total probability P (1, default: all).")
    float topP;

    @Option(names = "--seed", defaultValue = ModelOptions.DEFAULT_SEED, paramLabel = "S", description = "Seed of the sampling and of a preset's random weights, default ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop once the text contains TEXT (repeatable); <|endoftext|> always stops.")
    List<String> stops = new ArrayList<>();

    @Option(names = "--no-kv-cache", description = "Run the whole sequence for every token (slow; for comparison).")
    boolean noCache;

    @Option(names = "--ids", description = "Print the generated token ids instead of the text.")
    boolean ids;

    @Mixin
    TokenizerOption tokenizer;

    @Option(names = "--stats", description = "Print timing (tokens/s) to standard error at the end.")
    boolean stats;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        GenerationConfig config;
        try {
            config = new GenerationConfig(maxNewTokens, temperature, topK, topP, seed, -1, stops, !noCache);
        } catch (IllegalArgumentException e) {
            throw new CliException(optionNames(e.getMessage()));
        }
        Tokenizer tok = tokenizer.load(model);
        GPTModel m = weights.build(model, seed);
        checkVocab(tok, m);
        PromptFormat format = raw ? null : model.savedFormat();
        // an instruction-tuned model answers --prompt as an instruction: its format's prompt and response prefix, then the answer
        String text = format == null ? prompt
                : format.prompt(new InstructionExample(prompt, "", "", null, null, List.of())) + format.responsePrefix();
        int[] promptIds = tok.encode(text, format == null ? Specials.ALLOW : Specials.TEXT);
        if (promptIds.length == 0) throw new CliException("--prompt is empty: give some text to continue");
        if (format != null && promptIds.length >= m.config().contextLength()) {
            throw new CliException("--prompt: the formatted prompt is " + promptIds.length + " tokens but the model's context is "
                    + m.config().contextLength() + " tokens");
        }
        int eos = tok.eotId() >= 0 && tok.eotId() < m.config().vocabSize() ? tok.eotId() : -1;
        PrintWriter out = spec.commandLine().getOut();
        Generator gen = new Generator(m, TokenDecoder.of(tok));
        Generator.Result r;
        if (ids) {
            r = gen.generate(promptIds, config.withEos(eos));
            StringJoiner j = new StringJoiner(" ");
            for (int id : r.tokens()) j.add(Integer.toString(id));
            out.println(j);
        } else {
            if (format == null) out.print(prompt); // a continuation reads on from the prompt; an answer stands alone
            out.flush();
            r = gen.generate(promptIds, config.withEos(eos), piece -> {
                out.print(piece);
                out.flush();
            });
            out.println();
        }
        out.flush();
        if (stats) {
            double decodeS = r.decodeNanos() / 1e9;
            spec.commandLine().getErr().printf("prompt %d tokens, %d new in %.2f s (first token %.2f s, then %.1f tokens/s), stopped: %s%n",
                    r.promptTokens(), r.tokens().length, (r.prefillNanos() + r.decodeNanos()) / 1e9, r.prefillNanos() / 1e9,
                    r.tokens().length > 1 ? (r.tokens().length - 1) / decodeS : 0.0, r.stopReason().name().toLowerCase());
        }
    }

    /** A model must have a row for every id the tokenizer makes (it may have more, e.g. padded to 50,304). */
    static void checkVocab(Tokenizer tok, GPTModel m) {
        if (tok.vocabSize() > m.config().vocabSize()) {
            throw new CliException("tokenizer " + tok.name() + " has " + tok.vocabSize() + " ids but the model's vocabulary is "
                    + m.config().vocabSize());
        }
    }

    /** GenerationConfig's message with the option a user typed: "maxNewTokens must ..." is --max-new-tokens's. */
    static String optionNames(String message) {
        String[][] names = {{"maxNewTokens ", "--max-new-tokens "}, {"temperature ", "--temperature "}, {"topK ", "--top-k "}, {"topP ", "--top-p "}};
        for (String[] n : names) if (message.startsWith(n[0])) return n[1] + message.substring(n[0].length());
        return message;
    }
}
