package dev.myllm.book;

import dev.myllm.finetune.LoRA;
import dev.myllm.model.GPTConfig;
import dev.myllm.nn.Linear;
import dev.myllm.tensor.Rng;

/** Appendix E, parameter-efficient fine-tuning with LoRA: the trainable parameters before and after. */
final class AppendixE {
    private AppendixE() {
    }

    static Report run() {
        Report r = new Report("appendix-e", "Parameter-efficient fine-tuning with LoRA");
        // the pretrained GPT-2 124M (QKV bias, tied head) with chapter 6's head: torch.nn.Linear(768, 2)
        GPTConfig gpt2 = GPTConfig.preset("gpt2-small");
        Linear outHead = new Linear(gpt2.embDim(), 2, true, new Rng(123));
        r.same("trainable parameters before freezing", String.format("%,d", gpt2.parameterCount() + outHead.parameterCount()), "124,441,346");
        r.same("trainable LoRA parameters (rank 16)", String.format("%,d", LoRA.parameterCount(gpt2, 2, 16)), "2,666,528");
        // chapter 7's exercise: LoRA on gpt2-medium's language-model head
        r.same("gpt2-medium LoRA parameters (rank 16, ch07)", String.format("%,d", LoRA.parameterCount(GPTConfig.preset("gpt2-medium"), 0, 16)), "7,898,384");
        r.note("accuracy after 5 epochs (train / val / test)", "(run finetune classify --trainable lora)", "99.81 / 97.99 / 96.67 %",
                "a fine-tuning run on a GPU from OpenAI's weights");
        return r;
    }
}
