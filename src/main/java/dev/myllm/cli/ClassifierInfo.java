package dev.myllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.myllm.finetune.LoRA;
import dev.myllm.finetune.TokenRule;
import dev.myllm.io.ClassifierDirectory;
import dev.myllm.model.GPTConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** What {@code myllm info} says of a classifier directory: the classifier's facts, then its base model's shape and counts. */
final class ClassifierInfo {
    private ClassifierInfo() {
    }

    static void print(PrintWriter out, Path dir, boolean json) {
        ClassifierDirectory.Summary s;
        LoRA.Settings lora;
        TokenRule rule;
        try {
            s = ClassifierDirectory.summary(dir);
            lora = LoRA.present(dir) ? LoRA.readSettings(dir) : null;
            rule = TokenRule.parse(s.head().tokenRule());
        } catch (IllegalArgumentException e) {
            throw new CliException("--model " + e.getMessage());
        }
        GPTConfig c = s.config();
        int classes = s.head().labels().size();
        // the adapter's trainable count, as finetune classify and info --lora-rank give it (its file stores
        // the fused QKV projection's three pairs as one pair of rank 3R, zeros included)
        long adapter = lora == null ? 0 : LoRA.parameterCount(c, classes, lora.rank());
        long total = s.parameterCount() + adapter;
        int length = s.head().maxLength();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", dir.toString());
            ObjectNode k = o.putObject("classifier");
            k.put("architecture", ClassifierDirectory.ARCHITECTURE);
            s.head().labels().forEach(k.putArray("labels")::add);
            k.put("head_bias", s.scoreBias()).put("token_rule", rule.id()).put("pad_token_id", s.head().padId());
            if (length > 0) k.put("max_length", length);
            else k.putNull("max_length");
            if (lora != null) k.putObject("lora").put("rank", lora.rank()).put("alpha", lora.alpha()).put("scale", lora.rule().id());
            InfoCommand.putConfig(o, c);
            o.put("parameters", total).put("parameters_body", c.parameterCount()).put("parameters_head", s.headParameterCount())
                    .put("parameters_adapter", adapter).put("parameters_per_block", c.blockParameterCount())
                    .put("weight_bytes_f32", total * Float.BYTES);
            out.println(o);
            out.flush();
            return;
        }
        out.println("classifier: " + dir + " (" + ClassifierDirectory.ARCHITECTURE + ")");
        out.printf("  labels            %s (%d classes)%n", String.join(", ", s.head().labels()), classes);
        out.printf("  head              Linear(%d, %d) %s%n", c.embDim(), classes, s.scoreBias() ? "with bias" : "without bias");
        out.printf("  reads             %s (--token %s)%n", reads(rule), rule.id());
        out.printf("  pad token id      %d%n", s.head().padId());
        out.printf("  trained length    %s%n", length > 0 ? "texts padded or cut to " + length + " tokens" : "not recorded");
        if (lora != null) {
            out.printf(Locale.ROOT, "  LoRA adapter      rank %d, alpha %s (scale %s), apart from the base weights%n", lora.rank(),
                    lora.alpha(), lora.rule().id());
        }
        out.println("base model");
        InfoCommand.printShape(out, c, false);
        out.println("parameters");
        out.printf("  total             %,d%n", total);
        out.printf("  base model        %,d%n", c.parameterCount());
        out.printf("  head              %,d%n", s.headParameterCount());
        if (lora != null) out.printf("  LoRA adapter      %,d%n", adapter);
        out.printf("  per block         %,d%n", c.blockParameterCount());
        out.println("memory");
        out.printf("  weights (float32)           %s%n", InfoCommand.bytes(total * Float.BYTES));
        out.flush();
    }

    /** The position a rule reads, in words. */
    private static String reads(TokenRule rule) {
        return switch (rule) {
            case LAST -> "the last position (a pad for a short text)";
            case FLEXIBLE -> "the last token that is not a pad";
            case FIRST -> "the first position";
            case MEAN -> "the mean over all positions";
        };
    }
}
