package dev.myllm.finetune;

import dev.myllm.model.GPTModel;
import dev.myllm.train.GptModelStore;
import dev.myllm.train.ModelStore;
import dev.myllm.train.TokenizerCopy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Saves a language model being instruction- or preference-tuned (chapter 7, DPO) as a plain GPT model directory with
 * its tokenizer and prompt format; in a LoRA run every saved directory has the adapters merged in, plus the adapter
 * alone in {@code adapter/} (PEFT files and the prompt format), and loading back reads the frozen weights from the starting model.
 */
public final class InstructStore implements ModelStore {
    /** Where a LoRA run's saved directories keep the adapter alone. */
    public static final String ADAPTER = "adapter";

    private final GptModelStore base;
    private final LoRAModel lora;
    private final PromptFormat format;
    private final Path startingModel;
    private final String askedForLoRA;

    /**
     * A store for {@code m}, or for its adapters when {@code lora} is not null.
     *
     * @param m             the GPT being tuned
     * @param lora          its adapters ({@link LoRAModel#attach}), or null when the model's own weights train
     * @param tokenizer     written into every saved directory (null: GPT-2's tokenizer, nothing to keep)
     * @param format        the prompt format written beside every saved model
     * @param startingModel the model directory the run started from: a LoRA run's frozen weights, read back on resume
     * @param askedForLoRA  how the run asks for LoRA, for the message when a directory to load has no adapter
     */
    public InstructStore(GPTModel m, LoRAModel lora, TokenizerCopy tokenizer, PromptFormat format, Path startingModel, String askedForLoRA) {
        this.base = new GptModelStore(m, tokenizer);
        this.lora = lora;
        this.format = format;
        this.startingModel = startingModel;
        this.askedForLoRA = askedForLoRA;
    }

    @Override
    public void save(Path dir) {
        if (lora == null) {
            base.save(dir);
        } else {
            base.save(dir, lora.lora().mergedValues()); // one merged weight at a time
            Path a = dir.resolve(ADAPTER);
            try {
                Files.createDirectories(a);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + a + ": " + e.getMessage(), e);
            }
            lora.lora().save(a, "CAUSAL_LM");
            SavedFormat.write(a, format); // so the adapter on its base model chats in the run's format
        }
        SavedFormat.write(dir, format);
    }

    @Override
    public void load(Path dir) {
        if (lora == null) {
            base.load(dir);
            return;
        }
        base.load(startingModel); // the frozen weights: the starting model's, unchanged
        if (!LoRA.present(dir.resolve(ADAPTER))) throw new IllegalArgumentException(dir + " has no LoRA adapter (the run did not use " + askedForLoRA + ")");
        lora.lora().load(dir.resolve(ADAPTER));
    }
}
