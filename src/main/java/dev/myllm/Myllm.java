package dev.myllm;

import dev.myllm.data.Batch;
import dev.myllm.finetune.Conversation;
import dev.myllm.finetune.InstructionExample;
import dev.myllm.finetune.PeftAdapter;
import dev.myllm.finetune.PromptFormat;
import dev.myllm.finetune.Responder;
import dev.myllm.finetune.SavedFormat;
import dev.myllm.generate.GenerationConfig;
import dev.myllm.generate.Generator;
import dev.myllm.generate.TokenDecoder;
import dev.myllm.io.ModelDirectory;
import dev.myllm.model.GPTConfig;
import dev.myllm.model.GPTModel;
import dev.myllm.model.PackedWeights;
import dev.myllm.server.OpenAiServer;
import dev.myllm.server.ServedModel;
import dev.myllm.server.ServerConfig;
import dev.myllm.tensor.Arena;
import dev.myllm.tensor.GradMode;
import dev.myllm.tokenizer.Specials;
import dev.myllm.tokenizer.Tokenizer;
import dev.myllm.tokenizer.Tokenizers;
import dev.myllm.train.Losses;
import dev.myllm.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The entry point for using myllm from Java: a GPT model with its tokenizer, to tokenize, generate, score, embed,
 * answer instructions in a tuned model's prompt format, and train ({@link TextClassifier} fine-tunes and runs classifiers).
 *
 * <pre>{@code
 * Myllm llm = Myllm.load(Path.of("runs/demo/model"));
 * llm.generate("Mr. Darcy", GenerationConfig.greedy(30), System.out::print);   // streamed
 * double ppl = llm.score("It is a truth universally acknowledged").perplexity();
 * }</pre>
 *
 * <p>Nothing here prints or reads a command line; errors are exceptions with a one-line message
 * ({@link IllegalArgumentException} for bad input, {@link java.io.UncheckedIOException} for files,
 * {@link NullPointerException} naming the argument for a null one; only {@code onText} and
 * {@code listener} may be null).
 * An instance is not thread-safe: generate from one thread at a time (or one instance per thread).
 */
public final class Myllm {
    /**
     * How well the model predicts a text: {@code tokens} ids, of which all but the first are predicted.
     *
     * @param tokens       the number of token ids in the text
     * @param crossEntropy the mean cross-entropy, nats per predicted token
     * @param perplexity   {@code exp(crossEntropy)}
     */
    public record Score(int tokens, double crossEntropy, double perplexity) {
    }

    private final GPTModel model;
    private final Tokenizer tokenizer;
    /** The prompt format of an instruction-tuned model (saved with it, or given), else null. */
    private final PromptFormat format;
    /** One generator for every call: it keeps its KV cache for the next call (safe from several threads). */
    private final Generator generator;
    /** Whether generations reuse the last prompt's prefill: only where the weights cannot change. */
    private final boolean reusePrompts;

    /** Package-private for {@link MyllmLoaders}; callers outside use the factories. */
    Myllm(GPTModel model, Tokenizer tokenizer, PromptFormat format) {
        given(model, "model");
        given(tokenizer, "tokenizer");
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer " + tokenizer.name() + " has " + tokenizer.vocabSize()
                    + " ids but the model's vocabulary is " + model.config().vocabSize());
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.format = format;
        // a model loaded for inference has no float32 matrices to train: its weights stay as they are, so a call
        // whose prompt starts as the last one's can go on from that call's prefill (the same bits)
        this.reusePrompts = !PackedWeights.hasFloatWeights(model);
        this.generator = new Generator(model, TokenDecoder.of(tokenizer), reusePrompts);
    }

    /**
     * Loads a model directory ({@code config.json} + {@code model.safetensors}), a GGUF file or an llm.c
     * checkpoint, with its tokenizer: the {@code myllm-tokenizer.json} a training run keeps beside the
     * model, else the {@code tokenizer.json} Hugging Face saves there, or the one a GGUF file carries, else
     * GPT-2's (a {@code tokenizer.json} myllm cannot represent is an {@link IllegalArgumentException}, not
     * replaced by GPT-2's); and the prompt format an instruction-tuned model was saved with ({@link #promptFormat}).
     *
     * @param model a model directory, GGUF file or llm.c checkpoint
     * @return the model and its tokenizer
     * @throws NullPointerException when {@code model} is null
     * @throws IllegalArgumentException when nothing is at {@code model}, it is no model (a classifier, another file), or its files are malformed, naming the file
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static Myllm load(Path model) {
        given(model, "model");
        return load(model, MyllmLoaders.tokenizerFor(model));
    }

    /**
     * Loads a model directory or GPT-2 GGUF file for inference only, as {@code myllm generate --dtype TYPE}
     * and {@code myllm serve} load it: every matrix kept in {@code dtype} ({@code f32} as float32 panels,
     * {@code f16}, {@code bf16}, {@code q8_0}, {@code q4_0}, {@code q4_1}) and read from the file a few rows at a
     * time, never as a float32 model (gpt2-small in f32 peaks at about 0.64 GB instead of twice its weights),
     * with its tokenizer and prompt format as {@link #load(Path)} finds them. Generating, scoring, embedding,
     * answering and serving work as with a float32 model (float32 panels sum in another order than rows:
     * the same text, logits equal to float precision); {@link #save} does not, as the float32 weights are gone.
     * As the weights cannot change, a call whose prompt starts as the last call's did (a growing conversation)
     * prefills only the rest, with the same results to the bit.
     *
     * @param model a model directory or GGUF file
     * @param dtype the type the matrices are kept in
     * @return the model, ready to decode
     * @throws NullPointerException when {@code model} or {@code dtype} is null
     * @throws IllegalArgumentException when {@code dtype} is not one of those types, or as {@link #load(Path)} for {@code model}
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static Myllm loadForInference(Path model, String dtype) {
        return MyllmLoaders.packed(model, dtype);
    }

    /**
     * Loads a model as {@link #load(Path)} does with a PEFT LoRA adapter ({@code adapter_config.json} +
     * {@code adapter_model.safetensors}, from PEFT in Python or a LoRA fine-tuning run's {@code adapter/})
     * merged into its float32 weights, as {@code --model DIR --adapter DIR} loads them ({@link PeftAdapter}).
     * The prompt format is the one saved in the adapter's directory (a fine-tuning run writes its own there) when it
     * has one, else the base model's.
     *
     * @param model   a model directory, GGUF file or llm.c checkpoint (the adapter's base model)
     * @param adapter the adapter's directory
     * @return the adapted model with the base model's tokenizer
     * @throws NullPointerException when {@code model} or {@code adapter} is null
     * @throws IllegalArgumentException as {@link #load(Path)} for {@code model}, or when {@code adapter} is no PEFT adapter directory or does not fit the model
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static Myllm loadWithAdapter(Path model, Path adapter) {
        return MyllmLoaders.adapted(model, adapter, null);
    }

    /**
     * As {@link #loadWithAdapter(Path, Path)}, then kept for inference only as {@link #loadForInference(Path, String)}
     * keeps it: the adapter is merged into float32 weights, which are then packed as {@code dtype}.
     *
     * @param model   a model directory, GGUF file or llm.c checkpoint
     * @param adapter the adapter's directory
     * @param dtype   the type the matrices are kept in
     * @return the adapted model, ready to decode
     * @throws NullPointerException when an argument is null
     * @throws IllegalArgumentException as {@link #loadWithAdapter} and {@link #loadForInference(Path, String)} say
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static Myllm loadForInference(Path model, Path adapter, String dtype) {
        return MyllmLoaders.adapted(model, adapter, MyllmLoaders.decodingFormat(dtype));
    }

    /**
     * Loads a model with the given tokenizer (see {@link #tokenizer(String)}).
     *
     * @param model     a model directory, GGUF file or llm.c checkpoint
     * @param tokenizer the tokenizer to use with it
     * @return the model and the tokenizer
     * @throws NullPointerException when {@code model} or {@code tokenizer} is null
     * @throws IllegalArgumentException as {@link #load(Path)}, or when the tokenizer has more ids than the model's vocabulary
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static Myllm load(Path model, Tokenizer tokenizer) {
        given(tokenizer, "tokenizer"); // before reading the weights
        GPTModel m = loadModel(model);
        return new Myllm(m, tokenizer, SavedFormat.read(model));
    }

    /**
     * A model already in memory (built, trained or loaded elsewhere) with its tokenizer. When its matrices are packed
     * (no float32 weights to train), a call whose prompt starts as the last call's goes on from that call's prefill, as
     * with {@link #loadForInference}: its remaining float weights (norms, biases) must then not change between calls.
     *
     * @param model     the model
     * @param tokenizer its tokenizer; every id it makes must be in the model's vocabulary
     * @return the pair
     * @throws NullPointerException when {@code model} or {@code tokenizer} is null
     * @throws IllegalArgumentException when the tokenizer has more ids than the model's vocabulary
     */
    public static Myllm of(GPTModel model, Tokenizer tokenizer) {
        return new Myllm(model, tokenizer, null);
    }

    /**
     * A preset shape ({@code gpt2-small}, {@code gpt2-tiny}, ...) with random weights from {@code seed} and GPT-2's tokenizer.
     *
     * @param preset the shape's name
     * @param seed   the seed of the weights
     * @return an untrained model
     * @throws NullPointerException when {@code preset} is null
     * @throws IllegalArgumentException when no preset has that name (the message lists them)
     */
    public static Myllm random(String preset, long seed) {
        given(preset, "preset");
        return new Myllm(new GPTModel(GPTConfig.preset(preset), seed), Tokenizers.load("gpt2"), null);
    }

    /**
     * The weights alone: a model directory, a GGUF file or an llm.c checkpoint, as {@code --model} takes them.
     *
     * @param path a model directory, GGUF file or llm.c checkpoint
     * @return the model, float32
     * @throws NullPointerException when {@code path} is null
     * @throws IllegalArgumentException when nothing is at {@code path}, it is no model, or its files are malformed, naming the file,
     *                                  or its float32 weights alone exceed the Java heap
     * @throws java.io.UncheckedIOException when a file there cannot be read
     */
    public static GPTModel loadModel(Path path) {
        given(path, "path");
        if (!Files.exists(path)) throw new IllegalArgumentException("no such model directory or file: " + path);
        GPTConfig config = ModelDirectory.readConfig(path);
        // as train refuses a run that cannot fit, before the weights are read: weights alone over the heap certainly cannot
        // (a looser rule would refuse models that load), and an OutOfMemoryError names neither the model nor a remedy
        long heap = Runtime.getRuntime().maxMemory();
        if (config.weightBytes() > heap) {
            String[] sizes = dev.myllm.util.ByteSizes.apart(config.weightBytes(), heap);
            throw new IllegalArgumentException("model " + path + ": its float32 weights need " + sizes[0]
                    + " but the Java heap is " + sizes[1] + "; give the JVM more heap (-Xmx), or load it with loadForInference");
        }
        return ModelDirectory.load(path, config);
    }

    /**
     * A tokenizer: {@code gpt2}, {@code simple}, or a vocabulary file (trained, Hugging Face, tiktoken, ...).
     *
     * @param spec {@code gpt2}, {@code simple} or a file
     * @return the tokenizer
     * @throws NullPointerException when {@code spec} is null
     * @throws IllegalArgumentException when {@code spec} is neither {@code gpt2}, {@code simple} nor a vocabulary file
     * @throws java.io.UncheckedIOException when the file cannot be read
     */
    public static Tokenizer tokenizer(String spec) {
        return Tokenizers.load(given(spec, "spec"));
    }

    /**
     * Pretrains a model as {@code myllm train} does, reporting each step to {@code listener}; returns the trained model.
     * Each checkpoint keeps the run's options as the command keeps its own, so {@code myllm train --resume} continues the
     * run with its settings (and {@link TrainingOptions#withResume()} continues a run the command started).
     *
     * @param options  the data, model and settings
     * @param listener sees every step, sample and checkpoint (may be null)
     * @return the trained model with its tokenizer
     * @throws NullPointerException when {@code options} is null
     * @throws IllegalArgumentException when the data, model, tokenizer or run directory will not do (no such file, not UTF-8, too short for one batch, a run already there or none to resume), or the batch would not fit the heap, naming it
     * @throws java.io.UncheckedIOException when a file cannot be read or the run cannot be written
     */
    public static Myllm train(TrainingOptions options, Trainer.Listener listener) {
        return Training.run(given(options, "options"), listener);
    }

    /**
     * Instruction-tunes a model as {@code myllm finetune instruct} does (chapter 7; every weight, the last blocks or LoRA adapters): the
     * book's split and collate, the prompt format saved with the result, the run's length, schedule, dropout, checkpoints
     * and resume as the options' {@link TuningRun} says; {@code listener} sees each step and sample.
     *
     * @param options  the model, data and settings
     * @param listener sees every step, sample and checkpoint (may be null)
     * @return the tuned model with its tokenizer and prompt format, also saved under {@code options.out()/model}
     * @throws NullPointerException when {@code options} is null
     * @throws IllegalArgumentException when the model, data or run directory will not do (no such file, malformed records, a run already there or none to resume), naming it; or when the run cannot fit the Java heap (a lower bound, checked before the data and the weights are read and with the first batch), in one line as {@link Myllm#train}'s
     * @throws java.io.UncheckedIOException when a file cannot be read or the run cannot be written
     */
    public static Myllm finetuneInstructions(InstructOptions options, Trainer.Listener listener) {
        return FinetuneInstructions.run(given(options, "options"), listener);
    }

    /**
     * Preference-tunes a model with direct preference optimization as {@code myllm finetune dpo} does (the book's DPO
     * notebook; every weight, the last blocks or LoRA adapters): the book's split and the notebook's collate, a frozen
     * reference (with LoRA the same weights with the adapters off), the loss, rewards and accuracies logged at each
     * evaluation, the final model's report on every validation pair written to {@code options.out()/dpo-eval.json}, and
     * the prompt format saved with the result, the run's length, schedule, dropout, checkpoints and resume as the options'
     * {@link TuningRun} says; {@code listener} sees each step (an evaluation's rewards in its metrics).
     *
     * @param options  the model, preference data and settings
     * @param listener sees every step and checkpoint (may be null)
     * @return the tuned model (with {@link PreferenceOptions#keepBest}, the kept one) with its tokenizer and prompt format,
     *         also saved under {@code options.out()/model}
     * @throws NullPointerException when {@code options} is null
     * @throws IllegalArgumentException when the model, data or run directory will not do (no such file, records without {@code chosen} and {@code rejected}, a run already there or none to resume), naming it; or when the run cannot fit the Java heap (a lower bound, checked before the data and the weights are read and with the first batch), in one line as {@link Myllm#train}'s
     * @throws java.io.UncheckedIOException when a file cannot be read or the run cannot be written
     */
    public static Myllm finetunePreferences(PreferenceOptions options, Trainer.Listener listener) {
        return FinetunePreferences.run(given(options, "options"), listener);
    }

    /**
     * The model.
     *
     * @return the model
     */
    public GPTModel model() {
        return model;
    }

    /**
     * The tokenizer.
     *
     * @return the tokenizer
     */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Token ids of {@code text}; special-token text such as {@code <|endoftext|>} becomes its id.
     *
     * @param text any text
     * @return its token ids
     * @throws NullPointerException when {@code text} is null
     */
    public int[] tokenize(String text) {
        return tokenizer.encode(given(text, "text"), Specials.ALLOW);
    }

    /**
     * The text of {@code ids}.
     *
     * @param ids token ids
     * @return their text
     * @throws NullPointerException when {@code ids} is null
     * @throws IllegalArgumentException when an id is outside the tokenizer's vocabulary
     */
    public String detokenize(int[] ids) {
        return tokenizer.decode(given(ids, "ids"));
    }

    /**
     * Continues {@code prompt}; stops at {@code <|endoftext|>}, a stop string of {@code config}, or its token limit. The
     * model sees at most its context length of tokens: a longer prompt is cropped to its last ones, as the book's
     * {@code generate} crops it ({@link #score} and {@link #embed} refuse such a text instead).
     *
     * @param prompt the text to continue
     * @param config the sampling settings and limits
     * @return the new text and tokens, and why generation stopped
     * @throws NullPointerException when {@code prompt} or {@code config} is null
     * @throws IllegalArgumentException when the prompt has no tokens
     */
    public Generator.Result generate(String prompt, GenerationConfig config) {
        return generate(prompt, config, null);
    }

    /**
     * Continues {@code prompt}, passing each new piece of text to {@code onText} as soon as it is
     * complete (never half a UTF-8 character); the result holds the whole text and the token ids.
     *
     * @param prompt the text to continue
     * @param config the sampling settings and limits
     * @param onText receives the new text piece by piece (may be null)
     * @return the new text and tokens, and why generation stopped
     * @throws NullPointerException when {@code prompt} or {@code config} is null
     * @throws IllegalArgumentException when the prompt has no tokens
     * @throws RuntimeException what {@code onText} throws, which ends the generation
     */
    public Generator.Result generate(String prompt, GenerationConfig config, Consumer<String> onText) {
        int[] ids = promptIds(prompt);
        given(config, "config");
        int eos = tokenizer.eotId() >= 0 && tokenizer.eotId() < model.config().vocabSize() ? tokenizer.eotId() : -1;
        return generator.generate(ids, config.withEos(eos), onText);
    }

    /**
     * Continues {@code prompt} as an iterator over the pieces of text, produced on a background
     * thread as the caller reads; close it (try-with-resources) to stop early.
     *
     * @param prompt the text to continue
     * @param config the sampling settings and limits
     * @return the pieces of new text, in order
     * @throws NullPointerException when {@code prompt} or {@code config} is null
     * @throws IllegalArgumentException when the prompt has no tokens
     */
    public TextStream stream(String prompt, GenerationConfig config) {
        promptIds(prompt); // bad input fails here, on the caller's thread
        given(config, "config");
        return new TextStream(onText -> generate(prompt, config, onText));
    }

    /** The ids of a prompt to continue: at least one. */
    private int[] promptIds(String prompt) {
        int[] ids = tokenize(given(prompt, "prompt"));
        if (ids.length == 0) throw new IllegalArgumentException("the prompt is empty: give some text to continue");
        return ids;
    }

    /**
     * The mean cross-entropy (nats per token) and perplexity of the model predicting each token of {@code text} from those before it.
     *
     * @param text at least two tokens, at most the context length
     * @return the token count, cross-entropy and perplexity
     * @throws NullPointerException when {@code text} is null
     * @throws IllegalArgumentException when the text has fewer than 2 tokens or more than the context length
     */
    public Score score(String text) {
        int[] ids = tokenize(given(text, "text"));
        int n = ids.length;
        if (n < 2) throw new IllegalArgumentException("the text has " + n + " token" + (n == 1 ? "" : "s") + "; scoring needs at least 2");
        requireFits(n);
        Batch b = new Batch(Arrays.copyOf(ids, n - 1), Arrays.copyOfRange(ids, 1, n), 1, n - 1);
        boolean wasTraining = model.isTraining();
        model.eval();
        double loss;
        try (GradMode g = GradMode.noGrad(); Arena a = Arena.open()) {
            loss = Losses.batchLoss(model::forward, b).item();
        } finally {
            model.train(wasTraining);
        }
        return new Score(n, loss, Losses.perplexity(loss));
    }

    /**
     * The text's embedding, as the server's {@code /v1/embeddings} answers it: the final LayerNorm's
     * output averaged over the text's tokens, scaled to length 1 ({@link GPTModel#embedding}).
     *
     * @param text at least one token, at most the context length
     * @return one float per embedding dimension
     * @throws NullPointerException when {@code text} is null
     * @throws IllegalArgumentException when the text has no tokens or more than the context length
     */
    public float[] embed(String text) {
        int[] ids = tokenize(given(text, "text"));
        int n = ids.length;
        if (n < 1) throw new IllegalArgumentException("the text has no tokens; an embedding needs at least 1");
        requireFits(n);
        boolean wasTraining = model.isTraining();
        model.eval();
        try {
            return model.embedding(ids);
        } finally {
            model.train(wasTraining);
        }
    }

    /**
     * The prompt format the model was instruction-tuned with, as saved beside it by {@code myllm finetune
     * instruct} (or given to {@link #withPromptFormat}); empty for a model loaded without one.
     *
     * @return the format, if known
     */
    public Optional<PromptFormat> promptFormat() {
        return Optional.ofNullable(format);
    }

    /**
     * The same model and tokenizer, answering instructions in {@code format}.
     *
     * @param format the prompt format the model was tuned with
     * @return a new instance (its own KV cache) sharing the weights
     * @throws NullPointerException when {@code format} is null
     */
    public Myllm withPromptFormat(PromptFormat format) {
        return new Myllm(model, tokenizer, given(format, "format"));
    }

    /**
     * Answers an instruction as {@code myllm chat --instruction} does (chapter 7): the instruction in
     * the model's prompt format (the book's Alpaca when it has none), then greedy decoding until
     * {@code <|endoftext|>}, at most 256 new tokens.
     *
     * @param instruction the task
     * @return the answer, stripped
     * @throws NullPointerException when {@code instruction} is null
     * @throws IllegalArgumentException when the instruction is blank or its prompt does not fit the context, or the tokenizer has no {@code <|endoftext|>} the model knows
     */
    public String respond(String instruction) {
        return respond(instruction, "", 256, null);
    }

    /**
     * Answers an instruction with an input (the book's {@code ### Input:}), streaming the answer's
     * pieces to {@code onText} from its first visible character.
     *
     * @param instruction  the task
     * @param input        the text it is about; empty for none
     * @param maxNewTokens the most tokens the answer may take
     * @param onText       receives the answer piece by piece (may be null)
     * @return the answer, stripped
     * @throws NullPointerException when {@code instruction} or {@code input} is null
     * @throws IllegalArgumentException when the instruction is blank, {@code maxNewTokens} is below 1, the prompt does not fit the context, or the tokenizer has no {@code <|endoftext|>} the model knows
     * @throws RuntimeException what {@code onText} throws, which ends the answer
     */
    public String respond(String instruction, String input, int maxNewTokens, Consumer<String> onText) {
        given(instruction, "instruction");
        given(input, "input");
        if (instruction.isBlank()) throw new IllegalArgumentException("the instruction is empty: give the task to answer");
        InstructionExample e = new InstructionExample(instruction, input, "", null, null, List.of());
        return responder(maxNewTokens).stream(e, onText == null ? piece -> { } : onText);
    }

    /**
     * A conversation as {@code myllm chat} holds one: a format with turns (Phi-3) sees the earlier
     * exchanges, the oldest dropped when they outgrow the context.
     *
     * @param maxNewTokens the most tokens each answer may take
     * @return a new conversation
     * @throws IllegalArgumentException when {@code maxNewTokens} is below 1, or the tokenizer has no {@code <|endoftext|>} the model knows
     */
    public Conversation conversation(int maxNewTokens) {
        return new Conversation(responder(maxNewTokens));
    }

    private Responder responder(int maxNewTokens) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        if (tokenizer.eotId() < 0 || tokenizer.eotId() >= model.config().vocabSize()) {
            throw new IllegalArgumentException("tokenizer " + tokenizer.name() + " has no <|endoftext|> token the model knows: answers could not end");
        }
        return new Responder(model, tokenizer, TokenDecoder.of(tokenizer), format != null ? format : PromptFormat.ALPACA, maxNewTokens, reusePrompts);
    }

    /**
     * Serves the model over OpenAI's HTTP API as {@code myllm serve} does (completions; chats in the model's prompt
     * format, else a plain transcript; embeddings; the playground at {@code /}), after a short warm-up. The weights
     * stay as loaded: {@link #loadForInference} packs them as {@code myllm serve} does, for its speed and memory. Stop it with {@link OpenAiServer#shutdown}
     * or {@link OpenAiServer#close}; while it runs, the server uses the model: leave this instance's other methods alone.
     *
     * @param name   the model name clients ask for
     * @param config host, port (0: a free one, see {@link OpenAiServer#port()}), API key and limits; start from {@link ServerConfig#defaults()}
     * @param log    receives one line per request (may be null)
     * @return the running server
     * @throws NullPointerException when {@code name} or {@code config} is null
     * @throws IllegalArgumentException when the server cannot listen on the configured host and port
     */
    public OpenAiServer serve(String name, ServerConfig config, Consumer<String> log) {
        given(name, "name");
        given(config, "config");
        model.eval();
        OpenAiServer server = new OpenAiServer(ServedModel.generative(name, model, tokenizer, format), config, log == null ? line -> { } : log);
        try {
            server.startLoading();
        } catch (Exception e) {
            server.close();
            Throwable why = e;
            while (why.getCause() != null && !(why instanceof java.net.BindException)) why = why.getCause();
            throw new IllegalArgumentException("cannot listen on " + config.host() + ":" + config.port() + ": " + why.getMessage(), e);
        }
        server.warmUp();
        server.ready();
        return server;
    }

    /** A text of {@code n} tokens must fit the model's context. */
    private void requireFits(int n) {
        if (n > model.config().contextLength()) {
            throw new IllegalArgumentException("the text has " + n + " tokens but the model's context length is " + model.config().contextLength());
        }
    }

    /**
     * Saves the model as a Hugging Face GPT-2 model directory ({@code config.json} + {@code model.safetensors}, with its
     * tokenizer when it is not GPT-2's and its prompt format when it has one), made whole beside {@code dir} and renamed
     * into place, so that a failed save leaves what was there before.
     *
     * @param dir the directory to write: created, or replaced whole when it holds only a model's files (a directory
     *            holding anything else is refused with an {@link IllegalArgumentException})
     * @throws NullPointerException when {@code dir} is null
     * @throws IllegalStateException when the model was loaded for inference (its float32 weights are gone)
     * @throws IllegalArgumentException when a file is in {@code dir}'s place or {@code dir} holds files that are not a model's,
     *                                  or when its tokenizer cannot be written as a tokenizer file
     * @throws java.io.UncheckedIOException when the directory cannot be written
     */
    public void save(Path dir) {
        given(dir, "dir");
        if (!PackedWeights.hasFloatWeights(model)) {
            throw new IllegalStateException("this model was loaded for inference: its float32 weights are gone, so it cannot be saved (load it with load)");
        }
        // its vocabulary and prompt format go with it, as a run's saved models keep them: loaded back, it reads and prompts as now
        dev.myllm.train.TokenizerCopy kept = dev.myllm.train.TokenizerCopy.of(tokenizer, model.config().vocabSize());
        ModelDirectory.requireReplaceable(dir);
        dev.myllm.util.AtomicFiles.writeDirectory(dir, tmp -> {
            ModelDirectory.writeInto(model, tmp, dev.myllm.io.DType.F32, tokenizer.eotId());
            if (kept != null) kept.writeInto(tmp);
            if (format != null) dev.myllm.finetune.SavedFormat.write(tmp, format);
        });
    }

    /** {@code value}, or a {@link NullPointerException} that names the argument (not one from deep inside). */
    static <T> T given(T value, String name) {
        return Objects.requireNonNull(value, () -> name + " must not be null");
    }
}
